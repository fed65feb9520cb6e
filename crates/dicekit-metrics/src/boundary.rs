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
            for r in task * per_task..((task + 1) * per_task).min(rows) {
                let (i, j) = (r / d1, r % d1);
                let here = row(i, j);
                if !zero_asked && all_zero(here) {
                    continue;
                }
                // Neighbour rows: face neighbours (None: outside the image), or every row of
                // the 3x3 (3-D) / 1x3 (2-D) block inside the image.
                let di: &[isize] = if grid.real0 { &[-1, 0, 1] } else { &[0] };
                let at = |di: isize, dj: isize| -> Option<&[T]> {
                    let (ii, jj) = (i as isize + di, j as isize + dj);
                    (ii >= 0 && ii < d0 as isize && jj >= 0 && jj < d1 as isize)
                        .then(|| row(ii as usize, jj as usize))
                };
                let faces = [
                    if grid.real0 { at(-1, 0) } else { Some(here) },
                    if grid.real0 { at(1, 0) } else { Some(here) },
                    at(0, -1),
                    at(0, 1),
                ];
                if fully_connected {
                    around.clear();
                    for &a in di {
                        for b in [-1isize, 0, 1] {
                            if (a, b) != (0, 0)
                                && let Some(n) = at(a, b)
                            {
                                around.push(n);
                            }
                        }
                    }
                }
                let mut last = (T::ZERO, usize::MAX);
                for (k, &v) in here.iter().enumerate() {
                    if !zero_asked && v == T::ZERO {
                        continue;
                    }
                    let b = if v == last.0 && last.1 != usize::MAX {
                        last.1
                    } else {
                        let b = bins.of(v.to_u32());
                        last = (v, b);
                        b
                    };
                    if b >= nb {
                        continue;
                    }
                    let lo = k.saturating_sub(1);
                    let hi = (k + 1).min(d2 - 1);
                    let edge = if fully_connected {
                        here[lo] != v
                            || here[hi] != v
                            || around.iter().any(|n| n[lo] != v || n[k] != v || n[hi] != v)
                    } else {
                        k == 0
                            || k + 1 == d2
                            || here[k - 1] != v
                            || here[k + 1] != v
                            || faces.iter().any(|n| n.is_none_or(|n| n[k] != v))
                    };
                    if edge {
                        out[b].push([i as u32, j as u32, k as u32]);
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
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
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
