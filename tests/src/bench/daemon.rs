//! A `reins daemon` in private HOME/XDG directories, configured to watch
//! only the bench's own agent copy (`builtin_signatures = false` plus one
//! `[[signatures]]` entry), so it can never see or stop a real agent.
//!
//! The daemon is shut down with SIGTERM (then SIGKILL if it lingers) and
//! reaped on drop; its temporary directories go with it.

use super::Res;
use super::procs::{Bins, spawn_retrying};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a SIGTERMed daemon gets to exit cleanly before SIGKILL.
const SHUTDOWN: Duration = Duration::from_secs(5);

/// Private directories and the config for one daemon.
#[derive(Debug)]
pub struct Env {
    dir: tempfile::TempDir,
    reins: PathBuf,
}

impl Env {
    /// Fresh directories and a config whose only signature matches
    /// `agent_name` exactly.
    pub fn new(bins: &Bins, agent_name: &str) -> Res<Env> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
        for d in ["home", "config/reins", "data", "run"] {
            std::fs::create_dir_all(dir.path().join(d))
                .map_err(|e| format!("cannot create {d}: {e}"))?;
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .map_err(|e| format!("cannot chmod the runtime dir: {e}"))?;
        let config = format!(
            "[scan]\nbuiltin_signatures = false\n\n[[signatures]]\nkind = \"reinsbench\"\n\
             exe_names = [\"{agent_name}\"]\n"
        );
        std::fs::write(dir.path().join("config/reins/config.toml"), config)
            .map_err(|e| format!("cannot write the config: {e}"))?;
        Ok(Env {
            dir,
            reins: bins.reins.clone(),
        })
    }

    /// The config file the daemon reads.
    pub fn config_file(&self) -> Res<PathBuf> {
        Ok(self.path("config/reins/config.toml"))
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A `reins` command that sees only these directories.
    pub fn reins(&self) -> Command {
        let mut c = Command::new(&self.reins);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .stdin(Stdio::null());
        c
    }

    /// Run `reins args...` to completion, capturing its output.
    pub fn run(&self, args: &[&str]) -> Res<Output> {
        self.reins()
            .args(args)
            .output()
            .map_err(|e| format!("cannot run reins {args:?}: {e}"))
    }

    /// Start `reins daemon` and wait for its `listening` line.
    pub fn daemon(&self) -> Res<Daemon> {
        self.daemon_with(&[])
    }

    /// [`Env::daemon`] with extra environment variables (e.g. a bus address).
    pub fn daemon_with(&self, vars: &[(&str, &str)]) -> Res<Daemon> {
        let mut cmd = self.reins();
        cmd.envs(vars.iter().copied())
            .arg("daemon")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut d = Daemon {
            child: spawn_retrying(&mut cmd)?,
            reaped: false,
        };
        let out = d.child.stdout.take().ok_or("the daemon has no stdout")?;
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("reading the daemon's ready line: {e}"))?;
        if !line.contains("listening") {
            return Err(format!("the daemon did not become ready: {line:?}"));
        }
        // Keep draining stdout so a later write never blocks or fails.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut reader.get_mut().by_ref(), &mut std::io::sink());
        });
        Ok(d)
    }

    /// Root PIDs of the agents `reins status --json` lists.
    pub fn agent_pids(&self) -> Res<Vec<u32>> {
        let o = self.run(&["status", "--json"])?;
        if !o.status.success() {
            return Err(format!(
                "reins status failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)
            .map_err(|e| format!("reins status --json is not JSON: {e}"))?;
        let agents = v["agents"].as_array().ok_or("status has no agents array")?;
        Ok(agents
            .iter()
            .filter_map(|a| a["pid"].as_u64().map(|p| p as u32))
            .collect())
    }
}

/// A running daemon; SIGTERMed and reaped on drop.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    reaped: bool,
}

impl Daemon {
    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL it (no chance to clean up, as a crash) and reap it.
    pub fn kill(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.reaped = true;
        }
    }

    /// Shut it down (SIGTERM, then SIGKILL after [`SHUTDOWN`]) and reap it.
    pub fn shutdown(&mut self) {
        if self.reaped {
            return;
        }
        // SAFETY: kill(2) on our own unreaped child.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < SHUTDOWN {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.reaped = true;
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reaped = true;
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// utime + stime of `pid` in clock ticks, from `/proc/<pid>/stat`.
pub fn cpu_ticks(pid: u32) -> Res<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("cannot read /proc/{pid}/stat: {e}"))?;
    let close = s.rfind(')').ok_or("malformed stat")?;
    // After "comm)": state is field 3, so utime (14) and stime (15) are
    // the 12th and 13th fields from there (0-based 11 and 12).
    let f: Vec<&str> = s[close + 1..].split_ascii_whitespace().collect();
    let num = |i: usize| -> Res<u64> {
        f.get(i)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("malformed stat field {i} for pid {pid}"))
    };
    Ok(num(11)? + num(12)?)
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in kB.
pub fn status_kb(pid: u32, field: &str) -> Res<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_ascii_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status"))
}

/// Clock ticks per second (`_SC_CLK_TCK`).
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as u64 } else { 100 }
}

/// The file name of `p` as UTF-8.
pub fn file_name(p: &Path) -> Res<&str> {
    p.file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no UTF-8 file name", p.display()))
}
