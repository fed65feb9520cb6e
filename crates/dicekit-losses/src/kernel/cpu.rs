//! The overlap sums and their gradient on plain slices: one pass over the logits for the
//! forward, one for the backward, blocks of voxels in parallel.
//!
//! Layout: logits `x` `[B, C, N]` row-major; labels `[B, N]`; dense targets `[B, C, N]`;
//! weights `[Bw, Cw, N]` with `Bw` in `{1, B}` and `Cw` in `{1, C}` (broadcast).
//!
//! Per sample `b` and class `c`, with `p` the probabilities, `g` the target, `w` the voxel
//! weight (weight map times the ignore mask, 1 when there is none) and `k` the power:
//!
//! ```text
//! Voxel mode:   p' = p,     g' = g,     u = w          MaskedInputs mode:  p' = w p,  g' = w g,  u = 1
//! I = sum u p' g'                          (Product)
//! I = (P + G - sum u |p' - g'|^k) / 2      (Norm)
//! P = sum u p'^k,   G = sum u g'^k,   W = sum w
//! ```
//! Backward, from the output gradients `dI`, `dP` (`G` and `W` do not depend on the logits):
//!
//! ```text
//! dL/dp' = u (dI g' + dP k p'^(k-1))                                     (Product)
//! dL/dp' = u ((dP + dI/2) k p'^(k-1) - dI/2 k |p'-g'|^(k-1) sign(p'-g'))  (Norm)
//! dL/dp  = (w if MaskedInputs else 1) dL/dp'
//! dL/dx  = dL/dp p (1 - p)                         (sigmoid)
//! dL/dx_c = p_c (dL/dp_c - sum_j p_j dL/dp_j)       (softmax)
//! ```
//! Sums are accumulated in the element type over blocks of [`LANES`] voxels, then in `f64`.
use rayon::prelude::*;

/// The activation applied along the class axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// `p = 1 / (1 + e^-x)`.
    Sigmoid,
    /// `p_c = e^(x_c) / sum_j e^(x_j)`.
    Softmax,
    /// `p = x`.
    Identity,
}

/// The scalar parameters of the kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Activation.
    pub act: Act,
    /// `k = 2` (`Power::Squared`) instead of 1.
    pub squared: bool,
    /// The norm form of the intersection.
    pub norm: bool,
    /// The weight multiplies `p` and `g` (MONAI `MaskedDiceLoss`) instead of each voxel's terms.
    pub masked_inputs: bool,
    /// Label ignored (class-index targets only): its voxels add nothing and get no gradient.
    pub ignore: Option<i64>,
}

/// The element type of the logits, targets and weights: `f32` (with a vectorizing [`exp`]) or
/// `f64` (with the standard library's).
pub trait Float:
    Copy
    + Send
    + Sync
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::ops::MulAssign
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The lowest value.
    const NEG_INFINITY: Self;
    /// `e^self`.
    fn exp(self) -> Self;
    /// `|self|`.
    fn abs(self) -> Self;
    /// The larger of the two.
    fn max(self, other: Self) -> Self;
    /// As `f64`.
    fn to_f64(self) -> f64;
    /// From `f64` (rounded).
    fn from_f64(v: f64) -> Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn exp(self) -> Self {
        exp(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f32::abs(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f32::max(self, other)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Float for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const NEG_INFINITY: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn exp(self) -> Self {
        f64::exp(self)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        f64::abs(self)
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        f64::max(self, other)
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// The number of sums per (sample, class): `I`, `P`, `G`, `W`.
pub const SUMS: usize = 4;

/// Voxels handled together (the inner loops run over them and vectorize).
pub const LANES: usize = 64;

/// Voxels per parallel task.
const BLOCK: usize = 16 * 1024;

/// An integer label element.
pub trait Label: Copy + Send + Sync {
    /// The value as `i64`.
    fn get(self) -> i64;
}

impl Label for i64 {
    fn get(self) -> i64 {
        self
    }
}

impl Label for i32 {
    fn get(self) -> i64 {
        self as i64
    }
}

/// The target of the kernel.
#[derive(Debug, Clone, Copy)]
pub enum TargetRef<'a, L, F> {
    /// Class labels `[B, N]`.
    Labels(&'a [L]),
    /// Per-class values `[B, C, N]`.
    Dense(&'a [F]),
}

/// A weight map `[Bw, Cw, N]`.
#[derive(Debug, Clone, Copy)]
pub struct WeightRef<'a, F> {
    /// The values.
    pub values: &'a [F],
    /// `Bw == B` (else 1).
    pub per_sample: bool,
    /// `Cw == C` (else 1).
    pub per_class: bool,
}

/// Shapes: samples, classes, voxels per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    /// `B`.
    pub b: usize,
    /// `C`.
    pub c: usize,
    /// `N`.
    pub n: usize,
}

/// Everything the kernel reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a, L, F> {
    /// Logits `[B, C, N]`.
    pub x: &'a [F],
    /// Labels or dense values.
    pub target: TargetRef<'a, L, F>,
    /// Weight map, if any.
    pub weight: Option<WeightRef<'a, F>>,
    /// Shapes.
    pub d: Dims,
    /// Parameters.
    pub k: Params,
}

impl<'a, F> WeightRef<'a, F> {
    /// The `len` weights of sample `b`, class `c`, from voxel `v`.
    fn row(self, d: Dims, b: usize, c: usize, v: usize, len: usize) -> &'a [F] {
        let bb = if self.per_sample { b } else { 0 };
        let cc = if self.per_class { c } else { 0 };
        let cw = if self.per_class { d.c } else { 1 };
        let start = (bb * cw + cc) * d.n + v;
        &self.values[start..start + len]
    }
}

/// `e^x` in `f32` to about 2 ulp, written to vectorize; inputs are clamped to
/// `[-87.3, 88]`, so it never returns 0 or infinity (which keeps `1 / (1 + e^-x)` finite).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.0);
    // Round to nearest through the float adder (vectorizes; `round` is a libm call on SSE2).
    const SHIFT: f32 = 12_582_912.0; // 1.5 * 2^23
    let t = x * LOG2E + SHIFT;
    let n = t - SHIFT;
    let r = x - n * LN2_HI - n * LN2_LO;
    // Cephes expf polynomial on [-ln2/2, ln2/2].
    let mut y = 1.987_569_1e-4_f32;
    y = y * r + 1.398_199_9e-3;
    y = y * r + 8.333_452e-3;
    y = y * r + 4.166_579_6e-2;
    y = y * r + 1.666_666_5e-1;
    y = y * r + 0.5;
    let y = y * r * r + r + 1.0;
    // 2^n from the integer in the low mantissa bits of `t` (no float-to-int conversion).
    let scale = f32::from_bits(t.to_bits().wrapping_sub(SHIFT.to_bits()).wrapping_add(127) << 23);
    y * scale
}

/// Probabilities of the `len` voxels from `v` of sample `b`, written to `p[c * LANES + l]`.
#[inline(always)]
fn probabilities<F: Float>(
    x: &[F],
    d: Dims,
    act: Act,
    b: usize,
    v: usize,
    len: usize,
    p: &mut [F],
) {
    let row = |c: usize| &x[(b * d.c + c) * d.n + v..(b * d.c + c) * d.n + v + len];
    match act {
        Act::Identity => {
            for c in 0..d.c {
                p[c * LANES..c * LANES + len].copy_from_slice(row(c));
            }
        }
        Act::Sigmoid => {
            for c in 0..d.c {
                for (o, &xi) in p[c * LANES..c * LANES + len].iter_mut().zip(row(c)) {
                    *o = F::ONE / (F::ONE + (-xi).exp());
                }
            }
        }
        Act::Softmax => {
            let mut m = [F::NEG_INFINITY; LANES];
            for c in 0..d.c {
                for (mi, &xi) in m.iter_mut().zip(row(c)) {
                    *mi = mi.max(xi);
                }
            }
            let mut s = [F::ZERO; LANES];
            for c in 0..d.c {
                let out = &mut p[c * LANES..c * LANES + len];
                for ((o, &xi), (si, mi)) in out.iter_mut().zip(row(c)).zip(s.iter_mut().zip(&m)) {
                    let e = (xi - *mi).exp();
                    *o = e;
                    *si += e;
                }
            }
            for si in s.iter_mut() {
                *si = F::ONE / *si;
            }
            for c in 0..d.c {
                for (o, si) in p[c * LANES..c * LANES + len].iter_mut().zip(&s) {
                    *o *= *si;
                }
            }
        }
    }
}

/// The target of class `c` for the `len` voxels from `v` of sample `b` (0 where ignored), and
/// the voxel weights (weight map times the ignore mask; `None` when every voxel weighs 1):
/// borrowed from the inputs where they hold them, else built in `g` and `w`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn target_and_weight<'a, L: Label, F: Float>(
    target: TargetRef<'a, L, F>,
    weight: Option<WeightRef<'a, F>>,
    ignore: Option<i64>,
    d: Dims,
    (b, c, v, len): (usize, usize, usize, usize),
    g: &'a mut [F; LANES],
    w: &'a mut [F; LANES],
) -> (&'a [F], Option<&'a [F]>) {
    let map = weight.map(|wr| wr.row(d, b, c, v, len));
    match target {
        TargetRef::Labels(labels) => {
            let lab = &labels[b * d.n + v..b * d.n + v + len];
            let class = c as i64;
            for (gi, l) in g.iter_mut().zip(lab) {
                let l = l.get();
                let l = if ignore == Some(l) { 0 } else { l };
                *gi = if d.c == 1 {
                    F::from_f64(l as f64)
                } else if l == class {
                    F::ONE
                } else {
                    F::ZERO
                };
            }
            let weights = match ignore {
                Some(ig) => {
                    match map {
                        Some(m) => w[..len].copy_from_slice(m),
                        None => w[..len].fill(F::ONE),
                    }
                    for (wi, l) in w.iter_mut().zip(lab) {
                        if l.get() == ig {
                            *wi = F::ZERO;
                        }
                    }
                    Some(&w[..len])
                }
                None => map,
            };
            (&g[..len], weights)
        }
        TargetRef::Dense(values) => {
            let start = (b * d.c + c) * d.n + v;
            (&values[start..start + len], map)
        }
    }
}

/// Adds the terms of `len` voxels of one class to the per-lane sums (`I`, `P`, `G`, `W`, norm
/// term), the weight of voxel `l` being `wt(l)`.
#[inline(always)]
fn accumulate<F: Float>(
    k: Params,
    (pc, g): (&[F], &[F]),
    wt: impl Fn(usize) -> F,
    sums: [&mut [F]; 5],
) {
    let [si, sp, sg, sw, sd] = sums;
    for l in 0..pc.len().min(g.len()) {
        let (wt, pr, gt) = (wt(l), pc[l], g[l]);
        let (pp, gg, u) = if k.masked_inputs {
            (wt * pr, wt * gt, F::ONE)
        } else {
            (pr, gt, wt)
        };
        let (pk, gk, dk) = if k.squared {
            (pp * pp, gg * gg, (pp - gg) * (pp - gg))
        } else {
            (pp, gg, (pp - gg).abs())
        };
        si[l] += u * pp * gg;
        sp[l] += u * pk;
        sg[l] += u * gk;
        sd[l] += u * dk;
        sw[l] += wt;
    }
}

/// `dL/dp` of `len` voxels of one class into `dp`, from the sums' gradients `(dI, dP_eff, dD)`
/// (see the module doc), the weight of voxel `l` being `wt(l)`.
#[inline(always)]
fn grad_probabilities<F: Float>(
    k: Params,
    (pc, g): (&[F], &[F]),
    wt: impl Fn(usize) -> F,
    (gi, gp_eff, gd): (F, F, F),
    dp: &mut [F],
) {
    let two = F::ONE + F::ONE;
    for l in 0..pc.len().min(g.len()).min(dp.len()) {
        let (wt, pr, gt) = (wt(l), pc[l], g[l]);
        let (pp, gg, u, scale) = if k.masked_inputs {
            (wt * pr, wt * gt, F::ONE, wt)
        } else {
            (pr, gt, wt, F::ONE)
        };
        let dpow = if k.squared { two * pp } else { F::ONE };
        let dprime = if k.norm {
            let diff = pp - gg;
            let ddiff = if k.squared {
                two * diff
            } else if diff > F::ZERO {
                // sign, 0 at 0 (torch and burn take the same subgradient).
                F::ONE
            } else if diff < F::ZERO {
                -F::ONE
            } else {
                F::ZERO
            };
            gp_eff * dpow + gd * ddiff
        } else {
            gi * gg + gp_eff * dpow
        };
        dp[l] = u * dprime * scale;
    }
}

/// Runs `$body` compiled for AVX2 when the CPU has it (the loops then run 8 lanes wide instead
/// of SSE2's 4), as is otherwise.
macro_rules! wide {
    ($name:ident<$($g:ident: $bound:path),*>($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident) => {
        fn $name<$($g: $bound),*>($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn avx2<$($g: $bound),*>($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    #[allow(unsafe_code)]
                    return unsafe { avx2($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

/// The per-class sums of voxel block `blk` of sample `b`: `[C, 5]` (`I`, `P`, `G`, `W` and the
/// norm term `sum u |p' - g'|^k`).
#[inline(always)]
fn forward_block<L: Label, F: Float>(inp: Inputs<'_, L, F>, b: usize, blk: usize) -> Vec<f64> {
    let Inputs {
        x,
        target,
        weight,
        d,
        k,
    } = inp;
    // Per-lane partial sums `[C, 5, LANES]`: independent lanes vectorize.
    let mut lanes = vec![F::ZERO; d.c * 5 * LANES];
    let mut p = vec![F::ZERO; d.c * LANES];
    let (mut g, mut w) = ([F::ZERO; LANES], [F::ZERO; LANES]);
    let end = ((blk + 1) * BLOCK).min(d.n);
    let mut v = blk * BLOCK;
    while v < end {
        let len = LANES.min(end - v);
        probabilities(x, d, k.act, b, v, len, &mut p);
        for c in 0..d.c {
            let (gc, wc) =
                target_and_weight(target, weight, k.ignore, d, (b, c, v, len), &mut g, &mut w);
            let pc = &p[c * LANES..c * LANES + len];
            let acc = &mut lanes[c * 5 * LANES..(c + 1) * 5 * LANES];
            let (si, rest) = acc.split_at_mut(LANES);
            let (sp, rest) = rest.split_at_mut(LANES);
            let (sg, rest) = rest.split_at_mut(LANES);
            let (sw, sd) = rest.split_at_mut(LANES);
            let sums = [si, sp, sg, sw, sd];
            match wc {
                Some(wc) => accumulate(k, (pc, gc), |l| wc[l], sums),
                None => accumulate(k, (pc, gc), |_| F::ONE, sums),
            }
        }
        v += len;
    }
    lanes
        .chunks(LANES)
        .map(|l| l.iter().map(|v| v.to_f64()).sum())
        .collect()
}

wide!(forward_block_wide<L: Label, F: Float>(inp: Inputs<'_, L, F>, b: usize, blk: usize) -> Vec<f64> = forward_block);

/// The sums `[B, C, SUMS]` (`I`, `P`, `G`, `W`) in `f64`.
pub fn forward<L: Label, F: Float>(inp: Inputs<'_, L, F>) -> Vec<f64> {
    let (d, k) = (inp.d, inp.k);
    let blocks = d.n.div_ceil(BLOCK).max(1);
    let partial = (0..d.b * blocks)
        .into_par_iter()
        .map(|task| {
            let (b, blk) = (task / blocks, task % blocks);
            (b, forward_block_wide(inp, b, blk))
        })
        .collect::<Vec<_>>();
    let mut out = vec![0f64; d.b * d.c * SUMS];
    let mut diff = vec![0f64; d.b * d.c];
    for (b, acc) in partial {
        for c in 0..d.c {
            let o = &mut out[(b * d.c + c) * SUMS..(b * d.c + c + 1) * SUMS];
            let a = &acc[c * 5..c * 5 + 5];
            for s in 0..SUMS {
                o[s] += a[s];
            }
            diff[b * d.c + c] += a[4];
        }
    }
    if k.norm {
        for (o, dn) in out.chunks_mut(SUMS).zip(&diff) {
            o[0] = 0.5 * (o[1] + o[2] - dn);
        }
    }
    out
}

/// The gradient `[B, C, N]` of a loss with respect to the logits, from its gradient `grad`
/// `[B, C, SUMS]` with respect to the sums.
pub fn backward<L: Label, F: Float>(inp: Inputs<'_, L, F>, grad: &[F]) -> Vec<F> {
    let d = inp.d;
    let mut out = vec![F::ZERO; d.b * d.c * d.n];
    if d.n == 0 {
        return out;
    }
    // Output rows split into blocks: block j of every class row of a sample is one task.
    let mut tasks: Vec<(usize, usize, Vec<&mut [F]>)> = Vec::new();
    for (b, sample) in out.chunks_mut(d.c * d.n).enumerate() {
        let mut rows: Vec<_> = sample
            .chunks_mut(d.n)
            .map(|r| r.chunks_mut(BLOCK))
            .collect();
        let blocks = d.n.div_ceil(BLOCK);
        for blk in 0..blocks {
            let parts: Vec<&mut [F]> = rows.iter_mut().filter_map(|r| r.next()).collect();
            tasks.push((b, blk, parts));
        }
    }
    tasks.into_par_iter().for_each(|(b, blk, mut parts)| {
        backward_block_wide(inp, grad, (b, blk), &mut parts);
    });
    out
}

/// The gradient of voxel block `blk` of sample `b`, written to `parts` (one slice per class).
#[inline(always)]
fn backward_block<L: Label, F: Float>(
    inp: Inputs<'_, L, F>,
    grad: &[F],
    (b, blk): (usize, usize),
    parts: &mut [&mut [F]],
) {
    let Inputs {
        x,
        target,
        weight,
        d,
        k,
    } = inp;
    let two = F::ONE + F::ONE;
    let half = F::ONE / two;
    let mut p = vec![F::ZERO; d.c * LANES];
    let mut dp = vec![F::ZERO; d.c * LANES];
    let (mut g, mut w) = ([F::ZERO; LANES], [F::ZERO; LANES]);
    let start = blk * BLOCK;
    let end = (start + BLOCK).min(d.n);
    let mut v = start;
    while v < end {
        let len = LANES.min(end - v);
        probabilities(x, d, k.act, b, v, len, &mut p);
        for c in 0..d.c {
            let (gc, wc) =
                target_and_weight(target, weight, k.ignore, d, (b, c, v, len), &mut g, &mut w);
            let gs = &grad[(b * d.c + c) * SUMS..];
            let (gi, gp) = (gs[0], gs[1]);
            let (gp_eff, gd) = if k.norm {
                (gp + half * gi, -(half * gi))
            } else {
                (gp, F::ZERO)
            };
            let pc = &p[c * LANES..c * LANES + len];
            let dpc = &mut dp[c * LANES..c * LANES + len];
            let gs = (gi, gp_eff, gd);
            match wc {
                Some(wc) => grad_probabilities(k, (pc, gc), |l| wc[l], gs, dpc),
                None => grad_probabilities(k, (pc, gc), |_| F::ONE, gs, dpc),
            }
        }
        let at = v - start;
        match k.act {
            Act::Identity => {
                for c in 0..d.c {
                    parts[c][at..at + len].copy_from_slice(&dp[c * LANES..c * LANES + len]);
                }
            }
            Act::Sigmoid => {
                for c in 0..d.c {
                    let o = &mut parts[c][at..at + len];
                    let (pc, dpc) = (&p[c * LANES..], &dp[c * LANES..]);
                    for l in 0..len {
                        o[l] = dpc[l] * pc[l] * (F::ONE - pc[l]);
                    }
                }
            }
            Act::Softmax => {
                let mut dot = [F::ZERO; LANES];
                for c in 0..d.c {
                    let (pc, dpc) = (&p[c * LANES..], &dp[c * LANES..]);
                    for l in 0..len {
                        dot[l] += pc[l] * dpc[l];
                    }
                }
                for c in 0..d.c {
                    let o = &mut parts[c][at..at + len];
                    let (pc, dpc) = (&p[c * LANES..], &dp[c * LANES..]);
                    for l in 0..len {
                        o[l] = pc[l] * (dpc[l] - dot[l]);
                    }
                }
            }
        }
        v += len;
    }
}

wide!(backward_block_wide<L: Label, F: Float>(inp: Inputs<'_, L, F>, grad: &[F], at: (usize, usize), parts: &mut [&mut [F]]) -> () = backward_block);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_std() {
        let mut worst = 0f32;
        let mut x = -87.0f32;
        while x < 88.0 {
            let rel = (exp(x) - x.exp()).abs() / x.exp();
            worst = worst.max(rel);
            x += 0.013;
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert!(exp(-1e30) > 0.0 && exp(1e30).is_finite());
        assert!(exp(f32::NEG_INFINITY) > 0.0 && exp(f32::INFINITY).is_finite());
    }
}
