//! The approval policy: a built-in catastrophic denylist, then ordered user
//! rules from one TOML file, then the default, `ask`.
//!
//! It answers "what should happen to this action, by which rule, and why"
//! for the hook (`reins hook`), `reins policy test` and `reins policy check`.
//! It is not the broker: an `ask` here means "a person decides", and the
//! broker handles that. Nothing in this module can yield an approval for a
//! timeout: [`TimeoutOutcome`] has no allow variant.
//!
//! # File format
//!
//! ```toml
//! [approvals]
//! timeout_secs = 90        # how long a person has to answer
//! on_timeout = "abstain"   # or "deny"; "allow" is rejected
//!
//! [guardrails]            # agents that run without asking (see `guardrails`)
//! enabled = true           # default
//! risk = "high"            # ask from this risk on: low | medium | high
//! timeout_secs = 120       # how long a person has to answer
//! on_timeout = "deny"      # or "stop-agent"; "allow" and "abstain" are rejected
//!
//! [[rule]]
//! name = "tests are fine"
//! agent = "claude"              # optional: claude|codex|gemini|cursor|copilot
//! tool = "Bash"                 # optional glob on the tool name
//! command = "cargo test*"       # optional glob on the whole command ...
//! # command_regex = "^npm (test|run lint)$"   # ... or an unanchored regex
//! result = "allow"              # allow | ask | deny
//!
//! [[rule]]
//! name = "never touch prod config"
//! path = "~/prod/**"            # glob on file paths in the tool input and the cwd
//! result = "deny"
//! message = "prod config is off limits"
//!
//! [[rule]]
//! name = "I really do wipe build boxes"
//! override_builtin = "rm-recursive-critical"   # only consulted when that built-in fires
//! agent = "codex"
//! result = "ask"                # allow or ask, never deny
//!
//! [tripwires]
//! enabled = true                # false switches every tripwire off
//!
//! [[tripwires.rule]]
//! name = "deletions"            # a built-in name tunes that rule ...
//! threshold = 10
//! window_s = 60
//!
//! [[tripwires.rule]]
//! name = "sql-drops"            # ... any other name adds one
//! counts = "deletion"           # tool_call | deletion | write_outside_project | protected_push
//! threshold = 3
//! window_s = 30
//! per = "session"               # or "agent" (the default)
//! ```

mod builtin;
mod load;
mod paths;
mod risk;
pub(crate) mod shell;

pub use builtin::BuiltinRule;
pub use load::PolicyError;
pub use risk::RiskLevel;
pub(crate) use risk::is_read_only_tool;

use globset::GlobMatcher;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::hooks::{HookAgent, HookInput, HookVerdict};

/// What the policy says about an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyDecision {
    /// Let it run without asking.
    Allow,
    /// A person decides (or the agent's own prompt, when no one is reachable).
    Ask,
    /// Refuse.
    Deny,
}

/// What happens when no one answers in time. There is deliberately no
/// `Allow`: an unanswered prompt is never an approval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutOutcome {
    /// Give no decision: the agent's own prompt takes over.
    #[default]
    Abstain,
    /// Deny the action.
    Deny,
}

impl<'de> Deserialize<'de> for TimeoutOutcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "abstain" => Ok(TimeoutOutcome::Abstain),
            "deny" => Ok(TimeoutOutcome::Deny),
            "allow" => Err(serde::de::Error::custom(
                "\"allow\" is not a timeout outcome: Reins never approves by default; use \"abstain\" or \"deny\"",
            )),
            other => Err(serde::de::Error::custom(format!(
                "unknown timeout outcome \"{other}\": use \"abstain\" or \"deny\""
            ))),
        }
    }
}

/// `[approvals]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ApprovalSettings {
    /// Seconds a person has to answer before `on_timeout` applies.
    pub timeout_secs: u64,
    /// What an unanswered prompt becomes.
    pub on_timeout: TimeoutOutcome,
}

/// Ninety seconds: long enough to reach for a phone, short enough that Codex
/// (whose terminal prompt only appears after the hook returns) does not
/// leave a person at the keyboard locked out for long.
pub const DEFAULT_TIMEOUT_SECS: u64 = 90;

/// One hour. Longer than this and an abandoned prompt outlives its context.
pub const MAX_TIMEOUT_SECS: u64 = 3600;

impl Default for ApprovalSettings {
    fn default() -> Self {
        ApprovalSettings {
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            on_timeout: TimeoutOutcome::Abstain,
        }
    }
}

/// Which rule decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleRef {
    /// A built-in denylist rule.
    Builtin {
        /// Which one.
        rule: BuiltinRule,
    },
    /// A user rule that overrides a built-in rule.
    Override {
        /// The built-in rule overridden.
        builtin: BuiltinRule,
        /// 0-based position of the user rule in the file.
        index: usize,
        /// Its name.
        name: String,
    },
    /// An ordinary user rule.
    User {
        /// 0-based position in the file.
        index: usize,
        /// Its name.
        name: String,
    },
    /// Nothing matched.
    Default,
}

impl std::fmt::Display for RuleRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleRef::Builtin { rule } => write!(f, "built-in rule '{rule}'"),
            RuleRef::Override {
                builtin,
                index,
                name,
            } => {
                write!(
                    f,
                    "rule #{} '{name}' (overrides built-in '{builtin}')",
                    index + 1
                )
            }
            RuleRef::User { index, name } => write!(f, "rule #{} '{name}'", index + 1),
            RuleRef::Default => f.write_str("default (no rule matched)"),
        }
    }
}

/// The result of [`Policy::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Allow, ask or deny.
    pub decision: PolicyDecision,
    /// The rule that decided.
    pub rule: RuleRef,
    /// Human explanation: which rule and why.
    pub reason: String,
    /// The message for the agent on deny (the rule's `message`, or the
    /// built-in rule's description).
    pub message: Option<String>,
    /// Every built-in rule the action tripped, overridden or not.
    pub builtin_hits: Vec<BuiltinRule>,
    /// Risk heuristic for display.
    pub risk: RiskLevel,
}

impl Evaluation {
    /// The hook verdict this evaluation settles on its own: allow or deny.
    /// `None` for ask: a person (or the agent's own prompt) decides.
    pub fn verdict(&self) -> Option<HookVerdict> {
        match self.decision {
            PolicyDecision::Allow => Some(HookVerdict::Allow),
            PolicyDecision::Deny => Some(HookVerdict::Deny {
                message: self
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("Denied by {}", self.rule)),
            }),
            PolicyDecision::Ask => None,
        }
    }
}

/// The part of an action the policy looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct ActionView<'a> {
    /// Which agent, if known.
    pub agent: Option<HookAgent>,
    /// The tool name.
    pub tool_name: Option<&'a str>,
    /// The tool input, exactly as received.
    pub tool_input: Option<&'a Value>,
    /// The shell command, for shell tools.
    pub command: Option<&'a str>,
    /// The agent's working directory.
    pub cwd: Option<&'a str>,
}

impl<'a> From<&'a HookInput> for ActionView<'a> {
    fn from(h: &'a HookInput) -> Self {
        ActionView {
            agent: Some(h.agent),
            tool_name: h.tool_name.as_deref(),
            tool_input: h.tool_input.as_ref(),
            command: h.command.as_deref(),
            cwd: h.cwd.as_deref(),
        }
    }
}

/// Tool-input keys that hold one file path.
const PATH_KEYS: [&str; 10] = [
    "file_path",
    "path",
    "notebook_path",
    "absolute_path",
    "dir_path",
    "file",
    "filename",
    "target_file",
    "old_path",
    "new_path",
];

impl ActionView<'_> {
    /// File paths in the tool input (not the cwd), as written.
    pub fn tool_paths(&self) -> Vec<String> {
        let Some(obj) = crate::hooks::parse_tool_object(self.tool_input) else {
            return vec![];
        };
        let mut out = vec![];
        for k in PATH_KEYS {
            if let Some(s) = obj.get(k).and_then(Value::as_str) {
                out.push(s.to_owned());
            }
        }
        if let Some(arr) = obj.get("paths").and_then(Value::as_array) {
            out.extend(arr.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        out
    }
}

/// A compiled user rule.
#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub name: String,
    pub agent: Option<HookAgent>,
    pub tool: Option<GlobMatcher>,
    pub command: Option<CommandMatcher>,
    pub path: Option<GlobMatcher>,
    pub result: PolicyDecision,
    pub message: Option<String>,
    pub override_builtin: Option<BuiltinRule>,
}

#[derive(Clone, Debug)]
pub(crate) enum CommandMatcher {
    Glob(GlobMatcher),
    Regex(Regex),
}

/// A loaded policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// `[approvals]`.
    pub approvals: ApprovalSettings,
    /// `[guardrails]`: asking a person for unattended agents' risky actions.
    pub guardrails: crate::guardrails::GuardrailSettings,
    /// `[tripwires]`, merged over the built-in defaults.
    pub tripwires: crate::tripwire::TripwireSettings,
    rules: Vec<Rule>,
    home: Option<PathBuf>,
    protected_dirs: Vec<PathBuf>,
    source: Option<PathBuf>,
}

impl Policy {
    /// The built-in denylist only, with default settings.
    pub fn builtin_only(home: Option<&Path>) -> Policy {
        Policy {
            home: home.map(Path::to_path_buf),
            ..Policy::default()
        }
    }

    /// Also treat `dir` as Reins' own (writes to it are denied by
    /// [`BuiltinRule::ReinsSelfTamper`]). The daemon passes its real config
    /// and data directories; `~/.config/reins` and `~/.local/share/reins`
    /// are always protected.
    pub fn protect_dir(&mut self, dir: impl Into<PathBuf>) {
        self.protected_dirs.push(dir.into());
    }

    /// The file this policy came from.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The number of user rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// One line per rule, for `reins policy check`.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = BuiltinRule::ALL
            .iter()
            .map(|r| format!("built-in  deny   {:<22} {}", r.name(), r.description()))
            .collect();
        for (i, r) in self.rules.iter().enumerate() {
            let over = r
                .override_builtin
                .map(|b| format!(" (overrides {b})"))
                .unwrap_or_default();
            out.push(format!(
                "rule #{:<3} {:<6} {}{over}",
                i + 1,
                format!("{:?}", r.result).to_lowercase(),
                r.name
            ));
        }
        out.push("default   ask".to_owned());
        let t = &self.tripwires;
        for r in &t.rules {
            let state = if t.enabled && r.enabled { "on " } else { "off" };
            let per = match r.per {
                crate::tripwire::Scope::Agent => "agent",
                crate::tripwire::Scope::Session => "session",
            };
            out.push(format!(
                "tripwire  {state}    {:<22} {} in {} s, per {per}",
                r.name,
                r.counts.plural(r.threshold),
                r.window_s
            ));
        }
        out
    }

    /// Decide what should happen to `action`.
    pub fn evaluate(&self, action: &ActionView<'_>) -> Evaluation {
        let tool_paths = action.tool_paths();
        let env = builtin::Env {
            home: self.home.as_deref(),
            cwd: action.cwd,
            protected_dirs: &self.protected_dirs,
        };
        let hits = builtin::matches(action.command, action.tool_name, &tool_paths, &env);
        let candidates = self.path_candidates(action, &tool_paths);
        let risk = risk::assess(action, &hits, &tool_paths);

        let mut overrides = vec![];
        for &hit in &hits {
            let found = self.rules.iter().enumerate().find(|(_, r)| {
                r.override_builtin == Some(hit) && self.rule_matches(r, action, &candidates)
            });
            match found {
                Some((i, r)) => overrides.push((hit, i, r)),
                None => {
                    return Evaluation {
                        decision: PolicyDecision::Deny,
                        rule: RuleRef::Builtin { rule: hit },
                        reason: format!(
                            "built-in rule '{hit}': {}; only a rule with override_builtin = \"{hit}\" can change this",
                            hit.description()
                        ),
                        message: Some(format!("Reins blocked this: it {}.", hit.description())),
                        builtin_hits: hits,
                        risk,
                    };
                }
            }
        }
        if let Some(&(builtin, index, rule)) = overrides.iter().max_by_key(|(_, _, r)| r.result) {
            return Evaluation {
                decision: rule.result,
                rule: RuleRef::Override {
                    builtin,
                    index,
                    name: rule.name.clone(),
                },
                reason: format!(
                    "rule #{} '{}' overrides built-in '{builtin}' ({})",
                    index + 1,
                    rule.name,
                    builtin.description()
                ),
                message: rule.message.clone(),
                builtin_hits: hits,
                risk,
            };
        }
        for (index, r) in self.rules.iter().enumerate() {
            if r.override_builtin.is_none() && self.rule_matches(r, action, &candidates) {
                return Evaluation {
                    decision: r.result,
                    rule: RuleRef::User {
                        index,
                        name: r.name.clone(),
                    },
                    reason: format!(
                        "rule #{} '{}' matched: {}",
                        index + 1,
                        r.name,
                        describe_match(r)
                    ),
                    message: r.message.clone(),
                    builtin_hits: hits,
                    risk,
                };
            }
        }
        Evaluation {
            decision: PolicyDecision::Ask,
            rule: RuleRef::Default,
            reason: "no rule matched, so a person decides".to_owned(),
            message: None,
            builtin_hits: hits,
            risk,
        }
    }

    /// Absolute file paths to test `path` globs against: tool paths
    /// (relative ones joined to the cwd) and the cwd itself.
    fn path_candidates(&self, action: &ActionView<'_>, tool_paths: &[String]) -> Vec<String> {
        let mut out: Vec<String> = tool_paths
            .iter()
            .map(|p| match (p.starts_with('/'), action.cwd) {
                (false, Some(cwd)) => Path::new(cwd).join(p).to_string_lossy().into_owned(),
                _ => p.clone(),
            })
            .collect();
        out.extend(action.cwd.map(str::to_owned));
        out
    }

    fn rule_matches(&self, r: &Rule, a: &ActionView<'_>, paths: &[String]) -> bool {
        if r.agent.is_some() && r.agent != a.agent {
            return false;
        }
        if let Some(t) = &r.tool {
            if !a.tool_name.is_some_and(|n| t.is_match(n)) {
                return false;
            }
        }
        if let Some(c) = &r.command {
            let Some(cmd) = a.command else { return false };
            let ok = match c {
                CommandMatcher::Glob(g) => g.is_match(cmd),
                CommandMatcher::Regex(re) => re.is_match(cmd),
            };
            if !ok {
                return false;
            }
        }
        if let Some(p) = &r.path {
            if !paths.iter().any(|c| p.is_match(c)) {
                return false;
            }
        }
        true
    }
}

fn describe_match(r: &Rule) -> String {
    let mut parts = vec![];
    if let Some(a) = r.agent {
        parts.push(format!("agent = {a}"));
    }
    if let Some(t) = &r.tool {
        parts.push(format!("tool ~ {}", t.glob()));
    }
    match &r.command {
        Some(CommandMatcher::Glob(g)) => parts.push(format!("command ~ {}", g.glob())),
        Some(CommandMatcher::Regex(re)) => parts.push(format!("command =~ /{re}/")),
        None => {}
    }
    if let Some(p) = &r.path {
        parts.push(format!("path ~ {}", p.glob()));
    }
    if parts.is_empty() {
        "matches everything".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod builtin_tests;
#[cfg(test)]
mod tests;
