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
