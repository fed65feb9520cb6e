//! `evaluate_lesions` (two label maps in memory) and `evaluate_lesion_files` (files or folders,
//! FROC pooled over the cases): lesion-wise detection, panoptic quality, sizes and FROC, what
//! `dicekit eval --lesions` computes.
use std::path::PathBuf;

use dicekit_eval::{
    Candidates, EvalError, EvalOptions, FrocOptions, LabelLesions, LesionCaseResult,
    LesionEvalOptions, LesionEvaluationSet, ProbabilityChannels, SizeUnit,
    evaluate_lesion_files as evaluate_lesion_files_rs, lesions_of_maps,
};
use dicekit_metrics::{
    ComponentScore, Connectivity, FrocConvention, Label, MatchingRule, PairMetric, ProbNms,
    ROC_FP_RATES,
};
use ndarray::{ArrayViewD, Axis};
use numpy::PyReadonlyArrayDyn;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrays::{self, Pair, PairFn};
use crate::{convert, errors};

struct Lesions<'s> {
    spacing: &'s [f64],
    probs: Option<ArrayViewD<'s, f32>>,
    options: &'s LesionEvalOptions,
}

impl PairFn for Lesions<'_> {
    type Out = Result<Vec<LabelLesions>, EvalError>;
    fn run<T: Label>(self, p: &ArrayViewD<T>, t: &ArrayViewD<T>) -> Self::Out {
        lesions_of_maps(
            p,
            t,
            self.spacing,
            self.probs.as_ref(),
            self.options,
            "case",
        )
    }
}

fn rule(name: &str, threshold: Option<f64>) -> PyResult<MatchingRule> {
    if let Some(t) = threshold
        && !(0.0..=1.0).contains(&t)
    {
        return Err(errors::value(format!(
            "match_threshold={t}: expected a number in [0, 1]"
        )));
    }
    Ok(match name {
        "any" => MatchingRule::AnyOverlap,
        "iou" => MatchingRule::IouThreshold {
            threshold: threshold.unwrap_or(0.5),
            strict: false,
            many_to_one: false,
        },
        "iou_strict" => MatchingRule::monai(threshold.unwrap_or(0.5)),
        "bipartite_iou" => MatchingRule::Bipartite {
            metric: PairMetric::Iou,
            threshold: threshold.unwrap_or(0.5),
        },
        "bipartite_dice" => MatchingRule::Bipartite {
            metric: PairMetric::Dice,
            threshold: threshold.unwrap_or(1e-6),
        },
        _ => {
            return Err(errors::value(format!(
                "match={name:?}: expected 'any', 'iou', 'iou_strict', 'bipartite_iou' or 'bipartite_dice'"
            )));
        }
    })
}

/// How lesions are formed, matched, binned and found by FROC: the options shared by
/// [`evaluate_lesions`] and [`evaluate_lesion_files`], checked once when made.
#[pyclass(module = "dicekit._dicekit", name = "LesionOptions", frozen)]
pub struct Options(LesionEvalOptions);

#[pymethods]
impl Options {
    #[new]
    #[pyo3(signature = (
        *, labels=None, connectivity=None, r#match="any", match_threshold=None,
        size_bins=vec![10.0, 100.0, 1000.0], size_unit="mm3", instances=false, distances=false,
        froc_candidates="components", froc_threshold=0.1, froc_score="max", froc_box=5,
        froc_sigma=0.0, froc_convention="roc_interp", froc_rates=None,
        probability_channels="auto"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        labels: Option<Vec<i64>>,
        connectivity: Option<usize>,
        r#match: &str,
        match_threshold: Option<f64>,
        size_bins: Vec<f64>,
        size_unit: &str,
        instances: bool,
        distances: bool,
        froc_candidates: &str,
        froc_threshold: f64,
        froc_score: &str,
        froc_box: usize,
        froc_sigma: f64,
        froc_convention: &str,
        froc_rates: Option<Vec<f64>>,
        probability_channels: &str,
    ) -> PyResult<Self> {
        let labels = arrays::labels(labels)?;
        let connectivity = match connectivity {
            None => None,
            Some(n) => Some(Connectivity::from_neighbours(n).ok_or_else(|| {
                errors::value(format!(
                    "connectivity={n}: expected 4 or 8 (2D), 6, 18 or 26 (3D)"
                ))
            })?),
        };
        let bad = |what: &str, v: &str, expected: &str| {
            Err(errors::value(format!("{what}={v:?}: expected {expected}")))
        };
        let candidates = match froc_candidates {
            "components" => Candidates::Components {
                threshold: froc_threshold,
                score: match froc_score {
                    "max" => ComponentScore::Max,
                    "mean" => ComponentScore::Mean,
                    s => return bad("froc_score", s, "'max' or 'mean'"),
                },
            },
            "maxima" => Candidates::Maxima {
                nms: ProbNms::new(froc_threshold, froc_box),
                sigma: froc_sigma,
            },
            s => return bad("froc_candidates", s, "'components' or 'maxima'"),
        };
        let convention = match froc_convention {
            "roc_interp" => FrocConvention::RocInterp,
            "roc_step" => FrocConvention::RocStep,
            "monai" => FrocConvention::Monai,
            s => return bad("froc_convention", s, "'roc_interp', 'roc_step' or 'monai'"),
        };
        let channels = match probability_channels {
            "auto" => ProbabilityChannels::Auto,
            "class" => ProbabilityChannels::Class,
            "foreground" => ProbabilityChannels::Foreground,
            s => return bad("probability_channels", s, "'auto', 'class' or 'foreground'"),
        };
        let froc = FrocOptions {
            candidates,
            convention,
            fp_rates: froc_rates.unwrap_or_else(|| ROC_FP_RATES.to_vec()),
            channels,
        };
        froc.validate().map_err(errors::eval)?;
        let size_unit = match size_unit {
            "mm3" => SizeUnit::Mm3,
            "voxels" => SizeUnit::Voxels,
            s => return bad("size_unit", s, "'mm3' or 'voxels'"),
        };
        Ok(Options(LesionEvalOptions {
            eval: EvalOptions {
                labels,
                ..EvalOptions::default()
            },
            connectivity,
            rule: rule(r#match, match_threshold)?,
            instances,
            size_bins,
            size_unit,
            distances,
            probabilities: None,
            froc,
        }))
    }

    fn __repr__(&self) -> String {
        format!("LesionOptions({:?})", self.0)
    }
}

/// `{"rows": [...], "lesions": [...], "froc": {label: {...}}}` of an evaluated set; `case`:
/// keep the `case` key of the rows (a set of files), else drop it (one pair in memory).
fn result_dict<'py>(
    py: Python<'py>,
    result: &LesionEvaluationSet,
    case: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    let one = result.results.first().map(|r| r.name.clone());
    let rows: Vec<serde_json::Value> = result
        .json_rows()
        .into_iter()
        .filter(|r| {
            case || one.as_deref().is_some_and(|n| r["case"] == n)
                || r["metric"].as_str().is_some_and(|m| m.starts_with("froc"))
        })
        .map(|mut r| {
            if !case {
                r.as_object_mut().map(|o| o.remove("case"));
            }
            r
        })
        .collect();
    out.set_item("rows", convert::rows(py, &rows)?)?;
    let lesions = PyList::empty(py);
    for r in &result.results {
        for l in &r.labels {
            for row in &l.list {
                let d = PyDict::new(py);
                if case {
                    d.set_item("case", &r.name)?;
                }
                d.set_item("label", l.label)?;
                d.set_item("side", row.side)?;
                d.set_item("id", row.id)?;
                d.set_item("voxels", row.voxels)?;
                d.set_item("volume_mm3", row.volume_mm3)?;
                d.set_item("bbox_min", row.bbox.0.clone())?;
                d.set_item("bbox_max", row.bbox.1.clone())?;
                d.set_item("status", row.status)?;
                d.set_item("matched", row.matched.clone())?;
                d.set_item("dice", row.dice)?;
                d.set_item("iou", row.iou)?;
                d.set_item("best_score", row.best_score)?;
                lesions.append(d)?;
            }
        }
    }
    out.set_item("lesions", lesions)?;
    let froc = PyDict::new(py);
    for lf in &result.froc {
        let d = PyDict::new(py);
        d.set_item("score", lf.all.score)?;
        d.set_item("fp_rates", lf.all.fp_rates.clone())?;
        d.set_item("sensitivity_at_rates", lf.all.sensitivity_at_rates.clone())?;
        d.set_item("thresholds", lf.all.curve.thresholds.clone())?;
        d.set_item("fps_per_image", lf.all.curve.fps_per_image.clone())?;
        d.set_item("sensitivity", lf.all.curve.sensitivity.clone())?;
        d.set_item("lesions", lf.all.curve.n_lesions)?;
        d.set_item("images", lf.all.curve.n_images)?;
        froc.set_item(lf.label, d)?;
    }
    out.set_item("froc", froc)?;
    Ok(out)
}

/// Lesion-wise evaluation of two label maps (and FROC from a probability map).
#[pyfunction]
#[pyo3(signature = (pred, truth, *, spacing=None, probabilities=None, options=None))]
pub fn evaluate_lesions<'py>(
    py: Python<'py>,
    pred: &Bound<'py, PyAny>,
    truth: &Bound<'py, PyAny>,
    spacing: Option<Vec<f64>>,
    probabilities: Option<PyReadonlyArrayDyn<'py, f32>>,
    options: Option<&Bound<'py, Options>>,
) -> PyResult<Bound<'py, PyDict>> {
    let default = LesionEvalOptions::default();
    let options = options.map_or(&default, |o| &o.get().0);
    let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
    let pair = Pair::new(&p, &t)?;
    let ndim = p.shape().len();
    let spacing = arrays::spacing(spacing, ndim)?;
    // A probability map of the maps' shape is one channel.
    let probs = probabilities.as_ref().map(|a| {
        let v = a.as_array();
        if v.ndim() == ndim {
            v.insert_axis(Axis(0))
        } else {
            v
        }
    });
    let result = py
        .detach(|| {
            let labels = pair.apply(Lesions {
                spacing: &spacing,
                probs: probs.clone(),
                options,
            })?;
            LesionEvaluationSet::from_cases(
                vec![LesionCaseResult {
                    name: "case".into(),
                    labels,
                }],
                options,
            )
        })
        .map_err(errors::eval)?;
    result_dict(py, &result, false)
}

/// Lesion-wise evaluation of two label-map files or folders (cases paired by name), with FROC
/// pooled over the cases from `probabilities` (a file, or a folder of maps named by case): what
/// `dicekit eval --lesions` computes.
#[pyfunction]
#[pyo3(signature = (
    pred, truth, *, probabilities=None, spacing=None, spacing_from=None, options=None,
    errors="raise"
))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate_lesion_files<'py>(
    py: Python<'py>,
    pred: PathBuf,
    truth: PathBuf,
    probabilities: Option<PathBuf>,
    spacing: Option<Vec<f64>>,
    spacing_from: Option<&str>,
    options: Option<&Bound<'py, Options>>,
    errors: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let on_failure = errors::OnFailure::parse(errors)?;
    let mut options = options.map_or_else(LesionEvalOptions::default, |o| o.get().0.clone());
    options.eval.spacing = spacing;
    options.eval.spacing_from = convert::spacing_source(spacing_from)?;
    options.probabilities = probabilities;
    let set = py
        .detach(|| evaluate_lesion_files_rs(&pred, &truth, &options, |_, _| {}))
        .map_err(errors::eval)?;
    on_failure.report(py, &set.failures)?;
    result_dict(py, &set, true)
}
