//! Wire names, body shapes and direction rules of the message kinds.

use super::*;

#[test]
fn every_kind_round_trips_through_its_wire_name() {
    for k in Kind::ALL {
        assert_eq!(Kind::parse(k.as_str()), Some(k));
        assert_eq!(
            serde_json::to_string(&k).unwrap(),
            format!("\"{}\"", k.as_str())
        );
    }
    assert_eq!(Kind::parse("Command"), None);
}

#[test]
fn commands_carry_an_agent_id_or_all() {
    let all = serde_json::to_string(&Command::stop_all()).unwrap();
    assert_eq!(all, r#"{"op":"stop","target":"all"}"#);
    let one = Command {
        op: CommandOp::Pause,
        target: Target::Agent("claude-1-2".into()),
    };
    let json = serde_json::to_string(&one).unwrap();
    assert_eq!(json, r#"{"op":"pause","target":{"agent":"claude-1-2"}}"#);
    let back = Payload::from_json(Kind::Command, json.as_bytes()).unwrap();
    assert_eq!(back, Payload::Command(one));
}

#[test]
fn a_decision_matches_only_the_request_with_the_same_id_and_hash() {
    let req = ApprovalRequest {
        request_id: "r1".into(),
        agent_id: "claude-1-2".into(),
        session_id: None,
        tool: "Bash".into(),
        action: "rm -rf build".into(),
        action_hash: action_hash("rm -rf build"),
        cwd: None,
        expires_at_ms: 0,
        risk: None,
        reason: None,
        allow_session: None,
    };
    assert!(req.hash_is_consistent());
    let ok = ApprovalDecision {
        request_id: "r1".into(),
        action_hash: req.action_hash.clone(),
        decision: Decision::Allow,
        scope: None,
    };
    assert!(ok.matches(&req));
    let other_hash = ApprovalDecision {
        action_hash: action_hash("rm -rf /"),
        ..ok.clone()
    };
    assert!(!other_hash.matches(&req));
    let other_id = ApprovalDecision {
        request_id: "r2".into(),
        ..ok
    };
    assert!(!other_id.matches(&req));
}

#[test]
fn decisions_and_commands_only_travel_from_the_phone() {
    for k in [Kind::ApprovalDecision, Kind::Command, Kind::PairingHello] {
        assert!(k.allowed(Direction::PhoneToDesktop));
        assert!(!k.allowed(Direction::DesktopToPhone));
    }
    for k in [Kind::ApprovalRequest, Kind::CommandAck, Kind::AgentSnapshot] {
        assert!(!k.allowed(Direction::PhoneToDesktop));
    }
}

#[test]
fn optional_fields_are_written_as_null_and_may_be_missing_on_receipt() {
    let dec = ApprovalDecision {
        request_id: "r1".into(),
        action_hash: action_hash("ls"),
        decision: Decision::Deny,
        scope: None,
    };
    let json = serde_json::to_string(&dec).unwrap();
    assert!(
        json.ends_with(r#""decision":"deny","scope":null}"#),
        "{json}"
    );
    // A message from a sender that predates `scope` still decodes.
    let old = format!(
        r#"{{"request_id":"r1","action_hash":"{}","decision":"allow"}}"#,
        dec.action_hash
    );
    let back = Payload::from_json(Kind::ApprovalDecision, old.as_bytes()).unwrap();
    let Payload::ApprovalDecision(back) = back else {
        panic!()
    };
    assert_eq!(back.scope, None);
    let old_req = r#"{"request_id":"r","agent_id":"a","session_id":null,"tool":"Bash","action":"ls","action_hash":"h","cwd":null,"expires_at_ms":1}"#;
    let Payload::ApprovalRequest(req) =
        Payload::from_json(Kind::ApprovalRequest, old_req.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (req.risk, req.reason, req.allow_session),
        (None, None, None)
    );
    let old_res = r#"{"request_id":"r","action_hash":"h","resolution":"expired","by":null}"#;
    let Payload::ApprovalResolved(res) =
        Payload::from_json(Kind::ApprovalResolved, old_res.as_bytes()).unwrap()
    else {
        panic!()
    };
    assert_eq!(res.by_name, None);
}

#[test]
fn risk_and_scope_use_their_lowercase_wire_names() {
    assert_eq!(serde_json::to_string(&Risk::High).unwrap(), r#""high""#);
    assert_eq!(
        serde_json::to_string(&Scope::Session).unwrap(),
        r#""session""#
    );
    let unknown = r#"{"request_id":"r","action_hash":"h","decision":"allow","scope":"forever"}"#;
    assert!(Payload::from_json(Kind::ApprovalDecision, unknown.as_bytes()).is_err());
}

#[test]
fn alerts_travel_desktop_to_phone_and_their_commands_phone_to_desktop() {
    assert!(Kind::Alert.allowed(Direction::DesktopToPhone));
    assert!(!Kind::Alert.allowed(Direction::PhoneToDesktop));
    assert!(Kind::AlertCleared.allowed(Direction::DesktopToPhone));
    assert!(!Kind::AlertCleared.allowed(Direction::PhoneToDesktop));
    let alert = Alert {
        alert_id: 3,
        reason: AlertReason::StopWord {
            word: "STOP".into(),
        },
        agent_id: "claude-1-2".into(),
        display_name: "Claude Code".into(),
        project: None,
        message: "Stop word: claude paused; you typed “STOP”".into(),
        actions: vec![AlertActionWire::Resume, AlertActionWire::Stop],
        raised_at: 1_700_000_000,
    };
    let json = String::from_utf8(Payload::Alert(alert.clone()).to_json()).unwrap();
    assert_eq!(
        json,
        r#"{"alert_id":3,"reason":{"kind":"stop_word","word":"STOP"},"agent_id":"claude-1-2","display_name":"Claude Code","project":null,"message":"Stop word: claude paused; you typed “STOP”","actions":["resume","stop"],"raised_at":1700000000}"#
    );
    assert_eq!(
        Payload::from_json(Kind::Alert, json.as_bytes()).unwrap(),
        Payload::Alert(alert)
    );
    let cleared = Payload::from_json(Kind::AlertCleared, br#"{"alert_id":3}"#).unwrap();
    assert_eq!(cleared, Payload::AlertCleared(AlertCleared { alert_id: 3 }));
    let release = Command {
        op: CommandOp::Release,
        target: Target::Agent("openclaw-9-1".into()),
    };
    assert_eq!(
        serde_json::to_string(&release).unwrap(),
        r#"{"op":"release","target":{"agent":"openclaw-9-1"}}"#
    );
    let sup = r#"{"op":"stop_supervisor","target":{"agent":"openclaw-9-1"}}"#;
    assert!(matches!(
        Payload::from_json(Kind::Command, sup.as_bytes()).unwrap(),
        Payload::Command(Command {
            op: CommandOp::StopSupervisor,
            ..
        })
    ));
}

#[test]
fn a_stop_recheck_travels_desktop_to_phone_with_a_lowercase_verdict() {
    assert!(Kind::StopRechecked.allowed(Direction::DesktopToPhone));
    assert!(!Kind::StopRechecked.allowed(Direction::PhoneToDesktop));
    assert!(!Kind::StopRechecked.is_pairing());
    let held = StopRechecked {
        agent_id: "openclaw-9-1".into(),
        display_name: "OpenClaw".into(),
        project: Some("api".into()),
        after_s: 7,
        verdict: RecheckVerdictWire::RespawnedHeld,
        supervisor: Some("systemd user unit openclaw.service".into()),
    };
    let json = String::from_utf8(Payload::StopRechecked(held.clone()).to_json()).unwrap();
    assert_eq!(
        json,
        r#"{"agent_id":"openclaw-9-1","display_name":"OpenClaw","project":"api","after_s":7,"verdict":"respawned_held","supervisor":"systemd user unit openclaw.service"}"#
    );
    assert_eq!(
        Payload::from_json(Kind::StopRechecked, json.as_bytes()).unwrap(),
        Payload::StopRechecked(held)
    );
    let gone = r#"{"agent_id":"a-1-2","display_name":"a","project":null,"after_s":7,"verdict":"still_gone","supervisor":null}"#;
    assert!(matches!(
        Payload::from_json(Kind::StopRechecked, gone.as_bytes()).unwrap(),
        Payload::StopRechecked(StopRechecked {
            verdict: RecheckVerdictWire::StillGone,
            supervisor: None,
            ..
        })
    ));
    let unknown = gone.replace("still_gone", "vanished");
    assert!(Payload::from_json(Kind::StopRechecked, unknown.as_bytes()).is_err());
}
