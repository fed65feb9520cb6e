//! The fast computations against brute force, and the invariants of the surface metrics.
use dicekit_metrics::*;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;

/// Brute-force directed distances between face-boundary voxels (outside the image is background).
fn brute_faces(from: &ArrayD<bool>, to: &ArrayD<bool>, spacing: &[f64]) -> Vec<f64> {
    let boundary = |m: &ArrayD<bool>| -> Vec<IxDyn> {
        m.indexed_iter()
            .filter(|(i, v)| {
                **v && (0..m.ndim()).any(|a| {
                    [-1isize, 1].iter().any(|d| {
                        let mut j = i.clone();
                        let q = i[a] as isize + d;
                        if q < 0 || q >= m.shape()[a] as isize {
                            return true;
                        }
                        j[a] = q as usize;
                        !m[&j]
                    })
                })
            })
            .map(|(i, _)| i)
            .collect()
    };
    let (bf, bt) = (boundary(from), boundary(to));
    let mut d: Vec<f64> = bf
        .iter()
        .map(|p| {
            bt.iter()
                .map(|q| {
                    (0..spacing.len())
                        .map(|a| ((p[a] as f64 - q[a] as f64) * spacing[a]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    d.sort_by(f64::total_cmp);
    d
}

fn mask(dims: &[usize], bits: &[bool]) -> ArrayD<bool> {
    ArrayD::from_shape_vec(IxDyn(dims), bits[..dims.iter().product()].to_vec()).unwrap()
}

fn arb_case() -> impl Strategy<Value = (Vec<usize>, Vec<f64>, Vec<bool>, Vec<bool>)> {
    prop_oneof![
        (2usize..12, 2usize..12).prop_map(|(a, b)| vec![a, b]),
        (2usize..6, 2usize..6, 2usize..6).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
    .prop_flat_map(|dims| {
        let n: usize = dims.iter().product();
        let nd = dims.len();
        (
            Just(dims),
            proptest::collection::vec(0.3f64..3.0, nd),
            proptest::collection::vec(proptest::bool::weighted(0.35), n),
            proptest::collection::vec(proptest::bool::weighted(0.35), n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn edt_equals_brute_force((dims, spacing, a, _b) in arb_case()) {
        let m = mask(&dims, &a);
        let fast = squared_edt(&m, &spacing);
        let slow = squared_edt_brute(&m, &spacing);
        for (f, s) in fast.iter().zip(slow.iter()) {
            if s.is_infinite() {
                prop_assert!(f.is_infinite());
            } else {
                prop_assert!((*f as f64 - s).abs() <= 1e-5 * s.max(1.0), "{f} vs {s}");
            }
        }
    }

    #[test]
    fn face_distances_equal_brute_force((dims, spacing, a, b) in arb_case()) {
        let (p, t) = (mask(&dims, &a), mask(&dims, &b));
        let sd = SurfaceDistances::new(&p.view(), &t.view(), &spacing, Boundary::Faces).unwrap();
        if sd.empty_side().is_some() {
            return Ok(());
        }
        let fast: Vec<f64> = sd.pred_to_truth.iter().map(|x| x.0).collect();
        let slow = brute_faces(&p, &t, &spacing);
        prop_assert_eq!(fast.len(), slow.len());
        for (f, s) in fast.iter().zip(&slow) {
            prop_assert!((f - s).abs() <= 1e-5 * s.max(1.0), "{f} vs {s}");
        }
    }

    #[test]
    fn hausdorff_is_symmetric_and_bounds_hd95((dims, spacing, a, b) in arb_case()) {
        let (p, t) = (mask(&dims, &a), mask(&dims, &b));
        for boundary in [Boundary::Faces, Boundary::FullyConnected, Boundary::Surfels] {
            let pt = SurfaceDistances::new(&p.view(), &t.view(), &spacing, boundary).unwrap();
            let tp = SurfaceDistances::new(&t.view(), &p.view(), &spacing, boundary).unwrap();
            let (h1, h2) = (pt.hausdorff(), tp.hausdorff());
            match (h1, h2) {
                (Score::Value(x), Score::Value(y)) => prop_assert!((x - y).abs() < 1e-9),
                (Score::Empty(_), Score::Empty(_)) => {}
                other => prop_assert!(false, "{other:?}"),
            }
            if let Score::Value(h) = h1 {
                for rule in [Percentile::DirectedLinear, Percentile::PooledLinear, Percentile::DirectedWeightedRank] {
                    let h95 = pt.hausdorff_percentile(95.0, rule).value().unwrap();
                    prop_assert!(h95 <= h + 1e-12, "{rule:?}: {h95} > {h}");
                }
                let nsd = pt.normalized_surface_dice(1.0).value().unwrap();
                prop_assert!((0.0..=1.0).contains(&nsd));
            }
        }
    }
}

/// A ball of radius `r` (mm) centred at `c` (voxel units) on a grid with `spacing`.
fn ball(dims: [usize; 3], c: [f64; 3], r: f64, spacing: [f64; 3]) -> ArrayD<bool> {
    ArrayD::from_shape_fn(IxDyn(&dims), |i| {
        (0..3)
            .map(|a| ((i[a] as f64 - c[a]) * spacing[a]).powi(2))
            .sum::<f64>()
            <= r * r
    })
}

#[test]
fn sphere_shifted_by_k_voxels_has_hd_k_spacings() {
    for (axis, spacing) in [
        (0usize, [1.0, 1.0, 1.0]),
        (2, [0.8, 0.8, 2.5]),
        (1, [0.5, 1.5, 1.0]),
    ] {
        for k in 1..=3 {
            let c = [16.0, 16.0, 12.0];
            let mut c2 = c;
            c2[axis] += k as f64;
            let t = ball([32, 32, 24], c, 7.0, spacing);
            let p = ball([32, 32, 24], c2, 7.0, spacing);
            let sd =
                SurfaceDistances::new(&p.view(), &t.view(), &spacing, Boundary::Faces).unwrap();
            let hd = sd.hausdorff().value().unwrap();
            assert!(
                (hd - k as f64 * spacing[axis]).abs() < 1e-6,
                "axis {axis} k {k}: {hd}"
            );
        }
    }
}

#[test]
fn squares_shifted_by_two_pixels_are_hand_checkable() {
    // The d01 reference case: a 6x6 square and the same square shifted by 2 along axis 1.
    let t = ArrayD::from_shape_fn(IxDyn(&[20, 20]), |i| {
        (7..13).contains(&i[0]) && (7..13).contains(&i[1])
    });
    let p = ArrayD::from_shape_fn(IxDyn(&[20, 20]), |i| {
        (7..13).contains(&i[0]) && (9..15).contains(&i[1])
    });
    let c = ConfusionCounts::from_masks(&p.view(), &t.view()).unwrap();
    assert_eq!(c.dice(), Score::Value(2.0 / 3.0));
    assert_eq!(c.jaccard(), Score::Value(0.5));
    let sd = SurfaceDistances::new(&p.view(), &t.view(), &[1.0, 1.0], Boundary::Faces).unwrap();
    assert_eq!(sd.hausdorff(), Score::Value(2.0));
    assert_eq!(
        sd.average_surface_distance(SurfaceMean::Pooled),
        Score::Value(1.0)
    );
    // 20 boundary voxels each; 12 of each within 1 mm of the other (MONAI: 0.6).
    assert_eq!(sd.normalized_surface_dice(1.0), Score::Value(0.6));
}

#[test]
fn empty_masks_are_typed_never_nan() {
    let t = ArrayD::from_shape_fn(IxDyn(&[8, 8]), |i| i[0] < 3 && i[1] < 3);
    let e = ArrayD::from_elem(IxDyn(&[8, 8]), false);
    let sd = SurfaceDistances::new(&e.view(), &t.view(), &[1.0, 1.0], Boundary::Faces).unwrap();
    assert_eq!(sd.hausdorff(), Score::Empty(EmptySide::Prediction));
    let sd = SurfaceDistances::new(&t.view(), &e.view(), &[1.0, 1.0], Boundary::Surfels).unwrap();
    assert_eq!(
        sd.normalized_surface_dice(1.0),
        Score::Empty(EmptySide::Reference)
    );
    let c = ConfusionCounts::from_masks(&e.view(), &e.view()).unwrap();
    assert_eq!(c.dice(), Score::Empty(EmptySide::Both));
    let scores = [
        Score::Value(0.5),
        Score::Empty(EmptySide::Both),
        Score::Value(1.0),
    ];
    let a = aggregate(&scores, MetricKind::Dice, EmptyPolicy::Exclude);
    assert_eq!((a.mean, a.used, a.excluded), (Some(0.75), 2, 1));
    let a = aggregate(
        &scores,
        MetricKind::Dice,
        EmptyPolicy::Peer(Convention::MetricsReloaded),
    );
    assert_eq!((a.mean, a.replaced), (Some(2.5 / 3.0), 1));
}

#[test]
fn bad_inputs_are_errors() {
    let a = ArrayD::from_elem(IxDyn(&[4, 4]), true);
    let b = ArrayD::from_elem(IxDyn(&[4, 5]), true);
    assert!(matches!(
        SurfaceDistances::new(&a.view(), &b.view(), &[1.0, 1.0], Boundary::Faces),
        Err(MetricError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        SurfaceDistances::new(&a.view(), &a.view(), &[1.0, f64::NAN], Boundary::Faces),
        Err(MetricError::BadSpacing { .. })
    ));
    let c = ArrayD::from_elem(IxDyn(&[4]), true);
    assert!(matches!(
        SurfaceDistances::new(&c.view(), &c.view(), &[1.0], Boundary::Faces),
        Err(MetricError::UnsupportedRank(1))
    ));
}

#[test]
fn calibration_of_a_hand_case() {
    // Two bins of width 0.5: {0.2, 0.4} with 1 positive; {0.6, 0.8, 1.0} with 2 positives.
    let conf = [0.2, 0.4, 0.6, 0.8, 1.0];
    let pos = [false, true, true, true, false];
    let bins =
        reliability_bins(&conf, &pos, 2, Binning::EqualWidth, EdgeRule::RightClosed).unwrap();
    assert_eq!(bins[0].count, 2);
    assert!((bins[0].confidence.unwrap() - 0.3).abs() < 1e-12);
    let ece = expected_calibration_error(&bins);
    // 2/5 |0.5 - 0.3| + 3/5 |2/3 - 0.8|
    assert!(
        (ece - (0.4 * 0.2 + 0.6 * (0.8 - 2.0 / 3.0))).abs() < 1e-12,
        "{ece}"
    );
    assert!((maximum_calibration_error(&bins) - 0.2).abs() < 1e-12);
    assert!(
        (brier_score(&conf, &pos).unwrap() - (0.04 + 0.36 + 0.16 + 0.04 + 1.0) / 5.0).abs() < 1e-12
    );
    // A confidence outside [0, 1] or NaN is refused, as by the reliability bins.
    assert!(brier_score(&[1.2], &[true]).is_err());
    assert!(brier_score(&[f64::NAN], &[true]).is_err());
    // 0.5 sits on the edge: right-closed puts it in bin 0, left-closed in bin 1.
    let r = reliability_bins(
        &[0.5],
        &[true],
        2,
        Binning::EqualWidth,
        EdgeRule::RightClosed,
    )
    .unwrap();
    let l = reliability_bins(
        &[0.5],
        &[true],
        2,
        Binning::EqualWidth,
        EdgeRule::LeftClosed,
    )
    .unwrap();
    assert_eq!((r[0].count, l[1].count), (1, 1));
    assert!(
        reliability_bins(
            &[1.5],
            &[true],
            2,
            Binning::EqualWidth,
            EdgeRule::LeftClosed
        )
        .is_err()
    );
    let m = reliability_bins(&conf, &pos, 2, Binning::EqualMass, EdgeRule::LeftClosed).unwrap();
    assert_eq!((m[0].count, m[1].count), (2, 3));
}

#[test]
fn far_apart_and_nearby_surfaces_agree_with_brute_force() {
    // Far apart: the sampled shell searches are large, so the distance transform path is taken;
    // nearby: the cell hash. Both must equal brute force.
    for (c2, spacing) in [
        ([20.0, 20.0, 20.0], [1.0, 1.0, 1.0]),
        ([5.0, 6.0, 4.0], [0.7, 1.3, 2.0]),
    ] {
        let t = ball([26, 26, 26], [4.0, 4.0, 4.0], 3.0, [1.0; 3]);
        let p = ball([26, 26, 26], c2, 3.5, [1.0; 3]);
        let sd = SurfaceDistances::new(&p.view(), &t.view(), &spacing, Boundary::Faces).unwrap();
        let fast: Vec<f64> = sd.pred_to_truth.iter().map(|x| x.0).collect();
        let slow = brute_faces(&p, &t, &spacing);
        assert_eq!(fast.len(), slow.len());
        for (f, s) in fast.iter().zip(&slow) {
            assert!((f - s).abs() <= 1e-5 * s.max(1.0), "{f} vs {s}");
        }
    }
}

#[test]
fn micro_macro_and_per_case_averages() {
    let c = |tp, fp, fn_| ConfusionCounts {
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        true_negatives: 0,
    };
    // Two cases, two classes.
    let counts = vec![vec![c(9, 1, 0), c(1, 0, 3)], vec![c(5, 5, 0), c(0, 0, 0)]];
    let avg = |a| {
        average_overlap(
            &counts,
            ConfusionCounts::dice,
            MetricKind::Dice,
            a,
            EmptyPolicy::Exclude,
        )
    };
    // micro: tp 15, fp 6, fn 3 -> 30 / 39
    assert_eq!(avg(Averaging::Micro).mean, Some(30.0 / 39.0));
    // macro: class 0 tp 14 fp 6 -> 28/34; class 1 tp 1 fn 3 -> 2/5
    assert!((avg(Averaging::Macro).mean.unwrap() - (28.0 / 34.0 + 0.4) / 2.0).abs() < 1e-12);
    // per case: 18/19, 2/5, 10/15, and one empty (excluded)
    let pc = avg(Averaging::PerCase);
    assert!((pc.mean.unwrap() - (18.0 / 19.0 + 0.4 + 10.0 / 15.0) / 3.0).abs() < 1e-12);
    assert_eq!(pc.excluded, 1);
}

#[test]
fn top_label_and_classwise_calibration() {
    let probs = vec![
        vec![0.7, 0.2, 0.1],
        vec![0.1, 0.6, 0.3],
        vec![0.3, 0.3, 0.4],
    ];
    let truth = [0, 2, 2];
    let (conf, correct) = top_label(&probs, &truth);
    assert_eq!(conf, vec![0.7, 0.6, 0.4]);
    assert_eq!(correct, vec![true, false, true]);
    let cw = classwise_calibration_error(
        &probs,
        &truth,
        1,
        Binning::EqualWidth,
        EdgeRule::RightClosed,
    )
    .unwrap();
    // One bin per class: |mean p_c - frequency_c| averaged: |0.3667-0.3333|, |0.3667-0|, |0.2667-0.6667|
    let want =
        ((1.1 / 3.0 - 1.0 / 3.0f64).abs() + 1.1 / 3.0 + (0.8 / 3.0 - 2.0 / 3.0f64).abs()) / 3.0;
    assert!((cw - want).abs() < 1e-12, "{cw} vs {want}");
}

#[test]
fn confusion_per_label_counts_every_voxel_even_when_a_label_fills_both_maps() {
    // Regression: pred = truth = all label 1 overflowed the true-negative count (found by the CLI end-to-end test).
    let a = ArrayD::from_elem(IxDyn(&[3, 3]), 1u32);
    let c = confusion_per_label(&a.view(), &a.view(), &[1, 2]).unwrap();
    assert_eq!((c[0].true_positives, c[0].true_negatives), (9, 0));
    assert_eq!((c[1].true_positives, c[1].true_negatives), (0, 9));
    // Random maps against counting voxel by voxel.
    let mut rng = 7u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 4) as u32
    };
    let p = ArrayD::from_shape_fn(IxDyn(&[9, 7]), |_| next());
    let t = ArrayD::from_shape_fn(IxDyn(&[9, 7]), |_| next());
    let c = confusion_per_label(&p.view(), &t.view(), &[0, 1, 2, 3]).unwrap();
    for l in 0..4u32 {
        let (pm, tm) = (p.mapv(|v| v == l), t.mapv(|v| v == l));
        assert_eq!(
            c[l as usize],
            ConfusionCounts::from_masks(&pm.view(), &tm.view()).unwrap()
        );
    }
}

/// A label in neither map: `LabelEvaluation::absent` is what `evaluate_label_maps` computes.
#[test]
fn an_absent_label_evaluates_as_both_empty() {
    let p = ndarray::Array2::from_shape_fn((6, 7), |(r, c)| ((r + c) % 3 == 0) as u32).into_dyn();
    let t = ndarray::Array2::from_shape_fn((6, 7), |(r, c)| ((r * c) % 4 == 1) as u32).into_dyn();
    for convention in Convention::ALL {
        let full =
            evaluate_label_maps(&p.view(), &t.view(), &[1.0, 0.5], &[7], convention, 1.0).unwrap();
        assert_eq!(
            full[0],
            LabelEvaluation::absent(7, 42, &MetricKind::REPORTED),
            "{convention:?}"
        );
    }
}

/// Labels of any value cost the same: 65535 and 4e9 are counted like 1, 2.
#[test]
fn confusion_counts_do_not_scale_with_label_values() {
    let big = [1u32, 65_535, 4_000_000_000, 70_000];
    let p = ndarray::Array1::from_iter(
        (0..400u32).map(|i| big[(i % 4) as usize] * (i % 3 != 0) as u32),
    )
    .into_dyn();
    let t = ndarray::Array1::from_iter(
        (0..400u32).map(|i| big[(i % 4) as usize] * (i % 5 != 0) as u32),
    )
    .into_dyn();
    let small = p.mapv(|v| big.iter().position(|&b| b == v).map_or(0, |i| i as u32 + 1));
    let small_t = t.mapv(|v| big.iter().position(|&b| b == v).map_or(0, |i| i as u32 + 1));
    let a = confusion_per_label(&p.view(), &t.view(), &big).unwrap();
    let b = confusion_per_label(&small.view(), &small_t.view(), &[1, 2, 3, 4]).unwrap();
    assert_eq!(a, b);
    // A label asked twice, and one absent from both maps.
    let c = confusion_per_label(&p.view(), &t.view(), &[65_535, 65_535, 9]).unwrap();
    assert_eq!(c[0], c[1]);
    assert_eq!(c[2].true_negatives, 400);
}

/// Many labels (an instance map) take the one-lookup-per-voxel path: the same distances as one
/// label at a time.
#[test]
fn many_labels_give_the_distances_of_one_label_at_a_time() {
    let p = ndarray::Array3::from_shape_fn((9, 10, 11), |(z, y, x)| {
        ((x / 3 + 4 * (y / 3) + z) % 23) as u32
    })
    .into_dyn();
    let t = ndarray::Array3::from_shape_fn((9, 10, 11), |(z, y, x)| {
        (((x + 1) / 3 + 4 * (y / 3) + z) % 23) as u32
    })
    .into_dyn();
    let labels: Vec<u32> = (1..23).chain([40, 7]).collect();
    let spacing = [1.0, 0.5, 2.0];
    for boundary in [Boundary::Faces, Boundary::Surfels] {
        let all =
            SurfaceDistances::per_label(&p.view(), &t.view(), &labels, &spacing, boundary).unwrap();
        for (&l, sd) in labels.iter().zip(&all) {
            let one =
                SurfaceDistances::from_label_maps(&p.view(), &t.view(), l, &spacing, boundary)
                    .unwrap();
            assert_eq!(&one, sd, "label {l} {boundary:?}");
        }
    }
}

/// Column-major maps (a NIfTI file's order, scanned without a copy) and maps in any other
/// layout give the very same evaluations as row-major ones, for every label type, in 2D and
/// 3D, under every convention.
#[test]
fn every_layout_and_label_type_gives_the_same_evaluations() {
    fn check<T: Label + From<u8>>(shape: &[usize], spacing: &[f64], seed: u64) {
        let mut s = seed;
        let mut next = move |m: u64| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s % m
        };
        let n: usize = shape.iter().product();
        let mut blocky = |extra: u64| -> Vec<u8> {
            let mut v = 0u8;
            (0..n)
                .map(|_| {
                    if next(5) == 0 {
                        v = next(3 + extra) as u8;
                    }
                    v
                })
                .collect()
        };
        let (p, t) = (blocky(1), blocky(0));
        let row = |v: &[u8]| {
            ArrayD::from_shape_vec(IxDyn(shape), v.iter().map(|&x| T::from(x)).collect()).unwrap()
        };
        let col = |v: &[u8]| {
            use ndarray::ShapeBuilder;
            ArrayD::from_shape_vec(IxDyn(shape).f(), v.iter().map(|&x| T::from(x)).collect())
                .unwrap()
        };
        let (pr, tr) = (row(&p), row(&t));
        let (pc, tc) = (col(&p), col(&t));
        // Column-major arrays with the same values: a standard copy of each.
        let (pcs, tcs) = (
            pc.as_standard_layout().into_owned(),
            tc.as_standard_layout().into_owned(),
        );
        let u32s = |a: &ArrayD<T>| a.mapv(|x| x.to_u32());
        let labels = [1u32, 2, 3, 7];
        for convention in Convention::ALL {
            let e = |p: &ArrayD<T>, t: &ArrayD<T>| {
                evaluate_label_maps(&p.view(), &t.view(), spacing, &labels, convention, 1.0)
                    .unwrap()
            };
            let want = e(&pr, &tr);
            let wide = evaluate_label_maps(
                &u32s(&pr).view(),
                &u32s(&tr).view(),
                spacing,
                &labels,
                convention,
                1.0,
            )
            .unwrap();
            assert_eq!(want, wide, "{shape:?} {convention:?} u32");
            // Mixed layouts are copied; column-major pairs are scanned in place.
            assert_eq!(
                e(&pcs, &tcs),
                e(&pc, &tc),
                "{shape:?} {convention:?} column-major"
            );
            assert_eq!(
                e(&pcs, &tcs),
                e(&pc, &tcs),
                "{shape:?} {convention:?} mixed"
            );
            let swapped = |a: &ArrayD<T>| {
                let mut v = a.view();
                v.swap_axes(0, 1);
                v.as_standard_layout().into_owned()
            };
            let (ps, ts) = (swapped(&pr), swapped(&tr));
            let mut pv = ps.view();
            pv.swap_axes(0, 1);
            let mut tv = ts.view();
            tv.swap_axes(0, 1);
            assert_eq!(
                want,
                evaluate_label_maps(&pv, &tv, spacing, &labels, convention, 1.0).unwrap(),
                "{shape:?} {convention:?} strided"
            );
        }
    }
    for (shape, spacing) in [
        (&[9usize, 11, 7][..], &[0.8, 0.8, 2.5][..]),
        (&[16, 13], &[0.7, 1.3]),
        (&[1, 12, 5], &[1.0, 1.0, 1.0]),
    ] {
        for seed in [3u64, 77, 1234] {
            check::<u8>(shape, spacing, seed);
            check::<u16>(shape, spacing, seed ^ 0xabc);
            check::<u32>(shape, spacing, seed ^ 0x5151);
        }
    }
}
