//! Synthetic benchmark pairs shared by `examples/metrics_bench.rs` and `benches/surface.rs`,
//! defined by formulas that `benches/peers/surface_peers.py` reproduces in NumPy.
#![allow(dead_code)]
use ndarray::{ArrayD, IxDyn};

/// A named benchmark case: prediction and reference label maps and the spacing.
pub struct Case {
    /// Case name.
    pub name: &'static str,
    /// Predicted label map.
    pub pred: ArrayD<u32>,
    /// Reference label map.
    pub truth: ArrayD<u32>,
    /// Spacing in mm.
    pub spacing: Vec<f64>,
    /// Labels to score.
    pub labels: Vec<u32>,
}

/// A ball of radius `r` mm centred at `c` mm: label 1 inside.
fn ball(shape: &[usize], spacing: &[f64], c: [f64; 3], r: f64) -> ArrayD<u32> {
    ArrayD::from_shape_fn(IxDyn(shape), |i| {
        let d2: f64 = (0..3)
            .map(|a| (i[a] as f64 * spacing[a] - c[a]).powi(2))
            .sum();
        (d2 <= r * r) as u32
    })
}

/// The cases by name: `sphere128`, `sphere256`, `ct` (512x512x120 at 0.8x0.8x2.5 mm), `multi192`
/// (14 labels in 192^3).
pub fn case(name: &str) -> Option<Case> {
    Some(match name {
        "sphere128" | "sphere256" => {
            let n = if name == "sphere128" { 128 } else { 256 };
            let h = n as f64 / 2.0;
            let s = vec![1.0; 3];
            let shape = [n, n, n];
            Case {
                name: if n == 128 { "sphere128" } else { "sphere256" },
                truth: ball(&shape, &s, [h, h, h], n as f64 * 0.3),
                pred: ball(&shape, &s, [h + 2.0, h - 1.0, h], n as f64 * 0.3 + 1.5),
                spacing: s,
                labels: vec![1],
            }
        }
        "ct" => {
            let shape = [512, 512, 120];
            let s = vec![0.8, 0.8, 2.5];
            Case {
                name: "ct",
                truth: ball(&shape, &s, [200.0, 210.0, 150.0], 60.0),
                pred: ball(&shape, &s, [203.0, 208.0, 152.5], 62.0),
                spacing: s,
                labels: vec![1],
            }
        }
        "multi192" => {
            // 14 balls on a 3x3x2 lattice (radius 22 voxels), labels 1..14; the prediction shifts
            // each ball by one voxel along an axis that depends on its label.
            let n = 192;
            let map = |shift: bool| {
                ArrayD::from_shape_fn(IxDyn(&[n, n, n]), |i| {
                    for l in 1..=14u32 {
                        let k = (l - 1) as usize;
                        let c = [
                            32 + 64 * (k % 3),
                            32 + 64 * ((k / 3) % 3),
                            48 + 96 * (k / 9),
                        ];
                        let mut d2 = 0.0;
                        for a in 0..3 {
                            let off = if shift && a == k % 3 { 1.0 } else { 0.0 };
                            d2 += (i[a] as f64 - c[a] as f64 - off).powi(2);
                        }
                        if d2 <= 22.0 * 22.0 {
                            return l;
                        }
                    }
                    0
                })
            };
            Case {
                name: "multi192",
                truth: map(false),
                pred: map(true),
                spacing: vec![1.0; 3],
                labels: (1..=14).collect(),
            }
        }
        _ => return None,
    })
}

fn main() {}
