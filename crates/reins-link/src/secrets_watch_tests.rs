use super::*;
use crate::secrets::MemorySecretStore;
use std::sync::atomic::AtomicBool;

/// A memory store that can be made to fail, as a keyring that went away.
#[derive(Debug, Default)]
struct Flaky {
    mem: MemorySecretStore,
    broken: AtomicBool,
}

impl Flaky {
    fn fail(&self) -> Result<(), SecretError> {
        if self.broken.load(Ordering::Relaxed) {
            Err(SecretError::Keyring(
                "no reply from org.freedesktop.secrets".into(),
            ))
        } else {
            Ok(())
        }
    }
}

impl SecretStore for Flaky {
    fn get(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, SecretError> {
        self.fail()?;
        self.mem.get(name)
    }
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.fail()?;
        self.mem.set(name, value)
    }
    fn delete(&self, name: &str) -> Result<(), SecretError> {
        self.fail()?;
        self.mem.delete(name)
    }
}

fn watched() -> (Arc<Flaky>, WatchedSecrets) {
    let flaky = Arc::new(Flaky::default());
    let w = WatchedSecrets::new(flaky.clone(), SecretBackend::Keyring);
    (flaky, w)
}

#[test]
fn a_failed_write_is_a_problem_that_says_what_still_works_until_a_call_works_again() {
    let (flaky, w) = watched();
    assert!(w.status().problem.is_none());
    flaky.broken.store(true, Ordering::Relaxed);
    assert!(w.set("device-1", b"k").is_err());
    let p = w.status().problem.expect("reported");
    assert!(p.contains("Storing a key failed"), "{p}");
    assert!(p.contains("org.freedesktop.secrets"), "{p}");
    assert!(p.contains("paired phones stay connected"), "{p}");
    flaky.broken.store(false, Ordering::Relaxed);
    w.set("device-1", b"k").unwrap();
    assert!(w.status().problem.is_none());
}

#[test]
fn the_check_reports_a_store_that_fails_or_lost_the_identity_key() {
    let (flaky, w) = watched();
    w.check_now();
    let p = w.problem().expect("no identity key yet");
    assert!(p.contains("no longer holds Reins' keys"), "{p}");
    w.set(IDENTITY_SECRET, b"id").unwrap();
    w.check_now();
    assert!(w.problem().is_none());
    flaky.broken.store(true, Ordering::Relaxed);
    w.check_now();
    assert!(
        w.problem()
            .unwrap()
            .contains("Checking the secret store failed")
    );
}

#[test]
fn a_background_check_shows_in_the_status_without_the_caller_waiting() {
    let (flaky, w) = watched();
    flaky.broken.store(true, Ordering::Relaxed);
    w.check_soon();
    // A second call within the interval starts nothing more.
    w.check_soon();
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.problem().is_none() {
        assert!(Instant::now() < deadline, "the check never ran");
        std::thread::yield_now();
    }
}

#[test]
fn a_file_backend_reports_its_path_and_how_to_fix_it() {
    let backend = SecretBackend::InsecureFile {
        path: "/d/reins/secrets.json".into(),
        keyring_error: "no session bus".into(),
    };
    let s = WatchedSecrets::new(Arc::new(MemorySecretStore::new()), backend).status();
    assert_eq!(s.backend, SecretsKind::File);
    assert_eq!(
        s.file.as_deref(),
        Some(std::path::Path::new("/d/reins/secrets.json"))
    );
    assert_eq!(s.keyring_error.as_deref(), Some("no session bus"));
    let w = s.warning.unwrap();
    assert!(w.contains("0600") && w.contains("gnome-keyring"), "{w}");
    let json = serde_json::to_value(
        WatchedSecrets::new(Arc::new(MemorySecretStore::new()), SecretBackend::Keyring).status(),
    )
    .unwrap();
    assert_eq!(json["backend"], "keyring");
}
