//! Daemon types as protocol bodies: the new optional fields and the scope.

use super::*;
use reins_approval::broker::ActionSpec;
use reins_core::AgentKind;

fn request(session: Option<&str>, risk: RiskLevel) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: session.map(Into::into),
        tool_name: "Bash".into(),
        tool_input: serde_json::json!({ "command": "rm -rf build" }),
        command: Some("rm -rf build".into()),
        cwd: Some("/w".into()),
    };
    let mut r = ApprovalRequest::new(spec, None, risk, 1_000, 60_000);
    r.reason = Some("rule 'ask-rm' matched".into());
    r
}

fn phone_decision(decision: p::Decision, scope: Option<p::Scope>) -> p::ApprovalDecision {
    p::ApprovalDecision {
        request_id: "r".into(),
        action_hash: "h".into(),
        decision,
        scope,
    }
}

#[test]
fn a_request_carries_its_risk_reason_and_whether_a_session_allow_applies() {
    let r = approval_request(&request(Some("s1"), RiskLevel::High));
    assert!(r.hash_is_consistent());
    assert_eq!(r.risk, Some(p::Risk::High));
    assert_eq!(r.reason.as_deref(), Some("rule 'ask-rm' matched"));
    assert_eq!(r.allow_session, Some(true));
    let no_session = approval_request(&request(None, RiskLevel::Low));
    assert_eq!(no_session.risk, Some(p::Risk::Low));
    assert_eq!(no_session.allow_session, Some(false));
}

#[test]
fn allow_with_a_session_scope_is_the_clis_approve_session() {
    use p::{Decision as D, Scope as S};
    assert_eq!(
        decision_of(&phone_decision(D::Allow, Some(S::Session))),
        Decision::AllowForSession
    );
    assert_eq!(
        decision_of(&phone_decision(D::Allow, None)),
        Decision::Allow
    );
    assert_eq!(
        decision_of(&phone_decision(D::Allow, Some(S::Once))),
        Decision::Allow
    );
    // A scope on a deny is ignored.
    assert_eq!(
        decision_of(&phone_decision(D::Deny, Some(S::Session))),
        Decision::Deny { message: None }
    );
}

#[test]
fn a_resolution_names_who_decided_in_words_a_phone_can_show() {
    let id = RequestId([1; 16]);
    let decided = |by: Actor| Resolution::Decided {
        decision: Decision::Allow,
        by,
        at: 5,
    };
    let phone = Actor::Phone {
        device_id: "ab".into(),
    };
    let r = decided(phone.clone());
    let body = approval_resolved(&id, "h", &r, by_name(&phone, Some("Pixel".into())));
    assert_eq!(body.by.as_deref(), Some("ab"));
    assert_eq!(body.by_name.as_deref(), Some("Pixel"));
    assert_eq!(by_name(&phone, None).as_deref(), Some(UNKNOWN_PHONE_NAME));
    let cli = Actor::Cli { pid: 1, uid: 1 };
    assert_eq!(by_name(&cli, None).as_deref(), Some("terminal"));
    assert_eq!(by_name(&Actor::Tray, None).as_deref(), Some("desktop"));
    assert_eq!(
        by_name(&Actor::Notification, None).as_deref(),
        Some("desktop notification")
    );
    assert_eq!(by_name(&Actor::Daemon, None), None);
    let expired = Resolution::Expired {
        outcome: reins_approval::policy::TimeoutOutcome::Abstain,
        at: 9,
    };
    let body = approval_resolved(&id, "h", &expired, Some("ignored".into()));
    assert_eq!((body.by, body.by_name), (None, None));
    assert_eq!(body.resolution, p::Resolution::Expired);
}
