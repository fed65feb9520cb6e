//! Every loss against central finite differences, in f64 on Flex.
mod common;

use common::{Rng, Truth, value_and_grad};
use dicekit_losses::*;

const DIMS: [usize; 4] = [2, 3, 4, 3];
/// Central-difference step: truncation error ~h^2, rounding ~1e-16 / h.
const H: f64 = 1e-6;

fn labels(rng: &mut Rng, ignore: Option<i64>) -> Truth {
    let n = DIMS[0] * DIMS[2] * DIMS[3];
    Truth::Labels(
        (0..n)
            .map(|_| match ignore {
                Some(ig) if rng.uniform() < 0.2 => ig,
                _ => rng.below(DIMS[1]) as i64,
            })
            .collect(),
    )
}

fn dense(rng: &mut Rng, soft: bool) -> Truth {
    let n: usize = DIMS.iter().product();
    Truth::Dense(
        (0..n)
            .map(|_| {
                if soft {
                    rng.uniform()
                } else {
                    (rng.uniform() < 0.3) as u8 as f64
                }
            })
            .collect(),
    )
}

/// Checks the autodiff gradient of `cfg` against central differences at random logits.
fn check(name: &str, cfg: AnyLossConfig, truth: Truth, weight: Option<Vec<f64>>) {
    check_with_step(name, cfg, truth, weight, H)
}

/// As [`check`], with step `h`: piecewise-linear losses (Lovász hinge) need a step smaller than
/// the gap between sorted errors, and have no truncation error.
fn check_with_step(name: &str, cfg: AnyLossConfig, truth: Truth, weight: Option<Vec<f64>>, h: f64) {
    // Both paths: the fused kernel (what Flex runs) and burn's generic tensor path.
    check_path(name, &cfg, &truth, weight.as_deref(), h);
    dicekit_losses::with_generic_path(|| {
        check_path(
            &format!("{name} (generic path)"),
            &cfg,
            &truth,
            weight.as_deref(),
            h,
        )
    });
}

fn check_path(name: &str, cfg: &AnyLossConfig, truth: &Truth, weight: Option<&[f64]>, h: f64) {
    let loss = cfg.init();
    let mut rng = Rng(name.len() as u64 * 7919);
    let n: usize = DIMS.iter().product();
    let x: Vec<f64> = (0..n).map(|_| rng.range(-3.0, 3.0)).collect();
    let w = weight.map(|w| (w, 1));
    let (_, grad) = value_and_grad(&loss, &x, DIMS, truth, w);
    for i in 0..n {
        let mut xp = x.clone();
        xp[i] += h;
        let mut xm = x.clone();
        xm[i] -= h;
        let fd = (value_and_grad(&loss, &xp, DIMS, truth, w).0
            - value_and_grad(&loss, &xm, DIMS, truth, w).0)
            / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() <= 1e-8 + 1e-6 * fd.abs().max(grad[i].abs()),
            "{name}: d/dx[{i}] autodiff {:.10e} vs finite difference {fd:.10e}",
            grad[i]
        );
    }
    assert!(
        grad.iter().any(|g| *g != 0.0),
        "{name}: gradient is identically zero"
    );
}

#[test]
fn overlap_losses_match_finite_differences() {
    let mut rng = Rng(1);
    let cases: Vec<(&str, OverlapLossConfig, Truth)> = vec![
        (
            "dice softmax",
            OverlapLossConfig::dice(),
            labels(&mut rng, None),
        ),
        (
            "dice sigmoid batch",
            OverlapLossConfig::dice()
                .with_activation(Activation::Sigmoid)
                .with_pooling(Pooling::Batch),
            dense(&mut rng, false),
        ),
        (
            "dice squared no-bg",
            OverlapLossConfig::dice()
                .with_power(Power::Squared)
                .with_classes(ClassSelection::ExcludeBackground),
            labels(&mut rng, None),
        ),
        (
            "dice soft norm",
            OverlapLossConfig::dice()
                .with_activation(Activation::Sigmoid)
                .with_intersection(Intersection::Norm),
            dense(&mut rng, true),
        ),
        (
            "dice log zero-absent",
            OverlapLossConfig::dice()
                .with_form(LossForm::NegLog { floor: 1e-7 })
                .with_absent(AbsentClass::Zero)
                .with_eps(1e-7),
            labels(&mut rng, Some(255)).clone(),
        ),
        (
            "dice negative drop weights",
            OverlapLossConfig::dice()
                .with_form(LossForm::Negative)
                .with_absent(AbsentClass::Drop)
                .with_class_weights(Some(vec![0.2, 1.0, 3.0]))
                .with_weight_normalization(WeightNormalization::Normalize),
            labels(&mut rng, None),
        ),
        (
            "jaccard ignore",
            OverlapLossConfig::jaccard().with_ignore_index(Some(255)),
            labels(&mut rng, Some(255)),
        ),
        (
            "tversky",
            OverlapLossConfig::tversky(0.3, 0.7),
            labels(&mut rng, None),
        ),
        (
            "focal tversky per value",
            OverlapLossConfig::tversky(0.3, 0.7).with_gamma(0.75),
            labels(&mut rng, None),
        ),
        (
            "focal tversky after",
            OverlapLossConfig::tversky(0.7, 0.3)
                .with_gamma(1.5)
                .with_gamma_placement(GammaPlacement::AfterReduction),
            labels(&mut rng, None),
        ),
    ];
    for (name, cfg, truth) in cases {
        let ignore = matches!(&truth, Truth::Labels(v) if v.contains(&255));
        let cfg = if ignore {
            cfg.with_ignore_index(Some(255))
        } else {
            cfg
        };
        check(name, AnyLossConfig::Overlap(cfg), truth, None);
    }
}

#[test]
fn weighted_dice_matches_finite_differences() {
    let mut rng = Rng(2);
    let w: Vec<f64> = (0..DIMS[0] * DIMS[2] * DIMS[3])
        .map(|_| rng.range(0.0, 5.0))
        .collect();
    for mode in [WeightMapMode::Voxel, WeightMapMode::MaskedInputs] {
        let cfg = OverlapLossConfig::dice().with_weight_map(mode);
        check(
            "pixel-weighted dice",
            AnyLossConfig::Overlap(cfg),
            labels(&mut rng, None),
            Some(w.clone()),
        );
    }
}

#[test]
fn generalized_dice_matches_finite_differences() {
    let mut rng = Rng(3);
    for weights in [
        GdlWeights::Square,
        GdlWeights::Simple,
        GdlWeights::Uniform,
        GdlWeights::Given(vec![0.5, 1.0, 2.0]),
    ] {
        let cfg = GeneralizedDiceLossConfig::new().with_weights(weights);
        check(
            "generalized dice",
            AnyLossConfig::GeneralizedDice(cfg),
            labels(&mut rng, None),
            None,
        );
    }
    let cfg = GeneralizedDiceLossConfig::new()
        .with_activation(Activation::Sigmoid)
        .with_pooling(Pooling::Batch);
    check(
        "generalized dice sigmoid",
        AnyLossConfig::GeneralizedDice(cfg),
        dense(&mut rng, false),
        None,
    );
}

#[test]
fn pixel_losses_match_finite_differences() {
    let mut rng = Rng(4);
    let cases: Vec<(&str, AnyLossConfig, Truth)> = vec![
        (
            "focal softmax",
            AnyLossConfig::Focal(
                FocalLossConfig::new().with_alpha(FocalAlpha::PerClass(vec![0.1, 0.3, 0.6])),
            ),
            labels(&mut rng, None),
        ),
        (
            "focal softmax gamma<1 ignore",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_gamma(0.5)
                    .with_ignore_index(Some(255))
                    .with_mean_over(MeanOver::ValidVoxels),
            ),
            labels(&mut rng, Some(255)),
        ),
        (
            "focal sigmoid",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_activation(Activation::Sigmoid)
                    .with_alpha(FocalAlpha::Balanced(0.25))
                    .with_pos_weight(Some(vec![1.0, 2.0, 3.0])),
            ),
            dense(&mut rng, false),
        ),
        (
            "bce soft smoothing",
            AnyLossConfig::Bce(
                BceLossConfig::new()
                    .with_label_smoothing(0.1)
                    .with_pos_weight(Some(vec![3.0, 1.0, 0.5])),
            ),
            dense(&mut rng, true),
        ),
        (
            "ce weights smoothing ignore",
            AnyLossConfig::CrossEntropy(
                CrossEntropyLossConfig::new()
                    .with_class_weights(Some(vec![0.3, 1.0, 2.0]))
                    .with_label_smoothing(0.1)
                    .with_ignore_index(Some(255)),
            ),
            labels(&mut rng, Some(255)),
        ),
        (
            "ce soft targets",
            AnyLossConfig::CrossEntropy(CrossEntropyLossConfig::new()),
            {
                let n = DIMS[0] * DIMS[2] * DIMS[3];
                let mut v = vec![0.0; DIMS.iter().product()];
                for b in 0..DIMS[0] {
                    for i in 0..n / DIMS[0] {
                        let r: Vec<f64> = (0..DIMS[1]).map(|_| rng.uniform()).collect();
                        let s: f64 = r.iter().sum();
                        for c in 0..DIMS[1] {
                            v[(b * DIMS[1] + c) * (n / DIMS[0]) + i] = r[c] / s;
                        }
                    }
                }
                Truth::Dense(v)
            },
        ),
        (
            "lovasz softmax",
            AnyLossConfig::Lovasz(LovaszLossConfig::new()),
            labels(&mut rng, None),
        ),
    ];
    for (name, cfg, truth) in cases {
        check(name, cfg, truth, None);
    }
    let hinge = LovaszLossConfig::new()
        .with_variant(LovaszVariant::Hinge)
        .with_pooling(Pooling::PerSample);
    check_with_step(
        "lovasz hinge",
        AnyLossConfig::Lovasz(hinge),
        dense(&mut rng, false),
        None,
        1e-7,
    );
}

#[test]
fn composites_match_finite_differences() {
    let mut rng = Rng(5);
    let sig = OverlapLossConfig::dice().with_activation(Activation::Sigmoid);
    let bce_dice = CompositeLossConfig::bce_dice(0.3, BceLossConfig::new(), sig).unwrap();
    check(
        "alpha bce + dice",
        AnyLossConfig::Composite(bce_dice),
        dense(&mut rng, false),
        None,
    );
    let dice_ce = CompositeLossConfig::dice_ce(
        0.7,
        OverlapLossConfig::dice(),
        0.3,
        CrossEntropyLossConfig::new(),
    );
    check(
        "dice + ce",
        AnyLossConfig::Composite(dice_ce),
        labels(&mut rng, None),
        None,
    );
    let dice_focal = CompositeLossConfig::dice_focal(
        1.0,
        OverlapLossConfig::dice(),
        2.0,
        FocalLossConfig::new(),
    );
    check(
        "dice + focal",
        AnyLossConfig::Composite(dice_focal),
        labels(&mut rng, None),
        None,
    );
    let gdf = CompositeLossConfig::generalized_dice_focal(
        1.0,
        GeneralizedDiceLossConfig::new(),
        1.0,
        FocalLossConfig::new(),
    );
    check(
        "gdl + focal",
        AnyLossConfig::Composite(gdf),
        labels(&mut rng, None),
        None,
    );
}

#[test]
fn hausdorff_dt_matches_finite_differences() {
    // The distance fields are constants of the thresholded maps; a step of 1e-6 never moves a
    // probability across 0.5 at these random logits, so the loss is smooth where it is probed.
    let mut rng = Rng(9);
    check(
        "hausdorff dt, softmax, background excluded",
        AnyLossConfig::HausdorffDt(HausdorffDtLossConfig::new()),
        labels(&mut rng, None),
        None,
    );
    check(
        "hausdorff dt, sigmoid, batch-pooled, alpha 1, ignore label",
        AnyLossConfig::HausdorffDt(
            HausdorffDtLossConfig::new()
                .with_activation(Activation::Sigmoid)
                .with_classes(ClassSelection::All)
                .with_pooling(Pooling::Batch)
                .with_alpha(1.0)
                .with_ignore_index(Some(7)),
        ),
        labels(&mut rng, Some(7)),
        None,
    );
}

#[test]
fn new_losses_match_finite_differences() {
    let mut rng = Rng(11);
    let m = vec![
        vec![0.0, 1.0, 0.5],
        vec![1.0, 0.0, 0.8],
        vec![0.5, 0.8, 0.0],
    ];
    let cases: Vec<(&str, AnyLossConfig, Truth)> = vec![
        (
            "boundary softmax",
            AnyLossConfig::Boundary(BoundaryLossConfig::new()),
            labels(&mut rng, None),
        ),
        (
            "boundary sigmoid batch no-bg",
            AnyLossConfig::Boundary(
                BoundaryLossConfig::new()
                    .with_activation(Activation::Sigmoid)
                    .with_pooling(Pooling::Batch)
                    .with_classes(ClassSelection::ExcludeBackground),
            ),
            dense(&mut rng, false),
        ),
        (
            "cl dice softmax",
            AnyLossConfig::ClDice(ClDiceLossConfig::new().with_iterations(2)),
            labels(&mut rng, None),
        ),
        (
            "dice + cl dice sigmoid",
            AnyLossConfig::Composite(
                CompositeLossConfig::dice_cl_dice(
                    0.4,
                    OverlapLossConfig::dice().with_activation(Activation::Sigmoid),
                    ClDiceLossConfig::new().with_activation(Activation::Sigmoid),
                )
                .unwrap(),
            ),
            dense(&mut rng, false),
        ),
        (
            "wasserstein dice",
            AnyLossConfig::WassersteinDice(WassersteinDiceLossConfig::new(m.clone())),
            labels(&mut rng, None),
        ),
        (
            "wasserstein dice gdl",
            AnyLossConfig::WassersteinDice(
                WassersteinDiceLossConfig::new(m.clone()).with_weighting(WassersteinWeighting::Gdl),
            ),
            labels(&mut rng, None),
        ),
        (
            "unified focal",
            AnyLossConfig::UnifiedFocal(UnifiedFocalLossConfig::new()),
            labels(&mut rng, None),
        ),
        (
            "unified focal sum, tversky only",
            AnyLossConfig::UnifiedFocal(
                UnifiedFocalLossConfig::new()
                    .with_weight(0.0)
                    .with_gamma(0.75)
                    .with_reduction(Reduction::Sum),
            ),
            labels(&mut rng, None),
        ),
        (
            "nacl mean l1",
            AnyLossConfig::Nacl(NaclLossConfig::new()),
            labels(&mut rng, None),
        ),
        (
            "nacl gaussian l2",
            AnyLossConfig::Nacl(
                NaclLossConfig::new()
                    .with_kernel(NaclKernel::Gaussian { sigma: 0.8 })
                    .with_distance(NaclDistance::L2)
                    .with_alpha(0.5),
            ),
            labels(&mut rng, None),
        ),
        (
            "log hausdorff dt",
            AnyLossConfig::HausdorffDt(HausdorffDtLossConfig::new().with_log(true)),
            labels(&mut rng, None),
        ),
    ];
    for (name, cfg, truth) in cases {
        check(name, cfg, truth, None);
    }
}

#[test]
fn peer_options_match_finite_differences() {
    let mut rng = Rng(12);
    let cases: Vec<(&str, AnyLossConfig, Truth)> = vec![
        (
            "dice clipped intersection (nnU-Net clip_tp)",
            AnyLossConfig::Overlap(
                OverlapLossConfig::dice()
                    .with_form(LossForm::Negative)
                    .with_clip_intersection(Some(0.5)),
            ),
            labels(&mut rng, None),
        ),
        (
            "dice with MONAI's one-hot ignore rule (class 1)",
            AnyLossConfig::Overlap(
                OverlapLossConfig::dice()
                    .with_activation(Activation::Sigmoid)
                    .with_ignore_index(Some(1))
                    .with_dense_ignore(DenseIgnore::Monai),
            ),
            dense(&mut rng, false),
        ),
        (
            "focal reduced and normalized",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_activation(Activation::Sigmoid)
                    .with_reduced_threshold(Some(0.5))
                    .with_normalized(true),
            ),
            dense(&mut rng, false),
        ),
        (
            "focal with an ignore label that is a class",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_ignore_index(Some(2))
                    .with_mean_over(MeanOver::ValidVoxels),
            ),
            labels(&mut rng, None),
        ),
    ];
    for (name, cfg, truth) in cases {
        check(name, cfg, truth, None);
    }
    let joint = LovaszLossConfig::new()
        .with_variant(LovaszVariant::Hinge)
        .with_classes(LovaszClasses::Joint);
    check_with_step(
        "lovasz hinge, channels joint",
        AnyLossConfig::Lovasz(joint),
        dense(&mut rng, false),
        None,
        1e-7,
    );
    let mask: Vec<f64> = (0..DIMS[0] * DIMS[2] * DIMS[3])
        .map(|_| (rng.uniform() < 0.7) as u8 as f64)
        .collect();
    check(
        "MONAI masked dice on a label map",
        AnyLossConfig::Overlap(
            OverlapLossConfig::dice().with_weight_map(WeightMapMode::MaskedInputs),
        ),
        labels(&mut rng, None),
        Some(mask),
    );
}
