//! The Settings screen: read `config.toml` (`link.enabled`, `link.broker`,
//! `halt.grace_ms`) and the policy file (`[approvals] timeout_secs`,
//! `on_timeout`), validate every field, and save both files all at once or
//! not at all.
//!
//! Saving: every field is checked first and all field errors come back
//! together; the new texts are made with `toml_edit` (comments and layout
//! kept, only changed or already-present keys touched) and parsed with the
//! daemon's own loaders *before* anything is written; each file is written
//! to a temp file and renamed over the old one; if the second write fails
//! the first is put back; then both are loaded from disk again to prove
//! they parse. The daemon reads these files at start: changes apply when it
//! restarts ([`crate::Desktop::restart_daemon`]).
//!
//! `start_at_login` belongs to the shell (its autostart plugin): this
//! module reports it as `false` and never reads or writes it; the shell
//! fills it in and applies it itself.

use crate::core::Desktop;
use crate::view::{SettingsError, SettingsField, SettingsView, UiError};
use reins_approval::policy::{ApprovalSettings, MAX_TIMEOUT_SECS, Policy, TimeoutOutcome};
use reins_runtime::config::{Config, ConfigError};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Table, Value};

/// The shortest stop grace accepted (ms).
pub const MIN_GRACE_MS: u32 = 100;
/// The longest stop grace the config accepts (ms).
pub const MAX_GRACE_MS: u32 = 60_000;

/// The two files the Settings screen edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsFiles {
    /// `config.toml`.
    pub config: PathBuf,
    /// The approval policy file.
    pub policy: PathBuf,
}

fn files_error(message: impl Into<String>) -> UiError {
    let message = message.into();
    UiError::fields(
        format!("Nothing was saved: {message}"),
        vec![SettingsError {
            field: SettingsField::Files,
            message,
        }],
    )
}

fn read_opt(path: &Path) -> Result<Option<String>, UiError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(UiError::new(format!(
            "Cannot read {}: {e}. Check the file's permissions.",
            path.display()
        ))),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The config as the file alone says (no environment overrides: those are
/// not what the person edits).
fn parse_config(path: &Path, text: Option<&str>) -> Result<Config, ConfigError> {
    Config::from_parts(path, text, std::iter::empty())
}

fn parse_approvals(path: &Path, text: Option<&str>) -> Result<ApprovalSettings, UiError> {
    match text {
        None => Ok(ApprovalSettings::default()),
        Some(t) => Policy::from_toml_str(t, path, home().as_deref())
            .map(|p| p.approvals)
            .map_err(|e| UiError::new(format!("{e}. Fix the policy file first."))),
    }
}

/// The settings in the files now.
pub fn read_settings(files: &SettingsFiles) -> Result<SettingsView, UiError> {
    let config_text = read_opt(&files.config)?;
    let config = parse_config(&files.config, config_text.as_deref())
        .map_err(|e| UiError::new(e.to_string()))?;
    let approvals = parse_approvals(&files.policy, read_opt(&files.policy)?.as_deref())?;
    Ok(SettingsView {
        link_enabled: config.link.enabled,
        broker: if config.link.embedded() {
            "embedded".into()
        } else {
            config.link.broker.trim().to_owned()
        },
        policy_file: files.policy.display().to_string(),
        approval_timeout_secs: approvals.timeout_secs as u32,
        on_timeout: match approvals.on_timeout {
            TimeoutOutcome::Abstain => "abstain".into(),
            TimeoutOutcome::Deny => "deny".into(),
        },
        stop_grace_ms: u32::try_from(config.halt.grace_ms).unwrap_or(u32::MAX),
        start_at_login: false,
    })
}

/// Every field error of `v` (empty: all valid).
pub fn validate(v: &SettingsView) -> Vec<SettingsError> {
    let mut out = Vec::new();
    let mut err = |field, message: String| out.push(SettingsError { field, message });
    let broker = v.broker.trim();
    if broker != "embedded" {
        let scheme_ok = ["mqtt://", "mqtts://", "ws://", "wss://"]
            .iter()
            .any(|s| broker.starts_with(s));
        if !scheme_ok {
            err(
                SettingsField::Broker,
                "Enter `embedded`, or a broker URL starting with mqtt://, mqtts://, ws:// or \
                 wss://, e.g. mqtts://broker.example.com:8883"
                    .into(),
            );
        } else if let Err(e) = reins_link::BrokerConfig::parse(broker) {
            err(SettingsField::Broker, e.to_string());
        }
    }
    if !(1..=MAX_TIMEOUT_SECS).contains(&u64::from(v.approval_timeout_secs)) {
        err(
            SettingsField::ApprovalTimeoutSecs,
            format!("Enter 1 to {MAX_TIMEOUT_SECS} seconds."),
        );
    }
    match v.on_timeout.as_str() {
        "abstain" | "deny" => {}
        "allow" => err(
            SettingsField::OnTimeout,
            "Reins never approves by default: choose abstain (the agent asks in its own \
             terminal) or deny."
                .into(),
        ),
        _ => err(SettingsField::OnTimeout, "Choose abstain or deny.".into()),
    }
    if !(MIN_GRACE_MS..=MAX_GRACE_MS).contains(&v.stop_grace_ms) {
        err(
            SettingsField::StopGraceMs,
            format!("Enter {MIN_GRACE_MS} to {MAX_GRACE_MS} milliseconds."),
        );
    }
    out
}

/// Set `section.key` to `v`, keeping the old value's comments; only when the
/// key is already in the file or `changed` (so defaults are not written out).
fn set(
    doc: &mut DocumentMut,
    section: &str,
    key: &str,
    mut v: Value,
    changed: bool,
) -> Result<(), String> {
    let present = doc
        .get(section)
        .and_then(Item::as_table_like)
        .is_some_and(|t| t.contains_key(key));
    if !present && !changed {
        return Ok(());
    }
    let item = doc
        .as_table_mut()
        .entry(section)
        .or_insert_with(|| Item::Table(Table::new()));
    let table = item
        .as_table_like_mut()
        .ok_or_else(|| format!("`{section}` in the file is not a section; fix it by hand"))?;
    match table.get_mut(key) {
        Some(old) => {
            if let Some(old_v) = old.as_value() {
                *v.decor_mut() = old_v.decor().clone();
            }
            *old = Item::Value(v);
        }
        None => {
            table.insert(key, Item::Value(v));
        }
    }
    Ok(())
}

fn edit(text: Option<&str>, path: &Path) -> Result<DocumentMut, UiError> {
    text.unwrap_or("").parse::<DocumentMut>().map_err(|e| {
        files_error(format!(
            "{} is not valid TOML ({e}); fix it by hand",
            path.display()
        ))
    })
}

/// The new texts of both files for `v` (validated), from their old texts.
pub fn new_texts(
    files: &SettingsFiles,
    v: &SettingsView,
    config_old: Option<&str>,
    policy_old: Option<&str>,
) -> Result<(String, String), UiError> {
    let config =
        parse_config(&files.config, config_old).map_err(|e| files_error(format!("{e}")))?;
    let approvals = parse_approvals(&files.policy, policy_old)?;

    let mut doc = edit(config_old, &files.config)?;
    let broker = match v.broker.trim() {
        "embedded" => "",
        b => b,
    };
    set(
        &mut doc,
        "link",
        "enabled",
        v.link_enabled.into(),
        v.link_enabled != config.link.enabled,
    )
    .map_err(files_error)?;
    set(
        &mut doc,
        "link",
        "broker",
        broker.into(),
        broker != config.link.broker.trim(),
    )
    .map_err(files_error)?;
    let grace = u64::from(v.stop_grace_ms);
    set(
        &mut doc,
        "halt",
        "grace_ms",
        (grace as i64).into(),
        grace != config.halt.grace_ms,
    )
    .map_err(files_error)?;
    let config_new = doc.to_string();

    let mut pdoc = edit(policy_old, &files.policy)?;
    let timeout = u64::from(v.approval_timeout_secs);
    let on_timeout = v.on_timeout.as_str();
    let old_on_timeout = match approvals.on_timeout {
        TimeoutOutcome::Abstain => "abstain",
        TimeoutOutcome::Deny => "deny",
    };
    set(
        &mut pdoc,
        "approvals",
        "timeout_secs",
        (timeout as i64).into(),
        timeout != approvals.timeout_secs,
    )
    .map_err(files_error)?;
    set(
        &mut pdoc,
        "approvals",
        "on_timeout",
        on_timeout.into(),
        on_timeout != old_on_timeout,
    )
    .map_err(files_error)?;
    let policy_new = pdoc.to_string();
    Ok((config_new, policy_new))
}

/// Why the new texts do not load, per field where it can tell.
fn check_texts(files: &SettingsFiles, config: &str, policy: &str) -> Result<(), UiError> {
    if let Err(e) = parse_config(&files.config, Some(config)) {
        let field = match &e {
            ConfigError::Invalid { key, .. } if key.starts_with("link.") => SettingsField::Broker,
            ConfigError::Invalid { key, .. } if key.starts_with("halt.") => {
                SettingsField::StopGraceMs
            }
            _ => SettingsField::Files,
        };
        return Err(UiError::fields(
            format!("Nothing was saved: {e}"),
            vec![SettingsError {
                field,
                message: e.to_string(),
            }],
        ));
    }
    Policy::from_toml_str(policy, &files.policy, home().as_deref())
        .map_err(|e| files_error(e.to_string()))?;
    Ok(())
}

/// Write `text` to `path` through a temp file in the same directory and a
/// rename, keeping the old file's mode (0600 for a new file).
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    reins_runtime::paths::ensure_private_dir(dir).map_err(std::io::Error::other)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mode = std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o777);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One file to change: its path, its old text (`None`: did not exist), its new text.
pub type Change = (PathBuf, Option<String>, String);

/// Write every change with `write`, or none: when one fails, the ones
/// already written are put back (or removed if they did not exist).
pub fn commit_all(
    changes: &[Change],
    write: &mut dyn FnMut(&Path, &str) -> std::io::Result<()>,
) -> Result<(), UiError> {
    for (i, (path, _, new)) in changes.iter().enumerate() {
        if let Err(e) = write(path, new) {
            let mut unrestored = Vec::new();
            for (p, old, _) in changes[..i].iter().rev() {
                let undo = match old {
                    Some(old) => write(p, old),
                    None => std::fs::remove_file(p),
                };
                if undo.is_err() {
                    unrestored.push(p.display().to_string());
                }
            }
            let mut msg = format!("could not write {} ({e})", path.display());
            if !unrestored.is_empty() {
                msg.push_str(&format!(
                    "; and could not put back {} — check it by hand",
                    unrestored.join(", ")
                ));
            }
            return Err(files_error(msg));
        }
    }
    Ok(())
}

/// Validate and save `v` with `write` for each file (tests inject failures).
pub fn save_with(
    files: &SettingsFiles,
    v: &SettingsView,
    write: &mut dyn FnMut(&Path, &str) -> std::io::Result<()>,
) -> Result<(), UiError> {
    let errors = validate(v);
    if !errors.is_empty() {
        return Err(UiError::fields(
            "Nothing was saved: fix the marked fields.",
            errors,
        ));
    }
    let config_old = read_opt(&files.config)?;
    let policy_old = read_opt(&files.policy)?;
    let (config_new, policy_new) =
        new_texts(files, v, config_old.as_deref(), policy_old.as_deref())?;
    check_texts(files, &config_new, &policy_new)?;
    let changes: Vec<Change> = [
        (files.config.clone(), config_old, config_new),
        (files.policy.clone(), policy_old, policy_new),
    ]
    .into_iter()
    .filter(|(_, old, new)| old.as_deref().unwrap_or("") != new.as_str())
    .collect();
    commit_all(&changes, write)?;
    // Prove it with the real loaders, reading back what is on disk.
    let reloaded = Config::load(&files.config)
        .map(|_| ())
        .map_err(|e| e.to_string())
        .and_then(|()| {
            if files.policy.exists() {
                Policy::load(&files.policy)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            } else {
                Ok(())
            }
        });
    if let Err(e) = reloaded {
        let undo: Vec<Change> = changes
            .into_iter()
            .map(|(p, old, new)| (p, Some(new), old.unwrap_or_default()))
            .collect();
        let _ = commit_all(&undo, write);
        return Err(files_error(format!(
            "the saved files did not load again ({e}); the old ones were put back"
        )));
    }
    Ok(())
}

impl Desktop {
    /// The files the Settings screen edits.
    pub fn settings_files(&self) -> Result<SettingsFiles, UiError> {
        Ok(SettingsFiles {
            config: self.config_file()?,
            policy: self.paths()?.policy_file(),
        })
    }

    /// The settings now. `start_at_login` is always `false` here: the
    /// shell owns it and fills it in.
    pub fn settings(&self) -> Result<SettingsView, UiError> {
        read_settings(&self.settings_files()?)
    }

    /// Validate and save. `start_at_login` is ignored (the shell applies
    /// it). The daemon applies the rest when it restarts.
    pub fn save_settings(&self, v: &SettingsView) -> Result<(), UiError> {
        save_with(&self.settings_files()?, v, &mut write_atomic)
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
