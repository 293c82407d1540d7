//! Daemon types to window views: agents, approvals, halt outcomes, devices,
//! pairing steps, surfaces and the link summary.
//!
//! Pure functions with no I/O. They flatten (ids to strings, seconds to
//! milliseconds) and never invent data: a field the daemon did not send
//! becomes `None`/`false`, not a guess.

use crate::view::{
    AgentStateView, AgentView, ApprovalView, DeviceView, HaltOpView, HaltResultView,
    HaltTargetView, LinkView, OpenViewView, PairStepView, RiskView, SurfaceView,
};
use reins_approval::broker::{ApprovalRequest, RiskLevel};
use reins_core::{AgentRecord, AgentState, HaltOp, HaltReport, ProcessFate};
use reins_runtime::ipc::HaltOutcome;
use reins_runtime::ipc::proto::{DeviceInfo, DeviceStatus, OpenView};
use reins_runtime::phone::{LinkSummary, PairStep};
use reins_runtime::surfaces::SurfacesSummary;

/// An alert as the tray and the window show it.
pub fn alert_view(a: &reins_core::Alert) -> crate::view::AlertView {
    use crate::view::AlertActionView as V;
    use reins_core::{AlertAction, AlertKind};
    crate::view::AlertView {
        id: a.id.0,
        kind: match a.kind {
            AlertKind::RespawnHeld { .. } => "respawn_held",
            AlertKind::Tripwire { .. } => "tripwire",
            AlertKind::StopWord { .. } => "stop_word",
        }
        .to_owned(),
        agent_id: a.agent.to_string(),
        agent_name: a.display_name.clone(),
        project: a.project.clone(),
        message: a.message.clone(),
        actions: a
            .actions
            .iter()
            .map(|x| match x {
                AlertAction::Resume => V::Resume,
                AlertAction::Stop => V::Stop,
                AlertAction::Release => V::Release,
                AlertAction::StopSupervisor => V::StopSupervisor,
            })
            .collect(),
        raised_at_ms: a.raised_at.saturating_mul(1000),
    }
}

/// An agent as the window lists it.
pub fn agent_view(a: &AgentRecord) -> AgentView {
    AgentView {
        id: a.id.to_string(),
        kind: a.kind.slug().to_owned(),
        name: a.display_name.clone(),
        project: a.project.clone(),
        cwd: a.cwd.as_ref().map(|p| p.display().to_string()),
        pid: a.pid,
        state: match a.state {
            AgentState::Running => AgentStateView::Running,
            AgentState::Paused => AgentStateView::Paused,
            AgentState::Stopping => AgentStateView::Stopping,
            AgentState::Exited => AgentStateView::Exited,
        },
        started_at_ms: a.started_at.saturating_mul(1000),
        cpu_percent: a.cpu_percent,
        memory_bytes: a.memory_bytes,
        processes: a.descendants.saturating_add(1),
    }
}

/// A pending request as the window shows it.
pub fn approval_view(r: &ApprovalRequest) -> ApprovalView {
    ApprovalView {
        request_id: r.request_id.to_string(),
        action_hash: r.action_hash.to_string(),
        agent_id: r.agent.as_ref().map(ToString::to_string),
        agent_name: r.kind.display_name().to_owned(),
        tool: r.tool_name.clone(),
        command: r.command.clone(),
        cwd: r.cwd.clone(),
        action: r.action.clone(),
        risk: match r.risk {
            RiskLevel::High => RiskView::High,
            RiskLevel::Low | RiskLevel::Medium => RiskView::Normal,
        },
        reason: r.reason.clone(),
        allow_session: r.session_id.is_some() && r.gateway.is_none(),
        session: r.session_id.clone(),
        created_at_ms: r.created_at,
        expires_at_ms: r.expires_at,
    }
}

/// The live surfaces and the notes on missing ones.
pub fn surfaces_view(s: &SurfacesSummary) -> (Vec<SurfaceView>, Vec<String>) {
    let live = s
        .live
        .iter()
        .map(|l| SurfaceView {
            kind: serde_name(&l.kind),
            detail: l.detail.clone(),
        })
        .collect();
    (live, s.notes.clone())
}

/// The phone link, summed up.
pub fn link_view(l: &LinkSummary) -> LinkView {
    LinkView {
        state: l.state.clone(),
        broker: l.broker.clone(),
        devices: u32::try_from(l.devices).unwrap_or(u32::MAX),
        app_url: l.app.as_ref().and_then(|a| a.url.clone()),
        last_error: l.last_error.clone(),
    }
}

/// The core's halt operation for a view's.
pub fn halt_op(op: HaltOpView) -> HaltOp {
    match op {
        HaltOpView::Stop => HaltOp::Stop,
        HaltOpView::Pause => HaltOp::Pause,
        HaltOpView::Resume => HaltOp::Resume,
    }
}

fn halt_op_view(op: HaltOp) -> HaltOpView {
    match op {
        HaltOp::Stop => HaltOpView::Stop,
        HaltOp::Pause => HaltOpView::Pause,
        HaltOp::Resume => HaltOpView::Resume,
    }
}

/// A verified halt outcome, with one line for people.
pub fn halt_result_view(o: &HaltOutcome) -> HaltResultView {
    let targets: Vec<HaltTargetView> = o
        .targets
        .iter()
        .map(|t| HaltTargetView {
            target: t
                .agent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| t.report.root.pid.to_string()),
            success: t.report.success,
            detail: target_detail(&t.report),
        })
        .collect();
    let success = o.success();
    let verb = o.op.verb();
    let done = match o.op {
        HaltOp::Stop => "Stopped",
        HaltOp::Pause => "Paused",
        HaltOp::Resume => "Resumed",
    };
    let failed = targets.iter().filter(|t| !t.success).count();
    let mut summary = match (targets.len(), failed) {
        (0, _) => format!("Nothing to {verb}: no agent matched '{}'", o.target),
        (1, 0) => format!("{done} {}", targets[0].target),
        (n, 0) => format!("{done} {n} agents"),
        (n, f) => format!(
            "Could not {verb} {f} of {n}: {}",
            targets
                .iter()
                .filter(|t| !t.success)
                .map(|t| format!("{} ({})", t.target, t.detail))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    for w in &o.warnings {
        summary.push_str(&format!(" (warning: {w})"));
    }
    HaltResultView {
        op: halt_op_view(o.op),
        success,
        summary,
        targets,
    }
}

fn target_detail(r: &HaltReport) -> String {
    let n = r.processes.len();
    let plural = if n == 1 { "process" } else { "processes" };
    if r.success {
        return match r.op {
            HaltOp::Stop => format!("stopped: {n} {plural} gone"),
            HaltOp::Pause => format!("paused: {n} {plural} frozen"),
            HaltOp::Resume => format!("resumed: {n} {plural} running again"),
        };
    }
    let failures: Vec<String> = r
        .failures()
        .map(|p| match &p.fate {
            ProcessFate::Failed { error } => format!("{} (pid {}): {error}", p.comm, p.process.pid),
            _ => format!("{} (pid {}) survived", p.comm, p.process.pid),
        })
        .collect();
    if failures.is_empty() {
        format!("{} not verified", r.op.verb())
    } else {
        format!("{} failed: {}", r.op.verb(), failures.join(", "))
    }
}

/// A paired device, with its presence.
pub fn device_status_view(d: &DeviceStatus) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        name: d.name.clone(),
        paired_at_ms: d.paired_at_ms,
        last_seen_ms: d.last_seen_ms,
        online: d.online,
    }
}

/// A paired device without presence (a just-paired or renamed one):
/// not seen, not online.
pub fn device_view(d: &DeviceInfo) -> DeviceView {
    DeviceView {
        id: d.id.clone(),
        name: d.name.clone(),
        paired_at_ms: d.paired_at_ms,
        last_seen_ms: None,
        online: false,
    }
}

/// A pairing step.
pub fn pair_step_view(s: &PairStep) -> PairStepView {
    match s {
        PairStep::Code { device_name, code } => PairStepView::Code {
            device_name: device_name.clone(),
            code: code.clone(),
        },
        PairStep::AnotherDeviceTried => PairStepView::AnotherDeviceTried,
        PairStep::Paired { device } => PairStepView::Paired {
            device: device_view(device),
        },
        PairStep::Failed { message } => PairStepView::Failed {
            message: message.clone(),
        },
    }
}

/// Where the window should open.
pub fn open_view(v: &OpenView) -> OpenViewView {
    match v {
        OpenView::Approval { request_id } => OpenViewView::Approval {
            request_id: request_id.to_string(),
        },
        OpenView::Agents => OpenViewView::Agents,
    }
}

/// The serde name of a unit enum variant (`snake_case` in this workspace).
pub fn serde_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
