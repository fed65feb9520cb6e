//! `dicekit eval`: metrics of predicted against reference label maps ([`dicekit_eval`]).
use std::process::ExitCode;

use dicekit_eval::{
    BratsEvaluationSet, BratsProtocol, Candidates, EvalError, EvalOptions, Evaluation, FrocOptions,
    LesionEvalOptions, LesionEvaluationSet, ProbabilityChannels, SizeUnit, SpacingSource,
    evaluate_brats_files, evaluate_files, evaluate_lesion_files,
};
use dicekit_metrics::{
    Brats2023Challenge, Brats2025Parser, BratsTask, ComponentScore, Connectivity, Convention,
    FrocConvention, MatchingRule, PairMetric, ProbNms,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{
    BratsArg, BratsParserArg, ChannelsArg, EvalArgs, Format, FrocCandidatesArg, FrocConventionArg,
    FrocScoreArg, MatchArg, SizeUnitArg, SpacingFrom,
};

/// Runs `dicekit eval`; bad input prints one line per problem and exits 2.
pub fn run(args: EvalArgs) -> ExitCode {
    let options = EvalOptions {
        spacing: args.spacing.clone(),
        spacing_from: args.spacing_from.map(|s| match s {
            SpacingFrom::Truth => SpacingSource::Truth,
            SpacingFrom::Pred => SpacingSource::Pred,
        }),
        labels: args.labels.clone(),
        convention: Convention::from(args.convention),
        tolerance: args.tolerance,
        cl_dice: args.cl_dice,
    };
    if args.lesions {
        return lesions(&args, options);
    }
    if let Some(challenge) = args.brats {
        return brats(challenge, args.brats_parser, &args, options);
    }
    let bar = progress_bar();
    let evaluation = evaluate_files(&args.pred, &args.truth, &options, |done, total| {
        tick(&bar, done, total)
    });
    bar.finish_and_clear();
    print_report(evaluation, args.format)
}

/// What `dicekit eval` prints, voxel-wise or lesion-wise.
trait Report {
    fn table(&self) -> String;
    fn json_rows(&self) -> Vec<serde_json::Value>;
    fn csv_rows(&self) -> Result<String, EvalError>;
    fn failures(&self) -> &[EvalError];
    fn scored(&self) -> usize;
}

impl Report for Evaluation {
    fn table(&self) -> String {
        Evaluation::table(self)
    }
    fn json_rows(&self) -> Vec<serde_json::Value> {
        Evaluation::json_rows(self)
    }
    fn csv_rows(&self) -> Result<String, EvalError> {
        Evaluation::csv_rows(self)
    }
    fn failures(&self) -> &[EvalError] {
        &self.failures
    }
    fn scored(&self) -> usize {
        self.results.len()
    }
}

impl Report for BratsEvaluationSet {
    fn table(&self) -> String {
        BratsEvaluationSet::table(self)
    }
    fn json_rows(&self) -> Vec<serde_json::Value> {
        BratsEvaluationSet::json_rows(self)
    }
    fn csv_rows(&self) -> Result<String, EvalError> {
        BratsEvaluationSet::csv_rows(self)
    }
    fn failures(&self) -> &[EvalError] {
        &self.failures
    }
    fn scored(&self) -> usize {
        self.results.len()
    }
}

/// `dicekit eval --brats`.
fn brats(
    challenge: BratsArg,
    parser: BratsParserArg,
    args: &EvalArgs,
    options: EvalOptions,
) -> ExitCode {
    let y2025 = |task| BratsProtocol::Brats2025 {
        task,
        parser: match parser {
            BratsParserArg::Mets => Brats2025Parser::METS_DEFAULT,
            BratsParserArg::Seg => Brats2025Parser::Seg,
        },
    };
    let protocol = match challenge {
        BratsArg::Gli2023 => BratsProtocol::Brats2023(Brats2023Challenge::Gli),
        BratsArg::Ssa2023 => BratsProtocol::Brats2023(Brats2023Challenge::Ssa),
        BratsArg::Men2023 => BratsProtocol::Brats2023(Brats2023Challenge::Men),
        BratsArg::Ped2023 => BratsProtocol::Brats2023(Brats2023Challenge::Ped),
        BratsArg::Met2023 => BratsProtocol::Brats2023(Brats2023Challenge::Met),
        BratsArg::Gli2025 => y2025(BratsTask::Gli),
        BratsArg::Mets2025 => y2025(BratsTask::Mets),
        BratsArg::Ped2025 => y2025(BratsTask::Ped),
        BratsArg::MenRt2025 => y2025(BratsTask::MenRt),
        BratsArg::MenPre2025 => y2025(BratsTask::MenPre),
        BratsArg::GoAt2025 => y2025(BratsTask::GoAt),
    };
    let bar = progress_bar();
    let evaluation = evaluate_brats_files(
        &args.pred,
        &args.truth,
        protocol,
        &options,
        |done, total| tick(&bar, done, total),
    );
    bar.finish_and_clear();
    print_report(evaluation, args.format)
}

impl Report for LesionEvaluationSet {
    fn table(&self) -> String {
        LesionEvaluationSet::table(self)
    }
    fn json_rows(&self) -> Vec<serde_json::Value> {
        LesionEvaluationSet::json_rows(self)
    }
    fn csv_rows(&self) -> Result<String, EvalError> {
        LesionEvaluationSet::csv_rows(self)
    }
    fn failures(&self) -> &[EvalError] {
        &self.failures
    }
    fn scored(&self) -> usize {
        self.results.len()
    }
}

/// Prints the scored cases in `format` (nothing when no case was scored: the errors alone, no
/// empty table), then the failures; exit 2 on bad input.
fn print_report(evaluation: Result<impl Report, EvalError>, format: Format) -> ExitCode {
    let evaluation = match evaluation {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if evaluation.scored() > 0 {
        let text = match format {
            Format::Table => Ok(evaluation.table()),
            Format::Json => serde_json::to_string_pretty(&evaluation.json_rows())
                .map(|t| t + "\n")
                .map_err(|e| e.to_string()),
            Format::Csv => evaluation.csv_rows().map_err(|e| e.to_string()),
        };
        match text {
            Ok(t) => print!("{t}"),
            Err(e) => {
                // A bug, not bad input.
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    finish(evaluation.failures(), evaluation.scored())
}

/// A hidden progress bar over cases, shown on stderr once there is more than one case.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {elapsed} elapsed, ETA {eta}")
            .expect("template"),
    );
    bar
}

fn tick(bar: &ProgressBar, done: usize, total: usize) {
    if done == 0 && total > 1 {
        bar.set_length(total as u64);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    }
    bar.set_position(done as u64);
}

/// `dicekit eval --lesions`.
fn lesions(args: &EvalArgs, eval: EvalOptions) -> ExitCode {
    let connectivity = match args.connectivity {
        None => None,
        Some(n) => match Connectivity::from_neighbours(n) {
            Some(c) => Some(c),
            None => {
                eprintln!("error: --connectivity {n}: expected 4 or 8 (2D), 6, 18 or 26 (3D)");
                return ExitCode::from(2);
            }
        },
    };
    let t = args.match_threshold;
    if let Some(t) = t
        && !(0.0..=1.0).contains(&t)
    {
        eprintln!("error: --match-threshold {t}: expected a number in [0, 1]");
        return ExitCode::from(2);
    }
    let rule = match args.matching {
        MatchArg::Any => MatchingRule::AnyOverlap,
        MatchArg::Iou => MatchingRule::IouThreshold {
            threshold: t.unwrap_or(0.5),
            strict: false,
            many_to_one: false,
        },
        MatchArg::IouStrict => MatchingRule::monai(t.unwrap_or(0.5)),
        MatchArg::BipartiteIou => MatchingRule::Bipartite {
            metric: PairMetric::Iou,
            threshold: t.unwrap_or(0.5),
        },
        MatchArg::BipartiteDice => MatchingRule::Bipartite {
            metric: PairMetric::Dice,
            threshold: t.unwrap_or(1e-6),
        },
    };
    let froc = FrocOptions {
        candidates: match args.froc_candidates {
            FrocCandidatesArg::Components => Candidates::Components {
                threshold: args.froc_threshold,
                score: match args.froc_score {
                    FrocScoreArg::Max => ComponentScore::Max,
                    FrocScoreArg::Mean => ComponentScore::Mean,
                },
            },
            FrocCandidatesArg::Maxima => Candidates::Maxima {
                nms: ProbNms::new(args.froc_threshold, args.froc_box),
                sigma: args.froc_sigma,
            },
        },
        convention: match args.froc_convention {
            FrocConventionArg::RocInterp => FrocConvention::RocInterp,
            FrocConventionArg::RocStep => FrocConvention::RocStep,
            FrocConventionArg::Monai => FrocConvention::Monai,
        },
        fp_rates: args.froc_rates.clone(),
        channels: match args.probability_channels {
            ChannelsArg::Auto => ProbabilityChannels::Auto,
            ChannelsArg::Class => ProbabilityChannels::Class,
            ChannelsArg::Foreground => ProbabilityChannels::Foreground,
        },
    };
    let options = LesionEvalOptions {
        eval,
        connectivity,
        rule,
        instances: args.instances,
        size_bins: args.size_bins.clone(),
        size_unit: match args.size_unit {
            SizeUnitArg::Mm3 => SizeUnit::Mm3,
            SizeUnitArg::Voxels => SizeUnit::Voxels,
        },
        distances: args.lesion_distances,
        probabilities: args.probabilities.clone(),
        froc,
    };
    let bar = progress_bar();
    let evaluation = evaluate_lesion_files(&args.pred, &args.truth, &options, |done, total| {
        tick(&bar, done, total)
    });
    bar.finish_and_clear();
    if let (Ok(set), Some(path)) = (&evaluation, &args.lesion_list) {
        let written = set
            .lesion_list_csv()
            .map_err(|e| e.to_string())
            .and_then(|t| std::fs::write(path, t).map_err(|e| format!("{}: {e}", path.display())));
        if let Err(e) = written {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    if let (Ok(set), Some(dir)) = (&evaluation, &args.froc_plots)
        && !set.froc.is_empty()
    {
        match dicekit_report::write_froc_plots(set, dir) {
            Ok(files) => eprintln!("FROC curves: {}", files.join(", ")),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    print_report(evaluation, args.format)
}

/// Prints the failures; exit 2 when there are any.
fn finish(failures: &[EvalError], scored: usize) -> ExitCode {
    for f in failures {
        eprintln!("error: {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        if scored > 0 {
            eprintln!(
                "error: {} of {} cases failed (listed above)",
                failures.len(),
                failures.len() + scored
            );
        }
        ExitCode::from(2)
    }
}
