//! The notifier task: the one owner of the [`DbusNotifier`] (and so of the
//! session-bus connection). It feeds broker events, verified halts and the
//! clicks the notifier verified into the pure [`NotifyState`] and performs
//! the actions it returns: raise and close notifications, decide as
//! [`Actor::Notification`], publish [`DaemonEvent::Open`] (starting the tray
//! through a [`WindowOpener`] when no window or tray is connected), and keep
//! the Notifications entry of [`Surfaces`] true.
//!
//! With no session bus it notes why once and ends; with no server it waits,
//! without polling, for `NameOwnerChanged` to say one has appeared. It
//! decides nothing itself, and never approves anything by default: a click
//! is refused when the notification server's own process runs inside an
//! agent's tree (an agent could own the name when no server runs).

use crate::approvals::ApprovalsHandle;
use crate::events::{DaemonEvent, DaemonEvents};
use crate::ipc::proto::OpenView;
use crate::notify_state::{Action, Input, NotifyState};
use crate::surfaces::{SurfaceKind, Surfaces};
use reins_core::{Actor, AgentId};
use reins_notify::{DbusNotifier, NoteEvent, Notifier, NotifyError};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Which bus to use.
#[derive(Clone, Debug)]
pub enum Bus {
    /// This session's (`DBUS_SESSION_BUS_ADDRESS`).
    Session,
    /// The bus at this address (tests: a private bus).
    Address(String),
}

/// Tells whether a PID runs inside an agent's process tree (the same guard
/// the IPC server applies to a decision from the CLI).
pub type AgentGuard =
    Arc<dyn Fn(u32) -> Pin<Box<dyn Future<Output = Option<AgentId>> + Send>> + Send + Sync>;

/// Why the window could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No tray binary to start.
    #[error("reins-tray is not installed next to reins or on PATH")]
    NotInstalled,
    /// It could not be started.
    #[error("could not start {path}: {source}")]
    Spawn {
        /// Which binary.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Opens the window when nothing that shows it is connected.
pub trait WindowOpener: Send + Sync {
    /// Start something that shows `view`.
    fn open(&mut self, view: &OpenView) -> Result<(), OpenError>;
}

/// Starts `reins-tray --open <view>` (single-instance: a running tray gets
/// the request forwarded), found next to the current executable or on PATH.
#[derive(Debug, Default)]
pub struct TrayLauncher;

impl TrayLauncher {
    fn find() -> Option<PathBuf> {
        let beside = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|d| d.join("reins-tray")));
        let on_path = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join("reins-tray"));
        beside.into_iter().chain(on_path).find(|p| is_executable(p))
    }
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The `--open` argument for a view.
pub fn open_arg(view: &OpenView) -> String {
    match view {
        OpenView::Approval { request_id } => format!("approval:{request_id}"),
        OpenView::Agents => "agents".into(),
    }
}

impl WindowOpener for TrayLauncher {
    fn open(&mut self, view: &OpenView) -> Result<(), OpenError> {
        let path = Self::find().ok_or(OpenError::NotInstalled)?;
        // Not awaited: tokio reaps the child when it exits.
        tokio::process::Command::new(&path)
            .arg("--open")
            .arg(open_arg(view))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|source| OpenError::Spawn { path, source })
    }
}

/// What the task works with.
#[derive(Clone)]
pub struct NotifierParts {
    /// Where to report the surface.
    pub surfaces: Surfaces,
    /// Halts in, open requests out.
    pub events: DaemonEvents,
    /// Requests in, decisions out.
    pub approvals: ApprovalsHandle,
    /// The self-approval guard.
    pub guard: AgentGuard,
    /// Runs an alert's action as [`Actor::Notification`].
    pub alert_actor: AlertActor,
}

/// Runs an alert action (resume, stop, release, stop supervisor) on an
/// agent as [`Actor::Notification`]; `Err` says why it did not happen.
pub type AlertActor = Arc<
    dyn Fn(
            reins_core::AlertAction,
            AgentId,
        ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>>
        + Send
        + Sync,
>;

impl std::fmt::Debug for NotifierParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NotifierParts")
    }
}

/// Start the task. Subscriptions are taken before this returns, so nothing
/// published after it is missed.
pub fn spawn(
    bus: Bus,
    parts: NotifierParts,
    opener: impl WindowOpener + 'static,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) {
    let broker = parts.approvals.subscribe();
    let daemon = parts.events.subscribe();
    tracker.spawn(async move {
        let connected = match &bus {
            Bus::Session => DbusNotifier::session().await,
            Bus::Address(a) => DbusNotifier::connect(a).await,
        };
        let (notifier, notes) = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("{e}");
                parts.surfaces.note(
                    SurfaceKind::Notifications,
                    Some(format!("desktop notifications: {e}")),
                );
                return;
            }
        };
        let task = Task {
            notifier,
            state: NotifyState::new(),
            parts,
            opener: Box::new(opener),
        };
        task.run(notes, broker, daemon, shutdown).await;
    });
}

struct Task<N> {
    notifier: N,
    state: NotifyState,
    parts: NotifierParts,
    opener: Box<dyn WindowOpener>,
}

impl<N: Notifier> Task<N> {
    async fn run(
        mut self,
        mut notes: tokio::sync::mpsc::UnboundedReceiver<NoteEvent>,
        mut broker: tokio::sync::broadcast::Receiver<reins_approval::BrokerEvent>,
        mut daemon: tokio::sync::broadcast::Receiver<DaemonEvent>,
        shutdown: CancellationToken,
    ) {
        let first = self.probe().await;
        if let Input::ServerDown(why) = &first {
            tracing::warn!("desktop notifications: {why}");
        }
        self.feed(first).await;
        // Requests already waiting when we subscribed (duplicates are ignored).
        let pending = self.parts.approvals.pending().await;
        self.feed(Input::Resync(pending)).await;
        loop {
            let input = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                ev = notes.recv() => match ev {
                    Some(NoteEvent::Action { id, key }) => Input::Clicked { id, key },
                    Some(NoteEvent::Closed { id, .. }) => Input::Closed(id),
                    Some(NoteEvent::ServerUp) => self.probe().await,
                    Some(NoteEvent::ServerDown) => Input::ServerDown(
                        "the notification server left the session bus; Reins uses it again as soon as it returns".into(),
                    ),
                    Some(NoteEvent::BusGone) | None => {
                        self.feed(Input::ServerDown(
                            "the session bus connection closed; restart the daemon to get notifications back".into(),
                        ))
                        .await;
                        tracing::warn!("desktop notifications: the session bus connection closed");
                        return;
                    }
                },
                ev = broker.recv() => match ev {
                    Ok(e) => Input::Broker(e),
                    Err(RecvError::Lagged(_)) => Input::Resync(self.parts.approvals.pending().await),
                    Err(RecvError::Closed) => break,
                },
                ev = daemon.recv() => match ev {
                    Ok(DaemonEvent::Halted { actor, outcome }) => Input::Halted { actor, outcome },
                    Ok(DaemonEvent::Alert(a)) => Input::Alert(a),
                    Ok(DaemonEvent::AlertCleared { id }) => Input::AlertCleared(id),
                    Ok(DaemonEvent::Open(_) | DaemonEvent::Rechecked(_) | DaemonEvent::Audit { .. })
                    | Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                },
            };
            self.feed(input).await;
        }
        for id in self.state.shown() {
            let _ = self.notifier.close(id).await;
        }
        self.parts
            .surfaces
            .set(SurfaceKind::Notifications, "", None);
    }

    async fn probe(&mut self) -> Input {
        match self.notifier.probe().await {
            Ok(info) => {
                tracing::info!(server = %info.label(), actions = info.has_actions(), "desktop notifications ready");
                Input::ServerUp(info)
            }
            Err(e) => Input::ServerDown(e.to_string()),
        }
    }

    /// Handle one input and everything its actions feed back.
    async fn feed(&mut self, input: Input) {
        let mut queue = std::collections::VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            for action in self.state.handle(input) {
                if let Some(next) = self.perform(action).await {
                    queue.push_back(next);
                }
            }
        }
    }

    async fn perform(&mut self, action: Action) -> Option<Input> {
        match action {
            Action::Raise { purpose, notice } => match self.notifier.raise(&notice).await {
                Ok(id) => Some(Input::Raised { purpose, id }),
                Err(NotifyError::NoServer) => {
                    Some(Input::ServerDown(NotifyError::NoServer.to_string()))
                }
                Err(e) => {
                    tracing::warn!("could not raise a notification: {e}");
                    None
                }
            },
            Action::Close(id) => {
                if let Err(e) = self.notifier.close(id).await {
                    tracing::debug!("could not close notification {}: {e}", id.0);
                }
                None
            }
            Action::Decide {
                request_id,
                action_hash,
                decision,
            } => {
                if let Some(why) = self.refuse_click().await {
                    tracing::warn!(request = %request_id, "refused a decision from a notification: {why}");
                    return None;
                }
                if let Err(r) = self
                    .parts
                    .approvals
                    .decide(request_id, action_hash, decision, Actor::Notification)
                    .await
                {
                    tracing::info!(request = %request_id, "a decision from a notification was not taken: {r}");
                }
                None
            }
            Action::Open(view) => {
                self.parts.events.publish(DaemonEvent::Open(view.clone()));
                let shown = self
                    .parts
                    .surfaces
                    .summary()
                    .live
                    .iter()
                    .any(|s| matches!(s.kind, SurfaceKind::Tray | SurfaceKind::Window));
                if shown {
                    return None;
                }
                match self.opener.open(&view) {
                    Ok(()) => None,
                    Err(e) => {
                        tracing::info!("could not open the window: {e}");
                        Some(Input::OpenFailed(view))
                    }
                }
            }
            Action::AlertAct {
                alert,
                agent,
                action,
            } => {
                if let Some(why) = self.refuse_click().await {
                    tracing::warn!(alert = %alert, "refused an alert action from a notification: {why}");
                    return None;
                }
                if let Err(e) = (self.parts.alert_actor)(action, agent).await {
                    tracing::info!(alert = %alert, "an alert action from a notification was not taken: {e}");
                }
                None
            }
            Action::Surface { live, note } => {
                let s = &self.parts.surfaces;
                s.set(SurfaceKind::Notifications, "", live);
                s.note(SurfaceKind::Notifications, note);
                None
            }
        }
    }

    /// Why a click must not count, if it must not: the server's process is
    /// unknown or runs inside an agent's tree.
    async fn refuse_click(&self) -> Option<String> {
        let Some(pid) = self.state.server_pid() else {
            return Some("the bus did not say which process owns the notification server".into());
        };
        (self.parts.guard)(pid).await.map(|agent| {
            format!(
                "the notification server (pid {pid}) runs inside agent {agent}'s own process tree"
            )
        })
    }
}

/// The daemon's notifier: on the session bus, with the daemon's own
/// self-approval guard, or a note saying notifications are off.
pub(crate) fn start_for_daemon(
    config: &crate::config::Config,
    d: &Arc<crate::daemon::Dispatcher>,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) {
    if !config.notify.enabled {
        d.surfaces.note(
            SurfaceKind::Notifications,
            Some("desktop notifications are off ([notify] enabled = false)".into()),
        );
        return;
    }
    let (registry, ops) = (d.registry.clone(), d.ops.clone());
    let guard: AgentGuard = Arc::new(move |pid| {
        let (registry, ops) = (registry.clone(), ops.clone());
        Box::pin(async move {
            let agents = registry.scan_now().await;
            crate::controller::agent_containing(pid, &agents, &*ops)
        })
    });
    let dispatcher = d.clone();
    let alert_actor: AlertActor = Arc::new(move |action, agent| {
        let d = dispatcher.clone();
        Box::pin(async move { d.alert_action(action, &agent, Actor::Notification).await })
    });
    let parts = NotifierParts {
        surfaces: d.surfaces.clone(),
        events: d.events.clone(),
        approvals: d.approvals.clone(),
        guard,
        alert_actor,
    };
    spawn(Bus::Session, parts, TrayLauncher, shutdown, tracker);
}

#[cfg(test)]
#[path = "notifier_tests.rs"]
mod tests;
