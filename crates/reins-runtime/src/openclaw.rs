//! OpenClaw's gateway approvals in the daemon: the glue between the gateway
//! link (`reins-openclaw`) and the approvals task.
//!
//! - Finds the gateway (`reins_openclaw::discover`) and, while OpenClaw is
//!   not set up, looks again every [`REDISCOVER`]. `reins status` shows why
//!   there is no link.
//! - Every approval the gateway reports is shown as a request in the
//!   broker (`openclaw_requests`); a person's Allow or Deny is sent back as
//!   `allow-once` or `deny`. Nothing else is ever sent: a timeout, a
//!   withdrawal or Reins shutting down leaves the approval to OpenClaw's own
//!   timeout and `askFallback`.
//! - An approval that ends in OpenClaw (answered in its own clients, timed
//!   out, cancelled) is withdrawn everywhere. When the link drops, what Reins
//!   shows is withdrawn; the list fetched after the reconnect brings back
//!   what is still pending.
//! - Reins is an approver on the gateway only while a person can see Reins
//!   (some surface is live, with the same grace as hook prompts): otherwise
//!   OpenClaw would keep approvals pending for an approver nobody watches.
//!
//! Not here: the wire protocol (reins-openclaw) and what the broker allows.

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::daemon::Dispatcher;
use reins_approval::broker::{RequestId, WithdrawReason};
use reins_approval::{HookVerdict, Policy};
use reins_core::{Actor, AgentId, AgentKind};
use reins_openclaw::{
    ApprovalKind, GatewayApproval, GatewayDecision, LinkConfig, LinkEvent, LinkHandle, LinkStatus,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often to look for OpenClaw's config again while it is not set up:
/// reading one small file is cheap, and a user who just ran `openclaw
/// onboard` should not have to restart Reins.
const REDISCOVER: Duration = Duration::from_secs(30);

/// How long a call to the gateway may take. The gateway is on loopback and
/// answers in milliseconds; this only bounds a wedged one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `[openclaw]` in config.toml.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenClawConfig {
    /// Take part in OpenClaw's approvals through its gateway.
    pub enabled: bool,
}

impl Default for OpenClawConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// The gateway link as `reins status` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenClawStatus {
    /// `[openclaw] enabled`.
    pub enabled: bool,
    /// Why there is no link (OpenClaw not set up, no token, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The link, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkStatus>,
}

/// The daemon's handle on the OpenClaw side: its status and, once
/// connected, the link (for the soft stop).
#[derive(Clone, Debug, Default)]
pub struct OpenClaw {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    enabled: bool,
    problem: Option<String>,
    link: Option<LinkHandle>,
}

impl OpenClaw {
    /// The status for `reins status`.
    pub fn status(&self) -> OpenClawStatus {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        OpenClawStatus {
            enabled: i.enabled,
            problem: i.problem.clone(),
            link: i.link.as_ref().map(LinkHandle::status),
        }
    }

    /// The link, when there is one.
    pub fn link(&self) -> Option<LinkHandle> {
        let i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        i.link.clone()
    }

    fn set(&self, f: impl FnOnce(&mut Inner)) {
        let mut i = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut i);
    }
}

/// Start the OpenClaw side of the daemon (a no-op when disabled).
pub(crate) fn spawn(
    d: Arc<Dispatcher>,
    config: OpenClawConfig,
    policy: Policy,
    data_dir: PathBuf,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) {
    d.openclaw.set(|i| i.enabled = config.enabled);
    if !config.enabled {
        return;
    }
    let t = tracker.clone();
    tracker.spawn(async move {
        let env = reins_openclaw::discover::ProcessEnv;
        let target = loop {
            match reins_openclaw::discover::discover(&env) {
                Ok(target) => break target,
                Err(e) => {
                    d.openclaw.set(|i| i.problem = Some(e.to_string()));
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(REDISCOVER) => {}
                    }
                }
            }
        };
        let dir = data_dir.join("openclaw");
        let secrets = tokio::task::spawn_blocking(move || {
            let (secrets, backend) = reins_link::open_secret_store(&dir);
            if let Some(w) = backend.warning() {
                tracing::warn!("OpenClaw device key: {w}");
            }
            secrets
        })
        .await;
        let Ok(secrets) = secrets else { return };
        let approver = d.surfaces.any();
        let config = LinkConfig {
            target,
            display_name: "Reins".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            approver,
            request_timeout: REQUEST_TIMEOUT,
        };
        let port = config.target.port;
        let (link, events) = LinkHandle::spawn(config, secrets, shutdown.clone(), &t);
        d.openclaw.set(|i| {
            i.problem = None;
            i.link = Some(link.clone());
        });
        Glue::new(d, link, policy, t, port)
            .run(events, approver, shutdown)
            .await;
    });
}

type Key = (ApprovalKind, String);

struct Glue {
    d: Arc<Dispatcher>,
    link: LinkHandle,
    policy: Policy,
    tracker: TaskTracker,
    /// The gateway's port, to tell which detected OpenClaw process it is.
    port: u16,
    /// What Reins shows, by OpenClaw's id.
    shown: HashMap<Key, RequestId>,
    done_tx: mpsc::UnboundedSender<(Key, RequestId)>,
    done_rx: mpsc::UnboundedReceiver<(Key, RequestId)>,
}

impl Glue {
    fn new(
        d: Arc<Dispatcher>,
        link: LinkHandle,
        policy: Policy,
        tracker: TaskTracker,
        port: u16,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Glue {
            d,
            link,
            policy,
            tracker,
            port,
            shown: HashMap::new(),
            done_tx,
            done_rx,
        }
    }

    async fn run(
        mut self,
        mut events: mpsc::Receiver<LinkEvent>,
        mut approver: bool,
        shutdown: CancellationToken,
    ) {
        let mut surfaces = self.d.surfaces.watch();
        let mut lower_at: Option<tokio::time::Instant> = None;
        loop {
            let grace = async {
                match lower_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                ev = events.recv() => match ev {
                    Some(ev) => self.on_event(ev, approver).await,
                    None => return,
                },
                Some((key, id)) = self.done_rx.recv() => {
                    if self.shown.get(&key) == Some(&id) {
                        self.shown.remove(&key);
                    }
                }
                changed = surfaces.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let live = surfaces.borrow_and_update().any();
                    if live {
                        lower_at = None;
                        if !approver {
                            approver = true;
                            self.link.set_approver(true);
                        }
                    } else if approver && lower_at.is_none() {
                        let grace = crate::daemon_approvals::SURFACE_GRACE;
                        lower_at = Some(tokio::time::Instant::now() + grace);
                    }
                }
                _ = grace => {
                    lower_at = None;
                    approver = false;
                    self.link.set_approver(false);
                }
            }
        }
    }

    async fn on_event(&mut self, ev: LinkEvent, approver: bool) {
        match ev {
            LinkEvent::Status(s) => tracing::info!(?s, "OpenClaw gateway link"),
            LinkEvent::Snapshot(list) => {
                let keep: Vec<Key> = list.iter().map(|a| (a.kind, a.id.clone())).collect();
                let gone: Vec<(Key, RequestId)> = self
                    .shown
                    .iter()
                    .filter(|(k, _)| !keep.contains(k))
                    .map(|(k, id)| (k.clone(), *id))
                    .collect();
                for (key, id) in gone {
                    self.shown.remove(&key);
                    let why = WithdrawReason::AnsweredElsewhere;
                    self.d.approvals.withdraw_surely(id, why).await;
                }
                if approver {
                    for a in list {
                        self.show(a).await;
                    }
                }
            }
            LinkEvent::Requested(a) => {
                if approver {
                    self.show(a).await;
                }
            }
            LinkEvent::Resolved(r) => {
                if let Some(id) = self.shown.remove(&(r.kind, r.id)) {
                    let why = WithdrawReason::AnsweredElsewhere;
                    self.d.approvals.withdraw_surely(id, why).await;
                }
            }
            LinkEvent::Lost => {
                for (_, id) in self.shown.drain() {
                    let why = WithdrawReason::GatewayLost;
                    self.d.approvals.withdraw_surely(id, why).await;
                }
            }
        }
    }

    /// Show one approval and relay the person's answer when it comes.
    async fn show(&mut self, a: GatewayApproval) {
        let key = (a.kind, a.id.clone());
        if self.shown.contains_key(&key) {
            return;
        }
        let agent = self.gateway_agent().await;
        let now = self.d.clock.now_ms();
        let request = crate::openclaw_requests::request_of(&a, agent, &self.policy, now);
        let id = request.request_id;
        self.shown.insert(key.clone(), id);
        let (approvals, link, audit) = (
            self.d.approvals.clone(),
            self.link.clone(),
            self.d.audit.clone(),
        );
        let done = self.done_tx.clone();
        let tool = request.tool_name.clone();
        self.tracker.spawn(async move {
            let decision = match approvals.ask(request).await {
                HookVerdict::Allow => Some(GatewayDecision::AllowOnce),
                HookVerdict::Deny { .. } => Some(GatewayDecision::Deny),
                // Expired, withdrawn, shut down: OpenClaw's own rules apply.
                _ => None,
            };
            if let Some(decision) = decision {
                // OpenClaw counts a decision it did not offer as a denial:
                // never send one (an allow would silently become a deny).
                let offered =
                    a.allowed_decisions.is_empty() || a.allowed_decisions.contains(&decision);
                let sent = if offered {
                    link.resolve(a.kind, &a.id, decision).await
                } else {
                    Err(reins_openclaw::LinkError::Gateway {
                        code: "NOT_OFFERED".into(),
                        message: format!(
                            "OpenClaw does not accept {} for this approval; answer it in OpenClaw",
                            decision.as_str()
                        ),
                    })
                };
                audit.submit(relay_entry(&a, &tool, decision, &sent));
                if let Err(e) = &sent {
                    tracing::warn!(id = %a.id, "OpenClaw did not take the decision: {e}");
                }
            }
            let _ = done.send((key, id));
        });
    }

    /// The detected OpenClaw gateway the approval belongs to: the only one,
    /// or, when several run (OpenClaw profiles), the one whose tree listens
    /// on the linked gateway's port (the first when none can be told).
    async fn gateway_agent(&self) -> Option<AgentId> {
        let agents: Vec<AgentId> = (self.d.registry.snapshot().await)
            .into_iter()
            .filter(|a| a.id.kind == AgentKind::OpenClaw)
            .map(|a| a.id)
            .collect();
        if agents.len() < 2 {
            return agents.into_iter().next();
        }
        let pids: Vec<u32> = agents.iter().map(|a| a.root.pid).collect();
        let port = self.port;
        let owner = tokio::task::spawn_blocking(move || {
            reins_openclaw::owner::gateway_owner(std::path::Path::new("/proc"), port, &pids)
        })
        .await
        .ok()
        .flatten();
        let i = owner
            .and_then(|pid| agents.iter().position(|a| a.root.pid == pid))
            .unwrap_or(0);
        agents.into_iter().nth(i)
    }
}

fn relay_entry(
    a: &GatewayApproval,
    tool: &str,
    decision: GatewayDecision,
    sent: &Result<(), reins_openclaw::LinkError>,
) -> AuditEntry {
    AuditEntry {
        actor: Actor::Daemon,
        action: AuditAction::OpenclawRelay,
        target: tool.to_owned(),
        outcome: match sent {
            Ok(()) => AuditOutcome::Ok,
            Err(reins_openclaw::LinkError::Gateway { .. }) => AuditOutcome::Refused,
            Err(_) => AuditOutcome::Failed,
        },
        latency_us: None,
        detail: serde_json::json!({
            "openclaw_id": a.id, "queue": crate::openclaw_requests::queue(a.kind),
            "decision": decision.as_str(), "command": a.command, "cwd": a.cwd,
            "openclaw_agent": a.agent_id, "session": a.session_key,
            "error": sent.as_ref().err().map(ToString::to_string),
        }),
    }
}
