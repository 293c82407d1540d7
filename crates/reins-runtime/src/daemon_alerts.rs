//! The daemon's side of alerts: the stop-word producer (issue 11 §3) and the
//! rules that clear alerts (agent resumed, stopped or gone).
//!
//! A Claude Code `UserPromptSubmit` hook whose prompt is nothing but a stop
//! word (see `reins_approval::stop_words`) freezes the agent's whole tree at
//! once, raises a StopWord alert with Resume and Stop, and answers "block"
//! so the agent never reads the word as an instruction. The hook process is
//! part of the frozen tree; the daemon never waits on it, and thaws only that
//! one process so it can deliver the "block" while its agent stays frozen.
//! This works with no surface at all: freezing never needs a person.
//!
//! Not here: showing alerts (each surface), the stop latch's Release and
//! StopSupervisor (`daemon_latch`).

use crate::alerts::{AlertDraft, Alerts};
use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::daemon::Dispatcher;
use crate::ipc::proto::{HookReport, Response, TargetReport};
use reins_approval::HookVerdict;
use reins_core::{Actor, AgentRecord, AlertAction, AlertKind, HaltOp, RegistryEvent};
use reins_os::Signal;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

/// The one line a person reads: "Stop word: claude · my-project paused; you
/// typed “STOP”".
pub(crate) fn stop_word_message(agent: &AgentRecord, word: &str) -> String {
    let who = match &agent.project {
        Some(p) => format!("{} · {p}", agent.kind.slug()),
        None => agent.kind.slug().to_owned(),
    };
    format!("Stop word: {who} paused; you typed “{word}”")
}

impl Dispatcher {
    /// A `UserPromptSubmit` hook. Anything but a stop word is an ordinary
    /// hook event (session tracking, a pending stop request).
    pub(crate) async fn user_prompt(&self, hook: HookReport, hook_pid: u32) -> Response {
        let word = hook
            .input
            .prompt
            .as_deref()
            .and_then(|p| self.stop_words.matches(p));
        let Some(word) = word else {
            return self.hook(hook).await;
        };
        let agents = self.registry.scan_now().await;
        let agent = hook
            .ancestry
            .iter()
            .find_map(|k| agents.iter().find(|a| a.id.root == *k))
            .cloned();
        let Some(agent) = agent else {
            // Nothing to freeze: let the agent read the word itself.
            tracing::warn!("stop word typed to an agent Reins does not see; passing it on");
            self.audit.submit(stop_word_entry(
                AuditOutcome::Refused,
                "",
                &word,
                "no detected agent owns this hook",
            ));
            return self.hook(hook).await;
        };
        let target = agent.id.to_string();
        let run = self
            .halt_for(HaltOp::Pause, &target, false, Actor::Daemon, None)
            .await;
        // The hook is frozen with its agent; let it deliver the block now so
        // the agent's hook timeout cannot pass the word through on resume.
        if let Some(me) = self.ops.info(hook_pid) {
            let _ = self.ops.signal(me.key, Signal::Cont);
        }
        let paused = run
            .as_ref()
            .is_ok_and(|r| r.outcome.targets.iter().all(|t| t.report.success));
        if !paused {
            let why = match &run {
                Err(e) => e.message.clone(),
                Ok(_) => "the pause could not be verified".to_owned(),
            };
            self.audit
                .submit(stop_word_entry(AuditOutcome::Refused, &target, &word, &why));
            return self.hook(hook).await;
        }
        // A second "stop" to an agent already held by one: one alert is enough.
        let held = self
            .alerts
            .active()
            .into_iter()
            .find(|a| a.agent == agent.id && matches!(a.kind, AlertKind::StopWord { .. }));
        let alert = held.unwrap_or_else(|| {
            self.alerts.raise(
                AlertDraft {
                    kind: AlertKind::StopWord { word: word.clone() },
                    agent: agent.id.clone(),
                    display_name: agent.display_name.clone(),
                    project: agent.project.clone(),
                    message: stop_word_message(&agent, &word),
                    actions: vec![AlertAction::Resume, AlertAction::Stop],
                },
                unix_now_s(),
            )
        });
        let mut entry = stop_word_entry(AuditOutcome::Ok, &target, &word, "paused");
        entry.detail["alert"] = serde_json::json!(alert.id);
        self.audit.submit(entry);
        Response::Verdict {
            verdict: HookVerdict::Deny {
                message: format!(
                    "Reins paused this agent because you typed “{word}”; the message was not sent. \
                     Resume or stop it from the tray, your phone or `reins resume {target}`."
                ),
            },
        }
    }

    /// Run an alert's action on `agent` as `actor` (a notification button,
    /// the window): the same operation as `reins resume|stop|release`.
    pub(crate) async fn alert_action(
        &self,
        action: AlertAction,
        agent: &reins_core::AgentId,
        actor: Actor,
    ) -> Result<(), String> {
        let target = agent.to_string();
        let halted = |r: Result<crate::daemon::HaltRun, crate::ipc::IpcError>| match r {
            Ok(run) if run.outcome.success() => Ok(()),
            Ok(_) => Err("the outcome could not be verified for every process".to_owned()),
            Err(e) => Err(e.message),
        };
        match action {
            AlertAction::Resume => halted(
                self.halt_for(HaltOp::Resume, &target, false, actor, None)
                    .await,
            ),
            AlertAction::Stop => halted(
                self.halt_for(HaltOp::Stop, &target, false, actor, None)
                    .await,
            ),
            AlertAction::Release => self
                .release_for(&target, actor, None)
                .await
                .map(|r| self.clear_alerts_after_release(&r))
                .map_err(|e| e.message),
            AlertAction::StopSupervisor => self
                .stop_supervisor_for(&target, actor)
                .await
                .map(|o| self.clear_alerts_after(HaltOp::Stop, &o.targets))
                .map_err(|e| e.message),
        }
    }

    /// After a release, the alerts about the released agents and the resumed
    /// respawns are over. Called by every surface's release path, whatever
    /// `release_for` itself does.
    pub(crate) fn clear_alerts_after_release(&self, r: &crate::ipc::proto::ReleaseOutcome) {
        for id in r.released.iter().chain(&r.resumed) {
            self.alerts.clear_agent(id);
        }
    }

    /// After a verified resume or stop, the alerts about those agents are over.
    pub(crate) fn clear_alerts_after(&self, op: HaltOp, targets: &[TargetReport]) {
        if op == HaltOp::Pause {
            return;
        }
        for t in targets {
            if let Some(id) = &t.agent
                && t.report.success
            {
                self.alerts.clear_agent(id);
            }
        }
    }
}

fn unix_now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn stop_word_entry(outcome: AuditOutcome, target: &str, word: &str, why: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor::Daemon,
        action: AuditAction::AlertRaised,
        target: target.to_owned(),
        outcome,
        latency_us: None,
        detail: serde_json::json!({ "kind": "stop_word", "word": word, "reason": why }),
    }
}

/// Clear the alerts of agents that exit. Runs until shutdown.
pub(crate) async fn clear_on_exit<F, Fut>(
    mut registry: broadcast::Receiver<RegistryEvent>,
    alerts: Alerts,
    known: F,
    shutdown: CancellationToken,
) where
    F: Fn() -> Fut + Send,
    Fut: std::future::Future<Output = Vec<reins_core::AgentId>> + Send,
{
    loop {
        let ev = tokio::select! {
            _ = shutdown.cancelled() => return,
            ev = registry.recv() => ev,
        };
        match ev {
            Ok(RegistryEvent::Exited { id }) => {
                alerts.clear_agent(&id);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                // Missed exits: keep only the alerts whose agents still exist.
                let alive = known().await;
                for a in alerts.active() {
                    if !alive.contains(&a.agent) {
                        alerts.clear(a.id);
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{DaemonEvent, DaemonEvents};
    use reins_core::{AgentId, AgentKind, ProcessKey};

    fn id(pid: u32) -> AgentId {
        AgentId {
            kind: AgentKind::ClaudeCode,
            root: ProcessKey {
                pid,
                start_ticks: 1,
            },
        }
    }

    fn draft(pid: u32) -> AlertDraft {
        AlertDraft {
            kind: AlertKind::StopWord {
                word: "stop".into(),
            },
            agent: id(pid),
            display_name: "Claude Code".into(),
            project: Some("p".into()),
            message: "m".into(),
            actions: vec![AlertAction::Resume, AlertAction::Stop],
        }
    }

    #[tokio::test]
    async fn an_agent_that_exits_takes_its_alerts_with_it() {
        let events = DaemonEvents::new();
        let mut bus = events.subscribe();
        let alerts = Alerts::new(events);
        let (tx, rx) = broadcast::channel(4);
        let stop = CancellationToken::new();
        let task = tokio::spawn(clear_on_exit(
            rx,
            alerts.clone(),
            || async { Vec::new() },
            stop.clone(),
        ));
        let gone = alerts.raise(draft(1), 1);
        let stays = alerts.raise(draft(2), 1);
        tx.send(RegistryEvent::Exited { id: id(1) }).unwrap();
        loop {
            if let DaemonEvent::AlertCleared { id } = bus.recv().await.unwrap() {
                assert_eq!(id, gone.id);
                break;
            }
        }
        assert_eq!(alerts.active(), vec![stays]);
        stop.cancel();
        task.await.unwrap();
    }

    #[test]
    fn the_message_names_the_agent_project_and_the_word() {
        let rec = AgentRecord {
            id: id(5),
            kind: AgentKind::ClaudeCode,
            display_name: "Claude Code".into(),
            pid: 5,
            cwd: None,
            project: Some("my-project".into()),
            started_at: 0,
            cpu_percent: 0.0,
            memory_bytes: 0,
            descendants: 0,
            state: reins_core::AgentState::Running,
            supervisor: None,
            unattended: None,
        };
        assert_eq!(
            stop_word_message(&rec, "STOP"),
            "Stop word: claude · my-project paused; you typed “STOP”"
        );
    }
}
