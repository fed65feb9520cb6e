//! Exact Euclidean distance transform under voxel spacing, the one behind weight maps, surface
//! metrics and the distance-transform losses. It lives with the metrics, which need nothing else
//! of dicekit; the losses and the weight maps use it from here.
//!
//! For a boolean array `sites` of shape `[...S]` and one grid step per axis (mm),
//! `d²(x) = min_{s: sites[s]} Σ_a (spacing_a (x_a − s_a))²`, `+∞` everywhere when there is no site.
//!
//! Separable (Felzenszwalb & Huttenlocher 2012): along each axis in turn, every lane becomes the
//! lower envelope of the parabolas `spacing² (q − p)² + f[p]` rooted at its finite entries;
//! `O(N · rank)` time for `N` voxels, lanes in parallel. Each lane is computed in `f64`; the
//! result is stored as `f32` ([`squared_edt`]: half the memory, for large volumes, relative
//! error below 1e-7) or `f64` ([`squared_edt_f64`]).
use ndarray::{ArrayD, ArrayRef, Axis, IxDyn, Zip};
use rayon::prelude::*;

/// Squared distances stored as `f32` (see the module documentation).
///
/// # Panics
/// If `spacing` does not have one entry per axis of `sites` (callers check user input first).
///
/// # Examples
///
/// ```
/// use dicekit_metrics::edt::squared_edt;
/// use ndarray::array;
///
/// let sites = array![[true, false, false], [false, false, false]].into_dyn();
/// let d2 = squared_edt(&sites, &[2.0, 1.0]); // rows 2 mm apart
/// assert_eq!(d2[[0, 2]], 4.0);
/// assert_eq!(d2[[1, 2]], 8.0); // 2² + 2²
/// ```
pub fn squared_edt(sites: &ArrayRef<bool, IxDyn>, spacing: &[f64]) -> ArrayD<f32> {
    transform(sites, spacing)
}

/// Squared distances stored as `f64` (see the module documentation).
///
/// # Panics
/// If `spacing` does not have one entry per axis of `sites`.
pub fn squared_edt_f64(sites: &ArrayRef<bool, IxDyn>, spacing: &[f64]) -> ArrayD<f64> {
    transform(sites, spacing)
}

/// The storage type of a transform.
trait Stored: Copy + Send + Sync {
    const INFINITY: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Stored for f32 {
    const INFINITY: Self = f32::INFINITY;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Stored for f64 {
    const INFINITY: Self = f64::INFINITY;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

fn transform<T: Stored>(sites: &ArrayRef<bool, IxDyn>, spacing: &[f64]) -> ArrayD<T> {
    assert_eq!(
        spacing.len(),
        sites.ndim(),
        "one spacing per axis of the sites array"
    );
    let mut out = sites.mapv(|s| if s { T::from_f64(0.0) } else { T::INFINITY });
    for (axis, &h) in spacing.iter().enumerate() {
        let n = out.shape()[axis];
        if n <= 1 {
            continue;
        }
        // One set of lane buffers per worker, not four allocations per lane.
        Zip::from(out.lanes_mut(Axis(axis)))
            .into_par_iter()
            .for_each_init(
                || {
                    (
                        vec![0.0; n],
                        vec![0.0; n],
                        vec![0usize; n],
                        vec![0.0; n + 1],
                    )
                },
                |(f, d, v, z), (mut lane,)| {
                    for (fi, x) in f.iter_mut().zip(lane.iter()) {
                        *fi = x.to_f64();
                    }
                    envelope(f, h * h, d, v, z);
                    for (o, &x) in lane.iter_mut().zip(d.iter()) {
                        *o = T::from_f64(x);
                    }
                },
            );
    }
    out
}

/// One lane: `d[q] = min_p (h2 (q − p)² + f[p])` over the finite `f[p]` (`+∞` if none).
/// `v` (the envelope's parabolas) and `z` (where they cross) hold at least `n` and `n + 1`
/// entries.
fn envelope(f: &[f64], h2: f64, d: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let Some(first) = f.iter().position(|x| x.is_finite()) else {
        d.iter_mut().for_each(|x| *x = f64::INFINITY);
        return;
    };
    let mut k = 0;
    v[0] = first;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in first + 1..f.len() {
        if !f[q].is_finite() {
            continue;
        }
        let fq = f[q] + h2 * (q * q) as f64;
        loop {
            let p = v[k];
            // where the parabolas of p and q cross
            let s = (fq - (f[p] + h2 * (p * p) as f64)) / (2.0 * h2 * (q - p) as f64);
            if s <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f64::INFINITY;
            break;
        }
    }
    let mut k = 0;
    for (q, dq) in d.iter_mut().enumerate() {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let dx = q as f64 - v[k] as f64;
        *dq = h2 * dx * dx + f[v[k]];
    }
}

/// Brute force: the squared distance from each point to the nearest site, `O(N²)` (tests only).
#[doc(hidden)]
pub fn squared_edt_brute(sites: &ArrayRef<bool, IxDyn>, spacing: &[f64]) -> ArrayD<f64> {
    let points: Vec<IxDyn> = sites
        .indexed_iter()
        .filter(|(_, s)| **s)
        .map(|(i, _)| i)
        .collect();
    ArrayD::from_shape_fn(sites.raw_dim(), |i| {
        points
            .iter()
            .map(|p| {
                (0..spacing.len())
                    .map(|a| ((i[a] as f64 - p[a] as f64) * spacing[a]).powi(2))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn envelope_of_two_sites() {
        // sites at 0 and 4 of a 6-voxel lane, spacing 1: d² = [0, 1, 4, 1, 0, 1]
        let inf = f64::INFINITY;
        let f = [0.0, inf, inf, inf, 0.0, inf];
        let mut d = [0.0; 6];
        envelope(&f, 1.0, &mut d, &mut [0; 6], &mut [0.0; 7]);
        assert_eq!(d, [0.0, 1.0, 4.0, 1.0, 0.0, 1.0]);
    }

    #[test]
    fn no_site_is_infinitely_far() {
        let d2 = squared_edt(&ArrayD::from_elem(IxDyn(&[3, 4]), false), &[1.0, 1.0]);
        assert!(d2.iter().all(|v| v.is_infinite()));
    }

    #[test]
    fn both_storages_match_brute_force_in_3d_with_anisotropic_spacing() {
        let mut sites = ArrayD::from_elem(IxDyn(&[5, 4, 6]), false);
        for i in [[0, 0, 0], [4, 3, 1], [2, 1, 5]] {
            sites[IxDyn(&i)] = true;
        }
        let spacing = [0.7, 1.3, 2.5];
        let slow = squared_edt_brute(&sites, &spacing);
        let fast64 = squared_edt_f64(&sites, &spacing);
        let fast32 = squared_edt(&sites, &spacing);
        for ((s, f64_), f32_) in slow.iter().zip(&fast64).zip(&fast32) {
            assert!((s - f64_).abs() <= 1e-12 * s.max(1.0), "{s} vs {f64_}");
            assert!(
                (s - *f32_ as f64).abs() <= 1e-6 * s.max(1.0),
                "{s} vs {f32_}"
            );
        }
        let line = squared_edt_f64(&array![[false, true, false, false]].into_dyn(), &[1.0, 3.0]);
        assert_eq!(line, array![[9.0, 0.0, 9.0, 36.0]].into_dyn());
    }
}
