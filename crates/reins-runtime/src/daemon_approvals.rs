//! The approval side of the daemon's IPC dispatcher: hook events, prompts
//! waiting for a person, the pending list and decisions.
//!
//! It maps a hook to its agent by the hook's process ancestry, refuses
//! decisions that come from inside any agent's process tree (an agent must
//! not approve itself) and withdraws a prompt whose hook went away. All
//! approval state lives in the approvals task; this is glue.
//!
//! A prompt nobody can see never holds an agent: with no live surface (see
//! [`crate::surfaces`]) `ask` abstains at once, and [`withdraw_unseen`]
//! withdraws the waiting prompts when the last surface goes away and none
//! comes back within [`SURFACE_GRACE`].

use crate::controller;
use crate::daemon::Dispatcher;
use crate::ipc::proto::{ErrorCode, HookReport, Response};
use reins_approval::broker::{ActionHash, ApprovalRequest, RequestId, WithdrawReason};
use reins_approval::{
    ActionSpec, Decision, HookEvent, HookVerdict, PolicyDecision, RejectReason, RiskLevel,
};
use reins_core::{Actor, AgentId, AgentRecord, ProcessKey};
use reins_os::PeerCred;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long waiting prompts outlive the last surface. A surface can vanish
/// for a moment and come back (the tray restarting, a phone switching from
/// Wi-Fi to mobile data): the prompts it was showing should survive that.
/// A surface gone for longer is gone, and its prompts stop holding agents;
/// the agent's own dialog then appears. New prompts do not wait for this:
/// while no surface is live they abstain at once.
pub(crate) const SURFACE_GRACE: Duration = Duration::from_secs(5);

/// The reason audited when a prompt abstains because no surface is live.
pub(crate) const NO_SURFACE: &str = "no surface could show the prompt";

/// Bounds on how long a prompt may wait, whatever the hook asks: at least a
/// second (a person cannot answer faster) and at most an hour (a prompt no
/// one answers for that long is stale).
const TIMEOUT_BOUNDS_MS: (u64, u64) = (1_000, 3_600_000);

/// Withdraws a pending request if the future waiting on it is dropped
/// (the hook's connection closed: Claude timed it out or the user answered).
pub(crate) struct WithdrawOnDrop<'a> {
    pub(crate) dispatcher: &'a Dispatcher,
    pub(crate) id: RequestId,
    pub(crate) armed: bool,
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
        if let Some(deny) = self.account_tool_call(&hook, agent.as_ref()).await {
            return Response::Verdict { verdict: deny };
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
        // An unattended session's risky pre-tool call waits for a person.
        if let Some(response) = self.guardrail(&hook, agent.as_ref()).await {
            return response;
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
        if let Some(deny) = self.account_tool_call(&hook, agent.as_ref()).await {
            return Response::Verdict { verdict: deny };
        }
        // Gemini's and Cursor's pre-tool gates come here: in an unattended
        // session a guardrail request replaces the ordinary prompt.
        if let Some(response) = self.guardrail(&hook, agent.as_ref()).await {
            return response;
        }
        let risk = hook
            .evaluation
            .as_ref()
            .map_or(RiskLevel::Medium, |e| e.risk);
        if !self.surfaces.any() {
            // Nobody would see it: let the agent's own dialog appear now
            // rather than after the timeout.
            self.audit.submit(crate::audit::AuditEntry {
                actor: Actor::Daemon,
                action: crate::audit::AuditAction::ApprovalResolved,
                target: hook.input.tool_name.clone().unwrap_or_default(),
                outcome: crate::audit::AuditOutcome::Info,
                latency_us: None,
                detail: serde_json::json!({
                    "decided_by": "daemon", "outcome": "abstained", "reason": NO_SURFACE,
                    "risk": risk, "agent": agent.as_ref().map(ToString::to_string),
                    "session": hook.input.session_id, "command": hook.input.command,
                    "cwd": hook.input.cwd,
                }),
            });
            return Response::Verdict {
                verdict: HookVerdict::Abstain,
            };
        }
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

    /// The guard that keeps a subscribing client's surface live, or `None`
    /// when the client runs inside an agent's process tree: what an agent
    /// displays is not shown to a person, so it must not make prompts wait.
    pub(crate) async fn surface_guard(
        &self,
        kind: crate::surfaces::SurfaceKind,
        peer: PeerCred,
    ) -> Option<crate::surfaces::SurfaceGuard> {
        let agents = self.registry.scan_now().await;
        if let Some(inside) = controller::agent_containing(peer.pid, &agents, &*self.ops) {
            tracing::warn!(
                peer.pid,
                "a {} subscribed from inside agent {inside}'s process tree; it does not count as a surface",
                kind.label()
            );
            return None;
        }
        Some(self.surfaces.attach(kind, format!("pid {}", peer.pid)))
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

/// Withdraw waiting prompts once no surface has been live for `grace`, and
/// while none is, every prompt that still slips in (one submitted just as
/// the last surface left). Their hooks abstain, so the agents' own dialogs
/// appear. Runs until shutdown.
pub(crate) async fn withdraw_unseen(
    surfaces: crate::surfaces::Surfaces,
    approvals: crate::approvals::ApprovalsHandle,
    grace: Duration,
    shutdown: CancellationToken,
) {
    let mut watch = surfaces.watch();
    let mut requests = approvals.subscribe();
    let gone = WithdrawReason::NoSurface;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            ok = until_live(&mut watch, false) => if !ok { return },
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(grace) => {}
            ok = until_live(&mut watch, true) => {
                if !ok { return }
                continue;
            }
        }
        requests = requests.resubscribe();
        approvals.withdraw_all(gone.clone()).await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                ok = until_live(&mut watch, true) => {
                    if !ok { return }
                    break;
                }
                ev = requests.recv() => match ev {
                    Ok(reins_approval::BrokerEvent::Requested { request }) => {
                        approvals.withdraw(request.request_id, gone.clone());
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        approvals.withdraw_all(gone.clone()).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}

/// Wait until some surface is live (`live`) or none is (`!live`); false if
/// the list is gone.
async fn until_live(
    watch: &mut tokio::sync::watch::Receiver<crate::surfaces::SurfacesSummary>,
    live: bool,
) -> bool {
    watch.wait_for(|s| s.any() == live).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approvals::ApprovalsHandle;
    use crate::audit::AuditLog;
    use crate::audit_writer::AuditHandle;
    use crate::clock::{Clock, MonotonicClock};
    use crate::surfaces::{SurfaceKind, Surfaces};
    use reins_approval::broker::Resolution;
    use reins_approval::{ActionSpec, BrokerConfig, BrokerEvent};
    use reins_core::AgentKind;
    use std::sync::Arc;
    use tokio_util::task::TaskTracker;

    struct World {
        _dir: tempfile::TempDir,
        approvals: ApprovalsHandle,
        surfaces: Surfaces,
        clock: Arc<MonotonicClock>,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(MonotonicClock::starting_at(1_000_000));
        let stop = CancellationToken::new();
        let audit = AuditHandle::spawn(AuditLog::new(dir.path().join("audit.jsonl")));
        let approvals = ApprovalsHandle::spawn(
            BrokerConfig::default(),
            clock.clone(),
            audit,
            stop.clone(),
            &TaskTracker::new(),
        );
        let surfaces = Surfaces::new();
        tokio::spawn(withdraw_unseen(
            surfaces.clone(),
            approvals.clone(),
            SURFACE_GRACE,
            stop,
        ));
        World {
            _dir: dir,
            approvals,
            surfaces,
            clock,
        }
    }

    fn request(w: &World, cmd: &str) -> ApprovalRequest {
        let spec = ActionSpec {
            kind: AgentKind::ClaudeCode,
            session_id: Some(cmd.into()),
            tool_name: "Bash".into(),
            tool_input: serde_json::json!({ "command": cmd }),
            command: Some(cmd.into()),
            cwd: None,
        };
        ApprovalRequest::new(spec, None, RiskLevel::Low, w.clock.now_ms(), 3_600_000)
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_surface_that_comes_back_within_the_grace_keeps_the_prompt() {
        let w = world();
        let tray = w.surfaces.attach(SurfaceKind::Tray, "pid 1".into());
        let ask = tokio::spawn({
            let (a, r) = (w.approvals.clone(), request(&w, "ls"));
            async move { a.ask(r).await }
        });
        settle().await;
        drop(tray);
        tokio::time::sleep(SURFACE_GRACE / 2).await;
        let _back = w.surfaces.attach(SurfaceKind::Tray, "pid 2".into());
        tokio::time::sleep(SURFACE_GRACE * 2).await;
        assert!(!ask.is_finished(), "the prompt still waits");
        assert_eq!(w.approvals.pending().await.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn when_the_last_surface_stays_away_waiting_prompts_abstain() {
        let w = world();
        let mut events = w.approvals.subscribe();
        let phone = w.surfaces.attach(SurfaceKind::Phone, "Pixel".into());
        let ask = tokio::spawn({
            let (a, r) = (w.approvals.clone(), request(&w, "ls"));
            async move { a.ask(r).await }
        });
        settle().await;
        drop(phone);
        tokio::time::sleep(SURFACE_GRACE + std::time::Duration::from_millis(10)).await;
        assert_eq!(ask.await.unwrap(), HookVerdict::Abstain);
        // Skip the Requested event; the resolution says why.
        let resolution = loop {
            if let BrokerEvent::Resolved { resolution, .. } = events.recv().await.unwrap() {
                break resolution;
            }
        };
        assert!(matches!(
            resolution,
            Resolution::Withdrawn {
                reason: WithdrawReason::NoSurface,
                ..
            }
        ));
        // One that slips in while none is live is withdrawn as it arrives.
        let late = w.approvals.ask(request(&w, "pwd")).await;
        assert_eq!(late, HookVerdict::Abstain);
    }
}
