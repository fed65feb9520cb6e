//! Intensity images (PNG, JPEG, TIFF, NIfTI-1) read into a channels-first `Volume<f32>`, and
//! written back as PNG, TIFF or NIfTI.
//!
//! # Images and label maps: the two shapes of a [`Volume`]
//!
//! | | `data` | `spacing`, `origin` | made by |
//! |---|---|---|---|
//! | image | `[C, ...S]`, `C >= 1` channels first | one value per SPATIAL axis: `len == data.ndim() - 1` | [`read_image`], [`Volume::channels_first`] |
//! | label map / mask | `[...S]`, no channel axis | one value per axis: `len == data.ndim()` | [`read_label_map`](crate::read_label_map), [`read_mask`](crate::mask::read_mask), [`Volume::new`] |
//!
//! The geometry tells the two apart: a volume has a channel axis exactly when `spacing` has one
//! value fewer than `data` has axes ([`Volume::has_channel_axis`]). [`Volume::channels`] and
//! [`Volume::spatial_shape`] work on both (a label map has 1 channel and its whole shape is
//! spatial), so an image and its mask match when their `spatial_shape()`s are equal.
//!
//! # What each format gives
//!
//! Values are the file's samples converted to `f32`, never normalised or rescaled (an 8-bit
//! pixel 255 is 255.0, a 1-bit pixel 1 is 1.0, a 16-bit pixel 4095 is 4095.0). Integers above
//! 2^24 and `f64` samples are rounded to the nearest `f32`.
//!
//! | format | channels | spatial axes | samples |
//! |---|---|---|---|
//! | PNG | gray 1, gray+alpha 2, RGB 3, RGBA 4, palette -> RGB 3 (palette transparency dropped) | `[H, W]` | 1/2/4/8/16-bit |
//! | JPEG | gray 1, RGB/YCbCr -> RGB 3 | `[H, W]` | 8-bit baseline or progressive |
//! | TIFF | every sample of a pixel (`SamplesPerPixel`), contiguous or planar-separate | `[H, W]` | u8, i8, u16, i16, u32, i32, u64, i64, f16, f32, f64; 1/2/4-bit gray |
//! | NIfTI-1 | 1; `dim[4]` for 4-D files; `dim[5]` for 5-D files with `dim[4] = 1` | `(x, y, z)`, as [`read_label_map`](crate::read_label_map) | any integer or float type, `scl_slope`/`scl_inter` applied |
//!
//! PNG, JPEG and TIFF give `spacing` `[1, 1]` and `origin` `[0, 0]`; NIfTI gives `pixdim` and
//! the sform/qform origin of the spatial axes, with the rules of
//! [`read_label_map`](crate::read_label_map). TIFF `WhiteIsZero` images are not inverted, as
//! tifffile does not invert them. Multi-page TIFFs, palette/CMYK/YCbCr/Lab TIFFs, CMYK JPEGs and
//! complex or RGB NIfTI are refused ([`DataErrorKind::UnsupportedType`], naming what was found).
//!
//! # Examples
//!
//! ```
//! use dicekit_data::image::{read_image, write_image_png, PngDepth};
//! use dicekit_data::Volume;
//! use ndarray::Array3;
//!
//! let dir = std::env::temp_dir().join(format!("dicekit-doc-image-mod-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! // An RGB image [3, 2, 4]: channel c is filled with 10 * c.
//! let rgb = Volume::channels_first(Array3::from_shape_fn((3, 2, 4), |(c, _, _)| 10.0 * c as f32).into_dyn());
//! write_image_png(&dir.join("rgb.png"), &rgb, PngDepth::Eight)?;
//!
//! let back = read_image(&dir.join("rgb.png"))?;
//! assert_eq!((back.channels(), back.spatial_shape()), (3, &[2, 4][..]));
//! assert_eq!(back.spacing, vec![1.0, 1.0]);
//! assert_eq!(back, rgb);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), dicekit_data::DataError>(())
//! ```

use std::io::{BufRead, Seek};
use std::path::Path;

use ndarray::IxDyn;

use crate::format::{
    self, Format, IMAGE_EXTENSIONS, MAX_BYTES, Purpose, Raster, Samples, alloc, jpeg, nifti, png,
    tiff, unsupported_extension,
};
use crate::{DataError, DataErrorKind, Volume};

#[doc(hidden)]
pub mod fuzzing;

/// Reads an intensity image as `[C, ...S]` `f32` (channels first, values as stored), choosing
/// the reader by the file extension (any case): `.png`, `.jpg`, `.jpeg`, `.tif`, `.tiff`,
/// `.nii`, `.nii.gz`. See the [module docs](crate::image) for what each format gives.
///
/// - PNG, JPEG, TIFF: `data` is `[C, H, W]`, `spacing` `[1, 1]`, `origin` `[0, 0]`.
/// - NIfTI-1: `data` is `[C, x, y, z]` (or `[C, x, y]` for a 2-D file): a 3-D file has
///   `C = 1`, a 4-D file's 4th axis becomes the channel axis (moved to the front), and a 5-D
///   file with `dim[4] = 1` (the NIfTI vector convention) has its 5th axis as channels.
///   `spacing` and `origin` are those of the spatial axes (`pixdim[1..=3]`, the sform or qform
///   translation). `scl_slope`/`scl_inter` are applied (nibabel's rule).
///
/// # Errors
///
/// Every failure is an `Err` naming the file, never a panic:
/// [`Io`](DataErrorKind::Io), [`Format`](DataErrorKind::Format) (corrupt or truncated data),
/// [`UnsupportedType`](DataErrorKind::UnsupportedType) (a bit depth, sample format, colour
/// type or NIfTI datatype this reader does not decode, named in the message),
/// [`BadSpacing`](DataErrorKind::BadSpacing) (NIfTI),
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension).
///
/// # Examples
///
/// ```
/// use dicekit_data::image::{read_image, write_image_nifti};
/// use dicekit_data::Volume;
/// use ndarray::Array4;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-read-image-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// // Two channels (e.g. T1 and T2) of a 4 x 3 x 2 volume, stored as a 4-D NIfTI.
/// let v = Volume::channels_first(Array4::from_shape_fn((2, 4, 3, 2), |(c, x, y, z)| {
///     (c * 1000 + x * 100 + y * 10 + z) as f32 - 0.5
/// }).into_dyn())
/// .with_spacing(vec![0.75, 0.75, 2.5]) // exact in f32, as NIfTI stores it
/// .with_origin(vec![-90.0, 12.0, 3.0]);
/// write_image_nifti(&dir.join("t1t2.nii.gz"), &v)?;
///
/// let back = read_image(&dir.join("t1t2.nii.gz"))?;
/// assert_eq!(back.shape(), &[2, 4, 3, 2]);
/// assert_eq!(back, v);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn read_image(path: &Path) -> Result<Volume<f32>, DataError> {
    let format = Format::of_path(path, IMAGE_EXTENSIONS).map_err(|k| k.at(path))?;
    format::read(path, format, Purpose::Image, MAX_BYTES)?
        .into_values()
        .map_err(|k| k.at(path))
}

/// Decodes an image of `format` from a stream, its decoded samples limited to `max_bytes`.
pub(crate) fn decode_image(
    r: impl BufRead + Seek,
    format: Format,
    max_bytes: usize,
) -> Result<Volume<f32>, DataErrorKind> {
    format::decode(r, format, Purpose::Image, max_bytes)?.into_values()
}

/// The format of a file to write, when its name ends in one of the format's extensions.
fn writing(
    path: &Path,
    is: impl Fn(Format) -> bool,
    expected: &'static str,
) -> Result<Format, DataError> {
    Format::of(path)
        .filter(|&f| is(f))
        .ok_or_else(|| unsupported_extension(path, expected).at(path))
}

/// How [`write_image_png`] stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PngDepth {
    /// 8-bit samples, 0 to 255.
    Eight,
    /// 16-bit samples, 0 to 65535.
    Sixteen,
}

/// `v` rounded to the nearest integer (halves away from zero) and clamped to `0..=max`; NaN is
/// an error naming its index.
fn quantize(v: f32, max: f32, index: impl FnOnce() -> Vec<usize>) -> Result<f32, DataErrorKind> {
    if v.is_nan() {
        return Err(DataErrorKind::NotWritable(format!(
            "sample {:?} is NaN, which an integer format cannot hold",
            index()
        )));
    }
    Ok(v.round().clamp(0.0, max))
}

/// The 2-D image `[C, H, W]` `v` quantized ([`quantize`] to `0..=max`, then `narrow`) into
/// interleaved samples, as PNG, JPEG and TIFF store them; the first NaN in that order is the
/// error.
fn quantized<T>(
    v: &Volume<f32>,
    max: f32,
    narrow: fn(f32) -> T,
) -> Result<Raster<'static>, DataErrorKind>
where
    ndarray::ArrayD<T>: Into<Samples<'static>>,
{
    let &[c, h, w] = v.data.shape() else {
        return Err(DataErrorKind::NotWritable(format!(
            "a 2-D image is [C, H, W], the volume has shape {:?}",
            v.data.shape()
        )));
    };
    let mut out = alloc(c * h * w, "samples")?;
    // Interleaved samples: iterate [H, W, C].
    let hwc = v.data.view().permuted_axes(IxDyn(&[1, 2, 0]));
    for (flat, &x) in hwc.iter().enumerate() {
        let q = quantize(x, max, || vec![flat % c, flat / c / w, flat / c % w])?;
        out.push(narrow(q));
    }
    Raster::interleaved(out, c, h, w)
}

/// Checks that `v` is a 2-D image `[C, H, W]` with `1..=max_channels` channels and sides of
/// `1..=max_side` pixels, and its geometry; returns `(c, h, w)`.
fn check_2d_image(
    v: &Volume<f32>,
    format: &str,
    max_channels: usize,
    max_side: usize,
) -> Result<(usize, usize, usize), DataErrorKind> {
    let shape = v.data.shape();
    let &[c, h, w] = shape else {
        return Err(DataErrorKind::NotWritable(format!(
            "a {format} holds a 2-D image [C, H, W], the volume has shape {shape:?}"
        )));
    };
    if !v.has_channel_axis() {
        return Err(DataErrorKind::NotWritable(format!(
            "the volume has no channel axis (spacing has {} values for {} axes); \
             build images with Volume::channels_first",
            v.spacing.len(),
            shape.len()
        )));
    }
    if !(1..=max_channels).contains(&c) {
        return Err(DataErrorKind::NotWritable(format!(
            "a {format} holds 1 to {max_channels} channels, the volume has {c}"
        )));
    }
    if !(1..=max_side).contains(&h) || !(1..=max_side).contains(&w) {
        return Err(DataErrorKind::NotWritable(format!(
            "{format} sides must be 1 to {max_side} pixels, the volume has shape {shape:?}"
        )));
    }
    check_image_geometry(v)?;
    Ok((c, h, w))
}

/// One finite spacing > 0 (as `f32`) and one finite origin value per spatial axis.
fn check_image_geometry(v: &Volume<f32>) -> Result<(), DataErrorKind> {
    let n = v.data.ndim().saturating_sub(1);
    if v.spacing.len() != n || v.origin.len() != n {
        return Err(DataErrorKind::NotWritable(format!(
            "spacing has {} and origin {} values for {n} spatial axes",
            v.spacing.len(),
            v.origin.len()
        )));
    }
    for (axis, &value) in v.spacing.iter().enumerate() {
        let stored = value as f32;
        if !(stored.is_finite() && stored > 0.0) {
            return Err(DataErrorKind::BadSpacing { axis, value });
        }
    }
    if let Some((axis, value)) = v.origin.iter().enumerate().find(|(_, o)| !o.is_finite()) {
        return Err(DataErrorKind::NotWritable(format!(
            "origin of spatial axis {axis} is {value}"
        )));
    }
    Ok(())
}

/// Writes a 2-D image `[C, H, W]` (`C` = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) as an 8- or
/// 16-bit PNG. The name must end in `.png` (any case).
///
/// Each `f32` sample is rounded to the nearest integer (halves away from zero, as
/// [`f32::round`]) and then clamped to `0..=255` (`PngDepth::Eight`) or `0..=65535`
/// (`PngDepth::Sixteen`); infinities clamp, NaN is an error. PNG stores no spacing or origin:
/// they are checked (one finite value per spatial axis) but not written.
///
/// # Errors
///
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension);
/// [`NotWritable`](DataErrorKind::NotWritable) for a volume that is not `[C, H, W]` with a
/// channel axis, has 0 or more than 4 channels or an empty side, or holds NaN;
/// [`BadSpacing`](DataErrorKind::BadSpacing); [`Io`](DataErrorKind::Io).
///
/// # Examples
///
/// ```
/// use dicekit_data::image::{read_image, write_image_png, PngDepth};
/// use dicekit_data::Volume;
/// use ndarray::array;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-png-image-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let v = Volume::channels_first(array![[[-3.0f32, 0.5, 1.5, 254.6, 300.0]]].into_dyn());
/// write_image_png(&dir.join("gray.png"), &v, PngDepth::Eight)?;
/// let back = read_image(&dir.join("gray.png"))?;
/// assert_eq!(back.data, array![[[0.0f32, 1.0, 2.0, 255.0, 255.0]]].into_dyn());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_image_png(path: &Path, v: &Volume<f32>, depth: PngDepth) -> Result<(), DataError> {
    writing(path, |f| f == Format::Png, ".png")?;
    format::write(path, encode_png(v, depth))
}

fn encode_png(v: &Volume<f32>, depth: PngDepth) -> Result<Vec<u8>, DataErrorKind> {
    check_2d_image(v, "PNG", 4, i32::MAX as usize)?;
    match depth {
        PngDepth::Eight => png::encode(&quantized(v, 255.0, |q| q as u8)?),
        PngDepth::Sixteen => png::encode(&quantized(v, 65535.0, |q| q as u16)?),
    }
}

/// Writes a 2-D gray (`C = 1`) or RGB (`C = 3`) image `[C, H, W]` as a baseline JPEG of
/// `quality` 1..=100 (lossy), each sample rounded (halves away from zero) and clamped to
/// `0..=255`. Masks should not be stored as JPEG (edges blur); use PNG for label maps.
///
/// # Errors
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension) for a name not ending in `.jpg`
/// or `.jpeg`; [`NotWritable`](DataErrorKind::NotWritable) for other shapes or channel counts,
/// sides over 65535, a NaN sample or a quality outside 1..=100; [`Io`](DataErrorKind::Io).
///
/// # Examples
/// ```
/// use dicekit_data::Volume;
/// use dicekit_data::image::{read_image, write_image_jpeg};
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-jpeg-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let v = Volume::channels_first(ndarray::Array3::from_elem((3, 8, 8), 128f32).into_dyn());
/// write_image_jpeg(&dir.join("flat.jpg"), &v, 95)?;
/// let back = read_image(&dir.join("flat.jpg"))?;
/// assert!(back.data.iter().all(|&x| (x - 128.0).abs() <= 2.0));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_image_jpeg(path: &Path, v: &Volume<f32>, quality: u8) -> Result<(), DataError> {
    writing(path, |f| f == Format::Jpeg, ".jpg or .jpeg")?;
    format::write(path, encode_jpeg(v, quality))
}

fn encode_jpeg(v: &Volume<f32>, quality: u8) -> Result<Vec<u8>, DataErrorKind> {
    if !(1..=100).contains(&quality) {
        return Err(DataErrorKind::NotWritable(format!(
            "JPEG quality {quality} is outside 1..=100"
        )));
    }
    let (c, _, _) = check_2d_image(v, "JPEG", 3, jpeg::MAX_SIDE)?;
    jpeg::check_channels(c)?;
    jpeg::encode(&quantized(v, 255.0, |q| q as u8)?, quality)
}

/// How [`write_image_tiff`] stores samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffSamples {
    /// 32-bit IEEE float, the values exactly.
    F32,
    /// 16-bit unsigned integers: each value rounded (halves away from zero) and clamped to
    /// `0..=65535`; NaN is an error.
    U16,
}

/// Writes a 2-D image `[C, H, W]` with any number of channels as a single-page, uncompressed,
/// little-endian TIFF with `C` samples per pixel, interleaved (PlanarConfiguration 1):
/// `f32` samples as they are (`TiffSamples::F32`), or `u16` rounded and clamped
/// (`TiffSamples::U16`, the rule of [`write_image_png`]). Three channels are tagged RGB, any
/// other count grayscale (BlackIsZero) with `C - 1` unspecified extra samples, as tifffile
/// writes them. TIFF stores no spacing or origin here: they are checked but not written. The
/// name must end in `.tif` or `.tiff` (any case).
///
/// # Errors
///
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension);
/// [`NotWritable`](DataErrorKind::NotWritable) for a volume that is not `[C, H, W]` with a
/// channel axis, has an empty side or more than 65535 channels, would exceed 4 GiB, or holds
/// NaN with `TiffSamples::U16`; [`BadSpacing`](DataErrorKind::BadSpacing);
/// [`Io`](DataErrorKind::Io).
///
/// # Examples
///
/// ```
/// use dicekit_data::image::{read_image, write_image_tiff, TiffSamples};
/// use dicekit_data::Volume;
/// use ndarray::Array3;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-tiff-image-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// // Five spectral bands of a 3 x 4 tile.
/// let v = Volume::channels_first(Array3::from_shape_fn((5, 3, 4), |(c, y, x)| {
///     c as f32 * 0.25 + (y * 4 + x) as f32
/// }).into_dyn());
/// write_image_tiff(&dir.join("bands.tif"), &v, TiffSamples::F32)?;
/// assert_eq!(read_image(&dir.join("bands.tif"))?, v);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_image_tiff(
    path: &Path,
    v: &Volume<f32>,
    samples: TiffSamples,
) -> Result<(), DataError> {
    writing(path, |f| f == Format::Tiff, ".tif or .tiff")?;
    format::write(path, encode_tiff(v, samples))
}

fn encode_tiff(v: &Volume<f32>, kind: TiffSamples) -> Result<Vec<u8>, DataErrorKind> {
    check_2d_image(v, "TIFF", tiff::MAX_CHANNELS, tiff::MAX_SIDE)?;
    match kind {
        TiffSamples::F32 => {
            tiff::check_size(v.shape(), 4)?;
            tiff::encode(&Raster::new(v.data.view()))
        }
        TiffSamples::U16 => {
            tiff::check_size(v.shape(), 2)?;
            tiff::encode(&quantized(v, 65535.0, |q| q as u16)?)
        }
    }
}

/// Writes an image `[C, ...S]` (1 to 3 spatial axes) as a single-file `float32` NIfTI-1,
/// gzip-compressed if the name ends in `.nii.gz` (any case), plain for `.nii`.
///
/// One channel is written as a 1- to 3-D file of the spatial shape; `C > 1` channels as a 4-D
/// file `(x, y, z, C)` (a 2-D image gets `z = 1`, and then reads back as `[C, x, y, 1]`).
/// `pixdim` holds the spatial `spacing` (1 for the channel axis), the qform and sform hold
/// the spacing and the `origin` as with
/// [`write_label_map_nifti`](crate::write_label_map_nifti). Values are stored exactly.
///
/// # Errors
///
/// [`UnsupportedExtension`](DataErrorKind::UnsupportedExtension);
/// [`NotWritable`](DataErrorKind::NotWritable) for a volume without a channel axis, with no
/// or more than 3 spatial axes, an empty axis or one longer than 32767, or an origin that is
/// not finite; [`BadSpacing`](DataErrorKind::BadSpacing); [`Io`](DataErrorKind::Io).
///
/// # Examples
///
/// ```
/// use dicekit_data::image::{read_image, write_image_nifti};
/// use dicekit_data::Volume;
/// use ndarray::Array4;
///
/// let dir = std::env::temp_dir().join(format!("dicekit-doc-nifti-image-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let ct = Volume::channels_first(Array4::from_elem((1, 4, 4, 3), -1000.0f32).into_dyn())
///     .with_spacing(vec![0.7, 0.7, 3.0]);
/// write_image_nifti(&dir.join("ct.nii"), &ct)?;
/// let back = read_image(&dir.join("ct.nii"))?;
/// assert_eq!((back.shape(), back.spacing.clone()), (&[1, 4, 4, 3][..], vec![0.7f32 as f64, 0.7f32 as f64, 3.0]));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
pub fn write_image_nifti(path: &Path, v: &Volume<f32>) -> Result<(), DataError> {
    let format = writing(
        path,
        |f| matches!(f, Format::Nifti { .. }),
        ".nii or .nii.gz",
    )?;
    let gz = matches!(format, Format::Nifti { gz: true });
    format::write(path, encode_nifti(v, gz))
}

fn encode_nifti(v: &Volume<f32>, gz: bool) -> Result<Vec<u8>, DataErrorKind> {
    let shape = v.data.shape();
    if !v.has_channel_axis() || !(2..=4).contains(&shape.len()) {
        return Err(DataErrorKind::NotWritable(format!(
            "a NIfTI image is [C, ...S] with 1 to 3 spatial axes and spacing per spatial axis; \
             the volume has shape {shape:?} and {} spacing values",
            v.spacing.len()
        )));
    }
    nifti::check_axis_lengths(shape)?;
    check_image_geometry(v)?;
    let raster = Raster {
        samples: v.data.view().into(),
        scaling: None,
        spacing: v.spacing.clone(),
        origin: v.origin.clone(),
        affine: v.affine,
    };
    nifti::encode(&raster, b"dicekit image", gz)
}
