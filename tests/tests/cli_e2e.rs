//! The `reins` CLI end to end: real `reins` processes, real fake-agent
//! processes under agents' names, with and without a running daemon, in
//! private XDG directories.

mod common;
use common::*;

fn agent_pids(env: &Env) -> Vec<u64> {
    status_agents(env)
        .iter()
        .map(|a| a["pid"].as_u64().unwrap())
        .collect()
}

#[test]
fn status_without_a_daemon_lists_a_running_agent_and_ignores_lookalikes() {
    let env = Env::new();
    let agent = env.spawn_agent("bin/claude", &[]);
    let _lookalike = env.spawn_agent("bin/less", &["claude.log"]);
    let agents = status_agents(&env);
    let mine: Vec<_> = agents.iter().filter(|a| a["pid"] == agent.pid()).collect();
    assert_eq!(mine.len(), 1, "{agents:?}");
    assert_eq!(mine[0]["kind"], "claude");
    assert_eq!(mine[0]["state"], "running");
    assert!(
        mine[0]["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("claude-{}-", agent.pid()))
    );
    assert!(!agent_pids(&env).contains(&(_lookalike.pid() as u64)));
}

#[test]
fn stop_without_a_daemon_kills_the_agent_and_audits_it() {
    let env = Env::new();
    let mut agent = env.spawn_agent("bin/cursor-agent", &[]);
    let o = env.run(&["stop", &agent.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("OK: stopped cursor-"), "{}", stdout(&o));
    assert!(stderr(&o).contains("acting directly"));
    assert!(is_dead(agent.pid()));
    assert!(agent.reaped());
    let log = std::fs::read_to_string(env.audit_log()).unwrap();
    assert!(
        log.contains("\"action\":\"stop\"") && log.contains("\"outcome\":\"ok\""),
        "{log}"
    );
    assert_eq!(env.run(&["log", "--verify"]).status.code(), Some(0));
}

/// An env that sees only agents named `name` (built-ins off), so `stop all`
/// can never touch another test's agents or a real agent on this machine.
fn private_agents_env(name: &str) -> Env {
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"e2e\"\nexe_names = [\"{name}\"]\n"
        ),
    );
    env
}

#[test]
fn stop_all_with_no_agents_says_so_and_succeeds() {
    let env = private_agents_env(&format!("none{}", std::process::id()));
    let o = env.run(&["stop", "all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("No agents running"), "{}", stdout(&o));
}

#[test]
fn stop_all_stops_every_agent_without_a_daemon_and_with_one() {
    let name = format!("all{}", std::process::id());
    let env = private_agents_env(&name);
    let bystander = env.spawn_agent("bin/claude", &[]);
    let mut agents: Vec<Proc> = (0..3)
        .map(|_| env.spawn_agent(&format!("bin/{name}"), &[]))
        .collect();
    let o = env.run(&["stop", "all", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["targets"].as_array().unwrap().len(), 3);
    assert!(agents.iter_mut().all(Proc::reaped));

    let mut agents: Vec<Proc> = (0..3)
        .map(|_| env.spawn_agent(&format!("bin/{name}"), &[]))
        .collect();
    let _daemon = env.daemon();
    let o = env.run(&["stop", "all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).matches("OK: stopped e2e-").count(),
        3,
        "{}",
        stdout(&o)
    );
    assert!(agents.iter_mut().all(Proc::reaped));
    assert!(
        !is_dead(bystander.pid()),
        "a process outside the signature table was not touched"
    );
}

#[test]
fn an_unknown_agent_id_exits_3_and_lists_the_agents_that_exist() {
    let env = Env::new();
    let agent = env.spawn_agent("bin/opencode", &[]);
    let o = env.run(&["stop", "claude-999999-1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("opencode-{}-", agent.pid())),
        "{}",
        stderr(&o)
    );
    assert!(!is_dead(agent.pid()), "nothing else was touched");
}

#[test]
fn a_malformed_target_is_a_usage_error() {
    let env = Env::new();
    assert_eq!(env.run(&["stop", "not-an-id"]).status.code(), Some(2));
    assert_eq!(env.run(&["stop"]).status.code(), Some(2));
}

#[test]
fn a_pid_that_is_not_an_agent_needs_force() {
    let env = Env::new();
    let mut plain = env.spawn_agent("bin/worker", &[]);
    let o = env.run(&["stop", &plain.pid().to_string()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert!(!is_dead(plain.pid()));
    let o = env.run(&["stop", "--force", &plain.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(plain.reaped());
}

#[test]
fn a_broken_config_names_the_file_line_and_key_and_starts_nothing() {
    let env = Env::new();
    let cfg = env.path("config/reins/config.toml");
    write(
        &cfg,
        "[scan]\ninterval_ms = 1000\n[halt]\ngrace_ms = \"soon\"\n",
    );
    let o = env.reins().arg("daemon").output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:4", cfg.display())), "{err}");
    assert!(err.contains("halt.grace_ms"), "{err}");
    assert!(!env.socket().exists(), "no half-started daemon");
}

#[test]
fn the_daemon_serves_status_stop_pause_and_resume() {
    let env = Env::new();
    let mut agent = env.spawn_agent("bin/goose", &[]);
    let pause_me = env.spawn_agent("bin/codex", &[]);
    let mut daemon = env.daemon();

    let o = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["daemon"], true);
    assert_eq!(v["schema"], 1);

    // Pause: every process in state T, shown as paused.
    let o = env.run(&["pause", &pause_me.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(proc_state(pause_me.pid()), Some('T'));
    let paused = status_agents(&env)
        .into_iter()
        .find(|a| a["pid"] == pause_me.pid())
        .unwrap();
    assert_eq!(paused["state"], "paused");
    let o = env.run(&["resume", &pause_me.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(proc_state(pause_me.pid()), Some('T'));

    // Stop by id, through the daemon.
    let id = status_agents(&env)
        .into_iter()
        .find(|a| a["pid"] == agent.pid())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = env.run(&["stop", &id, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("acting directly"));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["targets"][0]["report"]["success"], true);
    assert!(agent.reaped());

    // The daemon audited all three, with the CLI's pid as actor.
    let log = std::fs::read_to_string(env.audit_log()).unwrap();
    for action in ["\"pause\"", "\"resume\"", "\"stop\"", "\"daemon_started\""] {
        assert!(log.contains(action), "{action} missing from {log}");
    }
    daemon.terminate();
    assert!(!env.socket().exists(), "socket removed on shutdown");
}

#[test]
fn an_edited_audit_log_fails_verification_naming_the_line() {
    let env = Env::new();
    for _ in 0..3 {
        let a = env.spawn_agent("bin/claude", &[]);
        assert_eq!(
            env.run(&["pause", &a.pid().to_string()]).status.code(),
            Some(0)
        );
    }
    let text = std::fs::read_to_string(env.audit_log()).unwrap();
    std::fs::write(env.audit_log(), text.replacen("\"pause\"", "\"resume\"", 1)).unwrap();
    let o = env.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("line 2"), "{}", stderr(&o));
}

/// Run `reins resume <pid>` from inside a process that is itself an agent
/// (bash copied under the name `claude`), and return its output.
fn resume_from_inside_an_agent(env: &Env, pid: u32) -> String {
    let script = format!(
        "{} resume {pid} 2>&1; echo \"rc=$?\"",
        reins_bin().display()
    );
    stdout(&output_retrying(&mut env.bash_as_agent("claude", &script)))
}

#[test]
fn an_agent_cannot_resume_a_paused_agent_from_inside_its_own_tree() {
    let env = Env::new();
    let paused = env.spawn_agent("bin/goose", &[]);
    assert_eq!(
        env.run(&["pause", &paused.pid().to_string()]).status.code(),
        Some(0)
    );

    // Without a daemon, the CLI applies the same guard.
    let out = resume_from_inside_an_agent(&env, paused.pid());
    assert!(
        out.contains("may not resume itself") && out.contains("rc=1"),
        "{out}"
    );
    assert_eq!(proc_state(paused.pid()), Some('T'), "still paused");

    let _daemon = env.daemon();
    let out = resume_from_inside_an_agent(&env, paused.pid());
    assert!(
        out.contains("may not resume itself") && out.contains("rc=1"),
        "{out}"
    );
    assert_eq!(proc_state(paused.pid()), Some('T'), "still paused");
    let log = std::fs::read_to_string(env.audit_log()).unwrap();
    assert_eq!(
        log.matches("\"action\":\"refused\"").count(),
        2,
        "both attempts audited: {log}"
    );

    // From outside any agent, the same resume works.
    assert_eq!(
        env.run(&["resume", &paused.pid().to_string()])
            .status
            .code(),
        Some(0)
    );
    assert_ne!(proc_state(paused.pid()), Some('T'));
}
