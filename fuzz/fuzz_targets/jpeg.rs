//! Fuzzes dicekit-data's readers on `.jpg` files: `read_image`, `read_label_map` and
//! `read_mask` (threshold and colour table), in memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::decode_all("input.jpg", data));
