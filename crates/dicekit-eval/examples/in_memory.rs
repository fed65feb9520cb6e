//! Time of the voxel metrics on a pair already in memory (what the Python package's `evaluate`
//! runs): both maps are read first, then every label's overlap and surface metrics are
//! computed `repeats` times; prints the median and the fastest run.
//!
//! Run: `cargo run --release -p dicekit-eval --example in_memory -- PRED TRUTH [repeats]`
use std::path::PathBuf;
use std::time::Instant;

use dicekit_data::LabelVolume;
use dicekit_eval::{EvalOptions, read_pair};
use dicekit_metrics::{Convention, evaluate_label_maps, labels_present};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: in_memory PRED TRUTH [repeats]");
        std::process::exit(2);
    }
    let (pred, truth) = (PathBuf::from(&args[0]), PathBuf::from(&args[1]));
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(10);
    let (p, t, spacing) = match read_pair(&pred, &truth, &EvalOptions::default()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let (LabelVolume::U8(p), LabelVolume::U8(t)) = (p, t) else {
        eprintln!("error: this example times uint8 maps");
        std::process::exit(2);
    };
    let (p, t) = (p.data.view(), t.data.view());
    let mut times = Vec::new();
    for _ in 0..repeats {
        let t0 = Instant::now();
        let labels = labels_present(&p, &t);
        let evals = evaluate_label_maps(&p, &t, &spacing, &labels, Convention::Monai, 1.0);
        times.push(t0.elapsed().as_secs_f64());
        assert!(evals.is_ok());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{}: median {:.4} s, fastest {:.4} s ({repeats} runs)",
        pred.display(),
        times[times.len() / 2],
        times[0]
    );
}
