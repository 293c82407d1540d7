//! The one connection task: it owns the subscription to the daemon and the
//! [`DesktopState`] it feeds.
//!
//! Connect; if no daemon answers and starting one is allowed, start it;
//! subscribe; apply every event; on disconnect mark the state `Connecting`
//! and reconnect with exponential backoff and jitter. It stops when the
//! shutdown token is cancelled. Commands (halt, decide, ...) do not go
//! through this task: each opens its own short connection.

use crate::client::{Subscription, call_async};
use crate::convert::link_view;
use crate::launch::{LaunchError, find_reins, start_daemon};
use crate::state::{Emitted, apply, disconnected};
use crate::view::{DaemonConn, DesktopState, HaltResultView, OpenViewView};
use rand::Rng;
use reins_runtime::ipc::ClientError;
use reins_runtime::ipc::proto::{ClientSurface, Request, Response};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

/// The first reconnect delay.
pub const BACKOFF_MIN: Duration = Duration::from_millis(200);
/// The longest reconnect delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The delay before reconnect attempt `attempt` (0-based), before jitter.
pub fn backoff(attempt: u32) -> Duration {
    BACKOFF_MIN
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_MAX)
}

/// `d` scaled by a random factor in [0.5, 1.0], so many clients restarted
/// together do not reconnect in lockstep.
pub fn jitter(d: Duration, rng: &mut impl Rng) -> Duration {
    d.mul_f64(rng.gen_range(0.5..=1.0))
}

/// What the task needs.
#[derive(Debug)]
pub(crate) struct ConnTask {
    pub socket: Result<PathBuf, String>,
    pub surface: ClientSurface,
    pub start_daemon: bool,
    pub reins_bin: Option<PathBuf>,
    pub daemon_log: PathBuf,
    pub daemon_env: Vec<(OsString, OsString)>,
    pub state: watch::Sender<DesktopState>,
    pub opens: broadcast::Sender<OpenViewView>,
    pub halts: broadcast::Sender<HaltResultView>,
    pub shutdown: CancellationToken,
    /// Wakes the task from its backoff and allows another daemon start.
    pub retry: std::sync::Arc<tokio::sync::Notify>,
}

impl ConnTask {
    fn set(&self, conn: DaemonConn, error: Option<String>) {
        self.state.send_if_modified(|s| {
            let before = s.clone();
            disconnected(s, conn, error);
            *s != before
        });
    }

    pub(crate) async fn run(self) {
        let socket = match &self.socket {
            Ok(s) => s.clone(),
            Err(e) => {
                self.set(DaemonConn::Unavailable, Some(e.clone()));
                return;
            }
        };
        let mut attempt = 0u32;
        let mut tried_start = false;
        loop {
            if self.shutdown.is_cancelled() {
                return;
            }
            let res = tokio::select! {
                _ = self.shutdown.cancelled() => return,
                r = Subscription::connect(&socket, self.surface) => r,
            };
            let failure = match res {
                Ok(sub) => {
                    tried_start = false;
                    match self.stream(sub, &socket, &mut attempt).await {
                        None => return,
                        Some(why) => Some(why),
                    }
                }
                Err(ClientError::NotRunning(_)) if self.start_daemon && !tried_start => {
                    tried_start = true;
                    self.set(
                        DaemonConn::Connecting,
                        Some("starting the Reins daemon".into()),
                    );
                    match self.launch(&socket).await {
                        Ok(()) => {
                            // A daemon answered: if it goes before we
                            // subscribe, starting another is allowed.
                            tried_start = false;
                            continue;
                        }
                        Err(e) => {
                            self.set(DaemonConn::Unavailable, Some(e.to_string()));
                            None
                        }
                    }
                }
                Err(ClientError::NotRunning(_)) if !self.start_daemon => {
                    self.set(
                        DaemonConn::Unavailable,
                        Some(
                            "the Reins daemon is not running; start it with `reins daemon`".into(),
                        ),
                    );
                    None
                }
                // A start failed: keep saying why (and keep polling, in case
                // someone starts it by hand) until `retry` asks to start again.
                Err(ClientError::NotRunning(_)) => None,
                Err(e) => Some(e.to_string()),
            };
            if let Some(why) = failure {
                self.set(DaemonConn::Connecting, Some(why));
            }
            let delay = jitter(backoff(attempt), &mut rand::thread_rng());
            attempt = attempt.saturating_add(1);
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
                _ = self.retry.notified() => {
                    tried_start = false;
                    attempt = 0;
                }
            }
        }
    }

    async fn launch(&self, socket: &std::path::Path) -> Result<(), LaunchError> {
        let bin = find_reins(self.reins_bin.as_deref()).ok_or(LaunchError::NoBinary)?;
        tokio::select! {
            _ = self.shutdown.cancelled() => Ok(()),
            r = start_daemon(&bin, socket, &self.daemon_log, &self.daemon_env) => r,
        }
    }

    /// Feed the state from one subscription. `None`: shut down; `Some(why)`:
    /// the stream ended and the task should reconnect.
    async fn stream(
        &self,
        mut sub: Subscription,
        socket: &std::path::Path,
        attempt: &mut u32,
    ) -> Option<String> {
        loop {
            let next = tokio::select! {
                _ = self.shutdown.cancelled() => return None,
                n = sub.next() => n,
            };
            let event = match next {
                Ok(Some(e)) => e,
                Ok(None) => return Some("the Reins daemon closed the connection".into()),
                Err(e) => return Some(e.to_string()),
            };
            let is_snapshot = matches!(
                event,
                reins_runtime::ipc::proto::StreamEvent::Snapshot { .. }
            );
            let mut emitted = Emitted::Nothing;
            self.state.send_modify(|s| emitted = apply(s, event));
            match emitted {
                Emitted::Nothing => {}
                Emitted::Halted(h) => {
                    let _ = self.halts.send(h);
                }
                Emitted::Open(v) => {
                    let _ = self.opens.send(v);
                }
            }
            if is_snapshot {
                *attempt = 0;
                self.refresh_link(socket).await;
            }
        }
    }

    /// The link summary is not part of the stream: ask once per snapshot.
    async fn refresh_link(&self, socket: &std::path::Path) {
        let status =
            tokio::time::timeout(Duration::from_secs(2), call_async(socket, &Request::Status));
        if let Ok(Ok(Response::Status {
            link: Some(link), ..
        })) = status.await
        {
            let v = link_view(&link);
            self.state.send_if_modified(|s| {
                if s.link.as_ref() == Some(&v) {
                    false
                } else {
                    s.link = Some(v);
                    true
                }
            });
        }
    }
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
