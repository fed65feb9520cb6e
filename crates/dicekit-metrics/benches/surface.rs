//! HD, HD95, ASSD and NSD computed together (one `SurfaceDistances` per label), criterion.
//!
//! Run: `cargo bench -p dicekit-metrics --bench surface`. Memory: `examples/metrics_bench.rs`.
#[path = "../examples/common_cases.rs"]
mod common_cases;

use criterion::{Criterion, criterion_main};
use dicekit_metrics::{Boundary, Percentile, SurfaceDistances, SurfaceMean};

fn all_four(case: &common_cases::Case) -> f64 {
    let mut acc = 0.0;
    let (p, t) = (case.pred.view(), case.truth.view());
    for sd in
        SurfaceDistances::per_label(&p, &t, &case.labels, &case.spacing, Boundary::Faces).unwrap()
    {
        acc += sd.hausdorff().value().unwrap()
            + sd.hausdorff_percentile(95.0, Percentile::DirectedLinear)
                .value()
                .unwrap()
            + sd.average_surface_distance(SurfaceMean::Pooled)
                .value()
                .unwrap()
            + sd.normalized_surface_dice(1.0).value().unwrap();
    }
    acc
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("hd_hd95_assd_nsd");
    group.sample_size(10);
    for name in ["sphere128", "sphere256", "ct", "multi192"] {
        let case = common_cases::case(name).unwrap();
        group.bench_function(name, |b| b.iter(|| all_four(&case)));
    }
    group.finish();
}

#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::bench);
}
criterion_main!(harness::benches);
