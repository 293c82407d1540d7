use super::*;
use reins_core::Actor;
use reins_runtime::audit::{AuditAction, AuditEntry, AuditOutcome};

fn log_with(dir: &Path, n: u64) -> AuditLog {
    let log = AuditLog::new(dir.join("audit.jsonl"));
    for i in 1..=n {
        let (action, actor) = if i % 2 == 0 {
            (AuditAction::Stop, Actor::Tray)
        } else {
            (
                AuditAction::ApprovalResolved,
                Actor::Phone {
                    device_id: "ab12".into(),
                },
            )
        };
        log.append(
            AuditEntry {
                actor,
                action,
                target: format!("claude-{i}-1"),
                outcome: AuditOutcome::Ok,
                latency_us: None,
                detail: if i == 3 {
                    serde_json::json!({"rule": "Git PUSH"})
                } else {
                    serde_json::Value::Null
                },
            },
            1_000 * i,
        )
        .unwrap();
    }
    log
}

#[test]
fn rows_come_newest_first_and_flattened() {
    let t = tempfile::tempdir().unwrap();
    let log = log_with(t.path(), 4);
    let rows = filter_rows(&log.read_all().unwrap(), &AuditFilter::default());
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [4, 3, 2, 1]);
    assert_eq!(rows[0].actor, "tray");
    assert_eq!(rows[0].action, "stop");
    assert_eq!(rows[0].outcome, "ok");
    assert_eq!(rows[0].detail, "");
    assert_eq!(rows[1].actor, "phone(ab12)");
    assert_eq!(rows[1].detail, r#"{"rule":"Git PUSH"}"#);
}

#[test]
fn the_filter_matches_action_exactly_text_anywhere_and_honours_the_limit() {
    let t = tempfile::tempdir().unwrap();
    let records = log_with(t.path(), 250).read_all().unwrap();
    assert_eq!(filter_rows(&records, &AuditFilter::default()).len(), 200);
    let stops = AuditFilter {
        action: Some("stop".into()),
        ..Default::default()
    };
    let rows = filter_rows(&records, &stops);
    assert_eq!(rows.len(), 125);
    assert!(rows.iter().all(|r| r.action == "stop"));
    let text = AuditFilter {
        text: Some("git push".into()),
        ..Default::default()
    };
    assert_eq!(
        filter_rows(&records, &text)
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        [3]
    );
    let limited = AuditFilter {
        text: Some("PHONE".into()),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(
        filter_rows(&records, &limited)
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>(),
        [249, 247]
    );
    let zero = AuditFilter {
        limit: Some(0),
        ..Default::default()
    };
    assert_eq!(filter_rows(&records, &zero).len(), 1);
}

#[test]
fn an_intact_log_verifies_and_a_tampered_one_names_the_first_broken_line() {
    let t = tempfile::tempdir().unwrap();
    let log = log_with(t.path(), 5);
    let v = verify_view(&log.verify().unwrap());
    assert!(
        v.ok && v.records == 5 && v.first_broken_line.is_none(),
        "{v:?}"
    );
    let text = std::fs::read_to_string(log.path()).unwrap();
    std::fs::write(log.path(), text.replacen("claude-2-1", "claude-9-1", 1)).unwrap();
    let v = verify_view(&log.verify().unwrap());
    assert!(!v.ok);
    assert_eq!(v.first_broken_line, Some(3));
    assert!(v.message.starts_with("Line 3 is broken"), "{}", v.message);
    assert!(v.message.contains("line 2 was changed"), "{}", v.message);
}

#[test]
fn the_audit_path_comes_from_the_config_else_the_default() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("config.toml");
    assert_eq!(
        audit_path(&cfg, "/d/audit.jsonl".into()).unwrap(),
        PathBuf::from("/d/audit.jsonl")
    );
    std::fs::write(&cfg, "[audit]\npath = \"/elsewhere/a.jsonl\"\n").unwrap();
    assert_eq!(
        audit_path(&cfg, "/d/audit.jsonl".into()).unwrap(),
        PathBuf::from("/elsewhere/a.jsonl")
    );
    std::fs::write(&cfg, "[audit]\npth = 1\n").unwrap();
    assert!(
        audit_path(&cfg, "/d".into())
            .unwrap_err()
            .message
            .contains("config")
    );
}
