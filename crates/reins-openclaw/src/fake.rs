//! A fake OpenClaw gateway for tests (feature `test-support`), written from
//! OpenClaw's protocol documentation and checked against frames captured
//! from OpenClaw 2026.9.6: it binds `127.0.0.1` before anyone connects,
//! sends `connect.challenge {nonce, ts}`, checks `connect` (protocol range,
//! client id and mode from OpenClaw's closed registry, the shared token with
//! OpenClaw's own error messages, the Ed25519 device proof over the v3 or v2
//! payload with device id = SHA-256 of the key), answers hello-ok, and then
//! serves `exec.approval.list`, `plugin.approval.list`, `approval.resolve`,
//! `exec.approval.resolve`, `plugin.approval.resolve`, `sessions.abort` and
//! `sessions.list`.
//!
//! As in OpenClaw: approval requests go only to clients with
//! `operator.admin` and an approval cap; `*.approval.resolved` goes to
//! everyone; the first decision wins; a repeat of the same decision is fine;
//! another decision fails `approval already resolved` on the per-kind
//! methods and answers `{applied: false, approval}` on `approval.resolve`;
//! `approval.resolve` with a decision the approval does not offer records a
//! deny (OpenClaw's "malformed-verdict"); the per-kind methods take a unique
//! id prefix.
//! A client without a device proof is let in with no scopes.
//!
//! Not here: agents, pairing, OpenClaw's timeouts (tests call
//! [`FakeGateway::expire`]), TLS. Tests wait on `wait_for_*`, never sleep.

use crate::wire::ApprovalKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

mod conn;

/// How the fake behaves.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// The shared token (empty: auth mode none).
    pub token: String,
    /// Port to bind (0: any free port).
    pub port: u16,
    /// List `approval.resolve` in hello-ok's methods (current OpenClaw does).
    pub approval_resolve: bool,
    /// Send `tick` events this often (OpenClaw: 30 s); `None`: no ticks.
    pub tick_interval: Option<Duration>,
    /// The protocol the fake speaks (OpenClaw 2026.9: 4).
    pub protocol: u32,
    /// Answer this many first `connect`s with OpenClaw's startup refusal
    /// (`UNAVAILABLE` "gateway starting; retry shortly", retryable).
    pub starting_connects: usize,
}

impl Default for FakeOptions {
    fn default() -> Self {
        Self {
            token: String::new(),
            port: 0,
            approval_resolve: true,
            tick_interval: None,
            protocol: 4,
            starting_connects: 0,
        }
    }
}

/// An exec approval to raise (as an agent's `exec` would).
#[derive(Clone, Debug, Default)]
pub struct ExecRequest {
    /// The full command text.
    pub command: String,
    /// argv, if known.
    pub argv: Option<Vec<String>>,
    /// Working directory.
    pub cwd: String,
    /// OpenClaw agent id.
    pub agent_id: String,
    /// Session key.
    pub session_key: String,
    /// Put the command in `systemRunPlan.commandText` (node-host style), with
    /// only a shortened `command`.
    pub in_run_plan: bool,
    /// Offered decisions (empty: allow-once, allow-always, deny).
    pub allowed_decisions: Vec<String>,
}

/// A plugin approval to raise (as a plugin's `requireApproval` would).
#[derive(Clone, Debug, Default)]
pub struct PluginRequest {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// `info`, `warning`, `critical`.
    pub severity: String,
    /// The gated tool.
    pub tool_name: String,
    /// The plugin.
    pub plugin_id: String,
    /// Agent.
    pub agent_id: String,
    /// Session key.
    pub session_key: String,
}

/// A decision that reached the fake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeDecision {
    /// Approval id.
    pub id: String,
    /// Exec or plugin.
    pub kind: ApprovalKind,
    /// The decision word as sent.
    pub decision: String,
    /// The client's display name (`other-client` for
    /// [`FakeGateway::resolve_as_other_client`]).
    pub client: String,
    /// The method used.
    pub method: String,
    /// Whether it decided the approval (false: a repeat or a late one).
    pub applied: bool,
}

/// A connected client, after its handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeClient {
    /// Connection number.
    pub conn_id: u64,
    /// `client.displayName`.
    pub display_name: String,
    /// The verified device id (empty without a device proof).
    pub device_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Announced caps.
    pub caps: Vec<String>,
    /// Receives approval requests (operator.admin plus an approval cap).
    pub approver: bool,
}

struct Record {
    kind: ApprovalKind,
    entry: Value,
    allowed: Vec<String>,
    decision: Option<String>,
}

struct ClientEntry {
    info: FakeClient,
    tx: mpsc::UnboundedSender<String>,
    seq: u64,
}

#[derive(Default)]
struct State {
    next_id: u64,
    approvals: BTreeMap<String, Record>,
    clients: HashMap<u64, ClientEntry>,
    decisions: Vec<FakeDecision>,
    sessions: BTreeMap<String, bool>,
    aborts: Vec<(String, bool)>,
    refusals: Vec<String>,
    ticks_stopped: bool,
    ticks_sent: u64,
    connects: usize,
    generation: CancellationToken,
}

pub(crate) struct Inner {
    opts: FakeOptions,
    state: Mutex<State>,
    version: watch::Sender<u64>,
}

/// The fake gateway. Dropping it does not stop it; call [`FakeGateway::shutdown`].
#[derive(Clone)]
pub struct FakeGateway {
    inner: Arc<Inner>,
    port: u16,
    stop: CancellationToken,
}

impl std::fmt::Debug for FakeGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeGateway")
            .field("port", &self.port)
            .finish()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Inner {
    fn changed(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    fn broadcast(&self, st: &mut State, event: &str, payload: &Value, approvers_only: bool) {
        for c in st.clients.values_mut() {
            if approvers_only && !c.info.approver {
                continue;
            }
            c.seq += 1;
            let frame = json!({"type": "event", "event": event, "payload": payload, "seq": c.seq});
            let _ = c.tx.send(frame.to_string());
        }
    }

    fn add_approval(&self, kind: ApprovalKind, request: Value, allowed: Vec<String>) -> String {
        let mut st = self.state.lock().unwrap();
        st.next_id += 1;
        let id = match kind {
            ApprovalKind::Exec => format!("{:08x}-fake-exec-{}", st.next_id, st.next_id),
            ApprovalKind::Plugin => format!("plugin:{:08x}-fake-{}", st.next_id, st.next_id),
        };
        let created = now_ms();
        let entry = json!({"id": id, "request": request, "createdAtMs": created,
            "expiresAtMs": created + 1_800_000, "approvalKind": kind.as_str()});
        let event = format!("{}.approval.requested", kind.as_str());
        self.broadcast(&mut st, &event, &entry, true);
        st.approvals.insert(
            id.clone(),
            Record {
                kind,
                entry,
                allowed,
                decision: None,
            },
        );
        drop(st);
        self.changed();
        id
    }

    /// Apply a decision; `Ok(applied)` or `Err(message)`.
    fn decide(
        &self,
        st: &mut State,
        id: &str,
        decision: &str,
        client: &str,
        method: &str,
    ) -> Result<(ApprovalKind, bool, Value), String> {
        // The per-kind methods accept a unique id prefix, as OpenClaw's do.
        let full = if st.approvals.contains_key(id) || method == "approval.resolve" {
            id.to_owned()
        } else {
            let mut hits = st
                .approvals
                .keys()
                .filter(|k| !id.is_empty() && k.starts_with(id));
            match (hits.next(), hits.next()) {
                (Some(one), None) => one.clone(),
                (Some(_), Some(_)) => return Err("ambiguous approval id prefix".into()),
                _ => id.to_owned(),
            }
        };
        let id = full.as_str();
        let Some(rec) = st.approvals.get_mut(id) else {
            return Err("unknown or expired approval id".into());
        };
        let kind = rec.kind;
        let offered = rec.allowed.iter().any(|d| d == decision);
        if !offered && method != "approval.resolve" {
            return Err(format!("decision not allowed: {decision}"));
        }
        let applied = match &rec.decision {
            None => {
                // OpenClaw records a decision it does not offer as a deny
                // ("malformed-verdict") on approval.resolve.
                rec.decision = Some(if offered { decision } else { "deny" }.to_owned());
                true
            }
            Some(_) => false,
        };
        let summary = json!({"id": id, "status": if rec.decision.as_deref() == Some("deny") { "denied" } else { "allowed" },
            "decision": rec.decision});
        let request = rec.entry["request"].clone();
        st.decisions.push(FakeDecision {
            id: id.to_owned(),
            kind,
            decision: decision.to_owned(),
            client: client.to_owned(),
            method: method.to_owned(),
            applied,
        });
        if applied {
            let payload = json!({"id": id, "decision": summary["decision"], "resolvedBy": client, "ts": now_ms(), "request": request});
            self.broadcast(
                st,
                &format!("{}.approval.resolved", kind.as_str()),
                &payload,
                false,
            );
        }
        Ok((kind, applied, summary))
    }
}

impl FakeGateway {
    /// Bind `127.0.0.1:<opts.port>` and start serving.
    pub async fn start(opts: FakeOptions) -> std::io::Result<FakeGateway> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
        let port = listener.local_addr()?.port();
        let (version, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            opts,
            state: Mutex::new(State::default()),
            version,
        });
        let stop = CancellationToken::new();
        let (inner2, stop2) = (inner.clone(), stop.clone());
        tokio::spawn(async move {
            let mut conn_id = 0u64;
            loop {
                let accepted = tokio::select! {
                    _ = stop2.cancelled() => return,
                    a = listener.accept() => a,
                };
                let Ok((stream, _)) = accepted else { continue };
                // As OpenClaw's `ws` server does (Node sockets default to
                // noDelay): without it Nagle holds a frame ~40 ms.
                let _ = stream.set_nodelay(true);
                conn_id += 1;
                let generation = inner2.state.lock().unwrap().generation.clone();
                tokio::spawn(conn::serve(
                    inner2.clone(),
                    stream,
                    conn_id,
                    generation,
                    stop2.clone(),
                ));
            }
        });
        Ok(FakeGateway { inner, port, stop })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Raise an exec approval; returns its id.
    pub fn request_exec(&self, r: ExecRequest) -> String {
        let allowed = if r.allowed_decisions.is_empty() {
            vec!["allow-once".into(), "allow-always".into(), "deny".into()]
        } else {
            r.allowed_decisions.clone()
        };
        let plan = r.in_run_plan.then(|| {
            json!({"argv": r.argv, "cwd": r.cwd, "commandText": r.command,
                "commandPreview": r.command.chars().take(40).collect::<String>(),
                "agentId": r.agent_id, "sessionKey": r.session_key})
        });
        let command = if r.in_run_plan {
            r.command.chars().take(40).collect()
        } else {
            r.command.clone()
        };
        let request = json!({"command": command, "commandArgv": r.argv, "systemRunBinding": null,
            "systemRunPlan": plan, "cwd": r.cwd, "nodeId": null, "host": "gateway", "security": "allowlist",
            "ask": "on-miss", "warningText": null, "allowedDecisions": allowed, "agentId": r.agent_id,
            "sessionKey": r.session_key});
        self.inner
            .add_approval(ApprovalKind::Exec, request, allowed)
    }

    /// Raise a plugin approval; returns its id.
    pub fn request_plugin(&self, r: PluginRequest) -> String {
        let allowed: Vec<String> = vec!["allow-once".into(), "deny".into()];
        let request = json!({"pluginId": r.plugin_id, "title": r.title, "description": r.description,
            "severity": r.severity, "toolName": r.tool_name, "toolCallId": "call_fake",
            "allowedDecisions": allowed, "agentId": r.agent_id, "sessionKey": r.session_key});
        self.inner
            .add_approval(ApprovalKind::Plugin, request, allowed)
    }

    /// Decide as another OpenClaw client would (its Control UI, a phone).
    pub fn resolve_as_other_client(&self, id: &str, decision: &str) -> Result<bool, String> {
        let mut st = self.inner.state.lock().unwrap();
        let r = self
            .inner
            .decide(&mut st, id, decision, "other-client", "approval.resolve");
        drop(st);
        self.inner.changed();
        r.map(|(_, applied, _)| applied)
    }

    /// Let an approval time out (decision null), as OpenClaw's timer would.
    pub fn expire(&self, id: &str) {
        let mut st = self.inner.state.lock().unwrap();
        let Some(rec) = st.approvals.remove(id) else {
            return;
        };
        if rec.decision.is_none() {
            let payload = json!({"id": id, "decision": null, "resolvedBy": null, "ts": now_ms(), "request": rec.entry["request"]});
            self.inner.broadcast(
                &mut st,
                &format!("{}.approval.resolved", rec.kind.as_str()),
                &payload,
                false,
            );
        }
        drop(st);
        self.inner.changed();
    }

    /// Every decision that reached the fake, in order.
    pub fn decisions(&self) -> Vec<FakeDecision> {
        self.inner.state.lock().unwrap().decisions.clone()
    }

    /// Ids of approvals nobody decided yet.
    pub fn pending(&self) -> Vec<String> {
        let st = self.inner.state.lock().unwrap();
        st.approvals
            .iter()
            .filter(|(_, r)| r.decision.is_none())
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Connected clients (after their handshake).
    pub fn clients(&self) -> Vec<FakeClient> {
        let st = self.inner.state.lock().unwrap();
        let mut v: Vec<_> = st.clients.values().map(|c| c.info.clone()).collect();
        v.sort_by_key(|c| c.conn_id);
        v
    }

    /// OpenClaw's messages for refused handshakes, in order.
    pub fn refusals(&self) -> Vec<String> {
        self.inner.state.lock().unwrap().refusals.clone()
    }

    /// `sessions.abort` calls received: (key, clearQueued).
    pub fn aborts(&self) -> Vec<(String, bool)> {
        self.inner.state.lock().unwrap().aborts.clone()
    }

    /// Add or change a session; `active`: it has a run in progress.
    pub fn set_session(&self, key: &str, active: bool) {
        self.inner
            .state
            .lock()
            .unwrap()
            .sessions
            .insert(key.to_owned(), active);
        self.inner.changed();
    }

    /// Cut every connection at the TCP level (a gateway restart, a network
    /// drop); pending approvals stay. New connections are accepted.
    pub fn drop_connections(&self) {
        let mut st = self.inner.state.lock().unwrap();
        st.generation.cancel();
        st.generation = CancellationToken::new();
    }

    /// Stop (or restart) sending ticks, as a hung gateway would.
    pub fn set_ticks_stopped(&self, stopped: bool) {
        self.inner.state.lock().unwrap().ticks_stopped = stopped;
    }

    /// Wait until `n` ticks were sent, in all.
    pub async fn wait_for_ticks(&self, n: u64) {
        self.wait_until(|g| (g.inner.state.lock().unwrap().ticks_sent >= n).then_some(()))
            .await
    }

    /// Send a raw text frame to every connected client (forged or garbage).
    pub fn send_raw(&self, text: &str) {
        let st = self.inner.state.lock().unwrap();
        for c in st.clients.values() {
            let _ = c.tx.send(text.to_owned());
        }
    }

    /// Stop listening and close every connection.
    pub fn shutdown(&self) {
        self.stop.cancel();
        self.drop_connections();
    }

    /// Wait until `pred` holds over the fake (re-checked on every change).
    pub async fn wait_until<T>(&self, mut pred: impl FnMut(&FakeGateway) -> Option<T>) -> T {
        let mut rx = self.inner.version.subscribe();
        loop {
            if let Some(v) = pred(self) {
                return v;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Wait for the first decision on `id` that reached the fake from any client.
    pub async fn wait_for_decision(&self, id: &str) -> FakeDecision {
        self.wait_until(|g| g.decisions().into_iter().find(|d| d.id == id))
            .await
    }

    /// Wait for the n-th decision (1-based) overall.
    pub async fn wait_for_decisions(&self, n: usize) -> Vec<FakeDecision> {
        self.wait_until(|g| Some(g.decisions()).filter(|d| d.len() >= n))
            .await
    }

    /// Wait until exactly `n` clients are connected.
    pub async fn wait_for_clients(&self, n: usize) -> Vec<FakeClient> {
        self.wait_until(|g| Some(g.clients()).filter(|c| c.len() == n))
            .await
    }

    /// Wait until at least `n` handshakes were refused.
    pub async fn wait_for_refusals(&self, n: usize) -> Vec<String> {
        self.wait_until(|g| Some(g.refusals()).filter(|r| r.len() >= n))
            .await
    }

    /// Wait for `n` `sessions.abort` calls.
    pub async fn wait_for_aborts(&self, n: usize) -> Vec<(String, bool)> {
        self.wait_until(|g| Some(g.aborts()).filter(|a| a.len() >= n))
            .await
    }
}
