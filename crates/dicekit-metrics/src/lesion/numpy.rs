//! NumPy's float64 reductions, bit for bit: `np.sum` (pairwise summation), `np.mean` and
//! `np.std` (population), as panoptica and the BraTS parsers call them, so that for example the
//! std of equal values comes out as NumPy's (not always exactly 0).

/// `np.add.reduce` of a contiguous float64 array: blocks of up to 128 values summed with
/// eight accumulators, larger arrays split in halves (multiples of 8).
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
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
}
