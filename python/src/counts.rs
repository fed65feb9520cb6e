//! Confusion counts: `ConfusionCounts` (add them over cases, score once) and
//! `confusion_counts` (every label of a pair in one pass).
use dicekit_metrics::{
    ConfusionCounts, Label, MetricError, MetricKind, confusion_per_label, labels_present,
};
use ndarray::ArrayViewD;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::arrays::{self, Pair, PairFn};
use crate::convert::{self, Empty};

/// Voxel counts of one binary comparison: true and false positives, false and true negatives.
#[pyclass(module = "dicekit._dicekit", name = "ConfusionCounts", eq, frozen)]
#[derive(Clone, PartialEq)]
pub struct Counts(pub ConfusionCounts);

#[pymethods]
impl Counts {
    #[new]
    #[pyo3(signature = (tp=0, fp=0, r#fn=0, tn=0))]
    fn new(tp: u64, fp: u64, r#fn: u64, tn: u64) -> Self {
        Counts(ConfusionCounts {
            true_positives: tp,
            false_positives: fp,
            false_negatives: r#fn,
            true_negatives: tn,
        })
    }

    /// True positives: predicted and in the reference.
    #[getter]
    fn tp(&self) -> u64 {
        self.0.true_positives
    }

    /// False positives: predicted, not in the reference.
    #[getter]
    fn fp(&self) -> u64 {
        self.0.false_positives
    }

    /// False negatives: in the reference, not predicted.
    #[getter]
    fn r#fn(&self) -> u64 {
        self.0.false_negatives
    }

    /// True negatives: in neither.
    #[getter]
    fn tn(&self) -> u64 {
        self.0.true_negatives
    }

    /// Dice `2 TP / (2 TP + FP + FN)`; with both masks empty, the convention's value.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn dice(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(c.dice(&self.0), MetricKind::Dice, c)
    }

    /// Jaccard (IoU) `TP / (TP + FP + FN)`; with both masks empty, the convention's value.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn jaccard(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(c.jaccard(&self.0), MetricKind::Jaccard, c)
    }

    /// Precision `TP / (TP + FP)`; undefined without predicted voxels.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn precision(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(self.0.precision(), MetricKind::Precision, c)
    }

    /// Recall (sensitivity) `TP / (TP + FN)`; undefined without reference voxels.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn recall(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(self.0.recall(), MetricKind::Recall, c)
    }

    /// Specificity `TN / (TN + FP)`.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn specificity(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(self.0.specificity(), MetricKind::Specificity, c)
    }

    /// Relative volume difference `(|P| - |G|) / |G|`.
    #[pyo3(signature = (*, convention="monai", empty="peer"))]
    fn volume_difference(&self, convention: &str, empty: &str) -> PyResult<f64> {
        let c = convert::convention(convention)?;
        Empty::parse(empty)?.resolve(self.0.volume_difference(), MetricKind::VolumeDifference, c)
    }

    fn __add__(&self, other: &Self) -> Self {
        let mut c = self.0;
        c += other.0;
        Counts(c)
    }

    fn __repr__(&self) -> String {
        format!(
            "ConfusionCounts(tp={}, fp={}, fn={}, tn={})",
            self.0.true_positives,
            self.0.false_positives,
            self.0.false_negatives,
            self.0.true_negatives
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let c = slf.get().0;
        let args = (
            c.true_positives,
            c.false_positives,
            c.false_negatives,
            c.true_negatives,
        );
        (slf.get_type(), args).into_pyobject(slf.py())
    }
}

struct PerLabel<'s> {
    labels: Option<&'s [u32]>,
}

impl PairFn for PerLabel<'_> {
    type Out = Result<(Vec<u32>, Vec<ConfusionCounts>), MetricError>;
    fn run<T: Label>(self, p: &ArrayViewD<T>, t: &ArrayViewD<T>) -> Self::Out {
        let labels = self
            .labels
            .map_or_else(|| labels_present(p, t), <[u32]>::to_vec);
        let counts = confusion_per_label(p, t, &labels)?;
        Ok((labels, counts))
    }
}

/// The confusion counts of every label (given, or present in either map) as `{label: counts}`.
#[pyfunction]
#[pyo3(signature = (pred, truth, *, labels=None))]
pub fn confusion_counts<'py>(
    py: Python<'py>,
    pred: &Bound<'py, PyAny>,
    truth: &Bound<'py, PyAny>,
    labels: Option<Vec<i64>>,
) -> PyResult<Bound<'py, PyDict>> {
    let labels = arrays::labels(labels)?;
    let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
    let pair = Pair::new(&p, &t)?;
    let (labels, counts) = py
        .detach(|| {
            pair.apply(PerLabel {
                labels: labels.as_deref(),
            })
        })
        .map_err(crate::errors::metric)?;
    let out = PyDict::new(py);
    for (l, c) in labels.into_iter().zip(counts) {
        out.set_item(l, Counts(c))?;
    }
    Ok(out)
}
