//! `dicekit synth <scene>`: a seeded synthetic dataset ([`dicekit_data::synth::write_dataset`]),
//! with each sample's foreground share printed.
use std::process::ExitCode;

use dicekit_data::synth::write_dataset;

use crate::args::SynthArgs;

/// Writes `count` samples as `images/`, `masks/` (and `clouds/` or `labels.csv`) under `--out`.
pub fn run(args: SynthArgs) -> ExitCode {
    let scene = args.scene.0;
    let written = write_dataset(
        scene,
        &args.out,
        args.count,
        args.size.as_deref(),
        args.seed,
        args.foreground,
        |s| {
            let extra = match (s.image_label, s.cloud) {
                (Some(l), _) => format!(", image label {l}"),
                (None, Some(c)) => format!(", cloud {:.2} %", 100.0 * c),
                _ => String::new(),
            };
            println!(
                "{}: foreground {:.4} %{extra}",
                s.name,
                100.0 * s.foreground
            );
        },
    );
    match written {
        Ok(d) => {
            println!(
                "{} images of `{}` in {}: mean foreground fraction {:.4} %",
                d.count,
                scene.name(),
                args.out.display(),
                100.0 * d.mean_foreground
            );
            let classes = scene.class_names();
            if classes.len() > 2 {
                for (l, name) in classes.iter().enumerate().skip(1) {
                    println!("  {l} {name}: {:.4} %", 100.0 * d.class_fractions[l]);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
