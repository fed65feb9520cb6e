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

/// Points as three columns of coordinates in `f64` (grid indices, exact), for scans that
/// compute a block of distances at once.
struct Columns([Vec<f64>; 3]);

/// Distances computed side by side in [`Columns::min2`].
const LANES: usize = 4;

impl Columns {
    fn of(points: &[[u32; 3]]) -> Self {
        Columns([0, 1, 2].map(|a| points.iter().map(|p| p[a] as f64).collect()))
    }

    /// The smallest of `best` and the squared distances from `q` of points `lo..hi`: each
    /// the very value of [`dist2`] (the same operations on the same exact operands), and the
    /// minimum of a set does not depend on the order it is taken in. Blocks of [`LANES`]
    /// points in a plain loop (vectorised), each lane keeping its own minimum.
    #[inline(always)]
    fn min2(&self, lo: usize, hi: usize, q: &[f64; 3], spacing: &[f64; 3], best: f64) -> f64 {
        let x = &self.0[0][lo..hi];
        let y = &self.0[1][lo..hi];
        let z = &self.0[2][lo..hi];
        let d2 = |x: f64, y: f64, z: f64| {
            let d0 = (x - q[0]) * spacing[0];
            let d1 = (y - q[1]) * spacing[1];
            let d2 = (z - q[2]) * spacing[2];
            d0 * d0 + d1 * d1 + d2 * d2
        };
        let mut acc = [best; LANES];
        let mut xc = x.chunks_exact(LANES);
        let mut yc = y.chunks_exact(LANES);
        let mut zc = z.chunks_exact(LANES);
        for ((xs, ys), zs) in (&mut xc).zip(&mut yc).zip(&mut zc) {
            for l in 0..LANES {
                let d = d2(xs[l], ys[l], zs[l]);
                acc[l] = if d < acc[l] { d } else { acc[l] };
            }
        }
        let mut m = best;
        for a in acc {
            m = if a < m { a } else { m };
        }
        for ((&x, &y), &z) in xc
            .remainder()
            .iter()
            .zip(yc.remainder())
            .zip(zc.remainder())
        {
            let d = d2(x, y, z);
            m = if d < m { d } else { m };
        }
        m
    }
}

/// Cells of points (CSR layout).
struct CellHash {
    cell: [usize; 3],
    n: [usize; 3],
    start: Vec<u32>,
    columns: Columns,
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
            columns: Columns::of(&points),
            spacing,
        }
    }

    /// Squared distance from `q` to the nearest point, searching [`SHELLS`] shells of cells:
    /// `(d2, true)` when it is the nearest, `(smallest seen, false)` when a point beyond the
    /// shells could be nearer. A cell is read only when its box could hold a nearer point,
    /// and the search stops when every face of the searched cube is no nearer than the best
    /// point (both by [`bound2`], so that no point is skipped that would change the value).
    fn nearest2(&self, q: [u32; 3]) -> (f64, bool) {
        const W: usize = 2 * SHELLS as usize + 3;
        let c = [0, 1, 2].map(|a| (q[a] as usize / self.cell[a]) as isize);
        let n = self.n.map(|v| v as isize);
        // The terms of [`bound2`] per axis, of the cells `c - SHELLS - 1 ..= c + SHELLS + 1`:
        // the squared physical gap from q to the cell's voxels along the axis (0 inside).
        // Summed in the order of [`dist2`], they are the very [`bound2`] of a cell.
        let mut t = [[0.0f64; W]; 3];
        for a in 0..3 {
            let q = q[a] as i64;
            let w = self.cell[a] as i64;
            for (x, term) in t[a].iter_mut().enumerate() {
                let lo = (c[a] + x as isize - SHELLS - 1) as i64 * w;
                let gap = ((lo - q).max(q - (lo + w - 1)).max(0) as u32 as f64) * self.spacing[a];
                *term = gap * gap;
            }
        }
        let at = |a: usize, ci: isize| t[a][(ci - c[a] + SHELLS + 1) as usize];
        let qf = q.map(|v| v as f64);
        let mut best = f64::INFINITY;
        let all_r = n.iter().copied().max().unwrap_or(1);
        for r in 0..=all_r.min(SHELLS) {
            let lo = [0, 1, 2].map(|a| (c[a] - r).max(0));
            let hi = [0, 1, 2].map(|a| (c[a] + r).min(n[a] - 1));
            for i in lo[0]..=hi[0] {
                let edge_i = (i - c[0]).abs() == r;
                let ti = at(0, i);
                for j in lo[1]..=hi[1] {
                    let edge_j = edge_i || (j - c[1]).abs() == r;
                    let tij = ti + at(1, j);
                    if tij >= best {
                        continue;
                    }
                    let row = (i * n[1] + j) * n[2];
                    let near = |k: isize| tij + at(2, k);
                    // Only the shell at Chebyshev distance r (interior cells were searched
                    // before): a whole row of cells on its edges, else the row's two ends. The
                    // points of consecutive cells are consecutive: a run of cells is one scan,
                    // trimmed at both ends to the cells whose box could hold a nearer point.
                    let runs = if edge_j {
                        [(lo[2], hi[2]), (1, 0)]
                    } else {
                        [(c[2] - r, c[2] - r), (c[2] + r, c[2] + r)]
                    };
                    for (mut k0, mut k1) in runs {
                        k0 = k0.max(0);
                        k1 = k1.min(n[2] - 1);
                        while k0 <= k1 && near(k0) >= best {
                            k0 += 1;
                        }
                        while k1 > k0 && near(k1) >= best {
                            k1 -= 1;
                        }
                        if k0 > k1 {
                            continue;
                        }
                        best = self.columns.min2(
                            self.start[(row + k0) as usize] as usize,
                            self.start[(row + k1) as usize + 1] as usize,
                            &qf,
                            &self.spacing,
                            best,
                        );
                        // The query is a point of the set (coinciding surfaces): nothing is
                        // nearer.
                        if best == 0.0 {
                            return (0.0, true);
                        }
                    }
                }
            }
            // Every cell outside the searched cube lies beyond one of its faces: the nearest face
            // bounds the distance to any point not yet seen ([`bound2`] of a gap along one
            // axis is that axis's term).
            let mut bound = f64::INFINITY;
            for a in 0..3 {
                if c[a] - r > 0 {
                    bound = bound.min(at(a, c[a] - r - 1));
                }
                if c[a] + r + 1 < n[a] {
                    bound = bound.min(at(a, c[a] + r + 1));
                }
            }
            if best <= bound {
                return (best, true);
            }
        }
        // Every cell was searched: nothing is left to find.
        (best, SHELLS >= all_r)
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
    columns: Columns,
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
            columns: Columns::of(&points),
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
        let qf = q.map(|v| v as f64);
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
                let m = self.columns.min2(lo, hi, &qf, &self.spacing, best);
                if m < best {
                    best = m;
                    found = self.points[lo..hi]
                        .iter()
                        .find(|p| dist2(p, &q, &self.spacing) == m)
                        .copied();
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

/// Queries per run of raster-order neighbours.
const RUN: usize = 256;

/// Cell shells a query searches before it goes to the k-d tree.
const SHELLS: isize = 2;

/// `(distance, weight)` from every point of `from` to the nearest point of `to`, ascending.
///
/// Queries come in raster order, in runs of neighbours. Each searches the cell hash of `to`
/// for a few shells; the queries left unresolved (surfaces far apart) go to a k-d tree of
/// `to`, built only then, seeded with the nearest point seen so far and with the distance to
/// the previous query's nearest point (neighbours share their nearest points). A query that
/// its predecessor's distance shows to be beyond the shells' reach goes to the tree at once.
pub(crate) fn directed(
    from: &PointSet,
    to: &PointSet,
    dims: [usize; 3],
    spacing: [f64; 3],
) -> Vec<(f64, f64)> {
    let hash = CellHash::new(to, dims, spacing);
    let tree = std::sync::OnceLock::new();
    let tree = || tree.get_or_init(|| KdTree::new(&to.coords, spacing));
    // The smallest distance the shells can vouch for: a nearest point no nearer than this from
    // the query is found only past them.
    let reach = (0..3)
        .map(|a| (SHELLS as usize * hash.cell[a] + 1) as f64 * spacing[a])
        .fold(f64::INFINITY, f64::min);
    let d2: Vec<f64> = from
        .coords
        .par_chunks(RUN)
        .flat_map_iter(|run| {
            let hash = &hash;
            let tree = &tree;
            // The previous query, its squared distance and (when known) its nearest point.
            let mut previous: Option<([u32; 3], f64, Option<[u32; 3]>)> = None;
            run.iter().map(move |&q| {
                // A query at least `reach` from the set (by the triangle inequality from its
                // predecessor's distance: a guess, that decides the path, not the value) goes
                // to the tree at once.
                let (mut seed, mut seed_point, far) = match previous {
                    Some((pq, pd2, pp)) => {
                        let step = dist2(&pq, &q, &spacing).sqrt();
                        let far = pd2.sqrt() - step >= reach;
                        match pp {
                            Some(p) => (dist2(&p, &q, &spacing), Some(p), far),
                            None => (f64::INFINITY, None, far),
                        }
                    }
                    None => (f64::INFINITY, None, false),
                };
                let mut best = None;
                if !far {
                    let (d, sure) = hash.nearest2(q);
                    if sure {
                        best = Some((d, None));
                    } else if d < seed {
                        (seed, seed_point) = (d, None);
                    }
                }
                let (d, point) = best.unwrap_or_else(|| match tree().nearest2(q, seed) {
                    (d, Some(p)) => (d, Some(p)),
                    (d, None) => (d, seed_point),
                });
                previous = Some((q, d, point));
                d
            })
        })
        .collect();
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
