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
//! The shell here only moves bytes and time: every decision about frames is
//! in [`crate::machine`]. Status goes out on a `watch` (for
//! [`LinkHandle::status`]) and as [`LinkEvent::Status`].

use crate::discover::GatewayTarget;
use crate::wire::{AbortOutcome, ApprovalKind, GatewayApproval, GatewayDecision, ResolvedApproval};
use reins_link::SecretStore;
use reins_link::backoff::BackoffPolicy;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

mod task;

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

/// Tuning for the link task (tests shorten the delays).
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// Reconnect backoff after a failure (full jitter).
    pub backoff: BackoffPolicy,
    /// Delay before retrying after a refusal (wrong token, pairing refused):
    /// only a person can fix those, so retry slowly.
    pub refused_retry: Duration,
    /// Capacity of the event channel.
    pub event_capacity: usize,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            backoff: BackoffPolicy::default(),
            refused_retry: Duration::from_secs(30),
            event_capacity: 256,
        }
    }
}

pub(crate) type ReplyTx = oneshot::Sender<Result<crate::machine::Reply, LinkError>>;

pub(crate) struct Command {
    pub(crate) call: crate::machine::Call,
    pub(crate) reply: ReplyTx,
}

/// A cloneable handle on the link task.
#[derive(Clone, Debug)]
pub struct LinkHandle {
    calls: mpsc::Sender<Command>,
    status: watch::Receiver<LinkStatus>,
    approver: Arc<watch::Sender<bool>>,
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
        Self::spawn_with(config, LinkOptions::default(), secrets, shutdown, tracker)
    }

    /// [`LinkHandle::spawn`] with explicit [`LinkOptions`].
    pub fn spawn_with(
        config: LinkConfig,
        options: LinkOptions,
        secrets: Arc<dyn SecretStore>,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> (LinkHandle, mpsc::Receiver<LinkEvent>) {
        let (status_tx, status_rx) = watch::channel(LinkStatus::Connecting {
            url: config.target.url.clone(),
        });
        let (approver_tx, approver_rx) = watch::channel(config.approver);
        let (calls_tx, calls_rx) = mpsc::channel(64);
        let (events_tx, events_rx) = mpsc::channel(options.event_capacity.max(1));
        let task = task::LinkTask {
            config,
            options,
            secrets,
            shutdown,
            status: status_tx,
            events: events_tx,
            calls: calls_rx,
            approver: approver_rx,
        };
        tracker.spawn(task.run());
        let handle = LinkHandle {
            calls: calls_tx,
            status: status_rx,
            approver: Arc::new(approver_tx),
        };
        (handle, events_rx)
    }

    /// The current status.
    pub fn status(&self) -> LinkStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every status change (for waiting on one).
    pub fn watch_status(&self) -> watch::Receiver<LinkStatus> {
        self.status.clone()
    }

    /// Turn approver mode on or off (reconnects when it changes).
    pub fn set_approver(&self, approver: bool) {
        self.approver.send_if_modified(|v| {
            let changed = *v != approver;
            *v = approver;
            changed
        });
    }

    async fn call(&self, call: crate::machine::Call) -> Result<crate::machine::Reply, LinkError> {
        let (tx, rx) = oneshot::channel();
        self.calls
            .send(Command { call, reply: tx })
            .await
            .map_err(|_| LinkError::Closed)?;
        rx.await.map_err(|_| LinkError::Closed)?
    }

    /// Send a person's decision (`approval.resolve {id, kind, decision}`, or
    /// `exec.approval.resolve` / `plugin.approval.resolve` on a gateway
    /// without it). Ok only when OpenClaw recorded this decision.
    pub async fn resolve(
        &self,
        kind: ApprovalKind,
        id: &str,
        decision: GatewayDecision,
    ) -> Result<(), LinkError> {
        let call = crate::machine::Call::Resolve {
            kind,
            id: id.to_owned(),
            decision,
        };
        match self.call(call).await? {
            crate::machine::Reply::Resolved => Ok(()),
            _ => Err(LinkError::Closed),
        }
    }

    /// `sessions.abort {key, clearQueued: true}`: stop the session's current
    /// run and drop its queued turns; the gateway stays up.
    pub async fn abort_session(&self, session_key: &str) -> Result<AbortOutcome, LinkError> {
        let call = crate::machine::Call::Abort {
            session_key: session_key.to_owned(),
        };
        match self.call(call).await? {
            crate::machine::Reply::Aborted(a) => Ok(a),
            _ => Err(LinkError::Closed),
        }
    }

    /// `sessions.list`, reduced to the keys of sessions with an active run.
    pub async fn active_sessions(&self) -> Result<Vec<String>, LinkError> {
        match self.call(crate::machine::Call::ActiveSessions).await? {
            crate::machine::Reply::Sessions(keys) => Ok(keys),
            _ => Err(LinkError::Closed),
        }
    }
}
