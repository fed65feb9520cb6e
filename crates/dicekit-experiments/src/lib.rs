//! The experiments behind docs/experiments.md: each trains its variants over seeds (reusing the
//! runs a previous invocation finished), scores them on held-out data and writes a report
//! folder: `report.md`, PNG plots and `results.json` with every number.
//!
//! ```no_run
//! use dicekit_experiments::{Experiment, ExperimentOptions, run};
//!
//! let options = ExperimentOptions { quick: true, ..ExperimentOptions::default() };
//! let report = run(Experiment::Imbalance, &options)?;
//! println!("report: {}", report.display());
//! # Ok::<(), dicekit_experiments::ExperimentError>(())
//! ```
mod attention;
mod boundary;
mod calibration;
mod chase;
mod clouds;
mod imbalance;
mod rare_classes;
mod runner;
mod spec;
mod stats;

use std::path::PathBuf;

/// The experiments ([`Experiment::description`] says what each tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Experiment {
    /// The mask as attention of an image classifier.
    Attention,
    /// Microaneurysms under six losses at three foreground fractions.
    Imbalance,
    /// Wetlands under clouds: cloud pixels as ignore or as background.
    Clouds,
    /// Cross-entropy, Dice and generalized Dice on the rarest classes.
    RareClasses,
    /// BCE + Dice mixtures on CHASE_DB1: Dice against calibration.
    Calibration,
    /// CHASE_DB1 with and without the boundary weight map.
    Boundary,
}

impl Experiment {
    /// Every experiment.
    pub const ALL: [Experiment; 6] = [
        Experiment::Attention,
        Experiment::Imbalance,
        Experiment::Clouds,
        Experiment::RareClasses,
        Experiment::Calibration,
        Experiment::Boundary,
    ];

    /// The name on the command line and in the default output folder.
    pub fn name(self) -> &'static str {
        match self {
            Experiment::Attention => "attention",
            Experiment::Imbalance => "imbalance",
            Experiment::Clouds => "clouds",
            Experiment::RareClasses => "rare-classes",
            Experiment::Calibration => "calibration",
            Experiment::Boundary => "boundary",
        }
    }

    /// What the experiment trains and scores (the `--help` text of `dicekit experiment`).
    pub fn description(self) -> &'static str {
        match self {
            Experiment::Attention => {
                "The segmentation mask as differentiable attention of an image classifier: (a) soft \
                 mask end to end, (b) detached, (c) hard mask, (d) no mask, (e) the reference \
                 mask (oracle); lesion-texture scene, the lesion at 16, 8 and 4 % of the image."
            }
            Experiment::Imbalance => {
                "Microaneurysms at 5 %, 0.5 % and 0.05 % foreground, trained with BCE, Dice, \
                 generalized Dice, 0.5 BCE + 0.5 Dice, focal and Dice + focal: Dice, lesion recall \
                 and precision."
            }
            Experiment::Clouds => {
                "Wetlands under clouds: cloud pixels as ignore vs as background in the training \
                 labels, scored on the cloud-free truth."
            }
            Experiment::RareClasses => {
                "Cross-entropy vs Dice vs generalized Dice (square and simple weights) on the CT \
                 phantom and dubai_aerial: per-class Dice, rarest classes first."
            }
            Experiment::Calibration => {
                "alpha BCE + (1 - alpha) Dice for alpha in {0, 0.25, 0.5, 0.75, 1} on CHASE_DB1: \
                 Dice against ECE, reliability diagrams (needs the shared data)."
            }
            Experiment::Boundary => {
                "CHASE_DB1 vessels with and without the boundary weight map: Dice, HD95, NSD at \
                 1 px (needs the shared data)."
            }
        }
    }
}

/// How an experiment runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExperimentOptions {
    /// A small variant that runs in a minute or two (to exercise the code, not to conclude).
    pub quick: bool,
    /// Seeds per variant (at least 1).
    pub seeds: usize,
    /// Output folder; `None`: `runs/experiment-<name>[-quick]`. Finished runs in it are reused.
    pub out: Option<PathBuf>,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        Self {
            quick: false,
            seeds: 3,
            out: None,
        }
    }
}

/// An experiment that could not run or finish; its `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// Fewer than one seed.
    #[error("--seeds must be at least 1")]
    NoSeeds,
    /// A run, a data set or a report file failed (the message names it).
    #[error("{0}")]
    Run(String),
}

/// Runs `experiment` and returns the path of its `report.md`.
///
/// # Errors
/// [`ExperimentError`] when the options are out of range, or a data set, a training run or the
/// report fails.
pub fn run(
    experiment: Experiment,
    options: &ExperimentOptions,
) -> Result<PathBuf, ExperimentError> {
    if options.seeds == 0 {
        return Err(ExperimentError::NoSeeds);
    }
    match experiment {
        Experiment::Attention => attention::run(options),
        Experiment::Imbalance => imbalance::run(options),
        Experiment::Clouds => clouds::run(options),
        Experiment::RareClasses => rare_classes::run(options),
        Experiment::Calibration => calibration::run(options),
        Experiment::Boundary => boundary::run(options),
    }
    .map_err(ExperimentError::Run)
}
