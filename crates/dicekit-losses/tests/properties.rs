//! Invariants of the losses: ranges, perfect predictions, identities between losses, and
//! finiteness on the inputs that break naive implementations.
mod common;

use common::{Rng, Truth, value_and_grad};
use dicekit_losses::*;
use proptest::prelude::*;

const DIMS: [usize; 4] = [2, 3, 3, 4];

fn n() -> usize {
    DIMS.iter().product()
}

fn value(cfg: &AnyLossConfig, x: &[f64], truth: &Truth) -> f64 {
    value_and_grad(&cfg.init(), x, DIMS, truth, None).0
}

fn overlap(cfg: OverlapLossConfig) -> AnyLossConfig {
    AnyLossConfig::Overlap(cfg)
}

/// Logits in [-6, 6] and targets: hard multi-hot (`soft = false`) or soft in [0, 1].
fn inputs(seed: u64, soft: bool) -> (Vec<f64>, Truth) {
    let mut rng = Rng(seed);
    let x = (0..n()).map(|_| rng.range(-6.0, 6.0)).collect();
    let t = (0..n())
        .map(|_| {
            if soft {
                rng.uniform()
            } else {
                (rng.uniform() < 0.3) as u8 as f64
            }
        })
        .collect();
    (x, Truth::Dense(t))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn overlap_losses_lie_in_unit_interval(seed in any::<u64>(), soft in any::<bool>(), batch in any::<bool>()) {
        let (x, t) = inputs(seed, soft);
        let pooling = if batch { Pooling::Batch } else { Pooling::PerSample };
        for index in [OverlapIndex::Dice, OverlapIndex::Jaccard, OverlapIndex::Tversky { alpha: 0.3, beta: 0.7 }] {
            for intersection in [Intersection::Product, Intersection::Norm] {
                let cfg = OverlapLossConfig::new().with_index(index).with_activation(Activation::Sigmoid)
                    .with_pooling(pooling).with_intersection(intersection);
                let v = value(&overlap(cfg), &x, &t);
                prop_assert!((0.0..=1.0).contains(&v), "{index:?} {intersection:?}: {v}");
            }
        }
        let gdl = GeneralizedDiceLossConfig::new().with_activation(Activation::Sigmoid).with_pooling(pooling);
        let v = value(&AnyLossConfig::GeneralizedDice(gdl), &x, &t);
        prop_assert!((0.0..=1.0).contains(&v), "generalized dice: {v}");
        let v = value(&AnyLossConfig::Mcc(MccLossConfig::new().with_pooling(pooling)), &x, &t);
        prop_assert!((0.0..=2.0).contains(&v), "mcc (1 - MCC lies in [0, 2]): {v}");
    }

    #[test]
    fn perfect_prediction_scores_zero(seed in any::<u64>(), soft in any::<bool>()) {
        // Identity activation: the "logits" are the probabilities, equal to the target.
        let (_, t) = inputs(seed, soft);
        let Truth::Dense(p) = &t else { unreachable!() };
        let intersection = if soft { Intersection::Norm } else { Intersection::Product };
        for index in [OverlapIndex::Dice, OverlapIndex::Jaccard, OverlapIndex::Tversky { alpha: 0.3, beta: 0.7 }] {
            let cfg = OverlapLossConfig::new().with_index(index).with_activation(Activation::Identity).with_intersection(intersection);
            let v = value(&overlap(cfg), p, &t);
            prop_assert!(v.abs() < 1e-12, "{index:?}: {v}");
        }
        let gdl = GeneralizedDiceLossConfig::new().with_activation(Activation::Identity).with_intersection(intersection);
        if !soft {
            let mcc = MccLossConfig::new().with_activation(Activation::Identity);
            let v = value(&AnyLossConfig::Mcc(mcc), p, &t);
            prop_assert!(v.abs() < 1e-6, "mcc: {v}");
        }
        let v = value(&AnyLossConfig::GeneralizedDice(gdl), p, &t);
        prop_assert!(v.abs() < 1e-12, "generalized dice: {v}");
    }

    #[test]
    fn tversky_half_half_is_dice_and_one_one_is_jaccard(seed in any::<u64>(), soft in any::<bool>(), s in 0.0f64..1.0) {
        let (x, t) = inputs(seed, soft);
        let base = OverlapLossConfig::new().with_activation(Activation::Sigmoid).with_smooth_dr(s + 1e-6);
        // (I + s) / (I + FP/2 + FN/2 + s) = (2I + 2s) / (P + G + 2s): Dice with doubled smoothing.
        let tv = value(&overlap(base.clone().with_index(OverlapIndex::Tversky { alpha: 0.5, beta: 0.5 }).with_smooth_nr(s)), &x, &t);
        let dice = value(&overlap(base.clone().with_index(OverlapIndex::Dice).with_smooth_nr(2.0 * s).with_smooth_dr(2.0 * (s + 1e-6))), &x, &t);
        prop_assert!((tv - dice).abs() < 1e-12, "tversky(.5,.5) {tv} vs dice {dice}");
        let tv = value(&overlap(base.clone().with_index(OverlapIndex::Tversky { alpha: 1.0, beta: 1.0 }).with_smooth_nr(s)), &x, &t);
        let jac = value(&overlap(base.with_index(OverlapIndex::Jaccard).with_smooth_nr(s)), &x, &t);
        prop_assert!((tv - jac).abs() < 1e-12, "tversky(1,1) {tv} vs jaccard {jac}");
    }

    #[test]
    fn uniform_class_weights_equal_no_weights(seed in any::<u64>(), k in 0.1f64..10.0) {
        let (x, t) = inputs(seed, false);
        let plain = OverlapLossConfig::new().with_activation(Activation::Sigmoid);
        let v0 = value(&overlap(plain.clone()), &x, &t);
        let vn = value(&overlap(plain.clone().with_class_weights(Some(vec![k; 3])).with_weight_normalization(WeightNormalization::Normalize)), &x, &t);
        let vs = value(&overlap(plain.with_class_weights(Some(vec![1.0; 3]))), &x, &t);
        prop_assert!((v0 - vn).abs() < 1e-12 && (v0 - vs).abs() < 1e-12, "{v0} {vn} {vs}");
        let gdl = |w| AnyLossConfig::GeneralizedDice(GeneralizedDiceLossConfig::new().with_activation(Activation::Sigmoid)
            .with_weights(w).with_smooth_nr(0.0).with_smooth_dr(1e-14));
        let (g0, gk) = (value(&gdl(GdlWeights::Uniform), &x, &t), value(&gdl(GdlWeights::Given(vec![k; 3])), &x, &t));
        prop_assert!((g0 - gk).abs() < 1e-9, "gdl uniform {g0} vs given {gk}");
    }

    #[test]
    fn dice_is_two_jaccard_over_one_plus_jaccard_score(seed in any::<u64>()) {
        // Hard probabilities (identity activation on a random 0/1 map): D = 2J / (1 + J) per value.
        let (x, t) = inputs(seed, false);
        let p: Vec<f64> = x.iter().map(|v| (*v > 0.0) as u8 as f64).collect();
        let cfg = |i| OverlapLossConfig::new().with_index(i).with_activation(Activation::Identity).with_smooth_nr(0.0).with_smooth_dr(0.0).with_eps(1e-12);
        let per = |i| -> Vec<f64> {
            let loss = cfg(i).init();
            let device = common::f64_device();
            let x = common::floats(&p, &device).reshape(DIMS);
            let v: burn::prelude::Tensor<2> = loss.forward_no_reduction(x, t.tensor(DIMS, &device), None);
            v.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
        };
        for (d, j) in per(OverlapIndex::Dice).iter().zip(per(OverlapIndex::Jaccard)) {
            let (sd, sj) = (1.0 - d, 1.0 - j);
            prop_assert!((sd - 2.0 * sj / (1.0 + sj)).abs() < 1e-12, "D {sd} J {sj}");
        }
    }
}

/// Every loss of the crate, configured for `[B, 3, ...]` logits and class-index targets
/// (ignore label 255).
fn every_loss() -> Vec<(&'static str, AnyLossConfig)> {
    let ig = Some(255);
    let dice = OverlapLossConfig::dice().with_ignore_index(ig);
    vec![
        ("dice", overlap(dice.clone())),
        (
            "dice batch squared",
            overlap(
                dice.clone()
                    .with_pooling(Pooling::Batch)
                    .with_power(Power::Squared),
            ),
        ),
        (
            "dice log zero-absent",
            overlap(
                dice.clone()
                    .with_form(LossForm::NegLog { floor: 1e-7 })
                    .with_absent(AbsentClass::Zero),
            ),
        ),
        (
            "dice drop",
            overlap(
                dice.clone()
                    .with_absent(AbsentClass::Drop)
                    .with_form(LossForm::Negative),
            ),
        ),
        (
            "jaccard",
            overlap(OverlapLossConfig::jaccard().with_ignore_index(ig)),
        ),
        (
            "focal tversky",
            overlap(
                OverlapLossConfig::tversky(0.3, 0.7)
                    .with_gamma(0.75)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "gdl square",
            AnyLossConfig::GeneralizedDice(GeneralizedDiceLossConfig::new().with_ignore_index(ig)),
        ),
        (
            "gdl simple batch",
            AnyLossConfig::GeneralizedDice(
                GeneralizedDiceLossConfig::new()
                    .with_weights(GdlWeights::Simple)
                    .with_pooling(Pooling::Batch)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "focal softmax",
            AnyLossConfig::Focal(FocalLossConfig::new().with_gamma(0.5).with_ignore_index(ig)),
        ),
        (
            "focal sigmoid",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_activation(Activation::Sigmoid)
                    .with_alpha(FocalAlpha::Balanced(0.25))
                    .with_ignore_index(ig),
            ),
        ),
        (
            "bce",
            AnyLossConfig::Bce(
                BceLossConfig::new()
                    .with_label_smoothing(0.1)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "ce",
            AnyLossConfig::CrossEntropy(
                CrossEntropyLossConfig::new()
                    .with_class_weights(Some(vec![0.2, 1.0, 3.0]))
                    .with_label_smoothing(0.1)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "lovasz",
            AnyLossConfig::Lovasz(LovaszLossConfig::new().with_ignore_index(ig)),
        ),
        (
            "hausdorff_dt",
            AnyLossConfig::HausdorffDt(HausdorffDtLossConfig::new().with_ignore_index(ig)),
        ),
        (
            "dice+ce",
            AnyLossConfig::Composite(CompositeLossConfig::dice_ce(
                1.0,
                dice.clone(),
                1.0,
                CrossEntropyLossConfig::new().with_ignore_index(ig),
            )),
        ),
        (
            "bce+dice",
            AnyLossConfig::Composite(
                CompositeLossConfig::bce_dice(
                    0.5,
                    BceLossConfig::new().with_ignore_index(ig),
                    dice.clone().with_activation(Activation::Sigmoid),
                )
                .unwrap(),
            ),
        ),
        (
            "dice, ignore label 1 (a class)",
            overlap(OverlapLossConfig::dice().with_ignore_index(Some(1))),
        ),
        (
            "nnU-Net dice, clipped tp",
            overlap(
                dice.clone()
                    .with_form(LossForm::Negative)
                    .with_clip_intersection(Some(1.0)),
            ),
        ),
        (
            "focal sigmoid reduced normalized",
            AnyLossConfig::Focal(
                FocalLossConfig::new()
                    .with_activation(Activation::Sigmoid)
                    .with_reduced_threshold(Some(0.5))
                    .with_normalized(true)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "lovasz hinge joint",
            AnyLossConfig::Lovasz(
                LovaszLossConfig::new()
                    .with_variant(LovaszVariant::Hinge)
                    .with_classes(LovaszClasses::Joint)
                    .with_ignore_index(ig),
            ),
        ),
        (
            "boundary",
            AnyLossConfig::Boundary(BoundaryLossConfig::new().with_ignore_index(ig)),
        ),
        (
            "cl_dice",
            AnyLossConfig::ClDice(ClDiceLossConfig::new().with_ignore_index(ig)),
        ),
        (
            "wasserstein dice",
            AnyLossConfig::WassersteinDice(
                WassersteinDiceLossConfig::new(vec![
                    vec![0.0, 1.0, 1.0],
                    vec![1.0, 0.0, 0.5],
                    vec![1.0, 0.5, 0.0],
                ])
                .with_ignore_index(ig),
            ),
        ),
        (
            "unified focal",
            AnyLossConfig::UnifiedFocal(UnifiedFocalLossConfig::new().with_ignore_index(ig)),
        ),
        ("nacl", AnyLossConfig::Nacl(NaclLossConfig::new())),
        (
            "log hausdorff_dt",
            AnyLossConfig::HausdorffDt(
                HausdorffDtLossConfig::new()
                    .with_ignore_index(ig)
                    .with_log(true),
            ),
        ),
    ]
}

/// Losses whose peers are never negative: every loss but nnU-Net's `-Dice` and the boundary
/// loss (a signed distance).
fn non_negative(name: &str) -> bool {
    !(name.contains("drop") || name.contains("nnU-Net") || name == "boundary")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// On random logits (saturated ones included), labels with ignored voxels and random
    /// positive weight maps, every loss is finite, with a finite gradient, and those whose peer
    /// is non-negative stay non-negative.
    #[test]
    fn losses_are_finite_and_non_negative_where_the_peer_is(seed in any::<u64>(), scale in prop_oneof![Just(1.0), Just(8.0), Just(60.0)], weighted in any::<bool>()) {
        let mut rng = Rng(seed);
        let voxels = DIMS[0] * DIMS[2] * DIMS[3];
        let x: Vec<f64> = (0..n()).map(|_| rng.range(-scale, scale)).collect();
        let labels: Vec<i64> = (0..voxels)
            .map(|_| if rng.uniform() < 0.2 { 255 } else { rng.below(3) as i64 })
            .collect();
        let w: Vec<f64> = (0..voxels).map(|_| rng.range(0.0, 3.0)).collect();
        for (name, cfg) in every_loss() {
            let weight = weighted.then_some((w.as_slice(), 1));
            let (v, g) = value_and_grad(&cfg.init(), &x, DIMS, &Truth::Labels(labels.clone()), weight);
            prop_assert!(v.is_finite(), "{name}: loss {v}");
            prop_assert!(g.iter().all(|g| g.is_finite()), "{name}: non-finite gradient");
            if non_negative(name) {
                prop_assert!(v >= -1e-12, "{name}: negative loss {v}");
            }
        }
        // Dense targets with kornia's -100 ignore entries in the sigmoid losses.
        let dense: Vec<f64> = (0..n())
            .map(|_| match rng.uniform() {
                u if u < 0.15 => -100.0,
                u if u < 0.45 => 1.0,
                _ => 0.0,
            })
            .collect();
        for (name, cfg) in [
            ("kornia binary focal", AnyLossConfig::Focal(FocalLossConfig::new().with_activation(Activation::Sigmoid).with_class_weights(Some(vec![0.5, 1.0, 2.0])).with_ignore_index(Some(-100)).with_mean_over(MeanOver::AllEntries))),
            ("bce", AnyLossConfig::Bce(BceLossConfig::new().with_ignore_index(Some(-100)).with_pos_weight(Some(vec![3.0, 1.0, 0.5])))),
            ("dice sigmoid", overlap(OverlapLossConfig::dice().with_activation(Activation::Sigmoid).with_ignore_index(Some(-100)))),
        ] {
            let (v, g) = value_and_grad(&cfg.init(), &x, DIMS, &Truth::Dense(dense.clone()), None);
            prop_assert!(v.is_finite() && v >= -1e-12, "{name}: loss {v}");
            prop_assert!(g.iter().all(|g| g.is_finite()), "{name}: non-finite gradient");
        }
    }
}

fn assert_finite(name: &str, what: &str, x: &[f64], labels: Vec<i64>) {
    for (lname, cfg) in every_loss() {
        let (v, g) = value_and_grad(&cfg.init(), x, DIMS, &Truth::Labels(labels.clone()), None);
        assert!(v.is_finite(), "{lname} on {name}: loss {v} ({what})");
        assert!(
            g.iter().all(|g| g.is_finite()),
            "{lname} on {name}: non-finite gradient ({what})"
        );
    }
}

#[test]
fn no_nan_or_inf_on_hard_inputs() {
    let voxels = DIMS[0] * DIMS[2] * DIMS[3];
    let mut rng = Rng(42);
    let labels: Vec<i64> = (0..voxels).map(|_| rng.below(3) as i64).collect();
    let saturated: Vec<f64> = (0..n())
        .map(|_| if rng.uniform() < 0.5 { 100.0 } else { -100.0 })
        .collect();
    assert_finite("logits of +-100", "saturated", &saturated, labels.clone());
    let x: Vec<f64> = (0..n()).map(|_| rng.range(-3.0, 3.0)).collect();
    assert_finite(
        "all-background target",
        "classes 1, 2 absent everywhere",
        &x,
        vec![0; voxels],
    );
    assert_finite(
        "all-ignored target",
        "every voxel ignored",
        &x,
        vec![255; voxels],
    );
    let no_class_2: Vec<i64> = labels.iter().map(|&l| l.min(1)).collect();
    assert_finite(
        "class 2 absent from every sample",
        "absent class",
        &x,
        no_class_2,
    );
    // Confidently right: the softmax reaches exactly 1 and 0 in f64.
    let mut perfect = vec![-100.0; n()];
    for b in 0..DIMS[0] {
        for i in 0..DIMS[2] * DIMS[3] {
            let l = labels[b * DIMS[2] * DIMS[3] + i] as usize;
            perfect[(b * 3 + l) * DIMS[2] * DIMS[3] + i] = 100.0;
        }
    }
    assert_finite(
        "confident correct logits",
        "p = 1 exactly",
        &perfect,
        labels,
    );
}

#[test]
fn all_ignored_pixels_give_zero_pixel_losses() {
    let voxels = DIMS[0] * DIMS[2] * DIMS[3];
    let x: Vec<f64> = (0..n()).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
    for (name, cfg) in every_loss()
        .into_iter()
        .filter(|(n, _)| ["focal softmax", "bce", "ce"].contains(n))
    {
        let (v, g) = value_and_grad(
            &cfg.init(),
            &x,
            DIMS,
            &Truth::Labels(vec![255; voxels]),
            None,
        );
        assert_eq!(v, 0.0, "{name}");
        assert!(g.iter().all(|g| *g == 0.0), "{name}");
    }
}

#[test]
fn monai_absent_class_scores_near_one_smp_zero_kornia_drops() {
    // One sample, class 2 absent: MONAI keeps it (value ~1), smp zeroes it, kornia drops it.
    let dims = [1usize, 3, 2, 2];
    let x = [
        2.0, -1.0, 0.5, 0.0, -1.0, 2.0, 0.0, 0.3, 0.1, 0.2, -2.0, 0.4,
    ];
    let t = Truth::Labels(vec![0, 1, 0, 1]);
    let per = |absent| {
        let cfg = OverlapLossConfig::dice()
            .with_absent(absent)
            .with_reduction(Reduction::Mean);
        value_and_grad(&overlap(cfg).init(), &x, dims, &t, None).0
    };
    let (keep, zero, drop) = (
        per(AbsentClass::Keep),
        per(AbsentClass::Zero),
        per(AbsentClass::Drop),
    );
    // keep = (a + b + ~1) / 3, zero = (a + b) / 3, drop = (a + b) / 2
    assert!((keep - zero - 1.0 / 3.0).abs() < 1e-4, "{keep} {zero}");
    assert!((drop - zero * 1.5).abs() < 1e-12, "{drop} {zero}");
}

#[test]
fn validation_names_the_field_and_value() {
    let e = OverlapLossConfig::dice()
        .with_smooth_nr(-1.0)
        .validate()
        .unwrap_err();
    assert!(
        e.to_string().contains("smooth_nr") && e.to_string().contains("-1"),
        "{e}"
    );
    let e = CompositeLossConfig::bce_dice(1.5, BceLossConfig::new(), OverlapLossConfig::dice())
        .unwrap_err();
    assert!(
        e.to_string().contains("alpha") && e.to_string().contains("1.5"),
        "{e}"
    );
    let e = OverlapLossConfig::dice()
        .with_class_weights(Some(vec![1.0, 2.0]))
        .check_classes(3)
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::ClassCount {
            field: "class_weights",
            len: 2,
            classes: 3
        }
    );
    // An ignore label that is also a class is accepted, as MONAI accepts it (logged once).
    assert!(
        CrossEntropyLossConfig::new()
            .with_ignore_index(Some(1))
            .check_classes(3)
            .is_ok()
    );
    let e = FocalLossConfig::new()
        .with_alpha(FocalAlpha::Balanced(-0.1))
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("alpha"), "{e}");
    let e = OverlapLossConfig::tversky(-0.5, 0.5)
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("index.alpha"), "{e}");
    let e = OverlapLossConfig::dice()
        .with_class_weights(Some(vec![1.0, f64::NAN, 1.0]))
        .validate()
        .unwrap_err();
    assert!(e.to_string().contains("class_weights"), "{e}");
    assert!(OverlapLossConfig::dice().check_classes(3).is_ok());
}

#[test]
#[should_panic(expected = "class_weights")]
fn forward_with_wrong_weight_count_panics_with_the_field() {
    let cfg = overlap(OverlapLossConfig::dice().with_class_weights(Some(vec![1.0, 2.0])));
    value_and_grad(
        &cfg.init(),
        &vec![0.0; n()],
        DIMS,
        &Truth::Labels(vec![0; DIMS[0] * 12]),
        None,
    );
}

#[test]
fn configs_round_trip_through_json() {
    for (name, cfg) in every_loss() {
        let json = serde_json::to_string(&cfg).unwrap();
        let back: AnyLossConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(json, serde_json::to_string(&back).unwrap(), "{name}");
    }
    let partial =
        serde_json::json!({"loss": "overlap", "index": "jaccard", "activation": "sigmoid"});
    let AnyLossConfig::Overlap(c) = AnyLossConfig::from_partial(&partial).unwrap() else {
        panic!()
    };
    assert_eq!(
        (c.index, c.activation, c.smooth_nr),
        (OverlapIndex::Jaccard, Activation::Sigmoid, 1e-5)
    );
    let tversky =
        serde_json::json!({"loss": "overlap", "index": {"tversky": {"alpha": 0.3, "beta": 0.7}}});
    assert!(AnyLossConfig::from_partial(&tversky).is_ok());
    let composite = serde_json::json!({"loss": "composite", "terms": [
        {"name": "bce", "weight": 0.3, "loss": {"loss": "bce"}},
        {"name": "dice", "weight": 0.7, "loss": {"loss": "overlap", "activation": "sigmoid"}}]});
    assert!(matches!(
        AnyLossConfig::from_partial(&composite).unwrap(),
        AnyLossConfig::Composite(_)
    ));
    let e = AnyLossConfig::from_partial(&serde_json::json!({"loss": "overlap", "smoth_nr": 1.0}))
        .unwrap_err();
    assert!(e.to_string().contains("smoth_nr"), "{e}");
    let e = AnyLossConfig::from_partial(&serde_json::json!({"loss": "overlap", "smooth_nr": -1.0}))
        .unwrap_err();
    assert!(e.to_string().contains("smooth_nr"), "{e}");
    let e =
        AnyLossConfig::from_partial(&serde_json::json!({"loss": "overlap", "activation": "relu"}))
            .unwrap_err();
    assert!(e.to_string().contains("relu"), "{e}");
    let e = AnyLossConfig::from_partial(&serde_json::json!({"loss": "dise"})).unwrap_err();
    assert!(e.to_string().contains("dise"), "{e}");
    // The newer losses, as a train config's [loss] table gives them.
    for partial in [
        serde_json::json!({"loss": "boundary", "classes": "exclude_background"}),
        serde_json::json!({"loss": "cl_dice", "iterations": 5, "activation": "sigmoid"}),
        serde_json::json!({"loss": "wasserstein_dice", "distances": [[0.0, 1.0], [1.0, 0.0]], "weighting": "gdl"}),
        serde_json::json!({"loss": "unified_focal", "weight": 0.3, "gamma": 0.5}),
        serde_json::json!({"loss": "nacl", "kernel": {"gaussian": {"sigma": 1.5}}, "distance": "l2"}),
        serde_json::json!({"loss": "hausdorff_dt", "log": true}),
        serde_json::json!({"loss": "lovasz", "variant": "hinge", "classes": "joint"}),
        serde_json::json!({"loss": "focal", "activation": "sigmoid", "normalized": true, "reduced_threshold": 0.5}),
        serde_json::json!({"loss": "overlap", "clip_intersection": 1.0, "dense_ignore": "monai"}),
    ] {
        AnyLossConfig::from_partial(&partial).unwrap_or_else(|e| panic!("{partial}: {e}"));
    }
    let e =
        AnyLossConfig::from_partial(&serde_json::json!({"loss": "wasserstein_dice"})).unwrap_err();
    assert!(e.to_string().contains("distances"), "{e}");
}

#[test]
fn composite_reports_each_term() {
    let device = common::f64_device();
    let cfg = CompositeLossConfig::dice_ce(
        0.7,
        OverlapLossConfig::dice(),
        0.3,
        CrossEntropyLossConfig::new(),
    );
    let x = common::floats(
        &(0..n()).map(|i| (i as f64).cos()).collect::<Vec<_>>(),
        &device,
    )
    .reshape(DIMS);
    let t = Truth::Labels((0..24).map(|i| i % 3).collect()).tensor(DIMS, &device);
    let out = AnyLossConfig::Composite(cfg).init().forward(x, t, None);
    let names: Vec<&str> = out.terms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["dice", "ce"]);
    let v: Vec<f64> = out
        .terms
        .iter()
        .map(|(_, t)| t.clone().into_scalar::<f64>())
        .collect();
    let total = out.total.into_scalar::<f64>();
    assert!((total - (0.7 * v[0] + 0.3 * v[1])).abs() < 1e-12);
}
