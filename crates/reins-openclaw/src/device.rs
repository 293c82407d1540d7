//! Reins' device identity on the gateway: an Ed25519 key kept in the
//! SecretStore, its device id (hex SHA-256 of the raw public key) and the
//! signature over the `connect` payload (v3:
//! `v3|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce|platform|deviceFamily`,
//! as OpenClaw's `buildDeviceAuthPayloadV3` joins it; platform and
//! deviceFamily trimmed and ASCII-lowercased). Uses ed25519-dalek; no
//! hand-written crypto. A `Debug` never prints the key.
//!
//! Not here: where the key is stored (the [`SecretStore`] decides) or when to
//! connect.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use reins_link::SecretStore;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// Why the device identity could not be loaded. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The secret store failed.
    #[error("cannot read or store Reins' OpenClaw device key: {0}; check `reins doctor`")]
    Store(String),
    /// The stored key is not a 32-byte Ed25519 seed.
    #[error(
        "Reins' stored OpenClaw device key is damaged ({0} bytes, expected 32); delete the secret '{name}' to make a new one (OpenClaw will see a new device)",
        name = crate::link::DEVICE_KEY_SECRET
    )]
    BadKey(usize),
}

/// Reins' Ed25519 device identity.
#[derive(Clone)]
pub struct DeviceIdentity {
    key: SigningKey,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("device_id", &self.device_id())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl DeviceIdentity {
    /// The identity kept under `name` in `store`; made and stored on first use.
    pub fn load_or_create(store: &dyn SecretStore, name: &str) -> Result<Self, DeviceError> {
        match store
            .get(name)
            .map_err(|e| DeviceError::Store(e.to_string()))?
        {
            Some(seed) => {
                let bytes: [u8; 32] = seed
                    .as_slice()
                    .try_into()
                    .map_err(|_| DeviceError::BadKey(seed.len()))?;
                Ok(Self::from_seed(Zeroizing::new(bytes)))
            }
            None => {
                let me = Self::generate();
                let seed = Zeroizing::new(me.key.to_bytes());
                store
                    .set(name, seed.as_slice())
                    .map_err(|e| DeviceError::Store(e.to_string()))?;
                Ok(me)
            }
        }
    }

    /// A fresh random identity (not stored).
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// The identity with this 32-byte seed.
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> Self {
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The public key, base64url without padding (OpenClaw's `device.publicKey`).
    pub fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key())
    }

    /// OpenClaw's device id: lowercase hex SHA-256 of the raw public key.
    pub fn device_id(&self) -> String {
        device_id_of(&self.public_key())
    }

    /// Sign `payload`; the signature base64url without padding.
    pub fn sign(&self, payload: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.key.sign(payload.as_bytes()).to_bytes())
    }
}

/// The device id for a raw public key.
pub fn device_id_of(public_key: &[u8]) -> String {
    hex::encode(Sha256::digest(public_key))
}

/// What the `connect` signature covers.
#[derive(Clone, Debug)]
pub struct AuthPayload<'a> {
    /// [`DeviceIdentity::device_id`].
    pub device_id: &'a str,
    /// `client.id` (`cli`).
    pub client_id: &'a str,
    /// `client.mode` (`cli`).
    pub client_mode: &'a str,
    /// `operator`.
    pub role: &'a str,
    /// The scopes, in the order sent.
    pub scopes: &'a [String],
    /// The challenge's `ts`, sent as `device.signedAt`.
    pub signed_at_ms: u64,
    /// The shared token (empty when none).
    pub token: &'a str,
    /// The challenge's nonce.
    pub nonce: &'a str,
    /// `client.platform`.
    pub platform: &'a str,
    /// `client.deviceFamily` (empty when not sent).
    pub device_family: &'a str,
}

impl AuthPayload<'_> {
    /// The v3 string.
    pub fn v3(&self) -> String {
        [
            "v3",
            self.device_id,
            self.client_id,
            self.client_mode,
            self.role,
            &self.scopes.join(","),
            &self.signed_at_ms.to_string(),
            self.token,
            self.nonce,
            &normalize_metadata(self.platform),
            &normalize_metadata(self.device_family),
        ]
        .join("|")
    }

    /// The older v2 string (no platform, no deviceFamily), still accepted by
    /// OpenClaw; the fake gateway accepts it too.
    pub fn v2(&self) -> String {
        [
            "v2",
            self.device_id,
            self.client_id,
            self.client_mode,
            self.role,
            &self.scopes.join(","),
            &self.signed_at_ms.to_string(),
            self.token,
            self.nonce,
        ]
        .join("|")
    }
}

/// Trimmed, ASCII upper case lowered (OpenClaw's `normalizeDeviceMetadataForAuth`).
pub fn normalize_metadata(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Check a base64url signature over `payload` with a base64url public key.
/// False for anything malformed.
pub fn verify(public_key_b64: &str, payload: &str, signature_b64: &str) -> bool {
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
    let (Ok(pk), Ok(sig)) = (decode(public_key_b64), decode(signature_b64)) else {
        return false;
    };
    let (Ok(pk), Ok(sig)) = (
        <[u8; 32]>::try_from(pk.as_slice()),
        <[u8; 64]>::try_from(sig.as_slice()),
    ) else {
        return false;
    };
    let Ok(vk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    vk.verify(payload.as_bytes(), &Signature::from_bytes(&sig))
        .is_ok()
}

/// Decode a base64url public key to raw bytes (for the device id check).
pub fn decode_public_key(public_key_b64: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(public_key_b64.trim_end_matches('='))
        .ok()
        .filter(|k| k.len() == 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_link::MemorySecretStore;

    fn payload<'a>(id: &'a str, scopes: &'a [String]) -> AuthPayload<'a> {
        AuthPayload {
            device_id: id,
            client_id: "cli",
            client_mode: "cli",
            role: "operator",
            scopes,
            signed_at_ms: 1796162974515,
            token: "tok",
            nonce: "86a0187e-8d61-49de-b80d-3e4af9cb54ee",
            platform: " Linux ",
            device_family: "",
        }
    }

    #[test]
    fn the_key_is_made_once_and_then_reloaded_from_the_store() {
        let store = MemorySecretStore::new();
        let a = DeviceIdentity::load_or_create(&store, "k").unwrap();
        let b = DeviceIdentity::load_or_create(&store, "k").unwrap();
        assert_eq!(a.device_id(), b.device_id());
        assert_eq!(store.get("k").unwrap().unwrap().len(), 32);
    }

    #[test]
    fn a_damaged_stored_key_is_an_error_not_a_new_identity() {
        let store = MemorySecretStore::new();
        store.set("k", b"short").unwrap();
        let err = DeviceIdentity::load_or_create(&store, "k").unwrap_err();
        assert!(matches!(err, DeviceError::BadKey(5)), "{err:?}");
        assert_eq!(store.get("k").unwrap().unwrap().as_slice(), b"short");
    }

    #[test]
    fn the_device_id_is_the_hex_sha256_of_the_raw_public_key() {
        // RFC 8032 test 1: the seed 9d61… has the public key d75a…
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let id = DeviceIdentity::from_seed(Zeroizing::new(seed));
        let pk = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap();
        assert_eq!(id.public_key().as_slice(), pk.as_slice());
        assert_eq!(id.device_id(), hex::encode(Sha256::digest(&pk)));
        assert_eq!(id.device_id().len(), 64);
        assert!(
            id.device_id()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(id.public_key_b64(), URL_SAFE_NO_PAD.encode(&pk));
        assert!(!id.public_key_b64().contains('='));
    }

    #[test]
    fn the_v3_payload_is_joined_exactly_as_openclaw_joins_it() {
        let scopes = vec!["operator.admin".to_string(), "operator.read".to_string()];
        let p = payload("dev", &scopes);
        assert_eq!(
            p.v3(),
            "v3|dev|cli|cli|operator|operator.admin,operator.read|1796162974515|tok|86a0187e-8d61-49de-b80d-3e4af9cb54ee|linux|"
        );
        assert_eq!(
            p.v2(),
            "v2|dev|cli|cli|operator|operator.admin,operator.read|1796162974515|tok|86a0187e-8d61-49de-b80d-3e4af9cb54ee"
        );
    }

    #[test]
    fn a_signature_verifies_over_its_payload_and_nothing_else() {
        let id = DeviceIdentity::generate();
        let scopes = vec!["operator.admin".to_string()];
        let device_id = id.device_id();
        let text = payload(&device_id, &scopes).v3();
        let sig = id.sign(&text);
        assert!(!sig.contains('='));
        assert!(verify(&id.public_key_b64(), &text, &sig));
        assert!(!verify(&id.public_key_b64(), &format!("{text}x"), &sig));
        assert!(!verify(
            &DeviceIdentity::generate().public_key_b64(),
            &text,
            &sig
        ));
        assert!(!verify("not base64!", &text, &sig));
        assert!(!verify(&id.public_key_b64(), &text, "AAAA"));
    }

    #[test]
    fn debug_never_prints_the_key() {
        let seed = [7u8; 32];
        let id = DeviceIdentity::from_seed(Zeroizing::new(seed));
        let dbg = format!("{id:?}");
        assert!(dbg.contains("redacted"));
        assert!(!dbg.contains(&hex::encode(seed)));
        assert!(!dbg.contains("[7, 7"));
    }
}
