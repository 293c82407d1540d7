//! The link actor: one task that owns the rumqttc client handle, the
//! [`DeviceStore`] and the topic→device map. It reacts to [`Command`]s from
//! [`LinkHandle`]s and [`NetEvent`]s from the connection task.
//!
//! Not here: the public types ([`crate::link`]) and socket polling and
//! backoff ([`crate::conn`]).

use crate::conn::{self, NetEvent};
use crate::link::{
    Command, ConnState, Counters, LinkConfig, LinkError, LinkEvent, LinkHandle, LinkStatus,
    RAW_QUEUE, RawMessage, Recipient, Sent,
};
use crate::store::{DeviceId, DeviceStore};
use crate::{broker_url::random_client_id, now_ms};
use reins_proto::{OpenError, Payload};
use rumqttc::{AsyncClient, LastWill, QoS, SubscribeFilter};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Commands queued from handles before callers wait.
const COMMAND_QUEUE: usize = 64;

pub(crate) fn spawn(
    config: LinkConfig,
    store: DeviceStore,
) -> Result<(LinkHandle, mpsc::Receiver<LinkEvent>), LinkError> {
    let options = config.broker.mqtt_options(&random_client_id())?;
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    let (will_tx, will_rx) = watch::channel(will_for(&store));
    let (client, net) = conn::spawn(
        options,
        config.backoff,
        will_rx,
        cancel.child_token(),
        &tracker,
    );
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(config.event_capacity.max(1));
    let (status_tx, status_rx) = watch::channel(LinkStatus {
        state: ConnState::Connecting,
        broker: config.broker.url.clone(),
        last_error: None,
        subscribed: false,
        connects: 0,
    });
    let counters = Arc::new(Counters::default());
    let mut actor = Actor {
        client,
        store,
        topics: HashMap::new(),
        raw: HashMap::new(),
        events: ev_tx,
        status: status_tx,
        will: will_tx,
        counters: counters.clone(),
        pending_subacks: 0,
    };
    actor.rebuild_topics();
    let token = cancel.clone();
    tracker.spawn(async move { actor.run(cmd_rx, net, token).await });
    let handle = LinkHandle {
        cmd: cmd_tx,
        status: status_rx,
        counters,
        cancel,
        tracker,
    };
    Ok((handle, ev_rx))
}

struct Actor {
    client: AsyncClient,
    store: DeviceStore,
    /// Receive topic → device.
    topics: HashMap<String, DeviceId>,
    raw: HashMap<String, mpsc::Sender<RawMessage>>,
    events: mpsc::Sender<LinkEvent>,
    status: watch::Sender<LinkStatus>,
    will: watch::Sender<Option<LastWill>>,
    counters: Arc<Counters>,
    pending_subacks: usize,
}

impl Actor {
    async fn run(
        &mut self,
        mut cmds: mpsc::Receiver<Command>,
        mut net: mpsc::Receiver<NetEvent>,
        cancel: CancellationToken,
    ) {
        loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                cmd = cmds.recv() => match cmd {
                    Some(c) => self.on_command(c),
                    None => break,
                },
                ev = net.recv() => match ev {
                    Some(e) => self.on_net(e),
                    None => break,
                },
            }
        }
        cancel.cancel();
        self.status.send_modify(|s| {
            s.state = ConnState::Stopped;
            s.subscribed = false;
        });
    }

    fn connected(&self) -> bool {
        self.status.borrow().state == ConnState::Connected
    }

    fn rebuild_topics(&mut self) {
        self.topics.clear();
        for id in self.store.ids() {
            if let Some(d) = self.store.get(&id) {
                self.topics.insert(d.channel.recv_topic().to_owned(), id);
            }
        }
        if let Some(w) = will_for(&self.store) {
            // Takes effect at the next (re)connection.
            self.will.send_replace(Some(w));
        }
    }

    fn subscribe(&mut self, topics: Vec<String>) {
        if topics.is_empty() || !self.connected() {
            return; // (re)subscribed on the next CONNACK
        }
        let filters = topics
            .into_iter()
            .map(|t| SubscribeFilter::new(t, QoS::AtLeastOnce));
        if self.client.try_subscribe_many(filters).is_ok() {
            self.pending_subacks += 1;
            self.status.send_modify(|s| s.subscribed = false);
        }
    }

    fn all_topics(&self) -> Vec<String> {
        self.topics.keys().chain(self.raw.keys()).cloned().collect()
    }

    fn on_net(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Connected => {
                self.pending_subacks = 0;
                self.status.send_modify(|s| {
                    s.state = ConnState::Connected;
                    s.connects += 1;
                    s.subscribed = true;
                });
                let topics = self.all_topics();
                self.subscribe(topics);
            }
            NetEvent::BackingOff {
                error,
                delay,
                attempt,
            } => {
                self.pending_subacks = 0;
                self.status.send_modify(|s| {
                    s.state = ConnState::BackingOff {
                        retry_in: delay,
                        attempt,
                    };
                    s.subscribed = false;
                    s.last_error = Some(error);
                });
            }
            NetEvent::SubAck => {
                self.pending_subacks = self.pending_subacks.saturating_sub(1);
                if self.pending_subacks == 0 && self.connected() {
                    self.status.send_modify(|s| s.subscribed = true);
                }
            }
            NetEvent::Publish(p) => self.on_publish(p),
        }
    }

    fn on_publish(&mut self, p: rumqttc::Publish) {
        Counters::bump(&self.counters.received);
        if p.retain {
            // Commands and approvals are never retained; a retained message
            // is stale by construction (or planted). Drop it unread.
            Counters::bump(&self.counters.retained);
            tracing::debug!("dropped a retained message");
            return;
        }
        let topic = p.topic.as_str();
        if let Some(tx) = self.raw.get(topic) {
            let msg = RawMessage {
                topic: topic.to_owned(),
                payload: p.payload.to_vec(),
            };
            if tx.try_send(msg).is_err() {
                Counters::bump(&self.counters.backlog);
            }
            return;
        }
        let Some(&id) = self.topics.get(topic) else {
            Counters::bump(&self.counters.unknown_topic);
            return;
        };
        // Reserve room for the event first: if the daemon is behind, drop the
        // message *before* the replay window records it.
        let Ok(permit) = self.events.try_reserve() else {
            Counters::bump(&self.counters.backlog);
            tracing::warn!("daemon event queue full; dropped a phone message");
            return;
        };
        let Some(dev) = self.store.get_mut(&id) else {
            return;
        };
        let mut window = dev.replay.clone();
        let result = dev.channel.open(topic, &p.payload, &mut window, now_ms());
        if window != dev.replay {
            let old = std::mem::replace(&mut dev.replay, window);
            if let Err(e) = self.store.persist(&id) {
                tracing::error!(device = %id, error = %e, "cannot save the replay window; message dropped");
                if let Some(dev) = self.store.get_mut(&id) {
                    dev.replay = old;
                }
                return;
            }
        }
        match result {
            Ok(inc) => {
                Counters::bump(&self.counters.delivered);
                permit.send(LinkEvent::FromPhone {
                    device_id: id,
                    payload: inc.payload,
                    msg_id: inc.header.msg_id,
                });
            }
            Err(OpenError::Duplicate) => Counters::bump(&self.counters.duplicates),
            Err(e) => {
                Counters::bump(&self.counters.unauthentic);
                tracing::debug!(device = %id, error = %e, "dropped a message that did not open");
            }
        }
    }

    fn publish(&self, topic: &str, bytes: Vec<u8>) -> Result<(), LinkError> {
        self.client
            .try_publish(topic, QoS::AtLeastOnce, false, bytes)
            .map_err(|_| LinkError::Backlogged)?;
        Counters::bump(&self.counters.published);
        Ok(())
    }

    fn send_one(&mut self, id: DeviceId, payload: &Payload) -> Result<Sent, LinkError> {
        if self.store.get(&id).is_none() {
            return Err(LinkError::NoSuchDevice(id));
        }
        // The seq is on disk before it is used; written in blocks, not per
        // message (store::SEQ_BLOCK).
        self.store.reserve_out_seq(&id)?;
        let dev = self.store.get_mut(&id).ok_or(LinkError::NoSuchDevice(id))?;
        let mut seq = dev.out_seq;
        let out = dev
            .channel
            .seal(&mut seq, payload, now_ms(), &mut rand::rngs::OsRng)?;
        dev.out_seq = seq;
        self.publish(&out.topic, out.bytes)?;
        Ok(Sent {
            device_id: id,
            msg_id: out.msg_id,
            seq: out.seq,
        })
    }

    fn send(&mut self, to: Recipient, payload: &Payload) -> Result<Vec<Sent>, LinkError> {
        match to {
            Recipient::Device(id) => Ok(vec![self.send_one(id, payload)?]),
            Recipient::All => {
                let mut sent = Vec::new();
                let mut last_err = None;
                for id in self.store.ids() {
                    match self.send_one(id, payload) {
                        Ok(s) => sent.push(s),
                        Err(e) => {
                            tracing::warn!(device = %id, error = %e, "could not send to a phone");
                            last_err = Some(e);
                        }
                    }
                }
                match (sent.is_empty(), last_err) {
                    (true, Some(e)) => Err(e),
                    _ => Ok(sent),
                }
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Send(to, payload, reply) => {
                let _ = reply.send(self.send(to, &payload));
            }
            Command::AddDevice(paired, reply) => {
                let r = self.store.add(&paired, now_ms()).map_err(LinkError::from);
                if r.is_ok() {
                    self.rebuild_topics();
                    let topic = PairTopic::recv(&paired);
                    self.subscribe(vec![topic]);
                }
                let _ = reply.send(r);
            }
            Command::Revoke(id, reply) => {
                let topic = self
                    .store
                    .get(&id)
                    .map(|d| d.channel.recv_topic().to_owned());
                let r = self.store.revoke(&id).map_err(LinkError::from);
                self.rebuild_topics();
                if let Some(t) = topic {
                    if self.connected() {
                        let _ = self.client.try_unsubscribe(t);
                    }
                }
                let _ = reply.send(r);
            }
            Command::Rename(id, name, reply) => {
                let _ = reply.send(self.store.rename(&id, &name).map_err(LinkError::from));
            }
            Command::Devices(reply) => {
                let _ = reply.send(self.store.list());
            }
            Command::SubscribeRaw(topic, reply) => {
                let (tx, rx) = mpsc::channel(RAW_QUEUE);
                self.raw.insert(topic.clone(), tx);
                self.subscribe(vec![topic]);
                let _ = reply.send(rx);
            }
            Command::UnsubscribeRaw(topic, reply) => {
                if self.raw.remove(&topic).is_some() && self.connected() {
                    let _ = self.client.try_unsubscribe(topic);
                }
                let _ = reply.send(());
            }
            Command::PublishRaw(topic, bytes, reply) => {
                let _ = reply.send(self.publish(&topic, bytes));
            }
        }
    }
}

/// The Last Will: an empty, non-retained message on the first device's
/// desktop presence topic. One connection has one will, so only one phone
/// gets it; it is advisory anyway (docs/protocol.md §5) and authenticated
/// liveness comes from heartbeats.
fn will_for(store: &DeviceStore) -> Option<LastWill> {
    let id = store.ids().into_iter().next()?;
    let d = store.get(&id)?;
    let topic = format!(
        "{}{}",
        d.info.topic_prefix,
        d.channel.keys().d2p_presence_topic_id
    );
    Some(LastWill::new(topic, Vec::new(), QoS::AtLeastOnce, false))
}

/// The desktop's receive topic of a freshly paired phone.
struct PairTopic;

impl PairTopic {
    fn recv(p: &reins_proto::pairing::PairedPhone) -> String {
        let keys = p.key.channel_keys();
        format!("{}{}", p.topic_prefix, keys.p2d_topic_id)
    }
}
