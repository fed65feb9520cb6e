//! PNG label maps: grayscale (1, 2, 4, 8, 16 bit) and palette images.
//!
//! Samples are taken as stored: a palette image gives each pixel's palette INDEX (never its
//! colour), and low-bit grayscale is not rescaled (a 2-bit pixel 3 is label 3; Pillow would
//! give 255 for 2- and 4-bit gray). 16-bit samples are big-endian in the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek};
use std::path::Path;

use ndarray::Array2;
use png::{BitDepth, ColorType, DecodingError};

use crate::label_map::{FileFormat, file_format, unsupported_extension};
use crate::labels::{alloc_labels, out_of_memory};
use crate::{DataError, DataErrorKind, Volume};

/// Reads a PNG label map as `[H, W]` with spacing `[1, 1]` and origin `[0, 0]`.
pub(crate) fn read_png(path: &Path) -> Result<Volume<u32>, DataError> {
    let file = File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    let data = decode_png(BufReader::new(file)).map_err(|k| k.at(path))?;
    Ok(Volume::new(data.into_dyn()))
}

fn color_name(c: ColorType) -> &'static str {
    match c {
        ColorType::Grayscale => "grayscale",
        ColorType::Rgb => "RGB",
        ColorType::Indexed => "palette",
        ColorType::GrayscaleAlpha => "grayscale+alpha",
        ColorType::Rgba => "RGBA",
    }
}

pub(crate) fn decode_error(e: DecodingError) -> DataErrorKind {
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

/// Largest decoded PNG accepted, in bytes of samples as stored.
const MAX_DECODED_BYTES: usize = 1 << 32;

/// Decodes a grayscale or palette PNG into `[H, W]` labels.
pub(crate) fn decode_png(r: impl BufRead + Seek) -> Result<Array2<u32>, DataErrorKind> {
    decode_png_limited(r, MAX_DECODED_BYTES)
}

/// The first frame's bytes, refusing images whose decoded samples take more than `max_bytes`
/// before the buffer is allocated (the header alone can declare gigabytes).
pub(crate) fn read_frame<R: BufRead + Seek>(
    reader: &mut png::Reader<R>,
    max_bytes: usize,
) -> Result<(Vec<u8>, png::OutputInfo), DataErrorKind> {
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
    let mut buf = Vec::new();
    buf.try_reserve_exact(size)
        .map_err(|_| out_of_memory(size, "bytes of pixels"))?;
    buf.resize(size, 0);
    let frame = reader.next_frame(&mut buf).map_err(decode_error)?;
    Ok((buf, frame))
}

/// [`decode_png`] refusing images whose decoded samples take more than `max_decoded_bytes`
/// (checked before the output buffer is allocated: the header alone can declare gigabytes).
pub(crate) fn decode_png_limited(
    r: impl BufRead + Seek,
    max_decoded_bytes: usize,
) -> Result<Array2<u32>, DataErrorKind> {
    // The default transformations are the identity: no palette expansion, no 16 -> 8 bit.
    let mut reader = png::Decoder::new(r).read_info().map_err(decode_error)?;
    let (color, depth) = {
        let info = reader.info();
        (info.color_type, info.bit_depth)
    };
    if !matches!(color, ColorType::Grayscale | ColorType::Indexed) {
        return Err(DataErrorKind::UnsupportedType(format!(
            "{}-bit {} PNG; label maps must be grayscale or palette PNGs",
            depth as u8,
            color_name(color)
        )));
    }
    let (buf, frame) = read_frame(&mut reader, max_decoded_bytes)?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let n = w
        .checked_mul(h)
        .ok_or_else(|| DataErrorKind::UnsupportedType("PNG too large".into()))?;
    let mut labels = alloc_labels(n)?;
    for row in buf.chunks_exact(frame.line_size.max(1)).take(h) {
        match frame.bit_depth {
            BitDepth::Sixteen => labels.extend(
                row.chunks_exact(2)
                    .take(w)
                    .map(|b| u32::from(u16::from_be_bytes([b[0], b[1]]))),
            ),
            BitDepth::Eight => labels.extend(row.iter().take(w).map(|&b| u32::from(b))),
            low => {
                // 1, 2 or 4 bits per pixel, most significant bits first.
                let bits = low as u32;
                let per_byte = 8 / bits;
                let mask = (1u8 << bits) - 1;
                labels.extend(
                    row.iter()
                        .flat_map(|&byte| {
                            (0..per_byte).map(move |k| (byte >> (8 - bits * (k + 1))) & mask)
                        })
                        .take(w)
                        .map(u32::from),
                );
            }
        }
    }
    Array2::from_shape_vec((h, w), labels).map_err(|e| {
        DataErrorKind::Format(format!("PNG pixel count does not match its size ({e})"))
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
    if file_format(path) != Some(FileFormat::Png) {
        return Err(unsupported_extension(path, ".png").at(path));
    }
    let bytes = encode_png(v).map_err(|k| k.at(path))?;
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

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
    let sixteen = max > u32::from(u8::MAX);
    let mut pixels = Vec::new();
    let n = v.data.len() * if sixteen { 2 } else { 1 };
    pixels
        .try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, "bytes of pixels"))?;
    if sixteen {
        v.data
            .iter()
            .for_each(|&l| pixels.extend_from_slice(&(l as u16).to_be_bytes()));
    } else {
        pixels.extend(v.data.iter().map(|&l| l as u8));
    }

    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w as u32, h as u32);
    enc.set_color(ColorType::Grayscale);
    enc.set_depth(if sixteen {
        BitDepth::Sixteen
    } else {
        BitDepth::Eight
    });
    let encoding = |e: png::EncodingError| DataErrorKind::NotWritable(format!("PNG encoder: {e}"));
    let mut writer = enc.write_header().map_err(encoding)?;
    writer.write_image_data(&pixels).map_err(encoding)?;
    writer.finish().map_err(encoding)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
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

    fn decode(bytes: &[u8]) -> Result<Array2<u32>, DataErrorKind> {
        decode_png(Cursor::new(bytes))
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
        assert_eq!(decode(&f).unwrap(), array![[0, 1, 2], [3, 2, 1]]);
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
        assert_eq!(decode(&f).unwrap(), array![[0, 1, 2, 3, 1]]);
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
        assert_eq!(decode(&f).unwrap(), array![[1, 0, 1, 1, 0, 0, 0, 1, 1, 1]]);
    }

    #[test]
    fn four_bit_gray_png_is_not_rescaled() {
        let f = encode_raw(2, 1, ColorType::Grayscale, BitDepth::Four, &[0x3F]);
        assert_eq!(decode(&f).unwrap(), array![[3, 15]]);
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
        assert_eq!(decode(&f).unwrap(), array![[258, 7]]);
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
            match decode(&f) {
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
                matches!(decode(bad), Err(DataErrorKind::Format(_))),
                "{:?}",
                decode(bad)
            );
        }
    }

    #[test]
    fn encode_picks_8_or_16_bits_and_round_trips() {
        for max in [255u32, 256, 65535] {
            let v = Volume::new(array![[0u32, max], [1, 2]].into_dyn());
            let bytes = encode_png(&v).unwrap();
            let depth = bytes[24]; // IHDR bit depth
            assert_eq!(depth, if max > 255 { 16 } else { 8 });
            assert_eq!(decode(&bytes).unwrap().into_dyn(), v.data);
        }
    }

    #[test]
    fn encode_rejects_what_png_cannot_hold() {
        let three_d = Volume::new(ndarray::ArrayD::<u32>::zeros(ndarray::IxDyn(&[2, 2, 2])));
        let big_label = Volume::new(array![[70_000u32]].into_dyn());
        let empty = Volume::new(ndarray::ArrayD::<u32>::zeros(ndarray::IxDyn(&[0, 2])));
        for v in [three_d, big_label, empty] {
            assert!(
                matches!(encode_png(&v), Err(DataErrorKind::NotWritable(_))),
                "{:?}",
                v.shape()
            );
        }
    }
}
