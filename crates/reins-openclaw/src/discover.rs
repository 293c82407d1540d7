//! Where the local OpenClaw gateway listens and how to authenticate:
//! `gateway.port` and `gateway.auth.token` in `~/.openclaw/openclaw.json`
//! (JSON5; `OPENCLAW_CONFIG_PATH` / `OPENCLAW_STATE_DIR` move it), overridden
//! by `OPENCLAW_GATEWAY_PORT` and `OPENCLAW_GATEWAY_TOKEN`; port 18789 by
//! default. Pure over an injected environment and home directory, so tests
//! never touch the real ones. Not here: connecting.
//!
//! Precedence, as in OpenClaw's own `resolveGatewayPort` and
//! `resolveDefaultConfigCandidates`: port `OPENCLAW_GATEWAY_PORT` (a bare
//! port or `host:port`) > `gateway.port` > 18789; token
//! `OPENCLAW_GATEWAY_TOKEN` > `gateway.auth.token` (a `${VAR}` reference is
//! looked up in the environment); config `OPENCLAW_CONFIG_PATH` >
//! `$OPENCLAW_STATE_DIR/openclaw.json` > `~/.openclaw/openclaw.json`, where
//! `~` is `OPENCLAW_HOME` when set. Not handled: `OPENCLAW_PROFILE`'s derived
//! ports and `$include` files (a profile user sets the port variable).

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
    #[error(
        "OpenClaw's gateway uses auth mode '{0}', which Reins cannot use; switch to token auth (`gateway.auth.mode: \"token\"`)"
    )]
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

/// The largest config file Reins reads (OpenClaw's are a few KiB).
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// The config file path OpenClaw itself would read.
pub fn config_path(env: &dyn Env) -> Option<PathBuf> {
    if let Some(p) = env.var("OPENCLAW_CONFIG_PATH") {
        return Some(expand_home(env, p.trim()));
    }
    if let Some(dir) = env.var("OPENCLAW_STATE_DIR") {
        return Some(expand_home(env, dir.trim()).join("openclaw.json"));
    }
    openclaw_home(env).map(|h| h.join(".openclaw").join("openclaw.json"))
}

/// `OPENCLAW_HOME` (with `~` expanded) or the user's home.
fn openclaw_home(env: &dyn Env) -> Option<PathBuf> {
    match env.var("OPENCLAW_HOME") {
        Some(h) if h.trim() == "~" || h.trim().starts_with("~/") => {
            let rest = h.trim().trim_start_matches('~').trim_start_matches('/');
            env.home().map(|home| home.join(rest))
        }
        Some(h) => Some(PathBuf::from(h.trim())),
        None => env.home(),
    }
}

fn expand_home(env: &dyn Env, p: &str) -> PathBuf {
    if p == "~" || p.starts_with("~/") {
        if let Some(home) = openclaw_home(env) {
            return home.join(p.trim_start_matches('~').trim_start_matches('/'));
        }
    }
    PathBuf::from(p)
}

/// `OPENCLAW_GATEWAY_PORT` as OpenClaw reads it: `18789`, `host:18789` or
/// `[::1]:18789`. Anything else is ignored, as OpenClaw ignores it.
fn parse_port_var(v: &str) -> Option<u16> {
    let v = v.trim();
    let port = if v.bytes().all(|b| b.is_ascii_digit()) {
        v
    } else if let Some(rest) = v.strip_prefix('[') {
        rest.split_once("]:")?.1
    } else {
        let (host, port) = v.split_once(':')?;
        if host.is_empty() || port.contains(':') {
            return None;
        }
        port
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse::<u16>().ok().filter(|p| *p > 0)
}

/// What Reins reads from the config file.
#[derive(Default)]
struct FileConfig {
    port: Option<u16>,
    auth_mode: Option<String>,
    token: Option<TokenValue>,
}

enum TokenValue {
    Text(String),
    /// A SecretRef or another non-string form.
    Other,
}

fn read_config(path: &std::path::Path) -> Result<Option<FileConfig>, DiscoverError> {
    let bad = |why: String| DiscoverError::BadConfig {
        path: path.to_path_buf(),
        why,
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(bad(format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?);
    let value: serde_json::Value = json5::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let Some(root) = value.as_object() else {
        return Err(bad("the top level is not an object".into()));
    };
    let mut out = FileConfig::default();
    let Some(gateway) = root.get("gateway") else {
        return Ok(Some(out));
    };
    let gateway = gateway
        .as_object()
        .ok_or_else(|| bad("`gateway` is not an object".into()))?;
    if let Some(port) = gateway.get("port") {
        let p = port
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("`gateway.port` is not a port: {port}")))?;
        out.port = Some(p);
    }
    if let Some(auth) = gateway.get("auth").and_then(|a| a.as_object()) {
        out.auth_mode = auth.get("mode").and_then(|m| m.as_str()).map(str::to_owned);
        out.token = match auth.get("token") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => None,
            Some(serde_json::Value::String(s)) => Some(TokenValue::Text(s.trim().to_owned())),
            Some(_) => Some(TokenValue::Other),
        };
    }
    Ok(Some(out))
}

/// `${NAME}` → the variable; anything else as is.
fn substitute(env: &dyn Env, token: &str) -> Result<String, DiscoverError> {
    if let Some(name) = token.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        return env.var(name).ok_or_else(|| {
            DiscoverError::NoToken(format!(
                "OpenClaw's `gateway.auth.token` refers to ${{{name}}}, which is not set for Reins"
            ))
        });
    }
    Ok(token.to_owned())
}

/// Work out the gateway to connect to.
pub fn discover(env: &dyn Env) -> Result<GatewayTarget, DiscoverError> {
    let path = config_path(env);
    let file = match &path {
        Some(p) => read_config(p)?,
        None => None,
    };
    let env_port = env
        .var("OPENCLAW_GATEWAY_PORT")
        .and_then(|v| parse_port_var(&v));
    let env_token = env.var("OPENCLAW_GATEWAY_TOKEN");
    if file.is_none() && env_port.is_none() && env_token.is_none() {
        return Err(DiscoverError::NotConfigured(
            path.unwrap_or_else(|| PathBuf::from("~/.openclaw/openclaw.json")),
        ));
    }
    let file = file.unwrap_or_default();
    let port = env_port.or(file.port).unwrap_or(DEFAULT_PORT);
    let config_path = path.filter(|p| p.exists());
    let mode = file.auth_mode.as_deref().map(str::trim).unwrap_or("token");
    let (token, token_source) = match mode {
        "none" => (String::new(), TokenSource::NotNeeded),
        "password" | "trusted-proxy" => return Err(DiscoverError::UnsupportedAuth(mode.into())),
        _ => match (env_token, file.token) {
            (Some(t), _) => (t, TokenSource::Env),
            (None, Some(TokenValue::Text(t))) => (
                substitute(env, &t)?,
                TokenSource::Config(config_path.clone().unwrap_or_default()),
            ),
            (None, Some(TokenValue::Other)) => {
                return Err(DiscoverError::NoToken(
                    "OpenClaw's `gateway.auth.token` is a secret reference, which Reins cannot resolve"
                        .into(),
                ));
            }
            (None, None) => {
                return Err(DiscoverError::NoToken(
                    "OpenClaw's gateway needs a token, but `gateway.auth.token` is not set".into(),
                ));
            }
        },
    };
    Ok(GatewayTarget {
        url: format!("ws://127.0.0.1:{port}"),
        port,
        token: Zeroizing::new(token),
        token_source,
        config_path,
    })
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
