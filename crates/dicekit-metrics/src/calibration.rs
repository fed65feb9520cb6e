//! Calibration: expected and maximum calibration error, Brier score, reliability bins.
use serde::{Deserialize, Serialize};

use crate::MetricError;

/// How confidence bins are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// `n` bins of width `1/n` on [0, 1].
    EqualWidth,
    /// `n` bins holding (nearly) the same number of samples, by sorted confidence.
    EqualMass,
}

/// Which side of a bin edge a confidence exactly on the edge belongs to (equal-width bins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeRule {
    /// Bins `(lo, hi]`, 0 in the first bin (Guo et al. 2017 reference code).
    RightClosed,
    /// Bins `[lo, hi)`, 1 in the last bin (netcal, `numpy.digitize`-style). torchmetrics 1.9
    /// bins `[lo, hi)` too, but puts a confidence of exactly 1 in an extra bin of its own.
    LeftClosed,
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge.
    pub lower: f64,
    /// Upper edge.
    pub upper: f64,
    /// Samples in the bin.
    pub count: u64,
    /// Mean confidence of the samples (`None` when empty).
    pub confidence: Option<f64>,
    /// Fraction of positives (accuracy) of the samples (`None` when empty).
    pub accuracy: Option<f64>,
}

/// Reliability bins of binary predictions: `confidence[i]` is the predicted probability of the
/// positive class, `positive[i]` the truth. For top-label or class-wise calibration of a
/// multi-class model, pass the top-label confidence with `correct`, or one class's probability
/// with its one-vs-rest truth.
///
/// # Errors
/// When the lengths differ, a confidence lies outside [0, 1] or is NaN, or `bins == 0`.
pub fn reliability_bins(
    confidence: &[f64],
    positive: &[bool],
    bins: usize,
    binning: Binning,
    edges: EdgeRule,
) -> Result<Vec<ReliabilityBin>, MetricError> {
    if confidence.len() != positive.len() {
        return Err(MetricError::ShapeMismatch {
            pred: vec![confidence.len()],
            truth: vec![positive.len()],
        });
    }
    if bins == 0 {
        return Err(MetricError::BadParameter {
            name: "bins",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    if let Some(c) = confidence.iter().find(|c| !(0.0..=1.0).contains(*c)) {
        return Err(MetricError::BadParameter {
            name: "confidence",
            value: c.to_string(),
            expected: "probabilities in [0, 1]",
        });
    }
    let mut sums = vec![(0u64, 0.0f64, 0u64); bins];
    let mut edges_out: Vec<(f64, f64)> = (0..bins)
        .map(|b| (b as f64 / bins as f64, (b + 1) as f64 / bins as f64))
        .collect();
    match binning {
        Binning::EqualWidth => {
            for (&c, &p) in confidence.iter().zip(positive) {
                let x = c * bins as f64;
                let b = match edges {
                    EdgeRule::RightClosed => (x.ceil() as usize).saturating_sub(1),
                    EdgeRule::LeftClosed => x.floor() as usize,
                }
                .min(bins - 1);
                sums[b].0 += 1;
                sums[b].1 += c;
                sums[b].2 += p as u64;
            }
        }
        Binning::EqualMass => {
            let mut order: Vec<usize> = (0..confidence.len()).collect();
            order.sort_by(|&a, &b| confidence[a].total_cmp(&confidence[b]));
            let n = order.len();
            for b in 0..bins {
                let (lo, hi) = (b * n / bins, (b + 1) * n / bins);
                for &i in &order[lo..hi] {
                    sums[b].0 += 1;
                    sums[b].1 += confidence[i];
                    sums[b].2 += positive[i] as u64;
                }
                if hi > lo {
                    edges_out[b] = (confidence[order[lo]], confidence[order[hi - 1]]);
                }
            }
        }
    }
    Ok(sums
        .into_iter()
        .zip(edges_out)
        .map(|((count, conf, pos), (lower, upper))| ReliabilityBin {
            lower,
            upper,
            count,
            confidence: (count > 0).then(|| conf / count as f64),
            accuracy: (count > 0).then(|| pos as f64 / count as f64),
        })
        .collect())
}

/// Expected calibration error: `sum_b (n_b / N) |acc_b - conf_b|`.
#[doc(alias = "ece")]
pub fn expected_calibration_error(bins: &[ReliabilityBin]) -> f64 {
    let total: u64 = bins.iter().map(|b| b.count).sum();
    if total == 0 {
        return 0.0;
    }
    bins.iter()
        .filter_map(|b| Some(b.count as f64 / total as f64 * (b.accuracy? - b.confidence?).abs()))
        .sum()
}

/// Maximum calibration error: `max_b |acc_b - conf_b|` over non-empty bins.
#[doc(alias = "mce")]
pub fn maximum_calibration_error(bins: &[ReliabilityBin]) -> f64 {
    bins.iter()
        .filter_map(|b| Some((b.accuracy? - b.confidence?).abs()))
        .fold(0.0, f64::max)
}

/// Brier score of binary predictions: `mean (p - y)^2`.
///
/// # Errors
/// When the lengths differ or are 0, or a confidence lies outside [0, 1] or is NaN (as
/// [`reliability_bins`]).
pub fn brier_score(confidence: &[f64], positive: &[bool]) -> Result<f64, MetricError> {
    if confidence.len() != positive.len() || confidence.is_empty() {
        return Err(MetricError::ShapeMismatch {
            pred: vec![confidence.len()],
            truth: vec![positive.len()],
        });
    }
    if let Some(c) = confidence.iter().find(|c| !(0.0..=1.0).contains(*c)) {
        return Err(MetricError::BadParameter {
            name: "confidence",
            value: c.to_string(),
            expected: "probabilities in [0, 1]",
        });
    }
    Ok(confidence
        .iter()
        .zip(positive)
        .map(|(&c, &p)| (c - p as u8 as f64).powi(2))
        .sum::<f64>()
        / confidence.len() as f64)
}

/// Top-label calibration inputs from class probabilities `probs[i][c]` and true classes: the
/// largest probability of each sample and whether its class is correct.
pub fn top_label(probs: &[Vec<f64>], truth: &[usize]) -> (Vec<f64>, Vec<bool>) {
    probs
        .iter()
        .zip(truth)
        .map(|(p, &t)| {
            let (arg, max) =
                p.iter().enumerate().fold(
                    (0, f64::NEG_INFINITY),
                    |m, (i, &v)| if v > m.1 { (i, v) } else { m },
                );
            (max, arg == t)
        })
        .unzip()
}

/// Class-wise ECE: the mean over classes of the ECE of each class's probability against its
/// one-vs-rest truth (Kull et al. 2019).
///
/// # Errors
/// As [`reliability_bins`].
pub fn classwise_calibration_error(
    probs: &[Vec<f64>],
    truth: &[usize],
    bins: usize,
    binning: Binning,
    edges: EdgeRule,
) -> Result<f64, MetricError> {
    let classes = probs.first().map_or(0, Vec::len);
    let mut total = 0.0;
    for c in 0..classes {
        let conf: Vec<f64> = probs.iter().map(|p| p[c]).collect();
        let pos: Vec<bool> = truth.iter().map(|&t| t == c).collect();
        total += expected_calibration_error(&reliability_bins(&conf, &pos, bins, binning, edges)?);
    }
    Ok(total / classes.max(1) as f64)
}
