//! Broker scenarios, no sockets: time is a number we pass in.

use super::*;
use crate::hooks::HookVerdict;
use reins_core::AgentKind;
use serde_json::json;

const T0: u64 = 1_000_000;
const TTL: u64 = 90_000;

fn phone() -> Actor {
    Actor::Phone {
        device_id: "pixel".into(),
    }
}

fn id(n: u8) -> RequestId {
    let mut b = [0u8; 16];
    b[15] = n;
    b[0] = 0xab;
    RequestId(b)
}

fn req_in(n: u8, session: &str, cmd: &str) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some(session.into()),
        tool_name: "Bash".into(),
        tool_input: json!({"command": cmd, "description": "d"}),
        command: Some(cmd.into()),
        cwd: Some("/repo".into()),
    };
    let mut r = ApprovalRequest::new(spec, None, RiskLevel::Medium, T0, TTL);
    r.request_id = id(n);
    r
}

fn req(n: u8) -> ApprovalRequest {
    req_in(n, "s1", &format!("echo {n}"))
}

fn replies(actions: &[Action]) -> Vec<(RequestId, HookVerdict)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Reply {
                request_id,
                verdict,
            } => Some((*request_id, verdict.clone())),
            _ => None,
        })
        .collect()
}

fn rejects(actions: &[Action]) -> Vec<RejectReason> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Reject { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn submit(b: &mut Broker, r: &ApprovalRequest) -> Vec<Action> {
    b.handle(Input::Submit { request: r.clone() }, T0)
}

fn decide(b: &mut Broker, r: &ApprovalRequest, d: Decision, by: Actor, at: u64) -> Vec<Action> {
    b.handle(
        Input::Decide {
            request_id: r.request_id,
            action_hash: r.action_hash,
            decision: d,
            by,
        },
        at,
    )
}

#[test]
fn a_submitted_request_is_broadcast_and_pending() {
    let mut b = Broker::default();
    let r = req(1);
    let a = submit(&mut b, &r);
    assert!(
        matches!(&a[0], Action::Broadcast(BrokerEvent::Requested { request }) if request == &r)
    );
    assert!(replies(&a).is_empty());
    assert_eq!(b.pending(), vec![&r]);
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
    assert_eq!(b.next_deadline(), Some(T0 + TTL));
}

#[test]
fn an_explicit_allow_replies_allow_and_clears_every_surface() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    let a = decide(&mut b, &r, Decision::Allow, phone(), T0 + 5);
    assert_eq!(replies(&a), vec![(r.request_id, HookVerdict::Allow)]);
    assert!(a.iter().any(|x| matches!(x, Action::Broadcast(BrokerEvent::Resolved { request_id, .. }) if *request_id == r.request_id)));
    assert!(a.iter().any(|x| matches!(
        x,
        Action::Audit(AuditRecord {
            by: Some(Actor::Phone { .. }),
            ..
        })
    )));
    assert!(b.pending().is_empty());
}

#[test]
fn a_deny_replies_deny_with_the_message_or_a_default() {
    let mut b = Broker::default();
    let (r1, r2) = (req(1), req(2));
    submit(&mut b, &r1);
    submit(&mut b, &r2);
    let a = decide(
        &mut b,
        &r1,
        Decision::Deny {
            message: Some("not now".into()),
        },
        Actor::Tray,
        T0,
    );
    assert_eq!(
        replies(&a),
        vec![(
            r1.request_id,
            HookVerdict::Deny {
                message: "not now".into()
            }
        )]
    );
    let a = decide(
        &mut b,
        &r2,
        Decision::Deny { message: None },
        Actor::Tray,
        T0,
    );
    assert_eq!(
        replies(&a),
        vec![(
            r2.request_id,
            HookVerdict::Deny {
                message: "Denied through Reins by tray.".into()
            }
        )]
    );
}

#[test]
fn allow_for_session_renders_a_session_rule_and_lets_the_same_command_through_later() {
    let mut b = Broker::default();
    let r = req_in(1, "s1", "npm test");
    submit(&mut b, &r);
    let a = decide(&mut b, &r, Decision::AllowForSession, phone(), T0);
    let want = HookVerdict::AllowForSession {
        tool_name: "Bash".into(),
        rule_content: Some("npm test".into()),
    };
    assert_eq!(replies(&a), vec![(r.request_id, want)]);

    let again = req_in(2, "s1", "npm test");
    let a = submit(&mut b, &again);
    assert_eq!(replies(&a), vec![(again.request_id, HookVerdict::Allow)]);
    assert!(matches!(
        b.state(again.request_id),
        Some(RequestState::Resolved(Resolution::SessionGrant { .. }))
    ));

    // Another command, or another session, still asks.
    assert!(replies(&submit(&mut b, &req_in(3, "s1", "npm publish"))).is_empty());
    assert!(replies(&submit(&mut b, &req_in(4, "s2", "npm test"))).is_empty());

    // A session's grants end with it.
    b.handle(
        Input::SessionEnded {
            session_id: "s1".into(),
        },
        T0,
    );
    assert!(replies(&submit(&mut b, &req_in(5, "s1", "npm test"))).is_empty());
}

#[test]
fn an_unanswered_request_abstains_on_timeout_by_default() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    assert!(replies(&b.handle(Input::Tick, T0 + TTL - 1)).is_empty());
    let a = b.handle(Input::Tick, T0 + TTL);
    assert_eq!(replies(&a), vec![(r.request_id, HookVerdict::Abstain)]);
    assert!(matches!(
        b.state(r.request_id),
        Some(RequestState::Resolved(Resolution::Expired {
            outcome: TimeoutOutcome::Abstain,
            ..
        }))
    ));
}

#[test]
fn an_unanswered_request_denies_on_timeout_when_the_policy_says_so() {
    let mut b = Broker::new(BrokerConfig {
        on_timeout: TimeoutOutcome::Deny,
        ..BrokerConfig::default()
    });
    let r = req(1);
    submit(&mut b, &r);
    let a = b.handle(Input::Tick, T0 + TTL + 10);
    assert!(matches!(&replies(&a)[..], [(_, HookVerdict::Deny { .. })]));
}

#[test]
fn a_decision_after_expiry_is_rejected_even_without_a_tick() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    let a = decide(&mut b, &r, Decision::Allow, phone(), T0 + TTL);
    // The expiry happens first and replies abstain; the allow is refused.
    assert_eq!(replies(&a), vec![(r.request_id, HookVerdict::Abstain)]);
    assert_eq!(rejects(&a), vec![RejectReason::Expired]);
}

#[test]
fn session_activity_withdraws_that_sessions_prompts_only() {
    let mut b = Broker::default();
    let (r1, r2, other) = (req(1), req(2), req_in(3, "s2", "ls"));
    for r in [&r1, &r2, &other] {
        submit(&mut b, r);
    }
    let a = b.handle(
        Input::SessionActivity {
            session_id: "s1".into(),
        },
        T0 + 1,
    );
    let mut got = replies(&a);
    got.sort_by_key(|(id, _)| *id);
    assert_eq!(
        got,
        vec![
            (r1.request_id, HookVerdict::Abstain),
            (r2.request_id, HookVerdict::Abstain)
        ]
    );
    assert_eq!(b.pending(), vec![&other]);
    let late = decide(&mut b, &r1, Decision::Allow, phone(), T0 + 2);
    assert!(matches!(
        &rejects(&late)[..],
        [RejectReason::AlreadyResolved {
            resolution: Resolution::Withdrawn {
                reason: WithdrawReason::SessionMovedOn,
                ..
            }
        }]
    ));
}

#[test]
fn a_single_request_can_be_withdrawn_when_its_hook_goes_away() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    let a = b.handle(
        Input::Withdraw {
            target: WithdrawTarget::Request(r.request_id),
            reason: WithdrawReason::HookGone,
        },
        T0,
    );
    assert_eq!(replies(&a), vec![(r.request_id, HookVerdict::Abstain)]);
    assert!(b.pending().is_empty());
}

#[test]
fn the_first_of_two_racing_deciders_wins_and_the_second_is_told() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    let first = decide(
        &mut b,
        &r,
        Decision::Deny { message: None },
        Actor::Tray,
        T0 + 1,
    );
    let second = decide(&mut b, &r, Decision::Allow, phone(), T0 + 1);
    assert_eq!(replies(&first).len(), 1);
    assert!(replies(&second).is_empty());
    assert!(matches!(
        &rejects(&second)[..],
        [RejectReason::AlreadyResolved {
            resolution: Resolution::Decided {
                by: Actor::Tray,
                ..
            }
        }]
    ));
}

#[test]
fn a_wrong_action_hash_is_rejected_and_changes_nothing() {
    let mut b = Broker::default();
    let r = req(1);
    let other = req_in(2, "s1", "rm -rf build");
    submit(&mut b, &r);
    let a = b.handle(
        Input::Decide {
            request_id: r.request_id,
            action_hash: other.action_hash,
            decision: Decision::Allow,
            by: phone(),
        },
        T0,
    );
    assert_eq!(rejects(&a), vec![RejectReason::HashMismatch]);
    assert!(replies(&a).is_empty());
    assert_eq!(b.state(r.request_id), Some(RequestState::Pending));
    // The right hash still works afterwards.
    assert_eq!(
        replies(&decide(&mut b, &r, Decision::Allow, phone(), T0)).len(),
        1
    );
}

#[test]
fn unknown_ids_and_duplicate_submissions_are_rejected() {
    let mut b = Broker::default();
    let r = req(1);
    assert_eq!(
        rejects(&decide(&mut b, &r, Decision::Allow, phone(), T0)),
        vec![RejectReason::UnknownRequest]
    );
    submit(&mut b, &r);
    assert_eq!(
        rejects(&submit(&mut b, &r)),
        vec![RejectReason::DuplicateRequest]
    );
}

#[test]
fn the_daemon_may_deny_but_never_allow() {
    let mut b = Broker::default();
    let r = req(1);
    submit(&mut b, &r);
    for d in [Decision::Allow, Decision::AllowForSession] {
        assert_eq!(
            rejects(&decide(&mut b, &r, d, Actor::Daemon, T0)),
            vec![RejectReason::NotAPerson]
        );
    }
    let a = decide(
        &mut b,
        &r,
        Decision::Deny { message: None },
        Actor::Daemon,
        T0,
    );
    assert!(matches!(&replies(&a)[..], [(_, HookVerdict::Deny { .. })]));
}

#[test]
fn a_tampered_request_is_never_shown_and_its_hook_abstains() {
    let mut b = Broker::default();
    let mut r = req(1);
    r.command = Some("ls".into());
    r.tool_input = json!({"command": "rm -rf ~"});
    let a = submit(&mut b, &r);
    assert_eq!(rejects(&a), vec![RejectReason::InconsistentRequest]);
    assert_eq!(replies(&a), vec![(r.request_id, HookVerdict::Abstain)]);
    assert!(b.pending().is_empty());
}

#[test]
fn identical_requests_from_one_session_collapse_into_one_prompt() {
    let mut b = Broker::default();
    let first = req_in(1, "s1", "make deploy");
    let dup = req_in(2, "s1", "make deploy");
    assert_eq!(first.action_hash, dup.action_hash);
    submit(&mut b, &first);
    let a = submit(&mut b, &dup);
    assert!(!a.iter().any(|x| matches!(x, Action::Broadcast(_))));
    assert_eq!(b.pending().len(), 1);
    assert_eq!(b.state(dup.request_id), Some(RequestState::Pending));
    let a = decide(
        &mut b,
        &first,
        Decision::Deny {
            message: Some("no".into()),
        },
        phone(),
        T0,
    );
    let mut got: Vec<_> = replies(&a).into_iter().map(|(id, _)| id).collect();
    got.sort();
    assert_eq!(got, vec![first.request_id, dup.request_id]);
    assert!(replies(&a).iter().all(|(_, v)| *v
        == HookVerdict::Deny {
            message: "no".into()
        }));
}

#[test]
fn fifty_simultaneous_requests_across_sessions_are_each_answered_once() {
    let mut b = Broker::default();
    let reqs: Vec<_> = (0..50u8)
        .map(|n| req_in(n, &format!("s{}", n % 10), &format!("job {n}")))
        .collect();
    for r in &reqs {
        assert!(replies(&submit(&mut b, r)).is_empty());
    }
    assert_eq!(b.pending().len(), 50);
    let mut answered = std::collections::HashSet::new();
    for (i, r) in reqs.iter().enumerate() {
        let d = if i % 2 == 0 {
            Decision::Allow
        } else {
            Decision::Deny { message: None }
        };
        let a = decide(&mut b, r, d, phone(), T0 + 1);
        let rs = replies(&a);
        assert_eq!(rs.len(), 1);
        assert!(answered.insert(rs[0].0));
        assert_eq!(rs[0].1.is_allow(), i % 2 == 0);
    }
    assert!(b.pending().is_empty());
}

#[test]
fn a_flood_from_one_session_is_capped_and_the_excess_abstains() {
    let mut b = Broker::default();
    let mut abstained = 0;
    for n in 0..50u8 {
        let a = submit(&mut b, &req_in(n, "flood", &format!("cmd {n}")));
        abstained += replies(&a)
            .iter()
            .filter(|(_, v)| *v == HookVerdict::Abstain)
            .count();
    }
    assert_eq!(b.pending().len(), DEFAULT_MAX_PENDING_PER_SESSION);
    assert_eq!(abstained, 50 - DEFAULT_MAX_PENDING_PER_SESSION);
    // Other sessions are unaffected.
    assert!(replies(&submit(&mut b, &req_in(99, "calm", "ls"))).is_empty());
}

#[test]
fn fifty_identical_requests_make_one_prompt_and_fifty_replies() {
    let mut b = Broker::default();
    let reqs: Vec<_> = (0..50u8)
        .map(|n| req_in(n, "s1", "cargo publish"))
        .collect();
    let mut broadcasts = 0;
    for r in &reqs {
        broadcasts += submit(&mut b, r)
            .iter()
            .filter(|a| matches!(a, Action::Broadcast(_)))
            .count();
    }
    assert_eq!(broadcasts, 1);
    let a = decide(&mut b, &reqs[17], Decision::Allow, phone(), T0);
    assert_eq!(replies(&a).len(), 50);
}

#[test]
fn the_canonical_action_is_sorted_compact_and_hashed() {
    let input = json!({"b": 1, "a": {"z": [true, null, "é\n"], "y": 2.5}});
    let text = canonical_action(&AgentKind::Codex, Some("s"), "Bash", &input, None);
    assert_eq!(
        text,
        r#"{"agent":"codex","cwd":null,"session":"s","tool":"Bash","tool_input":{"a":{"y":2.5,"z":[true,null,"é\n"]},"b":1}}"#
    );
    assert_eq!(ActionHash::of(&text).to_hex().len(), 64);
    let r = req(1);
    assert!(r.is_consistent());
    assert_eq!(r.action_hash, ActionHash::of(&r.action));
}

#[test]
fn ids_and_hashes_round_trip_through_hex() {
    let r = RequestId::random();
    assert_eq!(r.to_hex().len(), 32);
    assert_eq!(r.to_hex().parse::<RequestId>().unwrap(), r);
    assert_ne!(RequestId::random(), r);
    assert_eq!(serde_json::to_value(r).unwrap(), json!(r.to_hex()));
    assert!(
        "xyz"
            .parse::<RequestId>()
            .unwrap_err()
            .contains("32 hex digits")
    );
}

#[test]
fn a_request_from_a_hook_binds_the_exact_tool_input() {
    let raw = json!({"session_id":"s","cwd":"/r","tool_name":"Bash","tool_input":{"command":"ls","timeout":5}});
    let h = crate::hooks::parse(
        crate::hooks::HookAgent::Claude,
        crate::hooks::HookEvent::PermissionRequest,
        raw.to_string().as_bytes(),
    )
    .unwrap();
    let r = ApprovalRequest::new(
        ActionSpec::from_hook(&h).unwrap(),
        None,
        RiskLevel::Low,
        T0,
        TTL,
    );
    assert_eq!(r.tool_input, json!({"command":"ls","timeout":5}));
    assert!(
        r.action
            .contains(r#""tool_input":{"command":"ls","timeout":5}"#)
    );
    assert_eq!(r.expires_at, T0 + TTL);
}
