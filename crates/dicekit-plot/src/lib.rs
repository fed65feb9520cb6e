//! Dependency-light PNG plots for training reports.
//!
//! Everything is drawn by this crate on an RGB [`Canvas`]: anti-aliased lines, markers and
//! text in an embedded 5x9 bitmap font (no system fonts), encoded with the `png` crate.
//! Two charts are provided: [`LineChart`] (curves over steps or epochs, linear or log10 y)
//! and [`ReliabilityDiagram`] (calibration per confidence bin with a count histogram).
//! Rendering never panics, whatever the data (NaN, infinities, empty series).
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
//! ```

mod axes;
mod canvas;
pub mod font;
mod frame;
mod line_chart;
pub mod palette;
mod reliability;

pub use axes::{
    Axis, Scale, data_range, format_tick, format_ticks, log_ticks, nice_number, nice_ticks,
    sanitize_range,
};
pub use canvas::{Canvas, MAX_SIDE, Rect};
pub use line_chart::{LineChart, Series};
pub use reliability::{ReliabilityBar, ReliabilityDiagram};
