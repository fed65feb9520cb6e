//! Reductions and the small shared enums of the overlap losses.
use serde::{Deserialize, Serialize};

/// How the values of a loss are turned into one scalar.
///
/// Each loss documents what its values are and what `Mean` divides by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// Arithmetic mean (see each loss for the set it averages over).
    Mean,
    /// Plain sum of the values.
    Sum,
}

/// Where the sums of an overlap loss run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// One value per (sample, class): sums over the spatial positions of each sample.
    PerSample,
    /// One value per class: sums over all samples and positions of the batch
    /// (MONAI `batch=True`, nnU-Net `batch_dice`, smp always).
    Batch,
}

/// What the entries of the term tensor are divided by under [`Reduction::Mean`] for the
/// pixel losses (focal, BCE, CE), when some voxels are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeanOver {
    /// Every entry, ignored ones included (smp `SoftBCEWithLogitsLoss`, `SoftCrossEntropyLoss`).
    AllEntries,
    /// Only the entries that are not ignored; for cross-entropy with class weights, the sum of
    /// the weights of the labels of those voxels (torch `CrossEntropyLoss`).
    ValidEntries,
    /// The number of non-ignored voxels, counted once per voxel whatever the number of channels
    /// (MONAI `FocalLoss(ignore_index=..)`).
    ValidVoxels,
}

/// What [`Reduction::Sum`] adds up for a pixel loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SumOver {
    /// Every term (torch).
    Terms,
    /// The mean over the spatial positions of each (sample, channel), summed (MONAI `FocalLoss`
    /// with `reduction='sum'`); with ignored voxels, the sum over the sample's valid voxels
    /// divided by their number.
    SpatialMeans,
}
