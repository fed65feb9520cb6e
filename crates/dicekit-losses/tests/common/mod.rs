//! Shared test helpers.
#![allow(dead_code)]
use burn::prelude::*;
use std::sync::OnceLock;

/// An autodiff Flex device whose floats are f64 (configured once, before any tensor).
pub fn f64_device() -> Device {
    static DEVICE: OnceLock<Device> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d = Device::flex();
            d.configure(burn::tensor::FloatDType::F64)
                .expect("configure f64 before the first tensor");
            d.autodiff()
        })
        .clone()
}
