//! The real link against the fake gateway, over real loopback sockets.
//! Every wait is on an event or a condition, bounded by [`within`]; nothing
//! sleeps to wait.

use reins_link::MemorySecretStore;
use reins_link::backoff::BackoffPolicy;
use reins_openclaw::discover::{GatewayTarget, TokenSource};
use reins_openclaw::fake::{ExecRequest, FakeGateway, FakeOptions, PluginRequest};
use reins_openclaw::link::LinkOptions;
use reins_openclaw::{
    ApprovalKind, GatewayDecision, LinkConfig, LinkError, LinkEvent, LinkHandle, LinkStatus,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zeroize::Zeroizing;

const TOKEN: &str = "test-token-5f2c";

/// A bound on every wait, so a broken link fails the test instead of hanging it.
async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("timed out waiting")
}

struct Rig {
    gw: FakeGateway,
    link: LinkHandle,
    events: mpsc::Receiver<LinkEvent>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
}

impl Rig {
    async fn start(approver: bool, token: &str, opts: FakeOptions) -> Rig {
        let gw = FakeGateway::start(FakeOptions {
            token: TOKEN.into(),
            ..opts
        })
        .await
        .unwrap();
        let target = GatewayTarget {
            url: gw.url(),
            port: gw.port(),
            token: Zeroizing::new(token.into()),
            token_source: TokenSource::Env,
            config_path: None,
        };
        let config = LinkConfig {
            target,
            display_name: "Reins".into(),
            version: "0.1.0".into(),
            approver,
            request_timeout: Duration::from_secs(5),
        };
        let options = LinkOptions {
            backoff: BackoffPolicy {
                base: Duration::from_millis(20),
                cap: Duration::from_millis(100),
            },
            refused_retry: Duration::from_millis(200),
            ..LinkOptions::default()
        };
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (link, events) = LinkHandle::spawn_with(
            config,
            options,
            Arc::new(MemorySecretStore::new()),
            shutdown.clone(),
            &tracker,
        );
        Rig {
            gw,
            link,
            events,
            shutdown,
            tracker,
        }
    }

    /// The next event that `pick` accepts (others are skipped).
    async fn next<T>(&mut self, mut pick: impl FnMut(LinkEvent) -> Option<T>) -> T {
        within(async {
            loop {
                let ev = self.events.recv().await.expect("link ended");
                if let Some(v) = pick(ev) {
                    return v;
                }
            }
        })
        .await
    }

    async fn snapshot(&mut self) -> Vec<reins_openclaw::GatewayApproval> {
        self.next(|e| match e {
            LinkEvent::Snapshot(s) => Some(s),
            _ => None,
        })
        .await
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.tracker.close();
        within(self.tracker.wait()).await;
        self.gw.shutdown();
    }
}

fn exec(cmd: &str) -> ExecRequest {
    ExecRequest {
        command: cmd.into(),
        argv: Some(cmd.split(' ').map(str::to_owned).collect()),
        cwd: "/home/u".into(),
        agent_id: "main".into(),
        session_key: "agent:main:main".into(),
        ..ExecRequest::default()
    }
}

#[tokio::test]
async fn the_handshake_succeeds_and_reports_up_as_an_approver() {
    let mut rig = Rig::start(true, TOKEN, FakeOptions::default()).await;
    assert!(rig.snapshot().await.is_empty());
    let status = rig
        .next(|e| match e {
            LinkEvent::Status(s @ LinkStatus::Up { .. }) => Some(s),
            _ => None,
        })
        .await;
    let LinkStatus::Up {
        protocol,
        approver,
        pending,
        server_version,
        url,
    } = status
    else {
        unreachable!()
    };
    assert_eq!((protocol, approver, pending), (4, true, 0));
    assert_eq!(server_version.as_deref(), Some("fake-openclaw"));
    assert_eq!(url, rig.gw.url());
    let clients = rig.gw.clients();
    assert_eq!(clients.len(), 1);
    assert!(clients[0].approver);
    assert_eq!(clients[0].display_name, "Reins");
    assert_eq!(
        clients[0].device_id.len(),
        64,
        "the device proof was verified"
    );
    assert!(matches!(rig.link.status(), LinkStatus::Up { .. }));
    rig.stop().await;
}

#[tokio::test]
async fn an_exec_approval_arrives_with_its_full_command_and_decisions_reach_the_gateway() {
    let mut rig = Rig::start(true, TOKEN, FakeOptions::default()).await;
    rig.snapshot().await;
    let long = format!("gog gmail delete --query '{}'", "from:boss ".repeat(4000));
    let id = rig.gw.request_exec(ExecRequest {
        in_run_plan: true,
        ..exec(&long)
    });
    let a = rig
        .next(|e| match e {
            LinkEvent::Requested(a) => Some(a),
            _ => None,
        })
        .await;
    assert_eq!(a.id, id);
    assert_eq!(a.kind, ApprovalKind::Exec);
    assert_eq!(
        a.command.as_deref(),
        Some(long.as_str()),
        "the full text, not the preview"
    );
    assert_eq!(a.cwd.as_deref(), Some("/home/u"));
    assert_eq!(a.agent_id.as_deref(), Some("main"));
    assert_eq!(a.session_key.as_deref(), Some("agent:main:main"));

    rig.link
        .resolve(ApprovalKind::Exec, &id, GatewayDecision::AllowOnce)
        .await
        .unwrap();
    let d = within(rig.gw.wait_for_decision(&id)).await;
    assert_eq!(
        (
            d.decision.as_str(),
            d.client.as_str(),
            d.method.as_str(),
            d.applied
        ),
        ("allow-once", "Reins", "approval.resolve", true)
    );
    let r = rig
        .next(|e| match e {
            LinkEvent::Resolved(r) => Some(r),
            _ => None,
        })
        .await;
    assert_eq!(
        (r.id.as_str(), r.decision),
        (id.as_str(), Some(GatewayDecision::AllowOnce))
    );

    let id2 = rig.gw.request_exec(exec("rm -rf ~/mail"));
    rig.next(|e| match e {
        LinkEvent::Requested(a) if a.id == id2 => Some(()),
        _ => None,
    })
    .await;
    rig.link
        .resolve(ApprovalKind::Exec, &id2, GatewayDecision::Deny)
        .await
        .unwrap();
    assert_eq!(
        within(rig.gw.wait_for_decision(&id2)).await.decision,
        "deny"
    );
    assert!(rig.gw.pending().is_empty());
    rig.stop().await;
}

#[tokio::test]
async fn without_approval_resolve_the_per_kind_methods_are_used() {
    let mut rig = Rig::start(
        true,
        TOKEN,
        FakeOptions {
            approval_resolve: false,
            ..FakeOptions::default()
        },
    )
    .await;
    rig.snapshot().await;
    let id = rig.gw.request_plugin(PluginRequest {
        title: "Send message?".into(),
        tool_name: "message".into(),
        ..PluginRequest::default()
    });
    let a = rig
        .next(|e| match e {
            LinkEvent::Requested(a) => Some(a),
            _ => None,
        })
        .await;
    assert_eq!(
        (a.kind, a.tool_name.as_str(), a.title.as_deref()),
        (ApprovalKind::Plugin, "message", Some("Send message?"))
    );
    rig.link
        .resolve(ApprovalKind::Plugin, &id, GatewayDecision::Deny)
        .await
        .unwrap();
    let d = within(rig.gw.wait_for_decision(&id)).await;
    assert_eq!(
        (d.method.as_str(), d.decision.as_str()),
        ("plugin.approval.resolve", "deny")
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_decision_made_in_another_client_arrives_as_resolved_and_a_late_one_is_refused() {
    let mut rig = Rig::start(true, TOKEN, FakeOptions::default()).await;
    rig.snapshot().await;
    let id = rig.gw.request_exec(exec("ls"));
    rig.next(|e| match e {
        LinkEvent::Requested(_) => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(rig.gw.resolve_as_other_client(&id, "deny"), Ok(true));
    let r = rig
        .next(|e| match e {
            LinkEvent::Resolved(r) => Some(r),
            _ => None,
        })
        .await;
    assert_eq!(
        (r.decision, r.resolved_by.as_deref()),
        (Some(GatewayDecision::Deny), Some("other-client"))
    );
    let late = rig
        .link
        .resolve(ApprovalKind::Exec, &id, GatewayDecision::AllowOnce)
        .await;
    assert!(
        matches!(&late, Err(LinkError::Gateway { message, .. }) if message.contains("already resolved")),
        "{late:?}"
    );
    assert!(
        rig.link
            .resolve(ApprovalKind::Exec, &id, GatewayDecision::Deny)
            .await
            .is_ok(),
        "the same decision again is fine"
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_is_lost_then_the_reconnect_snapshot_lists_what_is_still_pending() {
    let mut rig = Rig::start(true, TOKEN, FakeOptions::default()).await;
    rig.snapshot().await;
    let kept = rig.gw.request_exec(exec("gog gmail trash --all"));
    let done = rig.gw.request_plugin(PluginRequest {
        title: "t".into(),
        ..PluginRequest::default()
    });
    rig.next(|e| match e {
        LinkEvent::Requested(a) if a.id == done => Some(()),
        _ => None,
    })
    .await;
    rig.gw.drop_connections();
    rig.next(|e| matches!(e, LinkEvent::Lost).then_some(()))
        .await;
    // Decided elsewhere while Reins was away: must not come back.
    rig.gw.resolve_as_other_client(&done, "allow-once").unwrap();
    let snap = rig.snapshot().await;
    let ids: Vec<_> = snap.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, [kept.as_str()]);
    assert_eq!(snap[0].command.as_deref(), Some("gog gmail trash --all"));
    assert!(matches!(
        rig.link.status(),
        LinkStatus::Up { pending: 1, .. }
    ));
    assert!(
        rig.gw.decisions().iter().all(|d| d.client != "Reins"),
        "the link never decides by itself"
    );
    rig.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_openclaw_s_message() {
    let mut rig = Rig::start(true, "wrong-token", FakeOptions::default()).await;
    let error = rig
        .next(|e| match e {
            LinkEvent::Status(LinkStatus::Refused { error, .. }) => Some(error),
            _ => None,
        })
        .await;
    assert!(
        error.contains("unauthorized: gateway token mismatch"),
        "{error}"
    );
    assert!(error.contains("OPENCLAW_GATEWAY_TOKEN"), "{error}");
    assert!(rig.gw.clients().is_empty());
    let e = rig
        .link
        .resolve(ApprovalKind::Exec, "x", GatewayDecision::Deny)
        .await;
    assert!(matches!(e, Err(LinkError::NotConnected(_))), "{e:?}");
    // Retried (slowly): a second refusal reaches the gateway.
    within(rig.gw.wait_for_refusals(2)).await;
    rig.stop().await;
}

#[tokio::test]
async fn a_non_approver_gets_no_approval_events_and_switching_reconnects_as_approver() {
    let mut rig = Rig::start(false, TOKEN, FakeOptions::default()).await;
    assert!(rig.snapshot().await.is_empty());
    assert!(!rig.gw.clients()[0].approver);
    let id = rig.gw.request_exec(exec("echo hi"));
    // Prove no event came: the next thing the link reports is the reconnect.
    rig.link.set_approver(true);
    let snap = rig
        .next(|e| match e {
            LinkEvent::Requested(a) => panic!("a non-approver got {a:?}"),
            LinkEvent::Snapshot(s) => Some(s),
            _ => None,
        })
        .await;
    assert_eq!(
        snap.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        vec![id]
    );
    let clients = within(rig.gw.wait_for_clients(1)).await;
    assert!(clients[0].approver);
    rig.stop().await;
}

#[tokio::test]
async fn abort_session_stops_the_run_and_clears_its_queue() {
    let mut rig = Rig::start(false, TOKEN, FakeOptions::default()).await;
    rig.snapshot().await;
    rig.gw.set_session("agent:main:main", true);
    rig.gw.set_session("agent:main:idle", false);
    assert_eq!(
        rig.link.active_sessions().await.unwrap(),
        vec!["agent:main:main".to_string()]
    );
    let out = rig.link.abort_session("agent:main:main").await.unwrap();
    assert!(out.aborted);
    assert_eq!(out.status, "aborted");
    assert_eq!(rig.gw.aborts(), vec![("agent:main:main".to_string(), true)]);
    let again = rig.link.abort_session("agent:main:main").await.unwrap();
    assert_eq!(
        (again.aborted, again.status.as_str()),
        (false, "no-active-run")
    );
    rig.stop().await;
}

#[tokio::test]
async fn forged_and_garbage_frames_from_the_gateway_do_not_crash_the_link() {
    let mut rig = Rig::start(true, TOKEN, FakeOptions::default()).await;
    rig.snapshot().await;
    for junk in [
        "not json at all",
        r#"{"type":"res","id":"reins-999","ok":true,"payload":{"applied":true}}"#,
        r#"{"type":"event","event":"exec.approval.requested","payload":{"id":"forged"}}"#,
        r#"{"type":"req","id":"1","method":"exec.approval.resolve","params":{"id":"x","decision":"allow-once"}}"#,
        r#"{"type":"event","event":"exec.approval.resolved","payload":7}"#,
    ] {
        rig.gw.send_raw(junk);
    }
    let id = rig.gw.request_exec(exec("whoami"));
    let a = rig
        .next(|e| match e {
            LinkEvent::Requested(a) => Some(a),
            LinkEvent::Lost => panic!("the link dropped over garbage"),
            _ => None,
        })
        .await;
    assert_eq!(a.id, id, "the forged approval was not shown");
    assert!(rig.gw.decisions().is_empty(), "nothing was decided");
    rig.stop().await;
}

#[tokio::test]
async fn a_gateway_that_stops_ticking_is_treated_as_dead_and_reconnected() {
    let opts = FakeOptions {
        tick_interval: Some(Duration::from_millis(100)),
        ..FakeOptions::default()
    };
    let mut rig = Rig::start(true, TOKEN, opts).await;
    rig.snapshot().await;
    // Once a tick was sent, the link watches the heartbeat.
    within(rig.gw.wait_for_ticks(1)).await;
    rig.gw.set_ticks_stopped(true);
    let error = rig
        .next(|e| match e {
            LinkEvent::Status(LinkStatus::Down { error, .. }) => Some(error),
            _ => None,
        })
        .await;
    assert!(error.contains("tick"), "{error}");
    rig.gw.set_ticks_stopped(false);
    rig.snapshot().await;
    rig.stop().await;
}
