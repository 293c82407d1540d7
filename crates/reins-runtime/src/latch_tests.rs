//! The latch state machine, with no processes.

use super::*;
use reins_core::{AgentKind, ProcessKey};

fn id(pid: u32) -> AgentId {
    AgentId {
        kind: AgentKind::OpenClaw,
        root: ProcessKey {
            pid,
            start_ticks: u64::from(pid) * 10,
        },
    }
}

fn loop_sh() -> Supervisor {
    Supervisor::Parent {
        pid: 50,
        comm: "sh".into(),
    }
}

fn latch() -> LatchInfo {
    LatchInfo {
        stopped: id(100),
        display_name: "OpenClaw".into(),
        supervisor: loop_sh(),
        project: Some("inbox".into()),
        cwd: Some("/home/u/inbox".into()),
        since: 1_000,
        held: Vec::new(),
    }
}

fn newcomer(pid: u32) -> Candidate {
    Candidate {
        id: id(pid),
        supervisor: loop_sh(),
        project: Some("inbox".into()),
        cwd: Some("/home/u/inbox".into()),
        started_at: 1_006,
        own_job: false,
    }
}

fn hold(l: &mut Latches, pid: u32) {
    let actions = l.seen(&newcomer(pid));
    assert_eq!(
        actions,
        vec![Action::Freeze {
            agent: id(pid),
            latch: id(100)
        }]
    );
    let held = l.frozen(&id(pid), &id(100), true);
    assert!(
        matches!(&held[..], [Action::Held { frozen: true, .. }]),
        "{held:?}"
    );
}

#[test]
fn a_respawn_under_the_same_supervisor_and_project_is_frozen_and_reported() {
    let mut l = Latches::default();
    assert!(l.stopped(latch()).is_empty());
    assert!(l.any());
    hold(&mut l, 200);
    assert_eq!(l.list()[0].held, vec![id(200)]);
    assert!(l.seen(&newcomer(200)).is_empty(), "held once, never twice");
}

#[test]
fn an_agent_of_another_kind_supervisor_or_project_or_an_older_one_is_left_alone() {
    let mut l = Latches::default();
    l.stopped(latch());
    let mut other_kind = newcomer(201);
    other_kind.id.kind = AgentKind::ClaudeCode;
    let mut other_parent = newcomer(202);
    other_parent.supervisor = Supervisor::Parent {
        pid: 51,
        comm: "sh".into(),
    };
    let mut other_project = newcomer(203);
    other_project.project = Some("elsewhere".into());
    let mut older = newcomer(204);
    older.started_at = 998;
    let mut started_before_the_stopped_one = newcomer(50);
    started_before_the_stopped_one.started_at = 1_000;
    let mut unit = newcomer(205);
    unit.supervisor = Supervisor::Pm2 { pid: 50 };
    for c in [
        other_kind,
        other_parent,
        other_project,
        older,
        unit,
        started_before_the_stopped_one,
    ] {
        assert!(l.seen(&c).is_empty(), "{c:?}");
    }
}

#[test]
fn without_a_project_the_working_directory_decides() {
    let mut l = Latches::default();
    let mut no_project = latch();
    no_project.project = None;
    l.stopped(no_project);
    let mut same_dir = newcomer(200);
    same_dir.project = None;
    let mut other_dir = newcomer(201);
    other_dir.project = None;
    other_dir.cwd = Some("/tmp".into());
    assert!(l.seen(&other_dir).is_empty());
    assert_eq!(l.seen(&same_dir).len(), 1);
}

#[test]
fn releasing_by_the_stopped_id_the_held_id_or_all_resumes_the_held_respawns() {
    for target in [id(100).to_string(), id(200).to_string(), "all".into()] {
        let mut l = Latches::default();
        l.stopped(latch());
        hold(&mut l, 200);
        let (outcome, actions) = l.release(&target).unwrap();
        assert_eq!(outcome.released, vec![id(100)], "{target}");
        assert_eq!(outcome.resumed, vec![id(200)]);
        assert!(actions.contains(&Action::Resume { agent: id(200) }));
        assert!(actions.contains(&Action::ClearAlert { agent: id(200) }));
        assert!(matches!(actions.last(), Some(Action::Released { .. })));
        assert!(!l.any());
        assert!(l.seen(&newcomer(300)).is_empty(), "released: respawns run");
    }
}

#[test]
fn releasing_what_no_latch_holds_is_an_error_that_lists_the_latches() {
    let mut l = Latches::default();
    l.stopped(latch());
    let err = l.release(&id(7).to_string()).unwrap_err().to_string();
    assert!(err.contains(&id(100).to_string()), "{err}");
    assert!(matches!(
        l.release("nonsense"),
        Err(ReleaseError::BadTarget(_))
    ));
    assert!(l.any(), "nothing changed");
    let mut empty = Latches::default();
    let (outcome, _) = empty.release("all").unwrap();
    assert!(outcome.released.is_empty());
}

#[test]
fn a_held_respawn_that_exits_or_is_stopped_clears_its_alert_and_the_latch_stays() {
    let mut l = Latches::default();
    l.stopped(latch());
    hold(&mut l, 200);
    assert_eq!(
        l.gone(&id(200)),
        vec![Action::ClearAlert { agent: id(200) }]
    );
    assert!(l.any());
    hold(&mut l, 201);
    let stop_it = LatchInfo {
        stopped: id(201),
        ..latch()
    };
    assert_eq!(
        l.stopped(stop_it),
        vec![Action::ClearAlert { agent: id(201) }]
    );
    assert_eq!(l.list().len(), 1, "no second latch for the same agent");
}

#[test]
fn a_failed_freeze_is_reported_and_never_retried_and_a_freeze_after_release_is_undone() {
    let mut l = Latches::default();
    l.stopped(latch());
    l.seen(&newcomer(200));
    let actions = l.frozen(&id(200), &id(100), false);
    assert!(matches!(&actions[..], [Action::Held { frozen: false, .. }]));
    assert!(l.seen(&newcomer(200)).is_empty());
    l.seen(&newcomer(201));
    l.release("all").unwrap();
    assert_eq!(
        l.frozen(&id(201), &id(100), true),
        vec![Action::Resume { agent: id(201) }]
    );
}

#[test]
fn a_person_resuming_a_held_respawn_lets_it_go_for_good() {
    let mut l = Latches::default();
    l.stopped(latch());
    hold(&mut l, 200);
    assert_eq!(
        l.resumed(&id(200)),
        vec![Action::ClearAlert { agent: id(200) }]
    );
    assert!(l.seen(&newcomer(200)).is_empty());
    assert!(l.resumed(&id(999)).is_empty());
}

#[test]
fn the_recheck_says_still_gone_held_or_running() {
    let stopped = latch();
    assert_eq!(recheck(&stopped, None, &[]), RecheckVerdict::StillGone);
    let mut active = latch();
    active.held = vec![id(200)];
    assert!(matches!(
        recheck(&stopped, Some(&active), &[newcomer(200)]),
        RecheckVerdict::RespawnedHeld { held, .. } if held == vec![id(200)]
    ));
    assert!(matches!(
        recheck(&stopped, None, &[newcomer(300)]),
        RecheckVerdict::Respawned { running, .. } if running == vec![id(300)]
    ));
    let mut unrelated = newcomer(301);
    unrelated.project = Some("other".into());
    assert_eq!(
        recheck(&stopped, None, &[unrelated]),
        RecheckVerdict::StillGone
    );
}

#[test]
fn an_agent_a_person_starts_again_from_their_shell_is_not_a_respawn() {
    let mut l = Latches::default();
    let _ = l.stopped(latch());
    let relaunched = Candidate {
        own_job: true,
        ..newcomer(77)
    };
    assert!(!is_respawn(&l.list()[0], &relaunched));
    assert!(l.seen(&relaunched).is_empty());
}

#[test]
fn only_a_plain_parent_s_child_leading_its_own_group_is_a_person_s_job() {
    let sh = loop_sh();
    // Job control: the child leads its own group, unlike its shell.
    assert!(is_own_job(&sh, 50, 50, Some(40)));
    // A loop or script keeps its children in its own group.
    assert!(!is_own_job(&sh, 50, 40, Some(40)));
    // A unit restarts whatever group its child leads.
    let unit = Supervisor::SystemdUnit {
        unit: "g.service".into(),
        scope: reins_core::UnitScope::User,
        cgroup: "/g".into(),
    };
    assert!(!is_own_job(&unit, 50, 50, Some(1)));
}
