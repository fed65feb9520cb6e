//! Shared parts of the pixel-wise losses (focal, BCE, CE): the sigmoid term and the reduction.
use burn::prelude::*;

use crate::{Activation, MeanOver, Reduction};

/// The focal modulation of the binary terms.
///
/// ```text
/// plain:    f_pos = (1 - p)^gamma,                   f_neg = p^gamma
/// reduced:  f_pos = 1 if p < r else ((1 - p) / r)^gamma,   f_neg = 1 if 1 - p < r else (p / r)^gamma
/// ```
/// (`reduced` is the reduced focal loss of Sergievskiy & Ponamarev 2019, smp `reduced_threshold`.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Focus {
    pub gamma: f64,
    pub reduced_threshold: Option<f64>,
}

impl Focus {
    /// No modulation: plain cross-entropy terms.
    pub const NONE: Focus = Focus {
        gamma: 0.0,
        reduced_threshold: None,
    };

    fn factor<const D: usize>(self, log_other: Tensor<D>, own: &Tensor<D>) -> Option<Tensor<D>> {
        match self.reduced_threshold {
            None if self.gamma == 0.0 => None,
            None => Some((log_other * self.gamma).exp()),
            Some(r) => {
                let f = ((log_other - r.ln()) * self.gamma).exp();
                // own = ln of the probability of the term's own outcome (p_t).
                Some(f.mask_fill(own.clone().lower_elem(r.ln()), 1.0))
            }
        }
    }
}

/// Per-element binary terms `[B, C, ...S]` for logits `x` and (soft) targets `t`, and the
/// modulation `t f_pos + (1 - t) f_neg` (`None` when there is none, i.e. all ones):
///
/// ```text
/// pos = -t f_pos ln p          neg = -(1 - t) f_neg ln(1 - p)        (f: see Focus)
/// term = a_pos pw_c pos + a_neg neg
/// ```
/// computed as `(1 - p)^gamma = exp(gamma ln sigmoid(-x))` so that saturated logits stay finite.
/// With no focus and `a_pos = a_neg = pw = 1` this is binary cross-entropy with logits.
pub(crate) fn binary_terms<const D: usize>(
    activation: Activation,
    x: Tensor<D>,
    t: Tensor<D>,
    focus: Focus,
    a_pos: Option<Tensor<D>>,
    a_neg: Option<Tensor<D>>,
    pos_weight: Option<Tensor<D>>,
) -> (Tensor<D>, Option<Tensor<D>>) {
    let log_p = activation.log_probabilities(x.clone());
    let log_q = activation.log_complement(x);
    let fp = focus.factor(log_q.clone(), &log_p);
    let fq = focus.factor(log_p.clone(), &log_q);
    let modulation = match (&fp, &fq) {
        (Some(fp), Some(fq)) => Some(t.clone() * fp.clone() + (t.clone().neg() + 1.0) * fq.clone()),
        _ => None,
    };
    let mut pos = t.clone() * log_p;
    if let Some(f) = fp {
        pos = pos * f;
    }
    if let Some(pw) = pos_weight {
        pos = pos * pw;
    }
    if let Some(a) = a_pos {
        pos = pos * a;
    }
    let mut neg = (t.neg() + 1.0) * log_q;
    if let Some(f) = fq {
        neg = neg * f;
    }
    if let Some(a) = a_neg {
        neg = neg * a;
    }
    ((pos + neg).neg(), modulation)
}

/// Reduces pixel terms (already zero where ignored).
///
/// `valid` is `[B, 1|C, ...S]`; `entry_weight`, when given, replaces the count of valid entries
/// under [`MeanOver::ValidEntries`] (the label weights of torch's cross-entropy).
pub(crate) fn reduce_terms<const D: usize>(
    terms: Tensor<D>,
    valid: Option<Tensor<D>>,
    entry_weight: Option<Tensor<D>>,
    mean_over: MeanOver,
    reduction: Reduction,
) -> Tensor<1> {
    if reduction == Reduction::Sum {
        return terms.sum();
    }
    let dims = terms.dims();
    let channels = dims[1] as f64;
    let total = terms.sum();
    let count: Tensor<1> = match (mean_over, valid, entry_weight) {
        (MeanOver::AllEntries, ..) | (_, None, None) => {
            return total / dims.iter().product::<usize>() as f64;
        }
        (MeanOver::ValidEntries, _, Some(w)) => w.sum(),
        (MeanOver::ValidEntries, Some(v), None) => {
            v.clone().sum() * (channels / v.dims()[1] as f64)
        }
        (MeanOver::ValidVoxels, Some(v), _) => v.clone().sum() / v.dims()[1] as f64,
        (MeanOver::ValidVoxels, None, Some(_)) => {
            return total / (dims.iter().product::<usize>() as f64 / channels);
        }
    };
    let count = count.detach();
    let zero = count.clone().equal_elem(0.0);
    total / count.mask_fill(zero, 1.0)
}
