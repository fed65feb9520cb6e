//! What can go wrong when evaluating files: each variant's message is one line naming the file.
use std::path::PathBuf;

use dicekit_data::DataError;
use dicekit_metrics::MetricError;

/// An evaluation that could not be done; its `Display` is one line that names the file.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read or decoded.
    #[error(transparent)]
    Read(#[from] DataError),
    /// Size-bin edges that are not positive, finite and ascending.
    #[error("--size-bins {0:?}: the edges must be positive, finite and ascending")]
    SizeBins(Vec<f64>),
    /// A folder holds no label map.
    #[error("{}: no label maps (.nii, .nii.gz, .png, .tif, .tiff) in this folder", .0.display())]
    NoLabelMaps(PathBuf),
    /// One input is a folder and the other a file.
    #[error("{} is a folder but {} is not: give two files or two folders", folder.display(), file.display())]
    FolderAndFile {
        /// The folder.
        folder: PathBuf,
        /// The file.
        file: PathBuf,
    },
    /// A prediction has no reference file of its case name.
    #[error("{}: no reference file named `{name}` in {}", file.display(), folder.display())]
    NoReference {
        /// The prediction.
        file: PathBuf,
        /// Its case name.
        name: String,
        /// The reference folder.
        folder: PathBuf,
    },
    /// A reference has no prediction of its case name.
    #[error("{}: no prediction named `{name}` in {}", file.display(), folder.display())]
    NoPrediction {
        /// The reference.
        file: PathBuf,
        /// Its case name.
        name: String,
        /// The prediction folder.
        folder: PathBuf,
    },
    /// The two maps of a case differ in shape.
    #[error("{}: shape {pred_shape:?} differs from the reference {} {truth_shape:?}", pred.display(), truth.display())]
    Shape {
        /// The prediction.
        pred: PathBuf,
        /// Its shape.
        pred_shape: Vec<usize>,
        /// The reference.
        truth: PathBuf,
        /// Its shape.
        truth_shape: Vec<usize>,
    },
    /// The two headers give different spacings and no rule says which to use.
    #[error("{}: spacing {pred_spacing:?} differs from the reference {} {truth_spacing:?}; choose with --spacing-from truth|pred or give --spacing", pred.display(), truth.display())]
    Spacing {
        /// The prediction.
        pred: PathBuf,
        /// Its header spacing.
        pred_spacing: Vec<f64>,
        /// The reference.
        truth: PathBuf,
        /// Its header spacing.
        truth_spacing: Vec<f64>,
    },
    /// The spacing has a different number of values than the image has axes.
    #[error("{}: --spacing has {given} values but the image has {axes} axes", path.display())]
    SpacingAxes {
        /// The reference.
        path: PathBuf,
        /// Values given.
        given: usize,
        /// Axes of the image.
        axes: usize,
    },
    /// A metric refused the maps.
    #[error("{}: {source}", path.display())]
    Metric {
        /// The prediction.
        path: PathBuf,
        /// Why.
        source: MetricError,
    },
    /// A probability map or FROC setting that cannot be used (the message names the file or
    /// the setting).
    #[error("FROC: {0}")]
    Froc(String),
    /// The CSV rows could not be written.
    #[error("writing the CSV rows: {0}")]
    Write(String),
    /// The NSD tolerance is negative or not finite.
    #[error("--tolerance must be a finite number >= 0, got {0}")]
    Tolerance(f64),
    /// A spacing value is not finite and positive.
    #[error("--spacing values must be finite and > 0, got {0}")]
    SpacingValue(f64),
}
