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
//! - Approval requests/resolutions and agent events go to every phone. On
//!   every (re)connection of the desktop and after a pairing, every phone
//!   gets a full agent snapshot, every pending unexpired request and a
//!   heartbeat; so does a phone that sends `presence {online: true}` (it
//!   reconnected, and may have missed messages: the session is clean).
//!
//! Nothing here is needed by the local surfaces: if the link is down, the
//! CLI and hooks work the same. Not here: the link itself (`reins-link`),
//! start-up ([`crate::phone`]) and the IPC side (`daemon_phone`).

use crate::daemon::{DaemonSettings, Dispatcher, HaltRun};
use crate::ipc::proto::{ErrorCode, IpcError};
use crate::phone::{BridgeInputs, PhoneState};
use base64::Engine as _;
use reins_approval::broker::{ActionHash, ApprovalRequest, RequestId, Resolution};
use reins_approval::{BrokerEvent, Decision, RejectReason};
use reins_core::{Actor, AgentId, AgentRecord, AgentState, HaltOp, RegistryEvent};
use reins_link::{DeviceId, LinkEvent, LinkHandle, Recipient};
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
}

impl Bridge {
    async fn run(mut self, inputs: BridgeInputs, shutdown: CancellationToken) {
        let BridgeInputs {
            mut events,
            mut resync,
        } = inputs;
        let mut approvals = self.d.approvals.subscribe();
        let mut registry = self.d.registry.subscribe();
        let mut status = self.link.status();
        let mut connects = 0;
        let mut heartbeat = tokio::time::interval(Duration::from_secs(HEARTBEAT_INTERVAL_S.into()));
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut approvals_open, mut registry_open) = (true, true);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                ev = events.recv() => match ev {
                    // A phone that (re)connected says so: bring it up to date.
                    Some(LinkEvent::FromPhone { device_id, payload: Payload::Presence(p::Presence { online: true }), .. }) => {
                        self.resync_to(Recipient::Device(device_id)).await;
                    }
                    Some(ev) => self.phone_message(ev),
                    None => break,
                },
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
                changed = status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let s = status.borrow_and_update().clone();
                    if s.is_ready() && s.connects > connects {
                        connects = s.connects;
                        self.resync().await;
                    }
                }
                Some(()) = resync.recv() => self.resync().await,
                _ = heartbeat.tick() => {
                    if self.ready() {
                        self.send_all(heartbeat_payload()).await;
                    }
                }
            }
        }
    }

    fn ready(&self) -> bool {
        self.link.status().borrow().is_ready()
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

    /// Snapshot, every pending unexpired request, heartbeat: to `to`.
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
        if !self.ready() {
            return;
        }
        let agents = self.d.registry.snapshot().await;
        let snapshot = p::AgentSnapshot {
            agents: agents.iter().map(agent_summary).collect(),
        };
        let mut out = vec![Payload::AgentSnapshot(snapshot)];
        out.extend(self.pending.values().cloned().map(Payload::ApprovalRequest));
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
                if self.ready() {
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
                if self.ready() {
                    let body = approval_resolved(&request_id, &r.action_hash, &resolution);
                    self.send_all(Payload::ApprovalResolved(body)).await;
                }
            }
        }
    }

    async fn agent_event(&self, ev: RegistryEvent) {
        if !self.ready() {
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
                    if let Some(reply) = decision(&d, device_id, &dec).await {
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

/// The ack for a finished (or refused) command.
pub(crate) fn command_ack(
    cmd: &p::Command,
    msg_id: [u8; 16],
    received: Instant,
    result: Result<HaltRun, IpcError>,
) -> p::CommandAck {
    let mut ack = p::CommandAck {
        command_msg_id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(msg_id),
        op: cmd.op,
        target: cmd.target.clone(),
        outcome: p::AckOutcome::Failed,
        processes: 0,
        frozen_after_us: None,
        gone_after_us: None,
        detail: None,
    };
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            ack.outcome = match e.code {
                ErrorCode::NoSuchAgent | ErrorCode::BadRequest => p::AckOutcome::NoSuchAgent,
                ErrorCode::Refused => p::AckOutcome::Refused,
                _ => p::AckOutcome::Failed,
            };
            ack.detail = Some(e.message);
            return ack;
        }
    };
    let lead = run.started.saturating_duration_since(received).as_micros() as u64;
    let reports: Vec<_> = run.outcome.targets.iter().map(|t| &t.report).collect();
    let total: usize = reports.iter().map(|r| r.processes.len()).sum();
    let failed: usize = reports.iter().map(|r| r.failures().count()).sum();
    ack.processes = u32::try_from(total).unwrap_or(u32::MAX);
    ack.outcome = if run.outcome.success() {
        p::AckOutcome::Done
    } else if failed < total {
        p::AckOutcome::Partial
    } else {
        p::AckOutcome::Failed
    };
    // "Every process": the slowest tree, and only if every tree got there.
    let slowest = |f: fn(&reins_core::HaltReport) -> Option<u64>| {
        reports
            .iter()
            .map(|r| f(r))
            .try_fold(0u64, |m, v| v.map(|v| m.max(v)))
            .map(|m| m + lead)
    };
    ack.frozen_after_us = slowest(|r| r.frozen_after_us);
    if cmd.op == p::CommandOp::Stop {
        ack.gone_after_us = slowest(|r| r.gone_after_us);
    }
    if ack.outcome != p::AckOutcome::Done {
        let survivors: Vec<String> = reports
            .iter()
            .flat_map(|r| r.failures())
            .map(|f| format!("pid {} ({}): {:?}", f.process.pid, f.comm, f.fate))
            .collect();
        ack.detail = Some(survivors.join("; "));
    }
    ack
}

/// Hands a phone's decision to the broker. Returns what to tell that phone
/// when the broker refused it because it came too late.
async fn decision(
    d: &Dispatcher,
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
    let decision = match dec.decision {
        p::Decision::Allow => Decision::Allow,
        p::Decision::Deny => Decision::Deny { message: None },
    };
    let by = Actor::Phone {
        device_id: device.to_string(),
    };
    match d.approvals.decide(id, hash, decision, by).await {
        Ok(()) => None,
        Err(RejectReason::AlreadyResolved { resolution }) => {
            Some(approval_resolved(&id, &dec.action_hash, &resolution))
        }
        Err(RejectReason::Expired) => Some(p::ApprovalResolved {
            request_id: id.to_hex(),
            action_hash: dec.action_hash.clone(),
            resolution: p::Resolution::Expired,
            by: None,
        }),
        Err(r) => {
            tracing::info!(device = %device, reason = %r, "a phone decision was refused");
            None
        }
    }
}

/// The protocol's view of a pending request: the exact action text and its hash.
pub(crate) fn approval_request(r: &ApprovalRequest) -> p::ApprovalRequest {
    p::ApprovalRequest {
        request_id: r.request_id.to_hex(),
        agent_id: r
            .agent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| r.kind.slug().to_owned()),
        session_id: r.session_id.clone(),
        tool: r.tool_name.clone(),
        action: r.action.clone(),
        action_hash: r.action_hash.to_hex(),
        cwd: r.cwd.clone(),
        expires_at_ms: r.expires_at,
    }
}

fn actor_name(a: &Actor) -> Option<String> {
    match a {
        Actor::Cli { .. } => Some("cli".into()),
        Actor::Tray => Some("tray".into()),
        Actor::Phone { device_id } => Some(device_id.clone()),
        Actor::Daemon => None,
    }
}

pub(crate) fn approval_resolved(
    id: &RequestId,
    hash: &str,
    resolution: &Resolution,
) -> p::ApprovalResolved {
    let (resolution, by) = match resolution {
        Resolution::Decided { decision, by, .. } => (
            if decision.is_allow() {
                p::Resolution::Allowed
            } else {
                p::Resolution::Denied
            },
            actor_name(by),
        ),
        Resolution::SessionGrant { by, .. } => (p::Resolution::Allowed, actor_name(by)),
        Resolution::Expired { .. } => (p::Resolution::Expired, None),
        Resolution::Withdrawn { .. } | Resolution::RateLimited { .. } => {
            (p::Resolution::Abstained, None)
        }
    };
    p::ApprovalResolved {
        request_id: id.to_hex(),
        action_hash: hash.to_owned(),
        resolution,
        by,
    }
}

/// The phone's projection of an agent record.
pub(crate) fn agent_summary(a: &AgentRecord) -> p::AgentSummary {
    p::AgentSummary {
        id: a.id.to_string(),
        kind: a.kind.slug().to_owned(),
        display_name: a.display_name.clone(),
        pid: a.pid,
        project: a.project.clone(),
        cwd: a.cwd.as_ref().map(|c| c.display().to_string()),
        started_at: a.started_at,
        cpu_percent: a.cpu_percent,
        memory_bytes: a.memory_bytes,
        descendants: a.descendants,
        state: match a.state {
            AgentState::Running => p::AgentStatus::Running,
            AgentState::Paused => p::AgentStatus::Paused,
            AgentState::Stopping => p::AgentStatus::Stopping,
            AgentState::Exited => p::AgentStatus::Exited,
        },
    }
}
