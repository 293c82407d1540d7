//! The daemon's side of tripwires: account every pre-tool hook event (and,
//! for agents with no hooks, every deletion under their project directory)
//! in the pure [`reins_approval::tripwire::Tripwires`] machine, and when a
//! rule fires: deny the call, pause the agent's whole tree through the one
//! halt path, raise the alert on every surface and audit it.
//!
//! The machine is a small owned state behind [`TripwireHandle`] (a mutex
//! held only for one in-memory update, never across an await). The pause
//! never waits for the hook that tripped it: the hook's answer is written to
//! its socket after the freeze and read when the person resumes the agent.
//! A resume (from any surface: it is the ordinary `halt_for`) resets the
//! agent's windows, so the next call does not fire again. Watching
//! directories is in [`crate::tripwires_watch`].

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::daemon::Dispatcher;
use crate::ipc::proto::HookReport;
use reins_approval::actions::{self, ActionContext, Classified};
use reins_approval::tripwire::{Fired, Outcome, TripwireSettings, Tripwires};
use reins_approval::{ActionView, HookEvent, HookVerdict};
use reins_core::{Actor, AgentId, AgentRecord, AlertAction, AlertKind, HaltOp};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Cloneable handle to the tripwire state.
#[derive(Clone, Debug)]
pub struct TripwireHandle {
    inner: Arc<Mutex<Tripwires>>,
    home: Option<PathBuf>,
}

impl TripwireHandle {
    /// A fresh state with the policy's `[tripwires]`.
    pub fn new(settings: TripwireSettings, home: Option<PathBuf>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Tripwires::new(settings))),
            home,
        }
    }

    /// Account one action.
    pub fn observe(
        &self,
        now_ms: u64,
        agent: Option<&AgentId>,
        session: Option<&str>,
        action: &Classified,
    ) -> Outcome {
        self.lock().observe(now_ms, agent, session, action)
    }

    /// Forget `agent`'s windows and held state (it was resumed or stopped).
    pub fn reset_agent(&self, agent: &AgentId) {
        self.lock().reset_agent(agent);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tripwires> {
        // A panic while holding this lock leaves plain data; keep counting.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The events that announce a tool call before it runs. `PermissionRequest`
/// is not one: Claude and Codex send it after `PreToolUse` for the same
/// call, and counting both would count the call twice.
pub(crate) fn is_pre_tool(event: HookEvent) -> bool {
    matches!(
        event,
        HookEvent::PreToolUse
            | HookEvent::BeforeTool
            | HookEvent::BeforeShellExecution
            | HookEvent::BeforeToolCall
    )
}

/// The project directory of `cwd`: the nearest directory at or above it
/// holding `.git` (a directory or a worktree's file), else `cwd` itself.
pub(crate) fn project_root(cwd: &Path) -> PathBuf {
    cwd.ancestors()
        .find(|d| d.join(".git").symlink_metadata().is_ok())
        .unwrap_or(cwd)
        .to_path_buf()
}

fn unix_now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What the agent is told when its call is denied by a tripwire.
fn deny_message(rule: &str, what: Option<&str>) -> String {
    let why = what.map(|w| format!(" after {w}")).unwrap_or_default();
    format!(
        "Reins tripwire '{rule}' fired{why}: this agent is paused and this action was not run. \
         Stop here and wait: the user has been alerted and must resume you (`reins resume`, the \
         tray or the phone) before you continue."
    )
}

impl Dispatcher {
    /// Account a pre-tool hook event; `Some(deny)` when a tripwire fired on
    /// it (the agent is then paused) or holds its agent or session.
    pub(crate) async fn account_tool_call(
        &self,
        hook: &HookReport,
        agent: Option<&AgentId>,
    ) -> Option<HookVerdict> {
        let input = &hook.input;
        if !is_pre_tool(input.event) || input.tool_name.is_none() && input.command.is_none() {
            return None;
        }
        let record = match agent {
            Some(id) => self
                .registry
                .snapshot()
                .await
                .into_iter()
                .find(|r| &r.id == id),
            None => None,
        };
        // The project: the agent's own directory (its git root), else the hook's cwd.
        let cwd = record
            .as_ref()
            .and_then(|r| r.cwd.clone())
            .or_else(|| input.cwd.as_deref().map(PathBuf::from));
        let root = cwd.as_deref().map(project_root);
        let ctx = ActionContext {
            project_root: root.as_deref(),
            home: self.tripwires.home.as_deref(),
        };
        let classified = actions::classify(&ActionView::from(input), &ctx);
        let now = self.clock.now_ms();
        match self
            .tripwires
            .observe(now, agent, input.session_id.as_deref(), &classified)
        {
            Outcome::Clear => None,
            Outcome::Held { rule } => Some(HookVerdict::Deny {
                message: deny_message(&rule, None),
            }),
            Outcome::Fired(fired) => {
                let action = serde_json::json!({
                    "tool": input.tool_name, "command": input.command, "cwd": input.cwd,
                    "session": input.session_id, "classified": classified,
                });
                let what = fired.describe();
                match (agent, record) {
                    (Some(id), Some(rec)) => self.trip(id, &rec, &fired, action).await,
                    _ => self.audit_trip(None, &fired, action, "no detected agent to pause"),
                }
                Some(HookVerdict::Deny {
                    message: deny_message(&fired.rule, Some(&what)),
                })
            }
        }
    }

    /// A tripwire fired for `id`: pause its whole tree (the one halt path,
    /// as the daemon), tell every surface, audit.
    pub(crate) async fn trip(
        &self,
        id: &AgentId,
        rec: &AgentRecord,
        fired: &Fired,
        action: serde_json::Value,
    ) {
        let paused = self
            .halt_for(HaltOp::Pause, &id.to_string(), false, Actor::Daemon, None)
            .await;
        let note = match &paused {
            Ok(run) if run.outcome.targets.iter().all(|t| t.report.success) => "paused",
            Ok(_) => "pause not verified for every process",
            Err(e) => {
                tracing::error!(agent = %id, "tripwire could not pause the agent: {}", e.message);
                "pause failed"
            }
        };
        let project = rec.project.clone();
        let name = match &project {
            Some(p) => format!("{} · {p}", id.kind.slug()),
            None => id.kind.slug().to_owned(),
        };
        self.alerts.raise(
            crate::alerts::AlertDraft {
                kind: AlertKind::Tripwire {
                    rule: fired.rule.clone(),
                    count: fired.count,
                    window_s: fired.span_s(),
                },
                agent: id.clone(),
                display_name: rec.display_name.clone(),
                project,
                message: format!("Tripwire: {name} paused after {}", fired.describe()),
                actions: vec![AlertAction::Resume, AlertAction::Stop],
            },
            unix_now_s(),
        );
        self.audit_trip(Some(id), fired, action, note);
    }

    fn audit_trip(
        &self,
        id: Option<&AgentId>,
        fired: &Fired,
        action: serde_json::Value,
        note: &str,
    ) {
        self.audit.submit(AuditEntry {
            actor: Actor::Daemon,
            action: AuditAction::Tripwire,
            target: id.map_or_else(|| "unknown agent".into(), ToString::to_string),
            outcome: AuditOutcome::Info,
            latency_us: None,
            detail: serde_json::json!({
                "rule": fired.rule, "counts": fired.counts, "count": fired.count,
                "window_s": fired.window_s, "span_ms": fired.span_ms,
                "action": action, "result": note,
            }),
        });
    }

    /// After a resume or stop of `ids`: their tripwires start afresh and
    /// their tripwire alerts are cleared.
    pub(crate) fn tripwires_after_halt(&self, op: HaltOp, ids: &[AgentId]) {
        if op == HaltOp::Pause {
            return;
        }
        for id in ids {
            self.tripwires.reset_agent(id);
            for a in self.alerts.active() {
                if &a.agent == id && matches!(a.kind, AlertKind::Tripwire { .. }) {
                    self.alerts.clear(a.id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_root_is_the_git_root_above_the_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("repo/src/deep");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(project_root(&sub), sub, "no .git: the cwd itself");
        std::fs::create_dir(dir.path().join("repo/.git")).unwrap();
        assert_eq!(project_root(&sub), dir.path().join("repo"));
    }

    #[test]
    fn only_events_before_a_tool_runs_are_counted() {
        assert!(is_pre_tool(HookEvent::PreToolUse));
        assert!(is_pre_tool(HookEvent::BeforeTool));
        assert!(!is_pre_tool(HookEvent::PermissionRequest));
        assert!(!is_pre_tool(HookEvent::PostToolUse));
    }

    #[test]
    fn the_agent_is_told_it_is_paused_and_must_wait() {
        let m = deny_message("deletions", Some("5 deletions in 40 s"));
        assert!(m.contains("tripwire 'deletions' fired after 5 deletions in 40 s"));
        assert!(m.contains("must resume"));
    }
}
