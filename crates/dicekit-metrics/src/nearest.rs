//! Exact nearest-neighbour distances between two point sets on a grid with anisotropic
//! spacing: a uniform cell hash searched in growing shells answers the near queries (the
//! usual case: surfaces that mostly agree), a k-d tree the far ones (a spurious blob far from
//! the other surface), in `O(log n)` instead of a shell search growing with the cube of the
//! distance.
//!
//! Every squared distance is computed one way, [`dist2`], whichever structure finds it, so
//! the values do not depend on the path: the k-d tree prunes with the same expression of
//! per-axis lower bounds, which cannot exceed the computed distance of any point it skips.
use rayon::prelude::*;

use crate::surface_points::PointSet;

/// The squared physical distance between grid points `p` and `q`: the one expression of every
/// distance of the surface metrics.
#[inline(always)]
fn dist2(p: &[u32; 3], q: &[u32; 3], spacing: &[f64; 3]) -> f64 {
    let d0 = (p[0] as f64 - q[0] as f64) * spacing[0];
    let d1 = (p[1] as f64 - q[1] as f64) * spacing[1];
    let d2 = (p[2] as f64 - q[2] as f64) * spacing[2];
    d0 * d0 + d1 * d1 + d2 * d2
}

/// [`dist2`] of grid offsets `off` (non-negative): a lower bound of the distance of every point
/// whose offset from the query is at least `off` on each axis (each operation of the
/// expression is monotone).
#[inline(always)]
fn bound2(off: &[u32; 3], spacing: &[f64; 3]) -> f64 {
    dist2(off, &[0; 3], spacing)
}

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
            .map(|a| ((4.0 * s_min / spacing[a]).ceil() as usize).clamp(1, dims[a].max(1)));
        let n = [0, 1, 2].map(|a| dims[a].div_ceil(cell[a]).max(1));
        let idx = |c: &[u32; 3]| {
            ((c[0] as usize / cell[0]) * n[1] + c[1] as usize / cell[1]) * n[2]
                + c[2] as usize / cell[2]
        };
        // Counting sort into cells: `start[i + 1]` counts cell i, then holds where cell i
        // starts after the prefix sum shifted by one; placing the points advances it to where
        // cell i ends, which is where cell i + 1 starts (no second array).
        let mut start = vec![0u32; n[0] * n[1] * n[2] + 1];
        for c in &set.coords {
            start[idx(c) + 1] += 1;
        }
        let mut sum = 0;
        for s in start.iter_mut() {
            let count = *s;
            *s = sum;
            sum += count;
        }
        // start[i] is now where cell i - 1 starts (start[0] = start[1] = 0).
        let mut points = vec![[0u32; 3]; set.coords.len()];
        for c in &set.coords {
            let slot = &mut start[idx(c) + 1];
            points[*slot as usize] = *c;
            *slot += 1;
        }
        CellHash {
            cell,
            n,
            start,
            points,
            spacing,
        }
    }

    /// Squared distance from `q` to the nearest point, searching shells up to `max_r` cells:
    /// `(d2, true)` when it is the nearest, `(smallest seen, false)` when a point beyond the
    /// shells could be nearer. A cell is read only when its box could hold a nearer point,
    /// and the search stops when every face of the searched cube is no nearer than the best
    /// point (both by [`bound2`], so that no point is skipped that would change the value).
    fn nearest2(&self, q: [u32; 3], max_r: isize) -> (f64, bool) {
        let c = [0, 1, 2].map(|a| (q[a] as usize / self.cell[a]) as isize);
        let n = self.n.map(|v| v as isize);
        // Grid offset from q to the voxels of cell `ci` along axis `a` (0 inside).
        let off = |a: usize, ci: isize| -> u32 {
            let lo = ci as i64 * self.cell[a] as i64;
            let hi = lo + self.cell[a] as i64 - 1;
            let q = q[a] as i64;
            (lo - q).max(q - hi).max(0) as u32
        };
        let mut best = f64::INFINITY;
        let all_r = n.iter().copied().max().unwrap_or(1);
        for r in 0..=all_r.min(max_r) {
            let lo = [0, 1, 2].map(|a| (c[a] - r).max(0));
            let hi = [0, 1, 2].map(|a| (c[a] + r).min(n[a] - 1));
            for i in lo[0]..=hi[0] {
                let edge_i = (i - c[0]).abs() == r;
                let oi = off(0, i);
                for j in lo[1]..=hi[1] {
                    let edge_j = edge_i || (j - c[1]).abs() == r;
                    let oj = off(1, j);
                    if bound2(&[oi, oj, 0], &self.spacing) >= best {
                        continue;
                    }
                    // Only the shell at Chebyshev distance r: interior cells were searched before.
                    let (k0, k1, step) = if edge_j {
                        (lo[2], hi[2], 1)
                    } else {
                        (c[2] - r, c[2] + r, 2 * r)
                    };
                    let row = (i * n[1] + j) * n[2];
                    let mut k = k0;
                    while k <= k1 {
                        if k >= 0 && k < n[2] && bound2(&[oi, oj, off(2, k)], &self.spacing) < best
                        {
                            let cell = (row + k) as usize;
                            for p in &self.points
                                [self.start[cell] as usize..self.start[cell + 1] as usize]
                            {
                                best = best.min(dist2(p, &q, &self.spacing));
                            }
                            // The query is a point of the set (coinciding surfaces): nothing
                            // is nearer.
                            if best == 0.0 {
                                return (0.0, true);
                            }
                        }
                        k += step.max(1);
                    }
                }
            }
            // Every cell outside the searched cube lies beyond one of its faces: the nearest face
            // bounds the distance to any point not yet seen.
            let mut bound = f64::INFINITY;
            for a in 0..3 {
                let mut o = [0u32; 3];
                if c[a] - r > 0 {
                    o[a] = off(a, c[a] - r - 1);
                    bound = bound.min(bound2(&o, &self.spacing));
                }
                if c[a] + r + 1 < n[a] {
                    o[a] = off(a, c[a] + r + 1);
                    bound = bound.min(bound2(&o, &self.spacing));
                }
            }
            if best <= bound {
                return (best, true);
            }
        }
        // Every cell was searched: nothing is left to find.
        (best, max_r >= all_r)
    }
}

/// Points per k-d tree leaf.
const LEAF: usize = 32;

/// A box of grid points, inclusive.
#[derive(Debug, Clone, Copy, Default)]
struct Bounds {
    lo: [u32; 3],
    hi: [u32; 3],
}

impl Bounds {
    fn of(points: &[[u32; 3]]) -> Self {
        let mut b = Bounds {
            lo: [u32::MAX; 3],
            hi: [0; 3],
        };
        for p in points {
            for a in 0..3 {
                b.lo[a] = b.lo[a].min(p[a]);
                b.hi[a] = b.hi[a].max(p[a]);
            }
        }
        b
    }

    /// A lower bound of the squared distance from `q` to any point in the box, by [`bound2`].
    #[inline(always)]
    fn bound2(&self, q: &[u32; 3], spacing: &[f64; 3]) -> f64 {
        let off = [0, 1, 2].map(|a| {
            self.lo[a]
                .saturating_sub(q[a])
                .max(q[a].saturating_sub(self.hi[a]))
        });
        bound2(&off, spacing)
    }
}

/// One internal node: the boxes of its two halves.
#[derive(Debug, Clone, Copy, Default)]
struct Node {
    left: Bounds,
    right: Bounds,
}

/// A k-d tree over grid points, implicit: the points of each node are a contiguous range split
/// at its middle, and the boxes of the node's halves are stored at the index of its middle
/// point (distinct for every node with more than [`LEAF`] points).
struct KdTree {
    points: Vec<[u32; 3]>,
    nodes: Vec<Node>,
    spacing: [f64; 3],
}

impl KdTree {
    fn new(points: &[[u32; 3]], spacing: [f64; 3]) -> Self {
        let mut points = points.to_vec();
        let mut nodes = vec![Node::default(); points.len()];
        let bounds = Bounds::of(&points);
        build(&mut points, &mut nodes, bounds, &spacing);
        KdTree {
            points,
            nodes,
            spacing,
        }
    }

    /// The squared distance to the nearest point and that point, searching only for points
    /// nearer than `best` (a squared distance known to be reached; `INFINITY` for none).
    /// Depth first, the nearer half first; a half is skipped when its box is no nearer than
    /// the best distance found.
    fn nearest2(&self, q: [u32; 3], mut best: f64) -> (f64, Option<[u32; 3]>) {
        let mut found = None;
        // (first, end, lower bound of the range's distance): at most one entry per level
        // beside the current path, and fewer than 64 levels.
        let mut stack = [(0usize, 0usize, 0.0f64); 128];
        stack[0] = (0, self.points.len(), 0.0);
        let mut top = 1;
        while top > 0 {
            top -= 1;
            let (lo, hi, bound) = stack[top];
            if bound >= best {
                continue;
            }
            if hi - lo <= LEAF {
                for p in &self.points[lo..hi] {
                    let d = dist2(p, &q, &self.spacing);
                    if d < best {
                        best = d;
                        found = Some(*p);
                    }
                }
                continue;
            }
            let mid = lo + (hi - lo) / 2;
            let node = &self.nodes[mid];
            let bl = node.left.bound2(&q, &self.spacing);
            let br = node.right.bound2(&q, &self.spacing);
            let (near, far) = if bl <= br {
                ((lo, mid, bl), (mid, hi, br))
            } else {
                ((mid, hi, br), (lo, mid, bl))
            };
            if far.2 < best {
                stack[top] = far;
                top += 1;
            }
            if near.2 < best {
                stack[top] = near;
                top += 1;
            }
        }
        (best, found)
    }
}

/// Orders `points` (within `bounds`) into an implicit tree: split at the middle along the axis
/// of the largest physical extent, the halves' boxes recorded in `nodes` at the middle's
/// index; halves in parallel when large.
fn build(points: &mut [[u32; 3]], nodes: &mut [Node], bounds: Bounds, spacing: &[f64; 3]) {
    if points.len() <= LEAF {
        return;
    }
    let extent = |a: usize| (bounds.hi[a] - bounds.lo[a]) as f64 * spacing[a];
    let a = (0..3)
        .max_by(|&x, &y| extent(x).total_cmp(&extent(y)))
        .unwrap_or(0);
    let mid = points.len() / 2;
    points.select_nth_unstable_by_key(mid, |p| p[a]);
    let (left, right) = points.split_at_mut(mid);
    let node = Node {
        left: Bounds::of(left),
        right: Bounds::of(right),
    };
    nodes[mid] = node;
    let (left_nodes, right_nodes) = nodes.split_at_mut(mid);
    if left.len() > 1 << 14 {
        rayon::join(
            || build(left, left_nodes, node.left, spacing),
            || build(right, right_nodes, node.right, spacing),
        );
    } else {
        build(left, left_nodes, node.left, spacing);
        build(right, right_nodes, node.right, spacing);
    }
}

/// Cell shells a query searches before it goes to the k-d tree.
const SHELLS: isize = 2;

/// `(distance, weight)` from every point of `from` to the nearest point of `to`, ascending.
///
/// Each query searches the cell hash of `to` for a few shells; the queries left unresolved
/// (surfaces far apart) go to a k-d tree of `to`, built only then, seeded with the nearest
/// point seen so far and with the distance to the previous query's nearest point (queries
/// come in raster order, so neighbours share their nearest points).
pub(crate) fn directed(
    from: &PointSet,
    to: &PointSet,
    dims: [usize; 3],
    spacing: [f64; 3],
) -> Vec<(f64, f64)> {
    let hash = CellHash::new(to, dims, spacing);
    let near: Vec<(f64, bool)> = from
        .coords
        .par_iter()
        .map(|q| hash.nearest2(*q, SHELLS))
        .collect();
    let far: Vec<usize> = (0..near.len()).filter(|&i| !near[i].1).collect();
    let mut d2: Vec<f64> = near.iter().map(|x| x.0).collect();
    if !far.is_empty() {
        let tree = KdTree::new(&hash.points, spacing);
        let resolved: Vec<(usize, f64)> = far
            .par_chunks(256)
            .flat_map_iter(|chunk| {
                let mut previous: Option<[u32; 3]> = None;
                chunk
                    .iter()
                    .map(|&i| {
                        let q = from.coords[i];
                        let mut seed = near[i].0;
                        if let Some(p) = previous {
                            seed = seed.min(dist2(&p, &q, &spacing));
                        }
                        let (best, found) = tree.nearest2(q, seed);
                        if found.is_some() {
                            previous = found;
                        }
                        (i, best)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for (i, best) in resolved {
            d2[i] = best;
        }
    }
    if from.weights.iter().all(|&w| w == 1.0) {
        // Unit weights (voxels): equal distances are indistinguishable, so the distances alone
        // are sorted, as integers (the bits of non-negative doubles are in their order).
        let mut bits: Vec<u64> = d2.into_par_iter().map(|d| d.sqrt().to_bits()).collect();
        bits.par_sort_unstable();
        return bits
            .into_par_iter()
            .map(|b| (f64::from_bits(b), 1.0))
            .collect();
    }
    let mut out: Vec<(f64, f64)> = d2
        .into_par_iter()
        .zip(from.weights.par_iter())
        .map(|(d, w)| (d.sqrt(), *w))
        .collect();
    out.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(from: &[[u32; 3]], to: &[[u32; 3]], spacing: [f64; 3]) -> Vec<f64> {
        let mut d: Vec<f64> = from
            .iter()
            .map(|q| {
                to.iter()
                    .map(|p| dist2(p, q, &spacing))
                    .fold(f64::INFINITY, f64::min)
                    .sqrt()
            })
            .collect();
        d.sort_by(f64::total_cmp);
        d
    }

    fn set(coords: Vec<[u32; 3]>) -> PointSet {
        let weights = vec![1.0; coords.len()];
        PointSet { coords, weights }
    }

    /// xorshift points in a box `[lo, lo + size)`.
    fn points(seed: &mut u64, n: usize, lo: [u32; 3], size: [u32; 3]) -> Vec<[u32; 3]> {
        (0..n)
            .map(|_| {
                [0, 1, 2].map(|a| {
                    *seed ^= *seed << 13;
                    *seed ^= *seed >> 7;
                    *seed ^= *seed << 17;
                    lo[a] + (*seed % size[a] as u64) as u32
                })
            })
            .collect()
    }

    /// Near, far and mixed sets, isotropic and anisotropic: the very same `f64` values as brute
    /// force, whichever structure answered.
    #[test]
    fn hash_and_tree_give_the_brute_force_values() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for spacing in [[1.0, 1.0, 1.0], [2.5, 0.8, 0.8], [0.3, 1.7, 0.9]] {
            for (nf, nt, lo_f, lo_t) in [
                (300, 200, [0, 0, 0], [0, 0, 0]),
                (300, 200, [0, 0, 0], [60, 50, 40]),
                (50, 2000, [70, 0, 10], [0, 0, 0]),
                (1, 1, [0, 0, 0], [99, 99, 99]),
            ] {
                let mut from = points(&mut seed, nf, lo_f, [30, 30, 30]);
                from.extend(points(&mut seed, nf / 10, [0, 0, 0], [100, 100, 100]));
                let to = points(&mut seed, nt, lo_t, [40, 30, 20]);
                let got: Vec<f64> =
                    directed(&set(from.clone()), &set(to.clone()), [160; 3], spacing)
                        .iter()
                        .map(|x| x.0)
                        .collect();
                assert_eq!(got, brute(&from, &to, spacing), "{spacing:?} {nf} {nt}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Random sets, near or far apart (offset up to 200 voxels), any anisotropic spacing,
        /// an empty query set: the brute-force values exactly.
        #[test]
        fn directed_is_brute_force(
            from in proptest::collection::vec([0u32..40, 0u32..40, 0u32..40], 0..150),
            to in proptest::collection::vec([0u32..40, 0u32..40, 0u32..40], 1..150),
            shift in [0u32..200, 0u32..200, 0u32..200],
            spacing in [0.2f64..3.0, 0.2f64..3.0, 0.2f64..3.0],
        ) {
            let to: Vec<[u32; 3]> = to
                .iter()
                .map(|p| [p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]])
                .collect();
            let got: Vec<f64> = directed(&set(from.clone()), &set(to.clone()), [240; 3], spacing)
                .iter()
                .map(|x| x.0)
                .collect();
            proptest::prop_assert_eq!(got, brute(&from, &to, spacing));
        }
    }

    #[test]
    fn the_tree_alone_matches_brute_force() {
        let mut seed = 12345u64;
        let spacing = [0.7, 1.3, 2.5];
        let to = points(&mut seed, 5000, [0, 0, 0], [200, 150, 90]);
        let tree = KdTree::new(&to, spacing);
        for q in points(&mut seed, 500, [0, 0, 0], [260, 200, 120]) {
            let want = to
                .iter()
                .map(|p| dist2(p, &q, &spacing))
                .fold(f64::INFINITY, f64::min);
            assert_eq!(tree.nearest2(q, f64::INFINITY).0, want);
            // A seed that is reached changes nothing.
            assert_eq!(tree.nearest2(q, want).0, want);
        }
    }
}
