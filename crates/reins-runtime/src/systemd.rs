//! [`reins_os::UnitManager`] over D-Bus: `org.freedesktop.systemd1`'s
//! Manager `StopUnit(name, "replace")` and `GetUnit` + the unit's
//! `ActiveState`, the user manager on the session bus and the system
//! manager on the system bus.
//!
//! The halt engine is blocking and runs on a blocking thread (the daemon's
//! `spawn_blocking`, or the CLI's direct mode, which has no runtime), while
//! zbus here runs on tokio. So one thread of its own owns a current-thread
//! runtime and one connection per bus (opened on first use, dropped after
//! an error so the next call reconnects); callers send it requests and wait
//! for the answer, bounded. This works the same inside and outside a tokio
//! runtime. It does not decide when to stop a unit; `reins_os::halt_unit`
//! does.

use reins_core::{UnitActiveState, UnitScope};
use reins_os::units::ScopeName;
use reins_os::{UnitError, UnitManager};
use std::sync::{Mutex, mpsc as std_mpsc};
use std::time::Duration;
use tokio::sync::mpsc;
use zbus::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue};

const DEST: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";

/// How long one bus call may take. systemd answers StopUnit in about a
/// millisecond (it queues a job); a manager that has not answered in two
/// seconds is stuck, and the stop must not wait on it: the processes are
/// killed regardless and the report says systemd was not told.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Where each manager is reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusAddresses {
    /// The user manager's bus; `None` for the session bus of the environment.
    pub user: Option<String>,
    /// The system manager's bus; `None` for the system bus.
    pub system: Option<String>,
}

enum Req {
    Stop(UnitScope, String, std_mpsc::Sender<Result<(), UnitError>>),
    State(
        UnitScope,
        String,
        std_mpsc::Sender<Result<UnitActiveState, UnitError>>,
    ),
}

/// systemd over D-Bus (see the module docs).
#[derive(Debug)]
pub struct SystemdBus {
    tx: Mutex<Option<mpsc::UnboundedSender<Req>>>,
}

impl std::fmt::Debug for Req {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Req::Stop(s, u, _) => write!(f, "Stop({s:?}, {u})"),
            Req::State(s, u, _) => write!(f, "State({s:?}, {u})"),
        }
    }
}

impl SystemdBus {
    /// The managers on the environment's session and system buses.
    pub fn new() -> SystemdBus {
        Self::with_addresses(BusAddresses::default())
    }

    /// The managers at `addresses` (tests: a private bus).
    pub fn with_addresses(addresses: BusAddresses) -> SystemdBus {
        let (tx, rx) = mpsc::unbounded_channel();
        let started = std::thread::Builder::new()
            .name("reins-systemd".into())
            .spawn(move || serve(addresses, rx));
        if let Err(e) = &started {
            tracing::warn!("cannot start the systemd bus thread: {e}");
        }
        SystemdBus {
            tx: Mutex::new(started.ok().map(|_| tx)),
        }
    }

    fn ask<T>(
        &self,
        scope: UnitScope,
        make: impl FnOnce(std_mpsc::Sender<Result<T, UnitError>>) -> Req,
    ) -> Result<T, UnitError> {
        let gone = |reason: &str| UnitError::Unreachable {
            scope: ScopeName(scope),
            reason: reason.to_owned(),
        };
        let (reply, answer) = std_mpsc::channel();
        let sent = self
            .tx
            .lock()
            .ok()
            .and_then(|tx| tx.as_ref().map(|tx| tx.send(make(reply)).is_ok()));
        if sent != Some(true) {
            return Err(gone("Reins' bus thread is not running"));
        }
        // The thread bounds each call by CALL_TIMEOUT; this only guards
        // against the thread itself being wedged.
        answer
            .recv_timeout(CALL_TIMEOUT * 3)
            .unwrap_or_else(|_| Err(gone("no answer from Reins' bus thread")))
    }
}

impl Default for SystemdBus {
    fn default() -> Self {
        Self::new()
    }
}

impl UnitManager for SystemdBus {
    fn stop_unit(&self, scope: UnitScope, unit: &str) -> Result<(), UnitError> {
        self.ask(scope, |r| Req::Stop(scope, unit.to_owned(), r))
    }

    fn active_state(&self, scope: UnitScope, unit: &str) -> Result<UnitActiveState, UnitError> {
        self.ask(scope, |r| Req::State(scope, unit.to_owned(), r))
    }
}

fn serve(addresses: BusAddresses, mut rx: mpsc::UnboundedReceiver<Req>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!("systemd bus thread: no runtime: {e}");
            return;
        }
    };
    rt.block_on(async move {
        let mut conns = Conns {
            addresses,
            user: None,
            system: None,
        };
        while let Some(req) = rx.recv().await {
            match req {
                Req::Stop(scope, unit, reply) => {
                    let r = conns.call(scope, &unit, stop(scope, &unit)).await;
                    let _ = reply.send(r);
                }
                Req::State(scope, unit, reply) => {
                    let r = conns.call(scope, &unit, state(scope, &unit)).await;
                    let _ = reply.send(r);
                }
            }
        }
    });
}

struct Conns {
    addresses: BusAddresses,
    user: Option<Connection>,
    system: Option<Connection>,
}

type CallFuture<T> = std::pin::Pin<Box<dyn Future<Output = Result<T, UnitError>> + Send>>;

impl Conns {
    async fn connect(&mut self, scope: UnitScope) -> Result<Connection, UnitError> {
        let (slot, address) = match scope {
            UnitScope::User => (&mut self.user, &self.addresses.user),
            UnitScope::System => (&mut self.system, &self.addresses.system),
        };
        if let Some(c) = slot {
            return Ok(c.clone());
        }
        let unreachable = |e: zbus::Error| UnitError::Unreachable {
            scope: ScopeName(scope),
            reason: e.to_string(),
        };
        let builder = match (address, scope) {
            (Some(a), _) => zbus::connection::Builder::address(a.as_str()),
            (None, UnitScope::User) => zbus::connection::Builder::session(),
            (None, UnitScope::System) => zbus::connection::Builder::system(),
        }
        .map_err(unreachable)?;
        let conn = tokio::time::timeout(CALL_TIMEOUT, builder.build())
            .await
            .map_err(|_| UnitError::Unreachable {
                scope: ScopeName(scope),
                reason: "the bus did not answer within 2 s".into(),
            })?
            .map_err(unreachable)?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    async fn call<T>(
        &mut self,
        scope: UnitScope,
        unit: &str,
        f: impl FnOnce(Connection) -> CallFuture<T>,
    ) -> Result<T, UnitError> {
        let conn = self.connect(scope).await?;
        let r = match tokio::time::timeout(CALL_TIMEOUT, f(conn)).await {
            Ok(r) => r,
            Err(_) => Err(UnitError::Unreachable {
                scope: ScopeName(scope),
                reason: format!("systemd did not answer about {unit} within 2 s"),
            }),
        };
        if matches!(r, Err(UnitError::Unreachable { .. })) {
            // Reconnect next time: the bus or the manager may have restarted.
            match scope {
                UnitScope::User => self.user = None,
                UnitScope::System => self.system = None,
            }
        }
        r
    }
}

/// A bus error as a [`UnitError`]: no manager on the bus is "unreachable",
/// anything the manager itself said is "refused".
fn bus_error(scope: UnitScope, unit: &str, e: zbus::Error) -> UnitError {
    match &e {
        zbus::Error::MethodError(name, msg, _) => {
            let name = name.as_str();
            if matches!(
                name,
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
                    | "org.freedesktop.DBus.Error.NoReply"
                    | "org.freedesktop.DBus.Error.Disconnected"
            ) {
                UnitError::Unreachable {
                    scope: ScopeName(scope),
                    reason: format!("no systemd manager on that bus ({name})"),
                }
            } else {
                UnitError::Refused {
                    unit: unit.to_owned(),
                    reason: format!("{name}: {}", msg.as_deref().unwrap_or("")),
                }
            }
        }
        _ => UnitError::Unreachable {
            scope: ScopeName(scope),
            reason: e.to_string(),
        },
    }
}

fn stop(scope: UnitScope, unit: &str) -> impl FnOnce(Connection) -> CallFuture<()> {
    let unit = unit.to_owned();
    move |conn| {
        Box::pin(async move {
            let reply = conn
                .call_method(
                    Some(DEST),
                    MANAGER_PATH,
                    Some(MANAGER),
                    "StopUnit",
                    &(unit.as_str(), "replace"),
                )
                .await
                .map_err(|e| bus_error(scope, &unit, e))?;
            let job: OwnedObjectPath =
                reply.body().deserialize().map_err(|e| UnitError::Refused {
                    unit: unit.clone(),
                    reason: format!("unexpected StopUnit reply: {e}"),
                })?;
            tracing::info!("systemd accepted stop job {} for {unit}", job.as_str());
            Ok(())
        })
    }
}

fn state(scope: UnitScope, unit: &str) -> impl FnOnce(Connection) -> CallFuture<UnitActiveState> {
    let unit = unit.to_owned();
    move |conn| {
        Box::pin(async move {
            let reply = conn
                .call_method(
                    Some(DEST),
                    MANAGER_PATH,
                    Some(MANAGER),
                    "GetUnit",
                    &(unit.as_str(),),
                )
                .await;
            let reply = match reply {
                Ok(r) => r,
                // Not loaded: a stopped unit that systemd has garbage-collected.
                Err(zbus::Error::MethodError(name, _, _))
                    if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit" =>
                {
                    return Ok(UnitActiveState::Inactive);
                }
                Err(e) => return Err(bus_error(scope, &unit, e)),
            };
            let bad = |what: String| UnitError::Refused {
                unit: unit.clone(),
                reason: what,
            };
            let path: OwnedObjectPath = reply
                .body()
                .deserialize()
                .map_err(|e| bad(format!("unexpected GetUnit reply: {e}")))?;
            let value = conn
                .call_method(
                    Some(DEST),
                    path.as_str(),
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &(UNIT, "ActiveState"),
                )
                .await
                .map_err(|e| bus_error(scope, &unit, e))?;
            let value: OwnedValue = value
                .body()
                .deserialize()
                .map_err(|e| bad(format!("unexpected ActiveState reply: {e}")))?;
            let s: String = value
                .try_into()
                .map_err(|e| bad(format!("ActiveState is not a string: {e}")))?;
            s.parse().map_err(bad)
        })
    }
}
