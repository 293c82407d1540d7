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
//! [`Watch`] is the pure state (events and lines in, text and decisions
//! out); [`run`] wires it to the socket, stdin and Ctrl-C.

use crate::Exit;
use crate::approvals::describe;
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
        }
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
            StreamEvent::Snapshot { pending, .. } => {
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
            _ => {}
        }
        self.reprompt(now, &mut out);
        out
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
mod tests {
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
}
