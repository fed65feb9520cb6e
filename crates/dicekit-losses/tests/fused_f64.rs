//! The fused overlap kernel against burn's generic tensor path, in f64 (its own process: the
//! float type of the Flex device is set once).
mod common;
mod fused_cases;

#[test]
fn fused_matches_generic_in_f64() {
    fused_cases::compare(&common::f64_device(), 1e-10, "f64");
}
