//! OpenClaw: the Reins plugin's files plus three edits to `openclaw.json`.
//!
//! OpenClaw has no command hooks; its plugins run in the gateway. So
//! `reins install openclaw`:
//! 1. writes the plugin (`integrations/openclaw/`, embedded in the binary)
//!    to `<state>/extensions/reins/`, with `reins-install.json` beside it
//!    recording what step 3 replaced;
//! 2. in `openclaw.json`, enables it: `plugins.entries.reins` =
//!    `{enabled: true, config: {reinsPath: <this reins>,
//!    deferExecToApprovals: true}}` (other keys of the entry, such as
//!    `tools`, are kept), lists its directory in `plugins.load.paths` (a
//!    config-selected path outranks every other copy with the same id, so
//!    a workspace plugin named `reins` cannot shadow it), and adds `reins`
//!    to `plugins.allow` when the user keeps such an allowlist;
//! 3. makes exec approvals ask for every command: `tools.exec.security =
//!    "allowlist"`, `tools.exec.ask = "always"`, and no `tools.exec.mode`
//!    (when set, `mode` overrides both, and none of its values asks for
//!    every command; this is what `openclaw exec-policy set --ask always`
//!    writes too). An exec policy that already denies is stricter and kept.
//!
//! `askFallback` and `autoAllowSkills` are not config keys: they live in the
//! host approvals document in OpenClaw's state database (`deny` and `false`
//! by default). Reins does not edit that database; the plan prints the
//! `openclaw exec-policy` command to use instead.
//!
//! `openclaw.json` is JSON5. A file that is plain JSON keeps its style; one
//! that uses JSON5 syntax is rewritten as plain JSON (OpenClaw reads both),
//! and the plan says so, counting the comments that are lost (the backup
//! keeps them).
//!
//! Uninstall undoes exactly this: it removes the entry, the load path, the
//! allowlist item it added and the plugin's files, and puts back the exec
//! keys recorded in `reins-install.json`, except any the user has changed
//! since (reported as a notice).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::jsonfile::{self, JsonFile, read_text};
use crate::model::Op;
use crate::plan::FileChange;
use crate::{InstallError, Plan};

pub use crate::openclaw_check::{Finding, check};
use crate::openclaw_json5::json5_notice;
pub(crate) use crate::openclaw_json5::load_config;

/// The plugin's id (its manifest's `id`, the key under `plugins.entries`).
pub const PLUGIN_ID: &str = "reins";

/// The plugin, as shipped in `integrations/openclaw/`.
pub(crate) const PLUGIN_FILES: [(&str, &str); 4] = [
    (
        "openclaw.plugin.json",
        include_str!("../../../integrations/openclaw/openclaw.plugin.json"),
    ),
    (
        "package.json",
        include_str!("../../../integrations/openclaw/package.json"),
    ),
    (
        "index.js",
        include_str!("../../../integrations/openclaw/index.js"),
    ),
    (
        "README.md",
        include_str!("../../../integrations/openclaw/README.md"),
    ),
];

/// Beside the plugin: what install replaced, for uninstall.
const STATE_FILE: &str = "reins-install.json";

/// The exec keys install sets, and the values it sets (`None`: removed).
pub(crate) const EXEC_KEYS: [(&str, Option<&str>); 3] = [
    ("mode", None),
    ("security", Some("allowlist")),
    ("ask", Some("always")),
];

/// Shown with every install: the parts Reins leaves to OpenClaw's own CLI.
pub const HOST_APPROVALS_NOTICE: &str = "OpenClaw keeps askFallback and autoAllowSkills in its \
     state database, which Reins does not edit (their defaults, deny and false, are what Reins \
     needs). Check with `openclaw exec-policy show`; if askFallback is not deny, run \
     `openclaw exec-policy set --ask-fallback deny`.";

/// Where OpenClaw keeps its config and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawPaths {
    /// `OPENCLAW_STATE_DIR`, else `~/.openclaw`.
    pub state_dir: PathBuf,
    /// `OPENCLAW_CONFIG_PATH`, else `<state_dir>/openclaw.json`.
    pub config: PathBuf,
}

impl OpenClawPaths {
    /// Resolve from the home directory and the two variables (passed in, not
    /// read here). Empty values count as unset.
    pub fn resolve(home: &Path, state_dir: Option<&Path>, config: Option<&Path>) -> Self {
        let state_dir = nonempty(state_dir).map_or_else(|| home.join(".openclaw"), Path::to_owned);
        let config =
            nonempty(config).map_or_else(|| state_dir.join("openclaw.json"), Path::to_owned);
        OpenClawPaths { state_dir, config }
    }

    /// Where install writes the plugin.
    pub fn plugin_dir(&self) -> PathBuf {
        self.state_dir.join("extensions").join(PLUGIN_ID)
    }

    /// True when OpenClaw looks installed or configured here.
    pub fn present(&self) -> bool {
        self.config.exists() || self.state_dir.is_dir()
    }
}

fn nonempty(p: Option<&Path>) -> Option<&Path> {
    p.filter(|p| !p.as_os_str().is_empty())
}

/// Plan installing or uninstalling the Reins plugin for OpenClaw.
/// `reins_exe` must be absolute; it becomes the plugin's `reinsPath`.
pub fn plan(paths: &OpenClawPaths, reins_exe: &Path, op: Op) -> Result<Plan, InstallError> {
    if !reins_exe.is_absolute() {
        return Err(InstallError::RelativeExe(reins_exe.to_owned()));
    }
    if !paths.present() {
        return Err(InstallError::NotFound {
            path: paths.state_dir.clone(),
            what: "OpenClaw's state directory (and its openclaw.json)".to_owned(),
        });
    }
    let (mut file, json5) = load_config(&paths.config)?;
    let state_path = paths.plugin_dir().join(STATE_FILE);
    let recorded = read_recorded(&state_path)?;
    let mut plan = Plan::default();
    match op {
        Op::Install => install(
            &mut file,
            paths,
            reins_exe,
            recorded,
            &state_path,
            &mut plan,
        )?,
        Op::Uninstall => uninstall(&mut file, paths, recorded, &state_path, &mut plan)?,
    }
    let change = file.into_change();
    if let (Some(comments), true) = (json5, change.is_some()) {
        plan.notices.push(json5_notice(&paths.config, comments));
    }
    // Install writes the plugin's files before the config that enables
    // them; uninstall disables it before removing them. Either way a failure
    // part-way never leaves OpenClaw loading a plugin whose files are gone.
    if let Some(c) = change {
        match op {
            Op::Install => plan.changes.push(c),
            Op::Uninstall => plan.changes.insert(0, c),
        }
    }
    Ok(plan)
}

fn install(
    file: &mut JsonFile,
    paths: &OpenClawPaths,
    exe: &Path,
    recorded: Option<Value>,
    state_path: &Path,
    plan: &mut Plan,
) -> Result<(), InstallError> {
    let dir = paths.plugin_dir();
    let path_str = dir.to_string_lossy().into_owned();
    let cfg_path = file.path.clone();
    let root = file.root();
    let plugins = object_at(root, "plugins", &cfg_path)?;
    if plugins.get("enabled") == Some(&Value::Bool(false)) {
        plan.conflicts.push(format!(
            "{} sets plugins.enabled = false, so OpenClaw loads no plugin and the Reins plugin \
             will not run. Remove that setting to let Reins gate OpenClaw's tools.",
            cfg_path.display()
        ));
    }
    if array_has(plugins.get("deny"), PLUGIN_ID) {
        plan.conflicts.push(format!(
            "{} lists \"reins\" in plugins.deny, so the Reins plugin will not run. Remove it there.",
            cfg_path.display()
        ));
    }
    let mut added_to_allow = false;
    if let Some(Value::Array(allow)) = plugins.get_mut("allow")
        && !allow.iter().any(|v| v == PLUGIN_ID)
    {
        allow.push(json!(PLUGIN_ID));
        added_to_allow = true;
    }
    let load = object_at(plugins, "load", &cfg_path)?;
    let load_paths = array_at(load, "paths", &cfg_path)?;
    if !load_paths.iter().any(|v| v.as_str() == Some(&path_str)) {
        load_paths.push(json!(path_str));
    }
    let entries = object_at(plugins, "entries", &cfg_path)?;
    let entry = object_at(entries, PLUGIN_ID, &cfg_path)?;
    entry.insert("enabled".into(), json!(true));
    let config = object_at(entry, "config", &cfg_path)?;
    config.insert("reinsPath".into(), json!(exe.to_string_lossy()));
    config.insert("deferExecToApprovals".into(), json!(true));

    let tools = object_at(root, "tools", &cfg_path)?;
    let exec = object_at(tools, "exec", &cfg_path)?;
    let previous: Map<String, Value> = EXEC_KEYS
        .iter()
        .map(|(k, _)| {
            (
                (*k).to_owned(),
                exec.get(*k).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    let order: Vec<String> = exec.keys().cloned().collect();
    let denies = exec.get("mode").and_then(Value::as_str) == Some("deny")
        || (exec.get("mode").is_none()
            && exec.get("security").and_then(Value::as_str) == Some("deny"));
    if denies {
        plan.notices.push(format!(
            "{} denies exec entirely (stricter than asking), so Reins left tools.exec as it is.",
            cfg_path.display()
        ));
    } else {
        for (key, value) in EXEC_KEYS {
            match value {
                Some(v) => exec.insert(key.into(), json!(v)),
                None => exec.remove(key),
            };
        }
    }
    // Record what was replaced once: a second install must not record
    // Reins' own values as the user's.
    if recorded.is_none() {
        let state = json!({
            "version": 1,
            "exec": if denies { Value::Null } else { Value::Object(previous) },
            "execOrder": order,
            "addedToAllow": added_to_allow,
        });
        owned_change(plan, state_path, None, Some(jsonfile::render(None, &state)));
    }
    for (name, text) in PLUGIN_FILES {
        let path = dir.join(name);
        let before = read_text(&path)?;
        owned_change(plan, &path, before, Some(text.to_owned()));
    }
    plan.notices.push(HOST_APPROVALS_NOTICE.to_owned());
    plan.notices.push(
        "OpenClaw reloads openclaw.json by itself (hybrid reload); if its gateway runs with \
         reload off, restart it to load the Reins plugin."
            .to_owned(),
    );
    Ok(())
}

fn uninstall(
    file: &mut JsonFile,
    paths: &OpenClawPaths,
    recorded: Option<Value>,
    state_path: &Path,
    plan: &mut Plan,
) -> Result<(), InstallError> {
    let dir = paths.plugin_dir();
    let path_str = dir.to_string_lossy().into_owned();
    let cfg_path = file.path.clone();
    let root = file.root();
    if let Some(Value::Object(plugins)) = root.get_mut("plugins") {
        if let Some(Value::Object(entries)) = plugins.get_mut("entries") {
            entries.remove(PLUGIN_ID);
        }
        if let Some(Value::Object(load)) = plugins.get_mut("load")
            && let Some(Value::Array(p)) = load.get_mut("paths")
        {
            p.retain(|v| v.as_str() != Some(&path_str));
            prune(load, "paths");
        }
        let added =
            recorded.as_ref().and_then(|r| r.get("addedToAllow")) == Some(&Value::Bool(true));
        if added && let Some(Value::Array(allow)) = plugins.get_mut("allow") {
            allow.retain(|v| v != PLUGIN_ID);
        }
        for key in ["entries", "load"] {
            prune(plugins, key);
        }
    }
    prune(root, "plugins");
    match recorded.as_ref().map(|r| r.get("exec")) {
        Some(Some(Value::Object(previous))) => {
            let tools = object_at(root, "tools", &cfg_path)?;
            let exec = object_at(tools, "exec", &cfg_path)?;
            for (key, ours) in EXEC_KEYS {
                if exec.get(key).and_then(Value::as_str) != ours {
                    plan.notices.push(format!(
                        "tools.exec.{key} in {} was changed after Reins set it; left as it is.",
                        cfg_path.display()
                    ));
                    continue;
                }
                match previous.get(key) {
                    Some(v) if !v.is_null() => exec.insert(key.into(), v.clone()),
                    _ => exec.remove(key),
                };
            }
            let order = recorded.as_ref().and_then(|r| r["execOrder"].as_array());
            reorder(exec, order.map(Vec::as_slice).unwrap_or_default());
            prune(tools, "exec");
            prune(root, "tools");
        }
        Some(_) => {}
        None if file.original["plugins"]["entries"].get(PLUGIN_ID).is_none() => {}
        None => plan.notices.push(format!(
            "No record of what `reins install openclaw` replaced ({} is missing), so tools.exec \
             in {} was left as it is.",
            state_path.display(),
            cfg_path.display()
        )),
    }
    let mut removed_any = false;
    for name in PLUGIN_FILES.map(|(n, _)| n).into_iter().chain([STATE_FILE]) {
        let path = dir.join(name);
        if let Some(before) = read_text(&path)? {
            owned_change(plan, &path, Some(before), None);
            removed_any = true;
        }
    }
    if removed_any {
        plan.remove_empty_dirs.push(dir);
    }
    Ok(())
}

/// A change to a file of the plugin's directory (all of them Reins' own).
fn owned_change(plan: &mut Plan, path: &Path, before: Option<String>, after: Option<String>) {
    plan.owned_files.push(path.to_owned());
    plan.push_change(file_change(path, before, after));
}

fn file_change(path: &Path, before: Option<String>, after: Option<String>) -> Option<FileChange> {
    (before != after).then(|| FileChange {
        path: path.to_owned(),
        before,
        after,
    })
}

/// `reins-install.json`, if install wrote one.
fn read_recorded(path: &Path) -> Result<Option<Value>, InstallError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| InstallError::Malformed {
            path: path.to_owned(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })
}

/// The object under `key`, created when absent; an error naming the file
/// when something else is there.
pub(crate) fn object_at<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, InstallError> {
    match map.entry(key).or_insert_with(|| json!({})) {
        Value::Object(m) => Ok(m),
        _ => Err(InstallError::UnexpectedShape {
            path: path.to_owned(),
            what: format!("\"{key}\" is not an object"),
        }),
    }
}

fn array_at<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
    path: &Path,
) -> Result<&'a mut Vec<Value>, InstallError> {
    match map.entry(key).or_insert_with(|| json!([])) {
        Value::Array(a) => Ok(a),
        _ => Err(InstallError::UnexpectedShape {
            path: path.to_owned(),
            what: format!("\"{key}\" is not an array"),
        }),
    }
}

pub(crate) fn array_has(v: Option<&Value>, item: &str) -> bool {
    v.and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == item))
}

/// Put `map`'s keys back in the recorded order (keys added since go last).
fn reorder(map: &mut Map<String, Value>, order: &[Value]) {
    let mut old = std::mem::take(map);
    for key in order.iter().filter_map(Value::as_str) {
        if let Some(v) = old.remove(key) {
            map.insert(key.to_owned(), v);
        }
    }
    map.extend(old);
}

/// Remove `key` when it holds an empty object or array (left so by uninstall).
fn prune(map: &mut Map<String, Value>, key: &str) {
    let empty = match map.get(key) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    if empty {
        map.remove(key);
    }
}
