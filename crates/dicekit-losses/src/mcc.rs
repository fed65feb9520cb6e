//! Matthews correlation coefficient loss (Abhishek & Hamarneh 2021).
use burn::prelude::*;

use crate::error::expect_valid;
use crate::overlap::{ClassSelection, Intersection, OverlapSums, Power, WeightMapMode};
use crate::target::{Target, encode};
use crate::{Activation, ConfigError, Pooling, Reduction};

/// Configuration of [`MccLoss`]. Defaults: MONAI `MCCLoss(sigmoid=True)`.
#[derive(Config, Debug)]
pub struct MccLossConfig {
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Which channels are scored.
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// Per sample or pooled over the batch.
    #[config(default = "Pooling::PerSample")]
    pub pooling: Pooling,
    /// Added to the numerator. Finite, >= 0.
    #[config(default = 0.0)]
    pub smooth_nr: f64,
    /// Added under the square root of the denominator. Finite, > 0.
    #[config(default = 1e-5)]
    pub smooth_dr: f64,
    /// Label (or dense target value) of voxels to ignore.
    pub ignore_index: Option<i64>,
    /// Mean or sum of the (unit, class) values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl MccLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("smooth_nr", self.smooth_nr)?;
        ConfigError::check_non_negative("smooth_dr", self.smooth_dr)?;
        if self.smooth_dr == 0.0 {
            return Err(ConfigError::range(
                "smooth_dr",
                0.0,
                "> 0: a constant prediction would divide by zero",
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
    pub fn init(&self) -> MccLoss {
        expect_valid(self.validate());
        MccLoss {
            config: self.clone(),
        }
    }
}

/// `1 - MCC` with soft confusion counts, per (unit, class):
///
/// ```text
/// TP = Σ w p g, FP = Σ w p (1-g), FN = Σ w (1-p) g, TN = Σ w (1-p)(1-g)
/// MCC = (TP TN - FP FN + s_n) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN) + s_d)
/// value = 1 - MCC, and 0 where FP = FN = 0 exactly
/// ```
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[U, C']`
#[derive(Debug, Clone)]
pub struct MccLoss {
    config: MccLossConfig,
}

impl MccLoss {
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
        let w = enc.voxel_weight(weight_map);
        let count = crate::overlap::pooled_sum(enc.truth.ones_like(), w.as_ref(), cfg.pooling);
        let p = cfg.activation.probabilities(logits);
        let mut sums = OverlapSums::new(
            p,
            enc.truth,
            w,
            WeightMapMode::Voxel,
            Power::Linear,
            Intersection::Product,
            cfg.pooling,
        );
        let mut count = count;
        if let Some(idx) = cfg.classes.indices(dims[1]) {
            let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
            let idx = Tensor::<1, Int>::from_ints(idx.as_slice(), &device);
            sums = sums.select(&idx);
            count = count.select(1, idx);
        }
        let OverlapSums {
            inter: tp,
            pred,
            truth,
        } = sums;
        let fp = pred.clone() - tp.clone();
        let fnn = truth.clone() - tp.clone();
        let tn = count - pred.clone() - truth.clone() + tp.clone();
        let num = tp.clone() * tn.clone() - fp.clone() * fnn.clone() + cfg.smooth_nr;
        let den =
            (pred * truth * (tn.clone() + fp.clone()) * (tn + fnn.clone()) + cfg.smooth_dr).sqrt();
        let perfect = (fp + fnn).equal_elem(0.0);
        (num / den).neg().add_scalar(1.0).mask_fill(perfect, 0.0)
    }
}
