//! The operating-system layer: the process table, signals, the halt engine and
//! peer credentials.
//!
//! Everything OS-specific sits behind the small [`ProcessOps`] trait, with one
//! implementation, [`Linux`], reading `/proc` and calling `kill(2)`. macOS and
//! Windows can be added as further implementations without touching the halt
//! engine or any caller. This crate deliberately does not detect agents (that
//! is `reins-detect`) and holds no async runtime: the halt engine is plain
//! blocking code that callers run on a blocking thread.

pub mod cgroup;
pub mod fake;
pub mod fswatch;
pub mod halt;
pub mod linux;
pub mod tree;
pub mod units;

pub use halt::{UnitTarget, halt, halt_unit};
pub use linux::Linux;
pub use tree::{ancestors, is_descendant_of};
pub use units::{NoUnitManager, UnitError, UnitManager};

use reins_core::ProcessKey;
use serde::{Deserialize, Serialize};

/// One row of the process table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcInfo {
    /// PID plus start time.
    pub key: ProcessKey,
    /// Parent PID (0 for the kernel's own).
    pub ppid: u32,
    /// Process group ID (0 where unknown).
    pub pgid: u32,
    /// Real uid of the owner.
    pub uid: u32,
    /// Scheduler state.
    pub state: ProcState,
    /// The kernel's short name for it (`comm`, at most 15 bytes).
    pub comm: String,
}

/// The scheduler state of a process, from `/proc/<pid>/stat` field 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcState {
    /// R.
    Running,
    /// S or D or I.
    Sleeping,
    /// T or t: stopped by a signal or a tracer.
    Stopped,
    /// Z or X: exited, waiting to be reaped.
    Zombie,
}

/// The signals Reins sends. Nothing else is ever sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGSTOP: freeze, cannot be caught.
    Stop,
    /// SIGCONT.
    Cont,
    /// SIGTERM.
    Term,
    /// SIGKILL.
    Kill,
}

/// What happened when a signal was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The kernel accepted the signal for this exact process incarnation.
    Sent,
    /// The process is gone, or its PID now belongs to a different process
    /// (start time mismatch): nothing was sent.
    Gone,
}

/// One child found by [`ProcessOps::signal_children`].
#[derive(Debug)]
pub struct ChildSignal {
    /// The child as read (its parent is the one asked about).
    pub info: ProcInfo,
    /// What sending the signal did, or `None` if it was not sent.
    pub result: Option<Result<Delivery, OsError>>,
}

/// The verified credentials of a Unix-socket peer (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerCred {
    /// Peer process id.
    pub pid: u32,
    /// Peer uid.
    pub uid: u32,
}

/// Errors from the OS layer.
#[derive(Debug, thiserror::Error)]
pub enum OsError {
    /// The process table could not be read.
    #[error("cannot read the process table at {path}: {source}. Is /proc mounted?")]
    ProcTable {
        /// What we tried to read.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reins refuses to signal this process.
    #[error("refusing to signal pid {pid}: {reason}. Stop it yourself if you really mean to")]
    Refused {
        /// The pid.
        pid: u32,
        /// Why (PID 1, Reins itself, another user's process).
        reason: &'static str,
    },
    /// kill(2) failed for a reason other than the process being gone.
    #[error(
        "signal to pid {pid} failed: {source}. If permission was denied, the process changed \
         user (setuid); stop it as that user"
    )]
    Signal {
        /// The pid.
        pid: u32,
        /// The OS error (EPERM, ...).
        source: std::io::Error,
    },
    /// Peer credentials could not be read.
    #[error("cannot read the socket peer's credentials: {0}")]
    PeerCred(std::io::Error),
}

/// The operating-system operations Reins needs. One implementation per OS.
pub trait ProcessOps: Send + Sync + std::fmt::Debug {
    /// Every process on the machine (all users), cheaply: no cmdline, no cwd.
    fn list(&self) -> Result<Vec<ProcInfo>, OsError>;

    /// One process, or `None` if it does not exist.
    fn info(&self, pid: u32) -> Option<ProcInfo>;

    /// The state of exactly this process incarnation, or `None` if it is
    /// gone or its PID now belongs to another process. The halt engine polls
    /// this in tight loops, so implementations should make it cheaper than
    /// [`ProcessOps::info`] where they can (Linux reads only `stat`).
    fn probe(&self, key: ProcessKey) -> Option<ProcState> {
        self.info(key.pid).filter(|p| p.key == key).map(|p| p.state)
    }

    /// The direct children of exactly this process incarnation, without
    /// reading the whole process table, or `None` if this OS (or kernel
    /// configuration) cannot list children this way; callers then fall back
    /// to [`ProcessOps::list`]. A process that is gone, or whose PID now
    /// belongs to another process, has no children (`Some` of an empty list).
    ///
    /// The answer is a fast path, not the final word: it is reliable only
    /// while the process is stopped (it cannot fork or reap meanwhile), and
    /// the halt engine still cross-checks a frozen tree with a full `list()`.
    /// Every returned row must name a process whose parent is `key` and which
    /// started no earlier than it (so a reused PID is never reported).
    fn children(&self, key: ProcessKey) -> Option<Vec<ProcInfo>> {
        let _ = key;
        None
    }

    /// [`ProcessOps::children`] and [`ProcessOps::signal`] in one pass: each
    /// child of `parent` is read, offered to `pick`, and, if `pick` says so,
    /// sent `sig` at once (with every check of `signal`), before the next
    /// child is read. Returns each child with the delivery result (`None`
    /// where `pick` declined), or `None` if the OS cannot list children.
    ///
    /// The halt engine freezes a tree with this, so that a child is stopped
    /// microseconds after it is found. Implementations may fuse the reads
    /// (Linux pins each child with a pidfd once and reads its `stat` once);
    /// the default simply calls the two methods.
    fn signal_children(
        &self,
        parent: ProcessKey,
        sig: Signal,
        pick: &mut dyn FnMut(&ProcInfo) -> bool,
    ) -> Option<Vec<ChildSignal>> {
        let kids = self.children(parent)?;
        Some(
            kids.into_iter()
                .map(|info| {
                    let result = pick(&info).then(|| self.signal(info.key, sig));
                    ChildSignal { info, result }
                })
                .collect(),
        )
    }

    /// Send `sig` to the whole process group that exactly this process
    /// incarnation leads, in one call, as a shell does for a job. Answers
    /// `Ok(None)`, sending nothing, wherever that could reach a process Reins
    /// must not touch or cannot be made exact: the process is not its
    /// group's leader, Reins itself is in that group, Reins runs as root
    /// (the kernel would then signal other users' processes in the group),
    /// or the OS cannot pin the leader while signalling its group.
    ///
    /// The halt engine uses it to freeze most of a tree in one step before
    /// walking it; the group may hold processes outside the tree (a pipeline
    /// partner such as `agent | tee log`), which the engine continues again
    /// once the tree is known. The default sends nothing.
    fn signal_group(&self, leader: ProcessKey, sig: Signal) -> Result<Option<Delivery>, OsError> {
        let _ = (leader, sig);
        Ok(None)
    }

    /// Send `sig` to exactly this process incarnation. Re-checks the start
    /// time immediately before the kill(2) call and returns
    /// [`Delivery::Gone`] on mismatch. Refuses PID 1, Reins' own PID and
    /// processes owned by another uid with [`OsError::Refused`].
    fn signal(&self, key: ProcessKey, sig: Signal) -> Result<Delivery, OsError>;

    /// The credentials of the peer of a connected Unix socket.
    fn peer_cred(&self, fd: std::os::fd::RawFd) -> Result<PeerCred, OsError>;

    /// Our own PID.
    fn self_pid(&self) -> u32 {
        std::process::id()
    }

    /// Our own real uid.
    fn self_uid(&self) -> u32;

    /// Convert a start time in ticks since boot into Unix seconds.
    fn ticks_to_unix(&self, start_ticks: u64) -> u64;
}
