//! reins-detect (scaffold; filled in by its issue).
