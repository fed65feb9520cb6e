//! What every experiment does with one training run: write its config, train it (or reuse it
//! when a previous invocation finished the same config), and evaluate it.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use dicekit_train::{TrainConfig, TrainState, train};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Milliseconds that the runs reused in this process took when they ran (training and
/// evaluation), so that a report written after an interrupted experiment still gives the whole
/// experiment's time.
static REUSED_MS: AtomicU64 = AtomicU64::new(0);

/// The file beside `result.json` that keeps a run's wall time (training and evaluation), seconds.
const SECONDS_FILE: &str = "seconds.txt";

/// A finished training run.
pub struct Finished<'a> {
    /// Its folder (config, log, checkpoints).
    pub dir: &'a Path,
    /// Its config.
    pub config: TrainConfig,
    /// Its final state (history, best epoch).
    pub state: TrainState,
    /// Wall time of the training, in seconds (0 when reused).
    pub seconds: f64,
}

/// Trains the run in `dir` from the TOML `config` (whose `[training] output` must be `dir`),
/// then `evaluate`s it and saves the result as `dir/result.json`. When `dir` already holds a
/// `result.json` from the same config text, that result is returned without training; when it
/// holds an unfinished run of the same config (killed part-way), training resumes from its last
/// epoch. The `output` line is left out of the comparison, so an experiment folder that was
/// moved or copied is reused where it now lies (its `experiment.toml` is rewritten to the new
/// path).
///
/// # Errors
/// A one-line message from the config, the training or the evaluation.
pub fn train_or_reuse<R: Serialize + DeserializeOwned>(
    dir: &Path,
    config: &str,
    evaluate: impl FnOnce(&Finished) -> Result<R, String>,
) -> Result<R, String> {
    let result_path = dir.join("result.json");
    let config_path = dir.join("experiment.toml");
    let saved_config = std::fs::read_to_string(&config_path).ok();
    let same_config = saved_config
        .as_deref()
        .is_some_and(|saved| without_output(saved) == without_output(config));
    if same_config && saved_config.as_deref() != Some(config) {
        write(&config_path, config)?;
    }
    if same_config
        && let Ok(saved) = std::fs::read_to_string(&result_path)
        && let Ok(r) = serde_json::from_str::<R>(&saved)
    {
        let seconds = std::fs::read_to_string(dir.join(SECONDS_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        REUSED_MS.fetch_add((seconds * 1000.0) as u64, Ordering::Relaxed);
        return Ok(r);
    }
    // A run stopped part-way (the process was killed) continues from its last epoch, as
    // `dicekit train --resume` would; the seconds of its finished epochs count in its time.
    let earlier = if same_config {
        interrupted_seconds(dir)
    } else {
        None
    };
    if earlier.is_none() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        std::fs::write(&config_path, config)
            .map_err(|e| format!("{}: {e}", config_path.display()))?;
    }
    let cfg = TrainConfig::from_toml(config, PathBuf::new())?;
    let t0 = Instant::now();
    let seconds = || earlier.unwrap_or(0.0) + t0.elapsed().as_secs_f64();
    let outcome = train(&cfg, earlier.is_some(), None, false).map_err(|e| e.to_string())?;
    let finished = Finished {
        dir,
        config: cfg,
        state: outcome.state,
        seconds: seconds(),
    };
    let result = evaluate(&finished)?;
    save_result(dir, &result)?;
    write(&dir.join(SECONDS_FILE), &format!("{}\n", seconds()))?;
    Ok(result)
}

/// Trains every variant of `spec` with every seed (seed by seed, the variants in order), each
/// in `out/runs/<variant>_seed<seed>` from the spec's training template (which sees `setup`,
/// `variant`, `seed`, `output` and `datasets`), reusing finished runs, and scores each with
/// `score`; prints one progress line per run (`line` says what to show of a result). Returns
/// the results in run order and the clock (for the experiment's duration).
///
/// # Errors
/// A template, training or scoring error, naming the run.
pub fn run_grid<R: Serialize + DeserializeOwned>(
    grid: &Grid,
    score: impl Fn(&Finished, &crate::spec::Variant, u64) -> Result<R, String>,
    line: impl Fn(&R) -> String,
) -> Result<(Vec<R>, Clock), String> {
    let clock = Clock::start(grid.spec.variants.len() * grid.seeds.len());
    let results = grid.run(&grid.spec.variants, &clock, 0, score, line)?;
    Ok((results, clock))
}

/// What the runs of an experiment share: its files and spec, the setup (full or `--quick`),
/// the seeds and the output folder.
pub struct Grid {
    /// The experiment's files.
    pub files: crate::spec::Files,
    /// Its spec.
    pub spec: crate::spec::Spec,
    /// The setup the templates see.
    pub setup: serde_json::Map<String, serde_json::Value>,
    /// Seeds of every variant.
    pub seeds: Vec<u64>,
    /// The experiment's folder.
    pub out: PathBuf,
}

impl Grid {
    /// The grid of the experiment in `files` as `args` ask for it: the spec parsed, the setup
    /// (`--quick` or not), seeds `1..=args.seeds`, and the output folder created
    /// ([`out_dir`], named after the spec).
    ///
    /// # Errors
    /// A bad spec, or an output folder that cannot be created.
    pub fn new(files: crate::spec::Files, args: &crate::ExperimentOptions) -> Result<Self, String> {
        let spec = crate::spec::Spec::parse(&files)?;
        let setup = spec.setup(args.quick);
        let out = out_dir(args, &spec.name)?;
        Ok(Grid {
            files,
            spec,
            setup,
            seeds: (1..=args.seeds as u64).collect(),
            out,
        })
    }

    /// The training config of `variant` with `seed`, writing to `dir`.
    ///
    /// # Errors
    /// A template error.
    pub fn config(
        &self,
        variant: &crate::spec::Variant,
        seed: u64,
        dir: &Path,
    ) -> Result<String, String> {
        let context = serde_json::json!({
            "setup": self.setup, "variant": variant, "seed": seed, "output": toml_path(dir),
            "datasets": toml_path(&datasets_dir()),
        });
        self.files.render_train(&context)
    }

    /// Trains and scores `variants` x seeds as [`run_grid`] does, counting steps on `clock`
    /// from `first + 1`.
    ///
    /// # Errors
    /// A template, training or scoring error, naming the run.
    pub fn run<R: Serialize + DeserializeOwned>(
        &self,
        variants: &[crate::spec::Variant],
        clock: &Clock,
        first: usize,
        score: impl Fn(&Finished, &crate::spec::Variant, u64) -> Result<R, String>,
        line: impl Fn(&R) -> String,
    ) -> Result<Vec<R>, String> {
        let width = variants.iter().map(|v| v.name.len()).max().unwrap_or(0);
        let mut results = vec![];
        for (n, &seed) in self.seeds.iter().enumerate() {
            for (i, variant) in variants.iter().enumerate() {
                let k = first + n * variants.len() + i + 1;
                let dir = self
                    .out
                    .join("runs")
                    .join(format!("{}_seed{seed}", variant.name));
                let text = self.config(variant, seed, &dir)?;
                let r = train_or_reuse(&dir, &text, |f| score(f, variant, seed))?;
                println!(
                    "{} {} = {:<width$} seed {seed}: {} ({:.0} s; about {:.0} s left)",
                    clock.step(k),
                    self.spec.name,
                    variant.name,
                    line(&r),
                    seconds_of(&dir),
                    clock.left(k)
                );
                results.push(r);
            }
        }
        Ok(results)
    }
}

/// The wall time a run in `dir` took (training and evaluation), 0 when unknown.
fn seconds_of(dir: &Path) -> f64 {
    std::fs::read_to_string(dir.join(SECONDS_FILE))
        .ok()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Saves `result` as the `result.json` of the run in `dir`: after training, or when a score
/// added to an experiment later is computed for a run that had finished before.
///
/// # Errors
/// When the file cannot be written.
pub fn save_result<R: Serialize>(dir: &Path, result: &R) -> Result<(), String> {
    let path = dir.join("result.json");
    let text = serde_json::to_string_pretty(result).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The validation curve of the run in `dir`: (epoch, mean validation Dice) for each validated
/// epoch, read from its `state.json` (so it is there for reused runs too).
///
/// # Errors
/// When the run has no readable `state.json`.
pub fn validation_curve(dir: &Path) -> Result<Vec<(usize, f64)>, String> {
    Ok(read_state(dir)?
        .history
        .iter()
        .filter_map(|e| Some((e.epoch, e.val_mean_dice?)))
        .collect())
}

/// A run's config text without its `output = ...` line: the folder a run lies in does not
/// change what it trains.
fn without_output(config: &str) -> Vec<&str> {
    config
        .lines()
        .filter(|line| {
            line.trim_start()
                .strip_prefix("output")
                .is_none_or(|rest| !rest.trim_start().starts_with('='))
        })
        .collect()
}

/// The summed epoch times of an unfinished run in `dir` (whose `experiment.toml` is the config
/// asked for) that can be resumed: `None` when it has no state or checkpoint to resume from.
fn interrupted_seconds(dir: &Path) -> Option<f64> {
    if !dir.join("checkpoints/last.bpk").is_file()
        || !dir.join("checkpoints/last.optim.bpk").is_file()
    {
        return None;
    }
    let state = read_state(dir).ok()?;
    Some(state.history.iter().map(|e| e.seconds).sum())
}

/// The `state.json` of the run in `dir`.
fn read_state(dir: &Path) -> Result<TrainState, String> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The repository's `datasets/` folder (the description files of the shared data sets).
pub fn datasets_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets"))
}

/// A path as it is written into a TOML string (forward slashes).
pub fn toml_path(p: &Path) -> String {
    p.display().to_string().replace('\\', "/")
}

/// Writes a text file, with the path in the error.
pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Saves a rendered plot.
pub fn save_plot(canvas: &dicekit_plot::Canvas, path: &Path) -> Result<(), String> {
    canvas
        .save_png(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The opening of every experiment's `report.md`: the title (marked when `--quick`) and the
/// command that wrote it, with its duration.
pub fn header(args: &crate::ExperimentOptions, name: &str, title: &str, seconds: f64) -> String {
    format!(
        "# Experiment: {title}{}\n\nCommand: `dicekit experiment {name}{}{}` ({:.1} min on this machine). Every number is in [results.json](results.json); each run's config, log and checkpoints are under `runs/`.\n\n",
        if args.quick {
            " (--quick: too small to conclude anything)"
        } else {
            ""
        },
        if args.quick { " --quick" } else { "" },
        if args.seeds != 3 {
            format!(" --seeds {}", args.seeds)
        } else {
            String::new()
        },
        seconds / 60.0
    )
}

/// The experiment's output folder, `--out` or `runs/experiment-<name>[-quick]`, created with
/// its `runs/` sub-folder (one folder per training run).
pub fn out_dir(args: &crate::ExperimentOptions, name: &str) -> Result<PathBuf, String> {
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "runs/experiment-{name}{}",
            if args.quick { "-quick" } else { "" }
        ))
    });
    std::fs::create_dir_all(out.join("runs")).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// A score with three decimals, or an en dash where it is undefined (no case to score).
pub fn fmt(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.3}"))
}

/// The clock of an experiment's run loop: how long it has run, and an estimate of what is left.
pub struct Clock {
    started: Instant,
    /// [`REUSED_MS`] when the clock started.
    reused_ms: u64,
    total: usize,
}

impl Clock {
    /// Starts the clock for `total` training runs.
    pub fn start(total: usize) -> Self {
        Self {
            started: Instant::now(),
            reused_ms: REUSED_MS.load(Ordering::Relaxed),
            total,
        }
    }

    /// Seconds since the start, plus the time that the runs reused since then took when they
    /// ran: the experiment's time, whether or not an earlier invocation did part of it.
    pub fn seconds(&self) -> f64 {
        let reused = REUSED_MS.load(Ordering::Relaxed) - self.reused_ms;
        self.started.elapsed().as_secs_f64() + reused as f64 / 1000.0
    }

    /// `[k/total]`, the prefix of the progress line of the `k`-th run (1-based).
    pub fn step(&self, k: usize) -> String {
        format!("[{k}/{}]", self.total)
    }

    /// Seconds left after `k` of the runs, at the mean pace so far.
    pub fn left(&self, k: usize) -> f64 {
        self.seconds() / k.max(1) as f64 * self.total.saturating_sub(k) as f64
    }
}

/// Writes `results.json` (every number) and `report.md` into `out`; returns the report's path.
pub fn finish(out: &Path, results: &serde_json::Value, report: &str) -> Result<PathBuf, String> {
    write(
        &out.join("results.json"),
        &(serde_json::to_string_pretty(results).expect("JSON") + "\n"),
    )?;
    let path = out.join("report.md");
    write(&path, report)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    /// A tiny synthetic run of `epochs` epochs writing to `out`.
    fn config(out: &Path, epochs: usize) -> String {
        format!(
            r#"[data]
source = "synthetic"
scene = "lesion-texture"
train = 4
val = 2
size = [32, 32]
patch = [32, 32]
batch_size = 2

[model]
in_channels = 1
num_classes = 2
depth = 2
base_channels = 4

[loss]
loss = "overlap"

[training]
epochs = {epochs}
iterations_per_epoch = 3
seed = 5
output = "{}"
"#,
            toml_path(out)
        )
    }

    #[test]
    fn a_killed_run_resumes_from_its_last_epoch_and_a_finished_one_is_reused() {
        let dir = std::env::temp_dir().join(format!("dicekit-runner-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = config(&dir, 3);
        std::fs::write(dir.join("experiment.toml"), &text).unwrap();
        // Stop the first attempt once epoch 1 is saved (as a kill after epoch 1 would).
        let stop = AtomicBool::new(false);
        let cfg = TrainConfig::from_toml(&text, PathBuf::new()).unwrap();
        let first = std::thread::scope(|s| {
            s.spawn(|| {
                while !dir.join("state.json").exists() {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                stop.store(true, Ordering::SeqCst);
            });
            train(&cfg, false, Some(&stop), false).unwrap()
        });
        let done = first.state.epochs_done;
        assert!(done < 3, "the first attempt ran to the end");
        let first_seconds: Vec<f64> = first.state.history.iter().map(|e| e.seconds).collect();

        let r = train_or_reuse(&dir, &text, |f| {
            assert_eq!(f.state.epochs_done, 3);
            // The epochs of the first attempt are kept, not trained again.
            let kept: Vec<f64> = f.state.history[..done].iter().map(|e| e.seconds).collect();
            assert_eq!(kept, first_seconds);
            assert!(f.seconds >= f.state.history.iter().map(|e| e.seconds).sum::<f64>() - 1e-9);
            Ok(f.state.history.len())
        })
        .unwrap();
        assert_eq!(r, 3);
        // A second call reuses result.json without training or evaluating.
        let again: usize = train_or_reuse(&dir, &text, |_| -> Result<usize, String> {
            panic!("a finished run was evaluated again")
        })
        .unwrap();
        assert_eq!(again, 3);
        // So does a call on a copy of the finished run in another folder.
        let moved = dir.with_extension("moved");
        std::fs::create_dir_all(&moved).unwrap();
        for file in ["experiment.toml", "result.json", SECONDS_FILE] {
            std::fs::copy(dir.join(file), moved.join(file)).unwrap();
        }
        let there = config(&moved, 3);
        let copied: usize = train_or_reuse(&moved, &there, |_| -> Result<usize, String> {
            panic!("a moved run was trained again")
        })
        .unwrap();
        assert_eq!(copied, 3);
        let saved = std::fs::read_to_string(moved.join("experiment.toml")).unwrap();
        assert_eq!(saved, there);
        // A different config is not reused.
        assert_ne!(without_output(&config(&moved, 4)), without_output(&there));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&moved);
    }
}
