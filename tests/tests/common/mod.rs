//! Shared helpers for end-to-end tests: isolated XDG directories, the `reins`
//! and `fake-agent` binaries, spawned agents that are always reaped, and a
//! daemon that is started on its own socket and waited for by its ready line.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `fake-agent` test binary.
pub fn fake_agent() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fake-agent"))
}

/// The `reins` binary, built beside `fake-agent` (scripts/test.sh builds it
/// first with `cargo build --workspace --bins`).
pub fn reins_bin() -> PathBuf {
    let p = fake_agent().with_file_name("reins");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p reins` before these tests",
        p.display()
    );
    p
}

/// A private set of HOME/XDG directories, so tests never touch the real ones
/// and never see each other's daemon.
#[derive(Debug)]
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        for d in ["home", "config", "data", "run"] {
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

    pub fn audit_log(&self) -> PathBuf {
        self.path("data/reins/audit.jsonl")
    }

    pub fn socket(&self) -> PathBuf {
        self.path("run/reins/reins.sock")
    }

    /// A `reins` command with this environment.
    pub fn reins(&self) -> Command {
        let mut c = Command::new(reins_bin());
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("REINS__HALT__GRACE_MS", "1000")
            // `reins stop` waits for the daemon's recheck: keep it short here.
            .env("REINS__HALT__RECHECK_AFTER_S", "1")
            // Each daemon's embedded phone broker: loopback, free ports.
            .env("REINS__LINK__EMBEDDED_BIND", "127.0.0.1")
            .env("REINS__LINK__EMBEDDED_TCP_PORT", "0")
            .env("REINS__LINK__EMBEDDED_WS_PORT", "0")
            // ... and its phone web app server.
            .env("REINS__PHONE__BIND", "127.0.0.1")
            .env("REINS__PHONE__PORT", "0");
        c
    }

    /// Run `reins args...` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.reins().args(args).output().unwrap()
    }

    /// Copy `fake-agent` into this env under `name` (a relative path) and start it.
    pub fn spawn_agent(&self, name: &str, args: &[&str]) -> Proc {
        let exe = self.path(name);
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        if !exe.exists() {
            std::fs::copy(fake_agent(), &exe).unwrap();
        }
        let mut cmd = Command::new(&exe);
        cmd.args(args)
            .current_dir(self.path("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Proc(spawn_retrying(&mut cmd))
    }

    /// A command that runs `script` in bash copied under `name` (so it is
    /// detected as that agent), with this environment: anything it starts
    /// runs inside an agent's process tree.
    pub fn bash_as_agent(&self, name: &str, script: &str) -> Command {
        let exe = self.path(&format!("bin/{name}"));
        std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
        if !exe.exists() {
            std::fs::copy("/bin/bash", &exe).unwrap();
        }
        let reins = self.reins();
        let mut cmd = Command::new(&exe);
        cmd.args(["-c", script]).env_clear().envs(
            reins
                .get_envs()
                .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
        );
        cmd
    }

    /// Start `reins daemon` and wait for its ready line (no sleeping).
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
}

/// Spawn, retrying on ETXTBSY: a binary we just copied can be briefly "busy"
/// because another test thread forked while our copy's fd was open (the fd
/// is close-on-exec, so this clears as soon as that child execs).
pub fn spawn_retrying(cmd: &mut Command) -> Child {
    for _ in 0..1000 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
            r => return r.unwrap(),
        }
    }
    panic!("{cmd:?} stayed busy (ETXTBSY)");
}

/// Like [`spawn_retrying`], waiting for the output.
pub fn output_retrying(cmd: &mut Command) -> Output {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn_retrying(cmd).wait_with_output().unwrap()
}

/// Start `reins hook <agent> <event>` in `env` with `payload` on stdin
/// (stdin is then closed), capturing stdout and stderr.
pub fn start_hook(env: &Env, agent: &str, event: &str, payload: &str) -> Child {
    use std::io::Write;
    let mut cmd = env.reins();
    cmd.args(["hook", agent, event])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_retrying(&mut cmd);
    let written = child.stdin.take().unwrap().write_all(payload.as_bytes());
    // A hook that rejects its arguments exits without reading its input:
    // the pipe is then closed, which is its answer, not the test's failure.
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        panic!("cannot write the hook's input: {e}");
    }
    child
}

/// A child process that is killed and reaped when dropped.
#[derive(Debug)]
pub struct Proc(pub Child);

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Reap it if it has exited; true when it is gone.
    pub fn reaped(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(Some(_)))
    }

    /// Send SIGTERM and wait for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill with a valid pid of our own child.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        self.0.wait().unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The process state letter from /proc/<pid>/stat, or None if gone.
pub fn proc_state(pid: u32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].chars().next()
}

/// True when `pid` is gone or a zombie.
pub fn is_dead(pid: u32) -> bool {
    matches!(proc_state(pid), None | Some('Z') | Some('X'))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parse `reins status --json` and return the agents array.
pub fn status_agents(env: &Env) -> Vec<serde_json::Value> {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "status failed: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["agents"].as_array().unwrap().clone()
}

pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Failure guard for anything that should take milliseconds to seconds.
pub const T: Duration = Duration::from_secs(20);

/// A child's output, read on a thread, waited on with a bounded timeout.
pub struct Stream {
    rx: mpsc::Receiver<String>,
    buf: String,
}

impl Stream {
    pub fn new(mut r: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = r.read(&mut b) {
                if n == 0
                    || tx
                        .send(String::from_utf8_lossy(&b[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        Stream {
            rx,
            buf: String::new(),
        }
    }

    /// Everything up to and including `needle` (consumed).
    pub fn until(&mut self, needle: &str) -> String {
        loop {
            if let Some(i) = self.buf.find(needle) {
                let rest = self.buf.split_off(i + needle.len());
                return std::mem::replace(&mut self.buf, rest);
            }
            match self.rx.recv_timeout(T) {
                Ok(s) => self.buf.push_str(&s),
                Err(_) => panic!("never saw {needle:?}; output so far: {:?}", self.buf),
            }
        }
    }

    /// The rest of the line after `needle`.
    pub fn line_after(&mut self, needle: &str) -> String {
        self.until(needle);
        self.until("\n").trim().to_owned()
    }
}

/// `reins approvals --watch` running in `env`: a terminal surface, so
/// approval prompts wait for a person (with no surface they abstain at
/// once). Its stdin is a pipe (answers can be written to it) and its output
/// is read on a thread. Killed on drop, which detaches the surface.
pub struct Watcher {
    pub proc: Proc,
    pub out: Stream,
    pub stdin: Option<std::process::ChildStdin>,
}

impl Watcher {
    /// Start it and wait until the daemon counts it as a surface (its
    /// first snapshot is printed after the surface is attached).
    pub fn start(env: &Env) -> Watcher {
        let mut cmd = env.reins();
        cmd.args(["approvals", "--watch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = spawn_retrying(&mut cmd);
        let stdin = child.stdin.take();
        let mut out = Stream::new(child.stdout.take().unwrap());
        out.until("Watching for approval requests");
        out.until("\n");
        // The snapshot: either the pending list or "No approvals pending".
        let mut w = Watcher {
            proc: Proc(child),
            out,
            stdin,
        };
        w.wait_live(env);
        w
    }

    fn wait_live(&mut self, env: &Env) {
        for _ in 0..5000 {
            if terminal_surfaces(env) > 0 {
                return;
            }
        }
        panic!("the watcher never became a live surface");
    }

    /// Type a line.
    pub fn answer(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
}

/// How many terminal surfaces `reins status --json` lists.
pub fn terminal_surfaces(env: &Env) -> usize {
    let o = env.run(&["status", "--json"]);
    if !o.status.success() {
        return 0;
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["surfaces"]["live"]
        .as_array()
        .map_or(0, |l| l.iter().filter(|s| s["kind"] == "terminal").count())
}

/// The audit log once `done` holds for it, or as it is after 10 s. The
/// daemon's audit writer appends after the hook has its answer, so a test
/// polls for the entry rather than reading the file once.
pub fn audit_log_when(env: &Env, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(env.audit_log()).unwrap_or_default();
        if done(&log) || std::time::Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Wait for a hook started with [`start_hook`]: (exit code, stdout, stderr).
pub fn finish(child: Child) -> (i32, String, String) {
    let o = child.wait_with_output().unwrap();
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

/// Poll the daemon (no sleeping) until `n` approvals are pending.
pub fn pending(env: &Env, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..5000 {
        let o = env.run(&["approvals", "--json"]);
        if o.status.success() {
            let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
            if v.len() == n {
                return v;
            }
        }
    }
    panic!("never saw {n} pending approvals");
}

/// A pending request's id, as `reins approve` takes it.
pub fn id(v: &serde_json::Value) -> String {
    v["request_id"].as_str().unwrap().to_owned()
}

/// Write the policy file of this test's config dir.
pub fn policy(env: &Env, text: &str) {
    write(&env.path("config/reins/policy.toml"), text);
}
