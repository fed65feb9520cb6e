//! Sliding-window tiling of images of any size, and blended stitching of per-tile predictions.
//!
//! A [`Tiler`] cuts an image `[C, ...S]` (`S` 2D or 3D; any number of spatial axes works) into
//! overlapping patches, [`Tiler::extract`] reads one patch `[C, ...patch]`, and a [`Stitcher`]
//! blends the per-patch predictions `[K, ...patch]` back into `[K, ...S]`.
//!
//! ```text
//! tile origins along a spatial axis of length L, for patch length P and step s (1 <= s <= P):
//!   L <= P:  one tile at 0; the patch reaches past the end of the image and `extract` pads it
//!            with 0 there (the stitcher drops the prediction there)
//!   L >  P:  n = ceil((L - P) / s) + 1 tiles, the first at 0 and the last at L - P:
//!            TilePlacement::Even       o_i = round_half_even(i (L - P) / (n - 1))   (nnU-Net)
//!            TilePlacement::FixedStep  o_i = min(i s, L - P)                        (MONAI)
//!   so every voxel is covered and consecutive origins are at most s apart.
//! Tiles are the Cartesian product of the per-axis origins, last axis fastest.
//!
//! stitching, with the blending weight w(p) > 0 of patch position p:
//!   out[k, x] = Σ_t w(x - o_t) pred_t[k, x - o_t] / Σ_t w(x - o_t)   over the tiles t holding x
//! ```
//!
//! Numerator and denominator are accumulated in `f64` and divided once in [`Stitcher::finish`].
//! Because every weight is a positive normal `f64`, stitching an identity predictor (each tile's
//! prediction is its own input) gives back the input bit for bit as `f32`, for every image size:
//! all terms of a voxel share one value `v`, so the quotient is `v (1 + δ)` with
//! `|δ| <= (2n + 1) 2^-53` for `n` tiles at that voxel, far below half an `f32` ulp
//! (the numerators start at `-0.0`, so even the sign of a zero survives).
//!
//! Memory: the stitcher holds `8 (K + 1) N` bytes for `N` voxels (a 512×512×300 CT with `K = 3`
//! takes 2.5 GB), plus one `f64` weight patch.
//!
//! # Examples
//!
//! ```
//! use dicekit_data::tiling::{Blending, Overlap, Stitcher, Tiler};
//! use ndarray::ArrayD;
//!
//! // a [1, 5, 7] image, 4×4 patches with half overlap
//! let image: ArrayD<f32> = ArrayD::from_shape_fn(vec![1, 5, 7], |ix| (ix[1] * 7 + ix[2]) as f32);
//! let tiler = Tiler::new(vec![4, 4], Overlap::Fraction(0.5), Blending::default())?;
//! let tiles = tiler.tiles(&[5, 7])?;
//! assert_eq!(tiles.len(), 2 * 3); // origins [0, 1] along the first axis, [0, 2, 3] along the second
//!
//! let mut stitcher = Stitcher::new(1, &[5, 7], &tiler)?;
//! for tile in &tiles {
//!     let patch = tiler.extract(&image, tile)?; // [1, 4, 4]
//!     stitcher.add(tile, &patch)?;              // an identity "network"
//! }
//! assert_eq!(stitcher.finish()?, image);
//! # Ok::<(), dicekit_data::tiling::TilingError>(())
//! ```

use ndarray::{ArrayD, ArrayRef, Axis, IxDyn, Slice, Zip};
use serde::{Deserialize, Serialize};

/// Smallest Gaussian blending weight, relative to the centre's 1: `2^-24` (about 6e-8, the
/// smallest positive float16, nnU-Net's storage type for its map).
pub const GAUSSIAN_WEIGHT_FLOOR: f64 = 1.0 / 16_777_216.0;

/// A tiling or stitching request that cannot be carried out; `Display` is one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TilingError {
    /// The patch has no axis.
    #[error("the patch has no axis; give one length per spatial axis")]
    NoAxes,
    /// A patch length is 0.
    #[error("patch {patch:?} has a zero length; every length must be >= 1")]
    ZeroPatch {
        /// The patch given.
        patch: Vec<usize>,
    },
    /// `Overlap::Fraction` is not in `[0, 1)` (or is NaN).
    #[error("overlap fraction is {value}; it must be in [0, 1)")]
    BadOverlap {
        /// The fraction given.
        value: f64,
    },
    /// `Overlap::Step` has a different number of axes than the patch.
    #[error("step {step:?} has {} axes but patch {patch:?} has {}", step.len(), patch.len())]
    StepRank {
        /// The step given.
        step: Vec<usize>,
        /// The patch given.
        patch: Vec<usize>,
    },
    /// A step is 0 (the tiles would never advance).
    #[error("step {step:?} has a zero entry; every step must be >= 1")]
    ZeroStep {
        /// The step given.
        step: Vec<usize>,
    },
    /// A step is longer than the patch, which would leave voxels uncovered.
    #[error("step {step:?} is longer than patch {patch:?} on some axis; tiles would leave gaps")]
    StepLargerThanPatch {
        /// The step given.
        step: Vec<usize>,
        /// The patch given.
        patch: Vec<usize>,
    },
    /// The Gaussian `sigma_scale` is not finite and > 0.
    #[error("Gaussian sigma_scale is {value}; it must be finite and > 0")]
    BadSigma {
        /// The value given.
        value: f64,
    },
    /// An array or shape has the wrong number of axes for the patch.
    #[error("{what} has shape {found:?}, expected {expected} axes for patch {patch:?}")]
    Rank {
        /// Which argument: `"shape"`, `"image"` or `"prediction"`.
        what: &'static str,
        /// The shape found.
        found: Vec<usize>,
        /// The number of axes expected.
        expected: usize,
        /// The tiler's patch.
        patch: Vec<usize>,
    },
    /// A tile does not lie in the image (a tile of another image or tiler).
    #[error(
        "tile at {origin:?} with extent {extent:?} does not fit spatial shape {shape:?} and patch {patch:?}"
    )]
    TileOutOfBounds {
        /// The tile's origin.
        origin: Vec<usize>,
        /// The tile's extent.
        extent: Vec<usize>,
        /// The spatial shape of the image.
        shape: Vec<usize>,
        /// The tiler's patch.
        patch: Vec<usize>,
    },
    /// A prediction is not `[K, ...patch]`.
    #[error("prediction has shape {found:?}, expected {expected:?}")]
    PredictionShape {
        /// The shape found.
        found: Vec<usize>,
        /// `[K, ...patch]`.
        expected: Vec<usize>,
    },
    /// [`Stitcher::finish`] found voxels that no added tile covered.
    #[error(
        "{voxels} voxels were covered by no tile; add every tile of Tiler::tiles before finish"
    )]
    Uncovered {
        /// How many voxels have no prediction.
        voxels: usize,
    },
}

/// How far apart neighbouring tiles are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// Fraction `f` in `[0, 1)` of the patch shared by neighbours: the step is
    /// `max(1, floor(P (1 - f) + 1e-9))` per axis: MONAI's `int(roi (1 - overlap))`, the `1e-9`
    /// absorbing float error (`Fraction(0.9)` on a patch of 100 gives 10, not 9). nnU-Net's
    /// `tile_step_size = 0.5` is `Fraction(0.5)`.
    Fraction(f64),
    /// The step in voxels per spatial axis, `1 <= step <= patch`.
    Step(Vec<usize>),
}

/// How per-tile predictions are weighted where tiles overlap; see [`Tiler::weights`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Blending {
    /// nnU-Net's importance map: `w(p) = max(Π_a exp(-(p_a - c_a)² / (2 σ_a²)), 2^-24)` with
    /// centre `c_a = floor(P_a / 2)` and `σ_a = sigma_scale · P_a` (nnU-Net: `sigma_scale = 1/8`).
    /// The maximum is 1 at the centre; the floor ([`GAUSSIAN_WEIGHT_FLOOR`]) keeps the borders
    /// counting, as nnU-Net replaces its zeros by its smallest non-zero value.
    Gaussian {
        /// `σ` as a fraction of the patch length, finite and > 0.
        sigma_scale: f64,
    },
    /// Separable tent: `w(p) = Π_a min(p_a + 1, P_a - p_a) / ceil(P_a / 2)`, 1 at the centre
    /// and strictly positive (`>= 1 / ceil(P_a / 2)` per axis) at the border.
    Linear,
    /// `w(p) = 1`: the plain mean of the overlapping predictions.
    Constant,
}

impl Default for Blending {
    /// `Gaussian { sigma_scale: 0.125 }` (nnU-Net).
    fn default() -> Self {
        Blending::Gaussian { sigma_scale: 0.125 }
    }
}

/// Where the tiles between the first (at 0) and the last (at `L - P`) go; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TilePlacement {
    /// Spread evenly, `o_i = round_half_even(i (L - P) / (n - 1))`, as nnU-Net's
    /// `compute_steps_for_sliding_window` (`np.round`).
    #[default]
    Even,
    /// Every `step` voxels, the last one moved back to `L - P`, as MONAI's `dense_patch_slices`.
    FixedStep,
}

/// One window of a tiling: `origin` in the image, and the `extent` of the patch that lies inside
/// the image (`min(P, L - origin)` per axis; less than the patch only where the image is smaller
/// than the patch).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tile {
    /// First voxel of the patch in the image, per spatial axis.
    pub origin: Vec<usize>,
    /// Number of patch voxels inside the image, per spatial axis.
    pub extent: Vec<usize>,
}

/// Cuts images into overlapping patches and holds the blending weights; see the module docs.
#[derive(Debug, Clone)]
pub struct Tiler {
    patch: Vec<usize>,
    step: Vec<usize>,
    blending: Blending,
    placement: TilePlacement,
    weights: ArrayD<f64>,
}

impl Tiler {
    /// A tiler for patches of `patch` voxels (one length per spatial axis), tiles placed
    /// [`TilePlacement::Even`].
    ///
    /// # Errors
    /// [`TilingError`] for an empty or zero-length patch, an overlap fraction outside `[0, 1)`,
    /// a step of the wrong length, zero or longer than the patch, a `sigma_scale` that is not
    /// finite and > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::tiling::{Blending, Overlap, Tiler, TilingError};
    ///
    /// let tiler = Tiler::new(vec![128, 128], Overlap::Fraction(0.5), Blending::default())?;
    /// assert_eq!(tiler.step(), &[64, 64]);
    /// let bad = Tiler::new(vec![128, 128], Overlap::Step(vec![0, 64]), Blending::Constant);
    /// assert!(matches!(bad, Err(TilingError::ZeroStep { .. })));
    /// # Ok::<(), TilingError>(())
    /// ```
    pub fn new(
        patch: Vec<usize>,
        overlap: Overlap,
        blending: Blending,
    ) -> Result<Self, TilingError> {
        if patch.is_empty() {
            return Err(TilingError::NoAxes);
        }
        if patch.contains(&0) {
            return Err(TilingError::ZeroPatch { patch });
        }
        let step = match overlap {
            Overlap::Fraction(f) => {
                if !(0.0..1.0).contains(&f) {
                    return Err(TilingError::BadOverlap { value: f });
                }
                patch
                    .iter()
                    .map(|&p| ((p as f64 * (1.0 - f) + 1e-9).floor() as usize).max(1))
                    .collect()
            }
            Overlap::Step(step) => {
                if step.len() != patch.len() {
                    return Err(TilingError::StepRank { step, patch });
                }
                if step.contains(&0) {
                    return Err(TilingError::ZeroStep { step });
                }
                if step.iter().zip(&patch).any(|(s, p)| s > p) {
                    return Err(TilingError::StepLargerThanPatch { step, patch });
                }
                step
            }
        };
        if let Blending::Gaussian { sigma_scale } = blending
            && !(sigma_scale.is_finite() && sigma_scale > 0.0)
        {
            return Err(TilingError::BadSigma { value: sigma_scale });
        }
        let weights = blending_weights(&patch, blending);
        Ok(Tiler {
            patch,
            step,
            blending,
            placement: TilePlacement::default(),
            weights,
        })
    }

    /// The same tiler with tiles placed by `placement`.
    pub fn with_placement(mut self, placement: TilePlacement) -> Self {
        self.placement = placement;
        self
    }

    /// The patch length per spatial axis.
    pub fn patch(&self) -> &[usize] {
        &self.patch
    }

    /// The (largest) step between tile origins per spatial axis.
    pub fn step(&self) -> &[usize] {
        &self.step
    }

    /// The blending.
    pub fn blending(&self) -> Blending {
        self.blending
    }

    /// The tile placement.
    pub fn placement(&self) -> TilePlacement {
        self.placement
    }

    /// The blending weight of each patch position, `[...patch]`, all in `(0, 1]`.
    pub fn weights(&self) -> &ArrayD<f64> {
        &self.weights
    }

    /// The tile origins along one axis of length `len` (`patch` and `step` of that axis);
    /// see the module docs. Empty when `len` is 0.
    ///
    /// # Panics
    /// When `axis >= self.patch().len()` (an index, like slice indexing).
    ///
    /// # Examples
    ///
    /// ```
    /// use dicekit_data::tiling::{Blending, Overlap, TilePlacement, Tiler};
    ///
    /// // nnU-Net compute_steps_for_sliding_window((300,), (128,), 0.5) -> [[0, 57, 115, 172]]
    /// let tiler = Tiler::new(vec![128], Overlap::Fraction(0.5), Blending::default())?;
    /// assert_eq!(tiler.axis_origins(0, 300), vec![0, 57, 115, 172]);
    /// let monai = tiler.with_placement(TilePlacement::FixedStep);
    /// assert_eq!(monai.axis_origins(0, 300), vec![0, 64, 128, 172]);
    /// # Ok::<(), dicekit_data::tiling::TilingError>(())
    /// ```
    pub fn axis_origins(&self, axis: usize, len: usize) -> Vec<usize> {
        let (p, s) = (self.patch[axis], self.step[axis]);
        if len == 0 {
            return Vec::new();
        }
        if len <= p {
            return vec![0];
        }
        let span = len - p;
        let n = span.div_ceil(s) + 1;
        (0..n)
            .map(|i| match self.placement {
                TilePlacement::Even => div_round_half_even(i * span, n - 1),
                TilePlacement::FixedStep => (i * s).min(span),
            })
            .collect()
    }

    /// Every tile of an image of spatial shape `shape` (`S`, without the channel axis), in
    /// row-major order of their origins (last axis fastest). Empty when an axis is 0.
    ///
    /// # Errors
    /// [`TilingError::Rank`] when `shape` does not have one length per patch axis.
    pub fn tiles(&self, shape: &[usize]) -> Result<Vec<Tile>, TilingError> {
        self.check_rank("shape", shape, 0)?;
        let per_axis: Vec<Vec<usize>> = shape
            .iter()
            .enumerate()
            .map(|(a, &len)| self.axis_origins(a, len))
            .collect();
        if per_axis.iter().any(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let count: usize = per_axis.iter().map(Vec::len).product();
        let mut tiles = Vec::with_capacity(count);
        let mut counter = vec![0usize; shape.len()];
        for _ in 0..count {
            let origin: Vec<usize> = counter.iter().zip(&per_axis).map(|(&i, o)| o[i]).collect();
            let extent = origin
                .iter()
                .zip(shape)
                .zip(&self.patch)
                .map(|((&o, &l), &p)| p.min(l - o))
                .collect();
            tiles.push(Tile { origin, extent });
            for a in (0..counter.len()).rev() {
                counter[a] += 1;
                if counter[a] < per_axis[a].len() {
                    break;
                }
                counter[a] = 0;
            }
        }
        Ok(tiles)
    }

    /// The patch `[C, ...patch]` of `image` (`[C, ...S]`) under `tile`, zero where the patch
    /// reaches past the image (images smaller than the patch).
    ///
    /// # Errors
    /// [`TilingError::Rank`] for an image without one channel axis plus one axis per patch axis,
    /// [`TilingError::TileOutOfBounds`] for a tile that is not one of this image's.
    pub fn extract(
        &self,
        image: &ArrayRef<f32, IxDyn>,
        tile: &Tile,
    ) -> Result<ArrayD<f32>, TilingError> {
        self.check_rank("image", image.shape(), 1)?;
        let shape = &image.shape()[1..];
        check_tile(&self.patch, tile, shape)?;
        let mut out_shape = vec![image.shape()[0]];
        out_shape.extend_from_slice(&self.patch);
        let mut out = ArrayD::<f32>::zeros(IxDyn(&out_shape));
        let src = image.slice_each_axis(|ad| match ad.axis.index() {
            0 => Slice::from(..),
            a => Slice::from(tile.origin[a - 1]..tile.origin[a - 1] + tile.extent[a - 1]),
        });
        out.slice_each_axis_mut(|ad| match ad.axis.index() {
            0 => Slice::from(..),
            a => Slice::from(0..tile.extent[a - 1]),
        })
        .assign(&src);
        Ok(out)
    }

    fn check_rank(
        &self,
        what: &'static str,
        found: &[usize],
        extra: usize,
    ) -> Result<(), TilingError> {
        if found.len() == self.patch.len() + extra {
            Ok(())
        } else {
            Err(TilingError::Rank {
                what,
                found: found.to_vec(),
                expected: self.patch.len() + extra,
                patch: self.patch.clone(),
            })
        }
    }
}

/// `Ok` when `tile` lies in an image of spatial shape `shape` and fits the patch.
fn check_tile(patch: &[usize], tile: &Tile, shape: &[usize]) -> Result<(), TilingError> {
    let n = patch.len();
    let fits = tile.origin.len() == n
        && tile.extent.len() == n
        && shape.len() == n
        && (0..n).all(|a| {
            tile.extent[a] <= patch[a]
                && tile.origin[a]
                    .checked_add(tile.extent[a])
                    .is_some_and(|end| end <= shape[a])
        });
    if fits {
        Ok(())
    } else {
        Err(TilingError::TileOutOfBounds {
            origin: tile.origin.clone(),
            extent: tile.extent.clone(),
            shape: shape.to_vec(),
            patch: patch.to_vec(),
        })
    }
}

/// `round(num / den)` with ties to even, as `np.round` (`den > 0`).
fn div_round_half_even(num: usize, den: usize) -> usize {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}

/// The weight of every patch position, `[...patch]`; see [`Blending`].
fn blending_weights(patch: &[usize], blending: Blending) -> ArrayD<f64> {
    let per_axis: Vec<Vec<f64>> = patch
        .iter()
        .map(|&p| match blending {
            Blending::Gaussian { sigma_scale } => {
                let (c, sigma) = ((p / 2) as f64, sigma_scale * p as f64);
                (0..p)
                    .map(|i| (-(i as f64 - c).powi(2) / (2.0 * sigma * sigma)).exp())
                    .collect()
            }
            Blending::Linear => {
                let top = p.div_ceil(2) as f64;
                (0..p).map(|i| (i + 1).min(p - i) as f64 / top).collect()
            }
            Blending::Constant => vec![1.0; p],
        })
        .collect();
    let floor = match blending {
        Blending::Gaussian { .. } => GAUSSIAN_WEIGHT_FLOOR,
        _ => 0.0,
    };
    ArrayD::from_shape_fn(IxDyn(patch), |ix| {
        let w: f64 = (0..patch.len()).map(|a| per_axis[a][ix[a]]).product();
        w.max(floor)
    })
}

/// Accumulates blended per-tile predictions into a `[K, ...S]` result; see the module docs.
///
/// # Examples
///
/// ```
/// use dicekit_data::tiling::{Blending, Overlap, Stitcher, Tiler};
/// use ndarray::ArrayD;
///
/// // a [2, 3, 3] image smaller than the 4×4 patch: one tile, padded by `extract`
/// let image = ArrayD::from_shape_fn(vec![2, 3, 3], |ix| ix[0] as f32 - ix[2] as f32);
/// let tiler = Tiler::new(vec![4, 4], Overlap::Fraction(0.5), Blending::Linear)?;
/// let mut stitcher = Stitcher::new(1, &[3, 3], &tiler)?;
/// for tile in tiler.tiles(&[3, 3])? {
///     let patch = tiler.extract(&image, &tile)?;          // [2, 4, 4]
///     let score = patch.sum_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0)); // [1, 4, 4]
///     stitcher.add(&tile, &score)?;
/// }
/// let out = stitcher.finish()?;                            // [1, 3, 3]
/// assert_eq!(out[[0, 1, 2]], 0.0 - 2.0 + 1.0 - 2.0);
/// # Ok::<(), dicekit_data::tiling::TilingError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Stitcher {
    patch: Vec<usize>,
    weights: ArrayD<f64>,
    /// `Σ w · pred`, `[K, ...S]`, starting at `-0.0`.
    num: ArrayD<f64>,
    /// `Σ w`, `[...S]`.
    den: ArrayD<f64>,
}

impl Stitcher {
    /// An empty accumulator for `channels` (`K`) output channels over an image of spatial shape
    /// `shape` (`S`), cut by `tiler`.
    ///
    /// # Errors
    /// [`TilingError::Rank`] when `shape` does not have one length per patch axis.
    pub fn new(channels: usize, shape: &[usize], tiler: &Tiler) -> Result<Self, TilingError> {
        tiler.check_rank("shape", shape, 0)?;
        let mut full = vec![channels];
        full.extend_from_slice(shape);
        Ok(Stitcher {
            patch: tiler.patch.clone(),
            weights: tiler.weights.clone(),
            num: ArrayD::from_elem(IxDyn(&full), -0.0),
            den: ArrayD::zeros(IxDyn(shape)),
        })
    }

    /// Adds the prediction `[K, ...patch]` of `tile`; the part of the patch outside the image is
    /// dropped.
    ///
    /// # Errors
    /// [`TilingError::PredictionShape`] when `prediction` is not `[K, ...patch]`,
    /// [`TilingError::TileOutOfBounds`] for a tile that is not one of this image's.
    pub fn add(
        &mut self,
        tile: &Tile,
        prediction: &ArrayRef<f32, IxDyn>,
    ) -> Result<(), TilingError> {
        let mut expected = vec![self.num.shape()[0]];
        expected.extend_from_slice(&self.patch);
        if prediction.shape() != expected.as_slice() {
            return Err(TilingError::PredictionShape {
                found: prediction.shape().to_vec(),
                expected,
            });
        }
        check_tile(&self.patch, tile, self.den.shape())?;
        let in_patch = |a: usize| Slice::from(0..tile.extent[a]);
        let in_image = |a: usize| Slice::from(tile.origin[a]..tile.origin[a] + tile.extent[a]);
        let w = self.weights.slice_each_axis(|ad| in_patch(ad.axis.index()));
        Zip::from(self.den.slice_each_axis_mut(|ad| in_image(ad.axis.index())))
            .and(&w)
            .for_each(|d, &w| *d += w);
        for k in 0..self.num.shape()[0] {
            let pred = prediction.index_axis(Axis(0), k);
            let pred = pred.slice_each_axis(|ad| in_patch(ad.axis.index()));
            let mut num = self.num.index_axis_mut(Axis(0), k);
            Zip::from(num.slice_each_axis_mut(|ad| in_image(ad.axis.index())))
                .and(&pred)
                .and(&w)
                .for_each(|acc, &p, &w| *acc += w * f64::from(p));
        }
        Ok(())
    }

    /// The blended result `[K, ...S]`: `Σ w pred / Σ w` per voxel, rounded once to `f32`.
    ///
    /// # Errors
    /// [`TilingError::Uncovered`] when some voxel got no tile (not every tile was added).
    pub fn finish(self) -> Result<ArrayD<f32>, TilingError> {
        let voxels = self.den.iter().filter(|&&d| d <= 0.0).count();
        if voxels > 0 {
            return Err(TilingError::Uncovered { voxels });
        }
        let mut out = ArrayD::<f32>::zeros(self.num.raw_dim());
        for k in 0..self.num.shape()[0] {
            Zip::from(out.index_axis_mut(Axis(0), k))
                .and(self.num.index_axis(Axis(0), k))
                .and(&self.den)
                .for_each(|o, &n, &d| *o = (n / d) as f32);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_even_matches_numpy() {
        // np.round([0.5, 1.5, 2.5, 2.4, 2.6]) -> [0, 2, 2, 2, 3]
        let cases = [(1, 2, 0), (3, 2, 2), (5, 2, 2), (12, 5, 2), (13, 5, 3)];
        for (num, den, want) in cases {
            assert_eq!(div_round_half_even(num, den), want, "{num}/{den}");
        }
    }
}
