//! Skeletons and clDice: bit-for-bit against scikit-image 0.26 on the golden cases of
//! `tests/golden/skeleton/` (written by `tools/golden/skeleton_cases.py`), and the invariants of
//! thinning against brute force.
//!
//! Run: `cargo test -p dicekit-metrics --test skeleton -- --nocapture`;
//! another folder of case files: `DICEKIT_SKELETON_CASES=<dir> cargo test -p dicekit-metrics
//! --test skeleton golden`.
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use dicekit_metrics::*;
use ndarray::{ArrayD, Dimension, IxDyn};
use proptest::prelude::*;
use serde_json::Value;

const CL_TOL: f64 = 1e-12;

// ------------------------------------------------------------------------------------ golden

/// C-order bits packed most significant first (numpy.packbits), as hex.
fn unpack(hex: &str, shape: &[usize]) -> ArrayD<bool> {
    let nibbles: Vec<u8> = hex
        .bytes()
        .map(|h| (h as char).to_digit(16).expect("hex digit") as u8)
        .collect();
    let n: usize = shape.iter().product();
    let bits = (0..n)
        .map(|i| (nibbles[i / 4] >> (3 - i % 4)) & 1 == 1)
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), bits).unwrap()
}

fn from_indices(v: &Value, shape: &[usize]) -> ArrayD<bool> {
    let n: usize = shape.iter().product();
    let mut bits = vec![false; n];
    for i in v.as_array().expect("index list") {
        bits[i.as_u64().unwrap() as usize] = true;
    }
    ArrayD::from_shape_vec(IxDyn(shape), bits).unwrap()
}

/// The typed result dicekit returns where the reference's clDice is NaN (0 / 0), per case.
fn typed_expectation(name: &str) -> Option<Score> {
    use EmptySide::*;
    Some(match name {
        "2d_empty_both" | "3d_empty_both" => Score::Empty(Both),
        // One side empty: a missed object or a false detection scores 0, as Dice.
        "2d_empty_pred" | "2d_empty_truth" | "3d_empty_pred" => Score::Value(0.0),
        // Both present, no skeleton voxel inside the other mask: Tprec + Tsens = 0.
        "2d_single_pixels_apart" | "3d_single_voxels" => Score::Value(0.0),
        // Present masks whose skeleton scikit-image 0.26 thins away.
        "3d_boxes" => Score::Empty(Reference),
        "3d_skeletonless_pred" => Score::Empty(Prediction),
        _ => return None,
    })
}

fn check_ratio(name: &str, what: &str, ours: Score, reference: &Value) {
    match (ours, reference.as_f64()) {
        (Score::Value(x), Some(r)) => {
            assert!(
                (x - r).abs() <= CL_TOL,
                "{name}: {what} {x} vs scikit-image {r}"
            )
        }
        (Score::Empty(_), None) => {}
        // The reference divides a 0 count by a non-empty skeleton where dicekit reports an empty
        // mask (Tsens of an empty prediction is 0 there too).
        (Score::Value(x), None) => panic!("{name}: {what} {x}, reference NaN"),
        (Score::Empty(side), Some(r)) => {
            assert_eq!(r, 0.0, "{name}: {what} Empty({side:?}) vs scikit-image {r}")
        }
    }
}

#[test]
fn golden_skeletons_and_cl_dice_equal_scikit_image() {
    let other = std::env::var_os("DICEKIT_SKELETON_CASES").map(PathBuf::from);
    let at_least = if other.is_some() { 1 } else { 20 };
    let dir = other
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/skeleton"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= at_least, "only {} golden cases", files.len());
    let (mut voxels, mut values) = (0usize, 0usize);
    for path in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = case["name"].as_str().unwrap();
        assert!(
            case["versions"]["scikit-image"]
                .as_str()
                .unwrap()
                .starts_with("0.26"),
            "{name}: generated with another scikit-image"
        );
        let shape: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let pred = unpack(case["pred"].as_str().unwrap(), &shape);
        let truth = unpack(case["truth"].as_str().unwrap(), &shape);
        for (side, mask, key) in [
            ("pred", &pred, "pred_skeleton"),
            ("truth", &truth, "truth_skeleton"),
        ] {
            let ours = skeletonize(&mask.view()).unwrap();
            let expected = from_indices(&case[key], &shape);
            let differ = ours.iter().zip(&expected).filter(|(a, b)| a != b).count();
            assert_eq!(
                differ, 0,
                "{name}: {side} skeleton differs from scikit-image at {differ} voxels"
            );
            voxels += mask.len();
        }
        let counts = CentrelineCounts::from_masks(&pred.view(), &truth.view()).unwrap();
        check_ratio(name, "Tprec", counts.topology_precision(), &case["tprec"]);
        check_ratio(name, "Tsens", counts.topology_sensitivity(), &case["tsens"]);
        let ours = cl_dice(&pred.view(), &truth.view()).unwrap();
        assert_eq!(ours, counts.cl_dice());
        match (case["cl_dice"].as_f64(), typed_expectation(name)) {
            (Some(r), None) => {
                let x = ours
                    .value()
                    .unwrap_or_else(|| panic!("{name}: {ours:?} vs {r}"));
                assert!(
                    (x - r).abs() <= CL_TOL,
                    "{name}: clDice {x} vs reference {r}"
                );
                values += 1;
            }
            (None, Some(typed)) => assert_eq!(ours, typed, "{name}"),
            (r, t) => panic!("{name}: reference {r:?}, typed expectation {t:?}"),
        }
    }
    println!(
        "{} cases, {voxels} voxels thinned like scikit-image, {values} clDice values",
        files.len()
    );
}

// ----------------------------------------------------------------------- brute-force helpers

/// Neighbour offsets of a `nd`-dimensional point (all of the 3^nd - 1).
fn offsets(nd: usize) -> Vec<Vec<isize>> {
    (0..3usize.pow(nd as u32))
        .map(|k| {
            (0..nd)
                .map(|a| (k / 3usize.pow(a as u32) % 3) as isize - 1)
                .collect()
        })
        .filter(|o: &Vec<isize>| o.iter().any(|&x| x != 0))
        .collect()
}

fn shifted(i: &[usize], o: &[isize], shape: &[usize]) -> Option<Vec<usize>> {
    i.iter()
        .zip(o)
        .zip(shape)
        .map(|((&x, &d), &n)| {
            let y = x as isize + d;
            (0..n as isize).contains(&y).then_some(y as usize)
        })
        .collect()
}

/// Labels of the 8- (2D) or 26-connected (3D) components, 0 for background, by BFS.
fn components(m: &ArrayD<bool>) -> (ArrayD<usize>, usize) {
    let shape = m.shape().to_vec();
    let nbrs = offsets(m.ndim());
    let mut label = ArrayD::<usize>::zeros(IxDyn(&shape));
    let mut n = 0;
    for (start, &v) in m.indexed_iter() {
        let start = start.slice().to_vec();
        if !v || label[start.as_slice()] != 0 {
            continue;
        }
        n += 1;
        label[start.as_slice()] = n;
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            for o in &nbrs {
                if let Some(j) = shifted(&i, o, &shape)
                    && m[j.as_slice()]
                    && label[j.as_slice()] == 0
                {
                    label[j.as_slice()] = n;
                    queue.push_back(j);
                }
            }
        }
    }
    (label, n)
}

/// Euler characteristic of the union of the closed unit cubes of `voxels` (26-connected
/// foreground, 6-connected background), by counting every cell once: a cell is a point of the
/// doubled grid, of dimension the number of its odd coordinates.
fn euler_characteristic(voxels: &[[i32; 3]]) -> i32 {
    let mut cells = std::collections::HashSet::new();
    for v in voxels {
        for a in 0..3 {
            for b in 0..3 {
                for c in 0..3 {
                    cells.insert([2 * v[0] + a, 2 * v[1] + b, 2 * v[2] + c]);
                }
            }
        }
    }
    cells
        .iter()
        .map(|c| {
            if c.iter().filter(|&&x| x % 2 != 0).count() % 2 == 0 {
                1
            } else {
                -1
            }
        })
        .sum()
}

/// Lee et al. thinning as scikit-image 0.26 runs it, from the definitions: full raster scans,
/// the Euler characteristic of the 3x3x3 neighbourhood counted cell by cell, simplicity by BFS.
fn brute_lee(mask: &ArrayD<bool>) -> ArrayD<bool> {
    let shape = mask.shape().to_vec();
    let mut img = mask.clone();
    let get = |img: &ArrayD<bool>, i: &[usize], o: &[isize]| -> bool {
        shifted(i, o, &shape).is_some_and(|j| img[j.as_slice()])
    };
    let nbrs = offsets(3);
    let neighbours = |img: &ArrayD<bool>, i: &[usize]| -> Vec<[i32; 3]> {
        nbrs.iter()
            .filter(|o| get(img, i, o))
            .map(|o| [o[0] as i32, o[1] as i32, o[2] as i32])
            .collect()
    };
    let simple = |n: &[[i32; 3]]| -> bool {
        if n.is_empty() {
            return true;
        }
        let mut seen = vec![false; n.len()];
        seen[0] = true;
        let mut stack = vec![0];
        while let Some(k) = stack.pop() {
            for l in 0..n.len() {
                if !seen[l] && (0..3).all(|a| (n[k][a] - n[l][a]).abs() <= 1) {
                    seen[l] = true;
                    stack.push(l);
                }
            }
        }
        seen.iter().all(|&s| s)
    };
    let euler_invariant = |n: &[[i32; 3]]| -> bool {
        let mut with = n.to_vec();
        with.push([0, 0, 0]);
        euler_characteristic(&with) == euler_characteristic(n)
    };
    let directions: Vec<[isize; 3]> = vec![
        [0, -1, 0],
        [0, 1, 0],
        [0, 0, 1],
        [0, 0, -1],
        [1, 0, 0],
        [-1, 0, 0],
    ];
    let used = if shape[0] == 1 { 4 } else { 6 };
    loop {
        let mut unchanged = 0;
        for dir in &directions[..used] {
            let mut candidates = Vec::new();
            for (i, &v) in img.indexed_iter() {
                let i = i.slice().to_vec();
                if !v || get(&img, &i, dir) {
                    continue;
                }
                let n = neighbours(&img, &i);
                if n.len() != 1 && euler_invariant(&n) && simple(&n) {
                    candidates.push(i);
                }
            }
            let mut changed = false;
            for i in candidates {
                if simple(&neighbours(&img, &i)) {
                    img[i.as_slice()] = false;
                    changed = true;
                }
            }
            if !changed {
                unchanged += 1;
            }
        }
        if unchanged == used {
            return img;
        }
    }
}

// -------------------------------------------------------------------------------- properties

fn arb_mask(max2: usize, max3: usize) -> impl Strategy<Value = ArrayD<bool>> {
    prop_oneof![
        (1..=max2, 1..=max2).prop_map(|(a, b)| vec![a, b]),
        (1..=max3, 1..=max3, 1..=max3).prop_map(|(a, b, c)| vec![a, b, c]),
    ]
    .prop_flat_map(|dims| {
        let n: usize = dims.iter().product();
        (Just(dims), 0.2f64..0.95).prop_flat_map(move |(dims, p)| {
            proptest::collection::vec(proptest::bool::weighted(p), n)
                .prop_map(move |bits| ArrayD::from_shape_vec(IxDyn(&dims), bits).unwrap())
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn skeleton_is_a_fixed_subset_of_the_mask(m in arb_mask(18, 8)) {
        let s = skeletonize(&m.view()).unwrap();
        prop_assert!(s.iter().zip(&m).all(|(&s, &m)| !s || m), "skeleton outside the mask");
        let again = skeletonize(&s.view()).unwrap();
        prop_assert_eq!(again, s, "thinning the skeleton changed it");
    }

    #[test]
    fn skeleton_never_splits_a_component(m in arb_mask(18, 8)) {
        let s = skeletonize(&m.view()).unwrap();
        let (mask_label, n_mask) = components(&m);
        let (skel_label, n_skel) = components(&s);
        // Each skeleton component lies in one mask component, and no two share one.
        let mut owner = vec![0usize; n_skel + 1];
        for (&sl, &ml) in skel_label.iter().zip(&mask_label) {
            if sl != 0 {
                prop_assert!(owner[sl] == 0 || owner[sl] == ml);
                owner[sl] = ml;
            }
        }
        let mut owners = owner[1..].to_vec();
        owners.sort_unstable();
        owners.dedup();
        prop_assert_eq!(owners.len(), n_skel, "a mask component holds two skeleton components");
        if m.ndim() == 2 {
            // Zhang-Suen keeps every 8-connected component.
            prop_assert_eq!(n_skel, n_mask, "2D component count changed");
        } else {
            // Lee as in scikit-image 0.26 may erase a component, never add one.
            prop_assert!(n_skel <= n_mask);
        }
    }

    #[test]
    fn lee_thinning_equals_brute_force(m in arb_mask(1, 7).prop_filter("3D", |m| m.ndim() == 3)) {
        let fast = skeletonize(&m.view()).unwrap();
        let slow = brute_lee(&m);
        prop_assert_eq!(fast, slow);
    }
}

#[test]
fn blobs_erased_by_scikit_image_0_26_lose_their_component() {
    // scikit-image issue #3757: a 2x2x2 cube and a rod of 4x4 cross-section thin away.
    let mut m = ArrayD::from_elem(IxDyn(&[6, 6, 16]), false);
    for p in 1..3 {
        for r in 1..3 {
            for c in 1..3 {
                m[[p, r, c]] = true;
            }
        }
    }
    for p in 1..5 {
        for r in 1..5 {
            for c in 5..16 {
                m[[p, r, c]] = true;
            }
        }
    }
    assert_eq!(components(&m).1, 2);
    assert!(!skeletonize(&m.view()).unwrap().iter().any(|&v| v));
}
