#!/usr/bin/env python3
"""`dicekit eval --lesions` end to end against panoptica 2.1.7 on the same pair (issue #22).

Writes into DIR (cached) a CT-like 512x512x120 pair with 500 lesions (spacing 0.8 x 0.8 x 2.5):
the reference holds 500 random ellipsoids of 1-6 voxels radius; the prediction keeps most of them
(some shifted or shrunk), misses about 15 % and adds 60 false positives. Then times, alternating:

  dicekit eval --pred P --truth T --lesions --match iou --connectivity 26 --lesion-distances
      (the whole process: reading, gzip, components, matching, per-lesion Dice / IoU / ASSD /
      HD95, JSON)
  panoptica: Panoptica_Evaluator(SEMANTIC, ConnectedComponentsInstanceApproximator(),
      NaiveThresholdMatching()).evaluate(pred, ref) on the arrays already in memory
      (components, matching, per-lesion DSC / IoU / ASSD / RVD)

and prints one line ending in the ratio, plus both detection counts (they must agree).

Needs: numpy, nibabel, panoptica (pip install panoptica==2.1.7).
Usage: python lesions_panoptica.py DICEKIT_BINARY DIR [--repeats 3]
"""
import argparse
import json
import os
import subprocess
import time

import nibabel as nib
import numpy as np

SHAPE = (512, 512, 120)
SPACING = (0.8, 0.8, 2.5)


def ellipsoid(arr, centre, radii, value=1):
    lo = [max(0, int(c - r) - 1) for c, r in zip(centre, radii)]
    hi = [min(s, int(c + r) + 2) for c, r, s in zip(centre, radii, arr.shape)]
    g = np.ogrid[tuple(slice(a, b) for a, b in zip(lo, hi))]
    inside = sum(((x - c) / r) ** 2 for x, c, r in zip(g, centre, radii)) <= 1.0
    arr[tuple(slice(a, b) for a, b in zip(lo, hi))][inside] = value


def make(dir_):
    os.makedirs(dir_, exist_ok=True)
    p, t = os.path.join(dir_, "lesions500_pred.nii.gz"), os.path.join(dir_, "lesions500_truth.nii.gz")
    if os.path.exists(t):
        return p, t
    rng = np.random.default_rng(22)
    truth = np.zeros(SHAPE, np.uint8)
    pred = np.zeros(SHAPE, np.uint8)
    for _ in range(500):
        c = [rng.uniform(8, s - 8) for s in SHAPE]
        r = [rng.uniform(1.0, 6.0), rng.uniform(1.0, 6.0), rng.uniform(1.0, 3.0)]
        ellipsoid(truth, c, r)
        u = rng.uniform()
        if u < 0.15:
            continue  # missed
        if u < 0.5:
            c = [x + rng.normal(0, 1.0) for x in c]  # shifted
        if u > 0.85:
            r = [x * 0.6 for x in r]  # shrunk
        ellipsoid(pred, c, r)
    for _ in range(60):  # false positives
        c = [rng.uniform(8, s - 8) for s in SHAPE]
        ellipsoid(pred, c, [rng.uniform(1.0, 4.0)] * 2 + [1.5])
    affine = np.diag(list(SPACING) + [1.0])
    nib.save(nib.Nifti1Image(truth, affine), t)
    nib.save(nib.Nifti1Image(pred, affine), p)
    return p, t


def run_dicekit(binary, p, t):
    t0 = time.perf_counter()
    out = subprocess.run(
        [binary, "eval", "--pred", p, "--truth", t, "--lesions", "--match", "iou", "--connectivity", "26",
         "--lesion-distances", "--format", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    dt = time.perf_counter() - t0
    rows = json.loads(out)
    pick = {r["metric"]: r["value"] for r in rows if r["case"] == "(all cases)" and r["size_bin"] == "all"}
    return dt, (int(pick["found"]), int(pick["false_positives"]), int(pick["missed"]))


def run_panoptica(pred, ref, spacing):
    from panoptica import (ConnectedComponentsInstanceApproximator, InputType, NaiveThresholdMatching,
                           Panoptica_Evaluator)
    ev = Panoptica_Evaluator(
        expected_input=InputType.SEMANTIC,
        instance_approximator=ConnectedComponentsInstanceApproximator(),
        instance_matcher=NaiveThresholdMatching(),
    )
    t0 = time.perf_counter()
    res = ev.evaluate(pred, ref, voxelspacing=spacing, verbose=False)
    dt = time.perf_counter() - t0
    r = list(res.values())[0] if isinstance(res, dict) else res
    r = r[0] if isinstance(r, tuple) else r
    return dt, (int(r.tp), int(r.fp), int(r.fn))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    try:
        import panoptica  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (pip install panoptica==2.1.7)")
        return
    p, t = make(args.dir)
    pred = np.asarray(nib.load(p).dataobj)
    ref = np.asarray(nib.load(t).dataobj)
    d_times, p_times = [], []
    d_counts = p_counts = None
    for _ in range(args.repeats):
        dt, d_counts = run_dicekit(args.binary, p, t)
        d_times.append(dt)
        pt, p_counts = run_panoptica(pred, ref, SPACING)
        p_times.append(pt)
    d, pa = min(d_times), min(p_times)
    print(f"lesions500 (tp, fp, fn): dicekit {d_counts}, panoptica {p_counts}")
    print(f"lesions500: dicekit eval --lesions (whole process) {d:.3f} s, panoptica on arrays {pa:.3f} s, "
          f"ratio panoptica/dicekit {pa / d:.1f}")


if __name__ == "__main__":
    main()
