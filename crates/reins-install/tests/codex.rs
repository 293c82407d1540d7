//! Codex: `hooks.json` plus `notify` in `config.toml`.

mod common;

use common::{Env, json};
use reins_install::{
    Agent, CODEX_TRUST_NOTICE, HookEvent, InstallError, Op, Scope, Status, check, plan,
};

const HOOKS: &str = ".codex/hooks.json";
const CONFIG: &str = ".codex/config.toml";

const USER_CONFIG: &str = r#"# my codex config
model = "gpt-5-codex"   # pinned
approval_policy = "on-request"

[sandbox_workspace_write]
network_access = false # keep it off

[mcp_servers.docs]
command = "docs-mcp"
args = ["--port", "0"]
"#;

const USER_HOOKS: &str = r#"{
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "python3 ~/.codex/guard.py",
            "timeout": 10
          }
        ]
      }
    ]
  }
}
"#;

fn notify_line(env: &Env) -> String {
    format!(
        "notify = [\"{}\", \"hook\", \"codex\", \"notify\"]",
        env.exe.display()
    )
}

#[test]
fn install_adds_both_hooks_and_notify_and_tells_the_user_to_trust_them_in_slash_hooks() {
    let env = Env::new();
    env.write(CONFIG, USER_CONFIG);
    env.write(HOOKS, USER_HOOKS);
    let (p, applied) = env.apply(Agent::Codex, Op::Install);
    assert!(p.notices.iter().any(|n| n == CODEX_TRUST_NOTICE));
    assert!(CODEX_TRUST_NOTICE.contains("/hooks"));
    assert!(p.conflicts.is_empty());
    assert_eq!(applied.written.len(), 2);

    let v = json(&env.read(HOOKS).unwrap());
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre[0]["hooks"][0]["command"], "python3 ~/.codex/guard.py");
    assert!(pre[1].get("matcher").is_none());
    assert_eq!(
        pre[1]["hooks"][0]["command"],
        format!("{} hook codex pre-tool-use", env.exe.display())
    );
    let perm = &v["hooks"]["PermissionRequest"][0]["hooks"][0];
    assert_eq!(
        perm["command"],
        format!("{} hook codex permission-request", env.exe.display())
    );
    assert_eq!(perm["timeout"], 120);

    let config = env.read(CONFIG).unwrap();
    assert!(config.contains(&notify_line(&env)), "{config}");
    assert!(config.contains("network_access = false # keep it off"));
    let notify_at = config.find("notify =").unwrap();
    assert!(
        notify_at < config.find("[sandbox_workspace_write]").unwrap(),
        "notify stays top-level"
    );
    assert_eq!(
        check(Agent::Codex, &Scope::User, &env.home, &env.exe),
        Status::Installed
    );
}

#[test]
fn install_then_uninstall_restores_config_toml_and_hooks_json_byte_for_byte() {
    let env = Env::new();
    env.write(CONFIG, USER_CONFIG);
    env.write(HOOKS, USER_HOOKS);
    env.apply(Agent::Codex, Op::Install);
    let (p, _) = env.apply(Agent::Codex, Op::Uninstall);
    assert_eq!(p.changes.len(), 2);
    assert_eq!(env.read(CONFIG).unwrap(), USER_CONFIG);
    assert_eq!(env.read(HOOKS).unwrap(), USER_HOOKS);
    assert!(
        env.plan(Agent::Codex, Op::Uninstall).is_noop(),
        "uninstall is idempotent"
    );
}

#[test]
fn installing_twice_plans_no_change_but_still_carries_the_trust_notice() {
    let env = Env::new();
    env.write(CONFIG, USER_CONFIG);
    env.apply(Agent::Codex, Op::Install);
    let backups = env.backups().len();
    let (p, applied) = env.apply(Agent::Codex, Op::Install);
    assert!(p.is_noop());
    assert!(applied.backups.is_empty());
    assert_eq!(env.backups().len(), backups);
    assert!(p.notices.iter().any(|n| n == CODEX_TRUST_NOTICE));
}

#[test]
fn a_different_existing_notify_is_reported_as_a_conflict_and_not_clobbered() {
    let env = Env::new();
    let config = "notify = [\"python3\", \"/home/me/notify.py\"]\n";
    env.write(CONFIG, config);
    let (p, _) = env.apply(Agent::Codex, Op::Install);
    assert_eq!(p.conflicts.len(), 1);
    assert!(p.conflicts[0].contains("notify.py"), "{}", p.conflicts[0]);
    assert!(
        p.conflicts[0].contains("hook codex notify"),
        "{}",
        p.conflicts[0]
    );
    assert_eq!(env.read(CONFIG).unwrap(), config);
    assert!(env.read(HOOKS).is_some(), "hooks.json is still installed");

    match check(Agent::Codex, &Scope::User, &env.home, &env.exe) {
        Status::Partial {
            needs_update,
            conflicts,
        } => {
            assert!(needs_update.is_empty());
            assert_eq!(conflicts.len(), 1);
        }
        other => panic!("expected Partial, got {other:?}"),
    }
    // Uninstall must not remove the user's notify either.
    env.apply(Agent::Codex, Op::Uninstall);
    assert_eq!(env.read(CONFIG).unwrap(), config);
}

#[test]
fn reinstalling_with_a_new_reins_path_replaces_our_notify_and_hooks() {
    let env = Env::new();
    env.write(CONFIG, USER_CONFIG);
    env.apply(Agent::Codex, Op::Install);
    let moved = env.root.join("new place/reins");
    env.apply_with(Agent::Codex, &Scope::User, &moved, Op::Install);
    let config = env.read(CONFIG).unwrap();
    assert_eq!(config.matches("notify =").count(), 1);
    assert!(config.contains(&moved.display().to_string()));
    let v = json(&env.read(HOOKS).unwrap());
    let perm = v["hooks"]["PermissionRequest"].as_array().unwrap();
    assert_eq!(perm.len(), 1);
    assert_eq!(
        perm[0]["hooks"][0]["command"],
        format!("'{}' hook codex permission-request", moved.display())
    );
    assert_eq!(
        check(Agent::Codex, &Scope::User, &env.home, &moved),
        Status::Installed
    );
}

#[test]
fn malformed_config_toml_is_an_error_with_its_line_and_nothing_is_written() {
    let env = Env::new();
    let bad = "model = \"x\"\n[features\nhooks = true\n";
    env.write(CONFIG, bad);
    let err = plan(Agent::Codex, &Scope::User, &env.home, &env.exe, Op::Install).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, InstallError::Malformed { line: 2, .. }),
        "{msg}"
    );
    assert!(msg.contains("config.toml:2:"), "{msg}");
    assert_eq!(env.read(HOOKS), None, "hooks.json not created");
    assert_eq!(env.read(CONFIG).unwrap(), bad);
    assert!(matches!(
        check(Agent::Codex, &Scope::User, &env.home, &env.exe),
        Status::Unreadable { .. }
    ));
}

#[test]
fn hooks_turned_off_in_features_is_reported_as_a_conflict() {
    let env = Env::new();
    env.write(CONFIG, "[features]\nhooks = false\n");
    let p = env.plan(Agent::Codex, Op::Install);
    assert!(
        p.conflicts.iter().any(|c| c.contains("[features]")),
        "{:?}",
        p.conflicts
    );
}

#[test]
fn fresh_home_round_trip_leaves_no_codex_files() {
    let env = Env::new();
    env.apply(Agent::Codex, Op::Install);
    assert_eq!(
        env.read(CONFIG).unwrap(),
        format!("{}\n", notify_line(&env))
    );
    env.apply(Agent::Codex, Op::Uninstall);
    assert_eq!(env.read(CONFIG), None);
    assert_eq!(env.read(HOOKS), None);
}

#[test]
fn project_scope_uses_the_project_dot_codex_directory_and_mentions_project_trust() {
    let env = Env::new();
    let project = env.root.join("repo");
    let scope = Scope::Project(project.clone());
    let p = env.plan_with(Agent::Codex, &scope, &env.exe, Op::Install);
    let paths: Vec<_> = p.paths().map(|p| p.to_path_buf()).collect();
    assert_eq!(
        paths,
        [
            project.join(".codex/hooks.json"),
            project.join(".codex/config.toml")
        ]
    );
    assert_eq!(
        paths,
        reins_install::config_paths(Agent::Codex, &scope, &env.home)
    );
    assert!(p.notices.iter().any(|n| n.contains("trust the project")));
}

#[test]
fn check_names_the_missing_notify_when_only_hooks_json_is_installed() {
    let env = Env::new();
    env.apply(Agent::Codex, Op::Install);
    std::fs::write(env.path(CONFIG), "").unwrap();
    assert_eq!(
        check(Agent::Codex, &Scope::User, &env.home, &env.exe),
        Status::Partial {
            needs_update: vec![HookEvent::Notify],
            conflicts: vec![]
        }
    );
}
