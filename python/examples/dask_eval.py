#!/usr/bin/env python3
"""Evaluate a folder of cases on a Dask cluster with dicekit.

Predictions and references are paired by case name as ``dicekit eval`` pairs them
(``dicekit.pair_files``). Each case is one Dask task that scores it into an ``Accumulator``
holding that one case; the accumulators are merged pairwise, level by level (a tree reduction,
so no single task receives every case at once), and the merged accumulator gives the records
(the rows of ``dicekit eval --format json``) and the aggregates. Cases are kept by name and
aggregated in name order, so the result equals the single-process one exactly, whatever the
number of workers or the order in which tasks finish.

    # a small synthetic data set, then a local cluster of 2 worker processes
    python dask_eval.py --make-demo demo
    python dask_eval.py --pred demo/pred --truth demo/truth --workers 2 --out results.json

    # a running cluster (``dask scheduler`` + ``dask worker tcp://host:8786`` on each machine,
    # every worker with ``dicekit`` installed and the folders at the same path, e.g. a shared
    # file system)
    python dask_eval.py --pred /data/pred --truth /data/truth --scheduler tcp://host:8786

Needs ``dicekit`` and ``dask[distributed]`` (``pip install "./python[dask]"``).
"""
from __future__ import annotations

import argparse
import copy
import csv
import gzip
import json
import os
import struct
import sys
import uuid
from typing import Any, Dict, List, Literal, Optional, Sequence

import numpy as np

import dicekit


# --- scoring and merging (the functions the Dask tasks run) -----------------------------------

def score_case(
    name: str, pred: str, truth: str, options: Dict[str, Any], read: Dict[str, Any]
) -> dicekit.Accumulator:
    """One case, scored from its files into an accumulator of its own."""
    acc = dicekit.Accumulator(**options)
    acc.add_files(pred, truth, case=name, **read)
    return acc


def merge_two(a: dicekit.Accumulator, b: dicekit.Accumulator) -> dicekit.Accumulator:
    """A new accumulator with the cases of both (the inputs are left as they are)."""
    out = copy.copy(a)
    out.merge(b)
    return out


def tree_reduce(client: Any, futures: List[Any], token: str = "") -> Any:
    """Merges futures of accumulators pairwise, level by level: ceil(log2 n) levels of tasks."""
    token = token or uuid.uuid4().hex[:8]
    level = 0
    while len(futures) > 1:
        nxt = [
            client.submit(merge_two, futures[i], futures[i + 1],
                          key=f"dicekit-merge-{token}-{level}-{i // 2}")
            for i in range(0, len(futures) - 1, 2)
        ]
        if len(futures) % 2:
            nxt.append(futures[-1])  # the odd one goes up a level as it is
        futures, level = nxt, level + 1
    return futures[0]


def evaluate_on_dask(
    client: Any,
    pred: str,
    truth: str,
    *,
    convention: str = "monai",
    tolerance: float = 1.0,
    labels: Optional[Sequence[int]] = None,
    cl_dice: bool = False,
    spacing: Optional[Sequence[float]] = None,
    spacing_from: Optional[str] = None,
    errors: Literal["raise", "warn"] = "raise",
) -> dicekit.Accumulator:
    """Every case of two folders (or two files), one task per case, merged in a tree."""
    if __name__ != "__main__":
        # Imported as a module (a test, a notebook): the workers unpickle the tasks by importing
        # this module by name, so send them the file (run as a script, the functions of
        # `__main__` travel by value instead).
        client.upload_file(__file__)
    pairs = dicekit.pair_files(pred, truth, errors=errors)
    if not pairs:
        raise OSError(f"no cases in {pred} and {truth}")
    options = {
        "convention": convention,
        "tolerance": tolerance,
        "labels": None if labels is None else list(labels),
        "cl_dice": cl_dice,
    }
    read = {"spacing": None if spacing is None else list(spacing), "spacing_from": spacing_from}
    # Task keys name the case (the dashboard shows them) and this call (a second evaluation on
    # the same client must not reuse the first one's results).
    token = uuid.uuid4().hex[:8]
    futures = [
        client.submit(score_case, name, str(p), str(t), options, read,
                      key=f"dicekit-case-{token}-{name}")
        for name, p, t in pairs
    ]
    return tree_reduce(client, futures, token).result()


# --- output -----------------------------------------------------------------------------------

def write_records(records: List[Dict[str, Any]], path: str) -> None:
    """The records as JSON (a list of rows, as ``dicekit eval --format json``) or CSV (the
    columns of ``dicekit eval --format csv``; empty cells where a value is undefined)."""
    if path.endswith(".csv"):
        columns = ["case", "label", "metric", "value", "status", "peer_value", "convention",
                   "tolerance_mm"]
        for r in records:
            columns.extend(k for k in r if k not in columns)
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            for r in records:
                w.writerow({k: "" if r.get(k) is None else r[k] for k in columns})
    else:
        with open(path, "w") as f:
            json.dump(records, f, indent=1)
            f.write("\n")


def print_aggregate(agg: Dict[str, Any], cases: int) -> None:
    print(f"{cases} cases")
    for lab in agg["labels"]:
        means = ", ".join(
            f"{m} {v:.4f}" for m, v in lab["mean"].items() if v is not None
        )
        dice = lab["dice_all_voxels"]
        print(f"label {lab['label']}: Dice (all voxels) {'-' if dice is None else f'{dice:.4f}'}; "
              f"means over cases: {means}")
    for key in ("macro_dice", "generalized_dice"):
        v = agg[key]
        print(f"{key}: {'-' if v is None else f'{v:.4f}'}")


# --- a synthetic data set ---------------------------------------------------------------------

def write_nifti(path: str, labels: np.ndarray, spacing: Sequence[float]) -> None:
    """A uint8 label map as gzipped single-file NIfTI-1: the 348-byte header, 4 zero bytes
    (no extension), then the voxels in Fortran order. Voxel-to-world: sform = diag(spacing)."""
    data = np.asarray(labels, dtype=np.uint8)
    sx, sy, sz = (list(spacing) + [1.0] * 3)[:3]
    dim = [data.ndim] + list(data.shape) + [1] * (7 - data.ndim)
    pixdim = [1.0, sx, sy, sz, 1.0, 1.0, 1.0, 1.0]
    header = struct.pack(
        "<i10s18sihbb8h3f4h8f3fhbb4f2i80s24s2h6f12f16s4s",
        348, b"", b"", 0, 0, b"r"[0], 0,   # sizeof_hdr .. regular, dim_info
        *dim, 0.0, 0.0, 0.0,               # dim[8], intent_p1..3
        0, 2, 8, 0,                        # intent_code, datatype uint8, bitpix, slice_start
        *pixdim, 352.0, 0.0, 0.0,          # pixdim[8], vox_offset, scl_slope, scl_inter
        0, 0, 2,                           # slice_end, slice_code, xyzt_units = mm
        0.0, 0.0, 0.0, 0.0, 0, 0,          # cal_max, cal_min, slice_duration, toffset, glmax/min
        b"dicekit dask demo", b"",         # descrip, aux_file
        0, 1,                              # qform_code, sform_code
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0,      # quatern_b/c/d, qoffset_x/y/z
        sx, 0.0, 0.0, 0.0, 0.0, sy, 0.0, 0.0, 0.0, 0.0, sz, 0.0,  # srow_x/y/z
        b"", b"n+1\0",
    )
    assert len(header) == 348
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + b"\0\0\0\0" + data.tobytes(order="F"))


def demo_case(seed: int, shape: Sequence[int] = (48, 48, 32)) -> tuple:
    """A reference with two labels (ellipsoids) and a prediction that moves and resizes them,
    adds a spurious blob and, in every fifth case, misses label 2."""
    rng = np.random.default_rng(seed)
    grid = np.indices(shape, dtype=np.float32)
    truth = np.zeros(shape, np.uint8)
    pred = np.zeros(shape, np.uint8)
    for label in (1, 2):
        centre = rng.uniform(0.3, 0.7, 3) * np.array(shape)
        radii = rng.uniform(0.12, 0.25, 3) * np.array(shape)
        shift = rng.normal(0.0, 1.5, 3)
        scale = rng.uniform(0.85, 1.15)
        r_t = sum(((grid[a] - centre[a]) / radii[a]) ** 2 for a in range(3))
        r_p = sum(((grid[a] - centre[a] - shift[a]) / (radii[a] * scale)) ** 2 for a in range(3))
        truth[(r_t <= 1) & (truth == 0)] = label
        if not (label == 2 and seed % 5 == 4):
            pred[(r_p <= 1) & (pred == 0)] = label
    c = rng.integers(4, np.array(shape) - 4)
    pred[c[0] - 2:c[0] + 2, c[1] - 2:c[1] + 2, c[2] - 2:c[2] + 2] = 1
    return pred, truth


def make_demo(dir_: str, cases: int = 8, spacing: Sequence[float] = (0.9, 0.9, 2.0)) -> None:
    """DIR/pred/case_NNN.nii.gz and DIR/truth/case_NNN.nii.gz."""
    for side in ("pred", "truth"):
        os.makedirs(os.path.join(dir_, side), exist_ok=True)
    for i in range(cases):
        pred, truth = demo_case(i)
        write_nifti(os.path.join(dir_, "pred", f"case_{i:03d}.nii.gz"), pred, spacing)
        write_nifti(os.path.join(dir_, "truth", f"case_{i:03d}.nii.gz"), truth, spacing)


# --- command line -----------------------------------------------------------------------------

def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pred", help="prediction folder (or file)")
    ap.add_argument("--truth", help="reference folder (or file)")
    ap.add_argument("--scheduler", help="address of a running scheduler, e.g. tcp://host:8786")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    ap.add_argument("--rayon-threads", type=int, default=None,
                    help="threads dicekit uses inside each local worker "
                         "(default: the cores divided by --workers)")
    ap.add_argument("--convention", default="monai", choices=dicekit.CONVENTIONS)
    ap.add_argument("--tolerance", type=float, default=1.0, help="NSD tolerance (mm)")
    ap.add_argument("--labels", help="comma-separated labels (default: those present)")
    ap.add_argument("--spacing", help="comma-separated spacing overriding the headers")
    ap.add_argument("--spacing-from", choices=["truth", "pred"])
    ap.add_argument("--cl-dice", action="store_true")
    ap.add_argument("--errors", choices=["raise", "warn"], default="raise",
                    help="files without a partner: stop, or warn and leave them out")
    ap.add_argument("--out", help="write the records to this .json or .csv file")
    ap.add_argument("--make-demo", metavar="DIR", help="write a synthetic data set and exit")
    ap.add_argument("--demo-cases", type=int, default=8)
    a = ap.parse_args(argv)

    if a.make_demo:
        make_demo(a.make_demo, a.demo_cases)
        print(f"wrote {a.demo_cases} cases to {a.make_demo}/pred and {a.make_demo}/truth")
        return 0
    if not (a.pred and a.truth):
        ap.error("--pred and --truth are required (or --make-demo DIR)")

    from dask.distributed import Client, LocalCluster

    if a.scheduler:
        cluster = None
        client = Client(a.scheduler)
    else:
        threads = a.rayon_threads or max(1, (os.cpu_count() or 1) // a.workers)
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                               env={"RAYON_NUM_THREADS": str(threads)})
        client = Client(cluster)
    try:
        acc = evaluate_on_dask(
            client, a.pred, a.truth,
            convention=a.convention,
            tolerance=a.tolerance,
            labels=None if a.labels is None else [int(x) for x in a.labels.split(",")],
            cl_dice=a.cl_dice,
            spacing=None if a.spacing is None else [float(x) for x in a.spacing.split(",")],
            spacing_from=a.spacing_from,
            errors=a.errors,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print_aggregate(acc.aggregate(), len(acc))
    if a.out:
        write_records(acc.records(), a.out)
        print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
