//! Cross-entropy over the class axis.
use burn::prelude::*;

use crate::error::expect_valid;
use crate::pixel::{Focus, binary_terms, reduce_terms};
use crate::target::{Target, encode, per_class};
use crate::{Activation, ConfigError, MeanOver, Reduction};

/// Configuration of [`CrossEntropyLoss`]. Defaults: torch's `CrossEntropyLoss()`.
#[derive(Config, Debug)]
pub struct CrossEntropyLossConfig {
    /// `Softmax` (logits in) or `Identity` (probabilities in).
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// One weight per class.
    pub class_weights: Option<Vec<f64>>,
    /// Label smoothing `s` in [0, 1) (torch `label_smoothing`).
    #[config(default = 0.0)]
    pub label_smoothing: f64,
    /// Label of voxels to ignore.
    pub ignore_index: Option<i64>,
    /// What `Reduction::Mean` divides by: torch uses `ValidEntries` (the weights of the valid
    /// voxels' labels), smp `SoftCrossEntropyLoss` uses `AllEntries` (every voxel).
    #[config(default = "MeanOver::ValidEntries")]
    pub mean_over: MeanOver,
    /// Mean or sum over voxels.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl CrossEntropyLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.activation == Activation::Sigmoid {
            return Err(ConfigError::Incompatible(
                "cross-entropy needs a softmax or identity activation; use BCE for sigmoid".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(ConfigError::range(
                "label_smoothing",
                self.label_smoothing,
                "a number in [0, 1)",
            ));
        }
        if let Some(w) = &self.class_weights {
            ConfigError::check_weights("class_weights", w)?;
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        ConfigError::check_count("class_weights", self.class_weights.as_deref(), classes)?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> CrossEntropyLoss {
        expect_valid(self.validate());
        CrossEntropyLoss {
            config: self.clone(),
        }
    }
}

/// Cross-entropy through the stable `log_softmax`, per voxel:
///
/// ```text
/// nll    = -sum_c w_c g_c ln p_c         (g one-hot, or soft)
/// smooth = -sum_c w_c ln p_c
/// term   = (1 - s) nll + (s / C) smooth
/// loss   = sum(term) / n                 (n: see MeanOver; torch: sum of w_label over valid voxels
///                                         for class indices, number of voxels for dense targets)
/// ```
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[B, 1, ...S]`
#[derive(Debug, Clone)]
pub struct CrossEntropyLoss {
    config: CrossEntropyLossConfig,
}

impl CrossEntropyLoss {
    /// The configuration.
    pub fn config(&self) -> &CrossEntropyLossConfig {
        &self.config
    }

    /// The reduced loss, `[1]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
    ) -> Tensor<1> {
        self.forward_weighted(logits, target, None)
    }

    /// The reduced loss; the weight map multiplies each voxel's term.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let cfg = &self.config;
        let (terms, valid, label_weight) = self.terms(logits, target.into(), weight_map);
        reduce_terms(terms, valid, label_weight, cfg.mean_over, cfg.reduction)
    }

    /// Per-voxel terms `[B, 1, ...S]`.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<D> {
        self.terms(logits, target.into(), weight_map).0
    }

    /// Terms, validity and (with class weights) the weight of each valid voxel's label.
    fn terms<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>, Option<Tensor<D>>) {
        let cfg = &self.config;
        let dims = logits.dims();
        let classes = dims[1];
        expect_valid(cfg.check_classes(classes));
        let device = logits.device();
        // torch normalises by the label weights for class indices, by the voxel count for
        // probability (dense) targets.
        let dense = matches!(target, Target::Dense(_));
        let enc = encode(target, dims, cfg.ignore_index);
        if classes == 1 {
            return self.binary_terms(logits, enc, weight_map);
        }
        let mut log_p = cfg.activation.log_probabilities(logits);
        let w = cfg
            .class_weights
            .as_ref()
            .map(|w| per_class::<D>(w, &device));
        if let Some(w) = &w {
            log_p = log_p * w.clone();
        }
        let mut terms = (enc.truth.clone() * log_p.clone()).sum_dim(1).neg();
        let s = cfg.label_smoothing;
        if s > 0.0 {
            terms = terms * (1.0 - s) - log_p.sum_dim(1) * (s / classes as f64);
        }
        let voxel_weight = enc.voxel_weight(weight_map);
        if let Some(vw) = &voxel_weight {
            terms = terms * vw.clone();
        }
        let label_weight = w.filter(|_| !dense).map(|w| {
            let lw = (enc.truth.clone() * w).sum_dim(1);
            match &enc.valid {
                Some(v) => lw * v.clone(),
                None => lw,
            }
        });
        (terms, enc.valid, label_weight)
    }

    /// A single channel: a softmax over it is constant (torch's loss would be 0 whatever the
    /// input), so the channel is read as the logit of the two-class softmax `(0, x)`, which is
    /// binary cross-entropy with the smoothed target `g (1 - s) + s / 2` (logged once).
    fn binary_terms<const D: usize>(
        &self,
        logits: Tensor<D>,
        enc: crate::target::Encoded<D>,
        weight_map: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>, Option<Tensor<D>>) {
        let cfg = &self.config;
        crate::error::warn_once("cross_entropy/1", || {
            "cross-entropy over a single channel: binary cross-entropy of its sigmoid is used"
                .into()
        });
        let s = cfg.label_smoothing;
        let t = enc.truth.clone() * (1.0 - s) + s / 2.0;
        let act = cfg.activation.for_channels(1);
        let (mut terms, _) = binary_terms(act, logits, t, Focus::NONE, None, None, None);
        if let Some(w) = &cfg.class_weights {
            terms = terms * w[0];
        }
        if let Some(vw) = enc.voxel_weight(weight_map) {
            terms = terms * vw;
        }
        (terms, enc.valid, None)
    }
}
