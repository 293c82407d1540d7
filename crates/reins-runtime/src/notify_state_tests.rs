//! Tests for the notification state machine: inputs in, actions out.
use super::*;
use crate::ipc::TargetReport;
use reins_approval::broker::WithdrawReason;
use reins_approval::{ActionSpec, Resolution};
use reins_core::{AgentId, AgentKind, HaltOp, HaltReport, ProcessFate, ProcessKey, ProcessReport};

fn server(caps: &[&str]) -> ServerInfo {
    ServerInfo {
        name: "dunst".into(),
        vendor: "knopwob".into(),
        version: "1.9.0".into(),
        spec_version: "1.2".into(),
        capabilities: caps.iter().map(|c| (*c).to_owned()).collect(),
        pid: Some(77),
    }
}

fn request(cmd: &str, risk: RiskLevel) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::ClaudeCode,
        session_id: Some("s1".into()),
        tool_name: "Bash".into(),
        tool_input: serde_json::json!({ "command": cmd }),
        command: Some(cmd.into()),
        cwd: Some("/home/me/project".into()),
    };
    ApprovalRequest::new(spec, None, risk, 1_000, 90_000)
}

/// A state with a server up and `r` raised as note 7.
fn shown(caps: &[&str], r: &ApprovalRequest) -> (NotifyState, Notice) {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(caps)));
    let out = s.handle(Input::Broker(BrokerEvent::Requested { request: r.clone() }));
    let [Action::Raise { purpose, notice }] = out.as_slice() else {
        panic!("expected one raise, got {out:?}");
    };
    assert_eq!(*purpose, Purpose::Approval(r.request_id));
    let notice = notice.clone();
    assert!(
        s.handle(Input::Raised {
            purpose: *purpose,
            id: NoteId(7)
        })
        .is_empty()
    );
    (s, notice)
}

fn click(s: &mut NotifyState, key: &str) -> Vec<Action> {
    s.handle(Input::Clicked {
        id: NoteId(7),
        key: key.into(),
    })
}

fn keys(n: &Notice) -> Vec<(&str, &str)> {
    n.actions
        .iter()
        .map(|a| (a.key.as_str(), a.label.as_str()))
        .collect()
}

#[test]
fn a_request_raises_a_critical_notice_with_approve_deny_and_open() {
    let r = request("cargo test", RiskLevel::Medium);
    let (_, n) = shown(&["actions", "body"], &r);
    assert_eq!(n.summary, "Claude Code wants to run a command");
    assert!(n.body.contains("Agent: Claude Code"));
    assert!(n.body.contains("Command: cargo test"));
    assert!(n.body.contains("In: /home/me/project"));
    assert_eq!(
        keys(&n),
        vec![
            ("default", "Open Reins"),
            ("approve", "Approve"),
            ("deny", "Deny")
        ]
    );
    assert_eq!(n.urgency, Urgency::Critical);
    assert!(n.resident);
}

#[test]
fn approve_from_the_notification_decides_allow_with_the_requests_own_hash() {
    let r = request("cargo test", RiskLevel::Medium);
    let (mut s, _) = shown(&["actions"], &r);
    assert_eq!(
        click(&mut s, "approve"),
        vec![Action::Decide {
            request_id: r.request_id,
            action_hash: r.action_hash,
            decision: Decision::Allow
        }]
    );
    assert_eq!(
        click(&mut s, "deny"),
        vec![Action::Decide {
            request_id: r.request_id,
            action_hash: r.action_hash,
            decision: Decision::Deny { message: None }
        }]
    );
}

#[test]
fn a_high_risk_request_offers_review_and_its_approve_only_opens_the_window() {
    let r = request("rm -rf ~/.ssh", RiskLevel::High);
    let (mut s, n) = shown(&["actions"], &r);
    assert_eq!(keys(&n)[1], ("review", "Review…"));
    assert!(!keys(&n).iter().any(|(k, _)| *k == "approve"));
    let open = vec![Action::Open(OpenView::Approval {
        request_id: r.request_id,
    })];
    assert_eq!(click(&mut s, "review"), open);
    // Even an "approve" key from the real server never approves it.
    assert_eq!(click(&mut s, "approve"), open);
    assert!(matches!(
        click(&mut s, "deny").as_slice(),
        [Action::Decide {
            decision: Decision::Deny { .. },
            ..
        }]
    ));
}

#[test]
fn a_click_on_the_body_opens_the_window_at_the_request() {
    let r = request("ls", RiskLevel::Low);
    let (mut s, _) = shown(&["actions"], &r);
    assert_eq!(
        click(&mut s, "default"),
        vec![Action::Open(OpenView::Approval {
            request_id: r.request_id
        })]
    );
}

#[test]
fn unknown_keys_and_unknown_notes_do_nothing() {
    let r = request("ls", RiskLevel::Low);
    let (mut s, _) = shown(&["actions"], &r);
    assert!(click(&mut s, "allow").is_empty());
    assert!(
        s.handle(Input::Clicked {
            id: NoteId(99),
            key: "approve".into()
        })
        .is_empty()
    );
}

#[test]
fn a_resolved_request_closes_its_notice_and_later_clicks_do_nothing() {
    let r = request("ls", RiskLevel::Low);
    let (mut s, _) = shown(&["actions"], &r);
    let out = s.handle(Input::Broker(BrokerEvent::Resolved {
        request_id: r.request_id,
        resolution: Resolution::Withdrawn {
            reason: WithdrawReason::SessionMovedOn,
            at: 5,
        },
    }));
    assert_eq!(out, vec![Action::Close(NoteId(7))]);
    assert!(click(&mut s, "approve").is_empty());
}

#[test]
fn a_request_resolved_before_its_raise_returned_is_closed_at_once() {
    let r = request("ls", RiskLevel::Low);
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(&["actions"])));
    s.handle(Input::Broker(BrokerEvent::Requested { request: r.clone() }));
    s.handle(Input::Broker(BrokerEvent::Resolved {
        request_id: r.request_id,
        resolution: Resolution::RateLimited { at: 1 },
    }));
    let out = s.handle(Input::Raised {
        purpose: Purpose::Approval(r.request_id),
        id: NoteId(3),
    });
    assert_eq!(out, vec![Action::Close(NoteId(3))]);
}

#[test]
fn a_server_without_actions_gets_no_buttons_is_no_surface_and_a_click_opens_the_window() {
    let r = request("ls", RiskLevel::Low);
    let mut s = NotifyState::new();
    let out = s.handle(Input::ServerUp(server(&["body"])));
    let [
        Action::Surface {
            live: None,
            note: Some(note),
        },
    ] = out.as_slice()
    else {
        panic!("{out:?}");
    };
    assert!(note.contains("no buttons"), "{note}");
    let (mut s, n) = shown(&["body"], &r);
    assert_eq!(keys(&n), vec![("default", "Open Reins")]);
    let open = vec![Action::Open(OpenView::Approval {
        request_id: r.request_id,
    })];
    assert_eq!(click(&mut s, "default"), open);
    assert_eq!(click(&mut s, "approve"), open, "never approves");
}

#[test]
fn a_server_with_actions_is_a_surface_named_after_it() {
    let mut s = NotifyState::new();
    let out = s.handle(Input::ServerUp(server(&["actions"])));
    assert_eq!(
        out,
        vec![Action::Surface {
            live: Some("dunst 1.9.0".into()),
            note: None
        }]
    );
}

#[test]
fn hostile_markup_in_a_command_is_escaped_when_the_server_reads_markup() {
    let cmd = r#"echo <a href="https://evil">Safe</a> <b>ok</b> && true"#;
    let r = request(cmd, RiskLevel::Medium);
    let (_, n) = shown(&["actions", "body-markup"], &r);
    assert!(!n.body.contains('<'), "{}", n.body);
    assert!(n.body.contains("&lt;a href=&quot;https://evil&quot;&gt;"));
    assert!(n.body.contains("&amp;&amp; true"));
    // A server that shows plain text gets the text as it is.
    let (_, plain) = shown(&["actions"], &r);
    assert!(plain.body.contains(cmd));
}

#[test]
fn a_long_command_is_shortened_for_display_only_and_says_so() {
    let cmd = "x".repeat(5000);
    let r = request(&cmd, RiskLevel::Medium);
    let (mut s, n) = shown(&["actions"], &r);
    assert!(n.body.len() < 600);
    assert!(n.body.contains("… (shortened"));
    // The decision still carries the hash of the whole action.
    assert!(matches!(
        click(&mut s, "approve").as_slice(),
        [Action::Decide { action_hash, .. }] if *action_hash == r.action_hash
    ));
}

#[test]
fn line_breaks_in_a_command_are_shown_not_obeyed() {
    let r = request("true\nrm -rf /", RiskLevel::Medium);
    let (_, n) = shown(&["actions"], &r);
    assert!(n.body.contains("Command: true⏎rm -rf /"));
}

#[test]
fn requests_waiting_while_there_was_no_server_are_raised_when_one_appears() {
    let r = request("ls", RiskLevel::Low);
    let mut s = NotifyState::new();
    let out = s.handle(Input::Broker(BrokerEvent::Requested { request: r.clone() }));
    assert!(out.is_empty(), "no server, nothing to raise");
    let out = s.handle(Input::ServerUp(server(&["actions"])));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(
        matches!(out[1], Action::Raise { purpose: Purpose::Approval(id), .. } if id == r.request_id)
    );
}

#[test]
fn a_server_going_away_clears_the_surface_and_forgets_its_notes() {
    let r = request("ls", RiskLevel::Low);
    let (mut s, _) = shown(&["actions"], &r);
    let out = s.handle(Input::ServerDown(
        "the notification server left the bus".into(),
    ));
    assert_eq!(
        out,
        vec![Action::Surface {
            live: None,
            note: Some("desktop notifications: the notification server left the bus".into())
        }]
    );
    assert!(click(&mut s, "approve").is_empty());
}

fn outcome(op: HaltOp, fates: Vec<ProcessFate>, success: bool) -> HaltOutcome {
    let root = ProcessKey {
        pid: 4242,
        start_ticks: 1,
    };
    HaltOutcome {
        op,
        target: "claude".into(),
        targets: vec![TargetReport {
            agent: Some(AgentId {
                kind: AgentKind::ClaudeCode,
                root,
            }),
            report: HaltReport {
                op,
                root,
                processes: fates
                    .into_iter()
                    .enumerate()
                    .map(|(i, fate)| ProcessReport {
                        process: ProcessKey {
                            pid: 4242 + i as u32,
                            start_ticks: 1,
                        },
                        comm: "node".into(),
                        fate,
                        frozen_after_us: None,
                        gone_after_us: None,
                    })
                    .collect(),
                frozen_after_us: None,
                gone_after_us: None,
                success,
                method: Default::default(),
                unit: None,
            },
        }],
        warnings: Vec::new(),
    }
}

#[test]
fn a_verified_stop_raises_its_result_and_a_click_opens_the_agents() {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(&["actions"])));
    let o = outcome(
        HaltOp::Stop,
        vec![ProcessFate::Terminated, ProcessFate::Killed],
        true,
    );
    let out = s.handle(Input::Halted {
        actor: Actor::Phone {
            device_id: "ab".into(),
        },
        outcome: o,
    });
    let [Action::Raise { purpose, notice }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(
        notice.summary,
        "Stopped Claude Code (pid 4242): 2 processes gone"
    );
    assert!(notice.body.contains("phone(ab)"));
    assert_eq!(notice.urgency, Urgency::Normal);
    s.handle(Input::Raised {
        purpose: *purpose,
        id: NoteId(9),
    });
    let out = s.handle(Input::Clicked {
        id: NoteId(9),
        key: "default".into(),
    });
    assert_eq!(out, vec![Action::Open(OpenView::Agents)]);
}

#[test]
fn a_failed_stop_is_said_as_clearly_and_critically() {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(&["actions"])));
    let o = outcome(
        HaltOp::Stop,
        vec![
            ProcessFate::Terminated,
            ProcessFate::Survived,
            ProcessFate::Survived,
        ],
        false,
    );
    let out = s.handle(Input::Halted {
        actor: Actor::Tray,
        outcome: o,
    });
    let [Action::Raise { notice, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(
        notice.summary,
        "Stop FAILED: 2 processes of Claude Code (pid 4242) survive"
    );
    assert_eq!(notice.urgency, Urgency::Critical);
    assert!(notice.persistent);
}

#[test]
fn a_successful_pause_raises_nothing_and_a_failed_one_is_said() {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(&["actions"])));
    let ok = outcome(HaltOp::Pause, vec![ProcessFate::Paused], true);
    assert!(
        s.handle(Input::Halted {
            actor: Actor::Tray,
            outcome: ok
        })
        .is_empty()
    );
    let bad = outcome(
        HaltOp::Pause,
        vec![ProcessFate::Failed {
            error: "EPERM".into(),
        }],
        false,
    );
    let out = s.handle(Input::Halted {
        actor: Actor::Tray,
        outcome: bad,
    });
    assert!(matches!(out.as_slice(), [Action::Raise { notice, .. }]
        if notice.summary == "Pause FAILED: 1 process of Claude Code (pid 4242) not paused"));
}

#[test]
fn when_the_window_cannot_open_a_notice_says_where_to_answer() {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(&["actions"])));
    let out = s.handle(Input::OpenFailed(OpenView::Approval {
        request_id: RequestId([1; 16]),
    }));
    let [Action::Raise { notice, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert!(notice.body.contains("reins approvals --watch"));
    assert!(notice.body.contains("phone"));
}

#[test]
fn a_resync_closes_notes_of_requests_that_are_gone_and_raises_new_ones() {
    let old = request("ls", RiskLevel::Low);
    let new = request("pwd", RiskLevel::Low);
    let (mut s, _) = shown(&["actions"], &old);
    let out = s.handle(Input::Resync(vec![new.clone()]));
    assert_eq!(out[0], Action::Close(NoteId(7)));
    assert!(
        matches!(&out[1], Action::Raise { purpose: Purpose::Approval(id), .. } if *id == new.request_id)
    );
    assert_eq!(out.len(), 2);
    assert!(
        s.handle(Input::Resync(vec![new])).is_empty(),
        "already raised"
    );
}
