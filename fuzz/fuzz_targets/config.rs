//! Fuzzes the training config parser: any text through `TrainConfig::from_toml` (which reads,
//! fills defaults, rejects unknown keys and validates every section) and the loss it describes.
//! Any `Err` is fine; a panic is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = dicekit_train::TrainConfig::from_toml(text, std::path::PathBuf::new()) {
        let _ = cfg.validate();
        let _ = cfg.loss.validate();
        for classes in 1..4 {
            let _ = cfg.loss.check_classes(classes);
        }
        // The config a run saves parses back (the typed [loss] serialises whole).
        if let Ok(text) = toml::to_string(&cfg) {
            let _ = dicekit_train::TrainConfig::from_toml(&text, std::path::PathBuf::new());
        }
    }
});
