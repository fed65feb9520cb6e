//! `dicekit predict`: sliding-window prediction with a trained run, in the input's format
//! ([`dicekit_train::predict_file`]).
use std::process::ExitCode;

use dicekit_train::{PredictOptions, image_inputs, load_run, predict_file, write_classes_csv};

use crate::args::PredictArgs;

/// Predicts every input; failures are listed and give exit code 2, the other inputs are still done.
pub fn run(args: PredictArgs) -> ExitCode {
    let prepared = load_run(&args.run, &args.checkpoint).and_then(|mut model| {
        model.predictor.flip_tta = args.tta;
        let inputs = image_inputs(&args.input)?;
        std::fs::create_dir_all(&args.out).map_err(|error| dicekit_train::InputError::Read {
            path: args.out.clone(),
            error,
        })?;
        Ok((model, inputs))
    });
    let (model, inputs) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The reference is read for the overlay and by the oracle attention control only; anywhere
    // else it would be silently ignored.
    if args.truth.is_some() && !args.overlay && !model.needs_reference() {
        eprintln!(
            "error: --truth is read with --overlay, or by an oracle attention network; this run is neither"
        );
        return ExitCode::from(2);
    }
    let options = PredictOptions {
        probabilities: args.probabilities,
        overlay: args.overlay,
        truth: args.truth.clone(),
    };
    let mut failures = 0;
    let mut done = vec![];
    for input in &inputs {
        match predict_file(&model, input, &args.out, &options) {
            Ok(p) => {
                let mut msg = format!(
                    "{}: {} (foreground {:.4} %)",
                    p.input.display(),
                    p.label_map.display(),
                    100.0 * p.foreground
                );
                if p.overlay_skipped {
                    msg.push_str("; no overlay: overlays are drawn on 2D images only");
                }
                if let Some((class, probs)) = &p.class {
                    msg.push_str(&format!("; image class {class} (p = {:.4})", probs[*class]));
                }
                println!("{msg}");
                done.push(p);
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if done.iter().any(|p| p.class.is_some()) {
        let k = model
            .config()
            .attention_config()
            .map_or(2, |a| a.image_classes);
        if let Err(e) = write_classes_csv(&args.out, k, &done) {
            eprintln!("error: {e}");
            failures += 1;
        }
    }
    if failures > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
