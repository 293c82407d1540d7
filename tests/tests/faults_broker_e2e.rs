//! Fault: the phone link's broker becomes a black hole. A real daemon with
//! the phone link pointed at (a) a TCP listener bound here that accepts
//! connections and reads them but never answers, and (b) a relay in front
//! of a real Mosquitto that first passes everything, then stops delivering
//! the broker's packets, then passes only CONNACKs (so the daemon connects
//! but nothing it subscribes to is ever acknowledged or delivered).
//!
//! What a careful user expects: the daemon notices (no CONNACK in time, or
//! no answer to its keep-alive ping), `reins status` says the link is down
//! or not delivering and why, and every local surface works as before: a
//! `reins stop` of a fake agent and a hook approval answered from the CLI.
//! The keep-alive is set short with `link.keep_alive_s`; no duration is
//! asserted (deadlines only keep a failing test from hanging).

mod common;
#[path = "common/mqtt.rs"]
mod mqtt;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use mqtt::{Mosquitto, port_of};
use phone::*;
use reins_proto::payload::{AckOutcome, CommandOp, Target};
use std::io::Read;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::runtime::Runtime;
use tokio::sync::watch;

/// A failure guard for waits that span reconnects: rumqttc gives a silent
/// listener `CONNECT_TIMEOUT_S` (10 s) and backoff grows between tries.
const GENEROUS: Duration = Duration::from_secs(120);

/// Accepts every connection and reads it to the end, answering nothing.
fn black_hole() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut b = [0u8; 4096];
                while matches!(s.read(&mut b), Ok(n) if n > 0) {}
            });
        }
    });
    port
}

/// What the relay lets through from the broker to its clients (their own
/// packets always reach the broker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deliver {
    Everything,
    Nothing,
    OnlyConnAcks,
}

/// MQTT control packet type of CONNACK (the high nibble of the first byte).
const CONNACK: u8 = 2;

struct Relay {
    port: u16,
    mode: watch::Sender<Deliver>,
}

impl Relay {
    fn start(rt: &Runtime, upstream: u16) -> Relay {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (mode, mode_rx) = watch::channel(Deliver::Everything);
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
                tokio::spawn(relay(from_broker, to_client, mode_rx.clone()));
            }
        });
        Relay { port, mode }
    }

    fn deliver(&self, d: Deliver) {
        self.mode.send_replace(d);
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

/// Copies broker→client packet by packet (fixed header, variable-length
/// remaining length, body), dropping what the mode says not to deliver.
async fn relay(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: watch::Receiver<Deliver>,
) -> std::io::Result<()> {
    loop {
        let packet = mqtt::read_packet(&mut from).await?;
        let pass = match *mode.borrow() {
            Deliver::Everything => true,
            Deliver::Nothing => false,
            Deliver::OnlyConnAcks => packet[0] >> 4 == CONNACK,
        };
        if pass {
            to.write_all(&packet).await?;
        }
    }
}

/// Polls `reins status --json` (paced by the CLI runs) until `done` holds
/// for the `link` object; returns it.
fn link_until(
    env: &Env,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + GENEROUS;
    loop {
        let link = link_status(env);
        if done(&link) {
            return link;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {link}");
    }
}

/// Polls `reins status` (text) until it shows `needle`; returns it.
fn status_text_until(env: &Env, needle: &str) -> String {
    let deadline = Instant::now() + GENEROUS;
    loop {
        let text = stdout(&env.run(&["status"]));
        if text.contains(needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "never saw {needle:?}: {text}");
    }
}

#[test]
fn a_broker_that_accepts_but_never_answers_is_reported_and_local_surfaces_work() {
    let port = black_hole();
    let agent = format!("e2ehole{}", std::process::id());
    let env = private_env(
        &agent,
        &format!("[link]\nbroker = \"mqtt://127.0.0.1:{port}\"\nkeep_alive_s = 1\n"),
    );
    let _daemon = env.daemon();
    let link = link_until(&env, "the link backing off", |l| {
        l["state"] == "backing_off" && !l["last_error"].is_null()
    });
    assert_eq!(link["ready"], false, "{link}");
    let error = link["last_error"].as_str().unwrap();
    assert!(error.contains("no CONNACK"), "{error}");
    let text = status_text_until(&env, "Phone link: DOWN (reconnecting)");
    assert!(text.contains("does not answer as an MQTT broker"), "{text}");

    halts_and_approvals_work(&env, &agent);
}

#[test]
fn a_broker_that_stops_delivering_is_noticed_by_the_keep_alive_and_local_surfaces_work() {
    let rt = rt();
    let broker = Mosquitto::start();
    let relay = Relay::start(&rt, port_of(&broker.url()));
    let agent = format!("e2estall{}", std::process::id());
    // The phone reaches Mosquitto directly; only the daemon's path stalls.
    let env = private_env(
        &agent,
        &format!(
            "[link]\nbroker = \"{}\"\nphone_urls = [\"{}\"]\nkeep_alive_s = 1\n",
            relay.url(),
            broker.url()
        ),
    );
    let _daemon = env.daemon();
    let (mut phone, _) = pair(&env, &rt, "Phone");
    let (mut tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 1);
    let target = Target::Agent(agent_id(&env, pids[0]));
    rt.block_on(async { phone.send(&command(CommandOp::Pause, target.clone())) })
        .unwrap();
    assert_eq!(ack(&rt, &mut phone).outcome, AckOutcome::Done, "delivering");

    // The broker stops delivering: the unanswered keep-alive ping drops
    // the connection, and status says why.
    relay.deliver(Deliver::Nothing);
    let link = link_until(&env, "the stalled link noticed", |l| {
        l["state"] == "backing_off"
            && l["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("stopped answering"))
    });
    assert_eq!(link["ready"], false, "{link}");
    status_text_until(&env, "Phone link: DOWN (reconnecting)");
    halts_and_approvals_work(&env, &agent);

    // It passes CONNECT/CONNACK again but nothing else: connected, yet the
    // phone's topic is never acknowledged, and status says so.
    relay.deliver(Deliver::OnlyConnAcks);
    link_until(&env, "connected but not ready", |l| {
        l["state"] == "connected" && l["ready"] == false
    });
    status_text_until(&env, "NOT DELIVERING YET");
    halts_and_approvals_work(&env, &agent);

    // Everything flows again: the phone's command arrives.
    relay.deliver(Deliver::Everything);
    link_until(&env, "the link ready again", |l| l["ready"] == true);
    rt.block_on(async { phone.send(&command(CommandOp::Stop, target)) })
        .unwrap();
    assert_eq!(ack(&rt, &mut phone).outcome, AckOutcome::Done);
    assert!(tree.reaped());
}
