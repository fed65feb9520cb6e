//! Golden test: every reference case, label, peer and metric of `tests/golden/expected.json`.
//!
//! Run: `cargo test -p dicekit-metrics --test golden -- --nocapture`;
//! another folder: `DICEKIT_METRIC_CASES=<dir> cargo test -p dicekit-metrics --test golden`.
use std::path::{Path, PathBuf};

use dicekit_metrics::*;
use ndarray::ArrayD;
use serde_json::Value;

const RTOL: f64 = 1e-5;

/// The peers of the file, with the convention that reproduces each (None: skipped by design).
fn convention(library: &str) -> Result<Convention, &'static str> {
    match library {
        "monai" => Ok(Convention::Monai),
        "surface_distance" | "surface_distance_git" => Ok(Convention::DeepMind),
        "medpy" => Ok(Convention::MedPy),
        "seg_metrics" => Ok(Convention::SegMetrics),
        "metricsreloaded" => Ok(Convention::MetricsReloaded),
        "miseval" => Err("miseval's HD is not spatial and refuses 3D"),
        "torchmetrics" => Err("torchmetrics 1.9 HD is 2D only"),
        _ => Err("unknown library"),
    }
}

/// dicekit's answer: a number, or what the convention reports for an empty side.
#[derive(Debug, Clone, Copy)]
enum Ours {
    Num(f64),
    Peer(PeerValue),
}

fn resolve(score: Score, conv: Convention, metric: MetricKind) -> Ours {
    match score {
        Score::Value(v) => Ours::Num(v),
        Score::Empty(side) => Ours::Peer(conv.empty_value(metric, side)),
    }
}

struct Pair {
    counts: ConfusionCounts,
    faces: SurfaceDistances,
    full: SurfaceDistances,
    surfels: SurfaceDistances,
}

impl Pair {
    fn surface(&self, b: Boundary) -> &SurfaceDistances {
        match b {
            Boundary::Faces => &self.faces,
            Boundary::FullyConnected => &self.full,
            Boundary::Surfels => &self.surfels,
        }
    }

    fn metric(&self, conv: Convention, key: &str, tol: f64) -> Option<Ours> {
        use MetricKind as M;
        let sd = self.surface(conv.boundary());
        // MONAI ignore_empty=False: both empty scores 1, one side empty 0.
        let empty1 = |s: Score| match s {
            Score::Empty(EmptySide::Both) => Ours::Num(1.0),
            s => resolve(s, conv, M::Dice),
        };
        Some(match key {
            "dice" => resolve(conv.dice(&self.counts), conv, M::Dice),
            "iou" => resolve(conv.jaccard(&self.counts), conv, M::Jaccard),
            "dice_empty1" => empty1(self.counts.dice()),
            "iou_empty1" => empty1(self.counts.jaccard()),
            "hd" => resolve(sd.hausdorff(), conv, M::Hausdorff),
            "hd95" => resolve(
                sd.hausdorff_percentile(95.0, conv.percentile()),
                conv,
                M::Hausdorff95,
            ),
            "hd_pred_to_gt" => resolve(
                sd.directed_hausdorff(Direction::PredToTruth),
                conv,
                M::DirectedHausdorff,
            ),
            "assd" => resolve(sd.average_surface_distance(conv.assd()), conv, M::Assd),
            "masd" => resolve(
                sd.average_surface_distance(SurfaceMean::MeanOfMeans),
                conv,
                M::Masd,
            ),
            "asd_pred_to_gt" => resolve(
                sd.directed_average(Direction::PredToTruth),
                conv,
                M::DirectedAsd,
            ),
            "nsd" => resolve(sd.normalized_surface_dice(tol), conv, M::Nsd),
            "nsd_subvoxel" => resolve(self.surfels.normalized_surface_dice(tol), conv, M::Nsd),
            _ => return None,
        })
    }
}

/// `Ok(())` when dicekit reproduces `expected`, else the mismatch.
fn compare(ours: Ours, expected: &Value) -> Result<(), String> {
    let close = |a: f64, b: f64| (a - b).abs() <= RTOL * b.abs() + 1e-12;
    match (expected, ours) {
        (Value::Number(n), Ours::Num(v)) if close(v, n.as_f64().unwrap()) => Ok(()),
        (Value::Number(n), Ours::Peer(PeerValue::Number(v))) if close(v, n.as_f64().unwrap()) => {
            Ok(())
        }
        (Value::String(s), Ours::Peer(PeerValue::NaN)) if s == "nan" => Ok(()),
        (Value::String(s), Ours::Peer(PeerValue::Inf)) if s == "inf" => Ok(()),
        (Value::String(s), Ours::Num(v)) if s == "inf" && v == f64::INFINITY => Ok(()),
        // The peer raises; dicekit returns a typed empty result instead.
        (Value::String(s), Ours::Peer(_)) if s.starts_with("error:") => Ok(()),
        _ => Err(format!("expected {expected}, dicekit {ours:?}")),
    }
}

fn masks(pred: &ArrayD<u32>, truth: &ArrayD<u32>, label: u32) -> (ArrayD<bool>, ArrayD<bool>) {
    (pred.mapv(|v| v == label), truth.mapv(|v| v == label))
}

#[test]
fn peer_metric_cases() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = match std::env::var("DICEKIT_METRIC_CASES") {
        // cargo runs tests in the crate's folder: a relative path may be meant from the root.
        Ok(d) if Path::new(&d).is_relative() && !Path::new(&d).exists() => {
            manifest.join("../..").join(d)
        }
        Ok(d) => PathBuf::from(d),
        Err(_) => manifest.join("tests/golden"),
    };
    run_dir(&dir);
}

/// Empty references, empty predictions and one-sided labels of label maps, computed by the peers
/// with `tools/golden/empty_metrics.py`.
#[test]
fn empty_mask_cases() {
    run_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/empty"));
}

/// Every case, label, peer and metric of `dir/expected.json`; prints
/// `metric cases: N passed, M failed, K skipped` and fails on any mismatch.
fn run_dir(dir: &Path) {
    let text = std::fs::read_to_string(dir.join("expected.json"))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.join("expected.json").display()));
    let expected: Value = serde_json::from_str(&text).expect("expected.json is JSON");
    let tol = expected["nsd_tolerance_mm"].as_f64().unwrap_or(1.0);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, case) in expected["cases"].as_object().expect("cases") {
        let file = |k: &str| dir.join(case["files"][k].as_str().expect("file name"));
        let gt = dicekit_data::read_label_map(&file("gt")).unwrap_or_else(|e| panic!("{e}"));
        let pred = dicekit_data::read_label_map(&file("pred")).unwrap_or_else(|e| panic!("{e}"));
        let spacing: Vec<f64> = case["spacing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(
            gt.spacing, spacing,
            "{name}: header spacing differs from expected.json"
        );
        for (label, per) in case["per_label"].as_object().unwrap() {
            let l: u32 = label.parse().unwrap();
            let (p, t) = masks(&pred.data, &gt.data, l);
            let sd = |b| SurfaceDistances::new(&p.view(), &t.view(), &spacing, b).unwrap();
            let pair = Pair {
                counts: ConfusionCounts::from_masks(&p.view(), &t.view()).unwrap(),
                faces: sd(Boundary::Faces),
                full: sd(Boundary::FullyConnected),
                surfels: sd(Boundary::Surfels),
            };
            assert_eq!(
                pair.counts.truth_voxels(),
                per["gt_voxels"].as_u64().unwrap(),
                "{name}/{label}"
            );
            assert_eq!(
                pair.counts.pred_voxels(),
                per["pred_voxels"].as_u64().unwrap(),
                "{name}/{label}"
            );
            for (library, values) in per
                .as_object()
                .unwrap()
                .iter()
                .filter(|(_, v)| v.is_object())
            {
                let conv = match convention(library) {
                    Ok(c) => c,
                    Err(why) => {
                        skipped += values.as_object().unwrap().len();
                        println!("skip {name}/{label}/{library}: {why}");
                        continue;
                    }
                };
                for (key, want) in values.as_object().unwrap() {
                    if library == "surface_distance"
                        && want.as_str().is_some_and(|s| s.starts_with("error:"))
                    {
                        skipped += 1;
                        continue; // PyPI 0.1 is broken under NumPy 2 (np.Inf / np.NaN removed).
                    }
                    let Some(ours) = pair.metric(conv, key, tol) else {
                        failed += 1;
                        failures.push(format!(
                            "{name}/{label}/{library}/{key}: metric not implemented"
                        ));
                        continue;
                    };
                    match compare(ours, want) {
                        Ok(()) => passed += 1,
                        Err(why) => {
                            failed += 1;
                            failures.push(format!("{name}/{label}/{library}/{key}: {why}"));
                        }
                    }
                }
            }
        }
        // MONAI's label-map level scores: background excluded, one channel per label up to the
        // largest present (a label in neither map is still a class of the one-hot encoding).
        if let Some(level) = case["monai_label_map_level"].as_object() {
            let top = gt
                .data
                .iter()
                .chain(pred.data.iter())
                .copied()
                .max()
                .unwrap_or(0);
            let labels: Vec<u32> = (1..=top).collect();
            let all_counts =
                confusion_per_label(&pred.data.view(), &gt.data.view(), &labels).unwrap();
            for (key, want) in level {
                let gds = |w| generalized_dice_score(&all_counts, w);
                let (ours, kind) = match key.as_str() {
                    "generalized_dice_nobg_square" => {
                        (gds(GdsWeights::Square), MetricKind::GeneralizedDice)
                    }
                    "generalized_dice_nobg_simple" => {
                        (gds(GdsWeights::Simple), MetricKind::GeneralizedDice)
                    }
                    "generalized_dice_nobg_uniform" => {
                        (gds(GdsWeights::Uniform), MetricKind::GeneralizedDice)
                    }
                    "dice_metric_mean_nobg" => {
                        let scores: Vec<Score> = all_counts
                            .iter()
                            .map(|c| Convention::Monai.dice(c))
                            .collect();
                        (
                            Convention::Monai.mean_over_classes(MetricKind::Dice, &scores),
                            MetricKind::Dice,
                        )
                    }
                    "dice_metric_mean_nobg_ignore_empty_false" => {
                        // ignore_empty=False: both empty scores 1, one side empty 0.
                        let scores: Vec<Score> = all_counts
                            .iter()
                            .map(|c| match c.dice() {
                                Score::Empty(EmptySide::Both) => Score::Value(1.0),
                                s => s,
                            })
                            .collect();
                        (
                            Convention::Monai.mean_over_classes(MetricKind::Dice, &scores),
                            MetricKind::Dice,
                        )
                    }
                    _ => {
                        failed += 1;
                        failures.push(format!(
                            "{name}/monai_label_map_level/{key}: not implemented"
                        ));
                        continue;
                    }
                };
                match compare(resolve(ours, Convention::Monai, kind), want) {
                    Ok(()) => passed += 1,
                    Err(why) => {
                        failed += 1;
                        failures.push(format!("{name}/monai_label_map_level/{key}: {why}"));
                    }
                }
            }
        }
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("metric cases: {passed} passed, {failed} failed, {skipped} skipped");
    assert!(failures.is_empty(), "{failed} metric values differ");
}
