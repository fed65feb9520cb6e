//! `dicekit weights`: U-Net or boundary-band weight maps of label maps, written as images.
use std::process::ExitCode;

use dicekit_data::image::{TiffSamples, write_image_nifti, write_image_tiff};
use dicekit_data::weight_map::{
    BandProfile, BoundaryWeightConfig, UnetWeightConfig, boundary_weight_map, unet_weight_map,
};
use dicekit_data::{Volume, read_label_map};

use crate::args::{WeightKind, WeightsArgs};

/// Reads `--mask`, computes the weight map, writes `--out` (`.tif` for 2D, `.nii`/`.nii.gz` for 3D).
pub fn run(args: WeightsArgs) -> ExitCode {
    match compute(&args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn compute(args: &WeightsArgs) -> Result<String, String> {
    let labels = read_label_map(&args.mask).map_err(|e| e.to_string())?;
    let spacing = if args.pixels {
        vec![1.0; labels.data.ndim()]
    } else {
        labels.spacing.clone()
    };
    let weights = match args.kind {
        WeightKind::Unet => {
            let cfg = UnetWeightConfig {
                w0: args.w0,
                sigma: args.sigma,
                ignore_label: args.ignore,
                ..Default::default()
            };
            unet_weight_map(&labels.data, &spacing, &cfg)
        }
        WeightKind::Boundary => {
            let cfg = BoundaryWeightConfig {
                band_weight: args.band_weight,
                profile: BandProfile::Gaussian { sigma: args.sigma },
                ignore_label: args.ignore,
            };
            boundary_weight_map(&labels.data, &spacing, &cfg)
        }
    }
    .map_err(|e| format!("{}: {e}", args.mask.display()))?;
    let (min, max) = weights
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let nd = weights.ndim();
    let volume = Volume {
        data: weights.insert_axis(ndarray::Axis(0)),
        spacing: labels.spacing.clone(),
        origin: labels.origin.clone(),
        affine: labels.affine,
    };
    let out = &args.out;
    let name = out.to_string_lossy().to_ascii_lowercase();
    let written = if name.ends_with(".nii") || name.ends_with(".nii.gz") {
        write_image_nifti(out, &volume)
    } else if nd == 2 {
        write_image_tiff(out, &volume, TiffSamples::F32)
    } else {
        return Err(format!(
            "{}: a 3D weight map is written as .nii or .nii.gz",
            out.display()
        ));
    };
    written.map_err(|e| e.to_string())?;
    Ok(format!(
        "{}: {:?} weights in [{min:.3}, {max:.3}]",
        out.display(),
        args.kind
    ))
}
