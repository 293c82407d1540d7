//! Replay protection: the receive-side window and the send-side counter.
//!
//! One [`ReplayWindow`] exists per (peer, direction) on the receiving side.
//! It remembers the highest accepted `seq`, a 128-entry bitmap below it, and
//! the `msg_id`s seen within the clock-skew window, and it refuses messages
//! whose timestamp is more than [`MAX_SKEW_MS`] away from our clock. It is
//! serde so the daemon can persist it: a replay must still fail after a
//! restart. One [`OutgoingSeq`] exists per direction on the sending side.
//!
//! This module is a pure state machine over numbers. It does not decrypt,
//! read clocks or touch disk; the caller feeds it only *authenticated*
//! headers (see [`crate::channel`]) and persists it after every accept.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How many sequence numbers below the highest accepted one are tracked.
/// MQTT QoS1 with reconnects can reorder a handful of messages; 128 covers
/// any realistic reordering at our message rates while costing 16 bytes.
pub const REPLAY_WINDOW: u64 = 128;

/// Largest accepted |now − ts_ms|. Two minutes tolerates phone clocks that
/// are slightly off and broker queueing across a short reconnect, while
/// bounding how long a captured message stays interesting and how long the
/// msg_id cache must remember it.
pub const MAX_SKEW_MS: u64 = 120_000;

/// Most msg_ids remembered. At one message per 30 ms for the full 240 s
/// lifetime of an id that is 8000; we keep 4096 and, when full, forget the
/// oldest, which is safe because the seq window still refuses a replay:
/// the cache is defence in depth, not the primary check.
pub const MSG_ID_CACHE_MAX: usize = 4096;

/// Why the window refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ReplayReject {
    /// `ts_ms` is more than [`MAX_SKEW_MS`] in the past.
    #[error("timestamp too old")]
    Stale,
    /// `ts_ms` is more than [`MAX_SKEW_MS`] in the future.
    #[error("timestamp in the future")]
    Future,
    /// `seq` is at least [`REPLAY_WINDOW`] below the highest accepted one.
    #[error("sequence number below the replay window")]
    TooOld,
    /// `seq` is zero.
    #[error("sequence number zero")]
    InvalidSeq,
}

/// The window's verdict on one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayVerdict {
    /// New: process it.
    Accept,
    /// Seen before (QoS1 redelivery or in-window replay): drop silently.
    Duplicate,
    /// Refused: drop and log.
    Rejected(ReplayReject),
}

/// Receive-side replay state for one (peer, direction).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayWindow {
    /// Highest accepted seq; 0 before the first message.
    highest: u64,
    /// Bit i set ⇔ seq `highest − i` was accepted. Stored as [low, high] u64s.
    bitmap: [u64; 2],
    /// Recently accepted msg_ids with their ts_ms, oldest first.
    seen: VecDeque<SeenId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SeenId {
    #[serde(with = "hex16")]
    id: [u8; 16],
    ts_ms: u64,
}

impl ReplayWindow {
    /// An empty window (a new pairing).
    pub fn new() -> Self {
        Self::default()
    }

    /// The highest accepted seq (0 if none).
    pub fn highest(&self) -> u64 {
        self.highest
    }

    fn bits(&self) -> u128 {
        u128::from(self.bitmap[0]) | (u128::from(self.bitmap[1]) << 64)
    }

    fn set_bits(&mut self, b: u128) {
        self.bitmap = [b as u64, (b >> 64) as u64];
    }

    /// Judges a message without recording it.
    pub fn check(&self, seq: u64, ts_ms: u64, msg_id: &[u8; 16], now_ms: u64) -> ReplayVerdict {
        if seq == 0 {
            return ReplayVerdict::Rejected(ReplayReject::InvalidSeq);
        }
        // An exact repeat is a duplicate however late it arrives.
        if seq <= self.highest {
            let back = self.highest - seq;
            if back < REPLAY_WINDOW && self.bits() & (1u128 << back) != 0 {
                return ReplayVerdict::Duplicate;
            }
        }
        if self.seen.iter().any(|s| &s.id == msg_id) {
            return ReplayVerdict::Duplicate;
        }
        if ts_ms + MAX_SKEW_MS < now_ms {
            return ReplayVerdict::Rejected(ReplayReject::Stale);
        }
        if ts_ms > now_ms + MAX_SKEW_MS {
            return ReplayVerdict::Rejected(ReplayReject::Future);
        }
        if seq <= self.highest && self.highest - seq >= REPLAY_WINDOW {
            return ReplayVerdict::Rejected(ReplayReject::TooOld);
        }
        ReplayVerdict::Accept
    }

    /// Judges a message and, if accepted, records it. Call only with an
    /// authenticated header, and persist the window before acting.
    pub fn accept(
        &mut self,
        seq: u64,
        ts_ms: u64,
        msg_id: &[u8; 16],
        now_ms: u64,
    ) -> ReplayVerdict {
        let verdict = self.check(seq, ts_ms, msg_id, now_ms);
        if verdict == ReplayVerdict::Accept {
            if seq > self.highest {
                let shift = seq - self.highest;
                let bits = if shift >= 128 {
                    0
                } else {
                    self.bits() << shift
                };
                self.set_bits(bits | 1);
                self.highest = seq;
            } else {
                let back = self.highest - seq;
                self.set_bits(self.bits() | (1u128 << back));
            }
            self.seen.retain(|s| s.ts_ms + MAX_SKEW_MS >= now_ms);
            if self.seen.len() >= MSG_ID_CACHE_MAX {
                self.seen.pop_front();
            }
            self.seen.push_back(SeenId { id: *msg_id, ts_ms });
        }
        verdict
    }
}

/// The send side's counter for one direction. Persist it after every
/// [`OutgoingSeq::advance`] and before publishing, or the peer will drop
/// messages after our restart as duplicates of ones it already saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingSeq {
    last: u64,
}

/// The counter reached 2^53 − 1; the pair must be re-paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("outgoing sequence numbers exhausted; re-pair this device")]
pub struct SeqExhausted;

impl OutgoingSeq {
    /// A counter whose first value will be 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last value handed out (0 if none).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// The next sequence number.
    pub fn advance(&mut self) -> Result<u64, SeqExhausted> {
        if self.last >= crate::envelope::MAX_SAFE_INTEGER {
            return Err(SeqExhausted);
        }
        self.last += 1;
        Ok(self.last)
    }
}

mod hex16 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(v: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 16], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(s).map_err(D::Error::custom)?;
        v.try_into()
            .map_err(|_| D::Error::custom("msg_id must be 16 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn id(n: u64) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&n.to_be_bytes());
        b
    }

    #[test]
    fn a_fresh_message_is_accepted_and_its_redelivery_is_a_duplicate() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.accept(1, NOW, &id(1), NOW), ReplayVerdict::Accept);
        assert_eq!(w.accept(1, NOW, &id(1), NOW), ReplayVerdict::Duplicate);
    }

    #[test]
    fn reordered_messages_inside_the_window_are_accepted_once() {
        let mut w = ReplayWindow::new();
        for seq in [5, 3, 4, 1, 2] {
            assert_eq!(
                w.accept(seq, NOW, &id(seq), NOW),
                ReplayVerdict::Accept,
                "{seq}"
            );
        }
        for seq in 1..=5 {
            assert_eq!(
                w.accept(seq, NOW, &id(100 + seq), NOW),
                ReplayVerdict::Duplicate
            );
        }
    }

    #[test]
    fn a_seq_below_the_window_is_rejected_as_too_old() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.accept(500, NOW, &id(500), NOW), ReplayVerdict::Accept);
        assert_eq!(
            w.accept(500 - 128, NOW, &id(1), NOW),
            ReplayVerdict::Rejected(ReplayReject::TooOld)
        );
        assert_eq!(w.accept(500 - 127, NOW, &id(2), NOW), ReplayVerdict::Accept);
    }

    #[test]
    fn a_reused_msg_id_with_a_new_seq_is_a_duplicate() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.accept(1, NOW, &id(9), NOW), ReplayVerdict::Accept);
        assert_eq!(w.accept(2, NOW, &id(9), NOW), ReplayVerdict::Duplicate);
    }

    #[test]
    fn timestamps_more_than_two_minutes_off_are_rejected() {
        let mut w = ReplayWindow::new();
        let stale = w.accept(1, NOW - MAX_SKEW_MS - 1, &id(1), NOW);
        assert_eq!(stale, ReplayVerdict::Rejected(ReplayReject::Stale));
        let future = w.accept(2, NOW + MAX_SKEW_MS + 1, &id(2), NOW);
        assert_eq!(future, ReplayVerdict::Rejected(ReplayReject::Future));
        assert_eq!(
            w.accept(3, NOW - MAX_SKEW_MS, &id(3), NOW),
            ReplayVerdict::Accept
        );
        assert_eq!(
            w.accept(4, NOW + MAX_SKEW_MS, &id(4), NOW),
            ReplayVerdict::Accept
        );
    }

    #[test]
    fn seq_zero_is_never_valid() {
        let w = ReplayWindow::new();
        assert_eq!(
            w.check(0, NOW, &id(0), NOW),
            ReplayVerdict::Rejected(ReplayReject::InvalidSeq)
        );
    }

    #[test]
    fn a_replay_still_fails_after_the_window_is_persisted_and_restored() {
        let mut w = ReplayWindow::new();
        for seq in 1..=200 {
            w.accept(seq, NOW, &id(seq), NOW);
        }
        let restored: ReplayWindow =
            serde_json::from_str(&serde_json::to_string(&w).unwrap()).unwrap();
        assert_eq!(restored, w);
        let mut restored = restored;
        assert_eq!(
            restored.accept(200, NOW, &id(200), NOW + 1),
            ReplayVerdict::Duplicate
        );
        assert_eq!(
            restored.accept(150, NOW, &id(150), NOW + 1),
            ReplayVerdict::Duplicate
        );
        // A replay of an old message also carries its old msg_id ...
        assert_eq!(
            restored.accept(10, NOW, &id(10), NOW + 1),
            ReplayVerdict::Duplicate
        );
        // ... and even with a fresh id its seq is below the window.
        let verdict = restored.accept(10, NOW, &id(9999), NOW + 1);
        assert_eq!(verdict, ReplayVerdict::Rejected(ReplayReject::TooOld));
        assert_eq!(
            restored.accept(201, NOW, &id(201), NOW + 1),
            ReplayVerdict::Accept
        );
    }

    #[test]
    fn the_msg_id_cache_stays_bounded() {
        let mut w = ReplayWindow::new();
        for seq in 1..=(MSG_ID_CACHE_MAX as u64 + 50) {
            w.accept(seq, NOW, &id(seq), NOW);
        }
        assert_eq!(w.seen.len(), MSG_ID_CACHE_MAX);
        // Ids older than the skew window are forgotten on the next accept.
        w.accept(
            10_000,
            NOW + 3 * MAX_SKEW_MS,
            &id(10_000),
            NOW + 3 * MAX_SKEW_MS,
        );
        assert_eq!(w.seen.len(), 1);
    }

    #[test]
    fn a_big_jump_clears_the_bitmap() {
        let mut w = ReplayWindow::new();
        w.accept(1, NOW, &id(1), NOW);
        w.accept(1000, NOW, &id(1000), NOW);
        assert_eq!(w.accept(999, NOW, &id(999), NOW), ReplayVerdict::Accept);
    }

    #[test]
    fn the_outgoing_counter_starts_at_one_and_survives_a_round_trip() {
        let mut s = OutgoingSeq::new();
        assert_eq!(s.advance(), Ok(1));
        assert_eq!(s.advance(), Ok(2));
        let mut back: OutgoingSeq =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back.advance(), Ok(3));
        let mut end = OutgoingSeq {
            last: crate::envelope::MAX_SAFE_INTEGER,
        };
        assert_eq!(end.advance(), Err(SeqExhausted));
    }
}
