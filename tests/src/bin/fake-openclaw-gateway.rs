//! `fake-openclaw-gateway`: the fake OpenClaw gateway from
//! `reins_openclaw::fake`, as a process, for end-to-end tests that run the
//! real daemon against it.
//!
//! Usage: `fake-openclaw-gateway --token T [--port P] [--tick-ms N]`
//! (`--port 0` or no port: any free port; `--token ''`: auth mode none).
//!
//! Once listening it prints one JSON line `{"port":N}`. Then it reads one
//! JSON command per line on stdin and answers each with one JSON line:
//! - `{"cmd":"request_exec","command":"…","cwd":"…","agentId":"…","sessionKey":"…"}`
//!   (optional `"argv":[…]`, `"inRunPlan":true`, `"allowedDecisions":[…]`)
//!   → `{"ok":true,"id":"…"}`: an exec approval, sent to approver clients.
//! - `{"cmd":"request_plugin","title":"…","description":"…","toolName":"…","severity":"…","pluginId":"…","agentId":"…","sessionKey":"…"}`
//!   → `{"ok":true,"id":"plugin:…"}`.
//! - `{"cmd":"resolve","id":"…","decision":"allow-once|allow-always|deny"}`:
//!   decide as another OpenClaw client → `{"ok":true,"applied":bool}` or
//!   `{"ok":false,"error":"…"}`.
//! - `{"cmd":"expire","id":"…"}`: OpenClaw's timeout → `{"ok":true}`.
//! - `{"cmd":"drop"}`: cut every connection → `{"ok":true}`.
//! - `{"cmd":"pending"}` → `{"ok":true,"pending":["id",…]}`.
//! - `{"cmd":"clients"}` → `{"ok":true,"clients":[{"name","deviceId","approver","scopes","caps"}]}`.
//! - `{"cmd":"session","key":"…","active":bool}` → `{"ok":true}`.
//! - `{"cmd":"quit"}` (or end of stdin): exits 0.
//!
//! Anything else gets `{"ok":false,"error":"…"}` and changes nothing.
//! Independently, every decision that reaches the fake (from any client,
//! including repeats) is printed as
//! `{"event":"decision","id":"…","kind":"exec|plugin","decision":"…","client":"<displayName>","method":"…","applied":bool}`,
//! and every `sessions.abort` as `{"event":"abort","key":"…","clearQueued":bool}`.
//!
//! Not here: anything OpenClaw does besides its gateway protocol.

use reins_openclaw::fake::{ExecRequest, FakeGateway, FakeOptions, PluginRequest};
use serde_json::{Value, json};
use std::io::BufRead as _;
use std::io::Write as _;
use std::time::Duration;

fn emit(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "fake-openclaw-gateway: {msg}\nusage: fake-openclaw-gateway --token T [--port P] [--tick-ms N]"
    );
    std::process::exit(2);
}

fn parse_args() -> FakeOptions {
    let mut opts = FakeOptions::default();
    let mut token = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{a} needs a value")))
        };
        match a.as_str() {
            "--token" => token = Some(value()),
            "--port" => opts.port = value().parse().unwrap_or_else(|_| usage("bad --port")),
            "--tick-ms" => {
                let ms: u64 = value().parse().unwrap_or_else(|_| usage("bad --tick-ms"));
                opts.tick_interval = Some(Duration::from_millis(ms.max(10)));
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    opts.token = token.unwrap_or_else(|| usage("--token is required"));
    opts
}

fn s(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn strings(v: &Value, k: &str) -> Option<Vec<String>> {
    v.get(k)?.as_array().map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    })
}

fn command(gw: &FakeGateway, line: &str) -> Option<Value> {
    let v: Value = match serde_json::from_str(line) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Some(json!({"ok": false, "error": "a command is a JSON object"})),
        Err(e) => return Some(json!({"ok": false, "error": format!("not JSON: {e}")})),
    };
    Some(match s(&v, "cmd").as_str() {
        "request_exec" => {
            if s(&v, "command").is_empty() {
                return Some(json!({"ok": false, "error": "request_exec needs a command"}));
            }
            let id = gw.request_exec(ExecRequest {
                command: s(&v, "command"),
                argv: strings(&v, "argv"),
                cwd: s(&v, "cwd"),
                agent_id: s(&v, "agentId"),
                session_key: s(&v, "sessionKey"),
                in_run_plan: v.get("inRunPlan").and_then(Value::as_bool).unwrap_or(false),
                allowed_decisions: strings(&v, "allowedDecisions").unwrap_or_default(),
            });
            json!({"ok": true, "id": id})
        }
        "request_plugin" => {
            let id = gw.request_plugin(PluginRequest {
                title: s(&v, "title"),
                description: s(&v, "description"),
                severity: s(&v, "severity"),
                tool_name: s(&v, "toolName"),
                plugin_id: s(&v, "pluginId"),
                agent_id: s(&v, "agentId"),
                session_key: s(&v, "sessionKey"),
            });
            json!({"ok": true, "id": id})
        }
        "resolve" => match gw.resolve_as_other_client(&s(&v, "id"), &s(&v, "decision")) {
            Ok(applied) => json!({"ok": true, "applied": applied}),
            Err(e) => json!({"ok": false, "error": e}),
        },
        "expire" => {
            gw.expire(&s(&v, "id"));
            json!({"ok": true})
        }
        "drop" => {
            gw.drop_connections();
            json!({"ok": true})
        }
        "pending" => json!({"ok": true, "pending": gw.pending()}),
        "clients" => {
            let clients: Vec<Value> = gw
                .clients()
                .into_iter()
                .map(|c| json!({"name": c.display_name, "deviceId": c.device_id, "approver": c.approver, "scopes": c.scopes, "caps": c.caps}))
                .collect();
            json!({"ok": true, "clients": clients})
        }
        "session" => {
            gw.set_session(
                &s(&v, "key"),
                v.get("active").and_then(Value::as_bool).unwrap_or(false),
            );
            json!({"ok": true})
        }
        "quit" => return None,
        other => json!({"ok": false, "error": format!("unknown cmd {other:?}")}),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = parse_args();
    let gw = match FakeGateway::start(opts).await {
        Ok(gw) => gw,
        Err(e) => {
            eprintln!("fake-openclaw-gateway: cannot listen: {e}");
            std::process::exit(1);
        }
    };
    emit(&json!({"port": gw.port()}));
    let watcher = gw.clone();
    tokio::spawn(async move {
        let (mut seen, mut aborts) = (0usize, 0usize);
        loop {
            let (decisions, abort_list) = watcher
                .wait_until(|g| {
                    let d = g.decisions();
                    let a = g.aborts();
                    (d.len() > seen || a.len() > aborts).then_some((d, a))
                })
                .await;
            for d in &decisions[seen..] {
                emit(
                    &json!({"event": "decision", "id": d.id, "kind": d.kind.as_str(), "decision": d.decision,
                    "client": d.client, "method": d.method, "applied": d.applied}),
                );
            }
            for (key, clear) in &abort_list[aborts..] {
                emit(&json!({"event": "abort", "key": key, "clearQueued": clear}));
            }
            seen = decisions.len();
            aborts = abort_list.len();
        }
    });
    // stdin is read on its own thread (blocking reads), one line at a time.
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        if line.trim().is_empty() {
            continue;
        }
        match command(&gw, &line) {
            Some(reply) => emit(&reply),
            None => break,
        }
    }
    gw.shutdown();
}
