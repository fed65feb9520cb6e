//! `dicekit experiment imbalance`: which losses still find microaneurysms as they get rarer?
//!
//! The fundus scene at three microaneurysm fractions (about 5 %, 0.5 % and 0.05 % of the pixels),
//! six losses, several seeds. Scored on held-out images: Dice (counts summed over the test
//! images), lesion-wise recall (true microaneurysms touched by the prediction) and precision
//! (predicted components touching a true one), and how many test images get an empty prediction.
//!
//! Every loss trains with nnU-Net's foreground oversampling, which softens the imbalance the
//! loss sees; a control trains BCE and Dice at the rarest fraction with uniform patches, so the
//! report separates what the loss does from what the sampling does.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::{
    ConfusionCounts, Connectivity, Lesions, Matching, MatchingRule, ScanOrder, average_precision,
    confusion_per_label,
};
use dicekit_plot::{LineChart, Scale, Series};
use dicekit_train::Trained;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ExperimentOptions;
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::{fmt_mean_sd, mean_sd};

/// A loss of the comparison (a variant of the spec): its name, description and output
/// channels (1: sigmoid, 2: softmax).
#[derive(Debug, Clone)]
struct LossVariant {
    name: String,
    what: String,
    classes: u64,
}

/// What the experiment's functions need of the spec and its setup.
#[derive(Debug, Clone)]
struct Plan {
    /// Microaneurysm shares of the pixels, largest first.
    fractions: Vec<f64>,
    losses: Vec<LossVariant>,
    /// Losses of the uniform-sampling control (rarest fraction only).
    control_losses: Vec<String>,
    /// Held-out test images per fraction.
    test: usize,
}

impl Plan {
    fn new(spec: &Spec, setup: &Map<String, Value>) -> Result<Self, String> {
        let list = |key: &str| {
            setup
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| format!("the imbalance setup has no list `{key}`"))
        };
        let fractions = list("fractions")?
            .iter()
            .map(|v| v.as_f64().ok_or("fractions are numbers"))
            .collect::<Result<Vec<_>, _>>()?;
        let control_losses = list("control_losses")?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or("control_losses are names")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let losses = spec
            .variants
            .iter()
            .map(|v| {
                Ok(LossVariant {
                    name: v.name.clone(),
                    what: v.what.clone(),
                    classes: v
                        .params
                        .get("classes")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| format!("loss {}: no classes", v.name))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if fractions.is_empty() || losses.is_empty() {
            return Err("the imbalance spec needs fractions and losses".into());
        }
        Ok(Plan {
            fractions,
            losses,
            control_losses,
            test: Spec::setup_u64(setup, "test")? as usize,
        })
    }

    fn rare(&self) -> f64 {
        self.fractions[self.fractions.len() - 1]
    }

    fn common(&self) -> f64 {
        self.fractions[0]
    }
}

/// The runs of the losses `variants` at `fraction`: the variant named `fg<fraction>_<loss>`
/// (`_uniform` added for the control), with the loss's name, the fraction and the share of
/// foreground-centred patches as parameters of the training template.
fn runs_at(variants: &[&Variant], fraction: f64, oversampling: f64, control: bool) -> Vec<Variant> {
    variants
        .iter()
        .map(|v| {
            let mut params = v.params.clone();
            params.insert("loss_name".into(), Value::from(v.name.clone()));
            params.insert("fraction".into(), Value::from(fraction.to_string()));
            params.insert("oversampling".into(), Value::from(oversampling.to_string()));
            Variant {
                name: format!(
                    "fg{fraction}_{}{}",
                    v.name,
                    if control { "_uniform" } else { "" }
                ),
                what: v.what.clone(),
                params,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    loss: String,
    fraction: f64,
    seed: u64,
    /// The scores on the test images (flattened: result.json keeps one level).
    #[serde(flatten)]
    scores: TestScores,
    best_epoch: Option<usize>,
    train_seconds: f64,
    /// (epoch, validation Dice) at each validation, from the run's `state.json`.
    #[serde(default)]
    val_curve: Vec<(usize, f64)>,
}

/// The scores of one model on the test images.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct TestScores {
    /// Dice of the counts summed over the test images.
    dice: Option<f64>,
    /// True microaneurysms touched by the prediction / all true ones.
    lesion_recall: Option<f64>,
    /// Predicted components touching a true microaneurysm / all predicted components.
    lesion_precision: Option<f64>,
    true_lesions: usize,
    predicted_components: usize,
    /// Test images whose prediction has no foreground pixel.
    empty_predictions: usize,
    /// Predicted foreground pixels / true foreground pixels over the test set.
    volume_ratio: Option<f64>,
    /// Average precision of the microaneurysm probability over every test pixel: how well the
    /// network ranks microaneurysm pixels, whatever the threshold (added after the first full
    /// run; computed from the saved checkpoint for runs that lack it).
    #[serde(default)]
    average_precision: Option<f64>,
}

/// The validation Dice that counts as "sees the microaneurysms" in [`RunResult::first_sight`].
const SIGHT: f64 = 0.5;

impl RunResult {
    /// The first validated epoch whose validation Dice reaches [`SIGHT`], if any.
    fn first_sight(&self) -> Option<usize> {
        self.val_curve
            .iter()
            .find(|&&(_, d)| d >= SIGHT)
            .map(|&(e, _)| e)
    }
}

/// Per seed, the first validated epoch with Dice ≥ [`SIGHT`] ("never" when none), e.g.
/// "12, never, 8".
fn first_sights(runs: &[&RunResult]) -> String {
    runs.iter()
        .map(|r| r.first_sight().map_or("never".into(), |e| e.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Lesion-wise counts of one image: (true lesions, detected ones, predicted components,
/// predicted components that touch a true lesion), components 8-connected, matched by any
/// overlap (`dicekit_metrics::MatchingRule::AnyOverlap`, what `dicekit eval --lesions` counts).
fn lesion_counts(pred: &ArrayD<u32>, truth: &ArrayD<u32>) -> Result<[usize; 4], String> {
    let lesions = |m: &ArrayD<u32>| {
        Lesions::components(&m.view(), None, Connectivity::Eight, ScanOrder::RowMajor)
            .map_err(|e| e.to_string())
    };
    let (t, p) = (lesions(truth)?, lesions(pred)?);
    let m = Matching::new(&p, &t, MatchingRule::AnyOverlap).map_err(|e| e.to_string())?;
    Ok([m.n_reference, m.tp(), m.n_pred, m.tp_pred()])
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let grid = runner::Grid::new(experiment_files!("imbalance"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    let plan = Plan::new(spec, setup)?;
    let oversampling = setup
        .get("foreground_oversampling")
        .and_then(Value::as_f64)
        .ok_or("the imbalance setup has no foreground_oversampling")?;
    let clock = runner::Clock::start(
        (plan.fractions.len() * plan.losses.len() + plan.control_losses.len()) * seeds.len(),
    );
    let line = |r: &RunResult| {
        format!(
            "Dice {}, lesion recall {}, precision {}, empty predictions {}/{}",
            fmt(r.scores.dice),
            fmt(r.scores.lesion_recall),
            fmt(r.scores.lesion_precision),
            r.scores.empty_predictions,
            plan.test
        )
    };
    // One grid per fraction (its test images generated once), then the control at the rarest.
    let all: Vec<&Variant> = spec.variants.iter().collect();
    let control: Vec<&Variant> = spec
        .variants
        .iter()
        .filter(|v| plan.control_losses.contains(&v.name))
        .collect();
    let mut results = vec![];
    let mut controls = vec![];
    let mut done = 0;
    for (fraction, losses, is_control) in plan
        .fractions
        .iter()
        .map(|&f| (f, &all, false))
        .chain([(plan.rare(), &control, true)])
    {
        let test = test_samples(setup, &plan, fraction)?;
        let variants = runs_at(
            losses,
            fraction,
            if is_control { 0.0 } else { oversampling },
            is_control,
        );
        let score = |f: &runner::Finished, v: &Variant, seed: u64| {
            let loss = v
                .params
                .get("loss_name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            evaluate(f, loss, fraction, seed, &test)
        };
        let runs = grid.run(&variants, &clock, done, score, line)?;
        done += variants.len() * seeds.len();
        // Scores added after the first full run, and the validation curves, for every run.
        let mut finished = vec![];
        for (n, &seed) in seeds.iter().enumerate() {
            for (i, v) in variants.iter().enumerate() {
                let mut r = runs[n * variants.len() + i].clone();
                let dir = out.join("runs").join(format!("{}_seed{seed}", v.name));
                if r.scores.average_precision.is_none() {
                    let cfg = dicekit_train::TrainConfig::from_toml(
                        &grid.config(v, seed, &dir)?,
                        PathBuf::new(),
                    )?;
                    let model = Trained::load(&cfg, &dir.join("checkpoints/best.bpk"))?;
                    r.scores.average_precision =
                        score_test_images(&model, &test)?.average_precision;
                    runner::save_result(&dir, &r)?;
                }
                r.val_curve = runner::validation_curve(&dir)?;
                finished.push(r);
            }
        }
        if is_control {
            controls = finished;
        } else {
            results.extend(finished);
        }
    }
    write_plots(out, &plan, &results)?;
    let json = serde_json::json!({
        "experiment": "imbalance",
        "quick": args.quick,
        "setup": setup,
        "fractions": plan.fractions,
        "losses": spec.variants,
        "seeds": seeds,
        "runs": results,
        "uniform_sampling_control": controls,
        "seconds": clock.seconds(),
    });
    runner::finish(out, &json, &report_md(&grid.files, spec, &json, args)?)
}

/// Held-out images: indices that training (0..) and validation (1_000_000..) never use.
fn test_samples(
    setup: &Map<String, Value>,
    plan: &Plan,
    fraction: f64,
) -> Result<Vec<Sample>, String> {
    let size = Spec::setup_u64(setup, "size")? as usize;
    let data_seed = Spec::setup_u64(setup, "data_seed")?;
    (0..plan.test as u64)
        .map(|i| {
            Scene::Fundus
                .generate_with(
                    Some(&[size, size]),
                    data_seed,
                    2_000_000 + i,
                    Some(fraction),
                )
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn evaluate(
    f: &runner::Finished,
    loss: &str,
    fraction: f64,
    seed: u64,
    test: &[Sample],
) -> Result<RunResult, String> {
    let model = Trained::load(&f.config, &f.dir.join("checkpoints/best.bpk"))?;
    Ok(RunResult {
        loss: loss.into(),
        fraction,
        seed,
        scores: score_test_images(&model, test)?,
        best_epoch: f.state.best.map(|b| b.1),
        train_seconds: f.seconds,
        val_curve: vec![],
    })
}

/// Scores `model` on the test images: counts, lesions and the probabilities for AP.
fn score_test_images(model: &Trained, test: &[Sample]) -> Result<TestScores, String> {
    let mut counts = ConfusionCounts::default();
    let mut lesions = [0usize; 4];
    let mut empty = 0;
    let (mut scores, mut positive) = (vec![], vec![]);
    for s in test {
        let (probs, pred) = model.predict(&s.image.data)?;
        counts += confusion_per_label(&pred.view(), &s.mask.data.view(), &[1])
            .map_err(|e| e.to_string())?[0];
        let l = lesion_counts(&pred, &s.mask.data)?;
        for (acc, v) in lesions.iter_mut().zip(l) {
            *acc += v;
        }
        if pred.iter().all(|&v| v == 0) {
            empty += 1;
        }
        // The microaneurysm probability is the last channel (the only one under a sigmoid).
        let fg = probs.index_axis(ndarray::Axis(0), probs.shape()[0] - 1);
        scores.extend(fg.iter().map(|&p| f64::from(p)));
        positive.extend(s.mask.data.iter().map(|&v| v == 1));
    }
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let truth_voxels = counts.true_positives + counts.false_negatives;
    let pred_voxels = counts.true_positives + counts.false_positives;
    Ok(TestScores {
        dice: counts.dice().value(),
        lesion_recall: ratio(lesions[1], lesions[0]),
        lesion_precision: ratio(lesions[3], lesions[2]),
        true_lesions: lesions[0],
        predicted_components: lesions[2],
        empty_predictions: empty,
        volume_ratio: (truth_voxels > 0).then(|| pred_voxels as f64 / truth_voxels as f64),
        average_precision: average_precision(&scores, &positive),
    })
}

type Getter = fn(&RunResult) -> Option<f64>;

const METRICS: [(&str, &str, Getter); 3] = [
    ("dice", "Dice", |r| r.scores.dice),
    ("lesion_recall", "lesion recall", |r| r.scores.lesion_recall),
    ("lesion_precision", "lesion precision", |r| {
        r.scores.lesion_precision
    }),
];

/// The runs of `loss` at `fraction`, in seed order.
fn runs_of<'a>(results: &'a [RunResult], loss: &str, fraction: f64) -> Vec<&'a RunResult> {
    results
        .iter()
        .filter(|r| r.loss == loss && r.fraction == fraction)
        .collect()
}

fn values(results: &[RunResult], loss: &str, fraction: f64, f: Getter) -> Vec<f64> {
    runs_of(results, loss, fraction)
        .into_iter()
        .map(|r| f(r).unwrap_or(f64::NAN))
        .collect()
}

fn write_plots(out: &Path, plan: &Plan, results: &[RunResult]) -> Result<(), String> {
    for (file, title, f) in METRICS {
        let mut chart = LineChart::new(
            format!("Held-out {title}, mean over seeds"),
            "microaneurysm share of the pixels (log scale)",
            title,
        )
        .x_categories(
            plan.fractions
                .iter()
                .map(|&f| (f.log10(), format!("{} %", 100.0 * f))),
        );
        chart.y_range = Some((0.0, 1.0));
        chart.x_range = Some((-3.6, -1.1));
        chart.y_scale = Scale::Linear;
        for loss in &plan.losses {
            let points = plan
                .fractions
                .iter()
                .map(|&fr| {
                    let m = mean_sd(&values(results, &loss.name, fr, f)).map_or(f64::NAN, |m| m.0);
                    (fr.log10(), m)
                })
                .collect();
            chart = chart.series(Series::new(loss.name.as_str(), points).markers());
        }
        runner::save_plot(&chart.render(800, 500), &out.join(format!("{file}.png")))?;
    }
    // Validation Dice against the epoch, seed by seed, for BCE (solid) and Dice (dashed).
    for &fr in &plan.fractions {
        let mut chart = LineChart::new(
            format!(
                "Validation Dice during training at {} % foreground",
                100.0 * fr
            ),
            "epoch",
            "validation Dice",
        )
        .y_range(0.0, 1.0);
        for (name, dashed) in [("bce", false), ("dice", true)] {
            for r in runs_of(results, name, fr) {
                let points = r.val_curve.iter().map(|&(e, d)| (e as f64, d)).collect();
                // One colour per seed, so each seed's BCE and Dice curves pair up.
                let color = dicekit_plot::palette::SERIES[(r.seed as usize).saturating_sub(1) % 8];
                let series = Series::new(format!("{name} seed {}", r.seed), points)
                    .markers()
                    .color(color);
                chart = chart.series(if dashed { series.dashed() } else { series });
            }
        }
        runner::save_plot(
            &chart.render(800, 500),
            &out.join(format!("{}.png", val_plot_name(fr))),
        )?;
    }
    Ok(())
}

/// `val_dice_0.5pct` for 0.005.
fn val_plot_name(fraction: f64) -> String {
    format!("val_dice_{}pct", 100.0 * fraction)
}

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    json: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let setup = json["setup"]
        .as_object()
        .cloned()
        .ok_or("results.json: no setup")?;
    // The results of runs before the spec named fractions and control losses in the setup.
    let mut full = spec.setup(false);
    full.extend(setup.clone());
    let plan = Plan::new(spec, &full)?;
    let parse = |key: &str| {
        serde_json::from_value::<Vec<RunResult>>(json[key].clone())
            .map_err(|e| format!("results.json {key}: {e}"))
    };
    let (results, controls) = (parse("runs")?, parse("uniform_sampling_control")?);
    let seeds: Vec<u64> = serde_json::from_value(json["seeds"].clone())
        .map_err(|e| format!("results.json seeds: {e}"))?;
    let tables: Vec<Value> = plan
        .fractions
        .iter()
        .map(|&fr| {
            let rows: Vec<String> = plan
                .losses
                .iter()
                .map(|l| {
                    let runs = runs_of(&results, &l.name, fr);
                    let empties: Vec<String> = runs
                        .iter()
                        .map(|r| r.scores.empty_predictions.to_string())
                        .collect();
                    let v = |f: Getter| values(&results, &l.name, fr, f);
                    format!(
                        "| {} | {} | {} | {} | {} | {} | {} | {} |",
                        l.name,
                        fmt_mean_sd(&v(|r| r.scores.dice), 3),
                        fmt_mean_sd(&v(|r| r.scores.average_precision), 3),
                        fmt_mean_sd(&v(|r| r.scores.lesion_recall), 3),
                        fmt_mean_sd(&v(|r| r.scores.lesion_precision), 3),
                        empties.join(", "),
                        fmt_mean_sd(&v(|r| r.scores.volume_ratio), 2),
                        first_sights(&runs),
                    )
                })
                .collect();
            serde_json::json!({"percent": (100.0 * fr).to_string(), "rows": rows})
        })
        .collect();
    let rare = plan.rare();
    let mut control_rows = vec![];
    for name in &plan.control_losses {
        for (patches, runs) in [("a third on foreground", &results), ("uniform", &controls)] {
            let runs = runs_of(runs, name, rare);
            let empties: Vec<String> = runs
                .iter()
                .map(|r| r.scores.empty_predictions.to_string())
                .collect();
            let of =
                |f: Getter| -> Vec<f64> { runs.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect() };
            control_rows.push(format!(
                "| {name} | {patches} | {} | {} | {} | {} | {} | {} |",
                fmt_mean_sd(&of(|r| r.scores.dice), 3),
                fmt_mean_sd(&of(|r| r.scores.average_precision), 3),
                fmt_mean_sd(&of(|r| r.scores.lesion_recall), 3),
                fmt_mean_sd(&of(|r| r.scores.lesion_precision), 3),
                empties.join(", "),
                first_sights(&runs),
            ));
        }
    }
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "imbalance", &spec.title, seconds),
        "setup": setup,
        "losses": plan.losses.iter().map(|l| serde_json::json!({"name": l.name, "what": l.what, "classes": l.classes})).collect::<Vec<_>>(),
        "seeds_text": format!("{seeds:?}"),
        "sight": SIGHT.to_string(),
        "tables": tables,
        "rare_percent": (100.0 * rare).to_string(),
        "control_names": plan.control_losses.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(" and "),
        "control_rows": control_rows,
        "conclusion": conclusion(&plan, &results, &controls, args.quick),
        "metrics": METRICS.iter().map(|m| m.0).collect::<Vec<_>>(),
        "val_plots": plan.fractions.iter().map(|&fr| serde_json::json!({"percent": (100.0 * fr).to_string(), "file": val_plot_name(fr)})).collect::<Vec<_>>(),
    });
    files.render_report(&context)
}

/// The paragraph of what the runs show, from the numbers: whether BCE sees nothing at the
/// rarest fraction (every test image predicted empty), how each other loss compares with BCE
/// there seed by seed, and how much each loses from the commonest fraction to the rarest.
fn conclusion(plan: &Plan, results: &[RunResult], controls: &[RunResult], quick: bool) -> String {
    let mut s = String::new();
    if quick {
        s.push_str("This is the `--quick` variant (a few steps on tiny images) that exercises the code; its numbers say nothing about the question. ");
    }
    let (rare, common) = (plan.rare(), plan.common());
    let mean = |loss: &str, fr: f64, f: Getter| mean_sd(&values(results, loss, fr, f)).map(|m| m.0);
    let bce_runs = runs_of(results, "bce", rare);
    if bce_runs.is_empty() {
        s.push_str("No BCE run at the rarest fraction was scored, so the question is open.");
        return s;
    }
    let all_empty = bce_runs
        .iter()
        .filter(|r| r.scores.empty_predictions == plan.test)
        .count();
    let _ = write!(
        s,
        "At {} % foreground, BCE predicts nothing at all on every test image in {all_empty} of {} seeds (Dice {}, lesion recall {}). ",
        100.0 * rare,
        bce_runs.len(),
        fmt(mean("bce", rare, |r| r.scores.dice)),
        fmt(mean("bce", rare, |r| r.scores.lesion_recall)),
    );
    s.push_str(if all_empty == bce_runs.len() {
        "So yes: here BCE learns to see nothing, as the essay says. "
    } else if all_empty == 0 {
        "So BCE does not learn to see nothing here: the essay's claim, taken literally, does not hold in this setup. "
    } else {
        "The seeds disagree on whether BCE sees nothing. "
    });
    // Where BCE is not blind, how much it sees.
    let seeing: Vec<String> = bce_runs
        .iter()
        .filter(|r| r.scores.empty_predictions < plan.test)
        .map(|r| {
            format!(
                "seed {}: lesion recall {}, {} of {} test images empty",
                r.seed,
                fmt(r.scores.lesion_recall),
                r.scores.empty_predictions,
                plan.test
            )
        })
        .collect();
    if all_empty > 0 && !seeing.is_empty() {
        let _ = write!(s, "Where it is not blind, {}. ", seeing.join("; "));
    }
    // Seed by seed against BCE at the rarest fraction.
    let dice_of = |loss: &str, seed: u64| {
        results
            .iter()
            .find(|r| r.loss == loss && r.fraction == rare && r.seed == seed)
            .and_then(|r| r.scores.dice)
    };
    let mut against = vec![];
    for l in plan.losses.iter().filter(|l| l.name != "bce") {
        let d: Vec<f64> = bce_runs
            .iter()
            .filter_map(|b| Some(dice_of(&l.name, b.seed)? - b.scores.dice.unwrap_or(0.0)))
            .collect();
        if d.is_empty() {
            continue;
        }
        let wins = d.iter().filter(|&&x| x > 0.0).count();
        against.push(format!("`{}` {wins} of {}", l.name, d.len()));
    }
    if !against.is_empty() {
        let _ = write!(
            s,
            "Seeds in which a loss has a higher Dice than BCE there: {}. ",
            against.join(", ")
        );
    }
    let best = plan
        .losses
        .iter()
        .filter_map(|l| mean(&l.name, rare, |r| r.scores.dice).map(|d| (l.name.as_str(), d)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((name, d)) = best {
        let _ = write!(s, "The best mean Dice there is `{name}`'s ({d:.3}). ");
    }
    // What each loss loses from the commonest fraction to the rarest.
    let drops: Vec<String> = plan
        .losses
        .iter()
        .filter_map(|l| {
            let (c, r) = (
                mean(&l.name, common, |r| r.scores.dice)?,
                mean(&l.name, rare, |r| r.scores.dice)?,
            );
            Some(format!("`{}` {c:.3} → {r:.3}", l.name))
        })
        .collect();
    if !drops.is_empty() {
        let _ = write!(
            s,
            "Mean Dice from {} % to {} %: {}. ",
            100.0 * common,
            100.0 * rare,
            drops.join(", ")
        );
    }
    s.push_str(&blind_runs_sentence(plan, results));
    s.push_str(&sight_sentence(plan, results));
    s.push_str("Foreground oversampling (a third of the patches centred on a microaneurysm) is on for every loss, as in nnU-Net; it softens the imbalance that BCE sees. ");
    s.push_str(&control_sentence(plan, controls));
    s
}

/// How soon BCE and Dice leave the all-background solution: their first validated epoch with
/// Dice ≥ [`SIGHT`] at each fraction, seed by seed, and in how many (fraction, seed) pairs BCE
/// gets there later or earlier than Dice ("never" is later than any epoch).
fn sight_sentence(plan: &Plan, results: &[RunResult]) -> String {
    if results.iter().all(|r| r.val_curve.is_empty()) {
        return String::new();
    }
    let key = |r: &RunResult| r.first_sight().unwrap_or(usize::MAX);
    let mut parts = vec![];
    let (mut later, mut earlier, mut pairs) = (0, 0, 0);
    for &fr in &plan.fractions {
        let (bce, dice) = (runs_of(results, "bce", fr), runs_of(results, "dice", fr));
        if bce.is_empty() && dice.is_empty() {
            continue;
        }
        parts.push(format!(
            "at {} %, `bce` {} and `dice` {}",
            100.0 * fr,
            first_sights(&bce),
            first_sights(&dice)
        ));
        for b in &bce {
            if let Some(d) = dice.iter().find(|d| d.seed == b.seed) {
                pairs += 1;
                later += usize::from(key(b) > key(d));
                earlier += usize::from(key(b) < key(d));
            }
        }
    }
    format!(
        "First validation with Dice ≥ {SIGHT} (epoch, seed by seed): {}. BCE gets there later than Dice in {later} of {pairs} (fraction, seed) pairs and earlier in {earlier}. ",
        parts.join("; ")
    )
}

/// Every run, at any fraction and with any loss, that predicts nothing on every test image: a
/// model that went blind at 0.5 % says as much about the claim as one at 0.05 %.
fn blind_runs_sentence(plan: &Plan, results: &[RunResult]) -> String {
    let test_images = plan.test;
    let blind: Vec<String> = plan
        .fractions
        .iter()
        .flat_map(|&fr| plan.losses.iter().map(move |l| (fr, l.name.as_str())))
        .filter_map(|(fr, name)| {
            let all = runs_of(results, name, fr);
            let of = all.len();
            let runs: Vec<&RunResult> = all
                .into_iter()
                .filter(|r| r.scores.empty_predictions == test_images)
                .collect();
            let list = |f: &dyn Fn(&RunResult) -> String| -> String {
                runs.iter().map(|r| f(r)).collect::<Vec<_>>().join(", ")
            };
            (!runs.is_empty()).then(|| {
                format!(
                    "`{name}` at {} % (seed{} {}, {} of {of}; pixel AP {})",
                    100.0 * fr,
                    if runs.len() == 1 { "" } else { "s" },
                    list(&|r| r.seed.to_string()),
                    runs.len(),
                    list(&|r| fmt(r.scores.average_precision)),
                )
            })
        })
        .collect();
    if blind.is_empty() {
        "No run with foreground oversampling predicts nothing on every test image. ".into()
    } else {
        format!(
            "Runs with foreground oversampling that predict nothing on every test image: {}; every other run finds something. The pixel average precision (threshold-free; a ranking no better than chance scores the foreground share) says whether a lower threshold would have found the microaneurysms. ",
            blind.join("; ")
        )
    }
}

/// What the uniform-patch control says: for each of its losses, in how many seeds every test
/// image was predicted empty, with the mean Dice and lesion recall.
fn control_sentence(plan: &Plan, controls: &[RunResult]) -> String {
    let test_images = plan.test;
    let parts: Vec<String> = plan
        .control_losses
        .iter()
        .map(String::as_str)
        .filter_map(|name| {
            let runs: Vec<&RunResult> = controls.iter().filter(|r| r.loss == name).collect();
            if runs.is_empty() {
                return None;
            }
            let empty = runs
                .iter()
                .filter(|r| r.scores.empty_predictions == test_images)
                .count();
            let mean = |f: Getter| {
                let v: Vec<f64> = runs.iter().map(|r| f(r).unwrap_or(f64::NAN)).collect();
                fmt(mean_sd(&v).map(|m| m.0))
            };
            Some(format!(
                "`{name}` predicts nothing on every test image in {empty} of {} seeds (Dice {}, lesion recall {})",
                runs.len(),
                mean(|r| r.scores.dice),
                mean(|r| r.scores.lesion_recall)
            ))
        })
        .collect();
    if parts.is_empty() {
        "The uniform-patch control has not run.".into()
    } else {
        format!("With uniform patches instead: {}.", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan of the full run.
    fn plan() -> Plan {
        let spec = Spec::parse(&experiment_files!("imbalance")).unwrap();
        Plan::new(&spec, &spec.setup(false)).unwrap()
    }

    /// The spec's fractions and losses are the ones the report was written for.
    #[test]
    fn the_spec_names_the_fractions_and_losses() {
        let p = plan();
        assert_eq!(p.fractions, [0.05, 0.005, 0.0005]);
        let names: Vec<&str> = p.losses.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["bce", "dice", "gdl", "bce_dice", "focal", "dice_focal"]
        );
        assert_eq!(p.control_losses, ["bce", "dice"]);
        assert_eq!(p.test, 24);
    }

    /// The template reproduces the committed report of the full run from its results.json.
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) =
            crate::spec::committed_report("imbalance", experiment_files!("imbalance"), report_md);
        assert_eq!(got, want);
    }

    fn run(loss: &str, fraction: f64, seed: u64, dice: f64, empty: usize) -> RunResult {
        RunResult {
            loss: loss.into(),
            fraction,
            seed,
            scores: TestScores {
                dice: Some(dice),
                lesion_recall: Some(dice),
                lesion_precision: Some(dice),
                true_lesions: 10,
                predicted_components: 10,
                empty_predictions: empty,
                volume_ratio: None,
                average_precision: None,
            },
            best_epoch: None,
            train_seconds: 0.0,
            val_curve: vec![],
        }
    }

    #[test]
    fn first_sight_compares_bce_with_dice_seed_by_seed() {
        let curve = |c: &[f64]| -> Vec<(usize, f64)> {
            c.iter()
                .enumerate()
                .map(|(i, &d)| (4 * (i + 1), d))
                .collect()
        };
        let fr = plan().fractions[1];
        let mut r = vec![];
        for (seed, bce, dice) in [
            (1, curve(&[0.0, 0.1, 0.9]), curve(&[0.6, 0.9, 0.9])),
            (2, curve(&[0.0, 0.0, 0.0]), curve(&[0.2, 0.5, 0.9])),
            (3, curve(&[0.7, 0.9, 0.9]), curve(&[0.3, 0.9, 0.9])),
        ] {
            let mut b = run("bce", fr, seed, 0.5, 0);
            b.val_curve = bce;
            let mut d = run("dice", fr, seed, 0.5, 0);
            d.val_curve = dice;
            r.extend([b, d]);
        }
        assert_eq!(r[0].first_sight(), Some(12));
        assert_eq!(r[2].first_sight(), None);
        assert_eq!(
            first_sights(&r.iter().filter(|x| x.loss == "bce").collect::<Vec<_>>()),
            "12, never, 4"
        );
        let s = sight_sentence(&plan(), &r);
        assert!(
            s.contains("at 0.5 %, `bce` 12, never, 4 and `dice` 4, 8, 8"),
            "{s}"
        );
        assert!(
            s.contains("later than Dice in 2 of 3 (fraction, seed) pairs and earlier in 1"),
            "{s}"
        );
        // Results saved before the curves were kept say nothing.
        for x in &mut r {
            x.val_curve.clear();
        }
        assert_eq!(sight_sentence(&plan(), &r), "");
    }

    #[test]
    fn conclusion_answers_the_question_from_the_seeds() {
        let setup = plan();
        let (rare, common) = (setup.fractions[2], setup.fractions[0]);
        let mut r = vec![];
        for seed in 1..=3 {
            r.push(run("bce", rare, seed, 0.0, setup.test));
            r.push(run("dice", rare, seed, 0.3, 0));
            r.push(run("bce", common, seed, 0.8, 0));
            r.push(run("dice", common, seed, 0.82, 0));
        }
        let controls: Vec<RunResult> = (1..=3)
            .flat_map(|seed| {
                [
                    run("bce", rare, seed, 0.0, setup.test),
                    run("dice", rare, seed, 0.2, 1),
                ]
            })
            .collect();
        let c = conclusion(&setup, &r, &controls, false);
        assert!(c.contains("in 3 of 3 seeds"), "{c}");
        assert!(
            c.contains("With uniform patches instead: `bce` predicts nothing on every test image in 3 of 3 seeds (Dice 0.000"),
            "{c}"
        );
        assert!(
            c.contains("`dice` predicts nothing on every test image in 0 of 3 seeds (Dice 0.200"),
            "{c}"
        );
        assert!(c.contains("So yes"), "{c}");
        assert!(c.contains("`dice` 3 of 3"), "{c}");
        assert!(
            c.contains("best mean Dice there is `dice`'s (0.300)"),
            "{c}"
        );
        assert!(c.contains("`bce` 0.800 → 0.000"), "{c}");
        assert!(
            c.contains(
                "nothing on every test image: `bce` at 0.05 % (seeds 1, 2, 3, 3 of 3; pixel AP –, –, –); every other"
            ),
            "{c}"
        );
        // A blind run at the middle fraction is named too.
        let mut middle = r.clone();
        middle.push(run("bce", setup.fractions[1], 2, 0.0, setup.test));
        middle.push(run("bce", setup.fractions[1], 1, 0.9, 0));
        let c = conclusion(&setup, &middle, &controls, false);
        assert!(
            c.contains("`bce` at 0.5 % (seed 2, 1 of 2; pixel AP –); `bce` at 0.05 %"),
            "{c}"
        );
        // BCE finds something in every seed.
        for x in r
            .iter_mut()
            .filter(|x| x.loss == "bce" && x.fraction == rare)
        {
            x.scores.empty_predictions = 0;
            x.scores.dice = Some(0.4);
        }
        let c = conclusion(&setup, &r, &[], false);
        assert!(c.contains("control has not run"), "{c}");
        assert!(c.contains("does not learn to see nothing"), "{c}");
        assert!(c.contains("`dice` 0 of 3"), "{c}");
        assert!(
            c.contains("No run with foreground oversampling predicts nothing"),
            "{c}"
        );
        r[0].scores.empty_predictions = setup.test;
        let c = conclusion(&setup, &r, &[], false);
        assert!(c.contains("seeds disagree"), "{c}");
        assert!(
            c.contains("Where it is not blind, seed 2: lesion recall 0.000, 0 of 24 test images empty; seed 3:"),
            "{c}"
        );
        assert!(conclusion(&setup, &[], &[], true).contains("question is open"));
    }

    /// The lesion counts: two true lesions (one touched, one missed), a prediction touching
    /// the first, a diagonal neighbour (8-connected, same component) and a false positive.
    #[test]
    fn lesion_counts_by_any_overlap_and_8_connectivity() {
        let mut t = ArrayD::<u32>::zeros(ndarray::IxDyn(&[8, 8]));
        let mut p = t.clone();
        t[[1, 1].as_slice()] = 1;
        t[[1, 2].as_slice()] = 1;
        t[[6, 6].as_slice()] = 1;
        p[[1, 2].as_slice()] = 1;
        p[[2, 3].as_slice()] = 1; // diagonal: joins (1, 2)
        p[[4, 0].as_slice()] = 1; // touches nothing
        assert_eq!(lesion_counts(&p, &t).unwrap(), [2, 1, 2, 1]);
    }
}
