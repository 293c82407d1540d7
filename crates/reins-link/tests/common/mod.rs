//! Shared test fixtures: brokers (embedded rumqttd and a real Mosquitto),
//! a desktop (store + link), pairing a test phone, and a `#` sniffer.
#![allow(dead_code)]

use reins_link::broker::wait_until_accepting;
use reins_link::pair::{CodePrompt, PairingOptions, PairingSession};
use reins_link::{
    BackoffPolicy, BrokerConfig, DeviceId, DeviceInfo, DeviceStore, EmbeddedBroker,
    EmbeddedBrokerConfig, Link, LinkConfig, LinkEvent, LinkHandle, MemorySecretStore, PhoneClient,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// Failure guard for anything that should take milliseconds.
pub const T: Duration = Duration::from_secs(10);

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// The process-wide embedded broker (rumqttd has no shutdown).
pub fn embedded() -> EmbeddedBroker {
    static B: OnceLock<EmbeddedBroker> = OnceLock::new();
    *B.get_or_init(|| {
        EmbeddedBroker::start(&EmbeddedBrokerConfig::localhost()).expect("embedded broker")
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real Mosquitto on free loopback ports, killed on drop.
pub struct Mosquitto {
    pub port: u16,
    pub ws_port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Mosquitto {
    pub fn start() -> Self {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "Mosquitto is required for these tests: run `apt-get install -y mosquitto mosquitto-clients`"
        );
        let mut m = Self {
            port: free_port(),
            ws_port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        m.spawn();
        m
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    /// Starts the process again (after `stop`) on the same ports.
    pub fn spawn(&mut self) {
        let conf = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             log_dest stdout\nlog_type all\nconnection_messages true\n\
             listener {} 127.0.0.1\nprotocol mqtt\n\
             listener {} 127.0.0.1\nprotocol websockets\n",
            self.port, self.ws_port
        );
        std::fs::write(self.conf(), conf).unwrap();
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.conf())
            .stdout(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.log_file())
                    .unwrap(),
            ))
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        self.child = Some(child);
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(
            wait_until_accepting(lo, self.port, T),
            "mosquitto did not accept on {}",
            self.port
        );
        assert!(
            wait_until_accepting(lo, self.ws_port, T),
            "mosquitto ws did not accept"
        );
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill and start again on the same ports.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/mqtt", self.ws_port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A desktop: a data dir, a store and a running link.
pub struct Desktop {
    pub dir: PathBuf,
    pub secrets: MemorySecretStore,
    pub link: LinkHandle,
    pub events: mpsc::Receiver<LinkEvent>,
    pub broker: BrokerConfig,
}

pub fn fast_backoff() -> BackoffPolicy {
    BackoffPolicy {
        base: Duration::from_millis(100),
        cap: Duration::from_millis(1000),
    }
}

impl Desktop {
    /// Starts the link on `broker` and waits until it is connected.
    pub async fn start(broker_url: &str, dir: &Path, secrets: MemorySecretStore) -> Self {
        let desk = Self::launch(BrokerConfig::parse(broker_url).unwrap(), dir, secrets);
        desk.link.wait_ready(T).await.unwrap();
        desk
    }

    /// Starts the link on `broker` without waiting for it to connect.
    pub fn launch(broker: BrokerConfig, dir: &Path, secrets: MemorySecretStore) -> Self {
        let store = DeviceStore::open(dir, Arc::new(secrets.clone())).unwrap();
        let mut cfg = LinkConfig::new(broker.clone());
        cfg.backoff = fast_backoff();
        let (link, events) = Link::start(cfg, store).unwrap();
        Self {
            dir: dir.to_owned(),
            secrets,
            link,
            events,
            broker,
        }
    }

    pub fn identity(&self) -> reins_proto::IdentityKeyPair {
        DeviceStore::open(&self.dir, Arc::new(self.secrets.clone()))
            .unwrap()
            .identity()
            .unwrap()
    }

    /// Shut down and start again with the same data dir and secrets.
    pub async fn restart(self) -> Self {
        self.link.shutdown().await;
        let desk = Desktop::launch(self.broker.clone(), &self.dir, self.secrets.clone());
        desk.link.wait_ready(T).await.unwrap();
        desk
    }

    /// The next event, or None if nothing arrives within `within`.
    pub async fn next_event(&mut self, within: Duration) -> Option<LinkEvent> {
        tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()
    }
}

/// Pairs a new phone through `phone_url` (what the phone connects to).
/// Returns the phone and the stored device, once the desktop got the
/// phone's `presence {"online":true}` (docs/protocol.md §5), so the next
/// event a test sees is its own.
pub async fn pair_phone(
    desk: &mut Desktop,
    phone_url: &str,
    name: &str,
) -> (PhoneClient, DeviceInfo) {
    pair_phone_on(desk, &BrokerConfig::parse(phone_url).unwrap(), name).await
}

/// [`pair_phone`] with the phone's full broker settings (CA file,
/// credentials); the pairing URL carries `phone_broker.url`.
pub async fn pair_phone_on(
    desk: &mut Desktop,
    phone_broker: &BrokerConfig,
    name: &str,
) -> (PhoneClient, DeviceInfo) {
    let identity = desk.identity();
    let opts = PairingOptions::new(vec![phone_broker.url.clone()], "Test desktop");
    let session = PairingSession::start(&desk.link, &identity, &opts)
        .await
        .unwrap();
    let url = session.url().to_owned();
    let (code_tx, code_rx) = tokio::sync::oneshot::channel::<CodePrompt>();
    let desktop = tokio::spawn(async move {
        session
            .run(
                |prompt| async move {
                    let _ = code_tx.send(prompt);
                    true
                },
                |_| {},
            )
            .await
    });
    let mut phone = PhoneClient::connect(phone_broker, T).await.unwrap();
    let pending = phone.begin_pairing(&url, name, T).await.unwrap();
    let phone_code = pending.code;
    let desktop_name = phone.finish_pairing(pending, T).await.unwrap();
    assert_eq!(desktop_name, "Test desktop");
    let prompt = code_rx.await.unwrap();
    assert_eq!(prompt.code, phone_code, "both screens show the same code");
    assert_eq!(prompt.device_name, name);
    let info = desktop.await.unwrap().unwrap();
    let announced = desk.next_event(T).await;
    let online = reins_proto::Payload::Presence(reins_proto::payload::Presence { online: true });
    match announced {
        Some(LinkEvent::FromPhone {
            device_id, payload, ..
        }) if payload == online => assert_eq!(device_id.to_string(), info.id),
        other => panic!("the phone did not announce itself after pairing: {other:?}"),
    }
    (phone, info)
}

pub fn device_id(info: &DeviceInfo) -> DeviceId {
    info.id.parse().unwrap()
}

/// One recorded publish.
#[derive(Clone, Debug)]
pub struct Seen {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// A subscriber on `#` that records everything it sees.
pub struct Sniffer {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
    _client: AsyncClient,
}

impl Sniffer {
    pub async fn start(port: u16) -> Self {
        let mut o = MqttOptions::new("sniffer", "127.0.0.1", port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut el) = AsyncClient::new(o, 100);
        client.subscribe("#", QoS::AtMostOnce).await.unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut ready_tx = Some(ready_tx);
        let s = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok(ev) = el.poll().await {
                match ev {
                    Event::Incoming(Packet::SubAck(_)) => {
                        if let Some(t) = ready_tx.take() {
                            let _ = t.send(());
                        }
                    }
                    Event::Incoming(Packet::Publish(p)) => s.lock().unwrap().push(Seen {
                        topic: p.topic.clone(),
                        payload: p.payload.to_vec(),
                        retain: p.retain,
                    }),
                    _ => {}
                }
            }
        });
        tokio::time::timeout(T, ready_rx).await.unwrap().unwrap();
        Self {
            seen,
            task,
            _client: client,
        }
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn stop(self) -> Vec<Seen> {
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

pub fn stop_all() -> reins_proto::Payload {
    reins_proto::Payload::Command(reins_proto::payload::Command::stop_all())
}
