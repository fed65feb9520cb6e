//! The embedded font and text placement.
//!
//! Text is set in DejaVu Sans (`fonts/DejaVuSans.ttf`, Bitstream Vera and Arev licences in
//! `fonts/LICENSE-DejaVu.txt`), compiled into the binary and registered with plotters' ab_glyph
//! font table before the first chart is drawn, so rendering needs no system fonts.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::frame::Style;

/// The name the font is registered under. The SVG backend writes it verbatim into the
/// `font-family` attribute, hence the generic fallback for viewers without DejaVu Sans.
pub(crate) const FAMILY: &str = "DejaVu Sans, sans-serif";

/// DejaVu Sans 2.37, unmodified.
static DEJAVU_SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process); `false` if the font could not
/// be parsed, in which case text is left out of the charts.
pub(crate) fn register_font() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    })
}

/// The font at `size` (plotters' size: the pixel height from descender to ascender).
pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FAMILY), size, FontStyle::Normal)
}

/// Width in pixels of `text` set at `size` (an estimate from the character count if the font
/// is unavailable).
pub(crate) fn width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: f64,
) -> i32 {
    if text.is_empty() {
        return 0;
    }
    match area.estimate_text_size(text, &font(size).into()) {
        Ok((w, _)) => i32::try_from(w).unwrap_or(i32::MAX),
        Err(_) => (0.6 * size * text.chars().count() as f64).ceil() as i32,
    }
}

/// The widest of `texts` at `size`.
pub(crate) fn max_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    texts: &[String],
    size: f64,
) -> i32 {
    texts
        .iter()
        .map(|t| width(area, t, size))
        .max()
        .unwrap_or(0)
}

/// Height of a line of text at `size`, descenders included.
pub(crate) fn line_height(size: f64) -> i32 {
    size.ceil() as i32
}

/// Height of capitals and digits at `size` (DejaVu Sans: 1493 of the 2384 font units that
/// plotters scales to `size`).
pub(crate) fn cap_height(size: f64) -> i32 {
    (size * 1493.0 / 2384.0).round() as i32
}

/// Horizontal text whose capitals are vertically centred on `cy`, aligned on `x` by `h`.
pub(crate) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    st: &Style,
    text: &str,
    (x, cy): (i32, i32),
    size: f64,
    color: RGBColor,
    h: HPos,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    if text.is_empty() {
        return Ok(());
    }
    let style = TextStyle::from(font(size))
        .color(&color)
        .pos(Pos::new(h, VPos::Center));
    area.draw_text(text, &style, (x, cy + st.center_shift(size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_is_registered_and_measures_text() {
        assert!(register_font());
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (200, 100)).into_drawing_area();
        let w0 = width(&root, "0", 20.0);
        // DejaVu Sans digits are 0.636 em wide, the em being 2048 / 2384 of the size.
        assert_eq!(w0, (20.0f64 * 0.636 * 2048.0 / 2384.0) as i32);
        assert!((width(&root, "00", 20.0) - 2 * w0).abs() <= 1);
        assert_eq!(width(&root, "", 20.0), 0);
        assert!(width(&root, "Accuracy", 20.0) > width(&root, "Gap", 20.0));
        assert_eq!(
            max_width(&root, &["a".into(), "wide".into()], 20.0),
            width(&root, "wide", 20.0)
        );
        assert_eq!((line_height(15.5), cap_height(20.0)), (16, 13));
    }
}
