//! Soft centreline Dice (clDice, Shit et al. 2021): the topology loss for tubular structures.
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::error::expect_valid;
use crate::overlap::ClassSelection;
use crate::target::{Target, encode};
use crate::{Activation, ConfigError, Reduction};

/// Configuration of [`ClDiceLoss`]. Defaults: MONAI `SoftclDiceLoss(softmax=True)`.
#[derive(Config, Debug)]
pub struct ClDiceLossConfig {
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Which channels are scored.
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// Erosion steps of the soft skeleton (MONAI `iter_`).
    #[config(default = 3)]
    pub iterations: usize,
    /// Added to the numerators of Tprec and Tsens. Finite, >= 0.
    #[config(default = 1.0)]
    pub smooth_nr: f64,
    /// Added to the denominators of Tprec and Tsens. Finite, >= 0.
    #[config(default = 1.0)]
    pub smooth_dr: f64,
    /// Added to the denominator of the harmonic mean. Finite, > 0.
    #[config(default = 1e-4)]
    pub smooth: f64,
    /// Label (or dense target value) of voxels to ignore (`p` and `g` zeroed there before the
    /// skeletons; an extension of MONAI's, which has none).
    pub ignore_index: Option<i64>,
    /// Mean or sum of the per-sample values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl ClDiceLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("smooth_nr", self.smooth_nr)?;
        ConfigError::check_non_negative("smooth_dr", self.smooth_dr)?;
        if !(self.smooth.is_finite() && self.smooth > 0.0) {
            return Err(ConfigError::range(
                "smooth",
                self.smooth,
                "a finite number > 0",
            ));
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.classes.check(classes)?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> ClDiceLoss {
        expect_valid(self.validate());
        ClDiceLoss {
            config: self.clone(),
        }
    }
}

/// Soft clDice loss, one value per sample over all scored channels:
///
/// ```text
/// erode(x)  = min over the spatial axes a of the 3-wide min filter of x along a   (a cross)
/// dilate(x) = the 3x3(x3) max filter of x                                          (a box)
/// open(x)   = dilate(erode(x));   skel_0 = relu(x - open(x))
/// x_k = erode(x_{k-1}),  delta = relu(x_k - open(x_k)),  skel_k = skel_{k-1} + relu(delta - skel_{k-1} delta)
/// S_p = skel_n(p), S_g = skel_n(g)                       (n = iterations; filters pad with -inf)
/// Tprec = (Σ S_p g + s_n) / (Σ S_p + s_d),   Tsens = (Σ S_g p + s_n) / (Σ S_g + s_d)
/// value_b = 1 - 2 Tprec Tsens / (Tprec + Tsens + smooth)       (sums over channels and space)
/// ```
/// The gradient flows through `S_p` and `p` (as in MONAI, by the max filters' selections).
///
/// # Shapes
/// - `logits`: `[B, C, ...S]` (2D or 3D); `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[B]`
#[derive(Debug, Clone)]
pub struct ClDiceLoss {
    config: ClDiceLossConfig,
}

/// The 3-wide max filter along `axis`, padding with -inf (torch `max_pool` with padding 1).
/// Ties keep the first of (previous, centre, next), as torch's pooling does.
fn max_filter<const D: usize>(x: Tensor<D>, axis: usize) -> Tensor<D> {
    let n = x.dims()[axis];
    if n == 1 {
        return x;
    }
    let mut pad_dims = x.dims();
    pad_dims[axis] = 1;
    let pad = Tensor::<D>::full(pad_dims, f64::NEG_INFINITY, &x.device());
    let prev = Tensor::cat(vec![pad.clone(), x.clone().narrow(axis, 0, n - 1)], axis);
    let next = Tensor::cat(vec![x.clone().narrow(axis, 1, n - 1), pad], axis);
    prev.max_pair(x).max_pair(next)
}

/// Soft erosion: the minimum of the 3-wide min filters along each spatial axis.
fn soft_erode<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    (2..D)
        .map(|a| max_filter(x.clone().neg(), a).neg())
        .reduce(|m, e| m.min_pair(e))
        .unwrap_or(x) // no spatial axis: nothing to erode
}

/// Soft dilation: the 3x3(x3) max filter, one axis after the other.
fn soft_dilate<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    (2..D).fold(x, max_filter)
}

fn soft_open<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    soft_dilate(soft_erode(x))
}

/// The soft skeleton of `x` after `iterations` erosions.
pub(crate) fn soft_skeleton<const D: usize>(x: Tensor<D>, iterations: usize) -> Tensor<D> {
    let mut img = x;
    let mut skel = relu(img.clone() - soft_open(img.clone()));
    for _ in 0..iterations {
        img = soft_erode(img);
        let delta = relu(img.clone() - soft_open(img.clone()));
        skel = skel.clone() + relu(delta.clone() - skel * delta);
    }
    skel
}

impl ClDiceLoss {
    /// The configuration.
    pub fn config(&self) -> &ClDiceLossConfig {
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

    /// The reduced loss; a weight map `w` weighs each voxel in the four sums
    /// (`Σ w S_p g / Σ w S_p`, ...).
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
        expect_valid(cfg.check_classes(dims[1]));
        let device = logits.device();
        let enc = encode(target.into(), dims, cfg.ignore_index);
        let mut p = cfg.activation.probabilities(logits);
        let mut g = enc.truth;
        if let Some(v) = enc.valid {
            p = p * v.clone();
            g = g * v;
        }
        let w = weight_map.map(|w| w * Tensor::<D>::ones(dims, &device));
        let (p, g) = (cfg.classes.select(p), cfg.classes.select(g));
        let w = w.map(|w| cfg.classes.select(w));
        let skel_p = soft_skeleton(p.clone(), cfg.iterations);
        let skel_g = soft_skeleton(g.clone(), cfg.iterations);
        let b = dims[0];
        // Sums per sample over channels and space, each voxel weighted by the weight map.
        let per_sample = |t: Tensor<D>| -> Tensor<1> {
            let t = match &w {
                Some(w) => t * w.clone(),
                None => t,
            };
            t.reshape([b as i32, -1]).sum_dim(1).reshape([b])
        };
        let tprec =
            (per_sample(skel_p.clone() * g) + cfg.smooth_nr) / (per_sample(skel_p) + cfg.smooth_dr);
        let tsens =
            (per_sample(skel_g.clone() * p) + cfg.smooth_nr) / (per_sample(skel_g) + cfg.smooth_dr);
        (tprec.clone() * tsens.clone() * 2.0 / (tprec + tsens + cfg.smooth)).neg() + 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_skeleton_of_a_bar_is_its_middle_row() {
        let device = Device::flex();
        // A 3-pixel-thick bar: one erosion leaves the middle row, which opening removes.
        let mut v = vec![0.0f32; 7 * 9];
        for r in 2..5 {
            for c in 1..8 {
                v[r * 9 + c] = 1.0;
            }
        }
        let x = Tensor::<1>::from_floats(v.as_slice(), &device).reshape([1, 1, 7, 9]);
        let s: Vec<f32> = soft_skeleton(x, 3).into_data().try_to_vec::<f32>().unwrap();
        for r in 0..7 {
            for c in 0..9 {
                let want = if r == 3 && (2..7).contains(&c) {
                    1.0
                } else {
                    0.0
                };
                assert_eq!(s[r * 9 + c], want, "({r}, {c})");
            }
        }
    }
}
