//! Line charts: several named series over a linear x axis and a linear or log10 y axis.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use crate::axes::{Scale, data_range, sanitize_range};
use crate::canvas::{self, Canvas, Figure};
use crate::frame::{self, Coord, Mesh, Plot, Style};
use crate::palette::{BOX_BORDER, MUTED, TEXT, WHITE, rgb, series_color};
use crate::text;

/// One named line of a [`LineChart`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry; series with an empty name are left out of the legend.
    pub name: String,
    /// `(x, y)` points joined in order; a non-finite point breaks the line.
    pub points: Vec<(f64, f64)>,
    /// Line colour; `None` takes the next colour of [`crate::palette::SERIES`].
    pub color: Option<[u8; 3]>,
    /// Draw the line dashed.
    pub dashed: bool,
    /// Draw a marker on every point.
    pub markers: bool,
}

impl Series {
    /// A solid series without markers in the default colour.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            color: None,
            dashed: false,
            markers: false,
        }
    }

    /// Draws the line dashed.
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }

    /// Draws a marker on every point.
    pub fn markers(mut self) -> Self {
        self.markers = true;
        self
    }

    /// Uses colour `c` instead of the palette.
    pub fn color(mut self, c: [u8; 3]) -> Self {
        self.color = Some(c);
        self
    }
}

/// A line chart with title, axis labels, grid, legend and automatic ranges.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Title drawn above the plot.
    pub title: String,
    /// Label under the x axis.
    pub x_label: String,
    /// Label left of the y axis (drawn rotated).
    pub y_label: String,
    /// The lines, drawn in order.
    pub series: Vec<Series>,
    /// Linear or log10 y axis; log scales skip values `<= 0`.
    pub y_scale: Scale,
    /// Fixed y range; `None` (or an unusable range) fits the data with a small margin.
    pub y_range: Option<(f64, f64)>,
    /// Fixed x range; `None` (or an unusable range) fits the data with a small margin.
    pub x_range: Option<(f64, f64)>,
    /// Categorical x ticks: positions and labels drawn instead of the automatic ticks (those
    /// outside the x range are left out).
    pub x_ticks: Option<Vec<(f64, String)>>,
}

impl LineChart {
    /// An empty chart with a linear y axis and automatic ranges.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LineChart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            ..Self::default()
        }
    }

    /// Draws these ticks and labels on the x axis (categories such as variants or classes).
    pub fn x_categories<S: Into<String>>(
        mut self,
        ticks: impl IntoIterator<Item = (f64, S)>,
    ) -> Self {
        self.x_ticks = Some(ticks.into_iter().map(|(x, l)| (x, l.into())).collect());
        self
    }

    /// Adds a series.
    pub fn series(mut self, s: Series) -> Self {
        self.series.push(s);
        self
    }

    /// Sets the y scale.
    pub fn y_scale(mut self, scale: Scale) -> Self {
        self.y_scale = scale;
        self
    }

    /// Fixes the y range.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Fixes the x range.
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    fn usable(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (self.y_scale == Scale::Linear || y > 0.0)
    }

    /// Draws the chart on a white `width` x `height` canvas (clamped to at least 64 x 48).
    ///
    /// Never panics: unusable points are skipped, and a chart without data shows "no data".
    pub fn render(&self, width: u32, height: u32) -> Canvas {
        canvas::paint(self, width, height).0
    }

    /// The visible part of series `s` in data coordinates: the clipped polylines (a point that
    /// cannot be shown breaks the line) and the markers (on every point with
    /// [`Series::markers`], else only on points without a drawable neighbour).
    fn geometry(&self, s: &Series, x: (f64, f64), y: (f64, f64)) -> Geometry {
        let log = self.y_scale == Scale::Log10;
        // Clipping works along the axes as drawn: in decades on a log scale.
        let fwd = |v: f64| if log { v.log10() } else { v };
        let back = |t: f64| if log { 10f64.powf(t) } else { t };
        let (lo, hi) = ((x.0, fwd(y.0)), (x.1, fwd(y.1)));
        let pts: Vec<Option<(f64, f64)>> = s
            .points
            .iter()
            .map(|&p| self.usable(p).then(|| (p.0, fwd(p.1))))
            .collect();
        let mut lines = Vec::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |run: &mut Vec<(f64, f64)>, lines: &mut Vec<Vec<(f64, f64)>>| {
            if run.len() >= 2 {
                lines.push(run.iter().map(|&(x, t)| (x, back(t))).collect());
            }
            run.clear();
        };
        for pair in pts.windows(2) {
            let clipped = match (pair[0], pair[1]) {
                (Some(a), Some(b)) => frame::clip_segment(a, b, lo, hi),
                _ => None,
            };
            match clipped {
                Some((p, q)) => {
                    if run.last() != Some(&p) {
                        flush(&mut run, &mut lines);
                        run.push(p);
                    }
                    run.push(q);
                }
                None => flush(&mut run, &mut lines),
            }
        }
        flush(&mut run, &mut lines);
        let gap = |k: Option<usize>| k.and_then(|k| pts.get(k)).is_none_or(|p| p.is_none());
        let markers = pts
            .iter()
            .enumerate()
            .filter_map(|(j, p)| {
                let (x, t) = (*p)?;
                let inside = x >= lo.0 && x <= hi.0 && t >= lo.1 && t <= hi.1;
                let isolated = gap(j.checked_sub(1)) && gap(j.checked_add(1));
                (inside && (s.markers || isolated)).then(|| (x, back(t)))
            })
            .collect();
        Geometry { lines, markers }
    }
}

/// What is drawn of one series, in data coordinates.
struct Geometry {
    lines: Vec<Vec<(f64, f64)>>,
    markers: Vec<(f64, f64)>,
}

impl Figure for LineChart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&rgb(WHITE))?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let points = || {
            self.series
                .iter()
                .flat_map(|s| s.points.iter().copied())
                .filter(|&p| self.usable(p))
        };
        let has_data = points().next().is_some();
        let (x_lo, x_hi) = fixed_range(self.x_range, Scale::Linear)
            .unwrap_or_else(|| data_range(points().map(|p| p.0), Scale::Linear, 0.03));
        let (y_lo, y_hi) = fixed_range(self.y_range, self.y_scale)
            .unwrap_or_else(|| data_range(points().map(|p| p.1), self.y_scale, 0.05));
        let shapes: Vec<Geometry> = self
            .series
            .iter()
            .map(|s| self.geometry(s, (x_lo, x_hi), (y_lo, y_hi)))
            .collect();

        // Vertical layout first: the y ticks decide the left margin.
        let (pad, text_h) = (st.pad, st.text_h());
        let title_h = text::line_height(st.title_font);
        let label_h = text::line_height(st.label_font);
        let top = if self.title.is_empty() {
            pad * 2 + text_h / 2
        } else {
            pad * 4 + title_h
        };
        let x_label_h = if self.x_label.is_empty() {
            0
        } else {
            label_h + pad
        };
        let bottom = h - pad;
        let rows = Plot::new(
            0,
            top,
            w,
            bottom - st.tick * 2 - text_h - pad - x_label_h,
            (w, h),
        );
        let y_ticks = frame::y_ticks(&rows.y_axis(y_lo, y_hi, self.y_scale), st);
        let y_labels: Vec<String> = y_ticks.iter().map(|t| t.1.clone()).collect();
        let y_label_w = if self.y_label.is_empty() {
            0
        } else {
            label_h + pad
        };
        let left = pad + y_label_w + text::max_width(root, &y_labels, st.font) + st.tick * 2;

        // The legend goes in the first inside place (corners first) that hides no data, or
        // outside on the right when every place would hide data (or when it is too wide to
        // sit inside).
        let legend = Legend::new(&self.series, st, root);
        let layout = |right: i32| {
            let plot = Plot::new(left, rows.y0, w - right, rows.y1, (w, h));
            (plot, plot.x_axis(x_lo, x_hi))
        };
        let (mut plot, mut x_axis) = layout(pad * 5);
        let mut spot = None;
        if legend.w > 0 {
            let y_axis = plot.y_axis(y_lo, y_hi, self.y_scale);
            let mut samples = Vec::new();
            for g in &shapes {
                let px = |&(x, y): &(f64, f64)| (x_axis.to_pixel(x), y_axis.to_pixel(y));
                for line in &g.lines {
                    sample_path(&line.iter().map(px).collect::<Vec<_>>(), &mut samples);
                }
                samples.extend(g.markers.iter().map(px));
            }
            spot = legend.free_spot(plot, &samples, st);
            if spot.is_none() && f64::from(legend.w) <= 0.4 * f64::from(w - left) {
                (plot, x_axis) = layout(legend.w + pad * 5);
                spot = Some((plot.x1 + pad * 3, plot.y0));
            }
            // Too wide to sit beside the plot: upper-right corner, over the data.
            spot = spot.or(Some((plot.x1 - pad * 2 - legend.w, plot.y0 + pad * 2)));
        }
        let x_ticks: Vec<(f64, String)> = match &self.x_ticks {
            Some(t) => {
                let (lo, hi) = (x_axis.min.min(x_axis.max), x_axis.max.max(x_axis.min));
                t.iter()
                    .filter(|(x, _)| x.is_finite() && *x >= lo && *x <= hi)
                    .cloned()
                    .collect()
            }
            None => frame::x_ticks(&x_axis, st, &|s| text::width(root, s, st.font)),
        };

        let y_axis = plot.y_axis(y_lo, y_hi, self.y_scale);
        let coords = (Coord::new(x_axis, &x_ticks), Coord::new(y_axis, &y_ticks));
        let mut chart = frame::chart_on(root, st, plot, bottom, coords)?;
        let mesh = Mesh {
            x_ticks: &x_ticks,
            y_ticks: &y_ticks,
            x_label: &self.x_label,
            y_label: &self.y_label,
        };
        frame::draw_mesh(&mut chart, st, &mesh)?;
        let (dash, space) = dashes(st);
        for (i, (s, g)) in self.series.iter().zip(&shapes).enumerate() {
            let color = rgb(s.color.unwrap_or(series_color(i)));
            let style = color.stroke_width(st.line_w);
            for line in &g.lines {
                let px = |&(x, y): &(f64, f64)| (x_axis.to_pixel(x), y_axis.to_pixel(y));
                let line = thin_out(line, px, f64::from(st.line_w));
                if s.dashed {
                    let path = DashedPathElement::new(line, dash, space, style);
                    chart.draw_series(std::iter::once(path))?;
                } else {
                    chart.draw_series(std::iter::once(PathElement::new(line, style)))?;
                }
            }
            let marker = |&p: &(f64, f64)| Circle::new(p, st.marker_r, color.filled());
            chart.draw_series(g.markers.iter().map(marker))?;
        }

        frame::draw_frame(root, st, plot)?;
        let cx = (plot.x0 + plot.x1) / 2;
        if !self.title.is_empty() {
            frame::draw_title(root, st, &self.title, (cx, pad * 2 + title_h / 2))?;
        }
        if !has_data {
            let cy = (plot.y0 + plot.y1) / 2;
            text::draw(
                root,
                st,
                "no data",
                (cx, cy),
                st.font,
                rgb(MUTED),
                HPos::Center,
            )?;
        }
        if let Some(at) = spot {
            legend.draw(root, at, &self.series, st)?;
        }
        Ok(())
    }
}

/// Dash and gap lengths of dashed lines.
fn dashes(st: &Style) -> (i32, i32) {
    let w = f64::from(st.line_w);
    ((5.0 * w).round() as i32, (3.5 * w).round() as i32)
}

/// A user range if it is usable on `scale`.
fn fixed_range(range: Option<(f64, f64)>, scale: Scale) -> Option<(f64, f64)> {
    let (lo, hi) = range?;
    let ok = lo.is_finite() && hi.is_finite() && lo < hi && (scale == Scale::Linear || lo > 0.0);
    ok.then(|| sanitize_range(lo, hi, scale))
}

/// `line` without the points closer than `min` pixels to the previous point kept (the last
/// point is always kept). plotters joins the pixel-rounded points of wide lines as they come:
/// dense points make the edges ragged, while fewer points lose nothing visible.
fn thin_out(
    line: &[(f64, f64)],
    px: impl Fn(&(f64, f64)) -> (f64, f64),
    min: f64,
) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(line.len());
    let mut last: Option<(f64, f64)> = None;
    for (i, p) in line.iter().enumerate() {
        let q = px(p);
        let far = last.is_none_or(|l| (q.0 - l.0).hypot(q.1 - l.1) >= min);
        if far || i + 1 == line.len() {
            if !far && out.len() > 1 {
                // The last point replaces a kept point that is too close to it.
                out.pop();
            }
            out.push(*p);
            last = Some(q);
        }
    }
    out
}

/// Points every few pixels along the drawn path, to find where the legend covers least.
fn sample_path(px: &[(f64, f64)], out: &mut Vec<(f64, f64)>) {
    for pair in px.windows(2) {
        let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
        let len = (bx - ax).hypot(by - ay);
        if len.is_finite() && out.len() < 200_000 {
            let n = (len / 4.0).ceil().clamp(1.0, 2000.0) as usize;
            out.extend((0..=n).map(|k| {
                let t = k as f64 / n as f64;
                (ax + (bx - ax) * t, ay + (by - ay) * t)
            }));
        }
    }
    out.extend(px.iter().filter(|p| p.0.is_finite()));
}

/// Legend box geometry: one row per named series.
struct Legend {
    w: i32,
    h: i32,
    row_h: i32,
    sample: i32,
}

/// Longest legend name drawn, in characters.
const MAX_NAME: usize = 40;

fn legend_name(name: &str) -> String {
    if name.chars().count() <= MAX_NAME {
        name.to_owned()
    } else {
        name.chars()
            .take(MAX_NAME - 3)
            .chain("...".chars())
            .collect()
    }
}

impl Legend {
    fn new<DB: DrawingBackend>(
        series: &[Series],
        st: &Style,
        root: &DrawingArea<DB, Shift>,
    ) -> Self {
        let names: Vec<String> = series
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| legend_name(&s.name))
            .collect();
        let row_h = st.text_h() + st.pad;
        let sample = (2.2 * st.font).round() as i32;
        if names.is_empty() {
            return Legend {
                w: 0,
                h: 0,
                row_h,
                sample,
            };
        }
        let w = st.pad * 4 + sample + text::max_width(root, &names, st.font);
        let h = st.pad * 2 + names.len() as i32 * row_h - st.pad;
        Legend {
            w,
            h,
            row_h,
            sample,
        }
    }

    /// The first place inside the plot whose box hides no data sample, if any: the corners
    /// (upper-right, upper-left, lower-right, lower-left), then a 5 x 5 grid from the top right.
    fn free_spot(&self, plot: Plot, samples: &[(f64, f64)], st: &Style) -> Option<(i32, i32)> {
        let m = st.pad * 2;
        let (l, r) = (plot.x0 + m, plot.x1 - m - self.w);
        let (t, b) = (plot.y0 + m, plot.y1 - m - self.h);
        if r < l || b < t {
            return None;
        }
        let margin = st.pad;
        let grid = (0..5)
            .flat_map(move |j| (0..5).map(move |i| (r - (r - l) * i / 4, t + (b - t) * j / 4)));
        [(r, t), (l, t), (r, b), (l, b)]
            .into_iter()
            .chain(grid)
            .find(|&(x, y)| {
                let area = Plot {
                    x0: x - margin,
                    y0: y - margin,
                    x1: x + self.w + margin,
                    y1: y + self.h + margin,
                };
                !samples.iter().any(|p| area.contains(p.0, p.1))
            })
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        (x, y): (i32, i32),
        series: &[Series],
        st: &Style,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let corner = (x + self.w, y + self.h);
        root.draw(&Rectangle::new(
            [(x, y), corner],
            rgb(WHITE).mix(0.88).filled(),
        ))?;
        frame::outline(root, [(x, y), corner], rgb(BOX_BORDER), st.thin)?;
        let (dash, space) = dashes(st);
        let named = series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty());
        for (row, (i, s)) in named.enumerate() {
            let color = rgb(s.color.unwrap_or(series_color(i)));
            let style = color.stroke_width(st.line_w);
            let cy = y + st.pad + row as i32 * self.row_h + st.text_h() / 2;
            let (sx0, sx1) = (x + st.pad, x + st.pad + self.sample);
            if s.dashed {
                root.draw(&DashedPathElement::new(
                    [(sx0, cy), (sx1, cy)],
                    dash,
                    space,
                    style,
                ))?;
            } else {
                root.draw(&PathElement::new(vec![(sx0, cy), (sx1, cy)], style))?;
            }
            if s.markers {
                root.draw(&Circle::new(
                    ((sx0 + sx1) / 2, cy),
                    st.marker_r,
                    color.filled(),
                ))?;
            }
            let tx = x + st.pad * 3 + self.sample;
            text::draw(
                root,
                st,
                &legend_name(&s.name),
                (tx, cy),
                st.font,
                rgb(TEXT),
                HPos::Left,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inked(c: &Canvas) -> usize {
        c.pixels.iter().filter(|p| **p != WHITE).count()
    }

    fn count_color(c: &Canvas, color: [u8; 3]) -> usize {
        c.pixels.iter().filter(|p| **p == color).count()
    }

    #[test]
    fn edge_case_charts_render() {
        let nan = f64::NAN;
        let cases: Vec<Vec<(f64, f64)>> = vec![
            vec![],
            vec![(nan, nan), (1.0, nan), (nan, 2.0)],
            vec![(3.0, 4.0)],
            vec![(0.0, 0.5), (1.0, 0.5), (2.0, 0.5)],
            vec![
                (0.0, 0.0),
                (1.0, 10.0),
                (2.0, 0.0),
                (3.0, 100.0),
                (4.0, -1.0),
            ],
            vec![(f64::INFINITY, 1.0), (-1e308, 1e308), (1e308, -1e308)],
            vec![(1.0, 1.0); 100],
        ];
        for scale in [Scale::Linear, Scale::Log10] {
            for pts in &cases {
                for (w, h) in [(0, 0), (64, 48), (800, 500), (5000, 30)] {
                    let chart = LineChart::new("T", "x", "y")
                        .series(Series::new("s", pts.clone()))
                        .y_scale(scale);
                    let (c, error) = canvas::paint(&chart, w, h);
                    assert_eq!(error, None, "{pts:?} {scale:?} {w}x{h}");
                    assert!(c.width >= 64 && c.height >= 48);
                    assert_eq!(c.pixels.len(), (c.width * c.height) as usize);
                }
            }
        }
        let empty = LineChart::new("", "", "").render(300, 200);
        assert!(inked(&empty) > 0, "axes and 'no data' are drawn");
    }

    #[test]
    fn single_point_draws_a_marker_and_nan_breaks_the_line() {
        let red = [200, 10, 10];
        let one = LineChart::new("", "", "")
            .series(Series::new("", vec![(1.0, 1.0)]).color(red))
            .render(200, 150);
        assert!(count_color(&one, red) >= 4);
        let gap = vec![
            (0.0, 0.0),
            (1.0, 1.0),
            (2.0, f64::NAN),
            (3.0, 1.0),
            (4.0, 0.0),
        ];
        let joined = vec![(0.0, 0.0), (1.0, 1.0), (3.0, 1.0), (4.0, 0.0)];
        let draw = |pts: Vec<(f64, f64)>| {
            LineChart::new("", "", "")
                .series(Series::new("", pts).color(red))
                .y_range(0.0, 2.0)
                .render(400, 300)
        };
        assert!(count_color(&draw(gap), red) + 50 < count_color(&draw(joined), red));
    }

    #[test]
    fn fixed_ranges_clip_the_data() {
        let red = [200, 10, 10];
        let chart = LineChart::new("", "", "")
            .series(Series::new("", vec![(0.0, -5.0), (10.0, 5.0)]).color(red))
            .x_range(0.0, 10.0)
            .y_range(-1.0, 1.0);
        let c = chart.render(400, 300);
        let (top, bottom) = (0..300)
            .filter(|&y| (0..400).any(|x| c.get(x, y) == Some(red)))
            .fold((300, 0), |(a, b), y| (a.min(y), b.max(y)));
        assert!(top >= 8 && bottom < 280, "{top} {bottom}");
    }

    #[test]
    fn randomized_series_never_panic() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 11
        };
        let specials = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            1e308,
            -1e308,
            1e-308,
        ];
        for _ in 0..40 {
            let mut chart = LineChart::new("random", "x", "y");
            if next().is_multiple_of(2) {
                chart.y_scale = Scale::Log10;
            }
            if next().is_multiple_of(4) {
                chart.y_range = Some((specials[next() as usize % 8], (next() % 100) as f64));
            }
            for k in 0..(next() % 5) {
                let n = next() % 60;
                let value = |next: &mut dyn FnMut() -> u64| {
                    if next().is_multiple_of(10) {
                        specials[next() as usize % 8]
                    } else {
                        (next() % 20_000) as f64 / 100.0 - 50.0
                    }
                };
                let pts = (0..n)
                    .map(|_| (value(&mut next), value(&mut next)))
                    .collect();
                let mut s = Series::new(format!("series {k}"), pts);
                s.dashed = next().is_multiple_of(2);
                s.markers = next().is_multiple_of(2);
                chart = chart.series(s);
            }
            let (w, h) = ((next() % 900) as u32, (next() % 700) as u32);
            let (c, error) = canvas::paint(&chart, w, h);
            assert_eq!(error, None);
            assert_eq!(c.pixels.len(), (c.width * c.height) as usize);
        }
    }

    #[test]
    fn dense_lines_are_thinned_out_but_keep_their_ends_and_spikes() {
        let line: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i) * 0.1, 0.0)).collect();
        let mut spiky = line.clone();
        spiky[50].1 = 30.0;
        let px = |p: &(f64, f64)| *p;
        let thin = thin_out(&line, px, 2.0);
        assert_eq!(thin.first(), line.first());
        assert_eq!(thin.last(), line.last());
        assert!(thin.len() <= 7, "{}", thin.len());
        assert!(thin_out(&spiky, px, 2.0).contains(&(5.0, 30.0)));
        let two = [(0.0, 0.0), (0.5, 0.0)];
        assert_eq!(thin_out(&two, px, 2.0), two);
    }

    /// Pixels dark enough to be text, in rows `y0..y1`.
    fn dark_in_rows(c: &Canvas, y0: i32, y1: i32) -> usize {
        (y0..y1)
            .flat_map(|y| (0..c.width as i32).map(move |x| (x, y)))
            .filter(|&(x, y)| c.get(x, y).is_some_and(|p| p.iter().all(|&v| v < 110)))
            .count()
    }

    fn two_series(named: bool) -> LineChart {
        let name = |n: &str| if named { n.to_owned() } else { String::new() };
        let rise: Vec<(f64, f64)> = (0..20).map(|i| (f64::from(i), f64::from(i))).collect();
        let fall = rise.iter().map(|&(x, y)| (x, 19.0 - y)).collect();
        LineChart::new("Loss curve", "epoch", "loss")
            .series(Series::new(name("train"), rise))
            .series(Series::new(name("val"), fall).dashed().markers())
    }

    #[test]
    fn png_is_valid_of_the_requested_size_and_not_blank() {
        let c = two_series(true).render(800, 500);
        let decoder = png::Decoder::new(std::io::Cursor::new(c.to_png_bytes()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (800, 500));
        let total = 800 * 500;
        assert!(
            inked(&c) > total / 50 && inked(&c) < total / 2,
            "{}",
            inked(&c)
        );
        // Both series colours are drawn (the blue line and the orange dashes).
        assert!(count_color(&c, series_color(0)) > 200);
        assert!(count_color(&c, series_color(1)) > 100);
    }

    #[test]
    fn titles_labels_ticks_and_legend_are_drawn() {
        let chart = two_series(true);
        let c = chart.render(800, 500);
        assert!(dark_in_rows(&c, 0, 40) > 100, "title");
        assert!(dark_in_rows(&c, 460, 500) > 40, "x axis label");
        let svg = c.svg();
        for text in ["Loss curve", "epoch", "loss", "train", "val", "0", "10"] {
            let element = format!(">\n{text}\n</text>");
            assert!(svg.contains(&element), "{text} missing from the SVG");
        }
        // The legend is the only difference between named and unnamed series.
        let unnamed = two_series(false).render(800, 500);
        assert_ne!(c.pixels, unnamed.pixels);
        assert!(!unnamed.svg().contains("train"));
        let no_title = LineChart {
            title: String::new(),
            ..chart
        };
        assert!(dark_in_rows(&no_title.render(800, 500), 0, 10) == 0);
    }

    #[test]
    fn the_legend_avoids_the_data_and_moves_outside_when_it_must() {
        // Two rising lines leave the upper-left corner free.
        let rise = |o: f64| (0..30).map(|i| (f64::from(i), f64::from(i) + o)).collect();
        let chart = LineChart::new("", "", "")
            .series(Series::new("a", rise(0.0)))
            .series(Series::new("b", rise(2.0)));
        let (w, h) = (600, 400);
        let legend_rows = |c: &Canvas| {
            // Columns of the left and right thirds holding the legend's white box edge colour.
            let border = crate::palette::BOX_BORDER;
            let left = (0..w / 3).filter(|&x| (0..h).any(|y| c.get(x, y) == Some(border)));
            let right = (2 * w / 3..w).filter(|&x| (0..h).any(|y| c.get(x, y) == Some(border)));
            (left.count(), right.count())
        };
        let (l, r) = legend_rows(&chart.render(w as u32, h as u32));
        assert!(l > 0 && r == 0, "upper-left: {l} {r}");
        // A noisy series everywhere pushes the legend beside the plot.
        let noisy = (0..400)
            .map(|i| (f64::from(i), f64::from((i * 7919) % 101)))
            .collect();
        let crowded = LineChart::new("", "", "").series(Series::new("noise", noisy));
        let c = crowded.render(w as u32, h as u32);
        let (l, r) = legend_rows(&c);
        assert!(l == 0 && r > 0, "outside right: {l} {r}");
    }
}

#[cfg(test)]
mod category_tests {
    use super::*;

    #[test]
    fn categorical_ticks_render_and_skip_what_is_off_the_axis() {
        let chart = LineChart::new("t", "variant", "score")
            .x_range(0.5, 2.5)
            .x_categories([
                (1.0, "soft"),
                (2.0, "none"),
                (7.0, "off"),
                (f64::NAN, "nan"),
            ])
            .series(Series::new("a", vec![(1.0, 0.2), (2.0, 0.8)]).markers());
        let c = chart.render(400, 300);
        assert_eq!((c.width, c.height), (400, 300));
        let plain = LineChart::new("t", "variant", "score")
            .x_range(0.5, 2.5)
            .series(Series::new("a", vec![(1.0, 0.2), (2.0, 0.8)]).markers())
            .render(400, 300);
        assert_ne!(c.pixels, plain.pixels, "the category labels are drawn");
    }
}
