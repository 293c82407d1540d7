//! The desktop side of pairing: waits for one hello, shows the code, and
//! turns the local user's Confirm/Reject into a pair key or a burned token.
//!
//! A later authentic hello that can never be accepted (the token is spent,
//! or another hello awaits confirmation) is answered with
//! `pairing_rejected {"reason":"already_used"}`, at most
//! [`MAX_ALREADY_USED_REPLIES`] times per offer, and until the offer's
//! expiry only: then the token-derived keys are dropped too.
//!
//! Not here: rendering the QR code, the confirmation dialog, storing the
//! resulting key (the daemon puts K in the keyring), or MQTT.

use super::{PairingFailure, PairingOffer, PairingToken, Refusal, name_is_valid, token_keys};
use crate::channel::{Outgoing, PairChannel, Role};
use crate::codec::{b64, unb64_array};
use crate::envelope::OpenError;
use crate::keys::{IdentityKeyPair, PairKey, VerificationCode, transcript_hash};
use crate::payload::PairingHello;
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

/// How many `already_used` answers one offer sends at most, so that a token
/// holder cannot make the desktop publish one message per message it sends.
pub const MAX_ALREADY_USED_REPLIES: u32 = 8;

struct Pending {
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

/// Token-bound material. The token itself is dropped (and zeroized) when
/// pairing finishes; the channel stays until the offer expires, only to
/// answer late hellos with `already_used`.
struct Live {
    token: Option<PairingToken>,
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
    /// The hello that spent the token (a redelivery of it stays silent).
    spent_by: Option<[u8; 16]>,
    /// `already_used` answers sent so far.
    replies: u32,
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
                token: Some(offer.token.clone()),
                chan,
                seq: OutgoingSeq::new(),
            }),
            state: State::AwaitingHello,
            spent_by: None,
            replies: 0,
        }
    }

    /// True once the token is burned (paired, rejected, expired or cancelled).
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Finished)
    }

    /// True while the pairing topic is worth listening to: before the end,
    /// and after it until the offer's expiry (to answer late hellos with
    /// `already_used`). Once false it stays false; unsubscribe.
    pub fn is_listening(&self, now_ms: u64) -> bool {
        self.live.is_some() && now_ms <= self.expires_at_ms
    }

    /// Feeds one input; returns what to do.
    pub fn handle<R: RngCore + CryptoRng>(
        &mut self,
        input: DesktopInput<'_>,
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        if matches!(self.state, State::Finished) {
            if now_ms > self.expires_at_ms {
                // Past the offer's life nobody needs an answer: forget the keys.
                self.live = None;
            }
            return match input {
                DesktopInput::Received { topic, bytes } => self.on_spent(topic, bytes, now_ms, rng),
                DesktopInput::Confirm | DesktopInput::Reject => {
                    vec![DesktopAction::Refused(Refusal::NotNow)]
                }
                DesktopInput::Tick => vec![],
            };
        }
        if now_ms > self.expires_at_ms {
            let mut out = Vec::new();
            if matches!(self.state, State::AwaitingConfirm(_)) {
                out.extend(self.reject_publish(PairingRejectReason::Expired, None, now_ms, rng));
            }
            self.burn();
            self.live = None;
            out.push(DesktopAction::Failed(PairingFailure::Expired));
            return out;
        }
        match input {
            DesktopInput::Received { topic, bytes } => self.on_received(topic, bytes, now_ms, rng),
            DesktopInput::Confirm => self.on_confirm(now_ms, rng),
            DesktopInput::Reject => {
                let mut out = Vec::new();
                let failure = if matches!(self.state, State::AwaitingConfirm(_)) {
                    let reason = PairingRejectReason::UserRejected;
                    out.extend(self.reject_publish(reason, None, now_ms, rng));
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

    /// Ends pairing: the token is gone, the token channel stays until expiry.
    fn burn(&mut self) {
        if let Some(live) = self.live.as_mut() {
            live.token = None;
        }
        self.state = State::Finished;
    }

    /// Opens a hello under the token keys.
    fn open_hello(
        &self,
        topic: &str,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<([u8; 16], PairingHello), Refusal> {
        let Some(live) = self.live.as_ref() else {
            return Err(Refusal::TokenSpent);
        };
        // Every phone's hello has seq 1, so a shared seq window would mistake
        // a racing hello for a redelivery. Only the timestamp rule applies
        // here; redeliveries are recognised by msg_id.
        match live
            .chan
            .open(topic, bytes, &mut ReplayWindow::new(), now_ms)
        {
            Ok(inc) => match inc.payload {
                Payload::PairingHello(h) => Ok((inc.header.msg_id, h)),
                // kind_ok only admits pairing_hello from the phone.
                _ => Err(Refusal::Invalid(OpenError::Forged)),
            },
            Err(e) => Err(Refusal::Invalid(e)),
        }
    }

    /// An authentic hello that will never be accepted: refuse it, and tell
    /// its phone so while the reply budget lasts. A redelivery of the hello
    /// that spent the token stays silent.
    fn refuse_spent<R: RngCore + CryptoRng>(
        &mut self,
        msg_id: [u8; 16],
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        if self.spent_by == Some(msg_id) {
            return vec![];
        }
        let mut out = Vec::new();
        if self.replies < MAX_ALREADY_USED_REPLIES {
            let reason = PairingRejectReason::AlreadyUsed;
            if let Some(p) = self.reject_publish(reason, Some(msg_id), now_ms, rng) {
                self.replies += 1;
                out.push(p);
            }
        }
        out.push(DesktopAction::Refused(Refusal::TokenSpent));
        out
    }

    fn on_spent<R: RngCore + CryptoRng>(
        &mut self,
        topic: &str,
        bytes: &[u8],
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        match self.open_hello(topic, bytes, now_ms) {
            Ok((msg_id, _)) => self.refuse_spent(msg_id, now_ms, rng),
            Err(r) => vec![DesktopAction::Refused(r)],
        }
    }

    fn on_received<R: RngCore + CryptoRng>(
        &mut self,
        topic: &str,
        bytes: &[u8],
        now_ms: u64,
        rng: &mut R,
    ) -> Vec<DesktopAction> {
        let (msg_id, hello) = match self.open_hello(topic, bytes, now_ms) {
            Ok(h) => h,
            Err(r) => return vec![DesktopAction::Refused(r)],
        };
        if matches!(self.state, State::AwaitingConfirm(_)) {
            // First valid hello wins; a different one raced it.
            return self.refuse_spent(msg_id, now_ms, rng);
        }
        self.spent_by = Some(msg_id);
        let Some(token) = self.live.as_ref().and_then(|l| l.token.as_ref()) else {
            return vec![DesktopAction::Refused(Refusal::TokenSpent)];
        };
        let token = token.clone();
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
        let key = PairKey::from_exchange(&shared, token.as_bytes(), &th);
        let code = key.verification_code();
        let device_name = hello.device_name;
        self.state = State::AwaitingConfirm(Pending {
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
        self.burn();
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
        hello_msg_id: Option<[u8; 16]>,
        now_ms: u64,
        rng: &mut R,
    ) -> Option<DesktopAction> {
        let live = self.live.as_mut()?;
        let body = Payload::PairingRejected(PairingRejected {
            reason,
            hello_msg_id: hello_msg_id.map(|id| b64(&id)),
        });
        live.chan
            .seal(&mut live.seq, &body, now_ms, rng)
            .ok()
            .map(DesktopAction::Publish)
    }
}
