//! TIFF, through the `tiff` crate: single-page images with any number of bands (contiguous or
//! planar), 1/2/4-bit gray, 8 to 64-bit integers, f16/f32/f64; uncompressed, PackBits,
//! Deflate and LZW. Written as uncompressed f32 or u16 with any band count, with the crate's
//! directory encoder.
//!
//! Samples are taken as stored (`WhiteIsZero` is not inverted), as tifffile returns them.
//! Multi-page files are refused rather than read in part. Palette, CMYK, YCbCr and Lab TIFFs
//! are refused too: the `tiff` crate (0.11) does not decode them as stored bands.

use std::io::{self, Cursor, Read, Seek};

use ::tiff::TiffError;
use ::tiff::decoder::{Decoder, DecodingResult, Limits};
use ::tiff::encoder::{DirectoryEncoder, TiffEncoder, TiffKind, TiffValue};
use ::tiff::tags::Tag;
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};

use super::raster::{Purpose, Raster, Samples, alloc, unpack_bits};
use crate::DataErrorKind;
use crate::labels::{Sample, to_labels, unravel_last_fastest};

/// Most bands a TIFF can have (`SamplesPerPixel` is a SHORT).
pub(crate) const MAX_CHANNELS: usize = u16::MAX as usize;
/// Longest side a TIFF can have (`ImageWidth`, `ImageLength` are LONGs).
pub(crate) const MAX_SIDE: usize = u32::MAX as usize;

fn tiff_error(e: TiffError) -> DataErrorKind {
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

/// Decodes the first (and only) image: `[1, H, W]` for a label map (single-channel grayscale
/// only), `[C, H, W]` with every band for an image. Images of more than `max_bytes` decoded
/// bytes are refused by the decoder's limits before the samples are allocated.
pub(crate) fn decode(
    r: impl Read + Seek,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataErrorKind> {
    let mut limits = Limits::default();
    limits.decoding_buffer_size = max_bytes;
    let mut dec = Decoder::new(r).map_err(tiff_error)?.with_limits(limits);
    let (w, h) = dec.dimensions().map_err(tiff_error)?;
    let (w, h) = (w as usize, h as usize);
    let color = dec.colortype().map_err(tiff_error)?;
    let (bits, spp, what) = match purpose {
        Purpose::LabelMap => {
            let ::tiff::ColorType::Gray(bits) = color else {
                return Err(DataErrorKind::UnsupportedType(format!(
                    "{color:?} TIFF; label maps must be single-channel grayscale TIFFs"
                )));
            };
            if !matches!(bits, 1 | 2 | 4 | 8 | 16 | 32 | 64) {
                return Err(DataErrorKind::UnsupportedType(format!(
                    "{bits}-bit TIFF samples; supported are 1, 2, 4, 8, 16, 32 and 64 bits"
                )));
            }
            (bits, 1, "label images")
        }
        Purpose::Image => {
            let (bits, spp) = image_bands(&mut dec, color)?;
            (bits, spp, "images")
        }
    };
    if dec.more_images() {
        return Err(DataErrorKind::UnsupportedType(format!(
            "multi-page TIFF; only single-page 2-D {what} are read"
        )));
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
    let shape = Shape {
        w,
        h,
        spp,
        planar: layout.planes > 1,
        purpose,
    };
    match result {
        // 1, 2 or 4-bit gray: rows of packed samples, each starting on a byte boundary.
        DecodingResult::U8(v) if spp == 1 && bits < 8 => {
            let row_bytes = (w * usize::from(bits)).div_ceil(8);
            if v.len() < row_bytes * h || row_bytes == 0 {
                return Err(DataErrorKind::Format(format!(
                    "{bits}-bit TIFF of {w}x{h} pixels decoded to {} bytes",
                    v.len()
                )));
            }
            let mut unpacked = alloc(n, "samples")?;
            unpack_bits(&v, bits, row_bytes, w, h, &mut unpacked);
            shape.raster(unpacked)
        }
        DecodingResult::U8(v) => shape.raster(v),
        DecodingResult::U16(v) => shape.raster(v),
        DecodingResult::U32(v) => shape.raster(v),
        DecodingResult::U64(v) => shape.raster(v),
        DecodingResult::I8(v) => shape.raster(v),
        DecodingResult::I16(v) => shape.raster(v),
        DecodingResult::I32(v) => shape.raster(v),
        DecodingResult::I64(v) => shape.raster(v),
        // f16 -> f32 is exact.
        DecodingResult::F16(v) => {
            let mut f = alloc(v.len(), "samples")?;
            f.extend(v.iter().map(|x| x.to_f32()));
            shape.raster(f)
        }
        DecodingResult::F32(v) => shape.raster(v),
        DecodingResult::F64(v) => shape.raster(v),
    }
}

/// The bits per sample and the bands of an image TIFF, refusing colour types and bit depths
/// whose samples the decoder does not return as stored.
fn image_bands<R: Read + Seek>(
    dec: &mut Decoder<R>,
    color: ::tiff::ColorType,
) -> Result<(u8, usize), DataErrorKind> {
    use ::tiff::ColorType as C;
    let bits = match color {
        C::Gray(b) | C::GrayA(b) | C::RGB(b) | C::RGBA(b) | C::Multiband { bit_depth: b, .. } => b,
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
        C::Multiband { num_samples, .. } => usize::from(num_samples),
        C::RGBA(_) => 4,
        C::RGB(_) => 3,
        C::GrayA(_) => 2,
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
    Ok((bits, spp))
}

/// The size and layout of a decoded TIFF, and what it is read for.
struct Shape {
    w: usize,
    h: usize,
    spp: usize,
    planar: bool,
    purpose: Purpose,
}

impl Shape {
    /// The raster of the decoded samples: planes one after the other (planar), or pixels of
    /// `spp` interleaved samples.
    fn raster<T: Sample>(&self, mut v: Vec<T>) -> Result<Raster<'static>, DataErrorKind>
    where
        ArrayD<T>: Into<Samples<'static>>,
    {
        let Shape {
            w,
            h,
            spp,
            planar,
            purpose,
        } = *self;
        let n = w * h * spp;
        if purpose == Purpose::LabelMap && v.len() != n {
            // As the label-map reader always did: the first value that is not a label, then
            // the count.
            to_labels(v.iter().copied(), None, |flat| {
                unravel_last_fastest(flat, &[h, w])
            })?;
            return Err(DataErrorKind::Format(format!(
                "TIFF of {w}x{h} pixels decoded to {} samples",
                v.len()
            )));
        }
        if v.len() < n {
            return Err(DataErrorKind::Format(format!(
                "TIFF of {w}x{h} pixels with {spp} samples each decoded to {} samples",
                v.len()
            )));
        }
        v.truncate(n);
        if planar {
            Raster::planar(v, spp, h, w)
        } else {
            Raster::interleaved(v, spp, h, w)
        }
    }
}

/// Checks that an uncompressed TIFF of `shape` `[C, H, W]` with `sample_bytes` bytes a sample
/// fits in 4 GiB (classic TIFF has 32-bit offsets), and returns its size estimate in bytes.
pub(crate) fn check_size(shape: &[usize], sample_bytes: usize) -> Result<usize, DataErrorKind> {
    let too_large =
        || DataErrorKind::NotWritable(format!("a TIFF of shape {shape:?} exceeds 4 GiB"));
    let &[c, h, w] = shape else {
        return Err(too_large());
    };
    let row_bytes = w
        .checked_mul(c)
        .and_then(|x| x.checked_mul(sample_bytes))
        .ok_or_else(too_large)?;
    let data_bytes = row_bytes.checked_mul(h).ok_or_else(too_large)?;
    let n_strips = h.div_ceil(rows_per_strip(row_bytes, h));
    // Header, the directory of at most 13 entries, its out-of-line values, word padding.
    let tags = 8 + (2 + 12 * 13 + 4) + 3 * 2 * c + 2 * 4 * n_strips + 16;
    let total = data_bytes.checked_add(tags).ok_or_else(too_large)?;
    if total > u32::MAX as usize {
        return Err(too_large());
    }
    Ok(total)
}

/// Rows per strip: strips of about 64 KiB (at least one row), as libtiff writes by default.
fn rows_per_strip(row_bytes: usize, h: usize) -> usize {
    (65536 / row_bytes.max(1)).clamp(1, h.max(1))
}

/// Encodes a raster `[C, H, W]` of `F32` or `U16` samples as a single-page, uncompressed TIFF
/// with `C` samples per pixel, interleaved (PlanarConfiguration 1), in strips of about 64 KiB.
/// Three channels are tagged RGB, any other count grayscale (BlackIsZero) with `C - 1`
/// unspecified extra samples, as tifffile writes them. The caller checks the shape and
/// [`check_size`].
pub(crate) fn encode(raster: &Raster<'_>) -> Result<Vec<u8>, DataErrorKind> {
    let &[c, h, w] = raster.shape() else {
        return Err(DataErrorKind::NotWritable(format!(
            "a TIFF holds [C, H, W], the data has shape {:?}",
            raster.shape()
        )));
    };
    let (sample_bytes, bits, format) = match &raster.samples {
        Samples::F32(_) => (4, 32u16, 3u16), // SampleFormat IEEE float
        Samples::U16(_) => (2, 16, 1),       // SampleFormat unsigned integer
        _ => {
            return Err(DataErrorKind::NotWritable(
                "a TIFF is written with f32 or u16 samples".into(),
            ));
        }
    };
    let total = check_size(raster.shape(), sample_bytes)?;
    let rows = rows_per_strip(w * c * sample_bytes, h);
    let encoding = |e: TiffError| DataErrorKind::NotWritable(format!("TIFF encoder: {e}"));

    let mut out = Cursor::new(alloc(total, "bytes of TIFF")?);
    let mut enc = TiffEncoder::new(&mut out).map_err(encoding)?;
    let mut dir = enc.image_directory().map_err(encoding)?;
    // Interleaved samples: [H, W, C].
    let (offsets, counts) = match &raster.samples {
        Samples::F32(a) => write_strips(&mut dir, a.view(), rows),
        Samples::U16(a) => write_strips(&mut dir, a.view(), rows),
        _ => {
            return Err(DataErrorKind::NotWritable(
                "a TIFF is written with f32 or u16 samples".into(),
            ));
        }
    }
    .map_err(encoding)?;
    let rgb = c == 3;
    let mut tags = || -> Result<(), TiffError> {
        dir.write_tag(Tag::ImageWidth, w as u32)?;
        dir.write_tag(Tag::ImageLength, h as u32)?;
        dir.write_tag(Tag::BitsPerSample, &vec![bits; c][..])?;
        dir.write_tag(Tag::Compression, 1u16)?; // none
        dir.write_tag(Tag::PhotometricInterpretation, if rgb { 2u16 } else { 1 })?;
        dir.write_tag(Tag::StripOffsets, &offsets[..])?;
        dir.write_tag(Tag::SamplesPerPixel, c as u16)?;
        dir.write_tag(Tag::RowsPerStrip, rows as u32)?;
        dir.write_tag(Tag::StripByteCounts, &counts[..])?;
        dir.write_tag(Tag::PlanarConfiguration, 1u16)?; // contiguous
        let extra = if rgb { 0 } else { c - 1 };
        if extra > 0 {
            dir.write_tag(Tag::ExtraSamples, &vec![0u16; extra][..])?; // unspecified
        }
        dir.write_tag(Tag::SampleFormat, &vec![format; c][..])
    };
    tags().map_err(encoding)?;
    dir.finish().map_err(encoding)?;
    Ok(out.into_inner())
}

/// Writes the samples of `chw` `[C, H, W]` interleaved, `rows` rows a strip; returns the
/// strips' offsets and byte counts.
fn write_strips<T, W, K>(
    dir: &mut DirectoryEncoder<'_, W, K>,
    chw: ArrayViewD<'_, T>,
    rows: usize,
) -> Result<(Vec<u32>, Vec<u32>), TiffError>
where
    T: Copy,
    [T]: TiffValue,
    W: std::io::Write + Seek,
    K: TiffKind,
{
    let hwc = chw.permuted_axes(IxDyn(&[1, 2, 0]));
    let h = hwc.shape()[0];
    let (mut offsets, mut counts) = (Vec::new(), Vec::new());
    let mut strip = Vec::new();
    for start in (0..h).step_by(rows.max(1)) {
        let part = hwc.slice_axis(Axis(0), Slice::from(start..(start + rows).min(h)));
        strip.clear();
        strip.extend(part.iter().copied());
        let offset = dir.write_data(&strip[..])?;
        offsets.push(u32::try_from(offset)?);
        counts.push(u32::try_from(std::mem::size_of_val(&strip[..]))?);
    }
    Ok((offsets, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::io::Cursor;

    /// Decodes a label map, `[H, W]`.
    fn decode_tiff(r: Cursor<impl AsRef<[u8]>>) -> Result<ndarray::Array2<u32>, DataErrorKind> {
        let v = decode(r, Purpose::LabelMap, usize::MAX)?.into_labels()?;
        Ok(v.data.into_dimensionality().unwrap())
    }

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
        use ::tiff::encoder::{Compression, DeflateLevel, colortype::Gray8};
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

    #[test]
    fn one_pixel_wide_low_bit_gray_is_unpacked_for_labels_as_for_images() {
        // Before the formats were merged, the label-map reader left 1-pixel-wide rows packed
        // (the pixel 1 of a 1-bit TIFF read as 128).
        let f = tiny_tiff(1, 2, 1, 1, &[0b1000_0000, 0]);
        assert_eq!(decode_tiff(Cursor::new(&f)).unwrap(), array![[1], [0]]);
        let image = decode(Cursor::new(&f), Purpose::Image, usize::MAX).unwrap();
        assert_eq!(
            image.into_values().unwrap().data,
            array![[[1.0f32], [0.0]]].into_dyn()
        );
    }

    #[test]
    fn encoder_writes_strips_tags_and_bands_that_read_back() {
        for c in [1usize, 3, 5] {
            // 300 rows of 70 x c f32: several strips of about 64 KiB.
            let data = ndarray::Array3::from_shape_fn((c, 300, 70), |(k, y, x)| {
                (k * 1000 + y * 7 + x) as f32 + 0.5
            });
            let bytes = encode(&Raster::new(data.view().into_dyn())).unwrap();
            let mut dec = Decoder::new(Cursor::new(&bytes)).unwrap();
            assert_eq!(dec.dimensions().unwrap(), (70, 300));
            let photometric = dec
                .find_tag_unsigned::<u16>(Tag::PhotometricInterpretation)
                .unwrap();
            assert_eq!(photometric, Some(if c == 3 { 2 } else { 1 }));
            let extra = dec
                .find_tag(Tag::ExtraSamples)
                .unwrap()
                .map(|v| v.into_u16_vec().unwrap());
            assert_eq!(extra, (c != 3 && c > 1).then(|| vec![0u16; c - 1]));
            let strips = dec
                .find_tag(Tag::StripOffsets)
                .unwrap()
                .unwrap()
                .into_u32_vec()
                .unwrap();
            assert!(strips.len() > 1, "{c}: {} strips", strips.len());
            let back = decode(Cursor::new(&bytes), Purpose::Image, usize::MAX).unwrap();
            assert_eq!(back.into_values().unwrap().data, data.into_dyn());
        }
        let wide = ndarray::Array3::<u16>::from_elem((2, 1, 1), 7);
        let back = decode(
            Cursor::new(encode(&Raster::new(wide.into_dyn())).unwrap()),
            Purpose::Image,
            usize::MAX,
        );
        assert_eq!(
            back.unwrap().into_values().unwrap().data,
            ndarray::Array3::from_elem((2, 1, 1), 7.0f32).into_dyn()
        );
        let bytes = ndarray::Array3::<u8>::zeros((1, 1, 1));
        assert!(matches!(
            encode(&Raster::new(bytes.into_dyn())),
            Err(DataErrorKind::NotWritable(_))
        ));
    }

    #[test]
    fn size_over_4_gib_is_refused_before_writing() {
        let err = check_size(&[4, 65536, 65536], 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a TIFF of shape [4, 65536, 65536] exceeds 4 GiB"
        );
        assert!(check_size(&[1, 100, 100], 4).is_ok());
    }
}
