//! The phone link's public face: [`Link::start`] spawns one actor task that
//! owns the MQTT client and the [`DeviceStore`]; every caller talks to it
//! through a cloneable [`LinkHandle`] (commands on an mpsc, replies on
//! oneshots, mini-redis style). Authentic phone messages come out as
//! [`LinkEvent`]s; connection state is on a `watch` for `reins status`.
//!
//! Security rules enforced here (the protocol checks are in
//! `reins_proto::PairChannel::open`):
//! - QoS 1, never retained; retained messages are dropped unread.
//! - Anything failing `open` is dropped silently (counted, debug log only),
//!   so a garbage flood costs one bounded parse per message and no memory.
//! - The replay window is saved before an event is emitted; the send seq is
//!   saved before a message is published.
//!
//! Not here: the actor loop ([`crate::link_task`]), socket polling
//! ([`crate::conn`]) and pairing ([`crate::pair`]).

use crate::backoff::BackoffPolicy;
use crate::broker_url::{BrokerConfig, BrokerUrlError};
use crate::store::{DeviceId, DeviceInfo, DeviceStore, StoreError};
use reins_proto::Payload;
use reins_proto::pairing::PairedPhone;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Default capacity of the [`LinkEvent`] channel. If the daemon falls this
/// far behind, further phone messages are dropped *before* being opened (so
/// the phone may resend them) rather than buffered without bound.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// Messages buffered per raw subscription (the pairing topic sees a handful).
pub const RAW_QUEUE: usize = 64;

/// How to run the link.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// The broker the desktop connects to.
    pub broker: BrokerConfig,
    /// Reconnect backoff.
    pub backoff: BackoffPolicy,
    /// Capacity of the event channel to the daemon.
    pub event_capacity: usize,
}

impl LinkConfig {
    /// Defaults for `broker`.
    pub fn new(broker: BrokerConfig) -> Self {
        Self {
            broker,
            backoff: BackoffPolicy::default(),
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }
}

/// Something the daemon must handle.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LinkEvent {
    /// An authentic, fresh, first-seen message from a paired phone.
    FromPhone {
        /// Which phone.
        device_id: DeviceId,
        /// The decoded body.
        payload: Payload,
        /// The envelope's msg_id (commands are idempotent by it; acks cite it).
        msg_id: [u8; 16],
    },
}

/// Where the connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// First connection attempt in progress.
    Connecting,
    /// Connected (see [`LinkStatus::subscribed`]).
    Connected,
    /// The last attempt failed; the next one starts after `retry_in`.
    BackingOff {
        /// Delay chosen for this attempt.
        retry_in: Duration,
        /// Consecutive failures.
        attempt: u32,
    },
    /// The link was shut down.
    Stopped,
}

/// What `reins status` shows about the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkStatus {
    /// Connection state.
    pub state: ConnState,
    /// The broker URL.
    pub broker: String,
    /// Most recent connection error, kept after recovery.
    pub last_error: Option<String>,
    /// Connected and every subscription acknowledged by the broker.
    pub subscribed: bool,
    /// Successful connections so far (2+ means we reconnected).
    pub connects: u64,
}

impl LinkStatus {
    /// Connected and subscribed: messages to us will be delivered.
    pub fn is_ready(&self) -> bool {
        self.state == ConnState::Connected && self.subscribed
    }
}

/// A message to one phone or to all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// One device.
    Device(DeviceId),
    /// Every paired device.
    All,
}

/// One published envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// To whom.
    pub device_id: DeviceId,
    /// Its msg_id.
    pub msg_id: [u8; 16],
    /// Its seq.
    pub seq: u64,
}

/// A message on a raw (non-device) subscription, e.g. the pairing topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The topic it arrived on.
    pub topic: String,
    /// Untrusted bytes.
    pub payload: Vec<u8>,
}

/// Why a link operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The broker settings are unusable.
    #[error(transparent)]
    Broker(#[from] BrokerUrlError),
    /// The device store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The link task is gone.
    #[error("the phone link is not running; restart the daemon")]
    Stopped,
    /// Too many messages wait for the broker connection.
    #[error(
        "the broker connection is backlogged (offline?); the message was not sent, try again when `reins status` shows the link connected"
    )]
    Backlogged,
    /// Sealing failed (seq exhausted or wrong kind for this direction).
    #[error(
        "cannot seal this message: {0}; if the sequence counter is exhausted, revoke and re-pair the phone"
    )]
    Seal(#[from] reins_proto::SealError),
    /// No such paired device.
    #[error("no paired device {0}; run `reins devices` to list them")]
    NoSuchDevice(DeviceId),
    /// Waited too long for the link to become ready.
    #[error(
        "the phone link did not connect within {0:?}; check the broker URL and that the broker is running"
    )]
    NotReady(Duration),
}

/// Counters for `reins status` and tests. Cheap to update (relaxed atomics).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) unauthentic: AtomicU64,
    pub(crate) retained: AtomicU64,
    pub(crate) unknown_topic: AtomicU64,
    pub(crate) backlog: AtomicU64,
    pub(crate) published: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// A snapshot of the link's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkMetrics {
    /// Messages received from the broker (all topics).
    pub received: u64,
    /// Authentic messages emitted as [`LinkEvent::FromPhone`].
    pub delivered: u64,
    /// QoS1 redeliveries / in-window replays dropped silently.
    pub duplicates: u64,
    /// Messages that failed to open (garbage, forged, stale, wrong topic...).
    pub unauthentic: u64,
    /// Retained messages dropped unread.
    pub retained: u64,
    /// Messages on topics we do not know (e.g. just after a revoke).
    pub unknown_topic: u64,
    /// Phone messages dropped because the daemon's event queue was full.
    pub backlog: u64,
    /// Envelopes and raw messages handed to the broker connection.
    pub published: u64,
}

pub(crate) enum Command {
    Send(
        Recipient,
        Payload,
        oneshot::Sender<Result<Vec<Sent>, LinkError>>,
    ),
    AddDevice(
        Box<PairedPhone>,
        oneshot::Sender<Result<DeviceInfo, LinkError>>,
    ),
    Revoke(DeviceId, oneshot::Sender<Result<bool, LinkError>>),
    Rename(
        DeviceId,
        String,
        oneshot::Sender<Result<DeviceInfo, LinkError>>,
    ),
    Devices(oneshot::Sender<Vec<DeviceInfo>>),
    SubscribeRaw(String, oneshot::Sender<mpsc::Receiver<RawMessage>>),
    UnsubscribeRaw(String, oneshot::Sender<()>),
    PublishRaw(String, Vec<u8>, oneshot::Sender<Result<(), LinkError>>),
}

/// Starts links.
#[derive(Debug)]
pub struct Link;

impl Link {
    /// Spawns the link on the current tokio runtime. Returns the handle and
    /// the stream of authentic phone messages.
    pub fn start(
        config: LinkConfig,
        store: DeviceStore,
    ) -> Result<(LinkHandle, mpsc::Receiver<LinkEvent>), LinkError> {
        crate::link_task::spawn(config, store)
    }
}

/// A cloneable handle to the link task.
#[derive(Clone, Debug)]
pub struct LinkHandle {
    pub(crate) cmd: mpsc::Sender<Command>,
    pub(crate) status: watch::Receiver<LinkStatus>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) cancel: CancellationToken,
    pub(crate) tracker: TaskTracker,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl LinkHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, LinkError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(make(tx))
            .await
            .map_err(|_| LinkError::Stopped)?;
        rx.await.map_err(|_| LinkError::Stopped)
    }

    /// Seals `payload` for `to` (persisting each device's seq first) and
    /// publishes it. With [`Recipient::All`], devices that fail are logged
    /// and skipped; the call fails only if none could be sent to.
    pub async fn send(&self, to: Recipient, payload: Payload) -> Result<Vec<Sent>, LinkError> {
        self.ask(|tx| Command::Send(to, payload, tx)).await?
    }

    /// Stores a paired phone and subscribes to its topic.
    pub async fn add_device(&self, paired: PairedPhone) -> Result<DeviceInfo, LinkError> {
        self.ask(|tx| Command::AddDevice(Box::new(paired), tx))
            .await?
    }

    /// Deletes the device's K and state and unsubscribes its topic. From
    /// the moment this returns, its messages are dropped.
    pub async fn revoke(&self, id: DeviceId) -> Result<bool, LinkError> {
        self.ask(|tx| Command::Revoke(id, tx)).await?
    }

    /// Renames a device.
    pub async fn rename(&self, id: DeviceId, name: &str) -> Result<DeviceInfo, LinkError> {
        self.ask(|tx| Command::Rename(id, name.to_owned(), tx))
            .await?
    }

    /// The paired devices.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>, LinkError> {
        self.ask(Command::Devices).await
    }

    /// Subscribes to a non-device topic (the pairing topic) and returns its
    /// untrusted messages. Re-subscribed after reconnects until
    /// [`LinkHandle::unsubscribe_raw`].
    pub async fn subscribe_raw(
        &self,
        topic: &str,
    ) -> Result<mpsc::Receiver<RawMessage>, LinkError> {
        self.ask(|tx| Command::SubscribeRaw(topic.to_owned(), tx))
            .await
    }

    /// Ends a raw subscription.
    pub async fn unsubscribe_raw(&self, topic: &str) -> Result<(), LinkError> {
        self.ask(|tx| Command::UnsubscribeRaw(topic.to_owned(), tx))
            .await
    }

    /// Publishes already-sealed bytes (QoS 1, never retained).
    pub async fn publish_raw(&self, topic: &str, bytes: Vec<u8>) -> Result<(), LinkError> {
        self.ask(|tx| Command::PublishRaw(topic.to_owned(), bytes, tx))
            .await?
    }

    /// A receiver of the connection status (for `reins status`).
    pub fn status(&self) -> watch::Receiver<LinkStatus> {
        self.status.clone()
    }

    /// Waits until connected and subscribed, at most `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), LinkError> {
        let mut rx = self.status.clone();
        match tokio::time::timeout(timeout, rx.wait_for(LinkStatus::is_ready)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(LinkError::Stopped),
            Err(_) => Err(LinkError::NotReady(timeout)),
        }
    }

    /// The counters.
    pub fn metrics(&self) -> LinkMetrics {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LinkMetrics {
            received: g(&c.received),
            delivered: g(&c.delivered),
            duplicates: g(&c.duplicates),
            unauthentic: g(&c.unauthentic),
            retained: g(&c.retained),
            unknown_topic: g(&c.unknown_topic),
            backlog: g(&c.backlog),
            published: g(&c.published),
        }
    }

    /// Stops the link and waits for its tasks. The broker sees the socket
    /// close without a DISCONNECT and publishes our (empty) Last Will.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
