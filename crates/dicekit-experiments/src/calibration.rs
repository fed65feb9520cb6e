//! `dicekit experiment calibration`: what does the Dice share of `alpha BCE + (1 - alpha) Dice`
//! do to the probabilities?
//!
//! CHASE_DB1 vessels with one sigmoid channel and alpha in {0, 0.25, 0.5, 0.75, 1} (0 = Dice
//! only, 1 = BCE only). Scored on the validation images with the last checkpoint: Dice, and the
//! calibration of the vessel probability over every pixel (ECE with 15 equal-width bins, MCE,
//! Brier), with reliability diagrams.
//!
//! A third of the training patches are centred on vessels (as in the other CHASE_DB1 runs),
//! which raises the vessel prior the network learns; a control trains alpha 0 and 1 with
//! uniform patches, so the report can tell the loss's effect on calibration from the sampling's.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_metrics::{
    Binning, ConfusionCounts, EdgeRule, ReliabilityBin, brier_score, expected_calibration_error,
    maximum_calibration_error, reliability_bins,
};
use dicekit_plot::{LineChart, Series};
use dicekit_train::Case;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ExperimentOptions;
use crate::chase::{last_model, validation_of, vessel_counts};
use crate::runner::{self, fmt};
use crate::spec::{Files, Spec, Variant, experiment_files};
use crate::stats::{distinct_seeds, fmt_mean_sd, in_seeds, mean_sd};

/// The alpha of a variant (its `alpha` parameter).
fn alpha_of(v: &Variant) -> Result<f64, String> {
    v.params
        .get("alpha")
        .and_then(serde_json::Value::as_str)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("variant {}: no alpha", v.name))
}

/// The alphas of `variants`.
fn alphas(variants: &[Variant]) -> Result<Vec<f64>, String> {
    variants.iter().map(alpha_of).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunResult {
    alpha: f64,
    seed: u64,
    /// Dice of the counts summed over the validation images.
    dice: Option<f64>,
    /// Calibration of the vessel probability over every validation pixel.
    ece: f64,
    mce: f64,
    brier: f64,
    bins: Vec<ReliabilityBin>,
    train_seconds: f64,
}

pub fn run(args: &ExperimentOptions) -> Result<PathBuf, String> {
    let grid = runner::Grid::new(experiment_files!("calibration"), args)?;
    let runner::Grid {
        spec,
        setup,
        seeds,
        out,
        ..
    } = &grid;
    let bins = Spec::setup_u64(setup, "bins")? as usize;
    let val = validation_of(&grid)?;
    let clock = runner::Clock::start((spec.variants.len() + spec.controls.len()) * seeds.len());
    let score =
        |f: &runner::Finished, v: &Variant, seed: u64| evaluate(f, alpha_of(v)?, seed, &val, bins);
    let line = |r: &RunResult| {
        format!(
            "Dice {}, ECE {:.4}, Brier {:.4}",
            fmt(r.dice),
            r.ece,
            r.brier
        )
    };
    let results = grid.run(&spec.variants, &clock, 0, score, line)?;
    // The control trains with uniform patches, the rest unchanged.
    let controls = grid.run(
        &spec.controls,
        &clock,
        spec.variants.len() * seeds.len(),
        score,
        line,
    )?;
    let alphas = alphas(&spec.variants)?;
    write_plots(out, &alphas, &results, seeds)?;
    let json = serde_json::json!({
        "experiment": "calibration",
        "quick": args.quick,
        "setup": setup,
        "alphas": alphas,
        "bins": bins,
        "seeds": seeds,
        "runs": results,
        "uniform_patch_control": controls,
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
    let parse = |key: &str| {
        serde_json::from_value::<Vec<RunResult>>(json[key].clone())
            .map_err(|e| format!("results.json {key}: {e}"))
    };
    let (results, controls) = (parse("runs")?, parse("uniform_patch_control")?);
    let seeds: Vec<u64> = serde_json::from_value(json["seeds"].clone())
        .map_err(|e| format!("results.json seeds: {e}"))?;
    let alphas = alphas(&spec.variants)?;
    let control_alphas = alphas_of_controls(spec)?;
    let mut rows = vec![];
    for &a in &alphas {
        rows.push(table_row(&a.to_string(), &results, a));
    }
    let mut control_rows = vec![];
    for &a in &control_alphas {
        control_rows.push(table_row(&format!("{a}, a third on vessels"), &results, a));
        control_rows.push(table_row(&format!("{a}, uniform"), &controls, a));
    }
    let mut findings = vec![verdict(&alphas, &results)];
    for sentence in [
        bias_sentence(&alphas, &results),
        ece_parts_sentence(&results),
    ] {
        if !sentence.is_empty() {
            findings.push(sentence);
        }
    }
    findings.push(control_sentence(&control_alphas, &results, &controls));
    let seconds = json["seconds"].as_f64().unwrap_or(0.0);
    let context = serde_json::json!({
        "header": runner::header(args, "calibration", &spec.title, seconds),
        "quick": args.quick,
        "setup": json["setup"],
        "bins": json["bins"],
        // As Rust writes them (0, not 0.0): the plots' file names.
        "alphas": alphas.iter().map(f64::to_string).collect::<Vec<_>>(),
        "alphas_text": format!("{alphas:?}"),
        "control_alphas_text": format!("{control_alphas:?}"),
        "seeds_text": format!("{seeds:?}"),
        "rows": rows,
        "control_rows": control_rows,
        "findings": findings,
    });
    files.render_report(&context)
}

/// The alphas of the control variants.
fn alphas_of_controls(spec: &Spec) -> Result<Vec<f64>, String> {
    alphas(&spec.controls)
}

fn evaluate(
    f: &runner::Finished,
    alpha: f64,
    seed: u64,
    val: &[Case],
    bins: usize,
) -> Result<RunResult, String> {
    let model = last_model(f)?;
    let mut counts = ConfusionCounts::default();
    let (mut confidence, mut positive) = (vec![], vec![]);
    for c in val {
        let (probs, pred) = model
            .predict(&c.image)
            .map_err(|e| format!("{}: {e}", c.name))?;
        counts += vessel_counts(&pred, &c.mask);
        for (&p, &t) in probs.iter().zip(c.mask.iter()) {
            confidence.push((p as f64).clamp(0.0, 1.0));
            positive.push(t == 1);
        }
    }
    let bins = reliability_bins(
        &confidence,
        &positive,
        bins,
        Binning::EqualWidth,
        EdgeRule::RightClosed,
    )
    .map_err(|e| e.to_string())?;
    Ok(RunResult {
        alpha,
        seed,
        dice: counts.dice().value(),
        ece: expected_calibration_error(&bins),
        mce: maximum_calibration_error(&bins),
        brier: brier_score(&confidence, &positive).map_err(|e| e.to_string())?,
        bins,
        train_seconds: f.seconds,
    })
}

impl RunResult {
    /// Share of the pixels outside the first and the last reliability bin: probabilities
    /// between 1/15 and 14/15, the model neither sure of background nor of vessel.
    fn uncertain_share(&self) -> Option<f64> {
        let total: u64 = self.bins.iter().map(|b| b.count).sum();
        let (first, last) = (self.bins.first()?, self.bins.last()?);
        (total > 0).then(|| 1.0 - (first.count + last.count) as f64 / total as f64)
    }

    /// Mean vessel probability and vessel share over every pixel, `(Σ n_b conf_b / N,
    /// Σ n_b acc_b / N)`: the first above the second means vessels are over-predicted.
    fn mean_probability_and_share(&self) -> Option<(f64, f64)> {
        let total: u64 = self.bins.iter().map(|b| b.count).sum();
        let sum = |f: fn(&ReliabilityBin) -> Option<f64>| {
            self.bins
                .iter()
                .map(|b| b.count as f64 * f(b).unwrap_or(0.0))
                .sum::<f64>()
        };
        (total > 0).then(|| {
            (
                sum(|b| b.confidence) / total as f64,
                sum(|b| b.accuracy) / total as f64,
            )
        })
    }
}

/// The ECE split by where the probability lies: `(Σ_{b: conf_b < 1/2} n_b |conf_b − acc_b| / N,
/// Σ_{b: conf_b ≥ 1/2} ...)`. The first part is probability left on pixels called background,
/// the second vessel calls more (or less) confident than they are right; they add up to the ECE.
fn ece_parts(bins: &[ReliabilityBin]) -> Option<(f64, f64)> {
    let total: u64 = bins.iter().map(|b| b.count).sum();
    if total == 0 {
        return None;
    }
    let (mut low, mut high) = (0.0, 0.0);
    for b in bins {
        if let (Some(c), Some(a)) = (b.confidence, b.accuracy) {
            let gap = b.count as f64 * (c - a).abs() / total as f64;
            if c < 0.5 { low += gap } else { high += gap }
        }
    }
    Some((low, high))
}

/// Where the ECE of Dice only and BCE only comes from ([`ece_parts`]), and in how many seeds
/// Dice only has the larger part from vessel calls (p ≥ 1/2), the over-confidence the essay
/// describes.
fn ece_parts_sentence(results: &[RunResult]) -> String {
    let mean = |a: f64, part: fn(&RunResult) -> Option<f64>| {
        mean_sd(&values(results, a, part)).map(|m| m.0)
    };
    let low: fn(&RunResult) -> Option<f64> = |r| ece_parts(&r.bins).map(|p| p.0);
    let high: fn(&RunResult) -> Option<f64> = |r| ece_parts(&r.bins).map(|p| p.1);
    let (Some(dl), Some(dh), Some(bl), Some(bh)) = (
        mean(0.0, low),
        mean(0.0, high),
        mean(1.0, low),
        mean(1.0, high),
    ) else {
        return String::new();
    };
    let mut s = format!(
        "Where the ECE comes from: Dice only {dl:.3} from probabilities below 1/2 (probability left on pixels called background) and {dh:.3} from vessel calls (p ≥ 1/2); BCE only {bl:.3} and {bh:.3}."
    );
    let (more, compared) = seeds_where(results, high, |dice, bce| dice > bce);
    if compared > 0 {
        let _ = write!(
            s,
            " Dice only is the more miscalibrated in its vessel calls {}{}",
            in_seeds(more, compared),
            if more == compared && dl < bl {
                ": the over-confidence the essay describes is there, and ECE hides it because BCE only leaves more probability on the background."
            } else if more == compared {
                ": the over-confidence the essay describes is there."
            } else {
                "."
            }
        );
    }
    s
}

/// Which alphas over-predict vessels on average in every seed (mean probability above the
/// vessel share), as a sentence; when every run does, also in how many runs the whole ECE is that
/// shift. `ECE = Σ_b n_b |conf_b − acc_b| / N ≥ |mean p − share|`, with equality exactly when no
/// bin under-predicts.
fn bias_sentence(alphas: &[f64], results: &[RunResult]) -> String {
    let over = |a: f64| {
        let runs: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| r.alpha == a)
            .filter_map(RunResult::mean_probability_and_share)
            .collect();
        !runs.is_empty() && runs.iter().all(|(p, y)| p > y)
    };
    let scored: Vec<f64> = alphas
        .iter()
        .copied()
        .filter(|&a| results.iter().any(|r| r.alpha == a && !r.bins.is_empty()))
        .collect();
    let biased: Vec<f64> = scored.iter().copied().filter(|&a| over(a)).collect();
    if scored.is_empty() {
        return String::new();
    }
    if biased.len() == scored.len() {
        let shifts: Vec<(f64, f64)> = results
            .iter()
            .filter_map(RunResult::mean_probability_and_share)
            .collect();
        let n = shifts.len() as f64;
        let whole = results
            .iter()
            .filter(|r| !r.bins.is_empty() && r.bins.iter().all(|b| b.confidence >= b.accuracy))
            .count();
        format!(
            "Every run over-predicts vessels on average (mean probability {:.3} against a vessel share of {:.4}). In {whole} of {} runs no reliability bin under-predicts, so the ECE is exactly this shift (mean probability minus vessel share): all of it is over-prediction, wherever it lies.",
            shifts.iter().map(|s| s.0).sum::<f64>() / n,
            shifts.iter().map(|s| s.1).sum::<f64>() / n,
            shifts.len()
        )
    } else if biased.is_empty() {
        "No alpha over-predicts vessels on average in every seed.".into()
    } else {
        format!(
            "alpha {} over-predicts vessels on average in every seed (mean probability above the vessel share); the others do not.",
            biased
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// The paragraph of what the runs show, from the numbers: Dice only (alpha 0) against BCE only
/// (alpha 1) seed by seed, then whether some blend gets both the overlap and the calibration
/// (the essay's "dial").
///
/// A blend "gets both" when its mean Dice is within the largest seed-to-seed sd of the Dice of
/// the best mean Dice, and its mean ECE within the largest sd of the ECE of the best mean ECE.
fn verdict(alphas: &[f64], results: &[RunResult]) -> String {
    let by = |alpha: f64, seed: u64| results.iter().find(|r| r.alpha == alpha && r.seed == seed);
    let seeds = distinct_seeds(results.iter().map(|r| r.seed));
    // Seeds in which alpha 0 is worse calibrated / has the higher Dice than alpha 1.
    let (mut compared, mut ece_worse, mut dice_higher, mut sharper) = (0, 0, 0, 0);
    for &seed in &seeds {
        let (Some(d), Some(b)) = (by(0.0, seed), by(1.0, seed)) else {
            continue;
        };
        let (Some(dd), Some(db)) = (d.dice, b.dice) else {
            continue;
        };
        compared += 1;
        ece_worse += usize::from(d.ece > b.ece);
        dice_higher += usize::from(dd > db);
        sharper += usize::from(matches!(
            (d.uncertain_share(), b.uncertain_share()),
            (Some(x), Some(y)) if x < y
        ));
    }
    if compared == 0 {
        return "No seed has both alpha 0 and alpha 1 scored, so there is nothing to compare."
            .into();
    }
    let mut s = String::new();
    let per_seed = |k: usize| in_seeds(k, compared);
    let _ = write!(
        s,
        "Dice only (alpha 0) against BCE only (alpha 1): the Dice-only model is the worse calibrated (higher ECE) {} and has the higher Dice {}. ",
        per_seed(ece_worse),
        per_seed(dice_higher)
    );
    s.push_str(if ece_worse == compared {
        "The essay's claim that BCE gives the better calibrated probabilities holds here. "
    } else if ece_worse == 0 {
        "Against the essay's claim, BCE alone is not the better calibrated here. "
    } else {
        "The seeds disagree on which is the better calibrated, so this run does not settle the essay's calibration claim. "
    });
    let _ = write!(
        s,
        "The Dice-only model is the sharper (fewer pixels with a probability between 1/15 and 14/15) {}{} ",
        per_seed(sharper),
        if sharper == compared {
            ": Dice does push the probabilities towards 0 and 1."
        } else {
            "."
        }
    );
    // The dial: does a blend come close to the best of both?
    // (alpha, Dice mean and sd, ECE mean and sd)
    type Row = (f64, (f64, f64), (f64, f64));
    let summary: Vec<Row> = alphas
        .iter()
        .filter_map(|&a| {
            let dice = mean_sd(&values(results, a, |r| r.dice))?;
            let ece = mean_sd(&values(results, a, |r| Some(r.ece)))?;
            Some((a, dice, ece))
        })
        .collect();
    let tol_dice = summary.iter().map(|x| x.1.1).fold(0.0, f64::max);
    let tol_ece = summary.iter().map(|x| x.2.1).fold(0.0, f64::max);
    let best_dice = summary.iter().map(|x| x.1.0).fold(f64::MIN, f64::max);
    let best_ece = summary.iter().map(|x| x.2.0).fold(f64::MAX, f64::min);
    let both: Vec<String> = summary
        .iter()
        .filter(|(a, d, e)| {
            *a > 0.0 && *a < 1.0 && d.0 >= best_dice - tol_dice && e.0 <= best_ece + tol_ece
        })
        .map(|(a, _, _)| a.to_string())
        .collect();
    let _ = write!(
        s,
        "Best mean Dice {best_dice:.3} (seed sd up to {tol_dice:.3}), best mean ECE {best_ece:.4} (sd up to {tol_ece:.4}). "
    );
    if both.is_empty() {
        s.push_str("No blend comes within one seed-to-seed sd of both bests: here the dial trades one for the other rather than giving both.");
    } else {
        let _ = write!(
            s,
            "alpha {} {} within one seed-to-seed sd of both, as the essay's dial promises.",
            both.join(" and "),
            if both.len() == 1 { "comes" } else { "come" }
        );
    }
    s
}

fn values(results: &[RunResult], alpha: f64, f: fn(&RunResult) -> Option<f64>) -> Vec<f64> {
    results
        .iter()
        .filter(|r| r.alpha == alpha)
        .map(|r| f(r).unwrap_or(f64::NAN))
        .collect()
}

fn write_plots(
    out: &Path,
    alphas: &[f64],
    results: &[RunResult],
    seeds: &[u64],
) -> Result<(), String> {
    // Dice against ECE, one point per run.
    let mut chart = LineChart::new(
        "Dice against ECE of the vessel probability (one point per run)",
        "ECE (15 bins)",
        "Dice",
    );
    for &alpha in alphas {
        let points = results
            .iter()
            .filter(|r| r.alpha == alpha)
            .map(|r| (r.ece, r.dice.unwrap_or(f64::NAN)))
            .collect::<Vec<_>>();
        // One series per alpha, its runs joined in seed order.
        chart = chart.series(
            Series::new(format!("alpha {alpha}"), points)
                .markers()
                .dashed(),
        );
    }
    runner::save_plot(&chart.render(800, 500), &out.join("dice_vs_ece.png"))?;
    // A reliability diagram per alpha, first seed.
    for &alpha in alphas {
        let Some(r) = results
            .iter()
            .find(|r| r.alpha == alpha && r.seed == seeds[0])
        else {
            continue;
        };
        let diagram = dicekit_report::reliability_diagram(
            format!(
                "alpha = {alpha} (alpha BCE + (1 - alpha) Dice), seed {}",
                r.seed
            ),
            &r.bins,
            r.ece,
            r.mce,
            r.brier,
            format!("Dice  {}", fmt(r.dice)),
        );
        runner::save_plot(
            &diagram.render(600, 600),
            &out.join(format!("reliability_alpha{alpha}.png")),
        )?;
    }
    Ok(())
}

/// A row of the results table: `label`, then mean ± sd over the runs of `alpha` in `runs`.
fn table_row(label: &str, runs: &[RunResult], a: f64) -> String {
    format!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        fmt_mean_sd(&values(runs, a, |r| r.dice), 3),
        fmt_mean_sd(&values(runs, a, |r| Some(r.ece)), 4),
        fmt_mean_sd(&values(runs, a, |r| ece_parts(&r.bins).map(|p| p.0)), 4),
        fmt_mean_sd(&values(runs, a, |r| ece_parts(&r.bins).map(|p| p.1)), 4),
        fmt_mean_sd(&values(runs, a, |r| Some(r.mce)), 4),
        fmt_mean_sd(&values(runs, a, |r| Some(r.brier)), 4),
        fmt_mean_sd(
            &values(runs, a, |r| r.uncertain_share().map(|x| 100.0 * x)),
            2
        ) + " %",
        fmt_mean_sd(
            &values(runs, a, |r| r.mean_probability_and_share().map(|x| x.0)),
            4
        ),
        fmt_mean_sd(
            &values(runs, a, |r| r.mean_probability_and_share().map(|x| x.1)),
            4
        ),
    )
}

/// Dice only against BCE only, seed by seed: `(seeds where holds(f(Dice only), f(BCE only)),
/// seeds with both values)`.
fn seeds_where(
    runs: &[RunResult],
    f: impl Fn(&RunResult) -> Option<f64>,
    holds: impl Fn(f64, f64) -> bool,
) -> (usize, usize) {
    let at = |a: f64, seed: u64| {
        runs.iter()
            .find(|r| r.alpha == a && r.seed == seed)
            .and_then(&f)
    };
    let pairs: Vec<bool> = distinct_seeds(runs.iter().map(|r| r.seed))
        .iter()
        .filter_map(|&seed| Some(holds(at(0.0, seed)?, at(1.0, seed)?)))
        .collect();
    (pairs.iter().filter(|&&b| b).count(), pairs.len())
}

/// What the uniform-patch control says: for alpha 0 and 1, the ECE with vessel-centred and
/// with uniform patches; with uniform patches, in how many seeds BCE only is the better
/// calibrated; and whether uniform patches remove the over-prediction (mean probability minus
/// vessel share, averaged over the runs of `control_alphas`): if they leave more than half of
/// it, the vessel-centred patches are not its main cause.
fn control_sentence(
    control_alphas: &[f64],
    results: &[RunResult],
    controls: &[RunResult],
) -> String {
    if controls.is_empty() {
        return "The uniform-patch control has not run.".into();
    }
    let mean =
        |runs: &[RunResult], a: f64| fmt(mean_sd(&values(runs, a, |r| Some(r.ece))).map(|m| m.0));
    let mut s = format!(
        "With uniform patches, ECE {} (Dice only) and {} (BCE only), against {} and {} with vessel-centred patches. ",
        mean(controls, 0.0),
        mean(controls, 1.0),
        mean(results, 0.0),
        mean(results, 1.0)
    );
    let (wins, compared) = seeds_where(controls, |r| Some(r.ece), |dice, bce| bce < dice);
    if compared > 0 {
        let _ = write!(
            s,
            "With uniform patches BCE only is the better calibrated {}{}",
            in_seeds(wins, compared),
            if wins == compared {
                ": with the training prior left alone, the essay's claim holds."
            } else if wins == 0 {
                ": even with the training prior left alone, the essay's claim does not hold here."
            } else {
                "."
            }
        );
    }
    let shift = |runs: &[RunResult]| {
        let d: Vec<f64> = runs
            .iter()
            .filter(|r| control_alphas.contains(&r.alpha))
            .filter_map(RunResult::mean_probability_and_share)
            .map(|(p, y)| p - y)
            .collect();
        (!d.is_empty()).then(|| d.iter().sum::<f64>() / d.len() as f64)
    };
    if let (Some(with), Some(without)) = (shift(results), shift(controls))
        && with > 0.0
    {
        let _ = write!(
            s,
            " Mean probability minus vessel share: {without:.3} with uniform patches against {with:.3} with vessel-centred ones{}",
            if without > 0.5 * with {
                ": uniform patches leave the over-prediction in place, so the vessel-centred patches are not its main cause."
            } else {
                ": uniform patches remove most of the over-prediction, so the vessel-centred patches cause it."
            }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALPHAS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

    /// The spec's alphas are the ones the report was written for.
    #[test]
    fn the_spec_names_the_alphas() {
        let spec = Spec::parse(&experiment_files!("calibration")).unwrap();
        assert_eq!(alphas(&spec.variants).unwrap(), ALPHAS);
        assert_eq!(alphas_of_controls(&spec).unwrap(), [0.0, 1.0]);
    }

    /// The template reproduces the committed report of the full run from its results.json.
    #[test]
    fn the_report_of_the_full_run_is_reproduced_from_its_results() {
        let (got, want) = crate::spec::committed_report(
            "calibration",
            experiment_files!("calibration"),
            report_md,
        );
        assert_eq!(got, want);
    }

    /// A reliability bin of `count` pixels with mean probability `conf` and vessel share `acc`.
    fn bin(count: u64, conf: f64, acc: f64) -> ReliabilityBin {
        ReliabilityBin {
            lower: 0.0,
            upper: 0.0,
            count,
            confidence: Some(conf),
            accuracy: Some(acc),
        }
    }

    fn run(alpha: f64, seed: u64, dice: f64, ece: f64) -> RunResult {
        RunResult {
            alpha,
            seed,
            dice: Some(dice),
            ece,
            mce: 0.0,
            brier: 0.0,
            bins: vec![],
            train_seconds: 0.0,
        }
    }

    #[test]
    fn verdict_reads_the_seeds_and_the_dial() {
        // Dice-only sharper but worse calibrated in every seed; alpha 0.5 close to both bests.
        let mut r = vec![];
        for seed in 1..=3 {
            let j = seed as f64 * 0.001;
            r.push(run(0.0, seed, 0.70 + j, 0.10 + j));
            r.push(run(0.5, seed, 0.699 + j, 0.0205 + j));
            r.push(run(1.0, seed, 0.60 + j, 0.020 + j));
        }
        let v = verdict(&ALPHAS, &r);
        assert!(
            v.contains("worse calibrated (higher ECE) in every seed (3)"),
            "{v}"
        );
        assert!(v.contains("higher Dice in every seed (3)"), "{v}");
        assert!(v.contains("claim that BCE gives the better calibrated probabilities holds"));
        assert!(v.contains("alpha 0.5 comes within"), "{v}");
        assert!(
            v.contains(
                "sharper (fewer pixels with a probability between 1/15 and 14/15) in no seed."
            ),
            "{v}"
        );
        // Move the blend away from the best Dice: no blend gets both.
        for x in r.iter_mut().filter(|x| x.alpha == 0.5) {
            x.dice = Some(0.65);
        }
        assert!(verdict(&ALPHAS, &r).contains("No blend comes within"));
        // Seeds disagree on calibration.
        r[0].ece = 0.0;
        assert!(verdict(&ALPHAS, &r).contains("in 2 of 3 seeds"));
        assert!(verdict(&ALPHAS, &r).contains("does not settle"));
        // Nothing to compare.
        let v = verdict(&ALPHAS, &[run(0.0, 1, 0.7, 0.1)]);
        assert!(v.starts_with("No seed has both"));
    }

    #[test]
    fn mean_probability_against_share_tells_the_bias() {
        let mut r = vec![run(0.0, 1, 0.5, 0.1), run(1.0, 1, 0.5, 0.1)];
        assert_eq!(bias_sentence(&ALPHAS, &r), "");
        // 3 pixels at p 0.1 (none vessel), 1 at p 0.9 (vessel): mean p 0.3, share 0.25.
        for x in &mut r {
            x.bins = vec![bin(3, 0.1, 0.0), bin(1, 0.9, 1.0)];
        }
        let (p, y) = r[0].mean_probability_and_share().unwrap();
        assert!((p - 0.3).abs() < 1e-12 && (y - 0.25).abs() < 1e-12);
        let b = bias_sentence(&ALPHAS, &r);
        assert!(b.starts_with("Every run over-predicts"), "{b}");
        assert!(
            b.contains("(mean probability 0.300 against a vessel share of 0.2500)"),
            "{b}"
        );
        // The vessel bin under-predicts (0.9 against 1): ECE is more than the shift.
        assert!(
            b.contains("In 0 of 2 runs no reliability bin under-predicts"),
            "{b}"
        );
        let mut sure = r.clone();
        for x in &mut sure {
            x.bins = vec![bin(3, 0.1, 0.0), bin(1, 1.0, 1.0)];
        }
        let b = bias_sentence(&ALPHAS, &sure);
        assert!(
            b.contains("In 2 of 2 runs no reliability bin under-predicts"),
            "{b}"
        );
        r[1].bins = vec![bin(3, 0.0, 0.0), bin(1, 0.9, 1.0)];
        assert!(bias_sentence(&ALPHAS, &r).starts_with("alpha 0 over-predicts"));
        r[0].bins = r[1].bins.clone();
        assert!(bias_sentence(&ALPHAS, &r).starts_with("No alpha"));
    }

    #[test]
    fn ece_parts_add_up_and_tell_where_the_gap_is() {
        assert_eq!(ece_parts(&[]), None);
        // 3 px at p 0.1 with no vessel (gap 0.1), 1 px at p 0.9 all vessel (gap 0.1).
        let bins = [bin(3, 0.1, 0.0), bin(1, 0.9, 1.0)];
        let (low, high) = ece_parts(&bins).unwrap();
        assert!((low - 0.075).abs() < 1e-12 && (high - 0.025).abs() < 1e-12);
        assert!((low + high - expected_calibration_error(&bins)).abs() < 1e-12);
        // Dice only: sure vessel calls, half wrong; BCE only: a floor on the background.
        let mut r = vec![run(0.0, 1, 0.7, 0.1), run(1.0, 1, 0.7, 0.1)];
        assert_eq!(ece_parts_sentence(&r), "");
        r[0].bins = vec![bin(8, 0.02, 0.0), bin(2, 0.99, 0.5)];
        r[1].bins = vec![bin(8, 0.10, 0.0), bin(2, 0.80, 0.9)];
        let s = ece_parts_sentence(&r);
        assert!(
            s.contains("Dice only 0.016 from probabilities below 1/2"),
            "{s}"
        );
        assert!(s.contains("and 0.098 from vessel calls"), "{s}");
        assert!(s.contains("BCE only 0.080 and 0.020."), "{s}");
        assert!(
            s.contains("ECE hides it because BCE only leaves more"),
            "{s}"
        );
        // Without BCE's background floor, only the over-confidence is left to say.
        r[1].bins = vec![bin(8, 0.01, 0.0), bin(2, 0.80, 0.9)];
        let s = ece_parts_sentence(&r);
        assert!(
            s.ends_with("in every seed (1): the over-confidence the essay describes is there."),
            "{s}"
        );
        r[0].bins = r[1].bins.clone();
        assert!(ece_parts_sentence(&r).ends_with("in no seed."));
    }

    #[test]
    fn control_sentence_compares_the_sampling() {
        assert!(control_sentence(&[0.0, 1.0], &[], &[]).contains("has not run"));
        let results = [run(0.0, 1, 0.7, 0.10), run(1.0, 1, 0.7, 0.09)];
        let controls = [
            run(0.0, 1, 0.6, 0.05),
            run(1.0, 1, 0.6, 0.01),
            run(0.0, 2, 0.6, 0.04),
            run(1.0, 2, 0.6, 0.02),
        ];
        let c = control_sentence(&[0.0, 1.0], &results, &controls);
        assert!(
            c.contains("ECE 0.045 (Dice only) and 0.015 (BCE only), against 0.100 and 0.090"),
            "{c}"
        );
        assert!(
            c.contains("better calibrated in every seed (2): with the training prior left alone"),
            "{c}"
        );
        assert!(
            !c.contains("Mean probability minus"),
            "no bins, no shift: {c}"
        );
        // Shift 0.1 with vessel-centred patches; 0.08 (kept) or 0.02 (removed) without.
        let with_bins = |runs: &[RunResult], p: f64| {
            let mut runs = runs.to_vec();
            for x in &mut runs {
                x.bins = vec![bin(1, p, 0.0), bin(1, 1.0, 1.0)];
            }
            runs
        };
        let results = with_bins(&results, 0.2);
        let c = control_sentence(&[0.0, 1.0], &results, &with_bins(&controls, 0.16));
        assert!(
            c.contains("0.080 with uniform patches against 0.100 with vessel-centred ones: uniform patches leave"),
            "{c}"
        );
        let c = control_sentence(&[0.0, 1.0], &results, &with_bins(&controls, 0.04));
        assert!(c.contains("0.020 with uniform"), "{c}");
        assert!(c.contains("remove most of the over-prediction"), "{c}");
    }

    #[test]
    fn uncertain_share_counts_the_middle_bins() {
        let mut r = run(0.0, 1, 0.5, 0.1);
        assert_eq!(r.uncertain_share(), None);
        // Only the counts matter.
        r.bins = [6, 1, 1, 2].map(|n| bin(n, 0.5, 0.5)).to_vec();
        assert!((r.uncertain_share().unwrap() - 0.2).abs() < 1e-12);
    }
}
