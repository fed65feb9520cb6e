//! Generalized Wasserstein Dice loss (Fidon et al. 2017): Dice with a distance between classes.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::expect_valid;
use crate::target::{Target, encode, floats};
use crate::{Activation, ConfigError, Reduction};

/// How the true positives are weighted per class.
///
/// ```text
/// Default:  a_c = 0 for the background (class 0), 1 otherwise; denominator 2 TP + Σ_i W_i
/// Gdl:      a_c = 1 / (V_c + 1) with V_c the class's voxel count in the sample;
///           denominator Σ_i a_{l_i} (2 - W_i)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WassersteinWeighting {
    /// As in Fidon et al. 2017 (MONAI `weighting_mode='default'`).
    Default,
    /// Generalized-Dice-like inverse volumes (MONAI `weighting_mode='GDL'`).
    Gdl,
}

/// Configuration of [`WassersteinDiceLoss`]. MONAI `GeneralizedWassersteinDiceLoss`.
#[derive(Config, Debug)]
pub struct WassersteinDiceLossConfig {
    /// `C x C` distances between classes, `M[l][c]` from true class `l` to predicted class `c`
    /// (0 on the diagonal). Divided by its largest entry unless that is 1, as MONAI does.
    pub distances: Vec<Vec<f64>>,
    /// How true positives are weighted.
    #[config(default = "WassersteinWeighting::Default")]
    pub weighting: WassersteinWeighting,
    /// Added to the numerator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_nr: f64,
    /// Added to the denominator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_dr: f64,
    /// Label of voxels to ignore (left out of every sum; an extension of MONAI's).
    pub ignore_index: Option<i64>,
    /// Mean or sum of the per-sample values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl WassersteinDiceLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("smooth_nr", self.smooth_nr)?;
        ConfigError::check_non_negative("smooth_dr", self.smooth_dr)?;
        let c = self.distances.len();
        if c == 0 || self.distances.iter().any(|row| row.len() != c) {
            return Err(ConfigError::range(
                "distances",
                format!("{} rows", c),
                "a non-empty square C x C matrix",
            ));
        }
        for row in &self.distances {
            ConfigError::check_weights("distances", row)?;
        }
        if self.distances.iter().flatten().all(|&d| d == 0.0) {
            return Err(ConfigError::range(
                "distances",
                "all zero",
                "at least one positive distance",
            ));
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        if self.distances.len() != classes {
            return Err(ConfigError::ClassCount {
                field: "distances",
                len: self.distances.len(),
                classes,
            });
        }
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> WassersteinDiceLoss {
        expect_valid(self.validate());
        WassersteinDiceLoss {
            config: self.clone(),
        }
    }
}

/// Generalized Wasserstein Dice loss, per sample, with `p = softmax(x)` and labels `l_i`:
///
/// ```text
/// W_i  = Σ_c M[l_i, c] p_c,i                       (the Wasserstein distance of voxel i to its label)
/// TP   = Σ_i a_{l_i} (1 - W_i)
/// D    = 2 TP + Σ_i W_i            (Default)   or   Σ_i a_{l_i} (2 - W_i)    (Gdl)
/// value = 1 - (2 TP + s_n) / (D + s_d)
/// ```
/// (see [`WassersteinWeighting`] for `a`). A small distance between two classes makes confusing
/// them cheap: hierarchical labels (tumour sub-regions) are its use.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: class indices `[B, 1, ...S]` (a dense target weighs the
///   rows of `M` by its values: one-hot picks the label's row)
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[B]`
#[derive(Debug, Clone)]
pub struct WassersteinDiceLoss {
    config: WassersteinDiceLossConfig,
}

impl WassersteinDiceLoss {
    /// The configuration.
    pub fn config(&self) -> &WassersteinDiceLossConfig {
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

    /// The reduced loss; a weight map multiplies each voxel's terms.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let v = self.forward_no_reduction(logits, target, weight_map);
        match self.config.reduction {
            Reduction::Mean => v.mean(),
            Reduction::Sum => v.sum(),
        }
    }

    /// One value per sample, `[B]`.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let cfg = &self.config;
        let dims = logits.dims();
        let (b, c) = (dims[0], dims[1]);
        expect_valid(cfg.check_classes(c));
        let device = logits.device();
        let enc = encode(target.into(), dims, cfg.ignore_index);
        let weight = enc.voxel_weight(weight_map);
        // The one-hot target g [B, C, ...S] selects the row of M of each voxel's label.
        let g = enc.truth;
        let top = cfg
            .distances
            .iter()
            .flatten()
            .fold(0.0f64, |m, &d| m.max(d));
        let scale = if top == 1.0 { 1.0 } else { 1.0 / top };
        let flat: Vec<f64> = cfg.distances.iter().flatten().map(|d| d * scale).collect();
        let m = floats(&flat, &device).reshape([c, c]);
        let p = Activation::Softmax.probabilities(logits);
        let n: usize = dims[2..].iter().product();
        // W [B, N] = Σ_l g_l (Σ_c M[l, c] p_c):  (M p) per voxel, then picked by g.
        let p3: Tensor<3> = p.reshape([b, c, n]);
        let g3: Tensor<3> = g.reshape([b, c, n]);
        let mp = m.unsqueeze::<3>().expand([b, c, c]).matmul(p3);
        let wmap: Tensor<2> = (g3.clone() * mp).sum_dim(1).reshape([b, n]);
        let voxel_w: Tensor<2> = match weight {
            Some(w) => {
                let wc = w.dims()[1];
                let w3: Tensor<3> = w.reshape([b, wc, n]);
                w3.narrow(1, 0, 1).reshape([b, n])
            }
            None => Tensor::ones([b, n], &device),
        };
        // a per voxel [B, N] = Σ_l g_l a_l.
        let alpha: Tensor<3> = match cfg.weighting {
            WassersteinWeighting::Default => {
                let mut a = vec![1.0; c];
                a[0] = 0.0;
                floats(&a, &device).reshape([1, c, 1])
            }
            WassersteinWeighting::Gdl => {
                let volumes: Tensor<3> = (g3.clone() * voxel_w.clone().unsqueeze_dim::<3>(1))
                    .sum_dim(2)
                    .detach();
                (volumes + 1.0).recip()
            }
        };
        let a_vox: Tensor<2> = (g3 * alpha).sum_dim(1).reshape([b, n]) * voxel_w.clone();
        let tp: Tensor<1> = (a_vox.clone() * (wmap.clone().neg() + 1.0))
            .sum_dim(1)
            .reshape([b]);
        let den: Tensor<1> = match cfg.weighting {
            WassersteinWeighting::Default => {
                tp.clone() * 2.0 + (wmap * voxel_w).sum_dim(1).reshape([b])
            }
            WassersteinWeighting::Gdl => (a_vox * (wmap.neg() + 2.0)).sum_dim(1).reshape([b]),
        };
        ((tp * 2.0 + cfg.smooth_nr) / (den + cfg.smooth_dr)).neg() + 1.0
    }
}
