//! Which prediction is scored against which reference: two files, or two folders matched by
//! case name.
use std::path::{Path, PathBuf};

use dicekit_data::{case_name, label_maps_by_case};

use crate::EvalError;

/// One case: its name, the prediction and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePair {
    /// Case name (the reference's file name without its extension).
    pub name: String,
    /// The predicted label map.
    pub pred: PathBuf,
    /// The reference label map.
    pub truth: PathBuf,
}

/// The cases of two inputs, and the files that have no partner.
#[derive(Debug)]
pub struct Pairing {
    /// Matched cases, in case-name order.
    pub pairs: Vec<CasePair>,
    /// A [`EvalError::NoReference`] or [`EvalError::NoPrediction`] per file without a partner.
    pub unmatched: Vec<EvalError>,
}

/// Pairs two files (one case named after the reference), or two folders by case name.
///
/// # Errors
/// A folder against a file, a prediction folder without label maps, or a folder that cannot be
/// listed.
pub fn pair_inputs(pred: &Path, truth: &Path) -> Result<Pairing, EvalError> {
    match (pred.is_dir(), truth.is_dir()) {
        (false, false) => Ok(Pairing {
            pairs: vec![CasePair {
                name: case_name(truth),
                pred: pred.to_path_buf(),
                truth: truth.to_path_buf(),
            }],
            unmatched: vec![],
        }),
        (true, true) => {
            let (p, t) = (label_maps_by_case(pred)?, label_maps_by_case(truth)?);
            if p.is_empty() {
                return Err(EvalError::NoLabelMaps(pred.to_path_buf()));
            }
            let mut unmatched = Vec::new();
            let mut pairs = Vec::new();
            for (name, pf) in &p {
                match t.get(name) {
                    Some(tf) => pairs.push(CasePair {
                        name: name.clone(),
                        pred: pf.clone(),
                        truth: tf.clone(),
                    }),
                    None => unmatched.push(EvalError::NoReference {
                        file: pf.clone(),
                        name: name.clone(),
                        folder: truth.to_path_buf(),
                    }),
                }
            }
            for (name, tf) in &t {
                if !p.contains_key(name) {
                    unmatched.push(EvalError::NoPrediction {
                        file: tf.clone(),
                        name: name.clone(),
                        folder: pred.to_path_buf(),
                    });
                }
            }
            Ok(Pairing { pairs, unmatched })
        }
        (true, false) => Err(EvalError::FolderAndFile {
            folder: pred.to_path_buf(),
            file: truth.to_path_buf(),
        }),
        (false, true) => Err(EvalError::FolderAndFile {
            folder: truth.to_path_buf(),
            file: pred.to_path_buf(),
        }),
    }
}

/// Scores every pair with `score`, as many cases at once as there are worker threads (a worker
/// waiting inside a case may steal work, but only from this batch, so memory stays bounded by
/// the thread count, not the number of cases). `on_case(done, total)` is called before the
/// first case and after each (a progress bar), from the worker threads. Returns each scored
/// case as `(name, value)` in pair order, and the failures appended to `failures`.
pub(crate) fn score_pairs<T: Send>(
    pairs: &[CasePair],
    mut failures: Vec<EvalError>,
    on_case: impl Fn(usize, usize) + Sync,
    score: impl Fn(&CasePair) -> Result<T, EvalError> + Sync,
) -> (Vec<(String, T)>, Vec<EvalError>) {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = pairs.len();
    on_case(0, total);
    let done = AtomicUsize::new(0);
    let batch = rayon::current_num_threads().max(1);
    let mut scored = Vec::with_capacity(total);
    for chunk in pairs.chunks(batch) {
        let part: Vec<(String, Result<T, EvalError>)> = chunk
            .par_iter()
            .with_max_len(1)
            .map(|pair| {
                let r = score(pair);
                on_case(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                (pair.name.clone(), r)
            })
            .collect();
        for (name, r) in part {
            match r {
                Ok(v) => scored.push((name, v)),
                Err(e) => failures.push(e),
            }
        }
    }
    (scored, failures)
}
