//! A rendered chart: its RGB pixels (drawn by plotters' bitmap backend) and its SVG document
//! (drawn by plotters' SVG backend), written out as PNG or SVG files.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::frame::{self, Style, Target};
use crate::text;

/// Upper bound on the side of a [`Canvas`] in pixels (charts clamp their sizes to
/// `64..=8192` x `48..=8192`, well below it).
pub const MAX_SIDE: u32 = 16_384;

/// Bitmaps of at most this many pixels are drawn at twice their size and scaled down, which
/// anti-aliases the lines, markers and bars (plotters draws wide lines without anti-aliasing).
const SUPERSAMPLE_MAX_PIXELS: u64 = 4 << 20;

/// A rendered chart: an RGB image, row-major with the origin at the top-left corner, and the
/// same chart as an SVG document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canvas {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` pixels, row by row.
    pub pixels: Vec<[u8; 3]>,
    /// The chart as a standalone SVG document of the same size.
    svg: String,
}

/// Something drawn with plotters on any backend: the chart types.
pub(crate) trait Figure {
    /// Draws the figure over the whole of `root`, sized by `st`.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Renders `figure` on a white `width` x `height` canvas (clamped to the chart limits), as
/// pixels and as SVG. A drawing error (none is expected: the backends draw into memory and the
/// font is embedded) stops that backend's drawing and is returned beside what was drawn.
pub(crate) fn paint(figure: &impl Figure, width: u32, height: u32) -> (Canvas, Option<String>) {
    let (w, h) = frame::clamp_size(width, height);
    let mut error = None;
    if !text::register_font() {
        error = Some("the embedded font could not be loaded".to_owned());
    }
    let k: u32 = if u64::from(w) * u64::from(h) <= SUPERSAMPLE_MAX_PIXELS {
        2
    } else {
        1
    };
    let (bw, bh) = (w * k, h * k);
    let mut buffer = vec![255u8; bw as usize * bh as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (bw, bh)).into_drawing_area();
        let drawn = figure
            .draw(&root, &Style::new(w, h, k, Target::Bitmap))
            .and_then(|()| root.present());
        if let Err(e) = drawn {
            error.get_or_insert(format!("bitmap: {e}"));
        }
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let drawn = figure
            .draw(&root, &Style::new(w, h, 1, Target::Svg))
            .and_then(|()| root.present());
        if let Err(e) = drawn {
            error.get_or_insert(format!("svg: {e}"));
        }
    }
    let canvas = Canvas {
        width: w,
        height: h,
        pixels: downsample(&buffer, w, h, k),
        svg,
    };
    (canvas, error)
}

/// Averages `k` x `k` blocks of the RGB `buffer` (`w * k` x `h * k` pixels) into `w` x `h`
/// pixels.
fn downsample(buffer: &[u8], w: u32, h: u32, k: u32) -> Vec<[u8; 3]> {
    let (w, h, k) = (w as usize, h as usize, k as usize);
    let row = w * k * 3;
    let n = (k * k) as u32;
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let mut sum = [0u32; 3];
            for dy in 0..k {
                let start = (y * k + dy) * row + x * k * 3;
                for px in buffer[start..start + k * 3].chunks_exact(3) {
                    for c in 0..3 {
                        sum[c] += u32::from(px[c]);
                    }
                }
            }
            out.push(sum.map(|s| ((s + n / 2) / n) as u8));
        }
    }
    out
}

impl Canvas {
    /// The pixel at (`x`, `y`), or `None` outside the canvas.
    pub fn get(&self, x: i32, y: i32) -> Option<[u8; 3]> {
        let inside = x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height;
        if !inside {
            return None;
        }
        self.pixels
            .get(y as usize * self.width as usize + x as usize)
            .copied()
    }

    /// The image encoded as an 8-bit RGB PNG.
    pub fn to_png_bytes(&self) -> Vec<u8> {
        self.encode_png().unwrap_or_default()
    }

    fn encode_png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let (w, h) = (self.width.max(1), self.height.max(1));
        let n = w as usize * h as usize;
        // `pixels` is public: pad or cut it to the size so that encoding cannot fail on it.
        let mut data: Vec<u8> = self.pixels.iter().take(n).flatten().copied().collect();
        data.resize(n * 3, 255);
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&data)?;
        writer.finish()?;
        Ok(out)
    }

    /// Writes the image as a PNG file.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        let png = self.encode_png().map_err(std::io::Error::other)?;
        std::fs::write(path, png)
    }

    /// The chart as a standalone SVG document. Its text names the font family
    /// `"DejaVu Sans, sans-serif"`: viewers without DejaVu Sans use their sans-serif font.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Writes the chart as an SVG file (see [`Canvas::svg`]).
    pub fn save_svg(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills the left half of the chart red.
    struct HalfRed;

    impl Figure for HalfRed {
        fn draw<DB: DrawingBackend>(
            &self,
            root: &DrawingArea<DB, Shift>,
            _st: &Style,
        ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
            let (w, h) = root.dim_in_pixel();
            root.fill(&WHITE)?;
            root.draw(&Rectangle::new(
                [(0, 0), (w as i32 / 2, h as i32)],
                RGBColor(200, 0, 0).filled(),
            ))
        }
    }

    #[test]
    fn paint_draws_both_backends_at_the_requested_size() {
        let (c, err) = paint(&HalfRed, 100, 60);
        assert_eq!(err, None);
        assert_eq!((c.width, c.height, c.pixels.len()), (100, 60, 6000));
        assert_eq!(c.get(10, 10), Some([200, 0, 0]));
        assert_eq!(c.get(90, 10), Some([255, 255, 255]));
        assert_eq!(c.get(100, 0), None);
        assert_eq!(c.get(-1, 0), None);
        assert!(c.svg().starts_with("<svg") && c.svg().contains("width=\"100\""));
        let (small, _) = paint(&HalfRed, 0, 0);
        assert_eq!((small.width, small.height), (64, 48));
    }

    #[test]
    fn png_round_trip() {
        let (c, _) = paint(&HalfRed, 70, 50);
        let bytes = c.to_png_bytes();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (70, 50));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[0..3], &[200, 0, 0]);
        let last = buf.len() - 3;
        assert_eq!(&buf[last..], &[255, 255, 255]);
    }

    #[test]
    fn downsampling_averages_blocks() {
        let buffer = [
            0, 0, 0, 255, 255, 255, //
            255, 255, 255, 255, 255, 255,
        ];
        assert_eq!(downsample(&buffer, 1, 1, 2), vec![[191, 191, 191]]);
        assert_eq!(downsample(&buffer[..3], 1, 1, 1), vec![[0, 0, 0]]);
    }

    #[test]
    fn files_are_written() {
        let dir = std::env::temp_dir().join(format!("dicekit-plot-canvas-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (c, _) = paint(&HalfRed, 80, 60);
        c.save_png(&dir.join("a.png")).unwrap();
        c.save_svg(&dir.join("a.svg")).unwrap();
        assert_eq!(std::fs::read(dir.join("a.png")).unwrap(), c.to_png_bytes());
        assert_eq!(std::fs::read_to_string(dir.join("a.svg")).unwrap(), c.svg());
        assert!(c.save_png(&dir.join("missing/a.png")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
