//! The fused overlap-sums kernel: `I`, `P`, `G` (and the weight sum `W`) of every sample and
//! class straight from the logits, as one custom operation with its own backward.
//!
//! ```text
//! logits [B, C, ...S], target, weight  --overlap_sums-->  [B, C, 4] = (I, P, G, W)
//! ```
//! (formulas in [`cpu`]). On Flex, and on `Autodiff<Flex>`, this is one pass over the logits
//! for the forward and one for the gradient: no one-hot target, no probability tensor kept,
//! the gradient written once. The operation is a burn backend extension ([`OverlapSumsBackend`])
//! implemented for `Flex` and, with a hand-written backward, for `Autodiff<B>`.
//!
//! Every other backend (the GPU) takes burn's generic tensor path in `overlap.rs`, which is
//! also the reference the fused path is tested against ([`fused_sums`] returns `None` when the
//! kernel does not apply, and the caller falls back to it).
pub(crate) mod cpu;
mod flex;
mod grad;

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, DispatchDevice, ExtensionType, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;

use crate::Activation;
use crate::overlap::{Intersection, Power, WeightMapMode};
use crate::target::Target;

pub(crate) use cpu::SUMS;

/// The target handed to the kernel.
#[derive(ExtensionType, Debug, Clone)]
pub enum SumsTarget<B: Backend> {
    /// Class labels `[B, 1, N]` (int).
    Labels(IntTensor<B>),
    /// Per-class values `[B, C, N]`, 0 where ignored.
    Dense(FloatTensor<B>),
}

/// The voxel weight handed to the kernel.
#[derive(ExtensionType, Debug, Clone)]
pub enum SumsWeight<B: Backend> {
    /// Every voxel weighs 1.
    Uniform,
    /// `[1|B, 1|C, N]` (weight map times the ignore mask of a dense target).
    Map(FloatTensor<B>),
}

/// The fused overlap sums as a backend operation.
#[backend_extension(Flex, Autodiff)]
pub trait OverlapSumsBackend: Backend {
    /// `[B, C, 4]` sums (`I`, `P`, `G`, `W`) from logits `[B, C, N]`.
    fn overlap_sums(
        logits: FloatTensor<Self>,
        #[extension_type] target: SumsTarget<Self>,
        #[extension_type] weight: SumsWeight<Self>,
        params: cpu::Params,
    ) -> FloatTensor<Self>;

    /// The gradient `[B, C, N]` with respect to the logits, from the gradient `grad` `[B, C, 4]`
    /// with respect to the sums.
    fn overlap_sums_backward(
        logits: FloatTensor<Self>,
        #[extension_type] target: SumsTarget<Self>,
        #[extension_type] weight: SumsWeight<Self>,
        params: cpu::Params,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

thread_local! {
    static GENERIC_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static FUSED_CALLS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many times this thread has taken the fused kernel (tests check that it runs).
#[doc(hidden)]
pub fn fused_calls() -> usize {
    FUSED_CALLS.with(|c| c.get())
}

/// Runs `f` with the fused kernel turned off on this thread: every overlap loss takes burn's
/// generic tensor path, as on the GPU. For comparing the two paths (tests, benchmarks).
#[doc(hidden)]
pub fn with_generic_path<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            GENERIC_ONLY.with(|g| g.set(self.0));
        }
    }
    let _restore = Restore(GENERIC_ONLY.with(|g| g.replace(true)));
    f()
}

/// What the overlap losses ask of the sums.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SumsRequest {
    pub activation: Activation,
    pub ignore: Option<i64>,
    pub mode: WeightMapMode,
    pub power: Power,
    pub intersection: Intersection,
}

/// The fused sums `[B, C, 4]`, or `None` where the kernel does not apply: a backend other than
/// Flex, a float type other than `f32` and `f64` (or mixed), a target or weight map that requires a gradient, or a
/// weight map that does not broadcast as `[1|B, 1|C, ...S]`.
///
/// `target` is either class labels (the ignore label applied inside the kernel) or dense values
/// with the ignore rule already applied (`weight` then carries the validity mask).
pub(crate) fn fused_sums<const D: usize>(
    logits: &Tensor<D>,
    target: &Target<D>,
    weight: Option<&Tensor<D>>,
    request: SumsRequest,
) -> Option<Tensor<3>> {
    let dims = logits.dims();
    let on_flex = matches!(
        logits.device().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    );
    let float = logits.dtype();
    if !on_flex || GENERIC_ONLY.with(|g| g.get()) || !matches!(float, DType::F32 | DType::F64) {
        return None;
    }
    let (b, c) = (dims[0], dims[1]);
    let n: usize = dims[2..].iter().product();
    let target = match target {
        Target::Indices(labels) => {
            if !matches!(labels.dtype(), DType::I32 | DType::I64) {
                return None;
            }
            SumsTarget::Labels(labels.clone().reshape([b, 1, n]).into_dispatch())
        }
        Target::Dense(values) => {
            if values.dtype() != float || values.is_require_grad() {
                return None;
            }
            SumsTarget::Dense(values.clone().reshape([b, c, n]).into_dispatch())
        }
    };
    let weight = match weight {
        None => SumsWeight::Uniform,
        Some(w) => {
            let wd = w.dims();
            let broadcasts =
                (wd[0] == 1 || wd[0] == b) && (wd[1] == 1 || wd[1] == c) && wd[2..] == dims[2..];
            if !broadcasts || w.dtype() != float || w.is_require_grad() {
                return None;
            }
            SumsWeight::Map(w.clone().reshape([wd[0], wd[1], n]).into_dispatch())
        }
    };
    let params = cpu::Params {
        act: match request.activation.for_channels(c) {
            Activation::Sigmoid => cpu::Act::Sigmoid,
            Activation::Softmax => cpu::Act::Softmax,
            Activation::Identity => cpu::Act::Identity,
        },
        squared: request.power == Power::Squared,
        norm: request.intersection == Intersection::Norm,
        masked_inputs: request.mode == WeightMapMode::MaskedInputs,
        ignore: request.ignore,
    };
    FUSED_CALLS.with(|c| c.set(c.get() + 1));
    let x = logits.clone().reshape([b, c, n]).into_dispatch();
    Some(Tensor::from_dispatch(
        <Dispatch as OverlapSumsBackend>::overlap_sums(x, target, weight, params),
    ))
}
