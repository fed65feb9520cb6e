//! Trains the same U-Net from the same weights on the same batch with dicekit's kernels and
//! with burn's own layers, and prints both loss curves side by side: the kernels must not
//! change what the network learns (beyond rounding).
//!
//! Run: `cargo run --release -p dicekit-models --example train_compare [steps] [2d|3d]`
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::sigmoid;
use dicekit_models::{SegmentationModel, UNetConfig, conv};

/// The allocator of the `dicekit` command.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Soft Dice + binary cross-entropy of the foreground channel.
fn loss<const D: usize>(logits: Tensor<D>, target: Tensor<D>) -> Tensor<1> {
    let p = sigmoid(logits.clone());
    let dice = (p.clone() * target.clone()).sum().mul_scalar(2.0)
        / (p.sum() + target.clone().sum()).add_scalar(1e-5);
    let bce = (logits.clone().clamp_min(0.0) - logits.clone() * target
        + logits.abs().neg().exp().log1p())
    .mean();
    dice.neg().add_scalar(1.0) + bce
}

fn curve<const D: usize, M: SegmentationModel<D> + Module>(
    mut model: M,
    x: Tensor<D>,
    t: Tensor<D>,
    steps: usize,
) -> Vec<f32> {
    let mut optim = AdamConfig::new().init();
    (0..steps)
        .map(|_| {
            let l = loss(model.forward(x.clone()).swap_remove(0), t.clone());
            let v = l.clone().into_scalar::<f32>();
            let g = GradientsParams::from_grads(l.backward(), &model);
            model = optim.step(1e-2, model.clone(), g);
            v
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(30);
    let three = args.next().as_deref() == Some("3d");
    let d = Device::flex().autodiff();
    d.seed(1);
    let cfg = UNetConfig::new(1, 1).with_depth(4).with_base_channels(8);
    let (ours, burn) = if three {
        let model = cfg.init_3d(&d);
        let x = Tensor::<5>::random(
            [2, 1, 32, 32, 32],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &d,
        );
        let t = x.clone().greater_elem(1.8).float();
        let ours = curve(model.clone(), x.clone(), t.clone(), steps);
        (ours, conv::with_burn_conv(|| curve(model, x, t, steps)))
    } else {
        let model = cfg.init_2d(&d);
        let x = Tensor::<4>::random(
            [4, 1, 128, 128],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &d,
        );
        // A sparse target that depends on the image (about 4 % of the pixels).
        let t = x.clone().greater_elem(1.75).float();
        let ours = curve(model.clone(), x.clone(), t.clone(), steps);
        (ours, conv::with_burn_conv(|| curve(model, x, t, steps)))
    };
    println!("step,dicekit_kernels,burn_layers");
    for (i, (a, b)) in ours.iter().zip(&burn).enumerate() {
        println!("{},{a:.6},{b:.6}", i + 1);
    }
}
