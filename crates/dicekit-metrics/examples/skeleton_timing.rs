//! Time of `skeletonize` (and `cl_dice`) on a 128^3 volume of tubes around a solid ball, a solid
//! ball of radius 60 in 128^3 (900k voxels), and a 1024^2 image of thick curves; prints one JSON
//! line per case.
//!
//! Run: `cargo run --release -p dicekit-metrics --example skeleton_timing -- [repeats]`
use std::time::Instant;

use dicekit_metrics::{cl_dice, skeletonize};
use ndarray::{Array2, Array3};

/// Distance from `x` to the segment `a`-`b`.
fn to_segment(x: [f64; 3], a: [f64; 3], b: [f64; 3]) -> f64 {
    let ab: Vec<f64> = (0..3).map(|i| b[i] - a[i]).collect();
    let ax: Vec<f64> = (0..3).map(|i| x[i] - a[i]).collect();
    let t = (ab.iter().zip(&ax).map(|(u, v)| u * v).sum::<f64>()
        / ab.iter().map(|u| u * u).sum::<f64>())
    .clamp(0.0, 1.0);
    (0..3)
        .map(|i| (a[i] + t * ab[i] - x[i]).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// A ball of radius 30 with six tubes (radius 3-6) running from it to the faces, and a helical
/// tube of radius 3 around it; `shift` moves everything along the last axis.
fn vessels(n: usize, shift: f64) -> Array3<bool> {
    let c = n as f64 / 2.0;
    let tubes: [([f64; 3], f64); 6] = [
        ([0.0, c, c], 6.0),
        ([n as f64, c, c], 5.0),
        ([c, 0.0, c + 10.0], 4.0),
        ([c, n as f64, c - 10.0], 4.0),
        ([c + 20.0, c - 20.0, 0.0], 3.0),
        ([c - 20.0, c + 20.0, n as f64], 3.0),
    ];
    let helix: Vec<[f64; 3]> = (0..=400)
        .map(|k| {
            let t = k as f64 / 400.0;
            let a = 6.0 * std::f64::consts::PI * t;
            [
                8.0 + t * (n as f64 - 16.0),
                c + 48.0 * a.cos(),
                c + 48.0 * a.sin(),
            ]
        })
        .collect();
    Array3::from_shape_fn((n, n, n), |(p, r, q)| {
        let x = [p as f64, r as f64, q as f64 - shift];
        let d2 = (0..3).map(|i| (x[i] - c).powi(2)).sum::<f64>();
        d2 <= 30.0 * 30.0
            || tubes
                .iter()
                .any(|&(end, radius)| to_segment(x, [c, c, c], end) <= radius)
            || helix.windows(2).any(|w| to_segment(x, w[0], w[1]) <= 3.0)
    })
}

fn curves(n: usize, shift: f64) -> Array2<bool> {
    Array2::from_shape_fn((n, n), |(r, c)| {
        let (r, c) = (r as f64, c as f64 - shift);
        (0..8).any(|k| {
            let row = 64.0 + 120.0 * k as f64 + 30.0 * (c / (40.0 + 9.0 * k as f64)).sin();
            (r - row).abs() <= 2.0 + k as f64
        })
    })
}

fn time<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = f();
    for _ in 0..repeats {
        let t0 = Instant::now();
        out = f();
        best = best.min(t0.elapsed().as_secs_f64() * 1e3);
    }
    (best, out)
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let (truth, pred) = (vessels(128, 0.0), vessels(128, 1.0));
    let (ms, skeleton) = time(repeats, || skeletonize(&truth.view().into_dyn()).unwrap());
    let (ms_cl, score) = time(repeats, || {
        cl_dice(&pred.view().into_dyn(), &truth.view().into_dyn()).unwrap()
    });
    println!(
        "{{\"case\":\"vessels128^3\",\"voxels\":{},\"skeleton\":{},\"skeletonize_ms\":{ms:.1},\"cl_dice_ms\":{ms_cl:.1},\"cl_dice\":{:?}}}",
        truth.iter().filter(|&&v| v).count(),
        skeleton.iter().filter(|&&v| v).count(),
        score.value()
    );
    let ball = |shift: f64| {
        Array3::from_shape_fn((128, 128, 128), |(p, r, q)| {
            let x = [p as f64 - 64.0, r as f64 - 64.0, q as f64 - 64.0 - shift];
            x.iter().map(|v| v * v).sum::<f64>() <= 60.0 * 60.0
        })
    };
    let (truth, pred) = (ball(0.0), ball(1.0));
    let (ms, skeleton) = time(repeats, || skeletonize(&truth.view().into_dyn()).unwrap());
    let (ms_cl, score) = time(repeats, || {
        cl_dice(&pred.view().into_dyn(), &truth.view().into_dyn()).unwrap()
    });
    println!(
        "{{\"case\":\"ball128^3\",\"voxels\":{},\"skeleton\":{},\"skeletonize_ms\":{ms:.1},\"cl_dice_ms\":{ms_cl:.1},\"cl_dice\":{:?}}}",
        truth.iter().filter(|&&v| v).count(),
        skeleton.iter().filter(|&&v| v).count(),
        score.value()
    );
    let (truth, pred) = (curves(1024, 0.0), curves(1024, 2.0));
    let (ms, skeleton) = time(repeats, || skeletonize(&truth.view().into_dyn()).unwrap());
    let (ms_cl, score) = time(repeats, || {
        cl_dice(&pred.view().into_dyn(), &truth.view().into_dyn()).unwrap()
    });
    println!(
        "{{\"case\":\"curves1024^2\",\"pixels\":{},\"skeleton\":{},\"skeletonize_ms\":{ms:.1},\"cl_dice_ms\":{ms_cl:.1},\"cl_dice\":{:?}}}",
        truth.iter().filter(|&&v| v).count(),
        skeleton.iter().filter(|&&v| v).count(),
        score.value()
    );
}
