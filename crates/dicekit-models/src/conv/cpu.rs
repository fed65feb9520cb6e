//! The two inner loops of every convolution here, on slices.
//!
//! A *tap* `t` is a flat offset `base[t]` into a source buffer: one plane of the padded (and,
//! for strides above 1, phase-split) input, shifted by one kernel offset. Over a flat output
//! grid `q < Q` (the padded grid, whose few columns past the output are computed and dropped):
//! ```text
//! tap convolution (forward, input gradient):  out[c][q] = Σ_t w[t][c] · src[base[t] + q]
//! tap correlation (weight gradient):          dw[t][c]  = Σ_q src[base[t] + q] · dyt[q][c]
//! ```
//! No im2col buffer is built: a tap is a pointer offset. The AVX-512 versions keep an
//! 8 channels x 48 positions tile (forward; positions in the vector lanes) or a 24 taps x 16,
//! 12 x 32 or 8 x 48 channels tile (weight gradient; channels in the lanes, the output
//! gradient transposed to `[q][c]`, so no horizontal sums) in registers and load partial
//! vectors with masks, so no bounds are checked inside the loops;
//! the callers check the extent of every tap once per tile ([`Taps::max`]). The portable
//! versions compute the same sums in the same order per output, in plain Rust.

/// Output channels of one forward tile.
pub(crate) const CO_BLOCK: usize = 8;
/// Vectors of 16 positions of one forward tile.
const QV: usize = 3;
/// Positions of one forward tile.
pub(crate) const Q_TILE: usize = 16 * QV;
/// Accumulators of one weight-gradient tile (taps x vectors of 16 channels).
const DW_ACC: usize = 24;

/// The instruction set the kernels run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Isa {
    /// AVX-512F (x86-64), chosen at run time where the CPU has it.
    Avx512,
    /// Plain Rust (every CPU; the reference the AVX-512 loops are tested against).
    Portable,
}

impl Isa {
    /// The best the CPU supports.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
        }
        Isa::Portable
    }
}

/// The taps of one convolution: flat offsets into the source, and the largest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Taps {
    pub base: Vec<usize>,
    pub max: usize,
}

impl Taps {
    pub fn new(base: Vec<usize>) -> Self {
        let max = base.iter().copied().max().unwrap_or(0);
        Self { base, max }
    }

    pub fn len(&self) -> usize {
        self.base.len()
    }
}

/// `out[c * os + j] = Σ_t w[t * ws + c] · src[base[t] + q0 + j]` for `c < CO_BLOCK`,
/// `j < n ≤ Q_TILE` (`w` starts at the tile's first channel).
///
/// # Panics
/// When a tap, the weights or the output would be read or written out of bounds.
#[allow(clippy::too_many_arguments)]
pub(crate) fn tap_tile(
    isa: Isa,
    src: &[f32],
    taps: &Taps,
    w: &[f32],
    ws: usize,
    q0: usize,
    n: usize,
    out: &mut [f32],
    os: usize,
) {
    let t = taps.len();
    assert!(n <= Q_TILE && n > 0);
    assert!(taps.max + q0 + n <= src.len(), "tap out of the source");
    assert!(
        t == 0 || (t - 1) * ws + CO_BLOCK <= w.len(),
        "weights too short"
    );
    assert!((CO_BLOCK - 1) * os + n <= out.len(), "output too short");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // SAFETY: the CPU has AVX-512F (`Isa::Avx512` comes from `Isa::detect` or a test
            // that checked it), and the asserts above bound every access: loads at
            // `base[t] + q0 + j` for `j < n`, weights `t * ws + c`, stores `c * os + j`.
            #[allow(unsafe_code)]
            unsafe {
                avx512::tap_tile(
                    src.as_ptr().add(q0),
                    &taps.base,
                    w.as_ptr(),
                    ws,
                    n,
                    out.as_mut_ptr(),
                    os,
                )
            }
        }
        _ => portable_tap_tile(src, &taps.base, w, ws, q0, n, out, os),
    }
}

#[allow(clippy::too_many_arguments)]
fn portable_tap_tile(
    src: &[f32],
    base: &[usize],
    w: &[f32],
    ws: usize,
    q0: usize,
    n: usize,
    out: &mut [f32],
    os: usize,
) {
    let mut acc = [[0f32; Q_TILE]; CO_BLOCK];
    for (t, &b) in base.iter().enumerate() {
        let s = &src[b + q0..b + q0 + n];
        let wr = &w[t * ws..t * ws + CO_BLOCK];
        for (a, &wc) in acc.iter_mut().zip(wr) {
            for (o, &v) in a[..n].iter_mut().zip(s) {
                *o += wc * v;
            }
        }
    }
    for (c, a) in acc.iter().enumerate() {
        out[c * os..c * os + n].copy_from_slice(&a[..n]);
    }
}

/// Taps of one weight-gradient tile of `v` vectors (16 channels each).
pub(crate) fn wgrad_taps(v: usize) -> usize {
    DW_ACC / v
}

/// `acc[t * cs + c] += Σ_{j < n} src[base[t] + q0 + j] · dyt[j * ds + c]` for the
/// `c < 16 v` channels (`v` = 1, 2 or 3) and every tap of `base` (at most
/// [`wgrad_taps`]`(v)`).
///
/// # Panics
/// When a read or write would be out of bounds, or `v` is not 1, 2 or 3.
#[allow(clippy::too_many_arguments)]
pub(crate) fn wgrad_tile(
    isa: Isa,
    src: &[f32],
    base: &[usize],
    max_base: usize,
    q0: usize,
    n: usize,
    dyt: &[f32],
    ds: usize,
    v: usize,
    acc: &mut [f32],
    cs: usize,
) {
    let t = base.len();
    assert!((1..=3).contains(&v) && t <= wgrad_taps(v));
    if t == 0 || n == 0 {
        return;
    }
    assert!(max_base + q0 + n <= src.len(), "tap out of the source");
    assert!((n - 1) * ds + 16 * v <= dyt.len(), "gradient too short");
    assert!((t - 1) * cs + 16 * v <= acc.len(), "accumulator too short");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => {
            // Missing taps of a last, partial tile repeat the first (not stored).
            let b = |i: usize| base[if i < t { i } else { 0 }];
            let (s, d, a) = (src[q0..].as_ptr(), dyt.as_ptr(), acc.as_mut_ptr());
            // SAFETY: AVX-512F is present (see `tap_tile`); the asserts bound every access:
            // `src[base + q0 + j]` for `j < n`, `dyt[j * ds + c]` and `acc[t * cs + c]` for
            // `c < 16 v`.
            #[allow(unsafe_code)]
            unsafe {
                match v {
                    1 => {
                        avx512::wgrad_tile::<1, 24>(s, &std::array::from_fn(b), t, n, d, ds, a, cs)
                    }
                    2 => {
                        avx512::wgrad_tile::<2, 12>(s, &std::array::from_fn(b), t, n, d, ds, a, cs)
                    }
                    _ => avx512::wgrad_tile::<3, 8>(s, &std::array::from_fn(b), t, n, d, ds, a, cs),
                }
            }
        }
        _ => {
            for (ti, &b) in base.iter().enumerate() {
                let s = &src[b + q0..b + q0 + n];
                let a = &mut acc[ti * cs..ti * cs + 16 * v];
                let mut sum = vec![0f32; 16 * v];
                for (j, &x) in s.iter().enumerate() {
                    for (o, &g) in sum.iter_mut().zip(&dyt[j * ds..j * ds + 16 * v]) {
                        *o += x * g;
                    }
                }
                a.iter_mut().zip(&sum).for_each(|(o, s)| *o += s);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{CO_BLOCK, QV};

    /// Mask of the first `n` of 16 lanes.
    #[inline(always)]
    fn mask(n: usize) -> __mmask16 {
        if n >= 16 {
            0xFFFF
        } else {
            ((1u32 << n) - 1) as __mmask16
        }
    }

    /// See [`super::tap_tile`]; `src` points at position `q0`.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn tap_tile(
        src: *const f32,
        base: &[usize],
        w: *const f32,
        ws: usize,
        n: usize,
        out: *mut f32,
        os: usize,
    ) {
        let m: [__mmask16; QV] = std::array::from_fn(|j| mask(n.saturating_sub(16 * j)));
        let mut acc = [[_mm512_setzero_ps(); QV]; CO_BLOCK];
        for (t, &b) in base.iter().enumerate() {
            // SAFETY (whole block): the caller bounds `b + j < len` for unmasked lanes;
            // masked lanes are not read.
            unsafe {
                let p = src.add(b);
                let v: [__m512; QV] =
                    std::array::from_fn(|j| _mm512_maskz_loadu_ps(m[j], p.add(16 * j)));
                let wr = w.add(t * ws);
                for (c, a) in acc.iter_mut().enumerate() {
                    let wc = _mm512_set1_ps(*wr.add(c));
                    for j in 0..QV {
                        a[j] = _mm512_fmadd_ps(wc, v[j], a[j]);
                    }
                }
            }
        }
        for (c, a) in acc.iter().enumerate() {
            for j in 0..QV {
                // SAFETY: `c * os + 16 j + lane < len` for unmasked lanes (caller).
                unsafe { _mm512_mask_storeu_ps(out.add(c * os + 16 * j), m[j], a[j]) };
            }
        }
    }

    /// See [`super::wgrad_tile`]; `src` points at position `q0`; `V` vectors of channels,
    /// `T` taps (`V T = 24`), the first `nt` stored.
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn wgrad_tile<const V: usize, const T: usize>(
        src: *const f32,
        b: &[usize; T],
        nt: usize,
        n: usize,
        dyt: *const f32,
        ds: usize,
        acc_out: *mut f32,
        cs: usize,
    ) {
        let mut acc = [[_mm512_setzero_ps(); V]; T];
        for q in 0..n {
            // SAFETY: `q < n` rows of `dyt` and taps `b[t] + q` are in bounds (caller).
            unsafe {
                let row = dyt.add(q * ds);
                let d: [__m512; V] = std::array::from_fn(|v| _mm512_loadu_ps(row.add(16 * v)));
                for (t, a) in acc.iter_mut().enumerate() {
                    let s = _mm512_set1_ps(*src.add(b[t] + q));
                    for v in 0..V {
                        a[v] = _mm512_fmadd_ps(s, d[v], a[v]);
                    }
                }
            }
        }
        for (t, a) in acc.iter().enumerate().take(nt) {
            for v in 0..V {
                // SAFETY: `t * cs + 16 v + lane` is in bounds (caller).
                unsafe {
                    let p = acc_out.add(t * cs + 16 * v);
                    _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), a[v]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) - 0.5
    }

    #[test]
    fn avx512_tiles_equal_the_portable_ones() {
        if Isa::detect() != Isa::Avx512 {
            return;
        }
        let mut s = 7;
        let src: Vec<f32> = (0..600).map(|_| lcg(&mut s)).collect();
        let taps = Taps::new(vec![0, 3, 17, 100, 250, 301, 7]);
        let ws = 11;
        let w: Vec<f32> = (0..taps.len() * ws).map(|_| lcg(&mut s)).collect();
        for n in [1, 15, 16, 17, 33, 47, 48] {
            let (mut a, mut b) = (vec![0f32; 8 * 50], vec![0f32; 8 * 50]);
            tap_tile(Isa::Avx512, &src, &taps, &w[2..], ws, 5, n, &mut a, 50);
            tap_tile(Isa::Portable, &src, &taps, &w[2..], ws, 5, n, &mut b, 50);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} {y} n={n}");
            }
        }
        let dyt: Vec<f32> = (0..90 * 50).map(|_| lcg(&mut s)).collect();
        for v in 1..=3 {
            for t in [1, 5, wgrad_taps(v)] {
                let base: Vec<usize> = (0..t).map(|i| (i * 37) % 300).collect();
                let mx = *base.iter().max().unwrap();
                for n in [1, 16, 31, 90] {
                    let (mut a, mut b) = (vec![0f32; t * 50], vec![0f32; t * 50]);
                    wgrad_tile(
                        Isa::Avx512,
                        &src,
                        &base,
                        mx,
                        3,
                        n,
                        &dyt[1..],
                        50,
                        v,
                        &mut a,
                        50,
                    );
                    wgrad_tile(
                        Isa::Portable,
                        &src,
                        &base,
                        mx,
                        3,
                        n,
                        &dyt[1..],
                        50,
                        v,
                        &mut b,
                        50,
                    );
                    for (x, y) in a.iter().zip(&b) {
                        assert!(
                            (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                            "{x} {y} t={t} n={n}"
                        );
                    }
                }
            }
        }
    }
}
