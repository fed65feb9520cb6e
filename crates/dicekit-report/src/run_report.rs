//! The report of one training run: what it learned, as a folder a reviewer can open.
//!
//! ```text
//! report/
//!   index.md            run summary, aggregate and per-case tables, links to everything below
//!   metrics.json, .csv  every case x label x metric (the rows of `dicekit eval`), the aggregates
//!                       and the calibration figures
//!   loss.png            mean training loss and each loss term per epoch
//!   dice.png            validation Dice per class and their mean
//!   reliability.png     top-label reliability diagram (ECE, MCE, Brier)
//!   reliability_<class>.png   one-vs-rest diagram of each foreground class
//!   overlays/best_*.png, worst_*.png   prediction (red) and truth (green) outlined on the image
//!   froc_label<L>.png, .svg, froc_curves.csv   lesion FROC of each label (all lesions, by size)
//! ```
use std::path::{Path, PathBuf};

use dicekit_data::Volume;
use dicekit_data::image::{PngDepth, write_image_png};
use dicekit_data::overlay::overlay;
use dicekit_losses::Activation;
use dicekit_metrics::{
    Binning, Convention, EdgeRule, MetricKind, ReliabilityBin, Score, brier_score,
    centreline_counts_per_label, evaluate_label_maps, expected_calibration_error,
    maximum_calibration_error, reliability_bins,
};
use dicekit_plot::{LineChart, Series};
use dicekit_train::{
    Case, Checkpoint, EpochLog, TrainConfig, TrainState, Trained, class_names,
    load_validation_cases, scored_labels,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{ArrayD, Axis};

use dicekit_eval::{
    CaseResult, EvalOptions, FrocOptions, LesionCaseResult, LesionEvalOptions, LesionEvaluationSet,
    ProbabilityChannels, aggregates, csv_rows, json_rows, lesions_of_maps,
};

use crate::write_froc_plots;

use crate::ReportError;

/// What a report is made from.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Which checkpoint of the run.
    pub checkpoint: Checkpoint,
    /// Output folder; `None`: `<run>/report`.
    pub out: Option<PathBuf>,
    /// A config file whose `[data]` replaces the run's (a run folder moved away from the
    /// config's folder, or data elsewhere).
    pub data_config: Option<PathBuf>,
    /// Flip test-time augmentation.
    pub tta: bool,
    /// Peer convention of the surface metrics.
    pub convention: Convention,
    /// NSD tolerance in mm.
    pub tolerance: f64,
    /// Overlays of the best and of the worst cases, each.
    pub overlays: usize,
    /// Equal-width bins of the reliability diagrams.
    pub bins: usize,
    /// Draw a progress bar.
    pub progress: bool,
    /// Also score the centreline Dice (clDice) of each label.
    pub cl_dice: bool,
    /// The lesion section: each label's connected components (full connectivity), found /
    /// missed / false by size, and the FROC of the network's probabilities.
    pub lesions: bool,
    /// Upper edges of the lesion-size bins (mm^3 for NIfTI, pixels for 2D images), ascending.
    pub lesion_size_bins: Vec<f64>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            checkpoint: Checkpoint::Best,
            out: None,
            data_config: None,
            tta: false,
            convention: Convention::Monai,
            tolerance: 1.0,
            overlays: 2,
            bins: 15,
            progress: true,
            cl_dice: false,
            lesions: true,
            lesion_size_bins: vec![10.0, 100.0, 1000.0],
        }
    }
}

/// The run's config, with relative data paths resolved where the run was started from, or the
/// `[data]` of `data_config`.
fn run_config(run: &Path, data_config: Option<&Path>) -> Result<(TrainConfig, TrainState), String> {
    let state_path = run.join("state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| {
        format!(
            "{}: {e} (is {} a training run's output folder?)",
            state_path.display(),
            run.display()
        )
    })?;
    let state: TrainState =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", state_path.display()))?;
    let base = state
        .config_dir
        .clone()
        .unwrap_or_else(|| run.to_path_buf());
    let config_path = run.join("config.toml");
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let mut cfg = TrainConfig::from_toml(&text, base)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    if let Some(path) = data_config {
        let other = TrainConfig::read(path)?;
        cfg.data = other.data;
        cfg.base_dir = other.base_dir;
    }
    Ok((cfg, state))
}

/// One case's results beside its overlay inputs.
struct Evaluated {
    result: CaseResult,
    /// Mean Dice over the scored labels with a reference (None when every label is empty).
    mean_dice: Option<f64>,
}

/// Calibration samples: the probability and whether the event happened.
#[derive(Default)]
struct Samples {
    confidence: Vec<f64>,
    positive: Vec<bool>,
}

/// Figures of one reliability diagram.
struct Calibration {
    name: String,
    bins: Vec<ReliabilityBin>,
    ece: f64,
    mce: f64,
    brier: f64,
    samples: usize,
}

/// At most this many voxels per case enter the calibration figures (a regular subsample above).
const CALIBRATION_VOXELS_PER_CASE: usize = 4_000_000;

/// Writes the report of the training run in `run` and returns the path of its `index.md`.
///
/// # Errors
/// [`ReportError`] when an option is out of range, or the run, its data or the output folder
/// cannot be used.
pub fn write_report(run: &Path, opts: &ReportOptions) -> Result<PathBuf, ReportError> {
    if !(opts.tolerance.is_finite() && opts.tolerance >= 0.0) || opts.bins == 0 {
        return Err(ReportError::Options);
    }
    write(run, opts).map_err(ReportError::Run)
}

fn write(run: &Path, opts: &ReportOptions) -> Result<PathBuf, String> {
    let (cfg, state) = run_config(run, opts.data_config.as_deref())?;
    let checkpoint = opts.checkpoint.path(run);
    let mut model = Trained::load(&cfg, &checkpoint)?;
    model.predictor.flip_tta = opts.tta;
    let activation = model.predictor.activation;
    let labels = scored_labels(&cfg, activation);
    let names = class_names(&cfg);
    let name_of = |l: u32| -> String {
        // One sigmoid channel per foreground label: label l is class l (softmax) or channel l-1.
        names
            .get(l as usize)
            .cloned()
            .unwrap_or_else(|| format!("label {l}"))
    };
    let cases = load_validation_cases(&cfg)?;
    let out = opts.out.clone().unwrap_or_else(|| run.join("report"));
    std::fs::create_dir_all(out.join("overlays")).map_err(|e| format!("{}: {e}", out.display()))?;

    let bar = ProgressBar::new(cases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} report: {pos}/{len} validation cases, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if !opts.progress {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let mut evaluated = Vec::with_capacity(cases.len());
    // Image classes of an attention network: (case, truth, probabilities).
    let mut classified: Vec<(String, usize, Vec<f64>)> = vec![];
    let mut attention_maps: Vec<Option<ArrayD<f32>>> = vec![];
    let mut top = Samples::default();
    let mut per_class: Vec<Samples> = labels.iter().map(|_| Samples::default()).collect();
    let lesion_options = LesionEvalOptions {
        eval: EvalOptions {
            labels: Some(labels.clone()),
            ..EvalOptions::default()
        },
        size_bins: opts.lesion_size_bins.clone(),
        froc: FrocOptions {
            channels: match activation {
                Activation::Softmax => ProbabilityChannels::Class,
                _ => ProbabilityChannels::Foreground,
            },
            ..FrocOptions::default()
        },
        ..LesionEvalOptions::default()
    };
    let mut lesion_cases = vec![];
    for case in &cases {
        let (probs, mut pred) = model
            .predict(&case.image)
            .map_err(|e| format!("{}: {e}", case.name))?;
        if let Some(ig) = cfg.data.ignore_label {
            ndarray::Zip::from(&mut pred)
                .and(&case.mask)
                .for_each(|p, &t| {
                    if t == ig {
                        *p = ig;
                    }
                });
        }
        match model
            .classify_with_reference(&case.image, Some(&case.mask))
            .map_err(|e| format!("{}: {e}", case.name))?
        {
            Some(c) => {
                classified.push((
                    case.name.clone(),
                    case.label.unwrap_or(0) as usize,
                    c.probabilities,
                ));
                attention_maps.push(Some(c.attention));
            }
            None => attention_maps.push(None),
        }
        collect_calibration(
            &probs,
            case,
            activation,
            &labels,
            cfg.data.ignore_label,
            &mut top,
            &mut per_class,
        );
        if opts.lesions {
            // Ignored voxels hold no candidate.
            let masked;
            let probs = match cfg.data.ignore_label {
                Some(ig) if case.mask.iter().any(|&t| t == ig) => {
                    let mut p = probs.clone();
                    for mut channel in p.outer_iter_mut() {
                        ndarray::Zip::from(&mut channel)
                            .and(&case.mask)
                            .for_each(|p, &t| {
                                if t == ig {
                                    *p = 0.0;
                                }
                            });
                    }
                    masked = p;
                    &masked
                }
                _ => &probs,
            };
            let labels = lesions_of_maps(
                &pred.view(),
                &case.mask.view(),
                &case.spacing,
                Some(&probs.view()),
                &lesion_options,
                &case.name,
            )
            .map_err(|e| e.to_string())?;
            lesion_cases.push(LesionCaseResult {
                name: case.name.clone(),
                labels,
            });
        }
        let mut evals = evaluate_label_maps(
            &pred.view(),
            &case.mask.view(),
            &case.spacing,
            &labels,
            opts.convention,
            opts.tolerance,
        )
        .map_err(|e| format!("{}: {e}", case.name))?;
        if opts.cl_dice {
            let counts = centreline_counts_per_label(&pred.view(), &case.mask.view(), &labels)
                .map_err(|e| format!("{}: {e}", case.name))?;
            for (e, c) in evals.iter_mut().zip(counts) {
                e.scores.push((MetricKind::ClDice, c.cl_dice()));
            }
        }
        let dices: Vec<f64> = evals
            .iter()
            .filter(|l| l.counts.true_positives + l.counts.false_negatives > 0)
            .filter_map(|l| l.counts.dice().value())
            .collect();
        let mean_dice = (!dices.is_empty()).then(|| dices.iter().sum::<f64>() / dices.len() as f64);
        evaluated.push((
            Evaluated {
                result: CaseResult {
                    name: case.name.clone(),
                    labels: evals,
                },
                mean_dice,
            },
            pred,
        ));
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut calibrations = vec![calibration("top label", &top, opts.bins)?];
    for (l, s) in labels.iter().zip(&per_class) {
        calibrations.push(calibration(&name_of(*l), s, opts.bins)?);
    }
    let lesions = if opts.lesions {
        let set = LesionEvaluationSet::from_cases(lesion_cases, &lesion_options)
            .map_err(|e| e.to_string())?;
        let plots = write_froc_plots(&set, &out).map_err(|e| e.to_string())?;
        Some((set, plots))
    } else {
        None
    };
    // Plots.
    let mut curves = write_curves(&out, &state.history, &labels, &name_of)?;
    let classification = (!classified.is_empty()).then(|| {
        let probs: Vec<Vec<f64>> = classified.iter().map(|c| c.2.clone()).collect();
        let truth: Vec<usize> = classified.iter().map(|c| c.1).collect();
        let k = probs[0].len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (p, &t) in probs.iter().zip(&truth) {
            confusion[t.min(k - 1)][dicekit_metrics::argmax(p)] += 1;
        }
        ClassificationSummary {
            accuracy: dicekit_metrics::accuracy(&probs, &truth),
            auc: dicekit_metrics::macro_auc(&probs, &truth),
            confusion,
        }
    });
    if classification.is_some() {
        let validated: Vec<&EpochLog> = state
            .history
            .iter()
            .filter(|h| h.val_accuracy.is_some())
            .collect();
        let point = |f: &dyn Fn(&EpochLog) -> Option<f64>| -> Vec<(f64, f64)> {
            validated
                .iter()
                .map(|h| (h.epoch as f64, f(h).unwrap_or(f64::NAN)))
                .collect()
        };
        let mut chart = LineChart::new("Validation image classification", "epoch", "score")
            .series(Series::new("accuracy", point(&|h| h.val_accuracy)).markers())
            .series(Series::new("AUC", point(&|h| h.val_auc)).markers().dashed());
        chart.y_range = Some((0.0, 1.0));
        save(&chart.render(800, 500), &out.join("classification.png"))?;
        curves.push("classification.png".into());
    }
    let mut diagrams = vec![];
    for (i, c) in calibrations.iter().enumerate() {
        let file = if i == 0 {
            "reliability.png".to_string()
        } else {
            format!("reliability_{}.png", file_safe(&c.name))
        };
        let diagram = crate::reliability_diagram(
            format!("Reliability: {}", c.name),
            &c.bins,
            c.ece,
            c.mce,
            c.brier,
            format!("{} voxels", c.samples),
        );
        save(&diagram.render(600, 600), &out.join(&file))?;
        diagrams.push(file);
    }
    // Overlays of the best and worst cases by mean Dice.
    let mut order: Vec<usize> = (0..evaluated.len())
        .filter(|&i| evaluated[i].0.mean_dice.is_some())
        .collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (evaluated[a].0.mean_dice, evaluated[b].0.mean_dice);
        y.partial_cmp(&x)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let n = opts.overlays.min(order.len().div_ceil(2));
    let best: Vec<usize> = order.iter().take(n).copied().collect();
    let worst: Vec<usize> = order
        .iter()
        .rev()
        .filter(|i| !best.contains(i))
        .take(n)
        .copied()
        .collect();
    let mut overlay_files = vec![];
    for (kind, picks) in [("best", &best), ("worst", &worst)] {
        for (rank, &i) in picks.iter().enumerate() {
            let (ev, pred) = &evaluated[i];
            let file = format!(
                "overlays/{kind}_{}_{}.png",
                rank + 1,
                file_safe(&ev.result.name)
            );
            let mut note = write_overlay(&cases[i], pred, &out.join(&file))?;
            if let Some(Some(a)) = attention_maps.get(i) {
                let att = format!(
                    "overlays/{kind}_{}_{}_attention.png",
                    rank + 1,
                    file_safe(&ev.result.name)
                );
                let grey = a
                    .mapv(|v| (v.clamp(0.0, 1.0) * 255.0).round())
                    .insert_axis(Axis(0));
                let v = Volume {
                    data: grey,
                    spacing: vec![1.0, 1.0],
                    origin: vec![0.0, 0.0],
                    affine: None,
                };
                let path = out.join(&att);
                write_image_png(&path, &v, PngDepth::Eight)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let c = classified.iter().find(|c| c.0 == ev.result.name);
                note = format!(
                    "true image class {}, its predicted probability {:.3}; attention mask: [{att}]({att})",
                    c.map_or(0, |c| c.1),
                    c.map_or(f64::NAN, |c| c.2[c.1.min(c.2.len() - 1)])
                );
            }
            overlay_files.push((kind, ev.result.name.clone(), ev.mean_dice, file, note));
        }
    }
    // Tables.
    let results: Vec<CaseResult> = evaluated.into_iter().map(|(e, _)| e.result).collect();
    let calib_json: Vec<serde_json::Value> = calibrations
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name, "ece": c.ece, "mce": c.mce, "brier": c.brier,
                "voxels": c.samples, "bins": c.bins,
            })
        })
        .collect();
    let metrics = serde_json::json!({
        "run": run.display().to_string(),
        "checkpoint": checkpoint.display().to_string(),
        "flip_tta": opts.tta,
        "convention": opts.convention.name(),
        "tolerance_mm": opts.tolerance,
        "labels": labels.iter().map(|&l| serde_json::json!({"label": l, "name": name_of(l)})).collect::<Vec<_>>(),
        "cases": cases.len(),
        "records": json_rows(&results, opts.convention, opts.tolerance),
        "calibration": calib_json,
        "lesions": lesions.as_ref().map(|(set, _)| set.json_rows()),
        "classification": classification.as_ref().map(|c| serde_json::json!({
            "accuracy": c.accuracy, "auc": c.auc, "confusion": c.confusion,
            "cases": classified.iter().map(|(n, t, p)| serde_json::json!({"case": n, "class": t, "probabilities": p})).collect::<Vec<_>>(),
        })),
        "training": {
            "epochs_done": state.epochs_done,
            "best_mean_dice": state.best.map(|b| b.0),
            "best_epoch": state.best.map(|b| b.1),
            "seconds": state.history.iter().map(|h| h.seconds).sum::<f64>(),
        },
    });
    let json_path = out.join("metrics.json");
    let text = serde_json::to_string_pretty(&metrics)
        .map_err(|e| format!("{}: {e}", json_path.display()))?;
    std::fs::write(&json_path, text + "\n").map_err(|e| format!("{}: {e}", json_path.display()))?;
    let csv_path = out.join("metrics.csv");
    let text = csv_rows(&results, opts.convention, opts.tolerance)
        .map_err(|e| format!("{}: {e}", csv_path.display()))?;
    std::fs::write(&csv_path, text).map_err(|e| format!("{}: {e}", csv_path.display()))?;

    let index = index_md(&IndexInputs {
        run,
        cfg: &cfg,
        state: &state,
        checkpoint: &checkpoint,
        opts,
        labels: &labels,
        name_of: &name_of,
        results: &results,
        calibrations: &calibrations,
        curves: &curves,
        diagrams: &diagrams,
        overlays: &overlay_files,
        classification: classification.as_ref(),
        lesions: lesions.as_ref(),
    })?;
    let index_path = out.join("index.md");
    std::fs::write(&index_path, index).map_err(|e| format!("{}: {e}", index_path.display()))?;
    Ok(index_path)
}

/// Adds a case's voxels (ignored voxels left out, regularly subsampled above
/// [`CALIBRATION_VOXELS_PER_CASE`]) to the top-label and one-vs-rest samples.
fn collect_calibration(
    probs: &ArrayD<f32>,
    case: &Case,
    activation: Activation,
    labels: &[u32],
    ignore: Option<u32>,
    top: &mut Samples,
    per_class: &mut [Samples],
) {
    let k = probs.shape()[0];
    let (flat, truth) = (probs.as_standard_layout(), case.mask.as_standard_layout());
    // Standard layout is contiguous: both slices exist.
    let (Some(flat), Some(truth)) = (flat.as_slice(), truth.as_slice()) else {
        return;
    };
    let n = truth.len();
    let step = n.div_ceil(CALIBRATION_VOXELS_PER_CASE).max(1);
    let sigmoid = matches!(activation, Activation::Sigmoid | Activation::Identity);
    for i in (0..n).step_by(step) {
        let t = truth[i];
        if Some(t) == ignore {
            continue;
        }
        let p = |c: usize| (flat[c * n + i] as f64).clamp(0.0, 1.0);
        if sigmoid {
            // Channel c is label c + 1; top label of one channel: the more likely of p and 1 - p.
            if k == 1 {
                let q = p(0);
                top.confidence.push(q.max(1.0 - q));
                top.positive.push((q > 0.5) == (t == 1));
            }
            for (s, &l) in per_class.iter_mut().zip(labels) {
                let c = (l as usize).saturating_sub(1).min(k - 1);
                s.confidence.push(p(c));
                s.positive.push(t == l);
            }
        } else {
            let (arg, best) = (0..k).fold((0, f64::NEG_INFINITY), |m, c| {
                if p(c) > m.1 { (c, p(c)) } else { m }
            });
            top.confidence.push(best);
            top.positive.push(arg as u32 == t);
            for (s, &l) in per_class.iter_mut().zip(labels) {
                s.confidence.push(p((l as usize).min(k - 1)));
                s.positive.push(t == l);
            }
        }
    }
    if sigmoid && k > 1 {
        // Several sigmoid channels: no top label; the first class stands in.
        if let Some(first) = per_class.first() {
            top.confidence.extend_from_slice(&first.confidence);
            top.positive.extend_from_slice(&first.positive);
        }
    }
}

fn calibration(name: &str, s: &Samples, bins: usize) -> Result<Calibration, String> {
    let b = reliability_bins(
        &s.confidence,
        &s.positive,
        bins,
        Binning::EqualWidth,
        EdgeRule::RightClosed,
    )
    .map_err(|e| format!("calibration of {name}: {e}"))?;
    let brier = if s.confidence.is_empty() {
        f64::NAN
    } else {
        brier_score(&s.confidence, &s.positive).map_err(|e| format!("Brier of {name}: {e}"))?
    };
    Ok(Calibration {
        name: name.to_string(),
        ece: expected_calibration_error(&b),
        mce: maximum_calibration_error(&b),
        brier,
        samples: s.confidence.len(),
        bins: b,
    })
}

/// `loss.png` and `dice.png`; returns their file names.
fn write_curves(
    out: &Path,
    history: &[EpochLog],
    labels: &[u32],
    name_of: &dyn Fn(u32) -> String,
) -> Result<Vec<String>, String> {
    let mut loss = LineChart::new(
        "Training loss",
        "epoch",
        "loss (mean over the epoch's steps)",
    )
    .series(Series::new(
        "total",
        history.iter().map(|h| (h.epoch as f64, h.loss)).collect(),
    ));
    let terms: Vec<String> = history
        .first()
        .map(|h| h.terms.iter().map(|t| t.0.clone()).collect())
        .unwrap_or_default();
    if terms.len() > 1 {
        for (i, name) in terms.iter().enumerate() {
            let points = history
                .iter()
                .map(|h| (h.epoch as f64, h.terms.get(i).map_or(f64::NAN, |t| t.1)))
                .collect();
            loss = loss.series(Series::new(name.clone(), points).dashed());
        }
    }
    save(&loss.render(800, 500), &out.join("loss.png"))?;
    let validated: Vec<&EpochLog> = history.iter().filter(|h| h.val_dice.is_some()).collect();
    let mut dice = LineChart::new(
        "Validation Dice (counts summed over the validation set)",
        "epoch",
        "Dice",
    );
    dice.y_range = Some((0.0, 1.0));
    if labels.len() > 1 {
        dice = dice.series(
            Series::new(
                "mean",
                validated
                    .iter()
                    .map(|h| (h.epoch as f64, h.val_mean_dice.unwrap_or(f64::NAN)))
                    .collect(),
            )
            .markers(),
        );
    }
    for (i, &l) in labels.iter().enumerate() {
        let points = validated
            .iter()
            .map(|h| {
                let d = h
                    .val_dice
                    .as_ref()
                    .and_then(|d| d.get(i).copied().flatten());
                (h.epoch as f64, d.unwrap_or(f64::NAN))
            })
            .collect();
        let s = Series::new(name_of(l), points).markers();
        dice = dice.series(if labels.len() > 1 { s.dashed() } else { s });
    }
    save(&dice.render(800, 500), &out.join("dice.png"))?;
    Ok(vec!["loss.png".into(), "dice.png".into()])
}

fn save(canvas: &dicekit_plot::Canvas, path: &Path) -> Result<(), String> {
    canvas
        .save_png(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The overlay of a case: the image with the prediction (red) and the truth (green) outlined;
/// for 3D the slice along the last axis with the most reference voxels. Returns a note on the
/// slice.
fn write_overlay(case: &Case, pred: &ArrayD<u32>, path: &Path) -> Result<String, String> {
    let (image, p, t, note) = if case.mask.ndim() == 3 {
        let z_axis = 2;
        let depth = case.mask.shape()[z_axis];
        let count = |z: usize| {
            case.mask
                .index_axis(Axis(z_axis), z)
                .iter()
                .filter(|&&v| v != 0)
                .count()
        };
        let z = (0..depth)
            .max_by_key(|&z| (count(z), usize::MAX - z))
            .unwrap_or(0);
        (
            case.image.index_axis(Axis(z_axis + 1), z).to_owned(),
            pred.index_axis(Axis(z_axis), z).to_owned(),
            case.mask.index_axis(Axis(z_axis), z).to_owned(),
            format!("slice {z} of {depth} along the last axis"),
        )
    } else {
        (
            case.image.clone(),
            pred.clone(),
            case.mask.clone(),
            String::new(),
        )
    };
    let picture =
        overlay(&image, Some(&p), Some(&t)).map_err(|e| format!("{}: {e}", path.display()))?;
    let v = Volume {
        data: picture,
        spacing: vec![1.0, 1.0],
        origin: vec![0.0, 0.0],
        affine: None,
    };
    write_image_png(path, &v, PngDepth::Eight).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(note)
}

fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Image classification over the validation cases (attention networks).
struct ClassificationSummary {
    accuracy: Option<f64>,
    auc: Option<f64>,
    /// `confusion[true][predicted]`.
    confusion: Vec<Vec<usize>>,
}

struct IndexInputs<'a> {
    classification: Option<&'a ClassificationSummary>,
    run: &'a Path,
    cfg: &'a TrainConfig,
    state: &'a TrainState,
    checkpoint: &'a Path,
    opts: &'a ReportOptions,
    labels: &'a [u32],
    name_of: &'a dyn Fn(u32) -> String,
    results: &'a [CaseResult],
    calibrations: &'a [Calibration],
    curves: &'a [String],
    diagrams: &'a [String],
    overlays: &'a [(&'static str, String, Option<f64>, String, String)],
    /// The lesion evaluation and the FROC files written.
    lesions: Option<&'a (LesionEvaluationSet, Vec<String>)>,
}

fn fmt_value(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| {
        if v.abs() >= 100.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.4}")
        }
    })
}

/// The lesion section's numbers: per label and size bin the reference lesions found and
/// missed and the false positives, then the FROC scores and plots.
fn lesion_context(
    set: &LesionEvaluationSet,
    files: &[String],
    name_of: &dyn Fn(u32) -> String,
) -> serde_json::Value {
    let f = |v: Option<f64>| fmt_value(v);
    let mut rows = vec![];
    for l in set.aggregates().values() {
        let name = format!("{} ({})", name_of(l.label), l.label);
        rows.push(serde_json::json!({
            "label": name, "size": "all", "reference": l.reference, "found": l.found,
            "missed": l.missed, "recall": f(l.recall()), "false": l.false_positives,
            "fp_per_image": format!("{:.2}", l.false_positives_per_image()),
        }));
        for b in &l.bins {
            rows.push(serde_json::json!({
                "label": name, "size": b.name(), "reference": b.reference, "found": b.found,
                "missed": b.missed,
                "recall": f((b.reference > 0).then(|| b.found as f64 / b.reference as f64)),
                "false": b.false_positives,
                "fp_per_image": format!("{:.2}", b.false_positives as f64 / l.cases.max(1) as f64),
            }));
        }
    }
    let rates: Vec<String> = set
        .options
        .froc
        .fp_rates
        .iter()
        .map(|r| dicekit_eval::rate_name(*r))
        .collect();
    let froc_rows: Vec<serde_json::Value> = set
        .froc_rows()
        .into_iter()
        .map(|(size, lf, froc)| {
            let fin = |v: f64| f(v.is_finite().then_some(v));
            serde_json::json!({
                "label": format!("{} ({})", name_of(lf.label), lf.label),
                "size": size,
                "lesions": froc.curve.n_lesions,
                "score": fin(froc.score),
                "at": froc.sensitivity_at_rates.iter().map(|v| fin(*v)).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "rows": rows,
        "rates": rates,
        "froc_rows": froc_rows,
        "candidates": set.options.froc.candidates.describe(),
        "convention": dicekit_eval::froc_convention_name(set.options.froc.convention),
        "plots": files.iter().filter(|f| f.ends_with(".png")).collect::<Vec<_>>(),
    })
}

/// `index.md`, from `templates/index.md.j2`.
fn index_md(x: &IndexInputs) -> Result<String, String> {
    let h = &x.state.history;
    let seconds: f64 = h.iter().map(|e| e.seconds).sum();
    // The summary metrics of the registry that this report computed.
    let shown: Vec<MetricKind> = MetricKind::ALL
        .iter()
        .copied()
        .filter(|m| {
            m.in_summary()
                && x.results
                    .iter()
                    .flat_map(|r| &r.labels)
                    .any(|l| l.scores.iter().any(|(k, _)| k == m))
        })
        .collect();
    let aggs = aggregates(x.results);
    let (mut all_dice, mut all_iou) = (vec![], vec![]);
    let mut summary_rows = vec![];
    for &l in x.labels {
        let Some(dicekit_eval::LabelAggregate {
            metrics: agg,
            counts,
        }) = aggs.get(&l)
        else {
            continue;
        };
        let (dice, iou) = (counts.dice().value(), counts.jaccard().value());
        all_dice.extend(dice);
        all_iou.extend(iou);
        let cells: Vec<String> = shown
            .iter()
            .map(|&m| {
                let values: Vec<f64> = x
                    .results
                    .iter()
                    .flat_map(|r| r.labels.iter().filter(|e| e.label == l))
                    .filter_map(|e| {
                        e.scores
                            .iter()
                            .find(|(k, _)| *k == m)
                            .and_then(|p| p.1.value())
                    })
                    .collect();
                match agg.iter().find(|(k, _)| *k == m).map(|p| &p.1) {
                    Some(a) if a.mean.is_some() => {
                        let mean = a.mean.unwrap_or(f64::NAN);
                        let sd = if values.len() > 1 {
                            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                                / (values.len() - 1) as f64)
                                .sqrt()
                        } else {
                            0.0
                        };
                        let excluded = if a.excluded > 0 {
                            format!(" [{} undefined]", a.excluded)
                        } else {
                            String::new()
                        };
                        format!(
                            "{} ± {}{excluded}",
                            fmt_value(Some(mean)),
                            fmt_value(Some(sd))
                        )
                    }
                    Some(a) => format!("– [{} undefined]", a.excluded),
                    None => "–".into(),
                }
            })
            .collect();
        summary_rows.push(serde_json::json!({
            "label": format!("{} ({l})", (x.name_of)(l)),
            "dice": fmt_value(dice), "iou": fmt_value(iou), "cells": cells,
        }));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let label_means = (all_dice.len() > 1).then(|| {
        serde_json::json!({
            "labels": all_dice.len(),
            "dice": format!("{:.4}", mean(&all_dice)),
            "iou": format!("{:.4}", mean(&all_iou)),
        })
    });
    let classification = x.classification.map(|c| {
        serde_json::json!({
            "accuracy": fmt_value(c.accuracy), "auc": fmt_value(c.auc),
            "classes": (0..c.confusion.len()).collect::<Vec<_>>(), "rows": c.confusion,
        })
    });
    let calibrations: Vec<serde_json::Value> = x
        .calibrations
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name, "ece": format!("{:.4}", c.ece), "mce": format!("{:.4}", c.mce),
                "brier": format!("{:.4}", c.brier), "samples": c.samples,
            })
        })
        .collect();
    let overlays: Vec<serde_json::Value> = x
        .overlays
        .iter()
        .map(|(kind, name, dice, file, note)| {
            serde_json::json!({
                "kind": kind, "name": name, "dice": fmt_value(*dice), "file": file, "note": note,
            })
        })
        .collect();
    let lesions = x
        .lesions
        .map(|(set, files)| lesion_context(set, files, x.name_of));
    let mut case_rows = vec![];
    for r in x.results {
        for l in &r.labels {
            let get = |m: MetricKind| {
                l.scores
                    .iter()
                    .find(|(k, _)| *k == m)
                    .map_or("–".to_string(), |(_, sc)| match sc {
                        Score::Value(v) => fmt_value(Some(*v)),
                        Score::Empty(side) => format!("empty ({side:?})").to_lowercase(),
                    })
            };
            case_rows.push(format!(
                "| {} | {} | {} | {} | {} |",
                r.name,
                (x.name_of)(l.label),
                get(MetricKind::Dice),
                get(MetricKind::Hausdorff95),
                get(MetricKind::Nsd)
            ));
        }
    }
    let context = serde_json::json!({
        "run": x.run.display().to_string(),
        "epochs": x.state.epochs_done,
        "iterations": x.cfg.training.iterations_per_epoch,
        "batch": x.cfg.data.batch_size,
        "patch": format!("{:?}", x.cfg.data.patch),
        "minutes": format!("{:.1}", seconds / 60.0),
        "best_what": if x.cfg.attention_config().is_some() {
            "validation accuracy"
        } else {
            "mean validation Dice"
        },
        "best": fmt_value(x.state.best.map(|b| b.0)),
        "best_epoch": x.state.best.map_or("–".into(), |b| b.1.to_string()),
        "checkpoint": x.checkpoint
            .file_name()
            .map_or(String::new(), |f| f.to_string_lossy().into_owned()),
        "cases": x.results.len(),
        "overlap": x.cfg.training.overlap,
        "tta": x.opts.tta,
        "convention": x.opts.convention.name(),
        "tolerance": x.opts.tolerance,
        "metrics": shown.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "summary_rows": summary_rows,
        "label_means": label_means,
        "classification": classification,
        "curves": x.curves,
        "bins": x.opts.bins,
        "voxels_per_case": CALIBRATION_VOXELS_PER_CASE,
        "calibrations": calibrations,
        "diagrams": x.diagrams,
        "overlays": overlays,
        "case_rows": case_rows,
        "lesions": lesions,
    });
    Ok(crate::render(
        "dicekit-report/templates/index.md.j2",
        include_str!("../templates/index.md.j2"),
        &context,
    )?)
}
