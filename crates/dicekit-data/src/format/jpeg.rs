//! JPEG: 8-bit baseline and progressive gray or RGB/YCbCr images, decoded with `zune-jpeg`
//! (strict mode) and encoded as baseline JPEG with `jpeg-encoder`.
//!
//! JPEG is lossy, so it holds images, never label maps.

use std::io::Read;

use zune_jpeg::JpegDecoder;
use zune_jpeg::errors::DecodeErrors;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::raster::{Purpose, Raster, Samples, alloc};
use crate::DataErrorKind;

/// Longest side a JPEG can have.
pub(crate) const MAX_SIDE: usize = u16::MAX as usize;

/// Replaces line breaks so that a third-party message keeps the error on one line.
pub(crate) fn one_line(msg: impl std::fmt::Display) -> String {
    msg.to_string().replace(['\n', '\r'], " ")
}

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

/// Decodes a gray (`[1, H, W]`) or RGB/YCbCr (`[3, H, W]`, as RGB) JPEG. Images of more than
/// `max_bytes` decoded bytes are refused before the pixels are allocated. A label map is
/// refused without reading: JPEG's values are not exact.
pub(crate) fn decode(
    mut r: impl Read,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataErrorKind> {
    if purpose == Purpose::LabelMap {
        return Err(DataErrorKind::UnsupportedType(
            "JPEG mask with `labels` decoding: JPEG is lossy, so its values are not exact \
             labels; use a `threshold` or `colour_table` decoding"
                .into(),
        ));
    }
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).map_err(DataErrorKind::Io)?;
    // Strict mode: a truncated or corrupt scan is an error, not a grey-filled image.
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(MAX_SIDE)
        .set_max_height(MAX_SIDE);
    let mut dec = JpegDecoder::new_with_options(ZCursor::new(&bytes[..]), options);
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
    let mut pixels = alloc(size, "bytes of pixels")?;
    pixels.resize(size, 0);
    dec.decode_into(&mut pixels).map_err(jpeg_error)?;
    pixels.truncate(n);
    Raster::interleaved(pixels, c, h, w)
}

/// Checks that a JPEG can hold `c` channels: 1 (gray) or 3 (RGB).
pub(crate) fn check_channels(c: usize) -> Result<jpeg_encoder::ColorType, DataErrorKind> {
    match c {
        1 => Ok(jpeg_encoder::ColorType::Luma),
        3 => Ok(jpeg_encoder::ColorType::Rgb),
        _ => Err(DataErrorKind::NotWritable(format!(
            "a JPEG holds 1 (gray) or 3 (RGB) channels, the image has {c}"
        ))),
    }
}

/// Encodes a raster `[C, H, W]` of 8-bit samples (1 or 3 channels, sides up to [`MAX_SIDE`],
/// checked by the caller) as a baseline JPEG of `quality` 1..=100.
pub(crate) fn encode(raster: &Raster<'_>, quality: u8) -> Result<Vec<u8>, DataErrorKind> {
    let (&[c, h, w], Samples::U8(a)) = (raster.shape(), &raster.samples) else {
        return Err(DataErrorKind::NotWritable(
            "a JPEG holds a 2-D image [C, H, W] of 8-bit samples".into(),
        ));
    };
    let colour = check_channels(c)?;
    if h > MAX_SIDE || w > MAX_SIDE {
        return Err(DataErrorKind::NotWritable(format!(
            "JPEG sides must be 1 to {MAX_SIDE} pixels, the image is {h}x{w}"
        )));
    }
    // JPEG interleaves the channels: [H, W, C].
    let hwc = a.view().permuted_axes(ndarray::IxDyn(&[1, 2, 0]));
    let owned;
    let pixels = match hwc.to_slice() {
        Some(s) => s,
        None => {
            owned = hwc.iter().copied().collect::<Vec<u8>>();
            &owned[..]
        }
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(pixels, w as u16, h as u16, colour)
        .map_err(|e| DataErrorKind::NotWritable(format!("JPEG encoder: {e}")))?;
    Ok(out)
}
