//! Shared helpers for the tray's command tests: private HOME/XDG
//! directories, a real `reins daemon` waited for by its ready line, real
//! fake agents, and the app built on Tauri's mock runtime (no display)
//! with the real context, so the capability file is enforced.
#![allow(dead_code)]

use reins_desktop::{CancellationToken, ClientSurface, Desktop, DesktopOptions};
use reins_runtime::paths::Paths;
use reins_tray::Shell;
use reins_tray::login::Memory;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow};

/// A binary built beside this test (`reins`, `fake-agent`).
pub fn sibling_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let p = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p reins -p reins-e2e` (same profile) before these tests",
        p.display()
    );
    p
}

/// A private set of HOME/XDG directories.
#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "data", "run", "bin"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        Env { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Reins' directories in this environment.
    pub fn paths(&self) -> Paths {
        let root = self.dir.path().to_owned();
        Paths::from_lookup(move |k| match k {
            "HOME" => Some(root.join("home")),
            "XDG_CONFIG_HOME" => Some(root.join("config")),
            "XDG_DATA_HOME" => Some(root.join("data")),
            "XDG_RUNTIME_DIR" => Some(root.join("run")),
            _ => None,
        })
        .unwrap()
    }

    /// A `reins` command in this environment.
    pub fn reins(&self) -> Command {
        let mut c = Command::new(sibling_bin("reins"));
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("REINS__HALT__GRACE_MS", "1000")
            .env("REINS__LINK__EMBEDDED_BIND", "127.0.0.1")
            .env("REINS__LINK__EMBEDDED_TCP_PORT", "0")
            .env("REINS__LINK__EMBEDDED_WS_PORT", "0")
            .env("REINS__PHONE__BIND", "127.0.0.1")
            .env("REINS__PHONE__PORT", "0");
        c
    }

    /// Start `reins daemon` and wait for its ready line.
    pub fn daemon(&self) -> Proc {
        let mut child = self
            .reins()
            .arg("daemon")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("listening"),
            "daemon did not become ready: {line:?}"
        );
        Proc(child)
    }

    /// Copy `fake-agent` here as `name` and start it with `args`; returns
    /// it with the PIDs of its tree (from its `ready` line).
    pub fn agent(&self, name: &str, args: &[&str]) -> (Proc, Vec<u32>) {
        let exe = self.path(&format!("bin/{name}"));
        if !exe.exists() {
            std::fs::copy(sibling_bin("fake-agent"), &exe).unwrap();
        }
        let mut cmd = Command::new(&exe);
        use std::os::unix::process::CommandExt;
        // Its own process group: dropping it kills the whole tree.
        cmd.args(args)
            .process_group(0)
            .current_dir(self.path("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
                r => break r.unwrap(),
            }
        };
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pids = line
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("fake agent not ready: {line:?}"))
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        (Proc(child), pids)
    }

    /// The desktop core for this environment (never starts a daemon).
    pub fn desktop(&self) -> (Desktop, CancellationToken) {
        let token = CancellationToken::new();
        let opts = DesktopOptions {
            surface: ClientSurface::Tray,
            start_daemon: false,
            reins_bin: None,
            paths: Some(self.paths()),
            config_file: None,
            daemon_env: Vec::new(),
        };
        (reins_tray::start_desktop(opts, token.clone()), token)
    }
}

/// A child process killed and reaped when dropped.
#[derive(Debug)]
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: kill(2) of our own child's process group (agents lead
        // theirs; for the daemon this is a no-op, it does not lead one).
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True when `pid` is gone or a zombie.
pub fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
    }
}

/// Poll `f` until it returns `Some`, or panic after `secs` with `what`.
pub fn poll<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The tray app on the mock runtime, with the window's commands, the real
/// context (capabilities included) and `shell` managed.
pub struct TestApp {
    pub app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub login: Arc<Memory>,
    _token: CancellationToken,
}

impl TestApp {
    pub fn new(desktop: Desktop, token: CancellationToken) -> TestApp {
        let app = reins_tray::with_commands(mock_builder())
            .build(tauri::generate_context!())
            .unwrap();
        let login = Arc::new(Memory::default());
        app.manage(Shell {
            desktop,
            login: login.clone(),
        });
        // The window as the shell opens it: from its configuration, which
        // the app does not create at start.
        assert!(app.get_webview_window("main").is_none());
        let pending = app.state::<reins_tray::window::Pending>().inner().clone();
        let window = reins_tray::window::create(app.handle(), pending).unwrap();
        TestApp {
            app,
            window,
            login,
            _token: token,
        }
    }

    /// Invoke `cmd` with `args` (camelCase keys, as the window sends them)
    /// from the window's origin.
    pub fn invoke(
        &self,
        cmd: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, req).map(|b| b.deserialize().unwrap())
    }

    /// Like [`TestApp::invoke`], decoding the answer.
    pub fn call<T: serde::de::DeserializeOwned>(&self, cmd: &str, args: serde_json::Value) -> T {
        let v = self
            .invoke(cmd, args)
            .unwrap_or_else(|e| panic!("{cmd} failed: {e}"));
        serde_json::from_value(v).unwrap()
    }

    /// Like [`TestApp::invoke`], expecting a `UiError`.
    pub fn error(&self, cmd: &str, args: serde_json::Value) -> reins_desktop::view::UiError {
        let e = self
            .invoke(cmd, args)
            .expect_err(&format!("{cmd} should fail"));
        serde_json::from_value(e.clone()).unwrap_or_else(|_| panic!("{cmd}: not a UiError: {e}"))
    }
}
