//! `GET /mqtt` with a WebSocket upgrade, proxied to the embedded broker's
//! WebSocket listener on loopback, so the phone app reaches MQTT on the
//! page's own origin (`ws://host:port/mqtt`, or `wss://` when the page is
//! HTTPS, where a plain `ws://` broker URL would be blocked as mixed
//! content).
//!
//! The client's handshake is re-sent to the broker with only the WebSocket
//! headers (key, version, subprotocol; rumqttd answers subprotocol `mqtt`),
//! the broker's `101` is relayed as is (its `Sec-WebSocket-Accept` matches
//! the client's key), then bytes are spliced both ways with TCP_NODELAY on
//! both sockets. The proxy never reads MQTT: everything on it is sealed end
//! to end anyway. At most [`MAX_PROXIED`] at once; the broker must answer
//! within [`BROKER_TIMEOUT`]. Without an embedded broker, `/mqtt` is 404.

use crate::server::{Body, Ctx, respond};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::upgrade::OnUpgrade;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

/// Most proxied WebSocket connections at once (the embedded broker itself
/// takes at most 64 clients).
pub const MAX_PROXIED: usize = 32;
/// Time the broker has to accept the connection and answer the handshake.
pub const BROKER_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest broker handshake response accepted.
const MAX_BROKER_HEAD: usize = 8 * 1024;

/// The client headers the broker needs; nothing else is forwarded.
const FORWARDED: [HeaderName; 3] = [
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
    header::SEC_WEBSOCKET_PROTOCOL,
];

fn is_upgrade(h: &HeaderMap) -> bool {
    let has = |name: HeaderName, token: &str| {
        h.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
        && h.contains_key(header::SEC_WEBSOCKET_KEY)
}

/// Answers `GET /mqtt`.
pub(crate) async fn handle(ctx: &Arc<Ctx>, mut req: Request<Incoming>) -> Response<Body> {
    let Some(broker) = ctx.broker_ws else {
        return respond(StatusCode::NOT_FOUND, "not found\n");
    };
    if !is_upgrade(req.headers()) {
        let mut r = respond(
            StatusCode::UPGRADE_REQUIRED,
            "this is the MQTT-over-WebSocket endpoint: connect with a WebSocket client (subprotocol mqtt)\n",
        );
        r.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return r;
    }
    let Ok(permit) = ctx.proxies.clone().try_acquire_owned() else {
        return respond(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many MQTT connections; try again\n",
        );
    };
    let (stream, status, headers, leftover) = match tokio::time::timeout(
        BROKER_TIMEOUT,
        handshake(broker, req.headers()),
    )
    .await
    {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, %broker, "/mqtt: the embedded broker's WebSocket listener failed the handshake");
            return respond(StatusCode::BAD_GATEWAY, "the MQTT broker is unavailable\n");
        }
        Err(_) => {
            tracing::warn!(%broker, "/mqtt: the embedded broker did not answer the handshake in time");
            return respond(
                StatusCode::GATEWAY_TIMEOUT,
                "the MQTT broker did not answer\n",
            );
        }
    };
    if status != 101 {
        tracing::warn!(
            status,
            "/mqtt: the embedded broker refused the WebSocket handshake"
        );
        return respond(
            StatusCode::BAD_GATEWAY,
            "the MQTT broker refused the connection\n",
        );
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    ctx.tracker.spawn(splice(
        on_upgrade,
        stream,
        leftover,
        permit,
        ctx.shutdown.clone(),
    ));
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    for (name, value) in headers {
        h.append(name, value);
    }
    r
}

type Handshake = (TcpStream, u16, Vec<(HeaderName, HeaderValue)>, Vec<u8>);

/// Connects to the broker, sends the handshake, reads its response head.
/// Returns the stream, status, headers and any bytes read past the head.
async fn handshake(addr: SocketAddr, client: &HeaderMap) -> std::io::Result<Handshake> {
    let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let mut req = format!(
        "GET /mqtt HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    )
    .into_bytes();
    for name in FORWARDED {
        for v in client.get_all(&name) {
            req.extend_from_slice(name.as_str().as_bytes());
            req.extend_from_slice(b": ");
            req.extend_from_slice(v.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
    }
    req.extend_from_slice(b"\r\n");
    s.write_all(&req).await?;
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() >= MAX_BROKER_HEAD {
            return Err(invalid("response head too large"));
        }
        if s.read_buf(&mut buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let mut hs = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut hs);
        match resp.parse(&buf) {
            Ok(httparse::Status::Partial) => continue,
            Err(e) => return Err(invalid(&e.to_string())),
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or(0);
                let headers = resp
                    .headers
                    .iter()
                    .filter_map(|h| {
                        Some((
                            HeaderName::from_bytes(h.name.as_bytes()).ok()?,
                            HeaderValue::from_bytes(h.value).ok()?,
                        ))
                    })
                    .collect();
                let leftover = buf[len..].to_vec();
                return Ok((s, status, headers, leftover));
            }
        }
    }
}

/// Waits for hyper to hand over the client's connection, then copies bytes
/// both ways until either side closes or the server shuts down.
async fn splice(
    on_upgrade: OnUpgrade,
    mut broker: TcpStream,
    leftover: Vec<u8>,
    _permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!(error = %e, "/mqtt: the client went away before the upgrade");
            return;
        }
    };
    let mut client = TokioIo::new(upgraded);
    if !leftover.is_empty() && client.write_all(&leftover).await.is_err() {
        return;
    }
    tokio::select! {
        r = tokio::io::copy_bidirectional(&mut client, &mut broker) => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "/mqtt: proxied connection ended");
            }
        }
        _ = shutdown.cancelled() => {}
    }
}
