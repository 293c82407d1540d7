//! The web server task: accepts TCP (optionally TLS) connections and serves
//! the phone app over HTTP/1.1, GET and HEAD only, plus the `/mqtt`
//! WebSocket proxy ([`crate::proxy`]).
//!
//! Bounded by construction: at most [`MAX_CONNECTIONS`] connections, request
//! heads of at most [`MAX_HEAD_BYTES`], [`HEAD_TIMEOUT`] to send a head and
//! [`TLS_HANDSHAKE_TIMEOUT`] for TLS. Each connection is a task on the
//! server's own tracker; on shutdown the listener closes, idle connections
//! end and in-flight requests finish. Not here: what a path means
//! ([`crate::path`]), where files come from ([`crate::bundle`]), or any
//! config parsing (the runtime builds a [`WebConfig`]).

use crate::bundle::Source;
use crate::tls::{TlsError, TlsFiles};
use crate::{headers, path};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Most connections served at once (a few phones, each with a handful of
/// keep-alive connections; the rest wait in the kernel's backlog... or are
/// closed when this many are open).
pub const MAX_CONNECTIONS: usize = 256;
/// Largest request head (request line and headers), in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Time a client has to send a complete request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to finish the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A response body.
pub(crate) type Body = Full<Bytes>;

/// What to serve and where.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Listen address; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Serve HTTPS with these files; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Serve this directory instead of the embedded app.
    pub app_dir: Option<PathBuf>,
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The address cannot be bound.
    #[error(
        "cannot listen on {addr}: {source}; set phone.port = 0 for a free port, pick another, or set phone.enabled = false"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// `app_dir` is unusable.
    #[error(
        "cannot serve phone.app_dir {path}: {source}; point it at a built app (mobile-bridge/dist) or remove it to serve the embedded one"
    )]
    AppDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// HTTPS cannot be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// State shared by every connection of one server.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) source: Source,
    pub(crate) https: bool,
    pub(crate) broker_ws: Option<SocketAddr>,
    pub(crate) proxies: Arc<Semaphore>,
    pub(crate) tracker: TaskTracker,
    pub(crate) shutdown: CancellationToken,
}

/// A bound web server, not yet serving.
pub struct WebServer {
    listener: TcpListener,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    source: Source,
    broker_ws: Option<SocketAddr>,
}

impl std::fmt::Debug for WebServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebServer")
            .field("addr", &self.addr)
            .field("https", &self.tls.is_some())
            .field("source", &self.source)
            .field("broker_ws", &self.broker_ws)
            .finish()
    }
}

impl WebServer {
    /// Loads the TLS files and `app_dir` (if any) and binds the address.
    pub async fn bind(cfg: &WebConfig) -> Result<Self, WebError> {
        let tls = cfg.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let source = match &cfg.app_dir {
            None => Source::Embedded,
            Some(d) => Source::dir(d).map_err(|source| WebError::AppDir {
                path: d.clone(),
                source,
            })?,
        };
        let bind_err = |source| WebError::Bind {
            addr: cfg.addr,
            source,
        };
        let listener = TcpListener::bind(cfg.addr).await.map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        Ok(Self {
            listener,
            addr,
            tls,
            source,
            broker_ws: None,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// True when serving HTTPS.
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// Proxies `GET /mqtt` WebSocket upgrades to the broker's WebSocket
    /// listener at `addr` (loopback). Without it, `/mqtt` is 404.
    pub fn proxy_mqtt_to(&mut self, addr: SocketAddr) {
        self.broker_ws = Some(addr);
    }

    /// Serves until `shutdown` is cancelled, then waits for its connections.
    pub async fn serve(self, shutdown: CancellationToken) {
        let tracker = TaskTracker::new();
        let conns = Arc::new(Semaphore::new(MAX_CONNECTIONS));
        let ctx = Arc::new(Ctx {
            source: self.source,
            https: self.tls.is_some(),
            broker_ws: self.broker_ws,
            proxies: Arc::new(Semaphore::new(crate::proxy::MAX_PROXIED)),
            tracker: tracker.clone(),
            shutdown: shutdown.clone(),
        });
        loop {
            let stream = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = self.listener.accept() => match r {
                    Ok((s, _)) => s,
                    Err(e) => {
                        // Out of descriptors or similar: back off a moment
                        // rather than spin.
                        tracing::warn!(error = %e, "web server: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(permit) = conns.clone().try_acquire_owned() else {
                tracing::debug!("web server: connection limit reached; closing a new one");
                continue;
            };
            // The /mqtt proxy carries a phone's Stop: no Nagle delay.
            let _ = stream.set_nodelay(true);
            let (ctx, tls) = (ctx.clone(), self.tls.clone());
            tracker.spawn(async move {
                let _permit = permit;
                match tls {
                    None => serve_conn(stream, ctx).await,
                    Some(acceptor) => {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(s)) => serve_conn(s, ctx).await,
                            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                            Err(_) => tracing::debug!("TLS handshake timed out"),
                        }
                    }
                }
            });
        }
        drop(self.listener);
        tracker.close();
        tracker.wait().await;
    }
}

async fn serve_conn<I>(io: I, ctx: Arc<Ctx>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let shutdown = ctx.shutdown.clone();
    let svc = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(ctx, req).await) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "web connection ended");
            }
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A response with the security headers and `body`.
pub(crate) fn respond(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    let h = r.headers_mut();
    headers::secure(h);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn handle(ctx: Arc<Ctx>, req: Request<Incoming>) -> Response<Body> {
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut r = respond(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET and HEAD are served here\n",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
    };
    if req.uri().path() == "/mqtt" {
        return crate::proxy::handle(&ctx, req).await;
    }
    let not_found = || respond(StatusCode::NOT_FOUND, "not found\n");
    let Some(rel) = path::resolve(req.uri().path()) else {
        return not_found();
    };
    let Some(file) = ctx.source.get(&rel).await else {
        return not_found();
    };
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == file.etag || t.trim() == "*");
    let len = file.bytes.len();
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else if head {
        (StatusCode::OK, Bytes::new())
    } else {
        (StatusCode::OK, file.bytes)
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    headers::secure(h);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(headers::cache_control(&rel, ctx.https)),
    );
    if let Ok(v) = HeaderValue::from_str(&file.etag) {
        h.insert(header::ETAG, v);
    }
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    r
}
