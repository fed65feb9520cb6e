//! Training-mode batch normalisation of a burn [`BatchNorm`] layer as one fused operation.
//!
//! burn 0.22.1's `batch_norm_train` is built from tensor operations: the statistics through
//! swapped, copied axes and the output and gradient through a dozen element-wise passes. On
//! Flex (and `Autodiff<Flex>`, `f32`) dicekit computes, per channel `c` over the batch and the
//! spatial positions (`M` values):
//! ```text
//! forward:   μ, σ² (biased) in one pass;  y = γ (x - μ) / √(σ² + ε) + β  in another
//! backward:  S₁ = Σ dy, S₂ = Σ dy (x - μ) in one pass, then
//!            dx = γ/√(σ²+ε) · (dy - S₁/M - (x - μ) S₂ / (M (σ² + ε))),
//!            dγ = S₂ / √(σ² + ε),  dβ = S₁
//! ```
//! with `f64` totals of `f32` lane sums. The running statistics are updated as burn does
//! (momentum, biased variance). Everything else (inference, other backends) is the layer's
//! own `forward`.
mod flex;
mod grad;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, backend_extension};
use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::DType;

/// Fused batch normalisation on `[N, C, S]` tensors.
#[backend_extension(Flex, Autodiff)]
pub trait BatchNormBackend: Backend {
    /// `[2, C]`: the mean and the biased variance of each channel (not differentiable).
    fn dk_bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// The normalised `y` (statistics of the batch).
    fn dk_bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;

    /// `dx` of [`BatchNormBackend::dk_bn_train`].
    fn dk_bn_input_grad(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;

    /// `[2, C]`: `dγ` and `dβ` of [`BatchNormBackend::dk_bn_train`].
    fn dk_bn_param_grads(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

thread_local! {
    static FUSED_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many batch norms this thread has run through the fused kernel (tests).
#[doc(hidden)]
pub fn fused_calls() -> usize {
    FUSED_CALLS.with(|c| c.get())
}

/// The forward of a burn [`BatchNorm`] layer: the fused kernel in training on Flex (`f32`,
/// not turned off by [`crate::conv::with_burn_conv`] or `DICEKIT_CONV=burn`), the layer's own
/// `forward` otherwise.
pub fn batch_norm<const D: usize>(layer: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    let fused = device.is_autodiff()
        && layer.training.is_enabled()
        && matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
        && x.dtype() == DType::F32
        && crate::conv::kernels_enabled();
    if !fused || D < 2 {
        return layer.forward(x);
    }
    let dims = x.dims();
    let (n, c) = (dims[0], dims[1]);
    let s: usize = dims[2..].iter().product();
    if n * s == 0 {
        return layer.forward(x);
    }
    FUSED_CALLS.with(|k| k.set(k.get() + 1));
    let x3 = x.reshape([n, c, s]);
    let stats = Tensor::<2>::from_dispatch(<Dispatch as BatchNormBackend>::dk_bn_stats(
        x3.clone().detach().into_dispatch(),
    ));
    let y = Tensor::<3>::from_dispatch(<Dispatch as BatchNormBackend>::dk_bn_train(
        x3.into_dispatch(),
        layer.gamma.val().into_dispatch(),
        layer.beta.val().into_dispatch(),
        layer.epsilon,
    ));
    let mean = stats.clone().slice([0..1, 0..c]).reshape([c]);
    let var = stats.slice([1..2, 0..c]).reshape([c]);
    let m = layer.momentum;
    let running_mean = layer.running_mean.value_sync().to_device(&device);
    let running_var = layer.running_var.value_sync().to_device(&device);
    layer.running_mean.update(
        running_mean
            .mul_scalar(1.0 - m)
            .add(mean.mul_scalar(m))
            .detach(),
    );
    layer.running_var.update(
        running_var
            .mul_scalar(1.0 - m)
            .add(var.mul_scalar(m))
            .detach(),
    );
    y.reshape(dims)
}
