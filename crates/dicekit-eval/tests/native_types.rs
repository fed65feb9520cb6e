//! A case read in the file's own type and memory order (uint8/uint16 NIfTI stay narrow and
//! column-major) scores exactly as the same maps read as row-major `u32` labels.
use std::path::Path;

use dicekit_data::{Volume, read_label_map, write_label_map_nifti, write_label_map_png};
use dicekit_eval::{EvalOptions, evaluate_files};
use dicekit_metrics::{Convention, evaluate_label_maps, labels_present};
use ndarray::{ArrayD, IxDyn};

fn blocky(shape: &[usize], seed: u64, max: u32) -> ArrayD<u32> {
    let mut s = seed;
    let mut v = 0u32;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        if s.is_multiple_of(6) {
            v = ((s >> 8) % 4) as u32 * (max / 3).max(1);
        }
        v
    })
}

fn expected(
    pred: &Path,
    truth: &Path,
    convention: Convention,
) -> Vec<dicekit_metrics::LabelEvaluation> {
    let (p, t) = (
        read_label_map(pred).unwrap(),
        read_label_map(truth).unwrap(),
    );
    let labels = labels_present(&p.data.view(), &t.data.view());
    evaluate_label_maps(
        &p.data.view(),
        &t.data.view(),
        &t.spacing,
        &labels,
        convention,
        1.5,
    )
    .unwrap()
}

#[test]
fn narrow_and_column_major_maps_score_as_u32_row_major() {
    let dir = std::env::temp_dir().join(format!("dicekit-eval-native-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // uint8, uint16 (label 300), a uint8 prediction against a uint16 reference, 2-D PNG.
    let cases: [(&[usize], u32, u32, &str); 4] = [
        (&[13, 9, 11], 3, 3, "nii.gz"),
        (&[10, 12, 7], 900, 900, "nii"),
        (&[8, 9, 10], 3, 900, "nii.gz"),
        (&[17, 19], 3, 3, "png"),
    ];
    for (i, (shape, pmax, tmax, ext)) in cases.into_iter().enumerate() {
        let spacing = if shape.len() == 3 {
            vec![0.8, 1.1, 2.5]
        } else {
            vec![1.0, 1.0]
        };
        let pred = dir.join(format!("p{i}.{ext}"));
        let truth = dir.join(format!("t{i}.{ext}"));
        for (path, max, seed) in [(&pred, pmax, 5 + i as u64), (&truth, tmax, 99 + i as u64)] {
            let v = Volume::new(blocky(shape, seed, max)).with_spacing(spacing.clone());
            if ext == "png" {
                write_label_map_png(path, &v).unwrap();
            } else {
                write_label_map_nifti(path, &v).unwrap();
            }
        }
        for convention in Convention::ALL {
            let options = EvalOptions {
                convention,
                tolerance: 1.5,
                ..EvalOptions::default()
            };
            let e = evaluate_files(&pred, &truth, &options, |_, _| {}).unwrap();
            assert!(e.failures.is_empty(), "{:?}", e.failures);
            assert_eq!(
                e.results[0].labels,
                expected(&pred, &truth, convention),
                "case {i} {convention:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
