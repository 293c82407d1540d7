//! The phone bridge: the one task that owns the link's event stream and
//! turns it into daemon actions, and daemon events into sealed messages.
//!
//! - `command` (stop/pause/resume, one agent or all) runs through
//!   [`Dispatcher::halt_for`], the same path as a local `reins stop`, as
//!   `Actor::Phone`; the phone gets a `command_ack` with the outcome and
//!   timings once the halt is verified ("you are told once it is dead").
//! - `approval_decision` goes to the approvals broker as `Actor::Phone`. An
//!   accepted decision is acknowledged by the `approval_resolved` that goes
//!   to every phone; a late one gets the real resolution back; a forged or
//!   mismatched one (wrong hash, unknown id) gets nothing and changes nothing
//!   (the broker audits the refusal).
//! - Alerts (`crate::alerts`) go to every phone as `alert`/`alert_cleared`,
//!   and the active ones (with the audit log's problem, if any, as an
//!   `audit_failing` alert) follow the snapshot of every resync; `release` and
//!   `stop_supervisor` commands run through [`crate::phone_alerts`]. A
//!   stop's recheck goes to every phone as `stop_rechecked` (which daemon
//!   events phones get: [`crate::phone_events`]).
//! - Approval requests/resolutions and agent events go to every phone. On
//!   every (re)connection of the desktop and after a pairing, every phone
//!   gets a full agent snapshot, every pending unexpired request and a
//!   heartbeat; so does a phone that sends `presence {online: true}` (it
//!   paired or reconnected and is subscribed again, and may have missed
//!   messages: the session is clean).
//! - Sending needs the link *connected*, nothing more: our own
//!   subscriptions being acknowledged (a pairing just added a topic) has
//!   nothing to do with the phones receiving. A resync asked for while
//!   disconnected is owed, and runs on the next connection ([`Gate`]).
//!
//! - Every authenticated message marks its phone online, as a surface that
//!   can show prompts ([`crate::phone_presence`] has the rule); so does
//!   going stale or saying `presence {online: false}` mark it offline, and
//!   no phone counts while the link itself is down.
//!
//! Nothing here is needed by the local surfaces: if the link is down, the
//! CLI and hooks work the same. Not here: the link itself (`reins-link`),
//! start-up ([`crate::phone`]), the IPC side (`daemon_phone`) and the
//! mapping of daemon types to protocol bodies ([`crate::phone_wire`]).

use crate::daemon::{DaemonSettings, Dispatcher};
use crate::ipc::proto::{ErrorCode, IpcError};
use crate::phone::{BridgeInputs, PhoneState};
use crate::phone_wire::{
    agent_summary, approval_request, approval_resolved, by_name, command_ack, decided_by,
    decision_of,
};
use crate::surfaces::SurfaceKind;
use reins_approval::broker::{ActionHash, RequestId, Resolution};
use reins_approval::{BrokerEvent, RejectReason};
use reins_core::{Actor, AgentId, HaltOp, RegistryEvent};
use reins_link::{ConnState, DeviceId, LinkEvent, LinkHandle, LinkStatus, Recipient};
use reins_proto::Payload;
use reins_proto::payload as p;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Seconds between heartbeats, as the protocol suggests: a phone may show
/// the desktop offline after three missed ones (90 s).
pub const HEARTBEAT_INTERVAL_S: u32 = 30;

/// How often silent phones are checked for staleness.
const STALE_CHECK: Duration = Duration::from_secs(5);

/// Starts the link if the config enables it. Never fails the daemon: a link
/// that cannot start is logged loudly and reported by `reins status`.
pub(crate) async fn start(
    settings: &DaemonSettings,
    page: Option<&crate::web::Page>,
) -> (PhoneState, Option<BridgeInputs>) {
    let cfg = &settings.config.link;
    if !cfg.enabled {
        return (PhoneState::Disabled, None);
    }
    let app_url = settings.config.phone.app_url.as_deref();
    match crate::phone::start(cfg, &settings.paths.data_dir, page, app_url).await {
        Ok((phone, inputs)) => {
            tracing::info!(broker = %phone.broker_url, "phone link started");
            (PhoneState::Running(phone), Some(inputs))
        }
        Err(e) => {
            let msg = format!("the phone link did not start: {e}. Local control works as usual");
            tracing::error!("{msg}");
            eprintln!("reins: {msg}");
            (PhoneState::Failed(e.to_string()), None)
        }
    }
}

/// Spawns the bridge task.
pub(crate) fn spawn(
    d: Arc<Dispatcher>,
    inputs: BridgeInputs,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) {
    let Some(link) = d.phone.running().map(|p| p.link.clone()) else {
        return;
    };
    let bridge = Bridge {
        d,
        link,
        pending: BTreeMap::new(),
        tracker: tracker.clone(),
        gate: Gate::default(),
        link_up: false,
    };
    tracker.spawn(bridge.run(inputs, shutdown));
}

struct Bridge {
    d: Arc<Dispatcher>,
    link: LinkHandle,
    /// Requests shown to phones and not yet resolved, for re-sends and for
    /// the hash that `approval_resolved` carries.
    pending: BTreeMap<RequestId, p::ApprovalRequest>,
    tracker: TaskTracker,
    gate: Gate,
    /// The link was connected at the last status change.
    link_up: bool,
}

/// When the bridge may publish, and whether a resync is owed. Pure: it is
/// told the link's status and answers.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    /// The link's connection count at the last resync it triggered.
    connects: u64,
    /// A resync was asked for while nothing could be sent.
    resync_due: bool,
}

impl Gate {
    /// Publishing needs a connection. It does not need our subscriptions
    /// acknowledged: a pending SUBACK (a pairing just added a topic, or
    /// `reins pair` opened one) says nothing about the phones' side.
    pub(crate) fn may_send(s: &LinkStatus) -> bool {
        s.state == ConnState::Connected
    }

    /// A resync is asked for: true to run it now; otherwise it is owed to
    /// the next connection.
    pub(crate) fn ask_resync(&mut self, s: &LinkStatus) -> bool {
        let now = Self::may_send(s);
        self.resync_due |= !now;
        now
    }

    /// The status changed: true when a resync must run now, because this
    /// is a new connection or one was owed.
    pub(crate) fn on_status(&mut self, s: &LinkStatus) -> bool {
        if !Self::may_send(s) {
            return false;
        }
        let new = s.connects > self.connects;
        self.connects = s.connects;
        std::mem::take(&mut self.resync_due) || new
    }
}

impl Bridge {
    async fn run(mut self, inputs: BridgeInputs, shutdown: CancellationToken) {
        let BridgeInputs {
            mut events,
            mut resync,
        } = inputs;
        let mut approvals = self.d.approvals.subscribe();
        let mut registry = self.d.registry.subscribe();
        let mut daemon = self.d.events.subscribe();
        let mut status = self.link.status();
        let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_INTERVAL_S.into()));
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stale = tokio::time::interval(STALE_CHECK);
        stale.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut approvals_open, mut registry_open, mut daemon_open) = (true, true, true);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                ev = events.recv() => {
                    let Some(ev) = ev else { break };
                    if let LinkEvent::FromPhone { device_id, payload, .. } = &ev {
                        let online = !matches!(payload, Payload::Presence(p::Presence { online: false }));
                        self.heard(*device_id, online).await;
                    }
                    match ev {
                        // A phone that (re)connected says so: bring it up to date.
                        LinkEvent::FromPhone { device_id, payload: Payload::Presence(p::Presence { online: true }), .. } => {
                            self.resync_to(Recipient::Device(device_id)).await;
                        }
                        ev => self.phone_message(ev),
                    }
                }
                ev = approvals.recv(), if approvals_open => match ev {
                    Ok(ev) => self.approval_event(ev).await,
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => approvals_open = false,
                },
                ev = registry.recv(), if registry_open => match ev {
                    Ok(ev) => self.agent_event(ev).await,
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => registry_open = false,
                },
                ev = daemon.recv(), if daemon_open => match ev {
                    Ok(ev) => {
                        if let Some(payload) = crate::phone_events::for_phones(&ev).filter(|_| self.may_send()) {
                            self.send_all(payload).await;
                        }
                    }
                    Err(RecvError::Lagged(_)) => self.resync().await,
                    Err(RecvError::Closed) => daemon_open = false,
                },
                changed = status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let s = status.borrow_and_update().clone();
                    if Gate::may_send(&s) != self.link_up {
                        self.link_up = Gate::may_send(&s);
                        self.mirror_presence().await;
                    }
                    if self.gate.on_status(&s) {
                        self.resync().await;
                    }
                }
                _ = stale.tick() => {
                    if !self.d.phones.expire(self.d.clock.now_ms()).is_empty() {
                        self.mirror_presence().await;
                    }
                }
                Some(()) = resync.recv() => self.resync().await,
                _ = heartbeat.tick() => {
                    if self.may_send() {
                        self.send_all(heartbeat_payload()).await;
                    }
                }
            }
        }
    }

    /// An authenticated message from `device` (`online` false only for
    /// `presence {online: false}`).
    async fn heard(&mut self, device: DeviceId, online: bool) {
        let now = self.d.clock.now_ms();
        if self.d.phones.heard(&device.to_string(), now, online) {
            self.mirror_presence().await;
        }
    }

    /// Make the phone surfaces match presence: a phone counts while it is
    /// online and the link is up.
    async fn mirror_presence(&self) {
        let Ok(devices) = self.link.devices().await else {
            return;
        };
        for dev in devices {
            let live = self.link_up && self.d.phones.get(&dev.id).1;
            self.d
                .surfaces
                .set(SurfaceKind::Phone, &dev.id, live.then_some(dev.name));
        }
    }

    fn may_send(&self) -> bool {
        Gate::may_send(&self.link.status().borrow())
    }

    async fn send_all(&self, payload: Payload) {
        if let Err(e) = self.link.send(Recipient::All, payload).await {
            tracing::debug!(error = %e, "nothing sent to phones");
        }
    }

    /// Snapshot, every pending unexpired request, heartbeat: to every phone.
    async fn resync(&mut self) {
        self.resync_to(Recipient::All).await;
    }

    /// Snapshot, every pending unexpired request, heartbeat: to `to`. If
    /// nothing can be sent now, every phone gets one on the next connection.
    async fn resync_to(&mut self, to: Recipient) {
        let now = self.d.clock.now_ms();
        self.pending = self
            .d
            .approvals
            .pending()
            .await
            .iter()
            .filter(|r| r.expires_at > now)
            .map(|r| (r.request_id, approval_request(r)))
            .collect();
        let status = self.link.status().borrow().clone();
        if !self.gate.ask_resync(&status) {
            return;
        }
        let agents = self.d.registry.snapshot().await;
        let snapshot = p::AgentSnapshot {
            agents: agents.iter().map(agent_summary).collect(),
        };
        let mut out = vec![Payload::AgentSnapshot(snapshot)];
        out.extend(self.pending.values().cloned().map(Payload::ApprovalRequest));
        out.extend(
            self.d
                .alerts
                .active()
                .iter()
                .map(|a| Payload::Alert(crate::phone_alerts::alert_body(a))),
        );
        if let Some((id, problem)) = self.d.alerts.audit() {
            out.push(Payload::Alert(crate::phone_alerts::audit_alert_body(
                id, &problem,
            )));
        }
        out.push(heartbeat_payload());
        for payload in out {
            if let Err(e) = self.link.send(to, payload).await {
                tracing::debug!(error = %e, "resync not sent");
                return;
            }
        }
    }

    async fn approval_event(&mut self, ev: BrokerEvent) {
        match ev {
            BrokerEvent::Requested { request } => {
                let r = approval_request(&request);
                self.pending.insert(request.request_id, r.clone());
                // Offline: it is re-sent on reconnect if still pending.
                if self.may_send() {
                    self.send_all(Payload::ApprovalRequest(r)).await;
                }
            }
            BrokerEvent::Resolved {
                request_id,
                resolution,
            } => {
                let Some(r) = self.pending.remove(&request_id) else {
                    return;
                };
                if self.may_send() {
                    let name = resolver_name(&self.link, &resolution).await;
                    let body = approval_resolved(&request_id, &r.action_hash, &resolution, name);
                    self.send_all(Payload::ApprovalResolved(body)).await;
                }
            }
        }
    }

    async fn agent_event(&self, ev: RegistryEvent) {
        if !self.may_send() {
            return;
        }
        let body = match ev {
            RegistryEvent::Appeared { agent } => p::AgentEvent::Appeared {
                agent: agent_summary(&agent),
            },
            RegistryEvent::Changed { agent } => p::AgentEvent::Changed {
                agent: agent_summary(&agent),
            },
            RegistryEvent::Exited { id } => p::AgentEvent::Exited { id: id.to_string() },
        };
        self.send_all(Payload::AgentEvent(body)).await;
    }

    /// Work for one phone message runs on its own task, so a stop waiting
    /// out its grace period never delays the next message.
    fn phone_message(&self, ev: LinkEvent) {
        let LinkEvent::FromPhone {
            device_id,
            payload,
            msg_id,
        } = ev
        else {
            return;
        };
        let received = Instant::now();
        let (d, link) = (self.d.clone(), self.link.clone());
        match payload {
            Payload::Command(cmd) => {
                self.tracker.spawn(async move {
                    let ack = command(&d, device_id, &cmd, msg_id, received).await;
                    if let Err(e) = link
                        .send(Recipient::Device(device_id), Payload::CommandAck(ack))
                        .await
                    {
                        tracing::warn!(device = %device_id, error = %e, "could not acknowledge a phone command");
                    }
                });
            }
            Payload::ApprovalDecision(dec) => {
                self.tracker.spawn(async move {
                    if let Some(reply) = decision(&d, &link, device_id, &dec).await {
                        let _ = link
                            .send(
                                Recipient::Device(device_id),
                                Payload::ApprovalResolved(reply),
                            )
                            .await;
                    }
                });
            }
            other => {
                tracing::debug!(device = %device_id, kind = ?other.kind(), "phone message needs no action")
            }
        }
    }
}

fn heartbeat_payload() -> Payload {
    Payload::Heartbeat(p::Heartbeat {
        interval_s: HEARTBEAT_INTERVAL_S,
    })
}

/// Runs a phone's command and says how it went.
async fn command(
    d: &Dispatcher,
    device: DeviceId,
    cmd: &p::Command,
    msg_id: [u8; 16],
    received: Instant,
) -> p::CommandAck {
    let op = match cmd.op {
        p::CommandOp::Stop => HaltOp::Stop,
        p::CommandOp::Pause => HaltOp::Pause,
        p::CommandOp::Resume => HaltOp::Resume,
        p::CommandOp::Release | p::CommandOp::StopSupervisor => {
            return crate::phone_alerts::latch_command(d, device, cmd, msg_id, received).await;
        }
    };
    let target = match &cmd.target {
        p::Target::All => Ok("all".to_owned()),
        // A phone names agents by id only, never a bare PID.
        p::Target::Agent(id) => {
            id.parse::<AgentId>()
                .map(|a| a.to_string())
                .map_err(|e| IpcError {
                    code: ErrorCode::NoSuchAgent,
                    message: e.to_string(),
                    agents: Vec::new(),
                })
        }
    };
    let actor = Actor::Phone {
        device_id: device.to_string(),
    };
    let result = match target {
        Ok(t) => d.halt_for(op, &t, false, actor, None).await,
        Err(e) => Err(e),
    };
    command_ack(cmd, msg_id, received, result)
}

/// Hands a phone's decision to the broker. Returns what to tell that phone
/// when the broker refused it because it came too late.
async fn decision(
    d: &Dispatcher,
    link: &LinkHandle,
    device: DeviceId,
    dec: &p::ApprovalDecision,
) -> Option<p::ApprovalResolved> {
    let (Ok(id), Ok(hash)) = (
        dec.request_id.parse::<RequestId>(),
        dec.action_hash.parse::<ActionHash>(),
    ) else {
        tracing::info!(device = %device, "a phone decision named no valid request; ignored");
        return None;
    };
    let decision = decision_of(dec);
    let by = Actor::Phone {
        device_id: device.to_string(),
    };
    match d.approvals.decide(id, hash, decision, by).await {
        Ok(()) => None,
        Err(RejectReason::AlreadyResolved { resolution }) => {
            let name = resolver_name(link, &resolution).await;
            Some(approval_resolved(&id, &dec.action_hash, &resolution, name))
        }
        Err(RejectReason::Expired) => Some(p::ApprovalResolved {
            request_id: id.to_hex(),
            action_hash: dec.action_hash.clone(),
            resolution: p::Resolution::Expired,
            by: None,
            by_name: None,
        }),
        Err(r) => {
            tracing::info!(device = %device, reason = %r, "a phone decision was refused");
            None
        }
    }
}

/// The `by_name` of whoever ended a request: a phone's name comes from the
/// device store (one look-up, only when a phone decided).
async fn resolver_name(link: &LinkHandle, resolution: &Resolution) -> Option<String> {
    let by = decided_by(resolution)?;
    let phone_name = match by {
        Actor::Phone { device_id } => link
            .devices()
            .await
            .ok()
            .and_then(|ds| ds.into_iter().find(|d| &d.id == device_id))
            .map(|d| d.name),
        _ => None,
    };
    by_name(by, phone_name)
}

#[cfg(test)]
#[path = "phone_bridge_tests.rs"]
mod tests;
