//! Rust values as Python objects: JSON rows as dicts, scores as floats under an empty policy.
use dicekit_metrics::{Convention, EmptySide, MetricKind, PeerValue, Score};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::errors;

/// A JSON value as the Python object `json.loads` would give.
pub fn json<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        serde_json::Value::Null => py.None().into_bound(py),
        serde_json::Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.into_pyobject(py)?.into_any(),
            (_, Some(i), _) => i.into_pyobject(py)?.into_any(),
            (_, _, f) => f.unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        serde_json::Value::String(s) => s.into_pyobject(py)?.into_any(),
        serde_json::Value::Array(a) => {
            let items: Vec<Bound<'py, PyAny>> =
                a.iter().map(|x| json(py, x)).collect::<PyResult<_>>()?;
            PyList::new(py, items)?.into_any()
        }
        serde_json::Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// JSON rows as a list of dicts.
pub fn rows<'py>(py: Python<'py>, rows: &[serde_json::Value]) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<Bound<'py, PyAny>> =
        rows.iter().map(|r| json(py, r)).collect::<PyResult<_>>()?;
    PyList::new(py, items)
}

/// What a score becomes where a side is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// The convention's peer value: a number, NaN or inf; a peer that raises raises
    /// `ValueError`.
    Peer,
    /// NaN.
    Nan,
    /// `ValueError`.
    Raise,
}

impl Empty {
    /// Parses `peer`, `nan` or `raise`.
    pub fn parse(s: &str) -> PyResult<Self> {
        match s {
            "peer" => Ok(Empty::Peer),
            "nan" => Ok(Empty::Nan),
            "raise" => Ok(Empty::Raise),
            _ => Err(errors::value(format!(
                "empty={s:?}: expected 'peer', 'nan' or 'raise'"
            ))),
        }
    }

    /// The float of `score` (metric `metric` under `convention`).
    pub fn resolve(
        self,
        score: Score,
        metric: MetricKind,
        convention: Convention,
    ) -> PyResult<f64> {
        let side = match score {
            Score::Value(v) => return Ok(v),
            Score::Empty(side) => side,
        };
        let which = match side {
            EmptySide::Prediction => "the prediction is empty",
            EmptySide::Reference => "the reference is empty",
            EmptySide::Both => "both masks are empty",
        };
        match self {
            Empty::Nan => Ok(f64::NAN),
            Empty::Raise => Err(errors::value(format!(
                "{}: undefined, {which}",
                metric.name()
            ))),
            Empty::Peer => match convention.empty_value(metric, side) {
                PeerValue::Number(v) => Ok(v),
                PeerValue::NaN => Ok(f64::NAN),
                PeerValue::Inf => Ok(f64::INFINITY),
                PeerValue::Raises => Err(errors::value(format!(
                    "{}: {which}, where {} raises (pass empty='nan' for NaN)",
                    metric.name(),
                    convention.name()
                ))),
            },
        }
    }
}

/// A convention by name (`monai`, `deepmind`, `medpy`, `seg-metrics` or `seg_metrics`,
/// `metrics-reloaded` or `metrics_reloaded`).
pub fn convention(name: &str) -> PyResult<Convention> {
    Convention::from_name(&name.replace('_', "-")).ok_or_else(|| {
        let names: Vec<&str> = Convention::ALL.iter().map(|c| c.name()).collect();
        errors::value(format!(
            "convention={name:?}: expected one of {}",
            names.join(", ")
        ))
    })
}

/// `spacing_from`: `None`, `"truth"` or `"pred"` (whose header spacing is used when they differ).
pub fn spacing_source(name: Option<&str>) -> PyResult<Option<dicekit_eval::SpacingSource>> {
    match name {
        None => Ok(None),
        Some("truth") => Ok(Some(dicekit_eval::SpacingSource::Truth)),
        Some("pred") => Ok(Some(dicekit_eval::SpacingSource::Pred)),
        Some(s) => Err(errors::value(format!(
            "spacing_from={s:?}: expected 'truth' or 'pred'"
        ))),
    }
}
