//! `reins install`, `reins uninstall` and `reins doctor`: thin adapters over
//! `reins-install`, which does the merging, backups and diffs.

use crate::Exit;
use reins_install::openclaw::OpenClawPaths;
use reins_install::{Agent, Op, Scope, Status};
use reins_runtime::ipc::{Client, Request, Response};
use reins_runtime::paths::Paths;
use std::path::{Path, PathBuf};

fn home() -> anyhow::Result<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("$HOME is not set"))
}

fn reins_exe() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?.canonicalize()?)
}

/// Where OpenClaw keeps its config and state, from `$HOME` and its variables.
fn openclaw_paths(home: &Path) -> OpenClawPaths {
    let var = |k| std::env::var_os(k).map(PathBuf::from);
    OpenClawPaths::resolve(
        home,
        var("OPENCLAW_STATE_DIR").as_deref(),
        var("OPENCLAW_CONFIG_PATH").as_deref(),
    )
}

/// Install or uninstall one agent's hooks (for OpenClaw: the Reins plugin).
pub fn run(agent: &str, project: Option<&Path>, print: bool, op: Op) -> anyhow::Result<Exit> {
    let plan = if agent.eq_ignore_ascii_case("openclaw") {
        if project.is_some() {
            anyhow::bail!(
                "OpenClaw has no per-project config: run `reins {} openclaw` without --project",
                if op == Op::Install {
                    "install"
                } else {
                    "uninstall"
                }
            );
        }
        reins_install::openclaw::plan(&openclaw_paths(&home()?), &reins_exe()?, op)?
    } else {
        let agent: Agent = agent
            .parse()
            .map_err(|e| anyhow::anyhow!("{e}, openclaw"))?;
        let scope = match project {
            Some(dir) => Scope::Project(std::path::absolute(dir)?),
            None => Scope::User,
        };
        reins_install::plan(agent, &scope, &home()?, &reins_exe()?, op)?
    };
    report(agent, &plan, print, op)
}

fn report(agent: &str, plan: &reins_install::Plan, print: bool, op: Op) -> anyhow::Result<Exit> {
    for c in &plan.conflicts {
        eprintln!("CONFLICT: {c}");
    }
    if plan.is_noop() {
        println!(
            "Nothing to change: {agent} is already {}.",
            if op == Op::Install {
                "installed"
            } else {
                "uninstalled"
            }
        );
    } else if print {
        print!("{}", plan.diff());
    } else {
        let applied = plan.apply(std::time::SystemTime::now())?;
        for w in &applied.written {
            println!("wrote {}", w.display());
        }
        for b in &applied.backups {
            println!("backup {}", b.display());
        }
    }
    for n in &plan.notices {
        println!("NOTE: {n}");
    }
    Ok(if plan.conflicts.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    })
}

/// Version of the `doctor --json` document.
const DOCTOR_SCHEMA: u32 = 1;

/// `reins doctor [--json]`: hooks per agent, the daemon, the live surfaces,
/// the policy file. Exit 1 when something needs fixing; no live surface is
/// not a fault (prompts then abstain at once), only reported.
pub fn doctor(paths: &Paths, json: bool) -> anyhow::Result<Exit> {
    let mut ok = true;
    let (home, exe) = (home()?, reins_exe()?);
    let mut lines = Vec::new();
    let mut hooks = Vec::new();
    for agent in Agent::ALL {
        let status = reins_install::check(agent, &Scope::User, &home, &exe);
        let (state, line) = match &status {
            Status::Installed => ("installed", "hooks installed".to_owned()),
            Status::NotInstalled => (
                "not_installed",
                format!("not installed (run `reins install {agent}` to enable approvals)"),
            ),
            Status::Partial {
                needs_update,
                conflicts,
            } => {
                ok = false;
                (
                    "partial",
                    format!(
                        "partially installed: missing {needs_update:?} {conflicts:?}; run `reins install {agent}`"
                    ),
                )
            }
            Status::StalePath { expected, found } => {
                ok = false;
                (
                    "stale_path",
                    format!(
                        "hooks call {found:?}, not {}; run `reins install {agent}` again",
                        expected.display()
                    ),
                )
            }
            Status::Unreadable { error } => {
                ok = false;
                ("unreadable", format!("config unreadable: {error}"))
            }
        };
        lines.push(format!("{:<8} {line}", agent.to_string()));
        hooks.push(
            serde_json::json!({ "agent": agent.to_string(), "state": state, "message": line }),
        );
    }
    let openclaw = openclaw_section(&home, &exe, &mut lines, &mut ok);
    let socket = paths.socket();
    let mut surfaces = None;
    let mut gateway = None;
    let mut link = None;
    let daemon = match Client::connect(&socket).and_then(|mut c| {
        let pong = c.call(&Request::Ping)?;
        Ok((pong, c.call(&Request::Status).ok()))
    }) {
        Ok((Response::Pong { pid, .. }, status)) => {
            lines.push(format!(
                "daemon   running (pid {pid}) on {}",
                socket.display()
            ));
            if let Some(Response::Status {
                surfaces: s,
                openclaw: g,
                link: l,
                ..
            }) = status
            {
                surfaces = s;
                gateway = g;
                link = l;
            }
            serde_json::json!({ "running": true, "pid": pid, "socket": socket })
        }
        _ => {
            ok = false;
            lines.push(
                "daemon   NOT running: prompts fall back to each agent's own dialog; start `reins daemon`".into(),
            );
            serde_json::json!({ "running": false, "pid": null, "socket": socket })
        }
    };
    if let Some(s) = &surfaces {
        lines.push(crate::output::surfaces_lines(s).trim_end().to_owned());
    }
    // The daemon's link to OpenClaw's gateway, where OpenClaw is set up.
    if let Some(g) = gateway.as_ref().filter(|_| !openclaw.is_null()) {
        use reins_openclaw::LinkStatus;
        let up = matches!(
            g.link,
            Some(LinkStatus::Up { .. } | LinkStatus::Connecting { .. })
        );
        if g.enabled && !up {
            ok = false;
        }
        let line = crate::openclaw::status_line(g);
        lines.push(format!(
            "openclaw gateway   {}",
            line.trim_end().trim_start_matches("OpenClaw gateway: ")
        ));
    }
    // Where the phone link's keys are: a 0600 file is reported with its
    // fix (a headless machine may have no keyring at all, so it is not a
    // fault); a secret store that stopped working is.
    let secrets = link.and_then(|l| l.secrets);
    if let Some(s) = &secrets {
        ok &= s.problem.is_none();
        let text = crate::phone::secrets_line_of(s);
        for l in text.lines() {
            lines.push(format!("secrets  {}", l.trim_start_matches("Keys: ")));
        }
    }
    let policy = match crate::approvals::load_policy(paths) {
        Ok(p) => {
            lines.push(format!(
                "policy   ok ({} rule(s) plus the built-in denylist)",
                p.rule_count()
            ));
            serde_json::json!({ "ok": true, "rules": p.rule_count(), "error": null })
        }
        Err(e) => {
            ok = false;
            lines.push(format!("policy   BROKEN: {e}"));
            serde_json::json!({ "ok": false, "rules": null, "error": e.to_string() })
        }
    };
    if json {
        let doc = serde_json::json!({
            "schema": DOCTOR_SCHEMA, "ok": ok, "hooks": hooks, "openclaw": openclaw,
            "openclaw_gateway": gateway,
            "daemon": daemon,
            "surfaces": surfaces, "secrets": secrets, "policy": policy,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for l in lines {
            println!("{l}");
        }
    }
    Ok(if ok { Exit::Ok } else { Exit::Other })
}

/// The doctor's OpenClaw lines, only when OpenClaw is installed or
/// configured here: config, the Reins plugin's files, that it is enabled
/// and runs this `reins`, and that exec approvals ask. `null` in the JSON
/// otherwise.
fn openclaw_section(
    home: &Path,
    exe: &Path,
    lines: &mut Vec<String>,
    ok: &mut bool,
) -> serde_json::Value {
    let Some(findings) = reins_install::openclaw::check(&openclaw_paths(home), exe) else {
        return serde_json::Value::Null;
    };
    let mut items = Vec::new();
    for f in &findings {
        *ok &= f.ok;
        let mark = if f.ok { "" } else { "NOT OK: " };
        lines.push(format!("openclaw {:<10} {mark}{}", f.what, f.message));
        items.push(serde_json::json!({ "check": f.what, "ok": f.ok, "message": f.message }));
    }
    serde_json::json!({ "checks": items })
}
