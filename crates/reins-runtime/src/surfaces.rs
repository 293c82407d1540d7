//! Which surfaces can show a person an approval prompt right now.
//!
//! A prompt nobody can see must never hold an agent: when no surface is
//! live, the daemon answers a hook's `ask` with "abstain" at once, so the
//! agent's own dialog appears without delay. The surfaces are:
//!
//! - a connected tray, window or `reins approvals --watch` terminal: live
//!   while its IPC subscription is open ([`Surfaces::attach`] returns a guard
//!   that detaches on drop, so a crashed client stops counting at once);
//! - a working desktop notification server that advertises actions (the
//!   notifier task reports it with [`Surfaces::set`]);
//! - a paired phone that is online (the phone bridge reports presence and
//!   staleness with [`Surfaces::set`]).
//!
//! This module only keeps the list and publishes changes on a `watch`
//! channel; it decides nothing about any one prompt.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// A kind of surface that can show a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurfaceKind {
    /// The tray app's menu.
    Tray,
    /// The desktop window.
    Window,
    /// A terminal running `reins approvals --watch`.
    Terminal,
    /// Desktop notifications with Approve/Deny actions.
    Notifications,
    /// A paired phone that is online.
    Phone,
}

impl SurfaceKind {
    /// A short label for people.
    pub fn label(self) -> &'static str {
        match self {
            SurfaceKind::Tray => "tray",
            SurfaceKind::Window => "window",
            SurfaceKind::Terminal => "terminal (reins approvals --watch)",
            SurfaceKind::Notifications => "desktop notifications",
            SurfaceKind::Phone => "phone",
        }
    }
}

/// One live surface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSurface {
    /// Its kind.
    pub kind: SurfaceKind,
    /// What it is, for people: "pid 4242", "dunst 1.9.0", a phone's name.
    pub detail: String,
}

/// The surfaces, as `reins status` and `reins doctor` show them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurfacesSummary {
    /// Every live surface, tray first.
    pub live: Vec<LiveSurface>,
    /// Why a surface that could exist does not (e.g. "no notification
    /// server on the session bus").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl SurfacesSummary {
    /// True when at least one surface can show a prompt.
    pub fn any(&self) -> bool {
        !self.live.is_empty()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Keyed by (kind, key): key is a subscription number, a phone's id, or
    /// "" for the one notifier.
    live: BTreeMap<(SurfaceKind, String), String>,
    notes: BTreeMap<SurfaceKind, String>,
}

impl State {
    fn summary(&self) -> SurfacesSummary {
        SurfacesSummary {
            live: self
                .live
                .iter()
                .map(|((kind, _), detail)| LiveSurface {
                    kind: *kind,
                    detail: detail.clone(),
                })
                .collect(),
            notes: self.notes.values().cloned().collect(),
        }
    }
}

/// The daemon's surface list. Cloneable; every clone sees the same list.
#[derive(Clone, Debug)]
pub struct Surfaces {
    state: Arc<std::sync::Mutex<State>>,
    tx: Arc<watch::Sender<SurfacesSummary>>,
    next: Arc<AtomicU64>,
}

impl Default for Surfaces {
    fn default() -> Self {
        Self::new()
    }
}

impl Surfaces {
    /// An empty list.
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
            tx: Arc::new(watch::channel(SurfacesSummary::default()).0),
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut st = self.state.lock().expect("surfaces lock");
        f(&mut st);
        let summary = st.summary();
        self.tx.send_if_modified(|cur| {
            if *cur == summary {
                false
            } else {
                *cur = summary;
                true
            }
        });
    }

    /// A client surface (tray, window, terminal) is connected; it stays live
    /// until the guard is dropped.
    pub fn attach(&self, kind: SurfaceKind, detail: String) -> SurfaceGuard {
        let key = format!("{:020}", self.next.fetch_add(1, Ordering::Relaxed));
        self.update(|s| {
            s.live.insert((kind, key.clone()), detail);
        });
        SurfaceGuard {
            surfaces: self.clone(),
            kind,
            key,
        }
    }

    /// Set (`Some(detail)`) or clear (`None`) a keyed surface: the notifier
    /// (key "") or a phone (its device id).
    pub fn set(&self, kind: SurfaceKind, key: &str, detail: Option<String>) {
        self.update(|s| match detail {
            Some(d) => {
                s.live.insert((kind, key.to_owned()), d);
            }
            None => {
                s.live.remove(&(kind, key.to_owned()));
            }
        });
    }

    /// Set or clear the note that says why a kind of surface is missing.
    pub fn note(&self, kind: SurfaceKind, note: Option<String>) {
        self.update(|s| match note {
            Some(n) => {
                s.notes.insert(kind, n);
            }
            None => {
                s.notes.remove(&kind);
            }
        });
    }

    /// The list now.
    pub fn summary(&self) -> SurfacesSummary {
        self.tx.borrow().clone()
    }

    /// True when some surface can show a prompt now.
    pub fn any(&self) -> bool {
        self.tx.borrow().any()
    }

    /// Changes to the list.
    pub fn watch(&self) -> watch::Receiver<SurfacesSummary> {
        self.tx.subscribe()
    }
}

/// Keeps a client surface live; dropping it detaches the surface.
#[derive(Debug)]
pub struct SurfaceGuard {
    surfaces: Surfaces,
    kind: SurfaceKind,
    key: String,
}

impl Drop for SurfaceGuard {
    fn drop(&mut self) {
        let key = std::mem::take(&mut self.key);
        let kind = self.kind;
        self.surfaces.update(|s| {
            s.live.remove(&(kind, key));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_surface_counts_while_its_guard_lives_and_not_after() {
        let s = Surfaces::new();
        assert!(!s.any());
        let g = s.attach(SurfaceKind::Tray, "pid 1".into());
        assert!(s.any());
        assert_eq!(s.summary().live[0].kind, SurfaceKind::Tray);
        drop(g);
        assert!(!s.any());
    }

    #[test]
    fn two_windows_are_two_surfaces_and_closing_one_leaves_the_other() {
        let s = Surfaces::new();
        let a = s.attach(SurfaceKind::Window, "pid 1".into());
        let _b = s.attach(SurfaceKind::Window, "pid 2".into());
        drop(a);
        assert_eq!(s.summary().live.len(), 1);
        assert_eq!(s.summary().live[0].detail, "pid 2");
    }

    #[test]
    fn keyed_surfaces_are_set_and_cleared_and_changes_are_published() {
        let s = Surfaces::new();
        let mut rx = s.watch();
        s.set(SurfaceKind::Phone, "ab12", Some("Pixel".into()));
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        s.set(SurfaceKind::Phone, "ab12", Some("Pixel".into()));
        assert!(!rx.has_changed().unwrap(), "no change, no wake-up");
        s.set(SurfaceKind::Phone, "ab12", None);
        assert!(!s.any());
        s.note(SurfaceKind::Notifications, Some("no session bus".into()));
        assert_eq!(s.summary().notes, vec!["no session bus".to_string()]);
        assert!(!s.any(), "a note is not a surface");
    }
}
