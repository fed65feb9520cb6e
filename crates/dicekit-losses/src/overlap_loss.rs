//! Soft Dice, Jaccard (soft IoU), Tversky and focal Tversky: one loss, one kernel.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::expect_valid;
use crate::overlap::{
    ClassSelection, Intersection, OverlapSums, Power, Prepared, SumsSpec, WeightMapMode,
};
use crate::target::{Target, row};
use crate::{Activation, ConfigError, DenseIgnore, Pooling, Reduction};

/// The overlap index a loss is built on, per (unit, class), from `I`, `P`, `G`,
/// `FP = P - I`, `FN = G - I`, smoothing `s_n`, `s_d` and the denominator floor `eps`:
///
/// ```text
/// Dice:     D = (2 I + s_n) / max(P + G + s_d, eps)
/// Jaccard:  J = (I + s_n) / max(P + G - I + s_d, eps)
/// Tversky:  T = (I + s_n) / max(I + alpha FP + beta FN + s_d, eps)
/// ```
/// `Tversky { alpha: 0.5, beta: 0.5 }` is the Dice ratio and `Tversky { alpha: 1, beta: 1 }`
/// the Jaccard ratio (with the smoothing applied once instead of doubled for Dice).
/// `alpha` weighs false positives, `beta` false negatives (Salehi et al. 2017).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlapIndex {
    /// Sørensen–Dice coefficient.
    Dice,
    /// Jaccard index (IoU).
    Jaccard,
    /// Tversky index.
    Tversky {
        /// Weight of the false positives.
        alpha: f64,
        /// Weight of the false negatives.
        beta: f64,
    },
}

/// How the index `S` of one (unit, class) becomes a loss value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossForm {
    /// `1 - S` (MONAI, smp, kornia).
    OneMinus,
    /// `-ln(max(S, floor))` (smp `log_loss=True`; Wong et al. 2018 log-Dice).
    NegLog {
        /// Floor of `S` inside the logarithm (smp: 1e-7).
        floor: f64,
    },
    /// `-S`, in `[-1, 0]` (nnU-Net).
    Negative,
}

impl LossForm {
    pub(crate) fn apply(self, score: Tensor<2>) -> Tensor<2> {
        match self {
            LossForm::OneMinus => score.neg() + 1.0,
            LossForm::NegLog { floor } => score.clamp_min(floor).log().neg(),
            LossForm::Negative => score.neg(),
        }
    }

    /// The loss value of a zero score.
    pub(crate) fn worst(self) -> f64 {
        match self {
            LossForm::OneMinus => 1.0,
            LossForm::NegLog { floor } => -floor.ln(),
            LossForm::Negative => 0.0,
        }
    }

    pub(crate) fn validate(self) -> Result<(), ConfigError> {
        match self {
            LossForm::NegLog { floor } if !(floor > 0.0 && floor < 1.0) => Err(ConfigError::range(
                "form.floor",
                floor,
                "a number in (0, 1)",
            )),
            _ => Ok(()),
        }
    }
}

/// What happens to a class that is absent from the target of a unit (`G = 0`).
///
/// ```text
/// Keep:  scored like any class: with smoothing, S = s_n / (P + s_d), about 0 unless P ~ 0 (MONAI, nnU-Net)
/// Zero:  value set to 0, but the class still counts in the average (smp)
/// Drop:  left out of the average; a unit with no present class scores the form's worst value (kornia)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbsentClass {
    /// Score it like a present class.
    Keep,
    /// Zero its value but keep it in the mean's count.
    Zero,
    /// Drop it from the mean.
    Drop,
}

/// How class weights `w_c` enter the mean over classes.
///
/// ```text
/// Scale:     loss_u = sum_c w_c v_uc / n_u            (MONAI: weights not renormalised; n_u = classes kept)
/// Normalize: loss_u = sum_c w_c v_uc / sum_c w_c      (smp, kornia: a weighted mean)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightNormalization {
    /// Multiply the values, divide by the class count.
    Scale,
    /// Weighted mean.
    Normalize,
}

/// Where the focal exponent `gamma` of a focal Tversky loss is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaPlacement {
    /// `v^gamma` per (unit, class), before averaging (Abraham & Khan 2019).
    PerValue,
    /// `(mean v)^gamma` on the reduced loss (smp `TverskyLoss`).
    AfterReduction,
}

/// Configuration of [`OverlapLoss`]: soft Dice, Jaccard, Tversky and focal Tversky with every
/// convention of MONAI, smp, kornia and nnU-Net as an option.
///
/// Defaults are MONAI's `DiceLoss(softmax=True)`.
#[derive(Config, Debug)]
pub struct OverlapLossConfig {
    /// Dice, Jaccard or Tversky.
    #[config(default = "OverlapIndex::Dice")]
    pub index: OverlapIndex,
    /// Applied to the logits along the class axis.
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// Which channels are scored.
    #[config(default = "ClassSelection::All")]
    pub classes: ClassSelection,
    /// Per sample or pooled over the batch.
    #[config(default = "Pooling::PerSample")]
    pub pooling: Pooling,
    /// Linear or squared terms in `P` and `G`.
    #[config(default = "Power::Linear")]
    pub power: Power,
    /// Product or norm form of the intersection.
    #[config(default = "Intersection::Product")]
    pub intersection: Intersection,
    /// Added to the numerator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_nr: f64,
    /// Added to the denominator. Finite, >= 0.
    #[config(default = 1e-5)]
    pub smooth_dr: f64,
    /// Floor of the denominator (smp 1e-7, nnU-Net 1e-8; 0 = none). Finite, >= 0.
    #[config(default = 0.0)]
    pub eps: f64,
    /// `1 - S`, `-ln S` or `-S`.
    #[config(default = "LossForm::OneMinus")]
    pub form: LossForm,
    /// Focal exponent (1 = plain loss). Finite, > 0.
    #[config(default = 1.0)]
    pub gamma: f64,
    /// Where `gamma` is applied.
    #[config(default = "GammaPlacement::PerValue")]
    pub gamma_placement: GammaPlacement,
    /// Treatment of classes absent from a unit's target.
    #[config(default = "AbsentClass::Keep")]
    pub absent: AbsentClass,
    /// One weight per channel `C` (background included, even when it is not scored).
    pub class_weights: Option<Vec<f64>>,
    /// How class weights enter the mean.
    #[config(default = "WeightNormalization::Scale")]
    pub weight_normalization: WeightNormalization,
    /// How a weight map enters the sums.
    #[config(default = "WeightMapMode::Voxel")]
    pub weight_map: WeightMapMode,
    /// Label (or dense target value) of voxels to ignore.
    pub ignore_index: Option<i64>,
    /// How `ignore_index` marks a dense target (per entry, or MONAI's voxel rule).
    #[config(default = "DenseIgnore::Entries")]
    pub dense_ignore: DenseIgnore,
    /// Floor `t` of the intersection in the index (nnU-Net `SoftDiceLoss(clip_tp=t)`):
    /// `I' = max(I, t)` replaces `I` while `FP = P - I` and `FN = G - I` keep the unclipped value,
    /// so Dice becomes `(2 I' + s_n) / max(2 I' + FP + FN + s_d, eps)`. Finite, >= 0.
    pub clip_intersection: Option<f64>,
    /// Mean over units of the per-unit class means, or the sum of all values.
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

impl OverlapLossConfig {
    /// Soft Dice with MONAI's defaults.
    pub fn dice() -> Self {
        Self::new()
    }

    /// Soft Jaccard (IoU) loss.
    pub fn jaccard() -> Self {
        Self::new().with_index(OverlapIndex::Jaccard)
    }

    /// Tversky loss; `alpha` weighs false positives, `beta` false negatives.
    pub fn tversky(alpha: f64, beta: f64) -> Self {
        Self::new().with_index(OverlapIndex::Tversky { alpha, beta })
    }

    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("smooth_nr", self.smooth_nr)?;
        ConfigError::check_non_negative("smooth_dr", self.smooth_dr)?;
        ConfigError::check_non_negative("eps", self.eps)?;
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(ConfigError::range(
                "gamma",
                self.gamma,
                "a finite number > 0",
            ));
        }
        if let OverlapIndex::Tversky { alpha, beta } = self.index {
            ConfigError::check_non_negative("index.alpha", alpha)?;
            ConfigError::check_non_negative("index.beta", beta)?;
        }
        self.form.validate()?;
        if let Some(w) = &self.class_weights {
            ConfigError::check_weights("class_weights", w)?;
        }
        if let Some(t) = self.clip_intersection {
            ConfigError::check_non_negative("clip_intersection", t)?;
        }
        if self.smooth_dr == 0.0 && self.eps == 0.0 {
            return Err(ConfigError::Incompatible(
                "`smooth_dr` and `eps` are both 0: an empty class would divide by zero".into(),
            ));
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.classes.check(classes)?;
        ConfigError::check_count("class_weights", self.class_weights.as_deref(), classes)?;
        ConfigError::check_ignore(self.ignore_index, classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> OverlapLoss {
        expect_valid(self.validate());
        OverlapLoss {
            config: self.clone(),
        }
    }
}

/// Soft overlap loss (Dice / Jaccard / Tversky / focal Tversky).
///
/// Per unit `u` (a sample, or the whole batch) and class `c`, with `p` the probabilities,
/// `g` the target and `w` the voxel weight (weight map times the ignore mask):
///
/// ```text
/// I = sum w p g,  P = sum w p^k,  G = sum w g^k        (see Intersection, Power, WeightMapMode)
/// S = index(I, P, G)                                    (see OverlapIndex)
/// v_uc = form(S)^gamma                                  (see LossForm, GammaPlacement)
/// loss = mean_u [ sum_c w_c m_uc v_uc / n_u ]           (see AbsentClass, WeightNormalization)
/// ```
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]; `weight_map`: `[B, 1, ...S]` or `[B, C, ...S]`
/// - `forward` -> `[1]`; `forward_no_reduction` -> `[U, C']` (`U = B` per sample, 1 pooled;
///   `C'` the scored classes), each entry `w_c m_uc v_uc`.
///
/// # Example
/// ```
/// use burn::prelude::*;
/// use dicekit_losses::{Activation, OverlapLossConfig, Target};
/// let device = Device::flex();
/// let logits = Tensor::<4>::zeros([1, 1, 2, 2], &device);
/// let target = Tensor::<4>::from_floats([[[[1.0, 0.0], [0.0, 0.0]]]], &device);
/// let loss = OverlapLossConfig::dice().with_activation(Activation::Sigmoid).init();
/// let value: f32 = loss.forward(logits, Target::Dense(target)).into_scalar();
/// assert!((value - (1.0 - 2.0 * 0.5 / 3.0)).abs() < 1e-4);
/// ```
#[derive(Debug, Clone)]
pub struct OverlapLoss {
    config: OverlapLossConfig,
}

impl OverlapLoss {
    /// The configuration.
    pub fn config(&self) -> &OverlapLossConfig {
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
        let (values, present) = self.values(logits, target.into(), weight_map);
        self.reduce(values, present)
    }

    /// The per (unit, class) values `[U, C']`.
    pub fn forward_no_reduction<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<2> {
        let cfg = &self.config;
        let (values, present) = self.values(logits, target.into(), weight_map);
        let device = values.device();
        let values = match cfg.absent {
            AbsentClass::Drop => values * present.float(),
            _ => values,
        };
        match &self.weights_row(&device) {
            Some(w) => values * w.clone(),
            None => values,
        }
    }

    /// Values `v_uc` `[U, C']` (absent classes already zeroed for `Zero`) and the presence mask.
    fn values<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> (Tensor<2>, Tensor<2, Bool>) {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let spec = SumsSpec {
            activation: cfg.activation,
            classes: &cfg.classes,
            ignore: cfg.ignore_index,
            dense_ignore: cfg.dense_ignore,
            mode: cfg.weight_map,
            power: cfg.power,
            intersection: cfg.intersection,
            pooling: cfg.pooling,
            count: false,
        };
        let OverlapSums { inter, pred, truth } =
            Prepared::new(logits, target, weight_map, spec).sums;
        let present = truth.clone().greater_elem(0.0);
        let (num, den) = match cfg.clip_intersection {
            None => match cfg.index {
                OverlapIndex::Dice => (inter * 2.0 + cfg.smooth_nr, pred + truth + cfg.smooth_dr),
                OverlapIndex::Jaccard => (
                    inter.clone() + cfg.smooth_nr,
                    pred + truth - inter + cfg.smooth_dr,
                ),
                OverlapIndex::Tversky { alpha, beta } => {
                    let fp = pred - inter.clone();
                    let fnn = truth - inter.clone();
                    (
                        inter.clone() + cfg.smooth_nr,
                        inter + fp * alpha + fnn * beta + cfg.smooth_dr,
                    )
                }
            },
            Some(t) => {
                // nnU-Net clips tp alone: fp and fn keep the unclipped intersection.
                let fp = pred - inter.clone();
                let fnn = truth - inter.clone();
                let tp = inter.clamp_min(t);
                let (k, a, b) = match cfg.index {
                    OverlapIndex::Dice => (2.0, 1.0, 1.0),
                    OverlapIndex::Jaccard => (1.0, 1.0, 1.0),
                    OverlapIndex::Tversky { alpha, beta } => (1.0, alpha, beta),
                };
                (
                    tp.clone() * k + cfg.smooth_nr,
                    tp * k + fp * a + fnn * b + cfg.smooth_dr,
                )
            }
        };
        let den = if cfg.eps > 0.0 {
            den.clamp_min(cfg.eps)
        } else {
            den
        };
        let mut values = cfg.form.apply(num / den);
        if cfg.gamma != 1.0 && cfg.gamma_placement == GammaPlacement::PerValue {
            values = values.clamp_min(1e-12).powf_scalar(cfg.gamma);
        }
        if cfg.absent == AbsentClass::Zero {
            values = values.mask_fill(present.clone().bool_not(), 0.0);
        }
        (values, present)
    }

    fn weights_row(&self, device: &Device) -> Option<Tensor<2>> {
        let cfg = &self.config;
        let w = cfg.class_weights.as_ref()?;
        let kept: Vec<f64> = match cfg.classes.indices(w.len()) {
            Some(idx) => idx.iter().map(|&i| w[i]).collect(),
            None => w.clone(),
        };
        Some(row(&kept, device))
    }

    fn reduce(&self, values: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<1> {
        let cfg = &self.config;
        let device = values.device();
        let [units, classes] = values.dims();
        let mask = match cfg.absent {
            AbsentClass::Drop => present.float(),
            _ => Tensor::<2>::ones([units, classes], &device),
        };
        let wm = match self.weights_row(&device) {
            Some(w) => mask.clone() * w,
            None => mask.clone(),
        };
        let weighted = values * wm.clone();
        let loss = match cfg.reduction {
            Reduction::Sum => weighted.sum(),
            Reduction::Mean => {
                let num: Tensor<1> = weighted.sum_dim(1).reshape([units]);
                let den: Tensor<1> = match cfg.weight_normalization {
                    WeightNormalization::Scale => mask.sum_dim(1),
                    WeightNormalization::Normalize => wm.sum_dim(1),
                }
                .reshape([units]);
                let empty = den.clone().equal_elem(0.0);
                let per_unit =
                    (num / den.mask_fill(empty.clone(), 1.0)).mask_fill(empty, cfg.form.worst());
                per_unit.mean()
            }
        };
        if cfg.gamma != 1.0 && cfg.gamma_placement == GammaPlacement::AfterReduction {
            loss.clamp_min(1e-12).powf_scalar(cfg.gamma)
        } else {
            loss
        }
    }
}
