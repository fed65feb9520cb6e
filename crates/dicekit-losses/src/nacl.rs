//! Neighbour-aware calibration loss (NACL, Murugesan et al. 2023): cross-entropy plus a penalty
//! that pulls the logits toward a spatially smoothed one-hot target.
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::{Deserialize, Serialize};

use crate::distance::host;
use crate::error::expect_valid;
use crate::target::{Target, encode};
use crate::{ConfigError, CrossEntropyLossConfig};

/// The smoothing kernel of the constraint target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NaclKernel {
    /// The `size^d` box average (MONAI `kernel_ops='mean'`).
    Mean {
        /// Side of the box, >= 1.
        size: usize,
    },
    /// MONAI's Gaussian (`kernel_ops='gaussian'`): per axis, taps
    /// `k(x) = (erf((x + 1/2) t) - erf((x - 1/2) t)) / 2`, `t = 0.70710678 / sigma`,
    /// `x = -r..=r`, `r = floor(max(4 sigma, 1/2) + 1/2)`, not renormalised.
    Gaussian {
        /// Standard deviation in voxels, > 0.
        sigma: f64,
    },
}

/// The distance between logits and the smoothed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NaclDistance {
    /// Mean absolute difference.
    L1,
    /// Mean squared difference.
    L2,
}

/// Configuration of [`NaclLoss`]. Defaults: MONAI `NACLLoss(kernel_size=3, kernel_ops='mean',
/// distance_type='l1', alpha=0.1)`.
#[derive(Config, Debug)]
pub struct NaclLossConfig {
    /// The smoothing kernel.
    #[config(default = "NaclKernel::Mean { size: 3 }")]
    pub kernel: NaclKernel,
    /// L1 or L2.
    #[config(default = "NaclDistance::L1")]
    pub distance: NaclDistance,
    /// Weight of the constraint. Finite, >= 0.
    #[config(default = 0.1)]
    pub alpha: f64,
}

impl NaclLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        ConfigError::check_non_negative("alpha", self.alpha)?;
        match self.kernel {
            NaclKernel::Mean { size: 0 } => {
                Err(ConfigError::range("kernel.size", 0, "an integer >= 1"))
            }
            NaclKernel::Gaussian { sigma } if !(sigma.is_finite() && sigma > 0.0) => Err(
                ConfigError::range("kernel.sigma", sigma, "a finite number > 0"),
            ),
            _ => Ok(()),
        }
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, _classes: usize) -> Result<(), ConfigError> {
        self.validate()
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> NaclLoss {
        expect_valid(self.validate());
        NaclLoss {
            config: self.clone(),
        }
    }
}

/// NACL loss with logits `x` and a class-index target:
///
/// ```text
/// u = K * onehot(target)                (per channel, zero padding, 'same' size; a constant)
/// loss = CE(x, target) + alpha mean_{b,c,s} |u - x|        (L1; (u - x)^2 for L2)
/// ```
/// The penalty acts on the logits themselves, as in MONAI (and the authors' code): the network
/// is pulled toward logits equal to the local class proportions.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`] -> `[1]`
#[derive(Debug, Clone)]
pub struct NaclLoss {
    config: NaclLossConfig,
}

/// The 1-D taps of `kernel` and the padding before the centre.
fn taps(kernel: NaclKernel) -> (Vec<f64>, usize) {
    match kernel {
        NaclKernel::Mean { size } => (vec![1.0 / size as f64; size], (size - 1) / 2),
        NaclKernel::Gaussian { sigma } => {
            let r = (f64::max(sigma * 4.0, 0.5) + 0.5).floor() as i64;
            // MONAI's truncated literal for 1 / sqrt(2), kept for bit-level agreement.
            #[allow(clippy::approx_constant)]
            let t = 0.707_106_78 / sigma;
            let k: Vec<f64> = (-r..=r)
                .map(|x| {
                    let x = x as f64;
                    (0.5 * (libm::erf((x + 0.5) * t) - libm::erf((x - 0.5) * t))).max(0.0)
                })
                .collect();
            (k, r as usize)
        }
    }
}

/// Filters every `[B, C]` slab of `values` (shape `dims`) with `taps` along each spatial axis.
fn separable_filter(values: &mut [f64], dims: &[usize], taps: &[f64], before: usize) {
    let spatial = &dims[2..];
    let n: usize = spatial.iter().product::<usize>().max(1);
    let mut line = Vec::new();
    for (axis, &len) in spatial.iter().enumerate() {
        let stride: usize = spatial[axis + 1..].iter().product();
        for slab in values.chunks_mut(n) {
            for start in 0..n {
                if !(start / stride).is_multiple_of(len) {
                    continue; // not the first voxel of a line along `axis`
                }
                line.clear();
                line.extend((0..len).map(|i| slab[start + i * stride]));
                for i in 0..len {
                    let mut acc = 0.0;
                    for (j, &k) in taps.iter().enumerate() {
                        let src = i as i64 + j as i64 - before as i64;
                        if (0..len as i64).contains(&src) {
                            acc += k * line[src as usize];
                        }
                    }
                    slab[start + i * stride] = acc;
                }
            }
        }
    }
}

impl NaclLoss {
    /// The configuration.
    pub fn config(&self) -> &NaclLossConfig {
        &self.config
    }

    /// The reduced loss, `[1]`.
    pub fn forward<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
    ) -> Tensor<1> {
        self.forward_weighted(logits, target, None)
    }

    /// The reduced loss; a weight map enters the cross-entropy term only.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let cfg = &self.config;
        let dims = logits.dims();
        expect_valid(cfg.check_classes(dims[1]));
        let target = target.into();
        let ce = CrossEntropyLossConfig::new().init().forward_weighted(
            logits.clone(),
            target.clone(),
            weight_map,
        );
        let device = logits.device();
        let mut u = host(encode(target, dims, None).truth);
        let (k, before) = taps(cfg.kernel);
        separable_filter(&mut u, &dims, &k, before);
        let u = Tensor::<D>::from_data(TensorData::new(u, dims), &device);
        let diff = u - logits;
        let penalty = match cfg.distance {
            NaclDistance::L1 => diff.abs().mean(),
            NaclDistance::L2 => diff.square().mean(),
        };
        ce + penalty * cfg.alpha
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_kernel_averages_the_neighbourhood() {
        // One line of 5 with a single 1: the 3-box spreads a third to each side.
        let mut v = vec![0.0, 0.0, 1.0, 0.0, 0.0];
        separable_filter(&mut v, &[1, 1, 5], &[1.0 / 3.0; 3], 1);
        let third = 1.0 / 3.0;
        assert_eq!(v, vec![0.0, third, third, third, 0.0]);
        // As a 1 x 5 image, the rows above and below are zero padding: a ninth (as MONAI's
        // 3 x 3 box of 1/9 gives).
        let mut v = vec![0.0, 0.0, 1.0, 0.0, 0.0];
        separable_filter(&mut v, &[1, 1, 1, 5], &[1.0 / 3.0; 3], 1);
        assert!(
            v.iter()
                .zip([0.0, 1.0, 1.0, 1.0, 0.0])
                .all(|(a, b)| (a - b / 9.0).abs() < 1e-15)
        );
    }
}
