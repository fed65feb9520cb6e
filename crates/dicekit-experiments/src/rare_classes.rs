//! `dicekit experiment rare-classes`: cross-entropy, Dice and generalized Dice on the rarest
//! classes.
//!
//! Two datasets: the 3D CT phantom (liver, spleen, two kidneys and small tumours, generated) and
//! dubai_aerial (6-class land cover, real; skipped with a note when its folder is absent). Four
//! losses, several seeds; per-class Dice from counts summed over the held-out images, classes
//! ordered by their frequency in the training labels.
use std::path::{Path, PathBuf};

use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::{ConfusionCounts, confusion_per_label};
use dicekit_plot::{LineChart, Series};
use dicekit_train::{Case, TrainConfig, Trained, class_names, load_cases, load_validation_cases};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::{distinct_seeds, fmt_mean_sd, in_seeds, mean_sd};

/// One dataset of the experiment (a `parts` entry of the spec).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Part {
    name: String,
    /// Labels scored.
    labels: Vec<u32>,
    /// Where the held-out images come from.
    held_out: String,
    /// Checkpoint scored.
    checkpoint: String,
    /// What the images are made of: "voxels" (3D) or "pixels" (2D), for the report's wording.
    elements: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ignore_label: Option<u32>,
}

/// The parts of the spec.
fn parts(spec: &Spec) -> Result<Vec<Part>, String> {
    spec.parts
        .iter()
        .map(|p| serde_json::from_value(p.clone()).map_err(|e| format!("rare-classes part: {e}")))
        .collect()
}

/// The runs of `part`: one variant per loss, named `<part>_<loss>`, the part in its parameters.
fn runs_of_part(spec: &Spec, part: &Part) -> Result<Vec<Variant>, String> {
    let part_json = serde_json::to_value(part).map_err(|e| e.to_string())?;
    Ok(spec
        .variants
        .iter()
        .map(|v| {
            let mut params = v.params.clone();
            params.insert("part".into(), part_json.clone());
            Variant {
                name: format!("{}_{}", part.name, v.name),
                what: v.what.clone(),
                params,
            }
        })
        .collect())
}

/// The names of the losses, in spec order.
fn losses(spec: &Spec) -> Vec<&str> {
    spec.variants.iter().map(|v| v.name.as_str()).collect()
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
    let grid = runner::Grid::new(experiment_files!("rare-classes"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    // The whole experiment's time, reused runs included; each part has its own pace below.
    let clock = runner::Clock::start(0);
    let mut done = vec![];
    let mut skipped = vec![];
    for part in parts(spec)? {
        let variants = runs_of_part(spec, &part)?;
        // The first config tells whether the data is there, and gives names and frequencies.
        let probe = TrainConfig::from_toml(
            &grid.config(&variants[0], 1, &out.join("probe"))?,
            PathBuf::new(),
        )?;
        let cases = match load_cases(&probe) {
            Ok(c) => c,
            Err(e) if part.name == "dubai_aerial" => {
                skipped.push(format!("{}: {e}", part.name));
                println!("skipping {}: {e}", part.name);
                continue;
            }
            Err(e) => return Err(e.into()),
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
            let test = setup
                .get("ct")
                .and_then(|c| c.get("test"))
                .and_then(Value::as_u64)
                .ok_or("the rare-classes setup has no ct.test")?;
            (0..test)
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
        let part_clock = runner::Clock::start(variants.len() * seeds.len());
        let results = grid.run(
            &variants,
            &part_clock,
            0,
            |f, v, seed| {
                let loss = v
                    .name
                    .strip_prefix(&format!("{}_", part.name))
                    .unwrap_or(&v.name);
                evaluate(f, &part, loss, seed, &held_out)
            },
            |r: &RunResult| {
                let dice: Vec<String> = r.dice.iter().map(|d| fmt(*d)).collect();
                format!("Dice per class [{}]", dice.join(", "))
            },
        )?;
        let example = grid
            .config(&variants[0], 1, Path::new("OUT"))?
            .replace(&runner::toml_path(&runner::datasets_dir()), "datasets");
        done.push((part, names, freq, results, example));
    }
    let mut all = vec![];
    for (part, names, freq, results, _) in &done {
        write_plot(out, spec, part, names, freq, results)?;
        all.extend(results.iter().cloned());
    }
    let json = serde_json::json!({
        "experiment": "rare-classes",
        "quick": args.quick,
        "seeds": seeds,
        "skipped": skipped,
        "datasets": done.iter().map(|(p, names, freq, _, example)| serde_json::json!({
            "name": p.name, "labels": p.labels, "held_out": p.held_out, "checkpoint": p.checkpoint,
            "class_names": p.labels.iter().map(|&l| names.get(l as usize).cloned().unwrap_or_default()).collect::<Vec<_>>(),
            "training_frequency": freq, "config_example": example,
        })).collect::<Vec<_>>(),
        "losses": spec.variants,
        "runs": all,
        "seconds": clock.seconds(),
    });
    runner::finish(out, &json, &report_md(&grid.files, spec, &json, args)?)
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
        dataset: part.name.clone(),
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
    let best = ["ce", "dice", "gdl_square", "gdl_simple"]
        .iter()
        .filter_map(|l| mean_sd(&per_class(results, l, i, false)).map(|m| (*l, m.0, m.1)))
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
    spec: &Spec,
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
    for loss in losses(spec) {
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

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    json: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let spec_parts = parts(spec)?;
    let results: Vec<RunResult> = serde_json::from_value(json["runs"].clone())
        .map_err(|e| format!("results.json runs: {e}"))?;
    let seeds: Vec<u64> = serde_json::from_value(json["seeds"].clone())
        .map_err(|e| format!("results.json seeds: {e}"))?;
    let mut report_parts = vec![];
    let mut findings = vec![];
    for d in json["datasets"].as_array().cloned().unwrap_or_default() {
        let name = d["name"].as_str().unwrap_or_default();
        let part = spec_parts
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("results.json: unknown dataset {name}"))?;
        let freq: Vec<f64> = serde_json::from_value(d["training_frequency"].clone())
            .map_err(|e| format!("results.json {name}: {e}"))?;
        let class_names: Vec<String> = serde_json::from_value(d["class_names"].clone())
            .map_err(|e| format!("results.json {name}: {e}"))?;
        let runs: Vec<RunResult> = results
            .iter()
            .filter(|r| r.dataset == name)
            .cloned()
            .collect();
        let order = rarest_first(&freq);
        let mut rows = vec![];
        for &i in &order {
            let mut row = format!(
                "| {} ({}) | {:.3} % |",
                class_names[i],
                part.labels[i],
                100.0 * freq[i]
            );
            for loss in losses(spec) {
                row += &format!(" {} |", fmt_mean_sd(&per_class(&runs, loss, i, false), 3));
            }
            rows.push(row);
        }
        let mut miou_row = "| **mean IoU** | |".to_string();
        let mut missed_row = format!("| **missed** (class × seed with Dice < {MISSED}) | |");
        for loss in losses(spec) {
            let miou: Vec<f64> = runs
                .iter()
                .filter(|r| r.loss == loss)
                .map(|r| {
                    let v: Vec<f64> = r.iou.iter().map(|x| x.unwrap_or(0.0)).collect();
                    v.iter().sum::<f64>() / v.len().max(1) as f64
                })
                .collect();
            miou_row += &format!(" {} |", fmt_mean_sd(&miou, 3));
            let (missed, of) = missed(&runs, loss);
            missed_row += &format!(" {missed} of {of} |");
        }
        rows.push(miou_row);
        rows.push(missed_row);
        // The two rarest classes: which loss wins there, and do the class weights help?
        for (rank, &rare) in order.iter().take(2).enumerate() {
            findings.push(rare_class_paragraph(
                &part.name,
                &part.elements,
                rank,
                &class_names[rare],
                freq[rare],
                &runs,
                rare,
            ));
        }
        if let Some(&common) = order.last()
            && order.len() > 2
        {
            findings.push(commonest_class_paragraph(
                &part.name,
                &part.elements,
                &class_names[common],
                freq[common],
                &runs,
                common,
            ));
        }
        report_parts.push(serde_json::json!({
            "name": part.name, "held_out": part.held_out, "elements": part.elements, "rows": rows,
        }));
    }
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "rare-classes", &spec.title, seconds),
        "quick": args.quick,
        "variants": spec.variants,
        "seeds_text": format!("{seeds:?}"),
        "skipped": json["skipped"],
        "parts": report_parts,
        "findings": findings,
    });
    files.render_report(&context)
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

    /// Runs of every loss (in the spec's order: ce, dice, gdl_square, gdl_simple) for seeds
    /// 1-3, with Dice `base[loss] + 0.01 * seed` on label 1, seed by seed.
    fn seeds_1_to_3(base: [f64; 4]) -> Vec<RunResult> {
        let mut r = vec![];
        for seed in 1..=3 {
            for (loss, b) in ["ce", "dice", "gdl_square", "gdl_simple"].iter().zip(base) {
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

    /// The example config of each part (results.json) names no path of this machine, and the
    /// template writes the configs the experiment was run with.
    #[test]
    fn the_template_writes_the_committed_example_configs() {
        let files = experiment_files!("rare-classes");
        let spec = Spec::parse(&files).unwrap();
        let grid = runner::Grid {
            files,
            setup: spec.setup(false),
            spec: spec.clone(),
            seeds: vec![1],
            out: PathBuf::from("unused"),
        };
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/experiments/rare-classes");
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap())
                .unwrap();
        for (part, committed) in parts(&spec)
            .unwrap()
            .iter()
            .zip(json["datasets"].as_array().unwrap())
        {
            let variants = runs_of_part(&spec, part).unwrap();
            let c = grid
                .config(&variants[0], 1, Path::new("OUT"))
                .unwrap()
                .replace(&runner::toml_path(&runner::datasets_dir()), "datasets");
            assert!(!c.contains(env!("CARGO_MANIFEST_DIR")), "{c}");
            assert_eq!(
                c,
                committed["config_example"].as_str().unwrap(),
                "{}",
                part.name
            );
        }
    }

    /// The template reproduces the committed report of the full run from its results.json.
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) = crate::spec::committed_report(
            "rare-classes",
            experiment_files!("rare-classes"),
            report_md,
        );
        assert_eq!(got, want);
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
