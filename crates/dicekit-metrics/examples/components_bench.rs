//! Time of connected components on a CT-like 512x512x120 label map with about 500 lesions
//! (ellipsoids of 1 to 9 voxels radius, labels 1 and 2, some touching), in C and in Fortran
//! layout (a NIfTI volume as nibabel holds it); prints one line per run.
//!
//! Run: `cargo run --release -p dicekit-metrics --example components_bench -- [lesions] [repeats]`
use std::time::Instant;

use dicekit_metrics::{
    Connectivity, ScanOrder, connected_components, instance_components, label_components,
};
use ndarray::{Array3, ArrayD, ShapeBuilder};

/// SplitMix64: a fixed stream of pseudo-random numbers.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Label map and instance map of `n` ellipsoids.
fn scene(n: usize) -> (Array3<u8>, Array3<u16>) {
    let shape = (512, 512, 120);
    let mut labels = Array3::<u8>::zeros(shape);
    let mut instances = Array3::<u16>::zeros(shape);
    let mut rng = Rng(20261128);
    for id in 1..=n {
        let r = [1 + rng.below(9), 1 + rng.below(9), 1 + rng.below(4)];
        let c = [
            r[0] + rng.below(shape.0 - 2 * r[0]),
            r[1] + rng.below(shape.1 - 2 * r[1]),
            r[2] + rng.below(shape.2 - 2 * r[2]),
        ];
        let label = 1 + (id % 2) as u8;
        for i in c[0] - r[0]..=c[0] + r[0] {
            for j in c[1] - r[1]..=c[1] + r[1] {
                for k in c[2] - r[2]..=c[2] + r[2] {
                    let d: f64 = [i, j, k]
                        .iter()
                        .zip(&c)
                        .zip(&r)
                        .map(|((&x, &m), &s)| ((x as f64 - m as f64) / s as f64).powi(2))
                        .sum();
                    if d <= 1.0 {
                        labels[[i, j, k]] = label;
                        instances[[i, j, k]] = id as u16;
                    }
                }
            }
        }
    }
    (labels, instances)
}

fn time<R>(what: &str, repeats: usize, mut f: impl FnMut() -> R, describe: impl Fn(&R) -> String) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..repeats {
        let t0 = Instant::now();
        let r = f();
        best = best.min(t0.elapsed().as_secs_f64());
        last = Some(r);
    }
    let d = last.map(|r| describe(&r)).unwrap_or_default();
    println!("{what:<44} {:8.1} ms  {d}", best * 1e3);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let (labels, instances) = scene(n);
    let mut fortran = ArrayD::<u8>::zeros(labels.shape().f());
    fortran.assign(&labels);
    let labels = labels.into_dyn();
    let instances = instances.into_dyn();
    println!(
        "512x512x120, {n} ellipsoids, {} threads, best of {repeats}",
        rayon::current_num_threads()
    );
    let count = |c: &dicekit_metrics::Components| format!("{} components", c.len());
    for conn in [Connectivity::Six, Connectivity::TwentySix] {
        let k = conn.neighbours();
        time(
            &format!("label map, {k}-connectivity, C order"),
            repeats,
            || connected_components(&labels.view(), conn, ScanOrder::RowMajor).expect("3D"),
            count,
        );
        time(
            &format!("label map, {k}-connectivity, Fortran order"),
            repeats,
            || connected_components(&fortran.view(), conn, ScanOrder::ColumnMajor).expect("3D"),
            count,
        );
        time(
            &format!("label 1 only, {k}-connectivity, C order"),
            repeats,
            || label_components(&labels.view(), 1, conn, ScanOrder::RowMajor).expect("3D"),
            count,
        );
    }
    time(
        "instance map as given",
        repeats,
        || instance_components(&instances.view(), ScanOrder::RowMajor).expect("3D"),
        |c| format!("{} instances", c.len()),
    );
}
