//! Targets: class indices or dense per-class maps, and their one-hot encoding.
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The ground truth handed to a loss.
///
/// # Shapes
/// - `Indices`: `[B, 1, ...S]` integer class labels in `0..C` (plus the ignore label, if the
///   loss has one). With a single output channel (`C = 1`) the labels are the binary mask itself.
///   A `[B, ...S]` label map becomes `[B, 1, ...S]` through [`Target::indices_without_channel`].
/// - `Dense`: `[B, C, ...S]` one-hot, multi-hot or soft targets in `[0, 1]` (entries equal to the
///   ignore value, if any, are ignored).
#[derive(Debug, Clone)]
pub enum Target<const D: usize> {
    /// Class labels `[B, 1, ...S]`.
    Indices(Tensor<D, Int>),
    /// Per-class values `[B, C, ...S]`.
    Dense(Tensor<D>),
}

impl<const D: usize> From<Tensor<D, Int>> for Target<D> {
    fn from(labels: Tensor<D, Int>) -> Self {
        Target::Indices(labels)
    }
}

impl<const D: usize> From<Tensor<D>> for Target<D> {
    fn from(values: Tensor<D>) -> Self {
        Target::Dense(values)
    }
}

impl<const D: usize> Target<D> {
    /// Class labels given without the channel axis, `[B, ...S]`, as used by smp, kornia and torch.
    ///
    /// # Panics
    /// If `E + 1 != D`.
    pub fn indices_without_channel<const E: usize>(labels: Tensor<E, Int>) -> Self {
        assert_eq!(
            E + 1,
            D,
            "labels [B, ...S] must have one axis fewer than the logits"
        );
        let mut dims = [1usize; D];
        let src = labels.dims();
        dims[0] = src[0];
        dims[2..].copy_from_slice(&src[1..]);
        Target::Indices(labels.reshape(dims))
    }
}

/// How an ignore value marks the ignored voxels of a dense target `[B, C, ...S]` (class-index
/// targets compare the label with the value under either rule).
///
/// ```text
/// Entries:  entry (b, c, x) ignored  iff  g[b, c, x] == ignore                   (per channel)
/// Monai:    C = 1:            voxel ignored iff g[b, 0, x] == ignore
///           0 <= ignore < C:  weight 1 - g[b, ignore, x] on every channel of the voxel
///           otherwise:        voxel ignored iff sum_c g[b, c, x] <= 0            (no class set)
/// ```
/// `Monai` is MONAI 1.6's `create_ignore_mask`, which its `DiceLoss`, `TverskyLoss` and
/// `FocalLoss` apply to one-hot targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenseIgnore {
    /// Entries equal to the ignore value (smp, kornia, nnU-Net's ignore channel).
    #[default]
    Entries,
    /// MONAI's voxel mask.
    Monai,
}

/// A target encoded against logits of shape `[B, C, ...S]`.
pub(crate) struct Encoded<const D: usize> {
    /// `[B, C, ...S]`, 0 wherever the entry is ignored.
    pub truth: Tensor<D>,
    /// 1 where used, 0 where ignored: `[B, 1, ...S]` for labels, `[B, C, ...S]` for dense targets.
    pub valid: Option<Tensor<D>>,
}

impl<const D: usize> Encoded<D> {
    /// The validity mask times an optional per-voxel weight map.
    pub fn voxel_weight(&self, weight_map: Option<Tensor<D>>) -> Option<Tensor<D>> {
        match (self.valid.clone(), weight_map) {
            (Some(v), Some(w)) => Some(v * w),
            (v, w) => v.or(w),
        }
    }
}

/// Checks the shape of `target` against logits of shape `logits_dims`.
///
/// # Panics
/// On a mismatch, naming both shapes.
pub(crate) fn check_target_shape<const D: usize>(target: &Target<D>, logits_dims: [usize; D]) {
    match target {
        Target::Indices(labels) => {
            let dims = labels.dims();
            let mut expect = logits_dims;
            expect[1] = 1;
            assert!(
                dims == expect,
                "class-index target has shape {dims:?}, expected {expect:?} for logits {logits_dims:?}"
            );
        }
        Target::Dense(values) => {
            let dims = values.dims();
            assert!(
                dims == logits_dims,
                "dense target has shape {dims:?}, expected the logits' shape {logits_dims:?}"
            );
        }
    }
}

/// One-hot encodes (or checks) `target` against `logits_dims`, applying the ignore label
/// ([`DenseIgnore::Entries`] for dense targets).
///
/// # Panics
/// On a shape mismatch between logits and target.
pub(crate) fn encode<const D: usize>(
    target: Target<D>,
    logits_dims: [usize; D],
    ignore: Option<i64>,
) -> Encoded<D> {
    encode_with(target, logits_dims, ignore, DenseIgnore::Entries)
}

/// [`encode`] with the rule for dense targets.
pub(crate) fn encode_with<const D: usize>(
    target: Target<D>,
    logits_dims: [usize; D],
    ignore: Option<i64>,
    dense_rule: DenseIgnore,
) -> Encoded<D> {
    let classes = logits_dims[1];
    check_target_shape(&target, logits_dims);
    match target {
        Target::Indices(labels) => {
            let (labels, valid) = match ignore {
                Some(ig) => {
                    let invalid = labels.clone().equal_elem(ig);
                    let valid = invalid.clone().bool_not().float();
                    (labels.mask_fill(invalid, 0), Some(valid))
                }
                None => (labels, None),
            };
            let truth = if classes == 1 {
                labels.clone().float()
            } else {
                let channels: Vec<Tensor<D, Bool>> = (0..classes)
                    .map(|c| labels.clone().equal_elem(c as i64))
                    .collect();
                Tensor::cat(channels, 1).float()
            };
            Encoded { truth, valid }
        }
        Target::Dense(values) => match (ignore, dense_rule) {
            (Some(ig), DenseIgnore::Monai) => {
                let c = logits_dims[1];
                let valid = if c == 1 {
                    values.clone().not_equal_elem(ig as f64).float()
                } else if (0..c as i64).contains(&ig) {
                    let k = ig as usize;
                    values.clone().narrow(1, k, 1).neg() + 1.0
                } else {
                    values.clone().sum_dim(1).greater_elem(0.0).float()
                };
                Encoded {
                    truth: values * valid.clone(),
                    valid: Some(valid),
                }
            }
            (Some(ig), DenseIgnore::Entries) => {
                let invalid = values.clone().equal_elem(ig as f64);
                let valid = invalid.clone().bool_not().float();
                Encoded {
                    truth: values.mask_fill(invalid, 0.0),
                    valid: Some(valid),
                }
            }
            (None, _) => Encoded {
                truth: values,
                valid: None,
            },
        },
    }
}

/// `values` as a float tensor of the device's float type, without passing through f32
/// (`Tensor::from_floats` rounds to f32 first).
pub(crate) fn floats(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(
        burn::tensor::TensorData::new(values.to_vec(), [values.len()]),
        device,
    )
}

/// `[values]` as a `[1, n]` float tensor on `device`.
pub(crate) fn row(values: &[f64], device: &Device) -> Tensor<2> {
    floats(values, device).reshape([1, values.len()])
}

/// A `[1, C, 1, ...]` float tensor holding one value per class, broadcastable against `[B, C, ...S]`.
pub(crate) fn per_class<const D: usize>(values: &[f64], device: &Device) -> Tensor<D> {
    let mut dims = [1usize; D];
    dims[1] = values.len();
    floats(values, device).reshape(dims)
}
