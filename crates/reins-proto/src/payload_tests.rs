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
    };
    assert!(req.hash_is_consistent());
    let ok = ApprovalDecision {
        request_id: "r1".into(),
        action_hash: req.action_hash.clone(),
        decision: Decision::Allow,
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
