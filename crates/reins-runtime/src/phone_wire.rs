//! The phone's view of daemon types: how agent records, approval requests,
//! resolutions, decisions and halt results become protocol bodies
//! (`reins_proto::payload`, specified in docs/protocol.md §7), and back.
//!
//! Pure mappings, no I/O: the bridge ([`crate::phone_bridge`]) looks up
//! what they need (a device's name) and sends what they return. Not here:
//! deciding anything, or talking to the link.

use crate::daemon::HaltRun;
use crate::ipc::proto::{ErrorCode, IpcError};
use base64::Engine as _;
use reins_approval::Decision;
use reins_approval::broker::{ApprovalRequest, RequestId, Resolution, RiskLevel};
use reins_core::{Actor, AgentRecord, AgentState};
use reins_proto::payload as p;
use tokio::time::Instant;

/// `by_name` for the CLI: what a phone shows as "allowed in the terminal".
pub(crate) const CLI_NAME: &str = "terminal";

/// `by_name` for the tray.
pub(crate) const TRAY_NAME: &str = "desktop";

/// `by_name` for a button on a desktop notification.
pub(crate) const NOTIFICATION_NAME: &str = "desktop notification";

/// `by_name` for a phone whose device entry is gone (revoked meanwhile).
pub(crate) const UNKNOWN_PHONE_NAME: &str = "a phone";

/// The protocol's view of a pending request: the exact action text and its
/// hash, how risky it looks, why the policy asked, and whether "allow for
/// this session" would mean more than a plain allow.
pub(crate) fn approval_request(r: &ApprovalRequest) -> p::ApprovalRequest {
    p::ApprovalRequest {
        request_id: r.request_id.to_hex(),
        agent_id: r
            .agent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| r.kind.slug().to_owned()),
        session_id: r.session_id.clone(),
        tool: r.tool_name.clone(),
        action: r.action.clone(),
        action_hash: r.action_hash.to_hex(),
        cwd: r.cwd.clone(),
        expires_at_ms: r.expires_at,
        risk: Some(match r.risk {
            RiskLevel::Low => p::Risk::Low,
            RiskLevel::Medium => p::Risk::Medium,
            RiskLevel::High => p::Risk::High,
        }),
        reason: r.reason.clone(),
        allow_session: Some(allow_session_applies(r)),
    }
}

/// True when an allow-for-session does more than a plain allow: the broker
/// remembers the grant per session (and Claude gets a session rule too), so
/// it needs a session id. Without one, `reins approve --session` is a plain
/// allow, and so is a phone's `scope: "session"`. An OpenClaw approval has
/// no such answer at all (the broker refuses it).
pub(crate) fn allow_session_applies(r: &ApprovalRequest) -> bool {
    r.session_id.is_some() && r.gateway.is_none()
}

/// A phone's answer as the broker's decision: allow with a session scope
/// is [`Decision::AllowForSession`] (what `reins approve --session` sends);
/// a scope on a deny means nothing.
pub(crate) fn decision_of(d: &p::ApprovalDecision) -> Decision {
    match (d.decision, d.scope) {
        (p::Decision::Allow, Some(p::Scope::Session)) => Decision::AllowForSession,
        (p::Decision::Allow, _) => Decision::Allow,
        (p::Decision::Deny, _) => Decision::Deny { message: None },
    }
}

/// Who ended a request, if a person did.
pub(crate) fn decided_by(resolution: &Resolution) -> Option<&Actor> {
    match resolution {
        Resolution::Decided { by, .. } | Resolution::SessionGrant { by, .. } => Some(by),
        _ => None,
    }
}

/// The `by_name` of `actor`: `phone_name` is the device's name for a phone.
pub(crate) fn by_name(actor: &Actor, phone_name: Option<String>) -> Option<String> {
    match actor {
        Actor::Cli { .. } => Some(CLI_NAME.into()),
        Actor::Tray => Some(TRAY_NAME.into()),
        Actor::Notification => Some(NOTIFICATION_NAME.into()),
        Actor::Phone { .. } => Some(phone_name.unwrap_or_else(|| UNKNOWN_PHONE_NAME.into())),
        Actor::Daemon => None,
    }
}

fn actor_id(a: &Actor) -> Option<String> {
    match a {
        Actor::Cli { .. } => Some("cli".into()),
        Actor::Tray => Some("tray".into()),
        Actor::Notification => Some("notification".into()),
        Actor::Phone { device_id } => Some(device_id.clone()),
        Actor::Daemon => None,
    }
}

/// The `approval_resolved` body; `by_name` comes from [`by_name`].
pub(crate) fn approval_resolved(
    id: &RequestId,
    hash: &str,
    resolution: &Resolution,
    by_name: Option<String>,
) -> p::ApprovalResolved {
    let outcome = match resolution {
        Resolution::Decided { decision, .. } if decision.is_allow() => p::Resolution::Allowed,
        Resolution::Decided { .. } => p::Resolution::Denied,
        Resolution::SessionGrant { .. } => p::Resolution::Allowed,
        Resolution::Expired { .. } => p::Resolution::Expired,
        Resolution::Withdrawn { .. } | Resolution::RateLimited { .. } => p::Resolution::Abstained,
    };
    let by = decided_by(resolution);
    p::ApprovalResolved {
        request_id: id.to_hex(),
        action_hash: hash.to_owned(),
        resolution: outcome,
        by: by.and_then(actor_id),
        by_name: by.and(by_name),
    }
}

/// The phone's projection of an agent record.
pub(crate) fn agent_summary(a: &AgentRecord) -> p::AgentSummary {
    p::AgentSummary {
        id: a.id.to_string(),
        kind: a.kind.slug().to_owned(),
        display_name: a.display_name.clone(),
        pid: a.pid,
        project: a.project.clone(),
        cwd: a.cwd.as_ref().map(|c| c.display().to_string()),
        started_at: a.started_at,
        cpu_percent: a.cpu_percent,
        memory_bytes: a.memory_bytes,
        descendants: a.descendants,
        state: match a.state {
            AgentState::Running => p::AgentStatus::Running,
            AgentState::Paused => p::AgentStatus::Paused,
            AgentState::Stopping => p::AgentStatus::Stopping,
            AgentState::Exited => p::AgentStatus::Exited,
        },
    }
}

/// The ack for a finished (or refused) command.
pub(crate) fn command_ack(
    cmd: &p::Command,
    msg_id: [u8; 16],
    received: Instant,
    result: Result<HaltRun, IpcError>,
) -> p::CommandAck {
    let mut ack = p::CommandAck {
        command_msg_id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(msg_id),
        op: cmd.op,
        target: cmd.target.clone(),
        outcome: p::AckOutcome::Failed,
        processes: 0,
        frozen_after_us: None,
        gone_after_us: None,
        detail: None,
    };
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            ack.outcome = match e.code {
                ErrorCode::NoSuchAgent | ErrorCode::BadRequest => p::AckOutcome::NoSuchAgent,
                ErrorCode::Refused => p::AckOutcome::Refused,
                _ => p::AckOutcome::Failed,
            };
            ack.detail = Some(e.message);
            return ack;
        }
    };
    let lead = run.started.saturating_duration_since(received).as_micros() as u64;
    let reports: Vec<_> = run.outcome.targets.iter().map(|t| &t.report).collect();
    let total: usize = reports.iter().map(|r| r.processes.len()).sum();
    let failed: usize = reports.iter().map(|r| r.failures().count()).sum();
    ack.processes = u32::try_from(total).unwrap_or(u32::MAX);
    ack.outcome = if run.outcome.success() {
        p::AckOutcome::Done
    } else if failed < total {
        p::AckOutcome::Partial
    } else {
        p::AckOutcome::Failed
    };
    // "Every process": the slowest tree, and only if every tree got there.
    let slowest = |f: fn(&reins_core::HaltReport) -> Option<u64>| {
        reports
            .iter()
            .map(|r| f(r))
            .try_fold(0u64, |m, v| v.map(|v| m.max(v)))
            .map(|m| m + lead)
    };
    ack.frozen_after_us = slowest(|r| r.frozen_after_us);
    if cmd.op == p::CommandOp::Stop {
        ack.gone_after_us = slowest(|r| r.gone_after_us);
    }
    if ack.outcome != p::AckOutcome::Done {
        let survivors: Vec<String> = reports
            .iter()
            .flat_map(|r| r.failures())
            .map(|f| format!("pid {} ({}): {:?}", f.process.pid, f.comm, f.fate))
            .collect();
        ack.detail = Some(survivors.join("; "));
    }
    ack
}

#[cfg(test)]
#[path = "phone_wire_tests.rs"]
mod tests;
