"""Type stubs of ``dicekit._dicekit``, the compiled extension (PyO3, stable ABI).

Label maps (``pred``, ``truth``) are NumPy arrays of ``bool`` or an integer dtype, 2D or 3D, of
one shape. ``bool``, ``uint8``, ``uint16`` and ``uint32`` arrays (both maps of the same dtype,
C or Fortran order) are read where they lie; other integer dtypes, or two different dtypes, are
converted once to ``uint32`` (negative values raise ``ValueError``). ``spacing`` is the voxel
size in mm per axis (default 1). The GIL is released while the metrics run.

Conventions (``convention=``): ``monai`` (default), ``deepmind``, ``medpy``, ``seg-metrics``,
``metrics-reloaded`` (``_`` may replace ``-``); docs/conventions.md in the repository says
which surface, percentile and average each uses and what each reports for empty masks.

Errors: ``ValueError`` (shapes, spacing, labels, arguments), ``TypeError`` (an array that is
not bool or integer), ``OSError`` (files that cannot be read or paired), with the Rust message.
"""
from os import PathLike
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "CONVENTIONS",
    "METRICS",
    "evaluate",
    "evaluate_files",
    "pair_files",
    "confusion_counts",
    "reliability_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
    "brier_score",
    "evaluate_lesion_files",
    "evaluate_lesions",
    "_borrows",
    "ConfusionCounts",
    "SurfaceDistances",
    "Accumulator",
    "LesionOptions",
]

_Path = Union[str, "PathLike[str]"]
_Convention = Literal[
    "monai", "deepmind", "medpy", "seg-metrics", "seg_metrics", "metrics-reloaded",
    "metrics_reloaded",
]
_Empty = Literal["peer", "nan", "raise"]
# A bool or integer array, or anything numpy.asarray makes one of (lists, CPU torch tensors).
_LabelMap = Union[npt.NDArray[Union[np.bool_, np.integer[Any]]], npt.ArrayLike]
_Record = Dict[str, Any]

__version__: str
CONVENTIONS: List[str]
"""The convention names."""
METRICS: List[str]
"""Every metric name of the registry (``dice``, ``iou``, ``precision``, ``recall``,
``specificity``, ``volume_difference``, ``hd``, ``hd95``, ``hd_pred_to_gt``, ``assd``, ``masd``,
``asd_pred_to_gt``, ``nsd``, ``generalized_dice``, ``cl_dice``); ``evaluate``'s ``metrics=``
filters by these names."""

def evaluate(
    pred: _LabelMap,
    truth: _LabelMap,
    *,
    spacing: Optional[Sequence[float]] = None,
    labels: Optional[Sequence[int]] = None,
    convention: _Convention = "monai",
    tolerance: float = 1.0,
    metrics: Optional[Sequence[str]] = None,
    empty: Optional[_Empty] = None,
    case: Optional[str] = None,
    cl_dice: bool = False,
) -> List[_Record]:
    """Overlap and surface metrics of two label maps: one record per label and metric.

    Each record has the keys of a ``dicekit eval --format json`` row: ``case`` (``case``, or
    ``None``), ``label``, ``metric``, ``value``, ``status``, ``peer_value``, ``convention``,
    ``tolerance_mm``. ``labels``: the labels to score (default: every label present in either
    map, else label 1). ``metrics``: keep only these names (default: every reported metric).

    Dice ``2|P∩G| / (|P| + |G|)``, IoU ``|P∩G| / |P∪G|``, precision ``TP / (TP + FP)``, recall
    ``TP / (TP + FN)``, volume difference ``(|P| - |G|) / |G|``; HD the larger directed maximum
    of the distances between the two surfaces, HD95 their 95th percentile, ASSD their mean, NSD
    at ``tolerance`` mm the fraction of surface within the tolerance of the other (all in mm,
    under ``convention``).

    Where a side is empty a metric is undefined: with ``empty=None`` its ``value`` is ``None``,
    ``status`` names the empty side (``empty_prediction``, ``empty_reference``,
    ``empty_both``) and ``peer_value`` is what the convention's library reports (a number,
    ``"nan"``, ``"inf"`` or ``"raises"``). ``empty="peer"`` puts that value in ``value``
    (``ValueError`` where the peer raises), ``"nan"`` NaN, ``"raise"`` raises ``ValueError``.
    ``cl_dice=True`` adds centreline Dice.
    """

def evaluate_files(
    pred: _Path,
    truth: _Path,
    *,
    spacing: Optional[Sequence[float]] = None,
    spacing_from: Optional[Literal["truth", "pred"]] = None,
    labels: Optional[Sequence[int]] = None,
    convention: _Convention = "monai",
    tolerance: float = 1.0,
    cl_dice: bool = False,
    errors: Literal["raise", "warn"] = "raise",
) -> List[_Record]:
    """Every case of two label-map files (.nii, .nii.gz, .png, .tif) or two folders matched by
    case name, exactly the rows ``dicekit eval --format json`` prints: per case, label and
    metric, then ``(mean)`` per label and metric and ``(all voxels)`` (the Dice of the summed
    counts). Spacing from the headers (they must agree unless ``spacing_from`` chooses one) or
    ``spacing``. Without ``labels`` every case is completed to the labels of the whole set.
    ``errors="warn"``: unpaired or unreadable cases warn and are left out instead of raising.
    """

def pair_files(
    pred: _Path, truth: _Path, *, errors: Literal["raise", "warn"] = "raise"
) -> List[Tuple[str, Path, Path]]:
    """The cases of two files or folders as ``dicekit eval`` pairs them: ``(case, pred,
    truth)`` in case-name order. Two folders: matched by case name (the file name without its
    label-map extension); two files: one case named after the reference. Files without a
    partner raise ``OSError`` (``errors="raise"``) or warn and are left out."""

def confusion_counts(
    pred: _LabelMap, truth: _LabelMap, *, labels: Optional[Sequence[int]] = None
) -> Dict[int, ConfusionCounts]:
    """The confusion counts of every label (given, or present in either map) in one pass:
    ``{label: ConfusionCounts}``."""

@final
class ConfusionCounts:
    """Voxel counts of one binary comparison. Counts add (``a + b``) over cases; score the sum
    once for the micro (all-voxel) Dice. Immutable, compared by value, picklable."""

    def __new__(cls, tp: int = 0, fp: int = 0, fn: int = 0, tn: int = 0) -> ConfusionCounts: ...
    @property
    def tp(self) -> int:
        """True positives: predicted and in the reference."""
    @property
    def fp(self) -> int:
        """False positives: predicted, not in the reference."""
    @property
    def fn(self) -> int:
        """False negatives: in the reference, not predicted."""
    @property
    def tn(self) -> int:
        """True negatives: in neither."""
    def dice(self, *, convention: _Convention = "monai", empty: _Empty = "peer") -> float:
        """Dice ``2 TP / (2 TP + FP + FN)``; undefined with both masks empty (MONAI also with
        an empty reference), resolved by ``empty``."""
    def jaccard(self, *, convention: _Convention = "monai", empty: _Empty = "peer") -> float:
        """Jaccard (IoU) ``TP / (TP + FP + FN)``; empty masks as for ``dice``."""
    def precision(self, *, convention: _Convention = "monai", empty: _Empty = "peer") -> float:
        """Precision ``TP / (TP + FP)``; undefined without predicted voxels."""
    def recall(self, *, convention: _Convention = "monai", empty: _Empty = "peer") -> float:
        """Recall (sensitivity) ``TP / (TP + FN)``; undefined without reference voxels."""
    def specificity(self, *, convention: _Convention = "monai", empty: _Empty = "peer") -> float:
        """Specificity ``TN / (TN + FP)``."""
    def volume_difference(
        self, *, convention: _Convention = "monai", empty: _Empty = "peer"
    ) -> float:
        """Relative volume difference ``(|P| - |G|) / |G|``; undefined with an empty
        reference."""
    def __add__(self, other: ConfusionCounts, /) -> ConfusionCounts: ...
    def __radd__(self, other: ConfusionCounts, /) -> ConfusionCounts: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class SurfaceDistances:
    """The distances between the surfaces of one label in ``pred`` and ``truth``, measured once
    on the convention's boundary (MONAI / MedPy / MetricsReloaded: voxels with a background face
    neighbour; DeepMind: surfels weighted by area; seg-metrics: 26-connected boundary, the image
    border excluded); every metric below reads them. Distances in mm, exact under any
    spacing. Where a side is empty, ``empty`` decides: ``"peer"`` (the convention's library
    value: a number, NaN or inf; ``ValueError`` where it raises), ``"nan"`` or ``"raise"``."""

    def __new__(
        cls,
        pred: _LabelMap,
        truth: _LabelMap,
        *,
        label: int = 1,
        spacing: Optional[Sequence[float]] = None,
        convention: _Convention = "monai",
        empty: _Empty = "peer",
    ) -> SurfaceDistances: ...
    @property
    def empty_side(self) -> Optional[Literal["prediction", "reference", "both"]]:
        """The side without a voxel of the label, else ``None``."""
    @property
    def convention(self) -> str:
        """The convention's name."""
    def hd(self) -> float:
        """Hausdorff distance ``max(max_p d(p, G), max_g d(g, P))`` (mm)."""
    def hd95(self) -> float:
        """95th-percentile Hausdorff distance as the convention takes it (MONAI,
        MetricsReloaded: the larger of the two directed percentiles, linear interpolation;
        MedPy, seg-metrics: the percentile of both directions pooled; DeepMind: the first
        distance whose cumulative surfel area reaches 95 %, per direction)."""
    def hd_percentile(self, q: float) -> float:
        """The ``q``-th percentile Hausdorff distance, ``q`` in [0, 100], by the same rule."""
    def assd(self) -> float:
        """Average symmetric surface distance: the mean of both directions' distances pooled
        (DeepMind: area-weighted; MetricsReloaded ``masd``: the mean of the two directed
        means) (mm)."""
    def masd(self) -> float:
        """Mean of the two directed mean distances, (mean(P->G) + mean(G->P)) / 2, in mm (MedPy
        0.4 and MetricsReloaded ``masd``), whatever the convention's own ASSD."""
    def hd_pred_to_gt(self) -> float:
        """Directed Hausdorff distance from the prediction's surface to the reference's (mm)."""
    def asd_pred_to_gt(self) -> float:
        """Directed mean distance from the prediction's surface to the reference's (mm)."""
    def nsd(self, tolerance: float = 1.0) -> float:
        """Normalized surface Dice at ``tolerance`` mm: ``(|{p: d(p, G) <= tol}| +
        |{g: d(g, P) <= tol}|) / (|∂P| + |∂G|)`` (DeepMind: surfel areas instead of counts)."""

def reliability_bins(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    *,
    bins: int = 15,
    binning: Literal["equal_width", "equal_mass"] = "equal_width",
    edges: Literal["right", "left"] = "right",
) -> List[Dict[str, Any]]:
    """Reliability bins of 1-D contiguous ``confidence`` (float64 in [0, 1]) against
    ``correct`` (bool): per bin ``lower``, ``upper``, ``count``, mean ``confidence`` and
    ``accuracy`` (``None`` when empty). ``edges="right"``: ``(lo, hi]`` (Guo et al.,
    torchmetrics); ``"left"``: ``[lo, hi)`` (netcal). The package-level wrapper accepts any
    array-like."""

def expected_calibration_error(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    *,
    bins: int = 15,
    binning: Literal["equal_width", "equal_mass"] = "equal_width",
    edges: Literal["right", "left"] = "right",
) -> float:
    """ECE ``sum_b (n_b / N) |accuracy_b - confidence_b|`` over the reliability bins."""

def maximum_calibration_error(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    *,
    bins: int = 15,
    binning: Literal["equal_width", "equal_mass"] = "equal_width",
    edges: Literal["right", "left"] = "right",
) -> float:
    """MCE ``max_b |accuracy_b - confidence_b|`` over the non-empty reliability bins."""

def brier_score(confidence: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_]) -> float:
    """Brier score ``mean (p - y)^2`` of binary predictions."""

@final
class LesionOptions:
    """How lesions are formed (components of each label at ``connectivity``, or instance ids
    with ``instances=True``), matched (``match``: ``any``, panoptica's ``iou``, MONAI's
    ``iou_strict``, ``bipartite_iou`` / ``bipartite_dice``), binned by size and found by FROC
    (``froc_*``, ``probability_channels``); checked when made. See
    ``dicekit.evaluate_lesions``."""

    def __new__(
        cls,
        *,
        labels: Optional[Sequence[int]] = None,
        connectivity: Optional[int] = None,
        match: Literal["any", "iou", "iou_strict", "bipartite_iou", "bipartite_dice"] = "any",
        match_threshold: Optional[float] = None,
        size_bins: Sequence[float] = ...,
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
    ) -> LesionOptions: ...

def evaluate_lesions(
    pred: _LabelMap,
    truth: _LabelMap,
    *,
    spacing: Optional[Sequence[float]] = None,
    probabilities: Optional[npt.NDArray[np.float32]] = None,
    options: Optional[LesionOptions] = None,
) -> Dict[str, Any]:
    """Lesion-wise evaluation (``dicekit eval --lesions`` on one case): ``{"rows": [...],
    "lesions": [...], "froc": {label: {...}}}``. See ``dicekit.evaluate_lesions``."""

def evaluate_lesion_files(
    pred: str,
    truth: str,
    *,
    probabilities: Optional[str] = None,
    spacing: Optional[Sequence[float]] = None,
    spacing_from: Optional[Literal["truth", "pred"]] = None,
    options: Optional[LesionOptions] = None,
    errors: Literal["raise", "warn"] = "raise",
) -> Dict[str, Any]:
    """Lesion-wise evaluation of files or folders (``dicekit eval --lesions``), FROC pooled over
    the cases from ``probabilities`` (a file or a folder of maps named by case). See
    ``dicekit.evaluate_lesion_files``."""

@final
class Accumulator:
    """Cases scored under one set of options (convention, NSD tolerance, labels, clDice), added
    one by one (``add``, ``add_files``) or merged from other accumulators (``merge``), and
    picklable: reduce across processes or machines (Dask, multiprocessing), then read the
    records and aggregates of the whole set. Cases are kept by name and aggregated in name
    order, so a merged result equals the single-process one exactly (``==``)."""

    def __new__(
        cls,
        *,
        convention: _Convention = "monai",
        tolerance: float = 1.0,
        labels: Optional[Sequence[int]] = None,
        cl_dice: bool = False,
    ) -> Accumulator: ...
    def add(
        self,
        pred: _LabelMap,
        truth: _LabelMap,
        *,
        spacing: Optional[Sequence[float]] = None,
        case: Optional[str] = None,
    ) -> None:
        """Scores one case from arrays and keeps it under ``case`` (default ``case_000000``,
        ``case_000001``, ...: name cases when accumulators are merged). A name already present
        raises ``ValueError``."""
    def add_files(
        self,
        pred: _Path,
        truth: _Path,
        *,
        spacing: Optional[Sequence[float]] = None,
        spacing_from: Optional[Literal["truth", "pred"]] = None,
        case: Optional[str] = None,
    ) -> None:
        """Scores one case from two label-map files, as ``dicekit eval`` reads them (named
        after the prediction file unless ``case`` is given)."""
    def merge(self, other: Accumulator) -> None:
        """Adds every case of ``other`` (same options, no case name in common, else
        ``ValueError``)."""
    @property
    def cases(self) -> List[str]:
        """The case names, sorted."""
    def records(self) -> List[_Record]:
        """Every case x label x metric, then the ``(mean)`` and ``(all voxels)`` rows: the rows
        ``dicekit eval --format json`` prints for the same cases."""
    def aggregate(self) -> Dict[str, Any]:
        """``{"labels": [...], "macro_dice": float | None, "generalized_dice": float | None}``.
        Per label: ``label``, ``cases``, ``dice_all_voxels`` and ``iou_all_voxels`` (micro: of
        the counts summed over the cases), ``mean`` (per metric, the mean over the cases with
        a value) and ``excluded`` (per metric, the cases left out as undefined). ``macro_dice``:
        the mean over labels of the summed-count Dice; ``generalized_dice``: of the summed
        counts, weights ``1 / G_c^2`` (MONAI ``GeneralizedDiceScore``)."""
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __getstate__(self) -> Tuple[Any, ...]: ...
    def __setstate__(self, state: Tuple[Any, ...]) -> None: ...

def _borrows(pred: _LabelMap, truth: _LabelMap) -> bool:
    """Whether ``pred`` and ``truth`` are read in place (no conversion)."""
