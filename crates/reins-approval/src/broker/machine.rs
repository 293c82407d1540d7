//! The transitions of [`Broker`]. Every public entry point expires what is
//! due first, so a late answer is refused even if no `Tick` ran in between.

use reins_core::Actor;

use super::{
    Action, ApprovalRequest, AuditOutcome, AuditRecord, Broker, BrokerConfig, BrokerEvent,
    Decision, Entry, GrantKey, Input, RejectReason, RequestId, RequestState, Resolution,
    WithdrawReason, WithdrawTarget,
};
use crate::guardrails::Unanswered;
use crate::hooks::HookVerdict;
use crate::policy::TimeoutOutcome;

impl Broker {
    /// A broker with these settings.
    pub fn new(config: BrokerConfig) -> Self {
        Broker {
            config,
            ..Broker::default()
        }
    }

    /// The settings.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// Pending requests, oldest first (collapsed duplicates not listed).
    pub fn pending(&self) -> Vec<&ApprovalRequest> {
        let mut v: Vec<_> = self.pending.values().map(|e| &e.request).collect();
        v.sort_by_key(|r| (r.created_at, r.request_id));
        v
    }

    /// The state of a request, if it is known (pending, collapsed into a
    /// pending one, or remembered as resolved).
    pub fn state(&self, id: RequestId) -> Option<RequestState> {
        let primary = self.followers.get(&id).copied().unwrap_or(id);
        if self.pending.contains_key(&primary) {
            return Some(RequestState::Pending);
        }
        self.resolved.get(&id).cloned().map(RequestState::Resolved)
    }

    /// The earliest `expires_at` among pending requests: when to send `Tick`.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending.values().map(|e| e.request.expires_at).min()
    }

    /// Feed one input at time `now_ms`; returns what to do.
    pub fn handle(&mut self, input: Input, now_ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        self.expire_due(now_ms, &mut out);
        match input {
            Input::Submit { request } => self.submit(request, now_ms, &mut out),
            Input::Decide {
                request_id,
                action_hash,
                decision,
                by,
            } => self.decide(request_id, action_hash, decision, by, now_ms, &mut out),
            Input::Withdraw {
                target: WithdrawTarget::Request(id),
                reason,
            } => {
                let primary = self.followers.get(&id).copied().unwrap_or(id);
                if self.pending.contains_key(&primary) {
                    self.resolve(
                        primary,
                        Resolution::Withdrawn { reason, at: now_ms },
                        None,
                        &mut out,
                    );
                }
            }
            Input::Withdraw {
                target: WithdrawTarget::Session(s),
                reason,
            } => self.withdraw_session(&s, reason, now_ms, &mut out),
            Input::SessionActivity { session_id } => self.withdraw_session(
                &session_id,
                WithdrawReason::SessionMovedOn,
                now_ms,
                &mut out,
            ),
            Input::SessionEnded { session_id } => {
                self.withdraw_session(&session_id, WithdrawReason::SessionEnded, now_ms, &mut out);
                self.grants.retain(|k, _| k.session != session_id);
            }
            Input::Tick => {}
        }
        out
    }

    fn submit(&mut self, request: ApprovalRequest, now: u64, out: &mut Vec<Action>) {
        let id = request.request_id;
        if self.pending.contains_key(&id)
            || self.followers.contains_key(&id)
            || self.resolved.contains_key(&id)
        {
            self.reject(
                id,
                None,
                RejectReason::DuplicateRequest,
                Some(&request),
                now,
                out,
            );
            return;
        }
        if !request.is_consistent() {
            self.reject(
                id,
                None,
                RejectReason::InconsistentRequest,
                Some(&request),
                now,
                out,
            );
            let verdict = unanswered(&request, Unanswered::Invalid, HookVerdict::Abstain);
            out.push(Action::Reply {
                request_id: id,
                verdict,
            });
            return;
        }
        if let Some(by) = self
            .grant_for(&request)
            .filter(|_| request.gateway.is_none())
        {
            let resolution = Resolution::SessionGrant {
                by: by.clone(),
                at: now,
            };
            self.finish(
                &request,
                vec![id],
                resolution,
                HookVerdict::Allow,
                Some(by),
                now,
                out,
            );
            return;
        }
        if request.expires_at <= now {
            let resolution = Resolution::Expired {
                outcome: self.timeout_outcome(&request),
                at: now,
            };
            let verdict = self.expired_verdict(&request);
            self.finish(&request, vec![id], resolution, verdict, None, now, out);
            return;
        }
        let twin = self.pending.iter().find(|(_, e)| {
            request.gateway.is_none()
                && e.request.gateway.is_none()
                && e.request.action_hash == request.action_hash
                && e.request.session_id == request.session_id
        });
        if let Some((&primary, _)) = twin {
            self.followers.insert(id, primary);
            if let Some(e) = self.pending.get_mut(&primary) {
                e.followers.push(id);
            }
            out.push(Action::Audit(audit(
                &request,
                now,
                AuditOutcome::Collapsed { into: primary },
                None,
            )));
            return;
        }
        let same_session = self
            .pending
            .values()
            .filter(|e| e.request.session_id == request.session_id)
            .count();
        if same_session >= self.config.max_pending_per_session
            || self.pending.len() >= self.config.max_pending_total
        {
            let resolution = Resolution::RateLimited { at: now };
            let verdict = unanswered(&request, Unanswered::RateLimited, HookVerdict::Abstain);
            self.finish(&request, vec![id], resolution, verdict, None, now, out);
            return;
        }
        out.push(Action::Broadcast(BrokerEvent::Requested {
            request: request.clone(),
        }));
        out.push(Action::Audit(audit(
            &request,
            now,
            AuditOutcome::Requested,
            None,
        )));
        self.pending.insert(
            id,
            Entry {
                request,
                followers: vec![],
            },
        );
    }

    fn decide(
        &mut self,
        id: RequestId,
        hash: super::ActionHash,
        decision: Decision,
        by: Actor,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        let primary = self.followers.get(&id).copied().unwrap_or(id);
        let Some(entry) = self.pending.get(&primary) else {
            let reason = match self.resolved.get(&id) {
                Some(Resolution::Expired { .. }) => RejectReason::Expired,
                Some(r) => RejectReason::AlreadyResolved {
                    resolution: r.clone(),
                },
                None => RejectReason::UnknownRequest,
            };
            self.reject(id, Some(by), reason, None, now, out);
            return;
        };
        if entry.request.action_hash != hash {
            let req = entry.request.clone();
            self.reject(
                id,
                Some(by),
                RejectReason::HashMismatch,
                Some(&req),
                now,
                out,
            );
            return;
        }
        let gateway = entry.request.gateway.is_some();
        if (decision.is_allow() || gateway) && by == Actor::Daemon {
            let req = entry.request.clone();
            self.reject(id, Some(by), RejectReason::NotAPerson, Some(&req), now, out);
            return;
        }
        if gateway && decision == Decision::AllowForSession {
            let req = entry.request.clone();
            let reason = RejectReason::SessionAllowNotOffered;
            self.reject(id, Some(by), reason, Some(&req), now, out);
            return;
        }
        if decision == Decision::AllowForSession {
            if let Some(session) = entry.request.session_id.clone() {
                let key = grant_key(session, &entry.request);
                self.grants.insert(key, by.clone());
            }
        }
        let resolution = Resolution::Decided {
            decision,
            by: by.clone(),
            at: now,
        };
        self.resolve(primary, resolution, Some(by), out);
    }

    fn withdraw_session(
        &mut self,
        session: &str,
        reason: WithdrawReason,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        // A guardrail request is not answered in the agent's terminal (the
        // agent asks nobody), so the session moving on does not withdraw it.
        let moved_on = reason == WithdrawReason::SessionMovedOn;
        let ids: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, e)| e.request.session_id.as_deref() == Some(session))
            .filter(|(_, e)| !(moved_on && e.request.guardrail.is_some()))
            // Nor an OpenClaw approval: its end comes from the gateway.
            .filter(|(_, e)| !(moved_on && e.request.gateway.is_some()))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.resolve(
                id,
                Resolution::Withdrawn {
                    reason: reason.clone(),
                    at: now,
                },
                None,
                out,
            );
        }
    }

    fn expire_due(&mut self, now: u64, out: &mut Vec<Action>) {
        let due: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, e)| e.request.expires_at <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let resolution = Resolution::Expired {
                outcome: self.timeout_outcome(&self.pending[&id].request),
                at: now,
            };
            self.resolve(id, resolution, None, out);
        }
    }

    /// What a timeout of `r` becomes, for the record: a guardrail request
    /// is always denied.
    /// An OpenClaw approval always abstains: its own timeout and
    /// `askFallback` decide.
    fn timeout_outcome(&self, r: &ApprovalRequest) -> TimeoutOutcome {
        match (&r.gateway, &r.guardrail) {
            (Some(_), _) => TimeoutOutcome::Abstain,
            (None, Some(_)) => TimeoutOutcome::Deny,
            (None, None) => self.config.on_timeout,
        }
    }

    /// The reply for a request nobody answered in time.
    fn expired_verdict(&self, r: &ApprovalRequest) -> HookVerdict {
        if r.gateway.is_some() {
            return HookVerdict::Abstain;
        }
        unanswered(r, Unanswered::Timeout, self.timeout_verdict())
    }

    fn timeout_verdict(&self) -> HookVerdict {
        match self.config.on_timeout {
            TimeoutOutcome::Abstain => HookVerdict::Abstain,
            TimeoutOutcome::Deny => HookVerdict::Deny {
                message: "No one answered in time, so Reins denied this (on_timeout = \"deny\")."
                    .into(),
            },
        }
    }

    /// Resolve a pending request and everything collapsed into it.
    fn resolve(
        &mut self,
        primary: RequestId,
        resolution: Resolution,
        by: Option<Actor>,
        out: &mut Vec<Action>,
    ) {
        let Some(entry) = self.pending.remove(&primary) else {
            return;
        };
        let verdict = match &resolution {
            Resolution::Decided {
                decision: Decision::Allow,
                ..
            } => HookVerdict::Allow,
            Resolution::Decided {
                decision: Decision::AllowForSession,
                ..
            } => HookVerdict::allow_for_session(
                &entry.request.tool_name,
                entry.request.command.as_deref(),
            ),
            Resolution::Decided {
                decision: Decision::Deny { message },
                by,
                ..
            } => HookVerdict::Deny {
                message: message
                    .clone()
                    .unwrap_or_else(|| format!("Denied through Reins by {by}.")),
            },
            Resolution::Expired { .. } => self.expired_verdict(&entry.request),
            Resolution::Withdrawn {
                reason: WithdrawReason::NoSurface,
                ..
            } => unanswered(&entry.request, Unanswered::NoSurface, HookVerdict::Abstain),
            Resolution::Withdrawn { reason, .. } => unanswered(
                &entry.request,
                Unanswered::Withdrawn(reason.clone()),
                HookVerdict::Abstain,
            ),
            Resolution::RateLimited { .. } => unanswered(
                &entry.request,
                Unanswered::RateLimited,
                HookVerdict::Abstain,
            ),
            // Never reached: grants are answered at submit time.
            Resolution::SessionGrant { .. } => HookVerdict::Abstain,
        };
        for f in &entry.followers {
            self.followers.remove(f);
        }
        let mut ids = vec![primary];
        ids.extend(entry.followers);
        let at = resolution_time(&resolution);
        out.push(Action::Broadcast(BrokerEvent::Resolved {
            request_id: primary,
            resolution: resolution.clone(),
        }));
        self.finish(&entry.request, ids, resolution, verdict, by, at, out);
    }

    /// Reply to every waiting hook, audit, and remember the resolution.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        request: &ApprovalRequest,
        ids: Vec<RequestId>,
        resolution: Resolution,
        verdict: HookVerdict,
        by: Option<Actor>,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        for id in ids {
            out.push(Action::Reply {
                request_id: id,
                verdict: verdict.clone(),
            });
            let mut rec = audit(
                request,
                now,
                AuditOutcome::Resolved {
                    resolution: resolution.clone(),
                },
                by.clone(),
            );
            rec.request_id = id;
            out.push(Action::Audit(rec));
            self.remember(id, resolution.clone());
        }
    }

    fn remember(&mut self, id: RequestId, resolution: Resolution) {
        self.resolved.insert(id, resolution);
        self.resolved_order.push_back(id);
        while self.resolved_order.len() > self.config.resolved_history.max(1) {
            if let Some(old) = self.resolved_order.pop_front() {
                self.resolved.remove(&old);
            }
        }
    }

    fn reject(
        &mut self,
        id: RequestId,
        by: Option<Actor>,
        reason: RejectReason,
        request: Option<&ApprovalRequest>,
        now: u64,
        out: &mut Vec<Action>,
    ) {
        let outcome = AuditOutcome::Rejected {
            reason: reason.clone(),
        };
        let rec = match request {
            Some(r) => AuditRecord {
                request_id: id,
                ..audit(r, now, outcome, by.clone())
            },
            None => AuditRecord {
                at: now,
                request_id: id,
                session_id: None,
                tool_name: None,
                action_hash: None,
                outcome,
                by: by.clone(),
            },
        };
        out.push(Action::Reject {
            request_id: id,
            by,
            reason,
        });
        out.push(Action::Audit(rec));
    }

    fn grant_for(&self, r: &ApprovalRequest) -> Option<Actor> {
        let key = grant_key(r.session_id.clone()?, r);
        self.grants.get(&key).cloned()
    }
}

/// The grant a request would use. It mirrors what Claude's own session rule
/// covers: the exact command for shell tools, the whole tool otherwise.
/// A command that cannot be a session rule (see
/// [`HookVerdict::allow_for_session`]) gets a key only the identical action shares.
fn grant_key(session: String, r: &ApprovalRequest) -> GrantKey {
    let rule_content = match HookVerdict::allow_for_session(&r.tool_name, r.command.as_deref()) {
        HookVerdict::AllowForSession { rule_content, .. } => rule_content,
        _ => Some(format!("\0once:{}", r.action_hash)),
    };
    GrantKey {
        session,
        tool: r.tool_name.clone(),
        rule_content,
    }
}

/// The verdict for a request no person answered: a guardrail request's own
/// (never allow, never abstain), otherwise `ordinary`.
fn unanswered(r: &ApprovalRequest, why: Unanswered, ordinary: HookVerdict) -> HookVerdict {
    match &r.guardrail {
        Some(g) => g.unanswered(why),
        None => ordinary,
    }
}

fn resolution_time(r: &Resolution) -> u64 {
    match r {
        Resolution::Decided { at, .. }
        | Resolution::SessionGrant { at, .. }
        | Resolution::Expired { at, .. }
        | Resolution::Withdrawn { at, .. }
        | Resolution::RateLimited { at } => *at,
    }
}

fn audit(r: &ApprovalRequest, now: u64, outcome: AuditOutcome, by: Option<Actor>) -> AuditRecord {
    AuditRecord {
        at: now,
        request_id: r.request_id,
        session_id: r.session_id.clone(),
        tool_name: Some(r.tool_name.clone()),
        action_hash: Some(r.action_hash),
        outcome,
        by,
    }
}
