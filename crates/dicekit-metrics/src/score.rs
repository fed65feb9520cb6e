//! Typed results: a value, or which side was empty.
use serde::{Deserialize, Serialize};

/// Which mask of a pair has no foreground.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptySide {
    /// The prediction is empty, the reference is not (a missed object).
    Prediction,
    /// The reference is empty, the prediction is not (a false detection).
    Reference,
    /// Both are empty.
    Both,
}

impl EmptySide {
    /// Which side is empty, if any, from the two foreground counts.
    pub fn of(pred_voxels: u64, truth_voxels: u64) -> Option<Self> {
        match (pred_voxels == 0, truth_voxels == 0) {
            (true, true) => Some(EmptySide::Both),
            (true, false) => Some(EmptySide::Prediction),
            (false, true) => Some(EmptySide::Reference),
            (false, false) => None,
        }
    }
}

/// The result of a metric on one (case, class): a number, or the reason there is none.
///
/// Never a silent 0 or NaN: an empty side is reported as such and resolved only when
/// aggregating, by an explicit [`EmptyPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// A defined value.
    Value(f64),
    /// Undefined because a mask is empty.
    Empty(EmptySide),
}

impl Score {
    /// The value, if defined.
    pub fn value(self) -> Option<f64> {
        match self {
            Score::Value(v) => Some(v),
            Score::Empty(_) => None,
        }
    }
}

/// How empty results enter an aggregate (a mean over cases).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyPolicy {
    /// Leave them out of the mean and count them (MONAI's NaN-aware mean, made explicit).
    Exclude,
    /// Replace each by this value (a worst value such as the image diagonal for distances, 0
    /// for Dice).
    Worst(f64),
    /// Replace each by the value a named peer reports, when it reports a number.
    Peer(crate::Convention),
}

/// A mean over cases with the number of values left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The mean of the values used (`None` when no value was left).
    pub mean: Option<f64>,
    /// How many values entered the mean.
    pub used: usize,
    /// How many results were empty and excluded.
    pub excluded: usize,
    /// How many results were empty and replaced.
    pub replaced: usize,
}

/// Averages scores under `policy`. `metric` names the metric for [`EmptyPolicy::Peer`].
pub fn aggregate(scores: &[Score], metric: crate::MetricKind, policy: EmptyPolicy) -> Aggregate {
    let (mut sum, mut used, mut excluded, mut replaced) = (0.0, 0usize, 0usize, 0usize);
    for s in scores {
        let v = match (*s, policy) {
            (Score::Value(v), _) => Some(v),
            (Score::Empty(_), EmptyPolicy::Exclude) => None,
            (Score::Empty(_), EmptyPolicy::Worst(w)) => {
                replaced += 1;
                Some(w)
            }
            (Score::Empty(side), EmptyPolicy::Peer(c)) => match c.empty_value(metric, side) {
                crate::PeerValue::Number(v) => {
                    replaced += 1;
                    Some(v)
                }
                _ => None,
            },
        };
        match v {
            Some(v) => {
                sum += v;
                used += 1;
            }
            None => excluded += 1,
        }
    }
    Aggregate {
        mean: (used > 0).then(|| sum / used as f64),
        used,
        excluded,
        replaced,
    }
}
