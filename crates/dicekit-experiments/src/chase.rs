//! The CHASE_DB1 training setup shared by the `boundary` and `calibration` experiments, and the
//! scoring of a run on the validation split (the shared data has no test split; experiments score
//! the last checkpoint, so no choice is made on the validation images).
use std::path::{Path, PathBuf};

use dicekit_metrics::ConfusionCounts;
use dicekit_train::{Case, TrainConfig, Trained, load_validation_cases};

use crate::runner;

/// The setup: how much data and training.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChaseSetup {
    /// Training images used (0 = all 16).
    pub limit_train: usize,
    /// Validation images used (0 = all 4).
    pub limit_val: usize,
    /// `[data] resize` (quick runs shrink the images).
    pub resize: Option<usize>,
    /// Patch side.
    pub patch: usize,
    /// Batch size.
    pub batch_size: usize,
    /// U-Net depth.
    pub depth: usize,
    /// Base channels.
    pub base_channels: usize,
    /// Epochs.
    pub epochs: usize,
    /// Steps per epoch.
    pub iterations_per_epoch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Share of the patches centred on a vessel pixel (`[data] foreground_fraction`).
    pub foreground_fraction: f64,
}

impl ChaseSetup {
    /// The full setup (about 18 min a run on 2 cores) or the quick one (seconds).
    pub fn new(quick: bool) -> Self {
        if quick {
            ChaseSetup {
                limit_train: 2,
                limit_val: 1,
                resize: Some(128),
                patch: 128,
                batch_size: 5,
                depth: 3,
                base_channels: 4,
                epochs: 1,
                iterations_per_epoch: 2,
                lr: 0.003,
                foreground_fraction: 0.33,
            }
        } else {
            ChaseSetup {
                limit_train: 0,
                limit_val: 0,
                resize: None,
                patch: 256,
                batch_size: 6,
                depth: 5,
                base_channels: 16,
                epochs: 8,
                iterations_per_epoch: 25,
                lr: 0.003,
                foreground_fraction: 0.33,
            }
        }
    }

    /// A config with this `[loss]` body (one sigmoid channel when `sigmoid`, else softmax over
    /// background and vessel) and extra `[data]` lines.
    pub fn config(
        &self,
        title: &str,
        loss: &str,
        sigmoid: bool,
        extra_data: &str,
        seed: u64,
        out: &Path,
    ) -> String {
        let description = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets"))
            .join("chase_db1.toml");
        format!(
            r#"# {title}, seed {seed}
[data]
source = "dataset"
description = "{desc}"
limit_train = {lt}
limit_val = {lv}
{resize}patch = [{p}, {p}]
batch_size = {batch}
foreground_fraction = {fg}
normalization = "z_score"
augment = {{ flip = {{ probability = 0.5, axes = "all" }}, rotate90 = {{ probability = 0.5, axes = [0, 1] }} }}
{extra_data}
[model]
in_channels = 3
num_classes = {classes}
depth = {depth}
base_channels = {base}
norm = "instance"

[loss]
{loss}

[optimizer]
kind = "adam"
lr = {lr}

[training]
epochs = {epochs}
iterations_per_epoch = {iters}
val_interval = {epochs}
seed = {seed}
output = "{out}"
"#,
            desc = runner::toml_path(&description),
            lt = self.limit_train,
            lv = self.limit_val,
            resize = self
                .resize
                .map_or(String::new(), |r| format!("resize = [{r}, {r}]\n")),
            p = self.patch,
            batch = self.batch_size,
            fg = self.foreground_fraction,
            classes = if sigmoid { 1 } else { 2 },
            depth = self.depth,
            base = self.base_channels,
            lr = self.lr,
            epochs = self.epochs,
            iters = self.iterations_per_epoch,
            out = runner::toml_path(out),
        )
    }
}

/// The validation cases of a config, or why they cannot be read (the data is absent).
pub fn validation_cases(config: &str) -> Result<Vec<Case>, String> {
    let cfg = TrainConfig::from_toml(config, PathBuf::new())?;
    load_validation_cases(&cfg)
}

/// The last checkpoint of a finished run.
pub fn last_model(f: &runner::Finished) -> Result<Trained, String> {
    Trained::load(&f.config, &f.dir.join("checkpoints/last.bpk"))
}

/// Vessel counts of a prediction against its reference.
pub fn vessel_counts(pred: &ndarray::ArrayD<u32>, truth: &ndarray::ArrayD<u32>) -> ConfusionCounts {
    dicekit_metrics::confusion_per_label(&pred.view(), &truth.view(), &[1])
        .map(|c| c[0])
        .unwrap_or_default()
}
