//! NIfTI-1 (`.nii`, `.nii.gz`): single-file NIfTI-1 read with nibabel's conventions and
//! written little-endian, gzip-compressed or not.
//!
//! The header is parsed by the `nifti` crate (it detects the byte order); gzip is `flate2`.
//! The voxel data is read here rather than through `nifti` 0.18's `ndarray_volumes` API
//! (whose ndarray 0.17 would fit), because, measured on 0.18.0, that API reads the voxels
//! right after the extensions it parsed instead of at `vox_offset` (a file with `vox_offset`
//! 400 gave its padding bytes as voxels), rescales into integer types in `f32` with a
//! saturating cast (`uint8` 3 with `scl_slope` 0.5 became label 1, `int8` -1 became
//! 4294967295), panics ("Inconsistent raw data size") when `bitpix` disagrees with
//! `datatype`, and reserves the size the header declares before reading. Files are written
//! here too: `nifti`'s writer only writes to a path it derives from the given one
//! (`case.v2.nii` becomes `case.nii`), truncates axis lengths to `u16`, drops the error of
//! the final flush of an uncompressed file, and its header serializer is private.

use std::io::{self, BufRead, Read, Write};

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;
use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder};
use nifti::{Endianness, NiftiError, NiftiHeader, NiftiType};

use super::raster::{Purpose, Raster, Samples, alloc, map_samples};
use crate::DataErrorKind;
use crate::labels::out_of_memory;

/// Bytes of a NIfTI-1 header.
const HEADER_LEN: usize = 348;
/// Header plus the 4-byte extension flag: where a single-file NIfTI's voxels start at the
/// earliest.
const MIN_VOX_OFFSET: usize = 352;
/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// NIfTI-1 `dim` entries are `int16`.
pub(crate) const MAX_DIM: usize = i16::MAX as usize;

/// Decodes a NIfTI-1 file, gzip-compressed or not: the content decides, so a misnamed file
/// still reads (`named_gz` only shapes the message when the content is neither gzip nor
/// NIfTI-1). Voxel data larger than `max_bytes` is refused before it is allocated.
///
/// - label map: `[1, ...dim]`, a spacing and an origin per axis, every integer or float type;
/// - image: `[C, x, y, z]` (or fewer spatial axes): a 1- to 3-D file has `C = 1`, a 4-D file's
///   4th axis is the channel axis, and a 5-D file with `dim[4] = 1` (the NIfTI vector
///   convention) has its 5th; spacing and origin of the spatial axes only.
///
/// An image's samples keep the file's type, and `scl_slope`/`scl_inter` go into
/// [`Raster::scaling`] when they change the values (nibabel's rule). A label map's samples
/// are converted to labels (after that scaling) before the rest of a gzip stream is checked,
/// so that a value that is not a label is the error even when the stream's tail is corrupt.
pub(crate) fn decode(
    r: impl BufRead,
    named_gz: bool,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataErrorKind> {
    read_gz_or_plain(r, named_gz, |r, gz| {
        let v = match purpose {
            Purpose::LabelMap => {
                decode_voxels(r, gz, "label maps", |shape| shape.len(), max_bytes)?
            }
            // Spacing and origin of the spatial axes only (pixdim[4] of a channel axis is often 0).
            Purpose::Image => {
                decode_voxels(r, gz, "images", |shape| shape.len().min(3), max_bytes)?
            }
        };
        let samples = samples(v.raw, &v.shape, v.datatype, v.endianness)?;
        let samples = map_samples!(samples, a => arrange(a.into_owned(), purpose)?.into());
        let raster = Raster {
            samples,
            scaling: v.scaling,
            spacing: v.spacing,
            origin: v.origin,
            affine: v.affine,
        };
        match purpose {
            // A value that is not a label is reported before a corrupt gzip tail.
            Purpose::LabelMap => raster.into_label_raster(),
            Purpose::Image => Ok(raster),
        }
    })
}

/// The voxels in their type, shaped as `dim` with the first axis fastest, as NIfTI stores
/// them.
fn samples(
    raw: Vec<u8>,
    shape: &[usize],
    datatype: NiftiType,
    endianness: Endianness,
) -> Result<Samples<'static>, DataErrorKind> {
    let big = matches!(endianness, Endianness::Big);
    let shape = IxDyn(shape).f();
    let mismatch = |e: ndarray::ShapeError| {
        DataErrorKind::Format(format!("voxel count does not match dim ({e})"))
    };
    macro_rules! typed {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let mut v: Vec<$t> = alloc(raw.len() / N, "voxel values")?;
            v.extend(raw.chunks_exact(N).map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                if big {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                }
            }));
            drop(raw);
            ArrayD::from_shape_vec(shape, v).map_err(mismatch)?.into()
        }};
    }
    Ok(match datatype {
        NiftiType::Uint8 => ArrayD::from_shape_vec(shape, raw).map_err(mismatch)?.into(),
        NiftiType::Int8 => typed!(i8),
        NiftiType::Uint16 => typed!(u16),
        NiftiType::Int16 => typed!(i16),
        NiftiType::Uint32 => typed!(u32),
        NiftiType::Int32 => typed!(i32),
        NiftiType::Uint64 => typed!(u64),
        NiftiType::Int64 => typed!(i64),
        NiftiType::Float32 => typed!(f32),
        NiftiType::Float64 => typed!(f64),
        other => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "NIfTI datatype {}",
                type_name(other)
            )));
        }
    })
}

/// The file's array (`dim` order) as `[C, ...S]` for `purpose`.
fn arrange<T>(file: ArrayD<T>, purpose: Purpose) -> Result<ArrayD<T>, DataErrorKind> {
    let shape = file.shape().to_vec();
    Ok(match (purpose, shape.len()) {
        (Purpose::LabelMap, _) | (Purpose::Image, 1..=3) => file.insert_axis(Axis(0)),
        (Purpose::Image, 4) => file.permuted_axes(IxDyn(&[3, 0, 1, 2])),
        (Purpose::Image, 5) if shape[3] == 1 => file
            .index_axis_move(Axis(3), 0)
            .permuted_axes(IxDyn(&[3, 0, 1, 2])),
        (Purpose::Image, _) => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "NIfTI image with dim {shape:?}; images have 1 to 3 spatial axes, with \
                 channels on the 4th axis (or on the 5th when the 4th has length 1)"
            )));
        }
    })
}

/// Runs `decode` on the stream, decompressed first when it starts with the gzip magic (the
/// content decides, not the name). `named_gz` only shapes the message when the content is
/// neither gzip nor NIfTI-1.
fn read_gz_or_plain<T>(
    mut r: impl BufRead,
    named_gz: bool,
    decode: impl FnOnce(&mut dyn Read, bool) -> Result<T, DataErrorKind>,
) -> Result<T, DataErrorKind> {
    let head = r.fill_buf().map_err(DataErrorKind::Io)?;
    if head.starts_with(&GZIP_MAGIC) {
        let mut gz = MultiGzDecoder::new(r);
        let volume = decode(&mut gz, true)?;
        // Decompress the rest so that a corrupt or truncated tail (CRC, length) is noticed.
        io::copy(&mut gz, &mut io::sink()).map_err(|e| read_error(e, true))?;
        Ok(volume)
    } else {
        decode(&mut r, false).map_err(|e| match e {
            DataErrorKind::Format(msg) if named_gz => DataErrorKind::Format(format!(
                "neither a gzip stream nor an uncompressed NIfTI-1 file ({msg})"
            )),
            other => other,
        })
    }
}

/// The error for a failed read of the (possibly decompressed) stream.
fn read_error(e: io::Error, gz: bool) -> DataErrorKind {
    match e.kind() {
        io::ErrorKind::UnexpectedEof if gz => {
            DataErrorKind::Format(format!("truncated gzip stream ({e})"))
        }
        io::ErrorKind::UnexpectedEof => DataErrorKind::Format(format!("truncated file ({e})")),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData if gz => {
            DataErrorKind::Format(format!("corrupt gzip stream ({e})"))
        }
        _ => DataErrorKind::Io(e),
    }
}

/// Reads `n` bytes, or reports how many there were. Memory grows with the bytes actually
/// read (at most 64 MiB reserved ahead), so a header that claims more voxels than its small
/// file holds is reported as truncated, not as an allocation failure.
fn read_exactly(
    r: &mut (impl Read + ?Sized),
    n: usize,
    gz: bool,
) -> Result<Result<Vec<u8>, usize>, DataErrorKind> {
    let mut buf = Vec::new();
    let ahead = n.min(64 << 20);
    buf.try_reserve_exact(ahead)
        .map_err(|_| out_of_memory(ahead, "bytes of voxel data"))?;
    let got = r
        .take(n as u64)
        .read_to_end(&mut buf)
        .map_err(|e| read_error(e, gz))?;
    Ok(if got == n { Ok(buf) } else { Err(got) })
}

/// The checked header fields and the raw voxel bytes of a NIfTI-1 file.
struct NiftiVoxels {
    /// `dim[1..=dim[0]]`.
    shape: Vec<usize>,
    /// `pixdim` of the first `geometry_axes` axes, each finite and > 0.
    spacing: Vec<f64>,
    /// The origin (sform, else qform, else zeros), `geometry_axes` values.
    origin: Vec<f64>,
    /// The sform if `sform_code > 0`, else the qform if `qform_code > 0`.
    affine: Option<[[f64; 4]; 4]>,
    datatype: NiftiType,
    endianness: Endianness,
    /// `(scl_slope, scl_inter)` when they change the values (nibabel's rule).
    scaling: Option<(f64, f64)>,
    /// The voxel bytes as stored (first axis fastest).
    raw: Vec<u8>,
}

/// Reads the header and the voxel bytes. `geometry_axes(shape)` says how many leading axes
/// have a spacing and an origin (the others, such as channels, get none); `what` names what
/// the file should hold, for the message about an unusable datatype. Voxel data larger than
/// `max_bytes` is refused ([`DataErrorKind::UnsupportedType`]) before anything is allocated.
fn decode_voxels(
    r: &mut dyn Read,
    gz: bool,
    what: &str,
    geometry_axes: impl FnOnce(&[usize]) -> usize,
    max_bytes: usize,
) -> Result<NiftiVoxels, DataErrorKind> {
    let raw_header = match read_exactly(r, HEADER_LEN, gz)? {
        Ok(h) => h,
        Err(0) => return Err(DataErrorKind::Format("empty file".into())),
        Err(got) => {
            return Err(DataErrorKind::Format(format!(
                "truncated header: {got} bytes, a NIfTI-1 header has {HEADER_LEN}"
            )));
        }
    };
    let header = parse_header(&raw_header)?;
    let shape = shape(&header)?;
    let datatype = datatype(&header, what)?;
    let n_geometry = geometry_axes(&shape).min(shape.len());
    let spacing = spacing(&header, n_geometry)?;
    let scaling = scaling(&header)?;
    let origin = origin(&header, n_geometry);
    // Only a matrix that says more than spacing + origin is kept: rotated, oblique or flipped.
    let affine = affine(&header).filter(|m| {
        (0..3).any(|i| {
            (0..3).any(|j| {
                if i == j {
                    m[i][j] != header.pixdim[i + 1] as f64
                } else {
                    m[i][j] != 0.0
                }
            })
        })
    });

    let vox_offset = vox_offset(&header)?;
    let skip = vox_offset - HEADER_LEN;
    let skipped = io::copy(&mut (&mut *r).take(skip as u64), &mut io::sink())
        .map_err(|e| read_error(e, gz))?;
    if skipped < skip as u64 {
        return Err(DataErrorKind::Format(format!(
            "truncated file: it ends at byte {}, before the voxel data at vox_offset {vox_offset}",
            HEADER_LEN as u64 + skipped
        )));
    }

    let n_voxels = shape.iter().product::<usize>();
    let n_bytes = n_voxels
        .checked_mul(datatype.size_of())
        .ok_or_else(|| DataErrorKind::Format(format!("dim {shape:?} is too large")))?;
    if n_bytes > max_bytes {
        return Err(DataErrorKind::UnsupportedType(format!(
            "dim {shape:?} needs {n_bytes} bytes of voxel data, more than the limit of {max_bytes}"
        )));
    }
    let raw = read_exactly(r, n_bytes, gz)?.map_err(|got| {
        DataErrorKind::Format(format!(
            "truncated file: dim {shape:?} of {} needs {n_bytes} bytes of voxel data, the file has {got}",
            type_name(datatype)
        ))
    })?;
    Ok(NiftiVoxels {
        shape,
        spacing,
        origin,
        affine,
        datatype,
        endianness: header.endianness,
        scaling,
        raw,
    })
}

fn parse_header(raw: &[u8]) -> Result<NiftiHeader, DataErrorKind> {
    let sizeof_le = i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let sizeof_be = i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
    if sizeof_le == 540 || sizeof_be == 540 || raw[4..7] == *b"n+2" {
        return Err(DataErrorKind::UnsupportedType(
            "NIfTI-2 file (sizeof_hdr 540); only NIfTI-1 is read".into(),
        ));
    }
    let header = NiftiHeader::from_reader(raw).map_err(|e| match e {
        NiftiError::InvalidFormat => DataErrorKind::Format(format!(
            "not a NIfTI-1 file: magic is {:?}, expected \"n+1\"",
            String::from_utf8_lossy(&raw[344..348]).trim_end_matches('\0')
        )),
        other => DataErrorKind::Format(format!("bad NIfTI-1 header ({other})")),
    })?;
    if header.magic == *b"ni1\0" {
        return Err(DataErrorKind::UnsupportedType(
            "header of a .hdr/.img pair (magic \"ni1\"); only single-file NIfTI (.nii, .nii.gz) is read"
                .into(),
        ));
    }
    Ok(header)
}

/// `dim[1..=dim[0]]`, as nibabel takes it (trailing axes of length 1 are kept).
fn shape(h: &NiftiHeader) -> Result<Vec<usize>, DataErrorKind> {
    let ndim = usize::from(h.dim[0]);
    if !(1..=7).contains(&ndim) {
        return Err(DataErrorKind::Format(format!(
            "dim[0] is {}; it must be 1 to 7",
            h.dim[0] as i16
        )));
    }
    (1..=ndim)
        .map(|i| {
            let d = usize::from(h.dim[i]);
            if (1..=MAX_DIM).contains(&d) {
                Ok(d)
            } else {
                Err(DataErrorKind::Format(format!(
                    "dim[{i}] is {}; it must be 1 to {MAX_DIM}",
                    h.dim[i] as i16
                )))
            }
        })
        .collect()
}

fn datatype(h: &NiftiHeader, what: &str) -> Result<NiftiType, DataErrorKind> {
    let t = h.data_type().map_err(|_| {
        DataErrorKind::UnsupportedType(format!(
            "NIfTI datatype code {} is not a numeric type this crate reads",
            h.datatype
        ))
    })?;
    match t {
        NiftiType::Complex64
        | NiftiType::Complex128
        | NiftiType::Complex256
        | NiftiType::Float128
        | NiftiType::Rgb24
        | NiftiType::Rgba32 => Err(DataErrorKind::UnsupportedType(format!(
            "NIfTI datatype {}; {what} need an integer or float type",
            type_name(t)
        ))),
        t => Ok(t),
    }
}

fn type_name(t: NiftiType) -> &'static str {
    match t {
        NiftiType::Uint8 => "uint8",
        NiftiType::Int8 => "int8",
        NiftiType::Uint16 => "uint16",
        NiftiType::Int16 => "int16",
        NiftiType::Uint32 => "uint32",
        NiftiType::Int32 => "int32",
        NiftiType::Uint64 => "uint64",
        NiftiType::Int64 => "int64",
        NiftiType::Float32 => "float32",
        NiftiType::Float64 => "float64",
        NiftiType::Float128 => "float128",
        NiftiType::Complex64 => "complex64",
        NiftiType::Complex128 => "complex128",
        NiftiType::Complex256 => "complex256",
        NiftiType::Rgb24 => "RGB24",
        NiftiType::Rgba32 => "RGBA32",
    }
}

/// `pixdim[1..=ndim]`, each finite and > 0. (nibabel instead replaces 0 by 1 and negative
/// values by their absolute value, with a warning; here both are errors.)
fn spacing(h: &NiftiHeader, ndim: usize) -> Result<Vec<f64>, DataErrorKind> {
    (0..ndim)
        .map(|axis| {
            let value = f64::from(h.pixdim[axis + 1]);
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(DataErrorKind::BadSpacing { axis, value })
            }
        })
        .collect()
}

/// nibabel's rule: a slope of 0 or a non-finite slope means "no scaling"; a valid slope with a
/// non-finite intercept is an error; slope 1 and intercept 0 change nothing.
fn scaling(h: &NiftiHeader) -> Result<Option<(f64, f64)>, DataErrorKind> {
    let slope = f64::from(h.scl_slope);
    let inter = f64::from(h.scl_inter);
    if slope == 0.0 || !slope.is_finite() {
        return Ok(None);
    }
    if !inter.is_finite() {
        return Err(DataErrorKind::Format(format!(
            "scl_slope is {slope} but scl_inter is {inter}"
        )));
    }
    Ok((slope != 1.0 || inter != 0.0).then_some((slope, inter)))
}

/// The voxel-to-world matrix (kept on the volume only when it is not `diag(pixdim) + origin`):
/// the sform rows if `sform_code > 0`, else the qform (quaternion
/// `b, c, d` with `a = sqrt(1 - b^2 - c^2 - d^2)`, `qfac = pixdim[0]` (0 read as 1), spacing
/// `pixdim[1..=3]`, offset `qoffset`) if `qform_code > 0`, else `None`.
fn affine(h: &NiftiHeader) -> Option<[[f64; 4]; 4]> {
    let last = [0.0, 0.0, 0.0, 1.0];
    if h.sform_code > 0 {
        let row = |r: [f32; 4]| r.map(f64::from);
        return Some([row(h.srow_x), row(h.srow_y), row(h.srow_z), last]);
    }
    if h.qform_code <= 0 {
        return None;
    }
    let (b, c, d) = (h.quatern_b as f64, h.quatern_c as f64, h.quatern_d as f64);
    let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
    let r = [
        [
            a * a + b * b - c * c - d * d,
            2.0 * (b * c - a * d),
            2.0 * (b * d + a * c),
        ],
        [
            2.0 * (b * c + a * d),
            a * a + c * c - b * b - d * d,
            2.0 * (c * d - a * b),
        ],
        [
            2.0 * (b * d - a * c),
            2.0 * (c * d + a * b),
            a * a + d * d - b * b - c * c,
        ],
    ];
    let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
    let s = [
        h.pixdim[1] as f64,
        h.pixdim[2] as f64,
        qfac * h.pixdim[3] as f64,
    ];
    let off = [h.quatern_x as f64, h.quatern_y as f64, h.quatern_z as f64];
    let mut m = [[0.0; 4]; 4];
    for i in 0..3 {
        for j in 0..3 {
            m[i][j] = r[i][j] * s[j];
        }
        m[i][3] = off[i];
    }
    m[3] = last;
    Some(m)
}

/// The sform translation if `sform_code > 0`, else the qform offset if `qform_code > 0`, else
/// zeros; `(x, y, z)` cut or padded with zeros to `ndim`.
fn origin(h: &NiftiHeader, ndim: usize) -> Vec<f64> {
    let xyz = if h.sform_code > 0 {
        [h.srow_x[3], h.srow_y[3], h.srow_z[3]]
    } else if h.qform_code > 0 {
        [h.quatern_x, h.quatern_y, h.quatern_z]
    } else {
        [0.0; 3]
    };
    (0..ndim)
        .map(|i| xyz.get(i).map_or(0.0, |&v| f64::from(v)))
        .collect()
}

fn vox_offset(h: &NiftiHeader) -> Result<usize, DataErrorKind> {
    let v = h.vox_offset;
    if v.is_finite() && v >= MIN_VOX_OFFSET as f32 && v <= u32::MAX as f32 {
        // nibabel truncates the float the same way.
        Ok(v as usize)
    } else {
        Err(DataErrorKind::Format(format!(
            "vox_offset is {v}; a single-file NIfTI-1 needs at least {MIN_VOX_OFFSET}"
        )))
    }
}

/// Checks NIfTI-1's limit on the length of every axis of `shape`: 1 to 32767.
pub(crate) fn check_axis_lengths(shape: &[usize]) -> Result<(), DataErrorKind> {
    match shape
        .iter()
        .enumerate()
        .find(|(_, d)| !(1..=MAX_DIM).contains(*d))
    {
        Some((axis, d)) => Err(DataErrorKind::NotWritable(format!(
            "axis {axis} has length {d}; NIfTI-1 allows 1 to {MAX_DIM}"
        ))),
        None => Ok(()),
    }
}

/// Encodes a raster `[C, ...S]` of `U8`, `U16`, `U32` or `F32` samples as a single-file,
/// little-endian NIfTI-1 (`vox_offset` 352, no extensions), gzip-compressed when `gz`. One
/// channel is written as a file of the spatial shape; `C > 1` channels as a 4-D file
/// `(x, y, z, C)` (fewer spatial axes padded with 1). The header is [`header_bytes`] with the
/// raster's geometry and `descrip`. The caller checks the axis count, the axis lengths
/// ([`check_axis_lengths`]) and the geometry.
pub(crate) fn encode(
    raster: &Raster<'_>,
    descrip: &[u8],
    gz: bool,
) -> Result<Vec<u8>, DataErrorKind> {
    let shape = raster.shape();
    let Some((&c, spatial)) = shape.split_first() else {
        return Err(DataErrorKind::NotWritable(
            "a NIfTI-1 file needs at least one axis".into(),
        ));
    };
    let file_shape: Vec<usize> = if c == 1 {
        spatial.to_vec()
    } else {
        let mut s = spatial.to_vec();
        s.resize(3, 1);
        s.push(c);
        s
    };
    let (datatype, size) = match &raster.samples {
        Samples::U8(_) => (NiftiType::Uint8, 1),
        Samples::U16(_) => (NiftiType::Uint16, 2),
        Samples::U32(_) => (NiftiType::Uint32, 4),
        Samples::F32(_) => (NiftiType::Float32, 4),
        _ => {
            return Err(DataErrorKind::NotWritable(
                "NIfTI files are written as uint8, uint16, uint32 or float32".into(),
            ));
        }
    };
    let h = header_bytes(
        &file_shape,
        datatype,
        size,
        &raster.spacing,
        &raster.origin,
        raster.affine.as_ref(),
        descrip,
    );
    let n: usize = shape.iter().product();
    let mut out = Vec::new();
    out.try_reserve_exact(h.len() + size * n)
        .map_err(|_| out_of_memory(n, "voxels"))?;
    out.extend_from_slice(&h);
    // File order: x fastest (the reversed axes of each channel), the channel axis slowest.
    macro_rules! voxels {
        ($a:expr) => {
            for channel in $a.axis_iter(Axis(0)) {
                channel
                    .t()
                    .iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            }
        };
    }
    match &raster.samples {
        Samples::U8(a) => voxels!(a),
        Samples::U16(a) => voxels!(a),
        Samples::U32(a) => voxels!(a),
        Samples::F32(a) => voxels!(a),
        _ => {
            return Err(DataErrorKind::NotWritable(
                "a NIfTI image is written with u8, u16, u32 or f32 samples".into(),
            ));
        }
    }
    if gz {
        gzip(&out).map_err(DataErrorKind::Io)
    } else {
        Ok(out)
    }
}

/// `bytes` as one gzip member.
fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

/// A little-endian NIfTI-1 header plus the 4-byte extension flag (0), for voxels at
/// `vox_offset` 352: `dim` from `shape` (1 to 7 axes, each 1 to 32767, checked by the caller),
/// `pixdim[1..]` from `spacing` (1 for the axes past its end), `scl_slope` 1, units mm, and an
/// axis-aligned qform and sform (code 1) with the spacing on the diagonal and the first three
/// `origin` values as the translation.
fn header_bytes(
    shape: &[usize],
    datatype: NiftiType,
    size: usize,
    spacing: &[f64],
    origin: &[f64],
    affine: Option<&[[f64; 4]; 4]>,
    descrip: &[u8],
) -> [u8; MIN_VOX_OFFSET] {
    let mut h = [0u8; MIN_VOX_OFFSET];
    let mut put =
        |offset: usize, bytes: &[u8]| h[offset..offset + bytes.len()].copy_from_slice(bytes);
    put(0, &(HEADER_LEN as i32).to_le_bytes()); // sizeof_hdr
    put(38, b"r"); // regular, as nibabel writes it
    let mut dim = [1i16; 8];
    dim[0] = shape.len() as i16;
    for (i, &d) in shape.iter().enumerate() {
        dim[i + 1] = d as i16; // the caller checked d <= MAX_DIM
    }
    for (i, d) in dim.iter().enumerate() {
        put(40 + 2 * i, &d.to_le_bytes());
    }
    put(70, &(datatype as i16).to_le_bytes());
    put(72, &((size * 8) as i16).to_le_bytes()); // bitpix
    let mut pixdim = [1f32; 8]; // pixdim[0] = qfac = 1
    for (i, &s) in spacing.iter().enumerate() {
        pixdim[i + 1] = s as f32;
    }
    for (i, p) in pixdim.iter().enumerate() {
        put(76 + 4 * i, &p.to_le_bytes());
    }
    put(108, &(MIN_VOX_OFFSET as f32).to_le_bytes()); // vox_offset
    put(112, &1f32.to_le_bytes()); // scl_slope
    put(123, &[2]); // xyzt_units: mm
    put(148, descrip); // descrip
    // qform and sform: axis-aligned, spacing on the diagonal, origin as the translation; a given
    // affine replaces the sform, and the qform is dropped (code 0) when the affine rotates.
    let rotated = affine.is_some_and(|m| (0..3).any(|i| (0..3).any(|j| i != j && m[i][j] != 0.0)));
    put(252, &(if rotated { 0i16 } else { 1i16 }).to_le_bytes()); // qform_code: scanner
    put(254, &1i16.to_le_bytes()); // sform_code: scanner
    let mut xyz = [0f32; 3];
    for (i, &o) in origin.iter().take(3).enumerate() {
        xyz[i] = o as f32;
    }
    for (i, o) in xyz.iter().enumerate() {
        put(268 + 4 * i, &o.to_le_bytes()); // qoffset_x, y, z (quatern_b, c, d stay 0)
        let row: [f32; 4] = match affine {
            Some(m) => m[i].map(|v| v as f32),
            None => {
                let mut row = [0f32; 4];
                row[i] = pixdim[i + 1];
                row[3] = *o;
                row
            }
        };
        for (j, r) in row.iter().enumerate() {
            put(280 + 16 * i + 4 * j, &r.to_le_bytes()); // srow_x, srow_y, srow_z
        }
    }
    put(344, b"n+1\0"); // magic; bytes 348..352 (extension flag) stay 0

    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Volume;
    use ndarray::array;

    /// A minimal single-file header for the given fields (little-endian).
    fn header(dim: &[i16], datatype: i16, bitpix: i16, pixdim: &[f32]) -> Vec<u8> {
        let mut h = header_bytes(&[1], NiftiType::Uint8, 1, &[1.0], &[0.0], None, b"").to_vec();
        let mut d = [1i16; 8];
        d[0] = dim.len() as i16;
        d[1..=dim.len()].copy_from_slice(dim);
        for (i, x) in d.iter().enumerate() {
            h[40 + 2 * i..42 + 2 * i].copy_from_slice(&x.to_le_bytes());
        }
        h[70..72].copy_from_slice(&datatype.to_le_bytes());
        h[72..74].copy_from_slice(&bitpix.to_le_bytes());
        for (i, p) in pixdim.iter().enumerate() {
            h[80 + 4 * i..84 + 4 * i].copy_from_slice(&p.to_le_bytes());
        }
        h
    }

    /// Decodes a label map, `named_gz` as the file name says.
    fn read_nifti_from(bytes: &[u8], named_gz: bool) -> Result<Volume<u32>, DataErrorKind> {
        decode(bytes, named_gz, Purpose::LabelMap, usize::MAX)?.into_labels()
    }

    fn read(bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
        read_nifti_from(bytes, false)
    }

    /// The bytes of a plain `.nii` of `labels`, `[...S]` (`u8`).
    fn encode_nifti(labels: &Volume<u32>) -> Result<Vec<u8>, DataErrorKind> {
        let data = labels.data.mapv(|l| l as u8).insert_axis(Axis(0));
        encode(&Raster::new(data), b"", false)
    }

    #[test]
    fn first_header_axis_is_the_first_array_axis() {
        // dim (2, 3): file order is x fastest, so bytes 0..6 are (0,0) (1,0) (0,1) (1,1) (0,2) (1,2).
        let mut f = header(&[2, 3], 2, 8, &[0.5, 2.0]);
        f.extend_from_slice(&[0, 1, 2, 3, 4, 5]);
        let v = read(&f).unwrap();
        assert_eq!(v.data, array![[0u32, 2, 4], [1, 3, 5]].into_dyn());
        assert!(v.data.is_standard_layout());
        assert_eq!(v.spacing, vec![0.5, 2.0]);
    }

    #[test]
    fn trailing_axis_of_length_one_is_kept_like_nibabel() {
        let mut f = header(&[2, 2, 1], 2, 8, &[1.0, 1.0, 3.0]);
        f.extend_from_slice(&[1, 0, 0, 1]);
        let v = read(&f).unwrap();
        assert_eq!(v.shape(), &[2, 2, 1]);
        assert_eq!(v.spacing, vec![1.0, 1.0, 3.0]);
    }

    #[test]
    fn big_endian_int16_is_decoded() {
        // Build a little-endian header, then swap every multi-byte field we set.
        let mut f = header(&[2], 4, 16, &[1.0]);
        for (off, len) in [
            (0, 4),
            (40, 2),
            (42, 2),
            (44, 2),
            (70, 2),
            (72, 2),
            (80, 4),
            (108, 4),
            (112, 4),
        ] {
            f[off..off + len].reverse();
        }
        f.extend_from_slice(&[0x01, 0x02, 0x00, 0x07]); // 258, 7 big-endian
        let v = read(&f).unwrap();
        assert_eq!(v.data, array![258u32, 7].into_dyn());
    }

    #[test]
    fn data_starts_at_vox_offset_not_after_the_header() {
        let mut f = header(&[2], 2, 8, &[1.0]);
        f[108..112].copy_from_slice(&400f32.to_le_bytes());
        f.resize(400, 0xAA);
        f.extend_from_slice(&[3, 4]);
        assert_eq!(read(&f).unwrap().data, array![3u32, 4].into_dyn());
    }

    #[test]
    fn scl_slope_and_inter_are_applied() {
        let mut f = header(&[3], 2, 8, &[1.0]);
        f[112..116].copy_from_slice(&2f32.to_le_bytes());
        f[116..120].copy_from_slice(&1f32.to_le_bytes());
        f.extend_from_slice(&[0, 1, 2]);
        assert_eq!(read(&f).unwrap().data, array![1u32, 3, 5].into_dyn());
    }

    #[test]
    fn zero_or_nan_slope_means_no_scaling_like_nibabel() {
        for slope in [0.0f32, f32::NAN] {
            let mut f = header(&[2], 2, 8, &[1.0]);
            f[112..116].copy_from_slice(&slope.to_le_bytes());
            f[116..120].copy_from_slice(&5f32.to_le_bytes());
            f.extend_from_slice(&[1, 2]);
            assert_eq!(read(&f).unwrap().data, array![1u32, 2].into_dyn());
        }
    }

    #[test]
    fn non_finite_intercept_with_valid_slope_is_a_format_error() {
        let mut f = header(&[2], 2, 8, &[1.0]);
        f[116..120].copy_from_slice(&f32::NAN.to_le_bytes());
        f.extend_from_slice(&[1, 2]);
        assert!(matches!(read(&f), Err(DataErrorKind::Format(_))));
    }

    #[test]
    fn fractional_float_label_names_value_and_xyz_index() {
        let mut f = header(&[2, 2], 16, 32, &[1.0, 1.0]);
        for x in [0f32, 1.0, 2.0, 0.5] {
            f.extend_from_slice(&x.to_le_bytes());
        }
        match read(&f) {
            Err(DataErrorKind::NonIntegerLabels { value, index }) => {
                assert_eq!(value, 0.5);
                assert_eq!(index, vec![1, 1]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn negative_int_label_is_rejected() {
        let mut f = header(&[2], 256, 8, &[1.0]);
        f.extend_from_slice(&[1, 0xFF]); // int8: 1, -1
        match read(&f) {
            Err(DataErrorKind::NonIntegerLabels { value, index }) => {
                assert_eq!((value, index), (-1.0, vec![1]));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bitpix_disagreeing_with_datatype_is_ignored_like_nibabel() {
        let mut f = header(&[2], 512, 8, &[1.0]); // uint16 with bitpix 8
        f.extend_from_slice(&[7, 0, 9, 0]);
        assert_eq!(read(&f).unwrap().data, array![7u32, 9].into_dyn());
    }

    #[test]
    fn bad_headers_are_errors() {
        let mut zero_dim = header(&[2, 0], 2, 8, &[1.0, 1.0]);
        zero_dim.extend_from_slice(&[0; 4]);
        let mut negative_dim = header(&[2, -3], 2, 8, &[1.0, 1.0]);
        negative_dim.extend_from_slice(&[0; 4]);
        let mut rgb = header(&[1], 128, 24, &[1.0]);
        rgb.extend_from_slice(&[0; 3]);
        let mut unknown = header(&[1], 3, 8, &[1.0]);
        unknown.extend_from_slice(&[0; 3]);
        let mut low_offset = header(&[1], 2, 8, &[1.0]);
        low_offset[108..112].copy_from_slice(&0f32.to_le_bytes());
        low_offset.push(0);
        let mut pair = header(&[1], 2, 8, &[1.0]);
        pair[344..348].copy_from_slice(b"ni1\0");
        let mut bad_magic = header(&[1], 2, 8, &[1.0]);
        bad_magic[344..348].copy_from_slice(b"abc\0");
        let mut nifti2 = header(&[1], 2, 8, &[1.0]);
        nifti2[0..4].copy_from_slice(&540i32.to_le_bytes());
        let mut short_data = header(&[10], 2, 8, &[1.0]);
        short_data.extend_from_slice(&[0; 4]);

        let format = |r: Result<_, _>| matches!(r, Err(DataErrorKind::Format(_)));
        let unsupported = |r: Result<_, _>| matches!(r, Err(DataErrorKind::UnsupportedType(_)));
        assert!(format(read(&zero_dim)));
        assert!(format(read(&negative_dim)));
        assert!(unsupported(read(&rgb)));
        assert!(unsupported(read(&unknown)));
        assert!(format(read(&low_offset)));
        assert!(unsupported(read(&pair)));
        assert!(format(read(&bad_magic)));
        assert!(unsupported(read(&nifti2)));
        assert!(format(read(&short_data)));
        assert!(format(read(&[])));
        assert!(format(read(&[0; 100])));
    }

    #[test]
    fn gzip_is_detected_from_the_content() {
        let v = Volume::new(array![[1u32, 2], [3, 4]].into_dyn());
        let plain = encode_nifti(&v).unwrap();
        let gz = gzip(&plain).unwrap();
        assert_eq!(read_nifti_from(&gz[..], false).unwrap(), v);
        assert_eq!(read_nifti_from(&plain[..], true).unwrap(), v);
    }

    #[test]
    fn concatenated_gzip_members_are_read_like_python_gzip() {
        let v = Volume::new(array![[1u32, 2], [3, 4]].into_dyn());
        let plain = encode_nifti(&v).unwrap();
        let (a, b) = plain.split_at(100);
        let mut two = gzip(a).unwrap();
        two.extend(gzip(b).unwrap());
        assert_eq!(read_nifti_from(&two[..], true).unwrap(), v);
    }

    #[test]
    fn corrupt_gzip_tail_is_a_format_error() {
        let v = Volume::new(array![[1u32, 2], [3, 4]].into_dyn());
        let mut gz = gzip(&encode_nifti(&v).unwrap()).unwrap();
        let n = gz.len();
        gz[n - 8] ^= 0xFF; // CRC32 of the member
        match read_nifti_from(&gz[..], true) {
            Err(DataErrorKind::Format(msg)) => {
                assert!(msg.starts_with("corrupt gzip stream"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
        match read_nifti_from(&gz[..n / 2], true) {
            Err(DataErrorKind::Format(msg)) => assert!(msg.contains("gzip"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn garbage_named_gz_says_it_is_not_gzip() {
        match read_nifti_from(&b"garbage, not even close to a NIfTI header"[..], true) {
            Err(DataErrorKind::Format(msg)) => {
                assert!(msg.starts_with("neither a gzip stream nor"), "{msg}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_pixdim_is_bad_spacing_naming_the_axis() {
        for (bad, axis) in [(f32::NAN, 1), (0.0, 0), (-1.0, 2), (f32::INFINITY, 1)] {
            let mut p = [1f32; 3];
            p[axis] = bad;
            let mut f = header(&[1, 1, 1], 2, 8, &p);
            f.push(0);
            match read(&f) {
                Err(DataErrorKind::BadSpacing { axis: a, value }) => {
                    assert_eq!(a, axis);
                    assert!(value.to_bits() == f64::from(bad).to_bits());
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn image_channels_come_from_the_4th_or_5th_axis() {
        // dim (2, 1, 1, 3): x fastest, so the channel c of voxel x is byte c * 2 + x.
        let mut f = header(&[2, 1, 1, 3], 2, 8, &[0.5, 1.0, 2.0, 0.0]);
        f.extend_from_slice(&[0, 1, 10, 11, 20, 21]);
        let v = decode(&f[..], false, Purpose::Image, usize::MAX)
            .unwrap()
            .into_values()
            .unwrap();
        assert_eq!(v.shape(), &[3, 2, 1, 1]);
        assert_eq!(
            v.data.iter().copied().collect::<Vec<_>>(),
            [0.0, 1.0, 10.0, 11.0, 20.0, 21.0]
        );
        // pixdim[4] = 0 of the channel axis is not a spacing.
        assert_eq!(v.spacing, vec![0.5, 1.0, 2.0]);
        // The same file is a 4-D label map, every axis spatial.
        let lm = read(&f);
        assert!(
            matches!(lm, Err(DataErrorKind::BadSpacing { axis: 3, .. })),
            "{lm:?}"
        );
    }

    #[test]
    fn encoder_writes_channels_last_and_the_smallest_header() {
        let rgb =
            ndarray::Array3::from_shape_fn((3, 2, 2), |(c, x, y)| (c * 100 + x * 10 + y) as f32);
        let bytes = encode(&Raster::new(rgb.clone().into_dyn()), b"x", false).unwrap();
        assert_eq!(i16::from_le_bytes([bytes[40], bytes[41]]), 4); // (x, y, z = 1, C)
        assert_eq!(bytes.len(), MIN_VOX_OFFSET + 4 * 12);
        let back = decode(&bytes[..], false, Purpose::Image, usize::MAX).unwrap();
        let back = back.into_values().unwrap();
        assert_eq!(
            back.data.into_shape_with_order(IxDyn(&[3, 2, 2])).unwrap(),
            rgb.into_dyn()
        );
        let gz = encode(&Raster::new(array![[[1u16]]].into_dyn()), b"x", true).unwrap();
        assert_eq!(gz[..2], GZIP_MAGIC);
    }

    #[test]
    fn a_bad_label_is_reported_before_a_corrupt_gzip_tail() {
        let mut f = header(&[2], 16, 32, &[1.0]);
        for x in [1.0f32, 0.5] {
            f.extend_from_slice(&x.to_le_bytes());
        }
        let mut gz = gzip(&f).unwrap();
        let n = gz.len();
        gz[n - 8] ^= 0xFF; // CRC32 of the member
        match read_nifti_from(&gz, true) {
            Err(DataErrorKind::NonIntegerLabels { value, index }) => {
                assert_eq!((value, index), (0.5, vec![1]));
            }
            other => panic!("{other:?}"),
        }
        // An image has no such check: the tail is.
        let image = decode(&gz[..], true, Purpose::Image, usize::MAX);
        assert!(matches!(image, Err(DataErrorKind::Format(m)) if m.starts_with("corrupt gzip")));
    }
}
