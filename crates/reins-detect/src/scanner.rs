//! The sysinfo scanner: one [`Scanner::scan`] refreshes the process table,
//! classifies new processes, groups them into agents and diffs the result
//! against the previous scan.
//!
//! Cost model: each scan lists `/proc` and lets the change detector
//! (`change.rs`) pick what sysinfo re-reads: new PIDs, the children of vanished
//! ones, and the *watched* PIDs (agent trees, every classified process,
//! processes younger than [`RECHECK_YOUNGER_THAN_SECS`]). Every process is
//! read on the first scan; as a safety net against PID reuse, a round-robin
//! slice of the rest has its `stat` re-read at each scan, so that each is
//! re-verified at least every `REVERIFY_EVERY` (10 s). cmdline and exe are read only for PIDs sysinfo
//! has not seen ([`UpdateKind::OnlyIfNotSet`]), the cwd only for agent roots
//! and young processes, the supervisor (`supervisor.rs`) once per agent
//! root, when it first appears. Classification is cached per PID
//! incarnation, except that young processes are re-read, to catch an exec
//! right after fork. The scanner deliberately owns no timer and no thread:
//! the daemon calls `scan()` on its own schedule (1 Hz by default).

use crate::DetectError;
use crate::change::{ChangeDetector, Refresh, list_pids};
use crate::classify::{Class, ProcView};
use crate::diff::diff;
use crate::group::{Forest, Row};
use crate::procfs;
use crate::project::ProjectCache;
use crate::signature::SignatureTable;
use reins_core::{
    AgentId, AgentRecord, AgentState, ProcessKey, RegistryEvent, Supervisor, Unattended,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use sysinfo::{
    Pid, Process, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System, UpdateKind,
};

/// A process that has run for less than this many seconds is re-read from
/// `/proc` at every scan. Right after `fork` a child still shows its
/// parent's command line until it calls `exec` (shell wrappers, `npx`,
/// version-manager shims exec after a few milliseconds); since sysinfo never
/// re-reads a known PID's cmdline, a scan landing in that window would
/// otherwise hide an agent for its whole life. Two seconds covers two
/// scans at 1 Hz.
pub const RECHECK_YOUNGER_THAN_SECS: u64 = 2;

/// The result of one scan.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scan {
    /// Every agent now running, oldest first.
    pub agents: Vec<AgentRecord>,
    /// What changed since the previous scan (all `Appeared` on the first).
    pub events: Vec<RegistryEvent>,
}

/// What we remember about one PID incarnation between scans.
#[derive(Debug)]
struct Known {
    /// sysinfo's start time (Unix seconds): a different value means a reused PID.
    start_time: u64,
    class: Option<Class>,
    /// Read lazily, only for agent roots.
    start_ticks: Option<u64>,
    /// The cwd, read directly from `/proc` (not through sysinfo, so the
    /// hundreds of processes that are not agents cost no `readlink`): at
    /// every scan while the process is young (it may `chdir` between fork
    /// and exec), otherwise once, when it is first an agent root.
    cwd: Option<PathBuf>,
    /// What restarts it, read once when it is first an agent root (outer
    /// `None`: not read yet; inner: nothing found, e.g. it had exited).
    supervisor: Option<Option<Supervisor>>,
    /// The scan generation that last saw this PID.
    seen: u64,
    /// For agent roots: the signature's unattended flag found on the
    /// command line (read from `/proc`, not sysinfo's cached cmdline, and
    /// re-read while the process is young, like the class). `None` until read.
    unattended: Option<Option<Unattended>>,
}

/// Finds the agents running on this machine. Keep one and call
/// [`Scanner::scan`] repeatedly: it is cheap after the first call.
#[derive(Debug)]
pub struct Scanner {
    table: SignatureTable,
    sys: System,
    known: HashMap<u32, Known>,
    generation: u64,
    forest: Forest,
    projects: ProjectCache,
    agents: Vec<AgentRecord>,
    /// Member PIDs of each agent, parallel to `agents`; the root comes first.
    trees: Vec<Vec<u32>>,
    reported: HashMap<AgentId, AgentRecord>,
    changes: ChangeDetector,
    /// PIDs re-read at every scan whatever the `/proc` listing says, sorted:
    /// agent tree members (state, CPU, memory), classified processes (state,
    /// PID reuse) and young processes (exec after fork).
    watched: Vec<u32>,
}

fn classify_process(table: &SignatureTable, pid: u32, p: &Process) -> Option<Class> {
    let exe = p.exe().map(|e| e.to_string_lossy()).unwrap_or_default();
    let args: Vec<Cow<'_, str>> = p.cmd().iter().map(|a| a.to_string_lossy()).collect();
    let argv: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let comm = p.name().to_string_lossy();
    let view = ProcView {
        exe: &exe,
        argv: &argv,
        comm: &comm,
    };
    // The environment is read only for the few processes whose program an
    // env-marker signature names (e.g. node), once per incarnation.
    table.classify_with_env(&view, || procfs::environ(pid))
}

/// Classify one process by reading it straight from `/proc` (exe, argv,
/// comm and, only if a signature's `env_programs` names its program, its
/// environment): for callers that watch a few PIDs between scans, such as
/// the stop latch. `None` if it is gone or matches no agent.
pub fn classify_pid(table: &SignatureTable, pid: u32) -> Option<Class> {
    recheck(table, pid).and_then(|(class, _)| class)
}

/// Re-read a young process from `/proc`: its class and cwd now.
fn recheck(table: &SignatureTable, pid: u32) -> Option<(Option<Class>, Option<PathBuf>)> {
    let fresh = procfs::read_view(pid)?;
    let argv: Vec<&str> = fresh.argv.iter().map(String::as_str).collect();
    let view = ProcView {
        exe: &fresh.exe,
        argv: &argv,
        comm: &fresh.comm,
    };
    Some((
        table.classify_with_env(&view, || procfs::environ(pid)),
        fresh.cwd,
    ))
}

impl Scanner {
    /// A scanner using `table`. The first [`Scanner::scan`] reads every
    /// process (about 30 ms for 500); later ones only new processes.
    pub fn new(table: SignatureTable) -> Result<Scanner, DetectError> {
        let sys = System::new().map_err(|e| DetectError::ProcessTable(Box::new(e)))?;
        Ok(Scanner {
            table,
            sys,
            known: HashMap::new(),
            generation: 0,
            forest: Forest::default(),
            projects: ProjectCache::default(),
            agents: Vec::new(),
            trees: Vec::new(),
            reported: HashMap::new(),
            changes: ChangeDetector::default(),
            watched: Vec::new(),
        })
    }

    /// The signature table in use.
    pub fn table(&self) -> &SignatureTable {
        &self.table
    }

    /// The agents found by the last scan, oldest first.
    pub fn agents(&self) -> &[AgentRecord] {
        &self.agents
    }

    /// The processes of an agent as of the last scan, root first. Start
    /// times are re-read now, so a process that has since exited (or whose
    /// PID was reused) is left out.
    pub fn tree_of(&self, id: &AgentId) -> Vec<ProcessKey> {
        let Some(i) = self.agents.iter().position(|a| &a.id == id) else {
            return Vec::new();
        };
        let mut keys = Vec::with_capacity(self.trees[i].len());
        for (n, &pid) in self.trees[i].iter().enumerate() {
            match procfs::start_ticks(pid) {
                Some(ticks) if n > 0 || ticks == id.root.start_ticks => {
                    keys.push(ProcessKey {
                        pid,
                        start_ticks: ticks,
                    });
                }
                _ if n == 0 => return Vec::new(),
                _ => {}
            }
        }
        keys
    }

    /// Refresh the process table once and report what changed.
    pub fn scan(&mut self) -> Scan {
        self.generation += 1;
        let generation = self.generation;
        self.refresh();
        self.classify_all(generation);
        self.forest.build();
        self.build_records(generation);
        self.watch();
        self.known.retain(|_, k| k.seen == generation);
        self.projects.prune(generation);
        let events = diff(&mut self.reported, &self.agents);
        for event in &events {
            tracing::debug!(?event, "agent registry change");
        }
        Scan {
            agents: self.agents.clone(),
            events,
        }
    }

    /// Re-read what the change detector asks for. CPU is always requested,
    /// so sysinfo samples the machine's total CPU time every scan; each
    /// agent member is re-read every scan, so its CPU share covers exactly
    /// one interval.
    fn refresh(&mut self) {
        let listed = list_pids(Path::new("/proc"));
        let sys = &self.sys;
        let parent_of = |pid: u32| sys.process(Pid::from_u32(pid))?.parent().map(Pid::as_u32);
        let plan = self
            .changes
            .plan(listed, Instant::now(), &self.watched, parent_of);
        let kind = ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cpu()
            .with_memory()
            .with_cmd(UpdateKind::OnlyIfNotSet)
            .with_exe(UpdateKind::OnlyIfNotSet);
        match plan {
            Refresh::All(why) => {
                tracing::trace!(?why, "full process table read");
                self.sys
                    .refresh_processes_specifics(ProcessesToUpdate::All, true, kind);
            }
            Refresh::Some { read, verify } => {
                // No CPU or memory: if a PID was reused, sysinfo sees the new
                // start time in `stat` and reads the newcomer's cmdline and
                // exe; that is all detection needs until it is watched.
                let verify_kind = ProcessRefreshKind::nothing()
                    .without_tasks()
                    .with_cmd(UpdateKind::OnlyIfNotSet)
                    .with_exe(UpdateKind::OnlyIfNotSet);
                for (pids, kind) in [(verify, verify_kind), (read, kind)] {
                    if !pids.is_empty() {
                        let pids: Vec<Pid> = pids.into_iter().map(Pid::from_u32).collect();
                        self.sys.refresh_processes_specifics(
                            ProcessesToUpdate::Some(&pids),
                            true,
                            kind,
                        );
                    }
                }
            }
        }
    }

    /// Remember what the next scan must re-read even if no PID appeared or
    /// vanished.
    fn watch(&mut self) {
        self.watched.clear();
        for members in &self.trees {
            self.watched.extend_from_slice(members);
        }
        for (pid, p) in self.sys.processes() {
            let classified = self
                .known
                .get(&pid.as_u32())
                .is_some_and(|k| k.class.is_some());
            if classified || p.run_time() < RECHECK_YOUNGER_THAN_SECS {
                self.watched.push(pid.as_u32());
            }
        }
        self.watched.sort_unstable();
        self.watched.dedup();
    }

    /// Classify new (and young) processes and fill the forest.
    fn classify_all(&mut self, generation: u64) {
        self.forest.clear();
        for (pid, p) in self.sys.processes() {
            if p.thread_kind().is_some() {
                continue;
            }
            let pid = pid.as_u32();
            let start_time = p.start_time();
            let known = match self.known.get_mut(&pid) {
                Some(k) if k.start_time == start_time => {
                    if p.run_time() < RECHECK_YOUNGER_THAN_SECS
                        && let Some((class, cwd)) = recheck(&self.table, pid)
                    {
                        k.class = class;
                        k.cwd = cwd;
                    }
                    k
                }
                _ => {
                    let class = classify_process(&self.table, pid, p);
                    let fresh = Known {
                        start_time,
                        class,
                        start_ticks: None,
                        cwd: None,
                        supervisor: None,
                        seen: generation,
                        unattended: None,
                    };
                    self.known.insert(pid, fresh);
                    self.known.get_mut(&pid).expect("just inserted")
                }
            };
            known.seen = generation;
            let alive = !matches!(p.status(), ProcessStatus::Zombie | ProcessStatus::Dead);
            let ppid = p.parent().map_or(0, Pid::as_u32);
            self.forest.push(Row {
                pid,
                ppid,
                class: known.class.filter(|_| alive),
            });
        }
    }

    /// Turn the forest's groups into records, oldest first.
    fn build_records(&mut self, generation: u64) {
        let mut built = Vec::with_capacity(self.forest.groups().len());
        for group in self.forest.groups() {
            let Some(root) = self.sys.process(Pid::from_u32(group.root)) else {
                continue;
            };
            let Some(known) = self.known.get_mut(&group.root) else {
                continue;
            };
            if known.start_ticks.is_none() {
                known.start_ticks = procfs::start_ticks(group.root);
            }
            let Some(start_ticks) = known.start_ticks else {
                continue;
            };
            let members = self.forest.members(group);
            let (mut cpu, mut memory) = (0.0f32, 0u64);
            for &pid in members {
                if let Some(p) = self.sys.process(Pid::from_u32(pid)) {
                    cpu += p.cpu_usage();
                    memory += p.memory();
                }
            }
            let sig = &self.table.signatures()[group.signature];
            if known.cwd.is_none() {
                known.cwd = procfs::cwd(group.root);
            }
            let cwd = known.cwd.clone();
            let supervisor = known
                .supervisor
                .get_or_insert_with(|| crate::supervisor::supervisor_of(group.root))
                .clone();
            if known.unattended.is_none() || root.run_time() < RECHECK_YOUNGER_THAN_SECS {
                known.unattended = Some(
                    procfs::argv(group.root)
                        .and_then(|argv| sig.unattended_flag(&argv))
                        .map(|flag| Unattended::CommandLine { flag }),
                );
            }
            let unattended = known.unattended.clone().flatten();
            let project = cwd
                .as_deref()
                .and_then(|c| self.projects.get(c, generation));
            let state = match root.status() {
                ProcessStatus::Stop => AgentState::Paused,
                _ => AgentState::Running,
            };
            let record = AgentRecord {
                id: AgentId {
                    kind: sig.kind().clone(),
                    root: ProcessKey {
                        pid: group.root,
                        start_ticks,
                    },
                },
                kind: sig.kind().clone(),
                display_name: sig.display_name().to_owned(),
                pid: group.root,
                cwd,
                project,
                started_at: root.start_time(),
                cpu_percent: cpu,
                memory_bytes: memory,
                descendants: (members.len() - 1) as u32,
                state,
                supervisor,
                unattended,
            };
            built.push((record, members.to_vec()));
        }
        built.sort_by_key(|(a, _)| (a.started_at, a.pid));
        (self.agents, self.trees) = built.into_iter().unzip();
    }
}

/// One scan without a daemon, for `reins status` when no daemon runs. CPU
/// use reads 0 because there is no earlier sample to compare with.
pub fn scan_once(table: SignatureTable) -> Result<Vec<AgentRecord>, DetectError> {
    Ok(Scanner::new(table)?.scan().agents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scanner_can_move_to_the_daemons_blocking_thread() {
        fn is_send<T: Send>() {}
        is_send::<Scanner>();
    }

    #[test]
    fn a_scan_of_this_machine_never_lists_the_test_itself_or_repeats_an_appearance() {
        let mut scanner = Scanner::new(SignatureTable::builtin()).unwrap();
        let first = scanner.scan();
        let me = std::process::id();
        assert!(first.agents.iter().all(|a| a.pid != me));
        assert_eq!(
            first.events.len(),
            first.agents.len(),
            "the first scan reports every agent as appeared"
        );
        let second = scanner.scan();
        for event in &second.events {
            if let RegistryEvent::Appeared { agent } = event {
                assert!(
                    !first.agents.iter().any(|a| a.id == agent.id),
                    "{agent:?} appeared twice"
                );
            }
        }
    }
}
