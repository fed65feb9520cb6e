//! `dicekit synth <scene>`: write a seeded synthetic dataset and print its foreground fractions.
use std::path::Path;
use std::process::ExitCode;

use dicekit_data::image::{
    PngDepth, TiffSamples, write_image_nifti, write_image_png, write_image_tiff,
};
use dicekit_data::synth::{Sample, Scene};
use dicekit_data::{DataError, Volume, write_label_map_nifti, write_label_map_png};

use crate::args::SynthArgs;

/// Writes `count` samples as `images/`, `masks/` (and `clouds/` or `labels.csv`) under `--out`.
pub fn run(args: SynthArgs) -> ExitCode {
    match write_all(args.scene.0, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn write_all(scene: Scene, args: &SynthArgs) -> Result<(), String> {
    let out = &args.out;
    for sub in ["images", "masks"] {
        std::fs::create_dir_all(out.join(sub))
            .map_err(|e| format!("{}: {e}", out.join(sub).display()))?;
    }
    if scene == Scene::Wetlands {
        std::fs::create_dir_all(out.join("clouds"))
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let mut labels_csv = String::from("case,label\n");
    let mut total = 0.0;
    let classes = scene.class_names();
    let mut class_totals = vec![0.0; classes.len()];
    for i in 0..args.count {
        let s = scene.generate_with(args.size.as_deref(), args.seed, i as u64, args.foreground)?;
        let name = format!("{}_{i:03}", scene.name());
        write_sample(scene, &s, out, &name).map_err(|e| e.to_string())?;
        let f = s.foreground_fraction();
        total += f;
        for (l, t) in class_totals.iter_mut().enumerate().skip(1) {
            *t += s.class_fraction(l as u32);
        }
        let extra = match (scene, s.label, &s.extra) {
            (Scene::LesionTexture, Some(l), _) => {
                labels_csv.push_str(&format!("{name},{l}\n"));
                format!(", image label {l}")
            }
            (Scene::Wetlands, _, Some(c)) => {
                let cloud = c.data.iter().filter(|&&v| v == 1).count() as f64 / c.data.len() as f64;
                format!(", cloud {:.2} %", 100.0 * cloud)
            }
            _ => String::new(),
        };
        println!("{name}: foreground {:.4} %{extra}", 100.0 * f);
    }
    if scene == Scene::LesionTexture {
        std::fs::write(out.join("labels.csv"), labels_csv)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let n = args.count.max(1) as f64;
    println!(
        "{} images of `{}` in {}: mean foreground fraction {:.4} %",
        args.count,
        scene.name(),
        out.display(),
        100.0 * total / n
    );
    if classes.len() > 2 {
        for (l, name) in classes.iter().enumerate().skip(1) {
            println!("  {l} {name}: {:.4} %", 100.0 * class_totals[l] / n);
        }
    }
    Ok(())
}

fn write_sample(scene: Scene, s: &Sample, out: &Path, name: &str) -> Result<(), DataError> {
    match scene {
        Scene::CtPhantom => {
            write_image_nifti(&out.join("images").join(format!("{name}.nii.gz")), &s.image)?;
            write_label_map_nifti(&out.join("masks").join(format!("{name}.nii.gz")), &s.mask)?;
        }
        Scene::Fundus => {
            // An 8-bit RGB photograph, as fundus images come.
            let scaled = Volume {
                data: s.image.data.mapv(|v| v * 255.0),
                spacing: s.image.spacing.clone(),
                origin: s.image.origin.clone(),
                affine: None,
            };
            write_image_png(
                &out.join("images").join(format!("{name}.png")),
                &scaled,
                PngDepth::Eight,
            )?;
            write_label_map_png(&out.join("masks").join(format!("{name}.png")), &s.mask)?;
        }
        _ => {
            write_image_tiff(
                &out.join("images").join(format!("{name}.tif")),
                &s.image,
                TiffSamples::F32,
            )?;
            write_label_map_png(&out.join("masks").join(format!("{name}.png")), &s.mask)?;
        }
    }
    if let Some(c) = &s.extra {
        write_label_map_png(&out.join("clouds").join(format!("{name}.png")), c)?;
    }
    Ok(())
}
