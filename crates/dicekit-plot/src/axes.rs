//! Axis scales: data ranges, "nice" ticks (1, 2 or 5 times a power of ten), tick labels and
//! the data-to-pixel mapping.

/// Largest magnitude kept on an axis; beyond it spans would overflow.
const LIMIT: f64 = 1e300;

/// How data values are laid out along an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// Evenly spaced values.
    #[default]
    Linear,
    /// Evenly spaced decades; values `<= 0` cannot be shown.
    Log10,
}

/// A nice number close to `x`: 1, 2, 5 or 10 times a power of ten, returned as
/// `(mantissa, exponent)`. With `round` the nearest one, otherwise the smallest one `>= x`.
pub fn nice_number(x: f64, round: bool) -> (f64, i32) {
    let x = if x.is_finite() {
        x.abs().clamp(1e-290, 1e290)
    } else {
        1.0
    };
    let mut exp = x.log10().floor() as i32;
    let f = x / 10f64.powi(exp);
    let limits: [f64; 3] = if round {
        [1.5, 3.0, 7.0]
    } else {
        [1.0, 2.0, 5.0]
    };
    let mantissa = match limits
        .iter()
        .position(|&l| if round { f < l } else { f <= l })
    {
        Some(0) => 1.0,
        Some(1) => 2.0,
        Some(_) => 5.0,
        None => {
            exp += 1;
            1.0
        }
    };
    (mantissa, exp)
}

/// `k * mantissa * 10^exp`, computed so that decimal steps land on the nearest double.
fn tick_value(k: f64, mantissa: f64, exp: i32) -> f64 {
    if exp >= 0 {
        k * mantissa * 10f64.powi(exp)
    } else {
        k * mantissa / 10f64.powi(-exp)
    }
}

/// Orders `(lo, hi)`, replaces non-finite bounds and widens empty or degenerate ranges.
pub fn sanitize_range(lo: f64, hi: f64, scale: Scale) -> (f64, f64) {
    match scale {
        Scale::Linear => {
            let (lo, hi) = if lo.is_finite() && hi.is_finite() {
                (lo, hi)
            } else {
                (0.0, 1.0)
            };
            let (lo, hi) = (
                lo.min(hi).clamp(-LIMIT, LIMIT),
                lo.max(hi).clamp(-LIMIT, LIMIT),
            );
            if hi - lo > 1e-12 * lo.abs().max(hi.abs()) && hi - lo > 1e-290 {
                return (lo, hi);
            }
            let mid = lo / 2.0 + hi / 2.0;
            let half = if mid.abs() > 1e-290 {
                mid.abs() * 0.1
            } else {
                1.0
            };
            (mid - half, mid + half)
        }
        Scale::Log10 => {
            let ok = |v: f64| v.is_finite() && v > 0.0;
            let (lo, hi) = if ok(lo) && ok(hi) {
                (lo, hi)
            } else {
                (1.0, 10.0)
            };
            let (lo, hi) = (
                lo.min(hi).clamp(1e-290, 1e290),
                lo.max(hi).clamp(1e-290, 1e290),
            );
            if hi / lo > 1.0 + 1e-9 {
                (lo, hi)
            } else {
                (lo / 2.0, hi * 2.0)
            }
        }
    }
}

/// The range spanned by the finite `values` (positive ones for [`Scale::Log10`]), widened by
/// `margin` (a fraction of the span, in log space for log scales) on each side.
pub fn data_range(values: impl IntoIterator<Item = f64>, scale: Scale, margin: f64) -> (f64, f64) {
    let usable = |v: &f64| v.is_finite() && (scale == Scale::Linear || *v > 0.0);
    let (lo, hi) = values
        .into_iter()
        .filter(usable)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = sanitize_range(lo, hi, scale);
    let margin = if margin.is_finite() {
        margin.clamp(0.0, 1.0)
    } else {
        0.0
    };
    match scale {
        Scale::Linear => {
            let pad = (hi / 2.0 - lo / 2.0) * 2.0 * margin;
            sanitize_range(lo - pad, hi + pad, scale)
        }
        Scale::Log10 => {
            let pad = 10f64.powf((hi.log10() - lo.log10()) * margin);
            sanitize_range(lo / pad, hi * pad, scale)
        }
    }
}

/// About `target` nice, evenly spaced ticks inside `[lo, hi]`.
///
/// ```
/// let ticks = dicekit_plot::nice_ticks(0.0, 1.0, 6);
/// assert_eq!(ticks, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
/// ```
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (lo, hi) = sanitize_range(lo, hi, Scale::Linear);
    let target = target.clamp(2, 50) as f64;
    let (m, e) = nice_number((hi - lo) / (target - 1.0), true);
    let step = tick_value(1.0, m, e);
    let slack = step * 1e-9;
    let (first, last) = (((lo - slack) / step).ceil(), ((hi + slack) / step).floor());
    if !(first <= last && last - first <= 200.0) {
        return vec![lo, hi];
    }
    (0..=(last - first) as i64)
        .map(|i| tick_value(first + i as f64, m, e))
        .collect()
}

/// Ticks at powers of ten inside `[lo, hi]` (every n-th decade when there are many), with
/// 2x and 5x ticks added when fewer than three decades are visible.
pub fn log_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let (lo, hi) = sanitize_range(lo, hi, Scale::Log10);
    let (lo_t, hi_t) = (lo * (1.0 - 1e-9), hi * (1.0 + 1e-9));
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let every = ((e1 - e0) as usize).div_ceil(target.max(2)).max(1) as i32;
    let pow = |e: i32| {
        if e >= 0 {
            10f64.powi(e)
        } else {
            1.0 / 10f64.powi(-e)
        }
    };
    let decades: Vec<f64> = (e0..=e1)
        .filter(|e| e.rem_euclid(every) == 0)
        .map(pow)
        .filter(|v| (lo_t..=hi_t).contains(v))
        .collect();
    if decades.len() >= 3 {
        return decades;
    }
    let fine: Vec<f64> = (e0..=e1)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * pow(e)))
        .filter(|v| (lo_t..=hi_t).contains(v))
        .collect();
    if fine.len() >= 2 {
        fine
    } else {
        nice_ticks(lo, hi, target)
    }
}

/// Labels for `ticks` spaced by `step`, formatted consistently: plain decimals without
/// trailing zeros, or e-notation (`2.5e-5`, `1e6`) for very small steps or large values.
///
/// ```
/// assert_eq!(dicekit_plot::format_ticks(&[0.0, 0.25, 0.5], 0.25), ["0", "0.25", "0.5"]);
/// assert_eq!(dicekit_plot::format_ticks(&[1e-5, 2e-5], 1e-5), ["1e-5", "2e-5"]);
/// ```
pub fn format_ticks(ticks: &[f64], step: f64) -> Vec<String> {
    let step = if step.is_finite() && step != 0.0 {
        step.abs()
    } else {
        1.0
    };
    let max_abs = ticks
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if max_abs >= 1e5 || step < 1e-3 {
        let digits = (max_abs.max(step).log10().floor() - step.log10().floor()).clamp(0.0, 5.0);
        ticks.iter().map(|&v| sci(v, digits as usize)).collect()
    } else {
        let decimals = (0..10).find(|&d| {
            let scaled = step * 10f64.powi(d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        });
        ticks
            .iter()
            .map(|&v| fixed(v, decimals.unwrap_or(10) as usize))
            .collect()
    }
}

/// A single tick label; see [`format_ticks`].
pub fn format_tick(value: f64, step: f64) -> String {
    format_ticks(&[value], step).remove(0)
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

fn fixed(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let s = format!("{v:.decimals$}");
    let s = trim_zeros(&s);
    if s == "-0" { "0".into() } else { s.into() }
}

fn sci(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return fixed(v, 0);
    }
    let s = format!("{v:.digits$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{}e{exp}", trim_zeros(mantissa))
}

/// A data range mapped linearly (or by decade) onto a pixel interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// Data value at `start`.
    pub min: f64,
    /// Data value at `end`.
    pub max: f64,
    /// How values are spaced.
    pub scale: Scale,
    /// Pixel coordinate of `min` (for a vertical axis, the bottom).
    pub start: f64,
    /// Pixel coordinate of `max`.
    pub end: f64,
}

impl Axis {
    /// An axis over the (sanitised) data range `[min, max]` drawn from pixel `start` to `end`.
    pub fn new(min: f64, max: f64, scale: Scale, start: f64, end: f64) -> Self {
        let (min, max) = sanitize_range(min, max, scale);
        Axis {
            min,
            max,
            scale,
            start,
            end,
        }
    }

    fn transform(&self, v: f64) -> f64 {
        match self.scale {
            Scale::Linear => v,
            Scale::Log10 if v > 0.0 => v.log10(),
            Scale::Log10 => f64::NAN,
        }
    }

    /// The pixel coordinate of `v`; NaN for values the scale cannot show.
    pub fn to_pixel(&self, v: f64) -> f64 {
        let (a, b, x) = (
            self.transform(self.min),
            self.transform(self.max),
            self.transform(v),
        );
        // Halving first keeps spans of +-1e300 finite.
        let t = (x / 2.0 - a / 2.0) / (b / 2.0 - a / 2.0);
        let p = self.start + t * (self.end - self.start);
        if p.is_nan() { p } else { p.clamp(-1e9, 1e9) }
    }

    /// About `target` ticks inside the range.
    pub fn ticks(&self, target: usize) -> Vec<f64> {
        match self.scale {
            Scale::Linear => nice_ticks(self.min, self.max, target),
            Scale::Log10 => log_ticks(self.min, self.max, target),
        }
    }

    /// Labels for `ticks` of this axis.
    pub fn labels(&self, ticks: &[f64]) -> Vec<String> {
        let step = match (self.scale, ticks) {
            (Scale::Log10, _) => ticks.iter().copied().fold(f64::INFINITY, f64::min),
            (Scale::Linear, [a, b, ..]) => b - a,
            (Scale::Linear, _) => self.max - self.min,
        };
        format_ticks(ticks, step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-12 * y.abs().max(1.0))
    }

    #[test]
    fn nice_ticks_on_known_ranges() {
        assert_eq!(nice_ticks(0.0, 1.0, 6), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(0.003, 0.0071, 5),
            vec![0.003, 0.004, 0.005, 0.006, 0.007]
        );
        assert!(close(
            &nice_ticks(-7.0, 42.0, 6),
            &[0.0, 10.0, 20.0, 30.0, 40.0]
        ));
        assert_eq!(nice_ticks(0.0, 100.0, 3), vec![0.0, 50.0, 100.0]);
        let t = nice_ticks(1e15, 1e15 + 1.0, 5);
        assert!(t.len() >= 2 && t.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn degenerate_ranges_still_tick() {
        for (lo, hi) in [
            (5.0, 5.0),
            (0.0, 0.0),
            (f64::NAN, 1.0),
            (-1e308, 1e308),
            (3.0, -3.0),
        ] {
            let t = nice_ticks(lo, hi, 5);
            assert!(t.len() >= 2 && t.len() <= 201, "{lo} {hi}: {t:?}");
            assert!(t.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn log_ticks_on_known_ranges() {
        assert_eq!(log_ticks(1.0, 1000.0, 5), vec![1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(log_ticks(0.1, 1.0, 5), vec![0.1, 0.2, 0.5, 1.0]);
        assert!(close(
            &log_ticks(1e-12, 1.0, 5),
            &[1e-12, 1e-9, 1e-6, 1e-3, 1.0]
        ));
        assert!(log_ticks(2.0, 3.0, 5).len() >= 2);
    }

    #[test]
    fn tick_labels() {
        let t = nice_ticks(0.0, 1.0, 6);
        assert_eq!(
            format_ticks(&t, 0.2),
            ["0", "0.2", "0.4", "0.6", "0.8", "1"]
        );
        assert_eq!(format_tick(0.0035, 0.0005), "3.5e-3");
        assert_eq!(format_tick(0.004, 0.001), "0.004");
        assert_eq!(format_tick(250000.0, 50000.0), "2.5e5");
        assert_eq!(format_tick(1500.0, 500.0), "1500");
        assert_eq!(format_tick(-0.0, 0.1), "0");
        assert_eq!(format_tick(-0.3, 0.1), "-0.3");
        assert_eq!(format_tick(1e-5, 1e-5), "1e-5");
        let axis = Axis::new(1.0, 1e6, Scale::Log10, 0.0, 100.0);
        assert_eq!(axis.labels(&[1.0, 1000.0, 1e6]), ["1e0", "1e3", "1e6"]);
        let axis = Axis::new(0.01, 100.0, Scale::Log10, 0.0, 100.0);
        assert_eq!(axis.labels(&[0.01, 1.0, 100.0]), ["0.01", "1", "100"]);
    }

    #[test]
    fn data_to_pixel_is_monotone() {
        let x = Axis::new(-3.0, 7.0, Scale::Linear, 50.0, 450.0);
        assert_eq!(x.to_pixel(-3.0), 50.0);
        assert_eq!(x.to_pixel(7.0), 450.0);
        let y = Axis::new(1e-4, 10.0, Scale::Log10, 400.0, 20.0);
        assert!((y.to_pixel(1e-4) - 400.0).abs() < 1e-9 && (y.to_pixel(10.0) - 20.0).abs() < 1e-9);
        assert!(y.to_pixel(0.0).is_nan() && y.to_pixel(-1.0).is_nan());
        let mut prev = (f64::NEG_INFINITY, f64::INFINITY);
        for i in 0..200 {
            let v = -5.0 + i as f64 * 0.07;
            let (px, py) = (x.to_pixel(v), y.to_pixel(10f64.powf(v)));
            assert!(px > prev.0 && py < prev.1);
            prev = (px, py);
        }
        let huge = Axis::new(-1e308, 1e308, Scale::Linear, 0.0, 100.0);
        assert!(huge.to_pixel(0.0).is_finite());
    }

    #[test]
    fn data_range_ignores_unusable_values() {
        let r = data_range([f64::NAN, 2.0, f64::INFINITY, 4.0], Scale::Linear, 0.0);
        assert_eq!(r, (2.0, 4.0));
        assert_eq!(
            data_range([0.0, -1.0, 10.0, 100.0], Scale::Log10, 0.0),
            (10.0, 100.0)
        );
        assert_eq!(data_range([], Scale::Linear, 0.1), (-0.1, 1.1));
        let (lo, hi) = data_range([3.0, 3.0], Scale::Linear, 0.05);
        assert!(lo < 3.0 && hi > 3.0);
    }
}
