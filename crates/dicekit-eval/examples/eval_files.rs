//! `dicekit eval --pred P --truth T --format json --tolerance 1` without the CLI (no burn to
//! build): the same options, the same JSON on stdout, failures on stderr. For timing and
//! profiling the evaluation pipeline and diffing its output against the CLI's.
//!
//! ```text
//! cargo run --release -p dicekit-eval --example eval_files -- PRED TRUTH [TOLERANCE]
//! ```
use std::path::PathBuf;
use std::process::ExitCode;

use dicekit_eval::{EvalOptions, evaluate_files};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(pred), Some(truth)) = (args.first(), args.get(1)) else {
        eprintln!("usage: eval_files PRED TRUTH [TOLERANCE]");
        return ExitCode::from(2);
    };
    let tolerance = match args.get(2).map(|t| t.parse::<f64>()) {
        None => 1.0,
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            eprintln!("error: tolerance: {e}");
            return ExitCode::from(2);
        }
    };
    // As the CLI builds them for `--format json --tolerance T` (no other flag).
    let options = EvalOptions {
        tolerance,
        ..EvalOptions::default()
    };
    let evaluation = match evaluate_files(
        &PathBuf::from(pred),
        &PathBuf::from(truth),
        &options,
        |_, _| {},
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !evaluation.results.is_empty() {
        match serde_json::to_string_pretty(&evaluation.json_rows()) {
            Ok(t) => println!("{t}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    for f in &evaluation.failures {
        eprintln!("error: {f}");
    }
    if evaluation.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
