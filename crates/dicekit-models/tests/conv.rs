//! dicekit's convolution kernels against burn's own convolutions: values and the gradients of
//! the input, the weight and the bias, on random shapes (odd sizes, any kernel, stride,
//! padding, dilation), with the AVX-512 and the portable kernels.
use burn::module::Param;
use burn::nn::conv::{Conv2dConfig, Conv3dConfig, ConvTranspose2dConfig, ConvTranspose3dConfig};
use burn::nn::{PaddingConfig2d, PaddingConfig3d};
use burn::prelude::*;
use burn::tensor::TensorData;
use dicekit_models::conv::{self, FastConv};
use proptest::prelude::*;

/// Output, then the gradients of input, weight and bias, of `Σ y · r` (`r` fixed random).
type Outputs = [Vec<f32>; 4];

mod common;
use common::{random, vals};

/// Replaces a layer's random weight and bias with values drawn from `seed`.
fn reseed<const D: usize>(
    weight: &mut Param<Tensor<D>>,
    bias: &mut Option<Param<Tensor<1>>>,
    seed: u64,
) {
    let d = weight.val().device();
    *weight = Param::from_tensor(random(weight.val().dims(), seed.wrapping_add(1), &d));
    if let Some(b) = bias {
        *b = Param::from_tensor(random(b.val().dims(), seed.wrapping_add(2), &d));
    }
}

/// Runs `f` (which builds the layer, the input and returns `(y, x, weight, bias)`) three ways:
/// the kernels, the portable kernels and burn's convolution; checks that they agree.
fn compare<const D: usize>(
    f: impl Fn() -> (Tensor<D>, Tensor<D>, Tensor<D>, Option<Tensor<1>>),
    what: &str,
) {
    let run = || -> Outputs {
        let (y, x, w, b) = f();
        let r = random(y.dims(), 99, &y.device());
        let grads = (y.clone() * r).sum().backward();
        let g = |t: Tensor<D>| t.grad(&grads).map(vals).unwrap_or_default();
        let db = b.and_then(|b| b.grad(&grads)).map(vals).unwrap_or_default();
        [vals(y), g(x), g(w), db]
    };
    let before = conv::direct_calls();
    let ours = run();
    assert!(
        conv::direct_calls() > before,
        "{what}: the kernels did not run"
    );
    let portable = conv::with_portable_kernels(run);
    let burn = conv::with_burn_conv(run);
    for (name, got) in [("kernels", &ours), ("portable", &portable)] {
        for (i, part) in ["y", "dx", "dw", "db"].iter().enumerate() {
            let (a, b) = (&got[i], &burn[i]);
            assert_eq!(a.len(), b.len(), "{what} {name} {part}: lengths");
            let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
            let err = a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(
                err <= 1e-4 * scale,
                "{what} {name} {part}: max error {err:e} of scale {scale:e}"
            );
        }
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn input<const D: usize>(dims: [usize; D], seed: u64, d: &Device) -> Tensor<D> {
    random(dims, seed, d).require_grad()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn conv2d_matches_burn(
        n in 1usize..3, ci in 1usize..5, co in 1usize..11,
        h in 1usize..12, w in 1usize..12, kh in 1usize..4, kw in 1usize..4,
        sh in 1usize..3, sw in 1usize..4, dh in 1usize..3, dw in 1usize..3,
        pad in prop::array::uniform4(0usize..3), bias: bool, seed: u64,
    ) {
        // burn needs a non-empty output.
        prop_assume!(h + pad[0] + pad[2] > dh * (kh - 1) && w + pad[1] + pad[3] > dw * (kw - 1));
        compare(|| {
            let d = device();
            let mut layer = Conv2dConfig::new([ci, co], [kh, kw])
                .with_stride([sh, sw])
                .with_dilation([dh, dw])
                .with_padding(PaddingConfig2d::Explicit(pad[0], pad[1], pad[2], pad[3]))
                .with_bias(bias)
                .init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([n, ci, h, w], seed, &d);
            let y = layer.forward_fast(x.clone());
            (y, x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
        }, "conv2d");
    }

    #[test]
    fn conv3d_matches_burn(
        n in 1usize..3, ci in 1usize..4, co in 1usize..10,
        size in prop::array::uniform3(1usize..8), k in prop::array::uniform3(1usize..4),
        s in prop::array::uniform3(1usize..3), dil in prop::array::uniform3(1usize..3),
        pad in prop::array::uniform3(0usize..2), bias: bool, seed: u64,
    ) {
        prop_assume!((0..3).all(|a| size[a] + 2 * pad[a] > dil[a] * (k[a] - 1)));
        compare(|| {
            let d = device();
            let mut layer = Conv3dConfig::new([ci, co], k)
                .with_stride(s)
                .with_dilation(dil)
                .with_padding(PaddingConfig3d::Explicit(pad[0], pad[1], pad[2]))
                .with_bias(bias)
                .init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([n, ci, size[0], size[1], size[2]], seed, &d);
            let y = layer.forward_fast(x.clone());
            (y, x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
        }, "conv3d");
    }

    #[test]
    fn conv_transpose2d_matches_burn(
        n in 1usize..3, ci in 1usize..6, co in 1usize..10,
        h in 1usize..9, w in 1usize..9, kh in 1usize..4, kw in 1usize..4,
        s in prop::array::uniform2(1usize..4), dil in prop::array::uniform2(1usize..3),
        pad in prop::array::uniform2(0usize..2), pout in prop::array::uniform2(0usize..3),
        bias: bool, seed: u64,
    ) {
        let pout = [pout[0] % s[0], pout[1] % s[1]];
        let out = |i: usize, a: usize, k: usize| ((i - 1) * s[a] + dil[a] * (k - 1) + 1 + pout[a]) as isize - 2 * pad[a] as isize;
        prop_assume!(out(h, 0, kh) > 0 && out(w, 1, kw) > 0);
        compare(|| {
            let d = device();
            let mut layer = ConvTranspose2dConfig::new([ci, co], [kh, kw])
                .with_stride(s)
                .with_dilation(dil)
                .with_padding(pad)
                .with_padding_out(pout)
                .with_bias(bias)
                .init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([n, ci, h, w], seed, &d);
            let y = layer.forward_fast(x.clone());
            (y, x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
        }, "conv_transpose2d");
    }

    #[test]
    fn conv_transpose3d_matches_burn(
        n in 1usize..3, ci in 1usize..5, co in 1usize..9,
        size in prop::array::uniform3(1usize..6), k in prop::array::uniform3(1usize..4),
        s in prop::array::uniform3(1usize..3), pad in prop::array::uniform3(0usize..2),
        bias: bool, seed: u64,
    ) {
        prop_assume!((0..3).all(|a| ((size[a] - 1) * s[a] + k[a]) as isize - 2 * pad[a] as isize > 0));
        compare(|| {
            let d = device();
            let mut layer = ConvTranspose3dConfig::new([ci, co], k)
                .with_stride(s)
                .with_padding(pad)
                .with_bias(bias)
                .init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([n, ci, size[0], size[1], size[2]], seed, &d);
            let y = layer.forward_fast(x.clone());
            (y, x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
        }, "conv_transpose3d");
    }
}

/// The U-Net shapes at full size: 3x3 and 1x1 convolutions with 16-128 channels, stride 2,
/// and the 2x2 stride-2 transposed convolution, including channel counts that are not
/// multiples of the kernels' tiles.
#[test]
fn unet_shapes_match_burn() {
    for (ci, co, size, stride) in [(16, 32, 33, 1), (32, 24, 20, 2), (13, 9, 17, 2)] {
        compare(
            || {
                let d = device();
                let seed = ci as u64;
                let mut layer = Conv3dConfig::new([ci, co], [3; 3])
                    .with_stride([stride; 3])
                    .with_padding(PaddingConfig3d::Explicit(1, 1, 1))
                    .init(&d);
                reseed(&mut layer.weight, &mut layer.bias, seed);
                let x = input([2, ci, size, size - 3, size + 1], seed, &d);
                let y = layer.forward_fast(x.clone());
                (
                    y,
                    x,
                    layer.weight.val(),
                    layer.bias.as_ref().map(|b| b.val()),
                )
            },
            "conv3d unet",
        );
    }
    for (ci, co, h, w) in [(8, 16, 32, 48), (16, 32, 16, 24), (32, 64, 8, 12)] {
        compare(
            || {
                let d = device();
                let seed = 11;
                let mut layer = Conv2dConfig::new([ci, co], [3, 3])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(&d);
                reseed(&mut layer.weight, &mut layer.bias, seed);
                let x = input([4, ci, h, w], seed, &d);
                let y = layer.forward_fast(x.clone());
                (
                    y,
                    x,
                    layer.weight.val(),
                    layer.bias.as_ref().map(|b| b.val()),
                )
            },
            "conv2d stride 2 unet",
        );
    }
    compare(
        || {
            let d = device();
            let seed = 5;
            let mut layer = ConvTranspose2dConfig::new([64, 32], [2, 2])
                .with_stride([2, 2])
                .init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([3, 64, 17, 16], seed, &d);
            let y = layer.forward_fast(x.clone());
            (
                y,
                x,
                layer.weight.val(),
                layer.bias.as_ref().map(|b| b.val()),
            )
        },
        "conv_transpose2d unet",
    );
    compare(
        || {
            let d = device();
            let seed = 6;
            let mut layer = Conv2dConfig::new([16, 2], [1, 1]).init(&d);
            reseed(&mut layer.weight, &mut layer.bias, seed);
            let x = input([2, 16, 64, 65], seed, &d);
            let y = layer.forward_fast(x.clone());
            (
                y,
                x,
                layer.weight.val(),
                layer.bias.as_ref().map(|b| b.val()),
            )
        },
        "conv2d head",
    );
}

/// Without autodiff (inference) the kernels give burn's values.
#[test]
fn inference_without_autodiff_matches_burn() {
    let d = Device::flex();
    let layer = Conv2dConfig::new([3, 5], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&d);
    let x = Tensor::<4>::from_data(
        TensorData::new(
            (0..3 * 2 * 9 * 7)
                .map(|i| (i as f32 * 0.37).sin())
                .collect::<Vec<_>>(),
            [2, 3, 9, 7],
        ),
        &d,
    );
    let ours = vals(layer.forward_fast(x.clone()));
    let burn = vals(layer.forward(x));
    let scale = burn.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (a, b) in ours.iter().zip(&burn) {
        assert!((a - b).abs() <= 1e-5 * scale, "{a} vs {b}");
    }
}
