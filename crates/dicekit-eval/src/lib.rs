//! Evaluation of label-map files: what `dicekit eval` computes, callable from Rust.
//!
//! ```text
//! pred, truth (two files or two folders)
//!   -> pair_inputs        cases matched by name; unmatched files are failures, not silence
//!   -> evaluate_case      read both maps, check shape and spacing, score every label
//!   -> complete_labels    every case gets a row for every label seen in the set
//!   -> aggregates         mean per (label, metric), empty results excluded and counted,
//!                         and the Dice of the counts summed over cases
//!   -> table / json_rows / csv_rows
//! ```
//!
//! [`evaluate_files`] runs the whole chain. Every value follows a named peer
//! [`Convention`](dicekit_metrics::Convention); the rows carry the peer's own value of an empty
//! case (`peer_value`) beside dicekit's status.
//!
//! ```no_run
//! use std::path::Path;
//! use dicekit_eval::{EvalOptions, evaluate_files};
//!
//! let evaluation = evaluate_files(Path::new("pred/"), Path::new("truth/"), &EvalOptions::default(), |_, _| {})?;
//! for failure in &evaluation.failures {
//!     eprintln!("error: {failure}");
//! }
//! print!("{}", evaluation.table());
//! # Ok::<(), dicekit_eval::EvalError>(())
//! ```
mod aggregate;
mod brats;
mod case;
mod error;
mod froc;
mod lesions;
mod output;
mod pairing;

pub use aggregate::{LabelAggregate, aggregates, columns, complete_labels};
pub use brats::{BratsCase, BratsEvaluationSet, BratsProtocol, brats_case, evaluate_brats_files};
pub use case::{CaseResult, EvalOptions, SpacingSource, evaluate_case, read_pair};
pub use error::EvalError;
pub use froc::{
    Candidates, CaseDetections, FrocOptions, LabelFroc, ProbabilityChannels, detections,
    froc_convention_name, label_froc, probability_channel, probability_files, rate_name,
    read_probabilities,
};
pub use lesions::{
    LabelLesions, LesionCaseResult, LesionEvalOptions, LesionEvaluationSet, LesionListRow, SizeBin,
    SizeUnit, evaluate_case_lesions, evaluate_lesion_files, lesions_of_maps,
};
pub use output::{Record, csv_rows, json_rows, records, table};
pub use pairing::{CasePair, Pairing, pair_inputs};

use std::path::Path;

/// The evaluation of a set of cases: the scored cases, and the cases that could not be scored.
#[derive(Debug)]
pub struct Evaluation {
    /// Scored cases, in case-name order, each with a row for every label of the set.
    pub results: Vec<CaseResult>,
    /// Unmatched files and cases that failed to read or score, one error each.
    pub failures: Vec<EvalError>,
    /// The options the cases were scored with.
    pub options: EvalOptions,
}

impl Evaluation {
    /// The per-case table and the aggregates, for reading.
    pub fn table(&self) -> String {
        table(
            &self.results,
            self.options.convention,
            self.options.tolerance,
        )
    }

    /// One JSON object per case x label x metric, then the aggregate rows.
    pub fn json_rows(&self) -> Vec<serde_json::Value> {
        json_rows(
            &self.results,
            self.options.convention,
            self.options.tolerance,
        )
    }

    /// The rows of [`json_rows`](Self::json_rows) as CSV, with a header.
    ///
    /// # Errors
    /// [`EvalError::Write`] if the CSV writer fails.
    pub fn csv_rows(&self) -> Result<String, EvalError> {
        csv_rows(
            &self.results,
            self.options.convention,
            self.options.tolerance,
        )
    }
}

/// Evaluates two label-map files, or two folders of them matched by case name: every case is
/// read, checked and scored under `options`, then (without `options.labels`) completed to the
/// labels of the whole set. Cases run in parallel in batches of one per worker thread (so
/// memory stays bounded by the thread count, not the number of cases); the results keep
/// case-name order. `on_case(done, total)` is called before the first case and after each case (a
/// progress bar), from the worker threads.
///
/// # Errors
/// [`EvalError`] when the inputs cannot be paired at all (a folder against a file, a folder
/// without label maps). A case that fails is a [`Evaluation::failures`] entry, and the other
/// cases are still scored.
pub fn evaluate_files(
    pred: &Path,
    truth: &Path,
    options: &EvalOptions,
    on_case: impl Fn(usize, usize) + Sync,
) -> Result<Evaluation, EvalError> {
    options.validate()?;
    let Pairing { pairs, unmatched } = pair_inputs(pred, truth)?;
    let (scored, failures) = pairing::score_pairs(&pairs, unmatched, on_case, |pair| {
        evaluate_case(&pair.pred, &pair.truth, options)
    });
    let mut results = Vec::with_capacity(scored.len());
    let mut voxels = Vec::with_capacity(scored.len());
    for (name, (labels, n)) in scored {
        results.push(CaseResult { name, labels });
        voxels.push(n);
    }
    if options.labels.is_none() {
        complete_labels(&mut results, &voxels);
    }
    Ok(Evaluation {
        results,
        failures,
        options: options.clone(),
    })
}
