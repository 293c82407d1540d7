//! `reins approvals`, `reins approve`, `reins deny` and `reins policy`.
//!
//! Approve and deny look the request up first and echo its action hash, so a
//! decision only ever applies to the exact action that was listed. Ids may
//! be abbreviated to any unique prefix. Nothing here decides: the daemon's
//! broker does, and it refuses decisions sent from inside an agent's tree.

use crate::Exit;
use crate::output::{is_escaped, safe};
use anyhow::Context as _;
use reins_approval::broker::{ApprovalRequest, RequestId, RequestState};
use reins_approval::hooks::{self, HookAgent, HookEvent};
use reins_approval::{ActionView, Decision, Policy, RejectReason};
use reins_runtime::ipc::{Client, ClientError, ErrorCode, Request, Response};
use reins_runtime::paths::Paths;
use std::fmt::Write as _;

fn client(paths: &Paths) -> anyhow::Result<Client> {
    Client::connect(&paths.socket()).map_err(|e| match e {
        ClientError::NotRunning(_) => anyhow::anyhow!(
            "no Reins daemon is running; approvals are held by the daemon: start it with `reins daemon`"
        ),
        e => e.into(),
    })
}

fn pending(c: &mut Client) -> anyhow::Result<Vec<ApprovalRequest>> {
    match c.call(&Request::Approvals)? {
        Response::Approvals { pending } => Ok(pending),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// `reins approvals [--json]`.
pub fn list(paths: &Paths, json: bool, now_ms: u64) -> anyhow::Result<Exit> {
    let pending = pending(&mut client(paths)?)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&pending)?);
        return Ok(Exit::Ok);
    }
    if pending.is_empty() {
        println!("No approvals pending.");
    }
    for r in &pending {
        print!("{}", describe(r, now_ms));
    }
    Ok(Exit::Ok)
}

/// A request in full: the exact command or tool input, cwd and agent. Every
/// string that came from the agent is passed through [`safe`], so a
/// command cannot repaint the terminal; an escaped one is labelled so.
pub fn describe(r: &ApprovalRequest, now_ms: u64) -> String {
    let mut s = String::new();
    let agent = r
        .agent
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| r.kind.display_name().to_owned());
    let _ = writeln!(
        s,
        "{}  {} wants to run {}  (risk {:?}, expires in {}s)",
        r.request_id,
        agent,
        safe(&r.tool_name),
        r.risk,
        r.expires_at.saturating_sub(now_ms) / 1000
    );
    let field = |s: &mut String, label: &str, v: &str| {
        let note = if is_escaped(v) {
            "  (control characters shown escaped)"
        } else {
            ""
        };
        let _ = writeln!(s, "    {label:<8} {}{note}", safe(v));
    };
    match &r.command {
        Some(cmd) => field(&mut s, "command:", cmd),
        None => field(&mut s, "input:", &r.tool_input.to_string()),
    }
    if let Some(argv) = r.gateway.as_ref().and(r.tool_input.get("argv")) {
        field(&mut s, "argv:", &argv.to_string());
    }
    field(&mut s, "cwd:", r.cwd.as_deref().unwrap_or("?"));
    if let Some(session) = &r.session_id {
        field(&mut s, "session:", session);
    }
    if let Some(g) = &r.gateway {
        let agent = g.openclaw_agent.as_deref().unwrap_or("?");
        field(
            &mut s,
            "openclaw:",
            &format!("agent {agent}, approval {}", g.id),
        );
    }
    if let Some(reason) = &r.reason {
        let label = if r.gateway.is_some() {
            "why:"
        } else {
            "policy:"
        };
        field(&mut s, label, reason);
    }
    s
}

/// `reins approve <id> [--session]` and `reins deny <id> [--message M]`.
pub fn decide(
    paths: &Paths,
    id_prefix: &str,
    decision: Decision,
    now_ms: u64,
) -> anyhow::Result<Exit> {
    let mut c = client(paths)?;
    let pending = pending(&mut c)?;
    let matches: Vec<&ApprovalRequest> = pending
        .iter()
        .filter(|r| {
            r.request_id
                .to_hex()
                .starts_with(&id_prefix.to_ascii_lowercase())
        })
        .collect();
    let r = match matches.as_slice() {
        [one] => *one,
        [] => return not_pending(&mut c, id_prefix),
        _ => {
            eprintln!(
                "reins: '{id_prefix}' matches {} requests; give more of the id",
                matches.len()
            );
            return Ok(Exit::Usage);
        }
    };
    let verb = if decision.is_allow() {
        "Approved"
    } else {
        "Denied"
    };
    let req = Request::Decide {
        request_id: r.request_id,
        action_hash: r.action_hash,
        decision,
    };
    match c.call(&req)? {
        Response::Decided { .. } => {
            print!("{verb}:\n{}", describe(r, now_ms));
            Ok(Exit::Ok)
        }
        Response::Error(e) => {
            eprintln!("reins: {}", e.message);
            Ok(match e.code {
                ErrorCode::NoSuchRequest => Exit::NoSuchAgent,
                _ => Exit::Other,
            })
        }
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// The built-in catastrophic denylist alone, for this user's home.
pub fn builtin_policy() -> Policy {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    Policy::builtin_only(home.as_deref())
}

/// No pending request matches: a full id may name one that another decider
/// just resolved (the losing side of a race), and the person is told so.
fn not_pending(c: &mut Client, id: &str) -> anyhow::Result<Exit> {
    if let Ok(request_id) = id.parse::<RequestId>()
        && let Response::ApprovalState {
            state: Some(RequestState::Resolved(resolution)),
        } = c.call(&Request::ApprovalState { request_id })?
    {
        eprintln!(
            "reins: {} ({resolution:?})",
            RejectReason::AlreadyResolved {
                resolution: resolution.clone()
            }
        );
        return Ok(Exit::Other);
    }
    eprintln!("reins: no pending approval matches '{id}'; `reins approvals` lists them");
    Ok(Exit::NoSuchAgent)
}

/// Load the policy file, or the built-in denylist alone when there is none.
pub fn load_policy(paths: &Paths) -> anyhow::Result<Policy> {
    let path = paths.policy_file();
    if !path.exists() {
        return Ok(builtin_policy());
    }
    Ok(Policy::load(&path)?)
}

/// `reins policy check`.
pub fn check(paths: &Paths) -> anyhow::Result<Exit> {
    let path = paths.policy_file();
    match load_policy(paths) {
        Ok(p) => {
            if path.exists() {
                println!("{} is valid:", path.display());
            } else {
                println!(
                    "{} does not exist: only the built-in denylist applies:",
                    path.display()
                );
            }
            for line in p.describe() {
                println!("  {line}");
            }
            Ok(Exit::Ok)
        }
        Err(e) => {
            eprintln!("reins: {e}");
            Ok(Exit::Other)
        }
    }
}

/// `reins policy test '<hook json>'`: which rule matches and why.
pub fn test(paths: &Paths, agent: &str, event: Option<&str>, json: &str) -> anyhow::Result<Exit> {
    let policy = load_policy(paths)?;
    let agent = HookAgent::from_cli_word(agent)?;
    let event = match event {
        Some(e) => HookEvent::from_cli_word(e)?,
        None => infer_event(agent, json),
    };
    hooks::check_supported(agent, event)?;
    let input =
        crate::hook::parse_for_test(agent, event, json.as_bytes()).map_err(anyhow::Error::msg)?;
    if input.tool_name.is_none() {
        println!(
            "This {} event carries no tool call; the policy does not apply to it.",
            event.cli_word()
        );
        return Ok(Exit::Ok);
    }
    let e = policy.evaluate(&ActionView::from(&input));
    println!("decision: {:?}", e.decision);
    println!("rule:     {}", e.rule);
    println!("why:      {}", e.reason);
    println!("risk:     {:?}", e.risk);
    if !e.builtin_hits.is_empty() {
        println!("built-in rules tripped: {:?}", e.builtin_hits);
    }
    let guard = reins_approval::guardrails::candidate(&policy.guardrails, agent, event, Some(&e));
    match guard {
        Some(g) => println!(
            "unattended: in a session that runs without asking, Reins asks a person ({}); unanswered within {} s it is denied",
            g.why,
            g.timeout_ms / 1000
        ),
        None => println!("unattended: no guardrail request (the policy decides as above)"),
    }
    Ok(Exit::Ok)
}

fn infer_event(agent: HookAgent, json: &str) -> HookEvent {
    let name = serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| {
            v.get("hook_event_name")
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        });
    name.and_then(|n| HookEvent::from_cli_word(&n).ok())
        .or_else(|| agent.events().first().copied())
        .unwrap_or(HookEvent::PreToolUse)
}

/// Context for errors reading a JSON argument.
pub fn read_arg(arg: &str) -> anyhow::Result<String> {
    if arg == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("reading the hook JSON from stdin")?;
        return Ok(s);
    }
    Ok(arg.to_owned())
}
