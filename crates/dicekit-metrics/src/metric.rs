//! Every metric in one list: its name, direction, whether `evaluate_label_maps` reports it and
//! whether a report's summary shows it, what it is computed from, and what each peer reports
//! where one side is empty.
//!
//! Adding a per-label metric is one entry in the `metrics!` list below; `dicekit eval`, the
//! aggregates, the reports and the JSON/CSV rows read [`MetricKind::ALL`] and the entry's
//! functions. Entries whose `compute` returns `None` (the label-map and skeleton scores) are
//! computed by their own functions ([`generalized_dice_score`](crate::generalized_dice_score),
//! [`centreline_counts_per_label`](crate::centreline_counts_per_label)).
use serde::{Deserialize, Serialize};

use crate::{
    ConfusionCounts, Convention, Direction, EmptySide, PeerValue, Score, SurfaceDistances,
    SurfaceMean,
};

/// What a per-label metric is computed from: one label's counts and surface distances.
#[derive(Debug, Clone, Copy)]
pub struct LabelInputs<'a> {
    /// The label's confusion counts.
    pub counts: &'a ConfusionCounts,
    /// The label's surface distances, measured on the convention's boundary.
    pub surfaces: &'a SurfaceDistances,
    /// The peer convention.
    pub convention: Convention,
    /// NSD tolerance in mm.
    pub tolerance_mm: f64,
}

/// `a` when both sides are empty, else `b`.
fn both_else(side: EmptySide, a: PeerValue, b: PeerValue) -> PeerValue {
    if side == EmptySide::Both { a } else { b }
}

/// What each peer reports for a surface distance with an empty side, DeepMind aside: MONAI
/// NaN when both are empty and inf otherwise, MedPy raises, seg-metrics 0, MetricsReloaded 0
/// when both are empty and NaN otherwise.
fn distance_empty(c: Convention, side: EmptySide, deepmind: PeerValue) -> PeerValue {
    use PeerValue::{Inf, NaN, Number, Raises};
    match c {
        Convention::Monai => both_else(side, NaN, Inf),
        Convention::DeepMind => deepmind,
        Convention::MedPy => Raises,
        Convention::SegMetrics => Number(0.0),
        Convention::MetricsReloaded => both_else(side, Number(0.0), NaN),
    }
}

/// Generates [`MetricKind`] and its tables from one entry per metric.
macro_rules! metrics {
    ($( #[doc = $doc:literal] $variant:ident {
        name: $name:literal,
        higher_is_better: $higher:literal,
        reported: $reported:literal,
        summary: $summary:literal,
        compute: $compute:expr,
        empty: $empty:expr $(,)?
    } ),* $(,)?) => {
        /// The metrics that have a peer convention.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum MetricKind {
            $( #[doc = $doc] $variant, )*
        }

        const ALL: &[MetricKind] = &[$( MetricKind::$variant, )*];
        const REPORTED_FLAGS: &[bool] = &[$( $reported, )*];

        impl MetricKind {
            /// Every metric, in column order.
            pub const ALL: &'static [MetricKind] = ALL;

            /// Short column name (`dice`, `iou`, `hd95`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $( MetricKind::$variant => $name, )*
                }
            }

            /// Whether larger is better (overlap) or smaller is better (distances).
            pub fn higher_is_better(self) -> bool {
                match self {
                    $( MetricKind::$variant => $higher, )*
                }
            }

            /// Whether the compact summary table of a report shows the metric (when computed).
            pub fn in_summary(self) -> bool {
                match self {
                    $( MetricKind::$variant => $summary, )*
                }
            }

            /// The score of one label from its counts and surface distances; `None` for the
            /// metrics computed by their own functions.
            pub fn compute(self, inputs: &LabelInputs) -> Option<Score> {
                match self {
                    $( MetricKind::$variant => {
                        let f: fn(&LabelInputs) -> Option<Score> = $compute;
                        f(inputs)
                    } )*
                }
            }

            /// What `convention`'s peer reports when `side` is empty: a number, NaN, inf, or an
            /// exception.
            pub fn empty_value(self, convention: Convention, side: EmptySide) -> PeerValue {
                match self {
                    $( MetricKind::$variant => {
                        let f: fn(Convention, EmptySide) -> PeerValue = $empty;
                        f(convention, side)
                    } )*
                }
            }
        }
    };
}

/// How many metrics are reported by [`evaluate_label_maps`](crate::evaluate_label_maps).
const REPORTED_COUNT: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < REPORTED_FLAGS.len() {
        if REPORTED_FLAGS[i] {
            n += 1;
        }
        i += 1;
    }
    n
};

impl MetricKind {
    /// The metrics [`evaluate_label_maps`](crate::evaluate_label_maps) reports, in
    /// [`ALL`](Self::ALL) order.
    pub const REPORTED: [MetricKind; REPORTED_COUNT] = {
        let mut out = [MetricKind::Dice; REPORTED_COUNT];
        let (mut i, mut j) = (0, 0);
        while i < ALL.len() {
            if REPORTED_FLAGS[i] {
                out[j] = ALL[i];
                j += 1;
            }
            i += 1;
        }
        out
    };

    /// Parses [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.name() == name)
    }
}

use Convention::{DeepMind, MedPy, MetricsReloaded, Monai, SegMetrics};
use PeerValue::{Inf, NaN, Number, Raises};

metrics! {
    /// Dice.
    Dice {
        name: "dice", higher_is_better: true, reported: true, summary: true,
        compute: |x| Some(x.convention.dice(x.counts)),
        empty: |c, side| match c {
            Monai => if side == EmptySide::Prediction { Number(0.0) } else { NaN },
            DeepMind | MedPy => both_else(side, NaN, Number(0.0)),
            SegMetrics | MetricsReloaded => both_else(side, Number(1.0), Number(0.0)),
        },
    },
    /// Jaccard / IoU.
    Jaccard {
        name: "iou", higher_is_better: true, reported: true, summary: true,
        compute: |x| Some(x.convention.jaccard(x.counts)),
        empty: |c, side| match c {
            Monai => if side == EmptySide::Prediction { Number(0.0) } else { NaN },
            DeepMind | MetricsReloaded => both_else(side, NaN, Number(0.0)),
            MedPy | SegMetrics => both_else(side, Number(1.0), Number(0.0)),
        },
    },
    /// Precision.
    Precision {
        name: "precision", higher_is_better: true, reported: true, summary: true,
        compute: |x| Some(x.counts.precision()),
        empty: |_, _| NaN,
    },
    /// Recall.
    Recall {
        name: "recall", higher_is_better: true, reported: true, summary: true,
        compute: |x| Some(x.counts.recall()),
        empty: |_, _| NaN,
    },
    /// Specificity.
    Specificity {
        name: "specificity", higher_is_better: true, reported: false, summary: false,
        compute: |x| Some(x.counts.specificity()),
        empty: |_, _| NaN,
    },
    /// Relative volume difference.
    VolumeDifference {
        name: "volume_difference", higher_is_better: false, reported: true, summary: false,
        compute: |x| Some(x.counts.volume_difference()),
        empty: |_, _| NaN,
    },
    /// Symmetric Hausdorff distance.
    Hausdorff {
        name: "hd", higher_is_better: false, reported: true, summary: false,
        compute: |x| Some(x.surfaces.hausdorff()),
        empty: |c, side| distance_empty(c, side, Inf),
    },
    /// Percentile Hausdorff distance (HD95).
    Hausdorff95 {
        name: "hd95", higher_is_better: false, reported: true, summary: true,
        compute: |x| Some(x.surfaces.hausdorff_percentile(95.0, x.convention.percentile())),
        // MONAI's percentile of an empty side is NaN, not inf.
        empty: |c, side| if c == Monai { NaN } else { distance_empty(c, side, Inf) },
    },
    /// Directed Hausdorff distance, prediction to reference.
    DirectedHausdorff {
        name: "hd_pred_to_gt", higher_is_better: false, reported: false, summary: false,
        compute: |x| Some(x.surfaces.directed_hausdorff(Direction::PredToTruth)),
        empty: |c, side| distance_empty(c, side, Inf),
    },
    /// Average symmetric surface distance (the peer's own definition).
    Assd {
        name: "assd", higher_is_better: false, reported: true, summary: true,
        compute: |x| Some(x.surfaces.average_surface_distance(x.convention.assd())),
        empty: |c, side| distance_empty(c, side, both_else(side, NaN, Inf)),
    },
    /// Mean of the two directed mean distances.
    Masd {
        name: "masd", higher_is_better: false, reported: false, summary: false,
        compute: |x| Some(x.surfaces.average_surface_distance(SurfaceMean::MeanOfMeans)),
        // DeepMind: the mean of means has a 0/0 side.
        empty: |c, side| distance_empty(c, side, NaN),
    },
    /// Directed mean distance, prediction to reference.
    DirectedAsd {
        name: "asd_pred_to_gt", higher_is_better: false, reported: true, summary: false,
        compute: |x| Some(x.surfaces.directed_average(Direction::PredToTruth)),
        // DeepMind: the mean distance from the prediction's surfels is inf when only the
        // reference is empty, 0/0 when the prediction is.
        empty: |c, side| distance_empty(c, side, if side == EmptySide::Reference { Inf } else { NaN }),
    },
    /// Normalized surface Dice.
    Nsd {
        name: "nsd", higher_is_better: true, reported: true, summary: true,
        compute: |x| Some(x.surfaces.normalized_surface_dice(x.tolerance_mm)),
        empty: |c, side| match c {
            Monai | DeepMind => both_else(side, NaN, Number(0.0)),
            MedPy => Raises,
            SegMetrics => Number(0.0),
            MetricsReloaded => both_else(side, Number(1.0), Number(0.0)),
        },
    },
    /// Generalized Dice score over the classes of a label map (MONAI `GeneralizedDiceScore`).
    GeneralizedDice {
        name: "generalized_dice", higher_is_better: true, reported: false, summary: false,
        compute: |_| None,
        // MONAI's rule, the only peer with a label-map score: 1 when nothing is anywhere.
        empty: |_, side| both_else(side, Number(1.0), Number(0.0)),
    },
    /// Centreline Dice (clDice) of the skeletons.
    ClDice {
        name: "cl_dice", higher_is_better: true, reported: false, summary: true,
        compute: |_| None,
        // The clDice reference divides 0 by 0 wherever dicekit has a typed empty.
        empty: |_, _| NaN,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        for (i, m) in MetricKind::ALL.iter().enumerate() {
            assert_eq!(MetricKind::from_name(m.name()), Some(*m));
            assert!(MetricKind::ALL[..i].iter().all(|o| o.name() != m.name()));
        }
        assert_eq!(MetricKind::from_name("nope"), None);
    }

    #[test]
    fn the_reported_metrics_are_the_per_label_table() {
        let names: Vec<&str> = MetricKind::REPORTED.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "dice",
                "iou",
                "precision",
                "recall",
                "volume_difference",
                "hd",
                "hd95",
                "assd",
                "asd_pred_to_gt",
                "nsd"
            ]
        );
    }
}
