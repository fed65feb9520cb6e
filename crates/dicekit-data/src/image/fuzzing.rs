//! In-memory entry points for the fuzz targets in `fuzz/`: each decodes `bytes` as the file
//! `name` would be decoded (the extension picks the format), with decoded data limited to
//! [`MAX_BYTES`] (4 MiB), so that a header cannot make the fuzzer allocate gigabytes and each
//! run stays fast. Not part of the API.

use std::io::Cursor;
use std::path::Path;

use crate::format::{Format, IMAGE_EXTENSIONS};
use crate::label_map::decode_label_map;
use crate::mask::{MaskDecoding, decode_mask};
use crate::{DataErrorKind, Volume};

/// The limit on decoded bytes.
pub const MAX_BYTES: usize = 4 << 20;

/// The format `name` announces, or the error naming its extension.
fn format(name: &str) -> Result<Format, DataErrorKind> {
    Format::of_path(Path::new(name), IMAGE_EXTENSIONS)
}

/// [`read_image`](super::read_image) on bytes.
pub fn read_image(name: &str, bytes: &[u8]) -> Result<Volume<f32>, DataErrorKind> {
    super::decode_image(Cursor::new(bytes), format(name)?, MAX_BYTES)
}

/// [`read_label_map`](crate::read_label_map) on bytes (a `.jpg` name is refused as
/// [`read_mask`](crate::mask::read_mask) with `labels` refuses it).
pub fn read_label_map(name: &str, bytes: &[u8]) -> Result<Volume<u32>, DataErrorKind> {
    decode_label_map(Cursor::new(bytes), format(name)?, MAX_BYTES)
}

/// [`read_mask`](crate::mask::read_mask) on bytes.
pub fn read_mask(
    name: &str,
    bytes: &[u8],
    decoding: &MaskDecoding,
) -> Result<Volume<u32>, DataErrorKind> {
    decode_mask(Cursor::new(bytes), format(name)?, decoding, MAX_BYTES)
}
