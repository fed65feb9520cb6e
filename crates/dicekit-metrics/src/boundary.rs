//! Boundary voxels of every label of a label map in one pass, read from the map itself (no
//! per-label mask): what [`voxel_points`](crate::surface_points::voxel_points) finds in the
//! padded crop of each label, in the same (row-major) order.
use rayon::prelude::*;

use crate::counts::LabelBins;
use crate::label::{Label, all_zero};

/// The geometry of a map seen as 3-D: a 2-D map `[H, W]` is `[1, H, W]` whose first axis is
/// not real (no neighbours along it, no image border across it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid3 {
    pub dims: [usize; 3],
    pub real0: bool,
}

impl Grid3 {
    pub(crate) fn of(shape: &[usize]) -> Self {
        match *shape {
            [h, w] => Grid3 {
                dims: [1, h, w],
                real0: false,
            },
            [d, h, w] => Grid3 {
                dims: [d, h, w],
                real0: true,
            },
            _ => Grid3 {
                dims: [0, 0, 0],
                real0: true,
            },
        }
    }
}

/// Boundary voxels of each of `labels` (distinct) in `map` (row-major over `grid`), as
/// `[i, j, k]` grid indices in row-major order, one list per label.
///
/// `fully_connected == false` (voxel faces): a voxel of the label with one of its 4 (2-D) or
/// 6 (3-D) face neighbours outside the label or outside the image. `true`: one of its 8 / 26
/// neighbours inside the image is outside the label (the image border is not a boundary).
pub(crate) fn boundary_points<T: Label>(
    map: &[T],
    grid: Grid3,
    labels: &[u32],
    fully_connected: bool,
) -> Vec<Vec<[u32; 3]>> {
    let nb = labels.len();
    let bins = LabelBins::new(labels);
    let zero_asked = bins.of(0) < nb;
    let [d0, d1, d2] = grid.dims;
    let rows = d0 * d1;
    if rows == 0 || d2 == 0 || nb == 0 {
        return vec![Vec::new(); nb];
    }
    let per_task = rows.div_ceil(64).max(1);
    let row = |i: usize, j: usize| &map[(i * d1 + j) * d2..(i * d1 + j + 1) * d2];
    let parts: Vec<Vec<Vec<[u32; 3]>>> = (0..rows.div_ceil(per_task))
        .into_par_iter()
        .map(|task| {
            let mut out: Vec<Vec<[u32; 3]>> = vec![Vec::new(); nb];
            let mut around: Vec<&[T]> = Vec::with_capacity(8);
            let mut mask = vec![0u8; d2];
            for r in task * per_task..((task + 1) * per_task).min(rows) {
                let (i, j) = (r / d1, r % d1);
                let here = row(i, j);
                if !zero_asked && all_zero(here) {
                    continue;
                }
                // Neighbour rows inside the image: the face neighbours (2-D: along axis 1
                // only), or every row of the 3x3 (3-D) / 1x3 (2-D) block.
                let at = |di: isize, dj: isize| -> Option<&[T]> {
                    let (ii, jj) = (i as isize + di, j as isize + dj);
                    (ii >= 0 && ii < d0 as isize && jj >= 0 && jj < d1 as isize)
                        .then(|| row(ii as usize, jj as usize))
                };
                around.clear();
                // A face neighbour outside the image (faces only).
                let mut outside = false;
                if fully_connected {
                    let di: &[isize] = if grid.real0 { &[-1, 0, 1] } else { &[0] };
                    for &a in di {
                        for b in [-1isize, 0, 1] {
                            if (a, b) != (0, 0)
                                && let Some(n) = at(a, b)
                            {
                                around.push(n);
                            }
                        }
                    }
                } else {
                    let faces: &[(isize, isize)] = if grid.real0 {
                        &[(-1, 0), (1, 0), (0, -1), (0, 1)]
                    } else {
                        &[(0, -1), (0, 1)]
                    };
                    for &(a, b) in faces {
                        match at(a, b) {
                            Some(n) => around.push(n),
                            None => outside = true,
                        }
                    }
                }
                edge_mask(
                    here,
                    &around,
                    fully_connected,
                    outside,
                    zero_asked,
                    &mut mask,
                );
                let mut last = (T::ZERO, usize::MAX);
                // The marked voxels, eight mask bytes at a time.
                for (w, word) in mask.chunks(8).enumerate() {
                    let mut bytes = [0u8; 8];
                    bytes[..word.len()].copy_from_slice(word);
                    let mut bits = u64::from_le_bytes(bytes);
                    while bits != 0 {
                        let o = bits.trailing_zeros() as usize / 8;
                        bits &= !(0xff << (8 * o));
                        let k = w * 8 + o;
                        let v = here[k];
                        let b = if v == last.0 && last.1 != usize::MAX {
                            last.1
                        } else {
                            let b = bins.of(v.to_u32());
                            last = (v, b);
                            b
                        };
                        if b < nb {
                            out[b].push([i as u32, j as u32, k as u32]);
                        }
                    }
                }
            }
            out
        })
        .collect();
    let mut merged: Vec<Vec<[u32; 3]>> = (0..nb)
        .map(|b| Vec::with_capacity(parts.iter().map(|p| p[b].len()).sum()))
        .collect();
    for part in parts {
        for (m, p) in merged.iter_mut().zip(part) {
            m.extend(p);
        }
    }
    merged
}

/// Marks in `mask` (1 / 0) the voxels of `here` that lie on a boundary: a neighbour along the
/// row, or in one of the rows `around` (faces: the same column; fully connected: the columns
/// beside it too), holds another value; with faces, the ends of the row and, when a face
/// neighbour row is `outside` the image, every voxel. Background voxels are left unmarked unless
/// `zero_asked`. Branch-free loops over the row's interior (the compiler vectorises them).
fn edge_mask<T: Label>(
    here: &[T],
    around: &[&[T]],
    fully_connected: bool,
    outside: bool,
    zero_asked: bool,
    mask: &mut [u8],
) {
    let n = here.len();
    let keep = |v: T| u8::from(zero_asked || v != T::ZERO);
    if outside || (n <= 2 && !fully_connected) {
        for (m, &v) in mask.iter_mut().zip(here) {
            *m = keep(v);
        }
        return;
    }
    // Fully connected: a voxel `k` against columns `k - 1 ..= k + 1` (clamped) of its row and
    // of every row around, one at a time (a row of at most 2 voxels, and the row's ends).
    let scalar = |k: usize| -> u8 {
        let v = here[k];
        let (lo, hi) = (k.saturating_sub(1), (k + 1).min(n - 1));
        let diff = here[lo] != v
            || here[hi] != v
            || around.iter().any(|r| r[lo] != v || r[k] != v || r[hi] != v);
        u8::from(diff) & keep(v)
    };
    if n <= 2 {
        for k in 0..n {
            mask[k] = scalar(k);
        }
        return;
    }
    // Interior: along the row, then each neighbour row OR-ed in (zipped slices: no bounds
    // checks in the loops).
    {
        let (l, c, r) = (&here[..n - 2], &here[1..n - 1], &here[2..]);
        let m = &mut mask[1..n - 1];
        for (m, ((&l, &v), &r)) in m.iter_mut().zip(l.iter().zip(c).zip(r)) {
            *m = u8::from((l != v) | (r != v));
        }
        for row in around {
            let (l, mid, r) = (&row[..n - 2], &row[1..n - 1], &row[2..]);
            if fully_connected {
                for (m, (((&l, &x), &r), &v)) in m.iter_mut().zip(l.iter().zip(mid).zip(r).zip(c)) {
                    *m |= u8::from((l != v) | (x != v) | (r != v));
                }
            } else {
                for (m, (&x, &v)) in m.iter_mut().zip(mid.iter().zip(c)) {
                    *m |= u8::from(x != v);
                }
            }
        }
        if !zero_asked {
            for (m, &v) in m.iter_mut().zip(c) {
                *m &= u8::from(v != T::ZERO);
            }
        }
    }
    for k in [0, n - 1] {
        mask[k] = if fully_connected {
            scalar(k)
        } else {
            // The ends of the row are on the image border along it.
            keep(here[k])
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Boundary;
    use crate::scan::pair_extents;
    use crate::surface_points::{Padded, voxel_points};
    use ndarray::{ArrayD, IxDyn};

    /// The one-pass boundary of every label is, label by label, what the padded crop of the
    /// label's union box gives (in crop coordinates and the same order): 2-D and 3-D, both
    /// boundaries, labels touching the image border, background asked for.
    #[test]
    fn one_pass_matches_the_padded_crop_of_each_label() {
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let shapes: [&[usize]; 5] = [&[7, 9, 11], &[1, 6, 5], &[12, 13], &[3, 1, 8], &[1, 1]];
        for shape in shapes {
            for round in 0..6 {
                let n: usize = shape.iter().product();
                // Blocky labels (runs) with noise, so that there are interiors.
                let mut data = Vec::with_capacity(n);
                let mut v = 0u8;
                for _ in 0..n {
                    if next(4) == 0 {
                        v = next(4) as u8;
                    }
                    data.push(v);
                }
                if round == 5 {
                    data.iter_mut().for_each(|x| *x = 2);
                }
                let map = ArrayD::from_shape_vec(IxDyn(shape), data).unwrap();
                let flat = map.as_slice().unwrap();
                let labels = [0u32, 1, 2, 3, 9];
                let extents = pair_extents(flat, flat, shape, &labels);
                for boundary in [Boundary::Faces, Boundary::FullyConnected] {
                    let fc = boundary == Boundary::FullyConnected;
                    let all = boundary_points(flat, Grid3::of(shape), &labels, fc);
                    for ((&l, e), got) in labels.iter().zip(&extents).zip(&all) {
                        if e.pred_voxels == 0 {
                            assert!(got.is_empty());
                            continue;
                        }
                        let m = Padded::new(&map.view(), |x: u8| u32::from(x) == l, &e.bbox, fc);
                        let want = voxel_points(&m, boundary).coords;
                        let nd = shape.len();
                        let lo: Vec<u32> = (0..3)
                            .map(|g| {
                                if g < 3 - nd {
                                    0
                                } else {
                                    e.bbox[g - (3 - nd)].0 as u32
                                }
                            })
                            .collect();
                        let got: Vec<[u32; 3]> = got
                            .iter()
                            .map(|c| [c[0] - lo[0], c[1] - lo[1], c[2] - lo[2]])
                            .collect();
                        assert_eq!(got, want, "{shape:?} label {l} {boundary:?} round {round}");
                    }
                }
            }
        }
    }
}
