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
//!
//! Every loss takes logits `[B, C, ...S]` (2D or 3D), a [`Target`] (class indices or dense
//! per-class maps) and optionally a per-voxel weight map; each offers `forward` (reduced,
//! `[1]`) and `forward_no_reduction`. Configs are burn `Config`s: serializable, with
//! `validate()` / `check_classes(C)` returning a [`ConfigError`] that names the field.
//!
//! The code is backend-free: it runs on whatever [`burn::prelude::Device`] the tensors live on.

mod activation;
mod any;
mod bce;
mod boundary;
mod cldice;
mod composite;
mod cross_entropy;
mod distance;
mod error;
mod focal;
mod generalized_dice;
mod hausdorff_dt;
mod lovasz;
mod mcc;
mod nacl;
mod overlap;
mod overlap_loss;
mod pixel;
mod reduction;
mod target;
mod unified_focal;
mod wasserstein_dice;

pub use activation::Activation;
pub use any::{AnyLoss, AnyLossConfig, LossOutput};
pub use bce::{BceLoss, BceLossConfig};
pub use boundary::{BoundaryLoss, BoundaryLossConfig};
pub use cldice::{ClDiceLoss, ClDiceLossConfig};
pub use composite::{CompositeLoss, CompositeLossConfig, CompositeTerm};
pub use cross_entropy::{CrossEntropyLoss, CrossEntropyLossConfig};
pub use error::ConfigError;
pub use focal::{FocalAlpha, FocalLoss, FocalLossConfig};
pub use generalized_dice::{
    AbsentWeight, GdlWeights, GeneralizedDiceLoss, GeneralizedDiceLossConfig,
};
pub use hausdorff_dt::{HausdorffDtLoss, HausdorffDtLossConfig};
pub use lovasz::{LovaszClasses, LovaszLoss, LovaszLossConfig, LovaszVariant};
pub use mcc::{MccLoss, MccLossConfig};
pub use nacl::{NaclDistance, NaclKernel, NaclLoss, NaclLossConfig};
pub use overlap::{ClassSelection, Intersection, Power, WeightMapMode};
pub use overlap_loss::{
    AbsentClass, GammaPlacement, LossForm, OverlapIndex, OverlapLoss, OverlapLossConfig,
    WeightNormalization,
};
pub use reduction::{MeanOver, Pooling, Reduction, SumOver};
pub use target::{DenseIgnore, Target};
pub use unified_focal::{UnifiedFocalLoss, UnifiedFocalLossConfig};
pub use wasserstein_dice::{WassersteinDiceLoss, WassersteinDiceLossConfig, WassersteinWeighting};
