//! `reins hook <agent> <event>`: the entry point agents' hook systems call.
//!
//! The fast path: no tokio, no config file, no scan. It reads the event (stdin,
//! or Codex `notify`'s last argument), evaluates the local policy, asks the
//! daemon when a person must decide, and prints exactly what the agent
//! expects. It fails safe: malformed input, a broken policy, an absent or
//! dying daemon all end in abstain (exit 0, no output), never in allow; the
//! policy's deny rules still apply without a daemon.
//!
//! One exception to "abstain when in doubt": a pre-tool event that the
//! guardrail for unattended agents would hold (`reins_approval::guardrails`)
//! in a session whose payload itself says it is unattended
//! (`permission_mode: bypassPermissions`, ...) is denied when the daemon
//! cannot be reached, since nobody would ever be asked.

use reins_approval::guardrails::{self, Guardrail, Unanswered};
use reins_approval::hooks::{self, HookAgent, HookEvent};
use reins_approval::{ActionView, HookInput, HookVerdict, Policy, PolicyDecision, render};
use reins_runtime::ipc::{Client, HookReport, Request, Response};
use reins_runtime::paths::Paths;
use std::io::{Read, Write};
use std::time::Duration;

/// How long a non-blocking hook waits for the daemon's acknowledgement. The
/// daemon answers in well under a millisecond; this only bounds a wedged one.
pub(crate) const ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Extra time, beyond the policy's approval timeout, that a waiting hook
/// gives the daemon before giving up on it (the daemon expires the request
/// itself and answers; this covers a daemon that stopped answering).
const ASK_MARGIN: Duration = Duration::from_secs(15);

/// Largest hook input read from stdin. Tool inputs (file edits) can be large,
/// but not this large; more is malformed and abstains.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Run the hook; the return value is the process exit code.
pub fn run(agent_word: &str, event_word: &str, extra: &[String]) -> i32 {
    if agent_word == HookAgent::OpenClaw.cli_word() {
        // Never waits, and never abstains on bad input: see hook_openclaw.
        return crate::hook_openclaw::run(event_word);
    }
    let (agent, event) = match hooks::resolve(agent_word, event_word) {
        Ok(x) => x,
        Err(e) => return abstain(&format!("{e}")),
    };
    let raw = match read_input(agent, event, extra) {
        Ok(r) => r,
        Err(e) => return abstain(&format!("cannot read the hook input: {e}")),
    };
    let input = match reins_approval::parse(agent, event, &raw) {
        Ok(i) => i,
        Err(e) => return abstain(&format!("{e}")),
    };
    let paths = Paths::from_env().ok();
    let policy = load_policy(paths.as_ref());
    let evaluation = input
        .tool_name
        .is_some()
        .then(|| policy.evaluate(&ActionView::from(&input)));
    let timeout_ms = policy.approvals.timeout_secs * 1000;
    let guardrail = guardrails::candidate(&policy.guardrails, agent, event, evaluation.as_ref());
    let report = HookReport {
        input,
        ancestry: ancestry(),
        evaluation,
        timeout_ms,
        guardrail,
    };
    let verdict = decide(agent, event, report, paths.as_ref());
    emit(agent, event, &verdict)
}

fn decide(
    agent: HookAgent,
    event: HookEvent,
    report: HookReport,
    paths: Option<&Paths>,
) -> HookVerdict {
    let policy_verdict = report.evaluation.as_ref().and_then(|e| e.verdict());
    let denied = report
        .evaluation
        .as_ref()
        .is_some_and(|e| e.decision == PolicyDecision::Deny);
    let mut client = paths.and_then(|p| Client::connect(&p.socket()).ok());
    if hooks::needs_person(agent, event) {
        if let Some(v) = policy_verdict {
            // Decided by policy: tell the daemon for the audit log (and its
            // tripwires), answer at once; a tripwire's deny or a stop wins.
            if let Some(c) = client.as_mut() {
                return restrict(call(c, Request::Hook { hook: report }, ACK_TIMEOUT)).unwrap_or(v);
            }
            return v;
        }
        let fallback = no_daemon(&report);
        let Some(c) = client.as_mut() else {
            return fallback;
        };
        let guard_ms = report.guardrail.as_ref().map_or(0, |g| g.timeout_ms);
        let wait = Duration::from_millis(report.timeout_ms.max(guard_ms)) + ASK_MARGIN;
        return call(c, Request::Ask { hook: report }, wait).unwrap_or(fallback);
    }
    if denied && event.is_tool_event() {
        let v = policy_verdict.unwrap_or(HookVerdict::Abstain);
        if let Some(c) = client.as_mut() {
            let _ = call(c, Request::Hook { hook: report }, ACK_TIMEOUT);
        }
        return v;
    }
    let fallback = no_daemon(&report);
    let Some(c) = client.as_mut() else {
        return fallback;
    };
    if let Some(g) = &report.guardrail {
        // The daemon may hold this call for a person: wait as long as it may.
        let wait = Duration::from_millis(g.timeout_ms) + ASK_MARGIN;
        return call(c, Request::Hook { hook: report }, wait).unwrap_or(fallback);
    }
    // A deny here is a tripwire, or a stop word that froze the agent (the
    // prompt is blocked, never read).
    restrict(call(c, Request::Hook { hook: report }, ACK_TIMEOUT)).unwrap_or(HookVerdict::Abstain)
}

/// What the daemon may answer on the non-asking path: a stop, or a deny (a
/// tripwire fired, or a stop word). Never an allow: anything else is no opinion.
pub(crate) fn restrict(v: Option<HookVerdict>) -> Option<HookVerdict> {
    match v {
        Some(v @ (HookVerdict::StopAgent { .. } | HookVerdict::Deny { .. })) => Some(v),
        _ => None,
    }
}

/// The verdict when the daemon cannot be reached: abstain, except for a
/// guardrail candidate in a session whose payload says it is unattended
/// (nobody else will ever be asked, so deny and say why). A session known
/// to be unattended only by its agent's command line cannot be told here.
fn no_daemon(report: &HookReport) -> HookVerdict {
    let input = &report.input;
    let unattended = input
        .agent
        .unattended_by_mode(input.permission_mode.as_deref());
    match (&report.guardrail, unattended) {
        (Some(ask), Some(u)) => Guardrail::new(u, ask).unanswered(Unanswered::NoDaemon),
        _ => HookVerdict::Abstain,
    }
}

pub(crate) fn call(c: &mut Client, req: Request, timeout: Duration) -> Option<HookVerdict> {
    c.set_timeout(Some(timeout)).ok()?;
    match c.call(&req) {
        Ok(Response::Verdict { verdict }) => Some(verdict),
        Ok(other) => {
            eprintln!("reins hook: unexpected daemon answer {other:?}; abstaining");
            None
        }
        Err(e) => {
            eprintln!("reins hook: {e}; abstaining");
            None
        }
    }
}

pub(crate) fn read_input(
    agent: HookAgent,
    event: HookEvent,
    extra: &[String],
) -> std::io::Result<Vec<u8>> {
    if agent == HookAgent::Codex && event == HookEvent::Notify {
        return Ok(extra
            .last()
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default());
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(std::io::Error::other("input larger than 16 MiB"));
    }
    Ok(buf)
}

/// The policy, failing safe: a broken file leaves the built-in denylist in force.
pub(crate) fn load_policy(paths: Option<&Paths>) -> Policy {
    let Some(paths) = paths else {
        return crate::approvals::builtin_policy();
    };
    crate::approvals::load_policy(paths).unwrap_or_else(|e| {
        eprintln!(
            "reins hook: {e:#}; applying only the built-in denylist until it is fixed (`reins policy check`)"
        );
        crate::approvals::builtin_policy()
    })
}

/// Our ancestors, nearest first: the agent is one of them.
pub(crate) fn ancestry() -> Vec<reins_core::ProcessKey> {
    reins_os::tree::ancestors(&reins_os::Linux, std::process::id())
        .into_iter()
        .map(|p| p.key)
        .collect()
}

fn abstain(message: &str) -> i32 {
    eprintln!("reins hook: {message}; abstaining (the agent's own prompt stands)");
    0
}

fn emit(agent: HookAgent, event: HookEvent, verdict: &HookVerdict) -> i32 {
    let out = render(agent, event, verdict);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    out.exit_code
}

/// The parsed input, for `reins policy test`.
pub fn parse_for_test(agent: HookAgent, event: HookEvent, raw: &[u8]) -> Result<HookInput, String> {
    reins_approval::parse(agent, event, raw).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemon_may_deny_or_stop_a_pre_tool_call_but_never_allow_it() {
        let deny = HookVerdict::Deny {
            message: "tripwire".into(),
        };
        assert_eq!(restrict(Some(deny.clone())), Some(deny));
        let stop = HookVerdict::StopAgent { reason: "x".into() };
        assert_eq!(restrict(Some(stop.clone())), Some(stop));
        assert_eq!(restrict(Some(HookVerdict::Allow)), None);
        assert_eq!(restrict(Some(HookVerdict::Abstain)), None);
        assert_eq!(restrict(None), None);
    }
}
