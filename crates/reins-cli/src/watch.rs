//! `reins approvals --watch`: a terminal that shows approval requests as
//! they arrive and lets the person answer them.
//!
//! It subscribes to the daemon as a [`ClientSurface::Terminal`], so while it
//! runs, prompts wait for a person (with no surface they abstain at once).
//! Each new request is printed in full (agent, exact command, cwd, risk,
//! time left), with every agent-controlled string made safe to print
//! ([`crate::output::safe`]); each resolution is printed too. The newest
//! unanswered request gets a one-line prompt; an answer goes to the request
//! that prompt named, through the daemon's `decide` (which refuses callers
//! inside an agent's tree). Approving a high-risk request takes typing
//! `yes` as well. At a terminal, an answer typed within
//! [`FRESH_PROMPT`] of a new prompt is not applied: the key was meant for
//! what was on screen before. With stdin not a terminal, lines are read as
//! answers the same way; at end of input it just keeps printing.
//!
//! Alerts (Reins froze an agent on its own) are printed too, and the words
//! `resume`, `stop`, `release` and `stop-supervisor` act on the newest one
//! (`crate::watch_alerts`).
//!
//! [`Watch`] is the pure state (events and lines in, text and decisions
//! out); [`run`] wires it to the socket, stdin and Ctrl-C.

use crate::Exit;
use crate::approvals::describe;
use crate::watch_alerts::{AlertAct, AlertWatch};
use reins_approval::broker::{ApprovalRequest, RequestId, Resolution, WithdrawReason};
use reins_approval::{BrokerEvent, Decision, RiskLevel, TimeoutOutcome};
use reins_runtime::ipc::{
    ClientError, ClientSurface, Request, Response, StreamEvent, Subscription, call_async,
};
use reins_runtime::paths::Paths;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

/// At a terminal, an answer this soon after a new prompt is not applied.
pub const FRESH_PROMPT: Duration = Duration::from_millis(750);

/// The short id shown in prompts and resolutions.
fn short(id: &RequestId) -> String {
    id.to_hex().chars().take(8).collect()
}

/// The watch's state.
#[derive(Debug)]
pub struct Watch {
    pending: BTreeMap<RequestId, ApprovalRequest>,
    skipped: HashSet<RequestId>,
    /// The request the last prompt named, and when it was printed.
    prompted: Option<(RequestId, Instant)>,
    /// A high-risk approval waiting for `yes`.
    confirming: Option<(RequestId, Decision)>,
    /// Answers come from a person at a terminal.
    tty: bool,
    seen_snapshot: bool,
    /// The audit log could not be written at the last news of it.
    audit_failing: bool,
    alerts: AlertWatch,
    /// An alert action typed on the last line, for [`run`] to send.
    act: Option<AlertAct>,
}

/// What an input line asks for.
#[derive(Debug, PartialEq)]
pub struct Decide {
    /// The request.
    pub request: ApprovalRequest,
    /// The answer.
    pub decision: Decision,
}

impl Watch {
    /// An empty watch; `tty` when stdin is a terminal.
    pub fn new(tty: bool) -> Self {
        Self {
            pending: BTreeMap::new(),
            skipped: HashSet::new(),
            prompted: None,
            confirming: None,
            tty,
            seen_snapshot: false,
            audit_failing: false,
            alerts: AlertWatch::default(),
            act: None,
        }
    }

    /// The alert action the last line asked for, if any.
    pub fn take_alert_act(&mut self) -> Option<AlertAct> {
        self.act.take()
    }

    /// The newest pending request not skipped.
    fn target(&self) -> Option<&ApprovalRequest> {
        self.pending
            .values()
            .filter(|r| !self.skipped.contains(&r.request_id))
            .max_by_key(|r| (r.created_at, r.request_id))
    }

    /// The prompt for the target, if it is not the one already prompted.
    fn reprompt(&mut self, now: Instant, out: &mut String) {
        if self.confirming.is_some() {
            return;
        }
        let Some(r) = self.target() else {
            self.prompted = None;
            return;
        };
        let id = r.request_id;
        if self.prompted.map(|(p, _)| p) == Some(id) {
            return;
        }
        let session = if r.session_id.is_some() {
            "[s]ession / "
        } else {
            ""
        };
        let high = if r.risk == RiskLevel::High {
            " (HIGH RISK: approving asks you to type yes)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "answer {}: [a]pprove / {session}[d]eny / [enter] skip{high}",
            short(&id)
        );
        self.prompted = Some((id, now));
    }

    /// One event from the daemon: what to print.
    pub fn on_event(&mut self, ev: StreamEvent, now_ms: u64, now: Instant) -> String {
        let mut out = String::new();
        match ev {
            StreamEvent::Snapshot {
                pending,
                alerts,
                audit,
                ..
            } => {
                self.audit_problem(audit, &mut out);
                self.alerts.snapshot(alerts, now, &mut out);
                let fresh: BTreeMap<RequestId, ApprovalRequest> =
                    pending.into_iter().map(|r| (r.request_id, r)).collect();
                for (id, r) in &fresh {
                    if !self.pending.contains_key(id) {
                        let _ = write!(out, "\n{}", describe(r, now_ms));
                    }
                }
                if self.seen_snapshot {
                    for id in self.pending.keys().filter(|id| !fresh.contains_key(id)) {
                        let _ = writeln!(out, "{}: no longer pending", short(id));
                    }
                } else if fresh.is_empty() {
                    out.push_str("No approvals pending; waiting for new ones.\n");
                }
                self.seen_snapshot = true;
                self.pending = fresh;
                self.skipped.retain(|id| self.pending.contains_key(id));
                self.drop_stale_confirm(&mut out);
            }
            StreamEvent::Approval {
                change: BrokerEvent::Requested { request },
            } => {
                let _ = write!(out, "\n{}", describe(&request, now_ms));
                self.pending.insert(request.request_id, request);
            }
            StreamEvent::Approval {
                change:
                    BrokerEvent::Resolved {
                        request_id,
                        resolution,
                    },
            } => {
                if self.pending.remove(&request_id).is_some() {
                    let _ = writeln!(out, "{}: {}", short(&request_id), how(&resolution));
                }
                self.skipped.remove(&request_id);
                self.drop_stale_confirm(&mut out);
            }
            StreamEvent::Alert { alert } => self.alerts.raised(alert, now, &mut out),
            StreamEvent::AlertCleared { id } => self.alerts.cleared(id, &mut out),
            StreamEvent::Audit { problem } => self.audit_problem(problem, &mut out),
            _ => {}
        }
        self.reprompt(now, &mut out);
        out
    }

    /// Say when the audit log stops or starts being written again (once
    /// each, not on every count change).
    fn audit_problem(
        &mut self,
        p: Option<reins_runtime::audit_health::AuditProblem>,
        out: &mut String,
    ) {
        match (&p, self.audit_failing) {
            (Some(p), false) => {
                let _ = writeln!(
                    out,
                    "\nAUDIT LOG NOT WRITTEN: {}",
                    crate::output::safe(&p.message())
                );
            }
            (None, true) => {
                out.push_str("\nThe audit log is written again; the gap is recorded in it.\n");
            }
            _ => {}
        }
        self.audit_failing = p.is_some();
    }

    fn drop_stale_confirm(&mut self, out: &mut String) {
        if let Some((id, _)) = self.confirming
            && !self.pending.contains_key(&id)
        {
            self.confirming = None;
            let _ = writeln!(out, "(no need to confirm {}: it is over)", short(&id));
        }
    }

    /// One line the person typed: what to print and what to decide.
    pub fn on_line(&mut self, line: &str, now: Instant) -> (String, Option<Decide>) {
        let mut out = String::new();
        let answer = line.trim().to_ascii_lowercase();
        if self.confirming.is_none()
            && let Some((text, act)) = self.alerts.on_line(&answer, now, self.tty)
        {
            self.act = act;
            return (text, None);
        }
        if let Some((id, decision)) = self.confirming.take() {
            let decide = match (answer.as_str(), self.pending.get(&id)) {
                ("yes", Some(r)) => Some(Decide {
                    request: r.clone(),
                    decision,
                }),
                (_, Some(_)) => {
                    let _ = writeln!(
                        out,
                        "Not approved: {} is high risk; type yes to approve it.",
                        short(&id)
                    );
                    None
                }
                (_, None) => None,
            };
            self.prompted = None;
            self.reprompt(now, &mut out);
            return (out, decide);
        }
        let Some((id, at)) = self.prompted else {
            if !answer.is_empty() {
                out.push_str("Nothing to answer.\n");
            }
            return (out, None);
        };
        let Some(r) = self.pending.get(&id).cloned() else {
            self.prompted = None;
            self.reprompt(now, &mut out);
            return (out, None);
        };
        if self.tty && now.saturating_duration_since(at) < FRESH_PROMPT {
            let _ = writeln!(
                out,
                "A new request just arrived; read {} and answer again.",
                short(&id)
            );
            return (out, None);
        }
        let decision = match answer.as_str() {
            "a" | "approve" => Decision::Allow,
            "s" | "session" if r.session_id.is_some() => Decision::AllowForSession,
            "d" | "deny" => Decision::Deny { message: None },
            "" => {
                self.skipped.insert(id);
                let _ = writeln!(out, "Skipped {}; it stays pending.", short(&id));
                self.reprompt(now, &mut out);
                return (out, None);
            }
            _ => {
                let _ = writeln!(
                    out,
                    "Answer a, {}d, or press enter to skip.",
                    if r.session_id.is_some() { "s, " } else { "" }
                );
                return (out, None);
            }
        };
        if decision.is_allow() && r.risk == RiskLevel::High {
            let _ = writeln!(
                out,
                "{} is HIGH RISK. Read the command above; type yes to approve it, anything else to cancel:",
                short(&id)
            );
            self.confirming = Some((id, decision));
            return (out, None);
        }
        (
            out,
            Some(Decide {
                request: r,
                decision,
            }),
        )
    }
}

/// How a request ended, for people.
fn how(r: &Resolution) -> String {
    match r {
        Resolution::Decided { decision, by, .. } => match decision {
            Decision::Allow => format!("approved by {by}"),
            Decision::AllowForSession => format!("approved for the session by {by}"),
            Decision::Deny { .. } => format!("denied by {by}"),
        },
        Resolution::SessionGrant { by, .. } => {
            format!("allowed by an earlier allow-for-session from {by}")
        }
        Resolution::Expired { outcome, .. } => match outcome {
            TimeoutOutcome::Abstain => "expired; the agent asks in its own dialog".to_owned(),
            TimeoutOutcome::Deny => "expired and was denied".to_owned(),
        },
        Resolution::Withdrawn { reason, .. } => {
            let why = match reason {
                WithdrawReason::SessionMovedOn => "it was answered in the agent's own dialog",
                WithdrawReason::SessionEnded => "the session ended",
                WithdrawReason::HookGone => "the agent stopped waiting",
                WithdrawReason::AgentExited => "the agent exited",
                WithdrawReason::Shutdown => "Reins is shutting down",
                WithdrawReason::NoSurface => "no surface could show it any more",
                WithdrawReason::AnsweredElsewhere => "it was answered or ended in OpenClaw",
                WithdrawReason::GatewayLost => {
                    "the link to OpenClaw's gateway dropped; it comes back if still pending"
                }
            };
            format!("withdrawn: {why}")
        }
        Resolution::RateLimited { .. } => {
            "not asked: too many prompts pending; the agent asks in its own dialog".to_owned()
        }
    }
}

/// `reins approvals --watch`.
pub fn run(paths: &Paths, now_ms: fn() -> u64) -> anyhow::Result<Exit> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(watch(paths, now_ms))
}

async fn watch(paths: &Paths, now_ms: fn() -> u64) -> anyhow::Result<Exit> {
    let socket = paths.socket();
    let mut sub = match Subscription::connect(&socket, ClientSurface::Terminal).await {
        Ok(s) => s,
        Err(ClientError::NotRunning(_)) => anyhow::bail!(
            "no Reins daemon is running; approvals are held by the daemon: start it with `reins daemon`"
        ),
        Err(e) => return Err(e.into()),
    };
    let tty = std::io::stdin().is_terminal();
    // A plain thread, not tokio's stdin: a blocked read must not keep the
    // runtime from shutting down on Ctrl-C.
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut w = Watch::new(tty);
    let mut stdin_open = true;
    say(
        "Watching for approval requests. While this runs, prompts wait for an answer here. Ctrl-C to stop.\n",
    );
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                say("\n");
                return Ok(Exit::Ok);
            }
            ev = sub.next() => match ev? {
                Some(ev) => say(&w.on_event(ev, now_ms(), Instant::now())),
                None => {
                    eprintln!("reins: the daemon stopped; nothing more to watch");
                    return Ok(Exit::Other);
                }
            },
            line = lines.recv(), if stdin_open => match line {
                Some(line) => {
                    let (text, decide) = w.on_line(&line, Instant::now());
                    say(&text);
                    if let Some(d) = decide {
                        send(&socket, d).await;
                    }
                    if let Some(act) = w.take_alert_act() {
                        send_alert(&socket, act).await;
                    }
                }
                None => stdin_open = false,
            },
        }
    }
}

fn say(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}

/// Runs an alert's action through the daemon, as `reins resume|stop|release`
/// would, and prints how it went.
async fn send_alert(socket: &std::path::Path, act: AlertAct) {
    use reins_core::{AlertAction, HaltOp};
    let target = act.alert.agent.to_string();
    let halt = |halt| Request::Halt {
        halt,
        target: target.clone(),
        force: false,
    };
    let req = match act.action {
        AlertAction::Resume => halt(HaltOp::Resume),
        AlertAction::Stop => halt(HaltOp::Stop),
        AlertAction::Release => Request::Release {
            target: target.clone(),
        },
        AlertAction::StopSupervisor => Request::StopSupervisor {
            target: target.clone(),
        },
    };
    match call_async(socket, &req).await {
        Ok(Response::Halted(o)) => say(&crate::output::halt_outcome(&o)),
        Ok(Response::Released(r)) => say(&format!(
            "released {} latch(es); resumed {} held respawn(s)\n",
            r.released.len(),
            r.resumed.len()
        )),
        Ok(Response::Error(e)) => say(&format!("reins: {}\n", e.message)),
        Ok(other) => say(&format!("reins: unexpected daemon response: {other:?}\n")),
        Err(e) => say(&format!("reins: {e}\n")),
    }
}

/// Sends a decision; the outcome is printed when its resolution arrives on
/// the stream, a refusal here.
async fn send(socket: &std::path::Path, d: Decide) {
    let req = Request::Decide {
        request_id: d.request.request_id,
        action_hash: d.request.action_hash,
        decision: d.decision,
    };
    match call_async(socket, &req).await {
        Ok(Response::Decided { .. }) => {}
        Ok(Response::Error(e)) => say(&format!("reins: {}\n", e.message)),
        Ok(other) => say(&format!("reins: unexpected daemon response: {other:?}\n")),
        Err(e) => say(&format!("reins: {e}\n")),
    }
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
