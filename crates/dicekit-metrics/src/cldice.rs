//! Centreline Dice (clDice; Shit et al., "clDice - a Novel Topology-Preserving Loss Function for
//! Tubular Structure Segmentation", CVPR 2021): how much of each mask's skeleton lies inside the
//! other mask.
use ndarray::ArrayViewD;
use serde::{Deserialize, Serialize};

use crate::error::check_shapes;
use crate::{EmptySide, MetricError, Score, skeletonize};

/// Voxel counts behind clDice for one pair of masks, skeletons by [`skeletonize`]. Counts add up
/// over images (`+=`); a score from summed counts pools the images, while the reference scores
/// each image.
#[doc(alias = "centerline")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CentrelineCounts {
    /// Foreground voxels of the prediction `|P|`.
    pub pred_voxels: u64,
    /// Foreground voxels of the reference `|G|`.
    pub truth_voxels: u64,
    /// Voxels of the prediction's skeleton `|S(P)|`.
    pub pred_skeleton: u64,
    /// Voxels of the prediction's skeleton inside the reference `|S(P) ∩ G|`.
    pub pred_skeleton_in_truth: u64,
    /// Voxels of the reference's skeleton `|S(G)|`.
    pub truth_skeleton: u64,
    /// Voxels of the reference's skeleton inside the prediction `|S(G) ∩ P|`.
    pub truth_skeleton_in_pred: u64,
}

impl std::ops::AddAssign for CentrelineCounts {
    fn add_assign(&mut self, o: Self) {
        self.pred_voxels += o.pred_voxels;
        self.truth_voxels += o.truth_voxels;
        self.pred_skeleton += o.pred_skeleton;
        self.pred_skeleton_in_truth += o.pred_skeleton_in_truth;
        self.truth_skeleton += o.truth_skeleton;
        self.truth_skeleton_in_pred += o.truth_skeleton_in_pred;
    }
}

impl CentrelineCounts {
    /// Skeletonizes both masks and counts.
    ///
    /// # Errors
    /// When the shapes differ, or the masks are neither 2D nor 3D.
    pub fn from_masks(
        pred: &ArrayViewD<bool>,
        truth: &ArrayViewD<bool>,
    ) -> Result<Self, MetricError> {
        check_shapes(pred.shape(), truth.shape())?;
        let pred_skeleton = skeletonize(pred)?;
        let truth_skeleton = skeletonize(truth)?;
        let mut c = CentrelineCounts::default();
        ndarray::Zip::from(pred)
            .and(truth)
            .and(&pred_skeleton)
            .and(&truth_skeleton)
            .for_each(|&p, &t, &sp, &st| {
                c.pred_voxels += p as u64;
                c.truth_voxels += t as u64;
                c.pred_skeleton += sp as u64;
                c.pred_skeleton_in_truth += (sp && t) as u64;
                c.truth_skeleton += st as u64;
                c.truth_skeleton_in_pred += (st && p) as u64;
            });
        Ok(c)
    }

    fn empty(&self) -> Option<EmptySide> {
        EmptySide::of(self.pred_voxels, self.truth_voxels)
    }

    /// Topology precision `Tprec = |S(P) ∩ G| / |S(P)|`.
    ///
    /// `Empty(Prediction | Both)` when nothing is predicted, and `Empty(Prediction)` when the
    /// prediction is not empty but its skeleton is (3D thinning can erase small blobs, see
    /// [`skeletonize`]).
    pub fn topology_precision(&self) -> Score {
        match self.empty() {
            Some(side @ (EmptySide::Prediction | EmptySide::Both)) => Score::Empty(side),
            _ if self.pred_skeleton == 0 => Score::Empty(EmptySide::Prediction),
            _ => Score::Value(self.pred_skeleton_in_truth as f64 / self.pred_skeleton as f64),
        }
    }

    /// Topology sensitivity `Tsens = |S(G) ∩ P| / |S(G)|`.
    ///
    /// `Empty(Reference | Both)` when the reference is empty, and `Empty(Reference)` when the
    /// reference is not empty but its skeleton is.
    #[doc(alias = "topology_recall")]
    pub fn topology_sensitivity(&self) -> Score {
        match self.empty() {
            Some(side @ (EmptySide::Reference | EmptySide::Both)) => Score::Empty(side),
            _ if self.truth_skeleton == 0 => Score::Empty(EmptySide::Reference),
            _ => Score::Value(self.truth_skeleton_in_pred as f64 / self.truth_skeleton as f64),
        }
    }

    /// `clDice = 2 Tprec Tsens / (Tprec + Tsens)`, with these typed results where the reference
    /// implementation (jocpae/clDice `cldice_metric`) divides 0 by 0 and returns NaN:
    ///
    /// | case | result |
    /// |---|---|
    /// | both masks empty | `Empty(Both)` |
    /// | one mask empty (a missed object or a false detection) | `Value(0)`, as [`dice`](crate::ConfusionCounts::dice) |
    /// | both masks present, a skeleton empty | `Empty(side)` of the empty skeleton(s) |
    /// | `Tprec + Tsens = 0` (no skeleton inside the other mask) | `Value(0)` |
    ///
    /// Otherwise the value equals the reference's to the last bit: the reference computes its
    /// `tprec` from the reference skeleton and its `tsens` from the predicted one (the paper's
    /// names swapped), which the symmetric formula does not see.
    #[doc(alias = "cldice")]
    pub fn cl_dice(&self) -> Score {
        match self.empty() {
            Some(EmptySide::Both) => Score::Empty(EmptySide::Both),
            Some(EmptySide::Prediction | EmptySide::Reference) => Score::Value(0.0),
            None => match (self.topology_precision(), self.topology_sensitivity()) {
                (Score::Value(p), Score::Value(s)) if p + s == 0.0 => Score::Value(0.0),
                (Score::Value(p), Score::Value(s)) => Score::Value(2.0 * p * s / (p + s)),
                (Score::Empty(_), Score::Empty(_)) => Score::Empty(EmptySide::Both),
                (Score::Empty(side), Score::Value(_)) | (Score::Value(_), Score::Empty(side)) => {
                    Score::Empty(side)
                }
            },
        }
    }
}

/// Centreline Dice of two binary masks (2D or 3D): the harmonic mean of the topology precision
/// `|S(P) ∩ G| / |S(P)|` and sensitivity `|S(G) ∩ P| / |S(G)|`, where `S` is
/// [`skeletonize`] (scikit-image's skeleton, as the clDice reference uses). Empty cases are
/// typed as in [`CentrelineCounts::cl_dice`].
///
/// # Shapes
/// `pred`, `truth`: `[H, W]` or `[D, H, W]`, the same shape.
///
/// # Errors
/// When the shapes differ, or the masks are neither 2D nor 3D.
///
/// # Example
/// ```
/// use dicekit_metrics::{cl_dice, CentrelineCounts, Score};
/// use ndarray::Array2;
/// // A 3-pixel-wide bar against the same bar one row lower.
/// let bar = |top: usize| {
///     Array2::from_shape_fn((8, 12), move |(r, c)| (top..top + 3).contains(&r) && (1..11).contains(&c))
/// };
/// let (pred, truth) = (bar(2), bar(3));
/// let counts = CentrelineCounts::from_masks(&pred.view().into_dyn(), &truth.view().into_dyn())?;
/// // 8 of the 9 skeleton pixels of the upper bar lie in the lower one (its end jogs up a row).
/// assert_eq!(counts.topology_precision(), Score::Value(8.0 / 9.0));
/// assert_eq!(counts.topology_sensitivity(), Score::Value(1.0));
/// let score = cl_dice(&pred.view().into_dyn(), &truth.view().into_dyn())?;
/// assert!((score.value().unwrap() - 16.0 / 17.0).abs() < 1e-15);
/// // Disjoint bars: no skeleton pixel inside the other mask.
/// let score = cl_dice(&bar(0).view().into_dyn(), &bar(5).view().into_dyn())?;
/// assert_eq!(score, Score::Value(0.0));
/// # Ok::<(), dicekit_metrics::MetricError>(())
/// ```
#[doc(alias = "cldice")]
#[doc(alias = "centerline_dice")]
pub fn cl_dice(pred: &ArrayViewD<bool>, truth: &ArrayViewD<bool>) -> Result<Score, MetricError> {
    Ok(CentrelineCounts::from_masks(pred, truth)?.cl_dice())
}

/// [`CentrelineCounts`] of each label of `labels` between two label maps (the masks
/// `map == label`), the labels skeletonized in parallel.
///
/// # Errors
/// When the shapes differ, or the maps are neither 2D nor 3D.
pub fn centreline_counts_per_label<T: crate::Label>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    labels: &[u32],
) -> Result<Vec<CentrelineCounts>, MetricError> {
    use rayon::prelude::*;
    check_shapes(pred.shape(), truth.shape())?;
    labels
        .par_iter()
        .map(|&l| {
            // Skeletons are taken on row-major masks whatever the maps' layout.
            let p = pred
                .mapv(|v| v.to_u32() == l)
                .as_standard_layout()
                .into_owned();
            let t = truth
                .mapv(|v| v.to_u32() == l)
                .as_standard_layout()
                .into_owned();
            CentrelineCounts::from_masks(&p.view(), &t.view())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    fn counts(p: u64, g: u64, sp: u64, spg: u64, sg: u64, sgp: u64) -> CentrelineCounts {
        CentrelineCounts {
            pred_voxels: p,
            truth_voxels: g,
            pred_skeleton: sp,
            pred_skeleton_in_truth: spg,
            truth_skeleton: sg,
            truth_skeleton_in_pred: sgp,
        }
    }

    #[test]
    fn cl_dice_is_harmonic_mean_of_tprec_and_tsens() {
        let c = counts(10, 12, 4, 3, 5, 2);
        assert_eq!(c.topology_precision(), Score::Value(0.75));
        assert_eq!(c.topology_sensitivity(), Score::Value(0.4));
        let expected = 2.0 * 0.75 * 0.4 / (0.75 + 0.4);
        assert_eq!(c.cl_dice(), Score::Value(expected));
    }

    #[test]
    fn cl_dice_empty_cases_are_typed() {
        assert_eq!(
            counts(0, 0, 0, 0, 0, 0).cl_dice(),
            Score::Empty(EmptySide::Both)
        );
        // A missed object and a false detection score 0, like Dice.
        assert_eq!(counts(0, 5, 0, 0, 3, 0).cl_dice(), Score::Value(0.0));
        assert_eq!(counts(5, 0, 3, 0, 0, 0).cl_dice(), Score::Value(0.0));
        assert_eq!(
            counts(0, 5, 0, 0, 3, 0).topology_precision(),
            Score::Empty(EmptySide::Prediction)
        );
        assert_eq!(
            counts(0, 5, 0, 0, 3, 0).topology_sensitivity(),
            Score::Value(0.0)
        );
        // Present masks without a skeleton.
        assert_eq!(
            counts(8, 5, 0, 0, 3, 2).cl_dice(),
            Score::Empty(EmptySide::Prediction)
        );
        assert_eq!(
            counts(8, 5, 3, 2, 0, 0).cl_dice(),
            Score::Empty(EmptySide::Reference)
        );
        assert_eq!(
            counts(8, 8, 0, 0, 0, 0).cl_dice(),
            Score::Empty(EmptySide::Both)
        );
        // No skeleton voxel inside the other mask.
        assert_eq!(counts(4, 4, 2, 0, 2, 0).cl_dice(), Score::Value(0.0));
    }

    #[test]
    fn cl_dice_of_a_2x2x2_cube_prediction_is_empty_prediction() {
        // scikit-image 0.26 thins a 2x2x2 cube away, so the prediction has no centreline.
        let mut pred = Array3::from_elem((4, 4, 6), false);
        let mut truth = pred.clone();
        for p in 1..3 {
            for r in 1..3 {
                for c in 1..3 {
                    pred[[p, r, c]] = true;
                }
            }
        }
        for c in 0..6 {
            truth[[1, 1, c]] = true;
        }
        let s = cl_dice(&pred.view().into_dyn(), &truth.view().into_dyn()).unwrap();
        assert_eq!(s, Score::Empty(EmptySide::Prediction));
    }

    #[test]
    fn cl_dice_of_identical_masks_is_one() {
        let m = Array2::from_shape_fn((9, 9), |(r, c)| r.abs_diff(4) + c.abs_diff(4) <= 3);
        let s = cl_dice(&m.view().into_dyn(), &m.view().into_dyn()).unwrap();
        assert_eq!(s, Score::Value(1.0));
    }

    #[test]
    fn cl_dice_rejects_mismatched_shapes_and_ranks() {
        let a = Array2::from_elem((3, 4), true).into_dyn();
        let b = Array2::from_elem((4, 3), true).into_dyn();
        assert!(matches!(
            cl_dice(&a.view(), &b.view()),
            Err(MetricError::ShapeMismatch { .. })
        ));
        let c = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[5]), true);
        assert_eq!(
            cl_dice(&c.view(), &c.view()),
            Err(MetricError::UnsupportedRank(1))
        );
    }
}
