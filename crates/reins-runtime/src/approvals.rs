//! The approvals task: the one owner of the approval broker, of the hooks
//! waiting for an answer, of the session → agent map and of the agents a
//! stop was requested for.
//!
//! It feeds the pure [`reins_approval::Broker`] with inputs and carries out
//! the actions it returns: replies go to the waiting hook's oneshot,
//! broadcasts to subscribers (CLI now, tray and phone later), audit records
//! to the audit writer. Expiry runs on a timer set to the broker's next
//! deadline. Callers hold a cloneable [`ApprovalsHandle`]. It never decides
//! anything itself: every allow comes from a person's decision through the
//! broker, and when this task is gone every waiting hook sees its channel
//! close and abstains.

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::audit_writer::AuditHandle;
use crate::clock::Clock;
use reins_approval::broker::{self as b, ActionHash, ApprovalRequest, RequestId};
use reins_approval::{Broker, BrokerConfig, BrokerEvent, Decision, HookVerdict, RejectReason};
use reins_core::{Actor, AgentId, ProcessKey};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How many broker events a slow subscriber may fall behind by.
const EVENT_BUFFER: usize = 256;

/// How many sessions we remember the agent of. Sessions are cheap; this only
/// bounds memory against a flood of made-up session ids.
const MAX_SESSIONS: usize = 4096;

enum Cmd {
    Ask(ApprovalRequest, oneshot::Sender<HookVerdict>),
    Decide(
        RequestId,
        ActionHash,
        Decision,
        Actor,
        oneshot::Sender<Result<(), RejectReason>>,
    ),
    Withdraw(RequestId, b::WithdrawReason),
    WithdrawAll(b::WithdrawReason),
    Session {
        session_id: String,
        agent: Option<AgentId>,
        ended: bool,
    },
    List(oneshot::Sender<Vec<ApprovalRequest>>),
    State(RequestId, oneshot::Sender<Option<b::RequestState>>),
    RequestStop(Vec<AgentId>),
    StopRequested {
        ancestry: Vec<ProcessKey>,
        session_id: Option<String>,
        reply: oneshot::Sender<Option<AgentId>>,
    },
}

/// A cloneable handle on the approvals task.
#[derive(Clone, Debug)]
pub struct ApprovalsHandle {
    tx: mpsc::Sender<Cmd>,
    events: broadcast::Sender<BrokerEvent>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("approvals::Cmd")
    }
}

impl ApprovalsHandle {
    /// Start the task.
    pub fn spawn(
        config: BrokerConfig,
        clock: Arc<dyn Clock>,
        audit: AuditHandle,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> ApprovalsHandle {
        let (tx, rx) = mpsc::channel(256);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let task = Task {
            broker: Broker::new(config),
            clock,
            audit,
            events: events.clone(),
            waiting: HashMap::new(),
            created: HashMap::new(),
            sessions: HashMap::new(),
            stop_requested: HashSet::new(),
        };
        tracker.spawn(task.run(rx, shutdown));
        ApprovalsHandle { tx, events }
    }

    /// Submit a request and wait for the verdict for its hook. If the task is
    /// gone, the answer is abstain: never allow.
    pub async fn ask(&self, request: ApprovalRequest) -> HookVerdict {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Ask(request, tx)).await.is_err() {
            return HookVerdict::Abstain;
        }
        rx.await.unwrap_or(HookVerdict::Abstain)
    }

    /// A person's decision.
    pub async fn decide(
        &self,
        id: RequestId,
        hash: ActionHash,
        decision: Decision,
        by: Actor,
    ) -> Result<(), RejectReason> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::Decide(id, hash, decision, by, tx)).await;
        rx.await.unwrap_or(Err(RejectReason::UnknownRequest))
    }

    /// Withdraw one request (its hook went away). Never blocks: used from drop guards.
    pub fn withdraw(&self, id: RequestId, reason: b::WithdrawReason) {
        let _ = self.tx.try_send(Cmd::Withdraw(id, reason));
    }

    /// Withdraw one request, waiting for room in the task's queue (for
    /// callers that must not lose the withdrawal, unlike drop guards).
    pub async fn withdraw_surely(&self, id: RequestId, reason: b::WithdrawReason) {
        let _ = self.tx.send(Cmd::Withdraw(id, reason)).await;
    }

    /// Withdraw every pending request (no surface can show them).
    pub async fn withdraw_all(&self, reason: b::WithdrawReason) {
        let _ = self.tx.send(Cmd::WithdrawAll(reason)).await;
    }

    /// Another hook event arrived for a session (or it ended).
    pub async fn session_event(&self, session_id: String, agent: Option<AgentId>, ended: bool) {
        let _ = self
            .tx
            .send(Cmd::Session {
                session_id,
                agent,
                ended,
            })
            .await;
    }

    /// The pending requests.
    pub async fn pending(&self) -> Vec<ApprovalRequest> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::List(tx)).await;
        rx.await.unwrap_or_default()
    }

    /// The state of one request (pending, or how it was resolved), if the
    /// broker still remembers it.
    pub async fn state(&self, id: RequestId) -> Option<b::RequestState> {
        let (tx, rx) = oneshot::channel();
        let _ = self.tx.send(Cmd::State(id, tx)).await;
        rx.await.ok().flatten()
    }

    /// Remember that a stop was requested for these agents: their hooks get
    /// a cooperative stop on top of the signals.
    pub async fn request_stop(&self, agents: Vec<AgentId>) {
        let _ = self.tx.send(Cmd::RequestStop(agents)).await;
    }

    /// Was a stop requested for the agent this hook runs under (by ancestry
    /// or by session)?
    pub async fn stop_requested(
        &self,
        ancestry: Vec<ProcessKey>,
        session_id: Option<String>,
    ) -> Option<AgentId> {
        let (reply, rx) = oneshot::channel();
        let _ = self
            .tx
            .send(Cmd::StopRequested {
                ancestry,
                session_id,
                reply,
            })
            .await;
        rx.await.ok().flatten()
    }

    /// Subscribe to requested/resolved events.
    pub fn subscribe(&self) -> broadcast::Receiver<BrokerEvent> {
        self.events.subscribe()
    }
}

struct Task {
    broker: Broker,
    clock: Arc<dyn Clock>,
    audit: AuditHandle,
    events: broadcast::Sender<BrokerEvent>,
    waiting: HashMap<RequestId, oneshot::Sender<HookVerdict>>,
    /// created_at and the policy reason of live and recent requests, for audit latency.
    created: HashMap<RequestId, (u64, Option<String>)>,
    sessions: HashMap<String, AgentId>,
    stop_requested: HashSet<AgentId>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>, shutdown: CancellationToken) {
        loop {
            let deadline = self
                .broker
                .next_deadline()
                .map(|ms| self.clock.instant_at(ms));
            let timer = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd),
                    None => break,
                },
                _ = timer => {
                    self.input(b::Input::Tick);
                }
            }
        }
        // Waiting hooks see their channels close and abstain.
        self.withdraw_all(b::WithdrawReason::Shutdown);
    }

    fn withdraw_all(&mut self, reason: b::WithdrawReason) {
        let ids: Vec<RequestId> = self.broker.pending().iter().map(|r| r.request_id).collect();
        for id in ids {
            self.input(b::Input::Withdraw {
                target: b::WithdrawTarget::Request(id),
                reason: reason.clone(),
            });
        }
    }

    fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Ask(request, reply) => {
                let id = request.request_id;
                self.created
                    .insert(id, (request.created_at, request.reason.clone()));
                self.waiting.insert(id, reply);
                self.input(b::Input::Submit { request });
            }
            Cmd::Decide(request_id, action_hash, decision, by, reply) => {
                let actions = self.input(b::Input::Decide {
                    request_id,
                    action_hash,
                    decision,
                    by,
                });
                let rejected = actions.into_iter().find_map(|a| match a {
                    b::Action::Reject {
                        request_id: r,
                        reason,
                        ..
                    } if r == request_id => Some(reason),
                    _ => None,
                });
                let _ = reply.send(rejected.map_or(Ok(()), Err));
            }
            Cmd::Withdraw(id, reason) => {
                self.input(b::Input::Withdraw {
                    target: b::WithdrawTarget::Request(id),
                    reason,
                });
            }
            Cmd::WithdrawAll(reason) => self.withdraw_all(reason),
            Cmd::Session {
                session_id,
                agent,
                ended,
            } => {
                if let Some(agent) = agent
                    && (self.sessions.len() < MAX_SESSIONS
                        || self.sessions.contains_key(&session_id))
                {
                    self.sessions.insert(session_id.clone(), agent);
                }
                if ended {
                    self.sessions.remove(&session_id);
                    self.input(b::Input::SessionEnded { session_id });
                } else {
                    self.input(b::Input::SessionActivity { session_id });
                }
            }
            Cmd::List(reply) => {
                let _ = reply.send(self.broker.pending().into_iter().cloned().collect());
            }
            Cmd::State(id, reply) => {
                let _ = reply.send(self.broker.state(id));
            }
            Cmd::RequestStop(agents) => self.stop_requested.extend(agents),
            Cmd::StopRequested {
                ancestry,
                session_id,
                reply,
            } => {
                let by_tree = self
                    .stop_requested
                    .iter()
                    .find(|a| ancestry.contains(&a.root))
                    .cloned();
                let by_session = session_id
                    .and_then(|s| self.sessions.get(&s).cloned())
                    .filter(|a| self.stop_requested.contains(a));
                let _ = reply.send(by_tree.or(by_session));
            }
        }
    }

    /// Feed one input to the broker and carry out its actions; returns them
    /// for callers that need to look at rejections.
    fn input(&mut self, input: b::Input) -> Vec<b::Action> {
        let actions = self.broker.handle(input, self.clock.now_ms());
        for a in &actions {
            match a {
                b::Action::Broadcast(ev) => {
                    let _ = self.events.send(ev.clone());
                }
                b::Action::Reply {
                    request_id,
                    verdict,
                } => {
                    if let Some(tx) = self.waiting.remove(request_id) {
                        let _ = tx.send(verdict.clone());
                    }
                }
                b::Action::Reject { .. } => {}
                b::Action::Audit(rec) => self.audit.submit(self.audit_entry(rec)),
            }
        }
        if self.created.len() > 2 * BrokerConfig::default().resolved_history {
            let live: HashSet<RequestId> =
                self.broker.pending().iter().map(|r| r.request_id).collect();
            self.created.retain(|id, _| live.contains(id));
        }
        actions
    }

    fn audit_entry(&self, rec: &b::AuditRecord) -> AuditEntry {
        let (created_at, rule) = self
            .created
            .get(&rec.request_id)
            .cloned()
            .unwrap_or((rec.at, None));
        let (action, outcome) = match &rec.outcome {
            b::AuditOutcome::Requested | b::AuditOutcome::Collapsed { .. } => {
                (AuditAction::ApprovalRequested, AuditOutcome::Info)
            }
            b::AuditOutcome::Resolved { resolution } => (
                AuditAction::ApprovalResolved,
                resolution_outcome(resolution),
            ),
            b::AuditOutcome::Rejected { .. } => (AuditAction::Refused, AuditOutcome::Refused),
        };
        let latency_us = matches!(action, AuditAction::ApprovalResolved)
            .then(|| rec.at.saturating_sub(created_at) * 1000);
        AuditEntry {
            actor: rec.by.clone().unwrap_or(Actor::Daemon),
            action,
            target: rec.request_id.to_hex(),
            outcome,
            latency_us,
            detail: serde_json::json!({ "record": rec, "policy": rule }),
        }
    }
}

fn resolution_outcome(r: &b::Resolution) -> AuditOutcome {
    match r {
        b::Resolution::Decided { decision, .. } if decision.is_allow() => AuditOutcome::Ok,
        b::Resolution::SessionGrant { .. } => AuditOutcome::Ok,
        b::Resolution::Decided { .. } => AuditOutcome::Refused,
        _ => AuditOutcome::Info,
    }
}

#[cfg(test)]
#[path = "approvals_tests.rs"]
mod tests;
