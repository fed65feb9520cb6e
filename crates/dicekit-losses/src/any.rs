//! One serializable enum naming every loss, for configs and the CLI.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    BceLoss, BceLossConfig, CompositeLoss, CompositeLossConfig, ConfigError, CrossEntropyLoss,
    CrossEntropyLossConfig, FocalLoss, FocalLossConfig, GeneralizedDiceLoss,
    GeneralizedDiceLossConfig, LovaszLoss, LovaszLossConfig, OverlapLoss, OverlapLossConfig,
    Target,
};

/// Any loss of this crate, tagged by `"loss"` in JSON/TOML:
/// `{"loss": "overlap", "index": "dice", "activation": "sigmoid", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "loss", rename_all = "snake_case")]
pub enum AnyLossConfig {
    /// Dice, Jaccard, Tversky.
    Overlap(OverlapLossConfig),
    /// Generalized Dice.
    GeneralizedDice(GeneralizedDiceLossConfig),
    /// Focal.
    Focal(FocalLossConfig),
    /// Binary cross-entropy.
    Bce(BceLossConfig),
    /// Cross-entropy.
    CrossEntropy(CrossEntropyLossConfig),
    /// Lovász hinge / softmax.
    Lovasz(LovaszLossConfig),
    /// Weighted sum of losses.
    Composite(CompositeLossConfig),
}

impl AnyLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Overlap(c) => c.validate(),
            Self::GeneralizedDice(c) => c.validate(),
            Self::Focal(c) => c.validate(),
            Self::Bce(c) => c.validate(),
            Self::CrossEntropy(c) => c.validate(),
            Self::Lovasz(c) => c.validate(),
            Self::Composite(c) => c.validate(),
        }
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        match self {
            Self::Overlap(c) => c.check_classes(classes),
            Self::GeneralizedDice(c) => c.check_classes(classes),
            Self::Focal(c) => c.check_classes(classes),
            Self::Bce(c) => c.check_classes(classes),
            Self::CrossEntropy(c) => c.check_classes(classes),
            Self::Lovasz(c) => c.check_classes(classes),
            Self::Composite(c) => c.check_classes(classes),
        }
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> AnyLoss {
        match self {
            Self::Overlap(c) => AnyLoss::Overlap(c.init()),
            Self::GeneralizedDice(c) => AnyLoss::GeneralizedDice(c.init()),
            Self::Focal(c) => AnyLoss::Focal(c.init()),
            Self::Bce(c) => AnyLoss::Bce(c.init()),
            Self::CrossEntropy(c) => AnyLoss::CrossEntropy(c.init()),
            Self::Lovasz(c) => AnyLoss::Lovasz(c.init()),
            Self::Composite(c) => AnyLoss::Composite(c.init()),
        }
    }

    /// Short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Overlap(_) => "overlap",
            Self::GeneralizedDice(_) => "generalized_dice",
            Self::Focal(_) => "focal",
            Self::Bce(_) => "bce",
            Self::CrossEntropy(_) => "ce",
            Self::Lovasz(_) => "lovasz",
            Self::Composite(_) => "composite",
        }
    }
}

/// The value of a loss and its terms.
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// The value to differentiate, `[1]`.
    pub total: Tensor<1>,
    /// `(name, value)` of each term (a single entry for non-composite losses).
    pub terms: Vec<(String, Tensor<1>)>,
}

/// A built loss of any kind.
#[derive(Debug, Clone)]
pub enum AnyLoss {
    /// Dice, Jaccard, Tversky.
    Overlap(OverlapLoss),
    /// Generalized Dice.
    GeneralizedDice(GeneralizedDiceLoss),
    /// Focal.
    Focal(FocalLoss),
    /// Binary cross-entropy.
    Bce(BceLoss),
    /// Cross-entropy.
    CrossEntropy(CrossEntropyLoss),
    /// Lovász.
    Lovasz(LovaszLoss),
    /// Weighted sum.
    Composite(CompositeLoss),
}

impl AnyLoss {
    /// The loss and its terms; `weight_map` is `[B, 1|C, ...S]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> LossOutput {
        let target = target.into();
        let (name, total) = match self {
            Self::Overlap(l) => ("overlap", l.forward_weighted(logits, target, weight_map)),
            Self::GeneralizedDice(l) => (
                "generalized_dice",
                l.forward_weighted(logits, target, weight_map),
            ),
            Self::Focal(l) => ("focal", l.forward_weighted(logits, target, weight_map)),
            Self::Bce(l) => ("bce", l.forward_weighted(logits, target, weight_map)),
            Self::CrossEntropy(l) => ("ce", l.forward_weighted(logits, target, weight_map)),
            Self::Lovasz(l) => ("lovasz", l.forward_weighted(logits, target, weight_map)),
            Self::Composite(l) => return l.forward_terms(logits, target, weight_map),
        };
        LossOutput {
            total: total.clone(),
            terms: vec![(name.to_string(), total)],
        }
    }
}
