//! A pairing URL as QR modules for the window to draw on a canvas.
//!
//! Only the matrix: `1` for a dark module, `0` for a light one, row by row.
//! No image or markup is produced here, so nothing from the URL can reach
//! the page as HTML.

use crate::view::{QrView, UiError};
use qrcode::{Color, EcLevel, QrCode};

/// The QR code of `text` (error correction M, as the terminal's).
pub fn qr_view(text: &str) -> Result<QrView, UiError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| {
        UiError::new(format!(
            "The pairing link does not fit in a QR code ({e}); copy the link instead."
        ))
    })?;
    let width = code.width() as u32;
    let modules = code
        .to_colors()
        .into_iter()
        .map(|c| if c == Color::Dark { '1' } else { '0' })
        .collect();
    Ok(QrView { width, modules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modules_are_a_square_of_ones_and_zeros_with_finder_patterns() {
        let q = qr_view("https://192.168.1.20:8443/#pair=abcdef0123456789").unwrap();
        let w = q.width as usize;
        assert!(w >= 21 && (w - 17) % 4 == 0, "width {w}");
        assert_eq!(q.modules.len(), w * w);
        assert!(q.modules.chars().all(|c| c == '0' || c == '1'));
        let row = |r: usize| &q.modules[r * w..(r + 1) * w];
        // The top-left finder pattern: a 7-module dark row, then dark-light-dark edges.
        assert_eq!(&row(0)[..7], "1111111");
        assert_eq!(&row(1)[..7], "1000001");
        assert_eq!(&row(0)[w - 7..], "1111111");
    }

    #[test]
    fn a_text_too_long_for_any_qr_code_is_a_clear_error() {
        let e = qr_view(&"x".repeat(5000)).unwrap_err();
        assert!(e.message.contains("copy the link"), "{}", e.message);
    }
}
