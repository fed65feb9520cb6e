//! FROC from probability maps, for `dicekit eval --lesions --probabilities DIR` and the run
//! report: candidates from each case's probability map, their hits on the reference lesions of
//! the same label, and one FROC curve per label over the whole set (false positives per image
//! pooled over the cases, as the Retinopathy Online Challenge and MONAI do), for all lesions and
//! for each lesion-size bin.
//!
//! ```text
//! per case, per label:  prob = the label's channel of the case's probability map
//!   candidates  components:  connected components of prob >= threshold, scored by their max
//!                            (or mean) probability; a candidate hits every reference lesion
//!                            it overlaps (none: a false positive)
//!               maxima:      MONAI's ProbNMS local maxima; a candidate hits the lesion under
//!                            its point
//! over the set, per label:  froc(all cases' detections, convention, FP rates)
//!   per size bin:            the same detections, with only that bin's lesions as targets:
//!                            a hit on a lesion of another bin is neither true nor false
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dicekit_data::{Volume, image::read_image};
use dicekit_metrics::{
    CandidateHit, ComponentScore, Connectivity, Froc, FrocConvention, ImageDetections, Lesions,
    MetricError, ProbNms, ROC_FP_RATES, ScanOrder, component_candidates, component_detections,
    froc, point_detections, prob_nms_smoothed,
};
use ndarray::{ArrayViewD, Axis};

use crate::EvalError;

/// Where FROC candidates come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidates {
    /// The connected components of `prob >= threshold` (the evaluation's connectivity), each
    /// scored by `score`; a component hits every reference lesion it overlaps
    /// ([`CandidateHit::Overlap`]). The curve then sweeps the score: at threshold `t` the
    /// components scoring `>= t` are kept.
    Components {
        /// The probability that forms the components (the lowest operating point).
        threshold: f64,
        /// How a component is scored.
        score: ComponentScore,
    },
    /// MONAI's `ProbNMS` local maxima; a maximum hits the lesion under its point
    /// ([`CandidateHit::Point`], CAMELYON16 / MONAI `compute_fp_tp_probs`).
    Maxima {
        /// Threshold and suppression box.
        nms: ProbNms,
        /// `ProbNMS(sigma=...)`: 0 takes the map as it is; above 0 the map is smoothed as
        /// MONAI 1.6.1 smooths it ([`prob_nms_smoothed`]: a 2D map not at all, a 3D map along
        /// its last axis only).
        sigma: f64,
    },
}

impl Default for Candidates {
    /// Components of `prob >= 0.1` scored by their peak probability.
    fn default() -> Self {
        Candidates::Components {
            threshold: 0.1,
            score: ComponentScore::Max,
        }
    }
}

impl Candidates {
    /// One line for tables and reports.
    pub fn describe(&self) -> String {
        match self {
            Candidates::Components { threshold, score } => format!(
                "connected components of p >= {threshold} scored by their {} probability, a hit on every lesion they overlap",
                match score {
                    ComponentScore::Max => "highest",
                    ComponentScore::Mean => "mean",
                }
            ),
            Candidates::Maxima { nms, sigma } => format!(
                "local maxima (MONAI ProbNMS, p > {}, box {:?}, sigma {sigma}), a hit on the lesion under the point",
                nms.prob_threshold, nms.box_size
            ),
        }
    }
}

/// Which channel of a probability map scores label `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbabilityChannels {
    /// A one-channel map scores the evaluation's one label; a map of several channels is
    /// read as [`Class`](Self::Class).
    #[default]
    Auto,
    /// Channel `L` is label `L` (softmax outputs, background in channel 0).
    Class,
    /// Channel `L - 1` is label `L` (sigmoid outputs, one channel per foreground label).
    Foreground,
}

/// FROC settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FrocOptions {
    /// Candidate source.
    pub candidates: Candidates,
    /// Curve rule and reading.
    pub convention: FrocConvention,
    /// False positives per image at which the sensitivity is read; their mean is the score.
    pub fp_rates: Vec<f64>,
    /// Which channel scores which label.
    pub channels: ProbabilityChannels,
}

impl Default for FrocOptions {
    /// Component candidates, the ROC / e-ophtha curve read by interpolation, at the seven ROC
    /// rates 1/8 .. 8.
    fn default() -> Self {
        FrocOptions {
            candidates: Candidates::default(),
            convention: FrocConvention::RocInterp,
            fp_rates: ROC_FP_RATES.to_vec(),
            channels: ProbabilityChannels::Auto,
        }
    }
}

impl FrocOptions {
    /// Checks the rates and the candidate settings before any file is read.
    ///
    /// # Errors
    /// [`EvalError::Froc`] naming the bad setting.
    pub fn validate(&self) -> Result<(), EvalError> {
        let bad = |what: String| Err(EvalError::Froc(what));
        if self.fp_rates.is_empty() || self.fp_rates.iter().any(|r| !(r.is_finite() && *r >= 0.0)) {
            return bad(format!(
                "FP rates {:?}: give one or more finite rates >= 0",
                self.fp_rates
            ));
        }
        match &self.candidates {
            Candidates::Components { threshold, .. } if !threshold.is_finite() => {
                bad(format!("candidate threshold {threshold}: must be finite"))
            }
            Candidates::Maxima { nms, sigma }
                if !(nms.prob_threshold.is_finite() && nms.prob_threshold >= 0.0)
                    || nms.box_size.is_empty()
                    || nms.box_size.contains(&0)
                    || !(sigma.is_finite() && *sigma >= 0.0) =>
            {
                bad(format!(
                    "local maxima: threshold {}, box {:?}, sigma {sigma}: the threshold and sigma must be finite and >= 0, the box sizes > 0",
                    nms.prob_threshold, nms.box_size
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The detections of one case and label, and the size bin of each of its reference lesions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseDetections {
    /// Scored candidates and the reference lesion ids.
    pub image: ImageDetections,
    /// The size-bin index of each reference lesion id (lesions outside every bin are absent).
    pub lesion_bins: BTreeMap<u32, usize>,
}

/// The detections of one probability map against the reference lesions `reference`.
///
/// # Errors
/// Shapes that differ, NaN probabilities, bad candidate settings.
pub fn detections(
    prob: &ArrayViewD<f32>,
    reference: &Lesions,
    candidates: &Candidates,
    connectivity: Connectivity,
) -> Result<ImageDetections, MetricError> {
    match candidates {
        Candidates::Components { threshold, score } => {
            let cc =
                component_candidates(prob, *threshold, connectivity, *score, ScanOrder::RowMajor)?;
            component_detections(&cc, reference, CandidateHit::Overlap)
        }
        Candidates::Maxima { nms, sigma } => {
            if prob.shape() != reference.ids.shape() {
                return Err(MetricError::ShapeMismatch {
                    pred: prob.shape().to_vec(),
                    truth: reference.ids.shape().to_vec(),
                });
            }
            point_detections(&prob_nms_smoothed(prob, nms, &[*sigma])?, reference)
        }
    }
}

/// The FROC of one label over the set: all lesions, then one entry per size bin (`None` for a
/// bin without reference lesions).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFroc {
    /// The label.
    pub label: u32,
    /// Over every reference lesion.
    pub all: Froc,
    /// Per size bin, in bin order: only that bin's lesions are targets.
    pub bins: Vec<Option<Froc>>,
}

/// The FROC of one label from its cases' detections (`bins` size bins).
///
/// # Errors
/// No case, bad rates, a NaN score.
pub fn label_froc(
    label: u32,
    cases: &[&CaseDetections],
    bins: usize,
    options: &FrocOptions,
) -> Result<LabelFroc, MetricError> {
    let images: Vec<ImageDetections> = cases.iter().map(|c| c.image.clone()).collect();
    let all = froc(&images, options.convention, &options.fp_rates)?;
    let mut per_bin = Vec::with_capacity(bins);
    for b in 0..bins {
        let images: Vec<ImageDetections> = cases
            .iter()
            .map(|c| ImageDetections {
                detections: c.image.detections.clone(),
                lesions: c
                    .image
                    .lesions
                    .iter()
                    .copied()
                    .filter(|id| c.lesion_bins.get(id) == Some(&b))
                    .collect(),
            })
            .collect();
        let any = images.iter().any(|im| !im.lesions.is_empty());
        per_bin.push(if any {
            Some(froc(&images, options.convention, &options.fp_rates)?)
        } else {
            None
        });
    }
    Ok(LabelFroc {
        label,
        all,
        bins: per_bin,
    })
}

/// The probability map of `label` in `probs` (`[C, ...S]`, as [`read_image`] returns it), when
/// `labels` labels are evaluated.
///
/// # Errors
/// [`EvalError::Froc`] when no channel of the map scores `label`.
pub fn probability_channel<'a>(
    probs: &ArrayViewD<'a, f32>,
    label: u32,
    labels: usize,
    channels: ProbabilityChannels,
    path: &Path,
) -> Result<ArrayViewD<'a, f32>, EvalError> {
    let c = probs.shape().first().copied().unwrap_or(0);
    let index = match channels {
        ProbabilityChannels::Auto if c == 1 => {
            if labels > 1 {
                return Err(EvalError::Froc(format!(
                    "{}: one probability channel for {labels} labels; pick the label with --labels, or give one channel per class",
                    path.display()
                )));
            }
            0
        }
        ProbabilityChannels::Auto | ProbabilityChannels::Class => label as usize,
        ProbabilityChannels::Foreground => (label as usize).wrapping_sub(1),
    };
    if index >= c {
        return Err(EvalError::Froc(format!(
            "{}: no probability channel for label {label} ({c} channels, {})",
            path.display(),
            match channels {
                ProbabilityChannels::Foreground => "channel L-1 is label L",
                _ => "channel L is label L",
            }
        )));
    }
    Ok(probs.clone().index_axis_move(Axis(0), index))
}

/// Reads a probability map and checks its spatial shape against the reference's.
///
/// # Errors
/// The file cannot be read; a shape that differs from `shape`.
pub fn read_probabilities(path: &Path, shape: &[usize]) -> Result<Volume<f32>, EvalError> {
    let v = read_image(path)?;
    if v.data.ndim() < 2 || &v.data.shape()[1..] != shape {
        return Err(EvalError::Froc(format!(
            "{}: probability map of spatial shape {:?} for label maps of shape {shape:?}",
            path.display(),
            v.data.shape().get(1..).unwrap_or(&[])
        )));
    }
    Ok(v)
}

/// The probability maps of a folder by case name (`.nii`, `.nii.gz`, `.tif`, `.tiff`, `.png`),
/// or a single file.
///
/// # Errors
/// The folder cannot be listed; two files of one case name.
pub fn probability_files(path: &Path) -> Result<BTreeMap<String, PathBuf>, EvalError> {
    if !path.is_dir() {
        let mut one = BTreeMap::new();
        one.insert(String::new(), path.to_path_buf());
        return Ok(one);
    }
    let entries =
        std::fs::read_dir(path).map_err(|e| EvalError::Froc(format!("{}: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for entry in entries {
        let p = entry
            .map_err(|e| EvalError::Froc(format!("{}: {e}", path.display())))?
            .path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let image = [".nii", ".nii.gz", ".tif", ".tiff", ".png"]
            .iter()
            .any(|e| name.ends_with(e));
        if !p.is_file() || !image {
            continue;
        }
        let case = dicekit_data::case_name(&p);
        if let Some(other) = out.insert(case.clone(), p.clone()) {
            return Err(EvalError::Froc(format!(
                "{}: two probability maps of case `{case}`: {} and {}",
                path.display(),
                other.display(),
                p.display()
            )));
        }
    }
    Ok(out)
}

/// `1/8`, `1/4`, `1/2`, `1`, `2`: a rate as FROC tables print it.
pub fn rate_name(r: f64) -> String {
    if r > 0.0 && r < 1.0 && (1.0 / r).fract() == 0.0 {
        format!("1/{}", 1.0 / r)
    } else {
        format!("{r}")
    }
}

/// The convention's name in tables (its serde name).
pub fn froc_convention_name(c: dicekit_metrics::FrocConvention) -> &'static str {
    match c {
        dicekit_metrics::FrocConvention::Monai => "monai",
        dicekit_metrics::FrocConvention::RocInterp => "roc_interp",
        dicekit_metrics::FrocConvention::RocStep => "roc_step",
    }
}
