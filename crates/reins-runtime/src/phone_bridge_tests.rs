//! The bridge's send gate: when it publishes and when it owes a resync.

use super::Gate;
use reins_link::{ConnState, LinkStatus};
use std::time::Duration;

fn status(state: ConnState, subscribed: bool, connects: u64) -> LinkStatus {
    LinkStatus {
        state,
        broker: "mqtt://127.0.0.1:1883".into(),
        last_error: None,
        subscribed,
        connects,
    }
}

fn backing_off(connects: u64) -> LinkStatus {
    let state = ConnState::BackingOff {
        retry_in: Duration::from_millis(100),
        attempt: 1,
    };
    status(state, false, connects)
}

#[test]
fn a_send_goes_out_while_a_suback_is_pending() {
    let pending_suback = status(ConnState::Connected, false, 1);
    assert!(!pending_suback.is_ready());
    assert!(Gate::may_send(&pending_suback));
}

#[test]
fn nothing_is_sent_while_disconnected() {
    assert!(!Gate::may_send(&backing_off(1)));
    assert!(!Gate::may_send(&status(ConnState::Connecting, false, 0)));
    assert!(!Gate::may_send(&status(ConnState::Stopped, false, 1)));
}

#[test]
fn a_resync_asked_for_while_a_suback_is_pending_runs_at_once() {
    let mut g = Gate::default();
    assert!(g.on_status(&status(ConnState::Connected, true, 1)));
    // A pairing just added a topic: its SUBACK is pending.
    let pending_suback = status(ConnState::Connected, false, 1);
    assert!(!g.on_status(&pending_suback));
    assert!(g.ask_resync(&pending_suback));
    // Nothing is owed afterwards.
    assert!(!g.on_status(&status(ConnState::Connected, true, 1)));
}

#[test]
fn a_resync_asked_for_while_disconnected_runs_on_the_next_connection() {
    let mut g = Gate::default();
    assert!(g.on_status(&status(ConnState::Connected, true, 1)));
    assert!(!g.on_status(&backing_off(1)));
    assert!(!g.ask_resync(&backing_off(1)));
    // The same connection count (no reconnect seen yet) still pays it.
    assert!(g.on_status(&status(ConnState::Connected, false, 1)));
    assert!(!g.on_status(&status(ConnState::Connected, true, 1)));
}

#[test]
fn every_new_connection_resyncs_once_without_waiting_for_subacks() {
    let mut g = Gate::default();
    assert!(!g.on_status(&status(ConnState::Connecting, false, 0)));
    assert!(g.on_status(&status(ConnState::Connected, false, 1)));
    assert!(!g.on_status(&status(ConnState::Connected, true, 1)));
    assert!(!g.on_status(&backing_off(1)));
    assert!(g.on_status(&status(ConnState::Connected, false, 2)));
    assert!(!g.on_status(&status(ConnState::Connected, true, 2)));
}
