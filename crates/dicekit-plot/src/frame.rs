//! Chart chrome shared by the chart types: sizes, the plot rectangle, ticks that fit, the
//! plotters mesh (grid, tick marks, tick labels, axis labels), the frame, titles and clipping.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use crate::axes::Axis;
use crate::palette::{AXIS, GRID, TEXT, rgb};
use crate::text;

/// Smallest and largest chart sizes; requests are clamped into this range.
pub(crate) fn clamp_size(width: u32, height: u32) -> (u32, u32) {
    (width.clamp(64, 8192), height.clamp(48, 8192))
}

/// The backend a chart is drawn on; text is anchored slightly differently by each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// plotters' bitmap backend with ab_glyph text.
    Bitmap,
    /// plotters' SVG backend (text is laid out by the viewer).
    Svg,
}

/// Sizes derived from the chart size, in backend pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Size of tick labels, legend entries and annotations.
    pub font: f64,
    /// Size of axis labels.
    pub label_font: f64,
    /// Size of titles.
    pub title_font: f64,
    /// Padding between elements.
    pub pad: i32,
    /// Tick mark length.
    pub tick: i32,
    /// Width of data lines.
    pub line_w: u32,
    /// Radius of markers.
    pub marker_r: u32,
    /// Width of the frame, grid and tick marks.
    pub thin: u32,
    target: Target,
}

impl Style {
    /// Sizes for a `width` x `height` chart drawn `k` times larger on `target`.
    pub fn new(width: u32, height: u32, k: u32, target: Target) -> Self {
        let k = f64::from(k.max(1));
        let base = f64::from(width.min(height));
        // About 16 px text on a 500 px high chart; never below 11 px.
        let font = (base / 31.0).clamp(11.0, 48.0);
        let px = |v: f64| (v * k).round().max(1.0);
        let line = 1.25 * font / 8.0;
        Style {
            font: font * k,
            label_font: font * 1.06 * k,
            title_font: font * 1.2 * k,
            pad: px(font * 0.4) as i32,
            tick: px(font * 0.32) as i32,
            line_w: px(line) as u32,
            marker_r: px(1.6 * line + 0.5) as u32,
            thin: px(1.0) as u32,
            target,
        }
    }

    /// How far to move text anchored at its vertical centre so that its capitals, rather
    /// than plotters' layout box, are centred.
    ///
    /// The bitmap backend puts the baseline half a `size` below the top of a layout box
    /// `size / 1.24` high; the SVG backend shifts the baseline by `0.5ex` of a `size / 1.24`
    /// font. With DejaVu Sans metrics (capitals 0.626 `size`, x-height 0.547 em) the capitals
    /// end up 0.216 `size` (bitmap) and 0.074 `size` (SVG) too high.
    pub fn center_shift(&self, size: f64) -> i32 {
        let f = match self.target {
            Target::Bitmap => 0.216,
            Target::Svg => 0.074,
        };
        (f * size).round() as i32
    }

    /// Height of a line of tick-label text.
    pub fn text_h(&self) -> i32 {
        text::line_height(self.font)
    }
}

/// A half-open pixel rectangle `[x0, x1) x [y0, y1)`: where a chart's data is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plot {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Plot {
    /// A plot with the given edges, made valid (at least 2 x 2 pixels, inside `w` x `h` where
    /// that is possible).
    pub fn new(x0: i32, y0: i32, x1: i32, y1: i32, (w, h): (i32, i32)) -> Self {
        let x0 = x0.clamp(0, (w - 2).max(0));
        let y0 = y0.clamp(0, (h - 2).max(0));
        Plot {
            x0,
            y0,
            x1: x1.min(w).max(x0 + 2),
            y1: y1.min(h).max(y0 + 2),
        }
    }

    /// The x axis over `[lo, hi]` across this plot: plotters maps a plotting area onto its
    /// pixels `x0..=x1 - 1` (left to right) and `y1 - 1..=y0` (bottom to top).
    pub fn x_axis(&self, lo: f64, hi: f64) -> Axis {
        Axis::new(
            lo,
            hi,
            crate::Scale::Linear,
            f64::from(self.x0),
            f64::from(self.x1 - 1),
        )
    }

    /// The y axis over `[lo, hi]` on `scale` across this plot (see [`Plot::x_axis`]).
    pub fn y_axis(&self, lo: f64, hi: f64, scale: crate::Scale) -> Axis {
        Axis::new(lo, hi, scale, f64::from(self.y1 - 1), f64::from(self.y0))
    }

    /// Whether the pixel coordinate (`x`, `y`) lies in the rectangle.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= f64::from(self.x0)
            && x < f64::from(self.x1)
            && y >= f64::from(self.y0)
            && y < f64::from(self.y1)
    }
}

/// A plotters coordinate for one axis: the data range mapped linearly or by decade (as
/// [`Axis`] maps it), with the grid lines and tick marks at `ticks` only.
#[derive(Debug, Clone)]
pub(crate) struct Coord {
    axis: Axis,
    ticks: Vec<f64>,
}

impl Coord {
    /// The range of `axis` with ticks at `ticks`.
    pub fn new(axis: Axis, ticks: &[(f64, String)]) -> Self {
        Coord {
            axis,
            ticks: ticks.iter().map(|t| t.0).collect(),
        }
    }
}

impl Ranged for Coord {
    // Labels come from the mesh's formatters, never from `Debug`.
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let axis = Axis {
            start: f64::from(limit.0),
            end: f64::from(limit.1),
            ..self.axis
        };
        let p = axis.to_pixel(*value);
        // `to_pixel` is NaN for values the scale cannot show, and within +-1e9 otherwise.
        if p.is_nan() {
            limit.0
        } else {
            p.round() as i32
        }
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.axis.min..self.axis.max
    }
}

/// The chart type every chart of this crate draws on.
pub(crate) type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Coord, Coord>>;

/// Builds a chart whose plotting area is exactly `plot`, with the tick labels and the axis
/// label of the y axis in the area left of it and those of the x axis under it (down to
/// `bottom`).
pub(crate) fn chart_on<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    st: &Style,
    plot: Plot,
    bottom: i32,
    (x, y): (Coord, Coord),
) -> Result<Chart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let left_margin = st.pad.min(plot.x0);
    let bottom = bottom.clamp(plot.y1, h);
    ChartBuilder::on(root)
        .margin_top(plot.y0)
        .margin_left(left_margin)
        .margin_right((w - plot.x1).max(0))
        .margin_bottom((h - bottom).max(0))
        .y_label_area_size(plot.x0 - left_margin)
        .x_label_area_size(bottom - plot.y1)
        .build_cartesian_2d(x, y)
}

/// What the mesh of a chart shows: tick positions with their labels, and the axis labels.
pub(crate) struct Mesh<'l> {
    pub x_ticks: &'l [(f64, String)],
    pub y_ticks: &'l [(f64, String)],
    pub x_label: &'l str,
    pub y_label: &'l str,
}

fn label_of(ticks: &[(f64, String)], v: f64) -> String {
    ticks
        .iter()
        .find(|(t, _)| t.to_bits() == v.to_bits())
        .map(|(_, l)| l.clone())
        .unwrap_or_default()
}

/// Draws the grid at the ticks, the tick marks with their labels and the axis labels.
pub(crate) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    st: &Style,
    mesh: &Mesh<'_>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let x_fmt = |v: &f64| label_of(mesh.x_ticks, *v);
    let y_fmt = |v: &f64| label_of(mesh.y_ticks, *v);
    let text_color = rgb(TEXT);
    let tick_font = TextStyle::from(text::font(st.font)).color(&text_color);
    let label_font = TextStyle::from(text::font(st.label_font)).color(&text_color);
    let mut m = chart.configure_mesh();
    m.bold_line_style(rgb(GRID).stroke_width(st.thin))
        .max_light_lines(0)
        .axis_style(rgb(AXIS).stroke_width(st.thin))
        .set_all_tick_mark_size(st.tick)
        .x_label_style(tick_font.clone())
        .y_label_style(tick_font)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_label_offset(st.center_shift(st.font))
        .axis_desc_style(label_font);
    if !mesh.x_label.is_empty() {
        m.x_desc(mesh.x_label);
    }
    if !mesh.y_label.is_empty() {
        m.y_desc(mesh.y_label);
    }
    m.draw()
}

/// A border of thickness `t` along the inside of the rectangle `[x0, x1) x [y0, y1)` given by
/// its corners (drawn as filled bars, so it is crisp whatever `t`).
pub(crate) fn outline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    [(x0, y0), (x1, y1)]: [(i32, i32); 2],
    color: RGBColor,
    t: u32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let t = t as i32;
    let bars = [
        [(x0, y0), (x1, y0 + t)],
        [(x0, y1 - t), (x1, y1)],
        [(x0, y0), (x0 + t, y1)],
        [(x1 - t, y0), (x1, y1)],
    ];
    for b in bars {
        root.draw(&Rectangle::new(b, color.filled()))?;
    }
    Ok(())
}

/// The frame around `plot`, on the pixels just outside it (where plotters draws the axes).
pub(crate) fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    st: &Style,
    plot: Plot,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let t = st.thin as i32;
    let corners = [(plot.x0 - t, plot.y0 - t), (plot.x1 + t, plot.y1 + t)];
    outline(root, corners, rgb(AXIS), st.thin)
}

/// A title centred on `cx` with its capitals centred on `cy`, kept inside the chart when it
/// fits.
pub(crate) fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    st: &Style,
    title: &str,
    (cx, cy): (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let w = text::width(root, title, st.title_font);
    let right = root.dim_in_pixel().0 as i32 - w;
    let x = (cx - w / 2).min(right).max(0);
    text::draw(
        root,
        st,
        title,
        (x, cy),
        st.title_font,
        rgb(TEXT),
        HPos::Left,
    )
}

/// Ticks and labels for a horizontal axis: as many as fit without labels touching.
pub(crate) fn x_ticks(axis: &Axis, st: &Style, width: &dyn Fn(&str) -> i32) -> Vec<(f64, String)> {
    let len = (axis.end - axis.start).abs();
    let most = ((len / (4.5 * st.font)) as usize).clamp(2, 12);
    fitting_ticks(axis, most, |a, b, la, lb| {
        let need = f64::from((width(la) + width(lb)) / 2) + 2.5 * st.font;
        (axis.to_pixel(b) - axis.to_pixel(a)).abs() >= need
    })
}

/// Ticks and labels for a vertical axis.
pub(crate) fn y_ticks(axis: &Axis, st: &Style) -> Vec<(f64, String)> {
    let len = (axis.end - axis.start).abs();
    let most = ((len / (3.4 * st.font)) as usize).clamp(2, 10);
    fitting_ticks(axis, most, |a, b, _, _| {
        (axis.to_pixel(b) - axis.to_pixel(a)).abs() >= 2.0 * st.font
    })
}

fn fitting_ticks(
    axis: &Axis,
    most: usize,
    fits: impl Fn(f64, f64, &str, &str) -> bool,
) -> Vec<(f64, String)> {
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
    let (lo, hi) = (axis.min.min(axis.max), axis.max.max(axis.min));
    best.0
        .into_iter()
        .zip(best.1)
        .filter(|(t, _)| *t >= lo && *t <= hi)
        .collect()
}

/// Liang–Barsky: the part of segment `a -> b` inside the box `lo..=hi`, with the ends returned
/// unchanged where they are inside. A cut end lies exactly on the edge that cuts it, with the
/// other coordinate interpolated from the slope (precise even for ends far away).
pub(crate) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    lo: (f64, f64),
    hi: (f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if !(dx.is_finite() && dy.is_finite()) {
        // Spans beyond f64::MAX (ends near +-1e308): clip the halved segment (exact scaling).
        let finite = [a.0, a.1, b.0, b.1, lo.0, lo.1, hi.0, hi.1]
            .iter()
            .all(|v| v.is_finite());
        let half = |p: (f64, f64)| (p.0 / 2.0, p.1 / 2.0);
        let double = |p: (f64, f64)| (p.0 * 2.0, p.1 * 2.0);
        return finite
            .then(|| clip_segment(half(a), half(b), half(lo), half(hi)))
            .flatten()
            .map(|(p, q)| (double(p), double(q)));
    }
    // The parameter where the segment enters and leaves the box, and the edge it crosses there
    // (0: a vertical edge at x, 1: a horizontal edge at y).
    let (mut t0, mut t1) = ((0.0f64, None), (1.0f64, None));
    for (p, q, edge) in [
        (-dx, a.0 - lo.0, (0, lo.0)),
        (dx, hi.0 - a.0, (0, hi.0)),
        (-dy, a.1 - lo.1, (1, lo.1)),
        (dy, hi.1 - a.1, (1, hi.1)),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 && r > t0.0 {
                t0 = (r, Some(edge));
            } else if p > 0.0 && r < t1.0 {
                t1 = (r, Some(edge));
            }
        }
    }
    if !(t0.0 <= t1.0 && t0.0.is_finite() && t1.0.is_finite()) {
        return None;
    }
    let at = |edge: Option<(u8, f64)>, end: (f64, f64)| match edge {
        None => end,
        Some((0, x)) => (x, (a.1 + (x - a.0) * (dy / dx)).clamp(lo.1, hi.1)),
        Some((_, y)) => ((a.0 + (y - a.1) * (dx / dy)).clamp(lo.0, hi.0), y),
    };
    Some((at(t0.1, a), at(t1.1, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_inside_ends_and_cuts_the_rest() {
        let (lo, hi) = ((0.0, 0.0), (10.0, 10.0));
        let inside = ((1.0, 2.0), (3.0, 4.0));
        assert_eq!(clip_segment(inside.0, inside.1, lo, hi), Some(inside));
        let (p, q) = clip_segment((-10.0, 5.0), (20.0, 5.0), lo, hi).unwrap();
        assert_eq!((p, q), ((0.0, 5.0), (10.0, 5.0)));
        assert_eq!(clip_segment((-5.0, -5.0), (-1.0, 20.0), lo, hi), None);
        assert_eq!(clip_segment((0.0, 0.0), (f64::NAN, 1.0), lo, hi), None);
        let slope = clip_segment((-10.0, 0.0), (10.0, 10.0), lo, hi);
        assert_eq!(slope, Some(((0.0, 5.0), (10.0, 10.0))));
        let wide = clip_segment((-1e308, 5.0), (1e308, 5.0), lo, hi);
        assert_eq!(wide, Some(((0.0, 5.0), (10.0, 5.0))));
        let far = clip_segment((-1e300, -1e300), (1e300, 1e300), lo, hi).unwrap();
        assert!(far.0.0 >= 0.0 && far.1.0 <= 10.0);
    }

    #[test]
    fn plot_is_always_valid() {
        for (x0, y0, x1, y1) in [(0, 0, 0, 0), (500, 400, 10, 10), (-5, -5, 9999, 9999)] {
            let p = Plot::new(x0, y0, x1, y1, (64, 48));
            assert!(p.x1 >= p.x0 + 2 && p.y1 >= p.y0 + 2 && p.x0 >= 0 && p.y0 >= 0);
        }
    }
}
