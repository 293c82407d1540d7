use super::*;
use crate::core::DesktopOptions;
use crate::testkit::{FakeDaemon, paths, reply, request, send};
use crate::view::DaemonConn;
use reins_approval::Decision;
use reins_approval::broker::RiskLevel;
use reins_runtime::ipc::proto::{Request, Response, StreamEvent};
use reins_runtime::surfaces::SurfacesSummary;
use tokio_util::sync::CancellationToken;

/// A desktop subscribed to a stand-in daemon whose snapshot holds one
/// normal and one high-risk request. Returns the daemon and the stream.
async fn desktop(
    dir: &std::path::Path,
) -> (
    Desktop,
    FakeDaemon,
    tokio::net::UnixStream,
    CancellationToken,
) {
    let p = paths(dir);
    let daemon = FakeDaemon::bind(&p);
    let shutdown = CancellationToken::new();
    let opts = DesktopOptions {
        start_daemon: false,
        paths: Some(p),
        ..DesktopOptions::tray()
    };
    let d = Desktop::start(opts, shutdown.clone());
    let (mut s, _) = daemon.accept().await;
    send(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![],
            pending: vec![
                request("cargo test", RiskLevel::Medium),
                request("rm -rf ~", RiskLevel::High),
            ],
            surfaces: SurfacesSummary::default(),
            alerts: Vec::new(),
            audit: None,
        },
    )
    .await;
    let _ = daemon.accept().await; // the link summary request
    d.watch()
        .wait_for(|s| s.daemon == DaemonConn::Connected)
        .await
        .unwrap();
    (d, daemon, s, shutdown)
}

#[tokio::test]
async fn menu_entries_that_only_open_or_toggle_need_no_daemon() {
    let t = tempfile::tempdir().unwrap();
    let opts = DesktopOptions {
        start_daemon: false,
        paths: Some(paths(t.path())),
        ..DesktopOptions::tray()
    };
    let d = Desktop::start(opts, CancellationToken::new());
    assert_eq!(
        d.handle_menu(MenuId::Pair).await,
        MenuOutcome::OpenWindow(OpenViewView::Pair)
    );
    assert_eq!(
        d.handle_menu(MenuId::Open).await,
        MenuOutcome::OpenWindow(OpenViewView::Agents)
    );
    assert_eq!(
        d.handle_menu(MenuId::Review("ab".into())).await,
        MenuOutcome::OpenWindow(OpenViewView::Approval {
            request_id: "ab".into()
        })
    );
    assert_eq!(
        d.handle_menu(MenuId::StartAtLogin).await,
        MenuOutcome::ToggleStartAtLogin
    );
    assert_eq!(d.handle_menu(MenuId::Quit).await, MenuOutcome::Quit);
    assert!(matches!(
        d.handle_menu(MenuId::Approve("ab".into())).await,
        MenuOutcome::Failed(_)
    ));
}

#[tokio::test]
async fn approve_from_the_menu_sends_the_exact_hash_it_showed() {
    let t = tempfile::tempdir().unwrap();
    let (d, daemon, _stream, shutdown) = desktop(t.path()).await;
    let normal = d.state().pending[0].clone();
    let task = tokio::spawn({
        let d = d.clone();
        let id = normal.request_id.clone();
        async move { d.handle_menu(MenuId::Approve(id)).await }
    });
    let (mut s, req) = daemon.accept().await;
    let Request::Decide {
        request_id,
        action_hash,
        decision,
    } = req
    else {
        panic!("{req:?}")
    };
    assert_eq!(request_id.to_string(), normal.request_id);
    assert_eq!(action_hash.to_string(), normal.action_hash);
    assert_eq!(decision, Decision::Allow);
    reply(&mut s, &Response::Decided { request_id }).await;
    assert_eq!(task.await.unwrap(), MenuOutcome::Decided);
    shutdown.cancel();
}

#[tokio::test]
async fn a_high_risk_request_is_never_approved_from_the_menu_or_without_confirmation() {
    let t = tempfile::tempdir().unwrap();
    let (d, _daemon, _stream, shutdown) = desktop(t.path()).await;
    let high = d.state().pending[1].clone();
    assert_eq!(
        d.handle_menu(MenuId::Approve(high.request_id.clone()))
            .await,
        MenuOutcome::OpenWindow(OpenViewView::Approval {
            request_id: high.request_id.clone()
        })
    );
    for decision in [DecisionView::Approve, DecisionView::ApproveSession] {
        let e = d
            .decide(&high.request_id, &high.action_hash, decision, false)
            .await
            .unwrap_err();
        assert!(
            e.message.contains("confirm it deliberately"),
            "{}",
            e.message
        );
    }
    // A hash that is not the pending one is refused before anything is sent
    // (the stand-in daemon accepts no connection: a send would hang the test).
    let e = d
        .decide(
            &high.request_id,
            &"00".repeat(32),
            DecisionView::Approve,
            true,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("Nothing was approved"), "{}", e.message);
    shutdown.cancel();
}

#[tokio::test]
async fn deny_from_the_menu_works_for_a_high_risk_request_and_a_daemon_refusal_is_shown() {
    let t = tempfile::tempdir().unwrap();
    let (d, daemon, _stream, shutdown) = desktop(t.path()).await;
    let high = d.state().pending[1].clone();
    let task = tokio::spawn({
        let d = d.clone();
        async move { d.handle_menu(MenuId::Deny(high.request_id)).await }
    });
    let (mut s, req) = daemon.accept().await;
    assert!(
        matches!(
            req,
            Request::Decide {
                decision: Decision::Deny { message: None },
                ..
            }
        ),
        "{req:?}"
    );
    reply(
        &mut s,
        &Response::error(
            reins_runtime::ipc::ErrorCode::Rejected,
            "this request was already resolved",
        ),
    )
    .await;
    let MenuOutcome::Failed(e) = task.await.unwrap() else {
        panic!()
    };
    assert!(
        e.message.starts_with("this request was already resolved"),
        "{}",
        e.message
    );
    shutdown.cancel();
}

#[tokio::test]
async fn stop_all_from_the_menu_reports_the_verified_outcome() {
    let t = tempfile::tempdir().unwrap();
    let (d, daemon, _stream, shutdown) = desktop(t.path()).await;
    let task = tokio::spawn({
        let d = d.clone();
        async move { d.handle_menu(MenuId::StopAll).await }
    });
    let (mut s, req) = daemon.accept().await;
    assert_eq!(
        req,
        Request::Halt {
            halt: reins_core::HaltOp::Stop,
            target: "all".into(),
            force: false
        }
    );
    let outcome = reins_runtime::ipc::HaltOutcome {
        op: reins_core::HaltOp::Stop,
        target: "all".into(),
        targets: vec![],
        warnings: vec![],
    };
    reply(&mut s, &Response::Halted(outcome)).await;
    let MenuOutcome::Done(r) = task.await.unwrap() else {
        panic!()
    };
    assert_eq!(r.op, HaltOpView::Stop);
    shutdown.cancel();
}

#[tokio::test]
async fn stop_this_run_from_the_menu_sends_a_soft_stop_and_reports_what_openclaw_did() {
    let t = tempfile::tempdir().unwrap();
    let (d, daemon, _stream, shutdown) = desktop(t.path()).await;
    let task = tokio::spawn({
        let d = d.clone();
        async move { d.handle_menu(MenuId::SoftStop("openclaw-9-1".into())).await }
    });
    let (mut s, req) = daemon.accept().await;
    assert_eq!(
        req,
        Request::SoftStop {
            target: "openclaw-9-1".into()
        }
    );
    let outcome = reins_runtime::daemon_openclaw::SoftStopOutcome {
        target: "openclaw-9-1".into(),
        runs: vec![reins_runtime::daemon_openclaw::AbortedRun {
            session_key: "agent:main:main".into(),
            outcome: Ok(reins_openclaw::AbortOutcome {
                aborted: true,
                run_id: Some("r1".into()),
                status: "aborted".into(),
            }),
        }],
    };
    reply(&mut s, &Response::SoftStopped(outcome)).await;
    let MenuOutcome::Done(r) = task.await.unwrap() else {
        panic!()
    };
    assert!(r.success);
    assert_eq!(r.op, HaltOpView::Stop);
    assert!(
        r.summary.contains("Aborted the run in agent:main:main"),
        "{}",
        r.summary
    );
    shutdown.cancel();
}

#[tokio::test]
async fn a_soft_stop_the_gateway_cannot_take_fails_with_the_gateway_words_not_the_phone_links() {
    let t = tempfile::tempdir().unwrap();
    let (d, daemon, _stream, shutdown) = desktop(t.path()).await;
    let task = tokio::spawn({
        let d = d.clone();
        async move { d.handle_menu(MenuId::SoftStop("openclaw-9-1".into())).await }
    });
    let (mut s, _) = daemon.accept().await;
    reply(
        &mut s,
        &Response::error(
            reins_runtime::ipc::ErrorCode::LinkUnavailable,
            "cannot reach OpenClaw's gateway: connection refused. `reins stop openclaw-9-1` stops it the hard way",
        ),
    )
    .await;
    // Shown the way a failed stop is: a result that is not a success (the
    // shell opens the window on it).
    let MenuOutcome::Done(r) = task.await.unwrap() else {
        panic!()
    };
    assert!(!r.success);
    assert!(
        r.summary
            .starts_with("Stop this run (keep gateway): cannot reach OpenClaw's gateway"),
        "{}",
        r.summary
    );
    assert!(r.summary.ends_with("Nothing was stopped."), "{}", r.summary);
    assert!(!r.summary.contains("phone link"), "{}", r.summary);
    shutdown.cancel();
}
