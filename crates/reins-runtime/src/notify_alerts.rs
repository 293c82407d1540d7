//! Alerts as desktop notifications, part of the [`NotifyState`] machine
//! (a child module, so it shares its state): an alert raises a critical,
//! resident notification with one button per action the alert offers
//! (where the server shows buttons), a click on one becomes
//! [`Action::AlertAct`], and the notification closes when the alert clears.
//!
//! Rules: a key the alert did not offer does nothing; with no `actions`
//! capability a click opens the window at the agents list; the message is
//! escaped when the server reads markup (it can hold agent-supplied text).

use super::{Action, NoteKey, NotifyState, Purpose};
use crate::ipc::proto::OpenView;
use reins_core::{Alert, AlertAction, AlertId};
use reins_notify::{NoteId, Notice, ServerInfo, Urgency};

/// The key for an alert action's button.
pub(crate) fn key_of(a: AlertAction) -> NoteKey {
    match a {
        AlertAction::Resume => NoteKey::AlertResume,
        AlertAction::Stop => NoteKey::AlertStop,
        AlertAction::Release => NoteKey::AlertRelease,
        AlertAction::StopSupervisor => NoteKey::AlertStopSupervisor,
    }
}

fn label(a: AlertAction) -> &'static str {
    match a {
        AlertAction::Resume => "Resume",
        AlertAction::Stop => "Stop",
        AlertAction::Release => "Release",
        AlertAction::StopSupervisor => "Stop supervisor",
    }
}

/// The notification for an alert.
pub fn alert_notice(a: &Alert, server: &ServerInfo) -> Notice {
    let who = match &a.project {
        Some(p) => format!("{} · {p}", a.display_name),
        None => a.display_name.clone(),
    };
    let mut body = format!("{}\nAgent: {who}", a.message);
    if server.has_body_markup() {
        body = reins_notify::escape_markup(&body);
    }
    let mut actions = vec![NoteKey::Default.action("Open Reins")];
    if server.has_actions() {
        actions.extend(a.actions.iter().map(|x| key_of(*x).action(label(*x))));
    }
    Notice {
        summary: "Reins paused an agent".into(),
        body,
        actions,
        urgency: Urgency::Critical,
        resident: true,
        category: Some("x-reins.alert".into()),
        persistent: true,
    }
}

impl NotifyState {
    pub(super) fn alert_raised(&mut self, alert: Alert) -> Vec<Action> {
        let id = alert.id;
        if self.alerts.contains_key(&id) {
            return Vec::new();
        }
        self.alerts.insert(id, (alert, None));
        self.raise_alert(id).into_iter().collect()
    }

    pub(super) fn alert_cleared(&mut self, id: AlertId) -> Vec<Action> {
        match self.alerts.remove(&id).and_then(|(_, note)| note) {
            Some(note) => {
                self.notes.remove(&note);
                vec![Action::Close(note)]
            }
            None => Vec::new(),
        }
    }

    pub(super) fn raise_alert(&self, id: AlertId) -> Option<Action> {
        let server = self.server.as_ref()?;
        let (alert, _) = self.alerts.get(&id)?;
        Some(Action::Raise {
            purpose: Purpose::Alert(id),
            notice: alert_notice(alert, server),
        })
    }

    /// Alerts with no notification on screen, oldest first (a server came up).
    pub(super) fn unshown_alerts(&self) -> Vec<Action> {
        let mut ids: Vec<AlertId> = self
            .alerts
            .iter()
            .filter(|(_, (_, note))| note.is_none())
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids.into_iter()
            .filter_map(|id| self.raise_alert(id))
            .collect()
    }

    /// A raise for alert `id` got `note`; false when the alert is gone.
    pub(super) fn alert_note(&mut self, id: AlertId, note: NoteId) -> bool {
        match self.alerts.get_mut(&id) {
            Some((_, n)) => {
                *n = Some(note);
                true
            }
            None => false,
        }
    }

    /// The person dismissed an alert's notification; it stays active elsewhere.
    pub(super) fn alert_dismissed(&mut self, id: AlertId) {
        if let Some((_, n)) = self.alerts.get_mut(&id) {
            *n = None;
        }
    }

    pub(super) fn alert_clicked(&self, id: AlertId, key: NoteKey) -> Vec<Action> {
        let Some((alert, _)) = self.alerts.get(&id) else {
            return Vec::new();
        };
        let buttons = self.server.as_ref().is_some_and(|s| s.has_actions());
        if key == NoteKey::Default || !buttons {
            return vec![Action::Open(OpenView::Agents)];
        }
        alert
            .actions
            .iter()
            .find(|a| key_of(**a) == key)
            .map(|a| Action::AlertAct {
                alert: id,
                agent: alert.agent.clone(),
                action: *a,
            })
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
#[path = "notify_alerts_tests.rs"]
mod tests;
