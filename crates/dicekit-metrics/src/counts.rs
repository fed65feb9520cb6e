//! Confusion counts per (case, class) and the overlap metrics computed from them.
use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use crate::error::check_shapes;
use crate::{EmptySide, MetricError, Score};

/// Voxel counts of one binary comparison. Counts are accumulated (added) over images or
/// batches and finalised once, never averaged per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionCounts {
    /// Predicted and in the reference.
    pub true_positives: u64,
    /// Predicted, not in the reference.
    pub false_positives: u64,
    /// In the reference, not predicted.
    pub false_negatives: u64,
    /// In neither.
    pub true_negatives: u64,
}

impl std::ops::AddAssign for ConfusionCounts {
    fn add_assign(&mut self, o: Self) {
        self.true_positives += o.true_positives;
        self.false_positives += o.false_positives;
        self.false_negatives += o.false_negatives;
        self.true_negatives += o.true_negatives;
    }
}

impl ConfusionCounts {
    /// Counts from two binary masks of the same shape.
    pub fn from_masks(
        pred: &ArrayViewD<bool>,
        truth: &ArrayViewD<bool>,
    ) -> Result<Self, MetricError> {
        check_shapes(pred.shape(), truth.shape())?;
        let mut c = ConfusionCounts::default();
        ndarray::Zip::from(pred)
            .and(truth)
            .for_each(|&p, &t| match (p, t) {
                (true, true) => c.true_positives += 1,
                (true, false) => c.false_positives += 1,
                (false, true) => c.false_negatives += 1,
                (false, false) => c.true_negatives += 1,
            });
        Ok(c)
    }

    /// Foreground voxels of the prediction.
    pub fn pred_voxels(&self) -> u64 {
        self.true_positives + self.false_positives
    }

    /// Foreground voxels of the reference.
    pub fn truth_voxels(&self) -> u64 {
        self.true_positives + self.false_negatives
    }

    fn empty(&self) -> Option<EmptySide> {
        EmptySide::of(self.pred_voxels(), self.truth_voxels())
    }

    /// `2 TP / (2 TP + FP + FN)`; `Empty(Both)` when both masks are empty.
    #[doc(alias = "f1")]
    pub fn dice(&self) -> Score {
        self.f_beta(1.0)
    }

    /// `TP / (TP + FP + FN)`; `Empty(Both)` when both masks are empty.
    #[doc(alias = "iou")]
    pub fn jaccard(&self) -> Score {
        match self.empty() {
            Some(EmptySide::Both) => Score::Empty(EmptySide::Both),
            _ => Score::Value(
                self.true_positives as f64
                    / (self.true_positives + self.false_positives + self.false_negatives) as f64,
            ),
        }
    }

    /// `TP / (TP + FP)`; `Empty(Prediction | Both)` when nothing is predicted.
    #[doc(alias = "ppv")]
    pub fn precision(&self) -> Score {
        match self.empty() {
            Some(side @ (EmptySide::Prediction | EmptySide::Both)) => Score::Empty(side),
            _ => Score::Value(self.true_positives as f64 / self.pred_voxels() as f64),
        }
    }

    /// `TP / (TP + FN)`; `Empty(Reference | Both)` when the reference is empty.
    #[doc(alias = "sensitivity")]
    #[doc(alias = "tpr")]
    pub fn recall(&self) -> Score {
        match self.empty() {
            Some(side @ (EmptySide::Reference | EmptySide::Both)) => Score::Empty(side),
            _ => Score::Value(self.true_positives as f64 / self.truth_voxels() as f64),
        }
    }

    /// `TN / (TN + FP)`; `Empty(Both)` when there is no negative voxel in the reference.
    #[doc(alias = "tnr")]
    pub fn specificity(&self) -> Score {
        let negatives = self.true_negatives + self.false_positives;
        if negatives == 0 {
            Score::Empty(EmptySide::Both)
        } else {
            Score::Value(self.true_negatives as f64 / negatives as f64)
        }
    }

    /// `(1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)`; `Empty(Both)` when both masks are empty.
    pub fn f_beta(&self, beta: f64) -> Score {
        match self.empty() {
            Some(EmptySide::Both) => Score::Empty(EmptySide::Both),
            _ => {
                let b2 = beta * beta;
                let tp = self.true_positives as f64;
                Score::Value(
                    (1.0 + b2) * tp
                        / ((1.0 + b2) * tp
                            + b2 * self.false_negatives as f64
                            + self.false_positives as f64),
                )
            }
        }
    }

    /// Signed relative volume difference `(|P| - |G|) / |G|`; `Empty(Reference | Both)` when the
    /// reference is empty.
    pub fn volume_difference(&self) -> Score {
        match self.empty() {
            Some(side @ (EmptySide::Reference | EmptySide::Both)) => Score::Empty(side),
            _ => Score::Value(
                (self.pred_voxels() as f64 - self.truth_voxels() as f64)
                    / self.truth_voxels() as f64,
            ),
        }
    }
}

/// Confusion counts for each label of `labels`, from two integer label maps, in one pass.
///
/// Memory scales with the number of labels asked for, never with their values: per label the
/// voxels predicted, in the reference and in both (`TP`); the rest follows
/// (`FP = |P| - TP`, `FN = |G| - TP`, `TN = N + TP - |P| - |G|`). A label value of 65535 or
/// 4,000,000,000 costs the same as 1.
///
/// # Errors
/// When the shapes differ.
pub fn confusion_per_label<T: crate::Label>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    labels: &[u32],
) -> Result<Vec<ConfusionCounts>, MetricError> {
    check_shapes(pred.shape(), truth.shape())?;
    let bins = LabelBins::new(labels);
    let other = labels.len();
    // Per bin (the labels' positions, then "any other value"): predicted, reference, both.
    let mut pred_n = vec![0u64; other + 1];
    let mut truth_n = vec![0u64; other + 1];
    let mut both = vec![0u64; other + 1];
    ndarray::Zip::from(pred).and(truth).for_each(|&p, &t| {
        let bp = bins.of(p.to_u32());
        pred_n[bp] += 1;
        if p == t {
            truth_n[bp] += 1;
            both[bp] += 1;
        } else {
            truth_n[bins.of(t.to_u32())] += 1;
        }
    });
    let total: u64 = pred.len() as u64;
    Ok(labels
        .iter()
        .map(|&l| {
            let b = bins.of(l);
            let (tp, pred_l, truth_l) = (both[b], pred_n[b], truth_n[b]);
            ConfusionCounts {
                true_positives: tp,
                false_positives: pred_l - tp,
                false_negatives: truth_l - tp,
                true_negatives: total + tp - pred_l - truth_l,
            }
        })
        .collect())
}

/// Maps a label value to its position among the labels asked for (the first, for a repeated
/// label), or to `labels.len()` for any other value: a table when the largest label is small,
/// a hash map otherwise, so that memory follows the number of labels, not their values.
pub(crate) enum LabelBins {
    Table(Vec<u32>, u32),
    Map(std::collections::HashMap<u32, u32>, u32),
}

impl LabelBins {
    /// Largest label value served by a direct table (256 KiB of `u32`).
    const TABLE_MAX: u32 = 1 << 16;

    pub(crate) fn new(labels: &[u32]) -> Self {
        let other = labels.len() as u32;
        match labels.iter().copied().max() {
            Some(max) if max < Self::TABLE_MAX => {
                let mut table = vec![other; max as usize + 1];
                for (i, &l) in labels.iter().enumerate().rev() {
                    table[l as usize] = i as u32;
                }
                LabelBins::Table(table, other)
            }
            _ => {
                let mut map = std::collections::HashMap::with_capacity(labels.len());
                for (i, &l) in labels.iter().enumerate() {
                    map.entry(l).or_insert(i as u32);
                }
                LabelBins::Map(map, other)
            }
        }
    }

    pub(crate) fn of(&self, v: u32) -> usize {
        match self {
            LabelBins::Table(t, other) => t.get(v as usize).copied().unwrap_or(*other) as usize,
            LabelBins::Map(m, other) => m.get(&v).copied().unwrap_or(*other) as usize,
        }
    }
}

/// Class weights of the generalized Dice score, from the reference volume `G_c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GdsWeights {
    /// `1 / G_c^2` (Sudre et al. 2017).
    Square,
    /// `1 / G_c`.
    Simple,
    /// `1` (the micro-averaged Dice).
    Uniform,
}

/// Generalized Dice score of one image over its classes (MONAI `GeneralizedDiceScore`):
/// `2 sum_c w_c TP_c / sum_c w_c (|P_c| + |G_c|)`; a class absent from the reference gets the
/// largest weight of the present classes (1 when no class is present). `Empty(Both)` when every
/// class is empty on both sides ([`MetricKind::GeneralizedDice`](crate::MetricKind) resolves it).
pub fn generalized_dice_score(per_class: &[ConfusionCounts], weights: GdsWeights) -> Score {
    let w: Vec<Option<f64>> = per_class
        .iter()
        .map(|c| {
            let g = c.truth_voxels() as f64;
            match weights {
                GdsWeights::Uniform => Some(1.0),
                _ if g == 0.0 => None,
                GdsWeights::Square => Some(1.0 / (g * g)),
                GdsWeights::Simple => Some(1.0 / g),
            }
        })
        .collect();
    // MONAI: an absent class takes the largest finite weight, or 1 when every class is absent.
    let largest = w.iter().flatten().copied().fold(f64::NAN, f64::max);
    let largest = if largest.is_nan() { 1.0 } else { largest };
    let (mut num, mut den) = (0.0, 0.0);
    for (c, w) in per_class.iter().zip(w) {
        let w = w.unwrap_or(largest);
        num += 2.0 * w * c.true_positives as f64;
        den += w * (c.pred_voxels() + c.truth_voxels()) as f64;
    }
    if den == 0.0 {
        // Every class empty on both sides (MetricKind::GeneralizedDice resolves it: MONAI 1).
        return Score::Empty(EmptySide::Both);
    }
    Score::Value(num / den)
}

/// How per-(case, class) counts become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Averaging {
    /// Sum every count over cases and classes, then one score (voxel-level).
    Micro,
    /// Sum counts over cases per class, score each class, then the mean over classes.
    Macro,
    /// Score each (case, class), then the mean over all of them (image-level, MONAI `DiceMetric`).
    PerCase,
}

/// Averages an overlap metric over `counts[case][class]`; empty scores follow `policy`.
///
/// # Example
/// ```
/// use dicekit_metrics::*;
/// let c = |tp, fp, fn_| ConfusionCounts { true_positives: tp, false_positives: fp, false_negatives: fn_, true_negatives: 0 };
/// let counts = vec![vec![c(8, 2, 0)], vec![c(0, 0, 0)]];
/// let per_case = average_overlap(&counts, ConfusionCounts::dice, MetricKind::Dice, Averaging::PerCase, EmptyPolicy::Exclude);
/// assert_eq!((per_case.mean, per_case.excluded), (Some(16.0 / 18.0), 1));
/// ```
pub fn average_overlap(
    counts: &[Vec<ConfusionCounts>],
    metric: impl Fn(&ConfusionCounts) -> Score,
    kind: crate::MetricKind,
    averaging: Averaging,
    policy: crate::EmptyPolicy,
) -> crate::Aggregate {
    let classes = counts.iter().map(Vec::len).max().unwrap_or(0);
    let scores: Vec<Score> = match averaging {
        Averaging::Micro => {
            let mut total = ConfusionCounts::default();
            counts.iter().flatten().for_each(|c| total += *c);
            vec![metric(&total)]
        }
        Averaging::Macro => (0..classes)
            .map(|k| {
                let mut total = ConfusionCounts::default();
                counts
                    .iter()
                    .filter_map(|case| case.get(k))
                    .for_each(|c| total += *c);
                metric(&total)
            })
            .collect(),
        Averaging::PerCase => counts.iter().flatten().map(&metric).collect(),
    };
    crate::aggregate(&scores, kind, policy)
}
