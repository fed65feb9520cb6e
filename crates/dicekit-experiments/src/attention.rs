//! `dicekit experiment attention`: does the classifier's gradient through the soft mask help,
//! and where does global pooling fall behind?
//!
//! Five networks of the same shape (`dicekit_models::MaskAttention`) on the hard regime of the
//! lesion-texture scene, whose image label is the stripe direction inside a lesion of a given
//! share of the image while 5-7 distractors of the lesion's size and texture carry random
//! stripes: (a) soft mask, end to end; (b) the same, detached (no gradient from the classifier
//! into the segmenter); (c) the mask thresholded at 0.5; (d) no mask (global pooling); (e) the
//! reference mask (the oracle control: what a perfect mask gives). The lesion share is the
//! difficulty axis (`setup.shares`): the smaller the lesion, the less it weighs in a global
//! average. Each network is trained with `dicekit train`'s loop at every share for several
//! seeds (same data, different initialisation and batches), selected on the validation
//! accuracy, and scored on a held-out test split generated from indices that training and
//! validation never use.
//!
//! The verdict compares modes by paired differences across seeds: at one share, mode `x` beats
//! mode `y` when the mean of `acc_x - acc_y` over the seeds exceeds the standard deviation of
//! those differences (the spread): with `n` seeds, a paired t statistic above `sqrt(n)` (2.24
//! for 5 seeds, about a one-sided p of 0.045).
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_data::Volume;
use dicekit_data::image::{PngDepth, write_image_png};
use dicekit_data::overlay::overlay;
use dicekit_data::synth::{Sample, Scene};
use dicekit_metrics::{ConfusionCounts, accuracy, confusion_per_label, macro_auc};
use dicekit_plot::palette::series_color;
use dicekit_plot::{LineChart, Series};
use dicekit_train::{EpochLog, TrainConfig, Trained};
use ndarray::{ArrayD, Axis};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::runner::{self, Clock, Grid, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::mean_sd;

/// Held-out scores of one trained run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    mode: String,
    /// The lesion's target share of the image.
    share: f64,
    seed: u64,
    test_accuracy: Option<f64>,
    test_auc: Option<f64>,
    /// Lesion Dice of the counts summed over the test images.
    test_dice: Option<f64>,
    /// Share of the attention mask's mass inside the true lesion, averaged over test images.
    attention_in_lesion: Option<f64>,
    /// Test indices classified correctly and wrongly, the first few of each (for the examples).
    #[serde(default)]
    correct: Vec<usize>,
    #[serde(default)]
    wrong: Vec<usize>,
    best_epoch: Option<usize>,
    train_seconds: f64,
    history: Vec<EpochLog>,
}

/// First test index: training uses 0.., validation 1_000_000.., the test split 2_000_000...
const TEST_OFFSET: u64 = 2_000_000;

/// A run "learned" the label when its held-out accuracy reaches this (chance is 0.5).
const LEARNED: f64 = 0.75;

/// How many correct and wrong test indices a result keeps.
const KEEP: usize = 3;

/// The lesion shares of the setup, as given (the first is the easiest).
fn shares(setup: &serde_json::Map<String, Value>) -> Result<Vec<f64>, String> {
    let list = setup
        .get("shares")
        .and_then(Value::as_array)
        .ok_or("the experiment's setup has no list `shares`")?;
    list.iter()
        .map(|v| {
            v.as_f64()
                .filter(|f| *f > 0.0 && *f < 1.0)
                .ok_or_else(|| format!("setup.shares: {v} is not a share in (0, 1)"))
        })
        .collect()
}

/// `share0.12`: the folder of one share's runs, and the prefix of its example images.
fn share_tag(share: f64) -> String {
    format!("share{share}")
}

/// The held-out test images of one share.
fn test_split(setup: &serde_json::Map<String, Value>, share: f64) -> Result<Vec<Sample>, String> {
    let size = Spec::setup_u64(setup, "size")? as usize;
    let data_seed = Spec::setup_u64(setup, "data_seed")?;
    (0..Spec::setup_u64(setup, "test")?)
        .map(|i| {
            Scene::LesionTexture
                .generate_with(Some(&[size, size]), data_seed, TEST_OFFSET + i, Some(share))
                .map_err(|e| e.to_string())
        })
        .collect()
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let grid = Grid::new(experiment_files!("attention"), args)?;
    let shares = shares(&grid.setup)?;
    let per_share = grid.spec.variants.len() * grid.seeds.len();
    let clock = Clock::start(shares.len() * per_share);
    let mut results = vec![];
    for (l, &share) in shares.iter().enumerate() {
        let mut setup = grid.setup.clone();
        setup.insert("share".into(), share.into());
        let level = Grid {
            files: grid.files,
            spec: grid.spec.clone(),
            setup,
            seeds: grid.seeds.clone(),
            out: grid.out.join(share_tag(share)),
        };
        std::fs::create_dir_all(level.out.join("runs"))
            .map_err(|e| format!("{}: {e}", level.out.display()))?;
        let test = test_split(&grid.setup, share)?;
        println!("lesion share {share}:");
        let mut level_results = level.run(
            &level.spec.variants,
            &clock,
            l * per_share,
            |f, v, seed| score(f, v, seed, share, &test),
            |r: &RunResult| {
                format!(
                    "test accuracy {}, AUC {}, lesion Dice {}",
                    fmt(r.test_accuracy),
                    fmt(r.test_auc),
                    fmt(r.test_dice)
                )
            },
        )?;
        write_examples(&grid.out, &level, share, &test, &level_results)?;
        results.append(&mut level_results);
    }
    write_plots(&grid.out, &grid.spec, &results, &shares, &grid.seeds)?;
    let json = serde_json::json!({
        "experiment": "attention",
        "quick": args.quick,
        "setup": grid.setup,
        "seeds": grid.seeds,
        "runs": results,
        "seconds": clock.seconds(),
    });
    runner::finish(
        &grid.out,
        &json,
        &report_md(&grid.files, &grid.spec, &json, args)?,
    )
}

/// The model of the run in `dir`, from its saved config and best checkpoint.
fn load(dir: &Path) -> Result<Trained, String> {
    let text = std::fs::read_to_string(dir.join("experiment.toml"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let cfg = TrainConfig::from_toml(&text, PathBuf::new())?;
    Ok(Trained::load(&cfg, &dir.join("checkpoints/best.bpk"))?)
}

/// Class probabilities and attention mask of a test image (the oracle pools with its mask).
fn classify(model: &Trained, s: &Sample) -> Result<dicekit_train::Classification, String> {
    Ok(model
        .classify_with_reference(&s.image.data, Some(&s.mask.data))?
        .ok_or("not an attention network")?)
}

/// Scores a finished run on the test split.
fn score(
    f: &runner::Finished,
    variant: &Variant,
    seed: u64,
    share: f64,
    test: &[Sample],
) -> Result<RunResult, String> {
    let model = Trained::load(&f.config, &f.dir.join("checkpoints/best.bpk"))?;
    let (mut probs, mut truth) = (vec![], vec![]);
    let mut counts = ConfusionCounts::default();
    let mut inside = vec![];
    let (mut correct, mut wrong) = (vec![], vec![]);
    for (i, s) in test.iter().enumerate() {
        let c = classify(&model, s)?;
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
        let label = s.label.unwrap_or(0) as usize;
        let list = if c.class == label {
            &mut correct
        } else {
            &mut wrong
        };
        if list.len() < KEEP {
            list.push(i);
        }
        probs.push(c.probabilities);
        truth.push(label);
    }
    Ok(RunResult {
        mode: variant.name.clone(),
        share,
        seed,
        test_accuracy: accuracy(&probs, &truth),
        test_auc: macro_auc(&probs, &truth),
        test_dice: counts.dice().value(),
        attention_in_lesion: mean_sd(&inside).map(|m| m.0),
        correct,
        wrong,
        best_epoch: f.state.best.map(|b| b.1),
        train_seconds: f.seconds,
        history: f.state.history.clone(),
    })
}

/// How two modes compare at one share, by their paired accuracy differences across seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The mean of `x - y` over the seeds is positive and exceeds their spread (sd).
    Ahead,
    /// The mean of `x - y` is negative and exceeds their spread in size.
    Behind,
    /// Anything else (or fewer than two seeds): within the seed-to-seed spread.
    Level,
}

/// The paired accuracy differences `x - y` of one share across seeds.
#[derive(Debug, Clone)]
struct Paired {
    diffs: Vec<f64>,
    mean: f64,
    sd: f64,
    verdict: Verdict,
}

fn test_accuracy(results: &[RunResult], mode: &str, share: f64, seed: u64) -> Option<f64> {
    results
        .iter()
        .find(|r| r.mode == mode && r.share == share && r.seed == seed)
        .and_then(|r| r.test_accuracy)
}

/// `x - y` over the seeds where both have an accuracy; `None` when no seed has both.
fn paired(results: &[RunResult], share: f64, seeds: &[u64], x: &str, y: &str) -> Option<Paired> {
    let diffs: Vec<f64> = seeds
        .iter()
        .filter_map(|&s| {
            Some(test_accuracy(results, x, share, s)? - test_accuracy(results, y, share, s)?)
        })
        .collect();
    let (mean, sd) = mean_sd(&diffs)?;
    let verdict = if diffs.len() < 2 || mean.abs() <= sd {
        Verdict::Level
    } else if mean > 0.0 {
        Verdict::Ahead
    } else {
        Verdict::Behind
    };
    Some(Paired {
        diffs,
        mean,
        sd,
        verdict,
    })
}

/// The comparisons the report tabulates at every share: `(x, y, label)`.
const PAIRS: [(&str, &str, &str); 5] = [
    ("soft", "none", "(a) soft − (d) none"),
    ("soft", "hard", "(a) soft − (c) hard"),
    ("soft", "detached", "(a) soft − (b) detached"),
    ("oracle", "none", "(e) oracle − (d) none"),
    ("oracle", "soft", "(e) oracle − (a) soft"),
];

/// `(k, n)`: of the `n` runs of `mode` at `share`, `k` reached [`LEARNED`] held-out accuracy.
fn learned(results: &[RunResult], mode: &str, share: f64) -> (usize, usize) {
    let of: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.share == share && r.mode == mode)
        .collect();
    let k = of
        .iter()
        .filter(|r| r.test_accuracy.is_some_and(|a| a >= LEARNED))
        .count();
    (k, of.len())
}

/// The distinct shares of the results, in their run order.
fn shares_of(results: &[RunResult]) -> Vec<f64> {
    let mut out: Vec<f64> = vec![];
    for r in results {
        if !out.contains(&r.share) {
            out.push(r.share);
        }
    }
    out
}

/// `12 %`: a share for people.
fn pct(share: f64) -> String {
    let p = share * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0} %")
    } else {
        format!("{p} %")
    }
}

/// The report of the experiment's `results.json` (as `run` writes it).
fn report_md(
    files: &Files,
    spec: &Spec,
    json: &Value,
    args: &ExperimentOptions,
) -> Result<String, String> {
    let results: Vec<RunResult> = serde_json::from_value(json["runs"].clone())
        .map_err(|e| format!("results.json runs: {e}"))?;
    let seeds: Vec<u64> = serde_json::from_value(json["seeds"].clone())
        .map_err(|e| format!("results.json seeds: {e}"))?;
    let runs_json = json["runs"].as_array().cloned().unwrap_or_default();
    let mut levels = vec![];
    for share in shares_of(&results) {
        let mine: Vec<Value> = runs_json
            .iter()
            .filter(|r| r["share"].as_f64() == Some(share))
            .cloned()
            .collect();
        let learned: serde_json::Map<String, Value> = spec
            .variants
            .iter()
            .map(|v| {
                let (k, n) = learned(&results, &v.name, share);
                (v.name.clone(), format!("{k}/{n}").into())
            })
            .collect();
        let run_rows: Vec<String> = results
            .iter()
            .filter(|r| r.share == share)
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
        let pair_rows: Vec<String> = PAIRS
            .iter()
            .filter_map(|&(x, y, label)| {
                let p = paired(&results, share, &seeds, x, y)?;
                let per: Vec<String> = p.diffs.iter().map(|d| format!("{d:+.3}")).collect();
                Some(format!(
                    "| {label} | {} | {:+.3} ± {:.3} | {} |",
                    per.join(", "),
                    p.mean,
                    p.sd,
                    match p.verdict {
                        Verdict::Ahead => format!("{x} ahead"),
                        Verdict::Behind => format!("{y} ahead"),
                        Verdict::Level => "within the spread".into(),
                    }
                ))
            })
            .collect();
        let examples: Vec<Value> = spec
            .variants
            .iter()
            .filter_map(|v| {
                let r = results
                    .iter()
                    .find(|r| r.share == share && r.mode == v.name && Some(&r.seed) == seeds.first())?;
                let tag = share_tag(share);
                Some(serde_json::json!({
                    "mode": v.name,
                    "correct": r.correct.first().map(|_| format!("examples/{tag}_{}_correct", v.name)),
                    "wrong": r.wrong.first().map(|_| format!("examples/{tag}_{}_wrong", v.name)),
                }))
            })
            .collect();
        levels.push(serde_json::json!({
            "share": share,
            "pct": pct(share),
            "tag": share_tag(share),
            "stats": spec.stats(&mine, "mode"),
            "learned": learned,
            "run_rows": run_rows,
            "pair_rows": pair_rows,
            "examples": examples,
        }));
    }
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "attention", &spec.title, seconds),
        "setup": json["setup"],
        "variants": spec.variants,
        "scores": spec.scores,
        "levels": levels,
        "learned_at": LEARNED,
        "seeds_text": format!("{seeds:?}"),
        "first_seed": seeds.first(),
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

/// For every mode (first seed) at one share, the first correctly and the first wrongly
/// classified test image, each with its lesion outlined and beside it the mode's attention
/// mask: `examples/<share>_<mode>_{correct,wrong}_{image,attention}.png`.
fn write_examples(
    out: &Path,
    level: &Grid,
    share: f64,
    test: &[Sample],
    results: &[RunResult],
) -> Result<(), String> {
    let dir = out.join("examples");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let Some(&seed) = level.seeds.first() else {
        return Ok(());
    };
    for r in results.iter().filter(|r| r.seed == seed) {
        let model = load(
            &level
                .out
                .join("runs")
                .join(format!("{}_seed{seed}", r.mode)),
        )?;
        for (kind, list) in [("correct", &r.correct), ("wrong", &r.wrong)] {
            let Some(&i) = list.first() else { continue };
            let s = &test[i];
            let stem = format!("{}_{}_{kind}", share_tag(share), r.mode);
            save_png(
                &dir.join(format!("{stem}_image.png")),
                overlay(&s.image.data, None, Some(&s.mask.data)).map_err(|e| e.to_string())?,
            )?;
            let c = classify(&model, s)?;
            let grey = c
                .attention
                .mapv(|v| (v.clamp(0.0, 1.0) * 255.0).round())
                .insert_axis(Axis(0));
            save_png(&dir.join(format!("{stem}_attention.png")), grey)?;
        }
    }
    Ok(())
}

/// Held-out accuracy, AUC and lesion Dice against the lesion share, one colour per mode: the
/// mean over seeds joined by a line, each seed's run as a marker (shifted a little per mode
/// so they do not hide each other); and the validation accuracy during training per share.
fn write_plots(
    out: &Path,
    spec: &Spec,
    results: &[RunResult],
    shares: &[f64],
    seeds: &[u64],
) -> Result<(), String> {
    let modes: Vec<&str> = spec.variants.iter().map(|v| v.name.as_str()).collect();
    type Getter = fn(&RunResult) -> Option<f64>;
    let metrics: [(&str, &str, Getter); 3] = [
        ("accuracy_vs_share.png", "Held-out accuracy", |r| {
            r.test_accuracy
        }),
        ("auc_vs_share.png", "Held-out AUC", |r| r.test_auc),
        ("dice_vs_share.png", "Held-out lesion Dice", |r| r.test_dice),
    ];
    let ticks = shares
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as f64 + 1.0, pct(s)));
    for (file, title, f) in metrics {
        let mut chart = LineChart::new(
            format!("{title} against the lesion's share of the image"),
            "lesion share of the image (smaller = harder)",
            title,
        )
        .x_categories(ticks.clone());
        chart.x_range = Some((0.6, shares.len() as f64 + 0.4));
        chart.y_range = Some((0.0, 1.0));
        for (m, &mode) in modes.iter().enumerate() {
            let shift = (m as f64 - (modes.len() as f64 - 1.0) / 2.0) * 0.04;
            let mut means = vec![];
            let mut points = vec![];
            for (i, &share) in shares.iter().enumerate() {
                let x = i as f64 + 1.0 + shift;
                let v: Vec<f64> = results
                    .iter()
                    .filter(|r| r.mode == mode && r.share == share && seeds.contains(&r.seed))
                    .map(|r| f(r).unwrap_or(f64::NAN))
                    .collect();
                means.push((x, mean_sd(&v).map_or(f64::NAN, |m| m.0)));
                for y in v {
                    points.push((x, y));
                    points.push((f64::NAN, f64::NAN));
                }
            }
            chart = chart
                .series(Series::new(mode, means).markers().color(series_color(m)))
                .series(Series::new("", points).color(series_color(m)));
        }
        let path = out.join(file);
        runner::save_plot(&chart.render(800, 500), &path)?;
    }
    for &share in shares {
        let mut chart = LineChart::new(
            format!(
                "Validation accuracy during training, lesion share {} (mean over seeds)",
                pct(share)
            ),
            "epoch",
            "accuracy",
        );
        chart.y_range = Some((0.0, 1.0));
        for (m, &mode) in modes.iter().enumerate() {
            let runs: Vec<&RunResult> = results
                .iter()
                .filter(|r| r.mode == mode && r.share == share)
                .collect();
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
            chart = chart.series(Series::new(mode, points).markers().color(series_color(m)));
        }
        let path = out.join(format!("val_accuracy_{}.png", share_tag(share)));
        runner::save_plot(&chart.render(800, 500), &path)?;
    }
    Ok(())
}

/// `0.12 and 0.06`: a list of shares for a sentence.
fn share_list(shares: &[f64]) -> String {
    let p: Vec<String> = shares.iter().map(|&s| pct(s)).collect();
    match p.len() {
        0 => String::new(),
        1 => p[0].clone(),
        n => format!("{} and {}", p[..n - 1].join(", "), p[n - 1]),
    }
}

/// The shares where `x` compared with `y` gets `verdict`.
fn where_(results: &[RunResult], seeds: &[u64], x: &str, y: &str, verdict: Verdict) -> Vec<f64> {
    shares_of(results)
        .into_iter()
        .filter(|&s| paired(results, s, seeds, x, y).is_some_and(|p| p.verdict == verdict))
        .collect()
}

/// The paragraph of what the numbers say, written from the numbers.
fn conclusion(results: &[RunResult], seeds: &[u64], quick: bool) -> String {
    let shares = shares_of(results);
    let mean = |mode: &str, share: f64| {
        let v: Vec<f64> = seeds
            .iter()
            .filter_map(|&s| test_accuracy(results, mode, share, s))
            .collect();
        mean_sd(&v).map(|m| m.0)
    };
    let mut s = String::new();
    if quick {
        s.push_str("This is the `--quick` variant: a few steps on tiny images, to exercise the code. Its numbers say nothing about the question; run without `--quick` for them. ");
    }
    if shares.is_empty()
        || shares
            .iter()
            .any(|&f| ["soft", "none"].iter().any(|m| mean(m, f).is_none()))
    {
        s.push_str("Some runs have no accuracy; nothing can be concluded.");
        return s;
    }
    let n = seeds.len();
    let acc_line = |x: &str, y: &str| -> String {
        let parts: Vec<String> = shares
            .iter()
            .map(|&f| {
                format!(
                    "{}: {} against {}",
                    pct(f),
                    mean(x, f).map_or("–".into(), |v| format!("{v:.3}")),
                    mean(y, f).map_or("–".into(), |v| format!("{v:.3}"))
                )
            })
            .collect();
        parts.join("; ")
    };
    // (a) against (d): the question.
    let a_wins = where_(results, seeds, "soft", "none", Verdict::Ahead);
    let d_wins = where_(results, seeds, "soft", "none", Verdict::Behind);
    if a_wins.is_empty() {
        let _ = write!(
            s,
            "**End-to-end soft attention (a) does not beat global pooling (d) at any lesion share tested**: at no share does the mean paired difference across the {n} seeds exceed its spread (mean held-out accuracy, (a) against (d), {}). ",
            acc_line("soft", "none")
        );
    } else {
        let _ = write!(
            s,
            "**End-to-end soft attention (a) beats global pooling (d) at lesion share {}**: there the mean paired difference across the {n} seeds is positive and exceeds its spread (mean held-out accuracy, (a) against (d), {}). ",
            share_list(&a_wins),
            acc_line("soft", "none")
        );
    }
    // Where (a) learns in more seeds than (d), without a win by the paired criterion.
    let more: Vec<String> = shares
        .iter()
        .filter(|f| !a_wins.contains(f))
        .filter_map(|&f| {
            let ((a, n), (d, _)) = (learned(results, "soft", f), learned(results, "none", f));
            (a > d).then(|| format!("{}: {a} of {n} seeds against {d}", pct(f)))
        })
        .collect();
    if !more.is_empty() {
        let _ = write!(
            s,
            "Soft attention (a) does learn the label in more seeds than (d) ({}), a hint in the essay's direction that {n} seeds cannot confirm. ",
            more.join("; ")
        );
    }
    if !d_wins.is_empty() {
        let _ = write!(
            s,
            "Global pooling (d) is ahead of soft attention (a) at {}, by more than the spread. ",
            share_list(&d_wins)
        );
    }
    // The oracle: what a perfect mask gives.
    if shares.iter().all(|&f| mean("oracle", f).is_some()) {
        let e_wins = where_(results, seeds, "oracle", "none", Verdict::Ahead);
        // Shares where the oracle learns the label in more seeds than global pooling.
        let steadier: Vec<f64> = shares
            .iter()
            .copied()
            .filter(|&f| learned(results, "oracle", f).0 > learned(results, "none", f).0)
            .collect();
        if e_wins.is_empty() && steadier.is_empty() {
            let _ = write!(
                s,
                "Even the reference mask (e, the oracle) does not beat global pooling at any share ({}), nor does it learn the label in more seeds: pooling with the lesion's exact mask gives this classifier nothing that global pooling lacks in these runs, so no learned mask could either. ",
                acc_line("oracle", "none")
            );
        } else if e_wins.is_empty() {
            let counts: Vec<String> = steadier
                .iter()
                .map(|&f| {
                    let (e, n) = learned(results, "oracle", f);
                    let (d, _) = learned(results, "none", f);
                    format!("{}: {e} of {n} seeds against {d}", pct(f))
                })
                .collect();
            let _ = write!(
                s,
                "By the paired criterion the reference mask (e, the oracle) does not beat global pooling at any share either ({}), but it learns the label in more seeds ({}): a perfect mask makes it likelier that training takes off, while a run of global pooling that does take off classifies about as well. ",
                acc_line("oracle", "none"),
                counts.join("; ")
            );
        } else {
            let _ = write!(
                s,
                "With the reference mask (e, the oracle) the classifier beats global pooling at {} ({}): a perfect mask does carry information that global pooling loses there. ",
                share_list(&e_wins),
                acc_line("oracle", "none")
            );
            let short = where_(results, seeds, "oracle", "soft", Verdict::Ahead);
            let missed: Vec<f64> = e_wins
                .iter()
                .copied()
                .filter(|f| !a_wins.contains(f))
                .collect();
            if !missed.is_empty() {
                let _ = write!(
                    s,
                    "The learned soft mask does not turn that into a win at {}{}: the gap is in learning the mask and the classifier together, not in what a mask can give. ",
                    share_list(&missed),
                    if short.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (the oracle is ahead of (a) by more than the spread at {})",
                            share_list(&short)
                        )
                    }
                );
            }
        }
    }
    // (a) against (c): the gradient through the mask itself; (a) against (b).
    for (y, what) in [
        (
            "hard",
            "Soft (a) against hard (c) isolates the gradient through the differentiable mask itself, since both let the classifier's loss train the features",
        ),
        (
            "detached",
            "Soft (a) against detached (b) asks whether the classifier's loss should reach the segmenter at all",
        ),
    ] {
        let ahead = where_(results, seeds, "soft", y, Verdict::Ahead);
        let behind = where_(results, seeds, "soft", y, Verdict::Behind);
        let _ = write!(s, "{what}: ");
        if ahead.is_empty() && behind.is_empty() {
            let _ = write!(
                s,
                "the paired differences are within the spread at every share ({}), so no effect can be claimed. ",
                acc_line("soft", y)
            );
        } else {
            let mut parts = vec![];
            if !ahead.is_empty() {
                parts.push(format!("(a) is ahead at {}", share_list(&ahead)));
            }
            if !behind.is_empty() {
                parts.push(format!("{y} is ahead at {}", share_list(&behind)));
            }
            let _ = write!(
                s,
                "{} ({}){}. ",
                parts.join(" and "),
                acc_line("soft", y),
                if ahead.len() + behind.len() < shares.len() {
                    "; elsewhere the difference is within the spread"
                } else {
                    ""
                }
            );
        }
    }
    // How often each mode learns at all.
    let per_share: Vec<String> = shares
        .iter()
        .map(|&f| {
            let counts: Vec<String> = ["soft", "detached", "hard", "none", "oracle"]
                .iter()
                .map(|m| {
                    let (k, n) = learned(results, m, f);
                    format!("{k}/{n}")
                })
                .collect();
            format!("{}: {}", pct(f), counts.join(", "))
        })
        .collect();
    let _ = write!(
        s,
        "Runs that learned the label (held-out accuracy at least {LEARNED}), for (a) soft, (b) detached, (c) hard, (d) none and (e) oracle: {}. ",
        per_share.join("; ")
    );
    // Where nothing that learns its mask learns the label.
    let stuck: Vec<f64> = shares
        .iter()
        .copied()
        .filter(|&f| {
            ["soft", "detached", "hard", "none"]
                .iter()
                .all(|m| learned(results, m, f).0 == 0)
        })
        .collect();
    if !stuck.is_empty() {
        let _ = write!(
            s,
            "At {} no run of (a)-(d) reaches {LEARNED} held-out accuracy: within this training budget the label is not learned there at all, with or without a mask, and a tie at chance says nothing about attention. ",
            share_list(&stuck)
        );
    }
    let _ = write!(
        s,
        "{n} seeds per mode and share on one synthetic scene are a small sample: the verdicts above count a difference only where its mean over the seeds exceeds its seed-to-seed spread, and the counts of runs that learned show what the means hide: whether training takes off at all."
    );
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

    fn run(mode: &str, share: f64, seed: u64, acc: f64) -> RunResult {
        RunResult {
            mode: mode.into(),
            share,
            seed,
            test_accuracy: Some(acc),
            test_auc: None,
            test_dice: None,
            attention_in_lesion: None,
            correct: vec![],
            wrong: vec![],
            best_epoch: None,
            train_seconds: 0.0,
            history: vec![],
        }
    }

    /// A difference counts only where its mean exceeds its spread, with two seeds at least.
    #[test]
    fn paired_differences_decide_only_beyond_the_spread() {
        let seeds = [1, 2, 3];
        let mut results = vec![];
        for (seed, a, d, c) in [(1, 0.9, 0.6, 0.9), (2, 0.8, 0.7, 0.5), (3, 0.95, 0.5, 0.95)] {
            results.push(run("soft", 0.1, seed, a));
            results.push(run("none", 0.1, seed, d));
            results.push(run("hard", 0.1, seed, c));
        }
        let p = paired(&results, 0.1, &seeds, "soft", "none").unwrap();
        assert_eq!(p.verdict, Verdict::Ahead);
        assert!((p.mean - 0.2833).abs() < 1e-3);
        assert_eq!(
            paired(&results, 0.1, &seeds, "none", "soft")
                .unwrap()
                .verdict,
            Verdict::Behind
        );
        // (a) - (c) = 0, +0.3, 0: mean 0.1, sd 0.17.
        assert_eq!(
            paired(&results, 0.1, &seeds, "soft", "hard")
                .unwrap()
                .verdict,
            Verdict::Level
        );
        // Positive in every seed but smaller than the spread; one seed decides nothing.
        let spread = [
            run("soft", 0.2, 1, 0.51),
            run("none", 0.2, 1, 0.5),
            run("soft", 0.2, 2, 0.9),
            run("none", 0.2, 2, 0.5),
        ];
        assert_eq!(
            paired(&spread, 0.2, &[1, 2], "soft", "none")
                .unwrap()
                .verdict,
            Verdict::Level
        );
        assert_eq!(
            paired(&spread, 0.2, &[1], "soft", "none").unwrap().verdict,
            Verdict::Level
        );
        assert!(paired(&results, 0.3, &seeds, "soft", "none").is_none());
        let text = conclusion(&results, &seeds, false);
        assert!(
            text.contains("beats global pooling (d) at lesion share 10 %"),
            "{text}"
        );
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
