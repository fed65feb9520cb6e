#!/usr/bin/env python3
"""`dicekit eval` end to end against MONAI computing HD95 on arrays in memory (issue #20).

Writes two label-map pairs as NIfTI (.nii.gz) into DIR:
  blobs256: an irregular binary 256^3 pair (two smooth-noise blobs, ~0.6 M reference voxels),
  ct:       a CT-like 512x512x120 pair with spacing 0.8 x 0.8 x 2.5 (three labels),
then times, alternating, `dicekit eval --pred P --truth T --format json --tolerance 1` (the whole
process: reading, gzip, metrics, JSON) and MONAI 1.6 `compute_hausdorff_distance(percentile=95)`
on the arrays already in memory (what the issue compares with), and prints the ratio.

Needs: numpy, scipy, nibabel, torch, monai (e.g. the /root/peers virtualenv).
Usage: python eval_e2e.py DICEKIT_BINARY DIR [--repeats 3]
"""
import argparse
import os
import subprocess
import time

import nibabel as nib
import numpy as np
import scipy.ndimage as ndi


def blob(shape, seed, sigma, fraction):
    """Smooth noise above its (1 - fraction) quantile: irregular blobs covering `fraction`."""
    rng = np.random.default_rng(seed)
    noise = ndi.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    return noise > np.quantile(noise[::4, ::4, ::4], 1.0 - fraction)


def write(path, labels, spacing):
    img = nib.Nifti1Image(labels.astype(np.uint8), np.diag(list(spacing) + [1.0]))
    nib.save(img, path)


def make(dir_):
    os.makedirs(dir_, exist_ok=True)
    pairs = {}
    p = os.path.join(dir_, "blobs256_pred.nii.gz")
    t = os.path.join(dir_, "blobs256_truth.nii.gz")
    if not os.path.exists(t):
        shape = (256, 256, 256)
        truth = blob(shape, 1, 12, 0.036)
        pred = ndi.binary_dilation(truth, iterations=1) ^ blob(shape, 2, 6, 0.01)
        write(t, truth, (1, 1, 1))
        write(p, pred, (1, 1, 1))
    pairs["blobs256"] = (p, t, (1.0, 1.0, 1.0), [1])
    p = os.path.join(dir_, "ct_pred.nii.gz")
    t = os.path.join(dir_, "ct_truth.nii.gz")
    if not os.path.exists(t):
        shape = (512, 512, 120)
        truth = np.zeros(shape, np.uint8)
        for label, (seed, sigma, fraction) in enumerate([(3, 10, 0.05), (4, 6, 0.01), (5, 3, 0.002)], 1):
            truth[blob(shape, seed, sigma, fraction) & (truth == 0)] = label
        pred = truth.copy()
        pred[blob(shape, 6, 4, 0.005) & (pred == 0)] = 1
        pred[blob(shape, 7, 5, 0.003)] = 0
        write(t, truth, (0.8, 0.8, 2.5))
        write(p, pred, (0.8, 0.8, 2.5))
    pairs["ct"] = (p, t, (0.8, 0.8, 2.5), [1, 2, 3])
    return pairs


def time_dicekit(binary, p, t):
    t0 = time.perf_counter()
    subprocess.run([binary, "eval", "--pred", p, "--truth", t, "--format", "json", "--tolerance", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def time_monai(p, t, spacing, labels):
    import torch
    from monai.metrics import compute_hausdorff_distance
    pred = np.asarray(nib.load(p).dataobj)
    truth = np.asarray(nib.load(t).dataobj)
    onehot = lambda a: torch.from_numpy(np.stack([a == l for l in labels])[None])  # noqa: E731
    yp, yt = onehot(pred), onehot(truth)
    t0 = time.perf_counter()
    compute_hausdorff_distance(yp, yt, include_background=True, percentile=95, spacing=spacing)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    import torch
    torch.set_num_threads(2)
    for name, (p, t, spacing, labels) in make(a.dir).items():
        d, m = [], []
        for _ in range(a.repeats):
            d.append(time_dicekit(a.binary, p, t))
            m.append(time_monai(p, t, spacing, labels))
        d, m = min(d), min(m)
        print(f"{name}: dicekit eval (whole process) {d:.3f} s, MONAI HD95 on arrays {m:.3f} s, "
              f"ratio MONAI/dicekit {m / d:.2f}")


if __name__ == "__main__":
    main()
