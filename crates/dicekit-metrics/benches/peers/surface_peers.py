#!/usr/bin/env python3
"""Times MONAI 1.6 (HD95 alone, and all of HD/HD95/ASSD/NSD), DeepMind surface-distance and MedPy
on dicekit's surface-metric benchmark cases, next to dicekit computing HD, HD95, ASSD and NSD
together, and prints the ratios. Each peer is skipped cleanly when it is not installed; the whole
script exits 0 without torch/monai.

Run from the repository root: python3 crates/dicekit-metrics/benches/peers/surface_peers.py [case ...]
Cases: sphere128 sphere256 ct multi192 (the formulas of examples/common_cases.rs).
"""
import json
import resource
import subprocess
import sys
import time

import numpy as np


def ball(shape, spacing, c, r):
    grids = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij", sparse=True)
    return (sum((g - ci) ** 2 for g, ci in zip(grids, c)) <= r * r).astype(np.uint32)


def case(name):
    if name in ("sphere128", "sphere256"):
        n = 128 if name == "sphere128" else 256
        h = n / 2
        return (ball((n,) * 3, (1, 1, 1), (h + 2, h - 1, h), n * 0.3 + 1.5),
                ball((n,) * 3, (1, 1, 1), (h, h, h), n * 0.3), (1.0, 1.0, 1.0), [1])
    if name == "ct":
        s = (0.8, 0.8, 2.5)
        return (ball((512, 512, 120), s, (203, 208, 152.5), 62), ball((512, 512, 120), s, (200, 210, 150), 60), s, [1])
    if name == "multi192":
        n = 192
        idx = np.indices((n, n, n), sparse=True)

        def label_map(shift):
            out = np.zeros((n, n, n), np.uint32)
            for lab in range(14, 0, -1):  # lowest label wins, as in the Rust loop
                k = lab - 1
                c = [32 + 64 * (k % 3), 32 + 64 * ((k // 3) % 3), 48 + 96 * (k // 9)]
                d2 = sum((idx[a] - c[a] - (1 if shift and a == k % 3 else 0)) ** 2 for a in range(3))
                out[d2 <= 22 * 22] = lab
            return out

        return label_map(True), label_map(False), (1.0, 1.0, 1.0), list(range(1, 15))
    raise SystemExit(f"unknown case {name}")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def monai_runs(pred, gt, spacing, labels):
    try:
        import torch
        from monai.metrics import (compute_average_surface_distance, compute_hausdorff_distance,
                                   compute_surface_dice)
    except ImportError as e:
        return {"skipped": str(e)}
    torch.set_num_threads(2)

    def onehot(x):
        return torch.from_numpy(np.stack([x == l for l in labels])[None]).float()

    p, g = onehot(pred), onehot(gt)
    t_hd95, _ = timed(lambda: compute_hausdorff_distance(p, g, include_background=True, percentile=95, spacing=list(spacing)))

    def all_four():
        compute_hausdorff_distance(p, g, include_background=True, spacing=list(spacing))
        compute_hausdorff_distance(p, g, include_background=True, percentile=95, spacing=list(spacing))
        compute_average_surface_distance(p, g, include_background=True, symmetric=True, spacing=list(spacing))
        compute_surface_dice(p, g, [1.0] * len(labels), include_background=True, spacing=list(spacing))

    t_all, _ = timed(all_four)
    return {"hd95_s": t_hd95, "all_four_s": t_all}


def deepmind_runs(pred, gt, spacing, labels):
    try:
        import surface_distance as sd
    except ImportError as e:
        return {"skipped": str(e)}

    def run():
        for l in labels:
            d = sd.compute_surface_distances(gt == l, pred == l, spacing)
            sd.compute_robust_hausdorff(d, 100)
            sd.compute_robust_hausdorff(d, 95)
            sd.compute_average_surface_distance(d)
            sd.compute_surface_dice_at_tolerance(d, 1.0)

    t, _ = timed(run)
    return {"all_four_s": t}


def medpy_runs(pred, gt, spacing, labels):
    try:
        from medpy.metric import binary
    except ImportError as e:
        return {"skipped": str(e)}

    def run():
        for l in labels:
            binary.hd(pred == l, gt == l, voxelspacing=spacing)
            binary.hd95(pred == l, gt == l, voxelspacing=spacing)
            binary.assd(pred == l, gt == l, voxelspacing=spacing)

    t, _ = timed(run)
    return {"hd_hd95_assd_s": t}


def dicekit(name):
    out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "dicekit-metrics", "--example", "metrics_bench", "--", name, "3"],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return json.loads(out)


def main():
    names = sys.argv[1:] or ["sphere128", "sphere256", "ct", "multi192"]
    for name in names:
        pred, gt, spacing, labels = case(name)
        d = dicekit(name)
        m = monai_runs(pred, gt, spacing, labels)
        dm = deepmind_runs(pred, gt, spacing, labels)
        mp = medpy_runs(pred, gt, spacing, labels)
        line = f"{name}: dicekit all four {d['median_s']:.3f} s (peak {d['peak_mib']:.0f} MiB)"
        if "hd95_s" in m:
            line += (f" | MONAI HD95 alone {m['hd95_s']:.3f} s (ratio {m['hd95_s'] / d['median_s']:.1f}x), "
                     f"all four {m['all_four_s']:.3f} s ({m['all_four_s'] / d['median_s']:.1f}x)")
        else:
            line += f" | MONAI skipped ({m['skipped']})"
        line += (f" | DeepMind {dm['all_four_s']:.3f} s ({dm['all_four_s'] / d['median_s']:.1f}x)" if "all_four_s" in dm
                 else f" | DeepMind skipped ({dm['skipped']})")
        line += (f" | MedPy HD+HD95+ASSD {mp['hd_hd95_assd_s']:.3f} s ({mp['hd_hd95_assd_s'] / d['median_s']:.1f}x)"
                 if "hd_hd95_assd_s" in mp else f" | MedPy skipped ({mp['skipped']})")
        print(line, flush=True)


if __name__ == "__main__":
    main()
