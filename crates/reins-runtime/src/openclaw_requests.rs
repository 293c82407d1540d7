//! OpenClaw's gateway approvals as Reins approval requests. Pure: a
//! [`GatewayApproval`] in, an [`ApprovalRequest`] out.
//!
//! What a person sees is what OpenClaw will run: the full command text
//! (never only a preview), its argv, cwd, OpenClaw's agent and session, and
//! for plugin approvals the plugin's title and description. The risk comes
//! from Reins' own policy, and a command the policy would deny says so in
//! the reason, but nothing here decides: the request waits for a person.
//!
//! Not here: the link or the broker (see `openclaw.rs`).

use reins_approval::broker::{ActionSpec, ApprovalRequest, GatewayOrigin, GatewayQueue};
use reins_approval::{ActionView, Policy, PolicyDecision, RiskLevel};
use reins_core::{AgentId, AgentKind};
use reins_openclaw::{ApprovalKind, GatewayApproval};
use serde_json::{Map, Value, json};

/// The broker's queue for OpenClaw's.
pub(crate) fn queue(kind: ApprovalKind) -> GatewayQueue {
    match kind {
        ApprovalKind::Exec => GatewayQueue::Exec,
        ApprovalKind::Plugin => GatewayQueue::Plugin,
    }
}

/// OpenClaw's approval as a request for the broker. `agent` is the detected
/// OpenClaw gateway, when there is one; `now_ms` bounds a deadline already
/// past (the broker then expires it at once, answering nothing).
pub(crate) fn request_of(
    a: &GatewayApproval,
    agent: Option<AgentId>,
    policy: &Policy,
    now_ms: u64,
) -> ApprovalRequest {
    let spec = ActionSpec {
        kind: AgentKind::OpenClaw,
        session_id: a.session_key.clone(),
        tool_name: a.tool_name.clone(),
        tool_input: tool_input(a),
        command: a.command.clone(),
        cwd: a.cwd.clone(),
    };
    let eval = policy.evaluate(&ActionView {
        agent: None,
        tool_name: Some(&spec.tool_name),
        tool_input: Some(&spec.tool_input),
        command: spec.command.as_deref(),
        cwd: spec.cwd.as_deref(),
    });
    let risk = match (a.kind, a.severity.as_deref()) {
        (ApprovalKind::Plugin, Some("critical")) => RiskLevel::High,
        _ => eval.risk,
    };
    let risk = if eval.decision == PolicyDecision::Deny {
        RiskLevel::High
    } else {
        risk
    };
    let ttl = a.expires_at_ms.saturating_sub(now_ms);
    let mut r = ApprovalRequest::new(spec, agent, risk, now_ms, ttl);
    r.created_at = a.created_at_ms.min(now_ms);
    r.reason = Some(reason(a, &eval));
    r.gateway = Some(GatewayOrigin {
        queue: queue(a.kind),
        id: a.id.clone(),
        openclaw_agent: a.agent_id.clone(),
    });
    r
}

/// The tool input the action hash covers: what OpenClaw will do, in full.
fn tool_input(a: &GatewayApproval) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    let s = |v: &Option<String>| v.as_ref().map(|s| Value::String(s.clone()));
    put("openclaw_id", Some(Value::String(a.id.clone())));
    match a.kind {
        ApprovalKind::Exec => {
            put("command", s(&a.command));
            put("argv", a.argv.as_ref().map(|v| json!(v)));
            put("host", s(&a.host));
        }
        ApprovalKind::Plugin => {
            put("title", s(&a.title));
            put("description", s(&a.description));
            put("severity", s(&a.severity));
            put("plugin", s(&a.plugin_id));
            put("command", s(&a.command));
        }
    }
    put("openclaw_agent", s(&a.agent_id));
    put("warning", s(&a.warning));
    Value::Object(m)
}

/// Why a person is asked, for display.
fn reason(a: &GatewayApproval, eval: &reins_approval::Evaluation) -> String {
    let mut out = match a.kind {
        ApprovalKind::Exec => "OpenClaw asks before running this command".to_owned(),
        ApprovalKind::Plugin => match (&a.plugin_id, &a.title) {
            (Some(p), Some(t)) => format!("OpenClaw plugin {p}: {t}"),
            (None, Some(t)) => format!("OpenClaw plugin: {t}"),
            _ => "An OpenClaw plugin asks before this tool call".to_owned(),
        },
    };
    let mut parts = vec![];
    if let Some(agent) = &a.agent_id {
        parts.push(format!("agent {agent}"));
    }
    if let Some(host) = &a.host {
        parts.push(format!("host {host}"));
    }
    if !parts.is_empty() {
        out.push_str(&format!(" ({})", parts.join(", ")));
    }
    if let Some(w) = &a.warning {
        out.push_str(&format!(". OpenClaw warns: {w}"));
    }
    if eval.decision == PolicyDecision::Deny {
        out.push_str(&format!(". Reins' policy would deny it: {}", eval.reason));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_openclaw::GatewayDecision;

    fn exec(command: &str) -> GatewayApproval {
        GatewayApproval {
            kind: ApprovalKind::Exec,
            id: "ap-1".into(),
            tool_name: "exec".into(),
            command: Some(command.into()),
            argv: Some(vec!["sh".into(), "-c".into(), command.into()]),
            cwd: Some("/home/me/mail".into()),
            agent_id: Some("main".into()),
            session_key: Some("agent:main:main".into()),
            host: Some("gateway".into()),
            title: None,
            description: None,
            severity: None,
            plugin_id: None,
            warning: None,
            allowed_decisions: vec![GatewayDecision::AllowOnce, GatewayDecision::Deny],
            created_at_ms: 1_000,
            expires_at_ms: 1_801_000,
        }
    }

    #[test]
    fn the_request_carries_the_full_command_and_is_consistent() {
        let long = format!("gog gmail trash --query 'in:inbox' {}", "x".repeat(5000));
        let r = request_of(&exec(&long), None, &Policy::default(), 2_000);
        assert!(r.is_consistent());
        assert_eq!(r.command.as_deref(), Some(long.as_str()));
        assert!(
            r.action.contains(&long),
            "the hashed action holds all of it"
        );
        assert_eq!(r.kind, AgentKind::OpenClaw);
        assert_eq!(r.session_id.as_deref(), Some("agent:main:main"));
        assert_eq!(r.cwd.as_deref(), Some("/home/me/mail"));
        assert_eq!(r.expires_at, 1_801_000);
        let g = r.gateway.expect("gateway origin");
        assert_eq!((g.queue, g.id.as_str()), (GatewayQueue::Exec, "ap-1"));
    }

    #[test]
    fn a_command_the_policy_would_deny_is_shown_as_high_risk_and_still_waits() {
        let r = request_of(&exec("rm -rf /"), None, &Policy::default(), 2_000);
        assert_eq!(r.risk, RiskLevel::High);
        let reason = r.reason.unwrap();
        assert!(reason.contains("policy would deny"), "{reason}");
        assert!(r.gateway.is_some());
    }

    #[test]
    fn two_approvals_of_the_same_command_have_different_hashes() {
        let a = exec("ls");
        let mut b = exec("ls");
        b.id = "ap-2".into();
        let p = Policy::default();
        assert_ne!(
            request_of(&a, None, &p, 2_000).action_hash,
            request_of(&b, None, &p, 2_000).action_hash
        );
    }

    #[test]
    fn a_plugin_approval_shows_its_plugin_and_title() {
        let mut a = exec("unused");
        a.kind = ApprovalKind::Plugin;
        a.tool_name = "message".into();
        a.command = None;
        a.host = None;
        a.title = Some("Send a message to +15551234".into());
        a.description = Some("text: \"I deleted your inbox\"".into());
        a.plugin_id = Some("reins".into());
        a.severity = Some("critical".into());
        let r = request_of(&a, None, &Policy::default(), 2_000);
        assert_eq!(r.tool_name, "message");
        assert_eq!(r.risk, RiskLevel::High);
        assert!(
            r.reason
                .unwrap()
                .starts_with("OpenClaw plugin reins: Send a message")
        );
        assert!(r.action.contains("I deleted your inbox"));
    }

    #[test]
    fn an_approval_already_past_its_deadline_expires_at_once() {
        let r = request_of(&exec("ls"), None, &Policy::default(), 5_000_000);
        assert_eq!(r.expires_at, 5_000_000);
    }
}
