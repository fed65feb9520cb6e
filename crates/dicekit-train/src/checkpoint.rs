//! Which checkpoint of a training run to load.
use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A checkpoint of a run: one of the two that training writes into `<run>/checkpoints/`, or a
/// `.bpk` file anywhere. Parsed from `best`, `last` or a path.
///
/// ```
/// use std::path::Path;
/// use dicekit_train::Checkpoint;
///
/// let best: Checkpoint = "best".parse().unwrap();
/// assert_eq!(best.path(Path::new("runs/a")), Path::new("runs/a/checkpoints/best.bpk"));
/// let file: Checkpoint = "elsewhere/epoch9.bpk".parse().unwrap();
/// assert_eq!(file.path(Path::new("runs/a")), Path::new("elsewhere/epoch9.bpk"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Checkpoint {
    /// The epoch with the best validation score (`checkpoints/best.bpk`).
    #[default]
    Best,
    /// The last epoch trained (`checkpoints/last.bpk`).
    Last,
    /// A checkpoint file.
    File(PathBuf),
}

impl Checkpoint {
    /// The checkpoint's file for the run in `run`.
    pub fn path(&self, run: &Path) -> PathBuf {
        match self {
            Checkpoint::Best => run.join("checkpoints").join("best.bpk"),
            Checkpoint::Last => run.join("checkpoints").join("last.bpk"),
            Checkpoint::File(p) => p.clone(),
        }
    }
}

impl FromStr for Checkpoint {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "best" => Checkpoint::Best,
            "last" => Checkpoint::Last,
            other => Checkpoint::File(PathBuf::from(other)),
        })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checkpoint::Best => f.write_str("best"),
            Checkpoint::Last => f.write_str("last"),
            Checkpoint::File(p) => write!(f, "{}", p.display()),
        }
    }
}
