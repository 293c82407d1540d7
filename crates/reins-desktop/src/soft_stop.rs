//! "Stop this run (keep gateway)" for an OpenClaw agent, from the tray menu
//! and the window: one IPC `soft_stop`, the same the CLI's `reins stop <id>
//! --soft` sends, so the daemon checks and audits it the same way. The
//! daemon asks OpenClaw's gateway to abort every active run
//! (`sessions.abort`); the gateway and its chat channels stay up.
//!
//! It asks OpenClaw; it does not make it. The hard stop (Stop, Stop all) is
//! untouched and stays the red, primary action. Not here: the daemon side
//! (reins-runtime's `daemon_openclaw.rs`) or showing the result (the shell
//! and the window).

use crate::core::Desktop;
use crate::error::unexpected;
use crate::tray::clean;
use crate::view::{
    HaltOpView, HaltResultView, HaltTargetView, SoftStopRunView, SoftStopView, UiError,
};
use reins_core::{AgentId, AgentKind};
use reins_runtime::daemon_openclaw::SoftStopOutcome;
use reins_runtime::ipc::{ErrorCode, Request, Response};

/// What the tray and the window call it.
pub const SOFT_STOP_LABEL: &str = "Stop this run (keep gateway)";
/// Longest session key or error shown (characters).
const TEXT_CHARS: usize = 120;

impl Desktop {
    /// Ask OpenClaw to abort the active runs of the OpenClaw agent
    /// `agent_id`. Anything but one OpenClaw agent's id is refused here,
    /// before anything is sent.
    pub async fn soft_stop(&self, agent_id: &str) -> Result<SoftStopView, UiError> {
        match agent_id.parse::<AgentId>() {
            Ok(id) if id.kind == AgentKind::OpenClaw => {}
            Ok(_) => {
                return Err(UiError::new(
                    "Only an OpenClaw agent has runs to abort; use Stop for this agent.",
                ));
            }
            Err(_) => {
                return Err(UiError::new(format!(
                    "'{}' is not an agent; pick an OpenClaw agent from the agent list.",
                    clean(agent_id, 80)
                )));
            }
        }
        let req = Request::SoftStop {
            target: agent_id.to_owned(),
        };
        match self.call(&req).await? {
            Response::SoftStopped(o) => Ok(soft_stop_view(&o)),
            // The gateway link's own words (not the phone link's hint).
            Response::Error(e) if e.code == ErrorCode::LinkUnavailable => Err(UiError::new(
                format!("{} Nothing was stopped.", clean(&e.message, 400)),
            )),
            other => Err(unexpected(other, "a soft stop")),
        }
    }
}

/// The daemon's answer, in words for people. OpenClaw's strings (session
/// keys, errors) are cleaned to one bounded line.
pub fn soft_stop_view(o: &SoftStopOutcome) -> SoftStopView {
    let runs: Vec<SoftStopRunView> = o
        .runs
        .iter()
        .map(|r| {
            let session_key = clean(&r.session_key, TEXT_CHARS);
            let (ok, aborted, detail) = match &r.outcome {
                Ok(a) if a.aborted => (true, true, "aborted the run, queued turns cleared".into()),
                Ok(a) if a.status == "no-active-run" => (true, false, "no run was active".into()),
                Ok(a) => (
                    true,
                    false,
                    format!("OpenClaw said {}", clean(&a.status, 40)),
                ),
                Err(e) => (
                    false,
                    false,
                    format!("not aborted: {}", clean(e, TEXT_CHARS)),
                ),
            };
            SoftStopRunView {
                session_key,
                aborted,
                ok,
                detail,
            }
        })
        .collect();
    let success = runs.iter().all(|r| r.ok);
    let aborted: Vec<&str> = runs
        .iter()
        .filter(|r| r.aborted)
        .map(|r| r.session_key.as_str())
        .collect();
    let summary = if !success {
        let failed: Vec<String> = runs
            .iter()
            .filter(|r| !r.ok)
            .map(|r| format!("{} ({})", r.session_key, r.detail))
            .collect();
        format!(
            "Could not abort every run: {}. Stop stops it the hard way.",
            failed.join("; ")
        )
    } else {
        match aborted.as_slice() {
            [] => "No run was active; nothing to abort.".to_owned(),
            [one] => format!("Aborted the run in {one}; the gateway stays up."),
            many => format!(
                "Aborted {} runs ({}); the gateway stays up.",
                many.len(),
                many.join(", ")
            ),
        }
    };
    SoftStopView {
        target: o.target.clone(),
        success,
        summary,
        runs,
    }
}

/// What the tray shows of a soft stop: the halt result it already knows
/// how to show (a failure, refused or not answered, opens the window on it),
/// op `stop`, one target per session, said to be this run only.
pub fn soft_stop_as_halt(r: Result<SoftStopView, UiError>) -> HaltResultView {
    let (success, summary, targets) = match r {
        Ok(v) => (
            v.success,
            v.summary,
            v.runs
                .into_iter()
                .map(|r| HaltTargetView {
                    target: r.session_key,
                    success: r.ok,
                    detail: r.detail,
                })
                .collect(),
        ),
        Err(e) => (false, e.message, Vec::new()),
    };
    HaltResultView {
        op: HaltOpView::Stop,
        success,
        summary: format!("{SOFT_STOP_LABEL}: {summary}"),
        targets,
    }
}

#[cfg(test)]
#[path = "soft_stop_tests.rs"]
mod tests;
