//! Dice-family segmentation losses on [burn](https://burn.dev), reproducing MONAI, smp, kornia,
//! nnU-Net and torch number for number, with each peer's convention as a named option.
//!
//! | loss | config | peers |
//! |---|---|---|
//! | soft Dice, Jaccard, Tversky, focal Tversky | [`OverlapLossConfig`] | MONAI `DiceLoss`/`TverskyLoss`/`MaskedDiceLoss`, smp `DiceLoss`/`JaccardLoss`/`TverskyLoss`, kornia, nnU-Net `SoftDiceLoss` |
//! | generalized Dice | [`GeneralizedDiceLossConfig`] | MONAI `GeneralizedDiceLoss` |
//! | focal | [`FocalLossConfig`] | MONAI, smp, kornia |
//! | BCE | [`BceLossConfig`] | torch `BCEWithLogitsLoss`, smp `SoftBCEWithLogitsLoss` |
//! | CE | [`CrossEntropyLossConfig`] | torch `CrossEntropyLoss`, smp `SoftCrossEntropyLoss` |
//! | composites | [`CompositeLossConfig`] | MONAI `DiceCELoss`/`DiceFocalLoss`/`GeneralizedDiceFocalLoss`, nnU-Net `DC_and_CE_loss` |
//! | Lovász | [`LovaszLossConfig`] | smp, kornia |
//! | Matthews correlation | [`MccLossConfig`] | MONAI `MCCLoss` |
//! | Hausdorff (distance transforms) | [`HausdorffDtLossConfig`] | MONAI `HausdorffDTLoss`, `LogHausdorffDTLoss` |
//! | boundary | [`BoundaryLossConfig`] | MONAI `BoundaryLoss` |
//! | soft clDice | [`ClDiceLossConfig`] | MONAI `SoftclDiceLoss`, `SoftDiceclDiceLoss` (composite) |
//! | generalized Wasserstein Dice | [`WassersteinDiceLossConfig`] | MONAI `GeneralizedWassersteinDiceLoss` |
//! | asymmetric unified focal | [`UnifiedFocalLossConfig`] | MONAI `AsymmetricUnifiedFocalLoss`, `AsymmetricFocalLoss`, `AsymmetricFocalTverskyLoss` |
//! | neighbour-aware calibration | [`NaclLossConfig`] | MONAI `NACLLoss` |
//! | top-k cross-entropy | [`TopKLossConfig`] | nnU-Net `TopKLoss`, `DC_and_topk_loss` (composite) |
//!
//! Every loss takes logits `[B, C, ...S]` (2D or 3D), a [`Target`] (class indices or dense
//! per-class maps) and optionally a per-voxel weight map; each offers `forward` (reduced,
//! `[1]`) and `forward_no_reduction`. Configs are burn `Config`s: serializable, with
//! `validate()` / `check_classes(C)` returning a [`ConfigError`] that names the field.
//!
//! The code is backend-free: it runs on whatever [`burn::prelude::Device`] the tensors live on.

#[macro_use]
mod any;
mod activation;
mod composite;
mod distance;
mod error;
mod kernel;
mod overlap;
mod pixel;
mod reduction;
mod target;

pub use activation::Activation;
pub use any::{LossOutput, LossSpec, WeightedLoss};
pub use composite::{CompositeLoss, CompositeLossConfig, CompositeTerm};
pub use error::ConfigError;
pub use kernel::{fused_calls, with_generic_path};
pub use overlap::{ClassSelection, Intersection, Power, WeightMapMode};
pub use reduction::{MeanOver, Pooling, Reduction, SumOver};
pub use target::{DenseIgnore, Target};

// The losses: one line each (see `any.rs`).
losses! {
    /// Dice, Jaccard, Tversky.
    overlap_loss::Overlap("overlap", OverlapLossConfig, OverlapLossConfig::new() => OverlapLoss, |c| c.activation),
    /// Generalized Dice.
    generalized_dice::GeneralizedDice("generalized_dice", GeneralizedDiceLossConfig, GeneralizedDiceLossConfig::new() => GeneralizedDiceLoss, |c| c.activation),
    /// Focal.
    focal::Focal("focal", FocalLossConfig, FocalLossConfig::new() => FocalLoss, |c| c.activation),
    /// Binary cross-entropy.
    bce::Bce("bce", BceLossConfig, BceLossConfig::new() => BceLoss, |c| c.activation),
    /// Cross-entropy.
    cross_entropy::CrossEntropy("cross_entropy", CrossEntropyLossConfig, CrossEntropyLossConfig::new() => CrossEntropyLoss, |c| c.activation),
    /// Lovász hinge / softmax.
    lovasz::Lovasz("lovasz", LovaszLossConfig, LovaszLossConfig::new() => LovaszLoss, |c| match c.variant {
        LovaszVariant::Hinge => Activation::Sigmoid,
        LovaszVariant::Softmax => Activation::Softmax,
    }),
    /// Matthews correlation coefficient.
    mcc::Mcc("mcc", MccLossConfig, MccLossConfig::new() => MccLoss, |c| c.activation),
    /// Hausdorff distance through distance transforms.
    hausdorff_dt::HausdorffDt("hausdorff_dt", HausdorffDtLossConfig, HausdorffDtLossConfig::new() => HausdorffDtLoss, |c| c.activation),
    /// Boundary loss (signed distance maps).
    boundary::Boundary("boundary", BoundaryLossConfig, BoundaryLossConfig::new() => BoundaryLoss, |c| c.activation),
    /// Soft centreline Dice.
    cldice::ClDice("cl_dice", ClDiceLossConfig, ClDiceLossConfig::new() => ClDiceLoss, |c| c.activation),
    /// Generalized Wasserstein Dice (no default class distances: `distances` is required).
    wasserstein_dice::WassersteinDice("wasserstein_dice", WassersteinDiceLossConfig, WassersteinDiceLossConfig::new(vec![]) => WassersteinDiceLoss, |_| Activation::Softmax),
    /// Asymmetric unified focal.
    unified_focal::UnifiedFocal("unified_focal", UnifiedFocalLossConfig, UnifiedFocalLossConfig::new() => UnifiedFocalLoss, |c| c.activation),
    /// Neighbour-aware calibration.
    nacl::Nacl("nacl", NaclLossConfig, NaclLossConfig::new() => NaclLoss, |_| Activation::Softmax),
    /// nnU-Net's top-k cross-entropy (the hardest k % of the voxels).
    top_k::TopK("top_k", TopKLossConfig, TopKLossConfig::new() => TopKLoss, |c| c.activation),
}
