"""dicekit: exact, fast segmentation metrics with every peer's convention by name.

The numbers come from dicekit's Rust crates (the same code as the ``dicekit`` command); this
package hands them NumPy arrays without copying them where it can and releases the GIL while
they run.

>>> import numpy as np, dicekit
>>> truth = np.zeros((32, 32, 32), np.uint8); truth[8:20, 8:20, 8:20] = 1
>>> pred = np.zeros_like(truth); pred[9:21, 8:20, 8:20] = 1
>>> rows = dicekit.evaluate(pred, truth, spacing=(1.0, 1.0, 2.0))
>>> {r["metric"]: round(r["value"], 4) for r in rows}["dice"]
0.9167

Conventions (``convention=``): ``monai`` (default), ``deepmind``, ``medpy``, ``seg-metrics``,
``metrics-reloaded``; ``docs/conventions.md`` in the repository says what each computes.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

# The extension's allocator (mimalloc) keeps the pages the metrics free for the next call rather
# than returning them to the system after 10 ms, its default: evaluating case after case, each
# call would otherwise fault in and zero tens of MB afresh (about a fifth of a 256^3
# evaluation). They go back after 10 s without use. Read once, when the extension loads; a value
# already set wins.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "10000")

from . import _dicekit  # noqa: E402
from ._dicekit import (  # noqa: E402
    CONVENTIONS,
    METRICS,
    Accumulator,
    ConfusionCounts,
    SurfaceDistances,
    __version__,
    confusion_counts,
    evaluate,
    evaluate_files,
    evaluate_lesion_files as _evaluate_lesion_files,
    evaluate_lesions as _evaluate_lesions,
    pair_files,
)

__all__ = [
    "CONVENTIONS",
    "METRICS",
    "Accumulator",
    "ConfusionCounts",
    "SurfaceDistances",
    "__version__",
    "brier_score",
    "confusion_counts",
    "evaluate",
    "evaluate_files",
    "evaluate_lesion_files",
    "evaluate_lesions",
    "expected_calibration_error",
    "maximum_calibration_error",
    "pair_files",
    "reliability_bins",
]


def _calibration_inputs(
    confidence: npt.ArrayLike, correct: npt.ArrayLike
) -> Tuple[np.ndarray, np.ndarray]:
    # C-contiguous, aligned, native byte order: what the extension reads in place.
    c = np.require(np.asarray(confidence, dtype=np.float64).ravel(), requirements=["C", "A"])
    y = np.require(np.asarray(correct).astype(bool, copy=False).ravel(), requirements=["C", "A"])
    return c, y


_Binning = Literal["equal_width", "equal_mass"]
_Edges = Literal["right", "left"]


def reliability_bins(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    bins: int = 15,
    binning: _Binning = "equal_width",
    edges: _Edges = "right",
) -> List[Dict[str, Any]]:
    """Reliability bins of probabilities ``confidence`` (in [0, 1]) against outcomes ``correct``.

    Each bin: ``lower``, ``upper``, ``count``, mean ``confidence`` and ``accuracy`` (``None``
    when empty). ``binning``: ``equal_width`` (``bins`` bins of width 1/bins) or ``equal_mass``
    (the same number of samples each). ``edges``: ``right`` puts a value on an edge in the lower
    bin, ``(lo, hi]`` (Guo et al.'s reference code); ``left`` in the upper one, ``[lo, hi)``
    (netcal, and torchmetrics 1.9, whose ``bucketize`` also gives a confidence of exactly 1 a bin
    of its own).
    """
    c, y = _calibration_inputs(confidence, correct)
    return _dicekit.reliability_bins(c, y, bins=bins, binning=binning, edges=edges)


def expected_calibration_error(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    bins: int = 15,
    binning: _Binning = "equal_width",
    edges: _Edges = "right",
) -> float:
    """ECE = sum_b (n_b / N) |accuracy_b - confidence_b| over the reliability bins."""
    c, y = _calibration_inputs(confidence, correct)
    return _dicekit.expected_calibration_error(c, y, bins=bins, binning=binning, edges=edges)


def maximum_calibration_error(
    confidence: npt.ArrayLike,
    correct: npt.ArrayLike,
    *,
    bins: int = 15,
    binning: _Binning = "equal_width",
    edges: _Edges = "right",
) -> float:
    """MCE = max_b |accuracy_b - confidence_b| over the non-empty reliability bins."""
    c, y = _calibration_inputs(confidence, correct)
    return _dicekit.maximum_calibration_error(c, y, bins=bins, binning=binning, edges=edges)


def brier_score(confidence: npt.ArrayLike, correct: npt.ArrayLike) -> float:
    """Brier score = mean (p - y)^2 of binary predictions."""
    c, y = _calibration_inputs(confidence, correct)
    return _dicekit.brier_score(c, y)


# The keyword arguments of evaluate_lesions and evaluate_lesion_files that make a LesionOptions.
_LESION_OPTIONS = (
    "labels",
    "connectivity",
    "match",
    "match_threshold",
    "size_bins",
    "size_unit",
    "instances",
    "distances",
    "froc_candidates",
    "froc_threshold",
    "froc_score",
    "froc_box",
    "froc_sigma",
    "froc_convention",
    "froc_rates",
    "probability_channels",
)


def _lesion_options(args: Dict[str, Any]) -> _dicekit.LesionOptions:
    """The LesionOptions of a wrapper's arguments (its ``locals()``)."""
    return _dicekit.LesionOptions(**{k: args[k] for k in _LESION_OPTIONS})


def evaluate_lesions(
    pred: np.ndarray,
    truth: np.ndarray,
    *,
    spacing: Optional[Sequence[float]] = None,
    labels: Optional[Sequence[int]] = None,
    connectivity: Optional[int] = None,
    match: Literal["any", "iou", "iou_strict", "bipartite_iou", "bipartite_dice"] = "any",
    match_threshold: Optional[float] = None,
    size_bins: Sequence[float] = (10.0, 100.0, 1000.0),
    size_unit: Literal["mm3", "voxels"] = "mm3",
    instances: bool = False,
    distances: bool = False,
    probabilities: Optional[npt.ArrayLike] = None,
    froc_candidates: Literal["components", "maxima"] = "components",
    froc_threshold: float = 0.1,
    froc_score: Literal["max", "mean"] = "max",
    froc_box: int = 5,
    froc_sigma: float = 0.0,
    froc_convention: Literal["roc_interp", "roc_step", "monai"] = "roc_interp",
    froc_rates: Optional[Sequence[float]] = None,
    probability_channels: Literal["auto", "class", "foreground"] = "auto",
) -> Dict[str, Any]:
    """Lesion-wise evaluation of two label maps, as ``dicekit eval --lesions`` scores a case.

    Lesions are the connected components of each label (``connectivity`` 4/8 in 2D, 6/18/26 in
    3D; default every neighbour), or with ``instances=True`` the ids of instance maps as given.
    ``match``: ``any`` (a reference lesion touched by a prediction is found), ``iou`` (panoptica:
    greedy one-to-one, IoU >= threshold), ``iou_strict`` (MONAI: IoU > threshold),
    ``bipartite_iou`` / ``bipartite_dice`` (one-to-one maximising the total; BraTS 2025 uses Dice
    with threshold 1e-6).

    Returns a dict: ``rows`` (per label and size bin: reference / predicted lesions, found,
    missed, false positives, recall, precision, F1, PQ/SQ/RQ, mean lesion Dice, and with
    ``probabilities`` the FROC score and sensitivities), ``lesions`` (every reference and
    predicted lesion: size, bounding box, status, its match's Dice and IoU) and ``froc`` (per
    label the curve and score). ``probabilities``: a probability map of the maps' shape, or
    ``[C, ...]`` class channels (see ``probability_channels``).
    """
    probs = None
    if probabilities is not None:
        probs = np.require(probabilities, dtype=np.float32, requirements=["A"])
    return _evaluate_lesions(
        pred,
        truth,
        spacing=None if spacing is None else [float(s) for s in spacing],
        probabilities=probs,
        options=_lesion_options(locals()),
    )


def evaluate_lesion_files(
    pred: Union[str, "os.PathLike[str]"],
    truth: Union[str, "os.PathLike[str]"],
    *,
    probabilities: Optional[Union[str, "os.PathLike[str]"]] = None,
    spacing: Optional[Sequence[float]] = None,
    spacing_from: Optional[Literal["truth", "pred"]] = None,
    labels: Optional[Sequence[int]] = None,
    connectivity: Optional[int] = None,
    match: Literal["any", "iou", "iou_strict", "bipartite_iou", "bipartite_dice"] = "any",
    match_threshold: Optional[float] = None,
    size_bins: Sequence[float] = (10.0, 100.0, 1000.0),
    size_unit: Literal["mm3", "voxels"] = "mm3",
    instances: bool = False,
    distances: bool = False,
    froc_candidates: Literal["components", "maxima"] = "components",
    froc_threshold: float = 0.1,
    froc_score: Literal["max", "mean"] = "max",
    froc_box: int = 5,
    froc_sigma: float = 0.0,
    froc_convention: Literal["roc_interp", "roc_step", "monai"] = "roc_interp",
    froc_rates: Optional[Sequence[float]] = None,
    probability_channels: Literal["auto", "class", "foreground"] = "auto",
    errors: Literal["raise", "warn"] = "raise",
) -> Dict[str, Any]:
    """Lesion-wise evaluation of two label-map files or folders, as ``dicekit eval --lesions``.

    Cases are paired by name as ``evaluate_files`` pairs them. The result has the keys of
    ``evaluate_lesions``, with a ``case`` in every row and lesion, the ``(all cases)`` totals, and
    with ``probabilities`` (a probability file, or a folder of maps named by case, as
    ``dicekit predict --probabilities`` writes them) the FROC of each label pooled over the cases:
    false positives per image, every case one image. A case that cannot be scored raises
    (``OSError`` for files, ``ValueError`` otherwise), or with ``errors="warn"`` is a warning and
    left out.
    """
    return _evaluate_lesion_files(
        os.fspath(pred),
        os.fspath(truth),
        probabilities=None if probabilities is None else os.fspath(probabilities),
        spacing=None if spacing is None else [float(s) for s in spacing],
        spacing_from=spacing_from,
        options=_lesion_options(locals()),
        errors=errors,
    )
