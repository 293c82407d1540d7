//! `reins hook openclaw before-tool-call`: what the Reins plugin for
//! OpenClaw (`integrations/openclaw/index.js`) runs for each tool call.
//!
//! It must never wait for a person: OpenClaw gives a `before_tool_call`
//! handler 15 s and then fails the call closed, and the plugin's own limit
//! is lower still. So it evaluates the local policy (denylist, rules,
//! guardrail level), tells the daemon without waiting (a non-asking
//! `hook` request, answered at once; the daemon may answer a deny from a
//! tripwire or a stop), and prints one JSON line
//! (`reins_approval::hooks::openclaw`): policy allow → `allow`; policy deny,
//! or a daemon deny or stop → `block`; policy ask → `ask`, which the
//! plugin turns into OpenClaw's own plugin approval, where a person (on the
//! phone, the desktop or any OpenClaw client) decides.
//!
//! Unlike the other agents' hooks, bad input never abstains: an unknown
//! event, unreadable stdin or a payload Reins cannot parse all print `ask`,
//! so a person decides and nothing runs unchecked. A daemon that cannot be
//! reached changes nothing but the audit trail (the policy still applies).

use reins_approval::guardrails;
use reins_approval::hooks::{self, HookAgent, HookEvent, HookOutput, openclaw};
use reins_approval::{ActionView, HookVerdict, PolicyDecision};
use reins_runtime::ipc::{Client, HookReport, Request};
use reins_runtime::paths::Paths;
use std::io::Write;

use crate::hook::{ACK_TIMEOUT, ancestry, call, load_policy, read_input, restrict};

const AGENT: HookAgent = HookAgent::OpenClaw;

/// Run the hook and print its line; the exit code is always 0 (the line
/// carries the decision).
pub fn run(event_word: &str) -> i32 {
    let out = answer(event_word);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    out.exit_code
}

fn answer(event_word: &str) -> HookOutput {
    let event = match HookEvent::from_cli_word(event_word)
        .and_then(|e| hooks::check_supported(AGENT, e).map(|()| e))
    {
        Ok(e) => e,
        Err(e) => return unreadable(&e.to_string()),
    };
    let raw = match read_input(AGENT, event, &[]) {
        Ok(r) => r,
        Err(e) => return unreadable(&format!("cannot read the hook input: {e}")),
    };
    let input = match reins_approval::parse(AGENT, event, &raw) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("reins hook: {e}; asking a person");
            return openclaw::unreadable(&e);
        }
    };
    let paths = Paths::from_env().ok();
    let policy = load_policy(paths.as_ref());
    let evaluation = policy.evaluate(&ActionView::from(&input));
    let candidate = guardrails::candidate(&policy.guardrails, AGENT, event, Some(&evaluation));
    let report = HookReport {
        input: input.clone(),
        ancestry: ancestry(),
        evaluation: Some(evaluation.clone()),
        timeout_ms: policy.approvals.timeout_secs * 1000,
        // Never a guardrail request: that would make the daemon hold the
        // call for a person, and this hook must answer at once. A person is
        // asked through OpenClaw's plugin approval instead.
        guardrail: None,
    };
    let told = paths
        .as_ref()
        .and_then(|p| Client::connect(&p.socket()).ok())
        .and_then(|mut c| restrict(call(&mut c, Request::Hook { hook: report }, ACK_TIMEOUT)));
    if let Some(v) = told {
        return hooks::render(AGENT, event, &v);
    }
    match evaluation.decision {
        PolicyDecision::Allow => hooks::render(AGENT, event, &HookVerdict::Allow),
        PolicyDecision::Deny => {
            let verdict = evaluation.verdict().unwrap_or(HookVerdict::Deny {
                message: format!("Denied by {}", evaluation.rule),
            });
            hooks::render(AGENT, event, &verdict)
        }
        PolicyDecision::Ask => {
            let why = match &candidate {
                Some(g) => format!("Reins guardrail: {}", g.why),
                None => format!("Reins: {}", evaluation.reason),
            };
            openclaw::ask(&input, evaluation.risk, &why)
        }
    }
}

fn unreadable(why: &str) -> HookOutput {
    eprintln!("reins hook: {why}; asking a person");
    openclaw::unreadable_because(why)
}
