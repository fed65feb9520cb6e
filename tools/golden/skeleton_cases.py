#!/usr/bin/env python3
"""Writes crates/dicekit-metrics/tests/golden/skeleton/: pairs of 2D and 3D binary masks with
scikit-image's skeleton of each and the clDice values of the pair, one JSON file per case.

Every skeleton is `skimage.morphology.skeletonize(mask)` with its default method (Zhang-Suen in
2D, Lee et al. in 3D), run here; nothing is hand-written. The clDice values follow the clDice
authors' reference metric (jocpae/clDice, cldice_metric/cldice.py): `cl_score(v, s) =
sum(v * s) / sum(s)` and `2 tprec tsens / (tprec + tsens)`. The reference names the two ratios
the other way round from the paper; here `tprec = |S(P) & G| / |S(P)|` and
`tsens = |S(G) & P| / |S(G)|` as in the paper (clDice is symmetric in them). A value that is
NaN in the reference (0 / 0) is written as null.

Layout of a case file:
    shape           the array shape (2 or 3 axes)
    pred, truth     the masks: C-order bits packed MSB first (numpy.packbits), as hex
    pred_skeleton,  scikit-image's skeletons: C-order flat indices of the foreground voxels
    truth_skeleton
    tprec, tsens, cl_dice   floats or null

Needs: numpy, scipy, scikit-image==0.26.0 (the versions used are written into every file).

Run from the repository root:
    python3 tools/golden/skeleton_cases.py            # writes the folder
Never edit the output by hand, and never regenerate it from dicekit's own values.
"""
import json
import math
import os
import platform

import numpy as np
import scipy
import skimage
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

OUT = os.path.join("crates", "dicekit-metrics", "tests", "golden", "skeleton")
SEED = 20260101


def pack(mask):
    return np.packbits(mask.astype(bool).ravel(order="C"), bitorder="big").tobytes().hex()


def cl_values(pred, truth, skel_pred, skel_truth):
    with np.errstate(divide="ignore", invalid="ignore"):
        # The reference's cl_score(v, s) = np.sum(v * s) / np.sum(s).
        tprec = np.float64(np.sum(truth * skel_pred)) / np.float64(np.sum(skel_pred))
        tsens = np.float64(np.sum(pred * skel_truth)) / np.float64(np.sum(skel_truth))
        cl = 2 * tprec * tsens / (tprec + tsens)
    as_json = lambda v: None if math.isnan(float(v)) else float(v)
    return as_json(tprec), as_json(tsens), as_json(cl)


# ----------------------------------------------------------------------------------- shapes


def blobs(rng, shape, sigma, fraction):
    """Smoothed noise thresholded at the quantile that keeps `fraction` of the voxels."""
    field = ndi.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field > np.quantile(field, 1 - fraction)


def brush(shape, points, radius):
    """Voxels within `radius` of any of `points` (a polyline sampled densely)."""
    grid = np.indices(shape).reshape(len(shape), -1).T.astype(float)
    out = np.zeros(grid.shape[0], bool)
    for p in points:
        out |= ((grid - p) ** 2).sum(1) <= radius * radius
    return out.reshape(shape)


def curve_2d(shape, amp, freq, phase, row, radius):
    xs = np.linspace(0, shape[1] - 1, 4 * shape[1])
    pts = np.stack([row + amp * np.sin(freq * xs + phase), xs], 1)
    return brush(shape, pts, radius)


def helix(shape, radius_helix, turns, radius_tube, centre_shift=(0.0, 0.0)):
    d, h, w = shape
    t = np.linspace(0, 1, 600)
    pts = np.stack(
        [
            1.5 + t * (d - 4),
            h / 2 + centre_shift[0] + radius_helix * np.cos(2 * np.pi * turns * t),
            w / 2 + centre_shift[1] + radius_helix * np.sin(2 * np.pi * turns * t),
        ],
        1,
    )
    return brush(shape, pts, radius_tube)


def ring_2d(shape, centre, r_in, r_out):
    r, c = np.indices(shape)
    d2 = (r - centre[0]) ** 2 + (c - centre[1]) ** 2
    return (d2 >= r_in**2) & (d2 <= r_out**2)


def torus(shape, major, minor, centre):
    p, r, c = np.indices(shape).astype(float)
    p, r, c = p - centre[0], r - centre[1], c - centre[2]
    q = np.sqrt(r**2 + c**2) - major
    return q**2 + p**2 <= minor**2


def box(shape, lo, hi):
    m = np.zeros(shape, bool)
    m[tuple(slice(a, b) for a, b in zip(lo, hi))] = True
    return m


def all_3x3_neighbourhoods(transpose=False):
    """Every 3x3 neighbourhood with its centre set, each in its own 4x4 cell (a blank row and
    column between cells), 16 x 16 cells."""
    m = np.zeros((64, 64), bool)
    for code in range(256):
        cell = np.zeros((3, 3), bool)
        cell[1, 1] = True
        # Neighbour bits clockwise from the top-left: NW N NE E SE S SW W.
        for b, (dr, dc) in enumerate([(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]):
            cell[dr, dc] = bool(code >> b & 1)
        if transpose:
            cell = cell.T
        r0, c0 = 4 * (code // 16), 4 * (code % 16)
        m[r0 : r0 + 3, c0 : c0 + 3] = cell
    return m


def all_2x2x2_blocks():
    """Every non-empty 2x2x2 configuration in its own 3x3x3 cell, 6 x 7 x 7 cells."""
    m = np.zeros((18, 21, 21), bool)
    for code in range(1, 256):
        block = np.array([code >> k & 1 for k in range(8)], bool).reshape(2, 2, 2)
        i = code - 1
        p0, r0, c0 = 3 * (i // 49), 3 * (i // 7 % 7), 3 * (i % 7)
        m[p0 : p0 + 2, r0 : r0 + 2, c0 : c0 + 2] = block
    return m


def cases():
    rng = np.random.default_rng(SEED)
    out = []

    def add(name, description, pred, truth):
        assert pred.shape == truth.shape, name
        out.append((name, description, pred.astype(bool), truth.astype(bool)))

    # ---- 2D
    g = blobs(rng, (48, 48), 3.0, 0.35)
    add("2d_blobs_eroded", "smoothed-noise blobs; prediction eroded by one pixel", ndi.binary_erosion(g), g)
    g = blobs(rng, (40, 56), 2.5, 0.3)
    add("2d_blobs_shifted", "blobs; prediction shifted by (1, 2)", np.roll(g, (1, 2), (0, 1)), g)
    shape = (64, 64)
    g = curve_2d(shape, 8, 0.15, 0.3, 16, 1.2) | curve_2d(shape, 5, 0.25, 1.0, 44, 1.8)
    p = curve_2d(shape, 8, 0.15, 0.4, 17, 1.8) | curve_2d(shape, 5, 0.25, 1.0, 44, 1.0)
    p[:, 30:34] = False  # a gap
    p |= brush(shape, np.stack([np.linspace(20, 40, 60), np.linspace(10, 28, 60)], 1), 1.0)
    add("2d_vessels", "sinusoidal vessels of radius 1-2; prediction with a gap and a spurious branch", p, g)
    g = np.zeros((32, 32), bool)
    g[3, 2:30] = True  # horizontal
    g[np.arange(6, 28), np.arange(6, 28)] = True  # 8-connected diagonal
    g[10:28, 28] = True  # vertical touching the diagonal region
    stair = [(r, c) for k in range(8) for (r, c) in [(28 - k, 2 + 2 * k), (28 - k, 3 + 2 * k)]]
    for r, c in stair:
        g[r, c] = True
    add("2d_one_pixel_lines", "one-pixel lines and a staircase; prediction dilated", ndi.binary_dilation(g), g)
    add(
        "2d_rectangles",
        "filled rectangles, a 2x2 and a 3x3 square",
        box((30, 40), (4, 5), (16, 35)) | box((30, 40), (20, 3), (22, 5)) | box((30, 40), (20, 10), (23, 13)),
        box((30, 40), (5, 4), (17, 36)) | box((30, 40), (24, 20), (28, 38)),
    )
    gr = ring_2d((40, 40), (19.5, 20), 9, 13)
    pr = ring_2d((40, 40), (20, 19.5), 10, 12.5)
    pr[18:22, 25:] = False  # broken ring
    add("2d_rings", "annuli; prediction broken", pr, gr)
    p, g = np.zeros((9, 11), bool), np.zeros((9, 11), bool)
    p[4, 5], g[2, 7] = True, True
    add("2d_single_pixels_apart", "one pixel each, not overlapping", p, g)
    p = np.zeros((9, 11), bool)
    p[2, 7] = True
    add("2d_single_pixel_same", "the same single pixel", p, g)
    g = np.zeros((20, 24), bool)
    g[:, :3] = True  # left edge
    g[0:5, 10:24] = True  # top-right corner block
    g[12:20, 15:24] = True  # bottom-right corner block
    p = np.roll(g, 1, 0)
    add("2d_border_touching", "objects touching the image border and corners", p, g)
    add("2d_full", "every pixel foreground", np.ones((17, 23), bool), np.ones((17, 23), bool))
    add("2d_empty_both", "both masks empty", np.zeros((12, 12), bool), np.zeros((12, 12), bool))
    g = blobs(rng, (24, 24), 2.0, 0.3)
    add("2d_empty_pred", "nothing predicted", np.zeros_like(g), g)
    add("2d_empty_truth", "empty reference", g, np.zeros_like(g))
    add(
        "2d_all_neighbourhoods",
        "all 256 3x3 neighbourhoods with the centre set, one per 4x4 cell; prediction transposed per cell",
        all_3x3_neighbourhoods(transpose=True),
        all_3x3_neighbourhoods(),
    )
    x, y = np.ogrid[0:9, 0:9]
    ellipse = (1.0 / 3 * (x - 4) ** 2 + (y - 4) ** 2) < 3**2
    add("2d_docstring_ellipse", "scikit-image's skeletonize docstring ellipse", ellipse.T, ellipse)
    row_p, row_g = np.zeros((1, 17), bool), np.zeros((1, 17), bool)
    row_p[0, 2:15], row_g[0, 0:9] = True, True
    add("2d_single_row", "a 1 x 17 image", row_p, row_g)
    col_p, col_g = np.zeros((19, 1), bool), np.zeros((19, 1), bool)
    col_p[:, 0], col_g[4:12, 0] = True, True
    add("2d_single_column", "a 19 x 1 image", col_p, col_g)
    add("2d_noise", "uniform noise of density 0.5", rng.random((24, 24)) < 0.5, rng.random((24, 24)) < 0.5)

    # ---- 3D
    g = blobs(rng, (24, 24, 24), 2.5, 0.3)
    add("3d_blobs_eroded", "smoothed-noise blobs; prediction eroded", ndi.binary_erosion(g), g)
    shape = (28, 24, 24)
    add(
        "3d_helix_tubes",
        "helical tubes; prediction thicker and shifted",
        helix(shape, 6, 1.5, 2.0, (0.7, -0.4)),
        helix(shape, 6, 1.5, 1.5),
    )
    shape = (16, 20, 24)
    g = box(shape, (2, 2, 2), (8, 10, 12)) | box(shape, (10, 14, 4), (12, 16, 6)) | box(shape, (1, 12, 14), (5, 16, 24))
    p = box(shape, (3, 2, 2), (9, 10, 12)) | box(shape, (10, 3, 16), (14, 7, 20)) | box(shape, (12, 14, 4), (15, 17, 22))
    add(
        "3d_boxes",
        "boxes, a 2x2x2 cube, a 4x4 rod to the border (scikit-image #3757 cases)",
        p,
        g,
    )
    g = torus((12, 28, 28), 8, 3, (5.5, 13.5, 13.5))
    p = torus((12, 28, 28), 8, 2.2, (6, 14, 13))
    add("3d_torus", "a solid torus; prediction thinner and shifted", p, g)
    p, g = np.zeros((7, 8, 9), bool), np.zeros((7, 8, 9), bool)
    p[3, 4, 4], g[3, 4, 5] = True, True
    add("3d_single_voxels", "one voxel each, face neighbours", p, g)
    add("3d_full", "every voxel foreground", np.ones((7, 9, 11), bool), np.ones((7, 9, 11), bool))
    g = blobs(rng, (12, 12, 12), 1.5, 0.3)
    add("3d_empty_pred", "nothing predicted", np.zeros_like(g), g)
    add("3d_empty_both", "both masks empty", np.zeros((5, 6, 7), bool), np.zeros((5, 6, 7), bool))
    g = blobs(rng, (1, 32, 32), (0.01, 2.0, 2.0), 0.35)
    add("3d_depth_one", "a 1 x 32 x 32 volume (thinned in four directions)", np.roll(g, 1, 2), g)
    g = blobs(rng, (20, 20, 1), (2.0, 2.0, 0.01), 0.35)
    add("3d_last_axis_one", "a 20 x 20 x 1 volume", g, np.roll(g, 1, 0))
    add(
        "3d_all_2x2x2_blocks",
        "all 255 non-empty 2x2x2 configurations, one per 3x3x3 cell; reference random noise",
        all_2x2x2_blocks(),
        rng.random((18, 21, 21)) < 0.2,
    )
    add("3d_noise", "uniform noise of density 0.5", rng.random((12, 12, 12)) < 0.5, rng.random((12, 12, 12)) < 0.5)
    shape = (10, 12, 14)
    p = box(shape, (2, 2, 2), (4, 4, 4)) | box(shape, (6, 7, 9), (8, 9, 11))
    g = brush(shape, np.stack([np.full(50, 5.0), np.linspace(1, 10, 50), np.linspace(1, 12, 50)], 1), 1.0)
    add("3d_skeletonless_pred", "prediction of 2x2x2 cubes only, which thin away entirely", p, g)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    versions = {
        "scikit-image": skimage.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }
    total = 0
    all_cases = cases()
    for name, description, pred, truth in all_cases:
        sp, sg = skeletonize(pred), skeletonize(truth)
        assert sp.dtype == bool and sp.shape == pred.shape
        tprec, tsens, cl = cl_values(pred, truth, sp, sg)
        doc = {
            "generator": "tools/golden/skeleton_cases.py",
            "reference": "skimage.morphology.skeletonize (default method); clDice of jocpae/clDice cldice_metric",
            "versions": versions,
            "name": name,
            "description": description,
            "shape": list(pred.shape),
            "pred": pack(pred),
            "truth": pack(truth),
            "pred_skeleton": np.flatnonzero(sp.ravel(order="C")).tolist(),
            "truth_skeleton": np.flatnonzero(sg.ravel(order="C")).tolist(),
            "tprec": tprec,
            "tsens": tsens,
            "cl_dice": cl,
        }
        text = json.dumps(doc, separators=(",", ":")) + "\n"
        with open(os.path.join(OUT, name + ".json"), "w") as f:
            f.write(text)
        total += len(text)
        print(f"{name:28s} {str(pred.shape):16s} |P|={int(pred.sum()):5d} |S(P)|={int(sp.sum()):4d} "
              f"|G|={int(truth.sum()):5d} |S(G)|={int(sg.sum()):4d} clDice={cl}")
    print(f"{len(all_cases)} cases, {total} bytes")


if __name__ == "__main__":
    main()
