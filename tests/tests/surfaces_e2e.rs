//! "A prompt nobody can see never holds an agent", end to end: a real
//! daemon, real `reins hook` processes, and real surfaces: a `subscribe`
//! stream through the async IPC client, and `reins approvals --watch`.
//!
//! No duration is asserted. Prompts here may wait up to an hour (the
//! policy's timeout is 3600 s), so a prompt that waited when it should not
//! would hang the test rather than pass it slowly.

mod common;
use common::*;
use reins_runtime::ipc::{ClientSurface, Request, Response, StreamEvent, Subscription, call_async};
use std::process::Child;

fn claude_permission(session: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command }
    })
    .to_string()
}

/// An env whose prompts would wait an hour for a person.
fn patient_env() -> Env {
    let env = Env::new();
    write(
        &env.path("config/reins/policy.toml"),
        "[approvals]\ntimeout_secs = 3600\n",
    );
    env
}

fn ask(env: &Env, session: &str, command: &str) -> Child {
    start_hook(
        env,
        "claude",
        "permission-request",
        &claude_permission(session, command),
    )
}

/// (exit code, stdout) of a finished hook.
fn finish(child: Child) -> (i32, String) {
    let o = child.wait_with_output().unwrap();
    (o.status.code().unwrap_or(-1), stdout(&o))
}

fn behavior(out: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(out).unwrap()["hookSpecificOutput"]["decision"]
        ["behavior"]
        .clone()
}

fn pending_json(env: &Env) -> Vec<serde_json::Value> {
    let o = env.run(&["approvals", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Poll (paced by real CLI runs, no sleeping) until `n` are pending.
fn pending(env: &Env, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..5000 {
        let v = pending_json(env);
        if v.len() == n {
            return v;
        }
    }
    panic!("never saw {n} pending approvals");
}

fn audit(env: &Env) -> String {
    std::fs::read_to_string(env.audit_log()).unwrap_or_default()
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

#[test]
fn with_no_surface_the_hook_abstains_at_once_and_a_surface_makes_the_next_one_wait() {
    let env = patient_env();
    let _d = env.daemon();
    assert_eq!(terminal_surfaces(&env), 0);
    let (code, out) = finish(ask(&env, "s1", "make deploy"));
    assert_eq!((code, out.as_str()), (0, ""), "abstain: no output, exit 0");
    assert!(pending_json(&env).is_empty(), "nothing was left waiting");
    let log = audit(&env);
    assert!(
        log.contains("no surface could show the prompt") && log.contains("make deploy"),
        "the abstention is audited: {log}"
    );

    // A surface appears: the next prompt waits for it.
    let _w = Watcher::start(&env);
    let h = ask(&env, "s2", "make deploy");
    let p = pending(&env, 1);
    let id = p[0]["request_id"].as_str().unwrap();
    assert_eq!(env.run(&["deny", id]).status.code(), Some(0));
    assert_eq!(behavior(&finish(h).1), "deny");
}

#[test]
fn a_subscriber_is_a_surface_it_streams_the_request_and_a_decision_over_ipc_approves_it() {
    let env = patient_env();
    let _d = env.daemon();
    let socket = env.socket();
    let rt = rt();
    let mut sub = rt.block_on(async {
        let mut sub = Subscription::connect(&socket, ClientSurface::Terminal)
            .await
            .unwrap();
        let first = sub.next().await.unwrap().unwrap();
        assert!(
            matches!(&first, StreamEvent::Snapshot { surfaces, pending, .. }
                if surfaces.live.len() == 1 && pending.is_empty()),
            "a snapshot first, showing this subscriber: {first:?}"
        );
        sub
    });
    let h = ask(&env, "s1", "cargo publish");
    let request = rt.block_on(next_matching(&mut sub, |ev| match ev {
        StreamEvent::Approval {
            change: reins_approval::BrokerEvent::Requested { request },
        } => Some(request),
        _ => None,
    }));
    assert_eq!(request.command.as_deref(), Some("cargo publish"));
    assert_eq!(pending(&env, 1).len(), 1, "it waits");
    let resp = rt.block_on(call_async(
        &socket,
        &Request::Decide {
            request_id: request.request_id,
            action_hash: request.action_hash,
            decision: reins_approval::Decision::Allow,
        },
    ));
    assert!(matches!(resp, Ok(Response::Decided { .. })), "{resp:?}");
    assert_eq!(behavior(&finish(h).1), "allow");
    rt.block_on(next_matching(&mut sub, |ev| match ev {
        StreamEvent::Approval {
            change: reins_approval::BrokerEvent::Resolved { request_id, .. },
        } if request_id == request.request_id => Some(()),
        _ => None,
    }));
}

#[test]
fn when_the_only_subscriber_hangs_up_a_waiting_prompt_abstains() {
    let env = patient_env();
    let _d = env.daemon();
    let socket = env.socket();
    let rt = rt();
    let mut sub = rt.block_on(async {
        let mut sub = Subscription::connect(&socket, ClientSurface::Window)
            .await
            .unwrap();
        sub.next().await.unwrap().unwrap();
        sub
    });
    let h = ask(&env, "s1", "terraform apply");
    rt.block_on(next_matching(&mut sub, |ev| match ev {
        StreamEvent::Approval {
            change: reins_approval::BrokerEvent::Requested { .. },
        } => Some(()),
        _ => None,
    }));
    drop(sub);
    // Withdrawn after the short grace for a surface that flaps; well before
    // the hour the policy allows.
    let (code, out) = finish(h);
    assert_eq!((code, out.as_str()), (0, ""), "abstain");
    assert!(pending_json(&env).is_empty());
    assert!(audit(&env).contains("no_surface"), "{}", audit(&env));
}

#[test]
fn approvals_watch_prints_requests_safely_and_answers_them_from_its_stdin() {
    let env = patient_env();
    let _d = env.daemon();
    let mut w = Watcher::start(&env);
    // The surfaces show in status and doctor.
    let status = stdout(&env.run(&["status"]));
    assert!(
        status.contains("terminal (reins approvals --watch)"),
        "{status}"
    );
    let doctor = env.run(&["doctor", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    assert_eq!(doc["surfaces"]["live"][0]["kind"], "terminal", "{doc}");

    let h = ask(&env, "s1", "echo hi\u{1b}[2J\u{1b}]0;owned\u{7}");
    let shown = w.out.until("answer ");
    assert!(
        !shown.contains('\u{1b}'),
        "no raw escape reaches the terminal: {shown:?}"
    );
    assert!(
        shown.contains("echo hi\\u{1b}[2J\\u{1b}]0;owned\\u{7}"),
        "the command is shown, escaped: {shown}"
    );
    assert!(
        shown.contains("/work/app") && shown.contains("risk"),
        "{shown}"
    );
    w.out.until("\n");
    w.answer("a");
    assert_eq!(behavior(&finish(h).1), "allow");
    let line = w.out.until("\n");
    assert!(line.contains("approved by"), "{line}");
}
