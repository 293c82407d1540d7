//! An in-memory process table implementing [`ProcessOps`], for testing code
//! that halts processes without touching real ones.
//!
//! Signals change states the way the kernel would (STOP freezes, TERM while
//! frozen waits for CONT, KILL always works unless the process is marked
//! `unkillable`), exits reparent children to PID 1, `children` answers from
//! the parent links (or not at all, with `no_children`), and scripted events
//! can fire after the n-th snapshot, children read or signal to reproduce
//! races. It is
//! deliberately not a simulation of scheduling or timing: every change is
//! instant, and it is public only so other crates can test their halt paths.

use crate::{Delivery, OsError, PeerCred, ProcInfo, ProcState, ProcessOps, Signal};
use reins_core::ProcessKey;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// One fake process and how it reacts to signals.
#[derive(Clone, Debug)]
pub struct FakeProc {
    /// What `list`/`info` report.
    pub info: ProcInfo,
    /// SIGTERM has no effect on it.
    pub ignores_term: bool,
    /// Even SIGKILL has no effect (a process stuck in the kernel).
    pub unkillable: bool,
    /// On exit it stays as a zombie (its parent never waits) instead of vanishing.
    pub zombie_on_exit: bool,
    /// Every signal to it fails with EPERM.
    pub eperm: bool,
    pending_term: bool,
}

type Hook = Box<dyn FnOnce(&mut FakeTable) + Send>;

/// The table behind a [`FakeOps`]; scripted hooks receive it mutably.
pub struct FakeTable {
    procs: BTreeMap<u32, FakeProc>,
    next_start: u64,
    sent: Vec<(ProcessKey, Signal)>,
    lists: usize,
    signals: usize,
    child_reads: usize,
    after_list: Vec<(usize, Hook)>,
    after_signal: Vec<(usize, Hook)>,
    after_children: Vec<(usize, Hook)>,
    /// `children()` answers `None`, as on a kernel without `CONFIG_PROC_CHILDREN`.
    pub no_children: bool,
}

impl std::fmt::Debug for FakeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTable")
            .field("procs", &self.procs)
            .field("sent", &self.sent)
            .finish()
    }
}

impl FakeTable {
    /// Start a process `pid` under `ppid`, owned by the fake's own uid, with a
    /// start time later than every process before it.
    pub fn spawn(&mut self, pid: u32, ppid: u32) -> ProcessKey {
        self.next_start += 10;
        let key = ProcessKey {
            pid,
            start_ticks: self.next_start,
        };
        let info = ProcInfo {
            key,
            ppid,
            pgid: 0,
            uid: FakeOps::UID,
            state: ProcState::Sleeping,
            comm: format!("fake-{pid}"),
        };
        let proc = FakeProc {
            info,
            ignores_term: false,
            unkillable: false,
            zombie_on_exit: false,
            eperm: false,
            pending_term: false,
        };
        self.procs.insert(pid, proc);
        key
    }

    /// The process currently holding `pid`.
    pub fn get_mut(&mut self, pid: u32) -> Option<&mut FakeProc> {
        self.procs.get_mut(&pid)
    }

    /// The process exits (by itself or by a signal): its children are
    /// reparented to PID 1 and it vanishes, or stays a zombie if
    /// `zombie_on_exit`.
    pub fn exit(&mut self, pid: u32) {
        for p in self.procs.values_mut() {
            if p.info.ppid == pid {
                p.info.ppid = 1;
            }
        }
        match self.procs.get_mut(&pid) {
            Some(p) if p.zombie_on_exit => p.info.state = ProcState::Zombie,
            _ => {
                self.procs.remove(&pid);
            }
        }
    }

    /// True if exactly this incarnation exists and is not a zombie.
    pub fn alive(&self, key: ProcessKey) -> bool {
        self.procs
            .get(&key.pid)
            .is_some_and(|p| p.info.key == key && p.info.state != ProcState::Zombie)
    }

    fn deliver(&mut self, pid: u32, sig: Signal) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if p.info.state == ProcState::Zombie {
            return;
        }
        let exits = match sig {
            Signal::Stop => {
                p.info.state = ProcState::Stopped;
                false
            }
            Signal::Cont => {
                let was_stopped = p.info.state == ProcState::Stopped;
                p.info.state = ProcState::Sleeping;
                was_stopped && p.pending_term
            }
            Signal::Term if p.ignores_term => false,
            Signal::Term if p.info.state == ProcState::Stopped => {
                p.pending_term = true;
                false
            }
            Signal::Term => true,
            Signal::Kill => !p.unkillable,
        };
        if exits {
            self.exit(pid);
        }
    }
}

/// An in-memory [`ProcessOps`]. Our own PID is [`FakeOps::SELF_PID`], our
/// uid [`FakeOps::UID`].
#[derive(Debug)]
pub struct FakeOps {
    table: Mutex<FakeTable>,
}

impl Default for FakeOps {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeOps {
    /// The PID the fake reports as "Reins itself".
    pub const SELF_PID: u32 = 4000;
    /// The uid the fake runs as; processes spawned in it get this uid.
    pub const UID: u32 = 1000;

    /// An empty table (no init, no Reins: spawn what the test needs).
    pub fn new() -> Self {
        let table = FakeTable {
            procs: BTreeMap::new(),
            next_start: 1000,
            sent: Vec::new(),
            lists: 0,
            signals: 0,
            child_reads: 0,
            after_list: Vec::new(),
            after_signal: Vec::new(),
            after_children: Vec::new(),
            no_children: false,
        };
        FakeOps {
            table: Mutex::new(table),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FakeTable> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Read or change the table.
    pub fn with<R>(&self, f: impl FnOnce(&mut FakeTable) -> R) -> R {
        f(&mut self.lock())
    }

    /// Run `f` right after the `nth` call to `list` (1-based) has taken its
    /// snapshot: the change is invisible to that snapshot.
    pub fn after_list(&self, nth: usize, f: impl FnOnce(&mut FakeTable) + Send + 'static) {
        self.lock().after_list.push((nth, Box::new(f)));
    }

    /// Run `f` right after the `nth` call to `children` (1-based) has taken
    /// its snapshot.
    pub fn after_children(&self, nth: usize, f: impl FnOnce(&mut FakeTable) + Send + 'static) {
        self.lock().after_children.push((nth, Box::new(f)));
    }

    /// How many times `list` (the full table) has been called.
    pub fn lists(&self) -> usize {
        self.lock().lists
    }

    /// Run `f` right after the `nth` signal call (1-based, refused ones included).
    pub fn after_signal(&self, nth: usize, f: impl FnOnce(&mut FakeTable) + Send + 'static) {
        self.lock().after_signal.push((nth, Box::new(f)));
    }

    /// Every signal actually delivered, in order.
    pub fn sent(&self) -> Vec<(ProcessKey, Signal)> {
        self.lock().sent.clone()
    }

    /// True if exactly this incarnation exists and is not a zombie.
    pub fn alive(&self, key: ProcessKey) -> bool {
        self.lock().alive(key)
    }
}

fn run_hooks(t: &mut FakeTable, hooks: Vec<(usize, Hook)>, count: usize) -> Vec<(usize, Hook)> {
    let mut keep = Vec::new();
    for (n, hook) in hooks {
        if n == count {
            hook(t);
        } else {
            keep.push((n, hook));
        }
    }
    keep
}

impl ProcessOps for FakeOps {
    fn list(&self) -> Result<Vec<ProcInfo>, OsError> {
        let mut t = self.lock();
        let out = t.procs.values().map(|p| p.info.clone()).collect();
        t.lists += 1;
        let (hooks, count) = (std::mem::take(&mut t.after_list), t.lists);
        t.after_list = run_hooks(&mut t, hooks, count);
        Ok(out)
    }

    fn info(&self, pid: u32) -> Option<ProcInfo> {
        self.lock().procs.get(&pid).map(|p| p.info.clone())
    }

    fn children(&self, key: ProcessKey) -> Option<Vec<ProcInfo>> {
        let mut t = self.lock();
        if t.no_children {
            return None;
        }
        let parent_here = t.procs.get(&key.pid).is_some_and(|p| p.info.key == key);
        let out = t
            .procs
            .values()
            .filter(|p| parent_here && p.info.ppid == key.pid && p.info.key.pid != key.pid)
            .map(|p| p.info.clone())
            .collect();
        t.child_reads += 1;
        let (hooks, count) = (std::mem::take(&mut t.after_children), t.child_reads);
        t.after_children = run_hooks(&mut t, hooks, count);
        Some(out)
    }

    /// Like Linux: only a live group leader's group, never one holding our
    /// own PID; delivered to every member of our uid.
    fn signal_group(&self, leader: ProcessKey, sig: Signal) -> Result<Option<Delivery>, OsError> {
        let mut t = self.lock();
        t.signals += 1;
        let group = leader.pid;
        let ours = t
            .procs
            .get(&Self::SELF_PID)
            .is_some_and(|p| p.info.pgid == group);
        let result = match t.procs.get(&group) {
            None => Some(Delivery::Gone),
            Some(p) if p.info.key != leader => Some(Delivery::Gone),
            Some(p) if p.info.pgid != group || group <= 1 || ours => None,
            Some(_) => Some(Delivery::Sent),
        };
        if result == Some(Delivery::Sent) {
            let members: Vec<ProcessKey> = t
                .procs
                .values()
                .filter(|p| p.info.pgid == group && p.info.uid == Self::UID)
                .map(|p| p.info.key)
                .collect();
            for key in members {
                t.sent.push((key, sig));
                t.deliver(key.pid, sig);
            }
        }
        let (hooks, count) = (std::mem::take(&mut t.after_signal), t.signals);
        t.after_signal = run_hooks(&mut t, hooks, count);
        Ok(result)
    }

    fn signal(&self, key: ProcessKey, sig: Signal) -> Result<Delivery, OsError> {
        let mut t = self.lock();
        t.signals += 1;
        let result = match t.procs.get(&key.pid) {
            _ if key.pid <= 1 => Err(OsError::Refused {
                pid: key.pid,
                reason: "PID 1 is init",
            }),
            _ if key.pid == Self::SELF_PID => Err(OsError::Refused {
                pid: key.pid,
                reason: "this is Reins itself",
            }),
            None => Ok(Delivery::Gone),
            Some(p) if p.info.key != key => Ok(Delivery::Gone),
            Some(p) if p.info.uid != Self::UID => Err(OsError::Refused {
                pid: key.pid,
                reason: "it belongs to another user",
            }),
            Some(p) if p.eperm => Err(OsError::Signal {
                pid: key.pid,
                source: std::io::Error::from_raw_os_error(libc::EPERM),
            }),
            Some(_) => Ok(Delivery::Sent),
        };
        if matches!(result, Ok(Delivery::Sent)) {
            t.sent.push((key, sig));
            t.deliver(key.pid, sig);
        }
        let (hooks, count) = (std::mem::take(&mut t.after_signal), t.signals);
        t.after_signal = run_hooks(&mut t, hooks, count);
        result
    }

    fn peer_cred(&self, _fd: std::os::fd::RawFd) -> Result<PeerCred, OsError> {
        Ok(PeerCred {
            pid: Self::SELF_PID,
            uid: Self::UID,
        })
    }

    fn self_pid(&self) -> u32 {
        Self::SELF_PID
    }

    fn self_uid(&self) -> u32 {
        Self::UID
    }

    fn ticks_to_unix(&self, start_ticks: u64) -> u64 {
        1_700_000_000 + start_ticks / 100
    }
}
