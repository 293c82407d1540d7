//! Identity keys, the per-pair key K, and every value derived from K.
//!
//! Each installation has one long-term X25519 identity. Pairing with a phone
//! produces a 32-byte pair key K (see [`crate::pairing`]); everything the two
//! ends need afterwards is derived from K with HKDF-SHA256 under fixed,
//! documented labels: one AEAD key per direction, opaque topic ids, the
//! `pairing_id`, the two sender ids and the 6-digit verification code.
//!
//! This module holds no state and does no I/O. Secrets are zeroized on drop
//! and never appear in `Debug` output. It does not store keys anywhere; the
//! daemon keeps K in the OS keyring.

use hkdf::Hkdf;
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use std::fmt;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// HKDF salt for everything derived from a pair key K.
pub const PAIR_SALT: &[u8] = b"reins/v1/pair";
/// HKDF salt for everything derived from a pairing token.
pub const PAIRING_SALT: &[u8] = b"reins/v1/pairing";
/// Domain-separation prefix of the pairing transcript hash.
pub const TRANSCRIPT_LABEL: &[u8] = b"reins/v1/transcript";

/// HKDF `info` labels. Each is used with both salts where it makes sense.
pub mod label {
    /// AEAD key for desktop→phone messages (32 bytes).
    pub const D2P_KEY: &[u8] = b"d2p key";
    /// AEAD key for phone→desktop messages (32 bytes).
    pub const P2D_KEY: &[u8] = b"p2d key";
    /// Topic id for desktop→phone messages (16 bytes, hex).
    pub const D2P_TOPIC: &[u8] = b"d2p topic";
    /// Topic id for phone→desktop messages (16 bytes, hex).
    pub const P2D_TOPIC: &[u8] = b"p2d topic";
    /// Topic id for the desktop's advisory Last-Will (16 bytes, hex).
    pub const D2P_PRESENCE_TOPIC: &[u8] = b"d2p presence topic";
    /// Topic id for the phone's advisory Last-Will (16 bytes, hex).
    pub const P2D_PRESENCE_TOPIC: &[u8] = b"p2d presence topic";
    /// The pairing id carried in every envelope (16 bytes).
    pub const PAIRING_ID: &[u8] = b"pairing id";
    /// The desktop's sender id (16 bytes).
    pub const DESKTOP_SENDER: &[u8] = b"desktop sender";
    /// The phone's sender id (16 bytes).
    pub const PHONE_SENDER: &[u8] = b"phone sender";
    /// The verification code (4 bytes, big-endian u32 mod 10^6).
    pub const CODE: &[u8] = b"code";
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The peer's public key is a low-order point (or otherwise makes the
    /// shared secret independent of our secret): an attacker could force a
    /// known K. Such keys are always refused.
    #[error("the peer's public key is a low-order point; refusing a non-contributory key exchange")]
    NonContributory,
}

/// A long-term X25519 identity. The secret is zeroized on drop.
pub struct IdentityKeyPair {
    secret: StaticSecret,
    public: PublicKey,
}

impl IdentityKeyPair {
    /// A fresh identity from a cryptographic RNG.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Self::from_secret_bytes(StaticSecret::random_from_rng(rng).to_bytes())
    }

    /// Restores an identity from its 32 secret bytes (as stored in the keyring).
    pub fn from_secret_bytes(mut bytes: [u8; 32]) -> Self {
        let secret = StaticSecret::from(bytes);
        bytes.zeroize();
        let public = PublicKey::from(&secret);
        Self { secret, public }
    }

    /// The secret bytes, for the caller to persist in the OS keyring.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// The public key.
    pub fn public(&self) -> [u8; 32] {
        self.public.to_bytes()
    }

    /// X25519 with the peer's public key. Refuses low-order and other
    /// non-contributory results.
    pub fn diffie_hellman(&self, peer_public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let shared = self.secret.diffie_hellman(&PublicKey::from(*peer_public));
        if !shared.was_contributory() {
            return Err(KeyError::NonContributory);
        }
        Ok(Zeroizing::new(shared.to_bytes()))
    }
}

impl fmt::Debug for IdentityKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKeyPair")
            .field("public", &hex::encode(self.public.as_bytes()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The 32-byte secret shared by one desktop and one phone. Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PairKey([u8; 32]);

impl PairKey {
    /// Wraps raw key bytes (e.g. loaded from the keyring).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes, for the caller to persist in the OS keyring.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// K = HKDF-SHA256(ikm = X25519 shared secret, salt = token,
    /// info = transcript hash), 32 bytes.
    pub fn from_exchange(shared: &[u8; 32], token: &[u8; 16], transcript_hash: &[u8; 32]) -> Self {
        let mut out = [0u8; 32];
        hkdf_into(token, shared, transcript_hash, &mut out);
        Self(out)
    }

    /// Every per-pair value derived from K.
    pub fn channel_keys(&self) -> ChannelKeys {
        ChannelKeys::derive(&self.0, PAIR_SALT)
    }

    /// The 6-digit code both screens show during pairing.
    pub fn verification_code(&self) -> VerificationCode {
        let mut b = [0u8; 4];
        hkdf_into(PAIR_SALT, &self.0, label::CODE, &mut b);
        // 2^32 / 10^6 leaves a modulo bias below 0.03 %; irrelevant for a
        // code a human compares once.
        VerificationCode(u32::from_be_bytes(b) % 1_000_000)
    }
}

impl fmt::Debug for PairKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairKey(<redacted>)")
    }
}

/// A 32-byte AEAD key for one direction. Zeroized on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct DirectionKey(pub(crate) [u8; 32]);

impl DirectionKey {
    /// Wraps raw key bytes (test vectors, low-level use).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DirectionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DirectionKey(<redacted>)")
    }
}

/// The six-digit code shown on both screens while pairing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerificationCode(u32);

impl VerificationCode {
    /// The code as a number below 1 000 000.
    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerificationCode({:06})", self.0)
    }
}

/// Everything derived from one root secret (K after pairing, or the pairing
/// token during pairing). Topic ids are hex and carry no meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelKeys {
    /// Key for desktop→phone envelopes.
    pub d2p_key: DirectionKey,
    /// Key for phone→desktop envelopes.
    pub p2d_key: DirectionKey,
    /// The `pairing_id` header value.
    pub pairing_id: [u8; 16],
    /// The desktop's `sender` header value.
    pub desktop_sender: [u8; 16],
    /// The phone's `sender` header value.
    pub phone_sender: [u8; 16],
    /// Lowercase hex topic id, desktop→phone.
    pub d2p_topic_id: String,
    /// Lowercase hex topic id, phone→desktop.
    pub p2d_topic_id: String,
    /// Lowercase hex topic id of the desktop's advisory Last-Will.
    pub d2p_presence_topic_id: String,
    /// Lowercase hex topic id of the phone's advisory Last-Will.
    pub p2d_presence_topic_id: String,
}

impl ChannelKeys {
    /// Derives every value with HKDF-SHA256(ikm = root, salt, info = label).
    pub fn derive(root: &[u8], salt: &[u8]) -> Self {
        let k32 = |info: &[u8]| {
            let mut out = [0u8; 32];
            hkdf_into(salt, root, info, &mut out);
            DirectionKey(out)
        };
        let b16 = |info: &[u8]| {
            let mut out = [0u8; 16];
            hkdf_into(salt, root, info, &mut out);
            out
        };
        Self {
            d2p_key: k32(label::D2P_KEY),
            p2d_key: k32(label::P2D_KEY),
            pairing_id: b16(label::PAIRING_ID),
            desktop_sender: b16(label::DESKTOP_SENDER),
            phone_sender: b16(label::PHONE_SENDER),
            d2p_topic_id: hex::encode(b16(label::D2P_TOPIC)),
            p2d_topic_id: hex::encode(b16(label::P2D_TOPIC)),
            d2p_presence_topic_id: hex::encode(b16(label::D2P_PRESENCE_TOPIC)),
            p2d_presence_topic_id: hex::encode(b16(label::P2D_PRESENCE_TOPIC)),
        }
    }
}

/// The pairing transcript hash: SHA-256 over the label, both public keys,
/// the pairing topic and the phone's device name (lengths as u16 BE).
pub fn transcript_hash(
    desktop_public: &[u8; 32],
    phone_public: &[u8; 32],
    pairing_topic: &str,
    device_name: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TRANSCRIPT_LABEL);
    h.update(desktop_public);
    h.update(phone_public);
    for field in [pairing_topic.as_bytes(), device_name.as_bytes()] {
        // Both fields are length-capped far below u16::MAX by their parsers.
        h.update((field.len() as u16).to_be_bytes());
        h.update(field);
    }
    h.finalize().into()
}

fn hkdf_into(salt: &[u8], ikm: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("HKDF-SHA256 output lengths used here are far below 255*32");
}

/// Small-order points on Curve25519 (u-coordinates), from the X25519
/// literature (e.g. the libsodium blocklist).
#[cfg(test)]
pub(crate) const LOW_ORDER_POINTS: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn low_order_public_keys_are_refused() {
        let me = IdentityKeyPair::generate(&mut StdRng::seed_from_u64(1));
        for p in super::LOW_ORDER_POINTS {
            let point: [u8; 32] = hex::decode(p).unwrap().try_into().unwrap();
            assert_eq!(
                me.diffie_hellman(&point),
                Err(KeyError::NonContributory),
                "{p}"
            );
        }
    }

    #[test]
    fn both_ends_of_an_exchange_derive_the_same_secret() {
        let mut rng = StdRng::seed_from_u64(2);
        let a = IdentityKeyPair::generate(&mut rng);
        let b = IdentityKeyPair::generate(&mut rng);
        assert_eq!(
            *a.diffie_hellman(&b.public()).unwrap(),
            *b.diffie_hellman(&a.public()).unwrap()
        );
    }

    #[test]
    fn debug_output_never_contains_secret_material() {
        let id = IdentityKeyPair::from_secret_bytes([7; 32]);
        let k = PairKey::from_bytes([9; 32]);
        let ck = k.channel_keys();
        let secret_hex = hex::encode(*id.secret_bytes());
        for s in [format!("{id:?}"), format!("{k:?}"), format!("{ck:?}")] {
            assert!(!s.contains(&secret_hex), "{s}");
            assert!(!s.contains("9, 9, 9"), "{s}");
            assert!(!s.contains(&hex::encode(ck.d2p_key.as_bytes())), "{s}");
        }
    }

    #[test]
    fn every_derived_value_is_distinct_and_topics_are_opaque_hex() {
        let ck = PairKey::from_bytes([1; 32]).channel_keys();
        assert_ne!(ck.d2p_key, ck.p2d_key);
        assert_ne!(ck.desktop_sender, ck.phone_sender);
        assert_ne!(ck.d2p_topic_id, ck.p2d_topic_id);
        for t in [
            &ck.d2p_topic_id,
            &ck.p2d_topic_id,
            &ck.d2p_presence_topic_id,
        ] {
            assert_eq!(t.len(), 32);
            assert!(
                t.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
        }
        assert_ne!(ck, PairKey::from_bytes([2; 32]).channel_keys());
    }

    #[test]
    fn the_verification_code_has_six_digits() {
        let code = PairKey::from_bytes([3; 32]).verification_code();
        assert!(code.value() < 1_000_000);
        assert_eq!(code.to_string().len(), 6);
    }
}
