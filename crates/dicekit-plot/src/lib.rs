//! PNG and SVG plots for training reports, drawn with [`plotters`].
//!
//! Two charts are provided: [`LineChart`] (curves over steps or epochs, linear or log10 y,
//! optional categorical x ticks) and [`ReliabilityDiagram`] (calibration per confidence bin
//! with a count histogram). `render(width, height)` returns a [`Canvas`] holding the chart as
//! RGB pixels (plotters' bitmap backend, drawing into memory, encoded with the `png` crate) and
//! as an SVG document (plotters' SVG backend): [`Canvas::save_png`] and [`Canvas::save_svg`]
//! write them out.
//!
//! This crate chooses the layout: tick positions and labels ([`nice_ticks`], [`log_ticks`],
//! [`format_ticks`]) that fit the chart's size, a legend placed where it hides no data, and the
//! Okabe–Ito colours of [`palette`]. Rendering never panics, whatever the data (NaN,
//! infinities, empty series): unusable points are skipped and lines are clipped to the axes.
//!
//! Text is set in DejaVu Sans, embedded in the binary (`fonts/DejaVuSans.ttf`, about 760 KB)
//! and registered with plotters' ab_glyph font table, so that no system fonts are needed. The
//! font is redistributed under its own licence (Bitstream Vera and Arev fonts licences, see
//! `fonts/LICENSE-DejaVu.txt` in this crate), not under the crate's licence.
//!
//! ```
//! use dicekit_plot::{LineChart, Scale, Series};
//!
//! let loss: Vec<(f64, f64)> = (1..=50).map(|e| (e as f64, 1.0 / e as f64)).collect();
//! let chart = LineChart::new("Training loss", "epoch", "loss")
//!     .series(Series::new("train", loss.clone()))
//!     .series(Series::new("val", loss.iter().map(|&(x, y)| (x, 1.2 * y)).collect()).dashed())
//!     .y_scale(Scale::Log10);
//! let canvas = chart.render(800, 500);
//! assert_eq!((canvas.width, canvas.height), (800, 500));
//! let png = canvas.to_png_bytes();
//! assert_eq!(&png[1..4], b"PNG");
//! assert!(canvas.svg().starts_with("<svg"));
//! ```

mod axes;
mod canvas;
mod frame;
mod line_chart;
pub mod palette;
mod reliability;
mod text;

pub use axes::{
    Axis, Scale, data_range, format_tick, format_ticks, log_ticks, nice_number, nice_ticks,
    sanitize_range,
};
pub use canvas::{Canvas, MAX_SIDE};
pub use line_chart::{LineChart, Series};
pub use reliability::{ReliabilityBar, ReliabilityDiagram};
