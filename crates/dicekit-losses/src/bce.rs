//! Binary cross-entropy with logits.
use burn::prelude::*;

use crate::error::expect_valid;
use crate::pixel::{Focus, binary_terms, reduce_terms};
use crate::target::{Target, encode, per_class};
use crate::{Activation, ConfigError, MeanOver, Reduction};

/// Configuration of [`BceLoss`]. Defaults: torch's `BCEWithLogitsLoss()`.
#[derive(Config, Debug)]
pub struct BceLossConfig {
    /// `Sigmoid` (logits in) or `Identity` (probabilities in).
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// One weight per channel on the positive term (torch `pos_weight`).
    pub pos_weight: Option<Vec<f64>>,
    /// One weight per channel on the whole term.
    pub class_weights: Option<Vec<f64>>,
    /// Label smoothing `s` in [0, 1): the target becomes `g (1 - s) + (1 - g) s` (smp `smooth_factor`).
    #[config(default = 0.0)]
    pub label_smoothing: f64,
    /// Target value of entries to ignore.
    pub ignore_index: Option<i64>,
    /// What `Reduction::Mean` divides by when entries are ignored.
    #[config(default = "MeanOver::ValidEntries")]
    pub mean_over: MeanOver,
    /// Mean or sum of the terms.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl BceLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.activation == Activation::Softmax {
            return Err(ConfigError::Incompatible(
                "BCE needs a sigmoid or identity activation".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(ConfigError::range(
                "label_smoothing",
                self.label_smoothing,
                "a number in [0, 1)",
            ));
        }
        if let Some(w) = &self.pos_weight {
            ConfigError::check_weights("pos_weight", w)?;
        }
        if let Some(w) = &self.class_weights {
            ConfigError::check_weights("class_weights", w)?;
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        ConfigError::check_count("pos_weight", self.pos_weight.as_deref(), classes)?;
        ConfigError::check_count("class_weights", self.class_weights.as_deref(), classes)?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> BceLoss {
        expect_valid(self.validate());
        BceLoss {
            config: self.clone(),
        }
    }
}

/// Binary cross-entropy, element by element, through the stable `ln sigmoid`:
///
/// ```text
/// t = g (1 - s) + (1 - g) s
/// term = -w_c [pw_c t ln sigmoid(x) + (1 - t) ln sigmoid(-x)]
/// loss = sum(term) / n      (n: see MeanOver)
/// ```
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`] (soft targets allowed)
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[B, C, ...S]`
#[derive(Debug, Clone)]
pub struct BceLoss {
    config: BceLossConfig,
}

impl BceLoss {
    /// The configuration.
    pub fn config(&self) -> &BceLossConfig {
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

    /// The reduced loss; the weight map multiplies each voxel's terms.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let (terms, valid) = self.terms(logits, target.into(), weight_map);
        reduce_terms(
            terms,
            valid,
            None,
            self.config.mean_over,
            self.config.reduction,
        )
    }

    /// Per-element terms `[B, C, ...S]`.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<D> {
        self.terms(logits, target.into(), weight_map).0
    }

    fn terms<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let device = logits.device();
        let enc = encode(target, dims, cfg.ignore_index);
        let s = cfg.label_smoothing;
        let t = if s > 0.0 {
            enc.truth.clone() * (1.0 - 2.0 * s) + s
        } else {
            enc.truth.clone()
        };
        let pw = cfg.pos_weight.as_ref().map(|w| per_class::<D>(w, &device));
        let (mut terms, _) = binary_terms(cfg.activation, logits, t, Focus::NONE, None, None, pw);
        if let Some(w) = &cfg.class_weights {
            terms = terms * per_class::<D>(w, &device);
        }
        if let Some(w) = enc.voxel_weight(weight_map) {
            terms = terms * w;
        }
        (terms, enc.valid)
    }
}
