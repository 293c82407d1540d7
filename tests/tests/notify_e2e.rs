//! Desktop notifications end to end: the real `reins daemon` on a private
//! dbus-daemon with a fake notification server, fed by a real `reins hook
//! claude permission-request`. A click from the server answers the hook; the
//! same click forged by another connection does not.

mod common;
use common::*;
use reins_notify::fake::{FakeServer, Forger, PrivateBus};
use reins_runtime::ipc::{Client, Request, Response};
use reins_runtime::surfaces::SurfaceKind;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn permission(command: &str) -> String {
    serde_json::json!({
        "session_id": "n1", "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command }
    })
    .to_string()
}

/// `reins daemon` on `bus`, waited for by its ready line.
fn daemon_on(env: &Env, bus: &PrivateBus) -> Proc {
    let mut child = env
        .reins()
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .arg("daemon")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "daemon not ready: {line:?}");
    Proc(child)
}

/// Ask the daemon (no sleeping) until notifications are a live surface.
fn wait_for_notifications(env: &Env) -> String {
    let mut c = Client::connect(&env.socket()).unwrap();
    for _ in 0..100_000 {
        if let Response::Status {
            surfaces: Some(s), ..
        } = c.call(&Request::Status).unwrap()
            && let Some(live) = s.live.iter().find(|l| l.kind == SurfaceKind::Notifications)
        {
            return live.detail.clone();
        }
    }
    panic!("the daemon never reported desktop notifications as live");
}

fn verdict(child: std::process::Child) -> serde_json::Value {
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or(serde_json::Value::Null)
}

#[test]
fn approve_on_a_notification_answers_the_real_hook_and_is_audited_as_a_notification() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bus = PrivateBus::start().unwrap();
    let mut srv = rt
        .block_on(FakeServer::start(
            bus.address(),
            &["actions", "body", "body-markup"],
        ))
        .unwrap();
    let env = Env::new();
    let _d = daemon_on(&env, &bus);
    assert_eq!(wait_for_notifications(&env), "fake-notify 1.0");
    let hook = start_hook(
        &env,
        "claude",
        "permission-request",
        &permission("make deploy <b>now</b>"),
    );
    let n = rt.block_on(srv.next_notify());
    assert_eq!(n.app_name, "Reins");
    assert_eq!(n.summary, "Claude Code wants to run a command");
    assert!(
        n.body.contains("make deploy &lt;b&gt;now&lt;/b&gt;"),
        "{}",
        n.body
    );
    assert!(n.body.contains("In: /work/app"), "{}", n.body);
    assert_eq!(n.urgency, Some(2));
    rt.block_on(srv.invoke(n.id, "approve")).unwrap();
    let v = verdict(hook);
    assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "allow");
    assert_eq!(
        rt.block_on(srv.next_close()),
        n.id,
        "the answered request's notice closes"
    );
    let by_notification = |log: &str| {
        log.lines()
            .any(|l| l.contains("approval_resolved") && l.contains(r#""type":"notification""#))
    };
    let log = audit_log_when(&env, by_notification);
    assert!(by_notification(&log), "{log}");
}

#[test]
fn a_forged_approve_from_another_connection_leaves_the_real_hook_waiting_for_a_person() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bus = PrivateBus::start().unwrap();
    let mut srv = rt
        .block_on(FakeServer::start(bus.address(), &["actions"]))
        .unwrap();
    let env = Env::new();
    let _d = daemon_on(&env, &bus);
    wait_for_notifications(&env);
    let hook = start_hook(
        &env,
        "claude",
        "permission-request",
        &permission("make deploy"),
    );
    let n = rt.block_on(srv.next_notify());
    let forger = rt.block_on(Forger::connect(bus.address())).unwrap();
    rt.block_on(async {
        forger
            .forge_action(&n.sender, n.id, "approve")
            .await
            .unwrap();
        forger.flush().await.unwrap();
    });
    // Sent after the forgeries were delivered: had one counted, the hook
    // would already have its allow.
    rt.block_on(srv.invoke(n.id, "deny")).unwrap();
    let v = verdict(hook);
    assert_eq!(
        v["hookSpecificOutput"]["decision"]["behavior"], "deny",
        "{v}"
    );
}
