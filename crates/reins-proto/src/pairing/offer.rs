//! The pairing offer and its URL (the QR code's content).
//!
//! Every secret lives in the URL *fragment*, which browsers never send to a
//! server: `BASE#v=1&pk=..&tok=..&t=..&tp=..&exp=..&b=..[&b=..]`. Values are
//! percent-encoded (RFC 3986 unreserved characters pass through); byte
//! values are unpadded base64url. See `docs/protocol.md` §Pairing URL.
//!
//! This module creates and parses offers; it does not decide whether one is
//! still valid at a given time (the state machines do) nor render QR codes.

use crate::channel::validate_topic_prefix;
use crate::codec::{b64, unb64_array};
use crate::keys::IdentityKeyPair;
use rand::{CryptoRng, RngCore};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest lifetime of an offer: 3 minutes. Long enough to scan and compare
/// six digits, short enough that a photographed QR code is soon useless.
pub const MAX_OFFER_TTL_MS: u64 = 180_000;

/// At most this many broker URLs (LAN + internet fallback is typically 2).
pub const MAX_BROKERS: usize = 4;

/// Longest broker URL or pairing topic accepted from a URL.
pub const MAX_URL_FIELD_BYTES: usize = 256;

/// Why an offer could not be built or parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OfferError {
    /// No `#` fragment, or a malformed `key=value` pair.
    #[error("not a Reins pairing link: {0}")]
    Malformed(&'static str),
    /// `v` is not 1.
    #[error("this pairing link needs a newer app (protocol version {0})")]
    UnsupportedVersion(String),
    /// A required field is missing or repeated.
    #[error("pairing link field '{0}' is missing or repeated")]
    Field(&'static str),
    /// A field has an invalid value.
    #[error("pairing link field '{0}' is invalid")]
    Invalid(&'static str),
    /// The requested lifetime is longer than [`MAX_OFFER_TTL_MS`].
    #[error("pairing offers may live at most {MAX_OFFER_TTL_MS} ms")]
    TtlTooLong,
}

/// The single-use 128-bit pairing token. Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PairingToken(pub(crate) [u8; 16]);

impl PairingToken {
    /// Wraps raw bytes (test vectors).
    pub fn from_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for PairingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingToken(<redacted>)")
    }
}

/// What the QR code carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairingOffer {
    /// The desktop's X25519 public key.
    pub desktop_public: [u8; 32],
    /// Broker URLs (`mqtt://`, `mqtts://`, `ws://`, `wss://`), preferred first.
    pub brokers: Vec<String>,
    /// The one-off topic the pairing exchange runs on.
    pub pairing_topic: String,
    /// Prefix for the pair's derived topics (may be empty).
    pub topic_prefix: String,
    /// The single-use token.
    pub token: PairingToken,
    /// Unix ms after which the offer is void.
    pub expires_at_ms: u64,
}

impl PairingOffer {
    /// A fresh offer with a random token and a random pairing topic
    /// (`prefix + 32 hex digits`), valid for `ttl_ms` ≤ [`MAX_OFFER_TTL_MS`].
    pub fn new<R: RngCore + CryptoRng>(
        identity: &IdentityKeyPair,
        brokers: Vec<String>,
        topic_prefix: &str,
        now_ms: u64,
        ttl_ms: u64,
        rng: &mut R,
    ) -> Result<Self, OfferError> {
        if ttl_ms > MAX_OFFER_TTL_MS {
            return Err(OfferError::TtlTooLong);
        }
        validate_topic_prefix(topic_prefix).map_err(|_| OfferError::Invalid("tp"))?;
        validate_brokers(&brokers)?;
        let mut token = [0u8; 16];
        let mut topic = [0u8; 16];
        rng.fill_bytes(&mut token);
        rng.fill_bytes(&mut topic);
        Ok(Self {
            desktop_public: identity.public(),
            brokers,
            pairing_topic: format!("{topic_prefix}{}", hex::encode(topic)),
            topic_prefix: topic_prefix.to_owned(),
            token: PairingToken(token),
            expires_at_ms: now_ms + ttl_ms,
        })
    }

    /// The pairing URL: `base` (e.g. `https://reins.example/pair`) plus the fragment.
    pub fn to_url(&self, base: &str) -> String {
        let mut s = format!(
            "{}#v={}&pk={}&tok={}&t={}&tp={}&exp={}",
            base.split('#').next().unwrap_or(base),
            crate::PROTOCOL_VERSION,
            b64(&self.desktop_public),
            b64(&self.token.0),
            pct_encode(&self.pairing_topic),
            pct_encode(&self.topic_prefix),
            self.expires_at_ms
        );
        for b in &self.brokers {
            s.push_str("&b=");
            s.push_str(&pct_encode(b));
        }
        s
    }

    /// Parses a pairing URL. Unknown keys are ignored (forward compatible);
    /// every known key except `b` must appear exactly once (`tp` at most once).
    /// Does not check expiry.
    pub fn from_url(url: &str) -> Result<Self, OfferError> {
        let (_, frag) = url
            .split_once('#')
            .ok_or(OfferError::Malformed("no fragment"))?;
        if frag.len() > 4096 {
            return Err(OfferError::Malformed("too long"));
        }
        let one = |key: &'static str, slot: &mut Option<String>, val: String| {
            if slot.replace(val).is_some() {
                Err(OfferError::Field(key))
            } else {
                Ok(())
            }
        };
        let (mut v, mut pk, mut tok, mut t, mut tp, mut exp) = (None, None, None, None, None, None);
        let mut brokers = Vec::new();
        for pair in frag.split('&') {
            let (k, raw) = pair
                .split_once('=')
                .ok_or(OfferError::Malformed("key=value"))?;
            let val = pct_decode(raw).ok_or(OfferError::Malformed("percent-encoding"))?;
            match k {
                "v" => one("v", &mut v, val)?,
                "pk" => one("pk", &mut pk, val)?,
                "tok" => one("tok", &mut tok, val)?,
                "t" => one("t", &mut t, val)?,
                "tp" => one("tp", &mut tp, val)?,
                "exp" => one("exp", &mut exp, val)?,
                "b" => brokers.push(val),
                _ => {}
            }
        }
        let v = v.ok_or(OfferError::Field("v"))?;
        if v != crate::PROTOCOL_VERSION.to_string() {
            return Err(OfferError::UnsupportedVersion(v.chars().take(8).collect()));
        }
        let desktop_public =
            unb64_array(&pk.ok_or(OfferError::Field("pk"))?).ok_or(OfferError::Invalid("pk"))?;
        let token =
            unb64_array(&tok.ok_or(OfferError::Field("tok"))?).ok_or(OfferError::Invalid("tok"))?;
        let topic_prefix = tp.unwrap_or_default();
        validate_topic_prefix(&topic_prefix).map_err(|_| OfferError::Invalid("tp"))?;
        let pairing_topic = t.ok_or(OfferError::Field("t"))?;
        validate_pairing_topic(&pairing_topic)?;
        let exp = exp.ok_or(OfferError::Field("exp"))?;
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) || exp.len() > 16 {
            return Err(OfferError::Invalid("exp"));
        }
        let expires_at_ms = exp.parse().map_err(|_| OfferError::Invalid("exp"))?;
        if brokers.is_empty() {
            return Err(OfferError::Field("b"));
        }
        validate_brokers(&brokers)?;
        Ok(Self {
            desktop_public,
            brokers,
            pairing_topic,
            topic_prefix,
            token: PairingToken(token),
            expires_at_ms,
        })
    }
}

fn validate_pairing_topic(t: &str) -> Result<(), OfferError> {
    let ok = !t.is_empty()
        && t.len() <= MAX_URL_FIELD_BYTES
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(OfferError::Invalid("t"))
    }
}

fn validate_brokers(brokers: &[String]) -> Result<(), OfferError> {
    if brokers.is_empty() || brokers.len() > MAX_BROKERS {
        return Err(OfferError::Invalid("b"));
    }
    for b in brokers {
        let scheme_ok = ["mqtt://", "mqtts://", "ws://", "wss://"]
            .iter()
            .any(|s| b.starts_with(s));
        if !scheme_ok || b.len() > MAX_URL_FIELD_BYTES || b.chars().any(char::is_control) {
            return Err(OfferError::Invalid("b"));
        }
    }
    Ok(())
}

/// Percent-encodes everything outside RFC 3986's unreserved set.
fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; the result must be UTF-8. `+` is *not* a space.
fn pct_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn offer() -> PairingOffer {
        let mut rng = StdRng::seed_from_u64(5);
        let id = IdentityKeyPair::generate(&mut rng);
        let brokers = vec![
            "mqtts://broker.example:8883".into(),
            "ws://192.168.1.2:9001/mqtt".into(),
        ];
        PairingOffer::new(&id, brokers, "reins/", 1_000, MAX_OFFER_TTL_MS, &mut rng).unwrap()
    }

    #[test]
    fn an_offer_round_trips_through_its_url() {
        let o = offer();
        let url = o.to_url("https://reins.example/pair");
        assert!(url.starts_with("https://reins.example/pair#v=1&pk="));
        assert_eq!(PairingOffer::from_url(&url).unwrap(), o);
    }

    #[test]
    fn every_secret_is_in_the_fragment() {
        let o = offer();
        let url = o.to_url("https://reins.example/pair");
        let (before, _) = url.split_once('#').unwrap();
        assert!(!before.contains(&b64(o.token.as_bytes())));
        assert!(!before.contains(&b64(&o.desktop_public)));
    }

    #[test]
    fn offers_cannot_live_longer_than_three_minutes() {
        let mut rng = StdRng::seed_from_u64(6);
        let id = IdentityKeyPair::generate(&mut rng);
        let r = PairingOffer::new(
            &id,
            vec!["mqtt://x".into()],
            "",
            0,
            MAX_OFFER_TTL_MS + 1,
            &mut rng,
        );
        assert_eq!(r, Err(OfferError::TtlTooLong));
    }

    #[test]
    fn broken_or_hostile_links_are_refused() {
        let url = offer().to_url("https://x/p");
        let cases = [
            url.replace("#v=1", "#v=2"),
            url.replace("&b=", "&c="),
            format!("{url}&tok=AAAAAAAAAAAAAAAAAAAAAA"),
            url.replace("&tp=reins%2F", "&tp=%23"),
            url.replace("&t=reins%2F", "&t=%2B%2F"),
            url.replace("mqtts%3A", "http%3A"),
            url.replace('#', "?"),
            url.replace("&exp=", "&exp=-"),
            url.replace("&pk=", "&pk=AA"),
            format!("{url}&b=%ZZ"),
        ];
        for bad in cases {
            assert!(PairingOffer::from_url(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_token_is_never_printed() {
        let o = offer();
        let dbg = format!("{o:?}");
        assert!(dbg.contains("<redacted>"));
        assert!(!dbg.contains(&format!("{:?}", o.token.0)));
    }
}
