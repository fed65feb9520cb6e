//! The BraTS 2025 lesion-wise evaluation: BraTS_evaluation 0.0.10 (the BraTS 2025/2026
//! evaluator, built on panoptica 2.1.7) and its two CSV parsers.
//!
//! The evaluator runs panoptica on each label group of a task ([`BratsTask::groups`]): the
//! binary mask of the group's labels, connected components as panoptica forms them
//! (4-connectivity in 2D, 26 in 3D), one-to-one matching maximising the total Dice over pairs
//! with any overlap ([`BRATS2025_MATCHING`]), and per-pair Dice, NSD and HD95 with panoptica's
//! geometry. [`Brats2025Parser`] then reads the summary as `parse_seg_results` or
//! `parse_mets_results` does.
use ndarray::{ArrayD, ArrayViewD};
use serde::{Deserialize, Serialize};

use super::matching::{Lesions, MatchingRule, PairMetric};
use super::metrics::{LesionEvaluation, LesionOptions};
use crate::error::check_shapes;
use crate::{Connectivity, MetricError, ScanOrder};

/// The matcher of every bundled BraTS_evaluation 0.0.10 config:
/// `MaxBipartiteMatching(Metric.DSC, 1e-6)`, i.e. one-to-one, maximising the total Dice, any
/// overlapping pair a candidate.
pub const BRATS2025_MATCHING: MatchingRule = MatchingRule::Bipartite {
    metric: PairMetric::Dice,
    threshold: 1e-6,
};

/// The penalty (mm) the BraTS 2025 parsers put in place of an infinite or missing HD95: "the
/// diameter of the cube in SRI space".
pub const BRATS2025_HD95_PENALTY: f64 = 373.0;

/// A named set of labels evaluated as one binary mask (panoptica `LabelGroup` with one label,
/// or `LabelMergeGroup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelGroup {
    /// The group's name, the suffix of the parsers' keys (`et`, `tc`, `wt`, ...).
    pub name: String,
    /// The labels whose union is the group's mask.
    pub labels: Vec<u32>,
}

impl LabelGroup {
    /// A group of `labels` named `name`.
    pub fn new(name: &str, labels: &[u32]) -> Self {
        LabelGroup {
            name: name.to_string(),
            labels: labels.to_vec(),
        }
    }
}

/// The bundled configs of BraTS_evaluation 0.0.10 (`brats-evaluate --config <name>`). They
/// differ only in their label groups; all match with [`BRATS2025_MATCHING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BratsTask {
    /// `gli` (adult glioma): `netc` {1}, `snfh` {2}, `et` {3}, `rc` {4}, `tc` {1, 3},
    /// `wt` {1, 2, 3}.
    Gli,
    /// `mets` (metastases): `et` {3}, `rc` {4}, `tc` {1, 3}, `wt` {1, 2, 3}.
    Mets,
    /// `ped` (paediatric): `et` {1}, `netc` {2}, `cc` {3}, `ed` {4}, `tc` {1, 2, 3},
    /// `wt` {1, 2, 3, 4}.
    Ped,
    /// `MenRT` (meningioma radiotherapy): `gtv` {1}.
    MenRt,
    /// `MenPre` (pre-operative meningioma): `et` {3}, `tc` {1, 3}, `wt` {1, 2, 3}.
    MenPre,
    /// `GoAT` (generalisability): `et` {3}, `tc` {1, 3}, `wt` {1, 2, 3}.
    GoAt,
}

impl BratsTask {
    /// The config's label groups, in the config file's order.
    pub fn groups(&self) -> Vec<LabelGroup> {
        let g = LabelGroup::new;
        match self {
            BratsTask::Gli => vec![
                g("snfh", &[2]),
                g("et", &[3]),
                g("netc", &[1]),
                g("rc", &[4]),
                g("tc", &[1, 3]),
                g("wt", &[1, 2, 3]),
            ],
            BratsTask::Mets => vec![
                g("et", &[3]),
                g("rc", &[4]),
                g("tc", &[1, 3]),
                g("wt", &[1, 2, 3]),
            ],
            BratsTask::Ped => vec![
                g("et", &[1]),
                g("netc", &[2]),
                g("cc", &[3]),
                g("ed", &[4]),
                g("tc", &[1, 2, 3]),
                g("wt", &[1, 2, 3, 4]),
            ],
            BratsTask::MenRt => vec![g("gtv", &[1])],
            BratsTask::MenPre | BratsTask::GoAt => {
                vec![g("et", &[3]), g("tc", &[1, 3]), g("wt", &[1, 2, 3])]
            }
        }
    }

    /// The config's name as BraTS_evaluation spells it.
    pub fn name(&self) -> &'static str {
        match self {
            BratsTask::Gli => "gli",
            BratsTask::Mets => "mets",
            BratsTask::Ped => "ped",
            BratsTask::MenRt => "MenRT",
            BratsTask::MenPre => "MenPre",
            BratsTask::GoAt => "GoAT",
        }
    }
}

/// The binarised foreground of a map (every non-zero value becomes 1): what the semantic-only
/// BraTS evaluators see of an instance map, so touching instances become one lesion.
pub fn binarised_foreground<T>(map: &ArrayViewD<T>) -> ArrayD<u32>
where
    T: Copy + Into<u32>,
{
    map.mapv(|v| u32::from(Into::<u32>::into(v) != 0))
}

/// Which axis each spacing value is applied to in the per-pair distances.
///
/// `brats-evaluate` hands panoptica 2.1.7 the NIfTI file paths; panoptica reads them with
/// SimpleITK, whose array has the axes reversed (`z, y, x`), but takes the spacing in SimpleITK's
/// `x, y, z` order without reversing it. Every axis therefore gets the spacing of the mirrored
/// axis. Volumes (the product), the NSD tolerance (the smallest spacing) and the global numbers
/// (voxel units) do not change; per-pair HD95 and NSD do, on anisotropic images.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpacingAxes {
    /// `spacing[a]` is the voxel size along axis `a` (panoptica on arrays with `voxelspacing`).
    AsGiven,
    /// `spacing[n - 1 - a]` is used along axis `a`: what BraTS_evaluation 0.0.10 computes from
    /// NIfTI files (the peer's reference values).
    #[default]
    MirroredAsFromFiles,
}

/// One label group's panoptica evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupEvaluation {
    /// The group.
    pub group: LabelGroup,
    /// Its lesion evaluation under [`BRATS2025_MATCHING`], with distances (read it with
    /// [`LesionEvaluation::panoptica`] for `evaluate_single_exam`'s numbers, or with
    /// [`brats2025_results`] for the parsers').
    pub evaluation: LesionEvaluation,
}

/// BraTS_evaluation 0.0.10 `evaluate_single_exam`: every group of `groups` evaluated as
/// panoptica does with the bundled configs: the mask of the group's labels, components with
/// 4-connectivity in 2D and 26 in 3D numbered in `order`, [`BRATS2025_MATCHING`], per-pair
/// Dice, NSD (tolerance the smallest spacing) and HD95 with the spacing, global numbers in
/// voxel units. `spacing` in mm, one value per axis, applied as `axes` says
/// ([`SpacingAxes::MirroredAsFromFiles`] reproduces the peer on NIfTI files).
///
/// # Errors
/// Different shapes, a rank other than 2 or 3, a bad spacing, or a group without labels or
/// with label 0.
pub fn brats2025_evaluate<T>(
    pred: &ArrayViewD<T>,
    reference: &ArrayViewD<T>,
    groups: &[LabelGroup],
    spacing: &[f64],
    axes: SpacingAxes,
    order: ScanOrder,
) -> Result<Vec<GroupEvaluation>, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    check_shapes(pred.shape(), reference.shape())?;
    let connectivity = match pred.ndim() {
        2 => Connectivity::Four,
        3 => Connectivity::TwentySix,
        n => return Err(MetricError::UnsupportedRank(n)),
    };
    let mut spacing = spacing.to_vec();
    if axes == SpacingAxes::MirroredAsFromFiles {
        spacing.reverse();
    }
    let options = LesionOptions::new(&spacing);
    groups
        .iter()
        .map(|group| {
            if group.labels.is_empty() || group.labels.contains(&0) {
                return Err(MetricError::BadParameter {
                    name: "label group",
                    value: format!("{} {:?}", group.name, group.labels),
                    expected: "one or more non-zero labels",
                });
            }
            let side = |map: &ArrayViewD<T>| {
                let mask = map.mapv(|v| u8::from(group.labels.contains(&v.into())));
                Lesions::components(&mask.view(), None, connectivity, order)
            };
            let evaluation = LesionEvaluation::new(
                &side(pred)?,
                &side(reference)?,
                BRATS2025_MATCHING,
                &options,
            )?;
            Ok(GroupEvaluation {
                group: group.clone(),
                evaluation,
            })
        })
        .collect()
}

/// How BraTS_evaluation 0.0.10 reads panoptica's summary of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Brats2025Parser {
    /// `parse_seg_results`: the `lesionwise_*` means and population stds are panoptica's
    /// `sq_*`, over matched pairs only, so false positives and misses carry no penalty there
    /// (with no matched pair they take panoptica's zero-TP values: Dice and NSD 0, HD95
    /// infinite; NaN without any lesion). An infinite `global_hd95` becomes
    /// [`BRATS2025_HD95_PENALTY`].
    Seg,
    /// `parse_mets_results(vol_threshold, overlap_threshold)` (CLI defaults 20 mm^3 and 0.1):
    /// reference lesions with volume `>= vol_threshold_mm3` are large. The `lesionwise_*`
    /// lists hold every large reference lesion (matched: its pair's Dice, NSD and HD95;
    /// unmatched: 0, 0 and 373) and one entry (0, 0, 373) per false positive of any size;
    /// their mean and population std are reported, NaN when there is no reference lesion or no
    /// large one (infinite HD95 values are left out of the HD95 mean). Detection by size: a
    /// large lesion is a TP when matched with Dice `>= overlap_threshold`, otherwise an FN; a
    /// small one likewise, and enters no mean (only detection). Both
    /// size classes are charged every false positive. `large_instance_*` is NaN without a
    /// large lesion and `small_instance_*` without a small one; precision, recall and F1 are 0
    /// where their denominator is 0.
    Mets {
        /// Volume (mm^3) from which a reference lesion is large.
        vol_threshold_mm3: f64,
        /// Dice a matched lesion needs to be detected.
        overlap_threshold: f64,
    },
}

impl Brats2025Parser {
    /// `parse_mets_results` with the CLI defaults (20 mm^3, Dice 0.1).
    pub const METS_DEFAULT: Brats2025Parser = Brats2025Parser::Mets {
        vol_threshold_mm3: 20.0,
        overlap_threshold: 0.1,
    };
}

/// Detection counts and rates of one lesion class (NaN where the peer writes NaN).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DetectionCounts {
    /// True positives.
    pub tp: f64,
    /// False positives.
    pub fp: f64,
    /// False negatives.
    pub fn_: f64,
    /// Precision.
    pub prec: f64,
    /// Recall.
    pub rec: f64,
    /// F1 (for `all_instance`: panoptica's RQ, the same number).
    pub f1: f64,
}

impl DetectionCounts {
    const NAN: DetectionCounts = DetectionCounts {
        tp: f64::NAN,
        fp: f64::NAN,
        fn_: f64::NAN,
        prec: f64::NAN,
        rec: f64::NAN,
        f1: f64::NAN,
    };

    /// The mets parser's rates: 0 where a denominator is 0.
    fn counted(tp: usize, fp: usize, fn_: usize) -> Self {
        let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        DetectionCounts {
            tp: tp as f64,
            fp: fp as f64,
            fn_: fn_ as f64,
            prec: ratio(tp, tp + fp),
            rec: ratio(tp, tp + fn_),
            f1: ratio(2 * tp, 2 * tp + fp + fn_),
        }
    }
}

/// A mean and its population standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
}

impl MeanStd {
    const NAN: MeanStd = MeanStd {
        mean: f64::NAN,
        std: f64::NAN,
    };

    /// Mean and population std; `empty` when there is no value.
    fn of(values: &[f64], empty: MeanStd) -> Self {
        if values.is_empty() {
            return empty;
        }
        let (mean, std) = super::numpy::mean_std(values);
        MeanStd { mean, std }
    }
}

/// One group's row of a BraTS_evaluation 0.0.10 parser (see [`Brats2025Parser`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brats2025Results {
    /// `all_instance_*`: panoptica's `tp`, `fp`, `fn`, `prec`, `rec` (NaN where panoptica
    /// could not compute them) and `rq` as F1.
    pub all_instance: DetectionCounts,
    /// `large_instance_*` (mets parser only).
    pub large_instance: Option<DetectionCounts>,
    /// `small_instance_*` (mets parser only).
    pub small_instance: Option<DetectionCounts>,
    /// `lesionwise_dsc_{mean,std}`.
    pub lesionwise_dsc: MeanStd,
    /// `lesionwise_nsd_{mean,std}`.
    pub lesionwise_nsd: MeanStd,
    /// `lesionwise_hd95_{mean,std}`, mm.
    pub lesionwise_hd95: MeanStd,
    /// `global_dsc`: Dice of the binary masks.
    pub global_dsc: f64,
    /// `global_nsd`: panoptica's NSD of the binary masks in voxel units.
    pub global_nsd: f64,
    /// `global_hd95`: pooled HD95 of the binary masks in voxels, infinite replaced by 373.
    pub global_hd95: f64,
}

impl Brats2025Results {
    /// The values under the parser's CSV column names for group `group`
    /// (`all_instance_tp_<group>`, ...).
    pub fn entries(&self, group: &str) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let mut push = |k: &str, v: f64| out.push((format!("{k}_{group}"), v));
        let det = |push: &mut dyn FnMut(&str, f64), class: &str, d: &DetectionCounts| {
            push(&format!("{class}_instance_tp"), d.tp);
            push(&format!("{class}_instance_fp"), d.fp);
            push(&format!("{class}_instance_fn"), d.fn_);
            push(&format!("{class}_instance_prec"), d.prec);
            push(&format!("{class}_instance_rec"), d.rec);
            push(&format!("{class}_instance_f1"), d.f1);
        };
        det(&mut push, "all", &self.all_instance);
        if let Some(d) = &self.large_instance {
            det(&mut push, "large", d);
        }
        if let Some(d) = &self.small_instance {
            det(&mut push, "small", d);
        }
        for (k, m) in [
            ("dsc", self.lesionwise_dsc),
            ("nsd", self.lesionwise_nsd),
            ("hd95", self.lesionwise_hd95),
        ] {
            push(&format!("lesionwise_{k}_mean"), m.mean);
            push(&format!("lesionwise_{k}_std"), m.std);
        }
        push("global_dsc", self.global_dsc);
        push("global_nsd", self.global_nsd);
        push("global_hd95", self.global_hd95);
        out
    }
}

/// One group's parser row from its evaluation (made by [`brats2025_evaluate`], or any
/// [`LesionEvaluation`] with distances).
///
/// # Errors
/// The evaluation lacks distances, or the mets thresholds are not finite.
pub fn brats2025_results(
    ev: &LesionEvaluation,
    parser: Brats2025Parser,
) -> Result<Brats2025Results, MetricError> {
    let s = ev.panoptica();
    let (Some(sq_nsd), Some(sq_hd95)) = (s.sq_nsd, s.sq_hd95) else {
        return Err(MetricError::BadParameter {
            name: "evaluation",
            value: "without distances".into(),
            expected: "a lesion evaluation with distances (LesionOptions::distances)",
        });
    };
    let global = s.global_bin_distances;
    let global_hd95 = global.map_or(f64::NAN, |d| d.hd95);
    let all_instance = DetectionCounts {
        tp: s.tp as f64,
        fp: s.fp as f64,
        fn_: s.fn_ as f64,
        prec: s.prec.unwrap_or(f64::NAN),
        rec: s.rec.unwrap_or(f64::NAN),
        f1: s.rq,
    };
    let mut out = Brats2025Results {
        all_instance,
        large_instance: None,
        small_instance: None,
        lesionwise_dsc: MeanStd {
            mean: s.sq_dsc,
            std: s.sq_dsc_std,
        },
        lesionwise_nsd: MeanStd {
            mean: sq_nsd.0,
            std: sq_nsd.1,
        },
        lesionwise_hd95: MeanStd {
            mean: sq_hd95.0,
            std: sq_hd95.1,
        },
        global_dsc: s.global_bin_dsc,
        global_nsd: global.map_or(f64::NAN, |d| d.nsd),
        global_hd95: if global_hd95.is_infinite() {
            BRATS2025_HD95_PENALTY
        } else {
            global_hd95
        },
    };
    let Brats2025Parser::Mets {
        vol_threshold_mm3,
        overlap_threshold,
    } = parser
    else {
        return Ok(out);
    };
    if !(vol_threshold_mm3.is_finite() && overlap_threshold.is_finite()) {
        return Err(MetricError::BadParameter {
            name: "mets thresholds",
            value: format!("{vol_threshold_mm3}, {overlap_threshold}"),
            expected: "finite volume and Dice thresholds",
        });
    }
    let (mut dsc, mut nsd, mut hd95) = (Vec::new(), Vec::new(), Vec::new());
    let (mut small_tp, mut small_fn, mut large_tp, mut large_fn) = (0, 0, 0, 0);
    let (mut any_small, mut any_large) = (false, false);
    for row in &ev.rows {
        let large = row.volume_mm3 >= vol_threshold_mm3;
        any_large |= large;
        any_small |= !large;
        match row.pair.map(|i| &ev.pairs[i]) {
            Some(p) => {
                let hit = p.dice >= overlap_threshold;
                if large {
                    let d = p.distances.ok_or(MetricError::BadParameter {
                        name: "evaluation",
                        value: "a matched pair without distances".into(),
                        expected: "distances for every matched pair",
                    })?;
                    dsc.push(p.dice);
                    nsd.push(d.nsd);
                    hd95.push(d.hd95);
                    if hit { large_tp += 1 } else { large_fn += 1 }
                } else if hit {
                    small_tp += 1;
                } else {
                    small_fn += 1;
                }
            }
            None if large => {
                large_fn += 1;
                dsc.push(0.0);
                nsd.push(0.0);
                hd95.push(BRATS2025_HD95_PENALTY);
            }
            None => small_fn += 1,
        }
    }
    let fp = s.fp;
    dsc.extend(std::iter::repeat_n(0.0, fp));
    nsd.extend(std::iter::repeat_n(0.0, fp));
    hd95.extend(std::iter::repeat_n(BRATS2025_HD95_PENALTY, fp));
    out.large_instance = Some(if any_large {
        DetectionCounts::counted(large_tp, fp, large_fn)
    } else {
        DetectionCounts::NAN
    });
    out.small_instance = Some(if any_small {
        DetectionCounts::counted(small_tp, fp, small_fn)
    } else {
        DetectionCounts::NAN
    });
    if s.n_ref_instances == 0 || !any_large {
        out.lesionwise_dsc = MeanStd::NAN;
        out.lesionwise_nsd = MeanStd::NAN;
        out.lesionwise_hd95 = MeanStd::NAN;
    } else {
        let zero = MeanStd {
            mean: 0.0,
            std: 0.0,
        };
        let finite: Vec<f64> = hd95.into_iter().filter(|v| !v.is_infinite()).collect();
        out.lesionwise_dsc = MeanStd::of(&dsc, zero);
        out.lesionwise_nsd = MeanStd::of(&nsd, zero);
        out.lesionwise_hd95 = MeanStd::of(
            &finite,
            MeanStd {
                mean: BRATS2025_HD95_PENALTY,
                std: 0.0,
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    fn cube(map: &mut ArrayD<u32>, at: [usize; 3], side: usize, v: u32) {
        for i in 0..side {
            for j in 0..side {
                for k in 0..side {
                    map[[at[0] + i, at[1] + j, at[2] + k]] = v;
                }
            }
        }
    }

    /// One large lesion found exactly, one large lesion missed, one small lesion found, one
    /// false positive: the mets parser's penalties and size split by hand.
    #[test]
    fn mets_parser_by_hand() {
        let mut g = ArrayD::<u32>::zeros(vec![20, 20, 20]);
        cube(&mut g, [1, 1, 1], 3, 1); // 27 mm^3, found exactly
        cube(&mut g, [10, 10, 10], 3, 1); // 27 mm^3, missed
        cube(&mut g, [1, 10, 1], 2, 1); // 8 mm^3, found exactly
        let mut p = g.clone();
        cube(&mut p, [10, 10, 10], 3, 0);
        cube(&mut p, [15, 1, 15], 2, 1); // false positive
        let groups = BratsTask::MenRt.groups();
        let ev = brats2025_evaluate(
            &p.view(),
            &g.view(),
            &groups,
            &[1.0; 3],
            SpacingAxes::AsGiven,
            ScanOrder::RowMajor,
        )
        .unwrap();
        let e = &ev[0].evaluation;
        let seg = brats2025_results(e, Brats2025Parser::Seg).unwrap();
        assert_eq!(
            (
                seg.all_instance.tp,
                seg.all_instance.fp,
                seg.all_instance.fn_
            ),
            (2.0, 1.0, 1.0)
        );
        assert_eq!(seg.lesionwise_dsc.mean, 1.0);
        assert_eq!(seg.lesionwise_hd95.mean, 0.0);
        let mets = brats2025_results(e, Brats2025Parser::METS_DEFAULT).unwrap();
        // Large: [1 (found), 0 (missed)] plus one 0 for the false positive.
        assert!((mets.lesionwise_dsc.mean - 1.0 / 3.0).abs() < 1e-12);
        assert!((mets.lesionwise_hd95.mean - 2.0 * 373.0 / 3.0).abs() < 1e-9);
        assert!((mets.lesionwise_nsd.mean - 1.0 / 3.0).abs() < 1e-12);
        let large = mets.large_instance.unwrap();
        assert_eq!((large.tp, large.fp, large.fn_), (1.0, 1.0, 1.0));
        let small = mets.small_instance.unwrap();
        assert_eq!((small.tp, small.fp, small.fn_), (1.0, 1.0, 0.0));
        assert_eq!(small.prec, 0.5);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = ArrayD::<u32>::zeros(vec![4, 4, 4]);
        let b = ArrayD::<u32>::zeros(vec![4, 4, 5]);
        let run = |p: &ArrayD<u32>, g: &ArrayD<u32>, groups: &[LabelGroup]| {
            brats2025_evaluate(
                &p.view(),
                &g.view(),
                groups,
                &[1.0; 3],
                SpacingAxes::AsGiven,
                ScanOrder::RowMajor,
            )
        };
        assert!(run(&a, &b, &BratsTask::Gli.groups()).is_err());
        assert!(run(&a, &a, &[LabelGroup::new("x", &[0, 1])]).is_err());
        assert!(run(&a, &a, &[LabelGroup::new("x", &[])]).is_err());
        let ok = run(&a, &a, &BratsTask::Gli.groups()).unwrap();
        assert_eq!(ok.len(), 6);
        let bad = Brats2025Parser::Mets {
            vol_threshold_mm3: f64::NAN,
            overlap_threshold: 0.1,
        };
        assert!(brats2025_results(&ok[0].evaluation, bad).is_err());
        // Both empty: NaN everywhere the parsers write NaN.
        let r = brats2025_results(&ok[0].evaluation, Brats2025Parser::METS_DEFAULT).unwrap();
        assert!(r.lesionwise_dsc.mean.is_nan() && r.global_dsc.is_nan());
        assert!(r.large_instance.unwrap().tp.is_nan());
        // An evaluation with a matched pair but without distances cannot be parsed.
        let mut one = a.clone();
        one[[1, 1, 1]] = 1;
        let l = Lesions::components(
            &one.view(),
            None,
            Connectivity::TwentySix,
            ScanOrder::RowMajor,
        )
        .unwrap();
        let mut o = LesionOptions::new(&[1.0; 3]);
        o.distances = false;
        let nd = LesionEvaluation::new(&l, &l, BRATS2025_MATCHING, &o).unwrap();
        assert!(brats2025_results(&nd, Brats2025Parser::Seg).is_err());
    }

    #[test]
    fn binarised_foreground_merges_instances() {
        let m = ndarray::array![[0u32, 3, 4], [0, 0, 7]].into_dyn();
        assert_eq!(
            binarised_foreground(&m.view()),
            ndarray::array![[0u32, 1, 1], [0, 0, 1]].into_dyn()
        );
    }
}
