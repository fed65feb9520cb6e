//! Every metric of a pair of label maps, per label, under one convention.
use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use crate::label::Label;
use crate::scan::{Memory, pair_extents};
use crate::{
    ConfusionCounts, Convention, LabelInputs, MetricError, MetricKind, Score, SurfaceDistances,
};

/// The metrics of one label of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelEvaluation {
    /// The label.
    pub label: u32,
    /// Its confusion counts (to accumulate over cases).
    pub counts: ConfusionCounts,
    /// `(metric, score)` in [`MetricKind::REPORTED`] order.
    pub scores: Vec<(MetricKind, Score)>,
}

impl LabelEvaluation {
    /// The evaluation of a label present in neither map of `voxels` voxels, as
    /// [`evaluate_label_maps`] gives it (every voxel a true negative, every score
    /// `Empty(Both)`), for `metrics` in order, without reading the maps again: how a
    /// correct all-background case keeps its row when labels are gathered over many cases.
    pub fn absent(label: u32, voxels: u64, metrics: &[MetricKind]) -> Self {
        LabelEvaluation {
            label,
            counts: ConfusionCounts {
                true_negatives: voxels,
                ..ConfusionCounts::default()
            },
            scores: metrics
                .iter()
                .map(|&m| (m, Score::Empty(crate::EmptySide::Both)))
                .collect(),
        }
    }
}

/// Overlap and surface metrics of `labels` between two label maps (`u8`, `u16` or `u32`: a
/// file's own type, not widened): the counts and boxes of every label in one pass, the
/// boundary voxels of every label in one pass per map, the surface distances once per label
/// (then HD, HD95, ASSD and NSD from the same distances).
///
/// # Errors
/// On different shapes, a bad spacing, or a rank other than 2 or 3.
pub fn evaluate_label_maps<T: Label>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    spacing: &[f64],
    labels: &[u32],
    convention: Convention,
    tolerance_mm: f64,
) -> Result<Vec<LabelEvaluation>, MetricError> {
    if !(tolerance_mm.is_finite() && tolerance_mm >= 0.0) {
        return Err(MetricError::BadParameter {
            name: "tolerance_mm",
            value: tolerance_mm.to_string(),
            expected: "a finite number >= 0",
        });
    }
    SurfaceDistances::check(pred.shape(), truth.shape(), spacing)?;
    let mem = Memory::of(pred, truth);
    let extents = pair_extents(&mem.pred, &mem.truth, &mem.shape, labels);
    let total = pred.len() as u64;
    let counts = extents.iter().map(|e| ConfusionCounts {
        true_positives: e.both_voxels,
        false_positives: e.pred_voxels - e.both_voxels,
        false_negatives: e.truth_voxels - e.both_voxels,
        true_negatives: total + e.both_voxels - e.pred_voxels - e.truth_voxels,
    });
    let surfaces =
        SurfaceDistances::from_extents(&mem, labels, &extents, spacing, convention.boundary());
    labels
        .iter()
        .zip(counts)
        .zip(surfaces)
        .map(|((&label, counts), sd)| {
            let inputs = LabelInputs {
                counts: &counts,
                surfaces: &sd,
                convention,
                tolerance_mm,
            };
            let scores = MetricKind::REPORTED
                .iter()
                .filter_map(|&m| m.compute(&inputs).map(|s| (m, s)))
                .collect();
            Ok(LabelEvaluation {
                label,
                counts,
                scores,
            })
        })
        .collect()
}

/// The labels present in either map, without 0 (background), ascending.
pub fn labels_present<T: Label>(pred: &ArrayViewD<T>, truth: &ArrayViewD<T>) -> Vec<u32> {
    let mem = Memory::of(pred, truth);
    crate::scan::labels_present(&mem.pred, &mem.truth)
}
