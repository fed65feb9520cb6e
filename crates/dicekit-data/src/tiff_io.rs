//! TIFF label maps: single-page grayscale images of any integer type, or float images whose
//! values are all integers.
//!
//! Samples are taken as stored (`WhiteIsZero` is not inverted), as tifffile returns them.
//! Multi-page files are refused rather than read in part. Palette TIFFs are refused too: the
//! `tiff` crate (0.11) does not decode them. Compression: none, PackBits, Deflate and LZW.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::path::Path;

use ndarray::Array2;
use tiff::TiffError;
use tiff::decoder::{Decoder, DecodingResult, Limits};

use crate::labels::{alloc_labels, to_labels, unravel_last_fastest};
use crate::{DataError, DataErrorKind, Volume};

/// Largest decoded image accepted, in bytes (the crate's default is 256 MiB).
pub(crate) const MAX_DECODED_BYTES: usize = 1 << 32;

/// Reads a TIFF label map as `[H, W]` with spacing `[1, 1]` and origin `[0, 0]`.
pub(crate) fn read_tiff(path: &Path) -> Result<Volume<u32>, DataError> {
    let file = File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    let data = decode_tiff(BufReader::new(file)).map_err(|k| k.at(path))?;
    Ok(Volume::new(data.into_dyn()))
}

pub(crate) fn tiff_error(e: TiffError) -> DataErrorKind {
    match e {
        TiffError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            DataErrorKind::Format(format!("truncated TIFF ({e})"))
        }
        // The Deflate and LZW decoders report corrupt data as I/O errors of these kinds.
        TiffError::IoError(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
            ) =>
        {
            DataErrorKind::Format(format!("corrupt TIFF ({e})"))
        }
        TiffError::IoError(e) => DataErrorKind::Io(e),
        TiffError::UnsupportedError(e) => {
            DataErrorKind::UnsupportedType(format!("TIFF variant not supported ({e})"))
        }
        TiffError::LimitsExceeded => {
            DataErrorKind::UnsupportedType("TIFF needs more memory than the decoder's limit".into())
        }
        other => DataErrorKind::Format(format!("corrupt TIFF ({other})")),
    }
}

/// Decodes the first (and only) image of a TIFF into `[H, W]` labels.
pub(crate) fn decode_tiff(r: impl Read + Seek) -> Result<Array2<u32>, DataErrorKind> {
    decode_tiff_limited(r, MAX_DECODED_BYTES)
}

/// [`decode_tiff`] with a smaller limit on the decoded bytes (for fuzzing).
pub(crate) fn decode_tiff_limited(
    r: impl Read + Seek,
    max_decoded_bytes: usize,
) -> Result<Array2<u32>, DataErrorKind> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = max_decoded_bytes;
    let mut dec = Decoder::new(r).map_err(tiff_error)?.with_limits(limits);
    let (w, h) = dec.dimensions().map_err(tiff_error)?;
    let (w, h) = (w as usize, h as usize);
    let bits = match dec.colortype().map_err(tiff_error)? {
        tiff::ColorType::Gray(b) => b,
        other => {
            return Err(DataErrorKind::UnsupportedType(format!(
                "{other:?} TIFF; label maps must be single-channel grayscale TIFFs"
            )));
        }
    };
    if !matches!(bits, 1 | 2 | 4 | 8 | 16 | 32 | 64) {
        return Err(DataErrorKind::UnsupportedType(format!(
            "{bits}-bit TIFF samples; supported are 1, 2, 4, 8, 16, 32 and 64 bits"
        )));
    }
    if dec.more_images() {
        return Err(DataErrorKind::UnsupportedType(
            "multi-page TIFF; only single-page 2-D label images are read".into(),
        ));
    }
    let n = w
        .checked_mul(h)
        .ok_or_else(|| DataErrorKind::UnsupportedType("TIFF too large".into()))?;
    let unravel = |flat| unravel_last_fastest(flat, &[h, w]);
    let labels = match dec.read_image().map_err(tiff_error)? {
        DecodingResult::U8(v) if bits < 8 && v.len() != n => unpack_rows(&v, bits, w, h)?,
        DecodingResult::U8(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::U16(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::U32(v) => v,
        DecodingResult::U64(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::I8(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::I16(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::I32(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::I64(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::F16(v) => to_labels(v.iter().map(|x| x.to_f64()), None, unravel)?,
        DecodingResult::F32(v) => to_labels(v.into_iter(), None, unravel)?,
        DecodingResult::F64(v) => to_labels(v.into_iter(), None, unravel)?,
    };
    if labels.len() != n {
        return Err(DataErrorKind::Format(format!(
            "TIFF of {w}x{h} pixels decoded to {} samples",
            labels.len()
        )));
    }
    Array2::from_shape_vec((h, w), labels).map_err(|e| {
        DataErrorKind::Format(format!("TIFF pixel count does not match its size ({e})"))
    })
}

/// Unpacks rows of 1, 2 or 4-bit samples (most significant bits first, each row starting on a
/// byte boundary).
pub(crate) fn unpack_rows(
    packed: &[u8],
    bits: u8,
    w: usize,
    h: usize,
) -> Result<Vec<u32>, DataErrorKind> {
    let bits = u32::from(bits);
    let row_bytes = (w * bits as usize).div_ceil(8);
    if packed.len() < row_bytes * h || row_bytes == 0 {
        return Err(DataErrorKind::Format(format!(
            "{bits}-bit TIFF of {w}x{h} pixels decoded to {} bytes",
            packed.len()
        )));
    }
    let per_byte = 8 / bits;
    let mask = (1u8 << bits) - 1;
    let mut out = alloc_labels(w * h)?;
    for row in packed.chunks_exact(row_bytes).take(h) {
        out.extend(
            row.iter()
                .flat_map(|&byte| (0..per_byte).map(move |k| (byte >> (8 - bits * (k + 1))) & mask))
                .take(w)
                .map(u32::from),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::io::Cursor;

    /// A little-endian, uncompressed, single-strip TIFF with the given sample bits and
    /// photometric interpretation (0 WhiteIsZero, 1 BlackIsZero, 3 palette), written by hand so
    /// that bit depths the `tiff` encoder does not offer can be tested.
    fn tiny_tiff(w: u16, h: u16, bits: u16, photometric: u16, data: &[u8]) -> Vec<u8> {
        let mut entries: Vec<(u16, u16, u32, u32)> = vec![
            (256, 3, 1, u32::from(w)),           // ImageWidth, SHORT
            (257, 3, 1, u32::from(h)),           // ImageLength
            (258, 3, 1, u32::from(bits)),        // BitsPerSample
            (259, 3, 1, 1),                      // Compression: none
            (262, 3, 1, u32::from(photometric)), // PhotometricInterpretation
            (273, 4, 1, 0),                      // StripOffsets, LONG (patched below)
            (277, 3, 1, 1),                      // SamplesPerPixel
            (278, 3, 1, u32::from(h)),           // RowsPerStrip
            (279, 4, 1, data.len() as u32),      // StripByteCounts
        ];
        let colormap_len = if photometric == 3 {
            3 * (1usize << bits)
        } else {
            0
        };
        if photometric == 3 {
            entries.push((320, 3, colormap_len as u32, 0)); // ColorMap (offset patched below)
            entries.sort_by_key(|e| e.0);
        }
        let ifd_len = 2 + 12 * entries.len() + 4;
        let colormap_at = 8 + ifd_len;
        let data_at = colormap_at + 2 * colormap_len;
        let mut f = b"II*\0".to_vec();
        f.extend_from_slice(&8u32.to_le_bytes());
        f.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, typ, count, value) in entries {
            let value = match tag {
                273 => data_at as u32,
                320 => colormap_at as u32,
                _ => value,
            };
            f.extend_from_slice(&tag.to_le_bytes());
            f.extend_from_slice(&typ.to_le_bytes());
            f.extend_from_slice(&count.to_le_bytes());
            if typ == 3 && count == 1 {
                f.extend_from_slice(&(value as u16).to_le_bytes());
                f.extend_from_slice(&[0, 0]);
            } else {
                f.extend_from_slice(&value.to_le_bytes());
            }
        }
        f.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        for i in 0..colormap_len {
            f.extend_from_slice(&((i * 997 % 65536) as u16).to_le_bytes());
        }
        f.extend_from_slice(data);
        f
    }

    #[test]
    fn one_bit_gray_tiff_is_unpacked_per_row() {
        // 3x2 pixels, rows padded to a byte: 1 0 1 | 0 1 1
        let f = tiny_tiff(3, 2, 1, 1, &[0b1010_0000, 0b0110_0000]);
        assert_eq!(
            decode_tiff(Cursor::new(f)).unwrap(),
            array![[1, 0, 1], [0, 1, 1]]
        );
    }

    #[test]
    fn four_bit_gray_tiff_is_not_rescaled() {
        let f = tiny_tiff(3, 1, 4, 1, &[0x5C, 0xF0]);
        assert_eq!(decode_tiff(Cursor::new(f)).unwrap(), array![[5, 12, 15]]);
    }

    #[test]
    fn palette_tiff_is_unsupported_naming_it() {
        // The tiff crate (0.11) refuses RGBPalette; make sure that is an error, not a panic.
        let f = tiny_tiff(3, 1, 4, 3, &[0x5C, 0xF0]);
        match decode_tiff(Cursor::new(f)) {
            Err(DataErrorKind::UnsupportedType(msg)) => assert!(msg.contains("Palette"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn eight_bit_gray_tiff_by_hand() {
        let f = tiny_tiff(2, 2, 8, 1, &[0, 1, 2, 255]);
        assert_eq!(
            decode_tiff(Cursor::new(f)).unwrap(),
            array![[0, 1], [2, 255]]
        );
    }

    #[test]
    fn corrupt_deflate_data_is_a_format_error() {
        use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype::Gray8};
        let mut buf = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut buf)
            .unwrap()
            .with_compression(Compression::Deflate(DeflateLevel::Balanced));
        enc.write_image::<Gray8>(16, 16, &[3; 256]).unwrap();
        let mut f = buf.into_inner();
        // Break the strip's zlib header (0x78 0x9c at the default level).
        let at = f.windows(2).position(|w| w == [0x78, 0x9c]).unwrap();
        f[at] = 0xFF;
        f[at + 1] = 0xFF;
        match decode_tiff(Cursor::new(f)) {
            Err(DataErrorKind::Format(msg)) => assert!(msg.starts_with("corrupt TIFF"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn odd_bit_depth_is_unsupported() {
        let f = tiny_tiff(2, 1, 12, 1, &[0, 0, 0]);
        assert!(matches!(
            decode_tiff(Cursor::new(f)),
            Err(DataErrorKind::UnsupportedType(_))
        ));
    }

    #[test]
    fn garbage_and_truncated_tiffs_are_errors_not_panics() {
        let f = tiny_tiff(4, 4, 8, 1, &[7; 16]);
        for bad in [
            &b"II*\0garbage"[..],
            &b"not a tiff"[..],
            &f[..f.len() - 5],
            &f[..20],
            &[],
        ] {
            let r = decode_tiff(Cursor::new(bad));
            assert!(
                matches!(
                    r,
                    Err(DataErrorKind::Format(_) | DataErrorKind::UnsupportedType(_))
                ),
                "{r:?}"
            );
        }
    }
}
