//! The report of a training run, as a folder a reviewer can open:
//!
//! ```text
//! report/
//!   index.md            run summary, aggregate and per-case tables, links to everything below
//!   metrics.json, .csv  every case x label x metric (the rows of `dicekit eval`), the aggregates
//!                       and the calibration figures
//!   loss.png            mean training loss and each loss term per epoch
//!   dice.png            validation Dice per class and their mean
//!   reliability.png     top-label reliability diagram (ECE, MCE, Brier)
//!   reliability_<class>.png   one-vs-rest diagram of each foreground class
//!   overlays/best_*.png, worst_*.png   prediction (red) and truth (green) outlined on the image
//! ```
//!
//! ```no_run
//! use std::path::Path;
//! use dicekit_report::{ReportOptions, write_report};
//!
//! let index = write_report(Path::new("runs/demo"), &ReportOptions::default())?;
//! println!("report: {}", index.display());
//! # Ok::<(), dicekit_report::ReportError>(())
//! ```
mod froc;
mod reliability;
mod run_report;
mod template;

pub use froc::{froc_chart, write_froc_plots};
pub use reliability::reliability_diagram;
pub use template::{TemplateError, render};

pub use run_report::{ReportOptions, write_report};

/// A report that could not be written; its `Display` is one line naming the run, file or case.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An option is out of range.
    #[error("--tolerance must be a finite number >= 0 and --bins at least 1")]
    Options,
    /// The run, its data, a case or an output file (the message names it).
    #[error("{0}")]
    Run(String),
}
