//! Tests for the audit chain.
use super::*;
use std::os::unix::fs::PermissionsExt;

fn entry(target: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor::Cli { pid: 1, uid: 1000 },
        action: AuditAction::Stop,
        target: target.into(),
        outcome: AuditOutcome::Ok,
        latency_us: Some(10),
        detail: serde_json::Value::Null,
    }
}

fn log_with(n: usize) -> (tempfile::TempDir, AuditLog) {
    let t = tempfile::tempdir().unwrap();
    let log = AuditLog::new(t.path().join("reins/audit.jsonl"));
    for i in 0..n {
        log.append(entry(&format!("t{i}")), i as u64).unwrap();
    }
    (t, log)
}

#[test]
fn appended_records_chain_and_verify() {
    let (_t, log) = log_with(5);
    let recs = log.read_all().unwrap();
    assert_eq!(recs.len(), 5);
    assert_eq!(recs[0].prev, GENESIS);
    assert_eq!(recs[4].seq, 5);
    assert_eq!(
        log.verify().unwrap(),
        Verification::Intact {
            records: 5,
            gaps: 0,
            lost: 0
        }
    );
}

#[test]
fn the_log_file_is_private() {
    let (_t, log) = log_with(1);
    let mode = std::fs::metadata(log.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_edited_record_is_named_as_the_first_broken_link() {
    let (_t, log) = log_with(5);
    let text = std::fs::read_to_string(log.path()).unwrap();
    let edited = text.replacen("\"t2\"", "\"tX\"", 1);
    std::fs::write(log.path(), edited).unwrap();
    // Line 3 itself still parses and links to line 2; line 4's prev no longer matches.
    match log.verify().unwrap() {
        Verification::Broken { line, .. } => assert_eq!(line, 4),
        v => panic!("tampering not detected: {v:?}"),
    }
}

#[test]
fn a_deleted_record_breaks_the_chain() {
    let (_t, log) = log_with(4);
    let text = std::fs::read_to_string(log.path()).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(log.path(), kept.join("\n") + "\n").unwrap();
    assert!(matches!(
        log.verify().unwrap(),
        Verification::Broken { line: 2, .. }
    ));
}

#[test]
fn garbage_in_the_log_is_reported_not_skipped_by_verify() {
    let (_t, log) = log_with(2);
    let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
    f.write_all(b"not json\n").unwrap();
    assert!(matches!(
        log.verify().unwrap(),
        Verification::Broken { line: 3, .. }
    ));
    assert_eq!(log.read_all().unwrap().len(), 2);
}

#[test]
fn a_missing_log_verifies_as_empty() {
    let t = tempfile::tempdir().unwrap();
    let log = AuditLog::new(t.path().join("none.jsonl"));
    assert_eq!(
        log.verify().unwrap(),
        Verification::Intact {
            records: 0,
            gaps: 0,
            lost: 0
        }
    );
}

#[test]
fn an_unwritable_log_returns_an_error_that_says_the_action_happened() {
    let t = tempfile::tempdir().unwrap();
    // A directory where the file should be: open() fails even as root.
    let path = t.path().join("audit.jsonl");
    std::fs::create_dir(&path).unwrap();
    let err = AuditLog::new(&path).append(entry("x"), 0).unwrap_err();
    assert!(err.to_string().contains("was carried out"), "{err}");
}

#[test]
fn concurrent_appenders_keep_one_unbroken_chain() {
    let (_t, log) = log_with(0);
    let handles: Vec<_> = (0..4)
        .map(|w| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    log.append(entry(&format!("w{w}-{i}")), 0).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(
        log.verify().unwrap(),
        Verification::Intact {
            records: 100,
            gaps: 0,
            lost: 0
        }
    );
}

#[test]
fn a_long_record_larger_than_the_tail_window_still_chains() {
    let (_t, log) = log_with(0);
    let mut e = entry("big");
    e.detail = serde_json::json!({ "pad": "x".repeat(50_000) });
    log.append(e, 0).unwrap();
    log.append(entry("after"), 0).unwrap();
    assert_eq!(
        log.verify().unwrap(),
        Verification::Intact {
            records: 2,
            gaps: 0,
            lost: 0
        }
    );
    assert_eq!(log.read_all().unwrap()[1].seq, 2);
}
