//! The phone link end to end: a real `reins daemon` (with its embedded
//! broker on free loopback ports, or a real Mosquitto), real `reins pair`,
//! `reins hook` and `reins devices` processes, real fake-agent trees, and
//! the Rust test phone (`reins_link::PhoneClient`) playing the phone.
//!
//! The everyday paths: pairing, stopping, approving, revoking, an outage,
//! and what a phone receives right after pairing or while the desktop's
//! own subscriptions are still being acknowledged.
//! Attacks that need a restart, a race or an expiry are in
//! `phone_attacks_e2e`; the helpers are in `common/phone.rs` and
//! `common/mqtt.rs`. Nothing here sleeps: every wait is for a line, a
//! message or a process, bounded by `T` only as a failure guard. No
//! duration is asserted.

mod common;
#[path = "common/mqtt.rs"]
mod mqtt;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use mqtt::{Mosquitto, Sniffer, SubAckHold, port_of};
use phone::*;
use reins_proto::Payload;
use reins_proto::payload::{self as p, AckOutcome, CommandOp, Target};

#[test]
fn a_phone_paired_with_reins_pair_stops_an_agent_tree_and_the_broker_sees_nothing_readable() {
    let rt = rt();
    let agent = format!("e2ephone{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();
    // The daemon's ready line does not wait for the broker connection.
    let link = wait_link_ready(&env);
    assert_eq!(link["embedded"], true);
    let sniffer = Sniffer::start(&rt, port_of(link["broker"].as_str().unwrap()));

    let (mut phone, device) = pair(&env, &rt, "Pixel of the tester");
    let o = env.run(&["devices", "--json"]);
    let devices: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(devices[0]["id"], device.as_str());
    assert_eq!(devices[0]["name"], "Pixel of the tester");
    assert_eq!(link_status(&env)["devices"], 1);

    // Stop a real tree from the phone: the ack comes once every process is gone.
    let (mut tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 4);
    let id = agent_id(&env, pids[0]);
    rt.block_on(async { phone.send(&command(CommandOp::Stop, Target::Agent(id.clone()))) })
        .unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!(a.outcome, AckOutcome::Done, "{a:?}");
    assert_eq!(a.processes, 4);
    assert!(
        a.frozen_after_us.is_some() && a.gone_after_us.is_some(),
        "{a:?}"
    );
    assert!(pids.iter().all(|&p| is_dead(p)), "the whole tree is dead");
    assert!(tree.reaped());
    assert_eq!(
        audited(&env, &device, "stop"),
        1,
        "the stop is audited with the phone as actor: {}",
        audit(&env)
    );
    assert!(audit(&env).contains("\"type\":\"phone\""));

    // An approval travels to the phone with its exact action, and back.
    let marker = format!("deploy-marker-{}", std::process::id());
    let cwd = format!("/srv/secret-project-{}", std::process::id());
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", &cwd, &marker),
    );
    let r = approval_request(&rt, &mut phone);
    assert!(r.hash_is_consistent(), "{r:?}");
    assert!(r.action.contains(&marker) && r.cwd.as_deref() == Some(cwd.as_str()));
    assert!(r.risk.is_some() && r.allow_session == Some(true), "{r:?}");
    // "Allow for this session" from the phone is `reins approve --session`:
    // Claude is told to remember the exact command for the session.
    rt.block_on(async { phone.decide(&r, p::Decision::Allow, Some(p::Scope::Session)) })
        .unwrap();
    let out = hook_output(h);
    assert_eq!(behavior(&out), "allow");
    let rule = &out["hookSpecificOutput"]["decision"]["updatedPermissions"][0];
    assert_eq!(rule["destination"], "session", "{out}");
    assert_eq!(rule["rules"][0]["ruleContent"], marker.as_str(), "{out}");
    let done = resolved(&rt, &mut phone, &r.request_id);
    assert_eq!(done.resolution, p::Resolution::Allowed);
    assert_eq!(done.by.as_deref(), Some(device.as_str()));
    assert_eq!(done.by_name.as_deref(), Some("Pixel of the tester"));

    // Everything the broker saw: opaque topics, sealed bodies.
    let all = sniffer.everything();
    assert!(!all.is_empty());
    for secret in [
        agent.as_str(),
        &id,
        &marker,
        &cwd,
        "Pixel of the tester",
        "\"stop\"",
        "claude",
        "Bash",
        env.dir.path().to_str().unwrap(),
    ] {
        assert!(!all.contains(secret), "{secret:?} crossed the broker");
    }
}

#[test]
fn a_forged_or_replayed_phone_decision_changes_nothing() {
    let rt = rt();
    let env = private_env(&format!("none{}", std::process::id()), "");
    let _daemon = env.daemon();
    let (mut phone, device) = pair(&env, &rt, "Phone");

    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "make release"),
    );
    let r = approval_request(&rt, &mut phone);
    let decision = |hash: &str, d: p::Decision| {
        Payload::ApprovalDecision(p::ApprovalDecision {
            request_id: r.request_id.clone(),
            action_hash: hash.to_owned(),
            decision: d,
            scope: None,
        })
    };
    // A decision bound to another action (wrong hash) is refused and audited.
    let wrong = reins_proto::payload::action_hash("make release --force");
    rt.block_on(async { phone.send(&decision(&wrong, p::Decision::Allow)) })
        .unwrap();
    for _ in 0..5000 {
        if audited(&env, &device, "refused") > 0 {
            break;
        }
        // Each round runs the CLI once: paced by real work, not a sleep.
        pending_count(&env);
    }
    assert_eq!(audited(&env, &device, "refused"), 1, "{}", audit(&env));
    assert_eq!(pending_count(&env), 1, "still waiting");

    // The real decision (a deny) wins; the phone hears how it ended.
    let deny = rt
        .block_on(async { phone.send(&decision(&r.action_hash, p::Decision::Deny)) })
        .unwrap();
    assert_eq!(hook_behavior(h), "deny");
    let resolved = recv(&rt, &mut phone, |m| match m {
        Payload::ApprovalResolved(x) => Some(x),
        _ => None,
    });
    assert_eq!(resolved.resolution, p::Resolution::Denied);
    assert_eq!(resolved.by.as_deref(), Some(device.as_str()));

    // A new request; the old deny's exact bytes replayed, and a late allow
    // for the old request: neither touches it.
    let h2 = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s2", "/w", "make release"),
    );
    let r2 = approval_request(&rt, &mut phone);
    phone
        .publish_raw(&deny.topic, deny.bytes.clone(), false)
        .unwrap();
    rt.block_on(async { phone.send(&decision(&r.action_hash, p::Decision::Allow)) })
        .unwrap();
    let late = recv(&rt, &mut phone, |m| match m {
        Payload::ApprovalResolved(x) if x.request_id == r.request_id => Some(x),
        _ => None,
    });
    assert_eq!(
        late.resolution,
        p::Resolution::Denied,
        "the first answer stands"
    );
    assert_eq!(pending_count(&env), 1);
    let o = env.run(&["approve", &r2.request_id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(hook_behavior(h2), "allow");
}

#[test]
fn a_revoked_phone_can_no_longer_stop_anything() {
    let rt = rt();
    let agent = format!("e2erevoke{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();
    let (mut old, old_id) = pair(&env, &rt, "Lost phone");
    let (mut new, _) = pair(&env, &rt, "New phone");
    let o = env.run(&["devices", "rename", &old_id, "Stolen phone"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = env.run(&["devices", "revoke", &old_id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = env.run(&["devices"]);
    assert!(!stdout(&o).contains(&old_id), "{}", stdout(&o));

    let (tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 2);
    let id = agent_id(&env, pids[0]);
    rt.block_on(async { old.send(&command(CommandOp::Stop, Target::All)) })
        .unwrap();
    // The remaining phone's command is answered; the revoked one's never was.
    rt.block_on(async { new.send(&command(CommandOp::Pause, Target::Agent(id))) })
        .unwrap();
    let a = ack(&rt, &mut new);
    assert_eq!(a.outcome, AckOutcome::Done, "{a:?}");
    assert!(!is_dead(tree.pid()), "the revoked phone stopped nothing");
    assert_eq!(
        proc_state(tree.pid()),
        Some('T'),
        "paused by the other phone"
    );
    assert_eq!(audited(&env, &old_id, "stop"), 0);
    let revoked = "\"action\":\"device_revoked\"";
    assert!(wait_audit(&env, |log| log.contains(revoked)).contains(revoked));
    assert_eq!(
        env.run(&["devices", "revoke", &old_id]).status.code(),
        Some(3),
        "already gone"
    );
}

#[test]
fn pairing_needs_a_yes_from_a_person_outside_any_agent() {
    let rt = rt();
    let agent = format!("e2epair{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();

    // "n" (or anything but y) pairs nothing.
    let (_phone, paired, child) = pair_with(&rt, start_pair(env.reins_pair()), "Phone", "n\n");
    assert!(!paired);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(1));

    // "y" typed inside an agent's process tree is refused, audited, and voids the offer.
    let reins = reins_bin();
    // (A second command keeps bash from exec'ing reins in its own place.)
    let script = format!("{} pair; rc=$?; exit $rc", reins.display());
    let cmd = env.bash_as_agent(&agent, &script);
    let (_phone, paired, child) = pair_with(&rt, start_pair(cmd), "Phone", "y\n");
    assert!(!paired);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("inside agent"), "{}", stderr(&o));
    let refused = "\"action\":\"refused\"";
    assert!(wait_audit(&env, |log| log.contains(refused)).contains(refused));
    let o = env.run(&["devices", "--json"]);
    assert_eq!(stdout(&o).trim(), "[]");
}

#[test]
fn through_mosquitto_a_phone_stops_all_and_gets_pending_approvals_after_an_outage() {
    let rt = rt();
    let mut broker = Mosquitto::start();
    let agent = format!("e2emosq{}", std::process::id());
    let env = private_env(&agent, &format!("[link]\nbroker = \"{}\"\n", broker.url()));
    let _daemon = env.daemon();
    let link = link_status(&env);
    assert_eq!(link["embedded"], false);
    assert_eq!(link["phone_urls"][0], broker.url().as_str());
    let (mut phone, _) = pair(&env, &rt, "Phone");

    let mut trees: Vec<(Tree, Vec<u32>)> = (0..2)
        .map(|_| spawn_tree(&env, &format!("bin/{agent}"), 2))
        .collect();
    for (_, pids) in &trees {
        agent_id(&env, pids[0]);
    }
    rt.block_on(async { phone.send(&command(CommandOp::Stop, Target::All)) })
        .unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!((a.outcome, a.processes), (AckOutcome::Done, 4), "{a:?}");
    assert!(trees.iter_mut().all(|(t, _)| t.reaped()));

    // The broker goes away: local surfaces keep working, and the prompt
    // waits for them (the phone cannot be reached now, so it alone would
    // not hold the agent).
    let _terminal = Watcher::start(&env);
    broker.stop();
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "cargo publish"),
    );
    wait_pending(&env, 1);
    let down = link_status(&env);
    assert_ne!(down["ready"], true, "{down}");

    // It comes back: once both ends are back, the phone says it is online
    // and gets the still-pending request.
    broker.spawn();
    rt.block_on(phone.await_reconnect(T)).unwrap();
    for _ in 0..5000 {
        if link_status(&env)["ready"] == true {
            break;
        }
    }
    assert_eq!(link_status(&env)["ready"], true);
    let online = Payload::Presence(p::Presence { online: true });
    rt.block_on(async { phone.send(&online) }).unwrap();
    let r = approval_request(&rt, &mut phone);
    assert!(r.action.contains("cargo publish"));
    let allow = Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: r.request_id,
        action_hash: r.action_hash,
        decision: p::Decision::Allow,
        scope: None,
    });
    rt.block_on(async { phone.send(&allow) }).unwrap();
    assert_eq!(hook_behavior(h), "allow");
}

#[test]
fn a_phone_that_just_paired_gets_an_agent_snapshot_without_asking_for_it() {
    let rt = rt();
    let agent = format!("e2esnap{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();
    let (_tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 1);
    let id = agent_id(&env, pids[0]);
    // Pairing is all the phone does (it announces itself once subscribed,
    // as the protocol says); the snapshot follows on its own.
    let (mut phone, _) = pair(&env, &rt, "Phone");
    let snapshot = recv(&rt, &mut phone, |m| match m {
        Payload::AgentSnapshot(s) => Some(s),
        _ => None,
    });
    assert!(snapshot.agents.iter().any(|a| a.id == id), "{snapshot:?}");
}

#[test]
fn phones_get_agent_events_while_a_desktop_subscription_waits_for_its_suback() {
    let rt = rt();
    let broker = Mosquitto::start();
    let relay = SubAckHold::start(&rt, port_of(&broker.url()));
    let agent = format!("e2ehold{}", std::process::id());
    let link = format!(
        "[link]\nbroker = \"{}\"\nphone_urls = [\"{}\"]\n",
        relay.url(),
        broker.url()
    );
    let env = private_env(&agent, &link);
    let _daemon = env.daemon();
    let (mut phone, _) = pair(&env, &rt, "Phone");

    // `reins pair` opens a pairing topic: the daemon subscribes to it, and
    // the relay keeps the broker's SUBACK from it.
    relay.hold();
    let mut cmd = env.reins_pair();
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut offer = spawn_retrying(&mut cmd);
    let pending = |l: &serde_json::Value| l["state"] == "connected" && l["ready"] == false;
    let mut status = link_status(&env);
    for _ in 0..5000 {
        if pending(&status) {
            break;
        }
        status = link_status(&env);
    }
    assert!(pending(&status), "the SUBACK is held: {status}");

    let (_tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 1);
    let appeared = recv(&rt, &mut phone, |m| match m {
        Payload::AgentEvent(p::AgentEvent::Appeared { agent }) if agent.pid == pids[0] => {
            Some(agent)
        }
        _ => None,
    });
    assert_eq!(appeared.state, p::AgentStatus::Running);
    assert!(
        pending(&link_status(&env)),
        "the event went out while the SUBACK was still pending"
    );
    relay.release();
    let _ = offer.kill();
    let _ = offer.wait();
}

#[test]
fn an_online_phone_is_a_surface_until_it_says_it_is_offline() {
    let rt = rt();
    let env = private_env(&format!("e2esurf{}", std::process::id()), "");
    let _daemon = env.daemon();
    let (mut phone, device) = pair(&env, &rt, "Pixel");
    let devices: Vec<serde_json::Value> =
        serde_json::from_slice(&env.run(&["devices", "--json"]).stdout).unwrap();
    assert_eq!(devices[0]["online"], true, "{devices:?}");
    assert!(devices[0]["last_seen_ms"].is_u64(), "{devices:?}");
    let status = link_status_full(&env);
    assert_eq!(status["surfaces"]["live"][0]["kind"], "phone", "{status}");
    assert_eq!(status["surfaces"]["live"][0]["detail"], "Pixel", "{status}");

    // Online: the prompt waits for the phone, which answers it.
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "make deploy"),
    );
    let r = approval_request(&rt, &mut phone);
    rt.block_on(async { phone.send(&decision(&r, p::Decision::Deny)) })
        .unwrap();
    assert_eq!(hook_behavior(h), "deny");

    // It says it is going offline: the next prompt does not wait.
    let offline = Payload::Presence(p::Presence { online: false });
    rt.block_on(async { phone.send(&offline) }).unwrap();
    let went_offline = (0..5000).any(|_| {
        let v: Vec<serde_json::Value> =
            serde_json::from_slice(&env.run(&["devices", "--json"]).stdout).unwrap();
        v[0]["id"] == device.as_str() && v[0]["online"] == false && v[0]["last_seen_ms"].is_u64()
    });
    assert!(went_offline, "offline, with its last-seen time kept");
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s2", "/w", "make deploy"),
    );
    let o = h.wait_with_output().unwrap();
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), ""),
        "abstains at once"
    );
    assert_eq!(pending_count(&env), 0);
}

fn link_status_full(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}
