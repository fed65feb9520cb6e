//! A lesion whose texture decides the image label: class 0 has horizontal stripes inside the
//! lesion, class 1 vertical stripes.
//!
//! Default: the lesion covers about 4-12 % of the image and is a little brighter than the
//! background (+0.15), so a segmenter can find it; 2-3 distractor blobs elsewhere carry random
//! stripe textures at normal brightness, so pooling the whole image tells nothing about the label.
//!
//! With a target lesion share `f` (the harder regime of the attention experiment, issue #24):
//! the lesion covers about `f` of the image (radius `sqrt(f H W / pi)`, within 15 %); 5-7
//! distractors of the same size, stripe period and contrast, each with a random stripe
//! direction, share its low-level statistics but not its label; the brightness cue is weaker
//! (+0.06). The smaller `f`, the less the lesion weighs in a global average.
use ndarray::{Array2, Array3};

use super::{Sample, noise::value_noise_2d, sample};
use crate::Rng;

/// A textured disc: centre, radii, stripe direction, whether it is the lesion.
struct Blob {
    cy: f64,
    cx: f64,
    ry: f64,
    rx: f64,
    vertical: bool,
    lesion: bool,
}

pub(super) fn generate(h: usize, w: usize, share: Option<f64>, rng: &mut Rng) -> Sample {
    let label = rng.below(2) as u32;
    let background = value_noise_2d(h, w, 16.0, 2, rng);
    let s = h.min(w) as f64;
    // The default draws stay in the order of the first version of the scene (same images).
    let (cy, cx) = (
        rng.range(0.25, 0.75) * h as f64,
        rng.range(0.25, 0.75) * w as f64,
    );
    let (ry, rx) = match share {
        None => (rng.range(0.12, 0.2) * s, rng.range(0.12, 0.2) * s),
        Some(f) => {
            let r = (f * (h * w) as f64 / std::f64::consts::PI).sqrt() * rng.range(0.85, 1.15);
            (r, r)
        }
    };
    let mut blobs = vec![Blob {
        cy,
        cx,
        ry,
        rx,
        vertical: label == 1,
        lesion: true,
    }];
    // Hard regime: the number of distractors drawn once; default: drawn at every try.
    let fixed = share.map(|_| 6 + rng.below(3));
    let max_tries = if fixed.is_some() { 400 } else { 200 };
    let mut tries = 0;
    loop {
        let wanted = fixed.unwrap_or_else(|| 3 + rng.below(2));
        if blobs.len() >= wanted || tries >= max_tries {
            break;
        }
        tries += 1;
        let (cy, cx) = (
            rng.range(0.1, 0.9) * h as f64,
            rng.range(0.1, 0.9) * w as f64,
        );
        let r = match share {
            None => rng.range(0.08, 0.14) * s,
            Some(_) => rng.range(0.85, 1.15) * ry,
        };
        let clear = blobs
            .iter()
            .all(|b| ((b.cy - cy).powi(2) + (b.cx - cx).powi(2)).sqrt() > b.ry.max(b.rx) + r + 2.0);
        if clear {
            blobs.push(Blob {
                cy,
                cx,
                ry: r,
                rx: r,
                vertical: rng.chance(0.5),
                lesion: false,
            });
        }
    }
    let brightness = if share.is_some() { 0.06 } else { 0.15 };
    let period = rng.range(4.0, 6.0);
    let mut mask = Array2::<u32>::zeros((h, w));
    let mut image = Array3::<f32>::zeros((1, h, w));
    for y in 0..h {
        for x in 0..w {
            let mut v = 0.5 + 0.08 * background[y * w + x];
            for b in &blobs {
                let d = ((y as f64 - b.cy) / b.ry).powi(2) + ((x as f64 - b.cx) / b.rx).powi(2);
                if d <= 1.0 {
                    let t = if b.vertical { x as f64 } else { y as f64 };
                    v += 0.12 * (std::f64::consts::TAU * t / period).sin();
                    if b.lesion {
                        v += brightness;
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
