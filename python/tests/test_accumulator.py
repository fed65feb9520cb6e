"""Accumulator: adding and merging in any grouping and order gives exactly the single
accumulator's records and aggregates; pickling (also across processes) keeps it; names and
options are checked; records equal ``evaluate_files``'s rows for the same files."""
from __future__ import annotations

import copy
import math
import multiprocessing
import pickle
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import dicekit

from conftest import GOLDEN, read_nifti


def make_cases(n: int = 7, seed: int = 3) -> list[tuple[str, np.ndarray, np.ndarray, tuple]]:
    """Small 2D and 3D cases with labels 1..3, some absent from a case or from one side."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        shape = (14, 15, 9) if k % 2 else (20, 17)
        truth = np.zeros(shape, np.uint8)
        pred = np.zeros(shape, np.uint8)
        for label in (1, 2, 3):
            if rng.random() < 0.25:
                continue  # label absent from this case
            lo = [int(rng.integers(0, s - 5)) for s in shape]
            size = [int(rng.integers(2, 5)) for _ in shape]
            box = tuple(slice(a, a + s) for a, s in zip(lo, size))
            if rng.random() < 0.85:
                truth[box] = label
            shifted = tuple(
                slice(max(0, b.start + int(rng.integers(-1, 2))), b.stop) for b in box
            )
            if rng.random() < 0.85:
                pred[shifted] = label
        spacing = (1.0, 0.75, 2.0)[: len(shape)]
        cases.append((f"case{k:02d}", pred, truth, spacing))
    return cases


def same(a, b) -> bool:
    """Equality with NaN equal to NaN (records and aggregates may carry NaN)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def cases():
    return make_cases()


def filled(cases, order=None, **options) -> dicekit.Accumulator:
    acc = dicekit.Accumulator(**options)
    for i in order if order is not None else range(len(cases)):
        name, pred, truth, spacing = cases[i]
        acc.add(pred, truth, spacing=spacing, case=name)
    return acc


def assert_identical(a: dicekit.Accumulator, b: dicekit.Accumulator) -> None:
    assert a == b
    assert a.cases == b.cases and len(a) == len(b)
    assert same(a.records(), b.records())
    assert same(a.aggregate(), b.aggregate())


@pytest.mark.parametrize("convention", ["monai", "deepmind", "metrics-reloaded"])
@pytest.mark.parametrize(
    "groups",
    [
        [[0, 1, 2, 3, 4, 5, 6]],
        [[6, 5, 4, 3, 2, 1, 0]],
        [[0, 3], [1, 4, 5], [2, 6]],
        [[5], [2], [0, 6, 1], [4, 3]],
        [[0], [1], [2], [3], [4], [5], [6]],
    ],
    ids=["one", "reversed", "three", "four", "singles"],
)
def test_merge_in_any_grouping_equals_one_accumulator(cases, groups, convention) -> None:
    single = filled(cases, convention=convention)
    parts = [filled(cases, g, convention=convention) for g in groups]
    # Left fold in the given order.
    left = dicekit.Accumulator(convention=convention)
    for p in parts:
        left.merge(p)
    assert_identical(left, single)
    # A tree reduction, the parts in reverse order.
    level = [copy.deepcopy(p) for p in reversed(parts)]
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            level[i].merge(level[i + 1])
            nxt.append(level[i])
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    assert_identical(level[0], single)


def test_records_and_aggregate(cases) -> None:
    acc = filled(cases)
    records = acc.records()
    per_case = [r for r in records if not r["case"].startswith("(")]
    # The per-case rows are evaluate's rows with the case named (labels completed to the set).
    for name, pred, truth, spacing in cases:
        own = [r for r in per_case if r["case"] == name]
        rows = dicekit.evaluate(pred, truth, spacing=spacing, case=name, labels=sorted({r["label"] for r in own}))
        assert same(own, rows)
    assert {r["case"] for r in records if r["case"].startswith("(")} == {"(mean)", "(all voxels)"}
    agg = acc.aggregate()
    assert set(agg) == {"labels", "macro_dice", "generalized_dice"}
    labels = agg["labels"]
    assert [l["label"] for l in labels] == [1, 2, 3]
    for l in labels:
        assert l["cases"] == len(cases)
        assert set(l["mean"]) == set(l["excluded"]) >= {"dice", "hd95", "nsd"}
        # The micro Dice is the (all voxels) row of the records.
        row = next(r for r in records if r["case"] == "(all voxels)" and r["label"] == l["label"])
        assert row["value"] == l["dice_all_voxels"]
        mean = next(
            r for r in records if r["case"] == "(mean)" and r["label"] == l["label"] and r["metric"] == "hd95"
        )
        assert same(mean["value"], l["mean"]["hd95"])
    dices = [l["dice_all_voxels"] for l in labels if l["dice_all_voxels"] is not None]
    assert agg["macro_dice"] == pytest.approx(sum(dices) / len(dices), rel=1e-12)
    assert 0.0 <= agg["generalized_dice"] <= 1.0


def test_pickle_round_trip(cases) -> None:
    for options in ({}, {"convention": "medpy", "tolerance": 2.0, "labels": [1, 3]}, {"cl_dice": True}):
        acc = filled(cases, **options)
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(acc, protocol=protocol))
            assert_identical(back, acc)
        assert_identical(copy.deepcopy(acc), acc)
        assert_identical(copy.copy(acc), acc)
        # The options travel: the copy merges with the original's kind, not with another.
        back = pickle.loads(pickle.dumps(acc))
        fresh = dicekit.Accumulator(**options)
        fresh.merge(back)
        assert_identical(fresh, acc)
    empty = dicekit.Accumulator()
    assert pickle.loads(pickle.dumps(empty)) == empty and len(empty) == 0
    counts = dicekit.confusion_counts(cases[0][1], cases[0][2])
    assert pickle.loads(pickle.dumps(counts)) == counts


def _part(args):
    cases, ids = args
    return filled(cases, ids)


def test_merge_across_processes(cases) -> None:
    """Accumulators built in worker processes (spawned: a forked child would inherit the parent's
    thread pool state) come back pickled and merge to the single-process result."""
    single = filled(cases)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        parts = list(pool.map(_part, [(cases, [0, 2, 4, 6]), (cases, [1, 3, 5])]))
    merged = dicekit.Accumulator()
    for p in reversed(parts):
        merged.merge(p)
    assert_identical(merged, single)


def test_names_must_differ(cases) -> None:
    name, pred, truth, spacing = cases[0]
    acc = dicekit.Accumulator()
    acc.add(pred, truth, case=name)
    with pytest.raises(ValueError, match="already"):
        acc.add(pred, truth, case=name)
    other = dicekit.Accumulator()
    other.add(cases[1][1], cases[1][2], case="other")
    other.add(pred, truth, case=name)
    before = copy.deepcopy(acc)
    with pytest.raises(ValueError, match=name):
        acc.merge(other)
    assert acc == before  # a refused merge adds nothing
    # Default names are per accumulator: name cases that are merged.
    a, b = dicekit.Accumulator(), dicekit.Accumulator()
    a.add(pred, truth)
    b.add(pred, truth)
    assert a.cases == b.cases == ["case_000000"]
    with pytest.raises(ValueError, match="case_000000"):
        a.merge(b)
    a.add(pred, truth)
    assert a.cases == ["case_000000", "case_000001"]


@pytest.mark.parametrize(
    "options",
    [{"convention": "deepmind"}, {"tolerance": 2.0}, {"labels": [1, 2]}, {"cl_dice": True}],
)
def test_merging_different_options_raises(cases, options) -> None:
    acc = filled(cases[:2])
    other = dicekit.Accumulator(**options)
    other.add(cases[2][1], cases[2][2], case="x")
    with pytest.raises(ValueError, match="different"):
        acc.merge(other)
    with pytest.raises(ValueError, match="different"):
        other.merge(acc)


def test_records_equal_evaluate_files(tmp_path: Path) -> None:
    """A folder of the committed golden cases: evaluate_files's rows, add_files and add."""
    expected = (GOLDEN / "expected.json").read_text()
    names = sorted(n for n in __import__("json").loads(expected)["cases"])
    for side, key in (("pred", "pred"), ("truth", "gt")):
        (tmp_path / side).mkdir()
        for n in names:
            shutil.copy(GOLDEN / "cases" / f"{n}_{key}.nii.gz", tmp_path / side / f"{n}.nii.gz")
    for convention in ("monai", "seg-metrics"):
        rows = dicekit.evaluate_files(tmp_path / "pred", tmp_path / "truth", convention=convention)
        acc = dicekit.Accumulator(convention=convention)
        for n in reversed(names):
            acc.add_files(tmp_path / "pred" / f"{n}.nii.gz", tmp_path / "truth" / f"{n}.nii.gz")
        assert acc.cases == names
        assert same(acc.records(), rows)
        with pytest.raises(ValueError, match="already"):
            acc.add_files(tmp_path / "pred" / f"{names[0]}.nii.gz", tmp_path / "truth" / f"{names[0]}.nii.gz")
        try:
            import nibabel  # noqa: F401
        except ImportError:
            continue
        arrays = dicekit.Accumulator(convention=convention)
        for n in names:
            pred, spacing = read_nifti(tmp_path / "pred" / f"{n}.nii.gz")
            truth, _ = read_nifti(tmp_path / "truth" / f"{n}.nii.gz")
            arrays.add(pred, truth, spacing=spacing, case=n)
        assert_identical(arrays, acc)


@pytest.mark.parametrize("case", ["d01_2d_squares_shift", "d04_2d_multiclass_3labels", "d06_2d_both_empty"])
def test_one_pair_of_files(case: str) -> None:
    """A pair of files is one case named after the reference, as ``dicekit eval`` names it; an
    all-background pair stores no label, as ``dicekit eval`` does (label 1 completes it)."""
    pred, truth = (GOLDEN / "cases" / f"{case}_{k}.nii.gz" for k in ("pred", "gt"))
    rows = dicekit.evaluate_files(pred, truth)
    acc = dicekit.Accumulator()
    acc.add_files(pred, truth)
    assert acc.cases == [f"{case}_gt"]
    assert same(acc.records(), rows)
    try:
        import nibabel  # noqa: F401
    except ImportError:
        return
    arrays = dicekit.Accumulator()
    (p, spacing), (t, _) = read_nifti(pred), read_nifti(truth)
    arrays.add(p, t, spacing=spacing, case=f"{case}_gt")
    assert_identical(arrays, acc)
    # evaluate on the arrays scores label 1 of an all-background pair.
    assert same(dicekit.evaluate(p, t, spacing=spacing, case=f"{case}_gt"), [r for r in rows if not r["case"].startswith("(")])
