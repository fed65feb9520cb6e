//! `dicekit train` and `dicekit demo`.
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use dicekit_train::{StopReason, TrainConfig, train};

use crate::args::{DemoArgs, TrainArgs};

/// The demo's config: the synthetic microaneurysm scene, a small U-Net, `0.5 BCE + 0.5 Dice`.
pub const DEMO_CONFIG: &str = include_str!("../../../../configs/demo_fundus.toml");

/// Runs `dicekit train`.
pub fn run(args: TrainArgs) -> ExitCode {
    let cfg = match TrainConfig::read(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The demo keeps its batch of 4 (its documented result); user configs hear about it.
    if cfg!(not(feature = "vulkan")) && cfg.data.batch_size <= 4 && cfg.model.base_channels <= 16 {
        eprintln!(
            "note: batch_size = {} is slow on the CPU: burn-flex 0.22.1 takes a slow path for the weight gradient of convolutions with <= 16 output channels when the batch has <= 4 images; 5 or more train faster per image (docs/benchmarks.md)",
            cfg.data.batch_size
        );
    }
    execute(&cfg, args.resume, !args.quiet, !args.no_report)
}

/// Runs `dicekit demo`.
pub fn demo(args: DemoArgs) -> ExitCode {
    let mut cfg = match TrainConfig::from_toml(DEMO_CONFIG, std::path::PathBuf::new()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: the built-in demo config: {e}");
            return ExitCode::from(2);
        }
    };
    cfg.training.output = args.out.clone();
    cfg.training.epochs = args.epochs.max(1);
    if let Err(e) = cfg.validate() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let resume = args.out.join("state.json").exists();
    if resume {
        println!("continuing the demo run in {}", args.out.display());
    }
    execute(&cfg, resume, true, true)
}

fn execute(cfg: &TrainConfig, resume: bool, progress: bool, report: bool) -> ExitCode {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    match train(cfg, resume, Some(&stop), progress) {
        Ok(outcome) => {
            let best = outcome
                .state
                .best
                .map_or("-".to_string(), |(d, e)| format!("{d:.4} (epoch {e})"));
            println!(
                "best validation Dice {best}; results in {}",
                outcome.output.display()
            );
            println!(
                "  {}/config.toml, log.csv, state.json, checkpoints/best.bpk and last.bpk",
                outcome.output.display()
            );
            if outcome.stop == StopReason::Interrupted {
                // As shells report a process stopped by SIGINT, so that a script can tell.
                eprintln!("interrupted: the last epoch's checkpoint is saved; --resume continues");
                return ExitCode::from(130);
            }
            if !report {
                return ExitCode::SUCCESS;
            }
            let opts = dicekit_report::ReportOptions {
                progress,
                ..Default::default()
            };
            match dicekit_report::write_report(&outcome.output, &opts) {
                Ok(index) => {
                    println!("report: {}", index.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: the report: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_is_valid() {
        let cfg = TrainConfig::from_toml(DEMO_CONFIG, std::path::PathBuf::new()).unwrap();
        assert_eq!(cfg.model.num_classes, 2);
        assert_eq!(cfg.loss.name(), "composite");
    }
}
