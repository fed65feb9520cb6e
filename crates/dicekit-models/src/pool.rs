//! 3D max pooling (burn 0.22 has none): 2x2x2 windows, stride 2.
use burn::prelude::*;

/// Max pooling over 2x2x2 windows with stride 2 on `[B, C, D, H, W]`:
/// ```text
/// y[b, c, i, j, k] = max_{a, e, f ∈ {0, 1}} x[b, c, 2i + a, 2j + e, 2k + f]
/// ```
/// Odd sizes drop their last plane, row or column (PyTorch's `MaxPool3d(2)`, floor mode).
/// The gradient goes to the maximum of each window (the first one on ties), as burn's
/// `max_dim` gives it.
#[derive(Module, Debug, Default)]
pub struct MaxPool3d;

impl MaxPool3d {
    /// The pooled tensor `[B, C, D / 2, H / 2, W / 2]`.
    ///
    /// # Panics
    /// When a spatial size is below 2.
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        let [b, c, d, h, w] = x.dims();
        assert!(
            d >= 2 && h >= 2 && w >= 2,
            "max pooling 2x2x2 needs sizes >= 2, got {:?}",
            [d, h, w]
        );
        let (d2, h2, w2) = (d / 2, h / 2, w / 2);
        let x = if d % 2 + h % 2 + w % 2 > 0 {
            x.slice([0..b, 0..c, 0..2 * d2, 0..2 * h2, 0..2 * w2])
        } else {
            x
        };
        // Each window's eight values as the last axis, then their maximum.
        x.reshape([b * c * d2, 2, h2, 2, w2, 2])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([b * c * d2 * h2 * w2, 8])
            .max_dim(1)
            .reshape([b, c, d2, h2, w2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn pools_each_window_to_its_maximum_and_routes_the_gradient_there() {
        let device = Device::flex().autodiff();
        let (d, h, w) = (5, 4, 7);
        let v: Vec<f32> = (0..2 * d * h * w)
            .map(|i| ((i * 37) % 101) as f32)
            .collect();
        let x = Tensor::<5>::from_data(TensorData::new(v.clone(), [1, 2, d, h, w]), &device)
            .require_grad();
        let y = MaxPool3d.forward(x.clone());
        assert_eq!(y.dims(), [1, 2, 2, 2, 3]);
        let grads = y.clone().sum().backward();
        let yv = y.into_data().try_to_vec::<f32>().unwrap();
        let gv = x
            .grad(&grads)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let at = |c: usize, z: usize, r: usize, k: usize| ((c * d + z) * h + r) * w + k;
        for c in 0..2 {
            for (i, j, k) in
                (0..2).flat_map(|i| (0..2).flat_map(move |j| (0..3).map(move |k| (i, j, k))))
            {
                let window: Vec<usize> = (0..8)
                    .map(|m| at(c, 2 * i + m / 4, 2 * j + m / 2 % 2, 2 * k + m % 2))
                    .collect();
                let best = window
                    .iter()
                    .copied()
                    .fold(window[0], |b, p| if v[p] > v[b] { p } else { b });
                assert_eq!(yv[((c * 2 + i) * 2 + j) * 3 + k], v[best]);
                assert_eq!(gv[best], 1.0);
            }
        }
        assert_eq!(gv.iter().sum::<f32>(), 24.0);
    }
}
