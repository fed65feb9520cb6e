//! What the CHASE_DB1 experiments (`boundary`, `calibration`) share: the scoring of a run on the
//! validation split (the shared data has no test split; experiments score the last checkpoint,
//! so no choice is made on the validation images).
use std::path::PathBuf;

use dicekit_metrics::ConfusionCounts;
use dicekit_train::{Case, TrainConfig, Trained, load_validation_cases};

use crate::runner;

/// The validation cases of a config, or why they cannot be read (the data is absent).
pub fn validation_cases(config: &str) -> Result<Vec<Case>, String> {
    let cfg = TrainConfig::from_toml(config, PathBuf::new())?;
    Ok(load_validation_cases(&cfg)?)
}

/// The last checkpoint of a finished run.
pub fn last_model(f: &runner::Finished) -> Result<Trained, String> {
    Ok(Trained::load(
        &f.config,
        &f.dir.join("checkpoints/last.bpk"),
    )?)
}

/// Vessel counts of a prediction against its reference.
pub fn vessel_counts(pred: &ndarray::ArrayD<u32>, truth: &ndarray::ArrayD<u32>) -> ConfusionCounts {
    dicekit_metrics::confusion_per_label(&pred.view(), &truth.view(), &[1])
        .map(|c| c[0])
        .unwrap_or_default()
}
