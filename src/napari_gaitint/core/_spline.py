"""Interpolating cubic splines (not-a-knot), evaluated only where asked.

:class:`scipy.interpolate.CubicSpline` builds the polynomial coefficients of every interval
(4 x the data) before evaluating; on long recordings that was most of the time spent
filling gaps, which evaluates at a small share of the intervals (resampling gait cycles
evaluates at most of them and keeps scipy's spline, as fast there). :func:`cubic_spline_at`
solves the same tridiagonal system for the knot slopes and evaluates the Hermite form at
the points only, with scipy's arithmetic in scipy's order: the values are the same as
``CubicSpline(x, y, axis=0)(at)`` (tests compare them to the last bit).
"""

from __future__ import annotations

import numpy as np

#: Points evaluated per block (bounds the temporaries: block x columns x 8 bytes each).
_BLOCK = 1 << 15


def not_a_knot_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Slopes at the knots of the not-a-knot cubic spline through ``(x, y)``.

    ``x`` (n,) strictly increasing, n >= 4; ``y`` (n, k). The system and its solution are
    :class:`scipy.interpolate.CubicSpline`'s for ``bc_type="not-a-knot"``.
    """
    from scipy.linalg import solve_banded

    n = x.shape[0]
    dx = np.diff(x)
    dxr = dx[:, None]
    slope = np.diff(y, axis=0) / dxr
    A = np.zeros((3, n))  # banded: upper, diagonal, lower
    b = np.empty((n,) + y.shape[1:], dtype=y.dtype)
    A[1, 1:-1] = 2 * (dx[:-1] + dx[1:])
    A[0, 2:] = dx[:-1]
    A[-1, :-2] = dx[1:]
    b[1:-1] = 3 * (dxr[1:] * slope[:-1] + dxr[:-1] * slope[1:])
    A[1, 0] = dx[1]
    A[0, 1] = x[2] - x[0]
    d = x[2] - x[0]
    b[0] = ((dxr[0] + 2 * d) * dxr[1] * slope[0] + dxr[0] ** 2 * slope[1]) / d
    A[1, -1] = dx[-2]
    A[-1, -2] = x[-1] - x[-3]
    d = x[-1] - x[-3]
    b[-1] = (dxr[-1] ** 2 * slope[-2] + (2 * d + dxr[-1]) * dxr[-2] * slope[-1]) / d
    return solve_banded((1, 1), A, b, overwrite_ab=True, overwrite_b=True, check_finite=False)


def cubic_spline_at(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The not-a-knot cubic spline through ``(x, y)`` evaluated at ``at``.

    Parameters
    ----------
    x
        (n,) strictly increasing sample positions (e.g. frame numbers), n >= 4.
    y
        (n, k) samples, one column per signal.
    at
        (m,) positions; outside ``x`` the end polynomials extrapolate (as scipy's default),
        NaN gives NaN.

    Returns
    -------
    numpy.ndarray
        (m, k) values, equal to ``scipy.interpolate.CubicSpline(x, y, axis=0)(at)``.

    Examples
    --------
    >>> x = np.arange(6.0)
    >>> cubic_spline_at(x, (x**3)[:, None], np.array([2.5]))  # cubics are reproduced
    array([[15.625]])
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    at = np.asarray(at, dtype=float)
    if x.ndim != 1 or y.ndim != 2 or y.shape[0] != x.shape[0] or x.shape[0] < 4:
        raise ValueError("need x (n,), y (n, k) with n >= 4")
    s = not_a_knot_slopes(x, y)
    out = np.empty((at.shape[0], y.shape[1]))
    n = x.shape[0]
    for lo in range(0, at.shape[0], _BLOCK):
        xv = at[lo: lo + _BLOCK]
        # the interval with x[i] <= xv < x[i + 1] (the last one closed; the end ones
        # extrapolate), as scipy's find_interval
        i = np.clip(np.searchsorted(x, xv, side="right") - 1, 0, n - 2)
        dx = (x[i + 1] - x[i])[:, None]
        y0, y1, s0, s1 = y[i], y[i + 1], s[i], s[i + 1]
        slope = (y1 - y0) / dx
        t = (s0 + s1 - 2 * slope) / dx
        c0 = t / dx
        c1 = (slope - s0) / dx - t
        u = (xv - x[i])[:, None]
        # scipy's evaluate_poly1: the powers of u accumulated, lowest order first
        uu = u * u
        v = y0 + s0 * u
        v += c1 * uu
        v += c0 * (uu * u)
        v[np.isnan(xv)] = np.nan
        out[lo: lo + _BLOCK] = v
    return out
