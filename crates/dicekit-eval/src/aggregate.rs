//! Over the cases of a set: the labels every case is scored on, and the means per label and
//! metric.
use std::collections::BTreeMap;

use dicekit_metrics::{
    Aggregate, ConfusionCounts, EmptyPolicy, LabelEvaluation, MetricKind, Score, aggregate,
};

use crate::CaseResult;

/// The metrics present in `results` (the reported ones and any other a case holds), in
/// [`MetricKind::ALL`] order.
pub fn columns(results: &[CaseResult]) -> Vec<MetricKind> {
    MetricKind::ALL
        .iter()
        .copied()
        .filter(|m| {
            MetricKind::REPORTED.contains(m)
                || results
                    .iter()
                    .flat_map(|r| &r.labels)
                    .any(|l| l.scores.iter().any(|(k, _)| k == m))
        })
        .collect()
}

/// Without given labels, each case is scored on the labels present in it; this gives every
/// case a row for every label seen in any case (a label in neither of its maps is
/// `Empty(Both)`, as the convention reports it), and a set where no case has any label is scored
/// on label 1. A correct all-background prediction thus stays a row and counts in the
/// aggregates. `voxels[i]` is the number of voxels of case `i`.
pub fn complete_labels(results: &mut [CaseResult], voxels: &[u64]) {
    let mut all: Vec<u32> = results
        .iter()
        .flat_map(|r| r.labels.iter().map(|l| l.label))
        .collect();
    all.sort_unstable();
    all.dedup();
    if all.is_empty() {
        all.push(1);
    }
    for (r, &n) in results.iter_mut().zip(voxels) {
        let metrics: Vec<MetricKind> = match r.labels.first() {
            Some(l) => l.scores.iter().map(|(m, _)| *m).collect(),
            None => MetricKind::REPORTED.to_vec(),
        };
        for &label in &all {
            if !r.labels.iter().any(|l| l.label == label) {
                r.labels.push(LabelEvaluation::absent(label, n, &metrics));
            }
        }
        r.labels.sort_by_key(|l| l.label);
    }
}

/// The aggregate of one label over the cases.
#[derive(Debug, Clone)]
pub struct LabelAggregate {
    /// Mean per metric over cases (empty results excluded and counted), in [`columns`] order.
    pub metrics: Vec<(MetricKind, Aggregate)>,
    /// The confusion counts summed over cases (for the Dice over all voxels).
    pub counts: ConfusionCounts,
}

/// The [`LabelAggregate`] of every label, by label.
pub fn aggregates(results: &[CaseResult]) -> BTreeMap<u32, LabelAggregate> {
    let cols = columns(results);
    let position = |m: MetricKind| cols.iter().position(|x| *x == m).unwrap_or(cols.len());
    let mut by_label: BTreeMap<u32, (Vec<Vec<Score>>, ConfusionCounts)> = BTreeMap::new();
    for r in results {
        for l in &r.labels {
            let entry = by_label
                .entry(l.label)
                .or_insert_with(|| (vec![Vec::new(); cols.len() + 1], ConfusionCounts::default()));
            entry.1 += l.counts;
            for (m, s) in &l.scores {
                entry.0[position(*m)].push(*s);
            }
        }
    }
    by_label
        .into_iter()
        .map(|(label, (scores, counts))| {
            let metrics = cols
                .iter()
                .zip(&scores)
                .map(|(m, s)| (*m, aggregate(s, *m, EmptyPolicy::Exclude)))
                .collect();
            (label, LabelAggregate { metrics, counts })
        })
        .collect()
}
