//! The soak's checker: from the hooks' outputs, the phones' own records
//! and the audit log, did every promise hold?
//!
//! - every request raised got exactly one answer from its hook (exit 0,
//!   and an allow, a deny or nothing, which is an abstain), unless its
//!   agent was stopped while it waited (then the hook died with the tree);
//! - every allow (deny) matches an allow (deny) a phone sent for a request
//!   showing that exact command, and an audit record of that decision by
//!   that phone; every decision in the audit names the action hash the
//!   phones were shown for that request, and its hook got that answer
//!   (unless the daemon was SIGKILLed between the two);
//! - no request is resolved twice in the audit log;
//! - every stop was confirmed and left no process of its tree;
//! - every phone's final agent list equals the daemon's;
//! - the audit chain verifies.
//!
//! It judges; it does not measure (the report does).

use super::Gathered;
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// What the checker found. `violations` empty means every promise held.
#[derive(Debug, Default)]
pub struct Findings {
    /// Requests raised.
    pub requests: usize,
    /// Answers: allow, deny, abstain.
    pub allowed: usize,
    /// Denied.
    pub denied: usize,
    /// Abstained (no decision: expired, withdrawn, no surface, daemon gone).
    pub abstained: usize,
    /// Hooks that died with their stopped agent before an answer.
    pub killed_by_stop: usize,
    /// Decisions recorded in the audit whose hook abstained because the
    /// daemon was SIGKILLed between the record and the reply.
    pub cut_by_kill: usize,
    /// Requests with no answer at all (the goal is none).
    pub lost: Vec<u64>,
    /// Requests answered more than once (the goal is none).
    pub duplicated: Vec<u64>,
    /// Decisions phones sent after the request was resolved or expired
    /// (answered "too late" by the daemon; not a fault).
    pub late_decisions: usize,
    /// Decisions found in the audit log, and how many of them carried an
    /// action hash that was compared with the one the phones were shown.
    pub audited: (usize, usize),
    /// Every broken promise, in words.
    pub violations: Vec<String>,
}

impl Findings {
    /// True when nothing was lost or broken.
    pub fn clean(&self) -> bool {
        self.violations.is_empty() && self.lost.is_empty() && self.duplicated.is_empty()
    }
}

/// How a hook answered, from its one line of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `"behavior":"allow"`.
    Allow,
    /// `"behavior":"deny"`.
    Deny,
    /// No output: the agent's own prompt stands.
    Abstain,
}

fn answer_of(out: &str) -> Option<Answer> {
    let compact: String = out.chars().filter(|c| !c.is_whitespace()).collect();
    match compact.as_str() {
        "" => Some(Answer::Abstain),
        s if s.contains("\"behavior\":\"allow\"") => Some(Answer::Allow),
        s if s.contains("\"behavior\":\"deny\"") => Some(Answer::Deny),
        _ => None,
    }
}

/// The tag in a command text `echo soak-<tag>-<hex>` inside an action.
pub fn tag_of(action: &str) -> Option<u64> {
    let rest = &action[action.find("echo soak-")? + "echo soak-".len()..];
    rest.split('-').next()?.parse().ok()
}

/// A broker request id: 32 hex digits.
fn is_request_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Judge a run.
pub fn check(g: &Gathered) -> Findings {
    let mut f = Findings {
        requests: g.sent.len(),
        ..Findings::default()
    };
    let mut v = Vec::new();
    // request id → (tag, action hash) from what the phones were shown.
    let mut shown: HashMap<&str, (u64, &str)> = HashMap::new();
    let agent_of: HashMap<u64, usize> = g.sent.iter().map(|r| (r.tag, r.agent)).collect();
    for (i, p) in g.phones.iter().enumerate() {
        for (id, s) in &p.seen {
            let Some(tag) = tag_of(&s.action) else {
                v.push(format!(
                    "phone {i} was shown a request with no soak tag: {}",
                    s.action
                ));
                continue;
            };
            let raised_by = agent_of.get(&tag).and_then(|&a| g.agent_ids.get(a));
            if raised_by.is_some_and(|a| *a != s.agent_id) {
                v.push(format!(
                    "request {id} (tag {tag}) was tied to {}, not to {raised_by:?}",
                    s.agent_id
                ));
            }
            if let Some((t, h)) = shown.insert(id, (tag, &s.action_hash))
                && (t != tag || h != s.action_hash)
            {
                v.push(format!("request {id} was shown with two different actions"));
            }
        }
    }
    // (request id, allow) → phones that sent it, and the first send.
    let mut decided: HashMap<(&str, bool), (HashSet<usize>, Instant)> = HashMap::new();
    for (i, p) in g.phones.iter().enumerate() {
        for s in p.sent.iter().filter(|s| s.published) {
            let e = decided
                .entry((s.request_id.as_str(), s.allow))
                .or_insert((HashSet::new(), s.at));
            e.0.insert(i);
            e.1 = e.1.min(s.at);
        }
    }
    // The audit's decisions: request id → (allow, phone, action hash).
    let mut audit_decisions: HashMap<&str, (bool, Option<usize>, Option<&str>)> = HashMap::new();
    let mut resolutions: HashMap<&str, usize> = HashMap::new();
    for r in &g.audit {
        if r["action"] != "approval_resolved" {
            continue;
        }
        // Records of hooks that never became a request (no surface, a
        // policy verdict) name the tool, not a request id.
        let Some(id) = r["target"].as_str().filter(|t| is_request_id(t)) else {
            continue;
        };
        let n = resolutions.entry(id).or_default();
        *n += 1;
        if *n == 2 {
            v.push(format!(
                "request {id} was resolved more than once in the audit log"
            ));
        }
        let allow = match r["outcome"].as_str() {
            Some("ok") => true,
            Some("refused") => false,
            _ => continue,
        };
        let phone = r["actor"]["device_id"]
            .as_str()
            .and_then(|d| g.devices.get(d).copied());
        let hash = r["detail"]["record"]["action_hash"].as_str();
        f.audited.0 += 1;
        f.audited.1 += usize::from(hash.is_some());
        audit_decisions.insert(id, (allow, phone, hash));
        match shown.get(id) {
            None => v.push(format!(
                "the audit has a decision on {id}, which no phone was shown"
            )),
            Some((_, h)) if hash.is_some_and(|x| x != *h) => v.push(format!(
                "the decision on {id} was recorded for another action hash"
            )),
            Some(_) => {}
        }
        let Some(phone) = phone else {
            v.push(format!(
                "the decision on {id} is not by one of the soak's phones: {}",
                r["actor"]
            ));
            continue;
        };
        if !decided
            .get(&(id, allow))
            .is_some_and(|(who, _)| who.contains(&phone))
        {
            v.push(format!(
                "phone {phone} is recorded deciding {id} (allow={allow}) but never sent that"
            ));
        }
    }
    // The hooks.
    let mut answers: HashMap<u64, Vec<&super::agents::Done>> = HashMap::new();
    for d in &g.done {
        answers.entry(d.tag).or_default().push(d);
    }
    let stopped_at: HashMap<usize, Instant> = g.stops.iter().map(|s| (s.agent, s.at)).collect();
    let mut by_tag: HashMap<u64, Vec<&str>> = HashMap::new();
    for (id, (tag, _)) in &shown {
        by_tag.entry(*tag).or_default().push(id);
    }
    for r in &g.sent {
        let ds = answers.get(&r.tag).map(Vec::as_slice).unwrap_or(&[]);
        let d = match ds {
            [] if stopped_at.get(&r.agent).is_some_and(|&s| s >= r.at) => {
                f.killed_by_stop += 1;
                continue;
            }
            [] => {
                f.lost.push(r.tag);
                continue;
            }
            [d] => d,
            [d, ..] => {
                f.duplicated.push(r.tag);
                d
            }
        };
        if d.code != 0 {
            v.push(format!("request {}: the hook exited {}", r.tag, d.code));
        }
        let ids = by_tag.get(&r.tag).cloned().unwrap_or_default();
        let audited = ids
            .iter()
            .find_map(|id| audit_decisions.get(id).map(|a| (*id, a.0)));
        match answer_of(&d.out) {
            None => v.push(format!(
                "request {}: unexpected hook output {:?}",
                r.tag, d.out
            )),
            Some(Answer::Abstain) => {
                f.abstained += 1;
                if let Some((id, _)) = audited {
                    let killed = g.daemon_killed.is_some_and(|k| k <= d.at);
                    if killed {
                        f.cut_by_kill += 1;
                    } else {
                        v.push(format!(
                            "request {} ({id}) was decided but its hook abstained",
                            r.tag
                        ));
                    }
                }
            }
            Some(a) => {
                let allow = a == Answer::Allow;
                if allow {
                    f.allowed += 1;
                } else {
                    f.denied += 1;
                }
                match audited {
                    Some((_, x)) if x == allow => {}
                    Some((id, _)) => v.push(format!(
                        "request {} ({id}): the hook's {a:?} is not the recorded decision",
                        r.tag
                    )),
                    None => v.push(format!(
                        "request {}: {a:?} with no decision in the audit log",
                        r.tag
                    )),
                }
                if !ids.iter().any(|id| decided.contains_key(&(*id, allow))) {
                    v.push(format!("request {}: {a:?} that no phone sent", r.tag));
                }
            }
        }
    }
    // Decisions sent to a request no longer pending (late, or the loser of
    // two at once): counted, not faults.
    f.late_decisions = decided
        .keys()
        .filter(|(id, allow)| audit_decisions.get(id).is_none_or(|a| a.0 != *allow))
        .count();
    for s in &g.stops {
        if let Err(e) = &s.confirmed {
            v.push(format!("stop of agent {} by {}: {e}", s.agent, s.by));
        }
    }
    for (what, r) in &g.halts {
        if let Err(e) = r {
            v.push(format!("{what}: {e}"));
        }
    }
    for (pgid, pids) in &g.leftovers {
        v.push(format!("stopped tree {pgid} still has processes {pids:?}"));
    }
    v.extend(g.views_differ.iter().cloned());
    if let Some(e) = &g.audit_broken {
        v.push(format!("the audit chain does not verify: {e}"));
    }
    f.violations = v;
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::soak::SentRequest;
    use crate::bench::soak::agents::Done;

    #[test]
    fn an_allow_with_no_decision_behind_it_is_a_violation() {
        let now = Instant::now();
        let g = Gathered {
            sent: vec![SentRequest {
                tag: 1,
                agent: 0,
                at: now,
                unix_ms: 0,
            }],
            done: vec![Done {
                tag: 1,
                code: 0,
                out: r#"{"decision":{"behavior":"allow"}}"#.into(),
                at: now,
            }],
            ..Gathered::default()
        };
        let f = check(&g);
        assert!(!f.clean());
        assert!(
            f.violations
                .iter()
                .any(|v| v.contains("no decision in the audit"))
        );
    }

    #[test]
    fn a_request_without_an_answer_is_lost_and_two_answers_are_duplicates() {
        let now = Instant::now();
        let done = |tag| Done {
            tag,
            code: 0,
            out: String::new(),
            at: now,
        };
        let g = Gathered {
            sent: (0..3)
                .map(|tag| SentRequest {
                    tag,
                    agent: 0,
                    at: now,
                    unix_ms: 0,
                })
                .collect(),
            done: vec![done(0), done(2), done(2)],
            ..Gathered::default()
        };
        let f = check(&g);
        assert_eq!((f.lost.clone(), f.duplicated.clone()), (vec![1], vec![2]));
        assert_eq!(
            tag_of(r#"{"tool_input":{"command":"echo soak-42-ff"}}"#),
            Some(42)
        );
    }
}
