//! `dicekit experiment rare-classes`: cross-entropy, Dice and generalized Dice on the rarest
//! classes.
//!
//! Two datasets: the 3D CT phantom (liver, spleen, two kidneys and small tumours, generated) and
//! dubai_aerial (6-class land cover, real; skipped with a note when its folder is absent). Four
//! losses, several seeds; per-class Dice from counts summed over the held-out images, classes
//! ordered by their frequency in the training labels.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::{ConfusionCounts, confusion_per_label};
use dicekit_plot::{LineChart, Series};
use dicekit_train::{Case, TrainConfig, Trained, class_names, load_cases, load_validation_cases};
use serde::{Deserialize, Serialize};

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::stats::{distinct_seeds, fmt_mean_sd, in_seeds, mean_sd};

/// The losses: name, description, `[loss]` body (`{ignore}` is replaced by the ignore setting).
const LOSSES: [(&str, &str, &str); 4] = [
    ("ce", "cross-entropy", r#"loss = "cross_entropy"{ignore}"#),
    (
        "dice",
        "soft Dice over every class, batch-pooled (softmax)",
        r#"loss = "overlap"
pooling = "batch"{ignore}"#,
    ),
    (
        "gdl_square",
        "generalized Dice, w_c = 1/G_c^2 (Sudre et al. 2017)",
        r#"loss = "generalized_dice"
weights = "square"
pooling = "batch"{ignore}"#,
    ),
    (
        "gdl_simple",
        "generalized Dice, w_c = 1/G_c",
        r#"loss = "generalized_dice"
weights = "simple"
pooling = "batch"{ignore}"#,
    ),
];

/// One dataset of the experiment.
#[derive(Debug, Clone, Serialize)]
struct Part {
    name: &'static str,
    /// The `[data]`, `[model]` and `[training]` tables around `[loss]`.
    #[serde(skip)]
    template: String,
    /// Labels scored.
    labels: Vec<u32>,
    /// Where the held-out images come from.
    held_out: &'static str,
    /// Checkpoint scored.
    checkpoint: &'static str,
    /// What the images are made of: "voxels" (3D) or "pixels" (2D), for the report's wording.
    elements: &'static str,
    ignore_label: Option<u32>,
}

fn datasets_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets"))
}

fn ct_part(quick: bool) -> Part {
    let (size, patch, train, val, batch, epochs, iters, depth, base) = if quick {
        ("[32, 32, 24]", "[32, 32, 24]", 2, 1, 2, 2, 2, 2, 4)
    } else {
        ("[96, 96, 48]", "[64, 64, 32]", 16, 4, 2, 20, 10, 3, 8)
    };
    let template = format!(
        r#"[data]
source = "synthetic"
scene = "ct-phantom"
train = {train}
val = {val}
size = {size}
seed = 41
patch = {patch}
batch_size = {batch}
foreground_fraction = 0.5
normalization = {{ window = {{ low = -200.0, high = 300.0 }} }}
augment = {{ flip = {{ probability = 0.5, axes = "all" }} }}

[model]
in_channels = 1
num_classes = 6
depth = {depth}
base_channels = {base}
norm = "instance"

[loss]
{{loss}}

[optimizer]
kind = "adam"
lr = 0.003

[training]
epochs = {epochs}
iterations_per_epoch = {iters}
val_interval = {vi}
seed = {{seed}}
output = "{{output}}"
"#,
        vi = if quick { 1 } else { 4 },
    );
    Part {
        name: "ct-phantom",
        template,
        labels: vec![1, 2, 3, 4, 5],
        held_out: "generated test volumes (indices training and validation never use); best validation checkpoint",
        checkpoint: "best",
        elements: "voxels",
        ignore_label: None,
    }
}

fn dubai_part(quick: bool) -> Part {
    let description = datasets_dir().join("dubai_aerial.toml");
    let (limits, resize, patch, batch, epochs, iters, depth, base) = if quick {
        (
            "limit_train = 2\nlimit_val = 1\n",
            "[128, 128]",
            "[128, 128]",
            5,
            1,
            2,
            3,
            4,
        )
    } else {
        ("", "[512, 512]", "[256, 256]", 6, 8, 25, 5, 16)
    };
    let template = format!(
        r#"[data]
source = "dataset"
description = "{desc}"
{limits}resize = {resize}
patch = {patch}
batch_size = {batch}
foreground_fraction = 0.0
ignore_label = 255
normalization = "z_score"
augment = {{ flip = {{ probability = 0.5, axes = "all" }}, rotate90 = {{ probability = 0.5, axes = [0, 1] }} }}

[model]
in_channels = 3
num_classes = 6
depth = {depth}
base_channels = {base}
norm = "instance"

[loss]
{{loss}}

[optimizer]
kind = "adam"
lr = 0.003

[training]
epochs = {epochs}
iterations_per_epoch = {iters}
val_interval = {epochs}
seed = {{seed}}
output = "{{output}}"
val_labels = [0, 1, 2, 3, 4]
"#,
        desc = runner::toml_path(&description),
    );
    Part {
        name: "dubai_aerial",
        template,
        labels: vec![0, 1, 2, 3, 4],
        held_out: "the validation split (the shared data has no test split), last checkpoint: no choice was made on it",
        checkpoint: "last",
        elements: "pixels",
        ignore_label: Some(255),
    }
}

impl Part {
    /// The config of the first loss and seed, with the output folder `OUT` and the dataset
    /// description named from the repository root (no path of this machine in the report).
    fn example_config(&self) -> String {
        self.config(LOSSES[0].2, 1, Path::new("OUT"))
            .replace(&runner::toml_path(&datasets_dir()), "datasets")
    }

    fn config(&self, loss: &str, seed: u64, out: &Path) -> String {
        let ignore = if self.ignore_label.is_some() {
            "\nignore_index = 255"
        } else {
            ""
        };
        format!(
            "# dicekit experiment rare-classes: {}, seed {seed}\n{}",
            self.name,
            self.template
                .replace("{loss}", &loss.replace("{ignore}", ignore))
                .replace("{seed}", &seed.to_string())
                .replace("{output}", &runner::toml_path(out))
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    dataset: String,
    loss: String,
    seed: u64,
    /// Dice per scored label (summed counts), in the part's label order.
    dice: Vec<Option<f64>>,
    /// IoU per scored label.
    iou: Vec<Option<f64>>,
    train_seconds: f64,
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let out = runner::out_dir(args, "rare-classes")?;
    let seeds: Vec<u64> = (1..=args.seeds as u64).collect();
    // The whole experiment's time, reused runs included; each part has its own pace below.
    let clock = runner::Clock::start(0);
    let mut parts = vec![];
    let mut skipped = vec![];
    for part in [ct_part(args.quick), dubai_part(args.quick)] {
        // The first config tells whether the data is there, and gives names and frequencies.
        let probe = TrainConfig::from_toml(
            &part.config(LOSSES[0].2, 1, &out.join("probe")),
            PathBuf::new(),
        )?;
        let cases = match load_cases(&probe) {
            Ok(c) => c,
            Err(e) if part.name == "dubai_aerial" => {
                skipped.push(format!("{}: {e}", part.name));
                println!("skipping {}: {e}", part.name);
                continue;
            }
            Err(e) => return Err(e),
        };
        let names = class_names(&probe);
        let freq = frequencies(&cases.train, &part.labels, part.ignore_label);
        let held_out: Vec<(ArrayPair, String)> = if part.name == "ct-phantom" {
            let size: Vec<usize> = match &probe.data.source {
                dicekit_train::DataSource::Synthetic { size, .. } => {
                    size.clone().unwrap_or_default()
                }
                _ => vec![],
            };
            (0..if args.quick { 2 } else { 8 })
                .map(|i| {
                    let s: Sample = Scene::CtPhantom.generate(Some(&size), 41, 2_000_000 + i)?;
                    Ok(((s.image.data, s.mask.data), format!("test {i}")))
                })
                .collect::<Result<_, String>>()?
        } else {
            load_validation_cases(&probe)?
                .into_iter()
                .map(|c| ((c.image, c.mask), c.name))
                .collect()
        };
        let mut results = vec![];
        let part_clock = runner::Clock::start(LOSSES.len() * seeds.len());
        for (n, &seed) in seeds.iter().enumerate() {
            for (l, (loss, _, body)) in LOSSES.iter().enumerate() {
                let k = n * LOSSES.len() + l + 1;
                let dir = out
                    .join("runs")
                    .join(format!("{}_{loss}_seed{seed}", part.name));
                let text = part.config(body, seed, &dir);
                let r = runner::train_or_reuse(&dir, &text, |f| {
                    evaluate(f, &part, loss, seed, &held_out)
                })?;
                let dice: Vec<String> = r.dice.iter().map(|d| fmt(*d)).collect();
                println!(
                    "{} {}: {loss:<10} seed {seed}: Dice per class [{}] ({:.0} s; about {:.0} s left in {})",
                    part_clock.step(k),
                    part.name,
                    dice.join(", "),
                    r.train_seconds,
                    part_clock.left(k),
                    part.name
                );
                results.push(r);
            }
        }
        parts.push((part, names, freq, results));
    }
    let mut all = vec![];
    for (part, names, freq, results) in &parts {
        write_plot(&out, part, names, freq, results)?;
        all.extend(results.iter().cloned());
    }
    let json = serde_json::json!({
        "experiment": "rare-classes",
        "quick": args.quick,
        "seeds": seeds,
        "skipped": skipped,
        "datasets": parts.iter().map(|(p, names, freq, _)| serde_json::json!({
            "name": p.name, "labels": p.labels, "held_out": p.held_out, "checkpoint": p.checkpoint,
            "class_names": p.labels.iter().map(|&l| names.get(l as usize).cloned().unwrap_or_default()).collect::<Vec<_>>(),
            "training_frequency": freq, "config_example": p.example_config(),
        })).collect::<Vec<_>>(),
        "losses": LOSSES.iter().map(|(n, w, b)| serde_json::json!({"name": n, "what": w, "loss": b})).collect::<Vec<_>>(),
        "runs": all,
        "seconds": clock.seconds(),
    });
    runner::finish(
        &out,
        &json,
        &report_md(&parts, &skipped, &seeds, args, clock.seconds()),
    )
}

type ArrayPair = (ndarray::ArrayD<f32>, ndarray::ArrayD<u32>);

/// Share of each scored label among the non-ignored training voxels.
fn frequencies(train: &[Case], labels: &[u32], ignore: Option<u32>) -> Vec<f64> {
    let mut counts = vec![0u64; labels.len()];
    let mut total = 0u64;
    for c in train {
        for &v in c.mask.iter() {
            if Some(v) == ignore {
                continue;
            }
            total += 1;
            if let Some(i) = labels.iter().position(|&l| l == v) {
                counts[i] += 1;
            }
        }
    }
    counts
        .iter()
        .map(|&c| c as f64 / total.max(1) as f64)
        .collect()
}

fn evaluate(
    f: &runner::Finished,
    part: &Part,
    loss: &str,
    seed: u64,
    held_out: &[(ArrayPair, String)],
) -> Result<RunResult, String> {
    let model = Trained::load(
        &f.config,
        &f.dir
            .join("checkpoints")
            .join(format!("{}.bpk", part.checkpoint)),
    )?;
    let mut total = vec![ConfusionCounts::default(); part.labels.len()];
    for ((image, truth), name) in held_out {
        let (_, mut pred) = model.predict(image).map_err(|e| format!("{name}: {e}"))?;
        if let Some(ig) = part.ignore_label {
            ndarray::Zip::from(&mut pred).and(truth).for_each(|p, &t| {
                if t == ig {
                    *p = ig;
                }
            });
        }
        let counts = confusion_per_label(&pred.view(), &truth.view(), &part.labels)
            .map_err(|e| e.to_string())?;
        for (acc, c) in total.iter_mut().zip(counts) {
            *acc += c;
        }
    }
    Ok(RunResult {
        dataset: part.name.into(),
        loss: loss.into(),
        seed,
        dice: total.iter().map(|c| c.dice().value()).collect(),
        iou: total.iter().map(|c| c.jaccard().value()).collect(),
        train_seconds: f.seconds,
    })
}

fn per_class(results: &[RunResult], loss: &str, i: usize, iou: bool) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.loss == loss)
        .map(|r| {
            let v = if iou { &r.iou } else { &r.dice };
            v.get(i).copied().flatten().unwrap_or(f64::NAN)
        })
        .collect()
}

/// Below this Dice a class counts as missed: the loss did not find it at all (a stray voxel
/// or two), as opposed to segmenting it badly.
const MISSED: f64 = 0.05;

/// How many (class, seed) pairs `loss` missed (Dice below [`MISSED`]) and how many it scored.
fn missed(results: &[RunResult], loss: &str) -> (usize, usize) {
    let dice = results
        .iter()
        .filter(|r| r.loss == loss)
        .flat_map(|r| r.dice.iter().flatten());
    dice.fold((0, 0), |(m, n), &d| (m + usize::from(d < MISSED), n + 1))
}

/// `loss` against `base` on one class, seed by seed.
struct Paired {
    /// Seeds compared (those that scored the class under both losses).
    seeds: usize,
    /// Seeds in which `loss` has the higher Dice.
    above: usize,
    /// Seeds in which `loss` has the lower Dice.
    below: usize,
    /// Mean of Dice(`loss`) - Dice(`base`) over the seeds compared.
    mean: f64,
}

/// Dice of `loss` against Dice of `base` on scored label `i`, seed by seed; `None` when no
/// seed scored both.
fn paired(results: &[RunResult], loss: &str, base: &str, i: usize) -> Option<Paired> {
    let dice = |l: &str, seed: u64| {
        results
            .iter()
            .find(|r| r.loss == l && r.seed == seed)
            .and_then(|r| r.dice.get(i).copied().flatten())
    };
    let d: Vec<f64> = distinct_seeds(results.iter().map(|r| r.seed))
        .into_iter()
        .filter_map(|seed| Some(dice(loss, seed)? - dice(base, seed)?))
        .collect();
    (!d.is_empty()).then(|| Paired {
        seeds: d.len(),
        above: d.iter().filter(|&&x| x > 0.0).count(),
        below: d.iter().filter(|&&x| x < 0.0).count(),
        mean: d.iter().sum::<f64>() / d.len() as f64,
    })
}

/// How `losses` fare against `base` on scored label `i`, seed by seed, and the verdict on the
/// claim that they beat it: "holds" when every one of them wins in every seed, "does not hold"
/// when none wins in any seed, otherwise which ones win in every seed. Every loss of the claim
/// is compared (none is picked by its mean first, which would favour the claim).
fn versus(results: &[RunResult], losses: &[&str], base: &str, i: usize, question: &str) -> String {
    let mut parts = vec![];
    let mut always = vec![];
    let (mut any_win, mut compared) = (false, 0);
    for &loss in losses {
        let Some(p) = paired(results, loss, base, i) else {
            continue;
        };
        compared += 1;
        any_win |= p.above > 0;
        if p.above == p.seeds {
            always.push(format!("`{loss}`"));
        }
        parts.push(format!(
            "`{loss}` {} (mean paired difference {:+.3})",
            in_seeds(p.above, p.seeds),
            p.mean
        ));
    }
    if compared == 0 {
        return String::new();
    }
    let verdict = if always.len() == compared {
        "the essay's claim holds here".to_string()
    } else if !any_win {
        "the essay's claim does not hold here".to_string()
    } else if always.is_empty() {
        "the seeds disagree, so this run does not settle it".to_string()
    } else {
        format!(
            "it holds for {} only, the others win in some seeds or none",
            always.join(" and ")
        )
    };
    format!(
        " {question} Seeds in which each beats `{base}`: {}; {verdict}.",
        parts.join(", ")
    )
}

/// What the runs show on one rare class (scored label `i`, `share` of the training voxels,
/// `rank` 0 for the rarest): the best loss, then the essay's two claims seed by seed: the
/// overlap losses beat cross-entropy there, and the class weights of generalized Dice beat the
/// unweighted Dice.
fn rare_class_paragraph(
    dataset: &str,
    elements: &str,
    rank: usize,
    class: &str,
    share: f64,
    results: &[RunResult],
    i: usize,
) -> String {
    let which = match rank {
        0 => "the rarest class".to_string(),
        1 => "the second-rarest class".to_string(),
        r => format!("the class of rarity rank {}", r + 1),
    };
    let head = format!(
        "On {dataset}, {which} ({class}, {:.3} % of the training {elements})",
        100.0 * share
    );
    let best = LOSSES
        .iter()
        .filter_map(|(l, _, _)| mean_sd(&per_class(results, l, i, false)).map(|m| (*l, m.0, m.1)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    let Some((l, m, sd)) = best else {
        return format!("{head} has no scored run.");
    };
    if m <= 0.0 {
        return format!("{head} is not segmented at all by any loss.");
    }
    let mut s = format!("{head} is segmented best by `{l}` (Dice {m:.3} ± {sd:.3}).");
    s.push_str(&versus(
        results,
        &["dice", "gdl_square", "gdl_simple"],
        "ce",
        i,
        "Do the overlap losses help this class more than cross-entropy?",
    ));
    s.push_str(&versus(
        results,
        &["gdl_square", "gdl_simple"],
        "dice",
        i,
        "Do the class weights of generalized Dice help it?",
    ));
    s
}

/// What the class weights cost: how generalized Dice (both weightings) fares against
/// cross-entropy on the commonest class (scored label `i`, `share` of the training voxels),
/// seed by seed. Weights of 1/G_c or 1/G_c^2 make the common class count least in the loss,
/// so a reviewer asks what it loses there.
fn commonest_class_paragraph(
    dataset: &str,
    elements: &str,
    class: &str,
    share: f64,
    results: &[RunResult],
    i: usize,
) -> String {
    let mut parts = vec![];
    let (mut always_below, mut any_below, mut compared) = (0, false, 0);
    for loss in ["gdl_square", "gdl_simple"] {
        let Some(p) = paired(results, loss, "ce", i) else {
            continue;
        };
        compared += 1;
        any_below |= p.below > 0;
        if p.below == p.seeds {
            always_below += 1;
        }
        parts.push(format!(
            "`{loss}` {} is below `ce` ({}) {} (mean paired difference {:+.3})",
            fmt_mean_sd(&per_class(results, loss, i, false), 3),
            fmt_mean_sd(&per_class(results, "ce", i, false), 3),
            in_seeds(p.below, p.seeds),
            p.mean
        ));
    }
    if compared == 0 {
        return String::new();
    }
    let verdict = if !any_below {
        "the class weights cost it nothing here"
    } else if always_below == compared {
        "the class weights that lift the rare classes cost the common one here"
    } else {
        "what the weights cost it differs between the weightings or the seeds"
    };
    format!(
        "The price on {dataset}'s commonest class ({class}, {:.3} % of the training {elements}): {}; {verdict}.",
        100.0 * share,
        parts.join(", ")
    )
}

/// The name of the part's scored label `i` (empty when the dataset names none).
fn class_name(part: &Part, names: &[String], i: usize) -> String {
    names
        .get(part.labels[i] as usize)
        .cloned()
        .unwrap_or_default()
}

/// Labels of a part, rarest first.
fn rarest_first(freq: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..freq.len()).collect();
    order.sort_by(|&a, &b| freq[a].total_cmp(&freq[b]));
    order
}

fn write_plot(
    out: &Path,
    part: &Part,
    names: &[String],
    freq: &[f64],
    results: &[RunResult],
) -> Result<(), String> {
    let order = rarest_first(freq);
    let ticks: Vec<(f64, String)> = order
        .iter()
        .enumerate()
        .map(|(x, &i)| (x as f64 + 1.0, class_name(part, names, i)))
        .collect();
    let mut chart = LineChart::new(
        format!(
            "{}: Dice per class, rarest first (mean over seeds)",
            part.name
        ),
        "class, rarest first (shares in report.md)",
        "Dice",
    )
    .x_categories(ticks);
    // A little room below 0 and above 1, so that the markers of missed classes show.
    chart.y_range = Some((-0.03, 1.03));
    chart.x_range = Some((0.5, order.len() as f64 + 0.5));
    for (loss, _, _) in LOSSES {
        let points = order
            .iter()
            .enumerate()
            .map(|(x, &i)| {
                let m = mean_sd(&per_class(results, loss, i, false)).map_or(f64::NAN, |m| m.0);
                (x as f64 + 1.0, m)
            })
            .collect();
        chart = chart.series(Series::new(loss, points).markers());
    }
    runner::save_plot(
        // Wide enough for two-word class names side by side with the legend beside the plot.
        &chart.render(1100, 500),
        &out.join(format!("{}_dice.png", part.name)),
    )
}

type PartResults = (Part, Vec<String>, Vec<f64>, Vec<RunResult>);

fn report_md(
    parts: &[PartResults],
    skipped: &[String],
    seeds: &[u64],
    args: &ExperimentOptions,
    seconds: f64,
) -> String {
    let mut s = String::new();
    s.push_str(&runner::header(
        args,
        "rare-classes",
        "rare classes, cross-entropy against Dice and generalized Dice",
        seconds,
    ));
    s.push_str("results.json also holds an example config of each dataset.\n\n");
    let _ = writeln!(s, "## Setup\n");
    let _ = writeln!(s, "- Losses (softmax over every class):");
    for (n, w, _) in LOSSES {
        let _ = writeln!(s, "  - `{n}`: {w}.");
    }
    let _ = writeln!(
        s,
        "- Seeds {seeds:?} change initialisation and batches. Dice and IoU per class come from counts summed over the held-out images."
    );
    for sk in skipped {
        let _ = writeln!(
            s,
            "- Skipped {sk}. Point `DICEKIT_DATA_ROOT` at the folder that holds `dubai_aerial/` to run it."
        );
    }
    let _ = writeln!(s);
    let mut paragraphs = vec![];
    for (part, names, freq, results) in parts {
        let _ = writeln!(s, "## {}\n", part.name);
        let _ = writeln!(s, "Held out: {}.\n", part.held_out);
        let _ = write!(s, "| class | share of training {} |", part.elements);
        for (loss, _, _) in LOSSES {
            let _ = write!(s, " {loss} Dice |");
        }
        let _ = writeln!(s, "\n|---|---|{}", "---|".repeat(LOSSES.len()));
        let order = rarest_first(freq);
        for &i in &order {
            let name = class_name(part, names, i);
            let _ = write!(
                s,
                "| {name} ({}) | {:.3} % |",
                part.labels[i],
                100.0 * freq[i]
            );
            for (loss, _, _) in LOSSES {
                let _ = write!(
                    s,
                    " {} |",
                    fmt_mean_sd(&per_class(results, loss, i, false), 3)
                );
            }
            let _ = writeln!(s);
        }
        let _ = write!(s, "| **mean IoU** | |");
        for (loss, _, _) in LOSSES {
            let miou: Vec<f64> = results
                .iter()
                .filter(|r| r.loss == loss)
                .map(|r| {
                    let v: Vec<f64> = r.iou.iter().map(|x| x.unwrap_or(0.0)).collect();
                    v.iter().sum::<f64>() / v.len().max(1) as f64
                })
                .collect();
            let _ = write!(s, " {} |", fmt_mean_sd(&miou, 3));
        }
        let _ = write!(s, "\n| **missed** (class × seed with Dice < {MISSED}) | |");
        for (loss, _, _) in LOSSES {
            let (missed, of) = missed(results, loss);
            let _ = write!(s, " {missed} of {of} |");
        }
        let _ = writeln!(s, "\n\n![{0}_dice.png]({0}_dice.png)\n", part.name);
        // The two rarest classes: which loss wins there, and do the class weights help?
        for (rank, &rare) in order.iter().take(2).enumerate() {
            paragraphs.push(rare_class_paragraph(
                part.name,
                part.elements,
                rank,
                &class_name(part, names, rare),
                freq[rare],
                results,
                rare,
            ));
        }
        if let Some(&common) = order.last()
            && order.len() > 2
        {
            paragraphs.push(commonest_class_paragraph(
                part.name,
                part.elements,
                &class_name(part, names, common),
                freq[common],
                results,
                common,
            ));
        }
    }
    let _ = writeln!(s, "## What this shows\n");
    if args.quick {
        let _ = writeln!(
            s,
            "This is the `--quick` variant that exercises the code; its numbers say nothing about the question.\n"
        );
    }
    for p in paragraphs {
        let _ = writeln!(s, "{p}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(loss: &str, seed: u64, rare_dice: f64) -> RunResult {
        RunResult {
            dataset: "d".into(),
            loss: loss.into(),
            seed,
            dice: vec![Some(0.9), Some(rare_dice)],
            iou: vec![],
            train_seconds: 0.0,
        }
    }

    /// Runs of every loss (in [`LOSSES`] order: ce, dice, gdl_square, gdl_simple) for seeds
    /// 1-3, with Dice `base[loss] + 0.01 * seed` on label 1, seed by seed.
    fn seeds_1_to_3(base: [f64; 4]) -> Vec<RunResult> {
        let mut r = vec![];
        for seed in 1..=3 {
            for ((loss, _, _), b) in LOSSES.iter().zip(base) {
                r.push(run(loss, seed, b + seed as f64 * 0.01));
            }
        }
        r
    }

    #[test]
    fn rare_class_paragraph_compares_seed_by_seed() {
        let mut r = seeds_1_to_3([0.2, 0.4, 0.5, 0.45]);
        let p = rare_class_paragraph("ct", "voxels", 0, "tumour", 0.0012, &r, 1);
        assert!(
            p.contains("the rarest class (tumour, 0.120 % of the training voxels)"),
            "{p}"
        );
        assert!(
            p.contains("best by `gdl_square` (Dice 0.520 ± 0.010)"),
            "{p}"
        );
        assert!(
            p.contains("Seeds in which each beats `ce`: `dice` in every seed (3) (mean paired difference +0.200), `gdl_square` in every seed (3) (mean paired difference +0.300), `gdl_simple` in every seed (3)"),
            "{p}"
        );
        assert!(
            p.contains("Seeds in which each beats `dice`: `gdl_square` in every seed (3)"),
            "{p}"
        );
        assert!(!p.contains("does not"), "{p}");
        assert!(
            rare_class_paragraph("ct", "voxels", 1, "liver", 0.05, &r, 1)
                .contains("the second-rarest class (liver")
        );
        // Unweighted Dice better than both weightings in seed 1 only.
        r[1].dice[1] = Some(0.9);
        let p = rare_class_paragraph("ct", "voxels", 0, "tumour", 0.0012, &r, 1);
        assert!(p.contains("`gdl_square` in 2 of 3 seeds"), "{p}");
        assert!(p.contains("does not settle"), "{p}");
        // ... and `dice` below cross-entropy in seed 2: the claim holds for the weighted ones.
        r[1].dice[1] = Some(0.41);
        r[5].dice[1] = Some(0.1);
        let p = rare_class_paragraph("ct", "voxels", 0, "tumour", 0.0012, &r, 1);
        assert!(
            p.contains("it holds for `gdl_square` and `gdl_simple` only"),
            "{p}"
        );
        // Cross-entropy best everywhere.
        for x in r.iter_mut().filter(|x| x.loss == "ce") {
            x.dice[1] = Some(0.95);
        }
        let p = rare_class_paragraph("ct", "voxels", 0, "tumour", 0.0012, &r, 1);
        assert!(p.contains("best by `ce`"), "{p}");
        assert!(p.contains("`dice` in no seed"), "{p}");
        assert!(p.contains("claim does not hold"), "{p}");
        // Nothing segmented; nothing scored.
        let zero: Vec<RunResult> = r.iter().map(|x| run(&x.loss, x.seed, 0.0)).collect();
        assert!(
            rare_class_paragraph("ct", "voxels", 0, "t", 0.001, &zero, 1)
                .contains("not segmented at all")
        );
        assert!(
            rare_class_paragraph("ct", "voxels", 0, "t", 0.001, &[], 1).contains("no scored run")
        );
    }

    #[test]
    fn commonest_class_paragraph_says_what_the_weights_cost() {
        let mut r = seeds_1_to_3([0.8, 0.8, 0.3, 0.5]);
        let p = commonest_class_paragraph("ct", "voxels", "liver", 0.06, &r, 1);
        assert!(p.contains("commonest class (liver, 6.000 %"), "{p}");
        assert!(
            p.contains("`gdl_square` 0.320 ± 0.010 is below `ce` (0.820 ± 0.010) in every seed (3) (mean paired difference -0.500)"),
            "{p}"
        );
        assert!(p.contains("cost the common one here"), "{p}");
        // One weighting below in one seed only.
        for x in r.iter_mut().filter(|x| x.loss.starts_with("gdl")) {
            x.dice[1] = Some(0.9);
        }
        r[2].dice[1] = Some(0.7);
        let p = commonest_class_paragraph("ct", "voxels", "liver", 0.06, &r, 1);
        assert!(
            p.contains("`gdl_square` 0.833 ± 0.115 is below `ce`"),
            "{p}"
        );
        assert!(p.contains("in 1 of 3 seeds"), "{p}");
        assert!(p.contains("differs between"), "{p}");
        r[2].dice[1] = Some(0.9);
        let p = commonest_class_paragraph("ct", "voxels", "liver", 0.06, &r, 1);
        assert!(p.contains("cost it nothing"), "{p}");
        assert_eq!(
            commonest_class_paragraph("ct", "voxels", "liver", 0.06, &[], 1),
            ""
        );
    }

    #[test]
    fn example_config_names_no_path_of_this_machine() {
        let c = dubai_part(false).example_config();
        assert!(
            c.contains(r#"description = "datasets/dubai_aerial.toml""#),
            "{c}"
        );
        assert!(!c.contains(env!("CARGO_MANIFEST_DIR")), "{c}");
        assert!(c.contains(r#"output = "OUT""#), "{c}");
    }

    #[test]
    fn missed_counts_class_seed_pairs_below_the_threshold() {
        let mut r = vec![run("ce", 1, 0.0), run("ce", 2, 0.049), run("dice", 1, 0.05)];
        r[0].dice.push(None); // not scored: no truth and no prediction
        assert_eq!(missed(&r, "ce"), (2, 4));
        assert_eq!(missed(&r, "dice"), (0, 2));
        assert_eq!(missed(&r, "gdl_simple"), (0, 0));
    }
}
