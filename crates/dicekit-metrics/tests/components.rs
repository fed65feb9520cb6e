//! Connected components: property tests against a brute-force breadth-first flood fill (every
//! connectivity, 2D and 3D, C, Fortran, reversed and permuted layouts), and the golden test on
//! the cc3d and panoptica values of `../shared/reference/lesions/` (skipped with a message where
//! that folder is absent, as on a clean clone). Another folder of the same layout:
//! `DICEKIT_LESION_CASES=<dir> cargo test -p dicekit-metrics --test components`.
use std::collections::{HashMap, VecDeque};
use std::path::Path;

use dicekit_metrics::{
    Component, Components, Connectivity, ScanOrder, connected_components, instance_components,
    label_components,
};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, ShapeBuilder, Slice};
use proptest::prelude::*;
use serde_json::Value;

mod common;

/// Row-major strides of `shape`.
fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for a in (0..shape.len().saturating_sub(1)).rev() {
        s[a] = s[a + 1] * shape[a + 1];
    }
    s
}

/// Brute-force components: breadth-first flood fill over the values of `map` in logical
/// row-major order, neighbours as in the definition (every coordinate within 1, at most `k`
/// differing). Returns the component index (0 background, 1.. in row-major first-voxel order)
/// of every voxel in logical row-major order.
fn brute(map: &ArrayViewD<u8>, k: usize) -> Vec<u32> {
    let shape = map.shape().to_vec();
    let nd = shape.len();
    let values: Vec<u8> = map.iter().copied().collect();
    let strides = c_strides(&shape);
    let coords = |mut i: usize| -> Vec<usize> {
        strides
            .iter()
            .map(|&s| {
                let c = i / s;
                i %= s;
                c
            })
            .collect()
    };
    let mut deltas = Vec::new();
    for code in 0..3usize.pow(nd as u32) {
        let d: Vec<isize> = (0..nd)
            .map(|a| ((code / 3usize.pow(a as u32)) % 3) as isize - 1)
            .collect();
        let nz = d.iter().filter(|&&x| x != 0).count();
        if nz >= 1 && nz <= k {
            deltas.push(d);
        }
    }
    let mut out = vec![0u32; values.len()];
    let mut next = 0;
    for start in 0..values.len() {
        if values[start] == 0 || out[start] != 0 {
            continue;
        }
        next += 1;
        out[start] = next;
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            let c = coords(i);
            for d in &deltas {
                let n: Option<Vec<usize>> = (0..nd)
                    .map(|a| {
                        let x = c[a] as isize + d[a];
                        (x >= 0 && (x as usize) < shape[a]).then_some(x as usize)
                    })
                    .collect();
                let Some(n) = n else { continue };
                let j: usize = n.iter().zip(&strides).map(|(a, b)| a * b).sum();
                if values[j] == values[i] && out[j] == 0 {
                    out[j] = next;
                    queue.push_back(j);
                }
            }
        }
    }
    out
}

/// Checks `ours` (ids of the view, any layout) against the brute-force labels `truth`
/// (logical row-major): the same partition, the same sizes, and the summary of every component
/// (size, bounding box, first voxel, label, numbering by first voxel in `order`).
fn check_components(
    map: &ArrayViewD<u8>,
    ours: &Components,
    truth: &[u32],
    order: ScanOrder,
) -> Result<(), String> {
    let shape = map.shape().to_vec();
    if ours.ids.shape() != shape.as_slice() {
        return Err(format!("ids shape {:?}", ours.ids.shape()));
    }
    let ids: Vec<u32> = ours.ids.iter().copied().collect();
    // Same partition: a bijection between our ids and the brute-force ones.
    let (mut fwd, mut back) = (HashMap::new(), HashMap::new());
    for (&a, &b) in ids.iter().zip(truth) {
        if (a == 0) != (b == 0) {
            return Err("background differs".into());
        }
        if a == 0 {
            continue;
        }
        if *fwd.entry(a).or_insert(b) != b || *back.entry(b).or_insert(a) != a {
            return Err(format!("component {a} / brute {b} not one-to-one"));
        }
    }
    let n_truth = truth.iter().copied().max().unwrap_or(0) as usize;
    if ours.len() != n_truth || fwd.len() != n_truth {
        return Err(format!("{} components, brute force {n_truth}", ours.len()));
    }
    // Summaries recomputed from the ids.
    let strides = c_strides(&shape);
    let values: Vec<u8> = map.iter().copied().collect();
    let mut expect: Vec<Option<Component>> = vec![None; ours.len()];
    for (i, &id) in ids.iter().enumerate() {
        if id == 0 {
            continue;
        }
        let c: Vec<usize> = strides.iter().zip(&shape).map(|(s, n)| i / s % n).collect();
        let e = expect[id as usize - 1].get_or_insert_with(|| Component {
            id,
            label: values[i] as u32,
            voxels: 0,
            bbox: dicekit_metrics::BoundingBox {
                min: c.clone(),
                max: c.clone(),
            },
            first: c.clone(),
        });
        e.voxels += 1;
        for a in 0..c.len() {
            e.bbox.min[a] = e.bbox.min[a].min(c[a]);
            e.bbox.max[a] = e.bbox.max[a].max(c[a]);
        }
        let key = |v: &[usize]| -> Vec<usize> {
            match order {
                ScanOrder::RowMajor => v.to_vec(),
                ScanOrder::ColumnMajor => v.iter().rev().copied().collect(),
            }
        };
        if key(&c) < key(&e.first) {
            e.first = c;
        }
    }
    for (i, (c, e)) in ours.components.iter().zip(&expect).enumerate() {
        if Some(c) != e.as_ref() {
            return Err(format!("component {}: {c:?}, expected {e:?}", i + 1));
        }
    }
    // Numbering: ids in the order of their first voxels.
    let firsts: Vec<Vec<usize>> = ours
        .components
        .iter()
        .map(|c| match order {
            ScanOrder::RowMajor => c.first.clone(),
            ScanOrder::ColumnMajor => c.first.iter().rev().copied().collect(),
        })
        .collect();
    if firsts.windows(2).any(|w| w[0] >= w[1]) {
        return Err("not numbered by first voxel".into());
    }
    Ok(())
}

/// The same logical array in several memory layouts: row-major, column-major, every axis
/// reversed (negative strides) of a reversed copy, and axes permuted of a permuted copy.
fn layouts(a: &ArrayD<u8>) -> Vec<ArrayD<u8>> {
    let shape = a.shape().to_vec();
    let mut f = ArrayD::<u8>::zeros(IxDyn(&shape).f());
    f.assign(a);
    let nd = shape.len();
    let mut rev = a.clone();
    for ax in 0..nd {
        rev.invert_axis(Axis(ax));
    }
    let mut flipped = rev.as_standard_layout().into_owned();
    for ax in 0..nd {
        flipped.invert_axis(Axis(ax));
    }
    let perm: Vec<usize> = (0..nd).rev().collect();
    let swapped = a
        .view()
        .permuted_axes(IxDyn(&perm))
        .as_standard_layout()
        .into_owned();
    let back = swapped.permuted_axes(IxDyn(&perm));
    vec![a.clone(), f, flipped, back]
}

fn arb_map() -> impl Strategy<Value = (Vec<usize>, Vec<u8>, usize, u8)> {
    (2usize..=3).prop_flat_map(|nd| {
        // The first axis longer, so that slabs of several planes meet (C layout) and the
        // Fortran layout scans a long last axis.
        let side = if nd == 2 { 1usize..=10 } else { 1usize..=6 };
        (1usize..=24, proptest::collection::vec(side, nd - 1)).prop_flat_map(
            move |(first, rest)| {
                let dims: Vec<usize> = std::iter::once(first).chain(rest).collect();
                let n: usize = dims.iter().product();
                (
                    Just(dims),
                    proptest::collection::vec(
                        prop_oneof![4 => Just(0u8), 3 => Just(1u8), 1 => 2u8..=3],
                        n,
                    ),
                    0usize..3,
                    0u8..2,
                )
            },
        )
    })
}

fn connectivity(nd: usize, pick: usize) -> Connectivity {
    match nd {
        2 => [Connectivity::Four, Connectivity::Eight][pick % 2],
        _ => [
            Connectivity::Six,
            Connectivity::Eighteen,
            Connectivity::TwentySix,
        ][pick],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Label maps (several labels touching): components of equal values, every layout, both
    /// numberings, equal to the flood fill.
    #[test]
    fn components_equal_flood_fill((dims, values, pick, ord) in arb_map()) {
        let a = ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap();
        let conn = connectivity(dims.len(), pick);
        let order = [ScanOrder::RowMajor, ScanOrder::ColumnMajor][ord as usize];
        let truth = brute(&a.view(), conn.max_differing_axes());
        for m in layouts(&a) {
            let ours = connected_components(&m.view(), conn, order).unwrap();
            // The same memory order as the input (strides of unit axes do not matter, and an axis stored backwards is stored forwards).
            for ax in 0..dims.len() {
                prop_assert!(dims[ax] == 1 || ours.ids.strides()[ax] == m.strides()[ax].abs());
            }
            check_components(&m.view(), &ours, &truth, order).map_err(TestCaseError::fail)?;
        }
    }

    /// One label of a label map, and the binary mask as `bool`: the flood fill of the mask.
    #[test]
    fn label_components_equal_flood_fill((dims, values, pick, _o) in arb_map()) {
        let a = ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap();
        let conn = connectivity(dims.len(), pick);
        for label in 1..=3u8 {
            let mask = a.mapv(|v| u8::from(v == label));
            let truth = brute(&mask.view(), conn.max_differing_axes());
            for m in layouts(&a) {
                let ours = label_components(&m.view(), label as u32, conn, ScanOrder::RowMajor).unwrap();
                let mut relabelled = ours.clone();
                for c in &mut relabelled.components {
                    c.label = 1;
                }
                check_components(&mask.view(), &relabelled, &truth, ScanOrder::RowMajor)
                    .map_err(TestCaseError::fail)?;
                prop_assert!(ours.components.iter().all(|c| c.label == label as u32));
                // The multi-label run holds the same components for this label.
                let all = connected_components(&m.view(), conn, ScanOrder::RowMajor).unwrap();
                let mut sizes: Vec<u64> = all.of_label(label as u32).map(|c| c.voxels).collect();
                let mut expect = ours.sizes();
                sizes.sort_unstable();
                expect.sort_unstable();
                prop_assert_eq!(sizes, expect);
            }
            let b = mask.mapv(|v| v == 1);
            let ours = connected_components(&b.view(), conn, ScanOrder::RowMajor).unwrap();
            check_components(&mask.view(), &ours, &truth, ScanOrder::RowMajor)
                .map_err(TestCaseError::fail)?;
        }
    }

    /// Instance maps as given: one summary per id, connected or not.
    #[test]
    fn instances_as_given((dims, values, _p, ord) in arb_map()) {
        let a = ArrayD::from_shape_vec(IxDyn(&dims), values).unwrap().mapv(|v| u16::from(v) * 1000);
        let order = [ScanOrder::RowMajor, ScanOrder::ColumnMajor][ord as usize];
        let f = {
            let mut f = ArrayD::<u16>::zeros(IxDyn(&dims).f());
            f.assign(&a);
            f
        };
        let expected = instance_components(&a.view(), order).unwrap();
        prop_assert_eq!(&instance_components(&f.view(), order).unwrap(), &expected);
        let ids: Vec<u32> = expected.iter().map(|c| c.id).collect();
        let mut present: Vec<u32> = a.iter().filter(|&&v| v != 0).map(|&v| v as u32).collect();
        present.sort_unstable();
        present.dedup();
        prop_assert_eq!(&ids, &present);
        for c in &expected {
            let voxels = a.iter().filter(|&&v| v as u32 == c.id).count() as u64;
            prop_assert_eq!(c.voxels, voxels);
            prop_assert_eq!(c.label, c.id);
            prop_assert_eq!(a[IxDyn(&c.first)] as u32, c.id);
            for (ix, &v) in a.indexed_iter() {
                if v as u32 == c.id {
                    for ax in 0..dims.len() {
                        prop_assert!(c.bbox.min[ax] <= ix[ax] && ix[ax] <= c.bbox.max[ax]);
                    }
                }
            }
        }
    }
}

#[test]
fn connectivity_definitions() {
    for c in Connectivity::ALL {
        assert_eq!(Connectivity::from_neighbours(c.neighbours()), Some(c));
        // An inner voxel of a 3^n block has exactly `neighbours()` neighbours.
        let nd = c.ndim();
        let mut a = ArrayD::<u8>::from_elem(IxDyn(&vec![3; nd]), 0);
        a[IxDyn(&vec![1; nd])] = 1;
        for (ix, v) in a.indexed_iter_mut() {
            let differing = (0..nd).filter(|&ax| ix[ax] != 1).count();
            if differing >= 1 && differing <= c.max_differing_axes() {
                *v = 1;
            }
        }
        assert_eq!(a.iter().filter(|&&v| v == 1).count(), c.neighbours() + 1);
        let cc = connected_components(&a.view(), c, ScanOrder::RowMajor).unwrap();
        assert_eq!(cc.len(), 1);
    }
    assert_eq!(Connectivity::faces(2), Some(Connectivity::Four));
    assert_eq!(Connectivity::full(3), Some(Connectivity::TwentySix));
    let a = ArrayD::<u8>::zeros(IxDyn(&[3, 3]));
    assert!(connected_components(&a.view(), Connectivity::Six, ScanOrder::RowMajor).is_err());
    let a = ArrayD::<u8>::zeros(IxDyn(&[3]));
    assert!(connected_components(&a.view(), Connectivity::Four, ScanOrder::RowMajor).is_err());
    assert!(label_components(&a.view(), 0, Connectivity::Four, ScanOrder::RowMajor).is_err());
}

#[test]
fn strided_views_and_empty_arrays() {
    // Every other row of a larger array: not contiguous, copied internally.
    let big = ArrayD::from_shape_fn(IxDyn(&[8, 7, 5]), |ix| {
        u8::from((ix[0] + ix[1] * ix[2]) % 3 == 0)
    });
    let v = big.slice_axis(Axis(0), Slice::new(0, None, 2));
    let truth = brute(&v, 3);
    let ours = connected_components(&v, Connectivity::TwentySix, ScanOrder::RowMajor).unwrap();
    check_components(&v, &ours, &truth, ScanOrder::RowMajor).unwrap();
    for shape in [vec![0, 4], vec![4, 0, 3], vec![1, 1, 1]] {
        let a = ArrayD::<u8>::zeros(IxDyn(&shape));
        let conn = Connectivity::full(shape.len()).unwrap();
        let cc = connected_components(&a.view(), conn, ScanOrder::RowMajor).unwrap();
        assert!(cc.is_empty());
        assert_eq!(cc.ids.shape(), shape.as_slice());
        assert!(
            instance_components(&a.view(), ScanOrder::RowMajor)
                .unwrap()
                .is_empty()
        );
    }
}

/// A long snake through many slabs: one component, whatever the slab split.
#[test]
fn component_spanning_every_slab() {
    let (n0, n1, n2) = (97, 9, 11);
    let a = ArrayD::from_shape_fn(IxDyn(&[n0, n1, n2]), |ix| {
        // A wall in every plane, joined to the next plane on alternating ends.
        let (i, j, k) = (ix[0], ix[1], ix[2]);
        u8::from(j == 4 || (k == 0 && i % 2 == 0) || (k == n2 - 1 && i % 2 == 1))
    });
    for conn in [Connectivity::Six, Connectivity::TwentySix] {
        let cc = connected_components(&a.view(), conn, ScanOrder::ColumnMajor).unwrap();
        let truth = brute(&a.view(), conn.max_differing_axes());
        check_components(&a.view(), &cc, &truth, ScanOrder::ColumnMajor).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Golden: cc3d and panoptica on ../shared/reference/lesions/.

fn sizes_desc<'a>(cs: impl Iterator<Item = &'a Component>) -> Vec<u64> {
    let mut s: Vec<u64> = cs.map(|c| c.voxels).collect();
    s.sort_unstable_by(|a, b| b.cmp(a));
    s
}

fn expect_counts(what: &str, expected: &Value, ours: &[u64]) -> Result<(), String> {
    let n = expected["n"].as_u64();
    let sizes: Option<Vec<u64>> = expected["sizes"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_u64).collect());
    if n == Some(ours.len() as u64) && sizes.as_deref() == Some(ours) {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected n {n:?} sizes {sizes:?}, dicekit {ours:?}"
        ))
    }
}

#[test]
fn peer_component_cases() {
    for dir in common::lesion_case_dirs("component cases") {
        println!("{}:", dir.display());
        run_dir(&dir);
    }
}

/// Every case, label, connectivity and side of `dir/expected.json` (`cc3d.<conn>.{gt,pred}`),
/// panoptica's instance counts and reference voxel counts, and cc3d's numbering at the FROC
/// candidates; prints `component cases: N passed, M failed, K skipped`.
fn run_dir(dir: &Path) {
    let expected = common::read_expected(dir);
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut record = |name: String, r: Result<(), String>| match r {
        Ok(()) => passed += 1,
        Err(e) => {
            failed += 1;
            failures.push(format!("{name}: {e}"));
        }
    };
    for (name, case) in expected["cases"].as_object().expect("cases") {
        let read = |k: &str| {
            let f = dir.join(case["files"][k].as_str().expect("file name"));
            dicekit_data::read_label_map(&f)
                .unwrap_or_else(|e| panic!("{e}"))
                .data
        };
        let maps = [("gt", read("gt")), ("pred", read("pred"))];
        let nd = maps[0].1.ndim();
        let instance = case["kind"].as_str() == Some("instance");
        for (label, per) in case["per_label"].as_object().expect("per_label") {
            let label: u32 = label.parse().expect("label");
            for (conn, sides) in per["cc3d"].as_object().into_iter().flatten() {
                let Some(c) = conn.parse().ok().and_then(Connectivity::from_neighbours) else {
                    skipped += 2;
                    continue;
                };
                for (side, map) in &maps {
                    let id = format!("{name} label {label} cc3d {conn} {side}");
                    // Instance cases: the foreground; semantic: `map == label`.
                    let mask = if instance {
                        map.mapv(|v| u8::from(v != 0))
                    } else {
                        map.mapv(|v| u8::from(v == label))
                    };
                    let r = connected_components(&mask.view(), c, ScanOrder::ColumnMajor)
                        .map_err(|e| e.to_string())
                        .and_then(|cc| {
                            expect_counts(&id, &sides[side], &sizes_desc(cc.components.iter()))
                        });
                    record(id.clone(), r);
                    if !instance {
                        // The same through the label map: per label and all labels at once.
                        let r = label_components(&map.view(), label, c, ScanOrder::RowMajor)
                            .map_err(|e| e.to_string())
                            .and_then(|cc| {
                                let all = connected_components(&map.view(), c, ScanOrder::RowMajor)
                                    .map_err(|e| e.to_string())?;
                                expect_counts(
                                    &id,
                                    &sides[side],
                                    &sizes_desc(cc.components.iter()),
                                )?;
                                expect_counts(&id, &sides[side], &sizes_desc(all.of_label(label)))
                            });
                        record(format!("{id} (label map)"), r);
                    }
                }
            }
            // panoptica's instances: scipy faces in 2D, cc3d 26 in 3D, or the ids as given.
            let Some(p) = per["panoptica"]["naive_iou_0.5"].as_object() else {
                continue;
            };
            for (side, map) in &maps {
                let id = format!("{name} label {label} panoptica instances {side}");
                let comps: Vec<Component> = if instance {
                    instance_components(&map.view(), ScanOrder::ColumnMajor).expect("instances")
                } else {
                    let c = if nd == 2 {
                        Connectivity::faces(2)
                    } else {
                        Connectivity::full(3)
                    };
                    label_components(
                        &map.view(),
                        label,
                        c.expect("2D or 3D"),
                        ScanOrder::ColumnMajor,
                    )
                    .expect("components")
                    .components
                };
                let key = if *side == "gt" {
                    "n_ref_instances"
                } else {
                    "n_pred_instances"
                };
                let mut r = match p.get(key).and_then(Value::as_u64) {
                    Some(n) if n == comps.len() as u64 => Ok(()),
                    n => Err(format!("{key} {n:?}, dicekit {}", comps.len())),
                };
                if *side == "gt" && r.is_ok() {
                    let mut want: Vec<u64> = p["reference_instances"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|row| row["voxel_count"].as_u64())
                        .collect();
                    want.sort_unstable_by(|a, b| b.cmp(a));
                    let ours = sizes_desc(comps.iter());
                    if want != ours {
                        r = Err(format!("reference voxel counts {want:?}, dicekit {ours:?}"));
                    }
                }
                record(id, r);
            }
        }
        // cc3d's numbering (memory order of nibabel's Fortran arrays = column-major) at the
        // FROC candidates: the lesion id of `gt > 0` under full connectivity.
        if let (Some(cands), Some(lesions)) = (
            case["froc"]["candidates"].as_array(),
            case["froc"]["candidate_lesion"].as_array(),
        ) {
            let id = format!("{name} froc candidate_lesion (cc3d numbering)");
            let gt = maps[0].1.mapv(|v| u8::from(v > 0));
            let c = Connectivity::full(nd).expect("2D or 3D");
            let cc =
                connected_components(&gt.view(), c, ScanOrder::ColumnMajor).expect("components");
            let ours: Vec<u64> = cands
                .iter()
                .map(|cand| {
                    let ix: Vec<usize> = cand.as_array().expect("candidate")[1..]
                        .iter()
                        .map(|v| v.as_u64().expect("index") as usize)
                        .collect();
                    u64::from(cc.ids[IxDyn(&ix)])
                })
                .collect();
            let want: Vec<u64> = lesions.iter().filter_map(Value::as_u64).collect();
            let mut r = if ours == want {
                Ok(())
            } else {
                Err(format!("cc3d ids {want:?}, dicekit {ours:?}"))
            };
            if r.is_ok() && case["froc"]["n_lesions"].as_u64() != Some(cc.len() as u64) {
                r = Err(format!(
                    "n_lesions {}, dicekit {}",
                    case["froc"]["n_lesions"],
                    cc.len()
                ));
            }
            record(id, r);
        }
    }
    println!("component cases: {passed} passed, {failed} failed, {skipped} skipped");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(passed > 0, "no case in {}", dir.display());
}
