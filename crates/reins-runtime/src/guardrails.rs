//! The daemon's side of the guardrail for unattended agents: a pre-tool
//! event the hook marked as a guardrail candidate (see
//! [`reins_approval::guardrails`]) is held as an approval request when its
//! session runs unattended, and denied at once when no surface could show it.
//!
//! The decision itself is the pure [`guardrails::decide`]; this module only
//! gathers its inputs (the agent's command-line flag from the registry, the
//! live surfaces), files the request with the approvals task, and audits the
//! outcome. It is not the ordinary prompt path (`daemon_approvals::ask`),
//! whose requests abstain when unanswered: these are denied.

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::daemon::Dispatcher;
use crate::daemon_approvals::WithdrawOnDrop;
use crate::ipc::proto::{HookReport, Response};
use reins_approval::guardrails::{self, GuardDecision, Guardrail};
use reins_approval::{ActionSpec, ApprovalRequest, HookVerdict, RiskLevel};
use reins_core::{Actor, AgentId, AgentRecord, ProcessKey};

/// Bounds on a guardrail request's time to answer, whatever the hook asks
/// (as for ordinary prompts: a person needs a second, and an hour-old
/// request has lost its context).
const TIMEOUT_BOUNDS_MS: (u64, u64) = (1_000, 3_600_000);

impl Dispatcher {
    /// Apply the guardrail to a hook report. `None` when it does not apply
    /// (not a candidate, or an attended session): the caller goes on as before.
    pub(crate) async fn guardrail(
        &self,
        hook: &HookReport,
        agent: Option<&AgentId>,
    ) -> Option<Response> {
        let ask = hook.guardrail.as_ref()?;
        let record = self.agent_record(&hook.ancestry).await;
        // The caller's lookup may predate a fresh scan made here.
        let agent = agent
            .cloned()
            .or_else(|| record.as_ref().map(|r| r.id.clone()));
        let agent = agent.as_ref();
        let command_line = record.and_then(|r| r.unattended);
        let input = &hook.input;
        let decision = guardrails::decide(
            input.agent,
            input.permission_mode.as_deref(),
            Some(ask),
            command_line.as_ref(),
            self.surfaces.any(),
        );
        let risk = hook.evaluation.as_ref().map_or(RiskLevel::High, |e| e.risk);
        let verdict = match decision {
            GuardDecision::Pass => return None,
            GuardDecision::DenyNow(verdict) => {
                self.audit_guardrail(hook, agent, None, "no_surface", &verdict, risk);
                verdict
            }
            GuardDecision::Hold(mark) => self.hold(hook, agent, mark, ask.timeout_ms, risk).await,
        };
        Some(Response::Verdict { verdict })
    }

    async fn hold(
        &self,
        hook: &HookReport,
        agent: Option<&AgentId>,
        mark: Guardrail,
        timeout_ms: u64,
        risk: RiskLevel,
    ) -> HookVerdict {
        let Some(spec) = ActionSpec::from_hook(&hook.input) else {
            return HookVerdict::Deny {
                message: "Reins denied this: the tool call named no tool to ask about.".into(),
            };
        };
        let ttl = timeout_ms.clamp(TIMEOUT_BOUNDS_MS.0, TIMEOUT_BOUNDS_MS.1);
        let mut request =
            ApprovalRequest::new(spec, agent.cloned(), risk, self.clock.now_ms(), ttl);
        let policy_reason = hook.evaluation.as_ref().map(|e| e.reason.clone());
        request.reason = Some(match policy_reason {
            Some(r) => format!("{} {r}", mark.notice()),
            None => mark.notice(),
        });
        request.guardrail = Some(mark.clone());
        let id = request.request_id;
        let mut guard = WithdrawOnDrop {
            dispatcher: self,
            id,
            armed: true,
        };
        let verdict = self.approvals.ask(request).await;
        guard.armed = false;
        let how = if verdict.is_allow() {
            "approved"
        } else {
            "denied_or_unanswered"
        };
        self.audit_guardrail(hook, agent, Some(&id.to_hex()), how, &verdict, risk);
        verdict
    }

    /// The hook's agent from the registry, which knows whether its command
    /// line makes it unattended (a fresh scan when it is not known yet: it
    /// may have started within the last scan interval).
    async fn agent_record(&self, ancestry: &[ProcessKey]) -> Option<AgentRecord> {
        let find = |agents: Vec<AgentRecord>| {
            ancestry
                .iter()
                .find_map(|k| agents.iter().find(|a| a.id.root == *k).cloned())
        };
        match find(self.registry.snapshot().await) {
            Some(r) => Some(r),
            None => find(self.registry.scan_now().await),
        }
    }

    fn audit_guardrail(
        &self,
        hook: &HookReport,
        agent: Option<&AgentId>,
        request_id: Option<&str>,
        how: &str,
        verdict: &HookVerdict,
        risk: RiskLevel,
    ) {
        let input = &hook.input;
        let outcome = if verdict.is_allow() {
            AuditOutcome::Ok
        } else {
            AuditOutcome::Refused
        };
        self.audit.submit(AuditEntry {
            actor: Actor::Daemon,
            action: AuditAction::ApprovalResolved,
            target: input.tool_name.clone().unwrap_or_default(),
            outcome,
            latency_us: None,
            detail: serde_json::json!({
                "decided_by": "guardrail", "outcome": how, "verdict": verdict,
                "request_id": request_id, "permission_mode": input.permission_mode,
                "why": hook.guardrail.as_ref().map(|g| g.why.to_string()), "risk": risk,
                "agent": agent.map(ToString::to_string), "session": input.session_id,
                "command": input.command, "cwd": input.cwd,
            }),
        });
    }
}
