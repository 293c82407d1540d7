//! Phone-link attacks and races end to end, where the unit tests of
//! `reins-proto` and `reins-approval` cannot reach: a message replayed after
//! a full daemon restart (the persisted replay window), two phones answering
//! the same prompt at once, and a decision that arrives after the prompt
//! expired. Real `reins daemon` (embedded broker on loopback), real
//! `reins pair` and `reins hook` processes, real fake-agent trees, and the
//! Rust test phone (`reins_link::PhoneClient`).
//!
//! Not here: forged and wrong-hash decisions, revocation and the broker's
//! view (`phone_e2e`). Nothing here sleeps: every wait is for a line, a
//! message or a process, bounded by `T` only as a failure guard, or a bounded
//! poll paced by a real CLI run. No duration is asserted.

mod common;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use phone::*;
use reins_proto::payload::{self as p, AckOutcome, CommandOp, Target};

/// The reason inside an audited refusal (`already_resolved`, `expired`, ...).
fn refusal_reason(r: &serde_json::Value) -> &str {
    r["detail"]["record"]["outcome"]["reason"]["reason"]
        .as_str()
        .unwrap_or("")
}

/// Audit records of `action` about approval request `id`.
fn audited_for(env: &Env, action: &str, id: &str) -> Vec<serde_json::Value> {
    audit_records(env)
        .into_iter()
        .filter(|r| r["action"] == action && r["target"] == id)
        .collect()
}

#[test]
fn a_phone_message_replayed_after_a_full_daemon_restart_changes_nothing() {
    let rt = rt();
    let agent = format!("e2erestart{}", std::process::id());
    let env = private_env(&agent, "");
    // Fixed broker ports, so the same phone (same keys, same outgoing seq)
    // finds the restarted daemon again.
    let ports = free_broker_ports();
    let mut daemon = daemon_on_ports(&env, ports);
    let (mut phone, device) = pair(&env, &rt, "Phone");

    // Two messages that took effect: "stop all" killed a tree, an allow
    // answered a prompt. Their exact sealed bytes are kept.
    let (mut first, pids) = spawn_tree(&env, &format!("bin/{agent}"), 2);
    agent_id(&env, pids[0]);
    let stop_all = rt
        .block_on(async { phone.send(&command(CommandOp::Stop, Target::All)) })
        .unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!((a.outcome, a.processes), (AckOutcome::Done, 2), "{a:?}");
    assert!(first.reaped());
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "make deploy"),
    );
    let r = approval_request(&rt, &mut phone);
    let allow = rt
        .block_on(async { phone.send(&decision(&r, p::Decision::Allow)) })
        .unwrap();
    assert_eq!(hook_behavior(h), "allow");
    assert_eq!(audited(&env, &device, "stop"), 1, "{}", audit(&env));

    // A full restart on the same directories (device store, replay state).
    let status = daemon.terminate();
    assert!(
        status.success(),
        "the daemon exits cleanly on SIGTERM: {status}"
    );
    let _daemon = daemon_on_ports(&env, ports);
    wait_link_ready(&env);
    rt.block_on(phone.await_reconnect(T)).unwrap();
    // The restarted daemon counts the phone once it hears from it again.
    wait_phone_online(&env, &device);

    // New targets: a tree that "stop all" would kill, a pending prompt.
    let (mut second, pids) = spawn_tree(&env, &format!("bin/{agent}"), 2);
    let id = agent_id(&env, pids[0]);
    let h2 = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s2", "/w", "make deploy"),
    );
    let r2 = approval_request(&rt, &mut phone);

    // The recorded bytes, replayed as they were; then a fresh pause of the
    // new tree. Messages from one connection arrive in order, so the pause's
    // ack comes after the replays were handled.
    for m in [&stop_all, &allow] {
        phone.publish_raw(&m.topic, m.bytes.clone(), false).unwrap();
    }
    let pause = command(CommandOp::Pause, Target::Agent(id.clone()));
    rt.block_on(async { phone.send(&pause) }).unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!(
        (a.op, &a.target, a.outcome),
        (
            CommandOp::Pause,
            &Target::Agent(id.clone()),
            AckOutcome::Done
        ),
        "the first ack after the restart is the fresh pause's: {a:?}"
    );
    assert!(
        pids.iter().all(|&p| proc_state(p) == Some('T')),
        "the replayed stop killed nothing: the whole tree is alive and paused"
    );
    assert_eq!(pending_count(&env), 1, "the new prompt still waits");

    // The channel itself works after the restart: fresh messages take effect.
    let stop = command(CommandOp::Stop, Target::Agent(id.clone()));
    rt.block_on(async { phone.send(&stop) }).unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!(
        (a.op, &a.target, a.outcome, a.processes),
        (CommandOp::Stop, &Target::Agent(id), AckOutcome::Done, 2),
        "{a:?}"
    );
    assert!(second.reaped() && pids.iter().all(|&p| is_dead(p)));
    rt.block_on(async { phone.send(&decision(&r2, p::Decision::Deny)) })
        .unwrap();
    assert_eq!(hook_behavior(h2), "deny");

    // The audit log shows only the real effects: two stops, no replayed
    // decision reaching the approvals (it would be refused and audited).
    assert_eq!(audited(&env, &device, "stop"), 2, "{}", audit(&env));
    assert_eq!(audited(&env, &device, "refused"), 0, "{}", audit(&env));
    assert_eq!(
        audited_for(&env, "approval_resolved", &r.request_id).len(),
        1
    );
}

#[test]
fn two_phones_answering_the_same_approval_at_once_exactly_one_wins() {
    let rt = rt();
    let env = private_env(&format!("none{}", std::process::id()), "");
    let _daemon = env.daemon();
    let (mut a, a_id) = pair(&env, &rt, "Phone A");
    let (mut b, b_id) = pair(&env, &rt, "Phone B");

    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "terraform apply"),
    );
    let ra = approval_request(&rt, &mut a);
    let rb = approval_request(&rt, &mut b);
    assert_eq!(ra, rb, "both phones are shown the same request");

    // Back to back, without waiting for anything in between.
    rt.block_on(async {
        a.send(&decision(&ra, p::Decision::Allow)).unwrap();
        b.send(&decision(&rb, p::Decision::Deny)).unwrap();
    });
    // One JSON document on stdout, or this reads "abstain": one decision.
    let answered = hook_behavior(h);
    let seen_a = resolved(&rt, &mut a, &ra.request_id);
    let seen_b = resolved(&rt, &mut b, &rb.request_id);
    assert_eq!(seen_a, seen_b, "both phones hear the same ending");
    let (winner, loser, behavior, resolution) = match seen_a.by.as_deref() {
        Some(w) if w == a_id => (&a_id, &b_id, "allow", p::Resolution::Allowed),
        Some(w) if w == b_id => (&b_id, &a_id, "deny", p::Resolution::Denied),
        _ => panic!("the winner is one of the two phones: {seen_a:?}"),
    };
    assert_eq!(seen_a.resolution, resolution, "{seen_a:?}");
    assert_eq!(answered, behavior, "the hook printed the winner's decision");

    // The loser's decision was refused as too late, and audited as such.
    assert_eq!(
        wait_audited(&env, loser, "refused", 1),
        1,
        "{}",
        audit(&env)
    );
    let refusal = audit_records(&env)
        .into_iter()
        .find(|r| r["actor"]["device_id"] == loser.as_str() && r["action"] == "refused")
        .unwrap();
    assert_eq!(refusal["target"], ra.request_id.as_str(), "{refusal}");
    assert_eq!(refusal_reason(&refusal), "already_resolved", "{refusal}");

    // Exactly one resolution, by the winner; nothing left waiting.
    let resolutions = audited_for(&env, "approval_resolved", &ra.request_id);
    assert_eq!(resolutions.len(), 1, "{}", audit(&env));
    assert_eq!(resolutions[0]["actor"]["device_id"], winner.as_str());
    assert_eq!(audited(&env, loser, "approval_resolved"), 0);
    assert_eq!(pending_count(&env), 0);
}

#[test]
fn a_decision_sent_after_the_request_expired_is_refused() {
    let rt = rt();
    let env = private_env(&format!("none{}", std::process::id()), "");
    // The shortest timeout there is; on expiry the hook denies (never allows).
    write(
        &env.path("config/reins/policy.toml"),
        "[approvals]\ntimeout_secs = 1\non_timeout = \"deny\"\n",
    );
    let _daemon = env.daemon();
    let (mut phone, device) = pair(&env, &rt, "Phone");

    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "git push --force"),
    );
    let r = approval_request(&rt, &mut phone);
    // No one answers: the hook exits with the timeout's answer.
    let out = hook_output(h);
    assert_eq!(behavior(&out), "deny", "{out}");
    assert!(out.to_string().contains("No one answered in time"), "{out}");
    let gone = resolved(&rt, &mut phone, &r.request_id);
    assert_eq!((gone.resolution, gone.by), (p::Resolution::Expired, None));
    assert_eq!(pending_count(&env), 0);

    // A late allow changes nothing; the phone is told the request expired.
    rt.block_on(async { phone.send(&decision(&r, p::Decision::Allow)) })
        .unwrap();
    let late = resolved(&rt, &mut phone, &r.request_id);
    assert_eq!((late.resolution, late.by), (p::Resolution::Expired, None));
    assert_eq!(
        wait_audited(&env, &device, "refused", 1),
        1,
        "{}",
        audit(&env)
    );
    let refusal = audit_records(&env)
        .into_iter()
        .find(|r| r["actor"]["device_id"] == device.as_str() && r["action"] == "refused")
        .unwrap();
    assert_eq!(refusal_reason(&refusal), "expired", "{refusal}");
    assert_eq!(audited(&env, &device, "approval_resolved"), 0);
    let resolutions = audited_for(&env, "approval_resolved", &r.request_id);
    assert_eq!(resolutions.len(), 1, "{}", audit(&env));
    assert_eq!(resolutions[0]["actor"]["type"], "daemon", "{}", audit(&env));
    assert_eq!(pending_count(&env), 0);
}
