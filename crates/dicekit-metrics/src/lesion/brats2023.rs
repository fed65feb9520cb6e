//! The BraTS 2023 lesion-wise evaluation: `get_LesionWiseResults` of the challenge's script
//! (rachitsaluja/BraTS-2023-Metrics, `metrics.py`, git 43c9052), including its "Legacy"
//! whole-mask numbers.
//!
//! Per region (a set of labels, binarised): reference lesions are the connected components
//! (26-connectivity) of the reference, merged where their dilations touch; every predicted
//! component (26-connectivity) that touches a lesion's dilation is matched to it, and the lesion
//! is scored against the union of those components. See [`brats2023_lesionwise`].
use std::collections::{BTreeSet, HashMap};

use ndarray::{ArrayD, ArrayViewD, Ix3, Slice};
use serde::{Deserialize, Serialize};

use crate::error::{check_shapes, check_spacing};
use crate::{
    Boundary, Connectivity, MetricError, Percentile, ScanOrder, SurfaceDistances,
    connected_components,
};

/// The penalty (mm) the BraTS 2023 script puts in place of an infinite HD95 (a missed lesion,
/// a false positive, a whole-mask HD95 against an empty mask).
pub const BRATS2023_HD95_PENALTY: f64 = 374.0;

/// The challenges of `get_LesionWiseResults(challenge_name=...)` and their parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Brats2023Challenge {
    /// `BraTS-GLI` (glioma): dilation 3, lesions <= 50 mm^3 dropped.
    Gli,
    /// `BraTS-SSA` (sub-Saharan Africa glioma): dilation 3, <= 50 mm^3 dropped.
    Ssa,
    /// `BraTS-MEN` (meningioma): dilation 1, <= 50 mm^3 dropped.
    Men,
    /// `BraTS-PED` (paediatric): dilation 3, <= 50 mm^3 dropped.
    Ped,
    /// `BraTS-MET` (metastases): dilation 1, <= 2 mm^3 dropped.
    Met,
}

impl Brats2023Challenge {
    /// Iterations of the 18-neighbourhood dilation.
    pub fn dilation(&self) -> usize {
        match self {
            Self::Gli | Self::Ssa | Self::Ped => 3,
            Self::Men | Self::Met => 1,
        }
    }

    /// Reference lesions with a volume (mm^3) at or below this are left out of the counts and
    /// the lesion-wise means.
    pub fn volume_threshold_mm3(&self) -> f64 {
        match self {
            Self::Met => 2.0,
            _ => 50.0,
        }
    }

    /// The name the script takes (`BraTS-GLI`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Gli => "BraTS-GLI",
            Self::Ssa => "BraTS-SSA",
            Self::Men => "BraTS-MEN",
            Self::Ped => "BraTS-PED",
            Self::Met => "BraTS-MET",
        }
    }
}

/// The script's regions (`get_TissueWiseSeg`), each the union of labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Brats2023Region {
    /// Whole tumour: labels 1, 2, 3.
    Wt,
    /// Tumour core: labels 1, 3.
    Tc,
    /// Enhancing tumour: label 3.
    Et,
}

impl Brats2023Region {
    /// The three regions in the script's order.
    pub const ALL: [Brats2023Region; 3] = [Self::Wt, Self::Tc, Self::Et];

    /// The labels of the region.
    pub fn labels(&self) -> &'static [u32] {
        match self {
            Self::Wt => &[1, 2, 3],
            Self::Tc => &[1, 3],
            Self::Et => &[3],
        }
    }

    /// `WT`, `TC` or `ET`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Wt => "WT",
            Self::Tc => "TC",
            Self::Et => "ET",
        }
    }
}

/// One reference lesion (after merging by dilation) and what matched it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brats2023Lesion {
    /// Its id: the component id of the dilated reference it lies in.
    pub gt_lesion: u32,
    /// Ids of the predicted components touching its dilation, ascending.
    pub pred_components: Vec<u32>,
    /// Voxels.
    pub gt_voxels: u64,
    /// Volume, mm^3.
    pub gt_volume_mm3: f64,
    /// Dice against the union of `pred_components` (0 when there is none).
    pub dice: f64,
    /// DeepMind's robust HD95 (surfels, the larger directed weighted percentile) against that
    /// union, mm; infinite when there is none.
    pub hd95: f64,
}

/// `get_LesionWiseResults`'s row of one region, with the raw `get_LesionWiseScores` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brats2023Result {
    /// Every reference lesion, ascending by id (small ones included).
    pub lesions: Vec<Brats2023Lesion>,
    /// Predicted components matched, once per lesion they touch (a component touching two
    /// lesions is listed twice), in lesion order.
    pub tp_pred_components: Vec<u32>,
    /// Reference lesions with no matched component (small ones included), ascending.
    pub fn_gt_lesions: Vec<u32>,
    /// Predicted components touching no lesion's dilation, ascending.
    pub fp_pred_components: Vec<u32>,
    /// `Num_TP`: matched lesions above the volume threshold.
    pub num_tp: usize,
    /// `Num_FP`: false-positive components (of any size).
    pub num_fp: usize,
    /// `Num_FN`: unmatched lesions above the volume threshold.
    pub num_fn: usize,
    /// `Sensitivity`: voxel-wise, `TP / (TP + FN)`; 1 when both masks are empty.
    pub sensitivity: f64,
    /// `Specificity`: voxel-wise, `TN / (TN + FP)`.
    pub specificity: f64,
    /// `Legacy_Dice`: Dice of the whole masks; 1 when both are empty, 0 when one is.
    pub legacy_dice: f64,
    /// `Legacy_HD95`: DeepMind's robust HD95 of the whole masks with the spacing; 0 when both
    /// are empty, 374 when one is.
    pub legacy_hd95: f64,
    /// `GT_Complete_Volume`: reference voxels times the voxel volume, mm^3.
    pub gt_complete_volume: f64,
    /// `LesionWise_Score_Dice`: the Dice of the lesions above the threshold summed, over their
    /// number plus `Num_FP` (each false positive a 0); 1 when that is 0.
    pub lesionwise_dice: f64,
    /// `LesionWise_Score_HD95`: the HD95 of the lesions above the threshold (a miss 374) plus
    /// 374 per false positive, over their number plus `Num_FP`; 0 when that is 0.
    pub lesionwise_hd95: f64,
}

/// Dilation by `iterations` steps of the 18-neighbourhood (scipy `binary_dilation` with
/// `generate_binary_structure(3, 2)`; outside the image is background). Each step only grows
/// from the voxels the previous step added.
fn dilate18(mask: &ndarray::Array3<bool>, iterations: usize) -> ndarray::Array3<bool> {
    let mut out = mask.clone();
    let (n0, n1, n2) = out.dim();
    let mut front: Vec<[usize; 3]> = out
        .indexed_iter()
        .filter(|(_, v)| **v)
        .map(|((i, j, k), _)| [i, j, k])
        .collect();
    let offsets: Vec<[isize; 3]> = (-1isize..=1)
        .flat_map(|a| (-1isize..=1).flat_map(move |b| (-1isize..=1).map(move |c| [a, b, c])))
        .filter(|o| (1..=2).contains(&o.iter().filter(|x| **x != 0).count()))
        .collect();
    for _ in 0..iterations {
        let mut next = Vec::new();
        for p in &front {
            for o in &offsets {
                let q = [
                    p[0] as isize + o[0],
                    p[1] as isize + o[1],
                    p[2] as isize + o[2],
                ];
                if q[0] < 0
                    || q[1] < 0
                    || q[2] < 0
                    || q[0] >= n0 as isize
                    || q[1] >= n1 as isize
                    || q[2] >= n2 as isize
                {
                    continue;
                }
                let q = [q[0] as usize, q[1] as usize, q[2] as usize];
                if !out[q] {
                    out[q] = true;
                    next.push(q);
                }
            }
        }
        front = next;
    }
    out
}

/// DeepMind's robust HD95 (what the script's `compute_robust_hausdorff(.., 95)` returns):
/// surfel-weighted, the larger directed percentile; infinite when one mask is empty, 0 when
/// both are.
fn deepmind_hd95(pred: &ArrayViewD<bool>, truth: &ArrayViewD<bool>, spacing: &[f64]) -> f64 {
    match SurfaceDistances::new(pred, truth, spacing, Boundary::Surfels) {
        Ok(d) => match d.empty_side() {
            None => d
                .hausdorff_percentile(95.0, Percentile::DirectedWeightedRank)
                .value()
                .unwrap_or(f64::NAN),
            Some(crate::EmptySide::Both) => 0.0,
            Some(_) => f64::INFINITY,
        },
        Err(_) => f64::NAN,
    }
}

/// BraTS 2023 `get_LesionWiseResults` for one region of two label maps (rachitsaluja/
/// BraTS-2023-Metrics `metrics.py`, git 43c9052):
///
/// - The masks are `map ∈ labels` (a [`Brats2023Region`]'s labels, or any label set).
/// - Legacy numbers on the whole masks: Dice, DeepMind's robust HD95 with the spacing,
///   voxel-wise sensitivity and specificity, the reference volume.
/// - The reference is dilated `dilation` times by the 18-neighbourhood; each 26-connected
///   component of the dilation is one reference lesion (the reference voxels inside it), so
///   lesions whose dilations touch are merged. Lesion ids are the dilated components' ids,
///   numbered by first voxel in `order` (cc3d on a nibabel array: [`ScanOrder::ColumnMajor`]).
/// - Every 26-connected predicted component touching a lesion's dilation is matched to it (a
///   component may match several lesions), and the lesion is scored against their union:
///   Dice and DeepMind's robust HD95 (a lesion with no match: Dice 0, HD95 infinite).
///   Components matching no lesion are false positives.
/// - Lesions with volume `<= volume_threshold_mm3` are dropped from `Num_TP`, `Num_FN` and the
///   lesion-wise scores; false positives are never dropped. The lesion-wise Dice is the sum
///   over the remaining lesions over their number plus the false positives (1 when that is 0);
///   the lesion-wise HD95 likewise with 374 for an infinite HD95 and per false positive (0
///   when that is 0).
///
/// The script is 3D-only (it unpacks three spacings); 2D input is refused.
///
/// # Errors
/// Different shapes, a rank other than 3, a bad spacing, a threshold that is not finite, or an
/// empty label set.
pub fn brats2023_lesionwise<T>(
    pred: &ArrayViewD<T>,
    reference: &ArrayViewD<T>,
    labels: &[u32],
    dilation: usize,
    volume_threshold_mm3: f64,
    spacing: &[f64],
    order: ScanOrder,
) -> Result<Brats2023Result, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    check_shapes(pred.shape(), reference.shape())?;
    if pred.ndim() != 3 {
        return Err(MetricError::UnsupportedRank(pred.ndim()));
    }
    check_spacing(spacing, 3)?;
    if labels.is_empty() || !volume_threshold_mm3.is_finite() {
        return Err(MetricError::BadParameter {
            name: "labels / volume_threshold_mm3",
            value: format!("{labels:?} / {volume_threshold_mm3}"),
            expected: "a non-empty label set and a finite threshold",
        });
    }
    let voxel_mm3 = |n: u64| n as f64 * spacing[0] * spacing[1] * spacing[2];
    let pm: ArrayD<bool> = pred.mapv(|v| labels.contains(&v.into()));
    let gm: ArrayD<bool> = reference.mapv(|v| labels.contains(&v.into()));

    // Legacy (whole-mask) numbers.
    let (mut both, mut np, mut ng, mut neither) = (0u64, 0u64, 0u64, 0u64);
    for (&p, &g) in pm.iter().zip(gm.iter()) {
        match (p, g) {
            (true, true) => both += 1,
            (true, false) => np += 1,
            (false, true) => ng += 1,
            (false, false) => neither += 1,
        }
    }
    let (p_all, g_all) = (both + np, both + ng);
    let empty = p_all == 0 && g_all == 0;
    let legacy_dice = if empty {
        1.0
    } else {
        2.0 * both as f64 / (p_all + g_all) as f64
    };
    let legacy_hd95 = if empty {
        0.0
    } else {
        deepmind_hd95(&pm.view(), &gm.view(), spacing)
    };
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let sensitivity = if empty { 1.0 } else { ratio(both, g_all) };
    let specificity = ratio(neither, neither + np);

    // Lesions: components of the dilated reference; predicted components.
    let g3 = gm
        .view()
        .into_dimensionality::<Ix3>()
        .map_err(|_| MetricError::UnsupportedRank(3))?
        .to_owned();
    let dilated = dilate18(&g3, dilation).into_dyn().mapv(u8::from);
    let dcc = connected_components(&dilated.view(), Connectivity::TwentySix, order)?;
    let pcc = connected_components(&pm.mapv(u8::from).view(), Connectivity::TwentySix, order)?;
    let n = dcc.components.len();
    // Per lesion: reference voxels, voxels also predicted, predicted components touching it.
    let mut gt_voxels = vec![0u64; n];
    let mut inter = vec![0u64; n];
    let mut touching: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); n];
    for ((&d, &g), &p) in dcc.ids.iter().zip(gm.iter()).zip(pcc.ids.iter()) {
        if d == 0 {
            continue;
        }
        let k = d as usize - 1;
        if g {
            gt_voxels[k] += 1;
            if p != 0 {
                inter[k] += 1;
            }
        }
        if p != 0 {
            touching[k].insert(p);
        }
    }
    let pred_size: HashMap<u32, u64> = pcc.components.iter().map(|c| (c.id, c.voxels)).collect();
    let pred_box: HashMap<u32, &crate::BoundingBox> =
        pcc.components.iter().map(|c| (c.id, &c.bbox)).collect();
    let shape = pred.shape().to_vec();
    let lesions: Vec<Brats2023Lesion> = dcc
        .components
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let preds: Vec<u32> = touching[k].iter().copied().collect();
            let p_vox: u64 = preds.iter().map(|p| pred_size[p]).sum();
            let dice = 2.0 * inter[k] as f64 / (gt_voxels[k] + p_vox) as f64;
            let hd95 = if preds.is_empty() {
                f64::INFINITY
            } else {
                // The lesion's dilated component and its components' boxes, plus a margin.
                let mut ranges = c.bbox.ranges(1, &shape);
                for p in &preds {
                    for (a, r) in pred_box[p].ranges(1, &shape).into_iter().enumerate() {
                        ranges[a] = ranges[a].start.min(r.start)..ranges[a].end.max(r.end);
                    }
                }
                let crop = |a: &ArrayD<u32>| {
                    a.slice_each_axis(|ax| Slice::from(ranges[ax.axis.index()].clone()))
                        .to_owned()
                };
                let (dc, pc) = (crop(&dcc.ids), crop(&pcc.ids));
                let gc: ArrayD<bool> = gm
                    .slice_each_axis(|ax| Slice::from(ranges[ax.axis.index()].clone()))
                    .to_owned();
                let lesion = ndarray::Zip::from(&dc)
                    .and(&gc)
                    .map_collect(|&d, &g| g && d == c.id);
                let union = pc.mapv(|v| v != 0 && preds.binary_search(&v).is_ok());
                deepmind_hd95(&union.view(), &lesion.view(), spacing)
            };
            Brats2023Lesion {
                gt_lesion: c.id,
                pred_components: preds,
                gt_voxels: gt_voxels[k],
                gt_volume_mm3: voxel_mm3(gt_voxels[k]),
                dice,
                hd95,
            }
        })
        .collect();
    let tp_pred_components: Vec<u32> = lesions
        .iter()
        .flat_map(|l| l.pred_components.iter().copied())
        .collect();
    let matched: BTreeSet<u32> = tp_pred_components.iter().copied().collect();
    let fp_pred_components: Vec<u32> = pcc
        .components
        .iter()
        .map(|c| c.id)
        .filter(|id| !matched.contains(id))
        .collect();
    let fn_gt_lesions: Vec<u32> = lesions
        .iter()
        .filter(|l| l.pred_components.is_empty())
        .map(|l| l.gt_lesion)
        .collect();
    let kept: Vec<&Brats2023Lesion> = lesions
        .iter()
        .filter(|l| l.gt_volume_mm3 > volume_threshold_mm3)
        .collect();
    let num_tp = kept
        .iter()
        .filter(|l| !l.pred_components.is_empty())
        .count();
    let num_fn = kept.len() - num_tp;
    let num_fp = fp_pred_components.len();
    let denominator = (kept.len() + num_fp) as f64;
    let penalised = |h: f64| {
        if h.is_infinite() {
            BRATS2023_HD95_PENALTY
        } else {
            h
        }
    };
    let (lesionwise_dice, lesionwise_hd95) = if denominator > 0.0 {
        (
            kept.iter().map(|l| l.dice).sum::<f64>() / denominator,
            (kept.iter().map(|l| penalised(l.hd95)).sum::<f64>()
                + num_fp as f64 * BRATS2023_HD95_PENALTY)
                / denominator,
        )
    } else {
        (1.0, 0.0)
    };
    Ok(Brats2023Result {
        lesions,
        tp_pred_components,
        fn_gt_lesions,
        fp_pred_components,
        num_tp,
        num_fp,
        num_fn,
        sensitivity,
        specificity,
        legacy_dice,
        legacy_hd95: penalised(legacy_hd95),
        gt_complete_volume: voxel_mm3(g_all),
        lesionwise_dice,
        lesionwise_hd95,
    })
}

/// [`brats2023_lesionwise`] with a challenge's parameters, for one region.
///
/// # Errors
/// As [`brats2023_lesionwise`].
pub fn brats2023_region<T>(
    pred: &ArrayViewD<T>,
    reference: &ArrayViewD<T>,
    challenge: Brats2023Challenge,
    region: Brats2023Region,
    spacing: &[f64],
    order: ScanOrder,
) -> Result<Brats2023Result, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    brats2023_lesionwise(
        pred,
        reference,
        region.labels(),
        challenge.dilation(),
        challenge.volume_threshold_mm3(),
        spacing,
        order,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;
    use proptest::prelude::*;

    /// `iterations` steps of the 18-neighbourhood reach exactly the offsets with every
    /// coordinate at most `iterations` and their sum at most `2 * iterations`.
    fn dilate_brute(mask: &Array3<bool>, iterations: usize) -> Array3<bool> {
        let k = iterations as isize;
        let (n0, n1, n2) = mask.dim();
        Array3::from_shape_fn((n0, n1, n2), |(i, j, l)| {
            mask.indexed_iter().any(|((a, b, c), &v)| {
                let d = [
                    a as isize - i as isize,
                    b as isize - j as isize,
                    c as isize - l as isize,
                ];
                v && d.iter().all(|x| x.abs() <= k)
                    && d.iter().map(|x| x.abs()).sum::<isize>() <= 2 * k
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn dilation_is_the_18_neighbourhood_ball(
            dims in proptest::collection::vec(1usize..=7, 3),
            seed in proptest::collection::vec(prop_oneof![9 => Just(false), 1 => Just(true)], 343),
            iterations in 0usize..=3,
        ) {
            let n: usize = dims.iter().product();
            let mask = Array3::from_shape_vec((dims[0], dims[1], dims[2]), seed[..n].to_vec()).unwrap();
            prop_assert_eq!(dilate18(&mask, iterations), dilate_brute(&mask, iterations));
        }

        /// A prediction equal to the reference: every lesion matched to its own components
        /// (several where dilation merged them), Dice 1, HD95 0, no false positive; the scores
        /// 1 and 0.
        #[test]
        fn identical_masks(
            seed in proptest::collection::vec(prop_oneof![4 => Just(0u32), 1 => Just(1u32), 1 => Just(3u32)], 6 * 7 * 5),
            dilation in 0usize..=2,
        ) {
            let map = ndarray::ArrayD::from_shape_vec(vec![6, 7, 5], seed).unwrap();
            for region in Brats2023Region::ALL {
                let r = brats2023_lesionwise(&map.view(), &map.view(), region.labels(), dilation, 0.0, &[1.0, 1.0, 2.0], ScanOrder::RowMajor).unwrap();
                prop_assert_eq!(r.num_fp, 0);
                prop_assert_eq!(r.num_fn, 0);
                prop_assert_eq!(r.num_tp, r.lesions.len());
                prop_assert_eq!(r.legacy_dice, 1.0);
                prop_assert_eq!(r.lesionwise_dice, 1.0);
                prop_assert_eq!(r.lesionwise_hd95, 0.0);
                for l in &r.lesions {
                    prop_assert!(!l.pred_components.is_empty());
                    prop_assert_eq!((l.dice, l.hd95), (1.0, 0.0));
                }
            }
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        let a = ndarray::ArrayD::<u32>::zeros(vec![4, 4, 4]);
        let b = ndarray::ArrayD::<u32>::zeros(vec![4, 4, 5]);
        let flat = ndarray::ArrayD::<u32>::zeros(vec![4, 4]);
        let s = [1.0; 3];
        let run = |p: &ndarray::ArrayD<u32>,
                   g: &ndarray::ArrayD<u32>,
                   labels: &[u32],
                   t: f64,
                   sp: &[f64]| {
            brats2023_lesionwise(&p.view(), &g.view(), labels, 1, t, sp, ScanOrder::RowMajor)
        };
        assert!(run(&a, &b, &[1], 2.0, &s).is_err());
        assert!(run(&flat, &flat, &[1], 2.0, &[1.0, 1.0]).is_err());
        assert!(run(&a, &a, &[], 2.0, &s).is_err());
        assert!(run(&a, &a, &[1], f64::NAN, &s).is_err());
        assert!(run(&a, &a, &[1], 2.0, &[1.0, 0.0, 1.0]).is_err());
        // Both empty: the script's conventions.
        let r = run(&a, &a, &[1], 2.0, &s).unwrap();
        assert_eq!(
            (r.legacy_dice, r.legacy_hd95, r.sensitivity),
            (1.0, 0.0, 1.0)
        );
        assert_eq!((r.lesionwise_dice, r.lesionwise_hd95), (1.0, 0.0));
    }

    /// Two reference blobs 3 voxels apart merge under dilation 3 (GLI) but not 1 (MET); one
    /// prediction bridging them is matched to both under MET.
    #[test]
    fn merging_by_dilation() {
        let mut g = ndarray::ArrayD::<u32>::zeros(vec![12, 6, 6]);
        let mut p = g.clone();
        for i in 1..4 {
            g[[i, 2, 2]] = 1;
            g[[i + 6, 2, 2]] = 1;
        }
        for i in 1..10 {
            p[[i, 2, 2]] = 1;
        }
        let run = |c: Brats2023Challenge| {
            brats2023_region(
                &p.view(),
                &g.view(),
                c,
                Brats2023Region::Wt,
                &[1.0; 3],
                ScanOrder::RowMajor,
            )
            .unwrap()
        };
        let gli = run(Brats2023Challenge::Gli);
        assert_eq!(gli.lesions.len(), 1);
        assert_eq!(gli.lesions[0].gt_voxels, 6);
        assert!((gli.lesions[0].dice - 12.0 / 15.0).abs() < 1e-12);
        // 6 mm^3 <= 50: dropped; nothing else counts, so the score is the "no lesion" 1.
        assert_eq!((gli.num_tp, gli.num_fn, gli.num_fp), (0, 0, 0));
        assert_eq!(gli.lesionwise_dice, 1.0);
        let met = run(Brats2023Challenge::Met);
        assert_eq!(met.lesions.len(), 2);
        assert_eq!(met.tp_pred_components, vec![1, 1]);
        assert_eq!((met.num_tp, met.num_fn, met.num_fp), (2, 0, 0));
        for l in &met.lesions {
            assert!((l.dice - 6.0 / 12.0).abs() < 1e-12);
        }
    }
}
