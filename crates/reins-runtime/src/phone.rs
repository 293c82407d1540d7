//! The daemon's side of the phone link: starting it (embedded broker or an
//! external one, the device store, the link task) and the handle the IPC
//! dispatcher and the bridge share.
//!
//! A link that cannot start (port taken, broker URL unreachable at start,
//! store unreadable) never stops the daemon: it is reported loudly and shown
//! in `reins status`, and every local surface keeps working. This module
//! decides nothing about commands or approvals (see [`crate::phone_bridge`])
//! and holds no IPC glue (see `daemon_phone`).

use crate::config::LinkConfig;
use reins_link::pair::{CodePrompt, PairingNotice};
use reins_link::{
    BrokerConfig, ConnState, DeviceInfo, DeviceStore, EmbeddedBroker, EmbeddedBrokerConfig, Link,
    LinkEvent, LinkHandle,
};
pub use reins_link::{SecretsKind, SecretsStatus};
use reins_proto::IdentityKeyPair;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// The base of pairing links when no phone app is served (see
/// `reins_link::pair::DEFAULT_BASE_URL`).
pub const NO_APP_BASE_URL: &str = reins_link::pair::DEFAULT_BASE_URL;

/// At most this many pairing offers may be open at once: each holds a
/// subscription and a task until it expires (3 minutes at most).
pub const MAX_PAIRINGS: usize = 4;

/// How long after its expiry a finished offer's last step is kept for the
/// `reins pair` that opened it.
const PAIRING_GRACE_MS: u64 = 30_000;

/// Why the link did not start. The daemon keeps running without it.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// A configured embedded-broker port is in use.
    #[error(
        "port {port} ({key}) is already in use; set {key} = 0 for a free port, pick another, or point link.broker at the broker that owns it"
    )]
    PortTaken {
        /// The port.
        port: u16,
        /// The config key naming it.
        key: &'static str,
    },
    /// The embedded broker failed.
    #[error("the embedded MQTT broker did not start: {0}")]
    Broker(#[from] reins_link::broker::BrokerError),
    /// The broker settings are unusable.
    #[error(transparent)]
    Url(#[from] reins_link::broker_url::BrokerUrlError),
    /// The device store failed.
    #[error(transparent)]
    Store(#[from] reins_link::StoreError),
    /// The link task failed.
    #[error(transparent)]
    Link(#[from] reins_link::LinkError),
}

/// What `reins status` shows about the link (the `link` object of
/// `status --json`, documented in docs/cli.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSummary {
    /// `disabled`, `failed`, `connecting`, `connected`, `backing_off` or `stopped`.
    pub state: String,
    /// The broker URL the daemon connects to, if any.
    pub broker: Option<String>,
    /// True when the daemon started its own broker.
    pub embedded: bool,
    /// Paired devices.
    pub devices: usize,
    /// Connected and every subscription acknowledged.
    pub ready: bool,
    /// The most recent error, if any.
    pub last_error: Option<String>,
    /// The broker URLs pairing QR codes carry.
    pub phone_urls: Vec<String>,
    /// The phone web app (`null` when the link is disabled).
    #[serde(default)]
    pub app: Option<crate::web::AppSummary>,
    /// Where the keys are and whether that still works (`null` unless the
    /// link runs).
    #[serde(default)]
    pub secrets: Option<reins_link::SecretsStatus>,
}

/// One step of a pairing, as `reins pair` sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PairStep {
    /// A phone answered: compare this code with the phone's.
    Code {
        /// The name the phone claims.
        device_name: String,
        /// Six digits.
        code: String,
    },
    /// A second device tried the same QR code: someone else may have it.
    AnotherDeviceTried,
    /// Done: the phone is paired.
    Paired {
        /// The new device.
        device: DeviceInfo,
    },
    /// Pairing ended without a device.
    Failed {
        /// Why, and what to do.
        message: String,
    },
}

/// The channels of one open pairing offer. Its task owns the session.
#[derive(Debug)]
pub(crate) struct PairSlot {
    pub(crate) steps: tokio::sync::Mutex<mpsc::Receiver<PairStep>>,
    pub(crate) answer: Mutex<Option<oneshot::Sender<bool>>>,
    pub(crate) expires_at_ms: u64,
}

/// A running link and what the dispatcher needs from it.
#[derive(Debug)]
pub struct PhoneLink {
    pub(crate) link: LinkHandle,
    pub(crate) identity: Arc<IdentityKeyPair>,
    pub(crate) broker_url: String,
    pub(crate) embedded: bool,
    pub(crate) phone_urls: Vec<String>,
    /// The page pairing links open (the fragment carries the offer).
    pub(crate) base_url: String,
    /// The embedded broker's WebSocket listener, on loopback, for `/mqtt`.
    pub(crate) embedded_ws: Option<SocketAddr>,
    pub(crate) desktop_name: String,
    pub(crate) topic_prefix: String,
    pub(crate) pairings: Mutex<HashMap<String, Arc<PairSlot>>>,
    /// Asks the bridge to re-send the snapshot and pending approvals.
    pub(crate) resync: mpsc::Sender<()>,
    /// The secret store the device store uses, watched for failures.
    pub(crate) secrets: reins_link::WatchedSecrets,
}

/// The link as the daemon has it.
#[derive(Debug)]
pub enum PhoneState {
    /// `link.enabled = false`.
    Disabled,
    /// It could not start; the message says why.
    Failed(String),
    /// Running.
    Running(PhoneLink),
}

/// What the bridge task takes over.
#[derive(Debug)]
pub(crate) struct BridgeInputs {
    pub(crate) events: mpsc::Receiver<LinkEvent>,
    pub(crate) resync: mpsc::Receiver<()>,
}

/// Fails when `port` cannot be bound on `ip` (0 always works).
fn check_port(ip: IpAddr, port: u16, key: &'static str) -> Result<(), PhoneError> {
    if port == 0 {
        return Ok(());
    }
    TcpListener::bind(SocketAddr::new(ip, port))
        .map(drop)
        .map_err(|_| PhoneError::PortTaken { port, key })
}

/// This machine's LAN address: the source address of the default route
/// (a UDP `connect` sends nothing), else loopback.
pub fn lan_ip() -> IpAddr {
    let probe = || -> std::io::Result<IpAddr> {
        let s = UdpSocket::bind("0.0.0.0:0")?;
        // TEST-NET-1 (RFC 5737): only the route lookup matters.
        s.connect("192.0.2.1:9")?;
        Ok(s.local_addr()?.ip())
    };
    probe().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// `ip` as the host part of a URL (IPv6 in brackets).
pub(crate) fn host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(a) => format!("[{a}]"),
        IpAddr::V4(a) => a.to_string(),
    }
}

fn desktop_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    match host.trim() {
        "" => "Reins desktop".to_owned(),
        h => format!("Reins on {h}"),
    }
}

/// Turns TCP_NODELAY on for the embedded broker's side of the daemon's own
/// connection as soon as the link (re)connects, so the broker never holds a
/// phone's command behind Nagle (see `reins_link::nodelay`). Ends when the
/// link task does.
fn tune_on_connect(
    eb: EmbeddedBroker,
    mut status: tokio::sync::watch::Receiver<reins_link::LinkStatus>,
) {
    tokio::spawn(async move {
        let mut seen = 0;
        loop {
            let connects = status.borrow_and_update().connects;
            if connects != seen {
                seen = connects;
                let n = eb.tune_sockets();
                tracing::debug!(
                    sockets = n,
                    "TCP_NODELAY set on the embedded broker's connections"
                );
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    });
}

/// Starts the broker (if embedded), the device store and the link. `page`
/// is where this daemon serves the phone app, if it does: its same-origin
/// `/mqtt` URL goes first in pairing links when the broker is embedded
/// (over HTTPS, a plain `ws://` URL is mixed content the page cannot use;
/// the direct URLs follow for native clients). Pairing links open
/// `app_url`, else `page`.
pub(crate) async fn start(
    cfg: &LinkConfig,
    data_dir: &Path,
    page: Option<&crate::web::Page>,
    app_url: Option<&str>,
) -> Result<(PhoneLink, BridgeInputs), PhoneError> {
    let (broker, mut phone_urls, embedded) = match cfg.broker_config()? {
        Some(b) => {
            let urls = if cfg.phone_urls.is_empty() {
                vec![b.url.clone()]
            } else {
                cfg.phone_urls.clone()
            };
            (b, urls, None)
        }
        None => {
            let bind = cfg.bind_addr();
            check_port(bind, cfg.embedded_tcp_port, "link.embedded_tcp_port")?;
            check_port(bind, cfg.embedded_ws_port, "link.embedded_ws_port")?;
            let ec = EmbeddedBrokerConfig {
                bind,
                tcp_port: Some(cfg.embedded_tcp_port).filter(|p| *p != 0),
                ws_port: Some(cfg.embedded_ws_port).filter(|p| *p != 0),
            };
            let eb = tokio::task::spawn_blocking(move || EmbeddedBroker::start(&ec))
                .await
                .expect("broker start thread panicked")?;
            let local = if bind.is_unspecified() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                bind
            };
            let url = format!("mqtt://{}:{}", host(local), eb.tcp_port);
            let urls = if !cfg.phone_urls.is_empty() {
                cfg.phone_urls.clone()
            } else {
                let h = host(if bind.is_unspecified() {
                    lan_ip()
                } else {
                    bind
                });
                // ws first: the browser phone client can only use WebSockets.
                eb.urls_for(&h).into_iter().rev().collect()
            };
            tracing::info!(tcp = eb.tcp_port, ws = eb.ws_port, bind = %bind, "embedded MQTT broker listening");
            (BrokerConfig::parse(&url)?, urls, Some(eb))
        }
    };
    let embedded_ws = embedded.map(|eb| crate::web::loopback(eb.bind, eb.ws_port));
    if let (Some(_), Some(page)) = (embedded, page) {
        phone_urls.insert(0, page.mqtt_url.clone());
    }
    let base_url = app_url
        .map(str::to_owned)
        .or_else(|| page.map(|p| p.url.clone()))
        .unwrap_or_else(|| reins_link::pair::DEFAULT_BASE_URL.to_owned());
    let dir = data_dir.to_owned();
    let (store, identity, secrets) = tokio::task::spawn_blocking(move || {
        let (secrets, backend) = reins_link::open_secret_store(&dir);
        if let Some(w) = backend.warning() {
            tracing::warn!("{w}");
            eprintln!("reins: {w}");
        }
        let secrets = reins_link::WatchedSecrets::new(secrets, backend);
        let store = DeviceStore::open(&dir, Arc::new(secrets.clone()))?;
        for d in store.missing_keys() {
            tracing::warn!(device = %d.id, name = %d.name, "this phone's key is missing from the secret store; revoke it and pair again");
        }
        let identity = store.identity()?;
        Ok::<_, PhoneError>((store, identity, secrets))
    })
    .await
    .expect("device store thread panicked")?;
    let broker_url = broker.url.clone();
    let broker = broker.with_keep_alive(std::time::Duration::from_secs(cfg.keep_alive_s));
    let (link, events) = Link::start(reins_link::LinkConfig::new(broker), store)?;
    if let Some(eb) = embedded {
        tune_on_connect(eb, link.status());
    }
    let embedded = embedded.is_some();
    let (resync_tx, resync_rx) = mpsc::channel(4);
    let phone = PhoneLink {
        link,
        identity: Arc::new(identity),
        broker_url,
        embedded,
        phone_urls,
        base_url,
        embedded_ws,
        desktop_name: desktop_name(),
        topic_prefix: cfg.topic_prefix.clone(),
        pairings: Mutex::new(HashMap::new()),
        resync: resync_tx,
        secrets,
    };
    Ok((
        phone,
        BridgeInputs {
            events,
            resync: resync_rx,
        },
    ))
}

impl PhoneState {
    /// The running link, if any.
    pub fn running(&self) -> Option<&PhoneLink> {
        match self {
            PhoneState::Running(p) => Some(p),
            _ => None,
        }
    }

    /// The `link` object of `reins status`.
    pub async fn summary(&self) -> LinkSummary {
        let mut s = LinkSummary {
            state: "disabled".into(),
            broker: None,
            embedded: false,
            devices: 0,
            ready: false,
            last_error: None,
            phone_urls: Vec::new(),
            app: None,
            secrets: None,
        };
        match self {
            PhoneState::Disabled => {}
            PhoneState::Failed(e) => {
                s.state = "failed".into();
                s.last_error = Some(e.clone());
            }
            PhoneState::Running(p) => {
                let st = p.link.status().borrow().clone();
                s.state = match st.state {
                    ConnState::Connecting => "connecting",
                    ConnState::Connected => "connected",
                    ConnState::BackingOff { .. } => "backing_off",
                    ConnState::Stopped => "stopped",
                }
                .into();
                s.ready = st.is_ready();
                s.last_error = st.last_error;
                s.broker = Some(p.broker_url.clone());
                s.embedded = p.embedded;
                s.devices = p.link.devices().await.map(|d| d.len()).unwrap_or(0);
                s.phone_urls = p.phone_urls.clone();
                // Shows in a later status; never waits for the keyring.
                p.secrets.check_soon();
                s.secrets = Some(p.secrets.status());
            }
        }
        s
    }
}

impl PhoneLink {
    /// Opens a pairing offer and spawns the task that owns it. Returns its
    /// id, URL, terminal QR code and expiry.
    pub(crate) async fn start_pairing(
        &self,
    ) -> Result<(String, String, String, u64), reins_link::PairError> {
        let mut opts = reins_link::PairingOptions::new(self.phone_urls.clone(), &self.desktop_name);
        opts.topic_prefix = self.topic_prefix.clone();
        opts.base_url = self.base_url.clone();
        let session = reins_link::PairingSession::start(&self.link, &self.identity, &opts).await?;
        let id = hex::encode(rand::random::<[u8; 16]>());
        let url = session.url().to_owned();
        let qr = session
            .qr()
            .unwrap_or_else(|e| format!("(no QR code: {e})\n"));
        let expires = session.expires_at_ms();
        let (step_tx, step_rx) = mpsc::channel(8);
        let (answer_tx, answer_rx) = oneshot::channel();
        let slot = Arc::new(PairSlot {
            steps: tokio::sync::Mutex::new(step_rx),
            answer: Mutex::new(Some(answer_tx)),
            expires_at_ms: expires,
        });
        self.pairings
            .lock()
            .expect("pairings lock")
            .insert(id.clone(), slot);
        let resync = self.resync.clone();
        let code_tx = step_tx.clone();
        let notice_tx = step_tx.clone();
        tokio::spawn(async move {
            let confirm = move |p: CodePrompt| async move {
                let step = PairStep::Code {
                    device_name: p.device_name,
                    code: p.code.to_string(),
                };
                if code_tx.send(step).await.is_err() {
                    return false;
                }
                // Nothing is ever confirmed by default: no answer is a no.
                answer_rx.await.unwrap_or(false)
            };
            let notice = move |n: PairingNotice| {
                if n == PairingNotice::AnotherDeviceTried {
                    let _ = notice_tx.try_send(PairStep::AnotherDeviceTried);
                }
            };
            let last = match session.run(confirm, notice).await {
                Ok(device) => {
                    let _ = resync.try_send(());
                    PairStep::Paired { device }
                }
                Err(e) => PairStep::Failed {
                    message: e.to_string(),
                },
            };
            let _ = step_tx.send(last).await;
        });
        Ok((id, url, qr, expires))
    }

    /// The open pairing `id`, if any.
    pub(crate) fn pairing(&self, id: &str) -> Option<Arc<PairSlot>> {
        self.pairings
            .lock()
            .expect("pairings lock")
            .get(id)
            .cloned()
    }

    /// Forgets a finished pairing.
    pub(crate) fn end_pairing(&self, id: &str) {
        self.pairings.lock().expect("pairings lock").remove(id);
    }

    /// How many offers are open, after forgetting those long expired
    /// (their tasks have ended; a `reins pair` that went away never asked
    /// for the last step).
    pub(crate) fn open_pairings(&self) -> usize {
        let now = reins_link::now_ms();
        let mut p = self.pairings.lock().expect("pairings lock");
        p.retain(|_, s| s.expires_at_ms + PAIRING_GRACE_MS > now);
        p.len()
    }
}
