//! The daemon's configuration: TOML at `$XDG_CONFIG_HOME/reins/config.toml`,
//! with `REINS__SECTION__KEY` environment overrides.
//!
//! Loading is all-or-nothing: a broken file or override is an error naming the
//! file (or variable), the line and the key, and no part of Reins starts
//! half-configured. This module does not watch the file for changes and holds
//! no policy rules (those live in the policy file of `reins-approval`).
//! `config.example.toml` at the repository root documents every key.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::config_phone::{DEFAULT_PHONE_BIND, DEFAULT_PHONE_PORT, PhoneConfig};

/// The prefix of environment overrides: `REINS__SCAN__INTERVAL_MS=500`.
pub const ENV_PREFIX: &str = "REINS__";

/// Top-level configuration.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Agent scanning.
    pub scan: ScanConfig,
    /// Halting.
    pub halt: HaltConfig,
    /// The audit log.
    pub audit: AuditConfig,
    /// Extra agent signatures, added to the built-in table.
    pub signatures: Vec<reins_detect::SignatureSpec>,
    /// The phone link.
    pub link: LinkConfig,
    /// The phone web app.
    pub phone: PhoneConfig,
    /// Desktop notifications.
    pub notify: NotifyConfig,
    /// Messages that freeze their agent (`[stop_words]`, see docs/approvals.md).
    pub stop_words: reins_approval::StopWordsConfig,
    /// OpenClaw's gateway approvals (`[openclaw]`, see docs/openclaw.md).
    pub openclaw: crate::openclaw::OpenClawConfig,
}

/// `[notify]`: desktop notifications (see docs/desktop.md).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifyConfig {
    /// Raise notifications on the session bus's notification server.
    pub enabled: bool,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `[scan]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Milliseconds between scans.
    pub interval_ms: u64,
    /// Use the built-in signature table (Claude Code, Codex, ...). Turning
    /// it off leaves only `[[signatures]]`: useful to watch one custom agent,
    /// and to keep test runs from touching real agents.
    pub builtin_signatures: bool,
}

/// One scan a second keeps the tray current to within a second at well under
/// 1% of a core with hundreds of processes (see docs/performance.md).
pub const DEFAULT_SCAN_INTERVAL_MS: u64 = 1000;

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            interval_ms: DEFAULT_SCAN_INTERVAL_MS,
            builtin_signatures: true,
        }
    }
}

/// `[halt]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HaltConfig {
    /// Milliseconds between SIGTERM and SIGKILL.
    pub grace_ms: u64,
    /// Seconds after a verified stop at which the daemon checks whether the
    /// agent came back (0: no check).
    pub recheck_after_s: u64,
}

/// OpenClaw's systemd unit restarts the gateway 5 s after it exits
/// (`RestartSec=5`), launchd after its 5 s `ThrottleInterval`, and the exit
/// happens during the stop, before it is verified: a check 7 s after the
/// verified stop sees that respawn with 2 s to spare on a loaded machine,
/// while a person watching still gets the answer within seconds.
pub const DEFAULT_RECHECK_AFTER_S: u64 = 7;

impl Default for HaltConfig {
    fn default() -> Self {
        Self {
            grace_ms: reins_core::halt::DEFAULT_GRACE.as_millis() as u64,
            recheck_after_s: DEFAULT_RECHECK_AFTER_S,
        }
    }
}

/// `[audit]`
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Where the log lives; default `$XDG_DATA_HOME/reins/audit.jsonl`.
    pub path: Option<PathBuf>,
}

/// `[link]`: the phone link (see docs/brokers.md).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    /// Run the phone link at all.
    pub enabled: bool,
    /// The broker URL; empty starts the embedded broker.
    pub broker: String,
    /// Broker username, if it wants one.
    pub username: Option<String>,
    /// Broker password, if it wants one. Never printed.
    pub password: Option<String>,
    /// PEM CA bundle for an `mqtts://`/`wss://` broker with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Where the embedded broker listens.
    pub embedded_bind: String,
    /// The embedded broker's MQTT/TCP port; 0 picks a free one.
    pub embedded_tcp_port: u16,
    /// The embedded broker's WebSocket port; 0 picks a free one.
    pub embedded_ws_port: u16,
    /// Broker URLs written into the pairing QR code (what the phone uses);
    /// empty derives them from the broker.
    pub phone_urls: Vec<String>,
    /// Prefix of the pair topics of phones paired from now on: empty, or
    /// `[A-Za-z0-9_/-]{1,64}` ending in `/` (for broker ACLs).
    pub topic_prefix: String,
    /// MQTT keep-alive in seconds: a broker that answers no ping for about
    /// twice this is dropped and reconnected (1..=[`MAX_KEEP_ALIVE_S`]).
    pub keep_alive_s: u64,
}

/// An hour: beyond it a dead or black-holed broker would go unnoticed for
/// hours, and brokers often refuse longer keep-alives anyway.
pub const MAX_KEEP_ALIVE_S: u64 = 3600;

/// The embedded broker listens on every interface so phones on the same
/// LAN can reach it (everything on it is end-to-end sealed).
pub const DEFAULT_EMBEDDED_BIND: &str = "0.0.0.0";
/// The IANA MQTT port.
pub const DEFAULT_EMBEDDED_TCP_PORT: u16 = 1883;
/// The port Mosquitto and EMQX examples use for MQTT over WebSockets.
pub const DEFAULT_EMBEDDED_WS_PORT: u16 = 8083;

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            broker: String::new(),
            username: None,
            password: None,
            ca_file: None,
            embedded_bind: DEFAULT_EMBEDDED_BIND.into(),
            embedded_tcp_port: DEFAULT_EMBEDDED_TCP_PORT,
            embedded_ws_port: DEFAULT_EMBEDDED_WS_PORT,
            phone_urls: Vec::new(),
            topic_prefix: String::new(),
            keep_alive_s: reins_link::broker_url::KEEP_ALIVE.as_secs(),
        }
    }
}

impl LinkConfig {
    /// True when the daemon starts its own broker.
    pub fn embedded(&self) -> bool {
        self.broker.trim().is_empty()
    }

    /// The embedded broker's bind address (validated on load).
    pub fn bind_addr(&self) -> std::net::IpAddr {
        self.embedded_bind
            .parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// The external broker, with credentials and CA file (None: embedded).
    pub fn broker_config(
        &self,
    ) -> Result<Option<reins_link::BrokerConfig>, reins_link::broker_url::BrokerUrlError> {
        if self.embedded() {
            return Ok(None);
        }
        let mut b = reins_link::BrokerConfig::parse(self.broker.trim())?;
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            b = b.with_credentials(u, p);
        }
        if let Some(ca) = &self.ca_file {
            b = b.with_ca_file(ca.clone());
        }
        Ok(Some(b))
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Err(e) = self.broker_config() {
            return Err(("link.broker", e.to_string()));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err((
                "link.password",
                "set both link.username and link.password, or neither".into(),
            ));
        }
        if self.embedded() && (self.username.is_some() || self.ca_file.is_some()) {
            return Err((
                "link.broker",
                "credentials and ca_file apply to an external broker; set link.broker too".into(),
            ));
        }
        if self.embedded_bind.parse::<std::net::IpAddr>().is_err() {
            return Err((
                "link.embedded_bind",
                format!("'{}' is not an IP address", self.embedded_bind),
            ));
        }
        let (t, w) = (self.embedded_tcp_port, self.embedded_ws_port);
        if t != 0 && t == w {
            return Err((
                "link.embedded_ws_port",
                format!("{w} is also link.embedded_tcp_port; pick two different ports (or 0)"),
            ));
        }
        if !(1..=MAX_KEEP_ALIVE_S).contains(&self.keep_alive_s) {
            return Err((
                "link.keep_alive_s",
                format!(
                    "{} is not between 1 and {MAX_KEEP_ALIVE_S}",
                    self.keep_alive_s
                ),
            ));
        }
        let p = &self.topic_prefix;
        let prefix_ok = p.is_empty()
            || (p.len() <= 64
                && p.ends_with('/')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_/-".contains(&b)));
        if !prefix_ok {
            return Err((
                "link.topic_prefix",
                format!(
                    "'{p}' must be empty or up to 64 of A-Z a-z 0-9 _ / - ending in '/', e.g. \"reins/\""
                ),
            ));
        }
        for url in &self.phone_urls {
            if let Err(e) = reins_link::BrokerConfig::parse(url) {
                return Err(("link.phone_urls", e.to_string()));
            }
        }
        Ok(())
    }
}

impl Config {
    /// The scan interval.
    pub fn scan_interval(&self) -> Duration {
        Duration::from_millis(self.scan.interval_ms)
    }

    /// The compiled signature table this config asks for.
    pub fn signature_table(
        &self,
    ) -> Result<reins_detect::SignatureTable, reins_detect::DetectError> {
        if self.scan.builtin_signatures {
            reins_detect::SignatureTable::with_user(&self.signatures)
        } else {
            reins_detect::SignatureTable::user_only(&self.signatures)
        }
    }

    /// True when the daemon serves the phone app: `phone.enabled` and
    /// `link.enabled` (the app is useless without the link).
    pub fn serves_phone_app(&self) -> bool {
        self.phone.enabled && self.link.enabled
    }

    /// How long after a verified stop to check whether the agent came back.
    pub fn recheck_after(&self) -> Option<Duration> {
        (self.halt.recheck_after_s > 0).then(|| Duration::from_secs(self.halt.recheck_after_s))
    }

    /// The halt grace period.
    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.halt.grace_ms)
    }

    /// Load `path` (a missing file means defaults) and apply overrides from
    /// the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Self::from_parts(path, text.as_deref(), std::env::vars())
    }

    /// Load from a file's text and an environment (for tests).
    pub fn from_parts(
        path: &Path,
        text: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = text.unwrap_or("");
        // Pass 1: the file alone, so errors carry its line and key.
        parse_file(path, text)?;
        // Pass 2: the file's table plus overrides.
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| file_error(path, text, e, ""))?;
        let mut applied = Vec::new();
        for (var, raw) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX).map(str::to_owned) else {
                continue;
            };
            let keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            if keys.iter().any(String::is_empty) {
                return Err(ConfigError::Env {
                    var,
                    key: rest,
                    message: "empty key segment".into(),
                });
            }
            set_path(&mut table, &keys, parse_env_value(&raw)).map_err(|message| {
                ConfigError::Env {
                    var: var.clone(),
                    key: keys.join("."),
                    message,
                }
            })?;
            applied.push((var, keys.join(".")));
        }
        let config: Config = if applied.is_empty() {
            parse_file(path, text)?
        } else {
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let var = applied
                    .iter()
                    .find(|(_, k)| key.starts_with(k.as_str()) || k.starts_with(key.as_str()))
                    .map(|(v, _)| v.clone())
                    .unwrap_or_else(|| format!("{ENV_PREFIX}*"));
                ConfigError::Env {
                    var,
                    key,
                    message: e.into_inner().message().to_owned(),
                }
            })?
        };
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| {
            Err(ConfigError::Invalid {
                path: path.to_owned(),
                key: key.into(),
                message,
            })
        };
        if !(100..=60_000).contains(&self.scan.interval_ms) {
            return bad(
                "scan.interval_ms",
                format!("{} is outside 100..=60000", self.scan.interval_ms),
            );
        }
        if self.halt.grace_ms > 60_000 {
            return bad(
                "halt.grace_ms",
                format!("{} is more than 60000 (one minute)", self.halt.grace_ms),
            );
        }
        if self.halt.recheck_after_s > 600 {
            return bad(
                "halt.recheck_after_s",
                format!(
                    "{} is more than 600 (ten minutes); use 0 to turn the check off",
                    self.halt.recheck_after_s
                ),
            );
        }
        if let Err((key, message)) = self.link.validate() {
            return bad(key, message);
        }
        if let Err((key, message)) = self.phone.validate(&self.link) {
            return bad(key, message);
        }
        if let Err(message) = self.stop_words.validate() {
            return bad("stop_words.words", message);
        }
        Ok(())
    }
}

fn parse_file(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| file_error(path, text, e, ""))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        file_error(path, text, e.into_inner(), &key)
    })
}

fn file_error(path: &Path, text: &str, e: toml::de::Error, key: &str) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    ConfigError::File {
        path: path.to_owned(),
        line,
        key: if key.is_empty() || key == "." {
            None
        } else {
            Some(key.to_owned())
        },
        message: e.message().trim().to_owned(),
    }
}

/// Overrides are TOML values when they parse as one (`500`, `true`,
/// `["a"]`), and plain strings otherwise.
fn parse_env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    let (last, parents) = keys.split_last().ok_or("no key")?;
    let mut t = table;
    for k in parents {
        let entry = t
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        t = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{k}` is not a section"))?;
    }
    t.insert(last.clone(), value);
    Ok(())
}

/// Configuration errors. Each names where to look.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a bad key or value.
    #[error("{}{}{}: {message}. Fix the file (see config.example.toml) and start again; nothing was started",
        path.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default(),
        key.as_ref().map(|k| format!(" at key `{k}`")).unwrap_or_default())]
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// Dotted key path, when known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// An environment override is invalid.
    #[error(
        "environment variable {var} (key `{key}`): {message}. Fix or unset it; nothing was started"
    )]
    Env {
        /// The variable.
        var: String,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A value parses but is out of range.
    #[error("{}: key `{key}`: {message}. Fix the value and start again; nothing was started", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
