//! Errors of the metric functions.

/// Why a metric could not be computed from its inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricError {
    /// Prediction and reference differ in shape.
    #[error("shape mismatch: prediction {pred:?} vs reference {truth:?}")]
    ShapeMismatch {
        /// Shape of the prediction.
        pred: Vec<usize>,
        /// Shape of the reference.
        truth: Vec<usize>,
    },
    /// A spacing that is not a finite positive number per axis.
    #[error("invalid spacing {spacing:?} for {ndim} axes (need finite values > 0, one per axis)")]
    BadSpacing {
        /// The spacing given.
        spacing: Vec<f64>,
        /// Number of axes of the masks.
        ndim: usize,
    },
    /// Surface metrics, skeletons and clDice are defined for 2D and 3D masks only.
    #[error("this metric needs 2D or 3D masks, got {0} axes")]
    UnsupportedRank(usize),
    /// A parameter outside its range.
    #[error("invalid `{name}`: {value} ({expected})")]
    BadParameter {
        /// Parameter name.
        name: &'static str,
        /// Value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
}

pub(crate) fn check_spacing(spacing: &[f64], ndim: usize) -> Result<(), MetricError> {
    if spacing.len() != ndim || spacing.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(MetricError::BadSpacing {
            spacing: spacing.to_vec(),
            ndim,
        });
    }
    Ok(())
}

pub(crate) fn check_shapes(pred: &[usize], truth: &[usize]) -> Result<(), MetricError> {
    if pred != truth {
        return Err(MetricError::ShapeMismatch {
            pred: pred.to_vec(),
            truth: truth.to_vec(),
        });
    }
    Ok(())
}
