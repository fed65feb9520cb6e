//! Surface elements of a binary mask (voxels or surfels) as weighted points, extracted from a
//! padded crop of the union bounding box in one pass.
use ndarray::ArrayViewD;

use crate::surfel_normals::NORMALS;

/// Surface elements: grid coordinates (crop voxels, or voxel corners for surfels) and weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct PointSet {
    pub coords: Vec<[u32; 3]>,
    pub weights: Vec<f64>,
}

/// A mask cropped to a box, with one voxel of padding on each real axis, as 0/1 bytes.
/// 2D masks live in 3D with axis 0 of length 1 (and no padding there).
pub(crate) struct Padded {
    /// Dimensions including the padding.
    pub dims: [usize; 3],
    pub data: Vec<u8>,
    pub real: [bool; 3],
}

impl Padded {
    /// Copies the foreground (`is_fg`) of `bbox` from `src`. Padding voxels are 1 where they lie
    /// outside the image and `outside_is_foreground`, else 0.
    pub fn new<T: Copy>(
        src: &ArrayViewD<T>,
        is_fg: impl Fn(T) -> bool,
        bbox: &[(usize, usize)],
        outside_is_foreground: bool,
    ) -> Self {
        let nd = src.ndim();
        let shape = src.shape();
        let mut lo = [0usize; 3];
        let mut len = [1usize; 3];
        let mut real = [false; 3];
        let mut at_lo = [false; 3];
        let mut at_hi = [false; 3];
        for a in 0..nd {
            let g = 3 - nd + a;
            lo[g] = bbox[a].0;
            len[g] = bbox[a].1 - bbox[a].0 + 1;
            real[g] = true;
            at_lo[g] = bbox[a].0 == 0;
            at_hi[g] = bbox[a].1 + 1 == shape[a];
        }
        let pad = |g: usize| real[g] as usize;
        let dims = [
            len[0] + 2 * pad(0),
            len[1] + 2 * pad(1),
            len[2] + 2 * pad(2),
        ];
        let mut data = vec![0u8; dims[0] * dims[1] * dims[2]];
        if outside_is_foreground {
            for i in 0..dims[0] {
                for j in 0..dims[1] {
                    for k in 0..dims[2] {
                        let c = [i, j, k];
                        let outside = (0..3).any(|g| {
                            real[g]
                                && ((c[g] == 0 && at_lo[g]) || (c[g] == dims[g] - 1 && at_hi[g]))
                        });
                        if outside {
                            data[(i * dims[1] + j) * dims[2] + k] = 1;
                        }
                    }
                }
            }
        }
        let standard = src.as_standard_layout();
        let flat = standard.as_slice().expect("standard layout");
        let mut sstride = [0usize; 3];
        {
            let mut s = 1;
            for a in (0..nd).rev() {
                sstride[3 - nd + a] = s;
                s *= shape[a];
            }
        }
        for i in 0..len[0] {
            for j in 0..len[1] {
                let src_row =
                    (lo[0] + i) * sstride[0] + (lo[1] + j) * sstride[1] + lo[2] * sstride[2];
                let dst_row = ((i + pad(0)) * dims[1] + j + pad(1)) * dims[2] + pad(2);
                for k in 0..len[2] {
                    data[dst_row + k] = is_fg(flat[src_row + k * sstride[2]]) as u8;
                }
            }
        }
        Padded { dims, data, real }
    }

    fn strides(&self) -> [isize; 3] {
        [
            (self.dims[1] * self.dims[2]) as isize,
            self.dims[2] as isize,
            1,
        ]
    }
}

/// Boundary voxels (`Faces` or `FullyConnected`), coordinates in the unpadded crop: the
/// reference of [`boundary_points`](crate::boundary::boundary_points) in the tests.
#[cfg(test)]
pub(crate) fn voxel_points(m: &Padded, boundary: crate::Boundary) -> PointSet {
    use crate::Boundary;
    let st = m.strides();
    let r = |a: usize| if m.real[a] { -1isize..=1 } else { 0..=0 };
    let mut offsets = Vec::new();
    for di in r(0) {
        for dj in r(1) {
            for dk in r(2) {
                let nz = (di != 0) as u8 + (dj != 0) as u8 + (dk != 0) as u8;
                if (boundary == Boundary::Faces && nz == 1)
                    || (boundary != Boundary::Faces && nz >= 1)
                {
                    offsets.push(di * st[0] + dj * st[1] + dk * st[2]);
                }
            }
        }
    }
    let p = |a: usize| m.real[a] as usize;
    let d = m.dims;
    let mut out = PointSet::default();
    for i in p(0)..d[0] - p(0) {
        for j in p(1)..d[1] - p(1) {
            let row = (i * d[1] + j) * d[2];
            for k in p(2)..d[2] - p(2) {
                let at = row + k;
                if m.data[at] == 0 {
                    continue;
                }
                if offsets
                    .iter()
                    .any(|&o| m.data[(at as isize + o) as usize] == 0)
                {
                    out.coords
                        .push([(i - p(0)) as u32, (j - p(1)) as u32, (k - p(2)) as u32]);
                    out.weights.push(1.0);
                }
            }
        }
    }
    out
}

/// Contour length (2D, 16 codes) or surface area (3D, 256 codes) of each neighbourhood code.
pub(crate) fn surfel_weights(spacing3: [f64; 3], two_d: bool) -> Vec<f64> {
    if two_d {
        let (v, h) = (spacing3[1], spacing3[2]);
        let diag = 0.5 * (v * v + h * h).sqrt();
        // Bits: top-left 8, top-right 4, bottom-left 2, bottom-right 1 (axis 0 downwards).
        (0u8..16)
            .map(|code| match code {
                0 | 15 => 0.0,
                0b0011 | 0b1100 => h,
                0b0101 | 0b1010 => v,
                0b0110 | 0b1001 => 2.0 * diag,
                _ => diag,
            })
            .collect()
    } else {
        let [s0, s1, s2] = spacing3;
        NORMALS
            .iter()
            .map(|normals| {
                normals
                    .iter()
                    .map(|n| {
                        let (a, b, c) = (n[0] * s1 * s2, n[1] * s0 * s2, n[2] * s0 * s1);
                        (a * a + b * b + c * c).sqrt()
                    })
                    .sum()
            })
            .collect()
    }
}

/// Surfels: corner-grid points whose 2x2(x2) neighbourhood is mixed, weighted by `table`.
/// Corner `c` lies between crop voxels `c - 1` and `c` along each real axis.
pub(crate) fn surfel_points(m: &Padded, table: &[f64]) -> PointSet {
    let st = m.strides();
    let two_d = !m.real[0];
    let p = |a: usize| m.real[a] as usize;
    // Corner grid: crop length + 1 along real axes; its voxel block starts at padded index c.
    let cd = [m.dims[0] - p(0), m.dims[1] - p(1), m.dims[2] - p(2)];
    let mut block: Vec<(isize, u8)> = Vec::new();
    for a in 0..=p(0) {
        for b in 0..=1usize {
            for c in 0..=1usize {
                let bit = if two_d {
                    3 - (2 * b + c)
                } else {
                    7 - (4 * a + 2 * b + c)
                };
                block.push((
                    a as isize * st[0] + b as isize * st[1] + c as isize * st[2],
                    bit as u8,
                ));
            }
        }
    }
    let full = if two_d { 15u8 } else { 255u8 };
    let mut out = PointSet::default();
    for i in 0..cd[0] {
        for j in 0..cd[1] {
            for k in 0..cd[2] {
                let base = ((i * m.dims[1] + j) * m.dims[2] + k) as isize;
                let mut code = 0u8;
                for &(o, bit) in &block {
                    code |= m.data[(base + o) as usize] << bit;
                }
                if code != 0 && code != full {
                    out.coords.push([i as u32, j as u32, k as u32]);
                    out.weights.push(table[code as usize]);
                }
            }
        }
    }
    out
}
