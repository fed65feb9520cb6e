//! Lesions of one side, their pairwise overlaps, and the matching rules of the peers.
use std::collections::HashMap;

use ndarray::{ArrayD, ArrayViewD, Zip};
use serde::{Deserialize, Serialize};

use crate::error::check_shapes;
use crate::{
    Component, Connectivity, MetricError, ScanOrder, connected_components, instance_components,
    label_components,
};

/// The lesions of one side (prediction or reference): an id map (0 background, every other
/// value one lesion) and one [`Component`] per id present.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesions {
    /// The lesion id of every voxel, 0 for background.
    pub ids: ArrayD<u32>,
    /// One entry per lesion, ascending by id.
    pub lesions: Vec<Component>,
}

impl Lesions {
    /// The connected components of the binary mask `map == label` (`label: None`: of
    /// `map != 0`), numbered by first voxel in `order`. panoptica's semantic input forms them
    /// with [`Connectivity::Four`] in 2D and [`Connectivity::TwentySix`] in 3D.
    ///
    /// # Errors
    /// As [`connected_components`]; `Some(0)` is refused.
    pub fn components<T>(
        map: &ArrayViewD<T>,
        label: Option<u32>,
        connectivity: Connectivity,
        order: ScanOrder,
    ) -> Result<Self, MetricError>
    where
        T: Copy + Into<u32> + Send + Sync,
    {
        let cc = match label {
            Some(l) => label_components(map, l, connectivity, order)?,
            None => {
                let fg = map.mapv(|v| u8::from(Into::<u32>::into(v) != 0));
                connected_components(&fg.view(), connectivity, order)?
            }
        };
        Ok(Lesions {
            ids: cc.ids,
            lesions: cc.components,
        })
    }

    /// The instances of an instance map as given: every non-zero value is one lesion (MONAI
    /// and panoptica's `UNMATCHED_INSTANCE` input).
    ///
    /// # Errors
    /// A rank other than 2 or 3.
    pub fn instances<T>(map: &ArrayViewD<T>, order: ScanOrder) -> Result<Self, MetricError>
    where
        T: Copy + Into<u32> + Send + Sync,
    {
        let lesions = instance_components(map, order)?;
        Ok(Lesions {
            ids: map.mapv(Into::into),
            lesions,
        })
    }

    /// The number of lesions.
    pub fn len(&self) -> usize {
        self.lesions.len()
    }

    /// Whether there is no lesion.
    pub fn is_empty(&self) -> bool {
        self.lesions.is_empty()
    }

    /// The lesion with this id.
    pub fn get(&self, id: u32) -> Option<&Component> {
        self.lesions
            .binary_search_by_key(&id, |c| c.id)
            .ok()
            .map(|i| &self.lesions[i])
    }
}

/// The score a matching rule compares and maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairMetric {
    /// Intersection over union, `|P ∩ G| / |P ∪ G|`.
    Iou,
    /// Dice, `2 |P ∩ G| / (|P| + |G|)`.
    Dice,
}

/// How predicted lesions are matched to reference lesions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchingRule {
    /// Greedy by IoU (panoptica `NaiveThresholdMatching`): the overlapping pairs sorted by IoU,
    /// highest first (ties by prediction id, then reference id, ascending), each pair taken when
    /// its IoU passes the threshold (`IoU >= threshold`, or `IoU > threshold` when `strict`), its
    /// prediction is not matched yet and, unless `many_to_one`, its reference is not matched
    /// yet. With `many_to_one` several predictions may share one reference lesion (which is
    /// then scored against their union); a prediction never matches twice. MONAI's
    /// `compute_panoptic_quality` with `match_iou_threshold >= 0.5` is `strict` at that
    /// threshold (one-to-one by construction, IoU > 0.5 allowing at most one partner).
    IouThreshold {
        /// The IoU a pair must reach.
        threshold: f64,
        /// `IoU > threshold` (MONAI) instead of `IoU >= threshold` (panoptica).
        strict: bool,
        /// Several predictions may match one reference lesion (panoptica
        /// `allow_many_to_one`).
        many_to_one: bool,
    },
    /// One-to-one matching maximising the total score (panoptica `MaxBipartiteMatching`): only
    /// pairs with `score >= threshold` are candidates, and the matching maximises the sum of
    /// `score + 1e-6` over its pairs (panoptica's cost matrix: `1 - score` for candidates,
    /// `1 + 1e-6` otherwise), so among equal totals the one with more pairs wins. Solved by
    /// a minimum-cost assignment with scipy's `linear_sum_assignment` tie rules on that matrix over lesion ids ascending, so
    /// ties are resolved as in panoptica when the ids are numbered as panoptica numbers them.
    Bipartite {
        /// The score compared and maximised.
        metric: PairMetric,
        /// The score a pair must reach (`>=`).
        threshold: f64,
    },
    /// MONAI's `compute_panoptic_quality` with `match_iou_threshold < 0.5`: a one-to-one
    /// assignment maximising the total IoU over all pairs (scipy `linear_sum_assignment(-iou)`),
    /// then only its pairs with `IoU > threshold` are kept. Unlike [`Bipartite`](Self::Bipartite)
    /// the threshold is applied after the assignment.
    AssignmentThenIou {
        /// Pairs of the assignment with IoU above this are kept (strict).
        threshold: f64,
    },
    /// Any overlap: every overlapping pair is matched, many-to-many. A reference lesion is
    /// found when any prediction touches it, and is scored against the union of those
    /// predictions; a prediction is a true positive when it touches any reference lesion.
    AnyOverlap,
}

impl MatchingRule {
    /// panoptica's default matcher: `NaiveThresholdMatching()`, IoU >= 0.5, one-to-one.
    pub const PANOPTICA_DEFAULT: MatchingRule = MatchingRule::IouThreshold {
        threshold: 0.5,
        strict: false,
        many_to_one: false,
    };

    /// The rule MONAI's `compute_panoptic_quality(match_iou_threshold=threshold)` applies:
    /// strict IoU at or above 0.5, assignment then strict IoU below.
    pub fn monai(threshold: f64) -> MatchingRule {
        if threshold >= 0.5 {
            MatchingRule::IouThreshold {
                threshold,
                strict: true,
                many_to_one: false,
            }
        } else {
            MatchingRule::AssignmentThenIou { threshold }
        }
    }

    /// Whether a lesion may be matched more than once on some side.
    pub fn is_one_to_one(&self) -> bool {
        !matches!(
            self,
            MatchingRule::AnyOverlap
                | MatchingRule::IouThreshold {
                    many_to_one: true,
                    ..
                }
        )
    }

    pub(crate) fn validate(&self) -> Result<(), MetricError> {
        let t = match *self {
            MatchingRule::IouThreshold { threshold, .. }
            | MatchingRule::Bipartite { threshold, .. }
            | MatchingRule::AssignmentThenIou { threshold } => threshold,
            MatchingRule::AnyOverlap => return Ok(()),
        };
        if !(0.0..=1.0).contains(&t) {
            return Err(MetricError::BadParameter {
                name: "threshold",
                value: t.to_string(),
                expected: "a score threshold in [0, 1]",
            });
        }
        Ok(())
    }
}

/// One overlapping (prediction, reference) pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// Prediction lesion id.
    pub pred: u32,
    /// Reference lesion id.
    pub reference: u32,
    /// Voxels in both.
    pub intersection: u64,
    /// Voxels of the prediction lesion.
    pub pred_voxels: u64,
    /// Voxels of the reference lesion.
    pub reference_voxels: u64,
}

impl Overlap {
    /// `|P ∩ G| / |P ∪ G|`.
    pub fn iou(&self) -> f64 {
        self.intersection as f64
            / (self.pred_voxels + self.reference_voxels - self.intersection) as f64
    }

    /// `2 |P ∩ G| / (|P| + |G|)`.
    pub fn dice(&self) -> f64 {
        2.0 * self.intersection as f64 / (self.pred_voxels + self.reference_voxels) as f64
    }

    /// The score under `metric`.
    pub fn score(&self, metric: PairMetric) -> f64 {
        match metric {
            PairMetric::Iou => self.iou(),
            PairMetric::Dice => self.dice(),
        }
    }
}

/// The ids of `side`'s lesions, ascending.
fn ids(side: &Lesions) -> Vec<u32> {
    let mut v: Vec<u32> = side.lesions.iter().map(|l| l.id).collect();
    v.sort_unstable();
    v
}

/// MONAI's float32 IoU of a pair (`inter / (total - inter)` of integer counts, in float32).
fn monai_iou(o: &Overlap) -> f32 {
    let union = o.pred_voxels + o.reference_voxels - o.intersection;
    o.intersection as f32 / union as f32
}

/// Every overlapping (prediction, reference) pair, found in one pass over both id maps, sorted
/// by prediction id then reference id.
///
/// # Errors
/// On different shapes, or an id in a map that its lesion list lacks.
pub fn overlaps(pred: &Lesions, reference: &Lesions) -> Result<Vec<Overlap>, MetricError> {
    check_shapes(pred.ids.shape(), reference.ids.shape())?;
    let merge = |mut a: HashMap<(u32, u32), u64>, b: HashMap<(u32, u32), u64>| {
        for (k, v) in b {
            *a.entry(k).or_insert(0) += v;
        }
        a
    };
    use rayon::prelude::*;
    let counts: HashMap<(u32, u32), u64> = match (
        pred.ids.as_slice_memory_order(),
        reference.ids.as_slice_memory_order(),
    ) {
        // Both maps in the same memory order (the usual case: both from the same reader):
        // plain slices in parallel chunks, a tight loop that skips background at once.
        (Some(ps), Some(rs)) if pred.ids.strides() == reference.ids.strides() => ps
            .par_chunks(1 << 16)
            .zip(rs.par_chunks(1 << 16))
            .fold(HashMap::new, |mut m, (pc, rc)| {
                for (&p, &r) in pc.iter().zip(rc) {
                    if p != 0 && r != 0 {
                        *m.entry((p, r)).or_insert(0) += 1;
                    }
                }
                m
            })
            .reduce(HashMap::new, merge),
        _ => Zip::from(&pred.ids).and(&reference.ids).par_fold(
            HashMap::new,
            |mut m, &p, &r| {
                if p != 0 && r != 0 {
                    *m.entry((p, r)).or_insert(0) += 1;
                }
                m
            },
            merge,
        ),
    };
    let size = |side: &Lesions, id: u32, name: &'static str| {
        side.get(id)
            .map(|c| c.voxels)
            .ok_or_else(|| MetricError::BadParameter {
                name,
                value: id.to_string(),
                expected: "an id listed among the lesions of its side",
            })
    };
    let mut out = counts
        .into_iter()
        .map(|((p, r), n)| {
            Ok(Overlap {
                pred: p,
                reference: r,
                intersection: n,
                pred_voxels: size(pred, p, "prediction id")?,
                reference_voxels: size(reference, r, "reference id")?,
            })
        })
        .collect::<Result<Vec<_>, MetricError>>()?;
    out.sort_unstable_by_key(|o| (o.pred, o.reference));
    Ok(out)
}

/// A reference lesion overlapped by several predictions (a split), or a prediction overlapping
/// several reference lesions (a merge), whatever the matching made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fragmentation {
    /// The lesion covered by several lesions of the other side.
    pub id: u32,
    /// The lesions of the other side overlapping it, ascending.
    pub others: Vec<u32>,
}

/// The outcome of matching predicted to reference lesions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Matching {
    /// The rule that made it.
    pub rule: MatchingRule,
    /// Matched pairs (each with its own overlap), sorted by reference id then prediction id.
    pub pairs: Vec<Overlap>,
    /// Prediction ids in no pair (false positives), ascending.
    pub unmatched_pred: Vec<u32>,
    /// Reference ids in no pair (false negatives, missed lesions), ascending.
    pub unmatched_reference: Vec<u32>,
    /// Reference lesions overlapped by two or more predictions (splits), ascending by id.
    pub splits: Vec<Fragmentation>,
    /// Predictions overlapping two or more reference lesions (merges), ascending by id.
    pub merges: Vec<Fragmentation>,
    /// Number of predicted lesions.
    pub n_pred: usize,
    /// Number of reference lesions.
    pub n_reference: usize,
}

impl Matching {
    /// Matches `pred` to `reference` under `rule`.
    ///
    /// # Errors
    /// A threshold outside [0, 1], different shapes, or ids missing from the lesion lists.
    pub fn new(
        pred: &Lesions,
        reference: &Lesions,
        rule: MatchingRule,
    ) -> Result<Self, MetricError> {
        rule.validate()?;
        let table = overlaps(pred, reference)?;
        Ok(Self::from_overlaps(pred, reference, &table, rule))
    }

    /// Matches from a precomputed [`overlaps`] table (several rules on the same pair).
    pub fn from_overlaps(
        pred: &Lesions,
        reference: &Lesions,
        table: &[Overlap],
        rule: MatchingRule,
    ) -> Self {
        let chosen: Vec<usize> = match rule {
            MatchingRule::IouThreshold {
                threshold,
                strict,
                many_to_one,
            } => {
                let mut order: Vec<usize> = (0..table.len()).collect();
                // Stable: ties stay in (pred, reference) order, as panoptica's sorted list.
                order.sort_by(|&a, &b| table[b].iou().total_cmp(&table[a].iou()));
                let mut pred_done: HashMap<u32, ()> = HashMap::new();
                let mut ref_done: HashMap<u32, ()> = HashMap::new();
                let mut out = Vec::new();
                for i in order {
                    let o = &table[i];
                    if pred_done.contains_key(&o.pred)
                        || (!many_to_one && ref_done.contains_key(&o.reference))
                    {
                        continue;
                    }
                    let s = o.iou();
                    if (strict && s > threshold) || (!strict && s >= threshold) {
                        pred_done.insert(o.pred, ());
                        ref_done.insert(o.reference, ());
                        out.push(i);
                    }
                }
                out
            }
            MatchingRule::Bipartite { metric, threshold } => {
                // panoptica's cost matrix over every reference (rows) and predicted (columns)
                // id: `1 - score` for a candidate, `1 + 1e-6` elsewhere; scipy's assignment,
                // of which the pairs costing `< 1` are matches.
                let cand: Vec<usize> = (0..table.len())
                    .filter(|&i| table[i].score(metric) >= threshold)
                    .collect();
                let edges: Vec<(u32, u32, f64)> = cand
                    .iter()
                    .map(|&i| {
                        let o = &table[i];
                        (o.reference, o.pred, 1.0 - o.score(metric))
                    })
                    .collect();
                super::assignment::assign_with_default(
                    &ids(reference),
                    &ids(pred),
                    &edges,
                    1.0 + 1e-6,
                )
                .into_iter()
                .filter(|&e| edges[e].2 < 1.0)
                .map(|e| cand[e])
                .collect()
            }
            MatchingRule::AssignmentThenIou { threshold } => {
                // MONAI: `linear_sum_assignment(-iou)` on its float32 IoU matrix (0 where two
                // lesions do not overlap), then the pairs with `IoU > threshold` (float32).
                let edges: Vec<(u32, u32, f64)> = table
                    .iter()
                    .map(|o| (o.reference, o.pred, -f64::from(monai_iou(o))))
                    .collect();
                let t = threshold as f32;
                super::assignment::assign_with_default(&ids(reference), &ids(pred), &edges, 0.0)
                    .into_iter()
                    .filter(|&e| monai_iou(&table[e]) > t)
                    .collect()
            }
            MatchingRule::AnyOverlap => (0..table.len()).collect(),
        };
        let mut pairs: Vec<Overlap> = chosen.into_iter().map(|i| table[i]).collect();
        pairs.sort_unstable_by_key(|o| (o.reference, o.pred));
        let matched_p: std::collections::HashSet<u32> = pairs.iter().map(|o| o.pred).collect();
        let matched_r: std::collections::HashSet<u32> = pairs.iter().map(|o| o.reference).collect();
        let fragments = |key: fn(&Overlap) -> (u32, u32)| {
            let mut by: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
            for o in table {
                let (a, b) = key(o);
                by.entry(a).or_default().push(b);
            }
            by.into_iter()
                .filter(|(_, v)| v.len() > 1)
                .map(|(id, mut others)| {
                    others.sort_unstable();
                    Fragmentation { id, others }
                })
                .collect::<Vec<_>>()
        };
        Matching {
            rule,
            unmatched_pred: pred
                .lesions
                .iter()
                .map(|c| c.id)
                .filter(|id| !matched_p.contains(id))
                .collect(),
            unmatched_reference: reference
                .lesions
                .iter()
                .map(|c| c.id)
                .filter(|id| !matched_r.contains(id))
                .collect(),
            splits: fragments(|o| (o.reference, o.pred)),
            merges: fragments(|o| (o.pred, o.reference)),
            pairs,
            n_pred: pred.len(),
            n_reference: reference.len(),
        }
    }

    /// Matched reference lesions (true positives on the reference side; the `tp` of panoptica
    /// and MONAI).
    pub fn tp(&self) -> usize {
        self.n_reference - self.unmatched_reference.len()
    }

    /// Matched predictions (true positives on the prediction side; equal to [`tp`](Self::tp)
    /// for one-to-one rules).
    pub fn tp_pred(&self) -> usize {
        self.n_pred - self.unmatched_pred.len()
    }

    /// Unmatched predictions: false positives.
    pub fn fp(&self) -> usize {
        self.unmatched_pred.len()
    }

    /// Unmatched reference lesions: false negatives.
    pub fn fn_(&self) -> usize {
        self.unmatched_reference.len()
    }

    /// Each matched reference lesion with the predictions matched to it (one for one-to-one
    /// rules), ascending by reference id.
    pub fn groups(&self) -> Vec<(u32, Vec<u32>)> {
        let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
        for o in &self.pairs {
            match out.last_mut() {
                Some((r, ps)) if *r == o.reference => ps.push(o.pred),
                _ => out.push((o.reference, vec![o.pred])),
            }
        }
        out
    }
}
