//! Alerts in `reins approvals --watch`: each new alert is printed (its
//! message escaped like every agent-supplied string) with the words that
//! act on it, and a line that is one of those words acts on the newest
//! alert: `resume`, `stop`, `release`, `stop-supervisor`. Whole words only,
//! so they never collide with the approval keys (a, s, d). At a terminal,
//! a word typed within [`FRESH_PROMPT`] of a new alert is not applied,
//! as for approvals.
//!
//! Pure state; `watch.rs` sends what it returns.

use crate::output::{alert_action_word, safe};
use crate::watch::FRESH_PROMPT;
use reins_core::{Alert, AlertAction, AlertId};
use std::fmt::Write as _;
use std::time::Instant;

/// What to run: `action` on the alert's agent.
#[derive(Debug, PartialEq)]
pub struct AlertAct {
    /// The alert acted on.
    pub alert: Alert,
    /// The action, one the alert offered.
    pub action: AlertAction,
}

/// The alerts a watch knows.
#[derive(Debug, Default)]
pub struct AlertWatch {
    active: Vec<Alert>,
    /// The newest alert and when it was printed.
    newest_at: Option<(AlertId, Instant)>,
}

fn word_action(word: &str) -> Option<AlertAction> {
    [
        AlertAction::Resume,
        AlertAction::Stop,
        AlertAction::Release,
        AlertAction::StopSupervisor,
    ]
    .into_iter()
    .find(|a| alert_action_word(*a) == word)
}

impl AlertWatch {
    /// The daemon's active alerts (a snapshot): print the ones not known yet.
    pub fn snapshot(&mut self, alerts: Vec<Alert>, now: Instant, out: &mut String) {
        for a in &alerts {
            if !self.active.iter().any(|x| x.id == a.id) {
                describe(a, out);
                self.newest_at = Some((a.id, now));
            }
        }
        self.active = alerts;
    }

    /// A new alert.
    pub fn raised(&mut self, alert: Alert, now: Instant, out: &mut String) {
        if self.active.iter().any(|x| x.id == alert.id) {
            return;
        }
        describe(&alert, out);
        self.newest_at = Some((alert.id, now));
        self.active.push(alert);
    }

    /// An alert is over.
    pub fn cleared(&mut self, id: AlertId, out: &mut String) {
        if let Some(i) = self.active.iter().position(|a| a.id == id) {
            let a = self.active.remove(i);
            let _ = writeln!(out, "alert {}: over ({})", a.id, safe(&a.display_name));
        }
    }

    /// A typed line: `None` when it is not an alert word (the approval
    /// prompt handles it), else what to print and maybe what to run.
    pub fn on_line(
        &mut self,
        answer: &str,
        now: Instant,
        tty: bool,
    ) -> Option<(String, Option<AlertAct>)> {
        let action = word_action(answer)?;
        let mut out = String::new();
        let Some(alert) = self.active.last().cloned() else {
            let _ = writeln!(out, "No alert to {answer}.");
            return Some((out, None));
        };
        if tty
            && let Some((id, at)) = self.newest_at
            && id == alert.id
            && now.saturating_duration_since(at) < FRESH_PROMPT
        {
            let _ = writeln!(
                out,
                "A new alert just arrived; read alert {id} and type {answer} again."
            );
            return Some((out, None));
        }
        if !alert.actions.contains(&action) {
            let _ = writeln!(out, "Alert {} does not offer {answer}.", alert.id);
            return Some((out, None));
        }
        let _ = writeln!(
            out,
            "{answer}: {} …",
            safe(&format!("{} ({})", alert.display_name, alert.agent))
        );
        Some((out, Some(AlertAct { alert, action })))
    }
}

fn describe(a: &Alert, out: &mut String) {
    let words: Vec<&str> = a.actions.iter().map(|x| alert_action_word(*x)).collect();
    let _ = write!(
        out,
        "\n!! ALERT {}: {}\n   agent: {}\n   type {} (the newest alert)\n",
        a.id,
        safe(&a.message),
        a.agent,
        words.join(" / ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_core::{AgentId, AgentKind, AlertKind, ProcessKey};
    use std::time::Duration;

    fn alert(id: u64, actions: Vec<AlertAction>) -> Alert {
        Alert {
            id: AlertId(id),
            kind: AlertKind::StopWord {
                word: "STOP".into(),
            },
            agent: AgentId {
                kind: AgentKind::ClaudeCode,
                root: ProcessKey {
                    pid: 7,
                    start_ticks: 8,
                },
            },
            display_name: "Claude Code".into(),
            project: None,
            message: "Stop word: claude \u{1b}]0;x\u{7} paused".into(),
            actions,
            raised_at: 0,
        }
    }

    #[test]
    fn a_new_alert_is_printed_escaped_with_the_words_that_act_on_it() {
        let mut w = AlertWatch::default();
        let mut out = String::new();
        w.raised(
            alert(3, vec![AlertAction::Resume, AlertAction::Stop]),
            Instant::now(),
            &mut out,
        );
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(out.contains("!! ALERT 3: Stop word: claude \\u{1b}]0;x\\u{7} paused"));
        assert!(out.contains("type resume / stop"), "{out}");
        let mut again = String::new();
        w.raised(alert(3, vec![]), Instant::now(), &mut again);
        assert!(again.is_empty(), "printed once");
    }

    #[test]
    fn a_word_typed_just_as_an_alert_appeared_is_ignored_and_later_it_acts() {
        let mut w = AlertWatch::default();
        let t0 = Instant::now();
        let a = alert(1, vec![AlertAction::Resume, AlertAction::Stop]);
        w.raised(a.clone(), t0, &mut String::new());
        let (text, act) = w.on_line("resume", t0, true).unwrap();
        assert!(act.is_none(), "{text}");
        assert!(text.contains("just arrived"));
        let later = t0 + FRESH_PROMPT + Duration::from_millis(1);
        let (_, act) = w.on_line("resume", later, true).unwrap();
        assert_eq!(
            act,
            Some(AlertAct {
                alert: a,
                action: AlertAction::Resume
            })
        );
    }

    #[test]
    fn only_offered_actions_run_and_other_lines_go_to_the_approval_prompt() {
        let mut w = AlertWatch::default();
        let t0 = Instant::now();
        assert!(w.on_line("a", t0, false).is_none());
        assert!(w.on_line("", t0, false).is_none());
        let (text, act) = w.on_line("resume", t0, false).unwrap();
        assert!(act.is_none() && text.contains("No alert"));
        w.snapshot(
            vec![alert(2, vec![AlertAction::Resume])],
            t0,
            &mut String::new(),
        );
        let (text, act) = w.on_line("release", t0, false).unwrap();
        assert!(act.is_none() && text.contains("does not offer"), "{text}");
        let mut out = String::new();
        w.cleared(AlertId(2), &mut out);
        assert!(out.contains("alert 2: over"));
        assert!(w.on_line("resume", t0, false).unwrap().1.is_none());
    }
}
