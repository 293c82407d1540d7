//! Gemini CLI: `BeforeTool` hook in `settings.json`, grouped shape.
//!
//! Files: `<home>/.gemini/settings.json` and `<project>/.gemini/settings.json`.
//! Entry: `{"matcher": ".*", "hooks": [{"type":"command","command":"'/abs/reins' hook gemini before-tool","name":"reins","timeout":600000}]}`.
//!
//! Assumptions (from the Gemini CLI hooks reference): the matcher of tool
//! events is a regular expression on the tool name, so `.*` covers every
//! tool including MCP tools (naming specific tools such as
//! `run_shell_command` would silently miss tools added later); handlers are
//! shell strings (no exec form), so the path is shell-quoted; `timeout` is in
//! milliseconds; `name` identifies the hook in Gemini's hook list.
//!
//! Not done here: Gemini's hook master switch (`hooksConfig.enabled`) is
//! never changed; if it is `false` the plan reports a conflict.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::command::{hook_argv, shell_join};
use crate::hooks_json::{self, Entry, Presence, Shape};
use crate::jsonfile;
use crate::model::{HookEvent, Op, Scope};
use crate::{Ctx, InstallError, Plan};

/// Gemini has no hook that answers its own confirmation dialog, so
/// `BeforeTool` is where Reins asks the user (possibly on the phone) to allow
/// or deny. Gemini's default of 60 000 ms would cut that answer off; 600 000
/// ms (10 min) matches Claude's PermissionRequest budget. Reins' hook gives
/// up on its own well before this; the timeout only guards against a hung hook.
const BEFORE_TOOL_TIMEOUT_MS: u64 = 600_000;

/// Regex on tool names matching every tool.
const ALL_TOOLS_MATCHER: &str = ".*";

pub(crate) fn settings_path(ctx: &Ctx<'_>) -> PathBuf {
    match ctx.scope {
        Scope::User => ctx.home.join(".gemini").join("settings.json"),
        Scope::Project(dir) => dir.join(".gemini").join("settings.json"),
    }
}

pub(crate) fn entries(ctx: &Ctx<'_>) -> Vec<Entry> {
    let event = HookEvent::BeforeTool;
    vec![Entry {
        event,
        key: event.pascal_name(),
        matcher: Some(json!(ALL_TOOLS_MATCHER)),
        handler: json!({
            "type": "command",
            "command": shell_join(&hook_argv(ctx.exe, "gemini", event.cli_name())),
            "name": "reins",
            "timeout": BEFORE_TOOL_TIMEOUT_MS,
        }),
    }]
}

pub(crate) fn plan(ctx: &Ctx<'_>, op: Op) -> Result<Plan, InstallError> {
    let mut file = jsonfile::load(&settings_path(ctx))?;
    let mut plan = Plan::default();
    match op {
        Op::Install => {
            hooks_json::install(&mut file, Shape::Grouped, &entries(ctx))?;
            let enabled = file.original.pointer("/hooksConfig/enabled");
            if enabled == Some(&Value::Bool(false)) {
                plan.conflicts.push(format!(
                    "{} sets hooksConfig.enabled to false, so Gemini CLI will not run the \
                     Reins hook. Set it to true to let Reins gate Gemini's tools.",
                    file.path.display()
                ));
            }
            plan.notices.push(
                "Gemini CLI has no hook that answers its own confirmation prompt: Reins can \
                 allow or deny each tool call, and Gemini may still ask in the terminal."
                    .to_owned(),
            );
        }
        Op::Uninstall => {
            plan.push_change(hooks_json::uninstall_change(file, Shape::Grouped, &[]));
            return Ok(plan);
        }
    }
    plan.push_change(file.into_change());
    Ok(plan)
}

pub(crate) fn inspect(ctx: &Ctx<'_>) -> Result<Vec<(HookEvent, Presence)>, InstallError> {
    let file = jsonfile::load(&settings_path(ctx))?;
    Ok(hooks_json::inspect(&file, Shape::Grouped, &entries(ctx)))
}
