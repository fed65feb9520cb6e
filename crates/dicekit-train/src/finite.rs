//! Finiteness checks of loaded weights: a checkpoint holding NaN or inf is refused, not run.
use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

/// Counts the float weights of a module that are not finite (NaN or ±inf), and all of them.
struct NonFinite {
    bad: u64,
    total: u64,
}

impl ModuleVisitor for NonFinite {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        self.total += t.shape().num_elements() as u64;
        self.bad += t.is_finite().bool_not().int().sum().into_scalar::<i64>() as u64;
    }
}

/// `Err` naming `source` when any float weight of `module` is NaN or infinite.
pub(crate) fn check_finite_weights<M: Module>(module: &M, source: &str) -> Result<(), String> {
    let mut v = NonFinite { bad: 0, total: 0 };
    module.visit(&mut v);
    if v.bad > 0 {
        return Err(format!(
            "{source}: {} of the {} weights are NaN or infinite; the checkpoint cannot predict (train again or use another checkpoint)",
            v.bad, v.total
        ));
    }
    Ok(())
}
