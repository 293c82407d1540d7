//! The pieces of `reins-bench`: process fleets that are always cleaned up
//! ([`procs`]), an isolated daemon ([`daemon`]), one module per measure
//! ([`halt`], [`unit`], [`scan`], [`idle`], [`latch`], [`cli`], [`hook`], [`tripwire`], [`notify`], [`phone`], [`phone_app`]), the soak under load and faults ([`soak`]) and the statistics and output
//! ([`stats`]).
//!
//! This is a benchmark harness, not a test suite: it measures wall-clock
//! times and reports them; it asserts only that every halt it measured was
//! verified (a failed halt is an error, not a slow sample).

pub mod cli;
pub mod daemon;
pub mod halt;
pub mod hook;
pub mod idle;
pub mod latch;
pub mod notify;
pub mod openclaw;
pub mod phone;
pub mod phone_app;
pub mod procs;
pub mod scan;
pub mod soak;
pub mod stats;
pub mod tripwire;
pub mod unit;

/// Every error the bench reports: a message saying what failed and why.
pub type Res<T> = Result<T, String>;

/// Options shared by all measures.
#[derive(Clone, Debug)]
pub struct Opts {
    /// Runs (halts, stops, scans) per measure.
    pub runs: usize,
    /// Total processes on the machine to reach with idle fillers.
    pub procs: usize,
    /// Processes in each halted tree.
    pub tree: usize,
    /// Watch every n-th run with an independent /proc poller (0 = never).
    pub watch_every: usize,
    /// Seconds the idle measure samples the daemon for.
    pub idle_secs: u64,
}
