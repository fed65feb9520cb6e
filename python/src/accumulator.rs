//! `Accumulator`: per-case results that add up across calls, processes and machines. Cases
//! are kept by name, so merging in any order or tree gives the same set, and every aggregate
//! is computed from the merged set in case-name order: a merged result equals the
//! single-process one exactly.
use std::collections::BTreeMap;
use std::path::PathBuf;

use dicekit_eval::{CaseResult, EvalOptions, aggregates, complete_labels, json_rows};
use dicekit_metrics::{
    ConfusionCounts, Convention, EmptySide, GdsWeights, LabelEvaluation, MetricKind, PeerValue,
    Score, generalized_dice_score,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::arrays::{self, Pair};
use crate::evaluate::Evaluate;
use crate::{convert, errors};

/// One case: its labels and its number of voxels (to complete labels absent from it).
#[derive(Clone, PartialEq)]
struct Case {
    labels: Vec<LabelEvaluation>,
    voxels: u64,
}

/// Cases scored under one set of options, added one by one or merged from other accumulators.
#[pyclass(module = "dicekit._dicekit", name = "Accumulator")]
#[derive(Clone, PartialEq)]
pub struct Accumulator {
    convention: Convention,
    tolerance: f64,
    labels: Option<Vec<u32>>,
    cl_dice: bool,
    cases: BTreeMap<String, Case>,
}

impl Accumulator {
    fn insert(&mut self, name: String, case: Case) -> PyResult<()> {
        if self.cases.contains_key(&name) {
            return Err(errors::value(format!(
                "case {name:?} is already in this accumulator (give every case its own name)"
            )));
        }
        self.cases.insert(name, case);
        Ok(())
    }

    fn next_name(&self) -> String {
        let mut k = self.cases.len();
        loop {
            let name = format!("case_{k:06}");
            if !self.cases.contains_key(&name) {
                return name;
            }
            k += 1;
        }
    }

    /// The cases in name order, completed to every label of the set (without fixed labels).
    fn results(&self) -> Vec<CaseResult> {
        let mut results: Vec<CaseResult> = self
            .cases
            .iter()
            .map(|(name, c)| CaseResult {
                name: name.clone(),
                labels: c.labels.clone(),
            })
            .collect();
        if self.labels.is_none() {
            let voxels: Vec<u64> = self.cases.values().map(|c| c.voxels).collect();
            complete_labels(&mut results, &voxels);
        }
        results
    }

    fn options_eq(&self, other: &Self) -> bool {
        self.convention == other.convention
            && self.tolerance.to_bits() == other.tolerance.to_bits()
            && self.labels == other.labels
            && self.cl_dice == other.cl_dice
    }
}

fn score_state(s: Score) -> (&'static str, f64) {
    match s {
        Score::Value(v) => ("value", v),
        Score::Empty(EmptySide::Prediction) => ("empty_prediction", f64::NAN),
        Score::Empty(EmptySide::Reference) => ("empty_reference", f64::NAN),
        Score::Empty(EmptySide::Both) => ("empty_both", f64::NAN),
    }
}

fn score_from_state(kind: &str, v: f64) -> PyResult<Score> {
    Ok(match kind {
        "value" => Score::Value(v),
        "empty_prediction" => Score::Empty(EmptySide::Prediction),
        "empty_reference" => Score::Empty(EmptySide::Reference),
        "empty_both" => Score::Empty(EmptySide::Both),
        _ => {
            return Err(errors::value(format!(
                "bad accumulator state: score {kind:?}"
            )));
        }
    })
}

type LabelState = (u32, u64, u64, u64, u64, Vec<(String, String, f64)>);
type CaseState = (String, u64, Vec<LabelState>);

#[pymethods]
impl Accumulator {
    #[new]
    #[pyo3(signature = (*, convention="monai", tolerance=1.0, labels=None, cl_dice=false))]
    fn new(
        convention: &str,
        tolerance: f64,
        labels: Option<Vec<i64>>,
        cl_dice: bool,
    ) -> PyResult<Self> {
        let labels = arrays::labels(labels)?;
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(errors::value(format!(
                "tolerance must be a finite number >= 0, got {tolerance}"
            )));
        }
        Ok(Accumulator {
            convention: convert::convention(convention)?,
            tolerance,
            labels,
            cl_dice,
            cases: BTreeMap::new(),
        })
    }

    /// Scores one case (arrays in memory) and keeps it under `case` (default `case_000000`,
    /// `case_000001`, ...: give names when accumulators are merged).
    #[pyo3(signature = (pred, truth, *, spacing=None, case=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        pred: &Bound<'_, PyAny>,
        truth: &Bound<'_, PyAny>,
        spacing: Option<Vec<f64>>,
        case: Option<String>,
    ) -> PyResult<()> {
        let name = case.unwrap_or_else(|| self.next_name());
        if self.cases.contains_key(&name) {
            return Err(errors::value(format!(
                "case {name:?} is already in this accumulator (give every case its own name)"
            )));
        }
        let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
        let pair = Pair::new(&p, &t)?;
        let shape = p.shape();
        let spacing = arrays::spacing(spacing, shape.len())?;
        let (convention, tolerance, cl_dice) = (self.convention, self.tolerance, self.cl_dice);
        let labels = self.labels.clone();
        let evals = py
            .detach(|| {
                pair.apply(Evaluate {
                    spacing: &spacing,
                    labels: labels.as_deref(),
                    label_one: false,
                    convention,
                    tolerance,
                    cl_dice,
                })
            })
            .map_err(errors::metric)?;
        let voxels = shape.iter().product::<usize>() as u64;
        self.insert(
            name,
            Case {
                labels: evals,
                voxels,
            },
        )
    }

    /// Scores one case from files, as `dicekit eval` reads them (the case named after the
    /// reference file, as `dicekit eval` names a pair of files, unless `case` is given).
    #[pyo3(signature = (pred, truth, *, spacing=None, spacing_from=None, case=None))]
    fn add_files(
        &mut self,
        py: Python<'_>,
        pred: PathBuf,
        truth: PathBuf,
        spacing: Option<Vec<f64>>,
        spacing_from: Option<&str>,
        case: Option<String>,
    ) -> PyResult<()> {
        let options = EvalOptions {
            spacing,
            spacing_from: convert::spacing_source(spacing_from)?,
            labels: self.labels.clone(),
            convention: self.convention,
            tolerance: self.tolerance,
            cl_dice: self.cl_dice,
        };
        options.validate().map_err(errors::eval)?;
        let name = case.unwrap_or_else(|| dicekit_data::case_name(&truth));
        if self.cases.contains_key(&name) {
            return Err(errors::value(format!(
                "case {name:?} is already in this accumulator (give every case its own name)"
            )));
        }
        let (labels, voxels) = py
            .detach(|| dicekit_eval::evaluate_case(&pred, &truth, &options))
            .map_err(errors::eval)?;
        self.insert(name, Case { labels, voxels })
    }

    /// Adds every case of `other` (scored under the same options; case names must differ).
    fn merge(&mut self, other: &Accumulator) -> PyResult<()> {
        if !self.options_eq(other) {
            return Err(errors::value(
                "cannot merge accumulators made with different convention, tolerance, labels or cl_dice",
            ));
        }
        if let Some(dup) = other.cases.keys().find(|k| self.cases.contains_key(*k)) {
            return Err(errors::value(format!(
                "case {dup:?} is in both accumulators"
            )));
        }
        for (k, v) in &other.cases {
            self.cases.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    /// The case names, sorted.
    #[getter]
    fn cases(&self) -> Vec<String> {
        self.cases.keys().cloned().collect()
    }

    /// Every case x label x metric, then the `(mean)` and `(all voxels)` rows: exactly the rows
    /// `dicekit eval --format json` prints for the same cases.
    fn records<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rows = json_rows(&self.results(), self.convention, self.tolerance);
        convert::rows(py, &rows)
    }

    /// Aggregates of the set: per label the Dice and IoU of the counts summed over the cases
    /// (micro) and the mean of each metric over the cases (empty results left out and counted);
    /// over labels the mean of the per-label summed-count Dice as the convention takes a mean
    /// over classes (macro: a class the peer scores NaN is left out; under MONAI, 0 when every
    /// class is, as `DiceMetric` reduces; otherwise `None`) and the generalized Dice of the
    /// summed counts (weights `1 / G_c^2`; where a side is empty, MONAI's
    /// `GeneralizedDiceScore` value: 1 when both are, else 0).
    fn aggregate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let results = self.results();
        let aggs = aggregates(&results);
        let out = PyDict::new(py);
        let labels = PyList::empty(py);
        let mut dices: Vec<Score> = Vec::new();
        let mut summed: Vec<ConfusionCounts> = Vec::new();
        for (label, agg) in &aggs {
            let d = PyDict::new(py);
            d.set_item("label", *label)?;
            d.set_item("cases", results.len())?;
            let dice = self.convention.dice(&agg.counts);
            dices.push(dice);
            summed.push(agg.counts);
            d.set_item("dice_all_voxels", dice.value())?;
            d.set_item(
                "iou_all_voxels",
                self.convention.jaccard(&agg.counts).value(),
            )?;
            let means = PyDict::new(py);
            let excluded = PyDict::new(py);
            for (m, a) in &agg.metrics {
                means.set_item(m.name(), a.mean)?;
                excluded.set_item(m.name(), a.excluded)?;
            }
            d.set_item("mean", means)?;
            d.set_item("excluded", excluded)?;
            labels.append(d)?;
        }
        out.set_item("labels", labels)?;
        out.set_item(
            "macro_dice",
            (!dices.is_empty())
                .then(|| {
                    self.convention
                        .mean_over_classes(MetricKind::Dice, &dices)
                        .value()
                })
                .flatten(),
        )?;
        // MONAI's GeneralizedDiceScore where nothing is anywhere (1) or only one side (0).
        let gds = match generalized_dice_score(&summed, GdsWeights::Square) {
            Score::Value(v) => Some(v),
            Score::Empty(side) => match self
                .convention
                .empty_value(MetricKind::GeneralizedDice, side)
            {
                PeerValue::Number(v) => Some(v),
                _ => None,
            },
        };
        out.set_item("generalized_dice", gds)?;
        Ok(out)
    }

    fn __len__(&self) -> usize {
        self.cases.len()
    }

    fn __eq__(&self, other: &Accumulator) -> bool {
        self == other
    }

    fn __repr__(&self) -> String {
        format!(
            "Accumulator(convention={:?}, tolerance={}, cases={})",
            self.convention.name(),
            self.tolerance,
            self.cases.len()
        )
    }

    /// `(Accumulator, (), state)`: pickles under every protocol (0 and 1 included), and
    /// `copy.copy` / `copy.deepcopy` take the same path.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let state = slf.borrow().__getstate__(py)?;
        (slf.get_type(), PyTuple::empty(py), state).into_pyobject(py)
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let cases: Vec<CaseState> = self
            .cases
            .iter()
            .map(|(name, c)| {
                let labels = c
                    .labels
                    .iter()
                    .map(|l| {
                        let k = l.counts;
                        let scores = l
                            .scores
                            .iter()
                            .map(|(m, s)| {
                                let (kind, v) = score_state(*s);
                                (m.name().to_string(), kind.to_string(), v)
                            })
                            .collect();
                        (
                            l.label,
                            k.true_positives,
                            k.false_positives,
                            k.false_negatives,
                            k.true_negatives,
                            scores,
                        )
                    })
                    .collect();
                (name.clone(), c.voxels, labels)
            })
            .collect();
        (
            self.convention.name(),
            self.tolerance,
            self.labels.clone(),
            self.cl_dice,
            cases,
        )
            .into_pyobject(py)
    }

    fn __setstate__(&mut self, state: &Bound<'_, PyTuple>) -> PyResult<()> {
        let (convention, tolerance, labels, cl_dice, cases): (
            String,
            f64,
            Option<Vec<u32>>,
            bool,
            Vec<CaseState>,
        ) = state.extract()?;
        self.convention = convert::convention(&convention)?;
        self.tolerance = tolerance;
        self.labels = labels;
        self.cl_dice = cl_dice;
        self.cases.clear();
        for (name, voxels, labels) in cases {
            let labels = labels
                .into_iter()
                .map(|(label, tp, fp, fn_, tn, scores)| {
                    let scores = scores
                        .into_iter()
                        .map(|(m, kind, v)| {
                            let metric = MetricKind::from_name(&m).ok_or_else(|| {
                                errors::value(format!("bad accumulator state: metric {m:?}"))
                            })?;
                            Ok((metric, score_from_state(&kind, v)?))
                        })
                        .collect::<PyResult<Vec<_>>>()?;
                    Ok(LabelEvaluation {
                        label,
                        counts: ConfusionCounts {
                            true_positives: tp,
                            false_positives: fp,
                            false_negatives: fn_,
                            true_negatives: tn,
                        },
                        scores,
                    })
                })
                .collect::<PyResult<Vec<_>>>()?;
            self.cases.insert(name, Case { labels, voxels });
        }
        Ok(())
    }
}
