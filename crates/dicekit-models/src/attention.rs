//! A segmentation used as a means: the U-Net's soft mask is the attention of an image classifier.
//!
//! ```text
//! logits  = UNet(x)                          [B, K, H, W]   (segmentation, trained with Dice)
//! m       = p_c(x) = softmax(logits)_c       [B, 1, H, W]   (sigmoid for K = 1; never thresholded
//!                                                            in the Soft mode)
//! for every encoder and decoder feature map F_l [B, C_l, h_l, w_l]:
//!   m_l   = adaptive_avg_pool(m, h_l x w_l)
//!   a_l   = sum_hw(F_l m_l) / (sum_hw(m_l) + eps)      mask-weighted average   [B, C_l]
//!   g_l   = mean_hw(F_l)                               global context          [B, C_l]
//! z       = concat_l(a_l, g_l)
//! y       = W2 relu(W1 z + b1) + b2          [B, N]   image-class logits
//! loss    = L_seg(logits, mask) + lambda L_cls(y, label)
//! ```
//!
//! The [`MaskAttention`] modes compare what the classifier's gradient does to the segmenter:
//! only `Soft` lets it reach the U-Net's parameters through the mask. `Oracle` pools with the
//! reference mask instead of the predicted one: the bound of what any learned mask can give.
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid, softmax};
use burn::tensor::module::adaptive_avg_pool2d;
use serde::{Deserialize, Serialize};

use crate::{SegmentationModel, UNet2d, UNetConfig};

/// How the segmenter's mask enters the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MaskAttention {
    /// The soft mask (probabilities) weights the pooling, and the classifier's gradient flows
    /// back through the mask and the features into the segmenter: end to end.
    #[default]
    Soft,
    /// The same soft mask and features, detached: the classifier learns on top of the
    /// segmenter, whose parameters receive exactly zero gradient from the classification loss.
    Detached,
    /// The mask thresholded at 0.5 (no gradient through the threshold; the features still
    /// receive the classifier's gradient).
    Hard,
    /// No mask: the weighted average is the global average (plain global pooling).
    None,
    /// The control of the experiment: the reference mask (1 on the mask class, 0 elsewhere)
    /// weights the pooling, as a perfect segmenter's hard mask would; the features still
    /// receive the classifier's gradient. It needs the reference at prediction time too, so it
    /// bounds what a learned mask can give and is not a model to deploy.
    Oracle,
}

impl MaskAttention {
    /// Every mode, in the order (a)-(e) of the attention experiment.
    pub const ALL: [MaskAttention; 5] = [
        MaskAttention::Soft,
        MaskAttention::Detached,
        MaskAttention::Hard,
        MaskAttention::None,
        MaskAttention::Oracle,
    ];

    /// `soft`, `detached`, `hard`, `none` or `oracle`.
    pub fn name(self) -> &'static str {
        match self {
            MaskAttention::Soft => "soft",
            MaskAttention::Detached => "detached",
            MaskAttention::Hard => "hard",
            MaskAttention::None => "none",
            MaskAttention::Oracle => "oracle",
        }
    }

    /// Whether the mode pools with the reference mask, which must then be given to
    /// [`AttentionNet2d::forward_all`].
    pub fn needs_reference(self) -> bool {
        self == MaskAttention::Oracle
    }
}

/// Configuration of [`AttentionNet2d`].
#[derive(Config, Debug)]
pub struct AttentionNetConfig {
    /// The segmenter.
    pub unet: UNetConfig,
    /// Image classes of the classifier.
    #[config(default = 2)]
    pub image_classes: usize,
    /// Hidden units of the classifier's MLP.
    #[config(default = 32)]
    pub hidden: usize,
    /// How the mask enters the classifier.
    #[config(default = "MaskAttention::Soft")]
    pub attention: MaskAttention,
    /// The segmentation class whose probability is the mask (1: the first foreground class
    /// under softmax; with one sigmoid channel the channel itself).
    #[config(default = 1)]
    pub mask_class: usize,
}

impl AttentionNetConfig {
    /// Checks the values; the message names the field.
    ///
    /// # Errors
    /// A [`ModelConfigError`](crate::ModelConfigError) naming the field.
    pub fn validate(&self) -> Result<(), crate::ModelConfigError> {
        self.unet.validate()?;
        if self.image_classes < 2 || self.hidden == 0 {
            return Err(crate::ModelConfigError(format!(
                "image_classes = {} must be >= 2 and hidden = {} >= 1",
                self.image_classes, self.hidden
            )));
        }
        if self.unet.num_classes > 1 && self.mask_class >= self.unet.num_classes {
            return Err(crate::ModelConfigError(format!(
                "mask_class = {} is not a segmentation class (num_classes = {})",
                self.mask_class, self.unet.num_classes
            )));
        }
        Ok(())
    }

    /// Builds the network.
    ///
    /// # Panics
    /// With the message of [`AttentionNetConfig::validate`] on a bad configuration.
    pub fn init(&self, device: &Device) -> AttentionNet2d {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        let ch = self.unet.channels();
        // Encoder levels, then decoder levels (coarsest first), each pooled twice.
        let pooled: usize = ch.iter().sum::<usize>() + ch[..ch.len() - 1].iter().sum::<usize>();
        AttentionNet2d {
            unet: self.unet.init_2d(device),
            hidden: LinearConfig::new(2 * pooled, self.hidden).init(device),
            out: LinearConfig::new(self.hidden, self.image_classes).init(device),
            attention: self.attention,
            mask_class: self.mask_class,
        }
    }
}

/// Everything the attention network computes.
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// Segmentation logits, as [`SegmentationModel::forward`].
    pub segmentation: Vec<Tensor<4>>,
    /// The mask the classifier pooled with, `[B, 1, H, W]` (ones in the `None` mode, the
    /// reference in the `Oracle` mode).
    pub mask: Tensor<4>,
    /// Image-class logits `[B, N]`.
    pub class_logits: Tensor<2>,
}

/// A 2D U-Net whose soft mask is the attention of an image classifier (see the module docs).
#[derive(Module, Debug)]
pub struct AttentionNet2d {
    unet: UNet2d,
    hidden: Linear,
    out: Linear,
    #[module(skip)]
    attention: MaskAttention,
    #[module(skip)]
    mask_class: usize,
}

/// Added to the mask's sum in the weighted average, so an empty mask averages to 0, not NaN.
const MASK_EPS: f64 = 1e-4;

impl AttentionNet2d {
    /// The segmenter.
    pub fn segmenter(&self) -> &UNet2d {
        &self.unet
    }

    /// The mode.
    pub fn attention(&self) -> MaskAttention {
        self.attention
    }

    /// Segmentation, mask and class logits of `x` `[B, C, H, W]`. `reference`: the reference
    /// labels `[B, 1, H, W]`, which only the `Oracle` mode reads (its mask: labels equal to the
    /// mask class, or non-zero with one sigmoid channel); the other modes ignore it.
    ///
    /// # Panics
    /// In the `Oracle` mode without `reference` ([`MaskAttention::needs_reference`] says when
    /// to give it).
    pub fn forward_all(&self, x: Tensor<4>, reference: Option<Tensor<4, Int>>) -> AttentionOutput {
        let (segmentation, mut features) = self.unet.forward_features(x);
        let logits = segmentation[0].clone();
        let [b, k, h, w] = logits.dims();
        let probs = if k == 1 {
            sigmoid(logits)
        } else {
            softmax(logits, 1).narrow(1, self.mask_class, 1)
        };
        let mask = match self.attention {
            MaskAttention::Soft => probs,
            MaskAttention::Detached => {
                features = features.into_iter().map(|f| f.detach()).collect();
                probs.detach()
            }
            MaskAttention::Hard => probs.detach().greater_elem(0.5).float(),
            MaskAttention::None => Tensor::ones([b, 1, h, w], &probs.device()),
            MaskAttention::Oracle => {
                let labels = reference.expect("the oracle attention needs the reference labels");
                assert_eq!(labels.dims(), [b, 1, h, w], "reference labels' shape");
                if k == 1 {
                    labels.not_equal_elem(0).float()
                } else {
                    labels.equal_elem(self.mask_class as i64).float()
                }
            }
        };
        let mut pooled = Vec::with_capacity(2 * features.len());
        for f in features {
            let [_, c, fh, fw] = f.dims();
            let m = if (fh, fw) == (h, w) {
                mask.clone()
            } else {
                adaptive_avg_pool2d(mask.clone(), [fh, fw])
            };
            let weighted = (f.clone() * m.clone())
                .sum_dim(3)
                .sum_dim(2)
                .reshape([b, c]);
            let norm = m.sum_dim(3).sum_dim(2).reshape([b, 1]) + MASK_EPS;
            pooled.push(weighted / norm);
            pooled.push(f.mean_dim(3).mean_dim(2).reshape([b, c]));
        }
        let z = Tensor::cat(pooled, 1);
        let class_logits = self.out.forward(relu(self.hidden.forward(z)));
        AttentionOutput {
            segmentation,
            mask,
            class_logits,
        }
    }
}

impl SegmentationModel<4> for AttentionNet2d {
    fn forward(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        self.unet.forward(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{ModuleVisitor, Param};

    /// Sum of |gradient| over every parameter of a module (0 for parameters without one).
    struct GradientMass<'a> {
        grads: &'a burn::tensor::Gradients,
        total: f64,
        with_grad: usize,
    }

    impl ModuleVisitor for GradientMass<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = param.val().grad(self.grads) {
                self.with_grad += 1;
                self.total += g.abs().sum().into_scalar::<f64>();
            }
        }
    }

    /// Flex's random generator is shared by the tests of this binary, which run on parallel
    /// threads: a test that seeds it holds this lock until its networks are built, or another
    /// test's initialisation would draw from the same stream and change its weights.
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn net(mode: MaskAttention, device: &Device) -> AttentionNet2d {
        AttentionNetConfig::new(UNetConfig::new(1, 2).with_depth(3).with_base_channels(4))
            .with_hidden(8)
            .with_attention(mode)
            .init(device)
    }

    /// Gradient mass of the classification loss alone on the segmenter's and the head's
    /// parameters.
    fn class_gradient(mode: MaskAttention) -> ((f64, usize), (f64, usize)) {
        let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
        let device = Device::flex().autodiff();
        device.seed(7);
        let model = net(mode, &device);
        let x = Tensor::<4>::random(
            [2, 1, 16, 16],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let reference = mode
            .needs_reference()
            .then(|| Tensor::<4, Int>::ones([2, 1, 16, 16], &device));
        let out = model.forward_all(x, reference);
        let labels = Tensor::<1, Int>::from_ints([0, 1], &device);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&device)
            .forward(out.class_logits, labels);
        let grads = loss.backward();
        let mut seg = GradientMass {
            grads: &grads,
            total: 0.0,
            with_grad: 0,
        };
        model.segmenter().visit(&mut seg);
        let mut head = GradientMass {
            grads: &grads,
            total: 0.0,
            with_grad: 0,
        };
        model.hidden.visit(&mut head);
        ((seg.total, seg.with_grad), (head.total, head.with_grad))
    }

    #[test]
    fn the_classification_loss_reaches_the_segmenter_only_end_to_end() {
        let ((soft, soft_n), (head, _)) = class_gradient(MaskAttention::Soft);
        assert!(
            soft > 0.0 && soft.is_finite() && soft_n > 0,
            "{soft} {soft_n}"
        );
        assert!(head > 0.0);
        let ((detached, detached_n), (head, _)) = class_gradient(MaskAttention::Detached);
        assert_eq!(
            (detached, detached_n),
            (0.0, 0),
            "detached must give no gradient"
        );
        assert!(head > 0.0, "the head still learns");
    }

    /// The oracle pools with the reference: its mask is the mask class of the labels, and the
    /// class logits follow the reference, not the prediction.
    #[test]
    fn the_oracle_pools_with_the_reference_mask() {
        let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
        let device = Device::flex();
        device.seed(3);
        let model = net(MaskAttention::Oracle, &device);
        let x = Tensor::<4>::random(
            [1, 1, 16, 16],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let labels = |rows: std::ops::Range<usize>| {
            let v: Vec<i64> = (0..256)
                .map(|i| if rows.contains(&(i / 16)) { 1 } else { 0 })
                .collect();
            Tensor::<4, Int>::from_data(TensorData::new(v, [1, 1, 16, 16]), &device)
        };
        let top = model.forward_all(x.clone(), Some(labels(0..4)));
        let mask: Vec<f32> = top
            .mask
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let want: Vec<f32> = (0..256)
            .map(|i| if i / 16 < 4 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(mask, want);
        let bottom = model.forward_all(x, Some(labels(12..16)));
        let diff = (top.class_logits - bottom.class_logits)
            .abs()
            .sum()
            .into_scalar::<f64>();
        assert!(diff > 0.0, "the oracle's logits ignore the reference");
    }

    #[test]
    fn every_mode_gives_finite_outputs_of_the_right_shapes() {
        let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
        let device = Device::flex();
        for mode in MaskAttention::ALL {
            let reference = Tensor::<4, Int>::zeros([3, 1, 16, 16], &device);
            let out = net(mode, &device)
                .forward_all(Tensor::zeros([3, 1, 16, 16], &device), Some(reference));
            assert_eq!(out.class_logits.dims(), [3, 2]);
            assert_eq!(out.mask.dims(), [3, 1, 16, 16]);
            assert_eq!(out.segmentation[0].dims(), [3, 2, 16, 16]);
            let s = out.class_logits.abs().sum().into_scalar::<f64>();
            assert!(s.is_finite(), "{mode:?}");
        }
        // An empty hard mask averages to 0, not NaN.
        let m = Tensor::<4>::zeros([1, 1, 4, 4], &device);
        let f = Tensor::<4>::ones([1, 3, 4, 4], &device);
        let a = (f * m.clone()).sum_dim(3).sum_dim(2).reshape([1, 3])
            / (m.sum_dim(3).sum_dim(2).reshape([1, 1]) + MASK_EPS);
        assert_eq!(a.sum().into_scalar::<f64>(), 0.0);
    }
}
