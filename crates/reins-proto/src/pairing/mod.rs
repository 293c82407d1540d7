//! Pairing: the offer URL and the two pure state machines that turn a
//! scanned QR code into a shared pair key K.
//!
//! Flow (see `docs/protocol.md` §Pairing):
//! 1. The desktop makes a [`PairingOffer`] and shows its URL as a QR code.
//! 2. The phone ([`PhonePairing::start`]) generates or reuses a key pair,
//!    computes K and the code, and publishes a `pairing_hello` sealed under
//!    keys derived from the token.
//! 3. The desktop ([`DesktopPairing`]) opens the first valid hello, computes
//!    the same K and code, and waits for the local user: `Confirm` or
//!    `Reject`. A second hello is refused and answered with
//!    `pairing_rejected {"reason":"already_used"}` (a bounded number of
//!    times, until the offer expires).
//! 4. On confirm the desktop sends `pairing_accepted` sealed under K; on
//!    reject, `pairing_rejected` sealed under the token. Either way, and on
//!    expiry, the token is burned: the machine is finished for good.
//!
//! These machines take inputs and return actions; they never publish,
//! sleep or read a clock. The caller publishes [`crate::Outgoing`]s and
//! feeds back what arrives on the pairing topic.

mod desktop;
mod offer;
mod phone;

pub use desktop::{
    DesktopAction, DesktopInput, DesktopPairing, MAX_ALREADY_USED_REPLIES, PairedPhone,
};
pub use offer::{MAX_BROKERS, MAX_OFFER_TTL_MS, OfferError, PairingOffer, PairingToken};
pub use phone::{PairedDesktop, PhoneAction, PhoneInput, PhonePairing};

use crate::envelope::OpenError;
use crate::keys::{ChannelKeys, PAIRING_SALT};
use crate::payload::PairingRejectReason;

/// Longest device or desktop name, in UTF-8 bytes.
pub const MAX_NAME_BYTES: usize = 64;

/// Why a pairing ended without a pair. Terminal; the token is burned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PairingFailure {
    /// The offer expired first.
    #[error("the pairing code expired")]
    Expired,
    /// The desktop user rejected (the codes did not match?).
    #[error("pairing was rejected")]
    Rejected,
    /// Our side cancelled.
    #[error("pairing was cancelled")]
    Cancelled,
    /// The desktop will never accept this hello: another device used the
    /// pairing code first (or this phone already paired with it).
    #[error("this pairing code was already used")]
    AlreadyUsed,
    /// The peer sent an authentic but unusable hello (bad key or name).
    #[error("the other device sent an invalid pairing message: {0}")]
    InvalidPeer(&'static str),
}

impl From<PairingRejectReason> for PairingFailure {
    fn from(r: PairingRejectReason) -> Self {
        match r {
            PairingRejectReason::UserRejected => PairingFailure::Rejected,
            PairingRejectReason::Expired => PairingFailure::Expired,
            PairingRejectReason::AlreadyUsed => PairingFailure::AlreadyUsed,
        }
    }
}

/// Why one input was ignored. Not terminal; worth logging (and, for
/// [`Refusal::TokenSpent`], worth telling the user: someone else has the QR).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Bytes that did not open (garbage, forged, wrong topic, ...).
    #[error("ignored a message: {0}")]
    Invalid(OpenError),
    /// A valid hello arrived after the token was already used.
    #[error("another device tried to use this pairing code")]
    TokenSpent,
    /// An authentic answer to another device's hello (every phone on the
    /// pairing topic sees every answer).
    #[error("ignored an answer meant for another device")]
    NotForUs,
    /// The input does not apply in this state (e.g. confirm with nothing pending).
    #[error("nothing to do in this state")]
    NotNow,
}

/// Why the phone could not start pairing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartError {
    /// The offer is past its expiry, or claims a lifetime over 3 minutes.
    #[error("this pairing code has expired; show a new one")]
    Expired,
    /// The desktop key in the offer is a low-order point.
    #[error("the pairing code contains an invalid key")]
    BadDesktopKey,
    /// The device name is empty, too long or has control characters.
    #[error("device names must be 1..={MAX_NAME_BYTES} bytes without control characters")]
    BadName,
    /// The offer's topics are unusable.
    #[error("the pairing code's topics are invalid")]
    BadTopic,
}

/// Checks a device/desktop name.
pub(crate) fn name_is_valid(name: &str) -> bool {
    !name.trim().is_empty() && name.len() <= MAX_NAME_BYTES && !name.chars().any(char::is_control)
}

/// The keys of the pairing exchange itself, derived from the token.
pub(crate) fn token_keys(token: &PairingToken) -> ChannelKeys {
    ChannelKeys::derive(token.as_bytes(), PAIRING_SALT)
}

/// Test-vector access to the token-derived keys.
#[cfg(test)]
pub(crate) fn token_keys_for_vectors(token: &PairingToken) -> ChannelKeys {
    token_keys(token)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_already_used;
