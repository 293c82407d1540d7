//! Unit tests for the wire module, with frames captured from OpenClaw
//! 2026.9.6 (/opt/oc-lab logs; tokens and keys replaced).

use super::*;
use crate::device::{AuthPayload, DeviceIdentity, verify};

const EXEC_REQUESTED: &str = r#"{"type":"event","event":"exec.approval.requested","payload":{"approvalKind":"exec","id":"83940ff5-9877-4ff0-b654-be3e73bd1907","request":{"command":"rm -rf /tmp/x","commandArgv":["rm","-rf","/tmp/x"],"systemRunBinding":null,"systemRunPlan":null,"cwd":"/tmp","nodeId":null,"host":"gateway","security":"allowlist","ask":"always","warningText":null,"scope":null,"commandAnalysis":{"commandCount":1,"nestedCommandCount":0,"riskKinds":[],"warningLines":[]},"allowedDecisions":["allow-once","deny"],"agentId":"main","resolvedPath":null,"sessionKey":"agent:main:main","sessionId":null,"runId":null,"toolCallId":null,"turnSourceChannel":null,"turnSourceTo":null,"turnSourceAccountId":null,"turnSourceThreadId":null,"cronExecutionSource":null,"cronOperationBinding":null},"createdAtMs":1796163005971,"expiresAtMs":1796163065971},"seq":4}"#;

const PLUGIN_LIST: &str = r#"{"type":"res","id":"OP17","ok":true,"payload":[{"id":"plugin:e8f8e478-511f-46d4-8cc2-2f53c142894e","request":{"pluginId":"reins","title":"Run exec?","description":"Agent wants to run rm","scope":null,"detail":null,"severity":"warning","toolName":"exec","toolCallId":"call_1","allowedDecisions":["allow-once","deny"],"agentId":"main","sessionKey":"agent:main:main","runId":null,"turnSourceChannel":null,"turnSourceTo":null,"turnSourceAccountId":null,"turnSourceThreadId":null},"createdAtMs":1796163006509,"expiresAtMs":1796163066509,"approvalKind":"plugin"}]}"#;

fn payload_of(text: &str) -> Value {
    match Frame::parse(text, DEFAULT_MAX_FRAME).unwrap() {
        Frame::Event { payload, .. } => payload,
        Frame::Res { result: Ok(p), .. } => p,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_real_exec_approval_event_parses_with_its_full_command() {
    let f = Frame::parse(EXEC_REQUESTED, DEFAULT_MAX_FRAME).unwrap();
    let Frame::Event {
        event,
        payload,
        seq,
    } = f
    else {
        panic!()
    };
    assert_eq!(event, "exec.approval.requested");
    assert_eq!(seq, Some(4));
    assert_eq!(approval_event(&event), Some((ApprovalKind::Exec, true)));
    let a = parse_approval(ApprovalKind::Exec, &payload).unwrap();
    assert_eq!(a.id, "83940ff5-9877-4ff0-b654-be3e73bd1907");
    assert_eq!(a.tool_name, "exec");
    assert_eq!(a.command.as_deref(), Some("rm -rf /tmp/x"));
    assert_eq!(
        a.argv,
        Some(vec!["rm".into(), "-rf".into(), "/tmp/x".into()])
    );
    assert_eq!(a.cwd.as_deref(), Some("/tmp"));
    assert_eq!(a.agent_id.as_deref(), Some("main"));
    assert_eq!(a.session_key.as_deref(), Some("agent:main:main"));
    assert_eq!(a.host.as_deref(), Some("gateway"));
    assert_eq!(a.warning, None);
    assert_eq!(
        a.allowed_decisions,
        vec![GatewayDecision::AllowOnce, GatewayDecision::Deny]
    );
    assert_eq!(
        (a.created_at_ms, a.expires_at_ms),
        (1796163005971, 1796163065971)
    );
}

#[test]
fn the_run_plan_command_text_wins_over_a_preview_and_the_plain_command() {
    let long = format!("bash -c '{}'", "x".repeat(60 * 1024));
    let payload = json!({"id": "a1", "createdAtMs": 1, "expiresAtMs": 2, "request": {
        "command": "bash -c 'xxx…'", "commandPreview": "bash -c …",
        "commandArgv": ["ignored"], "cwd": "/ignored", "agentId": "other",
        "allowedDecisions": ["allow-once", "allow-always", "deny", "ask-later"],
        "systemRunPlan": {"argv": ["bash", "-c", "x"], "cwd": "/work", "commandText": long, "commandPreview": "bash…", "agentId": "main", "sessionKey": "s1"}}});
    let a = parse_approval(ApprovalKind::Exec, &payload).unwrap();
    assert_eq!(a.command.as_deref(), Some(long.as_str()));
    assert_eq!(a.argv, Some(vec!["bash".into(), "-c".into(), "x".into()]));
    assert_eq!(a.cwd.as_deref(), Some("/work"));
    assert_eq!(a.agent_id.as_deref(), Some("main"));
    assert_eq!(a.session_key.as_deref(), Some("s1"));
    assert_eq!(
        a.allowed_decisions.len(),
        3,
        "the unknown decision is ignored"
    );
}

#[test]
fn an_exec_approval_without_any_command_is_an_error_not_a_guess() {
    let payload = json!({"id": "a1", "createdAtMs": 1, "expiresAtMs": 2, "request": {"commandPreview": "rm …"}});
    assert_eq!(
        parse_approval(ApprovalKind::Exec, &payload),
        Err(WireError::Missing {
            what: "an exec approval",
            field: "command"
        })
    );
    let payload = json!({"id": "a1", "createdAtMs": 1, "request": {"command": "ls"}});
    assert!(matches!(
        parse_approval(ApprovalKind::Exec, &payload),
        Err(WireError::Missing {
            field: "expiresAtMs",
            ..
        })
    ));
}

#[test]
fn an_absurdly_large_command_is_dropped_with_an_error() {
    let payload = json!({"id": "a1", "createdAtMs": 1, "expiresAtMs": 2, "request": {"command": "x".repeat(MAX_COMMAND + 1)}});
    assert_eq!(
        parse_approval(ApprovalKind::Exec, &payload),
        Err(WireError::TooLarge("command"))
    );
    let big = "y".repeat(1000);
    assert_eq!(Frame::parse(&big, 999), Err(WireError::TooLarge("frame")));
}

#[test]
fn a_real_plugin_list_reply_is_a_bare_array_of_approvals() {
    let (good, bad) = parse_approval_list(ApprovalKind::Plugin, &payload_of(PLUGIN_LIST)).unwrap();
    assert!(bad.is_empty());
    let a = &good[0];
    assert_eq!(a.kind, ApprovalKind::Plugin);
    assert_eq!(a.id, "plugin:e8f8e478-511f-46d4-8cc2-2f53c142894e");
    assert_eq!(a.tool_name, "exec");
    assert_eq!(a.title.as_deref(), Some("Run exec?"));
    assert_eq!(a.description.as_deref(), Some("Agent wants to run rm"));
    assert_eq!(a.severity.as_deref(), Some("warning"));
    assert_eq!(a.plugin_id.as_deref(), Some("reins"));
    assert_eq!(a.command, None);
}

#[test]
fn one_bad_list_entry_does_not_hide_the_others() {
    let payload = json!([{"id": "", "request": {}}, {"id": "ok", "createdAtMs": 1, "expiresAtMs": 2, "request": {"command": "ls"}}]);
    let (good, bad) = parse_approval_list(ApprovalKind::Exec, &payload).unwrap();
    assert_eq!(good.len(), 1);
    assert_eq!(bad.len(), 1);
    assert!(parse_approval_list(ApprovalKind::Exec, &json!({"approvals": []})).is_err());
}

#[test]
fn a_resolved_event_carries_decision_and_resolver_or_none_on_timeout() {
    let r = parse_resolved(
        ApprovalKind::Exec,
        &json!({"id": "a9", "decision": "allow-once", "resolvedBy": "OP", "ts": 5, "request": {}}),
    )
    .unwrap();
    assert_eq!(r.decision, Some(GatewayDecision::AllowOnce));
    assert_eq!(r.resolved_by.as_deref(), Some("OP"));
    let r = parse_resolved(
        ApprovalKind::Plugin,
        &json!({"id": "p1", "decision": null, "resolvedBy": null}),
    )
    .unwrap();
    assert_eq!((r.decision, r.resolved_by), (None, None));
}

#[test]
fn garbage_and_unknown_frames_are_errors() {
    assert!(matches!(
        Frame::parse("not json", 100),
        Err(WireError::Malformed(_))
    ));
    assert!(matches!(
        Frame::parse("[1,2]", 100),
        Err(WireError::Malformed(_))
    ));
    assert!(matches!(
        Frame::parse(r#"{"type":"hack"}"#, 100),
        Err(WireError::Malformed(_))
    ));
    assert!(matches!(
        Frame::parse(r#"{"type":"res","id":"1"}"#, 100),
        Err(WireError::Missing { field: "ok", .. })
    ));
}

#[test]
fn an_error_reply_keeps_openclaw_s_code_message_and_details() {
    let text = r#"{"type":"res","id":"r1","ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)","details":{"code":"AUTH_TOKEN_MISMATCH","authReason":"token_mismatch"}}}"#;
    let Frame::Res { id, result: Err(e) } = Frame::parse(text, 10_000).unwrap() else {
        panic!()
    };
    assert_eq!(id, "r1");
    assert_eq!(e.code, "INVALID_REQUEST");
    assert!(
        e.message
            .starts_with("unauthorized: gateway token mismatch")
    );
    assert_eq!(e.details.unwrap()["code"], "AUTH_TOKEN_MISMATCH");
}

#[test]
fn frames_survive_a_round_trip_through_text() {
    for f in [
        Frame::Req {
            id: "1".into(),
            method: "exec.approval.list".into(),
            params: json!({}),
        },
        Frame::Res {
            id: "2".into(),
            result: Ok(json!([])),
        },
        Frame::Res {
            id: "3".into(),
            result: Err(ErrorShape {
                code: "X".into(),
                message: "m".into(),
                details: None,
                retryable: Some(true),
                retry_after_ms: Some(500),
            }),
        },
        Frame::Event {
            event: "tick".into(),
            payload: json!({"ts": 1}),
            seq: Some(9),
        },
    ] {
        assert_eq!(Frame::parse(&f.to_text(), 10_000).unwrap(), f);
    }
}

#[test]
fn connect_params_are_signed_over_the_challenge_and_caps_follow_approver_mode() {
    let id = DeviceIdentity::generate();
    let ch = Challenge::from_payload(
        &json!({"nonce": "n-1", "ts": 1796162974515u64, "capabilities": []}),
    )
    .unwrap();
    let p = connect_params(&id, &ch, "tok", "0.1.0", "Reins", true);
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["minProtocol"], 3);
    assert_eq!(v["maxProtocol"], 4);
    assert_eq!(
        v["client"],
        json!({"id": "cli", "version": "0.1.0", "platform": "linux", "mode": "cli", "displayName": "Reins"})
    );
    assert_eq!(v["role"], "operator");
    assert_eq!(
        v["scopes"],
        json!([
            "operator.admin",
            "operator.approvals",
            "operator.read",
            "operator.write"
        ])
    );
    assert_eq!(
        v["caps"],
        json!(["approvals", "exec-approvals", "plugin-approvals"])
    );
    assert_eq!(v["auth"], json!({"token": "tok"}));
    let dev = p.device.clone().unwrap();
    assert_eq!(dev.signed_at, ch.ts);
    assert_eq!(dev.nonce, "n-1");
    let text = AuthPayload {
        device_id: &dev.id,
        client_id: "cli",
        client_mode: "cli",
        role: "operator",
        scopes: &p.scopes,
        signed_at_ms: ch.ts,
        token: "tok",
        nonce: "n-1",
        platform: "linux",
        device_family: "",
    }
    .v3();
    assert!(verify(&dev.public_key, &text, &dev.signature));
    let p = connect_params(&id, &ch, "", "0.1.0", "Reins", false);
    assert!(p.caps.is_empty());
    assert!(p.auth.is_none());
    assert!(
        !format!("{:?}", connect_params(&id, &ch, "sekrit", "v", "R", true)).contains("sekrit")
    );
}

#[test]
fn a_challenge_without_a_nonce_is_refused() {
    assert!(Challenge::from_payload(&json!({"ts": 1})).is_err());
    assert!(Challenge::from_payload(&json!({"nonce": "n"})).is_err());
}

#[test]
fn hello_ok_gives_protocol_methods_and_policy() {
    let h = HelloOk::from_payload(&json!({"type": "hello-ok", "protocol": 4,
        "server": {"version": "2026.9.6", "connId": "c"},
        "features": {"methods": ["exec.approval.list", "approval.resolve"], "events": ["tick"]},
        "auth": {"role": "operator", "scopes": ["operator.admin"], "deviceToken": "dt"},
        "policy": {"maxPayload": 26214400, "tickIntervalMs": 30000}}))
    .unwrap();
    assert_eq!(h.protocol, 4);
    assert_eq!(h.server_version.as_deref(), Some("2026.9.6"));
    assert!(h.methods.iter().any(|m| m == "approval.resolve"));
    assert_eq!(h.max_payload, Some(26214400));
    assert_eq!(h.tick_interval_ms, Some(30000));
    assert_eq!(h.granted_scopes, vec!["operator.admin".to_string()]);
    assert!(HelloOk::from_payload(&json!({"type": "hello", "protocol": 4})).is_err());
}

#[test]
fn a_resolve_reply_is_ok_only_when_the_approval_carries_our_decision() {
    let applied = json!({"applied": true, "approval": {"status": "denied", "decision": "deny"}});
    assert_eq!(check_resolve_reply(&applied, GatewayDecision::Deny), Ok(()));
    let other = json!({"applied": false, "approval": {"status": "denied", "decision": "deny"}});
    assert_eq!(
        check_resolve_reply(&other, GatewayDecision::Deny),
        Ok(()),
        "same decision again is fine"
    );
    let e = check_resolve_reply(&other, GatewayDecision::AllowOnce).unwrap_err();
    assert!(e.message.contains("already resolved"));
    // OpenClaw records a decision it does not offer as deny (malformed-verdict).
    let malformed = json!({"applied": true, "approval": {"status": "denied", "decision": "deny", "reason": "malformed-verdict"}});
    assert!(check_resolve_reply(&malformed, GatewayDecision::AllowAlways).is_err());
    assert_eq!(
        check_resolve_reply(&json!({"ok": true}), GatewayDecision::Deny),
        Ok(())
    );
    assert!(
        check_resolve_reply(
            &json!({"applied": false, "approval": {"status": "expired"}}),
            GatewayDecision::Deny
        )
        .is_err()
    );
}

#[test]
fn abort_and_session_list_replies_are_read_as_openclaw_means_them() {
    let a =
        parse_abort(&json!({"ok": true, "abortedRunId": null, "status": "no-active-run"})).unwrap();
    assert_eq!(
        a,
        AbortOutcome {
            aborted: false,
            run_id: None,
            status: "no-active-run".into()
        }
    );
    let a =
        parse_abort(&json!({"ok": true, "abortedRunId": "run-1", "status": "aborted"})).unwrap();
    assert!(a.aborted);
    let keys = parse_active_sessions(&json!({"sessions": [
        {"key": "a", "hasActiveRun": true}, {"key": "b", "hasActiveRun": false},
        {"key": "c", "status": "running"}, {"key": "d", "status": "done", "hasActiveRun": true}, {"nokey": 1}]})).unwrap();
    assert_eq!(keys, vec!["a".to_string(), "c".to_string()]);
}
