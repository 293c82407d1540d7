//! OpenClaw end to end, in a private HOME: `reins install openclaw` through
//! the real binary (OPENCLAW_STATE_DIR respected), the doctor's section, and
//! `reins hook openclaw before-tool-call` against a running daemon, which
//! records the call and never makes the hook wait.

mod common;
use common::*;

const CONFIG: &str = "{\n  \"gateway\": {\n    \"port\": 18789\n  }\n}\n";

fn with_state(env: &Env, args: &[&str]) -> std::process::Output {
    env.reins()
        .env("OPENCLAW_STATE_DIR", env.path("oc"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn install_openclaw_writes_the_plugin_under_the_state_dir_and_uninstall_restores() {
    let env = Env::new();
    let config = env.path("oc/openclaw.json");
    write(&config, CONFIG);

    let o = with_state(&env, &["install", "openclaw", "--print"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"reinsPath\""), "{}", stdout(&o));
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        CONFIG,
        "--print writes nothing"
    );

    let o = with_state(&env, &["install", "openclaw"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("NOTE: OpenClaw keeps askFallback"),
        "{}",
        stdout(&o)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let exe = reins_bin().canonicalize().unwrap();
    assert_eq!(
        v["plugins"]["entries"]["reins"]["config"]["reinsPath"],
        exe.to_str().unwrap()
    );
    assert!(env.path("oc/extensions/reins/index.js").is_file());
    let again = with_state(&env, &["install", "openclaw"]);
    assert!(
        stdout(&again).contains("Nothing to change"),
        "{}",
        stdout(&again)
    );

    let o = with_state(&env, &["doctor", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let checks = doc["openclaw"]["checks"].as_array().unwrap();
    let failing: Vec<_> = checks.iter().filter(|c| c["ok"] != true).collect();
    assert!(failing.is_empty(), "{failing:?}");
    // Without the variable, this HOME has no OpenClaw: no section at all.
    let o = env.run(&["doctor", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["openclaw"].is_null(), "{doc}");

    let o = with_state(&env, &["uninstall", "openclaw"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), CONFIG);
    assert!(!env.path("oc/extensions/reins").exists());
}

#[test]
fn install_openclaw_refuses_a_project_scope() {
    let env = Env::new();
    write(&env.path("oc/openclaw.json"), CONFIG);
    let dir = env.path("proj");
    let o = with_state(
        &env,
        &["install", "openclaw", "--project", dir.to_str().unwrap()],
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("no per-project config"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_openclaw_hook_answers_at_once_with_a_daemon_and_the_daemon_records_a_block() {
    let env = Env::new();
    let _daemon = env.daemon();
    let out = |payload: &str| {
        let o = start_hook(&env, "openclaw", "before-tool-call", payload)
            .wait_with_output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let line = stdout(&o);
        assert_eq!(line.lines().count(), 1, "{line}");
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    let v = out(
        r#"{"tool_name":"exec","tool_input":{"command":"rm -rf /"},"session_id":"agent:main:main"}"#,
    );
    assert_eq!(v["action"], "block", "{v}");
    let v = out(r#"{"tool_name":"message","tool_input":{"action":"send","to":"x"}}"#);
    assert_eq!(v["action"], "ask", "{v}");
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"action":"send","to":"x"}"#)
    );
    let log = audit_log_when(&env, |l| l.contains("rm -rf /"));
    let entry = log
        .lines()
        .find(|l| l.contains("rm -rf /"))
        .expect("an audit entry");
    assert!(
        entry.contains(r#""outcome":"refused""#)
            && entry.contains(r#""session":"agent:main:main""#),
        "{entry}"
    );
}
