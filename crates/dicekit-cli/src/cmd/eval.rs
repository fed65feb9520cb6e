//! `dicekit eval`: metrics of predicted against reference label maps ([`dicekit_eval`]).
use std::process::ExitCode;

use dicekit_eval::{EvalOptions, SpacingSource, evaluate_files};
use dicekit_metrics::Convention;
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{EvalArgs, Format, SpacingFrom};

/// Runs `dicekit eval`; bad input prints one line per problem and exits 2.
pub fn run(args: EvalArgs) -> ExitCode {
    let options = EvalOptions {
        spacing: args.spacing,
        spacing_from: args.spacing_from.map(|s| match s {
            SpacingFrom::Truth => SpacingSource::Truth,
            SpacingFrom::Pred => SpacingSource::Pred,
        }),
        labels: args.labels,
        convention: Convention::from(args.convention),
        tolerance: args.tolerance,
        cl_dice: args.cl_dice,
    };
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {elapsed} elapsed, ETA {eta}")
            .expect("template"),
    );
    let evaluation = evaluate_files(&args.pred, &args.truth, &options, |done, total| {
        if done == 0 && total > 1 {
            bar.set_length(total as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let evaluation = match evaluation {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Nothing was evaluated: the errors alone, no empty table.
    if !evaluation.results.is_empty() {
        let text = match args.format {
            Format::Table => Ok(evaluation.table()),
            Format::Json => serde_json::to_string_pretty(&evaluation.json_rows())
                .map(|t| t + "\n")
                .map_err(|e| e.to_string()),
            Format::Csv => evaluation.csv_rows().map_err(|e| e.to_string()),
        };
        match text {
            Ok(t) => print!("{t}"),
            Err(e) => {
                // A bug, not bad input.
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let failures = &evaluation.failures;
    for f in failures {
        eprintln!("error: {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        if !evaluation.results.is_empty() {
            eprintln!(
                "error: {} of {} cases failed (listed above)",
                failures.len(),
                failures.len() + evaluation.results.len()
            );
        }
        ExitCode::from(2)
    }
}
