//! `dicekit experiment <name>` ([`dicekit_experiments`]).
use std::process::ExitCode;

use dicekit_experiments::{ExperimentOptions, run as run_experiment};

use crate::args::ExperimentArgs;

/// Runs `dicekit experiment`.
pub fn run(args: ExperimentArgs) -> ExitCode {
    let options = ExperimentOptions {
        quick: args.quick,
        seeds: args.seeds,
        out: args.out,
    };
    match run_experiment(args.name.0, &options) {
        Ok(report) => {
            println!("report: {}", report.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
