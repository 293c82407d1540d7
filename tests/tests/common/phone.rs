//! Shared helpers for the phone-link end-to-end tests (`phone_e2e`,
//! `phone_attacks_e2e`): a private env, `reins pair` driven by a test phone
//! (`reins_link::PhoneClient`), waiting for the desktop's messages, fake-agent
//! trees killed whole on drop, Claude permission hooks, the pending list, the
//! audit log, and a daemon whose embedded broker keeps its port across a
//! restart.
//!
//! Only phone tests include it (`#[path = "common/phone.rs"] mod phone;`);
//! it is not part of `common`, which every test file shares. No test lives
//! here, and nothing here sleeps: every wait is for a line, a message or a
//! process, bounded by [`T`] only as a failure guard, or a bounded poll paced
//! by a real CLI run.
#![allow(dead_code)]

use crate::common::*;
use reins_link::{BrokerConfig, PhoneClient};
use reins_proto::Payload;
use reins_proto::pairing::PairingOffer;
use reins_proto::payload::{self as p, CommandOp, Target};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use tokio::runtime::Runtime;

/// A small runtime for the test phones.
pub fn rt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An env that sees only agents named `agent` (built-ins off), with extra config.
pub fn private_env(agent: &str, extra: &str) -> Env {
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"e2e\"\nexe_names = [\"{agent}\"]\n{extra}"
        ),
    );
    env
}

pub fn link_status(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["link"].clone()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `reins pair`, running.
pub struct Pairing {
    child: Child,
    out: Stream,
    url: String,
}

impl Pairing {
    /// The pairing link `reins pair` printed.
    pub fn url(&self) -> &str {
        &self.url
    }
}

pub fn start_pair(mut cmd: Command) -> Pairing {
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
pub fn pair_with(rt: &Runtime, p: Pairing, name: &str, answer: &str) -> (PhoneClient, bool, Child) {
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
pub fn pair(env: &Env, rt: &Runtime, name: &str) -> (PhoneClient, String) {
    let (phone, paired, child) = pair_with(rt, start_pair(env.reins_pair()), name, "y\n");
    assert!(paired, "the phone completed pairing");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let id = hex(&phone.channel().unwrap().pairing_id());
    // Its `presence` makes it a surface: prompts wait for it from now on.
    wait_phone_online(env, &id);
    (phone, id)
}

/// Poll `reins devices --json` (paced by the CLI runs) until `device` is
/// online: a surface that can show prompts, so they wait for it.
pub fn wait_phone_online(env: &Env, device: &str) {
    for _ in 0..5000 {
        let o = env.run(&["devices", "--json"]);
        if o.status.success() {
            let v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
            if v.iter().any(|d| d["id"] == device && d["online"] == true) {
                return;
            }
        }
    }
    panic!("phone {device} never came online");
}

pub trait PairCmd {
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
pub fn recv<R>(rt: &Runtime, phone: &mut PhoneClient, pick: impl Fn(Payload) -> Option<R>) -> R {
    rt.block_on(async {
        loop {
            let m = phone.recv(T).await.expect("a message from the desktop");
            if let Some(r) = pick(m.payload) {
                return r;
            }
        }
    })
}

pub fn ack(rt: &Runtime, phone: &mut PhoneClient) -> p::CommandAck {
    recv(rt, phone, |m| match m {
        Payload::CommandAck(a) => Some(a),
        _ => None,
    })
}

pub fn command(op: CommandOp, target: Target) -> Payload {
    Payload::Command(p::Command { op, target })
}

/// A fake-agent tree that is killed whole when dropped: a test that pauses
/// a tree and ends must not leave its children running (or holding the test
/// harness's output pipe).
pub struct Tree {
    root: Proc,
    pids: Vec<u32>,
    comm: String,
}

impl Tree {
    pub fn pid(&self) -> u32 {
        self.root.pid()
    }

    pub fn reaped(&mut self) -> bool {
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
pub fn spawn_tree(env: &Env, exe: &str, n: u32) -> (Tree, Vec<u32>) {
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
pub fn agent_id(env: &Env, pid: u32) -> String {
    for _ in 0..2000 {
        if let Some(a) = status_agents(env).into_iter().find(|a| a["pid"] == pid) {
            return a["id"].as_str().unwrap().to_owned();
        }
    }
    panic!("the daemon never listed pid {pid}");
}

pub fn claude_permission(session: &str, cwd: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/tmp/t.jsonl", "cwd": cwd,
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command, "description": "run it" }
    })
    .to_string()
}

/// What the hook printed once it exited, parsed (`Null` if it printed
/// nothing: it abstained).
pub fn hook_output(child: Child) -> serde_json::Value {
    let o = child.wait_with_output().unwrap();
    serde_json::from_slice(&o.stdout).unwrap_or_default()
}

/// The decision in a hook's output: "allow", "deny" or "abstain".
pub fn behavior(out: &serde_json::Value) -> String {
    out["hookSpecificOutput"]["decision"]["behavior"]
        .as_str()
        .unwrap_or("abstain")
        .to_owned()
}

/// Waits for the hook to exit; the decision it printed.
pub fn hook_behavior(child: Child) -> String {
    behavior(&hook_output(child))
}

pub fn approval_request(rt: &Runtime, phone: &mut PhoneClient) -> p::ApprovalRequest {
    recv(rt, phone, |m| match m {
        Payload::ApprovalRequest(r) => Some(r),
        _ => None,
    })
}

pub fn pending_count(env: &Env) -> usize {
    let o = env.run(&["approvals", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout)
        .unwrap()
        .len()
}

pub fn wait_pending(env: &Env, n: usize) {
    for _ in 0..5000 {
        if pending_count(env) == n {
            return;
        }
    }
    panic!("never saw {n} pending approvals");
}

pub fn audit(env: &Env) -> String {
    std::fs::read_to_string(env.audit_log()).unwrap_or_default()
}

/// Audit records by this device with this action.
pub fn audited(env: &Env, device: &str, action: &str) -> usize {
    audit_records(env)
        .iter()
        .filter(|r| r["actor"]["device_id"] == device && r["action"] == action)
        .count()
}

/// Audit records, parsed, oldest first.
pub fn audit_records(env: &Env) -> Vec<serde_json::Value> {
    audit(env)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Polls the audit log until `done` holds for it; returns the log. Many
/// records are queued to the audit writer, not awaited, so they may land
/// just after the reply the CLI or the phone waited for. Each round runs
/// the CLI once: paced by real work, not a sleep.
pub fn wait_audit(env: &Env, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..5000 {
        let log = audit(env);
        if done(&log) {
            return log;
        }
        pending_count(env);
    }
    audit(env)
}

/// Polls until `audited(env, device, action)` is at least `n`; returns it.
/// Each round runs the CLI once: paced by real work, not a sleep.
pub fn wait_audited(env: &Env, device: &str, action: &str, n: usize) -> usize {
    for _ in 0..5000 {
        if audited(env, device, action) >= n {
            break;
        }
        pending_count(env);
    }
    audited(env, device, action)
}

/// A decision on `r`, bound to the action the phone was shown.
pub fn decision(r: &p::ApprovalRequest, d: p::Decision) -> Payload {
    Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: r.request_id.clone(),
        action_hash: r.action_hash.clone(),
        decision: d,
        scope: None,
    })
}

/// The next `approval_resolved` about `request_id` (others skipped).
pub fn resolved(rt: &Runtime, phone: &mut PhoneClient, request_id: &str) -> p::ApprovalResolved {
    recv(rt, phone, |m| match m {
        Payload::ApprovalResolved(x) if x.request_id == request_id => Some(x),
        _ => None,
    })
}

/// A free loopback port: bound to port 0, then released for the caller.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The ports a phone connects to, fixed: (MQTT/TCP, WebSocket, phone web
/// app with its `/mqtt` proxy). Phones pair on the first URL of the offer,
/// which is the web app's `/mqtt`.
pub fn free_broker_ports() -> (u16, u16, u16) {
    // All held at once, so they differ.
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (tcp, ws, web) = (bind(), bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().unwrap().port();
    (port(&tcp), port(&ws), port(&web))
}

/// `reins daemon` whose embedded broker and web app listen on `ports` (not
/// fresh ones), so a phone finds them again after a restart; waits for the
/// ready line.
pub fn daemon_on_ports(env: &Env, ports: (u16, u16, u16)) -> Proc {
    let mut child = env
        .reins()
        .env("REINS__LINK__EMBEDDED_TCP_PORT", ports.0.to_string())
        .env("REINS__LINK__EMBEDDED_WS_PORT", ports.1.to_string())
        .env("REINS__PHONE__PORT", ports.2.to_string())
        .arg("daemon")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "daemon not ready: {line:?}");
    Proc(child)
}

/// Polls `reins status` until the daemon's link is connected and ready.
pub fn wait_link_ready(env: &Env) -> serde_json::Value {
    for _ in 0..5000 {
        let link = link_status(env);
        if link["state"] == "connected" && link["ready"] == true {
            return link;
        }
    }
    panic!("the link never became ready: {}", link_status(env));
}

/// Local halts and approvals still work, as every fault test checks: `reins stop` ends a fake
/// agent's tree, and a prompt answered with `reins approve` reaches the hook.
pub fn halts_and_approvals_work(env: &Env, agent: &str) {
    let (mut tree, pids) = spawn_tree(env, &format!("bin/{agent}"), 2);
    agent_id(env, pids[0]);
    let o = env.run(&["stop", &pids[0].to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(tree.reaped());
    assert!(pids.iter().all(|&p| is_dead(p)));
    // The stop is latched: release it, so this test's next agent may run.
    assert_eq!(env.run(&["release", "all"]).status.code(), Some(0));
    let _terminal = Watcher::start(env);
    let h = start_hook(
        env,
        "claude",
        "permission-request",
        &claude_permission("s1", "/w", "cargo publish"),
    );
    let rid = id(&pending(env, 1)[0]);
    assert_eq!(env.run(&["approve", &rid]).status.code(), Some(0));
    assert_eq!(hook_behavior(h), "allow");
}
