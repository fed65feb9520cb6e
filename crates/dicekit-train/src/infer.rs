//! Sliding-window inference with Gaussian blending and optional flip test-time augmentation.
use burn::prelude::*;
use burn::tensor::TensorData;
use burn::tensor::activation::{sigmoid, softmax};
use dicekit_data::tiling::{Blending, Overlap, Stitcher, Tiler};
use dicekit_losses::Activation;
use dicekit_models::SegmentationModel;
use ndarray::{ArrayD, IxDyn};

/// How predictions are made from a model.
#[derive(Debug, Clone)]
pub struct Predictor {
    /// Patch size of the sliding window.
    pub patch: Vec<usize>,
    /// Overlap fraction.
    pub overlap: f64,
    /// Softmax (argmax labels) or sigmoid (threshold 0.5; one channel = binary).
    pub activation: Activation,
    /// Average over flips of every spatial axis (2^dims passes).
    pub flip_tta: bool,
    /// Tiles per forward pass.
    pub batch: usize,
    /// Resample the image to this size first and the probabilities back after (`[data] resize`).
    pub resize: Option<Vec<usize>>,
}

/// Class probabilities `[K, ...S]` of `image` `[C, ...S]` with `model` (in eval mode).
///
/// # Errors
/// When the image does not fit the tiler (rank).
pub fn predict_probabilities<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
) -> Result<ArrayD<f32>, String> {
    let spatial = &image.shape()[1..];
    match &p.resize {
        Some(size) if size.as_slice() != spatial => {
            let small = dicekit_data::resample::resize_image(image, size)?;
            let probs = sliding_window::<D, M>(model, &small, p, device)?;
            Ok(dicekit_data::resample::resize_image(&probs, spatial)?)
        }
        _ => sliding_window::<D, M>(model, image, p, device),
    }
}

fn sliding_window<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
) -> Result<ArrayD<f32>, String> {
    let tiler = Tiler::new(
        p.patch.clone(),
        Overlap::Fraction(p.overlap),
        Blending::Gaussian { sigma_scale: 0.125 },
    )
    .map_err(|e| e.to_string())?;
    let spatial = &image.shape()[1..];
    let tiles = tiler.tiles(spatial).map_err(|e| e.to_string())?;
    let mut stitcher: Option<Stitcher> = None;
    for chunk in tiles.chunks(p.batch.max(1)) {
        let patches: Vec<ArrayD<f32>> = chunk
            .iter()
            .map(|t| tiler.extract(image, t))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let probs = forward_probs::<D, M>(model, &patches, p, device);
        let k = probs.shape()[1];
        let st =
            stitcher.get_or_insert_with(|| Stitcher::new(k, spatial, &tiler).expect("valid tiler"));
        for (i, t) in chunk.iter().enumerate() {
            st.add(t, &probs.index_axis(ndarray::Axis(0), i).to_owned())
                .map_err(|e| e.to_string())?;
        }
    }
    stitcher
        .expect("at least one tile")
        .finish()
        .map_err(|e| e.to_string())
}

/// Probabilities `[N, K, ...P]` of a batch of patches, averaged over flips when asked.
fn forward_probs<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    patches: &[ArrayD<f32>],
    p: &Predictor,
    device: &Device,
) -> ArrayD<f32> {
    let mut shape = vec![patches.len()];
    shape.extend_from_slice(patches[0].shape());
    let data: Vec<f32> = patches.iter().flat_map(|a| a.iter().copied()).collect();
    let x: Tensor<D> = Tensor::from_data(TensorData::new(data, shape), device);
    let flips: Vec<Vec<usize>> = if p.flip_tta {
        let axes: Vec<usize> = (2..D).collect();
        (0..1usize << axes.len())
            .map(|m| {
                axes.iter()
                    .enumerate()
                    .filter(|(i, _)| m >> i & 1 == 1)
                    .map(|(_, a)| *a)
                    .collect()
            })
            .collect()
    } else {
        vec![vec![]]
    };
    let mut sum: Option<Tensor<D>> = None;
    for f in &flips {
        let xi = f.iter().fold(x.clone(), |t, &a| t.flip([a]));
        let logits = model.forward(xi).swap_remove(0);
        let probs = match p.activation {
            Activation::Sigmoid => sigmoid(logits),
            Activation::Softmax => softmax(logits, 1),
            Activation::Identity => logits,
        };
        let probs = f.iter().fold(probs, |t, &a| t.flip([a]));
        sum = Some(match sum {
            Some(s) => s + probs,
            None => probs,
        });
    }
    let mean = sum.expect("one pass") / flips.len() as f64;
    let dims = mean.dims();
    let values = mean
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data");
    ArrayD::from_shape_vec(IxDyn(&dims), values).expect("shape")
}

/// Labels `[...S]` from probabilities `[K, ...S]`: argmax, or `p > 0.5` for one sigmoid channel
/// (for several sigmoid channels, the last channel above 0.5 wins).
pub(crate) fn labels_from_probabilities(
    probs: &ArrayD<f32>,
    activation: Activation,
) -> ArrayD<u32> {
    let k = probs.shape()[0];
    let spatial = probs.shape()[1..].to_vec();
    let n: usize = spatial.iter().product();
    let flat = probs.as_standard_layout();
    let flat = flat.as_slice().expect("standard");
    let labels: Vec<u32> = (0..n)
        .map(|i| match (activation, k) {
            (Activation::Sigmoid, 1) | (Activation::Identity, 1) => (flat[i] > 0.5) as u32,
            (Activation::Sigmoid, _) => (0..k)
                .rev()
                .find(|&c| flat[c * n + i] > 0.5)
                .map_or(0, |c| c as u32 + 1),
            _ => {
                (0..k)
                    .fold((0, f32::NEG_INFINITY), |m, c| {
                        if flat[c * n + i] > m.1 {
                            (c, flat[c * n + i])
                        } else {
                            m
                        }
                    })
                    .0 as u32
            }
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(&spatial), labels).expect("shape")
}
