//! Generalized Dice loss (Sudre et al. 2017).
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::expect_valid;
use crate::overlap::{ClassSelection, Intersection, Power, Prepared, SumsSpec, WeightMapMode};
use crate::overlap_loss::LossForm;
use crate::target::{Target, row};
use crate::{Activation, ConfigError, Pooling, Reduction};

/// Class weights of the generalized Dice loss, from the target volume `G_c` of each class.
///
/// ```text
/// Square:   w_c = 1 / G_c^2      (Sudre et al. 2017; MONAI default)
/// Simple:   w_c = 1 / G_c
/// Uniform:  w_c = 1              (the micro-averaged Dice: kornia average='micro')
/// Given:    w_c as listed, one per channel C
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GdlWeights {
    /// Inverse squared volume.
    Square,
    /// Inverse volume.
    Simple,
    /// All ones.
    Uniform,
    /// User-given, one per channel.
    Given(Vec<f64>),
}

/// The weight of a class absent from the target (`G_c = 0`, so `1/G_c` is infinite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsentWeight {
    /// The largest weight of the present classes of the same unit (MONAI); 0 if none is present.
    LargestPresent,
    /// 0: absent classes do not count.
    Zero,
}

/// Configuration of [`GeneralizedDiceLoss`]. Defaults are MONAI's `GeneralizedDiceLoss(softmax=True)`.
#[derive(Config, Debug)]
pub struct GeneralizedDiceLossConfig {
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Which channels are scored.
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// Per sample or pooled over the batch.
    #[config(default = "Pooling::PerSample")]
    pub pooling: Pooling,
    /// Class weights.
    #[config(default = "GdlWeights::Square")]
    pub weights: GdlWeights,
    /// Weight of classes absent from the target.
    #[config(default = "AbsentWeight::LargestPresent")]
    pub absent_weight: AbsentWeight,
    /// Product or norm form of the intersection.
    #[config(default = "Intersection::Product")]
    pub intersection: Intersection,
    /// Added to the numerator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_nr: f64,
    /// Added to the denominator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_dr: f64,
    /// `1 - S`, `-ln S` or `-S`.
    #[config(default = "LossForm::OneMinus")]
    pub form: LossForm,
    /// Label (or dense target value) of voxels to ignore.
    pub ignore_index: Option<i64>,
    /// Mean or sum over units.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl GeneralizedDiceLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("smooth_nr", self.smooth_nr)?;
        ConfigError::check_non_negative("smooth_dr", self.smooth_dr)?;
        if self.smooth_dr == 0.0 {
            return Err(ConfigError::range(
                "smooth_dr",
                0.0,
                "> 0: an all-empty unit would divide by zero",
            ));
        }
        if let GdlWeights::Given(w) = &self.weights {
            ConfigError::check_weights("weights", w)?;
        }
        self.form.validate()
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.classes.check(classes)?;
        if let GdlWeights::Given(w) = &self.weights {
            ConfigError::check_count("weights", Some(w), classes)?;
        }
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> GeneralizedDiceLoss {
        expect_valid(self.validate());
        GeneralizedDiceLoss {
            config: self.clone(),
        }
    }
}

/// Generalized Dice loss: one value per unit (sample, or the pooled batch).
///
/// ```text
/// I_c = sum w p g,  P_c = sum w p,  G_c = sum w g        per unit, over its voxels
/// w_c = weight(G_c)  (constant: no gradient flows through it)
/// S   = (2 sum_c w_c I_c + s_n) / (sum_c w_c (P_c + G_c) + s_d)
/// loss = mean_u form(S_u)
/// ```
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[U, 1]`
#[derive(Debug, Clone)]
pub struct GeneralizedDiceLoss {
    config: GeneralizedDiceLossConfig,
}

impl GeneralizedDiceLoss {
    /// The configuration.
    pub fn config(&self) -> &GeneralizedDiceLossConfig {
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

    /// One value per unit, `[U, 1]`.
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
            intersection: cfg.intersection,
            pooling: cfg.pooling,
            count: false,
        };
        let sums = Prepared::new(logits, target.into(), weight_map, spec).sums;
        let kept = cfg.classes.indices(dims[1]);
        let weights = self.class_weights(sums.truth.clone().detach(), kept.as_deref());
        let num = (sums.inter * weights.clone()).sum_dim(1) * 2.0 + cfg.smooth_nr;
        let den = ((sums.pred + sums.truth) * weights).sum_dim(1) + cfg.smooth_dr;
        cfg.form.apply(num / den)
    }

    /// `w_uc` `[U, C']` from the (detached) target volumes.
    fn class_weights(&self, truth: Tensor<2>, kept: Option<&[usize]>) -> Tensor<2> {
        let cfg = &self.config;
        let [units, classes] = truth.dims();
        let device = truth.device();
        let absent = truth.clone().equal_elem(0.0);
        let raw = match &cfg.weights {
            GdlWeights::Uniform => return Tensor::ones([units, classes], &device),
            GdlWeights::Given(w) => {
                let w: Vec<f64> = match kept {
                    Some(idx) => idx.iter().map(|&i| w[i]).collect(),
                    None => w.clone(),
                };
                return row(&w, &device).repeat_dim(0, units);
            }
            GdlWeights::Square => truth
                .clone()
                .mask_fill(absent.clone(), 1.0)
                .square()
                .recip(),
            GdlWeights::Simple => truth.clone().mask_fill(absent.clone(), 1.0).recip(),
        };
        let finite = raw.mask_fill(absent.clone(), 0.0);
        match cfg.absent_weight {
            AbsentWeight::Zero => finite,
            AbsentWeight::LargestPresent => {
                let largest = finite.clone().max_dim(1).repeat_dim(1, classes);
                finite.mask_where(absent, largest)
            }
        }
    }
}
