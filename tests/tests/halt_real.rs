//! The halt engine against real process trees built by `fake-agent`, through
//! `reins_os::Linux`: real SIGSTOP/SIGTERM/SIGKILL, real `setsid`, real
//! forks racing the freeze.
//!
//! Every tree carries a unique environment tag, so after a stop the test can
//! scan `/proc` for anything of its own still alive, including processes the
//! report never mentioned. Tests wait for `fake-agent`'s ready line, never
//! sleep, and assert outcomes, never wall-clock times.

use reins_core::{HaltOp, HaltOptions, HaltReport, ProcessFate, ProcessKey};
use reins_os::{Linux, ProcState, ProcessOps, Signal, halt};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const TAG_VAR: &str = "REINS_HALT_TEST_TAG";

/// A fake-agent tree started by a test; leftovers are killed on drop.
struct Agent {
    child: Child,
    /// Every PID the tree reported in its ready line, root first.
    pids: Vec<u32>,
    tag: String,
}

impl Agent {
    fn start(args: &[&str]) -> Agent {
        Self::start_in(args, false)
    }

    /// Like `start`, with the root leading a process group of its own, as
    /// a shell starts a job.
    fn start_group_leader(args: &[&str]) -> Agent {
        Self::start_in(args, true)
    }

    fn start_in(args: &[&str], own_group: bool) -> Agent {
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag = format!(
            "{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fake-agent"));
        cmd.args(args)
            .env(TAG_VAR, &tag)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if own_group {
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pids: Vec<u32> = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("fake-agent {args:?} did not become ready: {line:?}"))
            .split(' ')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(pids[0], child.id());
        Agent { child, pids, tag }
    }

    fn root(&self) -> ProcessKey {
        key(self.child.id())
    }

    /// Reap the root (a zombie child of this test after a stop).
    fn reap(&mut self) {
        self.child.wait().unwrap();
    }

    /// PIDs of this tree's processes that are still alive (zombies excluded).
    fn survivors(&self) -> Vec<u32> {
        let needle = format!("{TAG_VAR}={}\0", self.tag);
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            let tagged = env.windows(needle.len()).any(|w| w == needle.as_bytes());
            let live = Linux
                .info(pid)
                .is_some_and(|p| p.state != ProcState::Zombie);
            if tagged && live {
                out.push(pid);
            }
        }
        out
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        for pid in self.survivors() {
            if let Some(p) = Linux.info(pid) {
                let _ = Linux.signal(p.key, Signal::Kill);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key(pid: u32) -> ProcessKey {
    Linux
        .info(pid)
        .unwrap_or_else(|| panic!("pid {pid} is not running"))
        .key
}

fn stop(root: ProcessKey, grace_ms: u64) -> HaltReport {
    let opts = HaltOptions {
        grace: Duration::from_millis(grace_ms),
        force: false,
    };
    halt(&Linux, root, HaltOp::Stop, &opts)
}

fn fate(r: &HaltReport, pid: u32) -> ProcessFate {
    let p = r.processes.iter().find(|p| p.process.pid == pid);
    p.unwrap_or_else(|| panic!("pid {pid} missing from {r:#?}"))
        .fate
        .clone()
}

fn stopped(pid: u32) -> bool {
    Linux
        .info(pid)
        .is_some_and(|p| p.state == ProcState::Stopped)
}

#[test]
fn an_agent_leading_its_group_is_stopped_whole_and_its_pipeline_partner_keeps_running() {
    let mut agent = Agent::start_group_leader(&["tree", "20"]);
    let root = agent.root();
    // A process in the agent's group but not in its tree, like `tee` in
    // `agent | tee log`: the group freeze reaches it, the engine must let
    // it go again, and never terminate it.
    let mut partner = Command::new("sleep");
    partner.arg("600");
    std::os::unix::process::CommandExt::process_group(&mut partner, root.pid as i32);
    let mut partner = partner.spawn().unwrap();
    let partner_key = key(partner.id());
    assert_eq!(Linux.info(partner.id()).map(|p| p.pgid), Some(root.pid));

    let r = stop(root, 3000);
    let mut state = Linux.probe(partner_key);
    for _ in 0..1_000_000 {
        if state != Some(ProcState::Stopped) {
            break;
        }
        std::thread::yield_now();
        state = Linux.probe(partner_key);
    }
    let _ = partner.kill();
    let _ = partner.wait();
    agent.reap();
    assert!(r.success, "{r:#?}");
    assert_eq!(agent.survivors(), Vec::<u32>::new());
    assert!(
        r.processes.iter().all(|p| p.process != partner_key),
        "{r:#?}"
    );
    assert!(
        state.is_some() && state != Some(ProcState::Stopped),
        "the partner is alive and running, not left frozen: {state:?}"
    );
}

#[test]
fn a_fifty_process_tree_is_stopped_and_verified_gone() {
    let mut agent = Agent::start(&["tree", "50"]);
    assert_eq!(agent.pids.len(), 50);
    let r = stop(agent.root(), 3000);
    assert!(r.success, "{r:#?}");
    for &pid in &agent.pids {
        assert_eq!(fate(&r, pid), ProcessFate::Terminated, "pid {pid}");
    }
    assert!(r.frozen_after_us.is_some() && r.gone_after_us.is_some());
    assert!(
        r.processes.iter().all(|p| p.frozen_after_us.is_some()),
        "{r:#?}"
    );
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn a_setsid_grandchild_that_ignores_sigterm_is_killed() {
    let mut agent = Agent::start(&["setsid-grandchild"]);
    let [root, middle, grandchild] = agent.pids[..] else {
        panic!("{:?}", agent.pids)
    };
    let session = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        after
            .split_whitespace()
            .nth(3)
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(
        session(grandchild),
        grandchild,
        "the grandchild leads its own session"
    );
    assert_ne!(session(root), grandchild);

    let r = stop(agent.root(), 300);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, grandchild), ProcessFate::Killed);
    assert_eq!(fate(&r, middle), ProcessFate::Terminated);
    assert_eq!(fate(&r, root), ProcessFate::Terminated);
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn a_forker_that_ignores_sigterm_is_killed_with_every_late_fork() {
    // The root obeys SIGTERM and exits, orphaning the forker, which ignores
    // it and keeps forking through the grace period.
    let mut agent = Agent::start(&["children", "1", "ignore-term", "forker", "400", "2"]);
    let forker = agent.pids[1];
    let r = stop(agent.root(), 300);
    assert!(r.success, "{r:#?}");
    assert_eq!(fate(&r, forker), ProcessFate::Killed);
    assert!(
        r.processes.len() > 2,
        "the forker's children are in the report"
    );
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn a_bounded_forker_is_fully_killed() {
    let mut agent = Agent::start(&["children", "2", "forker", "200", "1"]);
    let r = stop(agent.root(), 3000);
    assert!(r.success, "{r:#?}");
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn processes_exiting_by_themselves_mid_stop_are_not_failures() {
    // The children ignore SIGTERM but exit on their own shortly after
    // starting, well inside the grace period; the stop returns once they do.
    let mut agent = Agent::start(&["children", "4", "ignore-term", "exit-after", "150"]);
    let r = stop(agent.root(), 10_000);
    assert!(r.success, "{r:#?}");
    for &pid in &agent.pids[1..] {
        let f = fate(&r, pid);
        assert!(
            matches!(f, ProcessFate::Terminated | ProcessFate::AlreadyGone),
            "{pid}: {f:?}"
        );
    }
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn children_that_already_exited_as_zombies_count_as_gone() {
    // Each child exits at once; the root never waits, so they are zombies.
    let mut agent = Agent::start(&["children", "3", "exit-after", "0"]);
    let r = stop(agent.root(), 3000);
    assert!(r.success, "{r:#?}");
    agent.reap();
    assert_eq!(agent.survivors(), Vec::<u32>::new());
}

#[test]
fn pause_then_resume_is_verified_through_state_t() {
    let mut agent = Agent::start(&["tree", "8"]);
    let opts = HaltOptions::default();

    let r = halt(&Linux, agent.root(), HaltOp::Pause, &opts);
    assert!(r.success, "{r:#?}");
    assert!(
        r.processes.iter().all(|p| p.fate == ProcessFate::Paused),
        "{r:#?}"
    );
    assert!(agent.pids.iter().all(|&pid| stopped(pid)));

    let r = halt(&Linux, agent.root(), HaltOp::Resume, &opts);
    assert!(r.success, "{r:#?}");
    assert!(
        r.processes.iter().all(|p| p.fate == ProcessFate::Resumed),
        "{r:#?}"
    );
    assert!(!agent.pids.iter().any(|&pid| stopped(pid)));

    assert!(stop(agent.root(), 3000).success);
    agent.reap();
}

#[test]
fn a_right_pid_with_a_wrong_start_time_is_never_signalled() {
    let mut agent = Agent::start(&["sleep"]);
    let real = agent.root();
    for start_ticks in [real.start_ticks + 1, real.start_ticks.saturating_sub(1)] {
        let stale = ProcessKey {
            pid: real.pid,
            start_ticks,
        };
        for op in [HaltOp::Stop, HaltOp::Pause] {
            let r = halt(&Linux, stale, op, &HaltOptions::default());
            assert_eq!(fate(&r, real.pid), ProcessFate::AlreadyGone);
        }
    }
    let state = Linux.probe(real);
    assert!(
        matches!(state, Some(ProcState::Sleeping | ProcState::Running)),
        "{state:?}"
    );
    assert!(stop(real, 3000).success);
    agent.reap();
}
