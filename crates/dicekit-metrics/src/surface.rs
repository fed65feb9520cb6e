//! Surface distances between two binary masks, under the boundary conventions of the peers,
//! and every distance metric derived from them (HD, HD95, ASSD, NSD).
use ndarray::ArrayViewD;

use serde::{Deserialize, Serialize};

use crate::error::{check_shapes, check_spacing};
use crate::nearest::directed;
use crate::surface_points::{Padded, surfel_points, surfel_weights, voxel_points};
use crate::{EmptySide, MetricError, Score};

/// What counts as the surface of a mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// Foreground voxels with a background face neighbour (4 in 2D, 6 in 3D); outside the image
    /// is background. Distances between voxel centres, each voxel weight 1 (MONAI, MedPy,
    /// MetricsReloaded, torchmetrics).
    Faces,
    /// Foreground voxels with a background neighbour among all 8 (2D) / 26 (3D); voxels are not
    /// boundary because of the image border (SimpleITK `LabelContour(fullyConnected=True)`,
    /// seg-metrics).
    FullyConnected,
    /// Points on the voxel-corner grid where the 2x2(x2) neighbourhood is mixed, each weighted by
    /// its contour length (2D) or marching-cubes surface area (3D) in mm (DeepMind
    /// surface-distance; MONAI `use_subvoxels=True`).
    Surfels,
}

/// Direction of a directed distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From each prediction surface element to the reference surface.
    PredToTruth,
    /// From each reference surface element to the prediction surface.
    TruthToPred,
}

/// How a percentile Hausdorff distance (HD95) is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Percentile {
    /// Per direction with linear interpolation between order statistics, then the larger of the
    /// two (MONAI, MetricsReloaded).
    DirectedLinear,
    /// Both directions' distances pooled, linear interpolation (MedPy, seg-metrics).
    PooledLinear,
    /// Per direction, the first distance whose cumulative surface weight reaches the fraction,
    /// without interpolation, then the larger (DeepMind).
    DirectedWeightedRank,
}

/// How the average symmetric surface distance combines the two directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurfaceMean {
    /// `(sum w d(P->G) + sum w d(G->P)) / (sum w_P + sum w_G)` (MONAI, MedPy 0.5, MetricsReloaded `assd`).
    Pooled,
    /// `(mean d(P->G) + mean d(G->P)) / 2` (MetricsReloaded `masd`, MedPy <= 0.4, DeepMind's pair).
    MeanOfMeans,
}

/// Distances from every surface element of each mask to the other mask's surface, sorted, with
/// the elements' weights (1 per voxel, or surfel length/area in mm / mm^2).
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceDistances {
    /// `(distance mm, weight)` from prediction elements, ascending.
    pub pred_to_truth: Vec<(f64, f64)>,
    /// `(distance mm, weight)` from reference elements, ascending.
    pub truth_to_pred: Vec<(f64, f64)>,
    empty: Option<EmptySide>,
}

/// Foreground counts and the union bounding box of one label (or mask) in a pair.
#[derive(Debug, Clone)]
pub(crate) struct PairExtent {
    pub pred_voxels: u64,
    pub truth_voxels: u64,
    pub bbox: Vec<(usize, usize)>,
}

impl PairExtent {
    /// Adds `pred` and `truth` voxels found in row `row` (an index over every axis but the
    /// last) between columns `first..=last`.
    fn add_row(
        &mut self,
        shape: &[usize],
        row: usize,
        (first, last): (usize, usize),
        pred: u64,
        truth: u64,
    ) {
        let nd = shape.len();
        self.pred_voxels += pred;
        self.truth_voxels += truth;
        let mut rest = row;
        for a in (0..nd - 1).rev() {
            let i = rest % shape[a];
            rest /= shape[a];
            self.bbox[a].0 = self.bbox[a].0.min(i);
            self.bbox[a].1 = self.bbox[a].1.max(i);
        }
        self.bbox[nd - 1].0 = self.bbox[nd - 1].0.min(first);
        self.bbox[nd - 1].1 = self.bbox[nd - 1].1.max(last);
    }
}

/// Counts and bounding boxes of `labels` in one pass over both maps, rows in parallel: one
/// comparison per label and voxel (the fastest for a few labels).
pub(crate) fn label_extents<T: Copy + PartialEq + Sync>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    labels: &[T],
) -> Vec<PairExtent> {
    scan_rows(pred, truth, labels.len(), |out, shape, row, pr, tr| {
        for (li, l) in labels.iter().enumerate() {
            let (mut first, mut last, mut np, mut nt) = (usize::MAX, 0usize, 0u64, 0u64);
            for (k, (a, b)) in pr.iter().zip(tr).enumerate() {
                let (ia, ib) = (a == l, b == l);
                if ia || ib {
                    first = first.min(k);
                    last = k;
                    np += ia as u64;
                    nt += ib as u64;
                }
            }
            if first != usize::MAX {
                out[li].add_row(shape, row, (first, last), np, nt);
            }
        }
    })
}

/// [`label_extents`] for many labels: `bin` gives a value's position among the `labels` (`None`
/// for any other value), so each voxel costs one lookup whatever the number of labels (the
/// per-label scan costs one comparison per label and voxel: hours for thousands of instances).
pub(crate) fn label_extents_binned<T: Copy + Sync>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    labels: usize,
    bin: impl Fn(T) -> Option<usize> + Sync,
) -> Vec<PairExtent> {
    scan_rows(pred, truth, labels, |out, shape, row, pr, tr| {
        for (k, (&a, &b)) in pr.iter().zip(tr).enumerate() {
            let (ba, bb) = (bin(a), bin(b));
            match (ba, bb) {
                (Some(x), Some(y)) if x == y => out[x].add_row(shape, row, (k, k), 1, 1),
                _ => {
                    if let Some(x) = ba {
                        out[x].add_row(shape, row, (k, k), 1, 0);
                    }
                    if let Some(y) = bb {
                        out[y].add_row(shape, row, (k, k), 0, 1);
                    }
                }
            }
        }
    })
}

/// The shared driver of the extent scans: both maps in row-major order (copied only when not
/// contiguous), rows split over tasks (fewer when there are many labels, since each task holds
/// one extent per label), `per_row(extents, shape, row, pred_row, truth_row)`, merged.
fn scan_rows<T: Copy + Sync>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    labels: usize,
    per_row: impl Fn(&mut [PairExtent], &[usize], usize, &[T], &[T]) + Sync,
) -> Vec<PairExtent> {
    use rayon::prelude::*;
    use std::borrow::Cow;
    let contiguous = |a: &ArrayViewD<T>| -> Vec<T> {
        match a.as_slice() {
            Some(s) => s.to_vec(),
            None => a.iter().copied().collect(),
        }
    };
    let shape = pred.shape().to_vec();
    let nd = shape.len();
    let (p, t): (Cow<[T]>, Cow<[T]>) = match (pred.as_slice(), truth.as_slice()) {
        (Some(p), Some(t)) => (Cow::Borrowed(p), Cow::Borrowed(t)),
        _ => (Cow::Owned(contiguous(pred)), Cow::Owned(contiguous(truth))),
    };
    let empty = || -> Vec<PairExtent> {
        (0..labels)
            .map(|_| PairExtent {
                pred_voxels: 0,
                truth_voxels: 0,
                bbox: vec![(usize::MAX, 0); nd],
            })
            .collect()
    };
    let inner = (*shape.last().unwrap_or(&1)).max(1);
    let rows = p.len() / inner;
    let tasks = ((1usize << 20) / labels.max(1)).clamp(1, 64);
    let rows_per_task = rows.div_ceil(tasks).max(1);
    let merge = |mut a: Vec<PairExtent>, b: Vec<PairExtent>| {
        for (x, y) in a.iter_mut().zip(b) {
            x.pred_voxels += y.pred_voxels;
            x.truth_voxels += y.truth_voxels;
            for (bx, by) in x.bbox.iter_mut().zip(y.bbox) {
                bx.0 = bx.0.min(by.0);
                bx.1 = bx.1.max(by.1);
            }
        }
        a
    };
    p.par_chunks(inner * rows_per_task)
        .zip(t.par_chunks(inner * rows_per_task))
        .enumerate()
        .map(|(task, (pc, tc))| {
            let mut out = empty();
            for (r, (pr, tr)) in pc.chunks(inner).zip(tc.chunks(inner)).enumerate() {
                per_row(&mut out, &shape, task * rows_per_task + r, pr, tr);
            }
            out
        })
        .reduce(empty, merge)
}

impl SurfaceDistances {
    /// Computes both directed distance lists once.
    ///
    /// `spacing` is in mm, one value per axis of the masks (2D or 3D).
    ///
    /// # Errors
    /// On different shapes, a bad spacing, or masks that are not 2D or 3D.
    pub fn new(
        pred: &ArrayViewD<bool>,
        truth: &ArrayViewD<bool>,
        spacing: &[f64],
        boundary: Boundary,
    ) -> Result<Self, MetricError> {
        Self::check(pred.shape(), truth.shape(), spacing)?;
        let extent = label_extents(pred, truth, &[true]).remove(0);
        Ok(Self::compute(pred, truth, true, extent, spacing, boundary))
    }

    /// The surface distances of one label of two label maps, without building full-size masks.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_label_maps(
        pred: &ArrayViewD<u32>,
        truth: &ArrayViewD<u32>,
        label: u32,
        spacing: &[f64],
        boundary: Boundary,
    ) -> Result<Self, MetricError> {
        Self::check(pred.shape(), truth.shape(), spacing)?;
        let extent = label_extents(pred, truth, &[label]).remove(0);
        Ok(Self::compute(pred, truth, label, extent, spacing, boundary))
    }

    /// The surface distances of each label of `labels`: one pass over both maps finds every
    /// label's voxels and box, then each label is cropped to its box (labels in parallel).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn per_label(
        pred: &ArrayViewD<u32>,
        truth: &ArrayViewD<u32>,
        labels: &[u32],
        spacing: &[f64],
        boundary: Boundary,
    ) -> Result<Vec<Self>, MetricError> {
        use rayon::prelude::*;
        Self::check(pred.shape(), truth.shape(), spacing)?;
        let extents = if labels.len() <= 8 {
            label_extents(pred, truth, labels)
        } else {
            let bins = crate::counts::LabelBins::new(labels);
            let mut extents = label_extents_binned(pred, truth, labels.len(), |v: u32| {
                Some(bins.of(v)).filter(|&b| b < labels.len())
            });
            // A label asked twice was counted at its first position.
            for (i, &l) in labels.iter().enumerate() {
                let first = bins.of(l);
                if first != i {
                    extents[i] = extents[first].clone();
                }
            }
            extents
        };
        Ok(labels
            .par_iter()
            .zip(extents)
            .map(|(&l, e)| Self::compute(pred, truth, l, e, spacing, boundary))
            .collect())
    }

    pub(crate) fn check(
        pred: &[usize],
        truth: &[usize],
        spacing: &[f64],
    ) -> Result<(), MetricError> {
        check_shapes(pred, truth)?;
        if !(2..=3).contains(&pred.len()) {
            return Err(MetricError::UnsupportedRank(pred.len()));
        }
        check_spacing(spacing, pred.len())
    }

    /// Distances of `label` given its extent (shapes and spacing already checked).
    pub(crate) fn compute<T: Copy + PartialEq + Sync>(
        pred: &ArrayViewD<T>,
        truth: &ArrayViewD<T>,
        label: T,
        extent: PairExtent,
        spacing: &[f64],
        boundary: Boundary,
    ) -> Self {
        let empty = |side| SurfaceDistances {
            pred_to_truth: vec![],
            truth_to_pred: vec![],
            empty: Some(side),
        };
        if let Some(side) = EmptySide::of(extent.pred_voxels, extent.truth_voxels) {
            return empty(side);
        }
        let nd = pred.ndim();
        let mut spacing3 = [1.0; 3];
        spacing3[3 - nd..].copy_from_slice(spacing);
        let outside_fg = boundary == Boundary::FullyConnected;
        // The two masks are independent: build them on both cores.
        let (mp, mt) = rayon::join(
            || Padded::new(pred, |v| v == label, &extent.bbox, outside_fg),
            || Padded::new(truth, |v| v == label, &extent.bbox, outside_fg),
        );
        let (pp, pt, dims) = match boundary {
            Boundary::Surfels => {
                let table = surfel_weights(spacing3, nd == 2);
                let real = mp.real;
                let dims = [0, 1, 2].map(|a| mp.dims[a] - real[a] as usize);
                let (pp, pt) =
                    rayon::join(|| surfel_points(&mp, &table), || surfel_points(&mt, &table));
                (pp, pt, dims)
            }
            b => {
                let dims = [0, 1, 2].map(|a| mp.dims[a] - 2 * mp.real[a] as usize);
                let (pp, pt) = rayon::join(|| voxel_points(&mp, b), || voxel_points(&mt, b));
                (pp, pt, dims)
            }
        };
        drop((mp, mt));
        if let Some(side) = EmptySide::of(pp.coords.len() as u64, pt.coords.len() as u64) {
            return empty(side);
        }
        SurfaceDistances {
            pred_to_truth: directed(&pp, &pt, dims, spacing3),
            truth_to_pred: directed(&pt, &pp, dims, spacing3),
            empty: None,
        }
    }

    /// Which side had no surface, if any.
    pub fn empty_side(&self) -> Option<EmptySide> {
        self.empty
    }

    fn list(&self, dir: Direction) -> &[(f64, f64)] {
        match dir {
            Direction::PredToTruth => &self.pred_to_truth,
            Direction::TruthToPred => &self.truth_to_pred,
        }
    }

    fn defined(&self) -> Result<(), Score> {
        match self.empty {
            Some(side) => Err(Score::Empty(side)),
            None => Ok(()),
        }
    }

    /// Symmetric Hausdorff distance: the larger directed maximum.
    #[doc(alias = "hd")]
    pub fn hausdorff(&self) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        let last = |v: &[(f64, f64)]| v.last().map_or(0.0, |x| x.0);
        Score::Value(last(&self.pred_to_truth).max(last(&self.truth_to_pred)))
    }

    /// Directed Hausdorff distance (the largest distance in one direction).
    pub fn directed_hausdorff(&self, dir: Direction) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        Score::Value(self.list(dir).last().map_or(0.0, |x| x.0))
    }

    /// Percentile Hausdorff distance; `q` in [0, 100] (95 for HD95).
    #[doc(alias = "hd95")]
    pub fn hausdorff_percentile(&self, q: f64, rule: Percentile) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        let q = q.clamp(0.0, 100.0) / 100.0;
        let (a, b) = (&self.pred_to_truth, &self.truth_to_pred);
        Score::Value(match rule {
            Percentile::DirectedLinear => linear(a.iter().map(|x| x.0), a.len(), q).max(linear(
                b.iter().map(|x| x.0),
                b.len(),
                q,
            )),
            Percentile::PooledLinear => {
                let mut all: Vec<f64> = a.iter().chain(b.iter()).map(|x| x.0).collect();
                all.sort_by(f64::total_cmp);
                linear(all.iter().copied(), all.len(), q)
            }
            Percentile::DirectedWeightedRank => weighted_rank(a, q).max(weighted_rank(b, q)),
        })
    }

    /// Average symmetric surface distance.
    #[doc(alias = "assd")]
    pub fn average_surface_distance(&self, rule: SurfaceMean) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        let sums = |v: &[(f64, f64)]| {
            v.iter()
                .fold((0.0, 0.0), |(s, w), x| (s + x.0 * x.1, w + x.1))
        };
        let (sp, wp) = sums(&self.pred_to_truth);
        let (st, wt) = sums(&self.truth_to_pred);
        Score::Value(match rule {
            SurfaceMean::Pooled => (sp + st) / (wp + wt),
            SurfaceMean::MeanOfMeans => 0.5 * (sp / wp + st / wt),
        })
    }

    /// Mean distance in one direction (weighted by the elements' weights).
    pub fn directed_average(&self, dir: Direction) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        let (s, w) = self
            .list(dir)
            .iter()
            .fold((0.0, 0.0), |(s, w), x| (s + x.0 * x.1, w + x.1));
        Score::Value(s / w)
    }

    /// Normalized surface Dice at `tolerance_mm`: the weight of both surfaces within the
    /// tolerance of the other, over the total weight (Nikolov et al. 2021).
    #[doc(alias = "nsd")]
    #[doc(alias = "surface_dice")]
    pub fn normalized_surface_dice(&self, tolerance_mm: f64) -> Score {
        if let Err(e) = self.defined() {
            return e;
        }
        let within = |v: &[(f64, f64)]| {
            v.iter().fold((0.0, 0.0), |(i, w), x| {
                (i + if x.0 <= tolerance_mm { x.1 } else { 0.0 }, w + x.1)
            })
        };
        let (ip, wp) = within(&self.pred_to_truth);
        let (it, wt) = within(&self.truth_to_pred);
        Score::Value((ip + it) / (wp + wt))
    }
}

/// Linear-interpolation quantile of an ascending sequence (numpy's default, `torch.quantile`).
fn linear(sorted: impl Iterator<Item = f64> + Clone, n: usize, q: f64) -> f64 {
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let mut it = sorted.skip(lo);
    let a = it.next().unwrap_or(0.0);
    let b = if hi > lo { it.next().unwrap_or(a) } else { a };
    a + (b - a) * (pos - lo as f64)
}

/// First distance whose cumulative weight fraction is >= q (numpy `searchsorted`, left side).
fn weighted_rank(v: &[(f64, f64)], q: f64) -> f64 {
    let total: f64 = v.iter().map(|x| x.1).sum();
    let mut cum = 0.0;
    for x in v {
        cum += x.1;
        if cum / total >= q {
            return x.0;
        }
    }
    v.last().map_or(0.0, |x| x.0)
}
