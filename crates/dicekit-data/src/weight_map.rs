//! Per-voxel weight maps from a label map, for pixel-weighted losses: the U-Net border weight
//! map (Ronneberger et al. 2015) and a band around class boundaries, with exact Euclidean
//! distances under voxel spacing.
//!
//! Label maps are `[...S]` (`u32`, `S` 2D `[H, W]` or 3D `[X, Y, Z]`; any number of axes
//! works), spacing is one step per axis in mm (pass all 1 to count in voxels), and the maps
//! are `[...S]` `f32`, computed in `f64`. Voxels with the ignore label get weight 0 (a loss
//! mask of 0), are never objects, background or boundary voxels. To feed a loss, stack the
//! maps of a batch as `[B, 1, ...S]`.
//!
//! Distances are between voxel centres: the exact Euclidean distance transform
//! ([`distance_transform`], on [`crate::edt`]) is `O(N · rank)` for `N` voxels.
//!
//! # Examples
//!
//! ```
//! use dicekit_data::weight_map::{boundary_weight_map, BoundaryWeightConfig};
//! use ndarray::array;
//!
//! // w = 1 + 4 exp(-d² / (2 · 1.5²)), d = distance to the nearest boundary voxel
//! let labels = array![[0u32, 0, 1, 1, 1]].into_dyn();
//! let w = boundary_weight_map(&labels, &[1.0, 1.0], &BoundaryWeightConfig::default())?;
//! // d = [1, 0, 0, 1, 2]: 1 + 4 exp(-1/4.5) = 4.202950, 1 + 4 exp(-4/4.5) = 2.644449
//! let want = [4.202950f32, 5.0, 5.0, 4.202950, 2.644449];
//! for (w, want) in w.iter().zip(want) {
//!     assert!((w - want).abs() < 1e-5);
//! }
//! # Ok::<(), dicekit_data::weight_map::WeightMapError>(())
//! ```

use std::collections::{BTreeMap, VecDeque};

use ndarray::{ArrayD, ArrayRef, Axis, IxDyn, Zip};
use serde::{Deserialize, Serialize};

use crate::edt::squared_edt_f64;

/// A weight map request that cannot be carried out; `Display` is one line naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WeightMapError {
    /// The label map has no axis.
    #[error("the label map has no axis; expected [...S] with S 2D or 3D")]
    NoSpatialAxes,
    /// The spacing has not one entry per axis, or an entry is not finite and > 0.
    #[error("spacing {spacing:?} must have {rank} entries, each finite and > 0")]
    BadSpacing {
        /// The spacing given.
        spacing: Vec<f64>,
        /// The number of axes of the label map.
        rank: usize,
    },
    /// A parameter is out of its range.
    #[error("{field} is {value}; it must be {requirement}")]
    BadParameter {
        /// The config field, e.g. `"sigma"`.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The range, for the message, e.g. `"finite and > 0"`.
        requirement: &'static str,
    },
    /// [`ClassWeights::Given`] has no weight for a label of the map.
    #[error("class_weights has {len} entries but the label map holds label {label}")]
    MissingClassWeight {
        /// The label found.
        label: u32,
        /// The number of weights given.
        len: usize,
    },
    /// More connected components than `u32` can number.
    #[error("the label map has more than 4294967295 objects")]
    TooManyObjects,
}

/// Which voxels are neighbours for connected components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connectivity {
    /// Voxels sharing a face: 4 neighbours in 2D, 6 in 3D (`scipy.ndimage.label`'s default).
    #[default]
    Face,
    /// Voxels sharing a face, edge or corner: 8 in 2D, 26 in 3D (`skimage.measure.label`'s
    /// default).
    Full,
}

/// What an object of the U-Net border term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objects {
    /// A connected component of the foreground (label `> 0`, not ignored), whatever its labels:
    /// the paper's binary cell masks, where touching cells are separated by background.
    #[default]
    ForegroundComponents,
    /// A connected component of one label: two touching regions of different labels (e.g. an
    /// instance map) are two objects.
    LabelComponents,
}

/// The class-balancing term `w_c` of the U-Net weight map.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeights {
    /// Inverse frequency in this label map: `w_c = n_max / n_c`, where `n_c` counts the voxels
    /// of label `c` (ignored voxels excluded) and `n_max` is the largest count, so the most
    /// frequent class weighs 1 and a class 100 times rarer weighs 100.
    #[default]
    InverseFrequency,
    /// `w_c = 1` (only the border term).
    Uniform,
    /// `w_c = weights[c]`, e.g. frequencies over the whole training set; finite, `>= 0`.
    Given(Vec<f64>),
}

/// The U-Net weight map; see [`unet_weight_map`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnetWeightConfig {
    /// Border weight `w0`, finite and `>= 0` (paper: 10).
    pub w0: f64,
    /// Border width `σ` in mm (in voxels for unit spacing), finite and `> 0` (paper: 5 px).
    pub sigma: f64,
    /// The class-balancing term.
    pub class_weights: ClassWeights,
    /// What an object is.
    pub objects: Objects,
    /// Neighbourhood of the connected components.
    pub connectivity: Connectivity,
    /// A label that gets weight 0 and is neither object nor background.
    pub ignore_label: Option<u32>,
}

impl Default for UnetWeightConfig {
    /// The paper's `w0 = 10`, `σ = 5`, inverse-frequency class weights, foreground components,
    /// face connectivity, no ignore label.
    fn default() -> Self {
        UnetWeightConfig {
            w0: 10.0,
            sigma: 5.0,
            class_weights: ClassWeights::InverseFrequency,
            objects: Objects::ForegroundComponents,
            connectivity: Connectivity::Face,
            ignore_label: None,
        }
    }
}

/// The weight profile around boundaries; see [`boundary_weight_map`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BandProfile {
    /// `w = 1 + (w_band - 1) exp(-d² / (2 σ²))`; `σ` in mm, finite and `> 0`.
    Gaussian {
        /// Width `σ` of the band.
        sigma: f64,
    },
    /// `w = w_band` where `d <= width`, else 1; `width` in mm, finite and `>= 0` (0: the
    /// boundary voxels only).
    Hard {
        /// Half-width of the band.
        width: f64,
    },
}

/// The boundary band weight map; see [`boundary_weight_map`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoundaryWeightConfig {
    /// Weight on the boundary, `w_band`, finite and `>= 0` (default 5).
    pub band_weight: f64,
    /// How the weight falls off to 1 (default `Gaussian { sigma: 1.5 }`).
    pub profile: BandProfile,
    /// A label that gets weight 0 and never makes a boundary.
    pub ignore_label: Option<u32>,
}

impl Default for BoundaryWeightConfig {
    /// `w = 1 + 4 exp(-d² / (2 · 1.5²))`, the boundary weight of the golden loss cases
    /// (`losses_dev.json`, dev-066).
    fn default() -> Self {
        BoundaryWeightConfig {
            band_weight: 5.0,
            profile: BandProfile::Gaussian { sigma: 1.5 },
            ignore_label: None,
        }
    }
}

fn check_spacing(shape: &[usize], spacing: &[f64]) -> Result<(), WeightMapError> {
    if shape.is_empty() {
        return Err(WeightMapError::NoSpatialAxes);
    }
    if spacing.len() != shape.len() || !spacing.iter().all(|s| s.is_finite() && *s > 0.0) {
        return Err(WeightMapError::BadSpacing {
            spacing: spacing.to_vec(),
            rank: shape.len(),
        });
    }
    Ok(())
}

fn check_parameter(field: &'static str, value: f64, positive: bool) -> Result<(), WeightMapError> {
    let ok = value.is_finite() && if positive { value > 0.0 } else { value >= 0.0 };
    if ok {
        Ok(())
    } else {
        Err(WeightMapError::BadParameter {
            field,
            value,
            requirement: if positive {
                "finite and > 0"
            } else {
                "finite and >= 0"
            },
        })
    }
}

/// Exact Euclidean distance from every voxel to the nearest `true` voxel of `sites`, in mm:
/// `d(x) = min_{s: sites[s]} sqrt(Σ_a (spacing_a (x_a - s_a))²)`, `+∞` everywhere when there is
/// no site.
///
/// The square root of [`squared_edt_f64`], after checking the spacing.
///
/// # Errors
/// [`WeightMapError`] for an array without axes or a spacing that is not one finite positive
/// step per axis.
///
/// # Examples
///
/// ```
/// use dicekit_data::weight_map::distance_transform;
/// use ndarray::array;
///
/// let sites = array![[true, false, false], [false, false, false]].into_dyn();
/// let d = distance_transform(&sites, &[2.0, 1.0])?; // rows 2 mm apart
/// assert_eq!(d[[0, 2]], 2.0);
/// assert_eq!(d[[1, 2]], 8f64.sqrt()); // sqrt(2² + 2²)
/// # Ok::<(), dicekit_data::weight_map::WeightMapError>(())
/// ```
pub fn distance_transform(
    sites: &ArrayRef<bool, IxDyn>,
    spacing: &[f64],
) -> Result<ArrayD<f64>, WeightMapError> {
    check_spacing(sites.shape(), spacing)?;
    let mut d = squared_edt_f64(sites, spacing);
    d.mapv_inplace(f64::sqrt);
    Ok(d)
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// The neighbour offsets of `connectivity` in `rank` dimensions (4/8 in 2D, 6/26 in 3D).
fn neighbour_offsets(rank: usize, connectivity: Connectivity) -> Vec<Vec<isize>> {
    let mut all = vec![Vec::new()];
    for _ in 0..rank {
        all = all
            .into_iter()
            .flat_map(|p: Vec<isize>| {
                (-1..=1).map(move |d| {
                    let mut q = p.clone();
                    q.push(d);
                    q
                })
            })
            .collect();
    }
    all.retain(|o| {
        let nonzero = o.iter().filter(|&&d| d != 0).count();
        match connectivity {
            Connectivity::Face => nonzero == 1,
            Connectivity::Full => nonzero >= 1,
        }
    });
    all
}

/// Connected components of the objects of `labels` (see [`Objects`]): `0` off objects, and
/// `1..=n` numbering the components in row-major order of their first voxel; returns the map
/// and `n`. Breadth-first search, `O(N · neighbours)`.
///
/// # Errors
/// [`WeightMapError::NoSpatialAxes`] for a 0-D label map, [`WeightMapError::TooManyObjects`].
///
/// # Examples
///
/// ```
/// use dicekit_data::weight_map::{connected_components, Connectivity, Objects};
/// use ndarray::array;
///
/// let labels = array![[1u32, 0, 2], [0, 1, 2]].into_dyn();
/// // per label, faces only: the diagonal 1s are apart, the 2s touch
/// let (_, n) = connected_components(&labels, Objects::LabelComponents, Connectivity::Face, None)?;
/// assert_eq!(n, 3);
/// let (_, n) = connected_components(&labels, Objects::LabelComponents, Connectivity::Full, None)?;
/// assert_eq!(n, 2);
/// // any foreground label: the 1 at (1, 1) joins the 2 at (1, 2)
/// let (c, n) = connected_components(&labels, Objects::ForegroundComponents, Connectivity::Face, None)?;
/// assert_eq!((n, c), (2, array![[1u32, 0, 2], [0, 2, 2]].into_dyn()));
/// # Ok::<(), dicekit_data::weight_map::WeightMapError>(())
/// ```
pub fn connected_components(
    labels: &ArrayRef<u32, IxDyn>,
    objects: Objects,
    connectivity: Connectivity,
    ignore_label: Option<u32>,
) -> Result<(ArrayD<u32>, usize), WeightMapError> {
    let shape = labels.shape().to_vec();
    if shape.is_empty() {
        return Err(WeightMapError::NoSpatialAxes);
    }
    let lab: Vec<u32> = labels.iter().copied().collect();
    let is_object = |l: u32| l != 0 && Some(l) != ignore_label;
    let stride = strides(&shape);
    let offsets = neighbour_offsets(shape.len(), connectivity);
    let mut comp = vec![0u32; lab.len()];
    let mut count: u32 = 0;
    let mut queue = VecDeque::new();
    let mut at = vec![0usize; shape.len()];
    for start in 0..lab.len() {
        if !is_object(lab[start]) || comp[start] != 0 {
            continue;
        }
        count = count.checked_add(1).ok_or(WeightMapError::TooManyObjects)?;
        comp[start] = count;
        queue.push_back(start);
        while let Some(p) = queue.pop_front() {
            let mut rest = p;
            for a in 0..shape.len() {
                at[a] = rest / stride[a];
                rest %= stride[a];
            }
            'neighbours: for off in &offsets {
                let mut q = 0;
                for a in 0..shape.len() {
                    let c = at[a] as isize + off[a];
                    if c < 0 || c >= shape[a] as isize {
                        continue 'neighbours;
                    }
                    q += c as usize * stride[a];
                }
                let joins = match objects {
                    Objects::ForegroundComponents => is_object(lab[q]),
                    Objects::LabelComponents => lab[q] == lab[p],
                };
                if joins && comp[q] == 0 {
                    comp[q] = count;
                    queue.push_back(q);
                }
            }
        }
    }
    let map =
        ArrayD::from_shape_vec(IxDyn(&shape), comp).map_err(|_| WeightMapError::NoSpatialAxes)?;
    Ok((map, count as usize))
}

/// The boundary voxels of `labels`: those with a face neighbour (`±1` along one axis, inside the
/// map) of a different label. Pairs with an ignored voxel do not count, and ignored voxels are
/// never boundary voxels. Both voxels of a differing pair are boundary voxels.
///
/// # Examples
///
/// ```
/// use dicekit_data::weight_map::boundary_voxels;
/// use ndarray::array;
///
/// let b = boundary_voxels(&array![[0u32, 0, 1, 1]].into_dyn(), None);
/// assert_eq!(b, array![[false, true, true, false]].into_dyn());
/// ```
pub fn boundary_voxels(labels: &ArrayRef<u32, IxDyn>, ignore_label: Option<u32>) -> ArrayD<bool> {
    let mut out = ArrayD::from_elem(labels.raw_dim(), false);
    let counts = |l: u32| Some(l) != ignore_label;
    for axis in 0..labels.ndim() {
        let n = labels.shape()[axis];
        for (lane, mut flags) in labels
            .lanes(Axis(axis))
            .into_iter()
            .zip(out.lanes_mut(Axis(axis)))
        {
            for i in 1..n {
                let (a, b) = (lane[i - 1], lane[i]);
                if a != b && counts(a) && counts(b) {
                    flags[i - 1] = true;
                    flags[i] = true;
                }
            }
        }
    }
    out
}

/// Boundary band weights:
///
/// ```text
/// Gaussian { sigma }:  w(x) = 1 + (w_band - 1) exp(-d(x)² / (2 sigma²))
/// Hard { width }:      w(x) = w_band if d(x) <= width, else 1
/// d(x) = Euclidean distance in mm to the nearest boundary voxel (see boundary_voxels), 0 on it;
///        +∞ (w = 1) when the map has a single label
/// w(x) = 0 for ignored voxels
/// ```
/// The default config is the boundary weight of the golden loss cases (`w_band = 5`,
/// `sigma = 1.5`, unit spacing). `O(N · rank)`.
///
/// # Errors
/// [`WeightMapError`] for a 0-D map, a bad spacing, `band_weight` not finite and `>= 0`, a
/// `sigma` not finite and `> 0`, a `width` not finite and `>= 0`.
///
/// # Examples
///
/// ```
/// use dicekit_data::weight_map::{boundary_weight_map, BandProfile, BoundaryWeightConfig};
/// use ndarray::array;
///
/// let cfg = BoundaryWeightConfig { band_weight: 3.0, profile: BandProfile::Hard { width: 1.0 }, ignore_label: None };
/// let w = boundary_weight_map(&array![[0u32, 0, 0, 1, 1]].into_dyn(), &[1.0, 1.0], &cfg)?;
/// assert_eq!(w, array![[1.0f32, 3.0, 3.0, 3.0, 3.0]].into_dyn()); // d = [2, 1, 0, 0, 1]
/// # Ok::<(), dicekit_data::weight_map::WeightMapError>(())
/// ```
pub fn boundary_weight_map(
    labels: &ArrayRef<u32, IxDyn>,
    spacing: &[f64],
    cfg: &BoundaryWeightConfig,
) -> Result<ArrayD<f32>, WeightMapError> {
    check_spacing(labels.shape(), spacing)?;
    check_parameter("band_weight", cfg.band_weight, false)?;
    match cfg.profile {
        BandProfile::Gaussian { sigma } => check_parameter("sigma", sigma, true)?,
        BandProfile::Hard { width } => check_parameter("width", width, false)?,
    }
    let d2 = squared_edt_f64(&boundary_voxels(labels, cfg.ignore_label), spacing);
    let wb = cfg.band_weight;
    let mut w = ArrayD::<f32>::zeros(labels.raw_dim());
    Zip::from(&mut w)
        .and(&d2)
        .and(labels)
        .for_each(|w, &d2, &l| {
            *w = if Some(l) == cfg.ignore_label {
                0.0
            } else {
                match cfg.profile {
                    BandProfile::Gaussian { sigma } => {
                        (1.0 + (wb - 1.0) * (-d2 / (2.0 * sigma * sigma)).exp()) as f32
                    }
                    BandProfile::Hard { width } => {
                        if d2.sqrt() <= width {
                            wb as f32
                        } else {
                            1.0
                        }
                    }
                }
            }
        });
    Ok(w)
}

/// `w_c` for every label present (ignored voxels excluded); see [`ClassWeights`].
fn class_weight_table(
    labels: &ArrayRef<u32, IxDyn>,
    rule: &ClassWeights,
    ignore_label: Option<u32>,
) -> Result<BTreeMap<u32, f64>, WeightMapError> {
    let mut counts = BTreeMap::<u32, usize>::new();
    for &l in labels.iter().filter(|&&l| Some(l) != ignore_label) {
        *counts.entry(l).or_default() += 1;
    }
    let n_max = counts.values().copied().max().unwrap_or(0) as f64;
    counts
        .iter()
        .map(|(&label, &n)| {
            let w = match rule {
                ClassWeights::InverseFrequency => n_max / n as f64,
                ClassWeights::Uniform => 1.0,
                ClassWeights::Given(weights) => {
                    *weights
                        .get(label as usize)
                        .ok_or(WeightMapError::MissingClassWeight {
                            label,
                            len: weights.len(),
                        })?
                }
            };
            Ok((label, w))
        })
        .collect()
}

/// The U-Net weight map (Ronneberger, Fischer & Brox 2015, eq. 2):
///
/// ```text
/// w(x) = w_c(l(x)) + [l(x) = 0] w0 exp(-(d1(x) + d2(x))² / (2 σ²))
/// w_c:    ClassWeights (default n_max / n_c, the most frequent class weighs 1)
/// d1, d2: Euclidean distances in mm to the nearest and the second-nearest object (a voxel of
///         a connected component, see Objects and Connectivity); with fewer than two objects
///         d2 = +∞ and the border term is 0
/// the border term applies to background voxels (label 0) only, as in the paper;
/// w(x) = 0 for ignored voxels
/// ```
/// One distance transform per object: `O(K · N · rank)` time for `K` objects and `N` voxels,
/// `O(N)` memory (a 512² image with 200 cells: about 10^8 steps). Compute the maps once per
/// case, not per epoch.
///
/// # Errors
/// [`WeightMapError`] for a 0-D map, a bad spacing, `w0` not finite and `>= 0`, `sigma` not
/// finite and `> 0`, a given class weight that is not finite and `>= 0` or is missing for a
/// label of the map.
///
/// # Examples
///
/// ```
/// use dicekit_data::weight_map::{unet_weight_map, UnetWeightConfig};
/// use ndarray::array;
///
/// // two one-pixel objects with a 3-pixel gap; n_0 = 3, n_1 = 2: w_c = [1, 1.5]
/// let labels = array![[1u32, 0, 0, 0, 1]].into_dyn();
/// let w = unet_weight_map(&labels, &[1.0, 1.0], &UnetWeightConfig::default())?;
/// // every gap pixel has d1 + d2 = 4: 1 + 10 exp(-16 / 50) = 8.26149
/// let want = [1.5f32, 8.26149, 8.26149, 8.26149, 1.5];
/// for (w, want) in w.iter().zip(want) {
///     assert!((w - want).abs() < 1e-5);
/// }
/// # Ok::<(), dicekit_data::weight_map::WeightMapError>(())
/// ```
pub fn unet_weight_map(
    labels: &ArrayRef<u32, IxDyn>,
    spacing: &[f64],
    cfg: &UnetWeightConfig,
) -> Result<ArrayD<f32>, WeightMapError> {
    check_spacing(labels.shape(), spacing)?;
    check_parameter("w0", cfg.w0, false)?;
    check_parameter("sigma", cfg.sigma, true)?;
    if let ClassWeights::Given(weights) = &cfg.class_weights {
        for &w in weights {
            check_parameter("class_weights", w, false)?;
        }
    }
    let table = class_weight_table(labels, &cfg.class_weights, cfg.ignore_label)?;
    let (components, k) =
        connected_components(labels, cfg.objects, cfg.connectivity, cfg.ignore_label)?;

    // nearest and second-nearest object distances, squared
    let mut d1 = ArrayD::from_elem(labels.raw_dim(), f64::INFINITY);
    let mut d2 = d1.clone();
    if k >= 2 && cfg.w0 > 0.0 {
        for object in 1..=k as u32 {
            let sites = components.mapv(|c| c == object);
            let d = squared_edt_f64(&sites, spacing);
            Zip::from(&mut d1)
                .and(&mut d2)
                .and(&d)
                .for_each(|d1, d2, &d| {
                    if d < *d1 {
                        *d2 = *d1;
                        *d1 = d;
                    } else if d < *d2 {
                        *d2 = d;
                    }
                });
        }
    }
    let two_sigma2 = 2.0 * cfg.sigma * cfg.sigma;
    let mut w = ArrayD::<f32>::zeros(labels.raw_dim());
    Zip::from(&mut w)
        .and(labels)
        .and(&d1)
        .and(&d2)
        .for_each(|w, &l, &d1, &d2| {
            if Some(l) == cfg.ignore_label {
                *w = 0.0;
                return;
            }
            let mut v = table.get(&l).copied().unwrap_or(1.0);
            if l == 0 && d2.is_finite() {
                let s = d1.sqrt() + d2.sqrt();
                v += cfg.w0 * (-s * s / two_sigma2).exp();
            }
            *w = v as f32;
        });
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbour_counts_are_4_8_6_26() {
        assert_eq!(neighbour_offsets(2, Connectivity::Face).len(), 4);
        assert_eq!(neighbour_offsets(2, Connectivity::Full).len(), 8);
        assert_eq!(neighbour_offsets(3, Connectivity::Face).len(), 6);
        assert_eq!(neighbour_offsets(3, Connectivity::Full).len(), 26);
    }
}
