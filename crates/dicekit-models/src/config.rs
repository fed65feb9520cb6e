//! The U-Net configuration.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Normalisation after each convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// Batch normalisation.
    Batch,
    /// Instance normalisation (nnU-Net's default).
    Instance,
    /// Group normalisation with this many groups (clamped to the channel count).
    Group(usize),
}

/// How the encoder halves the resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Downsampling {
    /// The first convolution of each level has stride 2 (nnU-Net).
    StridedConv,
    /// 2x2 (2D) or 2x2x2 (3D, [`MaxPool3d`](crate::MaxPool3d)) max pooling before each level.
    /// Until dicekit 0.1's 3D max pooling, 3D networks asked for it got strided convolutions.
    MaxPool,
}

/// How the decoder doubles the resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upsampling {
    /// Transposed convolution, kernel 2, stride 2.
    Transposed,
    /// Nearest-neighbour upsampling followed by a 1x1 convolution.
    NearestConv,
}

/// The non-linearity after each normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Nonlinearity {
    /// `max(x, 0.01 x)` (nnU-Net's default).
    #[default]
    LeakyRelu,
    /// `max(x, 0)`.
    Relu,
}

impl Nonlinearity {
    /// Applies it.
    pub fn apply<const D: usize>(self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Nonlinearity::LeakyRelu => leaky_relu(x, 0.01),
            Nonlinearity::Relu => burn::tensor::activation::relu(x),
        }
    }
}

/// Leaky ReLU written as `a x + (1 - a) max(x, 0)`: the same function and gradient (`1` for
/// `x > 0`, `a` below) as `max(x, a x)`, built from ReLU, whose backward Flex runs as one fused
/// pass. burn 0.22.1's own `leaky_relu` builds a comparison mask and a select, whose backward is
/// slower: a 2D training step (`step_bench`) took 0.86 s this way against 0.99 s (3D: 6.65 s
/// against 7.38 s), as fast as plain ReLU.
fn leaky_relu<const D: usize>(x: Tensor<D>, slope: f64) -> Tensor<D> {
    burn::tensor::activation::relu(x.clone()).mul_scalar(1.0 - slope) + x.mul_scalar(slope)
}

/// Configuration of [`crate::UNet2d`] and [`crate::UNet3d`].
///
/// Level `l` (0 = full resolution) has `min(base_channels * 2^l, max_channels)` channels; each
/// level holds two `3x3(x3)` convolutions, each followed by the normalisation and a non-linearity
/// (leaky ReLU with slope 0.01 by default). Inputs must have spatial sizes divisible by `2^(depth - 1)`.
#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (classes).
    pub num_classes: usize,
    /// Resolution levels (>= 1).
    #[config(default = 4)]
    pub depth: usize,
    /// Channels at full resolution.
    #[config(default = 16)]
    pub base_channels: usize,
    /// Channel cap.
    #[config(default = 320)]
    pub max_channels: usize,
    /// Normalisation.
    #[config(default = "NormKind::Instance")]
    pub norm: NormKind,
    /// Dropout probability after each block (0 = none).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Encoder downsampling.
    #[config(default = "Downsampling::StridedConv")]
    pub downsampling: Downsampling,
    /// Decoder upsampling.
    #[config(default = "Upsampling::Transposed")]
    pub upsampling: Upsampling,
    /// Non-linearity after each normalisation.
    #[config(default = "Nonlinearity::LeakyRelu")]
    pub nonlinearity: Nonlinearity,
    /// Also return logits at every lower decoder resolution (nnU-Net's deep supervision).
    #[config(default = false)]
    pub deep_supervision: bool,
}

/// A network config value out of range, or an input size the network cannot take; the message
/// names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ModelConfigError(pub String);

impl From<String> for ModelConfigError {
    fn from(message: String) -> Self {
        ModelConfigError(message)
    }
}

impl From<&str> for ModelConfigError {
    fn from(message: &str) -> Self {
        ModelConfigError(message.into())
    }
}

impl UNetConfig {
    /// Checks the values; the message names the field.
    ///
    /// # Errors
    /// A [`ModelConfigError`] naming the field.
    pub fn validate(&self) -> Result<(), ModelConfigError> {
        if self.in_channels == 0
            || self.num_classes == 0
            || self.base_channels == 0
            || self.depth == 0
        {
            return Err("in_channels, num_classes, base_channels and depth must be >= 1".into());
        }
        if self.depth > 8 {
            return Err(ModelConfigError(format!(
                "depth = {} is more than 8 levels",
                self.depth
            )));
        }
        if self.max_channels < self.base_channels {
            return Err(ModelConfigError(format!(
                "max_channels = {} is below base_channels = {}",
                self.max_channels, self.base_channels
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(ModelConfigError(format!(
                "dropout = {} must be in [0, 1)",
                self.dropout
            )));
        }
        if let NormKind::Group(0) = self.norm {
            return Err("norm: group(0) needs at least one group".into());
        }
        Ok(())
    }

    /// Channels of each level.
    pub fn channels(&self) -> Vec<usize> {
        (0..self.depth)
            .map(|l| (self.base_channels << l).min(self.max_channels))
            .collect()
    }

    /// The factor input sizes must be divisible by.
    pub fn size_divisor(&self) -> usize {
        1 << (self.depth - 1)
    }

    /// Checks that a spatial size fits the network.
    ///
    /// # Errors
    /// A [`ModelConfigError`] naming the size and the divisor.
    pub fn check_size(&self, spatial: &[usize]) -> Result<(), ModelConfigError> {
        let d = self.size_divisor();
        match spatial.iter().find(|s| **s == 0 || !s.is_multiple_of(d)) {
            Some(s) => Err(ModelConfigError(format!(
                "spatial size {spatial:?}: {s} is not a positive multiple of {d} (2^(depth - 1))"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    /// The rewritten leaky ReLU against burn's `leaky_relu`: values and gradients, on both sides
    /// of zero; at zero the rewritten form takes the slope as its gradient.
    #[test]
    fn leaky_relu_matches_burns_values_and_gradients() {
        let device = Device::flex().autodiff();
        let xs = vec![-3.0f64, -0.5, -1e-6, 0.0, 1e-6, 0.5, 3.0];
        let n = xs.len();
        let run = |f: fn(Tensor<1>) -> Tensor<1>| {
            let x =
                Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device).require_grad();
            let y = f(x.clone());
            // Distinct weights per element, so each gradient is checked on its own.
            let w = Tensor::<1>::from_data(
                TensorData::new((1..=n).map(|i| i as f64).collect::<Vec<_>>(), [n]),
                &device,
            );
            let grads = (y.clone() * w).sum().backward();
            let g = x.grad(&grads).unwrap();
            (
                y.into_data().convert::<f64>().try_to_vec::<f64>().unwrap(),
                g.into_data().convert::<f64>().try_to_vec::<f64>().unwrap(),
            )
        };
        let (y, g) = run(|x| Nonlinearity::LeakyRelu.apply(x));
        let (y_ref, g_ref) = run(|x| burn::tensor::activation::leaky_relu(x, 0.01));
        for i in 0..n {
            assert!(
                (y[i] - y_ref[i]).abs() <= 1e-6 * y_ref[i].abs().max(1e-6),
                "{i}: {y:?} {y_ref:?}"
            );
            let expected = (i + 1) as f64 * if xs[i] > 0.0 { 1.0 } else { 0.01 };
            assert!(
                (g[i] - expected).abs() < 1e-6,
                "{i}: gradient {} against {expected}",
                g[i]
            );
            if xs[i] != 0.0 {
                assert!((g[i] - g_ref[i]).abs() < 1e-6, "{i}: {g:?} {g_ref:?}");
            }
        }
    }
}
