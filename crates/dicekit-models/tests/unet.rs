//! U-Net shapes, options and gradients on tiny inputs.
use burn::module::Module;
use burn::prelude::*;
use dicekit_models::*;

fn device() -> Device {
    Device::flex().autodiff()
}

#[test]
fn unet2d_every_option_keeps_the_input_size() {
    let d = device();
    for norm in [NormKind::Batch, NormKind::Instance, NormKind::Group(4)] {
        for down in [Downsampling::StridedConv, Downsampling::MaxPool] {
            for up in [Upsampling::Transposed, Upsampling::NearestConv] {
                let cfg = UNetConfig::new(3, 4)
                    .with_depth(3)
                    .with_base_channels(4)
                    .with_norm(norm)
                    .with_downsampling(down)
                    .with_upsampling(up)
                    .with_dropout(0.1);
                let out = cfg
                    .init_2d(&d)
                    .forward(Tensor::<4>::ones([2, 3, 16, 24], &d));
                assert_eq!(out.len(), 1);
                assert_eq!(out[0].dims(), [2, 4, 16, 24], "{norm:?} {down:?} {up:?}");
            }
        }
    }
}

#[test]
fn unet3d_and_deep_supervision_outputs() {
    let d = device();
    let cfg = UNetConfig::new(1, 3)
        .with_depth(3)
        .with_base_channels(2)
        .with_deep_supervision(true);
    let out = cfg
        .init_3d(&d)
        .forward(Tensor::<5>::ones([1, 1, 8, 8, 16], &d));
    let shapes: Vec<[usize; 5]> = out.iter().map(|t| t.dims()).collect();
    assert_eq!(shapes, vec![[1, 3, 8, 8, 16], [1, 3, 4, 4, 8]]);
    // 3D with max pooling (2x2x2) instead of strided convolutions.
    let pooled = UNetConfig::new(1, 3)
        .with_depth(3)
        .with_base_channels(2)
        .with_downsampling(Downsampling::MaxPool)
        .init_3d(&d);
    let x = Tensor::<5>::random(
        [1, 1, 8, 12, 16],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &d,
    )
    .require_grad();
    let out = pooled.forward(x.clone());
    assert_eq!(out[0].dims(), [1, 3, 8, 12, 16]);
    let grads = out[0].clone().sum().backward();
    assert!(x.grad(&grads).is_some());
    let out = UNetConfig::new(1, 2)
        .with_depth(1)
        .with_base_channels(2)
        .init_2d(&d)
        .forward(Tensor::<4>::ones([1, 1, 5, 7], &d));
    assert_eq!(out[0].dims(), [1, 2, 5, 7]);
}

#[test]
fn gradients_reach_every_parameter() {
    let d = device();
    let model = UNetConfig::new(1, 2)
        .with_depth(3)
        .with_base_channels(2)
        .init_2d(&d);
    let x = Tensor::<4>::random(
        [2, 1, 8, 8],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &d,
    );
    let loss = model.forward(x)[0].clone().powf_scalar(2.0).mean();
    let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
    assert_eq!(
        grads.len(),
        model.num_params_tensors(),
        "every parameter tensor has a gradient"
    );
}

#[test]
fn bad_configs_and_sizes_are_reported() {
    assert!(
        UNetConfig::new(1, 2)
            .with_dropout(1.5)
            .validate()
            .unwrap_err()
            .to_string()
            .contains("dropout")
    );
    assert!(
        UNetConfig::new(1, 2)
            .with_max_channels(4)
            .with_base_channels(8)
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_channels")
    );
    let cfg = UNetConfig::new(1, 2).with_depth(4);
    assert!(
        cfg.check_size(&[64, 60])
            .unwrap_err()
            .to_string()
            .contains("60")
    );
    assert!(cfg.check_size(&[64, 64]).is_ok());
    assert_eq!(
        UNetConfig::new(1, 2)
            .with_base_channels(32)
            .with_depth(6)
            .channels(),
        vec![32, 64, 128, 256, 320, 320]
    );
}

trait ParamCount {
    fn num_params_tensors(&self) -> usize;
}

impl<M: Module> ParamCount for M {
    fn num_params_tensors(&self) -> usize {
        struct Count(usize);
        impl burn::module::ModuleVisitor for Count {
            fn visit_float<const D: usize>(&mut self, _p: &burn::module::Param<Tensor<D>>) {
                self.0 += 1;
            }
        }
        let mut c = Count(0);
        self.visit(&mut c);
        c.0
    }
}

#[test]
fn relu_and_leaky_relu_networks_differ_only_in_the_activation() {
    use dicekit_models::Nonlinearity;
    let device = Device::flex();
    device.seed(3);
    let x = Tensor::<4>::random(
        [1, 1, 8, 8],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let cfg = UNetConfig::new(1, 2).with_depth(2).with_base_channels(4);
    device.seed(5);
    let leaky = cfg
        .clone()
        .init_2d(&device)
        .forward(x.clone())
        .swap_remove(0);
    device.seed(5);
    let relu = cfg
        .with_nonlinearity(Nonlinearity::Relu)
        .init_2d(&device)
        .forward(x)
        .swap_remove(0);
    let diff = (leaky - relu).abs().sum().into_scalar::<f64>();
    assert!(diff > 0.0, "the activation must change the output");
}

/// A whole U-Net (batch norm, transposed convolutions, max pooling; 2D and 3D) gives the same
/// loss and parameter gradients through dicekit's kernels as through burn's layers.
#[test]
fn unet_gradients_match_burns_layers() {
    use burn::module::{ModuleVisitor, Param};
    use burn::tensor::TensorData;

    /// Every float parameter's gradient, in visiting order.
    struct Grads<'a>(&'a burn::tensor::Gradients, Vec<Vec<f32>>);
    impl ModuleVisitor for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = param.val().grad(self.0) {
                self.1
                    .push(g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
            }
        }
    }
    fn data<const D: usize>(dims: [usize; D], d: &Device) -> Tensor<D> {
        let n: usize = dims.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i as f32 * 0.7311).sin() * 1.7).fract())
            .collect();
        Tensor::from_data(TensorData::new(v, dims), d)
    }
    /// Sets every float parameter from a local generator (burn's is shared with the tests
    /// running beside this one): weights uniform in ±0.3, batch norm's γ in [0.5, 1.5].
    struct Fill(u64);
    impl burn::module::ModuleMapper for Fill {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (id, t) = (param.id, param.val());
            let dims = t.dims();
            let ones = t.clone().equal_elem(1.0).all().into_scalar::<bool>();
            let v: Vec<f32> = (0..dims.iter().product::<usize>())
                .map(|_| {
                    self.0 ^= self.0 << 13;
                    self.0 ^= self.0 >> 7;
                    self.0 ^= self.0 << 17;
                    let u = (self.0 >> 40) as f32 / (1u64 << 24) as f32;
                    if ones { 0.5 + u } else { 0.6 * u - 0.3 }
                })
                .collect();
            let t = Tensor::<D>::from_data(TensorData::new(v, dims), &t.device()).require_grad();
            Param::initialized(id, t)
        }
    }
    // The weights are fixed: with some draws the strided 2D network is so ill-conditioned that
    // scaling its input by 1 + 1e-6 moves burn's own gradients by 1 % (measured), which is
    // also what separates the two paths there.
    let seed = 1;

    /// Loss and gradients of `model` on `x` (one model for both paths: burn's generator is
    /// shared with the tests running beside this one).
    fn run<const D: usize, M: SegmentationModel<D> + Module>(
        model: &M,
        x: Tensor<D>,
    ) -> (f32, Vec<Vec<f32>>) {
        let y = model.forward(x).swap_remove(0);
        let loss = (y.clone() * data(y.dims(), &y.device())).sum();
        let g = loss.backward();
        let mut v = Grads(&g, vec![]);
        model.visit(&mut v);
        (loss.into_scalar::<f32>(), v.1)
    }
    let check = |(l, g): (f32, Vec<Vec<f32>>), (bl, bg): (f32, Vec<Vec<f32>>), what: &str| {
        assert!(
            (l - bl).abs() <= 1e-4 * bl.abs().max(1.0),
            "{what}: loss {l} vs {bl}"
        );
        assert_eq!(g.len(), bg.len(), "{what}: parameter count");
        // Rounding differences of the two paths, amplified by batch norm, and, with max
        // pooling, a window whose two largest values are within rounding of each other sending
        // its gradient elsewhere: compare each parameter's gradient as a whole (relative
        // Euclidean norm). A convolution's bias before a batch norm has a zero gradient (both
        // paths give rounding noise), so the norm is at least a thousandth of the largest.
        let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
        let top = bg.iter().map(|b| norm(b)).fold(0f64, f64::max);
        for (i, (a, b)) in g.iter().zip(&bg).enumerate() {
            let diff: Vec<f32> = a.iter().zip(b).map(|(x, y)| x - y).collect();
            let (err, scale) = (norm(&diff), norm(b).max(1e-3 * top));
            assert!(
                err <= 1e-2 * scale,
                "{what}: parameter {i}: error norm {err:e} of {scale:e}"
            );
        }
    };
    // Three levels: the deepest normalises 8 x 12 values per image (deeper, smaller maps
    // amplify rounding differences; real faults give errors of order 1).
    let base = UNetConfig::new(1, 2).with_depth(3).with_base_channels(8);
    let d = Device::flex().autodiff();
    for cfg in [
        base.clone().with_downsampling(Downsampling::MaxPool),
        base.clone(),
    ] {
        let model = cfg.init_2d(&d).map(&mut Fill(seed));
        let x = data([4, 1, 32, 48], &d);
        let before = dicekit_models::conv::direct_calls();
        let ours = run(&model, x.clone());
        assert!(dicekit_models::conv::direct_calls() > before);
        // The kernels are deterministic: a second run gives the same bits.
        assert_eq!(
            ours,
            run(&model, x.clone()),
            "two runs of the kernels differ"
        );
        check(
            ours,
            dicekit_models::conv::with_burn_conv(|| run(&model, x)),
            &format!("2d {:?}", cfg.downsampling),
        );
    }
    let cfg = UNetConfig::new(1, 2).with_depth(3).with_base_channels(4);
    for cfg in [cfg.clone(), cfg.with_downsampling(Downsampling::MaxPool)] {
        let model = cfg.init_3d(&d).map(&mut Fill(seed + 1));
        let x = data([2, 1, 16, 16, 24], &d);
        check(
            run(&model, x.clone()),
            dicekit_models::conv::with_burn_conv(|| run(&model, x)),
            &format!("3d {:?}", cfg.downsampling),
        );
    }
}
