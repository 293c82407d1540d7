//! The phone web app's server: serves the app bundle (compiled in, or from
//! a directory while developing) over HTTP or HTTPS on the LAN, and proxies
//! MQTT over WebSocket at `/mqtt` to the embedded broker, so the page and
//! its broker share one origin.
//!
//! It knows nothing of Reins' protocol, pairing or config files: the runtime
//! builds a [`WebConfig`], binds a [`WebServer`], tells it where the broker's
//! WebSocket listener is, and runs [`WebServer::serve`] as one task.
//! Everything the phone and the daemon say to each other is sealed end to
//! end; this server only carries it. On plain HTTP, anyone on the LAN can
//! alter the page in transit: use HTTPS (`phone.tls_cert`/`tls_key`) or a
//! trusted host (`phone.app_url`) where that matters (see docs/brokers.md).

pub mod bundle;
pub mod headers;
pub mod mime;
pub mod path;
pub mod proxy;
pub mod server;
pub mod tls;

pub use server::{WebConfig, WebError, WebServer};
pub use tls::{TlsError, TlsFiles};
