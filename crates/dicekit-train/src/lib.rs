//! Training and inference for dicekit: a TOML config names the data, the U-Net, the loss (any
//! loss of `dicekit-losses`), the optimiser and schedule; training logs every loss term and
//! validation Dice per class (counts accumulated over the whole validation set), writes atomic
//! best/last checkpoints, resumes exactly, stops early on a plateau and on a NaN loss.
mod checkpoint;
mod config;
mod data;
mod error;
mod finite;
mod infer;
mod model_io;
mod predict_files;
mod schedule;
mod train;

pub use checkpoint::Checkpoint;
pub use config::{
    Clouds, DataSource, Normalization, OptimizerKind, Task, TrainConfig, WeightMapSpec,
};
pub use data::{Case, CaseSet, class_names, load_cases, load_validation_cases};
pub use error::InputError;
pub use infer::{Predictor, WindowTimes, predict_probabilities, predict_probabilities_timed};
pub use model_io::{Classification, Trained};
pub use predict_files::{
    FilePrediction, PredictOptions, image_inputs, load_run, predict_file, write_classes_csv,
};
pub use schedule::Schedule;
pub use train::{
    EpochLog, StopReason, TrainError, TrainModel, TrainOutcome, TrainState, output_activation,
    scored_labels, train, training_device,
};
