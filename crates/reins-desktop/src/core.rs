//! [`Desktop`]: the handle the tray shell and the window's commands hold.
//!
//! [`Desktop::start`] spawns the one connection task (see [`crate::conn`])
//! and returns a cloneable handle: the live [`DesktopState`] (a `watch`),
//! broadcasts of halts and open-window requests, and async commands that
//! each send one IPC request and map the answer to a view or a [`UiError`].
//! Refusals this side makes (a high-risk approve without a deliberate
//! confirmation, a decision on something not pending with that exact hash,
//! a bad device name) change nothing and send nothing.
//!
//! Settings and the audit log are files, not IPC: see [`crate::settings`]
//! and [`crate::audit`].

use crate::client::call_async;
use crate::conn::ConnTask;
use crate::convert::{device_status_view, device_view, halt_op, halt_result_view, pair_step_view};
use crate::error::unexpected;
use crate::launch::{find_reins, halt_directly};
use crate::state::initial_state;
use crate::view::{
    DecisionView, DesktopState, DeviceView, HaltOpView, HaltResultView, OpenViewView,
    PairOfferView, PairStepView, RiskView, UiError,
};
use reins_approval::Decision;
use reins_approval::broker::{ActionHash, RequestId};
use reins_core::AgentId;
use reins_runtime::ipc::ClientError;
use reins_runtime::ipc::proto::{ClientSurface, Request, Response};
use reins_runtime::paths::Paths;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{Notify, broadcast, watch};
use tokio_util::sync::CancellationToken;

/// The longest device name accepted.
pub const MAX_DEVICE_NAME: usize = 64;

/// How a [`Desktop`] connects.
#[derive(Clone, Debug)]
pub struct DesktopOptions {
    /// What this client is to the daemon (the tray: [`ClientSurface::Tray`]).
    pub surface: ClientSurface,
    /// Start `reins daemon` when none answers.
    pub start_daemon: bool,
    /// The `reins` binary to start (and to halt with directly when no
    /// daemon runs); default: next to this executable, else PATH.
    pub reins_bin: Option<PathBuf>,
    /// Reins' directories; default: from the environment (XDG).
    pub paths: Option<Paths>,
    /// The config file; default: `config.toml` in the config directory.
    pub config_file: Option<PathBuf>,
    /// Extra environment for a daemon this client starts (tests isolate
    /// HOME and the XDG directories with it).
    pub daemon_env: Vec<(OsString, OsString)>,
}

impl DesktopOptions {
    /// The tray's options: subscribe as the tray, start the daemon if needed.
    pub fn tray() -> Self {
        DesktopOptions {
            surface: ClientSurface::Tray,
            start_daemon: true,
            reins_bin: None,
            paths: None,
            config_file: None,
            daemon_env: Vec::new(),
        }
    }
}

#[derive(Debug)]
struct Inner {
    paths: Result<Paths, String>,
    config_file: Option<PathBuf>,
    state: watch::Receiver<DesktopState>,
    opens: broadcast::Sender<OpenViewView>,
    halts: broadcast::Sender<HaltResultView>,
    retry: Arc<Notify>,
    start_daemon: bool,
    reins_bin: Option<PathBuf>,
    daemon_env: Vec<(OsString, OsString)>,
}

/// The desktop core. Cheap to clone; every clone shares one connection.
#[derive(Clone, Debug)]
pub struct Desktop {
    inner: Arc<Inner>,
}

impl Desktop {
    /// Start the connection task (call inside a tokio runtime). It runs
    /// until `shutdown` is cancelled.
    pub fn start(opts: DesktopOptions, shutdown: CancellationToken) -> Desktop {
        Self::start_on(&tokio::runtime::Handle::current(), opts, shutdown)
    }

    /// [`Desktop::start`] on a given runtime (e.g. the shell's
    /// `tauri::async_runtime`'s tokio handle), from any thread.
    pub fn start_on(
        rt: &tokio::runtime::Handle,
        opts: DesktopOptions,
        shutdown: CancellationToken,
    ) -> Desktop {
        let paths = match opts.paths {
            Some(p) => Ok(p),
            None => Paths::from_env().map_err(|e| e.to_string()),
        };
        let (state_tx, state_rx) = watch::channel(initial_state());
        let opens = broadcast::channel(16).0;
        let halts = broadcast::channel(16).0;
        let retry = Arc::new(Notify::new());
        let start_daemon = opts.start_daemon;
        let (reins_bin, daemon_env) = (opts.reins_bin.clone(), opts.daemon_env.clone());
        let task = ConnTask {
            socket: paths.as_ref().map(Paths::socket).map_err(Clone::clone),
            surface: opts.surface,
            start_daemon: opts.start_daemon,
            reins_bin: opts.reins_bin,
            daemon_log: paths
                .as_ref()
                .map(|p| p.data_dir.join("daemon.log"))
                .unwrap_or_default(),
            daemon_env: opts.daemon_env,
            state: state_tx,
            opens: opens.clone(),
            halts: halts.clone(),
            shutdown,
            retry: retry.clone(),
        };
        rt.spawn(task.run());
        Desktop {
            inner: Arc::new(Inner {
                paths,
                config_file: opts.config_file,
                state: state_rx,
                opens,
                halts,
                retry,
                start_daemon,
                reins_bin,
                daemon_env,
            }),
        }
    }

    /// The state now.
    pub fn state(&self) -> DesktopState {
        self.inner.state.borrow().clone()
    }

    /// The tray for the state now, at the current time (uptimes change
    /// with time: rebuild it on every state change and when the menu opens).
    pub fn tray(&self, start_at_login: bool) -> crate::tray::TrayModel {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        crate::tray::tray_model(&self.inner.state.borrow(), now_ms, start_at_login)
    }

    /// Every change of the state.
    pub fn watch(&self) -> watch::Receiver<DesktopState> {
        self.inner.state.clone()
    }

    /// Requests to open the window (from notifications).
    pub fn opens(&self) -> broadcast::Receiver<OpenViewView> {
        self.inner.opens.subscribe()
    }

    /// Verified halts, from any surface.
    pub fn halts(&self) -> broadcast::Receiver<HaltResultView> {
        self.inner.halts.subscribe()
    }

    /// Reins' directories.
    pub(crate) fn paths(&self) -> Result<&Paths, UiError> {
        self.inner.paths.as_ref().map_err(|e| {
            UiError::new(format!(
                "Reins cannot find its files: {e}. Start the app from your desktop session."
            ))
        })
    }

    /// The config file.
    pub(crate) fn config_file(&self) -> Result<PathBuf, UiError> {
        match &self.inner.config_file {
            Some(p) => Ok(p.clone()),
            None => Ok(self.paths()?.config_file()),
        }
    }

    pub(crate) async fn call(&self, req: &Request) -> Result<Response, UiError> {
        let socket = self.paths()?.socket();
        Ok(call_async(&socket, req).await?)
    }

    /// Stop, pause or resume `target`: `all` or an agent id. When no daemon
    /// runs, `reins <op>` acts directly (same safety rules and audit).
    pub async fn halt(&self, op: HaltOpView, target: &str) -> Result<HaltResultView, UiError> {
        if target != "all" && target.parse::<AgentId>().is_err() {
            return Err(UiError::new(format!(
                "'{}' is not an agent; pick one from the agent list (or stop all).",
                crate::tray::clean(target, 80)
            )));
        }
        let req = Request::Halt {
            halt: halt_op(op),
            target: target.to_owned(),
            force: false,
        };
        let socket = self.paths()?.socket();
        match call_async(&socket, &req).await {
            Ok(Response::Halted(outcome)) => Ok(halt_result_view(&outcome)),
            Ok(other) => Err(unexpected(other, "a halt")),
            // No daemon: a stop must still work. The CLI acts directly.
            Err(ClientError::NotRunning(_)) => {
                let bin = find_reins(self.inner.reins_bin.as_deref()).ok_or_else(|| {
                    UiError::new(
                        "No Reins daemon is running and the `reins` program was not found;                          install Reins or stop the agent from a terminal.",
                    )
                })?;
                halt_directly(&bin, halt_op(op), target, &self.inner.daemon_env)
                    .await
                    .map(|o| halt_result_view(&o))
                    .map_err(|e| UiError::new(format!("{e} (no daemon was running)")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Decide a pending request. Only a request pending now with exactly
    /// this hash is answered; approving a high-risk one needs
    /// `confirmed_high_risk` (the window's deliberate confirmation).
    pub async fn decide(
        &self,
        request_id: &str,
        action_hash: &str,
        decision: DecisionView,
        confirmed_high_risk: bool,
    ) -> Result<(), UiError> {
        let pending = self
            .state()
            .pending
            .into_iter()
            .find(|p| p.request_id == request_id);
        let Some(pending) = pending else {
            return Err(UiError::new(
                "That request is no longer waiting (answered elsewhere, expired or withdrawn). \
                 Nothing was approved.",
            ));
        };
        if pending.action_hash != action_hash {
            return Err(UiError::new(
                "The action you saw is not the one waiting. Nothing was approved; look at the \
                 request again.",
            ));
        }
        let approve = matches!(
            decision,
            DecisionView::Approve | DecisionView::ApproveSession
        );
        if approve && pending.risk == RiskView::High && !confirmed_high_risk {
            return Err(UiError::new(
                "This request is high risk: confirm it deliberately in the Reins window \
                 (read the exact command, then hold Approve). Nothing was approved.",
            ));
        }
        let bad = |what: &str| UiError::new(format!("Invalid {what}; nothing was approved."));
        let request_id: RequestId = request_id.parse().map_err(|_| bad("request id"))?;
        let action_hash: ActionHash = action_hash.parse().map_err(|_| bad("action hash"))?;
        let decision = match decision {
            DecisionView::Approve => Decision::Allow,
            DecisionView::ApproveSession => Decision::AllowForSession,
            DecisionView::Deny => Decision::Deny { message: None },
        };
        match self
            .call(&Request::Decide {
                request_id,
                action_hash,
                decision,
            })
            .await?
        {
            Response::Decided { .. } => Ok(()),
            other => Err(unexpected(other, "a decision")),
        }
    }

    /// Open a pairing offer, with its QR code.
    pub async fn pair_start(&self) -> Result<PairOfferView, UiError> {
        match self.call(&Request::PairStart).await? {
            Response::PairOffer {
                session,
                url,
                expires_at_ms,
                ..
            } => Ok(PairOfferView {
                qr: crate::qr::qr_view(&url)?,
                session,
                url,
                expires_at_ms,
            }),
            other => Err(unexpected(other, "a pairing request")),
        }
    }

    /// Wait for the next step of a pairing.
    pub async fn pair_next(&self, session: &str) -> Result<PairStepView, UiError> {
        let req = Request::PairNext {
            session: session.to_owned(),
        };
        match self.call(&req).await? {
            Response::PairStep { step } => Ok(pair_step_view(&step)),
            other => Err(unexpected(other, "a pairing step")),
        }
    }

    /// The person's answer to "does the phone show this code?".
    pub async fn pair_answer(&self, session: &str, accept: bool) -> Result<(), UiError> {
        let req = Request::PairAnswer {
            session: session.to_owned(),
            accept,
        };
        match self.call(&req).await? {
            Response::PairAnswered => Ok(()),
            other => Err(unexpected(other, "a pairing answer")),
        }
    }

    /// The paired devices.
    pub async fn devices(&self) -> Result<Vec<DeviceView>, UiError> {
        match self.call(&Request::Devices).await? {
            Response::Devices { devices } => Ok(devices.iter().map(device_status_view).collect()),
            other => Err(unexpected(other, "the device list")),
        }
    }

    /// Rename a paired device.
    pub async fn rename_device(&self, id: &str, name: &str) -> Result<DeviceView, UiError> {
        let name = validate_device_name(name)?;
        let req = Request::RenameDevice {
            id: id.to_owned(),
            name,
        };
        let renamed = match self.call(&req).await? {
            Response::Device { device } => device_view(&device),
            other => return Err(unexpected(other, "a rename")),
        };
        // The rename's answer carries no presence; the list does.
        let listed = self.devices().await.ok().into_iter().flatten();
        Ok(listed
            .into_iter()
            .find(|d| d.id == renamed.id)
            .unwrap_or(renamed))
    }

    /// Revoke a paired device.
    pub async fn revoke_device(&self, id: &str) -> Result<(), UiError> {
        let req = Request::RevokeDevice { id: id.to_owned() };
        match self.call(&req).await? {
            Response::Revoked { .. } => Ok(()),
            other => Err(unexpected(other, "a revoke")),
        }
    }

    /// Restart the daemon so it applies saved settings: ask its PID, send it
    /// SIGTERM (it shuts down cleanly), and let the connection task start a
    /// new one. Only when this client may start daemons.
    pub async fn restart_daemon(&self) -> Result<(), UiError> {
        if !self.inner.start_daemon {
            return Err(UiError::new(
                "This app does not start the daemon itself; restart `reins daemon` by hand.",
            ));
        }
        let pid = match self.call(&Request::Ping).await? {
            Response::Pong { pid, .. } => pid,
            other => return Err(unexpected(other, "a ping")),
        };
        if pid <= 1 || pid == std::process::id() {
            return Err(UiError::new(
                "The daemon reported an impossible PID; restart it by hand with `reins daemon`.",
            ));
        }
        // SAFETY: kill(2) has no memory-safety preconditions.
        if unsafe { libc::kill(pid as i32, libc::SIGTERM) } != 0 {
            return Err(UiError::new(format!(
                "Could not stop the daemon (pid {pid}): {}. Restart it by hand.",
                std::io::Error::last_os_error()
            )));
        }
        // Wait until it stops answering (it finishes what it was doing
        // first), then let the connection task start a new one.
        let socket = self.paths()?.socket();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut delay = std::time::Duration::from_millis(20);
        while matches!(
            call_async(&socket, &Request::Ping).await,
            Ok(Response::Pong { pid: p, .. }) if p == pid
        ) {
            if tokio::time::Instant::now() >= deadline {
                return Err(UiError::new(format!(
                    "The daemon (pid {pid}) is still running 30 s after being asked to stop;                      stop it by hand."
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(500));
        }
        self.inner.retry.notify_one();
        Ok(())
    }

    /// Try connecting (and starting the daemon) again now, e.g. after the
    /// person fixed what made it unavailable.
    pub fn retry(&self) {
        self.inner.retry.notify_one();
    }
}

/// A device name as the daemon will store it: trimmed, 1 to 64 characters,
/// no control characters.
pub fn validate_device_name(name: &str) -> Result<String, UiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(UiError::new("Enter a name for the device."));
    }
    if name.chars().count() > MAX_DEVICE_NAME {
        return Err(UiError::new(format!(
            "That name is too long: use at most {MAX_DEVICE_NAME} characters."
        )));
    }
    if name
        .chars()
        .any(|c| c.is_control() || crate::tray::is_bidi_control(c))
    {
        return Err(UiError::new(
            "That name contains control characters (line breaks, tabs or text-direction \
             marks); type it without them.",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_is_trimmed_and_bounded() {
        assert_eq!(validate_device_name("  Pixel 8 ").unwrap(), "Pixel 8");
        assert!(validate_device_name("   ").is_err());
        assert!(validate_device_name(&"x".repeat(65)).is_err());
        assert!(validate_device_name(&"é".repeat(64)).is_ok());
        assert!(validate_device_name("a\nb").is_err());
        assert!(validate_device_name("evil\u{202e}gnp.exe").is_err());
    }
}
