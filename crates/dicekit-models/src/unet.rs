//! `UNet2d` and `UNet3d`: one template, two spatial ranks.
use burn::nn::conv::{
    Conv2d, Conv2dConfig, Conv3d, Conv3dConfig, ConvTranspose2d, ConvTranspose2dConfig,
    ConvTranspose3d, ConvTranspose3dConfig,
};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, PaddingConfig2d, PaddingConfig3d};
use burn::prelude::*;

use crate::MaxPool3d;
use crate::conv::FastConv;
use crate::{Downsampling, Nonlinearity, Norm, UNetConfig, Upsampling};

/// A segmentation network on `[B, C_in, ...S]` inputs (`D` = 4 for 2D, 5 for 3D).
pub trait SegmentationModel<const D: usize> {
    /// Logits `[B, K, ...S]` first; with deep supervision, then the logits of each lower
    /// decoder resolution (`S / 2`, `S / 4`, ...).
    fn forward(&self, x: Tensor<D>) -> Vec<Tensor<D>>;
}

/// Nearest-neighbour upsampling by 2 along every spatial axis, through `select` (differentiable).
fn upsample_nearest<const D: usize>(mut x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    for axis in 2..D {
        let n = x.dims()[axis];
        let idx: Vec<i64> = (0..2 * n as i64).map(|i| i / 2).collect();
        x = x.select(axis, Tensor::<1, Int>::from_ints(idx.as_slice(), &device));
    }
    x
}

macro_rules! unet {
    ($(#[$doc:meta])* $Unet:ident, $Block:ident, $D:literal, $N:literal, $Conv:ident, $ConvCfg:ident, $TConv:ident, $TConvCfg:ident, $pad:expr, $pool:ty) => {
        /// Two convolutions, each followed by normalisation and the non-linearity, then dropout.
        #[derive(Module, Debug)]
        pub struct $Block {
            conv1: $Conv,
            norm1: Norm,
            conv2: $Conv,
            norm2: Norm,
            dropout: Option<Dropout>,
            #[module(skip)]
            nonlinearity: Nonlinearity,
        }

        impl $Block {
            fn new(cfg: &UNetConfig, cin: usize, cout: usize, stride: usize, device: &Device) -> Self {
                let conv = |i, o, s| $ConvCfg::new([i, o], [3; $N]).with_stride([s; $N]).with_padding($pad).init(device);
                Self {
                    conv1: conv(cin, cout, stride),
                    norm1: Norm::new(cfg.norm, cout, device),
                    conv2: conv(cout, cout, 1),
                    norm2: Norm::new(cfg.norm, cout, device),
                    dropout: (cfg.dropout > 0.0).then(|| DropoutConfig::new(cfg.dropout).init()),
                    nonlinearity: cfg.nonlinearity,
                }
            }

            fn forward(&self, x: Tensor<$D>) -> Tensor<$D> {
                let x = self.nonlinearity.apply(self.norm1.forward(FastConv::forward_fast(&self.conv1, x)));
                let x = self.nonlinearity.apply(self.norm2.forward(FastConv::forward_fast(&self.conv2, x)));
                match &self.dropout {
                    Some(d) => d.forward(x),
                    None => x,
                }
            }
        }

        $(#[$doc])*
        #[derive(Module, Debug)]
        pub struct $Unet {
            encoder: Vec<$Block>,
            pool: Option<$pool>,
            up_transposed: Vec<$TConv>,
            up_conv: Vec<$Conv>,
            decoder: Vec<$Block>,
            heads: Vec<$Conv>,
            size_divisor: usize,
        }

        impl $Unet {
            /// Builds the network.
            ///
            /// # Panics
            /// With the message of [`UNetConfig::validate`] on a bad configuration.
            pub fn new(cfg: &UNetConfig, device: &Device) -> Self {
                if let Err(e) = cfg.validate() {
                    panic!("{e}");
                }
                let ch = cfg.channels();
                let pooling = cfg.downsampling == Downsampling::MaxPool;
                let encoder = (0..cfg.depth)
                    .map(|l| {
                        let cin = if l == 0 { cfg.in_channels } else { ch[l - 1] };
                        let stride = if l > 0 && !pooling { 2 } else { 1 };
                        $Block::new(cfg, cin, ch[l], stride, device)
                    })
                    .collect();
                let (mut up_transposed, mut up_conv, mut decoder, mut heads) = (vec![], vec![], vec![], vec![]);
                let head = |c: usize| $ConvCfg::new([c, cfg.num_classes], [1; $N]).init(device);
                for l in (1..cfg.depth).rev() {
                    match cfg.upsampling {
                        Upsampling::Transposed => up_transposed.push($TConvCfg::new([ch[l], ch[l - 1]], [2; $N]).with_stride([2; $N]).init(device)),
                        Upsampling::NearestConv => up_conv.push($ConvCfg::new([ch[l], ch[l - 1]], [1; $N]).init(device)),
                    }
                    decoder.push($Block::new(cfg, 2 * ch[l - 1], ch[l - 1], 1, device));
                    if cfg.deep_supervision || l == 1 {
                        heads.push(head(ch[l - 1]));
                    }
                }
                if cfg.depth == 1 {
                    heads.push(head(ch[0]));
                }
                Self {
                    encoder,
                    pool: pooling.then(|| <$pool>::default_2x2()),
                    up_transposed,
                    up_conv,
                    decoder,
                    heads,
                    size_divisor: cfg.size_divisor(),
                }
            }
        }

        impl SegmentationModel<$D> for $Unet {
            fn forward(&self, x: Tensor<$D>) -> Vec<Tensor<$D>> {
                self.forward_features(x).0
            }
        }

        impl $Unet {
            /// The outputs of [`SegmentationModel::forward`] and the feature maps of every level:
            /// the encoder's, full resolution first (the bottleneck last), then the decoder's,
            /// coarsest first.
            pub fn forward_features(&self, x: Tensor<$D>) -> (Vec<Tensor<$D>>, Vec<Tensor<$D>>) {
                let dims = x.dims();
                assert!(
                    dims[2..].iter().all(|s| *s > 0 && s.is_multiple_of(self.size_divisor)),
                    "spatial size {:?} is not a multiple of {} (2^(depth - 1))",
                    &dims[2..],
                    self.size_divisor
                );
                let mut skips = Vec::with_capacity(self.encoder.len());
                let mut x = x;
                for (l, block) in self.encoder.iter().enumerate() {
                    if l > 0 && let Some(p) = &self.pool {
                        x = p.forward(x);
                    }
                    x = block.forward(x);
                    skips.push(x.clone());
                }
                let mut features = skips.clone();
                skips.pop();
                let mut outs = Vec::new();
                let deep = self.heads.len() > 1;
                for (i, block) in self.decoder.iter().enumerate() {
                    let up = match self.up_transposed.get(i) {
                        Some(t) => FastConv::forward_fast(t, x),
                        None => FastConv::forward_fast(&self.up_conv[i], upsample_nearest(x)),
                    };
                    x = block.forward(Tensor::cat(vec![up, skips.pop().expect("one skip per level")], 1));
                    features.push(x.clone());
                    if deep {
                        outs.push(FastConv::forward_fast(&self.heads[i], x.clone()));
                    }
                }
                if !deep {
                    outs.push(FastConv::forward_fast(&self.heads[0], x));
                }
                // Full resolution first.
                outs.reverse();
                (outs, features)
            }
        }
    };
}

/// The 2x2 (2x2x2) max pooling of each rank.
trait Pool2x2 {
    fn default_2x2() -> Self;
}

impl Pool2x2 for MaxPool2d {
    fn default_2x2() -> Self {
        MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()
    }
}

impl Pool2x2 for MaxPool3d {
    fn default_2x2() -> Self {
        MaxPool3d
    }
}

unet!(
    /// 2D U-Net on `[B, C, H, W]`.
    UNet2d, Block2d, 4, 2, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig, PaddingConfig2d::Explicit(1, 1, 1, 1), MaxPool2d
);
unet!(
    /// 3D U-Net on `[B, C, X, Y, Z]`.
    UNet3d, Block3d, 5, 3, Conv3d, Conv3dConfig, ConvTranspose3d, ConvTranspose3dConfig, PaddingConfig3d::Explicit(1, 1, 1), MaxPool3d
);

impl UNetConfig {
    /// A 2D U-Net.
    pub fn init_2d(&self, device: &Device) -> UNet2d {
        UNet2d::new(self, device)
    }

    /// A 3D U-Net.
    pub fn init_3d(&self, device: &Device) -> UNet3d {
        UNet3d::new(self, device)
    }
}
