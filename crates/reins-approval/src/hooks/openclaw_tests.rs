//! OpenClaw's `before_tool_call` relay: parsing the plugin's payload and the
//! one line the plugin reads back.

use super::openclaw::{self, DESCRIPTION_MAX, TITLE_MAX};
use super::*;
use crate::policy::{ActionView, Policy, PolicyDecision, RiskLevel};
use serde_json::{Value, json};

fn payload(tool: &str, params: Value) -> Vec<u8> {
    json!({
        "hook_event_name": "before_tool_call", "tool_name": tool, "tool_input": params,
        "tool_call_id": "call_7", "session_id": "agent:main:main", "agent_id": "main",
        "run_id": "run-1", "cwd": "/srv/work"
    })
    .to_string()
    .into_bytes()
}

fn line(o: &HookOutput) -> Value {
    assert_eq!(o.exit_code, 0);
    assert!(o.stdout.ends_with('\n') && o.stdout.trim_end().lines().count() == 1);
    serde_json::from_str(&o.stdout).unwrap()
}

#[test]
fn openclaw_before_tool_call_resolves_and_has_no_other_event() {
    assert_eq!(
        resolve("openclaw", "before-tool-call").unwrap(),
        (HookAgent::OpenClaw, HookEvent::BeforeToolCall)
    );
    assert_eq!(
        resolve("openclaw", "before_tool_call").unwrap().1,
        HookEvent::BeforeToolCall
    );
    let e = resolve("openclaw", "pre-tool-use").unwrap_err().to_string();
    assert!(e.contains("supported: before-tool-call"), "{e}");
    assert_eq!(HookAgent::OpenClaw.kind(), reins_core::AgentKind::OpenClaw);
    assert!(!needs_person(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall
    ));
    assert!(is_pre_tool(HookAgent::OpenClaw, HookEvent::BeforeToolCall));
}

#[test]
fn an_exec_payload_keeps_its_params_and_yields_the_command() {
    let params = json!({"command": "rm -rf /tmp/x", "workdir": "/srv", "timeoutSeconds": 5});
    let h = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        &payload("exec", params.clone()),
    )
    .unwrap();
    assert_eq!(h.tool_name.as_deref(), Some("exec"));
    assert_eq!(h.tool_input, Some(params));
    assert_eq!(h.command.as_deref(), Some("rm -rf /tmp/x"));
    assert_eq!(h.session_id.as_deref(), Some("agent:main:main"));
    assert_eq!(h.cwd.as_deref(), Some("/srv/work"));
    assert_eq!(h.tool_use_id.as_deref(), Some("call_7"));
    assert_eq!(h.raw["agent_id"], "main");
}

#[test]
fn only_the_exec_tool_has_a_command() {
    let h = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        &payload(
            "message",
            json!({"action": "send", "command": "not a shell"}),
        ),
    )
    .unwrap();
    assert_eq!(h.command, None);
}

#[test]
fn a_payload_without_a_tool_name_is_an_error() {
    let e = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        br#"{"tool_input":{}}"#,
    )
    .unwrap_err();
    assert!(matches!(
        e,
        HookError::BadField {
            field: "tool_name",
            ..
        }
    ));
}

#[test]
fn verdicts_render_as_allow_block_and_none_lines() {
    let r = |v: &HookVerdict| line(&render(HookAgent::OpenClaw, HookEvent::BeforeToolCall, v));
    assert_eq!(r(&HookVerdict::Allow), json!({"action": "allow"}));
    assert_eq!(
        r(&HookVerdict::Deny {
            message: "no".into()
        }),
        json!({"action": "block", "reason": "no"})
    );
    assert_eq!(
        r(&HookVerdict::StopAgent {
            reason: "stop requested".into()
        }),
        json!({"action": "block", "reason": "stop requested"})
    );
    assert_eq!(r(&HookVerdict::Abstain), json!({"action": "none"}));
    assert_eq!(r(&HookVerdict::Ask)["action"], "ask");
}

#[test]
fn an_ask_names_the_tool_and_carries_the_exact_input_and_the_risk() {
    let params = json!({"action": "send", "to": "boss@example.com", "text": "I quit\n\"now\""});
    let h = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        &payload("message", params.clone()),
    )
    .unwrap();
    let v = line(&openclaw::ask(&h, RiskLevel::High, "no rule matched"));
    assert_eq!(v["action"], "ask");
    assert_eq!(v["title"], "Reins: message");
    assert_eq!(v["severity"], "critical");
    let d = v["description"].as_str().unwrap();
    assert!(d.starts_with(&params.to_string()), "{d}");
    assert!(
        d.contains("in /srv/work") && d.ends_with("no rule matched"),
        "{d}"
    );
}

#[test]
fn risk_maps_to_openclaw_severity() {
    assert_eq!(openclaw::severity(RiskLevel::Low), "info");
    assert_eq!(openclaw::severity(RiskLevel::Medium), "warning");
    assert_eq!(openclaw::severity(RiskLevel::High), "critical");
}

#[test]
fn long_titles_and_descriptions_are_cut_to_openclaws_limits() {
    let cmd = format!("echo {}", "é🦀".repeat(400));
    let h = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        &payload(&"t".repeat(200), json!({"command": cmd})),
    )
    .unwrap();
    let v = line(&openclaw::ask(&h, RiskLevel::Low, "why"));
    let units = |k: &str| v[k].as_str().unwrap().encode_utf16().count();
    assert!(units("title") <= TITLE_MAX && units("description") <= DESCRIPTION_MAX);
    assert!(v["description"].as_str().unwrap().ends_with('…'));
    assert_eq!(openclaw::cut("short", 10), "short");
}

#[test]
fn unreadable_input_is_an_ask_never_an_allow() {
    let e = parse(HookAgent::OpenClaw, HookEvent::BeforeToolCall, b"{not json").unwrap_err();
    let v = line(&openclaw::unreadable(&e));
    assert_eq!(v["action"], "ask");
    assert_eq!(v["severity"], "critical");
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
}

#[test]
fn the_builtin_denylist_applies_to_openclaw_exec() {
    let policy = Policy::builtin_only(Some(std::path::Path::new("/home/u")));
    let h = parse(
        HookAgent::OpenClaw,
        HookEvent::BeforeToolCall,
        &payload("exec", json!({"command": "rm -rf /"})),
    )
    .unwrap();
    assert_eq!(
        policy.evaluate(&ActionView::from(&h)).decision,
        PolicyDecision::Deny
    );
}
