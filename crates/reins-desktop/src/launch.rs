//! Starting `reins daemon` when none answers: find the binary, spawn it
//! detached in its own session with its output in a log file, and wait for
//! its socket with backoff (never a fixed sleep). And, when no daemon runs
//! at all, halting through `reins <op> --json` (the CLI's direct mode, with
//! the same safety rules and audit records), so a Stop never depends on
//! the daemon being up.
//!
//! Not here: deciding *whether* to start one (the connection task does), or
//! supervising it afterwards (the daemon runs on its own; if it dies the
//! connection task notices and starts another).

use crate::client::call_async;
use reins_runtime::ipc::proto::{Request, Response};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// How long a started daemon gets to answer on its socket.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Why the daemon could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// No `reins` binary was found.
    #[error(
        "cannot find the `reins` program (looked next to this app and on PATH); install Reins \
         or put `reins` on PATH"
    )]
    NoBinary,
    /// The log file or the process could not be created.
    #[error("cannot start {bin}: {source}; check that it is executable")]
    Spawn {
        /// The binary.
        bin: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The daemon exited before answering.
    #[error("`reins daemon` exited at once ({status}): {tail} (full output in {log})")]
    Exited {
        /// Its exit status.
        status: String,
        /// The last lines of its output.
        tail: String,
        /// The log file.
        log: PathBuf,
    },
    /// The daemon did not answer in time.
    #[error(
        "`reins daemon` did not answer within {secs} s; see {log} for its output", secs = START_TIMEOUT.as_secs()
    )]
    Timeout {
        /// The log file.
        log: PathBuf,
    },
}

/// Which `reins` to start: the explicit one, else the one next to the
/// current executable, else the first on PATH.
pub fn find_reins(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_owned());
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("reins")));
    if let Some(p) = beside.filter(|p| p.is_file()) {
        return Some(p);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("reins"))
            .find(|p| p.is_file())
    })
}

/// Spawn `reins daemon` detached (own session, stdin null, output to
/// `log`) and wait until `socket` answers a ping.
pub async fn start_daemon(
    bin: &Path,
    socket: &Path,
    log: &Path,
    env: &[(OsString, OsString)],
) -> Result<(), LaunchError> {
    let spawn_err = |source| LaunchError::Spawn {
        bin: bin.to_owned(),
        source,
    };
    if let Some(dir) = log.parent() {
        reins_runtime::paths::ensure_private_dir(dir)
            .map_err(|e| spawn_err(std::io::Error::other(e.to_string())))?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(spawn_err)?;
    let err = out.try_clone().map_err(spawn_err)?;
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("daemon")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Dropping the child leaves it running; tokio reaps it if it exits
    // while this process lives.
    let mut child = cmd.spawn().map_err(spawn_err)?;
    let deadline = Instant::now() + START_TIMEOUT;
    let mut delay = Duration::from_millis(10);
    loop {
        if let Ok(Response::Pong { .. }) = call_async(socket, &Request::Ping).await {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Another client may have started one at the same moment (ours
            // then exits because the socket is taken): that one will do.
            if let Ok(Response::Pong { .. }) = call_async(socket, &Request::Ping).await {
                return Ok(());
            }
            return Err(LaunchError::Exited {
                status: status.to_string(),
                tail: log_tail(log),
                log: log.to_owned(),
            });
        }
        if Instant::now() >= deadline {
            return Err(LaunchError::Timeout {
                log: log.to_owned(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

/// Run `reins <op> --json <target>` (no daemon: it acts directly) and
/// read its verified outcome. `Err` carries what the CLI said.
pub async fn halt_directly(
    bin: &Path,
    op: reins_core::HaltOp,
    target: &str,
    env: &[(OsString, OsString)],
) -> Result<reins_runtime::ipc::HaltOutcome, String> {
    let out = tokio::process::Command::new(bin)
        .args([op.verb(), "--json", target])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if let Ok(outcome) = serde_json::from_slice(&out.stdout) {
        return Ok(outcome);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let said: Vec<&str> = err
        .lines()
        .map(|l| l.trim_start_matches("reins: ").trim())
        .filter(|l| !l.is_empty() && !l.contains("acting directly"))
        .collect();
    Err(if said.is_empty() {
        format!("`reins {}` failed ({})", op.verb(), out.status)
    } else {
        said.join(" ")
    })
}

/// The last few non-empty lines of the log, joined.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        "no output".into()
    } else {
        tail.join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_binary_wins() {
        assert_eq!(
            find_reins(Some(Path::new("/opt/x/reins"))),
            Some(PathBuf::from("/opt/x/reins"))
        );
    }

    #[tokio::test]
    async fn a_daemon_that_exits_at_once_is_reported_with_its_output() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("reins");
        std::fs::write(
            &bin,
            "#!/bin/sh\necho \"config.toml:3: bad key\" >&2\nexit 2\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = start_daemon(
            &bin,
            &t.path().join("s.sock"),
            &t.path().join("log/d.log"),
            &[],
        )
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("bad key"), "{msg}");
        assert!(msg.contains("d.log"), "{msg}");
    }
}
