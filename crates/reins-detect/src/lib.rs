//! Agent detection for Reins (promise 1, *See*): which AI agents are running
//! on this machine, as [`reins_core::AgentRecord`]s and
//! [`reins_core::RegistryEvent`]s.
//!
//! - [`signature`]: the data-driven signature table (built-in plus the
//!   config's `[[signatures]]`).
//! - [`classify`]: the pure matcher from one process's exe/argv/comm to an
//!   agent kind.
//! - [`scanner`]: the sysinfo scanner that groups wrapper chains into one
//!   agent per tree and diffs scans. A change detector (`change.rs`) keeps
//!   it from re-reading every process at every scan.
//!
//! This crate deliberately sends no signals (that is `reins-os`), owns no
//! timer or thread (the daemon schedules scans) and keeps no state beyond
//! what makes the next scan cheap. Linux only for now: start times come from
//! `/proc/<pid>/stat`.

pub mod builtin;
mod change;
pub mod classify;
pub mod diff;
mod group;
mod procfs;
pub mod project;
pub mod scanner;
pub mod signature;
pub mod supervisor;

pub use classify::{Class, ProcView};
pub use diff::noticeably_changed;
pub use scanner::{RECHECK_YOUNGER_THAN_SECS, Scan, Scanner, classify_pid, scan_once};
pub use signature::{Signature, SignatureSpec, SignatureTable};
pub use supervisor::supervisor_of;

/// Why detection could not run or a signature could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// sysinfo could not start reading processes.
    #[error(
        "cannot read the process table: {0}. Reins needs a readable /proc (Linux) to see agents; \
         check that /proc is mounted without hidepid restrictions"
    )]
    ProcessTable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A user signature is malformed.
    #[error("signature '{kind}' in the config's [[signatures]] is invalid: {reason}")]
    BadSignature {
        /// The signature's `kind` as written.
        kind: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A glob in a user signature does not parse.
    #[error(
        "signature '{kind}' has an invalid pattern '{pattern}': {source}. \
         Patterns are globs: `*` (within one directory), `**` (any depth), `?`, `[0-9]`"
    )]
    BadPattern {
        /// The signature's `kind`.
        kind: String,
        /// The pattern as written.
        pattern: String,
        /// The glob parser's complaint.
        source: globset::Error,
    },
}
