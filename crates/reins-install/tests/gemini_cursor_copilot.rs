//! Gemini, Cursor and Copilot: shapes, round trips and project paths.

mod common;

use common::{Env, json};
use reins_install::{Agent, Op, Scope, Status, check, config_paths};
use serde_json::json as j;

const GEMINI: &str = ".gemini/settings.json";
const CURSOR: &str = ".cursor/hooks.json";
const COPILOT: &str = ".copilot/hooks/reins.json";

const GEMINI_SETTINGS: &str = r#"{
  "theme": "GitHub",
  "hooks": {
    "BeforeTool": [
      {
        "matcher": "write_file|replace",
        "hooks": [
          {
            "type": "command",
            "command": "node ~/lint.js",
            "timeout": 5000
          }
        ]
      }
    ],
    "AfterTool": [
      {
        "matcher": ".*",
        "hooks": [
          {
            "type": "command",
            "command": "log-tool"
          }
        ]
      }
    ]
  },
  "mcpServers": {}
}
"#;

const CURSOR_HOOKS: &str = r#"{
  "version": 1,
  "hooks": {
    "beforeShellExecution": [
      {
        "command": "./hooks/audit.sh"
      }
    ],
    "afterFileEdit": [
      {
        "command": "./hooks/format.sh"
      }
    ]
  }
}
"#;

#[test]
fn gemini_gets_a_before_tool_group_matching_every_tool_with_a_millisecond_timeout() {
    let env = Env::new();
    env.write(GEMINI, GEMINI_SETTINGS);
    let (p, _) = env.apply(Agent::Gemini, Op::Install);
    assert!(p.notices.iter().any(|n| n.contains("confirmation prompt")));
    let v = json(&env.read(GEMINI).unwrap());
    let before = v["hooks"]["BeforeTool"].as_array().unwrap();
    assert_eq!(before.len(), 2);
    assert_eq!(before[0]["matcher"], "write_file|replace");
    assert_eq!(
        before[1],
        j!({"matcher": ".*", "hooks": [{
            "type": "command",
            "command": format!("{} hook gemini before-tool", env.exe.display()),
            "name": "reins",
            "timeout": 600000
        }]})
    );
    assert_eq!(
        v["hooks"]["AfterTool"][0]["hooks"][0]["command"],
        "log-tool"
    );
}

#[test]
fn gemini_install_then_uninstall_restores_the_original_bytes() {
    let env = Env::new();
    env.write(GEMINI, GEMINI_SETTINGS);
    env.apply(Agent::Gemini, Op::Install);
    env.apply(Agent::Gemini, Op::Uninstall);
    assert_eq!(env.read(GEMINI).unwrap(), GEMINI_SETTINGS);
}

#[test]
fn gemini_with_hooks_disabled_reports_a_conflict() {
    let env = Env::new();
    env.write(GEMINI, r#"{"hooksConfig": {"enabled": false}}"#);
    let p = env.plan(Agent::Gemini, Op::Install);
    assert!(p.conflicts[0].contains("hooksConfig.enabled"));
}

#[test]
fn a_reins_path_with_spaces_is_shell_quoted_and_still_recognised_as_ours() {
    let env = Env::new();
    let exe = env.root.join("My Apps/Reins's/reins");
    env.apply_with(Agent::Gemini, &Scope::User, &exe, Op::Install);
    let v = json(&env.read(GEMINI).unwrap());
    let cmd = v["hooks"]["BeforeTool"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cmd.starts_with('\'') && cmd.ends_with("' hook gemini before-tool"),
        "{cmd}"
    );
    assert_eq!(
        check(Agent::Gemini, &Scope::User, &env.home, &exe),
        Status::Installed
    );
    assert!(
        env.plan_with(Agent::Gemini, &Scope::User, &exe, Op::Install)
            .is_noop()
    );
    env.apply_with(Agent::Gemini, &Scope::User, &exe, Op::Uninstall);
    assert_eq!(env.read(GEMINI), None);
}

#[test]
fn cursor_appends_flat_entries_after_the_users_own() {
    let env = Env::new();
    env.write(CURSOR, CURSOR_HOOKS);
    env.apply(Agent::Cursor, Op::Install);
    let v = json(&env.read(CURSOR).unwrap());
    let shell = v["hooks"]["beforeShellExecution"].as_array().unwrap();
    assert_eq!(shell[0], j!({"command": "./hooks/audit.sh"}));
    assert_eq!(
        shell[1],
        j!({"command": format!("{} hook cursor before-shell-execution", env.exe.display()), "timeout": 120})
    );
    assert_eq!(v["hooks"]["preToolUse"][0]["timeout"], 30);
    assert_eq!(
        v["hooks"]["afterFileEdit"][0]["command"],
        "./hooks/format.sh"
    );
}

#[test]
fn cursor_install_then_uninstall_restores_the_original_bytes() {
    let env = Env::new();
    env.write(CURSOR, CURSOR_HOOKS);
    env.apply(Agent::Cursor, Op::Install);
    assert!(env.plan(Agent::Cursor, Op::Install).is_noop());
    env.apply(Agent::Cursor, Op::Uninstall);
    assert_eq!(env.read(CURSOR).unwrap(), CURSOR_HOOKS);
}

#[test]
fn a_new_cursor_file_starts_with_version_1_and_is_removed_again_by_uninstall() {
    let env = Env::new();
    env.apply(Agent::Cursor, Op::Install);
    let v = json(&env.read(CURSOR).unwrap());
    assert_eq!(v.as_object().unwrap().keys().next().unwrap(), "version");
    assert_eq!(v["version"], 1);
    env.apply(Agent::Cursor, Op::Uninstall);
    assert_eq!(env.read(CURSOR), None);
}

#[test]
fn copilot_gets_a_reins_owned_file_with_bash_commands_and_second_timeouts() {
    let env = Env::new();
    env.apply(Agent::Copilot, Op::Install);
    let v = json(&env.read(COPILOT).unwrap());
    assert_eq!(
        v,
        j!({"version": 1, "hooks": {
            "permissionRequest": [{"type": "command",
                "bash": format!("{} hook copilot permission-request", env.exe.display()),
                "timeoutSec": 120}],
            "preToolUse": [{"type": "command",
                "bash": format!("{} hook copilot pre-tool-use", env.exe.display()),
                "timeoutSec": 30}]
        }})
    );
    assert_eq!(
        check(Agent::Copilot, &Scope::User, &env.home, &env.exe),
        Status::Installed
    );
    env.apply(Agent::Copilot, Op::Uninstall);
    assert_eq!(env.read(COPILOT), None, "our own file is deleted");
    assert!(env.plan(Agent::Copilot, Op::Uninstall).is_noop());
}

#[test]
fn copilot_uninstall_keeps_the_file_when_the_user_added_their_own_hook_to_it() {
    let env = Env::new();
    env.apply(Agent::Copilot, Op::Install);
    let mut v = json(&env.read(COPILOT).unwrap());
    v["hooks"]["sessionStart"] = j!([{"type": "command", "bash": "echo hi"}]);
    env.write(COPILOT, &serde_json::to_string_pretty(&v).unwrap());
    env.apply(Agent::Copilot, Op::Uninstall);
    assert_eq!(
        json(&env.read(COPILOT).unwrap()),
        j!({"version": 1, "hooks": {"sessionStart": [{"type": "command", "bash": "echo hi"}]}})
    );
}

#[test]
fn project_scope_paths_follow_each_agents_convention() {
    let env = Env::new();
    let project = env.root.join("proj");
    let scope = Scope::Project(project.clone());
    assert_eq!(
        config_paths(Agent::Gemini, &scope, &env.home),
        [project.join(".gemini/settings.json")]
    );
    assert_eq!(
        config_paths(Agent::Cursor, &scope, &env.home),
        [project.join(".cursor/hooks.json")]
    );
    assert_eq!(
        config_paths(Agent::Copilot, &scope, &env.home),
        [project.join(".github/hooks/reins.json")]
    );
    assert_eq!(
        config_paths(Agent::Claude, &scope, &env.home),
        [project.join(".claude/settings.local.json")]
    );
    assert_eq!(
        config_paths(Agent::Copilot, &Scope::User, &env.home),
        [env.home.join(COPILOT)]
    );

    for agent in [Agent::Gemini, Agent::Cursor, Agent::Copilot] {
        env.apply_with(agent, &scope, &env.exe, Op::Install);
        for path in config_paths(agent, &scope, &env.home) {
            assert!(path.exists(), "{agent}: {}", path.display());
        }
        assert_eq!(
            check(agent, &scope, &env.home, &env.exe),
            Status::Installed,
            "{agent}"
        );
        assert_eq!(
            check(agent, &Scope::User, &env.home, &env.exe),
            Status::NotInstalled,
            "{agent}"
        );
    }
}
