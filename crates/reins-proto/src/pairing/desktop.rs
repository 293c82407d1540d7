//! The desktop side of pairing: waits for one hello, shows the code, and
//! turns the local user's Confirm/Reject into a pair key or a burned token.
//!
//! Not here: rendering the QR code, the confirmation dialog, storing the
//! resulting key (the daemon puts K in the keyring), or MQTT.

use super::{PairingFailure, PairingOffer, PairingToken, Refusal, name_is_valid, token_keys};
use crate::channel::{Outgoing, PairChannel, Role};
use crate::codec::unb64_array;
use crate::envelope::OpenError;
use crate::keys::{IdentityKeyPair, PairKey, VerificationCode, transcript_hash};
use crate::payload::{PairingAccepted, PairingRejectReason, PairingRejected, Payload};
use crate::replay::{OutgoingSeq, ReplayWindow};
use rand::{CryptoRng, RngCore};

/// What the desktop's pairing machine is told.
#[derive(Clone, Copy, Debug)]
pub enum DesktopInput<'a> {
    /// Bytes that arrived on the pairing topic.
    Received {
        /// The topic they arrived on.
        topic: &'a str,
        /// The payload.
        bytes: &'a [u8],
    },
    /// The local user confirmed that both screens show the same code.
    Confirm,
    /// The local user rejected (or closed the dialog).
    Reject,
    /// Time passed; checks expiry.
    Tick,
}

/// A successfully paired phone, for the daemon to store.
#[derive(Debug)]
pub struct PairedPhone {
    /// The name the phone gave.
    pub device_name: String,
    /// The phone's public key.
    pub phone_public: [u8; 32],
    /// K. Store it in the OS keyring.
    pub key: PairKey,
    /// Topic prefix for the pair's channel.
    pub topic_prefix: String,
    /// The code the user compared.
    pub code: VerificationCode,
    /// The pair's desktop→phone counter: `pairing_accepted` took seq 1, so
    /// the first paired message is seq 2. Persist it as the device's send
    /// counter; the phone keeps one d2p window across both topics.
    pub out_seq: OutgoingSeq,
}

/// What the caller must do.
#[derive(Debug)]
pub enum DesktopAction {
    /// Show this code next to the phone's name and ask the user to compare.
    ShowCode {
        /// The phone's claimed name.
        device_name: String,
        /// The code.
        code: VerificationCode,
    },
    /// Publish this (QoS1, not retained).
    Publish(Outgoing),
    /// Done: store the phone. The token is burned.
    Paired(PairedPhone),
    /// Done without a phone. The token is burned.
    Failed(PairingFailure),
    /// One input was ignored.
    Refused(Refusal),
}

struct Pending {
    hello_msg_id: [u8; 16],
    device_name: String,
    phone_public: [u8; 32],
    key: PairKey,
    code: VerificationCode,
}

enum State {
    AwaitingHello,
    AwaitingConfirm(Pending),
    Finished,
}

/// Token-bound material; dropped (and zeroized) when pairing finishes.
struct Live {
    token: PairingToken,
    chan: PairChannel,
    seq: OutgoingSeq,
}

/// The desktop's pairing state machine for one offer.
pub struct DesktopPairing {
    identity: IdentityKeyPair,
    desktop_name: String,
    pairing_topic: String,
    topic_prefix: String,
    expires_at_ms: u64,
    live: Option<Live>,
    state: State,
}

impl std::fmt::Debug for DesktopPairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::AwaitingHello => "awaiting_hello",
            State::AwaitingConfirm(_) => "awaiting_confirm",
            State::Finished => "finished",
        };
        f.debug_struct("DesktopPairing")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl DesktopPairing {
    /// Starts waiting for a hello on `offer`. `identity` must be the one the
    /// offer was made from; `desktop_name` is sent to the phone on success.
    pub fn new(identity: &IdentityKeyPair, offer: &PairingOffer, desktop_name: &str) -> Self {
        let chan = PairChannel::pairing(
            Role::Desktop,
            token_keys(&offer.token),
            &offer.pairing_topic,
        );
        Self {
            identity: IdentityKeyPair::from_secret_bytes(*identity.secret_bytes()),
            desktop_name: desktop_name.to_owned(),
            pairing_topic: offer.pairing_topic.clone(),
            topic_prefix: offer.topic_prefix.clone(),
            expires_at_ms: offer.expires_at_ms,
            live: Some(Live {
                token: offer.token.clone(),
                chan,
                seq: OutgoingSeq::new(),
            }),
            state: State::AwaitingHello,
        }
    }

    /// True once the token is burned (paired, rejected, expired or cancelled).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// Feeds one input; returns what to do.
    pub fn handle<R: RngCore + CryptoRng>(
        &mut self,
        input: DesktopInput<'_>,
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        if matches!(self.state, State::Finished) {
            return match input {
                DesktopInput::Received { .. } => vec![DesktopAction::Refused(Refusal::TokenSpent)],
                DesktopInput::Confirm | DesktopInput::Reject => {
                    vec![DesktopAction::Refused(Refusal::NotNow)]
                }
                DesktopInput::Tick => vec![],
            };
        }
        if now_ms > self.expires_at_ms {
            let mut out = Vec::new();
            if matches!(self.state, State::AwaitingConfirm(_)) {
                out.extend(self.reject_publish(PairingRejectReason::Expired, now_ms, rng));
            }
            self.burn();
            out.push(DesktopAction::Failed(PairingFailure::Expired));
            return out;
        }
        match input {
            DesktopInput::Received { topic, bytes } => self.on_received(topic, bytes, now_ms),
            DesktopInput::Confirm => self.on_confirm(now_ms, rng),
            DesktopInput::Reject => {
                let mut out = Vec::new();
                let failure = if matches!(self.state, State::AwaitingConfirm(_)) {
                    let reason = PairingRejectReason::UserRejected;
                    out.extend(self.reject_publish(reason, now_ms, rng));
                    PairingFailure::Rejected
                } else {
                    PairingFailure::Cancelled
                };
                self.burn();
                out.push(DesktopAction::Failed(failure));
                out
            }
            DesktopInput::Tick => vec![],
        }
    }

    fn burn(&mut self) {
        self.live = None;
        self.state = State::Finished;
    }

    fn on_received(&mut self, topic: &str, bytes: &[u8], now_ms: u64) -> Vec<DesktopAction> {
        let Some(live) = self.live.as_mut() else {
            return vec![];
        };
        // Every phone's hello has seq 1, so a shared seq window would mistake
        // a racing hello for a redelivery. Only the timestamp rule applies
        // here; redeliveries are recognised by msg_id below.
        let (msg_id, hello) = match live
            .chan
            .open(topic, bytes, &mut ReplayWindow::new(), now_ms)
        {
            Ok(inc) => match inc.payload {
                Payload::PairingHello(h) => (inc.header.msg_id, h),
                // kind_ok only admits pairing_hello from the phone.
                _ => return vec![DesktopAction::Refused(Refusal::Invalid(OpenError::Forged))],
            },
            Err(e) => return vec![DesktopAction::Refused(Refusal::Invalid(e))],
        };
        if let State::AwaitingConfirm(p) = &self.state {
            if p.hello_msg_id == msg_id {
                // A QoS1 redelivery of the hello we already took.
                return vec![];
            }
            // First valid hello wins; this one raced it.
            return vec![DesktopAction::Refused(Refusal::TokenSpent)];
        }
        let Some(phone_public) = unb64_array::<32>(&hello.phone_public) else {
            self.burn();
            return vec![DesktopAction::Failed(PairingFailure::InvalidPeer(
                "public key",
            ))];
        };
        if !name_is_valid(&hello.device_name) {
            self.burn();
            return vec![DesktopAction::Failed(PairingFailure::InvalidPeer(
                "device name",
            ))];
        }
        let Ok(shared) = self.identity.diffie_hellman(&phone_public) else {
            self.burn();
            return vec![DesktopAction::Failed(PairingFailure::InvalidPeer(
                "low-order key",
            ))];
        };
        let th = transcript_hash(
            &self.identity.public(),
            &phone_public,
            &self.pairing_topic,
            &hello.device_name,
        );
        let key = PairKey::from_exchange(&shared, live.token.as_bytes(), &th);
        let code = key.verification_code();
        let device_name = hello.device_name;
        self.state = State::AwaitingConfirm(Pending {
            hello_msg_id: msg_id,
            device_name: device_name.clone(),
            phone_public,
            key,
            code,
        });
        vec![DesktopAction::ShowCode { device_name, code }]
    }

    fn on_confirm<R: RngCore + CryptoRng>(
        &mut self,
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        let State::AwaitingConfirm(p) = std::mem::replace(&mut self.state, State::Finished) else {
            self.state = State::AwaitingHello;
            return vec![DesktopAction::Refused(Refusal::NotNow)];
        };
        self.live = None;
        let chan = PairChannel::pairing(Role::Desktop, p.key.channel_keys(), &self.pairing_topic);
        let body = Payload::PairingAccepted(PairingAccepted {
            desktop_name: self.desktop_name.clone(),
        });
        let mut out = Vec::new();
        // `pairing_accepted` is d2p seq 1 of the pair (docs/protocol.md §9.2);
        // the paired channel continues from this counter.
        let mut out_seq = OutgoingSeq::new();
        // Sealing fails only for an absurd desktop name; the pair is still valid.
        if let Ok(msg) = chan.seal(&mut out_seq, &body, now_ms, rng) {
            out.push(DesktopAction::Publish(msg));
        }
        out.push(DesktopAction::Paired(PairedPhone {
            device_name: p.device_name,
            phone_public: p.phone_public,
            key: p.key,
            topic_prefix: self.topic_prefix.clone(),
            code: p.code,
            out_seq,
        }));
        out
    }

    fn reject_publish<R: RngCore + CryptoRng>(
        &mut self,
        reason: PairingRejectReason,
        now_ms: u64,
        rng: &mut R,
    ) -> Option<DesktopAction> {
        let live = self.live.as_mut()?;
        let body = Payload::PairingRejected(PairingRejected { reason });
        live.chan
            .seal(&mut live.seq, &body, now_ms, rng)
            .ok()
            .map(DesktopAction::Publish)
    }
}
