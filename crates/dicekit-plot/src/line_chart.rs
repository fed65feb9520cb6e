//! Line charts: several named series over a linear x axis and a linear or log10 y axis.

use crate::axes::{Axis, Scale, data_range, sanitize_range};
use crate::canvas::{Canvas, Rect};
use crate::frame::{self, Style};
use crate::palette::{MUTED, TEXT, WHITE, series_color};

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
        let (w, h) = frame::clamp_size(width, height);
        let st = Style::new(w, h);
        let mut c = Canvas::new(w, h, WHITE);
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

        // Vertical layout first: the y ticks decide the left margin.
        let (pad, text_h) = (st.pad, st.text_h());
        let top = pad * 2
            + if self.title.is_empty() {
                0
            } else {
                text_h + pad * 2
            };
        let x_label_h = if self.x_label.is_empty() {
            0
        } else {
            text_h + pad * 2
        };
        let bottom = st.tick + pad + text_h + pad + x_label_h;
        let y1 = (h as i32 - bottom).max(top + 2);
        let y_axis = Axis::new(
            y_lo,
            y_hi,
            self.y_scale,
            f64::from(y1) - 0.5,
            f64::from(top) + 0.5,
        );
        let (y_ticks, y_labels) = frame::y_ticks(&y_axis, &st);
        let y_label_w = if self.y_label.is_empty() {
            0
        } else {
            text_h + pad * 2
        };
        let left = pad + y_label_w + frame::max_width(&y_labels, &st) + pad + st.tick;

        // The legend goes in the first inside place (corners first) that hides no data, or
        // outside on the right when every place would hide data (or when it is too wide to sit inside).
        let legend = Legend::new(&self.series, &st);
        let layout = |right: i32| {
            let plot = Rect {
                x0: left,
                y0: top,
                x1: (w as i32 - right).max(left + 2),
                y1,
            };
            let (x0, x1) = (f64::from(plot.x0) + 0.5, f64::from(plot.x1) - 0.5);
            let x_axis = Axis::new(x_lo, x_hi, Scale::Linear, x0, x1);
            let paths: Vec<Vec<(f64, f64)>> = self
                .series
                .iter()
                .map(|s| {
                    let pixel = |p: &(f64, f64)| {
                        if self.usable(*p) {
                            (x_axis.to_pixel(p.0), y_axis.to_pixel(p.1))
                        } else {
                            (f64::NAN, f64::NAN) // breaks the line
                        }
                    };
                    s.points.iter().map(pixel).collect()
                })
                .collect();
            (plot, x_axis, paths)
        };
        let mut spot = None;
        let (mut plot, mut x_axis, mut paths) = layout(pad * 5);
        if legend.w > 0 {
            let mut samples = Vec::new();
            paths.iter().for_each(|px| sample_path(px, &mut samples));
            spot = legend.free_spot(plot, &samples, &st);
            if spot.is_none() && f64::from(legend.w) <= 0.4 * f64::from(w as i32 - left) {
                (plot, x_axis, paths) = layout(legend.w + pad * 5);
                spot = Some((plot.x1 + pad * 3, plot.y0));
            }
            // Too wide to sit beside the plot: upper-right corner, over the data.
            spot = spot.or(Some((plot.x1 - pad * 2 - legend.w, plot.y0 + pad * 2)));
        }
        let (x_ticks, x_labels) = match &self.x_ticks {
            Some(t) => {
                let (lo, hi) = (x_axis.min.min(x_axis.max), x_axis.max.max(x_axis.min));
                t.iter()
                    .filter(|(x, _)| x.is_finite() && *x >= lo && *x <= hi)
                    .map(|(x, l)| (*x, l.clone()))
                    .unzip()
            }
            None => frame::x_ticks(&x_axis, &st),
        };

        frame::grid_x(&mut c, &x_axis, &x_ticks, plot);
        frame::grid_y(&mut c, &y_axis, &y_ticks, plot);
        let inside = frame::interior(plot);
        let line_w = 1.25 * f64::from(st.s);
        for (i, (s, px)) in self.series.iter().zip(&paths).enumerate() {
            let color = s.color.unwrap_or(series_color(i));
            let dash = s.dashed.then_some((5.0 * line_w, 3.5 * line_w));
            c.polyline(px, line_w, color, dash, Some(inside));
            for (j, &(x, y)) in px.iter().enumerate() {
                let gap = |k: Option<usize>| k.and_then(|k| px.get(k)).is_none_or(|p| p.0.is_nan());
                let isolated = gap(j.checked_sub(1)) && gap(j.checked_add(1));
                if (s.markers || isolated) && contains(inside, x, y) {
                    c.circle(x, y, 1.6 * line_w + 0.5, color);
                }
            }
        }

        frame::frame(&mut c, plot);
        frame::x_tick_marks(&mut c, &x_axis, &x_ticks, Some(&x_labels), plot, &st);
        frame::y_tick_marks(&mut c, &y_axis, &y_ticks, &y_labels, plot, &st);
        let cx = (plot.x0 + plot.x1) / 2;
        if !self.title.is_empty() {
            frame::title(&mut c, cx, pad * 2, &self.title, &st);
        }
        if !self.x_label.is_empty() {
            frame::centered_text(
                &mut c,
                cx,
                h as i32 - pad - text_h,
                &self.x_label,
                &st,
                TEXT,
            );
        }
        if !self.y_label.is_empty() {
            frame::vertical_label(&mut c, pad, (plot.y0 + plot.y1) / 2, &self.y_label, &st);
        }
        if !has_data {
            let cy = (plot.y0 + plot.y1 - st.cap_h()) / 2;
            frame::centered_text(&mut c, cx, cy, "no data", &st, MUTED);
        }
        if let Some((lx, ly)) = spot {
            legend.draw(&mut c, lx, ly, &self.series, &st, line_w);
        }
        c
    }
}

/// A user range if it is usable on `scale`.
fn fixed_range(range: Option<(f64, f64)>, scale: Scale) -> Option<(f64, f64)> {
    let (lo, hi) = range?;
    let ok = lo.is_finite() && hi.is_finite() && lo < hi && (scale == Scale::Linear || lo > 0.0);
    ok.then(|| sanitize_range(lo, hi, scale))
}

fn contains(r: Rect, x: f64, y: f64) -> bool {
    x >= f64::from(r.x0) && x < f64::from(r.x1) && y >= f64::from(r.y0) && y < f64::from(r.y1)
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
    fn new(series: &[Series], st: &Style) -> Self {
        let names: Vec<String> = series
            .iter()
            .filter(|s| !s.name.is_empty())
            .map(|s| legend_name(&s.name))
            .collect();
        let row_h = st.text_h() + st.pad;
        let sample = 18 * st.s as i32;
        if names.is_empty() {
            return Legend {
                w: 0,
                h: 0,
                row_h,
                sample,
            };
        }
        let w = st.pad * 4 + sample + frame::max_width(&names, st);
        let h = st.pad * 2 + names.len() as i32 * row_h - st.pad + st.s as i32;
        Legend {
            w,
            h,
            row_h,
            sample,
        }
    }

    /// The first place inside the plot whose box hides no data sample, if any: the corners
    /// (upper-right, upper-left, lower-right, lower-left), then a 5 x 5 grid from the top right.
    fn free_spot(&self, plot: Rect, samples: &[(f64, f64)], st: &Style) -> Option<(i32, i32)> {
        let m = st.pad * 2;
        let (l, r) = (plot.x0 + m, plot.x1 - m - self.w);
        let (t, b) = (plot.y0 + m, plot.y1 - m - self.h);
        if r < l || b < t {
            return None;
        }
        // The four corners first, then a 5 x 5 grid of places over the plot, row by row.
        let grid = (0..5)
            .flat_map(move |j| (0..5).map(move |i| (r - (r - l) * i / 4, t + (b - t) * j / 4)));
        [(r, t), (l, t), (r, b), (l, b)]
            .into_iter()
            .chain(grid)
            .find(|&(x, y)| {
                let area = Rect {
                    x0: x - 4,
                    y0: y - 4,
                    x1: x + self.w + 4,
                    y1: y + self.h + 4,
                };
                !samples.iter().any(|p| contains(area, p.0, p.1))
            })
    }

    fn draw(&self, c: &mut Canvas, x: i32, y: i32, series: &[Series], st: &Style, line_w: f64) {
        c.blend_rect(x, y, self.w, self.h, WHITE, 0.88);
        c.stroke_rect(x, y, self.w, self.h, [200, 200, 200]);
        let named = series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.is_empty());
        for (row, (i, s)) in named.enumerate() {
            let color = s.color.unwrap_or(series_color(i));
            let ty = y + st.pad + row as i32 * self.row_h;
            let cy = f64::from(ty) + f64::from(st.cap_h()) / 2.0;
            let (sx0, sx1) = (f64::from(x + st.pad), f64::from(x + st.pad + self.sample));
            let dash = s.dashed.then_some((5.0 * line_w, 3.5 * line_w));
            c.polyline(&[(sx0, cy), (sx1, cy)], line_w, color, dash, None);
            if s.markers {
                c.circle((sx0 + sx1) / 2.0, cy, 1.6 * line_w + 0.5, color);
            }
            c.text(
                x + st.pad * 3 + self.sample,
                ty,
                &legend_name(&s.name),
                st.s,
                TEXT,
            );
        }
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
                    let c = chart.render(w, h);
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
            let c = chart.render(w, h);
            assert_eq!(c.pixels.len(), (c.width * c.height) as usize);
        }
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
