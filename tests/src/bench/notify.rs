//! Desktop notifications: how long from a hook's request to its notification
//! being raised, and from a click on Approve to the hook's answer.
//!
//! A private `dbus-daemon` (no activatable services) runs a fake
//! `org.freedesktop.Notifications` server (zbus, in this process, on a
//! tokio runtime with its own worker thread). A real `reins daemon` in
//! private XDG directories gets `DBUS_SESSION_BUS_ADDRESS` pointing at that
//! bus; the bench waits, over IPC, until the daemon reports notifications as
//! a live surface. Each run then:
//!
//! 1. spawns `reins hook claude permission-request` for a command no rule
//!    matches (a person decides), in a session of its own, and writes the
//!    event to its stdin; the clock starts just before the spawn;
//! 2. stops it when the fake server's `Notify` handler runs (the instant is
//!    taken inside the handler): **hook start → notification raised**;
//! 3. starts a second clock, emits `ActionInvoked(id, "approve")` from the
//!    server's own connection and stops it when the hook's allow JSON has
//!    been read to EOF and the hook reaped: **Approve → hook answered**.
//!
//! The daemon's close of the answered notification is drained before the
//! next run. Every output is checked; nothing here asserts a duration.

use super::daemon::Env;
use super::procs::{Bins, check_interrupted, spawn_retrying};
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_notify::fake::{FakeServer, PrivateBus};
use reins_runtime::ipc::{Client, Request, Response};
use reins_runtime::surfaces::SurfaceKind;
use std::io::{Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A hook process, killed and reaped on drop (a no-op once reaped).
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Unrecorded runs first.
const WARMUP: usize = 5;

/// How long one step may take before the run is an error.
const WITHIN: Duration = Duration::from_secs(10);

fn payload(round: usize) -> String {
    serde_json::json!({
        "session_id": format!("bench-notify-{round}"),
        "transcript_path": "/home/dev/.claude/projects/app/t.jsonl",
        "cwd": "/home/dev/app", "permission_mode": "default",
        "hook_event_name": "PermissionRequest", "tool_name": "Bash",
        "tool_input": { "command": format!("make deploy ENV=bench{round}") }
    })
    .to_string()
}

/// Wait (asking over IPC, no sleeping) until the daemon's notifier is live.
fn wait_live(env: &Env) -> Res<String> {
    let sock = super::hook::socket(env)?;
    let t0 = Instant::now();
    let mut client = loop {
        match Client::connect(&sock) {
            Ok(c) => break c,
            Err(e) if t0.elapsed() > WITHIN => return Err(format!("no daemon socket: {e}")),
            Err(_) => std::thread::yield_now(),
        }
    };
    while t0.elapsed() < WITHIN {
        if let Ok(Response::Status {
            surfaces: Some(s), ..
        }) = client.call(&Request::Status)
            && let Some(l) = s.live.iter().find(|l| l.kind == SurfaceKind::Notifications)
        {
            return Ok(l.detail.clone());
        }
    }
    Err("the daemon never reported desktop notifications as live".into())
}

/// Run the measure and append its rows.
pub fn run(bins: &Bins, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    let bus = PrivateBus::start().map_err(|e| format!("cannot start dbus-daemon: {e}"))?;
    let mut srv = rt
        .block_on(FakeServer::start(bus.address(), &["actions", "body"]))
        .map_err(|e| format!("cannot start the fake notification server: {e}"))?;
    let env = Env::new(bins, &format!("rbnotify{}", std::process::id()))?;
    let _daemon = env.daemon_with(&[("DBUS_SESSION_BUS_ADDRESS", bus.address())])?;
    let server = wait_live(&env)?;
    eprintln!("reins-bench: the daemon uses {server} on a private bus");
    let (mut raised, mut answered) = (Vec::new(), Vec::new());
    for round in 0..WARMUP + opts.runs {
        check_interrupted()?;
        let mut cmd = env.reins();
        cmd.args(["hook", "claude", "permission-request"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let t0 = Instant::now();
        let mut hook = Reaped(spawn_retrying(&mut cmd)?);
        hook.0
            .stdin
            .take()
            .ok_or("no stdin pipe")?
            .write_all(payload(round).as_bytes())
            .map_err(|e| format!("writing the event: {e}"))?;
        let n = rt
            .block_on(async { tokio::time::timeout(WITHIN, srv.next_notify()).await })
            .map_err(|_| format!("round {round}: no notification within {WITHIN:?}"))?;
        let to_raise = n.received.duration_since(t0);
        if !n.body.contains(&format!("ENV=bench{round}")) {
            return Err(format!("round {round}: unexpected notification {n:?}"));
        }
        let t1 = Instant::now();
        rt.block_on(srv.invoke(n.id, "approve"))
            .map_err(|e| format!("emitting ActionInvoked: {e}"))?;
        let mut out = String::new();
        hook.0
            .stdout
            .take()
            .ok_or("no stdout pipe")?
            .read_to_string(&mut out)
            .map_err(|e| e.to_string())?;
        let status = hook.0.wait().map_err(|e| e.to_string())?;
        let to_answer = t1.elapsed();
        if !status.success() || !out.contains("\"behavior\":\"allow\"") {
            return Err(format!("round {round}: the hook said {out:?} ({status})"));
        }
        let closed = rt
            .block_on(async { tokio::time::timeout(WITHIN, srv.next_close()).await })
            .map_err(|_| format!("round {round}: the answered notification was not closed"))?;
        if closed != n.id {
            return Err(format!("round {round}: closed {closed}, expected {}", n.id));
        }
        if round >= WARMUP {
            raised.push(ms(to_raise.as_micros() as u64));
            answered.push(ms(to_answer.as_micros() as u64));
        }
    }
    let cond = format!("{} runs, fake server on a private dbus-daemon", opts.runs);
    rows.extend(Row::new(
        "notify: `reins hook claude permission-request` start → `Notify` received by the server",
        &cond,
        "ms",
        &raised,
        None,
    ));
    rows.extend(Row::new(
        "notify: `ActionInvoked` approve from the server → hook's allow read and reaped",
        &cond,
        "ms",
        &answered,
        None,
    ));
    Ok(())
}
