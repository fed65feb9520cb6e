//! One serializable enum naming every loss, for configs and the CLI, generated from one list.
//!
//! Registering a loss is its file and one line in the `losses!` list of `lib.rs`: the module,
//! the variant, its `loss` tag, its config with that config's defaults, the built loss, and how a
//! prediction is read from the logits. The file holds a burn `Config` with `validate`,
//! `check_classes` and `init`, and a loss with `forward_weighted(logits, target, weight_map) ->
//! Tensor<1>`. The line declares the module, re-exports its public items, implements
//! [`LossSpec`] and [`WeightedLoss`] through those methods, and generates every dispatch
//! (`validate`, `check_classes`, `init`, `forward`, the defaults of
//! [`AnyLossConfig::from_partial`], [`AnyLossConfig::KINDS`], `name`, `activation`), so that
//! `dicekit train` configs can name the loss at once.
use burn::prelude::*;

use crate::{AnyLossConfig, CompositeLossConfig, ConfigError};

/// Declares each loss module and generates [`AnyLossConfig`], [`AnyLoss`](crate::AnyLoss) and
/// their dispatch from one line per loss:
/// `module::Variant("tag", Config, Config's defaults => Loss, |config| the activation),` with a
/// doc line before it. The composite (a weighted sum of these) is added by hand: it nests them.
macro_rules! losses {
    ($( #[doc = $doc:literal] $module:ident::$variant:ident($tag:literal, $cfg:ty, $defaults:expr => $loss:ty, $act:expr) ),* $(,)?) => {
        $( mod $module; pub use $module::*; )*

        // Each registered loss is a `LossSpec` and a `WeightedLoss` through its inherent methods.
        $(
            impl $crate::LossSpec for $cfg {
                type Loss = $loss;
                fn validate(&self) -> Result<(), $crate::ConfigError> {
                    <$cfg>::validate(self)
                }
                fn check_classes(&self, classes: usize) -> Result<(), $crate::ConfigError> {
                    <$cfg>::check_classes(self, classes)
                }
                fn init(&self) -> $loss {
                    <$cfg>::init(self)
                }
                fn activation(&self) -> $crate::Activation {
                    let act: fn(&$cfg) -> $crate::Activation = $act;
                    act(self)
                }
            }

            impl $crate::WeightedLoss for $loss {
                fn forward_weighted<const D: usize>(
                    &self,
                    logits: ::burn::tensor::Tensor<D>,
                    target: $crate::Target<D>,
                    weight_map: Option<::burn::tensor::Tensor<D>>,
                ) -> ::burn::tensor::Tensor<1> {
                    <$loss>::forward_weighted(self, logits, target, weight_map)
                }
            }
        )*

        /// Any loss of this crate, tagged by `"loss"` in JSON/TOML:
        /// `{"loss": "overlap", "index": "dice", "activation": "sigmoid", ...}`.
        #[derive(Debug, Clone, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(tag = "loss", rename_all = "snake_case")]
        pub enum AnyLossConfig {
            $( #[doc = $doc] $variant($cfg), )*
            /// Weighted sum of losses.
            Composite(crate::CompositeLossConfig),
        }

        /// A built loss of any kind.
        #[derive(Debug, Clone)]
        pub enum AnyLoss {
            $( #[doc = $doc] $variant($loss), )*
            /// Weighted sum.
            Composite(crate::CompositeLoss),
        }

        impl AnyLossConfig {
            /// The `loss` tags accepted by [`from_partial`](Self::from_partial).
            pub const KINDS: &'static [&'static str] = &[$( $tag, )* "composite"];

            /// Checks every value that does not depend on the input.
            pub fn validate(&self) -> Result<(), crate::ConfigError> {
                match self {
                    $( Self::$variant(c) => $crate::LossSpec::validate(c), )*
                    Self::Composite(c) => c.validate(),
                }
            }

            /// Checks the values that depend on the number of channels `classes`.
            pub fn check_classes(&self, classes: usize) -> Result<(), crate::ConfigError> {
                match self {
                    $( Self::$variant(c) => $crate::LossSpec::check_classes(c, classes), )*
                    Self::Composite(c) => c.check_classes(classes),
                }
            }

            /// Builds the loss.
            ///
            /// # Panics
            /// With the message of [`validate`](Self::validate) on a bad value.
            pub fn init(&self) -> AnyLoss {
                match self {
                    $( Self::$variant(c) => AnyLoss::$variant($crate::LossSpec::init(c)), )*
                    Self::Composite(c) => AnyLoss::Composite(c.init()),
                }
            }

            /// Short name for logs (the `loss` tag).
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $tag, )*
                    Self::Composite(_) => "composite",
                }
            }

            /// The activation the loss applies to the logits: how a prediction is read from them
            /// (a composite uses its first term's).
            pub fn activation(&self) -> crate::Activation {
                match self {
                    $( Self::$variant(c) => $crate::LossSpec::activation(c), )*
                    Self::Composite(c) => c
                        .terms
                        .first()
                        .map_or(crate::Activation::Softmax, |t| t.loss.activation()),
                }
            }

            /// The defaults of the loss tagged `kind`, as JSON (`None` for an unknown tag and for
            /// `composite`).
            fn defaults_of(kind: &str) -> Option<Result<serde_json::Value, crate::ConfigError>> {
                let value = match kind {
                    $( $tag => serde_json::to_value(Self::$variant($defaults)), )*
                    _ => return None,
                };
                Some(value.map_err(|e| crate::ConfigError::Parse(format!("loss `{kind}`: {e}"))))
            }
        }

        impl AnyLoss {
            /// The loss and its terms; `weight_map` is `[B, 1|C, ...S]`.
            pub fn forward<const D: usize>(
                &self,
                logits: ::burn::tensor::Tensor<D>,
                target: impl Into<crate::Target<D>>,
                weight_map: Option<::burn::tensor::Tensor<D>>,
            ) -> crate::LossOutput {
                let target = target.into();
                let (name, total) = match self {
                    $( Self::$variant(l) => ($tag, $crate::WeightedLoss::forward_weighted(l, logits, target, weight_map)), )*
                    Self::Composite(l) => return l.forward_terms(logits, target, weight_map),
                };
                crate::LossOutput {
                    total: total.clone(),
                    terms: vec![(name.to_string(), total)],
                }
            }
        }
    };
}

/// What training needs from a loss's configuration: checks, the built loss and how a
/// prediction is read from the logits. Every loss registered in the `losses!` list implements it
/// through its inherent methods (the registry line generates the impl), so generic code can take
/// any loss's config.
///
/// ```
/// use dicekit_losses::{Activation, LossSpec, TopKLossConfig};
///
/// fn fits<C: LossSpec>(config: &C, channels: usize) -> bool {
///     config.check_classes(channels).is_ok()
/// }
/// let top_k = TopKLossConfig::new();
/// assert!(fits(&top_k, 3));
/// assert_eq!(LossSpec::activation(&top_k), Activation::Softmax);
/// ```
pub trait LossSpec {
    /// The built loss.
    type Loss: WeightedLoss;
    /// Checks every value that does not depend on the input.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field.
    fn validate(&self) -> Result<(), ConfigError>;
    /// Checks the values that depend on the number of output channels.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the field.
    fn check_classes(&self, classes: usize) -> Result<(), ConfigError>;
    /// Builds the loss.
    fn init(&self) -> Self::Loss;
    /// The activation the loss applies to the logits.
    fn activation(&self) -> crate::Activation;
}

/// A built loss as training calls it: logits `[B, C, ...S]`, a target, an optional per-voxel
/// weight map `[B, 1|C, ...S]`, the reduced loss `[1]`.
pub trait WeightedLoss {
    /// The reduced loss.
    fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: crate::Target<D>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1>;
}

impl AnyLossConfig {
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
        let defaults = match kind {
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
            other => match Self::defaults_of(other) {
                Some(d) => d?,
                None => {
                    return Err(ConfigError::Parse(format!(
                        "unknown loss `{other}` (one of {})",
                        Self::KINDS.join(", ")
                    )));
                }
            },
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
}

/// The value of a loss and its terms.
#[derive(Debug, Clone)]
pub struct LossOutput {
    /// The value to differentiate, `[1]`.
    pub total: Tensor<1>,
    /// `(name, value)` of each term (a single entry for non-composite losses).
    pub terms: Vec<(String, Tensor<1>)>,
}
