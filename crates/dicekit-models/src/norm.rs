//! A normalisation layer chosen at configuration time.
use burn::nn::{
    BatchNorm, BatchNormConfig, GroupNorm, GroupNormConfig, InstanceNorm, InstanceNormConfig,
};
use burn::prelude::*;

use crate::NormKind;

/// Batch, instance or group normalisation.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Norm {
    /// Batch normalisation.
    Batch(BatchNorm),
    /// Instance normalisation.
    Instance(InstanceNorm),
    /// Group normalisation.
    Group(GroupNorm),
}

impl Norm {
    /// A layer for `channels` channels.
    pub fn new(kind: NormKind, channels: usize, device: &Device) -> Self {
        match kind {
            NormKind::Batch => Norm::Batch(BatchNormConfig::new(channels).init(device)),
            NormKind::Instance => Norm::Instance(InstanceNormConfig::new(channels).init(device)),
            NormKind::Group(g) => {
                // The largest group count <= g that divides the channels.
                let g = (1..=g.min(channels))
                    .rev()
                    .find(|d| channels.is_multiple_of(*d))
                    .unwrap_or(1);
                Norm::Group(GroupNormConfig::new(g, channels).init(device))
            }
        }
    }

    /// Normalises `[B, C, ...S]`.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Norm::Batch(n) => crate::bn::batch_norm(n, x),
            Norm::Instance(n) => n.forward(x),
            Norm::Group(n) => n.forward(x),
        }
    }
}
