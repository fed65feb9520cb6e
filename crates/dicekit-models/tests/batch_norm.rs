//! dicekit's fused training batch norm against burn's own: output, running statistics and the
//! gradients of the input, γ and β, on random shapes (2D and 3D, one value per channel,
//! large offsets).
use burn::module::Param;
use burn::nn::BatchNormConfig;
use burn::prelude::*;
use dicekit_models::conv;
use proptest::prelude::*;

mod common;
use common::vals;

/// `offset + scale · u`, `u` uniform in [-1, 1) from `seed`.
fn random<const D: usize>(
    dims: [usize; D],
    seed: u64,
    scale: f32,
    offset: f32,
    d: &Device,
) -> Tensor<D> {
    common::random(dims, seed, d)
        .mul_scalar(scale)
        .add_scalar(offset)
}

/// `[y, dx, dγ, dβ, running mean, running var]`.
fn run<const D: usize>(dims: [usize; D], seed: u64, offset: f32) -> [Vec<f32>; 6] {
    let d = Device::flex().autodiff();
    let c = dims[1];
    let mut layer = BatchNormConfig::new(c).init(&d);
    layer.gamma = Param::from_tensor(random([c], seed + 1, 1.0, 1.0, &d));
    layer.beta = Param::from_tensor(random([c], seed + 2, 1.0, 0.0, &d));
    let x = random(dims, seed, 2.0, offset, &d).require_grad();
    let y = dicekit_models::Norm::Batch(layer.clone()).forward(x.clone());
    let r = random(y.dims(), seed + 3, 1.0, 0.0, &d);
    let grads = (y.clone() * r).sum().backward();
    [
        vals(y),
        vals(x.grad(&grads).unwrap()),
        vals(layer.gamma.val().grad(&grads).unwrap()),
        vals(layer.beta.val().grad(&grads).unwrap()),
        vals(layer.running_mean.value()),
        vals(layer.running_var.value()),
    ]
}

fn compare<const D: usize>(dims: [usize; D], seed: u64, offset: f32) {
    let before = dicekit_models::bn::fused_calls();
    let ours = run(dims, seed, offset);
    assert_eq!(
        dicekit_models::bn::fused_calls(),
        before + 1,
        "the fused kernel did not run"
    );
    let burn = conv::with_burn_conv(|| run(dims, seed, offset));
    for (i, part) in ["y", "dx", "dgamma", "dbeta", "running_mean", "running_var"]
        .iter()
        .enumerate()
    {
        let scale = burn[i].iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
        let err = ours[i]
            .iter()
            .zip(&burn[i])
            .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(
            err <= (2e-4 * scale).max(1e-5),
            "{dims:?} {part}: max error {err:e} of scale {scale:e}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn fused_batch_norm_matches_burn(n in 1usize..4, c in 1usize..9, h in 1usize..40, w in 1usize..40, seed in 0u64..1000, offset in -50f32..50.0) {
        prop_assume!(n * h * w > 1);
        compare([n, c, h, w], seed, offset);
    }
}

#[test]
fn fused_batch_norm_matches_burn_in_3d_and_on_one_value() {
    compare([2, 5, 9, 10, 11], 7, 3.0);
    compare([2, 16, 33, 33, 34], 8, -1.0);
    // One value per channel: zero variance.
    compare([1, 3, 1, 1], 9, 0.5);
}
