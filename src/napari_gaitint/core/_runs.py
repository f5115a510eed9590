"""Runs of True in boolean arrays: their bounds, masks of ranges (array helpers shared by the steps)."""

from __future__ import annotations

import numpy as np


def run_bounds(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, stops)`` arrays of the half-open runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def cover(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Boolean (n,) mask that is True on every half-open range ``[starts[i], stops[i])``."""
    d = np.zeros(n + 1, np.int64)
    keep = stops > starts
    np.add.at(d, starts[keep], 1)
    np.add.at(d, stops[keep], -1)
    return np.cumsum(d[:-1]) > 0


def long_runs(mask: np.ndarray, longer_than: int) -> np.ndarray:
    """Frames of the runs of True in ``mask`` (1-D) longer than ``longer_than`` frames."""
    a, b = run_bounds(mask)
    long = b - a > longer_than
    return cover(mask.size, a[long], b[long])
