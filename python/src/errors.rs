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

/// What a set of files does with the cases it could not score (`errors=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Raise one exception listing them all (`OSError` when the first is about a file, else
    /// `ValueError`).
    Raise,
    /// A `warnings.warn` per case; the others are returned.
    Warn,
}

impl OnFailure {
    /// Parses `raise` or `warn`.
    pub fn parse(s: &str) -> pyo3::PyResult<Self> {
        match s {
            "raise" => Ok(OnFailure::Raise),
            "warn" => Ok(OnFailure::Warn),
            _ => Err(value(format!("errors={s:?}: expected 'raise' or 'warn'"))),
        }
    }

    /// Raises or warns about `failures` (nothing when there are none).
    pub fn report(self, py: pyo3::Python<'_>, failures: &[EvalError]) -> pyo3::PyResult<()> {
        use pyo3::types::PyAnyMethods;
        let Some(first) = failures.first() else {
            return Ok(());
        };
        let all: Vec<String> = failures.iter().map(|e| e.to_string()).collect();
        if self == OnFailure::Raise {
            let message = all.join("; ");
            return Err(if is_os(first) {
                PyOSError::new_err(message)
            } else {
                value(message)
            });
        }
        let warnings = py.import("warnings")?;
        for m in &all {
            warnings.call_method1("warn", (m.as_str(),))?;
        }
        Ok(())
    }
}
