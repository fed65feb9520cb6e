//! One case: read both label maps, check them against each other, score every label.
use std::path::Path;

use dicekit_data::{LabelVolume, read_label_map_native};
use dicekit_metrics::{
    Convention, Label, LabelEvaluation, MetricKind, centreline_counts_per_label,
    evaluate_label_maps, labels_present,
};
use ndarray::ArrayViewD;

use crate::EvalError;

/// The scores of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case name.
    pub name: String,
    /// One evaluation per label, in label order.
    pub labels: Vec<LabelEvaluation>,
}

/// Whose header spacing a case is measured in when the two headers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpacingSource {
    /// The reference's.
    Truth,
    /// The prediction's.
    Pred,
}

/// How cases are scored.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Voxel spacing in mm, one value per axis, instead of the headers'.
    pub spacing: Option<Vec<f64>>,
    /// Whose header spacing to use when they differ; `None`: differing spacings are an error.
    pub spacing_from: Option<SpacingSource>,
    /// Labels to score; `None`: the labels present in each case, completed over the set.
    pub labels: Option<Vec<u32>>,
    /// The peer convention of every metric.
    pub convention: Convention,
    /// NSD tolerance in mm.
    pub tolerance: f64,
    /// Also score the centreline Dice (clDice) of each label.
    pub cl_dice: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            spacing: None,
            spacing_from: None,
            labels: None,
            convention: Convention::Monai,
            tolerance: 1.0,
            cl_dice: false,
        }
    }
}

impl EvalOptions {
    /// Checks the values that do not depend on the files.
    ///
    /// # Errors
    /// A tolerance that is negative or not finite, a spacing value that is not finite and > 0.
    pub fn validate(&self) -> Result<(), EvalError> {
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(EvalError::Tolerance(self.tolerance));
        }
        if let Some(s) = &self.spacing
            && let Some(bad) = s.iter().find(|v| !(v.is_finite() && **v > 0.0))
        {
            return Err(EvalError::SpacingValue(*bad));
        }
        Ok(())
    }
}

/// Runs `$body` on views `$a`, `$b` of two read label maps of one element type: `uint8` and
/// `uint16` pairs as they are, any other pair (different types, or 32-bit ones) both as `u32`.
macro_rules! with_maps {
    ($p:expr, $t:expr, |$a:ident, $b:ident| $body:expr) => {
        match ($p, $t) {
            (dicekit_data::LabelVolume::U8(p), dicekit_data::LabelVolume::U8(t)) => {
                let ($a, $b) = (p.data.view(), t.data.view());
                $body
            }
            (dicekit_data::LabelVolume::U16(p), dicekit_data::LabelVolume::U16(t)) => {
                let ($a, $b) = (p.data.view(), t.data.view());
                $body
            }
            (p, t) => {
                let (p, t) = (p.into_u32(), t.into_u32());
                let ($a, $b) = (p.data.view(), t.data.view());
                $body
            }
        }
    };
}
pub(crate) use with_maps;

/// Scores the prediction at `pred` against the reference at `truth`: one [`LabelEvaluation`]
/// per label, and the number of voxels of the case.
///
/// # Errors
/// A file that cannot be read, shapes that differ, header spacings that differ without
/// [`EvalOptions::spacing_from`], a spacing of the wrong length, a metric that refuses the maps.
pub fn evaluate_case(
    pred: &Path,
    truth: &Path,
    options: &EvalOptions,
) -> Result<(Vec<LabelEvaluation>, u64), EvalError> {
    let (p, t, spacing) = read_pair(pred, truth, options)?;
    let voxels = t.shape().iter().product::<usize>() as u64;
    let evals = with_maps!(p, t, |p, t| score(&p, &t, &spacing, options, pred))?;
    Ok((evals, voxels))
}

/// Reads both maps of a case (at once, each in its own type) and checks them against each
/// other: the two maps and the spacing to measure in (`options.spacing`, or the headers' as
/// `options.spacing_from` says).
///
/// # Errors
/// A file that cannot be read, shapes that differ, header spacings that differ without
/// [`EvalOptions::spacing_from`], a spacing of the wrong length.
pub fn read_pair(
    pred: &Path,
    truth: &Path,
    options: &EvalOptions,
) -> Result<(LabelVolume, LabelVolume, Vec<f64>), EvalError> {
    // The two files are independent: read and decode them at once, each in its own type
    // (a `uint8` file stays one byte per voxel).
    let (p, t) = rayon::join(
        || read_label_map_native(pred),
        || read_label_map_native(truth),
    );
    let (p, t) = (p?, t?);
    if p.shape() != t.shape() {
        return Err(EvalError::Shape {
            pred: pred.to_path_buf(),
            pred_shape: p.shape().to_vec(),
            truth: truth.to_path_buf(),
            truth_shape: t.shape().to_vec(),
        });
    }
    let spacing = match (&options.spacing, options.spacing_from) {
        (Some(s), _) => s.clone(),
        (None, Some(SpacingSource::Truth)) => t.spacing().to_vec(),
        (None, Some(SpacingSource::Pred)) => p.spacing().to_vec(),
        (None, None) => {
            let (ps, ts) = (p.spacing(), t.spacing());
            let close = ps.len() == ts.len()
                && ps
                    .iter()
                    .zip(ts)
                    .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()));
            if !close {
                return Err(EvalError::Spacing {
                    pred: pred.to_path_buf(),
                    pred_spacing: ps.to_vec(),
                    truth: truth.to_path_buf(),
                    truth_spacing: ts.to_vec(),
                });
            }
            ts.to_vec()
        }
    };
    let ndim = t.shape().len();
    if spacing.len() != ndim {
        return Err(EvalError::SpacingAxes {
            path: truth.to_path_buf(),
            given: spacing.len(),
            axes: ndim,
        });
    }
    Ok((p, t, spacing))
}

/// Every label's evaluation of one case whose maps are read and checked.
fn score<T: Label>(
    p: &ArrayViewD<T>,
    t: &ArrayViewD<T>,
    spacing: &[f64],
    options: &EvalOptions,
    pred: &Path,
) -> Result<Vec<LabelEvaluation>, EvalError> {
    let labels = options
        .labels
        .clone()
        .unwrap_or_else(|| labels_present(p, t));
    let metric_error = |source| EvalError::Metric {
        path: pred.to_path_buf(),
        source,
    };
    let mut evals = evaluate_label_maps(
        p,
        t,
        spacing,
        &labels,
        options.convention,
        options.tolerance,
    )
    .map_err(metric_error)?;
    if options.cl_dice {
        let counts = centreline_counts_per_label(p, t, &labels).map_err(metric_error)?;
        for (e, c) in evals.iter_mut().zip(counts) {
            e.scores.push((MetricKind::ClDice, c.cl_dice()));
        }
    }
    Ok(evals)
}
