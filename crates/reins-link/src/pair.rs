//! Desktop pairing over the link: makes a [`PairingOffer`] (URL + QR),
//! listens on its one-off topic, feeds what arrives to
//! `reins_proto::pairing::DesktopPairing`, asks the local user to compare
//! the code, and stores the phone on success.
//!
//! The token is burned however the session ends (confirm, reject, expiry,
//! an invalid hello). [`PairingSession::run`] returns as soon as pairing
//! ends, but a task of the link keeps listening on the pairing topic until
//! the offer's expiry, only to answer late hellos (a second phone, or the
//! same link opened again) with `pairing_rejected {"reason":"already_used"}`;
//! then it unsubscribes. It stops early when the link shuts down.
//! On confirm the phone is stored *before* `pairing_accepted` is published,
//! so a phone never believes in a pairing the desktop forgot.
//!
//! Not here: the prompt itself (the CLI passes a `confirm` closure), the
//! protocol checks (reins-proto), and the phone side ([`crate::phone`]).

use crate::link::{LinkError, LinkHandle};
use crate::now_ms;
use crate::qr::{QrError, render_terminal};
use crate::store::DeviceInfo;
use reins_proto::pairing::{
    DesktopAction, DesktopInput, DesktopPairing, MAX_OFFER_TTL_MS, OfferError, PairingFailure,
    PairingOffer, Refusal,
};
use reins_proto::{IdentityKeyPair, VerificationCode};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// Default offer lifetime: the protocol maximum, 3 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_millis(MAX_OFFER_TTL_MS);

/// The base of pairing links when no page hosts the phone app (the daemon
/// sets [`PairingOptions::base_url`] to the app it serves, or to
/// `phone.app_url`). The offer is entirely in the `#` fragment, so any
/// Reins client can read such a link; only a browser cannot open it.
pub const DEFAULT_BASE_URL: &str = "reins:pair";

/// What to put in the offer.
#[derive(Clone, Debug)]
pub struct PairingOptions {
    /// Broker URLs *as the phone must use them* (LAN IP, not 127.0.0.1).
    pub phone_brokers: Vec<String>,
    /// Topic prefix (empty, or e.g. `reins/` for broker ACLs).
    pub topic_prefix: String,
    /// Offer lifetime, at most 3 minutes.
    pub ttl: Duration,
    /// Sent to the phone on success.
    pub desktop_name: String,
    /// Page hosting the phone client (the secrets stay in the `#`, which a
    /// browser never sends to that page's server).
    pub base_url: String,
}

impl PairingOptions {
    /// Defaults for these broker URLs.
    pub fn new(phone_brokers: Vec<String>, desktop_name: &str) -> Self {
        Self {
            phone_brokers,
            topic_prefix: String::new(),
            ttl: DEFAULT_TTL,
            desktop_name: desktop_name.to_owned(),
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }
}

/// What the user must compare: "Does the phone show 123456? [y/N]".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodePrompt {
    /// The name the phone claims.
    pub device_name: String,
    /// The six-digit code (`Display` zero-pads it).
    pub code: VerificationCode,
}

/// Things worth telling the user while pairing runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairingNotice {
    /// A *second* device sent a valid hello: someone else has the QR code.
    AnotherDeviceTried,
    /// A message on the pairing topic did not open (garbage or forged).
    IgnoredMessage,
}

/// Why pairing did not produce a device.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// The offer could not be made.
    #[error("cannot create a pairing offer: {0}")]
    Offer(#[from] OfferError),
    /// The link failed.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// Pairing ended without a device; the code is now void.
    #[error("{0}; run `reins pair` again for a new code")]
    Failed(PairingFailure),
}

/// One pairing offer in progress.
#[derive(Debug)]
pub struct PairingSession {
    link: LinkHandle,
    machine: DesktopPairing,
    url: String,
    topic: String,
    expires_at_ms: u64,
    rx: tokio::sync::mpsc::Receiver<crate::link::RawMessage>,
}

impl PairingSession {
    /// Creates the offer and subscribes to its topic (waits until the broker
    /// acknowledged, so a phone scanning at once is heard).
    pub async fn start(
        link: &LinkHandle,
        identity: &IdentityKeyPair,
        opts: &PairingOptions,
    ) -> Result<Self, PairError> {
        let ttl = u64::try_from(opts.ttl.as_millis()).unwrap_or(u64::MAX);
        let offer = PairingOffer::new(
            identity,
            opts.phone_brokers.clone(),
            &opts.topic_prefix,
            now_ms(),
            ttl,
            &mut rand::rngs::OsRng,
        )?;
        let rx = link.subscribe_raw(&offer.pairing_topic).await?;
        link.wait_ready(opts.ttl).await?;
        Ok(Self {
            link: link.clone(),
            machine: DesktopPairing::new(identity, &offer, &opts.desktop_name),
            url: offer.to_url(&opts.base_url),
            topic: offer.pairing_topic.clone(),
            expires_at_ms: offer.expires_at_ms,
            rx,
        })
    }

    /// The pairing URL (contains the token: show it only to the user).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL as a terminal QR code.
    pub fn qr(&self) -> Result<String, QrError> {
        render_terminal(&self.url)
    }

    /// Unix ms at which the offer dies.
    pub fn expires_at_ms(&self) -> u64 {
        self.expires_at_ms
    }

    /// Runs until paired or failed. `confirm` is called once, when a phone's
    /// hello opens; it resolves to the user's answer. `notice` hears about
    /// ignored messages and racing devices. Afterwards the link answers late
    /// hellos with `already_used` until the offer expires (module docs).
    pub async fn run<F, Fut, N>(
        mut self,
        confirm: F,
        mut notice: N,
    ) -> Result<DeviceInfo, PairError>
    where
        F: FnOnce(CodePrompt) -> Fut,
        Fut: Future<Output = bool>,
        N: FnMut(PairingNotice),
    {
        let result = self.drive(confirm, &mut notice).await;
        if matches!(result, Err(PairError::Link(LinkError::Stopped))) {
            return result;
        }
        let tracker = self.link.tracker.clone();
        tracker.spawn(self.linger());
        result
    }

    /// After the end: answers late hellos until the offer expires (or the
    /// link stops), then unsubscribes the pairing topic.
    async fn linger(mut self) {
        let mut rng = rand::rngs::OsRng;
        let cancel = self.link.cancel.clone();
        let left = self.expires_at_ms.saturating_sub(now_ms()) + 1;
        let mut deadline = Instant::now() + Duration::from_millis(left);
        while self.machine.is_listening(now_ms()) {
            let actions = tokio::select! {
                _ = cancel.cancelled() => return,
                msg = self.rx.recv() => {
                    let Some(m) = msg else { return };
                    let input = DesktopInput::Received { topic: &m.topic, bytes: &m.payload };
                    self.machine.handle(input, now_ms(), &mut rng)
                }
                _ = tokio::time::sleep_until(deadline) => {
                    deadline = Instant::now() + Duration::from_millis(5);
                    self.machine.handle(DesktopInput::Tick, now_ms(), &mut rng)
                }
            };
            for action in actions {
                match action {
                    DesktopAction::Publish(o) => {
                        if let Err(e) = self.link.publish_raw(&o.topic, o.bytes).await {
                            tracing::warn!(error = %e, "could not answer a late pairing hello");
                        }
                    }
                    DesktopAction::Refused(r) => {
                        tracing::debug!(refusal = %r, "late pairing input refused")
                    }
                    other => tracing::debug!(?other, "unexpected action after pairing"),
                }
            }
        }
        let _ = self.link.unsubscribe_raw(&self.topic).await;
    }

    async fn drive<F, Fut, N>(
        &mut self,
        confirm: F,
        notice: &mut N,
    ) -> Result<DeviceInfo, PairError>
    where
        F: FnOnce(CodePrompt) -> Fut,
        Fut: Future<Output = bool>,
        N: FnMut(PairingNotice),
    {
        let mut confirm = Some(confirm);
        let mut answer: Option<std::pin::Pin<Box<Fut>>> = None;
        let left = self.expires_at_ms.saturating_sub(now_ms()) + 1;
        let mut deadline = Instant::now() + Duration::from_millis(left);
        let mut rng = rand::rngs::OsRng;
        loop {
            let actions = tokio::select! {
                msg = self.rx.recv() => {
                    let Some(m) = msg else { return Err(LinkError::Stopped.into()) };
                    let input = DesktopInput::Received { topic: &m.topic, bytes: &m.payload };
                    self.machine.handle(input, now_ms(), &mut rng)
                }
                yes = async { answer.as_mut().expect("guarded").await }, if answer.is_some() => {
                    answer = None;
                    let input = if yes { DesktopInput::Confirm } else { DesktopInput::Reject };
                    self.machine.handle(input, now_ms(), &mut rng)
                }
                _ = tokio::time::sleep_until(deadline) => {
                    deadline = Instant::now() + Duration::from_millis(5);
                    self.machine.handle(DesktopInput::Tick, now_ms(), &mut rng)
                }
            };
            // Store first, publish the acceptance second.
            let mut publish = Vec::new();
            let mut outcome = None;
            for action in actions {
                match action {
                    DesktopAction::ShowCode { device_name, code } => {
                        if let Some(f) = confirm.take() {
                            answer = Some(Box::pin(f(CodePrompt { device_name, code })));
                        }
                    }
                    DesktopAction::Publish(o) => publish.push(o),
                    DesktopAction::Paired(p) => {
                        outcome = Some(self.link.add_device(p).await.map_err(PairError::from));
                    }
                    DesktopAction::Failed(f) => outcome = Some(Err(PairError::Failed(f))),
                    DesktopAction::Refused(Refusal::TokenSpent) => {
                        notice(PairingNotice::AnotherDeviceTried)
                    }
                    DesktopAction::Refused(r) => {
                        tracing::debug!(refusal = %r, "pairing input ignored");
                        notice(PairingNotice::IgnoredMessage)
                    }
                }
            }
            let stored = !matches!(outcome, Some(Err(PairError::Link(_))));
            for o in publish.into_iter().filter(|_| stored) {
                if let Err(e) = self.link.publish_raw(&o.topic, o.bytes).await {
                    tracing::warn!(error = %e, "could not publish a pairing reply");
                }
            }
            if let Some(r) = outcome {
                return r;
            }
        }
    }
}
