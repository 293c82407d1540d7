//! The envelope: wire encoding, canonical AAD, and low-level `seal`/`open`.
//!
//! On the wire an envelope is one compact JSON object whose byte fields are
//! unpadded base64url. The AEAD's associated data is *not* that JSON: it is
//! a fixed binary encoding of every header field plus the MQTT topic
//! ([`Header::aad`]), so a JS client reproduces it byte for byte without any
//! JSON canonicalisation.
//!
//! This module checks only what can be checked without knowing who we are:
//! size, version, suite, field syntax, zero nonce, and the AEAD tag. Routing
//! (direction, pairing id, sender, topic, kind-per-direction) and replay are
//! checked by [`crate::channel`] and [`crate::pairing`], which know the
//! expected values.

use crate::codec::{b64, unb64, unb64_array};
use crate::keys::DirectionKey;
use crate::payload::Kind;
use crate::replay::ReplayReject;
use crate::{PROTOCOL_VERSION, SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305};
use chacha20poly1305::aead::{Aead, KeyInit, Payload as AeadPayload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

/// Largest envelope accepted or produced, in bytes of wire JSON. The broker
/// is untrusted, so every message is bounded before any parsing: 64 KiB
/// holds a snapshot of hundreds of agents or a long command line, while a
/// flood of maximal garbage costs at most one JSON parse and one Poly1305
/// pass of 64 KiB each.
pub const MAX_ENVELOPE_BYTES: usize = 64 * 1024;

/// Largest `seq` and `ts_ms`: 2^53 − 1, so JavaScript numbers represent
/// them exactly. A sender that reaches it must re-pair.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Longest MQTT topic bound into the AAD. Ours are a short prefix plus 32
/// hex digits; the cap keeps the AAD length field small and bounded.
pub const MAX_TOPIC_BYTES: usize = 256;

/// Domain-separation prefix of the AAD.
pub const AAD_LABEL: &[u8] = b"reins/v1/aad";

/// Poly1305 tag length; the shortest possible `ct`.
pub const TAG_BYTES: usize = 16;

/// Who a message travels from and to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    /// Desktop→phone (`"d2p"`, AAD byte 1).
    #[serde(rename = "d2p")]
    DesktopToPhone,
    /// Phone→desktop (`"p2d"`, AAD byte 2).
    #[serde(rename = "p2d")]
    PhoneToDesktop,
}

impl Direction {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::DesktopToPhone => "d2p",
            Direction::PhoneToDesktop => "p2d",
        }
    }

    /// The AAD byte.
    pub fn code(self) -> u8 {
        match self {
            Direction::DesktopToPhone => 1,
            Direction::PhoneToDesktop => 2,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "d2p" => Some(Direction::DesktopToPhone),
            "p2d" => Some(Direction::PhoneToDesktop),
            _ => None,
        }
    }
}

/// Every envelope field except `ct`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Protocol version; always [`PROTOCOL_VERSION`].
    pub v: u8,
    /// Cipher suite; always [`SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305`].
    pub suite: u8,
    /// Which pair (derived from K, or from the token while pairing).
    pub pairing_id: [u8; 16],
    /// Which end sent it (derived per role).
    pub sender: [u8; 16],
    /// Which way it travels.
    pub dir: Direction,
    /// What the plaintext is.
    pub kind: Kind,
    /// Per-direction counter, 1..=[`MAX_SAFE_INTEGER`].
    pub seq: u64,
    /// Sender's clock, Unix ms.
    pub ts_ms: u64,
    /// Random 128-bit id; commands are idempotent on it.
    pub msg_id: [u8; 16],
    /// Random 192-bit XChaCha20 nonce; never all zero.
    pub nonce: [u8; 24],
}

impl Header {
    /// The canonical AAD: `"reins/v1/aad" ‖ v ‖ suite ‖ pairing_id ‖ sender ‖
    /// dir ‖ len8(kind) ‖ kind ‖ seq_be64 ‖ ts_ms_be64 ‖ msg_id ‖ nonce ‖
    /// len16_be(topic) ‖ topic`.
    pub fn aad(&self, topic: &str) -> Vec<u8> {
        let kind = self.kind.as_str().as_bytes();
        let mut a = Vec::with_capacity(AAD_LABEL.len() + 110 + kind.len() + topic.len());
        a.extend_from_slice(AAD_LABEL);
        a.push(self.v);
        a.push(self.suite);
        a.extend_from_slice(&self.pairing_id);
        a.extend_from_slice(&self.sender);
        a.push(self.dir.code());
        a.push(kind.len() as u8);
        a.extend_from_slice(kind);
        a.extend_from_slice(&self.seq.to_be_bytes());
        a.extend_from_slice(&self.ts_ms.to_be_bytes());
        a.extend_from_slice(&self.msg_id);
        a.extend_from_slice(&self.nonce);
        // Callers cap topics at MAX_TOPIC_BYTES before sealing or opening.
        a.extend_from_slice(&(topic.len() as u16).to_be_bytes());
        a.extend_from_slice(topic.as_bytes());
        a
    }
}

/// A parsed envelope: header plus ciphertext (with its 16-byte tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The authenticated header.
    pub header: Header,
    /// XChaCha20-Poly1305 ciphertext ‖ tag.
    pub ct: Vec<u8>,
}

/// Why sealing failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The result would exceed [`MAX_ENVELOPE_BYTES`].
    #[error("the sealed message would be {0} bytes, over the {MAX_ENVELOPE_BYTES}-byte limit")]
    TooLarge(usize),
    /// `seq` is 0 or above [`MAX_SAFE_INTEGER`], or `ts_ms` is above it.
    #[error("seq must be in 1..=2^53-1 and ts_ms at most 2^53-1")]
    OutOfRange,
    /// The topic is longer than [`MAX_TOPIC_BYTES`].
    #[error("topic longer than {MAX_TOPIC_BYTES} bytes")]
    TopicTooLong,
    /// The nonce is all zero (broken RNG?).
    #[error("refusing to seal with an all-zero nonce")]
    ZeroNonce,
    /// This channel may not send this kind (wrong direction, or a pairing
    /// kind on a paired channel and vice versa).
    #[error("{0:?} may not be sent on this channel")]
    KindNotAllowed(Kind),
    /// The outgoing counter is exhausted.
    #[error(transparent)]
    SeqExhausted(#[from] crate::replay::SeqExhausted),
}

/// Why a received message was refused. Only [`OpenError::Duplicate`] is
/// benign (a QoS1 redelivery); every other variant deserves a log line.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    /// Over [`MAX_ENVELOPE_BYTES`]; not parsed at all.
    #[error("message of {0} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a well-formed envelope (bad JSON, missing/extra field, bad base64, bad length).
    #[error("malformed envelope: {0}")]
    Malformed(&'static str),
    /// `v` is not [`PROTOCOL_VERSION`].
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u64),
    /// `suite` is not one we implement.
    #[error("unsupported cipher suite {0}")]
    UnsupportedSuite(u64),
    /// `kind` is not a known message kind.
    #[error("unknown message kind")]
    UnknownKind,
    /// The nonce is all zero.
    #[error("all-zero nonce")]
    ZeroNonce,
    /// The topic is longer than [`MAX_TOPIC_BYTES`].
    #[error("topic longer than {MAX_TOPIC_BYTES} bytes")]
    TopicTooLong,
    /// `dir` is not the direction we receive (e.g. our own message reflected).
    #[error("wrong direction (reflected message?)")]
    WrongDirection,
    /// `pairing_id` is not this pair's.
    #[error("message for another pairing")]
    WrongPairing,
    /// `sender` is not the expected peer.
    #[error("unexpected sender")]
    WrongSender,
    /// Arrived on a topic that is not this pair's receive topic.
    #[error("message on the wrong topic")]
    WrongTopic,
    /// This kind may not travel in this direction.
    #[error("{0:?} is not allowed in this direction")]
    KindNotAllowed(Kind),
    /// The AEAD tag did not verify: wrong key, tampered header, ct or topic.
    #[error("authentication failed (forged or tampered message)")]
    Forged,
    /// Already accepted (QoS1 redelivery or an in-window replay): drop silently.
    #[error("duplicate message")]
    Duplicate,
    /// Refused by the replay window (too old, stale or future timestamp).
    #[error("replay rejected: {0}")]
    Replay(ReplayReject),
    /// Authentic, but the plaintext is not a valid body for its kind.
    #[error("invalid payload: {0}")]
    BadPayload(String),
}

impl OpenError {
    /// True for a benign duplicate that should be dropped without noise.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, OpenError::Duplicate)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u64,
    suite: u64,
    pairing_id: String,
    sender: String,
    dir: String,
    kind: String,
    seq: u64,
    ts_ms: u64,
    msg_id: String,
    nonce: String,
    ct: String,
}

/// Read first, leniently, so an unknown version is reported as such even if
/// a future version changes the other fields.
#[derive(Deserialize)]
struct Probe {
    v: u64,
    suite: u64,
}

impl Envelope {
    /// The wire bytes: compact JSON, fields in the documented order.
    pub fn to_wire(&self) -> Vec<u8> {
        let h = &self.header;
        let wire = Wire {
            v: h.v.into(),
            suite: h.suite.into(),
            pairing_id: b64(&h.pairing_id),
            sender: b64(&h.sender),
            dir: h.dir.as_str().into(),
            kind: h.kind.as_str().into(),
            seq: h.seq,
            ts_ms: h.ts_ms,
            msg_id: b64(&h.msg_id),
            nonce: b64(&h.nonce),
            ct: b64(&self.ct),
        };
        serde_json::to_vec(&wire).expect("the wire struct is plain JSON")
    }

    /// Strictly parses wire bytes. Does not decrypt.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, OpenError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(OpenError::TooLarge(bytes.len()));
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|_| OpenError::Malformed("not an envelope"))?;
        if probe.v != u64::from(PROTOCOL_VERSION) {
            return Err(OpenError::UnsupportedVersion(probe.v));
        }
        if probe.suite != u64::from(SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305) {
            return Err(OpenError::UnsupportedSuite(probe.suite));
        }
        let w: Wire =
            serde_json::from_slice(bytes).map_err(|_| OpenError::Malformed("bad field set"))?;
        let kind = Kind::parse(&w.kind).ok_or(OpenError::UnknownKind)?;
        let dir = Direction::parse(&w.dir).ok_or(OpenError::Malformed("dir"))?;
        if w.seq == 0 || w.seq > MAX_SAFE_INTEGER || w.ts_ms > MAX_SAFE_INTEGER {
            return Err(OpenError::Malformed("seq or ts_ms out of range"));
        }
        let nonce: [u8; 24] = unb64_array(&w.nonce).ok_or(OpenError::Malformed("nonce"))?;
        if nonce == [0; 24] {
            return Err(OpenError::ZeroNonce);
        }
        let ct = unb64(&w.ct).ok_or(OpenError::Malformed("ct"))?;
        if ct.len() < TAG_BYTES {
            return Err(OpenError::Malformed("ct shorter than the tag"));
        }
        let header = Header {
            v: PROTOCOL_VERSION,
            suite: SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305,
            pairing_id: unb64_array(&w.pairing_id).ok_or(OpenError::Malformed("pairing_id"))?,
            sender: unb64_array(&w.sender).ok_or(OpenError::Malformed("sender"))?,
            dir,
            kind,
            seq: w.seq,
            ts_ms: w.ts_ms,
            msg_id: unb64_array(&w.msg_id).ok_or(OpenError::Malformed("msg_id"))?,
            nonce,
        };
        Ok(Envelope { header, ct })
    }

    /// Verifies and decrypts against `topic` (the topic it arrived on).
    pub fn decrypt(&self, key: &DirectionKey, topic: &str) -> Result<Vec<u8>, OpenError> {
        if topic.len() > MAX_TOPIC_BYTES {
            return Err(OpenError::TopicTooLong);
        }
        let aad = self.header.aad(topic);
        XChaCha20Poly1305::new(key.as_bytes().into())
            .decrypt(
                XNonce::from_slice(&self.header.nonce),
                AeadPayload {
                    msg: &self.ct,
                    aad: &aad,
                },
            )
            .map_err(|_| OpenError::Forged)
    }
}

/// Seals `plaintext` under `key` with `header` bound to `topic`.
/// `header.v` and `header.suite` are forced to the current values.
pub fn seal(
    key: &DirectionKey,
    mut header: Header,
    topic: &str,
    plaintext: &[u8],
) -> Result<Envelope, SealError> {
    header.v = PROTOCOL_VERSION;
    header.suite = SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305;
    if header.seq == 0 || header.seq > MAX_SAFE_INTEGER || header.ts_ms > MAX_SAFE_INTEGER {
        return Err(SealError::OutOfRange);
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Err(SealError::TopicTooLong);
    }
    if header.nonce == [0; 24] {
        return Err(SealError::ZeroNonce);
    }
    // Cheap upper bound first so a huge plaintext is refused before encryption.
    let estimate = 400 + (plaintext.len() + TAG_BYTES).div_ceil(3) * 4;
    if estimate > MAX_ENVELOPE_BYTES + 400 {
        return Err(SealError::TooLarge(estimate));
    }
    let aad = header.aad(topic);
    let ct = XChaCha20Poly1305::new(key.as_bytes().into())
        .encrypt(
            XNonce::from_slice(&header.nonce),
            AeadPayload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption cannot fail below 256 GiB");
    let env = Envelope { header, ct };
    let len = env.to_wire().len();
    if len > MAX_ENVELOPE_BYTES {
        return Err(SealError::TooLarge(len));
    }
    Ok(env)
}

/// Parses and decrypts wire bytes that arrived on `topic`. No routing or
/// replay checks: use [`crate::channel::PairChannel::open`] for those.
pub fn open(key: &DirectionKey, topic: &str, bytes: &[u8]) -> Result<(Header, Vec<u8>), OpenError> {
    let env = Envelope::parse(bytes)?;
    let pt = env.decrypt(key, topic)?;
    Ok((env.header, pt))
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
