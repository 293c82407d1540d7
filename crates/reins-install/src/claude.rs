//! Claude Code: hooks in `settings.json`, grouped shape, exec-form handlers.
//!
//! Files: `<home>/.claude/settings.json` (user) and
//! `<project>/.claude/settings.local.json` (project). The project scope uses
//! the *local* file on purpose: the hook calls this machine's absolute
//! `reins` path, which must not be committed for teammates (a missing binary
//! exits 127, which Claude treats as a non-blocking error, i.e. a silently
//! disabled gate).
//!
//! Handler (exec form, no shell — `args` present selects it; documented in
//! the Claude Code settings reference, "Exec form and shell form"):
//! `{"type":"command","command":"/abs/reins","args":["hook","claude","<event>"],"timeout":N}`.
//! Tool events get `"matcher": "*"`; the others omit the matcher (absent
//! matches everything and is valid for every event).
//!
//! Not done here: `disableAllHooks` is never changed; if it is `true` the
//! plan reports a conflict instead.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::hooks_json::{self, Entry, Presence, Shape};
use crate::jsonfile;
use crate::model::{Agent, HookEvent, Op, Scope};
use crate::{Ctx, InstallError, Plan};

/// PermissionRequest may wait for the user to answer on the phone/desktop;
/// it races Claude's own terminal dialog, so a long timeout never locks the
/// user out. 600 s is also Claude's default for command hooks.
const PERMISSION_TIMEOUT_SECS: u64 = 600;
/// PreToolUse is a fast policy check; Claude waits for it before every tool.
const PRE_TOOL_TIMEOUT_SECS: u64 = 30;
/// Observational events (PostToolUse, Notification, Session*, Stop) only
/// forward an event to the daemon.
const OBSERVE_TIMEOUT_SECS: u64 = 10;
/// UserPromptSubmit answers at once, except for a stop word: then Reins
/// freezes the agent's tree, hook included, and thaws the hook alone to let
/// it print "block". Claude is frozen meanwhile; a long timeout keeps its
/// timer from passing the word on if it is resumed much later.
const USER_PROMPT_TIMEOUT_SECS: u64 = 600;

pub(crate) fn settings_path(ctx: &Ctx<'_>) -> PathBuf {
    match ctx.scope {
        Scope::User => ctx.home.join(".claude").join("settings.json"),
        Scope::Project(dir) => dir.join(".claude").join("settings.local.json"),
    }
}

pub(crate) fn entries(ctx: &Ctx<'_>) -> Vec<Entry> {
    Agent::Claude
        .events()
        .iter()
        .map(|&event| {
            let (timeout, matcher) = match event {
                HookEvent::PermissionRequest => (PERMISSION_TIMEOUT_SECS, Some(json!("*"))),
                HookEvent::PreToolUse => (PRE_TOOL_TIMEOUT_SECS, Some(json!("*"))),
                HookEvent::PostToolUse => (OBSERVE_TIMEOUT_SECS, Some(json!("*"))),
                HookEvent::UserPromptSubmit => (USER_PROMPT_TIMEOUT_SECS, None),
                _ => (OBSERVE_TIMEOUT_SECS, None),
            };
            Entry {
                event,
                key: event.pascal_name(),
                matcher,
                handler: json!({
                    "type": "command",
                    "command": ctx.exe_str(),
                    "args": ["hook", "claude", event.cli_name()],
                    "timeout": timeout,
                }),
            }
        })
        .collect()
}

pub(crate) fn plan(ctx: &Ctx<'_>, op: Op) -> Result<Plan, InstallError> {
    let mut file = jsonfile::load(&settings_path(ctx))?;
    let mut plan = Plan::default();
    match op {
        Op::Install => {
            hooks_json::install(&mut file, Shape::Grouped, &entries(ctx))?;
            if file.original.get("disableAllHooks") == Some(&Value::Bool(true)) {
                plan.conflicts.push(format!(
                    "{} sets \"disableAllHooks\": true, so Claude Code will not run the Reins \
                     hooks. Remove that setting to let Reins see and gate Claude.",
                    file.path.display()
                ));
            }
            if matches!(ctx.scope, Scope::Project(_)) {
                plan.notices.push(
                    "Installed into .claude/settings.local.json (not meant to be committed), \
                     because the hook calls this machine's reins binary by absolute path."
                        .to_owned(),
                );
            }
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
