//! `dicekit experiment <name>`: train, evaluate and write a report folder (Markdown, PNG plots,
//! JSON of every number). Each experiment has a `--quick` variant that runs in minutes.
mod attention;
mod boundary;
mod calibration;
mod chase;
mod clouds;
mod imbalance;
mod rare_classes;
mod runner;
mod stats;

use std::process::ExitCode;

use crate::args::{ExperimentArgs, ExperimentName};

/// Runs `dicekit experiment`.
pub fn run(args: ExperimentArgs) -> ExitCode {
    if args.seeds == 0 {
        eprintln!("error: --seeds must be at least 1");
        return ExitCode::from(2);
    }
    let result = match args.name {
        ExperimentName::Attention => attention::run(&args),
        ExperimentName::Imbalance => imbalance::run(&args),
        ExperimentName::Clouds => clouds::run(&args),
        ExperimentName::RareClasses => rare_classes::run(&args),
        ExperimentName::Calibration => calibration::run(&args),
        ExperimentName::Boundary => boundary::run(&args),
    };
    match result {
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
