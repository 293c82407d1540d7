//! Brokers and observers for the phone-link end-to-end tests: a real
//! Mosquitto on a free loopback port (stopped and restarted at will), a
//! raw `#` subscriber that records everything the broker would show anyone,
//! and a relay that can hold back the broker's SUBACKs to one client.
//!
//! Only phone tests include it (`#[path = "common/mqtt.rs"] mod mqtt;`). It
//! knows nothing of the Reins protocol, pairs nothing and holds no test.
#![allow(dead_code)]

use crate::common::T;
use crate::common::spawn_retrying;
use crate::phone::free_port;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use tokio::sync::watch;

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Topic and payload of every publish seen.
pub type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A raw subscriber on `#`: everything the broker would show anyone.
pub struct Sniffer {
    seen: Seen,
    _client: AsyncClient,
}

impl Sniffer {
    /// Subscribes to `#` on the broker at `port` and waits for the SUBACK.
    pub fn start(rt: &Runtime, port: u16) -> Self {
        let _guard = rt.enter();
        let mut o = MqttOptions::new("sniffer", "127.0.0.1", port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut el) = AsyncClient::new(o, 100);
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let s = seen.clone();
        rt.block_on(client.subscribe("#", QoS::AtMostOnce)).unwrap();
        rt.spawn(async move {
            let mut ready = Some(ready_tx);
            while let Ok(ev) = el.poll().await {
                match ev {
                    Event::Incoming(Packet::SubAck(_)) => {
                        if let Some(t) = ready.take() {
                            let _ = t.send(());
                        }
                    }
                    Event::Incoming(Packet::Publish(p)) => s
                        .lock()
                        .unwrap()
                        .push((p.topic.clone(), p.payload.to_vec())),
                    _ => {}
                }
            }
        });
        rt.block_on(tokio::time::timeout(T, ready_rx))
            .unwrap()
            .unwrap();
        Sniffer {
            seen,
            _client: client,
        }
    }

    /// Every publish so far, one `topic payload` line each.
    pub fn everything(&self) -> String {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(t, b)| format!("{t} {}\n", String::from_utf8_lossy(b)))
            .collect()
    }
}

/// The port at the end of a broker URL.
pub fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// A real Mosquitto on free loopback ports, killed on drop.
pub struct Mosquitto {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts it on a free port and waits until it accepts connections.
    pub fn start() -> Self {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "Mosquitto is required: run `apt-get install -y mosquitto`"
        );
        let port = free_port();
        let mut m = Mosquitto {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        m.spawn();
        m
    }

    /// (Re)starts the process on the same port; waits until it accepts.
    pub fn spawn(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "allow_anonymous true\npersistence false\nlistener {} 127.0.0.1\n",
                self.port
            ),
        )
        .unwrap();
        let mut cmd = Command::new(MOSQUITTO);
        cmd.arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(spawn_retrying(&mut cmd));
        let lo = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        assert!(reins_link::broker::wait_until_accepting(lo, self.port, T));
    }

    /// Kills it: the broker goes away for everyone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The URL to put in `[link] broker`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP relay in front of a broker that can hold back every SUBACK (and,
/// since MQTT is ordered, everything after it) going to its clients, while
/// their own packets still reach the broker: a subscription that stays
/// unacknowledged for as long as a test needs.
pub struct SubAckHold {
    pub port: u16,
    held: watch::Sender<bool>,
}

impl SubAckHold {
    /// Relays `127.0.0.1:<port>` to the broker on `upstream`.
    pub fn start(rt: &Runtime, upstream: u16) -> Self {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (held, held_rx) = watch::channel(false);
        rt.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(broker) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    continue;
                };
                let (mut from_client, to_client) = client.into_split();
                let (from_broker, mut to_broker) = broker.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_client, &mut to_broker).await;
                });
                tokio::spawn(relay_holding_subacks(
                    from_broker,
                    to_client,
                    held_rx.clone(),
                ));
            }
        });
        SubAckHold { port, held }
    }

    /// From now on, SUBACKs wait.
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Lets every held SUBACK through.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// Reads one whole MQTT control packet (fixed header, variable-length
/// remaining length, body), for relays that pass packets on one by one.
pub async fn read_packet(from: &mut tokio::net::tcp::OwnedReadHalf) -> std::io::Result<Vec<u8>> {
    let mut packet = vec![from.read_u8().await?];
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let b = from.read_u8().await?;
        packet.push(b);
        len |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    let start = packet.len();
    packet.resize(start + len, 0);
    from.read_exact(&mut packet[start..]).await?;
    Ok(packet)
}

/// MQTT control packet type of SUBACK (the high nibble of the first byte).
const SUBACK: u8 = 9;

/// Copies broker→client packet by packet (fixed header, variable-length
/// remaining length, body), waiting before a SUBACK while `held` is true.
async fn relay_holding_subacks(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut held: watch::Receiver<bool>,
) -> std::io::Result<()> {
    loop {
        let packet = read_packet(&mut from).await?;
        if packet[0] >> 4 == SUBACK && held.wait_for(|h| !*h).await.is_err() {
            return Ok(());
        }
        to.write_all(&packet).await?;
    }
}
