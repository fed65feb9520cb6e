//! FROC (free-response ROC) analysis from probability maps: scored candidates (MONAI's
//! `ProbNMS` local-maximum detector, or connected components above a threshold), their hits on
//! reference lesions, and the FROC curve and score under MONAI's pathology helpers and the
//! Retinopathy Online Challenge / e-ophtha microaneurysm convention.
//!
//! The pipeline for one image is candidates ([`prob_nms`], [`component_candidates`]) →
//! [`ImageDetections`] ([`point_detections`], [`component_detections`]) → [`froc`] over one
//! image or a set of images (every image's false positives and lesions pooled, FP rates per
//! image). A whole-threshold sweep (components re-formed at every threshold) is
//! [`threshold_sweep`].
use std::collections::{BTreeMap, BTreeSet};

use ndarray::{ArrayViewD, Dimension, IxDyn};
use serde::{Deserialize, Serialize};

use super::matching::Lesions;
use crate::error::check_shapes;
use crate::{Components, Connectivity, MetricError, ScanOrder, connected_components};

/// The false-positive rates of the Retinopathy Online Challenge and e-ophtha score: 1/8, 1/4,
/// 1/2, 1, 2, 4 and 8 false positives per image.
pub const ROC_FP_RATES: [f64; 7] = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// The false-positive rates of the CAMELYON16 score (MONAI's `compute_froc_score` default):
/// 1/4, 1/2, 1, 2, 4 and 8 false positives per image.
pub const CAMELYON_FP_RATES: [f64; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// One scored detection point: a probability and an array index (the axis order of the map).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The candidate's score (its probability).
    pub score: f64,
    /// Its position: one index per axis of the map.
    pub index: Vec<usize>,
}

/// MONAI's `ProbNMS` (`monai.transforms.ProbNMS`, MONAI 1.6.1) with `sigma = 0`: while the
/// map's maximum exceeds `prob_threshold`, take the arg-max (the first maximum in row-major
/// order, as NumPy's `argmax`), report it, and set a box of `box_size` voxels around it to 0:
/// per axis `[i - box_size / 2, i - box_size / 2 + box_size)` (integer division), clipped to
/// the map. MONAI smooths the map with a Gaussian first when `sigma > 0`; smooth it before
/// calling [`prob_nms`] to reproduce that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbNms {
    /// A voxel is taken while its probability is `> prob_threshold` (strict). The threshold is
    /// rounded to `f32` first, as NumPy 2 compares a `float32` maximum with a Python float.
    pub prob_threshold: f64,
    /// The suppression box: one size per axis, or a single size for every axis (all `> 0`).
    pub box_size: Vec<usize>,
}

impl ProbNms {
    /// `ProbNMS(prob_threshold=prob_threshold, box_size=box_size)` with the same box size on
    /// every axis.
    pub fn new(prob_threshold: f64, box_size: usize) -> Self {
        ProbNms {
            prob_threshold,
            box_size: vec![box_size],
        }
    }

    /// The settings of the shared reference FROC cases: threshold 0.1, box 5.
    pub fn reference() -> Self {
        ProbNms::new(0.1, 5)
    }

    fn boxes(&self, ndim: usize) -> Result<Vec<usize>, MetricError> {
        let b = match self.box_size.len() {
            1 => vec![self.box_size[0]; ndim],
            n if n == ndim => self.box_size.clone(),
            _ => {
                return Err(MetricError::BadParameter {
                    name: "box_size",
                    value: format!("{:?}", self.box_size),
                    expected: "one size, or one per axis of the map",
                });
            }
        };
        if b.contains(&0) {
            return Err(MetricError::BadParameter {
                name: "box_size",
                value: format!("{:?}", self.box_size),
                expected: "sizes > 0",
            });
        }
        if !(self.prob_threshold.is_finite() && self.prob_threshold >= 0.0) {
            return Err(MetricError::BadParameter {
                name: "prob_threshold",
                value: self.prob_threshold.to_string(),
                expected: "a finite threshold >= 0",
            });
        }
        Ok(b)
    }
}

/// Refuses NaN probabilities (and empty rank).
fn check_probabilities(prob: &ArrayViewD<f32>) -> Result<(), MetricError> {
    if let Some((at, _)) = prob.indexed_iter().find(|(_, p)| p.is_nan()) {
        return Err(MetricError::BadParameter {
            name: "probabilities",
            value: format!("NaN at {:?}", at.slice()),
            expected: "probabilities that are not NaN",
        });
    }
    Ok(())
}

/// Row-major coordinates of the `flat`-th element of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut out = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        out[a] = flat % shape[a];
        flat /= shape[a];
    }
    out
}

/// Candidates of MONAI's `ProbNMS` (see [`ProbNms`]), in the order they are taken (score
/// non-increasing). Equivalent to MONAI's loop, without rescanning the map: the voxels above
/// the threshold in order of decreasing probability (ties in row-major order), each taken
/// unless an earlier pick's box covered it.
///
/// # Examples
/// ```
/// use dicekit_metrics::{ProbNms, prob_nms};
/// use ndarray::Array2;
/// let mut p = Array2::<f32>::zeros((12, 12));
/// p[[2, 2]] = 0.9;
/// p[[3, 3]] = 0.8; // inside the 5-voxel box of the first pick
/// p[[9, 9]] = 0.7;
/// let c = prob_nms(&p.into_dyn().view(), &ProbNms::new(0.1, 5))?;
/// assert_eq!(c.len(), 2);
/// assert_eq!(c[1].index, vec![9, 9]);
/// # Ok::<(), dicekit_metrics::MetricError>(())
/// ```
///
/// # Errors
/// NaN probabilities, a box size of 0 or of the wrong length, a negative or non-finite
/// threshold.
pub fn prob_nms(prob: &ArrayViewD<f32>, nms: &ProbNms) -> Result<Vec<Candidate>, MetricError> {
    let boxes = nms.boxes(prob.ndim())?;
    check_probabilities(prob)?;
    let thr = nms.prob_threshold as f32;
    let shape = prob.shape().to_vec();
    let mut above: Vec<(f32, usize)> = prob
        .iter()
        .enumerate()
        .filter(|(_, p)| **p > thr)
        .map(|(i, p)| (*p, i))
        .collect();
    above.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut suppressed = ndarray::ArrayD::<bool>::from_elem(IxDyn(&shape), false);
    let mut out = Vec::new();
    for (p, flat) in above {
        let at = unravel(flat, &shape);
        if suppressed[IxDyn(&at)] {
            continue;
        }
        let ranges: Vec<(usize, usize)> = (0..shape.len())
            .map(|a| {
                let lo = at[a].saturating_sub(boxes[a] / 2);
                let hi = (at[a] + (boxes[a] - boxes[a] / 2)).min(shape[a]);
                (lo, hi)
            })
            .collect();
        let mut view = suppressed.view_mut();
        for (a, &(lo, hi)) in ranges.iter().enumerate() {
            view.slice_axis_inplace(
                ndarray::Axis(a),
                ndarray::Slice::from(lo as isize..hi as isize),
            );
        }
        view.fill(true);
        out.push(Candidate {
            score: f64::from(p),
            index: at,
        });
    }
    Ok(out)
}

/// MONAI's `ProbNMS(spatial_dims=prob.ndim(), sigma=sigma, ...)` with `sigma != 0`: the map is
/// smoothed by MONAI's `GaussianFilter` first, exactly as MONAI 1.6.1 applies it, then the
/// candidates are taken as in [`prob_nms`]. `sigma` is one value for every axis or one per
/// axis.
///
/// MONAI hands the map to `GaussianFilter` without batch and channel axes, and the filter
/// treats the first two axes of its input as batch and channel: a 2D map is returned
/// unchanged, and a 3D map `(H, W, D)` is smoothed along its last axis only, with the kernel
/// of the first axis' sigma (see [`monai_gaussian_kernel`]; zero padding, same size). The
/// smoothed map is float32; summation in this crate is in f64 rounded to f32, so a score may
/// differ from MONAI's in the last bit.
///
/// # Errors
/// As [`prob_nms`]; a sigma that is negative or not finite, or a sigma list whose length is
/// neither 1 nor the map's number of axes.
pub fn prob_nms_smoothed(
    prob: &ArrayViewD<f32>,
    nms: &ProbNms,
    sigma: &[f64],
) -> Result<Vec<Candidate>, MetricError> {
    let nd = prob.ndim();
    let sig: Vec<f64> = match sigma.len() {
        1 => vec![sigma[0]; nd],
        n if n == nd => sigma.to_vec(),
        _ => {
            return Err(MetricError::BadParameter {
                name: "sigma",
                value: format!("{sigma:?}"),
                expected: "one sigma, or one per axis of the map",
            });
        }
    };
    if sig.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(MetricError::BadParameter {
            name: "sigma",
            value: format!("{sigma:?}"),
            expected: "finite sigmas >= 0",
        });
    }
    nms.boxes(nd)?;
    check_probabilities(prob)?;
    if sig.iter().all(|s| *s == 0.0) {
        return prob_nms(prob, nms);
    }
    let mut map = prob.to_owned();
    // GaussianFilter on an input without batch / channel axes: axes 2.. are "spatial", and
    // spatial axis d (array axis d + 2) gets the kernel of sigma[d], innermost first.
    for d in 0..nd.saturating_sub(2) {
        let kernel = monai_gaussian_kernel(sig[d]);
        map = convolve_axis(&map.view(), d + 2, &kernel);
    }
    prob_nms(&map.view(), nms)
}

/// MONAI's `gaussian_1d(sigma, truncated=4.0, approx="erf")` (float32, not normalised):
/// `tail = int(max(sigma * 4, 0.5) + 0.5)`, and for `x = -tail..=tail`
/// `0.5 * (erf(t (x + 0.5)) - erf(t (x - 0.5)))` with `t = 0.70710678 / sigma`, clamped at 0.
pub fn monai_gaussian_kernel(sigma: f64) -> Vec<f32> {
    let s = sigma as f32;
    let tail = ((f64::from(s) * 4.0).max(0.5) + 0.5) as i64;
    // MONAI writes 0.70710678, which is this float32.
    let t = std::f32::consts::FRAC_1_SQRT_2 / s.abs();
    (-tail..=tail)
        .map(|x| {
            let x = x as f32;
            let hi = erf(f64::from(t * (x + 0.5))) as f32;
            let lo = erf(f64::from(t * (x - 0.5))) as f32;
            (0.5f32 * (hi - lo)).max(0.0)
        })
        .collect()
}

/// Cross-correlation of `map` with `kernel` along `axis`, zero padded to the same size (torch
/// `conv1d` after `F.pad`), summed in f64 and rounded to f32.
fn convolve_axis(map: &ArrayViewD<f32>, axis: usize, kernel: &[f32]) -> ndarray::ArrayD<f32> {
    let half = (kernel.len() - 1) / 2;
    let mut out = ndarray::ArrayD::<f32>::zeros(map.raw_dim());
    for (src, mut dst) in map
        .lanes(ndarray::Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(ndarray::Axis(axis)))
    {
        let n = src.len();
        for i in 0..n {
            let mut acc = 0.0f64;
            for (k, w) in kernel.iter().enumerate() {
                let j = i + k;
                if j >= half && j - half < n {
                    acc += f64::from(src[j - half]) * f64::from(*w);
                }
            }
            dst[i] = acc as f32;
        }
    }
    out
}

/// The error function to double precision: its Taylor series below 2.5, the continued
/// fraction of `erfc` above.
fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let a = x.abs();
    let v = if a < 2.5 {
        // erf(a) = 2/sqrt(pi) * sum_n (-1)^n a^(2n+1) / (n! (2n+1))
        let a2 = a * a;
        let (mut term, mut sum) = (a, a);
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -a2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else if a > 6.0 {
        1.0
    } else {
        // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))
        let mut f = a;
        for k in (1..=80).rev() {
            f = a + (f64::from(k) / 2.0) / f;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / f
    };
    if x < 0.0 { -v } else { v }
}

/// How a connected-component candidate is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentScore {
    /// The highest probability in the component.
    Max,
    /// The mean probability over the component's voxels.
    Mean,
}

/// Candidates from the connected components of `prob >= threshold`: the components and one
/// [`Candidate`] per component (`candidates[i]` is component `i + 1`), located at its peak
/// (the first voxel of highest probability in row-major order).
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentCandidates {
    /// The components of the thresholded map.
    pub components: Components,
    /// One candidate per component, in id order.
    pub candidates: Vec<Candidate>,
}

/// The connected components of `prob >= threshold` (the threshold rounded to `f32`, as NumPy
/// compares a `float32` map with a Python float), numbered by first voxel in `order`, each a
/// candidate scored by `score`.
///
/// # Errors
/// NaN probabilities, a non-finite threshold, and the errors of [`connected_components`].
pub fn component_candidates(
    prob: &ArrayViewD<f32>,
    threshold: f64,
    connectivity: Connectivity,
    score: ComponentScore,
    order: ScanOrder,
) -> Result<ComponentCandidates, MetricError> {
    if !threshold.is_finite() {
        return Err(MetricError::BadParameter {
            name: "threshold",
            value: threshold.to_string(),
            expected: "a finite threshold",
        });
    }
    check_probabilities(prob)?;
    let thr = threshold as f32;
    let mask = prob.mapv(|p| u8::from(p >= thr));
    let components = connected_components(&mask.view(), connectivity, order)?;
    let n = components.len();
    // (peak, peak row-major index, sum)
    let mut acc: Vec<(f32, usize, f64)> = vec![(f32::NEG_INFINITY, usize::MAX, 0.0); n];
    for (flat, (&id, &p)) in components.ids.iter().zip(prob.iter()).enumerate() {
        if id == 0 {
            continue;
        }
        let a = &mut acc[id as usize - 1];
        if p > a.0 {
            a.0 = p;
            a.1 = flat;
        }
        a.2 += f64::from(p);
    }
    let shape = prob.shape();
    let candidates = acc
        .iter()
        .zip(&components.components)
        .map(|(&(peak, at, sum), c)| Candidate {
            score: match score {
                ComponentScore::Max => f64::from(peak),
                ComponentScore::Mean => sum / c.voxels as f64,
            },
            index: unravel(at, shape),
        })
        .collect();
    Ok(ComponentCandidates {
        components,
        candidates,
    })
}

/// One scored detection and the reference lesions it hits (none: a false positive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The detection's score.
    pub score: f64,
    /// Ids of the reference lesions it hits, ascending; empty for a false positive.
    pub lesions: Vec<u32>,
}

/// The detections of one image and the ids of its reference lesions: the input of [`froc`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageDetections {
    /// Every detection of the image.
    pub detections: Vec<Detection>,
    /// The ids of the image's reference lesions, ascending.
    pub lesions: Vec<u32>,
}

/// Which reference lesions a candidate hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateHit {
    /// The lesion containing the candidate's point (CAMELYON16 / MONAI
    /// `compute_fp_tp_probs`, and the ROC / e-ophtha reference); background is a false
    /// positive.
    Point,
    /// Every lesion the candidate's component overlaps (component candidates only); a
    /// component touching no lesion is a false positive.
    Overlap,
}

fn check_index(index: &[usize], shape: &[usize]) -> Result<(), MetricError> {
    if index.len() != shape.len() || index.iter().zip(shape).any(|(i, n)| i >= n) {
        return Err(MetricError::BadParameter {
            name: "candidate",
            value: format!("{index:?}"),
            expected: "an index inside the reference map",
        });
    }
    Ok(())
}

fn check_score(score: f64) -> Result<(), MetricError> {
    if score.is_nan() {
        return Err(MetricError::BadParameter {
            name: "score",
            value: score.to_string(),
            expected: "a score that is not NaN",
        });
    }
    Ok(())
}

/// Point candidates against reference lesions ([`CandidateHit::Point`]): each candidate hits
/// the lesion whose id is at its index (0: a false positive). For the FROC reference cases the
/// lesions are `Lesions::components(gt, None, Connectivity::full(ndim), ScanOrder::ColumnMajor)`
/// (cc3d's numbering on a nibabel array).
///
/// # Errors
/// A candidate outside the map or of another rank, a NaN score.
pub fn point_detections(
    candidates: &[Candidate],
    reference: &Lesions,
) -> Result<ImageDetections, MetricError> {
    let shape = reference.ids.shape();
    let detections = candidates
        .iter()
        .map(|c| {
            check_index(&c.index, shape)?;
            check_score(c.score)?;
            let id = reference.ids[IxDyn(&c.index)];
            Ok(Detection {
                score: c.score,
                lesions: if id == 0 { vec![] } else { vec![id] },
            })
        })
        .collect::<Result<_, MetricError>>()?;
    Ok(ImageDetections {
        detections,
        lesions: reference.lesions.iter().map(|l| l.id).collect(),
    })
}

/// Component candidates against reference lesions, by their peak ([`CandidateHit::Point`]) or
/// by overlap ([`CandidateHit::Overlap`]).
///
/// # Errors
/// Shapes that differ, a NaN score.
pub fn component_detections(
    candidates: &ComponentCandidates,
    reference: &Lesions,
    hit: CandidateHit,
) -> Result<ImageDetections, MetricError> {
    check_shapes(candidates.components.ids.shape(), reference.ids.shape())?;
    if hit == CandidateHit::Point {
        return point_detections(&candidates.candidates, reference);
    }
    let mut hits: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); candidates.candidates.len()];
    for (&c, &r) in candidates.components.ids.iter().zip(reference.ids.iter()) {
        if c != 0 && r != 0 {
            hits[c as usize - 1].insert(r);
        }
    }
    let detections = candidates
        .candidates
        .iter()
        .zip(hits)
        .map(|(c, h)| {
            check_score(c.score)?;
            Ok(Detection {
                score: c.score,
                lesions: h.into_iter().collect(),
            })
        })
        .collect::<Result<_, MetricError>>()?;
    Ok(ImageDetections {
        detections,
        lesions: reference.lesions.iter().map(|l| l.id).collect(),
    })
}

/// MONAI's `compute_fp_tp_probs` over a set of images, concatenated as `LesionFROC` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FpTpScores {
    /// The scores of the false positives, image by image in detection order.
    pub fp: Vec<f64>,
    /// Per reference lesion (image by image, ascending id): the highest score of the
    /// detections hitting it, 0 when none does. Several detections on one lesion count once.
    pub tp: Vec<f64>,
    /// The number of reference lesions (`num_targets`).
    pub n_targets: usize,
    /// The number of images (`num_images`).
    pub n_images: usize,
}

/// The false-positive and per-lesion scores of MONAI's `compute_fp_tp_probs(_nd)`. MONAI
/// counts `max(label)` targets, which is the number of lesions when ids are consecutive (as
/// component ids are); here every id listed in [`ImageDetections::lesions`] is one target.
pub fn fp_tp_scores(images: &[ImageDetections]) -> FpTpScores {
    let mut fp = Vec::new();
    let mut tp = Vec::new();
    for im in images {
        let mut best: BTreeMap<u32, f64> = im.lesions.iter().map(|&l| (l, 0.0)).collect();
        for d in &im.detections {
            if d.lesions.is_empty() {
                fp.push(d.score);
            }
            for l in &d.lesions {
                if let Some(b) = best.get_mut(l) {
                    *b = b.max(d.score);
                }
            }
        }
        tp.extend(best.into_values());
    }
    FpTpScores {
        fp,
        n_targets: tp.len(),
        tp,
        n_images: images.len(),
    }
}

/// How the FROC curve's operating points are formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrocCurveRule {
    /// MONAI's `compute_froc_curve_data` (from CAMELYON16): thresholds are the distinct values
    /// of the false-positive scores and the per-lesion scores of [`FpTpScores`] (0 for a
    /// missed lesion), **without the smallest**, plus the point (0 FP, 0 sensitivity). Meant
    /// to drop the 0 of missed lesions, it drops the last real operating point when every
    /// lesion was hit.
    Monai,
    /// The Retinopathy Online Challenge / e-ophtha reference: thresholds are every distinct
    /// detection score, plus the start (0 FP, sensitivity 0). A lesion is detected at `t` when
    /// a detection with score `>= t` hits it; a detection hitting no lesion is a false
    /// positive; a further detection on a detected lesion counts as neither.
    Reference,
}

/// How the sensitivity at a false-positive rate is read from the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrocReading {
    /// From the piecewise-linear curve through the operating points, as NumPy's `np.interp`
    /// on the points in order of increasing FP rate (MONAI's `compute_froc_score`): at a rate
    /// reached exactly, the highest sensitivity there; beyond the last point, its sensitivity.
    Interpolate,
    /// The best operating point with at most that many false positives per image.
    Step,
}

/// A named FROC convention: a curve rule and a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrocConvention {
    /// MONAI 1.6.1 `monai.apps.pathology.LesionFROC` / `compute_froc_curve_data` +
    /// `compute_froc_score`: [`FrocCurveRule::Monai`] read by [`FrocReading::Interpolate`].
    Monai,
    /// The ROC / e-ophtha reference read from the piecewise-linear curve:
    /// [`FrocCurveRule::Reference`] + [`FrocReading::Interpolate`].
    RocInterp,
    /// The ROC / e-ophtha reference read as the best operating point at or below each rate:
    /// [`FrocCurveRule::Reference`] + [`FrocReading::Step`]. Differs from
    /// [`RocInterp`](Self::RocInterp) only when a true and a false detection share a score.
    RocStep,
}

impl FrocConvention {
    /// The curve rule of this convention.
    pub fn curve_rule(self) -> FrocCurveRule {
        match self {
            FrocConvention::Monai => FrocCurveRule::Monai,
            FrocConvention::RocInterp | FrocConvention::RocStep => FrocCurveRule::Reference,
        }
    }

    /// The reading of this convention.
    pub fn reading(self) -> FrocReading {
        match self {
            FrocConvention::Monai | FrocConvention::RocInterp => FrocReading::Interpolate,
            FrocConvention::RocStep => FrocReading::Step,
        }
    }
}

/// A FROC curve: operating points in order of decreasing threshold (so non-decreasing FP rate
/// and sensitivity). MONAI's `compute_froc_curve_data` returns the same points in reverse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrocCurve {
    /// The threshold of each point, decreasing; the first is `+inf` (no detection kept).
    pub thresholds: Vec<f64>,
    /// False positives per image at each point.
    pub fps_per_image: Vec<f64>,
    /// Lesion sensitivity at each point (NaN when there are no lesions, except the
    /// [`FrocCurveRule::Reference`] start point, which is 0).
    pub sensitivity: Vec<f64>,
    /// The number of reference lesions over all images.
    pub n_lesions: usize,
    /// The number of images.
    pub n_images: usize,
}

impl FrocCurve {
    /// The sensitivity at `rate` false positives per image; NaN when there are no lesions.
    pub fn sensitivity_at(&self, rate: f64, reading: FrocReading) -> f64 {
        if self.n_lesions == 0 || self.fps_per_image.is_empty() {
            return f64::NAN;
        }
        let (x, y) = (&self.fps_per_image, &self.sensitivity);
        match reading {
            FrocReading::Step => x
                .iter()
                .zip(y)
                .filter(|(f, _)| **f <= rate)
                .map(|(_, s)| *s)
                .fold(f64::NAN, f64::max),
            FrocReading::Interpolate => {
                // np.interp: j = the last point with x[j] <= rate.
                let n = x.len();
                if rate < x[0] {
                    return y[0];
                }
                let j = x.partition_point(|&f| f <= rate) - 1;
                if j == n - 1 || x[j] == rate {
                    return y[j];
                }
                let slope = (y[j + 1] - y[j]) / (x[j + 1] - x[j]);
                slope * (rate - x[j]) + y[j]
            }
        }
    }

    /// The mean sensitivity at `rates` (the FROC score); NaN when there are no lesions.
    pub fn score(&self, rates: &[f64], reading: FrocReading) -> f64 {
        let s: f64 = rates.iter().map(|&r| self.sensitivity_at(r, reading)).sum();
        s / rates.len() as f64
    }
}

fn check_images(images: &[ImageDetections]) -> Result<(), MetricError> {
    if images.is_empty() {
        return Err(MetricError::BadParameter {
            name: "images",
            value: "[]".into(),
            expected: "at least one image",
        });
    }
    for d in images.iter().flat_map(|im| &im.detections) {
        check_score(d.score)?;
    }
    Ok(())
}

/// Number of values in the descending-sorted `v` that are `>= t`.
fn count_at_least(v: &[f64], t: f64) -> usize {
    v.partition_point(|&s| s >= t)
}

/// The FROC curve of a set of images (one image: a slice of one) under `rule`.
///
/// # Errors
/// No image, a NaN score.
pub fn froc_curve(
    images: &[ImageDetections],
    rule: FrocCurveRule,
) -> Result<FrocCurve, MetricError> {
    check_images(images)?;
    let s = fp_tp_scores(images);
    let desc = |mut v: Vec<f64>| {
        v.sort_unstable_by(|a, b| b.total_cmp(a));
        v
    };
    let fp = desc(s.fp.clone());
    let tp = desc(s.tp.clone());
    let mut thresholds: Vec<f64> = match rule {
        FrocCurveRule::Monai => s.fp.iter().chain(&s.tp).copied().collect(),
        FrocCurveRule::Reference => images
            .iter()
            .flat_map(|im| im.detections.iter().map(|d| d.score))
            .collect(),
    };
    thresholds = desc(thresholds);
    thresholds.dedup();
    if rule == FrocCurveRule::Monai {
        thresholds.pop();
    }
    thresholds.insert(0, f64::INFINITY);
    let (n_img, n_les) = (s.n_images as f64, s.n_targets as f64);
    let fps_per_image = thresholds
        .iter()
        .map(|&t| count_at_least(&fp, t) as f64 / n_img)
        .collect();
    let sensitivity = thresholds
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            if i == 0 && rule == FrocCurveRule::Reference {
                0.0
            } else {
                count_at_least(&tp, t) as f64 / n_les
            }
        })
        .collect();
    Ok(FrocCurve {
        thresholds,
        fps_per_image,
        sensitivity,
        n_lesions: s.n_targets,
        n_images: s.n_images,
    })
}

/// A FROC analysis: the curve, the sensitivity at each FP rate and their mean (the score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Froc {
    /// The convention used.
    pub convention: FrocConvention,
    /// The curve.
    pub curve: FrocCurve,
    /// The FP rates (false positives per image) read.
    pub fp_rates: Vec<f64>,
    /// The sensitivity at each rate.
    pub sensitivity_at_rates: Vec<f64>,
    /// The mean of `sensitivity_at_rates`; NaN when there are no lesions.
    pub score: f64,
}

/// The FROC curve and score of a set of images under `convention`, read at `fp_rates`
/// ([`ROC_FP_RATES`] for the ROC / e-ophtha score, [`CAMELYON_FP_RATES`] for MONAI's default).
///
/// # Examples
/// ```
/// use dicekit_metrics::{Detection, FrocConvention, ImageDetections, ROC_FP_RATES, froc};
/// let image = ImageDetections {
///     detections: vec![
///         Detection { score: 0.9, lesions: vec![1] },
///         Detection { score: 0.8, lesions: vec![] },
///         Detection { score: 0.7, lesions: vec![2] },
///     ],
///     lesions: vec![1, 2],
/// };
/// let f = froc(&[image], FrocConvention::RocStep, &ROC_FP_RATES)?;
/// assert_eq!(f.curve.sensitivity, vec![0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(f.sensitivity_at_rates, vec![0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0]);
/// # Ok::<(), dicekit_metrics::MetricError>(())
/// ```
///
/// # Errors
/// No image, no rate, a negative or non-finite rate, a NaN score.
pub fn froc(
    images: &[ImageDetections],
    convention: FrocConvention,
    fp_rates: &[f64],
) -> Result<Froc, MetricError> {
    if fp_rates.is_empty() || fp_rates.iter().any(|r| !(r.is_finite() && *r >= 0.0)) {
        return Err(MetricError::BadParameter {
            name: "fp_rates",
            value: format!("{fp_rates:?}"),
            expected: "one or more finite rates >= 0",
        });
    }
    let curve = froc_curve(images, convention.curve_rule())?;
    let reading = convention.reading();
    let sensitivity_at_rates = fp_rates
        .iter()
        .map(|&r| curve.sensitivity_at(r, reading))
        .collect();
    let score = curve.score(fp_rates, reading);
    Ok(Froc {
        convention,
        curve,
        fp_rates: fp_rates.to_vec(),
        sensitivity_at_rates,
        score,
    })
}

/// A threshold-sweep FROC: at every threshold `t` (in decreasing order) the connected
/// components of `prob >= t` are formed anew in each image; a reference lesion is detected
/// when a component overlaps it, and a component overlapping no lesion is a false positive.
/// Returns one operating point per threshold (the curve starts at the highest threshold; no
/// `+inf` point is added), pooled over the images as in [`froc`]. Sensitivity never falls as
/// the threshold drops, but the false positives may (a false component can grow into a
/// lesion), so read such a curve with [`FrocReading::Step`].
///
/// # Errors
/// No image, shapes that differ, NaN probabilities or thresholds, and the errors of
/// [`connected_components`].
pub fn threshold_sweep(
    images: &[(ArrayViewD<f32>, &Lesions)],
    thresholds: &[f64],
    connectivity: Connectivity,
) -> Result<FrocCurve, MetricError> {
    if images.is_empty() {
        return Err(MetricError::BadParameter {
            name: "images",
            value: "[]".into(),
            expected: "at least one image",
        });
    }
    let mut ts = thresholds.to_vec();
    if let Some(t) = ts.iter().find(|t| !t.is_finite()) {
        return Err(MetricError::BadParameter {
            name: "thresholds",
            value: t.to_string(),
            expected: "finite thresholds",
        });
    }
    ts.sort_unstable_by(|a, b| b.total_cmp(a));
    ts.dedup();
    let n_lesions: usize = images.iter().map(|(_, r)| r.len()).sum();
    let mut fps = vec![0usize; ts.len()];
    let mut tps = vec![0usize; ts.len()];
    for (prob, reference) in images {
        check_shapes(prob.shape(), reference.ids.shape())?;
        for (k, &t) in ts.iter().enumerate() {
            let cc = component_candidates(
                prob,
                t,
                connectivity,
                ComponentScore::Max,
                ScanOrder::RowMajor,
            )?;
            let d = component_detections(&cc, reference, CandidateHit::Overlap)?;
            fps[k] += d.detections.iter().filter(|d| d.lesions.is_empty()).count();
            let hit: BTreeSet<u32> = d
                .detections
                .iter()
                .flat_map(|d| d.lesions.iter().copied())
                .collect();
            tps[k] += hit.len();
        }
    }
    Ok(FrocCurve {
        thresholds: ts,
        fps_per_image: fps
            .iter()
            .map(|&f| f as f64 / images.len() as f64)
            .collect(),
        sensitivity: tps.iter().map(|&t| t as f64 / n_lesions as f64).collect(),
        n_lesions,
        n_images: images.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `monai.networks.layers.convutils.gaussian_1d(sigma, 4.0, "erf")` (MONAI 1.6.1, torch
    /// float32) for several sigmas.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn gaussian_kernel_as_monai() {
        let want: [(f64, &[f32]); 4] = [
            (
                1.0,
                &[
                    0.000_229_239_46,
                    0.005_977_034_6,
                    0.060_597_539,
                    0.241_730_33,
                    0.382_924_91,
                    0.241_730_33,
                    0.060_597_539,
                    0.005_977_034_6,
                    0.000_229_239_46,
                ],
            ),
            (
                0.5,
                &[
                    0.001_349_598_2,
                    0.157_305_36,
                    0.682_689_5,
                    0.157_305_36,
                    0.001_349_598_2,
                ],
            ),
            (0.1, &[2.980_232_2e-7, 0.999_999_4, 2.980_232_2e-7]),
            (
                1.5,
                &[
                    0.000_115_543_6,
                    0.001_227_021_2,
                    0.008_465_439,
                    0.037_975_013,
                    0.110_864_91,
                    0.210_786_09,
                    0.261_117_3,
                    0.210_786_09,
                    0.110_864_91,
                    0.037_975_013,
                    0.008_465_439,
                    0.001_227_021_2,
                    0.000_115_543_6,
                ],
            ),
        ];
        for (sigma, w) in want {
            let k = monai_gaussian_kernel(sigma);
            assert_eq!(k.len(), w.len(), "sigma {sigma}");
            for (a, b) in k.iter().zip(w) {
                let tol = 2.0 * f32::EPSILON * b.abs().max(1e-6);
                assert!((a - b).abs() <= tol, "sigma {sigma}: {k:?}");
            }
        }
    }

    /// MONAI's ProbNMS with sigma > 0: a 2D map is not smoothed; a 3D map only along its last
    /// axis (values from MONAI 1.6.1).
    #[test]
    fn prob_nms_smoothed_as_monai() {
        let nms = ProbNms::new(0.1, 3);
        let mut p = ndarray::Array2::<f32>::zeros((6, 6));
        p[[1, 1]] = 0.9;
        p[[4, 4]] = 0.5;
        let p = p.into_dyn();
        assert_eq!(
            prob_nms_smoothed(&p.view(), &nms, &[2.0]).unwrap(),
            prob_nms(&p.view(), &nms).unwrap()
        );
        let mut q = ndarray::Array3::<f32>::zeros((3, 3, 9));
        q[[1, 1, 4]] = 0.9;
        q[[0, 2, 1]] = 0.5;
        let c = prob_nms_smoothed(&q.into_dyn().view(), &nms, &[1.0]).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!((&c[0].index, &c[1].index), (&vec![1, 1, 4], &vec![0, 2, 1]));
        assert!((c[0].score - 0.344_632_416_963_577_27).abs() < 1e-7);
        assert!((c[1].score - 0.191_462_457_180_023_2).abs() < 1e-7);
        assert!(prob_nms_smoothed(&p.view(), &nms, &[1.0, 2.0, 3.0]).is_err());
        assert!(prob_nms_smoothed(&p.view(), &nms, &[-1.0]).is_err());
    }
}
