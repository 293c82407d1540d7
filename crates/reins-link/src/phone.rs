//! A Rust "phone": connects to a broker, pairs from a pairing URL with
//! `reins_proto::pairing::PhonePairing`, then sends commands/decisions and
//! receives snapshots/requests through the same sealed envelope as the
//! browser client. Used by this crate's tests, benchmarks and the CLI's
//! integration tests; it also exposes raw publishing so tests can play the
//! attacker on the same broker.
//!
//! Like the protocol asks (docs/protocol.md §5), it sends
//! `presence {"online":true}` once its paired receive topic is subscribed:
//! after pairing and after every re-subscription, so the desktop answers
//! with a resync. Its d2p replay window is the one that opened
//! `pairing_accepted` (one window per peer and direction, §8).
//!
//! It keeps its state in memory only. Not a production phone app.

use crate::backoff::BackoffPolicy;
use crate::broker_url::{BrokerConfig, BrokerUrlError, random_client_id};
use crate::conn::{self, NetEvent};
use crate::now_ms;
use reins_proto::pairing::{
    PairingFailure, PairingOffer, PhoneAction, PhoneInput, PhonePairing, StartError,
};
use reins_proto::payload::{ApprovalDecision, ApprovalRequest, Decision, Presence, Scope};
use reins_proto::{
    IdentityKeyPair, Incoming, OpenError, Outgoing, OutgoingSeq, PairChannel, PairKey, Payload,
    ReplayWindow, Role, VerificationCode,
};
use rumqttc::{AsyncClient, QoS};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why a phone operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// Bad broker settings.
    #[error(transparent)]
    Broker(#[from] BrokerUrlError),
    /// Not a pairing URL.
    #[error("not a valid pairing link: {0}")]
    Offer(#[from] reins_proto::pairing::OfferError),
    /// The offer was refused locally (expired, bad key or name).
    #[error("cannot pair: {0}")]
    Start(#[from] StartError),
    /// The desktop will never accept this pairing link: another phone used
    /// it first, or this link was already used to pair.
    #[error("this pairing link was already used; run `reins pair` again for a new one")]
    AlreadyUsed,
    /// The desktop refused or the offer expired.
    #[error("pairing failed: {0}")]
    Failed(PairingFailure),
    /// Nothing arrived in time.
    #[error("timed out after {0:?}; is the desktop running and on the same broker?")]
    Timeout(Duration),
    /// Sending requires a completed pairing.
    #[error("this phone is not paired yet; call pair() first")]
    NotPaired,
    /// The MQTT request queue is full or closed.
    #[error("the broker connection is gone or backlogged")]
    Disconnected,
    /// Sealing failed.
    #[error("cannot seal: {0}")]
    Seal(#[from] reins_proto::SealError),
}

struct Paired {
    channel: PairChannel,
    replay: ReplayWindow,
    seq: OutgoingSeq,
}

/// A started pairing: the code to compare, then [`PhoneClient::finish_pairing`].
#[derive(Debug)]
pub struct PendingPairing {
    machine: PhonePairing,
    topic: String,
    /// The code this phone shows.
    pub code: VerificationCode,
}

/// A test phone on one broker.
pub struct PhoneClient {
    client: AsyncClient,
    events: mpsc::Receiver<NetEvent>,
    backlog: VecDeque<rumqttc::Publish>,
    topics: Vec<String>,
    /// SUBACKs still due for the re-subscriptions after a reconnection.
    resubscribing: usize,
    paired: Option<Paired>,
    cancel: CancellationToken,
    tracker: TaskTracker,
}

impl std::fmt::Debug for PhoneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneClient")
            .field("paired", &self.paired.is_some())
            .finish_non_exhaustive()
    }
}

impl PhoneClient {
    /// Connects (random opaque client id) and waits for the CONNACK.
    pub async fn connect(broker: &BrokerConfig, timeout: Duration) -> Result<Self, PhoneError> {
        let options = broker.mqtt_options(&random_client_id())?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (_will_tx, will_rx) = watch::channel(None);
        let policy = BackoffPolicy {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(500),
        };
        let (client, events) = conn::spawn(options, policy, will_rx, cancel.clone(), &tracker);
        let mut me = Self {
            client,
            events,
            backlog: VecDeque::new(),
            topics: Vec::new(),
            resubscribing: 0,
            paired: None,
            cancel,
            tracker,
        };
        me.wait_for(timeout, |e| matches!(e, NetEvent::Connected))
            .await?;
        Ok(me)
    }

    /// A phone that is already paired with `key` (tests that skip pairing,
    /// or play a phone whose key leaked), with a fresh d2p window. It does
    /// not announce itself; [`PhoneClient::announce`] does.
    pub async fn with_key(
        broker: &BrokerConfig,
        key: &PairKey,
        topic_prefix: &str,
        timeout: Duration,
    ) -> Result<Self, PhoneError> {
        let mut me = Self::connect(broker, timeout).await?;
        me.adopt(key, topic_prefix, ReplayWindow::new(), timeout)
            .await?;
        Ok(me)
    }

    async fn adopt(
        &mut self,
        key: &PairKey,
        prefix: &str,
        d2p_replay: ReplayWindow,
        timeout: Duration,
    ) -> Result<(), PhoneError> {
        let channel = PairChannel::paired(Role::Phone, key, prefix)
            .map_err(|_| PhoneError::Start(StartError::BadTopic))?;
        self.subscribe(channel.recv_topic(), timeout).await?;
        self.paired = Some(Paired {
            channel,
            replay: d2p_replay,
            seq: OutgoingSeq::new(),
        });
        Ok(())
    }

    /// Sends `presence {"online":true}`: the desktop answers with a resync
    /// (agent snapshot, pending requests, heartbeat).
    pub fn announce(&mut self) -> Result<Outgoing, PhoneError> {
        self.send(&Payload::Presence(Presence { online: true }))
    }

    /// Answers `request`; `scope` only matters with allow (`None` = once).
    pub fn decide(
        &mut self,
        request: &ApprovalRequest,
        decision: Decision,
        scope: Option<Scope>,
    ) -> Result<Outgoing, PhoneError> {
        self.send(&Payload::ApprovalDecision(ApprovalDecision {
            request_id: request.request_id.clone(),
            action_hash: request.action_hash.clone(),
            decision,
            scope,
        }))
    }

    /// Bookkeeping for connection events: re-subscribes after a
    /// reconnection and announces itself once every SUBACK is back.
    fn on_net(&mut self, ev: &NetEvent) {
        match ev {
            NetEvent::Connected => {
                self.resubscribe();
                self.resubscribing = self.topics.len();
            }
            NetEvent::SubAck if self.resubscribing > 0 => {
                self.resubscribing -= 1;
                if self.resubscribing == 0 && self.paired.is_some() {
                    if let Err(e) = self.announce() {
                        tracing::debug!(error = %e, "test phone could not announce itself");
                    }
                }
            }
            _ => {}
        }
    }

    /// Waits for a matching event, buffering publishes that arrive meanwhile.
    async fn wait_for(
        &mut self,
        timeout: Duration,
        want: impl Fn(&NetEvent) -> bool,
    ) -> Result<(), PhoneError> {
        let deadline = Instant::now() + timeout;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| PhoneError::Timeout(timeout))?
                .ok_or(PhoneError::Disconnected)?;
            let hit = want(&ev);
            self.on_net(&ev);
            if let NetEvent::Publish(p) = ev {
                self.backlog.push_back(p);
            }
            if hit {
                return Ok(());
            }
        }
    }

    fn resubscribe(&self) {
        for t in &self.topics {
            let _ = self.client.try_subscribe(t.clone(), QoS::AtLeastOnce);
        }
    }

    /// Subscribes to `topic` and waits for the SUBACK.
    pub async fn subscribe(&mut self, topic: &str, timeout: Duration) -> Result<(), PhoneError> {
        self.topics.push(topic.to_owned());
        self.client
            .try_subscribe(topic, QoS::AtLeastOnce)
            .map_err(|_| PhoneError::Disconnected)?;
        self.wait_for(timeout, |e| matches!(e, NetEvent::SubAck))
            .await
    }

    /// After the broker went away: waits for the reconnection and for every
    /// subscription to be re-acknowledged (a paired phone then announces
    /// itself, see the module docs).
    pub async fn await_reconnect(&mut self, timeout: Duration) -> Result<(), PhoneError> {
        self.wait_for(timeout, |e| matches!(e, NetEvent::Connected))
            .await?;
        for _ in 0..self.topics.len() {
            self.wait_for(timeout, |e| matches!(e, NetEvent::SubAck))
                .await?;
        }
        Ok(())
    }

    /// The next publish from the broker, whatever it is.
    async fn next_publish(
        &mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<rumqttc::Publish, PhoneError> {
        loop {
            if let Some(p) = self.backlog.pop_front() {
                return Ok(p);
            }
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .map_err(|_| PhoneError::Timeout(timeout))?
                .ok_or(PhoneError::Disconnected)?;
            self.on_net(&ev);
            if let NetEvent::Publish(p) = ev {
                return Ok(p);
            }
        }
    }

    /// Scans `url`: subscribes to the pairing topic, publishes the hello and
    /// returns the code this phone shows.
    pub async fn begin_pairing(
        &mut self,
        url: &str,
        device_name: &str,
        timeout: Duration,
    ) -> Result<PendingPairing, PhoneError> {
        let offer = PairingOffer::from_url(url)?;
        let topic = offer.pairing_topic.clone();
        let identity = IdentityKeyPair::generate(&mut rand::rngs::OsRng);
        let (machine, actions) = PhonePairing::start(
            offer,
            &identity,
            device_name,
            now_ms(),
            &mut rand::rngs::OsRng,
        )?;
        self.subscribe(&topic, timeout).await?;
        let mut code = None;
        for a in actions {
            match a {
                PhoneAction::Publish(o) => self.publish_raw(&o.topic, o.bytes, false)?,
                PhoneAction::ShowCode(c) => code = Some(c),
                _ => {}
            }
        }
        let code = code.ok_or(PhoneError::Failed(PairingFailure::InvalidPeer("no code")))?;
        Ok(PendingPairing {
            machine,
            topic,
            code,
        })
    }

    /// Waits for the desktop's verdict; on success the phone is paired,
    /// subscribed to its receive topic (SUBACK received) and has sent
    /// `presence {"online":true}`. Returns the desktop's name.
    pub async fn finish_pairing(
        &mut self,
        mut pending: PendingPairing,
        timeout: Duration,
    ) -> Result<String, PhoneError> {
        let deadline = Instant::now() + timeout;
        loop {
            let p = self.next_publish(deadline, timeout).await?;
            if p.topic != pending.topic {
                continue;
            }
            let input = PhoneInput::Received {
                topic: &pending.topic,
                bytes: &p.payload,
            };
            for a in pending.machine.handle(input, now_ms()) {
                match a {
                    PhoneAction::Paired(d) => {
                        let _ = self.client.try_unsubscribe(pending.topic.clone());
                        self.topics.retain(|t| t != &pending.topic);
                        self.adopt(&d.key, &d.topic_prefix, d.d2p_replay, timeout)
                            .await?;
                        self.announce()?;
                        return Ok(d.desktop_name);
                    }
                    PhoneAction::Failed(PairingFailure::AlreadyUsed) => {
                        return Err(PhoneError::AlreadyUsed);
                    }
                    PhoneAction::Failed(f) => return Err(PhoneError::Failed(f)),
                    PhoneAction::Publish(o) => self.publish_raw(&o.topic, o.bytes, false)?,
                    _ => {}
                }
            }
        }
    }

    /// Seals and publishes `payload` to the desktop. Returns the message
    /// (tests replay its bytes).
    pub fn send(&mut self, payload: &Payload) -> Result<Outgoing, PhoneError> {
        let p = self.paired.as_mut().ok_or(PhoneError::NotPaired)?;
        let out = p
            .channel
            .seal(&mut p.seq, payload, now_ms(), &mut rand::rngs::OsRng)?;
        self.publish_raw(&out.topic, out.bytes.clone(), false)?;
        Ok(out)
    }

    /// Seals with a chosen timestamp (tests of stale messages).
    pub fn seal_at(&mut self, payload: &Payload, ts_ms: u64) -> Result<Outgoing, PhoneError> {
        let p = self.paired.as_mut().ok_or(PhoneError::NotPaired)?;
        Ok(p.channel
            .seal(&mut p.seq, payload, ts_ms, &mut rand::rngs::OsRng)?)
    }

    /// Publishes arbitrary bytes (QoS 1), optionally retained: the attacker's tool.
    pub fn publish_raw(&self, topic: &str, bytes: Vec<u8>, retain: bool) -> Result<(), PhoneError> {
        self.client
            .try_publish(topic, QoS::AtLeastOnce, retain, bytes)
            .map_err(|_| PhoneError::Disconnected)
    }

    /// The next authentic message from the desktop (others are skipped).
    pub async fn recv(&mut self, timeout: Duration) -> Result<Incoming, PhoneError> {
        let deadline = Instant::now() + timeout;
        loop {
            let msg = self.next_publish(deadline, timeout).await?;
            let p = self.paired.as_mut().ok_or(PhoneError::NotPaired)?;
            match p
                .channel
                .open(&msg.topic, &msg.payload, &mut p.replay, now_ms())
            {
                Ok(inc) => return Ok(inc),
                Err(OpenError::Duplicate) => {}
                Err(e) => tracing::debug!(error = %e, "test phone dropped a message"),
            }
        }
    }

    /// The paired channel (topics, ids), if paired.
    pub fn channel(&self) -> Option<&PairChannel> {
        self.paired.as_ref().map(|p| &p.channel)
    }

    /// Disconnects abruptly and stops the connection task.
    pub async fn close(self) {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
    }
}
