#!/usr/bin/env python3
"""Writes crates/dicekit-losses/tests/golden/losses_extra.json: more peer reference cases in the
schema of shared/reference/losses_dev.json, covering option combinations the dev file does not
(background excluded with weights, focal without background, batch pooling, sum reductions, ...).

Needs: torch, monai==1.6.1, segmentation-models-pytorch==0.6.0, kornia==0.9.0, nnunetv2==2.8.1
(a virtualenv).
Run from the repository root: python3 tools/golden/extra_losses.py
Never edit the output by hand, and never regenerate it from dicekit's own values.
"""
import json
import sys

import numpy as np
import torch

import kornia
import monai
import segmentation_models_pytorch
import segmentation_models_pytorch as smp  # noqa: F401  (used by eval of the calls)
import nnunetv2
import nnunetv2.training.loss.robust_ce_loss  # noqa: F401
from nnunetv2.training.loss.compound_losses import DC_and_BCE_loss, DC_and_CE_loss, DC_and_topk_loss  # noqa: F401
from nnunetv2.training.loss.dice import MemoryEfficientSoftDiceLoss, SoftDiceLoss  # noqa: F401
from nnunetv2.utilities.helpers import softmax_helper_dim1  # noqa: F401
from importlib.metadata import version

torch.set_default_dtype(torch.float64)
SEED = 20261128

# (peer, call, forward, target_encoding, input_shape, target layout, ignore value or None, extra)
# target layout: "b1" = [B,1,...] labels, "b" = [B,...] labels, "dense" = [B,C,...] 0/1
CASES = [
    ("monai", "monai.losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=False, weight=[2.0, 0.5])", "b1", [2, 3, 6, 6], None),
    ("monai", "monai.losses.DiceLoss(softmax=True, to_onehot_y=True, include_background=False, batch=True, jaccard=True)", "b1", [2, 4, 5, 5], None),
    ("monai", "monai.losses.DiceLoss(sigmoid=True, squared_pred=True, smooth_nr=0.5, smooth_dr=0.5)", "dense", [2, 3, 5, 6], None),
    ("monai", "monai.losses.DiceLoss(softmax=True, to_onehot_y=True, batch=True, ignore_index=255, reduction='sum')", "b1", [2, 3, 4, 4, 3], 255),
    ("monai", "monai.losses.DiceLoss(sigmoid=True, batch=True, include_background=False)", "dense", [2, 3, 6, 6], None),
    ("monai", "monai.losses.GeneralizedDiceLoss(softmax=True, to_onehot_y=True, w_type='square', batch=True, include_background=False)", "b1", [3, 4, 5, 5], None),
    ("monai", "monai.losses.GeneralizedDiceLoss(sigmoid=True, w_type='simple', smooth_nr=0.0, smooth_dr=1e-3)", "dense", [2, 2, 6, 6], None),
    ("monai", "monai.losses.TverskyLoss(sigmoid=True, alpha=0.2, beta=0.8, include_background=False, smooth_nr=1.0, smooth_dr=1.0)", "dense", [2, 3, 5, 5], None),
    ("monai", "monai.losses.TverskyLoss(softmax=True, to_onehot_y=True, batch=True, reduction='sum')", "b1", [2, 3, 6, 6], None),
    ("monai", "monai.losses.FocalLoss(include_background=False, gamma=2.0, alpha=0.25)", "dense", [2, 3, 6, 6], None),
    ("monai", "monai.losses.FocalLoss(include_background=False, to_onehot_y=True, use_softmax=True, gamma=1.5)", "b1", [2, 4, 5, 5], None),
    ("monai", "monai.losses.FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0, alpha=0.75)", "b1", [2, 3, 6, 6], None),
    ("monai", "monai.losses.FocalLoss(gamma=0.5, weight=[0.5, 2.0], reduction='sum')", "dense", [2, 2, 4, 4, 3], None),
    ("monai", "monai.losses.DiceFocalLoss(softmax=True, to_onehot_y=True, include_background=False, gamma=2.0)", "b1", [2, 3, 6, 6], None),
    ("monai", "monai.losses.DiceFocalLoss(sigmoid=True, weight=[1.0, 3.0], lambda_focal=0.5)", "dense", [2, 2, 6, 6], None),
    ("monai", "monai.losses.DiceCELoss(softmax=True, to_onehot_y=True, batch=True, lambda_ce=0.5)", "b1", [2, 4, 4, 4, 3], None),
    ("monai", "monai.losses.DiceCELoss(softmax=True, to_onehot_y=True, weight=[0.5, 1.0, 2.0], label_smoothing=0.05)", "b1", [2, 3, 6, 6], None),
    ("monai", "monai.losses.GeneralizedDiceFocalLoss(sigmoid=True, w_type='square', lambda_gdl=0.5, gamma=1.0)", "dense", [2, 3, 5, 5], None),
    ("monai", "monai.losses.MaskedDiceLoss(softmax=True, to_onehot_y=True, include_background=False)", "b1", [2, 3, 6, 6], "mask"),
    ("smp", "segmentation_models_pytorch.losses.DiceLoss(mode='multilabel', log_loss=True, smooth=0.5)", "dense", [2, 3, 6, 6], None),
    ("smp", "segmentation_models_pytorch.losses.DiceLoss(mode='multiclass', classes=[0, 2], ignore_index=255)", "b", [2, 3, 6, 6], 255),
    ("smp", "segmentation_models_pytorch.losses.JaccardLoss(mode='multiclass', smooth=1.0)", "b", [2, 4, 5, 5], None),
    ("smp", "segmentation_models_pytorch.losses.JaccardLoss(mode='multilabel', classes=[1])", "dense", [2, 2, 6, 6], None),
    ("smp", "segmentation_models_pytorch.losses.TverskyLoss(mode='binary', alpha=0.7, beta=0.3, smooth=1.0)", "dense", [2, 1, 8, 8], None),
    ("smp", "segmentation_models_pytorch.losses.TverskyLoss(mode='multilabel', gamma=0.75, log_loss=True)", "dense", [2, 3, 5, 5], None),
    ("smp", "segmentation_models_pytorch.losses.FocalLoss(mode='binary', gamma=1.0, ignore_index=-1)", "dense", [2, 1, 8, 8], -1),
    ("smp", "segmentation_models_pytorch.losses.FocalLoss(mode='multiclass', alpha=0.25, gamma=2.0)", "b", [2, 3, 6, 6], None),
    ("smp", "segmentation_models_pytorch.losses.SoftCrossEntropyLoss(smooth_factor=0.2)", "b", [2, 4, 5, 5], None),
    ("kornia", "kornia.losses.DiceLoss(average='macro')", "b", [2, 3, 6, 6], None),
    ("kornia", "kornia.losses.DiceLoss(average='micro', ignore_index=255)", "b", [2, 3, 6, 6], 255),
    ("kornia", "kornia.losses.TverskyLoss(alpha=0.6, beta=0.4, ignore_index=255)", "b", [2, 3, 6, 6], 255),
    ("kornia", "kornia.losses.FocalLoss(alpha=0.25, gamma=1.5, reduction='sum')", "b", [2, 3, 5, 5], None),
    ("nnunet", "nnunetv2.training.loss.dice.SoftDiceLoss(apply_nonlin=torch.sigmoid, batch_dice=True, do_bg=True, smooth=1.0, ddp=False)", "dense", [2, 3, 6, 6], None),
    ("nnunet", "nnunetv2.training.loss.dice.MemoryEfficientSoftDiceLoss(apply_nonlin=softmax_helper_dim1, batch_dice=False, do_bg=True, smooth=1e-05, ddp=False)", "b1", [2, 3, 6, 6], "weight_map"),
    ("nnunet", "nnunetv2.training.loss.compound_losses.DC_and_CE_loss(soft_dice_kwargs={'batch_dice': True, 'smooth': 1e-05, 'do_bg': True, 'ddp': False}, ce_kwargs={}, weight_ce=0.5, weight_dice=2.0, ignore_label=None, dice_class=SoftDiceLoss)", "b1", [2, 4, 4, 4, 3], None),
    ("nnunet", "nnunetv2.training.loss.compound_losses.DC_and_BCE_loss(bce_kwargs={}, soft_dice_kwargs={'batch_dice': False, 'do_bg': True, 'smooth': 1e-05, 'ddp': False}, use_ignore_label=True, dice_class=MemoryEfficientSoftDiceLoss)", "dense+ignore", [2, 3, 6, 6], None),
    ("torch", "torch.nn.CrossEntropyLoss(weight=[0.5, 1.0, 3.0], ignore_index=255, label_smoothing=0.1)", "b", [2, 3, 6, 6], 255),
    ("torch", "torch.nn.CrossEntropyLoss(label_smoothing=0.2, ignore_index=255)", "b", [2, 4, 4, 4, 3], 255),
    ("torch", "torch.nn.BCEWithLogitsLoss(reduction='sum')", "dense", [2, 3, 5, 5], None),
    ("torch", "torch.nn.BCEWithLogitsLoss(pos_weight=[2.5])", "dense", [2, 3, 5, 5], None),
    ("monai", "monai.losses.DiceCELoss(sigmoid=True, weight=[1.0, 3.0])", "dense", [2, 2, 6, 6], None),
    # nnU-Net's top-k cross-entropy (appended: the cases above keep their random draws).
    ("nnunet", "nnunetv2.training.loss.robust_ce_loss.TopKLoss(k=10)", "b1", [2, 3, 8, 8], None),
    ("nnunet", "nnunetv2.training.loss.robust_ce_loss.TopKLoss(weight=[0.5, 1.0, 3.0], ignore_index=255, k=25, label_smoothing=0.1)", "b1", [2, 3, 6, 6], 255),
    ("nnunet", "nnunetv2.training.loss.robust_ce_loss.TopKLoss(k=5)", "b1", [2, 4, 4, 4, 3], None),
    ("nnunet", "nnunetv2.training.loss.robust_ce_loss.TopKLoss(k=0.5)", "b1", [1, 2, 16, 16], None),
    ("nnunet", "nnunetv2.training.loss.compound_losses.DC_and_topk_loss(soft_dice_kwargs={'batch_dice': False, 'smooth': 1e-05, 'do_bg': False, 'ddp': False}, ce_kwargs={'k': 10}, weight_ce=1.0, weight_dice=1.0, ignore_label=255)", "b1", [2, 3, 6, 6], 255),
]


def family(peer, call):
    name = call.split("(")[0].rsplit(".", 1)[1]
    return {
        "DiceLoss": "dice", "MaskedDiceLoss": "masked_dice", "GeneralizedDiceLoss": "generalized_dice",
        "TverskyLoss": "tversky", "FocalLoss": "focal", "DiceFocalLoss": "dice+focal", "DiceCELoss": "dice+ce",
        "GeneralizedDiceFocalLoss": "generalized_dice+focal", "JaccardLoss": "jaccard", "LovaszLoss": "lovasz",
        "SoftCrossEntropyLoss": "ce", "CrossEntropyLoss": "ce", "BCEWithLogitsLoss": "bce",
        "SoftDiceLoss": "dice", "MemoryEfficientSoftDiceLoss": "dice", "DC_and_CE_loss": "dice+ce",
        "DC_and_BCE_loss": "dice+bce", "TopKLoss": "top_k", "DC_and_topk_loss": "dice+top_k",
    }[name]


def tensorize(call):
    """Peers want tensors for per-class lists: weight=[..] -> torch.tensor([..])."""
    for key in ("weight=", "pos_weight="):
        i = call.find(key)
        if i >= 0 and call[i + len(key)] == "[":
            j = call.index("]", i)
            call = call[: i + len(key)] + "torch.tensor(" + call[i + len(key): j + 1] + ")" + call[j + 1:]
    return call


def main(out):
    rng = np.random.default_rng(SEED)
    cases = []
    for k, (peer, call, layout, shape, extra) in enumerate(CASES):
        b, c, spatial = shape[0], shape[1], shape[2:]
        logits = np.round(rng.normal(0, 2, size=shape) * 1024) / 1024
        ignore = extra if isinstance(extra, int) else None
        if layout == "dense+ignore":
            target = (rng.random([b, c + 1] + spatial) < 0.3).astype(np.int64)
            target[:, c] = rng.random([b] + spatial) < 0.15
            tshape, encoding = list(target.shape), "multi_hot_plus_ignore_channel"
        elif layout == "dense":
            target = (rng.random(shape) < 0.3).astype(np.int64)
            if ignore is not None:
                target[rng.random(shape) < 0.1] = ignore
            tshape, encoding = shape, "multi_hot"
        else:
            labels = rng.integers(0, c, size=[b] + spatial)
            if ignore is not None:
                labels[rng.random(labels.shape) < 0.15] = ignore
            target = labels[:, None] if layout == "b1" else labels
            tshape, encoding = list(target.shape), "class_index"
        x = torch.tensor(logits, requires_grad=True)
        t = torch.tensor(target)
        if layout.startswith("dense") and peer != "smp":
            t = t.double()
        loss_fn = eval(tensorize(call))
        extra_inputs, forward = {}, "loss(logits, target)"
        if extra == "weight_map":
            w = np.round((1 + 4 * rng.random([b, 1] + spatial)) * 1024) / 1024
            extra_inputs["weight_map"] = {"shape": [b, 1] + spatial, "values": w.ravel().tolist(), "meaning": "per-voxel weight [B,1,spatial]"}
            forward = "loss(logits, target, loss_mask=weight_map)"
            value = loss_fn(x, t, loss_mask=torch.tensor(w))
        elif extra == "mask":
            mask = (rng.random([b, 1] + spatial) < 0.7).astype(np.float64)
            extra_inputs["mask"] = {"shape": [b, 1] + spatial, "values": mask.ravel().tolist(), "meaning": "0/1 mask [B,1,spatial]"}
            forward = "loss(logits, target, mask=mask)"
            value = loss_fn(x, t, mask=torch.tensor(mask))
        else:
            value = loss_fn(x, t)
        value.backward()
        grad = x.grad.detach().numpy()
        cases.append({
            "id": f"extra-{k + 1:03d}", "category": "core", "peer": peer,
            "peer_version": {"monai": monai.__version__, "smp": segmentation_models_pytorch.__version__,
                             "kornia": kornia.__version__, "torch": torch.__version__, "nnunet": version("nnunetv2")}[peer],
            "call": call, "forward": forward, "loss_family": family(peer, call),
            "activation": "see call", "target_encoding": encoding,
            "description": "generated by tools/golden/extra_losses.py; the call is the definition",
            "data_conditions": [], "notes": "", "seed": SEED, "input_shape": shape,
            "logits": logits.ravel().tolist(), "target_shape": tshape, "target": target.ravel().tolist(),
            "extra_inputs": extra_inputs, "loss": float(value), "grad": grad.ravel().tolist(),
            "max_abs_grad": float(np.abs(grad).max()),
        })
    doc = {
        "schema": "same as shared/reference/losses_dev.json",
        "generator": {"script": "tools/golden/extra_losses.py", "base_seed": SEED,
                      "versions": {"monai": monai.__version__, "smp": segmentation_models_pytorch.__version__,
                                   "kornia": kornia.__version__, "nnunetv2": version("nnunetv2"),
                                   "torch": torch.__version__, "numpy": np.__version__}},
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(doc, f)
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/dicekit-losses/tests/golden/losses_extra.json")
