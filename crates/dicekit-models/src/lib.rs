//! U-Nets for segmentation on burn: 2D and 3D, configurable depth, width, normalisation,
//! dropout, down- and upsampling and deep supervision.
//!
//! ```
//! use burn::prelude::*;
//! use dicekit_models::{SegmentationModel, UNetConfig};
//! let device = Device::flex();
//! let model = UNetConfig::new(1, 2).with_depth(3).with_base_channels(4).init_2d(&device);
//! let logits = model.forward(Tensor::<4>::zeros([1, 1, 16, 16], &device));
//! assert_eq!(logits[0].dims(), [1, 2, 16, 16]);
//! ```
mod attention;
pub mod bn;
mod config;
pub mod conv;
mod norm;
mod pool;
mod unet;

pub use attention::{AttentionNet2d, AttentionNetConfig, AttentionOutput, MaskAttention};
pub use config::{Downsampling, ModelConfigError, Nonlinearity, NormKind, UNetConfig, Upsampling};
pub use norm::Norm;
pub use pool::MaxPool3d;
pub use unet::{SegmentationModel, UNet2d, UNet3d};
