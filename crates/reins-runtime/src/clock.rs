//! The daemon's clock port: Unix milliseconds that follow tokio's clock.
//!
//! The pure state machines take time as an input; this is where the runtime
//! gets it. It reads the wall clock once at start and then advances with
//! `tokio::time::Instant`, so under `tokio::time::pause` tests control time
//! completely, and a wall-clock jump never expires (or revives) an approval.
//! It is not a calendar: use it for deadlines and timestamps only.

use tokio::time::Instant;

/// A source of "now" in Unix milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, in Unix milliseconds.
    fn now_ms(&self) -> u64;
    /// The tokio instant at which `ms` (Unix milliseconds) falls.
    fn instant_at(&self, ms: u64) -> Instant;
}

/// Wall clock at start, monotonic (tokio) after.
#[derive(Clone, Copy, Debug)]
pub struct MonotonicClock {
    base_ms: u64,
    base: Instant,
}

impl MonotonicClock {
    /// Start now.
    pub fn new() -> Self {
        MonotonicClock {
            base_ms: crate::audit_writer::now_ms(),
            base: Instant::now(),
        }
    }

    /// Start at a given Unix time (tests).
    pub fn starting_at(base_ms: u64) -> Self {
        MonotonicClock {
            base_ms,
            base: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now_ms(&self) -> u64 {
        self.base_ms + self.base.elapsed().as_millis() as u64
    }

    fn instant_at(&self, ms: u64) -> Instant {
        self.base + std::time::Duration::from_millis(ms.saturating_sub(self.base_ms))
    }
}
