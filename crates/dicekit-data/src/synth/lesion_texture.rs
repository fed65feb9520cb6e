//! A lesion whose texture decides the image label: class 0 has horizontal stripes inside the
//! lesion, class 1 vertical stripes. The lesion is a little brighter than the background, so a
//! segmenter can find it; 2-3 distractor blobs elsewhere carry random stripe textures at normal
//! brightness, so pooling the whole image tells nothing about the label.
use ndarray::{Array2, Array3};

use super::{Sample, noise::value_noise_2d, sample};
use crate::Rng;

pub(super) fn generate(h: usize, w: usize, rng: &mut Rng) -> Sample {
    let label = rng.below(2) as u32;
    let background = value_noise_2d(h, w, 16.0, 2, rng);
    let s = h.min(w) as f64;
    // (centre y, centre x, radius y, radius x, vertical stripes?, is lesion)
    let mut blobs = vec![(
        rng.range(0.25, 0.75) * h as f64,
        rng.range(0.25, 0.75) * w as f64,
        rng.range(0.12, 0.2) * s,
        rng.range(0.12, 0.2) * s,
        label == 1,
        true,
    )];
    let mut tries = 0;
    while blobs.len() < 3 + rng.below(2) && tries < 200 {
        tries += 1;
        let (cy, cx, r) = (
            rng.range(0.1, 0.9) * h as f64,
            rng.range(0.1, 0.9) * w as f64,
            rng.range(0.08, 0.14) * s,
        );
        let clear = blobs
            .iter()
            .all(|b| ((b.0 - cy).powi(2) + (b.1 - cx).powi(2)).sqrt() > b.2.max(b.3) + r + 2.0);
        if clear {
            blobs.push((cy, cx, r, r, rng.chance(0.5), false));
        }
    }
    let period = rng.range(4.0, 6.0);
    let mut mask = Array2::<u32>::zeros((h, w));
    let mut image = Array3::<f32>::zeros((1, h, w));
    for y in 0..h {
        for x in 0..w {
            let mut v = 0.5 + 0.08 * background[y * w + x];
            for &(cy, cx, ry, rx, vertical, lesion) in &blobs {
                let d = ((y as f64 - cy) / ry).powi(2) + ((x as f64 - cx) / rx).powi(2);
                if d <= 1.0 {
                    let t = if vertical { x as f64 } else { y as f64 };
                    v += 0.12 * (std::f64::consts::TAU * t / period).sin();
                    if lesion {
                        v += 0.15;
                        mask[[y, x]] = 1;
                    }
                }
            }
            image[[0, y, x]] = (v + 0.03 * rng.normal()) as f32;
        }
    }
    let mut out = sample(image.into_dyn(), mask.into_dyn(), vec![1.0, 1.0]);
    out.label = Some(label);
    out
}
