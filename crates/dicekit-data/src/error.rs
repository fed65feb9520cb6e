//! The one error type of the crate: a file path and what went wrong with it.

use std::path::{Path, PathBuf};

/// Reading or writing an image file failed.
///
/// It holds the file's path and a [`DataErrorKind`]. Its `Display` is one line that starts with
/// the path, e.g. `cases/a.nii.gz: corrupt gzip stream (invalid gzip header)`, ready to print as
/// is. The message is complete: [`std::error::Error::source`] is `None`, so error reporters do
/// not print the cause twice. The underlying [`std::io::Error`], where there is one, is in
/// [`DataErrorKind::Io`].
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// use dicekit_data::{read_label_map, DataErrorKind};
///
/// let err = read_label_map(Path::new("no/such/case.nii.gz")).unwrap_err();
/// assert!(matches!(err.kind(), DataErrorKind::Io(_)));
/// assert!(err.to_string().starts_with("no/such/case.nii.gz: "));
/// # Ok::<(), dicekit_data::DataError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct DataError {
    path: PathBuf,
    kind: DataErrorKind,
}

impl DataError {
    /// An error about the file at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::{DataError, DataErrorKind};
    ///
    /// let kind = DataErrorKind::UnsupportedExtension { found: ".jpg".into(), expected: ".png" };
    /// let err = DataError::new("a.jpg", kind);
    /// assert_eq!(err.to_string(), "a.jpg: unsupported file extension `.jpg` (expected .png)");
    /// ```
    pub fn new(path: impl Into<PathBuf>, kind: DataErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// The file the error is about.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use dicekit_data::read_label_map;
    ///
    /// let err = read_label_map(Path::new("missing.png")).unwrap_err();
    /// assert_eq!(err.path(), Path::new("missing.png"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use dicekit_data::{read_label_map, DataErrorKind};
    ///
    /// let err = read_label_map(Path::new("scan.jpg")).unwrap_err();
    /// assert!(matches!(err.kind(), DataErrorKind::UnsupportedExtension { .. }));
    /// ```
    pub fn kind(&self) -> &DataErrorKind {
        &self.kind
    }

    /// Takes the kind out, dropping the path.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::path::Path;
    /// use dicekit_data::{read_label_map, DataErrorKind};
    ///
    /// let kind = read_label_map(Path::new("missing.nii")).unwrap_err().into_kind();
    /// assert!(matches!(kind, DataErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
    /// ```
    pub fn into_kind(self) -> DataErrorKind {
        self.kind
    }
}

/// What went wrong with a file; see [`DataError`].
///
/// Each variant's `Display` is a short phrase without the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataErrorKind {
    /// The file or folder could not be opened, read or written: not found, permission denied,
    /// a folder where a file was expected, disk full.
    #[error("{0}")]
    Io(std::io::Error),
    /// The file is not a valid file of its format: corrupt or truncated data, a corrupt gzip
    /// stream, a bad header (invalid `dim`, magic or `vox_offset`, a scaling intercept that is
    /// not finite).
    #[error("{0}")]
    Format(String),
    /// The file is valid but holds something that is not a label map, or a variant this crate
    /// does not decode: an RGB or gray+alpha image, a complex or RGB NIfTI, an unsupported bit
    /// depth, NIfTI-2, a `.hdr`/`.img` pair, a multi-page or palette TIFF. The message names
    /// what was found.
    #[error("{0}")]
    UnsupportedType(String),
    /// A voxel value is not a label: labels are integers in `0..=u32::MAX`. Raised for float
    /// files with fractional, NaN or infinite values (after `scl_slope`/`scl_inter` for NIfTI),
    /// and for negative values. It names the first offending voxel in memory order.
    #[error(
        "voxel {index:?} holds {value}, which is not a label (labels are integers from 0 to 4294967295)"
    )]
    NonIntegerLabels {
        /// The offending value, after scaling.
        value: f64,
        /// Its index in the array ([`crate::Volume::data`] order).
        index: Vec<usize>,
    },
    /// A voxel spacing is NaN, infinite, zero or negative. For NIfTI files this is
    /// `pixdim[axis + 1]`.
    #[error("spacing of axis {axis} (pixdim[{}]) is {value}; it must be finite and > 0", axis + 1)]
    BadSpacing {
        /// The array axis, from 0.
        axis: usize,
        /// The spacing found, in mm.
        value: f64,
    },
    /// The file name does not end in an extension the function handles: `.nii`, `.nii.gz`,
    /// `.png`, `.tif` or `.tiff` (any case) for reading, the format's own for writing.
    #[error("unsupported file extension `{found}` (expected {expected})")]
    UnsupportedExtension {
        /// The file name's last extension as found, with its dot (`""` when it has none).
        found: String,
        /// The extensions accepted, for the message.
        expected: &'static str,
    },
    /// A [`crate::Volume`] cannot be written in the requested format: wrong number of axes, an
    /// axis too long or empty, `spacing`/`origin` of the wrong length, a label too large for
    /// the format.
    #[error("{0}")]
    NotWritable(String),
    /// A colour-coded mask holds a colour that its colour table does not list
    /// ([`crate::mask::MaskDecoding::ColourTable`] with [`crate::mask::UnknownColour::Error`]).
    /// It names the colour and the first pixel in memory order that has it.
    #[error("pixel {index:?} has colour {}, which is not in the colour table", hex_colour(*colour))]
    UnknownColour {
        /// The colour found, `[r, g, b]`.
        colour: [u8; 3],
        /// The pixel's spatial index (`[row, col]` for 2-D images).
        index: Vec<usize>,
    },
    /// A mask holds a label that is neither a class (`0..classes`) nor the ignore label. It
    /// names the first offending voxel in memory order.
    #[error(
        "voxel {index:?} holds label {label}, outside the class table (classes 0 to {}{})",
        classes.saturating_sub(1),
        ignore_label.map(|l| format!(", ignore label {l}")).unwrap_or_default()
    )]
    LabelOutOfRange {
        /// The offending label.
        label: u32,
        /// Its index in the mask ([`crate::Volume::data`] order).
        index: Vec<usize>,
        /// The number of classes.
        classes: u32,
        /// The ignore label, if any.
        ignore_label: Option<u32>,
    },
    /// An image and its mask (or two files that must agree) differ in spatial size. The error's
    /// path is the first file; the message names the other.
    #[error("spatial size {shape:?} differs from {}'s {other_shape:?}", other.display())]
    SizeMismatch {
        /// The spatial shape of the file the error is about.
        shape: Vec<usize>,
        /// The other file.
        other: PathBuf,
        /// Its spatial shape.
        other_shape: Vec<usize>,
    },
    /// A dataset does not fit together: an image without a mask or a mask without an image, a
    /// file listed in a split file that does not exist, the same image listed twice. The path
    /// is the folder or list file; the message lists the names.
    #[error("{0}")]
    Dataset(String),
}

/// `#RRGGBB` (upper case), as colour tables write colours.
pub(crate) fn hex_colour([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

impl DataErrorKind {
    /// Attaches the file's path.
    pub(crate) fn at(self, path: &Path) -> DataError {
        DataError::new(path, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_starting_with_the_path() {
        let cases = [
            DataErrorKind::Io(std::io::Error::from(std::io::ErrorKind::NotFound)),
            DataErrorKind::Format("corrupt gzip stream (invalid gzip header)".into()),
            DataErrorKind::UnsupportedType("8-bit RGB PNG".into()),
            DataErrorKind::NonIntegerLabels {
                value: 0.5,
                index: vec![1, 2, 3],
            },
            DataErrorKind::BadSpacing {
                axis: 1,
                value: f64::NAN,
            },
            DataErrorKind::UnsupportedExtension {
                found: ".jpg".into(),
                expected: ".png",
            },
            DataErrorKind::NotWritable("PNG needs 2 axes".into()),
        ];
        for kind in cases {
            let msg = kind.at(Path::new("cases/a.nii.gz")).to_string();
            assert!(msg.starts_with("cases/a.nii.gz: "), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn bad_spacing_names_the_pixdim_field() {
        let msg = DataErrorKind::BadSpacing {
            axis: 2,
            value: -1.0,
        }
        .to_string();
        assert_eq!(
            msg,
            "spacing of axis 2 (pixdim[3]) is -1; it must be finite and > 0"
        );
    }

    #[test]
    fn non_integer_label_names_value_and_voxel() {
        let msg = DataErrorKind::NonIntegerLabels {
            value: 0.5,
            index: vec![3, 4, 0],
        }
        .to_string();
        assert!(msg.starts_with("voxel [3, 4, 0] holds 0.5,"), "{msg}");
    }
}

/// A setting out of range (a mask decoding, a dataset description, a resampling size, a
/// synthetic scene's size or foreground): one line naming it. It reads as the message (`Deref`
/// to `str`) and converts into a `String` for callers that report strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SettingError(pub String);

impl std::ops::Deref for SettingError {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<SettingError> for String {
    fn from(e: SettingError) -> String {
        e.0
    }
}

impl From<String> for SettingError {
    fn from(message: String) -> Self {
        SettingError(message)
    }
}
