//! Lesion-wise metrics from one [`Matching`]: detection counts, panoptic quality, per-pair
//! overlap and surface distances, and per-lesion rows, under each peer's convention.
use std::collections::HashMap;

use ndarray::{ArrayD, ArrayViewD, Slice};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::matching::{Lesions, Matching, MatchingRule, overlaps};
use crate::error::{check_shapes, check_spacing};
use crate::{Boundary, MetricError, Percentile, SurfaceDistances, SurfaceMean};

/// Whose definitions of the lesion-wise summary numbers are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LesionConvention {
    /// panoptica 2.1.7 (`PanopticaResult`): `tp` = matched reference lesions,
    /// `fp = n_pred - tp` with `n_pred` counted after merging the predictions matched to one
    /// reference lesion (so `fp` = unmatched predictions), `fn = n_ref - tp`;
    /// `prec = tp / (tp + fp)` and `rec = tp / (tp + fn)`, not computable (missing) when the
    /// denominator is 0; `rq = tp / (tp + fp/2 + fn/2)`, 0 when `tp = 0` and there are lesions,
    /// NaN when there are none; `sq` = mean IoU of the matched pairs, `sq_dsc` mean Dice, and
    /// the other `sq_*` means over matched pairs (population std in `*_std`); `pq = sq * rq`,
    /// `pq_dsc = sq_dsc * rq`. With `tp = 0` the means take the zero-TP values: IoU and Dice 0,
    /// ASSD, HD and HD95 infinite, NSD 0, RVD NaN (all NaN when there is no lesion at all),
    /// every std NaN.
    Panoptica,
    /// MONAI 1.6.1 `compute_panoptic_quality`: `rq = tp / (tp + fp/2 + fn/2 + 1e-6)`,
    /// `sq = iou_sum / (tp + 1e-6)`, `pq = iou_sum / (tp + fp/2 + fn/2 + 1e-6)`, so empty
    /// inputs give 0, never NaN.
    Monai,
}

/// Surface distances of one matched pair, with panoptica's per-pair geometry: both masks
/// cropped to their joint bounding box plus 2 voxels, the boundary `mask XOR erosion(mask,
/// cross)` (outside the image is background: [`Boundary::Faces`]), exact Euclidean distances
/// with the spacing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairDistances {
    /// `(mean d(G->P) + mean d(P->G)) / 2`, mm (the mean of the two directed means).
    pub assd: f64,
    /// The larger directed maximum, mm.
    pub hd: f64,
    /// The 95th percentile of both directions' distances pooled, linear interpolation (MedPy,
    /// panoptica), mm.
    pub hd95: f64,
    /// panoptica's normalized surface Dice at the tolerance: the mean of the two directed
    /// fractions of boundary voxels within the tolerance of the other boundary,
    /// `(f(G->P) + f(P->G)) / 2` (each boundary voxel weight 1; not the surfel NSD of
    /// Nikolov et al.).
    pub nsd: f64,
}

impl PairDistances {
    fn from_surface(d: &SurfaceDistances, tolerance: f64) -> Option<Self> {
        d.empty_side().is_none().then(|| {
            let within = |v: &[(f64, f64)]| {
                v.iter().filter(|x| x.0 <= tolerance).count() as f64 / v.len() as f64
            };
            PairDistances {
                assd: d
                    .average_surface_distance(SurfaceMean::MeanOfMeans)
                    .value()
                    .unwrap_or(f64::NAN),
                hd: d.hausdorff().value().unwrap_or(f64::NAN),
                hd95: d
                    .hausdorff_percentile(95.0, Percentile::PooledLinear)
                    .value()
                    .unwrap_or(f64::NAN),
                nsd: 0.5 * (within(&d.truth_to_pred) + within(&d.pred_to_truth)),
            }
        })
    }
}

/// The scores of one matched reference lesion against the prediction(s) matched to it (their
/// union when several are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScores {
    /// Reference lesion id.
    pub reference: u32,
    /// Prediction ids matched to it, ascending.
    pub preds: Vec<u32>,
    /// Voxels of the reference lesion.
    pub reference_voxels: u64,
    /// Voxels of the matched prediction(s).
    pub pred_voxels: u64,
    /// Voxels in both.
    pub intersection: u64,
    /// Intersection over union.
    pub iou: f64,
    /// Dice.
    pub dice: f64,
    /// Relative volume difference `(|P| - |G|) / |G|` (panoptica's RVD).
    pub rvd: f64,
    /// Surface distances, when asked for.
    pub distances: Option<PairDistances>,
}

/// One reference lesion: its size and whether it was matched (panoptica's
/// `reference_instances` rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionRow {
    /// Reference lesion id.
    pub reference: u32,
    /// Voxels.
    pub voxels: u64,
    /// Volume in mm^3 (voxels times the voxel volume).
    pub volume_mm3: f64,
    /// Index into [`LesionEvaluation::pairs`] when matched.
    pub pair: Option<usize>,
}

/// Voxel-wise numbers of the two binary masks (all lesions together): panoptica's
/// `global_bin_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalBinary {
    /// Foreground voxels of the prediction.
    pub pred_voxels: u64,
    /// Foreground voxels of the reference.
    pub reference_voxels: u64,
    /// Voxels in both.
    pub intersection: u64,
    /// Distances between the binary masks in voxel units (spacing ignored, as panoptica's
    /// `global_bin_*` do; NSD tolerance 0.5 voxel); `None` when not asked for or when the masks
    /// do not overlap (panoptica then reports its zero-TP values).
    pub distances: Option<PairDistances>,
}

/// Options of [`LesionEvaluation::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionOptions {
    /// Voxel size in mm per axis.
    pub spacing: Vec<f64>,
    /// Compute per-pair (and global) surface distances.
    pub distances: bool,
    /// NSD tolerance in mm; `None`: the smallest spacing (panoptica's default).
    pub nsd_tolerance_mm: Option<f64>,
}

impl LesionOptions {
    /// Distances on, panoptica's NSD tolerance.
    pub fn new(spacing: &[f64]) -> Self {
        LesionOptions {
            spacing: spacing.to_vec(),
            distances: true,
            nsd_tolerance_mm: None,
        }
    }
}

/// Everything lesion-wise about one (prediction, reference) pair under one matching rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionEvaluation {
    /// The matching (pairs, unmatched lesions, splits and merges).
    pub matching: Matching,
    /// One entry per matched reference lesion, ascending by reference id.
    pub pairs: Vec<PairScores>,
    /// One row per reference lesion, ascending by id.
    pub rows: Vec<LesionRow>,
    /// The binary masks' voxel-wise numbers.
    pub global: GlobalBinary,
}

/// The panoptic quality triple.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PanopticQuality {
    /// Panoptic quality, `sq * rq`.
    pub pq: f64,
    /// Segmentation quality: mean IoU of the matched pairs.
    pub sq: f64,
    /// Recognition quality: an F1 of the detection.
    pub rq: f64,
}

impl LesionEvaluation {
    /// Matches `pred` to `reference` under `rule` and scores every matched pair.
    ///
    /// # Errors
    /// Different shapes, a spacing that is not one finite positive value per axis, a rank
    /// other than 2 or 3, a threshold outside [0, 1], a tolerance that is not finite and
    /// >= 0, or ids missing from the lesion lists.
    pub fn new(
        pred: &Lesions,
        reference: &Lesions,
        rule: MatchingRule,
        options: &LesionOptions,
    ) -> Result<Self, MetricError> {
        check_shapes(pred.ids.shape(), reference.ids.shape())?;
        let nd = pred.ids.ndim();
        if !(2..=3).contains(&nd) {
            return Err(MetricError::UnsupportedRank(nd));
        }
        check_spacing(&options.spacing, nd)?;
        let tolerance = match options.nsd_tolerance_mm {
            Some(t) if !(t.is_finite() && t >= 0.0) => {
                return Err(MetricError::BadParameter {
                    name: "nsd_tolerance_mm",
                    value: t.to_string(),
                    expected: "a finite tolerance >= 0",
                });
            }
            Some(t) => t,
            None => options
                .spacing
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min),
        };
        let table = overlaps(pred, reference)?;
        let matching = Matching::new_checked(pred, reference, &table, rule)?;
        let inter: HashMap<(u32, u32), u64> = table
            .iter()
            .map(|o| ((o.pred, o.reference), o.intersection))
            .collect();
        let shape = pred.ids.shape().to_vec();
        let groups = matching.groups();
        // The matching comes from `overlaps`, which checked every id against its side; a
        // hand-built one may not have been checked.
        let unlisted = |id: u32| MetricError::BadParameter {
            name: "matched lesion id",
            value: id.to_string(),
            expected: "an id listed among the lesions of its side, in an overlapping pair",
        };
        let pairs: Vec<PairScores> = groups
            .par_iter()
            .map(|(r, ps)| {
                let rc = reference.get(*r).ok_or_else(|| unlisted(*r))?;
                let pcs = ps
                    .iter()
                    .map(|p| pred.get(*p).ok_or_else(|| unlisted(*p)))
                    .collect::<Result<Vec<_>, _>>()?;
                let g = rc.voxels;
                let p: u64 = pcs.iter().map(|c| c.voxels).sum();
                let i = ps
                    .iter()
                    .map(|p| inter.get(&(*p, *r)).copied().ok_or_else(|| unlisted(*p)))
                    .sum::<Result<u64, _>>()?;
                let distances = options.distances.then(|| {
                    // Joint box plus 2 voxels, clipped to the image.
                    let mut ranges = rc.bbox.ranges(2, &shape);
                    for c in &pcs {
                        for (a, rg) in c.bbox.ranges(2, &shape).into_iter().enumerate() {
                            ranges[a] = ranges[a].start.min(rg.start)..ranges[a].end.max(rg.end);
                        }
                    }
                    let crop = |ids: &ArrayD<u32>, keep: &dyn Fn(u32) -> bool| -> ArrayD<bool> {
                        ids.slice_each_axis(|ax| Slice::from(ranges[ax.axis.index()].clone()))
                            .mapv(keep)
                    };
                    let pm = crop(&pred.ids, &|v| ps.contains(&v));
                    let gm = crop(&reference.ids, &|v| v == *r);
                    SurfaceDistances::new(&pm.view(), &gm.view(), &options.spacing, Boundary::Faces)
                        .ok()
                        .and_then(|d| PairDistances::from_surface(&d, tolerance))
                });
                Ok(PairScores {
                    reference: *r,
                    preds: ps.clone(),
                    reference_voxels: g,
                    pred_voxels: p,
                    intersection: i,
                    iou: i as f64 / (g + p - i) as f64,
                    dice: 2.0 * i as f64 / (g + p) as f64,
                    rvd: (p as f64 - g as f64) / g as f64,
                    distances: distances.flatten(),
                })
            })
            .collect::<Result<_, MetricError>>()?;
        let voxel_volume: f64 = options.spacing.iter().product();
        let pair_of: HashMap<u32, usize> = pairs
            .iter()
            .enumerate()
            .map(|(k, s)| (s.reference, k))
            .collect();
        let rows = reference
            .lesions
            .iter()
            .map(|c| LesionRow {
                reference: c.id,
                voxels: c.voxels,
                volume_mm3: c.voxels as f64 * voxel_volume,
                pair: pair_of.get(&c.id).copied(),
            })
            .collect();
        let intersection: u64 = table.iter().map(|o| o.intersection).sum();
        let global_distances = (options.distances && intersection > 0).then(|| {
            let pb = pred.ids.mapv(|v| v != 0);
            let rb = reference.ids.mapv(|v| v != 0);
            SurfaceDistances::new(&pb.view(), &rb.view(), &vec![1.0; nd], Boundary::Faces)
                .ok()
                .and_then(|d| PairDistances::from_surface(&d, 0.5))
        });
        Ok(LesionEvaluation {
            matching,
            pairs,
            rows,
            global: GlobalBinary {
                pred_voxels: pred.lesions.iter().map(|c| c.voxels).sum(),
                reference_voxels: reference.lesions.iter().map(|c| c.voxels).sum(),
                intersection,
                distances: global_distances.flatten(),
            },
        })
    }

    /// Lesion recall (sensitivity): matched reference lesions over reference lesions; `None`
    /// without reference lesions.
    pub fn recall(&self) -> Option<f64> {
        let m = &self.matching;
        (m.n_reference > 0).then(|| m.tp() as f64 / m.n_reference as f64)
    }

    /// Lesion precision: matched predictions over predictions; `None` without predictions.
    /// For many-to-one rules this counts each matched prediction (panoptica's
    /// `tp / (tp + fp)` after merging gives the same value).
    pub fn precision(&self) -> Option<f64> {
        let m = &self.matching;
        (m.n_pred > 0).then(|| m.tp_pred() as f64 / m.n_pred as f64)
    }

    /// Lesion F1: the harmonic mean of [`precision`](Self::precision) and
    /// [`recall`](Self::recall) (0 when both are 0); `None` when either is undefined.
    pub fn f1(&self) -> Option<f64> {
        let (p, r) = (self.precision()?, self.recall()?);
        Some(if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        })
    }

    /// PQ, SQ and RQ under `convention` (see [`LesionConvention`] for the definitions).
    pub fn panoptic_quality(&self, convention: LesionConvention) -> PanopticQuality {
        match convention {
            LesionConvention::Panoptica => {
                let s = self.panoptica();
                PanopticQuality {
                    pq: s.pq,
                    sq: s.sq,
                    rq: s.rq,
                }
            }
            LesionConvention::Monai => {
                let m = self.monai();
                PanopticQuality {
                    pq: m.pq,
                    sq: m.sq,
                    rq: m.rq,
                }
            }
        }
    }

    /// MONAI's `compute_panoptic_quality` numbers from this matching (use
    /// [`MatchingRule::monai`] to match as MONAI does).
    pub fn monai(&self) -> MonaiPanopticQuality {
        let m = &self.matching;
        let (tp, fp, fn_) = (m.tp() as f64, m.fp() as f64, m.fn_() as f64);
        let iou_sum: f64 = self.pairs.iter().map(|p| p.iou).sum();
        let smooth = 1e-6;
        MonaiPanopticQuality {
            tp,
            fp,
            fn_,
            iou_sum,
            pq: iou_sum / (tp + 0.5 * fp + 0.5 * fn_ + smooth),
            sq: iou_sum / (tp + smooth),
            rq: tp / (tp + 0.5 * fp + 0.5 * fn_ + smooth),
        }
    }

    /// panoptica's `PanopticaResult` numbers from this matching.
    pub fn panoptica(&self) -> PanopticaSummary {
        let m = &self.matching;
        let tp = m.tp();
        let fp = m.fp();
        let fn_ = m.fn_();
        let n_pred = tp + fp;
        let n_ref = m.n_reference;
        let any = n_pred + n_ref > 0;
        let rq = if tp == 0 {
            if any { 0.0 } else { f64::NAN }
        } else {
            tp as f64 / (tp as f64 + 0.5 * fp as f64 + 0.5 * fn_ as f64)
        };
        // Zero-TP values of panoptica's edge-case handler (extended for HD, HD95, NSD).
        let zero = |v: f64| if any { v } else { f64::NAN };
        let stat = |values: Vec<f64>, zero_tp: f64| -> (f64, f64) {
            if values.is_empty() {
                return (zero(zero_tp), f64::NAN);
            }
            super::numpy::mean_std(&values)
        };
        let col = |f: &dyn Fn(&PairScores) -> f64| self.pairs.iter().map(f).collect::<Vec<_>>();
        let dist = |f: fn(&PairDistances) -> f64| {
            self.pairs
                .iter()
                .map(|p| p.distances.as_ref().map_or(f64::NAN, f))
                .collect::<Vec<_>>()
        };
        let has_d = self.pairs.iter().all(|p| p.distances.is_some());
        let sq = stat(col(&|p| p.iou), 0.0);
        let sq_dsc = stat(col(&|p| p.dice), 0.0);
        let sq_rvd = stat(col(&|p| p.rvd), f64::NAN);
        let d = |f: fn(&PairDistances) -> f64, z: f64| has_d.then(|| stat(dist(f), z));
        let matched: Vec<&LesionRow> = self.rows.iter().filter(|r| r.pair.is_some()).collect();
        let mean_of = |f: fn(&LesionRow) -> f64| {
            if matched.is_empty() {
                f64::NAN
            } else {
                super::numpy::mean_std(&matched.iter().map(|r| f(r)).collect::<Vec<_>>()).0
            }
        };
        let g = &self.global;
        let overlap = g.intersection > 0;
        let gz = |v: f64, actual: f64| if overlap { actual } else { zero(v) };
        PanopticaSummary {
            n_ref_instances: n_ref,
            n_pred_instances: n_pred,
            tp,
            fp,
            fn_,
            prec: (tp + fp > 0).then(|| tp as f64 / (tp + fp) as f64),
            rec: (tp + fn_ > 0).then(|| tp as f64 / (tp + fn_) as f64),
            rq,
            sq: sq.0,
            sq_std: sq.1,
            pq: sq.0 * rq,
            sq_dsc: sq_dsc.0,
            sq_dsc_std: sq_dsc.1,
            pq_dsc: sq_dsc.0 * rq,
            sq_rvd: sq_rvd.0,
            sq_rvd_std: sq_rvd.1,
            sq_assd: d(|x| x.assd, f64::INFINITY),
            sq_hd: d(|x| x.hd, f64::INFINITY),
            sq_hd95: d(|x| x.hd95, f64::INFINITY),
            sq_nsd: d(|x| x.nsd, 0.0),
            instance_voxel_count_ref: mean_of(|r| r.voxels as f64),
            instance_volume_ref: mean_of(|r| r.volume_mm3),
            global_bin_volume_pred: g.pred_voxels,
            global_bin_volume_ref: g.reference_voxels,
            global_bin_dsc: gz(
                0.0,
                2.0 * g.intersection as f64 / (g.pred_voxels + g.reference_voxels) as f64,
            ),
            global_bin_iou: gz(
                0.0,
                g.intersection as f64
                    / (g.pred_voxels + g.reference_voxels - g.intersection) as f64,
            ),
            global_bin_distances: if overlap {
                g.distances
            } else {
                Some(PairDistances {
                    assd: zero(f64::INFINITY),
                    hd: zero(f64::INFINITY),
                    hd95: zero(f64::INFINITY),
                    nsd: zero(0.0),
                })
            },
        }
    }
}

impl Matching {
    /// [`Matching::from_overlaps`] after checking the rule's threshold.
    pub(crate) fn new_checked(
        pred: &Lesions,
        reference: &Lesions,
        table: &[super::matching::Overlap],
        rule: MatchingRule,
    ) -> Result<Self, MetricError> {
        rule.validate()?;
        Ok(Matching::from_overlaps(pred, reference, table, rule))
    }
}

/// MONAI's `compute_panoptic_quality` numbers (see [`LesionConvention::Monai`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonaiPanopticQuality {
    /// Matched pairs.
    pub tp: f64,
    /// Unmatched predictions.
    pub fp: f64,
    /// Unmatched reference instances.
    pub fn_: f64,
    /// Sum of the matched pairs' IoU.
    pub iou_sum: f64,
    /// `iou_sum / (tp + fp/2 + fn/2 + 1e-6)`.
    pub pq: f64,
    /// `iou_sum / (tp + 1e-6)`.
    pub sq: f64,
    /// `tp / (tp + fp/2 + fn/2 + 1e-6)`.
    pub rq: f64,
}

/// panoptica's `PanopticaResult.to_dict()` numbers (see [`LesionConvention::Panoptica`]).
/// Each `(mean, population std)` pair is over matched reference lesions; distances are `None`
/// when they were not computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanopticaSummary {
    /// Reference lesions.
    pub n_ref_instances: usize,
    /// Predicted lesions, those matched to one reference lesion counted once.
    pub n_pred_instances: usize,
    /// Matched reference lesions.
    pub tp: usize,
    /// `n_pred_instances - tp`.
    pub fp: usize,
    /// `n_ref_instances - tp`.
    pub fn_: usize,
    /// `tp / (tp + fp)`; `None` (missing) when both are 0.
    pub prec: Option<f64>,
    /// `tp / (tp + fn)`; `None` (missing) when both are 0.
    pub rec: Option<f64>,
    /// Recognition quality.
    pub rq: f64,
    /// Mean IoU of matched pairs.
    pub sq: f64,
    /// Its population std.
    pub sq_std: f64,
    /// `sq * rq`.
    pub pq: f64,
    /// Mean Dice of matched pairs.
    pub sq_dsc: f64,
    /// Its population std.
    pub sq_dsc_std: f64,
    /// `sq_dsc * rq`.
    pub pq_dsc: f64,
    /// Mean relative volume difference.
    pub sq_rvd: f64,
    /// Its population std.
    pub sq_rvd_std: f64,
    /// Mean and std of ASSD.
    pub sq_assd: Option<(f64, f64)>,
    /// Mean and std of HD.
    pub sq_hd: Option<(f64, f64)>,
    /// Mean and std of HD95.
    pub sq_hd95: Option<(f64, f64)>,
    /// Mean and std of NSD.
    pub sq_nsd: Option<(f64, f64)>,
    /// Mean voxel count of matched reference lesions.
    pub instance_voxel_count_ref: f64,
    /// Mean volume (mm^3) of matched reference lesions.
    pub instance_volume_ref: f64,
    /// Foreground voxels of the prediction.
    pub global_bin_volume_pred: u64,
    /// Foreground voxels of the reference.
    pub global_bin_volume_ref: u64,
    /// Dice of the binary masks (zero-TP value when they do not overlap).
    pub global_bin_dsc: f64,
    /// IoU of the binary masks.
    pub global_bin_iou: f64,
    /// Distances of the binary masks in voxels (zero-TP values when they do not overlap).
    pub global_bin_distances: Option<PairDistances>,
}

impl PanopticaSummary {
    /// The numbers under panoptica's `to_dict` keys; keys panoptica leaves out (`prec`, `rec`
    /// when not computable; distances not computed) are absent.
    pub fn entries(&self) -> Vec<(&'static str, f64)> {
        let mut out = vec![
            ("n_ref_instances", self.n_ref_instances as f64),
            ("n_pred_instances", self.n_pred_instances as f64),
            ("tp", self.tp as f64),
            ("fp", self.fp as f64),
            ("fn", self.fn_ as f64),
            ("rq", self.rq),
            ("sq", self.sq),
            ("sq_std", self.sq_std),
            ("pq", self.pq),
            ("sq_dsc", self.sq_dsc),
            ("sq_dsc_std", self.sq_dsc_std),
            ("pq_dsc", self.pq_dsc),
            ("sq_rvd", self.sq_rvd),
            ("sq_rvd_std", self.sq_rvd_std),
            ("instance_voxel_count_ref", self.instance_voxel_count_ref),
            ("instance_volume_ref", self.instance_volume_ref),
            ("global_bin_volume_pred", self.global_bin_volume_pred as f64),
            ("global_bin_volume_ref", self.global_bin_volume_ref as f64),
            ("global_bin_dsc", self.global_bin_dsc),
            ("global_bin_iou", self.global_bin_iou),
        ];
        if let Some(p) = self.prec {
            out.push(("prec", p));
        }
        if let Some(r) = self.rec {
            out.push(("rec", r));
        }
        for (k, ks, v) in [
            ("sq_assd", "sq_assd_std", self.sq_assd),
            ("sq_hd", "sq_hd_std", self.sq_hd),
            ("sq_hd95", "sq_hd95_std", self.sq_hd95),
            ("sq_nsd", "sq_nsd_std", self.sq_nsd),
        ] {
            if let Some((m, s)) = v {
                out.push((k, m));
                out.push((ks, s));
            }
        }
        if let Some(d) = self.global_bin_distances {
            out.extend([
                ("global_bin_assd", d.assd),
                ("global_bin_hd", d.hd),
                ("global_bin_hd95", d.hd95),
                ("global_bin_nsd", d.nsd),
            ]);
        }
        out
    }
}

/// Convenience: the lesion evaluation of two label maps' `label` (or of their whole foreground
/// with `label: None`), components formed with `connectivity` on both sides.
///
/// # Errors
/// As [`LesionEvaluation::new`] and [`Lesions::components`].
pub fn evaluate_lesions<T>(
    pred: &ArrayViewD<T>,
    reference: &ArrayViewD<T>,
    label: Option<u32>,
    connectivity: crate::Connectivity,
    rule: MatchingRule,
    options: &LesionOptions,
) -> Result<LesionEvaluation, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    check_shapes(pred.shape(), reference.shape())?;
    let order = crate::ScanOrder::RowMajor;
    let p = Lesions::components(pred, label, connectivity, order)?;
    let r = Lesions::components(reference, label, connectivity, order)?;
    LesionEvaluation::new(&p, &r, rule, options)
}
