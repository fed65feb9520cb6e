//! Helpers of the kernel tests.
use burn::prelude::*;
use burn::tensor::TensorData;

/// The values of a tensor as `f32`.
pub fn vals<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// Uniform values in [-1, 1) from `seed` (a local generator: tests run in parallel, and
/// burn's generator is shared).
pub fn random<const D: usize>(dims: [usize; D], seed: u64, d: &Device) -> Tensor<D> {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let v: Vec<f32> = (0..dims.iter().product::<usize>())
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    Tensor::from_data(TensorData::new(v, dims), d)
}
