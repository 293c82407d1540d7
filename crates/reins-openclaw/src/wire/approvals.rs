//! Approval payloads, list replies, resolutions and the session RPCs
//! replies (see the parent module).

use super::parse::{
    ErrorShape, MAX_ARGV, MAX_COMMAND, MAX_LIST, MAX_SHORT, MAX_TEXT, WireError, opt_string,
    string_field,
};
use super::*;

fn decisions(v: Option<&Value>) -> Vec<GatewayDecision> {
    let mut out = Vec::new();
    for d in v.and_then(Value::as_array).into_iter().flatten() {
        if let Some(d) = d.as_str().and_then(decision_from_str) {
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// A decision word, if Reins knows it.
pub fn decision_from_str(s: &str) -> Option<GatewayDecision> {
    match s {
        "allow-once" => Some(GatewayDecision::AllowOnce),
        "allow-always" => Some(GatewayDecision::AllowAlways),
        "deny" => Some(GatewayDecision::Deny),
        _ => None,
    }
}

fn argv(v: Option<&Value>) -> Result<Option<Vec<String>>, WireError> {
    let Some(arr) = v.and_then(Value::as_array) else {
        return Ok(None);
    };
    if arr.len() > MAX_ARGV {
        return Err(WireError::TooLarge("argv"));
    }
    let mut total = 0usize;
    let mut out = Vec::with_capacity(arr.len());
    for a in arr {
        let Some(s) = a.as_str() else {
            return Err(WireError::Missing {
                what: "an exec approval",
                field: "argv",
            });
        };
        total += s.len() + 1;
        if total > MAX_COMMAND {
            return Err(WireError::TooLarge("argv"));
        }
        out.push(s.to_owned());
    }
    Ok(Some(out))
}

fn times(obj: &Map<String, Value>, what: &'static str) -> Result<(u64, u64), WireError> {
    let get = |field: &'static str| {
        obj.get(field)
            .and_then(Value::as_u64)
            .ok_or(WireError::Missing { what, field })
    };
    Ok((get("createdAtMs")?, get("expiresAtMs")?))
}

/// An approval from a `*.approval.requested` payload or a list entry
/// (`{id, request, createdAtMs, expiresAtMs}`).
pub fn parse_approval(kind: ApprovalKind, payload: &Value) -> Result<GatewayApproval, WireError> {
    match kind {
        ApprovalKind::Exec => parse_exec(payload),
        ApprovalKind::Plugin => parse_plugin(payload),
    }
}

type Object = Map<String, Value>;

/// The parts every approval payload shares: the object, its `id` and its
/// `request` object.
fn envelope<'a>(
    payload: &'a Value,
    what: &'static str,
) -> Result<(&'a Object, String, &'a Object), WireError> {
    let obj = payload.as_object().ok_or(WireError::Missing {
        what,
        field: "payload",
    })?;
    let id = string_field(obj, "id", what, MAX_SHORT)?;
    let req = obj
        .get("request")
        .and_then(Value::as_object)
        .ok_or(WireError::Missing {
            what,
            field: "request",
        })?;
    Ok((obj, id, req))
}

fn parse_exec(payload: &Value) -> Result<GatewayApproval, WireError> {
    let what = "an exec approval";
    let (obj, id, req) = envelope(payload, what)?;
    let plan = req.get("systemRunPlan").and_then(Value::as_object);
    let command = match plan
        .map(|p| opt_string(p, "commandText", MAX_COMMAND))
        .transpose()?
        .flatten()
    {
        Some(c) => c,
        None => opt_string(req, "command", MAX_COMMAND)?.ok_or(WireError::Missing {
            what,
            field: "command",
        })?,
    };
    let argv = match plan.map(|p| argv(p.get("argv"))).transpose()?.flatten() {
        Some(a) => Some(a),
        None => argv(req.get("commandArgv"))?,
    };
    let from_plan = |field: &'static str| -> Result<Option<String>, WireError> {
        match plan
            .map(|p| opt_string(p, field, MAX_SHORT))
            .transpose()?
            .flatten()
        {
            Some(v) => Ok(Some(v)),
            None => opt_string(req, field, MAX_SHORT),
        }
    };
    let (created_at_ms, expires_at_ms) = times(obj, what)?;
    Ok(GatewayApproval {
        kind: ApprovalKind::Exec,
        id,
        tool_name: "exec".into(),
        command: Some(command),
        argv,
        cwd: from_plan("cwd")?,
        agent_id: from_plan("agentId")?,
        session_key: from_plan("sessionKey")?,
        host: opt_string(req, "host", MAX_SHORT)?,
        title: None,
        description: None,
        severity: None,
        plugin_id: None,
        warning: opt_string(req, "warningText", MAX_TEXT)?,
        allowed_decisions: decisions(req.get("allowedDecisions")),
        created_at_ms,
        expires_at_ms,
    })
}

fn parse_plugin(payload: &Value) -> Result<GatewayApproval, WireError> {
    let what = "a plugin approval";
    let (obj, id, req) = envelope(payload, what)?;
    let (created_at_ms, expires_at_ms) = times(obj, what)?;
    Ok(GatewayApproval {
        kind: ApprovalKind::Plugin,
        id,
        tool_name: opt_string(req, "toolName", MAX_SHORT)?.unwrap_or_else(|| "plugin".into()),
        command: opt_string(req, "command", MAX_COMMAND)?,
        argv: argv(req.get("commandArgv"))?,
        cwd: opt_string(req, "cwd", MAX_SHORT)?,
        agent_id: opt_string(req, "agentId", MAX_SHORT)?,
        session_key: opt_string(req, "sessionKey", MAX_SHORT)?,
        host: None,
        title: opt_string(req, "title", MAX_SHORT)?,
        description: opt_string(req, "description", MAX_TEXT)?,
        severity: opt_string(req, "severity", MAX_SHORT)?,
        plugin_id: opt_string(req, "pluginId", MAX_SHORT)?,
        warning: opt_string(req, "detail", MAX_TEXT)?,
        allowed_decisions: decisions(req.get("allowedDecisions")),
        created_at_ms,
        expires_at_ms,
    })
}

/// A `*.approval.list` reply: a bare array. Entries that do not parse are
/// returned as errors beside the good ones (one bad entry hides nothing else).
pub fn parse_approval_list(
    kind: ApprovalKind,
    payload: &Value,
) -> Result<(Vec<GatewayApproval>, Vec<WireError>), WireError> {
    let arr = payload.as_array().ok_or(WireError::Missing {
        what: "an approval list",
        field: "[]",
    })?;
    if arr.len() > MAX_LIST {
        return Err(WireError::TooLarge("approval list"));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for entry in arr {
        match parse_approval(kind, entry) {
            Ok(a) => good.push(a),
            Err(e) => bad.push(e),
        }
    }
    Ok((good, bad))
}

/// A `*.approval.resolved` payload `{id, decision, resolvedBy, ts, request}`.
pub fn parse_resolved(kind: ApprovalKind, payload: &Value) -> Result<ResolvedApproval, WireError> {
    let what = "an approval resolution";
    let obj = payload.as_object().ok_or(WireError::Missing {
        what,
        field: "payload",
    })?;
    Ok(ResolvedApproval {
        kind,
        id: string_field(obj, "id", what, MAX_SHORT)?,
        decision: obj
            .get("decision")
            .and_then(Value::as_str)
            .and_then(decision_from_str),
        resolved_by: opt_string(obj, "resolvedBy", MAX_SHORT)?,
    })
}

/// Which approval event a name is, if any.
pub fn approval_event(event: &str) -> Option<(ApprovalKind, bool)> {
    match event {
        "exec.approval.requested" => Some((ApprovalKind::Exec, true)),
        "exec.approval.resolved" => Some((ApprovalKind::Exec, false)),
        "plugin.approval.requested" => Some((ApprovalKind::Plugin, true)),
        "plugin.approval.resolved" => Some((ApprovalKind::Plugin, false)),
        _ => None,
    }
}

impl ApprovalKind {
    /// The wire word (`exec`, `plugin`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Exec => "exec",
            ApprovalKind::Plugin => "plugin",
        }
    }
}

/// `approval.resolve`'s reply `{applied, approval{decision, status}}`: Ok
/// when the approval now carries `decision`. OpenClaw answers `applied:false`
/// (not an error) when someone else decided first, and records a decision it
/// does not offer as a `deny`; both are errors here.
pub fn check_resolve_reply(payload: &Value, decision: GatewayDecision) -> Result<(), ErrorShape> {
    let recorded = payload
        .get("approval")
        .and_then(|a| a.get("decision"))
        .and_then(Value::as_str);
    let applied = payload.get("applied").and_then(Value::as_bool);
    if payload.get("ok").and_then(Value::as_bool) == Some(true) && applied.is_none() {
        return Ok(()); // the per-kind methods answer {ok:true}
    }
    match recorded {
        Some(d) if d == decision.as_str() => Ok(()),
        Some(d) => Err(ErrorShape {
            code: "APPROVAL_ALREADY_RESOLVED".into(),
            message: format!(
                "approval already resolved (decision: {})",
                d.chars().take(40).collect::<String>()
            ),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }),
        None if applied == Some(true) => Ok(()),
        None => Err(ErrorShape {
            code: "APPROVAL_NOT_APPLIED".into(),
            message: "OpenClaw did not apply the decision (the approval is over)".into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }),
    }
}

/// `sessions.abort`'s reply `{ok, abortedRunId, status}`.
pub fn parse_abort(payload: &Value) -> Result<AbortOutcome, WireError> {
    let what = "a sessions.abort reply";
    let obj = payload.as_object().ok_or(WireError::Missing {
        what,
        field: "payload",
    })?;
    let status = string_field(obj, "status", what, MAX_SHORT)?;
    let run_id = opt_string(obj, "abortedRunId", MAX_SHORT)?;
    Ok(AbortOutcome {
        aborted: status == "aborted",
        run_id,
        status,
    })
}

/// `sessions.list`'s reply reduced to keys with an active run
/// (`hasActiveRun`, else `status` `queued`/`running`, as OpenClaw decides).
pub fn parse_active_sessions(payload: &Value) -> Result<Vec<String>, WireError> {
    let what = "a sessions.list reply";
    let sessions = payload
        .get("sessions")
        .and_then(Value::as_array)
        .ok_or(WireError::Missing {
            what,
            field: "sessions",
        })?;
    let mut out = Vec::new();
    for s in sessions {
        let Some(obj) = s.as_object() else { continue };
        let Ok(Some(key)) = opt_string(obj, "key", MAX_SHORT) else {
            continue;
        };
        let status = obj.get("status").and_then(Value::as_str);
        let active = match (status, obj.get("hasActiveRun").and_then(Value::as_bool)) {
            (Some(st), _) if st != "queued" && st != "running" => false,
            (_, Some(b)) => b,
            (st, None) => matches!(st, Some("queued") | Some("running")),
        };
        if active {
            out.push(key);
        }
    }
    Ok(out)
}
