//! `SurfaceDistances`: the distances between two surfaces computed once, then HD, HD95, ASSD
//! and NSD under a convention.
use dicekit_metrics::{
    Convention, Direction, Label, MetricError, MetricKind, Percentile,
    SurfaceDistances as Distances, SurfaceMean,
};
use ndarray::ArrayViewD;
use pyo3::prelude::*;

use crate::arrays::{self, Pair, PairFn};
use crate::convert::{self, Empty};

struct OneLabel<'s> {
    label: u32,
    spacing: &'s [f64],
    convention: Convention,
}

impl PairFn for OneLabel<'_> {
    type Out = Result<Distances, MetricError>;
    fn run<T: Label>(self, p: &ArrayViewD<T>, t: &ArrayViewD<T>) -> Self::Out {
        Distances::from_label_maps(p, t, self.label, self.spacing, self.convention.boundary())
    }
}

/// The surface distances of one label between a prediction and a reference, measured once on
/// the convention's boundary; every metric reads them.
#[pyclass(module = "dicekit._dicekit", name = "SurfaceDistances", frozen)]
pub struct Surface {
    distances: Distances,
    convention: Convention,
    empty: Empty,
}

impl Surface {
    fn resolve(&self, score: dicekit_metrics::Score, metric: MetricKind) -> PyResult<f64> {
        self.empty.resolve(score, metric, self.convention)
    }
}

#[pymethods]
impl Surface {
    #[new]
    #[pyo3(signature = (pred, truth, *, label=1, spacing=None, convention="monai", empty="peer"))]
    fn new(
        py: Python<'_>,
        pred: &Bound<'_, PyAny>,
        truth: &Bound<'_, PyAny>,
        label: i64,
        spacing: Option<Vec<f64>>,
        convention: &str,
        empty: &str,
    ) -> PyResult<Self> {
        let convention = convert::convention(convention)?;
        let empty = Empty::parse(empty)?;
        let label = arrays::label(label)?;
        let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
        let pair = Pair::new(&p, &t)?;
        let spacing = arrays::spacing(spacing, p.shape().len())?;
        let distances = py
            .detach(|| {
                pair.apply(OneLabel {
                    label,
                    spacing: &spacing,
                    convention,
                })
            })
            .map_err(crate::errors::metric)?;
        Ok(Surface {
            distances,
            convention,
            empty,
        })
    }

    /// `"prediction"`, `"reference"` or `"both"` when a side has no voxel of the label, else
    /// `None`.
    #[getter]
    fn empty_side(&self) -> Option<&'static str> {
        self.distances.empty_side().map(|s| match s {
            dicekit_metrics::EmptySide::Prediction => "prediction",
            dicekit_metrics::EmptySide::Reference => "reference",
            dicekit_metrics::EmptySide::Both => "both",
        })
    }

    /// The convention's name.
    #[getter]
    fn convention(&self) -> &'static str {
        self.convention.name()
    }

    /// Hausdorff distance: the larger of the two directed maxima (mm).
    fn hd(&self) -> PyResult<f64> {
        self.resolve(self.distances.hausdorff(), MetricKind::Hausdorff)
    }

    /// 95th-percentile Hausdorff distance as the convention computes it (mm).
    fn hd95(&self) -> PyResult<f64> {
        let s = self
            .distances
            .hausdorff_percentile(95.0, self.convention.percentile());
        self.resolve(s, MetricKind::Hausdorff95)
    }

    /// The `q`-th percentile Hausdorff distance, `q` in [0, 100], as the convention computes it.
    fn hd_percentile(&self, q: f64) -> PyResult<f64> {
        if !(0.0..=100.0).contains(&q) {
            return Err(crate::errors::value(format!(
                "q must be in [0, 100], got {q}"
            )));
        }
        let rule: Percentile = self.convention.percentile();
        self.resolve(
            self.distances.hausdorff_percentile(q, rule),
            MetricKind::Hausdorff95,
        )
    }

    /// Average symmetric surface distance as the convention averages it (mm).
    fn assd(&self) -> PyResult<f64> {
        let s = self
            .distances
            .average_surface_distance(self.convention.assd());
        self.resolve(s, MetricKind::Assd)
    }

    /// Mean of the two directed mean distances, `(mean(P->G) + mean(G->P)) / 2` (mm): MedPy 0.4
    /// and MetricsReloaded `masd`, whatever the convention's own ASSD.
    fn masd(&self) -> PyResult<f64> {
        let s = self
            .distances
            .average_surface_distance(SurfaceMean::MeanOfMeans);
        self.resolve(s, MetricKind::Masd)
    }

    /// Directed Hausdorff distance from the prediction's surface to the reference's (mm).
    fn hd_pred_to_gt(&self) -> PyResult<f64> {
        let s = self.distances.directed_hausdorff(Direction::PredToTruth);
        self.resolve(s, MetricKind::DirectedHausdorff)
    }

    /// Directed mean distance from the prediction's surface to the reference's (mm).
    fn asd_pred_to_gt(&self) -> PyResult<f64> {
        let s = self.distances.directed_average(Direction::PredToTruth);
        self.resolve(s, MetricKind::DirectedAsd)
    }

    /// Normalized surface Dice at `tolerance` mm.
    #[pyo3(signature = (tolerance=1.0))]
    fn nsd(&self, tolerance: f64) -> PyResult<f64> {
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(crate::errors::value(format!(
                "tolerance must be a finite number >= 0, got {tolerance}"
            )));
        }
        self.resolve(
            self.distances.normalized_surface_dice(tolerance),
            MetricKind::Nsd,
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "SurfaceDistances(convention={:?}, empty_side={:?})",
            self.convention.name(),
            self.empty_side()
        )
    }
}
