#!/usr/bin/env python3
"""Writes crates/dicekit-metrics/tests/golden/empty/: mask pairs with EMPTY sides (empty reference with a
non-empty prediction, empty prediction, both empty, multi-label maps where a label is present in only
one of the two maps) and every peer library's value for them, in exactly the schema of
shared/reference/metrics/expected.json (the developer set).

Every value is computed by running the real library; nothing is hand-written. Libraries that cannot
be run here (MetricsReloaded, DeepMind surface-distance git HEAD) are left out of expected.json.

Needs (a virtualenv): numpy, scipy, torch, monai==1.6.1, nibabel, medpy==0.5.2, seg-metrics==1.2.8,
SimpleITK, surface-distance==0.1 (PyPI), miseval==1.3.0, torchmetrics==1.9.0.

surface-distance 0.1 from PyPI spells np.Inf / np.NaN, which NumPy 2 removed. This script sets
`np.Inf = np.inf; np.NaN = np.nan` before calling it, so its `surface_distance` values below are the
values it returns with that shim (the developer set records the AttributeError instead).

Run from the repository root:
    python3 tools/golden/empty_metrics.py                  # writes the folder
    python3 tools/golden/empty_metrics.py --verify-dev DIR # recomputes DIR (a folder in the dev
                                                           # layout) and compares with its expected.json
Never edit the output by hand, and never regenerate it from dicekit's own values.
"""
import argparse
import datetime
import json
import logging
import math
import os
import platform
import sys
import warnings
from importlib.metadata import version

import numpy as np

# surface-distance 0.1 (PyPI) uses np.Inf / np.NaN (removed in NumPy 2.0): shim them.
np.Inf = np.inf
np.NaN = np.nan

import nibabel as nib  # noqa: E402
import torch  # noqa: E402

import monai  # noqa: E402
from monai.metrics import (  # noqa: E402
    DiceMetric,
    GeneralizedDiceScore,
    compute_average_surface_distance,
    compute_dice,
    compute_hausdorff_distance,
    compute_iou,
    compute_surface_dice,
)
import surface_distance  # noqa: E402
from medpy.metric import binary as medpy_binary  # noqa: E402
from seg_metrics import seg_metrics as sg  # noqa: E402
import miseval  # noqa: E402
import torchmetrics.functional.segmentation as tm_seg  # noqa: E402

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

NSD_TOL_MM = 1.0
DEFAULT_OUT = "crates/dicekit-metrics/tests/golden/empty"


# ----------------------------------------------------------------------------------------------
# value encoding (same as the developer set)
# ----------------------------------------------------------------------------------------------
def enc(v):
    if isinstance(v, torch.Tensor):
        v = v.item()
    if isinstance(v, (np.generic,)):
        v = v.item()
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def run(fn):
    try:
        return enc(fn())
    except Exception as e:  # the refusal is part of the library's behaviour
        return f"error: {type(e).__name__}: {e}"


# ----------------------------------------------------------------------------------------------
# per-library computations on one binary pair (gt, pred: bool arrays; spacing: tuple of floats)
# ----------------------------------------------------------------------------------------------
def monai_metrics(gt, pred, spacing):
    yp = torch.from_numpy(pred[None, None].astype(np.float32))
    yt = torch.from_numpy(gt[None, None].astype(np.float32))
    sp = [float(s) for s in spacing]
    return {
        "dice": run(lambda: compute_dice(yp, yt, include_background=True, ignore_empty=True)[0, 0]),
        "dice_empty1": run(lambda: compute_dice(yp, yt, include_background=True, ignore_empty=False)[0, 0]),
        "iou": run(lambda: compute_iou(yp, yt, include_background=True, ignore_empty=True)[0, 0]),
        "iou_empty1": run(lambda: compute_iou(yp, yt, include_background=True, ignore_empty=False)[0, 0]),
        "hd": run(lambda: compute_hausdorff_distance(yp, yt, include_background=True, spacing=sp)[0, 0]),
        "hd95": run(lambda: compute_hausdorff_distance(yp, yt, include_background=True, percentile=95,
                                                       spacing=sp)[0, 0]),
        "hd_pred_to_gt": run(lambda: compute_hausdorff_distance(yp, yt, include_background=True, directed=True,
                                                                spacing=sp)[0, 0]),
        "assd": run(lambda: compute_average_surface_distance(yp, yt, include_background=True, symmetric=True,
                                                             spacing=sp)[0, 0]),
        "asd_pred_to_gt": run(lambda: compute_average_surface_distance(yp, yt, include_background=True,
                                                                       symmetric=False, spacing=sp)[0, 0]),
        "nsd": run(lambda: compute_surface_dice(yp, yt, [NSD_TOL_MM], include_background=True, spacing=sp)[0, 0]),
        "nsd_subvoxel": run(lambda: compute_surface_dice(yp, yt, [NSD_TOL_MM], include_background=True,
                                                         spacing=sp, use_subvoxels=True)[0, 0]),
    }


def deepmind_metrics(gt, pred, spacing):
    """surface-distance (DeepMind) PyPI 0.1, with the np.Inf/np.NaN shim.

    hd = compute_robust_hausdorff(.., 100); hd95 = compute_robust_hausdorff(.., 95);
    masd = mean of the two directed averages of compute_average_surface_distance;
    asd_pred_to_gt = its second element; assd = the surfel-area-weighted mean pooled over both
    directions, built from the library's own distances and areas (the library has no function for it);
    nsd = compute_surface_dice_at_tolerance(.., 1 mm)."""
    sp = tuple(float(s) for s in spacing)
    out = {"dice": run(lambda: surface_distance.compute_dice_coefficient(gt, pred))}
    try:
        sd = surface_distance.compute_surface_distances(gt, pred, sp)
    except Exception as e:
        err = f"error: {type(e).__name__}: {e}"
        out.update({k: err for k in ("hd", "hd95", "assd", "masd", "asd_pred_to_gt", "nsd")})
        return out

    def pooled():
        dg, dp = sd["distances_gt_to_pred"], sd["distances_pred_to_gt"]
        ag, ap = sd["surfel_areas_gt"], sd["surfel_areas_pred"]
        with np.errstate(all="ignore"):
            return (np.sum(dg * ag) + np.sum(dp * ap)) / (np.sum(ag) + np.sum(ap))

    def masd():
        with np.errstate(all="ignore"):
            a, b = surface_distance.compute_average_surface_distance(sd)
            return (a + b) / 2.0

    def asd_p2g():
        with np.errstate(all="ignore"):
            return surface_distance.compute_average_surface_distance(sd)[1]

    def nsd():
        with np.errstate(all="ignore"):
            return surface_distance.compute_surface_dice_at_tolerance(sd, NSD_TOL_MM)

    out.update({
        "hd": run(lambda: surface_distance.compute_robust_hausdorff(sd, 100)),
        "hd95": run(lambda: surface_distance.compute_robust_hausdorff(sd, 95)),
        "assd": run(pooled),
        "masd": run(masd),
        "asd_pred_to_gt": run(asd_p2g),
        "nsd": run(nsd),
    })
    return out


def medpy_metrics(gt, pred, spacing):
    sp = tuple(float(s) for s in spacing)
    with np.errstate(all="ignore"):
        return {
            "dice": run(lambda: medpy_binary.dc(pred, gt)),
            "iou": run(lambda: medpy_binary.jc(pred, gt)),
            "hd": run(lambda: medpy_binary.hd(pred, gt, voxelspacing=sp)),
            "hd95": run(lambda: medpy_binary.hd95(pred, gt, voxelspacing=sp)),
            "assd": run(lambda: medpy_binary.assd(pred, gt, voxelspacing=sp)),
            "asd_pred_to_gt": run(lambda: medpy_binary.asd(pred, gt, voxelspacing=sp)),
        }


def seg_metrics_metrics(gt, pred, spacing):
    # numpy input: write_metrics takes the spacing in array axis order and reverses it for SimpleITK.
    keys = {"dice": "dice", "iou": "jaccard", "hd": "hd", "hd95": "hd95", "assd": "msd"}
    try:
        res = sg.write_metrics(labels=[1], gdth_img=gt.astype(np.uint8), pred_img=pred.astype(np.uint8),
                               spacing=[float(s) for s in spacing],
                               metrics=["dice", "jaccard", "hd", "hd95", "msd"])
        row = res[0] if isinstance(res, list) else res
        return {k: run(lambda m=m: row[m][0]) for k, m in keys.items()}
    except Exception as e:
        err = f"error: {type(e).__name__}: {e}"
        return {k: err for k in keys}


def miseval_metrics(gt, pred, spacing):
    gt, pred = gt.astype(np.uint8), pred.astype(np.uint8)  # its HD refuses bool arrays
    with np.errstate(all="ignore"):
        return {
            "dice": run(lambda: miseval.evaluate(gt, pred, metric="DSC")),
            "iou": run(lambda: miseval.evaluate(gt, pred, metric="IoU")),
            "hd": run(lambda: miseval.evaluate(gt, pred, metric="HD")),
        }


def torchmetrics_metrics(gt, pred, spacing):
    yp = torch.from_numpy(pred[None, None].astype(np.int64))
    yt = torch.from_numpy(gt[None, None].astype(np.int64))
    sp = [float(s) for s in spacing]
    return {
        "dice": run(lambda: tm_seg.dice_score(yp, yt, num_classes=1, include_background=True,
                                              input_format="one-hot")[0]),
        "hd": run(lambda: tm_seg.hausdorff_distance(yp, yt, num_classes=1, include_background=True, spacing=sp,
                                                    input_format="one-hot")[0, 0]),
    }


LIBS = [
    ("monai", monai_metrics),
    ("surface_distance", deepmind_metrics),
    ("medpy", medpy_metrics),
    ("seg_metrics", seg_metrics_metrics),
    ("miseval", miseval_metrics),
    ("torchmetrics", torchmetrics_metrics),
]


def monai_label_map_level(gt_map, pred_map):
    """MONAI on the whole label map, background excluded: GeneralizedDiceScore (square / simple /
    uniform) and DiceMetric mean over classes with ignore_empty True / False (the mean skips NaN)."""
    n = int(max(gt_map.max(), pred_map.max())) + 1
    yp = torch.nn.functional.one_hot(torch.from_numpy(pred_map.astype(np.int64)), n)
    yt = torch.nn.functional.one_hot(torch.from_numpy(gt_map.astype(np.int64)), n)
    perm = (yp.ndim - 1,) + tuple(range(yp.ndim - 1))
    yp = yp.permute(*perm)[None].float()
    yt = yt.permute(*perm)[None].float()
    out = {}
    for w in ("square", "simple", "uniform"):
        def gds(w=w):
            m = GeneralizedDiceScore(include_background=False, weight_type=w)
            m(yp, yt)
            return m.aggregate()
        out[f"generalized_dice_nobg_{w}"] = run(gds)

    def dm(ignore_empty):
        m = DiceMetric(include_background=False, reduction="mean", ignore_empty=ignore_empty)
        m(yp, yt)
        return m.aggregate()
    out["dice_metric_mean_nobg"] = run(lambda: dm(True))
    out["dice_metric_mean_nobg_ignore_empty_false"] = run(lambda: dm(False))
    return out


def evaluate_case(gt_map, pred_map, spacing, multi_label):
    labels = sorted(int(v) for v in set(np.unique(gt_map)) | set(np.unique(pred_map)) if v != 0)
    if not labels:  # both maps all background: label 1 is evaluated (both empty)
        labels = [1]
    per_label = {}
    for lab in labels:
        gt = gt_map == lab
        pred = pred_map == lab
        entry = {"gt_voxels": int(gt.sum()), "pred_voxels": int(pred.sum())}
        for name, fn in LIBS:
            entry[name] = fn(gt, pred, spacing)
        per_label[str(lab)] = entry
    out = {"labels": labels, "per_label": per_label}
    if multi_label:
        out["monai_label_map_level"] = monai_label_map_level(gt_map, pred_map)
    return out


# ----------------------------------------------------------------------------------------------
# the cases
# ----------------------------------------------------------------------------------------------
def ball(shape, centre, radius_mm, spacing):
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre, spacing))
    return d2 <= radius_mm ** 2


def make_cases():
    cases = []

    def add(name, description, gt, pred, spacing, multi=False):
        assert gt.shape == pred.shape and len(spacing) == gt.ndim
        for s in spacing:
            assert float(np.float32(s)) == float(s), "spacing must be exactly representable in float32"
        cases.append((name, description, gt.astype(np.uint8), pred.astype(np.uint8),
                      tuple(float(s) for s in spacing), multi))

    # e01: 2D, empty reference, 5x5 predicted square in the interior
    gt = np.zeros((16, 16), np.uint8)
    pred = gt.copy()
    pred[5:10, 6:11] = 1
    add("e01_2d_empty_gt", "2D binary, 1 mm: empty reference, 5x5 predicted square (interior)", gt, pred,
        (1.0, 1.0))

    # e02: 3D, empty reference, predicted ball r=3 mm
    gt = np.zeros((16, 16, 16), np.uint8)
    pred = ball(gt.shape, (8, 7, 8), 3.0, (1, 1, 1)).astype(np.uint8)
    add("e02_3d_empty_gt", "3D binary, 1 mm: empty reference, predicted ball r=3 mm (interior)", gt, pred,
        (1.0, 1.0, 1.0))

    # e03: anisotropic 3D, empty reference, irregular predicted blob (ball + box)
    sp = (0.75, 0.75, 2.5)
    gt = np.zeros((24, 24, 10), np.uint8)
    pred = ball(gt.shape, (11, 12, 5), 4.0, sp)
    pred[14:18, 6:12, 3:6] = True
    add("e03_3d_aniso_empty_gt", "3D binary, CT-like 0.75x0.75x2.5 mm: empty reference, irregular predicted "
        "blob (ball r=4 mm plus a box)", gt, pred.astype(np.uint8), sp)

    # e04: single predicted voxel into an empty reference, anisotropic
    gt = np.zeros((8, 8, 8), np.uint8)
    pred = gt.copy()
    pred[3, 4, 2] = 1
    add("e04_3d_single_voxel_pred_empty_gt", "3D binary, 0.5x1x2 mm: empty reference, one predicted voxel",
        gt, pred, (0.5, 1.0, 2.0))

    # e05: empty reference, prediction touching the image border (top edge and left corner)
    gt = np.zeros((20, 20), np.uint8)
    pred = gt.copy()
    pred[0:6, 0:9] = 1
    pred[6:9, 3:5] = 1
    add("e05_2d_empty_gt_border_pred", "2D binary, 0.75x1.25 mm: empty reference, prediction touching the "
        "image border (rows 0-5 from column 0) with a tail", gt, pred, (0.75, 1.25))

    # e06: 2D label map: label 1 in both (shifted), label 2 only in the prediction, label 3 only in the reference
    gt = np.zeros((32, 32), np.uint8)
    pred = gt.copy()
    gt[4:12, 4:12] = 1
    pred[5:13, 4:12] = 1
    pred[18:24, 6:10] = 2
    gt[20:28, 18:26] = 3
    add("e06_2d_multilabel_one_sided", "2D label map, 1 mm: label 1 in both (shifted 1 px), label 2 only in "
        "the prediction, label 3 only in the reference", gt, pred, (1.0, 1.0), multi=True)

    # e07: 3D label map (anisotropic): label 1 in both, label 2 only in the reference, label 3 only in the prediction
    sp = (1.0, 1.0, 1.5)
    gt = np.zeros((20, 20, 12), np.uint8)
    pred = gt.copy()
    gt[ball(gt.shape, (6, 6, 6), 4.0, sp)] = 1
    pred[ball(gt.shape, (7, 6, 6), 4.0, sp)] = 1
    gt[12:17, 12:17, 2:6] = 2
    pred[13:16, 2:6, 7:10] = 3
    add("e07_3d_multilabel_one_sided", "3D label map, 1x1x1.5 mm: label 1 in both (ball shifted 1 mm), label 2 "
        "only in the reference, label 3 only in the prediction", gt, pred, sp, multi=True)

    # e08: 3D both empty
    gt = np.zeros((12, 12, 12), np.uint8)
    add("e08_3d_both_empty", "3D binary, 1x1x2 mm: reference and prediction both empty", gt, gt.copy(),
        (1.0, 1.0, 2.0))

    # e09: anisotropic 3D, empty prediction
    sp = (0.75, 0.75, 2.5)
    gt = ball((24, 24, 10), (12, 11, 5), 4.5, sp).astype(np.uint8)
    add("e09_3d_aniso_empty_pred", "3D binary, CT-like 0.75x0.75x2.5 mm: reference ball r=4.5 mm, empty "
        "prediction", gt, np.zeros_like(gt), sp)

    # e10: 2D label map, empty reference, two predicted labels (every class empty in the reference)
    gt = np.zeros((24, 24), np.uint8)
    pred = gt.copy()
    pred[3:9, 3:9] = 1
    pred[14:20, 12:21] = 2
    add("e10_2d_multilabel_all_gt_empty", "2D label map, 1 mm: reference all background, prediction has "
        "labels 1 and 2 (every class empty in the reference)", gt, pred, (1.0, 1.0), multi=True)

    # e11: 2D label map, empty prediction, two reference labels (every class empty in the prediction)
    add("e11_2d_multilabel_all_pred_empty", "2D label map, 1 mm: reference has labels 1 and 2, prediction "
        "all background (every class empty in the prediction)", pred.copy(), gt.copy(), (1.0, 1.0),
        multi=True)

    # e12: 2D label map with a gap: label 2 absent from both maps (MONAI's one-hot still has a channel for it),
    # label 1 in both, label 3 only in the prediction
    gt = np.zeros((24, 24), np.uint8)
    pred = gt.copy()
    gt[2:8, 2:8] = 1
    pred[3:9, 2:8] = 1
    pred[14:20, 14:20] = 3
    add("e12_2d_multilabel_gap_label", "2D label map, 1 mm: label 1 in both (shifted 1 px), label 2 absent from "
        "both maps (a one-hot channel that is empty on both sides), label 3 only in the prediction", gt, pred,
        (1.0, 1.0), multi=True)
    return cases


# ----------------------------------------------------------------------------------------------
def library_versions():
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": version("scipy"),
        "torch": torch.__version__.split("+")[0],
        "monai": monai.__version__,
        "surface-distance": version("surface-distance"),
        "medpy": version("medpy"),
        "seg-metrics": version("seg-metrics"),
        "SimpleITK": version("SimpleITK"),
        "miseval": version("miseval"),
        "torchmetrics": version("torchmetrics"),
        "nibabel": nib.__version__,
    }


def save_nifti(arr, spacing, path):
    img = nib.Nifti1Image(arr.astype(np.uint8), affine=np.diag(list(spacing) + [1.0] * (4 - len(spacing))))
    img.header.set_data_dtype(np.uint8)
    img.header.set_zooms(spacing)
    nib.save(img, path)


def load_nifti(path):
    img = nib.load(path)
    arr = np.asarray(img.dataobj)
    spacing = tuple(float(z) for z in img.header.get_zooms()[: arr.ndim])
    return arr, spacing


def write(out_dir, template):
    with open(template) as f:
        dev = json.load(f)
    os.makedirs(os.path.join(out_dir, "cases"), exist_ok=True)
    result = {
        "format_version": dev["format_version"],
        "set": "empty-masks",
        "generated": datetime.date.today().isoformat(),
        "nsd_tolerance_mm": NSD_TOL_MM,
        "libraries": library_versions(),
        "libraries_present": [name for name, _ in LIBS],
        "value_encoding": dev["value_encoding"],
        "array_convention": dev["array_convention"],
        "metric_keys": dev["metric_keys"],
        "cases": {},
    }
    for name, description, gt, pred, spacing, multi in make_cases():
        gt_rel = f"cases/{name}_gt.nii.gz"
        pred_rel = f"cases/{name}_pred.nii.gz"
        save_nifti(gt, spacing, os.path.join(out_dir, gt_rel))
        save_nifti(pred, spacing, os.path.join(out_dir, pred_rel))
        # evaluate what a reader gets back from the files (nibabel array and zooms)
        gt_l, sp_l = load_nifti(os.path.join(out_dir, gt_rel))
        pred_l, sp_p = load_nifti(os.path.join(out_dir, pred_rel))
        assert sp_l == sp_p == spacing and np.array_equal(gt_l, gt) and np.array_equal(pred_l, pred)
        entry = {
            "description": description,
            "ndim": gt.ndim,
            "shape": list(gt.shape),
            "spacing": list(sp_l),
            "files": {"gt": gt_rel, "pred": pred_rel},
        }
        entry.update(evaluate_case(gt_l, pred_l, sp_l, multi))
        result["cases"][name] = entry
        print(f"{name}: labels {entry['labels']}, shape {entry['shape']}, spacing {entry['spacing']}")
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    return result


def close(a, b):
    if isinstance(a, str) or isinstance(b, str):
        if isinstance(a, str) and isinstance(b, str) and a.startswith("error") and b.startswith("error"):
            return a.split(":")[1] == b.split(":")[1]
        return a == b
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def verify_dev(dev_dir):
    with open(os.path.join(dev_dir, "expected.json")) as f:
        dev = json.load(f)
    mismatches = compared = 0
    for name, case in dev["cases"].items():
        gt, sp = load_nifti(os.path.join(dev_dir, case["files"]["gt"]))
        pred, _ = load_nifti(os.path.join(dev_dir, case["files"]["pred"]))
        mine = evaluate_case(gt, pred, sp, "monai_label_map_level" in case)
        for lab, ref in case["per_label"].items():
            for lib, vals in ref.items():
                if not isinstance(vals, dict):
                    continue
                # the shimmed PyPI 0.1 is also checked against the dev file's git HEAD values
                got = mine["per_label"][lab].get("surface_distance" if lib == "surface_distance_git" else lib)
                if got is None:
                    continue
                for k, v in vals.items():
                    compared += 1
                    if not close(got.get(k), v):
                        mismatches += 1
                        print(f"MISMATCH {name} label {lab} {lib}.{k}: dev {v!r} mine {got.get(k)!r}")
        if "monai_label_map_level" in case:
            for k, v in case["monai_label_map_level"].items():
                compared += 1
                if not close(mine["monai_label_map_level"][k], v):
                    mismatches += 1
                    print(f"MISMATCH {name} label-map {k}: dev {v!r} mine {mine['monai_label_map_level'][k]!r}")
    print(f"verify-dev: {compared} values compared, {mismatches} mismatches "
          "(dev surface_distance errors are expected to differ: the dev file ran PyPI 0.1 without the shim)")
    return mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--template", default="crates/dicekit-metrics/tests/golden/expected.json",
                    help="the developer expected.json whose descriptive top-level fields are reused")
    ap.add_argument("--verify-dev", metavar="DIR", help="recompute a dev-layout folder and compare")
    args = ap.parse_args()
    if args.verify_dev:
        sys.exit(1 if verify_dev(args.verify_dev) else 0)
    write(args.out, args.template)


if __name__ == "__main__":
    main()
