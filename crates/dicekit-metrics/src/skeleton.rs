//! Binary skeletons by thinning, equal bit for bit to scikit-image 0.26
//! `skimage.morphology.skeletonize` (its default method for each rank).
//!
//! - **2D**: Zhang & Suen (1984) parallel thinning with two sub-iterations, under
//!   scikit-image's removal table, which departs from the paper's conditions on 25 small
//!   neighbourhoods (listed below, built at compile time).
//! - **3D**: Lee, Kashyap & Chu (1994) directional thinning as scikit-image 0.26 runs it: candidates
//!   must be border points in the current direction, not endpoints, Euler invariant and simple,
//!   but the sequential re-check tests simplicity only: a candidate is removed when its turn
//!   comes if it is still simple, even if the removals before it left it an endpoint, isolated
//!   or no longer Euler invariant. Small objects can therefore vanish (a 2x2x2 cube, a rod of
//!   4x4 cross-section: scikit-image issue #3757). dicekit reproduces this on purpose, because
//!   the clDice reference computes its skeletons with scikit-image.
//!
//! Outside the image is background in both (scikit-image pads by one zero voxel).
use ndarray::{Array2, Array3, ArrayD, ArrayView2, ArrayView3, ArrayViewD, Ix2, Ix3};

use crate::MetricError;

/// The skeleton of a binary mask, equal to scikit-image 0.26 `skeletonize(mask)`.
///
/// ```text
/// 2D: Zhang-Suen thinning (sub-iterations 1 and 2 alternate until neither removes a pixel)
/// 3D: Lee et al. thinning (border directions -r, +r, +c, -c, +p, -p of axes (p, r, c),
///     repeated until one sweep over all directions removes nothing)
/// ```
/// Every foreground pixel of the skeleton is foreground in `mask`. Thinning the skeleton again
/// leaves it unchanged. In 2D the 8-connected components are kept (in our property tests). In
/// 3D a 26-connected component is never split, but it can vanish entirely (see the module
/// docs).
///
/// # Shapes
/// - `mask`: `[H, W]` or `[D, H, W]`, any memory layout; a 3D mask with `D == 1` is thinned in
///   the four in-plane directions only (as scikit-image does).
/// - returns an array of the same shape.
///
/// # Errors
/// [`MetricError::UnsupportedRank`] when `mask` is neither 2D nor 3D.
///
/// # Example
/// ```
/// use dicekit_metrics::skeletonize;
/// use ndarray::Array2;
/// // A 3 x 7 bar thins to a line along its middle (as scikit-image 0.26 thins it).
/// let bar = Array2::from_shape_fn((5, 9), |(r, c)| (1..4).contains(&r) && (1..8).contains(&c));
/// let skeleton = skeletonize(&bar.view().into_dyn())?;
/// let rows: Vec<String> = skeleton
///     .outer_iter()
///     .map(|row| row.iter().map(|&v| if v { '#' } else { '.' }).collect())
///     .collect();
/// assert_eq!(rows, [".........", "......#..", ".#####...", ".........", "........."]);
/// # Ok::<(), dicekit_metrics::MetricError>(())
/// ```
#[doc(alias = "skeletonize_3d")]
#[doc(alias = "centerline")]
pub fn skeletonize(mask: &ArrayViewD<bool>) -> Result<ArrayD<bool>, MetricError> {
    let rank = MetricError::UnsupportedRank(mask.ndim());
    if let Ok(m) = mask.view().into_dimensionality::<Ix2>() {
        return Ok(zhang_suen(m).into_dyn());
    }
    if let Ok(m) = mask.view().into_dimensionality::<Ix3>() {
        return Ok(lee(m).into_dyn());
    }
    Err(rank)
}

// ---------------------------------------------------------------------------------------------
// 2D: Zhang-Suen
// ---------------------------------------------------------------------------------------------

/// Removable in the first sub-iteration.
const FIRST: u8 = 1;
/// Removable in the second sub-iteration.
const SECOND: u8 = 2;
/// Removable in both.
const BOTH: u8 = FIRST | SECOND;
/// Never removed.
const NEVER: u8 = 0;

/// The neighbourhoods on which scikit-image's table differs from Zhang & Suen's conditions, with
/// the sub-iterations in which scikit-image removes the centre. Rows from top to bottom, `#`
/// foreground, `.` background, `x` the centre. All have 2 to 4 neighbours: scikit-image also
/// removes the corner of an L of two 4-neighbours (A = 2 in the paper), never removes a pixel
/// whose only neighbours are S and SE, or W and NW, and moves other short ends to one
/// sub-iteration. (Facts read off scikit-image 0.26 `_skeletonize_various_cy.pyx`.)
const SKIMAGE_EXCEPTIONS: [(&[u8; 11], u8); 25] = [
    (b"##./.x./...", FIRST),  // paper: both
    (b".##/.x./...", FIRST),  // paper: both
    (b".#./.x#/...", BOTH),   // paper: never
    (b"##./.x#/...", FIRST),  // paper: never
    (b"..#/.x#/...", FIRST),  // paper: both
    (b".##/.x#/...", FIRST),  // paper: both
    (b".../.x#/..#", SECOND), // paper: both
    (b".#./.x#/..#", SECOND), // paper: never
    (b".../.x#/.#.", BOTH),   // paper: never
    (b".../.x./.##", NEVER),  // paper: both
    (b".../.x#/.##", SECOND), // paper: both
    (b".../.x./##.", SECOND), // paper: both
    (b".../.x#/##.", SECOND), // paper: never
    (b"..#/.x#/##.", SECOND), // paper: never
    (b"#../#x./...", NEVER),  // paper: both
    (b".#./#x./...", BOTH),   // paper: never
    (b"##./#x./...", FIRST),  // paper: both
    (b".##/#x./...", FIRST),  // paper: never
    (b".../#x./.#.", BOTH),   // paper: never
    (b"#../#x./.#.", FIRST),  // paper: never
    (b".../#x./.##", SECOND), // paper: never
    (b".../#x./#..", SECOND), // paper: both
    (b".#./#x./#..", FIRST),  // paper: never
    (b".##/#x./#..", FIRST),  // paper: never
    (b".../#x./##.", SECOND), // paper: both
];

/// Bit of each 8-neighbour in a neighbourhood code, clockwise from the top-left:
/// `NW 1, N 2, NE 4, E 8, SE 16, S 32, SW 64, W 128`.
const NW: usize = 0;
const N: usize = 1;
const NE: usize = 2;
const E: usize = 3;
const SE: usize = 4;
const S: usize = 5;
const SW: usize = 6;
const W: usize = 7;

const fn bit(code: usize, b: usize) -> u32 {
    ((code >> b) & 1) as u32
}

/// Zhang & Suen's conditions for the centre of neighbourhood `code` (paper notation
/// `P2..P9 = N, NE, E, SE, S, SW, W, NW`):
///
/// ```text
/// 2 <= B <= 6, A == 1   (B: foreground neighbours; A: 0 -> 1 patterns in P2, P3, .., P9, P2)
/// first:  P2 P4 P6 == 0 and P4 P6 P8 == 0
/// second: P2 P4 P8 == 0 and P2 P6 P8 == 0
/// ```
const fn zhang_suen_paper(code: usize) -> u8 {
    let ring = [N, NE, E, SE, S, SW, W, NW];
    let b = (code as u8).count_ones();
    let mut a = 0;
    let mut k = 0;
    while k < 8 {
        if bit(code, ring[k]) == 0 && bit(code, ring[(k + 1) % 8]) == 1 {
            a += 1;
        }
        k += 1;
    }
    if b < 2 || b > 6 || a != 1 {
        return NEVER;
    }
    let (p2, p4, p6, p8) = (bit(code, N), bit(code, E), bit(code, S), bit(code, W));
    let mut passes = NEVER;
    if p2 * p4 * p6 == 0 && p4 * p6 * p8 == 0 {
        passes |= FIRST;
    }
    if p2 * p4 * p8 == 0 && p2 * p6 * p8 == 0 {
        passes |= SECOND;
    }
    passes
}

/// The neighbourhood code of a 3x3 picture such as `b"##./.x#/..."`.
const fn picture_code(p: &[u8; 11]) -> usize {
    // Character positions of NW, N, NE, E, SE, S, SW, W.
    let at = [0, 1, 2, 6, 10, 9, 8, 4];
    let mut code = 0;
    let mut b = 0;
    while b < 8 {
        if p[at[b]] == b'#' {
            code |= 1 << b;
        }
        b += 1;
    }
    code
}

const fn build_zhang_suen_table() -> [u8; 256] {
    let mut table = [NEVER; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = zhang_suen_paper(code);
        code += 1;
    }
    let mut i = 0;
    while i < SKIMAGE_EXCEPTIONS.len() {
        let (picture, passes) = SKIMAGE_EXCEPTIONS[i];
        table[picture_code(picture)] = passes;
        i += 1;
    }
    table
}

/// scikit-image's Zhang-Suen removal table: for each neighbourhood code, [`FIRST`] and/or
/// [`SECOND`] when the centre is removed in that sub-iteration.
const ZHANG_SUEN_TABLE: [u8; 256] = build_zhang_suen_table();

/// Zhang-Suen thinning of a 2D mask: each sub-iteration decides every pixel from the image as it
/// was when the sub-iteration began, then removes the decided pixels.
fn zhang_suen(mask: ArrayView2<bool>) -> Array2<bool> {
    let (h, w) = mask.dim();
    if h == 0 || w == 0 {
        return mask.to_owned();
    }
    let pw = w + 2;
    let mut img = vec![0u8; (h + 2) * pw];
    for ((r, c), &v) in mask.indexed_iter() {
        img[(r + 1) * pw + c + 1] = v as u8;
    }
    let pw = pw as isize;
    // Offsets of NW, N, NE, E, SE, S, SW, W (bit order of the codes).
    let offsets: [isize; 8] = [-pw - 1, -pw, -pw + 1, 1, pw + 1, pw, pw - 1, -1];
    let mut on: Vec<usize> = (0..img.len()).filter(|&i| img[i] == 1).collect();
    let mut doomed = Vec::new();
    loop {
        let mut removed = false;
        for pass in [FIRST, SECOND] {
            doomed.clear();
            for &i in &on {
                let mut code = 0usize;
                for (b, &o) in offsets.iter().enumerate() {
                    code |= (img[i.wrapping_add_signed(o)] as usize) << b;
                }
                if ZHANG_SUEN_TABLE[code] & pass != 0 {
                    doomed.push(i);
                }
            }
            if !doomed.is_empty() {
                removed = true;
                for &i in &doomed {
                    img[i] = 0;
                }
                on.retain(|&i| img[i] == 1);
            }
        }
        if !removed {
            break;
        }
    }
    let pw = pw as usize;
    Array2::from_shape_fn((h, w), |(r, c)| img[(r + 1) * pw + c + 1] == 1)
}

// ---------------------------------------------------------------------------------------------
// 3D: Lee, Kashyap & Chu
// ---------------------------------------------------------------------------------------------

/// A 3x3x3 neighbourhood as 27 bits: voxel `(dp, dr, dc)` (each in -1..=1) is bit
/// `9 (dp + 1) + 3 (dr + 1) + (dc + 1)`; the centre is bit 13.
type Cube = u32;

const CENTRE: Cube = 1 << 13;

const fn cube_bit(dp: i32, dr: i32, dc: i32) -> u32 {
    (9 * (dp + 1) + 3 * (dr + 1) + (dc + 1)) as u32
}

/// For each of the 27 voxels, the other non-centre voxels of the cube that are 26-adjacent to
/// it.
const ADJACENT: [Cube; 27] = {
    let mut adj = [0; 27];
    let mut k = 0;
    while k < 27 {
        let (kp, kr, kc) = ((k / 9) as i32, ((k / 3) % 3) as i32, (k % 3) as i32);
        let mut l = 0;
        while l < 27 {
            let (lp, lr, lc) = ((l / 9) as i32, ((l / 3) % 3) as i32, (l % 3) as i32);
            let near = (kp - lp).abs() <= 1 && (kr - lr).abs() <= 1 && (kc - lc).abs() <= 1;
            if l != k && l != 13 && near {
                adj[k] |= 1 << l;
            }
            l += 1;
        }
        k += 1;
    }
    adj
};

/// The 8 octants (2x2x2 blocks holding the centre) of the cube: for each, the bits of its 7
/// other voxels, ordered so that entry `j - 1` is the voxel at `(a, b, c)` with
/// `j = 4a + 2b + c` steps away from the centre along p, r, c.
const OCTANTS: [[u32; 7]; 8] = {
    let mut oct = [[0; 7]; 8];
    let mut o = 0;
    while o < 8 {
        let sp = if o & 4 != 0 { 1 } else { -1 };
        let sr = if o & 2 != 0 { 1 } else { -1 };
        let sc = if o & 1 != 0 { 1 } else { -1 };
        let mut j = 1;
        while j < 8 {
            let (a, b, c) = ((j >> 2) & 1, (j >> 1) & 1, j & 1);
            oct[o][j - 1] = cube_bit(sp * a as i32, sr * b as i32, sc * c as i32);
            j += 1;
        }
        o += 1;
    }
    oct
};

/// Eight times the Euler characteristic that a 2x2x2 window contributes around its centre
/// lattice point, for the union of closed unit cubes of the voxels in `window` (bit
/// `4a + 2b + c` for the voxel at `(a, b, c)`): `8 V - 4 E + 2 F - C`, where the lattice point
/// counts whole, each of its 6 edges one half, each of its 12 faces one quarter and each cube
/// one eighth. 26-connected foreground, 6-connected background.
const fn window_euler8(window: u32) -> i32 {
    if window == 0 {
        return 0;
    }
    let mut edges = 0;
    let mut faces = 0;
    let mut axis = 0;
    while axis < 3 {
        let mut side = 0;
        while side < 2 {
            // An edge along `axis` on `side` belongs to the 4 voxels with that coordinate.
            let mut v = 0;
            while v < 8 {
                if window & (1 << v) != 0 && ((v >> (2 - axis)) & 1) == side {
                    edges += 1;
                    break;
                }
                v += 1;
            }
            side += 1;
        }
        axis += 1;
    }
    let pairs = [(0, 1), (0, 2), (1, 2)];
    let mut p = 0;
    while p < 3 {
        let (a1, a2) = pairs[p];
        let mut q = 0;
        while q < 4 {
            let (s1, s2) = (q >> 1, q & 1);
            // A face in the plane of axes a1, a2 belongs to the 2 voxels in that quadrant.
            let mut v = 0;
            while v < 8 {
                if window & (1 << v) != 0
                    && ((v >> (2 - a1)) & 1) == s1
                    && ((v >> (2 - a2)) & 1) == s2
                {
                    faces += 1;
                    break;
                }
                v += 1;
            }
            q += 1;
        }
        p += 1;
    }
    8 - 4 * edges + 2 * faces - window.count_ones() as i32
}

/// Change of `8 chi` of an octant when its centre is removed, for each configuration of the
/// octant's 7 other voxels (bit `j - 1` as in [`OCTANTS`]): Lee et al.'s Table 2, column
/// `delta G_26`, computed rather than transcribed.
const EULER_DELTA: [i8; 128] = {
    let mut t = [0; 128];
    let mut n = 0;
    while n < 128 {
        let others = (n as u32) << 1; // window bit j = voxel j; the centre is bit 0
        t[n] = (window_euler8(others | 1) - window_euler8(others)) as i8;
        n += 1;
    }
    t
};

/// Removing the centre leaves the Euler characteristic unchanged (Lee et al. condition 1).
fn is_euler_invariant(cube: Cube) -> bool {
    let mut sum = 0i32;
    for octant in &OCTANTS {
        let mut n = 0usize;
        for (j, &b) in octant.iter().enumerate() {
            n |= (((cube >> b) & 1) as usize) << j;
        }
        sum += EULER_DELTA[n] as i32;
    }
    sum == 0
}

/// The 26 neighbours hold at most one 26-connected component (scikit-image's octree labelling
/// counts exactly these components; an isolated voxel passes).
fn is_simple(cube: Cube) -> bool {
    let set = cube & !CENTRE;
    if set == 0 {
        return true;
    }
    let mut seen = set & set.wrapping_neg();
    let mut frontier = seen;
    while frontier != 0 {
        let mut grow = 0;
        let mut f = frontier;
        while f != 0 {
            grow |= ADJACENT[f.trailing_zeros() as usize];
            f &= f - 1;
        }
        frontier = grow & set & !seen;
        seen |= frontier;
    }
    seen == set
}

/// Exactly one foreground neighbour.
fn is_endpoint(cube: Cube) -> bool {
    (cube & !CENTRE).count_ones() == 1
}

/// Lee et al. thinning of a 3D mask, as scikit-image 0.26 runs it.
fn lee(mask: ArrayView3<bool>) -> Array3<bool> {
    let (d, h, w) = mask.dim();
    if d == 0 || h == 0 || w == 0 {
        return mask.to_owned();
    }
    let (ph, pw) = (h + 2, w + 2);
    let plane = ph * pw;
    let mut img = vec![0u8; (d + 2) * plane];
    for ((p, r, c), &v) in mask.indexed_iter() {
        img[(p + 1) * plane + (r + 1) * pw + c + 1] = v as u8;
    }
    let (sp, sr) = (plane as isize, pw as isize);
    let mut offsets = [0isize; 27];
    for dp in -1..=1 {
        for dr in -1..=1 {
            for dc in -1..=1 {
                offsets[cube_bit(dp, dr, dc) as usize] =
                    dp as isize * sp + dr as isize * sr + dc as isize;
            }
        }
    }
    let cube_at = |img: &[u8], i: usize| -> Cube {
        let mut cube = 0;
        for (b, &o) in offsets.iter().enumerate() {
            cube |= (img[i.wrapping_add_signed(o)] as u32) << b;
        }
        cube
    };
    // A voxel is a border point of a direction when its face neighbour that way is background.
    // scikit-image's order: -r, +r, +c, -c, +p, -p (its border types 4, 3, 2, 1, 5, 6); a mask
    // of depth 1 skips the two p directions.
    let directions: &[isize] = if d == 1 {
        &[-sr, sr, 1, -1]
    } else {
        &[-sr, sr, 1, -1, sp, -sp]
    };
    // Foreground voxels in raster order (p, r, c), which is the order candidates are re-checked.
    let mut on: Vec<usize> = (0..img.len()).filter(|&i| img[i] == 1).collect();
    let mut candidates = Vec::new();
    loop {
        let mut unchanged = 0;
        for &dir in directions {
            candidates.clear();
            for &i in &on {
                if img[i.wrapping_add_signed(dir)] != 0 {
                    continue;
                }
                let cube = cube_at(&img, i);
                if !is_endpoint(cube) && is_euler_invariant(cube) && is_simple(cube) {
                    candidates.push(i);
                }
            }
            // Sequential re-check on the image as it is now; scikit-image 0.26 re-tests
            // simplicity only.
            let mut changed = false;
            for &i in &candidates {
                if is_simple(cube_at(&img, i)) {
                    img[i] = 0;
                    changed = true;
                }
            }
            if changed {
                on.retain(|&i| img[i] == 1);
            } else {
                unchanged += 1;
            }
        }
        if unchanged == directions.len() {
            break;
        }
    }
    Array3::from_shape_fn((d, h, w), |(p, r, c)| {
        img[(p + 1) * plane + (r + 1) * pw + c + 1] == 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    fn picture(rows: &[&str]) -> Array2<bool> {
        Array2::from_shape_fn((rows.len(), rows[0].len()), |(r, c)| {
            rows[r].as_bytes()[c] == b'#'
        })
    }

    fn draw(a: &Array2<bool>) -> Vec<String> {
        a.outer_iter()
            .map(|row| row.iter().map(|&v| if v { '#' } else { '.' }).collect())
            .collect()
    }

    #[test]
    fn zhang_suen_table_removes_51_neighbourhoods() {
        // Counted from scikit-image 0.26's table: 51 non-zero entries, 16 first only, 15 second
        // only, 20 in both sub-iterations.
        let t = &ZHANG_SUEN_TABLE;
        assert_eq!(t.iter().filter(|&&v| v != 0).count(), 51);
        assert_eq!(t.iter().filter(|&&v| v == FIRST).count(), 16);
        assert_eq!(t.iter().filter(|&&v| v == SECOND).count(), 15);
        assert_eq!(t.iter().filter(|&&v| v == BOTH).count(), 20);
        // A lone pixel, a tail end and a full neighbourhood are never removed.
        assert_eq!((t[0], t[1], t[255]), (NEVER, NEVER, NEVER));
    }

    #[test]
    fn skeletonize_ellipse_is_scikit_image_docstring() {
        // scikit-image 0.26 `skeletonize` docstring: 1/3 (X-4)^2 + (Y-4)^2 < 9 on a 9 x 9 grid.
        let ellipse = Array2::from_shape_fn((9, 9), |(x, y)| {
            let (x, y) = (x as f64 - 4.0, y as f64 - 4.0);
            x * x / 3.0 + y * y < 9.0
        });
        let skeleton = skeletonize(&ellipse.view().into_dyn()).unwrap();
        let expected = Array2::from_shape_fn((9, 9), |(r, c)| c == 4 && (3..=6).contains(&r));
        assert_eq!(skeleton, expected.into_dyn());
    }

    #[test]
    fn skeletonize_2x2_square_keeps_its_top_row() {
        let square = picture(&["....", ".##.", ".##.", "...."]);
        let skeleton = skeletonize(&square.view().into_dyn()).unwrap();
        let skeleton = skeleton.into_dimensionality::<Ix2>().unwrap();
        assert_eq!(draw(&skeleton), ["....", ".##.", "....", "...."]);
    }

    #[test]
    fn skeletonize_border_touching_rows_are_kept() {
        // Outside the image is background: a full 1 x 5 row is already thin.
        let row = Array2::from_elem((1, 5), true);
        assert_eq!(skeletonize(&row.view().into_dyn()).unwrap(), row.into_dyn());
    }

    #[test]
    fn euler_delta_matches_lee_table_2() {
        // Lee et al. 1994 Table 2, delta G_26: the centre alone +1; the full octant -1; the
        // centre with one face neighbour -1; values are odd and within [-7, 5].
        assert_eq!(EULER_DELTA[0], 1);
        assert_eq!(EULER_DELTA[127], -1);
        assert_eq!(EULER_DELTA[0b0000001], -1);
        assert!(
            EULER_DELTA
                .iter()
                .all(|&v| v % 2 != 0 && (-7..=5).contains(&v))
        );
        assert_eq!(EULER_DELTA.iter().filter(|&&v| v == -7).count(), 1);
    }

    #[test]
    fn simple_point_counts_26_components() {
        let b = |dp, dr, dc| 1u32 << cube_bit(dp, dr, dc);
        assert!(is_simple(CENTRE));
        assert!(is_simple(CENTRE | b(-1, -1, -1) | b(0, 0, -1)));
        // Opposite corners are not 26-adjacent without the centre.
        assert!(!is_simple(CENTRE | b(-1, -1, -1) | b(1, 1, 1)));
        assert!(is_simple(
            CENTRE | b(-1, -1, -1) | b(0, 0, -1) | b(1, 1, 0) | b(0, 1, -1)
        ));
    }

    #[test]
    fn lee_keeps_lines_and_lone_voxels() {
        let mut v = Array3::from_elem((3, 3, 9), false);
        v[[1, 1, 4]] = true;
        assert_eq!(lee(v.view()), v);
        for c in 1..8 {
            v[[1, 1, c]] = true;
        }
        assert_eq!(lee(v.view()), v);
    }

    #[test]
    fn lee_erases_a_2x2x2_cube_like_scikit_image_0_26() {
        // scikit-image 0.26: skeletonize(np.ones((2, 2, 2), bool)).sum() == 0 (issue #3757).
        let cube = Array3::from_elem((2, 2, 2), true);
        assert!(!lee(cube.view()).iter().any(|&v| v));
    }

    #[test]
    fn skeletonize_rejects_1d_and_4d() {
        let a = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[4]), true);
        assert_eq!(skeletonize(&a.view()), Err(MetricError::UnsupportedRank(1)));
        let b = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[2, 2, 2, 2]), true);
        assert_eq!(skeletonize(&b.view()), Err(MetricError::UnsupportedRank(4)));
    }

    #[test]
    fn skeletonize_reads_any_memory_layout() {
        let m = Array3::from_shape_fn((5, 7, 6), |(p, r, c)| (p + 2 * r + c) % 5 != 0);
        let t = m.view().permuted_axes([2, 0, 1]);
        let owned = t.as_standard_layout().into_owned();
        assert_eq!(
            skeletonize(&t.into_dyn()).unwrap(),
            skeletonize(&owned.view().into_dyn()).unwrap()
        );
    }

    #[test]
    fn skeletonize_empty_shapes_pass_through() {
        let a = ndarray::ArrayD::from_elem(ndarray::IxDyn(&[0, 3, 2]), true);
        assert_eq!(skeletonize(&a.view()).unwrap().shape(), &[0, 3, 2]);
    }
}
