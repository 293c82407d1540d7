//! The audit writer's health, pure: ok, or failing since a time with N
//! entries not written and the last error; and the chain record that tells
//! of the hole once the log can be written again.
//!
//! The writer thread (`audit_writer`) feeds it each append's result and asks
//! it for the gap record to write before anything else; surfaces see the
//! [`AuditProblem`] it projects. Nothing here does I/O or reads the clock:
//! times are inputs. It does not decide anything about halts or approvals:
//! those go ahead whatever the log's health (see `docs/halt.md`).

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use reins_core::Actor;
use serde::{Deserialize, Serialize};

/// Lost entries kept whole (action, target, outcome, time) for the gap
/// record. A full disk can last hours on a busy machine; past this, entries
/// are only counted per action, so memory and the gap record stay small.
pub const KEPT_LOST: usize = 16;

/// A kept target is cut to this many characters: targets are agent ids,
/// `all` or request ids, and a gap record must stay one short line.
const TARGET_MAX: usize = 120;

/// One entry that was not written, as the gap record lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostEntry {
    /// When it was refused (Unix ms).
    pub ts_ms: u64,
    /// What it was about.
    pub action: AuditAction,
    /// Its target (cut to a short length).
    pub target: String,
    /// Its outcome.
    pub outcome: AuditOutcome,
}

/// How many entries of one action were not written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostCount {
    /// The action.
    pub action: AuditAction,
    /// How many.
    pub count: u64,
}

/// What surfaces show while the log cannot be written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    /// The log file.
    pub path: String,
    /// The last error, e.g. "No space left on device (os error 28)".
    pub error: String,
    /// When the first write failed (Unix ms).
    pub since_ms: u64,
    /// Entries not written so far.
    pub lost: u64,
    /// Free space on the log's file system at the last attempt, bytes
    /// (absent when it could not be read).
    #[serde(default)]
    pub free_bytes: Option<u64>,
}

impl AuditProblem {
    /// The directory holding the log.
    pub fn dir(&self) -> String {
        std::path::Path::new(&self.path)
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| ".".into())
    }

    /// One line for a person: what is wrong, since when, what to free.
    pub fn message(&self) -> String {
        let free = match self.free_bytes {
            Some(b) => format!("{} free on {}", human_bytes(b), self.dir()),
            None => format!("free space on {} unknown", self.dir()),
        };
        format!(
            "the audit log cannot be written: {}; {} {} not logged since {}; {}. Stops and \
             approvals still work; free space and logging resumes with a record of the gap",
            self.error,
            self.lost,
            if self.lost == 1 { "entry" } else { "entries" },
            utc_time(self.since_ms),
            free
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Failing {
    since_ms: u64,
    last_ms: u64,
    error: String,
    lost: u64,
    kept: Vec<LostEntry>,
    by_action: Vec<LostCount>,
}

/// The writer's health. Starts ok.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditHealth {
    failing: Option<Failing>,
}

impl AuditHealth {
    /// Ok.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether writes are failing (a gap record is owed).
    pub fn is_failing(&self) -> bool {
        self.failing.is_some()
    }

    /// Entries not written since the failure began.
    pub fn lost(&self) -> u64 {
        self.failing.as_ref().map_or(0, |f| f.lost)
    }

    /// The last error (short form), while failing.
    pub fn error(&self) -> Option<&str> {
        self.failing.as_ref().map(|f| f.error.as_str())
    }

    /// `entry` could not be written at `now_ms` because of `error`.
    pub fn lost_entry(&mut self, entry: &AuditEntry, error: &str, now_ms: u64) {
        let f = self.failing_at(error, now_ms);
        f.lost += 1;
        if f.kept.len() < KEPT_LOST {
            f.kept.push(LostEntry {
                ts_ms: now_ms,
                action: entry.action,
                target: entry.target.chars().take(TARGET_MAX).collect(),
                outcome: entry.outcome,
            });
        }
        match f.by_action.iter_mut().find(|c| c.action == entry.action) {
            Some(c) => c.count += 1,
            None => f.by_action.push(LostCount {
                action: entry.action,
                count: 1,
            }),
        }
    }

    /// A retry of the gap record failed too (nothing more was lost).
    pub fn retry_failed(&mut self, error: &str, now_ms: u64) {
        if self.failing.is_some() {
            self.failing_at(error, now_ms);
        }
    }

    /// The record to append before anything else, while failing: it says
    /// how many entries were lost, between when, why, and which.
    pub fn gap_entry(&self, now_ms: u64) -> Option<AuditEntry> {
        let f = self.failing.as_ref()?;
        Some(AuditEntry {
            actor: Actor::Daemon,
            action: AuditAction::Gap,
            target: "audit".into(),
            outcome: AuditOutcome::Failed,
            latency_us: None,
            detail: serde_json::json!({
                "lost": f.lost,
                "from_ms": f.since_ms,
                "to_ms": now_ms,
                "last_failure_ms": f.last_ms,
                "error": f.error,
                "by_action": f.by_action,
                "first": f.kept,
                "not_listed": f.lost.saturating_sub(f.kept.len() as u64),
            }),
        })
    }

    /// The gap record landed: back to ok.
    pub fn recovered(&mut self) {
        self.failing = None;
    }

    /// What surfaces show, for the log at `path` with `free_bytes` free.
    pub fn problem(&self, path: &str, free_bytes: Option<u64>) -> Option<AuditProblem> {
        self.failing.as_ref().map(|f| AuditProblem {
            path: path.to_owned(),
            error: f.error.clone(),
            since_ms: f.since_ms,
            lost: f.lost,
            free_bytes,
        })
    }

    fn failing_at(&mut self, error: &str, now_ms: u64) -> &mut Failing {
        let f = self.failing.get_or_insert_with(|| Failing {
            since_ms: now_ms,
            last_ms: now_ms,
            error: String::new(),
            lost: 0,
            kept: Vec::new(),
            by_action: Vec::new(),
        });
        f.last_ms = now_ms;
        error.clone_into(&mut f.error);
        f
    }
}

/// `HH:MM:SS UTC` of a Unix ms time (the day is left out: a problem older
/// than a day is shown with its count, which says enough).
pub fn utc_time(ms: u64) -> String {
    let s = (ms / 1000) % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, (s / 60) % 60, s % 60)
}

/// Bytes in the unit a person reads (KiB, MiB, GiB).
pub fn human_bytes(b: u64) -> String {
    const K: u64 = 1024;
    match b {
        b if b < K => format!("{b} B"),
        b if b < K * K => format!("{:.1} KiB", b as f64 / K as f64),
        b if b < K * K * K => format!("{:.1} MiB", b as f64 / (K * K) as f64),
        b => format!("{:.1} GiB", b as f64 / (K * K * K) as f64),
    }
}

#[cfg(test)]
#[path = "audit_health_tests.rs"]
mod tests;
