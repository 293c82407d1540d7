//! Tripwires end to end (issue 11 §4): a real daemon, a fake Claude (bash
//! copied under the `claude` name) whose `reins hook claude pre-tool-use`
//! calls run as its own children, so their ancestry maps to it; and a fake
//! `aider` with no hooks whose project directory is watched on disk. The
//! freeze is checked in `/proc` (state `T`), the alert on a subscription
//! stream, and the resume with the ordinary `reins resume`.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::process::{ChildStdin, Command, Stdio};
use std::time::Instant;

/// A fake Claude: for every line (a payload file) on its stdin it runs the
/// pre-tool hook with that payload and prints the hook's output, then `@@`.
struct Claude {
    proc: Proc,
    stdin: ChildStdin,
    out: Stream,
    project: std::path::PathBuf,
    n: usize,
    env_dir: std::path::PathBuf,
}

impl Claude {
    fn start(env: &Env, project: &str) -> Claude {
        let project = env.path(project);
        std::fs::create_dir_all(&project).unwrap();
        let script = format!(
            "while read -r f; do {} hook claude pre-tool-use < \"$f\"; echo; echo @@; done",
            reins_bin().display()
        );
        let mut cmd = env.bash_as_agent("claude", &script);
        cmd.current_dir(&project)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = spawn_retrying(&mut cmd);
        let stdin = child.stdin.take().unwrap();
        let out = Stream::new(child.stdout.take().unwrap());
        let c = Claude {
            proc: Proc(child),
            stdin,
            out,
            project,
            n: 0,
            env_dir: env.path("payloads"),
        };
        wait_listed(env, c.proc.pid());
        c
    }

    /// Ask the hook about a Bash command; do not wait for the answer.
    fn send(&mut self, tool: &str, input: serde_json::Value) {
        self.n += 1;
        let payload = serde_json::json!({
            "session_id": "trip-session", "transcript_path": "/tmp/t.jsonl",
            "cwd": self.project, "permission_mode": "bypassPermissions",
            "hook_event_name": "PreToolUse", "tool_use_id": format!("toolu_{}", self.n),
            "tool_name": tool, "tool_input": input,
        });
        let file = self.env_dir.join(format!("{}.json", self.n));
        write(&file, &payload.to_string());
        writeln!(self.stdin, "{}", file.display()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The hook's output for the last call sent.
    fn answer(&mut self) -> String {
        let out = self.out.until("@@\n");
        out.trim_end_matches("@@\n").trim().to_owned()
    }

    fn bash(&mut self, command: &str) -> String {
        self.send("Bash", serde_json::json!({ "command": command }));
        self.answer()
    }
}

/// Poll (no sleeping) until the daemon lists `pid` as an agent.
fn wait_listed(env: &Env, pid: u32) {
    for _ in 0..5000 {
        if status_agents(env)
            .iter()
            .any(|a| a["pid"].as_u64() == Some(u64::from(pid)))
        {
            return;
        }
    }
    panic!("the daemon never listed agent pid {pid}");
}

/// Poll /proc until `pid` and every descendant are stopped (state T).
fn wait_frozen(pid: u32) -> Vec<u32> {
    let deadline = Instant::now() + T;
    while Instant::now() < deadline {
        let tree = tree_of(pid);
        if tree.iter().all(|p| proc_state(*p) == Some('T')) {
            return tree;
        }
        std::thread::yield_now();
    }
    panic!(
        "the tree of {pid} was never frozen: {:?}",
        tree_of(pid)
            .iter()
            .map(|p| (p, proc_state(*p)))
            .collect::<Vec<_>>()
    );
}

fn tree_of(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        let kids =
            std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")).unwrap_or_default();
        out.extend(
            kids.split_whitespace()
                .filter_map(|k| k.parse::<u32>().ok()),
        );
        i += 1;
    }
    out
}

/// A subscription stream as an observer (it does not count as a surface).
fn observe(env: &Env) -> Stream {
    let mut s = UnixStream::connect(env.socket()).unwrap();
    s.write_all(b"{\"op\":\"subscribe\",\"surface\":\"observer\"}\n")
        .unwrap();
    let mut st = Stream::new(s);
    st.until("snapshot");
    st
}

/// Poll the audit log (written by the daemon's writer thread) for `needle`.
fn wait_audited(env: &Env, needle: &str) -> String {
    let deadline = Instant::now() + T;
    loop {
        let log = audit(env);
        if let Some(l) = log.lines().find(|l| l.contains(needle)) {
            return l.to_owned();
        }
        assert!(Instant::now() < deadline, "never audited {needle}: {log}");
        std::thread::yield_now();
    }
}

fn audit(env: &Env) -> String {
    std::fs::read_to_string(env.audit_log()).unwrap_or_default()
}

#[test]
fn five_deletions_trip_the_wire_freeze_the_tree_and_a_resume_lets_the_sixth_through() {
    let env = Env::new();
    let _d = env.daemon();
    let mut events = observe(&env);
    let mut claude = Claude::start(&env, "trip-inbox-cleaner");
    for i in 1..=4 {
        let out = claude.bash(&format!("rm mail-{i}.eml"));
        assert!(!out.contains("deny"), "deletion {i} passes: {out}");
    }
    claude.bash_async_fifth();
    let frozen = wait_frozen(claude.proc.pid());
    assert!(
        frozen.len() >= 2,
        "the agent and its hook are frozen: {frozen:?}"
    );
    let alert = events.line_after("Tripwire: claude");
    assert!(
        alert.starts_with("· trip-inbox-cleaner paused after 5 deletions in "),
        "{alert}"
    );
    let line = wait_audited(&env, "\"action\":\"tripwire\"");
    assert!(
        line.contains("\"rule\":\"deletions\"")
            && line.contains("\"count\":5")
            && line.contains("rm mail-5.eml"),
        "the audit names the rule, the count and the action that tripped it: {line}"
    );

    let o = env.run(&["resume", &claude.proc.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let fifth = claude.answer();
    assert!(
        fifth.contains("deny") && fifth.contains("tripwire"),
        "the fifth call is denied with a message: {fifth}"
    );
    let sixth = claude.bash("rm mail-6.eml");
    assert!(
        !sixth.contains("deny"),
        "no re-trip after the resume: {sixth}"
    );
    assert_ne!(proc_state(claude.proc.pid()), Some('T'));
}

impl Claude {
    fn bash_async_fifth(&mut self) {
        self.send("Bash", serde_json::json!({ "command": "rm mail-5.eml" }));
    }
}

#[test]
fn a_normal_session_of_edits_builds_and_one_cargo_clean_trips_nothing() {
    let env = Env::new();
    let _d = env.daemon();
    let mut claude = Claude::start(&env, "trip-normal-session");
    let src = claude.project.join("src/main.rs");
    for round in 0..3 {
        for (tool, input) in [
            ("Read", serde_json::json!({ "file_path": src })),
            (
                "Edit",
                serde_json::json!({ "file_path": src, "old_string": "a", "new_string": "b" }),
            ),
            (
                "Write",
                serde_json::json!({ "file_path": "src/lib.rs", "content": "x" }),
            ),
            (
                "Bash",
                serde_json::json!({ "command": "cargo build 2>&1 | tail -n 20" }),
            ),
            (
                "Bash",
                serde_json::json!({ "command": "cargo test > /tmp/test.log" }),
            ),
            (
                "Grep",
                serde_json::json!({ "pattern": "fn main", "path": "src" }),
            ),
        ] {
            claude.send(tool, input);
            let out = claude.answer();
            assert!(!out.contains("deny"), "round {round} {tool}: {out}");
        }
        if round == 1 {
            assert!(!claude.bash("cargo clean").contains("deny"));
        }
    }
    assert_ne!(proc_state(claude.proc.pid()), Some('T'));
    // Other tests' daemons see (and may trip) other tests' agents: only
    // this agent's entries count.
    let mine = format!("\"target\":\"claude-{}-", claude.proc.pid());
    let log = audit(&env);
    assert!(
        !log.lines()
            .any(|l| l.contains("\"action\":\"tripwire\"") && l.contains(&mine)),
        "{log}"
    );
}

#[test]
fn deletions_under_a_hookless_agents_project_pause_it() {
    let env = Env::new();
    let _d = env.daemon();
    let mut events = observe(&env);
    let project = env.path("trip-aider-project");
    std::fs::create_dir_all(&project).unwrap();
    let exe = env.path("bin/aider");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(fake_agent(), &exe).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.arg("trip-aider-unique")
        .current_dir(&project)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    let aider = Proc(spawn_retrying(&mut cmd));
    wait_listed(&env, aider.pid());
    // The watch starts once the daemon has seen the agent: delete files
    // until it is frozen (those before the watch existed are not counted).
    let deadline = Instant::now() + T;
    let mut i = 0;
    while proc_state(aider.pid()) != Some('T') {
        assert!(
            Instant::now() < deadline,
            "never paused after {i} deletions"
        );
        let f = project.join(format!("note-{i}.txt"));
        std::fs::write(&f, "x").unwrap();
        std::fs::remove_file(&f).unwrap();
        i += 1;
    }
    let alert = events.line_after("Tripwire: aider");
    assert!(
        alert.starts_with("· trip-aider-project paused after 5 deletions in "),
        "{alert}"
    );
    let o = env.run(&["resume", &aider.pid().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
