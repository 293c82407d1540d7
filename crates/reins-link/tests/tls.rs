//! TLS and broker accounts against a real Mosquitto: `mqtts://` and `wss://`
//! with a private CA generated at test time (the `openssl` CLI), an
//! unrelated CA that must not be trusted, and username/password accounts.
//!
//! Not here: public CAs and the system roots (they need the internet) and
//! client certificates (Reins does not use them).

mod common;

use common::{Desktop, MOSQUITTO, T, free_port, pair_phone_on, stop_all};
use reins_link::broker::wait_until_accepting;
use reins_link::{
    BrokerConfig, ConnState, DeviceStore, Link, LinkConfig, LinkEvent, LinkStatus,
    MemorySecretStore, Recipient,
};
use reins_proto::Payload;
use reins_proto::payload::Heartbeat;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const MOSQUITTO_PASSWD: &str = "/usr/bin/mosquitto_passwd";

/// Runs a tool to completion and fails the test with its stderr if it fails.
fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; run `apt-get install -y openssl`"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `openssl` in `dir`. Callers pass `-config`/`-extfile` files of their
/// own, so the system's openssl.cnf cannot add or change extensions.
fn openssl(dir: &Path, args: &[&str]) {
    run(Command::new("openssl").current_dir(dir).args(args));
}

/// A throwaway certificate authority (P-256, valid two days).
struct Ca {
    cert: PathBuf,
    key: PathBuf,
}

impl Ca {
    fn new(dir: &Path, name: &str) -> Self {
        let cnf = dir.join(format!("{name}.cnf"));
        std::fs::write(
            &cnf,
            format!(
                "[req]\nprompt = no\ndistinguished_name = dn\nx509_extensions = v3_ca\n\
                 [dn]\nCN = Reins test CA {name}\n\
                 [v3_ca]\nbasicConstraints = critical,CA:TRUE\n\
                 keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
            ),
        )
        .unwrap();
        let ca = Self {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        };
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-config",
                path_str(&cnf),
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                path_str(&ca.key),
                "-out",
                path_str(&ca.cert),
                "-days",
                "2",
            ],
        );
        ca
    }

    /// A server certificate for 127.0.0.1 and localhost signed by this CA.
    /// Returns (certificate, key).
    fn server_cert(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let cnf = dir.join("server.cnf");
        std::fs::write(
            &cnf,
            "[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = localhost\n",
        )
        .unwrap();
        let ext = dir.join("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        let (cert, key, csr) = (
            dir.join("server.pem"),
            dir.join("server.key"),
            dir.join("server.csr"),
        );
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-config",
                path_str(&cnf),
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                path_str(&key),
                "-out",
                path_str(&csr),
            ],
        );
        let serial = format!("0x{}", hex::encode(rand::random::<[u8; 8]>()));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                path_str(&csr),
                "-CA",
                path_str(&self.cert),
                "-CAkey",
                path_str(&self.key),
                "-set_serial",
                &serial,
                "-days",
                "2",
                "-extfile",
                path_str(&ext),
                "-out",
                path_str(&cert),
            ],
        );
        (cert, key)
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// A Mosquitto with one MQTT-over-TLS and one WebSocket-over-TLS listener on
/// free loopback ports, its certificate from a fresh CA; killed on drop.
struct TlsMosquitto {
    tls_port: u16,
    wss_port: u16,
    ca: Ca,
    dir: tempfile::TempDir,
    child: Child,
}

impl TlsMosquitto {
    /// `account`: Some((user, password)) turns anonymous access off and
    /// accepts only that account.
    fn start(account: Option<(&str, &str)>) -> Self {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "Mosquitto is required for these tests: run `apt-get install -y mosquitto mosquitto-clients`"
        );
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new(dir.path(), "ca");
        let (cert, key) = ca.server_cert(dir.path());
        let auth = match account {
            None => "allow_anonymous true\n".to_owned(),
            Some((user, password)) => {
                let file = dir.path().join("passwd");
                run(Command::new(MOSQUITTO_PASSWD)
                    .arg("-c")
                    .arg("-b")
                    .arg(&file)
                    .arg(user)
                    .arg(password));
                format!("allow_anonymous false\npassword_file {}\n", path_str(&file))
            }
        };
        let (tls_port, wss_port) = (free_port(), free_port());
        let (cert, key) = (path_str(&cert), path_str(&key));
        // Started as root (as in CI), Mosquitto switches to the `mosquitto`
        // user before it reads the certificate and the password file, and that
        // user cannot read our 0700 temp dir; `user root` keeps it root. For
        // any other user the line has no effect.
        let conf = format!(
            "user root\nper_listener_settings false\n{auth}persistence false\n\
             set_tcp_nodelay true\n\
             log_dest stdout\nlog_type all\nconnection_messages true\n\
             listener {tls_port} 127.0.0.1\nprotocol mqtt\ncertfile {cert}\nkeyfile {key}\n\
             listener {wss_port} 127.0.0.1\nprotocol websockets\ncertfile {cert}\nkeyfile {key}\n"
        );
        let conf_file = dir.path().join("mosquitto.conf");
        std::fs::write(&conf_file, conf).unwrap();
        let log = std::fs::File::create(dir.path().join("mosquitto.log")).unwrap();
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf_file)
            .stdout(Stdio::from(log))
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let m = Self {
            tls_port,
            wss_port,
            ca,
            dir,
            child,
        };
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        for port in [m.tls_port, m.wss_port] {
            assert!(
                wait_until_accepting(lo, port, T),
                "mosquitto did not accept on {port}; its log:\n{}",
                m.log()
            );
        }
        m
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    fn mqtts_url(&self) -> String {
        format!("mqtts://127.0.0.1:{}", self.tls_port)
    }

    fn wss_url(&self) -> String {
        format!("wss://127.0.0.1:{}/mqtt", self.wss_port)
    }

    /// `url` trusting this broker's CA.
    fn trusting(&self, url: &str) -> BrokerConfig {
        BrokerConfig::parse(url)
            .unwrap()
            .with_ca_file(&self.ca.cert)
    }
}

impl Drop for TlsMosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A desktop link on `broker` with a fresh data dir, kept as long as it.
struct Desk {
    _dir: tempfile::TempDir,
    desk: Desktop,
}

impl std::ops::Deref for Desk {
    type Target = Desktop;
    fn deref(&self) -> &Desktop {
        &self.desk
    }
}

impl std::ops::DerefMut for Desk {
    fn deref_mut(&mut self) -> &mut Desktop {
        &mut self.desk
    }
}

impl Desk {
    /// Starts the link without waiting for it to connect.
    fn start(broker: BrokerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let desk = Desktop::launch(broker, dir.path(), MemorySecretStore::new());
        Self { _dir: dir, desk }
    }

    /// The first failed attempt's status (bounded by the failure guard).
    async fn first_failure(&self) -> LinkStatus {
        let mut status = self.link.status();
        tokio::time::timeout(
            T,
            status.wait_for(|s| matches!(s.state, ConnState::BackingOff { .. })),
        )
        .await
        .expect("the link reported a failed connection attempt")
        .unwrap()
        .clone()
    }
}

/// Pairs a phone on `phone_broker` (what the QR code carries is its URL)
/// with `desk`, then checks a sealed message each way.
async fn pair_and_exchange(desk: &mut Desk, phone_broker: &BrokerConfig) {
    desk.link.wait_ready(T).await.unwrap();
    let (mut phone, info) = pair_phone_on(desk, phone_broker, "Phone").await;

    // Phone → desktop.
    let out = phone.send(&stop_all()).unwrap();
    match tokio::time::timeout(T, desk.events.recv()).await {
        Ok(Some(LinkEvent::FromPhone {
            device_id,
            payload,
            msg_id,
        })) => {
            assert_eq!(device_id, info.id.parse().unwrap());
            assert_eq!((payload, msg_id), (stop_all(), out.msg_id));
        }
        other => panic!("the phone's command did not arrive: {other:?}"),
    }
    // Desktop → phone.
    let heartbeat = Payload::Heartbeat(Heartbeat { interval_s: 30 });
    desk.link
        .send(Recipient::All, heartbeat.clone())
        .await
        .unwrap();
    assert_eq!(phone.recv(T).await.unwrap().payload, heartbeat);
    phone.close().await;
}

#[tokio::test]
async fn a_desktop_and_a_phone_exchange_sealed_messages_over_mqtts_with_a_private_ca() {
    let m = TlsMosquitto::start(None);
    let mut desk = Desk::start(m.trusting(&m.mqtts_url()));
    pair_and_exchange(&mut desk, &m.trusting(&m.mqtts_url())).await;
    assert_eq!(desk.link.status().borrow().last_error, None);
    desk.link.shutdown().await;
}

#[tokio::test]
async fn a_desktop_and_a_phone_exchange_sealed_messages_over_wss_with_a_private_ca() {
    let m = TlsMosquitto::start(None);
    let mut desk = Desk::start(m.trusting(&m.wss_url()));
    pair_and_exchange(&mut desk, &m.trusting(&m.wss_url())).await;
    assert_eq!(desk.link.status().borrow().last_error, None);
    desk.link.shutdown().await;
}

#[tokio::test]
async fn a_desktop_on_mqtts_and_a_phone_on_wss_share_one_tls_broker() {
    // The deployment docs/brokers.md recommends for your own Mosquitto.
    let m = TlsMosquitto::start(None);
    let mut desk = Desk::start(m.trusting(&m.mqtts_url()));
    pair_and_exchange(&mut desk, &m.trusting(&m.wss_url())).await;
    desk.link.shutdown().await;
}

#[tokio::test]
async fn with_an_unrelated_ca_or_only_the_system_roots_the_link_does_not_connect_and_blames_the_certificate()
 {
    let m = TlsMosquitto::start(None);
    let other = tempfile::tempdir().unwrap();
    let wrong = Ca::new(other.path(), "unrelated");
    for url in [m.mqtts_url(), m.wss_url()] {
        // The unrelated CA, then no `ca_file` at all (the system roots,
        // which do not know our private CA either).
        let parsed = BrokerConfig::parse(&url).unwrap();
        for broker in [parsed.clone().with_ca_file(&wrong.cert), parsed] {
            let desk = Desk::start(broker.clone());
            let s = desk.first_failure().await;
            assert!(!s.is_ready(), "{s:?}");
            assert_eq!(s.connects, 0, "{s:?}");
            let err = s.last_error.expect("the failure is explained");
            eprintln!("{broker:?}: {err}");
            // Today: "TLS: I/O: invalid peer certificate: UnknownIssuer"
            // (mqtts) and "Websocket: IO error: invalid peer certificate:
            // UnknownIssuer" (wss): rumqttc's words, shown as is by
            // `reins status`.
            assert!(err.contains("certificate"), "{broker:?}: {err}");
            desk.link.shutdown().await;
        }
    }
}

#[tokio::test]
async fn a_missing_ca_file_is_refused_at_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let broker = BrokerConfig::parse("mqtts://127.0.0.1:8883")
        .unwrap()
        .with_ca_file(&missing);
    let store = DeviceStore::open(dir.path(), Arc::new(MemorySecretStore::new())).unwrap();
    let Err(err) = Link::start(LinkConfig::new(broker), store) else {
        panic!("a link with a missing CA file started");
    };
    let err = err.to_string();
    assert!(err.contains(path_str(&missing)), "{err}");
    assert!(err.contains("check the path"), "{err}");
}

#[tokio::test]
async fn the_right_account_connects_and_a_wrong_password_an_unknown_user_or_none_is_refused_as_not_authorized()
 {
    let m = TlsMosquitto::start(Some(("alice", "correct horse")));
    let with =
        |url: &str, user: &str, password: &str| m.trusting(url).with_credentials(user, password);

    let mut desk = Desk::start(with(&m.mqtts_url(), "alice", "correct horse"));
    pair_and_exchange(&mut desk, &with(&m.wss_url(), "alice", "correct horse")).await;
    desk.link.shutdown().await;

    for broker in [
        with(&m.mqtts_url(), "alice", "battery staple"),
        with(&m.wss_url(), "alice", "battery staple"),
        with(&m.mqtts_url(), "mallory", "correct horse"),
        m.trusting(&m.mqtts_url()),
    ] {
        let desk = Desk::start(broker.clone());
        let s = desk.first_failure().await;
        assert_eq!(s.connects, 0, "{broker:?}: {s:?}");
        let err = s.last_error.expect("the refusal is explained");
        eprintln!("{broker:?}: {err}");
        // Today: "Connection refused, return code: `NotAuthorized`" (Mosquitto
        // answers a bad password, an unknown user and no account alike).
        let lower = err.to_lowercase();
        assert!(
            lower.contains("refused")
                && (lower.contains("notauthorized") || lower.contains("password")),
            "{broker:?}: {err}"
        );
        desk.link.shutdown().await;
    }
}
