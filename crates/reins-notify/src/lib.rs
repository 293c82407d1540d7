//! Desktop notifications for Reins: the [`Notifier`] port and its
//! freedesktop implementation, [`DbusNotifier`], a client of
//! `org.freedesktop.Notifications` written directly on zbus.
//!
//! The one rule this crate exists for: an `ActionInvoked` or
//! `NotificationClosed` signal is honoured only when the D-Bus header's
//! sender is the unique name that owns `org.freedesktop.Notifications` right
//! now (asked with `GetNameOwner`, then tracked through the bus's
//! `NameOwnerChanged`). Any process of the same user — an agent included —
//! can emit a signal that looks like a click on "Approve"; only the server's
//! own connection can make one with the server's sender.
//!
//! Why not notify-rust: it neither exposes an `ActionInvoked` signal's sender
//! (so the check above cannot be made; a forged `gdbus emit` was accepted in
//! our measurements) nor keeps the connection that created a notification
//! (servers may send the signal to that connection only), so actions are lost
//! or forgeable. Here one connection raises every notification and receives
//! every signal.
//!
//! Not here: what to show, when, and what a click means. That is the
//! daemon's pure state machine (`reins-runtime::notify_state`). This crate
//! needs no GTK and no display: only a session bus.

mod dbus;
#[cfg(feature = "test-support")]
pub mod fake;
mod markup;
mod sender;

pub use dbus::DbusNotifier;
pub use markup::escape_markup;

use std::future::Future;

/// The well-known name of the notification server.
pub const SERVER_NAME: &str = "org.freedesktop.Notifications";
/// Its object path.
pub const SERVER_PATH: &str = "/org/freedesktop/Notifications";
/// Its interface.
pub const SERVER_INTERFACE: &str = "org.freedesktop.Notifications";
/// The action key a server invokes when the notification body is clicked.
pub const DEFAULT_ACTION: &str = "default";

/// A notification's id, as the server assigned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NoteId(pub u32);

/// How urgent a notification is (the spec's `urgency` hint).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Urgency {
    /// Background information.
    Low,
    /// The usual.
    #[default]
    Normal,
    /// Needs a person: servers keep it until it is dealt with.
    Critical,
}

impl Urgency {
    fn byte(self) -> u8 {
        match self {
            Urgency::Low => 0,
            Urgency::Normal => 1,
            Urgency::Critical => 2,
        }
    }
}

/// One button on a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeAction {
    /// What the server sends back in `ActionInvoked`.
    pub key: String,
    /// What the person reads.
    pub label: String,
}

/// A notification to raise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notice {
    /// The one-line title.
    pub summary: String,
    /// The body, already escaped if the server interprets markup.
    pub body: String,
    /// Buttons (and the [`DEFAULT_ACTION`], for a click on the body).
    pub actions: Vec<NoticeAction>,
    /// How urgent.
    pub urgency: Urgency,
    /// Keep it after an action is invoked (the daemon closes it itself).
    pub resident: bool,
    /// The spec's `category` hint (`x-reins.approval`, `x-reins.stop`).
    pub category: Option<String>,
    /// Never expire on its own (`expire_timeout` 0); else the server's default.
    pub persistent: bool,
}

/// What the server says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// Its name ("dunst").
    pub name: String,
    /// Its vendor.
    pub vendor: String,
    /// Its version.
    pub version: String,
    /// The spec version it implements.
    pub spec_version: String,
    /// What it can do (`actions`, `body`, `body-markup`, `persistence`, ...).
    pub capabilities: Vec<String>,
    /// The PID of the process that owns the name, as the bus reports it
    /// (for the self-approval guard: an agent may own the name too).
    pub pid: Option<u32>,
}

impl ServerInfo {
    /// True when the server shows buttons and sends `ActionInvoked`.
    pub fn has_actions(&self) -> bool {
        self.has("actions")
    }

    /// True when the server interprets markup in bodies (so bodies must be
    /// escaped).
    pub fn has_body_markup(&self) -> bool {
        self.has("body-markup")
    }

    /// True when it advertises `cap`.
    pub fn has(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|c| c == cap)
    }

    /// "dunst 1.9.0", for people.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version).trim().to_owned()
    }
}

/// Why a notification closed (the spec's `NotificationClosed` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// It expired.
    Expired,
    /// The person dismissed it.
    Dismissed,
    /// `CloseNotification` was called.
    Closed,
    /// Something else (reason 4 or unknown).
    Other,
}

impl CloseReason {
    fn from_wire(r: u32) -> Self {
        match r {
            1 => CloseReason::Expired,
            2 => CloseReason::Dismissed,
            3 => CloseReason::Closed,
            _ => CloseReason::Other,
        }
    }
}

/// What the notifier reports. Every `Action` and `Closed` was sent by the
/// connection that owned `org.freedesktop.Notifications` when it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteEvent {
    /// The person clicked a button (or the body: [`DEFAULT_ACTION`]).
    Action {
        /// Which notification.
        id: NoteId,
        /// Which action key.
        key: String,
    },
    /// The notification is gone.
    Closed {
        /// Which.
        id: NoteId,
        /// Why.
        reason: CloseReason,
    },
    /// A notification server took the name (probe it again).
    ServerUp,
    /// The server left the bus; its notifications are gone with it.
    ServerDown,
    /// The session bus connection ended; nothing more will arrive.
    BusGone,
}

/// Why a notification call failed. Each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No session bus to talk to.
    #[error(
        "no D-Bus session bus ({0}); desktop notifications are off. Run Reins inside your desktop session (DBUS_SESSION_BUS_ADDRESS must be set), or set [notify] enabled = false"
    )]
    NoSessionBus(String),
    /// The bus has no notification server.
    #[error(
        "no notification server on the session bus; start your desktop's notification daemon (for example dunst) and Reins will use it as soon as it appears"
    )]
    NoServer,
    /// The server refused or failed a call.
    #[error(
        "the notification server failed {method}: {detail}; check that it is running and try again"
    )]
    Server {
        /// The method.
        method: &'static str,
        /// What it said.
        detail: String,
    },
    /// The server answered with something that is not what the spec says.
    #[error("the notification server sent a malformed {method} reply: {detail}")]
    Malformed {
        /// The method.
        method: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// The port the daemon raises notifications through. One implementation
/// talks to the session bus ([`DbusNotifier`]); tests may fake it.
pub trait Notifier: Send {
    /// Ask the server who it is and what it can do. [`NotifyError::NoServer`]
    /// when nobody owns the name.
    fn probe(&mut self) -> impl Future<Output = Result<ServerInfo, NotifyError>> + Send;

    /// Show a notification.
    fn raise(
        &mut self,
        notice: &Notice,
    ) -> impl Future<Output = Result<NoteId, NotifyError>> + Send;

    /// Take one down (a no-op on the server if it is already gone).
    fn close(&mut self, id: NoteId) -> impl Future<Output = Result<(), NotifyError>> + Send;
}
