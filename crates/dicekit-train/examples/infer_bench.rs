//! Median time of one sliding-window prediction (`predict_probabilities`) on the CPU, and where
//! it went: reading the windows, the network, blending them into the output.
//!
//! Run: `cargo run --release -p dicekit-train --example infer_bench -- 2d|3d [runs]`
//! The U-Net of `step_bench` (4 levels, 16 base channels, batch norm, leaky ReLU; 2D max-pool,
//! 3D strided convolutions; 2 sigmoid channels), random seeded weights, in eval mode, without
//! autodiff. Gaussian blending, `sigma_scale` 0.125.
//! 2D: a 1 x 999 x 960 image (a fundus photograph), 128 x 128 windows, overlap 0.5, 8 a batch.
//! 3D: a 1 x 512 x 512 x 120 volume (an abdominal CT), 64³ windows, overlap 0.25, 2 a batch.
//! Warm-up: one prediction of an image just long enough for one full batch of windows (along the
//! first axis). mimalloc as in `dicekit predict`. `benches/peers/sliding_window.py` times MONAI on
//! the same settings.
use std::time::Instant;

use burn::prelude::*;
use dicekit_losses::Activation;
use dicekit_models::{Downsampling, Nonlinearity, NormKind, SegmentationModel, UNetConfig};
use dicekit_train::{Predictor, WindowTimes, predict_probabilities_timed};
use ndarray::{ArrayD, IxDyn};

/// The allocator of `dicekit predict`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The image, the patch, the overlap and the windows per batch of a case.
fn case(name: &str) -> (Vec<usize>, Vec<usize>, f64, usize) {
    match name {
        "2d" => (vec![1, 999, 960], vec![128, 128], 0.5, 8),
        _ => (vec![1, 512, 512, 120], vec![64, 64, 64], 0.25, 2),
    }
}

/// A standard-normal image of `shape`, from the device's seeded generator.
fn random_image(shape: &[usize], device: &Device) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    let values = Tensor::<1>::random([n], burn::tensor::Distribution::Normal(0.0, 1.0), device)
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32 data");
    ArrayD::from_shape_vec(IxDyn(shape), values).expect("shape")
}

/// `runs` timed predictions after one warm-up: (whole seconds, parts) of each.
fn time<const D: usize, M: SegmentationModel<D>>(
    model: &M,
    image: &ArrayD<f32>,
    warm: &ArrayD<f32>,
    p: &Predictor,
    device: &Device,
    runs: usize,
) -> Vec<(f64, WindowTimes)> {
    predict_probabilities_timed::<D, M>(model, warm, p, device).expect("warm-up");
    (0..runs)
        .map(|_| {
            let t0 = Instant::now();
            let (probs, parts) =
                predict_probabilities_timed::<D, M>(model, image, p, device).expect("prediction");
            let s = t0.elapsed().as_secs_f64();
            assert!(probs.iter().all(|v| v.is_finite()));
            (s, parts)
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "2d".into());
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let (shape, patch, overlap, batch) = case(&name);
    // As `dicekit predict`: the network built on the training device, then `valid()` (eval mode,
    // weights moved off autodiff) and the inner (plain Flex) device for the prediction.
    let device = dicekit_train::training_device();
    device.seed(0);
    let infer_device = device.clone().inner();
    let cfg = UNetConfig::new(1, 2)
        .with_depth(4)
        .with_base_channels(16)
        .with_norm(NormKind::Batch)
        .with_nonlinearity(Nonlinearity::LeakyRelu);
    let image = random_image(&shape, &infer_device);
    // One full batch of windows: `batch` windows along the first axis, one along the others.
    let step = ((patch[0] as f64 * (1.0 - overlap) + 1e-9).floor() as usize).max(1);
    let mut warm_shape = vec![1, patch[0] + (batch - 1) * step];
    warm_shape.extend_from_slice(&patch[1..]);
    let warm = random_image(&warm_shape, &infer_device);
    let p = Predictor {
        patch: patch.clone(),
        overlap,
        activation: Activation::Sigmoid,
        flip_tta: false,
        batch,
        resize: None,
    };
    let timed = match name.as_str() {
        "2d" => {
            let model = cfg
                .with_downsampling(Downsampling::MaxPool)
                .init_2d(&device)
                .valid();
            time::<4, _>(&model, &image, &warm, &p, &infer_device, runs)
        }
        _ => {
            let model = cfg.init_3d(&device).valid();
            time::<5, _>(&model, &image, &warm, &p, &infer_device, runs)
        }
    };
    let windows = timed[0].1.windows;
    let part = |f: fn(&WindowTimes) -> f64| median(timed.iter().map(|(_, t)| f(t)).collect());
    println!(
        "{{\"case\": \"{name}\", \"shape\": {shape:?}, \"patch\": {patch:?}, \"overlap\": {overlap}, \
         \"sw_batch\": {batch}, \"windows\": {windows}, \"runs\": {runs}, \"median_s\": {:.4}, \
         \"extract_s\": {:.4}, \"network_s\": {:.4}, \"stitch_s\": {:.4}}}",
        median(timed.iter().map(|(s, _)| *s).collect()),
        part(|t| t.extract_s),
        part(|t| t.network_s),
        part(|t| t.stitch_s),
    );
}
