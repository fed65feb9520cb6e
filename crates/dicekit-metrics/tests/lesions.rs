//! Lesion matching and lesion-wise metrics: the golden test on panoptica's and MONAI's values
//! in `../shared/reference/lesions/` (skipped with a message where that folder is absent, as on
//! a clean clone; another folder of the same layout: `DICEKIT_LESION_CASES=<dir>`), and
//! property tests of the matching rules.
use std::path::Path;

use dicekit_metrics::{
    Brats2023Challenge, Brats2023Region, Brats2023Result, Brats2025Parser, BratsTask, Connectivity,
    LesionEvaluation, LesionOptions, Lesions, Matching, MatchingRule, PairMetric, ScanOrder,
    SpacingAxes, binarised_foreground, brats2023_region, brats2025_evaluate, brats2025_results,
};
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use serde_json::Value;

mod common;
use common::number;

/// The matching rule of each panoptica config of `settings.panoptica_configs`.
fn panoptica_rule(config: &str) -> Option<MatchingRule> {
    let naive = |threshold, many_to_one| MatchingRule::IouThreshold {
        threshold,
        strict: false,
        many_to_one,
    };
    Some(match config {
        "default" | "naive_iou_0.5" => naive(0.5, false),
        "naive_iou_0.1" => naive(0.1, false),
        "naive_iou_0.1_many_to_one" => naive(0.1, true),
        "bipartite_iou_0.1" => MatchingRule::Bipartite {
            metric: PairMetric::Iou,
            threshold: 0.1,
        },
        _ => return None,
    })
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-12)
}

/// Compares every key panoptica reported with ours, that `prec`/`rec` are missing exactly
/// where panoptica left them out, and the `reference_instances` rows as a multiset.
fn check_panoptica(expected: &Value, ev: &LesionEvaluation) -> Result<(), String> {
    let ours = ev.panoptica().entries();
    let get = |k: &str| ours.iter().find(|(n, _)| *n == k).map(|x| x.1);
    let mut errs = Vec::new();
    let exp = expected.as_object().ok_or("not an object")?;
    for (k, v) in exp {
        if k == "reference_instances" {
            continue;
        }
        let Some(want) = number(v) else {
            errs.push(format!("{k}: expected {v}"));
            continue;
        };
        match get(k) {
            Some(got) if close(got, want, 1e-9) => {}
            got => errs.push(format!("{k}: panoptica {want}, dicekit {got:?}")),
        }
    }
    for k in ["prec", "rec"] {
        if !exp.contains_key(k) && get(k).is_some() {
            errs.push(format!("{k}: missing in panoptica, dicekit {:?}", get(k)));
        }
    }
    // Rows: (is_matched, voxel_count, volume, per-pair values), compared as multisets.
    let keys = [
        "sq", "sq_dsc", "sq_assd", "sq_rvd", "sq_hd", "sq_hd95", "sq_nsd",
    ];
    let want_rows: Vec<Vec<f64>> = expected["reference_instances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|row| {
            let mut r = vec![
                row["is_matched"].as_f64().unwrap_or(-1.0),
                row["voxel_count"].as_f64().unwrap_or(-1.0),
                row["volume"].as_f64().unwrap_or(-1.0),
            ];
            r.extend(
                keys.iter()
                    .map(|k| row.get(*k).and_then(number).unwrap_or(-1.0)),
            );
            r
        })
        .collect();
    let our_rows: Vec<Vec<f64>> = ev
        .rows
        .iter()
        .map(|row| {
            let mut r = vec![
                f64::from(u8::from(row.pair.is_some())),
                row.voxels as f64,
                row.volume_mm3,
            ];
            let p = row.pair.map(|i| &ev.pairs[i]);
            let d = p.and_then(|p| p.distances);
            r.extend(
                [
                    p.map(|p| p.iou),
                    p.map(|p| p.dice),
                    d.map(|d| d.assd),
                    p.map(|p| p.rvd),
                    d.map(|d| d.hd),
                    d.map(|d| d.hd95),
                    d.map(|d| d.nsd),
                ]
                .map(|x| x.unwrap_or(-1.0)),
            );
            r
        })
        .collect();
    // Greedy multiset match: each expected row consumes one equal row of ours; a key
    // panoptica did not report (-1) is not compared.
    let mut left = our_rows.clone();
    for w in &want_rows {
        let pos = left.iter().position(|o| {
            o.iter()
                .zip(w)
                .all(|(a, b)| *b == -1.0 || close(*a, *b, 1e-9))
        });
        match pos {
            Some(i) => {
                left.remove(i);
            }
            None => errs.push(format!(
                "reference_instances row {w:?} not among {our_rows:?}"
            )),
        }
    }
    if want_rows.len() != our_rows.len() {
        errs.push(format!(
            "{} reference rows, dicekit {}",
            want_rows.len(),
            our_rows.len()
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

fn check_monai(expected: &Value, ev: &LesionEvaluation) -> Result<(), String> {
    let m = ev.monai();
    let ours = [
        ("tp", m.tp),
        ("fp", m.fp),
        ("fn", m.fn_),
        ("iou_sum", m.iou_sum),
        ("pq", m.pq),
        ("sq", m.sq),
        ("rq", m.rq),
    ];
    let mut errs = Vec::new();
    for (k, got) in ours {
        // MONAI computes in float32.
        match expected.get(k).and_then(number) {
            Some(want) if close(got, want, 2e-6) => {}
            want => errs.push(format!("{k}: MONAI {want:?}, dicekit {got}")),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// Compares every key of `want` (an object of numbers) with `ours`.
fn check_keys(want: &Value, ours: &[(String, f64)], rel: f64) -> Vec<String> {
    let mut errs = Vec::new();
    for (k, v) in want.as_object().into_iter().flatten() {
        let Some(w) = number(v) else {
            errs.push(format!("{k}: expected {v}"));
            continue;
        };
        match ours.iter().find(|(n, _)| n == k) {
            Some((_, got)) if close(*got, w, rel) => {}
            got => errs.push(format!("{k}: peer {w}, dicekit {:?}", got.map(|g| g.1))),
        }
    }
    errs
}

fn result_of(errs: Vec<String>) -> Result<(), String> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// `brats_evaluation.{evaluate_single_exam.<group>, parse_seg_results, parse_mets_results}`:
/// one result per group of the single exam and one per parser.
fn check_brats2025(
    want: &Value,
    pred: &ArrayD<u32>,
    gt: &ArrayD<u32>,
    spacing: &[f64],
) -> Vec<(String, &'static str, Result<(), String>)> {
    let task = match want["config"].as_str() {
        Some("gli") => BratsTask::Gli,
        Some("MenRT") => BratsTask::MenRt,
        Some("mets") => BratsTask::Mets,
        Some("ped") => BratsTask::Ped,
        Some("MenPre") => BratsTask::MenPre,
        Some("GoAT") => BratsTask::GoAt,
        other => {
            return vec![(
                "config".into(),
                "brats_evaluation config",
                Err(format!("unknown config {other:?}")),
            )];
        }
    };
    let groups = match brats2025_evaluate(
        &pred.view(),
        &gt.view(),
        &task.groups(),
        spacing,
        SpacingAxes::MirroredAsFromFiles,
        ScanOrder::ColumnMajor,
    ) {
        Ok(g) => g,
        Err(e) => return vec![("evaluate".into(), "brats_evaluation", Err(e.to_string()))],
    };
    let mut out = Vec::new();
    let single = want["evaluate_single_exam"].as_object();
    let mut names: Vec<&String> = single.into_iter().flatten().map(|(k, _)| k).collect();
    names.sort();
    let mut ours_names: Vec<&String> = groups.iter().map(|g| &g.group.name).collect();
    ours_names.sort();
    if names != ours_names {
        out.push((
            "groups".into(),
            "brats_evaluation groups",
            Err(format!("peer groups {names:?}, dicekit {ours_names:?}")),
        ));
    }
    for g in &groups {
        if let Some(w) = single.and_then(|s| s.get(&g.group.name)) {
            out.push((
                format!("evaluate_single_exam {}", g.group.name),
                "brats_evaluation evaluate_single_exam",
                check_panoptica(w, &g.evaluation),
            ));
        }
    }
    for (key, parser) in [
        ("parse_seg_results", Brats2025Parser::Seg),
        ("parse_mets_results", Brats2025Parser::METS_DEFAULT),
    ] {
        let Some(w) = want.get(key) else { continue };
        let mut ours = Vec::new();
        let mut errs = Vec::new();
        for g in &groups {
            match brats2025_results(&g.evaluation, parser) {
                Ok(r) => ours.extend(r.entries(&g.group.name)),
                Err(e) => errs.push(e.to_string()),
            }
        }
        errs.extend(check_keys(w, &ours, 1e-9));
        let tally = if key == "parse_seg_results" {
            "brats_evaluation parse_seg_results"
        } else {
            "brats_evaluation parse_mets_results"
        };
        out.push((key.to_string(), tally, result_of(errs)));
    }
    out
}

/// `brats2023.<challenge>.<region>`: the results row, the lesions as a multiset of
/// (volume, Dice, HD95, number of matched components), and the sizes of the TP / FN / FP
/// lists; an `"error: ..."` entry must be an error here too.
fn check_brats2023(
    want: &Value,
    pred: &ArrayD<u32>,
    gt: &ArrayD<u32>,
    spacing: &[f64],
) -> Vec<(String, Result<(), String>)> {
    let mut out = Vec::new();
    for (challenge, name) in [
        (Brats2023Challenge::Gli, "BraTS-GLI"),
        (Brats2023Challenge::Met, "BraTS-MET"),
    ] {
        let Some(w) = want.get(name) else { continue };
        if let Some(err) = w.as_str() {
            let r = brats2023_region(
                &pred.view(),
                &gt.view(),
                challenge,
                Brats2023Region::Wt,
                spacing,
                ScanOrder::ColumnMajor,
            );
            out.push((
                name.to_string(),
                match r {
                    Err(_) => Ok(()),
                    Ok(_) => Err(format!("the script raised ({err}), dicekit did not")),
                },
            ));
            continue;
        }
        for region in Brats2023Region::ALL {
            let Some(wr) = w.get(region.name()) else {
                continue;
            };
            let r = brats2023_region(
                &pred.view(),
                &gt.view(),
                challenge,
                region,
                spacing,
                ScanOrder::ColumnMajor,
            )
            .map_err(|e| e.to_string())
            .and_then(|ours| result_of(compare_brats2023(wr, &ours)));
            out.push((format!("{name} {}", region.name()), r));
        }
    }
    out
}

fn compare_brats2023(want: &Value, ours: &Brats2023Result) -> Vec<String> {
    let row = [
        ("Num_TP", ours.num_tp as f64),
        ("Num_FP", ours.num_fp as f64),
        ("Num_FN", ours.num_fn as f64),
        ("Sensitivity", ours.sensitivity),
        ("Specificity", ours.specificity),
        ("Legacy_Dice", ours.legacy_dice),
        ("Legacy_HD95", ours.legacy_hd95),
        ("GT_Complete_Volume", ours.gt_complete_volume),
        ("LesionWise_Score_Dice", ours.lesionwise_dice),
        ("LesionWise_Score_HD95", ours.lesionwise_hd95),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let mut errs = check_keys(&want["results"], &row, 1e-9);
    let key = |v: f64, d: f64, h: f64, n: f64| vec![v, d, h, n];
    let want_lesions: Vec<Vec<f64>> = want["lesions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            key(
                l["gt_volume_mm3"].as_f64().unwrap_or(-1.0),
                number(&l["dice"]).unwrap_or(-1.0),
                number(&l["hd95"]).unwrap_or(-1.0),
                l["pred_components"]
                    .as_array()
                    .map_or(-1.0, |a| a.len() as f64),
            )
        })
        .collect();
    let mut left: Vec<Vec<f64>> = ours
        .lesions
        .iter()
        .map(|l| {
            key(
                l.gt_volume_mm3,
                l.dice,
                l.hd95,
                l.pred_components.len() as f64,
            )
        })
        .collect();
    let all = left.clone();
    for w in &want_lesions {
        match left
            .iter()
            .position(|o| o.iter().zip(w).all(|(a, b)| close(*a, *b, 1e-9)))
        {
            Some(i) => {
                left.remove(i);
            }
            None => errs.push(format!("lesion {w:?} not among {all:?}")),
        }
    }
    if !left.is_empty() {
        errs.push(format!("extra lesions {left:?}"));
    }
    for (k, n) in [
        ("tp_pred_components", ours.tp_pred_components.len()),
        ("fn_gt_lesions", ours.fn_gt_lesions.len()),
        ("fp_pred_components", ours.fp_pred_components.len()),
    ] {
        let w = want[k].as_array().map(Vec::len);
        if w != Some(n) {
            errs.push(format!("{k}: peer {w:?} entries, dicekit {n}"));
        }
    }
    errs
}

#[test]
fn peer_lesion_cases() {
    for dir in common::lesion_case_dirs("lesion cases") {
        println!("{}:", dir.display());
        run_dir(&dir);
    }
}

/// Every case and label of `dir/expected.json`: each panoptica config
/// (`per_label.<label>.panoptica.<config>`) and each MONAI input and threshold
/// (`per_label.<label>.monai_panoptic_quality.<input>.<thr>`); prints
/// `lesion cases: N passed, M failed, K skipped`.
fn run_dir(dir: &Path) {
    let expected = common::read_expected(dir);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut skips = std::collections::BTreeSet::new();
    // Passed and failed per panoptica config / MONAI input and threshold.
    let mut tally: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for (name, case) in expected["cases"].as_object().expect("cases") {
        let read = |k: &str| {
            let f = dir.join(case["files"][k].as_str().expect("file name"));
            dicekit_data::read_label_map(&f).unwrap_or_else(|e| panic!("{e}"))
        };
        let (gt, pred) = (read("gt"), read("pred"));
        let spacing = gt.spacing.clone();
        let nd = gt.data.ndim();
        let instance = case["kind"].as_str() == Some("instance");
        for (label, per) in case["per_label"].as_object().expect("per_label") {
            let label: u32 = label.parse().expect("label");
            // panoptica: scipy faces in 2D (numbered in C order whatever the memory order),
            // cc3d 26 in 3D (numbered in the memory order: nibabel's Fortran order); instance
            // maps as given. The numbering decides ties in the matching.
            let pano_order = if nd == 2 {
                ScanOrder::RowMajor
            } else {
                ScanOrder::ColumnMajor
            };
            let side = |v: &dicekit_data::Volume<u32>, conn: Connectivity| {
                if instance {
                    Lesions::instances(&v.data.view(), pano_order)
                } else {
                    Lesions::components(&v.data.view(), Some(label), conn, pano_order)
                }
                .expect("lesions")
            };
            let pano_conn = if nd == 2 {
                Connectivity::Four
            } else {
                Connectivity::TwentySix
            };
            let (p, g) = (side(&pred, pano_conn), side(&gt, pano_conn));
            for (config, want) in per["panoptica"].as_object().into_iter().flatten() {
                let id = format!("{name} label {label} panoptica {config}");
                let Some(rule) = panoptica_rule(config) else {
                    skipped += 1;
                    skips.insert(format!("panoptica config {config}: no rule for it"));
                    continue;
                };
                let r = LesionEvaluation::new(&p, &g, rule, &LesionOptions::new(&spacing))
                    .map_err(|e| e.to_string())
                    .and_then(|ev| check_panoptica(want, &ev));
                let t = tally.entry(format!("panoptica {config}")).or_default();
                if r.is_ok() {
                    t.0 += 1;
                } else {
                    t.1 += 1;
                }
                match r {
                    Ok(()) => passed += 1,
                    Err(e) => {
                        failed += 1;
                        failures.push(format!("{id}: {e}"));
                    }
                }
            }
            for (input, per_thr) in per["monai_panoptic_quality"]
                .as_object()
                .into_iter()
                .flatten()
            {
                let sides = if input == "instances" {
                    Some((
                        Lesions::instances(&pred.data.view(), ScanOrder::ColumnMajor),
                        Lesions::instances(&gt.data.view(), ScanOrder::ColumnMajor),
                    ))
                } else {
                    input
                        .strip_prefix("cc")
                        .and_then(|c| c.parse().ok())
                        .and_then(Connectivity::from_neighbours)
                        .map(|c| {
                            // Instance cases: the binarised foreground.
                            let l = (!instance).then_some(label);
                            (
                                Lesions::components(
                                    &pred.data.view(),
                                    l,
                                    c,
                                    ScanOrder::ColumnMajor,
                                ),
                                Lesions::components(&gt.data.view(), l, c, ScanOrder::ColumnMajor),
                            )
                        })
                };
                for (thr, want) in per_thr.as_object().into_iter().flatten() {
                    let id = format!("{name} label {label} monai {input} {thr}");
                    let (Some((Ok(p), Ok(g))), Ok(t)) = (
                        sides.as_ref().map(|(a, b)| (a.clone(), b.clone())),
                        thr.parse::<f64>(),
                    ) else {
                        skipped += 1;
                        skips.insert(format!(
                            "monai input {input} / threshold {thr}: not understood"
                        ));
                        continue;
                    };
                    let opts = LesionOptions {
                        distances: false,
                        ..LesionOptions::new(&spacing)
                    };
                    let r = LesionEvaluation::new(&p, &g, MatchingRule::monai(t), &opts)
                        .map_err(|e| e.to_string())
                        .and_then(|ev| check_monai(want, &ev));
                    let key = if input == "instances" {
                        "instances"
                    } else {
                        "cc"
                    };
                    let t = tally.entry(format!("monai {key} {thr}")).or_default();
                    if r.is_ok() {
                        t.0 += 1;
                    } else {
                        t.1 += 1;
                    }
                    match r {
                        Ok(()) => passed += 1,
                        Err(e) => {
                            failed += 1;
                            failures.push(format!("{id}: {e}"));
                        }
                    }
                }
            }
        }
        let instance_fg = |v: &dicekit_data::Volume<u32>| {
            if instance {
                binarised_foreground(&v.data.view())
            } else {
                v.data.clone()
            }
        };
        let (pm, gm) = (instance_fg(&pred), instance_fg(&gt));
        let mut record = |id: String, key: &str, r: Result<(), String>| {
            let t = tally.entry(key.to_string()).or_default();
            match r {
                Ok(()) => {
                    t.0 += 1;
                    passed += 1;
                }
                Err(e) => {
                    t.1 += 1;
                    failed += 1;
                    failures.push(format!("{id}: {e}"));
                }
            }
        };
        if let Some(want) = case.get("brats_evaluation") {
            for (id, key, r) in check_brats2025(want, &pm, &gm, &spacing) {
                record(format!("{name} brats_evaluation {id}"), key, r);
            }
        }
        if let Some(want) = case.get("brats2023") {
            for (id, r) in check_brats2023(want, &pm, &gm, &spacing) {
                record(format!("{name} brats2023 {id}"), "brats2023", r);
            }
        }
        // MONAI's PanopticQualityMetric per class (cc3d 26 instances per class, IoU > 0.5):
        // each class is the per-label evaluation of its components.
        if let Some(want) = case.get("monai_panoptic_quality_metric") {
            for (class, w) in want["per_class"].as_object().into_iter().flatten() {
                let id = format!("{name} monai_panoptic_quality_metric class {class}");
                let r = class
                    .parse::<u32>()
                    .map_err(|e| e.to_string())
                    .and_then(|k| {
                        let side = |v: &dicekit_data::Volume<u32>| {
                            Lesions::components(
                                &v.data.view(),
                                Some(k),
                                Connectivity::TwentySix,
                                ScanOrder::ColumnMajor,
                            )
                            .map_err(|e| e.to_string())
                        };
                        let (p, g) = (side(&pred)?, side(&gt)?);
                        LesionEvaluation::new(
                            &p,
                            &g,
                            MatchingRule::monai(0.5),
                            &LesionOptions::new(&spacing),
                        )
                        .map_err(|e| e.to_string())
                    })
                    .and_then(|ev| check_monai(w, &ev));
                record(id, "monai_panoptic_quality_metric", r);
            }
        }
        // FROC entries are checked by tests/froc.rs.
        if case.get("froc").is_some() {
            skipped += 1;
            skips.insert("froc: checked in tests/froc.rs".into());
        }
    }
    for (k, (p, f)) in &tally {
        println!("  {k}: {p} passed, {f} failed");
    }
    for s in &skips {
        println!("skipped: {s}");
    }
    println!("lesion cases: {passed} passed, {failed} failed, {skipped} skipped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 0, "no case in {}", dir.display());
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn arb_pair() -> impl Strategy<Value = (Vec<usize>, Vec<u8>, Vec<u8>)> {
    (2usize..=3).prop_flat_map(|nd| {
        let side = if nd == 2 { 2usize..=12 } else { 2usize..=6 };
        proptest::collection::vec(side, nd).prop_flat_map(|dims| {
            let n: usize = dims.iter().product();
            let v = || proptest::collection::vec(prop_oneof![3 => Just(0u8), 2 => Just(1u8)], n);
            (Just(dims), v(), v())
        })
    })
}

fn rules() -> Vec<MatchingRule> {
    vec![
        MatchingRule::PANOPTICA_DEFAULT,
        MatchingRule::IouThreshold {
            threshold: 0.1,
            strict: false,
            many_to_one: false,
        },
        MatchingRule::IouThreshold {
            threshold: 0.1,
            strict: false,
            many_to_one: true,
        },
        MatchingRule::Bipartite {
            metric: PairMetric::Iou,
            threshold: 0.0,
        },
        MatchingRule::Bipartite {
            metric: PairMetric::Dice,
            threshold: 0.3,
        },
        MatchingRule::monai(0.5),
        MatchingRule::monai(0.25),
        MatchingRule::AnyOverlap,
    ]
}

fn lesions(dims: &[usize], v: &[u8]) -> Lesions {
    let a = ArrayD::from_shape_vec(IxDyn(dims), v.to_vec()).unwrap();
    let c = Connectivity::full(dims.len()).unwrap();
    Lesions::components(&a.view(), None, c, ScanOrder::RowMajor).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// One-to-one rules match no lesion twice; every rule's counts add up to the number of
    /// lesions on each side; matched pairs overlap; many-to-one never shares a prediction.
    #[test]
    fn matching_is_consistent((dims, p, g) in arb_pair()) {
        let (p, g) = (lesions(&dims, &p), lesions(&dims, &g));
        for rule in rules() {
            let m = Matching::new(&p, &g, rule).unwrap();
            let mut preds: Vec<u32> = m.pairs.iter().map(|o| o.pred).collect();
            let mut refs: Vec<u32> = m.pairs.iter().map(|o| o.reference).collect();
            preds.sort_unstable();
            refs.sort_unstable();
            let (np, nr) = (preds.len(), refs.len());
            preds.dedup();
            refs.dedup();
            if rule.is_one_to_one() {
                prop_assert_eq!(np, preds.len(), "{:?}: a prediction matched twice", rule);
                prop_assert_eq!(nr, refs.len(), "{:?}: a reference matched twice", rule);
                prop_assert_eq!(m.tp(), m.tp_pred());
            }
            if let MatchingRule::IouThreshold { .. } = rule {
                prop_assert_eq!(np, preds.len(), "a prediction matched twice");
            }
            prop_assert_eq!(m.tp() + m.fn_(), g.len());
            prop_assert_eq!(m.tp_pred() + m.fp(), p.len());
            prop_assert!(m.pairs.iter().all(|o| o.intersection > 0));
            let ev = LesionEvaluation::new(&p, &g, rule, &LesionOptions::new(&vec![1.0; dims.len()])).unwrap();
            let s = ev.panoptica();
            prop_assert_eq!(s.tp + s.fn_, g.len());
            prop_assert_eq!(s.fp, m.fp());
            prop_assert_eq!(ev.rows.len(), g.len());
            prop_assert_eq!(ev.rows.iter().filter(|r| r.pair.is_some()).count(), m.tp());
            if let Some(pr) = ev.precision() {
                prop_assert!((0.0..=1.0).contains(&pr));
            }
        }
    }

    /// Prediction equal to the reference: every rule matches every lesion to itself; recall,
    /// precision, F1, PQ, SQ and RQ are 1, distances 0, NSD 1.
    #[test]
    fn identical_masks_score_one((dims, _p, g) in arb_pair()) {
        let g = lesions(&dims, &g);
        for rule in rules() {
            let ev = LesionEvaluation::new(&g, &g, rule, &LesionOptions::new(&vec![0.5; dims.len()])).unwrap();
            let m = &ev.matching;
            prop_assert_eq!(m.tp(), g.len());
            prop_assert_eq!(m.fp() + m.fn_(), 0);
            prop_assert!(m.splits.is_empty() && m.merges.is_empty());
            if g.is_empty() {
                prop_assert!(ev.recall().is_none() && ev.precision().is_none());
                prop_assert!(ev.panoptica().rq.is_nan());
                continue;
            }
            prop_assert_eq!(ev.recall(), Some(1.0));
            prop_assert_eq!(ev.precision(), Some(1.0));
            prop_assert_eq!(ev.f1(), Some(1.0));
            let s = ev.panoptica();
            prop_assert_eq!((s.pq, s.sq, s.rq, s.sq_dsc), (1.0, 1.0, 1.0, 1.0));
            for p in &ev.pairs {
                let d = p.distances.unwrap();
                prop_assert_eq!((d.hd, d.hd95, d.assd, d.nsd), (0.0, 0.0, 0.0, 1.0));
            }
            let q = ev.monai();
            prop_assert!((q.pq - 1.0).abs() < 1e-5);
        }
    }

    /// Splits and merges are read off the overlaps: a reference lesion listed as split is
    /// overlapped by every prediction listed, and by no other.
    #[test]
    fn splits_and_merges((dims, p, g) in arb_pair()) {
        let (p, g) = (lesions(&dims, &p), lesions(&dims, &g));
        let table = dicekit_metrics::overlaps(&p, &g).unwrap();
        let m = Matching::new(&p, &g, MatchingRule::AnyOverlap).unwrap();
        for s in &m.splits {
            let mut want: Vec<u32> = table.iter().filter(|o| o.reference == s.id).map(|o| o.pred).collect();
            want.sort_unstable();
            prop_assert_eq!(&want, &s.others);
            prop_assert!(want.len() >= 2);
        }
        for s in &m.merges {
            let mut want: Vec<u32> = table.iter().filter(|o| o.pred == s.id).map(|o| o.reference).collect();
            want.sort_unstable();
            prop_assert_eq!(&want, &s.others);
            prop_assert!(want.len() >= 2);
        }
        // The overlap table against a voxel count.
        for o in &table {
            let n = p.ids.iter().zip(g.ids.iter()).filter(|(a, b)| **a == o.pred && **b == o.reference).count() as u64;
            prop_assert_eq!(n, o.intersection);
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let a = lesions(&[4, 4], &[1; 16]);
    let b = lesions(&[4, 5], &[1; 20]);
    assert!(Matching::new(&a, &b, MatchingRule::AnyOverlap).is_err());
    let bad = MatchingRule::IouThreshold {
        threshold: 1.5,
        strict: false,
        many_to_one: false,
    };
    assert!(Matching::new(&a, &a, bad).is_err());
    assert!(
        LesionEvaluation::new(
            &a,
            &a,
            MatchingRule::AnyOverlap,
            &LesionOptions::new(&[1.0])
        )
        .is_err()
    );
    let nan = MatchingRule::Bipartite {
        metric: PairMetric::Iou,
        threshold: f64::NAN,
    };
    assert!(Matching::new(&a, &a, nan).is_err());
}
