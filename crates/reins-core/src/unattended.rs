//! Why Reins treats an agent session as unattended: the agent will run its
//! tools without asking anyone first.
//!
//! Data only. Which command-line flags and which hook `permission_mode`
//! values mean "unattended" is table data kept elsewhere: the flags in the
//! signature table (`reins-detect`), the modes in the hook table
//! (`reins-approval::hooks`). What Reins then does (the guardrail) lives in
//! `reins-approval::guardrails` and the daemon.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How Reins learnt that a session runs unattended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Unattended {
    /// The agent's process was started with this flag (as written on its
    /// command line, e.g. `--dangerously-skip-permissions` or
    /// `--approval-mode=yolo`).
    CommandLine {
        /// The flag as the signature table spells it.
        flag: String,
    },
    /// The hook payload's `permission_mode` said so (e.g. `bypassPermissions`).
    PermissionMode {
        /// The mode, verbatim from the payload.
        mode: String,
    },
}

impl fmt::Display for Unattended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unattended::CommandLine { flag } => write!(f, "the agent was started with {flag}"),
            Unattended::PermissionMode { mode } => write!(f, "the session runs with {mode}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unattended_reason_reads_as_a_sentence_and_round_trips_through_json() {
        let u = Unattended::CommandLine {
            flag: "--yolo".into(),
        };
        assert_eq!(u.to_string(), "the agent was started with --yolo");
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(json, r#"{"source":"command_line","flag":"--yolo"}"#);
        assert_eq!(serde_json::from_str::<Unattended>(&json).unwrap(), u);
        let m = Unattended::PermissionMode {
            mode: "bypassPermissions".into(),
        };
        assert_eq!(m.to_string(), "the session runs with bypassPermissions");
    }
}
