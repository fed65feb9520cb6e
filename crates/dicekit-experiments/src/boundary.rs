//! `dicekit experiment boundary`: does weighting the loss near vessel boundaries help?
//!
//! CHASE_DB1 vessels, Dice + cross-entropy with and without the boundary weight map
//! `w = 1 + 4 exp(-d^2 / (2 * 1.5^2))` (d: distance to the nearest label boundary, in pixels).
//! Scored on the validation images with the last checkpoint: Dice, HD95 and NSD at 1 px.
use std::path::{Path, PathBuf};

use dicekit_metrics::{ConfusionCounts, Convention, MetricKind, evaluate_label_maps};
use dicekit_plot::{LineChart, Series};
use dicekit_train::Case;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::chase::{last_model, validation_of, vessel_counts};
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::mean_sd;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    variant: String,
    seed: u64,
    /// Dice of the counts summed over the validation images.
    dice: Option<f64>,
    /// Means over the validation images.
    dice_mean: Option<f64>,
    hd95_mean: Option<f64>,
    nsd_mean: Option<f64>,
    train_seconds: f64,
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let grid = runner::Grid::new(experiment_files!("boundary"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    let val = validation_of(&grid)?;
    let (results, clock) = runner::run_grid(
        &grid,
        |f, v, seed| evaluate(f, v, seed, &val),
        |r: &RunResult| {
            format!(
                "Dice {}, HD95 {}, NSD {}",
                fmt(r.dice),
                fmt(r.hd95_mean),
                fmt(r.nsd_mean)
            )
        },
    )?;
    write_plot(out, spec, &results, seeds)?;
    let json = serde_json::json!({
        "experiment": "boundary",
        "quick": args.quick,
        "setup": setup,
        "variants": spec.variants.iter().map(|v| serde_json::json!({"name": v.name, "data": v.params.get("data"), "what": v.what})).collect::<Vec<_>>(),
        "seeds": seeds,
        "runs": results,
        "seconds": clock.seconds(),
    });
    runner::finish(out, &json, &report_md(&grid.files, spec, &json, args)?)
}

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    json: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let runs_json = json["runs"].as_array().cloned().unwrap_or_default();
    let results: Vec<RunResult> =
        serde_json::from_value(json["runs"].clone()).map_err(|e| format!("results.json: {e}"))?;
    let seeds: Vec<u64> =
        serde_json::from_value(json["seeds"].clone()).map_err(|e| format!("results.json: {e}"))?;
    let m = |v: &str, f: Getter| mean_sd(&values(&results, v, f));
    let mut comparisons = vec![];
    let mut wins_of = std::collections::BTreeMap::new();
    for (name, f, higher) in [
        ("Dice", (|r| r.dice) as Getter, true),
        ("HD95", |r| r.hd95_mean, false),
        ("NSD", |r| r.nsd_mean, true),
    ] {
        if let (Some(a), Some(b)) = (m("plain", f), m("boundary", f)) {
            // The same seed draws the same patches and initial weights for both variants, so
            // the per-seed differences are paired.
            let diffs = paired_differences(&results, &seeds, f);
            let wins = diffs
                .iter()
                .filter(|d| if higher { **d > 0.0 } else { **d < 0.0 })
                .count();
            comparisons.push(serde_json::json!({
                "name": name, "plain": a.0, "boundary": b.0,
                "within": (b.0 - a.0).abs() <= a.1.max(b.1),
                "better": if higher { b.0 > a.0 } else { b.0 < a.0 },
                "diffs": diffs.iter().map(|d| format!("{d:+.3}")).collect::<Vec<_>>().join(", "),
                "wins": wins, "seeds": diffs.len(),
            }));
            wins_of.insert(name, (wins, diffs.len()));
        }
    }
    let verdict = match (wins_of.get("Dice"), wins_of.get("NSD")) {
        (Some(&dice), Some(&nsd)) => Some(verdict(dice, nsd)),
        _ => None,
    };
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "boundary", &spec.title, seconds),
        "quick": args.quick,
        "setup": json["setup"],
        "variants": spec.variants,
        "scores": spec.scores,
        "seeds_text": format!("{seeds:?}"),
        "stats": spec.stats(&runs_json, "variant"),
        "comparisons": comparisons,
        "verdict": verdict,
    });
    files.render_report(&context)
}

fn evaluate(
    f: &runner::Finished,
    variant: &Variant,
    seed: u64,
    val: &[Case],
) -> Result<RunResult, String> {
    let model = last_model(f)?;
    let mut counts = ConfusionCounts::default();
    let (mut dice, mut hd95, mut nsd) = (vec![], vec![], vec![]);
    for c in val {
        let (_, pred) = model
            .predict(&c.image)
            .map_err(|e| format!("{}: {e}", c.name))?;
        counts += vessel_counts(&pred, &c.mask);
        let e = evaluate_label_maps(
            &pred.view(),
            &c.mask.view(),
            &c.spacing,
            &[1],
            Convention::Monai,
            1.0,
        )
        .map_err(|e| format!("{}: {e}", c.name))?;
        let get = |m: MetricKind| {
            e[0].scores
                .iter()
                .find(|(k, _)| *k == m)
                .and_then(|(_, s)| s.value())
                .unwrap_or(f64::NAN)
        };
        dice.push(get(MetricKind::Dice));
        hd95.push(get(MetricKind::Hausdorff95));
        nsd.push(get(MetricKind::Nsd));
    }
    let mean = |v: &[f64]| mean_sd(v).map(|m| m.0);
    Ok(RunResult {
        variant: variant.name.clone(),
        seed,
        dice: counts.dice().value(),
        dice_mean: mean(&dice),
        hd95_mean: mean(&hd95),
        nsd_mean: mean(&nsd),
        train_seconds: f.seconds,
    })
}

type Getter = fn(&RunResult) -> Option<f64>;

fn values(results: &[RunResult], variant: &str, f: Getter) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.variant == variant)
        .map(|r| f(r).unwrap_or(f64::NAN))
        .collect()
}

/// `boundary - plain` of each seed that has both runs.
fn paired_differences(results: &[RunResult], seeds: &[u64], f: Getter) -> Vec<f64> {
    let get = |v: &str, seed: u64| {
        results
            .iter()
            .find(|r| r.variant == v && r.seed == seed)
            .and_then(f)
    };
    seeds
        .iter()
        .filter_map(|&seed| Some(get("boundary", seed)? - get("plain", seed)?))
        .collect()
}

/// What the seeds say together, from `(seeds in which the weights did better, seeds compared)`
/// for the Dice and for the NSD: the key of the report's verdict sentence.
fn verdict(dice: (usize, usize), nsd: (usize, usize)) -> &'static str {
    let all = |(wins, k): (usize, usize)| k > 0 && wins == k;
    let none = |(wins, k): (usize, usize)| k > 0 && wins == 0;
    if dice.1 == 0 || nsd.1 == 0 {
        "none"
    } else if none(dice) && all(nsd) {
        "traded"
    } else if all(dice) && all(nsd) {
        "both_better"
    } else if none(dice) && none(nsd) {
        "both_worse"
    } else {
        "mixed"
    }
}

fn write_plot(out: &Path, spec: &Spec, results: &[RunResult], seeds: &[u64]) -> Result<(), String> {
    for (file, title, f) in [
        ("dice", "Dice", (|r| r.dice) as Getter),
        ("hd95", "HD95 (px)", |r| r.hd95_mean),
        ("nsd", "NSD at 1 px", |r| r.nsd_mean),
    ] {
        let mut chart = LineChart::new(
            format!("CHASE_DB1 vessels: {title}, a line per seed"),
            "loss weighting",
            title,
        )
        .x_categories([(1.0, "plain"), (2.0, "boundary weight map")]);
        chart.x_range = Some((0.5, 2.5));
        for &seed in seeds {
            let points = spec
                .variants
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let x = results
                        .iter()
                        .find(|r| r.variant == v.name && r.seed == seed)
                        .and_then(f)
                        .unwrap_or(f64::NAN);
                    (i as f64 + 1.0, x)
                })
                .collect();
            chart = chart.series(Series::new(format!("seed {seed}"), points).markers());
        }
        runner::save_plot(&chart.render(700, 450), &out.join(format!("{file}.png")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_follows_the_seeds() {
        assert_eq!(verdict((0, 3), (3, 3)), "traded");
        assert_eq!(verdict((3, 3), (3, 3)), "both_better");
        assert_eq!(verdict((0, 3), (0, 3)), "both_worse");
        assert_eq!(verdict((0, 0), (0, 0)), "none");
        for (dice, nsd) in [((1, 3), (3, 3)), ((0, 3), (2, 3)), ((3, 3), (0, 3))] {
            assert_eq!(verdict(dice, nsd), "mixed", "{dice:?} {nsd:?}");
        }
    }

    /// The template reproduces the committed report of the full run from its results.json.
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) =
            crate::spec::committed_report("boundary", experiment_files!("boundary"), report_md);
        assert_eq!(got, want);
    }
}
