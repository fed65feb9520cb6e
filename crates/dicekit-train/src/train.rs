//! The training loop: patches, loss terms, optimiser steps, validation, checkpoints, resume.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{
    AdamConfig, AdamWConfig, GradientsParams, SgdConfig, decay::WeightDecayConfig,
    momentum::MomentumConfig,
};
use burn::prelude::*;
use burn::tensor::TensorData;
use dicekit_data::Rng;
use dicekit_data::augment::{AugmentConfig, CropConfig, augment};
use dicekit_losses::{Activation, AnyLoss, AnyLossConfig, Target};
use dicekit_metrics::{ConfusionCounts, confusion_per_label};
use dicekit_models::{AttentionNet2d, SegmentationModel, UNet2d, UNet3d};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ndarray::{ArrayD, Axis};
use serde::{Deserialize, Serialize};

use crate::infer::labels_from_probabilities;
use crate::{
    Case, CaseSet, OptimizerKind, Predictor, Task, TrainConfig, load_cases, predict_probabilities,
};

/// What the training loop needs from a network beyond segmentation logits.
pub trait TrainModel<const D: usize>: SegmentationModel<D> {
    /// Segmentation outputs and, for a network that classifies images, class logits `[B, N]`.
    /// `reference`: the batch's labels `[B, 1, ...S]`, given when
    /// [`needs_reference`](Self::needs_reference) says so.
    fn forward_train(
        &self,
        x: Tensor<D>,
        reference: Option<Tensor<D, Int>>,
    ) -> (Vec<Tensor<D>>, Option<Tensor<2>>) {
        let _ = reference;
        (self.forward(x), None)
    }

    /// Whether [`forward_train`](Self::forward_train) returns class logits.
    fn classifies(&self) -> bool {
        false
    }

    /// Whether [`forward_train`](Self::forward_train) reads the reference labels (the oracle
    /// attention control).
    fn needs_reference(&self) -> bool {
        false
    }
}

impl TrainModel<4> for UNet2d {}
impl TrainModel<5> for UNet3d {}
impl TrainModel<4> for AttentionNet2d {
    fn forward_train(
        &self,
        x: Tensor<4>,
        reference: Option<Tensor<4, Int>>,
    ) -> (Vec<Tensor<4>>, Option<Tensor<2>>) {
        let out = self.forward_all(x, reference);
        (out.segmentation, Some(out.class_logits))
    }

    fn classifies(&self) -> bool {
        true
    }

    fn needs_reference(&self) -> bool {
        self.attention().needs_reference()
    }
}

/// Labels `[B, 1, ...S]` as an integer tensor on `device`.
pub(crate) fn labels_tensor<const D: usize>(
    labels: ndarray::ArrayViewD<u32>,
    device: &Device,
) -> Tensor<D, Int> {
    let values: Vec<i64> = labels.iter().map(|&v| v as i64).collect();
    Tensor::from_data(TensorData::new(values, labels.shape().to_vec()), device)
}

/// What went wrong; `exit_code` maps it to the CLI's convention. `Display` is one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    /// A bad config or data, found before training starts (an [`InputError`](crate::InputError)'s
    /// message, or the run folder's).
    #[error("{0}")]
    Input(String),
    /// The loss became NaN or infinite; the last good checkpoint is kept.
    #[error("{0}")]
    NonFinite(String),
    /// Writing the output failed.
    #[error("{0}")]
    Io(String),
}

impl From<crate::InputError> for TrainError {
    fn from(e: crate::InputError) -> Self {
        TrainError::Input(e.to_string())
    }
}

impl TrainError {
    /// 2 for bad input, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            TrainError::Input(_) => 2,
            _ => 1,
        }
    }
}

/// One epoch of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Learning rate at the epoch's first step.
    pub lr: f64,
    /// Mean total loss over the epoch's steps.
    pub loss: f64,
    /// Mean of each loss term.
    pub terms: Vec<(String, f64)>,
    /// Validation Dice per scored class (counts summed over the validation set), when
    /// validated; `None` for a class in neither the predictions nor the masks (undefined, not 1).
    pub val_dice: Option<Vec<Option<f64>>>,
    /// The mean over the classes with a Dice (the others are left out and named in the log).
    pub val_mean_dice: Option<f64>,
    /// Image classification accuracy on the validation set (attention task).
    #[serde(default)]
    pub val_accuracy: Option<f64>,
    /// Image classification AUC on the validation set (macro one-vs-rest; attention task).
    #[serde(default)]
    pub val_auc: Option<f64>,
    /// Wall time of the epoch (validation included).
    pub seconds: f64,
}

/// Everything needed to resume, saved as `state.json` after every epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Completed epochs.
    pub epochs_done: usize,
    /// Best validation score so far, and its epoch: the mean Dice, or for the attention task the
    /// classification accuracy + AUC / 1000 (accuracy first, AUC breaks ties).
    pub best: Option<(f64, usize)>,
    /// Validations since the last improvement.
    pub since_best: usize,
    /// The log.
    pub history: Vec<EpochLog>,
    /// The config the run was started with (TOML), to refuse a resume with another.
    pub config: String,
    /// The folder the config's relative paths (data description, root) are resolved from, so
    /// that `dicekit report` finds the validation data from the run folder alone.
    #[serde(default)]
    pub config_dir: Option<PathBuf>,
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// All epochs done.
    Finished,
    /// No improvement for `patience` validations.
    Plateau,
    /// Interrupted (Ctrl-C); a checkpoint was saved.
    Interrupted,
    /// `[training] time_limit_minutes` reached.
    TimeLimit,
}

/// The result of a training run.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Final state (also in `state.json`).
    pub state: TrainState,
    /// Why it stopped.
    pub stop: StopReason,
    /// The output folder.
    pub output: PathBuf,
}

/// The activation a loss applies, for turning logits into predictions.
pub fn output_activation(loss: &AnyLossConfig) -> Activation {
    loss.activation()
}

/// The labels validated and reported: `[training] val_labels`, else every foreground class
/// (1..K for softmax, where class 0 is background; 1 for one sigmoid channel; 1..=K for K
/// sigmoid channels).
pub fn scored_labels(cfg: &TrainConfig, activation: Activation) -> Vec<u32> {
    match (&cfg.training.val_labels, activation, cfg.model.num_classes) {
        (Some(v), ..) => v.clone(),
        (None, Activation::Softmax, k) => (1..k as u32).collect(),
        (None, _, 1) => vec![1],
        (None, _, k) => (1..=k as u32).collect(),
    }
}

/// The device training runs on: Flex (CPU), or with the `vulkan` feature wgpu's default Vulkan
/// device (its high-power GPU; `CUBECL_WGPU_DEFAULT_DEVICE=DiscreteGpu(1)` picks another).
pub fn training_device() -> Device {
    #[cfg(feature = "vulkan")]
    {
        Device::vulkan(burn::tensor::DeviceKind::DefaultDevice).autodiff()
    }
    #[cfg(not(feature = "vulkan"))]
    {
        Device::flex().autodiff()
    }
}

/// Trains as `cfg` says. With `resume`, continues from `output/state.json`.
///
/// # Errors
/// See [`TrainError`]; bad config and data are reported before the first step.
pub fn train(
    cfg: &TrainConfig,
    resume: bool,
    interrupt: Option<&AtomicBool>,
    progress: bool,
) -> Result<TrainOutcome, TrainError> {
    let loss_cfg = cfg.loss.clone();
    let cases = load_cases(cfg)?;
    // A patch larger than an image is padded: said once, not silently.
    if let Some(case) = cases.train.iter().chain(&cases.val).find(|c| {
        c.mask
            .shape()
            .iter()
            .zip(&cfg.data.patch)
            .any(|(&l, &p)| l < p)
    }) {
        eprintln!(
            "note: [data] patch {:?} is larger than {} ({:?}); such patches are padded (images with 0, masks with background)",
            cfg.data.patch,
            case.name,
            case.mask.shape()
        );
    }
    let device = training_device();
    device.seed(cfg.training.seed);
    let run = Run {
        cfg,
        loss: loss_cfg.init(),
        activation: output_activation(&loss_cfg),
        device: device.clone(),
        interrupt,
        progress,
    };
    match (cfg.attention_config(), cfg.data.patch.len()) {
        (Some(a), _) => run.go::<4, AttentionNet2d>(a.init(&device), &cases, resume),
        (None, 2) => run.go::<4, UNet2d>(cfg.model.init_2d(&device), &cases, resume),
        (None, _) => run.go::<5, UNet3d>(cfg.model.init_3d(&device), &cases, resume),
    }
}

struct Run<'a> {
    cfg: &'a TrainConfig,
    loss: AnyLoss,
    activation: Activation,
    device: Device,
    interrupt: Option<&'a AtomicBool>,
    progress: bool,
}

fn io(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Io(format!("{}: {e}", path.display()))
}

/// Takes the run folder's lock file (`<out>/.lock`) for this process, or explains who holds it.
fn lock_run_folder(out: &Path) -> Result<std::fs::File, TrainError> {
    let path = out.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(TrainError::Input(format!(
            "{} is being written by another dicekit process (it holds {}): wait for it to finish, or choose another [training] output",
            out.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path, e)),
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file.
fn atomic(path: &Path, write: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    write(&tmp).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

impl Run<'_> {
    fn go<const D: usize, M: Module + TrainModel<D>>(
        &self,
        mut model: M,
        cases: &CaseSet,
        resume: bool,
    ) -> Result<TrainOutcome, TrainError> {
        let cfg = self.cfg;
        let out = cfg.base_dir.join(&cfg.training.output);
        let ckpt = out.join("checkpoints");
        // The output folder is the user's choice: one that cannot be made is bad input.
        std::fs::create_dir_all(&ckpt).map_err(|e| {
            TrainError::Input(format!(
                "[training] output {}: cannot create {}: {e}",
                out.display(),
                ckpt.display()
            ))
        })?;
        // One writer per run folder: an OS lock, released when this process ends (or crashes).
        let _lock = lock_run_folder(&out)?;
        let config_text =
            toml::to_string(cfg).map_err(|e| TrainError::Input(format!("config: {e}")))?;
        let state_path = out.join("state.json");
        let mut optim = match cfg.optimizer.kind {
            OptimizerKind::Adam => {
                let wd = (cfg.optimizer.weight_decay > 0.0)
                    .then(|| WeightDecayConfig::new(cfg.optimizer.weight_decay as f32));
                AdamConfig::new().with_weight_decay(wd).init()
            }
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_weight_decay(cfg.optimizer.weight_decay as f32)
                .init(),
            OptimizerKind::Sgd => {
                let wd = (cfg.optimizer.weight_decay > 0.0)
                    .then(|| WeightDecayConfig::new(cfg.optimizer.weight_decay as f32));
                SgdConfig::new()
                    .with_momentum(Some(
                        MomentumConfig::new().with_momentum(cfg.optimizer.momentum),
                    ))
                    .with_weight_decay(wd)
                    .init()
            }
        };
        let mut state = if resume {
            let text = std::fs::read_to_string(&state_path).map_err(|e| {
                TrainError::Input(format!("--resume: {}: {e}", state_path.display()))
            })?;
            let state: TrainState = serde_json::from_str(&text)
                .map_err(|e| TrainError::Input(format!("{}: {e}", state_path.display())))?;
            // The same config, compared as parsed (a run started before `[loss]` was typed
            // saved the partial table as written).
            let same = state.config == config_text
                || TrainConfig::from_toml(&state.config, cfg.base_dir.clone())
                    .ok()
                    .and_then(|c| toml::to_string(&c).ok())
                    .is_some_and(|t| t == config_text);
            if !same {
                return Err(TrainError::Input(format!(
                    "--resume: the config differs from the one the run in {} started with",
                    out.display()
                )));
            }
            // A missing or corrupt checkpoint is bad input (exit 2), named with its path.
            let bad = |p: &Path, e: &dyn std::fmt::Display| {
                TrainError::Input(format!(
                    "--resume: {}: {e} (the run's checkpoint is missing or corrupt)",
                    p.display()
                ))
            };
            let m = ckpt.join("last.bpk");
            let record = burn::store::ModuleRecord::load(&m).map_err(|e| bad(&m, &e))?;
            model = model.try_load_record(record).map_err(|e| bad(&m, &e))?;
            crate::finite::check_finite_weights(&model, &format!("--resume: {}", m.display()))
                .map_err(TrainError::Input)?;
            let o = ckpt.join("last.optim.bpk");
            optim =
                optim.load_record(burn::optim::OptimizerRecord::load(&o).map_err(|e| bad(&o, &e))?);
            state
        } else {
            if state_path.exists() {
                return Err(TrainError::Input(format!(
                    "{} already holds a training run: pass --resume to continue it, or choose another [training] output",
                    out.display()
                )));
            }
            std::fs::write(out.join("config.toml"), &config_text).map_err(|e| io(&out, e))?;
            TrainState {
                epochs_done: 0,
                best: None,
                since_best: 0,
                history: vec![],
                config: config_text.clone(),
                config_dir: std::path::absolute(if cfg.base_dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    &cfg.base_dir
                })
                .ok(),
            }
        };
        let t = &cfg.training;
        let total_steps = t.epochs * t.iterations_per_epoch;
        let bar = ProgressBar::new(total_steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} epoch {msg} | {pos}/{len} steps | {elapsed} elapsed, ETA {eta}",
            )
            .expect("template"),
        );
        bar.set_position((state.epochs_done * t.iterations_per_epoch) as u64);
        if !self.progress {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let predictor = Predictor {
            patch: cfg.data.patch.clone(),
            overlap: t.overlap,
            activation: self.activation,
            flip_tta: false,
            batch: 4,
            resize: cfg.data.resize.clone(),
        };
        let mut stop = StopReason::Finished;
        for epoch in state.epochs_done + 1..=t.epochs {
            let start = Instant::now();
            let mut rng = Rng::fork(t.seed, epoch as u64);
            let lr0 = t.schedule.lr(
                cfg.optimizer.lr,
                (epoch - 1) * t.iterations_per_epoch,
                total_steps,
            );
            let (mut loss_sum, mut term_sums): (f64, Vec<(String, f64)>) = (0.0, vec![]);
            for it in 0..t.iterations_per_epoch {
                if self.interrupt.is_some_and(|f| f.load(Ordering::SeqCst)) {
                    let path = ckpt.join("interrupted.bpk");
                    atomic(&path, |p| {
                        model.clone().save_file(p).map_err(|e| e.to_string())
                    })?;
                    bar.abandon();
                    eprintln!(
                        "interrupted in epoch {epoch}: weights saved to {}; `--resume` restarts epoch {epoch} from the checkpoint of epoch {}",
                        path.display(),
                        state.epochs_done
                    );
                    return Ok(TrainOutcome {
                        state,
                        stop: StopReason::Interrupted,
                        output: out,
                    });
                }
                let step = (epoch - 1) * t.iterations_per_epoch + it;
                let lr = t.schedule.lr(cfg.optimizer.lr, step, total_steps);
                let (x, y, image_labels) = self.batch::<D>(&cases.train, &mut rng)?;
                let weights = self.weight_maps(&y, &cases.train[0].spacing)?;
                let reference = model
                    .needs_reference()
                    .then(|| labels_tensor::<D>(y.view(), &self.device));
                let (outputs, class_logits) = model.forward_train(x, reference);
                let (mut total, mut terms) = self.loss_of(outputs, &y, weights.as_ref());
                if let (Some(logits), Task::Attention { lambda, .. }) = (class_logits, cfg.task) {
                    let ce = self.classification_loss(logits, &image_labels);
                    terms.push((
                        "classification".into(),
                        ce.clone().into_scalar::<f32>() as f64,
                    ));
                    total = total + ce * lambda;
                }
                let value = total.clone().into_scalar::<f32>() as f64;
                if !value.is_finite() {
                    bar.abandon();
                    let kept = if state.epochs_done > 0 {
                        format!(
                            "the checkpoint of epoch {} is kept in {}",
                            state.epochs_done,
                            ckpt.display()
                        )
                    } else {
                        "no checkpoint was written yet".to_string()
                    };
                    return Err(TrainError::NonFinite(format!(
                        "the loss became {value} at epoch {epoch}, step {}; training stopped, {kept}. Lower the learning rate or check the data",
                        it + 1
                    )));
                }
                loss_sum += value;
                for (i, (name, v)) in terms.into_iter().enumerate() {
                    if term_sums.len() <= i {
                        term_sums.push((name, 0.0));
                    }
                    term_sums[i].1 += v;
                }
                let grads = GradientsParams::from_grads(total.backward(), &model);
                model = optim.step(lr, model, grads);
                bar.set_message(format!("{epoch}/{} loss {value:.4}", t.epochs));
                bar.inc(1);
            }
            let n = t.iterations_per_epoch as f64;
            let mut log = EpochLog {
                epoch,
                lr: lr0,
                loss: loss_sum / n,
                terms: term_sums.into_iter().map(|(k, v)| (k, v / n)).collect(),
                val_dice: None,
                val_mean_dice: None,
                val_accuracy: None,
                val_auc: None,
                seconds: 0.0,
            };
            let mut improved = false;
            // Stop before an epoch that would not fit: when the time spent plus the longest
            // epoch so far passes the budget, this epoch is the last (validated, checkpointed).
            let this = start.elapsed().as_secs_f64();
            let spent: f64 = state.history.iter().map(|h| h.seconds).sum::<f64>() + this;
            let longest = state.history.iter().map(|h| h.seconds).fold(this, f64::max);
            let out_of_time = t
                .time_limit_minutes
                .is_some_and(|m| spent + longest > 60.0 * m);
            if epoch % t.val_interval == 0 || epoch == t.epochs || out_of_time {
                let valid = model.valid();
                let dice = self.validate::<D, M>(&valid, &cases.val, &predictor)?;
                let defined: Vec<f64> = dice.iter().flatten().copied().collect();
                let mean = (!defined.is_empty())
                    .then(|| defined.iter().sum::<f64>() / defined.len() as f64);
                log.val_dice = Some(dice);
                log.val_mean_dice = mean;
                // Nothing to score (every class absent on both sides): never better than a score.
                let mut score = mean.unwrap_or(f64::NEG_INFINITY);
                if let Some((acc, auc)) = self.validate_classes::<D, M>(&valid, &cases.val) {
                    log.val_accuracy = acc;
                    log.val_auc = auc;
                    // Accuracy first; the AUC breaks ties (accuracy moves in steps of at
                    // least 1/1000 on validation sets under 1000 images).
                    score = acc.unwrap_or(0.0) + 1e-3 * auc.unwrap_or(0.0);
                }
                if state.best.is_none_or(|(b, _)| score > b) {
                    state.best = Some((score, epoch));
                    state.since_best = 0;
                    improved = true;
                    let path = ckpt.join("best.bpk");
                    atomic(&path, |p| {
                        model.clone().save_file(p).map_err(|e| e.to_string())
                    })?;
                } else {
                    state.since_best += 1;
                }
            }
            log.seconds = start.elapsed().as_secs_f64();
            let line = format_log(&log, improved);
            bar.suspend(|| println!("{line}"));
            state.history.push(log);
            state.epochs_done = epoch;
            // Checkpoint: weights, optimiser, then the state that points at them.
            atomic(&ckpt.join("last.bpk"), |p| {
                model.clone().save_file(p).map_err(|e| e.to_string())
            })?;
            atomic(&ckpt.join("last.optim.bpk"), |p| {
                optim.to_record().save(p).map_err(|e| e.to_string())
            })?;
            let json = serde_json::to_string_pretty(&state).expect("state serialises");
            atomic(&state_path, |p| {
                std::fs::write(p, &json).map_err(|e| e.to_string())
            })?;
            write_log_csv(
                &out.join("log.csv"),
                &state.history,
                &scored_labels(self.cfg, self.activation),
            )
            .map_err(|e| io(&out, e))?;
            if out_of_time && epoch < t.epochs {
                stop = StopReason::TimeLimit;
                bar.suspend(|| {
                    println!(
                        "stopping: the time limit of {} min is reached after epoch {epoch}",
                        t.time_limit_minutes.unwrap_or_default()
                    )
                });
                break;
            }
            if t.patience > 0 && state.since_best >= t.patience {
                stop = StopReason::Plateau;
                bar.suspend(|| {
                    println!(
                        "stopping early: no better validation Dice for {} validations",
                        t.patience
                    )
                });
                break;
            }
        }
        bar.finish_and_clear();
        Ok(TrainOutcome {
            state,
            stop,
            output: out,
        })
    }

    /// A batch of augmented patches: images `[B, C, ...P]`, labels `[B, 1, ...P]` and the
    /// cases' image labels (0 where a case has none).
    fn batch<const D: usize>(
        &self,
        cases: &[Case],
        rng: &mut Rng,
    ) -> Result<(Tensor<D>, ArrayD<u32>, Vec<u32>), TrainError> {
        let d = &self.cfg.data;
        let mut crop = CropConfig::new(d.patch.clone());
        crop.foreground_fraction = d.foreground_fraction;
        crop.ignore_label = d.ignore_label;
        let aug = AugmentConfig {
            crop: Some(crop),
            ..d.augment.clone()
        };
        let (mut images, mut masks, mut image_labels) = (vec![], vec![], vec![]);
        for _ in 0..d.batch_size {
            let case = &cases[rng.below(cases.len())];
            image_labels.push(case.label.unwrap_or(0));
            let (img, msk) = augment(&case.image, &case.mask, &aug, rng)
                .map_err(|e| TrainError::Input(format!("{}: {e}", case.name)))?;
            images.extend(img.iter().copied());
            masks.push(msk);
        }
        let c = cases[0].image.shape()[0];
        let mut shape = vec![d.batch_size, c];
        shape.extend_from_slice(&d.patch);
        let x = Tensor::<D>::from_data(TensorData::new(images, shape), &self.device);
        let views: Vec<_> = masks
            .iter()
            .map(|m| m.view().insert_axis(ndarray::Axis(0)))
            .collect();
        let y = ndarray::concatenate(ndarray::Axis(0), &views)
            .expect("same patch shapes")
            .insert_axis(ndarray::Axis(1));
        Ok((x, y, image_labels))
    }

    /// Mean cross-entropy of image-class logits `[B, N]` against the image labels.
    fn classification_loss(&self, logits: Tensor<2>, labels: &[u32]) -> Tensor<1> {
        let targets: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        let t = Tensor::<1, Int>::from_data(TensorData::new(targets, [labels.len()]), &self.device);
        burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&self.device)
            .forward(logits, t)
    }

    /// Accuracy and AUC of the image classes over the validation cases (whole images), or
    /// `None` for a network that does not classify.
    fn validate_classes<const D: usize, M: TrainModel<D>>(
        &self,
        model: &M,
        cases: &[Case],
    ) -> Option<(Option<f64>, Option<f64>)> {
        if !model.classifies() {
            return None;
        }
        let device = self.device.clone().inner();
        let mut probs = vec![];
        let mut truth = vec![];
        for case in cases {
            let mut shape = vec![1];
            shape.extend_from_slice(case.image.shape());
            let data: Vec<f32> = case.image.iter().copied().collect();
            let x = Tensor::<D>::from_data(TensorData::new(data, shape), &device);
            let reference = model.needs_reference().then(|| {
                let mask = case.mask.view().insert_axis(Axis(0)).insert_axis(Axis(0));
                labels_tensor::<D>(mask, &device)
            });
            let logits = model.forward_train(x, reference).1?;
            let p = burn::tensor::activation::softmax(logits, 1)
                .into_data()
                .convert::<f64>()
                .try_into_vec::<f64>()
                .expect("f64 data");
            probs.push(p);
            truth.push(case.label.unwrap_or(0) as usize);
        }
        Some((
            dicekit_metrics::accuracy(&probs, &truth),
            dicekit_metrics::macro_auc(&probs, &truth),
        ))
    }

    /// The `[data] weight_map` of a batch of labels `[B, 1, ...P]`, as `[B, 1, ...P]`.
    fn weight_maps(
        &self,
        labels: &ArrayD<u32>,
        spacing: &[f64],
    ) -> Result<Option<ArrayD<f32>>, TrainError> {
        let Some(spec) = &self.cfg.data.weight_map else {
            return Ok(None);
        };
        let mut out = ArrayD::<f32>::zeros(labels.raw_dim());
        for (b, mut w) in out.outer_iter_mut().enumerate() {
            let l = labels.index_axis(ndarray::Axis(0), b);
            let l = l.index_axis(ndarray::Axis(0), 0).to_owned();
            let map = match spec {
                crate::WeightMapSpec::Boundary(c) => {
                    dicekit_data::weight_map::boundary_weight_map(&l, spacing, c)
                }
                crate::WeightMapSpec::Unet(c) => {
                    dicekit_data::weight_map::unet_weight_map(&l, spacing, c)
                }
            }
            .map_err(|e| TrainError::Input(format!("[data] weight_map: {e}")))?;
            w.index_axis_mut(ndarray::Axis(0), 0).assign(&map);
        }
        Ok(Some(out))
    }

    /// Total loss over the (deep-supervision) outputs and the full-resolution terms.
    fn loss_of<const D: usize>(
        &self,
        outputs: Vec<Tensor<D>>,
        labels: &ArrayD<u32>,
        weight_maps: Option<&ArrayD<f32>>,
    ) -> (Tensor<1>, Vec<(String, f64)>) {
        let n = outputs.len();
        let weights: Vec<f64> = (0..n).map(|k| 0.5f64.powi(k as i32)).collect();
        let wsum: f64 = weights.iter().sum();
        let mut total: Option<Tensor<1>> = None;
        let mut terms = vec![];
        for (k, logits) in outputs.into_iter().enumerate() {
            let step = 1usize << k;
            let y = labels.slice_each_axis(|ax| {
                ndarray::Slice::new(
                    0,
                    None,
                    if ax.axis.index() >= 2 {
                        step as isize
                    } else {
                        1
                    },
                )
            });
            let dims = y.shape().to_vec();
            let values: Vec<i64> = y.iter().map(|&v| v as i64).collect();
            let target =
                Tensor::<D, Int>::from_data(TensorData::new(values, dims.clone()), &self.device);
            let w = weight_maps.map(|w| {
                let w = w.slice_each_axis(|ax| {
                    ndarray::Slice::new(
                        0,
                        None,
                        if ax.axis.index() >= 2 {
                            step as isize
                        } else {
                            1
                        },
                    )
                });
                let values: Vec<f32> = w.iter().copied().collect();
                Tensor::<D>::from_data(TensorData::new(values, dims), &self.device)
            });
            let out = self.loss.forward(logits, Target::Indices(target), w);
            if k == 0 {
                terms = out
                    .terms
                    .iter()
                    .map(|(name, v)| (name.clone(), v.clone().into_scalar::<f32>() as f64))
                    .collect();
            }
            let weighted = out.total * (weights[k] / wsum);
            total = Some(match total {
                Some(t) => t + weighted,
                None => weighted,
            });
        }
        (total.expect("at least one output"), terms)
    }

    /// Dice per foreground class over the whole validation set (counts summed, then one ratio).
    fn validate<const D: usize, M: SegmentationModel<D>>(
        &self,
        model: &M,
        cases: &[Case],
        p: &Predictor,
    ) -> Result<Vec<Option<f64>>, TrainError> {
        let labels = scored_labels(self.cfg, self.activation);
        let device = self.device.clone().inner();
        let mut total = vec![ConfusionCounts::default(); labels.len()];
        for case in cases {
            let probs = predict_probabilities::<D, M>(model, &case.image, p, &device)
                .map_err(|e| TrainError::Input(format!("{}: {e}", case.name)))?;
            let mut pred = labels_from_probabilities(&probs, self.activation);
            if let Some(ig) = self.cfg.data.ignore_label {
                // Ignored voxels count for neither side: the ignore label is never a scored label.
                ndarray::Zip::from(&mut pred)
                    .and(&case.mask)
                    .for_each(|p, &t| {
                        if t == ig {
                            *p = ig;
                        }
                    });
            }
            let truth = &case.mask;
            let counts = confusion_per_label(&pred.view(), &truth.view(), &labels)
                .map_err(|e| TrainError::Input(e.to_string()))?;
            for (acc, c) in total.iter_mut().zip(counts) {
                *acc += c;
            }
        }
        // A class in neither predictions nor masks has no Dice (not 1, which would inflate the
        // mean that picks the best checkpoint).
        Ok(total.iter().map(|c| c.dice().value()).collect())
    }
}

fn format_log(log: &EpochLog, improved: bool) -> String {
    let terms: Vec<String> = log
        .terms
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect();
    let mut s = format!(
        "epoch {:>3}  lr {:.2e}  loss {:.4} ({})",
        log.epoch,
        log.lr,
        log.loss,
        terms.join(", ")
    );
    if let Some(d) = &log.val_dice {
        let per: Vec<String> = d
            .iter()
            .map(|v| v.map_or("-".to_string(), |v| format!("{v:.3}")))
            .collect();
        let mean = log
            .val_mean_dice
            .map_or("-".to_string(), |m| format!("{m:.4}"));
        s.push_str(&format!("  val Dice [{}] mean {mean}", per.join(", ")));
        let absent = d.iter().filter(|v| v.is_none()).count();
        if absent > 0 {
            s.push_str(&format!(
                " ({absent} class{} in neither prediction nor mask, left out)",
                if absent == 1 { "" } else { "es" }
            ));
        }
        if let Some(a) = log.val_accuracy {
            s.push_str(&format!("  accuracy {a:.4}"));
        }
        if let Some(a) = log.val_auc {
            s.push_str(&format!("  AUC {a:.4}"));
        }
        if improved {
            s.push_str(" (best)");
        }
    }
    s.push_str(&format!("  {:.1} s", log.seconds));
    s
}

/// `log.csv`: one row per epoch; one validation Dice column per scored label
/// (`val_dice_<label>`, in the order of `labels`, which is the order of `EpochLog::val_dice`),
/// empty in the epochs without validation.
fn write_log_csv(path: &Path, history: &[EpochLog], labels: &[u32]) -> std::io::Result<()> {
    let term_names: Vec<String> = history
        .first()
        .map(|h| h.terms.iter().map(|t| t.0.clone()).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = ["epoch", "lr", "loss"].map(String::from).to_vec();
    header.extend(term_names.iter().map(|t| format!("loss_{t}")));
    header.extend(labels.iter().map(|l| format!("val_dice_{l}")));
    header.extend(["val_mean_dice", "val_accuracy", "val_auc", "seconds"].map(String::from));
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(&header)?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for h in history {
        let mut row = vec![h.epoch.to_string(), h.lr.to_string(), h.loss.to_string()];
        row.extend(h.terms.iter().map(|(_, v)| v.to_string()));
        row.extend((0..labels.len()).map(|c| {
            opt(h
                .val_dice
                .as_ref()
                .and_then(|d| d.get(c).copied().flatten()))
        }));
        row.extend([
            opt(h.val_mean_dice),
            opt(h.val_accuracy),
            opt(h.val_auc),
            h.seconds.to_string(),
        ]);
        w.write_record(&row)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn epoch(n: usize, val: Option<Vec<f64>>) -> EpochLog {
        EpochLog {
            epoch: n,
            lr: 1e-3,
            loss: 1.0,
            terms: vec![("dice".into(), 0.5), ("ce".into(), 0.5)],
            val_mean_dice: val.as_ref().map(|v| v.iter().sum::<f64>() / v.len() as f64),
            val_dice: val.map(|v| v.into_iter().map(Some).collect()),
            val_accuracy: None,
            val_auc: None,
            seconds: 2.0,
        }
    }

    #[test]
    fn log_csv_names_the_validation_columns_after_the_scored_labels() {
        let dir = std::env::temp_dir().join(format!("dicekit-log-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.csv");
        // Labels 0, 1, 2 are scored (dubai_aerial scores class 0, Building).
        let history = [epoch(1, None), epoch(2, Some(vec![0.25, 0.5, 0.75]))];
        write_log_csv(&path, &history, &[0, 1, 2]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "epoch,lr,loss,loss_dice,loss_ce,val_dice_0,val_dice_1,val_dice_2,val_mean_dice,val_accuracy,val_auc,seconds"
        );
        assert_eq!(lines[1], "1,0.001,1,0.5,0.5,,,,,,,2");
        assert_eq!(lines[2], "2,0.001,1,0.5,0.5,0.25,0.5,0.75,0.5,,,2");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
