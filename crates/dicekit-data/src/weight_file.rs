//! A weight map of a label-map file, written as an image: what `dicekit weights` does.
use std::path::{Path, PathBuf};

use crate::image::{TiffSamples, write_image_nifti, write_image_tiff};
use crate::weight_map::{
    BoundaryWeightConfig, UnetWeightConfig, WeightMapError, boundary_weight_map, unet_weight_map,
};
use crate::{DataError, Volume, read_label_map};

/// Which weight map.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightMapKind {
    /// Ronneberger et al.'s U-Net weights (class balance + border term).
    Unet(UnetWeightConfig),
    /// A band of extra weight around every label boundary.
    Boundary(BoundaryWeightConfig),
}

/// A weight map that could not be computed or written.
#[derive(Debug, thiserror::Error)]
pub enum WeightFileError {
    /// The label map could not be read, or the weight map not written.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A parameter or the spacing does not fit the label map.
    #[error("{}: {error}", path.display())]
    Weights {
        /// The label map.
        path: PathBuf,
        /// Why.
        error: WeightMapError,
    },
    /// A 3D weight map asked for in a 2D-only format.
    #[error("{}: a 3D weight map is written as .nii or .nii.gz", .0.display())]
    ThreeDNeedsNifti(PathBuf),
}

/// Reads the label map `mask`, computes `kind`'s weights (in the file's spacing, or in pixels
/// when `pixel_spacing`) and writes them to `out`: `.nii`/`.nii.gz` for any map, `.tif` (32-bit
/// float) for 2D. Returns the smallest and largest weight.
///
/// # Errors
/// The label map cannot be read, the parameters do not fit it, or `out` cannot be written.
pub fn write_weight_map(
    mask: &Path,
    out: &Path,
    kind: &WeightMapKind,
    pixel_spacing: bool,
) -> Result<(f32, f32), WeightFileError> {
    let labels = read_label_map(mask)?;
    let spacing = if pixel_spacing {
        vec![1.0; labels.data.ndim()]
    } else {
        labels.spacing.clone()
    };
    let weights = match kind {
        WeightMapKind::Unet(cfg) => unet_weight_map(&labels.data, &spacing, cfg),
        WeightMapKind::Boundary(cfg) => boundary_weight_map(&labels.data, &spacing, cfg),
    }
    .map_err(|error| WeightFileError::Weights {
        path: mask.to_path_buf(),
        error,
    })?;
    let (min, max) = weights
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let nd = weights.ndim();
    let volume = Volume {
        data: weights.insert_axis(ndarray::Axis(0)),
        spacing: labels.spacing.clone(),
        origin: labels.origin.clone(),
        affine: labels.affine,
    };
    let name = out.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".nii") || name.ends_with(".nii.gz") {
        write_image_nifti(out, &volume)?;
    } else if nd == 2 {
        write_image_tiff(out, &volume, TiffSamples::F32)?;
    } else {
        return Err(WeightFileError::ThreeDNeedsNifti(out.to_path_buf()));
    }
    Ok((min, max))
}
