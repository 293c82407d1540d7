use super::*;
use serde_json::{Value, json};

fn out_json(agent: HookAgent, event: HookEvent, v: &HookVerdict) -> Value {
    let o = render(agent, event, v);
    assert_eq!(o.exit_code, 0);
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", o.stdout))
}

fn claude_bash(cmd: &str) -> Vec<u8> {
    json!({
        "session_id": "s1", "transcript_path": "/t.jsonl", "cwd": "/repo",
        "permission_mode": "default", "hook_event_name": "PermissionRequest",
        "tool_name": "Bash",
        "tool_input": {"command": cmd, "description": "d", "timeout": 5, "run_in_background": false}
    })
    .to_string()
    .into_bytes()
}

#[test]
fn cli_words_resolve_to_supported_pairs() {
    assert_eq!(
        resolve("claude", "permission-request").unwrap(),
        (HookAgent::Claude, HookEvent::PermissionRequest)
    );
    assert_eq!(
        resolve("cursor", "beforeShellExecution").unwrap(),
        (HookAgent::Cursor, HookEvent::BeforeShellExecution)
    );
    assert_eq!(
        resolve("gemini", "BeforeTool").unwrap().1,
        HookEvent::BeforeTool
    );
}

#[test]
fn unknown_agents_events_and_combinations_are_clear_errors() {
    let e = resolve("claud", "stop").unwrap_err().to_string();
    assert!(e.contains("unknown agent 'claud'"), "{e}");
    let e = resolve("claude", "explode").unwrap_err().to_string();
    assert!(e.contains("unknown hook event 'explode'"), "{e}");
    let e = resolve("gemini", "permission-request")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gemini has no 'permission-request'") && e.contains("before-tool"),
        "{e}"
    );
}

#[test]
fn every_cli_word_round_trips() {
    for e in HookEvent::ALL {
        assert_eq!(HookEvent::from_cli_word(e.cli_word()).unwrap(), e);
    }
    for a in HookAgent::ALL {
        assert_eq!(HookAgent::from_cli_word(a.cli_word()).unwrap(), a);
    }
}

#[test]
fn claude_permission_request_keeps_the_exact_tool_input() {
    let h = parse(
        HookAgent::Claude,
        HookEvent::PermissionRequest,
        &claude_bash("ls -la"),
    )
    .unwrap();
    assert_eq!(h.session_id.as_deref(), Some("s1"));
    assert_eq!(h.cwd.as_deref(), Some("/repo"));
    assert_eq!(h.tool_name.as_deref(), Some("Bash"));
    assert_eq!(h.command.as_deref(), Some("ls -la"));
    assert_eq!(h.transcript_path.as_deref(), Some("/t.jsonl"));
    assert_eq!(h.hook_event_name.as_deref(), Some("PermissionRequest"));
    assert_eq!(h.tool_input.unwrap()["run_in_background"], json!(false));
}

#[test]
fn claude_non_bash_tools_have_no_command() {
    let input = json!({"session_id":"s","tool_name":"Edit","tool_input":{"file_path":"/a","old_string":"x","new_string":"y"}});
    let h = parse(
        HookAgent::Claude,
        HookEvent::PreToolUse,
        input.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command, None);
}

#[test]
fn codex_command_arrays_are_unwrapped_or_quoted() {
    let a = json!({"session_id":"c","cwd":"/r","tool_name":"Bash","tool_input":{"command":["bash","-lc","rm -rf build && ls"]}});
    let h = parse(
        HookAgent::Codex,
        HookEvent::PermissionRequest,
        a.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command.as_deref(), Some("rm -rf build && ls"));
    let b = json!({"session_id":"c","tool_name":"shell","tool_input":{"command":["git","commit","-m","it's done"]}});
    let h = parse(
        HookAgent::Codex,
        HookEvent::PermissionRequest,
        b.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command.as_deref(), Some(r"git commit -m 'it'\''s done'"));
    let c = json!({"session_id":"c","tool_name":"Bash","tool_input":{"command":"echo hi"}});
    let h = parse(
        HookAgent::Codex,
        HookEvent::PreToolUse,
        c.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command.as_deref(), Some("echo hi"));
}

#[test]
fn codex_notify_reads_the_argv_payload() {
    let p = json!({"type":"agent-turn-complete","thread-id":"t1","turn-id":"u","cwd":"/r","input-messages":["hi"],"last-assistant-message":"done"});
    let h = parse(
        HookAgent::Codex,
        HookEvent::Notify,
        p.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.session_id.as_deref(), Some("t1"));
    let n = h.notification.unwrap();
    assert_eq!(n.message.as_deref(), Some("done"));
    assert_eq!(n.notification_type.as_deref(), Some("agent-turn-complete"));
}

#[test]
fn gemini_shell_commands_are_extracted() {
    let p = json!({"session_id":"g","cwd":"/r","hook_event_name":"BeforeTool","tool_name":"run_shell_command","tool_input":{"command":"npm test"}});
    let h = parse(
        HookAgent::Gemini,
        HookEvent::BeforeTool,
        p.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command.as_deref(), Some("npm test"));
    let p = json!({"session_id":"g","tool_name":"read_file","tool_input":{"absolute_path":"/etc/hosts"}});
    let h = parse(
        HookAgent::Gemini,
        HookEvent::BeforeTool,
        p.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command, None);
}

#[test]
fn cursor_shell_execution_uses_the_top_level_command() {
    let p = json!({"conversation_id":"cv","generation_id":"g","command":"make","cwd":"/w","hook_event_name":"beforeShellExecution","workspace_roots":["/w"]});
    let h = parse(
        HookAgent::Cursor,
        HookEvent::BeforeShellExecution,
        p.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.session_id.as_deref(), Some("cv"));
    assert_eq!(h.command.as_deref(), Some("make"));
    assert_eq!(h.tool_name.as_deref(), Some("Shell"));
    assert_eq!(h.tool_input, Some(json!({"command":"make"})));
}

#[test]
fn copilot_tool_args_may_be_a_json_string() {
    let p = json!({"timestamp": 1, "cwd": "/w", "toolName": "bash", "toolArgs": "{\"command\":\"rm -rf dist\"}"});
    let h = parse(
        HookAgent::Copilot,
        HookEvent::PermissionRequest,
        p.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(h.command.as_deref(), Some("rm -rf dist"));
    assert_eq!(h.tool_input, Some(json!("{\"command\":\"rm -rf dist\"}")));
}

#[test]
fn malformed_input_is_an_error_that_says_what_to_check() {
    let e = parse(HookAgent::Claude, HookEvent::PermissionRequest, b"{nope").unwrap_err();
    assert!(matches!(e, HookError::MalformedJson { .. }));
    assert!(e.to_string().contains("not valid JSON"));
    let e = parse(HookAgent::Claude, HookEvent::PermissionRequest, b"[1]").unwrap_err();
    assert!(
        e.to_string()
            .contains("must be a JSON object, got an array"),
        "{e}"
    );
    let e = parse(
        HookAgent::Claude,
        HookEvent::PermissionRequest,
        b"{\"session_id\":\"s\"}",
    )
    .unwrap_err();
    assert!(e.to_string().contains("'tool_name'"), "{e}");
    let e = parse(HookAgent::Cursor, HookEvent::BeforeShellExecution, b"{}").unwrap_err();
    assert!(e.to_string().contains("'command'"), "{e}");
}

#[test]
fn claude_permission_request_renders_the_documented_shapes() {
    let ev = HookEvent::PermissionRequest;
    assert_eq!(
        out_json(HookAgent::Claude, ev, &HookVerdict::Allow),
        json!({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}})
    );
    assert_eq!(
        out_json(
            HookAgent::Claude,
            ev,
            &HookVerdict::allow_for_session("Bash", Some("npm test"))
        ),
        json!({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{
            "behavior":"allow",
            "updatedPermissions":[{"type":"addRules","rules":[{"toolName":"Bash","ruleContent":"npm test"}],"behavior":"allow","destination":"session"}]
        }}})
    );
    let edit = out_json(
        HookAgent::Claude,
        ev,
        &HookVerdict::allow_for_session("Edit", None),
    );
    assert_eq!(
        edit["hookSpecificOutput"]["decision"]["updatedPermissions"][0]["rules"],
        json!([{"toolName":"Edit"}])
    );
    assert_eq!(
        out_json(
            HookAgent::Claude,
            ev,
            &HookVerdict::Deny {
                message: "no".into()
            }
        ),
        json!({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"deny","message":"no","interrupt":false}}})
    );
    assert_eq!(
        render(HookAgent::Claude, ev, &HookVerdict::Abstain),
        HookOutput::abstain()
    );
    assert_eq!(
        render(HookAgent::Claude, ev, &HookVerdict::Ask),
        HookOutput::abstain()
    );
    let stop = out_json(
        HookAgent::Claude,
        ev,
        &HookVerdict::StopAgent {
            reason: "halt".into(),
        },
    );
    assert_eq!(stop["continue"], json!(false));
    assert_eq!(stop["stopReason"], json!("halt"));
    assert_eq!(
        stop["hookSpecificOutput"]["decision"]["behavior"],
        json!("deny")
    );
}

#[test]
fn session_rules_are_never_made_from_commands_claude_would_read_as_patterns() {
    assert_eq!(
        HookVerdict::allow_for_session("Bash", Some("rm *.log")),
        HookVerdict::Allow
    );
    assert_eq!(
        HookVerdict::allow_for_session("Bash", Some("npm run:*")),
        HookVerdict::Allow
    );
    assert_eq!(
        HookVerdict::allow_for_session("Bash", Some("a\nb")),
        HookVerdict::Allow
    );
}

#[test]
fn claude_pre_tool_use_denies_asks_and_stops() {
    let ev = HookEvent::PreToolUse;
    assert_eq!(
        out_json(
            HookAgent::Claude,
            ev,
            &HookVerdict::Deny {
                message: "r".into()
            }
        ),
        json!({"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"r"}})
    );
    assert_eq!(
        out_json(HookAgent::Claude, ev, &HookVerdict::Ask)["hookSpecificOutput"]["permissionDecision"],
        json!("ask")
    );
    let stop = out_json(
        HookAgent::Claude,
        ev,
        &HookVerdict::StopAgent { reason: "x".into() },
    );
    assert_eq!(
        (stop["continue"].clone(), stop["stopReason"].clone()),
        (json!(false), json!("x"))
    );
}

#[test]
fn codex_pre_tool_use_only_ever_denies() {
    let ev = HookEvent::PreToolUse;
    for v in [HookVerdict::Allow, HookVerdict::Ask, HookVerdict::Abstain] {
        assert_eq!(
            render(HookAgent::Codex, ev, &v),
            HookOutput::abstain(),
            "{v:?}"
        );
    }
    let stop = out_json(
        HookAgent::Codex,
        ev,
        &HookVerdict::StopAgent { reason: "x".into() },
    );
    assert_eq!(
        stop["hookSpecificOutput"]["permissionDecision"],
        json!("deny")
    );
    assert!(stop.get("continue").is_none());
}

#[test]
fn codex_allow_for_session_is_a_plain_allow() {
    let v = HookVerdict::allow_for_session("Bash", Some("ls"));
    assert_eq!(
        out_json(HookAgent::Codex, HookEvent::PermissionRequest, &v),
        json!({"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}})
    );
}

#[test]
fn gemini_cursor_and_copilot_render_their_own_shapes() {
    let deny = HookVerdict::Deny {
        message: "m".into(),
    };
    assert_eq!(
        out_json(HookAgent::Gemini, HookEvent::BeforeTool, &deny),
        json!({"decision":"deny","reason":"m"})
    );
    assert_eq!(
        out_json(
            HookAgent::Gemini,
            HookEvent::BeforeTool,
            &HookVerdict::Allow
        ),
        json!({"decision":"allow"})
    );
    assert_eq!(
        render(HookAgent::Gemini, HookEvent::BeforeTool, &HookVerdict::Ask),
        HookOutput::abstain()
    );
    assert_eq!(
        out_json(HookAgent::Cursor, HookEvent::BeforeShellExecution, &deny),
        json!({"permission":"deny","user_message":"m","agent_message":"m"})
    );
    assert_eq!(
        out_json(HookAgent::Cursor, HookEvent::PreToolUse, &HookVerdict::Ask),
        json!({"permission":"ask"})
    );
    assert_eq!(
        out_json(
            HookAgent::Copilot,
            HookEvent::PermissionRequest,
            &HookVerdict::Allow
        ),
        json!({"behavior":"allow"})
    );
    assert_eq!(
        out_json(HookAgent::Copilot, HookEvent::PreToolUse, &deny),
        json!({"permissionDecision":"deny","permissionDecisionReason":"m"})
    );
}

#[test]
fn non_blocking_events_always_abstain() {
    let verdicts = [
        HookVerdict::Allow,
        HookVerdict::Deny {
            message: "m".into(),
        },
        HookVerdict::StopAgent { reason: "r".into() },
        HookVerdict::Ask,
    ];
    for agent in HookAgent::ALL {
        for &event in agent.events() {
            if is_non_blocking(event) {
                for v in &verdicts {
                    assert_eq!(
                        render(agent, event, v),
                        HookOutput::abstain(),
                        "{agent} {event} {v:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn abstain_is_empty_for_every_pair_and_nothing_renders_a_nonzero_exit() {
    for agent in HookAgent::ALL {
        for &event in agent.events() {
            // The OpenClaw plugin reads exactly one JSON line and blocks on
            // anything else, so its "no opinion" is a line of its own.
            if agent != HookAgent::OpenClaw {
                assert_eq!(
                    render(agent, event, &HookVerdict::Abstain),
                    HookOutput::abstain()
                );
            }
            let o = render(
                agent,
                event,
                &HookVerdict::Deny {
                    message: "m".into(),
                },
            );
            assert_eq!(o.exit_code, 0);
        }
    }
}

#[test]
fn only_the_documented_prompts_need_a_person() {
    let mut yes = vec![];
    for agent in HookAgent::ALL {
        for &event in agent.events() {
            if needs_person(agent, event) {
                yes.push(format!("{agent} {event}"));
            }
        }
    }
    assert_eq!(
        yes,
        [
            "claude permission-request",
            "codex permission-request",
            "gemini before-tool",
            "cursor before-shell-execution",
            "cursor pre-tool-use",
            "copilot permission-request"
        ]
    );
}

#[test]
fn claude_user_prompt_submit_reads_the_prompt_and_blocks_with_a_reason() {
    let raw =
        br#"{"session_id":"s1","cwd":"/p","hook_event_name":"UserPromptSubmit","prompt":"STOP!"}"#;
    let input = parse(HookAgent::Claude, HookEvent::UserPromptSubmit, raw).unwrap();
    assert_eq!(input.prompt.as_deref(), Some("STOP!"));
    assert_eq!(input.tool_name, None);
    let v = HookVerdict::Deny {
        message: "paused by Reins".into(),
    };
    assert_eq!(
        out_json(HookAgent::Claude, HookEvent::UserPromptSubmit, &v),
        serde_json::json!({"decision": "block", "reason": "paused by Reins"})
    );
    let out = render(
        HookAgent::Claude,
        HookEvent::UserPromptSubmit,
        &HookVerdict::Abstain,
    );
    assert_eq!(out, HookOutput::abstain());
    // An allow cannot be expressed: the prompt goes through unchanged.
    let out = render(
        HookAgent::Claude,
        HookEvent::UserPromptSubmit,
        &HookVerdict::Allow,
    );
    assert_eq!(out, HookOutput::abstain());
}

#[test]
fn a_user_prompt_submit_without_a_prompt_is_an_error() {
    let err = parse(
        HookAgent::Claude,
        HookEvent::UserPromptSubmit,
        br#"{"session_id":"s1","prompt":5}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("'prompt'"), "{err}");
    assert!(matches!(
        resolve("codex", "user-prompt-submit"),
        Err(HookError::Unsupported { .. })
    ));
}
