//! Label maps by file name: reading any supported format, listing a folder, matching cases.

use std::path::{Path, PathBuf};

use crate::image::{ImageFormat, split_image_name};
use crate::nifti_io::read_nifti;
use crate::png_io::read_png;
use crate::tiff_io::read_tiff;
use crate::{DataError, DataErrorKind, Volume};

/// The extensions [`read_label_map`] accepts, for messages.
pub(crate) const EXPECTED_EXTENSIONS: &str = ".nii, .nii.gz, .png, .tif or .tiff";

/// A file format, as told by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileFormat {
    /// NIfTI-1, `.nii` (`gz: false`) or `.nii.gz` (`gz: true`).
    Nifti { gz: bool },
    /// `.png`
    Png,
    /// `.tif` or `.tiff`
    Tiff,
}

/// The label-map format the file name announces (a JPEG is an image, never a label map).
pub(crate) fn file_format(path: &Path) -> Option<FileFormat> {
    match split_image_name(path)?.1 {
        ImageFormat::Nifti { gz } => Some(FileFormat::Nifti { gz }),
        ImageFormat::Png => Some(FileFormat::Png),
        ImageFormat::Tiff => Some(FileFormat::Tiff),
        ImageFormat::Jpeg => None,
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
    match file_format(path) {
        Some(FileFormat::Nifti { .. }) => read_nifti(path),
        Some(FileFormat::Png) => read_png(path),
        Some(FileFormat::Tiff) => read_tiff(path),
        None => Err(unsupported_extension(path, EXPECTED_EXTENSIONS).at(path)),
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
        if !hidden && file_format(&path).is_some() && path.is_file() {
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
    split_image_name(path).map_or_else(
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
    fn formats_come_from_the_suffix_in_any_case() {
        let cases = [
            ("a.nii.gz", Some(FileFormat::Nifti { gz: true })),
            ("A.NII.GZ", Some(FileFormat::Nifti { gz: true })),
            ("a.nii", Some(FileFormat::Nifti { gz: false })),
            ("dir.png/a.Png", Some(FileFormat::Png)),
            ("a.tif", Some(FileFormat::Tiff)),
            ("a.TIFF", Some(FileFormat::Tiff)),
            ("a.gz", None),
            ("a.jpg", None),
            ("a", None),
            (".png", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(file_format(Path::new(name)), want, "{name}");
        }
    }

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
    fn unsupported_extension_names_what_was_found() {
        match unsupported_extension(Path::new("a/b.jpeg"), EXPECTED_EXTENSIONS) {
            DataErrorKind::UnsupportedExtension { found, .. } => assert_eq!(found, ".jpeg"),
            other => panic!("{other:?}"),
        }
        match unsupported_extension(Path::new("a/README"), EXPECTED_EXTENSIONS) {
            DataErrorKind::UnsupportedExtension { found, .. } => assert_eq!(found, ""),
            other => panic!("{other:?}"),
        }
    }
}
