//! Host-side helpers of the losses whose weights are computed off the autodiff graph
//! (distance maps, Lovász sort weights, smoothed targets): tensors as host values, and each slab's
//! distances to the other side of its boundary.
use burn::prelude::*;
use ndarray::{ArrayD, IxDyn};

/// The values of `t` as `f64`, in row-major order (no gradient).
pub(crate) fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().iter::<f64>().collect()
}

/// For one slab of values over `spatial` (row-major), thresholded at 0.5: whether each voxel is
/// inside, and its Euclidean distance in voxels to the nearest voxel on the other side of the
/// boundary (`EDT(not m)` inside, `EDT(m)` outside). `None` when the slab is all inside or all
/// outside (no boundary).
pub(crate) fn across_boundary(slab: &[f64], spatial: &[usize]) -> Option<(Vec<bool>, Vec<f64>)> {
    let mask: Vec<bool> = slab.iter().map(|&v| v > 0.5).collect();
    let inside = mask.iter().filter(|&&m| m).count();
    if inside == 0 || inside == mask.len() {
        return None;
    }
    let m = ArrayD::from_shape_vec(IxDyn(spatial), mask).ok()?;
    let spacing = vec![1.0; spatial.len()];
    let to_outside = dicekit_metrics::squared_edt(&m.mapv(|v| !v), &spacing);
    let to_inside = dicekit_metrics::squared_edt(&m, &spacing);
    let distance = m
        .iter()
        .zip(to_outside.iter().zip(to_inside.iter()))
        .map(|(&inn, (&a, &b))| f64::from(if inn { a } else { b }).sqrt())
        .collect();
    Some((m.into_raw_vec_and_offset().0, distance))
}
