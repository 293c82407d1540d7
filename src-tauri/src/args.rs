//! The command line: `reins-tray [--open approval:<id>|agents|pair]`.
//!
//! The daemon's notifier runs `reins-tray --open approval:<id>` to ask for
//! a deliberate confirmation; the single-instance plugin hands those
//! arguments to the running tray, which opens its window there. Anything
//! else on the command line is ignored (desktop launchers add their own).

use reins_desktop::view::OpenViewView;

/// The view asked for with `--open VIEW` or `--open=VIEW`, if any (the last
/// one wins). An unknown view is ignored with a warning.
pub fn open_view<I, S>(args: I) -> Option<OpenViewView>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut found = None;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let value = match a.as_ref().strip_prefix("--open") {
            Some("") => match args.next() {
                Some(v) => v.as_ref().to_owned(),
                None => break,
            },
            Some(rest) => match rest.strip_prefix('=') {
                Some(v) => v.to_owned(),
                None => continue,
            },
            None => continue,
        };
        match parse_view(&value) {
            Some(view) => found = Some(view),
            None => tracing::warn!(
                "ignoring --open {value:?}: use approval:<request id>, agents or pair"
            ),
        }
    }
    found
}

/// `approval:<id>`, `agents` or `pair`.
pub fn parse_view(s: &str) -> Option<OpenViewView> {
    match s {
        "agents" => Some(OpenViewView::Agents),
        "pair" => Some(OpenViewView::Pair),
        _ => {
            let id = s.strip_prefix("approval:")?;
            let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_hexdigit());
            ok.then(|| OpenViewView::Approval {
                request_id: id.to_ascii_lowercase(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_view_is_read_from_open_with_a_space_or_an_equals_sign() {
        let want = Some(OpenViewView::Approval {
            request_id: "ab12".into(),
        });
        assert_eq!(open_view(["--open", "approval:ab12"]), want);
        assert_eq!(open_view(["--open=approval:AB12"]), want);
    }

    #[test]
    fn agents_and_pair_are_views_and_the_last_open_wins() {
        assert_eq!(open_view(["--open", "pair"]), Some(OpenViewView::Pair));
        assert_eq!(
            open_view(["--open", "pair", "--open", "agents"]),
            Some(OpenViewView::Agents)
        );
    }

    #[test]
    fn unknown_views_other_flags_and_a_missing_value_open_nothing() {
        assert_eq!(open_view(["--open", "settings"]), None);
        assert_eq!(open_view(["--open", "approval:"]), None);
        assert_eq!(open_view(["--open", "approval:<script>"]), None);
        assert_eq!(open_view(["--opener", "agents"]), None);
        assert_eq!(open_view(["--open"]), None);
        assert_eq!(open_view(Vec::<String>::new()), None);
    }
}
