//! What desktop notifications show and what a click on one means: a pure
//! state machine. [`NotifyState::handle`] takes one [`Input`] (a broker
//! event, a verified halt, a click the notifier verified, the server coming
//! or going) and returns the [`Action`]s to perform; the notifier task
//! (`notifier.rs`) performs them. No bus, no clock, no I/O here.
//!
//! Rules:
//! - A new approval request raises a notification: the agent, the command
//!   (shortened for display only, ending in "…") and the cwd, with
//!   **Approve** and **Deny**, plus the default action (a click on the body)
//!   that opens the window at the request. The body is escaped when the
//!   server interprets markup.
//! - A **high-risk** request is never approved from a notification: its
//!   button is **Review…**, which opens the window; Deny still works.
//! - A server without the `actions` capability gets no buttons (a click
//!   opens the window) and is not an approval surface.
//! - A resolved, expired or withdrawn request closes its notification.
//! - A verified stop raises its result; a failed or partial stop says so,
//!   critically. A successful pause or resume raises nothing (the surface
//!   that asked shows it, and the tray icon shows paused agents); a failed
//!   one is said as a failed stop is.
//! - Approve and Deny become a decision by [`Actor::Notification`] with the
//!   request's own action hash; the broker still checks everything.
//! - An alert (Reins froze an agent on its own) raises a critical notice
//!   with its actions as buttons, closed when the alert clears
//!   (`notify_alerts`).

use crate::ipc::proto::{HaltOutcome, OpenView};
pub use crate::notify_text::{approval_notice, halt_notice};
pub use alerts::alert_notice;
use reins_core::{AgentId, Alert, AlertAction, AlertId};

#[path = "notify_alerts.rs"]
mod alerts;
use reins_approval::BrokerEvent;
use reins_approval::Decision;
use reins_approval::broker::{ActionHash, ApprovalRequest, RequestId, RiskLevel};
use reins_core::Actor;
use reins_notify::{DEFAULT_ACTION, NoteId, Notice, NoticeAction, ServerInfo, Urgency};
use std::collections::HashMap;

/// The action keys Reins puts on notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoteKey {
    /// A click on the body.
    Default,
    /// Approve this request.
    Approve,
    /// Deny this request.
    Deny,
    /// Open the window at a high-risk request.
    Review,
    /// Resume an alert's agent.
    AlertResume,
    /// Stop an alert's agent.
    AlertStop,
    /// Release an alert's stop latch.
    AlertRelease,
    /// Stop an alert's supervisor.
    AlertStopSupervisor,
}

impl NoteKey {
    /// The key on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKey::Default => DEFAULT_ACTION,
            NoteKey::Approve => "approve",
            NoteKey::Deny => "deny",
            NoteKey::Review => "review",
            NoteKey::AlertResume => "alert-resume",
            NoteKey::AlertStop => "alert-stop",
            NoteKey::AlertRelease => "alert-release",
            NoteKey::AlertStopSupervisor => "alert-stop-supervisor",
        }
    }

    /// The key a server sent back; `None` for anything Reins never sent.
    pub fn parse(key: &str) -> Option<NoteKey> {
        [
            NoteKey::Default,
            NoteKey::Approve,
            NoteKey::Deny,
            NoteKey::Review,
            NoteKey::AlertResume,
            NoteKey::AlertStop,
            NoteKey::AlertRelease,
            NoteKey::AlertStopSupervisor,
        ]
        .into_iter()
        .find(|k| k.as_str() == key)
    }

    pub(crate) fn action(self, label: &str) -> NoticeAction {
        NoticeAction {
            key: self.as_str().to_owned(),
            label: label.to_owned(),
        }
    }
}

/// What a notification is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// An approval request.
    Approval(RequestId),
    /// A halt's result (a click opens the agents list).
    Halt,
    /// Telling the person where to answer when the window cannot open.
    Fallback,
    /// An alert.
    Alert(AlertId),
}

/// One input.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A server answered the probe.
    ServerUp(ServerInfo),
    /// No server (or no bus), and why, for `reins status`.
    ServerDown(String),
    /// The approvals broker said something.
    Broker(BrokerEvent),
    /// A halt finished and was verified.
    Halted {
        /// Who asked.
        actor: Actor,
        /// What happened.
        outcome: HaltOutcome,
    },
    /// A raise asked for by [`Action::Raise`] got this id.
    Raised {
        /// What it was for.
        purpose: Purpose,
        /// The server's id.
        id: NoteId,
    },
    /// The notification server (verified sender) says a button was clicked.
    Clicked {
        /// Which notification.
        id: NoteId,
        /// Which key.
        key: String,
    },
    /// The notification server (verified sender) closed a notification.
    Closed(NoteId),
    /// [`Action::Open`] found no window to open and could not start one.
    OpenFailed(OpenView),
    /// The broker's pending list, after events were missed: notes of
    /// requests no longer pending close, new requests are raised.
    Resync(Vec<ApprovalRequest>),
    /// Reins raised an alert.
    Alert(Alert),
    /// An alert is over.
    AlertCleared(AlertId),
}

/// One action for the notifier task.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Show this; report the id with [`Input::Raised`].
    Raise {
        /// What for.
        purpose: Purpose,
        /// What.
        notice: Notice,
    },
    /// Take it down.
    Close(NoteId),
    /// Decide as [`Actor::Notification`].
    Decide {
        /// Which request.
        request_id: RequestId,
        /// Its own hash.
        action_hash: ActionHash,
        /// The answer.
        decision: Decision,
    },
    /// Ask the window to open here (and start the tray if nothing shows it).
    Open(OpenView),
    /// Act on an alert as [`Actor::Notification`] (the same sender checks
    /// as a decision apply).
    AlertAct {
        /// Which alert.
        alert: AlertId,
        /// Its agent.
        agent: AgentId,
        /// What to do.
        action: AlertAction,
    },
    /// Notifications are (`Some(detail)`) or are not an approval surface;
    /// `note` says why not.
    Surface {
        /// "dunst 1.9.0" when live.
        live: Option<String>,
        /// Why not, for `reins status`.
        note: Option<String>,
    },
}

#[derive(Debug)]
struct Pending {
    action_hash: ActionHash,
    high_risk: bool,
    request: ApprovalRequest,
    note: Option<NoteId>,
}

/// The notifier's state.
#[derive(Debug, Default)]
pub struct NotifyState {
    server: Option<ServerInfo>,
    pending: HashMap<RequestId, Pending>,
    notes: HashMap<NoteId, Purpose>,
    alerts: HashMap<AlertId, (Alert, Option<NoteId>)>,
}

impl NotifyState {
    /// No server known yet, nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one input; returns what to do.
    pub fn handle(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::ServerUp(info) => self.server_up(info),
            Input::ServerDown(why) => {
                self.server = None;
                self.notes.clear();
                for p in self.pending.values_mut() {
                    p.note = None;
                }
                for (_, note) in self.alerts.values_mut() {
                    *note = None;
                }
                vec![Action::Surface {
                    live: None,
                    note: Some(format!("desktop notifications: {why}")),
                }]
            }
            Input::Broker(BrokerEvent::Requested { request }) => {
                let id = request.request_id;
                if self.pending.contains_key(&id) {
                    return Vec::new();
                }
                self.pending.insert(
                    id,
                    Pending {
                        action_hash: request.action_hash,
                        high_risk: request.risk == RiskLevel::High,
                        request,
                        note: None,
                    },
                );
                self.raise_request(id).into_iter().collect()
            }
            Input::Broker(BrokerEvent::Resolved { request_id, .. }) => {
                match self.pending.remove(&request_id).and_then(|p| p.note) {
                    Some(note) => {
                        self.notes.remove(&note);
                        vec![Action::Close(note)]
                    }
                    None => Vec::new(),
                }
            }
            Input::Halted { actor, outcome } => self.halted(&actor, &outcome).into_iter().collect(),
            Input::Raised { purpose, id } => self.raised(purpose, id),
            Input::Clicked { id, key } => self.clicked(id, &key),
            Input::Closed(id) => {
                match self.notes.remove(&id) {
                    Some(Purpose::Approval(rid)) => {
                        if let Some(p) = self.pending.get_mut(&rid) {
                            // Dismissed: the request stays pending elsewhere; it is
                            // not raised again.
                            p.note = None;
                        }
                    }
                    Some(Purpose::Alert(aid)) => self.alert_dismissed(aid),
                    _ => {}
                }
                Vec::new()
            }
            Input::Alert(alert) => self.alert_raised(alert),
            Input::AlertCleared(id) => self.alert_cleared(id),
            Input::OpenFailed(view) => self.fallback(&view).into_iter().collect(),
            Input::Resync(pending) => {
                let live: std::collections::HashSet<RequestId> =
                    pending.iter().map(|r| r.request_id).collect();
                let gone: Vec<RequestId> = self
                    .pending
                    .keys()
                    .filter(|id| !live.contains(id))
                    .copied()
                    .collect();
                let mut out = Vec::new();
                for id in gone {
                    if let Some(note) = self.pending.remove(&id).and_then(|p| p.note) {
                        self.notes.remove(&note);
                        out.push(Action::Close(note));
                    }
                }
                for request in pending {
                    out.extend(self.handle(Input::Broker(BrokerEvent::Requested { request })));
                }
                out
            }
        }
    }

    /// Every notification still shown (to take down on shutdown).
    pub fn shown(&self) -> Vec<NoteId> {
        self.notes.keys().copied().collect()
    }

    /// The PID of the server's process, if a server is up.
    pub fn server_pid(&self) -> Option<u32> {
        self.server.as_ref().and_then(|s| s.pid)
    }

    fn server_up(&mut self, info: ServerInfo) -> Vec<Action> {
        let surface = if info.has_actions() {
            Action::Surface {
                live: Some(info.label()),
                note: None,
            }
        } else {
            Action::Surface {
                live: None,
                note: Some(format!(
                    "desktop notifications: {} shows no buttons (no `actions` capability), so approvals cannot be answered there; a click opens the window",
                    info.label()
                )),
            }
        };
        self.server = Some(info);
        let mut out = vec![surface];
        let mut unshown: Vec<(u64, RequestId)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.note.is_none())
            .map(|(id, p)| (p.request.created_at, *id))
            .collect();
        unshown.sort();
        out.extend(
            unshown
                .into_iter()
                .filter_map(|(_, id)| self.raise_request(id)),
        );
        out.extend(self.unshown_alerts());
        out
    }

    fn raise_request(&self, id: RequestId) -> Option<Action> {
        let server = self.server.as_ref()?;
        let p = self.pending.get(&id)?;
        Some(Action::Raise {
            purpose: Purpose::Approval(id),
            notice: approval_notice(&p.request, server),
        })
    }

    fn raised(&mut self, purpose: Purpose, id: NoteId) -> Vec<Action> {
        if let Purpose::Approval(rid) = purpose {
            match self.pending.get_mut(&rid) {
                Some(p) => p.note = Some(id),
                // Resolved while it was being raised: take it down again.
                None => return vec![Action::Close(id)],
            }
        }
        if let Purpose::Alert(aid) = purpose
            && !self.alert_note(aid, id)
        {
            // Cleared while it was being raised.
            return vec![Action::Close(id)];
        }
        self.notes.insert(id, purpose);
        Vec::new()
    }

    fn clicked(&mut self, id: NoteId, key: &str) -> Vec<Action> {
        let Some(purpose) = self.notes.get(&id).copied() else {
            return Vec::new();
        };
        let Some(key) = NoteKey::parse(key) else {
            return Vec::new();
        };
        let rid = match purpose {
            Purpose::Approval(rid) => rid,
            Purpose::Halt => return vec![Action::Open(OpenView::Agents)],
            Purpose::Fallback => return Vec::new(),
            Purpose::Alert(aid) => return self.alert_clicked(aid, key),
        };
        let Some(p) = self.pending.get(&rid) else {
            return Vec::new();
        };
        let buttons = self.server.as_ref().is_some_and(|s| s.has_actions());
        let open = Action::Open(OpenView::Approval { request_id: rid });
        match key {
            NoteKey::Default | NoteKey::Review => vec![open],
            // Never approvable from a notification: open the window instead.
            NoteKey::Approve if p.high_risk || !buttons => vec![open],
            NoteKey::Approve => vec![Action::Decide {
                request_id: rid,
                action_hash: p.action_hash,
                decision: Decision::Allow,
            }],
            NoteKey::Deny if !buttons => vec![open],
            NoteKey::Deny => vec![Action::Decide {
                request_id: rid,
                action_hash: p.action_hash,
                decision: Decision::Deny { message: None },
            }],
            // An alert's key on an approval's notice: nothing Reins sent.
            NoteKey::AlertResume
            | NoteKey::AlertStop
            | NoteKey::AlertRelease
            | NoteKey::AlertStopSupervisor => Vec::new(),
        }
    }

    fn halted(&self, actor: &Actor, outcome: &HaltOutcome) -> Option<Action> {
        self.server.as_ref()?;
        let notice = halt_notice(actor, outcome)?;
        Some(Action::Raise {
            purpose: Purpose::Halt,
            notice,
        })
    }

    fn fallback(&self, view: &OpenView) -> Option<Action> {
        self.server.as_ref()?;
        let what = match view {
            OpenView::Approval { .. } => "answer this request",
            OpenView::Agents => "see your agents",
        };
        Some(Action::Raise {
            purpose: Purpose::Fallback,
            notice: Notice {
                summary: "Reins could not open its window".into(),
                body: format!(
                    "To {what}, run `reins approvals --watch` in a terminal, or open the Reins app on your phone."
                ),
                urgency: Urgency::Normal,
                category: Some("x-reins.info".into()),
                ..Notice::default()
            },
        })
    }
}

#[cfg(test)]
#[path = "notify_state_tests.rs"]
mod tests;
