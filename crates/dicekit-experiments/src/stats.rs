//! Summaries over seeds.

/// Mean and sample standard deviation (0 for one value) of the finite values; `None` when
/// there are none.
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Some((mean, sd))
}

/// `mean ± sd` with `digits` decimals, or `–`.
pub fn fmt_mean_sd(values: &[f64], digits: usize) -> String {
    mean_sd(values).map_or("–".into(), |(m, s)| {
        format!("{m:.digits$} ± {s:.digits$}")
    })
}

/// The distinct seeds, in increasing order.
pub fn distinct_seeds(seeds: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = seeds.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// `in every seed (n)`, `in k of n seeds` or `in no seed`, for `k` of `n`.
pub fn in_seeds(k: usize, n: usize) -> String {
    match k {
        0 => "in no seed".into(),
        k if k == n => format!("in every seed ({n})"),
        k => format!("in {k} of {n} seeds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd() {
        let (m, s) = mean_sd(&[1.0, 2.0, 3.0, f64::NAN]).unwrap();
        assert_eq!(m, 2.0);
        assert!((s - 1.0).abs() < 1e-12);
        assert_eq!(mean_sd(&[5.0]), Some((5.0, 0.0)));
        assert_eq!(mean_sd(&[]), None);
        assert_eq!(fmt_mean_sd(&[0.5, 0.7], 2), "0.60 ± 0.14");
    }

    #[test]
    fn seeds_and_their_counts() {
        assert_eq!(distinct_seeds([3, 1, 3, 2, 1]), vec![1, 2, 3]);
        assert_eq!(in_seeds(0, 3), "in no seed");
        assert_eq!(in_seeds(3, 3), "in every seed (3)");
        assert_eq!(in_seeds(2, 3), "in 2 of 3 seeds");
    }
}
