//! Reins phone link, the I/O side: MQTT through an untrusted broker, with
//! every message end-to-end sealed by `reins-proto`.
//!
//! Map of the crate:
//! - [`link`]: the [`Link`] actor and its cloneable [`LinkHandle`]: send to
//!   phones, receive [`LinkEvent`]s, connection status, device admin.
//! - [`broker`]: an embedded rumqttd broker (TCP + WebSocket) for LAN use.
//! - [`store`] and [`secrets`]: paired devices, their replay state, and
//!   where keys live (OS keyring, or a loudly reported 0600 file);
//!   [`secrets_watch`]: whether they still work while the daemon runs.
//! - [`pair`]: drives desktop pairing over the link.
//! - [`phone`]: a Rust phone client for tests, benchmarks and CLI tests.
//! - [`qr`]: renders a pairing URL as a terminal QR code.
//! - [`broker_url`], [`backoff`]: broker URLs and reconnect delays.
//!
//! Not here: the protocol itself (`reins-proto`), approvals and commands
//! (the daemon decides what a [`LinkEvent`] means).

pub mod backoff;
pub mod broker;
pub mod broker_url;
mod conn;
mod fsutil;
pub mod link;
mod link_task;
pub mod nodelay;
pub mod pair;
pub mod phone;
pub mod qr;
pub mod secrets;
pub mod secrets_watch;
pub mod store;

pub use backoff::BackoffPolicy;
pub use broker::{EmbeddedBroker, EmbeddedBrokerConfig};
pub use broker_url::{BrokerConfig, Scheme};
pub use link::{
    ConnState, Link, LinkConfig, LinkError, LinkEvent, LinkHandle, LinkMetrics, LinkStatus,
    RawMessage, Recipient, Sent,
};
pub use pair::{CodePrompt, PairError, PairingNotice, PairingOptions, PairingSession};
pub use phone::{PhoneClient, PhoneError};
pub use secrets::{
    FileSecretStore, KeyringSecretStore, MemorySecretStore, SecretBackend, SecretStore,
    open_secret_store,
};
pub use secrets_watch::{SecretsKind, SecretsStatus, WatchedSecrets};
pub use store::{DeviceId, DeviceInfo, DeviceStore, StoreError};

/// Unix time in milliseconds (the protocol's clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
