//! The blocking IPC client: connect, send one request line, read one response line.
//!
//! Deliberately synchronous and allocation-light so that `reins hook` can use
//! it within its start-up budget. It does not retry or start a daemon.

use super::proto::{MAX_LINE, Request, Response};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing is listening: the caller may act directly instead.
    #[error("no Reins daemon is listening on {0}; start one with `reins daemon`")]
    NotRunning(PathBuf),
    /// The connection failed mid-request.
    #[error("lost the connection to the Reins daemon: {0}. Check `reins daemon`'s output")]
    Io(#[from] std::io::Error),
    /// The daemon answered something we do not understand.
    #[error(
        "the Reins daemon sent an invalid response ({0}); are the CLI and daemon the same version?"
    )]
    Protocol(String),
}

/// A connection to the daemon.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connect to the socket at `path`.
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                ClientError::NotRunning(path.to_owned())
            }
            _ => ClientError::Io(e),
        })?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Bound how long a single response may take (None: wait forever).
    pub fn set_timeout(&self, t: Option<Duration>) -> Result<(), ClientError> {
        self.writer.set_read_timeout(t)?;
        Ok(())
    }

    /// Read the next response line without sending anything: the following
    /// events of a `subscribe` stream opened with [`Client::call`].
    pub fn next_response(&mut self) -> Result<Response, ClientError> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 * 64)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        serde_json::from_slice(&buf).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Send one request and wait for its response.
    pub fn call(&mut self, req: &Request) -> Result<Response, ClientError> {
        let mut line = serde_json::to_vec(req).map_err(|e| ClientError::Protocol(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64 * 64)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Err(ClientError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        serde_json::from_slice(&buf).map_err(|e| ClientError::Protocol(e.to_string()))
    }
}

use std::io::Read as _;
