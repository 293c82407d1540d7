//! reins-approval (scaffold; filled in by its issue).
