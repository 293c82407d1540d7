//! Tests for the audit writer's health machine.
use super::*;

fn entry(action: AuditAction, target: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor::Tray,
        action,
        target: target.into(),
        outcome: AuditOutcome::Ok,
        latency_us: None,
        detail: serde_json::Value::Null,
    }
}

const ENOSPC: &str = "No space left on device (os error 28)";

#[test]
fn a_healthy_writer_owes_no_gap_and_shows_no_problem() {
    let h = AuditHealth::new();
    assert!(!h.is_failing());
    assert_eq!(h.gap_entry(5), None);
    assert_eq!(h.problem("/x/audit.jsonl", Some(1)), None);
}

#[test]
fn failures_are_counted_from_the_first_one() {
    let mut h = AuditHealth::new();
    h.lost_entry(&entry(AuditAction::Stop, "claude-1-2"), ENOSPC, 1_000);
    h.lost_entry(&entry(AuditAction::ApprovalRequested, "r1"), ENOSPC, 2_000);
    h.lost_entry(
        &entry(AuditAction::ApprovalResolved, "r1"),
        "Read-only file system",
        3_000,
    );
    let p = h.problem("/var/reins/audit.jsonl", Some(0)).unwrap();
    assert_eq!(p.since_ms, 1_000);
    assert_eq!(p.lost, 3);
    assert_eq!(p.error, "Read-only file system");
    assert_eq!(p.dir(), "/var/reins");
}

#[test]
fn the_gap_record_says_how_many_between_when_and_which() {
    let mut h = AuditHealth::new();
    h.lost_entry(&entry(AuditAction::Stop, "a"), ENOSPC, 1_000);
    h.lost_entry(&entry(AuditAction::Stop, "b"), ENOSPC, 1_500);
    h.lost_entry(&entry(AuditAction::Pause, "c"), ENOSPC, 2_000);
    let gap = h.gap_entry(9_000).unwrap();
    assert_eq!(gap.action, AuditAction::Gap);
    assert_eq!(gap.actor, Actor::Daemon);
    assert_eq!(gap.detail["lost"], 3);
    assert_eq!(gap.detail["from_ms"], 1_000);
    assert_eq!(gap.detail["to_ms"], 9_000);
    assert_eq!(gap.detail["error"], ENOSPC);
    assert_eq!(gap.detail["first"][1]["target"], "b");
    assert_eq!(
        gap.detail["by_action"],
        serde_json::json!([{"action": "stop", "count": 2}, {"action": "pause", "count": 1}])
    );
}

#[test]
fn the_summary_stays_bounded_however_long_the_disk_stays_full() {
    let mut h = AuditHealth::new();
    let long = "x".repeat(10_000);
    for i in 0..10_000u64 {
        let action = if i % 2 == 0 {
            AuditAction::ApprovalRequested
        } else {
            AuditAction::ApprovalResolved
        };
        h.lost_entry(&entry(action, &long), ENOSPC, i);
    }
    let gap = h.gap_entry(10_001).unwrap();
    assert_eq!(gap.detail["lost"], 10_000);
    assert_eq!(gap.detail["first"].as_array().unwrap().len(), KEPT_LOST);
    assert_eq!(gap.detail["by_action"].as_array().unwrap().len(), 2);
    assert_eq!(gap.detail["not_listed"], 10_000 - KEPT_LOST as u64);
    assert!(serde_json::to_string(&gap).unwrap().len() < 4_096);
}

#[test]
fn a_failed_retry_updates_the_error_but_loses_nothing() {
    let mut h = AuditHealth::new();
    h.retry_failed(ENOSPC, 1);
    assert!(
        !h.is_failing(),
        "a retry with nothing owed starts no failure"
    );
    h.lost_entry(&entry(AuditAction::Stop, "a"), ENOSPC, 1);
    h.retry_failed("Input/output error", 2);
    assert_eq!(h.lost(), 1);
    assert_eq!(h.problem("/a", None).unwrap().error, "Input/output error");
}

#[test]
fn recovery_clears_the_problem_and_a_new_failure_starts_a_new_count() {
    let mut h = AuditHealth::new();
    h.lost_entry(&entry(AuditAction::Stop, "a"), ENOSPC, 1);
    h.recovered();
    assert!(!h.is_failing());
    assert_eq!(h.gap_entry(2), None);
    h.lost_entry(&entry(AuditAction::Resume, "a"), ENOSPC, 50);
    let p = h.problem("/a", None).unwrap();
    assert_eq!((p.lost, p.since_ms), (1, 50));
}

#[test]
fn the_message_names_the_error_the_count_the_time_and_the_free_space() {
    let p = AuditProblem {
        path: "/mnt/small/reins/audit.jsonl".into(),
        error: ENOSPC.into(),
        since_ms: (13 * 3600 + 5 * 60 + 9) * 1000,
        lost: 4,
        free_bytes: Some(0),
    };
    assert_eq!(
        p.message(),
        "the audit log cannot be written: No space left on device (os error 28); 4 entries \
         not logged since 13:05:09 UTC; 0 B free on /mnt/small/reins. Stops and approvals \
         still work; free space and logging resumes with a record of the gap"
    );
}
