//! Rust errors as Python exceptions, with the Rust message: `OSError` for a file that cannot be
//! read or found, `ValueError` for everything a caller's arrays or arguments get wrong.
use dicekit_data::DataErrorKind;
use dicekit_eval::EvalError;
use dicekit_metrics::MetricError;
use pyo3::PyErr;
use pyo3::exceptions::{PyOSError, PyValueError};

/// A metric that refused its inputs (shapes, spacing, labels, parameters).
pub fn metric(e: MetricError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An evaluation of files: `OSError` when a file or folder cannot be read or paired,
/// `ValueError` otherwise.
pub fn eval(e: EvalError) -> PyErr {
    if is_os(&e) {
        PyOSError::new_err(e.to_string())
    } else {
        PyValueError::new_err(e.to_string())
    }
}

/// Whether `e` is about a file or folder that cannot be read or paired.
pub fn is_os(e: &EvalError) -> bool {
    match e {
        EvalError::Read(d) => matches!(d.kind(), DataErrorKind::Io(_)),
        EvalError::NoLabelMaps(_)
        | EvalError::FolderAndFile { .. }
        | EvalError::NoReference { .. }
        | EvalError::NoPrediction { .. } => true,
        _ => false,
    }
}

/// A `ValueError` with this message.
pub fn value(message: impl Into<String>) -> PyErr {
    PyValueError::new_err(message.into())
}
