//! Every subcommand over a corpus of bad inputs (missing, empty, truncated and hostile files,
//! folders where files belong, broken configs, impossible values): exit 2, an `error:` line
//! naming the problem, never a panic. `dicekit --help` states the exit codes.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dicekit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dicekit"))
        .args(args)
        .output()
        .expect("run dicekit")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The bad files, by name: each is wrong in its own way.
fn corpus(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        ("empty.png", vec![]),
        ("empty.nii.gz", vec![]),
        ("empty.tif", vec![]),
        ("garbage.png", b"this is not a png file at all".to_vec()),
        ("garbage.nii", vec![0xAB; 400]),
        (
            "garbage.nii.gz",
            vec![0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6],
        ),
        ("garbage.tif", b"II*\0\xff\xff\xff\xff".to_vec()),
    ];
    // A PNG cut after its header.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\0\0\0\0".to_vec();
    png.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    files.push(("truncated.png", png));
    // A NIfTI-1 header that claims 32767^3 uint8 voxels, in a 352-byte file.
    let mut nii = vec![0u8; 352];
    nii[0..4].copy_from_slice(&348i32.to_le_bytes());
    let dims: [i16; 8] = [3, 32767, 32767, 32767, 1, 1, 1, 1];
    for (i, d) in dims.iter().enumerate() {
        nii[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    nii[70..72].copy_from_slice(&2i16.to_le_bytes()); // uint8
    nii[72..74].copy_from_slice(&8i16.to_le_bytes());
    for i in 0..4 {
        nii[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
    }
    nii[108..112].copy_from_slice(&352f32.to_le_bytes());
    nii[344..348].copy_from_slice(b"n+1\0");
    files.push(("huge_header.nii", nii));
    let mut paths: Vec<PathBuf> = files
        .into_iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect();
    paths.push(dir.join("missing.png"));
    let folder = dir.join("a_folder.png");
    std::fs::create_dir_all(&folder).unwrap();
    paths.push(folder);
    paths
}

/// Exit 2, an `error:` line, no panic.
fn assert_refused(o: &Output, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit {:?}, stderr: {err}",
        o.status.code()
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(
        err.lines().any(|l| l.starts_with("error")),
        "{what}: no error line in: {err}"
    );
}

/// Our own errors are one line each (clap's usage errors come with their usage text).
fn assert_one_line(o: &Output, what: &str) {
    assert_refused(o, what);
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("error") || l.starts_with("note") || l.starts_with("warning")),
        "{what}: {err}"
    );
}

#[test]
fn eval_weights_and_predict_refuse_every_bad_file() {
    let dir = scratch("corpus_files");
    let good = dir.join("good.png");
    let v = dicekit_data::Volume::new(
        ndarray::ArrayD::from_shape_vec(vec![4, 4], (0..16u32).map(|i| i % 2).collect()).unwrap(),
    );
    dicekit_data::write_label_map_png(&good, &v).unwrap();
    let out = dir.join("out");
    for bad in corpus(&dir) {
        let b = bad.to_str().unwrap();
        let g = good.to_str().unwrap();
        let name = bad.file_name().unwrap().to_string_lossy().into_owned();
        let o = dicekit(&["eval", "--pred", b, "--truth", g]);
        assert_one_line(&o, &format!("eval pred {name}"));
        // Nothing evaluated: no empty table on stdout.
        assert!(
            o.stdout.is_empty(),
            "eval pred {name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_one_line(
            &dicekit(&["eval", "--pred", g, "--truth", b]),
            &format!("eval truth {name}"),
        );
        let w = out.join("w.tif");
        assert_one_line(
            &dicekit(&["weights", "--mask", b, "--out", w.to_str().unwrap()]),
            &format!("weights {name}"),
        );
        assert_one_line(
            &dicekit(&[
                "predict",
                "--run",
                b,
                "--input",
                g,
                "--out",
                out.to_str().unwrap(),
            ]),
            &format!("predict run {name}"),
        );
        assert_one_line(
            &dicekit(&["report", "--run", b]),
            &format!("report run {name}"),
        );
    }
    // The NIfTI that claims 32767^3 voxels is truncated, not out of memory.
    let o = dicekit(&[
        "eval",
        "--pred",
        dir.join("huge_header.nii").to_str().unwrap(),
        "--truth",
        good.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truncated") || err.contains("limit"), "{err}");
}

#[test]
fn train_and_demo_refuse_bad_configs_and_values() {
    let dir = scratch("corpus_configs");
    let configs: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("garbage", "this = is [ not toml".into()),
        ("unknown key", "[data]\nsource = \"synthetic\"\nscene = \"fundus\"\nsizee = 3\n".into()),
        ("no model", "[data]\nsource = \"synthetic\"\nscene = \"fundus\"\npatch = [32, 32]\n".into()),
        (
            "negative lr",
            "[data]\nsource = \"synthetic\"\nscene = \"lesion-texture\"\ntrain = 2\nval = 1\nsize = [32, 32]\npatch = [32, 32]\nbatch_size = 2\n[model]\nin_channels = 1\nnum_classes = 2\ndepth = 2\nbase_channels = 4\n[loss]\nloss = \"overlap\"\n[optimizer]\nkind = \"adam\"\nlr = -1.0\n[training]\nepochs = 1\niterations_per_epoch = 1\noutput = \"run\"\n".into(),
        ),
        (
            "unknown loss",
            "[data]\nsource = \"synthetic\"\nscene = \"lesion-texture\"\ntrain = 2\nval = 1\nsize = [32, 32]\npatch = [32, 32]\nbatch_size = 2\n[model]\nin_channels = 1\nnum_classes = 2\ndepth = 2\nbase_channels = 4\n[loss]\nloss = \"dise\"\n[training]\nepochs = 1\niterations_per_epoch = 1\noutput = \"run\"\n".into(),
        ),
    ];
    for (what, text) in configs {
        let path = dir.join(format!("{}.toml", what.replace(' ', "_")));
        std::fs::write(&path, text).unwrap();
        assert_one_line(
            &dicekit(&["train", "--config", path.to_str().unwrap(), "--quiet"]),
            &format!("train {what}"),
        );
    }
    assert_one_line(
        &dicekit(&[
            "train",
            "--config",
            dir.join("missing.toml").to_str().unwrap(),
        ]),
        "train missing config",
    );
    // The demo's output folder is a file.
    let file = dir.join("a_file");
    std::fs::write(&file, b"x").unwrap();
    assert_refused(
        &dicekit(&["demo", "--out", file.to_str().unwrap(), "--epochs", "1"]),
        "demo into a file",
    );
}

#[test]
fn synth_and_experiment_refuse_impossible_values() {
    let dir = scratch("corpus_values");
    let out = dir.join("out");
    for args in [
        vec!["synth", "no-such-scene", "--out", out.to_str().unwrap()],
        vec![
            "synth",
            "fundus",
            "--out",
            out.to_str().unwrap(),
            "--foreground",
            "2.0",
        ],
        vec![
            "synth",
            "fundus",
            "--out",
            out.to_str().unwrap(),
            "--size",
            "0,0",
        ],
        vec![
            "synth",
            "fundus",
            "--out",
            out.to_str().unwrap(),
            "--count",
            "not-a-number",
        ],
        vec!["experiment", "no-such-experiment"],
        vec![
            "experiment",
            "imbalance",
            "--seeds",
            "0",
            "--out",
            out.to_str().unwrap(),
        ],
        vec!["eval", "--pred", "x.png"],
        vec![
            "eval",
            "--pred",
            "x.png",
            "--truth",
            "y.png",
            "--tolerance",
            "-1",
        ],
        vec![
            "eval",
            "--pred",
            "x.png",
            "--truth",
            "y.png",
            "--spacing",
            "0,1",
        ],
    ] {
        assert_refused(&dicekit(&args), &args.join(" "));
    }
}

#[test]
fn help_states_the_exit_codes() {
    let o = dicekit(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for code in ["0 ok", "1 internal error", "2 bad input", "130 interrupted"] {
        assert!(text.contains(code), "`{code}` missing from --help: {text}");
    }
}
