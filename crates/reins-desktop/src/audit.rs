//! The audit screen: records read straight from the audit log file (the
//! daemon is not needed to read history), filtered, newest first; and the
//! chain check, naming the first broken line.
//!
//! Read-only: nothing here writes the log. The path is the config's
//! `audit.path`, else the default in the data directory.

use crate::convert::serde_name;
use crate::core::Desktop;
use crate::view::{AuditFilter, AuditRow, UiError, VerifyView};
use reins_runtime::audit::{AuditLog, AuditRecord, Verification};
use reins_runtime::config::Config;
use std::path::{Path, PathBuf};

/// Rows listed when the filter sets no limit.
pub const DEFAULT_LIMIT: u32 = 200;
/// The most rows one call returns.
pub const MAX_LIMIT: u32 = 10_000;

/// One record, flattened.
pub fn audit_row(r: &AuditRecord) -> AuditRow {
    AuditRow {
        seq: r.seq,
        ts_ms: r.ts_ms,
        actor: r.entry.actor.to_string(),
        action: serde_name(&r.entry.action),
        target: r.entry.target.clone(),
        outcome: serde_name(&r.entry.outcome),
        detail: if r.entry.detail.is_null() {
            String::new()
        } else {
            r.entry.detail.to_string()
        },
    }
}

/// The rows `filter` selects from `records` (oldest first), newest first.
pub fn filter_rows(records: &[AuditRecord], filter: &AuditFilter) -> Vec<AuditRow> {
    let limit = filter.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase);
    let action = filter
        .action
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    records
        .iter()
        .rev()
        .map(audit_row)
        .filter(|row| action.is_none_or(|a| row.action == a))
        .filter(|row| {
            text.as_deref().is_none_or(|t| {
                [
                    &row.actor,
                    &row.action,
                    &row.target,
                    &row.outcome,
                    &row.detail,
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(t))
            })
        })
        .take(limit)
        .collect()
}

/// The result of a chain check, for people.
pub fn verify_view(v: &Verification) -> VerifyView {
    match v {
        Verification::Intact {
            records,
            gaps,
            lost,
        } => VerifyView {
            ok: true,
            records: *records,
            first_broken_line: None,
            message: if *gaps == 0 {
                format!("All {records} records chain correctly; nothing was edited.")
            } else {
                format!(
                    "All {records} records chain correctly; nothing was edited. {gaps} gap                      record(s) say {lost} entries could not be written at the time (the disk                      was full or the file unwritable)."
                )
            },
        },
        Verification::Broken { line, reason } => VerifyView {
            ok: false,
            records: line.saturating_sub(1),
            first_broken_line: Some(*line),
            message: format!(
                "Line {line} is broken: {reason}. The log was changed after it was written; \
                 keep a copy of the file for inspection."
            ),
        },
    }
}

/// The audit log's path: the config's `audit.path`, else the default.
pub fn audit_path(config_file: &Path, default: PathBuf) -> Result<PathBuf, UiError> {
    let config = Config::load(config_file)
        .map_err(|e| UiError::new(format!("Cannot read the config to find the audit log: {e}")))?;
    Ok(config.audit.path.unwrap_or(default))
}

impl Desktop {
    fn audit_log(&self) -> Result<AuditLog, UiError> {
        let default = self.paths()?.audit_log();
        Ok(AuditLog::new(audit_path(&self.config_file()?, default)?))
    }

    /// Audit records matching `filter`, newest first.
    pub async fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditRow>, UiError> {
        let log = self.audit_log()?;
        let records = tokio::task::spawn_blocking(move || log.read_all())
            .await
            .map_err(|e| UiError::new(format!("Reading the audit log failed: {e}")))?
            .map_err(|e| UiError::new(format!("{e}. Check the file's permissions.")))?;
        Ok(filter_rows(&records, &filter))
    }

    /// Check the audit log's hash chain.
    pub async fn audit_verify(&self) -> Result<VerifyView, UiError> {
        let log = self.audit_log()?;
        let v = tokio::task::spawn_blocking(move || log.verify())
            .await
            .map_err(|e| UiError::new(format!("Checking the audit log failed: {e}")))?
            .map_err(|e| UiError::new(format!("{e}. Check the file's permissions.")))?;
        Ok(verify_view(&v))
    }
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
