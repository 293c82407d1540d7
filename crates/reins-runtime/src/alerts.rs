//! The active alerts (see `reins_core::alert`): raised by the stop latch,
//! tripwires and stop words, shown on every surface, cleared when the person
//! acts on them or their agent goes away.
//!
//! A cloneable handle over a small shared list; raising publishes
//! [`DaemonEvent::Alert`] and clearing [`DaemonEvent::AlertCleared`] on the
//! daemon's bus, which every surface already listens to. It decides nothing:
//! producers build the alert's kind, message and actions.

use crate::audit_health::AuditProblem;
use crate::events::{DaemonEvent, DaemonEvents};
use reins_core::{AgentId, Alert, AlertAction, AlertId, AlertKind};
use std::sync::{Arc, Mutex};

/// What a producer fills in; the store adds the id and the time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertDraft {
    /// Why.
    pub kind: AlertKind,
    /// The agent concerned.
    pub agent: AgentId,
    /// Its human name.
    pub display_name: String,
    /// Its project, if known.
    pub project: Option<String>,
    /// One line for a person.
    pub message: String,
    /// What the person may do.
    pub actions: Vec<AlertAction>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    active: Vec<Alert>,
    /// The audit log's problem, if any, with the alert number phones see it
    /// under (from the same counter, so it never collides with an alert).
    audit: Option<(AlertId, AuditProblem)>,
}

/// Cloneable handle to the active alerts.
#[derive(Clone, Debug)]
pub struct Alerts {
    inner: Arc<Mutex<Inner>>,
    events: DaemonEvents,
}

impl Alerts {
    /// An empty list publishing on `events`.
    pub fn new(events: DaemonEvents) -> Self {
        Self {
            inner: Arc::default(),
            events,
        }
    }

    /// Raise an alert at unix time `now_s`; returns it as published.
    pub fn raise(&self, draft: AlertDraft, now_s: u64) -> Alert {
        let alert = {
            let mut inner = self.inner.lock().expect("alerts lock");
            inner.next += 1;
            let alert = Alert {
                id: AlertId(inner.next),
                kind: draft.kind,
                agent: draft.agent,
                display_name: draft.display_name,
                project: draft.project,
                message: draft.message,
                actions: draft.actions,
                raised_at: now_s,
            };
            inner.active.push(alert.clone());
            alert
        };
        self.events.publish(DaemonEvent::Alert(alert.clone()));
        alert
    }

    /// Clear one alert; false if it was not active.
    pub fn clear(&self, id: AlertId) -> bool {
        let removed = {
            let mut inner = self.inner.lock().expect("alerts lock");
            let before = inner.active.len();
            inner.active.retain(|a| a.id != id);
            before != inner.active.len()
        };
        if removed {
            self.events.publish(DaemonEvent::AlertCleared { id });
        }
        removed
    }

    /// Clear every alert about `agent` (it was resumed, stopped, released or
    /// exited); returns how many.
    pub fn clear_agent(&self, agent: &AgentId) -> usize {
        let ids: Vec<AlertId> = {
            let inner = self.inner.lock().expect("alerts lock");
            inner
                .active
                .iter()
                .filter(|a| &a.agent == agent)
                .map(|a| a.id)
                .collect()
        };
        ids.into_iter().filter(|id| self.clear(*id)).count()
    }

    /// The active alerts, oldest first.
    pub fn active(&self) -> Vec<Alert> {
        self.inner.lock().expect("alerts lock").active.clone()
    }

    /// Set the audit log's problem (`None`: it can be written). A new
    /// problem gets a fresh alert number; a change keeps it; each change is
    /// published as [`DaemonEvent::Audit`]. Not an agent alert: it has no
    /// agent, no actions, and clears only when the log can be written.
    pub fn set_audit(&self, problem: Option<AuditProblem>) {
        let event = {
            let mut inner = self.inner.lock().expect("alerts lock");
            match (inner.audit.take(), problem) {
                (None, None) => None,
                (Some((id, old)), Some(p)) if old == p => {
                    inner.audit = Some((id, old));
                    None
                }
                (Some((id, _)), Some(p)) => {
                    inner.audit = Some((id, p.clone()));
                    Some((id, Some(p)))
                }
                (None, Some(p)) => {
                    inner.next += 1;
                    let id = AlertId(inner.next);
                    inner.audit = Some((id, p.clone()));
                    Some((id, Some(p)))
                }
                (Some((id, _)), None) => Some((id, None)),
            }
        };
        if let Some((id, problem)) = event {
            self.events.publish(DaemonEvent::Audit { id, problem });
        }
    }

    /// The audit log's problem and its alert number, if it cannot be written.
    pub fn audit(&self) -> Option<(AlertId, AuditProblem)> {
        self.inner.lock().expect("alerts lock").audit.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_core::{AgentKind, ProcessKey};

    fn draft(pid: u32) -> AlertDraft {
        AlertDraft {
            kind: AlertKind::StopWord {
                word: "stop".into(),
            },
            agent: AgentId {
                kind: AgentKind::ClaudeCode,
                root: ProcessKey {
                    pid,
                    start_ticks: 1,
                },
            },
            display_name: "Claude Code".into(),
            project: None,
            message: "paused".into(),
            actions: vec![AlertAction::Resume, AlertAction::Stop],
        }
    }

    #[test]
    fn raising_and_clearing_an_alert_is_published_on_the_bus() {
        let events = DaemonEvents::new();
        let mut rx = events.subscribe();
        let alerts = Alerts::new(events);
        let a = alerts.raise(draft(5), 100);
        assert_eq!(a.id, AlertId(1));
        assert!(matches!(rx.try_recv().unwrap(), DaemonEvent::Alert(x) if x == a));
        assert_eq!(alerts.clear_agent(&a.agent), 1);
        assert!(matches!(rx.try_recv().unwrap(), DaemonEvent::AlertCleared { id } if id == a.id));
        assert!(alerts.active().is_empty());
        assert!(!alerts.clear(a.id));
    }

    fn problem(lost: u64) -> AuditProblem {
        AuditProblem {
            path: "/mnt/small/reins/audit.jsonl".into(),
            error: "No space left on device (os error 28)".into(),
            since_ms: 1_000,
            lost,
            free_bytes: Some(0),
        }
    }

    #[test]
    fn an_audit_problem_keeps_one_number_while_it_lasts_and_a_new_one_gets_another() {
        let events = DaemonEvents::new();
        let mut rx = events.subscribe();
        let alerts = Alerts::new(events);
        let first = alerts.raise(draft(1), 5).id;
        alerts.set_audit(Some(problem(1)));
        alerts.set_audit(Some(problem(1)));
        alerts.set_audit(Some(problem(2)));
        let (id, p) = alerts.audit().unwrap();
        assert!(id > first, "a number of its own");
        assert_eq!(p.lost, 2);
        alerts.set_audit(None);
        assert_eq!(alerts.audit(), None);
        alerts.set_audit(Some(problem(1)));
        let again = alerts.audit().unwrap().0;
        assert!(again > id);
        let mut seen = Vec::new();
        while let Ok(ev) = rx.try_recv() {
            if let DaemonEvent::Audit { id, problem } = ev {
                seen.push((id, problem.map(|p| p.lost)));
            }
        }
        // Unchanged problems are not published again.
        assert_eq!(
            seen,
            [(id, Some(1)), (id, Some(2)), (id, None), (again, Some(1))]
        );
        assert_eq!(alerts.active().len(), 1, "not an agent alert");
    }
}
