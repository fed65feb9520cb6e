//! End-to-end tests of the built `dicekit` binary.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dicekit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicekit"))
        .args(args)
        .output()
        .expect("run dicekit")
}

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dicekit-metrics/tests/golden/cases")
}

fn case(name: &str, side: &str) -> String {
    cases()
        .join(format!("{name}_{side}.nii.gz"))
        .display()
        .to_string()
}

/// A fresh scratch folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn eval_two_files_as_json() {
    let o = dicekit(&[
        "eval",
        "--pred",
        &case("d01_2d_squares_shift", "pred"),
        "--truth",
        &case("d01_2d_squares_shift", "gt"),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let find = |case: &str, metric: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["case"] == case && r["metric"] == metric && r["label"] == 1)
            .unwrap()
            .clone()
    };
    let dice = find("d01_2d_squares_shift_gt", "dice");
    assert!((dice["value"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(dice["convention"], "monai");
    assert_eq!(
        find("d01_2d_squares_shift_gt", "hd")["value"]
            .as_f64()
            .unwrap(),
        2.0
    );
    assert!(
        (find("d01_2d_squares_shift_gt", "nsd")["value"]
            .as_f64()
            .unwrap()
            - 0.6)
            .abs()
            < 1e-12
    );
}

#[test]
fn eval_table_states_the_convention_and_empty_masks() {
    let o = dicekit(&[
        "eval",
        "--pred",
        &case("d05_2d_empty_pred", "pred"),
        "--truth",
        &case("d05_2d_empty_pred", "gt"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("convention: monai"), "{out}");
    assert!(out.contains("empty:pred"), "{out}");
    let o = dicekit(&[
        "eval",
        "--pred",
        &case("d03_3d_aniso_blob", "pred"),
        "--truth",
        &case("d03_3d_aniso_blob", "gt"),
        "--convention",
        "deepmind",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("case,label,metric,value,status,convention,tolerance_mm\n"));
    // DeepMind's surfel NSD of the anisotropic blob.
    let nsd: f64 = out
        .lines()
        .find(|l| l.contains(",nsd,") && !l.starts_with('('))
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .parse()
        .unwrap();
    assert!((nsd - 0.6547293614594332).abs() < 1e-6, "{nsd}");
}

#[test]
fn eval_folders_matches_by_name_and_reports_every_failure() {
    let root = scratch("eval_folders");
    let (p, t) = (root.join("pred"), root.join("truth"));
    std::fs::create_dir_all(&p).unwrap();
    std::fs::create_dir_all(&t).unwrap();
    for name in ["d01_2d_squares_shift", "d04_2d_multiclass_3labels"] {
        std::fs::copy(case(name, "pred"), p.join(format!("{name}.nii.gz"))).unwrap();
        std::fs::copy(case(name, "gt"), t.join(format!("{name}.nii.gz"))).unwrap();
    }
    std::fs::write(p.join("corrupt.nii.gz"), b"not a gzip stream").unwrap();
    std::fs::copy(case("d06_2d_both_empty", "gt"), t.join("corrupt.nii.gz")).unwrap();
    std::fs::copy(case("d06_2d_both_empty", "gt"), t.join("orphan.nii.gz")).unwrap();
    std::fs::copy(case("d03_3d_aniso_blob", "gt"), p.join("shape.nii.gz")).unwrap();
    std::fs::copy(case("d01_2d_squares_shift", "gt"), t.join("shape.nii.gz")).unwrap();
    let o = dicekit(&[
        "eval",
        "--pred",
        p.to_str().unwrap(),
        "--truth",
        t.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(out.contains("d04_2d_multiclass_3labels,3,dice,"), "{out}");
    assert!(out.contains("d01_2d_squares_shift,1,hd95,2,"), "{out}");
    assert!(err.contains("corrupt.nii.gz"), "{err}");
    assert!(err.contains("orphan"), "{err}");
    assert!(
        err.contains("shape.nii.gz") && err.contains("shape"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.starts_with("error: ")), "{err}");
}

#[test]
fn eval_bad_input_is_one_line_and_exit_2() {
    let o = dicekit(&[
        "eval",
        "--pred",
        "/no/such/file.nii.gz",
        "--truth",
        &case("d01_2d_squares_shift", "gt"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/no/such/file.nii.gz"), "{err}");
    let o = dicekit(&[
        "eval",
        "--pred",
        &case("d01_2d_squares_shift", "pred"),
        "--truth",
        &case("d01_2d_squares_shift", "gt"),
        "--spacing",
        "1,nan",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("spacing"), "{}", stderr(&o));
    let o = dicekit(&[
        "eval",
        "--pred",
        &case("d01_2d_squares_shift", "pred"),
        "--truth",
        &case("d01_2d_squares_shift", "gt"),
        "--convention",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn eval_help_names_the_default_convention() {
    let o = dicekit(&["eval", "--help"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(
        out.contains("monai (default") && out.contains("--tolerance"),
        "{out}"
    );
}
