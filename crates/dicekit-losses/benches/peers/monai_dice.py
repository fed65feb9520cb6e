#!/usr/bin/env python3
"""Times MONAI's DiceLoss forward + backward on the shapes of dicekit's loss benchmark, beside
dicekit's own run (the fused kernel, and burn's generic path for reference), and prints the
ratio. Skips cleanly (exit 0) when torch or monai is missing.

Run from the repository root:  python3 crates/dicekit-losses/benches/peers/monai_dice.py [--threads 2]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeats", type=int, default=5)
args = ap.parse_args()

try:
    import torch
    import monai
    from monai.losses import DiceLoss
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e} (install torch and monai to compare)")
    sys.exit(0)

torch.set_num_threads(args.threads)
gen = torch.Generator().manual_seed(0)


def monai_case(case):
    if case == "2d":
        x = torch.rand((8, 1, 512, 512), generator=gen) * 8 - 4
        t = (torch.rand((8, 1, 512, 512), generator=gen) < 0.1).float()
        loss = DiceLoss(sigmoid=True)
    else:
        x = torch.rand((2, 14, 128, 128, 128), generator=gen) * 8 - 4
        t = (torch.arange(2 * 128 ** 3) * 7919 % 14).reshape(2, 1, 128, 128, 128)
        loss = DiceLoss(softmax=True, to_onehot_y=True)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(args.repeats):
        xr = x.clone().requires_grad_(True)
        t0 = time.perf_counter()
        v = loss(xr, t)
        v.backward()
        float(xr.grad.sum())
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return statistics.median(times), (peak - base) / 1024


def dicekit_case(case, path="fused"):
    """dicekit's run: the fused kernel (what Flex runs), or burn's generic tensor path."""
    env = dict(os.environ, LOSS_PATH=path)
    out = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "dicekit-losses", "--example", "loss_bench", "--", case, str(args.repeats)],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.strip().splitlines()[-1]
    return json.loads(out)


print(f"torch {torch.__version__}, monai {monai.__version__}, {args.threads} threads")
for case in ["2d", "3d"]:
    g = dicekit_case(case, "generic")
    m_time, m_mem = monai_case(case)
    d = dicekit_case(case)
    print(f"{case}: MONAI {m_time:.4f} s (peak +{m_mem:.0f} MiB) | dicekit generic path {g['median_s']:.4f} s "
          f"| dicekit {d['median_s']:.4f} s (peak +{d['peak_above_inputs_mib']:.0f} MiB above inputs of "
          f"{d['inputs_mib']:.0f}) | dicekit/MONAI time ratio {d['median_s'] / m_time:.2f}")
