//! Reins' device identity on the gateway: an Ed25519 key kept in the
//! SecretStore, its device id (hex SHA-256 of the raw public key) and the
//! signature over the `connect` payload (v3:
//! `v3|deviceId|clientId|clientMode|role|scopes|signedAtMs|token|nonce|platform|deviceFamily`).
//! Uses ed25519-dalek; no hand-written crypto. A `Debug` never prints the key.
//!
//! TODO(helper A): implement.
