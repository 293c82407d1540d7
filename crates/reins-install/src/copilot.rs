//! GitHub Copilot CLI: a hooks file of Reins' own, flat shape.
//!
//! Copilot loads every `*.json` in its hooks directory, so Reins writes its
//! own file instead of editing the user's: `<home>/.copilot/hooks/reins.json`
//! (user) or `<project>/.github/hooks/reins.json` (project). Because the file
//! is ours, uninstall deletes it once nothing but Reins' entries (and
//! `version`) was in it; anything the user added by hand is kept.
//!
//! Shape (Copilot CLI hooks reference): `{"version": 1, "hooks": {"permissionRequest": [{"type":"command","bash":"...","timeoutSec":N}]}}`.
//! Assumptions: `bash` is a shell string run on Unix; `timeoutSec` is in
//! seconds (default 30); without `matcher` an entry applies to every tool.
//! Not done: no `powershell` variant is written (Reins' hook path is
//! Unix-only for now), and `.json` files other than `reins.json` are not
//! scanned for stale Reins entries.

use std::path::PathBuf;

use serde_json::json;

use crate::command::{hook_argv, shell_join};
use crate::hooks_json::{self, Entry, Presence, Shape};
use crate::jsonfile;
use crate::model::{Agent, HookEvent, Op, Scope};
use crate::{Ctx, InstallError, Plan};

/// Name of the file Reins owns inside Copilot's hooks directory.
const FILE_NAME: &str = "reins.json";
/// `permissionRequest` runs before Copilot's own prompt is shown, so a hung
/// hook delays the user; the backstop sits just above Reins' own bounded wait.
const PERMISSION_TIMEOUT_SECS: u64 = 120;
/// `preToolUse` is a fast policy check.
const PRE_TOOL_TIMEOUT_SECS: u64 = 30;

pub(crate) fn hooks_path(ctx: &Ctx<'_>) -> PathBuf {
    match ctx.scope {
        Scope::User => ctx.home.join(".copilot").join("hooks").join(FILE_NAME),
        Scope::Project(dir) => dir.join(".github").join("hooks").join(FILE_NAME),
    }
}

pub(crate) fn entries(ctx: &Ctx<'_>) -> Vec<Entry> {
    Agent::Copilot
        .events()
        .iter()
        .map(|&event| {
            let timeout = match event {
                HookEvent::PermissionRequest => PERMISSION_TIMEOUT_SECS,
                _ => PRE_TOOL_TIMEOUT_SECS,
            };
            Entry {
                event,
                key: event.camel_name(),
                matcher: None,
                handler: json!({
                    "type": "command",
                    "bash": shell_join(&hook_argv(ctx.exe, "copilot", event.cli_name())),
                    "timeoutSec": timeout,
                }),
            }
        })
        .collect()
}

pub(crate) fn plan(ctx: &Ctx<'_>, op: Op) -> Result<Plan, InstallError> {
    let mut file = jsonfile::load(&hooks_path(ctx))?;
    let mut plan = Plan::default();
    match op {
        Op::Install => {
            if file.root().is_empty() {
                file.root().insert("version".to_owned(), json!(1));
            }
            hooks_json::install(&mut file, Shape::Flat, &entries(ctx))?;
            if matches!(ctx.scope, Scope::Project(_)) {
                plan.notices.push(
                    "Wrote .github/hooks/reins.json, which calls this machine's reins binary \
                     by absolute path; do not commit it."
                        .to_owned(),
                );
            }
            plan.push_change(file.into_change());
        }
        Op::Uninstall => {
            plan.push_change(hooks_json::uninstall_change(
                file,
                Shape::Flat,
                &["version"],
            ));
        }
    }
    Ok(plan)
}

pub(crate) fn inspect(ctx: &Ctx<'_>) -> Result<Vec<(HookEvent, Presence)>, InstallError> {
    let file = jsonfile::load(&hooks_path(ctx))?;
    Ok(hooks_json::inspect(&file, Shape::Flat, &entries(ctx)))
}
