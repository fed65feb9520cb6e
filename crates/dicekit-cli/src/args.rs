//! Every command-line type, in one place.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Segmentation on heavily imbalanced data: Dice-family losses, metrics with named peer conventions.
#[derive(Debug, Parser)]
#[command(name = "dicekit", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare predicted label maps with reference label maps: Dice, IoU, precision, recall,
    /// volume difference, HD, HD95, ASSD and NSD per case and label, and their aggregate.
    Eval(EvalArgs),
}

/// Output formats of `dicekit eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A per-case, per-label table and the aggregate, for reading.
    Table,
    /// A JSON array of records, one per case x label x metric (`pandas.read_json(path)`).
    Json,
    /// CSV, one row per case x label x metric (`pandas.read_csv(path)`).
    Csv,
}

/// Arguments of `dicekit eval`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Conventions (--convention): monai (default; MONAI 1.6: voxel-face boundaries, \
HD95 = larger of the two directed 95th percentiles, pooled ASSD, NSD by voxel counts), deepmind \
(surface-distance: surfel areas), medpy (pooled HD95), seg-metrics (26-connected contours), \
metrics-reloaded. Empty masks are reported as such (status empty_prediction / empty_reference / \
empty_both), never as a number; aggregates exclude them and say how many."
)]
pub struct EvalArgs {
    /// Predicted label map, or a folder of them (.nii, .nii.gz, .png, .tif, .tiff).
    #[arg(long, value_name = "PATH")]
    pub pred: PathBuf,
    /// Reference label map, or a folder matched to --pred by file name.
    #[arg(long, value_name = "PATH")]
    pub truth: PathBuf,
    /// Labels to score, comma-separated [default: every non-zero label present].
    #[arg(long, value_delimiter = ',', value_name = "L,..")]
    pub labels: Option<Vec<u32>>,
    /// Voxel spacing in mm per axis, comma-separated [default: from the reference's header; 1 for PNG/TIFF].
    #[arg(long, value_delimiter = ',', value_name = "MM,..")]
    pub spacing: Option<Vec<f64>>,
    /// Peer convention for boundaries, HD95, ASSD and NSD.
    #[arg(long, default_value = "monai", value_parser = ["monai", "deepmind", "medpy", "seg-metrics", "metrics-reloaded"])]
    pub convention: String,
    /// NSD tolerance in mm.
    #[arg(long, default_value_t = 1.0, value_name = "MM")]
    pub tolerance: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
