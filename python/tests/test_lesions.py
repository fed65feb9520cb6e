"""evaluate_lesions on the shared lesion reference cases (``<root>/../shared/reference/lesions``,
skipped when absent), as ``crates/dicekit-eval/tests/lesions.rs`` checks them: panoptica's default
detection counts (IoU >= 0.5, 4-connectivity in 2D, 26 in 3D, instance maps as given), the
connected components of every connectivity against cc3d, and the FROC score of the probability
cases (ProbNMS maxima, threshold 0.1, box 5) under the ROC reference (interpolated and step) and
MONAI; plus the shapes of the ``rows`` / ``lesions`` / ``froc`` results."""
from __future__ import annotations

import math

import numpy as np
import pytest

import dicekit

from conftest import SHARED_REFERENCE, load_expected, read_nifti

ROOT = SHARED_REFERENCE / "lesions"


@pytest.fixture(scope="module")
def expected() -> dict:
    return load_expected(ROOT)


def load(name: str, kind: str) -> tuple[np.ndarray, tuple]:
    return read_nifti(ROOT / "cases" / f"{name}_{kind}.nii.gz")


def case_names() -> list[str]:
    if not (ROOT / "expected.json").is_file():
        return ["absent"]
    import json

    return list(json.loads((ROOT / "expected.json").read_text())["cases"])


def table(result: dict, size_bin: str = "all") -> dict:
    return {(r["label"], r["metric"]): r["value"] for r in result["rows"] if r.get("size_bin") == size_bin}


@pytest.mark.parametrize("name", case_names())
def test_panoptica_default_counts(expected, name: str) -> None:
    case = expected["cases"][name]
    pred, spacing = load(name, "pred")
    truth, _ = load(name, "gt")
    ndim = case["ndim"]
    assert list(spacing) == case["spacing"]
    instance = case["kind"] == "instance"
    result = dicekit.evaluate_lesions(
        pred,
        truth,
        spacing=spacing,
        connectivity=4 if ndim == 2 else 26,
        match="iou",
        match_threshold=0.5,
        instances=instance,
        size_bins=[],
        labels=[int(l) for l in case["per_label"]],  # d07: no label present in either map
    )
    rows = table(result)
    checked = 0
    for label, per in case["per_label"].items():
        e = per.get("panoptica", {}).get("default")
        if e is None:
            continue
        l = int(label)
        got = tuple(int(rows[l, m]) for m in ("found", "false_positives", "missed"))
        assert got == (e["tp"], e["fp"], e["fn"]), f"{name} label {l}"
        assert int(rows[l, "reference_lesions"]) == e["n_ref_instances"]
        assert int(rows[l, "predicted_lesions"]) == e["n_pred_instances"]
        checked += 1
    assert checked == len(case["per_label"]) or instance
    check_lesion_list(result, rows, spacing, ndim)


def check_lesion_list(result: dict, rows: dict, spacing, ndim: int) -> None:
    """The lesion list: one entry per reference and predicted lesion, consistent with the rows."""
    keys = {"label", "side", "id", "voxels", "volume_mm3", "bbox_min", "bbox_max", "status",
            "matched", "dice", "iou", "best_score"}
    lesions = result["lesions"]
    voxel = math.prod(spacing)
    for l in {k[0] for k in rows}:
        ref = [x for x in lesions if x["label"] == l and x["side"] == "reference"]
        pre = [x for x in lesions if x["label"] == l and x["side"] == "prediction"]
        assert len(ref) == rows[l, "reference_lesions"]
        assert len(pre) == rows[l, "predicted_lesions"]
        assert sum(x["status"] == "found" for x in ref) == rows[l, "found"]
        assert sum(x["status"] == "missed" for x in ref) == rows[l, "missed"]
        ids = {"reference": {x["id"] for x in ref}, "prediction": {x["id"] for x in pre}}
        for x in ref + pre:
            assert set(x) == keys
            assert len(x["bbox_min"]) == len(x["bbox_max"]) == ndim
            assert all(a <= b for a, b in zip(x["bbox_min"], x["bbox_max"]))
            assert x["voxels"] >= 1
            assert x["volume_mm3"] == pytest.approx(x["voxels"] * voxel, rel=1e-12)
            other = "prediction" if x["side"] == "reference" else "reference"
            assert set(x["matched"]) <= ids[other]
            # Dice and IoU of the pair on the reference lesions found; none on predicted ones.
            if x["side"] == "reference" and x["matched"]:
                assert x["status"] == "found"
                assert 0.0 < x["dice"] <= 1.0 and 0.0 < x["iou"] <= 1.0
            else:
                assert x["dice"] is None and x["iou"] is None
            assert x["status"] in (("found", "missed") if x["side"] == "reference" else ("matched", "false_positive"))
            assert x["best_score"] is None  # no probabilities given


@pytest.mark.parametrize("name", case_names())
def test_components_of_every_connectivity_match_cc3d(expected, name: str) -> None:
    case = expected["cases"][name]
    if case["kind"] != "semantic":
        pytest.skip("instance map")
    pred, spacing = load(name, "pred")
    truth, _ = load(name, "gt")
    for conn in (("4", "8") if case["ndim"] == 2 else ("6", "18", "26")):
        result = dicekit.evaluate_lesions(pred, truth, spacing=spacing, connectivity=int(conn), size_bins=[])
        for label, per in case["per_label"].items():
            for side, key in (("reference", "gt"), ("prediction", "pred")):
                sizes = sorted(
                    (x["voxels"] for x in result["lesions"] if x["label"] == int(label) and x["side"] == side),
                    reverse=True,
                )
                assert sizes == per["cc3d"][conn][key]["sizes"], f"{name}/{label}/{conn}/{key}"


FROC = [
    ("roc_interp", "reference_roc", "score_interp", "sensitivity_at_rates_interp"),
    ("roc_step", "reference_roc", "score_step", "sensitivity_at_rates_step"),
    ("monai", "monai", "froc_score_roc_rates", None),
]


def froc_cases() -> list[str]:
    if not (ROOT / "expected.json").is_file():
        return ["absent"]
    import json

    return json.loads((ROOT / "expected.json").read_text())["froc_set"]["cases"]


def same(a: float, b) -> bool:
    b = math.nan if b == "nan" else math.inf if b == "inf" else float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-12


@pytest.mark.parametrize("name", froc_cases())
def test_froc_scores(expected, name: str) -> None:
    case = expected["cases"][name]
    froc = case["froc"]
    nms = froc.get("prob_nms") if isinstance(froc.get("prob_nms"), dict) else expected["settings"]["prob_nms"]
    pred, spacing = load(name, "pred")
    truth, _ = load(name, "gt")
    prob, _ = load(name, "prob")
    assert prob.dtype == np.float32 and prob.shape == truth.shape
    for convention, peer, key, at_rates in FROC:
        result = dicekit.evaluate_lesions(
            pred,
            truth,
            spacing=spacing,
            probabilities=prob,
            froc_candidates="maxima",
            froc_threshold=nms["prob_threshold"],
            froc_box=nms["box_size"],
            froc_sigma=nms["sigma"],
            froc_convention=convention,
            size_bins=[],
        )
        f = result["froc"]
        assert list(f) == [1]
        got = f[1]
        assert set(got) == {"score", "fp_rates", "sensitivity_at_rates", "thresholds",
                            "fps_per_image", "sensitivity", "lesions", "images"}
        assert same(got["score"], froc[peer][key]), f"{name} {convention}: {got['score']} vs {froc[peer][key]}"
        assert got["lesions"] == froc["n_lesions"]
        assert got["fp_rates"] == expected["settings"]["roc_fp_rates"]
        assert len(got["sensitivity_at_rates"]) == len(got["fp_rates"])
        assert len(got["thresholds"]) == len(got["fps_per_image"]) == len(got["sensitivity"])
        if at_rates:
            want = froc[peer][at_rates]
            assert all(same(a, b) for a, b in zip(got["sensitivity_at_rates"], want))
            curve = froc[peer]["curve"]
            assert len(got["sensitivity"]) == len(curve["sensitivity"])
            assert all(same(a, b) for a, b in zip(got["fps_per_image"], curve["fps_per_image"]))
            assert all(same(a, b) for a, b in zip(got["sensitivity"], curve["sensitivity"]))
            assert all(same(a, b) for a, b in zip(got["thresholds"], curve["thresholds"]))
        # The score and the sensitivities are rows too.
        rows = table(result)
        # (rows are JSON-like: an undefined score, no lesions at all, is None there)
        row_score = rows[1, "froc_score"]
        assert same(math.nan if row_score is None else row_score, froc[peer][key])
        assert rows[1, "froc_lesions"] == froc["n_lesions"]
        # Every reference lesion carries the best candidate score that hits it (0 when none).
        for x in result["lesions"]:
            if x["side"] == "reference":
                assert 0.0 <= x["best_score"] < 1.0
            else:
                assert x["best_score"] is None


def test_probability_channels_and_errors(expected) -> None:
    name = froc_cases()[0]
    pred, spacing = load(name, "pred")
    truth, _ = load(name, "gt")
    prob, _ = load(name, "prob")
    one = dicekit.evaluate_lesions(pred, truth, spacing=spacing, probabilities=prob, froc_candidates="maxima")
    # A [C, ...] stack with a background channel gives the same FROC for label 1.
    stacked = np.stack([1.0 - prob, prob])
    two = dicekit.evaluate_lesions(
        pred, truth, spacing=spacing, probabilities=stacked, froc_candidates="maxima",
        probability_channels="class",
    )
    assert two["froc"][1]["score"] == one["froc"][1]["score"]
    # float64, big-endian or Fortran-ordered probabilities are the same numbers.
    for p in (prob.astype(np.float64), prob.astype(">f4"), np.asfortranarray(prob)):
        r = dicekit.evaluate_lesions(pred, truth, spacing=spacing, probabilities=p, froc_candidates="maxima")
        assert r["froc"][1]["score"] == one["froc"][1]["score"]
    with pytest.raises(ValueError):
        dicekit.evaluate_lesions(pred, truth, spacing=spacing, probabilities=prob[:-1])


@pytest.mark.parametrize(
    "convention,peer,key",
    [
        ("monai", "monai", "froc_score_roc_rates"),
        ("roc_interp", "reference_roc", "score_interp"),
        ("roc_step", "reference_roc", "score_step"),
    ],
)
def test_froc_pooled_over_a_folder(expected, tmp_path, convention: str, peer: str, key: str) -> None:
    """``evaluate_lesion_files`` on the FROC set as three folders (pred, truth, probabilities,
    files named by case): the FROC pooled over the cases equals the peers' ``froc_set`` value."""
    import shutil

    names = expected["froc_set"]["cases"]
    for kind, sub in (("pred", "pred"), ("gt", "truth"), ("prob", "prob")):
        (tmp_path / sub).mkdir()
        for name in names:
            shutil.copy(ROOT / "cases" / f"{name}_{kind}.nii.gz", tmp_path / sub / f"{name}.nii.gz")
    result = dicekit.evaluate_lesion_files(
        tmp_path / "pred",
        tmp_path / "truth",
        probabilities=tmp_path / "prob",
        froc_candidates="maxima",
        froc_threshold=0.1,
        froc_box=5,
        froc_convention=convention,
    )
    froc = result["froc"][1]
    assert froc["images"] == len(names)
    assert same(froc["score"], expected["froc_set"][peer][key])
    assert {r["case"] for r in result["lesions"]} == set(names)
    # A missing probability map is an error naming the case; errors="warn" leaves it out.
    (tmp_path / "prob" / f"{names[0]}.nii.gz").unlink()
    with pytest.raises(ValueError, match=names[0]):
        dicekit.evaluate_lesion_files(tmp_path / "pred", tmp_path / "truth", probabilities=tmp_path / "prob")
    with pytest.warns(UserWarning, match=names[0]):
        partial = dicekit.evaluate_lesion_files(
            tmp_path / "pred", tmp_path / "truth", probabilities=tmp_path / "prob", errors="warn"
        )
    assert partial["froc"][1]["images"] == len(names) - 1
