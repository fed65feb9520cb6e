//! Weighted sums of losses that report each term.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::expect_valid;
use crate::{AnyLoss, AnyLossConfig, LossOutput};
use crate::{
    BceLossConfig, ClDiceLossConfig, ConfigError, CrossEntropyLossConfig, FocalLossConfig,
    GeneralizedDiceLossConfig, OverlapLossConfig, Target,
};

/// One term of a [`CompositeLossConfig`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CompositeTerm {
    /// Name used in logs (`"dice"`, `"ce"`, ...).
    pub name: String,
    /// Weight of the term. Finite, >= 0.
    pub weight: f64,
    /// The loss.
    pub loss: AnyLossConfig,
}

/// A weighted sum of losses, `sum_k lambda_k L_k`, that returns every term beside the total.
#[derive(Config, Debug)]
pub struct CompositeLossConfig {
    /// The terms.
    pub terms: Vec<CompositeTerm>,
}

impl CompositeLossConfig {
    fn pair(a: (&str, f64, AnyLossConfig), b: (&str, f64, AnyLossConfig)) -> Self {
        let term = |(name, weight, loss): (&str, f64, AnyLossConfig)| CompositeTerm {
            name: name.to_string(),
            weight,
            loss,
        };
        Self::new(vec![term(a), term(b)])
    }

    /// `alpha * BCE + (1 - alpha) * Dice`, exactly as written; `alpha` in [0, 1].
    pub fn bce_dice(
        alpha: f64,
        bce: BceLossConfig,
        dice: OverlapLossConfig,
    ) -> Result<Self, ConfigError> {
        ConfigError::check_unit("alpha", alpha)?;
        Ok(Self::pair(
            ("bce", alpha, AnyLossConfig::Bce(bce)),
            ("dice", 1.0 - alpha, AnyLossConfig::Overlap(dice)),
        ))
    }

    /// `(1 - alpha) * Dice + alpha * clDice` (MONAI `SoftDiceclDiceLoss`); `alpha` in [0, 1].
    pub fn dice_cl_dice(
        alpha: f64,
        dice: OverlapLossConfig,
        cl_dice: ClDiceLossConfig,
    ) -> Result<Self, ConfigError> {
        ConfigError::check_unit("alpha", alpha)?;
        Ok(Self::pair(
            ("dice", 1.0 - alpha, AnyLossConfig::Overlap(dice)),
            ("cl_dice", alpha, AnyLossConfig::ClDice(cl_dice)),
        ))
    }

    /// `lambda_dice * Dice + lambda_ce * CE` (MONAI `DiceCELoss`, nnU-Net `DC_and_CE_loss`).
    pub fn dice_ce(
        lambda_dice: f64,
        dice: OverlapLossConfig,
        lambda_ce: f64,
        ce: CrossEntropyLossConfig,
    ) -> Self {
        Self::pair(
            ("dice", lambda_dice, AnyLossConfig::Overlap(dice)),
            ("ce", lambda_ce, AnyLossConfig::CrossEntropy(ce)),
        )
    }

    /// `lambda_dice * Dice + lambda_bce * BCE` (MONAI `DiceCELoss(sigmoid=True)`, nnU-Net `DC_and_BCE_loss`).
    pub fn dice_bce(
        lambda_dice: f64,
        dice: OverlapLossConfig,
        lambda_bce: f64,
        bce: BceLossConfig,
    ) -> Self {
        Self::pair(
            ("dice", lambda_dice, AnyLossConfig::Overlap(dice)),
            ("bce", lambda_bce, AnyLossConfig::Bce(bce)),
        )
    }

    /// `lambda_dice * Dice + lambda_focal * Focal` (MONAI `DiceFocalLoss`).
    pub fn dice_focal(
        lambda_dice: f64,
        dice: OverlapLossConfig,
        lambda_focal: f64,
        focal: FocalLossConfig,
    ) -> Self {
        Self::pair(
            ("dice", lambda_dice, AnyLossConfig::Overlap(dice)),
            ("focal", lambda_focal, AnyLossConfig::Focal(focal)),
        )
    }

    /// `lambda_gdl * GDL + lambda_focal * Focal` (MONAI `GeneralizedDiceFocalLoss`).
    pub fn generalized_dice_focal(
        lambda_gdl: f64,
        gdl: GeneralizedDiceLossConfig,
        lambda_focal: f64,
        focal: FocalLossConfig,
    ) -> Self {
        Self::pair(
            (
                "generalized_dice",
                lambda_gdl,
                AnyLossConfig::GeneralizedDice(gdl),
            ),
            ("focal", lambda_focal, AnyLossConfig::Focal(focal)),
        )
    }

    /// Checks every weight and every term.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.terms.is_empty() {
            return Err(ConfigError::range("terms", "[]", "at least one term"));
        }
        for t in &self.terms {
            ConfigError::check_non_negative("terms.weight", t.weight)?;
            t.loss.validate()?;
        }
        Ok(())
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.terms
            .iter()
            .try_for_each(|t| t.loss.check_classes(classes))
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> CompositeLoss {
        expect_valid(self.validate());
        CompositeLoss {
            terms: self
                .terms
                .iter()
                .map(|t| (t.name.clone(), t.weight, t.loss.init()))
                .collect(),
        }
    }
}

/// A weighted sum of losses.
///
/// ```text
/// total = sum_k lambda_k L_k
/// ```
/// [`forward_terms`](Self::forward_terms) returns the total and each unweighted `L_k`.
#[derive(Debug, Clone)]
pub struct CompositeLoss {
    terms: Vec<(String, f64, AnyLoss)>,
}

impl CompositeLoss {
    /// The reduced total, `[1]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
    ) -> Tensor<1> {
        self.forward_terms(logits, target.into(), None).total
    }

    /// The total and each term (unweighted), for logging.
    pub fn forward_terms<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> LossOutput {
        let mut total: Option<Tensor<1>> = None;
        let mut terms = Vec::with_capacity(self.terms.len());
        for (name, weight, loss) in &self.terms {
            let value = loss
                .forward(logits.clone(), target.clone(), weight_map.clone())
                .total;
            let scaled = value.clone() * *weight;
            total = Some(match total {
                Some(t) => t + scaled,
                None => scaled,
            });
            terms.push((name.clone(), value));
        }
        LossOutput {
            total: total.expect("a composite has at least one term"),
            terms,
        }
    }
}
