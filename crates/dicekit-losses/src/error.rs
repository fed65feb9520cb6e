//! Configuration errors.

/// A configuration value that a loss cannot accept.
///
/// Every variant names the field and the value, so that a CLI can print one line that tells the
/// user exactly what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value outside its allowed range.
    #[error("invalid value for `{field}`: {value} ({expected})")]
    OutOfRange {
        /// Name of the config field.
        field: &'static str,
        /// The value given, as written.
        value: String,
        /// What the field accepts.
        expected: &'static str,
    },
    /// A per-class list whose length does not match the number of classes.
    #[error("`{field}` has {len} values but the input has {classes} classes")]
    ClassCount {
        /// Name of the config field.
        field: &'static str,
        /// Number of values given.
        len: usize,
        /// Number of classes (channels) of the logits.
        classes: usize,
    },
    /// An ignore label that is also a real class (no longer returned by the losses, which
    /// accept it as MONAI does; kept for callers that refuse it themselves).
    #[error("`ignore_index` = {value} is also a class index (classes are 0..{classes})")]
    IgnoreIsClass {
        /// The ignore label.
        value: i64,
        /// Number of classes.
        classes: usize,
    },
    /// A field that the loss does not have.
    #[error("unknown field `{field}` for loss `{loss}` (known: {known})")]
    UnknownField {
        /// The loss kind.
        loss: String,
        /// The field given.
        field: String,
        /// The fields the loss has.
        known: String,
    },
    /// A value of the wrong type or an unknown enum variant.
    #[error("invalid loss configuration: {0}")]
    Parse(String),
    /// Options that cannot be used together.
    #[error("incompatible options: {0}")]
    Incompatible(String),
}

impl ConfigError {
    pub(crate) fn range(field: &'static str, value: impl ToString, expected: &'static str) -> Self {
        Self::OutOfRange {
            field,
            value: value.to_string(),
            expected,
        }
    }

    /// `value` must be finite and `>= 0`.
    pub(crate) fn check_non_negative(field: &'static str, value: f64) -> Result<(), Self> {
        if value.is_finite() && value >= 0.0 {
            Ok(())
        } else {
            Err(Self::range(field, value, "a finite number >= 0"))
        }
    }

    /// `value` must lie in `[0, 1]`.
    pub(crate) fn check_unit(field: &'static str, value: f64) -> Result<(), Self> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(Self::range(field, value, "a number in [0, 1]"))
        }
    }

    /// Every entry must be finite and `>= 0`.
    pub(crate) fn check_weights(field: &'static str, values: &[f64]) -> Result<(), Self> {
        match values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            Some(v) => Err(Self::range(field, v, "finite numbers >= 0")),
            None if values.is_empty() => Err(Self::range(field, "[]", "at least one value")),
            None => Ok(()),
        }
    }

    /// A per-class list must have one value per class.
    pub(crate) fn check_count(
        field: &'static str,
        values: Option<&[f64]>,
        classes: usize,
    ) -> Result<(), Self> {
        match values {
            Some(v) if v.len() != classes => Err(Self::ClassCount {
                field,
                len: v.len(),
                classes,
            }),
            _ => Ok(()),
        }
    }

    /// An ignore label that is also a class index is accepted, as MONAI accepts it: the voxels
    /// carrying it are left out of every class's sums and the class is still scored on what
    /// remains (with class indices, nothing: it is then absent). Logged once, since it is more
    /// often a slip than a wish.
    pub(crate) fn check_ignore(ignore: Option<i64>, classes: usize) -> Result<(), Self> {
        if let Some(v) = ignore.filter(|&v| v >= 0 && (v as usize) < classes.max(2)) {
            warn_once("ignore_is_class", || {
                format!(
                    "`ignore_index` = {v} is also a class index (classes are 0..{}): its voxels are \
                     left out of every class and class {v} is still scored (MONAI's rule)",
                    classes.max(2)
                )
            });
        }
        Ok(())
    }
}

/// Logs `message` as a warning the first time `key` is seen in this process, so that a condition
/// met on every training step is reported once.
pub(crate) fn warn_once(key: &'static str, message: impl FnOnce() -> String) {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(HashSet::new()));
    let first = seen.lock().map(|mut s| s.insert(key)).unwrap_or(false);
    if first {
        log::warn!("{}", message());
    }
}

/// Panics with the message of a validation error: burn's convention for programmer errors
/// (a shape or config mismatch found while computing). Call `validate` / `check_classes`
/// first to get a `Result` instead.
pub(crate) fn expect_valid(result: Result<(), ConfigError>) {
    if let Err(e) = result {
        panic!("{e}");
    }
}
