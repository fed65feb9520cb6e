//! `evaluate_lesion_files` (what `dicekit eval --lesions` prints): counts on a hand-made pair,
//! and, on the committed peer cases of dicekit-metrics and the shared reference folder (or
//! `DICEKIT_LESION_CASES`), panoptica's detection counts, the FROC scores and the BraTS values
//! through the whole eval path.
use std::path::{Path, PathBuf};

use dicekit_data::image::write_image_nifti;
use dicekit_data::{Volume, write_label_map_nifti};
use dicekit_eval::{
    BratsProtocol, Candidates, EvalOptions, FrocOptions, LesionEvalOptions, evaluate_brats_files,
    evaluate_lesion_files,
};
use dicekit_metrics::{
    Brats2023Challenge, Brats2025Parser, BratsTask, ComponentScore, Connectivity, FrocConvention,
    MatchingRule, ProbNms, ROC_FP_RATES,
};
use ndarray::{ArrayD, IxDyn};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dicekit-eval-lesions-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Squares of side `s` at `(y, x)` in a 40x40 map.
fn squares(list: &[(usize, usize, usize)]) -> ArrayD<u32> {
    let mut a = ArrayD::zeros(IxDyn(&[40, 40]));
    for &(y, x, s) in list {
        for i in y..y + s {
            for j in x..x + s {
                a[[i, j].as_slice()] = 1;
            }
        }
    }
    a
}

#[test]
fn found_missed_false_and_size_bins() {
    let dir = temp("hand");
    // Reference: a big lesion (36 px), a small one (1 px), a missed one (4 px).
    let truth = squares(&[(2, 2, 6), (20, 20, 1), (30, 30, 2)]);
    // Prediction: the big one, the small one, and a false positive (9 px) far away.
    let pred = squares(&[(2, 2, 6), (20, 20, 1), (10, 30, 3)]);
    let (p, t) = (dir.join("pred.nii.gz"), dir.join("truth.nii.gz"));
    write_label_map_nifti(&p, &Volume::new(pred)).unwrap();
    write_label_map_nifti(&t, &Volume::new(truth)).unwrap();
    let options = LesionEvalOptions {
        size_bins: vec![2.0, 10.0],
        ..LesionEvalOptions::default()
    };
    let set = evaluate_lesion_files(&p, &t, &options, |_, _| {}).unwrap();
    assert!(set.failures.is_empty());
    let l = &set.results[0].labels[0];
    assert_eq!(
        (
            l.reference,
            l.predicted,
            l.found,
            l.missed,
            l.false_positives
        ),
        (3, 3, 2, 1, 1)
    );
    assert_eq!(l.recall(), Some(2.0 / 3.0));
    assert_eq!(l.precision(), Some(2.0 / 3.0));
    assert_eq!(l.mean_lesion_dice(), Some(1.0));
    let bins: Vec<(u64, u64, u64, u64)> = l
        .bins
        .iter()
        .map(|b| (b.reference, b.found, b.missed, b.false_positives))
        .collect();
    // [0, 2): the 1 px lesion; [2, 10): the missed 4 px one and the 9 px false positive;
    // >= 10: the 36 px one.
    assert_eq!(bins, [(1, 1, 0, 0), (1, 0, 1, 1), (1, 1, 0, 0)]);
    let rows = set.json_rows();
    assert!(
        rows.iter()
            .any(|r| r["case"] == "(all cases)" && r["metric"] == "recall")
    );
    assert!(
        set.csv_rows()
            .unwrap()
            .starts_with("case,label,size_bin,metric,value\n")
    );
    assert!(set.table().contains("By lesion size"));
    // The same bins in voxels (spacing 1 here): the same counts, named so.
    let in_voxels = LesionEvalOptions {
        size_unit: dicekit_eval::SizeUnit::Voxels,
        ..options.clone()
    };
    let v = evaluate_lesion_files(&p, &t, &in_voxels, |_, _| {}).unwrap();
    assert_eq!(v.results[0].labels[0].bins[0].name(), "[0, 2) voxels");
    assert_eq!(v.results[0].labels[0].bins[1].missed, 1);
    // Bad bins are an error naming them.
    let bad = LesionEvalOptions {
        size_bins: vec![10.0, 2.0],
        ..LesionEvalOptions::default()
    };
    let e = evaluate_lesion_files(&p, &t, &bad, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("size-bins"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// panoptica's default matching (IoU >= 0.5, 4-connectivity in 2D, 26 in 3D; instance maps
/// as given) on the shared cases: tp, fp, fn as panoptica reported them.
#[test]
fn panoptica_counts_through_eval() {
    for (root, expected) in folders() {
        panoptica_counts_through_eval_in(&root, &expected);
    }
}

fn panoptica_counts_through_eval_in(root: &Path, expected: &serde_json::Value) {
    let mut checked = 0;
    for (name, case) in expected["cases"].as_object().unwrap() {
        let ndim = case["ndim"].as_u64().unwrap() as usize;
        let options = LesionEvalOptions {
            // Instance maps: the ids as given (panoptica's UNMATCHED_INSTANCE).
            instances: case["kind"] == "instance",
            eval: EvalOptions::default(),
            connectivity: Connectivity::faces(ndim)
                .filter(|_| ndim == 2)
                .or(Connectivity::full(ndim)),
            rule: MatchingRule::PANOPTICA_DEFAULT,
            size_bins: vec![],
            distances: false,
            ..LesionEvalOptions::default()
        };
        let p = root.join(format!("cases/{name}_pred.nii.gz"));
        let t = root.join(format!("cases/{name}_gt.nii.gz"));
        let set = evaluate_lesion_files(&p, &t, &options, |_, _| {}).unwrap();
        for l in &set.results[0].labels {
            let e = &case["per_label"][l.label.to_string()]["panoptica"]["default"];
            if e.is_null() {
                continue;
            }
            let n = |k: &str| e[k].as_u64().unwrap();
            assert_eq!(
                (l.found, l.false_positives, l.missed),
                (n("tp"), n("fp"), n("fn")),
                "{name} label {}",
                l.label
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    println!("panoptica counts: {checked} labels checked");
}

/// The lesion reference folders: `DICEKIT_LESION_CASES` alone, else dicekit-metrics' committed
/// peer cases and the shared folder (when present).
fn folders() -> Vec<(PathBuf, serde_json::Value)> {
    let roots = match std::env::var_os("DICEKIT_LESION_CASES") {
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../dicekit-metrics/tests/golden/lesions"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/lesions"),
        ],
    };
    roots
        .into_iter()
        .filter_map(|root| {
            let text = std::fs::read_to_string(root.join("expected.json")).ok()?;
            Some((root, serde_json::from_str(&text).unwrap()))
        })
        .collect()
}

fn value(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) if s == "nan" => f64::NAN,
        v => v.as_f64().unwrap(),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-12
}

/// The FROC cases of the shared folder through `dicekit eval --lesions --probabilities`
/// (ProbNMS maxima, threshold 0.1, box 5, full connectivity): each case alone and the three
/// pooled as one folder, under MONAI's curve and the ROC reference read both ways.
#[test]
fn froc_through_eval() {
    for (root, expected) in folders() {
        froc_through_eval_in(&root, &expected);
    }
}

fn froc_through_eval_in(root: &Path, expected: &serde_json::Value) {
    // The folder's ProbNMS settings (the shared folder: threshold 0.1, box 5, no smoothing);
    // a case may carry its own (`froc.prob_nms`).
    if expected["froc_set"].is_null() {
        println!("skipped: no froc_set");
        return;
    }
    let candidates = |nms: &serde_json::Value| Candidates::Maxima {
        nms: ProbNms::new(
            nms["prob_threshold"].as_f64().unwrap_or(0.1),
            nms["box_size"].as_u64().unwrap_or(5) as usize,
        ),
        sigma: nms["sigma"].as_f64().unwrap_or(0.0),
    };
    let options = |convention, nms: &serde_json::Value| LesionEvalOptions {
        rule: MatchingRule::AnyOverlap,
        size_bins: vec![],
        froc: FrocOptions {
            candidates: candidates(nms),
            convention,
            fp_rates: ROC_FP_RATES.to_vec(),
            ..FrocOptions::default()
        },
        ..LesionEvalOptions::default()
    };
    let conventions = [
        (FrocConvention::Monai, "monai", "froc_score_roc_rates"),
        (FrocConvention::RocInterp, "reference_roc", "score_interp"),
        (FrocConvention::RocStep, "reference_roc", "score_step"),
    ];
    let settings = &expected["settings"]["prob_nms"];
    let set_dir = temp("froc-set");
    let mut checked = 0;
    let mut own_settings = false;
    let set_cases = expected["froc_set"]["cases"].as_array().unwrap();
    for name in set_cases {
        let name = name.as_str().unwrap();
        let file = |kind: &str| root.join(format!("cases/{name}_{kind}.nii.gz"));
        for (kind, sub) in [("pred", "pred"), ("gt", "truth"), ("prob", "prob")] {
            std::fs::create_dir_all(set_dir.join(sub)).unwrap();
            std::fs::copy(file(kind), set_dir.join(format!("{sub}/{name}.nii.gz"))).unwrap();
        }
        let froc = &expected["cases"][name]["froc"];
        let nms = if froc["prob_nms"].is_object() {
            own_settings = true;
            &froc["prob_nms"]
        } else {
            settings
        };
        for (convention, peer, key) in conventions {
            let mut o = options(convention, nms);
            o.probabilities = Some(file("prob"));
            let set = evaluate_lesion_files(&file("pred"), &file("gt"), &o, |_, _| {}).unwrap();
            assert!(set.failures.is_empty(), "{:?}", set.failures);
            let want = value(&froc[peer][key]);
            let got = set.froc[0].all.score;
            assert!(same(got, want), "{name} {peer} {key}: {got} vs {want}");
            checked += 1;
        }
    }
    // The pooled set, when one setting serves every case.
    for (convention, peer, key) in conventions.iter().filter(|_| !own_settings) {
        let mut o = options(*convention, settings);
        o.probabilities = Some(set_dir.join("prob"));
        let set =
            evaluate_lesion_files(&set_dir.join("pred"), &set_dir.join("truth"), &o, |_, _| {})
                .unwrap();
        assert!(set.failures.is_empty(), "{:?}", set.failures);
        let want = value(&expected["froc_set"][peer][key]);
        let f = &set.froc[0].all;
        assert_eq!(f.curve.n_images, set_cases.len());
        assert!(
            same(f.score, want),
            "set {peer} {key}: {} vs {want}",
            f.score
        );
        checked += 1;
    }
    std::fs::remove_dir_all(&set_dir).ok();
    println!("froc through eval: {checked} scores checked");
}

/// Component candidates on a hand-made map: each lesion's score is its component's peak, a
/// false component counts once per image, and the size bins split the lesions.
#[test]
fn froc_from_component_candidates_by_size() {
    let dir = temp("froc-components");
    // Reference: a 1 px lesion and a 36 px lesion; the 4 px lesion at (30, 30) has no
    // candidate.
    let truth = squares(&[(2, 2, 6), (20, 20, 1), (30, 30, 2)]);
    let pred = squares(&[(2, 2, 6)]);
    let mut prob = ArrayD::<f32>::zeros(IxDyn(&[1, 40, 40]));
    for i in 2..8 {
        for j in 2..8 {
            prob[[0, i, j].as_slice()] = 0.9;
        }
    }
    prob[[0, 20, 20].as_slice()] = 0.3; // the 1 px lesion, weakly
    prob[[0, 10, 30].as_slice()] = 0.6; // a false positive
    let (p, t, pr) = (
        dir.join("pred.nii.gz"),
        dir.join("truth.nii.gz"),
        dir.join("prob.nii.gz"),
    );
    write_label_map_nifti(&p, &Volume::new(pred)).unwrap();
    write_label_map_nifti(&t, &Volume::new(truth)).unwrap();
    write_image_nifti(&pr, &Volume::channels_first(prob)).unwrap();
    let options = LesionEvalOptions {
        size_bins: vec![2.0],
        probabilities: Some(pr.clone()),
        froc: FrocOptions {
            candidates: Candidates::Components {
                threshold: 0.1,
                score: ComponentScore::Max,
            },
            convention: FrocConvention::RocStep,
            fp_rates: vec![0.5, 1.0],
            ..FrocOptions::default()
        },
        ..LesionEvalOptions::default()
    };
    let set = evaluate_lesion_files(&p, &t, &options, |_, _| {}).unwrap();
    let f = &set.froc[0];
    // Thresholds inf, 0.9, 0.6, 0.3: sensitivity 0, 1/3, 1/3, 2/3 at 0, 0, 1, 1 FP.
    assert_eq!(f.all.curve.fps_per_image, [0.0, 0.0, 1.0, 1.0]);
    assert_eq!(f.all.sensitivity_at_rates, [1.0 / 3.0, 2.0 / 3.0]);
    // [0, 2): the 1 px lesion, found at 0.3 after the false positive; >= 2: the 36 px lesion
    // (found) and the 4 px one (never).
    let small = f.bins[0].as_ref().unwrap();
    assert_eq!(small.sensitivity_at_rates, [0.0, 1.0]);
    let large = f.bins[1].as_ref().unwrap();
    assert_eq!(large.sensitivity_at_rates, [0.5, 0.5]);
    assert!(set.table().contains("FROC score"));
    assert!(
        set.json_rows()
            .iter()
            .any(|r| r["metric"] == "froc_score" && r["size_bin"] == "[0, 2) mm3")
    );
    // A probability map of another shape, or a missing channel, is a failure naming the file.
    let small_map = dir.join("small.nii.gz");
    write_image_nifti(
        &small_map,
        &Volume::channels_first(ArrayD::<f32>::zeros(IxDyn(&[1, 8, 8]))),
    )
    .unwrap();
    let bad = LesionEvalOptions {
        probabilities: Some(small_map),
        ..options.clone()
    };
    let set = evaluate_lesion_files(&p, &t, &bad, |_, _| {}).unwrap();
    assert!(set.results.is_empty());
    assert!(set.failures[0].to_string().contains("small.nii.gz"));
    std::fs::remove_dir_all(&dir).ok();
}

/// `--brats` on the shared case files: BraTS 2023 (GLI and MET, every region's row) and BraTS
/// 2025 (both parsers, every key) as the peers computed them from the same files.
#[test]
fn brats_through_eval() {
    for (root, expected) in folders() {
        brats_through_eval_in(&root, &expected);
    }
}

fn brats_through_eval_in(root: &Path, expected: &serde_json::Value) {
    let num = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) if s == "nan" => Some(f64::NAN),
        serde_json::Value::String(s) if s == "inf" => Some(f64::INFINITY),
        v => v.as_f64(),
    };
    let close = |a: f64, b: f64| {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-9 * a.abs().max(1.0)
    };
    let mut checked = 0;
    for (name, case) in expected["cases"].as_object().unwrap() {
        if case["kind"] != "semantic" {
            continue;
        }
        let p = root.join(format!("cases/{name}_pred.nii.gz"));
        let t = root.join(format!("cases/{name}_gt.nii.gz"));
        let task = match case["brats_evaluation"]["config"].as_str() {
            Some("gli") => BratsTask::Gli,
            Some("mets") => BratsTask::Mets,
            Some("ped") => BratsTask::Ped,
            Some("MenRT") => BratsTask::MenRt,
            Some("MenPre") => BratsTask::MenPre,
            Some("GoAT") => BratsTask::GoAt,
            _ => continue,
        };
        let mut runs: Vec<(BratsProtocol, &serde_json::Value)> = vec![
            (
                BratsProtocol::Brats2025 {
                    task,
                    parser: Brats2025Parser::METS_DEFAULT,
                },
                &case["brats_evaluation"]["parse_mets_results"],
            ),
            (
                BratsProtocol::Brats2025 {
                    task,
                    parser: Brats2025Parser::Seg,
                },
                &case["brats_evaluation"]["parse_seg_results"],
            ),
        ];
        for (c, key) in [
            (Brats2023Challenge::Gli, "BraTS-GLI"),
            (Brats2023Challenge::Met, "BraTS-MET"),
        ] {
            runs.push((BratsProtocol::Brats2023(c), &case["brats2023"][key]));
        }
        for (protocol, want) in runs {
            let set =
                evaluate_brats_files(&p, &t, protocol, &EvalOptions::default(), |_, _| {}).unwrap();
            if want.is_string() && case["ndim"] == 2 {
                // The 2023 script refuses 2D files; so does dicekit.
                assert!(set.results.is_empty() && !set.failures.is_empty(), "{name}");
                continue;
            }
            if !want.is_object() {
                continue;
            }
            let rows = set.json_rows();
            let got = |region: Option<&str>, metric: &str| -> f64 {
                let r = rows
                    .iter()
                    .find(|r| {
                        r["case"] != "(mean)"
                            && r["metric"] == metric
                            && region.is_none_or(|g| r["region"] == g)
                    })
                    .unwrap_or_else(|| panic!("{name} {}: no {metric}", protocol.name()));
                num(&r["value"]).unwrap_or(f64::NAN)
            };
            match protocol {
                BratsProtocol::Brats2025 { .. } => {
                    for (k, v) in want.as_object().unwrap() {
                        let (a, b) = (got(None, k), num(v).unwrap());
                        assert!(close(a, b), "{name} {} {k}: {a} vs {b}", protocol.name());
                        checked += 1;
                    }
                }
                BratsProtocol::Brats2023(_) => {
                    for region in ["WT", "TC", "ET"] {
                        let Some(row) = want[region]["results"].as_object() else {
                            continue;
                        };
                        for (k, v) in row {
                            let (a, b) = (got(Some(region), k), num(v).unwrap());
                            assert!(
                                close(a, b),
                                "{name} {} {region} {k}: {a} vs {b}",
                                protocol.name()
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 0, "{checked}");
    println!("brats through eval: {checked} values checked");
}
