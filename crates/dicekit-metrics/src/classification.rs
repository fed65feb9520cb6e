//! Classification scores: accuracy, the area under the ROC curve and average precision (of
//! images, or of pixels taken as samples).

/// Area under the ROC curve of `scores` for the `positive` samples: the probability that a
/// random positive scores above a random negative, ties counting one half (the Mann–Whitney U
/// statistic divided by `n_pos n_neg`; equals scikit-learn's `roc_auc_score`).
///
/// `None` when either class is absent (the AUC is undefined).
///
/// ```
/// use dicekit_metrics::roc_auc;
/// assert_eq!(roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
/// assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), Some(0.5));
/// assert_eq!(roc_auc(&[0.2, 0.3], &[true, true]), None);
/// ```
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n = scores.len().min(positive.len());
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Mid-ranks (1-based) of tied groups, summed over the positives.
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < n {
        let mut j = i;
        while j + 1 < n && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * order[i..=j].iter().filter(|&&k| positive[k]).count() as f64;
        i = j + 1;
    }
    let pos = positive[..n].iter().filter(|&&p| p).count() as f64;
    let neg = n as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

/// Average precision of `scores` for the `positive` samples: the area under the
/// precision-recall curve as a step sum over the distinct score thresholds t (descending),
/// `AP = Σ_t (R(t) - R(t_prev)) P(t)`, where a sample is called positive when its score is at
/// least t (equals scikit-learn's `average_precision_score`). Unlike the ROC AUC it ignores
/// the true negatives, so a flood of easy background does not inflate it: for pixels of a
/// rare class it says how well the scores rank them, whatever the threshold.
///
/// `None` when there is no positive (the recall is undefined).
///
/// ```
/// use dicekit_metrics::average_precision;
/// let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
/// assert!((ap - 5.0 / 6.0).abs() < 1e-12);
/// assert_eq!(average_precision(&[0.2, 0.3], &[false, false]), None);
/// ```
pub fn average_precision(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n = scores.len().min(positive.len());
    let pos = positive[..n].iter().filter(|&&p| p).count();
    if pos == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut ap, mut i) = (0usize, 0.0, 0);
    while i < n {
        // Every sample tied with order[i] is called at this threshold.
        let before = tp;
        let mut j = i;
        while j < n && scores[order[j]] == scores[order[i]] {
            tp += usize::from(positive[order[j]]);
            j += 1;
        }
        ap += (tp - before) as f64 / pos as f64 * (tp as f64 / j as f64);
        i = j;
    }
    Some(ap)
}

/// Macro one-vs-rest AUC of class probabilities `probs[i][c]` against true classes: the mean
/// over classes with both positives and negatives (`None` when no class has both).
pub fn macro_auc(probs: &[Vec<f64>], truth: &[usize]) -> Option<f64> {
    let classes = probs.first().map_or(0, Vec::len);
    if classes == 2 {
        let s: Vec<f64> = probs.iter().map(|p| p[1]).collect();
        let y: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
        return roc_auc(&s, &y);
    }
    let aucs: Vec<f64> = (0..classes)
        .filter_map(|c| {
            let s: Vec<f64> = probs.iter().map(|p| p[c]).collect();
            let y: Vec<bool> = truth.iter().map(|&t| t == c).collect();
            roc_auc(&s, &y)
        })
        .collect();
    (!aucs.is_empty()).then(|| aucs.iter().sum::<f64>() / aucs.len() as f64)
}

/// The index of the largest value (the first one on ties; 0 for an empty slice; NaN never wins).
///
/// ```
/// assert_eq!(dicekit_metrics::argmax(&[0.2, 0.5, 0.5, f64::NAN]), 1);
/// ```
pub fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold(
            (0, f64::NEG_INFINITY),
            |m, (i, &v)| if v > m.1 { (i, v) } else { m },
        )
        .0
}

/// Fraction of samples whose most probable class is the true one (`None` for no samples).
pub fn accuracy(probs: &[Vec<f64>], truth: &[usize]) -> Option<f64> {
    let n = probs.len().min(truth.len());
    let right = probs
        .iter()
        .zip(truth)
        .filter(|(p, t)| argmax(p) == **t)
        .count();
    (n > 0).then(|| right as f64 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, pair by pair.
    fn brute(scores: &[f64], positive: &[bool]) -> Option<f64> {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &pi) in positive.iter().enumerate() {
            for (j, &pj) in positive.iter().enumerate() {
                if pi && !pj {
                    pairs += 1.0;
                    wins += match scores[i].partial_cmp(&scores[j]).unwrap() {
                        std::cmp::Ordering::Greater => 1.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Less => 0.0,
                    };
                }
            }
        }
        (pairs > 0.0).then(|| wins / pairs)
    }

    /// A seeded stream of numbers in [0, 1) (a 64-bit LCG), for the property tests.
    fn uniform_stream(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        }
    }

    /// Average precision from its definition: precision and recall counted afresh at each
    /// distinct threshold.
    fn brute_ap(scores: &[f64], positive: &[bool]) -> Option<f64> {
        let pos = positive.iter().filter(|&&p| p).count() as f64;
        if pos == 0.0 {
            return None;
        }
        let mut thresholds: Vec<f64> = scores.to_vec();
        thresholds.sort_by(|a, b| b.total_cmp(a));
        thresholds.dedup();
        let (mut ap, mut last_recall) = (0.0, 0.0);
        for t in thresholds {
            let called: Vec<usize> = (0..scores.len()).filter(|&k| scores[k] >= t).collect();
            let tp = called.iter().filter(|&&k| positive[k]).count() as f64;
            let recall = tp / pos;
            ap += (recall - last_recall) * tp / called.len() as f64;
            last_recall = recall;
        }
        Some(ap)
    }

    type Score = fn(&[f64], &[bool]) -> Option<f64>;

    /// `fast` equals `definition` on 20 random cases of each size in `sizes`: scores rounded
    /// down to multiples of 1/`levels` (so that ties happen), positives with probability
    /// `share`, drawn from the stream of `seed`.
    fn agrees_with_definition(
        fast: Score,
        definition: Score,
        seed: u64,
        sizes: &[usize],
        levels: f64,
        share: f64,
    ) {
        let mut next = uniform_stream(seed);
        for &n in sizes {
            for _ in 0..20 {
                let scores: Vec<f64> = (0..n).map(|_| (next() * levels).floor() / levels).collect();
                let positive: Vec<bool> = (0..n).map(|_| next() < share).collect();
                match (fast(&scores, &positive), definition(&scores, &positive)) {
                    (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "{a} {b}"),
                    (a, b) => assert_eq!(a, b),
                }
            }
        }
    }

    #[test]
    fn average_precision_equals_its_definition() {
        agrees_with_definition(
            average_precision,
            brute_ap,
            777,
            &[1, 2, 5, 17, 60],
            6.0,
            0.2,
        );
        // A perfect ranking scores 1 however rare the positives; a constant score, their share.
        let mut positive = vec![false; 1000];
        positive[3] = true;
        let mut scores = vec![0.1; 1000];
        scores[3] = 0.2;
        assert_eq!(average_precision(&scores, &positive), Some(1.0));
        assert_eq!(average_precision(&[0.5; 1000], &positive), Some(0.001));
    }

    #[test]
    fn auc_equals_the_pairwise_definition() {
        agrees_with_definition(roc_auc, brute, 12345, &[1, 2, 5, 17, 40], 5.0, 0.4);
    }

    #[test]
    fn accuracy_and_macro_auc() {
        let p = vec![vec![0.9, 0.1], vec![0.2, 0.8], vec![0.6, 0.4]];
        assert_eq!(accuracy(&p, &[0, 1, 1]), Some(2.0 / 3.0));
        assert_eq!(macro_auc(&p, &[0, 1, 1]), Some(1.0));
        let p3 = vec![
            vec![0.7, 0.2, 0.1],
            vec![0.1, 0.8, 0.1],
            vec![0.2, 0.2, 0.6],
        ];
        assert_eq!(macro_auc(&p3, &[0, 1, 2]), Some(1.0));
        assert_eq!(accuracy(&[], &[]), None);
    }
}
