//! `dicekit experiment attention`: does the classifier's gradient through the soft mask help?
//!
//! Four networks of the same shape ([`MaskAttention`]) on the lesion-texture scene, whose image
//! label is the stripe direction inside the lesion while distractor blobs elsewhere carry random
//! stripes: (a) soft mask, end to end; (b) the same, detached (no gradient from the classifier
//! into the segmenter); (c) the mask thresholded at 0.5; (d) no mask (global pooling). Each is
//! trained with `dicekit train`'s loop for several seeds (same data, different initialisation and
//! batches), selected on the validation accuracy, and scored on a held-out test split generated
//! from indices that training and validation never use.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_data::Volume;
use dicekit_data::image::{PngDepth, write_image_png};
use dicekit_data::overlay::overlay;
use dicekit_data::synth::Scene;
use dicekit_metrics::{ConfusionCounts, accuracy, confusion_per_label, macro_auc};
use dicekit_models::MaskAttention;
use dicekit_plot::{LineChart, Series};
use dicekit_train::{EpochLog, TrainConfig, Trained};
use ndarray::{ArrayD, Axis};
use serde::{Deserialize, Serialize};

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::stats::{fmt_mean_sd, mean_sd};

/// Sizes of one variant of the experiment.
#[derive(Debug, Clone, Serialize)]
struct Setup {
    size: usize,
    train: usize,
    val: usize,
    test: usize,
    data_seed: u64,
    depth: usize,
    base_channels: usize,
    hidden: usize,
    lambda: f64,
    epochs: usize,
    iterations_per_epoch: usize,
    batch_size: usize,
    val_interval: usize,
    lr: f64,
}

impl Setup {
    fn new(quick: bool) -> Self {
        if quick {
            Setup {
                size: 48,
                train: 16,
                val: 8,
                test: 16,
                data_seed: 11,
                depth: 3,
                base_channels: 4,
                hidden: 8,
                lambda: 1.0,
                epochs: 2,
                iterations_per_epoch: 4,
                batch_size: 4,
                val_interval: 1,
                lr: 0.003,
            }
        } else {
            Setup {
                size: 96,
                train: 160,
                val: 40,
                test: 200,
                data_seed: 11,
                depth: 4,
                base_channels: 8,
                hidden: 32,
                lambda: 1.0,
                epochs: 30,
                iterations_per_epoch: 20,
                batch_size: 8,
                val_interval: 3,
                lr: 0.003,
            }
        }
    }

    /// The training config of one run (written to the run folder by `train`).
    fn config(&self, mode: MaskAttention, seed: u64, output: &Path) -> String {
        format!(
            r#"# dicekit experiment attention: mode {mode}, seed {seed}
[data]
source = "synthetic"
scene = "lesion-texture"
train = {train}
val = {val}
size = [{s}, {s}]
seed = {data_seed}
patch = [{s}, {s}]
batch_size = {batch}
foreground_fraction = 0.0
normalization = "z_score"
augment = {{ flip = {{ probability = 0.5, axes = "all" }} }}

[model]
in_channels = 1
num_classes = 2
depth = {depth}
base_channels = {base}
norm = "instance"

[loss]
loss = "composite"
terms = [
  {{ name = "dice", weight = 1.0, loss = {{ loss = "overlap", classes = "exclude_background", pooling = "batch" }} }},
  {{ name = "ce", weight = 1.0, loss = {{ loss = "cross_entropy" }} }},
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

[task]
kind = "attention"
attention = "{mode}"
lambda = {lambda}
hidden = {hidden}
"#,
            mode = mode.name(),
            train = self.train,
            val = self.val,
            s = self.size,
            data_seed = self.data_seed,
            batch = self.batch_size,
            depth = self.depth,
            base = self.base_channels,
            lr = self.lr,
            epochs = self.epochs,
            iters = self.iterations_per_epoch,
            vi = self.val_interval,
            out = runner::toml_path(output),
            lambda = self.lambda,
            hidden = self.hidden,
        )
    }
}

/// Held-out scores of one trained run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    mode: String,
    seed: u64,
    test_accuracy: Option<f64>,
    test_auc: Option<f64>,
    /// Lesion Dice of the counts summed over the test images.
    test_dice: Option<f64>,
    /// Share of the attention mask's mass inside the true lesion, averaged over test images.
    attention_in_lesion: Option<f64>,
    best_epoch: Option<usize>,
    train_seconds: f64,
    history: Vec<EpochLog>,
}

/// First test index: training uses 0.., validation 1_000_000.., the test split 2_000_000...
const TEST_OFFSET: u64 = 2_000_000;

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let setup = Setup::new(args.quick);
    let out = runner::out_dir(args, "attention")?;
    let test: Vec<_> = (0..setup.test as u64)
        .map(|i| {
            Scene::LesionTexture.generate(
                Some(&[setup.size, setup.size]),
                setup.data_seed,
                TEST_OFFSET + i,
            )
        })
        .collect::<Result<_, _>>()?;
    let seeds: Vec<u64> = (1..=args.seeds as u64).collect();
    let clock = runner::Clock::start(MaskAttention::ALL.len() * seeds.len());
    let mut results = vec![];
    for (n, &seed) in seeds.iter().enumerate() {
        for (m, mode) in MaskAttention::ALL.into_iter().enumerate() {
            let k = n * MaskAttention::ALL.len() + m + 1;
            let dir = out.join("runs").join(format!("{}_seed{seed}", mode.name()));
            let result = run_one(&setup, mode, seed, &dir, &test)?;
            println!(
                "{} {:<8} seed {seed}: test accuracy {}, AUC {}, lesion Dice {} ({:.0} s; about {:.0} s left)",
                clock.step(k),
                mode.name(),
                fmt(result.test_accuracy),
                fmt(result.test_auc),
                fmt(result.test_dice),
                result.train_seconds,
                clock.left(k)
            );
            results.push(result);
        }
    }
    write_examples(&out, &seeds, &test)?;
    write_plots(&out, &results, &seeds)?;
    let json = serde_json::json!({
        "experiment": "attention",
        "quick": args.quick,
        "setup": setup,
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

/// Trains one run (or reuses it) and scores it on the test split.
fn run_one(
    setup: &Setup,
    mode: MaskAttention,
    seed: u64,
    dir: &Path,
    test: &[dicekit_data::synth::Sample],
) -> Result<RunResult, String> {
    let text = setup.config(mode, seed, dir);
    runner::train_or_reuse(dir, &text, |f| {
        let model = Trained::load(&f.config, &f.dir.join("checkpoints/best.bpk"))?;
        let (mut probs, mut truth) = (vec![], vec![]);
        let mut counts = ConfusionCounts::default();
        let mut inside = vec![];
        for s in test {
            let c = model
                .classify(&s.image.data)?
                .ok_or("not an attention network")?;
            let (_, labels) = model.predict(&s.image.data)?;
            counts += confusion_per_label(&labels.view(), &s.mask.data.view(), &[1])
                .map_err(|e| e.to_string())?[0];
            let (mass, lesion) = c
                .attention
                .iter()
                .zip(s.mask.data.iter())
                .fold((0.0f64, 0.0f64), |(m, l), (&a, &t)| {
                    (m + a as f64, l + if t == 1 { a as f64 } else { 0.0 })
                });
            if mass > 0.0 {
                inside.push(lesion / mass);
            }
            probs.push(c.probabilities);
            truth.push(s.label.unwrap_or(0) as usize);
        }
        Ok(RunResult {
            mode: mode.name().into(),
            seed,
            test_accuracy: accuracy(&probs, &truth),
            test_auc: macro_auc(&probs, &truth),
            test_dice: counts.dice().value(),
            attention_in_lesion: mean_sd(&inside).map(|m| m.0),
            best_epoch: f.state.best.map(|b| b.1),
            train_seconds: f.seconds,
            history: f.state.history.clone(),
        })
    })
}

fn save_png(path: &Path, data: ArrayD<f32>) -> Result<(), String> {
    let v = Volume {
        data,
        spacing: vec![1.0, 1.0],
        origin: vec![0.0, 0.0],
        affine: None,
    };
    write_image_png(path, &v, PngDepth::Eight).map_err(|e| format!("{}: {e}", path.display()))
}

/// The first test images with their lesion outlined, and the attention mask of every mode
/// (first seed).
fn write_examples(
    out: &Path,
    seeds: &[u64],
    test: &[dicekit_data::synth::Sample],
) -> Result<(), String> {
    let dir = out.join("examples");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (i, s) in test.iter().take(3).enumerate() {
        save_png(
            &dir.join(format!("test{i}_image.png")),
            overlay(&s.image.data, None, Some(&s.mask.data)).map_err(|e| e.to_string())?,
        )?;
        for mode in MaskAttention::ALL {
            let run = out
                .join("runs")
                .join(format!("{}_seed{}", mode.name(), seeds[0]));
            let text = std::fs::read_to_string(run.join("experiment.toml"))
                .map_err(|e| format!("{}: {e}", run.display()))?;
            let cfg = TrainConfig::from_toml(&text, PathBuf::new())?;
            let model = Trained::load(&cfg, &run.join("checkpoints/best.bpk"))?;
            let c = model
                .classify(&s.image.data)?
                .ok_or("not an attention network")?;
            let grey = c
                .attention
                .mapv(|v| (v.clamp(0.0, 1.0) * 255.0).round())
                .insert_axis(Axis(0));
            save_png(&dir.join(format!("test{i}_{}.png", mode.name())), grey)?;
        }
    }
    Ok(())
}

fn write_plots(out: &Path, results: &[RunResult], seeds: &[u64]) -> Result<(), String> {
    let modes = MaskAttention::ALL;
    let by = |mode: MaskAttention, f: &dyn Fn(&RunResult) -> Option<f64>| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.mode == mode.name())
            .map(|r| f(r).unwrap_or(f64::NAN))
            .collect()
    };
    type Getter = fn(&RunResult) -> Option<f64>;
    let metrics: [(&str, &str, Getter); 3] = [
        ("test_accuracy.png", "Held-out accuracy", |r| {
            r.test_accuracy
        }),
        ("test_auc.png", "Held-out AUC", |r| r.test_auc),
        ("test_dice.png", "Held-out lesion Dice", |r| r.test_dice),
    ];
    for (file, title, f) in metrics {
        let mut chart = LineChart::new(
            format!("{title} by mode (lines join runs of one seed)"),
            "mask attention mode",
            title,
        )
        .x_categories(
            modes
                .iter()
                .enumerate()
                .map(|(i, m)| (i as f64 + 1.0, m.name())),
        );
        chart.x_range = Some((0.6, 4.4));
        chart.y_range = Some((0.0, 1.0));
        for (i, &seed) in seeds.iter().enumerate() {
            let points = modes
                .iter()
                .enumerate()
                .map(|(m, &mode)| {
                    let v = results
                        .iter()
                        .find(|r| r.mode == mode.name() && r.seed == seed)
                        .and_then(f)
                        .unwrap_or(f64::NAN);
                    (m as f64 + 1.0, v)
                })
                .collect();
            let _ = i;
            chart = chart.series(
                Series::new(format!("seed {seed}"), points)
                    .markers()
                    .dashed(),
            );
        }
        let means = modes
            .iter()
            .enumerate()
            .map(|(m, &mode)| {
                (
                    m as f64 + 1.0,
                    mean_sd(&by(mode, &f)).map_or(f64::NAN, |v| v.0),
                )
            })
            .collect();
        chart = chart.series(Series::new("mean", means).markers().color([0, 0, 0]));
        let path = out.join(file);
        chart
            .render(800, 500)
            .save_png(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    // Validation accuracy during training, mean over seeds.
    let mut chart = LineChart::new(
        "Validation accuracy during training (mean over seeds)",
        "epoch",
        "accuracy",
    );
    chart.y_range = Some((0.0, 1.0));
    for mode in modes {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.mode == mode.name()).collect();
        let epochs: Vec<usize> = runs
            .first()
            .map(|r| {
                r.history
                    .iter()
                    .filter(|h| h.val_accuracy.is_some())
                    .map(|h| h.epoch)
                    .collect()
            })
            .unwrap_or_default();
        let points = epochs
            .iter()
            .map(|&e| {
                let v: Vec<f64> = runs
                    .iter()
                    .filter_map(|r| r.history.iter().find(|h| h.epoch == e))
                    .filter_map(|h| h.val_accuracy)
                    .collect();
                (e as f64, mean_sd(&v).map_or(f64::NAN, |m| m.0))
            })
            .collect();
        chart = chart.series(Series::new(mode.name(), points).markers());
    }
    let path = out.join("val_accuracy.png");
    chart
        .render(800, 500)
        .save_png(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn report_md(
    setup: &Setup,
    results: &[RunResult],
    seeds: &[u64],
    args: &ExperimentOptions,
    seconds: f64,
) -> String {
    let mut s = String::new();
    let get = |mode: MaskAttention, f: fn(&RunResult) -> Option<f64>| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.mode == mode.name())
            .map(|r| f(r).unwrap_or(f64::NAN))
            .collect()
    };
    s.push_str(&runner::header(
        args,
        "attention",
        "the segmentation mask as differentiable attention",
        seconds,
    ));
    let _ = writeln!(s, "## Setup\n");
    let _ = writeln!(
        s,
        "- Data: the lesion-texture scene, {0}x{0} pixels: one lesion whose stripe direction is the image label (horizontal 0, vertical 1), 2-3 distractor blobs with random stripes elsewhere. {1} training, {2} validation and {3} held-out test images (data seed {4}; test images come from indices training and validation never use).",
        setup.size, setup.train, setup.val, setup.test, setup.data_seed
    );
    let _ = writeln!(
        s,
        "- Network: a U-Net (depth {}, {} base channels, instance norm) whose softmax lesion probability weights an average of every encoder and decoder feature map, concatenated with their global averages, into an MLP ({} hidden units) that predicts the image label.",
        setup.depth, setup.base_channels, setup.hidden
    );
    let _ = writeln!(
        s,
        "- Loss: Dice (lesion, batch-pooled) + cross-entropy on the mask, + {} x cross-entropy on the image label. Adam, lr {}, poly schedule, {} epochs of {} steps, batch {}; the checkpoint with the best validation accuracy (checked every {} epochs) is scored on the test images.",
        setup.lambda,
        setup.lr,
        setup.epochs,
        setup.iterations_per_epoch,
        setup.batch_size,
        setup.val_interval
    );
    let _ = writeln!(
        s,
        "- Modes: (a) `soft`: the soft mask, end to end; (b) `detached`: the same mask and features with the gradient stopped, so the classification loss never reaches the segmenter (a test checks that its gradient there is exactly zero); (c) `hard`: the mask thresholded at 0.5 (no gradient through the mask; the pooled features still receive the classifier's gradient, as in (a) and (d)); (d) `none`: global pooling only. Seeds {:?} change the initialisation and the batches, not the data.\n",
        seeds
    );
    let _ = writeln!(
        s,
        "## Results (held-out test images, mean ± sd over seeds)\n"
    );
    let _ = writeln!(
        s,
        "| mode | accuracy | AUC | lesion Dice | attention mass in the lesion |\n|---|---|---|---|---|"
    );
    for mode in MaskAttention::ALL {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            mode.name(),
            fmt_mean_sd(&get(mode, |r| r.test_accuracy), 3),
            fmt_mean_sd(&get(mode, |r| r.test_auc), 3),
            fmt_mean_sd(&get(mode, |r| r.test_dice), 3),
            fmt_mean_sd(&get(mode, |r| r.attention_in_lesion), 3),
        );
    }
    let _ = writeln!(s, "\nPer run:\n");
    let _ = writeln!(
        s,
        "| mode | seed | accuracy | AUC | lesion Dice | attention in lesion | best epoch | training s |\n|---|---|---|---|---|---|---|---|"
    );
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} |",
            r.mode,
            r.seed,
            fmt(r.test_accuracy),
            fmt(r.test_auc),
            fmt(r.test_dice),
            fmt(r.attention_in_lesion),
            r.best_epoch.map_or("–".into(), |e| e.to_string()),
            r.train_seconds
        );
    }
    let _ = writeln!(s, "\n## What this shows\n");
    let _ = writeln!(s, "{}\n", conclusion(results, seeds, args.quick));
    let _ = writeln!(s, "## Plots\n");
    for f in [
        "test_accuracy.png",
        "test_auc.png",
        "test_dice.png",
        "val_accuracy.png",
    ] {
        let _ = writeln!(s, "![{f}]({f})\n");
    }
    let _ = writeln!(
        s,
        "Attention masks on test images (seed {}): the image with the true lesion outlined in green, then the mask of each mode (white = full weight; `none` is uniform).\n",
        seeds[0]
    );
    let _ = writeln!(
        s,
        "| image | soft | detached | hard | none |\n|---|---|---|---|---|"
    );
    for i in 0..setup.test.min(3) {
        let _ = write!(s, "| ![](examples/test{i}_image.png) |");
        for mode in MaskAttention::ALL {
            let _ = write!(s, " ![](examples/test{i}_{}.png) |", mode.name());
        }
        let _ = writeln!(s);
    }
    s
}

/// The paragraph of what the numbers say, written from the numbers.
fn conclusion(results: &[RunResult], seeds: &[u64], quick: bool) -> String {
    let acc = |mode: &str, seed: u64| {
        results
            .iter()
            .find(|r| r.mode == mode && r.seed == seed)
            .and_then(|r| r.test_accuracy)
    };
    let mean = |mode: &str| {
        let v: Vec<f64> = seeds.iter().filter_map(|&s| acc(mode, s)).collect();
        mean_sd(&v).map(|m| m.0)
    };
    let wins = seeds
        .iter()
        .filter(|&&s| matches!((acc("soft", s), acc("none", s)), (Some(a), Some(d)) if a > d))
        .count();
    let ties = seeds
        .iter()
        .filter(|&&s| matches!((acc("soft", s), acc("none", s)), (Some(a), Some(d)) if a == d))
        .count();
    let (Some(a), Some(b), Some(c), Some(d)) =
        (mean("soft"), mean("detached"), mean("hard"), mean("none"))
    else {
        return "Some runs have no accuracy; nothing can be concluded.".into();
    };
    let mut s = String::new();
    if quick {
        s.push_str("This is the `--quick` variant: a few steps on tiny images, to exercise the code. Its numbers say nothing about the question; run without `--quick` for them. ");
    }
    let verdict = if wins == seeds.len() {
        format!(
            "End-to-end soft attention (a) beats global pooling (d) on held-out accuracy in every seed ({a:.3} against {d:.3} on average)."
        )
    } else {
        format!(
            "End-to-end soft attention (a) does not beat global pooling (d) across seeds: it is ahead in {wins} of {} seeds{} ({a:.3} against {d:.3} on average).",
            seeds.len(),
            if ties > 0 {
                format!(" and level in {ties}")
            } else {
                String::new()
            }
        )
    };
    s.push_str(&verdict);
    let _ = write!(
        s,
        " Detaching the mask and the features (b) gives {b:.3} and a hard mask (c) {c:.3}. "
    );
    let sd = |mode: &str| {
        let v: Vec<f64> = seeds.iter().filter_map(|&x| acc(mode, x)).collect();
        mean_sd(&v).map_or(0.0, |m| m.1)
    };
    let spread = sd("soft").max(sd("detached"));
    if (a - b).abs() <= spread {
        let _ = write!(
            s,
            "The end-to-end and detached variants differ by {:.3}, within the seed-to-seed spread ({spread:.3}): no effect of the classifier's gradient on the segmenter can be claimed from these runs. ",
            a - b
        );
    } else if a > b {
        s.push_str("Letting the classifier's gradient shape the segmenter helps here: the detached variant classifies from a mask and features that only the segmentation loss trained. ");
    } else {
        s.push_str("The classifier's gradient into the segmenter hurts here: the detached variant, whose mask and features only the segmentation loss trained, classifies better. ");
    }
    let spread_ac = sd("soft").max(sd("hard"));
    if (a - c).abs() <= spread_ac {
        let _ = write!(
            s,
            "Soft (a) against hard (c) isolates the gradient through the mask itself, since both let the classifier train the features: they differ by {:.3}, within the spread ({spread_ac:.3}), so the differentiable mask shows no effect of its own{}. ",
            a - c,
            if a - b > spread {
                "; what helps is that the classifier's loss reaches the features"
            } else {
                ""
            }
        );
    } else if a > c {
        let _ = write!(
            s,
            "Soft (a) beats hard (c) by {:.3}: beyond training the features, the gradient through the differentiable mask itself helps. ",
            a - c
        );
    } else {
        let _ = write!(
            s,
            "The hard mask (c) beats the soft one (a) by {:.3}: the gradient through the mask does not help here. ",
            c - a
        );
    }
    if a >= 0.99 && d >= 0.99 {
        s.push_str("End to end and with global pooling alike, (nearly) every held-out image is classified correctly: at this size and with these cues the scene is too easy for global pooling to fall behind, so this run cannot show the advantage the essay claims for the mask as attention. A harder scene (a weaker brightness cue for the lesion, more distractors, fewer training images) is the next test. ");
    } else if d >= a {
        s.push_str("That global pooling keeps up has a likely reason this experiment does not test: the convolutional features can learn to respond only to the lesion's brighter striped texture, which makes a mask partly redundant. ");
    }
    s.push_str("Three seeds on one synthetic scene are a small sample: differences of a few points are within the seed-to-seed spread shown above.");
    s
}
