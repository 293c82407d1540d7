//! The `fake-openclaw-gateway` process, driven over its stdin/stdout
//! protocol, with Reins' real OpenClaw link connected to it over a real
//! socket: what the OpenClaw end-to-end tests build on.

use reins_link::MemorySecretStore;
use reins_openclaw::discover::{GatewayTarget, TokenSource};
use reins_openclaw::{ApprovalKind, GatewayDecision, LinkConfig, LinkEvent, LinkHandle};
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const BOUND: Duration = Duration::from_secs(20);

/// The fake as a child process; its stdout lines arrive on a channel.
struct FakeProc {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
}

impl FakeProc {
    fn start(token: &str) -> (FakeProc, u16) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fake-openclaw-gateway"))
            .args(["--token", token])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: Value = serde_json::from_str(&line).expect("every line is JSON");
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut me = FakeProc {
            child,
            stdin,
            lines,
        };
        let port = me.next(|v| v.get("port").and_then(Value::as_u64)) as u16;
        (me, port)
    }

    fn send(&mut self, cmd: Value) {
        writeln!(self.stdin, "{cmd}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next line that `pick` accepts (others are skipped).
    fn next<T>(&mut self, mut pick: impl FnMut(&Value) -> Option<T>) -> T {
        loop {
            let v = self.lines.recv_timeout(BOUND).expect("the fake went quiet");
            if let Some(t) = pick(&v) {
                return t;
            }
        }
    }

    fn reply(&mut self, cmd: Value) -> Value {
        self.send(cmd);
        self.next(|v| v.get("ok").is_some().then(|| v.clone()))
    }
}

impl Drop for FakeProc {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, r#"{{"cmd":"quit"}}"#);
        let _ = self.child.wait();
    }
}

#[test]
fn the_fake_gateway_process_serves_the_link_and_reports_each_decision() {
    let (mut fake, port) = FakeProc::start("tok-1");
    assert_eq!(fake.reply(json!({"cmd": "nonsense"}))["ok"], false);
    assert_eq!(fake.reply(json!({"cmd": "pending"}))["pending"], json!([]));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let target = GatewayTarget {
        url: format!("ws://127.0.0.1:{port}"),
        port,
        token: zeroize::Zeroizing::new("tok-1".into()),
        token_source: TokenSource::Env,
        config_path: None,
    };
    let config = LinkConfig {
        target,
        display_name: "Reins".into(),
        version: "test".into(),
        approver: true,
        request_timeout: Duration::from_secs(5),
    };
    let (link, mut events) = rt.block_on(async {
        LinkHandle::spawn(
            config,
            Arc::new(MemorySecretStore::new()),
            shutdown.clone(),
            &tracker,
        )
    });
    let mut next_event = |pick: &mut dyn FnMut(LinkEvent) -> Option<String>| {
        rt.block_on(async {
            tokio::time::timeout(BOUND, async {
                loop {
                    if let Some(v) = pick(events.recv().await.expect("link ended")) {
                        return v;
                    }
                }
            })
            .await
            .expect("no event in time")
        })
    };
    next_event(&mut |e| matches!(e, LinkEvent::Snapshot(_)).then(String::new));

    let id = fake.reply(
        json!({"cmd": "request_exec", "command": "gog gmail delete --all",
        "cwd": "/home/u", "agentId": "main", "sessionKey": "agent:main:main"}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = next_event(&mut |e| match e {
        LinkEvent::Requested(a) => a.command,
        _ => None,
    });
    assert_eq!(got, "gog gmail delete --all");

    rt.block_on(link.resolve(ApprovalKind::Exec, &id, GatewayDecision::Deny))
        .unwrap();
    let d = fake.next(|v| (v["event"] == "decision").then(|| v.clone()));
    assert_eq!(d["id"], json!(id));
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["client"], "Reins");
    assert_eq!(fake.reply(json!({"cmd": "pending"}))["pending"], json!([]));

    // A decision by another client clears it in Reins too.
    let id2 = fake.reply(json!({"cmd": "request_exec", "command": "ls", "cwd": "/", "agentId": "main", "sessionKey": "s"}))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        fake.reply(json!({"cmd": "resolve", "id": id2, "decision": "allow-once"}))["applied"],
        true
    );
    let by = next_event(&mut |e| match e {
        LinkEvent::Resolved(r) if r.id == id2 => r.resolved_by,
        _ => None,
    });
    assert_eq!(by, "other-client");

    shutdown.cancel();
    tracker.close();
    rt.block_on(tracker.wait());
}
