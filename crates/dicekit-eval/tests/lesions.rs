//! `evaluate_lesion_files` (what `dicekit eval --lesions` prints): counts on a hand-made pair,
//! and panoptica's detection counts on the shared reference cases when they are present.
use std::path::{Path, PathBuf};

use dicekit_data::{Volume, write_label_map_nifti};
use dicekit_eval::{EvalOptions, LesionEvalOptions, evaluate_lesion_files};
use dicekit_metrics::{Connectivity, MatchingRule};
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
    // Bad bins are an error naming them.
    let bad = LesionEvalOptions {
        size_bins: vec![10.0, 2.0],
        ..LesionEvalOptions::default()
    };
    let e = evaluate_lesion_files(&p, &t, &bad, |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("size-bins"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// panoptica's default matching (IoU >= 0.5, 4-connectivity in 2D, 26 in 3D) on the shared
/// semantic cases: tp, fp, fn as panoptica reported them.
#[test]
fn panoptica_counts_on_the_shared_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/lesions");
    let Ok(text) = std::fs::read_to_string(root.join("expected.json")) else {
        println!("skipped: {} not found", root.display());
        return;
    };
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for (name, case) in expected["cases"].as_object().unwrap() {
        if case["kind"] != "semantic" {
            continue;
        }
        let ndim = case["ndim"].as_u64().unwrap() as usize;
        let options = LesionEvalOptions {
            eval: EvalOptions::default(),
            connectivity: Connectivity::faces(ndim)
                .filter(|_| ndim == 2)
                .or(Connectivity::full(ndim)),
            rule: MatchingRule::PANOPTICA_DEFAULT,
            size_bins: vec![],
            distances: false,
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
