//! Every command-line type, in one place.
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Segmentation on heavily imbalanced data: Dice-family losses, metrics with named peer conventions.
#[derive(Debug, Parser)]
#[command(
    name = "dicekit",
    version,
    about,
    long_about = None,
    after_help = "Exit codes: 0 ok; 1 internal error (a bug, or writing an output failed); 2 bad input or config (one line on stderr names the file or field; with folders, the other cases are still done); 130 interrupted (Ctrl-C; a checkpoint is saved)."
)]
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
    /// Write a seeded synthetic dataset (images/, masks/, ...) and print its foreground fractions:
    /// fundus (microaneurysms, ~0.05 %), ct-phantom (organs and small tumours, 3D),
    /// wetlands (4 bands, clouds in clouds/), lesion-texture (image label in labels.csv).
    Synth(SynthArgs),
    /// Weight map of a label map: the U-Net map w_c + w0 exp(-(d1 + d2)^2 / (2 sigma^2)), or a
    /// band 1 + (w - 1) exp(-d^2 / (2 sigma^2)) around boundaries; written as .tif (2D) or .nii.gz.
    Weights(WeightsArgs),
    /// Train a U-Net from a TOML config (see configs/); logs every loss term and the validation
    /// Dice per class, writes best/last checkpoints, resumes with --resume. Ctrl-C saves the weights.
    Train(TrainArgs),
    /// The quick start: train a small U-Net on generated fundus images with microaneurysms
    /// (about 0.05 % foreground) and print where the results are.
    Demo(DemoArgs),
    /// Predict label maps (and probabilities, overlays) with a trained run: sliding window with
    /// Gaussian blending, optional flip test-time augmentation, written in the input's format.
    Predict(PredictArgs),
    /// Report on a training run: metrics.json/.csv on the validation set, loss and Dice curves,
    /// reliability diagrams (ECE, MCE, Brier), overlays of the best and worst cases, index.md.
    Report(ReportArgs),
    /// Run an experiment (train, evaluate on held-out data, write report.md, PNG plots and
    /// results.json): attention (soft-mask attention variants), imbalance (losses against the
    /// foreground fraction), clouds (ignore vs background under clouds), rare-classes (CE vs Dice
    /// vs generalized Dice per class), calibration (Dice share vs ECE), boundary (weight maps).
    Experiment(ExperimentArgs),
}

/// A command-line choice over a library enum with `name()` and `description()`: a newtype
/// whose possible values are the names, each with its description as help.
macro_rules! library_choice {
    ($(#[$meta:meta])* $arg:ident($ty:ty): $($variant:expr),+ $(,)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $arg(pub $ty);

        impl ValueEnum for $arg {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($arg($variant)),+]
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.0.name()).help(self.0.description()))
            }
        }
    };
}

library_choice! {
    /// `dicekit experiment`'s name argument.
    ExperimentName(dicekit_experiments::Experiment):
        dicekit_experiments::Experiment::Attention,
        dicekit_experiments::Experiment::Imbalance,
        dicekit_experiments::Experiment::Clouds,
        dicekit_experiments::Experiment::RareClasses,
        dicekit_experiments::Experiment::Calibration,
        dicekit_experiments::Experiment::Boundary,
}

library_choice! {
    /// `dicekit synth`'s scene argument.
    SceneName(dicekit_data::synth::Scene):
        dicekit_data::synth::Scene::Fundus,
        dicekit_data::synth::Scene::CtPhantom,
        dicekit_data::synth::Scene::Wetlands,
        dicekit_data::synth::Scene::LesionTexture,
}

/// Arguments of `dicekit experiment`.
#[derive(Debug, clap::Args)]
pub struct ExperimentArgs {
    /// Which experiment.
    #[arg(value_enum)]
    pub name: ExperimentName,
    /// A small variant that runs in a minute or two (to exercise the code, not to conclude).
    #[arg(long)]
    pub quick: bool,
    /// Seeds per variant.
    #[arg(long, default_value_t = 3)]
    pub seeds: usize,
    /// Output folder [default: runs/experiment-<name>[-quick]]. Finished runs in it are reused.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Arguments of `dicekit report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A training run's output folder (holding config.toml, state.json and checkpoints/).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Checkpoint: best, last, or a path to a .bpk file.
    #[arg(long, default_value = "best", value_name = "best|last|FILE")]
    pub checkpoint: dicekit_train::Checkpoint,
    /// Output folder [default: <run>/report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Take [data] (validation images) from this config instead of the run's (a moved run).
    #[arg(long, value_name = "PATH")]
    pub data_config: Option<PathBuf>,
    /// Average over flips of every spatial axis.
    #[arg(long)]
    pub tta: bool,
    /// Peer convention of HD95, ASSD and NSD (as in `dicekit eval`).
    #[arg(long, value_enum, default_value_t = ConventionArg::Monai)]
    pub convention: ConventionArg,
    /// NSD tolerance in mm.
    #[arg(long, default_value_t = 1.0, value_name = "MM")]
    pub tolerance: f64,
    /// Overlays of the best and of the worst cases (each).
    #[arg(long, default_value_t = 2)]
    pub overlays: usize,
    /// Bins of the reliability diagrams.
    #[arg(long, default_value_t = 15)]
    pub bins: usize,
    /// Also score the centreline Dice (clDice) of each label (skeletons by thinning).
    #[arg(long)]
    pub cl_dice: bool,
    /// No progress bar.
    /// Leave out the lesion section (connected components found / missed / false by size, and
    /// the FROC of the network's probabilities).
    #[arg(long)]
    pub no_lesions: bool,
    /// Upper edges of the lesion-size bins (mm^3 for NIfTI, pixels for 2D images), ascending.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "MM3,..",
        default_value = "10,100,1000"
    )]
    pub size_bins: Vec<f64>,
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `dicekit predict`.
#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// A training run's output folder (holding config.toml and checkpoints/).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// Checkpoint: best, last, or a path to a .bpk file.
    #[arg(long, default_value = "best", value_name = "best|last|FILE")]
    pub checkpoint: dicekit_train::Checkpoint,
    /// An image, or a folder of images.
    #[arg(long, value_name = "PATH")]
    pub input: PathBuf,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Average over flips of every spatial axis.
    #[arg(long)]
    pub tta: bool,
    /// Also write class probabilities to probabilities/ (.tif for 2D, .nii.gz for NIfTI inputs).
    #[arg(long)]
    pub probabilities: bool,
    /// Also write overlays/<case>.png (2D): prediction outline in red, reference in green.
    #[arg(long)]
    pub overlay: bool,
    /// Reference label map (or folder matched by name): for --overlay, and the mask an oracle
    /// attention network ([task] attention = "oracle") pools with (refused otherwise).
    #[arg(long, value_name = "PATH")]
    pub truth: Option<PathBuf>,
}

/// Arguments of `dicekit train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// The training config (TOML).
    #[arg(long, value_name = "PATH")]
    pub config: PathBuf,
    /// Continue the run in the config's output folder from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Do not write the report (`dicekit report`) after training.
    #[arg(long)]
    pub no_report: bool,
}

/// Arguments of `dicekit demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Output folder.
    #[arg(long, default_value = "runs/demo", value_name = "DIR")]
    pub out: PathBuf,
    /// Epochs (the demo's default fits in a few minutes on 2 cores).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
}

/// Arguments of `dicekit synth`.
#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Scene.
    #[arg(value_enum)]
    pub scene: SceneName,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of images.
    #[arg(long, default_value_t = 8)]
    pub count: usize,
    /// Seed; the same seed writes the same files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Target foreground fraction: the fundus scene's microaneurysms (default 0.0005), or the
    /// lesion's share of the image in lesion-texture (its harder regime: look-alike distractors).
    #[arg(long, value_name = "FRACTION")]
    pub foreground: Option<f64>,
    /// Spatial size, comma-separated [default: 512,512 fundus; 96,96,48 ct-phantom; 256,256 wetlands; 96,96 lesion-texture].
    #[arg(long, value_delimiter = ',', value_name = "N,..")]
    pub size: Option<Vec<usize>>,
}

/// Which weight map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightKind {
    /// U-Net (Ronneberger et al. 2015): class balance plus a border term between touching objects.
    Unet,
    /// A Gaussian band around label boundaries.
    Boundary,
}

/// Arguments of `dicekit weights`.
#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    /// Label map to weigh.
    #[arg(long, value_name = "PATH")]
    pub mask: PathBuf,
    /// Output file (.tif for 2D, .nii / .nii.gz).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Which map.
    #[arg(long, value_enum, default_value_t = WeightKind::Unet)]
    pub kind: WeightKind,
    /// U-Net border weight w0.
    #[arg(long, default_value_t = 10.0)]
    pub w0: f64,
    /// Width sigma of the border term (U-Net) or of the band (boundary), in mm (or pixels with --pixels).
    #[arg(long, default_value_t = 5.0)]
    pub sigma: f64,
    /// Weight on the boundary for --kind boundary.
    #[arg(long, default_value_t = 5.0)]
    pub band_weight: f64,
    /// Label to ignore (weight 0).
    #[arg(long)]
    pub ignore: Option<u32>,
    /// Measure distances in pixels instead of mm.
    #[arg(long)]
    pub pixels: bool,
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
empty_both), never as a number; the JSON and CSV peer_value column says what the convention's \
peer reports there (a number, nan, inf or raises); aggregates exclude them and say how many."
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
    #[arg(long, value_enum, default_value_t = ConventionArg::Monai)]
    pub convention: ConventionArg,
    /// Whose header spacing to use when the prediction's and the reference's differ (without
    /// it, differing spacings are an error).
    #[arg(long, value_enum, value_name = "SIDE")]
    pub spacing_from: Option<SpacingFrom>,
    /// NSD tolerance in mm.
    #[arg(long, default_value_t = 1.0, value_name = "MM")]
    pub tolerance: f64,
    /// Also score the centreline Dice (clDice) of each label, on skeletons by thinning
    /// (scikit-image's): what Dice misses on vessels and other tubular structures.
    #[arg(long)]
    pub cl_dice: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Lesion-wise evaluation instead of the voxel metrics: per case and label the reference and
    /// predicted lesions (connected components), found / missed / false, recall, precision, F1,
    /// panoptic quality, mean lesion Dice, by lesion size, and the totals over the cases.
    #[arg(long)]
    pub lesions: bool,
    /// With --lesions: which voxels touch (4 or 8 in 2D, 6, 18 or 26 in 3D) [default: 8 / 26].
    #[arg(long, value_name = "N", requires = "lesions")]
    pub connectivity: Option<usize>,
    /// With --lesions: the maps hold instance ids (0 background, every other value one lesion,
    /// touching lesions kept apart), scored as they are instead of connected components;
    /// reported as label 1.
    #[arg(long, requires = "lesions")]
    pub instances: bool,
    /// With --lesions: how predicted lesions are matched to reference lesions.
    #[arg(long = "match", value_enum, default_value_t = MatchArg::Any, requires = "lesions")]
    pub matching: MatchArg,
    /// With --lesions: the threshold of --match iou, iou-strict, bipartite-iou and
    /// bipartite-dice [default: 0.5; 1e-6 for bipartite-dice].
    #[arg(long, value_name = "T", requires = "lesions")]
    pub match_threshold: Option<f64>,
    /// With --lesions: upper edges of the lesion-size bins in mm^3 (pixels without spacing),
    /// ascending; the last bin is open.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "MM3,..",
        default_value = "10,100,1000",
        requires = "lesions"
    )]
    pub size_bins: Vec<f64>,
    /// With --lesions: the unit of --size-bins.
    #[arg(long, value_enum, default_value_t = SizeUnitArg::Mm3, requires = "lesions")]
    pub size_unit: SizeUnitArg,
    /// With --lesions: also the mean ASSD and HD95 of the matched lesions (panoptica's
    /// per-lesion geometry).
    #[arg(long, requires = "lesions")]
    pub lesion_distances: bool,
    /// With --lesions: also write every lesion to this CSV file: each reference lesion (size,
    /// bounding box, found or missed, its match's Dice and IoU, with --probabilities its best
    /// candidate score) and each predicted lesion (matched or false positive).
    #[arg(long, value_name = "FILE", requires = "lesions")]
    pub lesion_list: Option<PathBuf>,
    /// With --lesions: probability maps for FROC, a file or a folder matched to the cases by
    /// name (what `dicekit predict --probabilities` writes: .tif, .nii.gz; one channel, or one
    /// per class). Adds per label the FROC score and the lesion sensitivity at each FP rate, for
    /// all lesions and by size.
    #[arg(long, value_name = "PATH", requires = "lesions")]
    pub probabilities: Option<PathBuf>,
    /// With --probabilities: FROC candidates, connected components of p >= --froc-threshold
    /// (a hit on every lesion they overlap) or local maxima (MONAI ProbNMS, a hit on the lesion
    /// under the point).
    #[arg(long, value_enum, default_value_t = FrocCandidatesArg::Components, requires = "probabilities")]
    pub froc_candidates: FrocCandidatesArg,
    /// With --probabilities: the lowest probability of a candidate (components: p >= T;
    /// maxima: p > T).
    #[arg(
        long,
        default_value_t = 0.1,
        value_name = "T",
        requires = "probabilities"
    )]
    pub froc_threshold: f64,
    /// With --froc-candidates components: a component's score.
    #[arg(long, value_enum, default_value_t = FrocScoreArg::Max, requires = "probabilities")]
    pub froc_score: FrocScoreArg,
    /// With --froc-candidates maxima: the suppression box around each maximum, in voxels.
    #[arg(
        long,
        default_value_t = 5,
        value_name = "N",
        requires = "probabilities"
    )]
    pub froc_box: usize,
    /// With --froc-candidates maxima: MONAI ProbNMS's sigma, as MONAI 1.6.1 applies it (a 2D
    /// map is not smoothed; a 3D map only along its last axis; see docs/conventions.md).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "S",
        requires = "probabilities"
    )]
    pub froc_sigma: f64,
    /// With --probabilities: how the curve is formed and read (see docs/conventions.md).
    #[arg(long, value_enum, default_value_t = FrocConventionArg::RocInterp, requires = "probabilities")]
    pub froc_convention: FrocConventionArg,
    /// With --probabilities: false positives per image at which the sensitivity is read; the
    /// FROC score is their mean [default: the Retinopathy Online Challenge's 1/8 .. 8].
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "R,..",
        default_value = "0.125,0.25,0.5,1,2,4,8",
        requires = "probabilities"
    )]
    pub froc_rates: Vec<f64>,
    /// With --probabilities: which channel scores label L (auto: a one-channel map scores the
    /// one label, several channels are read as class).
    #[arg(long, value_enum, default_value_t = ChannelsArg::Auto, requires = "probabilities")]
    pub probability_channels: ChannelsArg,
    /// With --probabilities: write the FROC curves here (froc_label<L>.png and .svg, all
    /// lesions and each size bin, and froc_curves.csv).
    #[arg(long, value_name = "DIR", requires = "probabilities")]
    pub froc_plots: Option<PathBuf>,
    /// A BraTS challenge's lesion-wise scores instead: per case and region the numbers of the
    /// challenge's evaluator (2023: the lesion-wise script; 2025: BraTS_evaluation 0.0.10),
    /// then their means over the cases.
    #[arg(long, value_enum, value_name = "CHALLENGE", conflicts_with = "lesions")]
    pub brats: Option<BratsArg>,
    /// With --brats 2025 tasks: which BraTS_evaluation parser reads the summary (mets: misses of
    /// large lesions and every false positive count as Dice 0 / HD95 373; seg: matched pairs
    /// only).
    #[arg(long, value_enum, default_value_t = BratsParserArg::Mets, requires = "brats")]
    pub brats_parser: BratsParserArg,
}

/// The BraTS evaluators of `dicekit eval --brats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BratsArg {
    /// BraTS 2023 glioma (BraTS-GLI: dilation 3, lesions <= 50 mm^3 dropped).
    #[value(name = "2023-gli")]
    Gli2023,
    /// BraTS 2023 sub-Saharan Africa (BraTS-SSA: as GLI).
    #[value(name = "2023-ssa")]
    Ssa2023,
    /// BraTS 2023 meningioma (BraTS-MEN: dilation 1, <= 50 mm^3 dropped).
    #[value(name = "2023-men")]
    Men2023,
    /// BraTS 2023 paediatric (BraTS-PED: as GLI).
    #[value(name = "2023-ped")]
    Ped2023,
    /// BraTS 2023 metastases (BraTS-MET: dilation 1, <= 2 mm^3 dropped).
    #[value(name = "2023-met")]
    Met2023,
    /// BraTS 2025 adult glioma (config gli).
    #[value(name = "2025-gli")]
    Gli2025,
    /// BraTS 2025 metastases (config mets).
    #[value(name = "2025-mets")]
    Mets2025,
    /// BraTS 2025 paediatric (config ped).
    #[value(name = "2025-ped")]
    Ped2025,
    /// BraTS 2025 meningioma radiotherapy (config MenRT).
    #[value(name = "2025-men-rt")]
    MenRt2025,
    /// BraTS 2025 pre-operative meningioma (config MenPre).
    #[value(name = "2025-men-pre")]
    MenPre2025,
    /// BraTS 2025 generalisability (config GoAT).
    #[value(name = "2025-goat")]
    GoAt2025,
}

/// BraTS_evaluation's parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BratsParserArg {
    /// parse_mets_results with the CLI defaults (20 mm^3, Dice 0.1).
    Mets,
    /// parse_seg_results.
    Seg,
}

/// The unit of lesion-size bins (`dicekit_eval::SizeUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SizeUnitArg {
    /// mm^3 (pixels for images without spacing).
    Mm3,
    /// Voxels (pixels), whatever the spacing.
    Voxels,
}

/// FROC candidate sources (`dicekit_eval::Candidates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrocCandidatesArg {
    /// Connected components of p >= threshold, scored by their max (or mean) probability.
    Components,
    /// Local maxima (MONAI ProbNMS).
    Maxima,
}

/// How a component candidate is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrocScoreArg {
    /// Its highest probability.
    Max,
    /// Its mean probability.
    Mean,
}

/// FROC conventions (`dicekit_metrics::FrocConvention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FrocConventionArg {
    /// Retinopathy Online Challenge / e-ophtha curve, read by linear interpolation (= MONAI's
    /// reading).
    RocInterp,
    /// The same curve, read as the best operating point at or below each rate.
    RocStep,
    /// MONAI 1.6 LesionFROC (compute_froc_curve_data drops the lowest distinct score).
    Monai,
}

/// Which probability channel scores which label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelsArg {
    /// One channel: the one label; several: as class.
    Auto,
    /// Channel L is label L (softmax; background in channel 0).
    Class,
    /// Channel L-1 is label L (sigmoid; one channel per foreground label).
    Foreground,
}

/// How `dicekit eval --lesions` matches lesions (`dicekit_metrics::MatchingRule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatchArg {
    /// Any overlap: a reference lesion touched by a prediction is found (detection studies).
    Any,
    /// Greedy one-to-one by IoU >= threshold (panoptica's NaiveThresholdMatching).
    Iou,
    /// IoU > threshold (MONAI compute_panoptic_quality).
    IouStrict,
    /// One-to-one maximising the total IoU among pairs >= threshold (panoptica MaxBipartiteMatching).
    BipartiteIou,
    /// One-to-one maximising the total Dice among pairs >= threshold (BraTS 2025).
    BipartiteDice,
}

/// Which file's header spacing `dicekit eval` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpacingFrom {
    /// The reference's.
    Truth,
    /// The prediction's.
    Pred,
}

/// The peer conventions of `dicekit_metrics::Convention`, as command-line choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConventionArg {
    /// MONAI 1.6.
    Monai,
    /// DeepMind surface-distance.
    Deepmind,
    /// MedPy 0.5.
    Medpy,
    /// seg-metrics 1.2.
    SegMetrics,
    /// MetricsReloaded.
    MetricsReloaded,
}

impl From<ConventionArg> for dicekit_metrics::Convention {
    fn from(c: ConventionArg) -> Self {
        use dicekit_metrics::Convention as C;
        match c {
            ConventionArg::Monai => C::Monai,
            ConventionArg::Deepmind => C::DeepMind,
            ConventionArg::Medpy => C::MedPy,
            ConventionArg::SegMetrics => C::SegMetrics,
            ConventionArg::MetricsReloaded => C::MetricsReloaded,
        }
    }
}
