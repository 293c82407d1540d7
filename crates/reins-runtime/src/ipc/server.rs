//! The IPC server: accepts connections, checks each peer's uid, reads request
//! lines and hands them to a [`Handler`].
//!
//! One task accepts; one task per connection reads and answers in order.
//! Lines longer than [`MAX_LINE`] close the connection. Shutdown follows the
//! daemon's `CancellationToken`; connection tasks are tracked so the daemon
//! can wait for in-flight answers. No decisions are taken here.

use super::proto::{ErrorCode, MAX_LINE, PROTOCOL_VERSION, Request, Response};
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

/// Answers requests. Implemented by the daemon (and by fakes in tests).
pub trait Handler: Send + Sync + 'static {
    /// Answer one request from a verified peer.
    fn handle(
        &self,
        req: Request,
        peer: PeerCred,
    ) -> Pin<Box<dyn Future<Output = Response> + Send + '_>>;
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
