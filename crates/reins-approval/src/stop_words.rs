//! Stop words (issue 11 §3): is a message the person typed to an agent
//! nothing but "stop"?
//!
//! Pure matching, no I/O. A message counts only when, after trimming
//! whitespace, surrounding quotes and punctuation, and folding case, it is a
//! single stop word (or the same word repeated, "stop stop STOP"). A
//! sentence that contains the word ("don't stop the build", "para el
//! servidor") never counts: those are instructions for the agent. The
//! daemon decides what to do about a match (freeze the agent's tree); this
//! module does not.

use serde::Deserialize;

/// The built-in words, in several languages. Each is a whole message on its
/// own, never matched inside a sentence. Words that are ordinary on their own
/// in some language ("alto", "basta") are left out; a user can add them.
#[rustfmt::skip]
pub const BUILTIN: &[&str] = &[
    "stop", "abort", "halt", "cancel", // English
    "stopp", "anhalten", "abbrechen", // German
    "arrête", "arrete", "arrêtez", "arretez", // French
    "para", "detente", "parar", // Spanish
    "pare", "pára", // Portuguese
    "fermati", "ferma", "fermo", // Italian
    "stoppen", // Dutch ("stop" is above)
    "stój", "stoj", "przestań", "przestan", // Polish
    "stans", // Norwegian, Danish ("stopp" is above)
    "стоп", "стой", // Russian, Ukrainian
    "止めて", "ストップ", "停", "停止", // Japanese, Chinese
];

/// The longest message worth checking: a stop word is short, so a longer
/// message is answered without looking at it (a pasted file costs nothing).
const MAX_MESSAGE_CHARS: usize = 64;

/// How many times one word may be repeated ("stop stop stop") and still count.
const MAX_REPEATS: usize = 3;

/// `[stop_words]` in the daemon's config.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopWordsConfig {
    /// Freeze an agent whose person typed only a stop word.
    pub enabled: bool,
    /// Use [`BUILTIN`] as well as `words`.
    pub builtin: bool,
    /// More words (one word each, e.g. `"genug"`), matched the same way.
    pub words: Vec<String>,
}

impl Default for StopWordsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            builtin: true,
            words: Vec::new(),
        }
    }
}

impl StopWordsConfig {
    /// Err(message) when a configured word could never match.
    pub fn validate(&self) -> Result<(), String> {
        for w in &self.words {
            let folded = fold(w);
            if folded.is_empty() {
                return Err(format!(
                    "{w:?} has no letters; a stop word is one word such as \"genug\""
                ));
            }
            if folded.split_whitespace().count() != 1 || folded.chars().count() > 32 {
                return Err(format!(
                    "{w:?} is not a single short word; a stop word is one word such as \"genug\""
                ));
            }
        }
        Ok(())
    }

    /// The stop word `message` consists of, as typed (trimmed), or `None`.
    pub fn matches(&self, message: &str) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let word = single_word(message)?;
        let builtin = self.builtin && BUILTIN.iter().any(|b| *b == word);
        let extra = self.words.iter().any(|w| fold(w) == word);
        (builtin || extra).then(|| message.trim().to_owned())
    }
}

/// Lowercase, with surrounding punctuation, quotes and whitespace removed.
fn fold(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || is_punct(c))
        .to_lowercase()
}

fn is_punct(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace()
}

/// The one word `message` is made of (folded), or `None` for anything else.
fn single_word(message: &str) -> Option<String> {
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return None;
    }
    let mut words = message
        .split(|c: char| c.is_whitespace() || is_punct(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase);
    let first = words.next()?;
    let mut count = 1;
    for w in words {
        count += 1;
        if w != first || count > MAX_REPEATS {
            return None;
        }
    }
    // Punctuation may only surround the word(s), not join them ("stop-gap").
    let inner = message.trim_matches(|c: char| c.is_whitespace() || is_punct(c));
    if inner.chars().any(is_punct) {
        return None;
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> StopWordsConfig {
        StopWordsConfig::default()
    }

    #[test]
    fn a_message_that_is_only_a_stop_word_matches_in_any_case_and_punctuation() {
        for m in [
            "stop",
            "STOP",
            " Stop! ",
            "stop.",
            "STOP!!!",
            "\"stop\"",
            "abort",
            "halt?",
            "cancel",
            "stop stop STOP",
            "Stopp!",
            "arrête",
            "ARRETE !",
            "¡para!",
            "fermati",
            "stój",
            "стоп",
            "停止",
        ] {
            assert!(on().matches(m).is_some(), "{m:?} should match");
        }
        assert_eq!(on().matches("  STOP! \n").as_deref(), Some("STOP!"));
    }

    #[test]
    fn a_sentence_that_contains_a_stop_word_does_not_match() {
        for m in [
            "don't stop the build",
            "stop the server",
            "please stop",
            "para el servidor",
            "stop-gap",
            "stopwatch",
            "halt and catch fire",
            "stop stop stop stop",
            "stop abort",
            "",
            "   ",
            "!!!",
        ] {
            assert!(on().matches(m).is_none(), "{m:?} should not match");
        }
        let long = format!("stop{}", " ".repeat(100));
        assert!(on().matches(&long).is_none());
    }

    #[test]
    fn configured_words_match_and_the_builtin_list_can_be_switched_off() {
        let c = StopWordsConfig {
            enabled: true,
            builtin: false,
            words: vec!["Genug".into()],
        };
        assert!(c.matches("genug!").is_some());
        assert!(c.matches("stop").is_none());
        let off = StopWordsConfig {
            enabled: false,
            ..on()
        };
        assert!(off.matches("stop").is_none());
    }

    #[test]
    fn a_configured_phrase_or_empty_word_is_refused() {
        for bad in ["", "!!", "stop now", &"x".repeat(40)] {
            let c = StopWordsConfig {
                words: vec![bad.to_owned()],
                ..on()
            };
            assert!(c.validate().is_err(), "{bad:?}");
        }
        assert!(on().validate().is_ok());
    }
}
