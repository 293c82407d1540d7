//! Transport latency through a broker: one sealed message at a time between
//! a desktop [`Link`] and a [`PhoneClient`] keyed with the same pair key,
//! through the embedded rumqttd and a real Mosquitto (with and without
//! `set_tcp_nodelay`), all on loopback.
//!
//! The link's device store lives in a tempdir, so its fsyncs hit a real
//! disk. Per broker, [`TRANSPORT_MSGS`] samples of each: phone `send` → the
//! link's `FromPhone` event (opened, replay window saved);
//! `LinkHandle::send` (send seq saved) → `PhoneClient::recv` (opened); and
//! phone → desktop again right after a desktop → phone message (the
//! daemon's pattern, which exposes Nagle-like stalls).
//!
//! Deliberately not measured here: throughput with many messages in flight,
//! TLS or WebSocket listeners, a remote network, pairing (the phone is
//! added to the device store directly), and any daemon or halt: the
//! command sent is never acted on. Seal/open alone is the crypto measure.

use super::{Reaped, T, es};
use crate::bench::Res;
use crate::bench::procs::spawn_retrying;
use crate::bench::stats::{Row, ms};
use reins_link::broker::wait_until_accepting;
use reins_link::{
    BrokerConfig, DeviceId, DeviceStore, Link, LinkConfig, LinkEvent, LinkHandle,
    MemorySecretStore, PhoneClient, Recipient,
};
use reins_proto::pairing::PairedPhone;
use reins_proto::payload::{self as p, CommandOp, Target};
use reins_proto::{PairKey, Payload};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Messages per direction and broker (the brief asks for at least 500).
const TRANSPORT_MSGS: usize = 1000;

/// The Mosquitto binary the transport measure starts.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// An error unless [`MOSQUITTO`] is installed.
pub(super) fn check_mosquitto() -> Res<()> {
    if !Path::new(MOSQUITTO).exists() {
        return Err(format!(
            "{MOSQUITTO} is missing; the phone measure needs a real Mosquitto: \
             apt-get install -y mosquitto"
        ));
    }
    Ok(())
}

/// A real Mosquitto on a free loopback port; killed and reaped on drop.
pub(super) struct Mosquitto {
    port: u16,
    _child: Reaped,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// `nodelay`: also set TCP_NODELAY on the broker's own sockets.
    pub(super) fn start(nodelay: bool) -> Res<Mosquitto> {
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let conf = dir.path().join("mosquitto.conf");
        let text = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             set_tcp_nodelay {nodelay}\nlog_dest none\nlistener {port} 127.0.0.1\nprotocol mqtt\n"
        );
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {conf:?}: {e}"))?;
        let mut cmd = Command::new(MOSQUITTO);
        cmd.arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let m = Mosquitto {
            port,
            _child: Reaped(spawn_retrying(&mut cmd)?),
            _dir: dir,
        };
        if !wait_until_accepting(IpAddr::V4(Ipv4Addr::LOCALHOST), port, T) {
            return Err(format!("mosquitto did not accept on port {port}"));
        }
        Ok(m)
    }

    pub(super) fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// Measure the broker at `url` (named `broker_name` in the rows).
pub(super) fn run(rt: &Runtime, url: &str, broker_name: &str, rows: &mut Vec<Row>) -> Res<()> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
    let (p2d, d2p, after) = rt.block_on(measure(url, dir.path()))?;
    let cond = format!(
        "{broker_name} on loopback, QoS 1, one message in flight, \
         `command` / `heartbeat` (~350 B on the wire)"
    );
    let m = "phone→desktop: phone publish → Link event (opened, replay saved)";
    rows.extend(Row::new(m, &cond, "ms", &p2d, None));
    let m = "desktop→phone: LinkHandle::send → PhoneClient opened";
    rows.extend(Row::new(m, &cond, "ms", &d2p, None));
    let m = "phone→desktop, right after a desktop→phone message";
    rows.extend(Row::new(m, &cond, "ms", &after, None));
    let nagle = p2d
        .iter()
        .chain(&d2p)
        .chain(&after)
        .filter(|&&x| x > 40.0)
        .count();
    if nagle > 0 {
        eprintln!("reins-bench: {broker_name}: {nagle} messages took > 40 ms (Nagle-like delays?)");
    }
    Ok(())
}

/// The three sample sets (ms): phone→desktop, desktop→phone, and
/// phone→desktop right after desktop→phone.
async fn measure(url: &str, dir: &Path) -> Res<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let broker = BrokerConfig::parse(url).map_err(es)?;
    let store = DeviceStore::open(dir, Arc::new(MemorySecretStore::new()))
        .map_err(|e| format!("cannot open a device store: {e}"))?;
    let (link, mut events) = Link::start(LinkConfig::new(broker.clone()), store).map_err(es)?;
    let result = async {
        link.wait_ready(T).await.map_err(es)?;
        let bytes: [u8; 32] = rand::random();
        let key = PairKey::from_bytes(bytes);
        let paired = PairedPhone {
            device_name: "bench phone".into(),
            phone_public: [9; 32],
            key: PairKey::from_bytes(bytes),
            topic_prefix: String::new(),
            code: key.verification_code(),
            out_seq: reins_proto::OutgoingSeq::new(),
        };
        let info = link.add_device(paired).await.map_err(es)?;
        let device = info.id.parse().map_err(|_| "bad device id")?;
        let mut phone = PhoneClient::with_key(&broker, &key, "", T)
            .await
            .map_err(es)?;
        let command = Payload::Command(p::Command {
            op: CommandOp::Stop,
            target: Target::Agent("claude-123456-98765432".into()),
        });
        // The link's subscription may lag add_device: send until one arrives.
        let mut live = false;
        for _ in 0..50 {
            let sent = phone.send(&command).map_err(es)?;
            let wait = tokio::time::timeout(Duration::from_millis(200), events.recv());
            if let Ok(Some(LinkEvent::FromPhone { msg_id, .. })) = wait.await {
                live = msg_id == sent.msg_id || live;
                break;
            }
        }
        if !live {
            return Err(format!("the link never received a phone message on {url}"));
        }
        let beat = Payload::Heartbeat(p::Heartbeat { interval_s: 30 });
        let mut d2p = Vec::with_capacity(TRANSPORT_MSGS);
        let (mut p2d, mut after) = (d2p.clone(), d2p.clone());
        // Plain phone→desktop, desktop→phone, then phone→desktop right
        // after the desktop published (the daemon's pattern: agent events,
        // acks), which leaves the broker's PUBACK to the link unacked.
        for i in 0..3 * TRANSPORT_MSGS {
            if i / TRANSPORT_MSGS == 2 {
                to_phone(&link, device, &beat, &mut phone).await?;
            }
            let t0 = Instant::now();
            if i / TRANSPORT_MSGS == 1 {
                to_phone(&link, device, &beat, &mut phone).await?;
                d2p.push(ms(t0.elapsed().as_micros() as u64));
                continue;
            }
            let sent = phone.send(&command).map_err(es)?;
            loop {
                match tokio::time::timeout(T, events.recv()).await {
                    Ok(Some(LinkEvent::FromPhone { msg_id, .. })) if msg_id == sent.msg_id => break,
                    Ok(Some(_)) => {}
                    _ => return Err(format!("a phone message was lost on {url}")),
                }
            }
            let v = if i < TRANSPORT_MSGS {
                &mut p2d
            } else {
                &mut after
            };
            v.push(ms(t0.elapsed().as_micros() as u64));
        }
        phone.close().await;
        Ok((p2d, d2p, after))
    }
    .await;
    link.shutdown().await;
    result
}

/// Desktop → phone: `beat` sent to `device` through the link, then opened
/// by the phone.
async fn to_phone(
    link: &LinkHandle,
    device: DeviceId,
    beat: &Payload,
    phone: &mut PhoneClient,
) -> Res<()> {
    link.send(Recipient::Device(device), beat.clone())
        .await
        .map_err(es)?;
    phone.recv(T).await.map_err(es)?;
    Ok(())
}
