//! Resampling to another grid size: intensities and probabilities with a triangle filter,
//! label maps with the nearest voxel.
//!
//! Both map output voxel `i` of an axis of `n_out` voxels onto the input axis of `n_in` voxels
//! by their centres (the corners of the grids coincide, as in PIL and in
//! `torch.nn.functional.interpolate(align_corners=False)`):
//!
//! ```text
//! c(i) = (i + 1/2) s - 1/2,   s = n_in / n_out
//! linear:   out(i) = sum_x w(x) in(x) / sum_x w(x),   w(x) = max(0, 1 - |x - c(i)| / max(s, 1))
//! nearest:  out(i) = in(floor((i + 1/2) s))
//! ```
//!
//! When enlarging (`s <= 1`) the triangle filter is linear interpolation between the two
//! neighbours (edge voxels are repeated beyond the border); when shrinking it widens to `s`
//! input voxels, so that every input voxel contributes (antialiasing, like PIL's `BILINEAR`
//! resize). Axes are resampled one after the other.
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn};

use crate::SettingError;

fn check(shape: &[usize], size: &[usize], what: &str) -> Result<(), SettingError> {
    if shape.len() != size.len() || size.contains(&0) || shape.contains(&0) {
        return Err(SettingError(format!(
            "cannot resample a {what} of size {shape:?} to {size:?}"
        )));
    }
    Ok(())
}

/// Weights of each output voxel along one axis: `(first input voxel, weights)`.
fn axis_weights(n_in: usize, n_out: usize) -> Vec<(usize, Vec<f32>)> {
    let s = n_in as f64 / n_out as f64;
    let support = s.max(1.0);
    (0..n_out)
        .map(|i| {
            let c = (i as f64 + 0.5) * s - 0.5;
            let lo = (c - support).floor().max(0.0) as usize;
            let hi = ((c + support).ceil() as usize).min(n_in - 1);
            let mut w: Vec<f64> = (lo..=hi)
                .map(|x| (1.0 - (x as f64 - c).abs() / support).max(0.0))
                .collect();
            let sum: f64 = w.iter().sum();
            if sum <= 0.0 {
                // Beyond the border: repeat the edge voxel.
                let nearest = c.round().clamp(0.0, (n_in - 1) as f64) as usize;
                return (nearest, vec![1.0]);
            }
            w.iter_mut().for_each(|v| *v /= sum);
            (lo, w.into_iter().map(|v| v as f32).collect())
        })
        .collect()
}

fn resample_axis(a: &ArrayViewD<f32>, axis: usize, n_out: usize) -> ArrayD<f32> {
    let n_in = a.shape()[axis];
    let weights = axis_weights(n_in, n_out);
    let mut shape = a.shape().to_vec();
    shape[axis] = n_out;
    let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
    for (i, (lo, w)) in weights.iter().enumerate() {
        let mut dst = out.index_axis_mut(Axis(axis), i);
        for (k, &wk) in w.iter().enumerate() {
            let src = a.index_axis(Axis(axis), lo + k);
            dst.zip_mut_with(&src, |d, &s| *d += wk * s);
        }
    }
    out
}

/// Resamples the spatial axes of an image `[C, ...S]` to `[C, ...size]` with the triangle
/// filter (linear when enlarging, antialiased when shrinking). Use it for intensities and for
/// class probabilities (a convex combination: probabilities stay in [0, 1] and sum to 1).
///
/// # Errors
/// When `size` does not have one entry per spatial axis or holds a 0.
///
/// # Examples
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// let image = ArrayD::from_shape_vec(IxDyn(&[1, 1, 2]), vec![0.0f32, 1.0]).unwrap();
/// let up = dicekit_data::resample::resize_image(&image, &[1, 4])?;
/// assert_eq!(up.as_slice().unwrap(), &[0.0, 0.25, 0.75, 1.0]);
/// # Ok::<(), dicekit_data::SettingError>(())
/// ```
pub fn resize_image(image: &ArrayD<f32>, size: &[usize]) -> Result<ArrayD<f32>, SettingError> {
    check(&image.shape()[1..], size, "image")?;
    let mut out = image.clone();
    for (ax, &n) in size.iter().enumerate() {
        if out.shape()[ax + 1] != n {
            out = resample_axis(&out.view(), ax + 1, n);
        }
    }
    Ok(out)
}

/// Resamples a label map `[...S]` to `size` with the nearest voxel (labels are never mixed).
///
/// # Errors
/// When `size` does not have one entry per axis or holds a 0.
pub fn resize_labels(labels: &ArrayD<u32>, size: &[usize]) -> Result<ArrayD<u32>, SettingError> {
    check(labels.shape(), size, "label map")?;
    let maps: Vec<Vec<usize>> = labels
        .shape()
        .iter()
        .zip(size)
        .map(|(&n_in, &n_out)| {
            let s = n_in as f64 / n_out as f64;
            (0..n_out)
                .map(|i| (((i as f64 + 0.5) * s).floor() as usize).min(n_in - 1))
                .collect()
        })
        .collect();
    Ok(ArrayD::from_shape_fn(IxDyn(size), |idx| {
        let src: Vec<usize> = (0..size.len()).map(|a| maps[a][idx[a]]).collect();
        labels[IxDyn(&src)]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arr(shape: &[usize], v: Vec<f32>) -> ArrayD<f32> {
        ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
    }

    #[test]
    fn same_size_is_identity() {
        let a = arr(&[2, 3, 2], (0..12).map(|v| v as f32).collect());
        assert_eq!(resize_image(&a, &[3, 2]).unwrap(), a);
        let l = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0u32, 1, 2, 3]).unwrap();
        assert_eq!(resize_labels(&l, &[2, 2]).unwrap(), l);
    }

    #[test]
    fn halving_averages_pairs() {
        // Shrinking by 2: the triangle of half-width 2 around c = 2.5 weighs voxels 1, 2, 3 as
        // 1/4, 3/4, 3/4 (normalised by their sum 7/4).
        let a = arr(&[1, 4], vec![0.0, 0.0, 1.0, 1.0]);
        let h = resize_image(&a, &[2]).unwrap();
        let v = h.as_slice().unwrap();
        // The first output (c = 0.5) weighs voxels 0, 1, 2 as 3/4, 3/4, 1/4.
        assert!((v[0] - 1.0 / 7.0).abs() < 1e-6, "{v:?}");
        assert!((v[1] - 6.0 / 7.0).abs() < 1e-6, "{v:?}");
        // A constant stays constant, at every size.
        let c = arr(&[1, 7, 5], vec![3.5; 35]);
        for size in [[3, 2], [14, 11], [1, 1], [7, 9]] {
            let r = resize_image(&c, &size).unwrap();
            assert!(r.iter().all(|&x| (x - 3.5).abs() < 1e-5), "{size:?}");
        }
    }

    #[test]
    fn probabilities_stay_probabilities() {
        let p: Vec<f32> = (0..30).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
        let mut a = arr(&[2, 3, 5], p.clone());
        for (x, y) in a
            .index_axis(Axis(0), 0)
            .to_owned()
            .iter()
            .zip(a.index_axis_mut(Axis(0), 1).iter_mut())
        {
            *y = 1.0 - x;
        }
        let r = resize_image(&a, &[8, 13]).unwrap();
        for i in 0..8 {
            for j in 0..13 {
                let s = r[[0, i, j]] + r[[1, i, j]];
                assert!((s - 1.0).abs() < 1e-5 && (0.0..=1.0).contains(&r[[0, i, j]]));
            }
        }
    }

    #[test]
    fn labels_take_the_nearest_voxel_and_round_trip() {
        let l = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1u32, 2, 3, 4, 5, 6]).unwrap();
        let up = resize_labels(&l, &[4, 6]).unwrap();
        assert_eq!(up[[0, 0]], 1);
        assert_eq!(up[[3, 5]], 6);
        assert_eq!(up[[1, 3]], 2);
        // Enlarging by an integer factor, then shrinking back, returns the input.
        assert_eq!(resize_labels(&up, &[2, 3]).unwrap(), l);
        // 3D
        let v = ArrayD::from_shape_fn(IxDyn(&[4, 4, 4]), |i| (i[0] + i[2]) as u32);
        let d = resize_labels(&v, &[2, 2, 2]).unwrap();
        assert_eq!(d[[1, 0, 1]], v[[3, 1, 3]]);
    }

    #[test]
    fn bad_sizes_are_errors() {
        let a = arr(&[1, 2, 2], vec![0.0; 4]);
        assert!(resize_image(&a, &[2]).is_err());
        assert!(resize_image(&a, &[0, 2]).is_err());
        let l = ArrayD::<u32>::zeros(IxDyn(&[2, 2]));
        assert!(resize_labels(&l, &[2, 2, 2]).is_err());
    }
}
