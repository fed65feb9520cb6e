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
    assert!(out.starts_with("case,label,metric,value,status,peer_value,convention,tolerance_mm\n"));
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

#[test]
fn synth_is_reproducible_and_prints_its_fractions() {
    let root = scratch("synth");
    let run = |dir: &str, seed: &str| {
        dicekit(&[
            "synth",
            "fundus",
            "--out",
            root.join(dir).to_str().unwrap(),
            "--count",
            "2",
            "--seed",
            seed,
            "--size",
            "128,128",
        ])
    };
    let a = run("a", "4");
    assert!(a.status.success(), "{}", stderr(&a));
    let b = run("b", "4");
    let c = run("c", "5");
    assert!(c.status.success());
    for f in ["images/fundus_000.png", "masks/fundus_001.png"] {
        assert_eq!(
            std::fs::read(root.join("a").join(f)).unwrap(),
            std::fs::read(root.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        std::fs::read(root.join("a/images/fundus_000.png")).unwrap(),
        std::fs::read(root.join("c/images/fundus_000.png")).unwrap()
    );
    let per_image = |o: &Output| {
        stdout(o)
            .lines()
            .filter(|l| l.starts_with("fundus_"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(per_image(&a), per_image(&b));
    // The printed fraction is the mask's.
    let mask = dicekit_data::read_label_map(&root.join("a/masks/fundus_000.png")).unwrap();
    let frac =
        100.0 * mask.data.iter().filter(|&&v| v == 1).count() as f64 / mask.data.len() as f64;
    assert!(
        stdout(&a).contains(&format!("fundus_000: foreground {frac:.4} %")),
        "{}",
        stdout(&a)
    );
    let bad = dicekit(&[
        "synth",
        "ct-phantom",
        "--out",
        root.join("d").to_str().unwrap(),
        "--size",
        "64,64",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
    // The lesion-texture scene takes a lesion share (its harder regime); other scenes refuse one.
    let les = dicekit(&[
        "synth",
        "lesion-texture",
        "--out",
        root.join("e").to_str().unwrap(),
        "--count",
        "2",
        "--foreground",
        "0.02",
    ]);
    assert!(les.status.success(), "{}", stderr(&les));
    let mask = dicekit_data::read_label_map(&root.join("e/masks/lesion-texture_000.png")).unwrap();
    let share = mask.data.iter().filter(|&&v| v == 1).count() as f64 / mask.data.len() as f64;
    assert!((0.012..0.029).contains(&share), "{share}");
    let refused = dicekit(&[
        "synth",
        "wetlands",
        "--out",
        root.join("f").to_str().unwrap(),
        "--foreground",
        "0.02",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("lesion-texture"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn weights_writes_a_weight_image() {
    let root = scratch("weights");
    let mask = case("d04_2d_multiclass_3labels", "gt");
    let out = root.join("w.tif");
    let o = dicekit(&[
        "weights",
        "--mask",
        &mask,
        "--out",
        out.to_str().unwrap(),
        "--kind",
        "boundary",
        "--sigma",
        "1.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let w = dicekit_data::image::read_image(&out).unwrap();
    assert_eq!(&w.data.shape()[1..], &[40, 40]);
    let max = w.data.iter().copied().fold(f32::MIN, f32::max);
    assert!((max - 5.0).abs() < 1e-6, "{max}");
    let o = dicekit(&[
        "weights",
        "--mask",
        "/missing.png",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// `dicekit train --config CONFIG --quiet EXTRA...`.
fn train_quiet(config: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--config", config.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    dicekit(&args)
}

fn tiny_train_config(epochs: usize) -> String {
    format!(
        r#"[data]
source = "synthetic"
scene = "lesion-texture"
train = 4
val = 2
size = [32, 32]
patch = [32, 32]
batch_size = 2

[model]
in_channels = 1
num_classes = 2
depth = 2
base_channels = 4

[loss]
loss = "composite"
terms = [
  {{ name = "dice", weight = 1.0, loss = {{ loss = "overlap", classes = "exclude_background" }} }},
  {{ name = "ce", weight = 1.0, loss = {{ loss = "cross_entropy" }} }},
]

[training]
epochs = {epochs}
iterations_per_epoch = 12
seed = 5
output = "run"
"#
    )
}

fn history(state: &Path) -> Vec<(u64, f64)> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["epoch"].as_u64().unwrap(), h["loss"].as_f64().unwrap()))
        .collect()
}

#[test]
fn train_killed_with_sigkill_resumes_without_losing_an_epoch() {
    let root = scratch("resume_kill");
    let epochs = 4;
    for run in ["a", "b"] {
        std::fs::create_dir_all(root.join(run)).unwrap();
        std::fs::write(root.join(run).join("train.toml"), tiny_train_config(epochs)).unwrap();
    }
    // A: uninterrupted.
    let a = train_quiet(&root.join("a/train.toml"), &[]);
    assert!(a.status.success(), "{}", stderr(&a));
    // B: killed (SIGKILL) once the first epoch's checkpoint is on disk.
    let state_b = root.join("b/run/state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dicekit"))
        .args([
            "train",
            "--config",
            root.join("b/train.toml").to_str().unwrap(),
            "--quiet",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !state_b.exists() || history(&state_b).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_before = history(&state_b).len();
    assert!(
        done_before < epochs,
        "the run finished before it could be killed"
    );
    let b = dicekit(&[
        "train",
        "--config",
        root.join("b/train.toml").to_str().unwrap(),
        "--resume",
        "--quiet",
    ]);
    assert!(b.status.success(), "{}", stderr(&b));
    let (ha, hb) = (history(&root.join("a/run/state.json")), history(&state_b));
    assert_eq!(
        hb.iter().map(|h| h.0).collect::<Vec<_>>(),
        (1..=epochs as u64).collect::<Vec<_>>(),
        "no lost or repeated epoch"
    );
    for ((ea, la), (_, lb)) in ha.iter().zip(&hb) {
        assert!(
            (la - lb).abs() <= 1e-5 * la.abs().max(1.0),
            "epoch {ea}: uninterrupted {la} vs resumed {lb}"
        );
    }
}

/// The loss added as one file and one line (`top_k.rs` and its line in the `losses!` list of
/// dicekit-losses' lib.rs; see docs/architecture.md) trains from TOML through `dicekit train`,
/// as nnU-Net's `DC_and_topk_loss`, with its term logged beside the Dice.
#[test]
fn a_loss_registered_by_one_line_trains_from_toml() {
    let root = scratch("train_top_k");
    std::fs::create_dir_all(&root).unwrap();
    let cfg = root.join("train.toml");
    let loss = r#"terms = [
  { name = "dice", weight = 1.0, loss = { loss = "overlap", classes = "exclude_background" } },
  { name = "top_k", weight = 1.0, loss = { loss = "top_k", k = 10.0 } },
]"#;
    let text = tiny_train_config(1);
    let start = text.find("terms = [").unwrap();
    let end = text[start..].find("]\n").unwrap() + start + 1;
    std::fs::write(&cfg, format!("{}{loss}{}", &text[..start], &text[end..])).unwrap();
    let o = train_quiet(&cfg, &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = std::fs::read_to_string(root.join("run/log.csv")).unwrap();
    assert!(log.lines().next().unwrap().contains("top_k"), "{log}");
    let h = history(&root.join("run/state.json"));
    assert!(h.len() == 1 && h[0].1.is_finite(), "{h:?}");
    // A key the loss does not have is refused by name before training.
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("k = 10.0", "kk = 10.0"),
    )
    .unwrap();
    let o = train_quiet(&cfg, &["--no-report"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("kk"), "{}", stderr(&o));
}

#[test]
fn train_rejects_bad_configs_before_training() {
    let root = scratch("train_bad");
    std::fs::create_dir_all(&root).unwrap();
    let cfg = root.join("bad.toml");
    std::fs::write(
        &cfg,
        tiny_train_config(1).replace("batch_size = 2", "batch_size = 2\nbach = 1"),
    )
    .unwrap();
    let o = dicekit(&["train", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bach") && stderr(&o).lines().count() == 1,
        "{}",
        stderr(&o)
    );
    let o = dicekit(&[
        "train",
        "--config",
        root.join("missing.toml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn train_predict_eval_end_to_end() {
    let root = scratch("end_to_end");
    std::fs::write(root.join("train.toml"), tiny_train_config(2)).unwrap();
    let t = train_quiet(&root.join("train.toml"), &[]);
    assert!(t.status.success(), "{}", stderr(&t));
    assert!(stdout(&t).contains("val Dice"), "{}", stdout(&t));
    // Training ends with the report.
    assert!(stdout(&t).contains("report: "), "{}", stdout(&t));
    let report = root.join("run/report");
    for f in [
        "index.md",
        "metrics.json",
        "metrics.csv",
        "loss.png",
        "dice.png",
        "reliability.png",
        "reliability_lesion.png",
    ] {
        assert!(report.join(f).exists(), "{f}");
    }
    let overlays: Vec<_> = std::fs::read_dir(report.join("overlays"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        overlays.iter().any(|f| f.starts_with("best_1_"))
            && overlays.iter().any(|f| f.starts_with("worst_1_")),
        "{overlays:?}"
    );
    let index = std::fs::read_to_string(report.join("index.md")).unwrap();
    for link in [
        "(loss.png)",
        "(dice.png)",
        "(reliability.png)",
        "(metrics.json)",
        "(overlays/best_1_",
    ] {
        assert!(index.contains(link), "index.md lacks {link}:\n{index}");
    }
    // `dicekit report` on its own, another checkpoint and folder.
    let r = dicekit(&[
        "report",
        "--run",
        root.join("run").to_str().unwrap(),
        "--checkpoint",
        "last",
        "--data-config",
        root.join("train.toml").to_str().unwrap(),
        "--out",
        root.join("report_last").to_str().unwrap(),
        "--tta",
        "--quiet",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("report_last/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["cases"], 2);
    assert!(m["flip_tta"].as_bool().unwrap());
    let ece = m["calibration"][0]["ece"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece), "{ece}");
    assert!(
        m["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "hd95" && r["label"] == 1),
        "{m}"
    );
    let csv = std::fs::read_to_string(root.join("report_last/metrics.csv")).unwrap();
    assert!(csv.starts_with("case,label,metric,value,status"), "{csv}");
    let bad = dicekit(&["report", "--run", root.join("nope").to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(stderr(&bad).trim().lines().count(), 1, "{}", stderr(&bad));
    let data = root.join("data");
    let s = dicekit(&[
        "synth",
        "lesion-texture",
        "--out",
        data.to_str().unwrap(),
        "--count",
        "2",
        "--size",
        "32,32",
        "--seed",
        "7",
    ]);
    assert!(s.status.success(), "{}", stderr(&s));
    let pred = root.join("pred");
    let p = dicekit(&[
        "predict",
        "--run",
        root.join("run").to_str().unwrap(),
        "--input",
        data.join("images").to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
        "--tta",
        "--probabilities",
        "--overlay",
        "--truth",
        data.join("masks").to_str().unwrap(),
    ]);
    assert!(p.status.success(), "{}", stderr(&p));
    for f in [
        "lesion-texture_000.png",
        "lesion-texture_001.png",
        "overlays/lesion-texture_000.png",
        "probabilities/lesion-texture_001.tif",
    ] {
        assert!(pred.join(f).exists(), "{f}");
    }
    let probs = dicekit_data::image::read_image(&pred.join("probabilities/lesion-texture_000.tif"))
        .unwrap();
    assert_eq!(probs.data.shape(), &[2, 32, 32]);
    let e = dicekit(&[
        "eval",
        "--pred",
        pred.to_str().unwrap(),
        "--truth",
        data.join("masks").to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(
        stdout(&e).contains("lesion-texture_001,1,dice,"),
        "{}",
        stdout(&e)
    );
    // A JPEG photograph's prediction is named and matched like its PNG mask (case `x`, not
    // `x.jpg`).
    let jpg = root.join("jpg");
    std::fs::create_dir_all(&jpg).unwrap();
    let mut image = dicekit_data::read_image(&data.join("images/lesion-texture_000.tif")).unwrap();
    let (lo, hi) = image
        .data
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    image
        .data
        .mapv_inplace(|x| ((x - lo) / (hi - lo).max(1e-6) * 255.0).round());
    dicekit_data::image::write_image_jpeg(&jpg.join("lesion-texture_000.jpg"), &image, 95).unwrap();
    let p = dicekit(&[
        "predict",
        "--run",
        root.join("run").to_str().unwrap(),
        "--input",
        jpg.to_str().unwrap(),
        "--out",
        root.join("pred_jpg").to_str().unwrap(),
        "--overlay",
        "--truth",
        data.join("masks").to_str().unwrap(),
    ]);
    assert!(p.status.success(), "{}", stderr(&p));
    for f in ["lesion-texture_000.png", "overlays/lesion-texture_000.png"] {
        assert!(root.join("pred_jpg").join(f).exists(), "{f}");
    }
    let bad = dicekit(&[
        "predict",
        "--run",
        root.join("nope").to_str().unwrap(),
        "--input",
        data.to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Starts a 200-epoch training in `root` (stderr piped) and returns once its state file exists.
fn start_long_training(root: &Path) -> (std::process::Child, PathBuf) {
    std::fs::write(root.join("train.toml"), tiny_train_config(200)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dicekit"))
        .args([
            "train",
            "--config",
            root.join("train.toml").to_str().unwrap(),
            "--quiet",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let state = root.join("run/state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !state.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    (child, state)
}

#[test]
fn ctrl_c_saves_the_weights_before_exiting() {
    let root = scratch("ctrl_c");
    let (child, state) = start_long_training(&root);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // 130, as shells report a process stopped by SIGINT: a script can tell it was interrupted.
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(root.join("run/checkpoints/interrupted.bpk").exists());
    // The run continues from its last completed epoch.
    let before = history(&state).len();
    assert!(before < 200);
}

#[test]
fn the_attention_task_goes_through_train_predict_and_report() {
    let root = scratch("attention_task");
    let config = tiny_train_config(2).replace(
        "base_channels = 4\n",
        "base_channels = 4\n\n[task]\nkind = \"attention\"\nhidden = 8\n",
    );
    std::fs::write(root.join("train.toml"), config).unwrap();
    let t = train_quiet(&root.join("train.toml"), &[]);
    assert!(t.status.success(), "{}", stderr(&t));
    assert!(stdout(&t).contains("accuracy"), "{}", stdout(&t));
    let index = std::fs::read_to_string(root.join("run/report/index.md")).unwrap();
    assert!(index.contains("## Image classification"), "{index}");
    assert!(index.contains("(classification.png)"), "{index}");
    assert!(index.contains("_attention.png"), "{index}");
    let data = root.join("data");
    let s = dicekit(&[
        "synth",
        "lesion-texture",
        "--out",
        data.to_str().unwrap(),
        "--count",
        "2",
        "--size",
        "32,32",
    ]);
    assert!(s.status.success(), "{}", stderr(&s));
    let pred = root.join("pred");
    let p = dicekit(&[
        "predict",
        "--run",
        root.join("run").to_str().unwrap(),
        "--input",
        data.join("images").to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
    ]);
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(stdout(&p).contains("image class"), "{}", stdout(&p));
    let classes = std::fs::read_to_string(pred.join("classes.csv")).unwrap();
    assert!(classes.starts_with("case,class,p_0,p_1\n"), "{classes}");
    assert_eq!(classes.lines().count(), 3, "{classes}");
    let mask =
        dicekit_data::image::read_image(&pred.join("attention/lesion-texture_000.png")).unwrap();
    assert_eq!(mask.data.shape(), &[1, 32, 32]);

    // The oracle control reports, and predicts only with the reference (--truth).
    let oracle = root.join("oracle");
    std::fs::create_dir_all(&oracle).unwrap();
    let config = std::fs::read_to_string(root.join("train.toml"))
        .unwrap()
        .replace(
            "kind = \"attention\"",
            "kind = \"attention\"\nattention = \"oracle\"",
        );
    assert!(config.contains("output = \"run\""), "{config}");
    std::fs::write(oracle.join("train.toml"), config).unwrap();
    let t = train_quiet(&oracle.join("train.toml"), &[]);
    assert!(t.status.success(), "{}", stderr(&t));
    let predict = |truth: bool| {
        let mut args = vec![
            "predict".to_string(),
            "--run".into(),
            oracle.join("run").to_str().unwrap().into(),
            "--input".into(),
            data.join("images").to_str().unwrap().into(),
            "--out".into(),
            oracle.join("pred").to_str().unwrap().into(),
        ];
        if truth {
            args.push("--truth".into());
            args.push(data.join("masks").to_str().unwrap().into());
        }
        dicekit(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let without = predict(false);
    assert_eq!(without.status.code(), Some(2), "{}", stderr(&without));
    assert!(
        stderr(&without).contains("reference mask"),
        "{}",
        stderr(&without)
    );
    let with = predict(true);
    assert!(with.status.success(), "{}", stderr(&with));
    let mask =
        dicekit_data::image::read_image(&oracle.join("pred/attention/lesion-texture_000.png"))
            .unwrap();
    let reference =
        dicekit_data::read_label_map(&data.join("masks/lesion-texture_000.png")).unwrap();
    assert!(
        mask.data
            .iter()
            .zip(reference.data.iter())
            .all(|(&m, &r)| (m > 0.5) == (r == 1))
    );
}

#[test]
fn experiment_attention_quick_writes_its_report() {
    let out = scratch("experiment_attention");
    let started = std::time::Instant::now();
    let o = dicekit(&[
        "experiment",
        "attention",
        "--quick",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // `--quick` is the seconds-long smoke run (about 10 s in a release build); the bound is
    // loose for the debug build on a busy machine, and only catches a quick setup that grew
    // into a real run (the full one takes most of an hour).
    let seconds = started.elapsed().as_secs_f64();
    assert!(seconds < 300.0, "--quick took {seconds:.0} s");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## What this shows",
        "## Lesion share 12 %",
        "## Lesion share 6 %",
        "| soft |",
        "| none |",
        "| oracle |",
        "| (a) soft − (d) none |",
        "(accuracy_vs_share.png)",
        "(val_accuracy_share0.06.png)",
    ] {
        assert!(
            report.contains(needle),
            "report.md lacks {needle}:\n{report}"
        );
    }
    assert!(report.contains("examples/share0.12_soft_"), "{report}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 20);
    for f in [
        "accuracy_vs_share.png",
        "auc_vs_share.png",
        "val_accuracy_share0.12.png",
        "share0.06/runs/oracle_seed2/result.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let examples: Vec<_> = std::fs::read_dir(out.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        examples
            .iter()
            .any(|e| e.starts_with("share0.06_oracle_") && e.ends_with("_attention.png")),
        "{examples:?}"
    );
    // A second invocation reuses the finished runs.
    let again = dicekit(&[
        "experiment",
        "attention",
        "--quick",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stdout(&again).contains("epoch   1"), "{}", stdout(&again));
}

#[test]
fn experiment_imbalance_quick_writes_its_report() {
    let out = scratch("experiment_imbalance");
    let o = dicekit(&[
        "experiment",
        "imbalance",
        "--quick",
        "--seeds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "### Foreground 5 %",
        "### Foreground 0.05 %",
        "| gdl |",
        "| dice_focal |",
        "## What this shows",
        "(lesion_recall.png)",
        "(val_dice_0.05pct.png)",
        "first validation with Dice ≥ 0.5",
    ] {
        assert!(
            report.contains(needle),
            "report.md lacks {needle}:\n{report}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 18);
    assert!(json["runs"][0]["val_curve"].as_array().is_some());
    assert!(out.join("dice.png").exists());
    assert!(out.join("val_dice_0.5pct.png").exists());
}

#[test]
fn experiment_clouds_quick_writes_its_report() {
    let out = scratch("experiment_clouds");
    let o = dicekit(&[
        "experiment",
        "clouds",
        "--quick",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "| ignore |",
        "| background |",
        "| truth |",
        "## What this shows",
        "(dice.png)",
    ] {
        assert!(
            report.contains(needle),
            "report.md lacks {needle}:\n{report}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 6);
}

#[test]
fn experiment_rare_classes_quick_writes_its_report() {
    let out = scratch("experiment_rare_classes");
    let o = dicekit(&[
        "experiment",
        "rare-classes",
        "--quick",
        "--seeds",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in [
        "## ct-phantom",
        "| tumour (5) |",
        "gdl_square Dice",
        "**mean IoU**",
        "## What this shows",
    ] {
        assert!(
            report.contains(needle),
            "report.md lacks {needle}:\n{report}"
        );
    }
    // dubai_aerial runs where the shared data is present, and is named as skipped where not.
    assert!(
        report.contains("## dubai_aerial") || report.contains("Skipped dubai_aerial"),
        "{report}"
    );
    assert!(out.join("ct-phantom_dice.png").exists());
}

/// Whether the shared CHASE_DB1 data is where the dataset description looks for it.
fn chase_present() -> bool {
    match std::env::var_os("DICEKIT_DATA_ROOT") {
        Some(root) if !root.is_empty() => Path::new(&root).join("chase_db1").exists(),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/chase_db1")
            .exists(),
    }
}

#[test]
fn experiments_on_chase_run_quick_or_say_the_data_is_missing() {
    for (name, needles) in [
        ("boundary", &["| plain |", "| boundary |", "(hd95.png)"][..]),
        (
            "calibration",
            &["| 0.25 |", "(dice_vs_ece.png)", "reliability_alpha1.png"][..],
        ),
    ] {
        let out = scratch(&format!("experiment_{name}"));
        let o = dicekit(&[
            "experiment",
            name,
            "--quick",
            "--seeds",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        // Judge by what the command did, then check it against where the data is: a second
        // look at the disk is not needed to pass, only to explain a failure.
        if o.status.success() {
            let report = std::fs::read_to_string(out.join("report.md")).unwrap();
            for needle in needles {
                assert!(
                    report.contains(needle),
                    "{name}: report.md lacks {needle}:\n{report}"
                );
            }
        } else {
            assert!(
                !chase_present(),
                "{name} failed though chase_db1 is there: {}",
                stderr(&o)
            );
            assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
            assert!(stderr(&o).contains("chase_db1"), "{}", stderr(&o));
            assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
        }
    }
}

#[test]
fn a_3d_run_reports_with_slice_overlays() {
    let root = scratch("report_3d");
    let config = r#"[data]
source = "synthetic"
scene = "ct-phantom"
train = 2
val = 2
size = [32, 32, 24]
patch = [32, 32, 24]
batch_size = 2
normalization = { window = { low = -200.0, high = 300.0 } }

[model]
in_channels = 1
num_classes = 6
depth = 2
base_channels = 4

[loss]
loss = "composite"
terms = [
  { name = "dice", weight = 1.0, loss = { loss = "overlap", classes = "exclude_background" } },
  { name = "ce", weight = 1.0, loss = { loss = "cross_entropy" } },
]

[training]
epochs = 1
iterations_per_epoch = 2
output = "run"
"#;
    std::fs::write(root.join("train.toml"), config).unwrap();
    let t = train_quiet(&root.join("train.toml"), &[]);
    assert!(t.status.success(), "{}", stderr(&t));
    let index = std::fs::read_to_string(root.join("run/report/index.md")).unwrap();
    assert!(index.contains("along the last axis"), "{index}");
    assert!(index.contains("| tumour (5) |"), "{index}");
    assert!(index.contains("mean IoU"), "{index}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("run/report/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["labels"].as_array().unwrap().len(), 5);
    assert!(root.join("run/report/reliability_tumour.png").exists());
}

#[test]
fn train_no_report_skips_the_report_and_report_writes_it_later() {
    let root = scratch("no_report");
    std::fs::write(root.join("train.toml"), tiny_train_config(1)).unwrap();
    let t = train_quiet(&root.join("train.toml"), &["--no-report"]);
    assert!(t.status.success(), "{}", stderr(&t));
    assert!(root.join("run/checkpoints/last.bpk").exists());
    assert!(
        !root.join("run/report").exists(),
        "--no-report wrote a report"
    );
    let r = dicekit(&[
        "report",
        "--run",
        root.join("run").to_str().unwrap(),
        "--cl-dice",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(root.join("run/report/index.md").exists());
    // --cl-dice adds the centreline Dice to the metrics and the index's table.
    let csv = std::fs::read_to_string(root.join("run/report/metrics.csv")).unwrap();
    assert!(csv.contains(",cl_dice,"), "{csv}");
    let index = std::fs::read_to_string(root.join("run/report/index.md")).unwrap();
    assert!(index.contains("cl_dice"), "{index}");
    // The lesion section: found / missed / false by size (the bins given), the FROC plot, and
    // the lesion rows in metrics.json.
    assert!(index.contains("## Lesions"), "{index}");
    assert!(
        index.contains("[0, 5) mm3") || index.contains("[0, 10) mm3"),
        "{index}"
    );
    assert!(root.join("run/report/froc_label1.png").exists());
    let json = std::fs::read_to_string(root.join("run/report/metrics.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(json["lesions"].as_array().is_some_and(|r| !r.is_empty()));
    let r = dicekit(&[
        "report",
        "--run",
        root.join("run").to_str().unwrap(),
        "--size-bins",
        "5,50",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let index = std::fs::read_to_string(root.join("run/report/index.md")).unwrap();
    assert!(
        index.contains("[0, 5) mm3") && index.contains("[5, 50) mm3"),
        "{index}"
    );
    // --no-lesions leaves it out; bad bins are one line and exit 2.
    let out = root.join("plain");
    let r = dicekit(&[
        "report",
        "--run",
        root.join("run").to_str().unwrap(),
        "--no-lesions",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let index = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(!index.contains("## Lesions"), "{index}");
    assert!(!out.join("froc_label1.png").exists());
    let r = dicekit(&[
        "report",
        "--run",
        root.join("run").to_str().unwrap(),
        "--size-bins",
        "50,5",
    ]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert_eq!(stderr(&r).lines().count(), 1, "{}", stderr(&r));
}

/// A false detection (empty reference): MONAI's Dice is NaN, DeepMind's 0; the JSON keeps the
/// typed empty and says what the peer reports.
#[test]
fn eval_reports_each_peers_value_for_an_empty_reference() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../dicekit-metrics/tests/golden/empty/cases");
    let file = |side: &str| {
        dir.join(format!("e01_2d_empty_gt_{side}.nii.gz"))
            .display()
            .to_string()
    };
    let (pred, truth) = (file("pred"), file("gt"));
    let dice_row = |convention: &str| -> serde_json::Value {
        let o = dicekit(&[
            "eval",
            "--pred",
            &pred,
            "--truth",
            &truth,
            "--convention",
            convention,
            "--format",
            "json",
            "--cl-dice",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(
            rows.iter().any(|r| r["metric"] == "cl_dice"),
            "no cl_dice row"
        );
        rows.into_iter()
            .find(|r| r["metric"] == "dice" && r["label"] == 1 && r["case"] != "(mean)")
            .unwrap()
    };
    let monai = dice_row("monai");
    assert_eq!(monai["status"], "empty_reference", "{monai}");
    assert_eq!(monai["value"], serde_json::Value::Null);
    assert_eq!(monai["peer_value"], "nan");
    let deepmind = dice_row("deepmind");
    assert_eq!(deepmind["value"], 0.0, "{deepmind}");
    assert_eq!(deepmind["peer_value"], 0.0);
}

// ---------------------------------------------------------------- #18: no crash, no silent number

fn label_map(values: Vec<u32>, shape: &[usize], spacing: &[f64]) -> dicekit_data::Volume<u32> {
    let mut v = dicekit_data::Volume::new(ndarray::ArrayD::from_shape_vec(shape, values).unwrap());
    v.spacing = spacing.to_vec();
    v.origin = vec![0.0; shape.len()];
    v
}

/// One line on stderr, exit 2, no panic.
fn assert_bad_input(o: &Output, mentions: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(mentions), "expected `{mentions}` in: {err}");
}

#[test]
fn eval_counts_labels_of_any_value() {
    let dir = scratch("eval_big_labels");
    // A 16-bit PNG whose label is 65535, and a uint32 NIfTI whose label is 4e9.
    for (name, label, nifti) in [("png", 65_535u32, false), ("nifti", 4_000_000_000, true)] {
        let values: Vec<u32> = (0..64)
            .map(|i| if i % 3 == 0 { label } else { 0 })
            .collect();
        let shifted: Vec<u32> = (0..64)
            .map(|i| if i % 3 == 1 { label } else { 0 })
            .collect();
        let (p, t) = if nifti {
            let (p, t) = (dir.join("p.nii.gz"), dir.join("t.nii.gz"));
            dicekit_data::write_label_map_nifti(&p, &label_map(values, &[8, 8], &[1.0, 1.0]))
                .unwrap();
            dicekit_data::write_label_map_nifti(&t, &label_map(shifted, &[8, 8], &[1.0, 1.0]))
                .unwrap();
            (p, t)
        } else {
            let (p, t) = (dir.join("p.png"), dir.join("t.png"));
            dicekit_data::write_label_map_png(&p, &label_map(values, &[8, 8], &[1.0, 1.0]))
                .unwrap();
            dicekit_data::write_label_map_png(&t, &label_map(shifted, &[8, 8], &[1.0, 1.0]))
                .unwrap();
            (p, t)
        };
        let o = dicekit(&[
            "eval",
            "--pred",
            p.to_str().unwrap(),
            "--truth",
            t.to_str().unwrap(),
            "--format",
            "csv",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(
            stdout(&o).contains(&format!(",{label},dice,0,")),
            "{name}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn eval_keeps_a_correct_all_background_case_as_a_row() {
    let root = scratch("eval_all_background");
    let (pred, truth) = (root.join("pred"), root.join("truth"));
    std::fs::create_dir_all(&pred).unwrap();
    std::fs::create_dir_all(&truth).unwrap();
    let with = label_map(
        (0..16).map(|i| (i % 2) as u32).collect(),
        &[4, 4],
        &[1.0, 1.0],
    );
    let none = label_map(vec![0; 16], &[4, 4], &[1.0, 1.0]);
    for (dir, v) in [(&pred, &with), (&truth, &with)] {
        dicekit_data::write_label_map_png(&dir.join("a.png"), v).unwrap();
    }
    for dir in [&pred, &truth] {
        dicekit_data::write_label_map_png(&dir.join("b.png"), &none).unwrap();
    }
    let o = dicekit(&[
        "eval",
        "--pred",
        pred.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let b_dice = rows
        .iter()
        .find(|r| r["case"] == "b" && r["metric"] == "dice")
        .expect("the all-background case has a row");
    assert_eq!(b_dice["status"], "empty_both");
    assert_eq!(b_dice["peer_value"], "nan"); // MONAI's DiceMetric (ignore_empty=True)
    let mean = rows
        .iter()
        .find(|r| r["case"] == "(mean)" && r["metric"] == "dice")
        .unwrap();
    assert_eq!(mean["status"], "mean of 1 (excluded 1)", "{mean}");
}

#[test]
fn eval_refuses_differing_spacings_unless_told_which() {
    let dir = scratch("eval_spacing");
    let v: Vec<u32> = (0..27).map(|i| (i % 2) as u32).collect();
    let (p, t) = (dir.join("p.nii.gz"), dir.join("t.nii.gz"));
    dicekit_data::write_label_map_nifti(&p, &label_map(v.clone(), &[3, 3, 3], &[1.0, 1.0, 1.0]))
        .unwrap();
    dicekit_data::write_label_map_nifti(&t, &label_map(v, &[3, 3, 3], &[0.5, 0.5, 2.0])).unwrap();
    let args = [
        "eval",
        "--pred",
        p.to_str().unwrap(),
        "--truth",
        t.to_str().unwrap(),
    ];
    assert_bad_input(&dicekit(&args), "--spacing-from");
    let o = dicekit(&[&args[..], &["--spacing-from", "truth"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn eval_refuses_two_files_for_one_case() {
    let root = scratch("eval_ambiguous");
    let (pred, truth) = (root.join("pred"), root.join("truth"));
    std::fs::create_dir_all(&pred).unwrap();
    std::fs::create_dir_all(&truth).unwrap();
    let v = label_map(vec![0, 1, 1, 0], &[2, 2], &[1.0, 1.0]);
    dicekit_data::write_label_map_png(&pred.join("a.png"), &v).unwrap();
    dicekit_data::write_label_map_nifti(&pred.join("a.nii.gz"), &v).unwrap();
    dicekit_data::write_label_map_png(&truth.join("a.png"), &v).unwrap();
    assert_bad_input(
        &dicekit(&[
            "eval",
            "--pred",
            pred.to_str().unwrap(),
            "--truth",
            truth.to_str().unwrap(),
        ]),
        "both name case `a`",
    );
}

#[test]
fn predict_refuses_a_mismatched_overlay_reference_and_a_truth_without_overlay() {
    let root = scratch("predict_overlay");
    std::fs::write(root.join("train.toml"), tiny_train_config(1)).unwrap();
    let o = train_quiet(&root.join("train.toml"), &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let image = root.join("image.png");
    dicekit_data::write_label_map_png(
        &image,
        &label_map(
            (0..1024).map(|i| (i % 7) as u32 * 30).collect(),
            &[32, 32],
            &[1.0, 1.0],
        ),
    )
    .unwrap();
    let small = root.join("small.png");
    dicekit_data::write_label_map_png(&small, &label_map(vec![0; 16 * 32], &[16, 32], &[1.0, 1.0]))
        .unwrap();
    let run = root.join("run");
    let out = root.join("pred");
    let base = [
        "predict",
        "--run",
        run.to_str().unwrap(),
        "--input",
        image.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    assert_bad_input(
        &dicekit(
            &[
                &base[..],
                &["--overlay", "--truth", small.to_str().unwrap()],
            ]
            .concat(),
        ),
        "overlay",
    );
    let o = dicekit(&[&base[..], &["--truth", small.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--overlay"), "{}", stderr(&o));
    // Two inputs of one case name would write one output twice: refused.
    let inputs = root.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(&image, inputs.join("x.png")).unwrap();
    let volume = label_map(vec![0; 32 * 32], &[32, 32], &[1.0, 1.0]);
    dicekit_data::write_label_map_nifti(&inputs.join("x.nii.gz"), &volume).unwrap();
    assert_bad_input(
        &dicekit(&[
            "predict",
            "--run",
            run.to_str().unwrap(),
            "--input",
            inputs.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "both name case `x`",
    );
}

#[test]
fn train_says_when_a_patch_is_larger_than_the_images() {
    let root = scratch("train_big_patch");
    let config = tiny_train_config(1).replace("patch = [32, 32]", "patch = [48, 48]");
    std::fs::write(root.join("train.toml"), config).unwrap();
    let o = train_quiet(&root.join("train.toml"), &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("is larger than"), "{}", stderr(&o));
}

#[test]
fn train_refuses_a_class_count_the_data_does_not_have_and_a_second_writer() {
    let root = scratch("train_classes");
    let three = tiny_train_config(1).replace("num_classes = 2", "num_classes = 3");
    std::fs::write(root.join("train.toml"), three).unwrap();
    assert_bad_input(
        &train_quiet(&root.join("train.toml"), &[]),
        "num_classes = 3",
    );
    // A second process on a run folder being written is refused with exit 2.
    let root = scratch("train_lock");
    let (mut first, _) = start_long_training(&root);
    let second = train_quiet(&root.join("train.toml"), &["--resume"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_bad_input(&second, "another dicekit process");
}

#[test]
fn resume_from_a_corrupt_checkpoint_is_bad_input() {
    let root = scratch("resume_corrupt");
    std::fs::write(root.join("train.toml"), tiny_train_config(1)).unwrap();
    let cfg = root.join("train.toml");
    let o = train_quiet(&cfg, &["--no-report"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(root.join("run/checkpoints/last.bpk"), b"not a checkpoint").unwrap();
    assert_bad_input(&train_quiet(&cfg, &["--resume"]), "last.bpk");
    std::fs::remove_file(root.join("run/checkpoints/last.bpk")).unwrap();
    assert_bad_input(&train_quiet(&cfg, &["--resume"]), "last.bpk");
}

#[test]
fn eval_lesions_counts_lesions_and_refuses_a_bad_connectivity() {
    let (p, t) = (
        case("d01_2d_squares_shift", "pred"),
        case("d01_2d_squares_shift", "gt"),
    );
    let o = dicekit(&["eval", "--pred", &p, "--truth", &t, "--lesions"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("found") && out.contains("By lesion size"),
        "{out}"
    );
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--lesions",
        "--match",
        "iou",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "recall")
    );
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--lesions",
        "--connectivity",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--lesions",
        "--connectivity",
        "26",
    ]);
    assert_eq!(o.status.code(), Some(2), "26-connectivity on a 2D map");
}

#[test]
fn eval_brats_scores_regions_and_refuses_2d_for_2023() {
    let (p, t) = (
        case("d01_2d_squares_shift", "pred"),
        case("d01_2d_squares_shift", "gt"),
    );
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--brats",
        "2025-men-rt",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("case,region,metric,value,left_out\n"),
        "{out}"
    );
    assert!(out.contains("lesionwise_dsc_mean_gtv"), "{out}");
    // The 2023 script is 3D only: one line, exit 2.
    let o = dicekit(&["eval", "--pred", &p, "--truth", &t, "--brats", "2023-gli"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn eval_lesions_froc_from_probability_maps_with_plots() {
    let (p, t) = (
        case("d01_2d_squares_shift", "pred"),
        case("d01_2d_squares_shift", "gt"),
    );
    let root = scratch("eval_froc");
    // The prediction as a probability map: 0.8 inside, 0 outside.
    let pred = dicekit_data::read_label_map(Path::new(&p)).unwrap();
    let prob = pred
        .data
        .mapv(|l| if l == 0 { 0.0f32 } else { 0.8 })
        .insert_axis(ndarray::Axis(0));
    let prob_path = root.join("prob.nii.gz");
    dicekit_data::image::write_image_nifti(
        &prob_path,
        &dicekit_data::Volume::channels_first(prob).with_spacing(pred.spacing.clone()),
    )
    .unwrap();
    let plots = root.join("plots");
    let list = root.join("lesions.csv");
    let (prob_arg, plots_arg, list_arg) = (
        prob_path.display().to_string(),
        plots.display().to_string(),
        list.display().to_string(),
    );
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--lesions",
        "--probabilities",
        &prob_arg,
        "--froc-plots",
        &plots_arg,
        "--lesion-list",
        &list_arg,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("FROC score"), "{}", stdout(&o));
    let list = std::fs::read_to_string(&list).unwrap();
    assert!(list.starts_with("case,label,side,id,voxels"), "{list}");
    assert!(
        list.contains(",reference,") && list.contains(",prediction,"),
        "{list}"
    );
    for f in ["froc_label1.png", "froc_label1.svg", "froc_curves.csv"] {
        assert!(plots.join(f).is_file(), "{f}");
    }
    // Local maxima, JSON rows.
    let o = dicekit(&[
        "eval",
        "--pred",
        &p,
        "--truth",
        &t,
        "--lesions",
        "--probabilities",
        &prob_arg,
        "--froc-candidates",
        "maxima",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["metric"] == "froc_score")
    );
    // Mean-scored components and a one-channel map read as foreground channels give the same
    // lesion count; read as class channels (label 1 = channel 1) there is no channel for it.
    for extra in [
        &["--froc-score", "mean"][..],
        &["--probability-channels", "foreground"][..],
        &["--froc-candidates", "maxima", "--froc-sigma", "1.5"][..],
    ] {
        let mut args = vec!["eval", "--pred", &p, "--truth", &t, "--lesions"];
        args.extend_from_slice(&["--probabilities", prob_arg.as_str(), "--format", "json"]);
        args.extend_from_slice(extra);
        let o = dicekit(&args);
        assert!(o.status.success(), "{extra:?}: {}", stderr(&o));
        let rows: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert!(
            rows.as_array()
                .unwrap()
                .iter()
                .any(|r| r["metric"] == "froc_score" && r["value"].is_number()),
            "{extra:?}"
        );
    }
    // A probability file that does not exist, bad rates or sigma, a map without the label's
    // channel: one line, exit 2.
    for extra in [
        &["--probabilities", "/nonexistent/prob.nii.gz"][..],
        &["--probabilities", prob_arg.as_str(), "--froc-rates=-1"][..],
        &[
            "--probabilities",
            prob_arg.as_str(),
            "--froc-candidates",
            "maxima",
            "--froc-sigma=-1",
        ][..],
        &[
            "--probabilities",
            prob_arg.as_str(),
            "--probability-channels",
            "class",
        ][..],
    ] {
        let mut args = vec!["eval", "--pred", &p, "--truth", &t, "--lesions"];
        args.extend_from_slice(extra);
        let o = dicekit(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}
