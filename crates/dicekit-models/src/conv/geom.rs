//! The shape of a convolution, always over three spatial axes (a 2D convolution has a depth
//! of 1 and a kernel depth of 1).

use super::cpu::Isa;

/// A convolution `x [N, Ci, ...I] -> y [N, Co, ...O]` with weight `[Co, Ci, ...K]`:
/// ```text
/// y[n, o, p] = b[o] + Σ_{c, k} w[o, c, k] · x[n, c, s·p + d·k - lo]      (x = 0 outside)
/// O = (I + lo + hi - d·(K - 1) - 1) / s + 1
/// ```
/// A transposed convolution is the input gradient of the convolution that maps its output
/// back to its input, so it is described by that convolution's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeom {
    /// Batch.
    pub n: usize,
    /// Input channels.
    pub ci: usize,
    /// Output channels.
    pub co: usize,
    /// Input size.
    pub input: [usize; 3],
    /// Kernel size.
    pub kernel: [usize; 3],
    /// Stride.
    pub stride: [usize; 3],
    /// Padding before and after.
    pub pad: [(usize, usize); 3],
    /// Dilation.
    pub dilation: [usize; 3],
    /// The kernels' instruction set (decided by the caller's thread).
    pub isa: Isa,
}

impl ConvGeom {
    /// The padded input size.
    pub fn padded(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.input[a] + self.pad[a].0 + self.pad[a].1)
    }

    /// The extent of the dilated kernel.
    pub fn reach(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.dilation[a] * (self.kernel[a] - 1) + 1)
    }

    /// The output size, `None` where it would be empty.
    pub fn output(&self) -> Option<[usize; 3]> {
        let (p, r) = (self.padded(), self.reach());
        if (0..3).any(|a| p[a] < r[a] || self.stride[a] == 0 || self.kernel[a] == 0) {
            return None;
        }
        Some(std::array::from_fn(|a| (p[a] - r[a]) / self.stride[a] + 1))
    }

    /// The output size, 0 along the axes where it would be empty.
    pub fn output_or_empty(&self) -> [usize; 3] {
        self.output().unwrap_or_else(|| {
            let (p, r) = (self.padded(), self.reach());
            std::array::from_fn(|a| {
                if p[a] < r[a] || self.stride[a] == 0 {
                    0
                } else {
                    (p[a] - r[a]) / self.stride[a] + 1
                }
            })
        })
    }

    /// Whether the kernels have nothing to compute: an empty output, batch, channel count or
    /// input (the convolution is then its bias alone, and its gradients zero).
    pub fn is_degenerate(&self) -> bool {
        self.output().is_none()
            || self.n == 0
            || self.ci == 0
            || self.co == 0
            || self.input.contains(&0)
    }

    /// The offsets `(r_d, r_h, r_w)` of phase `ph` (`ph < Π stride`, row-major).
    pub fn phase(&self, ph: usize) -> [usize; 3] {
        phase_offsets(ph, self.stride)
    }

    /// Kernel positions per channel pair.
    pub fn kernel_len(&self) -> usize {
        self.kernel.iter().product()
    }

    /// The phase grid: the padded input split by stride, `ceil(padded / stride)` per axis.
    pub fn phase_grid(&self) -> [usize; 3] {
        let p = self.padded();
        std::array::from_fn(|a| p[a].div_ceil(self.stride[a]))
    }

    /// Number of phases, `Π stride`.
    pub fn phases(&self) -> usize {
        self.stride.iter().product()
    }
}

/// The offsets of phase `ph` of a split by `stride` (row-major phases).
pub(crate) fn phase_offsets(ph: usize, s: [usize; 3]) -> [usize; 3] {
    [ph / (s[1] * s[2]), ph / s[2] % s[1], ph % s[2]]
}

/// Row-major strides of a 3D grid.
pub(crate) fn strides(d: [usize; 3]) -> [usize; 3] {
    [d[1] * d[2], d[2], 1]
}

/// The flat index of the last position of an `o`-sized block on a grid of strides `s`, plus 1.
pub(crate) fn flat_extent(o: [usize; 3], s: [usize; 3]) -> usize {
    (o[0] - 1) * s[0] + (o[1] - 1) * s[1] + o[2]
}
