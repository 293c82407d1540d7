//! The latch task: the one owner of the stop latches ([`crate::latch`]).
//!
//! It takes verified stops, releases and resumes over a [`LatchHandle`],
//! and while any latch is active it looks for respawns two ways: it polls
//! each latched supervisor's children every [`WATCH_EVERY`] (a process's
//! `/proc/<pid>/task/*/children`, or a unit's or container's `cgroup.procs`),
//! and it listens to the registry's events (the 1 Hz scan) for anything the
//! watch cannot see, such as a respawn deeper below the supervisor. It
//! performs what the pure machine decides: freezes (the pause engine, whole
//! tree), resumes, alerts on every surface and audit entries. With no latch
//! active it reads nothing. It does not stop agents; `halt_for` does, then
//! tells it.

use crate::alerts::{AlertDraft, Alerts};
use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::audit_writer::AuditHandle;
use crate::events::{DaemonEvent, DaemonEvents};
use crate::ipc::proto::ReleaseOutcome;
use crate::latch::{
    Action, Candidate, LatchInfo, Latches, RecheckVerdict, ReleaseError, StopRecheck,
};
use crate::registry::RegistryHandle;
use reins_core::{
    Actor, AgentId, AgentRecord, AlertAction, AlertKind, HaltOp, HaltOptions, ProcessKey,
    RegistryEvent, Supervisor,
};
use reins_detect::{Class, SignatureTable};
use reins_os::{ProcInfo, ProcessOps};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often a latched supervisor's children are read. A respawn must be
/// frozen within 100 ms (p99) of appearing; node needs tens of ms from exec
/// to running any of its code, so a 20 ms poll plus the freeze keeps well
/// inside that, and each poll reads one small file per supervisor thread
/// plus one `stat` per child (see docs/performance.md for its idle cost).
pub const WATCH_EVERY: Duration = Duration::from_millis(20);

/// How often the children are read once every latch holds a respawn. A
/// supervisor whose child is alive (frozen) starts no other: systemd, pm2,
/// a shell loop and nodemon all wait for their child to exit, so nothing
/// new is expected and the 20 ms poll would mostly spend CPU. But if the
/// held child is killed, the next respawn is only seen at the next read:
/// 75 ms keeps that case inside the 100 ms (p99) target for respawn →
/// frozen while reading a quarter as often (measured: 250 ms cut the idle
/// cost to 0.13 % of a core but let that case take 238 ms).
pub const WATCH_HELD_EVERY: Duration = Duration::from_millis(75);

/// A child still unclassified this long after it was first seen is left
/// alone: wrappers exec the agent within milliseconds of the fork, and the
/// 1 Hz scan still sees anything later (same as the scanner's recheck window).
const DECIDE_WITHIN: Duration = Duration::from_secs(reins_detect::RECHECK_YOUNGER_THAN_SECS);

type ReleaseReply = oneshot::Sender<Result<ReleaseOutcome, ReleaseError>>;

enum Cmd {
    Stopped(Vec<LatchInfo>),
    Resumed(Vec<AgentId>),
    Release(String, Actor, ReleaseReply),
    Recheck(Box<LatchInfo>, oneshot::Sender<RecheckVerdict>),
}

/// What the latch task works with.
#[derive(Debug)]
pub struct LatchDeps {
    /// Signals and process reads.
    pub ops: Arc<dyn ProcessOps>,
    /// The signatures, to classify a supervisor's new children.
    pub table: SignatureTable,
    /// The registry: its events, and fresh scans for rechecks.
    pub registry: RegistryHandle,
    /// Where held respawns are announced.
    pub alerts: Alerts,
    /// Where rechecks are published.
    pub events: DaemonEvents,
    /// The audit log.
    pub audit: AuditHandle,
}

/// A cloneable handle on the latch task.
#[derive(Clone, Debug)]
pub struct LatchHandle {
    tx: mpsc::Sender<Cmd>,
    view: watch::Receiver<Vec<LatchInfo>>,
    events: DaemonEvents,
    tracker: TaskTracker,
    shutdown: CancellationToken,
}

impl LatchHandle {
    /// Start the latch task.
    pub fn spawn(deps: LatchDeps, shutdown: CancellationToken, tracker: &TaskTracker) -> Self {
        let (tx, rx) = mpsc::channel(64);
        let (view_tx, view) = watch::channel(Vec::new());
        let events = deps.events.clone();
        let task = Task {
            latches: Latches::default(),
            registry_rx: deps.registry.subscribe(),
            deps: Arc::new(deps),
            kids: HashMap::new(),
            view: view_tx,
            tracker: tracker.clone(),
        };
        tracker.spawn(task.run(rx, shutdown.clone()));
        LatchHandle {
            tx,
            view,
            events,
            tracker: tracker.clone(),
            shutdown,
        }
    }

    /// The active latches, with their held respawns.
    pub fn list(&self) -> Vec<LatchInfo> {
        self.view.borrow().clone()
    }

    /// Verified stops: latch them.
    pub async fn stopped(&self, latches: Vec<LatchInfo>) {
        if !latches.is_empty() {
            let _ = self.tx.send(Cmd::Stopped(latches)).await;
        }
    }

    /// A person resumed these agents: any that was held is let go.
    pub async fn resumed(&self, ids: Vec<AgentId>) {
        if !ids.is_empty() {
            let _ = self.tx.send(Cmd::Resumed(ids)).await;
        }
    }

    /// End the latches `target` names and resume their held respawns.
    pub async fn release(
        &self,
        target: &str,
        actor: Actor,
    ) -> Result<ReleaseOutcome, ReleaseError> {
        let (tx, rx) = oneshot::channel();
        let gone = || ReleaseError::NoSuchLatch {
            target: target.to_owned(),
            hint: "the daemon is shutting down".into(),
        };
        self.tx
            .send(Cmd::Release(target.to_owned(), actor, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// After `after`, check whether `latch`'s agent came back and publish
    /// the answer ([`DaemonEvent::Rechecked`]) on the daemon's bus.
    pub fn recheck_later(&self, latch: LatchInfo, after: Duration) {
        let tx = self.tx.clone();
        let events = self.events.clone();
        let shutdown = self.shutdown.clone();
        self.tracker.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(after) => {}
            }
            let (stopped, display_name, project) = (
                latch.stopped.clone(),
                latch.display_name.clone(),
                latch.project.clone(),
            );
            let (reply, rx) = oneshot::channel();
            if tx.send(Cmd::Recheck(Box::new(latch), reply)).await.is_err() {
                return;
            }
            if let Ok(verdict) = rx.await {
                events.publish(DaemonEvent::Rechecked(StopRecheck {
                    stopped,
                    display_name,
                    project,
                    after_s: after.as_secs(),
                    verdict,
                }));
            }
        });
    }
}

/// What `halt_for` latches for a stopped agent: its supervisor as detected,
/// else its parent process (read now, before the stop kills it).
pub fn latch_for(agent: &AgentRecord, ops: &dyn ProcessOps, since: u64) -> LatchInfo {
    LatchInfo {
        stopped: agent.id.clone(),
        display_name: agent.display_name.clone(),
        supervisor: supervisor_of(agent, ops),
        project: agent.project.clone(),
        cwd: agent.cwd.clone(),
        since,
        held: Vec::new(),
    }
}

/// The agent's supervisor, or its parent process when detection found none.
pub fn supervisor_of(agent: &AgentRecord, ops: &dyn ProcessOps) -> Supervisor {
    if let Some(s) = &agent.supervisor {
        return s.clone();
    }
    let ppid = ops
        .info(agent.pid)
        .filter(|i| i.key == agent.id.root)
        .map_or(0, |i| i.ppid);
    let comm = ops.info(ppid).map(|i| i.comm).unwrap_or_default();
    Supervisor::Parent { pid: ppid, comm }
}

/// Unix seconds now.
pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One child of a watched supervisor.
#[derive(Debug)]
struct Kid {
    start_ticks: u64,
    first_seen: Instant,
    decided: bool,
}

struct Task {
    latches: Latches,
    deps: Arc<LatchDeps>,
    registry_rx: broadcast::Receiver<RegistryEvent>,
    /// Children of watched supervisors, by pid.
    kids: HashMap<u32, Kid>,
    view: watch::Sender<Vec<LatchInfo>>,
    tracker: TaskTracker,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>, shutdown: CancellationToken) {
        let mut next_watch = tokio::time::Instant::now();
        let mut registry_open = true;
        loop {
            let every = if self.latches.list().iter().all(|l| !l.held.is_empty()) {
                WATCH_HELD_EVERY
            } else {
                WATCH_EVERY
            };
            // A latch that stops holding (a release, a stop) polls fast again at once.
            next_watch = next_watch.min(tokio::time::Instant::now() + every);
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(cmd) => self.command(cmd).await,
                },
                ev = self.registry_rx.recv(), if registry_open => match ev {
                    Ok(ev) => self.registry_event(ev).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        for agent in self.deps.registry.snapshot().await {
                            self.registry_event(RegistryEvent::Appeared { agent }).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => registry_open = false,
                },
                _ = tokio::time::sleep_until(next_watch), if self.latches.any() => {
                    self.watch().await;
                    next_watch = tokio::time::Instant::now() + every;
                }
            }
            if !self.latches.any() {
                self.kids.clear();
            }
            let list = self.latches.list().to_vec();
            self.view.send_if_modified(|v| {
                let changed = *v != list;
                *v = list;
                changed
            });
        }
    }

    async fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Stopped(latches) => {
                for latch in latches {
                    let actions = self.latches.stopped(latch);
                    self.perform(actions, &Actor::Daemon).await;
                }
                // A respawn may have come while the stop was still verifying.
                for agent in self.deps.registry.snapshot().await {
                    self.registry_event(RegistryEvent::Appeared { agent }).await;
                }
            }
            Cmd::Resumed(ids) => {
                for id in ids {
                    let actions = self.latches.resumed(&id);
                    self.perform(actions, &Actor::Daemon).await;
                }
            }
            Cmd::Release(target, actor, reply) => {
                let result = self.latches.release(&target);
                let answer = match result {
                    Ok((outcome, actions)) => {
                        self.perform(actions, &actor).await;
                        Ok(outcome)
                    }
                    Err(e) => Err(e),
                };
                let _ = reply.send(answer);
            }
            Cmd::Recheck(latch, reply) => {
                let agents = self.deps.registry.scan_now().await;
                let now: Vec<Candidate> = agents.iter().map(|a| self.candidate(a)).collect();
                let verdict = crate::latch::recheck(&latch, self.latches.get(&latch.stopped), &now);
                let _ = reply.send(verdict);
            }
        }
    }

    fn candidate(&self, a: &AgentRecord) -> Candidate {
        let ops = &*self.deps.ops;
        let supervisor = supervisor_of(a, ops);
        let own_job = ops.info(a.pid).is_some_and(|me| {
            let parent_pgid = ops.info(me.ppid).map(|p| p.pgid);
            crate::latch::is_own_job(&supervisor, a.pid, me.pgid, parent_pgid)
        });
        Candidate {
            id: a.id.clone(),
            supervisor,
            project: a.project.clone(),
            cwd: a.cwd.clone(),
            started_at: a.started_at,
            own_job,
        }
    }

    async fn registry_event(&mut self, ev: RegistryEvent) {
        let actions = match ev {
            RegistryEvent::Appeared { agent } | RegistryEvent::Changed { agent } => {
                if !self.latches.any() {
                    return;
                }
                let c = self.candidate(&agent);
                self.latches.seen(&c)
            }
            RegistryEvent::Exited { id } => self.latches.gone(&id),
        };
        self.perform(actions, &Actor::Daemon).await;
    }

    /// Read every latched supervisor's children once and offer the agents
    /// among them to the machine.
    async fn watch(&mut self) {
        let mut sups: Vec<Supervisor> = Vec::new();
        for l in self.latches.list() {
            if !sups
                .iter()
                .any(|s| crate::latch::same_supervisor(s, &l.supervisor))
            {
                sups.push(l.supervisor.clone());
            }
        }
        // Inline, not on the blocking pool: a few small procfs reads (tens
        // of µs), 50 times a second; a pool hand-off each time cost more
        // than the reads.
        let found = poll_supervisors(&self.deps, &sups, &mut self.kids);
        for c in found {
            let actions = self.latches.seen(&c);
            self.perform(actions, &Actor::Daemon).await;
        }
    }

    async fn perform(&mut self, actions: Vec<Action>, actor: &Actor) {
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Freeze { agent, latch } => {
                    let ok = self.halt(agent.root, HaltOp::Pause).await;
                    queue.extend(self.latches.frozen(&agent, &latch, ok));
                    let registry = self.deps.registry.clone();
                    // The frozen respawn shows up (paused) on every surface.
                    self.tracker.spawn(async move {
                        registry.scan_now().await;
                    });
                }
                Action::Held {
                    agent,
                    latch,
                    frozen,
                } => self.announce(agent, &latch, frozen).await,
                Action::Resume { agent } => {
                    self.halt(agent.root, HaltOp::Resume).await;
                }
                Action::ClearAlert { agent } => {
                    self.deps.alerts.clear_agent(&agent);
                }
                Action::Released { latch } => {
                    let entry = AuditEntry {
                        actor: actor.clone(),
                        action: AuditAction::Released,
                        target: latch.stopped.to_string(),
                        outcome: AuditOutcome::Ok,
                        latency_us: None,
                        detail: serde_json::json!({
                            "supervisor": latch.supervisor,
                            "resumed": latch.held,
                        }),
                    };
                    for w in self.deps.audit.append_all(vec![entry]).await {
                        tracing::error!("{w}");
                    }
                }
            }
        }
    }

    async fn halt(&self, root: ProcessKey, op: HaltOp) -> bool {
        let ops = self.deps.ops.clone();
        tokio::task::spawn_blocking(move || {
            reins_os::halt(&*ops, root, op, &HaltOptions::default()).success
        })
        .await
        .unwrap_or(false)
    }

    async fn announce(&self, agent: AgentId, latch: &LatchInfo, frozen: bool) {
        let place = latch
            .project
            .as_deref()
            .map(|p| format!(" · {p}"))
            .unwrap_or_default();
        let (message, actions) = if frozen {
            (
                format!(
                    "{}{place} respawned by {}; held frozen",
                    latch.display_name, latch.supervisor
                ),
                vec![
                    AlertAction::Release,
                    AlertAction::StopSupervisor,
                    AlertAction::Stop,
                ],
            )
        } else {
            (
                format!(
                    "{}{place} respawned by {}; Reins could not freeze it",
                    latch.display_name, latch.supervisor
                ),
                vec![AlertAction::StopSupervisor, AlertAction::Stop],
            )
        };
        self.deps.alerts.clear_agent(&agent);
        self.deps.alerts.raise(
            AlertDraft {
                kind: AlertKind::RespawnHeld {
                    stopped: latch.stopped.clone(),
                    supervisor: latch.supervisor.clone(),
                },
                agent: agent.clone(),
                display_name: latch.display_name.clone(),
                project: latch.project.clone(),
                message,
                actions,
            },
            now_s(),
        );
        let entry = AuditEntry {
            actor: Actor::Daemon,
            action: AuditAction::RespawnHeld,
            target: agent.to_string(),
            outcome: if frozen {
                AuditOutcome::Ok
            } else {
                AuditOutcome::Failed
            },
            latency_us: None,
            detail: serde_json::json!({
                "stopped": latch.stopped.to_string(),
                "supervisor": latch.supervisor,
                "project": latch.project,
            }),
        };
        for w in self.deps.audit.append_all(vec![entry]).await {
            tracing::error!("{w}");
        }
    }
}

/// The direct children of a supervisor: a process's (by pid, checked
/// against PID reuse through its start time), or the top-level processes of
/// a unit's or container's cgroup.
fn children_of(ops: &dyn ProcessOps, sup: &Supervisor) -> Vec<ProcInfo> {
    match sup {
        Supervisor::Parent { pid, .. } | Supervisor::Pm2 { pid } => {
            if *pid <= 1 {
                // Init's children are the whole orphaned world; the 1 Hz scan covers them.
                return Vec::new();
            }
            let Some(me) = ops.info(*pid) else {
                return Vec::new();
            };
            ops.children(me.key).unwrap_or_else(|| {
                ops.list()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p.ppid == *pid)
                    .collect()
            })
        }
        Supervisor::SystemdUnit { cgroup, .. } | Supervisor::Container { cgroup, .. } => {
            let pids: Vec<u32> = cgroup_procs(cgroup)
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            pids.iter()
                .filter_map(|&p| ops.info(p))
                .filter(|i| !pids.contains(&i.ppid))
                .collect()
        }
    }
}

/// The `cgroup.procs` file of the group at `cgroup` (relative to the
/// cgroup2 root), under the cgroup2 mount found in `/proc/self/mountinfo`:
/// `/sys/fs/cgroup` on a unified host, `/sys/fs/cgroup/unified` on a hybrid
/// one. Found once; `None` without a cgroup2 mount.
fn cgroup_procs(cgroup: &str) -> Option<std::path::PathBuf> {
    static ROOT: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let root = ROOT.get_or_init(|| {
        reins_os::cgroup::CgroupFs::find()
            .ok()
            .map(|fs| fs.root().to_path_buf())
    });
    let rel = format!("{}/cgroup.procs", cgroup.trim_start_matches('/'));
    root.as_ref().map(|r| r.join(rel))
}

/// The PIDs a supervisor's children files (or its cgroup) list, read raw:
/// the cheap check made at every poll. `None` when unreadable.
fn raw_children(sup: &Supervisor) -> Option<Vec<u32>> {
    let parse = |text: &str, out: &mut Vec<u32>| {
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    };
    let mut out = Vec::new();
    match sup {
        Supervisor::Parent { pid, .. } | Supervisor::Pm2 { pid } => {
            for task in std::fs::read_dir(format!("/proc/{pid}/task"))
                .ok()?
                .flatten()
            {
                parse(
                    &std::fs::read_to_string(task.path().join("children")).ok()?,
                    &mut out,
                );
            }
        }
        Supervisor::SystemdUnit { cgroup, .. } | Supervisor::Container { cgroup, .. } => {
            parse(
                &std::fs::read_to_string(cgroup_procs(cgroup)?).ok()?,
                &mut out,
            );
        }
    }
    Some(out)
}

fn poll_supervisors(
    deps: &LatchDeps,
    sups: &[Supervisor],
    kids: &mut HashMap<u32, Kid>,
) -> Vec<Candidate> {
    let now = Instant::now();
    let mut found = Vec::new();
    let mut listed = Vec::new();
    for sup in sups {
        // The steady state (a held respawn, the supervisor waiting on it):
        // nothing new is listed, so one raw read is all a poll costs.
        if let Some(raw) = raw_children(sup)
            && raw.iter().all(|p| kids.get(p).is_some_and(|k| k.decided))
        {
            listed.extend(raw);
            continue;
        }
        let parent_pgid = match sup {
            Supervisor::Parent { pid, .. } => deps.ops.info(*pid).map(|p| p.pgid),
            _ => None,
        };
        for child in children_of(&*deps.ops, sup) {
            listed.push(child.key.pid);
            let kid = kids.entry(child.key.pid).or_insert(Kid {
                start_ticks: child.key.start_ticks,
                first_seen: now,
                decided: false,
            });
            if kid.start_ticks != child.key.start_ticks {
                *kid = Kid {
                    start_ticks: child.key.start_ticks,
                    first_seen: now,
                    decided: false,
                };
            }
            if kid.decided {
                continue;
            }
            if let Some(Class::Agent(i)) = reins_detect::classify_pid(&deps.table, child.key.pid) {
                kid.decided = true;
                let cwd = std::fs::read_link(format!("/proc/{}/cwd", child.key.pid)).ok();
                found.push(Candidate {
                    id: AgentId {
                        kind: deps.table.signatures()[i].kind().clone(),
                        root: child.key,
                    },
                    supervisor: sup.clone(),
                    project: cwd.as_deref().and_then(reins_detect::project::project_of),
                    cwd,
                    started_at: deps.ops.ticks_to_unix(child.key.start_ticks),
                    own_job: crate::latch::is_own_job(sup, child.key.pid, child.pgid, parent_pgid),
                });
            } else if now.duration_since(kid.first_seen) > DECIDE_WITHIN {
                kid.decided = true;
            }
        }
    }
    kids.retain(|pid, _| listed.contains(pid));
    found
}
