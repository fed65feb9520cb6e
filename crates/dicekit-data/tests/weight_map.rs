//! Weight maps: the golden loss case's boundary weights, hand-computed U-Net and band weights,
//! connected components, the distance transform against brute force, errors, finiteness.

use dicekit_data::Rng;
use dicekit_data::weight_map::{
    BandProfile, BoundaryWeightConfig, ClassWeights, Connectivity, Objects, UnetWeightConfig,
    WeightMapError, boundary_weight_map, connected_components, distance_transform, unet_weight_map,
};
use ndarray::{ArrayD, Axis, Dimension, IxDyn, array};

/// The numbers of the JSON array that follows `key` after `from` in `text`.
fn json_numbers(text: &str, from: usize, key: &str) -> (Vec<f64>, usize) {
    let at = from
        + text[from..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} not found"));
    let open = at + text[at..].find('[').unwrap();
    let close = open + text[open..].find(']').unwrap();
    let numbers = text[open + 1..close]
        .split(',')
        .map(|s| s.trim().parse::<f64>().unwrap())
        .collect();
    (numbers, at)
}

#[test]
fn boundary_weights_reproduce_golden_case_dev_066() {
    // crates/dicekit-losses/tests/golden/losses_dev.json, case dev-066 (nnU-Net 2.8.1 pixel-weighted
    // Dice): target [2, 1, 8, 8] class indices, extra_inputs.weight_map [2, 1, 8, 8] =
    // 1 + 4 exp(-d² / (2 · 1.5²)) rounded to a multiple of 1/1024
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dicekit-losses/tests/golden/losses_dev.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let case = text.find("\"dev-066\"").expect("case dev-066");
    let next_case = case
        + 1
        + text[case + 1..]
            .find("\"id\"")
            .unwrap_or(text.len() - case - 1);
    let (target, at_target) = json_numbers(&text, case, "\"target\":");
    let (weights, at_weights) = json_numbers(&text, case, "\"values\":");
    assert!(
        at_target < next_case && at_weights < next_case,
        "keys of another case"
    );
    assert_eq!((target.len(), weights.len()), (128, 128));

    let labels = ArrayD::from_shape_vec(
        IxDyn(&[2, 8, 8]),
        target.iter().map(|&t| t as u32).collect(),
    )
    .unwrap();
    let golden = ArrayD::from_shape_vec(IxDyn(&[2, 8, 8]), weights).unwrap();
    let cfg = BoundaryWeightConfig::default();
    let mut off_boundary = 0;
    for b in 0..2 {
        let w = boundary_weight_map(&labels.index_axis(Axis(0), b), &[1.0, 1.0], &cfg).unwrap();
        for (mine, &want) in w.iter().zip(golden.index_axis(Axis(0), b).iter()) {
            assert_eq!(
                (f64::from(*mine) * 1024.0).round() / 1024.0,
                want,
                "sample {b}"
            );
            off_boundary += usize::from(want != 5.0);
        }
    }
    // the case has 6 voxels at distance 1 (1 + 4 exp(-1 / 4.5) = 4.20295 -> 4304 / 1024 = 4.203125)
    assert_eq!(off_boundary, 6);
}

#[test]
fn band_weights_by_hand() {
    // boundary voxels of [0, 0, 1, 1, 1]: 1 and 2; d = [1, 0, 0, 1, 2]
    // Gaussian(1.5): 1 + 4 exp(-1 / 4.5) = 4.2029496, 1 + 4 exp(-4 / 4.5) = 2.6444492
    let labels = array![[0u32, 0, 1, 1, 1]].into_dyn();
    let w = boundary_weight_map(&labels, &[1.0, 1.0], &BoundaryWeightConfig::default()).unwrap();
    let want = [4.2029496f32, 5.0, 5.0, 4.2029496, 2.6444492];
    for (w, want) in w.iter().zip(want) {
        assert!((w - want).abs() < 1e-6, "{w} {want}");
    }
    // hard band of width 1: d <= 1 -> 5, else 1
    let hard = BoundaryWeightConfig {
        profile: BandProfile::Hard { width: 1.0 },
        ..BoundaryWeightConfig::default()
    };
    let w = boundary_weight_map(&labels, &[1.0, 1.0], &hard).unwrap();
    assert_eq!(w, array![[5.0f32, 5.0, 5.0, 5.0, 1.0]].into_dyn());
    // spacing 2 along the row: d = [4, 2, 0, 0] for [0, 0, 0, 1]:
    // 1 + 4 exp(-16 / 4.5) = 1.1142620, 1 + 4 exp(-4 / 4.5) = 2.6444492
    let w = boundary_weight_map(
        &array![[0u32, 0, 0, 1]].into_dyn(),
        &[1.0, 2.0],
        &BoundaryWeightConfig::default(),
    )
    .unwrap();
    let want = [1.114262f32, 2.644449, 5.0, 5.0];
    for (w, want) in w.iter().zip(want) {
        assert!((w - want).abs() < 1e-6, "{w} {want}");
    }
    // diagonal neighbours do not make a boundary: the 2x2 checkerboard is all boundary by faces;
    // one label everywhere has no boundary (d = inf, w = 1)
    let w = boundary_weight_map(
        &ArrayD::<u32>::ones(IxDyn(&[3, 4])),
        &[1.0, 1.0],
        &BoundaryWeightConfig::default(),
    )
    .unwrap();
    assert!(w.iter().all(|&w| w == 1.0));
    // ignored voxels weigh 0 and make no boundary
    let ignoring = BoundaryWeightConfig {
        ignore_label: Some(9),
        ..BoundaryWeightConfig::default()
    };
    let w = boundary_weight_map(&array![[0u32, 9, 1]].into_dyn(), &[1.0, 1.0], &ignoring).unwrap();
    assert_eq!(w, array![[1.0f32, 0.0, 1.0]].into_dyn());
}

#[test]
fn unet_weights_by_hand() {
    // [1, 0, 0, 0, 1]: two one-pixel objects; n_0 = 3, n_1 = 2 -> w_c = [3/3, 3/2] = [1, 1.5]
    // gap pixels: d1 + d2 = 1 + 3 = 2 + 2 = 3 + 1 = 4; 1 + 10 exp(-16 / 50) = 8.2614904
    let labels = array![[1u32, 0, 0, 0, 1]].into_dyn();
    let w = unet_weight_map(&labels, &[1.0, 1.0], &UnetWeightConfig::default()).unwrap();
    let want = [1.5f32, 8.26149, 8.26149, 8.26149, 1.5];
    for (w, want) in w.iter().zip(want) {
        assert!((w - want).abs() < 1e-5, "{w} {want}");
    }
    // spacing 2 mm along the row: d1 + d2 = 8 mm; 1 + 10 exp(-64 / 50) = 3.7803730
    let w = unet_weight_map(&labels, &[1.0, 2.0], &UnetWeightConfig::default()).unwrap();
    assert!((w[[0, 2]] - 3.780373).abs() < 1e-5, "{}", w[[0, 2]]);
    // one object: no second object, no border term; w = w_c only
    let one = array![[1u32, 1, 0, 0, 0, 0]].into_dyn();
    let w = unet_weight_map(&one, &[1.0, 1.0], &UnetWeightConfig::default()).unwrap();
    assert_eq!(w, array![[2.0f32, 2.0, 1.0, 1.0, 1.0, 1.0]].into_dyn()); // n_0 = 4, n_1 = 2
}

#[test]
fn class_weights_are_inverse_frequencies_relative_to_the_most_frequent_class() {
    // counts: label 0: 6, label 1: 3, label 2: 1 -> 6/6, 6/3, 6/1; w0 = 0 switches the border term off
    let labels = array![[0u32, 0, 0, 0, 0, 0, 1, 1, 1, 2]].into_dyn();
    let cfg = UnetWeightConfig {
        w0: 0.0,
        ..UnetWeightConfig::default()
    };
    let w = unet_weight_map(&labels, &[1.0, 1.0], &cfg).unwrap();
    assert_eq!(
        w,
        array![[1.0f32, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 6.0]].into_dyn()
    );
    // given weights; a label without one is an error
    let given = UnetWeightConfig {
        class_weights: ClassWeights::Given(vec![0.5, 1.0, 4.0]),
        ..cfg.clone()
    };
    let w = unet_weight_map(&labels, &[1.0, 1.0], &given).unwrap();
    assert_eq!(w[[0, 9]], 4.0);
    let short = UnetWeightConfig {
        class_weights: ClassWeights::Given(vec![0.5, 1.0]),
        ..cfg.clone()
    };
    let e = unet_weight_map(&labels, &[1.0, 1.0], &short).unwrap_err();
    assert_eq!(e, WeightMapError::MissingClassWeight { label: 2, len: 2 });
    let uniform = UnetWeightConfig {
        class_weights: ClassWeights::Uniform,
        ..cfg.clone()
    };
    assert!(
        unet_weight_map(&labels, &[1.0, 1.0], &uniform)
            .unwrap()
            .iter()
            .all(|&w| w == 1.0)
    );
    // the ignore label is not counted (n_0 = 5 is now the largest) and weighs 0
    let ignoring = UnetWeightConfig {
        ignore_label: Some(0),
        ..cfg
    };
    let w = unet_weight_map(&labels, &[1.0, 1.0], &ignoring).unwrap();
    assert_eq!(
        w,
        array![[0.0f32, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 3.0]].into_dyn()
    );
}

#[test]
fn two_objects_separated_by_one_pixel_get_a_high_border_weight_between_them() {
    // 9 x 12 map; object A rows 2..7 columns 1..5, object B rows 2..7 columns 6..10, a
    // one-pixel gap in column 5: gap pixels have d1 = d2 = 1, border term 10 exp(-4 / 50) = 9.2311635
    let mut labels = ArrayD::<u32>::zeros(IxDyn(&[9, 12]));
    for i in 2..7 {
        for j in (1..5).chain(6..10) {
            labels[[i, j]] = 1;
        }
    }
    let n1 = 2 * 5 * 4;
    let n0 = 9 * 12 - n1; // 68: background is the most frequent class, w_c(0) = 1
    assert_eq!(n0, 68);
    let w = unet_weight_map(&labels, &[1.0, 1.0], &UnetWeightConfig::default()).unwrap();
    for i in 2..7 {
        assert!(
            (w[[i, 5]] - (1.0 + 9.231163)).abs() < 1e-5,
            "row {i}: {}",
            w[[i, 5]]
        );
    }
    // a corner far from both: d1 = sqrt(2² + 1²) to A (2, 1), d2 = sqrt(4 + 36) to B (2, 6)
    let corner = f64::from(w[[0, 0]]);
    let s = 5f64.sqrt() + 40f64.sqrt();
    assert!((corner - (1.0 + 10.0 * (-s * s / 50.0).exp())).abs() < 1e-5);
    assert!(w[[4, 5]] > w[[0, 0]] + 5.0);
    // objects weigh w_c(1) = 68 / 40 = 1.7
    assert!((w[[3, 2]] - 1.7).abs() < 1e-6);
    // closing the gap makes one object: the border term disappears
    for i in 2..7 {
        labels[[i, 5]] = 1;
    }
    let w = unet_weight_map(&labels, &[1.0, 1.0], &UnetWeightConfig::default()).unwrap();
    assert!(w.iter().all(|&w| w < 2.0), "one object has no border term");
    // ... unless the two halves carry different labels and objects are per label
    for i in 2..7 {
        for j in 5..10 {
            labels[[i, j]] = 2;
        }
    }
    let per_label = UnetWeightConfig {
        objects: Objects::LabelComponents,
        ..UnetWeightConfig::default()
    };
    let w = unet_weight_map(&labels, &[1.0, 1.0], &per_label).unwrap();
    // the background pixel above the junction (1, 5): d1 = 1 (to label 2), d2 = sqrt(2) (to (2, 4))
    // (63 background voxels, 20 of label 1, 25 of label 2: w_c(0) = 1)
    let s: f64 = 1.0 + 2f64.sqrt();
    assert!((f64::from(w[[1, 5]]) - (1.0 + 10.0 * (-s * s / 50.0).exp())).abs() < 1e-5);
}

#[test]
fn connected_components_are_counted_right() {
    let face = Connectivity::Face;
    let full = Connectivity::Full;
    let fg = Objects::ForegroundComponents;
    // five blobs, one of them diagonal-only linked
    let labels = array![
        [1u32, 1, 0, 0, 2, 0],
        [1, 0, 0, 0, 2, 0],
        [0, 0, 3, 0, 0, 0],
        [0, 0, 0, 0, 1, 1],
        [4, 0, 0, 1, 0, 0],
    ]
    .into_dyn();
    // Face: {(0,0),(0,1),(1,0)}, {2s}, {3}, {(3,4),(3,5)}, {(4,3)}, {4} = 6
    let (c, n) = connected_components(&labels, fg, face, None).unwrap();
    assert_eq!(n, 6);
    assert_eq!(
        (
            c[[0, 0]],
            c[[0, 4]],
            c[[2, 2]],
            c[[3, 4]],
            c[[4, 0]],
            c[[4, 3]]
        ),
        (1, 2, 3, 4, 5, 6)
    );
    // Full: only (3,4) and (4,3) touch diagonally, so those two blobs merge: 5
    let (_, n) = connected_components(&labels, fg, full, None).unwrap();
    assert_eq!(n, 5);
    // 3D: two voxels sharing a corner, two sharing an edge
    let mut v = ArrayD::<u32>::zeros(IxDyn(&[3, 3, 3]));
    v[[0, 0, 0]] = 1;
    v[[1, 1, 1]] = 1; // corner with (0,0,0)
    let (_, n6) = connected_components(&v, fg, face, None).unwrap();
    let (_, n26) = connected_components(&v, fg, full, None).unwrap();
    assert_eq!((n6, n26), (2, 1));
    v[[1, 1, 1]] = 0;
    v[[1, 1, 0]] = 1; // edge with (0,0,0)
    let (_, n6) = connected_components(&v, fg, face, None).unwrap();
    let (_, n26) = connected_components(&v, fg, full, None).unwrap();
    assert_eq!((n6, n26), (2, 1));
    // a 3D ring closes in 6-connectivity across slices
    let mut ring = ArrayD::<u32>::zeros(IxDyn(&[2, 3, 3]));
    for (x, y, z) in [
        (0, 0, 0),
        (0, 0, 1),
        (0, 0, 2),
        (1, 0, 2),
        (1, 1, 2),
        (1, 2, 2),
        (0, 2, 2),
        (0, 2, 1),
    ] {
        ring[[x, y, z]] = 1;
    }
    assert_eq!(connected_components(&ring, fg, face, None).unwrap().1, 1);
    // per label, and the ignore label is not an object
    let pair = array![[1u32, 2, 2, 0, 7]].into_dyn();
    assert_eq!(connected_components(&pair, fg, face, None).unwrap().1, 2);
    assert_eq!(
        connected_components(&pair, Objects::LabelComponents, face, None)
            .unwrap()
            .1,
        3
    );
    assert_eq!(connected_components(&pair, fg, face, Some(7)).unwrap().1, 1);
}

#[test]
fn distance_transform_equals_brute_force() {
    let mut rng = Rng::new(2015);
    for (shape, spacing) in [
        (vec![12, 12], vec![1.0, 1.0]),
        (vec![12, 9], vec![0.7, 2.5]),
        (vec![6, 6, 6], vec![1.0, 1.0, 3.0]),
        (vec![5, 7, 4], vec![0.5, 1.5, 1.0]),
        (vec![9], vec![2.0]),
    ] {
        for density in [0.02, 0.2, 0.7] {
            let sites = ArrayD::from_shape_simple_fn(IxDyn(&shape), || rng.chance(density));
            let d = distance_transform(&sites, &spacing).unwrap();
            let points: Vec<Vec<usize>> = sites
                .indexed_iter()
                .filter(|(_, s)| **s)
                .map(|(i, _)| i.slice().to_vec())
                .collect();
            for (ix, &got) in d.indexed_iter() {
                let want = points
                    .iter()
                    .map(|p| {
                        p.iter()
                            .enumerate()
                            .map(|(a, &pa)| (spacing[a] * (pa as f64 - ix[a] as f64)).powi(2))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min)
                    .sqrt();
                assert!(
                    got == want || (got - want).abs() < 1e-12,
                    "{shape:?} {ix:?}: {got} vs {want}"
                );
            }
        }
    }
}

#[test]
fn weight_maps_are_finite_for_degenerate_and_random_maps() {
    let mut rng = Rng::new(5);
    let mut maps = vec![
        ArrayD::<u32>::zeros(IxDyn(&[6, 7])),
        ArrayD::<u32>::ones(IxDyn(&[4, 4, 3])),
        ArrayD::<u32>::from_elem(IxDyn(&[5, 5]), 9),
        ArrayD::<u32>::zeros(IxDyn(&[0, 5])),
        ArrayD::<u32>::zeros(IxDyn(&[1, 1])),
    ];
    for shape in [vec![10, 13], vec![5, 6, 7]] {
        for density in [0.05, 0.5] {
            maps.push(ArrayD::from_shape_simple_fn(IxDyn(&shape), || {
                if rng.chance(density) {
                    1 + rng.below(3) as u32
                } else {
                    0
                }
            }));
        }
    }
    for labels in &maps {
        let spacing = vec![0.8; labels.ndim()];
        for connectivity in [Connectivity::Face, Connectivity::Full] {
            for objects in [Objects::ForegroundComponents, Objects::LabelComponents] {
                let cfg = UnetWeightConfig {
                    connectivity,
                    objects,
                    ignore_label: Some(9),
                    ..UnetWeightConfig::default()
                };
                let w = unet_weight_map(labels, &spacing, &cfg).unwrap();
                assert_eq!(w.shape(), labels.shape());
                assert!(w.iter().all(|w| w.is_finite() && *w >= 0.0), "{labels:?}");
            }
        }
        for profile in [
            BandProfile::Gaussian { sigma: 2.0 },
            BandProfile::Hard { width: 0.0 },
        ] {
            let cfg = BoundaryWeightConfig {
                profile,
                ..BoundaryWeightConfig::default()
            };
            let w = boundary_weight_map(labels, &spacing, &cfg).unwrap();
            assert!(w.iter().all(|w| w.is_finite() && *w >= 1.0));
        }
    }
}

#[test]
fn bad_parameters_are_errors_not_panics() {
    let labels = ArrayD::<u32>::zeros(IxDyn(&[4, 4]));
    let unet = |cfg: UnetWeightConfig, spacing: &[f64]| {
        unet_weight_map(&labels, spacing, &cfg).unwrap_err()
    };
    let d = UnetWeightConfig::default;
    assert!(matches!(
        unet(d(), &[1.0]),
        WeightMapError::BadSpacing { rank: 2, .. }
    ));
    assert!(matches!(
        unet(d(), &[1.0, 0.0]),
        WeightMapError::BadSpacing { .. }
    ));
    assert!(matches!(
        unet(d(), &[1.0, f64::NAN]),
        WeightMapError::BadSpacing { .. }
    ));
    let e = unet(
        UnetWeightConfig {
            sigma: f64::NAN,
            ..d()
        },
        &[1.0, 1.0],
    );
    assert_eq!(e.to_string(), "sigma is NaN; it must be finite and > 0");
    let e = unet(UnetWeightConfig { w0: -1.0, ..d() }, &[1.0, 1.0]);
    assert!(matches!(
        e,
        WeightMapError::BadParameter { field: "w0", .. }
    ));
    let e = unet(
        UnetWeightConfig {
            class_weights: ClassWeights::Given(vec![f64::INFINITY]),
            ..d()
        },
        &[1.0, 1.0],
    );
    assert!(matches!(
        e,
        WeightMapError::BadParameter {
            field: "class_weights",
            ..
        }
    ));
    let band =
        |cfg: BoundaryWeightConfig| boundary_weight_map(&labels, &[1.0, 1.0], &cfg).unwrap_err();
    let b = BoundaryWeightConfig::default;
    assert!(matches!(
        band(BoundaryWeightConfig {
            profile: BandProfile::Hard { width: -1.0 },
            ..b()
        }),
        WeightMapError::BadParameter { field: "width", .. }
    ));
    assert!(matches!(
        band(BoundaryWeightConfig {
            profile: BandProfile::Gaussian { sigma: 0.0 },
            ..b()
        }),
        WeightMapError::BadParameter { field: "sigma", .. }
    ));
    assert!(matches!(
        band(BoundaryWeightConfig {
            band_weight: f64::NAN,
            ..b()
        }),
        WeightMapError::BadParameter {
            field: "band_weight",
            ..
        }
    ));
    let scalar = ArrayD::<u32>::zeros(IxDyn(&[]));
    assert_eq!(
        unet_weight_map(&scalar, &[], &d()).unwrap_err(),
        WeightMapError::NoSpatialAxes
    );
    assert!(distance_transform(&ArrayD::from_elem(IxDyn(&[2, 2]), true), &[1.0]).is_err());
}

#[test]
fn weight_configs_read_partial_toml() {
    let unet: UnetWeightConfig =
        toml::from_str("w0 = 5.0\nconnectivity = \"full\"\nclass_weights = { given = [1.0, 3.0] }")
            .unwrap();
    assert_eq!(
        unet,
        UnetWeightConfig {
            w0: 5.0,
            connectivity: Connectivity::Full,
            class_weights: ClassWeights::Given(vec![1.0, 3.0]),
            ..UnetWeightConfig::default()
        }
    );
    let band: BoundaryWeightConfig =
        toml::from_str("profile = { hard = { width = 2.0 } }").unwrap();
    assert_eq!(band.profile, BandProfile::Hard { width: 2.0 });
    assert_eq!(band.band_weight, 5.0);
    assert!(toml::from_str::<BoundaryWeightConfig>("band_wieght = 3.0").is_err());
}
