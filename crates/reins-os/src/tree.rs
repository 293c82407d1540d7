//! tree (being written).
