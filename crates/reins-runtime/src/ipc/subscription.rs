//! The async IPC client, for long-lived callers that already run tokio (the
//! tray app, `reins approvals --watch`): one-shot requests with
//! [`call_async`] and the event stream of a [`Request::Subscribe`] with
//! [`Subscription`].
//!
//! Like the blocking [`super::Client`] it holds no logic: it frames JSON
//! lines and maps failures to [`ClientError`].

use super::client::ClientError;
use super::proto::{ClientSurface, MAX_LINE, Request, Response, StreamEvent};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// The longest response line read. Responses carry agent lists and pending
/// requests; this bounds what a broken daemon can make a client buffer.
const MAX_RESPONSE: usize = MAX_LINE * 64;

async fn connect(socket: &Path) -> Result<UnixStream, ClientError> {
    UnixStream::connect(socket)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning(socket.to_owned())
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

/// Reads one response line into `buf` (which holds any partial line from a
/// cancelled call); `None` at a clean end of stream. Cancel-safe: bytes move
/// from the reader to `buf` with no await in between.
async fn recv(
    r: &mut BufReader<OwnedReadHalf>,
    buf: &mut Vec<u8>,
) -> Result<Option<Response>, ClientError> {
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            if buf.is_empty() {
                return Ok(None);
            }
            // The daemon went away mid-line.
            buf.clear();
            return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(i) = avail.iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&avail[..=i]);
            r.consume(i + 1);
            break;
        }
        let n = avail.len();
        buf.extend_from_slice(avail);
        r.consume(n);
        if buf.len() > MAX_RESPONSE {
            buf.clear();
            return Err(ClientError::Protocol("response line too long".into()));
        }
    }
    let parsed = serde_json::from_slice(buf).map_err(|e| ClientError::Protocol(e.to_string()));
    buf.clear();
    parsed.map(Some)
}

/// Send one request on a fresh connection and read its one response.
pub async fn call_async(socket: &Path, req: &Request) -> Result<Response, ClientError> {
    let (r, mut w) = connect(socket).await?.into_split();
    send(&mut w, req).await?;
    let mut r = BufReader::new(r);
    recv(&mut r, &mut Vec::new())
        .await?
        .ok_or_else(|| ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()))
}

/// An open event stream. While it is open, the client counts as a live
/// surface of the kind it subscribed as (unless [`ClientSurface::Observer`]);
/// dropping it closes the connection and the daemon detaches the surface at
/// once.
#[derive(Debug)]
pub struct Subscription {
    reader: BufReader<OwnedReadHalf>,
    /// A partial line left by a cancelled `next()`.
    partial: Vec<u8>,
    /// Kept open: closing the write half would read as a hang-up.
    _writer: OwnedWriteHalf,
}

impl Subscription {
    /// Connect and subscribe. The first event [`Subscription::next`] returns
    /// is a [`StreamEvent::Snapshot`].
    pub async fn connect(
        socket: &Path,
        surface: ClientSurface,
    ) -> Result<Subscription, ClientError> {
        let (r, mut w) = connect(socket).await?.into_split();
        send(&mut w, &Request::Subscribe { surface }).await?;
        Ok(Subscription {
            reader: BufReader::new(r),
            partial: Vec::new(),
            _writer: w,
        })
    }

    /// The next event; `Ok(None)` when the daemon closed the stream (it shut
    /// down). A refusal from the daemon (e.g. an older daemon without
    /// streams) is a [`ClientError::Protocol`] carrying its message.
    /// Cancel-safe: it may be a `tokio::select!` branch; a partly read line
    /// is kept for the next call.
    pub async fn next(&mut self) -> Result<Option<StreamEvent>, ClientError> {
        match recv(&mut self.reader, &mut self.partial).await? {
            None => Ok(None),
            Some(Response::Event { event }) => Ok(Some(event)),
            Some(Response::Error(e)) => Err(ClientError::Protocol(format!(
                "the daemon refused the subscription: {}",
                e.message
            ))),
            Some(other) => Err(ClientError::Protocol(format!(
                "unexpected response on a subscription: {other:?}"
            ))),
        }
    }
}
