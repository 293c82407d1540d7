//! `reins daemon`: wires the registry (scanner), the halt controller, the
//! audit writer, the approvals task, the phone link, the phone web app
//! server and the IPC server
//! together and runs them until shutdown.
//!
//! Each resource has one owning task; the IPC [`Dispatcher`] only holds
//! handles. Shutdown is a `CancellationToken`; every task is tracked and
//! awaited, and the socket file is removed on the way out. This module holds
//! no tauri: the tray shell starts the same [`run`].

use crate::approvals::ApprovalsHandle;
use crate::audit::{AuditAction, AuditEntry, AuditLog, AuditOutcome};
use crate::audit_writer::AuditHandle;
use crate::clock::{Clock, MonotonicClock};
use crate::config::Config;
use crate::controller::{self, ResolveError};
use crate::events::DaemonEvent;
use crate::ipc::proto::{ClientSurface, ErrorCode, HaltOutcome, IpcError, Request, Response};
use crate::ipc::server::{self, Handler, ServerError};
use crate::paths::Paths;
use crate::phone::PhoneState;
use crate::registry::RegistryHandle;
use reins_core::{Actor, HaltOp, HaltOptions};
use reins_os::{Linux, PeerCred, ProcessOps};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Errors that keep the daemon from starting.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The signature table in the config is invalid.
    #[error("invalid agent signature in the config: {0}")]
    Signatures(String),
    /// The IPC socket could not be set up.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The policy file is broken.
    #[error(transparent)]
    Policy(#[from] reins_approval::PolicyError),
}

/// Everything the daemon needs to start.
#[derive(Clone, Debug)]
pub struct DaemonSettings {
    /// The loaded configuration.
    pub config: Config,
    /// Resolved paths.
    pub paths: Paths,
    /// The approval policy (its `[approvals]` settings drive the broker).
    pub policy: reins_approval::Policy,
}

impl DaemonSettings {
    /// The audit log path: the config's, else the XDG default.
    pub fn audit_path(&self) -> PathBuf {
        self.config
            .audit
            .path
            .clone()
            .unwrap_or_else(|| self.paths.audit_log())
    }
}

/// Run the daemon until `shutdown` is cancelled. `ready` is called once the
/// socket accepts connections.
pub async fn run(
    settings: DaemonSettings,
    shutdown: CancellationToken,
    ready: impl FnOnce(),
) -> Result<(), DaemonError> {
    let table = settings
        .config
        .signature_table()
        .map_err(|e| DaemonError::Signatures(e.to_string()))?;
    let scanner =
        reins_detect::Scanner::new(table).map_err(|e| DaemonError::Signatures(e.to_string()))?;
    let socket = settings.paths.socket();
    let listener = server::bind(&socket).await?;
    let tracker = TaskTracker::new();
    let audit = AuditHandle::spawn(AuditLog::new(settings.audit_path()));
    let registry = RegistryHandle::spawn(
        scanner,
        settings.config.scan_interval(),
        shutdown.clone(),
        &tracker,
    );
    let clock: Arc<dyn Clock> = Arc::new(MonotonicClock::new());
    let broker_config = reins_approval::BrokerConfig {
        on_timeout: settings.policy.approvals.on_timeout,
        ..Default::default()
    };
    let approvals = ApprovalsHandle::spawn(
        broker_config,
        clock.clone(),
        audit.clone(),
        shutdown.clone(),
        &tracker,
    );
    // The web server binds first: pairing links need its URL (and port).
    let web = crate::web::bind(&settings.config).await;
    let app = settings
        .config
        .link
        .enabled
        .then(|| crate::web::summary(&web, settings.config.phone.app_url.as_deref()));
    let page = web
        .as_ref()
        .ok()
        .and_then(|b| b.as_ref())
        .map(|b| b.page.clone());
    let (phone, bridge) = crate::phone_bridge::start(&settings, page.as_ref()).await;
    if let Ok(Some(bound)) = web {
        let broker_ws = phone.running().and_then(|p| p.embedded_ws);
        crate::web::spawn(bound, broker_ws, shutdown.clone(), &tracker);
    }
    let events = crate::events::DaemonEvents::new();
    let alerts = crate::alerts::Alerts::new(events.clone());
    let latch = crate::latch_task::LatchHandle::spawn(
        crate::latch_task::LatchDeps {
            ops: Arc::new(Linux),
            table: settings
                .config
                .signature_table()
                .map_err(|e| DaemonError::Signatures(e.to_string()))?,
            registry: registry.clone(),
            alerts: alerts.clone(),
            events: events.clone(),
            audit: audit.clone(),
        },
        shutdown.clone(),
        &tracker,
    );
    let dispatcher = Arc::new(Dispatcher {
        registry,
        approvals,
        clock,
        ops: Arc::new(Linux),
        audit: audit.clone(),
        phone,
        app,
        surfaces: crate::surfaces::Surfaces::new(),
        phones: crate::phone_presence::PhonePresence::default(),
        events: events.clone(),
        alerts,
        stop_words: settings.config.stop_words.clone(),
        tripwires: crate::tripwires::TripwireHandle::new(
            settings.policy.tripwires.clone(),
            std::env::var_os("HOME").map(PathBuf::from),
        ),
        latch,
        recheck_after: settings.config.recheck_after(),
        opts: HaltOptions {
            grace: settings.config.grace(),
            force: false,
        },
        units: controller::Units::system(),
        openclaw: crate::openclaw::OpenClaw::default(),
    });
    for w in audit
        .append_all(vec![lifecycle(AuditAction::DaemonStarted)])
        .await
    {
        tracing::error!("{w}");
    }
    tracker.spawn(crate::daemon_audit::forward(
        audit.watch_problem(),
        dispatcher.alerts.clone(),
        shutdown.clone(),
    ));
    tracker.spawn(crate::daemon_approvals::withdraw_unseen(
        dispatcher.surfaces.clone(),
        dispatcher.approvals.clone(),
        crate::daemon_approvals::SURFACE_GRACE,
        shutdown.clone(),
    ));
    crate::notifier::start_for_daemon(&settings.config, &dispatcher, shutdown.clone(), &tracker);
    tracker.spawn(crate::daemon_alerts::clear_on_exit(
        dispatcher.registry.subscribe(),
        dispatcher.alerts.clone(),
        {
            let registry = dispatcher.registry.clone();
            move || {
                let registry = registry.clone();
                async move {
                    let agents = registry.snapshot().await;
                    agents.into_iter().map(|a| a.id).collect()
                }
            }
        },
        shutdown.clone(),
    ));
    crate::tripwires_watch::spawn(dispatcher.clone(), shutdown.clone(), &tracker);
    crate::openclaw::spawn(
        dispatcher.clone(),
        settings.config.openclaw.clone(),
        settings.policy.clone(),
        settings.paths.data_dir.clone(),
        shutdown.clone(),
        &tracker,
    );
    if let Some(inputs) = bridge {
        crate::phone_bridge::spawn(dispatcher.clone(), inputs, shutdown.clone(), &tracker);
    }
    tracker.spawn(server::serve(
        listener,
        dispatcher.clone(),
        shutdown.clone(),
        tracker.clone(),
    ));
    tracing::info!(socket = %socket.display(), "reins daemon ready");
    ready();
    shutdown.cancelled().await;
    tracker.close();
    tracker.wait().await;
    if let Some(p) = dispatcher.phone.running() {
        p.link.shutdown().await;
    }
    let _ = std::fs::remove_file(&socket);
    let _ = audit
        .append_all(vec![lifecycle(AuditAction::DaemonStopped)])
        .await;
    tracing::info!("reins daemon stopped");
    Ok(())
}

fn lifecycle(action: AuditAction) -> AuditEntry {
    AuditEntry {
        actor: Actor::Daemon,
        action,
        target: format!("pid:{}", std::process::id()),
        outcome: AuditOutcome::Info,
        latency_us: None,
        detail: serde_json::Value::Null,
    }
}

/// Answers IPC requests with the registry, controller and audit log.
#[derive(Debug)]
pub struct Dispatcher {
    pub(crate) registry: RegistryHandle,
    pub(crate) approvals: ApprovalsHandle,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ops: Arc<dyn ProcessOps>,
    pub(crate) audit: AuditHandle,
    pub(crate) phone: PhoneState,
    /// The phone web app, as `reins status` shows it.
    pub(crate) app: Option<crate::web::AppSummary>,
    /// Who can show a prompt right now.
    pub(crate) surfaces: crate::surfaces::Surfaces,
    /// When each paired phone was last heard from, and which are online.
    pub(crate) phones: crate::phone_presence::PhonePresence,
    /// Verified halts and open-window requests, for subscribers.
    pub(crate) events: crate::events::DaemonEvents,
    /// Active alerts (respawn held, tripwire, stop word), published on `events`.
    pub(crate) alerts: crate::alerts::Alerts,
    /// Which prompts freeze their agent (`[stop_words]`).
    pub(crate) stop_words: reins_approval::StopWordsConfig,
    /// Tripwire windows per agent and session (see `tripwires.rs`).
    pub(crate) tripwires: crate::tripwires::TripwireHandle,
    /// The stop latches: respawns of stopped agents are held frozen.
    pub(crate) latch: crate::latch_task::LatchHandle,
    /// When to check whether a stopped agent came back (`[halt] recheck_after_s`).
    pub(crate) recheck_after: Option<std::time::Duration>,
    pub(crate) opts: HaltOptions,
    /// The cgroup2 mount and systemd, for agents run by a systemd unit.
    pub(crate) units: controller::Units,
    /// OpenClaw's gateway link and its status.
    pub(crate) openclaw: crate::openclaw::OpenClaw,
}

impl Handler for Dispatcher {
    fn handle(
        &self,
        req: Request,
        peer: PeerCred,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
        Box::pin(async move {
            match req {
                Request::Ping => Response::Pong {
                    protocol: crate::ipc::proto::PROTOCOL_VERSION,
                    pid: std::process::id(),
                },
                Request::Status => {
                    let mut link = self.phone.summary().await;
                    link.app = self.app.clone();
                    Response::Status {
                        agents: self.registry.snapshot().await,
                        link: Some(link),
                        surfaces: Some(self.surfaces.summary()),
                        alerts: self.alerts.active(),
                        latches: Some(self.latch.list()),
                        openclaw: Some(self.openclaw.status()),
                        audit: self.audit.problem(),
                    }
                }
                Request::Halt {
                    halt,
                    target,
                    force,
                } => self.halt(halt, target, force, peer).await,
                Request::Release { target } => {
                    let actor = Actor::Cli {
                        pid: peer.pid,
                        uid: peer.uid,
                    };
                    match self.release_for(&target, actor, Some(peer.pid)).await {
                        Ok(r) => {
                            self.clear_alerts_after_release(&r);
                            Response::Released(r)
                        }
                        Err(e) => Response::Error(e),
                    }
                }
                Request::SoftStop { target } => match self.soft_stop(&target, peer).await {
                    Ok(o) => Response::SoftStopped(o),
                    Err(e) => Response::Error(e),
                },
                Request::StopSupervisor { target } => {
                    let actor = Actor::Cli {
                        pid: peer.pid,
                        uid: peer.uid,
                    };
                    match self.stop_supervisor_for(&target, actor).await {
                        Ok(r) => {
                            self.clear_alerts_after(HaltOp::Stop, &r.targets);
                            Response::Halted(r)
                        }
                        Err(e) => Response::Error(e),
                    }
                }
                Request::Hook { hook }
                    if hook.input.event == reins_approval::HookEvent::UserPromptSubmit =>
                {
                    self.user_prompt(hook, peer.pid).await
                }
                Request::Hook { hook } => self.hook(hook).await,
                Request::Ask { hook } => self.ask(hook).await,
                Request::Approvals => Response::Approvals {
                    pending: self.approvals.pending().await,
                },
                Request::ApprovalState { request_id } => Response::ApprovalState {
                    state: self.approvals.state(request_id).await,
                },
                Request::Decide {
                    request_id,
                    action_hash,
                    decision,
                } => self.decide(request_id, action_hash, decision, peer).await,
                Request::PairStart => self.pair_start().await,
                Request::PairNext { session } => self.pair_next(&session, peer).await,
                Request::PairAnswer { session, accept } => {
                    self.pair_answer(&session, accept, peer).await
                }
                Request::Devices => self.devices().await,
                Request::RenameDevice { id, name } => self.rename_device(&id, &name, peer).await,
                Request::RevokeDevice { id } => self.revoke_device(&id, peer).await,
                // The IPC server's connection loop serves streams through
                // `Handler::subscribe`; it never passes one here.
                Request::Subscribe { .. } => Response::error(
                    ErrorCode::BadRequest,
                    "subscribe opens a stream; send it as the first line of a connection",
                ),
            }
        })
    }

    fn subscribe(&self, surface: ClientSurface, peer: PeerCred) -> server::Subscribed<'_> {
        Box::pin(async move {
            let guard = match surface.surface() {
                Some(kind) => self.surface_guard(kind, peer).await,
                None => None,
            };
            // Subscribe after attaching (the snapshot shows this surface)
            // and before the snapshot is taken (no change falls between).
            let feeds = crate::subscribe::Feeds {
                registry: self.registry.subscribe(),
                approvals: self.approvals.subscribe(),
                daemon: self.events.subscribe(),
                surfaces: self.surfaces.watch(),
            };
            let source = LiveState {
                registry: self.registry.clone(),
                approvals: self.approvals.clone(),
                alerts: self.alerts.clone(),
            };
            let stream = crate::subscribe::Merged::new(source, feeds, guard);
            Ok(Box::new(stream) as Box<dyn server::EventStream>)
        })
    }
}

/// The daemon's state for subscription snapshots.
#[derive(Debug)]
struct LiveState {
    registry: RegistryHandle,
    approvals: ApprovalsHandle,
    alerts: crate::alerts::Alerts,
}

impl crate::subscribe::SnapshotSource for LiveState {
    async fn snapshot(
        &self,
    ) -> (
        Vec<reins_core::AgentRecord>,
        Vec<reins_approval::broker::ApprovalRequest>,
    ) {
        tokio::join!(self.registry.snapshot(), self.approvals.pending())
    }

    fn alerts(&self) -> Vec<reins_core::Alert> {
        self.alerts.active()
    }

    fn audit(&self) -> Option<crate::audit_health::AuditProblem> {
        self.alerts.audit().map(|(_, p)| p)
    }
}

/// A finished halt and when its engine started (for "µs from receipt").
#[derive(Debug)]
pub(crate) struct HaltRun {
    pub(crate) outcome: HaltOutcome,
    pub(crate) started: tokio::time::Instant,
}

impl Dispatcher {
    async fn halt(&self, op: HaltOp, target: String, force: bool, peer: PeerCred) -> Response {
        let actor = Actor::Cli {
            pid: peer.pid,
            uid: peer.uid,
        };
        match self
            .halt_for(op, &target, force, actor, Some(peer.pid))
            .await
        {
            Ok(run) => Response::Halted(run.outcome),
            Err(e) => Response::Error(e),
        }
    }

    /// The one halt path for every surface (IPC, phone): resolve, guard,
    /// halt, audit as `actor`. `caller_pid` is the local requester, whose
    /// process tree may not resume an agent it belongs to.
    pub(crate) async fn halt_for(
        &self,
        op: HaltOp,
        target: &str,
        force: bool,
        actor: Actor,
        caller_pid: Option<u32>,
    ) -> Result<HaltRun, IpcError> {
        let mut agents = self.registry.snapshot().await;
        let mut resolved = controller::resolve(target, &agents, force, &*self.ops);
        if matches!(
            resolved,
            Err(ResolveError::NoSuchAgent { .. } | ResolveError::NotAnAgent { .. })
        ) {
            // The agent may have started since the last scan.
            agents = self.registry.scan_now().await;
            resolved = controller::resolve(target, &agents, force, &*self.ops);
        }
        let targets = resolved.map_err(resolve_error)?;
        if op == HaltOp::Resume
            && let Some(pid) = caller_pid
        {
            // The guard must know every agent, including one started since the
            // last scan, or an agent could resume itself in that window.
            agents = self.registry.scan_now().await;
            if let Some(inside) = controller::agent_containing(pid, &agents, &*self.ops) {
                let why = format!("resume requested from inside agent {inside}'s own process tree");
                let _ = self
                    .audit
                    .append_all(vec![controller::refused_entry(&actor, target, &why)])
                    .await;
                return Err(IpcError {
                    code: ErrorCode::Refused,
                    message: format!(
                        "{why}; an agent may not resume itself. Resume it from your own terminal, the tray or your phone"
                    ),
                    agents: Vec::new(),
                });
            }
        }
        let ids: Vec<_> = targets.iter().filter_map(|t| t.agent.clone()).collect();
        // What to latch if the stop succeeds: the supervisor (or parent) is
        // read now, while the agent still runs (a few µs per agent).
        let latches: Vec<_> = if op == HaltOp::Stop {
            let since = crate::latch_task::now_s();
            agents
                .iter()
                .filter(|a| ids.contains(&a.id))
                .map(|a| crate::latch_task::latch_for(a, &*self.ops, since))
                .collect()
        } else {
            Vec::new()
        };
        let started = tokio::time::Instant::now();
        // The signals go first: telling the hooks and the registry is two
        // actor round trips, run while the halt thread freezes the tree
        // (normally done before it thaws the tree for SIGTERM; both are
        // finished before the stop is reported).
        let mark_stopping = async {
            if op == HaltOp::Stop {
                // Hooks of these agents answer "stop" from now on, on top of the signals.
                self.approvals.request_stop(ids.clone()).await;
                self.registry.set_stopping(ids.clone(), true).await;
            }
        };
        let (mut reports, ()) = tokio::join!(
            self.execute_among(op, targets.clone(), agents.clone()),
            mark_stopping
        );
        if target == "all" && op != HaltOp::Resume {
            // Catch agents that started after our snapshot.
            let fresh = self.registry.scan_now().await;
            let late: Vec<_> = controller::resolve("all", &fresh, false, &*self.ops)
                .unwrap_or_default()
                .into_iter()
                .filter(|r| !targets.contains(r))
                .collect();
            if !late.is_empty() {
                reports.extend(self.execute_among(op, late, fresh).await);
            }
        }
        self.tripwires_after_halt(op, &ids);
        if op == HaltOp::Stop {
            self.registry.set_stopping(ids.clone(), false).await;
            self.latch_stopped(latches, &reports).await;
        } else if op == HaltOp::Resume {
            self.latch.resumed(ids).await;
        }
        if op != HaltOp::Pause {
            // A stopped or resumed agent's alerts (a held respawn, a
            // tripwire's pause) have been acted on.
            for t in reports.iter().filter(|t| t.report.success) {
                if let Some(id) = &t.agent {
                    self.alerts.clear_agent(id);
                }
            }
        }
        let warnings = self
            .audit
            .append_all(controller::audit_entries(&actor, op, &reports))
            .await;
        let _ = self.registry.scan_now().await;
        self.clear_alerts_after(op, &reports);
        let outcome = HaltOutcome {
            op,
            target: target.to_owned(),
            targets: reports,
            warnings,
        };
        // Verified: every surface (tray, window, phone) hears the result.
        self.events.publish(DaemonEvent::Halted {
            actor,
            outcome: outcome.clone(),
        });
        Ok(HaltRun { outcome, started })
    }

    /// Halt `targets` on a blocking thread, each through its supervisor as
    /// the registry last saw it (a snapshot: one round trip to the registry).
    /// For callers that hold only targets (the stop latch).
    #[allow(dead_code)]
    pub(crate) async fn execute(
        &self,
        op: HaltOp,
        targets: Vec<controller::Resolved>,
    ) -> Vec<crate::ipc::TargetReport> {
        let agents = self.registry.snapshot().await;
        self.execute_among(op, targets, agents).await
    }

    /// [`Dispatcher::execute`] with the agents (and so their supervisors)
    /// already at hand.
    pub(crate) async fn execute_among(
        &self,
        op: HaltOp,
        targets: Vec<controller::Resolved>,
        agents: Vec<reins_core::AgentRecord>,
    ) -> Vec<crate::ipc::TargetReport> {
        let ops = self.ops.clone();
        let opts = self.opts;
        let units = self.units.clone();
        tokio::task::spawn_blocking(move || {
            controller::execute_with(&*ops, &units, op, &targets, &agents, &opts)
        })
        .await
        .expect("halt thread panicked")
    }
}

fn resolve_error(e: ResolveError) -> IpcError {
    let message = e.to_string();
    let (code, agents) = match e {
        ResolveError::NoSuchAgent { agents, .. } => (ErrorCode::NoSuchAgent, agents),
        ResolveError::NotAnAgent { .. } => (ErrorCode::NoSuchAgent, Vec::new()),
        ResolveError::BadTarget(_) => (ErrorCode::BadRequest, Vec::new()),
    };
    IpcError {
        code,
        message,
        agents,
    }
}
