//! Shared parts of the pixel-wise losses (focal, BCE, CE): the sigmoid term and the reduction.
use burn::prelude::*;

use crate::{Activation, MeanOver, Reduction};

/// Per-element binary terms, `[B, C, ...S]`, for logits `x` and (soft) targets `t`:
///
/// ```text
/// pos = -t (1 - p)^gamma ln p          neg = -(1 - t) p^gamma ln(1 - p)
/// term = a_pos pw_c pos + a_neg neg
/// ```
/// computed as `(1 - p)^gamma = exp(gamma ln sigmoid(-x))` so that saturated logits stay finite.
/// With `gamma = 0`, `a_pos = a_neg = pw = 1` this is binary cross-entropy with logits.
pub(crate) fn binary_terms<const D: usize>(
    activation: Activation,
    x: Tensor<D>,
    t: Tensor<D>,
    gamma: f64,
    a_pos: Option<Tensor<D>>,
    a_neg: Option<Tensor<D>>,
    pos_weight: Option<Tensor<D>>,
) -> Tensor<D> {
    let log_p = activation.log_probabilities(x.clone());
    let log_q = activation.log_complement(x);
    let (fp, fq) = if gamma == 0.0 {
        (None, None)
    } else {
        (
            Some((log_q.clone() * gamma).exp()),
            Some((log_p.clone() * gamma).exp()),
        )
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
    (pos + neg).neg()
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
