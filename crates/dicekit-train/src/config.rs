//! The training configuration (TOML). Unknown keys are errors; every value is checked before
//! training starts.
use std::path::{Path, PathBuf};

use dicekit_data::augment::AugmentConfig;
use dicekit_data::synth::Scene;
use dicekit_data::weight_map::{BoundaryWeightConfig, UnetWeightConfig};
use dicekit_losses::AnyLossConfig;
use dicekit_models::{AttentionNetConfig, MaskAttention, UNetConfig};
use serde::{Deserialize, Serialize};

use crate::{InputError, Schedule};

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DataSource {
    /// A synthetic scene of `dicekit-data` (`fundus`, `ct-phantom`, `wetlands`, `lesion-texture`).
    Synthetic {
        /// The scene.
        scene: Scene,
        /// Training images.
        train: usize,
        /// Validation images.
        val: usize,
        /// Spatial size [default: the scene's].
        #[serde(default)]
        size: Option<Vec<usize>>,
        /// Seed of the generated set.
        #[serde(default)]
        seed: u64,
        /// Target foreground fraction: the microaneurysm area of `fundus` (default 0.0005), or the
        /// lesion's share of the image in `lesion-texture`, which turns on its harder regime
        /// (look-alike distractors, a weaker brightness cue).
        #[serde(default)]
        foreground: Option<f64>,
        /// What the training masks say under the clouds of the wetlands scene (validation is
        /// always scored on the cloud-free truth).
        #[serde(default)]
        clouds: Option<Clouds>,
    },
    /// A dataset description file (see `datasets/*.toml`), its train and val splits.
    Dataset {
        /// The description file (relative paths resolve against the config file's folder).
        description: PathBuf,
        /// Overrides the description's root folder.
        #[serde(default)]
        root: Option<PathBuf>,
        /// Use at most this many training cases (0 = all).
        #[serde(default)]
        limit_train: usize,
        /// Use at most this many validation cases (0 = all).
        #[serde(default)]
        limit_val: usize,
    },
}

/// What the training labels of the wetlands scene say under its clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clouds {
    /// The cloud-free truth, as if one could see through clouds (an upper bound).
    Truth,
    /// Cloud pixels are `[data] ignore_label`: they count for neither side of the loss.
    Ignore,
    /// Cloud pixels are background (0): what an annotator marks when nothing is visible.
    Background,
}

/// A per-voxel weight map multiplying each voxel's loss terms (`[data] weight_map`), computed
/// from each training patch's labels after augmentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WeightMapSpec {
    /// `1 + (w_band - 1) exp(-d^2 / (2 sigma^2))` around label boundaries
    /// (`dicekit_data::weight_map::boundary_weight_map`).
    Boundary(BoundaryWeightConfig),
    /// The U-Net paper's class balance plus border term
    /// (`dicekit_data::weight_map::unet_weight_map`).
    Unet(UnetWeightConfig),
}

/// What the network learns (`[task]`; default: segmentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    /// A U-Net trained with the `[loss]`.
    #[default]
    Segmentation,
    /// `dicekit_models::AttentionNet2d`: the U-Net's soft mask is the attention of an image
    /// classifier; loss = `[loss]` + `lambda` x cross-entropy of the image label. 2D, whole images
    /// (the patch is the image size), data with image labels (the lesion-texture scene).
    Attention {
        /// How the mask enters the classifier: soft, detached, hard, none or oracle (the
        /// reference mask: a control, which needs the reference at prediction too).
        #[serde(default)]
        attention: MaskAttention,
        /// Weight of the classification loss.
        #[serde(default = "one_f64")]
        lambda: f64,
        /// Hidden units of the classifier.
        #[serde(default = "default_hidden")]
        hidden: usize,
        /// Image classes.
        #[serde(default = "two")]
        image_classes: usize,
    },
}

fn one_f64() -> f64 {
    1.0
}

fn default_hidden() -> usize {
    32
}

fn two() -> usize {
    2
}

/// Intensity normalisation of each case, per channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// `(x - mean) / std` over the case (nnU-Net for non-CT).
    ZScore,
    /// Clip to `[low, high]`, then scale to about [-1, 1] (CT windows in HU).
    Window {
        /// Lower bound.
        low: f32,
        /// Upper bound.
        high: f32,
    },
    /// Keep the values.
    None,
}

/// The optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerKind {
    /// Adam.
    Adam,
    /// AdamW (decoupled weight decay).
    AdamW,
    /// SGD with (Nesterov-free) momentum.
    Sgd,
}

fn default_optimizer() -> OptimizerSection {
    OptimizerSection {
        kind: OptimizerKind::Adam,
        lr: 1e-3,
        weight_decay: 0.0,
        momentum: 0.99,
    }
}

/// `[optimizer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSection {
    /// Adam, AdamW or SGD.
    pub kind: OptimizerKind,
    /// Initial learning rate.
    pub lr: f64,
    /// Weight decay (L2 for Adam/SGD, decoupled for AdamW).
    #[serde(default)]
    pub weight_decay: f64,
    /// SGD momentum.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
}

fn default_momentum() -> f64 {
    0.99
}

/// `[data]` (its keys are checked by [`TrainConfig::from_toml`]: serde cannot deny unknown
/// fields through the flattened source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    /// Where the cases come from.
    #[serde(flatten)]
    pub source: DataSource,
    /// Patch size (spatial).
    pub patch: Vec<usize>,
    /// Patches per step.
    pub batch_size: usize,
    /// Fraction of patches centred on foreground (nnU-Net: 0.33).
    #[serde(default = "default_fg")]
    pub foreground_fraction: f64,
    /// Label ignored by the loss (and padding).
    #[serde(default)]
    pub ignore_label: Option<u32>,
    /// Intensity normalisation.
    #[serde(default = "default_norm")]
    pub normalization: Normalization,
    /// Resample every image to this spatial size before training (triangle filter; labels by
    /// nearest voxel). Validation and prediction resample the image the same way and bring the
    /// probabilities back to the image's own size, so metrics are always on the original grid.
    #[serde(default)]
    pub resize: Option<Vec<usize>>,
    /// Weight map of every training patch (none by default).
    #[serde(default)]
    pub weight_map: Option<WeightMapSpec>,
    /// Augmentation (flips, rotations, intensity, gamma); the crop comes from `patch`.
    #[serde(default = "AugmentConfig::none")]
    pub augment: AugmentConfig,
}

fn default_fg() -> f64 {
    0.33
}

fn default_norm() -> Normalization {
    Normalization::ZScore
}

/// `[training]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSection {
    /// Epochs.
    pub epochs: usize,
    /// Optimiser steps per epoch.
    pub iterations_per_epoch: usize,
    /// Validate every this many epochs.
    #[serde(default = "one")]
    pub val_interval: usize,
    /// Stop after this many validations without improvement of the mean validation Dice
    /// (0 = never).
    #[serde(default)]
    pub patience: usize,
    /// Seed of the initialisation, the patches and the augmentation.
    #[serde(default)]
    pub seed: u64,
    /// Output folder (config copy, checkpoints, log).
    pub output: PathBuf,
    /// Learning-rate schedule.
    #[serde(default)]
    pub schedule: Schedule,
    /// Overlap of the sliding window in validation and prediction.
    #[serde(default = "half")]
    pub overlap: f64,
    /// Labels whose Dice is validated and averaged [default: 1..K for softmax (class 0 is
    /// background), 1 for one sigmoid channel].
    #[serde(default)]
    pub val_labels: Option<Vec<u32>>,
    /// Wall-clock budget in minutes (the epochs' times, validation included, summed over resumed
    /// sessions): when the time spent plus the longest epoch so far would pass it, the current
    /// epoch is validated and checkpointed and training stops, so the budget is never exceeded
    /// by more than an epoch's variation. The schedule still runs over `epochs`.
    #[serde(default)]
    pub time_limit_minutes: Option<f64>,
}

fn one() -> usize {
    1
}

fn half() -> f64 {
    0.5
}

/// The whole training configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// `[data]`.
    pub data: DataSection,
    /// `[model]`: a `UNetConfig` (in_channels and num_classes included); missing keys take
    /// the defaults, unknown keys are errors.
    #[serde(deserialize_with = "model_with_defaults")]
    pub model: UNetConfig,
    /// `[loss]`: any loss of `dicekit-losses`. In TOML a partial table is enough: missing keys
    /// take the loss's defaults and unknown keys are errors ([`AnyLossConfig::from_partial`]).
    #[serde(deserialize_with = "loss_with_defaults")]
    pub loss: AnyLossConfig,
    /// `[optimizer]`.
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerSection,
    /// `[training]`.
    pub training: TrainingSection,
    /// `[task]`.
    #[serde(default)]
    pub task: Task,
    /// Folder of the config file, for relative paths (not serialised).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

impl TrainConfig {
    /// Reads and checks a TOML file.
    ///
    /// # Errors
    /// [`InputError::Read`] or [`InputError::InFile`]: the file and the problem.
    pub fn read(path: &Path) -> Result<Self, InputError> {
        let text = std::fs::read_to_string(path).map_err(|error| InputError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, base).map_err(|e| InputError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })
    }

    /// Parses and checks TOML text; relative paths resolve against `base_dir`.
    ///
    /// # Errors
    /// [`InputError::Config`]: unknown keys, wrong types, bad values, in one line.
    pub fn from_toml(text: &str, base_dir: PathBuf) -> Result<Self, InputError> {
        Self::parse(text, base_dir).map_err(InputError::Config)
    }

    fn parse(text: &str, base_dir: PathBuf) -> Result<Self, String> {
        let table: toml::Table = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        if let Some(data) = table.get("data").and_then(|d| d.as_table()) {
            const COMMON: [&str; 9] = [
                "source",
                "resize",
                "weight_map",
                "patch",
                "batch_size",
                "foreground_fraction",
                "ignore_label",
                "normalization",
                "augment",
            ];
            let specific: &[&str] = match data.get("source").and_then(|s| s.as_str()) {
                Some("synthetic") => &[
                    "scene",
                    "train",
                    "val",
                    "size",
                    "seed",
                    "foreground",
                    "clouds",
                ],
                Some("dataset") => &["description", "root", "limit_train", "limit_val"],
                other => {
                    return Err(format!(
                        "[data] source = {other:?}: expected \"synthetic\" or \"dataset\""
                    ));
                }
            };
            if let Some(k) = data
                .keys()
                .find(|k| !COMMON.contains(&k.as_str()) && !specific.contains(&k.as_str()))
            {
                return Err(format!(
                    "[data] unknown key `{k}` (known: {}, {})",
                    COMMON.join(", "),
                    specific.join(", ")
                ));
            }
        }
        let mut cfg: TrainConfig = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        cfg.base_dir = base_dir;
        cfg.check()?;
        Ok(cfg)
    }

    /// The attention network's configuration, for an attention task.
    pub fn attention_config(&self) -> Option<AttentionNetConfig> {
        match self.task {
            Task::Segmentation => None,
            Task::Attention {
                attention,
                hidden,
                image_classes,
                ..
            } => Some(
                AttentionNetConfig::new(self.model.clone())
                    .with_attention(attention)
                    .with_hidden(hidden)
                    .with_image_classes(image_classes),
            ),
        }
    }

    /// Checks every value that does not need the data.
    ///
    /// # Errors
    /// [`InputError::Config`] naming the `[section] field`.
    pub fn validate(&self) -> Result<(), InputError> {
        self.check().map_err(InputError::Config)
    }

    fn check(&self) -> Result<(), String> {
        self.model.validate().map_err(|e| format!("[model] {e}"))?;
        let dims = self.data.patch.len();
        if !(2..=3).contains(&dims) {
            return Err(format!(
                "[data] patch {:?} must have 2 or 3 axes",
                self.data.patch
            ));
        }
        self.model
            .check_size(&self.data.patch)
            .map_err(|e| format!("[data] patch: {e}"))?;
        if self.data.batch_size == 0 {
            return Err("[data] batch_size must be >= 1".into());
        }
        if let Some(ig) = self.data.ignore_label
            && (ig as usize) < self.model.num_classes.max(2)
        {
            return Err(format!(
                "[data] ignore_label = {ig} is also a class (num_classes = {})",
                self.model.num_classes
            ));
        }
        if !(0.0..=1.0).contains(&self.data.foreground_fraction) {
            return Err(format!(
                "[data] foreground_fraction = {} must be in [0, 1]",
                self.data.foreground_fraction
            ));
        }
        if let DataSource::Synthetic { scene, size, .. } = &self.data.source {
            let size = size.clone().unwrap_or_else(|| scene.default_size());
            if size.len() != dims {
                return Err(format!(
                    "[data] size {size:?} and patch {:?} differ in rank",
                    self.data.patch
                ));
            }
        }
        if let Some(r) = &self.data.resize
            && (r.len() != self.data.patch.len() || r.contains(&0))
        {
            return Err(format!(
                "[data] resize = {r:?} needs one size >= 1 per patch axis ({})",
                self.data.patch.len()
            ));
        }
        if let DataSource::Synthetic {
            scene,
            clouds: Some(c),
            ..
        } = &self.data.source
        {
            if *scene != Scene::Wetlands {
                return Err(format!(
                    "[data] clouds = {c:?} needs scene = \"wetlands\", not \"{}\"",
                    scene.name()
                ));
            }
            if *c == Clouds::Ignore && self.data.ignore_label.is_none() {
                return Err("[data] clouds = \"ignore\" needs an ignore_label".into());
            }
        }
        if let Task::Attention { lambda, .. } = self.task {
            if !(lambda.is_finite() && lambda >= 0.0) {
                return Err(format!("[task] lambda = {lambda} must be a number >= 0"));
            }
            self.attention_config()
                .expect("attention task")
                .validate()
                .map_err(|e| format!("[task] {e}"))?;
            if self.data.patch.len() != 2 {
                return Err("[task] kind = \"attention\" is 2D: the patch needs 2 axes".into());
            }
            match &self.data.source {
                DataSource::Synthetic { scene, size, .. } => {
                    let size = size.clone().unwrap_or_else(|| scene.default_size());
                    if size != self.data.patch || self.data.resize.is_some() {
                        return Err(format!(
                            "[task] kind = \"attention\" classifies whole images: [data] patch {:?} must equal the image size {size:?} (and no resize)",
                            self.data.patch
                        ));
                    }
                }
                DataSource::Dataset { .. } => {
                    return Err("[task] kind = \"attention\" needs image labels, which only the synthetic lesion-texture scene provides so far".into());
                }
            }
        }
        let t = &self.training;
        if t.epochs == 0 || t.iterations_per_epoch == 0 || t.val_interval == 0 {
            return Err(
                "[training] epochs, iterations_per_epoch and val_interval must be >= 1".into(),
            );
        }
        if !(0.0..1.0).contains(&t.overlap) {
            return Err(format!(
                "[training] overlap = {} must be in [0, 1)",
                t.overlap
            ));
        }
        let o = &self.optimizer;
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return Err(format!("[optimizer] lr = {} must be > 0", o.lr));
        }
        if !(o.weight_decay.is_finite()
            && o.weight_decay >= 0.0
            && (0.0..1.0).contains(&o.momentum))
        {
            return Err("[optimizer] weight_decay must be >= 0 and momentum in [0, 1)".into());
        }
        t.schedule.validate()?;
        if let Some(m) = t.time_limit_minutes
            && !(m.is_finite() && m > 0.0)
        {
            return Err(format!(
                "[training] time_limit_minutes = {m} must be a number > 0"
            ));
        }
        if let Some(v) = &t.val_labels
            && (v.is_empty()
                || v.iter()
                    .any(|&l| l as usize >= self.model.num_classes.max(2)))
        {
            return Err(format!(
                "[training] val_labels {v:?} must be non-empty labels below num_classes = {}",
                self.model.num_classes
            ));
        }
        self.loss
            .check_classes(self.model.num_classes)
            .map_err(|e| format!("[loss] {e}"))?;
        // Rough activation memory of one training step: 2 convolutions x 3 tensors kept per level.
        let voxels: usize = self.data.patch.iter().product::<usize>() * self.data.batch_size;
        let bytes: usize = self
            .model
            .channels()
            .iter()
            .enumerate()
            .map(|(l, c)| (voxels >> (dims * l)) * c * 4 * 8)
            .sum();
        if bytes > 16 << 30 {
            return Err(format!(
                "[data] patch {:?} x batch {} needs about {} GiB of activations: too large for this machine",
                self.data.patch,
                self.data.batch_size,
                bytes >> 30
            ));
        }
        Ok(())
    }
}

/// Deserialises `[model]` over `UNetConfig`'s defaults (burn configs need every field).
/// `[loss]` as a partial table: defaults filled in, unknown keys named.
fn loss_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<AnyLossConfig, D::Error> {
    use serde::de::Error;
    let partial = serde_json::Value::deserialize(d)?;
    AnyLossConfig::from_partial(&partial).map_err(|e| D::Error::custom(format!("[loss] {e}")))
}

fn model_with_defaults<'de, D: serde::Deserializer<'de>>(d: D) -> Result<UNetConfig, D::Error> {
    use serde::de::Error;
    let partial = toml::Table::deserialize(d)?;
    let defaults = toml::Value::try_from(UNetConfig::new(0, 0)).map_err(D::Error::custom)?;
    let mut table = match defaults {
        toml::Value::Table(t) => t,
        _ => return Err(D::Error::custom("UNetConfig serialises to a table")),
    };
    for (k, v) in partial {
        if !table.contains_key(&k) {
            let known: Vec<&str> = table.keys().map(String::as_str).collect();
            return Err(D::Error::custom(format!(
                "[model] unknown key `{k}` (known: {})",
                known.join(", ")
            )));
        }
        table.insert(k, v);
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(D::Error::custom)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
