//! Fundus-like photographs with microaneurysms: dark red dots of 2-6 px among vessels (dark red
//! curves of similar colour) and bright yellow exudates.
use ndarray::{Array2, Array3};

use super::{Sample, noise::value_noise_2d, sample};
use crate::Rng;

/// Default target foreground fraction (microaneurysm pixels) of an image.
const TARGET_FRACTION: f64 = 0.0005;

pub(super) fn generate(h: usize, w: usize, fraction: Option<f64>, rng: &mut Rng) -> Sample {
    let (cy, cx) = (h as f64 / 2.0, w as f64 / 2.0);
    let radius = 0.47 * h.min(w) as f64;
    let texture = value_noise_2d(h, w, 24.0, 3, rng);
    // Optic disc on the left or right of the centre.
    let side = if rng.chance(0.5) { -1.0 } else { 1.0 };
    let disc = (
        cy + rng.range(-0.05, 0.05) * h as f64,
        cx + side * 0.28 * w as f64,
    );
    let disc_r = 0.07 * h.min(w) as f64;
    // Vessels: smooth curves leaving the disc, as (points, width) polylines.
    let mut vessel = Array2::<f64>::zeros((h, w));
    for v in 0..10 {
        let angle = v as f64 / 10.0 * std::f64::consts::TAU + rng.range(-0.2, 0.2);
        let (mut y, mut x, mut dir) = (disc.0, disc.1, angle);
        let mut width = rng.range(2.0, 4.0) * h.min(w) as f64 / 512.0;
        for _ in 0..(0.9 * radius) as usize {
            dir += rng.range(-0.08, 0.08);
            y += dir.sin();
            x += dir.cos();
            width = (width * 0.997).max(0.8);
            stamp(&mut vessel, y, x, width, 1.0);
            if rng.chance(0.004) {
                // a branch: restart from here with a turn
                dir += if rng.chance(0.5) { 0.6 } else { -0.6 };
            }
        }
    }
    // Microaneurysms: dots of diameter 2-6 px away from vessels, until the target area is reached.
    let mut mask = Array2::<u32>::zeros((h, w));
    let target = (fraction.unwrap_or(TARGET_FRACTION) * (h * w) as f64).max(4.0);
    let mut area = 0.0;
    let mut tries = 0;
    // More tries for the larger fractions of the imbalance experiment; the default scene keeps
    // its 10 000 (so that its seeded images do not change).
    let max_tries = match fraction {
        Some(_) => 10_000 + 40 * target as usize,
        None => 10_000,
    };
    while area < target && tries < max_tries {
        tries += 1;
        let (y, x) = (rng.range(0.0, h as f64), rng.range(0.0, w as f64));
        let r = rng.range(1.0, 3.0);
        let inside = ((y - cy).powi(2) + (x - cx).powi(2)).sqrt() < radius - 8.0;
        let far_disc = ((y - disc.0).powi(2) + (x - disc.1).powi(2)).sqrt() > disc_r + 6.0;
        if !inside || !far_disc || vessel[[y as usize, x as usize]] > 0.05 {
            continue;
        }
        for yy in (y - r).floor().max(0.0) as usize..((y + r).ceil() as usize + 1).min(h) {
            for xx in (x - r).floor().max(0.0) as usize..((x + r).ceil() as usize + 1).min(w) {
                if (yy as f64 - y).powi(2) + (xx as f64 - x).powi(2) <= r * r && mask[[yy, xx]] == 0
                {
                    mask[[yy, xx]] = 1;
                    area += 1.0;
                }
            }
        }
    }
    // Exudates: bright yellowish spots of 2-10 px, the bright distractors.
    let mut exudate = Array2::<f64>::zeros((h, w));
    for _ in 0..rng.below(12) + 4 {
        let (y, x) = (
            cy + rng.range(-0.6, 0.6) * radius,
            cx + rng.range(-0.6, 0.6) * radius,
        );
        stamp(&mut exudate, y, x, rng.range(1.0, 5.0), 1.0);
    }
    let mut image = Array3::<f32>::zeros((3, h, w));
    for y in 0..h {
        for x in 0..w {
            let r = ((y as f64 - cy).powi(2) + (x as f64 - cx).powi(2)).sqrt();
            if r > radius {
                continue; // outside the field of view: black
            }
            let vignette = 1.0 - 0.45 * (r / radius).powi(2);
            let t = 0.06 * texture[y * w + x];
            let d = ((y as f64 - disc.0).powi(2) + (x as f64 - disc.1).powi(2)).sqrt();
            let disc_glow = (-(d / disc_r).powi(4)).exp();
            let ves = vessel[[y, x]].min(1.0);
            let ma = mask[[y, x]] as f64;
            let ex = exudate[[y, x]].min(1.0);
            // Background orange-red; vessels and microaneurysms darker red; exudates yellow.
            let mut rgb = [
                0.78 * vignette + t,
                0.34 * vignette + 0.7 * t,
                0.12 * vignette + 0.3 * t,
            ];
            for (c, v) in rgb.iter_mut().enumerate() {
                *v *= 1.0 - 0.55 * ves.max(0.9 * ma);
                *v += disc_glow * [0.2, 0.5, 0.45][c] + ex * [0.15, 0.45, 0.2][c];
                *v += 0.015 * rng.normal();
            }
            for c in 0..3 {
                image[[c, y, x]] = rgb[c].clamp(0.0, 1.0) as f32;
            }
        }
    }
    sample(image.into_dyn(), mask.into_dyn(), vec![1.0, 1.0])
}

/// Adds a soft disc of radius `r` at `(y, x)`.
fn stamp(a: &mut Array2<f64>, y: f64, x: f64, r: f64, v: f64) {
    let (h, w) = a.dim();
    let reach = r + 1.5;
    for yy in (y - reach).floor().max(0.0) as usize..((y + reach).ceil().max(0.0) as usize).min(h) {
        for xx in
            (x - reach).floor().max(0.0) as usize..((x + reach).ceil().max(0.0) as usize).min(w)
        {
            let d = ((yy as f64 - y).powi(2) + (xx as f64 - x).powi(2)).sqrt();
            let s = (r + 0.5 - d).clamp(0.0, 1.0) * v;
            if s > a[[yy, xx]] {
                a[[yy, xx]] = s;
            }
        }
    }
}
