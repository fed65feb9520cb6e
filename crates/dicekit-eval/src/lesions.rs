//! Lesion-wise evaluation of label-map files (`dicekit eval --lesions`): per case and label,
//! the reference and predicted lesions (connected components), how many were found, missed or
//! false, detection rates, panoptic quality and the mean Dice of matched lesions, overall and
//! by lesion size; then the same summed over the cases.
//!
//! ```text
//! per case, per label:  lesions = components(map == label, connectivity)
//!                       matching = rule(pred lesions, reference lesions)      (dicekit_metrics::MatchingRule)
//!   found   = reference lesions matched         missed = reference lesions not matched
//!   false   = predicted lesions not matched     recall = found / reference, precision = matched predictions / predictions
//!   size bins: reference lesions by their volume (mm^3), false positives by theirs
//! over the set:  the counts summed (recall, precision and F1 of the sums), false positives per image
//! with probability maps:  FROC per label over the set, all lesions and by size bin (crate::froc)
//! ```
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dicekit_metrics::{
    Connectivity, LesionConvention, LesionEvaluation, LesionOptions, Lesions, MatchingRule,
    ScanOrder,
};
use ndarray::ArrayViewD;

use crate::froc::{
    CaseDetections, FrocOptions, LabelFroc, ProbabilityChannels, detections, froc_convention_name,
    label_froc, probability_channel, probability_files, rate_name, read_probabilities,
};
use crate::{EvalError, EvalOptions, pair_inputs, read_pair};

/// How lesions are formed, matched and binned.
#[derive(Debug, Clone)]
pub struct LesionEvalOptions {
    /// Reading, spacing and labels as for the voxel metrics (the convention and tolerance are
    /// not used).
    pub eval: EvalOptions,
    /// Which voxels touch; `None`: every neighbour (8 in 2D, 26 in 3D, cc3d's default).
    pub connectivity: Option<Connectivity>,
    /// How predicted lesions are matched to reference lesions.
    pub rule: MatchingRule,
    /// The maps are instance maps: every non-zero value is one lesion as given (touching
    /// instances stay apart; no components are formed), reported as label 1 (MONAI's and
    /// panoptica's `UNMATCHED_INSTANCE` input).
    pub instances: bool,
    /// Upper edges (in `size_unit`) of the size bins, ascending; the last bin is open. Empty:
    /// no bins.
    pub size_bins: Vec<f64>,
    /// The unit of the bin edges: mm^3 (pixels for PNG/TIFF without spacing) or voxels.
    pub size_unit: SizeUnit,
    /// Also the surface distances of every matched pair (panoptica's per-lesion geometry:
    /// ASSD as the mean of the two directed means, HD95 of both directions pooled).
    pub distances: bool,
    /// Probability maps for FROC: a file (with two map files), or a folder of maps matched to
    /// the cases by name (`dicekit predict --probabilities` writes one); `None`: no FROC.
    pub probabilities: Option<PathBuf>,
    /// How candidates are found in the probability maps and the FROC read.
    pub froc: FrocOptions,
}

impl Default for LesionEvalOptions {
    fn default() -> Self {
        Self {
            eval: EvalOptions::default(),
            connectivity: None,
            rule: MatchingRule::AnyOverlap,
            instances: false,
            size_bins: vec![10.0, 100.0, 1000.0],
            size_unit: SizeUnit::Mm3,
            distances: false,
            probabilities: None,
            froc: FrocOptions::default(),
        }
    }
}

/// The unit of lesion sizes in the size bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizeUnit {
    /// Volume in mm^3: voxels times the voxel volume (pixels for images without spacing).
    #[default]
    Mm3,
    /// Voxels (pixels), whatever the spacing.
    Voxels,
}

impl SizeUnit {
    /// `mm3` or `voxels`, as the bins are named.
    pub fn name(self) -> &'static str {
        match self {
            SizeUnit::Mm3 => "mm3",
            SizeUnit::Voxels => "voxels",
        }
    }
}

/// Counts of one size bin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SizeBin {
    /// Lower edge (inclusive), mm^3.
    pub lo: f64,
    /// Upper edge (exclusive), mm^3; infinity for the last bin.
    pub hi: f64,
    /// Reference lesions in the bin.
    pub reference: u64,
    /// Of those, found.
    pub found: u64,
    /// Of those, missed.
    pub missed: u64,
    /// Predicted lesions in the bin that match nothing.
    pub false_positives: u64,
    /// The unit of `lo` and `hi`.
    pub unit: SizeUnit,
}

impl SizeBin {
    /// `[lo, hi) mm3` (or `voxels`), as the rows name the bin.
    pub fn name(&self) -> String {
        let unit = self.unit.name();
        if self.hi.is_infinite() {
            format!(">= {} {unit}", self.lo)
        } else {
            format!("[{}, {}) {unit}", self.lo, self.hi)
        }
    }
}

/// One lesion of one case and label, for the per-lesion list (`dicekit eval --lesions
/// --lesion-list FILE`): a reference lesion (found or missed) or a predicted one.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionListRow {
    /// `reference` or `prediction`.
    pub side: &'static str,
    /// Its id on its side (component id, or instance id as given).
    pub id: u32,
    /// Voxels.
    pub voxels: u64,
    /// Volume, mm^3 (pixels without spacing).
    pub volume_mm3: f64,
    /// Bounding box, first and last index per axis (the map's axis order).
    pub bbox: (Vec<usize>, Vec<usize>),
    /// `found` / `missed` (reference), `matched` / `false_positive` (prediction).
    pub status: &'static str,
    /// The ids on the other side it was matched to.
    pub matched: Vec<u32>,
    /// Dice and IoU of its pair (reference lesions found).
    pub dice: Option<f64>,
    /// IoU of its pair.
    pub iou: Option<f64>,
    /// The highest FROC candidate score that hits it (reference lesions, with probabilities;
    /// 0 when none does).
    pub best_score: Option<f64>,
}

/// The lesion-wise numbers of one label (of one case, or summed over cases).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelLesions {
    /// The label.
    pub label: u32,
    /// Cases summed (1 for a case).
    pub cases: u64,
    /// Reference lesions.
    pub reference: u64,
    /// Predicted lesions.
    pub predicted: u64,
    /// Reference lesions matched.
    pub found: u64,
    /// Reference lesions not matched.
    pub missed: u64,
    /// Predicted lesions matched.
    pub matched_predictions: u64,
    /// Predicted lesions not matched.
    pub false_positives: u64,
    /// Reference lesions overlapped by several predictions.
    pub splits: u64,
    /// Predictions overlapping several reference lesions.
    pub merges: u64,
    /// Sum of the matched lesions' Dice (for the mean).
    pub dice_sum: f64,
    /// Sum of the matched lesions' IoU (panoptic SQ).
    pub iou_sum: f64,
    /// Matched pairs.
    pub pairs: u64,
    /// Sums of the matched pairs' ASSD and HD95 (mm), and how many pairs have them (with
    /// [`LesionEvalOptions::distances`]).
    pub distance_sums: (f64, f64, u64),
    /// By reference (and false-positive) lesion size.
    pub bins: Vec<SizeBin>,
    /// The FROC candidates of the case's probability map (a case's entry only; `None` in the
    /// sums and without probabilities).
    pub detections: Option<CaseDetections>,
    /// Every reference and predicted lesion (a case's entry only; empty in the sums).
    pub list: Vec<LesionListRow>,
}

impl LabelLesions {
    fn empty(label: u32, edges: &[f64], unit: SizeUnit) -> Self {
        let mut bins = Vec::new();
        let mut lo = 0.0;
        for &hi in edges.iter().chain(std::iter::once(&f64::INFINITY)) {
            bins.push(SizeBin {
                lo,
                hi,
                unit,
                ..SizeBin::default()
            });
            lo = hi;
        }
        if edges.is_empty() {
            bins.clear();
        }
        LabelLesions {
            label,
            cases: 0,
            reference: 0,
            predicted: 0,
            found: 0,
            missed: 0,
            matched_predictions: 0,
            false_positives: 0,
            splits: 0,
            merges: 0,
            dice_sum: 0.0,
            iou_sum: 0.0,
            pairs: 0,
            distance_sums: (0.0, 0.0, 0),
            bins,
            detections: None,
            list: Vec::new(),
        }
    }

    /// Adds `other`'s counts (same label and bins).
    fn add(&mut self, other: &LabelLesions) {
        self.cases += other.cases;
        self.reference += other.reference;
        self.predicted += other.predicted;
        self.found += other.found;
        self.missed += other.missed;
        self.matched_predictions += other.matched_predictions;
        self.false_positives += other.false_positives;
        self.splits += other.splits;
        self.merges += other.merges;
        self.dice_sum += other.dice_sum;
        self.iou_sum += other.iou_sum;
        self.pairs += other.pairs;
        self.distance_sums.0 += other.distance_sums.0;
        self.distance_sums.1 += other.distance_sums.1;
        self.distance_sums.2 += other.distance_sums.2;
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            a.reference += b.reference;
            a.found += b.found;
            a.missed += b.missed;
            a.false_positives += b.false_positives;
        }
    }

    /// Lesion recall (sensitivity), `found / reference`; `None` without reference lesions.
    pub fn recall(&self) -> Option<f64> {
        (self.reference > 0).then(|| self.found as f64 / self.reference as f64)
    }

    /// Lesion precision, `matched predictions / predictions`; `None` without predictions.
    pub fn precision(&self) -> Option<f64> {
        (self.predicted > 0).then(|| self.matched_predictions as f64 / self.predicted as f64)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        Some(if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        })
    }

    /// False positives per image (case).
    pub fn false_positives_per_image(&self) -> f64 {
        self.false_positives as f64 / self.cases.max(1) as f64
    }

    /// Panoptic quality `(PQ, SQ, RQ)` of the counts, panoptica's definition: `RQ = tp / (tp +
    /// fp/2 + fn/2)`, `SQ` the mean IoU of the matched pairs; `None` without any lesion.
    pub fn panoptic_quality(&self) -> Option<(f64, f64, f64)> {
        let den = self.found as f64 + 0.5 * self.false_positives as f64 + 0.5 * self.missed as f64;
        if den == 0.0 {
            return None;
        }
        let rq = self.found as f64 / den;
        let sq = if self.pairs > 0 {
            self.iou_sum / self.pairs as f64
        } else {
            0.0
        };
        Some((sq * rq, sq, rq))
    }

    /// Mean Dice of the matched lesions; `None` without a match.
    pub fn mean_lesion_dice(&self) -> Option<f64> {
        (self.pairs > 0).then(|| self.dice_sum / self.pairs as f64)
    }

    /// Mean ASSD and HD95 (mm) of the matched lesions; `None` without distances or a match.
    pub fn mean_lesion_distances(&self) -> Option<(f64, f64)> {
        let (a, h, n) = self.distance_sums;
        (n > 0).then(|| (a / n as f64, h / n as f64))
    }

    /// `(name, value)` of every number, in output order (`None`: undefined here).
    pub fn quantities(&self) -> Vec<(&'static str, Option<f64>)> {
        let pq = self.panoptic_quality();
        let dist = self.mean_lesion_distances();
        vec![
            ("reference_lesions", Some(self.reference as f64)),
            ("predicted_lesions", Some(self.predicted as f64)),
            ("found", Some(self.found as f64)),
            ("missed", Some(self.missed as f64)),
            ("false_positives", Some(self.false_positives as f64)),
            ("splits", Some(self.splits as f64)),
            ("merges", Some(self.merges as f64)),
            ("recall", self.recall()),
            ("precision", self.precision()),
            ("f1", self.f1()),
            (
                "false_positives_per_image",
                Some(self.false_positives_per_image()),
            ),
            ("mean_lesion_dice", self.mean_lesion_dice()),
            ("pq", pq.map(|q| q.0)),
            ("sq", pq.map(|q| q.1)),
            ("rq", pq.map(|q| q.2)),
            ("mean_lesion_assd", dist.map(|d| d.0)),
            ("mean_lesion_hd95", dist.map(|d| d.1)),
        ]
    }
}

/// The lesions of one case.
#[derive(Debug, Clone)]
pub struct LesionCaseResult {
    /// Case name.
    pub name: String,
    /// One entry per label, in label order.
    pub labels: Vec<LabelLesions>,
}

/// The lesion-wise evaluation of a set of cases.
#[derive(Debug)]
pub struct LesionEvaluationSet {
    /// Scored cases, in case-name order.
    pub results: Vec<LesionCaseResult>,
    /// Unmatched files and cases that failed, one error each.
    pub failures: Vec<EvalError>,
    /// The options.
    pub options: LesionEvalOptions,
    /// Per label, the FROC over the scored cases (empty without probability maps).
    pub froc: Vec<LabelFroc>,
}

/// Scores one case's lesions; with a probability map `prob`, also the case's FROC candidates
/// ([`LabelLesions::detections`]).
///
/// # Errors
/// As [`read_pair`]; a map of a rank other than 2 or 3, or a bad matching threshold; a
/// probability map that cannot be read, of another spatial shape, or without a channel for a
/// label.
pub fn evaluate_case_lesions(
    pred: &Path,
    truth: &Path,
    prob: Option<&Path>,
    options: &LesionEvalOptions,
) -> Result<Vec<LabelLesions>, EvalError> {
    let (p, t, spacing) = read_pair(pred, truth, &options.eval)?;
    let probs = match prob {
        Some(path) => Some((read_probabilities(path, t.shape())?, path)),
        None => None,
    };
    let probs = probs.as_ref().map(|(v, path)| (v.data.view(), *path));
    crate::case::with_maps!(p, t, |p, t| case_lesions(
        &p, &t, &spacing, probs, options, pred
    ))
}

/// Scores the lesions of two label maps in memory (`spacing` one value per axis): what
/// [`evaluate_case_lesions`] does after reading. `probs` (`[C, ...S]`, `S` the maps' shape)
/// adds the FROC candidates, its channels read as `options.froc.channels` says; `name` names
/// the case in errors.
///
/// # Errors
/// As [`evaluate_case_lesions`].
pub fn lesions_of_maps<T>(
    p: &ArrayViewD<T>,
    t: &ArrayViewD<T>,
    spacing: &[f64],
    probs: Option<&ArrayViewD<f32>>,
    options: &LesionEvalOptions,
    name: &str,
) -> Result<Vec<LabelLesions>, EvalError>
where
    T: dicekit_metrics::Label,
{
    let path = Path::new(name);
    let refused = |source| EvalError::Metric {
        path: path.to_path_buf(),
        source,
    };
    if p.shape() != t.shape() {
        return Err(refused(dicekit_metrics::MetricError::ShapeMismatch {
            pred: p.shape().to_vec(),
            truth: t.shape().to_vec(),
        }));
    }
    if spacing.len() != t.ndim() || spacing.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(refused(dicekit_metrics::MetricError::BadSpacing {
            spacing: spacing.to_vec(),
            ndim: t.ndim(),
        }));
    }
    if let Some(pr) = probs
        && (pr.ndim() != t.ndim() + 1 || &pr.shape()[1..] != t.shape())
    {
        return Err(EvalError::Froc(format!(
            "{name}: probabilities of shape {:?} for label maps of shape {:?}",
            pr.shape(),
            t.shape()
        )));
    }
    case_lesions(
        p,
        t,
        spacing,
        probs.map(|v| (v.view(), path)),
        options,
        path,
    )
}

/// The labels a probability map of `c` channels scores.
fn channel_labels(c: usize, channels: ProbabilityChannels) -> Vec<u32> {
    match channels {
        ProbabilityChannels::Auto if c == 1 => vec![1],
        ProbabilityChannels::Auto | ProbabilityChannels::Class => (1..c as u32).collect(),
        ProbabilityChannels::Foreground => (1..=c as u32).collect(),
    }
}

fn case_lesions<T>(
    p: &ArrayViewD<T>,
    t: &ArrayViewD<T>,
    spacing: &[f64],
    probs: Option<(ArrayViewD<f32>, &Path)>,
    options: &LesionEvalOptions,
    pred: &Path,
) -> Result<Vec<LabelLesions>, EvalError>
where
    T: dicekit_metrics::Label,
{
    let metric_error = |source| EvalError::Metric {
        path: pred.to_path_buf(),
        source,
    };
    let labels = if options.instances {
        // Instance maps: one entry, the foreground.
        Some(vec![1])
    } else {
        options.eval.labels.clone()
    };
    let labels = labels.unwrap_or_else(|| {
        let mut l = dicekit_metrics::labels_present(p, t);
        // A label's false candidates count even in a case where the label is absent.
        if let Some((pr, _)) = &probs {
            l.extend(channel_labels(pr.shape()[0], options.froc.channels));
            l.sort_unstable();
            l.dedup();
            // Auto with one channel scores the one label of the evaluation.
            if options.froc.channels == ProbabilityChannels::Auto && pr.shape()[0] == 1 {
                let present = dicekit_metrics::labels_present(p, t);
                if present.len() == 1 {
                    l = present;
                }
            }
        }
        l
    });
    let n_labels = labels.len();
    let ndim = t.ndim();
    let connectivity = match options.connectivity {
        Some(c) => c,
        None => Connectivity::full(ndim).ok_or(metric_error(
            dicekit_metrics::MetricError::UnsupportedRank(ndim),
        ))?,
    };
    let voxel_mm3: f64 = spacing.iter().product();
    let lesion_options = LesionOptions {
        spacing: spacing.to_vec(),
        distances: options.distances,
        nsd_tolerance_mm: None,
    };
    let bin_of = |voxels: u64, out: &mut LabelLesions| -> Option<usize> {
        let v = match options.size_unit {
            SizeUnit::Mm3 => voxels as f64 * voxel_mm3,
            SizeUnit::Voxels => voxels as f64,
        };
        out.bins.iter().position(|b| v >= b.lo && v < b.hi)
    };
    let mut out = Vec::with_capacity(labels.len());
    for label in labels {
        let order = ScanOrder::RowMajor;
        let side = |map: &ArrayViewD<T>| {
            if options.instances {
                Lesions::instances(map, order)
            } else {
                Lesions::components(map, Some(label), connectivity, order)
            }
        };
        let pl = side(p).map_err(metric_error)?;
        let tl = side(t).map_err(metric_error)?;
        let ev =
            LesionEvaluation::new(&pl, &tl, options.rule, &lesion_options).map_err(metric_error)?;
        let m = &ev.matching;
        let mut l = LabelLesions::empty(label, &options.size_bins, options.size_unit);
        l.cases = 1;
        l.reference = m.n_reference as u64;
        l.predicted = m.n_pred as u64;
        l.found = m.tp() as u64;
        l.missed = m.fn_() as u64;
        l.matched_predictions = m.tp_pred() as u64;
        l.false_positives = m.fp() as u64;
        l.splits = m.splits.len() as u64;
        l.merges = m.merges.len() as u64;
        l.pairs = ev.pairs.len() as u64;
        l.dice_sum = ev.pairs.iter().map(|s| s.dice).sum();
        l.iou_sum = ev.pairs.iter().map(|s| s.iou).sum();
        for d in ev.pairs.iter().filter_map(|s| s.distances.as_ref()) {
            l.distance_sums.0 += d.assd;
            l.distance_sums.1 += d.hd95;
            l.distance_sums.2 += 1;
        }
        // The panoptic quality of a one-to-one rule is panoptica's; check it agrees.
        debug_assert!(
            !options.rule.is_one_to_one()
                || l.panoptic_quality().map(|q| q.2)
                    == Some(ev.panoptic_quality(LesionConvention::Panoptica).rq)
                || l.reference + l.predicted == 0
        );
        for row in &ev.rows {
            if let Some(b) = bin_of(row.voxels, &mut l) {
                let bin = &mut l.bins[b];
                bin.reference += 1;
                if row.pair.is_some() {
                    bin.found += 1;
                } else {
                    bin.missed += 1;
                }
            }
        }
        for id in &m.unmatched_pred {
            if let Some(c) = pl.get(*id)
                && let Some(b) = bin_of(c.voxels, &mut l)
            {
                l.bins[b].false_positives += 1;
            }
        }
        if let Some((pr, path)) = &probs {
            let channel = probability_channel(pr, label, n_labels, options.froc.channels, path)?;
            let image = detections(&channel, &tl, &options.froc.candidates, connectivity).map_err(
                |source| EvalError::Metric {
                    path: path.to_path_buf(),
                    source,
                },
            )?;
            let mut lesion_bins = BTreeMap::new();
            for c in &tl.lesions {
                if let Some(b) = bin_of(c.voxels, &mut l) {
                    lesion_bins.insert(c.id, b);
                }
            }
            l.detections = Some(CaseDetections { image, lesion_bins });
        }
        // The per-lesion list.
        let best: BTreeMap<u32, f64> = l.detections.as_ref().map_or_else(BTreeMap::new, |d| {
            let mut best: BTreeMap<u32, f64> =
                d.image.lesions.iter().map(|&id| (id, 0.0)).collect();
            for det in &d.image.detections {
                for id in &det.lesions {
                    if let Some(b) = best.get_mut(id) {
                        *b = b.max(det.score);
                    }
                }
            }
            best
        });
        let bbox = |c: &dicekit_metrics::Component| (c.bbox.min.clone(), c.bbox.max.clone());
        for row in &ev.rows {
            let Some(c) = tl.get(row.reference) else {
                continue;
            };
            let pair = row.pair.and_then(|i| ev.pairs.get(i));
            l.list.push(LesionListRow {
                side: "reference",
                id: row.reference,
                voxels: row.voxels,
                volume_mm3: row.voxels as f64 * voxel_mm3,
                bbox: bbox(c),
                status: if pair.is_some() { "found" } else { "missed" },
                matched: pair.map(|p| p.preds.clone()).unwrap_or_default(),
                dice: pair.map(|p| p.dice),
                iou: pair.map(|p| p.iou),
                best_score: best.get(&row.reference).copied(),
            });
        }
        let mut matched_to: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for p in &ev.pairs {
            for &id in &p.preds {
                matched_to.entry(id).or_default().push(p.reference);
            }
        }
        for c in &pl.lesions {
            let matched = matched_to.remove(&c.id).unwrap_or_default();
            l.list.push(LesionListRow {
                side: "prediction",
                id: c.id,
                voxels: c.voxels,
                volume_mm3: c.voxels as f64 * voxel_mm3,
                bbox: bbox(c),
                status: if matched.is_empty() {
                    "false_positive"
                } else {
                    "matched"
                },
                matched,
                dice: None,
                iou: None,
                best_score: None,
            });
        }
        out.push(l);
    }
    Ok(out)
}

/// Evaluates the lesions of two label-map files, or of two folders matched by case name
/// (cases in parallel; a case that fails is a failure entry and the others are still scored).
/// With [`LesionEvalOptions::probabilities`], each case's probability map (same case name)
/// gives FROC candidates, and [`LesionEvaluationSet::froc`] the curve of each label.
///
/// # Errors
/// Inputs that cannot be paired at all, or bad options (size bins not ascending and positive,
/// bad FROC settings, a probability folder that cannot be listed).
pub fn evaluate_lesion_files(
    pred: &Path,
    truth: &Path,
    options: &LesionEvalOptions,
    on_case: impl Fn(usize, usize) + Sync,
) -> Result<LesionEvaluationSet, EvalError> {
    options.eval.validate()?;
    check_size_bins(&options.size_bins)?;
    let probability_maps = match &options.probabilities {
        Some(path) => {
            options.froc.validate()?;
            if path.is_dir() != pred.is_dir() {
                return Err(EvalError::Froc(format!(
                    "{}: give a probability folder with prediction folders, a file with files",
                    path.display()
                )));
            }
            Some((path, probability_files(path)?))
        }
        None => None,
    };
    let crate::Pairing { pairs, unmatched } = pair_inputs(pred, truth)?;
    let (scored, failures) = crate::pairing::score_pairs(&pairs, unmatched, on_case, |pair| {
        let prob = match &probability_maps {
            None => None,
            Some((dir, files)) if dir.is_dir() => {
                Some(files.get(&pair.name).map(PathBuf::as_path).ok_or_else(|| {
                    EvalError::Froc(format!(
                        "{}: no probability map named `{}` in {}",
                        pair.pred.display(),
                        pair.name,
                        dir.display()
                    ))
                })?)
            }
            Some((file, _)) => Some(file.as_path()),
        };
        evaluate_case_lesions(&pair.pred, &pair.truth, prob, options)
    });
    let results = scored
        .into_iter()
        .map(|(name, labels)| LesionCaseResult { name, labels })
        .collect();
    let mut set = LesionEvaluationSet::from_cases(results, options)?;
    set.failures = failures;
    Ok(set)
}

impl LesionEvaluationSet {
    /// The set of scored cases (from [`evaluate_case_lesions`] or [`lesions_of_maps`]): every
    /// case gets every label of the set (a label absent from a case: no lesions there), and
    /// with detections, the FROC of each label.
    ///
    /// # Errors
    /// Bad size bins; [`EvalError::Froc`] for bad FROC rates or a NaN score.
    pub fn from_cases(
        mut results: Vec<LesionCaseResult>,
        options: &LesionEvalOptions,
    ) -> Result<Self, EvalError> {
        check_size_bins(&options.size_bins)?;
        complete_labels(&mut results, &options.size_bins, options.size_unit);
        let froc = set_froc(&results, options)?;
        Ok(LesionEvaluationSet {
            results,
            failures: Vec::new(),
            options: options.clone(),
            froc,
        })
    }
}

/// Size-bin edges must be finite and positive (checked first, so the order test sees no NaN),
/// then ascending.
fn check_size_bins(bins: &[f64]) -> Result<(), EvalError> {
    if bins.iter().any(|v| !(v.is_finite() && *v > 0.0)) || bins.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EvalError::SizeBins(bins.to_vec()));
    }
    Ok(())
}

fn complete_labels(results: &mut [LesionCaseResult], size_bins: &[f64], unit: SizeUnit) {
    let all: Vec<u32> = {
        let mut v: Vec<u32> = results
            .iter()
            .flat_map(|r| r.labels.iter().map(|l| l.label))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for r in results.iter_mut() {
        for &label in &all {
            if !r.labels.iter().any(|l| l.label == label) {
                let mut l = LabelLesions::empty(label, size_bins, unit);
                l.cases = 1;
                r.labels.push(l);
            }
        }
        r.labels.sort_by_key(|l| l.label);
    }
}

/// Per label, the FROC over the cases that have detections for it (a case without a label's
/// channel is a failure, so every scored case counts as an image).
fn set_froc(
    results: &[LesionCaseResult],
    options: &LesionEvalOptions,
) -> Result<Vec<LabelFroc>, EvalError> {
    let mut by_label: BTreeMap<u32, Vec<&CaseDetections>> = BTreeMap::new();
    for r in results {
        for l in &r.labels {
            if let Some(d) = &l.detections {
                by_label.entry(l.label).or_default().push(d);
            }
        }
    }
    let bins = if options.size_bins.is_empty() {
        0
    } else {
        options.size_bins.len() + 1
    };
    by_label
        .into_iter()
        .map(|(label, cases)| {
            label_froc(label, &cases, bins, &options.froc)
                .map_err(|e| EvalError::Froc(e.to_string()))
        })
        .collect()
}

fn fmt(v: Option<f64>) -> String {
    match v {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

impl LesionEvaluationSet {
    /// Per label, the counts summed over the cases.
    pub fn aggregates(&self) -> BTreeMap<u32, LabelLesions> {
        let mut out: BTreeMap<u32, LabelLesions> = BTreeMap::new();
        for r in &self.results {
            for l in &r.labels {
                out.entry(l.label)
                    .or_insert_with(|| {
                        LabelLesions::empty(
                            l.label,
                            &self.options.size_bins,
                            self.options.size_unit,
                        )
                    })
                    .add(l);
            }
        }
        out
    }

    /// A table per case and label, the totals per label, and the size bins of the totals.
    pub fn table(&self) -> String {
        let head = [
            "case",
            "label",
            "ref",
            "pred",
            "found",
            "missed",
            "false",
            "recall",
            "precision",
            "F1",
            "PQ",
            "lesion Dice",
        ];
        let row = |case: &str, l: &LabelLesions| -> Vec<String> {
            vec![
                case.to_string(),
                l.label.to_string(),
                l.reference.to_string(),
                l.predicted.to_string(),
                l.found.to_string(),
                l.missed.to_string(),
                l.false_positives.to_string(),
                fmt(l.recall()),
                fmt(l.precision()),
                fmt(l.f1()),
                fmt(l.panoptic_quality().map(|q| q.0)),
                fmt(l.mean_lesion_dice()),
            ]
        };
        let mut rows: Vec<Vec<String>> = Vec::new();
        for r in &self.results {
            for l in &r.labels {
                rows.push(row(&r.name, l));
            }
        }
        let agg = self.aggregates();
        for l in agg.values() {
            rows.push(row("(all cases)", l));
        }
        let mut text = render(&head, &rows);
        if !self.options.size_bins.is_empty() {
            let head = ["label", "size", "ref", "found", "missed", "recall", "false"];
            let mut rows = Vec::new();
            for l in agg.values() {
                for b in &l.bins {
                    rows.push(vec![
                        l.label.to_string(),
                        b.name(),
                        b.reference.to_string(),
                        b.found.to_string(),
                        b.missed.to_string(),
                        fmt((b.reference > 0).then(|| b.found as f64 / b.reference as f64)),
                        b.false_positives.to_string(),
                    ]);
                }
            }
            text.push_str("\nBy lesion size (all cases; false positives by their own size):\n");
            text.push_str(&render(&head, &rows));
        }
        let agg_fp: Vec<String> = agg
            .values()
            .map(|l| format!("label {}: {:.2}", l.label, l.false_positives_per_image()))
            .collect();
        if !agg_fp.is_empty() {
            text.push_str(&format!(
                "\nFalse positives per image: {}\n",
                agg_fp.join(", ")
            ));
        }
        if !self.froc.is_empty() {
            let f = &self.options.froc;
            let rates: Vec<String> = f.fp_rates.iter().map(|r| rate_name(*r)).collect();
            let mut head = vec!["label", "size", "lesions", "images", "FROC score"];
            head.extend(rates.iter().map(String::as_str));
            let mut rows = Vec::new();
            for (size, lf, froc) in self.froc_rows() {
                let mut row = vec![
                    lf.label.to_string(),
                    size,
                    froc.curve.n_lesions.to_string(),
                    froc.curve.n_images.to_string(),
                    fmt(finite(froc.score)),
                ];
                row.extend(froc.sensitivity_at_rates.iter().map(|&v| fmt(finite(v))));
                rows.push(row);
            }
            text.push_str(&format!(
                "\nFROC ({} convention; candidates: {}): lesion sensitivity at each rate of false positives per image, the score their mean:\n",
                froc_convention_name(f.convention),
                f.candidates.describe()
            ));
            text.push_str(&render(&head, &rows));
        }
        text
    }

    /// `(size bin name, label FROC, FROC)` of every label: all lesions ("all"), then each bin
    /// with lesions.
    pub fn froc_rows(&self) -> Vec<(String, &LabelFroc, &dicekit_metrics::Froc)> {
        let names: Vec<String> =
            LabelLesions::empty(0, &self.options.size_bins, self.options.size_unit)
                .bins
                .iter()
                .map(SizeBin::name)
                .collect();
        let mut out = Vec::new();
        for lf in &self.froc {
            out.push(("all".to_string(), lf, &lf.all));
            for (name, f) in names.iter().zip(&lf.bins) {
                if let Some(f) = f {
                    out.push((name.clone(), lf, f));
                }
            }
        }
        out
    }

    /// One JSON object per case x label x size bin x quantity (`size_bin` "all" for the
    /// whole label), then the `(all cases)` rows.
    pub fn json_rows(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let mut out = Vec::new();
        let mut push = |case: &str, l: &LabelLesions| {
            for (name, v) in l.quantities() {
                out.push(json!({"case": case, "label": l.label, "size_bin": "all", "metric": name, "value": v}));
            }
            for b in &l.bins {
                let recall = (b.reference > 0).then(|| b.found as f64 / b.reference as f64);
                for (name, v) in [
                    ("reference_lesions", Some(b.reference as f64)),
                    ("found", Some(b.found as f64)),
                    ("missed", Some(b.missed as f64)),
                    ("recall", recall),
                    ("false_positives", Some(b.false_positives as f64)),
                ] {
                    out.push(json!({"case": case, "label": l.label, "size_bin": b.name(), "metric": name, "value": v}));
                }
            }
        };
        for r in &self.results {
            for l in &r.labels {
                push(&r.name, l);
            }
        }
        for l in self.aggregates().values() {
            push("(all cases)", l);
        }
        for (size, lf, froc) in self.froc_rows() {
            let mut row = |metric: String, v: Option<f64>| {
                out.push(json!({"case": "(all cases)", "label": lf.label, "size_bin": size, "metric": metric, "value": v}));
            };
            row("froc_lesions".into(), Some(froc.curve.n_lesions as f64));
            row("froc_score".into(), finite(froc.score));
            for (r, v) in froc.fp_rates.iter().zip(&froc.sensitivity_at_rates) {
                row(format!("froc_sensitivity_at_{r}"), finite(*v));
            }
        }
        out
    }

    /// Every lesion of every case and label as CSV: `case,label,side,id,voxels,volume_mm3,
    /// bbox_min,bbox_max,status,matched,dice,iou,best_score` (index lists joined by spaces,
    /// empty cells for undefined values).
    ///
    /// # Errors
    /// [`EvalError::Write`] if the CSV writer fails.
    pub fn lesion_list_csv(&self) -> Result<String, EvalError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let write_err = |e: csv::Error| EvalError::Write(e.to_string());
        w.write_record([
            "case",
            "label",
            "side",
            "id",
            "voxels",
            "volume_mm3",
            "bbox_min",
            "bbox_max",
            "status",
            "matched",
            "dice",
            "iou",
            "best_score",
        ])
        .map_err(write_err)?;
        let join = |v: &[usize]| {
            v.iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        for r in &self.results {
            for l in &r.labels {
                for row in &l.list {
                    w.write_record([
                        r.name.clone(),
                        l.label.to_string(),
                        row.side.to_string(),
                        row.id.to_string(),
                        row.voxels.to_string(),
                        row.volume_mm3.to_string(),
                        join(&row.bbox.0),
                        join(&row.bbox.1),
                        row.status.to_string(),
                        row.matched
                            .iter()
                            .map(|i| i.to_string())
                            .collect::<Vec<_>>()
                            .join(" "),
                        opt(row.dice),
                        opt(row.iou),
                        opt(row.best_score),
                    ])
                    .map_err(write_err)?;
                }
            }
        }
        let bytes = w
            .into_inner()
            .map_err(|e| EvalError::Write(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| EvalError::Write(e.to_string()))
    }

    /// The rows of [`json_rows`](Self::json_rows) as CSV, with a header.
    ///
    /// # Errors
    /// [`EvalError::Write`] if the CSV writer fails.
    pub fn csv_rows(&self) -> Result<String, EvalError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let write_err = |e: csv::Error| EvalError::Write(e.to_string());
        w.write_record(["case", "label", "size_bin", "metric", "value"])
            .map_err(write_err)?;
        for r in self.json_rows() {
            let s = |k: &str| match &r[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            };
            w.write_record([
                s("case"),
                s("label"),
                s("size_bin"),
                s("metric"),
                s("value"),
            ])
            .map_err(write_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| EvalError::Write(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| EvalError::Write(e.to_string()))
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Left-aligned columns padded to their widest cell.
pub(crate) fn render(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .zip(&width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(head.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_partition_the_sizes() {
        let l = LabelLesions::empty(1, &[10.0, 100.0], SizeUnit::Mm3);
        let names: Vec<String> = l.bins.iter().map(SizeBin::name).collect();
        assert_eq!(names, ["[0, 10) mm3", "[10, 100) mm3", ">= 100 mm3"]);
        assert!(
            LabelLesions::empty(1, &[], SizeUnit::Voxels)
                .bins
                .is_empty()
        );
    }

    #[test]
    fn maps_in_memory_refuse_other_shapes_and_bad_spacings() {
        let a = ndarray::ArrayD::<u8>::zeros(ndarray::IxDyn(&[4, 5]));
        let b = ndarray::ArrayD::<u8>::zeros(ndarray::IxDyn(&[5, 4]));
        let o = LesionEvalOptions::default();
        let e = lesions_of_maps(&a.view(), &b.view(), &[1.0, 1.0], None, &o, "c").unwrap_err();
        assert!(e.to_string().contains("shape"), "{e}");
        for spacing in [&[1.0][..], &[1.0, 0.0], &[1.0, f64::NAN]] {
            let e = lesions_of_maps(&a.view(), &a.view(), spacing, None, &o, "c").unwrap_err();
            assert!(e.to_string().contains("spacing"), "{e}");
        }
        assert!(lesions_of_maps(&a.view(), &a.view(), &[0.5, 2.0], None, &o, "c").is_ok());
    }
}
