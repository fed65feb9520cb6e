//! `dicekit experiment clouds`: clouds as "ignore" or as "background" in the training labels?
//!
//! The wetlands scene (4 bands, a quarter of it under clouds). An annotator cannot see the
//! ground under a cloud: the labels there are either left out (ignore label, the voxels count for
//! neither side of the loss) or marked background. A third variant trains on the cloud-free
//! truth, which no annotator has: the upper bound. All are scored on the cloud-free truth of
//! held-out scenes, over the whole image, the cloud-free part and the clouded part.
use std::path::{Path, PathBuf};

use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::ConfusionCounts;
use dicekit_plot::{LineChart, Series};
use dicekit_train::Trained;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::mean_sd;

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
    let grid = runner::Grid::new(experiment_files!("clouds"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    let size = Spec::setup_u64(setup, "size")? as usize;
    let data_seed = Spec::setup_u64(setup, "data_seed")?;
    // Held-out scenes from indices training (0..) and validation (1_000_000..) never use.
    let test: Vec<Sample> = (0..Spec::setup_u64(setup, "test")?)
        .map(|i| Scene::Wetlands.generate(Some(&[size, size]), data_seed, 2_000_000 + i))
        .collect::<Result<_, _>>()?;
    let (results, clock) = runner::run_grid(
        &grid,
        |f, v, seed| evaluate(f, v, seed, &test),
        |r: &RunResult| {
            format!(
                "wetland Dice {} (clear {}, clouded {})",
                fmt(r.dice),
                fmt(r.dice_clear),
                fmt(r.dice_clouded)
            )
        },
    )?;
    write_plot(out, spec, &results, seeds)?;
    let runs: Vec<serde_json::Value> = results
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let json = serde_json::json!({
        "experiment": "clouds",
        "quick": args.quick,
        "setup": setup,
        "variants": spec.variants.iter().map(|v| serde_json::json!({"clouds": v.name, "what": v.what})).collect::<Vec<_>>(),
        "seeds": seeds,
        "runs": runs,
        "seconds": clock.seconds(),
    });
    let report = report_md(&grid.files, spec, &json, args)?;
    runner::finish(out, &json, &report)
}

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    results: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let runs = results["runs"].as_array().cloned().unwrap_or_default();
    let seconds = results["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "clouds", &spec.title, seconds),
        "quick": args.quick,
        "setup": results["setup"],
        "variants": spec.variants,
        "scores": spec.scores,
        "seeds_text": format!("{:?}", results["seeds"].as_array().map(|s| s.iter().filter_map(serde_json::Value::as_u64).collect::<Vec<_>>()).unwrap_or_default()),
        "stats": spec.stats(&runs, "clouds"),
    });
    files.render_report(&context)
}

fn evaluate(
    f: &runner::Finished,
    variant: &Variant,
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
        clouds: variant.name.clone(),
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

fn write_plot(out: &Path, spec: &Spec, results: &[RunResult], seeds: &[u64]) -> Result<(), String> {
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
        let points = spec
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let v = results
                    .iter()
                    .find(|r| r.clouds == v.name && r.seed == seed)
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
        let points = spec
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    i as f64 + 1.0,
                    mean_sd(&values(results, &v.name, f)).map_or(f64::NAN, |m| m.0),
                )
            })
            .collect();
        chart = chart.series(Series::new(name, points).markers());
    }
    runner::save_plot(&chart.render(800, 500), &out.join("dice.png"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report of `json` under the spec compiled in.
    fn report_for_test(json: &Value, args: &ExperimentOptions) -> Result<String, String> {
        crate::spec::render_results(experiment_files!("clouds"), report_md, json, args)
    }

    /// The template reproduces the committed report of the full run from its results.json.
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) =
            crate::spec::committed_report("clouds", experiment_files!("clouds"), report_md);
        assert_eq!(got, want);
    }

    /// Each verdict of the report, from made-up runs.
    #[test]
    fn the_verdicts_follow_the_numbers() {
        let run = |clouds: &str, dice: f64, recall: f64| {
            serde_json::json!({"clouds": clouds, "seed": 1, "dice": dice, "dice_clear": dice,
                "dice_clouded": dice, "recall_clouded": recall, "best_epoch": 1, "train_seconds": 1.0})
        };
        let results = |ig: f64, bg: f64| {
            serde_json::json!({
                "setup": experiment_spec_setup(), "seeds": [1], "seconds": 60.0,
                "runs": [run("ignore", ig, 0.6), run("background", bg, 0.2), run("truth", 0.9, 0.9)],
            })
        };
        let args = ExperimentOptions {
            quick: true,
            seeds: 1,
            out: None,
        };
        let higher = report_for_test(&results(0.8, 0.7), &args).unwrap();
        assert!(higher.contains("question. Ignoring clouds gives a higher wetland Dice on the cloud-free truth (0.800 against 0.700 with clouds as background). Under the clouds, the wetland recall is 0.600 when they are ignored and 0.200 when they are background: labelled background, clouds teach the network that nothing lies under them. Training on the cloud-free truth, which no annotator has, reaches 0.900.\n"), "{higher}");
        let lower = report_for_test(&results(0.6, 0.7), &args).unwrap();
        assert!(lower.contains("Labelling clouds as background gives the higher wetland Dice here (0.700 against 0.600 with clouds ignored), against the essay's claim. Under"), "{lower}");
        let same = report_for_test(&results(0.7, 0.7), &args).unwrap();
        assert!(
            same.contains(
                "give the same wetland Dice within the seed-to-seed spread (0.000). Under"
            ),
            "{same}"
        );
    }

    fn experiment_spec_setup() -> serde_json::Value {
        serde_json::Value::Object(
            Spec::parse(&experiment_files!("clouds"))
                .unwrap()
                .setup(true),
        )
    }
}
