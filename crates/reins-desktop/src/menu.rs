//! What a tray menu click does: [`Desktop::handle_menu`] performs the
//! action and returns a [`MenuOutcome`] that tells the shell what is left
//! for it (open the window, toggle autostart, quit, show a result), so the
//! shell only maps.
//!
//! A high-risk request is never approved from the menu: its entry is
//! "Review…", and even an `Approve` id for it opens the window instead.
//! An OpenClaw agent's "Stop this run" (a soft stop, not a halt) comes back
//! as a halt result, so its failure is shown like a failed Stop's.

use crate::core::Desktop;
use crate::tray::MenuId;
use crate::view::{DecisionView, HaltOpView, HaltResultView, OpenViewView, RiskView, UiError};

/// What the shell does after a click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuOutcome {
    /// A halt finished: show its result (e.g. as a notification).
    Done(HaltResultView),
    /// A decision was sent.
    Decided,
    /// Show the window at this view.
    OpenWindow(OpenViewView),
    /// Flip start-at-login (the shell's autostart plugin owns it).
    ToggleStartAtLogin,
    /// Quit the tray.
    Quit,
    /// The action failed: show this.
    Failed(UiError),
}

impl Desktop {
    /// Perform the action of a menu entry.
    pub async fn handle_menu(&self, id: MenuId) -> MenuOutcome {
        let halt = |r: Result<HaltResultView, UiError>| match r {
            Ok(v) => MenuOutcome::Done(v),
            Err(e) => MenuOutcome::Failed(e),
        };
        match id {
            MenuId::Agent { id, op } => halt(self.halt(op, &id).await),
            // A stop from an alert's menu is as deliberate as the agent
            // menu's own Stop entry: both sit one submenu deep.
            MenuId::Alert { agent, action } => halt(self.alert_action(action, &agent).await),
            // A soft stop's result goes the way of a halt's: a failure
            // (refused, or OpenClaw not answering) opens the window on it.
            MenuId::SoftStop(id) => MenuOutcome::Done(crate::soft_stop::soft_stop_as_halt(
                self.soft_stop(&id).await,
            )),
            MenuId::StopAll => halt(self.halt(HaltOpView::Stop, "all").await),
            MenuId::Approve(r) => self.decide_from_menu(&r, DecisionView::Approve).await,
            MenuId::Deny(r) => self.decide_from_menu(&r, DecisionView::Deny).await,
            MenuId::Review(r) => MenuOutcome::OpenWindow(OpenViewView::Approval { request_id: r }),
            MenuId::Pair => MenuOutcome::OpenWindow(OpenViewView::Pair),
            MenuId::Open => MenuOutcome::OpenWindow(OpenViewView::Agents),
            MenuId::StartAtLogin => MenuOutcome::ToggleStartAtLogin,
            MenuId::Quit => MenuOutcome::Quit,
        }
    }

    async fn decide_from_menu(&self, request_id: &str, decision: DecisionView) -> MenuOutcome {
        let Some(p) = self
            .state()
            .pending
            .into_iter()
            .find(|p| p.request_id == request_id)
        else {
            return MenuOutcome::Failed(UiError::new(
                "That request is no longer waiting. Nothing was approved.",
            ));
        };
        if decision != DecisionView::Deny && p.risk == RiskView::High {
            return MenuOutcome::OpenWindow(OpenViewView::Approval {
                request_id: p.request_id,
            });
        }
        // The hash is the one this menu showed (the state's), never a guess.
        match self
            .decide(&p.request_id, &p.action_hash, decision, false)
            .await
        {
            Ok(()) => MenuOutcome::Decided,
            Err(e) => MenuOutcome::Failed(e),
        }
    }
}

#[cfg(test)]
#[path = "menu_tests.rs"]
mod tests;
