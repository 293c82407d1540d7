//! Small encoding helpers shared by the wire formats: strict unpadded
//! base64url and lowercase hex. Not a general-purpose codec module; it only
//! exists so every field is decoded with the same strictness.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes as unpadded base64url (RFC 4648 §5).
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes strict unpadded base64url: padding, whitespace, the standard
/// alphabet and non-canonical trailing bits are all rejected, so every
/// byte string has exactly one accepted encoding.
pub(crate) fn unb64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Decodes strict base64url into exactly `N` bytes.
pub(crate) fn unb64_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    unb64(s)?.try_into().ok()
}
