//! File formats, one module each: [`png`], [`jpeg`], [`tiff`], [`nifti`]. Each decodes a file
//! into a [`Raster`] and encodes a [`Raster`] into a file's bytes, once, with the maintained
//! crate that does the job (`png`, `zune-jpeg`/`jpeg-encoder`, `tiff`, `nifti` + `flate2`).
//!
//! The format modules share only [`raster`] (the representation, the [`Purpose`] a reader is
//! asked for, and helpers); this file dispatches to them by [`Format`]. Nothing here knows
//! about images, label maps or masks beyond the [`Purpose`]: the modules `image`, `label_map`
//! and `mask` are thin conversions on top of this one, never the reverse.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::path::Path;

use crate::{DataError, DataErrorKind};

pub(crate) mod jpeg;
pub(crate) mod nifti;
pub(crate) mod png;
mod raster;
pub(crate) mod tiff;

pub(crate) use raster::{Purpose, Raster, Samples, alloc};

/// Largest decoded file the public readers accept, in bytes of samples as stored.
pub(crate) const MAX_BYTES: usize = 1 << 32;

/// The extensions of every format, for messages.
pub(crate) const IMAGE_EXTENSIONS: &str = ".png, .jpg, .jpeg, .tif, .tiff, .nii or .nii.gz";

/// A file format, as told by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
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
const SUFFIXES: [(&str, Format); 7] = [
    (".nii.gz", Format::Nifti { gz: true }),
    (".nii", Format::Nifti { gz: false }),
    (".png", Format::Png),
    (".jpeg", Format::Jpeg),
    (".jpg", Format::Jpeg),
    (".tiff", Format::Tiff),
    (".tif", Format::Tiff),
];

impl Format {
    /// The file name without its extension, and the format, when the name ends in one of the
    /// [`IMAGE_EXTENSIONS`] (any case). A name that IS the suffix (`.png`) has none.
    pub(crate) fn split_name(path: &Path) -> Option<(String, Format)> {
        let name = path.file_name()?.to_string_lossy().into_owned();
        let lower = name.to_ascii_lowercase();
        SUFFIXES
            .iter()
            .find(|(s, _)| lower.len() > s.len() && lower.ends_with(s))
            .map(|&(s, f)| (name[..name.len() - s.len()].to_string(), f))
    }

    /// The format the file name announces, if any.
    pub(crate) fn of(path: &Path) -> Option<Format> {
        Format::split_name(path).map(|(_, f)| f)
    }

    /// The format the file name announces, or the error naming the extension found and
    /// `expected`.
    pub(crate) fn of_path(path: &Path, expected: &'static str) -> Result<Format, DataErrorKind> {
        Format::of(path).ok_or_else(|| unsupported_extension(path, expected))
    }
}

/// The error for a file name without an accepted extension.
pub(crate) fn unsupported_extension(path: &Path, expected: &'static str) -> DataErrorKind {
    let found = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    DataErrorKind::UnsupportedExtension { found, expected }
}

/// Decodes a file of `format` from a stream. `max_bytes` bounds the decoded samples as
/// stored; each format refuses a larger file before allocating its samples.
pub(crate) fn decode(
    r: impl BufRead + Seek,
    format: Format,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataErrorKind> {
    match format {
        Format::Png => png::decode(r, purpose, max_bytes),
        Format::Jpeg => jpeg::decode(r, purpose, max_bytes),
        Format::Tiff => tiff::decode(r, purpose, max_bytes),
        Format::Nifti { gz } => nifti::decode(r, gz, purpose, max_bytes),
    }
}

/// [`decode`] on the file at `path`; errors name the path.
pub(crate) fn read(
    path: &Path,
    format: Format,
    purpose: Purpose,
    max_bytes: usize,
) -> Result<Raster<'static>, DataError> {
    let file = File::open(path).map_err(|e| DataErrorKind::Io(e).at(path))?;
    decode(BufReader::new(file), format, purpose, max_bytes).map_err(|k| k.at(path))
}

/// Writes encoded bytes to `path` in one piece; errors name the path.
pub(crate) fn write(path: &Path, bytes: Result<Vec<u8>, DataErrorKind>) -> Result<(), DataError> {
    let bytes = bytes.map_err(|k| k.at(path))?;
    std::fs::write(path, bytes).map_err(|e| DataErrorKind::Io(e).at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_suffix_in_any_case() {
        let cases = [
            ("a.nii.gz", Some(Format::Nifti { gz: true })),
            ("A.NII.GZ", Some(Format::Nifti { gz: true })),
            ("a.nii", Some(Format::Nifti { gz: false })),
            ("dir.png/a.Png", Some(Format::Png)),
            ("a.tif", Some(Format::Tiff)),
            ("a.TIFF", Some(Format::Tiff)),
            ("a.jpg", Some(Format::Jpeg)),
            ("a.JPEG", Some(Format::Jpeg)),
            ("a.gz", None),
            ("a", None),
            (".png", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(Format::of(Path::new(name)), want, "{name}");
        }
    }

    #[test]
    fn unsupported_extension_names_what_was_found() {
        match unsupported_extension(Path::new("a/b.jpeg"), IMAGE_EXTENSIONS) {
            DataErrorKind::UnsupportedExtension { found, .. } => assert_eq!(found, ".jpeg"),
            other => panic!("{other:?}"),
        }
        match unsupported_extension(Path::new("a/README"), IMAGE_EXTENSIONS) {
            DataErrorKind::UnsupportedExtension { found, .. } => assert_eq!(found, ""),
            other => panic!("{other:?}"),
        }
    }
}
