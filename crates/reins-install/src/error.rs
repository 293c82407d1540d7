//! Errors from planning and applying an install.
//!
//! Every variant names the file involved and says what the user can do next,
//! because the CLI prints these verbatim. This is not a generic I/O wrapper:
//! callers never need to add context.

use std::io;
use std::path::PathBuf;

/// Why an install/uninstall could not be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The existing config is not valid JSON/TOML. Nothing was written.
    #[error(
        "{path}:{line}:{column}: not valid {format}: {message}. \
         Nothing was changed; fix the file (or move it aside) and run the command again."
    )]
    Malformed {
        path: PathBuf,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// The file parses but a key Reins must edit has an unexpected type.
    #[error(
        "{path}: {what}. Nothing was changed; fix that part of the file by hand \
         and run the command again."
    )]
    UnexpectedShape { path: PathBuf, what: String },
    /// The file could not be read.
    #[error("cannot read {path}: {source}. Check its permissions and run the command again.")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file (or its backup / temp file / parent dir) could not be written.
    #[error(
        "cannot write {path}: {source}. Check that the directory is writable \
         and run the command again."
    )]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file changed between planning and applying (another program wrote it).
    #[error(
        "{path} changed on disk after the change was planned. Nothing more was written; \
         run the command again to plan against the new contents."
    )]
    ChangedSincePlan { path: PathBuf },
    /// `reins_exe` was not an absolute path; agents run hooks from arbitrary cwds.
    #[error(
        "the reins binary path `{0}` is not absolute. Hooks run from arbitrary \
         directories, so pass the absolute path (e.g. from std::env::current_exe)."
    )]
    RelativeExe(PathBuf),
    /// The agent this install is for is not on this machine (no config, no state).
    #[error(
        "{what} not found at {path}. Install and set it up first (or point the \
         environment at it), then run the command again."
    )]
    NotFound { path: PathBuf, what: String },
    /// Project scope pointed at a relative directory.
    #[error("project directory `{0}` is not absolute; pass an absolute path.")]
    RelativeProject(PathBuf),
}
