//! `reins install` / `uninstall` / `doctor` / `policy` end to end, in a private HOME.

mod common;
use common::*;

const USER_SETTINGS: &str = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [
      { "matcher": "Bash", "hooks": [ { "type": "command", "command": "/usr/local/bin/my-lint" } ] }
    ]
  }
}
"#;

#[test]
fn install_then_uninstall_claude_keeps_the_users_hooks_and_keys() {
    let env = Env::new();
    let settings = env.path("home/.claude/settings.json");
    write(&settings, USER_SETTINGS);

    let o = env.run(&["install", "claude", "--print"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("permission-request"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        USER_SETTINGS,
        "--print writes nothing"
    );

    assert_eq!(env.run(&["install", "claude"]).status.code(), Some(0));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(v["model"], "opus");
    let text = v.to_string();
    assert!(text.contains("/usr/local/bin/my-lint"), "user hook kept");
    let exe = reins_bin().canonicalize().unwrap();
    assert!(
        text.contains(&*exe.to_string_lossy()),
        "hook calls reins by absolute path: {text}"
    );
    assert!(text.contains("PermissionRequest"));

    let again = env.run(&["install", "claude"]);
    assert!(
        stdout(&again).contains("Nothing to change"),
        "idempotent: {}",
        stdout(&again)
    );

    let o = env.run(&["doctor"]);
    assert!(
        stdout(&o).contains("claude   hooks installed"),
        "{}",
        stdout(&o)
    );

    assert_eq!(env.run(&["uninstall", "claude"]).status.code(), Some(0));
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_str(USER_SETTINGS).unwrap();
    assert_eq!(
        after, before,
        "uninstall removes exactly what install added"
    );
    let backups = std::fs::read_dir(env.path("home/.claude"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("reins-backup")
        });
    assert!(backups.count() >= 1, "a timestamped backup was written");
}

#[test]
fn install_codex_tells_the_user_to_trust_the_hook() {
    let env = Env::new();
    let o = env.run(&["install", "codex"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("/hooks"), "{}", stdout(&o));
}

#[test]
fn a_malformed_agent_config_is_reported_with_its_line_and_left_untouched() {
    let env = Env::new();
    let settings = env.path("home/.claude/settings.json");
    write(&settings, "{\n  \"hooks\": [\n");
    let o = env.run(&["install", "claude"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("settings.json:"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        "{\n  \"hooks\": [\n"
    );
}

#[test]
fn policy_check_points_at_the_broken_line_and_policy_test_names_the_rule() {
    let env = Env::new();
    let policy = env.path("config/reins/policy.toml");
    write(
        &policy,
        "[[rule]]\nname = \"tests\"\ncommand = \"cargo test*\"\nresult = \"allow\"\n",
    );
    let o = env.run(&["policy", "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let payload = r#"{"session_id":"s","transcript_path":"/t","cwd":"/w","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"cargo test --all"}}"#;
    let o = env.run(&["policy", "test", payload]);
    assert!(
        stdout(&o).contains("Allow") && stdout(&o).contains("'tests'"),
        "{}",
        stdout(&o)
    );
    let o = env.run(&[
        "policy",
        "test",
        &payload.replace("cargo test --all", "rm -rf /"),
    ]);
    assert!(
        stdout(&o).contains("Deny") && stdout(&o).contains("built-in"),
        "{}",
        stdout(&o)
    );

    write(&policy, "[[rule]]\nname = \"x\"\nresult = \"sometimes\"\n");
    let o = env.run(&["policy", "check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("policy.toml:3"), "{}", stderr(&o));
    // A broken policy keeps the daemon from starting half-configured.
    let o = env.reins().arg("daemon").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!env.socket().exists());
}

#[test]
fn service_install_writes_the_unit_once_and_uninstall_removes_it_without_systemd() {
    let env = Env::new();
    // No systemctl on PATH: the commands are printed instead of run.
    let empty = env.path("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let run = |args: &[&str]| env.reins().env("PATH", &empty).args(args).output().unwrap();
    let unit = env.path("config/systemd/user/reins.service");

    let o = run(&["service", "install", "--print"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("ExecStart="), "{}", stdout(&o));
    assert!(!unit.exists(), "--print writes nothing");

    let o = run(&["service", "install"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("systemctl --user enable --now reins.service"),
        "{out}"
    );
    assert!(out.contains("loginctl enable-linger"), "{out}");
    let text = std::fs::read_to_string(&unit).unwrap();
    let exe = reins_bin().canonicalize().unwrap();
    assert!(
        text.contains(&format!("ExecStart={} daemon", exe.display())),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("PrivatePIDs=")),
        "{text}"
    );

    let o = run(&["service", "install"]);
    assert!(stdout(&o).contains("is up to date"), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), text);

    let o = run(&["service", "uninstall"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!unit.exists());
    let o = run(&["service", "uninstall"]);
    assert!(stdout(&o).contains("Nothing to remove"), "{}", stdout(&o));
}
