//! Seeded, joint augmentation of an image and its label map for class-imbalanced segmentation:
//! crops with foreground oversampling, flips, quarter-turn rotations and intensity transforms,
//! after nnU-Net's training pipeline.
//!
//! Images are `[C, ...S]` (`f32`, channels first), label maps `[...S]` (`u32`), `S` 2D `[H, W]`
//! or 3D `[X, Y, Z]` (any number of spatial axes works). The geometric steps move image and
//! label map together, so a voxel's label always travels with its intensities; the intensity
//! steps never touch the label map.
//!
//! ```text
//! augment(image [C, ...S], mask [...S], cfg, rng) -> ([C, ...P], [...P])     P = crop.patch, else S
//!  1. crop            random_crop (when `crop` is Some)
//!  2. rotate90        with probability p: k quarter turns in the plane of spatial axes (a, b);
//!                     k uniform in {1, 2, 3} when the two lengths are equal, else k = 2
//!                     (the only turn that keeps the shape); k = 1 maps
//!                     out[.., i, .., j, ..] = in[.., j, .., n - 1 - i, ..]   (i on axis a, j on b)
//!  3. flip            each axis of `flip.axes`, independently, with probability p
//!  4. scale           with probability p: x_c <- x_c s_c,  s_c ~ U[lo, hi) for each channel c
//!  5. shift           with probability p: x_c <- x_c + t_c,  t_c ~ U[lo, hi) for each channel c
//!  6. gamma_inverted  as 7. on -x, negated back (nnU-Net's invert_image=True)
//!  7. gamma           with probability p, for each channel (batchgenerators augment_gamma):
//!                       γ ~ U[lo, 1) with probability 1/2 when lo < 1, else γ ~ U[max(lo, 1), hi)
//!                       m = min x_c, r = max x_c - m
//!                       x_c <- ((x_c - m) / (r + 1e-7))^γ r + m
//!                       RetainStats: then shift and scale x_c back to its mean and standard
//!                       deviation before the transform (x <- (x - μ') / (σ' + 1e-8) σ + μ)
//! ```
//!
//! # Reproducibility
//!
//! Every random number comes from the [`Rng`] passed in, drawn in the order above (crop, then
//! rotation, then flips in axis order, then each intensity step, channel by channel), and a step
//! draws its "apply?" number even when its probability is 0 or 1. The draws and the geometric
//! steps use integer arithmetic and correctly rounded IEEE operations only, so the same seed
//! and input give the same output bit for bit on every platform. The one exception is the
//! gamma power, computed as `f64::powf` and rounded to `f32`: two platforms' `pow` could differ in
//! the last `f64` bit, which changes the `f32` result for about one value in 2^29.
//!
//! # Examples
//!
//! ```
//! use dicekit_data::augment::{augment, AugmentConfig, CropConfig};
//! use dicekit_data::Rng;
//! use ndarray::ArrayD;
//!
//! let image = ArrayD::from_shape_fn(vec![1, 40, 30], |ix| (ix[1] + ix[2]) as f32);
//! let mut mask = ArrayD::<u32>::zeros(vec![40, 30]);
//! mask[[20, 10]] = 1; // one foreground pixel in 1200
//! let cfg = AugmentConfig {
//!     crop: Some(CropConfig { foreground_fraction: 1.0, ..CropConfig::new(vec![16, 16]) }),
//!     ..AugmentConfig::default()
//! };
//! let (x, y) = augment(&image, &mask, &cfg, &mut Rng::new(7))?;
//! assert_eq!((x.shape(), y.shape()), (&[1, 16, 16][..], &[16, 16][..]));
//! assert_eq!(y.iter().filter(|&&l| l == 1).count(), 1); // the patch holds the foreground
//! # Ok::<(), dicekit_data::augment::AugmentError>(())
//! ```

use std::collections::BTreeMap;

use ndarray::{ArrayD, ArrayRef, ArrayViewMutD, Axis, IxDyn, Slice};
use serde::{Deserialize, Serialize};

use crate::Rng;

/// An augmentation request that cannot be carried out; `Display` is one line naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AugmentError {
    /// The label map has no axis.
    #[error("the label map has no spatial axis; expected [...S] with S 2D or 3D")]
    NoSpatialAxes,
    /// The image is not `[C, ...S]` for the label map's `[...S]`.
    #[error(
        "image shape {image:?} does not match label map shape {mask:?}; the image must be [C, ...S] for a label map [...S]"
    )]
    ShapeMismatch {
        /// The image's shape.
        image: Vec<usize>,
        /// The label map's shape.
        mask: Vec<usize>,
    },
    /// The patch has a zero length, or not one length per spatial axis of the data.
    #[error("crop.patch is {patch:?}; it needs one length >= 1 per spatial axis ({rank} here)")]
    BadPatch {
        /// The patch given.
        patch: Vec<usize>,
        /// The number of spatial axes of the data (0 when checked without data).
        rank: usize,
    },
    /// A crop origin has not one entry per spatial axis, or leaves the padded image.
    #[error(
        "crop origin {origin:?} is not a valid origin for patch {patch:?} in spatial shape {shape:?}"
    )]
    BadOrigin {
        /// The origin given.
        origin: Vec<isize>,
        /// The patch.
        patch: Vec<usize>,
        /// The spatial shape of the data.
        shape: Vec<usize>,
    },
    /// A probability or fraction is outside `[0, 1]` or NaN.
    #[error("{field} is {value}; it must be in [0, 1]")]
    BadProbability {
        /// The config field, e.g. `"flip.probability"`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A `(lo, hi)` range is not finite, has `lo > hi`, or (gamma) `lo <= 0`.
    #[error("{field} is ({lo}, {hi}); it must be finite with lo <= hi{extra}")]
    BadRange {
        /// The config field, e.g. `"gamma.range"`.
        field: &'static str,
        /// The lower end given.
        lo: f64,
        /// The upper end given.
        hi: f64,
        /// A further requirement of this field, for the message (e.g. `" and lo > 0"`).
        extra: &'static str,
    },
    /// A spatial axis index is not an axis of the data, or the two rotation axes are equal.
    #[error(
        "{field} names spatial axes {axes:?}; the data has spatial axes 0..{rank} and the rotation axes must differ"
    )]
    BadAxis {
        /// The config field, `"rotate90.axes"` or `"flip.axes"`.
        field: &'static str,
        /// The axes given.
        axes: Vec<usize>,
        /// The number of spatial axes of the data (0 when checked without data).
        rank: usize,
    },
    /// `crop.image_pad_value` is NaN or infinite.
    #[error("crop.image_pad_value is {value}; it must be finite")]
    BadPadValue {
        /// The value given.
        value: f32,
    },
    /// `crop.mask_pad` is [`MaskPad::IgnoreLabel`] but `crop.ignore_label` is `None`.
    #[error("crop.mask_pad is IgnoreLabel but crop.ignore_label is None")]
    NoIgnoreLabel,
    /// The ignore label is listed as a foreground class.
    #[error("crop.foreground lists label {label}, which is crop.ignore_label")]
    IgnoreLabelIsForeground {
        /// The label.
        label: u32,
    },
}

/// Which labels count as foreground for oversampling.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForegroundClasses {
    /// Every label `> 0` except the ignore label.
    #[default]
    AnyNonZero,
    /// These labels (none may be the ignore label).
    Labels(Vec<u32>),
}

/// How a foreground-centred crop picks its voxel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForegroundSampling {
    /// A foreground voxel uniformly among all foreground voxels: large classes dominate.
    #[default]
    UniformVoxel,
    /// A class uniformly among the foreground classes present, then one of its voxels uniformly
    /// (nnU-Net): a tiny class is centred as often as a large one.
    ClassThenVoxel,
}

/// How a crop centre is chosen; see [`random_crop_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Origin uniform over all positions that keep the patch inside the (padded) image.
    Uniform,
    /// Centred on a foreground voxel (moved to keep the patch inside); uniform when the label
    /// map has no foreground voxel.
    Foreground,
}

/// What fills the label map where a patch reaches past a smaller image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskPad {
    /// Label 0.
    #[default]
    Background,
    /// `crop.ignore_label`, so that losses skip the padding.
    IgnoreLabel,
}

/// Random cropping with foreground oversampling; see [`random_crop`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CropConfig {
    /// Patch length per spatial axis.
    pub patch: Vec<usize>,
    /// Probability that a patch is centred on a foreground voxel (nnU-Net: 0.33); in `[0, 1]`.
    #[serde(default = "default_foreground_fraction")]
    pub foreground_fraction: f64,
    /// The labels that count as foreground.
    #[serde(default)]
    pub foreground: ForegroundClasses,
    /// How the foreground voxel is chosen.
    #[serde(default)]
    pub foreground_sampling: ForegroundSampling,
    /// A label that is never foreground, and the mask padding for [`MaskPad::IgnoreLabel`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_label: Option<u32>,
    /// Image value in the padding (finite).
    #[serde(default)]
    pub image_pad_value: f32,
    /// Label map value in the padding.
    #[serde(default)]
    pub mask_pad: MaskPad,
}

fn default_foreground_fraction() -> f64 {
    0.33
}

impl CropConfig {
    /// Patches of `patch` voxels, a third of them on foreground, padded with 0 and label 0:
    /// `foreground_fraction: 0.33`, [`ForegroundClasses::AnyNonZero`],
    /// [`ForegroundSampling::UniformVoxel`], no ignore label, `image_pad_value: 0.0`,
    /// [`MaskPad::Background`].
    pub fn new(patch: Vec<usize>) -> Self {
        CropConfig {
            patch,
            foreground_fraction: default_foreground_fraction(),
            foreground: ForegroundClasses::AnyNonZero,
            foreground_sampling: ForegroundSampling::UniformVoxel,
            ignore_label: None,
            image_pad_value: 0.0,
            mask_pad: MaskPad::Background,
        }
    }

    /// Checks the values that do not depend on the data.
    ///
    /// # Errors
    /// [`AugmentError`] naming the field: an empty patch or a zero length, a fraction outside
    /// `[0, 1]`, a non-finite pad value, [`MaskPad::IgnoreLabel`] without an ignore label, the
    /// ignore label among the foreground labels.
    pub fn validate(&self) -> Result<(), AugmentError> {
        if self.patch.is_empty() || self.patch.contains(&0) {
            return Err(AugmentError::BadPatch {
                patch: self.patch.clone(),
                rank: 0,
            });
        }
        check_probability("crop.foreground_fraction", self.foreground_fraction)?;
        if !self.image_pad_value.is_finite() {
            return Err(AugmentError::BadPadValue {
                value: self.image_pad_value,
            });
        }
        if self.mask_pad == MaskPad::IgnoreLabel && self.ignore_label.is_none() {
            return Err(AugmentError::NoIgnoreLabel);
        }
        if let (ForegroundClasses::Labels(labels), Some(ignore)) =
            (&self.foreground, self.ignore_label)
            && labels.contains(&ignore)
        {
            return Err(AugmentError::IgnoreLabelIsForeground { label: ignore });
        }
        Ok(())
    }

    fn mask_pad_value(&self) -> u32 {
        match self.mask_pad {
            MaskPad::Background => 0,
            MaskPad::IgnoreLabel => self.ignore_label.unwrap_or(0),
        }
    }

    fn is_foreground(&self, label: u32) -> bool {
        Some(label) != self.ignore_label
            && match &self.foreground {
                ForegroundClasses::AnyNonZero => label != 0,
                ForegroundClasses::Labels(labels) => labels.contains(&label),
            }
    }
}

/// Quarter-turn rotations in one plane.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rotate90Config {
    /// Probability of rotating a sample, in `[0, 1]`.
    pub probability: f64,
    /// The plane, as two distinct spatial axes (`[0, 1]` is the only plane of 2D data; for
    /// NIfTI `(x, y, z)` volumes `[0, 1]` is the axial plane).
    pub axes: [usize; 2],
}

impl Default for Rotate90Config {
    /// Probability 0.2 in the plane `[0, 1]`.
    fn default() -> Self {
        Rotate90Config {
            probability: 0.2,
            axes: [0, 1],
        }
    }
}

/// Which spatial axes may be flipped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlipAxes {
    /// Every spatial axis (nnU-Net's mirroring).
    #[default]
    All,
    /// These spatial axes, in this order.
    Only(Vec<usize>),
}

/// Mirroring along spatial axes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlipConfig {
    /// Probability of flipping each axis, independently, in `[0, 1]`.
    pub probability: f64,
    /// The axes that may be flipped.
    pub axes: FlipAxes,
}

impl Default for FlipConfig {
    /// Every axis with probability 0.5 (nnU-Net).
    fn default() -> Self {
        FlipConfig {
            probability: 0.5,
            axes: FlipAxes::All,
        }
    }
}

/// A per-channel intensity transform with a random parameter in `range` (scale or shift).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntensityConfig {
    /// Probability of transforming a sample (all its channels), in `[0, 1]`.
    pub probability: f64,
    /// `(lo, hi)`, the parameter is uniform in `[lo, hi)`, drawn for each channel.
    pub range: (f64, f64),
}

/// What happens to a channel's mean and standard deviation under gamma.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GammaStats {
    /// Restore the mean and standard deviation from before the transform (nnU-Net's
    /// `retain_stats=True`).
    #[default]
    Retain,
    /// Only the min-max rescaling: the minimum and maximum are kept.
    MinMax,
}

/// Gamma transform of the intensities rescaled to `[0, 1]` per channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GammaConfig {
    /// Probability of transforming a sample (all its channels), in `[0, 1]`.
    pub probability: f64,
    /// `(lo, hi)` with `0 < lo <= hi`; see the module docs for how `γ` is drawn.
    pub range: (f64, f64),
    /// Mean and standard deviation handling.
    pub stats: GammaStats,
}

/// Every augmentation step, in the order they run; see the module docs.
///
/// The default is nnU-Net's (`nnUNetTrainer.get_training_transforms`, reduced to the steps
/// above): no crop (set one), quarter turns in the plane `[0, 1]` with probability 0.2
/// (nnU-Net rotates by any angle there), mirroring of every axis with probability 0.5,
/// multiplicative brightness `(0.75, 1.25)` with probability 0.15, no shift (probability 0,
/// range `(-0.1, 0.1)`), gamma `(0.7, 1.5)` with retained statistics on the inverted image with
/// probability 0.1 and on the image with probability 0.3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AugmentConfig {
    /// The crop, or `None` to keep the whole image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crop: Option<CropConfig>,
    /// Quarter-turn rotations.
    pub rotate90: Rotate90Config,
    /// Mirroring.
    pub flip: FlipConfig,
    /// Multiplicative intensity change, `x s`.
    pub scale: IntensityConfig,
    /// Additive intensity change, `x + t`.
    pub shift: IntensityConfig,
    /// Gamma on the negated image (bright structures change the most).
    pub gamma_inverted: GammaConfig,
    /// Gamma on the image.
    pub gamma: GammaConfig,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        AugmentConfig {
            crop: None,
            rotate90: Rotate90Config::default(),
            flip: FlipConfig::default(),
            scale: IntensityConfig {
                probability: 0.15,
                range: (0.75, 1.25),
            },
            shift: IntensityConfig {
                probability: 0.0,
                range: (-0.1, 0.1),
            },
            gamma_inverted: GammaConfig {
                probability: 0.1,
                range: (0.7, 1.5),
                stats: GammaStats::Retain,
            },
            gamma: GammaConfig {
                probability: 0.3,
                range: (0.7, 1.5),
                stats: GammaStats::Retain,
            },
        }
    }
}

impl AugmentConfig {
    /// A config with every step off (probabilities 0, no crop): `augment` returns its input.
    pub fn none() -> Self {
        let d = AugmentConfig::default();
        AugmentConfig {
            crop: None,
            rotate90: Rotate90Config {
                probability: 0.0,
                ..d.rotate90
            },
            flip: FlipConfig {
                probability: 0.0,
                ..d.flip
            },
            scale: IntensityConfig {
                probability: 0.0,
                ..d.scale
            },
            shift: IntensityConfig {
                probability: 0.0,
                ..d.shift
            },
            gamma_inverted: GammaConfig {
                probability: 0.0,
                ..d.gamma_inverted
            },
            gamma: GammaConfig {
                probability: 0.0,
                ..d.gamma
            },
        }
    }

    /// Checks the values that do not depend on the data (axes are checked by [`augment`]).
    ///
    /// # Errors
    /// [`AugmentError`] naming the field: a probability outside `[0, 1]`, a range that is not
    /// finite or has `lo > hi`, a gamma range with `lo <= 0`, equal rotation axes, and the
    /// errors of [`CropConfig::validate`].
    pub fn validate(&self) -> Result<(), AugmentError> {
        if let Some(crop) = &self.crop {
            crop.validate()?;
        }
        check_probability("rotate90.probability", self.rotate90.probability)?;
        if self.rotate90.axes[0] == self.rotate90.axes[1] {
            return Err(AugmentError::BadAxis {
                field: "rotate90.axes",
                axes: self.rotate90.axes.to_vec(),
                rank: 0,
            });
        }
        check_probability("flip.probability", self.flip.probability)?;
        check_probability("scale.probability", self.scale.probability)?;
        check_range("scale.range", self.scale.range, "")?;
        check_probability("shift.probability", self.shift.probability)?;
        check_range("shift.range", self.shift.range, "")?;
        let gammas = [
            (
                "gamma_inverted.probability",
                "gamma_inverted.range",
                &self.gamma_inverted,
            ),
            ("gamma.probability", "gamma.range", &self.gamma),
        ];
        for (p_field, r_field, g) in gammas {
            check_probability(p_field, g.probability)?;
            check_range(r_field, g.range, " and lo > 0")?;
            if g.range.0 <= 0.0 {
                return Err(AugmentError::BadRange {
                    field: r_field,
                    lo: g.range.0,
                    hi: g.range.1,
                    extra: " and lo > 0",
                });
            }
        }
        Ok(())
    }
}

fn check_probability(field: &'static str, value: f64) -> Result<(), AugmentError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(AugmentError::BadProbability { field, value })
    }
}

fn check_range(
    field: &'static str,
    (lo, hi): (f64, f64),
    extra: &'static str,
) -> Result<(), AugmentError> {
    if lo.is_finite() && hi.is_finite() && lo <= hi {
        Ok(())
    } else {
        Err(AugmentError::BadRange {
            field,
            lo,
            hi,
            extra,
        })
    }
}

/// Checks that `image` is `[C, ...S]` for `mask` `[...S]` with at least one spatial axis.
fn check_pair(image: &[usize], mask: &[usize]) -> Result<(), AugmentError> {
    if mask.is_empty() {
        return Err(AugmentError::NoSpatialAxes);
    }
    if image.len() != mask.len() + 1 || &image[1..] != mask {
        return Err(AugmentError::ShapeMismatch {
            image: image.to_vec(),
            mask: mask.to_vec(),
        });
    }
    Ok(())
}

fn check_crop(image: &[usize], mask: &[usize], cfg: &CropConfig) -> Result<(), AugmentError> {
    cfg.validate()?;
    check_pair(image, mask)?;
    if cfg.patch.len() != mask.len() {
        return Err(AugmentError::BadPatch {
            patch: cfg.patch.clone(),
            rank: mask.len(),
        });
    }
    Ok(())
}

/// The allowed origins `lo..=hi` along an axis of length `len` for patch length `p`:
/// `0..=len - p` when the patch fits, else the single origin `-floor((p - len) / 2)` (the image
/// centred in the patch, as nnU-Net pads).
fn origin_bounds(len: usize, p: usize) -> (isize, isize) {
    if len >= p {
        (0, (len - p) as isize)
    } else {
        let lo = -(((p - len) / 2) as isize);
        (lo, lo)
    }
}

/// Random crop of `patch` voxels, centred on a foreground voxel with probability
/// `foreground_fraction` (one [`Rng::chance`] draw), else uniform: [`random_crop_with`] with the
/// [`Placement`] so drawn.
///
/// ```text
/// image [C, ...S], mask [...S] -> ([C, ...patch], [...patch])
/// ```
///
/// # Errors
/// [`AugmentError`] for a config that fails [`CropConfig::validate`], shapes that do not pair,
/// a patch without one length per spatial axis.
///
/// # Examples
///
/// ```
/// use dicekit_data::augment::{random_crop, CropConfig, MaskPad};
/// use dicekit_data::Rng;
/// use ndarray::{array, ArrayD};
///
/// let image = array![[[1.0f32, 2.0], [3.0, 4.0]]].into_dyn(); // [1, 2, 2]
/// let mask = array![[0u32, 1], [1, 1]].into_dyn();
/// // a 2×4 patch from a 2×2 image: one column of padding on each side
/// let cfg = CropConfig { ignore_label: Some(255), mask_pad: MaskPad::IgnoreLabel, ..CropConfig::new(vec![2, 4]) };
/// let (x, y) = random_crop(&image, &mask, &cfg, &mut Rng::new(1))?;
/// assert_eq!(x, array![[[0.0f32, 1.0, 2.0, 0.0], [0.0, 3.0, 4.0, 0.0]]].into_dyn());
/// assert_eq!(y, array![[255u32, 0, 1, 255], [255, 1, 1, 255]].into_dyn());
/// # Ok::<(), dicekit_data::augment::AugmentError>(())
/// ```
pub fn random_crop(
    image: &ArrayRef<f32, IxDyn>,
    mask: &ArrayRef<u32, IxDyn>,
    cfg: &CropConfig,
    rng: &mut Rng,
) -> Result<(ArrayD<f32>, ArrayD<u32>), AugmentError> {
    check_crop(image.shape(), mask.shape(), cfg)?;
    let placement = if rng.chance(cfg.foreground_fraction) {
        Placement::Foreground
    } else {
        Placement::Uniform
    };
    random_crop_with(image, mask, cfg, placement, rng)
}

/// Random crop with a given [`Placement`] (for an exact share of foreground patches per batch,
/// as nnU-Net forces the last third of each batch).
///
/// ```text
/// per spatial axis of length L, patch P:
///   allowed origins o in lo..=hi:  L >= P: 0..=L-P;   L < P: the single o = -floor((P-L)/2)
///   Uniform:    o = lo + below(hi - lo + 1)                        (one draw per axis)
///   Foreground: v = a foreground voxel (see ForegroundSampling), o = clamp(v - floor(P/2), lo, hi)
///               so v lies in the patch, at its centre unless near the border;
///               Uniform when there is no foreground voxel
/// ```
/// Finding the voxel scans the label map twice (`O(N)`, no allocation beyond a class count).
/// Out-of-image parts of the patch get `image_pad_value` and the [`MaskPad`] label.
///
/// # Errors
/// As [`random_crop`].
pub fn random_crop_with(
    image: &ArrayRef<f32, IxDyn>,
    mask: &ArrayRef<u32, IxDyn>,
    cfg: &CropConfig,
    placement: Placement,
    rng: &mut Rng,
) -> Result<(ArrayD<f32>, ArrayD<u32>), AugmentError> {
    check_crop(image.shape(), mask.shape(), cfg)?;
    let shape = mask.shape();
    let bounds: Vec<(isize, isize)> = shape
        .iter()
        .zip(&cfg.patch)
        .map(|(&l, &p)| origin_bounds(l, p))
        .collect();
    let centre = match placement {
        Placement::Foreground => pick_foreground(mask, cfg, rng),
        Placement::Uniform => None,
    };
    let origin: Vec<isize> = match centre {
        Some(v) => v
            .iter()
            .zip(&cfg.patch)
            .zip(&bounds)
            .map(|((&v, &p), &(lo, hi))| (v as isize - (p / 2) as isize).clamp(lo, hi))
            .collect(),
        None => bounds
            .iter()
            .map(|&(lo, hi)| lo + rng.below((hi - lo + 1) as usize) as isize)
            .collect(),
    };
    crop_at(image, mask, &origin, cfg)
}

/// The deterministic centre crop for validation: origin `trunc((L - P) / 2)` per axis (for
/// `L < P` the image is centred in the padding, as [`random_crop`] does).
///
/// # Errors
/// As [`random_crop`].
///
/// # Examples
///
/// ```
/// use dicekit_data::augment::{center_crop, CropConfig};
/// use ndarray::{array, ArrayD};
///
/// let image = ArrayD::from_shape_fn(vec![1, 5, 5], |ix| (ix[1] * 5 + ix[2]) as f32);
/// let mask = ArrayD::<u32>::zeros(vec![5, 5]);
/// let (x, _) = center_crop(&image, &mask, &CropConfig::new(vec![2, 3]))?;
/// assert_eq!(x, array![[[6.0f32, 7.0, 8.0], [11.0, 12.0, 13.0]]].into_dyn()); // origin [1, 1]
/// # Ok::<(), dicekit_data::augment::AugmentError>(())
/// ```
pub fn center_crop(
    image: &ArrayRef<f32, IxDyn>,
    mask: &ArrayRef<u32, IxDyn>,
    cfg: &CropConfig,
) -> Result<(ArrayD<f32>, ArrayD<u32>), AugmentError> {
    check_crop(image.shape(), mask.shape(), cfg)?;
    let origin: Vec<isize> = mask
        .shape()
        .iter()
        .zip(&cfg.patch)
        .map(|(&l, &p)| (l as isize - p as isize) / 2)
        .collect();
    crop_at(image, mask, &origin, cfg)
}

/// The patch of `cfg.patch` voxels starting at `origin` (per spatial axis; negative or past
/// the end where the patch reaches out of the image), padded with `image_pad_value` and the
/// [`MaskPad`] label. Any origin with some overlap with the image is accepted.
///
/// # Errors
/// [`AugmentError::BadOrigin`] for an origin without one entry per spatial axis or a patch that
/// misses the image entirely, and the errors of [`random_crop`].
pub fn crop_at(
    image: &ArrayRef<f32, IxDyn>,
    mask: &ArrayRef<u32, IxDyn>,
    origin: &[isize],
    cfg: &CropConfig,
) -> Result<(ArrayD<f32>, ArrayD<u32>), AugmentError> {
    check_crop(image.shape(), mask.shape(), cfg)?;
    let shape = mask.shape();
    let bad = || AugmentError::BadOrigin {
        origin: origin.to_vec(),
        patch: cfg.patch.clone(),
        shape: shape.to_vec(),
    };
    if origin.len() != shape.len() {
        return Err(bad());
    }
    // per axis: the image range [src_lo, src_hi) and where it lands in the patch
    let mut src = Vec::with_capacity(shape.len());
    let mut dst = Vec::with_capacity(shape.len());
    for a in 0..shape.len() {
        let (o, p, l) = (origin[a], cfg.patch[a] as isize, shape[a] as isize);
        let (lo, hi) = (o.max(0), (o + p).min(l));
        if lo >= hi {
            // the patch misses the image (or the image axis is empty)
            if l == 0 {
                src.push(0..0);
                dst.push(0..0);
                continue;
            }
            return Err(bad());
        }
        src.push(lo as usize..hi as usize);
        dst.push((lo - o) as usize..(hi - o) as usize);
    }
    let mut image_shape = vec![image.shape()[0]];
    image_shape.extend_from_slice(&cfg.patch);
    let mut x = ArrayD::from_elem(IxDyn(&image_shape), cfg.image_pad_value);
    let mut y = ArrayD::from_elem(IxDyn(&cfg.patch), cfg.mask_pad_value());
    let spatial = |ranges: &[std::ops::Range<usize>], a: usize| Slice::from(ranges[a].clone());
    x.slice_each_axis_mut(|ad| match ad.axis.index() {
        0 => Slice::from(..),
        a => spatial(&dst, a - 1),
    })
    .assign(&image.slice_each_axis(|ad| match ad.axis.index() {
        0 => Slice::from(..),
        a => spatial(&src, a - 1),
    }));
    y.slice_each_axis_mut(|ad| spatial(&dst, ad.axis.index()))
        .assign(&mask.slice_each_axis(|ad| spatial(&src, ad.axis.index())));
    Ok((x, y))
}

/// A foreground voxel's index, or `None` when there is none; see [`ForegroundSampling`].
fn pick_foreground(
    mask: &ArrayRef<u32, IxDyn>,
    cfg: &CropConfig,
    rng: &mut Rng,
) -> Option<Vec<usize>> {
    let (class, n) = match cfg.foreground_sampling {
        ForegroundSampling::UniformVoxel => {
            let n = mask.iter().filter(|&&l| cfg.is_foreground(l)).count();
            (None, n)
        }
        ForegroundSampling::ClassThenVoxel => {
            let mut counts = BTreeMap::<u32, usize>::new();
            for &l in mask.iter().filter(|&&l| cfg.is_foreground(l)) {
                *counts.entry(l).or_default() += 1;
            }
            if counts.is_empty() {
                return None;
            }
            let (&class, &n) = counts.iter().nth(rng.below(counts.len()))?;
            (Some(class), n)
        }
    };
    if n == 0 {
        return None;
    }
    let k = rng.below(n);
    let flat = mask
        .iter()
        .enumerate()
        .filter(|&(_, &l)| match class {
            Some(c) => l == c,
            None => cfg.is_foreground(l),
        })
        .nth(k)?
        .0;
    Some(unravel(flat, mask.shape()))
}

/// The multi-index of row-major position `flat` in `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        index[a] = flat % shape[a];
        flat /= shape[a];
    }
    index
}

/// Runs every step of `cfg` on `(image, mask)`; see the module docs for the steps, the formulas
/// and the order of the random draws.
///
/// ```text
/// image [C, ...S], mask [...S] -> ([C, ...P], [...P]),  P = crop.patch, or S without a crop
/// ```
///
/// # Errors
/// [`AugmentError`] for a config that fails [`AugmentConfig::validate`], shapes that do not
/// pair, rotation or flip axes that are not spatial axes of the data, a patch without one
/// length per spatial axis.
///
/// # Examples
///
/// ```
/// use dicekit_data::augment::{augment, AugmentConfig, FlipConfig, FlipAxes};
/// use dicekit_data::Rng;
/// use ndarray::array;
///
/// let image = array![[[1.0f32, 2.0, 3.0]]].into_dyn(); // [1, 1, 3]
/// let mask = array![[0u32, 0, 1]].into_dyn();
/// let cfg = AugmentConfig {
///     flip: FlipConfig { probability: 1.0, axes: FlipAxes::Only(vec![1]) },
///     ..AugmentConfig::none()
/// };
/// let (x, y) = augment(&image, &mask, &cfg, &mut Rng::new(0))?;
/// assert_eq!(x, array![[[3.0f32, 2.0, 1.0]]].into_dyn());
/// assert_eq!(y, array![[1u32, 0, 0]].into_dyn());
/// # Ok::<(), dicekit_data::augment::AugmentError>(())
/// ```
pub fn augment(
    image: &ArrayRef<f32, IxDyn>,
    mask: &ArrayRef<u32, IxDyn>,
    cfg: &AugmentConfig,
    rng: &mut Rng,
) -> Result<(ArrayD<f32>, ArrayD<u32>), AugmentError> {
    cfg.validate()?;
    check_pair(image.shape(), mask.shape())?;
    let rank = mask.ndim();
    let [ra, rb] = cfg.rotate90.axes;
    if ra >= rank || rb >= rank {
        return Err(AugmentError::BadAxis {
            field: "rotate90.axes",
            axes: vec![ra, rb],
            rank,
        });
    }
    let flip_axes: Vec<usize> = match &cfg.flip.axes {
        FlipAxes::All => (0..rank).collect(),
        FlipAxes::Only(axes) => {
            if axes.iter().any(|&a| a >= rank) {
                return Err(AugmentError::BadAxis {
                    field: "flip.axes",
                    axes: axes.clone(),
                    rank,
                });
            }
            axes.clone()
        }
    };

    // 1. crop
    let (mut x, mut y) = match &cfg.crop {
        Some(crop) => random_crop(image, mask, crop, rng)?,
        None => (image.to_owned(), mask.to_owned()),
    };

    // 2.-3. geometry: stride changes only, one copy at the end
    if rng.chance(cfg.rotate90.probability) {
        let k = if y.shape()[ra] == y.shape()[rb] {
            1 + rng.below(3)
        } else {
            2
        };
        rotate90(&mut x, ra + 1, rb + 1, k);
        rotate90(&mut y, ra, rb, k);
    }
    for &a in &flip_axes {
        if rng.chance(cfg.flip.probability) {
            x.invert_axis(Axis(a + 1));
            y.invert_axis(Axis(a));
        }
    }
    let mut x = standard(x);
    let y = standard(y);

    // 4.-7. intensities, per channel
    let channels = x.shape()[0];
    if rng.chance(cfg.scale.probability) {
        for c in 0..channels {
            let s = rng.range(cfg.scale.range.0, cfg.scale.range.1);
            x.index_axis_mut(Axis(0), c)
                .mapv_inplace(|v| (f64::from(v) * s) as f32);
        }
    }
    if rng.chance(cfg.shift.probability) {
        for c in 0..channels {
            let t = rng.range(cfg.shift.range.0, cfg.shift.range.1);
            x.index_axis_mut(Axis(0), c)
                .mapv_inplace(|v| (f64::from(v) + t) as f32);
        }
    }
    for (g, invert) in [(&cfg.gamma_inverted, true), (&cfg.gamma, false)] {
        if rng.chance(g.probability) {
            for c in 0..channels {
                let (lo, hi) = g.range;
                let gamma = if rng.chance(0.5) && lo < 1.0 {
                    rng.range(lo, 1.0)
                } else {
                    rng.range(lo.max(1.0), hi)
                };
                gamma_channel(x.index_axis_mut(Axis(0), c), gamma, invert, g.stats);
            }
        }
    }
    Ok((x, y))
}

/// `k` quarter turns of `x` in the plane of axes `(a, b)` by stride changes (no copy); see the
/// module docs for the mapping.
fn rotate90<A>(x: &mut ArrayD<A>, a: usize, b: usize, k: usize) {
    match k % 4 {
        1 => {
            x.swap_axes(a, b);
            x.invert_axis(Axis(a));
        }
        2 => {
            x.invert_axis(Axis(a));
            x.invert_axis(Axis(b));
        }
        3 => {
            x.swap_axes(a, b);
            x.invert_axis(Axis(b));
        }
        _ => {}
    }
}

/// `x` in row-major memory order (a copy only when its strides were changed).
fn standard<A: Clone>(x: ArrayD<A>) -> ArrayD<A> {
    if x.is_standard_layout() {
        x
    } else {
        x.as_standard_layout().into_owned()
    }
}

/// batchgenerators' `augment_gamma` on one channel, in `f64` (see the module docs).
fn gamma_channel(mut x: ArrayViewMutD<'_, f32>, gamma: f64, invert: bool, stats: GammaStats) {
    let sign = if invert { -1.0 } else { 1.0 };
    let mut v: Vec<f64> = x.iter().map(|&e| sign * f64::from(e)).collect();
    if v.is_empty() {
        return;
    }
    let before = mean_std(&v);
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    for e in &mut v {
        *e = ((*e - min) / (range + 1e-7)).powf(gamma) * range + min;
    }
    if stats == GammaStats::Retain {
        let (mean, std) = before;
        let (m2, s2) = mean_std(&v);
        for e in &mut v {
            *e = (*e - m2) / (s2 + 1e-8) * std + mean;
        }
    }
    for (dst, &e) in x.iter_mut().zip(&v) {
        *dst = (sign * e) as f32;
    }
}

/// Mean and population standard deviation (NumPy's `std`, `ddof = 0`), summed in order.
fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|e| (e - mean) * (e - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(0, &[2, 3, 4]), vec![0, 0, 0]);
        assert_eq!(unravel(23, &[2, 3, 4]), vec![1, 2, 3]);
        assert_eq!(unravel(13, &[2, 3, 4]), vec![1, 0, 1]); // 12 + 1
    }

    #[test]
    fn rotate90_quarter_turn_mapping() {
        // out[i, j] = in[j, n - 1 - i] for k = 1
        let x = ndarray::array![[1, 2], [3, 4]].into_dyn();
        let mut r = x.clone();
        rotate90(&mut r, 0, 1, 1);
        assert_eq!(
            standard(r.clone()),
            ndarray::array![[2, 4], [1, 3]].into_dyn()
        );
        rotate90(&mut r, 0, 1, 3);
        assert_eq!(standard(r), x);
    }

    #[test]
    fn gamma_one_with_min_max_keeps_values() {
        // ((x - m) / (r + 1e-7))^1 r + m = x up to r 1e-7 / r relative error
        let mut x = ndarray::array![[0.0f32, 1.0], [2.0, 4.0]].into_dyn();
        gamma_channel(x.view_mut(), 1.0, false, GammaStats::MinMax);
        for (a, b) in x.iter().zip([0.0f32, 1.0, 2.0, 4.0]) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}
