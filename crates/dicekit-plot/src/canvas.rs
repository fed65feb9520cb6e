//! An RGB raster with anti-aliased lines and circles, bitmap text and PNG output.

use std::path::Path;

use crate::font::{self, ADVANCE, GLYPH_HEIGHT};

/// Largest accepted side length in pixels; larger requests are clamped.
pub const MAX_SIDE: u32 = 16_384;

/// A half-open pixel rectangle `[x0, x1) x [y0, y1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge (inclusive).
    pub x0: i32,
    /// Top edge (inclusive).
    pub y0: i32,
    /// Right edge (exclusive).
    pub x1: i32,
    /// Bottom edge (exclusive).
    pub y1: i32,
}

impl Rect {
    /// Width in pixels (0 when empty).
    pub fn width(&self) -> i32 {
        (self.x1 - self.x0).max(0)
    }

    /// Height in pixels (0 when empty).
    pub fn height(&self) -> i32 {
        (self.y1 - self.y0).max(0)
    }

    fn intersect(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
    }
}

/// An RGB image, row-major with the origin at the top-left corner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` pixels, row by row.
    pub pixels: Vec<[u8; 3]>,
}

impl Canvas {
    /// A canvas filled with `background`; sides are clamped to `1..=MAX_SIDE`.
    pub fn new(width: u32, height: u32, background: [u8; 3]) -> Self {
        let (width, height) = (width.clamp(1, MAX_SIDE), height.clamp(1, MAX_SIDE));
        Canvas {
            width,
            height,
            pixels: vec![background; width as usize * height as usize],
        }
    }

    /// The whole canvas as a [`Rect`].
    pub fn bounds(&self) -> Rect {
        Rect {
            x0: 0,
            y0: 0,
            x1: self.width as i32,
            y1: self.height as i32,
        }
    }

    fn index(&self, x: i32, y: i32) -> Option<usize> {
        let inside = x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height;
        let i = y as usize * self.width as usize + x as usize;
        (inside && i < self.pixels.len()).then_some(i)
    }

    /// The pixel at (`x`, `y`), or `None` outside the canvas.
    pub fn get(&self, x: i32, y: i32) -> Option<[u8; 3]> {
        self.index(x, y).map(|i| self.pixels[i])
    }

    /// Blends `color` over the pixel at (`x`, `y`) with opacity `alpha` in `[0, 1]`.
    pub fn blend(&mut self, x: i32, y: i32, color: [u8; 3], alpha: f64) {
        let a = if alpha.is_nan() {
            0.0
        } else {
            alpha.clamp(0.0, 1.0)
        };
        if a <= 0.0 {
            return;
        }
        if let Some(i) = self.index(x, y) {
            let p = &mut self.pixels[i];
            for c in 0..3 {
                p[c] = (f64::from(p[c]) * (1.0 - a) + f64::from(color[c]) * a).round() as u8;
            }
        }
    }

    /// Fills the `w` x `h` rectangle whose top-left corner is (`x`, `y`).
    pub fn fill_rect(&mut self, x: i32, y: i32, w: i32, h: i32, color: [u8; 3]) {
        self.blend_rect(x, y, w, h, color, 1.0);
    }

    /// Blends `color` with opacity `alpha` over the `w` x `h` rectangle at (`x`, `y`).
    pub fn blend_rect(&mut self, x: i32, y: i32, w: i32, h: i32, color: [u8; 3], alpha: f64) {
        let r = Rect {
            x0: x,
            y0: y,
            x1: x.saturating_add(w),
            y1: y.saturating_add(h),
        };
        let r = r.intersect(&self.bounds());
        for py in r.y0..r.y1 {
            for px in r.x0..r.x1 {
                self.blend(px, py, color, alpha);
            }
        }
    }

    /// Draws the outline (1 pixel) of the `w` x `h` rectangle at (`x`, `y`).
    pub fn stroke_rect(&mut self, x: i32, y: i32, w: i32, h: i32, color: [u8; 3]) {
        self.fill_rect(x, y, w, 1, color);
        self.fill_rect(x, y.saturating_add(h).saturating_sub(1), w, 1, color);
        self.fill_rect(x, y, 1, h, color);
        self.fill_rect(x.saturating_add(w).saturating_sub(1), y, 1, h, color);
    }

    /// An anti-aliased line of the given `width` (pixels) with round caps.
    ///
    /// Pixel centres sit at half-integer coordinates: the pixel (3, 4) covers `[3, 4) x [4, 5)`.
    pub fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, width: f64, color: [u8; 3]) {
        self.polyline(&[(x0, y0), (x1, y1)], width, color, None, None);
    }

    /// An anti-aliased polyline, optionally dashed (`(on, off)` lengths in pixels) and clipped.
    ///
    /// Non-finite points break the line. Overlapping parts are blended once, so joints
    /// of translucent or anti-aliased lines do not darken.
    pub fn polyline(
        &mut self,
        points: &[(f64, f64)],
        width: f64,
        color: [u8; 3],
        dash: Option<(f64, f64)>,
        clip: Option<Rect>,
    ) {
        if !(width > 0.0 && width.is_finite()) {
            return;
        }
        let area = clip.map_or(self.bounds(), |c| c.intersect(&self.bounds()));
        if area.width() == 0 || area.height() == 0 {
            return;
        }
        let (stroke, opacity) = (width.max(1.0), width.min(1.0));
        let dash = dash.filter(|&(on, off)| on >= 0.5 && off >= 0.0 && (on + off).is_finite());
        let mut mask = Mask::new(area);
        let mut phase = 0.0;
        for pair in points.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
                phase = 0.0;
                continue;
            }
            let length = (b.0 - a.0).hypot(b.1 - a.1);
            if !length.is_finite() {
                phase = 0.0;
                continue;
            }
            let pad = stroke / 2.0 + 1.0;
            if let Some((t0, t1)) = clip_segment(a, b, &area, pad) {
                let at = |t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                match dash {
                    None => mask.segment(at(t0), at(t1), stroke / 2.0, true),
                    Some((on, off)) => {
                        let period = on + off;
                        // Walk the visible part dash by dash, in coordinates local to it.
                        let visible = (t1 - t0) * length;
                        let mut p = (phase + t0 * length) % period;
                        let mut u = 0.0;
                        while u < visible {
                            let step = if p < on { on - p } else { period - p };
                            let next = (u + step.max(1e-3)).min(visible);
                            if p < on {
                                let t = |u: f64| t0 + u / length;
                                mask.segment(at(t(u)), at(t(next)), stroke / 2.0, false);
                            }
                            p = (p + step) % period;
                            u = next;
                        }
                    }
                }
            }
            phase = (phase + length) % dash.map_or(1.0, |(on, off)| on + off);
        }
        mask.composite(self, color, opacity);
    }

    /// A filled anti-aliased circle of radius `r` centred at (`cx`, `cy`).
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, color: [u8; 3]) {
        if !(cx.is_finite() && cy.is_finite() && r > 0.0 && r < f64::from(MAX_SIDE)) {
            return;
        }
        let area = Rect {
            x0: (cx - r - 1.0).floor() as i32,
            y0: (cy - r - 1.0).floor() as i32,
            x1: (cx + r + 2.0).ceil() as i32,
            y1: (cy + r + 2.0).ceil() as i32,
        }
        .intersect(&self.bounds());
        for y in area.y0..area.y1 {
            for x in area.x0..area.x1 {
                let d = (f64::from(x) + 0.5 - cx).hypot(f64::from(y) + 0.5 - cy);
                self.blend(x, y, color, r + 0.5 - d);
            }
        }
    }

    /// Width in pixels of `text` drawn at integer `scale`.
    pub fn text_width(text: &str, scale: u32) -> u32 {
        let n = text.chars().count() as u32;
        n.saturating_mul(ADVANCE)
            .saturating_sub(1)
            .saturating_mul(scale.clamp(1, 64))
    }

    /// Height in pixels of a line of text at integer `scale` (descenders included).
    pub fn text_height(scale: u32) -> u32 {
        GLYPH_HEIGHT * scale.clamp(1, 64)
    }

    /// Draws `text` with its top-left corner at (`x`, `y`), each font pixel a `scale` square.
    pub fn text(&mut self, x: i32, y: i32, text: &str, scale: u32, color: [u8; 3]) {
        let s = i64::from(scale.clamp(1, 64));
        for (i, ch) in text.chars().enumerate() {
            let left = i64::from(x) + (i as i64) * i64::from(ADVANCE) * s;
            for row in 0..GLYPH_HEIGHT {
                for col in 0..font::GLYPH_WIDTH {
                    if font::pixel(ch, col, row) {
                        let (px, py) =
                            (left + i64::from(col) * s, i64::from(y) + i64::from(row) * s);
                        self.fill_cell(px, py, s, color);
                    }
                }
            }
        }
    }

    /// Fills an `s` x `s` square given in wide coordinates (far-away squares are dropped).
    fn fill_cell(&mut self, x: i64, y: i64, s: i64, color: [u8; 3]) {
        if let (Ok(x), Ok(y), Ok(s)) = (i32::try_from(x), i32::try_from(y), i32::try_from(s)) {
            self.fill_rect(x, y, s, s, color);
        }
    }

    /// Draws `text` rotated a quarter turn counter-clockwise (reading bottom to top) inside
    /// the box whose top-left corner is (`x`, `y`); the box is `text_height` wide and
    /// `text_width` tall.
    pub fn text_vertical(&mut self, x: i32, y: i32, text: &str, scale: u32, color: [u8; 3]) {
        let s = i64::from(scale.clamp(1, 64));
        let bottom = i64::from(y) + i64::from(Self::text_width(text, scale));
        for (i, ch) in text.chars().enumerate() {
            for row in 0..GLYPH_HEIGHT {
                for col in 0..font::GLYPH_WIDTH {
                    if font::pixel(ch, col, row) {
                        let along = (i as i64 * i64::from(ADVANCE) + i64::from(col) + 1) * s;
                        self.fill_cell(i64::from(x) + i64::from(row) * s, bottom - along, s, color);
                    }
                }
            }
        }
    }

    /// The image encoded as an 8-bit RGB PNG.
    pub fn to_png_bytes(&self) -> Vec<u8> {
        let n = self.width as usize * self.height as usize;
        let mut data: Vec<u8> = self.pixels.iter().take(n).flatten().copied().collect();
        data.resize(n * 3, 255);
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let written = encoder.write_header().and_then(|mut w| {
            w.write_image_data(&data)?;
            w.finish()
        });
        // Sizes are validated in `new` and the buffer is padded: encoding into memory cannot fail.
        written.expect("in-memory PNG encoding of a well-formed canvas");
        out
    }

    /// Writes the image as a PNG file.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_png_bytes())
    }
}

/// Per-pixel coverage over a rectangle; strokes take the maximum so overlaps blend once.
struct Mask {
    area: Rect,
    cover: Vec<f32>,
}

impl Mask {
    fn new(area: Rect) -> Self {
        Mask {
            area,
            cover: vec![0.0; area.width() as usize * area.height() as usize],
        }
    }

    /// Adds a segment of half-width `r`, with round caps or (for dashes) butt caps.
    fn segment(&mut self, a: (f64, f64), b: (f64, f64), r: f64, round: bool) {
        let bbox = Rect {
            x0: (a.0.min(b.0) - r - 1.0).floor() as i32,
            y0: (a.1.min(b.1) - r - 1.0).floor() as i32,
            x1: (a.0.max(b.0) + r + 2.0).ceil() as i32,
            y1: (a.1.max(b.1) + r + 2.0).ceil() as i32,
        }
        .intersect(&self.area);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        let (ux, uy) = if len > 0.0 {
            ((b.0 - a.0) / len, (b.1 - a.1) / len)
        } else {
            (1.0, 0.0)
        };
        let w = self.area.width() as usize;
        for y in bbox.y0..bbox.y1 {
            for x in bbox.x0..bbox.x1 {
                let (px, py) = (f64::from(x) + 0.5 - a.0, f64::from(y) + 0.5 - a.1);
                // Position along the segment and distance across it.
                let along = px * ux + py * uy;
                let across = (px * uy - py * ux).abs();
                let c = if round {
                    let t = along.clamp(0.0, len);
                    (r + 0.5 - (px - t * ux).hypot(py - t * uy)).clamp(0.0, 1.0)
                } else {
                    let ends = (along + 0.5).clamp(0.0, 1.0) * (len - along + 0.5).clamp(0.0, 1.0);
                    (r + 0.5 - across).clamp(0.0, 1.0) * ends
                };
                let i = (y - self.area.y0) as usize * w + (x - self.area.x0) as usize;
                self.cover[i] = self.cover[i].max(c as f32);
            }
        }
    }

    fn composite(&self, canvas: &mut Canvas, color: [u8; 3], opacity: f64) {
        let w = self.area.width() as usize;
        for (i, &c) in self.cover.iter().enumerate() {
            if c > 0.0 {
                let (x, y) = ((i % w) as i32 + self.area.x0, (i / w) as i32 + self.area.y0);
                canvas.blend(x, y, color, f64::from(c) * opacity);
            }
        }
    }
}

/// Liang–Barsky: the parameter interval of segment `a -> b` inside `area` grown by `pad`.
fn clip_segment(a: (f64, f64), b: (f64, f64), area: &Rect, pad: f64) -> Option<(f64, f64)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (x0, y0) = (f64::from(area.x0) - pad, f64::from(area.y0) - pad);
    let (x1, y1) = (f64::from(area.x1) + pad, f64::from(area.y1) + pad);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    (t0 <= t1 && t0.is_finite() && t1.is_finite()).then_some((t0, t1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WHITE: [u8; 3] = [255, 255, 255];
    const RED: [u8; 3] = [200, 0, 0];

    #[test]
    fn line_endpoints_touch_expected_pixels() {
        let mut c = Canvas::new(40, 30, WHITE);
        c.line(5.5, 5.5, 30.5, 20.5, 2.0, RED);
        assert_eq!(c.get(5, 5), Some(RED));
        assert_eq!(c.get(30, 20), Some(RED));
        assert_eq!(c.get(18, 13), Some(RED), "midpoint is fully covered");
        assert_eq!(c.get(35, 25), Some(WHITE));
        assert_eq!(c.get(5, 20), Some(WHITE));
        // Anti-aliased: some pixels are partially covered.
        assert!(c.pixels.iter().any(|p| *p != WHITE && *p != RED));
    }

    #[test]
    fn dashed_line_has_gaps_and_clip_is_respected() {
        let mut c = Canvas::new(100, 10, WHITE);
        c.polyline(
            &[(0.0, 5.0), (100.0, 5.0)],
            1.0,
            RED,
            Some((4.0, 4.0)),
            None,
        );
        let row: Vec<bool> = (0..100).map(|x| c.get(x, 4) != Some(WHITE)).collect();
        assert!(row.iter().filter(|&&on| on).count() > 30);
        assert!(row.iter().filter(|&&on| !on).count() > 30);
        let mut c = Canvas::new(50, 50, WHITE);
        let clip = Rect {
            x0: 10,
            y0: 10,
            x1: 20,
            y1: 20,
        };
        c.polyline(&[(0.0, 15.0), (50.0, 15.0)], 3.0, RED, None, Some(clip));
        assert_eq!(c.get(15, 14), Some(RED));
        assert_eq!(c.get(5, 14), Some(WHITE));
        assert_eq!(c.get(25, 14), Some(WHITE));
    }

    #[test]
    fn degenerate_drawing_calls_do_not_panic() {
        let mut c = Canvas::new(0, 0, WHITE);
        assert_eq!((c.width, c.height), (1, 1));
        c.line(f64::NAN, 0.0, 1.0, f64::INFINITY, 1.0, RED);
        c.line(-1e300, -1e300, 1e300, 1e300, 2.0, RED);
        c.polyline(
            &[(-1e300, 0.5), (1e300, 0.5)],
            1.0,
            RED,
            Some((3.0, 2.0)),
            None,
        );
        c.line(0.0, 0.0, 0.0, 0.0, f64::NAN, RED);
        c.circle(0.5, 0.5, 1e9, RED);
        c.fill_rect(i32::MAX, i32::MIN, i32::MAX, i32::MAX, RED);
        c.text(i32::MIN, i32::MAX, "overflow", 64, RED);
        c.text_vertical(-5, -5, "x", 3, RED);
        assert_ne!(c.get(0, 0), Some(WHITE));
        // Far-away endpoints (as produced by charts, clamped to 1e9) keep their precision.
        let mut c = Canvas::new(10, 3, WHITE);
        c.line(-1e9, 1.5, 1e9, 1.5, 1.0, RED);
        assert!((0..10).all(|x| c.get(x, 1) == Some(RED) && c.get(x, 0) == Some(WHITE)));
    }

    #[test]
    fn circle_is_filled_and_round() {
        let mut c = Canvas::new(20, 20, WHITE);
        c.circle(10.0, 10.0, 4.0, RED);
        assert_eq!(c.get(10, 10), Some(RED));
        assert_eq!(c.get(6, 6), Some(WHITE));
    }

    #[test]
    fn text_renders_within_its_width() {
        let mut c = Canvas::new(120, 40, WHITE);
        let s = "Loss 0.25";
        let w = Canvas::text_width(s, 2) as i32;
        assert_eq!(w, (9 * 6 - 1) * 2);
        c.text(3, 4, s, 2, RED);
        let inked: Vec<(i32, i32)> = (0..40)
            .flat_map(|y| (0..120).map(move |x| (x, y)))
            .filter(|&(x, y)| c.get(x, y) != Some(WHITE))
            .collect();
        assert!(!inked.is_empty());
        assert!(
            inked
                .iter()
                .all(|&(x, y)| (3..3 + w).contains(&x) && (4..4 + 18).contains(&y))
        );
        assert_eq!(Canvas::text_width("", 3), 0);
    }

    #[test]
    fn vertical_text_stays_in_its_box() {
        let mut c = Canvas::new(40, 80, WHITE);
        let h = Canvas::text_width("Acc", 1) as i32;
        c.text_vertical(10, 20, "Acc", 1, RED);
        for y in 0..80 {
            for x in 0..40 {
                if c.get(x, y) != Some(WHITE) {
                    assert!(
                        (10..19).contains(&x) && (20..20 + h).contains(&y),
                        "({x},{y})"
                    );
                }
            }
        }
    }

    #[test]
    fn png_round_trip() {
        let mut c = Canvas::new(7, 5, WHITE);
        c.fill_rect(2, 3, 1, 1, [1, 2, 3]);
        let bytes = c.to_png_bytes();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (7, 5));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        let i = (3 * 7 + 2) * 3;
        assert_eq!(&buf[i..i + 3], &[1, 2, 3]);
        assert_eq!(&buf[0..3], &[255, 255, 255]);
    }
}
