//! Connect Reins' real link to a real OpenClaw gateway and print what it
//! sees: the status, the snapshot of pending approvals, then events.
//!
//! The gateway is found as the daemon finds it ([`discover`]: OpenClaw's
//! config file, `OPENCLAW_GATEWAY_PORT`, `OPENCLAW_GATEWAY_TOKEN`).
//! Options (environment):
//! - `PROBE_SECONDS` (default 15): how long to watch.
//! - `PROBE_APPROVER=0`: connect without the approval caps.
//! - `PROBE_DECISION=allow-once|deny`: send this decision for the first
//!   approval seen (in the snapshot or requested while watching), and print
//!   OpenClaw's answer. Without it the probe never decides anything.
//! - `PROBE_ABORT=<session key>`: call `sessions.abort` on it once up.
//!
//! A fresh in-memory device key is used each run (OpenClaw auto-approves a
//! new loopback device that holds the shared token).
//!
//! Not a test: nothing here asserts; it is for a person checking a real install.

use reins_link::MemorySecretStore;
use reins_openclaw::discover::{ProcessEnv, discover};
use reins_openclaw::wire::decision_from_str;
use reins_openclaw::{LinkConfig, LinkEvent, LinkHandle};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tokio::main]
async fn main() {
    let target = match discover(&ProcessEnv) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("probe: {e}");
            std::process::exit(2);
        }
    };
    println!("probe: target {target:?}");
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let seconds: u64 = env("PROBE_SECONDS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let decision = env("PROBE_DECISION").and_then(|d| decision_from_str(&d));
    let abort = env("PROBE_ABORT");
    let config = LinkConfig {
        target,
        display_name: "Reins probe".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        approver: env("PROBE_APPROVER").as_deref() != Some("0"),
        request_timeout: Duration::from_secs(10),
    };
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let (link, mut events) = LinkHandle::spawn(
        config,
        Arc::new(MemorySecretStore::new()),
        shutdown.clone(),
        &tracker,
    );
    let deadline = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(deadline);
    let mut decided = false;
    loop {
        let ev = tokio::select! {
            _ = &mut deadline => break,
            ev = events.recv() => match ev { Some(ev) => ev, None => break },
        };
        match &ev {
            LinkEvent::Status(s) => {
                println!("status: {}", serde_json::to_string(s).unwrap_or_default())
            }
            LinkEvent::Snapshot(list) => {
                println!("snapshot: {} pending", list.len());
                for a in list {
                    println!("  {}", serde_json::to_string(a).unwrap_or_default());
                }
                if let (Some(d), false, Some(a)) = (decision, decided, list.first()) {
                    decided = true;
                    let r = link.resolve(a.kind, &a.id, d).await;
                    println!("resolve (from snapshot) {} {} -> {r:?}", a.id, d.as_str());
                }
                match link.active_sessions().await {
                    Ok(keys) => println!("active sessions: {keys:?}"),
                    Err(e) => println!("active sessions failed: {e}"),
                }
                if let Some(key) = &abort {
                    println!("sessions.abort {key}: {:?}", link.abort_session(key).await);
                }
            }
            LinkEvent::Requested(a) => {
                println!(
                    "requested: {}",
                    serde_json::to_string(a).unwrap_or_default()
                );
                if let (Some(d), false) = (decision, decided) {
                    decided = true;
                    let r = link.resolve(a.kind, &a.id, d).await;
                    println!("resolve {} {} -> {r:?}", a.id, d.as_str());
                    let again = link.resolve(a.kind, &a.id, d).await;
                    println!("same decision again -> {again:?}");
                }
            }
            LinkEvent::Resolved(r) => {
                println!("resolved: {}", serde_json::to_string(r).unwrap_or_default())
            }
            LinkEvent::Lost => println!("lost"),
        }
    }
    println!(
        "final status: {}",
        serde_json::to_string(&link.status()).unwrap_or_default()
    );
    shutdown.cancel();
    tracker.close();
    tracker.wait().await;
}
