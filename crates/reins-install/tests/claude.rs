//! Claude Code install/uninstall against realistic `settings.json` files.

mod common;

use common::{Env, STAMP, json, now};
use reins_install::{Agent, InstallError, Op, Scope, Status, check, plan};
use serde_json::Value;

const USER_SETTINGS: &str = r#"{
  "model": "opus",
  "permissions": {
    "allow": [
      "Bash(git status)"
    ]
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "~/bin/audit.sh"
          }
        ]
      },
      {
        "matcher": "*",
        "hooks": [
          {
            "type": "command",
            "command": "echo hi",
            "timeout": 5
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "notify-send done"
          }
        ]
      }
    ]
  },
  "statusLine": {
    "type": "command",
    "command": "~/.claude/statusline.sh"
  }
}
"#;

const SETTINGS: &str = ".claude/settings.json";

fn our_handlers(v: &Value, event: &str) -> Vec<Value> {
    v["hooks"][event]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["hooks"].as_array().unwrap().clone())
        .filter(|h| h["args"][0] == "hook")
        .collect()
}

#[test]
fn install_adds_every_event_and_keeps_user_hooks_and_unrelated_keys() {
    let env = Env::new();
    env.write(SETTINGS, USER_SETTINGS);
    env.apply(Agent::Claude, Op::Install);
    let v = json(&env.read(SETTINGS).unwrap());

    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["model", "permissions", "hooks", "statusLine"],
        "key order kept"
    );
    let events: Vec<&str> = v["hooks"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        events,
        [
            "PreToolUse",
            "Stop",
            "PermissionRequest",
            "PostToolUse",
            "Notification",
            "SessionStart",
            "SessionEnd",
            "UserPromptSubmit"
        ]
    );
    // The user's two PreToolUse groups are untouched and ours comes after them.
    let pre = v["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 3);
    assert_eq!(pre[0]["hooks"][0]["command"], "~/bin/audit.sh");
    assert_eq!(pre[1]["hooks"][0]["command"], "echo hi");
    assert_eq!(
        v["hooks"]["Stop"][0]["hooks"][0]["command"],
        "notify-send done"
    );

    let perm = &v["hooks"]["PermissionRequest"][0];
    assert_eq!(perm["matcher"], "*");
    assert_eq!(
        perm["hooks"][0],
        serde_json::json!({
            "type": "command",
            "command": env.exe.to_str().unwrap(),
            "args": ["hook", "claude", "permission-request"],
            "timeout": 600
        })
    );
    assert!(
        v["hooks"]["Stop"][1].get("matcher").is_none(),
        "lifecycle events omit the matcher"
    );
    assert_eq!(v["hooks"]["Stop"][1]["hooks"][0]["args"][2], "stop");
}

#[test]
fn install_then_uninstall_restores_the_original_bytes() {
    let env = Env::new();
    env.write(SETTINGS, USER_SETTINGS);
    env.apply(Agent::Claude, Op::Install);
    assert_ne!(env.read(SETTINGS).unwrap(), USER_SETTINGS);
    env.apply(Agent::Claude, Op::Uninstall);
    assert_eq!(env.read(SETTINGS).unwrap(), USER_SETTINGS);
}

#[test]
fn four_space_indented_settings_also_round_trip_byte_for_byte() {
    let env = Env::new();
    let four = USER_SETTINGS.replace("  ", "    ");
    env.write(SETTINGS, &four);
    env.apply(Agent::Claude, Op::Install);
    assert!(
        env.read(SETTINGS)
            .unwrap()
            .contains("\n        \"PermissionRequest\"")
    );
    env.apply(Agent::Claude, Op::Uninstall);
    assert_eq!(env.read(SETTINGS).unwrap(), four);
}

#[test]
fn installing_twice_changes_nothing_the_second_time_and_writes_no_new_backup() {
    let env = Env::new();
    env.write(SETTINGS, USER_SETTINGS);
    let (_, first) = env.apply(Agent::Claude, Op::Install);
    assert_eq!(first.backups.len(), 1);
    let after_first = env.read(SETTINGS).unwrap();

    let (second_plan, second) = env.apply(Agent::Claude, Op::Install);
    assert!(second_plan.is_noop());
    assert_eq!(second_plan.diff(), "");
    assert!(second.written.is_empty() && second.backups.is_empty());
    assert_eq!(env.read(SETTINGS).unwrap(), after_first);
    assert_eq!(env.backups().len(), 1);
}

#[test]
fn the_backup_holds_the_original_text_and_is_named_with_the_utc_time() {
    let env = Env::new();
    let path = env.write(SETTINGS, USER_SETTINGS);
    let (_, applied) = env.apply(Agent::Claude, Op::Install);
    let expected = format!("{}.reins-backup-{STAMP}", path.display());
    assert_eq!(applied.backups, vec![std::path::PathBuf::from(&expected)]);
    assert_eq!(std::fs::read_to_string(expected).unwrap(), USER_SETTINGS);
    assert_eq!(applied.written, vec![path]);
}

#[test]
fn creating_a_new_settings_file_makes_parent_dirs_and_no_backup() {
    let env = Env::new();
    let (plan, applied) = env.apply(Agent::Claude, Op::Install);
    assert!(plan.changes[0].before.is_none());
    assert!(applied.backups.is_empty());
    let v = json(&env.read(SETTINGS).unwrap());
    assert_eq!(our_handlers(&v, "SessionEnd").len(), 1);
}

#[test]
fn reinstalling_with_a_new_reins_path_replaces_our_entries_instead_of_duplicating() {
    let env = Env::new();
    env.write(SETTINGS, USER_SETTINGS);
    env.apply(Agent::Claude, Op::Install);
    let moved = env.root.join("usr/local/bin/reins");
    env.apply_with(Agent::Claude, &Scope::User, &moved, Op::Install);

    let v = json(&env.read(SETTINGS).unwrap());
    for event in [
        "PermissionRequest",
        "PreToolUse",
        "PostToolUse",
        "Notification",
        "SessionStart",
        "SessionEnd",
        "Stop",
    ] {
        let ours = our_handlers(&v, event);
        assert_eq!(ours.len(), 1, "{event}");
        assert_eq!(ours[0]["command"], moved.to_str().unwrap(), "{event}");
    }
    assert_eq!(
        v["hooks"]["PreToolUse"].as_array().unwrap().len(),
        3,
        "no extra group"
    );
}

#[test]
fn our_entry_placed_inside_a_user_group_is_updated_in_place() {
    let env = Env::new();
    let text = r#"{
  "hooks": {
    "PermissionRequest": [
      {
        "matcher": "*",
        "hooks": [
          { "type": "command", "command": "/old/reins", "args": ["hook", "claude", "permission-request"] },
          { "type": "command", "command": "logger perm" }
        ]
      }
    ]
  }
}"#;
    env.write(SETTINGS, text);
    env.apply(Agent::Claude, Op::Install);
    let v = json(&env.read(SETTINGS).unwrap());
    let groups = v["hooks"]["PermissionRequest"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["hooks"][0]["command"], env.exe.to_str().unwrap());
    assert_eq!(groups[0]["hooks"][0]["timeout"], 600);
    assert_eq!(groups[0]["hooks"][1]["command"], "logger perm");

    // Uninstall keeps the user's group because it still holds their hook.
    env.apply(Agent::Claude, Op::Uninstall);
    let v = json(&env.read(SETTINGS).unwrap());
    assert_eq!(
        v["hooks"]["PermissionRequest"],
        serde_json::json!([{"matcher": "*", "hooks": [{"type": "command", "command": "logger perm"}]}])
    );
}

#[test]
fn uninstall_is_idempotent_and_leaves_user_empty_containers_alone() {
    let env = Env::new();
    let text = "{\n  \"hooks\": {\n    \"PreToolUse\": []\n  }\n}\n";
    env.write(SETTINGS, text);
    let (p, _) = env.apply(Agent::Claude, Op::Uninstall);
    assert!(p.is_noop());
    assert_eq!(env.read(SETTINGS).unwrap(), text);
}

#[test]
fn install_then_uninstall_on_a_fresh_home_leaves_no_file_behind() {
    let env = Env::new();
    env.apply(Agent::Claude, Op::Install);
    let (p, applied) = env.apply(Agent::Claude, Op::Uninstall);
    assert_eq!(p.changes[0].after, None);
    assert_eq!(
        applied.backups.len(),
        1,
        "the deleted file is still backed up"
    );
    assert_eq!(env.read(SETTINGS), None);
}

#[test]
fn project_scope_writes_the_uncommitted_local_settings_file() {
    let env = Env::new();
    let project = env.root.join("work/app");
    let scope = Scope::Project(project.clone());
    let (p, _) = env.apply_with(Agent::Claude, &scope, &env.exe, Op::Install);
    assert_eq!(
        p.changes[0].path,
        project.join(".claude/settings.local.json")
    );
    assert!(p.notices.iter().any(|n| n.contains("settings.local.json")));
    assert!(project.join(".claude/settings.local.json").exists());
    assert_eq!(env.read(SETTINGS), None, "user scope untouched");
    assert_eq!(
        check(Agent::Claude, &scope, &env.home, &env.exe),
        Status::Installed
    );
}

#[test]
fn disable_all_hooks_is_reported_as_a_conflict_and_left_alone() {
    let env = Env::new();
    env.write(SETTINGS, "{\n  \"disableAllHooks\": true\n}\n");
    let p = env.plan(Agent::Claude, Op::Install);
    assert_eq!(p.conflicts.len(), 1);
    assert!(p.conflicts[0].contains("disableAllHooks"));
    p.apply(now()).unwrap();
    assert_eq!(json(&env.read(SETTINGS).unwrap())["disableAllHooks"], true);
}

#[test]
fn a_hooks_key_that_is_not_an_object_is_an_error_and_nothing_is_written() {
    let env = Env::new();
    env.write(SETTINGS, "{\"hooks\": [1]}");
    let err = plan(
        Agent::Claude,
        &Scope::User,
        &env.home,
        &env.exe,
        Op::Install,
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::UnexpectedShape { .. }));
    assert!(err.to_string().contains("settings.json"), "{err}");
}

#[test]
fn check_reports_not_installed_installed_partial_and_stale_path() {
    let env = Env::new();
    env.write(SETTINGS, USER_SETTINGS);
    assert_eq!(
        check(Agent::Claude, &Scope::User, &env.home, &env.exe),
        Status::NotInstalled
    );

    env.apply(Agent::Claude, Op::Install);
    assert_eq!(
        check(Agent::Claude, &Scope::User, &env.home, &env.exe),
        Status::Installed
    );

    let mut v = json(&env.read(SETTINGS).unwrap());
    v["hooks"]
        .as_object_mut()
        .unwrap()
        .shift_remove("SessionEnd");
    env.write(SETTINGS, &serde_json::to_string_pretty(&v).unwrap());
    assert_eq!(
        check(Agent::Claude, &Scope::User, &env.home, &env.exe),
        Status::Partial {
            needs_update: vec![reins_install::HookEvent::SessionEnd],
            conflicts: vec![]
        }
    );

    let moved = env.root.join("elsewhere/reins");
    assert_eq!(
        check(Agent::Claude, &Scope::User, &env.home, &moved),
        Status::StalePath {
            expected: moved.clone(),
            found: vec![env.exe.clone()]
        }
    );
}
