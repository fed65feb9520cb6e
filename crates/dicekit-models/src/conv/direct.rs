//! The convolution, its input gradient and its weight gradient on `f32` slices in burn's
//! layout (`[N, C, D, H, W]`, weights `[Co, Ci, Kd, Kh, Kw]`), through the tap loops of
//! [`cpu`](super::cpu).
//!
//! The input is copied once into a zero-padded buffer, split by phase when the stride is above
//! one (`xs[n][c][phase][g]` holds `x_padded[n][c][s·g + phase]`), so that every kernel offset
//! is a constant shift of a contiguous plane. The output is computed over the flat padded grid
//! in chunks (`[image][chunk][channel][L]`, one rayon task per image and chunk, writing its own
//! block) and the valid positions are copied out.
//!
//! The input gradient of a stride-`s` convolution is, for each phase `r` of the input, a
//! stride-1 tap convolution of the front-padded output gradient with the kernel offsets `k`
//! where `d·k ≡ r (mod s)` (for `s = 1`: the flipped kernel). The weight gradient is the tap
//! correlation of the forward's taps with the output gradient laid out, transposed
//! (`[q][channel]`), on the forward's grid (zero at the dropped columns), summed over tasks.
use rayon::prelude::*;

use super::cpu::{self, CO_BLOCK, Isa, Q_TILE, Taps};
use super::geom::{ConvGeom, flat_extent, phase_offsets, strides};

/// Output blocks of a tap convolution over a flat grid: `[image][chunk][rows][l]`.
struct Blocks {
    data: Vec<f32>,
    rows: usize,
    l: usize,
    chunks: usize,
}

impl Blocks {
    /// Copies positions `q..q + out.len()` of row `r` of image `img` into `out`.
    fn read(&self, img: usize, r: usize, mut q: usize, out: &mut [f32]) {
        let mut o = 0;
        while o < out.len() {
            let (c, j) = (q / self.l, q % self.l);
            let take = (self.l - j).min(out.len() - o);
            let start = ((img * self.chunks + c) * self.rows + r) * self.l + j;
            out[o..o + take].copy_from_slice(&self.data[start..start + take]);
            o += take;
            q += take;
        }
    }
}

/// Positions per task: a multiple of the tile, about `tasks` tasks in all, at most `cap`.
fn chunk_len(q: usize, images: usize, tasks: usize, cap: usize) -> usize {
    let per_image = tasks.div_ceil(images.max(1)).max(1);
    q.div_ceil(per_image)
        .next_multiple_of(Q_TILE)
        .clamp(Q_TILE, cap.max(Q_TILE))
}

/// `out[c][q] = Σ_t w[t][c] · src_img[base[t] + q]` for every image, `q < q_len`.
/// `w` is `[T][rows]`, `rows` a multiple of [`CO_BLOCK`].
#[allow(clippy::too_many_arguments)]
fn tap_conv(
    isa: Isa,
    src: &[f32],
    img_len: usize,
    images: usize,
    taps: &Taps,
    w: &[f32],
    rows: usize,
    q_len: usize,
) -> Blocks {
    let l = chunk_len(q_len, images, 8 * rayon::current_num_threads(), 32 * Q_TILE);
    let chunks = q_len.div_ceil(l);
    let mut data = vec![0f32; images * chunks * rows * l];
    if taps.len() == 0 {
        return Blocks {
            data,
            rows,
            l,
            chunks,
        };
    }
    data.par_chunks_mut(rows * l)
        .enumerate()
        .for_each(|(i, block)| {
            let (img, c) = (i / chunks, i % chunks);
            let s = &src[img * img_len..(img + 1) * img_len];
            let (q0, qe) = (c * l, ((c + 1) * l).min(q_len));
            for cb in (0..rows).step_by(CO_BLOCK) {
                let out = &mut block[cb * l..];
                let mut t0 = q0;
                while t0 < qe {
                    let n = Q_TILE.min(qe - t0);
                    cpu::tap_tile(isa, s, taps, &w[cb..], rows, t0, n, &mut out[t0 - q0..], l);
                    t0 += n;
                }
            }
        });
    Blocks {
        data,
        rows,
        l,
        chunks,
    }
}

/// The grid positions `g < grid` of phase `r` whose input index `s·g + r - lo` is in `[0, I)`.
fn phase_range(
    input: usize,
    lo: usize,
    stride: usize,
    r: usize,
    grid: usize,
) -> std::ops::Range<usize> {
    let first = lo.saturating_sub(r).div_ceil(stride);
    let end = (input + lo).saturating_sub(r).div_ceil(stride).min(grid);
    first..end.max(first)
}

/// Copies `x [planes][I]` into `[planes][phases][G]`: the input padded by `lo` in front (zero
/// elsewhere) and split by `stride` (phase `r` at grid position `g` holds padded `s·g + r`).
fn phase_split(
    x: &[f32],
    planes: usize,
    input: [usize; 3],
    lo: [usize; 3],
    stride: [usize; 3],
    grid: [usize; 3],
) -> Vec<f32> {
    let plane_in: usize = input.iter().product();
    let plane: usize = grid.iter().product();
    let phases: usize = stride.iter().product();
    let mut out = vec![0f32; planes * phases * plane];
    let gs = strides(grid);
    out.par_chunks_mut(phases * plane)
        .zip(x.par_chunks(plane_in))
        .for_each(|(dst, src)| {
            for ph in 0..phases {
                let r = phase_offsets(ph, stride);
                let dst = &mut dst[ph * plane..(ph + 1) * plane];
                // Grid positions g (per axis) whose input index s·g + r - lo is in [0, I).
                let range = |a: usize| phase_range(input[a], lo[a], stride[a], r[a], grid[a]);
                let (r0, r1, r2) = (range(0), range(1), range(2));
                if r2.is_empty() {
                    continue;
                }
                let i2_first = stride[2] * r2.start + r[2] - lo[2];
                for g0 in r0.clone() {
                    let i0 = stride[0] * g0 + r[0] - lo[0];
                    for g1 in r1.clone() {
                        let i1 = stride[1] * g1 + r[1] - lo[1];
                        let row = &src[(i0 * input[1] + i1) * input[2]..][..input[2]];
                        let d = &mut dst[g0 * gs[0] + g1 * gs[1]..][r2.clone()];
                        if stride[2] == 1 {
                            d.copy_from_slice(&row[i2_first..i2_first + d.len()]);
                        } else {
                            for (k, v) in d.iter_mut().enumerate() {
                                *v = row[i2_first + k * stride[2]];
                            }
                        }
                    }
                }
            }
        });
    out
}

/// The forward's input buffer, taps and grid.
struct ForwardPlan {
    xs: Vec<f32>,
    taps: Taps,
    img_len: usize,
    grid_strides: [usize; 3],
    out: [usize; 3],
    q_len: usize,
}

fn forward_plan(x: &[f32], g: &ConvGeom) -> Option<ForwardPlan> {
    let out = g.output()?;
    let grid = g.phase_grid();
    let gs = strides(grid);
    let plane: usize = grid.iter().product();
    let phases = g.phases();
    let lo = g.pad.map(|p| p.0);
    let xs = phase_split(x, g.n * g.ci, g.input, lo, g.stride, grid);
    let [s, d, k] = [g.stride, g.dilation, g.kernel];
    let mut base = Vec::with_capacity(g.ci * g.kernel_len());
    for c in 0..g.ci {
        for k0 in 0..k[0] {
            for k1 in 0..k[1] {
                for k2 in 0..k[2] {
                    let u = [d[0] * k0, d[1] * k1, d[2] * k2];
                    let ph = ((u[0] % s[0]) * s[1] + u[1] % s[1]) * s[2] + u[2] % s[2];
                    let off = (u[0] / s[0]) * gs[0] + (u[1] / s[1]) * gs[1] + u[2] / s[2];
                    base.push((c * phases + ph) * plane + off);
                }
            }
        }
    }
    Some(ForwardPlan {
        xs,
        taps: Taps::new(base),
        img_len: g.ci * phases * plane,
        grid_strides: gs,
        out,
        q_len: flat_extent(out, gs),
    })
}

/// `planes` planes of `len` values, each its channel's bias (`channels` per image), or zeros.
fn bias_planes(planes: usize, len: usize, channels: usize, bias: Option<&[f32]>) -> Vec<f32> {
    let mut v = vec![0f32; planes * len];
    if let (Some(b), true) = (bias, len > 0) {
        v.chunks_mut(len)
            .enumerate()
            .for_each(|(i, p)| p.fill(b[i % channels]));
    }
    v
}

/// `y [N, Co, ...O]` of `x [N, Ci, ...I]`, `w [Co, Ci, ...K]` and an optional bias `[Co]`
/// (the bias alone where the geometry is degenerate, [`ConvGeom::is_degenerate`]; `O` is
/// [`ConvGeom::output_or_empty`]).
pub(crate) fn conv_forward(x: &[f32], w: &[f32], bias: Option<&[f32]>, g: &ConvGeom) -> Vec<f32> {
    let plane_o: usize = g.output_or_empty().iter().product();
    let Some(plan) = forward_plan(x, g).filter(|_| !g.is_degenerate()) else {
        return bias_planes(g.n * g.co, plane_o, g.co, bias);
    };
    let t = plan.taps.len();
    let rows = g.co.next_multiple_of(CO_BLOCK);
    let mut wp = vec![0f32; t * rows];
    for co in 0..g.co {
        for (ti, &v) in w[co * t..(co + 1) * t].iter().enumerate() {
            wp[ti * rows + co] = v;
        }
    }
    let blocks = tap_conv(
        g.isa,
        &plan.xs,
        plan.img_len,
        g.n,
        &plan.taps,
        &wp,
        rows,
        plan.q_len,
    );
    let o = plan.out;
    let plane: usize = o.iter().product();
    let gs = plan.grid_strides;
    let mut y = vec![0f32; g.n * g.co * plane];
    y.par_chunks_mut(plane).enumerate().for_each(|(i, yp)| {
        let (img, c) = (i / g.co, i % g.co);
        for o0 in 0..o[0] {
            for o1 in 0..o[1] {
                let row = &mut yp[(o0 * o[1] + o1) * o[2]..][..o[2]];
                blocks.read(img, c, o0 * gs[0] + o1 * gs[1], row);
            }
        }
        if let Some(b) = bias {
            yp.iter_mut().for_each(|v| *v += b[c]);
        }
    });
    y
}

/// `dx [N, Ci, ...I]` from `dy [N, Co, ...O]` and `w [Co, Ci, ...K]` (plus an optional bias
/// `[Ci]`: the transposed convolution). Zero (or the bias) where the geometry is degenerate.
pub(crate) fn conv_input_grad(
    dy: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    g: &ConvGeom,
) -> Vec<f32> {
    let plane_i: usize = g.input.iter().product();
    let Some(o) = g.output().filter(|_| !g.is_degenerate()) else {
        return bias_planes(g.n * g.ci, plane_i, g.ci, bias);
    };
    let [s, d, k] = [g.stride, g.dilation, g.kernel];
    let grid = g.phase_grid();
    let m: [usize; 3] = std::array::from_fn(|a| d[a] * (k[a] - 1) / s[a]);
    let e: [usize; 3] = std::array::from_fn(|a| grid[a] + m[a]);
    let es = strides(e);
    let plane_e: usize = e.iter().product();
    let dyp = phase_split(dy, g.n * g.co, o, m, [1; 3], e);
    let q_len = flat_extent(grid, es);
    let rows = g.ci.next_multiple_of(CO_BLOCK);
    let kl = g.kernel_len();
    let phases = g.phases();
    let blocks: Vec<Blocks> = (0..phases)
        .map(|ph| {
            let r = g.phase(ph);
            let mut base = vec![];
            let mut wp = vec![];
            for co in 0..g.co {
                for k0 in 0..k[0] {
                    for k1 in 0..k[1] {
                        for k2 in 0..k[2] {
                            let u = [d[0] * k0, d[1] * k1, d[2] * k2];
                            if (0..3).any(|a| u[a] % s[a] != r[a]) {
                                continue;
                            }
                            base.push(
                                co * plane_e
                                    + (0..3).map(|a| (m[a] - u[a] / s[a]) * es[a]).sum::<usize>(),
                            );
                            let kk = (k0 * k[1] + k1) * k[2] + k2;
                            let at = wp.len();
                            wp.resize(at + rows, 0.0);
                            for ci in 0..g.ci {
                                wp[at + ci] = w[(co * g.ci + ci) * kl + kk];
                            }
                        }
                    }
                }
            }
            tap_conv(
                g.isa,
                &dyp,
                g.co * plane_e,
                g.n,
                &Taps::new(base),
                &wp,
                rows,
                q_len,
            )
        })
        .collect();
    let input = g.input;
    let plane: usize = input.iter().product();
    let lo = g.pad.map(|p| p.0);
    let mut dx = vec![0f32; g.n * g.ci * plane];
    dx.par_chunks_mut(plane).enumerate().for_each(|(i, xp)| {
        let (img, c) = (i / g.ci, i % g.ci);
        let mut row = vec![0f32; grid[2]];
        for (ph, b) in blocks.iter().enumerate() {
            let r = g.phase(ph);
            let range = |a: usize| phase_range(input[a], lo[a], s[a], r[a], grid[a]);
            let r2 = range(2);
            if r2.is_empty() {
                continue;
            }
            let i2_first = s[2] * r2.start + r[2] - lo[2];
            for g0 in range(0) {
                let i0 = s[0] * g0 + r[0] - lo[0];
                for g1 in range(1) {
                    let i1 = s[1] * g1 + r[1] - lo[1];
                    let dst = &mut xp[(i0 * input[1] + i1) * input[2]..][..input[2]];
                    let q = g0 * es[0] + g1 * es[1] + r2.start;
                    if s[2] == 1 {
                        b.read(img, c, q, &mut dst[i2_first..i2_first + r2.len()]);
                    } else {
                        let row = &mut row[..r2.len()];
                        b.read(img, c, q, row);
                        for (k, &v) in row.iter().enumerate() {
                            dst[i2_first + k * s[2]] = v;
                        }
                    }
                }
            }
        }
        if let Some(b) = bias {
            xp.iter_mut().for_each(|v| *v += b[c]);
        }
    });
    dx
}

/// `dw [Co, Ci, ...K]` from `x [N, Ci, ...I]` and `dy [N, Co, ...O]`; zero where the geometry
/// is degenerate.
pub(crate) fn conv_weight_grad(x: &[f32], dy: &[f32], g: &ConvGeom) -> Vec<f32> {
    let Some(plan) = forward_plan(x, g).filter(|_| !g.is_degenerate()) else {
        return vec![0f32; g.co * g.ci * g.kernel_len()];
    };
    let (o, gs, q_len) = (plan.out, plan.grid_strides, plan.q_len);
    let rows = g.co.next_multiple_of(16);
    // The tasks do not depend on the thread count, and their partial sums are added in a
    // fixed order: the weight gradient is the same from run to run and machine to machine.
    let l = chunk_len(q_len, g.n, 16, 64 * Q_TILE);
    let chunks = q_len.div_ceil(l);
    let plane_o: usize = o.iter().product();
    // dy transposed onto the forward's grid, zero at the dropped positions:
    // [image][chunk][l][rows].
    let mut dyq = vec![0f32; g.n * chunks * rows * l];
    dyq.par_chunks_mut(rows * l)
        .enumerate()
        .for_each(|(i, block)| {
            let (img, c) = (i / chunks, i % chunks);
            let (q0, qe) = (c * l, ((c + 1) * l).min(q_len));
            for o0 in (q0 / gs[0])..o[0] {
                if o0 * gs[0] >= qe {
                    break;
                }
                for o1 in 0..o[1] {
                    let q = o0 * gs[0] + o1 * gs[1];
                    let (a, b) = (q.max(q0), (q + o[2]).min(qe));
                    if a >= b {
                        continue;
                    }
                    for co in 0..g.co {
                        let src = &dy
                            [(img * g.co + co) * plane_o + (o0 * o[1] + o1) * o[2] + a - q..]
                            [..b - a];
                        for (k, &v) in src.iter().enumerate() {
                            block[(a - q0 + k) * rows + co] = v;
                        }
                    }
                }
            }
        });
    // Channel blocks of 48, 32 or 16 (3, 2 or 1 vectors).
    let mut co_blocks = vec![];
    let mut c0 = 0;
    while c0 < rows {
        let v = ((rows - c0) / 16).min(3);
        co_blocks.push((c0, v));
        c0 += 16 * v;
    }
    // Positions per pass over the taps: the gradient rows of a pass stay in the L1 cache.
    const SUB: usize = 128;
    let t = plan.taps.len();
    let taps = &plan.taps;
    // One weight-gradient task, added into `acc`.
    let task = |i: usize, acc: &mut [f32]| {
        let (img, c) = (i / chunks, i % chunks);
        let s = &plan.xs[img * plan.img_len..(img + 1) * plan.img_len];
        let block = &dyq[i * rows * l..(i + 1) * rows * l];
        let (q0, qe) = (c * l, ((c + 1) * l).min(q_len));
        for p0 in (q0..qe).step_by(SUB) {
            let n = SUB.min(qe - p0);
            for &(cb, v) in &co_blocks {
                let tb_len = cpu::wgrad_taps(v);
                for tb in (0..t).step_by(tb_len) {
                    let base = &taps.base[tb..(tb + tb_len).min(t)];
                    let dyt = &block[(p0 - q0) * rows + cb..];
                    cpu::wgrad_tile(
                        g.isa,
                        s,
                        base,
                        taps.max,
                        p0,
                        n,
                        dyt,
                        rows,
                        v,
                        &mut acc[tb * rows + cb..],
                        rows,
                    );
                }
            }
        }
    };
    const GROUPS: usize = 8;
    let tasks = g.n * chunks;
    let groups = GROUPS.min(tasks);
    let partial: Vec<Vec<f32>> = (0..groups)
        .into_par_iter()
        .map(|k| {
            let mut acc = vec![0f32; t * rows];
            for i in k * tasks / groups..(k + 1) * tasks / groups {
                task(i, &mut acc);
            }
            acc
        })
        .collect();
    let mut acc = vec![0f32; t * rows];
    for p in &partial {
        acc.iter_mut().zip(p).for_each(|(a, b)| *a += b);
    }
    let mut dw = vec![0f32; g.co * t];
    for co in 0..g.co {
        for ti in 0..t {
            dw[co * t + ti] = acc[ti * rows + co];
        }
    }
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(n: usize, input: [usize; 3], kernel: [usize; 3]) -> ConvGeom {
        ConvGeom {
            n,
            ci: 2,
            co: 3,
            input,
            kernel,
            stride: [1; 3],
            pad: [(0, 0); 3],
            dilation: [1; 3],
            isa: Isa::Portable,
        }
    }

    #[test]
    fn degenerate_geometries_give_the_bias_and_zero_gradients() {
        // A kernel larger than the input: no output.
        let g = geom(2, [1, 2, 2], [1, 3, 3]);
        assert!(g.is_degenerate());
        assert_eq!(g.output_or_empty(), [1, 0, 0]);
        let x = vec![1f32; 2 * 2 * 4];
        let w = vec![1f32; 3 * 2 * 9];
        let b = [0.5f32, -1.0, 2.0];
        assert!(conv_forward(&x, &w, Some(&b), &g).is_empty());
        assert_eq!(conv_weight_grad(&x, &[], &g), vec![0f32; 3 * 2 * 9]);
        // The transposed direction: every input position gets its channel's bias only.
        let dx = conv_input_grad(&[], &w, Some(&b[..2]), &g);
        assert_eq!(dx, [[0.5f32; 4], [-1.0; 4], [0.5; 4], [-1.0; 4]].concat());
        // An empty batch.
        let g = geom(0, [1, 4, 4], [1, 3, 3]);
        assert!(g.is_degenerate());
        assert!(conv_forward(&[], &w, Some(&b), &g).is_empty());
        assert!(conv_input_grad(&[], &w, None, &g).is_empty());
    }
}
