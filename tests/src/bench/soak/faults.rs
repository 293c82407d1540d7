//! The soak's faults and the parts it restarts: a real Mosquitto that can
//! be restarted on the same port, and a flood of valid-looking but
//! unauthenticated messages on the daemon's phone topics.
//!
//! The daemon's own SIGKILL and restart are in the parent module (it owns
//! the daemon); stops, pauses and resumes are sent by the run's schedule.

use super::Res;
use crate::bench::procs::spawn_retrying;
use reins_link::broker::wait_until_accepting;
use reins_link::{BrokerConfig, PhoneClient};
use reins_proto::payload::{self as p, CommandOp, Decision, Target};
use reins_proto::{OutgoingSeq, PairChannel, PairKey, Payload, Role};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::runtime::Runtime;

/// The Mosquitto binary.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// How long a (re)started broker gets to accept connections.
const BROKER_UP_WITHIN: Duration = Duration::from_secs(10);

/// A real Mosquitto on one loopback port, killed and reaped on drop.
pub struct Mosquitto {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    /// Start one on a free port.
    pub fn start() -> Res<Mosquitto> {
        if !std::path::Path::new(MOSQUITTO).exists() {
            return Err(format!(
                "{MOSQUITTO} is missing; the soak needs a real Mosquitto: apt-get install -y mosquitto"
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let conf = dir.path().join("mosquitto.conf");
        // max_queued_messages: the flood must not make the broker drop a
        // real phone's message for want of room (the default is 1000).
        let text = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             set_tcp_nodelay true\nlog_dest none\nmax_queued_messages 100000\n\
             listener {port} 127.0.0.1\nprotocol mqtt\n"
        );
        std::fs::write(&conf, text).map_err(|e| format!("cannot write {conf:?}: {e}"))?;
        let mut m = Mosquitto {
            port,
            child: None,
            dir,
        };
        m.spawn()?;
        Ok(m)
    }

    fn spawn(&mut self) -> Res<()> {
        let mut cmd = Command::new(MOSQUITTO);
        cmd.arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(spawn_retrying(&mut cmd)?);
        if !wait_until_accepting(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port, BROKER_UP_WITHIN) {
            return Err(format!("mosquitto did not accept on port {}", self.port));
        }
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kill it (every client is cut off at once) and start it again on the
    /// same port. Returns its new PID.
    pub fn restart(&mut self) -> Res<()> {
        self.kill();
        self.spawn()
    }

    /// The URL clients use.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A flood running on the runtime until dropped; counts what it published.
pub struct Flood {
    stop: Arc<AtomicBool>,
    /// Messages handed to the broker connection.
    pub sent: Arc<AtomicU64>,
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Messages sealed under a key nobody paired: correct envelopes, right
/// kinds (commands to stop everything, allows), the wrong key.
fn forged(n: usize) -> Res<Vec<Vec<u8>>> {
    let key = PairKey::from_bytes(rand::random());
    let ch = PairChannel::paired(Role::Phone, &key, "").map_err(|e| format!("{e:?}"))?;
    let mut seq = OutgoingSeq::new();
    (0..n)
        .map(|i| {
            let body = if i % 2 == 0 {
                Payload::Command(p::Command {
                    op: CommandOp::Stop,
                    target: Target::All,
                })
            } else {
                Payload::ApprovalDecision(p::ApprovalDecision {
                    request_id: format!("{:032x}", rand::random::<u128>()),
                    action_hash: format!("{:064x}", 0),
                    decision: Decision::Allow,
                    scope: None,
                })
            };
            ch.seal(
                &mut seq,
                &body,
                reins_link::now_ms(),
                &mut rand::rngs::OsRng,
            )
            .map(|o| o.bytes)
            .map_err(|e| format!("seal: {e}"))
        })
        .collect()
}

/// Publish `rate` forged messages a second, spread over `topics` (the
/// daemon's phone topics), from one unpaired client of its own.
pub fn flood(rt: &Runtime, broker: &str, topics: Vec<String>, rate: u64) -> Res<Flood> {
    let broker = BrokerConfig::parse(broker).map_err(|e| e.to_string())?;
    let client = rt
        .block_on(PhoneClient::connect(&broker, Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let msgs = forged(256)?;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let (s, c) = (stop.clone(), sent.clone());
    // Published in 10 ms batches: the rate holds without a timer per message.
    let per_tick = (rate / 100).max(1);
    rt.spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut i = 0usize;
        while !s.load(Ordering::SeqCst) {
            tick.tick().await;
            for _ in 0..per_tick {
                let topic = &topics[i % topics.len()];
                if client
                    .publish_raw(topic, msgs[i % msgs.len()].clone(), false)
                    .is_ok()
                {
                    c.fetch_add(1, Ordering::Relaxed);
                }
                i += 1;
            }
        }
        client.close().await;
    });
    Ok(Flood { stop, sent })
}
