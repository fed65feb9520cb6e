"""The golden reference cases through the Python API, as ``crates/dicekit-metrics/tests/golden.rs``
checks them through the Rust library: the same peers, the same convention per peer, the same keys,
the same tolerance (relative 1e-5) and the same skips.

Folders: the shared developer set (``<root>/../shared/reference/metrics``, skipped when absent)
and the committed empty-mask set (``crates/dicekit-metrics/tests/golden/empty``).

Each value is checked by three routes:

- ``evaluate`` on the arrays (the rows' ``status`` and ``peer_value`` where a side is empty);
- ``evaluate(..., empty="peer")``: the convention's own value (a float, NaN or inf; a peer that
  raises makes the call raise ``ValueError``);
- ``evaluate_files`` on the NIfTI files (rows equal to ``evaluate``'s).

The keys ``evaluate`` does not report (``hd_pred_to_gt``, ``masd``, ``nsd_subvoxel``,
``dice_empty1``, ``iou_empty1``) come from ``SurfaceDistances`` and ``ConfusionCounts``; MONAI's
label-map level scores from ``Accumulator.aggregate``. Run with ``-s`` for the summary line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Union

import pytest

import dicekit

from conftest import GOLDEN, SHARED_REFERENCE, load_expected, read_nifti

RTOL = 1e-5

# The peers of expected.json and the convention that reproduces each (golden.rs `convention`).
CONVENTION = {
    "monai": "monai",
    "surface_distance": "deepmind",
    "surface_distance_git": "deepmind",
    "medpy": "medpy",
    "seg_metrics": "seg-metrics",
    "metricsreloaded": "metrics-reloaded",
}
SKIPPED = {
    "miseval": "miseval's HD is not spatial and refuses 3D",
    "torchmetrics": "torchmetrics 1.9 HD is 2D only",
}

# The keys that are rows of `evaluate` (expected.json key -> metric name).
ROW_KEYS = {
    "dice": "dice",
    "iou": "iou",
    "hd": "hd",
    "hd95": "hd95",
    "assd": "assd",
    "asd_pred_to_gt": "asd_pred_to_gt",
    "nsd": "nsd",
}

FOLDERS = {
    "shared-metrics": SHARED_REFERENCE / "metrics",
    "empty": GOLDEN / "empty",
}

# dicekit's answer, as golden.rs's `Ours`: ("num", float) for a value, or ("peer", p) where a side
# is empty and p is what the convention's peer reports: a float, "nan", "inf" or "raises".
Ours = tuple[str, Union[float, str]]


def peer_of(v: Any) -> Union[float, str]:
    """A peer value from a row's ``peer_value`` or from a float resolved by ``empty="peer"``."""
    if isinstance(v, str):
        assert v in ("nan", "inf", "raises"), v
        return v
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf"
    return v


def compare(ours: Ours, want: Any) -> Optional[str]:
    """``None`` when dicekit reproduces ``want``, else the mismatch (golden.rs `compare`)."""
    kind, v = ours

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= RTOL * abs(b) + 1e-12

    if isinstance(want, (int, float)) and not isinstance(want, bool):
        if isinstance(v, float) and not isinstance(v, bool) and close(v, float(want)):
            return None
    elif isinstance(want, str):
        if want == "nan" and kind == "peer" and v == "nan":
            return None
        if want == "inf" and (v == "inf" or (kind == "num" and v == math.inf)):
            return None
        # The peer raises; dicekit returns a typed empty result instead.
        if want.startswith("error:") and kind == "peer":
            return None
    return f"expected {want!r}, dicekit {ours!r}"


def from_object(score: Callable[[str], float]) -> Ours:
    """dicekit's answer from an object method taking an ``empty`` policy: a value unless
    ``empty="raise"`` refuses it, else the peer's value under ``empty="peer"``."""
    try:
        return ("num", score("raise"))
    except ValueError:
        pass
    try:
        return ("peer", peer_of(score("peer")))
    except ValueError:
        return ("peer", "raises")


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list = field(default_factory=list)

    checks: int = 0

    def check(self, where: str, ours: Ours, want: Any, **routes: Ours) -> None:
        """One expected value, against dicekit's answer and the same answer by other routes."""
        whys = []
        for route, o in {"": ours, **routes}.items():
            self.checks += 1
            why = compare(o, want)
            if why is not None:
                whys.append(f"{where}{f' ({route})' if route else ''}: {why}")
        if whys:
            self.failed += 1
            self.failures.extend(whys)
        else:
            self.passed += 1


def row_map(rows: list[dict]) -> dict:
    return {(r["label"], r["metric"]): r for r in rows}


def row_ours(row: dict) -> Ours:
    if row["status"] == "ok":
        return ("num", float(row["value"]))
    assert row["value"] is None, row
    return ("peer", peer_of(row["peer_value"]))


def peer_policy_ours(row: dict, resolved: dict) -> Ours:
    """The answer of ``evaluate(empty="peer")`` (``row``: the same row without the policy)."""
    if row["status"] == "ok":
        return ("num", float(resolved["value"]))
    return ("peer", peer_of(resolved["value"]))


def run_folder(folder: Path) -> Tally:
    expected = load_expected(folder)
    tol = float(expected.get("nsd_tolerance_mm", 1.0))
    tally = Tally()
    for name, case in expected["cases"].items():
        pred_file = folder / case["files"]["pred"]
        gt_file = folder / case["files"]["gt"]
        pred, spacing_p = read_nifti(pred_file)
        gt, spacing = read_nifti(gt_file)
        assert list(spacing) == case["spacing"], f"{name}: header spacing differs"
        assert spacing_p == spacing
        labels = [int(l) for l in case["per_label"]]
        conventions = sorted(
            {CONVENTION[lib] for per in case["per_label"].values() for lib in per if lib in CONVENTION}
        )
        routes: dict[str, dict] = {}
        for conv in conventions:
            kw = dict(spacing=spacing, labels=labels, convention=conv, tolerance=tol)
            rows = dicekit.evaluate(pred, gt, **kw)
            try:
                peer_rows = row_map(dicekit.evaluate(pred, gt, empty="peer", **kw))
            except ValueError as e:
                # Only where the convention's peer raises for an empty side.
                assert any(r["peer_value"] == "raises" for r in rows), (name, conv, e)
                assert conv in str(e), (name, conv, e)
                peer_rows = None
            file_rows = dicekit.evaluate_files(
                pred_file, gt_file, labels=labels, convention=conv, tolerance=tol
            )
            file_rows = [r for r in file_rows if not r["case"].startswith("(")]
            strip = lambda rs: [{k: v for k, v in r.items() if k != "case"} for r in rs]  # noqa: E731
            assert strip(file_rows) == strip(rows), f"{name} {conv}: evaluate_files != evaluate"
            routes[conv] = {"rows": row_map(rows), "peer": peer_rows}

        for label, per in case["per_label"].items():
            l = int(label)
            pm, tm = pred == l, gt == l
            counts = dicekit.confusion_counts(pred, gt, labels=[l])[l]
            assert counts.tp + counts.fn == per["gt_voxels"], f"{name}/{label}"
            assert counts.tp + counts.fp == per["pred_voxels"], f"{name}/{label}"
            # Binary masks of the label give the label map's counts.
            assert dicekit.confusion_counts(pm, tm)[1] == counts if (pm.any() or tm.any()) else True
            surfaces: dict[tuple[str, str], dicekit.SurfaceDistances] = {}

            def sd(conv: str, empty: str) -> dicekit.SurfaceDistances:
                if (conv, empty) not in surfaces:
                    surfaces[conv, empty] = dicekit.SurfaceDistances(
                        pred, gt, label=l, spacing=spacing, convention=conv, empty=empty
                    )
                return surfaces[conv, empty]

            def by_object(key: str, conv: str) -> Callable[[str], float]:
                if key == "dice":
                    return lambda e: counts.dice(convention=conv, empty=e)
                if key == "iou":
                    return lambda e: counts.jaccard(convention=conv, empty=e)
                if key == "nsd":
                    return lambda e: sd(conv, e).nsd(tol)
                return lambda e: getattr(sd(conv, e), key)()

            for library, values in per.items():
                if not isinstance(values, dict):
                    continue
                if library in SKIPPED:
                    tally.skipped += len(values)
                    print(f"skip {name}/{label}/{library}: {SKIPPED[library]}")
                    continue
                conv = CONVENTION[library]
                for key, want in values.items():
                    where = f"{name}/{label}/{library}/{key}"
                    if library == "surface_distance" and str(want).startswith("error:"):
                        tally.skipped += 1  # PyPI 0.1 is broken under NumPy 2 (np.Inf / np.NaN).
                        continue
                    if key in ROW_KEYS:
                        row = routes[conv]["rows"][l, ROW_KEYS[key]]
                        # The building blocks (ConfusionCounts, SurfaceDistances) and, unless a
                        # metric of the convention raises here, evaluate(empty="peer").
                        others = {"objects": from_object(by_object(key, conv))}
                        peer = routes[conv]["peer"]
                        if peer is not None:
                            others["empty='peer'"] = peer_policy_ours(row, peer[l, ROW_KEYS[key]])
                        tally.check(where, row_ours(row), want, **others)
                        continue
                    if key in ("dice_empty1", "iou_empty1"):
                        # MONAI ignore_empty=False: both empty scores 1, one side empty 0.
                        if counts.tp + counts.fp + counts.fn == 0:
                            ours: Ours = ("num", 1.0)
                        else:
                            f = counts.dice if key == "dice_empty1" else counts.jaccard
                            ours = ("num", f(convention="deepmind", empty="raise"))
                    elif key == "hd_pred_to_gt":
                        ours = from_object(lambda e: sd(conv, e).hd_pred_to_gt())
                    elif key == "masd":
                        ours = from_object(lambda e: sd(conv, e).masd())
                    elif key == "nsd_subvoxel":
                        # MONAI use_subvoxels=True sums DeepMind's surfel areas.
                        ours = from_object(lambda e: sd("deepmind", e).nsd(tol))
                    else:
                        tally.failed += 1
                        tally.failures.append(f"{where}: metric not implemented")
                        continue
                    tally.check(where, ours, want)
            # SurfaceDistances agrees with the rows of evaluate (empty="peer").
            for conv in conventions:
                peer = routes[conv]["peer"]
                if peer is None:
                    continue
                s = sd(conv, "peer")
                for metric, value in (
                    ("hd", s.hd()),
                    ("hd95", s.hd95()),
                    ("assd", s.assd()),
                    ("asd_pred_to_gt", s.asd_pred_to_gt()),
                    ("nsd", s.nsd(tol)),
                ):
                    r = peer[l, metric]["value"]
                    assert r == value or (math.isnan(r) and math.isnan(value)), (name, conv, metric)

        # MONAI's label-map level scores: background excluded, one channel per label up to the
        # largest present (a label in neither map is still a class of the one-hot encoding).
        level = case.get("monai_label_map_level")
        if level:
            top = int(max(gt.max(), pred.max()))
            acc = dicekit.Accumulator(convention="monai", tolerance=tol, labels=list(range(1, top + 1)))
            acc.add(pred, gt, spacing=spacing, case=name)
            agg = acc.aggregate()
            for key, want in level.items():
                where = f"{name}/monai_label_map_level/{key}"
                if key == "generalized_dice_nobg_square":
                    v = agg["generalized_dice"]
                elif key == "dice_metric_mean_nobg":
                    v = agg["macro_dice"]
                else:
                    tally.skipped += 1
                    print(f"skip {where}: not in the Python API")
                    continue
                ours = ("num", float(v)) if v is not None else ("peer", "nan")
                tally.check(where, ours, want)
    return tally


@pytest.mark.parametrize("folder", list(FOLDERS), ids=list(FOLDERS))
def test_reference_cases(folder: str) -> None:
    tally = run_folder(FOLDERS[folder])
    for f in tally.failures:
        print(f"FAIL {f}")
    print(
        f"{folder}: metric cases: {tally.passed} passed, {tally.failed} failed, "
        f"{tally.skipped} skipped ({tally.checks} checks)"
    )
    assert not tally.failures, "\n".join(tally.failures)
    assert tally.passed > 0
