//! Lovász hinge and Lovász-softmax losses (Berman et al. 2018).
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::distance::host;
use crate::error::expect_valid;
use crate::target::{Target, encode, floats};
use crate::{Activation, ConfigError, Pooling};

/// Which surrogate of the Jaccard loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LovaszVariant {
    /// Binary, on logits: errors `relu(1 - x (2g - 1))` per channel.
    Hinge,
    /// Multi-class, on softmax probabilities: errors `|g_c - p_c|`.
    Softmax,
}

/// Which classes enter the mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LovaszClasses {
    /// Only classes present in the unit's target (Berman et al.; smp).
    Present,
    /// Every class (kornia).
    All,
    /// Hinge only: every channel of a unit flattened into one binary problem, one value per unit
    /// whatever its target (smp `LovaszLoss(mode='binary' | 'multilabel')`).
    Joint,
}

/// Configuration of [`LovaszLoss`]. Defaults: smp `LovaszLoss(mode='multiclass')`.
#[derive(Config, Debug)]
pub struct LovaszLossConfig {
    /// Hinge (binary) or softmax (multi-class).
    #[config(default = "LovaszVariant::Softmax")]
    pub variant: LovaszVariant,
    /// Per image, or the whole batch as one image.
    #[config(default = "Pooling::Batch")]
    pub pooling: Pooling,
    /// Classes averaged over.
    #[config(default = "LovaszClasses::Present")]
    pub classes: LovaszClasses,
    /// Label (or dense target value) of voxels to ignore.
    pub ignore_index: Option<i64>,
}

impl LovaszLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.classes == LovaszClasses::Joint && self.variant != LovaszVariant::Hinge {
            return Err(ConfigError::Incompatible(
                "`classes` = joint flattens the channels into one binary problem: it needs `variant` = hinge".into(),
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
    pub fn init(&self) -> LovaszLoss {
        expect_valid(self.validate());
        LovaszLoss {
            config: self.clone(),
        }
    }
}

/// Lovász extension of the Jaccard loss.
///
/// Per unit `u` and class `c`: errors `e` sorted decreasingly with the targets `g` alongside,
/// `G = sum g`, `J_k = 1 - (G - cumsum(g)_k) / (G + cumsum(1 - g)_k)`, `grad_k = J_k - J_{k-1}`;
/// value `= sum_k e_k grad_k`. The loss is the mean over units and the chosen classes.
/// The sort order is piecewise constant, so the weights `grad` are computed on the host and the
/// gradient flows through `e`.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`] -> `[1]`
#[derive(Debug, Clone)]
pub struct LovaszLoss {
    config: LovaszLossConfig,
}

impl LovaszLoss {
    /// The reduced loss, `[1]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
    ) -> Tensor<1> {
        self.forward_weighted(logits, target, None)
    }

    /// The reduced loss; a weight map acts as a 0/1 validity mask (voxels with weight 0 are left out).
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let (values, used, count) = self.values(logits, target.into(), weight_map);
        if count == 0.0 {
            return (values * 0.0).sum();
        }
        let [units, classes] = values.dims();
        let used = floats(&used, &values.device()).reshape([units, classes]);
        (values * used).sum() / count
    }

    /// The value of each (unit, class), `[U, C]`; classes left out of the mean (absent, with
    /// [`LovaszClasses::Present`]) are 0.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<2> {
        let (values, used, _) = self.values(logits, target.into(), weight_map);
        let [units, classes] = values.dims();
        let used = floats(&used, &values.device()).reshape([units, classes]);
        values * used
    }

    /// Values `[U, C]`, which of them enter the mean (1 or 0), and the mean's divisor (the
    /// number of values used; the number of units for [`LovaszClasses::Joint`], whose unit value
    /// is the sum of its row).
    fn values<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> (Tensor<2>, Vec<f64>, f64) {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let device = logits.device();
        let enc = encode(target, dims, cfg.ignore_index);
        let g = enc.truth.clone();
        let errors = match cfg.variant {
            LovaszVariant::Softmax => (g.clone() - Activation::Softmax.probabilities(logits)).abs(),
            LovaszVariant::Hinge => relu((logits * (g.clone() * 2.0 - 1.0)).neg() + 1.0),
        };
        let (b, c) = (dims[0], dims[1]);
        let n: usize = dims[2..].iter().product();
        let e_host = host(errors.clone());
        let g_host = host(g);
        let valid_host = enc.voxel_weight(weight_map).map(|v| {
            let ch = v.dims()[1];
            (host(v), ch)
        });
        let units = match cfg.pooling {
            Pooling::PerSample => b,
            Pooling::Batch => 1,
        };
        let mut weights = vec![0.0; b * c * n];
        let mut used = vec![0.0; units * c];
        for u in 0..units {
            let samples: Vec<usize> = match cfg.pooling {
                Pooling::PerSample => vec![u],
                Pooling::Batch => (0..b).collect(),
            };
            // The channels solved together: one each, or all of them (Joint).
            let groups: Vec<Vec<usize>> = if cfg.classes == LovaszClasses::Joint {
                vec![(0..c).collect()]
            } else {
                (0..c).map(|k| vec![k]).collect()
            };
            for group in groups {
                let mut idx: Vec<usize> = Vec::with_capacity(samples.len() * n * group.len());
                for &s in &samples {
                    for &k in &group {
                        for i in 0..n {
                            let flat = (s * c + k) * n + i;
                            let keep = match &valid_host {
                                Some((v, ch)) => {
                                    v[(s * ch + if *ch == 1 { 0 } else { k }) * n + i] > 0.0
                                }
                                None => true,
                            };
                            if keep {
                                idx.push(flat);
                            }
                        }
                    }
                }
                let present = idx.iter().any(|&f| g_host[f] > 0.0);
                if cfg.variant == LovaszVariant::Softmax
                    && cfg.classes == LovaszClasses::Present
                    && !present
                {
                    continue;
                }
                for &k in &group {
                    used[u * c + k] = 1.0;
                }
                idx.sort_by(|&a, &b| e_host[b].total_cmp(&e_host[a]));
                let total: f64 = idx.iter().map(|&f| g_host[f]).sum();
                let (mut cum_g, mut cum_not, mut prev) = (0.0, 0.0, 0.0);
                for &f in &idx {
                    cum_g += g_host[f];
                    cum_not += 1.0 - g_host[f];
                    let jac = 1.0 - (total - cum_g) / (total + cum_not);
                    weights[f] = jac - prev;
                    prev = jac;
                }
            }
        }
        let w = floats(&weights, &device).reshape(errors.dims());
        let per: Tensor<2> = crate::overlap::pooled_sum(errors * w, None, cfg.pooling);
        let count = if cfg.classes == LovaszClasses::Joint {
            units as f64
        } else {
            used.iter().sum()
        };
        (per, used, count)
    }
}
