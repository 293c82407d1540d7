//! Alerts on the phone link: the daemon's [`reins_core::Alert`] as the
//! `alert` body (a projection, like `agent_summary`), and the phone's
//! `release` / `stop_supervisor` commands, run through the same
//! `Dispatcher` methods as `reins release` and answered with a
//! `command_ack`.
//!
//! Not here: when alerts are sent (the bridge: after the snapshot on every
//! resync, each new one, each clear) or raised (their producers).

use crate::audit_health::AuditProblem;
use crate::daemon::{Dispatcher, HaltRun};
use crate::ipc::proto::{ErrorCode, IpcError};
use crate::phone_wire::command_ack;
use reins_core::{Actor, AgentId, Alert, AlertAction, AlertId, AlertKind};
use reins_link::DeviceId;
use reins_proto::payload as p;
use tokio::time::Instant;

/// The `alert` body for `a`.
pub(crate) fn alert_body(a: &Alert) -> p::Alert {
    p::Alert {
        alert_id: a.id.0,
        reason: match &a.kind {
            AlertKind::RespawnHeld {
                stopped,
                supervisor,
            } => p::AlertReason::RespawnHeld {
                stopped: stopped.to_string(),
                supervisor: supervisor.to_string(),
            },
            AlertKind::Tripwire {
                rule,
                count,
                window_s,
            } => p::AlertReason::Tripwire {
                rule: rule.clone(),
                count: *count,
                window_s: *window_s,
            },
            AlertKind::StopWord { word } => p::AlertReason::StopWord { word: word.clone() },
        },
        agent_id: a.agent.to_string(),
        display_name: a.display_name.clone(),
        project: a.project.clone(),
        message: a.message.clone(),
        actions: a
            .actions
            .iter()
            .map(|x| match x {
                AlertAction::Resume => p::AlertActionWire::Resume,
                AlertAction::Stop => p::AlertActionWire::Stop,
                AlertAction::Release => p::AlertActionWire::Release,
                AlertAction::StopSupervisor => p::AlertActionWire::StopSupervisor,
            })
            .collect(),
        raised_at: a.raised_at,
    }
}

/// The `alert` body for the audit log's problem: no agent, no actions, the
/// problem's line as the message. A phone that does not know the
/// `audit_failing` reason still shows the message.
pub(crate) fn audit_alert_body(id: AlertId, problem: &AuditProblem) -> p::Alert {
    p::Alert {
        alert_id: id.0,
        reason: p::AlertReason::AuditFailing {
            lost: problem.lost,
            since_ms: problem.since_ms,
            error: problem.error.clone(),
        },
        agent_id: String::new(),
        display_name: "Reins".into(),
        project: None,
        message: problem.message(),
        actions: Vec::new(),
        raised_at: problem.since_ms / 1000,
    }
}

/// Runs a phone's `release` or `stop_supervisor` (on one agent; `all` is
/// refused: a phone releases one latch at a time) and says how it went.
pub(crate) async fn latch_command(
    d: &Dispatcher,
    device: DeviceId,
    cmd: &p::Command,
    msg_id: [u8; 16],
    received: Instant,
) -> p::CommandAck {
    let actor = Actor::Phone {
        device_id: device.to_string(),
    };
    let target = match &cmd.target {
        p::Target::Agent(id) => {
            id.parse::<AgentId>()
                .map(|a| a.to_string())
                .map_err(|e| IpcError {
                    code: ErrorCode::NoSuchAgent,
                    message: e.to_string(),
                    agents: Vec::new(),
                })
        }
        p::Target::All => Err(IpcError {
            code: ErrorCode::BadRequest,
            message: "release and stop_supervisor name one agent".into(),
            agents: Vec::new(),
        }),
    };
    let started = Instant::now();
    match (cmd.op, target) {
        (_, Err(e)) => command_ack(cmd, msg_id, received, Err(e)),
        (p::CommandOp::StopSupervisor, Ok(t)) => {
            let result = d.stop_supervisor_for(&t, actor).await.map(|outcome| {
                d.clear_alerts_after(reins_core::HaltOp::Stop, &outcome.targets);
                HaltRun { outcome, started }
            });
            command_ack(cmd, msg_id, received, result)
        }
        (_, Ok(t)) => {
            let result = d.release_for(&t, actor, None).await;
            let mut ack = command_ack(cmd, msg_id, received, Err(placeholder()));
            match result {
                Ok(r) => {
                    d.clear_alerts_after_release(&r);
                    ack.outcome = p::AckOutcome::Done;
                    ack.processes = u32::try_from(r.resumed.len()).unwrap_or(u32::MAX);
                    ack.detail = None;
                }
                Err(e) => return command_ack(cmd, msg_id, received, Err(e)),
            }
            ack
        }
    }
}

/// An empty ack to fill in (a release has no halt report).
fn placeholder() -> IpcError {
    IpcError {
        code: ErrorCode::Internal,
        message: String::new(),
        agents: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_core::{AgentKind, AlertId, ProcessKey};

    #[test]
    fn an_alert_is_projected_with_string_ids_and_wire_actions() {
        let a = Alert {
            id: AlertId(4),
            kind: AlertKind::StopWord {
                word: "STOP".into(),
            },
            agent: AgentId {
                kind: AgentKind::ClaudeCode,
                root: ProcessKey {
                    pid: 10,
                    start_ticks: 20,
                },
            },
            display_name: "Claude Code".into(),
            project: Some("<b>x</b>".into()),
            message: "Stop word: claude · <b>x</b> paused; you typed “STOP”".into(),
            actions: vec![AlertAction::Resume, AlertAction::Stop],
            raised_at: 99,
        };
        let body = alert_body(&a);
        assert_eq!(body.alert_id, 4);
        assert_eq!(body.agent_id, "claude-10-20");
        assert_eq!(body.message, a.message, "text is passed on as is");
        assert_eq!(
            body.actions,
            vec![p::AlertActionWire::Resume, p::AlertActionWire::Stop]
        );
        assert_eq!(
            body.reason,
            p::AlertReason::StopWord {
                word: "STOP".into()
            }
        );
    }
}
