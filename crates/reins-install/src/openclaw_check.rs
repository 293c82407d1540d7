//! `reins doctor`'s OpenClaw section: is the Reins plugin installed,
//! enabled and pointing at this `reins`, and do exec approvals ask?
//!
//! Reads only. It cannot see OpenClaw's state database (where `askFallback`
//! and `autoAllowSkills` live today), so those are checked only in the
//! legacy `exec-approvals.json` when one exists, and otherwise reported as
//! OpenClaw's defaults with the command that shows the real values. Whether
//! the daemon's link to the gateway is up is the daemon's to say (its
//! status), not this module's.

use std::path::Path;

use serde_json::Value;

use crate::openclaw::{EXEC_KEYS, OpenClawPaths, PLUGIN_FILES, PLUGIN_ID, array_has, load_config};

/// One line of the doctor's OpenClaw section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// False when something needs fixing.
    pub ok: bool,
    /// Which check: `config`, `plugin`, `enabled`, `reins_path`, `exec`, `fallback`.
    pub what: &'static str,
    /// What was found, and what to do when it is not ok.
    pub message: String,
}

fn finding(ok: bool, what: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        ok,
        what,
        message: message.into(),
    }
}

const FIX: &str = "run `reins install openclaw`";

/// The OpenClaw findings, or `None` when OpenClaw is neither installed nor
/// configured here (no state directory, no config file).
pub fn check(paths: &OpenClawPaths, reins_exe: &Path) -> Option<Vec<Finding>> {
    if !paths.present() {
        return None;
    }
    let mut out = Vec::new();
    let cfg = if paths.config.exists() {
        match load_config(&paths.config) {
            Ok((f, _)) => {
                out.push(finding(true, "config", paths.config.display().to_string()));
                f.doc
            }
            Err(e) => {
                out.push(finding(false, "config", e.to_string()));
                return Some(out);
            }
        }
    } else {
        out.push(finding(
            false,
            "config",
            format!(
                "no {} (run `openclaw onboard`, then {FIX})",
                paths.config.display()
            ),
        ));
        Value::Null
    };
    out.push(plugin_files(paths));
    out.push(enabled(&cfg, paths));
    out.push(reins_path(&cfg, reins_exe));
    out.push(exec_asks(&cfg));
    out.push(fallback(paths));
    Some(out)
}

fn plugin_files(paths: &OpenClawPaths) -> Finding {
    let dir = paths.plugin_dir();
    let mut missing = 0;
    let mut differ = 0;
    for (name, text) in PLUGIN_FILES {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(t) if t == text => {}
            Ok(_) => differ += 1,
            Err(_) => missing += 1,
        }
    }
    match (missing, differ) {
        (0, 0) => finding(true, "plugin", format!("installed in {}", dir.display())),
        (m, _) if m == PLUGIN_FILES.len() => finding(
            false,
            "plugin",
            format!("not installed in {}; {FIX}", dir.display()),
        ),
        _ => finding(
            false,
            "plugin",
            format!("{} differs from this reins' plugin; {FIX}", dir.display()),
        ),
    }
}

fn enabled(cfg: &Value, paths: &OpenClawPaths) -> Finding {
    let plugins = &cfg["plugins"];
    let dir = paths.plugin_dir().to_string_lossy().into_owned();
    let problem = if plugins["enabled"] == Value::Bool(false) {
        Some("plugins.enabled is false: OpenClaw loads no plugin")
    } else if array_has(plugins.get("deny"), PLUGIN_ID) {
        Some("plugins.deny lists reins")
    } else if plugins["allow"].is_array() && !array_has(plugins.get("allow"), PLUGIN_ID) {
        Some("plugins.allow does not list reins")
    } else if plugins["entries"][PLUGIN_ID]["enabled"] != Value::Bool(true) {
        Some("plugins.entries.reins is not enabled")
    } else if !array_has(plugins["load"].get("paths"), &dir) {
        Some("plugins.load.paths does not list the plugin's directory")
    } else {
        None
    };
    match problem {
        None => finding(true, "enabled", "enabled in openclaw.json"),
        Some(p) => finding(false, "enabled", format!("{p}; {FIX}")),
    }
}

fn reins_path(cfg: &Value, reins_exe: &Path) -> Finding {
    let Some(p) = cfg["plugins"]["entries"][PLUGIN_ID]["config"]["reinsPath"].as_str() else {
        return finding(
            false,
            "reins_path",
            format!("the plugin has no reinsPath; {FIX}"),
        );
    };
    let path = Path::new(p);
    if !is_executable(path) {
        return finding(
            false,
            "reins_path",
            format!("{p} is not an executable file, so every tool call is blocked; {FIX}"),
        );
    }
    if path != reins_exe {
        return finding(
            false,
            "reins_path",
            format!(
                "the plugin runs {p}, not this reins ({}); {FIX}",
                reins_exe.display()
            ),
        );
    }
    finding(true, "reins_path", format!("the plugin runs {p}"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn exec_asks(cfg: &Value) -> Finding {
    let exec = &cfg["tools"]["exec"];
    let get = |k: &str| exec[k].as_str();
    if get("mode") == Some("deny") || (get("mode").is_none() && get("security") == Some("deny")) {
        return finding(true, "exec", "exec is denied (stricter than asking)");
    }
    let ours = EXEC_KEYS.iter().all(|(k, v)| get(k) == *v);
    let always = get("mode").is_none() && get("ask") == Some("always");
    if ours || always {
        return finding(true, "exec", "exec approvals ask for every command");
    }
    finding(
        false,
        "exec",
        format!(
            "exec approvals do not ask for every command (mode={}, security={}, ask={}); {FIX}",
            get("mode").unwrap_or("-"),
            get("security").unwrap_or("-"),
            get("ask").unwrap_or("-"),
        ),
    )
}

fn fallback(paths: &OpenClawPaths) -> Finding {
    let legacy = paths.state_dir.join("exec-approvals.json");
    let Ok(text) = std::fs::read_to_string(&legacy) else {
        return finding(
            true,
            "fallback",
            "askFallback and autoAllowSkills are in OpenClaw's state database (defaults: deny, \
             false); see `openclaw exec-policy show`",
        );
    };
    let doc: Value = json5::from_str(&text).unwrap_or(Value::Null);
    let defaults = &doc["defaults"];
    let fb = defaults["askFallback"].as_str().unwrap_or("deny");
    let skills = defaults["autoAllowSkills"] == Value::Bool(true);
    match (fb, skills) {
        ("deny", false) => finding(
            true,
            "fallback",
            format!("askFallback deny in {}", legacy.display()),
        ),
        _ => finding(
            false,
            "fallback",
            format!(
                "{} sets askFallback={fb}, autoAllowSkills={skills}; run `openclaw exec-policy set \
                 --ask-fallback deny` and turn off autoAllowSkills",
                legacy.display()
            ),
        ),
    }
}
