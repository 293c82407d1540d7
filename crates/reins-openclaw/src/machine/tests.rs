//! Unit tests for the machine: a scripted gateway, no sockets.

use super::*;
use crate::device::{AuthPayload, verify};
use crate::wire::{AbortOutcome, ConnectParams};

const URL: &str = "ws://127.0.0.1:18789";

fn machine(approver: bool) -> Machine<u32> {
    let cfg = MachineConfig {
        url: URL.into(),
        token: Zeroizing::new("tok".into()),
        version: "0.1.0".into(),
        display_name: "Reins".into(),
        request_timeout: Duration::from_secs(10),
    };
    Machine::new(cfg, DeviceIdentity::generate(), approver)
}

fn sent(actions: &[Action<u32>]) -> Vec<Value> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(t) => Some(serde_json::from_str(t).unwrap()),
            _ => None,
        })
        .collect()
}

fn emitted(actions: &[Action<u32>]) -> Vec<&LinkEvent> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Emit(e) => Some(e),
            _ => None,
        })
        .collect()
}

fn res(id: &Value, payload: Value) -> String {
    json!({"type": "res", "id": id, "ok": true, "payload": payload}).to_string()
}

fn hello(methods: &[&str], tick: Option<u64>) -> Value {
    let mut policy = json!({"maxPayload": 1_000_000});
    if let Some(t) = tick {
        policy["tickIntervalMs"] = json!(t);
    }
    json!({"type": "hello-ok", "protocol": 4, "server": {"version": "2026.9.6"},
        "features": {"methods": methods, "events": []},
        "auth": {"role": "operator", "scopes": ["operator.admin", "operator.approvals", "operator.read", "operator.write"]},
        "policy": policy})
}

fn exec_item(id: &str, cmd: &str) -> Value {
    json!({"id": id, "request": {"command": cmd, "cwd": "/tmp", "agentId": "main", "sessionKey": "agent:main:main",
        "allowedDecisions": ["allow-once", "deny"]}, "createdAtMs": 1, "expiresAtMs": 2})
}

fn event(name: &str, payload: Value, seq: u64) -> String {
    json!({"type": "event", "event": name, "payload": payload, "seq": seq}).to_string()
}

/// Drive the handshake to `Syncing` (approver) or `Up`; returns the list request ids.
fn connect(m: &mut Machine<u32>, now: Instant, methods: &[&str], tick: Option<u64>) -> Vec<Value> {
    assert!(m.on_open(now).is_empty());
    let a = m.on_text(
        &event("connect.challenge", json!({"nonce": "n-1", "ts": 42}), 0),
        now,
    );
    let req = &sent(&a)[0];
    assert_eq!(req["method"], "connect");
    assert_eq!(m.phase(), Phase::AwaitHello);
    let a = m.on_text(&res(&req["id"], hello(methods, tick)), now);
    sent(&a).iter().map(|r| r["id"].clone()).collect()
}

#[test]
fn the_handshake_signs_the_challenge_and_then_fetches_both_lists() {
    let mut m = machine(true);
    let now = Instant::now();
    m.on_open(now);
    assert_eq!(m.phase(), Phase::AwaitChallenge);
    assert!(
        m.on_text(&event("tick", json!({}), 1), now).is_empty(),
        "nothing before the challenge"
    );
    let a = m.on_text(
        &event("connect.challenge", json!({"nonce": "n-1", "ts": 42}), 0),
        now,
    );
    let req = &sent(&a)[0];
    let params: ConnectParams = serde_json::from_value(req["params"].clone()).unwrap();
    let dev = params.device.clone().unwrap();
    assert_eq!((dev.nonce.as_str(), dev.signed_at), ("n-1", 42));
    let text = AuthPayload {
        device_id: &dev.id,
        client_id: "cli",
        client_mode: "cli",
        role: "operator",
        scopes: &params.scopes,
        signed_at_ms: 42,
        token: "tok",
        nonce: "n-1",
        platform: "linux",
        device_family: "",
    }
    .v3();
    assert!(verify(&dev.public_key, &text, &dev.signature));
    assert_eq!(params.caps.len(), 3);
    let a = m.on_text(&res(&req["id"], hello(&[], None)), now);
    let methods: Vec<_> = sent(&a)
        .iter()
        .map(|r| r["method"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(methods, ["exec.approval.list", "plugin.approval.list"]);
    assert_eq!(m.phase(), Phase::Syncing);
    assert_eq!(m.max_frame(), 1_000_000);
}

#[test]
fn the_snapshot_holds_both_lists_and_events_that_raced_the_fetch() {
    let mut m = machine(true);
    let now = Instant::now();
    let ids = connect(&mut m, now, &[], None);
    // While syncing: one new request, and one listed approval gets resolved.
    assert!(
        emitted(&m.on_text(
            &event("exec.approval.requested", exec_item("new", "ls"), 1),
            now
        ))
        .is_empty()
    );
    m.on_text(
        &event(
            "exec.approval.resolved",
            json!({"id": "gone", "decision": "deny"}),
            2,
        ),
        now,
    );
    m.on_text(
        &res(
            &ids[0],
            json!([exec_item("old", "rm -rf /"), exec_item("gone", "x")]),
        ),
        now,
    );
    let a = m.on_text(&res(&ids[1], json!([])), now);
    let ev = emitted(&a);
    let LinkEvent::Snapshot(snap) = ev[0] else {
        panic!("{ev:?}")
    };
    let mut got: Vec<_> = snap.iter().map(|a| a.id.as_str()).collect();
    got.sort();
    assert_eq!(got, ["new", "old"]);
    assert!(matches!(
        ev[1],
        LinkEvent::Status(LinkStatus::Up {
            pending: 2,
            approver: true,
            protocol: 4,
            ..
        })
    ));
    assert_eq!(m.phase(), Phase::Up);
}

#[test]
fn a_non_approver_gets_an_empty_snapshot_and_ignores_approval_events() {
    let mut m = machine(false);
    let now = Instant::now();
    m.on_open(now);
    let a = m.on_text(
        &event("connect.challenge", json!({"nonce": "n", "ts": 1}), 0),
        now,
    );
    let req = &sent(&a)[0];
    assert!(req["params"]["caps"].as_array().unwrap().is_empty());
    let a = m.on_text(&res(&req["id"], hello(&[], None)), now);
    assert!(sent(&a).is_empty(), "no list calls");
    assert_eq!(emitted(&a)[0], &LinkEvent::Snapshot(vec![]));
    assert!(
        emitted(&m.on_text(
            &event("exec.approval.requested", exec_item("x", "ls"), 1),
            now
        ))
        .is_empty()
    );
}

fn up(m: &mut Machine<u32>, now: Instant, methods: &[&str]) {
    let ids = connect(m, now, methods, None);
    if m.approver() {
        m.on_text(
            &res(&ids[0], json!([exec_item("a1", "gog gmail delete --all")])),
            now,
        );
        m.on_text(&res(&ids[1], json!([])), now);
    }
    assert_eq!(m.phase(), Phase::Up);
}

#[test]
fn requested_and_resolved_events_reach_the_owner_once_up() {
    let mut m = machine(true);
    let now = Instant::now();
    up(&mut m, now, &[]);
    let a = m.on_text(
        &event("exec.approval.requested", exec_item("a2", "rm x"), 5),
        now,
    );
    let ev = emitted(&a);
    let LinkEvent::Requested(req) = ev[0] else {
        panic!()
    };
    assert_eq!(req.command.as_deref(), Some("rm x"));
    assert!(matches!(
        ev[1],
        LinkEvent::Status(LinkStatus::Up { pending: 2, .. })
    ));
    assert!(
        emitted(&m.on_text(
            &event("exec.approval.requested", exec_item("a2", "rm x"), 6),
            now
        ))
        .is_empty(),
        "a repeat is not shown twice"
    );
    let a = m.on_text(
        &event(
            "exec.approval.resolved",
            json!({"id": "a2", "decision": "allow-once", "resolvedBy": "phone"}),
            7,
        ),
        now,
    );
    let LinkEvent::Resolved(r) = emitted(&a)[0] else {
        panic!()
    };
    assert_eq!(
        (r.id.as_str(), r.decision, r.resolved_by.as_deref()),
        ("a2", Some(GatewayDecision::AllowOnce), Some("phone"))
    );
    assert_eq!(m.approvals().count(), 1);
}

#[test]
fn resolve_uses_approval_resolve_when_offered_and_the_per_kind_method_otherwise() {
    let now = Instant::now();
    let mut m = machine(true);
    up(&mut m, now, &["approval.resolve"]);
    let call = Call::Resolve {
        kind: ApprovalKind::Exec,
        id: "a1".into(),
        decision: GatewayDecision::Deny,
    };
    let req = &sent(&m.call(call.clone(), 7, now))[0];
    assert_eq!(req["method"], "approval.resolve");
    assert_eq!(
        req["params"],
        json!({"id": "a1", "kind": "exec", "decision": "deny"})
    );
    let a = m.on_text(
        &res(
            &req["id"],
            json!({"applied": true, "approval": {"decision": "deny"}}),
        ),
        now,
    );
    assert_eq!(a, vec![Action::Reply(7, Ok(Reply::Resolved))]);

    let mut m = machine(true);
    up(&mut m, now, &[]);
    let req = &sent(&m.call(call, 8, now))[0];
    assert_eq!(req["method"], "exec.approval.resolve");
    assert_eq!(req["params"], json!({"id": "a1", "decision": "deny"}));
    let err = json!({"type": "res", "id": req["id"], "ok": false, "error": {"code": "INVALID_REQUEST", "message": "approval already resolved"}});
    let a = m.on_text(&err.to_string(), now);
    assert_eq!(
        a,
        vec![Action::Reply(
            8,
            Err(LinkError::Gateway {
                code: "INVALID_REQUEST".into(),
                message: "approval already resolved".into()
            })
        )]
    );
}

#[test]
fn a_decision_openclaw_does_not_offer_is_refused_without_sending() {
    let now = Instant::now();
    let mut m = machine(true);
    up(&mut m, now, &["approval.resolve"]);
    let call = Call::Resolve {
        kind: ApprovalKind::Exec,
        id: "a1".into(),
        decision: GatewayDecision::AllowAlways,
    };
    let a = m.call(call, 1, now);
    assert!(sent(&a).is_empty());
    assert!(
        matches!(&a[0], Action::Reply(1, Err(LinkError::Gateway { code, .. })) if code == "DECISION_NOT_OFFERED")
    );
}

#[test]
fn calls_before_the_handshake_are_not_connected() {
    let now = Instant::now();
    let mut m = machine(true);
    let a = m.call(Call::ActiveSessions, 3, now);
    assert!(matches!(
        &a[0],
        Action::Reply(3, Err(LinkError::NotConnected(_)))
    ));
    m.on_open(now);
    let a = m.call(
        Call::Abort {
            session_key: "k".into(),
        },
        4,
        now,
    );
    assert!(matches!(
        &a[0],
        Action::Reply(4, Err(LinkError::NotConnected(_)))
    ));
}

#[test]
fn abort_clears_queued_turns_and_reports_what_happened() {
    let now = Instant::now();
    let mut m = machine(false);
    up(&mut m, now, &[]);
    let req = &sent(&m.call(
        Call::Abort {
            session_key: "agent:main:main".into(),
        },
        1,
        now,
    ))[0];
    assert_eq!(req["method"], "sessions.abort");
    assert_eq!(
        req["params"],
        json!({"key": "agent:main:main", "clearQueued": true})
    );
    let a = m.on_text(
        &res(
            &req["id"],
            json!({"ok": true, "abortedRunId": "r9", "status": "aborted"}),
        ),
        now,
    );
    assert_eq!(
        a,
        vec![Action::Reply(
            1,
            Ok(Reply::Aborted(AbortOutcome {
                aborted: true,
                run_id: Some("r9".into()),
                status: "aborted".into()
            }))
        )]
    );
}

#[test]
fn a_request_past_its_deadline_fails_its_caller_and_drops_the_connection() {
    let now = Instant::now();
    let mut m = machine(false);
    up(&mut m, now, &[]);
    m.call(Call::ActiveSessions, 5, now);
    assert_eq!(m.next_deadline(), Some(now + Duration::from_secs(10)));
    assert!(m.on_timer(now + Duration::from_secs(9)).is_empty());
    let a = m.on_timer(now + Duration::from_secs(10));
    assert_eq!(a[0], Action::Reply(5, Err(LinkError::Timeout)));
    assert!(
        matches!(&a[1], Action::Close(CloseReason::Failed(msg)) if msg.contains("sessions.list"))
    );
}

#[test]
fn no_challenge_in_time_drops_the_connection() {
    let now = Instant::now();
    let mut m = machine(true);
    m.on_open(now);
    let a = m.on_timer(now + Duration::from_secs(10));
    assert!(matches!(&a[0], Action::Close(CloseReason::Failed(_))));
}

#[test]
fn a_refused_connect_carries_openclaw_s_message_and_what_to_do() {
    let now = Instant::now();
    let mut m = machine(true);
    m.on_open(now);
    let a = m.on_text(
        &event("connect.challenge", json!({"nonce": "n", "ts": 1}), 0),
        now,
    );
    let id = sent(&a)[0]["id"].clone();
    let err = json!({"type": "res", "id": id, "ok": false, "error": {"code": "INVALID_REQUEST",
        "message": "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
        "details": {"code": "AUTH_TOKEN_MISMATCH"}}});
    let a = m.on_text(&err.to_string(), now);
    let [Action::Close(CloseReason::Refused(msg))] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert!(msg.contains("gateway token mismatch"), "{msg}");
    assert!(msg.contains("OPENCLAW_GATEWAY_TOKEN"), "{msg}");
}

#[test]
fn closing_after_the_snapshot_reports_lost_and_fails_calls_in_flight() {
    let now = Instant::now();
    let mut m = machine(true);
    up(&mut m, now, &[]);
    m.call(Call::ActiveSessions, 9, now);
    let a = m.on_closed();
    assert!(matches!(
        &a[0],
        Action::Reply(9, Err(LinkError::NotConnected(_)))
    ));
    assert_eq!(a[1], Action::Emit(LinkEvent::Lost));
    assert_eq!(m.phase(), Phase::Idle);
    assert_eq!(m.approvals().count(), 0);
    assert!(m.on_closed().is_empty(), "Lost once per connection");
}

#[test]
fn switching_approver_mode_reconnects_only_when_connected() {
    let now = Instant::now();
    let mut m = machine(false);
    assert!(m.set_approver(true).is_empty());
    up(&mut m, now, &[]);
    assert!(m.set_approver(true).is_empty(), "no change, no reconnect");
    assert_eq!(
        m.set_approver(false),
        vec![Action::Close(CloseReason::Reconnect)]
    );
}

#[test]
fn garbage_forged_and_unknown_frames_change_nothing() {
    let now = Instant::now();
    let mut m = machine(true);
    up(&mut m, now, &[]);
    for bad in [
        "not json".to_string(),
        r#"{"type":"res","id":"reins-999","ok":true,"payload":{}}"#.to_string(),
        r#"{"type":"req","id":"x","method":"exec.approval.resolve","params":{}}"#.to_string(),
        event("exec.approval.requested", json!({"id": "x"}), 10),
        event("exec.approval.resolved", json!({"nope": 1}), 11),
        "x".repeat(1_000_001),
    ] {
        let a = m.on_text(&bad, now);
        assert!(a.iter().all(|a| matches!(a, Action::Warn(_))), "{a:?}");
    }
    assert_eq!(m.phase(), Phase::Up);
    assert_eq!(m.approvals().count(), 1);
}

#[test]
fn two_missed_ticks_drop_the_connection_but_only_once_ticks_were_seen() {
    let now = Instant::now();
    let mut m = machine(false);
    connect(&mut m, now, &[], Some(1000));
    assert_eq!(m.next_deadline(), None, "no ticks yet: no heartbeat watch");
    m.on_text(&event("tick", json!({"ts": 1}), 1), now);
    assert_eq!(m.next_deadline(), Some(now + Duration::from_secs(2)));
    assert!(m.on_timer(now + Duration::from_millis(1999)).is_empty());
    m.on_text(
        &event("presence", json!({}), 2),
        now + Duration::from_millis(1500),
    );
    assert!(
        m.on_timer(now + Duration::from_millis(3000)).is_empty(),
        "any frame counts as life"
    );
    let a = m.on_timer(now + Duration::from_millis(3500));
    assert!(matches!(&a[0], Action::Close(CloseReason::Failed(msg)) if msg.contains("tick")));
}

#[test]
fn a_gap_in_event_numbers_fetches_the_approvals_again() {
    let now = Instant::now();
    let mut m = machine(true);
    up(&mut m, now, &[]);
    m.on_text(&event("presence", json!({}), 3), now);
    let a = m.on_text(&event("presence", json!({}), 5), now);
    let methods: Vec<_> = sent(&a)
        .iter()
        .map(|r| r["method"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(methods, ["exec.approval.list", "plugin.approval.list"]);
    assert_eq!(m.phase(), Phase::Syncing);
}

#[test]
fn a_gateway_still_starting_is_a_failure_to_retry_not_a_refusal() {
    let now = Instant::now();
    let mut m = machine(true);
    m.on_open(now);
    let a = m.on_text(
        &event("connect.challenge", json!({"nonce": "n", "ts": 1}), 0),
        now,
    );
    let id = sent(&a)[0]["id"].clone();
    // As OpenClaw 2026.9.6 answers in its first seconds.
    let err = json!({"type": "res", "id": id, "ok": false, "error": {"code": "UNAVAILABLE",
        "message": "gateway starting; retry shortly", "retryable": true, "retryAfterMs": 500}});
    let a = m.on_text(&err.to_string(), now);
    assert!(
        matches!(a.as_slice(), [Action::Close(CloseReason::NotReady { error, retry_after })]
            if error.contains("gateway starting") && *retry_after == Duration::from_millis(500)),
        "{a:?}"
    );
}

#[test]
fn a_not_ready_gateway_is_retried_within_bounds_whatever_it_suggests() {
    use crate::machine::calls::not_ready_delay;
    assert_eq!(not_ready_delay(None), Duration::from_secs(1));
    assert_eq!(not_ready_delay(Some(0)), Duration::from_millis(200));
    assert_eq!(not_ready_delay(Some(500)), Duration::from_millis(500));
    assert_eq!(not_ready_delay(Some(u64::MAX)), Duration::from_secs(5));
}
