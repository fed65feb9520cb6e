//! Times dicekit's convolution kernels against burn's own (Flex) at the U-Net's shapes:
//! forward alone, and forward + backward (input and weight gradients).
//!
//! Run: `cargo run --release -p dicekit-models --example conv_bench [reps] [case filter]`
//! Prints one JSON line per case: milliseconds (median) and GFLOP/s of each path.
use std::time::Instant;

use burn::nn::conv::{Conv2dConfig, Conv3dConfig, ConvTranspose2dConfig, ConvTranspose3dConfig};
use burn::nn::{PaddingConfig2d, PaddingConfig3d};
use burn::prelude::*;
use burn::tensor::Distribution;
use dicekit_models::conv::{self, FastConv};

/// The allocator of the `dicekit` command.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `f` over `reps` runs after one warm-up.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Forward and forward + backward seconds of `layer` on `x`, on this thread's path.
fn measure<const D: usize, L: FastConv<D>>(layer: &L, x: &Tensor<D>, reps: usize) -> (f64, f64) {
    let plain = x.clone().inner();
    let fwd = time(reps, || {
        let _ = layer.forward_fast(plain.clone()).into_data();
    });
    let both = time(reps, || {
        let x = x.clone().require_grad();
        let g = layer.forward_fast(x.clone()).sum().backward();
        let _ = x.grad(&g).map(|t| t.into_data());
    });
    (fwd, both)
}

fn report<const D: usize, L: FastConv<D>>(
    name: &str,
    macs: f64,
    layer: &L,
    x: Tensor<D>,
    reps: usize,
) {
    if !std::env::args().nth(2).is_none_or(|f| name.contains(&f)) {
        return;
    }
    let (f, b) = measure(layer, &x, reps);
    let (bf, bb) = conv::with_burn_conv(|| measure(layer, &x, reps));
    let gf = |flop: f64, s: f64| flop / s / 1e9;
    println!(
        "{{\"case\": \"{name}\", \"forward_ms\": {:.2}, \"burn_forward_ms\": {:.2}, \"forward_backward_ms\": {:.2}, \"burn_forward_backward_ms\": {:.2}, \"gflops_forward\": {:.1}, \"gflops_forward_backward\": {:.1}}}",
        f * 1e3,
        bf * 1e3,
        b * 1e3,
        bb * 1e3,
        gf(2.0 * macs, f),
        gf(6.0 * macs, b)
    );
}

fn main() {
    let reps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let d = Device::flex().autodiff();
    let rnd = |dims: &[usize]| -> Vec<f32> {
        let n: usize = dims.iter().product();
        Tensor::<1>::random([n], Distribution::Normal(0.0, 1.0), &d)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let t4 = |dims: [usize; 4]| {
        Tensor::<4>::from_data(burn::tensor::TensorData::new(rnd(&dims), dims), &d)
    };
    let t5 = |dims: [usize; 5]| {
        Tensor::<5>::from_data(burn::tensor::TensorData::new(rnd(&dims), dims), &d)
    };
    let pad2 = PaddingConfig2d::Explicit(1, 1, 1, 1);
    for (ci, co, s) in [
        (1, 16, 128),
        (16, 16, 128),
        (32, 32, 64),
        (128, 64, 32),
        (128, 128, 16),
    ] {
        let layer = Conv2dConfig::new([ci, co], [3, 3])
            .with_padding(pad2.clone())
            .init(&d);
        let macs = (8 * s * s * ci * co * 9) as f64;
        report(
            &format!("2d 3x3 {ci}->{co} 8x{s}^2"),
            macs,
            &layer,
            t4([8, ci, s, s]),
            reps,
        );
    }
    let up = ConvTranspose2dConfig::new([32, 16], [2, 2])
        .with_stride([2, 2])
        .init(&d);
    report(
        "2d up 2x2 s2 32->16 8x64^2",
        (8 * 64 * 64 * 32 * 16 * 4) as f64,
        &up,
        t4([8, 32, 64, 64]),
        reps,
    );
    let pad3 = PaddingConfig3d::Explicit(1, 1, 1);
    for (ci, co, s, st) in [
        (16, 16, 64, 1),
        (16, 32, 64, 2),
        (64, 64, 16, 1),
        (128, 128, 8, 1),
    ] {
        let layer = Conv3dConfig::new([ci, co], [3, 3, 3])
            .with_stride([st; 3])
            .with_padding(pad3.clone())
            .init(&d);
        let o = s / st;
        let macs = (2 * o * o * o * ci * co * 27) as f64;
        report(
            &format!("3d 3x3x3 s{st} {ci}->{co} 2x{s}^3"),
            macs,
            &layer,
            t5([2, ci, s, s, s]),
            reps,
        );
    }
    let up = ConvTranspose3dConfig::new([32, 16], [2, 2, 2])
        .with_stride([2, 2, 2])
        .init(&d);
    report(
        "3d up 2x2x2 s2 32->16 2x32^3",
        (2 * 32 * 32 * 32 * 32 * 16 * 8) as f64,
        &up,
        t5([2, 32, 32, 32, 32]),
        reps,
    );
}
