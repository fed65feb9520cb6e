//! The forms `dicekit eval` prints: a table for reading, and one record per case x label x
//! metric (JSON or CSV) for pandas.
use std::fmt::Write as _;

use dicekit_metrics::{Convention, EmptySide, MetricKind, PeerValue, Score};

use crate::{CaseResult, EvalError, aggregates, columns};

/// One output row.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Case name; `(mean)` for the mean over cases, `(all voxels)` for the Dice of the summed
    /// counts.
    pub case: String,
    /// Label.
    pub label: u32,
    /// Metric name ([`MetricKind::name`]).
    pub metric: &'static str,
    /// dicekit's value; `None` where the metric is undefined (an empty side).
    pub value: Option<f64>,
    /// `ok`, `empty_prediction`, `empty_reference`, `empty_both`, or for the aggregate rows how
    /// they were made.
    pub status: String,
    /// What the convention's peer reports: the number, or `"nan"`, `"inf"`, `"raises"`.
    pub peer_value: serde_json::Value,
}

fn status(s: Score) -> &'static str {
    match s {
        Score::Value(_) => "ok",
        Score::Empty(EmptySide::Prediction) => "empty_prediction",
        Score::Empty(EmptySide::Reference) => "empty_reference",
        Score::Empty(EmptySide::Both) => "empty_both",
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

/// The per-case, per-label table and the aggregates, for reading.
pub fn table(results: &[CaseResult], convention: Convention, tol: f64) -> String {
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
    for (label, agg) in aggregates(results) {
        let _ = write!(out, "{:<24} {:>6}", "mean", label);
        for (_, a) in &agg.metrics {
            let cell = match (a.mean, a.excluded) {
                (Some(m), 0) => format!("{m:.4}"),
                (Some(m), e) => format!("{m:.4} [{e}]"),
                (None, e) => format!("- [{e}]"),
            };
            let _ = write!(out, " {cell:>width$}");
        }
        out.push('\n');
        let micro = convention
            .dice(&agg.counts)
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

/// Every case x label x metric, then the aggregate rows: `(mean)` per label and metric, and
/// `(all voxels)`, the Dice of the counts summed over cases.
pub fn records(results: &[CaseResult], convention: Convention) -> Vec<Record> {
    let mut rows = Vec::new();
    for r in results {
        for l in &r.labels {
            for (m, s) in &l.scores {
                rows.push(Record {
                    case: r.name.clone(),
                    label: l.label,
                    metric: m.name(),
                    value: s.value(),
                    status: status(*s).to_string(),
                    peer_value: peer_value(*s, *m, convention),
                });
            }
        }
    }
    for (label, agg) in aggregates(results) {
        for (m, a) in agg.metrics {
            rows.push(Record {
                case: "(mean)".into(),
                label,
                metric: m.name(),
                value: a.mean,
                status: format!("mean of {} (excluded {})", a.used, a.excluded),
                peer_value: a
                    .mean
                    .map_or(serde_json::Value::Null, |v| serde_json::json!(v)),
            });
        }
        let dice = convention.dice(&agg.counts);
        rows.push(Record {
            case: "(all voxels)".into(),
            label,
            metric: "dice",
            value: dice.value(),
            status: "dice of the summed counts".into(),
            peer_value: peer_value(dice, MetricKind::Dice, convention),
        });
    }
    rows
}

/// One JSON object per [`Record`], with the convention and the NSD tolerance.
pub fn json_rows(
    results: &[CaseResult],
    convention: Convention,
    tol: f64,
) -> Vec<serde_json::Value> {
    records(results, convention)
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "case": r.case, "label": r.label, "metric": r.metric, "value": r.value,
                "status": r.status, "peer_value": r.peer_value,
                "convention": convention.name(), "tolerance_mm": tol,
            })
        })
        .collect()
}

/// The rows of [`json_rows`] as CSV, with a header (empty cells where the value is undefined).
///
/// # Errors
/// [`EvalError::Write`] if the CSV writer fails (it writes into memory).
pub fn csv_rows(
    results: &[CaseResult],
    convention: Convention,
    tol: f64,
) -> Result<String, EvalError> {
    let failed = |e: csv::Error| EvalError::Write(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    let tol = tol.to_string();
    w.write_record([
        "case",
        "label",
        "metric",
        "value",
        "status",
        "peer_value",
        "convention",
        "tolerance_mm",
    ])
    .map_err(failed)?;
    for r in records(results, convention) {
        let value = r.value.map_or(String::new(), |v| v.to_string());
        let peer = match r.peer_value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        w.write_record([
            r.case.as_str(),
            &r.label.to_string(),
            r.metric,
            &value,
            &r.status,
            &peer,
            convention.name(),
            &tol,
        ])
        .map_err(failed)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| EvalError::Write(e.error().to_string()))?;
    String::from_utf8(bytes).map_err(|e| EvalError::Write(e.to_string()))
}
