//! Time and peak memory of HD, HD95, ASSD and NSD (1 mm) computed together, per label, for the
//! benchmark cases; prints one JSON line per case. Used by `benches/peers/surface_peers.py`.
//!
//! Run: `cargo run --release -p dicekit-metrics --example metrics_bench -- sphere256 [repeats]`
#[path = "common_cases.rs"]
mod common_cases;

use std::time::Instant;

use dicekit_metrics::{Boundary, Percentile, SurfaceDistances, SurfaceMean};

fn vm(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "sphere128".into());
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let Some(case) = common_cases::case(&name) else {
        eprintln!("error: unknown case `{name}` (sphere128, sphere256, ct, multi192)");
        std::process::exit(2);
    };
    let base = vm("VmRSS:");
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..repeats {
        let t0 = Instant::now();
        last.clear();
        let (p, t) = (case.pred.view(), case.truth.view());
        for sd in SurfaceDistances::per_label(&p, &t, &case.labels, &case.spacing, Boundary::Faces)
            .expect("valid case")
        {
            last.push([
                sd.hausdorff().value().unwrap_or(f64::NAN),
                sd.hausdorff_percentile(95.0, Percentile::DirectedLinear)
                    .value()
                    .unwrap_or(f64::NAN),
                sd.average_surface_distance(SurfaceMean::Pooled)
                    .value()
                    .unwrap_or(f64::NAN),
                sd.normalized_surface_dice(1.0).value().unwrap_or(f64::NAN),
            ]);
        }
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let peak = vm("VmHWM:");
    println!(
        "{{\"case\": \"{}\", \"median_s\": {:.4}, \"peak_mib\": {:.1}, \"inputs_mib\": {:.1}, \"first_label\": {{\"hd\": {:.6}, \"hd95\": {:.6}, \"assd\": {:.6}, \"nsd\": {:.6}}}}}",
        case.name,
        times[times.len() / 2],
        peak as f64 / 1024.0,
        base as f64 / 1024.0,
        last[0][0],
        last[0][1],
        last[0][2],
        last[0][3]
    );
}
