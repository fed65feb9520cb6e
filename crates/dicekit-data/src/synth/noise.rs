//! Smooth value noise: random values on a coarse grid, interpolated smoothly, in octaves.
use crate::Rng;

/// A 2D field of smooth noise in about `[-1, 1]`, `octaves` layers from `cell` pixels down.
pub(super) fn value_noise_2d(
    h: usize,
    w: usize,
    cell: f64,
    octaves: usize,
    rng: &mut Rng,
) -> Vec<f64> {
    let mut out = vec![0.0; h * w];
    let mut amp = 1.0;
    let mut total = 0.0;
    let mut c = cell;
    for _ in 0..octaves {
        let gh = (h as f64 / c).ceil() as usize + 2;
        let gw = (w as f64 / c).ceil() as usize + 2;
        let grid: Vec<f64> = (0..gh * gw).map(|_| rng.range(-1.0, 1.0)).collect();
        for y in 0..h {
            let fy = y as f64 / c;
            let (y0, ty) = (fy.floor() as usize, smooth(fy.fract()));
            for x in 0..w {
                let fx = x as f64 / c;
                let (x0, tx) = (fx.floor() as usize, smooth(fx.fract()));
                let g = |yy: usize, xx: usize| grid[yy * gw + xx];
                let top = g(y0, x0) * (1.0 - tx) + g(y0, x0 + 1) * tx;
                let bottom = g(y0 + 1, x0) * (1.0 - tx) + g(y0 + 1, x0 + 1) * tx;
                out[y * w + x] += amp * (top * (1.0 - ty) + bottom * ty);
            }
        }
        total += amp;
        amp *= 0.5;
        c = (c / 2.0).max(1.0);
    }
    out.iter_mut().for_each(|v| *v /= total);
    out
}

/// Smoothstep, so that the interpolation has no creases.
fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}
