//! FROC curves as plots and a CSV: lesion sensitivity against false positives per image on a
//! log2 axis (1/8 .. 8 for the Retinopathy Online Challenge rates), one line for all lesions
//! and a dashed line per lesion-size bin.
use std::path::Path;

use dicekit_eval::{LesionEvaluationSet, froc_convention_name, rate_name};
use dicekit_metrics::{Froc, FrocCurve};
use dicekit_plot::{LineChart, Series};

use crate::ReportError;

/// The x position of a rate: `log2(rate)`; 0 FP/image sits half a decade-of-two left of the
/// axis (clipped there), so the curve's start is drawn entering from the edge.
fn x_of(fp: f64, left: f64) -> f64 {
    if fp > 0.0 { fp.log2() } else { left - 1.0 }
}

/// A FROC chart: one series per `(name, curve)`, the first solid with markers, the others
/// dashed; the x axis is log2(false positives per image) with ticks at `rates`, and each curve
/// continues flat after its last operating point (as the interpolated reading does).
pub fn froc_chart(title: &str, curves: &[(String, &FrocCurve)], rates: &[f64]) -> LineChart {
    let positive: Vec<f64> = rates.iter().copied().filter(|r| *r > 0.0).collect();
    let (lo, hi) = if positive.is_empty() {
        (0.125f64.log2(), 8f64.log2())
    } else {
        let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
        let max = positive.iter().copied().fold(0.0, f64::max);
        (min.log2(), max.log2())
    };
    let (left, right) = (lo - 0.5, hi.max(lo + 1.0) + 0.5);
    let mut chart = LineChart::new(title, "false positives per image", "lesion sensitivity")
        .x_range(left, right)
        .y_range(0.0, 1.0)
        .x_categories(positive.iter().map(|&r| (r.log2(), rate_name(r))));
    for (i, (name, curve)) in curves.iter().enumerate() {
        let mut points: Vec<(f64, f64)> = curve
            .fps_per_image
            .iter()
            .zip(&curve.sensitivity)
            .map(|(&f, &s)| (x_of(f, left), s))
            .collect();
        if let Some(&(_, s)) = points.last() {
            points.push((right + 1.0, s));
        }
        let series = Series::new(name.clone(), points);
        chart = chart.series(if i == 0 {
            series.markers()
        } else {
            series.dashed()
        });
    }
    chart
}

fn score_name(f: &Froc) -> String {
    if f.score.is_finite() {
        format!("score {:.3}", f.score)
    } else {
        "no lesions".into()
    }
}

/// Writes `froc_label<L>.png` / `.svg` for every label of `set` with a FROC (all lesions and
/// each size bin with lesions) and `froc_curves.csv` (`label,size_bin,threshold,
/// fps_per_image,sensitivity`) into `dir`, created if needed. Returns the file names written.
///
/// # Errors
/// [`ReportError::Run`] naming a file that cannot be written.
pub fn write_froc_plots(set: &LesionEvaluationSet, dir: &Path) -> Result<Vec<String>, ReportError> {
    let io = |path: &Path, e: &dyn std::fmt::Display| {
        ReportError::Run(format!("{}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    let mut files = Vec::new();
    let mut csv = csv::Writer::from_writer(Vec::new());
    let csv_err = |e: csv::Error| ReportError::Run(format!("froc_curves.csv: {e}"));
    csv.write_record([
        "label",
        "size_bin",
        "threshold",
        "fps_per_image",
        "sensitivity",
    ])
    .map_err(csv_err)?;
    let rows = set.froc_rows();
    for lf in &set.froc {
        let curves: Vec<(String, &FrocCurve)> = rows
            .iter()
            .filter(|(_, l, _)| l.label == lf.label)
            .map(|(size, _, f)| {
                let who = if size == "all" {
                    format!("all {} lesions", f.curve.n_lesions)
                } else {
                    format!("{size}: {} lesions", f.curve.n_lesions)
                };
                (format!("{who}, {}", score_name(f)), &f.curve)
            })
            .collect();
        for (size, _, f) in rows.iter().filter(|(_, l, _)| l.label == lf.label) {
            for ((t, fp), s) in f
                .curve
                .thresholds
                .iter()
                .zip(&f.curve.fps_per_image)
                .zip(&f.curve.sensitivity)
            {
                csv.write_record([
                    lf.label.to_string(),
                    size.clone(),
                    t.to_string(),
                    fp.to_string(),
                    s.to_string(),
                ])
                .map_err(csv_err)?;
            }
        }
        let n = lf.all.curve.n_images;
        let title = format!(
            "FROC, label {} ({n} image{}, {})",
            lf.label,
            if n == 1 { "" } else { "s" },
            froc_convention_name(lf.all.convention)
        );
        let canvas = froc_chart(&title, &curves, &lf.all.fp_rates).render(800, 560);
        for ext in ["png", "svg"] {
            let name = format!("froc_label{}.{ext}", lf.label);
            let path = dir.join(&name);
            let written = if ext == "png" {
                canvas.save_png(&path)
            } else {
                canvas.save_svg(&path)
            };
            written.map_err(|e| io(&path, &e))?;
            files.push(name);
        }
    }
    let bytes = csv
        .into_inner()
        .map_err(|e| ReportError::Run(format!("froc_curves.csv: {e}")))?;
    let path = dir.join("froc_curves.csv");
    std::fs::write(&path, bytes).map_err(|e| io(&path, &e))?;
    files.push("froc_curves.csv".into());
    Ok(files)
}
