//! NumPy's float64 reductions, bit for bit: `np.sum` (pairwise summation), `np.mean` and
//! `np.std` (population), as panoptica and the BraTS parsers call them, so that for example the
//! std of equal values comes out as NumPy's (not always exactly 0).

/// The sum NumPy's `np.add.reduce` computes for a contiguous float64 array (its pairwise
/// summation), to the last bit: below 8 values, left to right; up to 128, eight interleaved
/// partial sums (value `i` into sum `i mod 8`) over the whole groups of eight, combined as
/// `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))`, then the values after the last whole
/// group added one by one; longer, the two halves summed apart (split at half the length
/// rounded down to a multiple of 8) and added.
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |s, &x| s + x);
    }
    if n > 128 {
        let split = n / 2 / 8 * 8;
        return pairwise_sum(&a[..split]) + pairwise_sum(&a[split..]);
    }
    let whole = n / 8 * 8;
    let mut lanes = [0.0f64; 8];
    lanes.copy_from_slice(&a[..8]);
    for group in a[8..whole].chunks_exact(8) {
        for (lane, &x) in lanes.iter_mut().zip(group) {
            *lane += x;
        }
    }
    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
    let combined = ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
    a[whole..].iter().fold(combined, |s, &x| s + x)
}

/// `np.mean` and `np.std` (ddof 0) of `a`; NaN for an empty slice.
pub(crate) fn mean_std(a: &[f64]) -> (f64, f64) {
    if a.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = a.len() as f64;
    let mean = pairwise_sum(a) / n;
    let sq: Vec<f64> = a
        .iter()
        .map(|x| {
            let d = x - mean;
            d * d
        })
        .collect();
    (mean, (pairwise_sum(&sq) / n).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values computed with NumPy 2.2.6.
    #[test]
    fn as_numpy() {
        let x = 0.680_396_844_835_792_2;
        assert_eq!(
            mean_std(&[x; 12]),
            (0.680_396_844_835_792_3, 1.110_223_024_625_156_5e-16)
        );
        assert_eq!(
            mean_std(&[0.3; 12]),
            (0.299_999_999_999_999_93, 5.551_115_123_125_783e-17)
        );
        let mut v = vec![0.1; 9];
        v.extend([0.7, 0.2, 0.3, 0.33]);
        assert_eq!(
            mean_std(&v),
            (0.186_923_076_923_076_94, 0.167_487_524_926_237_86)
        );
        let v: Vec<f64> = (0..300).map(|i| 0.1 * f64::from(i)).collect();
        assert_eq!(pairwise_sum(&v), 4485.0);
        assert!(mean_std(&[]).0.is_nan());
    }

    /// `np.sum(np.sin(np.arange(n) * 0.7) * 1e3 + np.arange(n) * 0.1)`, NumPy 2.2.6, across
    /// the unrolled and the split sizes.
    #[test]
    fn sums_as_numpy() {
        let want = [
            (7, 1607.6059339277224),
            (9, -4.613316568931509),
            (17, 615.7000685739273),
            (127, 954.4969081584388),
            (129, 2782.7503723151694),
            (200, 3140.592595429988),
            (257, 5953.262601937507),
            (1000, 52197.13906960523),
            (1025, 52906.01727059335),
        ];
        for (n, sum) in want {
            let a: Vec<f64> = (0..n)
                .map(|i| (f64::from(i) * 0.7).sin() * 1e3 + f64::from(i) * 0.1)
                .collect();
            assert_eq!(pairwise_sum(&a), sum, "n = {n}");
        }
    }
}
