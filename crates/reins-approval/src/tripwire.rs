//! Tripwires: rules over a rolling window that freeze a runaway agent.
//!
//! A pure state machine. The runtime feeds it every pre-tool hook event
//! (time in ms, agent, session, the [`Classified`] action) and, for agents
//! with no hooks, deletions seen on disk; it answers whether a rule fired.
//! Once a rule fired for an agent (or a session), every further action of
//! that agent or session is [`Outcome::Held`] until [`Tripwires::reset`]
//! (the person resumed it), so calls already in flight are denied too and
//! the wire does not fire twice for one runaway. It performs nothing: the
//! runtime denies the call, pauses the tree, raises the alert and audits.
//!
//! The rules come from the policy file's `[tripwires]` section (see
//! [`TripwireSettings`]); [`TripwireSettings::default`] holds the built-in
//! ones.

use reins_core::AgentId;
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

use crate::actions::{ActionClass, Classified};

/// Over what a rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// All sessions of one agent process tree together.
    Agent,
    /// One session (as the hook reports it) on its own.
    Session,
}

/// One rule: `threshold` or more `counts` within `window_s` seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TripwireRule {
    /// Its name, shown in alerts and the audit log; unique.
    pub name: String,
    /// What it counts.
    pub counts: ActionClass,
    /// How many fire it (at least 1).
    pub threshold: u32,
    /// The rolling window, seconds (at least 1).
    pub window_s: u32,
    /// Per agent or per session.
    pub per: Scope,
    /// Off rules count nothing.
    pub enabled: bool,
}

/// The `[tripwires]` section, merged over the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TripwireSettings {
    /// False switches every rule off.
    pub enabled: bool,
    /// The rules, defaults first (as tuned), then the user's own.
    pub rules: Vec<TripwireRule>,
}

fn rule(name: &str, counts: ActionClass, threshold: u32, window_s: u32) -> TripwireRule {
    TripwireRule {
        name: name.to_owned(),
        counts,
        threshold,
        window_s,
        per: Scope::Agent,
        enabled: true,
    }
}

impl Default for TripwireSettings {
    /// The built-in rules. Five deletions in a minute is more than an agent
    /// cleaning up after itself does (`cargo clean`, one `rm -rf build`) and
    /// far fewer than a loop emptying an inbox; thirty tool calls in ten
    /// seconds is three a second sustained, which no agent waiting on a
    /// model reaches except in a tight loop. A write outside the project
    /// and a push to a protected branch are rare enough to stop at once.
    fn default() -> Self {
        TripwireSettings {
            enabled: true,
            rules: vec![
                rule("deletions", ActionClass::Deletion, 5, 60),
                rule("tool-burst", ActionClass::ToolCall, 30, 10),
                rule(
                    "write-outside-project",
                    ActionClass::WriteOutsideProject,
                    1,
                    60,
                ),
                rule("protected-push", ActionClass::ProtectedPush, 1, 60),
            ],
        }
    }
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fired {
    /// The rule's name.
    pub rule: String,
    /// What it counts.
    pub counts: ActionClass,
    /// How many were counted in the window, this action included.
    pub count: u32,
    /// The rule's window, seconds.
    pub window_s: u32,
    /// Milliseconds from the first counted action to this one.
    pub span_ms: u64,
}

impl Fired {
    /// The span in whole seconds, at least 1 ("in 40 s").
    pub fn span_s(&self) -> u32 {
        (self.span_ms.div_ceil(1000)).max(1) as u32
    }

    /// "5 deletions in 40 s".
    pub fn describe(&self) -> String {
        format!("{} in {} s", self.counts.plural(self.count), self.span_s())
    }
}

/// What one action means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing fired.
    Clear,
    /// This action fired a rule: deny it and pause the agent.
    Fired(Fired),
    /// An earlier action fired `rule` for this agent or session and no one
    /// has resumed it yet: deny this one too.
    Held {
        /// The rule that fired earlier.
        rule: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Agent(AgentId),
    Session(String),
}

/// How many observations between sweeps of idle windows (a bound on memory
/// for sessions that went quiet, not on correctness).
const SWEEP_EVERY: u32 = 256;

/// The tripwire state: per rule and key, the recent counted actions.
#[derive(Debug)]
pub struct Tripwires {
    settings: TripwireSettings,
    windows: HashMap<(usize, Key), VecDeque<(u64, u32)>>,
    /// Held keys: the rule that fired and the agent it fired for.
    tripped: HashMap<Key, (String, Option<AgentId>)>,
    since_sweep: u32,
}

impl Tripwires {
    /// A fresh machine with `settings`.
    pub fn new(settings: TripwireSettings) -> Self {
        Tripwires {
            settings,
            windows: HashMap::new(),
            tripped: HashMap::new(),
            since_sweep: 0,
        }
    }

    /// The rules in force.
    pub fn settings(&self) -> &TripwireSettings {
        &self.settings
    }

    /// Account one action at `now_ms`. Rules per agent need `agent`, rules
    /// per session need `session`; without it they do not count.
    pub fn observe(
        &mut self,
        now_ms: u64,
        agent: Option<&AgentId>,
        session: Option<&str>,
        action: &Classified,
    ) -> Outcome {
        let keys = [
            agent.map(|a| Key::Agent(a.clone())),
            session.map(|s| Key::Session(s.to_owned())),
        ];
        if let Some((rule, _)) = keys.iter().flatten().find_map(|k| self.tripped.get(k)) {
            return Outcome::Held { rule: rule.clone() };
        }
        if !self.settings.enabled {
            return Outcome::Clear;
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.sweep(now_ms);
        }
        let mut fired: Option<Fired> = None;
        for (i, r) in self.settings.rules.iter().enumerate() {
            let n = action.count(r.counts);
            if !r.enabled || n == 0 {
                continue;
            }
            let key = match r.per {
                Scope::Agent => keys[0].clone(),
                Scope::Session => keys[1].clone(),
            };
            let Some(key) = key else { continue };
            let window_ms = u64::from(r.window_s) * 1000;
            let q = self.windows.entry((i, key)).or_default();
            q.push_back((now_ms, n));
            while q.front().is_some_and(|(t, _)| t + window_ms <= now_ms) {
                q.pop_front();
            }
            let count: u32 = q.iter().map(|(_, n)| n).sum();
            if count >= r.threshold && fired.is_none() {
                let first = q.front().map_or(now_ms, |(t, _)| *t);
                fired = Some(Fired {
                    rule: r.name.clone(),
                    counts: r.counts,
                    count,
                    window_s: r.window_s,
                    span_ms: now_ms - first,
                });
            }
        }
        match fired {
            Some(f) => {
                for k in keys.into_iter().flatten() {
                    self.tripped.insert(k, (f.rule.clone(), agent.cloned()));
                }
                Outcome::Fired(f)
            }
            None => Outcome::Clear,
        }
    }

    /// The person resumed `agent` (or the session): forget its windows and
    /// its tripped state, so the very next call does not fire again.
    pub fn reset(&mut self, agent: Option<&AgentId>, session: Option<&str>) {
        let keys: HashSet<Key> = [
            agent.map(|a| Key::Agent(a.clone())),
            session.map(|s| Key::Session(s.to_owned())),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.windows.retain(|(_, k), _| !keys.contains(k));
        self.tripped.retain(|k, _| !keys.contains(k));
    }

    /// Reset an agent and every session that was tripped with it.
    pub fn reset_agent(&mut self, agent: &AgentId) {
        let keys: HashSet<Key> = self
            .tripped
            .iter()
            .filter(|(_, (_, a))| a.as_ref() == Some(agent))
            .map(|(k, _)| k.clone())
            .chain([Key::Agent(agent.clone())])
            .collect();
        self.windows.retain(|(_, k), _| !keys.contains(k));
        self.tripped.retain(|k, _| !keys.contains(k));
    }

    /// True while `agent` is held by a tripwire.
    pub fn is_tripped(&self, agent: &AgentId) -> bool {
        self.tripped.contains_key(&Key::Agent(agent.clone()))
    }

    /// Drop windows whose every entry is older than its rule's window.
    fn sweep(&mut self, now_ms: u64) {
        let rules = &self.settings.rules;
        self.windows.retain(|(i, _), q| {
            let window_ms = rules.get(*i).map_or(0, |r| u64::from(r.window_s) * 1000);
            q.back().is_some_and(|(t, _)| t + window_ms > now_ms)
        });
    }
}

#[cfg(test)]
#[path = "tripwire_tests.rs"]
mod tests;
