//! `evaluate_lesions`: lesion-wise detection, panoptic quality, sizes and FROC of two label maps
//! in memory (what `dicekit eval --lesions` computes per case).
use dicekit_eval::{
    Candidates, EvalError, EvalOptions, FrocOptions, LabelLesions, LesionCaseResult,
    LesionEvalOptions, LesionEvaluationSet, ProbabilityChannels, SizeUnit, lesions_of_maps,
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

/// Lesion-wise evaluation of two label maps (and FROC from a probability map).
#[pyfunction]
#[pyo3(signature = (
    pred, truth, *, spacing=None, labels=None, connectivity=None, r#match="any",
    match_threshold=None, size_bins=vec![10.0, 100.0, 1000.0], size_unit="mm3", instances=false,
    distances=false, probabilities=None, froc_candidates="components", froc_threshold=0.1,
    froc_score="max", froc_box=5, froc_sigma=0.0, froc_convention="roc_interp", froc_rates=None,
    probability_channels="auto"
))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate_lesions<'py>(
    py: Python<'py>,
    pred: &Bound<'py, PyAny>,
    truth: &Bound<'py, PyAny>,
    spacing: Option<Vec<f64>>,
    labels: Option<Vec<i64>>,
    connectivity: Option<usize>,
    r#match: &str,
    match_threshold: Option<f64>,
    size_bins: Vec<f64>,
    size_unit: &str,
    instances: bool,
    distances: bool,
    probabilities: Option<PyReadonlyArrayDyn<'py, f32>>,
    froc_candidates: &str,
    froc_threshold: f64,
    froc_score: &str,
    froc_box: usize,
    froc_sigma: f64,
    froc_convention: &str,
    froc_rates: Option<Vec<f64>>,
    probability_channels: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let labels = arrays::labels(labels)?;
    let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
    let pair = Pair::new(&p, &t)?;
    let ndim = p.shape().len();
    let spacing = arrays::spacing(spacing, ndim)?;
    let connectivity = match connectivity {
        None => None,
        Some(n) => Some(Connectivity::from_neighbours(n).ok_or_else(|| {
            errors::value(format!(
                "connectivity={n}: expected 4 or 8 (2D), 6, 18 or 26 (3D)"
            ))
        })?),
    };
    let froc = FrocOptions {
        candidates: match froc_candidates {
            "components" => Candidates::Components {
                threshold: froc_threshold,
                score: match froc_score {
                    "max" => ComponentScore::Max,
                    "mean" => ComponentScore::Mean,
                    s => {
                        return Err(errors::value(format!(
                            "froc_score={s:?}: expected 'max' or 'mean'"
                        )));
                    }
                },
            },
            "maxima" => Candidates::Maxima {
                nms: ProbNms::new(froc_threshold, froc_box),
                sigma: froc_sigma,
            },
            s => {
                return Err(errors::value(format!(
                    "froc_candidates={s:?}: expected 'components' or 'maxima'"
                )));
            }
        },
        convention: match froc_convention {
            "roc_interp" => FrocConvention::RocInterp,
            "roc_step" => FrocConvention::RocStep,
            "monai" => FrocConvention::Monai,
            s => {
                return Err(errors::value(format!(
                    "froc_convention={s:?}: expected 'roc_interp', 'roc_step' or 'monai'"
                )));
            }
        },
        fp_rates: froc_rates.unwrap_or_else(|| ROC_FP_RATES.to_vec()),
        channels: match probability_channels {
            "auto" => ProbabilityChannels::Auto,
            "class" => ProbabilityChannels::Class,
            "foreground" => ProbabilityChannels::Foreground,
            s => {
                return Err(errors::value(format!(
                    "probability_channels={s:?}: expected 'auto', 'class' or 'foreground'"
                )));
            }
        },
    };
    froc.validate().map_err(errors::eval)?;
    let options = LesionEvalOptions {
        eval: EvalOptions {
            labels,
            ..EvalOptions::default()
        },
        connectivity,
        rule: rule(r#match, match_threshold)?,
        instances,
        size_bins,
        size_unit: match size_unit {
            "mm3" => SizeUnit::Mm3,
            "voxels" => SizeUnit::Voxels,
            s => {
                return Err(errors::value(format!(
                    "size_unit={s:?}: expected 'mm3' or 'voxels'"
                )));
            }
        },
        distances,
        probabilities: None,
        froc,
    };
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
                options: &options,
            })?;
            LesionEvaluationSet::from_cases(
                vec![LesionCaseResult {
                    name: "case".into(),
                    labels,
                }],
                &options,
            )
        })
        .map_err(errors::eval)?;
    let out = PyDict::new(py);
    let rows: Vec<serde_json::Value> = result
        .json_rows()
        .into_iter()
        .filter(|r| {
            r["case"] == "case" || r["metric"].as_str().is_some_and(|m| m.starts_with("froc"))
        })
        .map(|mut r| {
            r.as_object_mut().map(|o| o.remove("case"));
            r
        })
        .collect();
    out.set_item("rows", convert::rows(py, &rows)?)?;
    let lesions = PyList::empty(py);
    for l in result.results.iter().flat_map(|r| &r.labels) {
        for row in &l.list {
            let d = PyDict::new(py);
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
        froc.set_item(lf.label, d)?;
    }
    out.set_item("froc", froc)?;
    Ok(out)
}
