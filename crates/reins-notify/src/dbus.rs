//! [`DbusNotifier`]: the [`Notifier`] on one session-bus connection.
//!
//! The notifier owns the connection: every `Notify` goes out on it, so a
//! server that sends its signals only to the connection that created a
//! notification reaches us. A small reader task drains that connection's
//! message stream (zbus needs it drained), keeps the [`OwnerWatch`] in the
//! order messages arrive, and forwards only signals whose header sender is
//! the current owner of `org.freedesktop.Notifications`; everything else is
//! dropped with a warning. It ends when the event receiver is dropped or
//! the bus connection closes.
//!
//! Not here: reconnecting to a new bus (a session bus outlives its
//! session's processes), and any decision about what a click means.

use crate::sender::{BUS_DRIVER, OwnerChange, OwnerWatch};
use crate::{
    CloseReason, NoteEvent, NoteId, Notice, Notifier, NotifyError, SERVER_INTERFACE, SERVER_NAME,
    SERVER_PATH, ServerInfo,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use tokio::sync::mpsc;
use zbus::message::Type;
use zbus::zvariant::Value;
use zbus::{Connection, MatchRule, MessageStream};

/// The app name every notification carries.
const APP_NAME: &str = "Reins";

/// Desktop notifications over the session bus.
#[derive(Debug)]
pub struct DbusNotifier {
    conn: Connection,
}

impl DbusNotifier {
    /// Connect to the session bus of this session (`DBUS_SESSION_BUS_ADDRESS`).
    /// Returns the notifier and its verified events.
    pub async fn session() -> Result<(Self, mpsc::UnboundedReceiver<NoteEvent>), NotifyError> {
        let conn = Connection::session()
            .await
            .map_err(|e| NotifyError::NoSessionBus(e.to_string()))?;
        Self::start(conn).await
    }

    /// Connect to the bus at `address` (tests: a private bus).
    pub async fn connect(
        address: &str,
    ) -> Result<(Self, mpsc::UnboundedReceiver<NoteEvent>), NotifyError> {
        let conn = zbus::connection::Builder::address(address)
            .map_err(|e| NotifyError::NoSessionBus(e.to_string()))?
            .build()
            .await
            .map_err(|e| NotifyError::NoSessionBus(e.to_string()))?;
        Self::start(conn).await
    }

    /// Our unique name on the bus (the server's signals come to it).
    pub fn unique_name(&self) -> Option<String> {
        self.conn.unique_name().map(|n| n.to_string())
    }

    async fn start(
        conn: Connection,
    ) -> Result<(Self, mpsc::UnboundedReceiver<NoteEvent>), NotifyError> {
        let bus_err = |e: zbus::Error| NotifyError::NoSessionBus(e.to_string());
        // The stream exists before the match rules, so nothing they let
        // through can be missed; the owner is asked after both.
        let stream = MessageStream::from(&conn);
        let dbus = zbus::fdo::DBusProxy::new(&conn).await.map_err(bus_err)?;
        // The bus only forwards broadcasts from the name's owner; the reader
        // checks again, because unicast signals bypass match rules.
        let signals = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(SERVER_NAME)
            .and_then(|b| b.interface(SERVER_INTERFACE))
            .and_then(|b| b.path(SERVER_PATH))
            .map_err(bus_err)?
            .build();
        let owners = MatchRule::builder()
            .msg_type(Type::Signal)
            .sender(BUS_DRIVER)
            .and_then(|b| b.interface("org.freedesktop.DBus"))
            .and_then(|b| b.member("NameOwnerChanged"))
            .and_then(|b| b.arg(0, SERVER_NAME))
            .map_err(bus_err)?
            .build();
        for rule in [signals, owners] {
            dbus.add_match_rule(rule)
                .await
                .map_err(|e| NotifyError::NoSessionBus(e.to_string()))?;
        }
        let name = zbus::names::BusName::try_from(SERVER_NAME)
            .map_err(|e| NotifyError::NoSessionBus(e.to_string()))?;
        let owner = dbus.get_name_owner(name).await.ok().map(|o| o.to_string());
        let mut watch = OwnerWatch::default();
        watch.set(owner);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(read(stream, watch, tx));
        Ok((Self { conn }, rx))
    }

    /// The PID of the name's owner, from the bus (not from the server).
    async fn owner_pid(&self) -> Option<u32> {
        let dbus = zbus::fdo::DBusProxy::new(&self.conn).await.ok()?;
        let name = zbus::names::BusName::try_from(SERVER_NAME).ok()?;
        let owner = dbus.get_name_owner(name).await.ok()?;
        dbus.get_connection_unix_process_id(zbus::names::BusName::from(owner.into_inner()))
            .await
            .ok()
    }

    async fn call<B>(&self, method: &'static str, body: &B) -> Result<zbus::Message, NotifyError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.conn
            .call_method(
                Some(SERVER_NAME),
                SERVER_PATH,
                Some(SERVER_INTERFACE),
                method,
                body,
            )
            .await
            .map_err(|e| call_error(method, e))
    }
}

fn call_error(method: &'static str, e: zbus::Error) -> NotifyError {
    match &e {
        zbus::Error::MethodError(name, _, _)
            if matches!(
                name.as_str(),
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.NameHasNoOwner"
            ) =>
        {
            NotifyError::NoServer
        }
        _ => NotifyError::Server {
            method,
            detail: e.to_string(),
        },
    }
}

fn malformed(method: &'static str) -> impl Fn(zbus::Error) -> NotifyError {
    move |e| NotifyError::Malformed {
        method,
        detail: e.to_string(),
    }
}

impl Notifier for DbusNotifier {
    async fn probe(&mut self) -> Result<ServerInfo, NotifyError> {
        let m = "GetServerInformation";
        let (name, vendor, version, spec_version) = self
            .call(m, &())
            .await?
            .body()
            .deserialize::<(String, String, String, String)>()
            .map_err(malformed(m))?;
        let m = "GetCapabilities";
        let capabilities = self
            .call(m, &())
            .await?
            .body()
            .deserialize::<Vec<String>>()
            .map_err(malformed(m))?;
        Ok(ServerInfo {
            name,
            vendor,
            version,
            spec_version,
            capabilities,
            pid: self.owner_pid().await,
        })
    }

    async fn raise(&mut self, notice: &Notice) -> Result<NoteId, NotifyError> {
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("urgency", Value::from(notice.urgency.byte()));
        hints.insert("desktop-entry", Value::from("reins"));
        if notice.resident {
            hints.insert("resident", Value::from(true));
        }
        if let Some(c) = &notice.category {
            hints.insert("category", Value::from(c.as_str()));
        }
        let actions: Vec<&str> = notice
            .actions
            .iter()
            .flat_map(|a| [a.key.as_str(), a.label.as_str()])
            .collect();
        let expire: i32 = if notice.persistent { 0 } else { -1 };
        let body = (
            APP_NAME,
            0u32,
            "",
            notice.summary.as_str(),
            notice.body.as_str(),
            actions,
            hints,
            expire,
        );
        let m = "Notify";
        let id = self
            .call(m, &body)
            .await?
            .body()
            .deserialize::<u32>()
            .map_err(malformed(m))?;
        Ok(NoteId(id))
    }

    async fn close(&mut self, id: NoteId) -> Result<(), NotifyError> {
        self.call("CloseNotification", &(id.0,)).await.map(|_| ())
    }
}

/// Drain the connection; forward what the server itself said.
async fn read(
    mut stream: MessageStream,
    mut watch: OwnerWatch,
    tx: mpsc::UnboundedSender<NoteEvent>,
) {
    loop {
        let msg = tokio::select! {
            _ = tx.closed() => return,
            m = stream.next() => m,
        };
        let Some(Ok(msg)) = msg else {
            let _ = tx.send(NoteEvent::BusGone);
            return;
        };
        if let Some(ev) = classify(&msg, &mut watch)
            && tx.send(ev).is_err()
        {
            return;
        }
    }
}

fn classify(msg: &zbus::Message, watch: &mut OwnerWatch) -> Option<NoteEvent> {
    let hdr = msg.header();
    if hdr.message_type() != Type::Signal {
        return None;
    }
    let sender = hdr.sender().map(|s| s.as_str());
    let iface = hdr.interface().map(|i| i.as_str());
    let member = hdr.member().map(|m| m.as_str())?;
    match (iface, member) {
        (Some("org.freedesktop.DBus"), "NameOwnerChanged") => {
            let (name, _old, new) = msg.body().deserialize::<(String, String, String)>().ok()?;
            match watch.name_owner_changed(sender, &name, &new) {
                OwnerChange::Up => Some(NoteEvent::ServerUp),
                OwnerChange::Down => Some(NoteEvent::ServerDown),
                OwnerChange::None => None,
            }
        }
        (Some(SERVER_INTERFACE), "ActionInvoked" | "NotificationClosed") => {
            let from_server =
                watch.is_server(sender) && hdr.path().map(|p| p.as_str()) == Some(SERVER_PATH);
            if !from_server {
                tracing::warn!(
                    sender = sender.unwrap_or("?"),
                    member,
                    "ignored a notification signal not sent by the notification server (forged?)"
                );
                return None;
            }
            if member == "ActionInvoked" {
                let (id, key) = msg.body().deserialize::<(u32, String)>().ok()?;
                Some(NoteEvent::Action {
                    id: NoteId(id),
                    key,
                })
            } else {
                let (id, reason) = msg.body().deserialize::<(u32, u32)>().ok()?;
                Some(NoteEvent::Closed {
                    id: NoteId(id),
                    reason: CloseReason::from_wire(reason),
                })
            }
        }
        _ => None,
    }
}
