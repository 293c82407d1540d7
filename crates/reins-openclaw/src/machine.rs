//! The link's pure state machine: connection phases, request ids and their
//! pending replies, the handshake and the post-connect fetch. Input in,
//! actions out, unit-tested with no sockets.
//!
//! TODO(helper A): implement.
