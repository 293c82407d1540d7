//! The shared merge logic for JSON hook maps: `{"hooks": {EVENT: [...]}}`.
//!
//! Two shapes exist in the wild:
//! - **Grouped** (Claude, Codex, Gemini): `EVENT: [{"matcher": M, "hooks": [handler, ...]}]`.
//! - **Flat** (Cursor, Copilot): `EVENT: [handler, ...]`.
//!
//! A handler is "ours" when it runs `<something>/reins hook ...` (see
//! [`crate::command`]). Install replaces our handler in place (so a new
//! `reins` path or timeout updates the existing entry rather than adding a
//! second one) and otherwise appends a new group/handler at the end; it never
//! touches a handler that is not ours. Uninstall removes every handler of
//! ours in every event, then removes the containers that only held ours: a
//! group left empty, an event array left empty, and the `hooks` object left
//! empty — but an empty container the user already had stays.
//!
//! This module does not know agent-specific keys or timeouts; the agent
//! modules pass those in as [`Entry`] values.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::command::reins_exe_of_handler;
use crate::error::InstallError;
use crate::jsonfile::JsonFile;
use crate::model::HookEvent;

/// The top-level key every supported agent keeps its hooks under.
const HOOKS_KEY: &str = "hooks";

/// How an agent nests handlers under an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Grouped,
    Flat,
}

/// One handler Reins wants under one event.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub event: HookEvent,
    /// The event's key in this agent's config.
    pub key: &'static str,
    /// Grouped shape only: the group's `matcher` (`None` = key absent).
    pub matcher: Option<Value>,
    pub handler: Value,
}

/// Whether an [`Entry`] is already in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Exactly as install would write it.
    Current,
    /// One of ours is there but differs; `exe` is the binary it calls.
    Outdated {
        exe: PathBuf,
    },
    Missing,
    /// A user setting occupies the slot Reins needs (Codex `notify`).
    Conflict(String),
}

/// Location of a handler: group index, and index inside the group (grouped shape).
type Loc = (usize, Option<usize>);

fn handler_at(arr: &[Value], loc: Loc) -> Option<&Value> {
    let item = arr.get(loc.0)?;
    match loc.1 {
        None => Some(item),
        Some(i) => item.get(HOOKS_KEY)?.as_array()?.get(i),
    }
}

/// Every handler of ours in an event array, in document order.
fn find_ours(arr: &[Value], shape: Shape) -> Vec<Loc> {
    let mut locs = Vec::new();
    for (gi, item) in arr.iter().enumerate() {
        match shape {
            Shape::Flat => {
                if reins_exe_of_handler(item).is_some() {
                    locs.push((gi, None));
                }
            }
            Shape::Grouped => {
                let Some(handlers) = item.get(HOOKS_KEY).and_then(Value::as_array) else {
                    continue;
                };
                for (hi, h) in handlers.iter().enumerate() {
                    if reins_exe_of_handler(h).is_some() {
                        locs.push((gi, Some(hi)));
                    }
                }
            }
        }
    }
    locs
}

/// Remove handlers at `locs` (document order); drop groups they leave empty.
fn remove_locs(arr: &mut Vec<Value>, locs: &[Loc]) {
    for &(gi, hi) in locs.iter().rev() {
        match hi {
            None => {
                arr.remove(gi);
            }
            Some(hi) => {
                let Some(handlers) = arr[gi].get_mut(HOOKS_KEY).and_then(Value::as_array_mut)
                else {
                    continue;
                };
                handlers.remove(hi);
                if handlers.is_empty() {
                    arr.remove(gi);
                }
            }
        }
    }
}

fn group_matcher(arr: &[Value], gi: usize) -> Option<&Value> {
    arr.get(gi)?.get("matcher")
}

fn new_item(shape: Shape, entry: &Entry) -> Value {
    match shape {
        Shape::Flat => entry.handler.clone(),
        Shape::Grouped => {
            let mut group = Map::new();
            if let Some(m) = &entry.matcher {
                group.insert("matcher".to_owned(), m.clone());
            }
            group.insert(
                HOOKS_KEY.to_owned(),
                Value::Array(vec![entry.handler.clone()]),
            );
            Value::Object(group)
        }
    }
}

/// Add or refresh `entries` in `file`. Idempotent.
pub(crate) fn install(
    file: &mut JsonFile,
    shape: Shape,
    entries: &[Entry],
) -> Result<(), InstallError> {
    let path = file.path.clone();
    let hooks = file
        .root()
        .entry(HOOKS_KEY)
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(InstallError::UnexpectedShape {
            path,
            what: "`hooks` is not a JSON object".to_owned(),
        });
    };
    for entry in entries {
        let arr = hooks
            .entry(entry.key)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(arr) = arr.as_array_mut() else {
            return Err(InstallError::UnexpectedShape {
                path,
                what: format!("`hooks.{}` is not a JSON array", entry.key),
            });
        };
        let locs = find_ours(arr, shape);
        let slot = locs.iter().copied().find(|&(gi, _)| {
            shape == Shape::Flat || group_matcher(arr, gi) == entry.matcher.as_ref()
        });
        match slot {
            Some(slot) => {
                let target = match slot {
                    (gi, None) => &mut arr[gi],
                    (gi, Some(hi)) => &mut arr[gi][HOOKS_KEY][hi],
                };
                if *target != entry.handler {
                    *target = entry.handler.clone();
                }
                let others: Vec<Loc> = locs.into_iter().filter(|&l| l != slot).collect();
                remove_locs(arr, &others);
            }
            None => {
                remove_locs(arr, &locs);
                arr.push(new_item(shape, entry));
            }
        }
    }
    Ok(())
}

/// Remove every handler of ours (any event). Returns whether anything was removed.
pub(crate) fn uninstall(file: &mut JsonFile, shape: Shape) -> bool {
    let root = file.root();
    let Some(hooks) = root.get_mut(HOOKS_KEY).and_then(Value::as_object_mut) else {
        return false;
    };
    let mut emptied_keys = Vec::new();
    let mut removed_any = false;
    for (key, arr) in hooks.iter_mut() {
        let Some(arr) = arr.as_array_mut() else {
            continue;
        };
        let locs = find_ours(arr, shape);
        if locs.is_empty() {
            continue;
        }
        removed_any = true;
        remove_locs(arr, &locs);
        if arr.is_empty() {
            emptied_keys.push(key.clone());
        }
    }
    for key in &emptied_keys {
        hooks.shift_remove(key);
    }
    if !emptied_keys.is_empty() && hooks.is_empty() {
        root.shift_remove(HOOKS_KEY);
    }
    removed_any
}

/// Uninstall from `file` and return the resulting change. When removing
/// our entries leaves nothing but `ignorable` keys (e.g. Cursor's
/// `version`), the file is deleted: an absent file and an empty one mean the
/// same to every agent, and this makes install → uninstall on a fresh
/// machine leave no trace.
pub(crate) fn uninstall_change(
    mut file: JsonFile,
    shape: Shape,
    ignorable: &[&str],
) -> Option<crate::plan::FileChange> {
    let removed = uninstall(&mut file, shape);
    let nothing_left = file
        .doc
        .as_object()
        .is_some_and(|o| o.keys().all(|k| ignorable.contains(&k.as_str())));
    file.into_change_or_delete(removed && nothing_left)
}

/// Presence of each entry, for `check`.
pub(crate) fn inspect(
    file: &JsonFile,
    shape: Shape,
    entries: &[Entry],
) -> Vec<(HookEvent, Presence)> {
    let arr_of = |key: &str| {
        file.original
            .get(HOOKS_KEY)
            .and_then(|h| h.get(key))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    entries
        .iter()
        .map(|entry| {
            let arr = arr_of(entry.key);
            let locs = find_ours(arr, shape);
            let current = locs.iter().any(|&loc| {
                handler_at(arr, loc) == Some(&entry.handler)
                    && (shape == Shape::Flat || group_matcher(arr, loc.0) == entry.matcher.as_ref())
            });
            let presence = if current {
                Presence::Current
            } else if let Some(exe) = locs
                .iter()
                .find_map(|&loc| handler_at(arr, loc).and_then(reins_exe_of_handler))
            {
                Presence::Outdated { exe }
            } else {
                Presence::Missing
            };
            (entry.event, presence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(doc: Value) -> JsonFile {
        JsonFile {
            path: "/x/settings.json".into(),
            before: None,
            original: doc.clone(),
            doc,
        }
    }

    fn ours(path: &str) -> Value {
        json!({"type": "command", "command": path, "args": ["hook", "claude", "stop"]})
    }

    fn stop_entry() -> Entry {
        Entry {
            event: HookEvent::Stop,
            key: "Stop",
            matcher: None,
            handler: ours("/new/reins"),
        }
    }

    #[test]
    fn duplicate_entries_of_ours_collapse_into_one() {
        let mut f = file(json!({"hooks": {"Stop": [
            {"hooks": [ours("/a/reins")]},
            {"hooks": [{"command": "user"}, ours("/b/reins")]},
        ]}}));
        install(&mut f, Shape::Grouped, &[stop_entry()]).unwrap();
        assert_eq!(
            f.doc,
            json!({"hooks": {"Stop": [
                {"hooks": [ours("/new/reins")]},
                {"hooks": [{"command": "user"}]},
            ]}})
        );
    }

    #[test]
    fn ours_under_a_different_matcher_moves_to_a_group_with_the_right_matcher() {
        let mut f =
            file(json!({"hooks": {"Stop": [{"matcher": "x", "hooks": [ours("/a/reins")]}]}}));
        install(&mut f, Shape::Grouped, &[stop_entry()]).unwrap();
        assert_eq!(
            f.doc,
            json!({"hooks": {"Stop": [{"hooks": [ours("/new/reins")]}]}})
        );
    }

    #[test]
    fn a_non_array_event_value_is_an_error_naming_the_key() {
        let mut f = file(json!({"hooks": {"Stop": {"hooks": []}}}));
        let err = install(&mut f, Shape::Grouped, &[stop_entry()]).unwrap_err();
        assert!(
            err.to_string().contains("`hooks.Stop` is not a JSON array"),
            "{err}"
        );
    }

    #[test]
    fn uninstall_ignores_entries_it_does_not_understand() {
        let doc = json!({"hooks": {"Stop": ["weird", {"matcher": 1}], "Other": 3}});
        let mut f = file(doc.clone());
        assert!(!uninstall(&mut f, Shape::Grouped));
        assert_eq!(f.doc, doc);
    }

    #[test]
    fn inspect_tells_current_from_outdated_and_missing() {
        let f = file(json!({"hooks": {"Stop": [{"hooks": [ours("/old/reins")]}]}}));
        let mut other = stop_entry();
        other.event = HookEvent::SessionEnd;
        other.key = "SessionEnd";
        let got = inspect(&f, Shape::Grouped, &[stop_entry(), other]);
        assert_eq!(
            got,
            vec![
                (
                    HookEvent::Stop,
                    Presence::Outdated {
                        exe: "/old/reins".into()
                    }
                ),
                (HookEvent::SessionEnd, Presence::Missing),
            ]
        );
    }
}
