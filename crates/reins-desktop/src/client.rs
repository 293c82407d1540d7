//! The async IPC client this crate uses: one request per connection
//! ([`call_async`]) and the subscription stream ([`Subscription`]).
//!
//! A stand-in with the signatures of `reins_runtime::ipc`'s async client
//! (being added on the `core` branch); once that is merged this module
//! only re-exports it. It retries nothing and starts no daemon: the
//! connection task in [`crate::conn`] does that.

use reins_runtime::ipc::ClientError;
use reins_runtime::ipc::proto::{ClientSurface, MAX_LINE, Request, Response, StreamEvent};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// Responses can be large (a snapshot of many agents); bound them anyway.
const MAX_RESPONSE: u64 = MAX_LINE as u64 * 64;

async fn connect(path: &Path) -> Result<UnixStream, ClientError> {
    UnixStream::connect(path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning(path.to_owned())
        }
        _ => ClientError::Io(e),
    })
}

async fn send(w: &mut OwnedWriteHalf, req: &Request) -> Result<(), ClientError> {
    let mut line = serde_json::to_vec(req).map_err(|e| ClientError::Protocol(e.to_string()))?;
    line.push(b'\n');
    w.write_all(&line).await?;
    Ok(())
}

async fn read(r: &mut BufReader<OwnedReadHalf>) -> Result<Option<Response>, ClientError> {
    let mut buf = Vec::new();
    let n = r.take(MAX_RESPONSE).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    serde_json::from_slice(&buf)
        .map(Some)
        .map_err(|e| ClientError::Protocol(e.to_string()))
}

/// Send one request on a fresh connection and wait for its response.
pub async fn call_async(socket: &Path, req: &Request) -> Result<Response, ClientError> {
    let (r, mut w) = connect(socket).await?.into_split();
    send(&mut w, req).await?;
    let mut r = BufReader::new(r);
    read(&mut r)
        .await?
        .ok_or_else(|| ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()))
}

/// A `subscribe` stream: a snapshot first, then every change.
#[derive(Debug)]
pub struct Subscription {
    reader: BufReader<OwnedReadHalf>,
    // Held so the daemon keeps counting this client as a live surface.
    _writer: OwnedWriteHalf,
}

impl Subscription {
    /// Connect to `socket` and subscribe as `surface`.
    pub async fn connect(socket: &Path, surface: ClientSurface) -> Result<Self, ClientError> {
        let (r, mut w) = connect(socket).await?.into_split();
        send(&mut w, &Request::Subscribe { surface }).await?;
        Ok(Subscription {
            reader: BufReader::new(r),
            _writer: w,
        })
    }

    /// The next event; `None` when the daemon closed the stream.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, ClientError> {
        match read(&mut self.reader).await? {
            None => Ok(None),
            Some(Response::Event { event }) => Ok(Some(event)),
            Some(Response::Error(e)) => Err(ClientError::Protocol(e.message)),
            Some(other) => Err(ClientError::Protocol(format!(
                "expected a stream event, got {other:?}"
            ))),
        }
    }
}
