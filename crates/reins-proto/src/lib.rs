//! reins-proto (scaffold; filled in by its issue).
