//! Colours: the Okabe–Ito colour-blind-safe qualitative palette and the chart chrome.

/// Okabe–Ito black.
pub const BLACK: [u8; 3] = [0, 0, 0];
/// Okabe–Ito orange.
pub const ORANGE: [u8; 3] = [230, 159, 0];
/// Okabe–Ito sky blue.
pub const SKY_BLUE: [u8; 3] = [86, 180, 233];
/// Okabe–Ito bluish green.
pub const BLUISH_GREEN: [u8; 3] = [0, 158, 115];
/// Okabe–Ito yellow (low contrast on white: used last).
pub const YELLOW: [u8; 3] = [240, 228, 66];
/// Okabe–Ito blue.
pub const BLUE: [u8; 3] = [0, 114, 178];
/// Okabe–Ito vermillion.
pub const VERMILLION: [u8; 3] = [213, 94, 0];
/// Okabe–Ito reddish purple.
pub const REDDISH_PURPLE: [u8; 3] = [204, 121, 167];

/// Series colours in the order they are assigned (Okabe–Ito, strongest contrast on white first).
pub const SERIES: [[u8; 3]; 8] = [
    BLUE,
    ORANGE,
    BLUISH_GREEN,
    VERMILLION,
    REDDISH_PURPLE,
    SKY_BLUE,
    BLACK,
    YELLOW,
];

/// Chart background.
pub const WHITE: [u8; 3] = [255, 255, 255];
/// Grid lines.
pub const GRID: [u8; 3] = [228, 228, 228];
/// Axis frame and tick marks.
pub const AXIS: [u8; 3] = [90, 90, 90];
/// Text.
pub const TEXT: [u8; 3] = [30, 30, 30];
/// Secondary text and reference lines.
pub const MUTED: [u8; 3] = [120, 120, 120];
/// Border of the legend and annotation boxes.
pub const BOX_BORDER: [u8; 3] = [200, 200, 200];

/// The colour of the series at `index`, cycling through [`SERIES`].
pub fn series_color(index: usize) -> [u8; 3] {
    SERIES[index % SERIES.len()]
}

/// `c` as a plotters colour.
pub(crate) fn rgb(c: [u8; 3]) -> plotters::style::RGBColor {
    plotters::style::RGBColor(c[0], c[1], c[2])
}
