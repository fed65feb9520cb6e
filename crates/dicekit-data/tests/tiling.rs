//! Sliding-window tiling and stitching: coverage, peer tile positions, blending weights, exact
//! identity stitching, errors.

use dicekit_data::Rng;
use dicekit_data::tiling::{
    Blending, GAUSSIAN_WEIGHT_FLOOR, Overlap, Stitcher, Tile, TilePlacement, Tiler, TilingError,
};
use ndarray::{ArrayD, IxDyn};

const BLENDINGS: [Blending; 3] = [
    Blending::Gaussian { sigma_scale: 0.125 },
    Blending::Linear,
    Blending::Constant,
];

/// Values of every magnitude and sign, a few exact zeros and one `-0.0`.
fn random_image(shape: &[usize], seed: u64) -> ArrayD<f32> {
    let mut rng = Rng::new(seed);
    let mut x = ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        let scale = 10f64.powi(rng.below(13) as i32 - 6);
        match rng.below(10) {
            0 => 0.0,
            _ => (rng.normal() * scale) as f32,
        }
    });
    if let Some(first) = x.iter_mut().next() {
        *first = -0.0;
    }
    x
}

fn stitch_identity(tiler: &Tiler, image: &ArrayD<f32>) -> Result<ArrayD<f32>, TilingError> {
    let shape = &image.shape()[1..];
    let mut stitcher = Stitcher::new(image.shape()[0], shape, tiler)?;
    for tile in tiler.tiles(shape)? {
        let patch = tiler.extract(image, &tile)?;
        stitcher.add(&tile, &patch)?;
    }
    stitcher.finish()
}

#[test]
fn identity_stitching_is_bit_exact_for_every_shape_blending_and_placement() {
    // 2D patch [4, 5] and 3D patch [3, 4, 2]; shapes smaller than, equal to, and not multiples
    // of the patch, and single voxels
    let cases: [(Vec<usize>, Vec<Vec<usize>>); 2] = [
        (
            vec![4, 5],
            vec![
                vec![1, 1],
                vec![3, 2],
                vec![4, 5],
                vec![5, 5],
                vec![7, 11],
                vec![13, 6],
                vec![2, 9],
            ],
        ),
        (
            vec![3, 4, 2],
            vec![
                vec![1, 1, 1],
                vec![2, 3, 1],
                vec![3, 4, 2],
                vec![5, 7, 3],
                vec![7, 4, 5],
                vec![1, 9, 2],
            ],
        ),
    ];
    let mut checked = 0;
    for (patch, shapes) in &cases {
        let steps = [
            Overlap::Fraction(0.5),
            Overlap::Fraction(0.0),
            Overlap::Step(vec![1; patch.len()]),
            Overlap::Step(patch.iter().map(|&p| (p.div_ceil(2) + 1).min(p)).collect()),
        ];
        for blending in BLENDINGS {
            for overlap in &steps {
                for placement in [TilePlacement::Even, TilePlacement::FixedStep] {
                    let tiler = Tiler::new(patch.clone(), overlap.clone(), blending)
                        .unwrap()
                        .with_placement(placement);
                    for (i, shape) in shapes.iter().enumerate() {
                        let mut full = vec![2];
                        full.extend_from_slice(shape);
                        let image = random_image(&full, 100 + i as u64);
                        let out = stitch_identity(&tiler, &image).unwrap();
                        assert_eq!(out.shape(), image.shape());
                        for (a, b) in out.iter().zip(image.iter()) {
                            assert_eq!(
                                a.to_bits(),
                                b.to_bits(),
                                "{blending:?} {overlap:?} {placement:?} shape {shape:?}: {a} != {b}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * 4 * 2 * (7 + 6));
}

#[test]
fn tiles_cover_every_voxel_and_the_last_tile_ends_at_the_image_end() {
    let tiler = Tiler::new(vec![4, 6], Overlap::Fraction(0.5), Blending::Constant).unwrap();
    for placement in [TilePlacement::Even, TilePlacement::FixedStep] {
        let tiler = tiler.clone().with_placement(placement);
        for shape in [[1usize, 1], [4, 6], [5, 6], [9, 7], [17, 31], [3, 40]] {
            let tiles = tiler.tiles(&shape).unwrap();
            let mut hits = ArrayD::<u32>::zeros(IxDyn(&shape));
            for t in &tiles {
                for a in 0..2 {
                    assert_eq!(t.extent[a], tiler.patch()[a].min(shape[a] - t.origin[a]));
                }
                hits.slice_each_axis_mut(|ad| {
                    let a = ad.axis.index();
                    ndarray::Slice::from(t.origin[a]..t.origin[a] + t.extent[a])
                })
                .mapv_inplace(|h| h + 1);
            }
            assert!(hits.iter().all(|&h| h > 0), "{placement:?} {shape:?}");
            for a in 0..2 {
                let origins = tiler.axis_origins(a, shape[a]);
                let (p, s) = (tiler.patch()[a], tiler.step()[a]);
                assert_eq!(origins[0], 0);
                assert_eq!(*origins.last().unwrap(), shape[a].saturating_sub(p));
                assert!(origins.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] <= s));
                // n = ceil((L - P) / s) + 1 when the image is longer than the patch
                let n = if shape[a] > p {
                    (shape[a] - p).div_ceil(s) + 1
                } else {
                    1
                };
                assert_eq!(origins.len(), n);
            }
            assert_eq!(
                tiles.len(),
                tiler.axis_origins(0, shape[0]).len() * tiler.axis_origins(1, shape[1]).len()
            );
        }
    }
}

#[test]
fn tile_positions_match_nnunet_and_monai() {
    // nnU-Net 2.x compute_steps_for_sliding_window(image_size=(300,), tile_size=(128,),
    // tile_step_size=0.5): target step 64, n = ceil(172 / 64) + 1 = 4, actual step 172 / 3,
    // np.round([0, 57.33, 114.67, 172]) = [0, 57, 115, 172]
    let nnunet = Tiler::new(vec![128], Overlap::Fraction(0.5), Blending::default()).unwrap();
    assert_eq!(nnunet.axis_origins(0, 300), vec![0, 57, 115, 172]);
    // MONAI dense_patch_slices((300,), (128,), scan_interval=(64,)): starts 0, 64, 128,
    // 192 -> min(192, 300 - 128) = 172
    let monai = nnunet.clone().with_placement(TilePlacement::FixedStep);
    assert_eq!(monai.axis_origins(0, 300), vec![0, 64, 128, 172]);
    // a tie: L = 13, P = 8, s = 4: n = 3, 5 / 2 = 2.5, np.round -> 2 (half to even)
    let tie = Tiler::new(vec![8], Overlap::Step(vec![4]), Blending::Constant).unwrap();
    assert_eq!(tie.axis_origins(0, 13), vec![0, 2, 5]);
    assert_eq!(
        tie.with_placement(TilePlacement::FixedStep)
            .axis_origins(0, 13),
        vec![0, 4, 5]
    );
    // a patch longer than the image: one tile at 0; an empty axis: none
    assert_eq!(nnunet.axis_origins(0, 100), vec![0]);
    assert!(nnunet.tiles(&[0]).unwrap().is_empty());
    // Fraction(0.9) on 100: 100 * (1 - 0.9) = 9.999999999999998 in f64, step 10
    let fine = Tiler::new(vec![100], Overlap::Fraction(0.9), Blending::Constant).unwrap();
    assert_eq!(fine.step(), &[10]);
}

#[test]
fn gaussian_weights_are_nnunets_with_a_positive_floor() {
    // patch 8, sigma = 8 / 8 = 1, centre 4: w(i) = exp(-(i - 4)² / 2)
    let tiler = Tiler::new(vec![8], Overlap::Fraction(0.5), Blending::default()).unwrap();
    let w = tiler.weights();
    assert_eq!(w[[4]], 1.0);
    assert!((w[[5]] - (-0.5f64).exp()).abs() < 1e-15);
    assert!((w[[0]] - (-8.0f64).exp()).abs() < 1e-15); // 3.35e-4
    // separable: w(i, j) = w(i) w(j)
    let t2 = Tiler::new(vec![8, 8], Overlap::Fraction(0.5), Blending::default()).unwrap();
    assert!((t2.weights()[[1, 6]] - w[[1]] * w[[6]]).abs() < 1e-15);
    // a tiny sigma underflows; the border is clamped to 2^-24, never 0
    let sharp = Tiler::new(
        vec![64],
        Overlap::Fraction(0.5),
        Blending::Gaussian { sigma_scale: 0.01 },
    )
    .unwrap();
    assert_eq!(sharp.weights()[[0]], GAUSSIAN_WEIGHT_FLOOR);
    assert!(
        sharp
            .weights()
            .iter()
            .all(|&w| (GAUSSIAN_WEIGHT_FLOOR..=1.0).contains(&w))
    );
}

#[test]
fn linear_weights_are_tents_and_strictly_positive() {
    // min(i + 1, P - i) / ceil(P / 2)
    let t4 = Tiler::new(vec![4], Overlap::Fraction(0.5), Blending::Linear).unwrap();
    assert_eq!(
        t4.weights().iter().copied().collect::<Vec<_>>(),
        vec![0.5, 1.0, 1.0, 0.5]
    );
    let t5 = Tiler::new(vec![5], Overlap::Fraction(0.5), Blending::Linear).unwrap();
    let want = [1.0 / 3.0, 2.0 / 3.0, 1.0, 2.0 / 3.0, 1.0 / 3.0];
    for (w, want) in t5.weights().iter().zip(want) {
        assert!((w - want).abs() < 1e-15);
    }
    let t1 = Tiler::new(vec![1, 2], Overlap::Fraction(0.0), Blending::Linear).unwrap();
    assert!(t1.weights().iter().all(|&w| w == 1.0));
}

#[test]
fn overlapping_predictions_are_blended_by_their_weights() {
    // length 6, patch 4, step 2: tiles at 0 and 2; voxels 2 and 3 are in both.
    // Linear weights [0.5, 1, 1, 0.5]: voxel 2 = (1·a + 0.5·b) / 1.5, voxel 3 = (0.5·a + 1·b) / 1.5
    let tiler = Tiler::new(vec![4], Overlap::Step(vec![2]), Blending::Linear).unwrap();
    let tiles = tiler.tiles(&[6]).unwrap();
    assert_eq!(tiles.len(), 2);
    let mut s = Stitcher::new(1, &[6], &tiler).unwrap();
    s.add(&tiles[0], &ArrayD::from_elem(IxDyn(&[1, 4]), 3.0f32))
        .unwrap();
    s.add(&tiles[1], &ArrayD::from_elem(IxDyn(&[1, 4]), 6.0f32))
        .unwrap();
    let out = s.finish().unwrap();
    assert_eq!(
        out.iter().copied().collect::<Vec<_>>(),
        vec![3.0, 3.0, 4.0, 5.0, 6.0, 6.0]
    );
}

#[test]
fn extract_pads_images_smaller_than_the_patch_with_zeros() {
    let image = ArrayD::from_shape_fn(IxDyn(&[1, 2, 3]), |ix| (1 + ix[1] * 3 + ix[2]) as f32);
    let tiler = Tiler::new(vec![3, 4], Overlap::Fraction(0.5), Blending::default()).unwrap();
    let tiles = tiler.tiles(&[2, 3]).unwrap();
    assert_eq!(
        tiles,
        vec![Tile {
            origin: vec![0, 0],
            extent: vec![2, 3]
        }]
    );
    let patch = tiler.extract(&image, &tiles[0]).unwrap();
    let want = ndarray::array![[
        [1.0f32, 2.0, 3.0, 0.0],
        [4.0, 5.0, 6.0, 0.0],
        [0.0, 0.0, 0.0, 0.0]
    ]]
    .into_dyn();
    assert_eq!(patch, want);
    // extra channels of a prediction: K may differ from C
    let mut s = Stitcher::new(3, &[2, 3], &tiler).unwrap();
    s.add(&tiles[0], &ArrayD::from_elem(IxDyn(&[3, 3, 4]), 0.25f32))
        .unwrap();
    assert_eq!(
        s.finish().unwrap(),
        ArrayD::from_elem(IxDyn(&[3, 2, 3]), 0.25f32)
    );
}

#[test]
fn bad_configs_and_inputs_are_errors_not_panics() {
    use TilingError::*;
    let new =
        |patch: Vec<usize>, overlap, blending| Tiler::new(patch, overlap, blending).unwrap_err();
    assert_eq!(
        new(vec![], Overlap::Fraction(0.5), Blending::Linear),
        NoAxes
    );
    assert!(matches!(
        new(vec![4, 0], Overlap::Fraction(0.5), Blending::Linear),
        ZeroPatch { .. }
    ));
    assert!(matches!(
        new(vec![4], Overlap::Fraction(1.0), Blending::Linear),
        BadOverlap { .. }
    ));
    assert!(matches!(
        new(vec![4], Overlap::Fraction(f64::NAN), Blending::Linear),
        BadOverlap { .. }
    ));
    assert!(matches!(
        new(vec![4], Overlap::Step(vec![0]), Blending::Linear),
        ZeroStep { .. }
    ));
    assert!(matches!(
        new(vec![4], Overlap::Step(vec![5]), Blending::Linear),
        StepLargerThanPatch { .. }
    ));
    assert!(matches!(
        new(vec![4], Overlap::Step(vec![2, 2]), Blending::Linear),
        StepRank { .. }
    ));
    let nan = Blending::Gaussian {
        sigma_scale: f64::NAN,
    };
    assert!(matches!(
        new(vec![4], Overlap::Fraction(0.5), nan),
        BadSigma { .. }
    ));
    let zero = Blending::Gaussian { sigma_scale: 0.0 };
    let msg = new(vec![4], Overlap::Fraction(0.5), zero).to_string();
    assert_eq!(msg, "Gaussian sigma_scale is 0; it must be finite and > 0");

    let tiler = Tiler::new(vec![4, 4], Overlap::Fraction(0.5), Blending::default()).unwrap();
    assert!(matches!(
        tiler.tiles(&[8, 8, 8]),
        Err(Rank { what: "shape", .. })
    ));
    let image = ArrayD::<f32>::zeros(IxDyn(&[1, 8, 8]));
    assert!(matches!(
        tiler.extract(
            &ArrayD::<f32>::zeros(IxDyn(&[8, 8])),
            &tiler.tiles(&[8, 8]).unwrap()[0]
        ),
        Err(Rank { what: "image", .. })
    ));
    let outside = Tile {
        origin: vec![6, 0],
        extent: vec![4, 4],
    };
    assert!(matches!(
        tiler.extract(&image, &outside),
        Err(TileOutOfBounds { .. })
    ));
    let mut s = Stitcher::new(2, &[8, 8], &tiler).unwrap();
    let tiles = tiler.tiles(&[8, 8]).unwrap();
    let wrong = ArrayD::<f32>::zeros(IxDyn(&[1, 4, 4]));
    assert!(matches!(
        s.add(&tiles[0], &wrong),
        Err(PredictionShape { .. })
    ));
    assert!(matches!(
        s.add(&outside, &ArrayD::zeros(IxDyn(&[2, 4, 4]))),
        Err(TileOutOfBounds { .. })
    ));
    s.add(&tiles[0], &ArrayD::zeros(IxDyn(&[2, 4, 4]))).unwrap();
    // one tile of 9 added: 64 - 16 voxels have no prediction
    assert_eq!(s.finish().unwrap_err(), Uncovered { voxels: 48 });
}

#[test]
fn tiling_options_read_from_toml() {
    #[derive(serde::Deserialize)]
    struct Window {
        overlap: Overlap,
        blending: Blending,
        placement: TilePlacement,
    }
    let w: Window = toml::from_str(
        "overlap = { fraction = 0.5 }\nblending = { gaussian = { sigma_scale = 0.125 } }\nplacement = \"fixed_step\"",
    )
    .unwrap();
    assert_eq!(
        (w.overlap, w.blending, w.placement),
        (
            Overlap::Fraction(0.5),
            Blending::default(),
            TilePlacement::FixedStep
        )
    );
    let w: Window =
        toml::from_str("overlap = { step = [2, 3] }\nblending = \"linear\"\nplacement = \"even\"")
            .unwrap();
    assert_eq!(
        (w.overlap, w.blending),
        (Overlap::Step(vec![2, 3]), Blending::Linear)
    );
}
