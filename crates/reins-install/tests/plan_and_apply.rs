//! Cross-agent behaviour of `plan`/`apply`: print mode, malformed files,
//! argument validation, races, and idempotency for every agent.

mod common;

use common::{Env, now};
use reins_install::{Agent, InstallError, Op, Scope, plan};

#[test]
fn print_mode_returns_a_unified_diff_and_writes_nothing() {
    let env = Env::new();
    env.write(".claude/settings.json", "{\n  \"model\": \"opus\"\n}\n");
    let p = env.plan(Agent::Claude, Op::Install);
    let diff = p.diff();
    let settings = env.path(".claude/settings.json").display().to_string();
    assert!(
        diff.starts_with(&format!("--- {settings}\n+++ {settings}\n@@")),
        "{diff}"
    );
    assert!(
        diff.contains("-  \"model\": \"opus\"\n+  \"model\": \"opus\",\n"),
        "{diff}"
    );
    assert!(diff.contains("+        \"matcher\": \"*\","), "{diff}");
    assert_eq!(
        env.read(".claude/settings.json").unwrap(),
        "{\n  \"model\": \"opus\"\n}\n"
    );
    assert!(env.backups().is_empty());

    let codex = env.plan(Agent::Codex, Op::Install).diff();
    assert!(codex.contains("--- /dev/null\n"), "{codex}");
    assert!(codex.contains("+notify = ["), "{codex}");
    assert!(!env.path(".codex").exists());
}

#[test]
fn a_malformed_json_config_names_file_and_line_and_is_left_untouched() {
    let env = Env::new();
    let bad = "{\n  \"model\": \"opus\",\n  \"hooks\": {,\n}\n";
    for (agent, rel) in [
        (Agent::Claude, ".claude/settings.json"),
        (Agent::Gemini, ".gemini/settings.json"),
        (Agent::Cursor, ".cursor/hooks.json"),
        (Agent::Codex, ".codex/hooks.json"),
        (Agent::Copilot, ".copilot/hooks/reins.json"),
    ] {
        env.write(rel, bad);
        for op in [Op::Install, Op::Uninstall] {
            let err = plan(agent, &Scope::User, &env.home, &env.exe, op).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, InstallError::Malformed { line: 3, .. }),
                "{agent}: {msg}"
            );
            assert!(
                msg.contains(&format!("{}:3:", env.path(rel).display())),
                "{msg}"
            );
            assert!(msg.contains("Nothing was changed"), "{msg}");
        }
        assert_eq!(env.read(rel).unwrap(), bad);
    }
    assert!(env.backups().is_empty());
}

#[test]
fn every_agent_installs_idempotently_and_uninstalls_idempotently() {
    let env = Env::new();
    for agent in Agent::ALL {
        let (first, _) = env.apply(agent, Op::Install);
        assert!(!first.is_noop(), "{agent}");
        assert!(
            env.plan(agent, Op::Install).is_noop(),
            "{agent}: second install is a no-op"
        );
        let (un, _) = env.apply(agent, Op::Uninstall);
        assert!(!un.is_noop(), "{agent}");
        assert!(
            env.plan(agent, Op::Uninstall).is_noop(),
            "{agent}: second uninstall is a no-op"
        );
        for path in reins_install::config_paths(agent, &Scope::User, &env.home) {
            assert!(!path.exists(), "{agent}: {} left behind", path.display());
        }
    }
}

#[test]
fn a_relative_reins_path_is_rejected_before_anything_is_read() {
    let env = Env::new();
    let err = plan(
        Agent::Claude,
        &Scope::User,
        &env.home,
        "reins".as_ref(),
        Op::Install,
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::RelativeExe(_)));
    assert!(err.to_string().contains("absolute"));
    let err = plan(
        Agent::Claude,
        &Scope::Project("rel/dir".into()),
        &env.home,
        &env.exe,
        Op::Install,
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::RelativeProject(_)));
}

#[test]
fn apply_refuses_when_the_file_changed_after_planning() {
    let env = Env::new();
    env.write(".cursor/hooks.json", "{}\n");
    let p = env.plan(Agent::Cursor, Op::Install);
    env.write(".cursor/hooks.json", "{\"version\": 1}\n");
    let err = p.apply(now()).unwrap_err();
    assert!(
        matches!(err, InstallError::ChangedSincePlan { .. }),
        "{err}"
    );
    assert_eq!(
        env.read(".cursor/hooks.json").unwrap(),
        "{\"version\": 1}\n"
    );
    assert!(env.backups().is_empty());
}

#[test]
fn agent_and_event_names_parse_from_their_cli_spelling() {
    use reins_install::HookEvent;
    assert_eq!("codex".parse::<Agent>().unwrap(), Agent::Codex);
    assert!(
        "vim"
            .parse::<Agent>()
            .unwrap_err()
            .to_string()
            .contains("claude, codex")
    );
    for agent in Agent::ALL {
        for event in agent.events() {
            assert_eq!(event.cli_name().parse::<HookEvent>().unwrap(), *event);
        }
    }
}
