//! Reliability diagrams: per-bin accuracy against confidence, the calibration gap, and a
//! histogram of bin counts on the shared confidence axis.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use crate::axes::Scale;
use crate::canvas::{self, Canvas, Figure};
use crate::frame::{self, Coord, Mesh, Plot, Style};
use crate::palette::{BLUE, BOX_BORDER, MUTED, TEXT, WHITE, rgb};
use crate::text;

/// Fill of the accuracy bars.
const BAR: [u8; 3] = [70, 130, 190];
/// Fill of the calibration gap (drawn translucent).
const GAP: [u8; 3] = [225, 60, 60];
/// Fill of the count histogram.
const HIST: [u8; 3] = [150, 160, 175];
/// Outline of the count histogram's bars.
const HIST_EDGE: [u8; 3] = [105, 115, 130];
/// The rule between the colour key and the annotation.
const SEPARATOR: [u8; 3] = [215, 215, 215];

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
    ///
    /// Never panics: bins whose edges or accuracy are not finite are left out, values are
    /// clamped to `[0, 1]`, and a diagram without bins shows "no data".
    pub fn render(&self, width: u32, height: u32) -> Canvas {
        canvas::paint(self, width, height).0
    }

    /// The box in the upper-left corner: colour key, then the annotation lines.
    fn key<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        main: Plot,
        st: &Style,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (pad, text_h, t) = (st.pad, st.text_h(), st.thin as i32);
        let swatch = (1.4 * st.font).round() as i32;
        let keys = ["Accuracy", "Gap", "Perfect"];
        let row_h = text_h + pad / 2;
        let width = |s: &str| text::width(root, s, st.font);
        let key_w = swatch + pad + keys.iter().map(|k| width(k)).max().unwrap_or(0);
        let notes = tab_layout(&self.annotation, &width, width(" "));
        let note_w = notes.iter().map(|l| l.1).max().unwrap_or(0);
        let sep = if notes.is_empty() { 0 } else { pad };
        let rows = (keys.len() + notes.len()) as i32;
        let (bw, bh) = (key_w.max(note_w) + pad * 2, rows * row_h + pad * 2 + sep);
        let (x, y) = (main.x0 + pad * 2, main.y0 + pad * 2);
        let corner = (x + bw, y + bh);
        root.draw(&Rectangle::new(
            [(x, y), corner],
            rgb(WHITE).mix(0.9).filled(),
        ))?;
        frame::outline(root, [(x, y), corner], rgb(BOX_BORDER), st.thin)?;
        let tx = x + pad;
        let cy = |row: usize| y + pad + row as i32 * row_h + row_h / 2;
        let half = text::cap_height(st.font) / 2 + t;
        let swatch_box = |row: usize| [(tx, cy(row) - half), (tx + swatch, cy(row) + half)];
        root.draw(&Rectangle::new(swatch_box(0), rgb(BAR).filled()))?;
        frame::outline(root, swatch_box(0), rgb(BLUE), st.thin)?;
        let [(gx0, gy0), (gx1, gy1)] = swatch_box(1);
        root.draw(&Rectangle::new(
            [(gx0, gy0), (gx1, gy1)],
            rgb(GAP).mix(0.45).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(gx0, gy0), (gx1, gy0 + t)],
            rgb(GAP).mix(0.9).filled(),
        ))?;
        let (dash, space) = diagonal_dashes(st);
        let perfect = [(tx, cy(2)), (tx + swatch, cy(2))];
        root.draw(&DashedPathElement::new(
            perfect,
            dash,
            space,
            diagonal_style(st),
        ))?;
        for (row, key) in keys.iter().enumerate() {
            let at = (tx + swatch + pad, cy(row));
            text::draw(root, st, key, at, st.font, rgb(TEXT), HPos::Left)?;
        }
        if sep > 0 {
            let sy = y + pad + keys.len() as i32 * row_h + sep / 2;
            let line = [(x + pad, sy), (x + bw - pad, sy + t)];
            root.draw(&Rectangle::new(line, rgb(SEPARATOR).filled()))?;
        }
        for (i, (words, _)) in notes.iter().enumerate() {
            let ly = cy(keys.len() + i) + sep;
            for (wx, word) in words {
                text::draw(
                    root,
                    st,
                    word,
                    (tx + wx, ly),
                    st.font,
                    rgb(TEXT),
                    HPos::Left,
                )?;
            }
        }
        Ok(())
    }
}

/// Dash and gap lengths of the perfect-calibration diagonal.
fn diagonal_dashes(st: &Style) -> (i32, i32) {
    (
        (0.5 * st.font).round() as i32,
        (0.375 * st.font).round() as i32,
    )
}

fn diagonal_style(st: &Style) -> ShapeStyle {
    rgb(MUTED).stroke_width((f64::from(st.line_w) * 0.8).round().max(1.0) as u32)
}

/// Lays out annotation lines that align values with spaces (written for a monospaced font):
/// words starting at the same character column in several lines start at the same x (a tab
/// stop after the longest text before it), other words follow the previous word after a
/// space. Returns each line's words with their x offsets, and the line's width.
fn tab_layout(
    lines: &[String],
    width: &dyn Fn(&str) -> i32,
    space: i32,
) -> Vec<(Vec<(i32, String)>, i32)> {
    let words: Vec<Vec<(usize, String)>> = lines.iter().map(|l| split_words(l)).collect();
    let mut uses: BTreeMap<usize, usize> = BTreeMap::new();
    for (col, _) in words.iter().flatten() {
        *uses.entry(*col).or_default() += 1;
    }
    let mut out: Vec<(Vec<(i32, String)>, i32)> = vec![(Vec::new(), 0); lines.len()];
    // The index of the next word of each line: columns are visited left to right.
    let mut next = vec![0usize; lines.len()];
    for (&col, &n) in &uses {
        let natural: Vec<(usize, i32)> = (0..lines.len())
            .filter(|&i| words[i].get(next[i]).is_some_and(|w| w.0 == col))
            .map(|i| {
                (
                    i,
                    if out[i].0.is_empty() {
                        0
                    } else {
                        out[i].1 + space
                    },
                )
            })
            .collect();
        let stop = natural.iter().map(|p| p.1).max().unwrap_or(0);
        for (i, x) in natural {
            let x = if n >= 2 { stop } else { x };
            let word = words[i][next[i]].1.clone();
            out[i].1 = x + width(&word);
            out[i].0.push((x, word));
            next[i] += 1;
        }
    }
    out
}

/// The words of `line` with the character column each starts at.
fn split_words(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut word: Option<(usize, String)> = None;
    for (col, ch) in line.chars().enumerate() {
        if ch.is_whitespace() {
            out.extend(word.take());
        } else {
            word.get_or_insert_with(|| (col, String::new())).1.push(ch);
        }
    }
    out.extend(word);
    out
}

impl Figure for ReliabilityDiagram {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        st: &Style,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&rgb(WHITE))?;
        let (w, h) = root.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let bins = self.bins();
        let (pad, text_h, t) = (st.pad, st.text_h(), st.thin as i32);
        let title_h = text::line_height(st.title_font);
        let label_h = text::line_height(st.label_font);

        let top = if self.title.is_empty() {
            pad * 2 + text_h / 2
        } else {
            pad * 4 + title_h
        };
        let bottom = h - pad;
        let avail = (bottom - top - (st.tick * 2 + text_h + pad + label_h)).max(4);
        let hist_h = (0.2 * f64::from(h))
            .round()
            .clamp(1.0, f64::from((avail / 3).max(1))) as i32;
        let gap = pad * 3;
        let main_y1 = top + (avail - hist_h - gap).max(1);
        let (hist_y0, hist_y1) = (main_y1 + gap, top + avail);

        let max_count = bins.iter().map(|b| b.count).max().unwrap_or(0);
        let count_top = if max_count == 0 {
            1.0
        } else {
            max_count as f64
        };
        let rows = Plot::new(0, top, w, main_y1, (w, h));
        let y_ticks = frame::y_ticks(&rows.y_axis(0.0, 1.0, Scale::Linear), st);
        // The histogram is labelled at 0 and at its tallest bar.
        let n_ticks = vec![
            (0.0, "0".to_owned()),
            (count_top, format!("{}", max_count.max(1))),
        ];
        let labels: Vec<String> = y_ticks
            .iter()
            .chain(&n_ticks)
            .map(|t| t.1.clone())
            .collect();
        let left = pad * 2 + label_h + text::max_width(root, &labels, st.font) + st.tick * 2;
        let x1 = w - pad * 6;
        let main = Plot::new(left, rows.y0, x1, rows.y1, (w, h));
        let hist = Plot::new(left, hist_y0, x1, hist_y1, (w, h));
        let x_axis = main.x_axis(0.0, 1.0);
        let x_ticks = frame::x_ticks(&x_axis, st, &|s| text::width(root, s, st.font));
        let unlabelled: Vec<(f64, String)> =
            x_ticks.iter().map(|(x, _)| (*x, String::new())).collect();

        // The main panel: accuracy bars, the gap to the mean confidence, the diagonal.
        let coords = (
            Coord::new(x_axis, &x_ticks),
            Coord::new(main.y_axis(0.0, 1.0, Scale::Linear), &y_ticks),
        );
        let mut chart = frame::chart_on(root, st, main, main.y1 + st.tick * 2, coords)?;
        let mesh = Mesh {
            x_ticks: &unlabelled,
            y_ticks: &y_ticks,
            x_label: "",
            y_label: "Accuracy",
        };
        frame::draw_mesh(&mut chart, st, &mesh)?;
        let px = |chart: &frame::Chart<'_, DB>, x: f64, y: f64| chart.backend_coord(&(x, y));
        for b in &bins {
            let (bx0, top_y) = px(&chart, b.lower, b.accuracy);
            let (bx1, base) = px(&chart, b.upper, 0.0);
            let base = base + 1;
            root.draw(&Rectangle::new(
                [(bx0, top_y), (bx1, base)],
                rgb(BAR).filled(),
            ))?;
            frame::outline(root, [(bx0, top_y), (bx1 + t, base)], rgb(BLUE), st.thin)?;
            if let Some(conf) = b.confidence {
                let cy = px(&chart, b.lower, conf).1;
                let (g0, g1) = (cy.min(top_y), cy.max(top_y));
                let gap_box = [(bx0 + t, g0), (bx1, g1)];
                root.draw(&Rectangle::new(gap_box, rgb(GAP).mix(0.45).filled()))?;
                let line = [(bx0, cy), (bx1 + t, cy + t)];
                root.draw(&Rectangle::new(line, rgb(GAP).mix(0.9).filled()))?;
            }
        }
        let (dash, space) = diagonal_dashes(st);
        let diagonal =
            DashedPathElement::new([(0.0, 0.0), (1.0, 1.0)], dash, space, diagonal_style(st));
        chart.draw_series(std::iter::once(diagonal))?;

        // The histogram of counts.
        let coords = (
            Coord::new(x_axis, &x_ticks),
            Coord::new(hist.y_axis(0.0, count_top, Scale::Linear), &n_ticks),
        );
        let mut counts = frame::chart_on(root, st, hist, bottom, coords)?;
        let count_label = if hist.y1 - hist.y0 >= text::width(root, "Count", st.label_font) {
            "Count"
        } else {
            ""
        };
        let mesh = Mesh {
            x_ticks: &x_ticks,
            y_ticks: &n_ticks,
            x_label: "Confidence",
            y_label: count_label,
        };
        frame::draw_mesh(&mut counts, st, &mesh)?;
        for b in bins.iter().filter(|b| max_count > 0 && b.count > 0) {
            let (bx0, hy) = px(&counts, b.lower, b.count as f64);
            let (bx1, base) = px(&counts, b.upper, 0.0);
            let base = base + 1;
            root.draw(&Rectangle::new(
                [(bx0, hy), (bx1, base)],
                rgb(HIST).filled(),
            ))?;
            frame::outline(root, [(bx0, hy), (bx1 + t, base)], rgb(HIST_EDGE), st.thin)?;
        }

        frame::draw_frame(root, st, main)?;
        frame::draw_frame(root, st, hist)?;
        let cx = (main.x0 + main.x1) / 2;
        if !self.title.is_empty() {
            frame::draw_title(root, st, &self.title, (cx, pad * 2 + title_h / 2))?;
        }
        if bins.is_empty() {
            let cy = (main.y0 + main.y1) / 2;
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
        self.key(root, main, st)
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
            let (c, error) = canvas::paint(&d, w, h);
            assert_eq!(error, None);
            assert_eq!(c.pixels.len(), (c.width * c.height) as usize);
        }
    }

    #[test]
    fn annotation_counts_and_labels_are_drawn() {
        let d = ReliabilityDiagram {
            title: "Reliability: vessel".into(),
            bars: vec![
                bar(0.0, 0.5, 412_000, Some(0.2), Some(0.25)),
                bar(0.5, 1.0, 9_000, Some(0.8), Some(0.7)),
            ],
            annotation: vec!["ECE   0.0123".into(), "Brier 0.0451".into()],
        };
        let (c, error) = canvas::paint(&d, 600, 600);
        assert_eq!(error, None);
        let svg = c.svg();
        for text in [
            "Reliability: vessel",
            "Accuracy",
            "Gap",
            "Perfect",
            "Confidence",
            "Count",
            "ECE",
            "0.0123",
            "Brier",
            "412000",
        ] {
            let element = format!(">\n{text}\n</text>");
            assert!(svg.contains(&element), "{text} missing from the SVG");
        }
        assert!(
            c.pixels
                .iter()
                .filter(|p| p.iter().all(|&v| v < 110))
                .count()
                > 500,
            "text is drawn"
        );
    }

    #[test]
    fn aligned_annotations_keep_their_columns() {
        let lines: Vec<String> = ["ECE   0.0123", "Brier 0.0451", "123 voxels", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let width = |s: &str| 10 * s.chars().count() as i32;
        let laid = tab_layout(&lines, &width, 5);
        let xs = |i: usize| laid[i].0.iter().map(|w| w.0).collect::<Vec<_>>();
        // "0.0123" and "0.0451" start in column 6 of both lines: one tab stop after "Brier".
        assert_eq!(xs(0), [0, 55]);
        assert_eq!(xs(1), [0, 55]);
        // "voxels" is alone in its column: it follows its number.
        assert_eq!(xs(2), [0, 35]);
        assert_eq!(laid[2].1, 95);
        assert!(laid[3].0.is_empty() && laid[3].1 == 0);
        assert_eq!(
            split_words("  a bc  d "),
            [(2, "a".into()), (4, "bc".into()), (8, "d".into())]
        );
    }
}
