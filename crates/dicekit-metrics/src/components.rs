//! Connected components of binary masks and label maps in 2D and 3D, and the per-instance
//! summary of instance maps: the lesions of lesion-wise evaluation.
//!
//! Two voxels of the same class (the same non-zero label, or both in a binary mask) belong to
//! one component when a path of voxels of that class joins them, each step going to a neighbour
//! under the chosen [`Connectivity`]. Labelling is two-pass union-find, run in parallel over
//! slabs of the outermost memory axis; the equivalences across slab boundaries are merged
//! afterwards. Nothing recurses, so a component may have any size.
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::MetricError;

/// Which voxels are neighbours. Two voxels `a != b` are neighbours when every coordinate
/// differs by at most 1 and at most `k` coordinates differ, with `k` given below. The
/// relation does not depend on the axis order, so a transposed array has the same components.
///
/// There is no single default: scipy `ndimage.label` (and so panoptica in 2D) uses faces
/// ([`Connectivity::faces`]: 4 / 6); cc3d uses 26 in 3D ([`Connectivity::full`]), and
/// panoptica's 3D instances come from cc3d's default. The BraTS 2023 lesion-wise script uses 26.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// 2D, `k = 1`: the 4 pixels sharing an edge (scipy `ndimage.label` default, cc3d
    /// `connectivity=4`).
    Four,
    /// 2D, `k = 2`: the 8 pixels sharing an edge or a corner (cc3d `connectivity=8`, scipy with
    /// a 3x3 structure of ones).
    Eight,
    /// 3D, `k = 1`: the 6 voxels sharing a face (scipy `ndimage.label` default, cc3d
    /// `connectivity=6`).
    Six,
    /// 3D, `k = 2`: the 18 voxels sharing a face or an edge (cc3d `connectivity=18`).
    Eighteen,
    /// 3D, `k = 3`: the 26 voxels sharing a face, an edge or a corner (cc3d default,
    /// `connectivity=26`; panoptica's 3D instances; BraTS 2023).
    TwentySix,
}

impl Connectivity {
    /// Every connectivity, 2D first.
    pub const ALL: [Connectivity; 5] = [
        Connectivity::Four,
        Connectivity::Eight,
        Connectivity::Six,
        Connectivity::Eighteen,
        Connectivity::TwentySix,
    ];

    /// The number of neighbours of an inner voxel: 4, 8, 6, 18 or 26 (cc3d's `connectivity`).
    pub const fn neighbours(self) -> usize {
        match self {
            Connectivity::Four => 4,
            Connectivity::Eight => 8,
            Connectivity::Six => 6,
            Connectivity::Eighteen => 18,
            Connectivity::TwentySix => 26,
        }
    }

    /// The connectivity with that many neighbours (cc3d's `connectivity` argument).
    pub const fn from_neighbours(n: usize) -> Option<Connectivity> {
        match n {
            4 => Some(Connectivity::Four),
            8 => Some(Connectivity::Eight),
            6 => Some(Connectivity::Six),
            18 => Some(Connectivity::Eighteen),
            26 => Some(Connectivity::TwentySix),
            _ => None,
        }
    }

    /// The number of axes it is defined for: 2 or 3.
    pub const fn ndim(self) -> usize {
        match self {
            Connectivity::Four | Connectivity::Eight => 2,
            Connectivity::Six | Connectivity::Eighteen | Connectivity::TwentySix => 3,
        }
    }

    /// `k`: the most coordinates in which two neighbours may differ.
    pub const fn max_differing_axes(self) -> usize {
        match self {
            Connectivity::Four | Connectivity::Six => 1,
            Connectivity::Eight | Connectivity::Eighteen => 2,
            Connectivity::TwentySix => 3,
        }
    }

    /// Face neighbours, 4 in 2D and 6 in 3D: scipy `ndimage.label`'s default structure.
    pub const fn faces(ndim: usize) -> Option<Connectivity> {
        match ndim {
            2 => Some(Connectivity::Four),
            3 => Some(Connectivity::Six),
            _ => None,
        }
    }

    /// All neighbours, 8 in 2D and 26 in 3D: cc3d's default in 3D.
    pub const fn full(ndim: usize) -> Option<Connectivity> {
        match ndim {
            2 => Some(Connectivity::Eight),
            3 => Some(Connectivity::TwentySix),
            _ => None,
        }
    }

    /// The neighbour offsets that come before a voxel in row-major order (first non-zero
    /// coordinate -1): half of the neighbourhood, the half a raster scan has already visited.
    fn backward_offsets(self) -> Vec<Vec<isize>> {
        let nd = self.ndim();
        let mut out = Vec::new();
        for code in 0..3usize.pow(nd as u32) {
            let mut d = vec![0isize; nd];
            let mut c = code;
            for k in (0..nd).rev() {
                d[k] = (c % 3) as isize - 1;
                c /= 3;
            }
            let differing = d.iter().filter(|&&x| x != 0).count();
            let first = d.iter().find(|&&x| x != 0).copied();
            if differing >= 1 && differing <= self.max_differing_axes() && first == Some(-1) {
                out.push(d);
            }
        }
        out
    }
}

/// The order in which components are numbered: by their first voxel in this scan order.
///
/// In a row-major scan the last axis varies fastest, in a column-major scan the first. cc3d
/// numbers by first voxel in the memory order of the array it is given; nibabel returns
/// NIfTI data Fortran-ordered, so cc3d's ids on a NIfTI array are [`ScanOrder::ColumnMajor`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanOrder {
    /// Last axis fastest (C order; scipy `ndimage.label`, cc3d on a C-ordered array).
    #[default]
    RowMajor,
    /// First axis fastest (Fortran order; cc3d on a nibabel array).
    ColumnMajor,
}

/// The smallest box holding a component: per axis, the first and last index (both inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Smallest index per axis.
    pub min: Vec<usize>,
    /// Largest index per axis (inclusive).
    pub max: Vec<usize>,
}

impl BoundingBox {
    /// Extent per axis, `max - min + 1`.
    pub fn shape(&self) -> Vec<usize> {
        self.min
            .iter()
            .zip(&self.max)
            .map(|(a, b)| b - a + 1)
            .collect()
    }

    /// The box grown by `margin` voxels on every side and clipped to an array of `shape`:
    /// per axis the half-open range `start..end`, ready for `slice`.
    pub fn ranges(&self, margin: usize, shape: &[usize]) -> Vec<std::ops::Range<usize>> {
        self.min
            .iter()
            .zip(&self.max)
            .zip(shape)
            .map(|((&a, &b), &n)| a.saturating_sub(margin)..(b + 1 + margin).min(n))
            .collect()
    }
}

/// One connected component (or one instance of an instance map).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Component {
    /// Its id: the value its voxels hold in [`Components::ids`] (1..=n), or for an instance
    /// map the instance id as given.
    pub id: u32,
    /// The class of its voxels: the label of a label map, 1 for a binary mask, the instance id
    /// for an instance map.
    pub label: u32,
    /// Number of voxels.
    pub voxels: u64,
    /// Its bounding box.
    pub bbox: BoundingBox,
    /// Its first voxel in the [`ScanOrder`] it was numbered by.
    pub first: Vec<usize>,
}

/// The connected components of a mask or label map.
#[derive(Debug, Clone, PartialEq)]
pub struct Components {
    /// The component id of every voxel, 0 for background, 1..=n otherwise; same shape and
    /// the same memory order as the input.
    pub ids: ArrayD<u32>,
    /// The components, in id order: `components[i].id == i + 1`.
    pub components: Vec<Component>,
}

impl Components {
    /// The number of components.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// Whether there is no component (the input is all background).
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// Voxel counts in id order.
    pub fn sizes(&self) -> Vec<u64> {
        self.components.iter().map(|c| c.voxels).collect()
    }

    /// The components of one label.
    pub fn of_label(&self, label: u32) -> impl Iterator<Item = &Component> {
        self.components.iter().filter(move |c| c.label == label)
    }
}

/// Connected components of a binary mask or of a label map: voxels of the same non-zero value
/// that are connected form one component (cc3d's multi-label rule), so a label map gives the
/// components of every label at once, each with its [`Component::label`]; a `bool` mask gives
/// those of its `true` voxels. Components are numbered 1..=n by their first voxel in `order`.
///
/// Any memory layout is accepted (C, Fortran, or strided views); the scan follows the memory
/// order, and [`Components::ids`] has the input's memory order.
///
/// # Examples
///
/// ```
/// use dicekit_metrics::{Connectivity, ScanOrder, connected_components};
/// use ndarray::array;
///
/// let map = array![[1u8, 0, 0], [0, 1, 2], [0, 2, 2]].into_dyn();
/// let four = connected_components(&map.view(), Connectivity::Four, ScanOrder::RowMajor)?;
/// assert_eq!(four.len(), 3); // the diagonal pair of 1s is two components
/// let eight = connected_components(&map.view(), Connectivity::Eight, ScanOrder::RowMajor)?;
/// assert_eq!(eight.sizes(), vec![2, 3]);
/// assert_eq!(eight.components[1].label, 2);
/// assert_eq!(eight.components[1].bbox.min, vec![1, 1]);
/// assert_eq!(eight.components[1].bbox.ranges(1, map.shape()), vec![0..3, 0..3]);
/// assert_eq!(eight.ids, array![[1, 0, 0], [0, 1, 2], [0, 2, 2]].into_dyn());
/// # Ok::<(), dicekit_metrics::MetricError>(())
/// ```
///
/// # Errors
/// A rank other than 2 or 3, a connectivity of the other rank, or more than `u32::MAX`
/// provisional labels.
pub fn connected_components<T>(
    map: &ArrayViewD<T>,
    connectivity: Connectivity,
    order: ScanOrder,
) -> Result<Components, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    label_with(map, connectivity, order, |v: T| v.into())
}

/// Connected components of the voxels of one label of a label map (the binary mask
/// `map == label`), numbered 1..=n by first voxel in `order`; [`Component::label`] is `label`.
///
/// # Errors
/// As [`connected_components`]; `label` 0 (background) is refused.
pub fn label_components<T>(
    map: &ArrayViewD<T>,
    label: u32,
    connectivity: Connectivity,
    order: ScanOrder,
) -> Result<Components, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    if label == 0 {
        return Err(MetricError::BadParameter {
            name: "label",
            value: "0".into(),
            expected: "a foreground label (> 0)",
        });
    }
    let mut out = label_with(map, connectivity, order, |v: T| {
        u32::from(Into::<u32>::into(v) == label)
    })?;
    for c in &mut out.components {
        c.label = label;
    }
    Ok(out)
}

/// The instances of an instance map as they are: every non-zero value is one lesion, whether
/// or not its voxels are connected, ids need not be consecutive and instances may touch.
/// Returns one [`Component`] per id present, ascending by id, with `id == label ==` the
/// instance id and `first` its first voxel in `order`.
///
/// # Errors
/// A rank other than 2 or 3.
pub fn instance_components<T>(
    map: &ArrayViewD<T>,
    order: ScanOrder,
) -> Result<Vec<Component>, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    let layout = Layout::new(map, order)?;
    let data = layout.data(map);
    let input: &[T] = data.as_slice();
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let slab = layout.slab_len();
    let per_slab: Vec<std::collections::HashMap<u32, Stats>> = input
        .par_chunks(slab)
        .enumerate()
        .map(|(s, chunk)| {
            let mut seen: std::collections::HashMap<u32, Stats> = Default::default();
            layout.scan(s, chunk.len(), |idx, coords, key| {
                let id: u32 = chunk[idx].into();
                if id != 0 {
                    seen.entry(id).or_insert_with(Stats::empty).add(coords, key);
                }
            });
            seen
        })
        .collect();
    let mut all: std::collections::BTreeMap<u32, Stats> = Default::default();
    for m in per_slab {
        for (id, st) in m {
            all.entry(id).or_insert_with(Stats::empty).merge(&st);
        }
    }
    Ok(all
        .into_iter()
        .map(|(id, st)| layout.component(id, id, &st))
        .collect())
}

/// Per-component accumulators, in embedded (memory-order) coordinates.
#[derive(Debug, Clone, Copy)]
struct Stats {
    voxels: u64,
    min: [u32; 3],
    max: [u32; 3],
    /// Smallest scan-order key (linear index in the numbering order).
    first: u64,
}

impl Stats {
    fn empty() -> Self {
        Stats {
            voxels: 0,
            min: [u32::MAX; 3],
            max: [0; 3],
            first: u64::MAX,
        }
    }

    #[inline]
    fn add(&mut self, c: [u32; 3], key: u64) {
        self.voxels += 1;
        for k in 0..3 {
            self.min[k] = self.min[k].min(c[k]);
            self.max[k] = self.max[k].max(c[k]);
        }
        self.first = self.first.min(key);
    }

    fn merge(&mut self, o: &Stats) {
        self.voxels += o.voxels;
        for k in 0..3 {
            self.min[k] = self.min[k].min(o.min[k]);
            self.max[k] = self.max[k].max(o.max[k]);
        }
        self.first = self.first.min(o.first);
    }
}

/// How the input is walked: its axes permuted into memory order (largest stride first) and
/// embedded in three dimensions (a 2D image of memory shape `(a, b)` is `(a, 1, b)`).
struct Layout {
    ndim: usize,
    shape: Vec<usize>,
    /// Memory-order axis `k` is logical axis `perm[k]`.
    perm: Vec<usize>,
    /// Embedded dims.
    dims: [usize; 3],
    /// Embedded axis -> logical axis (None: the unit axis of a 2D image).
    logical: [Option<usize>; 3],
    /// Key weight per embedded axis: the stride of its logical axis in the numbering order.
    weights: [u64; 3],
    /// Logical strides of the numbering order (to decode a key).
    order_strides: Vec<u64>,
    /// Planes (of the outermost embedded axis) per slab.
    slab_planes: usize,
}

impl Layout {
    fn new<T>(map: &ArrayViewD<T>, order: ScanOrder) -> Result<Self, MetricError> {
        let ndim = map.ndim();
        if ndim != 2 && ndim != 3 {
            return Err(MetricError::UnsupportedRank(ndim));
        }
        let shape = map.shape().to_vec();
        if let Some(&n) = shape.iter().find(|&&n| n > u32::MAX as usize) {
            return Err(MetricError::BadParameter {
                name: "shape",
                value: n.to_string(),
                expected: "at most u32::MAX voxels per axis",
            });
        }
        let strides = map.strides();
        let mut perm: Vec<usize> = (0..ndim).collect();
        // Largest |stride| first; a unit axis goes outermost (its stride is arbitrary).
        perm.sort_by_key(|&a| {
            let s = if shape[a] <= 1 {
                isize::MAX
            } else {
                strides[a].abs()
            };
            std::cmp::Reverse(s)
        });
        let mut order_strides = vec![1u64; ndim];
        match order {
            ScanOrder::RowMajor => {
                for a in (0..ndim.saturating_sub(1)).rev() {
                    order_strides[a] = order_strides[a + 1] * shape[a + 1] as u64;
                }
            }
            ScanOrder::ColumnMajor => {
                for a in 1..ndim {
                    order_strides[a] = order_strides[a - 1] * shape[a - 1] as u64;
                }
            }
        }
        let logical = if ndim == 3 {
            [Some(perm[0]), Some(perm[1]), Some(perm[2])]
        } else {
            [Some(perm[0]), None, Some(perm[1])]
        };
        let dims = logical.map(|a| a.map_or(1, |a| shape[a]));
        let weights = logical.map(|a| a.map_or(0, |a| order_strides[a]));
        let slabs = (rayon::current_num_threads() * 4).clamp(1, dims[0].max(1));
        let slab_planes = dims[0].div_ceil(slabs).max(1);
        Ok(Layout {
            ndim,
            shape,
            perm,
            dims,
            logical,
            weights,
            order_strides,
            slab_planes,
        })
    }

    fn plane(&self) -> usize {
        self.dims[1] * self.dims[2]
    }

    fn slab_len(&self) -> usize {
        (self.slab_planes * self.plane()).max(1)
    }

    /// The input's values in memory order, borrowed when they are contiguous.
    fn data<'a, T: Copy>(&self, map: &'a ArrayViewD<T>) -> Data<'a, T> {
        let permuted = map.view().permuted_axes(IxDyn(&self.perm));
        match permuted.to_slice() {
            Some(s) => Data::Borrowed(s),
            None => Data::Owned(permuted.iter().copied().collect()),
        }
    }

    /// Calls `f(index in chunk, embedded coordinates, key)` for every voxel of slab `s` of
    /// `len` voxels, in memory order.
    fn scan(&self, s: usize, len: usize, mut f: impl FnMut(usize, [u32; 3], u64)) {
        let plane = self.plane();
        let p0 = s * self.slab_planes;
        let mut idx = 0;
        for i0 in p0..p0 + len / plane {
            for i1 in 0..self.dims[1] {
                let row = i0 as u64 * self.weights[0] + i1 as u64 * self.weights[1];
                for i2 in 0..self.dims[2] {
                    f(
                        idx,
                        [i0 as u32, i1 as u32, i2 as u32],
                        row + i2 as u64 * self.weights[2],
                    );
                    idx += 1;
                }
            }
        }
    }

    fn component(&self, id: u32, label: u32, st: &Stats) -> Component {
        let mut min = vec![0; self.ndim];
        let mut max = vec![0; self.ndim];
        for k in 0..3 {
            if let Some(a) = self.logical[k] {
                min[a] = st.min[k] as usize;
                max[a] = st.max[k] as usize;
            }
        }
        let mut first = vec![0; self.ndim];
        for a in 0..self.ndim {
            first[a] = ((st.first / self.order_strides[a]) % self.shape[a] as u64) as usize;
        }
        Component {
            id,
            label,
            voxels: st.voxels,
            bbox: BoundingBox { min, max },
            first,
        }
    }
}

enum Data<'a, T> {
    Borrowed(&'a [T]),
    Owned(Vec<T>),
}

impl<T> Data<'_, T> {
    fn as_slice(&self) -> &[T] {
        match self {
            Data::Borrowed(s) => s,
            Data::Owned(v) => v,
        }
    }
}

/// A backward neighbour in embedded coordinates, with its linear offset.
#[derive(Clone, Copy)]
struct Offset {
    d: [isize; 3],
    linear: isize,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = parent[x as usize];
    }
    x
}

/// Joins the sets of `a` and `b`; the root is the smaller label, so `parent[x] <= x` always.
fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra < rb {
        parent[rb as usize] = ra;
    } else if rb < ra {
        parent[ra as usize] = rb;
    }
}

fn too_many_labels() -> MetricError {
    MetricError::BadParameter {
        name: "map",
        value: "more than u32::MAX provisional components".into(),
        expected: "fewer foreground runs",
    }
}

/// Two-pass labelling where `class(v)` is the class of a voxel (0: background) and neighbours
/// of equal class connect.
fn label_with<T, F>(
    map: &ArrayViewD<T>,
    connectivity: Connectivity,
    order: ScanOrder,
    class: F,
) -> Result<Components, MetricError>
where
    T: Copy + Send + Sync,
    F: Fn(T) -> u32 + Sync,
{
    let layout = Layout::new(map, order)?;
    if connectivity.ndim() != layout.ndim {
        return Err(MetricError::BadParameter {
            name: "connectivity",
            value: format!("{} neighbours", connectivity.neighbours()),
            expected: "4 or 8 for 2D masks, 6, 18 or 26 for 3D masks",
        });
    }
    let data = layout.data(map);
    let input: &[T] = data.as_slice();
    let dims = layout.dims;
    let offsets: Vec<Offset> = connectivity
        .backward_offsets()
        .into_iter()
        .map(|d| {
            let d = if layout.ndim == 3 {
                [d[0], d[1], d[2]]
            } else {
                [d[0], 0, d[1]]
            };
            let linear = d[0] * (dims[1] * dims[2]) as isize + d[1] * dims[2] as isize + d[2];
            Offset { d, linear }
        })
        .collect();
    let mut ids = vec![0u32; input.len()];
    let slab = layout.slab_len();

    // Pass 1: provisional labels, local to each slab, with their union-find and statistics.
    let slabs: Vec<(Vec<u32>, Vec<Stats>)> = ids
        .par_chunks_mut(slab)
        .zip(input.par_chunks(slab))
        .enumerate()
        .map(|(s, (lab, inp))| label_slab(&layout, &offsets, s, lab, inp, &class))
        .collect::<Result<_, _>>()?;

    // Global labels: slab s's local label l is base[s] + l.
    let mut base = Vec::with_capacity(slabs.len());
    let mut total: u64 = 0;
    for (parent, _) in &slabs {
        base.push(total as u32);
        total += parent.len() as u64 - 1;
        if total >= u32::MAX as u64 {
            return Err(too_many_labels());
        }
    }
    let total = total as usize;
    let mut parent: Vec<u32> = Vec::with_capacity(total + 1);
    let mut stats: Vec<Stats> = Vec::with_capacity(total + 1);
    parent.push(0);
    stats.push(Stats::empty());
    for ((p, st), &b) in slabs.iter().zip(&base) {
        parent.extend(p[1..].iter().map(|&x| x + b));
        stats.extend_from_slice(&st[1..]);
    }

    // Equivalences across slab boundaries: the first plane of slab s against the plane before.
    let plane = layout.plane();
    let pairs: Vec<Vec<(u32, u32)>> = (1..slabs.len())
        .into_par_iter()
        .map(|s| {
            let start = s * layout.slab_planes * plane;
            let mut out: Vec<(u32, u32)> = Vec::new();
            for i1 in 0..dims[1] {
                for i2 in 0..dims[2] {
                    let idx = start + i1 * dims[2] + i2;
                    let l = ids[idx];
                    if l == 0 {
                        continue;
                    }
                    let c = class(input[idx]);
                    for o in offsets.iter().filter(|o| o.d[0] == -1) {
                        if !in_range(i1, o.d[1], dims[1]) || !in_range(i2, o.d[2], dims[2]) {
                            continue;
                        }
                        let n = (idx as isize + o.linear) as usize;
                        let m = ids[n];
                        if m != 0 && class(input[n]) == c {
                            let pair = (base[s] + l, base[s - 1] + m);
                            if out.last() != Some(&pair) {
                                out.push(pair);
                            }
                        }
                    }
                }
            }
            out
        })
        .collect();
    for (a, b) in pairs.into_iter().flatten() {
        union(&mut parent, a, b);
    }

    // Resolve: parent[x] <= x, so one ascending sweep sets every label to its root.
    for g in 1..=total {
        let p = parent[g] as usize;
        if p != g {
            parent[g] = parent[p];
            let st = stats[g];
            stats[parent[g] as usize].merge(&st);
        }
    }
    let mut roots: Vec<u32> = (1..=total as u32)
        .filter(|&g| parent[g as usize] == g)
        .collect();
    roots.sort_unstable_by_key(|&r| stats[r as usize].first);
    let mut final_id = vec![0u32; total + 1];
    for (i, &r) in roots.iter().enumerate() {
        final_id[r as usize] = i as u32 + 1;
    }
    let table: Vec<u32> = parent.iter().map(|&r| final_id[r as usize]).collect();

    ids.par_chunks_mut(slab).enumerate().for_each(|(s, lab)| {
        let b = base[s];
        for v in lab.iter_mut() {
            if *v != 0 {
                *v = table[(*v + b) as usize];
            }
        }
    });

    let components = roots
        .iter()
        .enumerate()
        .map(|(i, &r)| {
            let label = class(input[first_index(&layout, &stats[r as usize])]);
            layout.component(i as u32 + 1, label, &stats[r as usize])
        })
        .collect();
    let memory_shape: Vec<usize> = layout.perm.iter().map(|&a| layout.shape[a]).collect();
    let mut inverse = vec![0; layout.ndim];
    for (k, &a) in layout.perm.iter().enumerate() {
        inverse[a] = k;
    }
    let ids = ArrayD::from_shape_vec(IxDyn(&memory_shape), ids)
        .map_err(|e| MetricError::BadParameter {
            name: "map",
            value: e.to_string(),
            expected: "a valid array",
        })?
        .permuted_axes(IxDyn(&inverse));
    Ok(Components { ids, components })
}

/// The memory index of a component's first voxel, decoded from its key.
fn first_index(layout: &Layout, st: &Stats) -> usize {
    let mut idx = 0;
    for k in 0..3 {
        let c = match layout.logical[k] {
            Some(a) => ((st.first / layout.order_strides[a]) % layout.shape[a] as u64) as usize,
            None => 0,
        };
        idx = idx * layout.dims[k] + c;
    }
    idx
}

#[inline]
fn in_range(i: usize, d: isize, n: usize) -> bool {
    match d {
        -1 => i > 0,
        1 => i + 1 < n,
        _ => true,
    }
}

/// First pass over one slab: provisional labels (1-based, local), the union-find parent of
/// each (`parent[0]` unused) and its statistics.
fn label_slab<T: Copy, F: Fn(T) -> u32>(
    layout: &Layout,
    offsets: &[Offset],
    s: usize,
    lab: &mut [u32],
    inp: &[T],
    class: &F,
) -> Result<(Vec<u32>, Vec<Stats>), MetricError> {
    let dims = layout.dims;
    let plane = layout.plane();
    let planes = inp.len() / plane;
    let p0 = s * layout.slab_planes;
    let mut parent: Vec<u32> = vec![0];
    let mut stats: Vec<Stats> = vec![Stats::empty()];
    let mut row_offsets: Vec<Offset> = Vec::with_capacity(offsets.len());
    for j0 in 0..planes {
        for i1 in 0..dims[1] {
            row_offsets.clear();
            row_offsets.extend(
                offsets
                    .iter()
                    .filter(|o| (o.d[0] == 0 || j0 > 0) && in_range(i1, o.d[1], dims[1])),
            );
            let i0 = p0 + j0;
            let row = j0 * plane + i1 * dims[2];
            let key_row = i0 as u64 * layout.weights[0] + i1 as u64 * layout.weights[1];
            let coords = [i0 as u32, i1 as u32, 0];
            for i2 in 0..dims[2] {
                let idx = row + i2;
                let c = class(inp[idx]);
                if c == 0 {
                    continue;
                }
                let mut cur = 0u32;
                for o in &row_offsets {
                    if (o.d[2] == -1 && i2 == 0) || (o.d[2] == 1 && i2 + 1 == dims[2]) {
                        continue;
                    }
                    let n = (idx as isize + o.linear) as usize;
                    let l = lab[n];
                    if l == 0 || l == cur || class(inp[n]) != c {
                        continue;
                    }
                    if cur == 0 {
                        cur = l;
                    } else {
                        union(&mut parent, cur, l);
                    }
                }
                if cur == 0 {
                    cur = u32::try_from(parent.len()).map_err(|_| too_many_labels())?;
                    parent.push(cur);
                    stats.push(Stats::empty());
                }
                lab[idx] = cur;
                stats[cur as usize].add(
                    [coords[0], coords[1], i2 as u32],
                    key_row + i2 as u64 * layout.weights[2],
                );
            }
        }
    }
    Ok((parent, stats))
}
