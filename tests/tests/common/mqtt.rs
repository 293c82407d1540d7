//! Brokers and observers for the phone-link end-to-end tests: a real
//! Mosquitto on a free loopback port (stopped and restarted at will) and a
//! raw `#` subscriber that records everything the broker would show anyone.
//!
//! Only phone tests include it (`#[path = "common/mqtt.rs"] mod mqtt;`). It
//! knows nothing of the Reins protocol, pairs nothing and holds no test.
#![allow(dead_code)]

use crate::common::spawn_retrying;
use crate::phone::{T, free_port};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::runtime::Runtime;

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
