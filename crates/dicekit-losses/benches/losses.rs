//! Forward + backward time of the Dice loss on the shapes of issue #2 (Flex, f32, release).
//!
//! Run: `cargo bench -p dicekit-losses --bench losses`. Peak memory: `examples/loss_bench.rs`.
use burn::prelude::*;
use criterion::{Criterion, criterion_main};
use dicekit_losses::{Activation, OverlapLossConfig, Target};

/// Seeded inputs: logits in [-4, 4), targets with about 10 % foreground.
fn inputs<const D: usize>(dims: [usize; D], device: &Device) -> (Tensor<D>, Tensor<D>) {
    let n: usize = dims.iter().product();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let x: Vec<f32> = (0..n).map(|_| next() * 8.0 - 4.0).collect();
    let t: Vec<f32> = (0..n).map(|_| (next() < 0.1) as u8 as f32).collect();
    let x = Tensor::from_data(burn::tensor::TensorData::new(x, dims), device);
    let t = Tensor::from_data(burn::tensor::TensorData::new(t, dims), device);
    (x, t)
}

fn bench(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    let mut group = c.benchmark_group("dice_forward_backward");
    group.sample_size(10);

    let (x, t) = inputs([8, 1, 512, 512], &device);
    let loss = OverlapLossConfig::dice()
        .with_activation(Activation::Sigmoid)
        .init();
    group.bench_function("binary_sigmoid_8x1x512x512", |b| {
        b.iter(|| {
            let x = x.clone().require_grad();
            let l = loss.forward(x.clone(), Target::Dense(t.clone()));
            let g = l.backward();
            x.grad(&g).unwrap()
        })
    });

    // 3D softmax over 14 classes with class-index targets.
    let dims = [2, 14, 128, 128, 128];
    let (x, _) = inputs(dims, &device);
    let n = 2 * 128 * 128 * 128;
    let labels: Vec<i64> = (0..n).map(|i| ((i * 7919) % 14) as i64).collect();
    let labels =
        Tensor::<1, Int>::from_ints(labels.as_slice(), &device).reshape([2, 1, 128, 128, 128]);
    let loss = OverlapLossConfig::dice().init();
    group.bench_function("softmax_2x14x128x128x128", |b| {
        b.iter(|| {
            let x = x.clone().require_grad();
            let l = loss.forward(x.clone(), Target::Indices(labels.clone()));
            let g = l.backward();
            x.grad(&g).unwrap()
        })
    });
    group.finish();
}

#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
