//! Tests of the watch state: events and lines in, text and decisions out.
use super::*;
use reins_approval::ActionSpec;
use reins_core::{Actor, AgentKind};

fn req(cmd: &str, risk: RiskLevel, at: u64) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some("s1".into()),
        tool_name: "Bash".into(),
        tool_input: serde_json::json!({ "command": cmd }),
        command: Some(cmd.into()),
        cwd: Some("/tmp".into()),
    };
    ApprovalRequest::new(spec, None, risk, at, 60_000)
}

fn requested(r: &ApprovalRequest) -> StreamEvent {
    StreamEvent::Approval {
        change: BrokerEvent::Requested { request: r.clone() },
    }
}

fn snapshot(pending: Vec<ApprovalRequest>) -> StreamEvent {
    StreamEvent::Snapshot {
        agents: Vec::new(),
        pending,
        surfaces: Default::default(),
        alerts: Vec::new(),
        audit: None,
    }
}

#[test]
fn a_new_request_is_printed_safely_and_prompted() {
    let mut w = Watch::new(false);
    let t = Instant::now();
    assert!(
        w.on_event(snapshot(vec![]), 0, t)
            .contains("No approvals pending")
    );
    let r = req("echo \x1b[2Jgotcha", RiskLevel::Low, 1);
    let out = w.on_event(requested(&r), 1, t);
    assert!(!out.contains('\x1b'), "{out:?}");
    assert!(out.contains("echo \\u{1b}[2Jgotcha"), "{out}");
    assert!(
        out.contains(&format!("answer {}", short(&r.request_id))),
        "{out}"
    );
    let (_, d) = w.on_line("a", t);
    assert_eq!(d.unwrap().decision, Decision::Allow);
}

#[test]
fn the_answer_goes_to_the_request_the_prompt_named() {
    let mut w = Watch::new(false);
    let t = Instant::now();
    let old = req("ls", RiskLevel::Low, 1);
    let new = req("pwd", RiskLevel::Low, 2);
    w.on_event(snapshot(vec![old.clone()]), 1, t);
    w.on_event(requested(&new), 2, t);
    let (_, d) = w.on_line("d", t);
    assert_eq!(
        d.unwrap().request.request_id,
        new.request_id,
        "newest first"
    );
    // Enter skips to the next one.
    let mut w = Watch::new(false);
    w.on_event(snapshot(vec![old.clone(), new.clone()]), 2, t);
    let (out, d) = w.on_line("", t);
    assert!(
        d.is_none() && out.contains(&short(&old.request_id)),
        "{out}"
    );
    let (_, d) = w.on_line("a", t);
    assert_eq!(d.unwrap().request.request_id, old.request_id);
}

#[test]
fn at_a_terminal_a_key_pressed_just_as_a_new_prompt_appeared_is_not_applied() {
    let mut w = Watch::new(true);
    let t = Instant::now();
    w.on_event(requested(&req("ls", RiskLevel::Low, 1)), 1, t);
    let (out, d) = w.on_line("a", t + Duration::from_millis(100));
    assert!(d.is_none() && out.contains("answer again"), "{out}");
    assert!(w.on_line("a", t + FRESH_PROMPT).1.is_some());
}

#[test]
fn a_high_risk_approval_needs_yes() {
    let mut w = Watch::new(false);
    let t = Instant::now();
    let r = req("rm -rf build", RiskLevel::High, 1);
    w.on_event(requested(&r), 1, t);
    let (out, d) = w.on_line("a", t);
    assert!(d.is_none() && out.contains("type yes"), "{out}");
    let (out, d) = w.on_line("y", t);
    assert!(d.is_none() && out.contains("Not approved"), "{out}");
    w.on_line("a", t);
    assert_eq!(w.on_line("YES", t).1.unwrap().decision, Decision::Allow);
    // A deny needs no confirmation.
    let mut w = Watch::new(false);
    w.on_event(requested(&r), 1, t);
    assert!(w.on_line("d", t).1.is_some());
}

#[test]
fn resolutions_are_printed_and_end_the_prompt() {
    let mut w = Watch::new(false);
    let t = Instant::now();
    let r = req("ls", RiskLevel::Low, 1);
    w.on_event(requested(&r), 1, t);
    let out = w.on_event(
        StreamEvent::Approval {
            change: BrokerEvent::Resolved {
                request_id: r.request_id,
                resolution: Resolution::Decided {
                    decision: Decision::Allow,
                    by: Actor::Tray,
                    at: 2,
                },
            },
        },
        2,
        t,
    );
    assert!(out.contains("approved by tray"), "{out}");
    let (out, d) = w.on_line("a", t);
    assert!(d.is_none() && out.contains("Nothing to answer"), "{out}");
}
