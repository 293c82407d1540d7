//! The one task that owns the gateway WebSocket, and its cloneable handle.
//!
//! It connects when a target is known, completes the operator handshake,
//! fetches `exec.approval.list` and `plugin.approval.list` after EVERY
//! (re)connect and reports them as one [`LinkEvent::Snapshot`], then forwards
//! `*.approval.requested` / `*.approval.resolved` events. On any failure it
//! reconnects with backoff and jitter (`reins_link::backoff`). A wrong token
//! or a refused pairing is [`LinkStatus::Refused`] with OpenClaw's message
//! and is retried slowly, since only a person can fix it.
//!
//! Approver mode: only while [`LinkHandle::set_approver`] is true does the
//! link announce the approval caps (`approvals`, `exec-approvals`,
//! `plugin-approvals`); switching reconnects. With no approver connected,
//! OpenClaw applies its own rules (its other clients, or `askFallback`), so
//! Reins never keeps an approval pending where no person can see it.
//!
//! Not here: any decision. [`LinkHandle::resolve`] carries a person's
//! decision; nothing in this crate calls it on its own.
//!
//! TODO(helper A): implement.

use crate::discover::GatewayTarget;
use crate::wire::{AbortOutcome, ApprovalKind, GatewayApproval, GatewayDecision, ResolvedApproval};
use reins_link::SecretStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The secret store entry holding Reins' Ed25519 device key for OpenClaw.
pub const DEVICE_KEY_SECRET: &str = "openclaw-device-key";

/// How the link is set up.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// Where to connect.
    pub target: GatewayTarget,
    /// Shown in OpenClaw's device list.
    pub display_name: String,
    /// Reins' version, sent as `client.version`.
    pub version: String,
    /// Start in approver mode.
    pub approver: bool,
    /// How long a request (connect, list, resolve, abort) may take before the
    /// connection is treated as dead.
    pub request_timeout: Duration,
}

/// The link's state, for `reins status` and `reins doctor`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkStatus {
    /// Trying to connect (first time or after a failure).
    Connecting {
        /// `ws://127.0.0.1:<port>`.
        url: String,
    },
    /// Handshake done.
    Up {
        /// `ws://127.0.0.1:<port>`.
        url: String,
        /// Protocol version the gateway chose.
        protocol: u32,
        /// The gateway's version, if it said.
        server_version: Option<String>,
        /// True when Reins is connected as an approver.
        approver: bool,
        /// Approvals pending on the gateway that Reins shows.
        pending: usize,
    },
    /// Not connected; retrying.
    Down {
        /// `ws://127.0.0.1:<port>`.
        url: String,
        /// What went wrong, in words a person can act on.
        error: String,
        /// When the next attempt is, from now.
        retry_in_ms: u64,
    },
    /// The gateway refused Reins (wrong token, pairing refused, protocol
    /// mismatch). Retried slowly.
    Refused {
        /// `ws://127.0.0.1:<port>`.
        url: String,
        /// OpenClaw's message plus what to do.
        error: String,
    },
}

/// What the link reports to its owner.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    /// The status changed.
    Status(LinkStatus),
    /// After a (re)connect: every approval pending on the gateway. Approvals
    /// Reins showed that are not in it are over.
    Snapshot(Vec<GatewayApproval>),
    /// A new approval.
    Requested(GatewayApproval),
    /// An approval ended (decided anywhere, timed out, cancelled).
    Resolved(ResolvedApproval),
    /// The connection dropped: nothing Reins shows can be answered until the
    /// next [`LinkEvent::Snapshot`].
    Lost,
}

/// Why a call through the link failed. Each says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not connected right now.
    #[error("Reins is not connected to OpenClaw's gateway ({0}); check `reins status`")]
    NotConnected(String),
    /// The gateway answered with an error.
    #[error("OpenClaw's gateway refused: {code}: {message}")]
    Gateway {
        /// OpenClaw's error code (e.g. `INVALID_REQUEST`).
        code: String,
        /// OpenClaw's message (e.g. "approval already resolved").
        message: String,
    },
    /// No answer in time.
    #[error("OpenClaw's gateway did not answer in time")]
    Timeout,
    /// The link task is gone (Reins is shutting down).
    #[error("the OpenClaw link is shut down")]
    Closed,
}

/// A cloneable handle on the link task.
#[derive(Clone, Debug)]
pub struct LinkHandle {
    _priv: (),
}

impl LinkHandle {
    /// Start the link task. Events arrive on the returned receiver; the
    /// task ends on `shutdown`.
    pub fn spawn(
        config: LinkConfig,
        secrets: Arc<dyn SecretStore>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
        let _ = (config, secrets, shutdown, tracker);
        todo!("helper A")
    }

    /// The current status.
    pub fn status(&self) -> LinkStatus {
        todo!("helper A")
    }

    /// Turn approver mode on or off (reconnects when it changes).
    pub fn set_approver(&self, approver: bool) {
        let _ = approver;
        todo!("helper A")
    }

    /// Send a person's decision (`approval.resolve {id, kind, decision}`).
    pub async fn resolve(
        &self,
        kind: ApprovalKind,
        id: &str,
        decision: GatewayDecision,
    ) -> Result<(), LinkError> {
        let _ = (kind, id, decision);
        todo!("helper A")
    }

    /// `sessions.abort {key, clearQueued: true}`: stop the session's current
    /// run and drop its queued turns; the gateway stays up.
    pub async fn abort_session(&self, session_key: &str) -> Result<AbortOutcome, LinkError> {
        let _ = session_key;
        todo!("helper A")
    }

    /// `sessions.list`, reduced to the keys of sessions with an active run.
    pub async fn active_sessions(&self) -> Result<Vec<String>, LinkError> {
        todo!("helper A")
    }
}
