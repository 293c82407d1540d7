//! The bookkeeping of one halt: every process incarnation the halt has met,
//! what was sent to it and when it was seen frozen or gone, plus the two
//! moves every operation is built from (discover late forks, freeze until no
//! new process appears). The freeze's fast path, walking the tree through
//! the children lists, is in `walk.rs`.
//!
//! Processes are tracked by [`ProcessKey`], never by re-walking from the
//! root only: once a parent exits, its children are reparented to init (or a
//! subreaper) and only their keys still tie them to the tree. This module
//! does not decide fates or success; `halt.rs` does.

use crate::tree::Tree;
use crate::{Delivery, OsError, ProcInfo, ProcState, ProcessOps, Signal};
use reins_core::ProcessKey;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How many discover-and-freeze rounds (and, in `walk.rs`, confirm rounds)
/// before giving up on a tree that keeps producing new processes. Every round freezes the processes found so far,
/// so an ordinary tree settles in two or three; 32 only stops a fork bomb
/// from holding the halt hostage (the kill phase scans again anyway).
pub(super) const MAX_FREEZE_ROUNDS: usize = 32;

/// The first poll interval. A SIGSTOP or SIGKILL takes effect in
/// microseconds, so the first checks come quickly.
const POLL_FIRST: Duration = Duration::from_micros(100);
/// The poll interval for the first 100 ms (cheap: one `stat` read per
/// unsettled process).
const POLL_EARLY_MAX: Duration = Duration::from_millis(2);
/// The poll interval after that, so a long grace period does not burn a core.
const POLL_LATE: Duration = Duration::from_millis(10);

/// The first poll interval of a wait.
pub(crate) fn first_interval() -> Duration {
    POLL_FIRST
}

/// The poll interval after `interval`, `waited` into a wait: doubling up to
/// [`POLL_EARLY_MAX`] for the first 100 ms, then [`POLL_LATE`].
pub(crate) fn next_interval(interval: Duration, waited: Duration) -> Duration {
    if waited < Duration::from_millis(100) {
        (interval * 2).min(POLL_EARLY_MAX)
    } else {
        POLL_LATE
    }
}

/// Deadlines for the waits inside a halt.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    /// How long to wait for a SIGSTOPped tree to show state T during a stop.
    pub stop_settle: Duration,
    /// How long to wait for SIGKILLed processes to vanish.
    pub kill_verify: Duration,
    /// How long pause and resume wait for the state they promise.
    pub verify: Duration,
    /// How often the grace period re-scans for late forks.
    pub rescan_every: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            // A process shows T within microseconds of SIGSTOP; one that does
            // not within 200 ms is in uninterruptible sleep (D), and waiting
            // longer would only delay the SIGTERM.
            stop_settle: Duration::from_millis(200),
            // SIGKILL cannot be caught, but the exit waits for the process to
            // leave the kernel and tear down its memory; 2 s covers large
            // address spaces. Longer means a process stuck in D.
            kill_verify: Duration::from_secs(2),
            verify: Duration::from_secs(1),
            rescan_every: Duration::from_millis(50),
        }
    }
}

/// What was sent to one process.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sent {
    pub stop: bool,
    pub term: bool,
    pub cont: bool,
    pub kill: bool,
}

/// One process the halt has met.
#[derive(Debug)]
pub(crate) struct Tracked {
    pub info: ProcInfo,
    /// Why it is never signalled, if so.
    pub skip: Option<String>,
    /// True for Reins itself: skipped, and not counted against success.
    pub is_self: bool,
    /// The last signal error.
    pub failed: Option<String>,
    pub sent: Sent,
    /// The state last probed, forgotten whenever a signal is sent (so a
    /// wait looks at the state *after* the signal). `None` also when gone.
    pub seen: Option<ProcState>,
    pub frozen_at: Option<u64>,
    pub gone_at: Option<u64>,
    /// Its children were read after a wait for the tree to freeze, and it
    /// has not been sent SIGCONT since (see `walk.rs`).
    pub walked: bool,
}

impl Tracked {
    pub fn live(&self) -> bool {
        self.gone_at.is_none()
    }
    /// Last seen in state T.
    pub fn frozen(&self) -> bool {
        self.seen == Some(ProcState::Stopped)
    }
    /// Live and ours to signal.
    pub fn actionable(&self) -> bool {
        self.live() && self.skip.is_none()
    }
}

/// One halt in progress.
#[derive(Debug)]
pub(crate) struct Session<'a> {
    pub ops: &'a dyn ProcessOps,
    pub t: Timeouts,
    t0: Instant,
    pub procs: Vec<Tracked>,
    known: HashSet<ProcessKey>,
    self_pid: u32,
    self_uid: u32,
    /// False once [`ProcessOps::children`] answered `None`: the OS cannot
    /// list children, so trees are found from the full table only.
    pub children_ok: bool,
    /// The process group [`Session::group_stop`] froze, until its members
    /// outside the tree are continued.
    group: Option<u32>,
    /// The table read by the last [`Session::discover`].
    last_table: Vec<ProcInfo>,
}

impl<'a> Session<'a> {
    pub fn new(ops: &'a dyn ProcessOps, t: Timeouts) -> Self {
        Session {
            ops,
            t,
            t0: Instant::now(),
            procs: Vec::new(),
            known: HashSet::new(),
            self_pid: ops.self_pid(),
            self_uid: ops.self_uid(),
            children_ok: true,
            group: None,
            last_table: Vec::new(),
        }
    }

    /// SIGSTOP the whole process group led by process `i`, in one call,
    /// where the OS allows it (see [`ProcessOps::signal_group`]): most of an
    /// agent's tree shares its group, so it is frozen before the walk even
    /// starts. The walk and the scans that follow still stop everything
    /// else, and [`Session::release_group_outsiders`] continues the
    /// members that turn out not to be in the tree.
    pub fn group_stop(&mut self, i: usize) {
        let key = self.procs[i].info.key;
        match self.ops.signal_group(key, Signal::Stop) {
            Ok(Some(Delivery::Sent)) => self.group = Some(key.pid),
            Ok(_) => {}
            Err(e) => tracing::debug!("halt: no group stop: {e}"),
        }
    }

    /// SIGCONT every member of the group frozen by [`Session::group_stop`]
    /// that is not in the tree (a pipeline partner of the agent, say),
    /// using the table the freeze read last, once the tree was frozen. Each
    /// is continued whatever its state, since its SIGSTOP may still have
    /// been pending when the table was read; SIGCONT to a running process
    /// does nothing.
    pub fn release_group_outsiders(&mut self) {
        let Some(group) = self.group.take() else {
            return;
        };
        if self.last_table.is_empty() {
            match self.ops.list() {
                Ok(t) => self.last_table = t,
                Err(e) => {
                    tracing::warn!(
                        "halt: cannot list the table to continue process group {group}'s other members: {e}"
                    );
                    return;
                }
            }
        }
        let outsiders: Vec<ProcessKey> = self
            .last_table
            .iter()
            .filter(|p| p.pgid == group && !self.known.contains(&p.key))
            .map(|p| p.key)
            .collect();
        for key in outsiders {
            match self.ops.signal(key, Signal::Cont) {
                Ok(_) => tracing::info!(
                    "halt: continued pid {} of process group {group}: it is not in the tree",
                    key.pid
                ),
                Err(e) => tracing::warn!("halt: cannot continue pid {}: {e}", key.pid),
            }
        }
    }

    /// Microseconds since the request.
    pub fn us(&self) -> u64 {
        self.t0.elapsed().as_micros() as u64
    }

    /// Start tracking `info` unless already known; returns its index if new.
    pub fn track(&mut self, info: ProcInfo) -> Option<usize> {
        if !self.known.insert(info.key) {
            return None;
        }
        let is_self = info.key.pid == self.self_pid;
        let skip = match info.key.pid {
            0 | 1 => Some("PID 1 (init) is never signalled".to_owned()),
            _ if is_self => Some("this is Reins itself".to_owned()),
            _ if info.uid != self.self_uid => {
                Some(format!("it belongs to another user (uid {})", info.uid))
            }
            _ => None,
        };
        let gone_at = (info.state == ProcState::Zombie).then(|| self.us());
        self.procs.push(Tracked {
            info,
            skip,
            is_self,
            failed: None,
            sent: Sent::default(),
            seen: None,
            frozen_at: None,
            gone_at,
            walked: false,
        });
        Some(self.procs.len() - 1)
    }

    /// True if `info` is not tracked yet and [`Session::track`] would not
    /// skip it: the processes the freeze may signal as soon as it finds them.
    pub fn untracked_and_signallable(&self, info: &ProcInfo) -> bool {
        !self.known.contains(&info.key)
            && info.key.pid > 1
            && info.key.pid != self.self_pid
            && info.uid == self.self_uid
    }

    /// Indices of processes that are live and ours to signal, in discovery order.
    pub fn actionable(&self) -> Vec<usize> {
        (0..self.procs.len())
            .filter(|&i| self.procs[i].actionable())
            .collect()
    }

    /// Re-read the process table and track every new descendant of a live
    /// tracked process (never walking below Reins itself). Returns the new
    /// indices, parents before children.
    pub fn discover(&mut self) -> Vec<usize> {
        let table = match self.ops.list() {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("halt: cannot re-scan for late forks: {e}");
                return Vec::new();
            }
        };
        let tree = Tree::new(&table);
        let roots: Vec<u32> = self
            .procs
            .iter()
            .filter(|p| p.live() && !p.is_self)
            .filter(|p| {
                tree.get(p.info.key.pid)
                    .is_some_and(|row| row.key == p.info.key)
            })
            .map(|p| p.info.key.pid)
            .collect();
        let self_pid = self.self_pid;
        let found: Vec<ProcInfo> = tree
            .descendants_of_all(&roots, |p| p.key.pid != self_pid)
            .into_iter()
            .cloned()
            .collect();
        self.last_table = table;
        found.into_iter().filter_map(|p| self.track(p)).collect()
    }

    /// Send `sig` to process `i` unless it is skipped or known gone, and
    /// record the outcome.
    pub fn send(&mut self, i: usize, sig: Signal) {
        if !self.procs[i].actionable() {
            return;
        }
        let key = self.procs[i].info.key;
        let result = self.ops.signal(key, sig);
        self.record(i, sig, result);
    }

    /// Note what sending `sig` to process `i` did.
    pub fn record(&mut self, i: usize, sig: Signal, result: Result<Delivery, OsError>) {
        let now = self.us();
        let p = &mut self.procs[i];
        match result {
            Ok(Delivery::Sent) => {
                match sig {
                    Signal::Stop => p.sent.stop = true,
                    Signal::Cont => {
                        p.sent.cont = true;
                        // Thawed, it may fork again: its children must be re-read.
                        p.walked = false;
                    }
                    Signal::Term => p.sent.term = true,
                    Signal::Kill => p.sent.kill = true,
                }
                p.seen = None;
            }
            Ok(Delivery::Gone) => p.gone_at = Some(now),
            Err(OsError::Refused { reason, .. }) => p.skip = Some(reason.to_owned()),
            Err(e) => {
                tracing::warn!("halt: {e}");
                p.failed = Some(e.to_string());
            }
        }
    }

    /// Look at process `i` now. Zombies count as gone: they run no code and
    /// will be reaped by their parent or by init. Returns its state if live.
    pub fn probe(&mut self, i: usize) -> Option<ProcState> {
        if !self.procs[i].live() {
            return None;
        }
        let state = self.ops.probe(self.procs[i].info.key);
        let now = self.us();
        let p = &mut self.procs[i];
        match state {
            None | Some(ProcState::Zombie) => {
                p.gone_at = Some(now);
                p.seen = None;
                None
            }
            Some(s) => {
                if s == ProcState::Stopped {
                    p.frozen_at.get_or_insert(now);
                }
                p.seen = Some(s);
                Some(s)
            }
        }
    }

    /// Poll, with backoff, until `settled` holds for every live tracked
    /// process (skipped ones included only if `include_skipped`) or until
    /// `timeout`. Returns true if everything settled.
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        include_skipped: bool,
        settled: impl Fn(&Tracked) -> bool,
    ) -> bool {
        let start = Instant::now();
        let mut interval = first_interval();
        loop {
            let mut all = true;
            for i in 0..self.procs.len() {
                let p = &self.procs[i];
                if !p.live() || (p.skip.is_some() && !include_skipped) || settled(p) {
                    continue;
                }
                self.probe(i);
                let p = &self.procs[i];
                if p.live() && !settled(p) {
                    all = false;
                }
            }
            let waited = start.elapsed();
            if all || waited >= timeout {
                return all;
            }
            std::thread::sleep(interval.min(timeout - waited));
            interval = next_interval(interval, waited);
        }
    }

    /// Wait until every live, actionable process is seen in state T (ones
    /// whose signal failed cannot be, and are not waited for).
    pub fn wait_frozen(&mut self, timeout: Duration) -> bool {
        self.wait_until(timeout, false, |p| p.frozen() || p.failed.is_some())
    }

    /// SIGSTOP `first` and everything below it, then cross-check with a
    /// full scan of the table taken once everything was seen frozen, and
    /// repeat with whatever that scan finds until it finds nothing new (or
    /// the round bound is hit). Frozen processes cannot fork, so a scan of a
    /// frozen tree is conclusive. The tree below each batch is found through
    /// the children lists where the OS has them (`walk.rs`, cost
    /// proportional to the tree), so the freeze itself normally needs no
    /// full scan at all; otherwise each round's scan finds the next level.
    pub fn freeze(&mut self, first: Vec<usize>, settle: Duration) {
        let mut batch = first;
        for round in 1..=MAX_FREEZE_ROUNDS {
            for &i in &batch {
                self.send(i, Signal::Stop);
            }
            if !self.walk(&batch, settle) {
                self.wait_frozen(settle);
            }
            let new = self.discover();
            if new.is_empty() {
                return;
            }
            if round == MAX_FREEZE_ROUNDS {
                tracing::warn!("halt: the tree kept forking after {round} freeze rounds");
                for &i in &new {
                    self.send(i, Signal::Stop);
                }
            }
            batch = new;
        }
    }

    /// Microseconds until every process was seen frozen (or gone), if all were.
    pub fn all_frozen_us(&self) -> Option<u64> {
        let mut max = 0;
        for p in self.procs.iter().filter(|p| p.skip.is_none()) {
            max = max.max(p.frozen_at.or(p.gone_at)?);
        }
        Some(max)
    }
}
