//! A fake `org.freedesktop.systemd1` for tests and benchmarks, served with
//! zbus on a private `dbus-daemon` (`reins_notify::fake::PrivateBus`).
//!
//! A real systemd manager cannot run on the machines that run these tests
//! (PID 1 is not systemd, so neither the system manager nor a user manager
//! `systemd --user` starts), hence this fake. It implements exactly what
//! Reins calls: the Manager's `StopUnit(name, mode)` and `GetUnit(name)`,
//! and each unit's `ActiveState` property. It records every `StopUnit`;
//! after one, a unit reads `deactivating` once and `inactive` from then on,
//! as a real stop goes. It sends no signals: the processes are Reins' to
//! kill. Unknown units answer `org.freedesktop.systemd1.NoSuchUnit`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zbus::Connection;
use zbus::zvariant::OwnedObjectPath;

/// systemd's own error names, as the fake answers them.
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.freedesktop.systemd1")]
pub enum SdError {
    /// A zbus error.
    #[zbus(error)]
    ZBus(zbus::Error),
    /// No such unit is loaded.
    NoSuchUnit(String),
}

#[derive(Debug, Default)]
struct State {
    /// Every `StopUnit` call: (unit, mode).
    stops: Vec<(String, String)>,
    /// `ActiveState` reads of each unit since its stop.
    reads_since_stop: HashMap<String, usize>,
}

type Shared = Arc<Mutex<State>>;

fn unit_path(unit: &str) -> String {
    let mut p = String::from("/org/freedesktop/systemd1/unit/");
    for b in unit.bytes() {
        if b.is_ascii_alphanumeric() {
            p.push(b as char);
        } else {
            p.push_str(&format!("_{b:02x}"));
        }
    }
    p
}

#[derive(Debug)]
struct Manager {
    units: Vec<String>,
    state: Shared,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Manager")]
impl Manager {
    #[zbus(name = "StopUnit")]
    fn stop_unit(&self, name: String, mode: String) -> Result<OwnedObjectPath, SdError> {
        if !self.units.contains(&name) {
            return Err(SdError::NoSuchUnit(format!("Unit {name} not loaded.")));
        }
        let mut st = self.state.lock().unwrap();
        st.stops.push((name.clone(), mode));
        st.reads_since_stop.insert(name, 0);
        let job = format!("/org/freedesktop/systemd1/job/{}", st.stops.len());
        OwnedObjectPath::try_from(job).map_err(|e| SdError::ZBus(e.into()))
    }

    #[zbus(name = "GetUnit")]
    fn get_unit(&self, name: String) -> Result<OwnedObjectPath, SdError> {
        if !self.units.contains(&name) {
            return Err(SdError::NoSuchUnit(format!("Unit {name} not loaded.")));
        }
        OwnedObjectPath::try_from(unit_path(&name)).map_err(|e| SdError::ZBus(e.into()))
    }
}

#[derive(Debug)]
struct Unit {
    name: String,
    state: Shared,
}

#[zbus::interface(name = "org.freedesktop.systemd1.Unit")]
impl Unit {
    #[zbus(property, name = "ActiveState")]
    fn active_state(&self) -> String {
        let mut st = self.state.lock().unwrap();
        match st.reads_since_stop.get_mut(&self.name) {
            None => "active".into(),
            Some(n) => {
                *n += 1;
                if *n == 1 { "deactivating" } else { "inactive" }.into()
            }
        }
    }
}

/// The fake manager, serving until dropped.
#[derive(Debug)]
pub struct FakeSystemd {
    _conn: Connection,
    state: Shared,
}

impl FakeSystemd {
    /// Own `org.freedesktop.systemd1` on the bus at `address`, with `units`
    /// loaded (all `active`).
    pub async fn start(address: &str, units: &[&str]) -> zbus::Result<FakeSystemd> {
        let state = Shared::default();
        let mut b = zbus::connection::Builder::address(address)?.serve_at(
            "/org/freedesktop/systemd1",
            Manager {
                units: units.iter().map(|u| (*u).to_owned()).collect(),
                state: state.clone(),
            },
        )?;
        for u in units {
            b = b.serve_at(
                unit_path(u),
                Unit {
                    name: (*u).to_owned(),
                    state: state.clone(),
                },
            )?;
        }
        let conn = b.name("org.freedesktop.systemd1")?.build().await?;
        Ok(FakeSystemd { _conn: conn, state })
    }

    /// Every `StopUnit` call so far: (unit, mode).
    pub fn stops(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().stops.clone()
    }
}
