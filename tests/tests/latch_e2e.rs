//! The stop latch end to end, with real processes: a shell loop restarts a
//! fake OpenClaw gateway (node, renamed title, the service's environment
//! markers) a second after it dies. `reins stop` through an isolated daemon
//! must leave no unfrozen gateway running, report the respawn (alert on the
//! subscription stream, audit entry, `reins status`, the stop's recheck) and
//! `reins release` must let it run again. A pause of a supervised agent
//! needs no latch: the frozen child is not replaced.
//!
//! Every wait polls a condition or reads a stream with a deadline; nothing
//! sleeps to wait for something.

mod common;

use common::{Env, Stream, T, proc_state, stderr, stdout};
use reins_runtime::ipc::{Client, ClientSurface, Request, Response, StreamEvent};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

/// A process group we started (the supervisor loop and what it runs),
/// killed on drop: the loop first, then everything left in its group.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self.0.id() as i32;
        // SAFETY: kill(2) on our own child and then its process group.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// Poll `f` until it returns `Some`, or fail after [`T`] with `what`.
fn until<R>(what: &str, mut f: impl FnMut() -> Option<R>) -> R {
    let deadline = Instant::now() + T;
    loop {
        if let Some(r) = f() {
            return r;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::yield_now();
        // Polling /proc in a tight loop would starve node on a 2-core box.
        std::thread::park_timeout(std::time::Duration::from_millis(20));
    }
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

fn argv0(pid: u32) -> String {
    let c = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(c.split(|&b| b == 0).next().unwrap_or_default()).into_owned()
}

/// Every process that carries this test's unique unit marker and runs the
/// gateway (the loop shell carries it too but is not a gateway).
fn gateways(unit: &str) -> Vec<(u32, char)> {
    let needle = format!("OPENCLAW_SYSTEMD_UNIT={unit}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let has = env.split(|&b| b == 0).any(|kv| kv == needle.as_bytes());
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        if has && exe.file_name().is_some_and(|n| n == "node") {
            if let Some(state) = proc_state(pid).filter(|s| !matches!(s, 'Z' | 'X')) {
                out.push((pid, state));
            }
        }
    }
    out
}

/// Start the loop: `node ./gateway.js` again a second after each exit
/// (the `./` leaves room in the command line for the whole 16-byte title;
/// node cuts a longer title to the space its arguments had).
fn supervisor(dir: &Path, unit: &str) -> Group {
    let gateway = dir.join("gateway.js");
    common::write(
        &gateway,
        "process.title = 'openclaw-gateway';\nsetInterval(() => {}, 1 << 30);\n",
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "while :; do node ./gateway.js; sleep 1; done"])
        .current_dir(dir)
        .env("OPENCLAW_SERVICE_KIND", "gateway")
        .env("OPENCLAW_SYSTEMD_UNIT", unit)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    Group(cmd.spawn().unwrap())
}

/// The daemon's event stream as an observer, read on a thread.
fn events(env: &Env) -> mpsc::Receiver<StreamEvent> {
    let mut c = Client::connect(&env.socket()).unwrap();
    let first = c
        .call(&Request::Subscribe {
            surface: ClientSurface::Observer,
        })
        .unwrap();
    assert!(matches!(first, Response::Event { .. }), "{first:?}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        while let Ok(Response::Event { event }) = c.next_response() {
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    rx
}

fn next_matching(
    rx: &mpsc::Receiver<StreamEvent>,
    what: &str,
    f: impl Fn(&StreamEvent) -> bool,
) -> StreamEvent {
    let deadline = Instant::now() + T;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(ev) if f(&ev) => return ev,
            Ok(_) => {}
            Err(_) => panic!("no {what} on the event stream"),
        }
    }
}

/// Our gateway as `reins status --json` lists it: (id, pid).
fn listed(env: &Env, dir: &Path) -> Option<(String, u32)> {
    common::status_agents(env).into_iter().find_map(|a| {
        (a["kind"] == "openclaw" && a["cwd"].as_str().map(PathBuf::from).as_deref() == Some(dir))
            .then(|| {
                (
                    a["id"].as_str().unwrap().to_owned(),
                    a["pid"].as_u64().unwrap() as u32,
                )
            })
    })
}

fn unique(env: &Env, name: &str) -> (PathBuf, String) {
    let dir = env.path(&format!("home/{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    (
        dir,
        format!("openclaw-gateway-{name}-{}.service", std::process::id()),
    )
}

#[test]
fn a_respawned_gateway_is_frozen_while_the_latch_holds_and_runs_again_when_released() {
    let env = Env::new();
    let (dir, unit) = unique(&env, "latch");
    let _daemon = env
        .reins()
        .env("REINS__HALT__RECHECK_AFTER_S", "10")
        .arg("daemon")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map(|mut c| {
            let mut out = Stream::new(c.stdout.take().unwrap());
            out.until("listening");
            common::Proc(c)
        })
        .unwrap();
    let sup = supervisor(&dir, &unit);
    let sup_pid = sup.0.id();
    let (id, first) = until("the gateway to be listed", || listed(&env, &dir));
    let stream = events(&env);

    // `reins stop` prints the verified stop at once, then the recheck.
    let mut stop = env
        .reins()
        .env("REINS__HALT__RECHECK_AFTER_S", "10")
        .args(["stop", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = Stream::new(stop.stdout.take().unwrap());
    out.until("checking again in 10 s");
    assert!(common::is_dead(first), "the stopped gateway is gone");

    // The loop restarts it; the latch freezes the newcomer and says so.
    let alert = match next_matching(&stream, "respawn alert", |e| {
        matches!(e, StreamEvent::Alert { .. })
    }) {
        StreamEvent::Alert { alert } => alert,
        _ => unreachable!(),
    };
    assert!(
        matches!(&alert.kind, reins_core::AlertKind::RespawnHeld { stopped, .. } if stopped.to_string() == id),
        "{alert:?}"
    );
    assert!(
        alert.message.contains("respawned by sh"),
        "{}",
        alert.message
    );
    assert!(alert.message.contains("held frozen"), "{}", alert.message);
    let held = alert.agent.root.pid;
    assert!(
        children(sup_pid).contains(&held),
        "the respawn is the loop's child"
    );
    assert_eq!(proc_state(held), Some('T'), "the respawn is frozen");

    // Ten seconds after the stop the daemon checks again: held, not running.
    let line = out.line_after(&format!("{id}: respawned by"));
    assert!(line.contains("held frozen"), "{line}");
    assert!(stop.wait().unwrap().success(), "reins stop failed");
    let running: Vec<_> = gateways(&unit)
        .into_iter()
        .filter(|(_, s)| *s != 'T')
        .collect();
    assert!(running.is_empty(), "unfrozen gateways: {running:?}");
    assert_eq!(
        gateways(&unit).len(),
        1,
        "the frozen respawn holds the loop"
    );

    // Reported in the audit log and in `reins status`.
    let audit = std::fs::read_to_string(env.audit_log()).unwrap();
    assert!(
        audit
            .lines()
            .any(|l| l.contains("\"respawn_held\"") && l.contains(&alert.agent.to_string())),
        "{audit}"
    );
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let latch = &v["latches"][0];
    assert_eq!(latch["stopped"], id.as_str(), "{v}");
    assert_eq!(latch["held"][0], alert.agent.to_string().as_str());
    assert_eq!(latch["supervisor"]["pid"], sup_pid);
    let text = stdout(&env.run(&["status"]));
    assert!(
        text.contains("Stop latches") && text.contains("held frozen"),
        "{text}"
    );

    // Release: the respawn runs again and its alert is cleared.
    let released = env.run(&["release", &id]);
    assert!(released.status.success(), "{}", stderr(&released));
    assert!(
        stdout(&released).contains("resumed held respawn"),
        "{}",
        stdout(&released)
    );
    next_matching(
        &stream,
        "alert cleared",
        |e| matches!(e, StreamEvent::AlertCleared { id } if *id == alert.id),
    );
    // Running again: not frozen, and its code runs (the environment
    // markers usually get it frozen before it has even renamed itself).
    until("the released respawn to run", || {
        (proc_state(held).is_some_and(|s| !matches!(s, 'T' | 'Z'))
            && argv0(held) == "openclaw-gateway")
            .then_some(())
    });
    let v: serde_json::Value =
        serde_json::from_slice(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(v["latches"], serde_json::json!([]), "{v}");
    assert!(
        std::fs::read_to_string(env.audit_log())
            .unwrap()
            .contains("\"released\""),
        "the release is audited"
    );
    drop(sup);
}

#[test]
fn a_paused_supervised_agent_stays_paused_and_is_not_replaced() {
    let env = Env::new();
    let (dir, unit) = unique(&env, "pause");
    let _daemon = env.daemon();
    let sup = supervisor(&dir, &unit);
    let sup_pid = sup.0.id();
    let (id, pid) = until("the gateway to be listed", || listed(&env, &dir));
    let o = env.run(&["pause", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(proc_state(pid), Some('T'));
    // The loop waits on its frozen child: once a scan has seen it paused,
    // it is still the loop's only child, still frozen, and no latch was set.
    until("a scan to list the gateway as paused", || {
        common::status_agents(&env)
            .iter()
            .any(|a| a["id"] == id.as_str() && a["state"] == "paused")
            .then_some(())
    });
    assert_eq!(children(sup_pid), vec![pid]);
    assert_eq!(gateways(&unit), vec![(pid, 'T')]);
    let v: serde_json::Value =
        serde_json::from_slice(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(v["latches"], serde_json::json!([]));
    drop(sup);
}

#[test]
fn stopping_the_supervisor_of_a_held_respawn_ends_the_loop_the_respawn_and_the_latch() {
    let env = Env::new();
    let (dir, unit) = unique(&env, "stopsup");
    let _daemon = env.daemon();
    let sup = supervisor(&dir, &unit);
    let sup_pid = sup.0.id();
    let (id, _) = until("the gateway to be listed", || listed(&env, &dir));
    let stream = events(&env);
    let o = env.run(&["stop", "--no-wait", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !stdout(&o).contains("checking again"),
        "--no-wait: {}",
        stdout(&o)
    );
    let alert = match next_matching(&stream, "respawn alert", |e| {
        matches!(e, StreamEvent::Alert { .. })
    }) {
        StreamEvent::Alert { alert } => alert,
        _ => unreachable!(),
    };
    assert!(
        alert
            .actions
            .contains(&reins_core::AlertAction::StopSupervisor)
    );
    let held = alert.agent.root.pid;
    let o = env.run(&["stop-supervisor", &alert.agent.to_string()]);
    assert!(o.status.success(), "{} {}", stdout(&o), stderr(&o));
    assert!(common::is_dead(sup_pid), "the loop is stopped");
    assert!(common::is_dead(held), "the held respawn went with it");
    assert!(gateways(&unit).is_empty(), "{:?}", gateways(&unit));
    let v: serde_json::Value =
        serde_json::from_slice(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(v["latches"], serde_json::json!([]), "{v}");
    drop(sup);
}
