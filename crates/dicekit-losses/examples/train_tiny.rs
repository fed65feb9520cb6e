//! The main job until the `dicekit` command exists: trains a tiny convolutional network on
//! generated images of small bright discs (about 3 % foreground) with `0.5 BCE + 0.5 Dice`,
//! logs each loss term, and reports the Dice of the thresholded prediction on held-out images.
//!
//! Run: `cargo run -p dicekit-losses --example train_tiny` (about a minute on 2 cores).
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{PaddingConfig2d, Relu};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::TensorData;
use dicekit_losses::{Activation, BceLossConfig, CompositeLossConfig, OverlapLossConfig, Target};

const SIZE: usize = 48;

#[derive(Module, Debug)]
struct TinyNet {
    c1: Conv2d,
    c2: Conv2d,
    c3: Conv2d,
    act: Relu,
}

impl TinyNet {
    fn new(device: &Device) -> Self {
        let conv = |i, o, k: usize| {
            let p = k / 2;
            Conv2dConfig::new([i, o], [k, k])
                .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                .init(device)
        };
        Self {
            c1: conv(1, 12, 3),
            c2: conv(12, 12, 3),
            c3: conv(12, 1, 1),
            act: Relu::new(),
        }
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.act.forward(self.c1.forward(x));
        let x = self.act.forward(self.c2.forward(x));
        self.c3.forward(x)
    }
}

/// A small xorshift generator, so the example needs no RNG crate.
struct Rng(u64);
impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `count` images `[count, 1, SIZE, SIZE]` with 1-3 small discs (radius 2-4, the foreground) and
/// one large faint blob (radius 9, a distractor) on strong noise, and their masks.
fn scenes(count: usize, rng: &mut Rng) -> (Vec<f32>, Vec<f32>) {
    let (mut img, mut mask) = (
        vec![0.0; count * SIZE * SIZE],
        vec![0.0; count * SIZE * SIZE],
    );
    for n in 0..count {
        let discs = 1 + (rng.uniform() * 3.0) as usize;
        let centres: Vec<(f32, f32, f32)> = (0..discs)
            .map(|_| {
                (
                    4.0 + rng.uniform() * 40.0,
                    4.0 + rng.uniform() * 40.0,
                    2.0 + rng.uniform() * 2.0,
                )
            })
            .collect();
        let (by, bx) = (9.0 + rng.uniform() * 30.0, 9.0 + rng.uniform() * 30.0);
        for y in 0..SIZE {
            for x in 0..SIZE {
                let i = n * SIZE * SIZE + y * SIZE + x;
                let inside = centres
                    .iter()
                    .any(|&(cy, cx, r)| (y as f32 - cy).powi(2) + (x as f32 - cx).powi(2) <= r * r);
                mask[i] = inside as u8 as f32;
                let blob = ((y as f32 - by).powi(2) + (x as f32 - bx).powi(2) <= 81.0) as u8 as f32;
                img[i] = 0.45 * mask[i] + 0.3 * blob + 0.9 * (rng.uniform() - 0.5);
            }
        }
    }
    (img, mask)
}

fn tensor(v: Vec<f32>, n: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(v, [n, 1, SIZE, SIZE]), device)
}

fn main() {
    let device = Device::flex().autodiff();
    let mut rng = Rng(0x5EED);
    let (train_x, train_y) = scenes(64, &mut rng);
    let (val_x, val_y) = scenes(16, &mut rng);
    let fg: f32 = train_y.iter().sum::<f32>() / train_y.len() as f32;
    println!(
        "training on 64 generated {SIZE}x{SIZE} images, foreground fraction {:.2} %",
        100.0 * fg
    );

    let dice = OverlapLossConfig::dice().with_activation(Activation::Sigmoid);
    let loss = CompositeLossConfig::bce_dice(0.5, BceLossConfig::new(), dice)
        .expect("alpha in [0, 1]")
        .init();
    let mut model = TinyNet::new(&device);
    let mut optim = AdamConfig::new().init();
    let (batch, steps) = (8usize, 200usize);
    let plane = SIZE * SIZE;
    for step in 0..steps {
        let start = (step * batch) % 64;
        let x = tensor(
            train_x[start * plane..(start + batch) * plane].to_vec(),
            batch,
            &device,
        );
        let y = tensor(
            train_y[start * plane..(start + batch) * plane].to_vec(),
            batch,
            &device,
        );
        let out = loss.forward_terms(model.forward(x), Target::Dense(y), None);
        if step % 40 == 0 || step + 1 == steps {
            let terms: Vec<String> = out
                .terms
                .iter()
                .map(|(name, v)| format!("{name} {:.4}", v.clone().into_scalar::<f32>()))
                .collect();
            println!(
                "step {step:>3}  loss {:.4}  ({})",
                out.total.clone().into_scalar::<f32>(),
                terms.join(", ")
            );
        }
        let grads = GradientsParams::from_grads(out.total.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }

    // Held-out Dice of the thresholded prediction, counts accumulated over all images.
    let pred = model
        .valid()
        .forward(tensor(val_x, 16, &device.clone().inner()));
    let pred: Vec<f32> = pred
        .greater_elem(0.0)
        .float()
        .into_data()
        .try_to_vec::<f32>()
        .expect("f32");
    let (mut tp, mut sum) = (0.0, 0.0);
    for (p, g) in pred.iter().zip(&val_y) {
        tp += p * g;
        sum += p + g;
    }
    println!(
        "held-out Dice of the thresholded prediction: {:.3}",
        2.0 * tp / sum
    );
}
