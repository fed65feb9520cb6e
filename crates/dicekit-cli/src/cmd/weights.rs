//! `dicekit weights`: U-Net or boundary-band weight maps of label maps, written as images
//! ([`dicekit_data::write_weight_map`]).
use std::process::ExitCode;

use dicekit_data::weight_map::{BandProfile, BoundaryWeightConfig, UnetWeightConfig};
use dicekit_data::{WeightMapKind, write_weight_map};

use crate::args::{WeightKind, WeightsArgs};

/// Reads `--mask`, computes the weight map, writes `--out` (`.tif` for 2D, `.nii`/`.nii.gz` for 3D).
pub fn run(args: WeightsArgs) -> ExitCode {
    let kind = match args.kind {
        WeightKind::Unet => WeightMapKind::Unet(UnetWeightConfig {
            w0: args.w0,
            sigma: args.sigma,
            ignore_label: args.ignore,
            ..Default::default()
        }),
        WeightKind::Boundary => WeightMapKind::Boundary(BoundaryWeightConfig {
            band_weight: args.band_weight,
            profile: BandProfile::Gaussian { sigma: args.sigma },
            ignore_label: args.ignore,
        }),
    };
    match write_weight_map(&args.mask, &args.out, &kind, args.pixels) {
        Ok((min, max)) => {
            println!(
                "{}: {:?} weights in [{min:.3}, {max:.3}]",
                args.out.display(),
                args.kind
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
