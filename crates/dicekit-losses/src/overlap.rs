//! The shared kernel of every overlap loss: weighted sums of `p`, `g` and their intersection.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::kernel::{SumsRequest, fused_sums};
use crate::target::{Target, check_target_shape, encode, encode_with};
use crate::{Activation, Pooling};

/// The exponent of the terms in the denominator sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Power {
    /// `P = sum(p)`, `G = sum(g)`.
    Linear,
    /// `P = sum(p^2)`, `G = sum(g^2)` (Milletari et al. 2016; MONAI `squared_pred`).
    Squared,
}

/// How the intersection `I` is computed.
///
/// ```text
/// Product:  I = sum(w * p * g)
/// Norm:     I = (sum(w p^k) + sum(w g^k) - sum(w |p - g|^k)) / 2      k = 1 (Linear) or 2 (Squared)
/// ```
/// Both agree for hard targets `g` in {0, 1}. For soft targets only `Norm` reaches its optimum
/// at `p = g` (Wang et al. 2023; MONAI `soft_label=True`, smp's L1 form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intersection {
    /// `sum(p * g)`.
    Product,
    /// The norm form, correct for soft labels.
    Norm,
}

/// How a per-voxel weight map (or validity mask) enters the sums.
///
/// ```text
/// Voxel:         I = sum(w p g),      P = sum(w p^k),   G = sum(w g^k)   (nnU-Net loss_mask; textbook)
/// MaskedInputs:  p <- w p, g <- w g:  I = sum(w^2 p g), P = sum((w p)^k), G = sum((w g)^k)   (MONAI MaskedDiceLoss)
/// ```
/// For a 0/1 mask both are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMapMode {
    /// The weight multiplies each voxel's contribution to every sum.
    Voxel,
    /// The weight multiplies the inputs `p` and `g` (so it enters the intersection squared).
    MaskedInputs,
}

/// Sums over the pooled axes, `[U, C]` with `U = B` (per sample) or `U = 1` (batch).
#[derive(Debug, Clone)]
pub(crate) struct OverlapSums {
    pub inter: Tensor<2>,
    pub pred: Tensor<2>,
    pub truth: Tensor<2>,
}

/// Sums `x` `[B, C, ...S]` (times `w`, broadcast from `[B, 1|C, ...S]`) to `[U, C]`.
pub(crate) fn pooled_sum<const D: usize>(
    x: Tensor<D>,
    w: Option<&Tensor<D>>,
    pooling: Pooling,
) -> Tensor<2> {
    let x = match w {
        Some(w) => x * w.clone(),
        None => x,
    };
    let [b, c] = [x.dims()[0], x.dims()[1]];
    let s: Tensor<2> = x
        .reshape([b as i64, c as i64, -1])
        .sum_dim(2)
        .reshape([b, c]);
    match pooling {
        Pooling::PerSample => s,
        Pooling::Batch => s.sum_dim(0),
    }
}

impl OverlapSums {
    /// Computes `I`, `P`, `G` from probabilities `p` and targets `g` (`[B, C, ...S]`).
    pub fn new<const D: usize>(
        p: Tensor<D>,
        g: Tensor<D>,
        w: Option<Tensor<D>>,
        mode: WeightMapMode,
        power: Power,
        intersection: Intersection,
        pooling: Pooling,
    ) -> Self {
        let (p, g, w) = match (w, mode) {
            (Some(w), WeightMapMode::MaskedInputs) => (p * w.clone(), g * w, None),
            (w, _) => (p, g, w),
        };
        let w = w.as_ref();
        let pow = |x: Tensor<D>| match power {
            Power::Linear => x,
            Power::Squared => x.square(),
        };
        let pred = pooled_sum(pow(p.clone()), w, pooling);
        let truth = pooled_sum(pow(g.clone()), w, pooling);
        let inter = match intersection {
            Intersection::Product => pooled_sum(p * g, w, pooling),
            Intersection::Norm => {
                let diff = match power {
                    Power::Linear => (p - g).abs(),
                    Power::Squared => (p - g).square(),
                };
                (pred.clone() + truth.clone() - pooled_sum(diff, w, pooling)) * 0.5
            }
        };
        Self { inter, pred, truth }
    }

    /// Keeps the classes `idx` (columns).
    pub fn select(self, idx: &Tensor<1, Int>) -> Self {
        Self {
            inter: self.inter.select(1, idx.clone()),
            pred: self.pred.select(1, idx.clone()),
            truth: self.truth.select(1, idx.clone()),
        }
    }
}

/// How an overlap loss builds its sums from logits and targets.
pub(crate) struct SumsSpec<'a> {
    pub activation: Activation,
    pub classes: &'a ClassSelection,
    pub ignore: Option<i64>,
    pub dense_ignore: crate::DenseIgnore,
    pub mode: WeightMapMode,
    pub power: Power,
    pub intersection: Intersection,
    pub pooling: Pooling,
    /// Also sum the voxel weights ([`Prepared::count`]).
    pub count: bool,
}

/// The sums of the kept classes, and what a loss may need besides.
pub(crate) struct Prepared {
    /// `[U, C']` sums of the kept classes.
    pub sums: OverlapSums,
    /// `[U, C']` sums of the voxel weights (weight map times ignore mask; the voxel count
    /// without either), when the spec asks for them.
    pub count: Option<Tensor<2>>,
}

impl Prepared {
    /// The shared prologue of the overlap losses: encode the target, apply the activation,
    /// weight, sum, and keep the selected classes. Shapes and classes are checked by the caller.
    ///
    /// On Flex the sums come from the fused kernel ([`crate::kernel`]) in one pass over the
    /// logits; elsewhere (and for MONAI's masked class-index targets) from burn's tensor ops.
    pub fn new<const D: usize>(
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
        spec: SumsSpec<'_>,
    ) -> Self {
        let dims = logits.dims();
        let device = logits.device();
        check_target_shape(&target, dims);
        let kept = spec.classes.indices(dims[1]);
        // MONAI's MaskedDiceLoss multiplies the label map by the mask before its one-hot
        // encoding: a masked voxel becomes background (and a weight w turns label l into
        // trunc(w l)); only p is multiplied afterwards.
        let masked_labels = matches!(
            (&target, spec.mode, &weight_map),
            (Target::Indices(_), WeightMapMode::MaskedInputs, Some(_)) if dims[1] > 1
        );
        let (mut sums, mut count) = if masked_labels {
            Self::generic(logits, target, weight_map, &spec)
        } else {
            // Dense targets with an ignore value: the rule applied here, the kernel gets the
            // cleaned target and the validity mask inside the weight.
            let (target, weight) = match (target, spec.ignore) {
                (Target::Dense(values), Some(_)) => {
                    let enc =
                        encode_with(Target::Dense(values), dims, spec.ignore, spec.dense_ignore);
                    let weight = enc.voxel_weight(weight_map);
                    (Target::Dense(enc.truth), weight)
                }
                (target, _) => (target, weight_map),
            };
            let request = SumsRequest {
                activation: spec.activation,
                ignore: spec.ignore,
                mode: spec.mode,
                power: spec.power,
                intersection: spec.intersection,
            };
            match fused_sums(&logits, &target, weight.as_ref(), request) {
                Some(s) => Self::from_fused(s, &spec),
                None => {
                    // The ignore rule of a dense target is already applied.
                    let spec = match target {
                        Target::Dense(_) => SumsSpec {
                            ignore: None,
                            ..spec
                        },
                        _ => spec,
                    };
                    Self::generic(logits, target, weight, &spec)
                }
            }
        };
        if let Some(idx) = kept {
            let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
            let idx = Tensor::<1, Int>::from_ints(idx.as_slice(), &device);
            sums = sums.select(&idx);
            count = count.map(|c| c.select(1, idx));
        }
        Prepared { sums, count }
    }

    /// The sums `[U, C]` from the kernel's `[B, C, 4]`.
    fn from_fused(s: Tensor<3>, spec: &SumsSpec<'_>) -> (OverlapSums, Option<Tensor<2>>) {
        let [b, c, _] = s.dims();
        let pool = |t: Tensor<2>| match spec.pooling {
            Pooling::PerSample => t,
            Pooling::Batch => t.sum_dim(0),
        };
        let take = |i: usize| pool(s.clone().narrow(2, i, 1).reshape([b, c]));
        let sums = OverlapSums {
            inter: take(0),
            pred: take(1),
            truth: take(2),
        };
        (sums, spec.count.then(|| take(3)))
    }

    /// The sums through burn's tensor operations (every backend; the reference of the kernel).
    fn generic<const D: usize>(
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
        spec: &SumsSpec<'_>,
    ) -> (OverlapSums, Option<Tensor<2>>) {
        let dims = logits.dims();
        let masked_labels = match (&target, spec.mode, &weight_map) {
            (Target::Indices(labels), WeightMapMode::MaskedInputs, Some(w)) if dims[1] > 1 => {
                Some((labels.clone(), w.clone()))
            }
            _ => None,
        };
        let ones = spec.count.then(|| logits.ones_like());
        let enc = encode_with(target, dims, spec.ignore, spec.dense_ignore);
        let p = spec.activation.probabilities(logits);
        let (weight, sums) = match masked_labels {
            Some((labels, w)) => {
                let masked = (labels.float() * w.clone()).int();
                let truth = encode(Target::Indices(masked), dims, None).truth;
                let sums = OverlapSums::new(
                    p * w.clone(),
                    truth,
                    enc.valid.clone(),
                    WeightMapMode::Voxel,
                    spec.power,
                    spec.intersection,
                    spec.pooling,
                );
                (enc.voxel_weight(Some(w)), sums)
            }
            None => {
                let weight = enc.voxel_weight(weight_map);
                let sums = OverlapSums::new(
                    p,
                    enc.truth,
                    weight.clone(),
                    spec.mode,
                    spec.power,
                    spec.intersection,
                    spec.pooling,
                );
                (weight, sums)
            }
        };
        let count = ones.map(|o| pooled_sum(o, weight.as_ref(), spec.pooling));
        (sums, count)
    }
}

/// Which classes (channels) are scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassSelection {
    /// Every channel.
    All,
    /// Every channel but 0 (MONAI `include_background=False`, nnU-Net `do_bg=False`).
    ExcludeBackground,
    /// The listed channels, in this order (smp `classes=[..]`).
    Only(Vec<usize>),
}

impl ClassSelection {
    /// The kept channel indices for `classes` channels, or `None` when all are kept.
    ///
    /// A single channel has no background to leave out: `ExcludeBackground` keeps it (MONAI
    /// warns and keeps it too; [`check`](Self::check) logs the warning).
    pub fn indices(&self, classes: usize) -> Option<Vec<usize>> {
        match self {
            ClassSelection::All => None,
            ClassSelection::ExcludeBackground if classes < 2 => None,
            ClassSelection::ExcludeBackground => Some((1..classes).collect()),
            ClassSelection::Only(v) => Some(v.clone()),
        }
    }

    /// The kept channels of `t` `[B, C, ...S]` (all of them when nothing is left out).
    pub(crate) fn select<const D: usize>(&self, t: Tensor<D>) -> Tensor<D> {
        match self.indices(t.dims()[1]) {
            Some(idx) => {
                let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
                let idx = Tensor::<1, Int>::from_ints(idx.as_slice(), &t.device());
                t.select(1, idx)
            }
            None => t,
        }
    }

    /// Checks the selection against the number of channels (a single channel with
    /// `ExcludeBackground` is kept, with a logged warning).
    pub fn check(&self, classes: usize) -> Result<(), crate::ConfigError> {
        match self {
            ClassSelection::ExcludeBackground if classes < 2 => {
                crate::error::warn_once("exclude_background/1", || {
                    "`classes` = exclude_background with a single channel: the channel is the \
                     foreground and is kept (as MONAI does)"
                        .into()
                });
                Ok(())
            }
            ClassSelection::Only(v) if v.is_empty() || v.iter().any(|&c| c >= classes) => {
                Err(crate::ConfigError::range(
                    "classes",
                    format!("{v:?}"),
                    "a non-empty list of channel indices < C",
                ))
            }
            _ => Ok(()),
        }
    }
}
