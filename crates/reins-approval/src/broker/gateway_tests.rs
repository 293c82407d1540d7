//! Requests from OpenClaw's gateway in the broker: only a person's explicit
//! Allow or Deny answers them. No session grant, no twin, no timeout verdict
//! and no decision by Reins itself reaches OpenClaw.

use super::*;
use crate::hooks::HookVerdict;
use reins_core::AgentKind;
use serde_json::json;

const T0: u64 = 7_000_000;
const TTL: u64 = 1_800_000;

fn person() -> Actor {
    Actor::Cli { pid: 42, uid: 1000 }
}

fn from_gateway(id: &str, session: &str, cmd: &str) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::OpenClaw,
        session_id: Some(session.into()),
        tool_name: "exec".into(),
        tool_input: json!({ "command": cmd, "openclaw_id": id }),
        command: Some(cmd.into()),
        cwd: Some("/home/me".into()),
    };
    let mut r = ApprovalRequest::new(spec, None, RiskLevel::High, T0, TTL);
    r.gateway = Some(GatewayOrigin {
        queue: GatewayQueue::Exec,
        id: id.into(),
        openclaw_agent: Some("main".into()),
    });
    r
}

fn reply_to(actions: &[Action], id: RequestId) -> Option<HookVerdict> {
    actions.iter().find_map(|a| match a {
        Action::Reply {
            request_id,
            verdict,
        } if *request_id == id => Some(verdict.clone()),
        _ => None,
    })
}

fn rejected(actions: &[Action]) -> Option<RejectReason> {
    actions.iter().find_map(|a| match a {
        Action::Reject { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

fn submit(b: &mut Broker, r: &ApprovalRequest) -> Vec<Action> {
    b.handle(Input::Submit { request: r.clone() }, T0)
}

fn decide(b: &mut Broker, r: &ApprovalRequest, d: Decision, by: Actor) -> Vec<Action> {
    let input = Input::Decide {
        request_id: r.request_id,
        action_hash: r.action_hash,
        decision: d,
        by,
    };
    b.handle(input, T0 + 1_000)
}

#[test]
fn an_expired_gateway_request_abstains_even_when_ordinary_prompts_are_denied() {
    let mut b = Broker::new(BrokerConfig {
        on_timeout: TimeoutOutcome::Deny,
        ..BrokerConfig::default()
    });
    let r = from_gateway("a1", "agent:main:main", "gog gmail trash --all");
    assert!(reply_to(&submit(&mut b, &r), r.request_id).is_none());
    let out = b.handle(Input::Tick, T0 + TTL);
    assert_eq!(reply_to(&out, r.request_id), Some(HookVerdict::Abstain));
    assert!(matches!(
        b.state(r.request_id),
        Some(RequestState::Resolved(Resolution::Expired {
            outcome: TimeoutOutcome::Abstain,
            ..
        }))
    ));
}

#[test]
fn allow_for_session_on_a_gateway_request_is_refused_and_it_stays_pending() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = from_gateway("a1", "s", "rm -rf build");
    submit(&mut b, &r);
    let out = decide(&mut b, &r, Decision::AllowForSession, person());
    assert_eq!(rejected(&out), Some(RejectReason::SessionAllowNotOffered));
    assert!(reply_to(&out, r.request_id).is_none());
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
    let out = decide(&mut b, &r, Decision::Allow, person());
    assert_eq!(reply_to(&out, r.request_id), Some(HookVerdict::Allow));
}

#[test]
fn reins_itself_may_not_even_deny_a_gateway_request() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = from_gateway("a1", "s", "ls");
    submit(&mut b, &r);
    let out = decide(&mut b, &r, Decision::Deny { message: None }, Actor::Daemon);
    assert_eq!(rejected(&out), Some(RejectReason::NotAPerson));
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
}

#[test]
fn two_identical_gateway_requests_are_each_shown_and_answered_alone() {
    let mut b = Broker::new(BrokerConfig::default());
    let first = from_gateway("a1", "s", "git push --force");
    let mut second = from_gateway("a2", "s", "git push --force");
    // Same action text and hash: an ordinary hook request would collapse.
    second.tool_input = first.tool_input.clone();
    second.action = first.action.clone();
    second.action_hash = first.action_hash;
    submit(&mut b, &first);
    let out = submit(&mut b, &second);
    assert!(
        out.iter()
            .any(|a| matches!(a, Action::Broadcast(BrokerEvent::Requested { .. }))),
        "the second one is shown too: {out:?}"
    );
    let out = decide(&mut b, &first, Decision::Allow, person());
    assert_eq!(reply_to(&out, first.request_id), Some(HookVerdict::Allow));
    assert!(
        reply_to(&out, second.request_id).is_none(),
        "not answered by the first one's allow"
    );
    assert_eq!(b.state(second.request_id), Some(RequestState::Pending));
}

#[test]
fn an_earlier_session_grant_does_not_answer_a_gateway_request() {
    let mut b = Broker::new(BrokerConfig::default());
    // A hook request in the same session, allowed for the session.
    let spec = ActionSpec {
        kind: AgentKind::OpenClaw,
        session_id: Some("s".into()),
        tool_name: "exec".into(),
        tool_input: json!({ "command": "ls" }),
        command: Some("ls".into()),
        cwd: Some("/home/me".into()),
    };
    let hook = ApprovalRequest::new(spec.clone(), None, RiskLevel::Low, T0, TTL);
    submit(&mut b, &hook);
    decide(&mut b, &hook, Decision::AllowForSession, person());
    let mut r = ApprovalRequest::new(spec, None, RiskLevel::Low, T0, TTL);
    r.gateway = Some(GatewayOrigin {
        queue: GatewayQueue::Exec,
        id: "a9".into(),
        openclaw_agent: None,
    });
    let out = submit(&mut b, &r);
    assert!(
        reply_to(&out, r.request_id).is_none(),
        "it waits for a person: {out:?}"
    );
}

#[test]
fn a_new_hook_in_the_same_session_does_not_withdraw_a_gateway_request() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = from_gateway("a1", "s", "ls");
    submit(&mut b, &r);
    b.handle(
        Input::SessionActivity {
            session_id: "s".into(),
        },
        T0 + 10,
    );
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
    let out = b.handle(
        Input::Withdraw {
            target: WithdrawTarget::Request(r.request_id),
            reason: WithdrawReason::AnsweredElsewhere,
        },
        T0 + 20,
    );
    assert_eq!(reply_to(&out, r.request_id), Some(HookVerdict::Abstain));
}
