//! Lesion-wise (instance-wise) evaluation: matching predicted to reference lesions under each
//! peer's rule, and the detection, panoptic-quality and per-lesion metrics of one matching.
//!
//! Lesions are connected components ([`Lesions::components`]) or the ids of an instance map
//! ([`Lesions::instances`]). Pairwise overlaps come from one pass over both id maps
//! ([`overlaps`]); a [`MatchingRule`] turns them into a [`Matching`] (pairs, misses, false
//! positives, splits and merges), and [`LesionEvaluation`] scores it. FROC analysis from
//! probability maps (candidates, their hits on reference lesions, curve and score) is
//! [`froc()`] and its helpers.
mod assignment;
mod brats;
mod brats2023;
mod froc;
mod matching;
mod metrics;
mod numpy;

pub use brats::{
    BRATS2025_HD95_PENALTY, BRATS2025_MATCHING, Brats2025Parser, Brats2025Results, BratsTask,
    DetectionCounts, GroupEvaluation, LabelGroup, MeanStd, SpacingAxes, binarised_foreground,
    brats2025_evaluate, brats2025_results,
};
pub use brats2023::{
    BRATS2023_HD95_PENALTY, Brats2023Challenge, Brats2023Lesion, Brats2023Region, Brats2023Result,
    brats2023_lesionwise, brats2023_region,
};
pub use froc::{
    CAMELYON_FP_RATES, Candidate, CandidateHit, ComponentCandidates, ComponentScore, Detection,
    FpTpScores, Froc, FrocConvention, FrocCurve, FrocCurveRule, FrocReading, ImageDetections,
    ProbNms, ROC_FP_RATES, component_candidates, component_detections, fp_tp_scores, froc,
    froc_curve, monai_gaussian_kernel, point_detections, prob_nms, prob_nms_smoothed,
    threshold_sweep,
};
pub use matching::{Fragmentation, Lesions, Matching, MatchingRule, Overlap, PairMetric, overlaps};
pub use metrics::{
    GlobalBinary, LesionConvention, LesionEvaluation, LesionOptions, LesionRow,
    MonaiPanopticQuality, PairDistances, PairScores, PanopticQuality, PanopticaSummary,
    evaluate_lesions,
};
