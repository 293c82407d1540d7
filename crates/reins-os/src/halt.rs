//! halt (being written).
use crate::ProcessOps;
use reins_core::{HaltOp, HaltOptions, HaltReport, ProcessKey};

/// Run one halt operation on the whole tree rooted at `root`. Blocking.
pub fn halt(_ops: &dyn ProcessOps, _root: ProcessKey, _op: HaltOp, _opts: &HaltOptions) -> HaltReport {
    unimplemented!("being written")
}
