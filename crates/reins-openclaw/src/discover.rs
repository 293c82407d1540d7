//! Where the local OpenClaw gateway listens and how to authenticate:
//! `gateway.port` and `gateway.auth.token` in `~/.openclaw/openclaw.json`
//! (JSON5; `OPENCLAW_CONFIG_PATH` / `OPENCLAW_STATE_DIR` move it), overridden
//! by `OPENCLAW_GATEWAY_PORT` and `OPENCLAW_GATEWAY_TOKEN`; port 18789 by
//! default. Pure over an injected environment and home directory, so tests
//! never touch the real ones. Not here: connecting.
//!
//! TODO(helper A): implement `discover`.

use std::path::PathBuf;
use zeroize::Zeroizing;

/// OpenClaw's default gateway port.
pub const DEFAULT_PORT: u16 = 18789;

/// Where the token came from (shown by `reins doctor`/status, never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `OPENCLAW_GATEWAY_TOKEN`.
    Env,
    /// `gateway.auth.token` in this file.
    Config(PathBuf),
    /// `gateway.auth.mode` is `none`: no token needed.
    NotNeeded,
}

/// A gateway to connect to.
#[derive(Clone)]
pub struct GatewayTarget {
    /// `ws://127.0.0.1:<port>` (always loopback).
    pub url: String,
    /// The port.
    pub port: u16,
    /// The shared token (empty when not needed).
    pub token: Zeroizing<String>,
    /// Where the token came from.
    pub token_source: TokenSource,
    /// The config file read, if one exists.
    pub config_path: Option<PathBuf>,
}

impl std::fmt::Debug for GatewayTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayTarget")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("token_source", &self.token_source)
            .field("config_path", &self.config_path)
            .finish()
    }
}

/// Why no gateway target could be worked out. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// Neither a config file nor `OPENCLAW_GATEWAY_*` variables: OpenClaw is
    /// not set up for this user.
    #[error("OpenClaw is not configured for this user (no {0}); run `openclaw onboard` first")]
    NotConfigured(PathBuf),
    /// The config file exists but does not parse.
    #[error("cannot read OpenClaw's config {path}: {why}; fix it or run `openclaw doctor`")]
    BadConfig {
        /// The file.
        path: PathBuf,
        /// The parse error.
        why: String,
    },
    /// Token auth is on but no token is available in a form Reins can read
    /// (for example a SecretRef).
    #[error("{0}; set OPENCLAW_GATEWAY_TOKEN in the environment Reins' daemon runs in")]
    NoToken(String),
    /// Password auth or a trusted proxy: not supported.
    #[error("OpenClaw's gateway uses auth mode '{0}', which Reins cannot use; switch to token auth (`gateway.auth.mode: \"token\"`)")]
    UnsupportedAuth(String),
}

/// The environment discovery reads: variables and the home directory.
pub trait Env {
    /// A variable, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory.
    fn home(&self) -> Option<PathBuf>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn home(&self) -> Option<PathBuf> {
        std::env::var_os("HOME").map(PathBuf::from)
    }
}

/// The config file path OpenClaw itself would read.
pub fn config_path(env: &dyn Env) -> Option<PathBuf> {
    let _ = env;
    todo!("helper A")
}

/// Work out the gateway to connect to.
pub fn discover(env: &dyn Env) -> Result<GatewayTarget, DiscoverError> {
    let _ = env;
    todo!("helper A")
}
