//! Renders one of each kind of plot the dicekit reports and experiments draw into the folder
//! given as first argument (default `gallery`), as PNG and SVG files, to look at the
//! renderer's output.
//!
//! `cargo run -p dicekit-plot --example gallery -- /tmp/plots`

use std::path::{Path, PathBuf};

use dicekit_plot::{Canvas, LineChart, ReliabilityBar, ReliabilityDiagram, Scale, Series};

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "gallery".into()));
    std::fs::create_dir_all(&dir)?;
    for (name, canvas) in gallery() {
        save(&canvas, &dir, name)?;
    }
    Ok(())
}

fn save(canvas: &Canvas, dir: &Path, name: &str) -> std::io::Result<()> {
    canvas.save_png(&dir.join(format!("{name}.png")))?;
    canvas.save_svg(&dir.join(format!("{name}.svg")))
}

/// A deterministic wiggle in `[-1, 1]`.
fn noise(i: usize) -> f64 {
    ((i as f64 * 12.9898).sin() * 43_758.545).fract() * 2.0 - 1.0
}

fn gallery() -> Vec<(&'static str, Canvas)> {
    let mut out = Vec::new();

    // dicekit-report `loss.png`: the total loss and its terms (dashed), over epochs.
    let epochs = 1..=60usize;
    let curve = |a: f64, tau: f64, floor: f64, k: usize| -> Vec<(f64, f64)> {
        epochs
            .clone()
            .map(|e| {
                let x = e as f64;
                (x, a * (-x / tau).exp() + floor + 0.01 * noise(e + 100 * k))
            })
            .collect()
    };
    let loss = LineChart::new(
        "Training loss",
        "epoch",
        "loss (mean over the epoch's steps)",
    )
    .series(Series::new("total", curve(1.2, 12.0, 0.15, 0)))
    .series(Series::new("dice", curve(0.7, 10.0, 0.08, 1)).dashed())
    .series(Series::new("bce", curve(0.5, 15.0, 0.07, 2)).dashed());
    out.push(("loss", loss.render(800, 500)));

    // dicekit-report `dice.png`: per-class validation Dice with a missing evaluation (NaN).
    let validated: Vec<usize> = (5..=60).step_by(5).collect();
    let dice_of = |top: f64, tau: f64, k: usize| -> Vec<(f64, f64)> {
        validated
            .iter()
            .map(|&e| {
                let x = e as f64;
                let d = top * (1.0 - (-x / tau).exp()) + 0.02 * noise(e + 7 * k);
                (x, if e == 25 && k == 2 { f64::NAN } else { d })
            })
            .collect()
    };
    let mut dice = LineChart::new(
        "Validation Dice (counts summed over the validation set)",
        "epoch",
        "Dice",
    );
    dice.y_range = Some((0.0, 1.0));
    dice = dice
        .series(Series::new("mean", dice_of(0.82, 14.0, 0)).markers())
        .series(
            Series::new("vessel", dice_of(0.78, 18.0, 1))
                .markers()
                .dashed(),
        )
        .series(
            Series::new("optic disc", dice_of(0.9, 9.0, 2))
                .markers()
                .dashed(),
        )
        .series(
            Series::new("lesion", dice_of(0.55, 25.0, 3))
                .markers()
                .dashed(),
        );
    out.push(("dice", dice.render(800, 500)));

    // A log-scale chart: learning rate over steps.
    let lr = LineChart::new("Learning rate (cosine decay with warm-up)", "step", "lr")
        .series(Series::new(
            "lr",
            (0..=2000)
                .map(|s| {
                    let s = s as f64;
                    let lr = if s < 100.0 {
                        1e-3 * (s + 1.0) / 100.0
                    } else {
                        1e-6 + 0.5 * 1e-3 * (1.0 + (std::f64::consts::PI * s / 2000.0).cos())
                    };
                    (s, lr)
                })
                .collect(),
        ))
        .y_scale(Scale::Log10);
    out.push(("lr_log", lr.render(800, 500)));

    // dicekit-experiments imbalance: validation Dice per seed, one colour per seed, BCE solid,
    // Dice dashed (six series, the legend has to find room).
    let mut seeds = LineChart::new(
        "Validation Dice during training at 0.1 % foreground",
        "epoch",
        "validation Dice",
    )
    .y_range(0.0, 1.0);
    for (name, dashed, top) in [("bce", false, 0.35), ("dice", true, 0.6)] {
        for seed in 1..=3usize {
            let points = (1..=30)
                .map(|e| {
                    let x = e as f64;
                    let d = top * (1.0 - (-x / 6.0).exp()) + 0.03 * noise(e + 31 * seed);
                    (x, d.max(0.0))
                })
                .collect();
            let color = dicekit_plot::palette::SERIES[(seed - 1) % 8];
            let s = Series::new(format!("{name} seed {seed}"), points)
                .markers()
                .color(color);
            seeds = seeds.series(if dashed { s.dashed() } else { s });
        }
    }
    out.push(("val_dice_seeds", seeds.render(800, 500)));

    // dicekit-experiments rare_classes: categorical x ticks, a wide chart.
    let classes = [
        "microaneurysm",
        "haemorrhage",
        "hard exudate",
        "soft exudate",
        "optic disc",
        "background",
    ];
    let mut rare = LineChart::new(
        "IDRiD: Dice per class, rarest first (mean over seeds)",
        "class, rarest first (shares in report.md)",
        "Dice",
    )
    .x_categories(
        classes
            .iter()
            .enumerate()
            .map(|(i, c)| (i as f64 + 1.0, *c)),
    );
    rare.y_range = Some((-0.03, 1.03));
    rare.x_range = Some((0.5, classes.len() as f64 + 0.5));
    for (k, loss) in ["ce", "dice", "focal", "tversky"].iter().enumerate() {
        let points = (0..classes.len())
            .map(|i| {
                let base = 0.15 + 0.14 * i as f64 + 0.05 * k as f64;
                (i as f64 + 1.0, (base + 0.04 * noise(i + 13 * k)).min(0.99))
            })
            .collect();
        rare = rare.series(Series::new(*loss, points).markers());
    }
    out.push(("rare_classes", rare.render(1100, 500)));

    // dicekit-report `reliability.png`: bins with counts, gap and the ECE/MCE/Brier text.
    let counts = [
        412_000u64, 9_100, 5_200, 3_900, 3_100, 2_800, 2_900, 3_600, 6_400, 48_000,
    ];
    let bars = (0..10)
        .map(|i| {
            let lower = i as f64 / 10.0;
            let confidence = lower + 0.05 + 0.01 * noise(i);
            let accuracy = (confidence - 0.12 * (confidence - 0.5)).clamp(0.0, 1.0);
            ReliabilityBar {
                lower,
                upper: lower + 0.1,
                count: counts[i],
                confidence: Some(confidence),
                accuracy: Some(accuracy),
            }
        })
        .collect();
    let diagram = ReliabilityDiagram {
        title: "Reliability: vessel".into(),
        bars,
        annotation: vec![
            "ECE   0.0123".into(),
            "MCE   0.0610".into(),
            "Brier 0.0451".into(),
            "497000 voxels".into(),
        ],
    };
    out.push(("reliability", diagram.render(600, 600)));

    // An empty chart and a small chart with a single point.
    out.push((
        "empty",
        LineChart::new("No validation yet", "epoch", "Dice").render(400, 300),
    ));
    let single = LineChart::new("Single point", "epoch", "loss")
        .series(Series::new("train", vec![(1.0, 0.5)]));
    out.push(("single_point_small", single.render(320, 200)));
    out
}
