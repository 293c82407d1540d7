//! `SystemdBus` (the daemon's systemd client) against a fake
//! `org.freedesktop.systemd1` on a private `dbus-daemon`.
//!
//! A real systemd manager cannot run here (PID 1 is not systemd, so
//! neither the system manager nor `systemd --user` starts); the fake
//! (`reins_e2e::fake_systemd`) answers the calls Reins makes and records
//! them. The calls are made from a plain thread, as the halt engine's
//! blocking thread makes them.

use reins_core::{UnitActiveState, UnitScope};
use reins_e2e::fake_systemd::FakeSystemd;
use reins_notify::fake::PrivateBus;
use reins_os::{UnitError, UnitManager};
use reins_runtime::systemd::{BusAddresses, SystemdBus};

fn user_bus(address: &str) -> SystemdBus {
    SystemdBus::with_addresses(BusAddresses {
        user: Some(address.to_owned()),
        system: None,
    })
}

#[test]
fn stop_unit_reaches_systemd_with_the_unit_name_and_mode_replace() {
    let bus = PrivateBus::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt
        .block_on(FakeSystemd::start(
            bus.address(),
            &["openclaw-gateway.service"],
        ))
        .unwrap();
    let sd = user_bus(bus.address());
    let unit = "openclaw-gateway.service";
    assert_eq!(
        sd.active_state(UnitScope::User, unit),
        Ok(UnitActiveState::Active)
    );
    sd.stop_unit(UnitScope::User, unit).unwrap();
    assert_eq!(fake.stops(), vec![(unit.to_owned(), "replace".to_owned())]);
    assert_eq!(
        sd.active_state(UnitScope::User, unit),
        Ok(UnitActiveState::Deactivating)
    );
    assert_eq!(
        sd.active_state(UnitScope::User, unit),
        Ok(UnitActiveState::Inactive)
    );
}

#[test]
fn a_unit_systemd_does_not_know_is_refused_with_systemds_own_words() {
    let bus = PrivateBus::start().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt.block_on(FakeSystemd::start(bus.address(), &[])).unwrap();
    let err = user_bus(bus.address())
        .stop_unit(UnitScope::User, "nope.service")
        .unwrap_err();
    match &err {
        UnitError::Refused { unit, reason } => {
            assert_eq!(unit, "nope.service");
            assert!(
                reason.contains("org.freedesktop.systemd1.NoSuchUnit"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(fake.stops().is_empty());
    // A unit that is not loaded is not running.
    assert_eq!(
        user_bus(bus.address()).active_state(UnitScope::User, "nope.service"),
        Ok(UnitActiveState::Inactive)
    );
}

#[test]
fn a_bus_without_systemd_or_no_bus_at_all_is_reported_unreachable() {
    let bus = PrivateBus::start().unwrap();
    let err = user_bus(bus.address())
        .stop_unit(UnitScope::User, "a.service")
        .unwrap_err();
    assert!(matches!(err, UnitError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("Restart="), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}/no-bus", dir.path().display());
    let err = user_bus(&nowhere)
        .stop_unit(UnitScope::User, "a.service")
        .unwrap_err();
    assert!(matches!(err, UnitError::Unreachable { .. }), "{err:?}");
}
