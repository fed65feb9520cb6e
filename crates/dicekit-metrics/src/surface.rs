//! Surface distances between two binary masks, under the boundary conventions of the peers,
//! and every distance metric derived from them (HD, HD95, ASSD, NSD).
use ndarray::{ArrayViewD, IxDyn};

use serde::{Deserialize, Serialize};

use crate::boundary::{Grid3, boundary_points};
use crate::error::{check_shapes, check_spacing};
use crate::label::Label;
use crate::nearest::directed;
use crate::scan::{Memory, PairExtent, pair_extents};
use crate::surface_points::{Padded, PointSet, surfel_points, surfel_weights};
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
        Ok(Self::per_label(pred, truth, &[1], spacing, boundary)?.remove(0))
    }

    /// The surface distances of one label of two label maps (`u8`, `u16` or `u32`), without
    /// building full-size masks.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn from_label_maps<T: Label>(
        pred: &ArrayViewD<T>,
        truth: &ArrayViewD<T>,
        label: u32,
        spacing: &[f64],
        boundary: Boundary,
    ) -> Result<Self, MetricError> {
        Ok(Self::per_label(pred, truth, &[label], spacing, boundary)?.remove(0))
    }

    /// The surface distances of each label of `labels`: one pass over both maps finds every
    /// label's voxels and box, one pass over each map its boundary voxels (every label at
    /// once), then the labels' distances in parallel.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn per_label<T: Label>(
        pred: &ArrayViewD<T>,
        truth: &ArrayViewD<T>,
        labels: &[u32],
        spacing: &[f64],
        boundary: Boundary,
    ) -> Result<Vec<Self>, MetricError> {
        Self::check(pred.shape(), truth.shape(), spacing)?;
        let mem = Memory::of(pred, truth);
        let extents = pair_extents(&mem.pred, &mem.truth, &mem.shape, labels);
        Ok(Self::from_extents(
            &mem, labels, &extents, spacing, boundary,
        ))
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

    /// The distances of each of `labels` given their extents (along the memory axes), from the
    /// maps as they lie in memory (shapes and spacing already checked). Points and distances
    /// are along the maps' axes whatever the memory order; only the order in which points are
    /// found follows the memory, and equal unit-weight distances are indistinguishable.
    pub(crate) fn from_extents<T: Label>(
        mem: &Memory<'_, T>,
        labels: &[u32],
        extents: &[PairExtent],
        spacing: &[f64],
        boundary: Boundary,
    ) -> Vec<Self> {
        use rayon::prelude::*;
        let nd = mem.shape.len();
        let mut spacing3 = [1.0; 3];
        spacing3[3 - nd..].copy_from_slice(spacing);
        let empty = |side| SurfaceDistances {
            pred_to_truth: vec![],
            truth_to_pred: vec![],
            empty: Some(side),
        };
        let grid = Grid3::of(&mem.shape);
        // The crop of a label's union box: its first index and size, per axis of the grid.
        let crop = |e: &PairExtent| -> ([u32; 3], [usize; 3]) {
            let bbox = mem.map_box(e);
            let mut lo = [0u32; 3];
            let mut dims = [1usize; 3];
            for a in 0..nd {
                lo[3 - nd + a] = bbox[a].0 as u32;
                dims[3 - nd + a] = bbox[a].1 - bbox[a].0 + 1;
            }
            (lo, dims)
        };
        let distances = |pp: PointSet, pt: PointSet, dims: [usize; 3]| {
            if let Some(side) = EmptySide::of(pp.coords.len() as u64, pt.coords.len() as u64) {
                return empty(side);
            }
            let (pred_to_truth, truth_to_pred) = rayon::join(
                || directed(&pp, &pt, dims, spacing3),
                || directed(&pt, &pp, dims, spacing3),
            );
            SurfaceDistances {
                pred_to_truth,
                truth_to_pred,
                empty: None,
            }
        };
        if boundary == Boundary::Surfels {
            let view = |s| {
                let v = ArrayViewD::from_shape(IxDyn(&mem.shape), s).expect("checked shape");
                if mem.reversed { v.reversed_axes() } else { v }
            };
            let (pv, tv) = (view(&mem.pred), view(&mem.truth));
            let table = surfel_weights(spacing3, nd == 2);
            return labels
                .par_iter()
                .zip(extents)
                .map(|(&l, e)| {
                    if let Some(side) = EmptySide::of(e.pred_voxels, e.truth_voxels) {
                        return empty(side);
                    }
                    let is_l = |v: T| v.to_u32() == l;
                    let bbox = mem.map_box(e);
                    let (mp, mt) = rayon::join(
                        || Padded::new(&pv, is_l, &bbox, false),
                        || Padded::new(&tv, is_l, &bbox, false),
                    );
                    let dims = [0, 1, 2].map(|a| mp.dims[a] - mp.real[a] as usize);
                    let (pp, pt) =
                        rayon::join(|| surfel_points(&mp, &table), || surfel_points(&mt, &table));
                    drop((mp, mt));
                    distances(pp, pt, dims)
                })
                .collect();
        }
        // Boundary voxels of every present label, each map in one pass.
        let mut distinct: Vec<u32> = Vec::new();
        let slot: Vec<Option<usize>> = labels
            .iter()
            .zip(extents)
            .map(|(&l, e)| {
                EmptySide::of(e.pred_voxels, e.truth_voxels)
                    .is_none()
                    .then(|| match distinct.iter().position(|&d| d == l) {
                        Some(s) => s,
                        None => {
                            distinct.push(l);
                            distinct.len() - 1
                        }
                    })
            })
            .collect();
        let fc = boundary == Boundary::FullyConnected;
        let (bp, bt) = rayon::join(
            || boundary_points(&mem.pred, grid, &distinct, fc),
            || boundary_points(&mem.truth, grid, &distinct, fc),
        );
        // Grid indices along the memory axes to indices along the maps' axes.
        let to_map = |c: &[u32; 3]| match (mem.reversed, nd) {
            (false, _) => *c,
            (true, 2) => [0, c[2], c[1]],
            (true, _) => [c[2], c[1], c[0]],
        };
        let points = |all: &[Vec<[u32; 3]>], s: usize, lo: [u32; 3]| {
            let coords: Vec<[u32; 3]> = all[s]
                .iter()
                .map(|c| {
                    let c = to_map(c);
                    [c[0] - lo[0], c[1] - lo[1], c[2] - lo[2]]
                })
                .collect();
            PointSet {
                weights: vec![1.0; coords.len()],
                coords,
            }
        };
        slot.par_iter()
            .zip(extents)
            .map(|(s, e)| match s {
                None => {
                    empty(EmptySide::of(e.pred_voxels, e.truth_voxels).unwrap_or(EmptySide::Both))
                }
                Some(s) => {
                    let (lo, dims) = crop(e);
                    distances(points(&bp, *s, lo), points(&bt, *s, lo), dims)
                }
            })
            .collect()
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
