//! A 4-band (blue, green, red, near-infrared) satellite-like scene: fields and bare land, a few
//! wetlands (water with vegetation: dark in NIR and red, a little green), and clouds (bright in
//! every band) that hide part of the scene. The mask is the cloud-free truth; the cloud mask
//! comes as `extra`.
use ndarray::{Array2, Array3};

use super::{Sample, noise::value_noise_2d, sample};
use crate::{Rng, Volume};

pub(super) fn generate(h: usize, w: usize, rng: &mut Rng) -> Sample {
    let land = value_noise_2d(h, w, 48.0, 4, rng);
    let wet = value_noise_2d(h, w, 40.0, 3, rng);
    let cloud = value_noise_2d(h, w, 64.0, 4, rng);
    let fields = value_noise_2d(h, w, 12.0, 2, rng);
    let mut mask = Array2::<u32>::zeros((h, w));
    let mut clouds = Array2::<u32>::zeros((h, w));
    let mut image = Array3::<f32>::zeros((4, h, w));
    // Thresholds that give a few % of wetland and about a quarter of cloud.
    let (wet_t, cloud_t) = (0.42, 0.22);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let is_wet = wet[i] > wet_t;
            let c = ((cloud[i] - cloud_t) / 0.15).clamp(0.0, 1.0); // cloud opacity, soft edges
            let veg = 0.5 + 0.5 * land[i];
            // Surface reflectance: vegetation bright in NIR, soil brighter in red.
            let mut refl = [
                0.05 + 0.03 * fields[i],
                0.08 + 0.04 * veg,
                0.10 + 0.08 * (1.0 - veg),
                0.25 + 0.25 * veg + 0.05 * fields[i],
            ];
            if is_wet {
                let depth = ((wet[i] - wet_t) / 0.2).clamp(0.0, 1.0);
                refl = [
                    0.06,
                    0.07 + 0.02 * (1.0 - depth),
                    0.04,
                    0.05 + 0.1 * (1.0 - depth),
                ];
                mask[[y, x]] = 1;
            }
            if c > 0.5 {
                clouds[[y, x]] = 1;
            }
            for (b, r) in refl.iter().enumerate() {
                let v = (1.0 - c) * r + c * (0.75 + 0.05 * b as f64) + 0.005 * rng.normal();
                image[[b, y, x]] = v.max(0.0) as f32;
            }
        }
    }
    let mut s = sample(image.into_dyn(), mask.into_dyn(), vec![10.0, 10.0]);
    s.extra = Some(Volume {
        data: clouds.into_dyn(),
        spacing: vec![10.0, 10.0],
        origin: vec![0.0, 0.0],
        affine: None,
    });
    s
}
