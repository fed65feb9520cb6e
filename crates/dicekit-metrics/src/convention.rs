//! The conventions of the peer libraries, by name.
use serde::{Deserialize, Serialize};

use crate::{Boundary, ConfusionCounts, EmptySide, MetricKind, Percentile, Score, SurfaceMean};

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
    /// | | Dice, IoU: prediction empty | reference empty | both |
    /// |---|---|---|---|
    /// | MONAI (`ignore_empty=True`) | 0 | NaN | NaN |
    /// | DeepMind | 0 | 0 | NaN |
    /// | MedPy | 0 | 0 | Dice NaN, IoU 1 |
    /// | seg-metrics | 0 | 0 | 1 |
    /// | MetricsReloaded | 0 | 0 | Dice 1, IoU NaN |
    ///
    /// Distances with one side empty: MONAI inf (HD95 NaN: a percentile over infinite
    /// distances), DeepMind inf (a directed mean *from* an empty side, 0/0, is NaN, and so is
    /// the mean of means), MedPy raises, seg-metrics 0, MetricsReloaded NaN. NSD with one side
    /// empty is 0 for every peer that has it.
    pub fn empty_value(self, metric: MetricKind, side: EmptySide) -> PeerValue {
        metric.empty_value(self, side)
    }

    /// The mean over the classes of one label map as this peer reduces it: each score resolved
    /// by [`empty_value`](Self::empty_value), the classes without a number (NaN, inf, raises)
    /// left out. With nothing left, MONAI's `do_metric_reduction` returns 0; the others have no
    /// value (`Empty(Both)`).
    pub fn mean_over_classes(self, metric: MetricKind, scores: &[Score]) -> Score {
        let values: Vec<f64> = scores
            .iter()
            .filter_map(|s| match *s {
                Score::Value(v) => Some(v),
                Score::Empty(side) => match self.empty_value(metric, side) {
                    PeerValue::Number(v) => Some(v),
                    _ => None,
                },
            })
            .collect();
        match (values.len(), self) {
            (0, Convention::Monai) => Score::Value(0.0),
            (0, _) => Score::Empty(EmptySide::Both),
            (n, _) => Score::Value(values.iter().sum::<f64>() / n as f64),
        }
    }

    /// Dice of `counts` as this peer scores it: the value where the peer has a number, else the
    /// typed empty that [`empty_value`](Self::empty_value) resolves.
    ///
    /// [`ConfusionCounts::dice`] is 0 when only one mask is empty. MONAI's `DiceMetric` and
    /// `MeanIoU` (`ignore_empty=True`, their default) leave a class whose reference is empty
    /// undefined whatever the prediction: under `Monai` that is `Empty(Reference)` (NaN, left
    /// out of MONAI's mean over classes and cases). Every other peer scores it 0.
    pub fn dice(self, counts: &ConfusionCounts) -> Score {
        self.typed(MetricKind::Dice, counts.dice(), counts)
    }

    /// IoU of `counts` as this peer scores it (the empty cases as for [`dice`](Self::dice)).
    pub fn jaccard(self, counts: &ConfusionCounts) -> Score {
        self.typed(MetricKind::Jaccard, counts.jaccard(), counts)
    }

    /// `raw` where the peer has a number for the pair's empty side, else that typed empty.
    fn typed(self, metric: MetricKind, raw: Score, counts: &ConfusionCounts) -> Score {
        match (
            raw,
            EmptySide::of(counts.pred_voxels(), counts.truth_voxels()),
        ) {
            (Score::Value(_), Some(side)) => match self.empty_value(metric, side) {
                PeerValue::Number(_) => raw,
                _ => Score::Empty(side),
            },
            _ => raw,
        }
    }
}
