//! Exact nearest-neighbour distances between two point sets on a grid with anisotropic
//! spacing, in three tiers: a bit grid of the set looked up at the offsets of a small ball in
//! order of distance answers the nearest queries (the usual case: surfaces that mostly agree,
//! most queries within a voxel or two), a uniform cell hash searched in growing shells those a
//! few voxels away, and a k-d tree the far ones (a spurious blob far from the other surface),
//! in `O(log n)` instead of a shell search growing with the cube of the distance.
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

/// Points as three columns of grid coordinates (`i32`, shifted by [`SHIFT`]: half the bytes of
/// `f64`, converted exactly), for scans that compute a block of distances at once.
struct Columns([Vec<i32>; 3]);

/// Distances computed side by side in [`Columns::min2`].
const LANES: usize = 4;

/// What [`Columns`] subtract from every grid index so that any `u32` fits an `i32`. A
/// query is shifted alike ([`Columns::shifted`]): the difference of two shifted indices is the
/// difference of the indices, exactly (integers far below 2^53), so every distance is
/// [`dist2`]'s.
const SHIFT: i64 = 1 << 31;

impl Columns {
    fn of(points: &[[u32; 3]]) -> Self {
        Columns([0, 1, 2].map(|a| {
            points
                .iter()
                .map(|p| (i64::from(p[a]) - SHIFT) as i32)
                .collect()
        }))
    }

    /// A query's indices shifted as the columns' are, in `f64`.
    #[inline(always)]
    fn shifted(q: u32) -> f64 {
        (i64::from(q) - SHIFT) as f64
    }

    /// Point `i`.
    fn point(&self, i: usize) -> [u32; 3] {
        [0, 1, 2].map(|a| (i64::from(self.0[a][i]) + SHIFT) as u32)
    }

    /// The smallest of `best` and the squared distances from `q` (shifted as the columns are,
    /// [`Columns::shifted`]) of points `lo..hi`: each
    /// the very value of [`dist2`] (the same operations on the same exact operands), and the
    /// minimum of a set does not depend on the order it is taken in. Blocks of [`LANES`]
    /// points in a plain loop (vectorised), each lane keeping its own minimum.
    #[inline(always)]
    fn min2(&self, lo: usize, hi: usize, q: &[f64; 3], spacing: &[f64; 3], best: f64) -> f64 {
        let x = &self.0[0][lo..hi];
        let y = &self.0[1][lo..hi];
        let z = &self.0[2][lo..hi];
        let d2 = |x: i32, y: i32, z: i32| {
            let (x, y, z) = (f64::from(x), f64::from(y), f64::from(z));
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

/// The points of a set as bits of a padded grid, and the grid offsets of the ball of radius
/// [`RING`] finest-axis voxels in order of their distance: the first offset at which a query
/// finds a point of the set is its nearest (every offset nearer was looked at).
struct Occupancy {
    bits: Vec<u64>,
    /// Padding on each side per axis (the largest offset along it).
    pad: [usize; 3],
    /// Padded dimensions.
    dims: [usize; 3],
    /// `(linear offset, squared distance)`, ascending by distance; every offset whose
    /// [`dist2`] is at most `reach^2` is in the list.
    offsets: Vec<(isize, f64)>,
    /// The distance within which the list is complete: a nearest point farther than this is
    /// not found.
    reach: f64,
}

/// Radius of the ball of offsets [`Occupancy`] looks at, in voxels of the finest axis.
const RING: f64 = 2.0;

impl Occupancy {
    fn new(set: &PointSet, dims: [usize; 3], spacing: [f64; 3]) -> Self {
        let s_min = spacing.iter().copied().fold(f64::INFINITY, f64::min);
        let radius = RING * s_min;
        let limit2 = radius * radius;
        // One more than the largest offset that can be within the radius, per axis (none
        // along an axis of one voxel: no point lies beside it).
        let pad = [0, 1, 2].map(|a| {
            if dims[a] <= 1 {
                0
            } else {
                ((radius / spacing[a]).floor() as usize + 1).min(dims[a])
            }
        });
        let pdims = [0, 1, 2].map(|a| dims[a] + 2 * pad[a]);
        let stride = [pdims[1] * pdims[2], pdims[2], 1].map(|v| v as isize);
        let mut offsets = Vec::new();
        for i in -(pad[0] as isize)..=pad[0] as isize {
            for j in -(pad[1] as isize)..=pad[1] as isize {
                for k in -(pad[2] as isize)..=pad[2] as isize {
                    let o = [i, j, k].map(|v| v.unsigned_abs() as u32);
                    let d2 = bound2(&o, &spacing);
                    if d2 <= limit2 {
                        offsets.push((i * stride[0] + j * stride[1] + k * stride[2], d2));
                    }
                }
            }
        }
        offsets.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut bits = vec![0u64; (pdims[0] * pdims[1] * pdims[2]).div_ceil(64)];
        for c in &set.coords {
            let at = ((c[0] as usize + pad[0]) * pdims[1] + c[1] as usize + pad[1]) * pdims[2]
                + c[2] as usize
                + pad[2];
            bits[at / 64] |= 1 << (at % 64);
        }
        Occupancy {
            bits,
            pad,
            dims: pdims,
            offsets,
            reach: radius,
        }
    }

    /// The squared distance from `q` to the nearest point of the set, if the point is at most
    /// `reach` away.
    #[inline(always)]
    fn nearest2(&self, q: [u32; 3]) -> Option<f64> {
        let at = ((q[0] as usize + self.pad[0]) * self.dims[1] + q[1] as usize + self.pad[1])
            * self.dims[2]
            + q[2] as usize
            + self.pad[2];
        for &(o, d2) in &self.offsets {
            let x = (at as isize + o) as usize;
            if self.bits[x / 64] >> (x % 64) & 1 != 0 {
                return Some(d2);
            }
        }
        None
    }
}

/// Cells of points (CSR layout).
struct CellHash {
    cell: [usize; 3],
    /// `cell_of[a][x]`: the cell of grid index `x` along axis `a`.
    cell_of: [Vec<u32>; 3],
    n: [usize; 3],
    start: Vec<u32>,
    /// Per cell, 1 when a cell within [`SHELLS`] cells along every axis holds a point: a
    /// query in a cell marked 0 finds nothing in its shells.
    occupied_near: Vec<u8>,
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
        // The cell of each grid index along each axis, looked up (no division per point).
        let cell_of = [0, 1, 2].map(|a| {
            (0..dims[a].max(1))
                .map(|x| (x / cell[a]) as u32)
                .collect::<Vec<_>>()
        });
        let idx = |c: &[u32; 3]| {
            let at = [0, 1, 2].map(|a| cell_of[a][c[a] as usize] as usize);
            (at[0] * n[1] + at[1]) * n[2] + at[2]
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
        let occupied = (0..n[0] * n[1] * n[2])
            .map(|i| u8::from(start[i + 1] > start[i]))
            .collect();
        CellHash {
            cell,
            cell_of,
            n,
            occupied_near: dilate(occupied, n, SHELLS as usize),
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
    #[inline(always)]
    fn nearest2(&self, q: [u32; 3]) -> (f64, bool) {
        let at = [0, 1, 2].map(|a| self.cell_of[a][q[a] as usize] as usize);
        if self.occupied_near[(at[0] * self.n[1] + at[1]) * self.n[2] + at[2]] == 0 {
            return (f64::INFINITY, false);
        }
        const W: usize = 2 * SHELLS as usize + 3;
        let c = at.map(|v| v as isize);
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
        // Shifted as the columns are.
        let qf = q.map(Columns::shifted);
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

/// A query at most this many finest-axis voxels from one that waits for the k-d tree goes to
/// the tree too (a guess).
const BESIDE: f64 = 2.0;

/// Queries a k-d tree packet traversal carries.
const PACKET: usize = 4;

/// Points per k-d tree leaf.
const LEAF: usize = 64;

/// `mask` (0 / 1 over a grid of dimensions `n`, row-major) dilated by `r` cells along every
/// axis (a cube), one axis at a time.
fn dilate(mut mask: Vec<u8>, n: [usize; 3], r: usize) -> Vec<u8> {
    let stride = [n[1] * n[2], n[2], 1];
    for a in 0..3 {
        let mut out = vec![0u8; mask.len()];
        // Along axis `a`: each line of the grid, the OR of the `2r + 1` cells around each.
        for o in -(r as isize)..=r as isize {
            let shift = o.unsigned_abs() * stride[a];
            let len = stride[a] * n[a];
            if shift >= len {
                continue;
            }
            for (src, dst) in mask.chunks(len).zip(out.chunks_mut(len)) {
                if o >= 0 {
                    // dst[x] |= src[x + shift]
                    for (d, s) in dst[..len - shift].iter_mut().zip(&src[shift..]) {
                        *d |= *s;
                    }
                } else {
                    for (d, s) in dst[shift..].iter_mut().zip(&src[..len - shift]) {
                        *d |= *s;
                    }
                }
            }
        }
        mask = out;
    }
    mask
}

/// A box of grid points, inclusive.
#[derive(Debug, Clone, Copy)]
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
}

/// One internal node, in preorder (its left half is the next node): the boxes of its two
/// halves, per axis `[left, right]` in `f64` (exact grid indices), and where its right half's
/// node is.
#[derive(Debug, Clone, Copy)]
struct Node {
    /// Lower corners: `lo[axis] = [left, right]`.
    lo: [[f64; 2]; 3],
    /// Upper corners: `hi[axis] = [left, right]`.
    hi: [[f64; 2]; 3],
    /// Index of the right half's node (when the right half is not a leaf).
    right: u32,
}

impl Node {
    fn new(left: Bounds, right: Bounds) -> Self {
        Node {
            lo: [0, 1, 2].map(|a| [left.lo[a] as f64, right.lo[a] as f64]),
            hi: [0, 1, 2].map(|a| [left.hi[a] as f64, right.hi[a] as f64]),
            right: 0,
        }
    }
}

/// A k-d tree over grid points: the points of each node are a contiguous range split at its
/// middle (a leaf at [`LEAF`] points or fewer); the internal nodes in preorder.
struct KdTree {
    columns: Columns,
    nodes: Vec<Node>,
    spacing: [f64; 3],
}

impl KdTree {
    fn new(points: &[[u32; 3]], spacing: [f64; 3]) -> Self {
        let mut points = points.to_vec();
        let bounds = Bounds::of(&points);
        let nodes = build(&mut points, bounds, &spacing);
        KdTree {
            columns: Columns::of(&points),
            nodes,
            spacing,
        }
    }

    /// The squared distances to the nearest points, and those points, of a packet of
    /// [`PACKET`] queries at once (neighbours, that mostly visit the same nodes): each node's
    /// bounds and each leaf's distances are computed for
    /// every query of the packet side by side, and a node is visited while any query could
    /// find a nearer point in it. Each query's value is the one it would get alone (a query is
    /// never pruned by another's bound). A lane with `best` 0 is idle.
    #[inline(always)]
    fn nearest2_packet(
        &self,
        q: &[[u32; 3]; PACKET],
        mut best: [f64; PACKET],
    ) -> ([f64; PACKET], [Option<[u32; 3]>; PACKET]) {
        let s = &self.spacing;
        // Query coordinates per axis, lanes side by side.
        let qa: [[f64; PACKET]; 3] = [0, 1, 2].map(|a| q.map(|p| p[a] as f64));
        // The same, shifted as the leaves' columns are.
        let qs: [[f64; PACKET]; 3] = [0, 1, 2].map(|a| q.map(|p| Columns::shifted(p[a])));
        let mut found = [None; PACKET];
        let mut stack = [(0u32, 0u32, 0u32, [0.0f64; PACKET]); 64];
        stack[0] = (0, self.columns.0[0].len() as u32, 0, [0.0; PACKET]);
        let mut top = 1;
        let needed = |bound: &[f64; PACKET], best: &[f64; PACKET]| {
            let mut any = false;
            for l in 0..PACKET {
                any |= bound[l] < best[l];
            }
            any
        };
        while top > 0 {
            top -= 1;
            let (lo, hi, at, bound) = stack[top];
            if !needed(&bound, &best) {
                continue;
            }
            let (lo, hi) = (lo as usize, hi as usize);
            if hi - lo <= LEAF {
                // Each lane's smallest distance in the leaf and where it is (the first
                // point at it), side by side.
                let mut m = best;
                let mut at = [u32::MAX; PACKET];
                let cols = &self.columns.0;
                for i in lo..hi {
                    let p = [0, 1, 2].map(|a| f64::from(cols[a][i]));
                    for l in 0..PACKET {
                        let d0 = (p[0] - qs[0][l]) * s[0];
                        let d1 = (p[1] - qs[1][l]) * s[1];
                        let d2 = (p[2] - qs[2][l]) * s[2];
                        let d = d0 * d0 + d1 * d1 + d2 * d2;
                        let nearer = d < m[l];
                        m[l] = if nearer { d } else { m[l] };
                        at[l] = if nearer { i as u32 } else { at[l] };
                    }
                }
                for l in 0..PACKET {
                    if m[l] < best[l] {
                        best[l] = m[l];
                        found[l] = Some(self.columns.point(at[l] as usize));
                    }
                }
                continue;
            }
            let mid = (lo + (hi - lo) / 2) as u32;
            let node = &self.nodes[at as usize];
            let mut t = [[0.0f64; PACKET]; 2];
            for h in 0..2 {
                for a in 0..3 {
                    for l in 0..PACKET {
                        let gap = (node.lo[a][h] - qa[a][l])
                            .max(qa[a][l] - node.hi[a][h])
                            .max(0.0);
                        let d = gap * s[a];
                        t[h][l] = if a == 0 { d * d } else { t[h][l] + d * d };
                    }
                }
            }
            let sum = |t: &[f64; PACKET]| t.iter().sum::<f64>();
            let left = (lo as u32, mid, at + 1, t[0]);
            let right = (mid, hi as u32, node.right, t[1]);
            let (near, far) = if sum(&t[0]) <= sum(&t[1]) {
                (left, right)
            } else {
                (right, left)
            };
            if needed(&far.3, &best) {
                stack[top] = far;
                top += 1;
            }
            if needed(&near.3, &best) {
                stack[top] = near;
                top += 1;
            }
        }
        (best, found)
    }
}

/// Orders `points` (within `bounds`) into a tree and returns its internal nodes in preorder:
/// split at the middle along the axis of the largest physical extent; halves in parallel when
/// large.
fn build(points: &mut [[u32; 3]], bounds: Bounds, spacing: &[f64; 3]) -> Vec<Node> {
    if points.len() <= LEAF {
        return Vec::new();
    }
    let extent = |a: usize| (bounds.hi[a] - bounds.lo[a]) as f64 * spacing[a];
    let a = (0..3)
        .max_by(|&x, &y| extent(x).total_cmp(&extent(y)))
        .unwrap_or(0);
    let mid = points.len() / 2;
    points.select_nth_unstable_by_key(mid, |p| p[a]);
    let (left, right) = points.split_at_mut(mid);
    let (lb, rb) = (Bounds::of(left), Bounds::of(right));
    let (l, r) = if left.len() > 1 << 12 {
        rayon::join(|| build(left, lb, spacing), || build(right, rb, spacing))
    } else {
        (build(left, lb, spacing), build(right, rb, spacing))
    };
    let mut nodes = Vec::with_capacity(1 + l.len() + r.len());
    let mut node = Node::new(lb, rb);
    node.right = (1 + l.len()) as u32;
    nodes.push(node);
    // Child indices are relative to the subtree; shift them to the whole array.
    nodes.extend(l.into_iter().map(|mut n| {
        n.right += 1;
        n
    }));
    let base = nodes.len() as u32;
    nodes.extend(r.into_iter().map(|mut n| {
        n.right += base;
        n
    }));
    nodes
}

/// Queries left for the k-d tree per parallel task (in packets, along the curve).
const FAR_RUN: usize = 512;

/// Queries per run of raster-order neighbours.
const RUN: usize = 1024;

/// One query in this many is tried before the others, to tell whether the k-d tree is worth
/// building at once.
const SAMPLE: usize = 64;

/// Queries expected to reach the k-d tree above which it is built before the queries run.
const EAGER_TREE: usize = 1024;

/// Cell shells a query searches before it goes to the k-d tree.
const SHELLS: isize = 2;

/// What the queries of a run search: the cell hash, the k-d tree (built on first use) and the
/// shells' reach.
struct Search<'a, F> {
    ring: &'a Occupancy,
    hash: &'a CellHash,
    tree: &'a F,
    spacing: [f64; 3],
    /// The distance within which the hash's shells find the nearest point.
    reach: f64,
    /// A step this short from a query that waits for the tree leads to another.
    beside: f64,
}

impl<'a, F: Fn() -> &'a KdTree> Search<'a, F> {
    /// [`Search::near`] compiled for AVX2 (the distance blocks 4 lanes wide; no fused
    /// multiply-add, so the values are those of [`dist2`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn near_avx2(&self, first: usize, run: &[[u32; 3]], out: &mut [f64]) -> Vec<(u64, u32, f64)> {
        self.near(first, run, out)
    }

    /// [`Search::far`] compiled for AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn far_avx2(&self, from: &[[u32; 3]], queries: &[(u64, u32, f64)], out: &mut [f64]) {
        self.far(from, queries, out);
    }

    /// The squared distances of a run of raster-order queries (the first at index `first`)
    /// that the bit grid or the cell hash answer, into `out`; the others are returned for the
    /// k-d tree as `(Morton code, index, smallest squared distance the shells saw)`.
    ///
    /// Each query tries the tiers from the first that could answer it, by a guess from its
    /// predecessor (a guess decides the path, never the value): a query beside one left for
    /// the tree goes to the tree at once.
    #[inline(always)]
    fn near(&self, first: usize, run: &[[u32; 3]], out: &mut [f64]) -> Vec<(u64, u32, f64)> {
        let spacing = self.spacing;
        // The previous query and its squared distance (`None`: left for the tree).
        let mut previous: Option<([u32; 3], Option<f64>)> = None;
        let mut left = Vec::new();
        for (i, &q) in run.iter().enumerate() {
            // How far the query is at least, by the triangle inequality from its predecessor's
            // distance; beside a query left for the tree, beyond the shells.
            let least = match previous {
                Some((pq, pd2)) => {
                    let step = dist2(&pq, &q, &spacing).sqrt();
                    match pd2 {
                        Some(pd2) => pd2.sqrt() - step,
                        None if step <= self.beside => f64::INFINITY,
                        None => 0.0,
                    }
                }
                None => 0.0,
            };
            let mut seen = f64::INFINITY;
            if least <= self.ring.reach
                && let Some(d) = self.ring.nearest2(q)
            {
                out[i] = d;
                previous = Some((q, Some(d)));
                continue;
            }
            if least < self.reach {
                let (d, sure) = self.hash.nearest2(q);
                if sure {
                    out[i] = d;
                    previous = Some((q, Some(d)));
                    continue;
                }
                seen = d;
            }
            left.push((morton(&q), (first + i) as u32, seen));
            previous = Some((q, None));
        }
        left
    }

    /// The squared distances of queries of `from` (`(Morton code, index, smallest squared
    /// distance seen)`, along the curve) from the k-d tree, into `out` (one per query), in
    /// packets of [`PACKET`] neighbours that visit mostly the same nodes, each seeded with the
    /// distance seen and the distances to the nearest points of the previous packet.
    #[inline(always)]
    fn far(&self, from: &[[u32; 3]], queries: &[(u64, u32, f64)], out: &mut [f64]) {
        let tree = (self.tree)();
        let mut last_found = [None; PACKET];
        for (packet, out) in queries.chunks(PACKET).zip(out.chunks_mut(PACKET)) {
            let mut q = [[0u32; 3]; PACKET];
            // Lanes without a query: nothing is nearer than 0, so they never ask for a node.
            let mut best = [0.0f64; PACKET];
            for (l, &(_, i, seen)) in packet.iter().enumerate() {
                q[l] = from[i as usize];
                best[l] = seen;
                for p in last_found.iter().flatten() {
                    let d = dist2(p, &q[l], &self.spacing);
                    best[l] = if d < best[l] { d } else { best[l] };
                }
            }
            let (d, found) = tree.nearest2_packet(&q, best);
            for l in 0..packet.len() {
                out[l] = d[l];
                if found[l].is_some() {
                    last_found[l] = found[l];
                }
            }
        }
    }
}

/// The Morton code of a grid point: its coordinates' bits interleaved (21 bits each), so that
/// points sorted by it follow a space-filling curve.
fn morton(p: &[u32; 3]) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut x = u64::from(v) & 0x1f_ffff;
        x = (x | x << 32) & 0x001f_0000_0000_ffff;
        x = (x | x << 16) & 0x001f_0000_ff00_00ff;
        x = (x | x << 8) & 0x100f_00f0_0f00_f00f;
        x = (x | x << 4) & 0x10c3_0c30_c30c_30c3;
        x = (x | x << 2) & 0x1249_2492_4924_9249;
        x
    }
    spread(p[0]) << 2 | spread(p[1]) << 1 | spread(p[2])
}

/// `(distance, weight)` from every point of `from` to the nearest point of `to`, ascending.
///
/// Two passes. First the queries in raster order, in runs of neighbours ([`Search::near`]):
/// the bit grid of `to`, then the cell hash's shells; then the queries they leave open
/// (surfaces far apart) along a space-filling curve, in packets of neighbours through a k-d
/// tree of `to` ([`Search::far`]), built when a sample of the queries shows that it will be
/// needed, else on first use.
pub(crate) fn directed(
    from: &PointSet,
    to: &PointSet,
    dims: [usize; 3],
    spacing: [f64; 3],
) -> Vec<(f64, f64)> {
    let (hash, ring) = rayon::join(
        || CellHash::new(to, dims, spacing),
        || Occupancy::new(to, dims, spacing),
    );
    let cell = std::sync::OnceLock::new();
    let tree = || cell.get_or_init(|| KdTree::new(&to.coords, spacing));
    // The smallest distance the shells can vouch for: a nearest point no nearer than this from
    // the query is found only past them.
    let reach = (0..3)
        .map(|a| (SHELLS as usize * hash.cell[a] + 1) as f64 * spacing[a])
        .fold(f64::INFINITY, f64::min);
    // When a sample of the queries shows that many will need the tree, it is built now, by
    // every thread that is free, rather than by the first query that needs it while the others
    // wait for it.
    let sampled_misses = from
        .coords
        .iter()
        .step_by(SAMPLE)
        .filter(|&&q| ring.nearest2(q).is_none() && !hash.nearest2(q).1)
        .count();
    if sampled_misses * SAMPLE >= EAGER_TREE {
        tree();
    }
    let search = Search {
        ring: &ring,
        hash: &hash,
        tree: &tree,
        spacing,
        reach,
        beside: BESIDE * spacing.iter().copied().fold(f64::INFINITY, f64::min),
    };
    let avx2 = cfg!(target_arch = "x86_64") && std::is_x86_feature_detected!("avx2");
    let mut d2 = vec![0.0f64; from.coords.len()];
    let mut left: Vec<(u64, u32, f64)> = d2
        .par_chunks_mut(RUN)
        .zip(from.coords.par_chunks(RUN))
        .enumerate()
        .flat_map_iter(|(r, (out, run))| {
            #[cfg(target_arch = "x86_64")]
            if avx2 {
                // SAFETY: the CPU supports AVX2 (checked above).
                #[allow(unsafe_code)]
                return unsafe { search.near_avx2(r * RUN, run, out) };
            }
            search.near(r * RUN, run, out)
        })
        .collect();
    if !left.is_empty() {
        // Neighbours in the same packet: along a space-filling curve.
        left.par_sort_unstable_by_key(|&(code, i, _)| (code, i));
        let mut far = vec![0.0f64; left.len()];
        far.par_chunks_mut(FAR_RUN)
            .zip(left.par_chunks(FAR_RUN))
            .for_each(|(out, queries)| {
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: the CPU supports AVX2 (checked above).
                    #[allow(unsafe_code)]
                    return unsafe { search.far_avx2(&from.coords, queries, out) };
                }
                search.far(&from.coords, queries, out);
            });
        for (&(_, i, _), d) in left.iter().zip(far) {
            d2[i as usize] = d;
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

    /// The bit grid answers exactly when the nearest point is within its reach, and only then:
    /// dense and sparse sets, isotropic and anisotropic spacing, 3-D and 2-D (one voxel along
    /// axis 0), queries at the crop's borders.
    #[test]
    fn the_bit_grid_finds_exactly_the_points_within_its_reach() {
        let mut seed = 0x51_7cc1_b727_220au64;
        for spacing in [
            [1.0, 1.0, 1.0],
            [2.5, 0.8, 0.8],
            [0.3, 1.7, 0.9],
            [1.0, 0.5, 0.7],
        ] {
            for (dims, n) in [([20, 18, 16], 60), ([20, 18, 16], 600), ([1, 40, 30], 40)] {
                let to = points(&mut seed, n, [0; 3], dims.map(|d| d as u32));
                let ring = Occupancy::new(&set(to.clone()), dims, spacing);
                for q in points(&mut seed, 400, [0; 3], dims.map(|d| d as u32)) {
                    let want = to
                        .iter()
                        .map(|p| dist2(p, &q, &spacing))
                        .fold(f64::INFINITY, f64::min);
                    match ring.nearest2(q) {
                        Some(d) => assert_eq!(d, want, "{spacing:?} {dims:?} {q:?}"),
                        None => assert!(want > ring.reach * ring.reach, "{spacing:?} {q:?}"),
                    }
                }
            }
        }
    }

    /// Columns hold any `u32` index (shifted into `i32`): points read back as they were, and
    /// block distances equal [`dist2`] on indices beyond 2^31.
    #[test]
    fn columns_hold_every_u32_index() {
        let pts = [
            [0, 5, u32::MAX],
            [3_000_000_000, 1 << 31, 7],
            [(1 << 31) - 1, 2, 9],
        ];
        let cols = Columns::of(&pts);
        let spacing = [0.5, 1.0, 2.0];
        for (i, p) in pts.iter().enumerate() {
            assert_eq!(cols.point(i), *p);
        }
        for q in [
            [0u32, 0, 0],
            [3_000_000_001, 1 << 31, 8],
            [u32::MAX, 4, u32::MAX - 2],
        ] {
            let want = pts
                .iter()
                .map(|p| dist2(p, &q, &spacing))
                .fold(f64::INFINITY, f64::min);
            let got = cols.min2(0, 3, &q.map(Columns::shifted), &spacing, f64::INFINITY);
            assert_eq!(got, want, "{q:?}");
        }
    }

    /// The dilation of a cell mask is, cell by cell, "a marked cell within `r` along every
    /// axis" (brute force), for flat and thin grids.
    #[test]
    fn dilation_is_the_cube_around_each_cell() {
        let mut seed = 77u64;
        for n in [[5, 6, 7], [1, 9, 4], [3, 1, 1], [8, 8, 8]] {
            for r in 0..3 {
                let len = n[0] * n[1] * n[2];
                let mask: Vec<u8> = points(&mut seed, len, [0; 3], [5, 1, 1])
                    .iter()
                    .map(|p| u8::from(p[0] == 0))
                    .collect();
                let got = dilate(mask.clone(), n, r);
                for i in 0..n[0] {
                    for j in 0..n[1] {
                        for k in 0..n[2] {
                            let c = [i, j, k];
                            let mut want = 0;
                            for (x, &m) in mask.iter().enumerate() {
                                let d = [x / (n[1] * n[2]), x / n[2] % n[1], x % n[2]];
                                if (0..3).all(|a| d[a].abs_diff(c[a]) <= r) {
                                    want |= m;
                                }
                            }
                            assert_eq!(got[(i * n[1] + j) * n[2] + k], want, "{n:?} {r} {c:?}");
                        }
                    }
                }
            }
        }
    }

    /// Packets of queries near and far, with idle lanes and reached seeds: each lane gets
    /// the brute-force value, and a found point at that distance.
    #[test]
    fn the_tree_alone_matches_brute_force() {
        let mut seed = 12345u64;
        let spacing = [0.7, 1.3, 2.5];
        let to = points(&mut seed, 5000, [0, 0, 0], [200, 150, 90]);
        let tree = KdTree::new(&to, spacing);
        // 498: the last packet has idle lanes.
        let qs = points(&mut seed, 498, [0, 0, 0], [260, 200, 120]);
        let brute = |q: &[u32; 3]| {
            to.iter()
                .map(|p| dist2(p, q, &spacing))
                .fold(f64::INFINITY, f64::min)
        };
        for (n, packet) in qs.chunks(PACKET).enumerate() {
            let mut q = [[0u32; 3]; PACKET];
            let mut best = [0.0; PACKET];
            for (l, p) in packet.iter().enumerate() {
                q[l] = *p;
                // Every third packet seeded with the answer itself (nothing nearer to find).
                best[l] = if n % 3 == 0 { brute(p) } else { f64::INFINITY };
            }
            let (d, found) = tree.nearest2_packet(&q, best);
            for (l, p) in packet.iter().enumerate() {
                assert_eq!(d[l], brute(p));
                if let Some(f) = found[l] {
                    assert_eq!(dist2(&f, p, &spacing), d[l]);
                    assert!(to.contains(&f));
                } else {
                    assert_eq!(n % 3, 0);
                }
            }
        }
    }
}
