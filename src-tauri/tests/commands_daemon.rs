//! The window's commands through Tauri's mock runtime (no display), from
//! the window's origin, against a real `reins daemon` in private
//! directories, with real fake agents and real `reins hook` processes.

mod common;
use common::*;
use reins_desktop::view::{
    AuditRow, DaemonConn, DesktopState, DeviceView, HaltResultView, PairOfferView, VerifyView,
};
use serde_json::json;
use std::io::Write;
use std::process::Stdio;

/// A connected app for a fresh daemon.
fn connected(env: &Env) -> TestApp {
    let (desktop, token) = env.desktop();
    let app = TestApp::new(desktop, token);
    poll(30, "the tray to connect to the daemon", || {
        let s: DesktopState = app.call("get_state", json!({}));
        (s.daemon == DaemonConn::Connected).then_some(())
    });
    app
}

/// Poll `get_state` until the agent whose root is `pid` is listed; its id.
fn agent_id(app: &TestApp, pid: u32) -> String {
    poll(30, "the agent to be listed", || {
        let s: DesktopState = app.call("get_state", json!({}));
        s.agents.into_iter().find(|a| a.pid == pid).map(|a| a.id)
    })
}

#[test]
fn get_state_lists_a_running_agent_with_its_kind() {
    let env = Env::new();
    let _d = env.daemon();
    let (_agent, pids) = env.agent("claude", &["children", "2", "sleep"]);
    let app = connected(&env);
    agent_id(&app, pids[0]);
    let s: DesktopState = app.call("get_state", json!({}));
    let a = s.agents.iter().find(|a| a.pid == pids[0]).unwrap();
    assert_eq!(a.kind, "claude");
}

#[test]
fn halt_stop_of_one_agent_ends_its_whole_process_tree() {
    let env = Env::new();
    let _d = env.daemon();
    let (_agent, pids) = env.agent("claude", &["children", "2", "sleep"]);
    assert_eq!(pids.len(), 3);
    let app = connected(&env);
    let id = agent_id(&app, pids[0]);
    let r: HaltResultView = app.call("halt", json!({ "op": "stop", "target": id }));
    assert!(r.success, "{r:?}");
    poll(20, "every process of the tree to be gone", || {
        pids.iter().all(|p| gone(*p)).then_some(())
    });
}

#[test]
fn halt_refuses_a_target_that_is_not_an_agent_with_advice() {
    let env = Env::new();
    let _d = env.daemon();
    let app = connected(&env);
    let e = app.error("halt", json!({ "op": "stop", "target": "1" }));
    assert!(e.message.contains("agent"), "{e:?}");
}

#[test]
fn soft_stop_is_for_openclaw_only_and_reaches_the_daemon_for_an_openclaw_id() {
    let env = Env::new();
    let _d = env.daemon();
    let (_agent, pids) = env.agent("claude", &["sleep"]);
    let app = connected(&env);
    let id = agent_id(&app, pids[0]);
    // Refused before anything is sent; the agent keeps running.
    let e = app.error("soft_stop", json!({ "agentId": id }));
    assert!(e.message.contains("use Stop"), "{e:?}");
    assert!(!gone(pids[0]));
    // An OpenClaw id the daemon does not know: its own answer comes back.
    let e = app.error("soft_stop", json!({ "agentId": "openclaw-999999-1" }));
    assert!(e.message.contains("agent list"), "{e:?}");
}

fn hook_request(env: &Env, command: &str) -> std::process::Child {
    let payload = json!({
        "session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command, "description": "run it" }
    })
    .to_string();
    let mut child = env
        .reins()
        .args(["hook", "claude", "permission-request"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    child
}

#[test]
fn decide_approves_a_waiting_hook_request_with_the_hash_it_was_shown() {
    let env = Env::new();
    let _d = env.daemon();
    let app = connected(&env);
    let hook = hook_request(&env, "make test");
    let p = poll(30, "the request to be pending", || {
        let s: DesktopState = app.call("get_state", json!({}));
        s.pending.into_iter().next()
    });
    assert_eq!(p.command.as_deref(), Some("make test"));
    let e = app.error(
        "decide",
        json!({ "requestId": p.request_id, "actionHash": "00".repeat(32),
                "decision": "approve", "confirmedHighRisk": false }),
    );
    assert!(e.message.contains("Nothing was approved"), "{e:?}");
    let () = app.call(
        "decide",
        json!({ "requestId": p.request_id, "actionHash": p.action_hash,
                "decision": "approve", "confirmedHighRisk": false }),
    );
    let out = hook.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "allow");
}

#[test]
fn pair_start_opens_an_offer_with_a_qr_code_of_its_url() {
    let env = Env::new();
    let _d = env.daemon();
    let app = connected(&env);
    let offer: PairOfferView = app.call("pair_start", json!({}));
    assert!(!offer.url.is_empty());
    assert_eq!(
        offer.qr.modules.len(),
        (offer.qr.width * offer.qr.width) as usize
    );
    let e = app.error("pair_next", json!({ "session": "nosuchsession" }));
    assert!(!e.message.is_empty());
    let e = app.error(
        "pair_answer",
        json!({ "session": "nosuchsession", "accept": false }),
    );
    assert!(!e.message.is_empty());
}

#[test]
fn devices_are_listed_and_an_unknown_device_cannot_be_renamed_or_revoked() {
    let env = Env::new();
    let _d = env.daemon();
    let app = connected(&env);
    let list: Vec<DeviceView> = app.call("devices", json!({}));
    assert!(list.is_empty());
    let e = app.error(
        "rename_device",
        json!({ "id": "ab".repeat(8), "name": "phone" }),
    );
    assert!(!e.message.is_empty());
    let e = app.error("revoke_device", json!({ "id": "ab".repeat(8) }));
    assert!(!e.message.is_empty());
}

#[test]
fn audit_lists_the_stop_the_window_asked_for_and_the_chain_verifies() {
    let env = Env::new();
    let _d = env.daemon();
    let (_agent, pids) = env.agent("claude", &["sleep"]);
    let app = connected(&env);
    let id = agent_id(&app, pids[0]);
    let r: HaltResultView = app.call("halt", json!({ "op": "stop", "target": id }));
    assert!(r.success, "{r:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let rows = loop {
        let rows: Vec<AuditRow> = app.call(
            "audit",
            json!({ "filter": { "action": "stop", "limit": 1000 } }),
        );
        if rows.iter().any(|r| r.target == id) {
            break rows;
        }
        if std::time::Instant::now() > deadline {
            // Say what the log holds, so a failure can be understood.
            let all: Vec<AuditRow> = app.call("audit", json!({ "filter": { "limit": 50 } }));
            panic!(
                "the stop of {id} never reached the audit log; halt said {r:?}; the log holds {all:#?}"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let row = rows.iter().find(|r| r.target == id).unwrap();
    assert_eq!(
        (row.action.as_str(), row.outcome.as_str()),
        ("stop", "ok"),
        "{row:?}"
    );
    let v: VerifyView = app.call("audit_verify", json!({}));
    assert!(v.ok, "{v:?}");
    assert!(v.records >= 1);
}

#[test]
fn the_window_cannot_call_a_plugin_command_it_was_not_granted() {
    let env = Env::new();
    let (desktop, token) = env.desktop();
    let app = TestApp::new(desktop, token);
    assert!(app.invoke("plugin:autostart|enable", json!({})).is_err());
    assert!(app.invoke("plugin:app|version", json!({})).is_err());
}
