//! Guardrail requests in the broker: nobody's answer is a deny (never an
//! abstain), and the session moving on does not withdraw them.

use super::*;
use crate::guardrails::{GuardReason, Guardrail, GuardrailTimeout};
use crate::hooks::HookVerdict;
use reins_core::{AgentKind, Unattended};
use serde_json::json;

const T0: u64 = 5_000_000;
const TTL: u64 = 120_000;

fn guarded(session: &str, cmd: &str, on_timeout: GuardrailTimeout) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some(session.into()),
        tool_name: "Bash".into(),
        tool_input: json!({ "command": cmd }),
        command: Some(cmd.into()),
        cwd: Some("/repo".into()),
    };
    let mut r = ApprovalRequest::new(spec, None, RiskLevel::High, T0, TTL);
    r.guardrail = Some(Guardrail {
        unattended: Unattended::PermissionMode {
            mode: "bypassPermissions".into(),
        },
        why: GuardReason::Risk {
            risk: RiskLevel::High,
        },
        on_timeout,
        timeout_secs: TTL / 1000,
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

fn submitted(b: &mut Broker, r: &ApprovalRequest) {
    let out = b.handle(Input::Submit { request: r.clone() }, T0);
    assert!(reply_to(&out, r.request_id).is_none(), "it waits");
}

#[test]
fn an_expired_guardrail_request_is_denied_even_when_ordinary_prompts_abstain() {
    let mut b = Broker::new(BrokerConfig::default());
    assert_eq!(b.config().on_timeout, TimeoutOutcome::Abstain);
    let r = guarded("s1", "curl x | sh", GuardrailTimeout::Deny);
    submitted(&mut b, &r);
    let out = b.handle(Input::Tick, T0 + TTL);
    let Some(HookVerdict::Deny { message }) = reply_to(&out, r.request_id) else {
        panic!("expected a deny: {out:?}");
    };
    assert!(
        message.contains("nobody answered within 120 s"),
        "{message}"
    );
    assert!(matches!(
        b.state(r.request_id),
        Some(RequestState::Resolved(Resolution::Expired {
            outcome: TimeoutOutcome::Deny,
            ..
        }))
    ));
}

#[test]
fn a_guardrail_request_set_to_stop_the_agent_stops_it_at_the_timeout() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = guarded("s1", "curl x | sh", GuardrailTimeout::StopAgent);
    submitted(&mut b, &r);
    let out = b.handle(Input::Tick, T0 + TTL);
    assert!(matches!(
        reply_to(&out, r.request_id),
        Some(HookVerdict::StopAgent { .. })
    ));
}

#[test]
fn the_session_moving_on_does_not_withdraw_a_guardrail_request_but_its_end_denies_it() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = guarded("s1", "curl x | sh", GuardrailTimeout::Deny);
    submitted(&mut b, &r);
    let out = b.handle(
        Input::SessionActivity {
            session_id: "s1".into(),
        },
        T0 + 1,
    );
    assert!(reply_to(&out, r.request_id).is_none());
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
    let out = b.handle(
        Input::SessionEnded {
            session_id: "s1".into(),
        },
        T0 + 2,
    );
    assert!(matches!(
        reply_to(&out, r.request_id),
        Some(HookVerdict::Deny { .. })
    ));
}

#[test]
fn a_guardrail_request_withdrawn_for_want_of_a_surface_is_denied_and_says_so() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = guarded("s1", "curl x | sh", GuardrailTimeout::Deny);
    submitted(&mut b, &r);
    let out = b.handle(
        Input::Withdraw {
            target: WithdrawTarget::Request(r.request_id),
            reason: WithdrawReason::NoSurface,
        },
        T0 + 1,
    );
    let Some(HookVerdict::Deny { message }) = reply_to(&out, r.request_id) else {
        panic!("expected a deny: {out:?}");
    };
    assert!(message.contains("no Reins surface"), "{message}");
}

#[test]
fn a_person_still_decides_a_guardrail_request() {
    let mut b = Broker::new(BrokerConfig::default());
    let r = guarded("s1", "curl x | sh", GuardrailTimeout::Deny);
    submitted(&mut b, &r);
    let out = b.handle(
        Input::Decide {
            request_id: r.request_id,
            action_hash: r.action_hash,
            decision: Decision::Allow,
            by: Actor::Phone {
                device_id: "pixel".into(),
            },
        },
        T0 + 1,
    );
    assert_eq!(reply_to(&out, r.request_id), Some(HookVerdict::Allow));
}

#[test]
fn an_ordinary_request_still_abstains_when_the_session_moves_on() {
    let mut b = Broker::new(BrokerConfig::default());
    let mut r = guarded("s1", "ls", GuardrailTimeout::Deny);
    r.guardrail = None;
    submitted(&mut b, &r);
    let out = b.handle(
        Input::SessionActivity {
            session_id: "s1".into(),
        },
        T0 + 1,
    );
    assert_eq!(reply_to(&out, r.request_id), Some(HookVerdict::Abstain));
}
