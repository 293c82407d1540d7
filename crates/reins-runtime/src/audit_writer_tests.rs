//! Tests for the audit writer's failure and recovery (the file is made
//! unwritable by putting a directory where it should be, which fails even
//! as root; the end-to-end test fills a real tmpfs).
use super::*;
use crate::audit::{AuditAction, AuditOutcome, AuditRecord, Verification};
use reins_core::Actor;

fn entry(target: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor::Tray,
        action: AuditAction::Stop,
        target: target.into(),
        outcome: AuditOutcome::Ok,
        latency_us: None,
        detail: serde_json::Value::Null,
    }
}

/// Wait until the writer's problem satisfies `f` (bounded by a deadline).
async fn until(h: &AuditHandle, f: impl Fn(&Option<AuditProblem>) -> bool) {
    let mut rx = h.watch_problem();
    tokio::time::timeout(Duration::from_secs(10), rx.wait_for(|p| f(p)))
        .await
        .expect("the audit problem never reached the expected state")
        .expect("the writer stopped");
}

#[tokio::test]
async fn failed_appends_are_counted_shown_and_recorded_as_a_gap_once_writable() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("audit.jsonl");
    let log = AuditLog::new(&path);
    let h = AuditHandle::spawn_with_retry(log.clone(), Duration::from_secs(3600));
    assert!(h.append_all(vec![entry("before")]).await.is_empty());
    let text = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();

    let errors = h.append_all(vec![entry("a"), entry("b"), entry("c")]).await;
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[2].contains("was carried out"), "{}", errors[2]);
    until(&h, |p| p.as_ref().is_some_and(|p| p.lost == 3)).await;
    let p = h.problem().unwrap();
    assert!(p.error.contains("directory"), "{}", p.error);
    assert!(
        p.message().contains("3 entries not logged"),
        "{}",
        p.message()
    );

    std::fs::remove_dir(&path).unwrap();
    std::fs::write(&path, text).unwrap();
    assert!(h.append_all(vec![entry("after")]).await.is_empty());
    until(&h, |p| p.is_none()).await;

    let recs: Vec<AuditRecord> = log.read_all().unwrap();
    let targets: Vec<&str> = recs.iter().map(|r| r.entry.target.as_str()).collect();
    assert_eq!(targets, ["before", "audit", "after"]);
    assert_eq!(recs[1].entry.action, AuditAction::Gap);
    assert_eq!(recs[1].entry.detail["lost"], 3);
    assert_eq!(
        log.verify().unwrap(),
        Verification::Intact {
            records: 3,
            gaps: 1,
            lost: 3
        }
    );
}

#[tokio::test]
async fn an_idle_writer_notices_that_space_returned_and_clears_the_problem() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("audit.jsonl");
    std::fs::create_dir(&path).unwrap();
    let log = AuditLog::new(&path);
    let h = AuditHandle::spawn_with_retry(log.clone(), Duration::from_millis(20));
    h.submit(entry("lost"));
    until(&h, |p| p.is_some()).await;

    std::fs::remove_dir(&path).unwrap();
    until(&h, |p| p.is_none()).await;
    let recs = log.read_all().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].entry.action, AuditAction::Gap);
    assert_eq!(recs[0].entry.detail["first"][0]["target"], "lost");
}

#[tokio::test]
async fn a_healthy_writer_reports_no_problem() {
    let t = tempfile::tempdir().unwrap();
    let h = AuditHandle::spawn(AuditLog::new(t.path().join("audit.jsonl")));
    assert!(h.append_all(vec![entry("x")]).await.is_empty());
    assert_eq!(h.problem(), None);
}
