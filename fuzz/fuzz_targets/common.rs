//! Shared by every target: decode the bytes as a file named `name` with every reader of
//! dicekit-data. Any outcome is fine except a panic (or a crash, a hang, an out-of-memory).

use dicekit_data::image::fuzzing;
use dicekit_data::mask::{MaskDecoding, UnknownColour};

pub fn decode_all(name: &str, data: &[u8]) {
    let _ = fuzzing::read_image(name, data);
    let _ = fuzzing::read_label_map(name, data);
    let _ = fuzzing::read_mask(
        name,
        data,
        &MaskDecoding::Threshold {
            threshold: 127.0,
            channel: usize::from(data.first().copied().unwrap_or(0) % 4),
        },
    );
    let _ = fuzzing::read_mask(
        name,
        data,
        &MaskDecoding::ColourTable {
            colours: vec![([0, 0, 0], 0), ([255, 255, 255], 1), ([60, 16, 152], 2)],
            unknown: if data.len() % 2 == 0 {
                UnknownColour::Error
            } else {
                UnknownColour::Ignore(255)
            },
        },
    );
}
