//! The audit writer: one thread owns the audit log and appends entries sent
//! to it through a cloneable [`AuditHandle`].
//!
//! Appends fsync, so they happen off the async runtime. A caller that needs
//! to know whether its record landed awaits the reply; halts always complete
//! before their record is sent, so a slow or failing disk never delays or
//! blocks a stop. Failures are logged at error level, returned to the
//! caller, and tracked in the pure [`AuditHealth`]: while the log cannot be
//! written, entries are counted (with a bounded summary), surfaces see an
//! [`AuditProblem`] on [`AuditHandle::watch_problem`], and the first append
//! that lands afterwards is preceded by a `gap` record in the chain. While
//! failing, the writer also retries the gap record every [`RETRY_EVERY`], so
//! the problem clears soon after space returns even when nothing happens.
//! This module does not format records.

use crate::audit::{AuditEntry, AuditLog};
use crate::audit_health::{AuditHealth, AuditProblem};
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How often a failing writer tries to write its gap record when no entry
/// comes: one open and one small write, cheap, and soon enough that a
/// person who freed space sees the problem clear within seconds.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

type Job = (AuditEntry, oneshot::Sender<Result<(), String>>);

/// A cloneable handle on the audit writer thread.
#[derive(Clone, Debug)]
pub struct AuditHandle {
    tx: std_mpsc::Sender<Job>,
    problem: watch::Receiver<Option<AuditProblem>>,
}

impl AuditHandle {
    /// Start the writer thread for `log`. It ends when every handle is dropped.
    pub fn spawn(log: AuditLog) -> AuditHandle {
        Self::spawn_with_retry(log, RETRY_EVERY)
    }

    /// [`AuditHandle::spawn`] with another idle retry period (tests).
    pub fn spawn_with_retry(log: AuditLog, retry: Duration) -> AuditHandle {
        let (tx, rx) = std_mpsc::channel::<Job>();
        let (problem_tx, problem) = watch::channel(None);
        std::thread::Builder::new()
            .name("reins-audit".into())
            .spawn(move || Writer::new(log, problem_tx).run(rx, retry))
            .expect("cannot start the audit writer thread");
        AuditHandle { tx, problem }
    }

    /// Queue one entry without waiting for it to be written (failures are
    /// still logged at error level and counted by the writer).
    pub fn submit(&self, entry: AuditEntry) {
        let (tx, _rx) = oneshot::channel();
        if self.tx.send((entry, tx)).is_err() {
            tracing::error!("AUDIT LOG NOT WRITTEN: the audit writer has stopped");
        }
    }

    /// Append entries in order; returns the error messages of those that failed.
    pub async fn append_all(&self, entries: Vec<AuditEntry>) -> Vec<String> {
        let mut waits = Vec::with_capacity(entries.len());
        for e in entries {
            let (tx, rx) = oneshot::channel();
            if self.tx.send((e, tx)).is_err() {
                return vec![
                    "the audit writer has stopped; the action was carried out but not logged"
                        .into(),
                ];
            }
            waits.push(rx);
        }
        let mut errors = Vec::new();
        for w in waits {
            match w.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push("the audit writer stopped before confirming a record".into()),
            }
        }
        errors
    }

    /// The log's problem now, if it cannot be written.
    pub fn problem(&self) -> Option<AuditProblem> {
        self.problem.borrow().clone()
    }

    /// Follow the problem as it starts, changes and clears.
    pub fn watch_problem(&self) -> watch::Receiver<Option<AuditProblem>> {
        self.problem.clone()
    }
}

/// The thread's state: the log, its health and where the health is shown.
struct Writer {
    log: AuditLog,
    health: AuditHealth,
    /// The last append error in full, for callers whose entry was not tried.
    last_error: String,
    problem: watch::Sender<Option<AuditProblem>>,
}

impl Writer {
    fn new(log: AuditLog, problem: watch::Sender<Option<AuditProblem>>) -> Self {
        Self {
            log,
            health: AuditHealth::new(),
            last_error: String::new(),
            problem,
        }
    }

    fn run(mut self, rx: std_mpsc::Receiver<Job>, retry: Duration) {
        loop {
            let job = if self.health.is_failing() {
                match rx.recv_timeout(retry) {
                    Ok(job) => Some(job),
                    Err(std_mpsc::RecvTimeoutError::Timeout) => None,
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(job) => Some(job),
                    Err(_) => break,
                }
            };
            self.settle_gap();
            if let Some((entry, reply)) = job {
                let _ = reply.send(self.append(entry));
            }
            self.publish();
        }
        // Last chance for the gap record (the daemon is stopping).
        self.settle_gap();
    }

    /// While failing, try to write the gap record first.
    fn settle_gap(&mut self) {
        let now = now_ms();
        let Some(gap) = self.health.gap_entry(now) else {
            return;
        };
        match self.log.append(gap, now) {
            Ok(_) => {
                tracing::warn!(
                    lost = self.health.lost(),
                    "the audit log can be written again; the gap is recorded in the chain"
                );
                self.health.recovered();
            }
            Err(e) => {
                self.health.retry_failed(&e.cause(), now);
                self.last_error = e.to_string();
            }
        }
    }

    /// Append one entry, unless the gap record before it could not be
    /// written (then the entry is lost too: never chained before the gap).
    fn append(&mut self, entry: AuditEntry) -> Result<(), String> {
        let now = now_ms();
        if self.health.is_failing() {
            let cause = self.health.error().unwrap_or_default().to_owned();
            self.health.lost_entry(&entry, &cause, now);
            tracing::error!("AUDIT LOG NOT WRITTEN: {}", self.last_error);
            return Err(self.last_error.clone());
        }
        match self.log.append(entry.clone(), now) {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!("AUDIT LOG NOT WRITTEN: {e}");
                self.health.lost_entry(&entry, &e.cause(), now);
                self.last_error = e.to_string();
                Err(self.last_error.clone())
            }
        }
    }

    fn publish(&self) {
        let path = self.log.path();
        let now = self
            .health
            .problem(&path.display().to_string(), free_bytes(path));
        self.problem.send_if_modified(|cur| {
            if *cur == now {
                false
            } else {
                *cur = now;
                true
            }
        });
    }
}

/// Free bytes for an unprivileged user on the file system holding `path`'s
/// directory; `None` if it cannot be read.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is writable for one statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "audit_writer_tests.rs"]
mod tests;
