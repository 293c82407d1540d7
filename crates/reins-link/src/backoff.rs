//! Reconnect backoff: exponential with *full jitter* (AWS architecture blog,
//! "Exponential Backoff And Jitter"): the n-th delay is uniform in
//! `[0, min(cap, base · 2^n)]`.
//!
//! rumqttc reconnects in a tight loop after an error; the connection task
//! sleeps for [`Backoff::next_delay`] between attempts. Full jitter spreads
//! many clients (or one client and a restarting broker) apart. This module
//! only computes delays; it does not sleep.

use rand::Rng;
use std::time::Duration;

/// Delay cap by default: 30 s. A user who restarts their broker waits at most
/// half a minute, and a dead broker costs at most ~2 attempts a minute.
pub const DEFAULT_CAP: Duration = Duration::from_secs(30);

/// First-attempt ceiling by default: 500 ms. A broker blip (restart,
/// Wi-Fi roam) is usually over within a second, so the first retry is quick.
pub const DEFAULT_BASE: Duration = Duration::from_millis(500);

/// A connection must have lasted this long for the attempt counter to reset.
/// Otherwise a broker that accepts and immediately drops us (e.g. an ACL
/// refusal) would keep us at the smallest delay forever.
pub const STABLE_AFTER: Duration = Duration::from_secs(10);

/// Backoff parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Ceiling of the first delay.
    pub base: Duration,
    /// Largest delay.
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        Self {
            base: DEFAULT_BASE,
            cap: DEFAULT_CAP,
        }
    }
}

/// Backoff state: the number of consecutive failed attempts.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: BackoffPolicy,
    attempt: u32,
}

impl Backoff {
    /// Fresh state.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Consecutive failures so far.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The ceiling for the current attempt: `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32 << self.attempt.min(20);
        self.policy.base.saturating_mul(factor).min(self.policy.cap)
    }

    /// The next delay (uniform in `[0, ceiling]`), then counts the attempt.
    pub fn next_delay<R: Rng>(&mut self, rng: &mut R) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.gen_range(0..=ms))
    }

    /// Back to the first attempt (after a stable connection).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ceilings_double_from_the_base_and_stop_at_the_cap() {
        let mut b = Backoff::new(BackoffPolicy::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            ceilings.push(b.ceiling().as_millis());
            let d = b.next_delay(&mut rng);
            assert!(d <= DEFAULT_CAP);
        }
        assert_eq!(&ceilings[..7], &[500, 1000, 2000, 4000, 8000, 16000, 30000]);
        assert_eq!(ceilings[9], 30000);
    }

    #[test]
    fn delays_are_jittered_over_the_whole_range() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let delays: Vec<_> = (0..200)
            .map(|_| Backoff::new(BackoffPolicy::default()).next_delay(&mut rng))
            .collect();
        assert!(delays.iter().any(|d| d.as_millis() < 100));
        assert!(delays.iter().any(|d| d.as_millis() > 400));
    }

    #[test]
    fn reset_returns_to_the_first_attempt() {
        let mut b = Backoff::new(BackoffPolicy::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        for _ in 0..5 {
            b.next_delay(&mut rng);
        }
        b.reset();
        assert_eq!(b.attempt(), 0);
        assert_eq!(b.ceiling(), DEFAULT_BASE);
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut b = Backoff::new(BackoffPolicy::default());
        b.attempt = u32::MAX;
        assert_eq!(b.ceiling(), DEFAULT_CAP);
    }
}
