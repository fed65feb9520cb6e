//! `dicekit experiment attention`: does the classifier's gradient through the soft mask help?
//!
//! Four networks of the same shape (`dicekit_models::MaskAttention`) on the lesion-texture scene, whose image
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
use dicekit_plot::{LineChart, Series};
use dicekit_train::{EpochLog, TrainConfig, Trained};
use ndarray::{ArrayD, Axis};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::mean_sd;

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
    let grid = runner::Grid::new(experiment_files!("attention"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    let size = Spec::setup_u64(setup, "size")? as usize;
    let data_seed = Spec::setup_u64(setup, "data_seed")?;
    let test: Vec<_> = (0..Spec::setup_u64(setup, "test")?)
        .map(|i| Scene::LesionTexture.generate(Some(&[size, size]), data_seed, TEST_OFFSET + i))
        .collect::<Result<_, _>>()?;
    let (results, clock) = runner::run_grid(
        &grid,
        |f, v, seed| score(f, v, seed, &test),
        |r: &RunResult| {
            format!(
                "test accuracy {}, AUC {}, lesion Dice {}",
                fmt(r.test_accuracy),
                fmt(r.test_auc),
                fmt(r.test_dice)
            )
        },
    )?;
    write_examples(out, spec, seeds, &test)?;
    write_plots(out, spec, &results, seeds)?;
    let json = serde_json::json!({
        "experiment": "attention",
        "quick": args.quick,
        "setup": setup,
        "seeds": seeds,
        "runs": results,
        "seconds": clock.seconds(),
    });
    runner::finish(out, &json, &report_md(&grid.files, spec, &json, args)?)
}

/// Scores a finished run on the test split.
fn score(
    f: &runner::Finished,
    variant: &Variant,
    seed: u64,
    test: &[dicekit_data::synth::Sample],
) -> Result<RunResult, String> {
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
        mode: variant.name.clone(),
        seed,
        test_accuracy: accuracy(&probs, &truth),
        test_auc: macro_auc(&probs, &truth),
        test_dice: counts.dice().value(),
        attention_in_lesion: mean_sd(&inside).map(|m| m.0),
        best_epoch: f.state.best.map(|b| b.1),
        train_seconds: f.seconds,
        history: f.state.history.clone(),
    })
}

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    json: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let runs_json = json["runs"].as_array().cloned().unwrap_or_default();
    let results: Vec<RunResult> = serde_json::from_value(json["runs"].clone())
        .map_err(|e| format!("results.json runs: {e}"))?;
    let seeds: Vec<u64> = serde_json::from_value(json["seeds"].clone())
        .map_err(|e| format!("results.json seeds: {e}"))?;
    let run_rows: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "| {} | {} | {} | {} | {} | {} | {} | {:.0} |",
                r.mode,
                r.seed,
                fmt(r.test_accuracy),
                fmt(r.test_auc),
                fmt(r.test_dice),
                fmt(r.attention_in_lesion),
                r.best_epoch.map_or("–".into(), |e| e.to_string()),
                r.train_seconds
            )
        })
        .collect();
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "attention", &spec.title, seconds),
        "setup": json["setup"],
        "variants": spec.variants,
        "scores": spec.scores,
        "stats": spec.stats(&runs_json, "mode"),
        "seeds_text": format!("{seeds:?}"),
        "first_seed": seeds.first(),
        "run_rows": run_rows,
        "conclusion": conclusion(&results, &seeds, args.quick),
    });
    files.render_report(&context)
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
    spec: &Spec,
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
        for mode in &spec.variants {
            let run = out
                .join("runs")
                .join(format!("{}_seed{}", mode.name, seeds[0]));
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
            save_png(&dir.join(format!("test{i}_{}.png", mode.name)), grey)?;
        }
    }
    Ok(())
}

fn write_plots(
    out: &Path,
    spec: &Spec,
    results: &[RunResult],
    seeds: &[u64],
) -> Result<(), String> {
    let modes: Vec<&str> = spec.variants.iter().map(|v| v.name.as_str()).collect();
    let by = |mode: &str, f: &dyn Fn(&RunResult) -> Option<f64>| -> Vec<f64> {
        results
            .iter()
            .filter(|r| r.mode == mode)
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
        .x_categories(modes.iter().enumerate().map(|(i, m)| (i as f64 + 1.0, *m)));
        chart.x_range = Some((0.6, 4.4));
        chart.y_range = Some((0.0, 1.0));
        for (i, &seed) in seeds.iter().enumerate() {
            let points = modes
                .iter()
                .enumerate()
                .map(|(m, &mode)| {
                    let v = results
                        .iter()
                        .find(|r| r.mode == mode && r.seed == seed)
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
    for &mode in &modes {
        let runs: Vec<&RunResult> = results.iter().filter(|r| r.mode == mode).collect();
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
        chart = chart.series(Series::new(mode, points).markers());
    }
    let path = out.join("val_accuracy.png");
    chart
        .render(800, 500)
        .save_png(&path)
        .map_err(|e| format!("{}: {e}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's variants are the attention modes of the model, in their order.
    #[test]
    fn the_variants_are_the_attention_modes() {
        let spec = Spec::parse(&experiment_files!("attention")).unwrap();
        let names: Vec<&str> = spec.variants.iter().map(|v| v.name.as_str()).collect();
        let modes: Vec<&str> = dicekit_models::MaskAttention::ALL
            .iter()
            .map(|m| m.name())
            .collect();
        assert_eq!(names, modes);
    }

    /// The template reproduces the committed report of the full run from its results.json,
    /// below the header (that report predates the header every experiment now writes).
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) =
            crate::spec::committed_report("attention", experiment_files!("attention"), report_md);
        let body = |s: &str| s[s.find("## Setup").unwrap()..].to_string();
        assert_eq!(body(&got), body(&want));
    }
}
