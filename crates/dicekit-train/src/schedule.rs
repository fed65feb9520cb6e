//! Learning-rate schedules.
use serde::{Deserialize, Serialize};

/// The learning rate at step `t` of `T` from the initial rate `lr0`.
///
/// ```text
/// Constant:      lr0
/// Poly(p):       lr0 (1 - t / T)^p              (nnU-Net: p = 0.9)
/// Cosine:        lr_min + (lr0 - lr_min) (1 + cos(pi t / T)) / 2
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Polynomial decay.
    #[default]
    Poly,
    /// Polynomial decay with an exponent.
    PolyPower {
        /// Exponent.
        power: f64,
    },
    /// Cosine annealing to `min_lr`.
    Cosine {
        /// Final learning rate.
        #[serde(default)]
        min_lr: f64,
    },
}

impl Schedule {
    /// The rate at step `t` of `total`.
    pub fn lr(&self, lr0: f64, t: usize, total: usize) -> f64 {
        let f = (t as f64 / total.max(1) as f64).min(1.0);
        match *self {
            Schedule::Constant => lr0,
            Schedule::Poly => lr0 * (1.0 - f).powf(0.9),
            Schedule::PolyPower { power } => lr0 * (1.0 - f).powf(power),
            Schedule::Cosine { min_lr } => {
                min_lr + (lr0 - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * f).cos())
            }
        }
    }

    /// Checks the parameters.
    ///
    /// # Errors
    /// [`InputError::Config`](crate::InputError) naming the field.
    pub fn validate(&self) -> Result<(), crate::InputError> {
        match *self {
            Schedule::PolyPower { power } if !(power.is_finite() && power > 0.0) => {
                Err(crate::InputError::Config(format!(
                    "[training.schedule] power = {power} must be > 0"
                )))
            }
            Schedule::Cosine { min_lr } if !(min_lr.is_finite() && min_lr >= 0.0) => {
                Err(crate::InputError::Config(format!(
                    "[training.schedule] min_lr = {min_lr} must be >= 0"
                )))
            }
            _ => Ok(()),
        }
    }
}
