//! PNG, through the `png` crate: 1/2/4/8/16-bit gray, gray+alpha, RGB, RGBA and palette
//! images, decoded as stored and encoded as 8 or 16-bit gray, gray+alpha, RGB or RGBA.
//!
//! Samples are taken as stored: the decoder's transformations stay the identity, so low-bit
//! gray is not rescaled (a 2-bit pixel 3 is 3; `png`'s `EXPAND` and the `image` crate would
//! give 255) and a palette image gives each pixel's palette INDEX for a label map; for an image
//! the index is looked up in the palette here. 16-bit samples are big-endian in the file.

use std::io::{self, BufRead, Seek};

use ::png::{BitDepth, ColorType, DecodingError};

use super::raster::{Purpose, Raster, Samples, alloc, unpack_bits};
use crate::DataErrorKind;

fn color_name(c: ColorType) -> &'static str {
    match c {
        ColorType::Grayscale => "grayscale",
        ColorType::Rgb => "RGB",
        ColorType::Indexed => "palette",
        ColorType::GrayscaleAlpha => "grayscale+alpha",
        ColorType::Rgba => "RGBA",
    }
}

fn decode_error(e: DecodingError) -> DataErrorKind {
    match e {
        DecodingError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            DataErrorKind::Format(format!("truncated PNG ({e})"))
        }
        DecodingError::IoError(e) => DataErrorKind::Io(e),
        DecodingError::Format(e) => DataErrorKind::Format(format!("corrupt PNG ({e})")),
        DecodingError::LimitsExceeded => {
            DataErrorKind::UnsupportedType("PNG needs more memory than the decoder's limit".into())
        }
        DecodingError::Parameter(e) => DataErrorKind::Format(format!("PNG decoding failed ({e})")),
    }
}

/// Decodes the first frame: `[1, H, W]` stored values for a label map (grayscale or palette
/// only), `[C, H, W]` for an image (palette looked up to RGB). Images whose decoded samples
/// take more than `max_bytes` are refused before the buffer is allocated (the header alone
/// can declare gigabytes).
pub(crate) fn decode(
    r: impl BufRead + Seek,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataErrorKind> {
    // The decoder's own limit on what it allocates (rows, ancillary chunks): `png`'s default
    // (64 MiB) for label maps, `max_bytes` for images, as before the formats were merged.
    let limits = match purpose {
        Purpose::LabelMap => ::png::Limits::default(),
        Purpose::Image => ::png::Limits { bytes: max_bytes },
    };
    // The default transformations are the identity: no palette expansion, no 16 -> 8 bit, no
    // rescaling of 1/2/4-bit gray.
    let mut reader = ::png::Decoder::new_with_limits(r, limits)
        .read_info()
        .map_err(decode_error)?;
    let (color, depth) = (reader.info().color_type, reader.info().bit_depth);
    let palette = match (purpose, color) {
        (Purpose::LabelMap, ColorType::Grayscale | ColorType::Indexed) => None,
        (Purpose::LabelMap, _) => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{}-bit {} PNG; label maps must be grayscale or palette PNGs",
                depth as u8,
                color_name(color)
            )));
        }
        (Purpose::Image, ColorType::Indexed) => Some(
            reader
                .info()
                .palette
                .as_ref()
                .map(|p| p.to_vec())
                .ok_or_else(|| DataErrorKind::Format("palette PNG without a palette".into()))?,
        ),
        (Purpose::Image, _) => None,
    };
    let spp = match color {
        ColorType::Grayscale | ColorType::Indexed => 1,
        ColorType::GrayscaleAlpha => 2,
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
    };
    let (buf, frame) = read_frame(&mut reader, max_bytes)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let too_large = || DataErrorKind::UnsupportedType("PNG too large".into());
    let per_row = w.checked_mul(spp).ok_or_else(too_large)?;
    let n = per_row.checked_mul(h).ok_or_else(too_large)?;
    if frame.bit_depth == BitDepth::Sixteen {
        let mut v: Vec<u16> = alloc(n, "samples")?;
        for row in buf.chunks_exact(frame.line_size.max(1)).take(h) {
            v.extend(
                row.chunks_exact(2)
                    .take(per_row)
                    .map(|b| u16::from_be_bytes([b[0], b[1]])),
            );
        }
        check_count(v.len(), n, w, h)?;
        return Raster::interleaved(v, spp, h, w);
    }
    let mut v: Vec<u8> = alloc(n, "samples")?;
    if frame.bit_depth == BitDepth::Eight {
        for row in buf.chunks_exact(frame.line_size.max(1)).take(h) {
            v.extend(row.iter().take(per_row));
        }
    } else {
        // 1, 2 or 4 bits per sample, most significant bits first.
        unpack_bits(
            &buf,
            frame.bit_depth as u8,
            frame.line_size,
            per_row,
            h,
            &mut v,
        );
    }
    check_count(v.len(), n, w, h)?;
    match palette {
        None => Raster::interleaved(v, spp, h, w),
        Some(palette) => Raster::interleaved(look_up(&v, &palette, w)?, 3, h, w),
    }
}

/// The RGB colours of palette `indices` (`w` pixels a row), or the error naming the first
/// pixel whose index is past the palette's end.
fn look_up(indices: &[u8], palette: &[u8], w: usize) -> Result<Vec<u8>, DataErrorKind> {
    let entries = palette.len() / 3;
    let mut rgb: Vec<u8> = alloc(3 * indices.len(), "samples")?;
    for (flat, &index) in indices.iter().enumerate() {
        let i = usize::from(index);
        let Some(colour) = palette.get(3 * i..3 * i + 3) else {
            return Err(DataErrorKind::Format(format!(
                "pixel [{}, {}] holds palette index {i}, but the palette has {entries} entries",
                flat / w.max(1),
                flat % w.max(1)
            )));
        };
        rgb.extend_from_slice(colour);
    }
    Ok(rgb)
}

/// The error for a frame that decoded to fewer samples than its size says.
fn check_count(got: usize, n: usize, w: usize, h: usize) -> Result<(), DataErrorKind> {
    if got == n {
        Ok(())
    } else {
        Err(DataErrorKind::Format(format!(
            "{w}x{h} PNG decoded to {got} samples, expected {n}"
        )))
    }
}

/// The first frame's bytes, refusing images whose decoded samples take more than `max_bytes`
/// before the buffer is allocated (the header alone can declare gigabytes).
fn read_frame<R: BufRead + Seek>(
    reader: &mut ::png::Reader<R>,
    max_bytes: usize,
) -> Result<(Vec<u8>, ::png::OutputInfo), DataErrorKind> {
    let size = reader.output_buffer_size().ok_or_else(|| {
        DataErrorKind::UnsupportedType("PNG too large for this machine's address space".into())
    })?;
    if size > max_bytes {
        let info = reader.info();
        return Err(DataErrorKind::UnsupportedType(format!(
            "{}x{} PNG needs {size} bytes, more than the limit of {max_bytes}",
            info.width, info.height
        )));
    }
    let mut buf = alloc(size, "bytes of pixels")?;
    buf.resize(size, 0);
    let frame = reader.next_frame(&mut buf).map_err(decode_error)?;
    Ok((buf, frame))
}

/// Encodes a raster `[C, H, W]` of 8 or 16-bit samples (`U8` or `U16`) as a PNG: 1 channel
/// gray, 2 gray+alpha, 3 RGB, 4 RGBA. The caller checks the shape (1 to 4 channels, sides of
/// 1 to `i32::MAX` pixels). PNG stores no geometry.
pub(crate) fn encode(raster: &Raster<'_>) -> Result<Vec<u8>, DataErrorKind> {
    let &[c, h, w] = raster.shape() else {
        return Err(DataErrorKind::NotWritable(format!(
            "a PNG holds [C, H, W], the data has shape {:?}",
            raster.shape()
        )));
    };
    let color = match c {
        1 => ColorType::Grayscale,
        2 => ColorType::GrayscaleAlpha,
        3 => ColorType::Rgb,
        4 => ColorType::Rgba,
        _ => {
            return Err(DataErrorKind::NotWritable(format!(
                "a PNG holds 1 to 4 channels, the data has {c}"
            )));
        }
    };
    // PNG interleaves the channels: [H, W, C].
    let (depth, pixels): (BitDepth, std::borrow::Cow<'_, [u8]>) = match &raster.samples {
        Samples::U8(a) => {
            let hwc = a.view().permuted_axes(ndarray::IxDyn(&[1, 2, 0]));
            match hwc.to_slice() {
                Some(s) => (BitDepth::Eight, s.into()),
                None => {
                    let mut v = alloc(hwc.len(), "bytes of pixels")?;
                    v.extend(hwc.iter());
                    (BitDepth::Eight, v.into())
                }
            }
        }
        Samples::U16(a) => {
            let hwc = a.view().permuted_axes(ndarray::IxDyn(&[1, 2, 0]));
            let mut v = alloc(2 * hwc.len(), "bytes of pixels")?;
            hwc.iter()
                .for_each(|x| v.extend_from_slice(&x.to_be_bytes()));
            (BitDepth::Sixteen, v.into())
        }
        _ => {
            return Err(DataErrorKind::NotWritable(
                "a PNG holds 8 or 16-bit unsigned samples".into(),
            ));
        }
    };
    let mut out = Vec::new();
    let mut enc = ::png::Encoder::new(&mut out, w as u32, h as u32);
    enc.set_color(color);
    enc.set_depth(depth);
    let encoding =
        |e: ::png::EncodingError| DataErrorKind::NotWritable(format!("PNG encoder: {e}"));
    let mut writer = enc.write_header().map_err(encoding)?;
    writer.write_image_data(&pixels).map_err(encoding)?;
    writer.finish().map_err(encoding)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};
    use std::io::Cursor;

    fn encode_raw(w: u32, h: u32, color: ColorType, depth: BitDepth, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        if color == ColorType::Indexed {
            // index 0 = red, 1 = green, 2 = blue, 3 = white
            enc.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
        }
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(data).unwrap();
        wr.finish().unwrap();
        out
    }

    /// Decodes a label map; `Array2` for brevity.
    fn labels(bytes: &[u8]) -> Result<Array2<u32>, DataErrorKind> {
        let v = decode(Cursor::new(bytes), Purpose::LabelMap, usize::MAX)?.into_labels()?;
        Ok(v.data.into_dimensionality().unwrap())
    }

    #[test]
    fn palette_png_gives_indices_not_colours() {
        let f = encode_raw(
            3,
            2,
            ColorType::Indexed,
            BitDepth::Eight,
            &[0, 1, 2, 3, 2, 1],
        );
        assert_eq!(labels(&f).unwrap(), array![[0, 1, 2], [3, 2, 1]]);
    }

    #[test]
    fn two_bit_palette_png_gives_indices() {
        // 5 pixels at 2 bits: 0 1 2 3 | 1 -> bytes 0b00011011, 0b01000000
        let f = encode_raw(
            5,
            1,
            ColorType::Indexed,
            BitDepth::Two,
            &[0b0001_1011, 0b0100_0000],
        );
        assert_eq!(labels(&f).unwrap(), array![[0, 1, 2, 3, 1]]);
    }

    #[test]
    fn one_bit_gray_png_gives_zero_and_one() {
        // 10 pixels at 1 bit: 1 0 1 1 0 0 0 1 | 1 1
        let f = encode_raw(
            10,
            1,
            ColorType::Grayscale,
            BitDepth::One,
            &[0b1011_0001, 0b1100_0000],
        );
        assert_eq!(labels(&f).unwrap(), array![[1, 0, 1, 1, 0, 0, 0, 1, 1, 1]]);
    }

    #[test]
    fn four_bit_gray_png_is_not_rescaled() {
        let f = encode_raw(2, 1, ColorType::Grayscale, BitDepth::Four, &[0x3F]);
        assert_eq!(labels(&f).unwrap(), array![[3, 15]]);
    }

    #[test]
    fn sixteen_bit_gray_png_is_big_endian() {
        let f = encode_raw(
            2,
            1,
            ColorType::Grayscale,
            BitDepth::Sixteen,
            &[0x01, 0x02, 0, 7],
        );
        assert_eq!(labels(&f).unwrap(), array![[258, 7]]);
    }

    #[test]
    fn colour_pngs_are_unsupported_naming_the_type() {
        let rgb = encode_raw(1, 1, ColorType::Rgb, BitDepth::Eight, &[1, 2, 3]);
        let ga = encode_raw(
            1,
            1,
            ColorType::GrayscaleAlpha,
            BitDepth::Sixteen,
            &[0, 1, 0, 2],
        );
        for (f, name) in [(rgb, "8-bit RGB PNG"), (ga, "16-bit grayscale+alpha PNG")] {
            match labels(&f) {
                Err(DataErrorKind::UnsupportedType(msg)) => assert!(msg.contains(name), "{msg}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn garbage_and_truncated_pngs_are_format_errors() {
        let f = encode_raw(4, 4, ColorType::Grayscale, BitDepth::Eight, &[9; 16]);
        for bad in [&b"not a png at all"[..], &f[..f.len() / 2], &f[..10], &[]] {
            assert!(
                matches!(labels(bad), Err(DataErrorKind::Format(_))),
                "{:?}",
                labels(bad)
            );
        }
    }

    #[test]
    fn image_decoding_expands_palettes_and_keeps_channels() {
        let f = encode_raw(2, 1, ColorType::Indexed, BitDepth::Eight, &[3, 0]);
        let v = decode(Cursor::new(&f), Purpose::Image, usize::MAX)
            .unwrap()
            .into_values()
            .unwrap();
        assert_eq!(
            v.data,
            array![[[255.0f32, 255.0]], [[255.0, 0.0]], [[255.0, 0.0]]].into_dyn()
        );
    }

    #[test]
    fn encode_writes_every_channel_count_at_8_and_16_bits() {
        for c in 1..=4usize {
            let data =
                ndarray::Array3::from_shape_fn((c, 2, 3), |(k, y, x)| (k * 50 + y * 3 + x) as u16);
            let wide = Raster::new(data.clone().into_dyn());
            let narrow = Raster::new(data.mapv(|x| x as u8).into_dyn());
            for (raster, depth) in [(wide, 16), (narrow, 8)] {
                let bytes = encode(&raster).unwrap();
                assert_eq!(bytes[24], depth);
                let back = decode(Cursor::new(&bytes), Purpose::Image, usize::MAX).unwrap();
                assert_eq!(
                    back.into_values().unwrap().data,
                    data.mapv(f32::from).into_dyn()
                );
            }
        }
        let five = Raster::new(ndarray::Array3::<u8>::zeros((5, 1, 1)).into_dyn());
        assert!(matches!(encode(&five), Err(DataErrorKind::NotWritable(_))));
    }
}
