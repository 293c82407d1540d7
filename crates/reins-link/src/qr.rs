//! Terminal QR codes for `reins pair`: the pairing URL rendered with Unicode
//! half blocks (two modules per character cell), dark-on-light so phone
//! cameras read it on both dark and light terminal themes.
//!
//! Not here: deciding what goes in the URL ([`crate::pair`]).

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

/// Why a QR code could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the pairing link is too long for a QR code ({0}); use fewer or shorter broker URLs")]
pub struct QrError(String);

/// Renders `text` as a terminal QR code (with the quiet zone).
/// Error correction M: pairing URLs are ~250 bytes, and M keeps the code
/// small enough for an 80-column terminal while tolerating glare.
pub fn render_terminal(text: &str) -> Result<String, QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| QrError(e.to_string()))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_pairing_url_fits_in_an_80_column_terminal() {
        let url = format!(
            "https://reins.example/pair#v=1&pk={}&tok={}&t=reins%2F{}&tp=reins%2F&exp=1700000000000&b=mqtt%3A%2F%2F192.168.1.20%3A1883&b=ws%3A%2F%2F192.168.1.20%3A8083",
            "A".repeat(43),
            "B".repeat(22),
            "c".repeat(32)
        );
        let s = render_terminal(&url).unwrap();
        let width = s.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(width <= 80, "width {width}");
        assert!(s.lines().count() > 10);
    }

    #[test]
    fn absurdly_long_input_is_an_error_not_a_panic() {
        assert!(render_terminal(&"x".repeat(5000)).is_err());
    }
}
