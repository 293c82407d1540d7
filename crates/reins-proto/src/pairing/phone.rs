//! The phone side of pairing: from a scanned offer to a hello, the code, and
//! then the desktop's verdict. This is what the Rust test "phone" uses and
//! what the browser client mirrors.
//!
//! Not here: scanning, storage of K (the browser keeps it in IndexedDB),
//! or MQTT.

use super::{PairingFailure, PairingOffer, Refusal, StartError, name_is_valid, token_keys};
use crate::channel::{Outgoing, PairChannel, Role, validate_topic_prefix};
use crate::codec::b64;
use crate::envelope::OpenError;
use crate::keys::{IdentityKeyPair, PairKey, VerificationCode, transcript_hash};
use crate::payload::{PairingHello, PairingRejectReason, Payload};
use crate::replay::{MAX_SKEW_MS, OutgoingSeq, ReplayWindow};
use rand::{CryptoRng, RngCore};

/// What the phone's pairing machine is told.
#[derive(Clone, Copy, Debug)]
pub enum PhoneInput<'a> {
    /// Bytes that arrived on the pairing topic.
    Received {
        /// The topic they arrived on.
        topic: &'a str,
        /// The payload.
        bytes: &'a [u8],
    },
    /// The user gave up.
    Cancel,
    /// Time passed; checks expiry.
    Tick,
}

/// A successfully paired desktop, for the phone to store.
#[derive(Debug)]
pub struct PairedDesktop {
    /// The desktop's name.
    pub desktop_name: String,
    /// The desktop's public key.
    pub desktop_public: [u8; 32],
    /// K.
    pub key: PairKey,
    /// Topic prefix for the pair's channel.
    pub topic_prefix: String,
    /// Brokers from the offer.
    pub brokers: Vec<String>,
    /// The desktop→phone replay window, which already holds
    /// `pairing_accepted` (seq 1). Keep it for the paired channel: one window
    /// per (peer, direction), across the pairing and the paired topic.
    pub d2p_replay: ReplayWindow,
}

/// What the caller must do.
#[derive(Debug)]
pub enum PhoneAction {
    /// Publish this (QoS1, not retained).
    Publish(Outgoing),
    /// Show this code; the user compares it with the desktop's.
    ShowCode(VerificationCode),
    /// Done: store the desktop.
    Paired(PairedDesktop),
    /// Done without a pair.
    Failed(PairingFailure),
    /// One input was ignored.
    Refused(Refusal),
}

/// The phone's pairing state machine for one scanned offer.
pub struct PhonePairing {
    offer: PairingOffer,
    key_chan: PairChannel,
    token_chan: PairChannel,
    key_replay: ReplayWindow,
    token_replay: ReplayWindow,
    key: Option<PairKey>,
    /// Our hello's msg_id, base64url: an `already_used` must name it.
    hello_msg_id: String,
}

impl std::fmt::Debug for PhonePairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhonePairing")
            .field("finished", &self.key.is_none())
            .finish_non_exhaustive()
    }
}

impl PhonePairing {
    /// Checks the offer, computes K and the code, and seals the hello.
    /// Returns `[Publish(hello), ShowCode(code)]`.
    pub fn start<R: RngCore + CryptoRng>(
        offer: PairingOffer,
        identity: &IdentityKeyPair,
        device_name: &str,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<(Self, Vec<PhoneAction>), StartError> {
        // The phone's clock may be off by up to the skew we tolerate anyway.
        let too_long = offer.expires_at_ms > now_ms + super::MAX_OFFER_TTL_MS + MAX_SKEW_MS;
        if now_ms > offer.expires_at_ms + MAX_SKEW_MS || too_long {
            return Err(StartError::Expired);
        }
        if !name_is_valid(device_name) {
            return Err(StartError::BadName);
        }
        validate_topic_prefix(&offer.topic_prefix).map_err(|_| StartError::BadTopic)?;
        let shared = identity
            .diffie_hellman(&offer.desktop_public)
            .map_err(|_| StartError::BadDesktopKey)?;
        let phone_public = identity.public();
        let th = transcript_hash(
            &offer.desktop_public,
            &phone_public,
            &offer.pairing_topic,
            device_name,
        );
        let key = PairKey::from_exchange(&shared, offer.token.as_bytes(), &th);
        let code = key.verification_code();
        let token_chan =
            PairChannel::pairing(Role::Phone, token_keys(&offer.token), &offer.pairing_topic);
        let key_chan = PairChannel::pairing(Role::Phone, key.channel_keys(), &offer.pairing_topic);
        let hello = Payload::PairingHello(PairingHello {
            phone_public: b64(&phone_public),
            device_name: device_name.to_owned(),
        });
        let msg = token_chan
            .seal(&mut OutgoingSeq::new(), &hello, now_ms, rng)
            .map_err(|_| StartError::BadTopic)?;
        let me = Self {
            hello_msg_id: b64(&msg.msg_id),
            offer,
            key_chan,
            token_chan,
            key_replay: ReplayWindow::new(),
            token_replay: ReplayWindow::new(),
            key: Some(key),
        };
        Ok((
            me,
            vec![PhoneAction::Publish(msg), PhoneAction::ShowCode(code)],
        ))
    }

    /// True once paired or failed.
    pub fn is_finished(&self) -> bool {
        self.key.is_none()
    }

    /// Feeds one input; returns what to do.
    pub fn handle(&mut self, input: PhoneInput<'_>, now_ms: u64) -> Vec<PhoneAction> {
        if self.key.is_none() {
            return vec![];
        }
        if now_ms > self.offer.expires_at_ms + MAX_SKEW_MS {
            self.key = None;
            return vec![PhoneAction::Failed(PairingFailure::Expired)];
        }
        let (topic, bytes) = match input {
            PhoneInput::Received { topic, bytes } => (topic, bytes),
            PhoneInput::Cancel => {
                self.key = None;
                return vec![PhoneAction::Failed(PairingFailure::Cancelled)];
            }
            PhoneInput::Tick => return vec![],
        };
        match self
            .key_chan
            .open(topic, bytes, &mut self.key_replay, now_ms)
        {
            Ok(inc) => {
                let Payload::PairingAccepted(acc) = inc.payload else {
                    return vec![PhoneAction::Refused(Refusal::Invalid(OpenError::Forged))];
                };
                let key = self.key.take().expect("checked above");
                let desktop_name = if super::name_is_valid(&acc.desktop_name) {
                    acc.desktop_name
                } else {
                    "Reins desktop".to_owned()
                };
                return vec![PhoneAction::Paired(PairedDesktop {
                    desktop_name,
                    desktop_public: self.offer.desktop_public,
                    key,
                    topic_prefix: self.offer.topic_prefix.clone(),
                    brokers: self.offer.brokers.clone(),
                    d2p_replay: std::mem::take(&mut self.key_replay),
                })];
            }
            Err(OpenError::Duplicate) => return vec![],
            Err(OpenError::WrongPairing) => {}
            // Our own hello echoed back by the broker.
            Err(OpenError::WrongDirection) => return vec![],
            Err(e) => return vec![PhoneAction::Refused(Refusal::Invalid(e))],
        }
        match self
            .token_chan
            .open(topic, bytes, &mut self.token_replay, now_ms)
        {
            Ok(inc) => match inc.payload {
                Payload::PairingRejected(r)
                    if r.reason == PairingRejectReason::AlreadyUsed
                        && r.hello_msg_id.as_deref() != Some(self.hello_msg_id.as_str()) =>
                {
                    vec![PhoneAction::Refused(Refusal::NotForUs)]
                }
                Payload::PairingRejected(r) => {
                    self.key = None;
                    vec![PhoneAction::Failed(r.reason.into())]
                }
                _ => vec![PhoneAction::Refused(Refusal::Invalid(OpenError::Forged))],
            },
            Err(OpenError::Duplicate) => vec![],
            Err(e) => vec![PhoneAction::Refused(Refusal::Invalid(e))],
        }
    }
}
