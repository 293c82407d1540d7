//! The async IPC client this crate uses, from `reins_runtime::ipc`: one
//! request per connection ([`call_async`]) and the subscription stream
//! ([`Subscription`], cancel-safe). It retries nothing and starts no
//! daemon: the connection task in [`crate::conn`] does that.

pub use reins_runtime::ipc::{Subscription, call_async};
