//! `evaluate` (arrays in memory) and `evaluate_files` (what `dicekit eval` reads): one record
//! per case, label and metric, with the keys and values of `dicekit eval --format json`.
use std::path::PathBuf;

use dicekit_eval::{CaseResult, EvalOptions};
use dicekit_metrics::{
    Convention, Label, LabelEvaluation, MetricError, MetricKind, centreline_counts_per_label,
    evaluate_label_maps, labels_present,
};
use ndarray::ArrayViewD;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::arrays::{self, Pair, PairFn};
use crate::convert::{self, Empty};
use crate::errors;

/// Every label's evaluation of one pair (the labels given, else those present, else label 1
/// when `label_one` is set).
pub struct Evaluate<'s> {
    pub spacing: &'s [f64],
    pub labels: Option<&'s [u32]>,
    /// Score label 1 of a pair without labels (`evaluate`); an accumulator's case keeps none, as
    /// `dicekit eval` does, and the set's labels complete it.
    pub label_one: bool,
    pub convention: Convention,
    pub tolerance: f64,
    pub cl_dice: bool,
}

impl PairFn for Evaluate<'_> {
    type Out = Result<Vec<LabelEvaluation>, MetricError>;
    fn run<T: Label>(self, p: &ArrayViewD<T>, t: &ArrayViewD<T>) -> Self::Out {
        let labels = match self.labels {
            Some(l) => l.to_vec(),
            None => {
                let l = labels_present(p, t);
                if l.is_empty() && self.label_one {
                    vec![1]
                } else {
                    l
                }
            }
        };
        let mut evals =
            evaluate_label_maps(p, t, self.spacing, &labels, self.convention, self.tolerance)?;
        if self.cl_dice {
            let counts = centreline_counts_per_label(p, t, &labels)?;
            for (e, c) in evals.iter_mut().zip(counts) {
                e.scores.push((MetricKind::ClDice, c.cl_dice()));
            }
        }
        Ok(evals)
    }
}

/// The metric names asked for, checked against the metrics `evaluate` reports (the per-label
/// table of `dicekit eval`, and `cl_dice` with `cl_dice=True`): a name it never reports is a
/// `ValueError`, not a silently missing row.
pub fn metric_filter(
    metrics: Option<Vec<String>>,
    cl_dice: bool,
) -> PyResult<Option<Vec<MetricKind>>> {
    let Some(names) = metrics else {
        return Ok(None);
    };
    let mut reported: Vec<MetricKind> = MetricKind::REPORTED.to_vec();
    if cl_dice {
        reported.push(MetricKind::ClDice);
    }
    names
        .iter()
        .map(|n| {
            let known: Vec<&str> = reported.iter().map(|m| m.name()).collect();
            match MetricKind::from_name(n) {
                Some(m) if reported.contains(&m) => Ok(m),
                Some(MetricKind::ClDice) => Err(errors::value(
                    "metric \"cl_dice\" is computed with cl_dice=True",
                )),
                Some(_) => Err(errors::value(format!(
                    "metric {n:?} is not a row of evaluate (it reports {}); \
                     SurfaceDistances and ConfusionCounts compute the others",
                    known.join(", ")
                ))),
                None => Err(errors::value(format!(
                    "metric {n:?}: expected one of {}",
                    known.join(", ")
                ))),
            }
        })
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

/// The per-label rows of one case as `dicekit eval` writes them, filtered, and beside each row
/// its `value` resolved by `empty` (`None`: the row's own value, `None` where undefined, as the
/// CLI writes it). The resolved values travel apart from the JSON rows because NaN and inf are
/// not JSON numbers.
pub fn case_rows(
    result: &CaseResult,
    convention: Convention,
    tolerance: f64,
    metrics: Option<&[MetricKind]>,
    empty: Option<Empty>,
) -> PyResult<(Vec<serde_json::Value>, Vec<Option<f64>>)> {
    let one = std::slice::from_ref(result);
    let mut rows = Vec::new();
    for row in dicekit_eval::json_rows(one, convention, tolerance) {
        if row["case"] != result.name.as_str() {
            continue; // the aggregate rows of a one-case set
        }
        let metric = row["metric"].as_str().and_then(MetricKind::from_name);
        if let (Some(keep), Some(m)) = (metrics, metric)
            && !keep.contains(&m)
        {
            continue;
        }
        rows.push(row);
    }
    let mut values = vec![None; rows.len()];
    if let Some(policy) = empty {
        for (row, value) in rows.iter().zip(values.iter_mut()) {
            let label = row["label"].as_u64().unwrap_or(0) as u32;
            let Some(m) = row["metric"].as_str().and_then(MetricKind::from_name) else {
                continue;
            };
            let score = result
                .labels
                .iter()
                .find(|l| l.label == label)
                .and_then(|l| l.scores.iter().find(|(k, _)| *k == m))
                .map(|(_, s)| *s);
            if let Some(s) = score {
                *value = Some(policy.resolve(s, m, convention)?);
            }
        }
    }
    Ok((rows, values))
}

/// Overlap and surface metrics of two label maps in memory.
#[pyfunction]
#[pyo3(signature = (pred, truth, *, spacing=None, labels=None, convention="monai", tolerance=1.0, metrics=None, empty=None, case=None, cl_dice=false))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate<'py>(
    py: Python<'py>,
    pred: &Bound<'py, PyAny>,
    truth: &Bound<'py, PyAny>,
    spacing: Option<Vec<f64>>,
    labels: Option<Vec<i64>>,
    convention: &str,
    tolerance: f64,
    metrics: Option<Vec<String>>,
    empty: Option<&str>,
    case: Option<String>,
    cl_dice: bool,
) -> PyResult<Bound<'py, PyList>> {
    let convention = convert::convention(convention)?;
    let labels = arrays::labels(labels)?;
    let metrics = metric_filter(metrics, cl_dice)?;
    let empty = empty.map(Empty::parse).transpose()?;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(errors::value(format!(
            "tolerance must be a finite number >= 0, got {tolerance}"
        )));
    }
    let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
    let pair = Pair::new(&p, &t)?;
    let spacing = arrays::spacing(spacing, p.shape().len())?;
    let evals = py
        .detach(|| {
            pair.apply(Evaluate {
                spacing: &spacing,
                labels: labels.as_deref(),
                label_one: true,
                convention,
                tolerance,
                cl_dice,
            })
        })
        .map_err(errors::metric)?;
    let result = CaseResult {
        name: case.clone().unwrap_or_default(),
        labels: evals,
    };
    let (mut rows, values) = case_rows(&result, convention, tolerance, metrics.as_deref(), empty)?;
    if case.is_none() {
        for r in &mut rows {
            r["case"] = serde_json::Value::Null;
        }
    }
    let out = convert::rows(py, &rows)?;
    for (row, value) in out.iter().zip(values) {
        if let Some(v) = value {
            row.set_item("value", v)?;
        }
    }
    Ok(out)
}

/// Every case of two files or folders, as `dicekit eval --format json` prints them.
#[pyfunction]
#[pyo3(signature = (pred, truth, *, spacing=None, spacing_from=None, labels=None, convention="monai", tolerance=1.0, cl_dice=false, errors="raise"))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate_files<'py>(
    py: Python<'py>,
    pred: PathBuf,
    truth: PathBuf,
    spacing: Option<Vec<f64>>,
    spacing_from: Option<&str>,
    labels: Option<Vec<i64>>,
    convention: &str,
    tolerance: f64,
    cl_dice: bool,
    errors: &str,
) -> PyResult<Bound<'py, PyList>> {
    let labels = arrays::labels(labels)?;
    let options = EvalOptions {
        spacing,
        spacing_from: convert::spacing_source(spacing_from)?,
        labels,
        convention: convert::convention(convention)?,
        tolerance,
        cl_dice,
    };
    let on_failure = errors::OnFailure::parse(errors)?;
    let evaluation = py
        .detach(|| dicekit_eval::evaluate_files(&pred, &truth, &options, |_, _| {}))
        .map_err(errors::eval)?;
    on_failure.report(py, &evaluation.failures)?;
    convert::rows(py, &evaluation.json_rows())
}

/// The cases of two files or folders as `dicekit eval` pairs them: `(case, pred, truth)` in
/// case-name order (two folders: matched by case name; two files: one case named after the
/// reference). Files without a partner raise `OSError` (`errors="raise"`) or warn
/// (`errors="warn"`) and are left out.
#[pyfunction]
#[pyo3(signature = (pred, truth, *, errors="raise"))]
pub fn pair_files(
    py: Python<'_>,
    pred: PathBuf,
    truth: PathBuf,
    errors: &str,
) -> PyResult<Vec<(String, PathBuf, PathBuf)>> {
    let on_failure = errors::OnFailure::parse(errors)?;
    let pairing = py
        .detach(|| dicekit_eval::pair_inputs(&pred, &truth))
        .map_err(errors::eval)?;
    on_failure.report(py, &pairing.unmatched)?;
    Ok(pairing
        .pairs
        .into_iter()
        .map(|p| (p.name, p.pred, p.truth))
        .collect())
}
