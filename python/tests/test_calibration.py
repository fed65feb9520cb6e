"""Calibration: reliability bins, ECE, MCE and the Brier score against numbers computed by hand and
with torchmetrics 1.9.0 (``BinaryCalibrationError`` on float64 tensors; torch 2.15), hard-coded."""
from __future__ import annotations

import math

import numpy as np
import pytest

import dicekit

# Nine confidences on the edges of 4 equal-width bins (all exact in binary) and their outcomes.
EDGE_CONF = np.array([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0])
EDGE_OK = np.array([0, 1, 0, 1, 1, 0, 1, 1, 1], bool)

# Sixty confidences k*37 mod 61 / 61 (none on a bin edge of 10 or 15 bins) and outcomes.
N = 60
CONF = np.array([((k * 37) % 61) / 61 for k in range(N)])
OK = np.array([((k * 13) % 7) < 4 for k in range(N)])


def test_edges_by_hand() -> None:
    # edges="right", bins (lo, hi] with 0 in the first (Guo et al.'s reference code):
    #   {0, .125, .25}: conf 1/8, acc 1/3 -> |.| = 5/24;  {.375, .5}: 7/16, 1 -> 9/16;
    #   {.625, .75}: 11/16, 1/2 -> 3/16;  {.875, 1}: 15/16, 1 -> 1/16
    #   ECE = (3*5/24 + 2*9/16 + 2*3/16 + 2*1/16) / 9 = 1/4;  MCE = 9/16
    bins = dicekit.reliability_bins(EDGE_CONF, EDGE_OK, bins=4, edges="right")
    assert [b["count"] for b in bins] == [3, 2, 2, 2]
    assert [(b["lower"], b["upper"]) for b in bins] == [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]
    assert [b["confidence"] for b in bins] == [0.125, 0.4375, 0.6875, 0.9375]
    assert bins[0]["accuracy"] == pytest.approx(1 / 3, rel=1e-15)
    assert [b["accuracy"] for b in bins[1:]] == [1.0, 0.5, 1.0]
    assert dicekit.expected_calibration_error(EDGE_CONF, EDGE_OK, bins=4, edges="right") == pytest.approx(0.25, rel=1e-14)
    assert dicekit.maximum_calibration_error(EDGE_CONF, EDGE_OK, bins=4, edges="right") == 0.5625
    # edges="left", bins [lo, hi) with 1 in the last:
    #   {0, .125}: 1/16, 1/2 -> 7/16;  {.25, .375}: 5/16, 1/2 -> 3/16;
    #   {.5, .625}: 9/16, 1/2 -> 1/16;  {.75, .875, 1}: 7/8, 1 -> 1/8
    #   ECE = (2*7/16 + 2*3/16 + 2*1/16 + 3*1/8) / 9 = 7/36;  MCE = 7/16
    # torchmetrics 1.9 BinaryCalibrationError(n_bins=4) gives the same on these values
    # (0.19444444444444442 and 0.4375): torch.bucketize(right=True) - 1 bins [lo, hi).
    bins = dicekit.reliability_bins(EDGE_CONF, EDGE_OK, bins=4, edges="left")
    assert [b["count"] for b in bins] == [2, 2, 2, 3]
    assert dicekit.expected_calibration_error(EDGE_CONF, EDGE_OK, bins=4, edges="left") == pytest.approx(7 / 36, rel=1e-14)
    assert dicekit.expected_calibration_error(EDGE_CONF, EDGE_OK, bins=4, edges="left") == pytest.approx(0.19444444444444442, rel=1e-12)
    assert dicekit.maximum_calibration_error(EDGE_CONF, EDGE_OK, bins=4, edges="left") == 0.4375
    # Brier = mean (p - y)^2 = (0 + 49/64 + 1/16 + 25/64 + 1/4 + 25/64 + 1/16 + 1/64 + 0) / 9 = 31/144
    assert dicekit.brier_score(EDGE_CONF, EDGE_OK) == pytest.approx(31 / 144, rel=1e-14)


@pytest.mark.parametrize(
    "bins, ece, mce",
    [
        # torchmetrics 1.9.0 BinaryCalibrationError(n_bins, norm="l1" / "max") on float64 tensors.
        (15, 0.33852459016393444, 0.8278688524590165),
        (10, 0.27295081967213114, 0.5109289617486339),
    ],
)
def test_equal_width_against_torchmetrics(bins: int, ece: float, mce: float) -> None:
    for edges in ("right", "left"):  # no confidence lies on an edge
        assert dicekit.expected_calibration_error(CONF, OK, bins=bins, edges=edges) == pytest.approx(ece, rel=1e-12)
        assert dicekit.maximum_calibration_error(CONF, OK, bins=bins, edges=edges) == pytest.approx(mce, rel=1e-12)
    rel = dicekit.reliability_bins(CONF, OK, bins=bins)
    assert len(rel) == bins and sum(b["count"] for b in rel) == N
    # ECE and MCE are the weighted mean and the maximum of the bins' gaps.
    gaps = [(b["count"], abs(b["accuracy"] - b["confidence"])) for b in rel if b["count"]]
    assert sum(n * g for n, g in gaps) / N == pytest.approx(ece, rel=1e-12)
    assert max(g for _, g in gaps) == pytest.approx(mce, rel=1e-12)
    for k, b in enumerate(rel):
        assert b["lower"] == pytest.approx(k / bins) and b["upper"] == pytest.approx((k + 1) / bins)
        if b["count"] == 0:
            assert b["confidence"] is None and b["accuracy"] is None


def test_equal_mass_by_hand() -> None:
    # NumPy: the 60 confidences sorted, 4 bins of 15; per bin (min, max, mean conf, accuracy).
    want = [
        (0.0, 0.22950819672131148, 0.11475409836065573, 0.5333333333333333),
        (0.2459016393442623, 0.4918032786885246, 0.36721311475409835, 0.6),
        (0.5081967213114754, 0.7377049180327869, 0.6229508196721312, 0.5333333333333333),
        (0.7540983606557377, 0.9836065573770492, 0.8688524590163934, 0.5333333333333333),
    ]
    rel = dicekit.reliability_bins(CONF, OK, bins=4, binning="equal_mass")
    assert [b["count"] for b in rel] == [15] * 4
    for b, (lo, hi, c, a) in zip(rel, want):
        assert (b["lower"], b["upper"]) == (lo, hi)
        assert b["confidence"] == pytest.approx(c, rel=1e-14)
        assert b["accuracy"] == pytest.approx(a, rel=1e-14)
    assert dicekit.expected_calibration_error(CONF, OK, bins=4, binning="equal_mass") == pytest.approx(0.2691256830601093, rel=1e-12)
    assert dicekit.maximum_calibration_error(CONF, OK, bins=4, binning="equal_mass") == pytest.approx(0.41857923497267757, rel=1e-12)


def test_brier_against_numpy() -> None:
    # NumPy: np.mean((CONF - OK) ** 2)
    assert dicekit.brier_score(CONF, OK) == pytest.approx(0.33485174236316406, rel=1e-12)


def test_inputs() -> None:
    want = dicekit.expected_calibration_error(CONF, OK)
    # Lists, float32, int outcomes, 2D arrays (flattened), non-contiguous, misaligned, big-endian.
    assert dicekit.expected_calibration_error(list(CONF), list(OK)) == want
    assert dicekit.expected_calibration_error(CONF.reshape(6, 10), OK.reshape(6, 10)) == want
    assert dicekit.expected_calibration_error(CONF.astype(">f8"), OK.astype(np.int64)) == want
    twice = np.repeat(CONF, 2)[::2]
    assert not twice.flags.c_contiguous
    assert dicekit.expected_calibration_error(twice, OK) == want
    misaligned = np.frombuffer(b"\0" + CONF.tobytes(), np.float64, offset=1)
    assert not misaligned.flags.aligned
    assert dicekit.expected_calibration_error(misaligned, OK) == want
    assert dicekit.brier_score(misaligned, OK) == dicekit.brier_score(CONF, OK)
    f32 = CONF.astype(np.float32)
    assert dicekit.brier_score(f32, OK) == pytest.approx(dicekit.brier_score(CONF, OK), rel=1e-6)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="shape"):
        dicekit.expected_calibration_error(CONF, OK[:-1])
    with pytest.raises(ValueError, match="shape"):
        dicekit.brier_score(CONF, OK[:-1])
    with pytest.raises(ValueError, match="probabilities in"):
        dicekit.brier_score(np.array([1.2, 0.5]), np.array([True, False]))
    with pytest.raises(ValueError, match="NaN"):
        dicekit.expected_calibration_error(np.array([math.nan, 0.5]), np.array([True, False]))
    for bins in (0, -1):
        with pytest.raises(ValueError, match="bins"):
            dicekit.reliability_bins(CONF, OK, bins=bins)
    with pytest.raises(ValueError, match="binning"):
        dicekit.reliability_bins(CONF, OK, binning="quantile")
    with pytest.raises(ValueError, match="edges"):
        dicekit.expected_calibration_error(CONF, OK, edges="both")
