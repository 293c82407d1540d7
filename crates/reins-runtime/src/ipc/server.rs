//! The IPC server: accepts connections, checks each peer's uid, reads request
//! lines and hands them to a [`Handler`].
//!
//! One task accepts; one task per connection reads and answers in order.
//! Lines longer than [`MAX_LINE`] close the connection. Shutdown follows the
//! daemon's `CancellationToken`; connection tasks are tracked so the daemon
//! can wait for in-flight answers. A `subscribe` request turns its
//! connection into a stream: the handler opens an [`EventStream`] and this
//! loop writes its events as lines until the client hangs up (seen at once
//! as end-of-file on the read half), the stream ends or the daemon shuts
//! down; then the stream is dropped, which detaches the client's surface.
//! No decisions are taken here.

use super::proto::{
    ClientSurface, ErrorCode, MAX_LINE, PROTOCOL_VERSION, Request, Response, StreamEvent,
};
use reins_os::PeerCred;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The events of one `subscribe` connection, opened by [`Handler::subscribe`].
/// Dropping it ends the subscription (and detaches the client's surface).
pub trait EventStream: Send {
    /// The next event; `None` ends the stream and closes the connection.
    /// Must be cancel-safe: the server drops a pending call when the client
    /// sends bytes, and calls again.
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<StreamEvent>> + Send + '_>>;
}

/// The future [`Handler::subscribe`] returns: a stream, or the one response
/// line to send before closing (a refusal).
pub type Subscribed<'a> =
    Pin<Box<dyn Future<Output = Result<Box<dyn EventStream>, Response>> + Send + 'a>>;

/// Answers requests. Implemented by the daemon (and by fakes in tests).
pub trait Handler: Send + Sync + 'static {
    /// Answer one request from a verified peer.
    fn handle(
        &self,
        req: Request,
        peer: PeerCred,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;

    /// Open the event stream of a `subscribe` request from a verified peer.
    /// The default refuses: a handler without streams.
    fn subscribe(&self, surface: ClientSurface, peer: PeerCred) -> Subscribed<'_> {
        let _ = (surface, peer);
        Box::pin(async {
            Err(Response::error(
                ErrorCode::BadRequest,
                "this server does not stream events",
            ))
        })
    }
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Another daemon already answers on the socket.
    #[error("a Reins daemon is already running (it answers on {0}); stop it first or use it")]
    AlreadyRunning(PathBuf),
    /// The socket could not be bound.
    #[error("cannot listen on {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The socket directory is unusable.
    #[error(transparent)]
    Dir(#[from] crate::paths::PathError),
}

/// Bind the socket at `path`: refuse if a live daemon answers there, remove a
/// stale socket file, create the directory 0700 and the socket 0600.
pub async fn bind(path: &Path) -> Result<UnixListener, ServerError> {
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(ServerError::AlreadyRunning(path.to_owned()));
        }
        let _ = std::fs::remove_file(path);
    }
    let bind_err = |source| ServerError::Bind {
        path: path.to_owned(),
        source,
    };
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
    Ok(listener)
}

/// Accept and serve connections until `shutdown` is cancelled.
pub async fn serve<H: Handler>(
    listener: UnixListener,
    handler: Arc<H>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    // SAFETY: getuid cannot fail and has no preconditions.
    let my_uid = unsafe { libc::getuid() };
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!("ipc accept failed: {e}");
                    continue;
                }
            },
        };
        let peer = match stream.peer_cred() {
            Ok(c) => PeerCred {
                pid: c.pid().unwrap_or(0) as u32,
                uid: c.uid(),
            },
            Err(e) => {
                tracing::warn!("ipc: cannot read peer credentials, closing: {e}");
                continue;
            }
        };
        if peer.uid != my_uid {
            tracing::warn!(
                peer.uid,
                peer.pid,
                "ipc: refused a connection from another user"
            );
            continue;
        }
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            if let Err(e) = connection(stream, peer, handler, shutdown).await {
                tracing::debug!("ipc connection from pid {} ended: {e}", peer.pid);
            }
        });
    }
}

async fn connection<H: Handler>(
    stream: UnixStream,
    peer: PeerCred,
    handler: Arc<H>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    let mut line = Vec::new();
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE as u64 + 1);
        let n = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            n = limited.read_until(b'\n', &mut line) => n?,
        };
        if n == 0 {
            return Ok(());
        }
        if line.len() > MAX_LINE {
            let resp = Response::error(ErrorCode::BadRequest, "request line too long");
            write_line(&mut w, &resp).await?;
            return Ok(());
        }
        let resp = match serde_json::from_slice::<Request>(&line) {
            Ok(Request::Ping) => Response::Pong {
                protocol: PROTOCOL_VERSION,
                pid: std::process::id(),
            },
            Ok(Request::Subscribe { surface }) => {
                return match handler.subscribe(surface, peer).await {
                    Ok(events) => serve_stream(events, reader, w, shutdown).await,
                    Err(refusal) => write_line(&mut w, &refusal).await,
                };
            }
            Ok(req) => {
                // Answer, unless the client hangs up first (a hook killed by
                // its agent's timeout): then drop the work, which withdraws
                // whatever it was waiting for.
                let work = handler.handle(req, peer);
                tokio::pin!(work);
                tokio::select! {
                    resp = &mut work => resp,
                    eof = reader.fill_buf() => match eof {
                        Ok([]) | Err(_) => return Ok(()),
                        // More requests pipelined behind this one: just answer in order.
                        Ok(_) => work.await,
                    },
                }
            }
            Err(e) => Response::error(ErrorCode::BadRequest, format!("malformed request: {e}")),
        };
        write_line(&mut w, &resp).await?;
    }
}

/// Serve one subscription until the client hangs up, the stream ends or the
/// daemon shuts down. Bytes the client sends are read and dropped: they only
/// serve to notice its end-of-file at once.
async fn serve_stream(
    mut events: Box<dyn EventStream>,
    mut reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    mut w: tokio::net::unix::OwnedWriteHalf,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            read = reader.fill_buf() => {
                match read {
                    Ok([]) | Err(_) => return Ok(()),
                    Ok(bytes) => {
                        let n = bytes.len();
                        reader.consume(n);
                    }
                }
                continue;
            }
            event = events.next() => match event {
                Some(e) => e,
                None => return Ok(()),
            },
        };
        let resp = Response::Event { event };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            r = write_line(&mut w, &resp) => r?,
        }
    }
}

async fn write_line(
    w: &mut tokio::net::unix::OwnedWriteHalf,
    resp: &Response,
) -> std::io::Result<()> {
    let mut out = serde_json::to_vec(resp).map_err(std::io::Error::other)?;
    out.push(b'\n');
    w.write_all(&out).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::Client;

    #[derive(Debug)]
    struct Echo;
    impl Handler for Echo {
        fn handle(
            &self,
            _req: Request,
            peer: PeerCred,
        ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
            Box::pin(
                async move { Response::error(ErrorCode::Internal, format!("peer {}", peer.pid)) },
            )
        }
    }

    async fn start() -> (tempfile::TempDir, PathBuf, CancellationToken) {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("run/reins.sock");
        let l = bind(&path).await.unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(serve(l, Arc::new(Echo), stop.clone(), TaskTracker::new()));
        (t, path, stop)
    }

    #[tokio::test]
    async fn the_peer_pid_is_taken_from_the_kernel_not_the_request() {
        let (_t, path, _stop) = start().await;
        let resp = tokio::task::spawn_blocking(move || {
            Client::connect(&path)
                .unwrap()
                .call(&Request::Status)
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(
            resp,
            Response::error(ErrorCode::Internal, format!("peer {}", std::process::id()))
        );
    }

    #[tokio::test]
    async fn malformed_json_gets_a_bad_request_answer_and_the_connection_stays_usable() {
        let (_t, path, _stop) = start().await;
        let mut s = UnixStream::connect(&path).await.unwrap();
        s.write_all(b"{not json\n{\"op\":\"ping\"}\n")
            .await
            .unwrap();
        let mut r = BufReader::new(s);
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        assert!(l.contains("bad_request"), "{l}");
        l.clear();
        r.read_line(&mut l).await.unwrap();
        assert!(l.contains("pong"), "{l}");
    }

    /// A handler whose streams relay a broadcast and hold a surface.
    #[derive(Debug)]
    struct Streamer {
        surfaces: crate::surfaces::Surfaces,
        events: tokio::sync::broadcast::Sender<StreamEvent>,
    }

    struct Relay {
        rx: tokio::sync::broadcast::Receiver<StreamEvent>,
        _guard: crate::surfaces::SurfaceGuard,
    }

    impl EventStream for Relay {
        fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<StreamEvent>> + Send + '_>> {
            Box::pin(async { self.rx.recv().await.ok() })
        }
    }

    impl Handler for Streamer {
        fn handle(
            &self,
            _req: Request,
            _peer: PeerCred,
        ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>> {
            Box::pin(async { Response::error(ErrorCode::Internal, "no") })
        }

        fn subscribe(&self, _surface: ClientSurface, peer: PeerCred) -> Subscribed<'_> {
            let guard = self.surfaces.attach(
                crate::surfaces::SurfaceKind::Terminal,
                format!("pid {}", peer.pid),
            );
            let rx = self.events.subscribe();
            Box::pin(
                async move { Ok(Box::new(Relay { rx, _guard: guard }) as Box<dyn EventStream>) },
            )
        }
    }

    fn open_view() -> StreamEvent {
        StreamEvent::Open {
            view: crate::ipc::proto::OpenView::Agents,
        }
    }

    async fn start_streamer() -> (tempfile::TempDir, PathBuf, CancellationToken, Arc<Streamer>) {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("run/reins.sock");
        let l = bind(&path).await.unwrap();
        let stop = CancellationToken::new();
        let h = Arc::new(Streamer {
            surfaces: crate::surfaces::Surfaces::new(),
            events: tokio::sync::broadcast::channel(16).0,
        });
        tokio::spawn(serve(l, h.clone(), stop.clone(), TaskTracker::new()));
        (t, path, stop, h)
    }

    async fn until(mut f: impl FnMut() -> bool) {
        tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while !f() {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("condition never held");
    }

    #[tokio::test]
    async fn a_subscription_streams_events_and_its_surface_ends_when_the_client_hangs_up() {
        let (_t, path, _stop, h) = start_streamer().await;
        let mut sub = crate::ipc::Subscription::connect(&path, ClientSurface::Terminal)
            .await
            .unwrap();
        until(|| h.surfaces.any()).await;
        h.events.send(open_view()).unwrap();
        assert_eq!(sub.next().await.unwrap(), Some(open_view()));
        drop(sub);
        until(|| !h.surfaces.any()).await;
    }

    #[tokio::test]
    async fn bytes_sent_on_a_subscription_are_ignored_and_eof_still_detaches() {
        let (_t, path, _stop, h) = start_streamer().await;
        let s = UnixStream::connect(&path).await.unwrap();
        let (r, mut w) = s.into_split();
        w.write_all(b"{\"op\":\"subscribe\",\"surface\":\"terminal\"}\n{\"op\":\"ping\"}\n")
            .await
            .unwrap();
        until(|| h.surfaces.any()).await;
        h.events.send(open_view()).unwrap();
        let mut r = BufReader::new(r);
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        assert!(l.contains("\"type\":\"event\""), "{l}");
        // Half-close: the daemon sees end-of-file and drops the stream.
        w.shutdown().await.unwrap();
        until(|| !h.surfaces.any()).await;
        l.clear();
        assert_eq!(r.read_line(&mut l).await.unwrap(), 0, "and closes: {l}");
    }

    #[tokio::test]
    async fn shutdown_ends_every_subscription() {
        let (_t, path, stop, h) = start_streamer().await;
        let mut sub = crate::ipc::Subscription::connect(&path, ClientSurface::Tray)
            .await
            .unwrap();
        until(|| h.surfaces.any()).await;
        stop.cancel();
        assert_eq!(sub.next().await.unwrap(), None);
        until(|| !h.surfaces.any()).await;
    }

    #[tokio::test]
    async fn a_handler_without_streams_refuses_a_subscription_and_call_async_works() {
        let (_t, path, _stop) = start().await;
        let mut sub = crate::ipc::Subscription::connect(&path, ClientSurface::Window)
            .await
            .unwrap();
        let err = sub.next().await.unwrap_err();
        assert!(err.to_string().contains("does not stream"), "{err}");
        let resp = crate::ipc::call_async(&path, &Request::Ping).await.unwrap();
        assert!(matches!(resp, Response::Pong { .. }), "{resp:?}");
        let gone = t_missing();
        assert!(matches!(
            crate::ipc::call_async(&gone, &Request::Ping).await,
            Err(crate::ipc::ClientError::NotRunning(_))
        ));
    }

    fn t_missing() -> PathBuf {
        std::env::temp_dir().join(format!("reins-no-such-{}.sock", std::process::id()))
    }

    #[tokio::test]
    async fn a_second_daemon_on_the_same_socket_is_refused() {
        let (_t, path, _stop) = start().await;
        assert!(matches!(
            bind(&path).await,
            Err(ServerError::AlreadyRunning(_))
        ));
    }

    #[tokio::test]
    async fn a_stale_socket_file_is_replaced_and_the_socket_is_private() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("reins.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let _l = bind(&path).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
