//! The `dicekit` Python package's extension module, `dicekit._dicekit`: dicekit's metrics on
//! NumPy arrays. Every number comes from the Rust crates (`dicekit-metrics`, `dicekit-eval`);
//! nothing is re-implemented here. Arrays of `bool`, `uint8`, `uint16` and `uint32` are read
//! where they lie (C or Fortran order); the GIL is released while the metrics run; errors are
//! `ValueError` (arrays and arguments), `OSError` (files) and `TypeError` (dtypes), with the
//! Rust message.
mod accumulator;
mod arrays;
mod calibration;
mod convert;
mod counts;
mod errors;
mod evaluate;
mod lesions;
mod surface;

use pyo3::prelude::*;

/// mimalloc keeps freed pages for reuse (see Cargo.toml), as the `dicekit` binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Whether `pred` and `truth` are read where they lie (same dtype among bool, uint8, uint16,
/// uint32, aligned and in native byte order; C or Fortran order is decided by the metrics,
/// which copy only mixed layouts).
#[pyfunction]
fn _borrows(pred: &Bound<'_, PyAny>, truth: &Bound<'_, PyAny>) -> PyResult<bool> {
    let copied = arrays::needs_copy(pred)? || arrays::needs_copy(truth)?;
    let (p, t) = (arrays::input(pred, "pred")?, arrays::input(truth, "truth")?);
    Ok(!copied && p.borrowed() && t.borrowed() && arrays::Pair::new(&p, &t)?.borrowed())
}

#[pymodule]
fn _dicekit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let conventions: Vec<&str> = dicekit_metrics::Convention::ALL
        .iter()
        .map(|c| c.name())
        .collect();
    m.add("CONVENTIONS", conventions)?;
    let metrics: Vec<&str> = dicekit_metrics::MetricKind::ALL
        .iter()
        .map(|k| k.name())
        .collect();
    m.add("METRICS", metrics)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::evaluate_files, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate::pair_files, m)?)?;
    m.add_function(wrap_pyfunction!(counts::confusion_counts, m)?)?;
    m.add_function(wrap_pyfunction!(calibration::reliability_bins, m)?)?;
    m.add_function(wrap_pyfunction!(
        calibration::expected_calibration_error_py,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        calibration::maximum_calibration_error_py,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(calibration::brier_score, m)?)?;
    m.add_function(wrap_pyfunction!(lesions::evaluate_lesions, m)?)?;
    m.add_function(wrap_pyfunction!(lesions::evaluate_lesion_files, m)?)?;
    m.add_function(wrap_pyfunction!(_borrows, m)?)?;
    m.add_class::<counts::Counts>()?;
    m.add_class::<surface::Surface>()?;
    m.add_class::<accumulator::Accumulator>()?;
    m.add_class::<lesions::Options>()?;
    Ok(())
}
