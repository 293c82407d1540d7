use super::*;
use crate::core::{Desktop, DesktopOptions};
use crate::testkit::{agent, request};
use crate::view::OpenViewView;
use rand::SeedableRng;
use reins_approval::broker::RiskLevel;
use reins_core::{Actor, AgentKind, AgentState, HaltOp, RegistryEvent};
use reins_runtime::ipc::HaltOutcome;
use reins_runtime::ipc::proto::{OpenView, StreamEvent};
use reins_runtime::paths::Paths;
use reins_runtime::surfaces::SurfacesSummary;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

#[test]
fn backoff_doubles_from_the_minimum_and_stops_at_the_maximum() {
    assert_eq!(backoff(0), BACKOFF_MIN);
    assert_eq!(backoff(1), BACKOFF_MIN * 2);
    assert_eq!(backoff(30), BACKOFF_MAX);
}

#[test]
fn jitter_stays_between_half_and_the_whole_delay() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..1000 {
        let d = jitter(Duration::from_secs(2), &mut rng);
        assert!(
            d >= Duration::from_secs(1) && d <= Duration::from_secs(2),
            "{d:?}"
        );
    }
}

/// A stand-in daemon socket: accepts one subscriber at a time.
struct FakeDaemon {
    listener: UnixListener,
}

impl FakeDaemon {
    async fn accept(&self) -> UnixStream {
        let (s, _) = self.listener.accept().await.unwrap();
        s
    }
}

async fn expect_subscribe(s: &mut UnixStream) {
    let mut line = String::new();
    BufReader::new(&mut *s).read_line(&mut line).await.unwrap();
    let req: Request = serde_json::from_str(&line).unwrap();
    assert_eq!(
        req,
        Request::Subscribe {
            surface: ClientSurface::Tray
        }
    );
}

async fn send(s: &mut UnixStream, event: StreamEvent) {
    let mut line = serde_json::to_vec(&Response::Event { event }).unwrap();
    line.push(b'\n');
    s.write_all(&line).await.unwrap();
}

fn paths(dir: &std::path::Path) -> Paths {
    Paths {
        config_dir: dir.join("config"),
        data_dir: dir.join("data"),
        runtime_dir: dir.join("run"),
    }
}

#[tokio::test]
async fn the_state_follows_the_stream_and_reconnects_after_the_daemon_goes_away() {
    let t = tempfile::tempdir().unwrap();
    let p = paths(t.path());
    std::fs::create_dir_all(&p.runtime_dir).unwrap();
    // Bound before the client starts.
    let daemon = FakeDaemon {
        listener: UnixListener::bind(p.socket()).unwrap(),
    };
    let opts = DesktopOptions {
        start_daemon: false,
        paths: Some(p.clone()),
        ..DesktopOptions::tray()
    };
    let shutdown = CancellationToken::new();
    let d = Desktop::start(opts, shutdown.clone());
    let mut rx = d.watch();
    let mut opens = d.opens();
    let mut halts = d.halts();

    let mut s = daemon.accept().await;
    expect_subscribe(&mut s).await;
    let a = agent(AgentKind::ClaudeCode, 42, AgentState::Running);
    send(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![a.clone()],
            pending: vec![request("ls", RiskLevel::Low)],
            surfaces: SurfacesSummary::default(),
        },
    )
    .await;
    // The client asks for the link summary after a snapshot; answer it.
    let mut status = daemon.accept().await;
    let mut line = String::new();
    BufReader::new(&mut status)
        .read_line(&mut line)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Request>(&line).unwrap(),
        Request::Status
    );
    drop(status);
    rx.wait_for(|s| s.daemon == DaemonConn::Connected && s.agents.len() == 1)
        .await
        .unwrap();

    send(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Exited { id: a.id.clone() },
        },
    )
    .await;
    send(
        &mut s,
        StreamEvent::Open {
            view: OpenView::Agents,
        },
    )
    .await;
    let outcome = HaltOutcome {
        op: HaltOp::Stop,
        target: "all".into(),
        targets: vec![],
        warnings: vec![],
    };
    send(
        &mut s,
        StreamEvent::Halted {
            actor: Actor::Tray,
            outcome,
        },
    )
    .await;
    assert_eq!(opens.recv().await.unwrap(), OpenViewView::Agents);
    let h = halts.recv().await.unwrap();
    assert_eq!(h.summary, "Nothing to stop: no agent matched 'all'");
    assert!(d.state().agents.is_empty());
    assert_eq!(d.state().pending.len(), 1);

    // The daemon goes away: the lists are dropped and the client reconnects.
    drop(s);
    rx.wait_for(|s| s.daemon == DaemonConn::Connecting)
        .await
        .unwrap();
    assert!(d.state().pending.is_empty());
    let mut s = daemon.accept().await;
    expect_subscribe(&mut s).await;
    send(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![],
            pending: vec![],
            surfaces: SurfacesSummary::default(),
        },
    )
    .await;
    rx.wait_for(|s| s.daemon == DaemonConn::Connected)
        .await
        .unwrap();
    shutdown.cancel();
}
