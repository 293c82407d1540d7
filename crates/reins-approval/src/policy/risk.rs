//! The risk heuristic shown next to a prompt: Low, Medium or High.
//!
//! Deletions and pushes come from the one action classifier
//! ([`crate::actions`]), which the tripwires share.
//!
//! It only decides how prominently a prompt is shown (and, later, whether a
//! surface asks for hold-to-confirm). It never allows or denies anything.

use serde::{Deserialize, Serialize};

use super::{ActionView, BuiltinRule, shell};

/// How much harm an action could do, for how prominently to show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// Read-only tools.
    Low,
    /// Ordinary commands and edits.
    Medium,
    /// Near a built-in rule, privileged, destructive or secret-adjacent.
    High,
}

/// Tools that only read.
const READ_ONLY_TOOLS: [&str; 14] = [
    "Read",
    "Glob",
    "Grep",
    "LS",
    "WebSearch",
    "read_file",
    "read_many_files",
    "list_directory",
    "glob",
    "search_file_content",
    "google_web_search",
    "view",
    "codebase_search",
    "grep_search",
];

/// True for tools that only read.
pub(crate) fn is_read_only_tool(tool: &str) -> bool {
    READ_ONLY_TOOLS.contains(&tool)
}

pub(crate) fn assess(a: &ActionView<'_>, hits: &[BuiltinRule], tool_paths: &[String]) -> RiskLevel {
    if !hits.is_empty() {
        return RiskLevel::High;
    }
    let env_file = tool_paths.iter().any(|p| {
        let base = p.rsplit('/').next().unwrap_or(p);
        base == ".env" || base.starts_with(".env.")
    });
    if env_file {
        return RiskLevel::High;
    }
    if let Some(cmd) = a.command {
        let script = shell::parse(cmd);
        // Deletions and pushes are classified once, for the tripwires too.
        let actions = crate::actions::classify_parsed(a, Some(&script), &Default::default());
        if actions.bulk_deletion || actions.force_push {
            return RiskLevel::High;
        }
        let high = script.commands().any(|c| {
            let flags = c
                .args
                .iter()
                .filter(|x| x.starts_with('-'))
                .map(String::as_str);
            c.privileged
                || matches!(c.program.as_str(), "curl" | "wget") && cmd.contains('|')
                || c.program == "chmod" && flags.clone().any(|f| f.contains('R'))
                || c.args
                    .iter()
                    .any(|x| x.ends_with(".env") || x.contains("/.env."))
        });
        return if high {
            RiskLevel::High
        } else {
            RiskLevel::Medium
        };
    }
    if crate::actions::classify_parsed(a, None, &Default::default()).bulk_deletion {
        return RiskLevel::High;
    }
    match a.tool_name {
        Some(t) if is_read_only_tool(t) => RiskLevel::Low,
        _ => RiskLevel::Medium,
    }
}
