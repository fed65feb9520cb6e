//! Dataset descriptions, loaders and pair checks: the three shared datasets (when
//! `<repo>/../shared/data` or `$DICEKIT_DATA_ROOT` exists) and small generated datasets with
//! every kind of bad input.

use std::path::{Path, PathBuf};

use dicekit_data::dataset::{
    DatasetDescription, Loader, Split, check_pair, load_folders, load_split_file,
};
use dicekit_data::image::{PngDepth, write_image_png};
use dicekit_data::mask::{MaskDecoding, UnknownColour};
use dicekit_data::{DataErrorKind, Volume, write_label_map_png};
use ndarray::{Array2, Array3};

/// The workspace root (the folder holding the workspace Cargo.toml).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn description(name: &str) -> DatasetDescription {
    DatasetDescription::read(&repo().join("datasets").join(format!("{name}.toml"))).unwrap()
}

/// The folder holding the shared datasets, if there is one.
fn shared_data() -> Option<PathBuf> {
    let dir = match std::env::var_os("DICEKIT_DATA_ROOT").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => repo().join("../shared/data"),
    };
    dir.is_dir().then_some(dir)
}

/// A fresh temporary folder for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dicekit-datasets-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gray_png(path: &Path, h: usize, w: usize, value: f32) {
    let v = Volume::channels_first(Array3::from_elem((1, h, w), value).into_dyn());
    write_image_png(path, &v, PngDepth::Eight).unwrap();
}

fn rgb_png(path: &Path, pixels: &[[[u8; 3]; 2]]) {
    let h = pixels.len();
    let v = Volume::channels_first(
        Array3::from_shape_fn((3, h, 2), |(c, y, x)| f32::from(pixels[y][x][c])).into_dyn(),
    );
    write_image_png(path, &v, PngDepth::Eight).unwrap();
}

#[test]
fn shipped_descriptions_parse_and_validate() {
    let chase = description("chase_db1");
    assert_eq!(chase.classes, ["background", "vessel"]);
    assert_eq!(
        chase.mask,
        MaskDecoding::Threshold {
            threshold: 0.5,
            channel: 0
        }
    );
    let kvasir = description("kvasir_seg");
    assert_eq!(
        kvasir.mask,
        MaskDecoding::Threshold {
            threshold: 127.0,
            channel: 0
        }
    );
    let dubai = description("dubai_aerial");
    assert_eq!(
        dubai.classes,
        [
            "Building",
            "Land",
            "Road",
            "Vegetation",
            "Water",
            "Unlabeled"
        ]
    );
    assert_eq!(dubai.ignore_label, Some(255));
    match &dubai.mask {
        MaskDecoding::ColourTable { colours, unknown } => {
            assert_eq!(colours.len(), 7);
            assert_eq!(colours[0], ([0x3C, 0x10, 0x98], 0));
            assert_eq!(colours[6], ([0, 0, 0], 255));
            assert_eq!(*unknown, UnknownColour::Error);
        }
        other => panic!("{other:?}"),
    }
    for d in [chase, kvasir, dubai] {
        assert_eq!(
            d.loader,
            Loader::SplitFile {
                path: "splits.csv".into()
            }
        );
        if std::env::var_os("DICEKIT_DATA_ROOT").is_none() {
            // ../shared/data/<name> against the repository root.
            let root = d.root_folder(None);
            let want = std::fs::canonicalize(repo())
                .unwrap()
                .join("../shared/data")
                .join(&d.name);
            assert_eq!(root, want);
        }
    }
}

#[test]
fn shared_datasets_load_with_readme_counts_and_pairs_decode() {
    let Some(data) = shared_data() else {
        println!("skipped: ../shared/data not found");
        return;
    };
    // (name, train, val, ids of the two items decoded)
    let cases = [
        ("chase_db1", 16, 4, ["Image_01L", "Image_09R"]),
        (
            "kvasir_seg",
            600,
            150,
            ["cju0qkwl35piu0993l0dewei2", "cju0qoxqj9q6s0835b43399p4"],
        ),
        // Tile 1 is RGB, Tile 2 palette; both small.
        (
            "dubai_aerial",
            48,
            8,
            [
                "Tile 1/images/image_part_001",
                "Tile 2/images/image_part_007",
            ],
        ),
    ];
    for (name, train, val, decode) in cases {
        let d = description(name);
        // Through the generic root rule: $DICEKIT_DATA_ROOT/<name> or ../shared/data/<name>.
        let ds = d.load(None).unwrap();
        assert_eq!(ds.name, name);
        assert_eq!(
            (
                ds.count(Split::Train),
                ds.count(Split::Val),
                ds.count(Split::Test)
            ),
            (train, val, 0),
            "{name}"
        );
        assert!(ds.items[0].image.starts_with(data.join(name)) || ds.items[0].image.is_file());
        for id in decode {
            let item =
                ds.items.iter().find(|i| i.id == id).unwrap_or_else(|| {
                    panic!("{name}: no item {id}; first ids {:?}", &ds.items[..2])
                });
            let (image, mask) = d.read_pair(item).unwrap();
            assert_eq!(image.channels(), 3, "{id}");
            assert_eq!(image.spatial_shape(), mask.shape(), "{id}");
            assert_eq!(mask.spacing, vec![1.0, 1.0]);
            let classes = d.classes.len() as u32;
            assert!(
                mask.data
                    .iter()
                    .all(|&l| l < classes || Some(l) == d.ignore_label),
                "{id}"
            );
            let foreground = mask.data.iter().filter(|&&l| l == 1).count() as f64;
            assert!(foreground > 0.0, "{name} {id}: no label 1");
        }
    }
    // The folder loader finds the same CHASE_DB1 pairs by name (image stem + `_1stHO`).
    let chase = data.join("chase_db1/CHASEDB_1/training");
    let ds = load_folders(
        "chase_db1",
        &chase.join("images"),
        &chase.join("mask"),
        "_1stHO",
        Split::Train,
    )
    .unwrap();
    assert_eq!(ds.items.len(), 20);
    assert_eq!(ds.items[0].id, "Image_01L");
    check_pair(&ds.items[0]).unwrap();
}

/// Decodes every mask of the three datasets (slow in debug builds; run with `--ignored`).
#[test]
#[ignore]
fn shared_datasets_every_pair_decodes() {
    let Some(_) = shared_data() else {
        println!("skipped: ../shared/data not found");
        return;
    };
    for name in ["chase_db1", "dubai_aerial", "kvasir_seg"] {
        let d = description(name);
        let ds = d.load(None).unwrap();
        let mut counts = vec![0u64; 256];
        for item in &ds.items {
            let (_, mask) = d.read_pair(item).unwrap();
            for &l in &mask.data {
                counts[l as usize] += 1;
            }
        }
        let total: u64 = counts.iter().sum();
        let fractions: Vec<(usize, f64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(l, &c)| (l, 100.0 * c as f64 / total as f64))
            .collect();
        println!("{name}: {} pairs, label %: {fractions:.2?}", ds.items.len());
    }
}

#[test]
fn folder_pairs_unmatched_names_are_listed() {
    let dir = temp_dir("unmatched");
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::create_dir_all(dir.join("masks")).unwrap();
    for id in ["a", "b", "c"] {
        gray_png(&dir.join(format!("images/{id}.png")), 2, 2, 0.0);
    }
    for id in ["a", "b", "z"] {
        gray_png(&dir.join(format!("masks/{id}_gt.png")), 2, 2, 0.0);
    }
    gray_png(&dir.join("masks/b.png"), 2, 2, 0.0); // no suffix
    let err = load_folders(
        "t",
        &dir.join("images"),
        &dir.join("masks"),
        "_gt",
        Split::Val,
    )
    .unwrap_err();
    assert!(matches!(err.kind(), DataErrorKind::Dataset(_)));
    assert_eq!(err.path(), dir.join("images"));
    let msg = err.to_string();
    assert!(msg.contains("1 image without a mask"), "{msg}");
    assert!(msg.contains("c.png"), "{msg}");
    assert!(
        msg.contains("2 masks without an image: z_gt.png, b.png"),
        "{msg}"
    );

    std::fs::remove_file(dir.join("images/c.png")).unwrap();
    std::fs::remove_file(dir.join("masks/z_gt.png")).unwrap();
    std::fs::remove_file(dir.join("masks/b.png")).unwrap();
    std::fs::write(dir.join("masks/notes.txt"), "not an image").unwrap();
    let ds = load_folders(
        "t",
        &dir.join("images"),
        &dir.join("masks"),
        "_gt",
        Split::Val,
    )
    .unwrap();
    let ids: Vec<_> = ds.items.iter().map(|i| (i.id.as_str(), i.split)).collect();
    assert_eq!(ids, [("a", Split::Val), ("b", Split::Val)]);
}

#[test]
fn folder_pairs_in_one_folder_and_mixed_extensions() {
    let dir = temp_dir("one-folder");
    gray_png(&dir.join("x.png"), 2, 2, 0.0);
    gray_png(&dir.join("x_mask.png"), 2, 2, 0.0);
    write_label_map_png(
        &dir.join("y_mask.PNG"),
        &Volume::new(Array2::<u32>::zeros((2, 2)).into_dyn()),
    )
    .unwrap();
    std::fs::copy(dir.join("x.png"), dir.join("y.tif")).unwrap(); // content does not matter here
    let ds = load_folders("t", &dir, &dir, "_mask", Split::Train).unwrap();
    let names: Vec<_> = ds
        .items
        .iter()
        .map(|i| (i.id.clone(), i.mask.file_name().unwrap().to_owned()))
        .collect();
    assert_eq!(
        names,
        [
            ("x".to_string(), "x_mask.png".into()),
            ("y".to_string(), "y_mask.PNG".into())
        ]
    );
}

#[test]
fn folder_with_two_images_of_one_name_is_an_error() {
    let dir = temp_dir("same-stem");
    std::fs::create_dir_all(dir.join("m")).unwrap();
    gray_png(&dir.join("a.png"), 2, 2, 0.0);
    std::fs::write(dir.join("a.jpg"), b"").unwrap();
    let err = load_folders("t", &dir, &dir.join("m"), "", Split::Train).unwrap_err();
    assert!(err.to_string().contains("same name `a`"), "{err}");
}

#[test]
fn split_file_missing_files_bad_rows_and_duplicates_are_errors() {
    let dir = temp_dir("split-file");
    gray_png(&dir.join("a.png"), 2, 2, 0.0);
    gray_png(&dir.join("a_m.png"), 2, 2, 0.0);
    let list = dir.join("splits.csv");
    let load = |text: &str| {
        std::fs::write(&list, text).unwrap();
        load_split_file("t", &dir, &list)
    };
    let ok = load("split,image,mask\ntest,a.png,a_m.png\n").unwrap();
    assert_eq!(ok.items[0].split, Split::Test);
    assert_eq!(ok.items[0].id, "a");

    let cases = [
        ("", "empty split file"),
        ("image,mask\na.png,a_m.png\n", "line 1: header"),
        ("image,mask,split,extra\n", "line 1: header"),
        ("image,mask,split\na.png,a_m.png\n", "line 2: 2 fields"),
        (
            "image,mask,split\na.png,a_m.png,training\n",
            "line 2: split `training`",
        ),
        ("image,mask,split\n,a_m.png,train\n", "line 2: empty"),
        (
            "image,mask,split\n\"a.png,a_m.png,train\n",
            "line 2: a quoted field is not closed",
        ),
        (
            "image,mask,split\na.png,a_m.png,train\nb.png,b_m.png,val\nc.png,a_m.png,val\n",
            "3 listed files are not found",
        ),
        (
            "image,mask,split\na.png,a_m.png,train\na.png,a_m.png,val\n",
            "listed on line 2 and again on line 3",
        ),
    ];
    for (text, want) in cases {
        let err = load(text).unwrap_err();
        assert_eq!(err.path(), list, "{text:?}");
        assert!(err.to_string().contains(want), "{text:?}: {err}");
    }
    let err = load("image,mask,split\nb.png,b_m.png,val\n").unwrap_err();
    assert!(err.to_string().ends_with("b.png, b_m.png"), "{err}");
}

#[test]
fn description_unknown_keys_and_bad_values_are_errors_naming_the_file() {
    let dir = temp_dir("descriptions");
    let base = "name = \"t\"\nclasses = [\"bg\", \"fg\"]\n";
    let loader = "[loader]\nkind = \"split_file\"\npath = \"s.csv\"\n";
    let cases = [
        (
            format!("{base}colour = 1\n{loader}[mask]\nkind = \"labels\"\n"),
            "unknown field `colour`",
        ),
        (
            format!("{base}{loader}extra = 1\n[mask]\nkind = \"labels\"\n"),
            "unknown field `extra`",
        ),
        (
            format!("{base}{loader}[mask]\nkind = \"threshold\"\nthreshold = 1.0\nchanel = 1\n"),
            "unknown field `chanel`",
        ),
        (format!("{base}{loader}"), "missing field `mask`"),
        (
            format!("{base}{loader}[mask]\nkind = \"labels\"\n").replace("\"t\"", "\"../t\""),
            "name `../t`",
        ),
        (
            format!("{base}ignore_label = 1\n{loader}[mask]\nkind = \"labels\"\n"),
            "ignore_label 1 is also class `fg`",
        ),
        (
            format!(
                "{base}{loader}[mask]\nkind = \"colour_table\"\nunknown = {{ ignore = 255 }}\ncolours = [{{ colour = \"#000000\", label = 0 }}]\n"
            ),
            "gives label 255",
        ),
        (
            format!(
                "{base}{loader}[mask]\nkind = \"colour_table\"\nunknown = \"error\"\ncolours = [{{ colour = \"#00000\", label = 0 }}]\n"
            ),
            "is not written #RRGGBB",
        ),
        (
            format!("{base}{loader}[mask]\nkind = labels\n"),
            "line 7, column 8",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.join(format!("d{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let err = DatasetDescription::read(&path).unwrap_err();
        assert!(matches!(err.kind(), DataErrorKind::Format(_)), "{err}");
        let msg = err.to_string();
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
        assert!(msg.contains(want), "{text}\n=> {msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

#[test]
fn description_root_is_relative_to_the_repository_root() {
    // A fake repository: <dir>/repo/Cargo.toml with [workspace], description in repo/datasets.
    let dir = temp_dir("root-rule");
    std::fs::create_dir_all(dir.join("repo/datasets")).unwrap();
    std::fs::write(dir.join("repo/Cargo.toml"), "[workspace]\nmembers = []\n").unwrap();
    let text = "name = \"toy\"\nclasses = [\"bg\", \"fg\"]\n[loader]\nkind = \"split_file\"\npath = \"s.csv\"\n[mask]\nkind = \"labels\"\n";
    std::fs::write(dir.join("repo/datasets/toy.toml"), text).unwrap();
    let d = DatasetDescription::read(&dir.join("repo/datasets/toy.toml")).unwrap();
    let canon = std::fs::canonicalize(&dir).unwrap();
    if std::env::var_os("DICEKIT_DATA_ROOT").is_none() {
        assert_eq!(d.root_folder(None), canon.join("repo/../shared/data/toy"));
    }
    assert_eq!(
        d.root_folder(Some(Path::new("/x/toy"))),
        Path::new("/x/toy")
    );
    // Outside any workspace: against the description's own folder.
    std::fs::write(
        dir.join("toy.toml"),
        text.replace("name", "root = \"data\"\nname"),
    )
    .unwrap();
    let d = DatasetDescription::read(&dir.join("toy.toml")).unwrap();
    if std::env::var_os("DICEKIT_DATA_ROOT").is_none() && dicekit_root_free(&canon) {
        assert_eq!(d.root_folder(None), canon.join("data"));
    }
}

/// Whether no folder above `dir` is a Cargo workspace (true for the system temp folder).
fn dicekit_root_free(dir: &Path) -> bool {
    dir.ancestors().skip(1).all(|a| {
        std::fs::read_to_string(a.join("Cargo.toml"))
            .map(|m| !m.lines().any(|l| l.trim() == "[workspace]"))
            .unwrap_or(true)
    })
}

/// A one-pair dataset in `dir` with the given mask, described with `mask` decoding.
fn one_pair(
    dir: &Path,
    mask_toml: &str,
    ignore: &str,
) -> (DatasetDescription, dicekit_data::dataset::Dataset) {
    std::fs::write(
        dir.join("s.csv"),
        "image,mask,split\nimg.png,mask.png,train\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("d.toml"),
        format!(
            "name = \"t\"\nroot = \".\"\nclasses = [\"a\", \"b\", \"c\"]\n{ignore}[loader]\nkind = \"split_file\"\npath = \"s.csv\"\n[mask]\n{mask_toml}"
        ),
    )
    .unwrap();
    let d = DatasetDescription::read(&dir.join("d.toml")).unwrap();
    let ds = d.load(Some(dir)).unwrap();
    (d, ds)
}

#[test]
fn mask_labels_outside_the_class_table_are_errors() {
    let dir = temp_dir("out-of-table");
    gray_png(&dir.join("img.png"), 2, 3, 7.0);
    let labels = Volume::new(ndarray::array![[0u32, 1, 2], [255, 3, 0]].into_dyn());
    write_label_map_png(&dir.join("mask.png"), &labels).unwrap();
    let (d, ds) = one_pair(&dir, "kind = \"labels\"\n", "ignore_label = 255\n");
    let err = d.read_pair(&ds.items[0]).unwrap_err();
    assert_eq!(err.path(), dir.join("mask.png"));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: voxel [1, 1] holds label 3, outside the class table (classes 0 to 2, ignore label 255)",
            dir.join("mask.png").display()
        )
    );
    // Without the ignore label, 255 is the first offender.
    let (d, ds) = one_pair(&dir, "kind = \"labels\"\n", "");
    let err = d.read_pair(&ds.items[0]).unwrap_err();
    assert!(
        matches!(err.kind(), DataErrorKind::LabelOutOfRange { label: 255, index, .. } if index == &vec![1, 0]),
        "{err}"
    );
}

#[test]
fn unknown_mask_colour_names_file_colour_and_pixel() {
    let dir = temp_dir("unknown-colour");
    gray_png(&dir.join("img.png"), 2, 2, 0.0);
    rgb_png(
        &dir.join("mask.png"),
        &[[[60, 16, 152], [60, 16, 152]], [[60, 16, 152], [1, 2, 250]]],
    );
    let table = "kind = \"colour_table\"\nunknown = \"error\"\ncolours = [{ colour = \"#3C1098\", label = 0 }]\n";
    let (d, ds) = one_pair(&dir, table, "");
    let err = d.read_pair(&ds.items[0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: pixel [1, 1] has colour #0102FA, which is not in the colour table",
            dir.join("mask.png").display()
        )
    );
    let ignore = table.replace("\"error\"", "{ ignore = 9 }");
    let (d, ds) = one_pair(&dir, &ignore, "ignore_label = 9\n");
    let (_, mask) = d.read_pair(&ds.items[0]).unwrap();
    assert_eq!(mask.data, ndarray::array![[0u32, 0], [0, 9]].into_dyn());
}

#[test]
fn image_and_mask_of_different_sizes_are_an_error_naming_both() {
    let dir = temp_dir("sizes");
    gray_png(&dir.join("img.png"), 4, 5, 0.0);
    gray_png(&dir.join("mask.png"), 5, 4, 0.0);
    let (d, ds) = one_pair(&dir, "kind = \"threshold\"\nthreshold = 0.5\n", "");
    for err in [
        d.read_pair(&ds.items[0]).unwrap_err(),
        check_pair(&ds.items[0]).unwrap_err(),
    ] {
        assert_eq!(err.path(), dir.join("img.png"));
        assert_eq!(
            err.to_string(),
            format!(
                "{}: spatial size [4, 5] differs from {}'s [5, 4]",
                dir.join("img.png").display(),
                dir.join("mask.png").display()
            )
        );
    }
}

#[test]
fn unreadable_pair_files_name_the_file() {
    let dir = temp_dir("unreadable");
    gray_png(&dir.join("img.png"), 4, 5, 0.0);
    std::fs::write(dir.join("mask.png"), b"\x89PNG\r\n\x1a\nshort").unwrap();
    let (d, ds) = one_pair(&dir, "kind = \"labels\"\n", "");
    let err = d.read_pair(&ds.items[0]).unwrap_err();
    assert_eq!(err.path(), dir.join("mask.png"));
    assert!(matches!(err.kind(), DataErrorKind::Format(_)), "{err}");
    let err = check_pair(&ds.items[0]).unwrap_err();
    assert_eq!(err.path(), dir.join("mask.png"));
}
