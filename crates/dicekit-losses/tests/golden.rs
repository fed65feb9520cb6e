//! Golden test: every case of the peers' reference file, forward and backward.
//!
//! Run: `cargo test -p dicekit-losses --test golden -- --nocapture`
//! Another file of the same schema: `DICEKIT_LOSS_CASES=path.json cargo test -p dicekit-losses --test golden`.
mod common;
mod peers;

use burn::prelude::*;
use serde_json::Value;

use common::{f64_device, floats as f64s};
use peers::{Plan, TargetMode, translate};

/// The suggested f32 tolerances of the reference file's schema.
const LOSS_RTOL: f64 = 1e-4;
const GRAD_RTOL: f64 = 1e-4;
/// The suggested f64 tolerances, reported but not required.
const LOSS_RTOL64: (f64, f64) = (1e-10, 1e-8);
const GRAD_RTOL64: (f64, f64) = (1e-12, 1e-7);

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| {
            x.as_i64()
                .or_else(|| x.as_f64().map(|f| f as i64))
                .expect("integer")
        })
        .collect()
}

fn shape(v: &Value) -> Vec<usize> {
    ints(v).into_iter().map(|x| x as usize).collect()
}

enum Outcome {
    Pass { exact64: bool },
    Fail(String),
    Skip(String),
}

fn run_case(case: &Value, device: &Device) -> Outcome {
    let plan = match translate(case) {
        Ok(p) => p,
        Err(reason) => return Outcome::Skip(reason),
    };
    if case["loss"].is_null() {
        return Outcome::Skip(format!(
            "peer returned a non-finite loss ({})",
            case["loss_nonfinite"]
        ));
    }
    let dims = shape(&case["input_shape"]);
    match dims.len() {
        4 => run_dims::<4>(case, plan, device),
        5 => run_dims::<5>(case, plan, device),
        n => Outcome::Skip(format!("unsupported rank {n}")),
    }
}

fn run_dims<const D: usize>(case: &Value, plan: Plan, device: &Device) -> Outcome {
    let dims: [usize; D] = shape(&case["input_shape"]).try_into().unwrap();
    let logits = f64s(&floats(&case["logits"]), device)
        .reshape(dims)
        .require_grad();
    let tshape = shape(&case["target_shape"]);
    let tvalues = ints(&case["target"]);
    let mut tdims = dims;
    let target: dicekit_losses::Target<D> = match plan.target {
        TargetMode::Indices => {
            tdims[1] = 1;
            assert_eq!(
                tshape.iter().product::<usize>(),
                tdims.iter().product::<usize>(),
                "target size"
            );
            Tensor::<1, Int>::from_ints(tvalues.as_slice(), device)
                .reshape(tdims)
                .into()
        }
        TargetMode::Dense => {
            let v: Vec<f64> = tvalues.iter().map(|&x| x as f64).collect();
            f64s(&v, device).reshape(dims).into()
        }
        TargetMode::OneHot => {
            let (b, c) = (dims[0], dims[1]);
            let n: usize = dims[2..].iter().product();
            let mut v = vec![0.0; b * c * n];
            for s in 0..b {
                for i in 0..n {
                    let label = tvalues[s * n + i];
                    if (0..c as i64).contains(&label) {
                        v[(s * c + label as usize) * n + i] = 1.0;
                    }
                }
            }
            f64s(&v, device).reshape(dims).into()
        }
        TargetMode::DenseWithIgnoreChannel { ignore } => {
            // [B, C+1, ...S]: the last channel marks ignored voxels.
            let (b, c) = (dims[0], dims[1]);
            let n: usize = dims[2..].iter().product();
            let mut v = Vec::with_capacity(b * c * n);
            for s in 0..b {
                for k in 0..c {
                    for i in 0..n {
                        let ign = tvalues[(s * (c + 1) + c) * n + i] != 0;
                        v.push(if ign {
                            ignore as f64
                        } else {
                            tvalues[(s * (c + 1) + k) * n + i] as f64
                        });
                    }
                }
            }
            f64s(&v, device).reshape(dims).into()
        }
    };
    let weight_map = plan.weight_map.as_ref().map(|name| {
        let extra = &case["extra_inputs"][name];
        let mut wdims = dims;
        wdims[1] = shape(&extra["shape"])[1];
        f64s(&floats(&extra["values"]), device).reshape(wdims)
    });
    let loss = plan.loss.init();
    let out = loss.forward(logits.clone(), target, weight_map);
    let value: f64 = out.total.clone().into_scalar::<f64>();
    let grads = out.total.backward();
    let grad: Vec<f64> = logits
        .grad(&grads)
        .map(|g| g.into_data().convert::<f64>().try_to_vec::<f64>().unwrap())
        .unwrap_or_else(|| vec![0.0; dims.iter().product()]);

    let reference = case["loss"].as_f64().unwrap();
    let ref_grad = floats(&case["grad"]);
    let max_abs = case["max_abs_grad"]
        .as_f64()
        .unwrap_or_else(|| ref_grad.iter().fold(0.0f64, |m, g| m.max(g.abs())));
    if !value.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return Outcome::Fail(format!("non-finite loss {value} or gradient"));
    }
    let dl = (value - reference).abs();
    if dl > LOSS_RTOL * reference.abs() + 1e-10 {
        return Outcome::Fail(format!(
            "loss {value:.12} vs {reference:.12} (|diff| {dl:.2e})"
        ));
    }
    let (gi, dg) = grad
        .iter()
        .zip(&ref_grad)
        .map(|(a, b)| (a - b).abs())
        .enumerate()
        .fold((0, 0.0f64), |m, (i, d)| if d > m.1 { (i, d) } else { m });
    if dg > GRAD_RTOL * max_abs + 1e-12 {
        return Outcome::Fail(format!(
            "gradient entry {gi}: {:.6e} vs {:.6e} (|diff| {dg:.2e}, max |grad| {max_abs:.2e})",
            grad[gi], ref_grad[gi]
        ));
    }
    let exact64 = dl <= LOSS_RTOL64.0 + LOSS_RTOL64.1 * reference.abs()
        && dg <= GRAD_RTOL64.0 + GRAD_RTOL64.1 * max_abs;
    if !exact64 {
        println!(
            "note {}: within f32 but not f64 tolerance (loss |diff| {dl:.2e}, grad |diff| {dg:.2e})",
            case["id"].as_str().unwrap_or("?")
        );
    }
    Outcome::Pass { exact64 }
}

#[test]
fn peer_reference_cases() {
    let path = std::env::var("DICEKIT_LOSS_CASES").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/losses_dev.json").to_string()
    });
    run_file(&path);
}

/// More option combinations, computed by the peers themselves with `tools/golden/extra_losses.py`.
#[test]
fn extra_peer_cases() {
    run_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/losses_extra.json"
    ));
}

/// The categories where the peers' edge cases once broke dicekit (ignore labels that are classes,
/// single channels, weights in composites, ...), computed by the peers with
/// `tools/golden/parity_losses.py`.
#[test]
fn parity_peer_cases() {
    run_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/losses_parity.json"
    ));
}

/// The losses added for #17 (boundary, clDice, Wasserstein Dice, unified focal, NACL, log
/// Hausdorff, kornia's Lovász hinge), computed by the peers with `tools/golden/new_losses.py`.
#[test]
fn new_loss_peer_cases() {
    run_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/losses_new.json"
    ));
}

/// Runs every case of a reference file, prints `loss cases: N passed, M failed, K skipped` and
/// fails if any case fails.
fn run_file(path: &str) {
    // cargo runs tests in the crate's folder: a relative path may also be meant from the workspace root.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = match std::path::Path::new(path) {
        p if p.is_relative() && !p.exists() && root.join(p).exists() => {
            root.join(p).display().to_string()
        }
        _ => path.to_string(),
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    let device = f64_device();
    // Every case on both paths: the fused kernel (what Flex runs) and burn's generic tensor
    // path (what every other backend runs).
    let before = dicekit_losses::fused_calls();
    for path in ["fused", "generic"] {
        run_cases(&file, &device, path);
    }
    assert!(
        dicekit_losses::fused_calls() > before,
        "no case took the fused kernel"
    );
}

fn run_cases(file: &Value, device: &Device, path: &str) {
    let (mut passed, mut failed, mut skipped, mut exact) = (0, 0, 0, 0);
    let mut core_failures = Vec::new();
    for case in file["cases"].as_array().expect("`cases` array") {
        let id = case["id"].as_str().unwrap_or("?");
        let category = case["category"].as_str().unwrap_or("core");
        let run = || match path {
            "generic" => dicekit_losses::with_generic_path(|| run_case(case, device)),
            _ => run_case(case, device),
        };
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|e| {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Outcome::Fail(format!("panicked: {msg}"))
            });
        match outcome {
            Outcome::Pass { exact64 } => {
                passed += 1;
                exact += exact64 as usize;
            }
            Outcome::Fail(why) => {
                failed += 1;
                println!(
                    "FAIL {id} [{category}] ({path} path) {}: {why}",
                    case["call"].as_str().unwrap_or("")
                );
                if category == "core" {
                    core_failures.push(format!("{id} ({path})"));
                }
            }
            Outcome::Skip(why) => {
                skipped += 1;
                if path == "fused" {
                    println!("skip {id} [{category}]: {why}");
                }
            }
        }
    }
    println!("({path} path: {exact} of the {passed} passing cases also meet the f64 tolerances)");
    println!("loss cases ({path} path): {passed} passed, {failed} failed, {skipped} skipped");
    assert!(
        core_failures.is_empty(),
        "core cases failed: {core_failures:?}"
    );
    assert!(failed == 0, "{failed} cases failed on the {path} path");
}
