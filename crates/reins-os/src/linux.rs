//! linux (being written).
/// The Linux implementation of [`crate::ProcessOps`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Linux;
