//! Overlays: an image with the outlines of a prediction and a reference drawn on it.
use ndarray::{Array3, ArrayD, Ix2};

use crate::DataErrorKind;

/// An RGB picture `[3, H, W]` in 0..=255 of a 2D image `[C, H, W]` (gray, or the first three
/// channels, each stretched between its 1st and 99th percentile), with the boundary of every
/// labelled region of `pred` in red and of `truth` in green (yellow where they coincide).
///
/// # Errors
/// [`DataErrorKind::NotWritable`] if `image` is not `[C, H, W]` with `C >= 1` (overlays are 2D)
/// or a label map is not `[H, W]`.
pub fn overlay(
    image: &ArrayD<f32>,
    pred: Option<&ArrayD<u32>>,
    truth: Option<&ArrayD<u32>>,
) -> Result<ArrayD<f32>, DataErrorKind> {
    if image.ndim() != 3 || image.shape()[0] == 0 {
        return Err(DataErrorKind::NotWritable(format!(
            "overlays are drawn on 2D images [C, H, W]; got shape {:?}",
            image.shape()
        )));
    }
    let (c, h, w) = (image.shape()[0], image.shape()[1], image.shape()[2]);
    for (what, m) in [("prediction", pred), ("reference", truth)] {
        if let Some(m) = m
            && m.shape() != [h, w]
        {
            return Err(DataErrorKind::NotWritable(format!(
                "the {what} has shape {:?}, the image is {h} x {w}: an overlay needs a 2D label map of the image's size",
                m.shape()
            )));
        }
    }
    let mut out = Array3::<f32>::zeros((3, h, w));
    for k in 0..3 {
        let ch = image.index_axis(ndarray::Axis(0), k.min(c - 1));
        let mut v: Vec<f32> = ch.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f32::total_cmp);
        let (lo, hi) = if v.is_empty() {
            (0.0, 1.0)
        } else {
            (v[v.len() / 100], v[(v.len() * 99 / 100).min(v.len() - 1)])
        };
        let span = if hi > lo { hi - lo } else { 1.0 };
        for ((y, x), val) in ch.indexed_iter().map(|(i, v)| ((i[0], i[1]), *v)) {
            out[[k, y, x]] = ((val - lo) / span * 255.0).clamp(0.0, 255.0);
        }
    }
    let edges = |m: &ArrayD<u32>| -> Vec<bool> {
        let Ok(m) = m.view().into_dimensionality::<Ix2>() else {
            return vec![false; h * w]; // checked above
        };
        let mut e = vec![false; h * w];
        for y in 0..h {
            for x in 0..w {
                let l = m[[y, x]];
                if l == 0 {
                    continue;
                }
                let differs = |yy: isize, xx: isize| {
                    yy < 0
                        || xx < 0
                        || yy >= h as isize
                        || xx >= w as isize
                        || m[[yy as usize, xx as usize]] != l
                };
                let (yi, xi) = (y as isize, x as isize);
                e[y * w + x] = differs(yi - 1, xi)
                    || differs(yi + 1, xi)
                    || differs(yi, xi - 1)
                    || differs(yi, xi + 1);
            }
        }
        e
    };
    let (pe, te) = (pred.map(edges), truth.map(edges));
    for y in 0..h {
        for x in 0..w {
            let p = pe.as_ref().is_some_and(|e| e[y * w + x]);
            let t = te.as_ref().is_some_and(|e| e[y * w + x]);
            if p || t {
                let rgb = match (p, t) {
                    (true, true) => [255.0, 255.0, 0.0],
                    (true, false) => [255.0, 0.0, 0.0],
                    _ => [0.0, 255.0, 0.0],
                };
                for k in 0..3 {
                    out[[k, y, x]] = rgb[k];
                }
            }
        }
    }
    Ok(out.into_dyn())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlines_are_drawn_in_their_colours() {
        let image = ArrayD::from_elem(ndarray::IxDyn(&[1, 6, 6]), 0.5f32);
        let mut pred = ArrayD::zeros(ndarray::IxDyn(&[6, 6]));
        let mut truth = ArrayD::zeros(ndarray::IxDyn(&[6, 6]));
        for y in 1..4 {
            for x in 1..4 {
                pred[[y, x]] = 1;
                truth[[y + 1, x + 1]] = 1;
            }
        }
        let o = overlay(&image, Some(&pred), Some(&truth)).unwrap();
        assert_eq!(o.shape(), &[3, 6, 6]);
        assert_eq!(
            [o[[0, 1, 1]], o[[1, 1, 1]], o[[2, 1, 1]]],
            [255.0, 0.0, 0.0]
        ); // pred only
        assert_eq!(
            [o[[0, 4, 4]], o[[1, 4, 4]], o[[2, 4, 4]]],
            [0.0, 255.0, 0.0]
        ); // truth only
        assert_eq!(
            [o[[0, 3, 2]], o[[1, 3, 2]], o[[2, 3, 2]]],
            [255.0, 255.0, 0.0]
        ); // both outlines
        assert_eq!([o[[0, 2, 2]], o[[1, 2, 2]]], [0.0, 255.0]); // inside pred, corner of truth
        assert_eq!(o[[0, 0, 0]], o[[1, 0, 0]]); // unlabelled: gray
        // A reference of another size, or a 3D one, is an error, not a panic.
        let small = ArrayD::<u32>::zeros(ndarray::IxDyn(&[5, 6]));
        assert!(overlay(&image, Some(&pred), Some(&small)).is_err());
        let volume = ArrayD::<u32>::zeros(ndarray::IxDyn(&[2, 6, 6]));
        assert!(overlay(&image, None, Some(&volume)).is_err());
        let image3d = ArrayD::from_elem(ndarray::IxDyn(&[1, 2, 6, 6]), 0.5f32);
        assert!(overlay(&image3d, None, None).is_err());
    }
}
