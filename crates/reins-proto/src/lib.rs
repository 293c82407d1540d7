//! The Reins phone-link protocol core: keys, the end-to-end envelope, the
//! replay window and the pairing state machines.
//!
//! The phone talks to the desktop through an MQTT broker that is **not
//! trusted**: anyone may subscribe to `#` or publish anywhere. Every message
//! is therefore sealed with XChaCha20-Poly1305 under a key that belongs to
//! exactly one (desktop, phone) pair and one direction, authenticated over
//! every header field plus the MQTT topic, and checked against a persisted
//! replay window.
//!
//! This crate is deliberately *pure*: no sockets, no MQTT client, no tokio,
//! no clock and no file I/O. Time is passed in as `now_ms`, randomness as an
//! `rng`, and persistence is the caller's job (every stateful type is serde).
//! It composes audited primitives (`x25519-dalek`, `hkdf`, `sha2`,
//! `chacha20poly1305`) and implements none of its own.
//!
//! The normative description is `docs/protocol.md`; the byte-exact test
//! vectors are in `docs/test-vectors/`.
//!
//! Map of the crate:
//! - [`keys`]: identity keys, the pair key K and everything derived from it.
//! - [`envelope`]: the wire format, the AAD, low-level `seal`/`open`.
//! - [`payload`]: message kinds and their plaintext JSON bodies.
//! - [`replay`]: the receive-side replay window and the send-side counter.
//! - [`channel`]: a paired channel that ties the above together.
//! - [`pairing`]: the pairing URL and the desktop/phone state machines.

pub mod channel;
mod codec;
pub mod envelope;
pub mod keys;
pub mod pairing;
pub mod payload;
mod payload_alert;
mod payload_recheck;
pub mod replay;

#[cfg(test)]
mod vectors;

pub use channel::{Incoming, Outgoing, PairChannel, Role};
pub use envelope::{Direction, Envelope, Header, OpenError, SealError};
pub use keys::{ChannelKeys, IdentityKeyPair, KeyError, PairKey, VerificationCode};
pub use payload::{Kind, Payload};
pub use replay::{OutgoingSeq, ReplayReject, ReplayVerdict, ReplayWindow};

/// The protocol version carried in every envelope (`v`) and pairing URL.
/// A receiver rejects any other value: there is no negotiation and no
/// downgrade.
pub const PROTOCOL_VERSION: u8 = 1;

/// Cipher suite 1: X25519 + HKDF-SHA256 + XChaCha20-Poly1305. The only suite.
pub const SUITE_X25519_HKDF_SHA256_XCHACHA20POLY1305: u8 = 1;
