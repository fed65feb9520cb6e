//! Whole-map passes over a pair of label maps in row-major order: the labels present, and per
//! label the voxel counts and the union bounding box, each in one parallel pass that skips
//! background rows in vectorised blocks.
use std::borrow::Cow;

use ndarray::ArrayViewD;
use rayon::prelude::*;

use crate::counts::LabelBins;
use crate::label::{Label, all_zero};

/// A pair of maps as they lie in memory: row-major over `shape`, which is the maps' shape, or
/// its reverse when `reversed` (both maps column-major, as a NIfTI file stores its voxels: no
/// copy is needed to scan them). Maps in any other layout are copied in row-major order.
pub(crate) struct Memory<'a, T: Clone> {
    pub pred: Cow<'a, [T]>,
    pub truth: Cow<'a, [T]>,
    /// The shape of the memory order (row-major).
    pub shape: Vec<usize>,
    /// Memory axis `a` is map axis `ndim - 1 - a`.
    pub reversed: bool,
}

impl<'a, T: Clone> Memory<'a, T> {
    pub(crate) fn of(pred: &'a ArrayViewD<'_, T>, truth: &'a ArrayViewD<'_, T>) -> Self {
        if let (Some(p), Some(t)) = (pred.as_slice(), truth.as_slice()) {
            return Memory {
                pred: Cow::Borrowed(p),
                truth: Cow::Borrowed(t),
                shape: pred.shape().to_vec(),
                reversed: false,
            };
        }
        let (pr, tr) = (pred.view().reversed_axes(), truth.view().reversed_axes());
        if let (Some(p), Some(t)) = (pr.to_slice(), tr.to_slice()) {
            return Memory {
                pred: Cow::Borrowed(p),
                truth: Cow::Borrowed(t),
                shape: pr.shape().to_vec(),
                reversed: true,
            };
        }
        Memory {
            pred: Cow::Owned(pred.iter().cloned().collect()),
            truth: Cow::Owned(truth.iter().cloned().collect()),
            shape: pred.shape().to_vec(),
            reversed: false,
        }
    }

    /// `e`'s box along the maps' axes (it was found along the memory axes).
    pub(crate) fn map_box(&self, e: &PairExtent) -> Vec<(usize, usize)> {
        let mut b = e.bbox.clone();
        if self.reversed {
            b.reverse();
        }
        b
    }
}

/// Voxel counts and the union bounding box of one label (or mask) in a pair.
#[derive(Debug, Clone)]
pub(crate) struct PairExtent {
    pub pred_voxels: u64,
    pub truth_voxels: u64,
    /// Voxels with the label in both maps.
    pub both_voxels: u64,
    /// Inclusive `(first, last)` index per axis; `(usize::MAX, 0)` when absent from both.
    pub bbox: Vec<(usize, usize)>,
}

impl PairExtent {
    fn empty(nd: usize) -> Self {
        PairExtent {
            pred_voxels: 0,
            truth_voxels: 0,
            both_voxels: 0,
            bbox: vec![(usize::MAX, 0); nd],
        }
    }

    /// Widens the box to row `row` (an index over every axis but the last), columns
    /// `first..=last`.
    fn add_row(&mut self, shape: &[usize], row: usize, first: usize, last: usize) {
        let nd = shape.len();
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

    fn merge(&mut self, o: &PairExtent) {
        self.pred_voxels += o.pred_voxels;
        self.truth_voxels += o.truth_voxels;
        self.both_voxels += o.both_voxels;
        for (x, y) in self.bbox.iter_mut().zip(&o.bbox) {
            x.0 = x.0.min(y.0);
            x.1 = x.1.max(y.1);
        }
    }
}

/// Rows (runs along the last axis) per parallel task: about 64 tasks, fewer when each task
/// holds much per label.
fn rows_per_task(rows: usize, labels: usize) -> usize {
    let tasks = ((1usize << 20) / labels.max(1)).clamp(1, 64);
    rows.div_ceil(tasks).max(1)
}

/// The labels other than 0 found in either map, ascending.
pub(crate) fn labels_present<T: Label>(pred: &[T], truth: &[T]) -> Vec<u32> {
    use std::collections::BTreeSet;
    const CHUNK: usize = 1 << 16;
    let scan = |s: &[T]| -> BTreeSet<u32> {
        let mut seen = BTreeSet::new();
        let mut last = T::ZERO;
        for block in s.chunks(32) {
            if all_zero(block) {
                continue;
            }
            for &v in block {
                if v != T::ZERO && v != last {
                    seen.insert(v.to_u32());
                    last = v;
                }
            }
        }
        seen
    };
    let merge = |mut a: BTreeSet<u32>, b: BTreeSet<u32>| {
        a.extend(b);
        a
    };
    let seen = pred
        .par_chunks(CHUNK)
        .chain(truth.par_chunks(CHUNK))
        .map(scan)
        .reduce(BTreeSet::new, merge);
    seen.into_iter().collect()
}

/// Counts and union bounding box of each of `labels` in one pass over both maps (row-major,
/// of `shape`), rows in parallel. A label asked twice gets the same extent at both positions.
pub(crate) fn pair_extents<T: Label>(
    pred: &[T],
    truth: &[T],
    shape: &[usize],
    labels: &[u32],
) -> Vec<PairExtent> {
    let nd = shape.len();
    let nb = labels.len();
    let bins = LabelBins::new(labels);
    // Background is skipped unless it is asked for.
    let zero_asked = bins.of(0) < nb;
    let inner = shape.last().copied().unwrap_or(1).max(1);
    let rows = pred.len() / inner;
    let per_task = rows_per_task(rows, nb);
    let chunk = inner * per_task;
    // Up to four distinct labels other than background, each as a value of the map's type
    // (`(position, value)`; a label the type cannot hold has no voxel): counted label by
    // label. Rows of at most 2^32 voxels (the per-row counts are u32).
    let few: Option<Vec<(usize, T)>> = {
        let distinct: Vec<usize> = (0..nb).filter(|&i| bins.of(labels[i]) == i).collect();
        (!zero_asked && distinct.len() <= 4 && inner <= u32::MAX as usize).then(|| {
            distinct
                .into_iter()
                .filter_map(|i| T::from_u32(labels[i]).map(|v| (i, v)))
                .collect()
        })
    };
    let mut extents = pred
        .par_chunks(chunk)
        .zip(truth.par_chunks(chunk))
        .enumerate()
        .map(|(task, (pc, tc))| {
            let mut out: Vec<PairExtent> = (0..nb).map(|_| PairExtent::empty(nd)).collect();
            let mut first = vec![usize::MAX; nb];
            let mut last = vec![0usize; nb];
            let mut touched: Vec<usize> = Vec::new();
            for (r, (pr, tr)) in pc.chunks(inner).zip(tc.chunks(inner)).enumerate() {
                if !zero_asked && all_zero(pr) && all_zero(tr) {
                    continue;
                }
                if let Some(few) = &few {
                    // Few labels: each counted over the row by branch-free (vectorised) loops.
                    let row = task * per_task + r;
                    for &(b, v) in few {
                        let (mut cp, mut ct, mut cb) = (0u32, 0u32, 0u32);
                        for (&x, &y) in pr.iter().zip(tr) {
                            let (ex, ey) = (u32::from(x == v), u32::from(y == v));
                            cp += ex;
                            ct += ey;
                            cb += ex & ey;
                        }
                        if cp + ct == 0 {
                            continue;
                        }
                        let hit = |k: usize| pr[k] == v || tr[k] == v;
                        let first = (0..inner).find(|&k| hit(k)).unwrap_or(0);
                        let last = (0..inner).rev().find(|&k| hit(k)).unwrap_or(0);
                        let e = &mut out[b];
                        e.pred_voxels += u64::from(cp);
                        e.truth_voxels += u64::from(ct);
                        e.both_voxels += u64::from(cb);
                        e.add_row(shape, row, first, last);
                    }
                    continue;
                }
                let mut touch = |b: usize, k: usize| {
                    if first[b] == usize::MAX {
                        first[b] = k;
                        touched.push(b);
                    }
                    last[b] = k;
                };
                for (k, (&a, &b)) in pr.iter().zip(tr).enumerate() {
                    if !zero_asked && a == T::ZERO && b == T::ZERO {
                        continue;
                    }
                    let ba = bins.of(a.to_u32());
                    if a == b {
                        if ba < nb {
                            let e = &mut out[ba];
                            e.pred_voxels += 1;
                            e.truth_voxels += 1;
                            e.both_voxels += 1;
                            touch(ba, k);
                        }
                        continue;
                    }
                    if ba < nb {
                        out[ba].pred_voxels += 1;
                        touch(ba, k);
                    }
                    let bb = bins.of(b.to_u32());
                    if bb < nb {
                        out[bb].truth_voxels += 1;
                        touch(bb, k);
                    }
                }
                let row = task * per_task + r;
                for &b in &touched {
                    out[b].add_row(shape, row, first[b], last[b]);
                    first[b] = usize::MAX;
                }
                touched.clear();
            }
            out
        })
        .reduce(
            || (0..nb).map(|_| PairExtent::empty(nd)).collect(),
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    x.merge(y);
                }
                a
            },
        );
    // A label asked twice was counted at its first position.
    for (i, &l) in labels.iter().enumerate() {
        let first = bins.of(l);
        if first != i {
            extents[i] = extents[first].clone();
        }
    }
    extents
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts and boxes of every asked label against brute force: few labels (the per-label
    /// path) and many, duplicates, background asked, a label the type cannot hold, 1-D to 3-D.
    #[test]
    fn pair_extents_are_the_brute_force_counts_and_boxes() {
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let label_sets: [&[u32]; 6] = [
            &[1],
            &[2, 1],
            &[1, 1, 3],
            &[0, 2],
            &[1, 2, 3, 4, 5],
            &[300, 2],
        ];
        for shape in [vec![37], vec![5, 9], vec![4, 3, 11], vec![2, 1, 70]] {
            let n: usize = shape.iter().product();
            for _ in 0..4 {
                let pred: Vec<u8> = (0..n)
                    .map(|_| if next(3) == 0 { next(6) as u8 } else { 0 })
                    .collect();
                let truth: Vec<u8> = (0..n)
                    .map(|_| if next(3) == 0 { next(6) as u8 } else { 0 })
                    .collect();
                for labels in label_sets {
                    let got = pair_extents(&pred, &truth, &shape, labels);
                    for (e, &l) in got.iter().zip(labels) {
                        let (mut p, mut t, mut b) = (0, 0, 0);
                        let mut bbox = vec![(usize::MAX, 0usize); shape.len()];
                        for x in 0..n {
                            let (a, c) = (u32::from(pred[x]) == l, u32::from(truth[x]) == l);
                            p += u64::from(a);
                            t += u64::from(c);
                            b += u64::from(a && c);
                            if a || c {
                                let mut rest = x;
                                for ax in (0..shape.len()).rev() {
                                    let i = rest % shape[ax];
                                    rest /= shape[ax];
                                    bbox[ax] = (bbox[ax].0.min(i), bbox[ax].1.max(i));
                                }
                            }
                        }
                        assert_eq!(
                            (e.pred_voxels, e.truth_voxels, e.both_voxels),
                            (p, t, b),
                            "{shape:?} {labels:?} {l}"
                        );
                        assert_eq!(e.bbox, bbox, "{shape:?} {labels:?} {l}");
                    }
                }
            }
        }
    }
}
