//! Applying the daemon's subscription stream to a [`DesktopState`].
//!
//! Pure: [`apply`] takes the state and one [`StreamEvent`] and says what
//! else the connection task must pass on (a halt result, a request to open
//! the window). A `Snapshot` replaces the lists outright: the daemon sends
//! one first and again whenever this client fell behind, so a lagging
//! client never works from a stale list. No sockets, no clock.

use crate::convert::{
    agent_view, alert_view, approval_view, halt_result_view, open_view, surfaces_view,
};
use crate::view::{DaemonConn, DesktopState, HaltResultView, OpenViewView};
use reins_approval::BrokerEvent;
use reins_core::RegistryEvent;
use reins_runtime::ipc::proto::StreamEvent;

/// What an event produces besides the state change.
#[derive(Clone, Debug, PartialEq)]
pub enum Emitted {
    /// Nothing more.
    Nothing,
    /// A verified halt, from any surface.
    Halted(HaltResultView),
    /// A notification asks the window to open.
    Open(OpenViewView),
}

/// The state before any connection.
pub fn initial_state() -> DesktopState {
    DesktopState {
        daemon: DaemonConn::Connecting,
        daemon_error: None,
        agents: Vec::new(),
        pending: Vec::new(),
        surfaces: Vec::new(),
        surface_notes: Vec::new(),
        link: None,
        alerts: Vec::new(),
        audit_problem: None,
    }
}

/// The connection is down: forget the lists (they would go stale, and
/// nothing may be approved from a stale list) and say why.
pub fn disconnected(state: &mut DesktopState, conn: DaemonConn, error: Option<String>) {
    let link = state.link.take();
    *state = initial_state();
    state.daemon = conn;
    state.daemon_error = error;
    // The link summary is informational; keep showing the last one known.
    state.link = link;
}

/// Apply one stream event.
pub fn apply(state: &mut DesktopState, event: StreamEvent) -> Emitted {
    match event {
        StreamEvent::Snapshot {
            agents,
            pending,
            surfaces,
            alerts,
            audit,
        } => {
            state.alerts = alerts.iter().map(alert_view).collect();
            state.audit_problem = audit.map(|p| p.message());
            state.daemon = DaemonConn::Connected;
            state.daemon_error = None;
            state.agents = agents.iter().map(agent_view).collect();
            state.pending = pending.iter().map(approval_view).collect();
            (state.surfaces, state.surface_notes) = surfaces_view(&surfaces);
            Emitted::Nothing
        }
        StreamEvent::Agent { change } => {
            match change {
                RegistryEvent::Appeared { agent } | RegistryEvent::Changed { agent } => {
                    let v = agent_view(&agent);
                    match state.agents.iter_mut().find(|a| a.id == v.id) {
                        Some(slot) => *slot = v,
                        None => state.agents.push(v),
                    }
                }
                RegistryEvent::Exited { id } => {
                    let id = id.to_string();
                    state.agents.retain(|a| a.id != id);
                    // Its alerts are over too (the daemon says so as well).
                    state.alerts.retain(|a| a.agent_id != id);
                }
            }
            Emitted::Nothing
        }
        StreamEvent::Approval { change } => {
            match change {
                BrokerEvent::Requested { request } => {
                    let v = approval_view(&request);
                    match state
                        .pending
                        .iter_mut()
                        .find(|p| p.request_id == v.request_id)
                    {
                        Some(slot) => *slot = v,
                        None => state.pending.push(v),
                    }
                }
                BrokerEvent::Resolved { request_id, .. } => {
                    let id = request_id.to_string();
                    state.pending.retain(|p| p.request_id != id);
                }
            }
            Emitted::Nothing
        }
        StreamEvent::Surfaces { surfaces } => {
            (state.surfaces, state.surface_notes) = surfaces_view(&surfaces);
            Emitted::Nothing
        }
        StreamEvent::Halted { outcome, .. } => Emitted::Halted(halt_result_view(&outcome)),
        StreamEvent::Open { view } => Emitted::Open(open_view(&view)),
        StreamEvent::Alert { alert } => {
            let v = alert_view(&alert);
            state.alerts.retain(|a| a.id != v.id);
            state.alerts.push(v);
            Emitted::Nothing
        }
        StreamEvent::AlertCleared { id } => {
            state.alerts.retain(|a| a.id != id.0);
            Emitted::Nothing
        }
        // A stop's recheck: the CLI prints it; the desktop shows held
        // respawns through their alerts.
        StreamEvent::StopRechecked { .. } => Emitted::Nothing,
        StreamEvent::Audit { problem } => {
            state.audit_problem = problem.map(|p| p.message());
            Emitted::Nothing
        }
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
