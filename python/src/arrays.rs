//! NumPy arrays as label maps: `bool`, `uint8`, `uint16` and `uint32` arrays are read where they
//! lie (C or Fortran order, no copy); other integer dtypes are converted once to the narrowest
//! unsigned type that holds their largest label (negative values are refused).
use dicekit_metrics::Label;
use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use numpy::{PyArrayDescrMethods, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors;

/// One label map from Python.
pub enum Input<'py> {
    /// Read in place.
    Bool(PyReadonlyArrayDyn<'py, bool>),
    /// Read in place.
    U8(PyReadonlyArrayDyn<'py, u8>),
    /// Read in place.
    U16(PyReadonlyArrayDyn<'py, u16>),
    /// Read in place.
    U32(PyReadonlyArrayDyn<'py, u32>),
    /// Converted from another integer dtype.
    Owned(ArrayD<u32>),
}

impl Input<'_> {
    /// The shape.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Input::Bool(a) => a.shape().to_vec(),
            Input::U8(a) => a.shape().to_vec(),
            Input::U16(a) => a.shape().to_vec(),
            Input::U32(a) => a.shape().to_vec(),
            Input::Owned(a) => a.shape().to_vec(),
        }
    }

    /// Read where it lies (not converted).
    pub fn borrowed(&self) -> bool {
        !matches!(self, Input::Owned(_))
    }

    /// A copy as `u32` labels (`true` is 1).
    pub fn to_u32(&self) -> ArrayD<u32> {
        match self {
            Input::Bool(a) => a.as_array().mapv(u32::from),
            Input::U8(a) => a.as_array().mapv(u32::from),
            Input::U16(a) => a.as_array().mapv(u32::from),
            Input::U32(a) => a.as_array().to_owned(),
            Input::Owned(a) => a.clone(),
        }
    }
}

/// Converts a signed or 64-bit integer array to `u32` labels.
fn convert<T>(a: PyReadonlyArrayDyn<'_, T>, what: &str) -> PyResult<ArrayD<u32>>
where
    T: numpy::Element + Copy + TryInto<u32> + std::fmt::Display,
{
    let view = a.as_array();
    let mut out = Vec::with_capacity(view.len());
    for &v in view.iter() {
        match v.try_into() {
            Ok(l) => out.push(l),
            Err(_) => {
                return Err(errors::value(format!(
                    "{what} holds {v}, which is not a label (labels are integers from 0 to 4294967295)"
                )));
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(view.shape()), out).map_err(|e| errors::value(e.to_string()))
}

/// Whether `obj` is a NumPy array of bool or integer dtype that cannot be read where it lies:
/// misaligned, or in the other byte order (a big-endian NIfTI as nibabel returns it). Such an
/// array is copied once into an aligned native-order one (`astype`, keeping its C/F order).
pub fn needs_copy(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    let Ok(array) = obj.cast::<PyUntypedArray>() else {
        return Ok(false);
    };
    let dtype = array.dtype();
    if !matches!(dtype.kind(), b'b' | b'i' | b'u') {
        return Ok(false);
    }
    let aligned: bool = obj.getattr("flags")?.getattr("aligned")?.extract()?;
    Ok(!aligned || !dtype.is_native_byteorder().unwrap_or(true))
}

/// Reads `obj` (a NumPy array of bool or integer dtype, 2D or 3D; anything else `numpy.asarray`
/// takes, such as a list or a CPU torch tensor, goes through it first) as a label map.
pub fn input<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Input<'py>> {
    let converted;
    let obj = if obj.cast::<PyUntypedArray>().is_err() {
        converted = obj
            .py()
            .import("numpy")?
            .call_method1("asarray", (obj,))
            .map_err(|e| {
                PyTypeError::new_err(format!("{what}: not convertible to a NumPy array ({e})"))
            })?;
        &converted
    } else {
        obj
    };
    let native;
    let obj = if needs_copy(obj)? {
        let dtype = obj.getattr("dtype")?.call_method1("newbyteorder", ("=",))?;
        native = obj.call_method1("astype", (dtype,))?;
        &native
    } else {
        obj
    };
    let input = if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, u8>>() {
        Input::U8(a)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, bool>>() {
        Input::Bool(a)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, u16>>() {
        Input::U16(a)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, u32>>() {
        Input::U32(a)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, i64>>() {
        Input::Owned(convert(a, what)?)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, i32>>() {
        Input::Owned(convert(a, what)?)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, i16>>() {
        Input::Owned(convert(a, what)?)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, i8>>() {
        Input::Owned(convert(a, what)?)
    } else if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, u64>>() {
        Input::Owned(convert(a, what)?)
    } else {
        let kind = obj
            .getattr("dtype")
            .map_or_else(|_| obj.get_type().to_string(), |d| d.to_string());
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a NumPy array of bool or integer dtype, got {kind}"
        )));
    };
    let nd = input.shape().len();
    if !(nd == 2 || nd == 3) {
        return Err(errors::value(format!(
            "{what}: a label map must be 2D or 3D, got {nd} axes (shape {:?})",
            input.shape()
        )));
    }
    Ok(input)
}

/// A prediction and a reference of one element type, read in place when both arrive in the
/// same type (else both as `u32` copies).
pub enum Pair<'a> {
    /// Masks.
    Bool(CowArray<'a, bool, IxDyn>, CowArray<'a, bool, IxDyn>),
    /// 8-bit labels.
    U8(CowArray<'a, u8, IxDyn>, CowArray<'a, u8, IxDyn>),
    /// 16-bit labels.
    U16(CowArray<'a, u16, IxDyn>, CowArray<'a, u16, IxDyn>),
    /// 32-bit labels.
    U32(CowArray<'a, u32, IxDyn>, CowArray<'a, u32, IxDyn>),
}

impl<'a> Pair<'a> {
    /// The pair of `pred` and `truth`, checked to have one shape.
    pub fn new(pred: &'a Input<'_>, truth: &'a Input<'_>) -> PyResult<Self> {
        if pred.shape() != truth.shape() {
            return Err(errors::value(format!(
                "pred has shape {:?} but truth has shape {:?}",
                pred.shape(),
                truth.shape()
            )));
        }
        Ok(match (pred, truth) {
            (Input::Bool(p), Input::Bool(t)) => {
                Pair::Bool(p.as_array().into(), t.as_array().into())
            }
            (Input::U8(p), Input::U8(t)) => Pair::U8(p.as_array().into(), t.as_array().into()),
            (Input::U16(p), Input::U16(t)) => Pair::U16(p.as_array().into(), t.as_array().into()),
            (Input::U32(p), Input::U32(t)) => Pair::U32(p.as_array().into(), t.as_array().into()),
            (p, t) => Pair::U32(p.to_u32().into(), t.to_u32().into()),
        })
    }

    /// Whether both maps are read where they lie (same dtype, no conversion).
    pub fn borrowed(&self) -> bool {
        let b = |c: bool, d: bool| c && d;
        match self {
            Pair::Bool(p, t) => b(p.is_view(), t.is_view()),
            Pair::U8(p, t) => b(p.is_view(), t.is_view()),
            Pair::U16(p, t) => b(p.is_view(), t.is_view()),
            Pair::U32(p, t) => b(p.is_view(), t.is_view()),
        }
    }
}

/// Runs a generic function on the two views of a [`Pair`].
pub trait PairFn {
    /// The result.
    type Out: Send;
    /// The work, on views of one label type.
    fn run<T: Label>(self, pred: &ArrayViewD<T>, truth: &ArrayViewD<T>) -> Self::Out;
}

impl Pair<'_> {
    /// `f` on the two maps.
    pub fn apply<F: PairFn>(&self, f: F) -> F::Out {
        match self {
            Pair::Bool(p, t) => f.run(&p.view(), &t.view()),
            Pair::U8(p, t) => f.run(&p.view(), &t.view()),
            Pair::U16(p, t) => f.run(&p.view(), &t.view()),
            Pair::U32(p, t) => f.run(&p.view(), &t.view()),
        }
    }
}

/// A label from a Python int: 0 to 4294967295, else `ValueError`.
pub fn label(v: i64) -> PyResult<u32> {
    u32::try_from(v).map_err(|_| {
        errors::value(format!(
            "label {v}: labels are integers from 0 to 4294967295"
        ))
    })
}

/// Labels from Python ints (see [`label`]).
pub fn labels(labels: Option<Vec<i64>>) -> PyResult<Option<Vec<u32>>> {
    labels
        .map(|l| l.into_iter().map(label).collect())
        .transpose()
}

/// The spacing, one positive finite value per axis (`None`: 1 per axis).
pub fn spacing(spacing: Option<Vec<f64>>, ndim: usize) -> PyResult<Vec<f64>> {
    let s = spacing.unwrap_or_else(|| vec![1.0; ndim]);
    if s.len() != ndim {
        return Err(errors::value(format!(
            "spacing has {} values but the maps have {ndim} axes",
            s.len()
        )));
    }
    if let Some(bad) = s.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(errors::value(format!(
            "spacing values must be finite and > 0, got {bad}"
        )));
    }
    Ok(s)
}
