//! `reins install <agent>` / `reins uninstall <agent>` as file transformations.
//!
//! Reins integrates with AI agents through their official hook systems: the
//! installer writes hook entries that run `/abs/path/reins hook <agent>
//! <event>` into each agent's config. This crate computes those edits as a
//! [`Plan`] (exact before/after text of each file), which the caller can show
//! as a diff ([`Plan::diff`], the `--print` mode) or write ([`Plan::apply`]:
//! timestamped backup, atomic replace). [`check`] reports whether an agent is
//! wired up, for `reins doctor`.
//!
//! Guarantees:
//! - Merges keep every unrelated key, every user hook (also on the same
//!   event/matcher) and the key order; TOML keeps comments and layout.
//! - Idempotent: installing twice yields an empty plan the second time, so
//!   nothing is written and no new backup is made. Uninstall likewise.
//! - Our entries are recognised by what they run (`…/reins hook …`), so a
//!   new `reins_exe` replaces the old entries instead of duplicating them.
//! - Uninstall removes exactly our entries and the containers they leave
//!   empty; if that leaves a file semantically empty it is deleted (absent
//!   and empty configs mean the same to every agent).
//! - A malformed config is an error naming the file and line; nothing is written.
//!
//! Deliberately not here: reading `$HOME` or the current exe (callers pass
//! `home` and `reins_exe`), printing, prompting, and the hook runtime itself.
//! Per-agent formats and assumptions are documented in each agent module.
//!
//! Typical CLI wiring:
//!
//! ```no_run
//! use std::time::SystemTime;
//! use reins_install::{Agent, Op, Scope, plan};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let home = std::path::PathBuf::from("/home/me"); // from the CLI, not read here
//! let exe = std::env::current_exe()?;
//! let p = plan(Agent::Codex, &Scope::User, &home, &exe, Op::Install)?;
//! for c in &p.conflicts { eprintln!("warning: {c}"); }
//! if print_only() {
//!     print!("{}", p.diff());
//! } else {
//!     let applied = p.apply(SystemTime::now())?;
//!     for b in &applied.backups { println!("backup: {}", b.display()); }
//! }
//! for n in &p.notices { println!("{n}"); }
//! # Ok(()) }
//! # fn print_only() -> bool { false }
//! ```

mod claude;
mod codex;
mod command;
mod copilot;
mod cursor;
mod error;
mod fsio;
mod gemini;
mod hooks_json;
mod jsonfile;
mod model;
pub mod openclaw;
mod openclaw_check;
mod openclaw_json5;
mod plan;

use std::path::{Path, PathBuf};

pub use codex::TRUST_NOTICE as CODEX_TRUST_NOTICE;
pub use error::InstallError;
pub use model::{Agent, HookEvent, Op, ParseNameError, Scope, Status};
pub use plan::{Applied, FileChange, Plan};

use hooks_json::Presence;

/// The arguments every agent module needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub scope: &'a Scope,
    pub home: &'a Path,
    pub exe: &'a Path,
}

impl Ctx<'_> {
    pub fn exe_str(&self) -> String {
        self.exe.to_string_lossy().into_owned()
    }
}

fn ctx<'a>(scope: &'a Scope, home: &'a Path, reins_exe: &'a Path) -> Result<Ctx<'a>, InstallError> {
    if !reins_exe.is_absolute() {
        return Err(InstallError::RelativeExe(reins_exe.to_owned()));
    }
    if let Scope::Project(dir) = scope
        && !dir.is_absolute()
    {
        return Err(InstallError::RelativeProject(dir.clone()));
    }
    Ok(Ctx {
        scope,
        home,
        exe: reins_exe,
    })
}

/// Compute what installing or uninstalling `agent` in `scope` would change.
///
/// Reads the agent's config files (under `home` for [`Scope::User`], under
/// the project directory otherwise) and writes nothing. `reins_exe` must be
/// absolute; it is what the hooks will run.
pub fn plan(
    agent: Agent,
    scope: &Scope,
    home: &Path,
    reins_exe: &Path,
    op: Op,
) -> Result<Plan, InstallError> {
    let ctx = ctx(scope, home, reins_exe)?;
    match agent {
        Agent::Claude => claude::plan(&ctx, op),
        Agent::Codex => codex::plan(&ctx, op),
        Agent::Gemini => gemini::plan(&ctx, op),
        Agent::Cursor => cursor::plan(&ctx, op),
        Agent::Copilot => copilot::plan(&ctx, op),
    }
}

/// The config files `plan` reads and may write for this agent and scope.
pub fn config_paths(agent: Agent, scope: &Scope, home: &Path) -> Vec<PathBuf> {
    let exe = Path::new("/reins");
    let ctx = Ctx { scope, home, exe };
    match agent {
        Agent::Claude => vec![claude::settings_path(&ctx)],
        Agent::Codex => vec![codex::hooks_path(&ctx), codex::config_path(&ctx)],
        Agent::Gemini => vec![gemini::settings_path(&ctx)],
        Agent::Cursor => vec![cursor::hooks_path(&ctx)],
        Agent::Copilot => vec![copilot::hooks_path(&ctx)],
    }
}

/// Report whether `agent` is wired to `reins_exe` in `scope` (for `reins doctor`).
/// Never writes; a config that cannot be read is reported as
/// [`Status::Unreadable`].
pub fn check(agent: Agent, scope: &Scope, home: &Path, reins_exe: &Path) -> Status {
    let inspected = ctx(scope, home, reins_exe).and_then(|ctx| match agent {
        Agent::Claude => claude::inspect(&ctx),
        Agent::Codex => codex::inspect(&ctx),
        Agent::Gemini => gemini::inspect(&ctx),
        Agent::Cursor => cursor::inspect(&ctx),
        Agent::Copilot => copilot::inspect(&ctx),
    });
    match inspected {
        Ok(found) => summarize(&found, reins_exe),
        Err(e) => Status::Unreadable {
            error: e.to_string(),
        },
    }
}

fn summarize(found: &[(HookEvent, Presence)], reins_exe: &Path) -> Status {
    let mut stale: Vec<PathBuf> = Vec::new();
    for (_, p) in found {
        if let Presence::Outdated { exe } = p
            && exe != reins_exe
            && !stale.contains(exe)
        {
            stale.push(exe.clone());
        }
    }
    if !stale.is_empty() {
        return Status::StalePath {
            expected: reins_exe.to_owned(),
            found: stale,
        };
    }
    if found.iter().all(|(_, p)| *p == Presence::Current) {
        return Status::Installed;
    }
    let any_ours = found
        .iter()
        .any(|(_, p)| matches!(p, Presence::Current | Presence::Outdated { .. }));
    if !any_ours {
        return Status::NotInstalled;
    }
    let mut needs_update = Vec::new();
    let mut conflicts = Vec::new();
    for (event, p) in found {
        match p {
            Presence::Current => {}
            Presence::Conflict(msg) => conflicts.push(msg.clone()),
            Presence::Outdated { .. } | Presence::Missing => needs_update.push(*event),
        }
    }
    Status::Partial {
        needs_update,
        conflicts,
    }
}
