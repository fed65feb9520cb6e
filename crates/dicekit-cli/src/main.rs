//! `dicekit`: segmentation metrics, training and reports from the command line.
//!
//! Exit codes: 0 success, 1 internal error, 2 bad input or config (one line on stderr says what
//! is wrong), 130 interrupted (Ctrl-C).
// The doc comments of `args` are clap's --help text, written for a terminal: `[default: ..]`
// and `<case>` are meant literally there, not as Markdown links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
mod args;
mod cmd;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc keeps freed pages for reuse (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc.h (the same index in mimalloc v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory stays committed to the process instead of being returned to the OS 10 ms
/// later: the tensors of a training step are freed and allocated again every step, and
/// returning them made the kernel fault in and zero fresh pages each time (a quarter of a 3D
/// step; docs/benchmarks.md).
fn keep_freed_pages() {
    // SAFETY: `mi_option_set` stores an integer option of the allocator; mimalloc allows it at
    // any time, from any thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1)
    };
}

/// Prints the libraries' warnings (`log::warn!`) to stderr as `warning: ...` lines.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{}: {}",
                record.level().as_str().to_lowercase(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

fn main() -> ExitCode {
    keep_freed_pages();
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and succeed; usage errors exit 2 with clap's message.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        args::Command::Eval(a) => cmd::eval::run(a),
        args::Command::Synth(a) => cmd::synth::run(a),
        args::Command::Weights(a) => cmd::weights::run(a),
        args::Command::Train(a) => cmd::train::run(a),
        args::Command::Demo(a) => cmd::train::demo(a),
        args::Command::Predict(a) => cmd::predict::run(a),
        args::Command::Report(a) => cmd::report::run(a),
        args::Command::Experiment(a) => cmd::experiment::run(a),
    }
}
