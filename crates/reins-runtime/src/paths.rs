//! Where Reins keeps its files: the XDG config, data and runtime directories.
//!
//! Every directory Reins creates is mode 0700 and owned by the current user;
//! an existing runtime directory that is not is refused, because the IPC
//! socket in it grants control over the user's agents. This module only
//! resolves and prepares paths; it does not open the files in them.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Errors preparing Reins' directories.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// Neither the XDG variable nor `$HOME` is set.
    #[error("cannot find a home for Reins' files: set $HOME or ${var}")]
    NoHome {
        /// The XDG variable consulted.
        var: &'static str,
    },
    /// A directory could not be created or checked.
    #[error("cannot prepare directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The runtime directory exists but is not private to this user.
    #[error(
        "{path} is not a private directory of this user (owner uid {uid}, mode {mode:o}); \
         remove it or set $XDG_RUNTIME_DIR to a directory only you can write"
    )]
    Insecure {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// Its permission bits.
        mode: u32,
    },
}

/// The resolved set of Reins paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// `$XDG_CONFIG_HOME/reins`.
    pub config_dir: PathBuf,
    /// `$XDG_DATA_HOME/reins`.
    pub data_dir: PathBuf,
    /// `$XDG_RUNTIME_DIR/reins`, or `/tmp/reins-<uid>` without one.
    pub runtime_dir: PathBuf,
}

impl Paths {
    /// Resolve from the process environment.
    pub fn from_env() -> Result<Self, PathError> {
        Self::from_lookup(|k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// Resolve with an explicit environment lookup (for tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<PathBuf>) -> Result<Self, PathError> {
        let home = get("HOME");
        let xdg = |var: &'static str, fallback: &str| -> Result<PathBuf, PathError> {
            get(var)
                .or_else(|| home.as_ref().map(|h| h.join(fallback)))
                .map(|p| p.join("reins"))
                .ok_or(PathError::NoHome { var })
        };
        // SAFETY: getuid cannot fail and has no preconditions.
        let uid = unsafe { libc::getuid() };
        let runtime_dir = get("XDG_RUNTIME_DIR")
            .map(|p| p.join("reins"))
            .unwrap_or_else(|| std::env::temp_dir().join(format!("reins-{uid}")));
        Ok(Paths {
            config_dir: xdg("XDG_CONFIG_HOME", ".config")?,
            data_dir: xdg("XDG_DATA_HOME", ".local/share")?,
            runtime_dir,
        })
    }

    /// The default config file.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    /// The approval policy file.
    pub fn policy_file(&self) -> PathBuf {
        self.config_dir.join("policy.toml")
    }

    /// The IPC socket.
    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("reins.sock")
    }

    /// The audit log.
    pub fn audit_log(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }
}

/// Create `dir` (and parents) with mode 0700, or check that the existing one
/// belongs to us and is not accessible to anyone else.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PathError> {
    let io = |source| PathError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    let meta = std::fs::metadata(dir).map_err(io)?;
    // SAFETY: getuid cannot fail and has no preconditions.
    let uid = unsafe { libc::getuid() };
    let mode = meta.permissions().mode() & 0o777;
    if meta.uid() != uid {
        return Err(PathError::Insecure {
            path: dir.to_owned(),
            uid: meta.uid(),
            mode,
        });
    }
    if mode & 0o077 != 0 {
        // We own it: tighten it rather than refuse.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_variables_win_over_home() {
        let p = Paths::from_lookup(|k| match k {
            "HOME" => Some("/h".into()),
            "XDG_DATA_HOME" => Some("/d".into()),
            "XDG_RUNTIME_DIR" => Some("/run/user/1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(p.data_dir, PathBuf::from("/d/reins"));
        assert_eq!(p.config_dir, PathBuf::from("/h/.config/reins"));
        assert_eq!(p.socket(), PathBuf::from("/run/user/1/reins/reins.sock"));
    }

    #[test]
    fn a_created_directory_is_private() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        ensure_private_dir(&d).unwrap();
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn a_group_readable_directory_we_own_is_tightened() {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(t.path()).unwrap();
        let mode = std::fs::metadata(t.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
