//! Calibration of probabilities against outcomes: reliability bins, ECE, MCE, Brier score.
use dicekit_metrics::{
    Binning, EdgeRule, ReliabilityBin, brier_score as brier, expected_calibration_error,
    maximum_calibration_error, reliability_bins as bins_of,
};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors;

fn binning(name: &str) -> PyResult<Binning> {
    match name {
        "equal_width" => Ok(Binning::EqualWidth),
        "equal_mass" => Ok(Binning::EqualMass),
        _ => Err(errors::value(format!(
            "binning={name:?}: expected 'equal_width' or 'equal_mass'"
        ))),
    }
}

fn edge(name: &str) -> PyResult<EdgeRule> {
    match name {
        "right" => Ok(EdgeRule::RightClosed),
        "left" => Ok(EdgeRule::LeftClosed),
        _ => Err(errors::value(format!(
            "edges={name:?}: expected 'right' ((lo, hi], Guo et al.) or 'left' ([lo, hi), netcal, torchmetrics)"
        ))),
    }
}

fn compute(
    py: Python<'_>,
    confidence: &PyReadonlyArray1<'_, f64>,
    correct: &PyReadonlyArray1<'_, bool>,
    bins: i64,
    binning_name: &str,
    edges: &str,
) -> PyResult<Vec<ReliabilityBin>> {
    let (b, e) = (binning(binning_name)?, edge(edges)?);
    let bins = usize::try_from(bins)
        .map_err(|_| errors::value(format!("invalid `bins`: {bins} (at least 1)")))?;
    let (c, p) = (confidence.as_slice()?, correct.as_slice()?);
    py.detach(|| bins_of(c, p, bins, b, e))
        .map_err(errors::metric)
}

/// Reliability bins: per bin its edges, sample count, mean confidence and accuracy.
#[pyfunction]
#[pyo3(signature = (confidence, correct, *, bins=15, binning="equal_width", edges="right"))]
pub fn reliability_bins<'py>(
    py: Python<'py>,
    confidence: PyReadonlyArray1<'py, f64>,
    correct: PyReadonlyArray1<'py, bool>,
    bins: i64,
    binning: &str,
    edges: &str,
) -> PyResult<Bound<'py, PyList>> {
    let out = compute(py, &confidence, &correct, bins, binning, edges)?;
    let items: Vec<Bound<'py, PyDict>> = out
        .iter()
        .map(|b| {
            let d = PyDict::new(py);
            d.set_item("lower", b.lower)?;
            d.set_item("upper", b.upper)?;
            d.set_item("count", b.count)?;
            d.set_item("confidence", b.confidence)?;
            d.set_item("accuracy", b.accuracy)?;
            Ok(d)
        })
        .collect::<PyResult<_>>()?;
    PyList::new(py, items)
}

/// Expected calibration error `sum_b (n_b / N) |acc_b - conf_b|`.
#[pyfunction]
#[pyo3(name = "expected_calibration_error", signature = (confidence, correct, *, bins=15, binning="equal_width", edges="right"))]
pub fn expected_calibration_error_py(
    py: Python<'_>,
    confidence: PyReadonlyArray1<'_, f64>,
    correct: PyReadonlyArray1<'_, bool>,
    bins: i64,
    binning: &str,
    edges: &str,
) -> PyResult<f64> {
    let b = compute(py, &confidence, &correct, bins, binning, edges)?;
    Ok(expected_calibration_error(&b))
}

/// Maximum calibration error `max_b |acc_b - conf_b|` over non-empty bins.
#[pyfunction]
#[pyo3(name = "maximum_calibration_error", signature = (confidence, correct, *, bins=15, binning="equal_width", edges="right"))]
pub fn maximum_calibration_error_py(
    py: Python<'_>,
    confidence: PyReadonlyArray1<'_, f64>,
    correct: PyReadonlyArray1<'_, bool>,
    bins: i64,
    binning: &str,
    edges: &str,
) -> PyResult<f64> {
    let b = compute(py, &confidence, &correct, bins, binning, edges)?;
    Ok(maximum_calibration_error(&b))
}

/// Brier score `mean (p - y)^2`.
#[pyfunction]
pub fn brier_score(
    py: Python<'_>,
    confidence: PyReadonlyArray1<'_, f64>,
    correct: PyReadonlyArray1<'_, bool>,
) -> PyResult<f64> {
    let (c, p) = (confidence.as_slice()?, correct.as_slice()?);
    py.detach(|| brier(c, p)).map_err(errors::metric)
}
