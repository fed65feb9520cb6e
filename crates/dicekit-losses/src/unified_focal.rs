//! Asymmetric unified focal loss (Yeung et al. 2022), built for class imbalance.
use burn::prelude::*;

use crate::error::expect_valid;
use crate::overlap::pooled_sum;
use crate::target::{Target, encode};
use crate::{Activation, ConfigError, Pooling, Reduction};

/// Configuration of [`UnifiedFocalLoss`]. Defaults: MONAI `AsymmetricUnifiedFocalLoss()` on
/// logits (MONAI itself takes probabilities: `activation = identity` is its convention).
#[derive(Config, Debug)]
pub struct UnifiedFocalLossConfig {
    /// Applied to the input along the class axis (`Identity`: probabilities in, as MONAI).
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// `lambda`: weight of the asymmetric focal part; `1 - lambda` weighs the asymmetric focal
    /// Tversky part (1: MONAI `AsymmetricFocalLoss`, 0: `AsymmetricFocalTverskyLoss`). In [0, 1].
    #[config(default = 0.5)]
    pub weight: f64,
    /// Focal exponent `gamma`. Finite, >= 0.
    #[config(default = 0.5)]
    pub gamma: f64,
    /// `delta`: weight of the foreground (and of false negatives). In [0, 1].
    #[config(default = 0.7)]
    pub delta: f64,
    /// Probabilities are clamped to `[eps, 1 - eps]`; also the Tversky smoothing. In (0, 0.5).
    #[config(default = 1e-7)]
    pub epsilon: f64,
    /// Label of voxels to ignore: `p` and `g` are zeroed there before the clamp (MONAI's rule).
    pub ignore_index: Option<i64>,
    /// Reduction of each part: the mean (MONAI's) or the sum of its entries.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl UnifiedFocalLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_unit("weight", self.weight)?;
        ConfigError::check_unit("delta", self.delta)?;
        ConfigError::check_non_negative("gamma", self.gamma)?;
        if !(self.epsilon > 0.0 && self.epsilon < 0.5) {
            return Err(ConfigError::range(
                "epsilon",
                self.epsilon,
                "a number in (0, 0.5)",
            ));
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> UnifiedFocalLoss {
        expect_valid(self.validate());
        UnifiedFocalLoss {
            config: self.clone(),
        }
    }
}

/// Asymmetric unified focal loss, a binary loss on channel 0 (background) and channel 1
/// (foreground); a single channel `p` becomes `(1 - p, p)`:
///
/// ```text
/// p = clamp(p, eps, 1 - eps)
/// focal:    mean over [B, 2, ...S] of  (1 - delta) (1 - p_0)^gamma (-g_0 ln p_0)  and  delta (-g_1 ln p_1)
/// tversky:  T_c = (TP_c + eps) / (TP_c + delta FN_c + (1 - delta) FP_c + eps)   per (sample, class)
///           mean over [B, 2] of  1 - T_0  and  (1 - T_1)^(1 - gamma)
/// loss = lambda focal + (1 - lambda) tversky
/// ```
/// The background keeps its focal suppression, the foreground does not: the rare class is never
/// down-weighted (Yeung et al. 2022).
///
/// # Shapes
/// - `logits`: `[B, C, ...S]` with C = 1 or 2 (further channels are not scored); `target`: see [`Target`]
/// - `forward` -> `[1]`
#[derive(Debug, Clone)]
pub struct UnifiedFocalLoss {
    config: UnifiedFocalLossConfig,
}

impl UnifiedFocalLoss {
    /// The configuration.
    pub fn config(&self) -> &UnifiedFocalLossConfig {
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

    /// The reduced loss; a weight map multiplies each voxel's focal terms and its contributions
    /// to the Tversky sums.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let enc = encode(target.into(), dims, cfg.ignore_index);
        let mut p = cfg.activation.probabilities(logits);
        let mut g = enc.truth;
        if dims[1] == 1 {
            p = Tensor::cat(vec![p.clone().neg() + 1.0, p], 1);
            g = Tensor::cat(vec![g.clone().neg() + 1.0, g], 1);
        }
        if let Some(v) = enc.valid {
            p = p * v.clone();
            g = g * v;
        }
        let weigh = |t: Tensor<D>| match &weight_map {
            Some(w) => t * w.clone(),
            None => t,
        };
        let eps = cfg.epsilon;
        let p = p.clamp(eps, 1.0 - eps);
        let (d, gamma) = (cfg.delta, cfg.gamma);
        let channel = |t: &Tensor<D>, c: usize| t.clone().narrow(1, c, 1);
        // The asymmetric focal part: the mean (or sum) over [B, 2, ...S].
        let focal = || {
            let ce = |c: usize| (channel(&g, c) * channel(&p, c).log()).neg();
            let back = (channel(&p, 0).neg() + 1.0).powf_scalar(gamma) * ce(0) * (1.0 - d);
            let fore = ce(1) * d;
            let terms = weigh(Tensor::cat(vec![back, fore], 1));
            match cfg.reduction {
                Reduction::Mean => terms.mean(),
                Reduction::Sum => terms.sum(),
            }
        };
        // The asymmetric focal Tversky part: the mean (or sum) over [B, 2].
        let tversky = || {
            let sum = |t: Tensor<D>| pooled_sum(weigh(t), None, Pooling::PerSample);
            let tp = sum(g.clone() * p.clone());
            let fnn = sum(g.clone() * (p.clone().neg() + 1.0));
            let fp = sum((g.clone().neg() + 1.0) * p.clone());
            let t = (tp.clone() + eps) / (tp + fnn * d + fp * (1.0 - d) + eps);
            let back = t.clone().narrow(1, 0, 1).neg() + 1.0;
            let fore = (t.narrow(1, 1, 1).neg() + 1.0).powf_scalar(1.0 - gamma);
            let parts: Tensor<2> = Tensor::cat(vec![back, fore], 1);
            match cfg.reduction {
                Reduction::Mean => parts.mean(),
                Reduction::Sum => parts.sum(),
            }
        };
        // lambda in [0, 1] (validated): a part weighted 0 is not computed.
        let lambda = cfg.weight;
        if lambda >= 1.0 {
            focal()
        } else if lambda <= 0.0 {
            tversky()
        } else {
            focal() * lambda + tversky() * (1.0 - lambda)
        }
    }
}
