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

/// Row-major strides of a 3D grid.
pub(crate) fn strides(d: [usize; 3]) -> [usize; 3] {
    [d[1] * d[2], d[2], 1]
}

/// The flat index of the last position of an `o`-sized block on a grid of strides `s`, plus 1.
pub(crate) fn flat_extent(o: [usize; 3], s: [usize; 3]) -> usize {
    (o[0] - 1) * s[0] + (o[1] - 1) * s[1] + o[2]
}
