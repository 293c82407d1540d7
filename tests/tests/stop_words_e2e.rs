//! A "stop" the agent cannot ignore (issue 11 §3), end to end: a fake agent
//! (bash copied under a unique name and detected by a private signature)
//! runs the real `reins hook claude user-prompt-submit` as its child against
//! an isolated daemon. A message that is only a stop word freezes the
//! agent's whole tree (state T), the hook answers "block", a subscription
//! stream and `reins status` get the alert, and a resume clears it. A
//! sentence that contains "stop" changes nothing.

mod common;
use common::*;
use reins_core::{AlertAction, AlertKind};
use reins_runtime::ipc::{ClientSurface, StreamEvent, Subscription};
use std::io::Write;
use std::process::Stdio;
use std::time::Instant;

fn prompt(text: &str) -> String {
    serde_json::json!({
        "session_id": "sw1", "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "UserPromptSubmit", "prompt": text
    })
    .to_string()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The next event `pick` accepts, skipping the others.
async fn next_matching<R>(sub: &mut Subscription, pick: impl Fn(StreamEvent) -> Option<R>) -> R {
    let wait = async {
        loop {
            let ev = sub.next().await.unwrap().expect("the stream is open");
            if let Some(r) = pick(ev) {
                return r;
            }
        }
    };
    tokio::time::timeout(T, wait).await.expect("the event came")
}

/// Poll (no sleeping) until `path` has content, or fail after [`T`].
fn wait_file(path: &std::path::Path) -> String {
    let deadline = Instant::now() + T;
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        std::thread::yield_now();
    }
    panic!("{} never got written", path.display());
}

#[test]
fn a_stop_word_freezes_the_agents_tree_blocks_the_prompt_and_resume_clears_the_alert() {
    let rt = rt();
    let name = format!("e2estop{}", std::process::id());
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"{name}\"\nexe_names = [\"{name}\"]\n"
        ),
    );
    let _d = env.daemon();
    let mut sub = rt
        .block_on(Subscription::connect(
            &env.socket(),
            ClientSurface::Observer,
        ))
        .unwrap();
    let first = rt.block_on(next_matching(&mut sub, |e| match e {
        StreamEvent::Snapshot { alerts, .. } => Some(alerts),
        _ => None,
    }));
    assert!(first.is_empty());

    write(
        &env.path("sentence.json"),
        &prompt("please don't stop the build"),
    );
    write(&env.path("stop.json"), &prompt("  STOP! \n"));
    let reins = reins_bin();
    let p = |f: &str| env.path(f).display().to_string();
    // Each hook runs as a child of the fake agent; `read` waits for the test.
    let script = format!(
        "{r} hook claude user-prompt-submit < {s} > {o1}; echo 1 > {m1}; read _; \
         {r} hook claude user-prompt-submit < {st} > {o2}; echo 2 > {m2}; read _",
        r = reins.display(),
        s = p("sentence.json"),
        o1 = p("out1"),
        m1 = p("m1"),
        st = p("stop.json"),
        o2 = p("out2"),
        m2 = p("m2"),
    );
    let mut cmd = env.bash_as_agent(&name, &script);
    cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut agent = Proc(spawn_retrying(&mut cmd));
    let pid = agent.pid();

    // A sentence with "stop" in it: passed on, nothing frozen, no alert.
    wait_file(&env.path("m1"));
    assert_eq!(std::fs::read_to_string(env.path("out1")).unwrap(), "");
    assert_ne!(proc_state(pid), Some('T'));
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["alerts"], serde_json::json!([]), "{v}");

    // Only a stop word: the whole tree freezes before the agent reads it.
    writeln!(agent.0.stdin.as_mut().unwrap()).unwrap();
    let alert = rt.block_on(next_matching(&mut sub, |e| match e {
        StreamEvent::Alert { alert } => Some(alert),
        _ => None,
    }));
    assert_eq!(
        alert.kind,
        AlertKind::StopWord {
            word: "STOP!".into()
        }
    );
    assert_eq!(alert.agent.root.pid, pid);
    assert_eq!(alert.actions, vec![AlertAction::Resume, AlertAction::Stop]);
    // "Stop word: <kind> · <project> paused; …" (the project is the test's cwd).
    assert!(
        alert.message.starts_with(&format!("Stop word: {name}"))
            && alert.message.ends_with(" paused; you typed “STOP!”"),
        "{}",
        alert.message
    );
    assert_eq!(proc_state(pid), Some('T'), "the agent is frozen");
    // The hook alone was thawed to deliver the block; the agent stays frozen.
    let out: serde_json::Value = serde_json::from_str(&wait_file(&env.path("out2"))).unwrap();
    assert_eq!(out["decision"], "block", "{out}");
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("paused this agent")
    );
    assert_eq!(proc_state(pid), Some('T'));
    assert!(!env.path("m2").exists(), "the agent did not go on");
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["alerts"][0]["id"], alert.id.0, "{v}");
    // The audit writer appends on its own thread: poll, with a deadline.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let log = loop {
        let log = std::fs::read_to_string(env.audit_log()).unwrap_or_default();
        if log.contains("\"action\":\"alert_raised\"") || std::time::Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(log.contains("\"action\":\"alert_raised\""), "{log}");
    assert!(log.contains("\"action\":\"pause\""), "{log}");

    // Resume: the alert is over on every surface and the agent goes on.
    let o = env.run(&["resume", &alert.agent.to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cleared = rt.block_on(next_matching(&mut sub, |e| match e {
        StreamEvent::AlertCleared { id } => Some(id),
        _ => None,
    }));
    assert_eq!(cleared, alert.id);
    assert_ne!(proc_state(pid), Some('T'));
    assert_eq!(wait_file(&env.path("m2")).trim(), "2");
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["alerts"], serde_json::json!([]), "{v}");
}
