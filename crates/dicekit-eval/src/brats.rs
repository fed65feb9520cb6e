//! The BraTS challenges' lesion-wise scores of label-map files (`dicekit eval --brats`): per case
//! and region, the numbers the challenge's own evaluator writes, then their mean over the cases
//! (the leaderboards rank by the per-region means of the lesion-wise Dice and HD95).
//!
//! ```text
//! 2023 (BraTS-2023-Metrics, get_LesionWiseResults):  regions WT {1,2,3}, TC {1,3}, ET {3};
//!     lesions = 26-connected components of the reference dilated by the challenge's
//!     iterations (lesions whose dilations touch merge); every predicted component touching a
//!     lesion's dilation matches it; lesions <= the volume threshold are dropped; a miss or a
//!     false positive scores Dice 0 and HD95 374 in the lesion-wise means.
//! 2025 (BraTS_evaluation 0.0.10, on panoptica):  the task's label groups; components (26 in
//!     3D, 4 in 2D), one-to-one matching maximising the total Dice among overlapping pairs;
//!     the mets parser charges misses of large lesions (>= 20 mm^3) and every false positive
//!     Dice 0 / HD95 373, the seg parser averages matched pairs only.
//! ```
//!
//! Both read NIfTI files as the peers do: components numbered in the file's (column-major)
//! order, and for 2025 the spacing applied to the mirrored axes, as panoptica does with
//! SimpleITK's reversed arrays ([`SpacingAxes::MirroredAsFromFiles`]).
use std::collections::BTreeMap;
use std::path::Path;

use dicekit_metrics::{
    Brats2023Challenge, Brats2023Region, Brats2025Parser, BratsTask, MetricError, ScanOrder,
    SpacingAxes, brats2023_region, brats2025_evaluate, brats2025_results,
};
use ndarray::ArrayViewD;

use crate::{EvalError, EvalOptions, pair_inputs, read_pair};

/// Which challenge evaluator to reproduce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BratsProtocol {
    /// The BraTS 2023 lesion-wise script (`get_LesionWiseResults`) for a challenge.
    Brats2023(Brats2023Challenge),
    /// BraTS_evaluation 0.0.10 (2025): a task's label groups read by a parser.
    Brats2025 {
        /// The bundled config.
        task: BratsTask,
        /// How the panoptica summary is read.
        parser: Brats2025Parser,
    },
}

impl BratsProtocol {
    /// A name for tables: `BraTS-GLI 2023`, `BraTS 2025 gli (mets parser)`.
    pub fn name(&self) -> String {
        match self {
            BratsProtocol::Brats2023(c) => format!("{} 2023", c.name()),
            BratsProtocol::Brats2025 { task, parser } => format!(
                "BraTS 2025 {} ({} parser)",
                task.name(),
                match parser {
                    Brats2025Parser::Seg => "seg",
                    Brats2025Parser::Mets { .. } => "mets",
                }
            ),
        }
    }

    /// The headline metrics of a region in table order: the lesion-wise Dice and HD95 first.
    fn headline(&self, region: &str) -> Vec<String> {
        match self {
            BratsProtocol::Brats2023(_) => [
                "LesionWise_Score_Dice",
                "LesionWise_Score_HD95",
                "Num_TP",
                "Num_FP",
                "Num_FN",
                "Legacy_Dice",
                "Legacy_HD95",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            BratsProtocol::Brats2025 { .. } => [
                "lesionwise_dsc_mean",
                "lesionwise_hd95_mean",
                "all_instance_tp",
                "all_instance_fp",
                "all_instance_fn",
                "global_dsc",
                "global_hd95",
            ]
            .iter()
            .map(|s| format!("{s}_{region}"))
            .collect(),
        }
    }
}

/// One region's (2023) or label group's (2025) values: its name, then `(metric, value)` in the
/// evaluator's order, metric names as the peer spells its CSV columns.
pub type BratsRegion = (String, Vec<(String, f64)>);

/// One case: per region (2023) or label group (2025), the evaluator's values by name.
#[derive(Debug, Clone, PartialEq)]
pub struct BratsCase {
    /// Case name.
    pub name: String,
    /// Every region in the evaluator's order (`LesionWise_Score_Dice`,
    /// `lesionwise_dsc_mean_et`, ...).
    pub regions: Vec<BratsRegion>,
}

/// The BraTS evaluation of a set of cases.
#[derive(Debug)]
pub struct BratsEvaluationSet {
    /// Scored cases, in case-name order.
    pub results: Vec<BratsCase>,
    /// Unmatched files and cases that failed.
    pub failures: Vec<EvalError>,
    /// The protocol.
    pub protocol: BratsProtocol,
}

/// Scores one case under `protocol` (maps already read; `spacing` in mm along the map's axes;
/// `nifti`: the maps come from NIfTI files, read as the peers read them).
///
/// # Errors
/// A rank the evaluator refuses (2023: 3D only), a bad spacing.
pub fn brats_case<T>(
    pred: &ArrayViewD<T>,
    truth: &ArrayViewD<T>,
    spacing: &[f64],
    protocol: BratsProtocol,
    nifti: bool,
) -> Result<Vec<BratsRegion>, MetricError>
where
    T: Copy + Into<u32> + Send + Sync,
{
    let order = if nifti {
        ScanOrder::ColumnMajor
    } else {
        ScanOrder::RowMajor
    };
    match protocol {
        BratsProtocol::Brats2023(challenge) => Brats2023Region::ALL
            .iter()
            .map(|&region| {
                let r = brats2023_region(pred, truth, challenge, region, spacing, order)?;
                let values = [
                    ("Num_TP", r.num_tp as f64),
                    ("Num_FP", r.num_fp as f64),
                    ("Num_FN", r.num_fn as f64),
                    ("Sensitivity", r.sensitivity),
                    ("Specificity", r.specificity),
                    ("Legacy_Dice", r.legacy_dice),
                    ("Legacy_HD95", r.legacy_hd95),
                    ("GT_Complete_Volume", r.gt_complete_volume),
                    ("LesionWise_Score_Dice", r.lesionwise_dice),
                    ("LesionWise_Score_HD95", r.lesionwise_hd95),
                ];
                Ok((
                    region.name().to_string(),
                    values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                ))
            })
            .collect(),
        BratsProtocol::Brats2025 { task, parser } => {
            let axes = if nifti {
                SpacingAxes::MirroredAsFromFiles
            } else {
                SpacingAxes::AsGiven
            };
            brats2025_evaluate(pred, truth, &task.groups(), spacing, axes, order)?
                .iter()
                .map(|g| {
                    let r = brats2025_results(&g.evaluation, parser)?;
                    Ok((g.group.name.clone(), r.entries(&g.group.name)))
                })
                .collect()
        }
    }
}

/// Evaluates two label-map files, or two folders matched by case name, under `protocol`
/// (cases in parallel; a case that fails is a failure entry and the others are still scored).
///
/// # Errors
/// Inputs that cannot be paired at all, bad reading options.
pub fn evaluate_brats_files(
    pred: &Path,
    truth: &Path,
    protocol: BratsProtocol,
    options: &EvalOptions,
    on_case: impl Fn(usize, usize) + Sync,
) -> Result<BratsEvaluationSet, EvalError> {
    options.validate()?;
    let crate::Pairing { pairs, unmatched } = pair_inputs(pred, truth)?;
    let (scored, failures) = crate::pairing::score_pairs(&pairs, unmatched, on_case, |pair| {
        brats_file_case(&pair.pred, &pair.truth, protocol, options)
    });
    let results = scored
        .into_iter()
        .map(|(name, regions)| BratsCase { name, regions })
        .collect();
    Ok(BratsEvaluationSet {
        results,
        failures,
        protocol,
    })
}

fn brats_file_case(
    pred: &Path,
    truth: &Path,
    protocol: BratsProtocol,
    options: &EvalOptions,
) -> Result<Vec<BratsRegion>, EvalError> {
    let (p, t, spacing) = read_pair(pred, truth, options)?;
    let nifti = truth
        .to_string_lossy()
        .to_ascii_lowercase()
        .contains(".nii");
    let metric_error = |source| EvalError::Metric {
        path: pred.to_path_buf(),
        source,
    };
    crate::case::with_maps!(p, t, |p, t| brats_case(&p, &t, &spacing, protocol, nifti))
        .map_err(metric_error)
}

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf".into() } else { "-inf".into() }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

impl BratsEvaluationSet {
    /// Per region and metric, the mean over the cases where the value is finite, and how many
    /// cases were left out (NaN or infinite), in the evaluator's order.
    pub fn means(&self) -> Vec<(String, String, Option<f64>, usize)> {
        let mut order: Vec<(String, String)> = Vec::new();
        let mut acc: BTreeMap<(String, String), (f64, usize, usize)> = BTreeMap::new();
        for c in &self.results {
            for (region, values) in &c.regions {
                for (metric, v) in values {
                    let key = (region.clone(), metric.clone());
                    let e = acc.entry(key.clone()).or_insert_with(|| {
                        order.push(key);
                        (0.0, 0, 0)
                    });
                    if v.is_finite() {
                        e.0 += v;
                        e.1 += 1;
                    } else {
                        e.2 += 1;
                    }
                }
            }
        }
        order
            .into_iter()
            .map(|key| {
                let (sum, n, left_out) = acc[&key];
                let mean = (n > 0).then(|| sum / n as f64);
                (key.0, key.1, mean, left_out)
            })
            .collect()
    }

    /// Per case and region the headline numbers (lesion-wise Dice and HD95, lesion counts,
    /// whole-mask Dice and HD95), then their means over the cases; every value is in the JSON
    /// and CSV rows.
    pub fn table(&self) -> String {
        let regions: Vec<String> = self
            .results
            .first()
            .map(|c| c.regions.iter().map(|r| r.0.clone()).collect())
            .unwrap_or_default();
        let columns = |region: &str| self.protocol.headline(region);
        let short = |m: &str, region: &str| {
            m.strip_suffix(&format!("_{region}"))
                .unwrap_or(m)
                .to_string()
        };
        let mut text = format!("{}\n", self.protocol.name());
        let head: Vec<String> = ["case".to_string(), "region".to_string()]
            .into_iter()
            .chain(
                columns("x")
                    .iter()
                    .map(|m| short(m, "x"))
                    .collect::<Vec<_>>(),
            )
            .collect();
        let mut rows = Vec::new();
        for c in &self.results {
            for (region, values) in &c.regions {
                let mut row = vec![c.name.clone(), region.clone()];
                for m in columns(region) {
                    row.push(
                        values
                            .iter()
                            .find(|(k, _)| *k == m)
                            .map_or("-".into(), |(_, v)| fmt(*v)),
                    );
                }
                rows.push(row);
            }
        }
        let means = self.means();
        for region in &regions {
            let mut row = vec!["(mean)".to_string(), region.clone()];
            for m in columns(region) {
                row.push(
                    means
                        .iter()
                        .find(|(r, k, ..)| r == region && *k == m)
                        .map_or("-".into(), |(.., mean, left_out)| match mean {
                            Some(v) if *left_out > 0 => {
                                format!("{} [{left_out} left out]", fmt(*v))
                            }
                            Some(v) => fmt(*v),
                            None => "-".into(),
                        }),
                );
            }
            rows.push(row);
        }
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        text.push_str(&crate::lesions::render(&head, &rows));
        text
    }

    /// One JSON object per case x region x metric (the peer's name and value; `null` for NaN
    /// and the strings `"inf"` / `"-inf"` for infinities), then the `(mean)` rows with
    /// `left_out`.
    pub fn json_rows(&self) -> Vec<serde_json::Value> {
        use serde_json::json;
        let value = |v: f64| -> serde_json::Value {
            if v.is_nan() {
                serde_json::Value::Null
            } else if v.is_infinite() {
                json!(if v > 0.0 { "inf" } else { "-inf" })
            } else {
                json!(v)
            }
        };
        let mut out = Vec::new();
        for c in &self.results {
            for (region, values) in &c.regions {
                for (metric, v) in values {
                    out.push(json!({"case": c.name, "region": region, "metric": metric, "value": value(*v)}));
                }
            }
        }
        for (region, metric, mean, left_out) in self.means() {
            out.push(json!({"case": "(mean)", "region": region, "metric": metric, "value": mean, "left_out": left_out}));
        }
        out
    }

    /// The rows of [`json_rows`](Self::json_rows) as CSV (`case,region,metric,value,left_out`).
    ///
    /// # Errors
    /// [`EvalError::Write`] if the CSV writer fails.
    pub fn csv_rows(&self) -> Result<String, EvalError> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let write_err = |e: csv::Error| EvalError::Write(e.to_string());
        w.write_record(["case", "region", "metric", "value", "left_out"])
            .map_err(write_err)?;
        for r in self.json_rows() {
            let s = |k: &str| match &r[k] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            };
            w.write_record([
                s("case"),
                s("region"),
                s("metric"),
                s("value"),
                s("left_out"),
            ])
            .map_err(write_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| EvalError::Write(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| EvalError::Write(e.to_string()))
    }
}
