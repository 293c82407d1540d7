//! Property-style test: random input sequences never produce an allow that
//! no person gave, and every hook is answered exactly once.

use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reins_core::AgentKind;
use serde_json::json;
use std::collections::{HashMap, HashSet};

const TTL: u64 = 90_000;

fn make(n: u32, session: &str, cmd: &str, now: u64) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::Codex,
        session_id: Some(session.into()),
        tool_name: "Bash".into(),
        tool_input: json!({ "command": cmd }),
        command: Some(cmd.into()),
        cwd: Some("/w".into()),
    };
    let mut r = ApprovalRequest::new(spec, None, RiskLevel::Medium, now, TTL);
    r.request_id = RequestId(u128::from(n).to_be_bytes());
    r
}

/// Returns how many allow replies the run produced.
fn run(seed: u64, steps: usize, on_timeout: TimeoutOutcome) -> usize {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut b = Broker::new(BrokerConfig {
        on_timeout,
        max_pending_per_session: 3,
        ..BrokerConfig::default()
    });
    let sessions = ["a", "b", "c"];
    let commands = ["ls", "make", "rm *.tmp", "git push"];
    let actors = [
        Actor::Tray,
        Actor::Phone {
            device_id: "p".into(),
        },
        Actor::Daemon,
    ];

    let mut now = 0u64;
    let mut submitted: Vec<ApprovalRequest> = vec![];
    let mut hash_of: HashMap<RequestId, ActionHash> = HashMap::new();
    let mut explicitly_allowed: HashSet<ActionHash> = HashSet::new();
    let mut replied: HashSet<RequestId> = HashSet::new();
    let mut allows = 0;

    let mut check = |actions: Vec<Action>,
                     allowed: &HashSet<ActionHash>,
                     hash_of: &HashMap<RequestId, ActionHash>| {
        for a in actions {
            if let Action::Reply {
                request_id,
                verdict,
            } = a
            {
                assert!(
                    replied.insert(request_id),
                    "seed {seed}: {request_id} answered twice"
                );
                if verdict.is_allow() {
                    allows += 1;
                    let h = hash_of[&request_id];
                    assert!(
                        allowed.contains(&h),
                        "seed {seed}: {request_id} allowed without a person"
                    );
                }
            }
        }
    };

    for step in 0..steps {
        now += rng.gen_range(0..30_000);
        let input = match rng.gen_range(0..10) {
            0..=3 => {
                let r = make(
                    step as u32,
                    sessions[rng.gen_range(0..3)],
                    commands[rng.gen_range(0..4)],
                    now,
                );
                hash_of.insert(r.request_id, r.action_hash);
                submitted.push(r.clone());
                Input::Submit { request: r }
            }
            4..=6 if !submitted.is_empty() => {
                let r = &submitted[rng.gen_range(0..submitted.len())];
                let good_hash = rng.gen_bool(0.8);
                let action_hash = if good_hash {
                    r.action_hash
                } else {
                    submitted[rng.gen_range(0..submitted.len())].action_hash
                };
                let decision = match rng.gen_range(0..3) {
                    0 => Decision::Allow,
                    1 => Decision::AllowForSession,
                    _ => Decision::Deny { message: None },
                };
                let by = actors[rng.gen_range(0..3)].clone();
                // The model: a person's allow with the right hash for a
                // request that is still pending. (Over-approximate "pending"
                // as "submitted, hash matches": the invariant only needs a
                // person to have allowed this exact action at some point.)
                if decision.is_allow() && by != Actor::Daemon && action_hash == r.action_hash {
                    explicitly_allowed.insert(action_hash);
                }
                Input::Decide {
                    request_id: r.request_id,
                    action_hash,
                    decision,
                    by,
                }
            }
            7 => Input::SessionActivity {
                session_id: sessions[rng.gen_range(0..3)].into(),
            },
            8 if !submitted.is_empty() => Input::Withdraw {
                target: WithdrawTarget::Request(
                    submitted[rng.gen_range(0..submitted.len())].request_id,
                ),
                reason: WithdrawReason::HookGone,
            },
            8 => Input::SessionEnded {
                session_id: sessions[rng.gen_range(0..3)].into(),
            },
            _ => Input::Tick,
        };
        let actions = b.handle(input, now);
        check(actions, &explicitly_allowed, &hash_of);
    }
    let actions = b.handle(Input::Tick, now + TTL + 1);
    check(actions, &explicitly_allowed, &hash_of);
    assert!(b.pending().is_empty());
    for r in &submitted {
        assert!(
            replied.contains(&r.request_id),
            "seed {seed}: {} never answered",
            r.request_id
        );
    }
    allows
}

#[test]
fn random_input_sequences_never_allow_without_a_person_and_answer_every_hook_once() {
    for seed in 0..300 {
        run(
            seed,
            200,
            if seed % 2 == 0 {
                TimeoutOutcome::Abstain
            } else {
                TimeoutOutcome::Deny
            },
        );
    }
}

#[test]
fn with_no_decisions_at_all_nothing_is_ever_allowed() {
    let mut b = Broker::default();
    let mut now = 0;
    for n in 0..200u32 {
        now += 7_919;
        let r = make(n, ["x", "y"][n as usize % 2], "deploy", now);
        for a in b.handle(Input::Submit { request: r }, now) {
            if let Action::Reply { verdict, .. } = a {
                assert!(!verdict.is_allow());
            }
        }
        for a in b.handle(Input::Tick, now) {
            if let Action::Reply { verdict, .. } = a {
                assert!(!verdict.is_allow());
            }
        }
    }
}
