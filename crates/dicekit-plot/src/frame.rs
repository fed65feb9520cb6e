//! Chart chrome shared by the chart types: sizes, text placement, ticks, grid and frame.

use crate::axes::Axis;
use crate::canvas::{Canvas, Rect};
use crate::palette::{AXIS, GRID, TEXT};

/// Smallest and largest chart sizes; requests are clamped into this range.
pub(crate) fn clamp_size(width: u32, height: u32) -> (u32, u32) {
    (width.clamp(64, 8192), height.clamp(48, 8192))
}

/// Sizes derived from the canvas: text scale, padding and tick length.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Integer font scale.
    pub s: u32,
    /// Padding between elements.
    pub pad: i32,
    /// Tick mark length.
    pub tick: i32,
}

impl Style {
    pub fn new(width: u32, height: u32) -> Self {
        let s = if width.min(height) >= 400 { 2 } else { 1 };
        Style {
            s,
            pad: 4 * s as i32,
            tick: 3 * s as i32 + 1,
        }
    }

    /// Height of a line of text, descenders included.
    pub fn text_h(&self) -> i32 {
        Canvas::text_height(self.s) as i32
    }

    /// Height of capitals and digits.
    pub fn cap_h(&self) -> i32 {
        7 * self.s as i32
    }

    pub fn width(&self, text: &str) -> i32 {
        Canvas::text_width(text, self.s) as i32
    }
}

/// Draws `text` horizontally centred on `cx`, kept inside the canvas when it fits.
pub(crate) fn centered_text(
    c: &mut Canvas,
    cx: i32,
    y: i32,
    text: &str,
    st: &Style,
    color: [u8; 3],
) {
    let w = st.width(text);
    let x = (cx - w / 2).min(c.width as i32 - w).max(0);
    c.text(x, y, text, st.s, color);
}

/// Draws a title centred on `cx`, emboldened by doubling each column.
pub(crate) fn title(c: &mut Canvas, cx: i32, y: i32, text: &str, st: &Style) {
    let w = st.width(text);
    let x = (cx - w / 2).min(c.width as i32 - w - 1).max(0);
    c.text(x, y, text, st.s, TEXT);
    c.text(x + 1, y, text, st.s, TEXT);
}

/// Draws `text` rotated (reading upwards) with its left column at `x`, centred on `cy`.
pub(crate) fn vertical_label(c: &mut Canvas, x: i32, cy: i32, text: &str, st: &Style) {
    let len = st.width(text);
    let y = (cy - len / 2).min(c.height as i32 - len).max(0);
    c.text_vertical(x, y, text, st.s, TEXT);
}

/// Ticks and labels for a horizontal axis: as many as fit without labels touching.
pub(crate) fn x_ticks(axis: &Axis, st: &Style) -> (Vec<f64>, Vec<String>) {
    let len = (axis.end - axis.start).abs();
    let most = ((len / (40.0 * f64::from(st.s))) as usize).clamp(2, 12);
    fitting_ticks(axis, most, |a, b, la, lb| {
        let need = f64::from((st.width(la) + st.width(lb)) / 2 + 6 * st.s as i32);
        (axis.to_pixel(b) - axis.to_pixel(a)).abs() >= need
    })
}

/// Ticks and labels for a vertical axis.
pub(crate) fn y_ticks(axis: &Axis, st: &Style) -> (Vec<f64>, Vec<String>) {
    let len = (axis.end - axis.start).abs();
    let most = ((len / (30.0 * f64::from(st.s))) as usize).clamp(2, 10);
    fitting_ticks(axis, most, |a, b, _, _| {
        (axis.to_pixel(b) - axis.to_pixel(a)).abs() >= f64::from(st.text_h() + st.pad)
    })
}

fn fitting_ticks(
    axis: &Axis,
    most: usize,
    fits: impl Fn(f64, f64, &str, &str) -> bool,
) -> (Vec<f64>, Vec<String>) {
    let mut best = (Vec::new(), Vec::new());
    for target in (2..=most).rev() {
        let ticks = axis.ticks(target);
        let labels = axis.labels(&ticks);
        let ok = (1..ticks.len()).all(|i| fits(ticks[i - 1], ticks[i], &labels[i - 1], &labels[i]));
        best = (ticks, labels);
        if ok {
            break;
        }
    }
    best
}

/// The max width of `labels`.
pub(crate) fn max_width(labels: &[String], st: &Style) -> i32 {
    labels.iter().map(|l| st.width(l)).max().unwrap_or(0)
}

/// The pixel row or column holding continuous coordinate `p`, if it lies in `[lo, hi)`.
fn cell(p: f64, lo: i32, hi: i32) -> Option<i32> {
    let v = p.floor();
    (v >= f64::from(lo) && v < f64::from(hi)).then_some(v as i32)
}

/// Vertical grid lines at `ticks` across `plot`.
pub(crate) fn grid_x(c: &mut Canvas, axis: &Axis, ticks: &[f64], plot: Rect) {
    for &t in ticks {
        if let Some(x) = cell(axis.to_pixel(t), plot.x0, plot.x1) {
            c.fill_rect(x, plot.y0, 1, plot.height(), GRID);
        }
    }
}

/// Horizontal grid lines at `ticks` across `plot`.
pub(crate) fn grid_y(c: &mut Canvas, axis: &Axis, ticks: &[f64], plot: Rect) {
    for &t in ticks {
        if let Some(y) = cell(axis.to_pixel(t), plot.y0, plot.y1) {
            c.fill_rect(plot.x0, y, plot.width(), 1, GRID);
        }
    }
}

/// Tick marks below `plot` and, when `labels` is given, the labels under them.
pub(crate) fn x_tick_marks(
    c: &mut Canvas,
    axis: &Axis,
    ticks: &[f64],
    labels: Option<&[String]>,
    plot: Rect,
    st: &Style,
) {
    for (i, &t) in ticks.iter().enumerate() {
        let Some(x) = cell(axis.to_pixel(t), plot.x0, plot.x1) else {
            continue;
        };
        c.fill_rect(x, plot.y1, 1, st.tick, AXIS);
        if let Some(label) = labels.and_then(|l| l.get(i)) {
            centered_text(c, x, plot.y1 + st.tick + st.pad, label, st, TEXT);
        }
    }
}

/// Tick marks left of `plot` with right-aligned labels.
pub(crate) fn y_tick_marks(
    c: &mut Canvas,
    axis: &Axis,
    ticks: &[f64],
    labels: &[String],
    plot: Rect,
    st: &Style,
) {
    for (&t, label) in ticks.iter().zip(labels) {
        let Some(y) = cell(axis.to_pixel(t), plot.y0, plot.y1) else {
            continue;
        };
        c.fill_rect(plot.x0 - st.tick, y, st.tick, 1, AXIS);
        let x = plot.x0 - st.tick - st.pad - st.width(label);
        c.text(x, (y - st.cap_h() / 2).max(0), label, st.s, TEXT);
    }
}

/// The axis frame: a one-pixel outline on the border of `plot`.
pub(crate) fn frame(c: &mut Canvas, plot: Rect) {
    c.stroke_rect(plot.x0, plot.y0, plot.width(), plot.height(), AXIS);
}

/// The interior of `plot` (inside its frame), where data is drawn.
pub(crate) fn interior(plot: Rect) -> Rect {
    Rect {
        x0: plot.x0 + 1,
        y0: plot.y0 + 1,
        x1: plot.x1 - 1,
        y1: plot.y1 - 1,
    }
}
