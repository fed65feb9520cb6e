//! The activation that turns logits into probabilities.
use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, log_softmax, sigmoid, softmax};
use serde::{Deserialize, Serialize};

/// How a loss turns its input into probabilities along the class axis (axis 1).
///
/// ```text
/// Sigmoid:  p = 1 / (1 + exp(-x))                 element by element (binary, multi-label)
/// Softmax:  p_c = exp(x_c) / sum_k exp(x_k)       over axis 1 (multi-class)
/// Identity: p = x                                 the input already holds probabilities
/// ```
/// Logarithms are taken in the stable forms `log_sigmoid` and `log_softmax`, so saturated
/// logits (|x| = 100) give finite losses and gradients.
///
/// A softmax over a single channel is the constant 1 and would teach nothing: `Softmax` on
/// `[B, 1, ...S]` is taken as the sigmoid of that logit (the two-class softmax of `(0, x)`),
/// with a logged warning. MONAI instead skips the activation there and uses the raw values;
/// its convention is `Identity` for a single channel (see `tests/peers/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Independent sigmoid per element.
    Sigmoid,
    /// Softmax over the class axis.
    Softmax,
    /// No activation: inputs are probabilities in [0, 1].
    Identity,
}

/// Smallest probability used inside logarithms of `Identity` inputs.
const PROB_FLOOR: f64 = 1e-12;

impl Activation {
    /// The activation actually applied to `channels` channels: `Sigmoid` for a single-channel
    /// `Softmax` (logged once), `self` otherwise.
    pub fn for_channels(self, channels: usize) -> Self {
        if self == Activation::Softmax && channels == 1 {
            crate::error::warn_once("softmax/1", || {
                "softmax over a single channel is constant: the sigmoid of the logit is used".into()
            });
            Activation::Sigmoid
        } else {
            self
        }
    }

    /// Probabilities `[B, C, ...S]` from logits `[B, C, ...S]`.
    pub fn probabilities<const D: usize>(self, logits: Tensor<D>) -> Tensor<D> {
        match self.for_channels(logits.dims()[1]) {
            Activation::Sigmoid => sigmoid(logits),
            Activation::Softmax => softmax(logits, 1),
            Activation::Identity => logits,
        }
    }

    /// `ln p` computed stably from the logits.
    pub fn log_probabilities<const D: usize>(self, logits: Tensor<D>) -> Tensor<D> {
        match self.for_channels(logits.dims()[1]) {
            Activation::Sigmoid => log_sigmoid(logits),
            Activation::Softmax => log_softmax(logits, 1),
            Activation::Identity => logits.clamp_min(PROB_FLOOR).log(),
        }
    }

    /// `ln (1 - p)` for the independent (sigmoid / identity) activations.
    ///
    /// # Panics
    /// For `Softmax` over several channels, where `1 - p_c` is not a probability of the same model.
    pub fn log_complement<const D: usize>(self, logits: Tensor<D>) -> Tensor<D> {
        match self.for_channels(logits.dims()[1]) {
            Activation::Sigmoid => log_sigmoid(logits.neg()),
            Activation::Identity => (logits.neg() + 1.0).clamp_min(PROB_FLOOR).log(),
            Activation::Softmax => {
                panic!("log(1 - p) is defined for sigmoid or identity activations only")
            }
        }
    }
}
