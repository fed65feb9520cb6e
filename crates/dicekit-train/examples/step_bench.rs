//! Median time of one U-Net training step (forward, Dice loss, backward, Adam) on the CPU.
//!
//! Run: `cargo run --release -p dicekit-train --example step_bench -- 2d|3d|3dpool [steps] [relu|leaky] [batch|instance|group]`
//! (`STEP_LOSS_PATH=generic` for the loss through burn's generic path instead of the fused kernel).
//! 2D: 4 levels, 16 base channels, batch norm, max-pool, batch 8 x 1 x 128 x 128, 2 classes.
//! 3D: the same with strided-convolution downsampling, batch 2 x 1 x 64^3; `3dpool`: 2x2x2
//! max pooling instead.
//! `DICEKIT_CONV=burn` runs burn's own convolutions instead of dicekit's kernels.
use std::time::Instant;

/// The allocator of the `dicekit` command, whose training steps this times.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// As the `dicekit` command does: freed pages stay with the process
/// (`mi_option_purge_delay` = -1; crates/dicekit-cli/src/main.rs).
fn keep_freed_pages() {
    // SAFETY: `mi_option_set` stores an integer option; allowed at any time.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(15, -1)
    };
}

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use dicekit_losses::{Activation, OverlapLossConfig, Target};
use dicekit_models::{Downsampling, Nonlinearity, NormKind, SegmentationModel, UNetConfig};

fn main() {
    keep_freed_pages();
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "2d".into());
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let nonlinearity = match args.next().as_deref() {
        Some("relu") => Nonlinearity::Relu,
        _ => Nonlinearity::LeakyRelu,
    };
    let norm = match args.next().as_deref() {
        Some("instance") => NormKind::Instance,
        Some("group") => NormKind::Group(8),
        _ => NormKind::Batch,
    };
    // Batch of the 2D case (env STEP_BATCH, default 8).
    let batch: usize = std::env::var("STEP_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(8);
    let device = dicekit_train::training_device();
    device.seed(0);
    let cfg = UNetConfig::new(1, 2)
        .with_depth(4)
        .with_base_channels(16)
        .with_norm(norm)
        .with_nonlinearity(nonlinearity);
    let loss = OverlapLossConfig::dice()
        .with_activation(Activation::Sigmoid)
        .init();
    let mut optim = AdamConfig::new().init();
    let mut times = vec![];
    // STEP_LOSS_PATH=generic: the loss through burn's generic tensor path instead of the fused
    // kernel (the before/after comparison of the kernel).
    let generic = std::env::var("STEP_LOSS_PATH").is_ok_and(|p| p == "generic");
    let run = || match case.as_str() {
        "2d" => {
            let mut model = cfg
                .with_downsampling(Downsampling::MaxPool)
                .init_2d(&device);
            let x = Tensor::<4>::random(
                [batch, 1, 128, 128],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            );
            let t = Tensor::<4>::random(
                [batch, 2, 128, 128],
                burn::tensor::Distribution::Bernoulli(0.1),
                &device,
            );
            for i in 0..steps + 3 {
                let t0 = Instant::now();
                let l = loss.forward(
                    model.forward(x.clone()).swap_remove(0),
                    Target::Dense(t.clone()),
                );
                let grads = GradientsParams::from_grads(l.backward(), &model);
                model = optim.step(1e-3, model, grads);
                let _ = l.into_scalar::<f32>();
                if i >= 3 {
                    times.push(t0.elapsed().as_secs_f64());
                }
            }
        }
        _ => {
            let down = if case == "3dpool" {
                Downsampling::MaxPool
            } else {
                Downsampling::StridedConv
            };
            let mut model = cfg.with_downsampling(down).init_3d(&device);
            let x = Tensor::<5>::random(
                [2, 1, 64, 64, 64],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            );
            let t = Tensor::<5>::random(
                [2, 2, 64, 64, 64],
                burn::tensor::Distribution::Bernoulli(0.1),
                &device,
            );
            for i in 0..steps + 3 {
                let t0 = Instant::now();
                let l = loss.forward(
                    model.forward(x.clone()).swap_remove(0),
                    Target::Dense(t.clone()),
                );
                let grads = GradientsParams::from_grads(l.backward(), &model);
                model = optim.step(1e-3, model, grads);
                let _ = l.into_scalar::<f32>();
                if i >= 3 {
                    times.push(t0.elapsed().as_secs_f64());
                }
            }
        }
    };
    if generic {
        dicekit_losses::with_generic_path(run);
    } else {
        run();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"case\": \"{case}\", \"loss_path\": \"{}\", \"median_s\": {:.4}, \"steps\": {}}}",
        if generic { "generic" } else { "fused" },
        times[times.len() / 2],
        times.len()
    );
}
