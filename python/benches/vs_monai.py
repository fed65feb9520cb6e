#!/usr/bin/env python3
"""dicekit from Python against MONAI, side by side in one run, on arrays in memory (issue #23).

Per case, alternating ``--repeats`` times (the minimum of each side is reported):
  dicekit: ``dicekit.evaluate(pred, truth, spacing=..., labels=...)``, every reported metric
           (Dice, IoU, precision, recall, volume difference, HD, HD95, ASSD, directed ASD, NSD
           at 1 mm) of every label, convention ``monai``; uint8 label maps read in place.
  MONAI:   ``monai.metrics.compute_hausdorff_distance(percentile=95)``, HD95 alone, on the
           one-hot tensors (built before the clock starts, as the Rust-side benchmark does),
           bool and float32 (``--onehot``), each with its own ratio.
Two threads each: ``torch.set_num_threads(2)``; dicekit's rayon pool with RAYON_NUM_THREADS=2
(set here unless already set).

The cases are those of the Rust-side benchmark (crates/dicekit-eval/benches/peers/eval_e2e.py,
whose generators are imported from there): ``blobs256``, an irregular binary 256^3 pair, and
``ct``, a CT-like 512x512x120 pair with three labels and spacing 0.8 x 0.8 x 2.5.

``--memory`` also measures, in a fresh process holding the blobs256 arrays, how much resident
memory importing dicekit and evaluating the pair adds above them (peak RSS, Linux only).

Needs numpy, scipy, nibabel, torch, monai and dicekit in one interpreter, e.g. from the
repository root after ``maturin develop --release`` in python/ (or ``pip install ./python``):
    PYTHONPATH=python /path/to/peers/bin/python python/benches/vs_monai.py [--repeats 5] [--memory]
"""
import argparse
import datetime
import importlib.util
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "2")

import warnings  # noqa: E402

import numpy as np  # noqa: E402

# MONAI 1.6 warns about its own deprecated argument on every call.
warnings.filterwarnings("ignore", category=FutureWarning, module="monai")

ROOT = pathlib.Path(__file__).resolve().parents[2]
E2E = ROOT / "crates" / "dicekit-eval" / "benches" / "peers" / "eval_e2e.py"


def load_e2e():
    spec = importlib.util.spec_from_file_location("eval_e2e", E2E)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_case(e2e, name):
    """(pred, truth, spacing, labels) as uint8 arrays: eval_e2e.make()'s recipes in memory."""
    if name == "blobs256":
        import scipy.ndimage as ndi

        shape = (256, 256, 256)
        truth = e2e.blob(shape, 1, 12, 0.036)
        pred = ndi.binary_dilation(truth, iterations=1) ^ e2e.blob(shape, 2, 6, 0.01)
        return pred.astype(np.uint8), truth.astype(np.uint8), (1.0, 1.0, 1.0), [1]
    if name == "ct":
        # make()'s "ct" case is ct_pair with seeds 3..7 and the full-resolution blob.
        pred, truth = e2e.ct_pair((512, 512, 120), 3, e2e.blob)
        return pred, truth, (0.8, 0.8, 2.5), [1, 2, 3]
    raise ValueError(f"unknown case {name!r}")


def cached_case(e2e, name, cache):
    if cache is None:
        return make_case(e2e, name)
    os.makedirs(cache, exist_ok=True)
    p, t = os.path.join(cache, f"{name}_pred.npy"), os.path.join(cache, f"{name}_truth.npy")
    if not os.path.exists(t):
        pred, truth, spacing, labels = make_case(e2e, name)
        np.save(p, pred)
        np.save(t, truth)
        return pred, truth, spacing, labels
    _, _, spacing, labels = {"blobs256": (0, 0, (1.0, 1.0, 1.0), [1]),
                             "ct": (0, 0, (0.8, 0.8, 2.5), [1, 2, 3])}[name]
    return np.load(p), np.load(t), spacing, labels


def time_dicekit(pred, truth, spacing, labels):
    import dicekit

    t0 = time.perf_counter()
    rows = dicekit.evaluate(pred, truth, spacing=spacing, labels=labels, convention="monai",
                            tolerance=1.0)
    return time.perf_counter() - t0, rows


def time_monai(yp, yt, spacing):
    from monai.metrics import compute_hausdorff_distance

    t0 = time.perf_counter()
    hd95 = compute_hausdorff_distance(yp, yt, include_background=True, percentile=95,
                                      spacing=list(spacing))
    return time.perf_counter() - t0, hd95.numpy().ravel()


MEMORY_CHILD = r"""
import os, sys, numpy as np
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
pred, truth = np.load(sys.argv[1]), np.load(sys.argv[2])
pred.sum(); truth.sum()                      # every page touched
base = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:  # peak RSS := current RSS
    f.write("5")
reset = status("VmHWM:")
import dicekit
rows = dicekit.evaluate(pred, truth, spacing=(1.0, 1.0, 1.0), labels=[1])
peak = status("VmHWM:")
print(base, reset, peak, pred.nbytes + truth.nbytes)
"""


def measure_memory(pred, truth):
    with tempfile.TemporaryDirectory() as d:
        p, t = os.path.join(d, "pred.npy"), os.path.join(d, "truth.npy")
        np.save(p, pred)
        np.save(t, truth)
        out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, p, t], check=True,
                             capture_output=True, text=True).stdout.split()
    base, reset, peak, arrays = map(int, out)
    if reset > base + (16 << 20):
        return None  # the kernel did not reset the peak: no figure rather than a wrong one
    return base, peak, arrays


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description="dicekit.evaluate against MONAI's HD95")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="blobs256,ct")
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds of rest before each timed call (torch's OpenMP workers "
                         "spin for a while after a call and would take the cores from the "
                         "next one; 0 to time back to back)")
    ap.add_argument("--cache", help="keep the generated arrays here as .npy (reused next time)")
    ap.add_argument("--onehot", default="bool,float32",
                    help="dtypes of MONAI's one-hot inputs to time (comma-separated)")
    ap.add_argument("--memory", action="store_true",
                    help="also measure the memory dicekit adds above the blobs256 arrays")
    a = ap.parse_args()

    import monai
    import torch

    import dicekit

    torch.set_num_threads(2)
    e2e = load_e2e()
    print(f"date {datetime.datetime.now().isoformat(timespec='seconds')}; {machine()}")
    print(f"dicekit {dicekit.__version__} (RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}), "
          f"MONAI {monai.__version__}, torch {torch.__version__} "
          f"(threads {torch.get_num_threads()}), numpy {np.__version__}, "
          f"Python {platform.python_version()}; repeats {a.repeats}, minimum of each side")
    print("load average (1, 5, 15 min) before: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    blobs = None
    for name in a.cases.split(","):
        t0 = time.perf_counter()
        pred, truth, spacing, labels = cached_case(e2e, name, a.cache)
        if name == "blobs256":
            blobs = (pred, truth)
        gen = time.perf_counter() - t0
        # MONAI takes one-hot tensors: bool (as eval_e2e.py builds them) and float32 (what
        # AsDiscrete(to_onehot=...) gives a MONAI pipeline); both are timed, each ratio printed.
        onehots = {
            dt: (e2e.onehot(pred, labels).to(getattr(torch, dt)),
                 e2e.onehot(truth, labels).to(getattr(torch, dt)))
            for dt in a.onehot.split(",")
        }
        d, m = [], {dt: [] for dt in onehots}
        for _ in range(a.repeats):
            time.sleep(a.settle)
            td, rows = time_dicekit(pred, truth, spacing, labels)
            d.append(td)
            for dt, (yp, yt) in onehots.items():
                time.sleep(a.settle)
                tm, hd95 = time_monai(yp, yt, spacing)
                m[dt].append(tm)
        ours = [r["value"] for r in rows if r["metric"] == "hd95"]
        agree = np.allclose(ours, hd95, rtol=1e-6, atol=1e-6)
        metrics = sorted({r["metric"] for r in rows})
        print(f"{name} (shape {pred.shape}, labels {labels}; generated in {gen:.0f} s): "
              f"{len(rows)} values ({', '.join(metrics)}); "
              f"HD95 dicekit {np.round(ours, 4).tolist()} "
              f"MONAI {np.round(hd95, 4).tolist()} ({'agree' if agree else 'DIFFER'})")
        d = min(d)
        for dt, times in m.items():
            t = min(times)
            print(f"{name}: | dicekit {d:.3f} s | monai ({dt} one-hot) {t:.3f} s "
                  f"| ratio monai/dicekit = {t / d:.1f}", flush=True)
        del onehots
    print("load average (1, 5, 15 min) after: %.2f %.2f %.2f" % os.getloadavg())
    if a.memory:
        if blobs is None:
            blobs = cached_case(e2e, "blobs256", a.cache)[:2]
        r = measure_memory(*blobs)
        if r is None:
            print("memory: the peak RSS could not be reset here; no figure")
        else:
            base, peak, arrays = r
            print(f"memory (blobs256): arrays {arrays / 2**20:.0f} MiB, process with the arrays "
                  f"{base / 2**20:.0f} MiB, peak after importing dicekit and evaluating "
                  f"{peak / 2**20:.0f} MiB: +{(peak - base) / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
