//! The kernels on Flex: tensors' storage handed to [`direct`](super::direct) as `f32` slices.
use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Shape, TensorData};

use super::direct;
use super::{ConvBackend, ConvBias, ConvGeom};

/// `t` as a contiguous `f32` tensor from offset 0 (a copy only when it is not one).
pub(crate) fn contiguous_f32(t: FlexTensor) -> FlexTensor {
    if t.dtype() != DType::F32 {
        FlexTensor::from_data(t.into_data().convert_dtype(DType::F32))
    } else if t.is_contiguous() && t.layout().start_offset() == 0 {
        t
    } else {
        t.to_contiguous()
    }
}

/// The elements of a contiguous `f32` tensor with offset 0.
pub(crate) fn values(t: &FlexTensor) -> &[f32] {
    &t.storage::<f32>()[..t.layout().num_elements()]
}

fn tensor(v: Vec<f32>, shape: [usize; 5]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, Shape::new(shape)))
}

fn bias_values(bias: ConvBias<Flex>) -> Option<FlexTensor> {
    match bias {
        ConvBias::None => None,
        ConvBias::Some(b) => Some(contiguous_f32(b)),
    }
}

impl ConvBackend for Flex {
    fn dk_conv(x: FlexTensor, weight: FlexTensor, bias: ConvBias<Self>, g: ConvGeom) -> FlexTensor {
        let (x, w, b) = (contiguous_f32(x), contiguous_f32(weight), bias_values(bias));
        let y = direct::conv_forward(values(&x), values(&w), b.as_ref().map(values), &g);
        let [o0, o1, o2] = g.output_or_empty();
        tensor(y, [g.n, g.co, o0, o1, o2])
    }

    fn dk_conv_transpose(
        x: FlexTensor,
        weight: FlexTensor,
        bias: ConvBias<Self>,
        g: ConvGeom,
    ) -> FlexTensor {
        let (x, w, b) = (contiguous_f32(x), contiguous_f32(weight), bias_values(bias));
        let y = direct::conv_input_grad(values(&x), values(&w), b.as_ref().map(values), &g);
        let [i0, i1, i2] = g.input;
        tensor(y, [g.n, g.ci, i0, i1, i2])
    }

    fn dk_conv_input_grad(dy: FlexTensor, weight: FlexTensor, g: ConvGeom) -> FlexTensor {
        let (dy, w) = (contiguous_f32(dy), contiguous_f32(weight));
        let dx = direct::conv_input_grad(values(&dy), values(&w), None, &g);
        let [i0, i1, i2] = g.input;
        tensor(dx, [g.n, g.ci, i0, i1, i2])
    }

    fn dk_conv_weight_grad(x: FlexTensor, dy: FlexTensor, g: ConvGeom) -> FlexTensor {
        let (x, dy) = (contiguous_f32(x), contiguous_f32(dy));
        let dw = direct::conv_weight_grad(values(&x), values(&dy), &g);
        let [k0, k1, k2] = g.kernel;
        tensor(dw, [g.co, g.ci, k0, k1, k2])
    }
}
