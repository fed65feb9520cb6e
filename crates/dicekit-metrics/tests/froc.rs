//! FROC from probability maps: the golden test against every `froc` and `froc_set` entry of
//! `../shared/reference/lesions/expected.json` (MONAI's `ProbNMS` candidates, cc3d lesion ids at
//! the candidates, MONAI's `compute_fp_tp_probs` / `compute_froc_curve_data` /
//! `compute_froc_score`, and the ROC / e-ophtha reference curve and scores), skipped with a
//! message where that folder is absent; another folder of the same layout:
//! `DICEKIT_LESION_CASES=<dir> cargo test -p dicekit-metrics --test froc`. Property tests:
//! monotone curves and readings, and a perfect detector.
use std::path::Path;

use dicekit_metrics::{
    CandidateHit, ComponentScore, Connectivity, Detection, FrocConvention, FrocReading,
    ImageDetections, Lesions, ProbNms, ROC_FP_RATES, ScanOrder, component_candidates,
    component_detections, fp_tp_scores, froc, point_detections, prob_nms, prob_nms_smoothed,
    threshold_sweep,
};
use ndarray::{Array2, ArrayD};
use proptest::prelude::*;
use serde_json::Value;

mod common;

/// A JSON number, or one of the strings "nan", "inf", "-inf".
fn num(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => Ok(n.as_f64().expect("f64")),
        Value::String(s) if s == "nan" => Ok(f64::NAN),
        Value::String(s) if s == "inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        other => Err(format!("not a number: {other}")),
    }
}

fn nums(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or_else(|| format!("not a list: {v}"))?
        .iter()
        .map(num)
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

fn check_value(what: &str, ours: f64, expected: &Value) -> Result<(), String> {
    let e = num(expected)?;
    if close(ours, e) {
        Ok(())
    } else {
        Err(format!("{what}: expected {e}, dicekit {ours}"))
    }
}

fn check_list(what: &str, ours: &[f64], expected: &Value) -> Result<(), String> {
    let e = nums(expected)?;
    if ours.len() == e.len() && ours.iter().zip(&e).all(|(a, b)| close(*a, *b)) {
        Ok(())
    } else {
        Err(format!("{what}: expected {e:?}, dicekit {ours:?}"))
    }
}

/// MONAI's keys of `froc.monai` / `froc_set.monai`.
fn check_monai(images: &[ImageDetections], m: &Value, settings: &Value) -> Result<(), String> {
    let s = fp_tp_scores(images);
    check_list("fp_probs", &s.fp, &m["fp_probs"])?;
    check_list("tp_probs", &s.tp, &m["tp_probs"])?;
    check_value("num_targets", s.n_targets as f64, &m["num_targets"])?;
    check_value("num_images", s.n_images as f64, &m["num_images"])?;
    let roc = nums(&settings["roc_fp_rates"])?;
    let cam = nums(&settings["camelyon_fp_rates"])?;
    let f = froc(images, FrocConvention::Monai, &roc).map_err(|e| e.to_string())?;
    // MONAI returns the points from the lowest threshold up.
    let rev = |v: &[f64]| v.iter().rev().copied().collect::<Vec<_>>();
    check_list(
        "fps_per_image",
        &rev(&f.curve.fps_per_image),
        &m["fps_per_image"],
    )?;
    check_list(
        "total_sensitivity",
        &rev(&f.curve.sensitivity),
        &m["total_sensitivity"],
    )?;
    check_value("froc_score_roc_rates", f.score, &m["froc_score_roc_rates"])?;
    let f = froc(images, FrocConvention::Monai, &cam).map_err(|e| e.to_string())?;
    check_value(
        "froc_score_camelyon_rates",
        f.score,
        &m["froc_score_camelyon_rates"],
    )
}

/// The keys of `reference_roc`.
fn check_reference(images: &[ImageDetections], r: &Value) -> Result<(), String> {
    let rates = nums(&r["fp_rates"])?;
    for (conv, suffix) in [
        (FrocConvention::RocStep, "step"),
        (FrocConvention::RocInterp, "interp"),
    ] {
        let f = froc(images, conv, &rates).map_err(|e| e.to_string())?;
        check_value("n_images", f.curve.n_images as f64, &r["n_images"])?;
        check_value("n_lesions", f.curve.n_lesions as f64, &r["n_lesions"])?;
        check_list("thresholds", &f.curve.thresholds, &r["curve"]["thresholds"])?;
        check_list(
            "fps_per_image",
            &f.curve.fps_per_image,
            &r["curve"]["fps_per_image"],
        )?;
        check_list(
            "sensitivity",
            &f.curve.sensitivity,
            &r["curve"]["sensitivity"],
        )?;
        check_list(
            &format!("sensitivity_at_rates_{suffix}"),
            &f.sensitivity_at_rates,
            &r[format!("sensitivity_at_rates_{suffix}")],
        )?;
        check_value(
            &format!("score_{suffix}"),
            f.score,
            &r[format!("score_{suffix}")],
        )?;
    }
    Ok(())
}

#[test]
fn peer_froc_cases() {
    for dir in common::lesion_case_dirs("froc cases") {
        println!("{}:", dir.display());
        run_dir(&dir);
    }
}

/// Every `froc` entry and `froc_set`; prints `froc cases: N passed, M failed, K skipped`.
fn run_dir(dir: &Path) {
    let expected = common::read_expected(dir);
    let settings = &expected["settings"];
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut record = |name: String, r: Result<(), String>| match r {
        Ok(()) => passed += 1,
        Err(e) => {
            failed += 1;
            failures.push(format!("{name}: {e}"));
        }
    };
    // `settings.prob_nms`, or a case's own `froc.prob_nms` where it has one.
    let nms_of = |nms_set: &Value| -> (ProbNms, Vec<f64>) {
        // `box_size` / `sigma`: one value for every axis, or a list with one per axis.
        let list = |v: &Value, default: f64| -> Vec<f64> {
            match v {
                Value::Array(v) => v.iter().map(|b| b.as_f64().expect("number")).collect(),
                b => vec![b.as_f64().unwrap_or(default)],
            }
        };
        let nms = ProbNms {
            prob_threshold: nms_set["prob_threshold"].as_f64().unwrap_or(0.1),
            box_size: list(&nms_set["box_size"], 5.0)
                .into_iter()
                .map(|b| b as usize)
                .collect(),
        };
        (nms, list(&nms_set["sigma"], 0.0))
    };
    let mut per_case: Vec<(String, ImageDetections)> = Vec::new();
    for (name, case) in expected["cases"].as_object().expect("cases") {
        let Some(fr) = case.get("froc") else { continue };
        let files = &case["files"];
        let gt = dicekit_data::read_label_map(&dir.join(files["gt"].as_str().expect("gt")))
            .unwrap_or_else(|e| panic!("{e}"))
            .data;
        let Some(prob_file) = files.get("prob").and_then(Value::as_str) else {
            skipped += 1;
            println!("{name}: no prob file listed, skipped");
            continue;
        };
        let prob = dicekit_data::image::read_image(&dir.join(prob_file))
            .unwrap_or_else(|e| panic!("{e}"))
            .data;
        let nd = gt.ndim();
        // The image reader puts channels first: a single-channel map has a leading axis of 1.
        let prob = if prob.ndim() == nd + 1 && prob.shape()[0] == 1 {
            prob.index_axis_move(ndarray::Axis(0), 0)
        } else {
            prob
        };
        let conn = Connectivity::full(nd).expect("2D or 3D");
        let lesions = Lesions::components(&gt.view(), None, conn, ScanOrder::ColumnMajor)
            .expect("components");
        record(format!("{name} n_lesions/lesion_sizes"), {
            let mut sizes: Vec<f64> = lesions.lesions.iter().map(|l| l.voxels as f64).collect();
            sizes.sort_by(|a, b| b.total_cmp(a));
            check_value("n_lesions", lesions.len() as f64, &fr["n_lesions"])
                .and_then(|()| check_list("lesion_sizes", &sizes, &fr["lesion_sizes"]))
        });
        // Component candidates at the prediction's threshold: the prediction is `prob >= 0.5`.
        if let (Some(t), Some(pred_file)) = (
            settings["pred_from_prob_threshold"].as_f64(),
            files.get("pred").and_then(Value::as_str),
        ) {
            let pred = dicekit_data::read_label_map(&dir.join(pred_file))
                .unwrap_or_else(|e| panic!("{e}"))
                .data;
            record(format!("{name} components of prob >= {t}"), {
                let cc = component_candidates(
                    &prob.view(),
                    t,
                    conn,
                    ComponentScore::Max,
                    ScanOrder::ColumnMajor,
                )
                .map_err(|e| e.to_string());
                let p = Lesions::components(&pred.view(), None, conn, ScanOrder::ColumnMajor)
                    .map_err(|e| e.to_string());
                cc.and_then(|cc| {
                    let p = p?;
                    let peaks_inside =
                        cc.candidates.iter().enumerate().all(|(i, c)| {
                            cc.components.ids[ndarray::IxDyn(&c.index)] == i as u32 + 1
                        });
                    if cc.components.ids == p.ids && peaks_inside {
                        Ok(())
                    } else {
                        Err("components of the thresholded map differ from the prediction's".into())
                    }
                })
            });
        }
        // Candidates: MONAI's ProbNMS (sigma 0: the map as it is; sigma > 0: MONAI's filter).
        let listed: Vec<dicekit_metrics::Candidate> = fr["candidates"]
            .as_array()
            .expect("candidates")
            .iter()
            .map(|c| {
                let v = c.as_array().expect("candidate");
                dicekit_metrics::Candidate {
                    score: num(&v[0]).expect("score"),
                    index: v[1..]
                        .iter()
                        .map(|i| i.as_u64().expect("index") as usize)
                        .collect(),
                }
            })
            .collect();
        let (nms, sigma) = nms_of(fr.get("prob_nms").unwrap_or(&settings["prob_nms"]));
        let smoothed = sigma.iter().any(|s| *s != 0.0);
        let candidates = {
            let ours = if smoothed {
                prob_nms_smoothed(&prob.view(), &nms, &sigma).expect("prob_nms_smoothed")
            } else {
                prob_nms(&prob.view(), &nms).expect("prob_nms")
            };
            // Smoothed maps: MONAI's float32 convolution may differ in the last bits.
            let same_score = |a: f64, b: f64| {
                if smoothed {
                    (a - b).abs() <= 1e-6 * b.abs()
                } else {
                    close(a, b)
                }
            };
            record(format!("{name} candidates"), {
                let same = ours.len() == listed.len()
                    && ours
                        .iter()
                        .zip(&listed)
                        .all(|(a, b)| a.index == b.index && same_score(a.score, b.score));
                if same {
                    Ok(())
                } else {
                    Err(format!("expected {listed:?}, dicekit {ours:?}"))
                }
            });
            // The peer's scores from here on (MONAI's FROC helpers compare them exactly).
            if smoothed { listed } else { ours }
        };
        let det = point_detections(&candidates, &lesions).expect("point_detections");
        record(format!("{name} candidate_lesion"), {
            let ids: Vec<f64> = det
                .detections
                .iter()
                .map(|d| d.lesions.first().copied().unwrap_or(0) as f64)
                .collect();
            check_list("candidate_lesion", &ids, &fr["candidate_lesion"])
        });
        let one = std::slice::from_ref(&det);
        record(
            format!("{name} monai"),
            check_monai(one, &fr["monai"], settings),
        );
        record(
            format!("{name} reference_roc"),
            check_reference(one, &fr["reference_roc"]),
        );
        per_case.push((name.clone(), det));
    }
    if let Some(set) = expected.get("froc_set") {
        let names: Vec<&str> = set["cases"]
            .as_array()
            .expect("froc_set.cases")
            .iter()
            .map(|c| c.as_str().expect("case name"))
            .collect();
        let images: Option<Vec<ImageDetections>> = names
            .iter()
            .map(|n| {
                per_case
                    .iter()
                    .find(|(c, _)| c == n)
                    .map(|(_, d)| d.clone())
            })
            .collect();
        match images {
            Some(images) => {
                record(
                    "froc_set monai".into(),
                    check_monai(&images, &set["monai"], settings),
                );
                record(
                    "froc_set reference_roc".into(),
                    check_reference(&images, &set["reference_roc"]),
                );
            }
            None => {
                skipped += 2;
                println!("froc_set: a listed case was not evaluated, skipped");
            }
        }
    }
    for f in &failures {
        println!("FAILED {f}");
    }
    println!("froc cases: {passed} passed, {failed} failed, {skipped} skipped");
    assert!(failures.is_empty(), "{} froc checks failed", failures.len());
    assert!(passed > 0, "no froc case in {}", dir.display());
}

/// Random detections on `n_lesions` lesions (lesion 0 = a false positive) in several images.
fn images_strategy() -> impl Strategy<Value = Vec<ImageDetections>> {
    prop::collection::vec(
        (0u32..6, prop::collection::vec((0u8..8, 0u32..6), 0..12)).prop_map(|(n, dets)| {
            ImageDetections {
                detections: dets
                    .into_iter()
                    .map(|(s, l)| Detection {
                        score: f64::from(s) / 8.0 + 0.05,
                        lesions: if l == 0 || l > n { vec![] } else { vec![l] },
                    })
                    .collect(),
                lesions: (1..=n).collect(),
            }
        }),
        1..4,
    )
}

const CONVENTIONS: [FrocConvention; 3] = [
    FrocConvention::Monai,
    FrocConvention::RocInterp,
    FrocConvention::RocStep,
];

proptest! {
    /// Curves are monotone, and the sensitivity read at a rate never falls as the rate grows.
    #[test]
    fn sensitivity_non_decreasing(images in images_strategy()) {
        let rates: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.25).collect();
        for conv in CONVENTIONS {
            let f = froc(&images, conv, &rates).unwrap();
            let c = &f.curve;
            prop_assert!(c.thresholds.windows(2).all(|w| w[0] > w[1]));
            prop_assert!(c.fps_per_image.windows(2).all(|w| w[0] <= w[1]));
            if c.n_lesions > 0 {
                prop_assert!(c.sensitivity.windows(2).all(|w| w[0] <= w[1]));
                prop_assert!(f.sensitivity_at_rates.windows(2).all(|w| w[0] <= w[1] + 1e-12));
                prop_assert!(f.score >= 0.0 && f.score <= 1.0);
            } else {
                prop_assert!(f.score.is_nan());
            }
        }
    }

    /// Interpolated readings never fall below stepped ones on the reference curve.
    #[test]
    fn interp_at_least_step(images in images_strategy()) {
        let fi = froc(&images, FrocConvention::RocInterp, &ROC_FP_RATES).unwrap();
        for (&r, &si) in ROC_FP_RATES.iter().zip(&fi.sensitivity_at_rates) {
            let ss = fi.curve.sensitivity_at(r, FrocReading::Step);
            prop_assert!(si.is_nan() && ss.is_nan() || si + 1e-12 >= ss);
        }
    }

    /// A perfect detector (probability only on lesions, one value per lesion) scores 1 under
    /// the ROC conventions with every candidate kind; MONAI's curve drops its lowest threshold,
    /// so it reads (n - 1) / n for distinct lesion scores.
    #[test]
    fn perfect_detector(cells in prop::collection::vec(any::<bool>(), 20 * 20)) {
        let gt = Array2::from_shape_vec((20, 20), cells.iter().map(|&c| u8::from(c)).collect())
            .unwrap()
            .into_dyn();
        let lesions =
            Lesions::components(&gt.view(), None, Connectivity::Eight, ScanOrder::RowMajor).unwrap();
        let n = lesions.len() as f64;
        let prob: ArrayD<f32> = lesions
            .ids
            .mapv(|id| if id == 0 { 0.0 } else { 0.5 + 0.4 * id as f32 / n as f32 });
        let nms = prob_nms(&prob.view(), &ProbNms::new(0.1, 3)).unwrap();
        let by_point = point_detections(&nms, &lesions).unwrap();
        let cc = component_candidates(
            &prob.view(), 0.2, Connectivity::Eight, ComponentScore::Mean, ScanOrder::RowMajor,
        ).unwrap();
        let by_overlap = component_detections(&cc, &lesions, CandidateHit::Overlap).unwrap();
        for det in [&by_point, &by_overlap] {
            let one = std::slice::from_ref(det);
            for conv in [FrocConvention::RocInterp, FrocConvention::RocStep] {
                let f = froc(one, conv, &ROC_FP_RATES).unwrap();
                if n == 0.0 {
                    prop_assert!(f.score.is_nan());
                } else {
                    prop_assert_eq!(f.score, 1.0);
                }
            }
            if n > 0.0 {
                let f = froc(one, FrocConvention::Monai, &ROC_FP_RATES).unwrap();
                prop_assert!((f.score - (n - 1.0) / n).abs() < 1e-12);
            }
        }
        let sweep = threshold_sweep(&[(prob.view(), &lesions)], &[0.3, 0.6, 0.95], Connectivity::Eight)
            .unwrap();
        prop_assert!(sweep.fps_per_image.iter().all(|&f| f == 0.0));
        if n > 0.0 {
            prop_assert_eq!(sweep.sensitivity[2], 1.0);
        }
    }
}

/// A true and a false detection sharing a score: the reference curve jumps in both FP and
/// sensitivity at once, so the stepped reading stays at the point before the jump and the
/// interpolated one climbs along the segment; MONAI drops its lowest threshold (0.5 here).
#[test]
fn shared_scores() {
    let image = ImageDetections {
        detections: vec![
            Detection {
                score: 0.9,
                lesions: vec![1],
            },
            Detection {
                score: 0.7,
                lesions: vec![2],
            },
            Detection {
                score: 0.7,
                lesions: vec![],
            },
            Detection {
                score: 0.6,
                lesions: vec![1],
            },
        ],
        lesions: vec![1, 2, 3],
    };
    let one = std::slice::from_ref(&image);
    let step = froc(one, FrocConvention::RocStep, &[0.5, 1.0, 2.0]).unwrap();
    assert_eq!(step.curve.thresholds, vec![f64::INFINITY, 0.9, 0.7, 0.6]);
    assert_eq!(step.curve.fps_per_image, vec![0.0, 0.0, 1.0, 1.0]);
    let third = 1.0 / 3.0;
    assert_eq!(
        step.curve.sensitivity,
        vec![0.0, third, 2.0 / 3.0, 2.0 / 3.0]
    );
    assert_eq!(step.sensitivity_at_rates, vec![third, 2.0 / 3.0, 2.0 / 3.0]);
    let interp = froc(one, FrocConvention::RocInterp, &[0.5, 1.0, 2.0]).unwrap();
    assert!((interp.sensitivity_at_rates[0] - 0.5).abs() < 1e-12);
    assert_eq!(interp.sensitivity_at_rates[1..], [2.0 / 3.0, 2.0 / 3.0]);
    let s = fp_tp_scores(one);
    assert_eq!(s.fp, vec![0.7]);
    assert_eq!(s.tp, vec![0.9, 0.7, 0.0]);
    let monai = froc(one, FrocConvention::Monai, &[1.0]).unwrap();
    // Thresholds 0.9 and 0.7 (0 dropped), then the (0, 0) point.
    assert_eq!(monai.curve.thresholds, vec![f64::INFINITY, 0.9, 0.7]);
    assert_eq!(monai.curve.sensitivity, vec![0.0, third, 2.0 / 3.0]);
}

/// Input errors are refused, not silently scored.
#[test]
fn bad_input() {
    let mut p = Array2::<f32>::zeros((4, 4)).into_dyn();
    p[[1, 1]] = f32::NAN;
    assert!(prob_nms(&p.view(), &ProbNms::reference()).is_err());
    p[[1, 1]] = 0.5;
    assert!(prob_nms(&p.view(), &ProbNms::new(0.1, 0)).is_err());
    assert!(prob_nms(&p.view(), &ProbNms::new(f64::NAN, 3)).is_err());
    let gt = Array2::<u8>::zeros((3, 4)).into_dyn();
    let l =
        Lesions::components(&gt.view(), None, Connectivity::Eight, ScanOrder::RowMajor).unwrap();
    let cc = component_candidates(
        &p.view(),
        0.2,
        Connectivity::Eight,
        ComponentScore::Max,
        ScanOrder::RowMajor,
    )
    .unwrap();
    assert!(component_detections(&cc, &l, CandidateHit::Overlap).is_err());
    let out = dicekit_metrics::Candidate {
        score: 0.5,
        index: vec![3, 0],
    };
    assert!(point_detections(&[out], &l).is_err());
    assert!(froc(&[], FrocConvention::Monai, &ROC_FP_RATES).is_err());
    let im = ImageDetections::default();
    assert!(froc(std::slice::from_ref(&im), FrocConvention::Monai, &[]).is_err());
    assert!(froc(std::slice::from_ref(&im), FrocConvention::Monai, &[-1.0]).is_err());
    let nan = ImageDetections {
        detections: vec![Detection {
            score: f64::NAN,
            lesions: vec![],
        }],
        lesions: vec![],
    };
    assert!(froc(&[nan], FrocConvention::RocStep, &ROC_FP_RATES).is_err());
}
