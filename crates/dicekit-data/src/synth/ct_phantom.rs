//! A CT-like abdominal phantom: body, fat, spine, liver, spleen, kidneys and small liver tumours
//! in Hounsfield units with noise, at 0.8 x 0.8 x 2.5 mm.
use ndarray::{Array3, Array4};

use super::{Sample, sample};
use crate::Rng;

const SPACING: [f64; 3] = [0.8, 0.8, 2.5];

/// An axis-aligned ellipsoid in mm: centre and semi-axes.
struct Ellipsoid {
    c: [f64; 3],
    r: [f64; 3],
}

impl Ellipsoid {
    fn inside(&self, p: [f64; 3]) -> bool {
        (0..3)
            .map(|a| ((p[a] - self.c[a]) / self.r[a]).powi(2))
            .sum::<f64>()
            <= 1.0
    }
}

pub(super) fn generate(dims: [usize; 3], rng: &mut Rng) -> Sample {
    let ext = [0, 1, 2].map(|a| dims[a] as f64 * SPACING[a]);
    let mid = ext.map(|e| e / 2.0);
    let j = |rng: &mut Rng, s: f64| 1.0 + rng.range(-s, s);
    let body = Ellipsoid {
        c: mid,
        r: [0.46 * ext[0], 0.36 * ext[1] * j(rng, 0.05), 10.0 * ext[2]],
    };
    let inner = Ellipsoid {
        c: mid,
        r: [body.r[0] - 5.0, body.r[1] - 5.0, 10.0 * ext[2]],
    };
    let spine = Ellipsoid {
        c: [mid[0], mid[1] + 0.24 * ext[1], mid[2]],
        r: [0.06 * ext[0], 0.06 * ext[1], 10.0 * ext[2]],
    };
    // Axis 0 runs across the patient (x), axis 1 front to back (y), axis 2 head to feet (z).
    let liver = Ellipsoid {
        c: [
            mid[0] - 0.16 * ext[0],
            mid[1] - 0.02 * ext[1],
            mid[2] - 0.05 * ext[2],
        ],
        r: [
            0.22 * ext[0] * j(rng, 0.1),
            0.2 * ext[1] * j(rng, 0.1),
            0.35 * ext[2],
        ],
    };
    let spleen = Ellipsoid {
        c: [
            mid[0] + 0.24 * ext[0],
            mid[1] + 0.08 * ext[1],
            mid[2] - 0.1 * ext[2],
        ],
        r: [0.07 * ext[0] * j(rng, 0.15), 0.1 * ext[1], 0.2 * ext[2]],
    };
    let kidney = |side: f64, rng: &mut Rng| Ellipsoid {
        c: [
            mid[0] + side * 0.17 * ext[0],
            mid[1] + 0.15 * ext[1],
            mid[2] + 0.15 * ext[2],
        ],
        r: [0.05 * ext[0] * j(rng, 0.1), 0.07 * ext[1], 0.22 * ext[2]],
    };
    let (kidney_l, kidney_r) = (kidney(1.0, rng), kidney(-1.0, rng));
    // 1-3 tumours of radius 3-8 mm inside the liver.
    let mut tumours = Vec::new();
    while tumours.len() < 1 + rng.below(3) {
        let p = [0, 1, 2].map(|a| liver.c[a] + rng.range(-0.7, 0.7) * liver.r[a]);
        if liver.inside(p) {
            let r = rng.range(3.0, 8.0);
            tumours.push(Ellipsoid {
                c: p,
                r: [r, r, r.max(2.6)],
            });
        }
    }
    let mut mask = Array3::<u32>::zeros(dims);
    let mut image = Array4::<f32>::zeros((1, dims[0], dims[1], dims[2]));
    for x in 0..dims[0] {
        for y in 0..dims[1] {
            for z in 0..dims[2] {
                let p = [
                    x as f64 * SPACING[0],
                    y as f64 * SPACING[1],
                    z as f64 * SPACING[2],
                ];
                let (mut hu, mut label) = (-1000.0, 0u32);
                if body.inside(p) {
                    hu = -100.0; // fat
                }
                if inner.inside(p) {
                    hu = 40.0; // muscle and soft tissue
                }
                if spine.inside(p) {
                    hu = 700.0;
                }
                for (organ, l, v) in [
                    (&liver, 1, 60.0),
                    (&spleen, 2, 50.0),
                    (&kidney_l, 3, 150.0),
                    (&kidney_r, 4, 150.0),
                ] {
                    if organ.inside(p) {
                        hu = v;
                        label = l;
                    }
                }
                if label == 1 && tumours.iter().any(|t| t.inside(p)) {
                    hu = 25.0; // hypodense lesion
                    label = 5;
                }
                mask[[x, y, z]] = label;
                image[[0, x, y, z]] = (hu + 12.0 * rng.normal()) as f32;
            }
        }
    }
    sample(image.into_dyn(), mask.into_dyn(), SPACING.to_vec())
}
