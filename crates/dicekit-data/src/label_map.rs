//! Label maps: a file's stored values as exact `u32` labels (`Volume<u32>`, no channel axis),
//! read from any label-map format and written as PNG or NIfTI-1; listing a folder of label
//! maps and matching cases by name.

use std::io::{BufRead, Seek};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, Axis, IxDyn};

use crate::format::{
    self, Format, MAX_BYTES, Purpose, Raster, Samples, alloc, nifti, png, unsupported_extension,
};
use crate::{DataError, DataErrorKind, Volume};

/// The extensions [`read_label_map`] accepts, for messages.
pub(crate) const EXPECTED_EXTENSIONS: &str = ".nii, .nii.gz, .png, .tif or .tiff";

/// The label-map format the file name announces (a JPEG is an image, never a label map).
pub(crate) fn label_map_format(path: &Path) -> Option<Format> {
    Format::of(path).filter(|&f| f != Format::Jpeg)
}

/// The limit on decoded bytes of [`read_label_map`]: none for NIfTI (memory grows with the
/// bytes actually read), [`MAX_BYTES`] for PNG and TIFF.
fn max_bytes(format: Format) -> usize {
    match format {
        Format::Nifti { .. } => usize::MAX,
        _ => MAX_BYTES,
    }
}

/// Reads an integer label map, choosing the reader by the file extension (any case): `.nii`,
/// `.nii.gz`, `.png`, `.tif`, `.tiff`.
///
/// - **NIfTI-1** (`.nii`, `.nii.gz`; gzip is detected from the content, so a mislabelled
///   `.nii` still reads): `data` is exactly nibabel's `np.asarray(nib.load(f).dataobj)`. Axes
///   are in the header's `dim` order, `(x, y, z, ...)`: element `[i, j, k]` is voxel
///   `(i, j, k)`, and the shape is `dim[1..=dim[0]]` (a file with `dim[0] = 3`, `dim[3] = 1` is
///   3-D with a last axis of length 1, a file with `dim[0] = 2` is 2-D). `spacing` is
///   `pixdim[1..=ndim]` in the same order (nibabel's `header.get_zooms()`). `scl_slope` and
///   `scl_inter` are applied in `f64` when the slope is finite and non-zero (nibabel's rule).
///   Any integer or float datatype is read; every value must then be a label (an integer
///   from 0 to `u32::MAX`). `origin` is the sform translation `(srow_x[3], srow_y[3],
///   srow_z[3])` when `sform_code > 0`, else the qform offset `(qoffset_x, qoffset_y,
///   qoffset_z)` when `qform_code > 0`, else zeros, cut (or padded with zeros) to `ndim`
///   values. It is a world (RAS) position, not rotated into array axes. Voxels are read at
///   `vox_offset`; extensions are skipped.
/// - **PNG**: 1/2/4/8/16-bit grayscale or palette. Palette images give the palette INDEX, and
///   samples are not rescaled. `data` is `[H, W]`, `spacing` `[1.0, 1.0]`, `origin` zeros.
/// - **TIFF**: single-page grayscale, 1/2/4/8/16/32/64-bit integer samples, or float samples
///   that are all labels (palette TIFFs are refused: the `tiff` crate does not decode them).
///   Same geometry as PNG.
///
/// `data` is returned in standard (row-major) layout.
///
/// # Errors
///
/// Every failure is an `Err`, never a panic; [`DataError`]'s kind says which:
/// [`Io`](DataErrorKind::Io) (missing or unreadable file),
/// [`Format`](DataErrorKind::Format) (corrupt or truncated data or gzip stream, bad header),
/// [`UnsupportedType`](DataErrorKind::UnsupportedType) (RGB, complex, multi-page, ...),
/// [`NonIntegerLabels`](DataErrorKind::NonIntegerLabels),
/// [`BadSpacing`](DataErrorKind::BadSpacing) (a NaN, infinite, zero or negative `pixdim`;
/// nibabel would silently replace 0 by 1 and negative values by their absolute value),
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension).
///
/// # Examples
///
/// ```
/// use dicekit_data::{read_label_map, write_label_map_nifti, Volume};
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-read-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("case_001.nii.gz");
/// let v = Volume::new(array![[[0u32, 1], [2, 0]]].into_dyn()).with_spacing(vec![0.75, 0.75, 2.5]);
/// write_label_map_nifti(&path, &v)?;
///
/// let back = read_label_map(&path)?;
/// assert_eq!(back.data, v.data);
/// assert_eq!(back.spacing, vec![0.75, 0.75, 2.5]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn read_label_map(path: &Path) -> Result<Volume<u32>, DataError> {
    let format = label_map_format(path)
        .ok_or_else(|| unsupported_extension(path, EXPECTED_EXTENSIONS).at(path))?;
    format::read(path, format, Purpose::LabelMap, max_bytes(format))?
        .into_labels()
        .map_err(|k| k.at(path))
}

/// A label map in the narrowest unsigned type that holds the file's values without a check:
/// what [`read_label_map_native`] gives, so that a `uint8` file stays one byte per voxel.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelVolume {
    /// 8-bit unsigned samples (NIfTI `uint8`, 8-bit PNG or TIFF), as stored.
    U8(Volume<u8>),
    /// 16-bit unsigned samples, as stored.
    U16(Volume<u16>),
    /// Every other type, checked and converted as [`read_label_map`] does.
    U32(Volume<u32>),
}

impl LabelVolume {
    /// The shape of the map.
    pub fn shape(&self) -> &[usize] {
        match self {
            LabelVolume::U8(v) => v.data.shape(),
            LabelVolume::U16(v) => v.data.shape(),
            LabelVolume::U32(v) => v.data.shape(),
        }
    }

    /// Voxel size in mm per axis.
    pub fn spacing(&self) -> &[f64] {
        match self {
            LabelVolume::U8(v) => &v.spacing,
            LabelVolume::U16(v) => &v.spacing,
            LabelVolume::U32(v) => &v.spacing,
        }
    }

    /// The labels as `u32` (a copy unless they already are): what [`read_label_map`] reads.
    pub fn into_u32(self) -> Volume<u32> {
        fn widen<T: Copy + Into<u32>>(v: Volume<T>) -> Volume<u32> {
            Volume {
                data: v.data.mapv(Into::into),
                spacing: v.spacing,
                origin: v.origin,
                affine: v.affine,
            }
        }
        match self {
            LabelVolume::U8(v) => widen(v),
            LabelVolume::U16(v) => widen(v),
            LabelVolume::U32(v) => v,
        }
    }
}

/// [`read_label_map`] without widening or reordering: `uint8` and `uint16` samples (without
/// NIfTI scaling) keep their type, one byte or two per voxel instead of four, and the file's
/// memory order: a NIfTI map is column-major (`data.t()` is in standard layout, no copy is
/// made), a PNG or TIFF row-major. Every other type is read as [`read_label_map`] reads it.
/// The labels (element by element), geometry and errors are those of [`read_label_map`].
///
/// # Errors
///
/// As [`read_label_map`].
///
/// # Examples
///
/// ```
/// use dicekit_data::{LabelVolume, read_label_map, read_label_map_native, write_label_map_nifti, Volume};
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-native-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("seg.nii.gz");
/// let v = Volume::new(array![[[0u32, 1], [2, 0]]].into_dyn());
/// write_label_map_nifti(&path, &v)?; // uint8 on disk
/// let native = read_label_map_native(&path)?;
/// assert!(matches!(native, LabelVolume::U8(_)));
/// assert_eq!(native.into_u32(), read_label_map(&path)?);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn read_label_map_native(path: &Path) -> Result<LabelVolume, DataError> {
    let format = label_map_format(path)
        .ok_or_else(|| unsupported_extension(path, EXPECTED_EXTENSIONS).at(path))?;
    format::read(path, format, Purpose::LabelMap, max_bytes(format))?
        .into_native_labels()
        .map_err(|k| k.at(path))
}

/// Decodes a label map of `format` from a stream, its decoded samples limited to `max_bytes`;
/// JPEG is refused.
pub(crate) fn decode_label_map(
    r: impl BufRead + Seek,
    format: Format,
    max_bytes: usize,
) -> Result<Volume<u32>, DataErrorKind> {
    format::decode(r, format, Purpose::LabelMap, max_bytes)?.into_labels()
}

/// The labels of `v` narrowed to `T` by `narrow` (the caller checked that they fit), as a
/// raster `[1, ...S]` with `v`'s geometry.
fn raster<T>(v: &Volume<u32>, narrow: impl Fn(u32) -> T) -> Result<Raster<'static>, DataErrorKind>
where
    ArrayD<T>: Into<Samples<'static>>,
{
    let mut samples = alloc(v.data.len(), "labels")?;
    samples.extend(v.data.iter().map(|&l| narrow(l)));
    let mut shape = vec![1];
    shape.extend_from_slice(v.data.shape());
    let data = ArrayD::from_shape_vec(IxDyn(&shape), samples)
        .map_err(|e| DataErrorKind::Format(format!("label count does not match ({e})")))?;
    Ok(Raster {
        samples: data.into(),
        scaling: None,
        spacing: v.spacing.clone(),
        origin: v.origin.clone(),
        affine: v.affine,
    })
}

/// Writes a 2-D label map `[H, W]` as a grayscale PNG: 8-bit if the largest label is at most
/// 255, else 16-bit. The name must end in `.png` (any case). PNG stores no spacing or origin:
/// they are checked (one finite value per axis) but not written, and
/// [`read_label_map`](crate::read_label_map) gives back `[1.0, 1.0]` and zeros.
///
/// # Errors
///
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension) for any other name;
/// [`NotWritable`](DataErrorKind::NotWritable) for a volume that is not 2-D, has an empty side,
/// or holds a label above 65535; [`BadSpacing`](DataErrorKind::BadSpacing);
/// [`Io`](DataErrorKind::Io) when the file cannot be written.
///
/// # Examples
///
/// ```
/// use dicekit_data::{read_label_map, write_label_map_png, Volume};
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-png-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("mask.png");
/// let v = Volume::new(array![[0u32, 1, 1], [0, 2, 0]].into_dyn());
/// write_label_map_png(&path, &v)?;
/// assert_eq!(read_label_map(&path)?, v);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_label_map_png(path: &Path, v: &Volume<u32>) -> Result<(), DataError> {
    if label_map_format(path) != Some(Format::Png) {
        return Err(unsupported_extension(path, ".png").at(path));
    }
    format::write(path, encode_png(v))
}

/// The bytes of a grayscale PNG of `v`: 8-bit if every label fits, else 16-bit.
fn encode_png(v: &Volume<u32>) -> Result<Vec<u8>, DataErrorKind> {
    let shape = v.data.shape();
    let &[h, w] = shape else {
        return Err(DataErrorKind::NotWritable(format!(
            "a PNG holds 2 axes [H, W], the volume has shape {shape:?}"
        )));
    };
    let limit = i32::MAX as usize;
    if !(1..=limit).contains(&h) || !(1..=limit).contains(&w) {
        return Err(DataErrorKind::NotWritable(format!(
            "PNG sides must be 1 to {limit} pixels, the volume has shape {shape:?}"
        )));
    }
    v.check_geometry()?;
    let max = v.data.iter().copied().max().unwrap_or(0);
    if max > u32::from(u16::MAX) {
        return Err(DataErrorKind::NotWritable(format!(
            "label {max} does not fit a 16-bit PNG"
        )));
    }
    if max > u32::from(u8::MAX) {
        png::encode(&raster(v, |l| l as u16)?)
    } else {
        png::encode(&raster(v, |l| l as u8)?)
    }
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
    let gz = match label_map_format(path) {
        Some(Format::Nifti { gz }) => gz,
        _ => return Err(unsupported_extension(path, ".nii or .nii.gz").at(path)),
    };
    format::write(path, encode_nifti(v, gz))
}

/// The bytes of a single-file NIfTI-1 of `v` (gzip-compressed when `gz`), in the smallest
/// unsigned type that holds every label.
fn encode_nifti(v: &Volume<u32>, gz: bool) -> Result<Vec<u8>, DataErrorKind> {
    let shape = v.data.shape();
    let ndim = shape.len();
    if !(1..=7).contains(&ndim) {
        return Err(DataErrorKind::NotWritable(format!(
            "NIfTI-1 holds 1 to 7 axes, the volume has {ndim}"
        )));
    }
    nifti::check_axis_lengths(shape)?;
    v.check_geometry()?;
    let max = v.data.iter().copied().max().unwrap_or(0);
    let descrip = b"dicekit label map";
    if max <= u32::from(u8::MAX) {
        nifti::encode(&raster(v, |l| l as u8)?, descrip, gz)
    } else if max <= u32::from(u16::MAX) {
        nifti::encode(&raster(v, |l| l as u16)?, descrip, gz)
    } else {
        let raster = Raster {
            samples: v.data.view().insert_axis(Axis(0)).into(),
            scaling: None,
            spacing: v.spacing.clone(),
            origin: v.origin.clone(),
            affine: v.affine,
        };
        nifti::encode(&raster, descrip, gz)
    }
}

/// The label-map files directly in `dir` (not in subfolders): regular files (or links to
/// them) whose name ends in `.nii`, `.nii.gz`, `.png`, `.tif` or `.tiff` (any case), sorted by
/// file name (byte order, so `case10` sorts before `case2`). Hidden files (name starting with
/// `.`, such as macOS `._case.nii.gz` resource forks) are skipped.
///
/// # Errors
///
/// [`DataErrorKind::Io`] with `dir`'s path when the folder cannot be read.
///
/// # Examples
///
/// ```
/// use dicekit_data::list_label_maps;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-list-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// for name in ["b.nii.gz", "a.png", "notes.txt", "._a.nii.gz"] {
///     std::fs::write(dir.join(name), b"").unwrap();
/// }
/// let found = list_label_maps(&dir)?;
/// assert_eq!(found, vec![dir.join("a.png"), dir.join("b.nii.gz")]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn list_label_maps(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let io_err = |e| DataErrorKind::Io(e).at(dir);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden && label_map_format(&path).is_some() && path.is_file() {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The label maps of `dir` by case name ([`case_name`]), refusing a folder where two files name
/// the same case (`a.png` beside `a.tif`, `a.nii` beside `a.nii.gz`): which one is meant cannot
/// be guessed.
///
/// # Errors
/// When the folder cannot be read, or with [`DataErrorKind::Dataset`] naming both files of an
/// ambiguous case.
pub fn label_maps_by_case(
    dir: &Path,
) -> Result<std::collections::BTreeMap<String, PathBuf>, DataError> {
    let mut by_case = std::collections::BTreeMap::new();
    for path in list_label_maps(dir)? {
        let name = case_name(&path);
        if let Some(other) = by_case.insert(name.clone(), path.clone()) {
            return Err(DataErrorKind::Dataset(format!(
                "`{}` and `{}` both name case `{name}`: remove or rename one",
                other.file_name().unwrap_or_default().to_string_lossy(),
                path.file_name().unwrap_or_default().to_string_lossy()
            ))
            .at(dir));
        }
    }
    Ok(by_case)
}

/// The file name without the extension of a format dicekit reads (`.nii.gz`, `.nii`, `.png`,
/// `.tif`, `.tiff`, `.jpg`, `.jpeg`, any case), used to pair images, predictions and references
/// by name: `Image_01L.jpg` and its predicted `Image_01L.png` share the case name
/// `Image_01L`. A name without one of these extensions is returned whole.
///
/// Note that `case.nii` and `case.nii.gz` have the same case name.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use dicekit_data::case_name;
///
/// assert_eq!(case_name(Path::new("preds/case_001.nii.gz")), "case_001");
/// assert_eq!(case_name(Path::new("gt/case_001.NII")), "case_001");
/// assert_eq!(case_name(Path::new("img.v2.tiff")), "img.v2");
/// assert_eq!(case_name(Path::new("photo_7.JPEG")), "photo_7");
/// assert_eq!(case_name(Path::new("notes.txt")), "notes.txt");
/// ```
pub fn case_name(path: &Path) -> String {
    Format::split_name(path).map_or_else(
        || {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        },
        |(name, _)| name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_name_strips_only_label_map_extensions() {
        let cases = [
            ("x/case_7.nii.gz", "case_7"),
            ("case_7.nii", "case_7"),
            ("sub-01.run-1.nii.gz", "sub-01.run-1"),
            ("mask.PNG", "mask"),
            ("mask.tif", "mask"),
            ("mask.tiff", "mask"),
            ("mask.tiff.bak", "mask.tiff.bak"),
            (".png", ".png"),
            ("ünïcode.nii", "ünïcode"),
        ];
        for (path, want) in cases {
            assert_eq!(case_name(Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn label_map_formats_come_from_the_suffix_in_any_case() {
        let cases = [
            ("a.nii.gz", Some(Format::Nifti { gz: true })),
            ("A.NII.GZ", Some(Format::Nifti { gz: true })),
            ("a.nii", Some(Format::Nifti { gz: false })),
            ("dir.png/a.Png", Some(Format::Png)),
            ("a.tif", Some(Format::Tiff)),
            ("a.TIFF", Some(Format::Tiff)),
            ("a.gz", None),
            ("a.jpg", None),
            ("a", None),
            (".png", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(label_map_format(Path::new(name)), want, "{name}");
        }
    }

    // -------------------------------------------------------------------------- PNG writer

    fn decode_png(bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
        decode_label_map(std::io::Cursor::new(bytes), Format::Png, MAX_BYTES)
    }

    #[test]
    fn png_encode_picks_8_or_16_bits_and_round_trips() {
        use ndarray::array;
        for max in [255u32, 256, 65535] {
            let v = Volume::new(array![[0u32, max], [1, 2]].into_dyn());
            let bytes = encode_png(&v).unwrap();
            let depth = bytes[24]; // IHDR bit depth
            assert_eq!(depth, if max > 255 { 16 } else { 8 });
            assert_eq!(decode_png(&bytes).unwrap().data, v.data);
        }
    }

    #[test]
    fn png_encode_rejects_what_png_cannot_hold() {
        use ndarray::array;
        let three_d = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[2, 2, 2])));
        let big_label = Volume::new(array![[70_000u32]].into_dyn());
        let empty = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[0, 2])));
        for v in [three_d, big_label, empty] {
            assert!(
                matches!(encode_png(&v), Err(DataErrorKind::NotWritable(_))),
                "{:?}",
                v.shape()
            );
        }
    }

    // ------------------------------------------------------------------------ NIfTI writer

    fn read_nifti(bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
        decode_label_map(
            std::io::Cursor::new(bytes),
            Format::Nifti { gz: false },
            usize::MAX,
        )
    }

    #[test]
    fn nifti_encode_then_decode_keeps_data_spacing_origin() {
        let data =
            ndarray::Array::from_shape_fn((3, 4, 2), |(i, j, k)| (i + 10 * j + 100 * k) as u32);
        let v = Volume::new(data.into_dyn())
            .with_spacing(vec![0.75, 0.75, 2.5])
            .with_origin(vec![-12.0, 3.5, 40.0]);
        for gz in [false, true] {
            let back = read_nifti(&encode_nifti(&v, gz).unwrap()).unwrap();
            assert_eq!(back, v);
        }
    }

    #[test]
    fn nifti_writer_picks_the_smallest_unsigned_type() {
        use ndarray::array;
        for (max, datatype) in [(255u32, 2i16), (256, 512), (65535, 512), (65536, 768)] {
            let v = Volume::new(array![0u32, max].into_dyn());
            let bytes = encode_nifti(&v, false).unwrap();
            assert_eq!(
                i16::from_le_bytes([bytes[70], bytes[71]]),
                datatype,
                "{max}"
            );
            assert_eq!(read_nifti(&bytes).unwrap(), v);
        }
    }

    #[test]
    fn nifti_non_standard_layout_is_written_in_logical_order() {
        use ndarray::array;
        for v in [
            Volume::new(array![[1u32, 2, 3], [4, 5, 6]].reversed_axes().into_dyn()),
            Volume::new(
                array![[1u32, 2, 3], [4, 5, 70_000]]
                    .reversed_axes()
                    .into_dyn(),
            ),
        ] {
            assert!(!v.data.is_standard_layout());
            assert_eq!(read_nifti(&encode_nifti(&v, false).unwrap()).unwrap(), v);
        }
    }

    #[test]
    fn nifti_unwritable_volumes_are_errors() {
        use ndarray::array;
        let empty = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[0, 3])));
        let too_long = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[40_000])));
        let scalar = Volume::new(ArrayD::<u32>::zeros(IxDyn(&[])));
        let short_spacing = Volume::new(array![1u32].into_dyn()).with_spacing(vec![]);
        let nan_origin = Volume::new(array![1u32].into_dyn()).with_origin(vec![f64::NAN]);
        for v in [empty, too_long, scalar, short_spacing, nan_origin] {
            assert!(
                matches!(encode_nifti(&v, false), Err(DataErrorKind::NotWritable(_))),
                "{:?}",
                v.shape()
            );
        }
        let zero_spacing = Volume::new(array![1u32].into_dyn()).with_spacing(vec![0.0]);
        assert!(matches!(
            encode_nifti(&zero_spacing, false),
            Err(DataErrorKind::BadSpacing { axis: 0, .. })
        ));
    }
}
