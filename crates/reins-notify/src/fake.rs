//! Test support (feature `test-support`): a private `dbus-daemon` and a fake
//! `org.freedesktop.Notifications` server written with zbus, plus a forger
//! that emits server signals from a connection that is not the server.
//!
//! The fake records every call it gets (with the caller's unique name and
//! when it arrived) and emits `ActionInvoked` / `NotificationClosed` on
//! request, from its own connection, as a real server does. Not for
//! production: nothing here is used by the daemon.

use crate::{SERVER_INTERFACE, SERVER_NAME, SERVER_PATH};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use tokio::sync::mpsc;
use zbus::Connection;
use zbus::zvariant::OwnedValue;

/// A `dbus-daemon` of our own: no activatable services, gone on drop.
#[derive(Debug)]
pub struct PrivateBus {
    child: Child,
    address: String,
    dir: PathBuf,
}

impl PrivateBus {
    /// Start one and read its address from its stdout (it prints the
    /// address once it listens, so the bus is ready when this returns).
    pub fn start() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "reins-bus-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.display()
            ),
        )?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // It complains, harmlessly, that it cannot raise its fd limit.
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line)?;
        let address = line.trim().to_owned();
        if address.is_empty() {
            let _ = child.kill();
            return Err(std::io::Error::other("dbus-daemon printed no address"));
        }
        Ok(Self {
            child,
            address,
            dir,
        })
    }

    /// Its address, for `DBUS_SESSION_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `Notify` call as the fake received it.
#[derive(Clone, Debug)]
pub struct Notified {
    /// The id the fake answered.
    pub id: u32,
    /// Who called (the notifier's unique name).
    pub sender: String,
    /// When the call arrived.
    pub received: Instant,
    /// `app_name`.
    pub app_name: String,
    /// `summary`.
    pub summary: String,
    /// `body`, as sent.
    pub body: String,
    /// `actions` as (key, label) pairs.
    pub actions: Vec<(String, String)>,
    /// The `urgency` hint, if any.
    pub urgency: Option<u8>,
    /// The names of every hint.
    pub hints: Vec<String>,
    /// `expire_timeout`.
    pub expire_timeout: i32,
}

impl Notified {
    /// The action keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.actions.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// The label of action `key`.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.actions
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| l.as_str())
    }
}

/// A call the fake received.
#[derive(Clone, Debug)]
pub enum Call {
    /// `Notify`.
    Notify(Notified),
    /// `CloseNotification(id)`.
    Close(u32),
}

struct Iface {
    tx: mpsc::UnboundedSender<Call>,
    next: u32,
    name: String,
    capabilities: Vec<String>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Iface {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &mut self,
        #[zbus(header)] hdr: zbus::message::Header<'_>,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, OwnedValue>,
        expire_timeout: i32,
    ) -> u32 {
        let received = Instant::now();
        self.next += 1;
        let urgency = hints.get("urgency").and_then(|v| u8::try_from(v).ok());
        let mut hint_names: Vec<String> = hints.keys().cloned().collect();
        hint_names.sort();
        let _ = self.tx.send(Call::Notify(Notified {
            id: self.next,
            sender: hdr.sender().map(|s| s.to_string()).unwrap_or_default(),
            received,
            app_name,
            summary,
            body,
            actions: actions
                .chunks(2)
                .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
                .collect(),
            urgency,
            hints: hint_names,
            expire_timeout,
        }));
        self.next
    }

    async fn close_notification(
        &mut self,
        #[zbus(connection)] conn: &Connection,
        id: u32,
    ) -> zbus::fdo::Result<()> {
        let _ = self.tx.send(Call::Close(id));
        conn.emit_signal(
            None::<&str>,
            SERVER_PATH,
            SERVER_INTERFACE,
            "NotificationClosed",
            &(id, 3u32),
        )
        .await?;
        Ok(())
    }

    fn get_capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            self.name.clone(),
            "reins-tests".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }
}

/// A fake notification server on a bus.
#[derive(Debug)]
pub struct FakeServer {
    conn: Connection,
    calls: mpsc::UnboundedReceiver<Call>,
}

impl FakeServer {
    /// Serve `org.freedesktop.Notifications` on the bus at `address`,
    /// advertising `capabilities` (e.g. `["actions", "body", "body-markup"]`).
    pub async fn start(address: &str, capabilities: &[&str]) -> zbus::Result<Self> {
        let (tx, calls) = mpsc::unbounded_channel();
        let iface = Iface {
            tx,
            next: 0,
            name: "fake-notify".into(),
            capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
        };
        let conn = zbus::connection::Builder::address(address)?
            .serve_at(SERVER_PATH, iface)?
            .name(SERVER_NAME)?
            .build()
            .await?;
        Ok(Self { conn, calls })
    }

    /// Its unique name.
    pub fn unique_name(&self) -> String {
        self.conn
            .unique_name()
            .map(|n| n.to_string())
            .unwrap_or_default()
    }

    /// The next call it receives.
    pub async fn next_call(&mut self) -> Call {
        self.calls.recv().await.expect("fake server gone")
    }

    /// The next `Notify` (panics if a `CloseNotification` comes first).
    pub async fn next_notify(&mut self) -> Notified {
        match self.next_call().await {
            Call::Notify(n) => n,
            other => panic!("expected Notify, got {other:?}"),
        }
    }

    /// The next `CloseNotification` (panics if a `Notify` comes first).
    pub async fn next_close(&mut self) -> u32 {
        match self.next_call().await {
            Call::Close(id) => id,
            other => panic!("expected CloseNotification, got {other:?}"),
        }
    }

    /// A call already received, if any (never waits).
    pub fn try_call(&mut self) -> Option<Call> {
        self.calls.try_recv().ok()
    }

    /// The person clicked `key` on notification `id`: broadcast
    /// `ActionInvoked` from the server's own connection.
    pub async fn invoke(&self, id: u32, key: &str) -> zbus::Result<()> {
        self.conn
            .emit_signal(
                None::<&str>,
                SERVER_PATH,
                SERVER_INTERFACE,
                "ActionInvoked",
                &(id, key),
            )
            .await
    }

    /// Leave the bus (the name's owner goes away).
    pub async fn stop(self) {
        let _ = self.conn.release_name(SERVER_NAME).await;
        drop(self.conn);
    }
}

/// Another process of the same user: a connection that is not the server.
#[derive(Debug)]
pub struct Forger {
    conn: Connection,
}

impl Forger {
    /// Connect to the bus at `address`.
    pub async fn connect(address: &str) -> zbus::Result<Self> {
        let conn = zbus::connection::Builder::address(address)?.build().await?;
        Ok(Self { conn })
    }

    /// Emit `ActionInvoked(id, key)` as if it were the server, both to
    /// `destination` directly (unicast bypasses match rules) and broadcast.
    pub async fn forge_action(&self, destination: &str, id: u32, key: &str) -> zbus::Result<()> {
        for dest in [Some(destination), None] {
            self.conn
                .emit_signal(
                    dest,
                    SERVER_PATH,
                    SERVER_INTERFACE,
                    "ActionInvoked",
                    &(id, key),
                )
                .await?;
        }
        Ok(())
    }

    /// Emit `NameOwnerChanged(org.freedesktop.Notifications, "", self)` to
    /// `destination`, as if the bus said this connection now owns the name.
    pub async fn forge_owner_change(&self, destination: &str) -> zbus::Result<()> {
        let me = self
            .conn
            .unique_name()
            .map(|n| n.to_string())
            .unwrap_or_default();
        self.conn
            .emit_signal(
                Some(destination),
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "NameOwnerChanged",
                &(SERVER_NAME, "", me.as_str()),
            )
            .await
    }

    /// A round trip to the bus: once it returns, every message this
    /// connection sent before was delivered.
    pub async fn flush(&self) -> zbus::Result<()> {
        let dbus = zbus::fdo::DBusProxy::new(&self.conn).await?;
        dbus.get_id().await?;
        Ok(())
    }
}
