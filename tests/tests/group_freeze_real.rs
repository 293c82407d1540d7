//! The process-group freeze with real processes, as an ordinary user: an
//! agent that leads its group (as a shell starts a job) is frozen in one
//! step, and a pipeline partner in that group but outside the agent's tree
//! is let go again, never terminated.
//!
//! The engine uses the group step only for ordinary users (as root the
//! kernel would reach other users' processes in the group), so when these
//! tests run as root they run the agent, the partner and the engine
//! (`halt-once`) as `nobody`, from copies of the binaries in a directory
//! that user can read. Nothing here sleeps; no duration is asserted.

mod common;

use common::spawn_retrying;
use reins_core::{HaltReport, ProcessFate};
use reins_os::{Linux, ProcState, ProcessOps};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Failure guard for a line that should come within milliseconds.
const T: Duration = Duration::from_secs(20);

const NOBODY: u32 = 65534;

/// Where the test runs its processes from, and as whom.
struct Runner {
    _dir: tempfile::TempDir,
    fake_agent: PathBuf,
    halt_once: PathBuf,
    as_nobody: bool,
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = |src: &str, name: &str| {
            let dst = dir.path().join(name);
            std::fs::copy(src, &dst).unwrap();
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o755)).unwrap();
            dst
        };
        Runner {
            fake_agent: copy(env!("CARGO_BIN_EXE_fake-agent"), "fake-agent"),
            halt_once: copy(env!("CARGO_BIN_EXE_halt-once"), "halt-once"),
            as_nobody: Linux.self_uid() == 0,
            _dir: dir,
        }
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::null()).current_dir("/");
        if self.as_nobody {
            cmd.uid(NOBODY).gid(NOBODY);
        }
        cmd
    }
}

/// Kills the whole process group on drop, so nothing outlives a failure.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a negative PID signals that process group.
        unsafe { libc::kill(-(self.0 as libc::pid_t), libc::SIGKILL) };
    }
}

/// Lines of a child's stdout, read on a thread.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn an_ordinary_users_agent_is_frozen_with_its_group_and_its_pipeline_partner_is_let_go() {
    let run = Runner::new();
    let mut cmd = run.command(&run.fake_agent);
    cmd.args(["tree", "20"])
        .stdout(Stdio::piped())
        .process_group(0);
    let mut agent = spawn_retrying(&mut cmd);
    let _group = Group(agent.id());
    let agent_lines = lines(&mut agent);
    let ready = agent_lines.recv_timeout(T).expect("fake-agent is ready");
    let tree: Vec<u32> = ready
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("{ready:?}"))
        .split(' ')
        .map(|p| p.parse().unwrap())
        .collect();

    // `agent | tee`: a shell in the agent's group that says when it is
    // continued (SIGCONT can be trapped; it resumes the process either way).
    let mut partner = run.command("bash");
    partner
        .args([
            "-c",
            "trap 'echo continued' CONT; echo ready; while :; do sleep 600 & wait $!; done",
        ])
        .stdout(Stdio::piped())
        .process_group(agent.id() as i32);
    let mut partner = spawn_retrying(&mut partner);
    let partner_lines = lines(&mut partner);
    assert_eq!(partner_lines.recv_timeout(T).as_deref(), Ok("ready"));
    let partner_key = Linux.info(partner.id()).unwrap().key;

    let mut halt = run.command(&run.halt_once);
    halt.args([&agent.id().to_string(), "stop", "3000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = spawn_retrying(&mut halt).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: HaltReport = serde_json::from_slice(&out.stdout).unwrap();
    let _ = agent.wait();

    assert!(report.success, "{report:#?}");
    for pid in &tree {
        let p = report.processes.iter().find(|p| p.process.pid == *pid);
        assert_eq!(
            p.map(|p| &p.fate),
            Some(&ProcessFate::Terminated),
            "pid {pid}"
        );
    }
    assert!(report.processes.iter().all(|p| p.process != partner_key));
    // The group SIGSTOP reached the partner and the engine continued it.
    assert_eq!(partner_lines.recv_timeout(T).as_deref(), Ok("continued"));
    let state = Linux.probe(partner_key);
    assert!(
        state.is_some_and(|s| s != ProcState::Stopped),
        "the partner is alive and not frozen: {state:?}"
    );
    let _ = partner.kill();
    let _ = partner.wait();
}
