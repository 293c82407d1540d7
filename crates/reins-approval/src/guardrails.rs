//! Guardrails for unattended agents: when an agent runs without asking
//! (Claude Code in `bypassPermissions`, Codex with `--yolo`, ...), Reins
//! becomes the approver of last resort for its high-risk tool calls.
//!
//! Pure decisions, no I/O:
//! - [`GuardrailSettings`]: the policy file's `[guardrails]` table.
//! - [`candidate`]: the hook's question "would this pre-tool event need a
//!   person if the session were unattended?" An explicit `ask` rule of the
//!   user's policy, or a risk at or above the configured level, qualifies;
//!   the policy's fallback ask (no rule matched) alone does not, or every
//!   tool call of an unattended agent would wait.
//! - [`unattended`] and [`decide`]: the daemon's question "is this session
//!   unattended, and must this event wait for a person?", from the hook
//!   payload's `permission_mode` (the hook table) and the agent's command
//!   line (the signature table, via detection).
//! - [`Guardrail::unanswered`]: an unanswered guardrail request is never
//!   allowed and never abstains (there is no prompt to fall back to): it is
//!   denied, or the agent is stopped, with a message saying why and what to do.
//!
//! Not here: holding the hook (the daemon's approvals task and broker) and
//! the audit log (the daemon).

use reins_core::Unattended;
use serde::{Deserialize, Serialize};

use crate::broker::WithdrawReason;
use crate::hooks::{HookAgent, HookEvent, HookVerdict, is_pre_tool};
use crate::policy::{Evaluation, PolicyDecision, RiskLevel, RuleRef};

/// Two minutes: a guardrail request holds an agent that is working on its
/// own, usually while its person is away from the keyboard; that is long
/// enough to notice a phone notification, and a denied call costs the agent
/// only a retry later.
pub const DEFAULT_GUARDRAIL_TIMEOUT_SECS: u64 = 120;

/// What an unanswered guardrail request becomes. There is no allow and no
/// abstain: in an unattended session nobody else would ever be asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GuardrailTimeout {
    /// Deny the tool call; the agent carries on without it.
    #[default]
    Deny,
    /// Deny it and ask the agent to stop (where its hooks can say so).
    StopAgent,
}

impl<'de> Deserialize<'de> for GuardrailTimeout {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "deny" => Ok(GuardrailTimeout::Deny),
            "stop-agent" => Ok(GuardrailTimeout::StopAgent),
            "allow" | "abstain" => Err(serde::de::Error::custom(format!(
                "\"{s}\" is not allowed here: an unattended agent has no prompt of its own to fall back to, \
                 so an unanswered guardrail request is never let through; use \"deny\" or \"stop-agent\""
            ))),
            other => Err(serde::de::Error::custom(format!(
                "unknown guardrail timeout outcome \"{other}\": use \"deny\" or \"stop-agent\""
            ))),
        }
    }
}

/// `[guardrails]` in the policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GuardrailSettings {
    /// Ask a person for unattended agents' risky actions at all.
    pub enabled: bool,
    /// The risk from which an action is asked about even with no `ask` rule.
    pub risk: RiskLevel,
    /// Seconds a person has to answer.
    pub timeout_secs: u64,
    /// What an unanswered request becomes.
    pub on_timeout: GuardrailTimeout,
}

impl Default for GuardrailSettings {
    fn default() -> Self {
        GuardrailSettings {
            enabled: true,
            risk: RiskLevel::High,
            timeout_secs: DEFAULT_GUARDRAIL_TIMEOUT_SECS,
            on_timeout: GuardrailTimeout::Deny,
        }
    }
}

/// Why an action qualifies for a guardrail request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GuardReason {
    /// One of the user's rules says `ask`.
    AskRule {
        /// The rule, as the policy names it.
        rule: String,
    },
    /// Its risk reaches the configured level.
    Risk {
        /// The action's risk.
        risk: RiskLevel,
    },
}

impl std::fmt::Display for GuardReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardReason::AskRule { rule } => write!(f, "{rule} says ask"),
            GuardReason::Risk { risk } => {
                write!(f, "its risk is {}", format!("{risk:?}").to_lowercase())
            }
        }
    }
}

/// What a hook tells the daemon about a pre-tool event that would need a
/// person if its session runs unattended. The daemon decides whether it does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailAsk {
    /// Why it qualifies.
    pub why: GuardReason,
    /// How long a person has to answer, in ms.
    pub timeout_ms: u64,
    /// What an unanswered request becomes.
    pub on_timeout: GuardrailTimeout,
}

/// The hook's side: does this event qualify for a guardrail request?
/// `None` when guardrails are off, the event is not a pre-tool gate, there
/// is no evaluation, the policy already allows or denies, or the policy only
/// asks because no rule matched and the risk is below the level.
pub fn candidate(
    settings: &GuardrailSettings,
    agent: HookAgent,
    event: HookEvent,
    evaluation: Option<&Evaluation>,
) -> Option<GuardrailAsk> {
    let eval = evaluation?;
    if !settings.enabled || !is_pre_tool(agent, event) || eval.decision != PolicyDecision::Ask {
        return None;
    }
    let why = match &eval.rule {
        RuleRef::User { .. } | RuleRef::Override { .. } => GuardReason::AskRule {
            rule: eval.rule.to_string(),
        },
        RuleRef::Default | RuleRef::Builtin { .. } if eval.risk >= settings.risk => {
            GuardReason::Risk { risk: eval.risk }
        }
        _ => return None,
    };
    Some(GuardrailAsk {
        why,
        timeout_ms: settings.timeout_secs.saturating_mul(1000),
        on_timeout: settings.on_timeout,
    })
}

/// Is this session unattended? Claude Code sends its live mode with every
/// hook call (the user can switch modes mid-session), so when its payload
/// names a mode, that mode decides. For the other agents, whose payloads
/// carry no mode or one whose values are less certain, either the payload
/// or the agent's command line (`command_line`, from detection) suffices.
pub fn unattended(
    agent: HookAgent,
    permission_mode: Option<&str>,
    command_line: Option<&Unattended>,
) -> Option<Unattended> {
    if let Some(u) = agent.unattended_by_mode(permission_mode) {
        return Some(u);
    }
    if agent == HookAgent::Claude && permission_mode.is_some() {
        return None;
    }
    command_line.cloned()
}

/// The mark on an approval request that a guardrail raised: surfaces say
/// "the agent runs unattended; Reins is asking for it", and the broker
/// denies it (never abstains) when nobody answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guardrail {
    /// Why the session counts as unattended.
    pub unattended: Unattended,
    /// Why this action was asked about.
    pub why: GuardReason,
    /// What an unanswered request becomes.
    pub on_timeout: GuardrailTimeout,
    /// The time a person had, in seconds (for the message).
    pub timeout_secs: u64,
}

/// Why a guardrail request got no person's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unanswered {
    /// Nobody answered in time.
    Timeout,
    /// No surface could show it.
    NoSurface,
    /// The daemon could not be reached.
    NoDaemon,
    /// It was withdrawn for another reason.
    Withdrawn(WithdrawReason),
    /// Too many requests were already waiting.
    RateLimited,
    /// The request could not be filed (inconsistent action hash).
    Invalid,
}

/// What the daemon does with one pre-tool report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuardDecision {
    /// Not a guardrail matter: today's behaviour.
    Pass,
    /// Hold the tool call as an approval request with this mark.
    Hold(Guardrail),
    /// Nobody can be asked: answer this at once.
    DenyNow(HookVerdict),
}

/// The daemon's decision for a report (`ask` from [`candidate`]).
pub fn decide(
    agent: HookAgent,
    permission_mode: Option<&str>,
    ask: Option<&GuardrailAsk>,
    command_line: Option<&Unattended>,
    surface_live: bool,
) -> GuardDecision {
    let Some(ask) = ask else {
        return GuardDecision::Pass;
    };
    let Some(unattended) = unattended(agent, permission_mode, command_line) else {
        return GuardDecision::Pass;
    };
    let guardrail = Guardrail::new(unattended, ask);
    if surface_live {
        GuardDecision::Hold(guardrail)
    } else {
        GuardDecision::DenyNow(guardrail.unanswered(Unanswered::NoSurface))
    }
}

impl Guardrail {
    /// The mark for `ask` in a session that is unattended for `unattended`.
    pub fn new(unattended: Unattended, ask: &GuardrailAsk) -> Guardrail {
        Guardrail {
            unattended,
            why: ask.why.clone(),
            on_timeout: ask.on_timeout,
            timeout_secs: ask.timeout_ms / 1000,
        }
    }

    /// One line for surfaces, shown with the request.
    pub fn notice(&self) -> String {
        format!(
            "The agent runs unattended ({}); Reins is asking for it because {}.",
            self.unattended, self.why
        )
    }

    /// The verdict for a request nobody answered: a deny (or a stop, for a
    /// timeout with `on_timeout = "stop-agent"`), saying why and what to do.
    pub fn unanswered(&self, why: Unanswered) -> HookVerdict {
        let cause = match &why {
            Unanswered::Timeout => format!("nobody answered within {} s", self.timeout_secs),
            Unanswered::NoSurface => {
                "no Reins surface (phone, desktop or `reins approvals --watch`) was open to ask a person"
                    .to_owned()
            }
            Unanswered::NoDaemon => {
                "the Reins daemon is not running, so nobody could be asked".to_owned()
            }
            Unanswered::Withdrawn(reason) => {
                format!("the request was withdrawn before anyone answered ({reason:?})")
            }
            Unanswered::RateLimited => "too many requests were already waiting".to_owned(),
            Unanswered::Invalid => "Reins could not file the request".to_owned(),
        };
        let ask = match &why {
            Unanswered::NoDaemon => "to start Reins (`reins daemon`) and retry",
            Unanswered::NoSurface => {
                "to open Reins (phone, desktop or `reins approvals --watch`) and retry"
            }
            _ => "to approve it in Reins (phone, desktop or `reins approvals`) and retry",
        };
        let message = format!(
            "Reins denied this: {} and {cause}. Ask the user {ask}, or to run the agent interactively.",
            self.unattended
        );
        match (why, self.on_timeout) {
            (Unanswered::Timeout, GuardrailTimeout::StopAgent) => {
                HookVerdict::StopAgent { reason: message }
            }
            _ => HookVerdict::Deny { message },
        }
    }
}

#[cfg(test)]
#[path = "guardrails_tests.rs"]
mod tests;
