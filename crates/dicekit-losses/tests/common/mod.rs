//! Shared test helpers.
#![allow(dead_code)]
use burn::prelude::*;
use std::sync::OnceLock;

/// `values` as a tensor without rounding through f32 (as `Tensor::from_floats` does).
pub fn floats(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(
        burn::tensor::TensorData::new(values.to_vec(), [values.len()]),
        device,
    )
}

/// An autodiff Flex device whose floats are f64 (configured once, before any tensor).
pub fn f64_device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d = Device::flex();
            d.configure(burn::tensor::FloatDType::F64)
                .expect("configure f64 before the first tensor");
            d.autodiff()
        })
        .clone()
}

use dicekit_losses::{AnyLoss, Target};

/// A tiny deterministic generator (SplitMix64), so tests need no RNG crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// The kind of target a test feeds.
#[derive(Debug, Clone)]
pub enum Truth {
    /// Labels `[B, 1, ...S]`.
    Labels(Vec<i64>),
    /// Dense `[B, C, ...S]` values.
    Dense(Vec<f64>),
}

impl Truth {
    pub fn tensor<const D: usize>(&self, dims: [usize; D], device: &Device) -> Target<D> {
        match self {
            Truth::Labels(v) => {
                let mut d = dims;
                d[1] = 1;
                Tensor::<1, Int>::from_ints(v.as_slice(), device)
                    .reshape(d)
                    .into()
            }
            Truth::Dense(v) => floats(v, device).reshape(dims).into(),
        }
    }
}

/// Loss value and gradient with respect to the logits, on the fused path (what Flex runs),
/// checked against burn's generic tensor path (what every other backend runs): every test that
/// goes through here tests both.
pub fn value_and_grad<const D: usize>(
    loss: &AnyLoss,
    logits: &[f64],
    dims: [usize; D],
    truth: &Truth,
    weight: Option<(&[f64], usize)>,
) -> (f64, Vec<f64>) {
    let (v, g) = value_and_grad_here(loss, logits, dims, truth, weight);
    let (v2, g2) = dicekit_losses::with_generic_path(|| {
        value_and_grad_here(loss, logits, dims, truth, weight)
    });
    let close = |a: f64, b: f64, scale: f64| {
        (a - b).abs() <= 1e-9 * scale.max(1.0) || (a.is_nan() && b.is_nan()) || a == b
    };
    assert!(
        close(v, v2, v2.abs()),
        "fused loss {v} vs generic {v2} ({:?})",
        loss
    );
    let scale = g2.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    for (i, (a, b)) in g.iter().zip(&g2).enumerate() {
        assert!(
            close(*a, *b, scale),
            "fused gradient [{i}] {a:e} vs generic {b:e} ({loss:?})"
        );
    }
    (v, g)
}

/// [`value_and_grad`] on the path this thread takes.
fn value_and_grad_here<const D: usize>(
    loss: &AnyLoss,
    logits: &[f64],
    dims: [usize; D],
    truth: &Truth,
    weight: Option<(&[f64], usize)>,
) -> (f64, Vec<f64>) {
    let device = f64_device();
    let x = floats(logits, &device).reshape(dims).require_grad();
    let w = weight.map(|(w, ch)| {
        let mut d = dims;
        d[1] = ch;
        floats(w, &device).reshape(d)
    });
    let out = loss
        .forward(x.clone(), truth.tensor(dims, &device), w)
        .total;
    let value = out.clone().into_scalar::<f64>();
    let grads = out.backward();
    let g = x
        .grad(&grads)
        .map(|g| g.into_data().convert::<f64>().try_to_vec::<f64>().unwrap())
        .unwrap_or_else(|| vec![0.0; logits.len()]);
    (value, g)
}
