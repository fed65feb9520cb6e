//! Prediction on image files, written in the input's format: what `dicekit predict` does.
use std::path::{Path, PathBuf};

use dicekit_data::image::{
    PngDepth, TiffSamples, read_image, write_image_nifti, write_image_png, write_image_tiff,
};
use dicekit_data::overlay::overlay;
use dicekit_data::{Volume, case_name, read_label_map, write_label_map_nifti, write_label_map_png};

use crate::{Checkpoint, InputError, TrainConfig, Trained};

/// What [`predict_file`] writes besides the label map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PredictOptions {
    /// Class probabilities in `probabilities/` (`.tif` for 2D, `.nii.gz` for NIfTI inputs).
    pub probabilities: bool,
    /// `overlays/<case>.png` (2D images): the prediction outlined in red, the reference in
    /// green.
    pub overlay: bool,
    /// The reference label map, or a folder of them matched by case name: for the overlay, and
    /// the mask an oracle attention network pools with (`[task] attention = "oracle"`).
    pub truth: Option<PathBuf>,
}

/// What was predicted for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePrediction {
    /// The image.
    pub input: PathBuf,
    /// Its case name.
    pub case: String,
    /// The label map written (`<case>.nii.gz` for NIfTI inputs, `<case>.png` otherwise).
    pub label_map: PathBuf,
    /// Share of the voxels given a foreground label.
    pub foreground: f64,
    /// An overlay was asked for but the image is not 2D.
    pub overlay_skipped: bool,
    /// An attention network's image class and class probabilities (its attention mask is
    /// written to `attention/<case>.png`).
    pub class: Option<(usize, Vec<f64>)>,
}

/// The network of the training run in `run` (its `config.toml`) with `checkpoint`'s weights.
///
/// # Errors
/// The run's config or the checkpoint cannot be read or used.
pub fn load_run(run: &Path, checkpoint: &Checkpoint) -> Result<Trained, InputError> {
    let config_path = run.join("config.toml");
    let text = std::fs::read_to_string(&config_path).map_err(|error| InputError::Read {
        path: config_path.clone(),
        error,
    })?;
    let cfg = TrainConfig::from_toml(&text, run.to_path_buf()).map_err(|e| InputError::InFile {
        path: config_path.clone(),
        error: Box::new(e),
    })?;
    Trained::load(&cfg, &checkpoint.path(run))
}

/// The images to predict: `input` itself, or the images of the folder `input` (`.png`, `.jpg`,
/// `.jpeg`, `.tif`, `.tiff`, `.nii`, `.nii.gz`) in name order.
///
/// # Errors
/// The folder cannot be listed, or two inputs name one case (they would write one file twice).
pub fn image_inputs(input: &Path) -> Result<Vec<PathBuf>, InputError> {
    let inputs: Vec<PathBuf> = if input.is_dir() {
        let rd = std::fs::read_dir(input).map_err(|error| InputError::Read {
            path: input.to_path_buf(),
            error,
        })?;
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_image(p))
            .collect();
        v.sort();
        v
    } else {
        vec![input.to_path_buf()]
    };
    let mut seen = std::collections::BTreeMap::new();
    for input in &inputs {
        if let Some(other) = seen.insert(case_name(input), input) {
            return Err(InputError::Data(format!(
                "{} and {} both name case `{}` (one output file): remove or rename one",
                other.display(),
                input.display(),
                case_name(input)
            )));
        }
    }
    Ok(inputs)
}

fn is_image(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".nii", ".nii.gz"]
        .iter()
        .any(|e| n.ends_with(e))
}

/// Predicts the image `input` into the folder `out` (which must exist): the label map in the
/// input's format with its spacing and orientation, and what `options` asks for.
///
/// # Errors
/// The image or the reference cannot be read or do not fit the network, or an output cannot be
/// written; the message names the file.
pub fn predict_file(
    model: &Trained,
    input: &Path,
    out: &Path,
    options: &PredictOptions,
) -> Result<FilePrediction, InputError> {
    let data = |e: String| InputError::Data(e);
    let image = read_image(input).map_err(|e| data(e.to_string()))?;
    let (probs, labels) = model
        .predict(&image.data)
        .map_err(|e| data(format!("{}: {e}", input.display())))?;
    let name = case_name(input);
    let nifti = input
        .to_string_lossy()
        .to_ascii_lowercase()
        .contains(".nii");
    let labels = Volume {
        data: labels,
        spacing: image.spacing.clone(),
        origin: image.origin.clone(),
        affine: image.affine,
    };
    let label_path = out.join(if nifti {
        format!("{name}.nii.gz")
    } else {
        format!("{name}.png")
    });
    if nifti {
        write_label_map_nifti(&label_path, &labels)
    } else {
        write_label_map_png(&label_path, &labels)
    }
    .map_err(|e| data(e.to_string()))?;
    let folder = |sub: &str| -> Result<PathBuf, InputError> {
        let dir = out.join(sub);
        std::fs::create_dir_all(&dir).map_err(|error| InputError::Read {
            path: dir.clone(),
            error,
        })?;
        Ok(dir)
    };
    // An 8-bit PNG `out/<sub>/<case>.png`.
    let png8 = |sub: &str, pixels, spacing, origin| -> Result<(), InputError> {
        let v = Volume {
            data: pixels,
            spacing,
            origin,
            affine: None,
        };
        write_image_png(
            &folder(sub)?.join(format!("{name}.png")),
            &v,
            PngDepth::Eight,
        )
        .map_err(|e| data(e.to_string()))
    };
    if options.probabilities {
        let probs = Volume {
            data: probs,
            spacing: image.spacing.clone(),
            origin: image.origin.clone(),
            affine: image.affine,
        };
        let dir = folder("probabilities")?;
        if nifti {
            write_image_nifti(&dir.join(format!("{name}.nii.gz")), &probs)
        } else {
            write_image_tiff(&dir.join(format!("{name}.tif")), &probs, TiffSamples::F32)
        }
        .map_err(|e| data(e.to_string()))?;
    }
    let overlay_skipped = options.overlay && labels.data.ndim() != 2;
    let draw_overlay = options.overlay && labels.data.ndim() == 2;
    // The reference is read where it is used: the 2D overlay, and the oracle's attention.
    let truth = match &options.truth {
        Some(t) if draw_overlay || model.needs_reference() => {
            let path = if t.is_dir() {
                dicekit_data::label_maps_by_case(t)
                    .map_err(|e| data(e.to_string()))?
                    .remove(&name)
                    .ok_or_else(|| data(format!("{}: no reference named `{name}`", t.display())))?
            } else {
                t.clone()
            };
            Some(read_label_map(&path).map_err(|e| data(e.to_string()))?.data)
        }
        _ => None,
    };
    if draw_overlay {
        let picture = overlay(&image.data, Some(&labels.data), truth.as_ref())
            .map_err(|e| data(format!("{}: overlay: {e}", input.display())))?;
        png8("overlays", picture, vec![1.0, 1.0], vec![0.0, 0.0])?;
    }
    let foreground =
        labels.data.iter().filter(|&&l| l != 0).count() as f64 / labels.data.len().max(1) as f64;
    let mut class = None;
    if let Some(c) = model
        .classify_with_reference(&image.data, truth.as_ref())
        .map_err(|e| data(format!("{}: {e}", input.display())))?
    {
        // The attention mask as an 8-bit grey image, 255 = full attention.
        let grey = c
            .attention
            .mapv(|v| (v.clamp(0.0, 1.0) * 255.0).round())
            .insert_axis(ndarray::Axis(0));
        png8(
            "attention",
            grey,
            image.spacing.clone(),
            image.origin.clone(),
        )?;
        class = Some((c.class, c.probabilities));
    }
    Ok(FilePrediction {
        input: input.to_path_buf(),
        case: name,
        label_map: label_path,
        foreground,
        overlay_skipped,
        class,
    })
}

/// Writes `out/classes.csv` for an attention network's predictions: `case,class,p_0,..`.
///
/// # Errors
/// The file cannot be written.
pub fn write_classes_csv(
    out: &Path,
    image_classes: usize,
    predictions: &[FilePrediction],
) -> Result<PathBuf, InputError> {
    let path = out.join("classes.csv");
    let io = |e: std::io::Error| InputError::Read {
        path: path.clone(),
        error: e,
    };
    let mut w = csv::Writer::from_path(&path).map_err(|e| io(e.into()))?;
    let mut header = vec!["case".to_string(), "class".to_string()];
    header.extend((0..image_classes).map(|c| format!("p_{c}")));
    w.write_record(&header).map_err(|e| io(e.into()))?;
    for p in predictions {
        if let Some((class, probs)) = &p.class {
            let mut row = vec![p.case.clone(), class.to_string()];
            row.extend(probs.iter().map(|p| format!("{p:.6}")));
            w.write_record(&row).map_err(|e| io(e.into()))?;
        }
    }
    w.flush().map_err(io)?;
    Ok(path)
}
