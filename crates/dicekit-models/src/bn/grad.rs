//! The fused batch normalisation under `Autodiff`: the inner forward, and a backward from the
//! kernels (`dx`, then `dγ` and `dβ` from one more pass).
use burn::backend::Backend;
use burn::backend::TensorMetadata;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, Slice};

use super::BatchNormBackend;

#[derive(Debug)]
struct BnBackward;

impl<B: Backend + BatchNormBackend> Backward<B, 3> for BnBackward {
    type State = (FloatTensor<B>, FloatTensor<B>, f64, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let (x, gamma, eps, c) = ops.state;
        if node_gamma.is_some() || node_beta.is_some() {
            let g = B::dk_bn_param_grads(x.clone(), dy.clone(), eps);
            let row = |r: usize| {
                let s = B::float_slice(g.clone(), &[Slice::from(r..r + 1), Slice::from(0..c)]);
                B::float_reshape(s, Shape::new([c]))
            };
            if let Some(node) = node_gamma {
                grads.register::<B>(node.id, row(0));
            }
            if let Some(node) = node_beta {
                grads.register::<B>(node.id, row(1));
            }
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, B::dk_bn_input_grad(x, gamma, dy, eps));
        }
    }
}

impl<B: Backend + BatchNormBackend, C: CheckpointStrategy> BatchNormBackend for Autodiff<B, C> {
    fn dk_bn_stats(x: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::dk_bn_stats(x.into_primitive()))
    }

    fn dk_bn_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let c = gamma.primitive().shape()[0];
        match BnBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, gp) = (x.primitive().clone(), gamma.primitive().clone());
                let out = B::dk_bn_train(xp.clone(), gp.clone(), beta.into_primitive(), epsilon);
                prep.finish((xp, gp, epsilon, c), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::dk_bn_train(
                x.into_primitive(),
                gamma.into_primitive(),
                beta.into_primitive(),
                epsilon,
            )),
        }
    }

    fn dk_bn_input_grad(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::dk_bn_input_grad(
            x.into_primitive(),
            gamma.into_primitive(),
            dy.into_primitive(),
            epsilon,
        ))
    }

    fn dk_bn_param_grads(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::dk_bn_param_grads(
            x.into_primitive(),
            dy.into_primitive(),
            epsilon,
        ))
    }
}
