//! Where secrets live: the desktop identity key and each device's pair key K.
//!
//! [`SecretStore`] is a small port with three adapters:
//! - [`KeyringSecretStore`]: the OS keyring through `keyring` 3 with the
//!   `async-secret-service` + `async-io` + `crypto-rust` features, i.e. the
//!   freedesktop Secret Service (GNOME Keyring, KWallet) over a pure-Rust
//!   D-Bus client (zbus), encrypted session, no libdbus or OpenSSL needed.
//!   We do *not* use `linux-native` (kernel keyutils): its session keyring
//!   is missing under ssh/CI and is lost at logout, so a daemon's keys
//!   would vanish on reboot.
//! - [`FileSecretStore`]: a 0600 JSON file in the data dir, used only when
//!   no keyring works. [`open_secret_store`] reports that as
//!   [`SecretBackend::InsecureFile`] so the daemon can say so loudly.
//! - [`MemorySecretStore`]: for tests.
//!
//! Non-secret state (device names, replay windows) is in [`crate::store`].

use crate::fsutil::{ensure_private_dir, write_private_atomic};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zeroize::Zeroizing;

/// The keyring "service" under which Reins stores its entries.
pub const KEYRING_SERVICE: &str = "reins";

/// File name of the fallback secret file inside the data dir.
pub const SECRETS_FILE: &str = "secrets.json";

/// How long the keyring probe may take. The Secret Service answers in
/// ~100 ms; a locked keyring that pops a password prompt, or a bus that never
/// answers, must not hang daemon start-up.
pub const KEYRING_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one keyring read, write or delete may take once the daemon runs.
/// Each answers in ~100 ms; the same bound as the probe, for the same reason.
pub const KEYRING_OP_TIMEOUT: Duration = KEYRING_PROBE_TIMEOUT;

/// Why a secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The keyring refused.
    #[error(
        "the OS keyring failed: {0}; unlock your keyring (e.g. GNOME Keyring) or run the daemon inside your desktop session"
    )]
    Keyring(String),
    /// The fallback file could not be used.
    #[error(
        "cannot use the secret file {path}: {source}; check that the data dir is yours and writable"
    )]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The fallback file is not valid.
    #[error(
        "the secret file {0} is corrupt; restore it from a backup or delete it and pair your phones again"
    )]
    Corrupt(PathBuf),
}

/// A place to keep small secrets, addressed by ASCII names.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// The secret called `name`, if any.
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError>;
    /// Stores (or replaces) `name`.
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError>;
    /// Deletes `name`; deleting a missing secret is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretError>;
}

/// Which adapter [`open_secret_store`] chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretBackend {
    /// The OS keyring.
    Keyring,
    /// No keyring worked: secrets are in a 0600 file. Tell the user.
    InsecureFile {
        /// The file.
        path: PathBuf,
        /// Why the keyring was not usable.
        keyring_error: String,
    },
    /// In memory (tests).
    Memory,
}

impl SecretBackend {
    /// A warning to print prominently, if the choice deserves one.
    pub fn warning(&self) -> Option<String> {
        match self {
            SecretBackend::InsecureFile {
                path,
                keyring_error,
            } => Some(format!(
                "WARNING: no OS keyring is available ({keyring_error}). Reins keeps its keys in \
                 {} (mode 0600); anyone who can read your files can impersonate your phones. \
                 Install and unlock a Secret Service keyring (e.g. gnome-keyring) to fix this.",
                path.display()
            )),
            _ => None,
        }
    }
}

/// Picks the keyring if a set/get/delete round trip works within
/// [`KEYRING_PROBE_TIMEOUT`], otherwise the 0600 file in `data_dir`.
pub fn open_secret_store(data_dir: &Path) -> (Arc<dyn SecretStore>, SecretBackend) {
    let keyring = KeyringSecretStore::new(KEYRING_SERVICE);
    match keyring.probe() {
        Ok(()) => (Arc::new(keyring), SecretBackend::Keyring),
        Err(e) => {
            let path = data_dir.join(SECRETS_FILE);
            let backend = SecretBackend::InsecureFile {
                path: path.clone(),
                keyring_error: e.to_string(),
            };
            (Arc::new(FileSecretStore::new(path)), backend)
        }
    }
}

/// The OS keyring (Secret Service on Linux).
#[derive(Debug, Clone)]
pub struct KeyringSecretStore {
    service: String,
}

impl KeyringSecretStore {
    /// Entries go under `service` (use [`KEYRING_SERVICE`]; tests use their own).
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name).map_err(|e| SecretError::Keyring(e.to_string()))
    }

    /// Runs one keyring call on a thread of its own and waits at most
    /// [`KEYRING_OP_TIMEOUT`] for it: a keyring that went away can be
    /// re-activated locked and then wait on an unlock prompt, and the link
    /// task (which stores and deletes keys) must never hang on that. A call
    /// that times out may still finish later; its caller was told it failed.
    fn bounded<T: Send + 'static>(
        &self,
        timeout: Duration,
        f: impl FnOnce(&Self) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let me = self.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f(&me));
        });
        rx.recv_timeout(timeout).unwrap_or_else(|_| {
            Err(SecretError::Keyring(format!(
                "the keyring did not answer within {} s (is it locked, waiting for a password?)",
                timeout.as_secs()
            )))
        })
    }

    fn get_now(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        match self.entry(name)?.get_secret() {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Keyring(e.to_string())),
        }
    }

    fn set_now(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.entry(name)?
            .set_secret(value)
            .map_err(|e| SecretError::Keyring(e.to_string()))
    }

    fn delete_now(&self, name: &str) -> Result<(), SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Keyring(e.to_string())),
        }
    }

    /// Checks that the keyring works: a set/get/delete round trip within
    /// [`KEYRING_PROBE_TIMEOUT`].
    pub fn probe(&self) -> Result<(), SecretError> {
        self.bounded(KEYRING_PROBE_TIMEOUT, |me| {
            let name = format!("probe-{:016x}", rand::random::<u64>());
            me.set_now(&name, b"probe")
                .and_then(|()| me.get_now(&name))
                .and_then(|v| match v.as_deref().map(Vec::as_slice) {
                    Some(b"probe") => me.delete_now(&name),
                    _ => Err(SecretError::Keyring(
                        "a stored value did not read back".into(),
                    )),
                })
        })
    }
}

impl SecretStore for KeyringSecretStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        let name = name.to_owned();
        self.bounded(KEYRING_OP_TIMEOUT, move |me| me.get_now(&name))
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        let (name, value) = (name.to_owned(), Zeroizing::new(value.to_vec()));
        self.bounded(KEYRING_OP_TIMEOUT, move |me| me.set_now(&name, &value))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let name = name.to_owned();
        self.bounded(KEYRING_OP_TIMEOUT, move |me| me.delete_now(&name))
    }
}

/// Fallback: hex values in a 0600 JSON file, rewritten atomically.
pub struct FileSecretStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSecretStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Name → hex value. Plain strings: the map lives only for one call and the
/// file bytes around it are zeroized.
type SecretMap = BTreeMap<String, String>;

impl FileSecretStore {
    /// Uses (and creates on first write) `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    fn io(&self, source: std::io::Error) -> SecretError {
        SecretError::File {
            path: self.path.clone(),
            source,
        }
    }

    fn load(&self) -> Result<SecretMap, SecretError> {
        match std::fs::read(&self.path) {
            Ok(b) => {
                let b = Zeroizing::new(b);
                serde_json::from_slice(&b).map_err(|_| SecretError::Corrupt(self.path.clone()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SecretMap::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    fn save(&self, map: &SecretMap) -> Result<(), SecretError> {
        if let Some(dir) = self.path.parent() {
            ensure_private_dir(dir).map_err(|e| self.io(e))?;
        }
        let bytes = Zeroizing::new(serde_json::to_vec(map).expect("a string map serializes"));
        write_private_atomic(&self.path, &bytes).map_err(|e| self.io(e))
    }
}

impl SecretStore for FileSecretStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let map = self.load()?;
        match map.get(name) {
            None => Ok(None),
            Some(h) => hex::decode(h.as_bytes())
                .map(|v| Some(Zeroizing::new(v)))
                .map_err(|_| SecretError::Corrupt(self.path.clone())),
        }
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        map.insert(name.to_owned(), hex::encode(value));
        self.save(&map)
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.load()?;
        if map.remove(name).is_some() {
            self.save(&map)?;
        }
        Ok(())
    }
}

/// In-memory secrets for tests. Cloning shares the same map, so a "restart"
/// can reopen the store with the same secrets.
#[derive(Clone, Default)]
pub struct MemorySecretStore {
    map: Arc<Mutex<BTreeMap<String, Zeroizing<Vec<u8>>>>>,
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.map.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "MemorySecretStore({n} secrets)")
    }
}

impl MemorySecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names currently stored (tests check deletion with it).
    pub fn names(&self) -> Vec<String> {
        self.map.lock().unwrap().keys().cloned().collect()
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        Ok(self.map.lock().unwrap().get(name).cloned())
    }
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.map
            .lock()
            .unwrap()
            .insert(name.to_owned(), Zeroizing::new(value.to_vec()));
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.map.lock().unwrap().remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_file_fallback_round_trips_deletes_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(SECRETS_FILE);
        let s = FileSecretStore::new(path.clone());
        assert!(s.get("a").unwrap().is_none());
        s.set("a", &[1, 2, 3]).unwrap();
        s.set("b", &[4]).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().as_slice(), &[1, 2, 3]);
        s.delete("a").unwrap();
        s.delete("missing").unwrap();
        assert!(s.get("a").unwrap().is_none());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        assert!(!format!("{s:?}").contains("04"));
    }

    #[test]
    fn a_fallback_backend_carries_a_loud_warning_and_the_keyring_none() {
        let b = SecretBackend::InsecureFile {
            path: "/x/secrets.json".into(),
            keyring_error: "no bus".into(),
        };
        assert!(b.warning().unwrap().contains("WARNING"));
        assert!(SecretBackend::Keyring.warning().is_none());
    }

    #[test]
    fn without_a_session_bus_the_store_falls_back_to_the_file() {
        // The test environment has no Secret Service unless one was started
        // on purpose; either way the choice must be reported consistently.
        let dir = tempfile::tempdir().unwrap();
        let (store, backend) = open_secret_store(dir.path());
        match &backend {
            SecretBackend::Keyring => {}
            SecretBackend::InsecureFile { path, .. } => {
                assert_eq!(path, &dir.path().join(SECRETS_FILE));
                store.set("x", b"y").unwrap();
                assert!(path.exists());
            }
            SecretBackend::Memory => panic!("never chosen automatically"),
        }
    }
}
