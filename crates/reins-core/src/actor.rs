//! Who asked for an action: the CLI, the tray, a desktop notification, a
//! paired phone, or Reins itself.
//!
//! Used by the audit log and by the self-approval guard. It is not an
//! authentication mechanism: the daemon fills it in from what it verified
//! (peer credentials, a decrypted phone envelope), never from what a client claims.

use serde::{Deserialize, Serialize};

/// The origin of a request, as verified by the daemon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Actor {
    /// A local process over the IPC socket (or the CLI acting directly).
    Cli {
        /// The peer's PID from SO_PEERCRED (or our own PID in direct mode).
        pid: u32,
        /// The peer's uid from SO_PEERCRED.
        uid: u32,
    },
    /// The desktop tray shell.
    Tray,
    /// A button on a desktop notification, whose `ActionInvoked` signal came
    /// from the unique name that owns `org.freedesktop.Notifications`.
    Notification,
    /// A paired phone, identified by its opaque device id.
    Phone {
        /// The device id assigned at pairing.
        device_id: String,
    },
    /// Reins itself (policy, timeouts, scanner).
    Daemon,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Cli { pid, .. } => write!(f, "cli(pid {pid})"),
            Actor::Tray => f.write_str("tray"),
            Actor::Notification => f.write_str("notification"),
            Actor::Phone { device_id } => write!(f, "phone({device_id})"),
            Actor::Daemon => f.write_str("daemon"),
        }
    }
}
