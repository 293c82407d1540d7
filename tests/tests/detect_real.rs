//! Real-process tests of `reins-detect`: copies of `fake-agent` under agent
//! names, node scripts laid out like the npm packages, and look-alike false
//! positives, all found (or not) by a real sysinfo scan.
//!
//! Every test only looks at agents whose cwd is inside its own temp dir, so
//! tests can run in parallel and agents already on the machine do not count.
//! Nothing here sleeps to wait for readiness: tests poll the scanner, and
//! every poll is a real refresh.

use reins_core::{AgentKind, AgentRecord, AgentState, RegistryEvent};
use reins_detect::{Scanner, SignatureTable, scan_once};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a poll may take before the test gives up (not a timing claim).
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// Pause between polls so node can start on a 2-core machine.
const POLL_PAUSE: Duration = Duration::from_millis(20);

/// Spawned processes; each leads its own process group, and the whole group
/// is killed and the leader reaped on drop.
#[derive(Default)]
struct Procs(Vec<Child>);

impl Procs {
    fn spawn(&mut self, cmd: &mut Command) -> u32 {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // Retry ETXTBSY: a binary copied a moment ago can be briefly "busy"
        // while another test thread's fork still holds the copy's fd.
        let mut tries = 0;
        let child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 1000 => {
                    tries += 1;
                    std::thread::yield_now();
                }
                r => break r.unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}")),
            }
        };
        let pid = child.id();
        self.0.push(child);
        pid
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // SAFETY: kill(2) on the process group we created; no memory is touched.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}

fn start_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

fn copy_exe(from: &Path, to: &Path) -> PathBuf {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(from, to).unwrap();
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).unwrap();
    to.to_path_buf()
}

fn write(path: &Path, text: &str) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn dir(path: PathBuf) -> PathBuf {
    fs::create_dir_all(&path).unwrap();
    path
}

fn fake_agent() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fake-agent"))
}

/// Wait until `pid` has exec'd into a program whose argv[0] ends with `name`.
fn wait_exec(pid: u32, name: &str) {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
        if argv0.ends_with(name.as_bytes()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid} never ran {name}; its command line: {:?}",
            String::from_utf8_lossy(&cmdline)
        );
        std::thread::sleep(POLL_PAUSE);
    }
}

/// This test's agents: those whose cwd is inside `root`, by pid.
fn ours(agents: &[AgentRecord], root: &Path) -> Vec<AgentRecord> {
    let mut mine: Vec<_> = agents
        .iter()
        .filter(|a| a.cwd.as_deref().is_some_and(|c| c.starts_with(root)))
        .cloned()
        .collect();
    mine.sort_by_key(|a| a.pid);
    mine
}

/// Scan until `done` holds for this test's agents; return them.
fn poll(
    scanner: &mut Scanner,
    root: &Path,
    done: impl Fn(&[AgentRecord]) -> bool,
) -> Vec<AgentRecord> {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        let mine = ours(&scanner.scan().agents, root);
        if done(&mine) {
            return mine;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting; last saw {mine:#?}"
        );
        std::thread::sleep(POLL_PAUSE);
    }
}

/// If this test itself runs inside an agent (say, `cargo test` typed into
/// Claude Code), that agent absorbs everything we spawn and no new root can
/// appear. Returns the agent's name so the caller can skip, loudly.
fn enclosing_agent() -> Option<String> {
    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let agents = scanner.scan().agents;
    let me = std::process::id();
    agents
        .iter()
        .find(|a| scanner.tree_of(&a.id).iter().any(|k| k.pid == me))
        .map(|a| a.id.to_string())
}

macro_rules! skip_inside_agent {
    () => {
        if let Some(agent) = enclosing_agent() {
            eprintln!(
                "SKIPPED: this test runs inside agent {agent}, which absorbs every agent it spawns"
            );
            return;
        }
    };
}

struct Expect {
    kind: AgentKind,
    pid: u32,
    cwd: PathBuf,
    project: &'static str,
    descendants: u32,
}

fn matches(found: &[AgentRecord], want: &[Expect]) -> bool {
    found.len() == want.len()
        && want.iter().all(|w| {
            found
                .iter()
                .any(|a| a.pid == w.pid && a.descendants == w.descendants)
        })
}

fn check(found: &[AgentRecord], mut want: Vec<Expect>) {
    want.sort_by_key(|w| w.pid);
    assert_eq!(found.len(), want.len(), "found {found:#?}");
    for (a, w) in found.iter().zip(&want) {
        assert_eq!((&a.kind, a.pid), (&w.kind, w.pid), "{a:#?}");
        assert_eq!(a.id.kind, w.kind);
        assert_eq!(a.id.root.pid, w.pid);
        assert_eq!(
            a.id.root.start_ticks,
            start_ticks(w.pid),
            "start ticks of {}",
            w.pid
        );
        assert_eq!(a.display_name, w.kind.display_name());
        assert_eq!(
            a.cwd.as_deref(),
            Some(w.cwd.as_path()),
            "cwd of {:?}",
            w.kind
        );
        assert_eq!(
            a.project.as_deref(),
            Some(w.project),
            "project of {:?}",
            w.kind
        );
        assert_eq!(a.descendants, w.descendants, "descendants of {:?}", w.kind);
        assert_eq!(a.state, AgentState::Running);
        assert!(a.started_at > 1_600_000_000, "started_at is Unix seconds");
        assert!(a.memory_bytes > 0, "memory of {:?}", w.kind);
    }
}

#[test]
fn native_agents_are_found_by_exe_name_and_look_alikes_are_not() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let repo = dir(t.join("repo-a"));
    dir(repo.join(".git"));
    let deep = dir(repo.join("src/deep"));
    let plain = dir(t.join("plain"));
    let bin = dir(t.join("bin"));
    let mut procs = Procs::default();

    let claude = copy_exe(fake_agent(), &bin.join("claude"));
    let version = copy_exe(
        fake_agent(),
        &t.join("home/.local/share/claude/versions/2.1.3"),
    );
    let link = t.join("home/.local/bin/claude");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&version, &link).unwrap();
    let cursor = copy_exe(fake_agent(), &bin.join("cursor-agent"));
    let opencode = copy_exe(fake_agent(), &bin.join("opencode"));
    let goose = copy_exe(fake_agent(), &bin.join("goose"));

    let mut expect = Vec::new();
    let mut agent = |exe: &Path, kind: AgentKind, cwd: &Path, project: &'static str| {
        let pid = procs.spawn(Command::new(exe).current_dir(cwd));
        expect.push(Expect {
            kind,
            pid,
            cwd: cwd.to_path_buf(),
            project,
            descendants: 0,
        });
    };
    agent(&claude, AgentKind::ClaudeCode, &deep, "repo-a");
    agent(&version, AgentKind::ClaudeCode, &plain, "plain");
    agent(&link, AgentKind::ClaudeCode, &repo, "repo-a");
    agent(&cursor, AgentKind::Cursor, &plain, "plain");
    agent(&opencode, AgentKind::Opencode, &deep, "repo-a");
    agent(&goose, AgentKind::Goose, &plain, "plain");

    // Look-alikes: agent names in arguments, paths and files, and Reins itself.
    let tail = Path::new("/usr/bin/tail");
    let claude_dir = dir(t.join("home/.claude"));
    for f in [
        "CLAUDE.md",
        "codex.log",
        "hook",
        "claude",
        "permission-request",
    ] {
        write(&plain.join(f), "");
    }
    write(&claude_dir.join("x"), "");
    let other_js = write(
        &t.join("some-other-script.js"),
        "setInterval(() => {}, 1 << 30);\n",
    );
    let vim = copy_exe(tail, &bin.join("vim"));
    let less = copy_exe(tail, &bin.join("less"));
    let reins = copy_exe(tail, &bin.join("reins"));
    let mut look_alikes = Vec::new();
    let mut look_alike = |cmd: &mut Command, argv0: &str| {
        look_alikes.push((procs.spawn(cmd.current_dir(&plain)), argv0.to_owned()));
    };
    look_alike(Command::new("grep").arg("claude"), "grep");
    look_alike(
        Command::new(tail).args(["-f"]).arg(claude_dir.join("x")),
        "tail",
    );
    look_alike(Command::new(&vim).args(["CLAUDE.md", "-f"]), "vim");
    look_alike(Command::new(&less).args(["codex.log", "-f"]), "less");
    look_alike(
        Command::new(&reins).args(["hook", "claude", "permission-request", "-f"]),
        "reins",
    );
    look_alike(Command::new("node").arg(&other_js).arg("claude"), "node");
    for (pid, argv0) in &look_alikes {
        wait_exec(*pid, argv0);
    }

    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let found = poll(&mut scanner, t, |found| matches(found, &expect));
    // A few more scans: a look-alike must not turn up late either.
    for _ in 0..3 {
        scanner.scan();
    }
    let found_again = ours(scanner.agents(), t);
    assert_eq!(
        found_again.iter().map(|a| a.pid).collect::<Vec<_>>(),
        found.iter().map(|a| a.pid).collect::<Vec<_>>()
    );
    check(&found_again, expect);
}

const KEEP_ALIVE: &str = "setInterval(() => {}, 1 << 30);\n";

#[test]
fn node_agents_and_their_wrapper_children_are_one_agent_each() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let proj = dir(t.join("proj"));
    dir(proj.join(".git"));
    let nm = t.join("node_modules");
    let mut procs = Procs::default();

    let claude_js = write(&nm.join("@anthropic-ai/claude-code/cli.js"), KEEP_ALIVE);
    let native = copy_exe(
        fake_agent(),
        &nm.join("@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex"),
    );
    let codex_js = write(
        &nm.join("@openai/codex/bin/codex.js"),
        &format!(
            "const {{ spawn }} = require('child_process');\n\
             spawn({native:?}, [], {{ stdio: 'inherit' }});\n{KEEP_ALIVE}"
        ),
    );
    let gemini_js = write(
        &nm.join("@google/gemini-cli/dist/index.js"),
        &format!(
            "if (!process.env.GEMINI_CLI_NO_RELAUNCH) {{\n\
               require('child_process').spawn(process.execPath, ['--max-old-space-size=4096', __filename],\n\
                 {{ stdio: 'inherit', env: {{ ...process.env, GEMINI_CLI_NO_RELAUNCH: 'true' }} }});\n\
             }}\n{KEEP_ALIVE}"
        ),
    );
    let claw_js = write(&nm.join("openclaw/dist/index.js"), KEEP_ALIVE);

    let mut node = |args: &[&Path], extra: &[&str]| {
        procs.spawn(
            Command::new("node")
                .args(args)
                .args(extra)
                .current_dir(&proj),
        )
    };
    let claude = node(&[&claude_js], &[]);
    let codex = node(&[&codex_js], &[]);
    let gemini = node(&[&gemini_js], &[]);
    let claw = node(&[&claw_js], &["gateway", "--port", "18789"]);
    let claw_cli = node(&[&claw_js], &["status"]);

    let want = |kind, pid, descendants| Expect {
        kind,
        pid,
        cwd: proj.clone(),
        project: "proj",
        descendants,
    };
    let expect = vec![
        want(AgentKind::ClaudeCode, claude, 0),
        want(AgentKind::Codex, codex, 1),
        want(AgentKind::GeminiCli, gemini, 1),
        want(AgentKind::OpenClaw, claw, 0),
    ];
    wait_exec(claw_cli, "node");
    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let found = poll(&mut scanner, t, |found| matches(found, &expect));
    let codex_agent = found.iter().find(|a| a.pid == codex).unwrap().clone();
    check(&found, expect);

    let tree = scanner.tree_of(&codex_agent.id);
    assert_eq!(tree.len(), 2, "{tree:?}");
    assert_eq!(tree[0], codex_agent.id.root);
    let child = fs::read_link(format!("/proc/{}/exe", tree[1].pid)).unwrap();
    assert_eq!(child, native, "the codex tree holds the native child");
}

fn ours_in(events: &[RegistryEvent], pid: u32) -> Vec<RegistryEvent> {
    events
        .iter()
        .filter(|e| match e {
            RegistryEvent::Appeared { agent } | RegistryEvent::Changed { agent } => {
                agent.pid == pid
            }
            RegistryEvent::Exited { id } => id.root.pid == pid,
        })
        .cloned()
        .collect()
}

/// Scan until an event for `pid` satisfies `want`.
fn poll_event(
    scanner: &mut Scanner,
    pid: u32,
    want: impl Fn(&RegistryEvent) -> bool,
) -> RegistryEvent {
    let deadline = Instant::now() + GIVE_UP_AFTER;
    loop {
        if let Some(e) = ours_in(&scanner.scan().events, pid)
            .into_iter()
            .find(|e| want(e))
        {
            return e;
        }
        assert!(Instant::now() < deadline, "no such event for pid {pid}");
        std::thread::sleep(POLL_PAUSE);
    }
}

#[test]
fn an_agent_appears_pauses_resumes_and_exits_as_events() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cwd = dir(t.join("life"));
    let exe = copy_exe(fake_agent(), &t.join("bin/cursor-agent"));
    let mut procs = Procs::default();
    let pid = procs.spawn(Command::new(&exe).current_dir(&cwd));
    wait_exec(pid, "cursor-agent");

    let once = scan_once(SignatureTable::builtin()).unwrap();
    assert!(
        once.iter()
            .any(|a| a.pid == pid && a.kind == AgentKind::Cursor),
        "scan_once sees it"
    );

    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let appeared = poll_event(&mut scanner, pid, |e| {
        matches!(e, RegistryEvent::Appeared { .. })
    });
    let RegistryEvent::Appeared { agent } = appeared else {
        unreachable!()
    };
    assert_eq!(agent.state, AgentState::Running);

    // SAFETY: signals to the child we spawned.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    poll_event(
        &mut scanner,
        pid,
        |e| matches!(e, RegistryEvent::Changed { agent } if agent.state == AgentState::Paused),
    );
    // SAFETY: as above.
    unsafe { libc::kill(pid as i32, libc::SIGCONT) };
    poll_event(
        &mut scanner,
        pid,
        |e| matches!(e, RegistryEvent::Changed { agent } if agent.state == AgentState::Running),
    );

    drop(procs);
    let exited = poll_event(&mut scanner, pid, |e| {
        matches!(e, RegistryEvent::Exited { .. })
    });
    assert_eq!(
        exited,
        RegistryEvent::Exited {
            id: agent.id.clone()
        }
    );
    assert!(ours(scanner.agents(), t).is_empty());
}

#[test]
fn a_user_signature_finds_a_custom_agent() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let cwd = dir(t.join("custom"));
    let exe = copy_exe(fake_agent(), &t.join("bin/my-agent"));
    let mut procs = Procs::default();
    let pid = procs.spawn(Command::new(&exe).current_dir(&cwd));
    let spec = reins_detect::SignatureSpec {
        kind: "mine".into(),
        display_name: Some("My Agent".into()),
        exe_names: vec!["my-agent".into()],
        ..Default::default()
    };
    let mut scanner = Scanner::new(SignatureTable::with_user(&[spec]).unwrap()).unwrap();
    let found = poll(&mut scanner, t, |f| f.len() == 1);
    assert_eq!(found[0].pid, pid);
    assert_eq!(found[0].kind, AgentKind::Custom("mine".into()));
    assert_eq!(found[0].display_name, "My Agent");
    assert_eq!(
        found[0].id.to_string(),
        format!("mine-{pid}-{}", start_ticks(pid))
    );
}

#[test]
fn an_openclaw_gateway_that_renamed_itself_is_still_found() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let proj = dir(t.join("proj"));
    let mut procs = Procs::default();
    // As the gateway does: after start-up its title replaces its command
    // line, so `/proc/<pid>/cmdline` no longer shows openclaw/dist/index.js.
    let claw_js = write(
        &t.join("node_modules/openclaw/dist/index.js"),
        &format!("process.title = 'openclaw-gateway';\n{KEEP_ALIVE}"),
    );
    let gateway = procs.spawn(
        Command::new("node")
            .arg(&claw_js)
            .args(["gateway", "--port", "18789"])
            .current_dir(&proj),
    );
    // Wait until the title took effect, so the scan sees the renamed process.
    let deadline = Instant::now() + GIVE_UP_AFTER;
    while !fs::read(format!("/proc/{gateway}/cmdline"))
        .unwrap_or_default()
        .starts_with(b"openclaw-gateway")
    {
        assert!(Instant::now() < deadline, "node never renamed itself");
        std::thread::sleep(POLL_PAUSE);
    }
    let expect = vec![Expect {
        kind: AgentKind::OpenClaw,
        pid: gateway,
        cwd: proj.clone(),
        project: "proj",
        descendants: 0,
    }];
    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let found = poll(&mut scanner, t, |found| matches(found, &expect));
    check(&found, expect);
}

#[test]
fn an_openclaw_service_is_found_by_its_environment_markers_and_look_alikes_are_not() {
    skip_inside_agent!();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let unit = format!("openclaw-gateway-test-{}.service", std::process::id());
    let markers = [
        ("OPENCLAW_SERVICE_KIND", "gateway"),
        ("OPENCLAW_SYSTEMD_UNIT", unit.as_str()),
    ];
    let mut procs = Procs::default();
    // A service-run gateway under a plain script name: only its environment
    // says what it is. Its node child inherits the markers and must fold
    // into it, not count as a second gateway.
    let svc = dir(t.join("svc"));
    let child_js = write(&t.join("bin/child.js"), KEEP_ALIVE);
    let server_js = write(
        &t.join("bin/server.js"),
        &format!(
            "require('child_process').spawn(process.execPath, [{:?}], {{ stdio: 'ignore' }});\n{KEEP_ALIVE}",
            child_js.to_str().unwrap()
        ),
    );
    let by_env = procs.spawn(
        Command::new("node")
            .arg(&server_js)
            .envs(markers)
            .current_dir(&svc),
    );
    // The same with the renamed title, as the real gateway ends up.
    let renamed_dir = dir(t.join("renamed"));
    let renamed_js = write(
        &t.join("bin/renamed.js"),
        &format!("process.title = 'openclaw-gateway';\n{KEEP_ALIVE}"),
    );
    let renamed = procs.spawn(
        Command::new("node")
            .arg(&renamed_js)
            .envs(markers)
            .current_dir(&renamed_dir),
    );
    // Look-alikes: a marker with the wrong value, a shell that names the
    // title in an argument (with the markers in its environment too).
    let wrong = dir(t.join("wrong"));
    procs.spawn(
        Command::new("node")
            .arg(t.join("bin/child.js"))
            .env("OPENCLAW_SERVICE_KIND", "node")
            .env("OPENCLAW_SYSTEMD_UNIT", &unit)
            .current_dir(&wrong),
    );
    let shell_dir = dir(t.join("shell"));
    let shell = procs.spawn(
        Command::new("sh")
            .args(["-c", "sleep 600; echo openclaw-gateway"])
            .envs(markers)
            .current_dir(&shell_dir),
    );
    wait_exec(shell, "sh");
    let expect = vec![
        Expect {
            kind: AgentKind::OpenClaw,
            pid: by_env,
            cwd: svc.clone(),
            project: "svc",
            descendants: 1,
        },
        Expect {
            kind: AgentKind::OpenClaw,
            pid: renamed,
            cwd: renamed_dir.clone(),
            project: "renamed",
            descendants: 0,
        },
    ];
    let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
    let found = poll(&mut scanner, t, |found| matches(found, &expect));
    check(&found, expect);
    assert!(
        fs::metadata(format!("/proc/{shell}")).is_ok(),
        "the look-alike shell is still running, so it was scanned"
    );
}
