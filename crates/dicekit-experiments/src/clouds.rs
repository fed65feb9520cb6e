//! `dicekit experiment clouds`: clouds as "ignore" or as "background" in the training labels?
//!
//! The wetlands scene (4 bands, a quarter of it under clouds). An annotator cannot see the
//! ground under a cloud: the labels there are either left out (ignore label, the voxels count for
//! neither side of the loss) or marked background. A third variant trains on the cloud-free
//! truth, which no annotator has: the upper bound. All are scored on the cloud-free truth of
//! held-out scenes, over the whole image, the cloud-free part and the clouded part.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::ConfusionCounts;
use dicekit_plot::{LineChart, Series};
use dicekit_train::Trained;
use serde::{Deserialize, Serialize};

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::stats::{fmt_mean_sd, mean_sd};

/// The variants: the `[data] clouds` value and what it means.
const VARIANTS: [(&str, &str); 3] = [
    (
        "ignore",
        "cloud pixels are the ignore label (255): left out of the loss",
    ),
    ("background", "cloud pixels are background (0)"),
    (
        "truth",
        "the cloud-free truth everywhere (an upper bound no annotator can reach)",
    ),
];

#[derive(Debug, Clone, Serialize)]
struct Setup {
    size: usize,
    train: usize,
    val: usize,
    test: usize,
    data_seed: u64,
    patch: usize,
    batch_size: usize,
    depth: usize,
    base_channels: usize,
    epochs: usize,
    iterations_per_epoch: usize,
    val_interval: usize,
    lr: f64,
}

impl Setup {
    fn new(quick: bool) -> Self {
        if quick {
            Setup {
                size: 64,
                train: 4,
                val: 2,
                test: 4,
                data_seed: 31,
                patch: 64,
                batch_size: 5,
                depth: 3,
                base_channels: 4,
                epochs: 2,
                iterations_per_epoch: 3,
                val_interval: 1,
                lr: 0.01,
            }
        } else {
            Setup {
                size: 256,
                train: 24,
                val: 6,
                test: 20,
                data_seed: 31,
                patch: 128,
                batch_size: 8,
                depth: 4,
                base_channels: 8,
                epochs: 20,
                iterations_per_epoch: 20,
                val_interval: 4,
                lr: 0.01,
            }
        }
    }

    fn config(&self, clouds: &str, seed: u64, out: &Path) -> String {
        format!(
            r#"# dicekit experiment clouds: clouds = {clouds}, seed {seed}
[data]
source = "synthetic"
scene = "wetlands"
train = {train}
val = {val}
size = [{s}, {s}]
seed = {data_seed}
clouds = "{clouds}"
ignore_label = 255
patch = [{p}, {p}]
batch_size = {batch}
foreground_fraction = 0.33
normalization = "z_score"
augment = {{ flip = {{ probability = 0.5, axes = "all" }}, rotate90 = {{ probability = 0.5, axes = [0, 1] }} }}

[model]
in_channels = 4
num_classes = 2
depth = {depth}
base_channels = {base}
norm = "instance"

[loss]
loss = "composite"
terms = [
  {{ name = "dice", weight = 1.0, loss = {{ loss = "overlap", classes = "exclude_background", pooling = "batch", ignore_index = 255 }} }},
  {{ name = "ce", weight = 1.0, loss = {{ loss = "cross_entropy", ignore_index = 255 }} }},
]

[optimizer]
kind = "adam"
lr = {lr}

[training]
epochs = {epochs}
iterations_per_epoch = {iters}
val_interval = {vi}
seed = {seed}
output = "{out}"
"#,
            train = self.train,
            val = self.val,
            s = self.size,
            data_seed = self.data_seed,
            p = self.patch,
            batch = self.batch_size,
            depth = self.depth,
            base = self.base_channels,
            lr = self.lr,
            epochs = self.epochs,
            iters = self.iterations_per_epoch,
            vi = self.val_interval,
            out = runner::toml_path(out),
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    clouds: String,
    seed: u64,
    /// Wetland Dice on the cloud-free truth, whole images (counts summed over the test set).
    dice: Option<f64>,
    /// The same, cloud-free pixels only.
    dice_clear: Option<f64>,
    /// The same, clouded pixels only.
    dice_clouded: Option<f64>,
    /// Wetland recall under clouds.
    recall_clouded: Option<f64>,
    best_epoch: Option<usize>,
    train_seconds: f64,
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let setup = Setup::new(args.quick);
    let out = runner::out_dir(args, "clouds")?;
    // Held-out scenes from indices training (0..) and validation (1_000_000..) never use.
    let test: Vec<Sample> = (0..setup.test as u64)
        .map(|i| {
            Scene::Wetlands.generate(
                Some(&[setup.size, setup.size]),
                setup.data_seed,
                2_000_000 + i,
            )
        })
        .collect::<Result<_, _>>()?;
    let seeds: Vec<u64> = (1..=args.seeds as u64).collect();
    let clock = runner::Clock::start(VARIANTS.len() * seeds.len());
    let mut results = vec![];
    for (n, &seed) in seeds.iter().enumerate() {
        for (v, (clouds, _)) in VARIANTS.iter().enumerate() {
            let k = n * VARIANTS.len() + v + 1;
            let dir = out.join("runs").join(format!("{clouds}_seed{seed}"));
            let text = setup.config(clouds, seed, &dir);
            let r = runner::train_or_reuse(&dir, &text, |f| evaluate(f, clouds, seed, &test))?;
            println!(
                "{} clouds = {clouds:<10} seed {seed}: wetland Dice {} (clear {}, clouded {}) ({:.0} s; about {:.0} s left)",
                clock.step(k),
                fmt(r.dice),
                fmt(r.dice_clear),
                fmt(r.dice_clouded),
                r.train_seconds,
                clock.left(k)
            );
            results.push(r);
        }
    }
    write_plot(&out, &results, &seeds)?;
    let json = serde_json::json!({
        "experiment": "clouds",
        "quick": args.quick,
        "setup": setup,
        "variants": VARIANTS.iter().map(|(n, w)| serde_json::json!({"clouds": n, "what": w})).collect::<Vec<_>>(),
        "seeds": seeds,
        "runs": results,
        "seconds": clock.seconds(),
    });
    runner::finish(
        &out,
        &json,
        &report_md(&setup, &results, &seeds, args, clock.seconds()),
    )
}

fn evaluate(
    f: &runner::Finished,
    clouds: &str,
    seed: u64,
    test: &[Sample],
) -> Result<RunResult, String> {
    let model = Trained::load(&f.config, &f.dir.join("checkpoints/best.bpk"))?;
    let (mut all, mut clear, mut clouded) = (
        ConfusionCounts::default(),
        ConfusionCounts::default(),
        ConfusionCounts::default(),
    );
    for s in test {
        let (_, pred) = model.predict(&s.image.data)?;
        let cloud = s
            .extra
            .as_ref()
            .ok_or("the wetlands scene has a cloud mask")?;
        for ((&p, &t), &c) in pred.iter().zip(s.mask.data.iter()).zip(cloud.data.iter()) {
            let part = if c != 0 { &mut clouded } else { &mut clear };
            for counts in [&mut all, part] {
                match (p == 1, t == 1) {
                    (true, true) => counts.true_positives += 1,
                    (true, false) => counts.false_positives += 1,
                    (false, true) => counts.false_negatives += 1,
                    (false, false) => counts.true_negatives += 1,
                }
            }
        }
    }
    Ok(RunResult {
        clouds: clouds.into(),
        seed,
        dice: all.dice().value(),
        dice_clear: clear.dice().value(),
        dice_clouded: clouded.dice().value(),
        recall_clouded: clouded.recall().value(),
        best_epoch: f.state.best.map(|b| b.1),
        train_seconds: f.seconds,
    })
}

type Getter = fn(&RunResult) -> Option<f64>;

fn values(results: &[RunResult], clouds: &str, f: Getter) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.clouds == clouds)
        .map(|r| f(r).unwrap_or(f64::NAN))
        .collect()
}

fn write_plot(out: &Path, results: &[RunResult], seeds: &[u64]) -> Result<(), String> {
    let mut chart = LineChart::new(
        "Wetland Dice on the cloud-free truth",
        "training labels under clouds",
        "wetland Dice",
    )
    .x_categories([
        (1.0, "ignore"),
        (2.0, "background"),
        (3.0, "truth (upper bound)"),
    ]);
    chart.x_range = Some((0.5, 3.5));
    chart.y_range = Some((0.0, 1.0));
    for &seed in seeds {
        let points = VARIANTS
            .iter()
            .enumerate()
            .map(|(i, (c, _))| {
                let v = results
                    .iter()
                    .find(|r| r.clouds == *c && r.seed == seed)
                    .and_then(|r| r.dice)
                    .unwrap_or(f64::NAN);
                (i as f64 + 1.0, v)
            })
            .collect();
        chart = chart.series(
            Series::new(format!("seed {seed}"), points)
                .markers()
                .dashed(),
        );
    }
    for (name, f) in [
        ("clouded pixels (mean)", (|r| r.dice_clouded) as Getter),
        ("cloud-free pixels (mean)", |r| r.dice_clear),
    ] {
        let points = VARIANTS
            .iter()
            .enumerate()
            .map(|(i, (c, _))| {
                (
                    i as f64 + 1.0,
                    mean_sd(&values(results, c, f)).map_or(f64::NAN, |m| m.0),
                )
            })
            .collect();
        chart = chart.series(Series::new(name, points).markers());
    }
    runner::save_plot(&chart.render(800, 500), &out.join("dice.png"))
}

fn report_md(
    setup: &Setup,
    results: &[RunResult],
    seeds: &[u64],
    args: &ExperimentOptions,
    seconds: f64,
) -> String {
    let mut s = runner::header(args, "clouds", "clouds as ignore or as background", seconds);
    let _ = writeln!(s, "## Setup\n");
    let _ = writeln!(
        s,
        "- Data: the wetlands scene ({0}x{0}, blue, green, red and near-infrared): wetlands (a few % of the pixels) among fields, and soft-edged clouds, bright in every band, over about a quarter of the scene. {1} training, {2} validation and {3} held-out test scenes (data seed {4}). Validation and test are scored on the cloud-free truth.",
        setup.size, setup.train, setup.val, setup.test, setup.data_seed
    );
    let _ = writeln!(
        s,
        "- Training: U-Net (depth {}, {} base channels, instance norm), patches {2}x{2}, batch {3}, Dice (wetland, batch-pooled) + cross-entropy, both with ignore label 255, Adam lr {4}, poly schedule, {5} epochs of {6} steps; the checkpoint with the best validation Dice (every {7} epochs) is scored.",
        setup.depth,
        setup.base_channels,
        setup.patch,
        setup.batch_size,
        setup.lr,
        setup.epochs,
        setup.iterations_per_epoch,
        setup.val_interval
    );
    let _ = writeln!(s, "- Variants (`[data] clouds`):");
    for (c, w) in VARIANTS {
        let _ = writeln!(s, "  - `{c}`: {w}.");
    }
    let _ = writeln!(s, "- Seeds {seeds:?} change initialisation and batches.\n");
    let _ = writeln!(s, "## Results (held-out scenes, mean ± sd over seeds)\n");
    let _ = writeln!(
        s,
        "| clouds | wetland Dice | Dice, cloud-free pixels | Dice, clouded pixels | wetland recall under clouds |\n|---|---|---|---|---|"
    );
    for (c, _) in VARIANTS {
        let _ = writeln!(
            s,
            "| {c} | {} | {} | {} | {} |",
            fmt_mean_sd(&values(results, c, |r| r.dice), 3),
            fmt_mean_sd(&values(results, c, |r| r.dice_clear), 3),
            fmt_mean_sd(&values(results, c, |r| r.dice_clouded), 3),
            fmt_mean_sd(&values(results, c, |r| r.recall_clouded), 3),
        );
    }
    let _ = writeln!(
        s,
        "\n## What this shows\n\n{}\n",
        conclusion(results, args.quick)
    );
    let _ = writeln!(s, "## Plot\n\n![dice.png](dice.png)\n");
    s
}

fn conclusion(results: &[RunResult], quick: bool) -> String {
    let mut s = String::new();
    if quick {
        s.push_str("This is the `--quick` variant (a few steps on tiny scenes) that exercises the code; its numbers say nothing about the question. ");
    }
    let m = |c: &str, f: Getter| mean_sd(&values(results, c, f));
    let (Some(ig), Some(bg)) = (m("ignore", |r| r.dice), m("background", |r| r.dice)) else {
        return s + "Some runs have no Dice; nothing can be concluded.";
    };
    let spread = ig.1.max(bg.1);
    if (ig.0 - bg.0).abs() <= spread {
        let _ = write!(
            s,
            "Ignoring clouds ({:.3}) and labelling them background ({:.3}) give the same wetland Dice within the seed-to-seed spread ({spread:.3}). ",
            ig.0, bg.0
        );
    } else if ig.0 > bg.0 {
        let _ = write!(
            s,
            "Ignoring clouds gives a higher wetland Dice on the cloud-free truth ({:.3} against {:.3} with clouds as background). ",
            ig.0, bg.0
        );
    } else {
        let _ = write!(
            s,
            "Labelling clouds as background gives the higher wetland Dice here ({:.3} against {:.3} with clouds ignored), against the essay's claim. ",
            bg.0, ig.0
        );
    }
    if let (Some(ri), Some(rb)) = (
        m("ignore", |r| r.recall_clouded),
        m("background", |r| r.recall_clouded),
    ) {
        let _ = write!(
            s,
            "Under the clouds, the wetland recall is {:.3} when they are ignored and {:.3} when they are background{} ",
            ri.0,
            rb.0,
            if rb.0 < ri.0 {
                ": labelled background, clouds teach the network that nothing lies under them."
            } else {
                "."
            }
        );
    }
    if let Some(t) = m("truth", |r| r.dice) {
        let _ = write!(
            s,
            "Training on the cloud-free truth, which no annotator has, reaches {:.3}.",
            t.0
        );
    }
    s
}
