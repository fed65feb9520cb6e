//! Convolutions of burn's conv layers through dicekit's own CPU kernels.
//!
//! [`conv2d`], [`conv3d`], [`conv_transpose2d`] and [`conv_transpose3d`] take a burn layer
//! (`Conv2d`, ..., so configs and checkpoints are burn's) and an input. On Flex, and on
//! `Autodiff<Flex>`, with `f32` and one group, they run direct convolutions written for the
//! shapes of a U-Net (3x3 and 1x1, 2D and 3D, stride 1 and 2, transposed 2x2 stride 2; any
//! kernel, stride, padding and dilation works): no im2col matrix, an AVX-512 register tile
//! where the CPU has it, rayon threads (see `direct.rs` and `cpu.rs`). The operation is a burn
//! backend extension ([`ConvBackend`]) with a hand-written backward (input and weight
//! gradients from the same kernels, bias gradient a sum).
//!
//! Every other backend (the GPU), float type or grouped convolution calls the layer's own
//! `forward`, which is also the reference the kernels are tested against.
//!
//! `DICEKIT_CONV=burn` in the environment, or [`with_burn_conv`], turns the kernels off (for
//! comparisons).
mod cpu;
mod direct;
pub(crate) mod flex;
mod geom;
mod grad;

use std::cell::Cell;
use std::sync::OnceLock;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, DispatchDevice, ExtensionType, backend_extension};
use burn::nn::conv::{Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d};
use burn::nn::{PaddingConfig2d, PaddingConfig3d};
use burn::prelude::*;
use burn::tensor::DType;

pub use cpu::Isa;
pub use geom::ConvGeom;

/// The bias handed to the kernels.
#[derive(ExtensionType, Debug, Clone)]
pub enum ConvBias<B: Backend> {
    /// No bias.
    None,
    /// `[C]`, added to every output of channel `C`.
    Some(FloatTensor<B>),
}

/// Direct convolutions as backend operations, on `[N, C, D, H, W]` tensors (2D: `D = 1`).
#[backend_extension(Flex, Autodiff)]
pub trait ConvBackend: Backend {
    /// `y [N, Co, ...O]` of `x [N, Ci, ...I]` and `weight [Co, Ci, ...K]` ([`ConvGeom`]).
    fn dk_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        #[extension_type] bias: ConvBias<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self>;

    /// The transposed convolution `[N, Co, ...O] -> [N, Ci, ...I]`: the input gradient of the
    /// convolution `geom` with `x` as its output gradient, plus a bias `[Ci]`.
    fn dk_conv_transpose(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        #[extension_type] bias: ConvBias<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self>;

    /// `dx [N, Ci, ...I]` of the convolution `geom` from `dy [N, Co, ...O]`.
    fn dk_conv_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self>;

    /// `dw [Co, Ci, ...K]` of the convolution `geom` from `x` and `dy`.
    fn dk_conv_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self>;
}

thread_local! {
    static BURN_ONLY: Cell<bool> = const { Cell::new(false) };
    static PORTABLE: Cell<bool> = const { Cell::new(false) };
    static DIRECT_CALLS: Cell<usize> = const { Cell::new(0) };
}

/// Restores a thread-local flag when dropped.
struct Restore(&'static std::thread::LocalKey<Cell<bool>>, bool);

impl Drop for Restore {
    fn drop(&mut self) {
        self.0.with(|c| c.set(self.1));
    }
}

/// Runs `f` with burn's own convolutions and batch norm on this thread (comparisons, tests).
#[doc(hidden)]
pub fn with_burn_conv<R>(f: impl FnOnce() -> R) -> R {
    let _r = Restore(&BURN_ONLY, BURN_ONLY.with(|c| c.replace(true)));
    f()
}

/// Runs `f` with the portable kernels instead of the AVX-512 ones (tests).
#[doc(hidden)]
pub fn with_portable_kernels<R>(f: impl FnOnce() -> R) -> R {
    let _r = Restore(&PORTABLE, PORTABLE.with(|c| c.replace(true)));
    f()
}

/// How many convolutions this thread has run through the direct kernels.
#[doc(hidden)]
pub fn direct_calls() -> usize {
    DIRECT_CALLS.with(|c| c.get())
}

/// `DICEKIT_CONV=burn` turns the kernels off for the whole process.
fn burn_by_env() -> bool {
    static ENV: OnceLock<bool> = OnceLock::new();
    *ENV.get_or_init(|| std::env::var("DICEKIT_CONV").is_ok_and(|v| v == "burn"))
}

/// Whether dicekit's kernels (convolutions, batch norm) are on for calls made now on this
/// thread.
pub(crate) fn kernels_enabled() -> bool {
    !BURN_ONLY.with(|c| c.get()) && !burn_by_env()
}

/// The instruction set for a call made now on this thread, or `None` where the kernels do not
/// apply to `x` (not on Flex, not `f32`, turned off).
fn kernel_isa<const D: usize>(x: &Tensor<D>) -> Option<Isa> {
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    if !on_flex || x.dtype() != DType::F32 || BURN_ONLY.with(|c| c.get()) || burn_by_env() {
        return None;
    }
    Some(if PORTABLE.with(|c| c.get()) {
        Isa::Portable
    } else {
        Isa::detect()
    })
}

/// burn's "same" padding of one axis (the kernel size, not the dilated extent).
fn same_padding(kernel: usize, stride: usize, size: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = if out > 0 {
        ((out - 1) * stride + kernel).saturating_sub(size)
    } else {
        0
    };
    (total / 2, total - total / 2)
}

/// Runs the convolution `geom` on 5D tensors through the kernels, or (`transposed`) its
/// transposed convolution ([`ConvBackend::dk_conv_transpose`]).
fn run(
    x: Tensor<5>,
    weight: Tensor<5>,
    bias: Option<Tensor<1>>,
    geom: ConvGeom,
    transposed: bool,
) -> Tensor<5> {
    DIRECT_CALLS.with(|c| c.set(c.get() + 1));
    let bias = match bias {
        Some(b) => ConvBias::Some(b.into_dispatch()),
        None => ConvBias::None,
    };
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(if transposed {
        <Dispatch as ConvBackend>::dk_conv_transpose(x, weight, bias, geom)
    } else {
        <Dispatch as ConvBackend>::dk_conv(x, weight, bias, geom)
    })
}

/// The forward of a burn [`Conv2d`] layer on `[N, Ci, H, W]`.
pub fn conv2d(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [n, ci, h, w] = x.dims();
    let Some(isa) = kernel_isa(&x).filter(|_| layer.groups == 1) else {
        return layer.forward(x);
    };
    let [kh, kw] = layer.kernel_size;
    let [sh, sw] = layer.stride;
    let (ph, pw) = match &layer.padding {
        PaddingConfig2d::Valid => ((0, 0), (0, 0)),
        PaddingConfig2d::Same => (same_padding(kh, sh, h), same_padding(kw, sw, w)),
        PaddingConfig2d::Explicit(top, left, bottom, right) => ((*top, *bottom), (*left, *right)),
    };
    let weight = layer.weight.val();
    let geom = ConvGeom {
        n,
        ci,
        co: weight.dims()[0],
        input: [1, h, w],
        kernel: [1, kh, kw],
        stride: [1, sh, sw],
        pad: [(0, 0), ph, pw],
        dilation: [1, layer.dilation[0], layer.dilation[1]],
        isa,
    };
    let Some(out) = geom.output().filter(|_| weight.dims()[1] == ci) else {
        return layer.forward(x);
    };
    let weight = weight.reshape([geom.co, ci, 1, kh, kw]);
    let bias = layer.bias.as_ref().map(|b| b.val());
    run(x.reshape([n, ci, 1, h, w]), weight, bias, geom, false)
        .reshape([n, geom.co, out[1], out[2]])
}

/// The forward of a burn [`Conv3d`] layer on `[N, Ci, D, H, W]`.
pub fn conv3d(layer: &Conv3d, x: Tensor<5>) -> Tensor<5> {
    let [n, ci, d, h, w] = x.dims();
    let Some(isa) = kernel_isa(&x).filter(|_| layer.groups == 1) else {
        return layer.forward(x);
    };
    let size = [d, h, w];
    let pad: [(usize, usize); 3] = match &layer.padding {
        PaddingConfig3d::Valid => [(0, 0); 3],
        PaddingConfig3d::Same => {
            std::array::from_fn(|a| same_padding(layer.kernel_size[a], layer.stride[a], size[a]))
        }
        PaddingConfig3d::Explicit(a, b, c) => [(*a, *a), (*b, *b), (*c, *c)],
    };
    let weight = layer.weight.val();
    let geom = ConvGeom {
        n,
        ci,
        co: weight.dims()[0],
        input: size,
        kernel: layer.kernel_size,
        stride: layer.stride,
        pad,
        dilation: layer.dilation,
        isa,
    };
    if geom.output().is_none() || weight.dims()[1] != ci {
        return layer.forward(x);
    }
    let bias = layer.bias.as_ref().map(|b| b.val());
    run(x, weight, bias, geom, false)
}

/// The geometry of the convolution whose input gradient is the transposed convolution of
/// `x` (`[N, C, ...S]` spatial `size`), or `None` where the kernels do not apply.
#[allow(clippy::too_many_arguments)]
fn transposed_geom(
    n: usize,
    cin: usize,
    cout: usize,
    size: [usize; 3],
    kernel: [usize; 3],
    stride: [usize; 3],
    padding: [usize; 3],
    padding_out: [usize; 3],
    dilation: [usize; 3],
    isa: Isa,
) -> Option<ConvGeom> {
    let mut out = [0; 3];
    for a in 0..3 {
        if padding_out[a] >= stride[a] || size[a] == 0 {
            return None;
        }
        let full = (size[a] - 1) * stride[a] + dilation[a] * (kernel[a] - 1) + 1 + padding_out[a];
        out[a] = full.checked_sub(2 * padding[a]).filter(|o| *o > 0)?;
    }
    let geom = ConvGeom {
        n,
        ci: cout,
        co: cin,
        input: out,
        kernel,
        stride,
        pad: padding.map(|p| (p, p)),
        dilation,
        isa,
    };
    (geom.output() == Some(size)).then_some(geom)
}

/// The forward of a burn [`ConvTranspose2d`] layer on `[N, Ci, H, W]`.
pub fn conv_transpose2d(layer: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let [n, ci, h, w] = x.dims();
    let weight = layer.weight.val();
    let [wi, co, kh, kw] = weight.dims();
    let geom = kernel_isa(&x)
        .filter(|_| layer.groups == 1 && wi == ci)
        .and_then(|isa| {
            let l = layer;
            transposed_geom(
                n,
                ci,
                co,
                [1, h, w],
                [1, kh, kw],
                [1, l.stride[0], l.stride[1]],
                [0, l.padding[0], l.padding[1]],
                [0, l.padding_out[0], l.padding_out[1]],
                [1, l.dilation[0], l.dilation[1]],
                isa,
            )
        });
    let Some(geom) = geom else {
        return layer.forward(x);
    };
    let bias = layer.bias.as_ref().map(|b| b.val());
    let [_, oh, ow] = geom.input;
    run(
        x.reshape([n, ci, 1, h, w]),
        weight.reshape([ci, co, 1, kh, kw]),
        bias,
        geom,
        true,
    )
    .reshape([n, co, oh, ow])
}

/// The forward of a burn [`ConvTranspose3d`] layer on `[N, Ci, D, H, W]`.
pub fn conv_transpose3d(layer: &ConvTranspose3d, x: Tensor<5>) -> Tensor<5> {
    let [n, ci, d, h, w] = x.dims();
    let weight = layer.weight.val();
    let [wi, co, ..] = weight.dims();
    let geom = kernel_isa(&x)
        .filter(|_| layer.groups == 1 && wi == ci)
        .and_then(|isa| {
            let l = layer;
            transposed_geom(
                n,
                ci,
                co,
                [d, h, w],
                l.kernel_size,
                l.stride,
                l.padding,
                l.padding_out,
                l.dilation,
                isa,
            )
        });
    let Some(geom) = geom else {
        return layer.forward(x);
    };
    let bias = layer.bias.as_ref().map(|b| b.val());
    run(x, weight, bias, geom, true)
}

/// A burn convolution layer whose forward runs through dicekit's kernels where they apply
/// ([`conv2d`], [`conv3d`], [`conv_transpose2d`], [`conv_transpose3d`]).
pub trait FastConv<const D: usize> {
    /// The layer's output, the same as its own `forward`.
    fn forward_fast(&self, x: Tensor<D>) -> Tensor<D>;
}

impl FastConv<4> for Conv2d {
    fn forward_fast(&self, x: Tensor<4>) -> Tensor<4> {
        conv2d(self, x)
    }
}

impl FastConv<5> for Conv3d {
    fn forward_fast(&self, x: Tensor<5>) -> Tensor<5> {
        conv3d(self, x)
    }
}

impl FastConv<4> for ConvTranspose2d {
    fn forward_fast(&self, x: Tensor<4>) -> Tensor<4> {
        conv_transpose2d(self, x)
    }
}

impl FastConv<5> for ConvTranspose3d {
    fn forward_fast(&self, x: Tensor<5>) -> Tensor<5> {
        conv_transpose3d(self, x)
    }
}
