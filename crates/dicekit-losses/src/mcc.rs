//! Matthews correlation coefficient loss (Abhishek & Hamarneh 2021).
use burn::prelude::*;

use crate::error::expect_valid;
use crate::overlap::{
    ClassSelection, Intersection, OverlapSums, Power, Prepared, SumsSpec, WeightMapMode,
};
use crate::target::Target;
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
        let spec = SumsSpec {
            activation: cfg.activation,
            classes: &cfg.classes,
            ignore: cfg.ignore_index,
            dense_ignore: crate::DenseIgnore::Entries,
            mode: WeightMapMode::Voxel,
            power: Power::Linear,
            intersection: Intersection::Product,
            pooling: cfg.pooling,
            count: true,
        };
        let prep = Prepared::new(logits, target.into(), weight_map, spec);
        // Voxels per unit (weighted), for the true negatives.
        let count = prep.count.expect("the spec asks for the count");
        let sums = prep.sums;
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
