//! Fuzzes what `dicekit eval` does with a pair of files: decode both as label maps (NIfTI,
//! PNG or TIFF, chosen by the first byte), then the labels present, every metric under every
//! convention with a spacing taken from the input, and clDice. Any `Err` is fine; a panic,
//! crash, hang or out-of-memory is a finding.
#![no_main]

use dicekit_data::image::fuzzing;
use dicekit_metrics::{Convention, centreline_counts_per_label, evaluate_label_maps, labels_present};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let name = match data[0] % 3 {
        0 => "input.nii",
        1 => "input.png",
        _ => "input.tif",
    };
    // The second byte spaces the voxels; the next two split the rest into the two files.
    let spacing = 0.25 + f64::from(data[1]) / 64.0;
    let split = (usize::from(u16::from_le_bytes([data[2], data[3]])) % (data.len() - 3)).max(1);
    let (a, b) = data[4..].split_at(split.min(data.len() - 4));
    let (Ok(pred), Ok(truth)) = (fuzzing::read_label_map(name, a), fuzzing::read_label_map(name, b))
    else {
        return;
    };
    let labels = labels_present(&pred.data.view(), &truth.data.view());
    let labels = &labels[..labels.len().min(8)];
    let spacing = vec![spacing; truth.data.ndim()];
    for convention in Convention::ALL {
        let _ = evaluate_label_maps(
            &pred.data.view(),
            &truth.data.view(),
            &spacing,
            labels,
            convention,
            1.0,
        );
    }
    let _ = centreline_counts_per_label(&pred.data.view(), &truth.data.view(), labels);
});
