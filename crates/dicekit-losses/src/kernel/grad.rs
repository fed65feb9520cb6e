//! The kernel under `Autodiff`: the forward of the inner backend, and a hand-written backward
//! that recomputes the probabilities from the logits (nothing but the inputs is kept).
use burn::backend::Backend;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::cpu::Params;
use super::{OverlapSumsBackend, SumsTarget, SumsWeight};

/// The target and weight with their gradient tracking dropped: the kernel differentiates
/// with respect to the logits only (the caller takes the generic path when a target or a
/// weight map requires a gradient).
fn inner<B: Backend, C: CheckpointStrategy>(
    target: SumsTarget<Autodiff<B, C>>,
    weight: SumsWeight<Autodiff<B, C>>,
) -> (SumsTarget<B>, SumsWeight<B>) {
    let target = match target {
        SumsTarget::Labels(l) => SumsTarget::Labels(l),
        SumsTarget::Dense(t) => SumsTarget::Dense(t.into_primitive()),
    };
    let weight = match weight {
        SumsWeight::Uniform => SumsWeight::Uniform,
        SumsWeight::Map(w) => SumsWeight::Map(w.into_primitive()),
    };
    (target, weight)
}

#[derive(Debug)]
struct OverlapSumsBackward;

impl<B: Backend + OverlapSumsBackend> Backward<B, 1> for OverlapSumsBackward {
    type State = (FloatTensor<B>, SumsTarget<B>, SumsWeight<B>, Params);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [logits_node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (logits, target, weight, params) = ops.state;
        if let Some(node) = logits_node {
            let dx = B::overlap_sums_backward(logits, target, weight, params, grad);
            grads.register::<B>(node.id, dx);
        }
    }
}

impl<B: Backend + OverlapSumsBackend, C: CheckpointStrategy> OverlapSumsBackend for Autodiff<B, C> {
    fn overlap_sums(
        logits: FloatTensor<Self>,
        target: SumsTarget<Self>,
        weight: SumsWeight<Self>,
        params: Params,
    ) -> FloatTensor<Self> {
        let (target, weight) = inner(target, weight);
        match OverlapSumsBackward
            .prepare::<C>([logits.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = logits.primitive().clone();
                let out = B::overlap_sums(x.clone(), target.clone(), weight.clone(), params);
                prep.finish((x, target, weight, params), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::overlap_sums(
                logits.into_primitive(),
                target,
                weight,
                params,
            )),
        }
    }

    fn overlap_sums_backward(
        logits: FloatTensor<Self>,
        target: SumsTarget<Self>,
        weight: SumsWeight<Self>,
        params: Params,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        // Not differentiable twice: the gradient is a constant of the graph.
        let (target, weight) = inner(target, weight);
        FloatTensor::<Self>::new(B::overlap_sums_backward(
            logits.into_primitive(),
            target,
            weight,
            params,
            grad.into_primitive(),
        ))
    }
}
