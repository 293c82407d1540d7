//! `reins install`, `reins uninstall` and `reins doctor`: thin adapters over
//! `reins-install`, which does the merging, backups and diffs.

use crate::Exit;
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

/// Install or uninstall one agent's hooks.
pub fn run(agent: &str, project: Option<&Path>, print: bool, op: Op) -> anyhow::Result<Exit> {
    let agent: Agent = agent.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let scope = match project {
        Some(dir) => Scope::Project(std::path::absolute(dir)?),
        None => Scope::User,
    };
    let plan = reins_install::plan(agent, &scope, &home()?, &reins_exe()?, op)?;
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

/// `reins doctor`: hooks per agent, the daemon, the policy file.
pub fn doctor(paths: &Paths) -> anyhow::Result<Exit> {
    let mut ok = true;
    let (home, exe) = (home()?, reins_exe()?);
    for agent in Agent::ALL {
        let status = reins_install::check(agent, &Scope::User, &home, &exe);
        let line = match &status {
            Status::Installed => "hooks installed".to_owned(),
            Status::NotInstalled => {
                format!("not installed (run `reins install {agent}` to enable approvals)")
            }
            Status::Partial {
                needs_update,
                conflicts,
            } => {
                ok = false;
                format!(
                    "partially installed: missing {needs_update:?} {conflicts:?}; run `reins install {agent}`"
                )
            }
            Status::StalePath { expected, found } => {
                ok = false;
                format!(
                    "hooks call {found:?}, not {}; run `reins install {agent}` again",
                    expected.display()
                )
            }
            Status::Unreadable { error } => {
                ok = false;
                format!("config unreadable: {error}")
            }
        };
        println!("{:<8} {line}", agent.to_string());
    }
    match Client::connect(&paths.socket()).and_then(|mut c| c.call(&Request::Ping)) {
        Ok(Response::Pong { pid, .. }) => println!(
            "daemon   running (pid {pid}) on {}",
            paths.socket().display()
        ),
        _ => {
            ok = false;
            println!(
                "daemon   NOT running: prompts fall back to each agent's own dialog; start `reins daemon`"
            );
        }
    }
    match crate::approvals::load_policy(paths) {
        Ok(p) => println!(
            "policy   ok ({} rule(s) plus the built-in denylist)",
            p.rule_count()
        ),
        Err(e) => {
            ok = false;
            println!("policy   BROKEN: {e}");
        }
    }
    Ok(if ok { Exit::Ok } else { Exit::Other })
}
