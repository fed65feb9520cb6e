//! `dicekit report` ([`dicekit_report`]).
use std::process::ExitCode;

use dicekit_metrics::Convention;
use dicekit_report::{ReportOptions, write_report};

use crate::args::ReportArgs;

/// Runs `dicekit report`.
pub fn run(args: ReportArgs) -> ExitCode {
    let opts = ReportOptions {
        checkpoint: args.checkpoint,
        out: args.out,
        data_config: args.data_config,
        tta: args.tta,
        convention: Convention::from(args.convention),
        tolerance: args.tolerance,
        overlays: args.overlays,
        bins: args.bins,
        progress: !args.quiet,
        cl_dice: args.cl_dice,
        lesions: !args.no_lesions,
        lesion_size_bins: args.size_bins,
    };
    match write_report(&args.run, &opts) {
        Ok(index) => {
            println!("report: {}", index.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
