//! The Reins runtime: the daemon's tasks and the local surfaces around them.
//!
//! It holds the config loader, the audit log, the IPC protocol with its
//! server and client, the halt controller and the daemon that wires the
//! scanner, controller, audit log and IPC server together. It deliberately
//! holds no tauri and no desktop code: the tray shell and the CLI are thin
//! adapters over [`daemon`] and [`ipc::Client`].

pub mod alerts;
pub mod approvals;
pub mod audit;
pub mod audit_health;
pub mod audit_writer;
pub mod clock;
pub mod config;
mod config_phone;
pub mod controller;
pub mod daemon;
mod daemon_alerts;
mod daemon_approvals;
mod daemon_audit;
mod daemon_latch;
pub mod daemon_openclaw;
mod daemon_phone;
pub mod events;
mod guardrails;
pub mod ipc;
pub mod latch;
pub mod latch_task;
pub mod notifier;
pub mod notify_state;
pub mod notify_text;
pub mod openclaw;
mod openclaw_requests;
pub mod paths;
pub mod phone;
mod phone_alerts;
mod phone_bridge;
mod phone_events;
mod phone_presence;
mod phone_wire;
pub mod registry;
mod subscribe;
pub mod surfaces;
pub mod systemd;
pub mod tripwires;
mod tripwires_watch;
pub mod web;

pub use tokio_util::sync::CancellationToken;
