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
}
