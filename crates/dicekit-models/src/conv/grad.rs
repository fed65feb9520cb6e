//! The kernels under `Autodiff`: the inner backend's forward, and a hand-written backward
//! (input and weight gradients from the kernels, bias gradient a sum of the output gradient).
//!
//! ```text
//! y = conv(x, w) + b:             dx = conv_input_grad(dy, w)   dw = conv_weight_grad(x, dy)
//! y = conv_transpose(x, w) + b:   dx = conv(dy, w)              dw = conv_weight_grad(dy, x)
//! db = Σ_{n, spatial} dy
//! ```
use burn::backend::Backend;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;

use super::{ConvBackend, ConvBias, ConvGeom};

/// `Σ dy` over every axis but the channel's, `[C]`.
fn bias_grad<B: Backend>(dy: FloatTensor<B>, channels: usize) -> FloatTensor<B> {
    let s = [4, 3, 2, 0]
        .into_iter()
        .fold(dy, |t, a| B::float_sum_dim(t, a));
    B::float_reshape(s, Shape::new([channels]))
}

/// Which operation a node recorded.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Conv,
    Transpose,
}

#[derive(Debug)]
struct ConvBackward(Kind);

type State<B> = (FloatTensor<B>, FloatTensor<B>, ConvGeom);

impl ConvBackward {
    /// The gradients of `x` and `w` from `dy`.
    fn x_and_w<B: Backend + ConvBackend>(
        &self,
        (x, w, g): State<B>,
        dy: FloatTensor<B>,
        want: [bool; 2],
    ) -> [Option<FloatTensor<B>>; 2] {
        match self.0 {
            Kind::Conv => [
                want[0].then(|| B::dk_conv_input_grad(dy.clone(), w.clone(), g)),
                want[1].then(|| B::dk_conv_weight_grad(x, dy, g)),
            ],
            Kind::Transpose => [
                want[0].then(|| B::dk_conv(dy.clone(), w.clone(), ConvBias::None, g)),
                want[1].then(|| B::dk_conv_weight_grad(dy, x, g)),
            ],
        }
    }

    /// Channels of the output (the bias length).
    fn out_channels(&self, g: &ConvGeom) -> usize {
        match self.0 {
            Kind::Conv => g.co,
            Kind::Transpose => g.ci,
        }
    }
}

impl<B: Backend + ConvBackend> Backward<B, 2> for ConvBackward {
    type State = State<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let [dx, dw] = self.x_and_w::<B>(ops.state, dy, [node_x.is_some(), node_w.is_some()]);
        if let (Some(node), Some(g)) = (node_x, dx) {
            grads.register::<B>(node.id, g);
        }
        if let (Some(node), Some(g)) = (node_w, dw) {
            grads.register::<B>(node.id, g);
        }
    }
}

#[derive(Debug)]
struct ConvBiasBackward(ConvBackward);

impl<B: Backend + ConvBackend> Backward<B, 3> for ConvBiasBackward {
    type State = State<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let channels = self.0.out_channels(&ops.state.2);
        let db = node_b
            .as_ref()
            .map(|_| bias_grad::<B>(dy.clone(), channels));
        let [dx, dw] = self
            .0
            .x_and_w::<B>(ops.state, dy, [node_x.is_some(), node_w.is_some()]);
        for (node, g) in [(node_x, dx), (node_w, dw), (node_b, db)] {
            if let (Some(node), Some(g)) = (node, g) {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

/// The forward of `kind` on the inner backend.
fn inner_forward<B: ConvBackend>(
    kind: Kind,
    x: FloatTensor<B>,
    w: FloatTensor<B>,
    b: ConvBias<B>,
    g: ConvGeom,
) -> FloatTensor<B> {
    match kind {
        Kind::Conv => B::dk_conv(x, w, b, g),
        Kind::Transpose => B::dk_conv_transpose(x, w, b, g),
    }
}

/// Records `kind` on the graph (with a bias node when there is a bias).
fn tracked<B: Backend + ConvBackend, C: CheckpointStrategy>(
    kind: Kind,
    x: FloatTensor<Autodiff<B, C>>,
    w: FloatTensor<Autodiff<B, C>>,
    bias: ConvBias<Autodiff<B, C>>,
    g: ConvGeom,
) -> FloatTensor<Autodiff<B, C>> {
    match bias {
        ConvBias::None => match ConvBackward(kind)
            .prepare::<C>([x.node(), w.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), w.primitive().clone());
                let out = inner_forward::<B>(kind, xp.clone(), wp.clone(), ConvBias::None, g);
                prep.finish((xp, wp, g), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(inner_forward::<B>(
                kind,
                x.into_primitive(),
                w.into_primitive(),
                ConvBias::None,
                g,
            )),
        },
        ConvBias::Some(b) => match ConvBiasBackward(ConvBackward(kind))
            .prepare::<C>([x.node(), w.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (xp, wp) = (x.primitive().clone(), w.primitive().clone());
                let out = inner_forward::<B>(
                    kind,
                    xp.clone(),
                    wp.clone(),
                    ConvBias::Some(b.into_primitive()),
                    g,
                );
                prep.finish((xp, wp, g), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(inner_forward::<B>(
                kind,
                x.into_primitive(),
                w.into_primitive(),
                ConvBias::Some(b.into_primitive()),
                g,
            )),
        },
    }
}

impl<B: Backend + ConvBackend, C: CheckpointStrategy> ConvBackend for Autodiff<B, C> {
    fn dk_conv(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: ConvBias<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self> {
        tracked::<B, C>(Kind::Conv, x, weight, bias, geom)
    }

    fn dk_conv_transpose(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: ConvBias<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self> {
        tracked::<B, C>(Kind::Transpose, x, weight, bias, geom)
    }

    fn dk_conv_input_grad(
        dy: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self> {
        // Not differentiable twice: the gradient is a constant of the graph.
        FloatTensor::<Self>::new(B::dk_conv_input_grad(
            dy.into_primitive(),
            weight.into_primitive(),
            geom,
        ))
    }

    fn dk_conv_weight_grad(
        x: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        geom: ConvGeom,
    ) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(B::dk_conv_weight_grad(
            x.into_primitive(),
            dy.into_primitive(),
            geom,
        ))
    }
}
