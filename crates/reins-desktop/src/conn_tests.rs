use super::*;
use crate::core::{Desktop, DesktopOptions};
use crate::testkit::{FakeDaemon, agent, paths, request, send};
use crate::view::OpenViewView;
use rand::SeedableRng;
use reins_approval::broker::RiskLevel;
use reins_core::{Actor, AgentKind, AgentState, HaltOp, RegistryEvent};
use reins_runtime::ipc::HaltOutcome;
use reins_runtime::ipc::proto::{OpenView, StreamEvent};
use reins_runtime::surfaces::SurfacesSummary;

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

#[tokio::test]
async fn the_state_follows_the_stream_and_reconnects_after_the_daemon_goes_away() {
    let t = tempfile::tempdir().unwrap();
    let p = paths(t.path());
    // Bound before the client starts.
    let daemon = FakeDaemon::bind(&p);
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

    let (mut s, req) = daemon.accept().await;
    assert_eq!(
        req,
        Request::Subscribe {
            surface: ClientSurface::Tray
        }
    );
    let a = agent(AgentKind::ClaudeCode, 42, AgentState::Running);
    send(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![a.clone()],
            pending: vec![request("ls", RiskLevel::Low)],
            surfaces: SurfacesSummary::default(),
            alerts: Vec::new(),
            audit: None,
        },
    )
    .await;
    // The client asks for the link summary after a snapshot; answer it.
    let (status, req) = daemon.accept().await;
    assert_eq!(req, Request::Status);
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
    let (mut s, req) = daemon.accept().await;
    assert_eq!(
        req,
        Request::Subscribe {
            surface: ClientSurface::Tray
        }
    );
    send(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![],
            pending: vec![],
            surfaces: SurfacesSummary::default(),
            alerts: Vec::new(),
            audit: None,
        },
    )
    .await;
    rx.wait_for(|s| s.daemon == DaemonConn::Connected)
        .await
        .unwrap();
    shutdown.cancel();
}
