//! The kernel on Flex: the tensors' storage handed to [`cpu`] as slices (`f32` or `f64`
//! floats; `i32` or `i64` labels, other integer types converted).
use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Element, Shape, TensorData};

use super::cpu::{self, Dims, Float, Inputs, Label, Params, TargetRef, WeightRef};
use super::{OverlapSumsBackend, SUMS, SumsTarget, SumsWeight};

/// `t` contiguous from offset 0 (a copy only when it is not).
fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() && t.layout().start_offset() == 0 {
        t
    } else {
        t.to_contiguous()
    }
}

/// `t` contiguous, of type `dtype` (converted only when it is not).
fn contiguous_as(t: FlexTensor, dtype: DType) -> FlexTensor {
    if t.dtype() == dtype {
        contiguous(t)
    } else {
        FlexTensor::from_data(t.into_data().convert_dtype(dtype))
    }
}

/// The elements of a contiguous tensor with offset 0.
fn slice<E: Element + bytemuck::Pod>(t: &FlexTensor) -> &[E] {
    &t.storage::<E>()[..t.layout().num_elements()]
}

/// A function of the kernel's inputs, generic over the float and label types.
trait KernelFn {
    fn call<F: Float + Element + bytemuck::Pod, L: Label>(
        &self,
        x: &[F],
        target: TargetRef<'_, L, F>,
        weight: Option<WeightRef<'_, F>>,
        d: Dims,
    ) -> FlexTensor {
        self.run(Inputs {
            x,
            target,
            weight,
            d,
            k: self.params(),
        })
    }

    /// The kernel's parameters.
    fn params(&self) -> Params;

    /// Runs on the inputs as slices.
    fn run<F: Float + Element + bytemuck::Pod, L: Label>(
        &self,
        inputs: Inputs<'_, L, F>,
    ) -> FlexTensor;
}

/// Makes the inputs contiguous slices of the logits' float type (`f64` stays `f64`, any
/// other type is computed in `f32`) and calls `f` on them.
fn with_slices<K: KernelFn>(
    logits: FlexTensor,
    target: SumsTarget<Flex>,
    weight: SumsWeight<Flex>,
    f: K,
) -> FlexTensor {
    if logits.dtype() == DType::F64 {
        typed::<f64, K>(logits, target, weight, f)
    } else {
        typed::<f32, K>(logits, target, weight, f)
    }
}

fn typed<F: Float + Element + bytemuck::Pod, K: KernelFn>(
    logits: FlexTensor,
    target: SumsTarget<Flex>,
    weight: SumsWeight<Flex>,
    f: K,
) -> FlexTensor {
    let dtype = F::dtype();
    let logits = contiguous_as(logits, dtype);
    let shape = logits.layout().shape();
    let d = Dims {
        b: shape[0],
        c: shape[1],
        n: shape[2],
    };
    let x: &[F] = slice(&logits);
    let weight = match weight {
        SumsWeight::Uniform => None,
        SumsWeight::Map(w) => Some(contiguous_as(w, dtype)),
    };
    let weight = weight.as_ref().map(|w| {
        let ws = w.layout().shape();
        WeightRef {
            values: slice(w),
            per_sample: ws[0] == d.b && d.b > 1,
            per_class: ws[1] == d.c && d.c > 1,
        }
    });
    match target {
        SumsTarget::Labels(l) => {
            if l.dtype() == DType::I32 {
                let l = contiguous(l);
                f.call::<F, i32>(x, TargetRef::Labels(slice(&l)), weight, d)
            } else {
                let l = contiguous_as(l, DType::I64);
                f.call::<F, i64>(x, TargetRef::Labels(slice(&l)), weight, d)
            }
        }
        SumsTarget::Dense(t) => {
            let t = contiguous_as(t, dtype);
            f.call::<F, i64>(x, TargetRef::Dense(slice(&t)), weight, d)
        }
    }
}

struct Forward(Params);

impl KernelFn for Forward {
    fn params(&self) -> Params {
        self.0
    }

    fn run<F: Float + Element + bytemuck::Pod, L: Label>(
        &self,
        inputs: Inputs<'_, L, F>,
    ) -> FlexTensor {
        let d = inputs.d;
        let sums: Vec<F> = cpu::forward(inputs).into_iter().map(F::from_f64).collect();
        FlexTensor::from_data(TensorData::new(sums, Shape::new([d.b, d.c, SUMS])))
    }
}

/// The backward, with the output gradient (any float type; converted to the logits' type).
struct Backward(Params, FlexTensor);

impl KernelFn for Backward {
    fn params(&self) -> Params {
        self.0
    }

    fn run<F: Float + Element + bytemuck::Pod, L: Label>(
        &self,
        inputs: Inputs<'_, L, F>,
    ) -> FlexTensor {
        let d = inputs.d;
        let grad = contiguous_as(self.1.clone(), F::dtype());
        let dx = cpu::backward(inputs, slice(&grad));
        FlexTensor::from_data(TensorData::new(dx, Shape::new([d.b, d.c, d.n])))
    }
}

impl OverlapSumsBackend for Flex {
    fn overlap_sums(
        logits: FlexTensor,
        target: SumsTarget<Self>,
        weight: SumsWeight<Self>,
        params: Params,
    ) -> FlexTensor {
        with_slices(logits, target, weight, Forward(params))
    }

    fn overlap_sums_backward(
        logits: FlexTensor,
        target: SumsTarget<Self>,
        weight: SumsWeight<Self>,
        params: Params,
        grad: FlexTensor,
    ) -> FlexTensor {
        with_slices(logits, target, weight, Backward(params, grad))
    }
}
