//! Who may speak for the notification server: a pure tracker of the unique
//! name that owns `org.freedesktop.Notifications`.
//!
//! It is fed the answer to `GetNameOwner` and every `NameOwnerChanged` the
//! bus driver sends, in the order they arrive on the one connection, and
//! answers whether a signal's header sender is that owner. Unknown owner
//! means no signal is honoured. Not here: reading the bus.

/// The bus driver's name: the only sender of genuine `NameOwnerChanged`.
pub(crate) const BUS_DRIVER: &str = "org.freedesktop.DBus";

/// The current owner, as far as the bus has told us.
#[derive(Debug, Default)]
pub(crate) struct OwnerWatch {
    owner: Option<String>,
}

/// What an ownership change meant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OwnerChange {
    /// A server took the name.
    Up,
    /// The server left.
    Down,
    /// Nothing we care about.
    None,
}

impl OwnerWatch {
    /// Start from `GetNameOwner`'s answer (None: no owner).
    pub(crate) fn set(&mut self, owner: Option<String>) {
        self.owner = owner.filter(|o| !o.is_empty());
    }

    /// A `NameOwnerChanged(name, old, new)` signal from `sender`. Anything
    /// not sent by the bus driver, or about another name, is ignored.
    pub(crate) fn name_owner_changed(
        &mut self,
        sender: Option<&str>,
        name: &str,
        new_owner: &str,
    ) -> OwnerChange {
        if sender != Some(BUS_DRIVER) || name != crate::SERVER_NAME {
            return OwnerChange::None;
        }
        let was = self.owner.take();
        self.set(Some(new_owner.to_owned()));
        match (&was, &self.owner) {
            (_, Some(now)) if was.as_ref() != Some(now) => OwnerChange::Up,
            (Some(_), None) => OwnerChange::Down,
            _ => OwnerChange::None,
        }
    }

    /// True when `sender` is the server's unique name right now.
    pub(crate) fn is_server(&self, sender: Option<&str>) -> bool {
        matches!((sender, &self.owner), (Some(s), Some(o)) if s == o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SERVER_NAME;

    #[test]
    fn only_the_current_owner_is_the_server() {
        let mut w = OwnerWatch::default();
        assert!(!w.is_server(Some(":1.5")), "no owner known: nobody");
        w.set(Some(":1.5".into()));
        assert!(w.is_server(Some(":1.5")));
        assert!(!w.is_server(Some(":1.6")));
        assert!(!w.is_server(None));
    }

    #[test]
    fn a_new_owner_replaces_the_old_one_and_leaving_clears_it() {
        let mut w = OwnerWatch::default();
        w.set(Some(":1.5".into()));
        let up = w.name_owner_changed(Some(BUS_DRIVER), SERVER_NAME, ":1.9");
        assert_eq!(up, OwnerChange::Up);
        assert!(!w.is_server(Some(":1.5")));
        assert!(w.is_server(Some(":1.9")));
        let down = w.name_owner_changed(Some(BUS_DRIVER), SERVER_NAME, "");
        assert_eq!(down, OwnerChange::Down);
        assert!(!w.is_server(Some(":1.9")));
    }

    #[test]
    fn an_ownership_change_not_from_the_bus_driver_changes_nothing() {
        let mut w = OwnerWatch::default();
        w.set(Some(":1.5".into()));
        let forged = w.name_owner_changed(Some(":1.66"), SERVER_NAME, ":1.66");
        assert_eq!(forged, OwnerChange::None);
        assert!(w.is_server(Some(":1.5")));
        assert!(!w.is_server(Some(":1.66")));
        let other = w.name_owner_changed(Some(BUS_DRIVER), "org.example.Other", ":1.7");
        assert_eq!(other, OwnerChange::None);
        assert!(w.is_server(Some(":1.5")));
    }
}
