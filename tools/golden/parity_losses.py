#!/usr/bin/env python3
"""Writes crates/dicekit-losses/tests/golden/losses_parity.json: peer reference cases in the schema of
shared/reference/losses_dev.json for the parity corners the dev and extra files leave out: MONAI
ignore_index equal to a valid class, single-channel softmax / include_background, class weights inside
MONAI composites, kornia focal weights with ignored entries, nnU-Net clip_tp, torch element-wise BCE
weights and CE weight/ignore/smoothing mixes, smp Lovasz multilabel, MaskedDiceLoss, smp normalized and
reduced focal, kornia weighted micro Dice.

Needs: torch, monai==1.6.1, segmentation-models-pytorch==0.6.0, kornia==0.9.0, nnunetv2==2.8.1
(a virtualenv).
Run from the repository root: python3 tools/golden/parity_losses.py
`--check-dev PATH` instead replays every case of a losses_dev.json-style file through the same harness
and prints the largest loss and gradient differences (a self-test of the float64 patch below).
Never edit the output by hand, and never regenerate it from dicekit's own values.

Float64: MONAI's focal terms (`.float()`), its one-hot targets (float32 `torch.zeros`), its
Hausdorff distance fields, nnU-Net's `sum(dtype=torch.float32)` and smp's Lovasz `.float()` compute in
float32 internally. During each float64 forward those casts are turned into float64 casts
(`float64_casts` below), as the dev file's generator did; `--check-dev` reproduces all 68 dev cases to
rounding this way. `loss_float32_peer` is the unpatched run with float32 logits.

A constructor argument that is a tensor of data shape (an element-wise weight map, a per-channel
pos_weight of shape [C,1,...]) is written in `call` as a bare identifier naming an `extra_inputs` entry,
e.g. `torch.nn.BCEWithLogitsLoss(weight=weight_map)`. Lists of per-class numbers stay literal lists.
"""
import contextlib
import json
import re
import sys
import warnings

import numpy as np
import torch

import kornia
import monai
import segmentation_models_pytorch
import segmentation_models_pytorch as smp  # noqa: F401  (used by eval of the calls)
import nnunetv2
from monai.networks import one_hot as monai_one_hot
import nnunetv2.training.loss.compound_losses  # noqa: F401  (dev calls, --check-dev)
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss, SoftDiceLoss  # noqa: F401
from nnunetv2.utilities.helpers import softmax_helper_dim1  # noqa: F401
from importlib.metadata import version

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)
SEED = 20261206
SCRIPT = "tools/golden/parity_losses.py"


@contextlib.contextmanager
def float64_casts():
    """Inside: Tensor.float/.to/.type to float32, .sum(dtype=float32) and torch.zeros(dtype=float32) give float64."""
    T = torch.Tensor
    of, osum, oto, otype, ozeros = T.float, T.sum, T.to, T.type, torch.zeros
    f32 = torch.float32

    def f(self, *a, **k):
        return oto(self, torch.float64)

    def s(self, *a, **k):
        if k.get("dtype") is f32:
            k["dtype"] = torch.float64
        return osum(self, *a, **k)

    def to(self, *a, **k):
        a = tuple(torch.float64 if v is f32 else v for v in a)
        if k.get("dtype") is f32:
            k["dtype"] = torch.float64
        return oto(self, *a, **k)

    def ty(self, *a, **k):
        return otype(self, *tuple(torch.float64 if v is f32 else v for v in a), **k)

    def zeros(*a, **k):
        if k.get("dtype") is f32:
            k["dtype"] = torch.float64
        return ozeros(*a, **k)

    T.float, T.sum, T.to, T.type, torch.zeros = f, s, to, ty, zeros
    try:
        yield
    finally:
        T.float, T.sum, T.to, T.type, torch.zeros = of, osum, oto, otype, ozeros


M, S, K, N, T = "monai.losses.", "segmentation_models_pytorch.losses.", "kornia.losses.", "nnunetv2.training.loss.dice.", "torch.nn."
SAT = "near-saturated logits (about +-30); 80% confidently right, 20% confidently wrong"

# Each case: cat (1-9), peer, call, layout, shape, and optional keys:
#   ignore (value written into the target), ignore_frac, logits ('normal' | 'saturated' | 'unit' | 'unique'),
#   absent [(sample, class)], empty [sample] (multi-hot all zero), extras {name: kind}, forward, quirk (notes
#   -> category peer_quirk), notes, desc, act (activation tag).
# layout: "b1" = [B,1,...] labels, "b" = [B,...] labels, "dense" = [B,C,...] 0/1 multi-hot.
CASES = [
    # 1. MONAI ignore_index equal to a valid class index
    dict(cat=1, peer="monai", call=M + "DiceLoss(softmax=True, to_onehot_y=True, ignore_index=1)", layout="b1", shape=[2, 3, 6, 6], act="softmax",
         desc="softmax over C; labels one-hot encoded (ignore_index=1 is a valid class, so labels are NOT rewritten); mask m = (label != 1) per voxel; p and g of EVERY channel are multiplied by m; per (b,c): I=sum(p g), P=sum(p), G=sum(g) over the spatial positions; value = 1 - (2I + 1e-5)/(P + G + 1e-5); loss = mean over (b,c), all 3 channels",
         notes="Channel 1 is still scored: its target is 0 everywhere after masking, so its value is 1 - 1e-5/(P1 + 1e-5) with P1 the class-1 probability mass on the unmasked voxels (close to 1, small gradient)."),
    dict(cat=1, peer="monai", call=M + "DiceLoss(softmax=True, to_onehot_y=True, include_background=False, ignore_index=0)", layout="b1", shape=[2, 3, 4, 4, 3], act="softmax",
         desc="softmax over C; one-hot labels; mask m = (label != 0): background voxels leave p and g of every channel; channel 0 dropped; per (b,c) Dice over spatial positions, 1 - (2I+1e-5)/(P+G+1e-5); mean over (b, c in 1..C-1)"),
    dict(cat=1, peer="monai", call=M + "DiceLoss(softmax=True, to_onehot_y=True, batch=True, weight=[0.5, 1.0, 2.0, 1.5], ignore_index=2)", layout="b1", shape=[3, 4, 5, 5], absent=[(1, 3)], act="softmax",
         desc="softmax over C; one-hot labels; m = (label != 2) multiplies p and g of every channel; sums over batch and spatial positions (one value per class); value_c = w_c * (1 - (2I+1e-5)/(P+G+1e-5)); loss = mean over the 4 classes"),
    dict(cat=1, peer="monai", call=M + "DiceLoss(sigmoid=True, to_onehot_y=True, ignore_index=1, reduction='sum')", layout="b1", shape=[2, 3, 6, 6], act="sigmoid",
         desc="p = sigmoid(logit); one-hot labels; m = (label != 1) multiplies p and g of every channel; per (b,c) Dice 1 - (2I+1e-5)/(P+G+1e-5); loss = sum over (b,c)"),
    dict(cat=1, peer="monai", call=M + "DiceLoss(sigmoid=True, ignore_index=1)", layout="dense", shape=[2, 3, 6, 6], act="sigmoid",
         desc="p = sigmoid(logit); multi-hot target [B,C,...]; since 0 <= ignore_index < C the mask is m = 1 - g[:,1] (a voxel where channel 1 is positive leaves ALL channels); p and g multiplied by m; per (b,c) Dice; mean",
         notes="With a multi-hot target MONAI reads ignore_index as a channel: voxels positive in channel 1 are removed from every channel's sums, so channel 1 ends with G = 0 and is scored like an absent class (value close to 1)."),
    dict(cat=1, peer="monai", call=M + "TverskyLoss(softmax=True, to_onehot_y=True, alpha=0.3, beta=0.7, ignore_index=1)", layout="b1", shape=[2, 3, 6, 6], act="softmax",
         desc="softmax; one-hot labels; m = (label != 1) multiplies p and g of every channel; per (b,c): TP=sum(p g), FP=sum(p(1-g)), FN=sum((1-p)g); value = 1 - (TP+1e-5)/(TP + 0.3 FP + 0.7 FN + 1e-5); mean"),
    dict(cat=1, peer="monai", call=M + "TverskyLoss(sigmoid=True, include_background=False, ignore_index=0, batch=True)", layout="dense", shape=[2, 3, 4, 4, 3], act="sigmoid",
         desc="sigmoid; multi-hot target; m = 1 - g[:,0] (voxels positive in channel 0 leave all channels); then channel 0 dropped; sums over batch and space; value = 1 - (TP+1e-5)/(TP+0.5FP+0.5FN+1e-5); mean over channels 1..C-1"),
    dict(cat=1, peer="monai", call=M + "FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0, ignore_index=1)", layout="b1", shape=[2, 3, 6, 6], act="softmax",
         desc="one-hot labels (not rewritten, 1 is a class); m = (label != 1); logits multiplied by m BEFORE log_softmax; term = -(1 - p_c)^2 * log p_c * g_c per channel, times m; loss = sum of all terms / sum(m)",
         notes="The 'mean' of MONAI FocalLoss with ignore_index divides by the number of unmasked VOXELS (sum of the [B,1,...] mask), not by C times that: the same data without ignore_index would be divided by C*B*voxels."),
    dict(cat=1, peer="monai", call=M + "FocalLoss(gamma=2.0, alpha=0.25, ignore_index=0)", layout="dense", shape=[2, 3, 6, 6], act="sigmoid",
         desc="sigmoid focal on a multi-hot target; m = 1 - g[:,0] (channel-0-positive voxels leave every channel); logits and g multiplied by m; term = alpha_t (1-p_t)^2 (-log p_t), alpha_t = 0.25 g + 0.75 (1-g); term times m; loss = sum / sum(m)",
         notes="Masked entries still have logit 0 and g 0 inside the formula; the final multiplication by m zeroes them and their gradient."),
    dict(cat=1, peer="monai", call=M + "FocalLoss(to_onehot_y=True, gamma=1.5, weight=[1.0, 2.0, 0.5], ignore_index=2, reduction='sum')", layout="b1", shape=[2, 3, 4, 4, 3], act="sigmoid",
         desc="sigmoid focal (use_softmax=False) on one-hot labels; m = (label != 2); per channel weight w_c; reduction 'sum': per (b,c) spatial sum of w_c*term*m divided by sum of m over that sample, then summed over (b,c)"),
    # 2. single-channel quirks
    dict(cat=2, peer="monai", call=M + "DiceLoss(softmax=True)", layout="dense", shape=[2, 1, 6, 6], logits="unit", act="none",
         desc="one channel: softmax=True is skipped (warning), so p = the raw logit; per sample Dice 1 - (2 sum(p g) + 1e-5)/(sum p + sum g + 1e-5); mean",
         quirk="MONAI skips softmax on a single channel, so the Dice is taken on unactivated logits (the loss can leave [0,1]); logits are drawn in [-0.25, 1.25] to keep it well conditioned."),
    dict(cat=2, peer="monai", call=M + "DiceCELoss(softmax=True, to_onehot_y=True)", layout="dense", shape=[2, 1, 4, 4, 3], logits="unit", act="mixed",
         desc="one channel: softmax and to_onehot_y skipped; Dice part on raw logits (1 - (2I+1e-5)/(P+G+1e-5) per sample, mean); CE part is BCEWithLogits(logit, g) mean (C=1 routes to BCE); loss = Dice + BCE",
         quirk="Single-channel softmax is ignored: the Dice term sees raw logits while the BCE term applies a sigmoid to the same logits."),
    dict(cat=2, peer="monai", call=M + "GeneralizedDiceLoss(softmax=True, w_type='simple')", layout="dense", shape=[1, 1, 8, 8], logits="unit", act="none",
         desc="one channel: softmax skipped, p = raw logit; w = 1/G; loss = 1 - (2 w I + 1e-5)/(w (P + G) + 1e-5)",
         quirk="Single-channel softmax is ignored; the generalized Dice is taken on raw logits."),
    dict(cat=2, peer="monai", call=M + "TverskyLoss(softmax=True, alpha=0.3, beta=0.7)", layout="dense", shape=[3, 1, 5, 5], logits="unit", empty=[2], act="none",
         desc="one channel: softmax skipped, p = raw logit; per sample 1 - (TP+1e-5)/(TP + 0.3 FP + 0.7 FN + 1e-5) with FP=sum(p(1-g)), FN=sum((1-p)g); mean",
         quirk="Single-channel softmax is ignored; Tversky on raw logits."),
    dict(cat=2, peer="monai", call=M + "DiceFocalLoss(softmax=True, to_onehot_y=True, gamma=2.0)", layout="dense", shape=[2, 1, 6, 6], logits="unit", act="mixed",
         desc="one channel: softmax and to_onehot_y skipped; Dice on raw logits (mean over samples) + sigmoid focal (gamma 2, no alpha) on the logits, mean over all elements",
         quirk="Single-channel softmax is ignored by the Dice term only; the focal term is always sigmoid-based."),
    dict(cat=2, peer="monai", call=M + "MCCLoss(softmax=True)", layout="dense", shape=[2, 1, 6, 6], logits="unit", act="none",
         desc="one channel: softmax skipped, p = raw logit; per sample TP=sum(pg), TN=sum((1-p)(1-g)), FP=sum(p(1-g)), FN=sum((1-p)g); value = 1 - (TP TN - FP FN + 0)/sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN) + 1e-5) (smooth_nr 0, smooth_dr 1e-5; value 0 where FP = FN = 0); mean",
         quirk="Single-channel softmax is ignored; MCC on raw logits."),
    dict(cat=2, peer="monai", call=M + "DiceLoss(sigmoid=True, include_background=False)", layout="dense", shape=[2, 1, 6, 6], empty=[1], act="sigmoid",
         desc="one channel: include_background=False is ignored (warning), the only channel is scored; per sample 1 - (2I+1e-5)/(P+G+1e-5); mean"),
    dict(cat=2, peer="monai", call=M + "GeneralizedDiceLoss(sigmoid=True, include_background=False)", layout="dense", shape=[2, 1, 4, 4, 3], act="sigmoid",
         desc="one channel kept despite include_background=False; w = 1/G^2 per sample; per sample 1 - (2 w I + 1e-5)/(w (P+G) + 1e-5); mean"),
    dict(cat=2, peer="monai", call=M + "TverskyLoss(sigmoid=True, include_background=False, alpha=0.7, beta=0.3)", layout="dense", shape=[3, 1, 5, 5], act="sigmoid",
         desc="one channel kept; per sample 1 - (TP+1e-5)/(TP + 0.7 FP + 0.3 FN + 1e-5); mean"),
    dict(cat=2, peer="monai", call=M + "FocalLoss(include_background=False, gamma=2.0, alpha=0.25)", layout="dense", shape=[2, 1, 6, 6], logits="saturated", act="sigmoid",
         desc="one channel kept; sigmoid focal alpha_t (1-p_t)^2 (-log p_t), alpha_t = 0.25 for g=1 and 0.75 for g=0; mean over all elements"),
    dict(cat=2, peer="monai", call=M + "DiceCELoss(sigmoid=True, include_background=False, lambda_dice=0.6, lambda_ce=0.4)", layout="dense", shape=[2, 1, 6, 6], act="sigmoid",
         desc="one channel kept; 0.6 * Dice(sigmoid, per sample, mean) + 0.4 * BCEWithLogits mean"),
    dict(cat=2, peer="monai", call=M + "DiceFocalLoss(sigmoid=True, include_background=False, gamma=1.5, alpha=0.25)", layout="dense", shape=[2, 1, 4, 4, 3], empty=[0], act="sigmoid",
         desc="one channel kept; Dice(sigmoid, per sample, mean) + sigmoid focal (gamma 1.5, alpha 0.25) mean"),
    dict(cat=2, peer="monai", call=M + "HausdorffDTLoss(sigmoid=True, include_background=False)", layout="dense", shape=[2, 1, 8, 8], act="sigmoid",
         desc="one channel kept; p = sigmoid; per sample: d_p = EDT(p>0.5)+EDT(p<=0.5) and d_g likewise from g (0 if the mask is all one value); value = mean over voxels of (p-g)^2 (d_p^2 + d_g^2); mean over samples; distance fields carry no gradient"),
    dict(cat=2, peer="monai", call=M + "HausdorffDTLoss(sigmoid=True, include_background=False, alpha=1.0, batch=True)", layout="dense", shape=[2, 1, 6, 6, 4], empty=[1], act="sigmoid",
         desc="one channel kept; alpha 1: distance weight d_p + d_g; mean over batch and voxels of (p-g)^2 (d_p + d_g); an all-zero target gives d_g = 0 for that sample"),
    # 3. class weights inside MONAI composites
    dict(cat=3, peer="monai", call=M + "DiceCELoss(sigmoid=True, weight=[3.0])", layout="dense", shape=[2, 1, 6, 6], act="sigmoid",
         desc="C=1: Dice(sigmoid) ignores the class weight (one class); CE part is BCEWithLogits(pos_weight=3.0): mean of -(3 g log s + (1-g) log(1-s)); loss = Dice + BCE"),
    dict(cat=3, peer="monai", call=M + "DiceCELoss(sigmoid=True, include_background=False, weight=[2.0])", layout="dense", shape=[3, 1, 5, 5], logits="saturated", act="sigmoid",
         desc="C=1: include_background=False ignored; Dice gets weight[1:] (empty) and is unweighted; BCEWithLogits(pos_weight=2.0) mean"),
    dict(cat=3, peer="monai", call=M + "DiceCELoss(sigmoid=True, weight=[0.5, 2.0, 1.0])", layout="dense", shape=[2, 3, 6, 6], act="mixed",
         desc="Dice: sigmoid, per (b,c) value times w_c, mean over (b,c). CE: C>1 routes to torch CrossEntropyLoss(weight=w) with the multi-hot target as class PROBABILITIES: per voxel -sum_c w_c g_c log_softmax(x)_c, mean over the B*voxels positions; loss = Dice + CE",
         quirk="With sigmoid=True and C>1, DiceCELoss's CE term is a SOFTMAX cross entropy over channels with the multi-hot target used as soft class probabilities (not a per-channel BCE); the weight is CE's class weight, and the 'mean' divides by the voxel count, not by the sum of weights."),
    dict(cat=3, peer="monai", call=M + "DiceCELoss(sigmoid=True, include_background=False, weight=[0.5, 2.0, 1.0], lambda_ce=0.5)", layout="dense", shape=[2, 3, 4, 4, 3], empty=[1], act="mixed",
         desc="Dice: sigmoid, channels 1..2 with weights weight[1:]=[2,1]; CE: softmax CrossEntropyLoss(weight=[0.5,2,1]) over ALL channels with the multi-hot target as probabilities, mean over positions; loss = Dice + 0.5 CE",
         quirk="As the previous case: softmax CE on a multi-hot target; include_background=False affects the Dice term only."),
    dict(cat=3, peer="monai", call=M + "DiceFocalLoss(sigmoid=True, weight=[0.5, 2.0, 1.0], gamma=2.0)", layout="dense", shape=[2, 3, 6, 6], act="sigmoid",
         desc="Dice: sigmoid, value_bc * w_c, mean over (b,c). Focal: sigmoid focal gamma 2 per element times w_c, mean over all elements (B*C*voxels). loss = Dice + Focal"),
    dict(cat=3, peer="monai", call=M + "DiceFocalLoss(softmax=True, to_onehot_y=True, include_background=False, weight=[1.0, 2.0, 0.5], gamma=1.0, alpha=0.25)", layout="b1", shape=[2, 4, 5, 5], absent=[(0, 2)], act="mixed",
         desc="C=4, background dropped in both terms, weights for classes 1..3. Dice: softmax over all 4 channels, one-hot labels, channels 1..3, value_bc * w_c, mean. Focal: SIGMOID focal (gamma 1, alpha 0.25) on logits of channels 1..3 vs one-hot, times w_c, mean over B*3*voxels",
         notes="DiceFocalLoss never passes use_softmax to FocalLoss: the focal term is sigmoid-based even with softmax=True."),
    dict(cat=3, peer="monai", call=M + "DiceFocalLoss(sigmoid=True, weight=2.0, gamma=1.0, lambda_dice=0.5)", layout="dense", shape=[2, 1, 4, 4, 3], act="sigmoid",
         desc="C=1 with a scalar weight: Dice ignores it (one class); focal elements times 2.0; loss = 0.5 Dice + Focal mean",
         notes="A per-class weight list with one channel raises in MONAI FocalLoss ('Per-class class_weight is not supported for single-channel outputs'); a scalar is accepted."),
    dict(cat=3, peer="monai", call=M + "GeneralizedDiceFocalLoss(sigmoid=True, weight=[0.5, 2.0, 1.0], gamma=2.0)", layout="dense", shape=[2, 3, 6, 6], act="sigmoid",
         desc="GDL (sigmoid, w_type square, per sample) is unweighted; the weight only scales the sigmoid focal term per channel: mean over elements of w_c * focal; loss = GDL + Focal"),
    dict(cat=3, peer="monai", call=M + "GeneralizedDiceFocalLoss(softmax=True, to_onehot_y=True, include_background=False, weight=[2.0, 0.5], lambda_focal=2.0)", layout="b1", shape=[3, 3, 5, 5], absent=[(2, 1)], act="mixed",
         desc="GDL: softmax, one-hot, channels 1..2, square weights, no class weight. Focal: SIGMOID focal gamma 2 on channels 1..2, times weight [2,0.5], mean; loss = GDL + 2 Focal",
         notes="Class 1 is absent from sample 2: its GDL weight 1/G^2 is infinite and is replaced by the largest finite weight of that sample. GeneralizedDiceFocalLoss passes to_onehot_y to FocalLoss but never use_softmax."),
    # 4. kornia focal with weight / pos_weight / ignore entries
    dict(cat=4, peer="kornia", call=K + "BinaryFocalLossWithLogits(alpha=0.25, gamma=2.0, reduction='mean', weight=[0.5, 2.0, 1.0], ignore_index=-100)", layout="dense", shape=[2, 3, 6, 6], ignore=-100, ignore_frac=0.1, act="sigmoid",
         desc="per element: pos = -alpha (1-p)^2 t log p, neg = -(1-alpha) p^2 (1-t) log(1-p) with p = sigmoid; entries with t = -100: t set to 0 and log p, log(1-p) multiplied by 0 (term 0, gradient 0); element loss = w_c (pos + neg); mean over ALL B*C*voxels entries, ignored ones included"),
    dict(cat=4, peer="kornia", call=K + "BinaryFocalLossWithLogits(alpha=None, gamma=1.5, reduction='sum', pos_weight=[2.0, 0.5], weight=[1.0, 3.0], ignore_index=-100)", layout="dense", shape=[2, 2, 4, 4, 3], ignore=-100, ignore_frac=0.15, act="sigmoid",
         desc="no alpha; element loss = w_c (pw_c * pos + neg) with pos = -(1-p)^1.5 t log p, neg = -p^1.5 (1-t) log(1-p); ignored entries 0; sum"),
    dict(cat=4, peer="kornia", call=K + "BinaryFocalLossWithLogits(alpha=0.75, gamma=0.0, reduction='mean', pos_weight=[3.0], weight=[2.0], ignore_index=-100)", layout="dense", shape=[3, 1, 8, 8], ignore=-100, ignore_frac=0.1, logits="saturated", act="sigmoid",
         desc="gamma 0: element = 2.0 * (0.75 * 3.0 * (-t log p) + 0.25 * (-(1-t) log(1-p))); ignored entries 0 but counted; mean over all entries"),
    dict(cat=4, peer="kornia", call=K + "FocalLoss(alpha=0.25, gamma=2.0, reduction='mean', weight=[0.5, 1.0, 2.0], ignore_index=255)", layout="b", shape=[2, 3, 6, 6], ignore=255, ignore_frac=0.15, act="softmax",
         desc="logits of ignored pixels set to 0 before log_softmax; per pixel and class: w_c * alpha_c * -(1-p_c)^2 log p_c * onehot_c with alpha_0 = 0.75, alpha_c = 0.25 (c >= 1); ignored pixels 0; mean over ALL B*C*pixels entries (C times the pixel count, ignored pixels included)"),
    dict(cat=4, peer="kornia", call=K + "FocalLoss(alpha=None, gamma=1.0, reduction='sum', weight=[1.0, 2.0, 3.0, 0.5], ignore_index=-100)", layout="b", shape=[2, 4, 4, 4, 3], ignore=-100, ignore_frac=0.1, act="softmax",
         desc="3D; no alpha; sum over pixels of w_t * -(1-p_t) log p_t at the target class t; ignored pixels 0"),
    dict(cat=4, peer="kornia", call=K + "FocalLoss(alpha=0.5, gamma=2.0, reduction='mean', weight=[2.0, 1.0], ignore_index=-100)", layout="b", shape=[3, 2, 6, 6], ignore=-100, ignore_frac=0.2, logits="saturated", act="softmax",
         desc="two classes, alpha 0.5 for both; weighted softmax focal at the target class; mean over B*2*pixels entries"),
    # 5. nnU-Net SoftDiceLoss clip_tp
    dict(cat=5, peer="nnunet", call=N + "SoftDiceLoss(apply_nonlin=softmax_helper_dim1, batch_dice=False, do_bg=True, smooth=1e-05, ddp=False, clip_tp=3.0)", layout="b1", shape=[2, 3, 6, 6], absent=[(0, 2)], act="softmax",
         desc="softmax; per (b,c): tp=sum(p g), fp=sum(p(1-g)), fn=sum((1-p)g); tp <- max(tp, 3.0); dc = (2tp + 1e-5)/max(2tp + fp + fn + 1e-5, 1e-8); loss = -mean over (b,c)",
         notes="nnU-Net returns the negative Dice. clip_tp only replaces tp (numerator and the 2tp of the denominator); fp and fn keep their values. Where the clip is active the gradient of tp is 0."),
    dict(cat=5, peer="nnunet", call=N + "SoftDiceLoss(apply_nonlin=torch.sigmoid, batch_dice=True, do_bg=False, smooth=1.0, ddp=False, clip_tp=6.0)", layout="dense", shape=[2, 3, 5, 5], empty=[1], act="sigmoid",
         desc="sigmoid; sums over batch and space per class; tp <- max(tp, 6.0); dc = (2tp + 1)/max(2tp + fp + fn + 1, 1e-8); channel 0 dropped (do_bg=False); loss = -mean over classes 1..C-1"),
    dict(cat=5, peer="nnunet", call=N + "SoftDiceLoss(apply_nonlin=softmax_helper_dim1, batch_dice=True, do_bg=True, smooth=0.0, ddp=False, clip_tp=0.5)", layout="b1", shape=[2, 4, 4, 4, 3], absent=[(0, 3), (1, 3)], act="softmax",
         desc="softmax; batch sums; class 3 absent from the batch so its tp is small and clipped up to 0.5; dc = 2tp/max(2tp+fp+fn, 1e-8); loss = -mean over the 4 classes"),
    dict(cat=5, peer="nnunet", call=N + "SoftDiceLoss(apply_nonlin=softmax_helper_dim1, batch_dice=False, do_bg=False, smooth=1e-05, ddp=False, clip_tp=2.0)", layout="b1", shape=[2, 3, 6, 6], extras={"weight_map": "loss_mask"}, forward="loss(logits, target, loss_mask=weight_map)", act="softmax",
         desc="softmax; per voxel tp, fp, fn terms multiplied by the [B,1,...] loss_mask before the spatial sums; tp <- max(tp, 2.0); dc per (b,c); channel 0 dropped; loss = -mean"),
    dict(cat=5, peer="nnunet", call=N + "SoftDiceLoss(apply_nonlin=torch.sigmoid, batch_dice=False, do_bg=True, smooth=1e-05, ddp=False, clip_tp=4.0)", layout="dense", shape=[3, 2, 5, 5], logits="saturated", empty=[2], act="sigmoid",
         desc="sigmoid; per (b,c) sums; tp <- max(tp, 4.0); dc = (2tp + 1e-5)/max(2tp + fp + fn + 1e-5, 1e-8); loss = -mean over (b,c)"),
    # 6. torch element-wise BCE weights, CE class weight / ignore / smoothing
    dict(cat=6, peer="torch", call=T + "BCEWithLogitsLoss(weight=weight_map)", layout="dense", shape=[2, 3, 6, 6], extras={"weight_map": "full"}, act="sigmoid",
         desc="element loss = weight_map[b,c,...] * -(g log s + (1-g) log(1-s)), s = sigmoid; mean over all B*C*voxels elements (not divided by the weight sum)",
         notes="weight_map is the constructor's `weight` tensor, full shape [B,C,spatial]; it is an extra input, not a list."),
    dict(cat=6, peer="torch", call=T + "BCEWithLogitsLoss(weight=weight_map)", layout="dense", shape=[2, 3, 4, 4, 3], extras={"weight_map": "b1"}, act="sigmoid",
         desc="weight_map [B,1,spatial] broadcast over channels; element loss = w[b,0,...] * BCE; mean over all elements",
         notes="weight_map is the constructor's `weight` tensor, shape [B,1,spatial], broadcast over C."),
    dict(cat=6, peer="torch", call=T + "BCEWithLogitsLoss(weight=weight_map, pos_weight=pos_weight, reduction='sum')", layout="dense", shape=[2, 2, 6, 6], extras={"weight_map": "full", "pos_weight": "c11"}, act="sigmoid",
         desc="element loss = w * -(pw_c g log s + (1-g) log(1-s)); pos_weight has shape [C,1,1] so it is per channel; sum",
         notes="weight_map ([B,C,spatial]) and pos_weight ([C,1,1]) are constructor tensors given in extra_inputs. A pos_weight of shape [C] would broadcast along the LAST spatial axis, not along C."),
    dict(cat=6, peer="torch", call=T + "BCEWithLogitsLoss(weight=weight_map, pos_weight=[2.0])", layout="dense", shape=[3, 1, 8, 8], extras={"weight_map": "b1"}, logits="saturated", act="sigmoid",
         desc="element loss = w * -(2 g log s + (1-g) log(1-s)); mean over all elements"),
    dict(cat=6, peer="torch", call=T + "CrossEntropyLoss(weight=[0.5, 1.0, 3.0], ignore_index=255, label_smoothing=0.1, reduction='sum')", layout="b", shape=[2, 3, 6, 6], ignore=255, ignore_frac=0.15, act="softmax",
         desc="lp = log_softmax; over non-ignored pixels: (1-0.1) * sum_i -w_{t_i} lp_{t_i} + (0.1/C) * sum_i sum_c -w_c lp_c; sum reduction (no normalisation)"),
    dict(cat=6, peer="torch", call=T + "CrossEntropyLoss(weight=[0.2, 1.0, 2.0, 0.7], label_smoothing=0.2)", layout="b", shape=[2, 4, 4, 4, 3], absent=[(1, 2)], act="softmax",
         desc="mean: (1-0.2) * sum_i -w_{t_i} lp_{t_i} / sum_i w_{t_i} + (0.2/C) * sum_i sum_c -w_c lp_c / sum_i w_{t_i}: both parts divided by the summed weight of the target classes"),
    dict(cat=6, peer="torch", call=T + "CrossEntropyLoss(weight=[1.0, 2.0, 0.5], ignore_index=0, label_smoothing=0.05)", layout="b", shape=[3, 3, 5, 5], act="softmax",
         desc="ignore_index = 0 is a valid class: background pixels leave both terms and the normaliser; mean = [(0.95) sum -w_t lp_t + (0.05/3) sum_c -w_c lp_c] / sum w_t over pixels with label != 0"),
    dict(cat=6, peer="torch", call=T + "CrossEntropyLoss(reduction='sum', label_smoothing=0.1)", layout="b", shape=[2, 3, 6, 6], logits="saturated", act="softmax",
         desc="no weight: sum over pixels of 0.9 * -lp_t + (0.1/3) * sum_c -lp_c"),
    # 7. smp Lovasz
    dict(cat=7, peer="smp", call=S + "LovaszLoss(mode='multilabel', per_image=False)", layout="dense", shape=[2, 3, 6, 6], logits="unique", act="none",
         desc="Lovasz hinge over ONE flat vector of all B*C*voxels entries (channels and samples pooled): e = 1 - x (2g-1); sort e descending; grad_i = Jaccard increments of the sorted labels (G = number of positives, I_k = G - cumsum g, U_k = G + cumsum(1-g), J_k = 1 - I_k/U_k, grad = J_k - J_{k-1}); loss = sum relu(e_sorted) * grad",
         notes="Logits have pairwise distinct absolute values (and none equals 1), so the sort has no ties and the subgradient is unique."),
    dict(cat=7, peer="smp", call=S + "LovaszLoss(mode='multilabel', per_image=True)", layout="dense", shape=[3, 2, 5, 5], logits="unique", empty=[1], act="none",
         desc="one Lovasz hinge per sample over its flattened C*voxels entries (channels pooled within the sample); loss = mean over samples",
         notes="Distinct |logits|: no ties in the sort."),
    dict(cat=7, peer="smp", call=S + "LovaszLoss(mode='multilabel', per_image=False, ignore_index=-1)", layout="dense", shape=[2, 2, 4, 4, 3], ignore=-1, ignore_frac=0.1, logits="unique", act="none",
         desc="entries whose target is -1 are removed from the flat vector; one Lovasz hinge over the remaining B*C*voxels entries",
         notes="Distinct |logits|: no ties in the sort."),
    dict(cat=7, peer="smp", call=S + "LovaszLoss(mode='binary', per_image=False, ignore_index=255)", layout="dense", shape=[2, 1, 8, 8], ignore=255, ignore_frac=0.1, logits="unique", act="none",
         desc="binary: one Lovasz hinge over all B*voxels entries except those with target 255",
         notes="Distinct |logits|: no ties in the sort."),
    dict(cat=7, peer="smp", call=S + "LovaszLoss(mode='multilabel', per_image=True, ignore_index=-1)", layout="dense", shape=[2, 3, 5, 5], ignore=-1, ignore_frac=0.1, logits="saturated_unique", act="none",
         desc="per sample Lovasz hinge over the sample's non-ignored C*voxels entries; mean over samples",
         notes="Near-saturated logits with distinct absolute values: no ties in the sort."),
    # 8. MONAI MaskedDiceLoss
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(softmax=True, to_onehot_y=True)", layout="b1", shape=[2, 3, 6, 6], extras={"mask": "mask"}, forward="loss(logits, target, mask=mask)", act="softmax",
         desc="p = softmax(logits) FIRST; then p * mask and LABELS * mask (before one-hot): masked voxels get label 0; one-hot; per (b,c) Dice 1 - (2I+1e-5)/(P+G+1e-5) with all channels; mean",
         quirk="The mask multiplies the class-index target before one-hot encoding, so every masked voxel becomes a background (class 0) target with p = 0: with include_background=True each masked voxel is a background false negative."),
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(softmax=True, to_onehot_y=True, include_background=False)", layout="b1", shape=[2, 4, 4, 4, 3], extras={"mask": "mask"}, forward="loss(logits, target, mask=mask)", act="softmax",
         desc="softmax; p*mask; labels*mask (masked -> class 0); one-hot; channel 0 dropped, so masked voxels have p = g = 0 in every scored channel; per (b,c) Dice; mean"),
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(sigmoid=True, include_background=False, batch=True)", layout="dense", shape=[2, 3, 6, 6], extras={"mask": "mask"}, forward="loss(logits, target, mask=mask)", act="sigmoid",
         desc="p = sigmoid(logits); p*mask, g*mask (multi-hot); channel 0 dropped; batch+space sums per class; Dice; mean over classes 1..2"),
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(sigmoid=True, to_onehot_y=True)", layout="b1", shape=[2, 3, 5, 5], extras={"mask": "mask"}, forward="loss(logits, target, mask=mask)", act="sigmoid",
         desc="p = sigmoid; p*mask; labels*mask (masked -> class 0); one-hot; all channels; per (b,c) Dice; mean",
         quirk="As with softmax: masked voxels become class-0 targets with p = 0, i.e. background false negatives."),
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(softmax=True, to_onehot_y=True, include_background=False, weight=[2.0, 0.5], jaccard=True)", layout="b1", shape=[3, 3, 5, 5], extras={"mask": "mask_empty_last"}, forward="loss(logits, target, mask=mask)", act="softmax",
         desc="softmax; p*mask; labels*mask; one-hot; channels 1..2; Jaccard form: value = 1 - (2TP + 1e-5)/(2(TP+FP+FN) + 1e-5); value times w_c; mean over (b,c); sample 2 is fully masked (value 0 for it)"),
    dict(cat=8, peer="monai", call=M + "MaskedDiceLoss(softmax=True)", layout="b1", shape=[2, 3, 6, 6], extras={"mask": "mask"}, forward="loss(logits, one_hot(target), mask=mask)", act="softmax",
         desc="target passed already one-hot ([B,C,...], one_hot(target) = MONAI one-hot of the labels); p = softmax; p*mask and onehot*mask (a masked voxel has g = 0 in every channel); per (b,c) Dice, all channels; mean"),
    # 9. smp focal normalized / reduced_threshold, kornia micro Dice with weight
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='binary', normalized=True, gamma=2.0)", layout="dense", shape=[2, 1, 8, 8], act="sigmoid",
         desc="bce_i = BCEWithLogits, pt = exp(-bce); f_i = (1-pt)^2; loss = mean_i(f_i bce_i / sum_j f_j) = sum f bce / (N * sum f) (normaliser not detached)"),
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='multiclass', normalized=True, alpha=0.25, ignore_index=255)", layout="b", shape=[2, 3, 6, 6], ignore=255, ignore_frac=0.15, act="sigmoid",
         desc="per class c: binary focal on sigmoid(x_c) vs (label == c) over non-ignored pixels, alpha_t = 0.25 g + 0.75(1-g), normalised: sum(alpha f bce)/(N_c sum f); loss = mean over classes"),
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='multilabel', normalized=True, gamma=1.5)", layout="dense", shape=[2, 3, 4, 4, 3], act="sigmoid",
         desc="per channel c: sum(f bce)/(N sum f) with f = (1-pt)^1.5 over that channel's B*voxels entries; mean over channels"),
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='binary', reduced_threshold=0.5, gamma=2.0, reduction='sum')", layout="dense", shape=[2, 1, 8, 8], act="sigmoid",
         desc="f = ((1-pt)/0.5)^2 where pt >= 0.5, f = 1 where pt < 0.5; loss = sum f * bce"),
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='multiclass', reduced_threshold=0.5, gamma=2.0, class_weights=[0.5, 1.0, 2.0])", layout="b", shape=[2, 3, 6, 6], logits="saturated", act="sigmoid",
         desc="per class c: mean over pixels of f*bce on sigmoid(x_c) vs (label == c), f = ((1-pt)/0.5)^2 if pt >= 0.5 else 1; loss = sum_c w_c L_c / sum_c w_c"),
    dict(cat=9, peer="smp", call=S + "FocalLoss(mode='multilabel', reduced_threshold=0.5, gamma=1.0, alpha=0.25)", layout="dense", shape=[3, 2, 5, 5], act="sigmoid",
         desc="per channel: mean of alpha_t * f * bce, f = (1-pt)/0.5 if pt >= 0.5 else 1; mean over channels"),
    dict(cat=9, peer="kornia", call=K + "DiceLoss(average='micro', weight=[0.5, 1.0, 2.0])", layout="b", shape=[2, 3, 6, 6], act="softmax",
         desc="per sample: I = sum_{c,pixels} w_c p_c t_c, Card = sum_{c,pixels} w_c (p_c + t_c); loss_b = 1 - 2I/(Card + 1e-8); mean over samples"),
    dict(cat=9, peer="kornia", call=K + "DiceLoss(average='micro', weight=[1.0, 0.25, 2.0, 4.0], ignore_index=255)", layout="b", shape=[2, 4, 5, 5], ignore=255, ignore_frac=0.15, absent=[(0, 3)], act="softmax",
         desc="ignored pixels: p and t set to 0 in every class; per sample I = sum w_c p_c t_c, Card = sum w_c (p_c + t_c) over the rest; 1 - 2I/(Card + 1e-8); mean over samples"),
    dict(cat=9, peer="kornia", call=K + "DiceLoss(average='micro', eps=1e-06, weight=[2.0, 0.5], ignore_index=-100)", layout="b", shape=[3, 2, 8, 8], ignore=-100, ignore_frac=0.1, ignore_all=[2], logits="saturated", act="softmax",
         desc="as above with eps 1e-6; sample 2 is entirely ignored: Card = 0 so its Dice is set to 0 (loss 1, zero gradient); mean over the 3 samples"),
]


def tensorize(call):
    """Peers want tensors for per-class lists: weight=[..] / pos_weight=[..] -> torch.tensor([..])."""
    return re.sub(r"(?<![A-Za-z_])(weight|pos_weight)=(\[[^\]]*\])", r"\1=torch.tensor(\2)", call)


def family(call):
    name = call.split("(")[0].rsplit(".", 1)[1]
    return {
        "DiceLoss": "dice", "MaskedDiceLoss": "masked_dice", "GeneralizedDiceLoss": "generalized_dice",
        "TverskyLoss": "tversky", "FocalLoss": "focal", "DiceFocalLoss": "dice+focal", "DiceCELoss": "dice+ce",
        "GeneralizedDiceFocalLoss": "generalized_dice+focal", "LovaszLoss": "lovasz", "CrossEntropyLoss": "ce",
        "BCEWithLogitsLoss": "bce", "SoftDiceLoss": "dice", "MCCLoss": "mcc", "HausdorffDTLoss": "hausdorff_dt",
        "BinaryFocalLossWithLogits": "focal",
    }[name]


def q(a):
    """Round to multiples of 1/1024 (exact in f32 and f64)."""
    return np.round(np.asarray(a) * 1024) / 1024


def make_labels(rng, b, c, spatial, absent):
    labels = rng.integers(0, c, size=[b] + spatial)
    for s in range(b):
        gone = {k for (bb, k) in absent if bb == s}
        keep = [k for k in range(c) if k not in gone]
        sel = np.isin(labels[s], list(gone))
        labels[s][sel] = rng.choice(keep, size=int(sel.sum()))
    return labels


def saturated(rng, shape, hot):
    """hot: [B,C,...] 0/1 'correct' pattern; 20% of voxels get a confidently wrong pattern."""
    sign = 2.0 * hot - 1.0
    wrong = rng.random(shape) < 0.2
    sign = np.where(wrong, -sign, sign)
    return q(sign * (30 + rng.uniform(-2, 2, size=shape)))


def unique_abs(rng, x):
    """Make |x| pairwise distinct and != 1 (no ties in a Lovasz sort, no hinge kink)."""
    x = x.copy().ravel()
    while True:
        a = np.abs(x)
        _, idx, counts = np.unique(a, return_index=True, return_counts=True)
        dup = np.ones(x.size, bool)
        dup[idx] = False
        dup |= a == 1.0
        if not dup.any():
            return x
        x[dup] += np.sign(x[dup] + 1e-9) * rng.integers(1, 64, size=int(dup.sum())) / 1024


def build(case, seed):
    rng = np.random.default_rng(seed)
    shape, layout = case["shape"], case["layout"]
    b, c, spatial = shape[0], shape[1], shape[2:]
    ignore, conds = case.get("ignore"), []
    absent, empty = case.get("absent", []), case.get("empty", [])
    if layout == "dense":
        hot = (rng.random(shape) < 0.3).astype(np.int64)
        for s in empty:
            hot[s] = 0
        target = hot.copy()
        if ignore is not None:
            target[rng.random(shape) < case.get("ignore_frac", 0.1)] = ignore
        tshape = list(shape)
        encoding = "multi_hot"
        sat_hot = hot
    else:
        labels = make_labels(rng, b, c, spatial, absent)
        if ignore is not None:
            labels[rng.random(labels.shape) < case.get("ignore_frac", 0.1)] = ignore
            for s in case.get("ignore_all", []):
                labels[s] = ignore
        target = labels[:, None] if layout == "b1" else labels
        tshape, encoding = list(target.shape), "class_index"
        sat_hot = (np.arange(c).reshape([1, c] + [1] * len(spatial)) == np.where(labels == ignore, 0, labels)[:, None]).astype(float)
    style = case.get("logits", "normal")
    if style.startswith("saturated"):
        logits = saturated(rng, shape, sat_hot)
        conds.append(SAT)
    elif style == "unit":
        logits = q(rng.uniform(-0.25, 1.25, size=shape))
        conds.append("logits in [-0.25, 1.25] (used unactivated by the peer)")
    else:
        logits = q(rng.normal(0, 2, size=shape))
    if style in ("unique", "saturated_unique"):
        logits = unique_abs(rng, logits).reshape(shape)
    # data conditions
    if layout == "dense":
        valid = target != ignore if ignore is not None else np.ones(shape, bool)
        pos = (target == 1) & valid
        for s in range(b):
            if not pos[s].any():
                conds.append(f"sample {s} has an all-zero target")
            else:
                for k in range(c):
                    if c > 1 and not pos[s, k].any():
                        conds.append(f"channel {k} of sample {s} is empty")
    else:
        lab = labels
        for s in range(b):
            if s in case.get("ignore_all", []):
                continue
            for k in range(c):
                if not (lab[s] == k).any():
                    conds.append(f"class {k} absent from sample {s}")
    if ignore is not None:
        frac = float(np.mean(target == ignore))
        conds.append(f"about {round(100 * frac)}% of {'target entries' if layout == 'dense' else 'voxels'} carry the ignore value {ignore}")
        for s in case.get("ignore_all", []):
            conds.append(f"every voxel of sample {s} carries the ignore value")
    extras = {}
    for name, kind in case.get("extras", {}).items():
        if kind in ("mask", "mask_empty_last"):
            v = (rng.random([b, 1] + spatial) < 0.7).astype(np.float64)
            if kind == "mask_empty_last":
                v[-1] = 0
                conds.append(f"sample {b - 1} is fully masked out (mask all 0)")
            conds.append(f"about {round(100 * (1 - v.mean()))}% of voxels masked out (mask 0)")
            extras[name] = (v, "0/1 mask [B,1,spatial]: 1 = voxel used, 0 = voxel excluded")
        elif kind == "loss_mask":
            extras[name] = (q(0.25 + 2.75 * rng.random([b, 1] + spatial)), "per-voxel weight [B,1,spatial] (nnU-Net loss_mask)")
        elif kind == "full":
            extras[name] = (q(0.25 + 3.75 * rng.random(shape)), "element-wise weight [B,C,spatial]: the constructor's `weight` tensor")
        elif kind == "b1":
            extras[name] = (q(0.25 + 3.75 * rng.random([b, 1] + spatial)), "element-wise weight [B,1,spatial] broadcast over C: the constructor's `weight` tensor")
        elif kind == "c11":
            extras[name] = (q(0.5 + 2.5 * rng.random([c] + [1] * len(spatial))), "per-channel pos_weight [C,1,...,1]: the constructor's `pos_weight` tensor")
    return logits, target, tshape, encoding, extras, conds


def target_tensor(case, target, dtype):
    t = torch.tensor(target)
    if case["layout"] == "dense" and case["peer"] != "smp":
        t = t.to(dtype)
    return t


def run(case, logits, target, extras, dtype, patch):
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        x = torch.tensor(logits, dtype=dtype, requires_grad=True)
        t = target_tensor(case, target, dtype)
        env = {name: torch.tensor(v, dtype=dtype) for name, (v, _) in extras.items()}
        with float64_casts() if patch else contextlib.nullcontext():
            loss_fn = eval(tensorize(case["call"]), globals(), dict(env))
            env.update(loss=loss_fn, logits=x, target=t, one_hot=lambda y: monai_one_hot(y, num_classes=x.shape[1]))
            value = eval(case.get("forward", "loss(logits, target)"), globals(), env)
        value.backward()
        return float(value), x.grad.detach().numpy().astype(np.float64)
    finally:
        torch.set_default_dtype(prev)


def versions():
    return {"monai": monai.__version__, "smp": segmentation_models_pytorch.__version__, "kornia": kornia.__version__,
            "nnunet": version("nnunetv2"), "torch": torch.__version__}


def main(out):
    cases = []
    for k, case in enumerate(CASES):
        seed = SEED + k
        logits, target, tshape, encoding, extras, conds = build(case, seed)
        loss, grad = run(case, logits, target, extras, torch.float64, True)
        loss32, _ = run(case, logits, target, extras, torch.float32, False)
        if not (np.isfinite(loss) and np.isfinite(grad).all()):
            raise SystemExit(f"case {k}: non-finite peer result for {case['call']}")
        notes = " ".join(n for n in (case.get("quirk", ""), case.get("notes", "")) if n)
        cases.append({
            "id": f"parity-{k + 1:03d}", "category": "peer_quirk" if case.get("quirk") else "core", "peer": case["peer"],
            "peer_version": versions()[case["peer"]],
            "call": case["call"], "forward": case.get("forward", "loss(logits, target)"), "loss_family": family(case["call"]),
            "activation": case["act"], "target_encoding": encoding,
            "description": f"[parity group {case['cat']}] " + case["desc"] + f". Generated by {SCRIPT}; the call is the definition.",
            "data_conditions": conds, "notes": notes, "seed": seed, "input_shape": case["shape"],
            "logits": logits.ravel().tolist(), "target_shape": tshape, "target": np.asarray(target).ravel().astype(int).tolist(),
            "extra_inputs": {n: {"shape": list(v.shape), "values": v.ravel().tolist(), "meaning": m} for n, (v, m) in extras.items()},
            "loss": loss, "grad": grad.ravel().tolist(), "loss_float32_peer": loss32,
            "max_abs_grad": float(np.abs(grad).max()),
        })
    doc = {
        "schema": "same as shared/reference/losses_dev.json, plus: a bare identifier among a call's arguments (e.g. "
                  "weight=weight_map, pos_weight=pos_weight) names the extra_inputs entry that holds that constructor "
                  "tensor (element-wise weight map or [C,1,...] pos_weight); per-class numbers stay literal lists. "
                  "Descriptions start with '[parity group N]', the parity topic the case belongs to.",
        "generator": {"script": SCRIPT, "base_seed": SEED, "case_count": len(cases),
                      "versions": {"monai": monai.__version__, "smp": segmentation_models_pytorch.__version__,
                                   "kornia": kornia.__version__, "nnunetv2": version("nnunetv2"),
                                   "torch": torch.__version__, "numpy": np.__version__},
                      "float64_note": "Peers that cast to float32 internally (MONAI focal terms, one-hot targets and "
                                      "Hausdorff distance fields, nnU-Net's float32 sums, smp Lovasz) were run with those "
                                      "casts turned into float64 casts; loss_float32_peer is the unmodified float32 run."},
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(doc, f)
    counts = {}
    for case, rec in zip(CASES, cases):
        key = (case["cat"], rec["category"])
        counts[key] = counts.get(key, 0) + 1
    print(f"wrote {len(cases)} cases to {out}")
    for (cat, category), n in sorted(counts.items()):
        print(f"  group {cat} {category}: {n}")


def check_dev(path):
    """Replays a dev-schema file through this harness (float64 casts on) and prints the largest differences."""
    worst_loss = worst_grad = 0.0
    for c in json.load(open(path))["cases"]:
        case = {"peer": c["peer"], "call": c["call"], "forward": c["forward"],
                "layout": "dense" if c["target_encoding"].startswith("multi_hot") else "b"}
        target = np.array(c["target"]).reshape(c["target_shape"])
        extras = {n: (np.array(v["values"]).reshape(v["shape"]), "") for n, v in c["extra_inputs"].items()}
        loss, grad = run(case, np.array(c["logits"]).reshape(c["input_shape"]), target, extras, torch.float64, True)
        dl = abs(loss - c["loss"]) / max(1.0, abs(c["loss"]))
        dg = float(np.abs(grad.ravel() - np.array(c["grad"])).max()) / max(c["max_abs_grad"], 1e-300)
        worst_loss, worst_grad = max(worst_loss, dl), max(worst_grad, dg)
        print(f"{c['id']}: loss diff {dl:.1e}, grad diff {dg:.1e} (relative to max_abs_grad)")
    print(f"worst: loss {worst_loss:.1e}, grad {worst_grad:.1e}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--check-dev":
        check_dev(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "crates/dicekit-losses/tests/golden/losses_parity.json")
