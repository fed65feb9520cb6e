//! [`Raster`]: the one intermediate representation that every format decodes into and encodes
//! from, and its two conversions to a [`Volume`]: values as `f32` (images) and exact labels
//! (label maps). Also what every format module shares: the [`Purpose`] a reader is asked for,
//! fallible allocation and the unpacking of 1/2/4-bit samples. The format modules import this
//! module only, never each other or their parent.

use ndarray::{ArrayD, ArrayViewD, Axis, CowArray, IxDyn, ShapeBuilder};

use crate::labels::{Sample, to_labels};
use crate::{DataErrorKind, LabelVolume, Volume};

/// What a reader delivers, which decides what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The values as stored, one channel: palette INDICES, grayscale only, every NIfTI axis
    /// spatial. JPEG is refused (lossy).
    LabelMap,
    /// The channels as they look: palettes expanded to RGB, any channel count, NIfTI
    /// channels on the 4th (or 5th) axis.
    Image,
}

/// An empty vector with room for `n` items, or an out-of-memory error naming `what` (a header
/// can declare any size; this must not abort the process).
pub(crate) fn alloc<T>(n: usize, what: &str) -> Result<Vec<T>, DataErrorKind> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| crate::labels::out_of_memory(n, what))?;
    Ok(v)
}

/// Unpacks `h` rows of 1, 2 or 4-bit samples (most significant bits first, each row starting on
/// a byte boundary, `row_bytes` bytes apart) into one byte per sample, `per_row` samples a
/// row. Values are not rescaled (a 2-bit 3 stays 3). Returns fewer samples when the rows run
/// short.
pub(crate) fn unpack_bits(
    packed: &[u8],
    bits: u8,
    row_bytes: usize,
    per_row: usize,
    h: usize,
    out: &mut Vec<u8>,
) {
    let bits = u32::from(bits);
    let per_byte = 8 / bits;
    let mask = (1u8 << bits) - 1;
    for row in packed.chunks_exact(row_bytes.max(1)).take(h) {
        out.extend(
            row.iter()
                .flat_map(|&byte| (0..per_byte).map(move |k| (byte >> (8 - bits * (k + 1))) & mask))
                .take(per_row),
        );
    }
}

/// The samples of a file in their native type, shaped `[C, ...S]`: channels first, then the
/// spatial axes in the order the format defines (`[H, W]` for PNG, JPEG and TIFF; `(x, y, z)`
/// for NIfTI). Decoders give owned arrays whose MEMORY order is the file's (interleaved
/// `[H, W, C]`, planar `[C, H, W]`, or NIfTI's first-axis-fastest), so that the first bad
/// value in memory order is the first in the file. Encoders accept views of any layout.
#[derive(Debug)]
pub(crate) enum Samples<'a> {
    U8(CowArray<'a, u8, IxDyn>),
    I8(CowArray<'a, i8, IxDyn>),
    U16(CowArray<'a, u16, IxDyn>),
    I16(CowArray<'a, i16, IxDyn>),
    U32(CowArray<'a, u32, IxDyn>),
    I32(CowArray<'a, i32, IxDyn>),
    U64(CowArray<'a, u64, IxDyn>),
    I64(CowArray<'a, i64, IxDyn>),
    F32(CowArray<'a, f32, IxDyn>),
    F64(CowArray<'a, f64, IxDyn>),
}

/// Runs `$body` with `$a` bound to the array of whichever type `$samples` holds.
macro_rules! with_samples {
    ($samples:expr, $a:ident => $body:expr) => {
        match $samples {
            Samples::U8($a) => $body,
            Samples::I8($a) => $body,
            Samples::U16($a) => $body,
            Samples::I16($a) => $body,
            Samples::U32($a) => $body,
            Samples::I32($a) => $body,
            Samples::U64($a) => $body,
            Samples::I64($a) => $body,
            Samples::F32($a) => $body,
            Samples::F64($a) => $body,
        }
    };
}

/// Maps the array of whichever type `$samples` holds to an array of the same type.
macro_rules! map_samples {
    ($samples:expr, $a:ident => $body:expr) => {
        match $samples {
            Samples::U8($a) => Samples::U8($body),
            Samples::I8($a) => Samples::I8($body),
            Samples::U16($a) => Samples::U16($body),
            Samples::I16($a) => Samples::I16($body),
            Samples::U32($a) => Samples::U32($body),
            Samples::I32($a) => Samples::I32($body),
            Samples::U64($a) => Samples::U64($body),
            Samples::I64($a) => Samples::I64($body),
            Samples::F32($a) => Samples::F32($body),
            Samples::F64($a) => Samples::F64($body),
        }
    };
}
pub(crate) use map_samples;

macro_rules! samples_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<ArrayD<$t>> for Samples<'static> {
            fn from(a: ArrayD<$t>) -> Self {
                Samples::$variant(a.into())
            }
        }
        impl<'a> From<ArrayViewD<'a, $t>> for Samples<'a> {
            fn from(a: ArrayViewD<'a, $t>) -> Self {
                Samples::$variant(a.into())
            }
        }
    )*};
}
samples_from!(u8 => U8, i8 => I8, u16 => U16, i16 => I16, u32 => U32, i32 => I32,
    u64 => U64, i64 => I64, f32 => F32, f64 => F64);

impl Samples<'_> {
    /// The shape, `[C, ...S]`.
    pub(crate) fn shape(&self) -> &[usize] {
        with_samples!(self, a => a.shape())
    }
}

/// A decoded file, or what a writer hands to an encoder: the samples and their geometry.
#[derive(Debug)]
pub(crate) struct Raster<'a> {
    /// The samples, `[C, ...S]`.
    pub(crate) samples: Samples<'a>,
    /// `(scl_slope, scl_inter)` to apply to the samples (NIfTI), `None` for values as stored.
    pub(crate) scaling: Option<(f64, f64)>,
    /// Voxel size in mm per spatial axis.
    pub(crate) spacing: Vec<f64>,
    /// World position in mm of voxel `[0, 0, ...]`, per spatial axis.
    pub(crate) origin: Vec<f64>,
    /// The voxel-to-world matrix, when the file has one that says more than spacing + origin.
    pub(crate) affine: Option<[[f64; 4]; 4]>,
}

impl<'a> Raster<'a> {
    /// `samples` `[C, ...S]` with spacing 1 mm and origin 0 per spatial axis, no scaling, no
    /// matrix.
    pub(crate) fn new(samples: impl Into<Samples<'a>>) -> Self {
        let samples = samples.into();
        let n = samples.shape().len().saturating_sub(1);
        Raster {
            samples,
            scaling: None,
            spacing: vec![1.0; n],
            origin: vec![0.0; n],
            affine: None,
        }
    }

    /// The shape, `[C, ...S]`.
    pub(crate) fn shape(&self) -> &[usize] {
        self.samples.shape()
    }

    /// The values as `f32`, `[C, ...S]` in standard layout, with the geometry: each sample
    /// converted with `as` (integers above 2^24 and `f64` rounded to the nearest `f32`), after
    /// the scaling in `f64` if there is one.
    pub(crate) fn into_values(self) -> Result<Volume<f32>, DataErrorKind> {
        let data = with_samples!(self.samples, a => values(a, self.scaling)?);
        Ok(Volume {
            data,
            spacing: self.spacing,
            origin: self.origin,
            affine: self.affine,
        })
    }

    /// The samples as labels `[...S]` (the single channel removed), in standard layout, with
    /// the geometry. Every value (after the scaling) must be an integer in `0..=u32::MAX`;
    /// the error names the first that is not, in the file's order.
    pub(crate) fn into_labels(self) -> Result<Volume<u32>, DataErrorKind> {
        let c = self.shape().first().copied().unwrap_or(0);
        if c != 1 {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{c} channels; a label map has one"
            )));
        }
        let data = match self.samples {
            // Already labels (see `into_label_raster`): no second copy.
            Samples::U32(a) if self.scaling.is_none() && a.is_standard_layout() => {
                a.into_owned().index_axis_move(Axis(0), 0)
            }
            samples => with_samples!(samples, a => labels(a, self.scaling)?),
        };
        Ok(Volume {
            data,
            spacing: self.spacing,
            origin: self.origin,
            affine: self.affine,
        })
    }

    /// [`into_labels`](Self::into_labels), kept as a raster `[1, ...S]`: for a decoder that
    /// must report bad labels before it checks the rest of its stream. Unsigned samples
    /// without scaling are labels whatever their values: they stay as they are (the file's
    /// type and order), for [`into_native_labels`](Self::into_native_labels); any other
    /// samples become checked `U32` labels.
    pub(crate) fn into_label_raster(self) -> Result<Raster<'static>, DataErrorKind> {
        if self.scaling.is_none()
            && matches!(
                self.samples,
                Samples::U8(_) | Samples::U16(_) | Samples::U32(_)
            )
        {
            let c = self.shape().first().copied().unwrap_or(0);
            if c != 1 {
                return Err(DataErrorKind::UnsupportedType(format!(
                    "{c} channels; a label map has one"
                )));
            }
            let samples = map_samples!(self.samples, a => a.into_owned().into());
            return Ok(Raster {
                samples,
                scaling: None,
                spacing: self.spacing,
                origin: self.origin,
                affine: self.affine,
            });
        }
        let v = self.into_labels()?;
        Ok(Raster {
            samples: v.data.insert_axis(Axis(0)).into(),
            scaling: None,
            spacing: v.spacing,
            origin: v.origin,
            affine: v.affine,
        })
    }
}

impl Raster<'_> {
    /// The samples as labels `[...S]`, in the narrowest type that holds them without a check,
    /// and in the file's memory order: `u8` and `u16` samples without scaling are kept as
    /// decoded (no copy for a NIfTI file, which stays column-major); anything else is
    /// [`into_labels`](Self::into_labels) (row-major `u32`).
    pub(crate) fn into_native_labels(self) -> Result<LabelVolume, DataErrorKind> {
        let c = self.shape().first().copied().unwrap_or(0);
        if c != 1 {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{c} channels; a label map has one"
            )));
        }
        let Raster {
            samples,
            scaling,
            spacing,
            origin,
            affine,
        } = self;
        fn volume<T: Clone>(
            a: CowArray<'_, T, IxDyn>,
            spacing: Vec<f64>,
            origin: Vec<f64>,
            affine: Option<[[f64; 4]; 4]>,
        ) -> Volume<T> {
            Volume {
                data: contiguous(a).into_owned().index_axis_move(Axis(0), 0),
                spacing,
                origin,
                affine,
            }
        }
        Ok(match (samples, scaling) {
            (Samples::U8(a), None) => LabelVolume::U8(volume(a, spacing, origin, affine)),
            (Samples::U16(a), None) => LabelVolume::U16(volume(a, spacing, origin, affine)),
            (samples, scaling) => LabelVolume::U32(
                Raster {
                    samples,
                    scaling,
                    spacing,
                    origin,
                    affine,
                }
                .into_labels()?,
            ),
        })
    }
}

impl Raster<'static> {
    /// A 2-D raster `[C, H, W]` from `h * w` pixels of `c` interleaved samples (`[H, W, C]`,
    /// row-major, as PNG, JPEG and contiguous TIFF store them).
    pub(crate) fn interleaved<T>(
        samples: Vec<T>,
        c: usize,
        h: usize,
        w: usize,
    ) -> Result<Self, DataErrorKind>
    where
        ArrayD<T>: Into<Samples<'static>>,
    {
        let hwc = ArrayD::from_shape_vec(IxDyn(&[h, w, c]), samples).map_err(|e| {
            DataErrorKind::Format(format!("sample count does not match the image size ({e})"))
        })?;
        Ok(Raster::new(hwc.permuted_axes(IxDyn(&[2, 0, 1]))))
    }

    /// A 2-D raster `[C, H, W]` from `c` planes of `h * w` samples each (planar TIFF).
    pub(crate) fn planar<T>(
        samples: Vec<T>,
        c: usize,
        h: usize,
        w: usize,
    ) -> Result<Self, DataErrorKind>
    where
        ArrayD<T>: Into<Samples<'static>>,
    {
        let chw = ArrayD::from_shape_vec(IxDyn(&[c, h, w]), samples).map_err(|e| {
            DataErrorKind::Format(format!("sample count does not match the image size ({e})"))
        })?;
        Ok(Raster::new(chw))
    }
}

/// `a` with its elements contiguous in memory (a copy in standard layout when they are not).
fn contiguous<T: Clone>(a: CowArray<'_, T, IxDyn>) -> CowArray<'_, T, IxDyn> {
    if a.as_slice_memory_order().is_some() && a.strides().iter().all(|&s| s >= 0) {
        a
    } else {
        a.as_standard_layout().into_owned().into()
    }
}

/// An array of `shape` whose memory order is that of an array with `strides`, from its
/// elements in that order; then in standard layout.
fn rebuild<U>(shape: &[usize], strides: &[isize], data: Vec<U>) -> Result<ArrayD<U>, DataErrorKind>
where
    U: Clone + Copy + Send + Sync,
{
    let strides: Vec<usize> = strides.iter().map(|&s| s as usize).collect();
    let a = ArrayD::from_shape_vec(IxDyn(shape).strides(IxDyn(&strides)), data)
        .map_err(|e| DataErrorKind::Format(format!("cannot arrange the samples ({e})")))?;
    if a.is_standard_layout() {
        return Ok(a);
    }
    match to_standard_order(
        a.shape(),
        &strides,
        a.as_slice_memory_order().unwrap_or(&[]),
        |x| x,
    )? {
        Some(out) => ArrayD::from_shape_vec(IxDyn(shape), out)
            .map_err(|e| DataErrorKind::Format(format!("cannot arrange the samples ({e})"))),
        None => Ok(a.as_standard_layout().into_owned()),
    }
}

/// The elements of `data` (laid out with `strides`, contiguous, non-negative) in standard
/// (row-major) order of `shape`, or `None` for more than three axes of length > 1 (the caller
/// takes ndarray's general path). A file in column-major order, as NIfTI is, reverses every
/// stride: the copy goes through square tiles of the input's fastest axis and the output's, so
/// that reads and writes both run along memory, blocks of the output in parallel.
fn to_standard_order<U: Copy + Send + Sync, V: Copy + Send + Sync>(
    shape: &[usize],
    strides: &[usize],
    data: &[U],
    map: impl Fn(U) -> V + Sync,
) -> Result<Option<Vec<V>>, DataErrorKind> {
    use rayon::prelude::*;
    const TILE: usize = 32;
    // Axes of length 1 carry nothing: at most three others, padded in front to three.
    let mut dims: Vec<(usize, usize)> = shape
        .iter()
        .copied()
        .zip(strides.iter().copied())
        .filter(|&(len, _)| len > 1)
        .collect();
    if dims.len() > 3 {
        return Ok(None);
    }
    while dims.len() < 3 {
        dims.insert(0, (1, 0));
    }
    let n: usize = shape.iter().product();
    let Some(&first) = data.first() else {
        return Ok(Some(Vec::new()));
    };
    let mut out = alloc(n, "samples")?;
    out.resize(n, map(first));
    let [(d0, s0), (d1, s1), (d2, s2)] = [dims[0], dims[1], dims[2]];
    if s0 == 1 && s0 < s1 && s0 < s2 {
        // The input runs along the output's slowest axis, contiguously (column-major): tasks
        // of `tile` planes of axis 0. For each i1, the `tile` inputs of every i2 (contiguous
        // runs, each read once whole) are gathered into a small buffer, then every output row
        // is written in one run. (Scattering straight to the rows, whose distance is often a
        // multiple of 4 KiB, evicts them from the cache between two writes.)
        let threads = rayon::current_num_threads().max(1);
        let mut tile = 64;
        while tile > 8 && d0.div_ceil(tile) < 4 * threads {
            tile /= 2;
        }
        out.par_chunks_mut((tile * d1 * d2).max(1))
            .enumerate()
            .for_each_init(
                || vec![first; tile * d2],
                |buf, (b, dst)| {
                    let i0_start = b * tile;
                    let n0 = tile.min(d0 - i0_start);
                    for i1 in 0..d1 {
                        for i2 in 0..d2 {
                            let src = i0_start + i1 * s1 + i2 * s2;
                            buf[i2 * tile..i2 * tile + n0].copy_from_slice(&data[src..src + n0]);
                        }
                        for k in 0..n0 {
                            let row = &mut dst[(k * d1 + i1) * d2..(k * d1 + i1 + 1) * d2];
                            for (i2, o) in row.iter_mut().enumerate() {
                                *o = map(buf[i2 * tile + k]);
                            }
                        }
                    }
                },
            );
    } else if s0 < s1 && s0 < s2 {
        // The input runs fastest along the output's slowest axis (column-major): blocks of
        // TILE planes of axis 0 in parallel, tiles of (axis 0, axis 2) inside.
        out.par_chunks_mut((TILE * d1 * d2).max(1))
            .enumerate()
            .for_each(|(b, dst)| {
                let i0_start = b * TILE;
                let i0_end = (i0_start + TILE).min(d0);
                for i1 in 0..d1 {
                    for i2_start in (0..d2).step_by(TILE) {
                        let i2_end = (i2_start + TILE).min(d2);
                        for i0 in i0_start..i0_end {
                            let o = ((i0 - i0_start) * d1 + i1) * d2;
                            let src = i0 * s0 + i1 * s1;
                            for i2 in i2_start..i2_end {
                                dst[o + i2] = map(data[src + i2 * s2]);
                            }
                        }
                    }
                }
            });
    } else {
        // Planes of axis 0 in parallel, tiles of (axis 1, axis 2) inside.
        out.par_chunks_mut((d1 * d2).max(1))
            .enumerate()
            .for_each(|(i0, dst)| {
                let base = i0 * s0;
                for i1_start in (0..d1).step_by(TILE) {
                    for i2_start in (0..d2).step_by(TILE) {
                        for i1 in i1_start..(i1_start + TILE).min(d1) {
                            let src = base + i1 * s1;
                            let row = &mut dst[i1 * d2..(i1 + 1) * d2];
                            for i2 in i2_start..(i2_start + TILE).min(d2) {
                                row[i2] = map(data[src + i2 * s2]);
                            }
                        }
                    }
                }
            });
    }
    Ok(Some(out))
}

/// The index in an array of `shape` and `strides` (non-negative, elements contiguous) of the
/// element at position `flat` in memory.
fn index_of(mut flat: usize, shape: &[usize], strides: &[isize]) -> Vec<usize> {
    let mut axes: Vec<usize> = (0..shape.len()).filter(|&a| shape[a] > 1).collect();
    axes.sort_by_key(|&a| std::cmp::Reverse(strides[a]));
    let mut index = vec![0; shape.len()];
    for a in axes {
        let s = strides[a].max(1) as usize;
        index[a] = flat / s;
        flat %= s;
    }
    index
}

fn values<T: Sample>(
    a: CowArray<'_, T, IxDyn>,
    scaling: Option<(f64, f64)>,
) -> Result<ArrayD<f32>, DataErrorKind> {
    let a = contiguous(a);
    let samples = a.as_slice_memory_order().unwrap_or_default();
    let mut out = alloc(samples.len(), "samples")?;
    match scaling {
        None => out.extend(samples.iter().map(|&x| x.to_f32())),
        Some((slope, inter)) => {
            out.extend(samples.iter().map(|&x| (x.value() * slope + inter) as f32))
        }
    }
    rebuild(a.shape(), a.strides(), out)
}

fn labels<T: Sample + Send + Sync>(
    a: CowArray<'_, T, IxDyn>,
    scaling: Option<(f64, f64)>,
) -> Result<ArrayD<u32>, DataErrorKind> {
    let a = contiguous(a);
    let (shape, strides) = (a.shape(), a.strides());
    let samples = a.as_slice_memory_order().unwrap_or_default();
    // Unsigned samples without scaling are labels as they are: converted while reordered, in
    // one pass.
    if T::ALWAYS_LABEL && scaling.is_none() {
        let ustrides: Vec<usize> = strides.iter().map(|&s| s as usize).collect();
        let to_label = |x: T| x.label().unwrap_or(0);
        if let Some(out) = to_standard_order(shape, &ustrides, samples, to_label)? {
            let a = ArrayD::from_shape_vec(IxDyn(shape), out)
                .map_err(|e| DataErrorKind::Format(format!("cannot arrange the samples ({e})")))?;
            return Ok(a.index_axis_move(Axis(0), 0));
        }
    }
    // The index without the channel axis: the voxel's index in the label map.
    let out = to_labels(samples.iter().copied(), scaling, |flat| {
        index_of(flat, shape, strides).split_off(1)
    })?;
    Ok(rebuild(shape, strides, out)?.index_axis_move(Axis(0), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unsigned samples become labels while reordered (one pass): the same labels as the
    /// checked path of signed samples, for a column-major `[1, X, Y, Z]` array.
    #[test]
    fn unsigned_samples_become_labels_in_row_major_order() {
        let shape = [1usize, 5, 3, 4];
        let n: usize = shape.iter().product();
        let fortran = IxDyn(&shape).f();
        let u8s =
            ArrayD::from_shape_vec(fortran.clone(), (0..n).map(|i| (i % 251) as u8).collect())
                .unwrap();
        let i16s =
            ArrayD::from_shape_vec(fortran, (0..n).map(|i| (i % 251) as i16).collect()).unwrap();
        let fast = labels(CowArray::from(u8s.view()), None).unwrap();
        let checked = labels(CowArray::from(i16s.view()), None).unwrap();
        assert_eq!(fast, checked);
        assert!(fast.is_standard_layout());
        assert_eq!(fast.shape(), &[5, 3, 4]);
        assert_eq!(fast[[4, 2, 3]], u32::from(u8s[[0, 4, 2, 3]]));
    }

    /// The tiled reordering equals ndarray's own for every axis order, odd sizes and unit axes.
    #[test]
    fn reordering_matches_ndarray_for_every_permutation() {
        let shapes: [&[usize]; 6] = [
            &[1, 37, 5, 70],
            &[3, 33, 65],
            &[65, 1, 40],
            &[2, 3],
            &[1, 1, 7],
            &[40, 33, 35],
        ];
        for shape in shapes {
            let n: usize = shape.iter().product();
            let data: Vec<u32> = (0..n as u32).collect();
            // Every permutation of the axes as the memory order (slowest first).
            let axes: Vec<usize> = (0..shape.len()).collect();
            let mut perms = vec![axes.clone()];
            for _ in 0..6 {
                let mut p = perms.last().unwrap().clone();
                p.rotate_left(1);
                perms.push(p.clone());
                p.reverse();
                perms.push(p);
            }
            for order in perms {
                let mut strides = vec![0usize; shape.len()];
                let mut s = 1;
                for &a in order.iter().rev() {
                    strides[a] = s;
                    s *= shape[a];
                }
                let istrides: Vec<isize> = strides.iter().map(|&s| s as isize).collect();
                let got = rebuild(shape, &istrides, data.clone()).unwrap();
                let want =
                    ArrayD::from_shape_vec(IxDyn(shape).strides(IxDyn(&strides)), data.clone())
                        .unwrap()
                        .as_standard_layout()
                        .into_owned();
                assert_eq!(got, want, "{shape:?} {order:?}");
                assert!(got.is_standard_layout());
            }
        }
    }
    use ndarray::array;

    #[test]
    fn interleaved_samples_become_channels_first() {
        // 1 x 2 pixels of RGB: (1, 2, 3), (4, 5, 6)
        let r = Raster::interleaved(vec![1u8, 2, 3, 4, 5, 6], 3, 1, 2).unwrap();
        assert_eq!(r.shape(), &[3, 1, 2]);
        let v = r.into_values().unwrap();
        assert_eq!(
            v.data,
            array![[[1.0f32, 4.0]], [[2.0, 5.0]], [[3.0, 6.0]]].into_dyn()
        );
        assert!(v.data.is_standard_layout());
        assert_eq!((v.spacing, v.origin), (vec![1.0, 1.0], vec![0.0, 0.0]));
    }

    #[test]
    fn first_bad_label_is_the_first_in_memory_order() {
        // A first-axis-fastest (Fortran) 2 x 2 array with 0.5 at memory position 1 = [1, 0]
        // and 0.25 at memory position 2 = [0, 1].
        let f = ArrayD::from_shape_vec(IxDyn(&[2, 2]).f(), vec![0.0f32, 0.5, 0.25, 1.0]).unwrap();
        let r = Raster::new(f.insert_axis(Axis(0)));
        match r.into_labels() {
            Err(DataErrorKind::NonIntegerLabels { value, index }) => {
                assert_eq!((value, index), (0.5, vec![1, 0]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn index_of_inverts_the_memory_layout() {
        // NIfTI's order, first axis fastest: in [2, 3], memory position 3 is [1, 1].
        let f = ArrayD::<u8>::zeros(IxDyn(&[2, 3]).f());
        assert_eq!(index_of(3, f.shape(), f.strides()), [1, 1]);
        let f = ArrayD::<u8>::zeros(IxDyn(&[1, 2, 3, 4]).f());
        for (flat, want) in [
            (0, [0, 0, 0, 0]),
            (1, [0, 1, 0, 0]),
            (3, [0, 1, 1, 0]),
            (23, [0, 1, 2, 3]),
        ] {
            assert_eq!(index_of(flat, f.shape(), f.strides()), want, "{flat}");
        }
    }

    #[test]
    fn scaling_applies_in_f64_before_the_cast() {
        let mut r = Raster::new(array![[[2u8, 3]]].into_dyn());
        r.scaling = Some((0.5, 1.0));
        assert_eq!(
            r.into_values().unwrap().data,
            array![[[2.0f32, 2.5]]].into_dyn()
        );
    }

    #[test]
    fn low_bit_samples_unpack_per_row_without_rescaling() {
        let mut out = Vec::new();
        // 3 pixels of 1 bit in 2 rows: 1 0 1 | 0 1 1
        unpack_bits(&[0b1010_0000, 0b0110_0000], 1, 1, 3, 2, &mut out);
        assert_eq!(out, [1, 0, 1, 0, 1, 1]);
        out.clear();
        unpack_bits(&[0b0001_1011, 0b0100_0000], 2, 2, 5, 1, &mut out);
        assert_eq!(out, [0, 1, 2, 3, 1]);
        out.clear();
        unpack_bits(&[0x5C, 0xF0], 4, 2, 3, 1, &mut out);
        assert_eq!(out, [5, 12, 15]);
    }
}
