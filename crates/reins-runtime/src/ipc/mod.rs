//! Local IPC between the `reins` CLI (and the tray) and the daemon.
//!
//! JSON lines over a Unix socket in a mode-0700 directory under
//! `$XDG_RUNTIME_DIR`. Every connection's peer is identified with
//! SO_PEERCRED: a different uid is refused outright, and the peer's PID is
//! recorded with each request so requests from inside an agent's process
//! tree can be refused where that matters (resume, approvals). The client is
//! plain blocking std code so that short-lived callers such as `reins hook`
//! pay no async start-up cost. This module carries no business logic: the
//! daemon implements [`server::Handler`].

pub mod client;
pub mod proto;
pub mod server;
mod subscription;

pub use client::{Client, ClientError};
pub use proto::{
    ClientSurface, ErrorCode, HaltOutcome, HookReport, IpcError, Request, Response, StreamEvent,
    TargetReport,
};
pub use subscription::{Subscription, call_async};
