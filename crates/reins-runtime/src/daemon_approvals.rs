//! The approval side of the daemon's IPC dispatcher: hook events, prompts
//! waiting for a person, the pending list and decisions.
//!
//! It maps a hook to its agent by the hook's process ancestry, refuses
//! decisions that come from inside any agent's process tree (an agent must
//! not approve itself) and withdraws a prompt whose hook went away. All
//! approval state lives in the approvals task; this is glue.

use crate::controller;
use crate::daemon::Dispatcher;
use crate::ipc::proto::{ErrorCode, HookReport, Response};
use reins_approval::broker::{ActionHash, ApprovalRequest, RequestId, WithdrawReason};
use reins_approval::{
    ActionSpec, Decision, HookEvent, HookVerdict, PolicyDecision, RejectReason, RiskLevel,
};
use reins_core::{Actor, AgentId, AgentRecord, ProcessKey};
use reins_os::PeerCred;

/// Bounds on how long a prompt may wait, whatever the hook asks: at least a
/// second (a person cannot answer faster) and at most an hour (a prompt no
/// one answers for that long is stale).
const TIMEOUT_BOUNDS_MS: (u64, u64) = (1_000, 3_600_000);

/// Withdraws a pending request if the future waiting on it is dropped
/// (the hook's connection closed: Claude timed it out or the user answered).
struct WithdrawOnDrop<'a> {
    dispatcher: &'a Dispatcher,
    id: RequestId,
    armed: bool,
}

impl Drop for WithdrawOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.dispatcher
                .approvals
                .withdraw(self.id, WithdrawReason::HookGone);
        }
    }
}

fn agent_of(ancestry: &[ProcessKey], agents: &[AgentRecord]) -> Option<AgentId> {
    ancestry.iter().find_map(|k| {
        agents
            .iter()
            .find(|a| a.id.root == *k)
            .map(|a| a.id.clone())
    })
}

impl Dispatcher {
    async fn hook_agent(&self, ancestry: &[ProcessKey], fresh_if_unknown: bool) -> Option<AgentId> {
        let found = agent_of(ancestry, &self.registry.snapshot().await);
        if found.is_none() && fresh_if_unknown {
            return agent_of(ancestry, &self.registry.scan_now().await);
        }
        found
    }

    /// A hook event that needs no person.
    pub(crate) async fn hook(&self, hook: HookReport) -> Response {
        let input = &hook.input;
        // A new session is worth a fresh scan: its agent may have started since
        // the last one, and the session must be tied to it for stop requests.
        let fresh = input.event == HookEvent::SessionStart;
        let agent = self.hook_agent(&hook.ancestry, fresh).await;
        if let Some(session) = input.session_id.clone() {
            let ended = input.event == HookEvent::SessionEnd;
            self.approvals
                .session_event(session, agent.clone(), ended)
                .await;
        }
        if let Some(eval) = &hook.evaluation
            && eval.decision != PolicyDecision::Ask
        {
            self.audit.submit(crate::audit::AuditEntry {
                actor: Actor::Daemon,
                action: crate::audit::AuditAction::ApprovalResolved,
                target: input.tool_name.clone().unwrap_or_default(),
                outcome: if eval.decision == PolicyDecision::Allow {
                    crate::audit::AuditOutcome::Ok
                } else {
                    crate::audit::AuditOutcome::Refused
                },
                latency_us: None,
                detail: serde_json::json!({
                    "decided_by": "policy", "rule": eval.rule.to_string(), "reason": eval.reason,
                    "agent": agent.as_ref().map(ToString::to_string), "session": input.session_id,
                    "command": input.command, "cwd": input.cwd,
                }),
            });
        }
        if input.event.is_tool_event()
            && let Some(stopped) = self
                .approvals
                .stop_requested(hook.ancestry.clone(), input.session_id.clone())
                .await
        {
            let reason = format!("Reins: a stop was requested for {stopped}");
            return Response::Verdict {
                verdict: HookVerdict::StopAgent { reason },
            };
        }
        Response::Verdict {
            verdict: HookVerdict::Abstain,
        }
    }

    /// A prompt for a person: waits until it is decided, expires or is withdrawn.
    pub(crate) async fn ask(&self, hook: HookReport) -> Response {
        let agent = self.hook_agent(&hook.ancestry, true).await;
        let Some(spec) = ActionSpec::from_hook(&hook.input) else {
            return Response::Verdict {
                verdict: HookVerdict::Abstain,
            };
        };
        if let Some(session) = hook.input.session_id.clone() {
            // A new prompt in this session means earlier ones were answered elsewhere.
            self.approvals
                .session_event(session, agent.clone(), false)
                .await;
        }
        if let Some(stopped) = self
            .approvals
            .stop_requested(hook.ancestry.clone(), hook.input.session_id.clone())
            .await
        {
            let message = format!("Reins: a stop was requested for {stopped}");
            return Response::Verdict {
                verdict: HookVerdict::Deny { message },
            };
        }
        let risk = hook
            .evaluation
            .as_ref()
            .map_or(RiskLevel::Medium, |e| e.risk);
        let ttl = hook
            .timeout_ms
            .clamp(TIMEOUT_BOUNDS_MS.0, TIMEOUT_BOUNDS_MS.1);
        let mut request = ApprovalRequest::new(spec, agent, risk, self.clock.now_ms(), ttl);
        request.reason = hook.evaluation.as_ref().map(|e| e.reason.clone());
        let mut guard = WithdrawOnDrop {
            dispatcher: self,
            id: request.request_id,
            armed: true,
        };
        let verdict = self.approvals.ask(request).await;
        guard.armed = false;
        Response::Verdict { verdict }
    }

    /// A decision from a person over IPC.
    pub(crate) async fn decide(
        &self,
        id: RequestId,
        hash: ActionHash,
        decision: Decision,
        peer: PeerCred,
    ) -> Response {
        let actor = Actor::Cli {
            pid: peer.pid,
            uid: peer.uid,
        };
        let agents = self.registry.scan_now().await;
        if let Some(inside) = controller::agent_containing(peer.pid, &agents, &*self.ops) {
            let why =
                format!("approval decision sent from inside agent {inside}'s own process tree");
            self.audit
                .submit(controller::refused_entry(&actor, &id.to_hex(), &why));
            return Response::error(
                ErrorCode::Refused,
                format!(
                    "{why}; an agent may not answer its own prompts. Answer from your own terminal, the tray or your phone"
                ),
            );
        }
        match self.approvals.decide(id, hash, decision, actor).await {
            Ok(()) => Response::Decided { request_id: id },
            Err(RejectReason::UnknownRequest) => Response::error(
                ErrorCode::NoSuchRequest,
                RejectReason::UnknownRequest.to_string(),
            ),
            Err(r) => Response::error(ErrorCode::Rejected, r.to_string()),
        }
    }
}
