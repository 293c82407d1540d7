//! Parsing hook stdin into a [`HookInput`]. Pure: bytes in, struct out.

use serde_json::{Map, Value};

use super::{HookAgent, HookError, HookEvent, HookInput, Notification, check_supported};

/// Parse one hook invocation's JSON (stdin, or the last argv argument for
/// Codex `notify`).
///
/// The tool input is kept exactly as received; only `command` is derived.
/// Missing optional fields are `None`; a tool event without a tool name (or
/// Cursor's `beforeShellExecution` without a command) is an error, so the
/// caller abstains instead of guessing.
pub fn parse(agent: HookAgent, event: HookEvent, input: &[u8]) -> Result<HookInput, HookError> {
    check_supported(agent, event)?;
    let raw: Value = serde_json::from_slice(input).map_err(|source| HookError::MalformedJson {
        agent,
        event,
        source,
    })?;
    let obj = match &raw {
        Value::Object(m) => m,
        other => {
            return Err(HookError::NotAnObject {
                agent,
                event,
                found: json_type(other),
            });
        }
    };
    let bad = |field, expected| HookError::BadField {
        agent,
        event,
        field,
        expected,
    };

    let mut out = HookInput {
        agent,
        event,
        session_id: None,
        cwd: str_field(obj, "cwd"),
        transcript_path: str_field(obj, "transcript_path"),
        hook_event_name: str_field(obj, "hook_event_name")
            .or_else(|| str_field(obj, "hookEventName")),
        permission_mode: str_field(obj, "permission_mode"),
        tool_name: None,
        tool_input: None,
        command: None,
        tool_use_id: str_field(obj, "tool_use_id"),
        notification: None,
        source: str_field(obj, "source"),
        reason: str_field(obj, "reason"),
        prompt: None,
        raw: Value::Null,
    };

    match agent {
        HookAgent::Claude | HookAgent::Codex | HookAgent::Gemini => {
            out.session_id = str_field(obj, "session_id");
            if event == HookEvent::Notify {
                out.session_id = str_field(obj, "thread-id");
                out.notification = Some(Notification {
                    message: str_field(obj, "last-assistant-message"),
                    title: None,
                    notification_type: str_field(obj, "type"),
                });
            }
            if event == HookEvent::Notification {
                out.notification = Some(Notification {
                    message: str_field(obj, "message"),
                    title: str_field(obj, "title"),
                    notification_type: str_field(obj, "notification_type"),
                });
            }
            if event.is_tool_event() {
                out.tool_name =
                    Some(str_field(obj, "tool_name").ok_or_else(|| bad("tool_name", "a string"))?);
                out.tool_input = obj.get("tool_input").cloned();
            }
            if event == HookEvent::UserPromptSubmit {
                out.prompt =
                    Some(str_field(obj, "prompt").ok_or_else(|| bad("prompt", "a string"))?);
            }
        }
        HookAgent::Cursor => {
            out.session_id =
                str_field(obj, "conversation_id").or_else(|| str_field(obj, "session_id"));
            if out.cwd.is_none() {
                // Cursor sends the workspace roots instead of a cwd.
                out.cwd = obj
                    .get("workspace_roots")
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            if event == HookEvent::BeforeShellExecution {
                let cmd = str_field(obj, "command").ok_or_else(|| bad("command", "a string"))?;
                out.tool_name = Some("Shell".to_owned());
                out.tool_input = Some(serde_json::json!({ "command": cmd }));
                out.command = Some(cmd);
            } else {
                out.tool_name =
                    Some(str_field(obj, "tool_name").ok_or_else(|| bad("tool_name", "a string"))?);
                out.tool_input = obj.get("tool_input").cloned();
            }
        }
        HookAgent::OpenClaw => {
            // Reins' own payload, written by the plugin in
            // integrations/openclaw/index.js (see `hooks::openclaw`).
            out.session_id = str_field(obj, "session_id");
            out.tool_name =
                Some(str_field(obj, "tool_name").ok_or_else(|| bad("tool_name", "a string"))?);
            out.tool_input = obj.get("tool_input").cloned();
            out.tool_use_id = str_field(obj, "tool_call_id");
        }
        HookAgent::Copilot => {
            // Assumption (Copilot CLI docs, 2026): camelCase `toolName` and
            // `toolArgs`, where `toolArgs` may be a JSON *string*. The
            // snake_case spellings are accepted too. `toolArgs` is kept as
            // received; the command is read from its decoded form.
            out.session_id = str_field(obj, "sessionId").or_else(|| str_field(obj, "session_id"));
            if event.is_tool_event() {
                let name = str_field(obj, "toolName").or_else(|| str_field(obj, "tool_name"));
                out.tool_name = Some(name.ok_or_else(|| bad("toolName", "a string"))?);
                out.tool_input = obj
                    .get("toolArgs")
                    .or_else(|| obj.get("tool_input"))
                    .cloned();
            }
        }
    }

    if out.command.is_none() {
        out.command = shell_command(agent, out.tool_name.as_deref(), out.tool_input.as_ref());
    }
    out.raw = raw;
    Ok(out)
}

/// The tool input as an object, decoding a JSON-string `toolArgs` (Copilot).
pub(crate) fn tool_object(tool_input: Option<&Value>) -> Option<std::borrow::Cow<'_, Value>> {
    match tool_input? {
        Value::String(s) => serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_object)
            .map(std::borrow::Cow::Owned),
        v @ Value::Object(_) => Some(std::borrow::Cow::Borrowed(v)),
        _ => None,
    }
}

/// Extract the shell command of a shell tool call.
fn shell_command(
    agent: HookAgent,
    tool: Option<&str>,
    tool_input: Option<&Value>,
) -> Option<String> {
    let tool = tool?;
    let is_shell = match agent {
        HookAgent::Claude => tool == "Bash",
        HookAgent::Gemini => tool == "run_shell_command",
        // Codex, Cursor and Copilot name their shell tools variously
        // (`Bash`, `shell`, `Shell`, `bash`, `powershell`); any tool whose
        // input has a `command` is treated as a shell call.
        HookAgent::Codex | HookAgent::Cursor | HookAgent::Copilot => true,
        // OpenClaw's shell tool is `exec`, whose `command` is one string.
        HookAgent::OpenClaw => tool == "exec",
    };
    if !is_shell {
        return None;
    }
    let obj = tool_object(tool_input)?;
    match obj.get("command")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let words: Option<Vec<&str>> = parts.iter().map(Value::as_str).collect();
            Some(argv_to_command(&words?))
        }
        _ => None,
    }
}

/// Turn an argv array into one command line: `[bash, -lc, script]` becomes
/// `script`; anything else is joined with POSIX single quoting.
pub(crate) fn argv_to_command(words: &[&str]) -> String {
    if let [shell, flag, script] = words {
        let base = shell.rsplit('/').next().unwrap_or(shell);
        if matches!(base, "sh" | "bash" | "zsh" | "dash")
            && matches!(*flag, "-c" | "-lc" | "-ic" | "-lic")
        {
            return (*script).to_owned();
        }
    }
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(w: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !w.is_empty() && w.chars().all(safe) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
