//! Reins domain types shared by every other crate.
//!
//! This crate is pure data: agent identities and records, halt requests and
//! reports, and who asked for what. It deliberately does no I/O, spawns
//! nothing and knows nothing about tokio, sockets, tauri or the OS, so every
//! other crate (and every surface) can depend on it.

pub mod actor;
pub mod agent;
pub mod alert;
pub mod halt;
pub mod supervisor;
pub mod unattended;

pub use actor::Actor;
pub use agent::{
    AgentId, AgentKind, AgentRecord, AgentState, ParseAgentIdError, ProcessKey, RegistryEvent,
};
pub use alert::{Alert, AlertAction, AlertId, AlertKind};
pub use halt::{
    HaltMethod, HaltOp, HaltOptions, HaltReport, ProcessFate, ProcessReport, UnitActiveState,
    UnitStop, UnitStopResult,
};
pub use supervisor::{Supervisor, UnitScope};
pub use unattended::Unattended;
