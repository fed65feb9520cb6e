//! What the CHASE_DB1 experiments (`boundary`, `calibration`) share: the scoring of a run on the
//! validation split (the shared data has no test split; experiments score the last checkpoint,
//! so no choice is made on the validation images).
use std::path::PathBuf;

use dicekit_metrics::ConfusionCounts;
use dicekit_train::{Case, TrainConfig, Trained, load_validation_cases};

use crate::runner;

/// The validation images of CHASE_DB1, read once through the config of the grid's first
/// variant; without the data, one line saying where to put it.
///
/// # Errors
/// The config does not parse or the data is absent.
pub fn validation_of(grid: &runner::Grid) -> Result<Vec<Case>, String> {
    let variant = grid
        .spec
        .variants
        .first()
        .ok_or("the spec has no variant")?;
    let probe = grid.config(variant, 1, &grid.out.join("probe"))?;
    let cfg = TrainConfig::from_toml(&probe, PathBuf::new())?;
    load_validation_cases(&cfg).map_err(|e| {
        format!("chase_db1 is needed (set DICEKIT_DATA_ROOT to the folder holding chase_db1/): {e}")
    })
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
