"""Arrays in: every dtype and memory order gives the rows of uint8 C arrays; what is read in place
(``_borrows``) and the memory a 256^3 evaluation adds; the exceptions bad inputs raise."""
from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dicekit
from dicekit._dicekit import _borrows

DTYPES = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "uint64"]
BORROWED = {"bool", "uint8", "uint16", "uint32"}


def label_maps(shape=(9, 11, 13)) -> tuple[np.ndarray, np.ndarray]:
    """A prediction and a reference with labels 1..3 (uint8, C order)."""
    truth = np.zeros(shape, np.uint8)
    truth[1:5, 2:7, 3:9] = 1
    truth[5:8, 6:10, 1:4] = 2
    truth[2:4, 8:10, 9:12] = 3
    pred = np.roll(truth, 1, axis=0)
    pred[0, 0, 0] = 3
    pred[6, 1:3, 10:12] = 1
    return pred, truth


def masks(shape=(9, 11, 13)) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = label_maps(shape)
    return (pred == 1).astype(np.uint8), (truth == 1).astype(np.uint8)


def rows(pred, truth, **kw):
    return dicekit.evaluate(pred, truth, spacing=(0.8, 1.0, 1.5)[: pred.ndim], **kw)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_gives_the_uint8_rows(dtype: str) -> None:
    binary = dtype == "bool"
    pred, truth = masks() if binary else label_maps()
    want = rows(pred, truth)
    assert len(want) == (10 if binary else 30)
    p, t = pred.astype(dtype), truth.astype(dtype)
    assert rows(p, t) == want
    assert _borrows(p, t) is (dtype in BORROWED)
    counts = dicekit.confusion_counts(p, t)
    assert counts == dicekit.confusion_counts(pred, truth)
    sd = dicekit.SurfaceDistances(p, t, label=1, spacing=(0.8, 1.0, 1.5))
    assert sd.hd95() == dicekit.SurfaceDistances(pred, truth, label=1, spacing=(0.8, 1.0, 1.5)).hd95()


@pytest.mark.parametrize("dtype", ["uint16", ">u2", ">i4", "<u4"])
def test_byte_orders_and_misaligned_arrays(dtype: str) -> None:
    pred, truth = label_maps()
    want = rows(pred, truth)
    p, t = pred.astype(dtype), truth.astype(dtype)
    assert rows(p, t) == want
    # Big-endian arrays (a big-endian NIfTI as nibabel returns it) are copied once.
    assert _borrows(p, t) is (np.dtype(dtype).isnative and dtype in ("uint16", "<u4"))

    def misaligned(a: np.ndarray) -> np.ndarray:
        m = np.frombuffer(b"\0" + a.tobytes(), a.dtype, offset=1).reshape(a.shape)
        assert not m.flags.aligned
        return m

    assert rows(misaligned(p), misaligned(t)) == want
    assert not _borrows(misaligned(p), misaligned(t))


ORDERS = {
    "F": lambda a: np.asfortranarray(a),
    "strided": lambda a: np.repeat(np.repeat(a, 2, axis=0), 2, axis=2)[::2, :, ::2],
    "reversed": lambda a: np.ascontiguousarray(a[::-1, :, ::-1])[::-1, :, ::-1],
    "transposed": lambda a: np.ascontiguousarray(a.transpose(2, 0, 1)).transpose(1, 2, 0),
    "readonly": lambda a: np.frombuffer(a.tobytes(), a.dtype).reshape(a.shape),
}


@pytest.mark.parametrize("dtype", ["bool", "uint8", "uint32", "int64"])
@pytest.mark.parametrize("order", list(ORDERS))
def test_every_order_gives_the_c_rows(order: str, dtype: str) -> None:
    pred, truth = masks() if dtype == "bool" else label_maps()
    want = rows(pred, truth)
    p, t = (ORDERS[order](a.astype(dtype)) for a in (pred, truth))
    assert np.array_equal(p, pred) and np.array_equal(t, truth)
    if order in ("strided", "reversed", "transposed"):
        assert not (p.flags.c_contiguous or p.flags.f_contiguous)
    assert rows(p, t) == want
    assert _borrows(p, t) is (dtype in BORROWED)
    # Mixed layouts: one map C, the other in this order (and the other way round).
    assert rows(pred.astype(dtype), t) == want
    assert rows(p, truth.astype(dtype)) == want


def test_mixed_dtypes_and_2d() -> None:
    pred, truth = label_maps()
    want = rows(pred, truth)
    assert rows(pred.astype(np.uint16), truth) == want
    assert rows(pred.astype(np.int64), np.asfortranarray(truth.astype(np.uint32))) == want
    assert not _borrows(pred.astype(np.uint16), truth)
    bp, bt = masks()
    assert rows(bp.astype(bool), bt) == rows(bp, bt)
    # 2D, C and F, and a 2D slice of a 3D volume (strided).
    p2, t2 = pred[4], truth[4]
    want2 = rows(np.ascontiguousarray(p2), np.ascontiguousarray(t2))
    assert rows(np.asfortranarray(p2), t2) == want2
    assert rows(pred[:, 4], truth[:, 4]) == rows(
        np.ascontiguousarray(pred[:, 4]), np.ascontiguousarray(truth[:, 4])
    )
    # A broadcast (zero-stride) array.
    b = np.broadcast_to(p2, (3, *p2.shape))
    assert rows(b, np.broadcast_to(t2, b.shape)) == rows(np.repeat(p2[None], 3, 0), np.repeat(t2[None], 3, 0))


def test_rows_keys_and_values() -> None:
    pred, truth = label_maps()
    out = rows(pred, truth, convention="deepmind", tolerance=2.0)
    assert {r["label"] for r in out} == {1, 2, 3}
    for r in out:
        assert set(r) == {
            "case", "label", "metric", "value", "status", "peer_value", "convention", "tolerance_mm"
        }
        assert r["case"] is None and r["convention"] == "deepmind" and r["tolerance_mm"] == 2.0
        assert r["status"] == "ok" and isinstance(r["value"], float)
    named = rows(pred, truth, case="c1", metrics=["dice", "hd95"])
    assert [(r["case"], r["label"], r["metric"]) for r in named] == [
        ("c1", l, m) for l in (1, 2, 3) for m in ("dice", "hd95")
    ]


def test_empty_policies() -> None:
    truth = np.zeros((12, 12), np.uint8)
    truth[3:7, 3:7] = 1
    pred = np.zeros_like(truth)
    by = lambda rs: {r["metric"]: r for r in rs}  # noqa: E731
    plain = by(dicekit.evaluate(pred, truth))
    peer = by(dicekit.evaluate(pred, truth, empty="peer"))
    nan = by(dicekit.evaluate(pred, truth, empty="nan"))
    assert plain["hd"]["status"] == "empty_prediction" and plain["hd"]["value"] is None
    assert plain["hd"]["peer_value"] == "inf" and plain["hd95"]["peer_value"] == "nan"
    # The values are floats (NaN, inf), never strings, and never a silent 0.
    assert peer["hd"]["value"] == math.inf and math.isnan(peer["hd95"]["value"])
    assert peer["nsd"]["value"] == 0.0 and peer["dice"]["value"] == 0.0
    for r in nan.values():
        assert isinstance(r["value"], float)
        if r["status"] != "ok":
            assert math.isnan(r["value"])
    with pytest.raises(ValueError, match="undefined, the prediction is empty"):
        dicekit.evaluate(pred, truth, empty="raise")
    with pytest.raises(ValueError, match="medpy"):
        dicekit.evaluate(pred, truth, empty="peer", convention="medpy")


def test_zero_size_and_empty_maps() -> None:
    z = np.zeros((0, 4, 4), np.uint8)
    out = dicekit.evaluate(z, z)
    assert {r["status"] for r in out} == {"empty_both"}
    e = np.zeros((5, 5), np.uint8)
    assert {r["label"] for r in dicekit.evaluate(e, e)} == {1}


MEMORY_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    def rss_mb():
        # Peak RSS of this process image (VmHWM). Not getrusage's ru_maxrss: Linux carries that
        # over from the forked parent (pytest) through exec.
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    base = rss_mb()
    import dicekit
    from dicekit._dicekit import _borrows
    n, dtype = 256, sys.argv[1]
    truth = np.zeros((n, n, n), dtype); pred = np.zeros_like(truth)
    y, x = np.ogrid[:n, :n]
    c, r = n / 2, n / 3
    for z in range(n):  # slice by slice: no full-size temporaries
        d = (y - c) ** 2 + (x - c) ** 2
        truth[z] = d <= r * r - (z - c) ** 2
        pred[z] = d <= r * r - (z - c - 3) ** 2
    arrays = (pred.nbytes + truth.nbytes) / 2**20
    t = time.perf_counter()
    rows = dicekit.evaluate(pred, truth)
    dt = time.perf_counter() - t
    assert {r["metric"] for r in rows} >= {"hd", "hd95", "assd", "nsd"}
    print(rss_mb() - base - arrays, arrays, dt, _borrows(pred, truth))
    """
)


def measure(dtype: str) -> tuple[float, float, float, bool]:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, dtype], capture_output=True, text=True, check=True
    )
    added, arrays, seconds, borrows = out.stdout.split()
    return float(added), float(arrays), float(seconds), borrows == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_256_cube_is_not_copied() -> None:
    """The issue's target: importing dicekit and evaluating a 256^3 uint8 pair adds less than
    100 MB above the arrays (peak RSS of a fresh process, less its peak before the import and
    the arrays)."""
    added, arrays, seconds, borrows = measure("uint8")
    print(f"256^3 uint8 pair: arrays {arrays:.0f} MiB, import + evaluate added {added:.1f} MiB "
          f"({seconds:.2f} s)")
    assert borrows
    assert added < 100, f"import + evaluate added {added:.1f} MiB above the arrays"
    # The check sees a copy: int32 maps are converted to uint32, 2 x 64 MiB.
    added32, _, _, borrows32 = measure("int32")
    print(f"256^3 int32 pair (converted): added {added32:.1f} MiB")
    assert not borrows32
    assert added32 > added + 100


def _surface(p, t, labels=None, **kw):
    return dicekit.SurfaceDistances(p, t, **kw, **({} if labels is None else {"label": labels[0]}))


def _accumulate(p, t, labels=None, **kw):
    return dicekit.Accumulator(labels=labels).add(p, t, **kw)


@pytest.mark.parametrize(
    "call",
    [dicekit.evaluate, dicekit.confusion_counts, _surface, _accumulate, dicekit.evaluate_lesions],
    ids=["evaluate", "confusion_counts", "SurfaceDistances", "Accumulator.add", "evaluate_lesions"],
)
def test_bad_arrays(call) -> None:
    pred, truth = label_maps()
    with pytest.raises(ValueError, match="shape"):
        call(pred[:-1], truth)
    with pytest.raises(ValueError, match="2D or 3D"):
        call(pred.ravel(), truth.ravel())
    with pytest.raises(ValueError, match="2D or 3D"):
        call(pred[None], truth[None])
    for dtype in (np.float32, np.float64, np.float16, np.complex64, object):
        with pytest.raises(TypeError, match="bool or integer"):
            call(pred.astype(dtype), truth)
    with pytest.raises(TypeError, match="bool or integer"):
        call(pred.astype("M8[s]"), truth)
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        neg = pred.astype(dtype)
        neg[0, 0, 0] = -1
        with pytest.raises(ValueError, match="-1"):
            call(neg, truth)
    with pytest.raises(ValueError, match="not a label"):
        call(pred.astype(np.uint64) + 2**32, truth)
    with pytest.raises(ValueError, match="label"):
        call(pred, truth, labels=[-1])


@pytest.mark.parametrize(
    "call",
    [dicekit.evaluate, dicekit.SurfaceDistances, dicekit.evaluate_lesions, _accumulate],
    ids=["evaluate", "SurfaceDistances", "evaluate_lesions", "Accumulator.add"],
)
def test_bad_spacing(call) -> None:
    pred, truth = label_maps()
    with pytest.raises(ValueError, match="spacing has 2 values"):
        call(pred, truth, spacing=(1.0, 1.0))
    with pytest.raises(ValueError, match="spacing has 4 values"):
        call(pred, truth, spacing=(1.0, 1.0, 1.0, 1.0))
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="spacing values"):
            call(pred, truth, spacing=(1.0, bad, 1.0))


def test_bad_names_and_parameters() -> None:
    pred, truth = label_maps()
    with pytest.raises(ValueError, match="convention"):
        dicekit.evaluate(pred, truth, convention="nope")
    with pytest.raises(ValueError, match="metric"):
        dicekit.evaluate(pred, truth, metrics=["dice", "nope"])
    # A metric evaluate never reports is an error, not a silently missing row.
    with pytest.raises(ValueError, match="masd"):
        dicekit.evaluate(pred, truth, metrics=["masd"])
    with pytest.raises(ValueError, match="cl_dice=True"):
        dicekit.evaluate(pred, truth, metrics=["cl_dice"])
    with pytest.raises(ValueError, match="empty"):
        dicekit.evaluate(pred, truth, empty="zero")
    for t in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="tolerance"):
            dicekit.evaluate(pred, truth, tolerance=t)
    with pytest.raises(ValueError, match="convention"):
        dicekit.SurfaceDistances(pred, truth, convention="nope")
    with pytest.raises(ValueError, match="empty"):
        dicekit.SurfaceDistances(pred, truth, empty="zero")
    sd = dicekit.SurfaceDistances(pred, truth)
    with pytest.raises(ValueError, match="q must be"):
        sd.hd_percentile(101.0)
    with pytest.raises(ValueError, match="tolerance"):
        sd.nsd(-1.0)
    c = dicekit.confusion_counts(pred, truth)[1]
    with pytest.raises(ValueError, match="convention"):
        c.dice(convention="nope")
    with pytest.raises(ValueError, match="empty"):
        c.dice(empty="zero")
    with pytest.raises(ValueError, match="convention"):
        dicekit.Accumulator(convention="nope")
    with pytest.raises(ValueError, match="tolerance"):
        dicekit.Accumulator(tolerance=math.nan)
    with pytest.raises(ValueError, match="errors="):
        dicekit.evaluate_files("a", "b", errors="ignore")
    with pytest.raises(ValueError, match="spacing_from"):
        dicekit.evaluate_files("a", "b", spacing_from="header")
    for kw, word in [
        ({"match": "nope"}, "match"),
        ({"match_threshold": 2.0}, "match_threshold"),
        ({"connectivity": 5}, "connectivity"),
        ({"size_unit": "cm3"}, "size_unit"),
        ({"froc_candidates": "nope"}, "froc_candidates"),
        ({"froc_convention": "nope"}, "froc_convention"),
        ({"froc_score": "nope"}, "froc_score"),
        ({"probability_channels": "nope"}, "probability_channels"),
    ]:
        with pytest.raises(ValueError, match=word):
            dicekit.evaluate_lesions(pred, truth, **kw)


def test_missing_files(tmp_path) -> None:
    with pytest.raises(OSError):
        dicekit.evaluate_files(tmp_path / "nope_pred.nii.gz", tmp_path / "nope_gt.nii.gz")
    with pytest.raises(OSError):
        dicekit.Accumulator().add_files(tmp_path / "a.nii.gz", tmp_path / "b.nii.gz")
    (tmp_path / "pred").mkdir()
    (tmp_path / "truth").mkdir()
    with pytest.raises(OSError):  # folders without label maps
        dicekit.evaluate_files(tmp_path / "pred", tmp_path / "truth")
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not a nifti file")
    with pytest.raises((OSError, ValueError)):
        dicekit.evaluate_files(bad, bad)


def test_array_likes_go_through_numpy_asarray() -> None:
    """Lists (and anything else ``numpy.asarray`` takes, such as a CPU torch tensor) give the
    rows of the same ndarray; what NumPy cannot make an integer array of is a TypeError."""
    truth = np.zeros((6, 7), np.uint8)
    truth[1:4, 2:5] = 1
    pred = np.roll(truth, 1, axis=0)
    want = dicekit.evaluate(pred, truth)
    assert dicekit.evaluate(pred.tolist(), truth.tolist()) == want
    assert dicekit.SurfaceDistances(pred.tolist(), truth).hd95() == dicekit.SurfaceDistances(pred, truth).hd95()
    with pytest.raises(TypeError):
        dicekit.evaluate([[0.5, 1.0], [0.0, 0.0]], truth[:2, :2])
    with pytest.raises(TypeError):
        dicekit.evaluate(object(), truth)
