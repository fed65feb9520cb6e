//! Segmentation label maps from files: NIfTI-1 (`.nii`, `.nii.gz`), PNG and TIFF, read into an
//! [`ndarray`] [`Volume`] with their voxel spacing, with errors that name the file.
//!
//! This crate does not depend on burn; every other dicekit crate reads images through it.
//!
//! | | NIfTI | PNG | TIFF |
//! |---|---|---|---|
//! | axes of `data` | header `dim` order `(x, y, z, ...)`, as nibabel | `[H, W]` | `[H, W]` |
//! | `spacing` (mm) | `pixdim[1..=ndim]` | `[1, 1]` | `[1, 1]` |
//! | `origin` (mm) | sform, else qform translation | zeros | zeros |
//! | `affine` | the sform (else qform) matrix when it rotates or flips an axis; written back as the sform | none | none |
//! | samples | any integer or float type, `scl_slope`/`scl_inter` applied; values must be integers `>= 0` | 1-16 bit gray, palette index | 1-64 bit gray; integral floats |
//! | write | [`write_label_map_nifti`] | [`write_label_map_png`] | no |
//!
//! Labels are `u32`. Reading never panics on a file's content: every failure is a
//! [`DataError`] whose `Display` is one line starting with the path.
//!
//! Intensity images ([`read_image`]) are `Volume<f32>` of shape `[C, ...S]`, channels first,
//! with values as stored and `spacing`/`origin` per SPATIAL axis; label maps and masks stay
//! `Volume<u32>` of shape `[...S]` (see the [`image`] module for the convention,
//! [`Volume::channels`] and [`Volume::spatial_shape`]).
//!
//! | | NIfTI | PNG | JPEG | TIFF |
//! |---|---|---|---|---|
//! | [`read_image`] | 3-D: `C = 1`; 4-D: `dim[4]` channels; integer or float | gray, gray+alpha, RGB, RGBA, palette -> RGB; 1-16 bit | 8-bit gray or RGB/YCbCr | every band, contiguous or planar; 8-64 bit integers, f16/f32/f64 |
//! | [`read_mask`](mask::read_mask) | labels, threshold | labels, threshold, colour table | threshold, colour table | labels, threshold, colour table |
//! | write images | [`write_image_nifti`](image::write_image_nifti) (f32) | [`write_image_png`](image::write_image_png) (u8/u16) | [`write_image_jpeg`](image::write_image_jpeg) (8-bit gray/RGB, lossy) | [`write_image_tiff`](image::write_image_tiff) (f32/u16, any band count) |
//!
//! [`dataset`] lists image/mask pairs from a folder pair or a split file, as a TOML description
//! says (`datasets/*.toml` at the repository root describes the shared datasets).
//!
//! # Examples
//!
//! ```
//! use dicekit_data::{case_name, list_label_maps, read_label_map, write_label_map_png, Volume};
//! use ndarray::array;
//!
//! let dir = std::env::temp_dir().join(format!("dicekit-doc-crate-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! write_label_map_png(&dir.join("case_1.png"), &Volume::new(array![[0u32, 1], [1, 1]].into_dyn()))?;
//!
//! for path in list_label_maps(&dir)? {
//!     let v = read_label_map(&path)?;
//!     let foreground = v.data.iter().filter(|&&l| l == 1).count();
//!     assert_eq!((case_name(&path).as_str(), foreground), ("case_1", 3));
//! }
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), dicekit_data::DataError>(())
//! ```

pub mod augment;
pub mod dataset;
/// The exact distance transform (from dicekit-metrics, a leaf; re-exported for the weight maps
/// and for callers of `dicekit_data::edt`).
pub use dicekit_metrics::edt;
mod error;
mod format;
pub mod image;
mod label_map;
mod labels;
pub mod mask;
pub mod overlay;
pub mod resample;
mod rng;
pub mod synth;
pub mod tiling;
mod volume;
mod weight_file;
pub mod weight_map;

pub use error::{DataError, DataErrorKind, SettingError};
pub use image::read_image;
pub use label_map::{
    LabelVolume, case_name, label_maps_by_case, list_label_maps, read_label_map,
    read_label_map_native, write_label_map_nifti, write_label_map_png,
};
pub use rng::Rng;
pub use volume::Volume;
pub use weight_file::{WeightFileError, WeightMapKind, write_weight_map};
