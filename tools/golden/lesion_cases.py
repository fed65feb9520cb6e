#!/usr/bin/env python3
"""Writes crates/dicekit-metrics/tests/golden/lesions/: randomised (seeded) lesion-wise cases and
every peer's value for them, in exactly the layout and expected.json schema of
shared/reference/lesions (the developer set; its README documents every key and peer call).

Every value is computed by running the real peers; nothing is hand-written:
  - connected-components-3d (cc3d) 3.29, panoptica 2.1.7, BraTS_evaluation 0.0.10,
    MONAI 1.6.1 (compute_panoptic_quality, PanopticQualityMetric, ProbNMS, the FROC helpers),
  - the BraTS 2023 lesion-wise script (rachitsaluja/BraTS-2023-Metrics `eval.py`), which is not
    on PyPI: pass a local copy with --brats2023 PATH (it is never part of this repository). It is
    run under the developer set's three shims (np.Inf/np.NaN, DataFrame.append -> pd.concat,
    DataFrame.replace(np.inf, 374) retried column by column); `unpatched_call` records what the
    plain call does,
  - `reference_roc`: the developer set's own NumPy ROC / e-ophtha FROC (defined in its README).

Beyond the developer set's schema, a FROC case may carry `froc.prob_nms` (the ProbNMS
parameters used for that case, e.g. sigma > 0), which overrides `settings.prob_nms`.

Needs a virtualenv with numpy, scipy, torch, monai==1.6.1, panoptica==2.1.7, BraTS_evaluation==0.0.10,
connected-components-3d==3.29.*, nibabel, pandas, surface-distance==0.1 (PyPI).

Run from the repository root:
    python3 tools/golden/lesion_cases.py --brats2023 <dir with eval.py> [--out DIR] [--seed N]
Never edit the output by hand, and never regenerate it from dicekit's own values.
"""
import argparse
import contextlib
import copy
import importlib.util
import io
import json
import logging
import math
import os
import platform
import sys
import tempfile
import warnings
from importlib.metadata import version
from importlib.resources import files as pkg_files
from pathlib import Path

import numpy as np
import cc3d
import nibabel as nib
import pandas as pd
import torch
from scipy import ndimage

import monai
from monai.metrics import PanopticQualityMetric, compute_panoptic_quality
from monai.metrics.froc import compute_fp_tp_probs_nd, compute_froc_curve_data, compute_froc_score
from monai.transforms import ProbNMS

from panoptica import (
    ConnectedComponentsInstanceApproximator,
    InputType,
    MaxBipartiteMatching,
    NaiveThresholdMatching,
    Panoptica_Evaluator,
)
from panoptica.metrics import Metric
from panoptica.utils.edge_case_handling import (
    EdgeCaseHandler,
    EdgeCaseResult,
    MetricZeroTPEdgeCaseHandling,
)
from panoptica.utils.label_group import LabelGroup
from panoptica.utils.segmentation_class import SegmentationClassGroups
from brats_evaluation.evaluation import evaluate_single_exam
from brats_evaluation.metrics_parser import parse_mets_results, parse_seg_results

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

DEFAULT_OUT = "crates/dicekit-metrics/tests/golden/lesions"
ROC_RATES = [0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
CAMELYON_RATES = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
NMS = {"sigma": 0.0, "prob_threshold": 0.1, "box_size": 5}
PRED_FROM_PROB = 0.5
PQ_THRESHOLDS = [0.5, 0.25]
METS_VOL, METS_OVERLAP = 20.0, 0.1
CHALLENGES = {"BraTS-GLI": (3, 50), "BraTS-MET": (1, 2)}


# ----------------------------------------------------------------------------------------------
# value encoding (same as the developer set)
# ----------------------------------------------------------------------------------------------
def enc(v):
    if isinstance(v, torch.Tensor):
        v = v.item()
    if isinstance(v, dict):
        return {str(k): enc(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, np.ndarray):
        return [enc(x) for x in v.tolist()]
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, str):
        return v
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def err(e):
    msg = str(e).splitlines()[0] if str(e) else ""
    return f"error: {type(e).__name__}: {msg}"


def quiet(fn, *a, **k):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return fn(*a, **k)


# ----------------------------------------------------------------------------------------------
# files
# ----------------------------------------------------------------------------------------------
def write_nii(path, arr, spacing):
    aff = np.eye(4)
    for i, s in enumerate(spacing):
        aff[i, i] = s
    nib.save(nib.Nifti1Image(arr, aff), str(path))


def read_nii(path):
    img = nib.load(str(path))
    return np.asarray(img.dataobj), tuple(float(z) for z in img.header.get_zooms()[: len(img.shape)])


# ----------------------------------------------------------------------------------------------
# peers
# ----------------------------------------------------------------------------------------------
def cc_conns(nd):
    return (4, 8) if nd == 2 else (6, 18, 26)


def cc3d_entry(mask, conn):
    lab, n = cc3d.connected_components(mask.astype(np.uint8), connectivity=conn, return_N=True)
    sizes = sorted((int(s) for s in np.bincount(lab.ravel())[1:] if s > 0), reverse=True)
    return {"n": int(n), "sizes": sizes}


def extended_handler():
    h = EdgeCaseHandler()
    d = dict(h.listmetric_zeroTP_handling)
    d[Metric.HD] = MetricZeroTPEdgeCaseHandling(no_instances_result=EdgeCaseResult.NAN, default_result=EdgeCaseResult.INF)
    d[Metric.HD95] = MetricZeroTPEdgeCaseHandling(no_instances_result=EdgeCaseResult.NAN, default_result=EdgeCaseResult.INF)
    d[Metric.NSD] = MetricZeroTPEdgeCaseHandling(no_instances_result=EdgeCaseResult.NAN, default_result=EdgeCaseResult.ZERO)
    return EdgeCaseHandler(listmetric_zeroTP_handling=d)


ALL_INST = [Metric.DSC, Metric.IOU, Metric.ASSD, Metric.HD, Metric.HD95, Metric.NSD, Metric.RVD]
ALL_GLOB = [Metric.DSC, Metric.IOU, Metric.HD, Metric.HD95, Metric.ASSD, Metric.NSD]


def panoptica_configs():
    return {
        "default": dict(instance_matcher=NaiveThresholdMatching()),
        "naive_iou_0.5": dict(instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.5), full=True),
        "naive_iou_0.1": dict(instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.1), full=True),
        "naive_iou_0.1_many_to_one": dict(
            instance_matcher=NaiveThresholdMatching(matching_metric=Metric.IOU, matching_threshold=0.1, allow_many_to_one=True), full=True
        ),
        "bipartite_iou_0.1": dict(instance_matcher=MaxBipartiteMatching(matching_metric=Metric.IOU, matching_threshold=0.1), full=True),
    }


def run_panoptica(pred, gt, spacing, kind, labels):
    """{label: {config: PanopticaResult.to_dict(True)}}: semantic cases with one group per label
    (`label_<k>`), instance cases as given (one entry, label 1)."""
    out = {label: {} for label in labels}
    for name, cfg in panoptica_configs().items():
        kw = {"instance_matcher": cfg["instance_matcher"]}
        if cfg.get("full"):
            kw.update(instance_metrics=ALL_INST, global_metrics=ALL_GLOB, edge_case_handler=extended_handler())
        if kind == "instance":
            ev = Panoptica_Evaluator(expected_input=InputType.UNMATCHED_INSTANCE, **kw)
        else:
            groups = SegmentationClassGroups({f"label_{k}": LabelGroup(k) for k in labels})
            ev = Panoptica_Evaluator(
                expected_input=InputType.SEMANTIC,
                instance_approximator=ConnectedComponentsInstanceApproximator(),
                segmentation_class_groups=groups,
                **kw,
            )
        try:
            res = quiet(ev.evaluate, pred, gt, voxelspacing=tuple(spacing))
            if kind == "instance":
                (r,) = res.values()
                out[labels[0]][name] = enc(r.to_dict(True))
            else:
                for k in labels:
                    out[k][name] = enc(res[f"label_{k}"].to_dict(True))
        except Exception as e:  # noqa: BLE001
            for k in labels:
                out[k][name] = err(e)
    return out


def monai_pq(pred_inst, gt_inst):
    out = {}
    p = torch.as_tensor(pred_inst.astype(np.int64))
    g = torch.as_tensor(gt_inst.astype(np.int64))
    for thr in PQ_THRESHOLDS:
        e = {}
        try:
            cm = compute_panoptic_quality(p, g, match_iou_threshold=thr, output_confusion_matrix=True)
            for k, v in zip(["tp", "fp", "fn", "iou_sum"], cm.tolist()):
                e[k] = v
            for m in ["pq", "sq", "rq"]:
                e[m] = compute_panoptic_quality(p, g, metric_name=m, match_iou_threshold=thr).item()
            out[str(thr)] = enc(e)
        except Exception as ex:  # noqa: BLE001
            out[str(thr)] = err(ex)
    return out


def monai_pq_metric(pred, gt, labels):
    k = int(max(labels))

    def inst(a):
        ids = np.zeros(a.shape, np.int64)
        off = 0
        for c in range(1, k + 1):
            lab, n = cc3d.connected_components((a == c).astype(np.uint8), connectivity=26, return_N=True)
            ids[lab > 0] = lab[lab > 0].astype(np.int64) + off
            off += int(n)
        return torch.as_tensor(np.stack([ids, a.astype(np.int64)])[None])

    yp, y = inst(pred), inst(gt)
    m = PanopticQualityMetric(num_classes=k, metric_name=("pq", "sq", "rq"), reduction="mean_batch")
    m(yp, y)
    pq, sq, rq = m.aggregate()
    c = PanopticQualityMetric(num_classes=k, reduction="mean_batch", return_confusion_matrix=True)
    c(yp, y)
    cm = c.aggregate()
    per = {}
    for i in range(k):
        per[str(i + 1)] = enc(
            {"pq": pq[i], "sq": sq[i], "rq": rq[i], "tp": cm[i, 0], "fp": cm[i, 1], "fn": cm[i, 2], "iou_sum": cm[i, 3]}
        )
    return {
        "call": f"PanopticQualityMetric(num_classes={k}, metric_name=('pq','sq','rq'), reduction='mean_batch', "
        "match_iou_threshold=0.5); input [1, 2, *spatial] = (instance ids from cc3d connectivity 26 per class, "
        "offset to be unique; class map)",
        "per_class": per,
    }


def run_brats_evaluation(pred_file, gt_file, cfg, tmp):
    out = {"config": cfg}
    path = str(pkg_files("brats_evaluation").joinpath("configs", f"config_{cfg}.yaml"))
    ev = Panoptica_Evaluator.load_from_config(path)
    res = quiet(evaluate_single_exam, prediction_filepath=str(pred_file), reference_filepath=str(gt_file),
                subject_identifier="case", evaluator=ev)
    if "error" in res:
        out["evaluate_single_exam"] = f"error: {res['error']}"
        return out
    out["evaluate_single_exam"] = enc({k: v for k, v in res.items() if k != "subject_name"})
    summary = Path(tmp) / "summary.json"
    with open(summary, "w") as f:
        json.dump({"metrics": [res], "missings": []}, f, indent=4)
    for key, call in [
        ("parse_seg_results", lambda csv: parse_seg_results(str(summary), csv)),
        ("parse_mets_results", lambda csv: parse_mets_results(str(summary), METS_VOL, METS_OVERLAP, csv)),
    ]:
        csv = str(Path(tmp) / f"{key}.csv")
        try:
            quiet(call, csv)
            row = pd.read_csv(csv).iloc[0].to_dict()
            row.pop("subject_id", None)
            out[key] = enc(row)
        except Exception as e:  # noqa: BLE001
            out[key] = err(e)
    return out


class Brats2023:
    """The BraTS 2023 script, loaded from a local copy, with and without the three shims."""

    def __init__(self, folder):
        # The script does `import surface_distance`: its own copy (the repository's
        # brats_2023_metrics/surface_distance) is expected beside eval.py and must win.
        sys.path.insert(0, str(Path(folder).resolve()))
        sys.modules.pop("surface_distance", None)
        spec = importlib.util.spec_from_file_location("brats2023_eval", str(Path(folder) / "eval.py"))
        self.mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.mod)
        self._orig_replace = pd.DataFrame.replace

    def _shims(self, on):
        if on:
            np.Inf = np.inf
            np.NaN = np.nan
            pd.DataFrame.append = lambda self, other, ignore_index=False, **kw: pd.concat([self, other], ignore_index=ignore_index)
            orig = self._orig_replace

            def replace(df, to_replace=None, value=None, *a, **kw):
                try:
                    return orig(df, to_replace, value, *a, **kw)
                except Exception:  # noqa: BLE001
                    inplace = kw.get("inplace", False)
                    out = df if inplace else df.copy()
                    for c in out.columns:
                        try:
                            out[c] = out[c].replace(to_replace, value)
                        except Exception:  # noqa: BLE001
                            pass
                    return None if inplace else out

            pd.DataFrame.replace = replace
        else:
            for name in ("Inf", "NaN"):
                if name in np.__dict__:
                    delattr(np, name)
            if "append" in pd.DataFrame.__dict__:
                delattr(pd.DataFrame, "append")
            pd.DataFrame.replace = self._orig_replace

    def run(self, pred_file, gt_file, input_note):
        out = {}
        self._shims(False)
        try:
            quiet(self.mod.get_LesionWiseResults, str(pred_file), str(gt_file), "BraTS-GLI")
            out["unpatched_call"] = "ok"
        except Exception as e:  # noqa: BLE001
            out["unpatched_call"] = err(e)
        self._shims(True)
        try:
            for ch, (dil, _thr) in CHALLENGES.items():
                try:
                    table = quiet(self.mod.get_LesionWiseResults, str(pred_file), str(gt_file), ch)
                except Exception as e:  # noqa: BLE001
                    out[ch] = err(e)
                    continue
                regions = {}
                for region in ["WT", "TC", "ET"]:
                    row = table[table["Labels"] == region].iloc[0].to_dict()
                    row.pop("Labels")
                    tp, fn, fp, gt_tp, pairs, *_ = quiet(self.mod.get_LesionWiseScores, str(pred_file), str(gt_file), region, dil)
                    regions[region] = {
                        "results": enc({k: float(v) for k, v in row.items()}),
                        "dilation_factor": dil,
                        "lesions": [
                            {
                                "gt_lesion": int(g),
                                "pred_components": [int(c) for c in cc],
                                "gt_volume_mm3": enc(vol),
                                "dice": enc(d),
                                "hd95": enc(h),
                            }
                            for cc, g, vol, d, h in pairs
                        ],
                        "tp_pred_components": [int(c) for c in tp],
                        "fn_gt_lesions": [int(c) for c in fn],
                        "fp_pred_components": [int(c) for c in fp],
                    }
                out[ch] = regions
        finally:
            self._shims(False)
        out["input"] = input_note
        return out


# ----------------------------------------------------------------------------------------------
# FROC
# ----------------------------------------------------------------------------------------------
def reference_roc(images, rates):
    """The developer set's ROC / e-ophtha FROC. images: [(scores, lesion_of_candidate, n_lesions)]."""
    n_images = len(images)
    n_lesions = sum(n for _, _, n in images)
    scores = sorted({s for sc, _, _ in images for s in sc}, reverse=True)
    thresholds, fps, sens = [math.inf], [0.0], [0.0]
    for t in scores:
        fp, det = 0, 0
        for sc, les, _ in images:
            hit = set()
            for s, l in zip(sc, les):
                if s >= t:
                    if l == 0:
                        fp += 1
                    else:
                        hit.add(l)
            det += len(hit)
        thresholds.append(t)
        fps.append(fp / n_images)
        sens.append(det / n_lesions if n_lesions else math.nan)
    step, interp = [], []
    for r in rates:
        if n_lesions == 0:
            step.append(math.nan)
            interp.append(math.nan)
            continue
        step.append(max(s for f, s in zip(fps, sens) if f <= r))
        interp.append(float(np.interp(r, fps, sens)))
    return {
        "n_images": n_images,
        "n_lesions": n_lesions,
        "fp_rates": rates,
        "curve": {"thresholds": thresholds, "fps_per_image": fps, "sensitivity": sens},
        "sensitivity_at_rates_step": step,
        "score_step": float(np.mean(step)),
        "sensitivity_at_rates_interp": interp,
        "score_interp": float(np.mean(interp)),
    }


def monai_froc(fp_probs, tp_probs, num_targets, num_images):
    fps, sens = compute_froc_curve_data(fp_probs, tp_probs, num_targets, num_images)
    return {
        "fp_probs": fp_probs,
        "tp_probs": tp_probs,
        "num_targets": num_targets,
        "num_images": num_images,
        "fps_per_image": fps,
        "total_sensitivity": sens,
        "froc_score_roc_rates": compute_froc_score(fps, sens, eval_thresholds=tuple(ROC_RATES)),
        "froc_score_camelyon_rates": compute_froc_score(fps, sens, eval_thresholds=tuple(CAMELYON_RATES)),
    }


def run_froc(prob, gt, nms):
    nd = gt.ndim
    cands = ProbNMS(spatial_dims=nd, sigma=nms["sigma"], prob_threshold=nms["prob_threshold"], box_size=nms["box_size"])(prob.copy())
    cands = [[float(c[0])] + [int(i) for i in c[1:]] for c in cands]
    lab, n = cc3d.connected_components((gt > 0).astype(np.uint8), connectivity=8 if nd == 2 else 26, return_N=True)
    les = [int(lab[tuple(c[1:])]) for c in cands]
    sizes = sorted((int(s) for s in np.bincount(lab.ravel())[1:] if s > 0), reverse=True)
    probs = np.asarray([c[0] for c in cands], dtype=np.float32)
    coords = np.asarray([c[1:] for c in cands], dtype=np.int64).reshape(-1, nd)
    fp_probs, tp_probs, num_targets = compute_fp_tp_probs_nd(probs, coords, evaluation_mask=lab)
    out = {
        "candidates": cands,
        "candidate_lesion": les,
        "n_lesions": int(n),
        "lesion_sizes": sizes,
        "monai": monai_froc(fp_probs, tp_probs, num_targets, 1),
        "reference_roc": reference_roc([([c[0] for c in cands], les, int(n))], ROC_RATES),
    }
    if nms != NMS:
        out["prob_nms"] = dict(nms)
    return out, (fp_probs, tp_probs, num_targets, [c[0] for c in cands], les, int(n))


# ----------------------------------------------------------------------------------------------
# case generation
# ----------------------------------------------------------------------------------------------
def grid(shape):
    return np.indices(shape)


def ball(shape, center, radii):
    g = grid(shape)
    d = sum(((g[i] - center[i]) / radii[i]) ** 2 for i in range(len(shape)))
    return d <= 1.0


def walk(rng, shape, start, n, taken=None):
    """A face-connected random blob of n voxels from start (inside the array)."""
    nd = len(shape)
    vox = [tuple(start)]
    seen = {tuple(start)}
    tries = 0
    while len(vox) < n and tries < 50 * n:
        tries += 1
        base = vox[rng.integers(len(vox))]
        ax = rng.integers(nd)
        step = 1 if rng.random() < 0.5 else -1
        v = list(base)
        v[ax] += step
        v = tuple(v)
        if v in seen or not all(0 <= v[i] < shape[i] for i in range(nd)):
            continue
        if taken is not None and taken[v]:
            continue
        seen.add(v)
        vox.append(v)
    return vox


def place_tiny(rng, shape, count, sizes=(1, 20), margin=2, gap=2, border_ok=False):
    """count separate tiny lesions (voxel lists) with at least `gap` voxels between them."""
    taken = np.zeros(shape, bool)
    out = []
    for _ in range(count * 30):
        if len(out) == count:
            break
        lo = 0 if border_ok else margin
        start = tuple(int(rng.integers(lo, s - lo)) for s in shape)
        if taken[start]:
            continue
        vox = walk(rng, shape, start, int(rng.integers(sizes[0], sizes[1] + 1)))
        m = np.zeros(shape, bool)
        for v in vox:
            m[v] = True
        grown = ndimage.binary_dilation(m, iterations=gap, structure=np.ones((3,) * len(shape)))
        if (grown & taken).any():
            continue
        taken |= m
        out.append(vox)
    return out


def mask_of(shape, lesions, dtype=np.uint8, value=1):
    a = np.zeros(shape, dtype)
    for vox in lesions:
        for v in vox:
            a[v] = value
    return a


def perturb(rng, shape, vox, mode):
    nd = len(shape)
    if mode == "same":
        return list(vox)
    if mode == "miss":
        return []
    if mode == "shift":
        ax = rng.integers(nd)
        d = 1 if rng.random() < 0.5 else -1
        out = []
        for v in vox:
            w = list(v)
            w[ax] = min(max(w[ax] + d, 0), shape[ax] - 1)
            out.append(tuple(w))
        return out
    if mode == "grow":
        m = mask_of(shape, [vox]).astype(bool)
        m = ndimage.binary_dilation(m, structure=ndimage.generate_binary_structure(nd, 1))
        return [tuple(int(i) for i in p) for p in np.argwhere(m)]
    if mode == "shrink":
        keep = max(1, len(vox) // 2)
        return list(vox[:keep])
    raise ValueError(mode)


def tiny_pair(rng, shape, count, sizes, modes, n_fp, border_ok=False):
    les = place_tiny(rng, shape, count + n_fp, sizes, border_ok=border_ok)
    gt_les, fp_les = les[:count], les[count:]
    pred_les = [perturb(rng, shape, v, modes[rng.integers(len(modes))]) for v in gt_les] + fp_les
    return mask_of(shape, gt_les), mask_of(shape, pred_les)


def prob_map(rng, shape, gt, peaks, noise=0.08):
    """float32 probability map: low noise, a Gaussian bump of height h at each (center, h, width)."""
    p = rng.random(shape) * noise
    g = grid(shape)
    for c, h, w in peaks:
        d2 = sum((g[i] - c[i]) ** 2 for i in range(len(shape)))
        p = np.maximum(p, h * np.exp(-d2 / (2 * w * w)))
    p = np.clip(p, 0, 0.999).astype(np.float32)
    for c, h, _ in peaks:
        p[tuple(c)] = np.float32(h)  # exact peak values (shared scores make ties)
    return p


def centers(vox_lists):
    return [tuple(int(round(x)) for x in np.mean(np.asarray(v), axis=0)) for v in vox_lists]


def build_cases(seed):
    cases = []

    def add(name, desc, gt, pred, spacing, kind="semantic", prob=None, nms=None):
        cases.append(dict(name=name, desc=desc, gt=gt, pred=pred, spacing=spacing, kind=kind, prob=prob, nms=nms))

    r = lambda k: np.random.default_rng(seed * 1000 + k)  # noqa: E731
    modes = ["same", "miss", "shift", "grow", "shrink"]

    # tiny lesions, 2D and 3D, isotropic and anisotropic
    g = r(1)
    gt, pred = tiny_pair(g, (48, 40), 14, (1, 20), modes, 4)
    add("e01_2d_tiny_lesions", "2D 48x40: 14 lesions of 1-20 px, each kept, missed, shifted, grown or shrunk; 4 FPs", gt, pred, (1.0, 1.0))
    g = r(2)
    gt, pred = tiny_pair(g, (24, 20, 12), 10, (1, 20), modes, 3)
    add("e02_3d_tiny_lesions_aniso", "3D 24x20x12, 0.5x0.75x2 mm: 10 tiny lesions, 3 FPs", gt, pred, (0.5, 0.75, 2.0))
    g = r(3)
    gt, pred = tiny_pair(g, (32, 28), 10, (1, 6), ["same", "shift", "shrink", "grow"], 2)
    add("e03_2d_single_pixels_aniso", "2D 32x28, 0.25x1.5 mm: 10 lesions of 1-6 px", gt, pred, (0.25, 1.5))
    g = r(4)
    gt, pred = tiny_pair(g, (16, 16, 16), 12, (1, 4), ["same", "shift", "miss", "grow"], 3)
    add("e04_3d_voxel_lesions", "3D 16^3: 12 lesions of 1-4 voxels, shifted/missed/grown, 3 FPs", gt, pred, (1.0, 1.0, 1.0))

    # IoU exactly 0.5 ties
    gt = np.zeros((24, 24), np.uint8)
    pred = np.zeros_like(gt)
    gt[2, 2:4] = 1; pred[2, 2] = 1  # 1 of 2: IoU 0.5
    gt[6:8, 6:8] = 1; pred[6:8, 6] = 1  # 2 of 4
    gt[12, 12] = 1; pred[12, 12:14] = 1  # pred 2 over 1: IoU 0.5
    gt[18:20, 2:5] = 1; pred[18:20, 3:6] = 1  # 4 / 8 = 0.5
    gt[16:18, 16:20] = 1; pred[16:18, 18:22] = 1  # 4 / 12
    gt[22, 20:23] = 1; pred[22, 20:22] = 1  # 2/3
    add("e05_2d_iou_half_ties", "2D: pairs with IoU exactly 0.5 (and 1/3, 2/3)", gt, pred, (1.0, 1.0))
    gt = np.zeros((12, 12, 8), np.uint8)
    pred = np.zeros_like(gt)
    gt[1, 1, 1:3] = 1; pred[1, 1, 1] = 1
    gt[5:7, 5:7, 2] = 1; pred[5:7, 5, 2] = 1
    gt[9, 9, 5] = 1; pred[9, 9, 5:7] = 1
    gt[2:4, 8:10, 5:7] = 1; pred[2:4, 8:10, 6:8] = 1
    add("e06_3d_iou_half_ties", "3D 0.75x0.75x1.5 mm: IoU exactly 0.5 pairs", gt, pred, (0.75, 0.75, 1.5))

    # splits and merges
    gt = np.zeros((40, 40), np.uint8)
    pred = np.zeros_like(gt)
    gt |= ball((40, 40), (10, 10), (6, 4)).astype(np.uint8)
    pred |= (ball((40, 40), (10, 10), (6, 4)) & (np.indices((40, 40))[0] != 10)).astype(np.uint8)  # split in 2
    b = ball((40, 40), (28, 12), (5, 7))
    gt |= b.astype(np.uint8)
    cut = b & (np.indices((40, 40))[1] != 10) & (np.indices((40, 40))[1] != 14)
    pred |= cut.astype(np.uint8)  # split in 3
    gt |= ball((40, 40), (10, 28), (3, 3)).astype(np.uint8)
    gt |= ball((40, 40), (10, 36), (3, 2)).astype(np.uint8)
    pred |= ball((40, 40), (10, 31), (4, 7)).astype(np.uint8)  # merge of two
    add("e07_2d_splits_and_merges", "2D: one lesion split in 2, one in 3, two merged into one blob", gt, pred, (1.0, 1.0))
    s = (24, 24, 12)
    gt = (ball(s, (6, 6, 5), (3, 3, 2)) | ball(s, (6, 13, 5), (3, 3, 2)) | ball(s, (17, 6, 6), (2, 2, 2))
          | ball(s, (17, 12, 6), (2, 2, 2)) | ball(s, (17, 18, 6), (2, 2, 2))).astype(np.uint8)
    pred = (ball(s, (6, 9, 5), (3, 6, 2)) | ball(s, (17, 12, 6), (3, 9, 2))).astype(np.uint8)
    pred[17, :, :] = 0  # cut the long blob along axis 0 ... into two halves
    add("e08_3d_merges_gli_dilation", "3D: close lesions (BraTS-GLI merges them by dilation) predicted as bridged blobs", gt, pred, (1.0, 1.0, 1.5))

    # touching lesions (diagonal only): connectivity decides
    gt = np.zeros((20, 20), np.uint8)
    pred = np.zeros_like(gt)
    gt[2:5, 2:5] = 1; gt[5:8, 5:8] = 1  # corner touch
    pred[2:5, 2:5] = 1; pred[5:8, 6:9] = 1
    gt[12, 12] = 1; gt[13, 13] = 1; gt[14, 14] = 1  # diagonal chain
    pred[12, 12] = 1; pred[13, 13] = 1; pred[14, 15] = 1
    gt[3, 14:17] = 1; pred[4, 14:17] = 1
    add("e09_2d_diagonal_touching", "2D: lesions touching only at corners (4- vs 8-connectivity)", gt, pred, (1.0, 1.0))
    s = (12, 12, 10)
    gt = np.zeros(s, np.uint8)
    pred = np.zeros_like(gt)
    gt[2:4, 2:4, 2:4] = 1; gt[4:6, 4:6, 4:6] = 1  # vertex touch (26 only)
    gt[8, 2, 2:4] = 1; gt[9, 3, 2:4] = 1  # edge touch (18, 26)
    pred[2:4, 2:4, 2:4] = 1; pred[4:6, 4:6, 5:7] = 1
    pred[8, 2, 2:4] = 1; pred[9, 3, 3:5] = 1
    gt[2, 9, 7] = 1; gt[3, 10, 8] = 1
    pred[2, 9, 7] = 1
    add("e10_3d_vertex_edge_touching", "3D: lesions touching at a vertex or an edge (6/18/26)", gt, pred, (1.0, 1.0, 1.0))

    # borders
    g = r(11)
    gt = np.zeros((16, 20), np.uint8)
    pred = np.zeros_like(gt)
    gt[0:3, 0:2] = 1; pred[0:2, 0:2] = 1
    gt[15, 5:9] = 1; pred[14:16, 6:9] = 1
    gt[6:9, 19] = 1; pred[6:9, 18:20] = 1
    gt[0, 19] = 1
    pred[15, 0] = 1
    gt[7:10, 7:10] = 1; pred[7:10, 7:10] = 1
    add("e11_2d_borders", "2D 16x20 anisotropic: lesions in corners and along every border", gt, pred, (0.5, 2.0))
    s = (10, 12, 8)
    gt = np.zeros(s, np.uint8)
    pred = np.zeros_like(gt)
    gt[0:2, 0:3, 0:2] = 1; pred[0:2, 0:2, 0:2] = 1
    gt[9, 5:8, 7] = 1; pred[8:10, 5:8, 7] = 1
    gt[4:6, 11, 3:5] = 1; pred[4:6, 10:12, 3:5] = 1
    gt[5, 5, 0] = 1
    pred[0, 11, 7] = 1
    add("e12_3d_borders", "3D: lesions on faces, edges and corners of the volume", gt, pred, (1.25, 1.0, 2.5))
    gt = np.ones((6, 7), np.uint8)
    pred = np.ones((6, 7), np.uint8)
    pred[2:4, 3] = 0
    add("e13_2d_whole_image", "2D 6x7: the whole image is one lesion; the prediction has a hole", gt, pred, (1.0, 1.0))

    # empty sides
    g = r(14)
    gt = np.zeros((20, 20), np.uint8)
    _, pred = tiny_pair(g, (20, 20), 0, (2, 8), modes, 3)
    add("e14_2d_empty_reference", "2D: empty reference, three predicted lesions", gt, pred, (1.0, 1.0))
    g = r(15)
    gt, _ = tiny_pair(g, (14, 14, 8), 4, (1, 12), modes, 0)
    add("e15_3d_empty_prediction", "3D: four lesions, empty prediction", gt, np.zeros_like(gt), (1.0, 1.0, 2.0))
    add("e16_2d_both_empty", "2D: both empty", np.zeros((10, 12), np.uint8), np.zeros((10, 12), np.uint8), (1.0, 1.0))

    # BraTS volume thresholds: lesions of exactly 2, 20, 50 mm^3 (and just above/below)
    s = (40, 36, 10)
    gt = np.zeros(s, np.uint8)
    pred = np.zeros_like(gt)
    g = r(17)
    vox_mm3 = 1.0 * 1.0 * 2.0
    sizes_mm3 = [2, 4, 20, 22, 50, 52, 18, 48]
    slots = [(4, 4), (4, 14), (4, 26), (16, 4), (16, 14), (16, 26), (28, 4), (28, 20)]
    les = []
    for (x, y), v in zip(slots, sizes_mm3):
        vox = walk(g, s, (x, y, 4), int(v / vox_mm3))
        les.append(vox)
    gt = mask_of(s, les)
    pm = ["same", "miss", "shift", "same", "shrink", "miss", "grow", "shift"]
    pred = mask_of(s, [perturb(g, s, v, m) for v, m in zip(les, pm)] + [walk(g, s, (34, 32, 7), 3)])
    add("e17_3d_brats_volume_thresholds", "3D 1x1x2 mm: lesions of exactly 2, 20 and 50 mm^3 and next to them", gt, pred, (1.0, 1.0, 2.0))
    s = (36, 36, 8)
    g = r(18)
    vox_mm3 = 0.5 * 0.5 * 2.0
    les = [walk(g, s, (x, y, 3), int(v / vox_mm3)) for (x, y), v in zip([(5, 5), (5, 20), (20, 5), (20, 20), (30, 30)], [2, 20, 50, 2.5, 19.5])]
    gt = mask_of(s, les)
    pred = mask_of(s, [perturb(g, s, v, m) for v, m in zip(les, ["same", "shrink", "shift", "miss", "same"])])
    add("e18_3d_brats_thresholds_half_mm", "3D 0.5x0.5x2 mm: 4, 40, 100 voxel lesions = 2, 20, 50 mm^3", gt, pred, (0.5, 0.5, 2.0))

    # multi-class BraTS labels
    def tumour(s, c, r_out, rng):
        wt = ball(s, c, r_out)
        tc = ball(s, c, tuple(max(1, x * 0.6) for x in r_out))
        nc = ball(s, c, tuple(max(0.8, x * 0.3) for x in r_out))
        a = np.zeros(s, np.uint8)
        a[wt] = 2
        a[tc] = 3
        a[nc] = 1
        return a

    for k, (s, sp) in enumerate([((28, 28, 14), (1.0, 1.0, 1.0)), ((30, 24, 10), (0.9375, 0.9375, 1.5))]):
        g = r(19 + k)
        gt = np.maximum(tumour(s, (8, 8, 6), (5, 5, 4), g), tumour(s, (20, 18, 7), (4, 4, 3), g))
        pred = np.maximum(tumour(s, (9, 8, 6), (5, 4, 4), g), tumour(s, (20, 17, 7), (3, 4, 3), g))
        gt[24, 3, 2] = 3
        pred[3, 20, 8] = 3
        pred[25, 21, 2:4] = 1
        if k == 1:
            pred[pred == 1] = 3  # no NETC predicted
            gt[15, 2:4, 8] = 2
        add(f"e{19 + k}_3d_multiclass_brats", "3D BraTS labels (1 NETC, 2 SNFH, 3 ET): two tumours, stray ET and NETC"
            + ("; no NETC predicted" if k else ""), gt, pred, sp)
    g = r(21)
    s = (32, 32)
    gt = np.zeros(s, np.uint8)
    pred = np.zeros(s, np.uint8)
    for c in [(8, 8), (22, 20)]:
        gt[ball(s, c, (6, 5))] = 2
        gt[ball(s, c, (3, 3))] = 3
        gt[ball(s, c, (1, 1))] = 1
    for c in [(9, 8), (22, 21)]:
        pred[ball(s, c, (5, 5))] = 2
        pred[ball(s, c, (3, 2))] = 3
    pred[28, 3] = 1
    add("e21_2d_multiclass_labels", "2D BraTS labels: two tumours, NETC missed, stray NETC", gt, pred, (1.0, 1.0))

    # instance maps with gappy ids and touching instances
    s = (24, 24)
    gt = np.zeros(s, np.uint16)
    pred = np.zeros(s, np.uint16)
    gt[2:6, 2:6] = 7; gt[2:6, 6:9] = 3; gt[6:9, 2:6] = 40  # three touching
    gt[14:18, 14:18] = 12
    gt[20:23, 2:5] = 1000
    pred[2:6, 3:7] = 5; pred[6:9, 2:6] = 9; pred[2:6, 7:9] = 9  # 9 is two separate pieces
    pred[14:18, 15:19] = 300
    pred[10:12, 20:23] = 2
    add("e22_2d_instances_gappy", "2D instance maps, ids with gaps (3, 7, 12, 40, 1000): touching instances, a two-piece instance, a miss, a FP",
        gt, pred, (1.0, 1.0), kind="instance")
    s = (14, 14, 8)
    gt = np.zeros(s, np.uint16)
    pred = np.zeros(s, np.uint16)
    gt[2:5, 2:5, 2:5] = 2; gt[5:8, 2:5, 2:5] = 9; gt[2:5, 5:8, 2:5] = 4
    gt[10:12, 10:12, 5:7] = 31
    pred[2:5, 2:5, 2:5] = 6; pred[5:8, 2:5, 2:5] = 6
    pred[2:5, 5:8, 3:6] = 11
    pred[10:12, 10:13, 5:7] = 8
    pred[0, 13, 7] = 65535
    add("e23_3d_instances_gappy", "3D instance maps: three touching reference instances (gappy ids), one prediction covering two, id 65535",
        gt, pred, (1.0, 1.0, 2.0), kind="instance")
    s = (16, 16)
    gt = np.zeros(s, np.uint16)
    gt[3:6, 3:6] = 4; gt[3:6, 6:9] = 8
    add("e24_2d_instances_empty_pred", "2D instance maps: two touching instances, empty prediction", gt, np.zeros(s, np.uint16), (0.5, 0.5), kind="instance")
    s = (20, 20)
    g = r(25)
    gt = np.zeros(s, np.uint16)
    pred = np.zeros(s, np.uint16)
    ids = g.choice(np.arange(2, 500), size=12, replace=False)
    k = 0
    for i in range(0, 20, 5):
        for j in range(0, 15, 5):
            gt[i:i + 4, j:j + 5] = ids[k]
            pred[i:i + 4, j + 1:j + 6] = ids[(k + 1) % 12] + 1000
            k += 1
    add("e25_2d_instances_grid", "2D instance maps: a grid of touching instances, prediction shifted by one pixel, random ids",
        gt, pred, (1.0, 1.0), kind="instance")

    # greedy vs bipartite
    gt = np.zeros((20, 30), np.uint8)
    pred = np.zeros_like(gt)
    gt[2:8, 2:8] = 1  # ref1
    gt[2:8, 10:14] = 1  # ref2
    pred[2:8, 5:12] = 1  # A: overlaps ref1 and ref2
    pred[2:8, 0:3] = 1  # B: overlaps ref1 only (touches ref1's edge region)
    gt[12:18, 2:9] = 1
    pred[12:18, 6:14] = 1
    add("e26_2d_greedy_vs_bipartite", "2D: a prediction bridging two lesions with IoUs where greedy and Hungarian matching differ",
        gt, pred, (1.0, 1.0))

    # random blobs
    g = r(27)
    s = (28, 24, 12)
    gt = np.zeros(s, np.uint8)
    pred = np.zeros(s, np.uint8)
    for _ in range(6):
        c = tuple(int(g.integers(2, x - 2)) for x in s)
        rad = tuple(float(g.uniform(1, 4)) for _ in s)
        gt |= ball(s, c, rad).astype(np.uint8)
        c2 = tuple(int(ci + g.integers(-1, 2)) for ci in c)
        pred |= ball(s, c2, tuple(x * g.uniform(0.7, 1.3) for x in rad)).astype(np.uint8)
    add("e27_3d_random_blobs_aniso", "3D 0.8x0.8x2.4 mm: random overlapping ellipsoids", gt, pred, (0.8125, 0.8125, 2.5))
    g = r(28)
    s = (30, 30)
    gt = (ndimage.gaussian_filter(g.random(s), 1.2) > 0.56).astype(np.uint8)
    pred = (ndimage.gaussian_filter(g.random(s) * 0.4 + gt * 0.6, 1.0) > 0.45).astype(np.uint8)
    add("e28_2d_random_texture", "2D: random thresholded texture (irregular lesions, holes)", gt, pred, (1.0, 0.5))

    # probability maps / FROC
    def froc_case(name, desc, shape, spacing, gt_les, hit, extra_peaks, nms=None, seed_k=0):
        g = r(100 + seed_k)
        gt = mask_of(shape, gt_les)
        peaks = []
        for vox, (h, n) in zip(gt_les, hit):
            cs = [vox[0], vox[len(vox) // 2], vox[-1]][:n]
            for i, c in enumerate(cs):
                peaks.append((c, h if i == 0 else np.float32(h * 0.8), 1.0))
        peaks += extra_peaks
        prob = prob_map(g, shape, gt, peaks)
        pred = (prob >= PRED_FROM_PROB).astype(np.uint8)
        add(name, desc, gt, pred, spacing, prob=prob, nms=nms)

    g = r(30)
    les = place_tiny(g, (48, 48), 12, (1, 15), gap=4)
    hits = [(np.float32(g.uniform(0.2, 0.97)), int(g.integers(0, 3))) for _ in les]
    hits[0] = (np.float32(0.75), 1)
    hits[1] = (np.float32(0.6), 1)
    extra = [((44, 3), np.float32(0.75), 1.0), ((3, 44), np.float32(0.6), 1.0), ((30, 40), np.float32(0.33), 1.5)]
    extra = [(c, h, w) for c, h, w in extra if mask_of((48, 48), les)[c] == 0]
    froc_case("e29_2d_froc_ties", "2D FROC: 12 tiny lesions, some with 0/2 candidates, true and false candidates sharing scores 0.75 and 0.6",
              (48, 48), (1.0, 1.0), les, hits, extra, seed_k=1)
    g = r(31)
    les = place_tiny(g, (24, 24, 12), 8, (1, 12), gap=3)
    hits = [(np.float32(g.uniform(0.15, 0.95)), 1 + int(g.integers(0, 2))) for _ in les]
    froc_case("e30_3d_froc_all_found", "3D FROC: 8 tiny lesions, every one with a candidate, no false positives",
              (24, 24, 12), (1.0, 1.0, 1.5), les, hits, [], seed_k=2)
    froc_case("e31_2d_froc_no_lesions", "2D FROC: no lesions, three false-positive bumps", (24, 24), (1.0, 1.0), [], [],
              [((5, 5), np.float32(0.9), 1.0), ((18, 6), np.float32(0.4), 1.0), ((12, 19), np.float32(0.12), 0.8)], seed_k=3)
    g = r(32)
    les = place_tiny(g, (40, 40), 9, (2, 20), gap=4)
    hits = [(np.float32(g.uniform(0.3, 0.9)), int(g.integers(0, 3))) for _ in les]
    froc_case("e32_2d_froc_sigma", "2D FROC with ProbNMS sigma 1.0 (MONAI's filter leaves a 2D map unchanged)", (40, 40), (1.0, 1.0),
              les, hits, [((36, 36), np.float32(0.5), 1.0)], nms={"sigma": 1.0, "prob_threshold": 0.1, "box_size": 5}, seed_k=4)
    g = r(33)
    les = place_tiny(g, (20, 20, 16), 6, (2, 15), gap=4)
    hits = [(np.float32(g.uniform(0.3, 0.9)), int(g.integers(0, 3))) for _ in les]
    froc_case("e33_3d_froc_sigma", "3D FROC with ProbNMS sigma 1.5, box 3 (MONAI smooths along the last axis only)", (20, 20, 16),
              (1.0, 1.0, 1.0), les, hits, [((2, 17, 13), np.float32(0.7), 1.2)],
              nms={"sigma": 1.5, "prob_threshold": 0.1, "box_size": 3}, seed_k=5)
    g = r(34)
    les = place_tiny(g, (16, 18, 20), 5, (2, 10), gap=4)
    hits = [(np.float32(g.uniform(0.3, 0.9)), 1) for _ in les]
    froc_case("e34_3d_froc_sigma_small", "3D FROC with ProbNMS sigma 0.5 and box sizes per axis", (16, 18, 20),
              (1.0, 1.0, 1.0), les, hits, [((13, 2, 2), np.float32(0.45), 1.0)],
              nms={"sigma": 0.5, "prob_threshold": 0.2, "box_size": [3, 5, 7]}, seed_k=6)
    return cases


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------
def evaluate_case(c, out_dir, b23, tmp):
    name, gt0, pred0, spacing, kind = c["name"], c["gt"], c["pred"], c["spacing"], c["kind"]
    spacing = tuple(float(np.float32(s)) for s in spacing)
    nd = gt0.ndim
    dtype = np.uint16 if kind == "instance" else np.uint8
    files = {"gt": f"cases/{name}_gt.nii.gz", "pred": f"cases/{name}_pred.nii.gz"}
    write_nii(out_dir / files["gt"], gt0.astype(dtype), spacing)
    write_nii(out_dir / files["pred"], pred0.astype(dtype), spacing)
    if c["prob"] is not None:
        files["prob"] = f"cases/{name}_prob.nii.gz"
        write_nii(out_dir / files["prob"], c["prob"].astype(np.float32), spacing)
    gt, sp = read_nii(out_dir / files["gt"])
    pred, _ = read_nii(out_dir / files["pred"])
    assert sp == spacing, (sp, spacing)
    if kind == "instance":
        labels = [1]
    else:
        labels = sorted(int(v) for v in set(np.unique(gt)) | set(np.unique(pred)) if v != 0) or [1]
    entry = {
        "description": c["desc"],
        "kind": kind,
        "ndim": nd,
        "shape": list(gt.shape),
        "spacing": list(spacing),
        "dtype": np.dtype(dtype).name,
        "files": files,
        "labels": labels,
        "per_label": {},
    }
    pano = run_panoptica(pred, gt, spacing, kind, labels)
    for label in labels:
        if kind == "instance":
            gm, pm = gt > 0, pred > 0
        else:
            gm, pm = gt == label, pred == label
        per = {"gt_voxels": int(gm.sum()), "pred_voxels": int(pm.sum()), "cc3d": {}}
        for conn in cc_conns(nd):
            per["cc3d"][str(conn)] = {"gt": cc3d_entry(gm, conn), "pred": cc3d_entry(pm, conn)}
        per["panoptica"] = pano[label]
        mp = {}
        if kind == "instance":
            mp["instances"] = monai_pq(pred, gt)
        else:
            for conn in (4, 8) if nd == 2 else (6, 26):
                mp[f"cc{conn}"] = monai_pq(cc3d.connected_components(pm.astype(np.uint8), connectivity=conn),
                                           cc3d.connected_components(gm.astype(np.uint8), connectivity=conn))
        per["monai_panoptic_quality"] = mp
        entry["per_label"][str(label)] = per
    if kind == "instance":
        entry["n_gt_instances"] = int(np.count_nonzero(np.unique(gt)))
        entry["n_pred_instances"] = int(np.count_nonzero(np.unique(pred)))
    if kind == "semantic" and nd == 3 and max(labels) > 1:
        entry["monai_panoptic_quality_metric"] = monai_pq_metric(pred, gt, labels)
    # BraTS: semantic files as they are; instance maps binarised.
    if kind == "instance":
        note = "the binarised foreground (instance id > 0 -> 1) of the case files"
        bp, bg = Path(tmp) / f"{name}_pred_bin.nii.gz", Path(tmp) / f"{name}_gt_bin.nii.gz"
        write_nii(bp, (pred > 0).astype(np.uint8), spacing)
        write_nii(bg, (gt > 0).astype(np.uint8), spacing)
    else:
        note = "the case files"
        bp, bg = out_dir / files["pred"], out_dir / files["gt"]
    cfg = "gli" if kind == "semantic" and max(labels) > 1 else "MenRT"
    be = run_brats_evaluation(bp, bg, cfg, tmp)
    be["input"] = note
    entry["brats_evaluation"] = be
    entry["brats2023"] = b23.run(bp, bg, note)
    froc_parts = None
    if c["prob"] is not None:
        prob, _ = read_nii(out_dir / files["prob"])
        entry["froc"], froc_parts = run_froc(prob, gt, c["nms"] or NMS)
    return entry, froc_parts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brats2023", required=True, help="folder holding a local copy of the BraTS 2023 script eval.py")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args()
    out_dir = Path(args.out)
    (out_dir / "cases").mkdir(parents=True, exist_ok=True)
    for f in (out_dir / "cases").glob("*.nii.gz"):
        f.unlink()
    b23 = Brats2023(args.brats2023)
    expected = {
        "libraries": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": version("scipy"),
            "torch": torch.__version__.split("+")[0],
            "monai": monai.__version__,
            "panoptica": version("panoptica"),
            "BraTS_evaluation": version("BraTS_evaluation"),
            "connected-components-3d": version("connected-components-3d"),
            "nibabel": nib.__version__,
            "pandas": pd.__version__,
            "BraTS-2023-Metrics": "eval.py (rachitsaluja/BraTS-2023-Metrics, read from source)",
        },
        "settings": {
            "pred_from_prob_threshold": PRED_FROM_PROB,
            "prob_nms": NMS,
            "roc_fp_rates": ROC_RATES,
            "camelyon_fp_rates": CAMELYON_RATES,
            "monai_pq_thresholds": PQ_THRESHOLDS,
            "panoptica_configs": {k: "as in the developer set (shared/reference/lesions)" for k in panoptica_configs()},
            "brats_mets_parser": {"vol_threshold": METS_VOL, "overlap_threshold": METS_OVERLAP},
            "brats2023_challenges": {k: {"dilation_factor": d, "lesion_volume_thresh_mm3": t} for k, (d, t) in CHALLENGES.items()},
            "generator": f"tools/golden/lesion_cases.py --seed {args.seed}",
        },
        "cases": {},
    }
    set_parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in build_cases(args.seed):
            print(c["name"], file=sys.stderr)
            entry, parts = evaluate_case(c, out_dir, b23, tmp)
            expected["cases"][c["name"]] = entry
            if parts is not None:
                set_parts.append((c["name"], parts))
    if set_parts:
        fp = np.concatenate([p[0] for _, p in set_parts]).astype(np.float32)
        tp = np.concatenate([p[1] for _, p in set_parts]).astype(np.float32)
        nt = sum(p[2] for _, p in set_parts)
        expected["froc_set"] = {
            "cases": [n for n, _ in set_parts],
            "monai": enc(monai_froc(fp, tp, nt, len(set_parts))),
            "reference_roc": enc(reference_roc([(p[3], p[4], p[5]) for _, p in set_parts], ROC_RATES)),
        }
    for name, e in expected["cases"].items():
        if "froc" in e:
            e["froc"] = enc(e["froc"])
    with open(out_dir / "expected.json", "w") as f:
        json.dump(enc(expected), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
