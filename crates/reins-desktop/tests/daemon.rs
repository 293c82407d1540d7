//! `Desktop` against a real `reins daemon` in private HOME/XDG directories:
//! it starts the daemon itself, follows the agent list, stops an agent, and
//! says why when no daemon can be had.
//!
//! Needs the `reins` binary built with the same profile beside this test
//! (`cargo build --profile h3 -p reins`). Agents are copies of `sleep`
//! under a private name that only this test's daemon detects (built-in
//! signatures off), so no real agent on the machine is ever touched.

use reins_desktop::view::{AgentStateView, DaemonConn, DecisionView, DesktopState, HaltOpView};
use reins_desktop::{CancellationToken, ClientSurface, Desktop, DesktopOptions};
use reins_runtime::paths::Paths;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A bound on every wait, so a broken build fails instead of hanging. The
/// tests never sleep: they wait for the state to change.
const GUARD: Duration = Duration::from_secs(60);

/// A fresh agent name per env (short: names are matched against `comm`,
/// 15 bytes), so tests running side by side never see each other's agents.
fn agent_name() -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("dsk{}x{n}", std::process::id() % 100_000)
}

fn reins_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/daemon-<hash> -> target/<profile>/reins
    let p = exe.parent().unwrap().parent().unwrap().join("reins");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p reins` with this test's profile first",
        p.display()
    );
    p
}

struct Env {
    dir: tempfile::TempDir,
    agent: String,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let agent = agent_name();
        for d in ["home", "config/reins", "data", "run", "bin"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("config/reins/config.toml"),
            format!(
                "[scan]\ninterval_ms = 100\nbuiltin_signatures = false\n\
                 [[signatures]]\nkind = \"{agent}\"\nexe_names = [\"{agent}\"]\n\
                 [halt]\ngrace_ms = 500\n[link]\nenabled = false\n"
            ),
        )
        .unwrap();
        Env { dir, agent }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn vars(&self) -> Vec<(OsString, OsString)> {
        [
            ("HOME", "home"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_RUNTIME_DIR", "run"),
        ]
        .into_iter()
        .map(|(k, v)| (k.into(), self.path(v).into_os_string()))
        .collect()
    }

    fn paths(&self) -> Paths {
        let vars = self.vars();
        Paths::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| PathBuf::from(v))
        })
        .unwrap()
    }

    fn options(&self, start_daemon: bool, bin: Option<PathBuf>) -> DesktopOptions {
        DesktopOptions {
            surface: ClientSurface::Observer,
            start_daemon,
            reins_bin: bin,
            paths: Some(self.paths()),
            config_file: None,
            daemon_env: self.vars(),
        }
    }

    /// A copy of `sleep` named like this test's agent.
    fn spawn_agent(&self) -> Agent {
        let exe = self.path(&format!("bin/{}", self.agent));
        if !exe.exists() {
            std::fs::copy("/bin/sleep", &exe).unwrap();
        }
        let mut cmd = Command::new(&exe);
        cmd.arg("3600").stdin(Stdio::null()).stdout(Stdio::null());
        for _ in 0..1000 {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
                r => return Agent(r.unwrap()),
            }
        }
        panic!("{} stayed busy", exe.display());
    }
}

/// An agent process, killed and reaped when dropped.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Stops the daemon a test's `Desktop` started (it runs detached).
struct DaemonGuard(PathBuf);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        let pong = reins_runtime::ipc::Client::connect(&self.0)
            .and_then(|mut c| c.call(&reins_runtime::ipc::Request::Ping));
        if let Ok(reins_runtime::ipc::Response::Pong { pid, .. }) = pong {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        }
    }
}

async fn wait_for(d: &Desktop, what: &str, f: impl Fn(&DesktopState) -> bool) -> DesktopState {
    let mut rx = d.watch();
    match tokio::time::timeout(GUARD, rx.wait_for(|s| f(s))).await {
        Ok(Ok(s)) => s.clone(),
        _ => panic!("never saw {what}; last state: {:?}", d.state()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desktop_starts_the_daemon_follows_an_agent_and_stops_it() {
    let env = Env::new();
    let _guard = DaemonGuard(env.paths().socket());
    let shutdown = CancellationToken::new();
    let d = Desktop::start(env.options(true, Some(reins_bin())), shutdown.clone());
    wait_for(&d, "a connection", |s| s.daemon == DaemonConn::Connected).await;
    assert!(env.path("data/reins/daemon.log").exists());

    let agent = env.spawn_agent();
    let pid = agent.0.id();
    let s = wait_for(&d, "the agent", |s| s.agents.iter().any(|a| a.pid == pid)).await;
    let a = s.agents.iter().find(|a| a.pid == pid).unwrap().clone();
    assert_eq!(a.kind, env.agent);
    assert_eq!(a.state, AgentStateView::Running);

    let mut halts = d.halts();
    let r = d.halt(HaltOpView::Stop, &a.id).await.unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!(r.targets.len(), 1);
    assert_eq!(r.targets[0].target, a.id);
    wait_for(&d, "the agent gone", |s| {
        !s.agents.iter().any(|x| x.id == a.id)
    })
    .await;
    // The stream also reports the verified halt, as it does one from any surface.
    let seen = tokio::time::timeout(GUARD, halts.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(seen.success && seen.targets[0].target == a.id, "{seen:?}");
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_reins_binary_leaves_the_desktop_unavailable_with_the_reason() {
    let env = Env::new();
    let d = Desktop::start(
        env.options(true, Some(PathBuf::from("/nonexistent/reins"))),
        CancellationToken::new(),
    );
    let s = wait_for(&d, "unavailable", |s| s.daemon == DaemonConn::Unavailable).await;
    let e = s.daemon_error.unwrap();
    assert!(e.contains("/nonexistent/reins"), "{e}");
    let err = d.halt(HaltOpView::Stop, "all").await.unwrap_err();
    assert!(
        err.message.contains("no daemon was running"),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_permission_to_start_one_the_desktop_says_to_run_the_daemon() {
    let env = Env::new();
    let d = Desktop::start(env.options(false, None), CancellationToken::new());
    let s = wait_for(&d, "unavailable", |s| s.daemon == DaemonConn::Unavailable).await;
    assert!(s.daemon_error.unwrap().contains("reins daemon"));
    assert!(d.restart_daemon().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_approved_that_is_not_pending_and_bad_targets_are_refused_locally() {
    let env = Env::new();
    let d = Desktop::start(env.options(false, None), CancellationToken::new());
    let e = d
        .decide(
            &"ab".repeat(16),
            &"cd".repeat(32),
            DecisionView::Approve,
            true,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("Nothing was approved"), "{}", e.message);
    let e = d.halt(HaltOpView::Stop, "1").await.unwrap_err();
    assert!(e.message.contains("not an agent"), "{}", e.message);
}

async fn daemon_pid(socket: &std::path::Path) -> Option<u32> {
    match reins_runtime::ipc::call_async(socket, &reins_runtime::ipc::Request::Ping).await {
        Ok(reins_runtime::ipc::Response::Pong { pid, .. }) => Some(pid),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_the_daemon_replaces_it_and_the_desktop_reconnects() {
    let env = Env::new();
    let socket = env.paths().socket();
    let _guard = DaemonGuard(socket.clone());
    let shutdown = CancellationToken::new();
    let d = Desktop::start(env.options(true, Some(reins_bin())), shutdown.clone());
    wait_for(&d, "a connection", |s| s.daemon == DaemonConn::Connected).await;
    let old = daemon_pid(&socket).await.unwrap();
    d.restart_daemon().await.unwrap();
    let mut rx = d.watch();
    let new = tokio::time::timeout(GUARD, async {
        loop {
            if rx.borrow_and_update().daemon == DaemonConn::Connected {
                if let Some(p) = daemon_pid(&socket).await.filter(|p| *p != old) {
                    return p;
                }
            }
            rx.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never reconnected to a new daemon: {:?}", d.state()));
    assert_ne!(new, old);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_a_stop_still_works_through_the_cli_acting_directly() {
    let env = Env::new();
    let mut agent = env.spawn_agent();
    let d = Desktop::start(
        env.options(false, Some(reins_bin())),
        CancellationToken::new(),
    );
    let r = d.halt(HaltOpView::Stop, "all").await.unwrap();
    assert!(r.success, "{r:?}");
    assert_eq!(r.targets.len(), 1, "{r:?}");
    assert!(
        r.targets[0]
            .target
            .starts_with(&format!("{}-{}-", env.agent, agent.0.id())),
        "{r:?}"
    );
    // Verified gone: it was killed by a signal, not left running.
    let status = agent.0.try_wait().unwrap().expect("the agent still runs");
    assert!(!status.success());
    let log = std::fs::read_to_string(env.path("data/reins/audit.jsonl")).unwrap();
    assert!(log.contains("\"action\":\"stop\""), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_hook_shows_up_as_pending_and_an_approval_reaches_it() {
    let env = Env::new();
    let _guard = DaemonGuard(env.paths().socket());
    let shutdown = CancellationToken::new();
    // Subscribed as the tray: a live surface, so the daemon holds the prompt.
    let opts = DesktopOptions {
        surface: ClientSurface::Tray,
        ..env.options(true, Some(reins_bin()))
    };
    let d = Desktop::start(opts, shutdown.clone());
    wait_for(&d, "a connection", |s| s.daemon == DaemonConn::Connected).await;

    let payload = serde_json::json!({
        "session_id": "s1", "transcript_path": "/tmp/t.jsonl", "cwd": "/work/app",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": "make deploy", "description": "run it" }
    })
    .to_string();
    let mut hook = tokio::process::Command::new(reins_bin());
    hook.args(["hook", "claude", "permission-request"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.vars())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut hook = hook.spawn().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = hook.stdin.take().unwrap();
        stdin.write_all(payload.as_bytes()).await.unwrap();
    }
    let s = wait_for(&d, "the prompt", |s| !s.pending.is_empty()).await;
    let p = s.pending[0].clone();
    assert_eq!(p.command.as_deref(), Some("make deploy"));
    assert_eq!(p.agent_name, "Claude Code");
    // A stale hash is refused; the exact one is accepted.
    let wrong = "0".repeat(64);
    assert!(
        d.decide(&p.request_id, &wrong, DecisionView::Approve, false)
            .await
            .is_err()
    );
    d.decide(&p.request_id, &p.action_hash, DecisionView::Approve, false)
        .await
        .unwrap();
    let out = tokio::time::timeout(GUARD, hook.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        v["hookSpecificOutput"]["decision"]["behavior"], "allow",
        "{v}"
    );
    wait_for(&d, "the prompt cleared", |s| s.pending.is_empty()).await;
    shutdown.cancel();
}
