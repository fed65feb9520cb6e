//! A reliability diagram of metric bins, with the calibration figures written on it.
use dicekit_metrics::ReliabilityBin;
use dicekit_plot::{ReliabilityBar, ReliabilityDiagram};

/// The diagram of `bins` titled `title`, annotated with ECE, MCE and Brier score (four
/// decimals) and a last line (`Dice ..`, `N voxels`).
pub fn reliability_diagram(
    title: String,
    bins: &[ReliabilityBin],
    ece: f64,
    mce: f64,
    brier: f64,
    last_line: String,
) -> ReliabilityDiagram {
    ReliabilityDiagram {
        title,
        bars: bins
            .iter()
            .map(|b| ReliabilityBar {
                lower: b.lower,
                upper: b.upper,
                count: b.count,
                confidence: b.confidence,
                accuracy: b.accuracy,
            })
            .collect(),
        annotation: vec![
            format!("ECE   {ece:.4}"),
            format!("MCE   {mce:.4}"),
            format!("Brier {brier:.4}"),
            last_line,
        ],
    }
}
