//! Training end to end on tiny synthetic data, config errors, and exact resume.
use std::path::{Path, PathBuf};

use dicekit_train::{TrainConfig, train};

/// A tiny run: lesion-texture 32x32, a 2-level U-Net, Dice + CE.
fn config(out: &Path, epochs: usize) -> String {
    format!(
        r#"
[data]
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
iterations_per_epoch = 3
seed = 3
output = "{}"
"#,
        out.display()
    )
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn trains_validates_and_writes_checkpoints() {
    let out = scratch("train_small");
    let cfg = TrainConfig::from_toml(&config(&out, 2), PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    assert_eq!(outcome.state.epochs_done, 2);
    assert_eq!(outcome.state.history.len(), 2);
    let last = &outcome.state.history[1];
    assert!(last.loss.is_finite());
    assert_eq!(
        last.terms.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["dice", "ce"]
    );
    assert_eq!(
        last.val_dice.as_ref().unwrap().len(),
        1,
        "one foreground class"
    );
    for f in [
        "config.toml",
        "state.json",
        "log.csv",
        "checkpoints/last.bpk",
        "checkpoints/last.optim.bpk",
        "checkpoints/best.bpk",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // Starting again without --resume would overwrite the run: refused.
    let again = train(&cfg, false, None, false).unwrap_err();
    assert!(again.to_string().contains("--resume"), "{again}");
    // A checkpoint whose weights hold NaN is refused at load, naming it.
    let ckpt = out.join("checkpoints/last.bpk");
    assert!(dicekit_train::Trained::load(&cfg, &ckpt).is_ok());
    struct Poison;
    impl burn::module::ModuleMapper for Poison {
        fn map_float<const D: usize>(
            &mut self,
            param: burn::module::Param<burn::prelude::Tensor<D>>,
        ) -> burn::module::Param<burn::prelude::Tensor<D>> {
            param.map(|t| t * f32::NAN)
        }
    }
    use burn::module::Module;
    let device = burn::prelude::Device::flex();
    let poisoned = out.join("checkpoints/poisoned.bpk");
    cfg.model
        .init_2d(&device)
        .map(&mut Poison)
        .save_file(&poisoned)
        .unwrap();
    let e = dicekit_train::Trained::load(&cfg, &poisoned)
        .unwrap_err()
        .to_string();
    assert!(e.contains("poisoned.bpk") && e.contains("NaN"), "{e}");
}

#[test]
fn resume_refuses_another_config_and_missing_state() {
    let out = scratch("resume_other");
    let cfg = TrainConfig::from_toml(&config(&out, 1), PathBuf::new()).unwrap();
    let e = train(&cfg, true, None, false).unwrap_err();
    assert!(
        e.to_string().contains("--resume") && e.exit_code() == 2,
        "{e}"
    );
    train(&cfg, false, None, false).unwrap();
    let mut other = cfg.clone();
    other.training.epochs = 2;
    other.optimizer.lr = 0.01;
    let e = train(&other, true, None, false).unwrap_err().to_string();
    assert!(e.to_string().contains("config differs"), "{e}");
}

/// `[loss]` is a typed `AnyLossConfig`: every loss, given as the partial table a user writes,
/// serialises into the run's config.toml and parses back to the same config; a run resumed with
/// the partial table it started with is the same config.
#[test]
fn every_loss_round_trips_through_the_saved_config() {
    let out = scratch("loss_round_trip");
    let base = config(&out, 1);
    let start = base.find("[loss]").unwrap();
    let end = base.find("[training]").unwrap();
    let tables = [
        "loss = \"overlap\"\nindex = \"jaccard\"",
        "loss = \"generalized_dice\"",
        "loss = \"focal\"\nalpha = { balanced = 0.25 }",
        "loss = \"bce\"\nactivation = \"sigmoid\"",
        "loss = \"cross_entropy\"\nignore_index = 255",
        "loss = \"lovasz\"",
        "loss = \"mcc\"",
        "loss = \"hausdorff_dt\"",
        "loss = \"boundary\"",
        "loss = \"cl_dice\"",
        "loss = \"wasserstein_dice\"\ndistances = [[0.0, 1.0], [1.0, 0.0]]",
        "loss = \"unified_focal\"",
        "loss = \"nacl\"\nkernel = { gaussian = { sigma = 1.5 } }",
        "loss = \"top_k\"\nk = 5.0",
    ];
    let kinds: Vec<&str> = dicekit_losses::AnyLossConfig::KINDS
        .iter()
        .copied()
        .filter(|k| *k != "composite")
        .collect();
    assert_eq!(kinds.len(), tables.len(), "a table per loss: {kinds:?}");
    for table in tables {
        let text = format!("{}[loss]\n{table}\n\n{}", &base[..start], &base[end..]);
        let cfg = TrainConfig::from_toml(&text, PathBuf::new())
            .unwrap_or_else(|e| panic!("{table}: {e}"));
        let saved = toml::to_string(&cfg).unwrap_or_else(|e| panic!("{table}: {e}"));
        let again = TrainConfig::from_toml(&saved, PathBuf::new())
            .unwrap_or_else(|e| panic!("{table}: {e}\n{saved}"));
        assert_eq!(toml::to_string(&again).unwrap(), saved, "{table}");
        assert_eq!(again.loss.name(), cfg.loss.name());
    }
}

#[test]
fn config_errors_name_the_field() {
    let out = scratch("config_errors");
    let good = config(&out, 1);
    let bad = |from: &str, to: &str| {
        TrainConfig::from_toml(&good.replacen(from, to, 1), PathBuf::new())
            .unwrap_err()
            .to_string()
    };
    assert!(bad("batch_size = 2", "batch_size = 2\nbatchsize = 3").contains("batchsize"));
    assert!(bad("batch_size = 2", "batch_size = 2\nignore_label = 1").contains("ignore_label"));
    assert!(bad("depth = 2", "depth = 2\ndepht = 3").contains("depht"));
    assert!(bad("patch = [32, 32]", "patch = [31, 32]").contains("31"));
    assert!(
        bad(
            "name = \"ce\", weight = 1.0",
            "name = \"ce\", weight = -1.0"
        )
        .contains("weight")
    );
    assert!(
        bad(
            "loss = \"cross_entropy\"",
            "loss = \"cross_entropy\", smoothing = 2"
        )
        .contains("smoothing")
    );
    assert!(
        bad("iterations_per_epoch = 3", "iterations_per_epoch = 0")
            .contains("iterations_per_epoch")
    );
    assert!(bad("scene = \"lesion-texture\"", "scene = \"nope\"").contains("nope"));
    assert!(bad("patch = [32, 32]", "patch = [8192, 8192]\n").contains("too large"));
}

#[test]
fn every_config_in_the_repository_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            TrainConfig::read(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 4, "{n} configs");
}

#[test]
fn a_diverging_run_stops_with_a_clear_message() {
    let out = scratch("nan_stop");
    let text = config(&out, 3).replace(
        "[training]",
        "[optimizer]\nkind = \"sgd\"\nlr = 1e30\nmomentum = 0.9\n\n[training]",
    );
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let err = train(&cfg, false, None, false).unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("loss became"), "{err}");
}

#[test]
fn a_3d_run_with_deep_supervision_trains_and_validates() {
    let out = scratch("train_3d");
    let text = format!(
        r#"
[data]
source = "synthetic"
scene = "ct-phantom"
train = 2
val = 1
size = [24, 24, 24]
patch = [16, 16, 16]
batch_size = 1
normalization = {{ window = {{ low = -200.0, high = 300.0 }} }}

[model]
in_channels = 1
num_classes = 6
depth = 3
base_channels = 2
deep_supervision = true

[loss]
loss = "composite"
terms = [
  {{ name = "dice", weight = 1.0, loss = {{ loss = "overlap", classes = "exclude_background" }} }},
  {{ name = "ce", weight = 1.0, loss = {{ loss = "cross_entropy" }} }},
]

[training]
epochs = 1
iterations_per_epoch = 2
output = "{}"
"#,
        out.display()
    );
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    let log = &outcome.state.history[0];
    assert!(log.loss.is_finite());
    assert_eq!(
        log.val_dice.as_ref().unwrap().len(),
        5,
        "liver, spleen, kidneys, tumour"
    );
}

#[test]
fn resize_trains_small_and_predicts_at_the_original_size_within_the_time_limit() {
    let out = scratch("train_resize");
    let text = config(&out, 5)
        .replace("size = [32, 32]", "size = [40, 40]\nresize = [32, 32]")
        .replace("seed = 3", "seed = 3\ntime_limit_minutes = 1e-6");
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    // The budget is spent by the first epoch, which is validated and checkpointed.
    assert_eq!(outcome.stop, dicekit_train::StopReason::TimeLimit);
    assert_eq!(outcome.state.epochs_done, 1);
    assert!(outcome.state.history[0].val_dice.is_some());
    let trained = dicekit_train::Trained::load(&cfg, &out.join("checkpoints/best.bpk")).unwrap();
    let image = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[1, 40, 40]));
    let (probs, labels) = trained.predict(&image).unwrap();
    assert_eq!(probs.shape(), &[2, 40, 40]);
    assert_eq!(labels.shape(), &[40, 40]);
    let bad = text.replace("resize = [32, 32]", "resize = [32]");
    let e = TrainConfig::from_toml(&bad, PathBuf::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[data] resize"), "{e}");
}

#[test]
fn the_attention_task_trains_validates_and_classifies() {
    let out = scratch("train_attention");
    let text = config(&out, 2).replace("base_channels = 4", "base_channels = 4\n\n[task]\nkind = \"attention\"\nattention = \"soft\"\nlambda = 0.5\nhidden = 8");
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    let last = outcome.state.history.last().unwrap();
    assert_eq!(
        last.terms.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["dice", "ce", "classification"]
    );
    let acc = last.val_accuracy.unwrap();
    assert!((0.0..=1.0).contains(&acc));
    let csv = std::fs::read_to_string(out.join("log.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().contains("val_accuracy,val_auc"),
        "{csv}"
    );
    let trained = dicekit_train::Trained::load(&cfg, &out.join("checkpoints/last.bpk")).unwrap();
    let image = ndarray::ArrayD::<f32>::from_shape_fn(ndarray::IxDyn(&[1, 32, 32]), |i| {
        (i[1] * i[2]) as f32 / 100.0
    });
    let c = trained.classify(&image).unwrap().unwrap();
    assert!((c.probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-6);
    assert_eq!(c.attention.shape(), &[32, 32]);
    assert!(c.attention.iter().all(|v| (0.0..=1.0).contains(v)));
    // Whole images only, and labels are needed.
    let small = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[1, 16, 16]));
    assert!(trained.classify(&small).is_err());
    for (from, to, needle) in [
        (
            "patch = [32, 32]",
            "patch = [16, 16]",
            "must equal the image size",
        ),
        ("lambda = 0.5", "lambda = -1", "lambda"),
        (
            "attention = \"soft\"",
            "attention = \"sideways\"",
            "sideways",
        ),
    ] {
        let e = TrainConfig::from_toml(&text.replace(from, to), PathBuf::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle), "{e}");
    }
}

/// The oracle control trains and validates with the reference mask and classifies only with
/// one: its attention is the reference itself.
#[test]
fn the_oracle_attention_pools_with_the_reference() {
    let out = scratch("train_attention_oracle");
    let text = config(&out, 1).replace(
        "base_channels = 4",
        "base_channels = 4\n\n[task]\nkind = \"attention\"\nattention = \"oracle\"\nhidden = 8",
    );
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    assert!(outcome.state.history[0].val_accuracy.is_some());
    let trained = dicekit_train::Trained::load(&cfg, &out.join("checkpoints/last.bpk")).unwrap();
    let image = ndarray::ArrayD::<f32>::from_shape_fn(ndarray::IxDyn(&[1, 32, 32]), |i| {
        (i[1] + i[2]) as f32 / 50.0
    });
    let e = trained.classify(&image).unwrap_err().to_string();
    assert!(e.contains("reference"), "{e}");
    let reference =
        ndarray::ArrayD::<u32>::from_shape_fn(ndarray::IxDyn(&[32, 32]), |i| (i[0] < 8) as u32);
    let c = trained
        .classify_with_reference(&image, Some(&reference))
        .unwrap()
        .unwrap();
    assert!(
        c.attention
            .iter()
            .zip(reference.iter())
            .all(|(&a, &r)| a == r as f32)
    );
    let wrong = ndarray::ArrayD::<u32>::zeros(ndarray::IxDyn(&[16, 32]));
    let e = trained
        .classify_with_reference(&image, Some(&wrong))
        .unwrap_err()
        .to_string();
    assert!(e.contains("shape"), "{e}");
}

#[test]
fn a_boundary_weight_map_trains() {
    let out = scratch("train_weight_map");
    let text = config(&out, 1).replace(
        "batch_size = 2",
        "batch_size = 2\nweight_map = { kind = \"boundary\", band_weight = 5.0, profile = { gaussian = { sigma = 1.5 } } }",
    );
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    assert!(matches!(
        cfg.data.weight_map,
        Some(dicekit_train::WeightMapSpec::Boundary(_))
    ));
    let outcome = train(&cfg, false, None, false).unwrap();
    assert!(outcome.state.history[0].loss.is_finite());
    let bad = text.replace("band_weight = 5.0", "band_weight = 5.0, colour = 3");
    assert!(TrainConfig::from_toml(&bad, PathBuf::new()).is_err());
}

#[test]
fn clouds_relabel_the_training_masks_only() {
    // The first data seed whose first training image has clouds.
    let seed = (0..50u64)
        .find(|&s| {
            let x = dicekit_data::synth::Scene::Wetlands
                .generate(Some(&[64, 64]), s, 0)
                .unwrap();
            x.extra.unwrap().data.iter().any(|&c| c != 0)
        })
        .expect("a cloudy image");
    let base = |clouds: &str, ignore: &str| {
        format!(
            r#"
[data]
source = "synthetic"
scene = "wetlands"
train = 2
val = 1
size = [64, 64]
seed = {seed}
clouds = "{clouds}"
{ignore}
patch = [64, 64]
batch_size = 2

[model]
in_channels = 4
num_classes = 2
depth = 2
base_channels = 4

[loss]
loss = "cross_entropy"

[training]
epochs = 1
iterations_per_epoch = 1
output = "unused"
"#
        )
    };
    let truth = dicekit_data::synth::Scene::Wetlands
        .generate(Some(&[64, 64]), seed, 0)
        .unwrap();
    let cloud = truth.extra.unwrap().data;
    assert!(cloud.iter().any(|&c| c != 0));
    for (clouds, ignore, under) in [
        ("ignore", "ignore_label = 255", 255u32),
        ("background", "", 0),
    ] {
        let cfg = TrainConfig::from_toml(&base(clouds, ignore), PathBuf::new()).unwrap();
        let set = dicekit_train::load_cases(&cfg).unwrap();
        let m = &set.train[0].mask;
        assert!(
            m.iter()
                .zip(cloud.iter())
                .all(|(&l, &c)| c == 0 || l == under),
            "{clouds}"
        );
        let v = dicekit_data::synth::Scene::Wetlands
            .generate(Some(&[64, 64]), seed, 1_000_000)
            .unwrap();
        assert_eq!(set.val[0].mask, v.mask.data, "validation keeps the truth");
    }
    let e = TrainConfig::from_toml(&base("ignore", ""), PathBuf::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("ignore_label"), "{e}");
    let e = TrainConfig::from_toml(
        &base("background", "").replace("\"wetlands\"", "\"fundus\""),
        PathBuf::new(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("wetlands"), "{e}");
}

/// Regression: validation once ran the whole network on whole images (for the attention
/// task's classification) even for plain segmentation, which panics on sizes the network cannot
/// take. Sliding windows must be the only path.
#[test]
fn validates_images_whose_size_the_network_cannot_take_whole() {
    let out = scratch("train_odd_size");
    let text = config(&out, 1)
        .replace("size = [32, 32]", "size = [37, 35]")
        .replace("depth = 2", "depth = 3");
    let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
    let outcome = train(&cfg, false, None, false).unwrap();
    assert!(outcome.state.history[0].val_mean_dice.is_some());
}
