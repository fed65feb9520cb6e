//! The fused overlap kernel against burn's generic tensor path, in f32 (Flex's default).
mod common;
mod fused_cases;

use burn::prelude::*;

#[test]
fn fused_matches_generic_in_f32() {
    fused_cases::compare(&Device::flex().autodiff(), 2e-5, "f32");
}
