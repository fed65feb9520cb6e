//! Hausdorff-distance loss through distance transforms (Karimi & Salcudean 2019, "HD-loss (DT)").
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::distance::{across_boundary, host};
use crate::error::expect_valid;
use crate::overlap::{ClassSelection, pooled_sum};
use crate::target::{Target, encode};
use crate::{Activation, ConfigError, Pooling, Reduction};

/// Configuration of [`HausdorffDtLoss`]. Defaults: MONAI `HausdorffDTLoss(softmax=True)`
/// (background excluded, alpha 2).
#[derive(Config, Debug)]
pub struct HausdorffDtLossConfig {
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Which channels are scored (MONAI `include_background=False` by default).
    #[config(default = "ClassSelection::ExcludeBackground")]
    pub classes: ClassSelection,
    /// Exponent of the distance fields. Finite, >= 0.
    #[config(default = 2.0)]
    pub alpha: f64,
    /// Per sample or pooled over the batch.
    #[config(default = "Pooling::PerSample")]
    pub pooling: Pooling,
    /// Label (or dense target value) of voxels to ignore (weight 0; an extension of MONAI's).
    pub ignore_index: Option<i64>,
    /// Mean or sum of the (unit, class) values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
    /// `ln(1 + loss)` of the reduced loss (MONAI `LogHausdorffDTLoss`).
    #[config(default = false)]
    pub log: bool,
}

impl HausdorffDtLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("alpha", self.alpha)
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
    pub fn init(&self) -> HausdorffDtLoss {
        expect_valid(self.validate());
        HausdorffDtLoss {
            config: self.clone(),
        }
    }
}

/// Per (unit, class), with `p` the probabilities and `g` the target of the class:
///
/// ```text
/// f_p = field(p > 0.5), f_g = field(g > 0.5)       (constants: no gradient flows through them)
/// field(m)(x) = EDT(m)(x) + EDT(not m)(x)            distance to the other side of the boundary,
///                                                    0 everywhere when m is all 0 or all 1
/// value = Σ_x w (p - g)^2 (f_p^α + f_g^α) / Σ_x w     (w = 1 without weight map or ignore label)
/// ```
///
/// `EDT(m)(x)` is the Euclidean distance (in voxels) from `x` to the nearest voxel outside `m`.
/// Errors far from both boundaries weigh more, which approximates the Hausdorff distance.
/// With `log`, the loss is `ln(1 + loss)` of the reduced value (MONAI `LogHausdorffDTLoss`).
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[U, C']`
#[derive(Debug, Clone)]
pub struct HausdorffDtLoss {
    config: HausdorffDtLossConfig,
}

/// The distance field of every `[B, C]` slab of a `[B, C, ...S]` array of values: thresholded
/// at 0.5, then `EDT(m) + EDT(not m)` (unit spacing), zero for slabs without both sides; each
/// raised to `alpha`.
fn distance_fields(values: &[f64], dims: &[usize], alpha: f64) -> Vec<f64> {
    let spatial = &dims[2..];
    let n: usize = spatial.iter().product::<usize>().max(1);
    // No boundary: a zero field, raised to alpha (1 for alpha = 0, as torch's 0 ** 0).
    let mut out = vec![0f64.powf(alpha); values.len()];
    for (slab, field) in values.chunks(n).zip(out.chunks_mut(n)) {
        if let Some((_, distance)) = across_boundary(slab, spatial) {
            for (f, d) in field.iter_mut().zip(distance) {
                *f = d.powf(alpha);
            }
        }
    }
    out
}

impl HausdorffDtLoss {
    /// The reduced loss, `[1]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
    ) -> Tensor<1> {
        self.forward_weighted(logits, target, None)
    }

    /// The reduced loss with a per-voxel weight map (or 0/1 validity mask).
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let v = self.forward_no_reduction(logits, target, weight_map);
        let loss = match self.config.reduction {
            Reduction::Mean => v.mean(),
            Reduction::Sum => v.sum(),
        };
        if self.config.log {
            (loss + 1.0).log()
        } else {
            loss
        }
    }

    /// One value per (unit, class), `[U, C']` (before the logarithm of `log`).
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<2> {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let device = logits.device();
        let enc = encode(target.into(), dims, cfg.ignore_index);
        let weight = enc.voxel_weight(weight_map);
        let p = cfg.activation.probabilities(logits);
        let g = enc.truth;
        let (p, g) = (cfg.classes.select(p), cfg.classes.select(g));
        let kept = p.dims();
        let (fp, fg) = (
            distance_fields(&host(p.clone()), &kept, cfg.alpha),
            distance_fields(&host(g.clone()), &kept, cfg.alpha),
        );
        let field: Vec<f64> = fp.iter().zip(&fg).map(|(a, b)| a + b).collect();
        let field = Tensor::<D>::from_data(TensorData::new(field, kept), &device);
        let err = (p - g).powi_scalar(2) * field;
        // Sum over the spatial axes (and the batch when pooled), then divide by the weight.
        let (err, w) = match &weight {
            Some(w) => {
                let w = w.clone().expand(kept);
                (err * w.clone(), w)
            }
            None => (err, Tensor::<D>::ones(kept, &device)),
        };
        let spatial_sum = |t: Tensor<D>| pooled_sum(t, None, Pooling::PerSample);
        let (num, den) = (spatial_sum(err), spatial_sum(w));
        match cfg.pooling {
            Pooling::PerSample => num / den.clamp_min(f64::MIN_POSITIVE),
            Pooling::Batch => num.sum_dim(0) / den.sum_dim(0).clamp_min(f64::MIN_POSITIVE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_distances_to_the_other_side() {
        // One row: 0 0 1 1 1 0 -> inside distances 1 2 1, outside 2 1 . . . 1.
        let f = distance_fields(&[0.0, 0.0, 1.0, 1.0, 1.0, 0.0], &[1, 1, 1, 6], 1.0);
        assert_eq!(f, vec![2.0, 1.0, 1.0, 2.0, 1.0, 1.0]);
        // All inside or all outside: no field.
        assert_eq!(distance_fields(&[1.0; 4], &[1, 1, 2, 2], 2.0), vec![0.0; 4]);
        assert_eq!(distance_fields(&[0.2; 4], &[1, 1, 2, 2], 2.0), vec![0.0; 4]);
    }

    #[test]
    fn a_perfect_prediction_scores_zero() {
        let device = Device::flex();
        let labels = Tensor::<4, Int>::from_ints([[[[0, 1, 1, 0], [0, 1, 0, 0]]]], &device);
        let onehot = Tensor::cat(
            vec![
                labels.clone().equal_elem(0).float(),
                labels.clone().equal_elem(1).float(),
            ],
            1,
        );
        let logits = onehot * 40.0 - 20.0;
        let loss = HausdorffDtLossConfig::new()
            .init()
            .forward(logits, Target::Indices(labels));
        assert!(loss.into_scalar::<f64>().abs() < 1e-12);
    }
}
