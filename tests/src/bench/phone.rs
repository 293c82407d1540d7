//! The phone link measured: sealing and opening envelopes
//! (`reins_proto::PairChannel`), one sealed message through a broker (the
//! embedded rumqttd and a real Mosquitto) in each direction, and a stop
//! sent from a paired phone to a real `reins daemon`.
//!
//! - **crypto**: one thread seals [`CRYPTO_MSGS`] desktop→phone
//!   `agent_snapshot`s (JSON encode, XChaCha20-Poly1305, base64 wire), then
//!   opens them all (parse, replay window, decrypt, JSON decode). Each call
//!   is timed on its own; throughput is messages over the loop's wall time.
//! - **transport**: a desktop [`Link`] (device store in a tempdir, so its
//!   fsyncs hit a real disk) and a [`PhoneClient`] keyed with the same pair
//!   key, one message in flight at a time: phone `send` → the link's
//!   `FromPhone` event (opened, replay window saved), and `LinkHandle::send`
//!   (send seq saved) → `PhoneClient::recv` (opened).
//! - **halt**: a daemon in private XDG dirs with its embedded broker on
//!   loopback, paired through a real `reins pair`; per run a fresh
//!   `fake-agent tree N`, listed by the daemon, is stopped by a phone
//!   `command`; a `/proc` watcher times "all in T" and "all gone" from just
//!   before the publish, and the phone times the ack.

use super::daemon::{Env, file_name};
use super::halt::Watcher;
use super::procs::{Bins, Tree, check_interrupted, is_dead, spawn_retrying};
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_link::broker::wait_until_accepting;
use reins_link::{
    BrokerConfig, DeviceStore, EmbeddedBroker, EmbeddedBrokerConfig, Link, LinkConfig, LinkEvent,
    MemorySecretStore, PhoneClient, Recipient, now_ms,
};
use reins_proto::pairing::{PairedPhone, PairingOffer};
use reins_proto::payload::{self as p, AckOutcome, CommandOp, Target};
use reins_proto::{OutgoingSeq, PairChannel, PairKey, Payload, ReplayWindow, Role};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Messages sealed (then opened) per payload size.
const CRYPTO_MSGS: usize = 10_000;

/// Messages per direction and broker (the brief asks for at least 500).
const TRANSPORT_MSGS: usize = 1000;

/// Failure guard for anything that should take milliseconds.
const T: Duration = Duration::from_secs(20);

/// Trees started (and waited for in `reins status`) at a time.
const BATCH: usize = 4;

/// The Mosquitto binary the transport measure starts.
const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// An error's message (for `map_err`).
fn es(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Run every phone measure and append their rows.
pub fn run(bins: &Bins, agent_exe: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    if !Path::new(MOSQUITTO).exists() {
        return Err(format!(
            "{MOSQUITTO} is missing; the phone measure needs a real Mosquitto: \
             apt-get install -y mosquitto"
        ));
    }
    eprintln!("reins-bench: phone: seal/open throughput...");
    crypto(rows)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    eprintln!("reins-bench: phone: transport through the embedded broker...");
    let embedded = EmbeddedBroker::start(&EmbeddedBrokerConfig::localhost())
        .map_err(|e| format!("cannot start the embedded broker: {e}"))?;
    transport(&rt, &embedded.local_mqtt_url(), "embedded rumqttd", rows)?;
    eprintln!("reins-bench: phone: transport through Mosquitto...");
    for (nodelay, name) in [
        (false, "Mosquitto"),
        (true, "Mosquitto, set_tcp_nodelay true"),
    ] {
        let mosquitto = Mosquitto::start(nodelay)?;
        transport(&rt, &mosquitto.url(), name, rows)?;
    }
    eprintln!(
        "reins-bench: phone: stop from the phone ({} runs)...",
        opts.runs
    );
    halt(&rt, bins, agent_exe, opts, rows)
}

/// A desktop→phone snapshot whose JSON body is at least `bytes` long.
fn snapshot_of(bytes: usize) -> Payload {
    let mut agents = Vec::new();
    loop {
        let payload = Payload::AgentSnapshot(p::AgentSnapshot {
            agents: agents.clone(),
        });
        if payload.to_json().len() >= bytes {
            return payload;
        }
        let i = agents.len() as u32;
        agents.push(p::AgentSummary {
            id: format!("claude-{}-{}", 40_000 + i, 1_234_567 + i),
            kind: "claude".into(),
            display_name: "Claude Code".into(),
            pid: 40_000 + i,
            project: Some("reins".into()),
            cwd: Some("/home/dev/src/reins".into()),
            started_at: 1_750_000_000,
            cpu_percent: 1.5,
            memory_bytes: 200 << 20,
            descendants: 3,
            state: p::AgentStatus::Running,
        });
    }
}

fn crypto(rows: &mut Vec<Row>) -> Res<()> {
    let key = PairKey::from_bytes([7; 32]);
    let desk = PairChannel::paired(Role::Desktop, &key, "").map_err(|e| format!("{e:?}"))?;
    let phone = PairChannel::paired(Role::Phone, &key, "").map_err(|e| format!("{e:?}"))?;
    for target in [200, 4096] {
        check_interrupted()?;
        let payload = snapshot_of(target);
        let plain = payload.to_json().len();
        let (mut seq, now) = (OutgoingSeq::new(), now_ms());
        let (mut seal_us, mut sealed) = (Vec::new(), Vec::with_capacity(CRYPTO_MSGS));
        let start = Instant::now();
        for _ in 0..CRYPTO_MSGS {
            let t = Instant::now();
            let out = desk
                .seal(&mut seq, &payload, now, &mut rand::rngs::OsRng)
                .map_err(|e| format!("seal: {e}"))?;
            seal_us.push(t.elapsed().as_nanos() as f64 / 1000.0);
            sealed.push(out);
        }
        let seal_wall = start.elapsed();
        let wire = sealed[0].bytes.len();
        let (mut replay, mut open_us) = (ReplayWindow::new(), Vec::new());
        let start = Instant::now();
        for out in &sealed {
            let t = Instant::now();
            phone
                .open(&out.topic, &out.bytes, &mut replay, now)
                .map_err(|e| format!("open: {e}"))?;
            open_us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        let open_wall = start.elapsed();
        for (what, samples, wall) in [("seal", seal_us, seal_wall), ("open", open_us, open_wall)] {
            let per_s = CRYPTO_MSGS as f64 / wall.as_secs_f64();
            let cond = format!(
                "{plain} B body ({wire} B on the wire), one thread: {per_s:.0} msg/s, \
                 {:.1} MB/s of body, {:.1} MB/s of wire",
                per_s * plain as f64 / 1e6,
                per_s * wire as f64 / 1e6
            );
            rows.extend(Row::new(
                format!("phone: PairChannel::{what}, per message"),
                cond,
                "µs",
                &samples,
                None,
            ));
        }
    }
    Ok(())
}

/// A real Mosquitto on a free loopback port; killed and reaped on drop.
struct Mosquitto {
    port: u16,
    _child: Reaped,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    /// `nodelay`: also set TCP_NODELAY on the broker's own sockets.
    fn start(nodelay: bool) -> Res<Mosquitto> {
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

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

fn transport(rt: &Runtime, url: &str, broker_name: &str, rows: &mut Vec<Row>) -> Res<()> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
    let (p2d, d2p, after) = rt.block_on(transport_async(url, dir.path()))?;
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

async fn transport_async(url: &str, dir: &Path) -> Res<(Vec<f64>, Vec<f64>, Vec<f64>)> {
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
                link.send(Recipient::Device(device), beat.clone())
                    .await
                    .map_err(es)?;
                phone.recv(T).await.map_err(es)?;
            }
            let t0 = Instant::now();
            if i / TRANSPORT_MSGS == 1 {
                link.send(Recipient::Device(device), beat.clone())
                    .await
                    .map_err(es)?;
                phone.recv(T).await.map_err(es)?;
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

/// A child's stdout, read on a thread, searched with a bounded wait.
struct Output {
    rx: mpsc::Receiver<String>,
    buf: String,
}

impl Output {
    fn new(mut r: impl Read + Send + 'static) -> Output {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n @ 1..) = r.read(&mut b) {
                if tx
                    .send(String::from_utf8_lossy(&b[..n]).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        Output {
            rx,
            buf: String::new(),
        }
    }

    /// Everything up to and including `needle` (consumed).
    fn until(&mut self, needle: &str) -> Res<String> {
        loop {
            if let Some(i) = self.buf.find(needle) {
                let rest = self.buf.split_off(i + needle.len());
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            match self.rx.recv_timeout(T) {
                Ok(s) => self.buf.push_str(&s),
                Err(_) => return Err(format!("never saw {needle:?} in {:?}", self.buf)),
            }
        }
    }
}

/// A child killed and reaped on drop (Mosquitto, `reins pair`).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Pair a phone with `reins pair`, answering "y" once it shows the code.
fn pair(rt: &Runtime, env: &Env) -> Res<PhoneClient> {
    let mut cmd = env.reins();
    cmd.arg("pair")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = Reaped(spawn_retrying(&mut cmd)?);
    let mut out = Output::new(child.0.stdout.take().ok_or("reins pair has no stdout")?);
    out.until("Pairing link: ")?;
    let url = out.until("\n")?.trim().to_owned();
    let offer = PairingOffer::from_url(&url).map_err(|e| format!("bad pairing link: {e}"))?;
    let broker =
        BrokerConfig::parse(offer.brokers.first().ok_or("no broker in the offer")?).map_err(es)?;
    let mut phone = rt.block_on(PhoneClient::connect(&broker, T)).map_err(es)?;
    let pending = rt
        .block_on(phone.begin_pairing(&url, "bench phone", T))
        .map_err(es)?;
    let prompt = out.until("[y/N] ")?;
    if !prompt.contains(&pending.code.to_string()) {
        return Err(format!(
            "reins pair does not show the phone's code: {prompt}"
        ));
    }
    let mut stdin = child.0.stdin.take().ok_or("reins pair has no stdin")?;
    stdin
        .write_all(b"y\n")
        .map_err(|e| format!("cannot answer reins pair: {e}"))?;
    drop(stdin);
    rt.block_on(phone.finish_pairing(pending, T))
        .map_err(|e| format!("pairing failed: {e}"))?;
    let status = child.0.wait().map_err(es)?;
    if !status.success() {
        return Err(format!("reins pair exited {status}"));
    }
    Ok(phone)
}

/// Write the daemon's config: only the bench's agent copy, and the
/// embedded broker on loopback with free ports.
fn write_config(env: &Env, agent_name: &str) -> Res<()> {
    let cmd = env.reins();
    let config_home = cmd
        .get_envs()
        .find(|(k, _)| *k == "XDG_CONFIG_HOME")
        .and_then(|(_, v)| v)
        .ok_or("the bench env has no XDG_CONFIG_HOME")?;
    let text = format!(
        "[scan]\nbuiltin_signatures = false\n\n[[signatures]]\nkind = \"reinsbench\"\n\
         exe_names = [\"{agent_name}\"]\n\n[link]\nenabled = true\nembedded_bind = \"127.0.0.1\"\n\
         embedded_tcp_port = 0\nembedded_ws_port = 0\n"
    );
    std::fs::write(Path::new(config_home).join("reins/config.toml"), text)
        .map_err(|e| format!("cannot write the config: {e}"))
}

/// The agent ids of `trees`, once the daemon lists all of them.
fn wait_listed(env: &Env, trees: &[Tree]) -> Res<Vec<String>> {
    let start = Instant::now();
    loop {
        let v = env.run(&["status", "--json"])?.stdout;
        let v: serde_json::Value = serde_json::from_slice(&v).map_err(es)?;
        let agents = v["agents"].as_array().cloned().unwrap_or_default();
        let ids: Vec<Option<String>> = trees
            .iter()
            .map(|t| {
                agents
                    .iter()
                    .find(|a| a["pid"].as_u64() == Some(u64::from(t.root())))
                    .and_then(|a| a["id"].as_str().map(str::to_owned))
            })
            .collect();
        if ids.iter().all(Option::is_some) {
            return Ok(ids.into_iter().flatten().collect());
        }
        if start.elapsed() > T {
            return Err("the daemon did not list the bench's trees within 20 s".into());
        }
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One stop from the phone; watcher figures only on watched runs.
#[derive(Debug)]
struct Sample {
    watched: Option<super::halt::Watch>,
    ack_us: u64,
    daemon_frozen_us: u64,
    daemon_gone_us: u64,
}

fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split(' ').take(3).collect::<Vec<_>>().join(" ")
}

fn halt(rt: &Runtime, bins: &Bins, agent: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let env = Env::new(bins, file_name(agent)?)?;
    write_config(&env, file_name(agent)?)?;
    let _daemon = env.daemon()?;
    let mut phone = pair(rt, &env)?;
    let load_before = loadavg();
    let mut samples = Vec::with_capacity(opts.runs);
    while samples.len() < opts.runs {
        check_interrupted()?;
        let n = BATCH.min(opts.runs - samples.len());
        let mut trees = (0..n)
            .map(|_| Tree::spawn(agent, &["tree", &opts.tree.to_string()]))
            .collect::<Res<Vec<_>>>()?;
        let ids = wait_listed(&env, &trees)?;
        for (tree, id) in trees.iter_mut().zip(ids) {
            check_interrupted()?;
            let i = samples.len();
            let watched = opts.watch_every > 0 && i % opts.watch_every == 0;
            samples.push(one(rt, &mut phone, tree, id, opts.tree, watched)?);
        }
    }
    rt.block_on(phone.close());
    let load = format!("load {load_before} before, {} after", loadavg());
    let tree = opts.tree;
    let watched: Vec<_> = samples.iter().filter(|s| s.watched.is_some()).collect();
    let unwatched: Vec<_> = samples.iter().filter(|s| s.watched.is_none()).collect();
    let w = |f: &dyn Fn(&Sample, &super::halt::Watch) -> u64| {
        let v = watched
            .iter()
            .filter_map(|s| Some(ms(f(s, s.watched.as_ref()?))));
        v.collect::<Vec<_>>()
    };
    let cond = format!("{tree}-process tree, daemon + embedded broker on loopback; {load}");
    let wcond = format!("{cond}; watched runs (a /proc poller spins on one core)");
    let mut push = |m: &str, c: &str, v: Vec<f64>, target| {
        rows.extend(Row::new(format!("phone stop: {m}"), c, "ms", &v, target));
    };
    let c = &wcond;
    push(
        "publish → all seen T (watcher)",
        c,
        w(&|_, w| w.frozen_us),
        Some(20.0),
    );
    push(
        "publish → all seen gone (watcher)",
        c,
        w(&|_, w| w.gone_us),
        None,
    );
    let to_receipt = w(&|s, w| w.frozen_us.saturating_sub(s.daemon_frozen_us));
    push(
        "publish → daemon receipt (T − frozen_after_us)",
        c,
        to_receipt,
        None,
    );
    for (set, c) in [
        (&watched, wcond.clone()),
        (&unwatched, format!("{cond}; unwatched runs")),
    ] {
        let all = |f: fn(&Sample) -> u64| set.iter().map(|s| ms(f(s))).collect::<Vec<_>>();
        push(
            "publish → ack opened at the phone",
            &c,
            all(|s| s.ack_us),
            None,
        );
        push(
            "ack's frozen_after_us (from receipt)",
            &c,
            all(|s| s.daemon_frozen_us),
            None,
        );
        push(
            "ack's gone_after_us (from receipt)",
            &c,
            all(|s| s.daemon_gone_us),
            None,
        );
    }
    Ok(())
}

fn one(
    rt: &Runtime,
    phone: &mut PhoneClient,
    tree: &mut Tree,
    id: String,
    size: usize,
    watched: bool,
) -> Res<Sample> {
    let watcher = watched.then(|| Watcher::arm(&tree.pids)).transpose()?;
    let target = Target::Agent(id);
    let command = Payload::Command(p::Command {
        op: CommandOp::Stop,
        target: target.clone(),
    });
    let t0 = watcher.as_ref().map_or_else(Instant::now, Watcher::start);
    phone.send(&command).map_err(es)?;
    let ack = rt.block_on(async {
        loop {
            match phone.recv(T).await {
                Ok(m) => match m.payload {
                    Payload::CommandAck(a) if a.target == target => return Ok(a),
                    _ => {}
                },
                Err(e) => return Err(format!("no ack from the daemon: {e}")),
            }
        }
    })?;
    let ack_us = t0.elapsed().as_micros() as u64;
    let watched = watcher.map(Watcher::finish).transpose()?;
    if ack.outcome != AckOutcome::Done || ack.processes as usize != size {
        return Err(format!(
            "the phone's stop was not done for {size} processes: {ack:?}"
        ));
    }
    if let Some(p) = tree.pids.iter().find(|&&p| !is_dead(p)) {
        return Err(format!("pid {p} survived a stop acked as done"));
    }
    tree.kill_and_reap();
    Ok(Sample {
        watched,
        ack_us,
        daemon_frozen_us: ack
            .frozen_after_us
            .ok_or("the ack has no frozen_after_us")?,
        daemon_gone_us: ack.gone_after_us.ok_or("the ack has no gone_after_us")?,
    })
}
