#!/usr/bin/env python3
"""`dicekit eval` end to end against MONAI computing HD95 on arrays in memory (issue #20).

Writes label maps as NIfTI (.nii.gz) into DIR (once: kept and reused):
  blobs256: an irregular binary 256^3 pair (two smooth-noise blobs, ~0.6 M reference voxels),
  ct:       a CT-like 512x512x120 pair with spacing 0.8 x 0.8 x 2.5 (three labels),
  labels14: 14 labels at 192^3, spacing 1 x 1 x 1 (adjacent smooth-noise regions, the
            prediction's boundaries moved and a few spurious blobs),
  folder50: 50 CT-like 512x512x120 pairs in DIR/folder50/{pred,truth}/ (ct's recipe with
            other seeds, built from quarter-resolution noise to keep generation minutes long),
then times, alternating, `dicekit eval --pred P --truth T --format json --tolerance 1` (the whole
process: reading, gzip, metrics, JSON) and MONAI 1.6 `compute_hausdorff_distance(percentile=95)`
on the arrays already in memory (what the issue compares with; for the folder, each case read
with nibabel first, as MONAI users do), and prints one line per case ending in the ratio.

The folder's MONAI run takes minutes: it is timed once (`--repeats` applies to dicekit only),
or left out with `--cases blobs256,ct,labels14`.

Needs: numpy, scipy, nibabel, torch, monai (e.g. the /root/peers virtualenv).
Usage: python eval_e2e.py DICEKIT_BINARY DIR [--repeats 3] [--cases blobs256,ct,labels14,folder50]
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


def coarse_blob(shape, seed, sigma, fraction, factor=4):
    """`blob` from noise at 1/factor resolution, smoothed and upsampled (linear): the same kind
    of irregular region, 10-50x faster to make at 512x512x120."""
    rng = np.random.default_rng(seed)
    small = tuple(-(-n // factor) for n in shape)
    noise = ndi.gaussian_filter(rng.standard_normal(small).astype(np.float32), sigma / factor)
    noise = ndi.zoom(noise, factor, order=1)[tuple(slice(0, n) for n in shape)]
    return noise > np.quantile(noise[::4, ::4, ::4], 1.0 - fraction)


def ct_pair(shape, seed, blob_fn):
    """The CT-like recipe: three labels of decreasing size, a prediction with a spurious
    label-1 region and a missed region."""
    truth = np.zeros(shape, np.uint8)
    for label, (s, sigma, fraction) in enumerate([(0, 10, 0.05), (1, 6, 0.01), (2, 3, 0.002)], 1):
        truth[blob_fn(shape, seed + s, sigma, fraction) & (truth == 0)] = label
    pred = truth.copy()
    pred[blob_fn(shape, seed + 3, 4, 0.005) & (pred == 0)] = 1
    pred[blob_fn(shape, seed + 4, 5, 0.003)] = 0
    return pred, truth


def make(dir_, cases):
    os.makedirs(dir_, exist_ok=True)
    pairs = {}
    p = os.path.join(dir_, "blobs256_pred.nii.gz")
    t = os.path.join(dir_, "blobs256_truth.nii.gz")
    if "blobs256" in cases and not os.path.exists(t):
        shape = (256, 256, 256)
        truth = blob(shape, 1, 12, 0.036)
        pred = ndi.binary_dilation(truth, iterations=1) ^ blob(shape, 2, 6, 0.01)
        write(t, truth, (1, 1, 1))
        write(p, pred, (1, 1, 1))
    pairs["blobs256"] = (p, t, (1.0, 1.0, 1.0), [1])
    p = os.path.join(dir_, "ct_pred.nii.gz")
    t = os.path.join(dir_, "ct_truth.nii.gz")
    if "ct" in cases and not os.path.exists(t):
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
    p = os.path.join(dir_, "labels14_pred.nii.gz")
    t = os.path.join(dir_, "labels14_truth.nii.gz")
    if "labels14" in cases and not os.path.exists(t):
        shape = (192, 192, 192)
        rng = np.random.default_rng(11)
        fields = np.stack([ndi.gaussian_filter(rng.standard_normal(shape).astype(np.float32), 8)
                           for _ in range(14)])
        # Each voxel takes the label of its strongest field, where that field is high enough:
        # 14 adjacent irregular regions on a background.
        top = fields.argmax(0)
        strength = fields.max(0)
        truth = np.where(strength > np.quantile(strength[::4, ::4, ::4], 0.55), top + 1, 0)
        # The prediction: the same fields slightly disturbed (boundaries move by a voxel or
        # two), plus spurious blobs of random labels.
        wobble = np.stack([ndi.gaussian_filter(rng.standard_normal(shape).astype(np.float32), 4)
                           for _ in range(14)])
        fields += 0.3 * wobble
        top = fields.argmax(0)
        strength = fields.max(0)
        pred = np.where(strength > np.quantile(strength[::4, ::4, ::4], 0.55), top + 1, 0)
        # Each spurious blob (connected component) takes one label.
        components, _ = ndi.label(blob(shape, 12, 3, 0.002))
        pred = np.where(components > 0, 1 + components % 14, pred)
        write(t, truth.astype(np.uint8), (1, 1, 1))
        write(p, pred.astype(np.uint8), (1, 1, 1))
    pairs["labels14"] = (p, t, (1.0, 1.0, 1.0), list(range(1, 15)))
    folder = os.path.join(dir_, "folder50")
    if "folder50" in cases:
        for side in ("pred", "truth"):
            os.makedirs(os.path.join(folder, side), exist_ok=True)
        for i in range(50):
            name = f"case_{i:03d}.nii.gz"
            t = os.path.join(folder, "truth", name)
            if os.path.exists(t):
                continue
            pred, truth = ct_pair((512, 512, 120), 100 + 10 * i, coarse_blob)
            write(os.path.join(folder, "pred", name), pred, (0.8, 0.8, 2.5))
            write(t, truth, (0.8, 0.8, 2.5))
    pairs["folder50"] = (os.path.join(folder, "pred"), os.path.join(folder, "truth"),
                         (0.8, 0.8, 2.5), [1, 2, 3])
    return {k: v for k, v in pairs.items() if k in cases}


def time_dicekit(binary, p, t):
    t0 = time.perf_counter()
    subprocess.run([binary, "eval", "--pred", p, "--truth", t, "--format", "json", "--tolerance", "1"],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def onehot(a, labels):
    import torch
    return torch.from_numpy(np.stack([a == l for l in labels])[None])


def time_monai(p, t, spacing, labels):
    from monai.metrics import compute_hausdorff_distance
    yp = onehot(np.asarray(nib.load(p).dataobj), labels)
    yt = onehot(np.asarray(nib.load(t).dataobj), labels)
    t0 = time.perf_counter()
    compute_hausdorff_distance(yp, yt, include_background=True, percentile=95, spacing=spacing)
    return time.perf_counter() - t0


def time_monai_folder(pred_dir, truth_dir, spacing, labels):
    """Every case of the folder read with nibabel, then MONAI's HD95 (reading included)."""
    from monai.metrics import compute_hausdorff_distance
    t0 = time.perf_counter()
    for name in sorted(os.listdir(truth_dir)):
        yp = onehot(np.asarray(nib.load(os.path.join(pred_dir, name)).dataobj), labels)
        yt = onehot(np.asarray(nib.load(os.path.join(truth_dir, name)).dataobj), labels)
        compute_hausdorff_distance(yp, yt, include_background=True, percentile=95,
                                   spacing=spacing)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="blobs256,ct,labels14,folder50",
                    help="comma-separated subset of blobs256,ct,labels14,folder50")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(2)
    for name, (p, t, spacing, labels) in make(a.dir, a.cases.split(",")).items():
        if name == "folder50":
            d = min(time_dicekit(a.binary, p, t) for _ in range(a.repeats))
            m = time_monai_folder(p, t, spacing, labels)
            print(f"{name}: dicekit eval on the folders (whole process) {d:.3f} s, MONAI HD95 "
                  f"over the folder read with nibabel {m:.3f} s (once), "
                  f"ratio MONAI/dicekit {m / d:.2f}", flush=True)
            continue
        d, m = [], []
        for _ in range(a.repeats):
            d.append(time_dicekit(a.binary, p, t))
            m.append(time_monai(p, t, spacing, labels))
        d, m = min(d), min(m)
        print(f"{name}: dicekit eval (whole process) {d:.3f} s, MONAI HD95 on arrays {m:.3f} s, "
              f"ratio MONAI/dicekit {m / d:.2f}", flush=True)


if __name__ == "__main__":
    main()
