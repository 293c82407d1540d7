//! Which paired phones are online, as surfaces that can show a prompt.
//!
//! The rule (docs/protocol.md §5, "Liveness"): a phone is online from any
//! authenticated message from it (`presence {"online":true}` on connect, a
//! heartbeat, a decision, a command) until it says `presence
//! {"online":false}`, until it has been silent for [`PHONE_STALE_MS`], or
//! until the desktop's own link to the broker drops (then nothing reaches
//! it). The phone app answers each of the desktop's 30-second heartbeats
//! with one of its own, so an open app is heard from at least every 30 s,
//! and one that the browser froze in the background is not. The
//! unauthenticated, empty MQTT Last Will proves nothing and is not used.
//!
//! Pure bookkeeping with the time passed in; the phone bridge feeds it and
//! mirrors the result into [`crate::surfaces::Surfaces`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How long a silent phone still counts as online: three missed heartbeats,
/// the same rule the phone applies to the desktop.
pub(crate) const PHONE_STALE_MS: u64 = 3 * crate::phone_bridge::HEARTBEAT_INTERVAL_S as u64 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    last_seen_ms: u64,
    online: bool,
}

/// Last-seen times and online marks of the paired phones, since the daemon
/// started. Cloneable; every clone sees the same map.
#[derive(Clone, Debug, Default)]
pub(crate) struct PhonePresence {
    seen: Arc<Mutex<BTreeMap<String, Seen>>>,
}

impl PhonePresence {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Seen>) -> R) -> R {
        f(&mut self.seen.lock().expect("presence lock"))
    }

    /// An authenticated message from `id` arrived at `now_ms`; `online` is
    /// false only for `presence {"online":false}`. Returns whether its
    /// online mark changed.
    pub(crate) fn heard(&self, id: &str, now_ms: u64, online: bool) -> bool {
        self.with(|m| {
            let prev = m.insert(
                id.to_owned(),
                Seen {
                    last_seen_ms: now_ms,
                    online,
                },
            );
            prev.is_none_or(|p| p.online != online)
        })
    }

    /// Marks offline every phone silent for longer than [`PHONE_STALE_MS`];
    /// returns them.
    pub(crate) fn expire(&self, now_ms: u64) -> Vec<String> {
        self.with(|m| {
            m.iter_mut()
                .filter(|(_, s)| s.online && now_ms.saturating_sub(s.last_seen_ms) > PHONE_STALE_MS)
                .map(|(id, s)| {
                    s.online = false;
                    id.clone()
                })
                .collect()
        })
    }

    /// A revoked phone is forgotten.
    pub(crate) fn forget(&self, id: &str) {
        self.with(|m| m.remove(id));
    }

    /// Its last-seen time (Unix ms, since the daemon started) and whether it
    /// is online now.
    pub(crate) fn get(&self, id: &str) -> (Option<u64>, bool) {
        self.with(|m| {
            m.get(id)
                .map_or((None, false), |s| (Some(s.last_seen_ms), s.online))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_is_online_from_a_message_until_it_is_silent_too_long() {
        let p = PhonePresence::default();
        assert_eq!(p.get("ab"), (None, false));
        assert!(p.heard("ab", 1_000, true));
        assert!(!p.heard("ab", 2_000, true), "still online: no change");
        assert_eq!(p.get("ab"), (Some(2_000), true));
        assert!(
            p.expire(2_000 + PHONE_STALE_MS).is_empty(),
            "at the limit it counts"
        );
        assert_eq!(p.expire(2_001 + PHONE_STALE_MS), vec!["ab".to_string()]);
        assert_eq!(p.get("ab"), (Some(2_000), false), "last seen is kept");
        assert!(p.expire(10 * PHONE_STALE_MS).is_empty(), "expired once");
        assert!(p.heard("ab", 10 * PHONE_STALE_MS, true), "back online");
    }

    #[test]
    fn presence_offline_and_revocation_end_it_at_once() {
        let p = PhonePresence::default();
        p.heard("ab", 1, true);
        p.heard("cd", 1, true);
        assert!(p.heard("ab", 2, false));
        assert_eq!(p.get("ab"), (Some(2), false));
        p.forget("cd");
        assert_eq!(p.get("cd"), (None, false));
    }
}
