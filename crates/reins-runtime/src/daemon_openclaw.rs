//! The soft stop of an OpenClaw agent: "stop this run" through the gateway
//! (`sessions.abort` with queued turns cleared, for every session with an
//! active run), for a person who wants to keep the gateway and its chat
//! channels up. It asks OpenClaw to stop; it does not make it. The hard
//! stop (freeze, kill, supervisor) stays what Stop and Stop all do.
//!
//! Not here: the link itself (reins-openclaw) or approvals (`openclaw.rs`).

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::controller;
use crate::daemon::Dispatcher;
use crate::ipc::proto::{ErrorCode, IpcError};
use reins_core::{Actor, AgentKind};
use reins_openclaw::AbortOutcome;
use reins_os::PeerCred;
use serde::{Deserialize, Serialize};

/// One session's answer to the abort.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortedRun {
    /// OpenClaw's session key.
    pub session_key: String,
    /// What the gateway said, or why it could not be asked.
    pub outcome: Result<AbortOutcome, String>,
}

/// The answer to a soft stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftStopOutcome {
    /// The OpenClaw agent concerned.
    pub target: String,
    /// One entry per session that had an active run (none: nothing was running).
    pub runs: Vec<AbortedRun>,
}

fn err(code: ErrorCode, message: String) -> IpcError {
    IpcError {
        code,
        message,
        agents: Vec::new(),
    }
}

impl Dispatcher {
    /// Abort the active runs of the OpenClaw agent `target` (an agent id, a
    /// pid, or `all` for every OpenClaw agent).
    pub(crate) async fn soft_stop(
        &self,
        target: &str,
        peer: PeerCred,
    ) -> Result<SoftStopOutcome, IpcError> {
        let actor = Actor::Cli {
            pid: peer.pid,
            uid: peer.uid,
        };
        let agents = self.registry.scan_now().await;
        if let Some(inside) = controller::agent_containing(peer.pid, &agents, &*self.ops) {
            let why = format!("soft stop sent from inside agent {inside}'s own process tree");
            self.audit
                .submit(controller::refused_entry(&actor, target, &why));
            return Err(err(ErrorCode::Refused, why));
        }
        let resolved = controller::resolve(target, &agents, false, &*self.ops)
            .map_err(|e| err(ErrorCode::NoSuchAgent, e.to_string()))?;
        let any_openclaw = resolved.iter().any(|r| {
            r.agent
                .as_ref()
                .is_some_and(|a| a.kind == AgentKind::OpenClaw)
        });
        if !any_openclaw {
            return Err(err(
                ErrorCode::BadRequest,
                format!(
                    "{target} is not an OpenClaw agent: only OpenClaw has runs to abort; use `reins stop {target}`"
                ),
            ));
        }
        let Some(link) = self.openclaw.link() else {
            let why =
                self.openclaw.status().problem.unwrap_or_else(|| {
                    "the OpenClaw link is off ([openclaw] enabled = false)".into()
                });
            return Err(err(
                ErrorCode::LinkUnavailable,
                format!(
                    "cannot reach OpenClaw's gateway: {why}. `reins stop {target}` stops it the hard way"
                ),
            ));
        };
        let sessions = link.active_sessions().await.map_err(|e| {
            err(
                ErrorCode::LinkUnavailable,
                format!("{e}. `reins stop {target}` stops it the hard way"),
            )
        })?;
        let mut runs = Vec::new();
        for key in sessions {
            let outcome = link.abort_session(&key).await.map_err(|e| e.to_string());
            runs.push(AbortedRun {
                session_key: key,
                outcome,
            });
        }
        let failed = runs.iter().any(|r| r.outcome.is_err());
        self.audit.submit(AuditEntry {
            actor,
            action: AuditAction::Stop,
            target: target.to_owned(),
            outcome: if failed {
                AuditOutcome::Partial
            } else {
                AuditOutcome::Ok
            },
            latency_us: None,
            detail: serde_json::json!({ "method": "openclaw_sessions_abort", "runs": runs }),
        });
        Ok(SoftStopOutcome {
            target: target.to_owned(),
            runs,
        })
    }
}
