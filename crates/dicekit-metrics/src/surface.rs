//! Surface distances between two binary masks, under the boundary conventions of the peers,
//! and every distance metric derived from them (HD, HD95, ASSD, NSD).
use ndarray::{ArrayD, ArrayViewD, IxDyn};

use serde::{Deserialize, Serialize};

use crate::edt::squared_edt;
use crate::error::{check_shapes, check_spacing};
use crate::surfel_normals::NORMALS;
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

/// A mask embedded in 3D (`[1, H, W]` for 2D) as a flat, C-ordered buffer.
struct Grid {
    dims: [usize; 3],
    data: Vec<bool>,
}

impl Grid {
    fn idx(&self, i: usize, j: usize, k: usize) -> usize {
        (i * self.dims[1] + j) * self.dims[2] + k
    }
    fn get(&self, i: isize, j: isize, k: isize) -> Option<bool> {
        let d = self.dims;
        if i < 0 || j < 0 || k < 0 || i >= d[0] as isize || j >= d[1] as isize || k >= d[2] as isize
        {
            return None;
        }
        Some(self.data[self.idx(i as usize, j as usize, k as usize)])
    }
}

/// Per-axis inclusive bounding box of the union of two masks.
fn union_bbox(pred: &ArrayViewD<bool>, truth: &ArrayViewD<bool>) -> Option<Vec<(usize, usize)>> {
    let shape = pred.shape().to_vec();
    let nd = shape.len();
    let (p, t) = (pred.as_standard_layout(), truth.as_standard_layout());
    let (p, t) = (
        p.as_slice().expect("standard layout"),
        t.as_slice().expect("standard layout"),
    );
    let mut bb: Vec<(usize, usize)> = vec![(usize::MAX, 0); nd];
    let mut any = false;
    for (flat, _) in p.iter().zip(t).enumerate().filter(|(_, (a, b))| **a || **b) {
        any = true;
        let mut rest = flat;
        for a in (0..nd).rev() {
            let i = rest % shape[a];
            rest /= shape[a];
            bb[a].0 = bb[a].0.min(i);
            bb[a].1 = bb[a].1.max(i);
        }
    }
    any.then_some(bb)
}

/// Copies `range` of `mask` into a 3D grid (2D masks get a leading axis of length 1).
fn crop(mask: &ArrayViewD<bool>, range: &[(usize, usize)]) -> Grid {
    let view = mask.slice_each_axis(|ax| {
        let (lo, hi) = range[ax.axis.index()];
        ndarray::Slice::from(lo..hi + 1)
    });
    let mut dims = [1usize; 3];
    let nd = view.ndim();
    dims[3 - nd..].copy_from_slice(view.shape());
    Grid {
        dims,
        data: view.iter().copied().collect(),
    }
}

/// Boundary voxels of a cropped mask. `at_border[a] = (low, high)` says whether each face of the
/// crop is the image border; `real` says which of the 3 grid axes exist.
fn voxel_boundary(
    g: &Grid,
    boundary: Boundary,
    at_border: &[(bool, bool); 3],
    real: [bool; 3],
) -> Vec<bool> {
    let d = g.dims;
    let mut out = vec![false; g.data.len()];
    let offsets: Vec<[isize; 3]> = {
        let r = |a: usize| if real[a] { -1..=1isize } else { 0..=0 };
        let mut v = Vec::new();
        for di in r(0) {
            for dj in r(1) {
                for dk in r(2) {
                    let nonzero = (di != 0) as u8 + (dj != 0) as u8 + (dk != 0) as u8;
                    let keep = match boundary {
                        Boundary::Faces => nonzero == 1,
                        _ => nonzero >= 1,
                    };
                    if keep {
                        v.push([di, dj, dk]);
                    }
                }
            }
        }
        v
    };
    for i in 0..d[0] {
        for j in 0..d[1] {
            for k in 0..d[2] {
                let here = g.idx(i, j, k);
                if !g.data[here] {
                    continue;
                }
                let pos = [i as isize, j as isize, k as isize];
                out[here] = offsets.iter().any(|o| {
                    let q = [pos[0] + o[0], pos[1] + o[1], pos[2] + o[2]];
                    match g.get(q[0], q[1], q[2]) {
                        Some(v) => !v,
                        None => {
                            // Outside the crop: the image border, or background beyond the union's box.
                            let border = (0..3).any(|a| {
                                (q[a] < 0 && at_border[a].0)
                                    || (q[a] >= d[a] as isize && at_border[a].1)
                            });
                            !(border && boundary == Boundary::FullyConnected)
                        }
                    }
                });
            }
        }
    }
    out
}

/// Contour length (2D, 16 codes) or surface area (3D, 256 codes) of each neighbourhood code.
fn surfel_weights(spacing3: [f64; 3], two_d: bool) -> Vec<f64> {
    if two_d {
        let (v, h) = (spacing3[1], spacing3[2]);
        let diag = 0.5 * (v * v + h * h).sqrt();
        // Bits: top-left 8, top-right 4, bottom-left 2, bottom-right 1 (axis 0 downwards).
        (0u8..16)
            .map(|code| match code {
                0 | 15 => 0.0,
                0b0011 | 0b1100 => h,
                0b0101 | 0b1010 => v,
                0b0110 | 0b1001 => 2.0 * diag,
                _ => diag,
            })
            .collect()
    } else {
        let [s0, s1, s2] = spacing3;
        NORMALS
            .iter()
            .map(|normals| {
                normals
                    .iter()
                    .map(|n| {
                        let (a, b, c) = (n[0] * s1 * s2, n[1] * s0 * s2, n[2] * s0 * s1);
                        (a * a + b * b + c * c).sqrt()
                    })
                    .sum()
            })
            .collect()
    }
}

/// Neighbourhood codes on the corner grid of a cropped mask (dims + 1 along real axes).
fn corner_codes(g: &Grid, real: [bool; 3]) -> (Grid, Vec<u8>) {
    let cd = [
        g.dims[0] + real[0] as usize,
        g.dims[1] + real[1] as usize,
        g.dims[2] + real[2] as usize,
    ];
    let two_d = !real[0];
    let mut codes = vec![0u8; cd[0] * cd[1] * cd[2]];
    let range = |a: usize| if real[a] { 0..=1isize } else { 0..=0 };
    for i in 0..cd[0] {
        for j in 0..cd[1] {
            for k in 0..cd[2] {
                let mut code = 0u8;
                for a in range(0) {
                    for b in range(1) {
                        for c in range(2) {
                            let v = g.get(
                                i as isize - real[0] as isize + a,
                                j as isize - real[1] as isize + b,
                                k as isize - real[2] as isize + c,
                            );
                            if v == Some(true) {
                                let bit = if two_d {
                                    3 - (2 * b + c)
                                } else {
                                    7 - (4 * a + 2 * b + c)
                                };
                                code |= 1 << bit;
                            }
                        }
                    }
                }
                codes[(i * cd[1] + j) * cd[2] + k] = code;
            }
        }
    }
    (
        Grid {
            dims: cd,
            data: vec![],
        },
        codes,
    )
}

/// Distances from the points of `from` to the nearest point of `to` (both on the same grid).
fn directed(
    from: &[bool],
    weights: &[f64],
    to: &[bool],
    dims: [usize; 3],
    spacing3: [f64; 3],
) -> Vec<(f64, f64)> {
    let features = ArrayD::from_shape_vec(IxDyn(&dims), to.to_vec()).expect("grid shape");
    let d2 = squared_edt(&features, &spacing3);
    let flat = d2.as_slice().expect("standard layout");
    let mut out: Vec<(f64, f64)> = from
        .iter()
        .enumerate()
        .filter(|(_, b)| **b)
        .map(|(i, _)| ((flat[i] as f64).sqrt(), weights[i]))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
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
        check_shapes(pred.shape(), truth.shape())?;
        let nd = pred.ndim();
        if !(2..=3).contains(&nd) {
            return Err(MetricError::UnsupportedRank(nd));
        }
        check_spacing(spacing, nd)?;
        let pv = pred.iter().filter(|v| **v).count() as u64;
        let tv = truth.iter().filter(|v| **v).count() as u64;
        let empty = |side| SurfaceDistances {
            pred_to_truth: vec![],
            truth_to_pred: vec![],
            empty: Some(side),
        };
        if let Some(side) = EmptySide::of(pv, tv) {
            return Ok(empty(side));
        }
        let bbox = union_bbox(pred, truth).expect("non-empty");
        let real = [nd == 3, true, true];
        let mut spacing3 = [1.0; 3];
        spacing3[3 - nd..].copy_from_slice(spacing);
        let (pts_p, pts_t, w_p, w_t, dims) = if boundary == Boundary::Surfels {
            let gp = crop(pred, &bbox);
            let gt = crop(truth, &bbox);
            let table = surfel_weights(spacing3, nd == 2);
            let full = if nd == 2 { 15u8 } else { 255u8 };
            let (grid, cp) = corner_codes(&gp, real);
            let (_, ct) = corner_codes(&gt, real);
            let border = |c: &[u8]| {
                c.iter()
                    .map(|&x| x != 0 && x != full)
                    .collect::<Vec<bool>>()
            };
            let weights = |c: &[u8]| c.iter().map(|&x| table[x as usize]).collect::<Vec<f64>>();
            (
                border(&cp),
                border(&ct),
                weights(&cp),
                weights(&ct),
                grid.dims,
            )
        } else {
            // One voxel of margin (inside the image) so that neighbours of foreground voxels are in the crop.
            let shape = pred.shape();
            let range: Vec<(usize, usize)> = bbox
                .iter()
                .enumerate()
                .map(|(a, &(lo, hi))| (lo.saturating_sub(1), (hi + 1).min(shape[a] - 1)))
                .collect();
            let mut at_border = [(false, false); 3];
            for (a, &(lo, hi)) in range.iter().enumerate() {
                at_border[3 - nd + a] = (lo == 0, hi == shape[a] - 1);
            }
            let gp = crop(pred, &range);
            let gt = crop(truth, &range);
            let bp = voxel_boundary(&gp, boundary, &at_border, real);
            let bt = voxel_boundary(&gt, boundary, &at_border, real);
            let ones = vec![1.0; bp.len()];
            (bp, bt, ones.clone(), ones, gp.dims)
        };
        let has_p = pts_p.iter().any(|b| *b);
        let has_t = pts_t.iter().any(|b| *b);
        if let Some(side) = EmptySide::of(has_p as u64, has_t as u64) {
            return Ok(empty(side));
        }
        let pred_to_truth = directed(&pts_p, &w_p, &pts_t, dims, spacing3);
        let truth_to_pred = directed(&pts_t, &w_t, &pts_p, dims, spacing3);
        Ok(SurfaceDistances {
            pred_to_truth,
            truth_to_pred,
            empty: None,
        })
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
