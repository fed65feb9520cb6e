//! Turning decoded samples of any numeric type into `u32` labels, rejecting values that are not
//! labels (fractional, NaN, infinite, negative, above `u32::MAX`).

use crate::DataErrorKind;

/// A decoded sample of some file's native type.
pub(crate) trait Sample: Copy {
    /// Every value of the type is a label (`u8`, `u16`, `u32`): no check is needed.
    const ALWAYS_LABEL: bool = false;
    /// The sample as an exact label, if it is one.
    fn label(self) -> Option<u32>;
    /// The sample as `f64` (for scaling and for error messages).
    fn value(self) -> f64;
    /// The sample as the nearest `f32`.
    fn to_f32(self) -> f32;
}

macro_rules! lossless_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            const ALWAYS_LABEL: bool = true;
            fn label(self) -> Option<u32> {
                Some(u32::from(self))
            }
            fn value(self) -> f64 {
                f64::from(self)
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
lossless_sample!(u8, u16, u32);

macro_rules! checked_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn label(self) -> Option<u32> {
                u32::try_from(self).ok()
            }
            fn value(self) -> f64 {
                // Exact for every value that is a label; only used to report the others.
                self as f64
            }
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
checked_sample!(i8, i16, i32, i64, u64);

impl Sample for f32 {
    fn label(self) -> Option<u32> {
        float_label(f64::from(self))
    }
    fn value(self) -> f64 {
        f64::from(self)
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl Sample for f64 {
    fn label(self) -> Option<u32> {
        float_label(self)
    }
    fn value(self) -> f64 {
        self
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// `v` as a label if it is an integer in `0..=u32::MAX` (NaN and infinities are not).
pub(crate) fn float_label(v: f64) -> Option<u32> {
    if (0.0..=f64::from(u32::MAX)).contains(&v) && v.fract() == 0.0 {
        // In range and integral, so the cast is exact.
        Some(v as u32)
    } else {
        None
    }
}

/// Converts samples to labels. With `scaling = Some((slope, inter))` each sample becomes
/// `sample * slope + inter` in `f64` first (NIfTI `scl_slope`/`scl_inter`, as nibabel does).
/// Stops at the first value that is not a label and reports it at the index that `unravel`
/// gives for its flat position.
pub(crate) fn to_labels<T: Sample>(
    samples: impl ExactSizeIterator<Item = T>,
    scaling: Option<(f64, f64)>,
    unravel: impl Fn(usize) -> Vec<usize>,
) -> Result<Vec<u32>, DataErrorKind> {
    let mut out = alloc_labels(samples.len())?;
    for (flat, s) in samples.enumerate() {
        let label = match scaling {
            None => s.label().ok_or_else(|| s.value()),
            Some((slope, inter)) => {
                let v = s.value() * slope + inter;
                float_label(v).ok_or(v)
            }
        };
        match label {
            Ok(l) => out.push(l),
            Err(value) => {
                return Err(DataErrorKind::NonIntegerLabels {
                    value,
                    index: unravel(flat),
                });
            }
        }
    }
    Ok(out)
}

/// An empty vector with room for `n` labels, or an out-of-memory error (a header can declare
/// any size; this must not abort the process).
pub(crate) fn alloc_labels(n: usize) -> Result<Vec<u32>, DataErrorKind> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n, "labels"))?;
    Ok(v)
}

/// The error for a buffer of `n` items that cannot be allocated.
pub(crate) fn out_of_memory(n: usize, what: &str) -> DataErrorKind {
    DataErrorKind::Io(std::io::Error::new(
        std::io::ErrorKind::OutOfMemory,
        format!("cannot allocate memory for {n} {what}"),
    ))
}

/// The n-D index of flat position `flat` in an array of `shape` stored with the LAST axis
/// fastest (row-major, as PNG and TIFF store pixels).
pub(crate) fn unravel_last_fastest(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx: Vec<usize> = shape
        .iter()
        .rev()
        .map(|&d| {
            let i = flat % d.max(1);
            flat /= d.max(1);
            i
        })
        .collect();
    idx.reverse();
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_label_accepts_only_non_negative_integers_up_to_u32_max() {
        assert_eq!(float_label(0.0), Some(0));
        assert_eq!(float_label(-0.0), Some(0));
        assert_eq!(float_label(3.0), Some(3));
        assert_eq!(float_label(4_294_967_295.0), Some(u32::MAX));
        for bad in [
            0.5,
            -1.0,
            4_294_967_296.0,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ] {
            assert_eq!(float_label(bad), None, "{bad}");
        }
    }

    fn flat(i: usize) -> Vec<usize> {
        vec![i]
    }

    fn bad(kind: DataErrorKind) -> (f64, Vec<usize>) {
        match kind {
            DataErrorKind::NonIntegerLabels { value, index } => (value, index),
            other => panic!("expected NonIntegerLabels, got {other:?}"),
        }
    }

    #[test]
    fn signed_samples_reject_negatives() {
        let ok = to_labels([0i16, 7, 300].into_iter(), None, flat).unwrap();
        assert_eq!(ok, vec![0, 7, 300]);
        let err = to_labels([0i16, 1, -2].into_iter(), None, flat).unwrap_err();
        assert_eq!(bad(err), (-2.0, vec![2]));
    }

    #[test]
    fn u64_above_u32_max_is_rejected() {
        let err = to_labels([1u64 << 32].into_iter(), None, flat).unwrap_err();
        assert_eq!(bad(err), (4_294_967_296.0, vec![0]));
    }

    #[test]
    fn float_samples_must_be_integral() {
        let ok = to_labels([1.0f32, 2.0].into_iter(), None, flat).unwrap();
        assert_eq!(ok, vec![1, 2]);
        let err = to_labels([1.0f32, 0.5].into_iter(), None, flat).unwrap_err();
        assert_eq!(bad(err), (0.5, vec![1]));
    }

    #[test]
    fn scaling_is_applied_before_the_check() {
        // 2 * x + 1 on integers gives integers; 0.5 * 3 does not.
        let ok = to_labels([0u8, 1, 2].into_iter(), Some((2.0, 1.0)), flat).unwrap();
        assert_eq!(ok, vec![1, 3, 5]);
        let err = to_labels([2u8, 3].into_iter(), Some((0.5, 0.0)), flat).unwrap_err();
        assert_eq!(bad(err), (1.5, vec![1]));
    }

    #[test]
    fn the_offending_index_comes_from_unravel() {
        let err = to_labels([0u8, 0, 0, 9].into_iter(), Some((0.1, 0.0)), |f| {
            unravel_last_fastest(f, &[2, 2])
        })
        .unwrap_err();
        assert_eq!(bad(err).1, vec![1, 1]);
    }

    #[test]
    fn unravel_order_matches_the_row_major_layout() {
        // shape [2, 3]: last-axis-fastest flat 3 -> [1, 0] (first-axis-fastest layouts are
        // covered by the raster's `index_of`).
        assert_eq!(unravel_last_fastest(3, &[2, 3]), vec![1, 0]);
        assert_eq!(unravel_last_fastest(23, &[2, 3, 4]), vec![1, 2, 3]);
    }
}
