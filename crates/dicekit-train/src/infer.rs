//! Sliding-window inference with Gaussian blending and optional flip test-time augmentation.
use std::time::Instant;

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

/// Where the time of one sliding-window prediction went, in seconds (see
/// [`predict_probabilities_timed`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowTimes {
    /// Windows predicted (per flip pass when `flip_tta`).
    pub windows: usize,
    /// Reading the windows out of the image into one batch.
    pub extract_s: f64,
    /// The network: the batch into a tensor, forward, activation, the probabilities out of it.
    pub network_s: f64,
    /// Blending the windows' probabilities into the output, and the final division.
    pub stitch_s: f64,
}

/// Class probabilities `[K, ...S]` of `image` `[C, ...S]` with `model` (in eval mode).
///
/// The prediction runs without autodiff: an autodiff `device` is replaced by its inner device,
/// so no graph is recorded (pass a model from [`burn::module::Module::valid`], whose weights are
/// already there).
///
/// # Errors
/// When the image does not fit the tiler (rank).
pub fn predict_probabilities<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
) -> Result<ArrayD<f32>, String> {
    predict_probabilities_timed::<D, M>(model, image, p, device).map(|(probs, _)| probs)
}

/// [`predict_probabilities`], and where its time went (`[data] resize`'s resampling is in none
/// of the parts).
///
/// # Errors
/// When the image does not fit the tiler (rank).
pub fn predict_probabilities_timed<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
) -> Result<(ArrayD<f32>, WindowTimes), String> {
    let device = device.clone().inner();
    let spatial = &image.shape()[1..];
    match &p.resize {
        Some(size) if size.as_slice() != spatial => {
            let small = dicekit_data::resample::resize_image(image, size)?;
            let (probs, times) = sliding_window::<D, M>(model, &small, p, &device)?;
            Ok((
                dicekit_data::resample::resize_image(&probs, spatial)?,
                times,
            ))
        }
        _ => sliding_window::<D, M>(model, image, p, &device),
    }
}

fn sliding_window<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
) -> Result<(ArrayD<f32>, WindowTimes), String> {
    let tiler = Tiler::new(
        p.patch.clone(),
        Overlap::Fraction(p.overlap),
        Blending::Gaussian { sigma_scale: 0.125 },
    )
    .map_err(|e| e.to_string())?;
    let spatial = &image.shape()[1..];
    let tiles = tiler.tiles(spatial).map_err(|e| e.to_string())?;
    let mut times = WindowTimes {
        windows: tiles.len(),
        ..WindowTimes::default()
    };
    let mut stitcher: Option<Stitcher> = None;
    for chunk in tiles.chunks(p.batch.max(1)) {
        let t0 = Instant::now();
        let patches: Vec<ArrayD<f32>> = chunk
            .iter()
            .map(|t| tiler.extract(image, t))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        let probs = forward_probs::<D, M>(model, &patches, p, device);
        let t2 = Instant::now();
        let k = probs.shape()[1];
        let st =
            stitcher.get_or_insert_with(|| Stitcher::new(k, spatial, &tiler).expect("valid tiler"));
        for (i, t) in chunk.iter().enumerate() {
            st.add(t, &probs.index_axis(ndarray::Axis(0), i).to_owned())
                .map_err(|e| e.to_string())?;
        }
        times.extract_s += (t1 - t0).as_secs_f64();
        times.network_s += (t2 - t1).as_secs_f64();
        times.stitch_s += t2.elapsed().as_secs_f64();
    }
    let t0 = Instant::now();
    let probs = stitcher
        .expect("at least one tile")
        .finish()
        .map_err(|e| e.to_string())?;
    times.stitch_s += t0.elapsed().as_secs_f64();
    Ok((probs, times))
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use dicekit_models::UNetConfig;

    #[test]
    fn predicts_without_autodiff_even_when_given_the_training_device() {
        let device = crate::training_device();
        device.seed(3);
        let model = UNetConfig::new(1, 2)
            .with_depth(2)
            .with_base_channels(4)
            .init_2d(&device)
            .valid();
        let image = ArrayD::from_shape_fn(IxDyn(&[1, 21, 18]), |ix| {
            ((ix[1] * 7 + ix[2] * 3) % 11) as f32 / 11.0
        });
        let p = Predictor {
            patch: vec![8, 8],
            overlap: 0.5,
            activation: Activation::Sigmoid,
            flip_tta: false,
            batch: 3,
            resize: None,
        };
        let (plain, times) =
            predict_probabilities_timed::<4, _>(&model, &image, &p, &device.clone().inner())
                .unwrap();
        let given = predict_probabilities::<4, _>(&model, &image, &p, &device).unwrap();
        assert_eq!(plain, given);
        assert_eq!(plain.shape(), &[2, 21, 18]);
        // ceil((21 - 8) / 4) + 1 = 5 by ceil((18 - 8) / 4) + 1 = 4 windows (as MONAI places).
        assert_eq!(times.windows, 20);
        assert!(times.network_s > 0.0 && times.extract_s >= 0.0 && times.stitch_s > 0.0);
    }
}
