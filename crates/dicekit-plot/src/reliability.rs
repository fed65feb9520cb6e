//! Reliability diagrams: per-bin accuracy against confidence, the calibration gap, and a
//! histogram of bin counts on the shared confidence axis.

use crate::axes::{Axis, Scale};
use crate::canvas::{Canvas, Rect};
use crate::frame::{self, Style};
use crate::palette::{BLUE, MUTED, TEXT, WHITE};

/// Fill of the accuracy bars.
const BAR: [u8; 3] = [70, 130, 190];
/// Fill of the calibration gap (drawn translucent).
const GAP: [u8; 3] = [225, 60, 60];
/// Fill of the count histogram.
const HIST: [u8; 3] = [150, 160, 175];

/// One confidence bin of a [`ReliabilityDiagram`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBar {
    /// Lower confidence edge of the bin, in `[0, 1]`.
    pub lower: f64,
    /// Upper confidence edge of the bin, in `[0, 1]`.
    pub upper: f64,
    /// Number of predictions in the bin.
    pub count: u64,
    /// Mean confidence of the bin; the gap is drawn from the accuracy to it.
    pub confidence: Option<f64>,
    /// Accuracy of the bin; bins without accuracy draw nothing.
    pub accuracy: Option<f64>,
}

/// A reliability diagram with a count histogram underneath and an annotation box.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReliabilityDiagram {
    /// Title drawn above the plot.
    pub title: String,
    /// The bins.
    pub bars: Vec<ReliabilityBar>,
    /// Lines drawn in a box in the upper-left corner, e.g. `"ECE 0.0123"`.
    pub annotation: Vec<String>,
}

/// A bin reduced to what can be drawn: edges, accuracy and optional confidence in `[0, 1]`.
struct Bin {
    lower: f64,
    upper: f64,
    accuracy: f64,
    confidence: Option<f64>,
    count: u64,
}

fn unit(v: f64) -> Option<f64> {
    v.is_finite().then(|| v.clamp(0.0, 1.0))
}

impl ReliabilityDiagram {
    /// An empty diagram.
    pub fn new(title: impl Into<String>) -> Self {
        ReliabilityDiagram {
            title: title.into(),
            ..Self::default()
        }
    }

    fn bins(&self) -> Vec<Bin> {
        self.bars
            .iter()
            .filter_map(|b| {
                let (lower, upper) = (unit(b.lower)?, unit(b.upper)?);
                let (lower, upper) = (lower.min(upper), lower.max(upper));
                let accuracy = unit(b.accuracy?)?;
                let confidence = b.confidence.and_then(unit);
                (upper > lower).then_some(Bin {
                    lower,
                    upper,
                    accuracy,
                    confidence,
                    count: b.count,
                })
            })
            .collect()
    }

    /// Draws the diagram on a white `width` x `height` canvas (clamped to at least 64 x 48).
    pub fn render(&self, width: u32, height: u32) -> Canvas {
        let (w, h) = frame::clamp_size(width, height);
        let st = Style::new(w, h);
        let mut c = Canvas::new(w, h, WHITE);
        let bins = self.bins();
        let (pad, text_h) = (st.pad, st.text_h());

        let top = pad * 2
            + if self.title.is_empty() {
                0
            } else {
                text_h + pad * 2
            };
        let bottom = st.tick + pad + text_h + pad * 3 + text_h;
        let avail = (h as i32 - top - bottom).max(4);
        let hist_h = (f64::from(h) * 0.2)
            .round()
            .clamp(1.0, f64::from(avail / 3)) as i32;
        let gap = pad * 3;
        let main_y1 = top + (avail - hist_h - gap).max(1);
        let (hist_y0, hist_y1) = (main_y1 + gap, top + avail);

        let max_count = bins.iter().map(|b| b.count).max().unwrap_or(0);
        let y_axis = Axis::new(
            0.0,
            1.0,
            Scale::Linear,
            f64::from(main_y1) - 0.5,
            f64::from(top) + 0.5,
        );
        let (y_ticks, y_labels) = frame::y_ticks(&y_axis, &st);
        let count_top = if max_count == 0 {
            1.0
        } else {
            max_count as f64
        };
        let n_axis = Axis::new(
            0.0,
            count_top,
            Scale::Linear,
            f64::from(hist_y1) - 0.5,
            f64::from(hist_y0) + 0.5,
        );
        // The histogram is labelled at 0 and at its tallest bar.
        let n_ticks = vec![0.0, count_top];
        let n_labels = vec!["0".to_owned(), format!("{}", max_count.max(1))];
        let label_w = frame::max_width(&y_labels, &st).max(frame::max_width(&n_labels, &st));
        let left = pad * 3 + text_h + label_w + pad + st.tick;
        let x1 = (w as i32 - pad * 6).max(left + 2);
        let main = Rect {
            x0: left,
            y0: top,
            x1,
            y1: main_y1,
        };
        let hist = Rect {
            x0: left,
            y0: hist_y0,
            x1,
            y1: hist_y1,
        };
        let x_axis = Axis::new(
            0.0,
            1.0,
            Scale::Linear,
            f64::from(left) + 0.5,
            f64::from(x1) - 0.5,
        );
        let (x_ticks, x_labels) = frame::x_ticks(&x_axis, &st);

        for (plot, axis, ticks) in [(main, &y_axis, &y_ticks), (hist, &n_axis, &n_ticks)] {
            frame::grid_x(&mut c, &x_axis, &x_ticks, plot);
            frame::grid_y(&mut c, axis, ticks, plot);
        }
        let column = |b: &Bin| {
            (
                x_axis.to_pixel(b.lower).round() as i32,
                x_axis.to_pixel(b.upper).round() as i32,
            )
        };
        for b in &bins {
            let (bx0, bx1) = column(b);
            let (top_y, base) = (y_axis.to_pixel(b.accuracy).round() as i32, main_y1);
            c.fill_rect(bx0, top_y, bx1 - bx0, base - top_y, BAR);
            c.stroke_rect(bx0, top_y, bx1 - bx0 + 1, base - top_y + 1, BLUE);
            if let Some(conf) = b.confidence {
                let cy = y_axis.to_pixel(conf).round() as i32;
                let (g0, g1) = (cy.min(top_y), cy.max(top_y));
                c.blend_rect(bx0 + 1, g0, bx1 - bx0 - 1, g1 - g0, GAP, 0.45);
                c.blend_rect(bx0, cy, bx1 - bx0 + 1, 1, GAP, 0.9);
            }
            if max_count > 0 && b.count > 0 {
                let hy = n_axis.to_pixel(b.count as f64).round() as i32;
                c.fill_rect(bx0, hy, bx1 - bx0, hist_y1 - hy, HIST);
                c.stroke_rect(bx0, hy, bx1 - bx0 + 1, hist_y1 - hy + 1, [105, 115, 130]);
            }
        }
        let diag = [
            (x_axis.to_pixel(0.0), y_axis.to_pixel(0.0)),
            (x_axis.to_pixel(1.0), y_axis.to_pixel(1.0)),
        ];
        let dash = f64::from(st.s) * 4.0;
        c.polyline(
            &diag,
            f64::from(st.s),
            MUTED,
            Some((dash, dash * 0.75)),
            Some(frame::interior(main)),
        );

        for (plot, axis, ticks, labels) in [
            (main, &y_axis, &y_ticks, &y_labels),
            (hist, &n_axis, &n_ticks, &n_labels),
        ] {
            frame::frame(&mut c, plot);
            frame::y_tick_marks(&mut c, axis, ticks, labels, plot, &st);
        }
        frame::x_tick_marks(&mut c, &x_axis, &x_ticks, None, main, &st);
        frame::x_tick_marks(&mut c, &x_axis, &x_ticks, Some(&x_labels), hist, &st);

        let cx = (left + x1) / 2;
        if !self.title.is_empty() {
            frame::title(&mut c, cx, pad * 2, &self.title, &st);
        }
        frame::centered_text(&mut c, cx, h as i32 - pad - text_h, "Confidence", &st, TEXT);
        frame::vertical_label(&mut c, pad, (top + main_y1) / 2, "Accuracy", &st);
        if hist.height() >= st.width("Count") {
            frame::vertical_label(&mut c, pad, (hist_y0 + hist_y1) / 2, "Count", &st);
        }
        if bins.is_empty() {
            frame::centered_text(
                &mut c,
                cx,
                (top + main_y1 - st.cap_h()) / 2,
                "no data",
                &st,
                MUTED,
            );
        }
        self.key(&mut c, main, &st);
        c
    }

    /// The box in the upper-left corner: colour key, then the annotation lines.
    fn key(&self, c: &mut Canvas, main: Rect, st: &Style) {
        let s = st.s as i32;
        let swatch = 12 * s;
        let keys = ["Accuracy", "Gap", "Perfect"];
        let row_h = st.text_h() + st.pad;
        let key_w = swatch + st.pad + keys.iter().map(|k| st.width(k)).max().unwrap_or(0);
        let note_w = self
            .annotation
            .iter()
            .map(|l| st.width(l))
            .max()
            .unwrap_or(0);
        let rows = (keys.len() + self.annotation.len()) as i32;
        let sep = if self.annotation.is_empty() {
            0
        } else {
            st.pad
        };
        let (bw, bh) = (
            key_w.max(note_w) + st.pad * 2,
            rows * row_h - st.pad + st.pad * 2 + sep + s,
        );
        let (x, y) = (main.x0 + st.pad * 2, main.y0 + st.pad * 2);
        c.blend_rect(x, y, bw, bh, WHITE, 0.9);
        c.stroke_rect(x, y, bw, bh, [200, 200, 200]);
        let (tx, mut ty) = (x + st.pad, y + st.pad);
        let box_y = |ty: i32| ty + s;
        c.fill_rect(tx, box_y(ty), swatch, st.cap_h() - 2 * s, BAR);
        c.stroke_rect(tx, box_y(ty), swatch, st.cap_h() - 2 * s, BLUE);
        ty += row_h;
        c.blend_rect(tx, box_y(ty), swatch, st.cap_h() - 2 * s, GAP, 0.45);
        c.blend_rect(tx, box_y(ty), swatch, s, GAP, 0.9);
        ty += row_h;
        let mid = f64::from(ty) + f64::from(st.cap_h()) / 2.0;
        let seg = [(f64::from(tx), mid), (f64::from(tx + swatch), mid)];
        c.polyline(
            &seg,
            f64::from(st.s),
            MUTED,
            Some((f64::from(3 * s), f64::from(2 * s))),
            None,
        );
        for (k, key) in keys.iter().enumerate() {
            c.text(
                tx + swatch + st.pad,
                y + st.pad + k as i32 * row_h,
                key,
                st.s,
                TEXT,
            );
        }
        let mut ly = y + st.pad + keys.len() as i32 * row_h + sep;
        if sep > 0 {
            c.fill_rect(
                x + st.pad,
                ly - sep / 2 - st.pad / 2,
                bw - st.pad * 2,
                1,
                [215, 215, 215],
            );
        }
        for line in &self.annotation {
            c.text(tx, ly, line, st.s, TEXT);
            ly += row_h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(
        lower: f64,
        upper: f64,
        count: u64,
        confidence: Option<f64>,
        accuracy: Option<f64>,
    ) -> ReliabilityBar {
        ReliabilityBar {
            lower,
            upper,
            count,
            confidence,
            accuracy,
        }
    }

    #[test]
    fn bars_gap_and_histogram_are_drawn() {
        let d = ReliabilityDiagram {
            title: "Calibration".into(),
            bars: vec![
                bar(0.5, 0.6, 10, Some(0.55), Some(0.3)),
                bar(0.9, 1.0, 100, Some(0.95), Some(0.9)),
            ],
            annotation: vec!["ECE 0.0123".into()],
        };
        let c = d.render(600, 600);
        assert!(c.pixels.contains(&BAR));
        assert!(c.pixels.contains(&HIST));
        assert!(
            c.pixels
                .iter()
                .any(|p| p[0] > 200 && p[1] < 190 && p[2] < 190),
            "translucent red gap"
        );
    }

    #[test]
    fn bins_without_accuracy_draw_nothing() {
        let none = ReliabilityDiagram {
            bars: vec![bar(0.0, 0.5, 9, Some(0.3), None)],
            ..Default::default()
        };
        let empty = ReliabilityDiagram::default();
        assert_eq!(none.render(300, 300), empty.render(300, 300));
    }

    #[test]
    fn edge_cases_do_not_panic() {
        let nan = f64::NAN;
        let d = ReliabilityDiagram {
            title: String::new(),
            bars: vec![
                bar(nan, 1.0, 1, Some(nan), Some(0.5)),
                bar(0.2, 0.2, 0, None, Some(1.0)),
                bar(-5.0, 5.0, u64::MAX, Some(f64::INFINITY), Some(-3.0)),
                bar(0.7, 0.6, 3, Some(0.65), Some(0.65)),
            ],
            annotation: vec![
                "a very long annotation line that will not fit in a tiny image".into();
                20
            ],
        };
        for (w, h) in [(0, 0), (64, 48), (600, 600), (3000, 100), (100, 3000)] {
            let c = d.render(w, h);
            assert_eq!(c.pixels.len(), (c.width * c.height) as usize);
        }
    }
}
