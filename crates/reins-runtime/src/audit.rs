//! The append-only, hash-chained audit log.
//!
//! One JSON object per line in `$XDG_DATA_HOME/reins/audit.jsonl`, mode 0600.
//! Each record carries the SHA-256 (hex) of the previous line's bytes, so an
//! edit anywhere breaks the chain and `reins log --verify` names the first
//! broken link. Every append takes an exclusive `flock`, reads the last line
//! for the chain, writes, and `fsync`s, so the daemon and a CLI acting
//! directly can both append safely.
//!
//! A write the disk cuts short is cut off again, so the chain never links to
//! a torn line. When the daemon could not write for a while, its writer
//! (`audit_writer`) appends a [`AuditAction::Gap`] record once it can, and
//! `verify` counts those records.
//!
//! This module never decides anything and never blocks a halt: callers halt
//! first, then append, and report an append error loudly instead of failing.
//! It is not tamper-proof against someone who rewrites the whole file; it
//! detects edits, it does not prevent them.

use reins_core::Actor;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The `prev` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How far back from the end we look for the last line. Records are a few
/// hundred bytes; a stop of a huge tree can be larger, so we grow the window
/// until a newline is found.
const TAIL_CHUNK: u64 = 8 * 1024;

/// What a record is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A stop of one agent tree.
    Stop,
    /// A pause.
    Pause,
    /// A resume.
    Resume,
    /// A request refused before anything was signalled.
    Refused,
    /// An approval request was created.
    ApprovalRequested,
    /// An approval request was resolved (decided, expired or withdrawn).
    ApprovalResolved,
    /// A phone was paired (after the local person compared the codes).
    DevicePaired,
    /// A paired phone was renamed.
    DeviceRenamed,
    /// A paired phone was revoked.
    DeviceRevoked,
    /// The stop latch froze a respawn of a stopped agent (or failed to).
    RespawnHeld,
    /// A stop latch was released (its held respawns resumed).
    Released,
    /// The daemon started.
    DaemonStarted,
    /// The daemon stopped.
    DaemonStopped,
    /// Reins raised an alert on its own (e.g. a stop word froze an agent).
    AlertRaised,
    /// A tripwire fired: the agent's call was denied and its tree paused.
    Tripwire,
    /// A person's decision on an OpenClaw approval was sent to its gateway
    /// (ok), or the gateway refused it (refused/failed, with why).
    OpenclawRelay,
    /// Entries that could not be written (a full disk, a read-only file):
    /// how many, between when, the last error, and a bounded summary of
    /// them. Written by the daemon's writer before the first entry that
    /// lands after the failure, so the chain itself shows the hole.
    Gap,
}

/// The outcome recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Verified success.
    Ok,
    /// Some processes were not dealt with.
    Partial,
    /// Nothing was achieved.
    Failed,
    /// Refused by a safety rule.
    Refused,
    /// Informational.
    Info,
}

/// A record as the caller describes it; `seq`, `ts_ms` and `prev` are added on append.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who asked.
    pub actor: Actor,
    /// What was done.
    pub action: AuditAction,
    /// The target (an agent id, a pid, `all`, a request id).
    pub target: String,
    /// How it went.
    pub outcome: AuditOutcome,
    /// Microseconds from request to verified outcome, when meaningful.
    pub latency_us: Option<u64>,
    /// Extra structured detail (the halt report, the matched rule...).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1-based position in the chain.
    pub seq: u64,
    /// Unix time in milliseconds.
    pub ts_ms: u64,
    /// SHA-256 of the previous line, hex; [`GENESIS`] for the first.
    pub prev: String,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Audit log errors.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log could not be opened or written.
    #[error(
        "audit log {path} could not be written: {source}. The action itself was carried out; free disk space or fix the file's permissions"
    )]
    Write {
        /// The log file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The log could not be read.
    #[error("audit log {path} could not be read: {source}")]
    Read {
        /// The log file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl AuditError {
    /// The underlying error alone (e.g. "No space left on device (os error
    /// 28)"), for status lines that name the file elsewhere.
    pub fn cause(&self) -> String {
        match self {
            AuditError::Write { source, .. } | AuditError::Read { source, .. } => {
                source.to_string()
            }
        }
    }
}

/// The result of `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Verification {
    /// Every link holds.
    Intact {
        /// How many records.
        records: u64,
        /// How many of them are [`AuditAction::Gap`] records: times the
        /// writer could not log and said so once it could again.
        gaps: u64,
        /// Entries those gap records say were not written.
        lost: u64,
    },
    /// The first broken link.
    Broken {
        /// 1-based line number of the first bad record.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// A handle on the audit log file. Cheap to clone; every append re-reads the
/// chain's tail under a lock, so there is no in-memory state to go stale.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// A log at `path`. Nothing is opened until the first append.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry: lock, chain, write, fsync. Returns the stored record.
    pub fn append(&self, entry: AuditEntry, ts_ms: u64) -> Result<AuditRecord, AuditError> {
        let werr = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            crate::paths::ensure_private_dir(dir)
                .map_err(|e| werr(std::io::Error::other(e.to_string())))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(werr)?;
        let _lock = Flock::exclusive(&file).map_err(werr)?;
        let (prev, seq) = match last_line(&mut file).map_err(werr)? {
            None => (GENESIS.to_owned(), 1),
            Some(line) => {
                let seq = serde_json::from_slice::<AuditRecord>(&line)
                    .map(|r| r.seq + 1)
                    .unwrap_or(1);
                (hex::encode(Sha256::digest(&line)), seq)
            }
        };
        let record = AuditRecord {
            seq,
            ts_ms,
            prev,
            entry,
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| werr(e.into()))?;
        line.push(b'\n');
        let len = file.seek(SeekFrom::End(0)).map_err(werr)?;
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            // A full disk can take part of the line: cut it off again, so the
            // next append chains to the last whole record, not to a torn one.
            // The record counts as not written either way.
            if let Err(t) = file.set_len(len) {
                tracing::error!(
                    "audit log {}: a torn line could not be removed: {t}",
                    self.path.display()
                );
            }
            return Err(werr(e));
        }
        Ok(record)
    }

    /// Every record, in order. Lines that do not parse are skipped; use
    /// [`AuditLog::verify`] to find them.
    pub fn read_all(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let rerr = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(rerr(e)),
        };
        let mut out = Vec::new();
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(rerr)?;
            if let Ok(r) = serde_json::from_slice(&line) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// Walk the chain and report the first broken link.
    pub fn verify(&self) -> Result<Verification, AuditError> {
        let rerr = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Verification::Intact {
                    records: 0,
                    gaps: 0,
                    lost: 0,
                });
            }
            Err(e) => return Err(rerr(e)),
        };
        let mut expected_prev = GENESIS.to_owned();
        let mut n = 0u64;
        let (mut gaps, mut lost) = (0u64, 0u64);
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(rerr)?;
            n += 1;
            let broken = |reason: String| Ok(Verification::Broken { line: n, reason });
            let rec: AuditRecord = match serde_json::from_slice(&line) {
                Ok(r) => r,
                Err(e) => return broken(format!("not a valid record: {e}")),
            };
            if rec.seq != n {
                return broken(format!(
                    "sequence number is {} where {n} was expected",
                    rec.seq
                ));
            }
            if rec.prev != expected_prev {
                return broken(if n == 1 {
                    "the first record does not start the chain".to_owned()
                } else {
                    format!(
                        "does not match the hash of line {}: line {} was changed or removed",
                        n - 1,
                        n - 1
                    )
                });
            }
            if rec.entry.action == AuditAction::Gap {
                gaps += 1;
                lost += rec.entry.detail["lost"].as_u64().unwrap_or(0);
            }
            expected_prev = hex::encode(Sha256::digest(&line));
        }
        Ok(Verification::Intact {
            records: n,
            gaps,
            lost,
        })
    }
}

/// The last complete line of the file (without its newline), if any.
fn last_line(file: &mut File) -> std::io::Result<Option<Vec<u8>>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let mut window = TAIL_CHUNK.min(len);
    loop {
        file.seek(SeekFrom::Start(len - window))?;
        let mut buf = Vec::with_capacity(window as usize);
        Read::by_ref(file).take(window).read_to_end(&mut buf)?;
        // Ignore a trailing newline, then find the one before the last line.
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        if let Some(i) = body.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(body[i + 1..].to_vec()));
        }
        if window == len {
            return Ok(Some(body.to_vec()));
        }
        window = (window * 4).min(len);
    }
}

/// An exclusive advisory lock, released on drop (and by the kernel on exit).
/// The guard must be dropped before the file it was taken on (declare it after the file).
struct Flock(std::os::fd::RawFd);

impl Flock {
    fn exclusive(file: &File) -> std::io::Result<Self> {
        // SAFETY: the fd is valid; flock has no memory-safety preconditions.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Flock(file.as_raw_fd()))
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        // SAFETY: the file outlives the guard (see above); unlocking cannot violate memory safety.
        unsafe { libc::flock(self.0, libc::LOCK_UN) };
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
