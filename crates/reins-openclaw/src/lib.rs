//! Reins' link to a local OpenClaw gateway (the WebSocket API on
//! `127.0.0.1:18789`). Reins joins the gateway as an operator client with
//! its own Ed25519 device identity, receives exec and plugin approval
//! requests, sends people's decisions back and can abort a session's run
//! (the soft "stop this run").
//!
//! Layout, core/shell style:
//! - [`discover`]: where the gateway is and its token (`~/.openclaw/openclaw.json`,
//!   `OPENCLAW_*` variables). Pure over an injected environment.
//! - [`device`]: the device identity and the signed `connect` payload.
//! - [`wire`]: the JSON frames and payloads, strict where it matters and
//!   lenient about fields OpenClaw adds later. Pure.
//! - [`machine`]: the link's state machine (input in, actions out; no sockets).
//! - [`link`]: the one task that owns the WebSocket; a cloneable [`LinkHandle`].
//! - [`owner`]: which detected OpenClaw process listens on the gateway's port.
//! - `fake` (feature `test-support`): a fake gateway written from the
//!   documented protocol, for tests.
//!
//! Not here: what an approval means to Reins (the runtime feeds these into
//! its approval broker), and never any decision: this crate only carries a
//! person's decision to the gateway. Nothing here resolves an approval on
//! its own.

pub mod device;
pub mod discover;
pub mod link;
pub mod machine;
pub mod owner;
pub mod wire;

#[cfg(feature = "test-support")]
pub mod fake;

pub use discover::{DiscoverError, GatewayTarget, TokenSource};
pub use link::{LinkConfig, LinkError, LinkEvent, LinkHandle, LinkOptions, LinkStatus};
pub use wire::{AbortOutcome, ApprovalKind, GatewayApproval, GatewayDecision, ResolvedApproval};
