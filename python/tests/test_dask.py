"""The Dask recipe (examples/dask_eval.py) on a LocalCluster of 2 worker processes gives exactly
the single-process result: the same records and aggregates, compared with ``==``."""
import importlib.util
import math
import pathlib

import pytest

import dicekit

distributed = pytest.importorskip("dask.distributed")

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "dask_eval.py"


def _load_example():
    # Imported under its file name: the workers import it by that name after
    # `client.upload_file` (in `evaluate_on_dask`).
    spec = importlib.util.spec_from_file_location("dask_eval", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _no_nan(x):
    """NaN != NaN would make `==` fail for a reason other than a difference."""
    if isinstance(x, float):
        assert not math.isnan(x)
    elif isinstance(x, dict):
        for v in x.values():
            _no_nan(v)
    elif isinstance(x, list):
        for v in x:
            _no_nan(v)


def test_dask_tree_reduction_equals_single_process(tmp_path):
    ex = _load_example()
    ex.make_demo(str(tmp_path), cases=6)
    pred, truth = str(tmp_path / "pred"), str(tmp_path / "truth")

    single = dicekit.Accumulator(convention="monai", tolerance=1.0)
    for name, p, t in dicekit.pair_files(pred, truth):
        single.add_files(p, t, case=name)

    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        env={"RAYON_NUM_THREADS": "1"},
    ) as cluster, distributed.Client(cluster) as client:
        merged = ex.evaluate_on_dask(client, pred, truth, convention="monai", tolerance=1.0)
        # Both workers took part.
        assert len(client.scheduler_info()["workers"]) == 2

    assert len(merged) == 6
    assert merged.cases == [f"case_{i:03d}" for i in range(6)]
    assert merged == single
    records, aggregate = merged.records(), merged.aggregate()
    _no_nan(records)
    _no_nan(aggregate)
    assert records == single.records()
    assert aggregate == single.aggregate()
    # ... and both are what `dicekit eval` on the folders gives.
    assert records == dicekit.evaluate_files(pred, truth, convention="monai", tolerance=1.0)
    # A case with label 2 missed (case_004) is in the set: its empty results are reported.
    assert any(r["case"] == "case_004" and r["value"] is None for r in records)
