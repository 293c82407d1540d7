//! The phone link end to end: a real `reins daemon` (with its embedded
//! broker on free loopback ports, or a real Mosquitto), real `reins pair`,
//! `reins hook` and `reins devices` processes, real fake-agent trees, and
//! the Rust test phone (`reins_link::PhoneClient`) playing the phone.
//!
//! Nothing here sleeps: every wait is for a line, a message or a process,
//! bounded by [`T`] only as a failure guard. No duration is asserted.

mod common;
use common::*;
use reins_link::{BrokerConfig, PhoneClient};
use reins_proto::Payload;
use reins_proto::pairing::PairingOffer;
use reins_proto::payload::{self as p, AckOutcome, CommandOp, Target};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::runtime::Runtime;

/// Failure guard for anything that should take milliseconds to seconds.
const T: Duration = Duration::from_secs(20);

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

fn rt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A child's output, read on a thread, waited on with a bounded timeout.
struct Stream {
    rx: mpsc::Receiver<String>,
    buf: String,
}

impl Stream {
    fn new(mut r: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = r.read(&mut b) {
                if n == 0
                    || tx
                        .send(String::from_utf8_lossy(&b[..n]).into_owned())
                        .is_err()
                {
                    break;
                }
            }
        });
        Stream {
            rx,
            buf: String::new(),
        }
    }

    /// Everything up to and including `needle` (consumed).
    fn until(&mut self, needle: &str) -> String {
        loop {
            if let Some(i) = self.buf.find(needle) {
                let rest = self.buf.split_off(i + needle.len());
                return std::mem::replace(&mut self.buf, rest);
            }
            match self.rx.recv_timeout(T) {
                Ok(s) => self.buf.push_str(&s),
                Err(_) => panic!("never saw {needle:?}; output so far: {:?}", self.buf),
            }
        }
    }

    /// The rest of the line after `needle`.
    fn line_after(&mut self, needle: &str) -> String {
        self.until(needle);
        self.until("\n").trim().to_owned()
    }
}

/// An env that sees only agents named `agent` (built-ins off), with extra config.
fn private_env(agent: &str, extra: &str) -> Env {
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"e2e\"\nexe_names = [\"{agent}\"]\n{extra}"
        ),
    );
    env
}

fn link_status(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["link"].clone()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `reins pair`, running.
struct Pairing {
    child: Child,
    out: Stream,
    url: String,
}

fn start_pair(mut cmd: Command) -> Pairing {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_retrying(&mut cmd);
    let mut out = Stream::new(child.stdout.take().unwrap());
    let url = out.line_after("Pairing link: ");
    Pairing { child, out, url }
}

/// Pairs a test phone through `reins pair`, answering `answer` on stdin
/// after checking the prompt shows the phone's code. Returns the phone
/// (paired or not) and the pair command's output.
fn pair_with(rt: &Runtime, p: Pairing, name: &str, answer: &str) -> (PhoneClient, bool, Child) {
    let Pairing {
        mut child,
        mut out,
        url,
    } = p;
    let offer = PairingOffer::from_url(&url).unwrap();
    let broker = BrokerConfig::parse(&offer.brokers[0]).unwrap();
    let mut phone = rt.block_on(PhoneClient::connect(&broker, T)).unwrap();
    let pending = rt.block_on(phone.begin_pairing(&url, name, T)).unwrap();
    let prompt = out.until("[y/N] ");
    assert!(
        prompt.contains(&format!("Does the phone show {}?", pending.code)),
        "the terminal shows the phone's code: {prompt}"
    );
    assert!(prompt.contains(name), "{prompt}");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(answer.as_bytes()).unwrap();
    drop(stdin);
    let paired = rt.block_on(phone.finish_pairing(pending, T)).is_ok();
    (phone, paired, child)
}

/// Pairs a phone with `reins pair` and "y". Returns it and its device id.
fn pair(env: &Env, rt: &Runtime, name: &str) -> (PhoneClient, String) {
    let (phone, paired, child) = pair_with(rt, start_pair(env.reins_pair()), name, "y\n");
    assert!(paired, "the phone completed pairing");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = hex(&phone.channel().unwrap().pairing_id());
    (phone, id)
}

trait PairCmd {
    fn reins_pair(&self) -> Command;
}

impl PairCmd for Env {
    fn reins_pair(&self) -> Command {
        let mut c = self.reins();
        c.arg("pair");
        c
    }
}

/// The next message from the desktop that `pick` accepts (others skipped).
fn recv<R>(rt: &Runtime, phone: &mut PhoneClient, pick: impl Fn(Payload) -> Option<R>) -> R {
    rt.block_on(async {
        loop {
            let m = phone.recv(T).await.expect("a message from the desktop");
            if let Some(r) = pick(m.payload) {
                return r;
            }
        }
    })
}

fn ack(rt: &Runtime, phone: &mut PhoneClient) -> p::CommandAck {
    recv(rt, phone, |m| match m {
        Payload::CommandAck(a) => Some(a),
        _ => None,
    })
}

fn command(op: CommandOp, target: Target) -> Payload {
    Payload::Command(p::Command { op, target })
}

/// A fake-agent tree that is killed whole when dropped: a test that pauses
/// a tree and ends must not leave its children running (or holding the test
/// harness's output pipe).
struct Tree {
    root: Proc,
    pids: Vec<u32>,
    comm: String,
}

impl Tree {
    fn pid(&self) -> u32 {
        self.root.pid()
    }

    fn reaped(&mut self) -> bool {
        self.root.reaped()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        for &pid in &self.pids {
            // Only processes that are still ours (same name): a PID may have been reused.
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim_end() == self.comm {
                // SAFETY: kill(2) with a pid we checked; no memory is touched.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }
}

/// A fake-agent tree under `exe` (relative to the env): (tree, every pid).
fn spawn_tree(env: &Env, exe: &str, n: u32) -> (Tree, Vec<u32>) {
    let path = env.path(exe);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if !path.exists() {
        std::fs::copy(fake_agent(), &path).unwrap();
    }
    let mut cmd = Command::new(&path);
    cmd.args(["tree", &n.to_string()])
        .current_dir(env.path("home"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = spawn_retrying(&mut cmd);
    let mut out = Stream::new(child.stdout.take().unwrap());
    let pids: Vec<u32> = out
        .line_after("ready ")
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let name = path.file_name().unwrap().to_string_lossy();
    let comm = name.chars().take(15).collect();
    let tree = Tree {
        root: Proc(child),
        pids: pids.clone(),
        comm,
    };
    (tree, pids)
}

/// The agent id of `pid`, once the daemon has seen it (polls the CLI).
fn agent_id(env: &Env, pid: u32) -> String {
    for _ in 0..2000 {
        if let Some(a) = status_agents(env).into_iter().find(|a| a["pid"] == pid) {
            return a["id"].as_str().unwrap().to_owned();
        }
    }
    panic!("the daemon never listed pid {pid}");
}

fn claude_permission(session: &str, cwd: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command, "description": "run it" }
    })
    .to_string()
}

fn hook_behavior(child: Child) -> String {
    let o = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    v["hookSpecificOutput"]["decision"]["behavior"]
        .as_str()
        .unwrap_or("abstain")
        .to_owned()
}

fn approval_request(rt: &Runtime, phone: &mut PhoneClient) -> p::ApprovalRequest {
    recv(rt, phone, |m| match m {
        Payload::ApprovalRequest(r) => Some(r),
        _ => None,
    })
}

fn pending_count(env: &Env) -> usize {
    let o = env.run(&["approvals", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
        .unwrap()
        .len()
}

fn wait_pending(env: &Env, n: usize) {
    for _ in 0..5000 {
        if pending_count(env) == n {
            return;
        }
    }
    panic!("never saw {n} pending approvals");
}

fn audit(env: &Env) -> String {
    std::fs::read_to_string(env.audit_log()).unwrap_or_default()
}

/// Audit records by this device with this action.
fn audited(env: &Env, device: &str, action: &str) -> usize {
    audit(env)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|r| r["actor"]["device_id"] == device && r["action"] == action)
        .count()
}

/// Topic and payload of every publish seen.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A raw subscriber on `#`: everything the broker would show anyone.
struct Sniffer {
    seen: Seen,
    _client: AsyncClient,
}

impl Sniffer {
    fn start(rt: &Runtime, port: u16) -> Self {
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

    fn everything(&self) -> String {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(t, b)| format!("{t} {}\n", String::from_utf8_lossy(b)))
            .collect()
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

#[test]
fn a_phone_paired_with_reins_pair_stops_an_agent_tree_and_the_broker_sees_nothing_readable() {
    let rt = rt();
    let agent = format!("e2ephone{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();
    let link = link_status(&env);
    assert_eq!(link["state"], "connected", "{link}");
    assert_eq!(link["embedded"], true);
    let sniffer = Sniffer::start(&rt, port_of(link["broker"].as_str().unwrap()));

    let (mut phone, device) = pair(&env, &rt, "Pixel of the tester");
    let o = env.run(&["devices", "--json"]);
    let devices: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(devices[0]["id"], device.as_str());
    assert_eq!(devices[0]["name"], "Pixel of the tester");
    assert_eq!(link_status(&env)["devices"], 1);

    // Stop a real tree from the phone: the ack comes once every process is gone.
    let (mut tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 4);
    let id = agent_id(&env, pids[0]);
    rt.block_on(async { phone.send(&command(CommandOp::Stop, Target::Agent(id.clone()))) })
        .unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!(a.outcome, AckOutcome::Done, "{a:?}");
    assert_eq!(a.processes, 4);
    assert!(
        a.frozen_after_us.is_some() && a.gone_after_us.is_some(),
        "{a:?}"
    );
    assert!(pids.iter().all(|&p| is_dead(p)), "the whole tree is dead");
    assert!(tree.reaped());
    assert_eq!(
        audited(&env, &device, "stop"),
        1,
        "the stop is audited with the phone as actor: {}",
        audit(&env)
    );
    assert!(audit(&env).contains("\"type\":\"phone\""));

    // An approval travels to the phone with its exact action, and back.
    let marker = format!("deploy-marker-{}", std::process::id());
    let cwd = format!("/srv/secret-project-{}", std::process::id());
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", &cwd, &marker),
    );
    let r = approval_request(&rt, &mut phone);
    assert!(r.hash_is_consistent(), "{r:?}");
    assert!(r.action.contains(&marker) && r.cwd.as_deref() == Some(cwd.as_str()));
    let allow = Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: r.request_id.clone(),
        action_hash: r.action_hash.clone(),
        decision: p::Decision::Allow,
    });
    rt.block_on(async { phone.send(&allow) }).unwrap();
    assert_eq!(hook_behavior(h), "allow");

    // Everything the broker saw: opaque topics, sealed bodies.
    let all = sniffer.everything();
    assert!(!all.is_empty());
    for secret in [
        agent.as_str(),
        &id,
        &marker,
        &cwd,
        "Pixel of the tester",
        "\"stop\"",
        "claude",
        "Bash",
        env.dir.path().to_str().unwrap(),
    ] {
        assert!(!all.contains(secret), "{secret:?} crossed the broker");
    }
}

#[test]
fn a_forged_or_replayed_phone_decision_changes_nothing() {
    let rt = rt();
    let env = private_env(&format!("none{}", std::process::id()), "");
    let _daemon = env.daemon();
    let (mut phone, device) = pair(&env, &rt, "Phone");

    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "make release"),
    );
    let r = approval_request(&rt, &mut phone);
    let decision = |hash: &str, d: p::Decision| {
        Payload::ApprovalDecision(p::ApprovalDecision {
            request_id: r.request_id.clone(),
            action_hash: hash.to_owned(),
            decision: d,
        })
    };
    // A decision bound to another action (wrong hash) is refused and audited.
    let wrong = reins_proto::payload::action_hash("make release --force");
    rt.block_on(async { phone.send(&decision(&wrong, p::Decision::Allow)) })
        .unwrap();
    for _ in 0..5000 {
        if audited(&env, &device, "refused") > 0 {
            break;
        }
        // Each round runs the CLI once: paced by real work, not a sleep.
        pending_count(&env);
    }
    assert_eq!(audited(&env, &device, "refused"), 1, "{}", audit(&env));
    assert_eq!(pending_count(&env), 1, "still waiting");

    // The real decision (a deny) wins; the phone hears how it ended.
    let deny = rt
        .block_on(async { phone.send(&decision(&r.action_hash, p::Decision::Deny)) })
        .unwrap();
    assert_eq!(hook_behavior(h), "deny");
    let resolved = recv(&rt, &mut phone, |m| match m {
        Payload::ApprovalResolved(x) => Some(x),
        _ => None,
    });
    assert_eq!(resolved.resolution, p::Resolution::Denied);
    assert_eq!(resolved.by.as_deref(), Some(device.as_str()));

    // A new request; the old deny's exact bytes replayed, and a late allow
    // for the old request: neither touches it.
    let h2 = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s2", "/w", "make release"),
    );
    let r2 = approval_request(&rt, &mut phone);
    phone
        .publish_raw(&deny.topic, deny.bytes.clone(), false)
        .unwrap();
    rt.block_on(async { phone.send(&decision(&r.action_hash, p::Decision::Allow)) })
        .unwrap();
    let late = recv(&rt, &mut phone, |m| match m {
        Payload::ApprovalResolved(x) if x.request_id == r.request_id => Some(x),
        _ => None,
    });
    assert_eq!(
        late.resolution,
        p::Resolution::Denied,
        "the first answer stands"
    );
    assert_eq!(pending_count(&env), 1);
    let o = env.run(&["approve", &r2.request_id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(hook_behavior(h2), "allow");
}

#[test]
fn a_revoked_phone_can_no_longer_stop_anything() {
    let rt = rt();
    let agent = format!("e2erevoke{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();
    let (mut old, old_id) = pair(&env, &rt, "Lost phone");
    let (mut new, _) = pair(&env, &rt, "New phone");
    let o = env.run(&["devices", "rename", &old_id, "Stolen phone"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = env.run(&["devices", "revoke", &old_id]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = env.run(&["devices"]);
    assert!(!stdout(&o).contains(&old_id), "{}", stdout(&o));

    let (tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 2);
    let id = agent_id(&env, pids[0]);
    rt.block_on(async { old.send(&command(CommandOp::Stop, Target::All)) })
        .unwrap();
    // The remaining phone's command is answered; the revoked one's never was.
    rt.block_on(async { new.send(&command(CommandOp::Pause, Target::Agent(id))) })
        .unwrap();
    let a = ack(&rt, &mut new);
    assert_eq!(a.outcome, AckOutcome::Done, "{a:?}");
    assert!(!is_dead(tree.pid()), "the revoked phone stopped nothing");
    assert_eq!(
        proc_state(tree.pid()),
        Some('T'),
        "paused by the other phone"
    );
    assert_eq!(audited(&env, &old_id, "stop"), 0);
    assert!(audit(&env).contains("\"action\":\"device_revoked\""));
    assert_eq!(
        env.run(&["devices", "revoke", &old_id]).status.code(),
        Some(3),
        "already gone"
    );
}

#[test]
fn pairing_needs_a_yes_from_a_person_outside_any_agent() {
    let rt = rt();
    let agent = format!("e2epair{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();

    // "n" (or anything but y) pairs nothing.
    let (_phone, paired, child) = pair_with(&rt, start_pair(env.reins_pair()), "Phone", "n\n");
    assert!(!paired);
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(1));

    // "y" typed inside an agent's process tree is refused, audited, and voids the offer.
    let reins = reins_bin();
    // (A second command keeps bash from exec'ing reins in its own place.)
    let script = format!("{} pair; rc=$?; exit $rc", reins.display());
    let cmd = env.bash_as_agent(&agent, &script);
    let (_phone, paired, child) = pair_with(&rt, start_pair(cmd), "Phone", "y\n");
    assert!(!paired);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("inside agent"), "{}", stderr(&o));
    assert!(audit(&env).contains("\"action\":\"refused\""));
    let o = env.run(&["devices", "--json"]);
    assert_eq!(stdout(&o).trim(), "[]");
}

/// A real Mosquitto on free loopback ports, killed on drop.
struct Mosquitto {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Mosquitto {
    fn start() -> Self {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "Mosquitto is required: run `apt-get install -y mosquitto`"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut m = Mosquitto {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        m.spawn();
        m
    }

    fn spawn(&mut self) {
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

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn through_mosquitto_a_phone_stops_all_and_gets_pending_approvals_after_an_outage() {
    let rt = rt();
    let mut broker = Mosquitto::start();
    let agent = format!("e2emosq{}", std::process::id());
    let env = private_env(&agent, &format!("[link]\nbroker = \"{}\"\n", broker.url()));
    let _daemon = env.daemon();
    let link = link_status(&env);
    assert_eq!(link["embedded"], false);
    assert_eq!(link["phone_urls"][0], broker.url().as_str());
    let (mut phone, _) = pair(&env, &rt, "Phone");

    let mut trees: Vec<(Tree, Vec<u32>)> = (0..2)
        .map(|_| spawn_tree(&env, &format!("bin/{agent}"), 2))
        .collect();
    for (_, pids) in &trees {
        agent_id(&env, pids[0]);
    }
    rt.block_on(async { phone.send(&command(CommandOp::Stop, Target::All)) })
        .unwrap();
    let a = ack(&rt, &mut phone);
    assert_eq!((a.outcome, a.processes), (AckOutcome::Done, 4), "{a:?}");
    assert!(trees.iter_mut().all(|(t, _)| t.reaped()));

    // The broker goes away: local surfaces keep working.
    broker.stop();
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "cargo publish"),
    );
    wait_pending(&env, 1);
    let down = link_status(&env);
    assert_ne!(down["ready"], true, "{down}");

    // It comes back: once both ends are back, the phone says it is online
    // and gets the still-pending request.
    broker.spawn();
    rt.block_on(phone.await_reconnect(T)).unwrap();
    for _ in 0..5000 {
        if link_status(&env)["ready"] == true {
            break;
        }
    }
    assert_eq!(link_status(&env)["ready"], true);
    let online = Payload::Presence(p::Presence { online: true });
    rt.block_on(async { phone.send(&online) }).unwrap();
    let r = approval_request(&rt, &mut phone);
    assert!(r.action.contains("cargo publish"));
    let allow = Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: r.request_id,
        action_hash: r.action_hash,
        decision: p::Decision::Allow,
    });
    rt.block_on(async { phone.send(&allow) }).unwrap();
    assert_eq!(hook_behavior(h), "allow");
}
