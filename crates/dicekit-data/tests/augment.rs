//! Joint augmentation: reproducibility, foreground oversampling, geometric consistency between
//! image and label map, intensity steps, padding, errors.

use dicekit_data::Rng;
use dicekit_data::augment::{
    AugmentConfig, AugmentError, CropConfig, FlipAxes, FlipConfig, ForegroundClasses,
    ForegroundSampling, GammaConfig, GammaStats, IntensityConfig, MaskPad, Placement,
    Rotate90Config, augment, center_crop, crop_at, random_crop, random_crop_with,
};
use ndarray::{ArrayD, Axis, IxDyn, array};

fn random_image(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut rng = Rng::new(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.normal() as f32)
}

/// `[H, W]` or `[X, Y, Z]` background with `count` foreground voxels of label 1 (and one of
/// label 2), scattered by `seed`.
fn sparse_mask(shape: &[usize], count: usize, seed: u64) -> ArrayD<u32> {
    let mut rng = Rng::new(seed);
    let mut mask = ArrayD::<u32>::zeros(IxDyn(shape));
    let n = mask.len();
    let flat = mask.as_slice_mut().unwrap();
    for i in 0..count {
        flat[rng.below(n)] = if i == 0 { 2 } else { 1 };
    }
    mask
}

fn everything_on(patch: Vec<usize>) -> AugmentConfig {
    AugmentConfig {
        crop: Some(CropConfig::new(patch)),
        rotate90: Rotate90Config {
            probability: 0.5,
            axes: [0, 1],
        },
        shift: IntensityConfig {
            probability: 0.5,
            range: (-0.2, 0.2),
        },
        ..AugmentConfig::default()
    }
}

#[test]
fn same_seed_gives_identical_output_and_different_seeds_differ() {
    for (shape, patch) in [
        (vec![2, 50, 40], vec![24, 24]),
        (vec![1, 20, 18, 12], vec![8, 8, 8]),
    ] {
        let image = random_image(&shape, 1);
        let mask = sparse_mask(&shape[1..], 30, 2);
        let cfg = everything_on(patch);
        let mut outputs = Vec::new();
        for seed in 0..8 {
            let a = augment(&image, &mask, &cfg, &mut Rng::new(seed)).unwrap();
            let b = augment(&image, &mask, &cfg, &mut Rng::new(seed)).unwrap();
            let bits = |x: &ArrayD<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.0), bits(&b.0), "seed {seed}");
            assert_eq!(a.1, b.1, "seed {seed}");
            outputs.push(bits(&a.0));
        }
        outputs.sort();
        outputs.dedup();
        assert_eq!(outputs.len(), 8, "8 seeds should give 8 different patches");
    }
}

#[test]
fn foreground_fraction_one_puts_foreground_in_every_patch() {
    // 2D: 10 foreground pixels in 100 × 200 = 0.05 %; 3D: 50 in 40 × 50 × 50 = 0.05 %
    for (shape, count, patch, seeds) in [
        (vec![100, 200], 10, vec![32, 32], 300u64),
        (vec![40, 50, 50], 50, vec![16, 16, 16], 60),
    ] {
        let mut image_shape = vec![1];
        image_shape.extend_from_slice(&shape);
        let image = random_image(&image_shape, 3);
        for sampling in [
            ForegroundSampling::UniformVoxel,
            ForegroundSampling::ClassThenVoxel,
        ] {
            let crop = CropConfig {
                foreground_fraction: 1.0,
                foreground_sampling: sampling,
                ..CropConfig::new(patch.clone())
            };
            let cfg = AugmentConfig {
                crop: Some(crop.clone()),
                rotate90: Rotate90Config {
                    probability: 0.5,
                    axes: [0, 1],
                },
                ..AugmentConfig::default()
            };
            for seed in 0..seeds {
                let mask = sparse_mask(&shape, count, seed);
                let (_, y) = random_crop(&image, &mask, &crop, &mut Rng::new(seed)).unwrap();
                assert!(
                    y.iter().any(|&l| l > 0),
                    "{sampling:?} seed {seed}: no foreground"
                );
                let (_, y) = augment(&image, &mask, &cfg, &mut Rng::new(seed)).unwrap();
                assert!(
                    y.iter().any(|&l| l > 0),
                    "{sampling:?} seed {seed}: no foreground after augment"
                );
            }
        }
    }
}

#[test]
fn class_then_voxel_centres_a_one_voxel_class_half_the_time() {
    // label 1: 200 voxels, label 2: 1 voxel; ClassThenVoxel picks each class with probability 1/2
    let shape = [60usize, 60];
    let mut mask = ArrayD::<u32>::zeros(IxDyn(&shape));
    for i in 0..200 {
        mask[[10 + i / 20, 5 + i % 20]] = 1;
    }
    mask[[50, 50]] = 2;
    let image = ArrayD::<f32>::zeros(IxDyn(&[1, 60, 60]));
    let crop = CropConfig {
        foreground_sampling: ForegroundSampling::ClassThenVoxel,
        ..CropConfig::new(vec![8, 8])
    };
    let hits = (0..400)
        .filter(|&seed| {
            let (_, y) = random_crop_with(
                &image,
                &mask,
                &crop,
                Placement::Foreground,
                &mut Rng::new(seed),
            )
            .unwrap();
            y.iter().any(|&l| l == 2)
        })
        .count();
    assert!((150..=250).contains(&hits), "{hits} of 400");
    // only label 2 counts as foreground: always centred on it, at [8 / 2, 8 / 2]
    let only2 = CropConfig {
        foreground: ForegroundClasses::Labels(vec![2]),
        ..crop
    };
    let (_, y) = random_crop_with(
        &image,
        &mask,
        &only2,
        Placement::Foreground,
        &mut Rng::new(9),
    )
    .unwrap();
    assert_eq!(y[[4, 4]], 2);
}

#[test]
fn foreground_voxel_sits_at_the_patch_centre_away_from_the_border() {
    let mut mask = ArrayD::<u32>::zeros(IxDyn(&[100, 200]));
    mask[[50, 60]] = 1;
    let image = random_image(&[1, 100, 200], 4);
    let crop = CropConfig::new(vec![32, 31]);
    for seed in 0..5 {
        let (x, y) = random_crop_with(
            &image,
            &mask,
            &crop,
            Placement::Foreground,
            &mut Rng::new(seed),
        )
        .unwrap();
        // origin = v - floor(P / 2) = [50 - 16, 60 - 15] = [34, 45]
        assert_eq!(y[[16, 15]], 1);
        assert_eq!(x[[0, 0, 0]], image[[0, 34, 45]]);
    }
    // near the border the patch is moved inside: v = [2, 198] -> origin [0, 200 - 31]
    let mut mask = ArrayD::<u32>::zeros(IxDyn(&[100, 200]));
    mask[[2, 198]] = 1;
    let (_, y) = random_crop_with(
        &image,
        &mask,
        &crop,
        Placement::Foreground,
        &mut Rng::new(0),
    )
    .unwrap();
    assert_eq!(y[[2, 198 - 169]], 1);
    // the ignore label is never foreground: uniform fallback, no panic
    let mut mask = ArrayD::<u32>::zeros(IxDyn(&[100, 200]));
    mask[[2, 3]] = 255;
    let ignoring = CropConfig {
        ignore_label: Some(255),
        ..crop
    };
    assert!(
        random_crop_with(
            &image,
            &mask,
            &ignoring,
            Placement::Foreground,
            &mut Rng::new(0)
        )
        .is_ok()
    );
}

#[test]
fn uniform_crops_reach_every_origin() {
    // image length 5, patch 3: origins 0, 1, 2 each about a third of the time
    let image = ArrayD::from_shape_fn(IxDyn(&[1, 1, 5]), |ix| ix[2] as f32);
    let mask = ArrayD::<u32>::zeros(IxDyn(&[1, 5]));
    let crop = CropConfig {
        foreground_fraction: 0.0,
        ..CropConfig::new(vec![1, 3])
    };
    let mut counts = [0usize; 3];
    let mut rng = Rng::new(11);
    for _ in 0..600 {
        let (x, _) = random_crop(&image, &mask, &crop, &mut rng).unwrap();
        counts[x[[0, 0, 0]] as usize] += 1;
    }
    assert!(
        counts.iter().all(|&c| (150..=250).contains(&c)),
        "{counts:?}"
    );
}

/// Two channels `id` and `-id` (`id` = row-major position in the input), label `id % 7`.
fn tagged(shape: &[usize]) -> (ArrayD<f32>, ArrayD<u32>) {
    let n: usize = shape.iter().product();
    let mask =
        ArrayD::from_shape_vec(IxDyn(shape), (0..n as u32).map(|i| i % 7).collect()).unwrap();
    let id = ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| i as f32).collect()).unwrap();
    let image = ndarray::stack(Axis(0), &[id.view(), id.mapv(|v| -v).view()]).unwrap();
    (image, mask)
}

fn assert_labels_travel_with_intensities(x: &ArrayD<f32>, y: &ArrayD<u32>) {
    let id = x.index_axis(Axis(0), 0);
    let neg = x.index_axis(Axis(0), 1);
    for ((&i, &m), &n) in id.iter().zip(y.iter()).zip(neg.iter()) {
        assert_eq!(m, i as u32 % 7, "label {m} at intensity {i}");
        assert_eq!(n, -i);
    }
}

#[test]
fn flips_and_rotations_move_image_and_mask_together() {
    let geometry = |axes: [usize; 2]| AugmentConfig {
        rotate90: Rotate90Config {
            probability: 0.7,
            axes,
        },
        flip: FlipConfig {
            probability: 0.5,
            axes: FlipAxes::All,
        },
        ..AugmentConfig::none()
    };
    // square 2D, non-square 2D (only half turns), 3D in the plane (0, 2) and (1, 2)
    for (shape, axes) in [
        (vec![6, 6], [0, 1]),
        (vec![5, 8], [1, 0]),
        (vec![4, 3, 4], [0, 2]),
        (vec![3, 5, 5], [1, 2]),
    ] {
        let (image, mask) = tagged(&shape);
        let mut distinct = Vec::new();
        for seed in 0..40 {
            let (x, y) = augment(&image, &mask, &geometry(axes), &mut Rng::new(seed)).unwrap();
            assert_eq!(y.shape(), mask.shape(), "the shape is kept");
            assert_labels_travel_with_intensities(&x, &y);
            // a permutation of the input voxels
            let mut ids: Vec<u32> = x.index_axis(Axis(0), 0).iter().map(|&v| v as u32).collect();
            ids.sort();
            assert!(ids.iter().enumerate().all(|(i, &v)| i as u32 == v));
            distinct.push(x.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
        distinct.sort();
        distinct.dedup();
        // square planes: 8 rotations/reflections in 2D; non-square: the 4 flip combinations
        assert!(
            distinct.len() >= 4,
            "{shape:?}: only {} distinct results",
            distinct.len()
        );
    }
    // cropped too: the labels still travel
    let (image, mask) = tagged(&[20, 16]);
    let cfg = AugmentConfig {
        crop: Some(CropConfig::new(vec![7, 7])),
        ..geometry([0, 1])
    };
    for seed in 0..20 {
        let (x, y) = augment(&image, &mask, &cfg, &mut Rng::new(seed)).unwrap();
        assert_labels_travel_with_intensities(&x, &y);
    }
}

#[test]
fn a_quarter_turn_maps_as_documented() {
    // probability 1 in a square plane: k in {1, 2, 3}; k = 1: out[i, j] = in[j, n - 1 - i]
    let image = array![[[1.0f32, 2.0], [3.0, 4.0]]].into_dyn();
    let mask = array![[1u32, 2], [3, 4]].into_dyn();
    let cfg = AugmentConfig {
        rotate90: Rotate90Config {
            probability: 1.0,
            axes: [0, 1],
        },
        ..AugmentConfig::none()
    };
    let turns = [
        array![[2u32, 4], [1, 3]],
        array![[4u32, 3], [2, 1]],
        array![[3u32, 1], [4, 2]],
    ];
    let mut seen = [false; 3];
    for seed in 0..30 {
        let (x, y) = augment(&image, &mask, &cfg, &mut Rng::new(seed)).unwrap();
        let k = turns
            .iter()
            .position(|t| t.clone().into_dyn() == y)
            .expect("a quarter turn");
        seen[k] = true;
        assert_eq!(x.index_axis(Axis(0), 0).mapv(|v| v as u32), y);
    }
    assert_eq!(seen, [true; 3]);
}

#[test]
fn intensity_steps_leave_the_mask_untouched() {
    let image = random_image(&[3, 12, 10], 5);
    let mask = sparse_mask(&[12, 10], 20, 6);
    let on = |stats| AugmentConfig {
        scale: IntensityConfig {
            probability: 1.0,
            range: (0.5, 2.0),
        },
        shift: IntensityConfig {
            probability: 1.0,
            range: (-1.0, 1.0),
        },
        gamma_inverted: GammaConfig {
            probability: 1.0,
            range: (0.7, 1.5),
            stats,
        },
        gamma: GammaConfig {
            probability: 1.0,
            range: (0.7, 1.5),
            stats,
        },
        ..AugmentConfig::none()
    };
    for seed in 0..10 {
        let (x, y) = augment(&image, &mask, &on(GammaStats::Retain), &mut Rng::new(seed)).unwrap();
        assert_eq!(y, mask);
        assert_ne!(x, image);
        assert!(x.iter().all(|v| v.is_finite()));
    }
    // gamma alone with retained statistics keeps each channel's mean and std (nnU-Net)
    let gamma_only = |stats| AugmentConfig {
        gamma: GammaConfig {
            probability: 1.0,
            range: (0.5, 2.0),
            stats,
        },
        ..AugmentConfig::none()
    };
    let stats = |x: &ArrayD<f32>, c: usize| {
        let ch: Vec<f64> = x
            .index_axis(Axis(0), c)
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let n = ch.len() as f64;
        let mean = ch.iter().sum::<f64>() / n;
        let std = (ch.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let min = ch.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ch.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (mean, std, min, max)
    };
    for seed in 0..5 {
        let (x, y) = augment(
            &image,
            &mask,
            &gamma_only(GammaStats::Retain),
            &mut Rng::new(seed),
        )
        .unwrap();
        assert_eq!(y, mask);
        for c in 0..3 {
            let ((m0, s0, ..), (m1, s1, ..)) = (stats(&image, c), stats(&x, c));
            assert!(
                (m0 - m1).abs() < 1e-5 && (s0 - s1).abs() < 1e-5,
                "{m0} {m1} {s0} {s1}"
            );
        }
        // min-max only: the minimum and maximum stay put
        let (x, _) = augment(
            &image,
            &mask,
            &gamma_only(GammaStats::MinMax),
            &mut Rng::new(seed),
        )
        .unwrap();
        for c in 0..3 {
            let ((.., lo0, hi0), (.., lo1, hi1)) = (stats(&image, c), stats(&x, c));
            assert!(
                (lo0 - lo1).abs() < 1e-6 && (hi0 - hi1).abs() < 1e-5,
                "{lo0} {lo1} {hi0} {hi1}"
            );
        }
    }
    // scale by exactly 2 (range (2, 2)) doubles every value
    let double = AugmentConfig {
        scale: IntensityConfig {
            probability: 1.0,
            range: (2.0, 2.0),
        },
        ..AugmentConfig::none()
    };
    let (x, _) = augment(&image, &mask, &double, &mut Rng::new(0)).unwrap();
    assert_eq!(x, image.mapv(|v| v * 2.0));
    // everything off: the input comes back
    let (x, y) = augment(&image, &mask, &AugmentConfig::none(), &mut Rng::new(0)).unwrap();
    assert_eq!((x, y), (image, mask));
}

#[test]
fn a_patch_bigger_than_the_image_is_padded_with_the_configured_values() {
    // image [2, 3, 4] in a [5, 7] patch: before = floor((5 - 3) / 2) = 1 row, floor((7 - 4) / 2) = 1 column
    let image = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |ix| {
        (1 + ix[0] * 100 + ix[1] * 10 + ix[2]) as f32
    });
    let mask = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |ix| (ix[0] + ix[1]) as u32 % 3);
    let crop = CropConfig {
        ignore_label: Some(255),
        mask_pad: MaskPad::IgnoreLabel,
        image_pad_value: -1.0,
        foreground_fraction: 0.5,
        ..CropConfig::new(vec![5, 7])
    };
    let check = |x: &ArrayD<f32>, y: &ArrayD<u32>| {
        assert_eq!((x.shape(), y.shape()), (&[2, 5, 7][..], &[5, 7][..]));
        for i in 0..5 {
            for j in 0..7 {
                let inside = (1..4).contains(&i) && (1..5).contains(&j);
                if inside {
                    assert_eq!(y[[i, j]], mask[[i - 1, j - 1]]);
                    for c in 0..2 {
                        assert_eq!(x[[c, i, j]], image[[c, i - 1, j - 1]]);
                    }
                } else {
                    assert_eq!(y[[i, j]], 255);
                    assert_eq!((x[[0, i, j]], x[[1, i, j]]), (-1.0, -1.0));
                }
            }
        }
    };
    for seed in 0..10 {
        let (x, y) = random_crop(&image, &mask, &crop, &mut Rng::new(seed)).unwrap();
        check(&x, &y);
    }
    let (x, y) = center_crop(&image, &mask, &crop).unwrap();
    check(&x, &y);
    // the default pads with 0 and label 0
    let (x, y) = center_crop(&image, &mask, &CropConfig::new(vec![5, 7])).unwrap();
    assert_eq!(
        (x[[0, 0, 0]], y[[0, 0]], x[[1, 4, 6]], y[[4, 6]]),
        (0.0, 0, 0.0, 0)
    );

    // one axis cropped, the other padded: [1, 10, 3] in [4, 6] keeps rows o..o+4, pads 1 column before, 2 after
    let image = ArrayD::from_shape_fn(IxDyn(&[1, 10, 3]), |ix| (ix[1] * 3 + ix[2]) as f32 + 1.0);
    let mask = ArrayD::<u32>::ones(IxDyn(&[10, 3]));
    for seed in 0..10 {
        let (x, y) = random_crop(
            &image,
            &mask,
            &CropConfig::new(vec![4, 6]),
            &mut Rng::new(seed),
        )
        .unwrap();
        let row0 = (x[[0, 0, 1]] as usize - 1) / 3;
        assert!(row0 <= 6);
        for i in 0..4 {
            assert_eq!(
                y.index_axis(Axis(0), i).iter().copied().collect::<Vec<_>>(),
                vec![0, 1, 1, 1, 0, 0]
            );
            assert_eq!(x[[0, i, 1]], ((row0 + i) * 3 + 1) as f32);
            assert_eq!((x[[0, i, 0]], x[[0, i, 4]], x[[0, i, 5]]), (0.0, 0.0, 0.0));
        }
    }
}

#[test]
fn center_crop_and_crop_at_are_deterministic() {
    let image = ArrayD::from_shape_fn(IxDyn(&[1, 7, 6]), |ix| (ix[1] * 6 + ix[2]) as f32);
    let mask = ArrayD::<u32>::zeros(IxDyn(&[7, 6]));
    let crop = CropConfig::new(vec![3, 4]);
    // origin trunc((7 - 3) / 2) = 2, trunc((6 - 4) / 2) = 1
    let (x, _) = center_crop(&image, &mask, &crop).unwrap();
    assert_eq!(x[[0, 0, 0]], 13.0);
    let (x2, _) = crop_at(&image, &mask, &[2, 1], &crop).unwrap();
    assert_eq!(x, x2);
    // an origin half outside pads: origin [-1, 4] holds rows -1..2, columns 4..8
    let (x, _) = crop_at(&image, &mask, &[-1, 4], &crop).unwrap();
    assert_eq!(
        x.index_axis(Axis(0), 0)
            .index_axis(Axis(0), 0)
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![0.0; 4]
    );
    assert_eq!(
        x.index_axis(Axis(0), 0)
            .index_axis(Axis(0), 1)
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![4.0, 5.0, 0.0, 0.0]
    );
    assert!(matches!(
        crop_at(&image, &mask, &[7, 0], &crop),
        Err(AugmentError::BadOrigin { .. })
    ));
    assert!(matches!(
        crop_at(&image, &mask, &[0], &crop),
        Err(AugmentError::BadOrigin { .. })
    ));
}

#[test]
fn bad_configs_and_inputs_are_errors_not_panics() {
    let image = random_image(&[1, 8, 8], 0);
    let mask = ArrayD::<u32>::zeros(IxDyn(&[8, 8]));
    let run = |cfg: AugmentConfig| augment(&image, &mask, &cfg, &mut Rng::new(0)).unwrap_err();
    let crop = |c: CropConfig| AugmentConfig {
        crop: Some(c),
        ..AugmentConfig::default()
    };

    let e = run(crop(CropConfig::new(vec![4, 4, 4])));
    assert_eq!(
        e,
        AugmentError::BadPatch {
            patch: vec![4, 4, 4],
            rank: 2
        }
    );
    assert!(matches!(
        run(crop(CropConfig::new(vec![4, 0]))),
        AugmentError::BadPatch { .. }
    ));
    let e = run(crop(CropConfig {
        foreground_fraction: f64::NAN,
        ..CropConfig::new(vec![4, 4])
    }));
    assert!(matches!(
        e,
        AugmentError::BadProbability {
            field: "crop.foreground_fraction",
            ..
        }
    ));
    let e = run(crop(CropConfig {
        mask_pad: MaskPad::IgnoreLabel,
        ..CropConfig::new(vec![4, 4])
    }));
    assert_eq!(e, AugmentError::NoIgnoreLabel);
    let e = run(crop(CropConfig {
        ignore_label: Some(3),
        foreground: ForegroundClasses::Labels(vec![1, 3]),
        ..CropConfig::new(vec![4, 4])
    }));
    assert_eq!(e, AugmentError::IgnoreLabelIsForeground { label: 3 });
    let e = run(crop(CropConfig {
        image_pad_value: f32::NAN,
        ..CropConfig::new(vec![4, 4])
    }));
    assert!(matches!(e, AugmentError::BadPadValue { .. }));

    let e = run(AugmentConfig {
        flip: FlipConfig {
            probability: 1.5,
            axes: FlipAxes::All,
        },
        ..AugmentConfig::default()
    });
    assert_eq!(
        e.to_string(),
        "flip.probability is 1.5; it must be in [0, 1]"
    );
    let e = run(AugmentConfig {
        flip: FlipConfig {
            probability: 0.5,
            axes: FlipAxes::Only(vec![2]),
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadAxis {
            field: "flip.axes",
            ..
        }
    ));
    let e = run(AugmentConfig {
        rotate90: Rotate90Config {
            probability: 0.5,
            axes: [0, 2],
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadAxis {
            field: "rotate90.axes",
            ..
        }
    ));
    let e = run(AugmentConfig {
        rotate90: Rotate90Config {
            probability: 0.5,
            axes: [1, 1],
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadAxis {
            field: "rotate90.axes",
            ..
        }
    ));
    let e = run(AugmentConfig {
        gamma: GammaConfig {
            probability: 0.3,
            range: (0.0, 1.5),
            stats: GammaStats::Retain,
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadRange {
            field: "gamma.range",
            ..
        }
    ));
    let e = run(AugmentConfig {
        scale: IntensityConfig {
            probability: 0.3,
            range: (1.5, 0.5),
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadRange {
            field: "scale.range",
            ..
        }
    ));
    let e = run(AugmentConfig {
        shift: IntensityConfig {
            probability: 0.3,
            range: (0.0, f64::INFINITY),
        },
        ..AugmentConfig::default()
    });
    assert!(matches!(
        e,
        AugmentError::BadRange {
            field: "shift.range",
            ..
        }
    ));

    let cfg = AugmentConfig::default();
    let e = augment(
        &image,
        &ArrayD::<u32>::zeros(IxDyn(&[8, 7])),
        &cfg,
        &mut Rng::new(0),
    )
    .unwrap_err();
    assert!(matches!(e, AugmentError::ShapeMismatch { .. }));
    let e = augment(
        &image,
        &ArrayD::<u32>::zeros(IxDyn(&[])),
        &cfg,
        &mut Rng::new(0),
    )
    .unwrap_err();
    assert_eq!(e, AugmentError::NoSpatialAxes);
    assert!(AugmentConfig::default().validate().is_ok());
}

#[test]
fn configs_read_partial_toml_and_round_trip() {
    // missing fields take the defaults; unknown fields are errors
    let cfg: AugmentConfig = toml::from_str(
        r#"
        crop = { patch = [64, 64], foreground = { labels = [1, 2] } }
        gamma = { probability = 0.5, range = [0.8, 1.2], stats = "min_max" }
        "#,
    )
    .unwrap();
    let crop = cfg.crop.clone().unwrap();
    assert_eq!(crop.foreground_fraction, 0.33);
    assert_eq!(crop.foreground, ForegroundClasses::Labels(vec![1, 2]));
    assert_eq!(cfg.gamma.stats, GammaStats::MinMax);
    assert_eq!(cfg.flip, AugmentConfig::default().flip);
    let text = toml::to_string(&cfg).unwrap();
    assert_eq!(toml::from_str::<AugmentConfig>(&text).unwrap(), cfg);
    let default = AugmentConfig::default();
    let text = toml::to_string(&default).unwrap();
    assert_eq!(toml::from_str::<AugmentConfig>(&text).unwrap(), default);
    assert_eq!(toml::from_str::<AugmentConfig>("").unwrap(), default);
    assert!(toml::from_str::<AugmentConfig>("flip = { probabilty = 0.5 }").is_err());
    assert!(toml::from_str::<AugmentConfig>("crop = { foreground_fraction = 0.5 }").is_err()); // no patch
}
