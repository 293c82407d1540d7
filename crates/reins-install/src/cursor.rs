//! Cursor agent CLI: `hooks.json`, flat shape.
//!
//! Files: `<home>/.cursor/hooks.json` and `<project>/.cursor/hooks.json`.
//! Shape: `{"version": 1, "hooks": {"beforeShellExecution": [{"command": "...", "timeout": N}], "preToolUse": [...]}}`.
//!
//! Assumptions (Cursor hooks docs and published examples): handlers are
//! shell strings in `command`; `timeout` is in seconds; `preToolUse` without
//! a `matcher` applies to every tool. A new file gets `"version": 1`; an
//! existing file's `version` is left alone.
//!
//! Uninstall deletes the file when only `version` would be left.

use std::path::PathBuf;

use serde_json::json;

use crate::command::{hook_argv, shell_join};
use crate::hooks_json::{self, Entry, Presence, Shape};
use crate::jsonfile;
use crate::model::{Agent, HookEvent, Op, Scope};
use crate::{Ctx, InstallError, Plan};

/// `beforeShellExecution` may wait for the user's answer; Cursor waits for
/// the hook before running the command, so this is a backstop just above
/// the bounded wait Reins applies itself, not the wait itself.
const SHELL_TIMEOUT_SECS: u64 = 120;
/// `preToolUse` is a fast policy check.
const PRE_TOOL_TIMEOUT_SECS: u64 = 30;

pub(crate) fn hooks_path(ctx: &Ctx<'_>) -> PathBuf {
    match ctx.scope {
        Scope::User => ctx.home.join(".cursor").join("hooks.json"),
        Scope::Project(dir) => dir.join(".cursor").join("hooks.json"),
    }
}

pub(crate) fn entries(ctx: &Ctx<'_>) -> Vec<Entry> {
    Agent::Cursor
        .events()
        .iter()
        .map(|&event| {
            let timeout = match event {
                HookEvent::BeforeShellExecution => SHELL_TIMEOUT_SECS,
                _ => PRE_TOOL_TIMEOUT_SECS,
            };
            Entry {
                event,
                key: event.camel_name(),
                matcher: None,
                handler: json!({
                    "command": shell_join(&hook_argv(ctx.exe, "cursor", event.cli_name())),
                    "timeout": timeout,
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
