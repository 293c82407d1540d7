//! The secret store as a running daemon sees it: which backend was chosen at
//! start, and whether it still works.
//!
//! Keys are read once, at start (the desktop identity, each paired phone's
//! K), and kept in memory: a keyring that goes away later does not stop the
//! running link, local approvals or halts. What needs it afterwards is
//! pairing a phone (stores K), revoking one (deletes K) and the next daemon
//! start. [`WatchedSecrets`] wraps the store the device store uses so that
//! such a failure is never silent: every failed read, write or delete is
//! remembered as a problem (cleared by the next call that works), and
//! [`WatchedSecrets::check_soon`] re-reads the identity key in the
//! background, at most every [`CHECK_INTERVAL`], so a keyring that dies
//! while nothing uses it shows in `reins status` too.
//!
//! Not here: choosing the backend ([`crate::secrets::open_secret_store`]).

use crate::secrets::{SecretBackend, SecretError, SecretStore};
use crate::store::IDENTITY_SECRET;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// At most one background check per this long. A tray or script may ask
/// for the status every second; each check is a keyring round trip (about
/// 100 ms of the keyring daemon's work), and a keyring that goes away is
/// still reported within seconds of the next look after this.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Which backend holds the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretsKind {
    /// The OS keyring (Secret Service).
    Keyring,
    /// A 0600 file in the data dir: no keyring worked at start.
    File,
    /// In memory (tests).
    Memory,
}

/// The `link.secrets` object of `reins status --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretsStatus {
    /// Where the keys are.
    pub backend: SecretsKind,
    /// The 0600 file, for `file`.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Why the keyring was not used, for `file`.
    #[serde(default)]
    pub keyring_error: Option<String>,
    /// What to do about the backend, for `file`.
    #[serde(default)]
    pub warning: Option<String>,
    /// Set while the store fails: what failed, what still works, what to do.
    #[serde(default)]
    pub problem: Option<String>,
}

struct Inner {
    store: Arc<dyn SecretStore>,
    backend: SecretBackend,
    problem: Mutex<Option<String>>,
    last_check: Mutex<Option<Instant>>,
    checking: AtomicBool,
}

/// The daemon's secret store, watched. Cloning shares it.
#[derive(Clone)]
pub struct WatchedSecrets {
    inner: Arc<Inner>,
}

impl fmt::Debug for WatchedSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchedSecrets")
            .field("backend", &self.inner.backend)
            .field("problem", &self.problem())
            .finish_non_exhaustive()
    }
}

/// What the user is told when an operation fails after start.
fn problem_text(what: &str, e: &SecretError) -> String {
    format!(
        "{what} failed: {e}. Keys already loaded keep working (paired phones stay \
         connected; halts and approvals are unaffected), but pairing or revoking a \
         phone, and the next daemon start, need the secret store back"
    )
}

impl WatchedSecrets {
    /// Wraps `store`, which [`crate::open_secret_store`] chose as `backend`.
    pub fn new(store: Arc<dyn SecretStore>, backend: SecretBackend) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                backend,
                problem: Mutex::new(None),
                last_check: Mutex::new(None),
                checking: AtomicBool::new(false),
            }),
        }
    }

    /// The backend chosen at start.
    pub fn backend(&self) -> &SecretBackend {
        &self.inner.backend
    }

    /// The current problem, if any.
    pub fn problem(&self) -> Option<String> {
        self.inner
            .problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What `reins status` shows.
    pub fn status(&self) -> SecretsStatus {
        let (backend, file, keyring_error) = match &self.inner.backend {
            SecretBackend::Keyring => (SecretsKind::Keyring, None, None),
            SecretBackend::InsecureFile {
                path,
                keyring_error,
            } => (
                SecretsKind::File,
                Some(path.clone()),
                Some(keyring_error.clone()),
            ),
            SecretBackend::Memory => (SecretsKind::Memory, None, None),
        };
        SecretsStatus {
            backend,
            file,
            keyring_error,
            warning: self.inner.backend.warning(),
            problem: self.problem(),
        }
    }

    fn record<T>(&self, what: &str, r: Result<T, SecretError>) -> Result<T, SecretError> {
        let mut p = self.inner.problem.lock().unwrap_or_else(|p| p.into_inner());
        match &r {
            Ok(_) => *p = None,
            Err(e) => {
                tracing::error!(error = %e, "{what} failed");
                *p = Some(problem_text(what, e));
            }
        }
        r
    }

    /// Re-reads the identity key on a thread of its own, unless one check
    /// is still running or the last began less than [`CHECK_INTERVAL`] ago.
    /// Never waits: the result shows in the next [`Self::status`].
    pub fn check_soon(&self) {
        {
            let mut last = self
                .inner
                .last_check
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < CHECK_INTERVAL)
                || self.inner.checking.swap(true, Ordering::AcqRel)
            {
                return;
            }
            *last = Some(Instant::now());
        }
        let me = self.clone();
        std::thread::spawn(move || {
            me.check_now();
            me.inner.checking.store(false, Ordering::Release);
        });
    }

    /// The check itself: the identity key is written at the first start and
    /// never deleted, so a store that no longer has it (a keyring that came
    /// back empty or locked) is as much a problem as one that fails.
    pub fn check_now(&self) {
        let r = self.inner.store.get(IDENTITY_SECRET).and_then(|v| match v {
            Some(_) => Ok(()),
            None => Err(SecretError::Keyring(
                "it no longer holds Reins' keys (a keyring that restarted locked or \
                     was reset shows none); unlock it, or restart your desktop session"
                    .into(),
            )),
        });
        let _ = self.record("Checking the secret store", r);
    }
}

impl SecretStore for WatchedSecrets {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        self.record("Reading a key", self.inner.store.get(name))
    }

    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.record("Storing a key", self.inner.store.set(name, value))
    }

    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.record("Deleting a key", self.inner.store.delete(name))
    }
}

#[cfg(test)]
#[path = "secrets_watch_tests.rs"]
mod tests;
