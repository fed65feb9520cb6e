//! The conventions of the peer libraries, by name.
use serde::{Deserialize, Serialize};

use crate::{Boundary, EmptySide, Percentile, SurfaceMean};

/// A peer library whose metric conventions dicekit reproduces.
///
/// | | boundary | HD95 | ASSD | NSD weights |
/// |---|---|---|---|---|
/// | `Monai` (1.6, the default) | voxel faces | per direction, linear, max | pooled | voxel counts |
/// | `DeepMind` (surface-distance, git) | surfels | per direction, area-weighted rank, max | pooled, area-weighted | surfel areas |
/// | `MedPy` (0.5) | voxel faces | pooled, linear | pooled | - |
/// | `SegMetrics` (1.2) | 8/26-connected, no image border | pooled, linear | pooled | - |
/// | `MetricsReloaded` | voxel faces | per direction, linear, max | pooled (`masd`: mean of means) | voxel counts |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// MONAI 1.6 (`DiceMetric`, `HausdorffDistanceMetric`, `SurfaceDistanceMetric`, `SurfaceDiceMetric`).
    Monai,
    /// DeepMind surface-distance, git HEAD (the PyPI 0.1 release fails on empty masks under NumPy 2).
    DeepMind,
    /// MedPy 0.5 (`dc`, `jc`, `hd`, `hd95`, `assd`, `asd`).
    MedPy,
    /// seg-metrics 1.2 (SimpleITK contours).
    SegMetrics,
    /// MetricsReloaded.
    MetricsReloaded,
}

/// The metrics that have a peer convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Dice.
    Dice,
    /// Jaccard / IoU.
    Jaccard,
    /// Precision.
    Precision,
    /// Recall.
    Recall,
    /// Specificity.
    Specificity,
    /// Relative volume difference.
    VolumeDifference,
    /// Symmetric Hausdorff distance.
    Hausdorff,
    /// Percentile Hausdorff distance (HD95).
    Hausdorff95,
    /// Directed Hausdorff distance, prediction to reference.
    DirectedHausdorff,
    /// Average symmetric surface distance (the peer's own definition).
    Assd,
    /// Mean of the two directed mean distances.
    Masd,
    /// Directed mean distance, prediction to reference.
    DirectedAsd,
    /// Normalized surface Dice.
    Nsd,
}

/// What a peer reports where dicekit has a typed empty result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerValue {
    /// A number.
    Number(f64),
    /// NaN.
    NaN,
    /// +infinity.
    Inf,
    /// The peer raises an exception.
    Raises,
}

impl Convention {
    /// Every convention, MONAI first.
    pub const ALL: [Convention; 5] = [
        Convention::Monai,
        Convention::DeepMind,
        Convention::MedPy,
        Convention::SegMetrics,
        Convention::MetricsReloaded,
    ];

    /// Name as used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Convention::Monai => "monai",
            Convention::DeepMind => "deepmind",
            Convention::MedPy => "medpy",
            Convention::SegMetrics => "seg-metrics",
            Convention::MetricsReloaded => "metrics-reloaded",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The surface this peer measures.
    pub fn boundary(self) -> Boundary {
        match self {
            Convention::DeepMind => Boundary::Surfels,
            Convention::SegMetrics => Boundary::FullyConnected,
            _ => Boundary::Faces,
        }
    }

    /// The peer's HD95 rule.
    pub fn percentile(self) -> Percentile {
        match self {
            Convention::Monai | Convention::MetricsReloaded => Percentile::DirectedLinear,
            Convention::MedPy | Convention::SegMetrics => Percentile::PooledLinear,
            Convention::DeepMind => Percentile::DirectedWeightedRank,
        }
    }

    /// The peer's "average symmetric surface distance".
    pub fn assd(self) -> SurfaceMean {
        SurfaceMean::Pooled
    }

    /// What the peer reports for `metric` when `side` is empty.
    ///
    /// Overlap metrics are only undefined when both masks are empty (a missed object has Dice 0,
    /// which every peer reports). Values for an empty reference with a non-empty prediction
    /// follow the empty-prediction row where the peer's code is symmetric.
    pub fn empty_value(self, metric: MetricKind, side: EmptySide) -> PeerValue {
        use Convention::*;
        use MetricKind::*;
        use PeerValue::{Inf, NaN, Number, Raises};
        let both = side == EmptySide::Both;
        match (self, metric) {
            (_, Precision | Recall | Specificity | VolumeDifference) => NaN,
            (Monai, Dice | Jaccard) => NaN,
            (Monai, Nsd) => {
                if both {
                    NaN
                } else {
                    Number(0.0)
                }
            }
            (Monai, Hausdorff95) => NaN,
            (Monai, _) => {
                if both {
                    NaN
                } else {
                    Inf
                }
            }
            (DeepMind, Dice | Jaccard) => NaN,
            (DeepMind, Hausdorff | Hausdorff95) => Inf,
            (DeepMind, Assd) => {
                if both {
                    NaN
                } else {
                    Inf
                }
            }
            (DeepMind, Nsd) => {
                if both {
                    NaN
                } else {
                    Number(0.0)
                }
            }
            (DeepMind, _) => NaN,
            (MedPy, Dice) => NaN,
            (MedPy, Jaccard) => Number(1.0),
            (MedPy, _) => Raises,
            (SegMetrics, Dice | Jaccard) => Number(1.0),
            (SegMetrics, _) => Number(0.0),
            (MetricsReloaded, Dice) => Number(1.0),
            (MetricsReloaded, Jaccard) => NaN,
            (MetricsReloaded, Nsd) => Number(if both { 1.0 } else { 0.0 }),
            (MetricsReloaded, _) => {
                if both {
                    Number(0.0)
                } else {
                    NaN
                }
            }
        }
    }
}
