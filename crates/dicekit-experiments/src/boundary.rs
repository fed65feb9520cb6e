//! `dicekit experiment boundary`: does weighting the loss near vessel boundaries help?
//!
//! CHASE_DB1 vessels, Dice + cross-entropy with and without the boundary weight map
//! `w = 1 + 4 exp(-d^2 / (2 * 1.5^2))` (d: distance to the nearest label boundary, in pixels).
//! Scored on the validation images with the last checkpoint: Dice, HD95 and NSD at 1 px.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dicekit_metrics::{ConfusionCounts, Convention, MetricKind, evaluate_label_maps};
use dicekit_plot::{LineChart, Series};
use dicekit_train::Case;
use serde::{Deserialize, Serialize};

use crate::ExperimentOptions;
use crate::chase::{ChaseSetup, last_model, validation_cases, vessel_counts};
use crate::runner::{self, fmt};
use crate::stats::{fmt_mean_sd, mean_sd};

const LOSS: &str = r#"loss = "composite"
terms = [
  { name = "dice", weight = 1.0, loss = { loss = "overlap", classes = "exclude_background", pooling = "batch" } },
  { name = "ce", weight = 1.0, loss = { loss = "cross_entropy" } },
]"#;

/// The variants: name, extra `[data]` line, description.
const VARIANTS: [(&str, &str, &str); 2] = [
    ("plain", "", "every pixel weighs 1"),
    (
        "boundary",
        r#"weight_map = { kind = "boundary", band_weight = 5.0, profile = { gaussian = { sigma = 1.5 } } }"#,
        "w = 1 + 4 exp(-d^2 / (2 * 1.5^2)) around every label boundary, multiplying each pixel's terms of both losses",
    ),
];

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
    let setup = ChaseSetup::new(args.quick);
    let out = runner::out_dir(args, "boundary")?;
    let seeds: Vec<u64> = (1..=args.seeds as u64).collect();
    let title = "dicekit experiment boundary";
    let val = validation_cases(&setup.config(title, LOSS, false, "", 1, &out.join("probe")))
        .map_err(|e| {
            format!(
                "chase_db1 is needed (set DICEKIT_DATA_ROOT to the folder holding chase_db1/): {e}"
            )
        })?;
    let clock = runner::Clock::start(VARIANTS.len() * seeds.len());
    let mut results = vec![];
    for (n, &seed) in seeds.iter().enumerate() {
        for (v, (name, extra, _)) in VARIANTS.iter().enumerate() {
            let k = n * VARIANTS.len() + v + 1;
            let dir = out.join("runs").join(format!("{name}_seed{seed}"));
            let text = setup.config(&format!("{title}: {name}"), LOSS, false, extra, seed, &dir);
            let r = runner::train_or_reuse(&dir, &text, |f| evaluate(f, name, seed, &val))?;
            println!(
                "{} {name:<8} seed {seed}: Dice {}, HD95 {}, NSD {} ({:.0} s; about {:.0} s left)",
                clock.step(k),
                fmt(r.dice),
                fmt(r.hd95_mean),
                fmt(r.nsd_mean),
                r.train_seconds,
                clock.left(k)
            );
            results.push(r);
        }
    }
    write_plot(&out, &results, &seeds)?;
    let json = serde_json::json!({
        "experiment": "boundary",
        "quick": args.quick,
        "setup": setup,
        "loss": LOSS,
        "variants": VARIANTS.iter().map(|(n, e, w)| serde_json::json!({"name": n, "data": e, "what": w})).collect::<Vec<_>>(),
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

fn evaluate(
    f: &runner::Finished,
    variant: &str,
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
        variant: variant.into(),
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
/// for the Dice and for the NSD.
fn verdict_sentence(dice: (usize, usize), nsd: (usize, usize)) -> &'static str {
    let all = |(wins, k): (usize, usize)| k > 0 && wins == k;
    let none = |(wins, k): (usize, usize)| k > 0 && wins == 0;
    if dice.1 == 0 || nsd.1 == 0 {
        "No seed has both variants scored, so there is nothing to compare."
    } else if none(dice) && all(nsd) {
        "In every seed the weights traded overlap for boundary agreement: the Dice fell and the NSD rose. The essay's case for boundary weights holds for the contour (NSD), not for the overlap score that the Dice loss itself optimises."
    } else if all(dice) && all(nsd) {
        "In every seed the weights improved both the overlap and the contour, as the essay claims."
    } else if none(dice) && none(nsd) {
        "In every seed the weights made both the overlap and the contour worse: the essay's claim that boundary weights help thin structures does not hold here."
    } else {
        "The seeds disagree on at least one of Dice and NSD, so this run does not settle the essay's claim that boundary weights help thin structures."
    }
}

fn write_plot(out: &Path, results: &[RunResult], seeds: &[u64]) -> Result<(), String> {
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
            let points = VARIANTS
                .iter()
                .enumerate()
                .map(|(i, (v, _, _))| {
                    let x = results
                        .iter()
                        .find(|r| r.variant == *v && r.seed == seed)
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

fn report_md(
    setup: &ChaseSetup,
    results: &[RunResult],
    seeds: &[u64],
    args: &ExperimentOptions,
    seconds: f64,
) -> String {
    let mut s = runner::header(
        args,
        "boundary",
        "boundary weight map on CHASE_DB1 vessels",
        seconds,
    );
    let _ = writeln!(s, "## Setup\n");
    let _ = writeln!(
        s,
        "- Data: CHASE_DB1 (retinal vessels, about 7 % of the pixels), {} training and {} validation images{}. The validation images are scored with the last checkpoint (no test split exists; no choice is made on them).",
        if setup.limit_train == 0 {
            16
        } else {
            setup.limit_train
        },
        if setup.limit_val == 0 {
            4
        } else {
            setup.limit_val
        },
        setup
            .resize
            .map_or(String::new(), |r| format!(", resampled to {r}x{r}"))
    );
    let _ = writeln!(
        s,
        "- Training: U-Net (depth {}, {} base channels, instance norm), Dice (vessel, batch-pooled) + cross-entropy, patches {2}x{2}, batch {3}, Adam lr {4}, poly schedule, {5} epochs of {6} steps.",
        setup.depth,
        setup.base_channels,
        setup.patch,
        setup.batch_size,
        setup.lr,
        setup.epochs,
        setup.iterations_per_epoch
    );
    for (n, _, w) in VARIANTS {
        let _ = writeln!(s, "- `{n}`: {w}.");
    }
    let _ = writeln!(
        s,
        "- Metrics: Dice of the summed counts, and the means over images of Dice, HD95 and NSD at 1 px (MONAI conventions, pixel spacing 1). Seeds {seeds:?}.\n"
    );
    let _ = writeln!(s, "## Results (mean ± sd over seeds)\n");
    let _ = writeln!(
        s,
        "| variant | Dice (summed) | Dice (mean of images) | HD95 (px) | NSD at 1 px |\n|---|---|---|---|---|"
    );
    for (v, _, _) in VARIANTS {
        let _ = writeln!(
            s,
            "| {v} | {} | {} | {} | {} |",
            fmt_mean_sd(&values(results, v, |r| r.dice), 3),
            fmt_mean_sd(&values(results, v, |r| r.dice_mean), 3),
            fmt_mean_sd(&values(results, v, |r| r.hd95_mean), 2),
            fmt_mean_sd(&values(results, v, |r| r.nsd_mean), 3),
        );
    }
    let _ = writeln!(s, "\n## What this shows\n");
    if args.quick {
        let _ = writeln!(
            s,
            "This is the `--quick` variant that exercises the code; its numbers say nothing about the question.\n"
        );
    }
    let m = |v: &str, f: Getter| mean_sd(&values(results, v, f));
    let mut para = vec![];
    let mut verdicts = vec![];
    for (name, f, higher) in [
        ("Dice", (|r| r.dice) as Getter, true),
        ("HD95", |r| r.hd95_mean, false),
        ("NSD", |r| r.nsd_mean, true),
    ] {
        if let (Some(a), Some(b)) = (m("plain", f), m("boundary", f)) {
            let better = if higher { b.0 > a.0 } else { b.0 < a.0 };
            let within = (b.0 - a.0).abs() <= a.1.max(b.1);
            // The same seed draws the same patches and initial weights for both variants, so
            // the per-seed differences are paired.
            let diffs = paired_differences(results, seeds, f);
            let wins = diffs
                .iter()
                .filter(|d| if higher { **d > 0.0 } else { **d < 0.0 })
                .count();
            para.push(format!(
                "{name}: {:.3} plain, {:.3} with the boundary weights ({}; per seed the weights change it by {}, better in {wins} of {} seeds).",
                a.0,
                b.0,
                if within {
                    "within the seed-to-seed spread"
                } else if better {
                    "better with the weights"
                } else {
                    "worse with the weights"
                },
                diffs
                    .iter()
                    .map(|d| format!("{d:+.3}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                diffs.len()
            ));
            verdicts.push((name, wins, diffs.len()));
        }
    }
    let _ = writeln!(s, "{}\n", para.join(" "));
    let verdict = |name: &str| {
        verdicts
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(_, wins, k)| (wins, k))
    };
    if let (Some(dice), Some(nsd)) = (verdict("Dice"), verdict("NSD")) {
        let _ = writeln!(s, "{}\n", verdict_sentence(dice, nsd));
    }
    let _ = writeln!(
        s,
        "## Plots\n\n![dice](dice.png)\n\n![hd95](hd95.png)\n\n![nsd](nsd.png)\n"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::verdict_sentence;

    #[test]
    fn the_verdict_follows_the_seeds() {
        assert!(verdict_sentence((0, 3), (3, 3)).contains("traded overlap"));
        assert!(verdict_sentence((3, 3), (3, 3)).contains("as the essay claims"));
        assert!(verdict_sentence((0, 3), (0, 3)).contains("does not hold"));
        assert!(verdict_sentence((0, 0), (0, 0)).contains("nothing to compare"));
        for (dice, nsd) in [((1, 3), (3, 3)), ((0, 3), (2, 3)), ((3, 3), (0, 3))] {
            assert!(
                verdict_sentence(dice, nsd).contains("seeds disagree"),
                "{dice:?} {nsd:?}"
            );
        }
    }
}
