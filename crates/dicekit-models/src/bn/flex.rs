//! The fused batch normalisation on Flex, on `f32` slices `[N, C, S]`.
use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{Shape, TensorData};
use rayon::prelude::*;

use super::BatchNormBackend;
use crate::conv::flex::{contiguous_f32, values};

fn dims(t: &FlexTensor) -> [usize; 3] {
    let s = t.layout().shape();
    [s[0], s[1], s[2]]
}

/// Per-channel sums over `[N, C, S]`, shifted by the channel's first value `k` for precision:
/// `Σ (x - k)`, `Σ (x - k)²`, and with a gradient `Σ dy`, `Σ dy (x - k)`. `f32` sums of 16
/// lanes per block of 1024 values, `f64` totals.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    k: f64,
    m: f64,
    x: f64,
    xx: f64,
    g: f64,
    gx: f64,
}

impl Sums {
    fn mean(&self) -> f64 {
        self.k + self.x / self.m
    }

    fn var(&self) -> f64 {
        (self.xx / self.m - (self.x / self.m).powi(2)).max(0.0)
    }

    /// `Σ dy (x - μ)`.
    fn s2(&self) -> f64 {
        self.gx - self.g * (self.x / self.m)
    }
}

fn channel_sums(x: &[f32], dy: Option<&[f32]>, [n, c, s]: [usize; 3], ch: usize) -> Sums {
    let k = x[ch * s];
    let mut t = Sums {
        k: k as f64,
        m: (n * s) as f64,
        ..Sums::default()
    };
    for i in 0..n {
        let xs = &x[(i * c + ch) * s..][..s];
        let gs = dy.map(|d| &d[(i * c + ch) * s..][..s]);
        for (b, xb) in xs.chunks(1024).enumerate() {
            let gb = gs.map(|g| &g[b * 1024..][..xb.len()]);
            let mut l = [[0f32; 16]; 4];
            let (xc, xr) = xb.split_at(xb.len() / 16 * 16);
            match gb {
                None => {
                    for xv in xc.chunks_exact(16) {
                        for j in 0..16 {
                            let d = xv[j] - k;
                            l[0][j] += d;
                            l[1][j] += d * d;
                        }
                    }
                }
                Some(g) => {
                    for (xv, gv) in xc.chunks_exact(16).zip(g.chunks_exact(16)) {
                        for j in 0..16 {
                            let d = xv[j] - k;
                            l[0][j] += d;
                            l[1][j] += d * d;
                            l[2][j] += gv[j];
                            l[3][j] += gv[j] * d;
                        }
                    }
                }
            }
            for (j, &v) in xr.iter().enumerate() {
                let d = v - k;
                l[0][j] += d;
                l[1][j] += d * d;
                if let Some(g) = gb {
                    let gv = g[xc.len() + j];
                    l[2][j] += gv;
                    l[3][j] += gv * d;
                }
            }
            let tot = |a: &[f32; 16]| a.iter().map(|v| *v as f64).sum::<f64>();
            t.x += tot(&l[0]);
            t.xx += tot(&l[1]);
            t.g += tot(&l[2]);
            t.gx += tot(&l[3]);
        }
    }
    t
}

fn all_sums(x: &[f32], dy: Option<&[f32]>, d: [usize; 3]) -> Vec<Sums> {
    (0..d[1])
        .into_par_iter()
        .map(|ch| channel_sums(x, dy, d, ch))
        .collect()
}

fn tensor<const R: usize>(v: Vec<f32>, shape: [usize; R]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, Shape::new(shape)))
}

/// `out[n, c, :] = f(c, n, in...)` in parallel over `(n, c)` planes.
fn per_plane(
    len: usize,
    s: usize,
    c: usize,
    f: impl Fn(usize, usize, &mut [f32]) + Sync,
) -> Vec<f32> {
    let mut out = vec![0f32; len];
    out.par_chunks_mut(s.max(1))
        .enumerate()
        .for_each(|(i, o)| f(i % c, i, o));
    out
}

impl BatchNormBackend for Flex {
    fn dk_bn_stats(x: FlexTensor) -> FlexTensor {
        let x = contiguous_f32(x);
        let d = dims(&x);
        let sums = all_sums(values(&x), None, d);
        let mut v: Vec<f32> = sums.iter().map(|s| s.mean() as f32).collect();
        v.extend(sums.iter().map(|s| s.var() as f32));
        tensor(v, [2, d[1]])
    }

    fn dk_bn_train(x: FlexTensor, gamma: FlexTensor, beta: FlexTensor, epsilon: f64) -> FlexTensor {
        let (x, gamma, beta) = (
            contiguous_f32(x),
            contiguous_f32(gamma),
            contiguous_f32(beta),
        );
        let d @ [_, c, s] = dims(&x);
        let (xv, gv, bv) = (values(&x), values(&gamma), values(&beta));
        let sums = all_sums(xv, None, d);
        // y = a (x - μ) + β per channel (centred first: no cancellation for large means).
        let am: Vec<(f32, f32, f32)> = sums
            .iter()
            .enumerate()
            .map(|(ch, t)| {
                let a = gv[ch] as f64 / (t.var() + epsilon).sqrt();
                (a as f32, t.mean() as f32, bv[ch])
            })
            .collect();
        let y = per_plane(xv.len(), s, c, |ch, i, o| {
            let (a, m, b) = am[ch];
            for (o, &v) in o.iter_mut().zip(&xv[i * s..(i + 1) * s]) {
                *o = a * (v - m) + b;
            }
        });
        tensor(y, d)
    }

    fn dk_bn_input_grad(
        x: FlexTensor,
        gamma: FlexTensor,
        dy: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let (x, gamma, dy) = (contiguous_f32(x), contiguous_f32(gamma), contiguous_f32(dy));
        let d @ [_, c, s] = dims(&x);
        let (xv, gv, dv) = (values(&x), values(&gamma), values(&dy));
        let sums = all_sums(xv, Some(dv), d);
        // dx = p dy + q (x - μ) + r per channel.
        let pqr: Vec<(f32, f32, f32, f32)> = sums
            .iter()
            .enumerate()
            .map(|(ch, t)| {
                let inv = 1.0 / (t.var() + epsilon).sqrt();
                let p = gv[ch] as f64 * inv;
                let q = -p * inv * inv * t.s2() / t.m;
                let r = -p * t.g / t.m;
                (p as f32, q as f32, r as f32, t.mean() as f32)
            })
            .collect();
        let dx = per_plane(xv.len(), s, c, |ch, i, o| {
            let (p, q, r, m) = pqr[ch];
            let (xs, gs) = (&xv[i * s..(i + 1) * s], &dv[i * s..(i + 1) * s]);
            for ((o, &v), &g) in o.iter_mut().zip(xs).zip(gs) {
                *o = p * g + q * (v - m) + r;
            }
        });
        tensor(dx, d)
    }

    fn dk_bn_param_grads(x: FlexTensor, dy: FlexTensor, epsilon: f64) -> FlexTensor {
        let (x, dy) = (contiguous_f32(x), contiguous_f32(dy));
        let d = dims(&x);
        let sums = all_sums(values(&x), Some(values(&dy)), d);
        let mut v: Vec<f32> = sums
            .iter()
            .map(|t| (t.s2() / (t.var() + epsilon).sqrt()) as f32)
            .collect();
        v.extend(sums.iter().map(|t| t.g as f32));
        tensor(v, [2, d[1]])
    }
}
