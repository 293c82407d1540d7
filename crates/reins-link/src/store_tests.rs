use super::*;
use crate::secrets::MemorySecretStore;
use std::os::unix::fs::PermissionsExt;

fn paired(k: u8, name: &str) -> PairedPhone {
    let key = PairKey::from_bytes([k; 32]);
    PairedPhone {
        device_name: name.into(),
        phone_public: [9; 32],
        code: key.verification_code(),
        key,
        topic_prefix: "reins/".into(),
        out_seq: OutgoingSeq::new(),
    }
}

#[test]
fn added_devices_survive_a_reopen_with_their_counters() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let info = s.add(&paired(1, "Pixel"), 1000).unwrap();
    let id: DeviceId = info.id.parse().unwrap();
    s.get_mut(&id).unwrap().out_seq.advance().unwrap();
    s.persist(&id).unwrap();
    drop(s);
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    assert_eq!(s.list(), vec![info]);
    assert_eq!(s.get(&id).unwrap().out_seq.last(), 1);
    let path = dir.path().join(DEVICES_DIR).join(format!("{id}.json"));
    assert_eq!(
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// A store whose deletes fail: a keyring that went away mid-revocation.
#[derive(Debug)]
struct DeleteFails(MemorySecretStore);

impl SecretStore for DeleteFails {
    fn get(&self, name: &str) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, SecretError> {
        self.0.get(name)
    }
    fn set(&self, name: &str, value: &[u8]) -> Result<(), SecretError> {
        self.0.set(name, value)
    }
    fn delete(&self, _: &str) -> Result<(), SecretError> {
        Err(SecretError::Keyring("the keyring went away".into()))
    }
}

#[test]
fn a_revocation_stands_after_a_restart_even_when_the_key_cannot_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(DeleteFails(secrets.clone()))).unwrap();
    let id: DeviceId = s.add(&paired(4, "Lost"), 0).unwrap().id.parse().unwrap();
    assert!(s.revoke(&id).unwrap(), "revoked although K stays behind");
    assert!(s.list().is_empty());
    assert_eq!(
        secrets.names(),
        vec![format!("device-{id}")],
        "K left behind"
    );
    // The keyring is back: the phone does not come back with it.
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    assert!(s.list().is_empty() && s.missing_keys().is_empty());
}

#[test]
fn the_device_id_is_the_hex_pairing_id() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = DeviceStore::open(dir.path(), Arc::new(MemorySecretStore::new())).unwrap();
    let p = paired(2, "Phone");
    let info = s.add(&p, 0).unwrap();
    let chan = PairChannel::paired(Role::Desktop, &p.key, "reins/").unwrap();
    assert_eq!(info.id, hex::encode(chan.pairing_id()));
}

#[test]
fn revoking_deletes_the_key_and_the_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let id: DeviceId = s.add(&paired(3, "A"), 0).unwrap().id.parse().unwrap();
    assert_eq!(secrets.names(), vec![format!("device-{id}")]);
    assert!(s.revoke(&id).unwrap());
    assert!(secrets.names().is_empty());
    assert!(s.list().is_empty());
    assert!(!s.revoke(&id).unwrap());
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    assert!(s.list().is_empty());
}

#[test]
fn renaming_checks_the_name_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let id: DeviceId = s.add(&paired(4, "Old"), 0).unwrap().id.parse().unwrap();
    assert!(matches!(s.rename(&id, "  "), Err(StoreError::BadName)));
    assert!(matches!(s.rename(&id, "a\nb"), Err(StoreError::BadName)));
    s.rename(&id, "Work phone").unwrap();
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    assert_eq!(s.list()[0].name, "Work phone");
    let other = DeviceId([0; 16]);
    let mut s = s;
    assert!(matches!(
        s.rename(&other, "x"),
        Err(StoreError::NoSuchDevice(_))
    ));
}

#[test]
fn a_device_whose_key_vanished_is_reported_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let id: DeviceId = s.add(&paired(5, "Gone"), 0).unwrap().id.parse().unwrap();
    secrets.delete(&format!("device-{id}")).unwrap();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    assert!(s.list().is_empty());
    assert_eq!(s.missing_keys()[0].name, "Gone");
    assert!(s.revoke(&id).unwrap());
    assert!(s.missing_keys().is_empty());
}

#[test]
fn debug_output_and_files_never_contain_the_pair_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = DeviceStore::open(dir.path(), Arc::new(MemorySecretStore::new())).unwrap();
    let info = s.add(&paired(0xab, "P"), 0).unwrap();
    let k_hex = hex::encode([0xabu8; 32]);
    let dbg = format!("{s:?} {:?}", s.get(&info.id.parse().unwrap()).unwrap());
    assert!(!dbg.contains(&k_hex) && !dbg.contains("171, 171"), "{dbg}");
    let file = std::fs::read_to_string(
        dir.path()
            .join(DEVICES_DIR)
            .join(format!("{}.json", info.id)),
    )
    .unwrap();
    assert!(!file.contains(&k_hex));
}

#[test]
fn the_identity_is_created_once_and_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let s = DeviceStore::open(dir.path(), Arc::new(MemorySecretStore::new())).unwrap();
    let a = s.identity().unwrap().public();
    assert_eq!(a, s.identity().unwrap().public());
}

#[test]
fn device_ids_parse_only_from_32_hex_digits() {
    assert!("zz".parse::<DeviceId>().is_err());
    let id = DeviceId([0x1f; 16]);
    assert_eq!(id.to_string().parse::<DeviceId>().unwrap(), id);
}

#[test]
fn a_new_device_keeps_sending_after_the_seq_its_pairing_accepted_used() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let mut p = paired(3, "Pixel");
    p.out_seq.advance().unwrap(); // pairing_accepted was d2p seq 1
    let id: DeviceId = s.add(&p, 1000).unwrap().id.parse().unwrap();
    drop(s);
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    let mut seq = s.get(&id).unwrap().out_seq;
    assert_eq!(seq.advance(), Ok(2));
}

#[test]
fn outgoing_seqs_are_written_once_per_block_and_a_restart_continues_above_every_one_used() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = MemorySecretStore::new();
    let mut s = DeviceStore::open(dir.path(), Arc::new(secrets.clone())).unwrap();
    let mut p = paired(4, "Pixel");
    p.out_seq.advance().unwrap(); // pairing_accepted was d2p seq 1
    let id: DeviceId = s.add(&p, 1000).unwrap().id.parse().unwrap();
    let path = dir.path().join(DEVICES_DIR).join(format!("{id}.json"));
    let on_disk = || -> u64 {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v["out_seq"]["last"].as_u64().unwrap()
    };
    // Sends as the link does them: reserve, then seal (advance) with out_seq.
    let mut used = Vec::new();
    let mut writes = std::collections::BTreeSet::new();
    for _ in 0..100 {
        s.reserve_out_seq(&id).unwrap();
        let dev = s.get_mut(&id).unwrap();
        let seq = dev.out_seq.advance().unwrap();
        used.push(seq);
        let disk = on_disk();
        assert!(
            seq <= disk,
            "seq {seq} was used before it was on disk ({disk})"
        );
        writes.insert(disk);
    }
    assert_eq!(used, (2..102).collect::<Vec<u64>>());
    // One write per block of SEQ_BLOCK, not one per message.
    assert_eq!(writes.len(), 100usize.div_ceil(SEQ_BLOCK as usize));
    // A crash now: the reopened store starts above every seq handed out.
    drop(s);
    let s = DeviceStore::open(dir.path(), Arc::new(secrets)).unwrap();
    let mut seq = s.get(&id).unwrap().out_seq;
    assert!(seq.advance().unwrap() > 101);
}
