//! `dicekit eval`: metrics of predicted against reference label maps.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dicekit_data::{case_name, label_maps_by_case, read_label_map};
use dicekit_metrics::{
    ConfusionCounts, Convention, EmptyPolicy, EmptySide, LabelEvaluation, MetricKind, PeerValue,
    Score, aggregate, centreline_counts_per_label, evaluate_label_maps, labels_present,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{EvalArgs, Format, SpacingFrom};

/// The evaluation of one case.
pub(crate) struct CaseResult {
    /// Case name.
    pub(crate) name: String,
    /// One evaluation per label.
    pub(crate) labels: Vec<LabelEvaluation>,
}

/// Runs `dicekit eval`; bad input prints one line per problem and exits 2.
pub fn run(args: EvalArgs) -> ExitCode {
    let convention = Convention::from(args.convention);
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        eprintln!(
            "error: --tolerance must be a finite number >= 0, got {}",
            args.tolerance
        );
        return ExitCode::from(2);
    }
    if let Some(s) = &args.spacing
        && let Some(bad) = s.iter().find(|v| !(v.is_finite() && **v > 0.0))
    {
        eprintln!("error: --spacing values must be finite and > 0, got {bad}");
        return ExitCode::from(2);
    }
    let (pairs, mut failures) = match pairs(&args.pred, &args.truth) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let bar = ProgressBar::new(pairs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {elapsed} elapsed, ETA {eta}")
            .expect("template"),
    );
    if pairs.len() < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut results = Vec::new();
    let mut voxels = Vec::new();
    for (name, pred, truth) in pairs {
        match evaluate_case(&pred, &truth, &args, convention) {
            Ok((labels, n)) => {
                results.push(CaseResult { name, labels });
                voxels.push(n);
            }
            Err(e) => failures.push(e),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if args.labels.is_none() {
        complete_labels(&mut results, &voxels);
    }
    let out = match args.format {
        Format::Table => table(&results, convention, args.tolerance),
        Format::Json => {
            serde_json::to_string_pretty(&json_rows(&results, convention, args.tolerance))
                .expect("JSON")
                + "\n"
        }
        Format::Csv => csv_rows(&results, convention, args.tolerance),
    };
    // Nothing was evaluated: the errors alone, no empty table.
    if !results.is_empty() {
        print!("{out}");
    }
    for f in &failures {
        eprintln!("error: {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        if !results.is_empty() {
            eprintln!(
                "error: {} of {} cases failed (listed above)",
                failures.len(),
                failures.len() + results.len()
            );
        }
        ExitCode::from(2)
    }
}

/// `(case, pred file, truth file)` triples and the unmatched files (as failure messages).
type Pairs = (Vec<(String, PathBuf, PathBuf)>, Vec<String>);

/// Pairs two files, or two folders matched by name.
fn pairs(pred: &Path, truth: &Path) -> Result<Pairs, String> {
    match (pred.is_dir(), truth.is_dir()) {
        (false, false) => Ok((
            vec![(case_name(truth), pred.to_path_buf(), truth.to_path_buf())],
            vec![],
        )),
        (true, true) => {
            let list = |d: &Path| label_maps_by_case(d).map_err(|e| e.to_string());
            let (p, t) = (list(pred)?, list(truth)?);
            if p.is_empty() {
                return Err(format!(
                    "{}: no label maps (.nii, .nii.gz, .png, .tif, .tiff) in this folder",
                    pred.display()
                ));
            }
            let mut failures = Vec::new();
            let mut out = Vec::new();
            for (name, pf) in &p {
                match t.get(name) {
                    Some(tf) => out.push((name.clone(), pf.clone(), tf.clone())),
                    None => failures.push(format!(
                        "{}: no reference file named `{name}` in {}",
                        pf.display(),
                        truth.display()
                    )),
                }
            }
            for (name, tf) in &t {
                if !p.contains_key(name) {
                    failures.push(format!(
                        "{}: no prediction named `{name}` in {}",
                        tf.display(),
                        pred.display()
                    ));
                }
            }
            Ok((out, failures))
        }
        (true, false) => Err(format!(
            "{} is a folder but {} is not: give two files or two folders",
            pred.display(),
            truth.display()
        )),
        (false, true) => Err(format!(
            "{} is a folder but {} is not: give two files or two folders",
            truth.display(),
            pred.display()
        )),
    }
}

/// Without `--labels`, each case is scored on the labels present in it; then every case gets a
/// row for every label seen in any case (a label in neither of its maps is `Empty(Both)`, as
/// the convention reports it), and a set where no case has any label is scored on label 1. A
/// correct all-background prediction thus stays a row and counts in the aggregates.
fn complete_labels(results: &mut [CaseResult], voxels: &[u64]) {
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

/// The case's evaluations and its number of voxels.
fn evaluate_case(
    pred: &Path,
    truth: &Path,
    args: &EvalArgs,
    convention: Convention,
) -> Result<(Vec<LabelEvaluation>, u64), String> {
    let p = read_label_map(pred).map_err(|e| e.to_string())?;
    let t = read_label_map(truth).map_err(|e| e.to_string())?;
    if p.data.shape() != t.data.shape() {
        return Err(format!(
            "{}: shape {:?} differs from the reference {} {:?}",
            pred.display(),
            p.data.shape(),
            truth.display(),
            t.data.shape()
        ));
    }
    let spacing = match (&args.spacing, args.spacing_from) {
        (Some(s), _) => s.clone(),
        (None, Some(SpacingFrom::Truth)) => t.spacing.clone(),
        (None, Some(SpacingFrom::Pred)) => p.spacing.clone(),
        (None, None) => {
            let close = p.spacing.len() == t.spacing.len()
                && p.spacing
                    .iter()
                    .zip(&t.spacing)
                    .all(|(a, b)| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()));
            if !close {
                return Err(format!(
                    "{}: spacing {:?} differs from the reference {} {:?}; choose with --spacing-from truth|pred or give --spacing",
                    pred.display(),
                    p.spacing,
                    truth.display(),
                    t.spacing
                ));
            }
            t.spacing.clone()
        }
    };
    if spacing.len() != t.data.ndim() {
        return Err(format!(
            "{}: --spacing has {} values but the image has {} axes",
            truth.display(),
            spacing.len(),
            t.data.ndim()
        ));
    }
    let labels = args
        .labels
        .clone()
        .unwrap_or_else(|| labels_present(&p.data.view(), &t.data.view()));
    let mut evals = evaluate_label_maps(
        &p.data.view(),
        &t.data.view(),
        &spacing,
        &labels,
        convention,
        args.tolerance,
    )
    .map_err(|e| format!("{}: {e}", pred.display()))?;
    if args.cl_dice {
        let counts = centreline_counts_per_label(&p.data.view(), &t.data.view(), &labels)
            .map_err(|e| format!("{}: {e}", pred.display()))?;
        for (e, c) in evals.iter_mut().zip(counts) {
            e.scores.push((MetricKind::ClDice, c.cl_dice()));
        }
    }
    Ok((evals, t.data.len() as u64))
}

/// Every metric a table or aggregate can hold, in column order.
const COLUMNS: [MetricKind; 11] = [
    MetricKind::Dice,
    MetricKind::Jaccard,
    MetricKind::Precision,
    MetricKind::Recall,
    MetricKind::VolumeDifference,
    MetricKind::Hausdorff,
    MetricKind::Hausdorff95,
    MetricKind::Assd,
    MetricKind::DirectedAsd,
    MetricKind::Nsd,
    MetricKind::ClDice,
];

/// The metrics present in `results`, in column order.
fn columns(results: &[CaseResult]) -> Vec<MetricKind> {
    COLUMNS
        .into_iter()
        .filter(|m| {
            MetricKind::REPORTED.contains(m)
                || results
                    .iter()
                    .flat_map(|r| &r.labels)
                    .any(|l| l.scores.iter().any(|(k, _)| k == m))
        })
        .collect()
}

fn status(s: Score) -> &'static str {
    match s {
        Score::Value(_) => "ok",
        Score::Empty(EmptySide::Prediction) => "empty_prediction",
        Score::Empty(EmptySide::Reference) => "empty_reference",
        Score::Empty(EmptySide::Both) => "empty_both",
    }
}

/// Mean per (label, metric) over cases, empty results excluded and counted; plus micro Dice
/// from the counts summed over cases.
pub(crate) fn aggregates(
    results: &[CaseResult],
) -> BTreeMap<
    u32,
    (
        Vec<(MetricKind, dicekit_metrics::Aggregate)>,
        ConfusionCounts,
    ),
> {
    let mut by_label: BTreeMap<u32, (BTreeMap<MetricKindKey, Vec<Score>>, ConfusionCounts)> =
        BTreeMap::new();
    for r in results {
        for l in &r.labels {
            let entry = by_label.entry(l.label).or_default();
            entry.1 += l.counts;
            for (m, s) in &l.scores {
                entry.0.entry(MetricKindKey(*m)).or_default().push(*s);
            }
        }
    }
    by_label
        .into_iter()
        .map(|(label, (scores, counts))| {
            let aggs = columns(results)
                .iter()
                .map(|m| {
                    (
                        *m,
                        aggregate(
                            scores.get(&MetricKindKey(*m)).map_or(&[][..], |v| v),
                            *m,
                            EmptyPolicy::Exclude,
                        ),
                    )
                })
                .collect();
            (label, (aggs, counts))
        })
        .collect()
}

/// Orders metrics by their position in the columns.
#[derive(Clone, Copy, PartialEq, Eq)]
struct MetricKindKey(MetricKind);
impl PartialOrd for MetricKindKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for MetricKindKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        let pos = |m: MetricKind| COLUMNS.iter().position(|x| *x == m);
        pos(self.0).cmp(&pos(o.0))
    }
}

fn fmt_score(s: Score) -> String {
    match s {
        Score::Value(v) => format!("{v:.4}"),
        Score::Empty(EmptySide::Prediction) => "empty:pred".into(),
        Score::Empty(EmptySide::Reference) => "empty:ref".into(),
        Score::Empty(EmptySide::Both) => "empty:both".into(),
    }
}

fn table(results: &[CaseResult], convention: Convention, tol: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "convention: {} | NSD tolerance {tol} mm | distances in mm",
        convention.name()
    );
    let header: Vec<&str> = columns(results).iter().map(|m| m.name()).collect();
    let width = 11;
    let _ = write!(out, "{:<24} {:>6}", "case", "label");
    for h in &header {
        let _ = write!(out, " {h:>width$}");
    }
    out.push('\n');
    for r in results {
        for l in &r.labels {
            let _ = write!(out, "{:<24} {:>6}", truncate(&r.name, 24), l.label);
            for (_, s) in &l.scores {
                let _ = write!(out, " {:>width$}", fmt_score(*s));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "\naggregate over {} cases (mean; empty results excluded, count in brackets):",
        results.len()
    );
    for (label, (aggs, counts)) in aggregates(results) {
        let _ = write!(out, "{:<24} {:>6}", "mean", label);
        for (_, a) in &aggs {
            let cell = match (a.mean, a.excluded) {
                (Some(m), 0) => format!("{m:.4}"),
                (Some(m), e) => format!("{m:.4} [{e}]"),
                (None, e) => format!("- [{e}]"),
            };
            let _ = write!(out, " {cell:>width$}");
        }
        out.push('\n');
        let micro = convention
            .dice(&counts)
            .value()
            .map_or("-".to_string(), |v| format!("{v:.4}"));
        let _ = writeln!(
            out,
            "{:<24} {:>6} {micro:>width$}",
            "dice over all voxels", label
        );
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// What the convention's peer reports for a score: the number, or for an empty side its
/// NaN / inf / number / exception (`"nan"`, `"inf"`, `"raises"`).
fn peer_value(s: Score, metric: MetricKind, convention: Convention) -> serde_json::Value {
    let resolved = match s {
        Score::Value(v) => PeerValue::Number(v),
        Score::Empty(side) => convention.empty_value(metric, side),
    };
    match resolved {
        PeerValue::Number(v) if v.is_finite() => serde_json::json!(v),
        PeerValue::Number(v) if v.is_nan() => "nan".into(),
        PeerValue::Number(_) | PeerValue::Inf => "inf".into(),
        PeerValue::NaN => "nan".into(),
        PeerValue::Raises => "raises".into(),
    }
}

/// One output row: case, label, metric, value, status and the peer's value.
type Record = (
    String,
    u32,
    &'static str,
    Option<f64>,
    String,
    serde_json::Value,
);

/// Records `(case, label, metric, score)` including the aggregate rows (case `(mean)`).
fn records(results: &[CaseResult], convention: Convention) -> Vec<Record> {
    let mut rows = Vec::new();
    for r in results {
        for l in &r.labels {
            for (m, s) in &l.scores {
                rows.push((
                    r.name.clone(),
                    l.label,
                    m.name(),
                    s.value(),
                    status(*s).to_string(),
                    peer_value(*s, *m, convention),
                ));
            }
        }
    }
    for (label, (aggs, counts)) in aggregates(results) {
        for (m, a) in aggs {
            rows.push((
                "(mean)".into(),
                label,
                m.name(),
                a.mean,
                format!("mean of {} (excluded {})", a.used, a.excluded),
                a.mean
                    .map_or(serde_json::Value::Null, |v| serde_json::json!(v)),
            ));
        }
        let dice = convention.dice(&counts);
        rows.push((
            "(all voxels)".into(),
            label,
            "dice",
            dice.value(),
            "dice of the summed counts".into(),
            peer_value(dice, MetricKind::Dice, convention),
        ));
    }
    rows
}

/// One JSON object per case x label x metric, then the aggregate rows.
pub(crate) fn json_rows(
    results: &[CaseResult],
    convention: Convention,
    tol: f64,
) -> Vec<serde_json::Value> {
    records(results, convention)
        .into_iter()
        .map(|(case, label, metric, value, status, peer)| {
            serde_json::json!({
                "case": case, "label": label, "metric": metric, "value": value, "status": status,
                "peer_value": peer, "convention": convention.name(), "tolerance_mm": tol,
            })
        })
        .collect()
}

/// The CSV of [`json_rows`], with a header.
pub(crate) fn csv_rows(results: &[CaseResult], convention: Convention, tol: f64) -> String {
    let mut out =
        String::from("case,label,metric,value,status,peer_value,convention,tolerance_mm\n");
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for (case, label, metric, value, status, peer) in records(results, convention) {
        let v = value.map_or(String::new(), |v| v.to_string());
        let peer = match peer {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let _ = writeln!(
            out,
            "{},{label},{metric},{v},{},{peer},{},{tol}",
            quote(&case),
            quote(&status),
            convention.name()
        );
    }
    out
}
