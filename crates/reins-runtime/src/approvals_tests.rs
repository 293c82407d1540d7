//! Tests for the approvals task, with paused tokio time and a real (temp) audit log.
use super::*;
use crate::audit::AuditLog;
use crate::clock::MonotonicClock;
use reins_approval::{ActionSpec, RiskLevel, TimeoutOutcome};
use reins_core::AgentKind;
use std::time::Duration;

struct Fixture {
    _dir: tempfile::TempDir,
    log: AuditLog,
    handle: ApprovalsHandle,
    clock: Arc<MonotonicClock>,
    stop: CancellationToken,
}

fn fixture(on_timeout: TimeoutOutcome) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.jsonl"));
    let clock = Arc::new(MonotonicClock::starting_at(1_000_000));
    let stop = CancellationToken::new();
    let config = BrokerConfig {
        on_timeout,
        ..BrokerConfig::default()
    };
    let handle = ApprovalsHandle::spawn(
        config,
        clock.clone(),
        AuditHandle::spawn(log.clone()),
        stop.clone(),
        &TaskTracker::new(),
    );
    Fixture {
        _dir: dir,
        log,
        handle,
        clock,
        stop,
    }
}

fn request(f: &Fixture, session: &str, cmd: &str, ttl_ms: u64) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some(session.into()),
        tool_name: "Bash".into(),
        tool_input: serde_json::json!({ "command": cmd }),
        command: Some(cmd.into()),
        cwd: Some("/tmp".into()),
    };
    ApprovalRequest::new(spec, None, RiskLevel::Low, f.clock.now_ms(), ttl_ms)
}

fn person() -> Actor {
    Actor::Cli { pid: 1, uid: 1 }
}

async fn wait_pending(f: &Fixture, n: usize) -> Vec<ApprovalRequest> {
    loop {
        let p = f.handle.pending().await;
        if p.len() == n {
            return p;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn an_allow_decision_reaches_the_waiting_hook_and_is_audited() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "ls", 90_000);
    let (id, hash) = (r.request_id, r.action_hash);
    let h = f.handle.clone();
    let waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    assert_eq!(
        f.handle.decide(id, hash, Decision::Allow, person()).await,
        Ok(())
    );
    assert_eq!(waiter.await.unwrap(), HookVerdict::Allow);
    // Audit is asynchronous: poll the file until both records are there.
    loop {
        let recs = f.log.read_all().unwrap();
        if recs.len() == 2 {
            assert_eq!(recs[1].entry.action, AuditAction::ApprovalResolved);
            assert_eq!(recs[1].entry.outcome, AuditOutcome::Ok);
            break;
        }
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_request_abstains_at_its_deadline() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "ls", 90_000);
    let h = f.handle.clone();
    let waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    tokio::time::sleep(Duration::from_secs(89)).await;
    assert!(!waiter.is_finished());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(waiter.await.unwrap(), HookVerdict::Abstain);
}

#[tokio::test(start_paused = true)]
async fn a_deny_timeout_policy_denies_and_never_allows() {
    let f = fixture(TimeoutOutcome::Deny);
    let r = request(&f, "s1", "ls", 5_000);
    let v = f.handle.ask(r).await;
    assert!(matches!(v, HookVerdict::Deny { .. }), "{v:?}");
}

#[tokio::test(start_paused = true)]
async fn the_first_decision_wins_and_the_second_is_told_already_resolved() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "rm x", 90_000);
    let (id, hash) = (r.request_id, r.action_hash);
    let h = f.handle.clone();
    let waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    let deny = Decision::Deny {
        message: Some("no".into()),
    };
    let (a, b) = tokio::join!(
        f.handle.decide(id, hash, deny, person()),
        f.handle.decide(
            id,
            hash,
            Decision::Allow,
            Actor::Phone {
                device_id: "p".into()
            }
        )
    );
    assert_eq!(a, Ok(()));
    assert!(
        matches!(b, Err(RejectReason::AlreadyResolved { .. })),
        "{b:?}"
    );
    assert!(matches!(waiter.await.unwrap(), HookVerdict::Deny { .. }));
}

#[tokio::test(start_paused = true)]
async fn a_decision_with_the_wrong_hash_changes_nothing() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "ls", 90_000);
    let id = r.request_id;
    let other = request(&f, "s1", "rm -rf build", 90_000).action_hash;
    let h = f.handle.clone();
    let _waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    assert_eq!(
        f.handle.decide(id, other, Decision::Allow, person()).await,
        Err(RejectReason::HashMismatch)
    );
    assert_eq!(f.handle.pending().await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn session_activity_withdraws_the_sessions_prompt_with_abstain() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "ls", 90_000);
    let h = f.handle.clone();
    let waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    f.handle.session_event("s1".into(), None, false).await;
    assert_eq!(waiter.await.unwrap(), HookVerdict::Abstain);
    assert!(f.handle.pending().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_makes_every_waiting_hook_abstain() {
    let f = fixture(TimeoutOutcome::Abstain);
    let r = request(&f, "s1", "ls", 90_000);
    let h = f.handle.clone();
    let waiter = tokio::spawn(async move { h.ask(r).await });
    wait_pending(&f, 1).await;
    f.stop.cancel();
    assert_eq!(waiter.await.unwrap(), HookVerdict::Abstain);
}

#[tokio::test(start_paused = true)]
async fn a_stop_request_is_found_by_ancestry_and_by_session() {
    let f = fixture(TimeoutOutcome::Abstain);
    let root = ProcessKey {
        pid: 42,
        start_ticks: 7,
    };
    let agent = AgentId {
        kind: AgentKind::ClaudeCode,
        root,
    };
    f.handle
        .session_event("s9".into(), Some(agent.clone()), false)
        .await;
    assert_eq!(f.handle.stop_requested(vec![root], None).await, None);
    f.handle.request_stop(vec![agent.clone()]).await;
    let other = ProcessKey {
        pid: 1,
        start_ticks: 1,
    };
    assert_eq!(
        f.handle.stop_requested(vec![other, root], None).await,
        Some(agent.clone())
    );
    assert_eq!(
        f.handle
            .stop_requested(vec![other], Some("s9".into()))
            .await,
        Some(agent)
    );
    assert_eq!(
        f.handle
            .stop_requested(vec![other], Some("s8".into()))
            .await,
        None
    );
}
