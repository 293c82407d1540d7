//! The task that owns the WebSocket (see the parent module).

use super::{
    Command, DEVICE_KEY_SECRET, LinkConfig, LinkError, LinkEvent, LinkOptions, LinkStatus,
};
use crate::device::DeviceIdentity;
use crate::machine::{Action, CloseReason, Machine, MachineConfig};
use futures_util::{SinkExt as _, StreamExt as _};
use reins_link::SecretStore;
use reins_link::backoff::{Backoff, STABLE_AFTER};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

/// Hard ceiling on one message, whatever hello-ok says.
const HARD_MAX_MESSAGE: usize = 64 * 1024 * 1024;

pub(super) struct LinkTask {
    pub(super) config: LinkConfig,
    pub(super) options: LinkOptions,
    pub(super) secrets: Arc<dyn SecretStore>,
    pub(super) shutdown: CancellationToken,
    pub(super) status: watch::Sender<LinkStatus>,
    pub(super) events: mpsc::Sender<LinkEvent>,
    pub(super) calls: mpsc::Receiver<Command>,
    pub(super) approver: watch::Receiver<bool>,
}

enum Outcome {
    Shutdown,
    Closed {
        reason: CloseReason,
        up_for: Option<Duration>,
    },
}

impl LinkTask {
    fn url(&self) -> String {
        self.config.target.url.clone()
    }

    async fn set_status(&self, status: LinkStatus) {
        let changed = self.status.send_if_modified(|s| {
            let changed = *s != status;
            *s = status.clone();
            changed
        });
        if changed {
            let _ = self.events.send(LinkEvent::Status(status)).await;
        }
    }

    /// Wait `delay` while answering calls with NotConnected; false on shutdown.
    async fn wait(
        &mut self,
        delay: Duration,
        machine: &mut Option<Machine<super::ReplyTx>>,
    ) -> bool {
        let until = Instant::now() + delay;
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                cmd = self.calls.recv() => match cmd {
                    Some(cmd) => {
                        let _ = cmd.reply.send(Err(LinkError::NotConnected(format!("{}: {}", self.url(), self.down_words()))));
                    }
                    None => return false,
                },
                changed = self.approver.changed() => {
                    if changed.is_err() { return false; }
                    let v = *self.approver.borrow_and_update();
                    if let Some(m) = machine.as_mut() { let _ = m.set_approver(v); }
                }
            }
        }
    }

    fn down_words(&self) -> String {
        match &*self.status.borrow() {
            LinkStatus::Down { error, .. } | LinkStatus::Refused { error, .. } => error.clone(),
            _ => "connecting".into(),
        }
    }

    pub(super) async fn run(mut self) {
        let url = self.url();
        let mut slot: Option<Machine<super::ReplyTx>> = None;
        let mut backoff = Backoff::new(self.options.backoff);
        loop {
            let machine = match slot.as_mut() {
                Some(m) => m,
                None => match DeviceIdentity::load_or_create(&*self.secrets, DEVICE_KEY_SECRET) {
                    Ok(identity) => {
                        let cfg = MachineConfig {
                            url: url.clone(),
                            token: self.config.target.token.clone(),
                            version: self.config.version.clone(),
                            display_name: self.config.display_name.clone(),
                            request_timeout: self.config.request_timeout,
                        };
                        slot.insert(Machine::new(
                            cfg,
                            identity,
                            *self.approver.borrow_and_update(),
                        ))
                    }
                    Err(e) => {
                        let retry = self.options.refused_retry;
                        self.set_status(LinkStatus::Down {
                            url: url.clone(),
                            error: e.to_string(),
                            retry_in_ms: retry.as_millis() as u64,
                        })
                        .await;
                        if !self.wait(retry, &mut slot).await {
                            return;
                        }
                        continue;
                    }
                },
            };
            self.set_status(LinkStatus::Connecting { url: url.clone() })
                .await;
            let outcome = self.connection(machine).await;
            let (reason, up_for) = match outcome {
                Outcome::Shutdown => return,
                Outcome::Closed { reason, up_for } => (reason, up_for),
            };
            if up_for.is_some_and(|d| d >= STABLE_AFTER) {
                backoff.reset();
            }
            let (status, delay) = match reason {
                CloseReason::Reconnect => {
                    (LinkStatus::Connecting { url: url.clone() }, Duration::ZERO)
                }
                CloseReason::NotReady { error, retry_after } => (
                    LinkStatus::Down {
                        url: url.clone(),
                        error,
                        retry_in_ms: u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX),
                    },
                    retry_after,
                ),
                CloseReason::Refused(error) => (
                    LinkStatus::Refused {
                        url: url.clone(),
                        error,
                    },
                    self.options.refused_retry,
                ),
                CloseReason::Failed(error) => {
                    let delay = backoff.next_delay(&mut rand::thread_rng());
                    let retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
                    (
                        LinkStatus::Down {
                            url: url.clone(),
                            error,
                            retry_in_ms,
                        },
                        delay,
                    )
                }
            };
            self.set_status(status).await;
            if !self.wait(delay, &mut slot).await {
                return;
            }
        }
    }

    /// One connection, from TCP connect to close.
    async fn connection(&mut self, m: &mut Machine<super::ReplyTx>) -> Outcome {
        let url = self.url();
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(HARD_MAX_MESSAGE))
            .max_frame_size(Some(HARD_MAX_MESSAGE));
        let connect =
            tokio_tungstenite::connect_async_with_config(url.as_str(), Some(ws_config), true);
        let ws = tokio::select! {
            _ = self.shutdown.cancelled() => return Outcome::Shutdown,
            r = tokio::time::timeout(self.config.request_timeout, connect) => match r {
                Ok(Ok((ws, _))) => ws,
                Ok(Err(e)) => return closed(format!("cannot reach OpenClaw's gateway at {url}: {e}; is it running?")),
                Err(_) => return closed(format!("OpenClaw's gateway at {url} did not accept the connection in time")),
            },
        };
        let (mut sink, mut stream) = ws.split();
        let mut up_since: Option<Instant> = None;
        let mut actions = m.on_open(Instant::now().into_std());
        loop {
            // Apply what the machine asked for.
            let mut close = None;
            for action in actions.drain(..) {
                match action {
                    Action::Send(text) => {
                        if let Err(e) = sink.send(Message::text(text)).await {
                            close.get_or_insert(CloseReason::Failed(format!(
                                "lost OpenClaw's gateway: {e}"
                            )));
                        }
                    }
                    Action::Emit(ev) => {
                        if let LinkEvent::Status(s) = &ev {
                            if matches!(s, LinkStatus::Up { .. }) && up_since.is_none() {
                                up_since = Some(Instant::now());
                            }
                            self.status.send_replace(s.clone());
                        }
                        let _ = self.events.send(ev).await;
                    }
                    Action::Reply(tx, r) => {
                        let _ = tx.send(r);
                    }
                    Action::Close(reason) => {
                        close.get_or_insert(reason);
                    }
                    Action::Warn(w) => tracing::warn!(target: "reins_openclaw", "{w}"),
                }
            }
            if let Some(reason) = close {
                let _ = sink.close().await;
                for action in m.on_closed() {
                    match action {
                        Action::Reply(tx, r) => {
                            let _ = tx.send(r);
                        }
                        Action::Emit(ev) => {
                            let _ = self.events.send(ev).await;
                        }
                        _ => {}
                    }
                }
                return Outcome::Closed {
                    reason,
                    up_for: up_since.map(|t| t.elapsed()),
                };
            }
            let deadline = m.next_deadline().map(Instant::from_std);
            actions = tokio::select! {
                _ = self.shutdown.cancelled() => {
                    let _ = sink.close().await;
                    let _ = m.on_closed();
                    return Outcome::Shutdown;
                }
                msg = stream.next() => match msg {
                    Some(Ok(Message::Text(t))) => m.on_text(t.as_str(), Instant::now().into_std()),
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map(|f| format!("{} {}", u16::from(f.code), f.reason)).unwrap_or_default();
                        vec![Action::Close(CloseReason::Failed(format!("OpenClaw's gateway closed the connection {why}").trim_end().to_owned()))]
                    }
                    Some(Ok(Message::Binary(_))) => vec![Action::Warn("OpenClaw's gateway sent a binary frame; ignored".into())],
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(e)) => vec![Action::Close(CloseReason::Failed(format!("lost OpenClaw's gateway: {e}")))],
                    None => vec![Action::Close(CloseReason::Failed("OpenClaw's gateway closed the connection".into()))],
                },
                cmd = self.calls.recv() => match cmd {
                    Some(Command { call, reply }) => m.call(call, reply, Instant::now().into_std()),
                    None => {
                        let _ = sink.close().await;
                        return Outcome::Shutdown;
                    }
                },
                changed = self.approver.changed() => {
                    if changed.is_err() {
                        return Outcome::Shutdown;
                    }
                    let v = *self.approver.borrow_and_update();
                    m.set_approver(v)
                }
                _ = sleep_until_opt(deadline) => m.on_timer(Instant::now().into_std()),
            };
        }
    }
}

fn closed(error: String) -> Outcome {
    Outcome::Closed {
        reason: CloseReason::Failed(error),
        up_for: None,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
