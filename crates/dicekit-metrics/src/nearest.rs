//! Exact nearest-neighbour distances between two point sets on a grid with anisotropic
//! spacing, through a uniform cell hash searched in growing shells.
use rayon::prelude::*;

use crate::edt::squared_edt;
use crate::surface_points::PointSet;

/// Cells of points (CSR layout).
struct CellHash {
    cell: [usize; 3],
    n: [usize; 3],
    start: Vec<u32>,
    points: Vec<[u32; 3]>,
    spacing: [f64; 3],
}

impl CellHash {
    fn new(set: &PointSet, dims: [usize; 3], spacing: [f64; 3]) -> Self {
        let s_min = spacing.iter().copied().fold(f64::INFINITY, f64::min);
        // Cells about 4 voxels of the finest axis wide, in physical size.
        let cell = [0, 1, 2]
            .map(|a| ((3.0 * s_min / spacing[a]).ceil() as usize).clamp(1, dims[a].max(1)));
        let n = [0, 1, 2].map(|a| dims[a].div_ceil(cell[a]).max(1));
        let idx = |c: &[u32; 3]| {
            ((c[0] as usize / cell[0]) * n[1] + c[1] as usize / cell[1]) * n[2]
                + c[2] as usize / cell[2]
        };
        let mut count = vec![0u32; n[0] * n[1] * n[2] + 1];
        for c in &set.coords {
            count[idx(c) + 1] += 1;
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut fill = count.clone();
        let mut points = vec![[0u32; 3]; set.coords.len()];
        for c in &set.coords {
            let i = idx(c);
            points[fill[i] as usize] = *c;
            fill[i] += 1;
        }
        CellHash {
            cell,
            n,
            start: count,
            points,
            spacing,
        }
    }

    /// Squared distance from `q` to the nearest point, and the last shell searched.
    fn nearest2(&self, q: [u32; 3]) -> (f64, isize) {
        let c = [0, 1, 2].map(|a| (q[a] as usize / self.cell[a]) as isize);
        let n = self.n.map(|v| v as isize);
        let mut best = f64::INFINITY;
        let max_r = n.iter().copied().max().unwrap_or(1);
        for r in 0..=max_r {
            let lo = [0, 1, 2].map(|a| (c[a] - r).max(0));
            let hi = [0, 1, 2].map(|a| (c[a] + r).min(n[a] - 1));
            for i in lo[0]..=hi[0] {
                let edge_i = (i - c[0]).abs() == r;
                for j in lo[1]..=hi[1] {
                    let edge_j = edge_i || (j - c[1]).abs() == r;
                    // Only the shell at Chebyshev distance r: interior cells were searched before.
                    let (k0, k1, step) = if edge_j {
                        (lo[2], hi[2], 1)
                    } else {
                        (c[2] - r, c[2] + r, 2 * r)
                    };
                    let row = (i * n[1] + j) * n[2];
                    let mut k = k0;
                    while k <= k1 {
                        if k >= 0 && k < n[2] {
                            let cell = (row + k) as usize;
                            for p in &self.points
                                [self.start[cell] as usize..self.start[cell + 1] as usize]
                            {
                                let d0 = (p[0] as f64 - q[0] as f64) * self.spacing[0];
                                let d1 = (p[1] as f64 - q[1] as f64) * self.spacing[1];
                                let d2 = (p[2] as f64 - q[2] as f64) * self.spacing[2];
                                best = best.min(d0 * d0 + d1 * d1 + d2 * d2);
                            }
                        }
                        k += step;
                    }
                }
            }
            // Every cell outside the searched cube lies beyond one of its faces: the nearest face
            // bounds the distance to any point not yet seen.
            let mut bound = f64::INFINITY;
            for a in 0..3 {
                let lo_face = (c[a] - r) as f64 * self.cell[a] as f64;
                let hi_face = (c[a] + r + 1) as f64 * self.cell[a] as f64;
                if c[a] - r > 0 {
                    bound = bound.min((q[a] as f64 - lo_face + 0.5) * self.spacing[a]);
                }
                if c[a] + r + 1 < n[a] {
                    bound = bound.min((hi_face - q[a] as f64 - 0.5) * self.spacing[a]);
                }
            }
            if best <= bound * bound {
                return (best, r);
            }
        }
        (best, max_r)
    }
}

/// `(distance, weight)` from every point of `from` to the nearest point of `to`, ascending.
///
/// Close surfaces (the usual case) are searched through a cell hash, a few cells per query.
/// When a sample of queries shows that the surfaces are far apart (shell searches grow with the
/// cube of the distance), an exact distance transform of the grid is used instead: its cost is
/// linear in the grid size whatever the distances.
pub(crate) fn directed(
    from: &PointSet,
    to: &PointSet,
    dims: [usize; 3],
    spacing: [f64; 3],
) -> Vec<(f64, f64)> {
    let hash = CellHash::new(to, dims, spacing);
    let step = (from.coords.len() / 256).max(1);
    let sampled: Vec<f64> = from
        .coords
        .iter()
        .step_by(step)
        .map(|q| (2 * hash.nearest2(*q).1 + 1).pow(3) as f64)
        .collect();
    let mean_cells = sampled.iter().sum::<f64>() / sampled.len().max(1) as f64;
    // Measured on Flex-free CPU code: ~4 ns per cell visited, ~40 ns per grid voxel of the EDT.
    // The transform of the box holding both point sets is exact for every query (all sites
    // and all queries lie in it) and can be far smaller than the grid.
    let (lo, hi) = bounding_box(from, to, dims);
    let size: Vec<usize> = (0..3).map(|a| hi[a] - lo[a] + 1).collect();
    let grid: usize = size.iter().product();
    let mut out: Vec<(f64, f64)> =
        if from.coords.len() as f64 * mean_cells * 4.0 > grid as f64 * 40.0 {
            let mut features = ndarray::ArrayD::from_elem(ndarray::IxDyn(&size), false);
            let at = |c: &[u32; 3]| [0, 1, 2].map(|a| c[a] as usize - lo[a]);
            for c in &to.coords {
                features[at(c).as_slice()] = true;
            }
            let d2 = squared_edt(&features, &spacing);
            from.coords
                .iter()
                .zip(&from.weights)
                .map(|(c, w)| ((d2[at(c).as_slice()] as f64).sqrt(), *w))
                .collect()
        } else {
            from.coords
                .par_iter()
                .zip(from.weights.par_iter())
                .map(|(q, w)| (hash.nearest2(*q).0.sqrt(), *w))
                .collect()
        };
    out.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The smallest box `[lo, hi]` (inclusive, per axis) holding every point of `a` and `b`; the
/// whole grid when both are empty.
fn bounding_box(a: &PointSet, b: &PointSet, dims: [usize; 3]) -> ([usize; 3], [usize; 3]) {
    let mut lo = dims.map(|d| d.saturating_sub(1));
    let mut hi = [0usize; 3];
    let mut any = false;
    for c in a.coords.iter().chain(&b.coords) {
        any = true;
        for k in 0..3 {
            lo[k] = lo[k].min(c[k] as usize);
            hi[k] = hi[k].max(c[k] as usize);
        }
    }
    if !any {
        return ([0; 3], dims.map(|d| d.saturating_sub(1)));
    }
    (lo, hi)
}
