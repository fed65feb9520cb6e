//! Top-k cross-entropy: the mean of the hardest k % of the voxels' cross-entropy terms.
use burn::prelude::*;

use crate::error::expect_valid;
use crate::{Activation, ConfigError, CrossEntropyLoss, CrossEntropyLossConfig, Target};

/// Configuration of [`TopKLoss`]. Defaults: nnU-Net's `TopKLoss()` (k = 10 %).
#[derive(Config, Debug)]
pub struct TopKLossConfig {
    /// Per cent of the voxels kept, in (0, 100] (nnU-Net `k`).
    #[config(default = 10.0)]
    pub k: f64,
    /// `Softmax` (logits in) or `Identity` (probabilities in).
    #[config(default = "Activation::Softmax")]
    pub activation: Activation,
    /// One weight per class (nnU-Net `weight`): each voxel's term is scaled by its label's.
    pub class_weights: Option<Vec<f64>>,
    /// Label smoothing `s` in [0, 1) (nnU-Net `label_smoothing`).
    #[config(default = 0.0)]
    pub label_smoothing: f64,
    /// Label of voxels to ignore: their term is 0 and they still count in the voxels that `k`
    /// is a percentage of (nnU-Net `ignore_index`).
    pub ignore_index: Option<i64>,
}

impl TopKLossConfig {
    /// Checks every value that does not depend on the input.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.k > 0.0 && self.k <= 100.0) {
            return Err(ConfigError::range("k", self.k, "a per cent in (0, 100]"));
        }
        self.cross_entropy().validate()
    }

    /// Checks the values that depend on the number of channels `classes`.
    pub fn check_classes(&self, classes: usize) -> Result<(), ConfigError> {
        self.validate()?;
        self.cross_entropy().check_classes(classes)
    }

    /// Builds the loss.
    ///
    /// # Panics
    /// With the message of [`validate`](Self::validate) on a bad value.
    pub fn init(&self) -> TopKLoss {
        expect_valid(self.validate());
        TopKLoss {
            config: self.clone(),
            cross_entropy: self.cross_entropy().init(),
        }
    }

    /// The cross-entropy whose per-voxel terms are ranked.
    fn cross_entropy(&self) -> CrossEntropyLossConfig {
        CrossEntropyLossConfig::new()
            .with_activation(self.activation)
            .with_class_weights(self.class_weights.clone())
            .with_label_smoothing(self.label_smoothing)
            .with_ignore_index(self.ignore_index)
    }
}

/// nnU-Net's top-k loss: the cross-entropy of every voxel (torch `reduction='none'`, see
/// [`CrossEntropyLoss`]), and the mean of the largest `n_k` of them:
///
/// ```text
/// t_i  = w_{y_i} ((1 - s) nll_i + (s / C) smooth_i) m_i     (0 for an ignored voxel)
/// n_k  = max(1, floor(N k / 100))                            (N: every voxel of the batch)
/// loss = mean of the n_k largest t_i
/// ```
/// The hardest voxels set the gradient, so a rare class that is still misclassified keeps
/// weight after the easy background is learned. nnU-Net's `int(N k / 100)` is 0 for a tiny
/// input and its mean then NaN; here at least one voxel is kept.
///
/// # Shapes
/// - `logits`: `[B, C, ...S]`; `target`: see [`Target`]; `weight_map` (`m`): `[B, 1, ...S]`
/// - `forward` -> `[1]`
#[derive(Debug, Clone)]
pub struct TopKLoss {
    config: TopKLossConfig,
    cross_entropy: CrossEntropyLoss,
}

impl TopKLoss {
    /// The configuration.
    pub fn config(&self) -> &TopKLossConfig {
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

    /// The reduced loss; the weight map multiplies each voxel's term before the ranking.
    pub fn forward_weighted<const D: usize>(
        &self,
        logits: Tensor<D>,
        target: impl Into<Target<D>>,
        weight_map: Option<Tensor<D>>,
    ) -> Tensor<1> {
        let terms = self
            .cross_entropy
            .forward_no_reduction(logits, target, weight_map);
        let n = terms.shape().num_elements();
        let kept = ((n as f64 * self.config.k / 100.0) as usize).clamp(1, n.max(1));
        terms.reshape([n]).topk(kept, 0).mean()
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::TensorData;

    use super::*;

    /// The mean of the largest `k` % of the per-voxel cross-entropies, by sorting on the host.
    #[test]
    fn equals_the_mean_of_the_largest_terms() {
        let device = Device::flex();
        let logits = Tensor::<4>::from_data(
            TensorData::new(
                (0..2 * 3 * 4 * 5)
                    .map(|i| ((i * 37 % 23) as f32 - 11.0) / 4.0)
                    .collect::<Vec<_>>(),
                [2, 3, 4, 5],
            ),
            &device,
        );
        let labels = Tensor::<4, Int>::from_data(
            TensorData::new((0..40).map(|i| (i * 7 % 3) as i64).collect::<Vec<_>>(), [2, 1, 4, 5]),
            &device,
        );
        let config = TopKLossConfig::new().with_k(25.0);
        let loss = config.init().forward(logits.clone(), labels.clone());
        let ce = CrossEntropyLossConfig::new().init();
        let mut terms: Vec<f32> = ce
            .forward_no_reduction(logits, labels, None)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        terms.sort_by(|a, b| b.total_cmp(a));
        let expected = terms[..10].iter().sum::<f32>() / 10.0;
        let got: f32 = loss.into_scalar();
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
    }

    #[test]
    fn k_outside_0_100_is_refused() {
        for k in [0.0, -1.0, 100.5, f64::NAN] {
            assert!(TopKLossConfig::new().with_k(k).validate().is_err(), "{k}");
        }
    }
}
