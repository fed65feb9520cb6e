//! Time and peak memory of one Dice forward + backward, for the benchmark docs and the
//! side-by-side script `benches/peers/monai_dice.py`.
//!
//! Run: `cargo run --release -p dicekit-losses --example loss_bench -- 2d|3d [repeats]`
//! (`LOSS_PATH=generic` for burn's generic tensor path instead of the fused kernel).
//! Prints one JSON line: median seconds, and peak resident memory above the inputs (MiB).
use std::time::Instant;

use burn::prelude::*;
use burn::tensor::TensorData;
use dicekit_losses::{Activation, OverlapLossConfig, Target};

/// `VmHWM` and `VmRSS` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "2d".into());
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let device = Device::flex().autodiff();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let (dims, sigmoid): (Vec<usize>, bool) = match case.as_str() {
        "2d" => (vec![8, 1, 512, 512], true),
        "3d" => (vec![2, 14, 128, 128, 128], false),
        other => {
            eprintln!("error: unknown case `{other}` (2d or 3d)");
            std::process::exit(2);
        }
    };
    let n: usize = dims.iter().product();
    let logits: Vec<f32> = (0..n).map(|_| next() * 8.0 - 4.0).collect();
    let mut times = Vec::new();
    let run = |x: Tensor<5>, target: Target<5>| {
        let cfg = if sigmoid {
            OverlapLossConfig::dice().with_activation(Activation::Sigmoid)
        } else {
            OverlapLossConfig::dice()
        };
        let x = x.require_grad();
        let l = cfg.init().forward(x.clone(), target);
        let g = l.backward();
        x.grad(&g).unwrap().sum().into_scalar::<f32>()
    };
    // 2D is run as [B, C, 1, H, W]: the loss is rank-generic.
    let mut d5 = [1usize; 5];
    if dims.len() == 4 {
        d5 = [dims[0], dims[1], 1, dims[2], dims[3]];
    } else {
        d5.copy_from_slice(&dims);
    }
    let x = Tensor::<5>::from_data(TensorData::new(logits, d5), &device);
    let target: Target<5> = if sigmoid {
        let t: Vec<f32> = (0..n).map(|_| (next() < 0.1) as u8 as f32).collect();
        Target::Dense(Tensor::from_data(TensorData::new(t, d5), &device))
    } else {
        let voxels = n / dims[1];
        let labels: Vec<i64> = (0..voxels).map(|i| ((i * 7919) % dims[1]) as i64).collect();
        let mut ld = d5;
        ld[1] = 1;
        Target::Indices(Tensor::<1, Int>::from_ints(labels.as_slice(), &device).reshape(ld))
    };
    // LOSS_PATH=generic: burn's generic tensor path instead of the fused kernel.
    let generic = std::env::var("LOSS_PATH").is_ok_and(|p| p == "generic");
    let (_, base_rss) = memory_kib();
    for _ in 0..repeats {
        let t0 = Instant::now();
        if generic {
            dicekit_losses::with_generic_path(|| run(x.clone(), target.clone()));
        } else {
            run(x.clone(), target.clone());
        }
        times.push(t0.elapsed().as_secs_f64());
    }
    let (hwm, _) = memory_kib();
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"case\": \"{case}\", \"path\": \"{}\", \"shape\": {dims:?}, \"median_s\": {:.4}, \"min_s\": {:.4}, \"peak_above_inputs_mib\": {:.1}, \"inputs_mib\": {:.1}}}",
        if generic { "generic" } else { "fused" },
        times[times.len() / 2],
        times[0],
        (hwm.saturating_sub(base_rss)) as f64 / 1024.0,
        base_rss as f64 / 1024.0
    );
}
