//! Which events of the daemon's own bus ([`DaemonEvent`]) every paired
//! phone is told of, and as what body: alerts (`alert`, `alert_cleared`)
//! and a stop's recheck (`stop_rechecked`, for any stop, whoever asked).
//!
//! Pure mappings, no I/O: the bridge ([`crate::phone_bridge`]) sends what
//! [`for_phones`] returns. Not here: halts (a phone's own command is
//! answered by a `command_ack`), open requests (desktop only), or the
//! alert body itself ([`crate::phone_alerts`]).

use crate::events::DaemonEvent;
use crate::latch::{RecheckVerdict, StopRecheck};
use reins_proto::Payload;
use reins_proto::payload as p;

/// The message every phone gets for `ev`, if any.
pub(crate) fn for_phones(ev: &DaemonEvent) -> Option<Payload> {
    match ev {
        DaemonEvent::Alert(a) => Some(Payload::Alert(crate::phone_alerts::alert_body(a))),
        DaemonEvent::AlertCleared { id } => {
            Some(Payload::AlertCleared(p::AlertCleared { alert_id: id.0 }))
        }
        DaemonEvent::Rechecked(r) => Some(Payload::StopRechecked(recheck_body(r))),
        DaemonEvent::Audit {
            id,
            problem: Some(problem),
        } => Some(Payload::Alert(crate::phone_alerts::audit_alert_body(
            *id, problem,
        ))),
        DaemonEvent::Audit { id, problem: None } => {
            Some(Payload::AlertCleared(p::AlertCleared { alert_id: id.0 }))
        }
        DaemonEvent::Halted { .. } | DaemonEvent::Open(_) => None,
    }
}

/// The `stop_rechecked` body for `r`: the stopped agent and the verdict,
/// with the supervisor in words (the respawns' ids stay on the desktop; a
/// held one has its own `alert`).
pub(crate) fn recheck_body(r: &StopRecheck) -> p::StopRechecked {
    let (verdict, supervisor) = match &r.verdict {
        RecheckVerdict::StillGone => (p::RecheckVerdictWire::StillGone, None),
        RecheckVerdict::RespawnedHeld { supervisor, .. } => {
            (p::RecheckVerdictWire::RespawnedHeld, Some(supervisor))
        }
        RecheckVerdict::Respawned { supervisor, .. } => {
            (p::RecheckVerdictWire::Respawned, Some(supervisor))
        }
    };
    p::StopRechecked {
        agent_id: r.stopped.to_string(),
        display_name: r.display_name.clone(),
        project: r.project.clone(),
        after_s: r.after_s,
        verdict,
        supervisor: supervisor.map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::proto::OpenView;
    use reins_core::{AgentId, AgentKind, ProcessKey, Supervisor, UnitScope};
    use reins_proto::keys::PairKey;
    use reins_proto::{PairChannel, ReplayWindow, Role};

    fn id(pid: u32, start_ticks: u64) -> AgentId {
        AgentId {
            kind: AgentKind::OpenClaw,
            root: ProcessKey { pid, start_ticks },
        }
    }

    fn recheck(verdict: RecheckVerdict) -> StopRecheck {
        StopRecheck {
            stopped: id(41, 900),
            display_name: "OpenClaw".into(),
            project: Some("<i>api</i>".into()),
            after_s: 7,
            verdict,
        }
    }

    fn unit() -> Supervisor {
        Supervisor::SystemdUnit {
            unit: "openclaw-gateway.service".into(),
            scope: UnitScope::User,
            cgroup: "/user.slice/x".into(),
        }
    }

    /// Seals `payload` as the desktop would and opens it as the phone does.
    fn through_the_channel(payload: &Payload) -> Payload {
        let key = PairKey::from_bytes([9; 32]);
        let desktop = PairChannel::paired(Role::Desktop, &key, "reins/").unwrap();
        let phone = PairChannel::paired(Role::Phone, &key, "reins/").unwrap();
        let now = 1_700_000_000_000;
        let out = desktop
            .seal_with(1, now, [1; 16], [2; 24], payload)
            .unwrap();
        let mut window = ReplayWindow::new();
        phone
            .open(&out.topic, &out.bytes, &mut window, now)
            .unwrap()
            .payload
    }

    #[test]
    fn a_recheck_reaches_the_phone_as_a_sealed_stop_rechecked_message() {
        let ev = DaemonEvent::Rechecked(recheck(RecheckVerdict::RespawnedHeld {
            held: vec![id(77, 1000)],
            supervisor: unit(),
        }));
        let payload = for_phones(&ev).expect("a recheck is sent to phones");
        assert_eq!(payload.kind(), reins_proto::Kind::StopRechecked);
        let Payload::StopRechecked(body) = through_the_channel(&payload) else {
            panic!("the phone opened another kind");
        };
        assert_eq!(
            body,
            p::StopRechecked {
                agent_id: "openclaw-41-900".into(),
                display_name: "OpenClaw".into(),
                project: Some("<i>api</i>".into()),
                after_s: 7,
                verdict: p::RecheckVerdictWire::RespawnedHeld,
                supervisor: Some("systemd user unit openclaw-gateway.service".into()),
            }
        );
    }

    #[test]
    fn each_verdict_keeps_its_meaning_and_only_a_respawn_names_a_supervisor() {
        let gone = recheck_body(&recheck(RecheckVerdict::StillGone));
        assert_eq!(gone.verdict, p::RecheckVerdictWire::StillGone);
        assert_eq!(gone.supervisor, None);
        let running = recheck_body(&recheck(RecheckVerdict::Respawned {
            running: vec![id(78, 1001)],
            supervisor: Supervisor::Parent {
                pid: 12,
                comm: "bash".into(),
            },
        }));
        assert_eq!(running.verdict, p::RecheckVerdictWire::Respawned);
        assert_eq!(running.supervisor.as_deref(), Some("bash (pid 12)"));
    }

    #[test]
    fn halts_and_open_requests_are_not_sent_to_phones() {
        assert_eq!(for_phones(&DaemonEvent::Open(OpenView::Agents)), None);
    }

    fn problem(lost: u64) -> crate::audit_health::AuditProblem {
        crate::audit_health::AuditProblem {
            path: "/mnt/small/reins/audit.jsonl".into(),
            error: "No space left on device (os error 28)".into(),
            since_ms: 1_000,
            lost,
            free_bytes: Some(0),
        }
    }

    #[test]
    fn an_audit_problem_reaches_phones_as_an_alert_with_no_agent_and_no_actions() {
        let ev = DaemonEvent::Audit {
            id: reins_core::AlertId(9),
            problem: Some(problem(3)),
        };
        let Some(Payload::Alert(a)) = for_phones(&ev) else {
            panic!("not an alert");
        };
        assert_eq!(a.alert_id, 9);
        assert_eq!(
            a.reason,
            p::AlertReason::AuditFailing {
                lost: 3,
                since_ms: 1_000,
                error: "No space left on device (os error 28)".into()
            }
        );
        assert_eq!(a.agent_id, "");
        assert!(a.actions.is_empty());
        assert!(a.message.contains("3 entries not logged"), "{}", a.message);
    }

    #[test]
    fn a_recovered_audit_log_clears_the_phones_alert() {
        let ev = DaemonEvent::Audit {
            id: reins_core::AlertId(9),
            problem: None,
        };
        assert_eq!(
            for_phones(&ev),
            Some(Payload::AlertCleared(p::AlertCleared { alert_id: 9 }))
        );
    }
}
