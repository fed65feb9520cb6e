//! One serializable enum naming every loss, for configs and the CLI.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    BceLoss, BceLossConfig, BoundaryLoss, BoundaryLossConfig, ClDiceLoss, ClDiceLossConfig,
    CompositeLoss, CompositeLossConfig, ConfigError, CrossEntropyLoss, CrossEntropyLossConfig,
    FocalLoss, FocalLossConfig, GeneralizedDiceLoss, GeneralizedDiceLossConfig, HausdorffDtLoss,
    HausdorffDtLossConfig, LovaszLoss, LovaszLossConfig, MccLoss, MccLossConfig, NaclLoss,
    NaclLossConfig, OverlapLoss, OverlapLossConfig, Target, UnifiedFocalLoss,
    UnifiedFocalLossConfig, WassersteinDiceLoss, WassersteinDiceLossConfig,
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
    /// Matthews correlation coefficient.
    Mcc(MccLossConfig),
    /// Hausdorff distance through distance transforms.
    HausdorffDt(HausdorffDtLossConfig),
    /// Boundary loss (signed distance maps).
    Boundary(BoundaryLossConfig),
    /// Soft centreline Dice.
    ClDice(ClDiceLossConfig),
    /// Generalized Wasserstein Dice.
    WassersteinDice(WassersteinDiceLossConfig),
    /// Asymmetric unified focal.
    UnifiedFocal(UnifiedFocalLossConfig),
    /// Neighbour-aware calibration.
    Nacl(NaclLossConfig),
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
            Self::Mcc(c) => c.validate(),
            Self::HausdorffDt(c) => c.validate(),
            Self::Boundary(c) => c.validate(),
            Self::ClDice(c) => c.validate(),
            Self::WassersteinDice(c) => c.validate(),
            Self::UnifiedFocal(c) => c.validate(),
            Self::Nacl(c) => c.validate(),
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
            Self::Mcc(c) => c.check_classes(classes),
            Self::HausdorffDt(c) => c.check_classes(classes),
            Self::Boundary(c) => c.check_classes(classes),
            Self::ClDice(c) => c.check_classes(classes),
            Self::WassersteinDice(c) => c.check_classes(classes),
            Self::UnifiedFocal(c) => c.check_classes(classes),
            Self::Nacl(c) => c.check_classes(classes),
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
            Self::Mcc(c) => AnyLoss::Mcc(c.init()),
            Self::HausdorffDt(c) => AnyLoss::HausdorffDt(c.init()),
            Self::Boundary(c) => AnyLoss::Boundary(c.init()),
            Self::ClDice(c) => AnyLoss::ClDice(c.init()),
            Self::WassersteinDice(c) => AnyLoss::WassersteinDice(c.init()),
            Self::UnifiedFocal(c) => AnyLoss::UnifiedFocal(c.init()),
            Self::Nacl(c) => AnyLoss::Nacl(c.init()),
            Self::Composite(c) => AnyLoss::Composite(c.init()),
        }
    }

    /// Parses a possibly partial description such as
    /// `{"loss": "overlap", "index": "jaccard", "activation": "sigmoid"}`: every missing field takes
    /// its default, and a field the loss does not have is an error naming it. Composite terms are
    /// parsed the same way: `{"loss": "composite", "terms": [{"name": "dice", "weight": 1, "loss": {..}}]}`.
    pub fn from_partial(value: &serde_json::Value) -> Result<Self, ConfigError> {
        use serde_json::{Map, Value};
        let obj = value.as_object().ok_or_else(|| {
            ConfigError::Parse(format!("expected a table with a `loss` key, got {value}"))
        })?;
        let kind = obj.get("loss").and_then(Value::as_str).ok_or_else(|| {
            ConfigError::Parse(format!(
                "missing `loss` (one of {})",
                Self::KINDS.join(", ")
            ))
        })?;
        let to_value = |v: Result<Value, serde_json::Error>| v.expect("configs serialize");
        let defaults = match kind {
            "overlap" => to_value(serde_json::to_value(OverlapLossConfig::new())),
            "generalized_dice" => to_value(serde_json::to_value(GeneralizedDiceLossConfig::new())),
            "focal" => to_value(serde_json::to_value(FocalLossConfig::new())),
            "bce" => to_value(serde_json::to_value(BceLossConfig::new())),
            "cross_entropy" => to_value(serde_json::to_value(CrossEntropyLossConfig::new())),
            "lovasz" => to_value(serde_json::to_value(LovaszLossConfig::new())),
            "mcc" => to_value(serde_json::to_value(MccLossConfig::new())),
            "hausdorff_dt" => to_value(serde_json::to_value(HausdorffDtLossConfig::new())),
            "boundary" => to_value(serde_json::to_value(BoundaryLossConfig::new())),
            "cl_dice" => to_value(serde_json::to_value(ClDiceLossConfig::new())),
            "wasserstein_dice" => {
                // No default class distances: the user's matrix is required.
                if !obj.contains_key("distances") {
                    return Err(ConfigError::Parse(
                        "loss `wasserstein_dice` needs `distances = [[..], ..]` (C x C)".into(),
                    ));
                }
                to_value(serde_json::to_value(WassersteinDiceLossConfig::new(vec![
                    vec![0.0, 1.0],
                    vec![1.0, 0.0],
                ])))
            }
            "unified_focal" => to_value(serde_json::to_value(UnifiedFocalLossConfig::new())),
            "nacl" => to_value(serde_json::to_value(NaclLossConfig::new())),
            "composite" => {
                let terms = obj.get("terms").and_then(Value::as_array).ok_or_else(|| {
                    ConfigError::Parse(
                        "a composite loss needs `terms = [{name, weight, loss}, ..]`".into(),
                    )
                })?;
                if let Some(k) = obj
                    .keys()
                    .find(|k| !["loss", "terms"].contains(&k.as_str()))
                {
                    return Err(ConfigError::UnknownField {
                        loss: kind.into(),
                        field: k.clone(),
                        known: "terms".into(),
                    });
                }
                let mut parsed = Vec::with_capacity(terms.len());
                for t in terms {
                    let name = t
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("term")
                        .to_string();
                    let weight = t.get("weight").and_then(Value::as_f64).ok_or_else(|| {
                        ConfigError::Parse(format!(
                            "composite term `{name}` needs a numeric `weight`"
                        ))
                    })?;
                    let loss = Self::from_partial(t.get("loss").unwrap_or(&Value::Null))?;
                    parsed.push(crate::CompositeTerm { name, weight, loss });
                }
                let cfg = CompositeLossConfig::new(parsed);
                cfg.validate()?;
                return Ok(Self::Composite(cfg));
            }
            other => {
                return Err(ConfigError::Parse(format!(
                    "unknown loss `{other}` (one of {})",
                    Self::KINDS.join(", ")
                )));
            }
        };
        let mut merged: Map<String, Value> = defaults.as_object().cloned().unwrap_or_default();
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "loss") {
            if !merged.contains_key(k) {
                let known: Vec<&str> = merged.keys().map(String::as_str).collect();
                return Err(ConfigError::UnknownField {
                    loss: kind.into(),
                    field: k.clone(),
                    known: known.join(", "),
                });
            }
            merged.insert(k.clone(), v.clone());
        }
        merged.insert("loss".into(), Value::String(kind.into()));
        let cfg: Self = serde_json::from_value(Value::Object(merged))
            .map_err(|e| ConfigError::Parse(format!("loss `{kind}`: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The `loss` tags accepted by [`from_partial`](Self::from_partial).
    pub const KINDS: [&'static str; 14] = [
        "overlap",
        "generalized_dice",
        "focal",
        "bce",
        "cross_entropy",
        "lovasz",
        "mcc",
        "hausdorff_dt",
        "boundary",
        "cl_dice",
        "wasserstein_dice",
        "unified_focal",
        "nacl",
        "composite",
    ];

    /// The activation the loss applies to the logits: how a prediction is read from them
    /// (a composite uses its first term's).
    pub fn activation(&self) -> crate::Activation {
        use crate::{Activation, LovaszVariant};
        match self {
            Self::Overlap(c) => c.activation,
            Self::GeneralizedDice(c) => c.activation,
            Self::Focal(c) => c.activation,
            Self::Bce(c) => c.activation,
            Self::CrossEntropy(c) => c.activation,
            Self::Mcc(c) => c.activation,
            Self::HausdorffDt(c) => c.activation,
            Self::Boundary(c) => c.activation,
            Self::ClDice(c) => c.activation,
            Self::UnifiedFocal(c) => c.activation,
            Self::Lovasz(c) => match c.variant {
                LovaszVariant::Hinge => Activation::Sigmoid,
                LovaszVariant::Softmax => Activation::Softmax,
            },
            Self::WassersteinDice(_) | Self::Nacl(_) => Activation::Softmax,
            Self::Composite(c) => c
                .terms
                .first()
                .map_or(Activation::Softmax, |t| t.loss.activation()),
        }
    }

    /// Short name for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Overlap(_) => "overlap",
            Self::GeneralizedDice(_) => "generalized_dice",
            Self::Focal(_) => "focal",
            Self::Bce(_) => "bce",
            Self::CrossEntropy(_) => "cross_entropy",
            Self::Lovasz(_) => "lovasz",
            Self::Mcc(_) => "mcc",
            Self::HausdorffDt(_) => "hausdorff_dt",
            Self::Boundary(_) => "boundary",
            Self::ClDice(_) => "cl_dice",
            Self::WassersteinDice(_) => "wasserstein_dice",
            Self::UnifiedFocal(_) => "unified_focal",
            Self::Nacl(_) => "nacl",
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
    /// Matthews correlation.
    Mcc(MccLoss),
    /// Hausdorff distance through distance transforms.
    HausdorffDt(HausdorffDtLoss),
    /// Boundary loss.
    Boundary(BoundaryLoss),
    /// Soft centreline Dice.
    ClDice(ClDiceLoss),
    /// Generalized Wasserstein Dice.
    WassersteinDice(WassersteinDiceLoss),
    /// Asymmetric unified focal.
    UnifiedFocal(UnifiedFocalLoss),
    /// Neighbour-aware calibration.
    Nacl(NaclLoss),
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
            Self::CrossEntropy(l) => (
                "cross_entropy",
                l.forward_weighted(logits, target, weight_map),
            ),
            Self::Lovasz(l) => ("lovasz", l.forward_weighted(logits, target, weight_map)),
            Self::Mcc(l) => ("mcc", l.forward_weighted(logits, target, weight_map)),
            Self::HausdorffDt(l) => (
                "hausdorff_dt",
                l.forward_weighted(logits, target, weight_map),
            ),
            Self::Boundary(l) => ("boundary", l.forward_weighted(logits, target, weight_map)),
            Self::ClDice(l) => ("cl_dice", l.forward_weighted(logits, target, weight_map)),
            Self::WassersteinDice(l) => (
                "wasserstein_dice",
                l.forward_weighted(logits, target, weight_map),
            ),
            Self::UnifiedFocal(l) => (
                "unified_focal",
                l.forward_weighted(logits, target, weight_map),
            ),
            Self::Nacl(l) => ("nacl", l.forward_weighted(logits, target, weight_map)),
            Self::Composite(l) => return l.forward_terms(logits, target, weight_map),
        };
        LossOutput {
            total: total.clone(),
            terms: vec![(name.to_string(), total)],
        }
    }
}
