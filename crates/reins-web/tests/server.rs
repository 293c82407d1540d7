//! The web server end to end on 127.0.0.1:0: the app shell and assets with
//! their headers, paths that must not escape the bundle, methods, HTTPS
//! with a certificate made by `openssl` at test time, and MQTT over
//! WebSocket through `/mqtt` to a real embedded broker.
//!
//! Nothing here depends on what the committed app contains: files are read
//! back from the embedded table, or created by the test in an `app_dir`.

use reins_link::{BrokerConfig, EmbeddedBroker, EmbeddedBrokerConfig};
use reins_web::bundle::{FILES, embedded};
use reins_web::{TlsError, TlsFiles, WebConfig, WebError, WebServer};
use rumqttc::{AsyncClient, Event, Packet, QoS};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Failure guard only: everything here takes milliseconds.
const T: Duration = Duration::from_secs(20);

fn config() -> WebConfig {
    WebConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        app_dir: None,
    }
}

/// A server serving on a free port until dropped.
struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn start(cfg: WebConfig, broker_ws: Option<SocketAddr>) -> Running {
    let mut server = WebServer::bind(&cfg).await.unwrap();
    if let Some(b) = broker_ws {
        server.proxy_mqtt_to(b);
    }
    let addr = server.local_addr();
    let shutdown = CancellationToken::new();
    tokio::spawn(server.serve(shutdown.clone()));
    Running { addr, shutdown }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method target` (plus `extra` header lines) and reads the reply
/// until the server closes the connection.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    method: &str,
    target: &str,
    extra: &str,
) -> Reply {
    let req =
        format!("{method} {target} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    // A TLS peer may close without close_notify after a complete reply.
    let _ = tokio::time::timeout(T, s.read_to_end(&mut buf))
        .await
        .unwrap();
    let mut hs = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut hs);
    let len = match r.parse(&buf).unwrap() {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => panic!("incomplete reply: {buf:?}"),
    };
    Reply {
        status: r.code.unwrap(),
        headers: r
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        body: buf[len..].to_vec(),
    }
}

async fn request(addr: SocketAddr, method: &str, target: &str) -> Reply {
    exchange(TcpStream::connect(addr).await.unwrap(), method, target, "").await
}

fn assert_secure(r: &Reply) {
    assert_eq!(
        r.header("content-security-policy"),
        Some(reins_web::headers::CSP)
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn the_index_is_served_at_root_and_pair_with_every_header_and_never_stored() {
    let index = embedded("index.html").expect("the bundle has an index.html");
    let s = start(config(), None).await;
    for target in ["/", "/pair", "/index.html", "/?x=1"] {
        let r = request(s.addr, "GET", target).await;
        assert_eq!(r.status, 200, "{target}");
        assert_eq!(r.body, index.bytes, "{target}");
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("etag"), Some(index.etag));
        assert_secure(&r);
    }
}

#[tokio::test]
async fn head_gives_the_headers_and_length_without_a_body() {
    let index = embedded("index.html").unwrap();
    let s = start(config(), None).await;
    let r = request(s.addr, "HEAD", "/").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-length"),
        Some(&*index.bytes.len().to_string())
    );
    assert_secure(&r);
}

#[tokio::test]
async fn every_embedded_file_comes_back_byte_identical_and_assets_are_immutable() {
    let s = start(config(), None).await;
    for f in FILES {
        let r = request(s.addr, "GET", &format!("/{}", f.path)).await;
        assert_eq!(r.status, 200, "{}", f.path);
        assert_eq!(r.body, f.bytes, "{}", f.path);
        assert_eq!(r.header("content-type"), Some(f.content_type), "{}", f.path);
        if f.path.starts_with("assets/") {
            assert_eq!(
                r.header("cache-control"),
                Some(reins_web::headers::IMMUTABLE)
            );
        }
        if f.path == "sw.js" || f.path.ends_with(".webmanifest") {
            assert_eq!(r.header("cache-control"), Some("no-store"), "{}", f.path);
        }
        assert_secure(&r);
    }
}

#[tokio::test]
async fn a_known_etag_gets_not_modified() {
    let index = embedded("index.html").unwrap();
    let s = start(config(), None).await;
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let r = exchange(
        tcp,
        "GET",
        "/",
        &format!("If-None-Match: {}\r\n", index.etag),
    )
    .await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn paths_that_leave_the_bundle_or_name_a_directory_are_not_found() {
    let s = start(config(), None).await;
    for target in [
        "/../Cargo.toml",
        "/%2e%2e/",
        "/%2e%2e/Cargo.toml",
        "/assets/%2e%2e%2f..",
        "/assets/..%2f..%2fCargo.toml",
        "/..%5cCargo.toml",
        "/index.html%00.png",
        "//etc/passwd",
        "/assets/",
        "/assets",
        "/.git/config",
        "/no-such-file.js",
    ] {
        let r = request(s.addr, "GET", target).await;
        assert_eq!(r.status, 404, "{target}");
        assert_secure(&r);
    }
}

#[tokio::test]
async fn an_app_dir_is_served_and_a_symlink_pointing_outside_it_is_not_found() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<p>dev</p>").unwrap();
    std::fs::write(dir.path().join("assets/app-77.js"), "let x;").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        dir.path().join("leak.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("assets/out")).unwrap();
    let s = start(
        WebConfig {
            app_dir: Some(dir.path().to_owned()),
            ..config()
        },
        None,
    )
    .await;
    let r = request(s.addr, "GET", "/").await;
    assert_eq!((r.status, &r.body[..]), (200, &b"<p>dev</p>"[..]));
    let r = request(s.addr, "GET", "/assets/app-77.js").await;
    assert_eq!((r.status, &r.body[..]), (200, &b"let x;"[..]));
    assert_eq!(
        r.header("cache-control"),
        Some(reins_web::headers::IMMUTABLE)
    );
    for target in [
        "/leak.txt",
        "/assets/out/secret.txt",
        "/assets",
        "/../secret.txt",
    ] {
        assert_eq!(request(s.addr, "GET", target).await.status, 404, "{target}");
    }
}

#[tokio::test]
async fn methods_other_than_get_and_head_are_refused_with_allow() {
    let s = start(config(), None).await;
    for (method, target) in [("POST", "/"), ("PUT", "/index.html"), ("DELETE", "/mqtt")] {
        let r = request(s.addr, method, target).await;
        assert_eq!(r.status, 405, "{method} {target}");
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
        assert_secure(&r);
    }
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let s = start(config(), None).await;
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let big = format!("X-Big: {}\r\n", "a".repeat(20 * 1024));
    let r = exchange(tcp, "GET", "/", &big).await;
    assert_eq!(r.status, 431);
}

#[tokio::test]
async fn without_a_broker_mqtt_is_not_found() {
    let s = start(config(), None).await;
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let r = exchange(tcp, "GET", "/mqtt", &ws_headers()).await;
    assert_eq!(r.status, 404);
}

fn ws_headers() -> String {
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n".into()
}

#[tokio::test]
async fn a_port_in_use_is_an_error_that_names_phone_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = WebConfig {
        addr: taken.local_addr().unwrap(),
        ..config()
    };
    let e = WebServer::bind(&cfg).await.unwrap_err();
    assert!(matches!(e, WebError::Bind { .. }), "{e}");
    assert!(e.to_string().contains("phone.port = 0"), "{e}");
}

#[tokio::test]
async fn a_missing_certificate_file_is_an_error_naming_it() {
    let cfg = WebConfig {
        tls: Some(TlsFiles {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        }),
        ..config()
    };
    let e = WebServer::bind(&cfg).await.unwrap_err();
    assert!(
        matches!(
            e,
            WebError::Tls(TlsError::Read {
                key: "phone.tls_cert",
                ..
            })
        ),
        "{e}"
    );
    assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
}

/// A self-signed certificate for 127.0.0.1, made by `openssl`.
fn self_signed(dir: &Path) -> TlsFiles {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=reins-test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl is installed (the test script installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    TlsFiles { cert, key }
}

async fn tls_connect(addr: SocketAddr, ca: &Path) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut &std::fs::read(ca).unwrap()[..]) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn https_serves_the_index_revalidated_instead_of_never_stored() {
    let index = embedded("index.html").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = self_signed(dir.path());
    let ca = files.cert.clone();
    let s = start(
        WebConfig {
            tls: Some(files),
            ..config()
        },
        None,
    )
    .await;
    let r = exchange(tls_connect(s.addr, &ca).await, "GET", "/", "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, index.bytes);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_secure(&r);
}

async fn embedded_broker() -> SocketAddr {
    let b =
        tokio::task::spawn_blocking(|| EmbeddedBroker::start(&EmbeddedBrokerConfig::localhost()))
            .await
            .unwrap()
            .unwrap();
    SocketAddr::from(([127, 0, 0, 1], b.ws_port))
}

/// Connects an MQTT client to `url`, subscribes to a topic, publishes to
/// it and waits for its own message to come back through the broker.
async fn publish_and_receive(broker: BrokerConfig) {
    let opts = broker
        .mqtt_options(&reins_link::broker_url::random_client_id())
        .unwrap();
    let (client, mut el) = AsyncClient::new(opts, 10);
    let topic = "reins/web-test";
    let done = async {
        let mut subscribed = false;
        loop {
            match el.poll().await.expect("the MQTT connection works") {
                Event::Incoming(Packet::ConnAck(_)) => {
                    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
                }
                Event::Incoming(Packet::SubAck(_)) if !subscribed => {
                    subscribed = true;
                    client
                        .publish(
                            topic,
                            QoS::AtLeastOnce,
                            false,
                            b"through the proxy".to_vec(),
                        )
                        .await
                        .unwrap();
                }
                Event::Incoming(Packet::Publish(p)) => {
                    assert_eq!(&p.payload[..], b"through the proxy");
                    return;
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(T, done)
        .await
        .expect("the message came back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_over_websocket_goes_through_the_proxy_to_the_embedded_broker() {
    let ws = embedded_broker().await;
    let s = start(config(), Some(ws)).await;
    let url = format!("ws://{}/mqtt", s.addr);
    publish_and_receive(BrokerConfig::parse(&url).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_over_secure_websocket_goes_through_the_https_proxy() {
    let ws = embedded_broker().await;
    let dir = tempfile::tempdir().unwrap();
    let files = self_signed(dir.path());
    let ca: PathBuf = files.cert.clone();
    let s = start(
        WebConfig {
            tls: Some(files),
            ..config()
        },
        Some(ws),
    )
    .await;
    let url = format!("wss://{}/mqtt", s.addr);
    publish_and_receive(BrokerConfig::parse(&url).unwrap().with_ca_file(ca)).await;
}

#[tokio::test]
async fn a_plain_get_of_mqtt_asks_for_an_upgrade() {
    let ws = embedded_broker().await;
    let s = start(config(), Some(ws)).await;
    let r = request(s.addr, "GET", "/mqtt").await;
    assert_eq!(r.status, 426);
    assert_eq!(r.header("upgrade"), Some("websocket"));
}
