#!/usr/bin/env python3
"""Writes crates/dicekit-losses/tests/golden/losses_new.json: peer reference cases, in the schema of
shared/reference/losses_dev.json, for the losses dicekit is about to add: MONAI BoundaryLoss, SoftclDiceLoss,
SoftDiceclDiceLoss, GeneralizedWassersteinDiceLoss, AsymmetricUnifiedFocalLoss (and its two sub-losses
AsymmetricFocalLoss / AsymmetricFocalTverskyLoss), NACLLoss, LogHausdorffDTLoss, and kornia LovaszHingeLoss.
Every case has category 'extended'.

Needs: torch, monai==1.6.1, kornia==0.9.0, scipy (a virtualenv, e.g. /root/peers).
Run from the repository root: python3 tools/golden/new_losses.py [OUT]
`--audit` additionally reports every torch op of the float64 run that still produced a float32 tensor (there
should be none).
Never edit the output by hand, and never regenerate it from dicekit's own values.

Float64: as in tools/golden/parity_losses.py, each float64 forward runs inside `float64_casts`, which turns the
peers' internal float32 casts into float64 casts. Besides `.float()`, `.to(float32)`, `.type(float32)`,
`.sum(dtype=float32)` and `torch.zeros(dtype=float32)` (the parity_losses.py set) it also rewrites
`dtype=torch.float32` in torch.zeros_like / ones / ones_like / as_tensor / tensor / arange / full / empty:
BoundaryLoss builds its signed distance map with `torch.zeros_like(..., dtype=torch.float32)`, MONAI's
GaussianFilter builds its erf kernel with `torch.as_tensor/arange(dtype=torch.float)`, MeanFilter stores its
kernel through `convert_to_tensor(dtype=float32)` (a `.to`). `loss_float32_peer` is the unpatched run with
float32 inputs.

A constructor argument that is a tensor (GeneralizedWassersteinDiceLoss's dist_matrix) is written in `call` as a
bare identifier naming an `extra_inputs` entry, e.g. `dist_matrix=M`.

Logits are multiples of 1/1024; 'normal' and 'saturated' logits are ODD multiples (never 0, +-1/2, +-1), so no
sigmoid is exactly 1/2 (Hausdorff threshold p > 0.5), no NACL |U - x| is at its kink, and no Lovasz hinge sits at
its kink. The unified-focal family expects PROBABILITIES, not logits: those cases feed values in (0,1) (still
multiples of 1/1024) in the `logits` field and say activation 'none'.
"""
import contextlib
import json
import platform
import sys
import warnings

import numpy as np
import scipy
import scipy.ndimage as ndi
import torch
from torch.overrides import TorchFunctionMode

import kornia
import monai
from monai.networks import one_hot as monai_one_hot  # noqa: F401

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)
SEED = 20261207
SCRIPT = "tools/golden/new_losses.py"
OUT = "crates/dicekit-losses/tests/golden/losses_new.json"
F32 = torch.float32


@contextlib.contextmanager
def float64_casts():
    """Inside: every float32 cast / float32 factory dtype of torch gives float64 instead."""
    T = torch.Tensor
    saved_methods = {n: getattr(T, n) for n in ("float", "sum", "to", "type")}
    factories = ("zeros", "zeros_like", "ones", "ones_like", "as_tensor", "tensor", "arange", "full", "empty")
    saved_funcs = {n: getattr(torch, n) for n in factories}
    oto, osum, otype = saved_methods["to"], saved_methods["sum"], saved_methods["type"]

    def fix_kw(k):
        if k.get("dtype") is F32:
            k["dtype"] = torch.float64
        return k

    def f(self, *a, **k):
        return oto(self, torch.float64)

    def s(self, *a, **k):
        return osum(self, *a, **fix_kw(k))

    def to(self, *a, **k):
        return oto(self, *tuple(torch.float64 if v is F32 else v for v in a), **fix_kw(k))

    def ty(self, *a, **k):
        return otype(self, *tuple(torch.float64 if v is F32 else v for v in a), **k)

    def wrap(fn):
        def g(*a, **k):
            return fn(*a, **fix_kw(k))
        return g

    T.float, T.sum, T.to, T.type = f, s, to, ty
    for n in factories:
        setattr(torch, n, wrap(saved_funcs[n]))
    try:
        yield
    finally:
        for n, v in saved_methods.items():
            setattr(T, n, v)
        for n, v in saved_funcs.items():
            setattr(torch, n, v)


class Float32Audit(TorchFunctionMode):
    """Records the torch functions that returned a float32 tensor."""

    def __init__(self):
        super().__init__()
        self.hits = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        outs = out if isinstance(out, (tuple, list)) else (out,)
        if any(isinstance(o, torch.Tensor) and o.dtype == F32 for o in outs):
            self.hits.add(getattr(func, "__name__", str(func)))
        return out


M, K = "monai.losses.", "kornia.losses."
MU = "monai.losses.unified_focal_loss."  # the two sub-losses are not exported from monai.losses
SAT = "near-saturated logits (about +-20); 80% confidently right, 20% confidently wrong"

# ---------------------------------------------------------------------------------------------------------------
# Plain-words definitions shared by the descriptions.
EDT = ("EDT = exact Euclidean distance transform with unit voxel spacing (scipy.ndimage.distance_transform_edt), "
       "computed per sample and channel over that sample's whole spatial grid")
BOUNDARY_PHI = ("signed distance map phi (no gradient) of the binary target mask m = (g > 0.5) of each (b,c): if m is "
                "empty or covers every voxel, phi = 0 everywhere; otherwise for a voxel inside m phi = -(d_in - 1), "
                "d_in = distance to the nearest voxel outside m (so inside voxels next to the boundary get 0), and for "
                "a voxel outside m phi = d_out, distance to the nearest voxel inside m; " + EDT)
BOUNDARY_VAL = "value_bc = sum over voxels of p*phi divided by the number of voxels of one sample and channel"
HD_FIELD = ("distance field (no gradient) field(m) of a binary mask m of one sample and channel: 0 everywhere if m is "
            "empty or full, otherwise EDT(m) + EDT(not m), i.e. each voxel gets its distance to the nearest voxel of "
            "the other set; " + EDT)
SKEL2 = ("soft skeleton (2D): erode(x) = elementwise min of the min over the vertical 3-neighbourhood (rows i-1..i+1) "
         "and the min over the horizontal 3-neighbourhood (cols j-1..j+1), out-of-grid neighbours ignored; "
         "dilate(x) = max over the 3x3 window, out-of-grid ignored; open(x) = dilate(erode(x)); skel = relu(x - "
         "open(x)); then {iters} times: x = erode(x); delta = relu(x - open(x)); skel = skel + relu(delta - skel*delta)")
SKEL3 = ("soft skeleton (3D): erode(x) = elementwise min of the three axis-aligned 3-neighbourhood minima (3x1x1, "
         "1x3x1, 1x1x3), out-of-grid neighbours ignored; dilate(x) = max over the 3x3x3 window, out-of-grid ignored; "
         "open(x) = dilate(erode(x)); skel = relu(x - open(x)); then {iters} times: x = erode(x); delta = relu(x - "
         "open(x)); skel = skel + relu(delta - skel*delta)")
SKEL_GRAD = ("Gradients of min/max pooling go to the (unique, since prediction values are distinct) arg-min/arg-max "
             "element; relu has derivative 0 at 0 (x == open(x) is common)")


def cl_def(nr, dr, sm):
    return (f"per sample b (sums over ALL scored channels and voxels of the sample): tprec = (sum S_p*g + {nr})/"
            f"(sum S_p + {dr}), tsens = (sum S_g*p + {nr})/(sum S_g + {dr}); cl_b = 1 - 2 tprec tsens/(tprec + "
            f"tsens + {sm})")


GWDL_DEF = ("p = softmax over C; for voxel i with label t_i the Wasserstein error w_i = sum_c M[t_i, c] p_ic (row t_i "
            "of the distance matrix M{norm}); ")
UFL_TV = ("per (b,c) over voxels (c = 0, 1 only): TP = sum(g q), FN = sum(g (1-q)), FP = sum((1-g) q); "
          "D_c = (TP + 1e-7)/(TP + {d} FN + {d1} FP + 1e-7); tversky terms: back_b = 1 - D_0, fore_b = (1 - D_1)^{e}")
UFL_FO = ("q = clamp(value, 1e-7, 1 - 1e-7) (gradient 0 outside); ce_c = -g_c log q_c; focal terms per voxel: "
          "back = {d1} (1 - q_0)^{gm} ce_0, fore = {d} ce_1")
NACL_MEAN = ("U = mean filter of the one-hot labels: per class channel, a {k}^{dim} box of weights 1/{kd} with zero "
             "padding{pad} (border voxels still divide by {kd})")
NACL_GAUSS = ("U = Gaussian filter of the one-hot labels, separable along each spatial axis: 1D taps at offsets "
              "-{T}..{T}, tap_j = 0.5 (erf(t (j + 0.5)) - erf(t (j - 0.5))), t = 0.70710678/{s} (that truncated "
              "constant), not renormalised (sum of taps {tsum}); zero padding, output same size; kernel_size is ignored")
NACL_TAIL = ("CE = torch CrossEntropyLoss: mean over the B*voxels positions of -log_softmax(x)[label]; penalty = mean "
             "over all B*C*voxels entries of {dist} on the RAW logits x; loss = CE + {a} * penalty")
LOVASZ = ("one Lovasz hinge per image over its H*W pixels: s = 2g - 1, e = 1 - x s; sort e descending (with the "
          "labels); G = number of positives, I_k = G - cumsum(g_sorted)_k, U_k = G + cumsum(1 - g_sorted)_k, "
          "J_k = 1 - I_k/U_k, weight_1 = J_1, weight_k = J_k - J_{k-1}; loss_b = sum_k relu(e_sorted_k) weight_k; "
          "loss = mean over images")


def gauss_taps(sigma):
    import math
    tail = int(max(sigma * 4.0, 0.5) + 0.5)
    t = 0.70710678 / sigma
    taps = [0.5 * (math.erf(t * (j + 0.5)) - math.erf(t * (j - 0.5))) for j in range(-tail, tail + 1)]
    return tail, sum(taps)


# Each case: fam (loss_family), peer, call, layout, shape, act, desc and optional keys:
#   target ('random' | 'blobs'), logits ('normal' | 'saturated' | 'truth' | 'unique' | 'saturated_unique' |
#   'prob' | 'prob_pair' | 'prob_truth' | 'prob_sat'), absent [(sample, class)], empty [sample] (multi-hot all zero /
#   labels all 0), full [sample] (multi-hot all one), ignore / ignore_frac, extras {name: array}, forward, notes.
# layout: "b1" = [B,1,...] labels, "b" = [B,...] labels, "dense" = [B,C,...] 0/1 multi-hot,
#         "onehot" = [B,C,...] one-hot of random labels (float, passed as is).
CASES = []


def add(**k):
    CASES.append(k)


# 1. MONAI BoundaryLoss ------------------------------------------------------------------------------------------
add(fam="boundary", peer="monai", call=M + "BoundaryLoss(softmax=True, to_onehot_y=True)", layout="b1", shape=[2, 3, 12, 12],
    target="blobs", logits="truth", absent=[(1, 2)], act="softmax",
    desc=f"p = softmax over C; labels one-hot encoded; all channels; {BOUNDARY_PHI}; {BOUNDARY_VAL}; loss = mean over (b,c)",
    notes="Class 2 is absent from sample 1, so phi = 0 for that (b,c) and its value is exactly 0 (it still counts in the mean).")
add(fam="boundary", peer="monai", call=M + "BoundaryLoss(sigmoid=True, include_background=False)", layout="dense", shape=[3, 1, 10, 10],
    target="blobs", logits="normal", empty=[1], full=[2], act="sigmoid",
    desc=f"p = sigmoid(logit); one channel: include_background=False is ignored and the only channel is scored; {BOUNDARY_PHI}; {BOUNDARY_VAL}; loss = mean over the 3 samples",
    notes="Sample 1 has an all-zero target and sample 2 an all-one target: phi = 0 for both, their values are 0 with zero gradient.")
add(fam="boundary", peer="monai", call=M + "BoundaryLoss(softmax=True, to_onehot_y=True, include_background=False, reduction='sum')", layout="b1", shape=[2, 3, 6, 6, 5],
    target="blobs", logits="normal", act="softmax",
    desc=f"3D. p = softmax over ALL C channels, labels one-hot, then channel 0 dropped; {BOUNDARY_PHI}; {BOUNDARY_VAL}; loss = SUM over (b, c in 1..2)")
add(fam="boundary", peer="monai", call=M + "BoundaryLoss(sigmoid=True, batch=True, reduction='sum')", layout="dense", shape=[3, 2, 8, 8],
    target="blobs", logits="saturated", empty=[0], act="sigmoid",
    desc=f"p = sigmoid; multi-hot target; {BOUNDARY_PHI} (still per sample); {BOUNDARY_VAL}; batch=True: value_c = mean over b of value_bc; loss = SUM over c of value_c")
add(fam="boundary", peer="monai", call=M + "BoundaryLoss(softmax=True, to_onehot_y=True, batch=True)", layout="b", shape=[2, 4, 8, 8],
    target="blobs", logits="normal", empty=[0], act="softmax",
    desc=f"target given as [B,H,W] labels (the loss adds the channel axis itself); p = softmax; one-hot; all 4 channels; {BOUNDARY_PHI}; {BOUNDARY_VAL}; value_c = mean over b; loss = mean over c (same as the mean over (b,c))",
    notes="Sample 0 is all background: its class-0 channel is full and classes 1..3 empty, so all its phi are 0.")
add(fam="boundary", peer="monai", call=M + "BoundaryLoss()", layout="dense", shape=[2, 2, 5, 6, 4],
    target="blobs", logits="prob", act="none",
    desc=f"3D, no activation: p = the given values (in (0,1)); multi-hot target; {BOUNDARY_PHI}; {BOUNDARY_VAL}; loss = mean over (b,c)",
    notes="Inputs are probabilities in (0,1), used as they are (no sigmoid/softmax).")

# 2. MONAI SoftclDiceLoss / SoftDiceclDiceLoss -------------------------------------------------------------------
add(fam="cldice", peer="monai", call=M + "SoftclDiceLoss(sigmoid=True)", layout="dense", shape=[2, 1, 12, 12],
    target="blobs", logits="unique", act="sigmoid",
    desc=f"p = sigmoid; S_p = skel(p), S_g = skel(g) with iter_ = 3; {SKEL2.format(iters=3)}; {cl_def(1.0, 1.0, 1e-4)}; loss = mean over b. {SKEL_GRAD}")
add(fam="cldice", peer="monai", call=M + "SoftclDiceLoss(softmax=True, to_onehot_y=True, iter_=2, include_background=False)", layout="b1", shape=[2, 3, 10, 10],
    target="blobs", logits="unique", absent=[(0, 1)], act="softmax",
    desc=f"p = softmax over all C; labels one-hot; channel 0 dropped; S_p, S_g per channel with iter_ = 2; {SKEL2.format(iters=2)}; {cl_def(1.0, 1.0, 1e-4)}; loss = mean over b. {SKEL_GRAD}",
    notes="The clDice sums pool the scored channels of a sample: there is one value per sample, not per (b,c).")
add(fam="cldice", peer="monai", call=M + "SoftclDiceLoss(sigmoid=True, iter_=5, smooth_nr=1e-05, smooth_dr=1e-05, reduction='sum')", layout="dense", shape=[2, 2, 8, 8, 6],
    target="blobs", logits="unique", empty=[1], act="sigmoid",
    desc=f"3D. p = sigmoid; iter_ = 5; {SKEL3.format(iters=5)}; {cl_def(1e-5, 1e-5, 1e-4)}; loss = SUM over b. {SKEL_GRAD}",
    notes="Sample 1 has an all-zero target: S_g = 0, so tsens = 1e-5/1e-5 = 1 and tprec = (0 + 1e-5)/(sum S_p + 1e-5).")
add(fam="cldice", peer="monai", call=M + "SoftclDiceLoss(softmax=True, iter_=0, smooth=0.001)", layout="onehot", shape=[1, 3, 6, 6, 6],
    target="blobs", logits="saturated_unique", act="softmax",
    desc=f"3D, one-hot target passed as is; p = softmax over C; iter_ = 0: skel = relu(x - open(x)) only; {SKEL3.format(iters=0)}; {cl_def(1.0, 1.0, 0.001)}; loss = mean over b. {SKEL_GRAD}")
add(fam="cldice", peer="monai", call=M + "SoftclDiceLoss(sigmoid=True, iter_=1)", layout="dense", shape=[3, 4, 8, 8],
    target="random", logits="unique", act="sigmoid",
    desc=f"p = sigmoid; multi-hot target (random, 30% ones); iter_ = 1; {SKEL2.format(iters=1)}; {cl_def(1.0, 1.0, 1e-4)} (4 channels pooled); loss = mean over b. {SKEL_GRAD}")
add(fam="dice+cldice", peer="monai", call=M + "SoftDiceclDiceLoss(sigmoid=True)", layout="dense", shape=[2, 1, 12, 12],
    target="blobs", logits="unique", act="sigmoid",
    desc=f"p = sigmoid. Dice part (MONAI DiceLoss with smooth_nr = smooth_dr = 1.0): per (b,c) 1 - (2 sum(p g) + 1.0)/(sum p + sum g + 1.0), mean over (b,c). clDice part: iter_ = 3; {SKEL2.format(iters=3)}; {cl_def(1.0, 1.0, 1e-4)}, mean over b. loss = 0.5 Dice + 0.5 clDice. {SKEL_GRAD}")
add(fam="dice+cldice", peer="monai", call=M + "SoftDiceclDiceLoss(softmax=True, to_onehot_y=True, alpha=0.3, iter_=2)", layout="b1", shape=[2, 3, 10, 10],
    target="blobs", logits="unique", absent=[(1, 1)], act="softmax",
    desc=f"p = softmax; labels one-hot; all channels. Dice: per (b,c) 1 - (2I + 1)/(P + G + 1), mean over (b,c). clDice: iter_ = 2; {SKEL2.format(iters=2)}; {cl_def(1.0, 1.0, 1e-4)}, mean over b. loss = 0.7 Dice + 0.3 clDice. {SKEL_GRAD}")
add(fam="dice+cldice", peer="monai", call=M + "SoftDiceclDiceLoss(sigmoid=True, include_background=False, alpha=0.7, smooth_nr=1e-05, smooth_dr=1e-05, reduction='sum')", layout="dense", shape=[2, 3, 6, 6, 6],
    target="blobs", logits="unique", empty=[0], act="sigmoid",
    desc=f"3D. p = sigmoid; channel 0 dropped in both parts. Dice: per (b,c) 1 - (2I + 1e-5)/(P + G + 1e-5), SUM over (b, c in 1..2). clDice: iter_ = 3; {SKEL3.format(iters=3)}; {cl_def(1e-5, 1e-5, 1e-4)}, SUM over b. loss = 0.3 Dice + 0.7 clDice. {SKEL_GRAD}")
add(fam="dice+cldice", peer="monai", call=M + "SoftDiceclDiceLoss(softmax=True, to_onehot_y=True, alpha=1.0, iter_=4)", layout="b1", shape=[1, 4, 8, 8, 6],
    target="blobs", logits="saturated_unique", act="softmax",
    desc=f"3D. p = softmax; one-hot labels. alpha = 1: loss = 0 * Dice + 1 * clDice (the Dice part is still computed; its gradient is multiplied by 0); clDice: iter_ = 4; {SKEL3.format(iters=4)}; {cl_def(1.0, 1.0, 1e-4)}, mean over b. {SKEL_GRAD}")

# 3. MONAI GeneralizedWassersteinDiceLoss ------------------------------------------------------------------------
M3 = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5], [1.0, 0.5, 0.0]])
M4 = np.array([[0.0, 2.0, 2.0, 1.5], [2.0, 0.0, 0.5, 1.0], [2.0, 0.5, 0.0, 1.25], [1.5, 1.0, 1.25, 0.0]])
M3b = np.array([[0.0, 0.75, 1.0], [0.75, 0.0, 0.25], [1.0, 0.25, 0.0]])
M2 = np.array([[0.0, 1.0], [0.5, 0.0]])
GW_DEF = ("default weighting: alpha_c = 0 for c = 0 and 1 otherwise; TP_b = sum over voxels of alpha_{t_i} (1 - w_i); "
          "denominator = 2 TP_b + sum over ALL voxels of w_i")
GW_GDL = ("GDL weighting: alpha_bc = 1/(V_bc + 1), V_bc = number of voxels of sample b labelled c (no gradient); "
          "TP_b = sum_i alpha_{b,t_i} (1 - w_i); denominator = sum_i alpha_{b,t_i} (2 - w_i)")
GW_END = "loss_b = 1 - (2 TP_b + 1e-5)/(denominator + 1e-5)"
add(fam="wasserstein_dice", peer="monai", call=M + "GeneralizedWassersteinDiceLoss(dist_matrix=M)", layout="b", shape=[2, 3, 8, 8],
    target="random", logits="normal", extras={"M": (M3, "class distance matrix [C,C] (the constructor's dist_matrix); max 1 so used as is")}, act="softmax",
    desc=GWDL_DEF.format(norm="") + GW_DEF + "; " + GW_END + "; loss = mean over b")
add(fam="wasserstein_dice", peer="monai", call=M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode='GDL')", layout="b1", shape=[2, 4, 6, 6],
    target="blobs", logits="normal", absent=[(0, 3)], extras={"M": (M4, "class distance matrix [C,C] (the constructor's dist_matrix); max 2, so the loss divides it by 2")}, act="softmax",
    desc=GWDL_DEF.format(norm=", divided by its maximum 2.0 because max(M) != 1") + GW_GDL + "; " + GW_END + "; loss = mean over b",
    notes="An absent class has V = 0 and alpha = 1 but no voxel selects it, so it does not enter the sums.")
add(fam="wasserstein_dice", peer="monai", call=M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode='GDL', reduction='sum')", layout="b", shape=[3, 3, 5, 5, 4],
    target="random", logits="normal", empty=[2], extras={"M": (M3b, "class distance matrix [C,C]; max 1.0")}, act="softmax",
    desc="3D. " + GWDL_DEF.format(norm="") + GW_GDL + "; " + GW_END + "; loss = SUM over b",
    notes="Sample 2 is entirely background (label 0).")
add(fam="wasserstein_dice", peer="monai", call=M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, reduction='sum')", layout="b1", shape=[3, 2, 6, 6],
    target="random", logits="saturated", empty=[1], extras={"M": (M2, "NON-symmetric class distance matrix [C,C]: w_i uses row t_i (the label), M[t, c]")}, act="softmax",
    desc=GWDL_DEF.format(norm="") + GW_DEF + "; " + GW_END + "; loss = SUM over b",
    notes="M is not symmetric: M[0,1] = 1 (label 0, mass on class 1) but M[1,0] = 0.5 (label 1, mass on class 0). Sample 1 is all background: alpha_0 = 0 gives TP = 0 and its loss is 1 - 1e-5/(sum w + 1e-5).")
add(fam="wasserstein_dice", peer="monai", call=M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode='GDL')", layout="b", shape=[1, 3, 4, 4, 3],
    target="random", logits="saturated", absent=[(0, 1)], extras={"M": (M3, "class distance matrix [C,C]; max 1")}, act="softmax",
    desc="3D. " + GWDL_DEF.format(norm="") + GW_GDL + "; " + GW_END + "; loss = mean over b (one sample)")

# 4. MONAI unified focal family ----------------------------------------------------------------------------------
PROB_NOTE = ("The peer expects probabilities although its docstring says logits: the 'logits' field holds values in "
             "(0,1) that are fed to the loss unchanged (activation 'none'); the gradient is d(loss)/d(those values).")
UFL_C1 = "one channel: the [B,1] input q becomes the two channels (1 - q, q) and a [B,1] target g becomes (1 - g, g); "


def ufl_desc(w, gm, d, red, pre=""):
    e = 1 - gm
    return (pre + UFL_FO.format(d=d, d1=round(1 - d, 10), gm=gm) + "; AF = " + red + " of the 2*B*voxels focal terms; "
            + UFL_TV.format(d=d, d1=round(1 - d, 10), e=round(e, 10)) + "; AFT = " + red + " of the 2*B tversky terms; "
            + f"loss = {w} AF + {round(1 - w, 10)} AFT (a scalar, so the outer reduction changes nothing); only channels 0 and 1 are used")


add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss()", layout="dense", shape=[2, 1, 8, 8],
    target="blobs", logits="prob", act="none",
    desc=ufl_desc(0.5, 0.5, 0.7, "mean", UFL_C1), notes=PROB_NOTE)
add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss(to_onehot_y=True, weight=0.3, gamma=0.75, delta=0.6)", layout="b1", shape=[2, 2, 8, 8],
    target="blobs", logits="prob_pair", act="none",
    desc=ufl_desc(0.3, 0.75, 0.6, "mean", "labels one-hot encoded (2 classes); "),
    notes=PROB_NOTE + " Here channel 0 = 1 - channel 1 exactly (a softmax-like pair), but the loss does not require it.")
add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss(weight=0.7, gamma=0.2, delta=0.8, reduction='sum')", layout="onehot", shape=[2, 2, 6, 6, 4],
    target="blobs", logits="prob_truth", empty=[1], act="none",
    desc=ufl_desc(0.7, 0.2, 0.8, "mean", "3D; one-hot target passed as is; the two channels are independent values; ") + "; reduction='sum' is applied to the already scalar combination",
    notes=PROB_NOTE + " Sample 1 is all background (channel 1 of its target empty). reduction='sum' is passed to neither sub-loss, which both keep 'mean'.")
add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss(gamma=0.5)", layout="dense", shape=[3, 1, 6, 6, 5],
    target="blobs", logits="prob_sat", empty=[2], act="none",
    desc=ufl_desc(0.5, 0.5, 0.7, "mean", "3D; " + UFL_C1), notes=PROB_NOTE + " Values are confident (within 8/1024 of 0 or 1), 20% confidently wrong.")
add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss(to_onehot_y=True, ignore_index=255)", layout="b1", shape=[2, 2, 6, 6],
    target="random", logits="prob", ignore=255, ignore_frac=0.15, act="none",
    desc=("voxel mask m = (label != 255); labels equal to 255 replaced by 0, then one-hot; both channels of q and of the "
          "one-hot target multiplied by m (a masked voxel has q = 0 -> clamped to 1e-7, g = 0); then exactly the "
          "unmasked computation: " + ufl_desc(0.5, 0.5, 0.7, "mean")),
    notes=PROB_NOTE + " Masked voxels stay in the focal mean's divisor (2*B*voxels) and each adds about 1e-7 to FP of both channels; their gradient is 0.")
add(fam="unified_focal", peer="monai", call=M + "AsymmetricUnifiedFocalLoss(weight=0.4)", layout="onehot", shape=[2, 3, 6, 6],
    target="random", logits="prob", absent=[(1, 2)], act="none",
    desc=ufl_desc(0.4, 0.5, 0.7, "mean", "three channels, one-hot target passed as is: channel 2 is silently ignored (num_classes=2 is only checked against the target's maximum); "),
    notes=PROB_NOTE + " With C = 3 only channels 0 and 1 enter the loss; channel 2 gets gradient 0. (With to_onehot_y=True and 3-class labels the peer raises instead.)")
AF_TXT = "AF = {red} of the 2*B*voxels focal terms (back, fore) stacked over channels 0 and 1"
AFT_TXT = "loss = {red} of the 2*B terms (back_b, fore_b)"
add(fam="asymmetric_focal", peer="monai", call=MU + "AsymmetricFocalLoss()", layout="onehot", shape=[2, 2, 8, 8],
    target="blobs", logits="prob", act="none",
    desc=UFL_FO.format(d=0.7, d1=0.3, gm=2) + "; " + AF_TXT.format(red="mean"), notes=PROB_NOTE)
add(fam="asymmetric_focal", peer="monai", call=MU + "AsymmetricFocalLoss(to_onehot_y=True, delta=0.6, gamma=1.5, reduction='sum')", layout="b1", shape=[2, 2, 5, 5, 4],
    target="random", logits="prob_pair", act="none",
    desc="3D; labels one-hot; " + UFL_FO.format(d=0.6, d1=0.4, gm=1.5) + "; loss = SUM of all focal terms", notes=PROB_NOTE)
add(fam="asymmetric_focal", peer="monai", call=MU + "AsymmetricFocalLoss(gamma=2.0)", layout="onehot", shape=[2, 3, 6, 6],
    target="random", logits="prob", absent=[(0, 2)], act="none",
    desc=UFL_FO.format(d=0.7, d1=0.3, gm=2.0) + "; " + AF_TXT.format(red="mean") + " (mean over 2*B*voxels)",
    notes=PROB_NOTE + " Three channels: channel 2 is silently ignored (only channels 0 and 1 enter the loss; its gradient is 0).")
add(fam="asymmetric_focal", peer="monai", call=MU + "AsymmetricFocalLoss(delta=0.25, gamma=0.5)", layout="onehot", shape=[3, 2, 6, 6],
    target="blobs", logits="prob_sat", empty=[0], act="none",
    desc=UFL_FO.format(d=0.25, d1=0.75, gm=0.5) + "; " + AF_TXT.format(red="mean"),
    notes=PROB_NOTE + " Sample 0 is all background. Confident values within 8/1024 of 0 or 1.")
add(fam="asymmetric_focal_tversky", peer="monai", call=MU + "AsymmetricFocalTverskyLoss()", layout="onehot", shape=[2, 2, 8, 8],
    target="blobs", logits="prob", act="none",
    desc="q = clamp(value, 1e-7, 1 - 1e-7); g = target; " + UFL_TV.format(d=0.7, d1=0.3, e=0.25) + "; " + AFT_TXT.format(red="mean"), notes=PROB_NOTE)
add(fam="asymmetric_focal_tversky", peer="monai", call=MU + "AsymmetricFocalTverskyLoss(to_onehot_y=True, delta=0.5, gamma=0.5, reduction='sum')", layout="b1", shape=[2, 2, 5, 5, 4],
    target="random", logits="prob_pair", act="none",
    desc="3D; labels one-hot; q = clamp(value, 1e-7, 1 - 1e-7); " + UFL_TV.format(d=0.5, d1=0.5, e=0.5) + "; " + AFT_TXT.format(red="SUM"), notes=PROB_NOTE)
add(fam="asymmetric_focal_tversky", peer="monai", call=MU + "AsymmetricFocalTverskyLoss(gamma=0.9)", layout="onehot", shape=[2, 3, 6, 6],
    target="random", logits="prob", act="none",
    desc="q = clamp(value, 1e-7, 1 - 1e-7); " + UFL_TV.format(d=0.7, d1=0.3, e=0.1) + "; " + AFT_TXT.format(red="mean"),
    notes=PROB_NOTE + " Three channels: channel 2 is ignored (gradient 0).")
add(fam="asymmetric_focal_tversky", peer="monai", call=MU + "AsymmetricFocalTverskyLoss(delta=0.8, gamma=0.25)", layout="onehot", shape=[3, 2, 6, 6],
    target="blobs", logits="prob_sat", empty=[1], act="none",
    desc="q = clamp(value, 1e-7, 1 - 1e-7); " + UFL_TV.format(d=0.8, d1=0.2, e=0.75) + "; " + AFT_TXT.format(red="mean"),
    notes=PROB_NOTE + " Sample 1 is all background: its channel-1 TP and FN are 0, D_1 = 1e-7/(0.2 FP + 1e-7).")

# 5. MONAI NACLLoss ----------------------------------------------------------------------------------------------
L1, L2 = "|U - x|", "(U - x)^2"
t1, s1 = gauss_taps(1.0)
t05, s05 = gauss_taps(0.5)
t15, s15 = gauss_taps(1.5)
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=3, dim=2)", layout="b", shape=[2, 3, 8, 8],
    target="blobs", logits="normal", act="mixed",
    desc=NACL_MEAN.format(k=3, dim=2, kd=9, pad="") + "; " + NACL_TAIL.format(dist=L1, a=0.1),
    notes="activation 'mixed': softmax inside the CE term, raw logits inside the penalty.")
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=4, dim=2, kernel_size=5, distance_type='l2', alpha=0.5)", layout="b", shape=[2, 4, 10, 10],
    target="blobs", logits="normal", absent=[(1, 3)], empty=[0], act="mixed",
    desc=NACL_MEAN.format(k=5, dim=2, kd=25, pad="") + "; " + NACL_TAIL.format(dist=L2, a=0.5),
    notes="Sample 0 is all background (label 0 everywhere).")
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=3, dim=3, kernel_ops='gaussian', sigma=1.0)", layout="b", shape=[2, 3, 6, 6, 5],
    target="blobs", logits="normal", act="mixed",
    desc="3D. " + NACL_GAUSS.format(T=t1, s=1.0, tsum=f"{s1:.9f}") + "; " + NACL_TAIL.format(dist=L1, a=0.1))
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=2, dim=2, kernel_ops='gaussian', sigma=0.5, distance_type='l2', alpha=1.0)", layout="b", shape=[3, 2, 8, 8],
    target="blobs", logits="saturated", act="mixed",
    desc=NACL_GAUSS.format(T=t05, s=0.5, tsum=f"{s05:.9f}") + "; " + NACL_TAIL.format(dist=L2, a=1.0))
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=3, dim=3, kernel_size=3, alpha=0.2)", layout="b", shape=[1, 3, 5, 5, 5],
    target="random", logits="normal", act="mixed",
    desc="3D. " + NACL_MEAN.format(k=3, dim=3, kd=27, pad="") + "; " + NACL_TAIL.format(dist=L1, a=0.2))
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=2, dim=2, kernel_size=4, kernel_ops='mean', distance_type='l1', alpha=0.3)", layout="b", shape=[2, 2, 7, 6],
    target="blobs", logits="normal", act="mixed",
    desc=NACL_MEAN.format(k=4, dim=2, kd=16, pad=" ('same' padding with an EVEN kernel: per axis 1 zero row/column before and 2 after, i.e. output voxel i averages input i-1..i+2)") + "; " + NACL_TAIL.format(dist=L1, a=0.3),
    notes="Even kernel_size: torch conv padding='same' pads (k-1)//2 = 1 before and 2 after along each axis, so the window is not centred.")
add(fam="nacl", peer="monai", call=M + "NACLLoss(classes=4, dim=3, kernel_ops='gaussian', sigma=1.5, distance_type='l2', alpha=0.05)", layout="b", shape=[2, 4, 5, 4, 6],
    target="random", logits="normal", absent=[(0, 2)], act="mixed",
    desc="3D. " + NACL_GAUSS.format(T=t15, s=1.5, tsum=f"{s15:.9f}") + "; " + NACL_TAIL.format(dist=L2, a=0.05))

# 6. MONAI LogHausdorffDTLoss ------------------------------------------------------------------------------------


def hd_desc(act, alpha, chans, red, batch, pre=""):
    per = ("batch=True: value_c = mean over the batch and voxels of term" if batch else "value_bc = mean over voxels of term")
    over = "c" if batch else "(b,c)"
    return (pre + f"p = {act}; {chans}; for each scored channel c and sample b: d_p = field(p_bc > 0.5), d_g = field(g_bc > 0.5); "
            + HD_FIELD + f"; term = (p - g)^2 (d_p^{alpha} + d_g^{alpha}); {per}; H = {red} over {over}; loss = log(H + 1)")


add(fam="log_hausdorff_dt", peer="monai", call=M + "LogHausdorffDTLoss(sigmoid=True)", layout="dense", shape=[2, 1, 10, 10],
    target="blobs", logits="truth", act="sigmoid",
    desc=hd_desc("sigmoid(logit)", 2.0, "one channel: the default include_background=False is ignored and the channel is scored", "mean", False))
add(fam="log_hausdorff_dt", peer="monai", call=M + "LogHausdorffDTLoss(softmax=True, to_onehot_y=True)", layout="b1", shape=[2, 3, 10, 10],
    target="blobs", logits="truth", absent=[(0, 2)], act="softmax",
    desc=hd_desc("softmax over ALL C", 2.0, "labels one-hot; channel 0 dropped (default include_background=False)", "mean", False),
    notes="Class 2 absent from sample 0: d_g = 0 for that (b,c), only the prediction's own field weights its errors.")
add(fam="log_hausdorff_dt", peer="monai", call=M + "LogHausdorffDTLoss(softmax=True, to_onehot_y=True, include_background=True, alpha=1.0, reduction='sum')", layout="b1", shape=[2, 3, 6, 6, 5],
    target="blobs", logits="normal", act="softmax",
    desc=hd_desc("softmax over C", 1.0, "labels one-hot; all channels", "SUM", False, "3D. "))
add(fam="log_hausdorff_dt", peer="monai", call=M + "LogHausdorffDTLoss(sigmoid=True, batch=True, alpha=3.0)", layout="dense", shape=[2, 2, 6, 6, 4],
    target="blobs", logits="truth", empty=[1], act="sigmoid",
    desc=hd_desc("sigmoid", 3.0, "multi-hot target; channel 0 dropped", "mean", True, "3D. "),
    notes="Sample 1 has an all-zero target (d_g = 0 there).")
add(fam="log_hausdorff_dt", peer="monai", call=M + "LogHausdorffDTLoss(sigmoid=True, include_background=True, reduction='sum', batch=True)", layout="dense", shape=[3, 2, 8, 8],
    target="blobs", logits="saturated", full=[2], act="sigmoid",
    desc=hd_desc("sigmoid", 2.0, "multi-hot target; all channels", "SUM", True),
    notes="Sample 2 has an all-one target: d_g = 0 there.")

# 7. kornia LovaszHingeLoss --------------------------------------------------------------------------------------
KNOTE = "Logits have pairwise distinct absolute values, none equal to 1: the sort has no ties and no hinge sits at its kink."
add(fam="lovasz", peer="kornia", call=K + "LovaszHingeLoss()", layout="b", shape=[1, 1, 8, 8], target="blobs", logits="unique", act="none",
    desc=LOVASZ, notes=KNOTE)
add(fam="lovasz", peer="kornia", call=K + "LovaszHingeLoss()", layout="b", shape=[3, 1, 6, 6], target="random", logits="unique", empty=[1], act="none",
    desc=LOVASZ + "; an image without positives has G = 0: J_1 = 1 and later weights 0, so its loss is the largest hinge error",
    notes=KNOTE + " Sample 1 has no positive pixel.")
add(fam="lovasz", peer="kornia", call=K + "LovaszHingeLoss()", layout="b", shape=[2, 1, 8, 8], target="blobs", logits="saturated_unique", act="none",
    desc=LOVASZ, notes=KNOTE)
add(fam="lovasz", peer="kornia", call=K + "LovaszHingeLoss()", layout="b", shape=[2, 1, 5, 7], target="blobs", logits="unique", full=[1], act="none",
    desc=LOVASZ + "; non-square image; sample 1 is all positive",
    notes=KNOTE + " Sample 1 is all foreground.")

# Configurations tried and skipped because the peer raises (or returns no scalar).
SKIPPED = [
    (MU + "AsymmetricFocalLoss()", [2, 1, 6, 6], "dense"),
    (MU + "AsymmetricFocalTverskyLoss()", [2, 1, 6, 6], "dense"),
    (M + "AsymmetricUnifiedFocalLoss(to_onehot_y=True)", [2, 3, 6, 6], "b1"),
    (K + "LovaszHingeLoss()", [2, 2, 6, 6], "b"),
    (K + "LovaszHingeLoss()", [2, 1, 4, 4, 4], "b"),
    (M + "NACLLoss(classes=3, dim=1)", [2, 3, 8], "b"),
    (M + "NACLLoss(classes=3, dim=2)", [2, 3, 6, 6], "b1"),
    (M + "BoundaryLoss(sigmoid=True)", [2, 1, 8], "dense"),
    (M + "SoftclDiceLoss(sigmoid=True, iter_=-1)", [2, 1, 6, 6], "dense"),
    (M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, weighting_mode='square')", [2, 3, 6, 6], "b"),
    (M + "BoundaryLoss(sigmoid=True, reduction='none')", [2, 2, 6, 6], "dense"),
    (M + "LogHausdorffDTLoss(sigmoid=True, reduction='none')", [2, 2, 6, 6], "dense"),
    (M + "GeneralizedWassersteinDiceLoss(dist_matrix=M, reduction='none')", [2, 3, 6, 6], "b"),
]


# ---------------------------------------------------------------------------------------------------------------
def q(a):
    """Round to multiples of 1/1024 (exact in f32 and f64)."""
    return np.round(np.asarray(a) * 1024) / 1024


def q_odd(a):
    """Round to ODD multiples of 1/1024 (never 0, +-1/2, +-1)."""
    n = np.round(np.asarray(a) * 1024)
    n = np.where(n % 2 == 0, n + np.where(n >= 0, 1, -1), n)
    return n / 1024


def unique_abs(rng, x):
    """Make |x| pairwise distinct and != 1 (no ties in a sort, no hinge kink); keeps odd multiples odd."""
    x = x.copy().ravel()
    while True:
        a = np.abs(x)
        _, idx = np.unique(a, return_index=True)
        dup = np.ones(x.size, bool)
        dup[idx] = False
        dup |= a == 1.0
        if not dup.any():
            return x
        x[dup] += np.sign(x[dup]) * 2 * rng.integers(1, 64, size=int(dup.sum())) / 1024


def smooth_fields(rng, n, spatial, sigma=1.3):
    return np.stack([ndi.gaussian_filter(rng.normal(size=spatial), sigma, mode="wrap") for _ in range(n)])


def make_labels(rng, case, b, c, spatial):
    absent, empty = case.get("absent", []), case.get("empty", [])
    if case.get("target", "random") == "blobs":
        labels = np.zeros([b] + spatial, np.int64)
        for s in range(b):
            f = smooth_fields(rng, c, spatial)
            f[0] += 0.25  # a little more background
            for (bb, k) in absent:
                if bb == s:
                    f[k] = -np.inf
            labels[s] = f.argmax(0)
    else:
        labels = rng.integers(0, c, size=[b] + spatial)
        for s in range(b):
            gone = {k for (bb, k) in absent if bb == s}
            if gone:
                keep = [k for k in range(c) if k not in gone]
                sel = np.isin(labels[s], list(gone))
                labels[s][sel] = rng.choice(keep, size=int(sel.sum()))
    for s in empty:
        labels[s] = 0
    return labels


def make_dense(rng, case, shape):
    b, c, spatial = shape[0], shape[1], shape[2:]
    if case.get("target", "random") == "blobs":
        hot = np.zeros(shape, np.int64)
        for s in range(b):
            f = smooth_fields(rng, c, spatial)
            for k in range(c):
                hot[s, k] = f[k] > np.quantile(f[k], 0.62)
    else:
        hot = (rng.random(shape) < 0.3).astype(np.int64)
    for s in case.get("empty", []):
        hot[s] = 0
    for s in case.get("full", []):
        hot[s] = 1
    return hot


def build(case, seed):
    rng = np.random.default_rng(seed)
    shape, layout = case["shape"], case["layout"]
    b, c, spatial = shape[0], shape[1], shape[2:]
    ignore, conds = case.get("ignore"), []
    if layout == "dense":
        hot = make_dense(rng, case, shape)
        target, tshape, encoding, labels = hot.copy(), list(shape), "multi_hot", None
    else:
        if layout == "b" and c == 1:  # binary labels (kornia Lovasz): 0/1 per pixel
            labels = make_dense(rng, case, shape)[:, 0]
        else:
            labels = make_labels(rng, case, b, c, spatial)
        hot = (np.arange(c).reshape([1, c] + [1] * len(spatial)) == labels[:, None]).astype(np.int64) if c > 1 else labels[:, None]
        if ignore is not None:
            labels = labels.copy()
            labels[rng.random(labels.shape) < case.get("ignore_frac", 0.1)] = ignore
        if layout == "onehot":
            target, encoding = hot.copy(), "multi_hot"
        else:
            target, encoding = (labels[:, None] if layout == "b1" else labels), "class_index"
        tshape = list(target.shape)
    style = case.get("logits", "normal")
    if style.startswith("saturated"):
        sign = 2.0 * hot - 1.0
        sign = np.where(rng.random(shape) < 0.2, -sign, sign)
        logits = q_odd(sign * (20 + rng.uniform(-2, 2, size=shape)))
        conds.append(SAT)
    elif style == "truth":
        logits = q_odd((2.0 * hot - 1.0) * 1.5 + rng.normal(0, 1.5, size=shape))
        conds.append("logits = 1.5 * (2g - 1) + N(0, 1.5^2) noise: a noisy prediction of the target")
    elif style == "prob":
        logits = rng.integers(1, 1024, size=shape) / 1024
        conds.append("inputs are probabilities drawn uniformly from {1/1024, ..., 1023/1024}, independently per channel")
    elif style == "prob_pair":
        u = rng.integers(1, 1024, size=[b, 1] + spatial) / 1024
        logits = np.concatenate([1 - u, u], axis=1)
        conds.append("inputs are probability pairs (1 - u, u), u uniform in {1/1024, ..., 1023/1024}")
    elif style == "prob_truth":
        logits = np.where(hot == 1, rng.integers(400, 1024, size=shape), rng.integers(1, 624, size=shape)) / 1024
        conds.append("inputs are probabilities, higher (0.39..1) where the target is 1 and lower (0..0.61) where it is 0, independently per channel")
    elif style == "prob_sat":
        good = rng.random(shape) >= 0.2
        small = rng.integers(1, 9, size=shape)
        pos = np.where(good, hot == 1, hot == 0)
        logits = np.where(pos, 1024 - small, small) / 1024
        conds.append("confident probabilities within 8/1024 of 0 or 1; 80% on the right side, 20% on the wrong side")
    else:
        logits = q_odd(rng.normal(0, 2, size=shape))
    if style in ("unique", "saturated_unique"):
        if style == "unique":
            logits = q_odd(rng.normal(0, 2, size=shape))
        logits = unique_abs(rng, logits).reshape(shape)
        conds.append("logits have pairwise distinct absolute values")
    # data conditions
    if layout == "dense":
        for s in range(b):
            if not hot[s].any():
                conds.append(f"sample {s} has an all-zero target")
            elif hot[s].all():
                conds.append(f"sample {s} has an all-one target")
            else:
                for k in range(c):
                    if c > 1 and not hot[s, k].any():
                        conds.append(f"channel {k} of sample {s} is empty")
                    if c > 1 and hot[s, k].all():
                        conds.append(f"channel {k} of sample {s} is full (all ones)")
    elif c == 1:
        for s in range(b):
            if not labels[s].any():
                conds.append(f"sample {s} has no positive pixel")
            elif labels[s].all():
                conds.append(f"sample {s} is all positive")
    else:
        for s in range(b):
            if (labels[s] == 0).all():
                conds.append(f"sample {s} is all background (label 0 everywhere)")
                continue
            for k in range(c):
                if not (labels[s] == k).any():
                    conds.append(f"class {k} absent from sample {s}")
    if ignore is not None:
        conds.append(f"about {round(100 * float(np.mean(labels == ignore)))}% of voxels carry the ignore value {ignore}")
    extras = {n: (np.asarray(v, np.float64), m) for n, (v, m) in case.get("extras", {}).items()}
    return logits, target, tshape, encoding, extras, conds


def target_tensor(case, target, dtype):
    t = torch.tensor(target)
    if case["layout"] in ("dense", "onehot") and case["peer"] == "monai":
        t = t.to(dtype)
    return t


def run(case, logits, target, extras, dtype, patch, audit=None):
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        x = torch.tensor(logits, dtype=dtype, requires_grad=True)
        t = target_tensor(case, target, dtype)
        env = {name: torch.tensor(v, dtype=dtype) for name, (v, _) in extras.items()}
        with float64_casts() if patch else contextlib.nullcontext(), audit if audit is not None else contextlib.nullcontext():
            loss_fn = eval(case["call"], globals(), dict(env))
            env.update(loss=loss_fn, logits=x, target=t)
            value = eval(case.get("forward", "loss(logits, target)"), globals(), env)
            if value.dim() != 0:
                raise ValueError(f"non-scalar loss of shape {list(value.shape)}")
            value.backward()
        return float(value), x.grad.detach().numpy().astype(np.float64)
    finally:
        torch.set_default_dtype(prev)


def versions():
    return {"monai": monai.__version__, "kornia": kornia.__version__}


def try_skipped():
    out = []
    for k, (call, shape, layout) in enumerate(SKIPPED):
        case = dict(peer=call.split(".")[0], call=call, layout=layout, shape=shape, target="random", logits="prob" if "Asymmetric" in call else "normal")
        extras = {"M": (M3, "")} if "dist_matrix" in call else {}
        try:
            logits, target, _, _, _, _ = build(case, SEED + 1000 + k)
            run(case, logits, target, extras, torch.float64, True)
            out.append({"call": call, "input_shape": shape, "target_layout": layout, "result": "ran (unexpected)"})
        except Exception as e:  # noqa: BLE001
            msg = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:200]
            out.append({"call": call, "input_shape": shape, "target_layout": layout, "result": msg})
    return out


def main(out, audit_on=False):
    cases, ids_by_family = [], {}
    for k, case in enumerate(CASES):
        seed = SEED + k
        logits, target, tshape, encoding, extras, conds = build(case, seed)
        audit = Float32Audit() if audit_on else None
        loss, grad = run(case, logits, target, extras, torch.float64, True, audit)
        if audit is not None and audit.hits:
            print(f"  audit new-{k + 1:03d}: float32 produced by {sorted(audit.hits)}")
        loss32, _ = run(case, logits, target, extras, torch.float32, False)
        if not (np.isfinite(loss) and np.isfinite(grad).all()):
            raise SystemExit(f"case {k}: non-finite peer result for {case['call']}")
        cid = f"new-{k + 1:03d}"
        ids_by_family.setdefault(case["fam"], []).append((cid, loss))
        peer = case["peer"]
        cases.append({
            "id": cid, "category": "extended", "peer": peer, "peer_version": versions()[peer],
            "call": case["call"], "forward": case.get("forward", "loss(logits, target)"), "loss_family": case["fam"],
            "activation": case["act"], "target_encoding": encoding,
            "description": case["desc"] + f". Generated by {SCRIPT}; the call is the definition.",
            "data_conditions": conds, "notes": case.get("notes", ""), "seed": seed, "input_shape": case["shape"],
            "logits": logits.ravel().tolist(), "target_shape": tshape, "target": np.asarray(target).ravel().astype(int).tolist(),
            "extra_inputs": {n: {"shape": list(v.shape), "values": v.ravel().tolist(), "meaning": m} for n, (v, m) in extras.items()},
            "loss": loss, "grad": grad.ravel().tolist(), "loss_float32_peer": loss32,
            "max_abs_grad": float(np.abs(grad).max()),
        })
    skipped = try_skipped()
    doc = {
        "schema": "same as shared/reference/losses_dev.json, plus: a bare identifier among a call's arguments (e.g. "
                  "dist_matrix=M) names the extra_inputs entry that holds that constructor tensor. target_encoding "
                  "'multi_hot' also covers a one-hot target passed as is. For the unified-focal family "
                  "(loss_family unified_focal, asymmetric_focal, asymmetric_focal_tversky) the 'logits' field holds "
                  "PROBABILITIES in (0,1), fed to the loss unchanged (activation 'none'), and 'grad' is the gradient with "
                  "respect to them. activation 'mixed' (NACL): softmax inside the cross entropy, raw logits in the penalty.",
        "generator": {"script": SCRIPT, "set": "new_losses", "base_seed": SEED, "case_count": len(cases),
                      "versions": {"monai": monai.__version__, "kornia": kornia.__version__, "torch": torch.__version__,
                                   "numpy": np.__version__, "scipy": scipy.__version__, "python": platform.python_version()},
                      "float64_note": "Peers that cast to float32 internally (MONAI one-hot targets, BoundaryLoss's "
                                      "signed distance map, Hausdorff distance fields, GeneralizedWassersteinDice's "
                                      "alpha weights, NACL's one-hot labels and mean/Gaussian filter kernels) were run "
                                      "with those casts turned into float64 casts; loss_float32_peer is the unmodified "
                                      "float32 run.",
                      "skipped_configurations": skipped},
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(doc, f)
    print(f"wrote {len(cases)} cases to {out}")
    for fam, items in ids_by_family.items():
        print(f"  {fam}: {len(items)} cases")
    for fam, items in ids_by_family.items():
        for cid, loss in items:
            print(f"    {fam:26s} {cid}  loss = {loss!r}")
    print("skipped configurations:")
    for s in skipped:
        print(f"  {s['call']} {s['input_shape']} ({s['target_layout']}): {s['result']}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--audit"]
    main(args[0] if args else OUT, audit_on="--audit" in sys.argv[1:])
