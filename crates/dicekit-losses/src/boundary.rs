//! Boundary loss (Kervadec et al. 2019): probabilities weighted by the target's signed distance.
use burn::prelude::*;
use burn::tensor::TensorData;

use crate::distance::{across_boundary, host};
use crate::error::expect_valid;
use crate::overlap::{ClassSelection, pooled_sum};
use crate::target::{Target, encode};
use crate::{Activation, ConfigError, Pooling, Reduction};

/// Configuration of [`BoundaryLoss`]. Defaults: MONAI `BoundaryLoss(softmax=True)`.
#[derive(Config, Debug)]
pub struct BoundaryLossConfig {
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Which channels are scored.
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// One value per (sample, class), or per class averaged over the batch (MONAI `batch=True`).
    #[config(default = "Pooling::PerSample")]
    pub pooling: Pooling,
    /// Label (or dense target value) of voxels to ignore (weight 0; an extension of MONAI's).
    pub ignore_index: Option<i64>,
    /// Mean or sum of the (unit, class) values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl BoundaryLossConfig {
    /// Checks every value that does not depend on the input (none can be wrong today).
    pub fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.classes.check(classes)?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    pub fn init(&self) -> BoundaryLoss {
        expect_valid(self.validate());
        BoundaryLoss {
            config: self.clone(),
        }
    }
}

/// Boundary loss. Per sample `b` and class `c`, with `p` the probabilities and `g` the target:
///
/// ```text
/// m = g > 0.5
/// d(x) = 1 - EDT(not m)(x)   inside m        (0 on the inner boundary, negative deeper in)
/// d(x) = EDT(m)(x)           outside m       (distance to the nearest voxel of m)
/// d = 0 everywhere when m is empty or full                 (a constant: no gradient)
/// value_bc = Σ_x w p d / Σ_x w               (w = 1 without weight map or ignore label: / N)
/// ```
/// `EDT(a)(x)` is the Euclidean distance in voxels from `x` to the nearest voxel where `a` holds.
/// With [`Pooling::Batch`] the values are averaged over the batch per class (MONAI `batch=True`).
/// The loss is negative for a confident, correct prediction: it is minimised, not zeroed.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[U, C']`
#[derive(Debug, Clone)]
pub struct BoundaryLoss {
    config: BoundaryLossConfig,
}

/// The signed distance map of every `[B, C]` slab of a `[B, C, ...S]` array (see [`BoundaryLoss`]).
pub(crate) fn signed_distances(values: &[f64], dims: &[usize]) -> Vec<f64> {
    let spatial = &dims[2..];
    let n: usize = spatial.iter().product::<usize>().max(1);
    let mut out = vec![0.0; values.len()];
    for (slab, field) in values.chunks(n).zip(out.chunks_mut(n)) {
        if let Some((inside, distance)) = across_boundary(slab, spatial) {
            for ((f, inn), d) in field.iter_mut().zip(inside).zip(distance) {
                *f = if inn { 1.0 - d } else { d };
            }
        }
    }
    out
}

impl BoundaryLoss {
    /// The configuration.
    pub fn config(&self) -> &BoundaryLossConfig {
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

    /// The reduced loss with a per-voxel weight map (or 0/1 validity mask).
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

    /// One value per (unit, class), `[U, C']`.
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
        let field = Tensor::<D>::from_data(
            TensorData::new(signed_distances(&host(g), &kept), kept),
            &device,
        );
        let terms = p * field;
        let (terms, w) = match &weight {
            Some(w) => {
                let w = w.clone().expand(kept);
                (terms * w.clone(), w)
            }
            None => (terms, Tensor::<D>::ones(kept, &device)),
        };
        let spatial_sum = |t: Tensor<D>| pooled_sum(t, None, Pooling::PerSample);
        let per = spatial_sum(terms) / spatial_sum(w).clamp_min(f64::MIN_POSITIVE);
        match cfg.pooling {
            Pooling::PerSample => per,
            Pooling::Batch => per.mean_dim(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_distances_are_negative_inside_and_zero_on_the_inner_boundary() {
        // One row: 0 0 1 1 1 0 -> outside 2 1 . . . 1, inside 0 -1 0.
        let d = signed_distances(&[0.0, 0.0, 1.0, 1.0, 1.0, 0.0], &[1, 1, 1, 6]);
        assert_eq!(d, vec![2.0, 1.0, 0.0, -1.0, 0.0, 1.0]);
        assert_eq!(signed_distances(&[1.0; 4], &[1, 1, 2, 2]), vec![0.0; 4]);
        assert_eq!(signed_distances(&[0.0; 4], &[1, 1, 2, 2]), vec![0.0; 4]);
    }
}
