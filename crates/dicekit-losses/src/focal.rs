//! Focal loss (Lin et al. 2017), sigmoid and softmax forms.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::expect_valid;
use crate::pixel::{Focus, binary_terms, reduce_terms};
use crate::target::{Target, encode_with, per_class};
use crate::{Activation, ClassSelection, ConfigError, DenseIgnore, MeanOver, Reduction, SumOver};

/// The `alpha` balance of a focal loss.
///
/// ```text
/// Balanced(a), sigmoid:  positives weighted a, negatives 1 - a       (MONAI, smp, kornia)
/// Balanced(a), softmax:  class 0 weighted 1 - a, classes 1.. a        (MONAI, kornia)
/// PerClass(a_c), softmax: class c weighted a_c; sigmoid: positives a_c, negatives 1 - a_c
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FocalAlpha {
    /// No balance.
    None,
    /// One value in [0, 1].
    Balanced(f64),
    /// One value per class.
    PerClass(Vec<f64>),
}

/// Configuration of [`FocalLoss`]. Defaults: softmax focal with `gamma = 2`, no alpha.
#[derive(Config, Debug)]
pub struct FocalLossConfig {
    /// `Sigmoid` (one-vs-rest, per element) or `Softmax` (over classes); `Identity` = sigmoid
    /// form on probabilities.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Focusing exponent. Finite, >= 0 (0 = cross-entropy).
    #[config(default = 2.0)]
    pub gamma: f64,
    /// Balance between positives and negatives or between classes.
    #[config(default = "FocalAlpha::None")]
    pub alpha: FocalAlpha,
    /// Which channels are used. They are selected before the activation, so a softmax runs over
    /// the kept channels only (MONAI `include_background=False`).
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// One weight per channel, multiplying that channel's terms (MONAI `weight`).
    pub class_weights: Option<Vec<f64>>,
    /// One weight per channel on the positive part (sigmoid form; kornia `pos_weight`).
    pub pos_weight: Option<Vec<f64>>,
    /// Label (or dense target value) of voxels to ignore.
    pub ignore_index: Option<i64>,
    /// How `ignore_index` marks a dense target (per entry, or MONAI's voxel rule).
    #[config(default = "DenseIgnore::Entries")]
    pub dense_ignore: DenseIgnore,
    /// What `Reduction::Mean` divides by when voxels are ignored.
    #[config(default = "MeanOver::ValidEntries")]
    pub mean_over: MeanOver,
    /// Mean or sum of the terms.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// What `Reduction::Sum` adds up.
    #[config(default = "SumOver::Terms")]
    pub sum_over: SumOver,
    /// Reduced focal loss (sigmoid form): the modulation is 1 where `p_t < r` and
    /// `((1 - p_t) / r)^gamma` elsewhere (smp `reduced_threshold`). In (0, 1].
    pub reduced_threshold: Option<f64>,
    /// Normalized focal loss (sigmoid form): the terms are divided by the sum of the modulation
    /// `t f_pos + (1 - t) f_neg` over the used entries, floored at 1e-6 (smp `normalized=True`;
    /// the divisor is part of the gradient, as in smp).
    #[config(default = false)]
    pub normalized: bool,
}

impl FocalLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("gamma", self.gamma)?;
        match &self.alpha {
            FocalAlpha::Balanced(a) => ConfigError::check_unit("alpha", *a)?,
            FocalAlpha::PerClass(v) => ConfigError::check_weights("alpha", v)?,
            FocalAlpha::None => {}
        }
        if let Some(w) = &self.class_weights {
            ConfigError::check_weights("class_weights", w)?;
        }
        if let Some(w) = &self.pos_weight {
            ConfigError::check_weights("pos_weight", w)?;
            if self.activation == Activation::Softmax {
                return Err(ConfigError::Incompatible(
                    "`pos_weight` needs the sigmoid form".into(),
                ));
            }
        }
        if let Some(r) = self.reduced_threshold.filter(|r| !(*r > 0.0 && *r <= 1.0)) {
            return Err(ConfigError::range(
                "reduced_threshold",
                r,
                "a number in (0, 1]",
            ));
        }
        if (self.reduced_threshold.is_some() || self.normalized)
            && self.activation == Activation::Softmax
        {
            return Err(ConfigError::Incompatible(
                "`reduced_threshold` and `normalized` need the sigmoid form".into(),
            ));
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.classes.check(classes)?;
        ConfigError::check_count("class_weights", self.class_weights.as_deref(), classes)?;
        ConfigError::check_count("pos_weight", self.pos_weight.as_deref(), classes)?;
        if let FocalAlpha::PerClass(v) = &self.alpha {
            ConfigError::check_count("alpha", Some(v), classes)?;
        }
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> FocalLoss {
        expect_valid(self.validate());
        FocalLoss {
            config: self.clone(),
        }
    }
}

/// Focal loss.
///
/// ```text
/// sigmoid: term = -[a_pos pw_c g (1-p)^gamma ln p + a_neg (1-g) p^gamma ln(1-p)]   per element
/// softmax: term_c = -a_c g_c (1-p_c)^gamma ln p_c                                per voxel and class
/// term *= class weight w_c;  loss = sum(term) / n   (n: see MeanOver)
/// ```
/// For hard targets the sigmoid form equals MONAI's `(1 - p_t)^gamma * BCE` and smp's
/// `(1 - exp(-BCE))^gamma * BCE`.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[B, C, ...S]` terms (0 where ignored)
#[derive(Debug, Clone)]
pub struct FocalLoss {
    config: FocalLossConfig,
}

impl FocalLoss {
    /// The configuration.
    pub fn config(&self) -> &FocalLossConfig {
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
        let cfg = &self.config;
        if cfg.reduction == Reduction::Sum && cfg.sum_over == SumOver::SpatialMeans {
            let spatial: Vec<usize> = (2..D).collect();
            return match valid {
                // MONAI: each (sample, channel) sum over the sample's valid voxels.
                Some(v) => {
                    let count = v
                        .sum_dims(spatial.as_slice())
                        .detach()
                        .clamp_min(f64::EPSILON);
                    (terms.sum_dims(spatial.as_slice()) / count).sum()
                }
                None => terms.mean_dims(spatial.as_slice()).sum(),
            };
        }
        reduce_terms(terms, valid, None, cfg.mean_over, cfg.reduction)
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
        let classes = dims[1];
        expect_valid(cfg.check_classes(classes));
        let device = logits.device();
        let mut enc = encode_with(target, dims, cfg.ignore_index, cfg.dense_ignore);
        let mut weight_map = weight_map;
        let mut logits = logits;
        // Per-class lists follow the kept channels.
        let kept = cfg.classes.indices(classes);
        let pick = |v: &[f64]| -> Vec<f64> {
            match &kept {
                Some(idx) => idx.iter().map(|&i| v[i]).collect(),
                None => v.to_vec(),
            }
        };
        if let Some(idx) = &kept {
            let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
            let idx = Tensor::<1, Int>::from_ints(idx.as_slice(), &device);
            let sel = |t: Tensor<D>| {
                if t.dims()[1] == classes {
                    t.select(1, idx.clone())
                } else {
                    t
                }
            };
            logits = sel(logits);
            enc.truth = sel(enc.truth);
            enc.valid = enc.valid.map(sel);
            weight_map = weight_map.map(sel);
        }
        let classes = logits.dims()[1];
        let g = enc.truth.clone();
        // A softmax over one channel is constant: the sigmoid form is used (logged once).
        let mut terms = match cfg.activation.for_channels(classes) {
            Activation::Softmax => {
                let log_p = cfg.activation.log_probabilities(logits);
                let mut t = g * log_p.clone();
                if cfg.gamma != 0.0 {
                    let q = (log_p.exp().neg() + 1.0).clamp_min(1e-12);
                    t = t * q.powf_scalar(cfg.gamma);
                }
                let alpha: Option<Vec<f64>> = match &cfg.alpha {
                    FocalAlpha::None => None,
                    FocalAlpha::Balanced(a) => Some(
                        (0..classes)
                            .map(|c| if c == 0 { 1.0 - a } else { *a })
                            .collect(),
                    ),
                    FocalAlpha::PerClass(v) => Some(pick(v)),
                };
                if let Some(a) = alpha {
                    t = t * per_class::<D>(&a, &device);
                }
                t.neg()
            }
            act => {
                let (a_pos, a_neg) = match &cfg.alpha {
                    FocalAlpha::None => (None, None),
                    FocalAlpha::Balanced(a) => {
                        (Some(vec![*a; classes]), Some(vec![1.0 - a; classes]))
                    }
                    FocalAlpha::PerClass(v) => {
                        let v = pick(v);
                        let neg = v.iter().map(|a| 1.0 - a).collect();
                        (Some(v), Some(neg))
                    }
                };
                let pc = |v: Option<Vec<f64>>| v.map(|v| per_class::<D>(&v, &device));
                let focus = Focus {
                    gamma: cfg.gamma,
                    reduced_threshold: cfg.reduced_threshold,
                };
                let (terms, modulation) = binary_terms(
                    act,
                    logits,
                    g.clone(),
                    focus,
                    pc(a_pos),
                    pc(a_neg),
                    pc(cfg.pos_weight.as_deref().map(pick)),
                );
                if cfg.normalized {
                    let modulation = modulation.unwrap_or_else(|| g.ones_like());
                    let used = match &enc.valid {
                        Some(v) => modulation * v.clone(),
                        None => modulation,
                    };
                    terms / used.sum().clamp_min(1e-6).unsqueeze()
                } else {
                    terms
                }
            }
        };
        if let Some(w) = &cfg.class_weights {
            terms = terms * per_class::<D>(&pick(w), &device);
        }
        if let Some(w) = enc.voxel_weight(weight_map) {
            terms = terms * w;
        }
        (terms, enc.valid)
    }
}
