//! Fuzzes everything that touches untrusted broker bytes: the strict
//! envelope parser, low-level `open`, and the fully checked
//! `PairChannel::open` with a replay window. Nothing may panic, and nothing
//! but a genuinely sealed message may ever open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reins_proto::envelope::{Envelope, open};
use reins_proto::keys::{DirectionKey, PairKey};
use reins_proto::{PairChannel, ReplayWindow, Role};

fuzz_target!(|data: &[u8]| {
    let _ = Envelope::parse(data);
    let key = DirectionKey::from_bytes([0x42; 32]);
    assert!(open(&key, "reins/fuzz", data).is_err());
    let k = PairKey::from_bytes([7; 32]);
    let desktop = PairChannel::paired(Role::Desktop, &k, "reins/").unwrap();
    let mut replay = ReplayWindow::new();
    let topic = desktop.recv_topic().to_owned();
    assert!(
        desktop
            .open(&topic, data, &mut replay, 1_700_000_000_000)
            .is_err()
    );
    if let Ok(env) = Envelope::parse(data) {
        // Whatever parses must re-encode to something that parses identically.
        assert_eq!(Envelope::parse(&env.to_wire()).unwrap(), env);
    }
});
