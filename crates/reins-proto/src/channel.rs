//! A channel between one desktop and one phone: the keys, topics and ids of
//! one side, with `seal` and a fully checked `open`.
//!
//! [`PairChannel::open`] is the single entry point for untrusted bytes from
//! the broker. In order it checks: topic, size, version, suite, syntax, zero
//! nonce, direction (reflection), pairing id, sender, kind-per-direction,
//! the replay window (read-only), the AEAD tag, then records the message in
//! the window and decodes the body.
//!
//! Not here: MQTT, persistence (the caller stores the [`ReplayWindow`] and
//! [`OutgoingSeq`] after each call), and application checks such as whether
//! an approval decision names a pending request.

use crate::envelope::{Direction, Envelope, Header, MAX_TOPIC_BYTES, OpenError, SealError, seal};
use crate::keys::{ChannelKeys, DirectionKey, PairKey};
use crate::payload::{Kind, Payload};
use crate::replay::{OutgoingSeq, ReplayVerdict, ReplayWindow};
use crate::{PROTOCOL_VERSION, SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

/// Longest topic prefix. Short enough that prefix + 32 hex stays far below
/// [`MAX_TOPIC_BYTES`].
pub const MAX_TOPIC_PREFIX_BYTES: usize = 64;

/// Which end of the pair we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The Reins daemon.
    Desktop,
    /// A paired phone.
    Phone,
}

impl Role {
    /// The direction we send in.
    pub fn send_dir(self) -> Direction {
        match self {
            Role::Desktop => Direction::DesktopToPhone,
            Role::Phone => Direction::PhoneToDesktop,
        }
    }

    /// The direction we receive in.
    pub fn recv_dir(self) -> Direction {
        match self {
            Role::Desktop => Direction::PhoneToDesktop,
            Role::Phone => Direction::DesktopToPhone,
        }
    }
}

/// Why a topic prefix was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "topic prefix must be empty or end in '/', be at most {MAX_TOPIC_PREFIX_BYTES} bytes, \
     and use only A-Z a-z 0-9 _ - /"
)]
pub struct InvalidTopicPrefix;

/// Checks a topic prefix: empty, or ASCII `[A-Za-z0-9_/-]` ending in `/`,
/// at most [`MAX_TOPIC_PREFIX_BYTES`]. No MQTT wildcards, nothing to escape.
pub fn validate_topic_prefix(prefix: &str) -> Result<(), InvalidTopicPrefix> {
    let ok_chars = prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b));
    if prefix.len() > MAX_TOPIC_PREFIX_BYTES
        || !ok_chars
        || !(prefix.is_empty() || prefix.ends_with('/'))
    {
        return Err(InvalidTopicPrefix);
    }
    Ok(())
}

/// A message ready to publish (QoS1, never retained).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Where to publish.
    pub topic: String,
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// The envelope's msg_id (acks refer to it).
    pub msg_id: [u8; 16],
    /// The envelope's seq.
    pub seq: u64,
}

/// An authenticated, fresh, decoded message.
#[derive(Clone, Debug, PartialEq)]
pub struct Incoming {
    /// Its header (kind, seq, ts_ms, msg_id, ...).
    pub header: Header,
    /// Its body.
    pub payload: Payload,
}

/// One side of a paired channel (or of the pairing exchange).
#[derive(Clone, Debug)]
pub struct PairChannel {
    role: Role,
    keys: ChannelKeys,
    send_topic: String,
    recv_topic: String,
    pairing_kinds: bool,
}

impl PairChannel {
    /// The channel of a completed pairing: topics are `prefix + hex id`.
    pub fn paired(role: Role, k: &PairKey, topic_prefix: &str) -> Result<Self, InvalidTopicPrefix> {
        validate_topic_prefix(topic_prefix)?;
        let keys = k.channel_keys();
        let d2p = format!("{topic_prefix}{}", keys.d2p_topic_id);
        let p2d = format!("{topic_prefix}{}", keys.p2d_topic_id);
        let (send_topic, recv_topic) = match role {
            Role::Desktop => (d2p, p2d),
            Role::Phone => (p2d, d2p),
        };
        Ok(Self {
            role,
            keys,
            send_topic,
            recv_topic,
            pairing_kinds: false,
        })
    }

    /// A channel that carries only pairing kinds, both ways on one topic.
    pub(crate) fn pairing(role: Role, keys: ChannelKeys, pairing_topic: &str) -> Self {
        let t = pairing_topic.to_owned();
        Self {
            role,
            keys,
            send_topic: t.clone(),
            recv_topic: t,
            pairing_kinds: true,
        }
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The pairing id (also a good opaque device id).
    pub fn pairing_id(&self) -> [u8; 16] {
        self.keys.pairing_id
    }

    /// The topic we publish on.
    pub fn send_topic(&self) -> &str {
        &self.send_topic
    }

    /// The topic we subscribe to.
    pub fn recv_topic(&self) -> &str {
        &self.recv_topic
    }

    /// All derived values (topic ids for presence, sender ids, ...).
    pub fn keys(&self) -> &ChannelKeys {
        &self.keys
    }

    fn send_key(&self) -> &DirectionKey {
        match self.role {
            Role::Desktop => &self.keys.d2p_key,
            Role::Phone => &self.keys.p2d_key,
        }
    }

    fn recv_key(&self) -> &DirectionKey {
        match self.role {
            Role::Desktop => &self.keys.p2d_key,
            Role::Phone => &self.keys.d2p_key,
        }
    }

    fn sender_of(&self, role: Role) -> [u8; 16] {
        match role {
            Role::Desktop => self.keys.desktop_sender,
            Role::Phone => self.keys.phone_sender,
        }
    }

    fn kind_ok(&self, kind: Kind, dir: Direction) -> bool {
        kind.allowed(dir) && kind.is_pairing() == self.pairing_kinds
    }

    /// Seals `payload` with a fresh seq, random msg_id and random nonce.
    pub fn seal<R: RngCore + CryptoRng>(
        &self,
        seq: &mut OutgoingSeq,
        payload: &Payload,
        now_ms: u64,
        rng: &mut R,
    ) -> Result<Outgoing, SealError> {
        let mut msg_id = [0u8; 16];
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut msg_id);
        rng.fill_bytes(&mut nonce);
        if !self.kind_ok(payload.kind(), self.role.send_dir()) {
            return Err(SealError::KindNotAllowed(payload.kind()));
        }
        let seq = seq.advance()?;
        self.seal_with(seq, now_ms, msg_id, nonce, payload)
    }

    /// Deterministic sealing with caller-chosen seq, ts, msg_id and nonce
    /// (test vectors). Never reuse a nonce with the same key.
    pub fn seal_with(
        &self,
        seq: u64,
        ts_ms: u64,
        msg_id: [u8; 16],
        nonce: [u8; 24],
        payload: &Payload,
    ) -> Result<Outgoing, SealError> {
        let kind = payload.kind();
        if !self.kind_ok(kind, self.role.send_dir()) {
            return Err(SealError::KindNotAllowed(kind));
        }
        let header = Header {
            v: PROTOCOL_VERSION,
            suite: SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305,
            pairing_id: self.keys.pairing_id,
            sender: self.sender_of(self.role),
            dir: self.role.send_dir(),
            kind,
            seq,
            ts_ms,
            msg_id,
            nonce,
        };
        let env = seal(
            self.send_key(),
            header,
            &self.send_topic,
            &payload.to_json(),
        )?;
        Ok(Outgoing {
            topic: self.send_topic.clone(),
            bytes: env.to_wire(),
            msg_id,
            seq,
        })
    }

    /// Opens untrusted bytes that arrived on `topic`. On success the message
    /// has been recorded in `replay`; persist it before acting.
    pub fn open(
        &self,
        topic: &str,
        bytes: &[u8],
        replay: &mut ReplayWindow,
        now_ms: u64,
    ) -> Result<Incoming, OpenError> {
        if topic.len() > MAX_TOPIC_BYTES {
            return Err(OpenError::TopicTooLong);
        }
        if topic != self.recv_topic {
            return Err(OpenError::WrongTopic);
        }
        let env = Envelope::parse(bytes)?;
        let h = &env.header;
        if h.dir != self.role.recv_dir() {
            return Err(OpenError::WrongDirection);
        }
        if h.pairing_id != self.keys.pairing_id {
            return Err(OpenError::WrongPairing);
        }
        let peer = match self.role {
            Role::Desktop => Role::Phone,
            Role::Phone => Role::Desktop,
        };
        if h.sender != self.sender_of(peer) {
            return Err(OpenError::WrongSender);
        }
        if !self.kind_ok(h.kind, h.dir) {
            return Err(OpenError::KindNotAllowed(h.kind));
        }
        // Read-only pre-check: spares the AEAD for obvious replays and cannot
        // be abused, since nothing is recorded before authentication.
        replay_result(replay.check(h.seq, h.ts_ms, &h.msg_id, now_ms))?;
        let plaintext = env.decrypt(self.recv_key(), topic)?;
        replay_result(replay.accept(h.seq, h.ts_ms, &h.msg_id, now_ms))?;
        let payload = Payload::from_json(h.kind, &plaintext)
            .map_err(|e| OpenError::BadPayload(e.to_string()))?;
        Ok(Incoming {
            header: env.header,
            payload,
        })
    }
}

fn replay_result(v: ReplayVerdict) -> Result<(), OpenError> {
    match v {
        ReplayVerdict::Accept => Ok(()),
        ReplayVerdict::Duplicate => Err(OpenError::Duplicate),
        ReplayVerdict::Rejected(r) => Err(OpenError::Replay(r)),
    }
}

#[cfg(test)]
#[path = "channel_tests.rs"]
mod tests;
