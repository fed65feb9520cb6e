//! NIfTI-1 label maps (`.nii`, `.nii.gz`): reading with nibabel's conventions, writing.
//!
//! The header is parsed by the `nifti` crate (it detects the byte order). The voxel data is
//! read here rather than through `nifti` 0.18's volume API, because that API reads the voxels
//! right after the extensions it parsed instead of at `vox_offset` (byte 352 when the extension
//! flag is 0, whatever `vox_offset` says), rescales into integer types in `f32` with a
//! saturating cast, and panics ("Inconsistent raw data size") when `bitpix` disagrees with
//! `datatype`. Files are written here too: `nifti`'s writer derives the output name from the
//! path (`case.v2.nii` becomes `case.nii`), truncates axis lengths to `u16`, and drops the
//! error of the final flush of an uncompressed file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use flate2::Compression;
use flate2::bufread::MultiGzDecoder;
use flate2::write::GzEncoder;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use nifti::{Endianness, NiftiError, NiftiHeader, NiftiType};

use crate::label_map::{FileFormat, file_format, unsupported_extension};
use crate::labels::{alloc_labels, out_of_memory, to_labels, unravel_first_fastest};
use crate::{DataError, DataErrorKind, Volume};

/// Bytes of a NIfTI-1 header.
const HEADER_LEN: usize = 348;
/// Header plus the 4-byte extension flag: where a single-file NIfTI's voxels start at the
/// earliest.
const MIN_VOX_OFFSET: usize = 352;
/// The first two bytes of every gzip member.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// NIfTI-1 `dim` entries are `int16`.
pub(crate) const MAX_DIM: usize = i16::MAX as usize;

/// Reads a NIfTI-1 label map; see [`crate::read_label_map`] for the conventions.
pub(crate) fn read_nifti(path: &Path) -> Result<Volume<u32>, DataError> {
    let named_gz = file_format(path) == Some(FileFormat::Nifti { gz: true });
    let file = File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    read_nifti_from(BufReader::new(file), named_gz).map_err(|k| k.at(path))
}

/// Reads a NIfTI-1 label map from a stream, gzip-compressed or not: the content decides, so a
/// misnamed file still reads. `named_gz` (the name ends in `.gz`) only shapes the message when
/// the content is neither gzip nor NIfTI-1.
pub(crate) fn read_nifti_from(
    r: impl BufRead,
    named_gz: bool,
) -> Result<Volume<u32>, DataErrorKind> {
    read_nifti_limited(r, named_gz, usize::MAX)
}

/// [`read_nifti_from`] refusing files whose voxel data is larger than `max_voxel_bytes` (for
/// fuzzing).
pub(crate) fn read_nifti_limited(
    r: impl BufRead,
    named_gz: bool,
    max_voxel_bytes: usize,
) -> Result<Volume<u32>, DataErrorKind> {
    read_gz_or_plain(r, named_gz, |r, gz| decode(r, gz, max_voxel_bytes))
}

/// Runs `decode` on the stream, decompressed first when it starts with the gzip magic (the
/// content decides, not the name). `named_gz` only shapes the message when the content is
/// neither gzip nor NIfTI-1.
pub(crate) fn read_gz_or_plain<T>(
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

fn decode(r: &mut dyn Read, gz: bool, max_bytes: usize) -> Result<Volume<u32>, DataErrorKind> {
    let v = decode_voxels(r, gz, "label maps", |shape| shape.len(), max_bytes)?;
    let labels = decode_labels(&v.raw, v.datatype, v.endianness, v.scaling, &v.shape)?;
    // NIfTI stores the first axis fastest: build that view, then copy to standard layout.
    let data = ArrayD::from_shape_vec(IxDyn(&v.shape).f(), labels)
        .map_err(|e| DataErrorKind::Format(format!("voxel count does not match dim ({e})")))?;
    let data = data.as_standard_layout().into_owned();
    Ok(Volume {
        data,
        spacing: v.spacing,
        origin: v.origin,
        affine: v.affine,
    })
}

/// The checked header fields and the raw voxel bytes of a NIfTI-1 file.
pub(crate) struct NiftiVoxels {
    /// `dim[1..=dim[0]]`.
    pub(crate) shape: Vec<usize>,
    /// `pixdim` of the first `geometry_axes` axes, each finite and > 0.
    pub(crate) spacing: Vec<f64>,
    /// The origin (sform, else qform, else zeros), `geometry_axes` values.
    pub(crate) origin: Vec<f64>,
    /// The sform if `sform_code > 0`, else the qform if `qform_code > 0`.
    pub(crate) affine: Option<[[f64; 4]; 4]>,
    pub(crate) datatype: NiftiType,
    pub(crate) endianness: Endianness,
    /// `(scl_slope, scl_inter)` when they change the values (nibabel's rule).
    pub(crate) scaling: Option<(f64, f64)>,
    /// The voxel bytes as stored (first axis fastest).
    pub(crate) raw: Vec<u8>,
}

/// Reads the header and the voxel bytes. `geometry_axes(shape)` says how many leading axes
/// have a spacing and an origin (the others, such as channels, get none); `what` names what
/// the file should hold, for the message about an unusable datatype. Voxel data larger than
/// `max_bytes` is refused ([`DataErrorKind::UnsupportedType`]) before anything is allocated.
pub(crate) fn decode_voxels(
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

pub(crate) fn type_name(t: NiftiType) -> &'static str {
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

/// The sform translation if `sform_code > 0`, else the qform offset if `qform_code > 0`, else
/// zeros; `(x, y, z)` cut or padded with zeros to `ndim`.
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

fn decode_labels(
    raw: &[u8],
    datatype: NiftiType,
    endianness: Endianness,
    scaling: Option<(f64, f64)>,
    shape: &[usize],
) -> Result<Vec<u32>, DataErrorKind> {
    let big = matches!(endianness, Endianness::Big);
    let unravel = |flat| unravel_first_fastest(flat, shape);
    macro_rules! samples {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let it = raw.chunks_exact(N).map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                if big {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                }
            });
            to_labels(it, scaling, unravel)
        }};
    }
    match datatype {
        NiftiType::Uint8 if scaling.is_none() => {
            let mut out = alloc_labels(raw.len())?;
            out.extend(raw.iter().map(|&b| u32::from(b)));
            Ok(out)
        }
        NiftiType::Uint8 => samples!(u8),
        NiftiType::Int8 => samples!(i8),
        NiftiType::Uint16 => samples!(u16),
        NiftiType::Int16 => samples!(i16),
        NiftiType::Uint32 => samples!(u32),
        NiftiType::Int32 => samples!(i32),
        NiftiType::Uint64 => samples!(u64),
        NiftiType::Int64 => samples!(i64),
        NiftiType::Float32 => samples!(f32),
        NiftiType::Float64 => samples!(f64),
        other => Err(DataErrorKind::UnsupportedType(format!(
            "NIfTI datatype {}",
            type_name(other)
        ))),
    }
}

/// The voxel values as `f32` in file order (first axis fastest), after `scaling` (applied in
/// `f64`, then rounded to `f32`). Integers above 2^24 and `f64` values are rounded to the
/// nearest `f32`.
pub(crate) fn decode_values(
    raw: &[u8],
    datatype: NiftiType,
    endianness: Endianness,
    scaling: Option<(f64, f64)>,
) -> Result<Vec<f32>, DataErrorKind> {
    let big = matches!(endianness, Endianness::Big);
    let n = raw.len() / datatype.size_of().max(1);
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, "voxel values"))?;
    macro_rules! values {
        ($t:ty) => {{
            const N: usize = std::mem::size_of::<$t>();
            let it = raw.chunks_exact(N).map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                let v = if big {
                    <$t>::from_be_bytes(b)
                } else {
                    <$t>::from_le_bytes(b)
                };
                crate::labels::Sample::value(v)
            });
            match scaling {
                None => out.extend(it.map(|v| v as f32)),
                Some((slope, inter)) => out.extend(it.map(|v| (v * slope + inter) as f32)),
            }
        }};
    }
    match datatype {
        NiftiType::Uint8 => values!(u8),
        NiftiType::Int8 => values!(i8),
        NiftiType::Uint16 => values!(u16),
        NiftiType::Int16 => values!(i16),
        NiftiType::Uint32 => values!(u32),
        NiftiType::Int32 => values!(i32),
        NiftiType::Uint64 => values!(u64),
        NiftiType::Int64 => values!(i64),
        NiftiType::Float32 => values!(f32),
        NiftiType::Float64 => values!(f64),
        other => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "NIfTI datatype {}",
                type_name(other)
            )));
        }
    }
    Ok(out)
}

/// Writes a label map as a single-file NIfTI-1, gzip-compressed if the name ends in `.nii.gz`
/// (any case), plain for `.nii`.
///
/// The voxel type is the smallest that holds every label: `uint8` if the largest label is at
/// most 255, else `uint16` up to 65535, else `uint32`. The header gets `dim` from the shape
/// (axis 0 is x, as [`read_label_map`](crate::read_label_map) reads it), `pixdim[1..=ndim]`
/// from `spacing` (stored as `f32`), `scl_slope` 1, units mm, and an axis-aligned qform and
/// sform (code 1, scanner) with `spacing` on the diagonal and the first three `origin` values
/// as the translation. The file is little-endian, `vox_offset` 352, without extensions, and is
/// written in one piece (encoded in memory first).
///
/// # Errors
///
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension) for any other name;
/// [`NotWritable`](DataErrorKind::NotWritable) for 0 or more than 7 axes, an axis longer than
/// 32767 or empty, or `spacing`/`origin` of the wrong length or not finite;
/// [`BadSpacing`](DataErrorKind::BadSpacing) for a spacing that is not > 0 as `f32`;
/// [`Io`](DataErrorKind::Io) when the file cannot be written.
///
/// # Examples
///
/// ```
/// use dicekit_data::{read_label_map, write_label_map_nifti, Volume};
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-nifti-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("pred.nii");
/// let v = Volume::new(array![[0u32, 300], [7, 0]].into_dyn()).with_spacing(vec![0.5, 1.25]);
/// write_label_map_nifti(&path, &v)?; // uint16, since 300 > 255
/// assert_eq!(read_label_map(&path)?, v);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_label_map_nifti(path: &Path, v: &Volume<u32>) -> Result<(), DataError> {
    let gz = match file_format(path) {
        Some(FileFormat::Nifti { gz }) => gz,
        _ => return Err(unsupported_extension(path, ".nii or .nii.gz").at(path)),
    };
    let bytes = encode_nifti(v).map_err(|k| k.at(path))?;
    let bytes = if gz {
        gzip(&bytes).map_err(|e| DataErrorKind::Io(e).at(path))?
    } else {
        bytes
    };
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

pub(crate) fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

/// A little-endian NIfTI-1 header plus the 4-byte extension flag (0), for voxels at
/// `vox_offset` 352: `dim` from `shape` (1 to 7 axes, each 1 to 32767, checked by the caller),
/// `pixdim[1..]` from `spacing` (1 for the axes past its end), `scl_slope` 1, units mm, and an
/// axis-aligned qform and sform (code 1) with the spacing on the diagonal and the first three
/// `origin` values as the translation.
pub(crate) fn header_bytes(
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

/// The bytes of a single-file NIfTI-1 (little-endian, no extensions, `vox_offset` 352).
fn encode_nifti(v: &Volume<u32>) -> Result<Vec<u8>, DataErrorKind> {
    let shape = v.data.shape();
    let ndim = shape.len();
    if !(1..=7).contains(&ndim) {
        return Err(DataErrorKind::NotWritable(format!(
            "NIfTI-1 holds 1 to 7 axes, the volume has {ndim}"
        )));
    }
    if let Some((axis, d)) = shape
        .iter()
        .enumerate()
        .find(|(_, d)| !(1..=MAX_DIM).contains(*d))
    {
        return Err(DataErrorKind::NotWritable(format!(
            "axis {axis} has length {d}; NIfTI-1 allows 1 to {MAX_DIM}"
        )));
    }
    v.check_geometry()?;

    let max = v.data.iter().copied().max().unwrap_or(0);
    let (datatype, size) = if max <= u32::from(u8::MAX) {
        (NiftiType::Uint8, 1)
    } else if max <= u32::from(u16::MAX) {
        (NiftiType::Uint16, 2)
    } else {
        (NiftiType::Uint32, 4)
    };

    let h = header_bytes(
        shape,
        datatype,
        size,
        &v.spacing,
        &v.origin,
        v.affine.as_ref(),
        b"dicekit label map",
    );

    let n = v.data.len();
    let mut out = Vec::new();
    out.try_reserve_exact(MIN_VOX_OFFSET + n * size)
        .map_err(|_| out_of_memory(n, "voxels"))?;
    out.extend_from_slice(&h);
    // NIfTI stores the first axis fastest: the reversed-axes view iterates in that order.
    let voxels = v.data.t();
    match datatype {
        NiftiType::Uint8 => out.extend(voxels.iter().map(|&l| l as u8)),
        NiftiType::Uint16 => voxels
            .iter()
            .for_each(|&l| out.extend_from_slice(&(l as u16).to_le_bytes())),
        _ => voxels
            .iter()
            .for_each(|&l| out.extend_from_slice(&l.to_le_bytes())),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, array};

    /// A minimal single-file header for the given fields (little-endian).
    fn header(dim: &[i16], datatype: i16, bitpix: i16, pixdim: &[f32]) -> Vec<u8> {
        let v = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[1])));
        let mut h = encode_nifti(&v).unwrap()[..MIN_VOX_OFFSET].to_vec();
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

    fn read(bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
        read_nifti_from(bytes, false)
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
    fn encode_then_decode_keeps_data_spacing_origin() {
        let data = Array::from_shape_fn((3, 4, 2), |(i, j, k)| (i + 10 * j + 100 * k) as u32);
        let v = Volume::new(data.into_dyn())
            .with_spacing(vec![0.75, 0.75, 2.5])
            .with_origin(vec![-12.0, 3.5, 40.0]);
        let back = read(&encode_nifti(&v).unwrap()).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn writer_picks_the_smallest_unsigned_type() {
        for (max, datatype) in [(255u32, 2i16), (256, 512), (65535, 512), (65536, 768)] {
            let v = Volume::new(array![0u32, max].into_dyn());
            let bytes = encode_nifti(&v).unwrap();
            assert_eq!(
                i16::from_le_bytes([bytes[70], bytes[71]]),
                datatype,
                "{max}"
            );
            assert_eq!(read(&bytes).unwrap(), v);
        }
    }

    #[test]
    fn non_standard_layout_is_written_in_logical_order() {
        let v = Volume::new(array![[1u32, 2, 3], [4, 5, 6]].reversed_axes().into_dyn());
        assert!(!v.data.is_standard_layout());
        assert_eq!(read(&encode_nifti(&v).unwrap()).unwrap(), v);
    }

    #[test]
    fn unwritable_volumes_are_errors() {
        let empty = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[0, 3])));
        let too_long = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[40_000])));
        let scalar = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[])));
        let short_spacing = Volume::new(array![1u32].into_dyn()).with_spacing(vec![]);
        let nan_origin = Volume::new(array![1u32].into_dyn()).with_origin(vec![f64::NAN]);
        for v in [empty, too_long, scalar, short_spacing, nan_origin] {
            assert!(
                matches!(encode_nifti(&v), Err(DataErrorKind::NotWritable(_))),
                "{:?}",
                v.shape()
            );
        }
        let zero_spacing = Volume::new(array![1u32].into_dyn()).with_spacing(vec![0.0]);
        assert!(matches!(
            encode_nifti(&zero_spacing),
            Err(DataErrorKind::BadSpacing { axis: 0, .. })
        ));
    }
}
