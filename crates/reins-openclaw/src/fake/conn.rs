//! One client connection to the fake gateway: handshake, then requests.

use super::{ClientEntry, FakeClient, Inner, now_ms};
use crate::device::{AuthPayload, decode_public_key, device_id_of, verify};
use crate::wire::{ApprovalKind, ConnectParams, ErrorShape, Frame};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_util::sync::CancellationToken;

const CLIENT_IDS: &[&str] = &[
    "cli",
    "gateway-client",
    "openclaw-control-ui",
    "openclaw-tui",
    "openclaw-macos",
    "openclaw-ios",
    "openclaw-android",
    "node-host",
    "openclaw-probe",
    "test",
];
const CLIENT_MODES: &[&str] = &[
    "webchat", "cli", "ui", "backend", "node", "worker", "probe", "test",
];
const APPROVAL_CAPS: &[&str] = &["approvals", "exec-approvals", "plugin-approvals"];
const SIGNATURE_SKEW_MS: u64 = 120_000;

struct Refusal {
    message: String,
    details: Option<Value>,
    close: CloseCode,
}

fn refuse(message: &str, details: Option<Value>) -> Refusal {
    Refusal {
        message: message.into(),
        details,
        close: CloseCode::Policy,
    }
}

fn methods(inner: &Inner) -> Vec<&'static str> {
    let mut m = vec![
        "health",
        "exec.approval.list",
        "exec.approval.resolve",
        "plugin.approval.list",
        "plugin.approval.resolve",
        "sessions.list",
        "sessions.abort",
    ];
    if inner.opts.approval_resolve {
        m.push("approval.resolve");
    }
    m
}

fn check_connect(inner: &Inner, params: &Value, nonce: &str) -> Result<FakeClient, Refusal> {
    let p: ConnectParams = serde_json::from_value(params.clone())
        .map_err(|e| refuse(&format!("invalid connect params: {e}"), None))?;
    let proto = inner.opts.protocol;
    if !(p.max_protocol >= proto && p.min_protocol <= proto) {
        return Err(Refusal {
            message: "protocol mismatch".into(),
            details: Some(json!({"code": "PROTOCOL_MISMATCH", "expectedProtocol": proto})),
            close: CloseCode::Protocol,
        });
    }
    if !CLIENT_IDS.contains(&p.client.id.as_str()) {
        return Err(refuse(
            "invalid connect params: at /client/id: must be equal to one of the allowed values",
            None,
        ));
    }
    if !CLIENT_MODES.contains(&p.client.mode.as_str()) {
        return Err(refuse(
            "invalid connect params: at /client/mode: must be equal to one of the allowed values",
            None,
        ));
    }
    let token = p
        .auth
        .as_ref()
        .and_then(|a| a.token.clone())
        .unwrap_or_default();
    if !inner.opts.token.is_empty() {
        if token.is_empty() {
            return Err(refuse(
                "unauthorized: gateway token missing (use this gateway's gateway.auth.token or pair the device)",
                Some(json!({"code": "AUTH_TOKEN_MISSING", "authReason": "token_missing"})),
            ));
        }
        if token != inner.opts.token {
            return Err(refuse(
                "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
                Some(json!({"code": "AUTH_TOKEN_MISMATCH", "authReason": "token_mismatch"})),
            ));
        }
    }
    let mut scopes = p.scopes.clone();
    let mut device_id = String::new();
    match &p.device {
        None => scopes.clear(),
        Some(d) => {
            let bad = |reason: &str, msg: &str| {
                refuse(
                    msg,
                    Some(
                        json!({"code": format!("DEVICE_AUTH_{}", reason.to_uppercase().replace('-', "_")), "reason": reason}),
                    ),
                )
            };
            let derived = decode_public_key(&d.public_key).map(|k| device_id_of(&k));
            if derived.as_deref() != Some(d.id.as_str()) {
                return Err(bad("device-id-mismatch", "device identity mismatch"));
            }
            if now_ms().abs_diff(d.signed_at) > SIGNATURE_SKEW_MS {
                return Err(bad("device-signature-stale", "device signature expired"));
            }
            if d.nonce.trim() != nonce {
                return Err(bad("device-nonce-mismatch", "device nonce mismatch"));
            }
            let payload = AuthPayload {
                device_id: &d.id,
                client_id: &p.client.id,
                client_mode: &p.client.mode,
                role: &p.role,
                scopes: &p.scopes,
                signed_at_ms: d.signed_at,
                token: &token,
                nonce: &d.nonce,
                platform: &p.client.platform,
                device_family: p.client.device_family.as_deref().unwrap_or(""),
            };
            if !verify(&d.public_key, &payload.v3(), &d.signature)
                && !verify(&d.public_key, &payload.v2(), &d.signature)
            {
                return Err(bad("device-signature", "device signature invalid"));
            }
            device_id = d.id.clone();
        }
    }
    let approver = scopes.iter().any(|s| s == "operator.admin")
        && p.caps.iter().any(|c| APPROVAL_CAPS.contains(&c.as_str()));
    Ok(FakeClient {
        conn_id: 0,
        display_name: p
            .client
            .display_name
            .clone()
            .unwrap_or_else(|| p.client.id.clone()),
        device_id,
        scopes,
        caps: p.caps,
        approver,
    })
}

fn err(code: &str, message: &str, details: Option<Value>) -> ErrorShape {
    ErrorShape {
        code: code.into(),
        message: message.into(),
        details: details.map(Box::new),
        retryable: None,
        retry_after_ms: None,
    }
}

fn handle(
    inner: &Inner,
    client: &FakeClient,
    method: &str,
    params: &Value,
) -> Result<Value, ErrorShape> {
    let str_param = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_owned);
    match method {
        "health" => Ok(json!({"ok": true})),
        "exec.approval.list" | "plugin.approval.list" => {
            let kind = if method.starts_with("exec") {
                ApprovalKind::Exec
            } else {
                ApprovalKind::Plugin
            };
            let st = inner.state.lock().unwrap();
            let visible = client.scopes.iter().any(|s| s == "operator.admin");
            let list: Vec<Value> = st
                .approvals
                .values()
                .filter(|r| visible && r.kind == kind && r.decision.is_none())
                .map(|r| r.entry.clone())
                .collect();
            Ok(Value::Array(list))
        }
        "approval.resolve" | "exec.approval.resolve" | "plugin.approval.resolve" => {
            let (Some(id), Some(decision)) = (str_param("id"), str_param("decision")) else {
                return Err(err(
                    "INVALID_REQUEST",
                    &format!("invalid {method} params"),
                    None,
                ));
            };
            if !client
                .scopes
                .iter()
                .any(|s| s == "operator.admin" || s == "operator.approvals")
            {
                return Err(err(
                    "INVALID_REQUEST",
                    "missing scope: operator.approvals",
                    None,
                ));
            }
            let mut st = inner.state.lock().unwrap();
            let r = inner.decide(&mut st, &id, &decision, &client.display_name, method);
            drop(st);
            inner.changed();
            let (_, applied, summary) = r.map_err(|m| {
                let reason = if m.starts_with("unknown") {
                    "APPROVAL_NOT_FOUND"
                } else {
                    "DECISION_NOT_ALLOWED"
                };
                err("INVALID_REQUEST", &m, Some(json!({"reason": reason})))
            })?;
            let same = summary["decision"].as_str() == Some(decision.as_str());
            if method == "approval.resolve" {
                Ok(json!({"applied": applied, "approval": summary}))
            } else if applied || same {
                Ok(json!({"ok": true}))
            } else {
                Err(err(
                    "INVALID_REQUEST",
                    "approval already resolved",
                    Some(json!({"reason": "APPROVAL_ALREADY_RESOLVED"})),
                ))
            }
        }
        "sessions.abort" => {
            let Some(key) = str_param("key") else {
                return Err(err("INVALID_REQUEST", "key required", None));
            };
            let clear = params
                .get("clearQueued")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let mut st = inner.state.lock().unwrap();
            st.aborts.push((key.clone(), clear));
            let active = st.sessions.get(&key).copied().unwrap_or(false);
            if active {
                st.sessions.insert(key.clone(), false);
            }
            drop(st);
            inner.changed();
            Ok(if active {
                json!({"ok": true, "abortedRunId": format!("run-{key}"), "status": "aborted"})
            } else {
                json!({"ok": true, "abortedRunId": null, "status": "no-active-run"})
            })
        }
        "sessions.list" => {
            let st = inner.state.lock().unwrap();
            let sessions: Vec<Value> = st
                .sessions
                .iter()
                .map(|(k, a)| json!({"key": k, "hasActiveRun": a}))
                .collect();
            Ok(json!({"ts": now_ms(), "count": sessions.len(), "sessions": sessions}))
        }
        other => Err(err(
            "INVALID_REQUEST",
            &format!("unknown method: {other}"),
            None,
        )),
    }
}

pub(super) async fn serve(
    inner: Arc<Inner>,
    stream: TcpStream,
    conn_id: u64,
    generation: CancellationToken,
    stop: CancellationToken,
) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = ws.split();
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let challenge = json!({"type": "event", "event": "connect.challenge", "payload": {"nonce": nonce, "ts": now_ms()}});
    if sink
        .send(Message::text(challenge.to_string()))
        .await
        .is_err()
    {
        return;
    }
    // The handshake: the first frame must be `connect`.
    let first = tokio::select! {
        _ = generation.cancelled() => return,
        _ = stop.cancelled() => return,
        r = tokio::time::timeout(Duration::from_secs(10), source.next()) => r,
    };
    let Ok(Some(Ok(Message::Text(text)))) = first else {
        return;
    };
    let starting = {
        let mut st = inner.state.lock().unwrap();
        st.connects += 1;
        st.connects <= inner.opts.starting_connects
    };
    let (req_id, verdict) = match Frame::parse(text.as_str(), 64 * 1024) {
        Ok(Frame::Req { id, method, params }) if method == "connect" => {
            (id, check_connect(&inner, &params, &nonce))
        }
        Ok(Frame::Req { id, .. }) => (
            id,
            Err(refuse(
                "invalid handshake: first request must be connect",
                None,
            )),
        ),
        _ => return,
    };
    if starting {
        let mut e = err("UNAVAILABLE", "gateway starting; retry shortly", None);
        e.retryable = Some(true);
        inner.state.lock().unwrap().refusals.push(e.message.clone());
        inner.changed();
        let frame = Frame::Res {
            id: req_id,
            result: Err(e),
        };
        let _ = sink.send(Message::text(frame.to_text())).await;
        let _ = sink.close().await;
        return;
    }
    let mut client = match verdict {
        Ok(c) => c,
        Err(r) => {
            inner.state.lock().unwrap().refusals.push(r.message.clone());
            inner.changed();
            let frame = Frame::Res {
                id: req_id,
                result: Err(err("INVALID_REQUEST", &r.message, r.details)),
            };
            let _ = sink.send(Message::text(frame.to_text())).await;
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code: r.close,
                    reason: r.message.into(),
                })))
                .await;
            return;
        }
    };
    client.conn_id = conn_id;
    let tick_ms = inner.opts.tick_interval.map(|d| d.as_millis() as u64);
    let mut policy = json!({"maxPayload": 26_214_400, "maxBufferedBytes": 52_428_800});
    if let Some(t) = tick_ms {
        policy["tickIntervalMs"] = json!(t);
    }
    let hello = json!({"type": "hello-ok", "protocol": inner.opts.protocol,
        "server": {"version": "fake-openclaw", "connId": format!("fake-{conn_id}")},
        "features": {"methods": methods(&inner), "events": ["connect.challenge", "tick",
            "exec.approval.requested", "exec.approval.resolved", "plugin.approval.requested", "plugin.approval.resolved"]},
        "snapshot": {}, "auth": {"role": "operator", "scopes": client.scopes}, "policy": policy});
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    {
        let mut st = inner.state.lock().unwrap();
        st.clients.insert(
            conn_id,
            ClientEntry {
                info: client.clone(),
                tx,
                seq: 0,
            },
        );
    }
    let hello = Frame::Res {
        id: req_id,
        result: Ok(hello),
    };
    if sink.send(Message::text(hello.to_text())).await.is_ok() {
        inner.changed();
        let mut ticker = tokio::time::interval(
            inner
                .opts
                .tick_interval
                .unwrap_or(Duration::from_secs(3600)),
        );
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = generation.cancelled() => break,
                _ = stop.cancelled() => break,
                out = rx.recv() => match out {
                    Some(text) => if sink.send(Message::text(text)).await.is_err() { break },
                    None => break,
                },
                _ = ticker.tick(), if tick_ms.is_some() => {
                    let stopped = inner.state.lock().unwrap().ticks_stopped;
                    if !stopped {
                        let mut st = inner.state.lock().unwrap();
                        let Some(c) = st.clients.get_mut(&conn_id) else { break };
                        c.seq += 1;
                        let f = json!({"type": "event", "event": "tick", "payload": {"ts": now_ms()}, "seq": c.seq});
                        let _ = c.tx.send(f.to_string());
                        st.ticks_sent += 1;
                        drop(st);
                        inner.changed();
                    }
                }
                msg = source.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        let reply = match Frame::parse(text.as_str(), 26_214_400) {
                            Ok(Frame::Req { id, method, params }) => Frame::Res { id, result: handle(&inner, &client, &method, &params) },
                            _ => continue,
                        };
                        if sink.send(Message::text(reply.to_text())).await.is_err() { break }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    inner.state.lock().unwrap().clients.remove(&conn_id);
    inner.changed();
}
