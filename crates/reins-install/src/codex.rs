//! OpenAI Codex CLI: `hooks.json` (grouped shape) plus `notify` in `config.toml`.
//!
//! Files: `<base>/.codex/hooks.json` and `<base>/.codex/config.toml`, where
//! base is the home directory or the project.
//!
//! - `hooks.json` gets `PermissionRequest` and `PreToolUse` groups without a
//!   matcher (absent = every tool) holding
//!   `{"type":"command","command":"'/abs/reins' hook codex <event>","timeout":N}`.
//!   Codex handlers are shell strings (no exec form is documented), so the
//!   path is shell-quoted.
//! - `config.toml` gets `notify = ["/abs/reins", "hook", "codex", "notify"]`,
//!   edited with `toml_edit` so comments and layout survive. Codex allows a
//!   single notify program: a different existing `notify` is never replaced;
//!   the plan reports a conflict instead.
//!
//! Not done here: hooks written inline under `[hooks]` in `config.toml` are
//! neither edited nor recognised (Reins always uses `hooks.json`; Codex
//! merges both and warns, which the plan mentions). Feature flags are never
//! changed; `[features] hooks = false` is reported as a conflict.

use std::path::PathBuf;

use serde_json::json;
use toml_edit::{Array, DocumentMut, Item, value};

use crate::command::{hook_argv, reins_exe_of_argv, shell_join};
use crate::hooks_json::{self, Entry, Presence, Shape};
use crate::jsonfile::{self, read_text};
use crate::model::{Agent, HookEvent, Op, Scope};
use crate::plan::FileChange;
use crate::{Ctx, InstallError, Plan};

/// Codex shows its own approval prompt only after PermissionRequest hooks
/// return, so a hung hook locks the user out of the terminal. Reins' hook
/// abstains after a bounded wait (60–120 s); this is the backstop above it.
const PERMISSION_TIMEOUT_SECS: u64 = 120;
/// PreToolUse is a fast policy check.
const PRE_TOOL_TIMEOUT_SECS: u64 = 30;

/// Shown with every `install codex`: Codex skips new or changed hooks until
/// the user reviews them.
pub const TRUST_NOTICE: &str = "Codex skips new or changed hooks until you trust them: start \
     Codex and open /hooks to review and trust the Reins hooks.";

fn dir(ctx: &Ctx<'_>) -> PathBuf {
    match ctx.scope {
        Scope::User => ctx.home.join(".codex"),
        Scope::Project(d) => d.join(".codex"),
    }
}

pub(crate) fn hooks_path(ctx: &Ctx<'_>) -> PathBuf {
    dir(ctx).join("hooks.json")
}

pub(crate) fn config_path(ctx: &Ctx<'_>) -> PathBuf {
    dir(ctx).join("config.toml")
}

pub(crate) fn entries(ctx: &Ctx<'_>) -> Vec<Entry> {
    Agent::Codex
        .events()
        .iter()
        .filter(|&&e| e != HookEvent::Notify)
        .map(|&event| {
            let timeout = match event {
                HookEvent::PermissionRequest => PERMISSION_TIMEOUT_SECS,
                _ => PRE_TOOL_TIMEOUT_SECS,
            };
            Entry {
                event,
                key: event.pascal_name(),
                matcher: None,
                handler: json!({
                    "type": "command",
                    "command": shell_join(&hook_argv(ctx.exe, "codex", event.cli_name())),
                    "timeout": timeout,
                }),
            }
        })
        .collect()
}

/// A parsed `config.toml` (absent = empty document).
struct TomlFile {
    path: PathBuf,
    before: Option<String>,
    doc: DocumentMut,
}

fn load_toml(path: PathBuf) -> Result<TomlFile, InstallError> {
    let before = read_text(&path)?;
    let text = before.as_deref().unwrap_or("");
    let doc = text.parse::<DocumentMut>().map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start).min(text.len());
        let upto = &text[..offset];
        let line = upto.matches('\n').count() + 1;
        let column = upto.len() - upto.rfind('\n').map_or(0, |i| i + 1) + 1;
        InstallError::Malformed {
            path: path.clone(),
            format: "TOML",
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;
    Ok(TomlFile { path, before, doc })
}

/// What `notify` currently holds.
enum Notify {
    Absent,
    /// Ours: the reins binary it calls and whether it is exactly what we write.
    Ours {
        exe: PathBuf,
        exact: bool,
    },
    /// Someone else's program, rendered for the message.
    Other(String),
}

fn notify_argv(ctx: &Ctx<'_>) -> Vec<String> {
    hook_argv(ctx.exe, "codex", HookEvent::Notify.cli_name())
}

fn read_notify(doc: &DocumentMut, ctx: &Ctx<'_>) -> Notify {
    let Some(item) = doc.get("notify") else {
        return Notify::Absent;
    };
    let argv: Option<Vec<String>> = item
        .as_array()
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    match argv
        .as_deref()
        .and_then(|a| reins_exe_of_argv(a).map(|exe| (a, exe)))
    {
        Some((a, exe)) => Notify::Ours {
            exact: a == notify_argv(ctx).as_slice(),
            exe,
        },
        None => Notify::Other(item.to_string().trim().to_owned()),
    }
}

fn notify_conflict(path: &std::path::Path, current: &str, ctx: &Ctx<'_>) -> String {
    format!(
        "{} already sets notify = {current}. Codex runs only one notify program, so Reins left \
         it unchanged and will not see turn completions. To fix, have that program also run \
         `{}` with the same last argument, or replace the setting with notify = {:?}.",
        path.display(),
        shell_join(&notify_argv(ctx)),
        notify_argv(ctx),
    )
}

fn toml_change(file: TomlFile, changed: bool, delete_if_empty: bool) -> Option<FileChange> {
    if !changed {
        return None;
    }
    let after = file.doc.to_string();
    let delete = delete_if_empty && after.trim().is_empty();
    if delete && file.before.is_none() {
        return None;
    }
    Some(FileChange {
        path: file.path,
        before: file.before,
        after: (!delete).then_some(after),
    })
}

fn hooks_disabled(doc: &DocumentMut) -> bool {
    let features = doc.get("features");
    ["hooks", "codex_hooks"]
        .iter()
        .any(|k| features.and_then(|f| f.get(k)).and_then(Item::as_bool) == Some(false))
}

pub(crate) fn plan(ctx: &Ctx<'_>, op: Op) -> Result<Plan, InstallError> {
    // Parse both files before producing anything, so a malformed one stops
    // the whole plan and nothing is written.
    let mut hooks = jsonfile::load(&hooks_path(ctx))?;
    let mut config = load_toml(config_path(ctx))?;
    let mut plan = Plan::default();
    let notify = read_notify(&config.doc, ctx);
    match op {
        Op::Install => {
            hooks_json::install(&mut hooks, Shape::Grouped, &entries(ctx))?;
            plan.push_change(hooks.into_change());
            let changed = match notify {
                Notify::Absent | Notify::Ours { exact: false, .. } => {
                    let arr: Array = notify_argv(ctx).into_iter().collect();
                    config.doc["notify"] = value(arr);
                    true
                }
                Notify::Ours { exact: true, .. } => false,
                Notify::Other(current) => {
                    plan.conflicts
                        .push(notify_conflict(&config.path, &current, ctx));
                    false
                }
            };
            if hooks_disabled(&config.doc) {
                plan.conflicts.push(format!(
                    "{} turns Codex hooks off under [features]; Reins' hooks will not run \
                     until you remove that line.",
                    config.path.display()
                ));
            }
            if config.doc.contains_key("hooks") {
                plan.notices.push(format!(
                    "{} also defines hooks inline under [hooks]; Codex merges them with \
                     hooks.json and prints a warning at startup.",
                    config.path.display()
                ));
            }
            plan.push_change(toml_change(config, changed, false));
            plan.notices.push(TRUST_NOTICE.to_owned());
            if matches!(ctx.scope, Scope::Project(_)) {
                plan.notices.push(
                    "Codex loads a project's .codex/ hooks only when you trust the project."
                        .to_owned(),
                );
            }
        }
        Op::Uninstall => {
            plan.push_change(hooks_json::uninstall_change(hooks, Shape::Grouped, &[]));
            let ours = matches!(notify, Notify::Ours { .. });
            if ours {
                config.doc.remove("notify");
            }
            plan.push_change(toml_change(config, ours, true));
        }
    }
    Ok(plan)
}

pub(crate) fn inspect(ctx: &Ctx<'_>) -> Result<Vec<(HookEvent, Presence)>, InstallError> {
    let hooks = jsonfile::load(&hooks_path(ctx))?;
    let config = load_toml(config_path(ctx))?;
    let mut out = hooks_json::inspect(&hooks, Shape::Grouped, &entries(ctx));
    let notify = match read_notify(&config.doc, ctx) {
        Notify::Absent => Presence::Missing,
        Notify::Ours { exact: true, .. } => Presence::Current,
        Notify::Ours { exe, .. } => Presence::Outdated { exe },
        Notify::Other(current) => Presence::Conflict(notify_conflict(&config.path, &current, ctx)),
    };
    out.push((HookEvent::Notify, notify));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ctx<'a>(scope: &'a Scope, home: &'a Path) -> Ctx<'a> {
        Ctx {
            scope,
            home,
            exe: Path::new("/opt/reins"),
        }
    }

    #[test]
    fn notify_goes_above_the_first_table_of_a_tables_only_config_and_comes_out_again() {
        let dir = tempfile::tempdir().unwrap();
        let scope = Scope::User;
        let c = ctx(&scope, dir.path());
        let text = "[features]\nfoo = true # keep\n";
        std::fs::create_dir_all(dir.path().join(".codex")).unwrap();
        std::fs::write(config_path(&c), text).unwrap();
        let p = plan(&c, Op::Install).unwrap();
        let after = p.changes[1].after.clone().unwrap();
        assert_eq!(
            after,
            "notify = [\"/opt/reins\", \"hook\", \"codex\", \"notify\"]\n[features]\nfoo = true # keep\n"
        );
        std::fs::write(config_path(&c), &after).unwrap();
        let p = plan(&c, Op::Uninstall).unwrap();
        assert_eq!(p.changes[0].after.as_deref(), Some(text));
    }

    #[test]
    fn a_notify_that_is_not_an_array_of_strings_is_someone_elses() {
        let doc: DocumentMut = "notify = \"oops\"".parse().unwrap();
        let scope = Scope::User;
        assert!(matches!(
            read_notify(&doc, &ctx(&scope, Path::new("/h"))),
            Notify::Other(_)
        ));
    }
}
