//! reins-runtime (scaffold; filled in by its issue).
