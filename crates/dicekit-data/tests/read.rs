//! Reading label maps from files: the reference cases, round trips through every writer, TIFFs
//! built with the `tiff` encoder, and bad files (each an `Err` of the right kind naming the
//! path).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use dicekit_data::{
    DataError, DataErrorKind, Volume, case_name, list_label_maps, read_label_map,
    write_label_map_nifti, write_label_map_png,
};
use ndarray::{Array, ArrayD, Axis, Dimension, IxDyn, array};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A fresh, empty folder under cargo's per-target temporary folder.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("dicekit-data-read")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Asserts the error's kind and that its message is one line starting with the path.
fn assert_err(r: Result<Volume<u32>, DataError>, path: &Path, kind: fn(&DataErrorKind) -> bool) {
    let e = r.expect_err("expected an error");
    let msg = e.to_string();
    assert!(kind(e.kind()), "wrong kind: {msg} ({:?})", e.kind());
    assert_eq!(e.path(), path);
    assert!(
        msg.starts_with(&format!("{}: ", path.display())),
        "message does not start with the path: {msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

// ---------------------------------------------------------------- reference cases

#[test]
fn d01_2d_squares_gt_is_a_20x20_map_with_a_6x6_square() {
    let v = read_label_map(&fixture("d01_2d_squares_shift_gt.nii.gz")).unwrap();
    // nibabel 5.4.2: shape (20, 20), zooms (1.0, 1.0), unique [0 1] counts [364 36],
    // rows and columns holding label 1: 5..=10.
    assert_eq!(v.shape(), &[20, 20]);
    assert_eq!(v.spacing, vec![1.0, 1.0]);
    assert_eq!(v.origin, vec![0.0, 0.0]);
    assert_eq!(v.data.iter().filter(|&&l| l == 1).count(), 36);
    assert_eq!(v.data.iter().filter(|&&l| l == 0).count(), 364);
    for i in 5..11 {
        for j in 5..11 {
            assert_eq!(v.data[[i, j]], 1, "[{i}, {j}]");
        }
    }
}

#[test]
fn d03_3d_aniso_blob_gt_matches_nibabel_index_order() {
    let v = read_label_map(&fixture("d03_3d_aniso_blob_gt.nii.gz")).unwrap();
    // nibabel 5.4.2, np.asarray(nib.load(f).dataobj): shape (48, 48, 16), uint8,
    // zooms (0.75, 0.75, 2.5), affine diag(0.75, 0.75, 2.5, 1) with zero translation.
    assert_eq!(v.shape(), &[48, 48, 16]);
    assert_eq!(v.spacing, vec![0.75, 0.75, 2.5]);
    assert_eq!(v.origin, vec![0.0, 0.0, 0.0]);
    assert!(v.data.is_standard_layout());
    // nibabel: (a > 0).sum((1, 2)), the foreground count per x index.
    let per_x: [usize; 48] = [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 39, 52, 68, 88, 108, 122, 140, 156, 171, 180, 187, 193,
        190, 184, 177, 173, 163, 148, 142, 131, 122, 106, 94, 80, 59, 39, 10, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0,
    ];
    // nibabel: (a > 0).sum((0, 1)), per z index.
    let per_z: [usize; 16] = [
        0, 62, 183, 263, 343, 390, 415, 405, 388, 342, 268, 175, 83, 21, 0, 0,
    ];
    let count = |a: ndarray::ArrayViewD<u32>| a.iter().filter(|&&l| l > 0).count();
    for (x, &want) in per_x.iter().enumerate() {
        assert_eq!(count(v.data.index_axis(Axis(0), x)), want, "x = {x}");
    }
    for (z, &want) in per_z.iter().enumerate() {
        assert_eq!(count(v.data.index_axis(Axis(2), z)), want, "z = {z}");
    }
    // nibabel: np.argwhere(a > 0)[0] = [10, 22, 6], [-1] = [37, 27, 7]; a[24, 24, 8] = 1;
    // labels {0, 1}, 3338 foreground voxels.
    assert_eq!(v.data[[10, 22, 6]], 1);
    assert_eq!(v.data[[37, 27, 7]], 1);
    assert_eq!(v.data[[24, 24, 8]], 1);
    assert_eq!(count(v.data.view()), 3338);
    assert!(v.data.iter().all(|&l| l <= 1));
}

// ---------------------------------------------------------------- round trips

fn ramp(shape: &[usize], scale: u32) -> ArrayD<u32> {
    Array::from_shape_fn(IxDyn(shape), |ix| {
        ix.as_array_view()
            .iter()
            .enumerate()
            .map(|(a, &i)| (i as u32) * scale * 7u32.pow(a as u32))
            .sum::<u32>()
            % (scale * 250 + 1)
    })
}

#[test]
fn nifti_round_trips_keep_labels_spacing_and_origin() {
    let dir = scratch("nifti_round_trip");
    let cases = [
        // (name, shape, label scale: 1 -> max <= 250 -> u8, 200 -> u16)
        ("u8_2d.nii", vec![5, 7], 1),
        ("u8_3d.nii.gz", vec![4, 5, 3], 1),
        ("u16_2d.nii.gz", vec![6, 3], 200),
        ("u16_3d.nii", vec![3, 4, 5], 200),
        ("u8_4d.nii.gz", vec![2, 3, 2, 2], 1),
    ];
    for (name, shape, scale) in cases {
        let n = shape.len();
        let spacing: Vec<f64> = [0.75, 1.25, 2.5, 3.0][..n].to_vec();
        let origin: Vec<f64> = [-90.5, 12.0, 40.25, 0.0][..n].to_vec();
        let v = Volume::new(ramp(&shape, scale))
            .with_spacing(spacing)
            .with_origin(origin);
        let max = v.data.iter().copied().max().unwrap();
        assert!((scale == 1) == (max <= 255), "{name}: max {max}");
        let path = dir.join(name);
        write_label_map_nifti(&path, &v).unwrap();
        let gz = std::fs::read(&path).unwrap().starts_with(&[0x1f, 0x8b]);
        assert_eq!(gz, name.ends_with(".gz"), "{name}");
        let back = read_label_map(&path).unwrap();
        assert_eq!(back, v, "{name}");
    }
}

#[test]
fn nifti_writer_rejects_other_extensions_without_writing() {
    let dir = scratch("nifti_ext");
    let v = Volume::new(array![[1u32]].into_dyn());
    for name in ["a.png", "a.nii.bak", "a"] {
        let path = dir.join(name);
        let e = write_label_map_nifti(&path, &v).unwrap_err();
        assert!(
            matches!(e.kind(), DataErrorKind::UnsupportedExtension { .. }),
            "{e}"
        );
        assert!(!path.exists());
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn nifti_name_with_inner_dots_is_written_where_asked() {
    let dir = scratch("nifti_dots");
    let v = Volume::new(array![[1u32, 0]].into_dyn());
    let path = dir.join("sub-01.run-2.nii");
    write_label_map_nifti(&path, &v).unwrap();
    assert_eq!(read_label_map(&path).unwrap(), v);
    assert_eq!(list_label_maps(&dir).unwrap(), vec![path]);
}

#[test]
fn png_round_trips_8_and_16_bit() {
    let dir = scratch("png_round_trip");
    for (name, scale, depth) in [("u8.png", 1, 8), ("u16.PNG", 200, 16)] {
        let v = Volume::new(ramp(&[9, 13], scale));
        let path = dir.join(name);
        write_label_map_png(&path, &v).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[24], depth, "{name}: IHDR bit depth");
        let back = read_label_map(&path).unwrap();
        assert_eq!(back, v, "{name}");
        assert_eq!(back.shape(), &[9, 13]); // [H, W]
    }
}

// ---------------------------------------------------------------- TIFF

fn write_tiff<C>(path: &Path, w: u32, h: u32, data: &[C::Inner], pages: usize)
where
    C: tiff::encoder::colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut buf = Cursor::new(Vec::new());
    let mut enc = tiff::encoder::TiffEncoder::new(&mut buf).unwrap();
    for _ in 0..pages {
        enc.write_image::<C>(w, h, data).unwrap();
    }
    std::fs::write(path, buf.into_inner()).unwrap();
}

#[test]
fn tiff_integer_gray_images_read_as_rows_by_columns() {
    use tiff::encoder::colortype::{Gray8, Gray16, Gray32, GrayI16};
    let dir = scratch("tiff_gray");
    // 3 wide, 2 high: rows [0 1 2] and [3 4 5]
    let want = array![[0u32, 1, 2], [3, 4, 5]].into_dyn();
    let p8 = dir.join("g8.tif");
    write_tiff::<Gray8>(&p8, 3, 2, &[0, 1, 2, 3, 4, 5], 1);
    let p16 = dir.join("g16.tiff");
    write_tiff::<Gray16>(&p16, 3, 2, &[0, 1, 2, 3, 4, 5], 1);
    let p32 = dir.join("g32.TIF");
    write_tiff::<Gray32>(&p32, 3, 2, &[0, 1, 2, 3, 4, 5], 1);
    let pi16 = dir.join("gi16.tif");
    write_tiff::<GrayI16>(&pi16, 3, 2, &[0, 1, 2, 3, 4, 5], 1);
    for p in [p8, p16, p32, pi16] {
        let v = read_label_map(&p).unwrap();
        assert_eq!(v.data, want, "{}", p.display());
        assert_eq!(v.spacing, vec![1.0, 1.0]);
        assert_eq!(v.origin, vec![0.0, 0.0]);
    }
    let big = dir.join("g16_big.tif");
    write_tiff::<Gray16>(&big, 2, 1, &[65535, 40000], 1);
    assert_eq!(
        read_label_map(&big).unwrap().data,
        array![[65535u32, 40000]].into_dyn()
    );
}

#[test]
fn tiff_compressed_with_deflate_and_lzw_reads() {
    use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, colortype::Gray8};
    let dir = scratch("tiff_compressed");
    let data: Vec<u8> = (0..64u8).map(|i| i % 3).collect();
    for (name, c) in [
        ("deflate.tif", Compression::Deflate(DeflateLevel::Balanced)),
        ("lzw.tif", Compression::Lzw),
        ("packbits.tif", Compression::Packbits),
    ] {
        let mut buf = Cursor::new(Vec::new());
        let mut enc = TiffEncoder::new(&mut buf).unwrap().with_compression(c);
        enc.write_image::<Gray8>(8, 8, &data).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, buf.into_inner()).unwrap();
        let v = read_label_map(&path).unwrap();
        assert_eq!(v.shape(), &[8, 8]);
        assert_eq!(v.data[[1, 2]], 10 % 3, "{name}");
    }
}

#[test]
fn tiff_float_labels_must_be_integers() {
    use tiff::encoder::colortype::Gray32Float;
    let dir = scratch("tiff_float");
    let ok = dir.join("ok.tif");
    write_tiff::<Gray32Float>(&ok, 2, 1, &[0.0, 3.0], 1);
    assert_eq!(
        read_label_map(&ok).unwrap().data,
        array![[0u32, 3]].into_dyn()
    );
    let half = dir.join("half.tif");
    write_tiff::<Gray32Float>(&half, 2, 2, &[0.0, 1.0, 0.5, 1.0], 1);
    let e = read_label_map(&half).unwrap_err();
    match e.kind() {
        DataErrorKind::NonIntegerLabels { value, index } => {
            assert_eq!((*value, index.clone()), (0.5, vec![1, 0])); // row 1, column 0
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tiff_negative_labels_are_rejected() {
    use tiff::encoder::colortype::GrayI16;
    let dir = scratch("tiff_negative");
    let path = dir.join("neg.tif");
    write_tiff::<GrayI16>(&path, 2, 1, &[1, -3], 1);
    assert_err(
        read_label_map(&path),
        &path,
        |k| matches!(k, DataErrorKind::NonIntegerLabels { value, .. } if *value == -3.0),
    );
}

#[test]
fn tiff_rgb_and_multi_page_are_unsupported() {
    use tiff::encoder::colortype::{Gray8, RGB8};
    let dir = scratch("tiff_unsupported");
    let rgb = dir.join("rgb.tif");
    write_tiff::<RGB8>(&rgb, 1, 1, &[1, 2, 3], 1);
    assert_err(
        read_label_map(&rgb),
        &rgb,
        |k| matches!(k, DataErrorKind::UnsupportedType(m) if m.contains("RGB")),
    );
    let pages = dir.join("pages.tif");
    write_tiff::<Gray8>(&pages, 2, 2, &[0, 1, 1, 0], 3);
    assert_err(
        read_label_map(&pages),
        &pages,
        |k| matches!(k, DataErrorKind::UnsupportedType(m) if m.contains("multi-page")),
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn missing_file_is_io_naming_the_path() {
    let dir = scratch("missing");
    for name in ["nope.nii.gz", "nope.nii", "nope.png", "nope.tif"] {
        let path = dir.join(name);
        assert_err(
            read_label_map(&path),
            &path,
            |k| matches!(k, DataErrorKind::Io(e) if e.kind() == std::io::ErrorKind::NotFound),
        );
    }
}

#[test]
fn directory_named_like_a_label_map_is_io() {
    let dir = scratch("dir_named_nii");
    let path = dir.join("folder.nii.gz");
    std::fs::create_dir(&path).unwrap();
    assert_err(read_label_map(&path), &path, |k| {
        matches!(k, DataErrorKind::Io(_))
    });
}

#[test]
fn truncated_nii_gz_is_a_format_error() {
    let dir = scratch("truncated");
    let v = Volume::new(ramp(&[16, 16, 8], 1)).with_spacing(vec![1.0, 1.0, 2.0]);
    let path = dir.join("cut.nii.gz");
    write_label_map_nifti(&path, &v).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_err(
        read_label_map(&path),
        &path,
        |k| matches!(k, DataErrorKind::Format(m) if m.contains("gzip")),
    );
    // and a plain .nii cut in the voxel data
    let plain = dir.join("cut.nii");
    write_label_map_nifti(&plain, &v).unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    std::fs::write(&plain, &bytes[..bytes.len() - 10]).unwrap();
    assert_err(
        read_label_map(&plain),
        &plain,
        |k| matches!(k, DataErrorKind::Format(m) if m.starts_with("truncated file")),
    );
}

#[test]
fn garbage_named_nii_gz_is_a_format_error() {
    let dir = scratch("garbage");
    let path = dir.join("garbage.nii.gz");
    std::fs::write(&path, b"this is not a gzip stream and not a NIfTI header").unwrap();
    assert_err(read_label_map(&path), &path, |k| {
        matches!(k, DataErrorKind::Format(_))
    });
    // gzip magic followed by garbage
    let path = dir.join("bad_gzip.nii.gz");
    std::fs::write(
        &path,
        [0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3],
    )
    .unwrap();
    assert_err(
        read_label_map(&path),
        &path,
        |k| matches!(k, DataErrorKind::Format(m) if m.contains("gzip")),
    );
    // an empty file
    let path = dir.join("empty.nii");
    std::fs::write(&path, b"").unwrap();
    assert_err(read_label_map(&path), &path, |k| {
        matches!(k, DataErrorKind::Format(_))
    });
}

/// A plain `.nii` with our writer's header, then `patch` applied to the bytes.
fn patched_nifti(path: &Path, v: &Volume<u32>, patch: impl FnOnce(&mut Vec<u8>)) {
    write_label_map_nifti(path, v).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    patch(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn float_nifti_with_half_is_non_integer_labels() {
    let dir = scratch("float_nifti");
    let v = Volume::new(array![[0u32, 0], [0, 0]].into_dyn());
    let with_floats = |values: [f32; 4]| {
        move |b: &mut Vec<u8>| {
            b[70..72].copy_from_slice(&16i16.to_le_bytes()); // datatype float32
            b[72..74].copy_from_slice(&32i16.to_le_bytes()); // bitpix
            b.truncate(352);
            for x in values {
                b.extend_from_slice(&x.to_le_bytes());
            }
        }
    };
    // First axis fastest: [0,0]=0, [1,0]=1, [0,1]=2, [1,1]=0.5
    let bad = dir.join("half.nii");
    patched_nifti(&bad, &v, with_floats([0.0, 1.0, 2.0, 0.5]));
    assert_err(
        read_label_map(&bad),
        &bad,
        |k| matches!(k, DataErrorKind::NonIntegerLabels { value, index } if *value == 0.5 && index == &[1, 1]),
    );
    let msg = read_label_map(&bad).unwrap_err().to_string();
    assert!(msg.contains("0.5"), "{msg}");
    // integral floats are labels
    let good = dir.join("integral.nii");
    patched_nifti(&good, &v, with_floats([0.0, 1.0, 2.0, 3.0]));
    assert_eq!(
        read_label_map(&good).unwrap().data,
        array![[0u32, 2], [1, 3]].into_dyn()
    );
}

#[test]
fn nan_pixdim_is_bad_spacing() {
    let dir = scratch("nan_pixdim");
    let v = Volume::new(array![[[1u32]]].into_dyn());
    let path = dir.join("nan.nii");
    patched_nifti(&path, &v, |b| {
        b[84..88].copy_from_slice(&f32::NAN.to_le_bytes())
    }); // pixdim[2]
    assert_err(
        read_label_map(&path),
        &path,
        |k| matches!(k, DataErrorKind::BadSpacing { axis: 1, value } if value.is_nan()),
    );
    let msg = read_label_map(&path).unwrap_err().to_string();
    assert!(msg.contains("pixdim[2]") && msg.contains("NaN"), "{msg}");
}

#[test]
fn rgb_png_is_unsupported_type() {
    let dir = scratch("rgb_png");
    let path = dir.join("rgb.png");
    let mut bytes = Vec::new();
    let mut enc = png::Encoder::new(&mut bytes, 2, 1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().unwrap();
    w.write_image_data(&[255, 0, 0, 0, 255, 0]).unwrap();
    w.finish().unwrap();
    std::fs::write(&path, bytes).unwrap();
    assert_err(
        read_label_map(&path),
        &path,
        |k| matches!(k, DataErrorKind::UnsupportedType(m) if m.contains("8-bit RGB PNG")),
    );
}

#[test]
fn unsupported_extension_names_it() {
    let dir = scratch("extension");
    for (name, found) in [
        ("scan.jpg", ".jpg"),
        ("scan.nii.bz2", ".bz2"),
        ("README", ""),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, b"x").unwrap();
        assert_err(read_label_map(&path), &path, |k| {
            matches!(k, DataErrorKind::UnsupportedExtension { .. })
        });
        match read_label_map(&path).unwrap_err().into_kind() {
            DataErrorKind::UnsupportedExtension { found: f, .. } => assert_eq!(f, found),
            other => panic!("{other:?}"),
        }
    }
}

// ---------------------------------------------------------------- folders

#[test]
fn list_label_maps_sorts_and_filters_and_case_names_pair_up() {
    let pred = scratch("list_pred");
    let gt = scratch("list_gt");
    let v = Volume::new(array![[0u32, 1]].into_dyn());
    for name in ["case_2.nii.gz", "case_10.nii.gz", "case_1.nii.gz"] {
        write_label_map_nifti(&pred.join(name), &v).unwrap();
    }
    for name in ["case_1.png", "case_2.png", "case_10.png"] {
        write_label_map_png(&gt.join(name), &v).unwrap();
    }
    std::fs::write(gt.join("notes.txt"), b"").unwrap();
    std::fs::write(gt.join("._case_1.png"), b"").unwrap();
    std::fs::create_dir(gt.join("sub.png")).unwrap();

    let p = list_label_maps(&pred).unwrap();
    let g = list_label_maps(&gt).unwrap();
    let names = |v: &[PathBuf]| v.iter().map(|p| case_name(p)).collect::<Vec<_>>();
    assert_eq!(names(&p), ["case_1", "case_10", "case_2"]);
    assert_eq!(names(&g), names(&p));
    for path in p.iter().chain(&g) {
        assert_eq!(read_label_map(path).unwrap().data, v.data);
    }
}

#[test]
fn list_label_maps_of_a_missing_folder_is_io() {
    let dir = scratch("list_missing").join("nope");
    let e = list_label_maps(&dir).unwrap_err();
    assert!(matches!(e.kind(), DataErrorKind::Io(_)));
    assert!(e.to_string().starts_with(&format!("{}: ", dir.display())));
}

#[test]
fn a_rotated_nifti_affine_is_kept_through_a_round_trip() {
    use dicekit_data::image::{read_image, write_image_nifti};
    let dir = std::env::temp_dir().join(format!("dicekit-affine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 30 degrees about z, x flipped (LPS-like), spacing 0.8 x 0.8 x 2.5, origin (10, -20, 30).
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    let affine = [
        [-0.8 * c, -0.8 * s, 0.0, 10.0],
        [0.8 * s, -0.8 * c, 0.0, -20.0],
        [0.0, 0.0, 2.5, 30.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let labels = dicekit_data::Volume::new(ndarray::ArrayD::from_shape_fn(
        ndarray::IxDyn(&[4, 3, 2]),
        |i| (i[0] + i[2]) as u32,
    ))
    .with_spacing(vec![0.8, 0.8, 2.5])
    .with_origin(vec![10.0, -20.0, 30.0])
    .with_affine(Some(affine));
    let path = dir.join("rotated.nii.gz");
    dicekit_data::write_label_map_nifti(&path, &labels).unwrap();
    let back = dicekit_data::read_label_map(&path).unwrap();
    assert_eq!(back.data, labels.data);
    let got = back.affine.expect("the rotation is kept");
    for i in 0..4 {
        for j in 0..4 {
            assert!(
                (got[i][j] - affine[i][j]).abs() < 1e-6,
                "[{i}][{j}] {} vs {}",
                got[i][j],
                affine[i][j]
            );
        }
    }
    // Images keep it too.
    let image = dicekit_data::Volume::channels_first(
        labels.data.mapv(|v| v as f32).insert_axis(ndarray::Axis(0)),
    )
    .with_spacing(vec![0.8, 0.8, 2.5])
    .with_affine(Some(affine));
    let ipath = dir.join("rotated_image.nii");
    write_image_nifti(&ipath, &image).unwrap();
    assert!(read_image(&ipath).unwrap().affine.is_some());
    // An axis-aligned file carries no extra matrix.
    let plain = dicekit_data::Volume::new(labels.data.clone()).with_spacing(vec![0.75, 0.75, 2.5]);
    dicekit_data::write_label_map_nifti(&dir.join("plain.nii"), &plain).unwrap();
    assert_eq!(
        dicekit_data::read_label_map(&dir.join("plain.nii")).unwrap(),
        plain
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
