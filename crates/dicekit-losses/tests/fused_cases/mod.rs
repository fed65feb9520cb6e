//! The cases of `fused.rs` and `fused_f64.rs`: the fused overlap kernel (what Flex runs)
//! against burn's generic tensor path (what every other backend runs, and the reference),
//! losses and gradients on random inputs, including saturated logits, empty and absent classes
//! and all-ignored voxels.
use burn::prelude::*;
use dicekit_losses::*;

use crate::common::{Rng, floats};

const DIMS: [usize; 4] = [2, 3, 5, 4];

/// The logits of a case.
#[derive(Clone, Copy, Debug)]
enum Logits {
    /// Uniform in [-4, 4].
    Moderate,
    /// Mostly |x| in the thousands (sigmoid and softmax saturate to exact 0 and 1).
    Saturated,
    /// Probabilities in [0, 1] (identity activation).
    Probabilities,
}

/// The target of a case.
#[derive(Clone, Copy, Debug)]
enum Truth {
    /// Random labels; class 2 absent.
    Labels,
    /// Every voxel carries the ignore label.
    AllIgnored,
    /// Dense one-hot / multi-hot, with an empty channel.
    Hard,
    /// Dense soft values in [0, 1].
    Soft,
}

struct Case {
    loss: AnyLossConfig,
    classes: usize,
    logits: Logits,
    truth: Truth,
    ignore: Option<i64>,
    /// Channels of the weight map (1 or C), if any.
    weight: Option<usize>,
}

fn inputs<const D: usize>(
    case: &Case,
    dims: [usize; D],
    rng: &mut Rng,
    device: &Device,
) -> (Tensor<D>, Target<D>, Option<Tensor<D>>) {
    let n: usize = dims.iter().product();
    let x: Vec<f64> = (0..n)
        .map(|_| match case.logits {
            Logits::Moderate => rng.range(-4.0, 4.0),
            Logits::Saturated => {
                let s = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
                s * rng.range(0.0, 3000.0)
            }
            Logits::Probabilities => rng.uniform(),
        })
        .collect();
    let voxels = n / dims[1];
    let target: Target<D> = match case.truth {
        Truth::Labels | Truth::AllIgnored => {
            let labels: Vec<i64> = (0..voxels)
                .map(|_| match (case.truth, case.ignore) {
                    (Truth::AllIgnored, Some(ig)) => ig,
                    (_, Some(ig)) if rng.uniform() < 0.2 => ig,
                    // Class 2 (when there is one) never appears.
                    _ if dims[1] > 2 => [0, 1][rng.below(2)],
                    _ => rng.below(dims[1].max(2)) as i64,
                })
                .collect();
            let mut ld = dims;
            ld[1] = 1;
            Tensor::<1, Int>::from_ints(labels.as_slice(), device)
                .reshape(ld)
                .into()
        }
        Truth::Hard | Truth::Soft => {
            let per_channel = n / dims[0] / dims[1];
            let v: Vec<f64> = (0..n)
                .map(|i| {
                    let channel = (i / per_channel) % dims[1];
                    if dims[1] > 1 && channel == dims[1] - 1 {
                        0.0 // an empty channel
                    } else if let (Some(ig), true) = (case.ignore, rng.uniform() < 0.15) {
                        ig as f64
                    } else if matches!(case.truth, Truth::Soft) {
                        rng.uniform()
                    } else {
                        (rng.uniform() < 0.3) as u8 as f64
                    }
                })
                .collect();
            floats(&v, device).reshape(dims).into()
        }
    };
    let weight = case.weight.map(|ch| {
        let mut wd = dims;
        wd[1] = ch;
        let m: usize = wd.iter().product();
        let v: Vec<f64> = (0..m).map(|_| rng.range(0.0, 2.0)).collect();
        floats(&v, device).reshape(wd)
    });
    (floats(&x, device).reshape(dims), target, weight)
}

/// Loss and gradient of `case` on `device`, on the current path.
fn run(case: &Case, seed: u64, device: &Device) -> (Vec<f64>, Vec<f64>) {
    let mut dims = DIMS;
    dims[1] = case.classes;
    let mut rng = Rng(seed);
    let (x, target, weight) = inputs(case, dims, &mut rng, device);
    let x = x.require_grad();
    let out = case.loss.init().forward(x.clone(), target, weight).total;
    let value = out
        .clone()
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap();
    let grads = out.backward();
    let grad = x
        .grad(&grads)
        .map(|g| g.into_data().convert::<f64>().try_to_vec::<f64>().unwrap())
        .unwrap_or_else(|| vec![0.0; dims.iter().product()]);
    (value, grad)
}

fn overlap(rng: &mut Rng, classes: usize, ignore: Option<i64>, dense: bool) -> AnyLossConfig {
    let pick = |rng: &mut Rng, n: usize| rng.below(n);
    let mut cfg = OverlapLossConfig::dice()
        .with_index(match pick(rng, 3) {
            0 => OverlapIndex::Dice,
            1 => OverlapIndex::Jaccard,
            _ => OverlapIndex::Tversky {
                alpha: 0.3,
                beta: 0.7,
            },
        })
        .with_power([Power::Linear, Power::Squared][pick(rng, 2)])
        .with_intersection([Intersection::Product, Intersection::Norm][pick(rng, 2)])
        .with_pooling([Pooling::PerSample, Pooling::Batch][pick(rng, 2)])
        .with_weight_map([WeightMapMode::Voxel, WeightMapMode::MaskedInputs][pick(rng, 2)])
        .with_absent([AbsentClass::Keep, AbsentClass::Zero, AbsentClass::Drop][pick(rng, 3)])
        .with_ignore_index(ignore);
    if dense {
        cfg = cfg.with_dense_ignore([DenseIgnore::Entries, DenseIgnore::Monai][pick(rng, 2)]);
    }
    if classes > 1 && rng.uniform() < 0.3 {
        cfg = cfg.with_classes(ClassSelection::ExcludeBackground);
    }
    AnyLossConfig::Overlap(cfg)
}

fn cases() -> Vec<(Case, u64)> {
    let mut rng = Rng(20);
    let mut out = Vec::new();
    for i in 0..160u64 {
        let classes = [1, 3][rng.below(2)];
        let (logits, activation) = match rng.below(5) {
            0 => (Logits::Probabilities, Activation::Identity),
            1 => (Logits::Saturated, Activation::Softmax),
            2 => (Logits::Saturated, Activation::Sigmoid),
            3 => (Logits::Moderate, Activation::Sigmoid),
            _ => (Logits::Moderate, Activation::Softmax),
        };
        let truth = [Truth::Labels, Truth::AllIgnored, Truth::Hard, Truth::Soft][rng.below(4)];
        let dense = matches!(truth, Truth::Hard | Truth::Soft);
        let ignore = match (truth, rng.below(3)) {
            (Truth::AllIgnored, _) => Some(if classes > 1 { 1 } else { 255 }),
            (_, 0) => Some(255),
            (_, 1) if !dense && classes > 1 => Some(1),
            _ => None,
        };
        let weight = [None, Some(1), Some(classes)][rng.below(3)];
        let loss = match rng.below(6) {
            0 => AnyLossConfig::GeneralizedDice(
                GeneralizedDiceLossConfig::new()
                    .with_activation(activation)
                    .with_ignore_index(ignore.filter(|_| !dense)),
            ),
            1 => AnyLossConfig::Mcc(
                MccLossConfig::new()
                    .with_activation(activation)
                    .with_ignore_index(ignore.filter(|_| !dense)),
            ),
            _ => match overlap(&mut rng, classes, ignore, dense) {
                AnyLossConfig::Overlap(c) => AnyLossConfig::Overlap(c.with_activation(activation)),
                other => other,
            },
        };
        // The non-overlap losses here take no ignore value with dense targets.
        let ignore = match &loss {
            AnyLossConfig::Overlap(_) => ignore,
            _ if dense => None,
            _ => ignore,
        };
        let weight = match &loss {
            // MONAI's MaskedDiceLoss takes a one-channel mask with class labels.
            AnyLossConfig::Overlap(c)
                if c.weight_map == WeightMapMode::MaskedInputs && !dense && classes > 1 =>
            {
                weight.map(|_| 1)
            }
            AnyLossConfig::Overlap(_) => weight,
            _ => None,
        };
        out.push((
            Case {
                loss,
                classes,
                logits,
                truth,
                ignore,
                weight,
            },
            i,
        ));
    }
    out
}

/// Every case on both paths, compared with relative tolerance `rtol`.
pub fn compare(device: &Device, rtol: f64, label: &str) {
    let before = fused_calls();
    for (case, seed) in cases() {
        let (v1, g1) = run(&case, seed, device);
        let (v2, g2) = with_generic_path(|| run(&case, seed, device));
        let what = || {
            format!(
                "{label} case {seed}: {:?} classes {} logits {:?} truth {:?} ignore {:?} weight {:?}",
                case.loss, case.classes, case.logits, case.truth, case.ignore, case.weight
            )
        };
        assert!(
            v1.iter().chain(&g1).all(|x| x.is_finite()),
            "non-finite fused result: {}",
            what()
        );
        for (a, b) in v1.iter().zip(&v2) {
            assert!(
                (a - b).abs() <= rtol * b.abs().max(1.0),
                "loss {a} (fused) vs {b} (generic): {}",
                what()
            );
        }
        let scale = g2.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(1e-3);
        for (i, (a, b)) in g1.iter().zip(&g2).enumerate() {
            assert!(
                (a - b).abs() <= rtol * scale,
                "gradient [{i}] {a:e} (fused) vs {b:e} (generic): {}",
                what()
            );
        }
    }
    assert!(fused_calls() > before, "no case took the fused kernel");
}
