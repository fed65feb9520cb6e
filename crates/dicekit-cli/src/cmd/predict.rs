//! `dicekit predict`: sliding-window prediction with a trained run, in the input's format.
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dicekit_data::image::{
    PngDepth, TiffSamples, read_image, write_image_nifti, write_image_png, write_image_tiff,
};
use dicekit_data::overlay::overlay;
use dicekit_data::{Volume, case_name, read_label_map, write_label_map_nifti, write_label_map_png};
use dicekit_train::{TrainConfig, Trained};

use crate::args::PredictArgs;

/// Predicts every input; failures are listed and give exit code 2, the other inputs are still done.
pub fn run(args: PredictArgs) -> ExitCode {
    let model = match load(&args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let inputs: Vec<PathBuf> = if args.input.is_dir() {
        match std::fs::read_dir(&args.input) {
            Ok(rd) => {
                let mut v: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| is_image(p))
                    .collect();
                v.sort();
                v
            }
            Err(e) => {
                eprintln!("error: {}: {e}", args.input.display());
                return ExitCode::from(2);
            }
        }
    } else {
        vec![args.input.clone()]
    };
    // Two inputs of one case name would write one output file twice.
    let mut seen = std::collections::BTreeMap::new();
    for input in &inputs {
        if let Some(other) = seen.insert(case_name(input), input) {
            eprintln!(
                "error: {} and {} both name case `{}` (one output file): remove or rename one",
                other.display(),
                input.display(),
                case_name(input)
            );
            return ExitCode::from(2);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let mut failures = 0;
    let mut classes = String::new();
    for input in &inputs {
        match predict_one(&model, input, &args) {
            Ok((msg, row)) => {
                println!("{msg}");
                if let Some(r) = row {
                    classes.push_str(&r);
                }
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if !classes.is_empty() {
        let k = model
            .config()
            .attention_config()
            .map_or(2, |a| a.image_classes);
        let header: Vec<String> = (0..k).map(|c| format!("p_{c}")).collect();
        let path = args.out.join("classes.csv");
        let text = format!("case,class,{}\n{classes}", header.join(","));
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: {}: {e}", path.display());
            failures += 1;
        }
    }
    if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn is_image(p: &Path) -> bool {
    let n = p.to_string_lossy().to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".nii", ".nii.gz"]
        .iter()
        .any(|e| n.ends_with(e))
}

fn load(args: &PredictArgs) -> Result<Trained, String> {
    let config_path = args.run.join("config.toml");
    let text = std::fs::read_to_string(&config_path)
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let cfg = TrainConfig::from_toml(&text, args.run.clone())
        .map_err(|e| format!("{}: {e}", config_path.display()))?;
    let mut model = Trained::load(&cfg, &args.checkpoint.path(&args.run))?;
    model.predictor.flip_tta = args.tta;
    Ok(model)
}

/// Predicts one image; returns the message and, for an attention network, its `classes.csv` row.
fn predict_one(
    model: &Trained,
    input: &Path,
    args: &PredictArgs,
) -> Result<(String, Option<String>), String> {
    let image = read_image(input).map_err(|e| e.to_string())?;
    let (probs, labels) = model
        .predict(&image.data)
        .map_err(|e| format!("{}: {e}", input.display()))?;
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
    let label_path = args.out.join(if nifti {
        format!("{name}.nii.gz")
    } else {
        format!("{name}.png")
    });
    if nifti {
        write_label_map_nifti(&label_path, &labels)
    } else {
        write_label_map_png(&label_path, &labels)
    }
    .map_err(|e| e.to_string())?;
    if args.probabilities {
        let probs = Volume {
            data: probs,
            spacing: image.spacing.clone(),
            origin: image.origin.clone(),
            affine: image.affine,
        };
        let dir = args.out.join("probabilities");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(if nifti {
            format!("{name}.nii.gz")
        } else {
            format!("{name}.tif")
        });
        if nifti {
            write_image_nifti(&path, &probs)
        } else {
            write_image_tiff(&path, &probs, TiffSamples::F32)
        }
        .map_err(|e| e.to_string())?;
    }
    let skipped_overlay = args.overlay && labels.data.ndim() != 2;
    if args.overlay && labels.data.ndim() == 2 {
        let truth = match &args.truth {
            Some(t) => {
                let path = if t.is_dir() {
                    find_by_name(t, &name)?
                } else {
                    t.clone()
                };
                Some(read_label_map(&path).map_err(|e| e.to_string())?.data)
            }
            None => None,
        };
        let picture = overlay(&image.data, Some(&labels.data), truth.as_ref())
            .map_err(|e| format!("{}: overlay: {e}", input.display()))?;
        let v = Volume {
            data: picture,
            spacing: vec![1.0, 1.0],
            origin: vec![0.0, 0.0],
            affine: None,
        };
        let dir = args.out.join("overlays");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_image_png(&dir.join(format!("{name}.png")), &v, PngDepth::Eight)
            .map_err(|e| e.to_string())?;
    }
    let fg = labels.data.iter().filter(|&&l| l != 0).count() as f64 / labels.data.len() as f64;
    let mut msg = format!(
        "{}: {} (foreground {:.4} %)",
        input.display(),
        label_path.display(),
        100.0 * fg
    );
    if skipped_overlay {
        msg.push_str("; no overlay: overlays are drawn on 2D images only");
    }
    let mut row = None;
    if let Some(c) = model
        .classify(&image.data)
        .map_err(|e| format!("{}: {e}", input.display()))?
    {
        // The attention mask as an 8-bit grey image, 255 = full attention.
        let grey = c
            .attention
            .mapv(|v| (v.clamp(0.0, 1.0) * 255.0).round())
            .insert_axis(ndarray::Axis(0));
        let v = Volume {
            data: grey,
            spacing: image.spacing.clone(),
            origin: image.origin.clone(),
            affine: None,
        };
        let dir = args.out.join("attention");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        write_image_png(&dir.join(format!("{name}.png")), &v, PngDepth::Eight)
            .map_err(|e| e.to_string())?;
        let p: Vec<String> = c.probabilities.iter().map(|p| format!("{p:.6}")).collect();
        msg.push_str(&format!(
            "; image class {} (p = {:.4})",
            c.class, c.probabilities[c.class]
        ));
        row = Some(format!("{name},{},{}\n", c.class, p.join(",")));
    }
    Ok((msg, row))
}

fn find_by_name(dir: &Path, name: &str) -> Result<PathBuf, String> {
    dicekit_data::label_maps_by_case(dir)
        .map_err(|e| e.to_string())?
        .remove(name)
        .ok_or_else(|| format!("{}: no reference named `{name}`", dir.display()))
}
