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

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn, ShapeBuilder};
use nifti::NiftiType;
use png::{BitDepth, ColorType};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use zune_jpeg::JpegDecoder;
use zune_jpeg::errors::DecodeErrors;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use crate::labels::out_of_memory;
use crate::nifti_io::{
    MAX_DIM, decode_values, decode_voxels, gzip, header_bytes, read_gz_or_plain,
};
use crate::png_io::decode_error;
use crate::tiff_io::{tiff_error, unpack_rows};
use crate::{DataError, DataErrorKind, Volume};

/// Largest decoded image accepted by [`read_image`], in bytes of samples as stored.
const MAX_IMAGE_BYTES: usize = 1 << 32;

/// The extensions [`read_image`] accepts, for messages.
pub(crate) const IMAGE_EXTENSIONS: &str = ".png, .jpg, .jpeg, .tif, .tiff, .nii or .nii.gz";

/// An image file format, as told by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFormat {
    /// NIfTI-1, `.nii` (`gz: false`) or `.nii.gz` (`gz: true`).
    Nifti { gz: bool },
    /// `.png`
    Png,
    /// `.jpg` or `.jpeg`
    Jpeg,
    /// `.tif` or `.tiff`
    Tiff,
}

/// Suffixes and their formats; compared ignoring ASCII case.
const IMAGE_SUFFIXES: [(&str, ImageFormat); 7] = [
    (".nii.gz", ImageFormat::Nifti { gz: true }),
    (".nii", ImageFormat::Nifti { gz: false }),
    (".png", ImageFormat::Png),
    (".jpeg", ImageFormat::Jpeg),
    (".jpg", ImageFormat::Jpeg),
    (".tiff", ImageFormat::Tiff),
    (".tif", ImageFormat::Tiff),
];

/// The file name without its image extension, and the format, when the name ends in one of
/// the [`IMAGE_EXTENSIONS`] (any case). A name that IS the suffix (`.png`) has none.
pub(crate) fn split_image_name(path: &Path) -> Option<(String, ImageFormat)> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let lower = name.to_ascii_lowercase();
    IMAGE_SUFFIXES
        .iter()
        .find(|(s, _)| lower.len() > s.len() && lower.ends_with(s))
        .map(|&(s, f)| (name[..name.len() - s.len()].to_string(), f))
}

/// The format a file name announces, or the error naming the extension found.
pub(crate) fn image_format(path: &Path) -> Result<ImageFormat, DataErrorKind> {
    split_image_name(path)
        .map(|(_, f)| f)
        .ok_or_else(|| DataErrorKind::UnsupportedExtension {
            found: path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default(),
            expected: IMAGE_EXTENSIONS,
        })
}

impl<T> Volume<T> {
    /// A channels-first image volume: `data` is `[C, ...S]`, and `spacing` (1 mm) and `origin`
    /// (0) get one value per SPATIAL axis, `data.ndim() - 1` values. This is the shape
    /// [`read_image`] returns; see the [module docs](crate::image) for the convention.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::Array3;
    ///
    /// let v = Volume::channels_first(Array3::<f32>::zeros((3, 4, 5)).into_dyn());
    /// assert_eq!((v.channels(), v.spatial_shape()), (3, &[4, 5][..]));
    /// assert_eq!(v.spacing, vec![1.0, 1.0]);
    /// assert_eq!(v.origin, vec![0.0, 0.0]);
    /// ```
    pub fn channels_first(data: ArrayD<T>) -> Self {
        let n = data.ndim().saturating_sub(1);
        Self {
            data,
            spacing: vec![1.0; n],
            origin: vec![0.0; n],
            affine: None,
        }
    }

    /// Whether `data`'s first axis is a channel axis: `spacing` has exactly one value fewer
    /// than `data` has axes (an image from [`read_image`]). A label map (one spacing value per
    /// axis) has none.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::array;
    ///
    /// assert!(!Volume::new(array![[0u32, 1]].into_dyn()).has_channel_axis());
    /// assert!(Volume::channels_first(array![[0.5f32, 1.0]].into_dyn()).has_channel_axis());
    /// ```
    pub fn has_channel_axis(&self) -> bool {
        self.spacing.len() + 1 == self.data.ndim()
    }

    /// The number of channels: `data.shape()[0]` for an image `[C, ...S]`, 1 for a label map.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::{array, Array3};
    ///
    /// assert_eq!(Volume::channels_first(Array3::<f32>::zeros((4, 2, 2)).into_dyn()).channels(), 4);
    /// assert_eq!(Volume::new(array![[0u32, 1]].into_dyn()).channels(), 1);
    /// ```
    pub fn channels(&self) -> usize {
        if self.has_channel_axis() {
            self.data.shape()[0]
        } else {
            1
        }
    }

    /// The spatial shape `S`: `data`'s shape without the channel axis of an image, the whole
    /// shape of a label map. An image and its mask match when these are equal.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::Volume;
    /// use ndarray::Array3;
    /// use ndarray::Array2;
    ///
    /// let image = Volume::channels_first(Array3::<f32>::zeros((3, 4, 5)).into_dyn());
    /// let mask = Volume::new(Array2::<u32>::zeros((4, 5)).into_dyn());
    /// assert_eq!(image.spatial_shape(), mask.spatial_shape());
    /// ```
    pub fn spatial_shape(&self) -> &[usize] {
        let shape = self.data.shape();
        if self.has_channel_axis() {
            &shape[1..]
        } else {
            shape
        }
    }
}

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
    let format = image_format(path).map_err(|k| k.at(path))?;
    let file = File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    decode_image(BufReader::new(file), format, MAX_IMAGE_BYTES).map_err(|k| k.at(path))
}

/// Decodes an image of the given format; `max_bytes` bounds the decoded samples as stored.
pub(crate) fn decode_image(
    r: impl BufRead + Seek,
    format: ImageFormat,
    max_bytes: usize,
) -> Result<Volume<f32>, DataErrorKind> {
    match format {
        ImageFormat::Png => decode_png_image(r, max_bytes),
        ImageFormat::Jpeg => {
            let mut bytes = Vec::new();
            let mut r = r;
            r.read_to_end(&mut bytes).map_err(DataErrorKind::Io)?;
            decode_jpeg_image(&bytes, max_bytes)
        }
        ImageFormat::Tiff => decode_tiff_image(r, max_bytes),
        ImageFormat::Nifti { gz } => decode_nifti_image(r, gz, max_bytes),
    }
}

/// An `f32` buffer with room for `n` values, or an out-of-memory error.
fn alloc_f32(n: usize) -> Result<Vec<f32>, DataErrorKind> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, "samples"))?;
    Ok(v)
}

/// `samples` of `h * w` pixels with `c` interleaved samples each (`[H, W, C]`, row-major) as a
/// channels-first 2-D image `[C, H, W]`.
fn interleaved_to_image(
    samples: Vec<f32>,
    c: usize,
    h: usize,
    w: usize,
) -> Result<Volume<f32>, DataErrorKind> {
    let hwc = ArrayD::from_shape_vec(IxDyn(&[h, w, c]), samples).map_err(|e| {
        DataErrorKind::Format(format!("sample count does not match the image size ({e})"))
    })?;
    let data = if c == 1 {
        hwc.into_shape_with_order(IxDyn(&[1, h, w]))
            .map_err(|e| DataErrorKind::Format(format!("cannot reshape ({e})")))?
    } else {
        hwc.permuted_axes(IxDyn(&[2, 0, 1]))
            .as_standard_layout()
            .into_owned()
    };
    Ok(Volume::channels_first(data))
}

/// Replaces line breaks so that a third-party message keeps the error on one line.
fn one_line(msg: impl std::fmt::Display) -> String {
    msg.to_string().replace(['\n', '\r'], " ")
}

// ---------------------------------------------------------------------------------------------
// PNG

fn decode_png_image(
    r: impl BufRead + Seek,
    max_bytes: usize,
) -> Result<Volume<f32>, DataErrorKind> {
    let limits = png::Limits { bytes: max_bytes };
    // The default transformations are the identity: no palette expansion, no 16 -> 8 bit, no
    // rescaling of 1/2/4-bit gray.
    let mut reader = png::Decoder::new_with_limits(r, limits)
        .read_info()
        .map_err(decode_error)?;
    let (color, palette) = {
        let info = reader.info();
        let palette = match info.color_type {
            ColorType::Indexed => Some(
                info.palette
                    .as_ref()
                    .map(|p| p.to_vec())
                    .ok_or_else(|| DataErrorKind::Format("palette PNG without a palette".into()))?,
            ),
            _ => None,
        };
        (info.color_type, palette)
    };
    let spp = match color {
        ColorType::Grayscale | ColorType::Indexed => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
    };
    let (buf, frame) = crate::png_io::read_frame(&mut reader, max_bytes)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let per_row = w
        .checked_mul(spp)
        .ok_or_else(|| DataErrorKind::UnsupportedType("PNG too large".into()))?;
    let n = per_row
        .checked_mul(h)
        .ok_or_else(|| DataErrorKind::UnsupportedType("PNG too large".into()))?;
    let mut samples = alloc_f32(n)?;
    let bits = frame.bit_depth as u32;
    for row in buf.chunks_exact(frame.line_size.max(1)).take(h) {
        match frame.bit_depth {
            BitDepth::Sixteen => samples.extend(
                row.chunks_exact(2)
                    .take(per_row)
                    .map(|b| f32::from(u16::from_be_bytes([b[0], b[1]]))),
            ),
            BitDepth::Eight => samples.extend(row.iter().take(per_row).map(|&b| f32::from(b))),
            _ => {
                // 1, 2 or 4 bits per sample, most significant bits first.
                let per_byte = 8 / bits;
                let mask = (1u8 << bits) - 1;
                samples.extend(
                    row.iter()
                        .flat_map(|&byte| {
                            (0..per_byte).map(move |k| (byte >> (8 - bits * (k + 1))) & mask)
                        })
                        .take(per_row)
                        .map(f32::from),
                );
            }
        }
    }
    if samples.len() != n {
        return Err(DataErrorKind::Format(format!(
            "{w}x{h} PNG decoded to {} samples, expected {n}",
            samples.len()
        )));
    }
    match palette {
        None => interleaved_to_image(samples, spp, h, w),
        Some(palette) => {
            let entries = palette.len() / 3;
            let mut rgb = alloc_f32(3 * n)?;
            for (flat, &index) in samples.iter().enumerate() {
                let i = index as usize;
                let Some(colour) = palette.get(3 * i..3 * i + 3) else {
                    return Err(DataErrorKind::Format(format!(
                        "pixel [{}, {}] holds palette index {i}, but the palette has {entries} entries",
                        flat / w.max(1),
                        flat % w.max(1)
                    )));
                };
                rgb.extend(colour.iter().map(|&c| f32::from(c)));
            }
            interleaved_to_image(rgb, 3, h, w)
        }
    }
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
    if image_format(path).ok() != Some(ImageFormat::Png) {
        return Err(DataErrorKind::UnsupportedExtension {
            found: path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default(),
            expected: ".png",
        }
        .at(path));
    }
    let bytes = encode_png_image(v, depth).map_err(|k| k.at(path))?;
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
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
    if image_format(path).ok() != Some(ImageFormat::Jpeg) {
        return Err(DataErrorKind::UnsupportedExtension {
            found: path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default(),
            expected: ".jpg or .jpeg",
        }
        .at(path));
    }
    let bytes = encode_jpeg_image(v, quality).map_err(|k| k.at(path))?;
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

fn encode_jpeg_image(v: &Volume<f32>, quality: u8) -> Result<Vec<u8>, DataErrorKind> {
    if !(1..=100).contains(&quality) {
        return Err(DataErrorKind::NotWritable(format!(
            "JPEG quality {quality} is outside 1..=100"
        )));
    }
    let (c, h, w) = check_2d_image(v, "JPEG", 3, u16::MAX as usize)?;
    let colour = match c {
        1 => jpeg_encoder::ColorType::Luma,
        3 => jpeg_encoder::ColorType::Rgb,
        _ => {
            return Err(DataErrorKind::NotWritable(format!(
                "a JPEG holds 1 (gray) or 3 (RGB) channels, the image has {c}"
            )));
        }
    };
    let hwc = v.data.view().permuted_axes(IxDyn(&[1, 2, 0]));
    let mut pixels = Vec::with_capacity(c * h * w);
    for (flat, &x) in hwc.iter().enumerate() {
        pixels.push(quantize(x, 255.0, || vec![flat % c, flat / c / w, flat / c % w])? as u8);
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(&pixels, w as u16, h as u16, colour)
        .map_err(|e| DataErrorKind::NotWritable(format!("JPEG encoder: {e}")))?;
    Ok(out)
}

fn encode_png_image(v: &Volume<f32>, depth: PngDepth) -> Result<Vec<u8>, DataErrorKind> {
    let (c, h, w) = check_2d_image(v, "PNG", 4, i32::MAX as usize)?;
    let (max, bytes_per) = match depth {
        PngDepth::Eight => (255.0, 1),
        PngDepth::Sixteen => (65535.0, 2),
    };
    let n = c * h * w * bytes_per;
    let mut pixels = Vec::new();
    pixels
        .try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, "bytes of pixels"))?;
    // PNG interleaves the channels: iterate [H, W, C].
    let hwc = v.data.view().permuted_axes(IxDyn(&[1, 2, 0]));
    for (flat, &x) in hwc.iter().enumerate() {
        let q = quantize(x, max, || vec![flat % c, flat / c / w, flat / c % w])?;
        match depth {
            PngDepth::Eight => pixels.push(q as u8),
            PngDepth::Sixteen => pixels.extend_from_slice(&(q as u16).to_be_bytes()),
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
    enc.set_color(match c {
        1 => ColorType::Grayscale,
        2 => ColorType::GrayscaleAlpha,
        3 => ColorType::Rgb,
        _ => ColorType::Rgba,
    });
    enc.set_depth(match depth {
        PngDepth::Eight => BitDepth::Eight,
        PngDepth::Sixteen => BitDepth::Sixteen,
    });
    let encoding = |e: png::EncodingError| DataErrorKind::NotWritable(format!("PNG encoder: {e}"));
    let mut writer = enc.write_header().map_err(encoding)?;
    writer.write_image_data(&pixels).map_err(encoding)?;
    writer.finish().map_err(encoding)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// JPEG

fn jpeg_error(e: DecodeErrors) -> DataErrorKind {
    match e {
        DecodeErrors::Unsupported(s) => {
            DataErrorKind::UnsupportedType(one_line(format!("JPEG variant not supported ({s:?})")))
        }
        DecodeErrors::LargeDimensions(d) => DataErrorKind::UnsupportedType(format!(
            "JPEG dimension {d} is larger than the decoder supports"
        )),
        DecodeErrors::ExhaustedData | DecodeErrors::IoErrors(_) => {
            DataErrorKind::Format(one_line(format!("truncated JPEG ({e})")))
        }
        DecodeErrors::FormatStatic(msg) if msg.contains("Premature end") => {
            DataErrorKind::Format(format!("truncated JPEG ({msg})"))
        }
        other => DataErrorKind::Format(one_line(format!("corrupt JPEG ({other})"))),
    }
}

fn decode_jpeg_image(bytes: &[u8], max_bytes: usize) -> Result<Volume<f32>, DataErrorKind> {
    // Strict mode: a truncated or corrupt scan is an error, not a grey-filled image.
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    dec.decode_headers().map_err(jpeg_error)?;
    let input = dec
        .input_colorspace()
        .ok_or_else(|| DataErrorKind::Format("JPEG headers could not be read".into()))?;
    let (out, c) = match input {
        ColorSpace::Luma => (ColorSpace::Luma, 1),
        ColorSpace::YCbCr | ColorSpace::RGB => (ColorSpace::RGB, 3),
        other => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{other:?} JPEG; images must be grayscale or RGB/YCbCr JPEGs"
            )));
        }
    };
    let info = dec
        .info()
        .ok_or_else(|| DataErrorKind::Format("JPEG headers could not be read".into()))?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    dec.set_options(options.jpeg_set_out_colorspace(out));
    let n = w * h * c; // at most 65535^2 * 3, no overflow on 64-bit
    if n > max_bytes {
        return Err(DataErrorKind::UnsupportedType(format!(
            "{w}x{h} JPEG needs {n} bytes, more than the limit of {max_bytes}"
        )));
    }
    let size = dec.output_buffer_size().unwrap_or(n).max(n);
    let mut pixels = Vec::new();
    pixels
        .try_reserve_exact(size)
        .map_err(|_| out_of_memory(size, "bytes of pixels"))?;
    pixels.resize(size, 0);
    dec.decode_into(&mut pixels).map_err(jpeg_error)?;
    let mut samples = alloc_f32(n)?;
    samples.extend(pixels[..n].iter().map(|&b| f32::from(b)));
    interleaved_to_image(samples, c, h, w)
}

// ---------------------------------------------------------------------------------------------
// TIFF

fn decode_tiff_image(r: impl Read + Seek, max_bytes: usize) -> Result<Volume<f32>, DataErrorKind> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = max_bytes;
    let mut dec = Decoder::new(r).map_err(tiff_error)?.with_limits(limits);
    let (w, h) = dec.dimensions().map_err(tiff_error)?;
    let (w, h) = (w as usize, h as usize);
    let color = dec.colortype().map_err(tiff_error)?;
    let bits = match color {
        tiff::ColorType::Gray(b)
        | tiff::ColorType::GrayA(b)
        | tiff::ColorType::RGB(b)
        | tiff::ColorType::RGBA(b)
        | tiff::ColorType::Multiband { bit_depth: b, .. } => b,
        other => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{other:?} TIFF; images must be grayscale, RGB(A) or multi-band TIFFs"
            )));
        }
    };
    let spp = usize::from(
        dec.find_tag_unsigned::<u16>(Tag::SamplesPerPixel)
            .map_err(tiff_error)?
            .unwrap_or(1),
    );
    let decoded_samples = match color {
        tiff::ColorType::Multiband { num_samples, .. } => usize::from(num_samples),
        tiff::ColorType::RGBA(_) => 4,
        tiff::ColorType::RGB(_) => 3,
        tiff::ColorType::GrayA(_) => 2,
        _ => 1,
    };
    if decoded_samples != spp {
        // e.g. RGB plus an extra sample of unspecified meaning: tiff 0.11 returns R, G, B only.
        return Err(DataErrorKind::UnsupportedType(format!(
            "{color:?} TIFF with {spp} samples per pixel, of which the TIFF decoder returns only \
             {decoded_samples}; store extra bands with PhotometricInterpretation BlackIsZero"
        )));
    }
    let low_bit_gray = spp == 1 && matches!(bits, 1 | 2 | 4);
    if !(matches!(bits, 8 | 16 | 32 | 64) || low_bit_gray) {
        return Err(DataErrorKind::UnsupportedType(format!(
            "{bits}-bit TIFF samples ({spp} per pixel); images need 8, 16, 32 or 64-bit samples \
             (or 1, 2 or 4-bit gray)"
        )));
    }
    if dec.more_images() {
        return Err(DataErrorKind::UnsupportedType(
            "multi-page TIFF; only single-page 2-D images are read".into(),
        ));
    }
    let n = w
        .checked_mul(h)
        .and_then(|p| p.checked_mul(spp))
        .ok_or_else(|| DataErrorKind::UnsupportedType("TIFF too large".into()))?;
    let mut result = DecodingResult::U8(Vec::new());
    let layout = dec.read_image_to_buffer(&mut result).map_err(tiff_error)?;
    if result.as_buffer(0).as_bytes().len() < layout.complete_len {
        return Err(DataErrorKind::UnsupportedType(format!(
            "TIFF of {} bytes is larger than the limit of {max_bytes}",
            layout.complete_len
        )));
    }
    let planar = layout.planes > 1;
    let mut samples = alloc_f32(n)?;
    match result {
        DecodingResult::U8(v) if low_bit_gray => {
            samples.extend(unpack_rows(&v, bits, w, h)?.into_iter().map(|x| x as f32));
        }
        DecodingResult::U8(v) => samples.extend(v.into_iter().take(n).map(f32::from)),
        DecodingResult::U16(v) => samples.extend(v.into_iter().take(n).map(f32::from)),
        DecodingResult::U32(v) => samples.extend(v.into_iter().take(n).map(|x| x as f32)),
        DecodingResult::U64(v) => samples.extend(v.into_iter().take(n).map(|x| x as f32)),
        DecodingResult::I8(v) => samples.extend(v.into_iter().take(n).map(f32::from)),
        DecodingResult::I16(v) => samples.extend(v.into_iter().take(n).map(f32::from)),
        DecodingResult::I32(v) => samples.extend(v.into_iter().take(n).map(|x| x as f32)),
        DecodingResult::I64(v) => samples.extend(v.into_iter().take(n).map(|x| x as f32)),
        DecodingResult::F16(v) => samples.extend(v.into_iter().take(n).map(|x| x.to_f32())),
        DecodingResult::F32(v) => samples.extend(v.into_iter().take(n)),
        DecodingResult::F64(v) => samples.extend(v.into_iter().take(n).map(|x| x as f32)),
    }
    if samples.len() != n {
        return Err(DataErrorKind::Format(format!(
            "TIFF of {w}x{h} pixels with {spp} samples each decoded to {} samples",
            samples.len()
        )));
    }
    if planar {
        // Planar-separate: the planes follow each other, already [C, H, W].
        let data = ArrayD::from_shape_vec(IxDyn(&[spp, h, w]), samples).map_err(|e| {
            DataErrorKind::Format(format!("TIFF sample count does not match its size ({e})"))
        })?;
        Ok(Volume::channels_first(data))
    } else {
        interleaved_to_image(samples, spp, h, w)
    }
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
    if image_format(path).ok() != Some(ImageFormat::Tiff) {
        return Err(DataErrorKind::UnsupportedExtension {
            found: path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default(),
            expected: ".tif or .tiff",
        }
        .at(path));
    }
    let bytes = encode_tiff_image(v, samples).map_err(|k| k.at(path))?;
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

/// One IFD entry: tag, field type (3 SHORT, 4 LONG), and the values' bytes (little-endian).
struct IfdEntry {
    tag: u16,
    typ: u16,
    count: u32,
    bytes: Vec<u8>,
}

fn shorts(tag: u16, values: &[u16]) -> IfdEntry {
    IfdEntry {
        tag,
        typ: 3,
        count: values.len() as u32,
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn longs(tag: u16, values: &[u32]) -> IfdEntry {
    IfdEntry {
        tag,
        typ: 4,
        count: values.len() as u32,
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn encode_tiff_image(v: &Volume<f32>, kind: TiffSamples) -> Result<Vec<u8>, DataErrorKind> {
    let (c, h, w) = check_2d_image(v, "TIFF", usize::from(u16::MAX), u32::MAX as usize)?;
    let sample_bytes = match kind {
        TiffSamples::F32 => 4,
        TiffSamples::U16 => 2,
    };
    let too_large =
        || DataErrorKind::NotWritable(format!("a TIFF of shape {:?} exceeds 4 GiB", v.shape()));
    let row_bytes = w
        .checked_mul(c)
        .and_then(|x| x.checked_mul(sample_bytes))
        .ok_or_else(too_large)?;
    let data_bytes = row_bytes.checked_mul(h).ok_or_else(too_large)?;
    // Strips of about 64 KiB (at least one row), as libtiff does by default.
    let rows_per_strip = (65536 / row_bytes).clamp(1, h);
    let n_strips = h.div_ceil(rows_per_strip);

    let photometric_rgb = c == 3;
    let (bits, format) = match kind {
        TiffSamples::F32 => (32u16, 3u16),
        TiffSamples::U16 => (16, 1),
    };
    let strip_offsets_at = 5; // index of StripOffsets in `entries`
    let mut entries = vec![
        longs(256, &[w as u32]),                             // ImageWidth
        longs(257, &[h as u32]),                             // ImageLength
        shorts(258, &vec![bits; c]),                         // BitsPerSample
        shorts(259, &[1]),                                   // Compression: none
        shorts(262, &[if photometric_rgb { 2 } else { 1 }]), // RGB or BlackIsZero
        longs(273, &vec![0; n_strips]),                      // StripOffsets (patched below)
        shorts(277, &[c as u16]),                            // SamplesPerPixel
        longs(278, &[rows_per_strip as u32]),                // RowsPerStrip
        longs(
            279,
            &(0..n_strips)
                .map(|s| ((h - s * rows_per_strip).min(rows_per_strip) * row_bytes) as u32)
                .collect::<Vec<_>>(),
        ), // StripByteCounts
        shorts(284, &[1]),                                   // PlanarConfiguration: contiguous
    ];
    let extra = if photometric_rgb { 0 } else { c - 1 };
    if extra > 0 {
        entries.push(shorts(338, &vec![0; extra])); // ExtraSamples: unspecified
    }
    entries.push(shorts(339, &vec![format; c])); // SampleFormat

    // Layout: header (8), IFD, values that do not fit in 4 bytes (word-aligned), strips.
    let ifd_len = 2 + 12 * entries.len() + 4;
    let mut blob_at = 8 + ifd_len;
    let mut blob_offsets = Vec::with_capacity(entries.len());
    for e in &entries {
        if e.bytes.len() > 4 {
            blob_offsets.push(Some(blob_at));
            blob_at += e.bytes.len().next_multiple_of(2);
        } else {
            blob_offsets.push(None);
        }
    }
    let data_at = blob_at;
    let total = data_at.checked_add(data_bytes).ok_or_else(too_large)?;
    if total > u32::MAX as usize {
        return Err(too_large());
    }
    entries[strip_offsets_at].bytes = (0..n_strips)
        .flat_map(|s| ((data_at + s * rows_per_strip * row_bytes) as u32).to_le_bytes())
        .collect();

    let mut out = Vec::new();
    out.try_reserve_exact(total)
        .map_err(|_| out_of_memory(total, "bytes of TIFF"))?;
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (e, at) in entries.iter().zip(&blob_offsets) {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.typ.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        match at {
            Some(at) => out.extend_from_slice(&(*at as u32).to_le_bytes()),
            None => {
                let mut value = [0u8; 4];
                value[..e.bytes.len()].copy_from_slice(&e.bytes);
                out.extend_from_slice(&value);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    for e in entries.iter().filter(|e| e.bytes.len() > 4) {
        out.extend_from_slice(&e.bytes);
        if e.bytes.len() % 2 == 1 {
            out.push(0);
        }
    }
    debug_assert_eq!(out.len(), data_at);
    // Interleaved samples: iterate [H, W, C].
    let hwc = v.data.view().permuted_axes(IxDyn(&[1, 2, 0]));
    match kind {
        TiffSamples::F32 => hwc
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        TiffSamples::U16 => {
            for (flat, &x) in hwc.iter().enumerate() {
                let q = quantize(x, 65535.0, || vec![flat % c, flat / c / w, flat / c % w])?;
                out.extend_from_slice(&(q as u16).to_le_bytes());
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// NIfTI

fn decode_nifti_image(
    r: impl BufRead,
    named_gz: bool,
    max_bytes: usize,
) -> Result<Volume<f32>, DataErrorKind> {
    read_gz_or_plain(r, named_gz, |r, gz| {
        // Spacing and origin of the spatial axes only (pixdim[4] of a channel axis is often 0).
        let geometry_axes = |shape: &[usize]| shape.len().min(3);
        let v = decode_voxels(r, gz, "images", geometry_axes, max_bytes)?;
        let shape = v.shape.clone();
        let values = decode_values(&v.raw, v.datatype, v.endianness, v.scaling)?;
        // NIfTI stores the first axis fastest.
        let file = ArrayD::from_shape_vec(IxDyn(&shape).f(), values)
            .map_err(|e| DataErrorKind::Format(format!("voxel count does not match dim ({e})")))?;
        let data = match shape.len() {
            1..=3 => file.insert_axis(Axis(0)),
            4 => file.permuted_axes(IxDyn(&[3, 0, 1, 2])),
            5 if shape[3] == 1 => file
                .index_axis_move(Axis(3), 0)
                .permuted_axes(IxDyn(&[3, 0, 1, 2])),
            _ => {
                return Err(DataErrorKind::UnsupportedType(format!(
                    "NIfTI image with dim {shape:?}; images have 1 to 3 spatial axes, with \
                     channels on the 4th axis (or on the 5th when the 4th has length 1)"
                )));
            }
        };
        Ok(Volume {
            data: data.as_standard_layout().into_owned(),
            spacing: v.spacing,
            origin: v.origin,
            affine: v.affine,
        })
    })
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
    let gz = match image_format(path) {
        Ok(ImageFormat::Nifti { gz }) => gz,
        _ => {
            return Err(DataErrorKind::UnsupportedExtension {
                found: path
                    .extension()
                    .map(|e| format!(".{}", e.to_string_lossy()))
                    .unwrap_or_default(),
                expected: ".nii or .nii.gz",
            }
            .at(path));
        }
    };
    let bytes = encode_nifti_image(v).map_err(|k| k.at(path))?;
    let bytes = if gz {
        gzip(&bytes).map_err(|e| DataErrorKind::Io(e).at(path))?
    } else {
        bytes
    };
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

fn encode_nifti_image(v: &Volume<f32>) -> Result<Vec<u8>, DataErrorKind> {
    let shape = v.data.shape();
    if !v.has_channel_axis() || !(2..=4).contains(&shape.len()) {
        return Err(DataErrorKind::NotWritable(format!(
            "a NIfTI image is [C, ...S] with 1 to 3 spatial axes and spacing per spatial axis; \
             the volume has shape {shape:?} and {} spacing values",
            v.spacing.len()
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
    check_image_geometry(v)?;
    let c = shape[0];
    let spatial = &shape[1..];
    let file_shape: Vec<usize> = if c == 1 {
        spatial.to_vec()
    } else {
        let mut s = spatial.to_vec();
        s.resize(3, 1);
        s.push(c);
        s
    };
    let h = header_bytes(
        &file_shape,
        NiftiType::Float32,
        4,
        &v.spacing,
        &v.origin,
        v.affine.as_ref(),
        b"dicekit image",
    );
    let n = v.data.len();
    let total = h.len() + 4 * n;
    let mut out = Vec::new();
    out.try_reserve_exact(total)
        .map_err(|_| out_of_memory(n, "voxels"))?;
    out.extend_from_slice(&h);
    // File order: x fastest, the channel axis slowest.
    for channel in v.data.axis_iter(Axis(0)) {
        channel
            .t()
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    Ok(out)
}

/// In-memory entry points for the fuzz targets in `fuzz/`: each decodes `bytes` as the file
/// `name` would be decoded (the extension picks the format), with decoded data limited to
/// 4 MiB, so that a header cannot make the fuzzer allocate gigabytes and each run stays fast.
/// Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use std::io::Cursor;
    use std::path::Path;

    use super::{ImageFormat, image_format};
    use crate::mask::{MaskDecoding, decode_mask};
    use crate::{DataErrorKind, Volume};

    /// The limit on decoded bytes.
    pub const MAX_BYTES: usize = 4 << 20;

    /// [`read_image`](super::read_image) on bytes.
    pub fn read_image(name: &str, bytes: &[u8]) -> Result<Volume<f32>, DataErrorKind> {
        let format = image_format(Path::new(name))?;
        super::decode_image(Cursor::new(bytes), format, MAX_BYTES)
    }

    /// [`read_label_map`](crate::read_label_map) on bytes.
    pub fn read_label_map(name: &str, bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
        crate::mask::decode_label_map(
            Cursor::new(bytes),
            image_format(Path::new(name))?,
            MAX_BYTES,
        )
    }

    /// [`read_mask`](crate::mask::read_mask) on bytes.
    pub fn read_mask(
        name: &str,
        bytes: &[u8],
        decoding: &MaskDecoding,
    ) -> Result<Volume<u32>, DataErrorKind> {
        let format: ImageFormat = image_format(Path::new(name))?;
        decode_mask(Cursor::new(bytes), format, decoding, MAX_BYTES)
    }
}
