//! Tests for target resolution and the self-approval guard, over a fake process table.
use super::*;
use reins_core::{AgentKind, AgentState};
use reins_os::{Delivery, OsError, PeerCred, ProcInfo, ProcState, Signal};
use std::collections::HashMap;

/// A fake process table: the real one cannot be shaped at will.
#[derive(Debug, Default)]
struct FakeOps(HashMap<u32, ProcInfo>);

impl FakeOps {
    fn with(mut self, pid: u32, ppid: u32, start: u64) -> Self {
        let info = ProcInfo {
            key: ProcessKey {
                pid,
                start_ticks: start,
            },
            ppid,
            pgid: 0,
            uid: 1000,
            state: ProcState::Sleeping,
            comm: format!("p{pid}"),
        };
        self.0.insert(pid, info);
        self
    }
}

impl ProcessOps for FakeOps {
    fn list(&self) -> Result<Vec<ProcInfo>, OsError> {
        Ok(self.0.values().cloned().collect())
    }
    fn info(&self, pid: u32) -> Option<ProcInfo> {
        self.0.get(&pid).cloned()
    }
    fn signal(&self, _key: ProcessKey, _sig: Signal) -> Result<Delivery, OsError> {
        Ok(Delivery::Gone)
    }
    fn peer_cred(&self, _fd: std::os::fd::RawFd) -> Result<PeerCred, OsError> {
        Ok(PeerCred { pid: 0, uid: 0 })
    }
    fn self_uid(&self) -> u32 {
        1000
    }
    fn ticks_to_unix(&self, t: u64) -> u64 {
        t
    }
}

fn agent(pid: u32, start: u64) -> AgentRecord {
    let id = AgentId {
        kind: AgentKind::ClaudeCode,
        root: ProcessKey {
            pid,
            start_ticks: start,
        },
    };
    AgentRecord {
        id,
        kind: AgentKind::ClaudeCode,
        display_name: "Claude Code".into(),
        pid,
        cwd: None,
        project: None,
        started_at: 0,
        cpu_percent: 0.0,
        memory_bytes: 0,
        descendants: 0,
        state: AgentState::Running,
        supervisor: None,
        unattended: None,
    }
}

fn table() -> FakeOps {
    FakeOps::default()
        .with(1, 0, 1)
        .with(100, 1, 5)
        .with(101, 100, 6)
        .with(102, 101, 7)
        .with(200, 1, 9)
}

#[test]
fn all_resolves_to_every_agent_and_to_nothing_when_none_run() {
    let ops = table();
    let agents = vec![agent(100, 5), agent(200, 9)];
    assert_eq!(resolve("all", &agents, false, &ops).unwrap().len(), 2);
    assert!(resolve("all", &[], false, &ops).unwrap().is_empty());
}

#[test]
fn an_agent_id_resolves_only_to_the_same_incarnation() {
    let ops = table();
    let agents = vec![agent(100, 5)];
    assert_eq!(
        resolve("claude-100-5", &agents, false, &ops).unwrap()[0]
            .root
            .pid,
        100
    );
    // Same pid, other start time: a different process, never confused.
    let err = resolve("claude-100-4", &agents, false, &ops).unwrap_err();
    assert!(matches!(err, ResolveError::NoSuchAgent { .. }));
    assert!(
        err.to_string().contains("claude-100-5"),
        "lists the agents that exist: {err}"
    );
}

#[test]
fn a_pid_that_is_not_an_agent_needs_force() {
    let ops = table();
    let agents = vec![agent(100, 5)];
    assert!(matches!(
        resolve("200", &agents, false, &ops),
        Err(ResolveError::NotAnAgent { pid: 200, .. })
    ));
    let forced = resolve("200", &agents, true, &ops).unwrap();
    assert_eq!(
        forced,
        vec![Resolved {
            agent: None,
            root: ProcessKey {
                pid: 200,
                start_ticks: 9
            }
        }]
    );
}

#[test]
fn a_pid_that_does_not_exist_is_no_such_agent_even_with_force() {
    let ops = table();
    assert!(matches!(
        resolve("999", &[], true, &ops),
        Err(ResolveError::NoSuchAgent { .. })
    ));
}

#[test]
fn garbage_targets_are_rejected_with_a_hint() {
    let ops = table();
    let err = resolve("claude", &[], false, &ops).unwrap_err();
    assert!(matches!(err, ResolveError::BadTarget(_)));
}

#[test]
fn a_process_deep_inside_an_agent_tree_is_recognised() {
    let ops = table();
    let agents = vec![agent(100, 5)];
    assert_eq!(
        agent_containing(102, &agents, &ops).map(|a| a.root.pid),
        Some(100)
    );
    assert_eq!(
        agent_containing(100, &agents, &ops).map(|a| a.root.pid),
        Some(100)
    );
    assert_eq!(agent_containing(200, &agents, &ops), None);
}

#[test]
fn a_reused_root_pid_does_not_make_its_children_part_of_the_agent() {
    let ops = table();
    let stale = vec![agent(100, 4)];
    assert_eq!(agent_containing(102, &stale, &ops), None);
}
