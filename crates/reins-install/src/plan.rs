//! The result of planning: the exact before/after text of every file, plus
//! messages for the user, and the means to show it (`diff`) or write it
//! (`apply`).
//!
//! A `Plan` is inert data; building one never touches the disk beyond
//! reading. This is the `--print` mode: call [`Plan::diff`] and stop.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use similar::TextDiff;

use crate::error::InstallError;
use crate::fsio;

/// One file the plan creates, rewrites or deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The config file.
    pub path: PathBuf,
    /// Its current text; `None` if it does not exist yet.
    pub before: Option<String>,
    /// Its new text; `None` if the plan deletes it (only files Reins owns).
    pub after: Option<String>,
}

impl FileChange {
    /// Unified diff of this change, with `/dev/null` for a missing side.
    pub fn diff(&self) -> String {
        let shown = self.path.display().to_string();
        let old_name = if self.before.is_some() {
            shown.as_str()
        } else {
            "/dev/null"
        };
        let new_name = if self.after.is_some() {
            shown.as_str()
        } else {
            "/dev/null"
        };
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        let mut out = TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(3)
            .header(old_name, new_name)
            .to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

/// Everything `install`/`uninstall` would do for one agent and scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Files that actually change. Unchanged files are not listed, so an
    /// empty list means "already in the requested state".
    pub changes: Vec<FileChange>,
    /// Things the user should know (e.g. Codex's `/hooks` trust step).
    pub notices: Vec<String>,
    /// Settings Reins would need but that belong to the user; left untouched.
    /// The caller should show these prominently.
    pub conflicts: Vec<String>,
    /// Directories Reins owns that [`Plan::apply`] removes once the changes
    /// leave them empty (the OpenClaw plugin's directory on uninstall). A
    /// directory that still holds anything is left alone.
    pub remove_empty_dirs: Vec<PathBuf>,
    /// Files Reins ships itself (the OpenClaw plugin, whose exact text the
    /// binary holds): [`Plan::apply`] replaces or deletes them without a
    /// backup, so their directory holds only them.
    pub owned_files: Vec<PathBuf>,
}

/// What [`Plan::apply`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Files written or deleted.
    pub written: Vec<PathBuf>,
    /// Backups made of files that existed before.
    pub backups: Vec<PathBuf>,
}

impl Plan {
    /// True when applying would change nothing.
    pub fn is_noop(&self) -> bool {
        self.changes.is_empty()
    }

    /// Unified diff of every change (empty string if nothing changes).
    pub fn diff(&self) -> String {
        self.changes.iter().map(FileChange::diff).collect()
    }

    /// Write the plan: for each changed file, back up the existing file to
    /// `<file>.reins-backup-<UTC yyyymmddThhmmss>` (from `now`), then write
    /// atomically (temp file + rename, keeping the file's mode), creating
    /// parent directories as needed.
    ///
    /// Each file is re-read first; if it no longer matches what was planned,
    /// nothing more is written and [`InstallError::ChangedSincePlan`] is
    /// returned. Files are applied in order, so with several files (Codex) an
    /// I/O failure part-way can leave earlier files written; their backups
    /// stay on disk next to them.
    pub fn apply(&self, now: SystemTime) -> Result<Applied, InstallError> {
        let stamp = fsio::utc_stamp(now);
        let mut applied = Applied::default();
        for change in &self.changes {
            let current = crate::jsonfile::read_text(&change.path)?;
            if current != change.before {
                return Err(InstallError::ChangedSincePlan {
                    path: change.path.clone(),
                });
            }
            if change.before.is_some() && !self.owned_files.contains(&change.path) {
                applied.backups.push(fsio::backup(&change.path, &stamp)?);
            }
            match &change.after {
                Some(text) => fsio::write_atomic(&change.path, text)?,
                None => fsio::remove(&change.path)?,
            }
            applied.written.push(change.path.clone());
        }
        for dir in &self.remove_empty_dirs {
            // Fails harmlessly (ENOTEMPTY, ENOENT) when it is not ours to remove.
            let _ = std::fs::remove_dir(dir);
        }
        Ok(applied)
    }

    pub(crate) fn push_change(&mut self, change: Option<FileChange>) {
        self.changes.extend(change);
    }

    /// Paths this plan touches (handy for messages).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.changes.iter().map(|c| c.path.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_diffs_against_dev_null() {
        let c = FileChange {
            path: "/h/.claude/settings.json".into(),
            before: None,
            after: Some("{}\n".into()),
        };
        let d = c.diff();
        assert!(
            d.starts_with("--- /dev/null\n+++ /h/.claude/settings.json\n"),
            "{d}"
        );
        assert!(d.contains("+{}"), "{d}");
    }

    #[test]
    fn an_empty_plan_has_an_empty_diff() {
        assert_eq!(Plan::default().diff(), "");
        assert!(Plan::default().is_noop());
    }
}
