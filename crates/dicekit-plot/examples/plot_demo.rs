//! Writes `line.png` and `reliability.png` into the folder given as first argument.
//!
//! `cargo run -p dicekit-plot --example plot_demo -- /tmp/plots`

use std::path::PathBuf;

use dicekit_plot::{LineChart, ReliabilityBar, ReliabilityDiagram, Scale, Series};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;

    let epochs = 1..=60;
    let train: Vec<(f64, f64)> = epochs
        .clone()
        .map(|e| {
            (
                e as f64,
                0.9 * (-(e as f64) / 12.0).exp() + 0.08 + 0.01 * (e as f64).sin(),
            )
        })
        .collect();
    let val: Vec<(f64, f64)> = epochs
        .clone()
        .map(|e| {
            let e = e as f64;
            (
                e,
                0.85 * (-e / 10.0).exp() + 0.14 + 0.0015 * (e - 30.0).max(0.0),
            )
        })
        .collect();
    let mut dice: Vec<(f64, f64)> = epochs
        .clone()
        .step_by(5)
        .map(|e| (e as f64, 0.25 + 0.6 * (1.0 - (-(e as f64) / 15.0).exp())))
        .collect();
    dice[4].1 = f64::NAN; // a missing evaluation breaks the line
    let chart = LineChart::new("Training curves (fold 0)", "epoch", "loss / Dice")
        .series(Series::new("train loss", train.clone()))
        .series(Series::new("val loss", val).dashed())
        .series(Series::new("val Dice", dice).markers());
    chart.render(800, 500).save_png(&dir.join("line.png"))?;

    let log = LineChart::new("Learning rate", "step", "lr")
        .series(Series::new(
            "lr",
            (0..1000)
                .map(|s| (s as f64, 1e-2 * 0.995f64.powi(s)))
                .collect(),
        ))
        .y_scale(Scale::Log10);
    log.render(800, 500).save_png(&dir.join("line_log.png"))?;

    let bars = (0..10)
        .map(|i| {
            let lower = i as f64 / 10.0;
            let confidence = lower + 0.05;
            let count = [3u64, 5, 9, 14, 30, 55, 90, 160, 420, 1900][i];
            let accuracy =
                (i >= 1).then(|| (confidence - 0.08 * (confidence - 0.3).max(0.0)).clamp(0.0, 1.0));
            ReliabilityBar {
                lower,
                upper: lower + 0.1,
                count,
                confidence: Some(confidence),
                accuracy,
            }
        })
        .collect();
    let diagram = ReliabilityDiagram {
        title: "Reliability (foreground voxels)".into(),
        bars,
        annotation: vec!["ECE 0.0123".into(), "MCE 0.0610".into(), "n = 2686".into()],
    };
    diagram
        .render(600, 600)
        .save_png(&dir.join("reliability.png"))?;
    Ok(())
}
