use super::*;
use crate::testkit::{agent, request};
use reins_approval::broker::{Resolution, RiskLevel};
use reins_approval::policy::TimeoutOutcome;
use reins_core::{Actor, AgentKind, AgentState, HaltOp, HaltReport, ProcessKey};
use reins_runtime::ipc::proto::OpenView;
use reins_runtime::ipc::{HaltOutcome, TargetReport};
use reins_runtime::surfaces::{LiveSurface, SurfaceKind, SurfacesSummary};

fn snapshot(n: u32) -> StreamEvent {
    StreamEvent::Snapshot {
        agents: (0..n)
            .map(|i| agent(AgentKind::ClaudeCode, 100 + i, AgentState::Running))
            .collect(),
        pending: vec![request("ls", RiskLevel::Medium)],
        surfaces: SurfacesSummary {
            live: vec![LiveSurface {
                kind: SurfaceKind::Tray,
                detail: "pid 7".into(),
            }],
            notes: vec!["no notification server".into()],
        },
        alerts: Vec::new(),
        audit: None,
    }
}

#[test]
fn a_snapshot_connects_and_replaces_everything() {
    let mut s = initial_state();
    assert_eq!(s.daemon, DaemonConn::Connecting);
    s.daemon_error = Some("old".into());
    assert_eq!(apply(&mut s, snapshot(2)), Emitted::Nothing);
    assert_eq!(s.daemon, DaemonConn::Connected);
    assert_eq!(s.daemon_error, None);
    assert_eq!(s.agents.len(), 2);
    assert_eq!(s.agents[0].id, format!("claude-100-1100"));
    assert_eq!(s.agents[0].processes, 3);
    assert_eq!(s.agents[0].started_at_ms, 1_700_000_000_000);
    assert_eq!(s.pending.len(), 1);
    assert_eq!(s.surfaces[0].kind, "tray");
    assert_eq!(s.surface_notes, vec!["no notification server".to_owned()]);
}

#[test]
fn agent_events_add_update_and_remove_agents_by_id() {
    let mut s = initial_state();
    apply(&mut s, snapshot(1));
    let new = agent(AgentKind::Codex, 200, AgentState::Running);
    apply(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Appeared { agent: new.clone() },
        },
    );
    assert_eq!(s.agents.len(), 2);
    let mut paused = new.clone();
    paused.state = AgentState::Paused;
    apply(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Changed { agent: paused },
        },
    );
    assert_eq!(s.agents.len(), 2);
    assert_eq!(s.agents[1].state, crate::view::AgentStateView::Paused);
    // A duplicate "appeared" updates instead of listing the agent twice.
    apply(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Appeared { agent: new.clone() },
        },
    );
    assert_eq!(s.agents.len(), 2);
    apply(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Exited { id: new.id },
        },
    );
    assert_eq!(s.agents.len(), 1);
    assert_eq!(s.agents[0].kind, "claude");
}

#[test]
fn approval_events_add_and_resolve_requests() {
    let mut s = initial_state();
    apply(&mut s, snapshot(0));
    let r = request("rm -rf build", RiskLevel::High);
    apply(
        &mut s,
        StreamEvent::Approval {
            change: BrokerEvent::Requested { request: r.clone() },
        },
    );
    assert_eq!(s.pending.len(), 2);
    assert_eq!(s.pending[1].risk, crate::view::RiskView::High);
    assert_eq!(s.pending[1].action_hash, r.action_hash.to_string());
    assert_eq!(s.pending[1].command.as_deref(), Some("rm -rf build"));
    apply(
        &mut s,
        StreamEvent::Approval {
            change: BrokerEvent::Resolved {
                request_id: r.request_id,
                resolution: Resolution::Expired {
                    outcome: TimeoutOutcome::Abstain,
                    at: 5,
                },
            },
        },
    );
    assert_eq!(s.pending.len(), 1);
    assert_ne!(s.pending[0].request_id, r.request_id.to_string());
}

#[test]
fn a_snapshot_after_lag_drops_what_the_client_missed() {
    let mut s = initial_state();
    apply(&mut s, snapshot(3));
    let extra = request("make", RiskLevel::Low);
    apply(
        &mut s,
        StreamEvent::Approval {
            change: BrokerEvent::Requested { request: extra },
        },
    );
    // The client fell behind: the daemon resends the whole state, which
    // no longer has the request or two of the agents.
    apply(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![agent(AgentKind::ClaudeCode, 100, AgentState::Paused)],
            pending: vec![],
            surfaces: SurfacesSummary::default(),
            alerts: Vec::new(),
            audit: None,
        },
    );
    assert_eq!(s.agents.len(), 1);
    assert_eq!(s.agents[0].state, crate::view::AgentStateView::Paused);
    assert!(s.pending.is_empty());
    assert!(s.surfaces.is_empty() && s.surface_notes.is_empty());
}

#[test]
fn surfaces_events_replace_the_surface_list() {
    let mut s = initial_state();
    apply(&mut s, snapshot(0));
    apply(
        &mut s,
        StreamEvent::Surfaces {
            surfaces: SurfacesSummary::default(),
        },
    );
    assert!(s.surfaces.is_empty());
    assert!(s.surface_notes.is_empty());
}

#[test]
fn halts_and_open_requests_are_passed_on_without_changing_the_state() {
    let mut s = initial_state();
    apply(&mut s, snapshot(1));
    let before = s.clone();
    let a = agent(AgentKind::ClaudeCode, 100, AgentState::Running);
    let outcome = HaltOutcome {
        op: HaltOp::Stop,
        target: a.id.to_string(),
        targets: vec![TargetReport {
            agent: Some(a.id.clone()),
            report: HaltReport {
                op: HaltOp::Stop,
                root: ProcessKey {
                    pid: 100,
                    start_ticks: 1100,
                },
                processes: vec![],
                frozen_after_us: None,
                gone_after_us: None,
                success: true,
                method: Default::default(),
                unit: None,
            },
        }],
        warnings: vec![],
    };
    let e = apply(
        &mut s,
        StreamEvent::Halted {
            actor: Actor::Tray,
            outcome,
        },
    );
    let Emitted::Halted(h) = e else {
        panic!("{e:?}")
    };
    assert!(h.success);
    assert_eq!(h.summary, "Stopped claude-100-1100");
    assert_eq!(s, before);
    let e = apply(
        &mut s,
        StreamEvent::Open {
            view: OpenView::Agents,
        },
    );
    assert_eq!(e, Emitted::Open(crate::view::OpenViewView::Agents));
}

#[test]
fn a_disconnect_forgets_agents_and_requests_so_nothing_is_decided_from_a_stale_list() {
    let mut s = initial_state();
    apply(&mut s, snapshot(2));
    disconnected(&mut s, DaemonConn::Connecting, Some("lost".into()));
    assert_eq!(s.daemon, DaemonConn::Connecting);
    assert_eq!(s.daemon_error.as_deref(), Some("lost"));
    assert!(s.agents.is_empty() && s.pending.is_empty());
}

#[test]
fn alerts_come_with_the_snapshot_and_are_added_and_cleared_by_events() {
    use reins_core::{Alert, AlertAction, AlertId, AlertKind};
    let mut s = initial_state();
    let a = agent(AgentKind::ClaudeCode, 100, AgentState::Paused);
    let alert = |id| Alert {
        id: AlertId(id),
        kind: AlertKind::StopWord {
            word: "stop".into(),
        },
        agent: a.id.clone(),
        display_name: "Claude Code".into(),
        project: None,
        message: "Stop word: claude paused; you typed “stop”".into(),
        actions: vec![AlertAction::Resume, AlertAction::Stop],
        raised_at: 2,
    };
    apply(
        &mut s,
        StreamEvent::Snapshot {
            agents: vec![a.clone()],
            pending: vec![],
            surfaces: SurfacesSummary::default(),
            alerts: vec![alert(1)],
            audit: None,
        },
    );
    assert_eq!(s.alerts.len(), 1);
    assert_eq!(s.alerts[0].raised_at_ms, 2000);
    assert_eq!(s.alerts[0].kind, "stop_word");
    apply(&mut s, StreamEvent::Alert { alert: alert(2) });
    apply(&mut s, StreamEvent::Alert { alert: alert(2) });
    assert_eq!(
        s.alerts.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    apply(&mut s, StreamEvent::AlertCleared { id: AlertId(1) });
    assert_eq!(s.alerts.iter().map(|x| x.id).collect::<Vec<_>>(), vec![2]);
    apply(
        &mut s,
        StreamEvent::Agent {
            change: RegistryEvent::Exited { id: a.id.clone() },
        },
    );
    assert!(s.alerts.is_empty(), "its agent is gone");
}

#[test]
fn the_audit_problem_is_set_by_its_event_and_cleared_by_the_next() {
    let mut s = initial_state();
    apply(&mut s, snapshot(0));
    assert_eq!(s.audit_problem, None);
    let p = reins_runtime::audit_health::AuditProblem {
        path: "/d/audit.jsonl".into(),
        error: "No space left on device (os error 28)".into(),
        since_ms: 0,
        lost: 2,
        free_bytes: None,
    };
    apply(&mut s, StreamEvent::Audit { problem: Some(p) });
    let msg = s.audit_problem.clone().unwrap();
    assert!(msg.contains("2 entries not logged"), "{msg}");
    apply(&mut s, StreamEvent::Audit { problem: None });
    assert_eq!(s.audit_problem, None);
}
