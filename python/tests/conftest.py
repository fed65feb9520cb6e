"""Shared helpers of the dicekit test suite: the repository's folders and a NIfTI reader.

The reference folders are found from this file (python/tests/ -> the repository root); the
shared reference set lies beside the repository (``<root>/../shared/reference``) and the tests
that need it skip when it is absent.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"
GOLDEN = REPO_ROOT / "crates" / "dicekit-metrics" / "tests" / "golden"


def load_expected(folder: Path) -> dict:
    """``folder/expected.json``, or a pytest skip when the folder is absent."""
    path = folder / "expected.json"
    if not path.is_file():
        pytest.skip(f"reference folder {folder} is absent")
    return json.loads(path.read_text())


def read_nifti(path: Path) -> tuple[np.ndarray, tuple[float, ...]]:
    """The array (as nibabel returns it: ``np.asarray(img.dataobj)``) and the spacing."""
    nib = pytest.importorskip("nibabel")
    img = nib.load(str(path))
    data = np.asarray(img.dataobj)
    return data, tuple(float(z) for z in img.header.get_zooms()[: data.ndim])
