//! The link's pure state machine: connection phases, request ids and their
//! pending replies, the handshake and the post-connect fetch. Input in,
//! actions out, unit-tested with no sockets.
//!
//! Phases: `Idle` → (socket open) `AwaitChallenge` → (challenge; `connect`
//! sent) `AwaitHello` → (hello-ok) `Syncing` (`exec.approval.list` and
//! `plugin.approval.list`, approver mode only) → `Up`. Events that arrive
//! while syncing are applied to the fetched set in order, so the one
//! [`LinkEvent::Snapshot`] is right. A gap in the gateway's event numbers
//! means an event was missed: the machine syncs again.
//!
//! Every request has a deadline; a missed one fails its caller with
//! [`LinkError::Timeout`] and drops the connection. When the gateway sends
//! `tick` events, two tick intervals of silence drop it too.
//!
//! Not here: sockets, timers, backoff ([`crate::link`] owns those), and any
//! decision: the machine only sends the decisions it is given.

use crate::device::DeviceIdentity;
use crate::link::{LinkError, LinkEvent, LinkStatus};
use crate::wire::{
    self, ApprovalKind, Challenge, ErrorShape, Frame, GatewayApproval, GatewayDecision, HelloOk,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

mod calls;
pub use calls::{Call, CloseReason, Reply};

/// Where the connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No socket.
    Idle,
    /// Socket open; waiting for `connect.challenge`.
    AwaitChallenge,
    /// `connect` sent; waiting for hello-ok.
    AwaitHello,
    /// Fetching the pending approvals.
    Syncing,
    /// Ready.
    Up,
}

/// What the shell must do.
#[derive(Debug, PartialEq)]
pub enum Action<T> {
    /// Send this text frame.
    Send(String),
    /// Report this to the link's owner (a `Status` also updates the watch).
    Emit(LinkEvent),
    /// Answer a caller.
    Reply(T, Result<Reply, LinkError>),
    /// Close the socket, then call [`Machine::on_closed`].
    Close(CloseReason),
    /// Log this (a frame was dropped; nothing changed).
    Warn(String),
}

/// The machine's fixed settings.
#[derive(Clone)]
pub struct MachineConfig {
    /// `ws://127.0.0.1:<port>`, for statuses.
    pub url: String,
    /// The shared token (empty when none).
    pub token: Zeroizing<String>,
    /// Reins' version.
    pub version: String,
    /// Shown in OpenClaw.
    pub display_name: String,
    /// Deadline for each request and for the challenge.
    pub request_timeout: Duration,
}

impl std::fmt::Debug for MachineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MachineConfig")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

enum Purpose<T> {
    Connect,
    List(ApprovalKind),
    User { call: Call, reply: T },
}

struct Pending<T> {
    purpose: Purpose<T>,
    method: &'static str,
    deadline: Instant,
}

/// The fetch after a (re)connect.
#[derive(Default)]
struct Sync {
    lists_left: usize,
    working: BTreeMap<(ApprovalKind, String), GatewayApproval>,
    /// Resolved while syncing: a list entry for these is stale.
    resolved: BTreeSet<(ApprovalKind, String)>,
}

/// The state machine. `T` is the shell's reply handle (a oneshot sender).
pub struct Machine<T> {
    cfg: MachineConfig,
    identity: DeviceIdentity,
    approver: bool,
    phase: Phase,
    next_id: u64,
    pending: HashMap<String, Pending<T>>,
    challenge_deadline: Option<Instant>,
    hello: Option<HelloOk>,
    approvals: BTreeMap<(ApprovalKind, String), GatewayApproval>,
    sync: Option<Sync>,
    last_frame: Option<Instant>,
    saw_tick: bool,
    last_seq: Option<u64>,
    shown: bool,
}

impl<T> std::fmt::Debug for Machine<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("phase", &self.phase)
            .field("approver", &self.approver)
            .field("pending_calls", &self.pending.len())
            .field("approvals", &self.approvals.len())
            .finish()
    }
}

impl<T> Machine<T> {
    /// A machine with no socket.
    pub fn new(cfg: MachineConfig, identity: DeviceIdentity, approver: bool) -> Self {
        Self {
            cfg,
            identity,
            approver,
            phase: Phase::Idle,
            next_id: 1,
            pending: HashMap::new(),
            challenge_deadline: None,
            hello: None,
            approvals: BTreeMap::new(),
            sync: None,
            last_frame: None,
            saw_tick: false,
            last_seq: None,
            shown: false,
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether approver mode is on.
    pub fn approver(&self) -> bool {
        self.approver
    }

    /// The largest frame to accept (hello-ok's `policy.maxPayload`, else the default).
    pub fn max_frame(&self) -> usize {
        self.hello
            .as_ref()
            .and_then(|h| h.max_payload)
            .unwrap_or(wire::DEFAULT_MAX_FRAME)
    }

    /// Approvals currently pending on the gateway (what Reins shows).
    pub fn approvals(&self) -> impl Iterator<Item = &GatewayApproval> {
        self.approvals.values()
    }

    /// The earliest instant [`Machine::on_timer`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        let calls = self.pending.values().map(|p| p.deadline);
        let tick = self.tick_deadline();
        calls.chain(self.challenge_deadline).chain(tick).min()
    }

    fn tick_deadline(&self) -> Option<Instant> {
        let interval = self.hello.as_ref()?.tick_interval_ms?;
        if !self.saw_tick {
            return None;
        }
        Some(self.last_frame? + Duration::from_millis(interval.saturating_mul(2)))
    }

    /// The socket is open.
    pub fn on_open(&mut self, now: Instant) -> Vec<Action<T>> {
        self.phase = Phase::AwaitChallenge;
        self.challenge_deadline = Some(now + self.cfg.request_timeout);
        self.hello = None;
        self.sync = None;
        self.saw_tick = false;
        self.last_seq = None;
        self.last_frame = Some(now);
        Vec::new()
    }

    /// The socket closed (or the shell closed it). Fails calls in flight and
    /// reports [`LinkEvent::Lost`] if this connection had shown approvals.
    pub fn on_closed(&mut self) -> Vec<Action<T>> {
        let mut out = Vec::new();
        for (_, p) in self.pending.drain() {
            if let Purpose::User { reply, .. } = p.purpose {
                out.push(Action::Reply(
                    reply,
                    Err(LinkError::NotConnected(format!(
                        "{}: the connection closed before OpenClaw answered",
                        self.cfg.url
                    ))),
                ));
            }
        }
        if self.shown {
            out.push(Action::Emit(LinkEvent::Lost));
        }
        self.shown = false;
        self.approvals.clear();
        self.sync = None;
        self.hello = None;
        self.challenge_deadline = None;
        self.phase = Phase::Idle;
        out
    }

    /// Turn approver mode on or off; reconnects when connected.
    pub fn set_approver(&mut self, approver: bool) -> Vec<Action<T>> {
        if approver == self.approver {
            return Vec::new();
        }
        self.approver = approver;
        if self.phase == Phase::Idle {
            Vec::new()
        } else {
            vec![Action::Close(CloseReason::Reconnect)]
        }
    }

    /// Time passed: deadlines.
    pub fn on_timer(&mut self, now: Instant) -> Vec<Action<T>> {
        let mut out = Vec::new();
        if self.challenge_deadline.is_some_and(|d| now >= d) {
            self.challenge_deadline = None;
            out.push(Action::Close(CloseReason::Failed(
                "OpenClaw's gateway did not send its connect challenge in time".into(),
            )));
            return out;
        }
        let late: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| now >= p.deadline)
            .map(|(id, _)| id.clone())
            .collect();
        if !late.is_empty() {
            let mut methods = Vec::new();
            for id in late {
                let Some(p) = self.pending.remove(&id) else {
                    continue;
                };
                methods.push(p.method);
                if let Purpose::User { reply, .. } = p.purpose {
                    out.push(Action::Reply(reply, Err(LinkError::Timeout)));
                }
            }
            out.push(Action::Close(CloseReason::Failed(format!(
                "OpenClaw's gateway did not answer {} in {} s",
                methods.join(", "),
                self.cfg.request_timeout.as_secs()
            ))));
            return out;
        }
        if self.tick_deadline().is_some_and(|d| now >= d) {
            out.push(Action::Close(CloseReason::Failed(
                "OpenClaw's gateway stopped sending its heartbeat (two ticks missed)".into(),
            )));
        }
        out
    }

    fn request(
        &mut self,
        method: &'static str,
        params: Value,
        purpose: Purpose<T>,
        now: Instant,
    ) -> Action<T> {
        let id = format!("reins-{}", self.next_id);
        self.next_id += 1;
        let frame = Frame::Req {
            id: id.clone(),
            method: method.to_owned(),
            params,
        };
        self.pending.insert(
            id,
            Pending {
                purpose,
                method,
                deadline: now + self.cfg.request_timeout,
            },
        );
        Action::Send(frame.to_text())
    }

    fn status_up(&self) -> LinkStatus {
        let hello = self.hello.as_ref();
        LinkStatus::Up {
            url: self.cfg.url.clone(),
            protocol: hello.map(|h| h.protocol).unwrap_or_default(),
            server_version: hello.and_then(|h| h.server_version.clone()),
            approver: self.approver,
            pending: self.approvals.len(),
        }
    }

    fn start_sync(&mut self, now: Instant, out: &mut Vec<Action<T>>) {
        if !self.approver {
            self.approvals.clear();
            self.finish_up(Vec::new(), out);
            return;
        }
        self.phase = Phase::Syncing;
        self.sync = Some(Sync {
            lists_left: 2,
            ..Sync::default()
        });
        out.push(self.request(
            "exec.approval.list",
            json!({}),
            Purpose::List(ApprovalKind::Exec),
            now,
        ));
        out.push(self.request(
            "plugin.approval.list",
            json!({}),
            Purpose::List(ApprovalKind::Plugin),
            now,
        ));
    }

    fn finish_up(&mut self, snapshot: Vec<GatewayApproval>, out: &mut Vec<Action<T>>) {
        self.approvals = snapshot
            .iter()
            .map(|a| ((a.kind, a.id.clone()), a.clone()))
            .collect();
        self.phase = Phase::Up;
        self.shown = true;
        out.push(Action::Emit(LinkEvent::Snapshot(snapshot)));
        out.push(Action::Emit(LinkEvent::Status(self.status_up())));
    }

    /// A text frame arrived.
    pub fn on_text(&mut self, text: &str, now: Instant) -> Vec<Action<T>> {
        self.last_frame = Some(now);
        let mut out = Vec::new();
        let frame = match Frame::parse(text, self.max_frame()) {
            Ok(f) => f,
            Err(e) => {
                out.push(Action::Warn(e.to_string()));
                return out;
            }
        };
        match frame {
            Frame::Event {
                event,
                payload,
                seq,
            } => self.on_event(&event, &payload, seq, now, &mut out),
            Frame::Res { id, result } => self.on_res(&id, result, now, &mut out),
            Frame::Req { method, .. } => out.push(Action::Warn(format!(
                "OpenClaw's gateway sent a request ({}); ignored",
                method.chars().take(80).collect::<String>()
            ))),
        }
        out
    }

    fn on_event(
        &mut self,
        event: &str,
        payload: &Value,
        seq: Option<u64>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        if self.phase == Phase::AwaitChallenge {
            if event != "connect.challenge" {
                return;
            }
            match Challenge::from_payload(payload) {
                Ok(ch) => {
                    self.challenge_deadline = None;
                    let params = wire::connect_params(
                        &self.identity,
                        &ch,
                        &self.cfg.token,
                        &self.cfg.version,
                        &self.cfg.display_name,
                        self.approver,
                    );
                    let params = serde_json::to_value(&params).unwrap_or(Value::Null);
                    self.phase = Phase::AwaitHello;
                    out.push(self.request("connect", params, Purpose::Connect, now));
                }
                Err(e) => out.push(Action::Close(CloseReason::Failed(e.to_string()))),
            }
            return;
        }
        if !matches!(self.phase, Phase::Syncing | Phase::Up) {
            return;
        }
        if let Some(seq) = seq {
            let gap = self.last_seq.is_some_and(|last| seq > last + 1);
            self.last_seq = Some(seq);
            if gap && self.phase == Phase::Up && self.approver {
                out.push(Action::Warn(
                    "missed events from OpenClaw's gateway; fetching its approvals again".into(),
                ));
                self.start_sync(now, out);
            }
        }
        if event == "tick" {
            self.saw_tick = true;
            return;
        }
        let Some((kind, requested)) = wire::approval_event(event) else {
            return;
        };
        if requested {
            if !self.approver {
                return;
            }
            match wire::parse_approval(kind, payload) {
                Ok(a) => self.on_requested(a, out),
                Err(e) => out.push(Action::Warn(e.to_string())),
            }
        } else {
            match wire::parse_resolved(kind, payload) {
                Ok(r) => {
                    let key = (r.kind, r.id.clone());
                    if let Some(sync) = self.sync.as_mut() {
                        sync.working.remove(&key);
                        sync.resolved.insert(key.clone());
                    }
                    let was_shown = self.approvals.remove(&key).is_some();
                    if self.phase == Phase::Up {
                        out.push(Action::Emit(LinkEvent::Resolved(r)));
                        if was_shown {
                            out.push(Action::Emit(LinkEvent::Status(self.status_up())));
                        }
                    }
                }
                Err(e) => out.push(Action::Warn(e.to_string())),
            }
        }
    }

    fn on_requested(&mut self, a: GatewayApproval, out: &mut Vec<Action<T>>) {
        let key = (a.kind, a.id.clone());
        if let Some(sync) = self.sync.as_mut() {
            sync.resolved.remove(&key);
            sync.working.insert(key, a);
            return;
        }
        if self.phase != Phase::Up || self.approvals.contains_key(&key) {
            return;
        }
        self.approvals.insert(key, a.clone());
        out.push(Action::Emit(LinkEvent::Requested(a)));
        out.push(Action::Emit(LinkEvent::Status(self.status_up())));
    }

    fn on_res(
        &mut self,
        id: &str,
        result: Result<Value, ErrorShape>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        let Some(p) = self.pending.remove(id) else {
            out.push(Action::Warn(format!(
                "OpenClaw's gateway answered an unknown request ({}); ignored",
                id.chars().take(80).collect::<String>()
            )));
            return;
        };
        match p.purpose {
            Purpose::Connect => self.on_hello(result, now, out),
            Purpose::List(kind) => self.on_list(kind, result, out),
            Purpose::User { call, reply } => {
                out.push(Action::Reply(reply, calls::reply_for(&call, result)))
            }
        }
    }

    fn on_hello(
        &mut self,
        result: Result<Value, ErrorShape>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        let payload = match result {
            Ok(p) => p,
            // A gateway that accepts sockets before its startup sidecars
            // are ready answers `connect` with a retryable UNAVAILABLE
            // ("gateway starting; retry shortly", OpenClaw 2026.9.6): that
            // is a failure to retry soon, not a refusal for a person.
            Err(e) if e.code == "UNAVAILABLE" => {
                let msg: String = e.message.chars().take(200).collect();
                out.push(Action::Close(CloseReason::Failed(format!(
                    "OpenClaw's gateway is not ready: {msg}"
                ))));
                return;
            }
            Err(e) => {
                out.push(Action::Close(CloseReason::Refused(calls::refusal_text(&e))));
                return;
            }
        };
        let hello = match HelloOk::from_payload(&payload) {
            Ok(h) => h,
            Err(e) => {
                out.push(Action::Close(CloseReason::Failed(e.to_string())));
                return;
            }
        };
        if !(wire::MIN_PROTOCOL..=wire::MAX_PROTOCOL).contains(&hello.protocol) {
            out.push(Action::Close(CloseReason::Refused(format!(
                "OpenClaw's gateway chose protocol {}, which Reins does not speak ({}–{}); update Reins or OpenClaw",
                hello.protocol,
                wire::MIN_PROTOCOL,
                wire::MAX_PROTOCOL
            ))));
            return;
        }
        if self.approver
            && !hello.granted_scopes.is_empty()
            && !hello.granted_scopes.iter().any(|s| s == "operator.admin")
        {
            out.push(Action::Warn(
                "OpenClaw did not grant Reins operator.admin: approvals raised by agents and chat channels will not reach Reins; approve Reins' device scopes in OpenClaw".into(),
            ));
        }
        self.hello = Some(hello);
        self.start_sync(now, out);
    }

    fn on_list(
        &mut self,
        kind: ApprovalKind,
        result: Result<Value, ErrorShape>,
        out: &mut Vec<Action<T>>,
    ) {
        let Some(sync) = self.sync.as_mut() else {
            return;
        };
        match result.map_err(|e| format!("{}: {}", e.code, e.message)).and_then(|p| {
            wire::parse_approval_list(kind, &p).map_err(|e| e.to_string())
        }) {
            Ok((good, bad)) => {
                for a in good {
                    let key = (a.kind, a.id.clone());
                    if !sync.resolved.contains(&key) {
                        sync.working.entry(key).or_insert(a);
                    }
                }
                for e in bad {
                    out.push(Action::Warn(e.to_string()));
                }
            }
            Err(e) => out.push(Action::Warn(format!(
                "OpenClaw's {}.approval.list failed ({e}); its pending approvals are not shown until the next reconnect",
                kind.as_str()
            ))),
        }
        sync.lists_left = sync.lists_left.saturating_sub(1);
        if sync.lists_left == 0 {
            let sync = self.sync.take().unwrap_or_default();
            let mut snapshot: Vec<_> = sync.working.into_values().collect();
            snapshot.sort_by_key(|a| a.created_at_ms);
            self.finish_up(snapshot, out);
        }
    }

    /// A caller's request.
    pub fn call(&mut self, call: Call, reply: T, now: Instant) -> Vec<Action<T>> {
        if !matches!(self.phase, Phase::Syncing | Phase::Up) {
            let state = match self.phase {
                Phase::Idle => "not connected",
                _ => "still connecting",
            };
            return vec![Action::Reply(
                reply,
                Err(LinkError::NotConnected(format!(
                    "{}: {state}",
                    self.cfg.url
                ))),
            )];
        }
        if let Call::Resolve { kind, id, decision } = &call {
            if let Some(err) = self.offered_check(*kind, id, *decision) {
                return vec![Action::Reply(reply, Err(err))];
            }
        }
        let has_generic = self
            .hello
            .as_ref()
            .is_some_and(|h| h.methods.iter().any(|m| m == "approval.resolve"));
        let (method, params) = call.request(has_generic);
        vec![self.request(method, params, Purpose::User { call, reply }, now)]
    }

    /// A decision OpenClaw does not offer for this approval is refused here:
    /// OpenClaw would record it as a deny.
    fn offered_check(
        &self,
        kind: ApprovalKind,
        id: &str,
        decision: GatewayDecision,
    ) -> Option<LinkError> {
        let a = self.approvals.get(&(kind, id.to_owned()))?;
        if a.allowed_decisions.is_empty() || a.allowed_decisions.contains(&decision) {
            return None;
        }
        let offered: Vec<&str> = a.allowed_decisions.iter().map(|d| d.as_str()).collect();
        Some(LinkError::Gateway {
            code: "DECISION_NOT_OFFERED".into(),
            message: format!(
                "OpenClaw does not offer '{}' for this approval (offered: {}); nothing was sent",
                decision.as_str(),
                offered.join(", ")
            ),
        })
    }
}

#[cfg(test)]
#[path = "machine/tests.rs"]
mod tests;
