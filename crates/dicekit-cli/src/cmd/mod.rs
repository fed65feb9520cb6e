//! One module per subcommand.
pub mod eval;
pub mod experiment;
pub mod predict;
pub mod report;
pub mod synth;
pub mod train;
pub mod weights;
