//! Paired devices and their persisted protocol state.
//!
//! Each device has one JSON file, `<data_dir>/devices/<device_id>.json`
//! (0600, written atomically), holding its name, pairing time, topic
//! prefix, receive [`ReplayWindow`] and send [`OutgoingSeq`]. Its pair key K
//! lives in the [`SecretStore`] under `device-<device_id>`; the desktop
//! identity key under [`IDENTITY_SECRET`]. A replay must still fail after a
//! restart, so the window is saved after every accepted message and the seq
//! before every publish.
//!
//! The device id is `hex(pairing_id)`: opaque, derived from K, and the same
//! on both ends. Only one process (the daemon) should hold a `DeviceStore`
//! at a time. Not here: MQTT (the link owns a store and subscribes).

use crate::fsutil::{ensure_private_dir, write_private_atomic};
use crate::secrets::{SecretError, SecretStore};
use reins_proto::pairing::{MAX_NAME_BYTES, PairedPhone};
use reins_proto::{IdentityKeyPair, OutgoingSeq, PairChannel, PairKey, ReplayWindow, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// Secret name of the desktop's long-term X25519 key.
pub const IDENTITY_SECRET: &str = "desktop-identity";

/// Subdirectory of the data dir holding one JSON file per device.
pub const DEVICES_DIR: &str = "devices";

/// Outgoing seqs written to disk ahead of use, per phone (docs/protocol.md
/// §8 allows blocks; the phone app reserves 32). One disk write (an fsync)
/// per 64 messages to a phone instead of one per message: with ten phones
/// and a request a second, per-message writes queued the link behind its
/// own fsyncs until requests expired before any phone saw them (found by
/// `reins-bench soak`). A restart skips at most 64 seqs, which the phone's
/// window accepts (seqs only have to increase).
pub(crate) const SEQ_BLOCK: u64 = 64;

/// A paired device's opaque id: `hex(pairing_id)`, 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub [u8; 16]);

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({self})")
    }
}

impl FromStr for DeviceId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s, &mut b).map_err(|_| StoreError::BadDeviceId(s.to_owned()))?;
        Ok(DeviceId(b))
    }
}

/// What the UI shows about a device. No secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Opaque id (hex).
    pub id: String,
    /// The name the phone gave, or the user's rename.
    pub name: String,
    /// Unix ms of pairing.
    pub paired_at_ms: u64,
    /// Topic prefix of the pair's topics.
    pub topic_prefix: String,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system trouble.
    #[error(
        "cannot use the device store at {path}: {source}; check that the data dir exists and is writable by you"
    )]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A device file is not valid JSON for us.
    #[error(
        "device file {0} is corrupt; revoke that device (or delete the file) and pair it again"
    )]
    Corrupt(PathBuf),
    /// The secret store failed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Not a device id.
    #[error("'{0}' is not a device id; run `reins devices` to list them")]
    BadDeviceId(String),
    /// No such device.
    #[error("no paired device {0}; run `reins devices` to list them")]
    NoSuchDevice(String),
    /// A name that breaks the rules.
    #[error(
        "device names must be 1..={MAX_NAME_BYTES} bytes, not blank, without control characters"
    )]
    BadName,
    /// The stored topic prefix is invalid.
    #[error("device {0} has an invalid topic prefix; revoke it and pair again")]
    BadPrefix(String),
}

#[derive(Serialize, Deserialize)]
struct DeviceFile {
    version: u32,
    #[serde(flatten)]
    info: DeviceInfo,
    phone_public: String,
    replay: ReplayWindow,
    out_seq: OutgoingSeq,
}

/// One loaded device: info, channel (holds derived keys) and counters.
pub(crate) struct Device {
    pub(crate) info: DeviceInfo,
    pub(crate) phone_public: [u8; 32],
    pub(crate) channel: PairChannel,
    pub(crate) replay: ReplayWindow,
    /// The last seq handed out.
    pub(crate) out_seq: OutgoingSeq,
    /// The counter as on disk: every seq handed out is at most this.
    pub(crate) out_reserved: OutgoingSeq,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The paired-device store.
pub struct DeviceStore {
    dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
    devices: BTreeMap<DeviceId, Device>,
    missing_keys: Vec<DeviceInfo>,
}

impl fmt::Debug for DeviceStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceStore")
            .field("dir", &self.dir)
            .field("devices", &self.devices.len())
            .finish_non_exhaustive()
    }
}

fn secret_name(id: &DeviceId) -> String {
    format!("device-{id}")
}

fn name_ok(name: &str) -> bool {
    !name.trim().is_empty() && name.len() <= MAX_NAME_BYTES && !name.chars().any(char::is_control)
}

impl DeviceStore {
    /// Opens (creating) `<data_dir>/devices` and loads every device whose K
    /// is in `secrets`. Devices whose K is gone are listed by
    /// [`DeviceStore::missing_keys`] and are not usable.
    pub fn open(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Result<Self, StoreError> {
        let dir = data_dir.join(DEVICES_DIR);
        let io = |source| StoreError::Io {
            path: dir.clone(),
            source,
        };
        ensure_private_dir(data_dir).map_err(io)?;
        ensure_private_dir(&dir).map_err(io)?;
        let mut me = Self {
            dir: dir.clone(),
            secrets,
            devices: BTreeMap::new(),
            missing_keys: Vec::new(),
        };
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let file: DeviceFile =
                serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt(path.clone()))?;
            let id: DeviceId = file.info.id.parse()?;
            let Some(k) = me.secrets.get(&secret_name(&id))? else {
                tracing::warn!(device = %id, "pair key missing from the secret store; device unusable");
                me.missing_keys.push(file.info);
                continue;
            };
            let k: [u8; 32] = k
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Corrupt(path.clone()))?;
            let mut public = [0u8; 32];
            hex::decode_to_slice(&file.phone_public, &mut public)
                .map_err(|_| StoreError::Corrupt(path.clone()))?;
            let channel = PairChannel::paired(
                Role::Desktop,
                &PairKey::from_bytes(k),
                &file.info.topic_prefix,
            )
            .map_err(|_| StoreError::BadPrefix(id.to_string()))?;
            me.devices.insert(
                id,
                Device {
                    info: file.info,
                    phone_public: public,
                    channel,
                    replay: file.replay,
                    out_seq: file.out_seq,
                    out_reserved: file.out_seq,
                },
            );
        }
        Ok(me)
    }

    /// The desktop identity, created and stored on first use.
    pub fn identity(&self) -> Result<IdentityKeyPair, StoreError> {
        if let Some(b) = self.secrets.get(IDENTITY_SECRET)? {
            if let Ok(arr) = <[u8; 32]>::try_from(b.as_slice()) {
                return Ok(IdentityKeyPair::from_secret_bytes(arr));
            }
        }
        let id = IdentityKeyPair::generate(&mut rand::rngs::OsRng);
        self.secrets
            .set(IDENTITY_SECRET, id.secret_bytes().as_slice())?;
        Ok(id)
    }

    /// Every usable device, ordered by id.
    pub fn list(&self) -> Vec<DeviceInfo> {
        self.devices.values().map(|d| d.info.clone()).collect()
    }

    /// Devices whose file exists but whose K is missing from the secret store.
    pub fn missing_keys(&self) -> &[DeviceInfo] {
        &self.missing_keys
    }

    /// Stores a freshly paired phone: K first (secret store), then its file.
    /// Its send counter starts where pairing left it, so the phone's one
    /// d2p window accepts the first paired message.
    pub fn add(&mut self, paired: &PairedPhone, now_ms: u64) -> Result<DeviceInfo, StoreError> {
        let channel = PairChannel::paired(Role::Desktop, &paired.key, &paired.topic_prefix)
            .map_err(|_| StoreError::BadPrefix(paired.topic_prefix.clone()))?;
        let id = DeviceId(channel.pairing_id());
        self.secrets.set(&secret_name(&id), paired.key.as_bytes())?;
        let dev = Device {
            info: DeviceInfo {
                id: id.to_string(),
                name: paired.device_name.clone(),
                paired_at_ms: now_ms,
                topic_prefix: paired.topic_prefix.clone(),
            },
            phone_public: paired.phone_public,
            channel,
            replay: ReplayWindow::new(),
            // Continues after `pairing_accepted` (d2p seq 1 of the pair).
            out_seq: paired.out_seq,
            out_reserved: paired.out_seq,
        };
        self.write(&dev)?;
        let info = dev.info.clone();
        self.devices.insert(id, dev);
        Ok(info)
    }

    /// Deletes the device's file, then its K. Returns false if it was
    /// unknown.
    ///
    /// The file is what makes a device exist when the store is opened, so
    /// it goes first: a revoked phone must never come back after a restart.
    /// A K that cannot be deleted (the keyring went away) is left behind,
    /// harmless without its file; the revocation still stands, and the
    /// failure is logged and reported by the secret store (see
    /// [`crate::secrets_watch`]), not returned.
    pub fn revoke(&mut self, id: &DeviceId) -> Result<bool, StoreError> {
        let path = self.path_of(id);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(StoreError::Io { path, source }),
        }
        let known = self.devices.remove(id).is_some();
        let missing = self.missing_keys.len();
        self.missing_keys.retain(|i| i.id != id.to_string());
        if let Err(e) = self.secrets.delete(&secret_name(id)) {
            tracing::warn!(device = %id, error = %e, "revoked, but its key stays in the secret store");
        }
        Ok(known || missing != self.missing_keys.len())
    }

    /// Renames a device.
    pub fn rename(&mut self, id: &DeviceId, name: &str) -> Result<DeviceInfo, StoreError> {
        if !name_ok(name) {
            return Err(StoreError::BadName);
        }
        let dev = self
            .devices
            .get_mut(id)
            .ok_or_else(|| StoreError::NoSuchDevice(id.to_string()))?;
        let old = std::mem::replace(&mut dev.info.name, name.to_owned());
        let dev = &self.devices[id];
        if let Err(e) = self.write(dev) {
            if let Some(d) = self.devices.get_mut(id) {
                d.info.name = old;
            }
            return Err(e);
        }
        Ok(self.devices[id].info.clone())
    }

    pub(crate) fn get(&self, id: &DeviceId) -> Option<&Device> {
        self.devices.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &DeviceId) -> Option<&mut Device> {
        self.devices.get_mut(id)
    }

    pub(crate) fn ids(&self) -> Vec<DeviceId> {
        self.devices.keys().copied().collect()
    }

    /// Makes sure the next outgoing seq of `id` is already on disk: when the
    /// reserved block is used up, writes the counter [`SEQ_BLOCK`] ahead.
    /// Call before sealing with `out_seq`. Nothing changes if the write fails
    /// (the message must then not be sent).
    pub(crate) fn reserve_out_seq(&mut self, id: &DeviceId) -> Result<(), StoreError> {
        let dev = self
            .devices
            .get_mut(id)
            .ok_or_else(|| StoreError::NoSuchDevice(id.to_string()))?;
        let mut next = dev.out_seq;
        if next.advance().is_err() || next.last() <= dev.out_reserved.last() {
            // Exhausted (sealing will say so), or already on disk.
            return Ok(());
        }
        let mut ahead = next;
        for _ in 1..SEQ_BLOCK {
            if ahead.advance().is_err() {
                break;
            }
        }
        let old = std::mem::replace(&mut dev.out_reserved, ahead);
        let result = self.write(&self.devices[id]);
        if result.is_err()
            && let Some(dev) = self.devices.get_mut(id)
        {
            dev.out_reserved = old;
        }
        result
    }

    /// Saves a device's counters (after `get_mut` changed them).
    pub(crate) fn persist(&self, id: &DeviceId) -> Result<(), StoreError> {
        match self.devices.get(id) {
            Some(d) => self.write(d),
            None => Err(StoreError::NoSuchDevice(id.to_string())),
        }
    }

    fn path_of(&self, id: &DeviceId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn write(&self, dev: &Device) -> Result<(), StoreError> {
        let id: DeviceId = dev.info.id.parse()?;
        let file = DeviceFile {
            version: 1,
            info: dev.info.clone(),
            phone_public: hex::encode(dev.phone_public),
            replay: dev.replay.clone(),
            // The higher of the two: never below a seq handed out.
            out_seq: if dev.out_reserved.last() > dev.out_seq.last() {
                dev.out_reserved
            } else {
                dev.out_seq
            },
        };
        let path = self.path_of(&id);
        let bytes = serde_json::to_vec(&file).expect("device state serializes");
        write_private_atomic(&path, &bytes).map_err(|source| StoreError::Io { path, source })
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
