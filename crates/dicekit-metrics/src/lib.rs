//! Segmentation metrics with every peer's convention named: overlap from confusion counts,
//! surface distances (HD, HD95, ASSD, NSD) under voxel-face, fully-connected or surfel
//! boundaries with exact anisotropic distances, centreline Dice (clDice) on scikit-image-exact
//! skeletons, calibration, and typed empty-mask results.
//!
//! No burn and no other dicekit crate: this crate runs on plain `ndarray` arrays. Its exact
//! distance transform ([`edt`], [`squared_edt`]) is the one the weight maps and the losses use.

mod boundary;
mod calibration;
mod classification;
mod cldice;
mod components;
mod convention;
mod counts;
pub mod edt;
mod error;
mod evaluate;
mod label;
mod lesion;
mod metric;
mod nearest;
mod scan;
mod score;
mod skeleton;
mod surface;
mod surface_points;
mod surfel_normals;
#[cfg(test)]
mod test_rng;

pub use calibration::*;
pub use classification::{accuracy, argmax, average_precision, macro_auc, roc_auc};
pub use cldice::{CentrelineCounts, centreline_counts_per_label, cl_dice};
pub use components::{
    BoundingBox, Component, Components, Connectivity, ScanOrder, connected_components,
    instance_components, label_components,
};
pub use convention::{Convention, PeerValue};
pub use counts::{
    Averaging, ConfusionCounts, GdsWeights, average_overlap, confusion_per_label,
    generalized_dice_score,
};
/// The exact distance transform (the weight maps and losses use it too).
pub use edt::{squared_edt, squared_edt_brute};
pub use error::MetricError;
pub use evaluate::{LabelEvaluation, evaluate_label_maps, labels_present};
pub use label::Label;
pub use lesion::*;
pub use metric::{LabelInputs, MetricKind};
pub use score::{Aggregate, EmptyPolicy, EmptySide, Score, aggregate};
pub use skeleton::skeletonize;
pub use surface::{Boundary, Direction, Percentile, SurfaceDistances, SurfaceMean};
