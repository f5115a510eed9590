"""Gap filling and zero-lag low-pass filters of the cleaning step (steps 3 and 4 of
:func:`~napari_gaitint.core.clean.clean_pose`): building blocks that know nothing of
likelihoods or legs.
"""

from __future__ import annotations

import functools

import numpy as np

from ._runs import cover, run_bounds
from ._spline import cubic_spline_at
from .config import FILTERS, GAP_METHODS
from .errors import AnalysisError


# Likelihood-free building blocks: gap filling, filtering
def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` half-open runs of True in a 1-D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True))


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance over the last axis (size 2) of ``a - b``; as
    ``np.linalg.norm(a - b, axis=-1)`` (same arithmetic), without its reduction overhead."""
    dx = a[..., 0] - b[..., 0]
    dy = a[..., 1] - b[..., 1]
    return np.sqrt(dx * dx + dy * dy)


def _finite_rows(arr: np.ndarray) -> np.ndarray:
    """``np.isfinite(arr).all(axis=1)`` of an ``(n, k)`` array with few columns, faster
    (a reduction over a short last axis is slow in numpy)."""
    ok = np.isfinite(arr[:, 0])
    for c in range(1, arr.shape[1]):
        ok &= np.isfinite(arr[:, c])
    return ok


def _finite2(p: np.ndarray) -> np.ndarray:
    """``np.isfinite(p).all(-1)`` for a last axis of size 2 (x, y)."""
    return np.isfinite(p[..., 0]) & np.isfinite(p[..., 1])


def fill_gaps(values: np.ndarray, *, max_gap_frames: int, method: str = "spline") -> np.ndarray:
    """Interpolate interior runs of NaN no longer than ``max_gap_frames``.

    Parameters
    ----------
    values
        ``(n_frames,)`` or ``(n_frames, k)``; a row is missing if any column is NaN.
    max_gap_frames
        Longest run of missing rows to fill. Gaps at the start or end are never filled
        (no extrapolation), nor a gap whose only data on one side is a lone sample before
        the end of the data or an unfilled gap (a curve through it would be an
        extrapolation too; :func:`_anchored`).
    method
        ``"linear"``, ``"pchip"`` (shape-preserving cubic) or ``"spline"`` (cubic spline,
        not-a-knot, through the valid samples; falls back to linear with < 4 samples).

    Examples
    --------
    >>> fill_gaps(np.array([0.0, 1, np.nan, 3, 4, np.nan, np.nan, np.nan, 8]), max_gap_frames=2,
    ...           method="linear")
    array([ 0.,  1.,  2.,  3.,  4., nan, nan, nan,  8.])
    >>> fill_gaps(np.array([0.0, 1, 2, 3, np.nan, np.nan, 6]), max_gap_frames=2)  # 6 alone
    array([ 0.,  1.,  2.,  3., nan, nan,  6.])
    """
    from scipy.interpolate import PchipInterpolator

    if method not in GAP_METHODS:
        raise ValueError(f"method must be one of {GAP_METHODS}, got {method!r}")
    arr = np.array(values, dtype=float, copy=True)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    bad = ~_finite_rows(arr)
    arr[bad] = np.nan
    valid = np.flatnonzero(~bad)
    if valid.size < 2 or max_gap_frames <= 0:
        return arr[:, 0] if one_d else arr
    a, b = run_bounds(bad)
    inner = (a > 0) & (b < arr.shape[0]) & (b - a <= max_gap_frames)  # no extrapolation
    inner &= _anchored(a, b, inner, arr.shape[0])
    rows = np.flatnonzero(cover(arr.shape[0], a[inner], b[inner]))
    if rows.size:
        if method == "linear" or valid.size < 4:
            # np.interp through the samples next to the gaps only: each gap is bridged by
            # its two neighbouring samples, as through all of them
            ends = np.union1d(a[inner] - 1, b[inner])
            for k in range(arr.shape[1]):
                arr[rows, k] = np.interp(rows, ends.astype(float), arr[ends, k])
        elif method == "pchip":
            arr[rows] = PchipInterpolator(valid.astype(float), arr[valid], axis=0)(rows)
        else:
            near = _near_gaps(valid, rows, _SPLINE_SUPPORT)
            arr[rows] = cubic_spline_at(valid[near].astype(float), arr[valid[near]], rows)  # CubicSpline's values
    return arr[:, 0] if one_d else arr


#: Fewer valid samples than this between a gap and the end of the data (or a gap that is
#: not filled) cannot anchor the filling: a curve through a lone sample there is an
#: extrapolation (a spline overshoots, e.g. a pose estimator's last frame after a dropout).
_MIN_ANCHOR_SAMPLES = 2


def _anchored(a: np.ndarray, b: np.ndarray, fill: np.ndarray, n: int) -> np.ndarray:
    """Which of the gaps ``[a[i], b[i])`` (sorted, of ``n`` rows) are bounded on both sides
    by data that anchors them, given the gaps ``fill`` that would be filled: a run of fewer
    than :data:`_MIN_ANCHOR_SAMPLES` valid rows whose far side is the end of the data or an
    unfilled gap does not. Unfilling one gap can leave its neighbour's anchor lone too, so
    this repeats until nothing changes.

    Examples
    --------
    >>> a, b = np.array([3, 8]), np.array([5, 9])  # rows 3-4 and 8 missing of 10
    >>> _anchored(a, b, np.array([True, True]), 10).tolist()  # row 9 alone after the 2nd
    [True, False]
    >>> a, b = np.array([3, 8]), np.array([7, 9])  # rows 3-6 and 8: row 7 alone too
    >>> _anchored(a, b, np.array([True, True]), 10).tolist()
    [False, False]
    """
    fill = np.asarray(fill, dtype=bool).copy()
    if not fill.any():
        return fill
    before = a - np.concatenate([[0], b[:-1]])  # valid rows between the previous gap and this
    after = np.concatenate([a[1:], [n]]) - b  # valid rows between this gap and the next
    while True:
        prev_open = np.concatenate([[True], ~fill[:-1]])  # data start or an unfilled gap
        next_open = np.concatenate([~fill[1:], [True]])
        lone = ((before < _MIN_ANCHOR_SAMPLES) & prev_open) | ((after < _MIN_ANCHOR_SAMPLES) & next_open)
        drop = fill & lone
        if not drop.any():
            return fill
        fill &= ~drop


#: Valid samples each side of a gap that the gap-filling spline is fitted to. An
#: interpolating cubic spline's dependence on a sample decays by ``2 - sqrt(3) ~ 0.27`` per
#: knot, so samples further than 40 knots change the filled values by less than 1e-22 of
#: their size: fitting the spline near the gaps only gives the values of the spline through
#: all samples (to rounding), in time that grows with the gaps, not the recording.
_SPLINE_SUPPORT = 40


def _near_gaps(valid: np.ndarray, rows: np.ndarray, support: int) -> np.ndarray:
    """Mask of the ``valid`` (sorted frame numbers) within ``support`` valid samples of a
    frame in ``rows`` (the frames to fill)."""
    pos = np.searchsorted(valid, rows)  # first valid sample after each row
    lo = np.maximum(pos - support, 0)
    hi = np.minimum(pos + support, valid.size)
    return cover(valid.size, lo, hi)


@functools.lru_cache(maxsize=32)
def _butter_sos_zi(order: int, cutoff_hz: float, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(sos, zi)``: low-pass Butterworth second-order sections and their step-response
    initial conditions (:func:`scipy.signal.sosfilt_zi`), cached: designing them takes
    ~1 ms, more than filtering a short trial. ``zi`` is read-only; ``sos`` is not
    (:func:`scipy.signal.sosfilt` needs it writeable): copy it before use."""
    from scipy.signal import butter, sosfilt_zi

    sos = butter(order, cutoff_hz, btype="low", fs=fps, output="sos")
    zi = sosfilt_zi(sos)
    zi.flags.writeable = False
    return sos, zi


def lowpass(
    values: np.ndarray,
    *,
    fps: float,
    method: str = "butterworth",
    cutoff_hz: float = 6.0,
    order: int = 2,
    window_s: float = 0.28,
    polyorder: int = 3,
) -> np.ndarray:
    """Zero-lag low-pass filter of each contiguous stretch of valid samples.

    Parameters
    ----------
    values
        ``(n_frames,)`` or ``(n_frames, k)``; NaN rows split the track into stretches,
        each filtered on its own (NaN stay NaN).
    fps
        Sampling rate in Hz.
    method
        ``"butterworth"``: :func:`scipy.signal.butter` of ``order`` applied forward and
        backward (:func:`~scipy.signal.sosfiltfilt`, effective order ``2 * order``), with
        the padding shortened for short stretches; ``"savgol"``: Savitzky–Golay with a
        ``window_s`` window (odd number of frames, shortened for short stretches);
        ``"none"``.
    cutoff_hz
        Butterworth cut-off in Hz; must be below the Nyquist frequency ``fps / 2``.

    Notes
    -----
    Stretches too short to filter (fewer than 4 samples, or shorter than ``polyorder + 2``
    for Savitzky–Golay) are left as they are.
    """
    if method == "none":
        return np.array(values, dtype=float, copy=True)
    if method not in FILTERS:
        raise ValueError(f"method must be one of {FILTERS}, got {method!r}")
    if not fps or fps <= 0:
        raise AnalysisError("the frame rate is unknown; a filter in Hz needs fps")
    arr = np.array(values, dtype=float, copy=True)
    one_d = arr.ndim == 1
    if one_d:
        arr = arr[:, None]
    good = _finite_rows(arr)
    if method == "butterworth":
        nyq = fps / 2.0
        if cutoff_hz >= nyq:
            raise AnalysisError(
                f"cut-off {cutoff_hz} Hz must be below the Nyquist frequency {nyq:g} Hz "
                f"(half of {fps:g} fps)"
            )
        sos, zi = _butter_sos_zi(int(order), float(cutoff_hz), float(fps))
        sos = sos.copy()
        full_pad = 3 * (2 * len(sos) + 1)
    else:
        window = max(int(round(window_s * fps)) | 1, polyorder + 2 | 1)
    if method == "savgol":
        _savgol_stretches(arr, good, window, polyorder)
        return arr[:, 0] if one_d else arr
    _sosfiltfilt_stretches(arr, good, sos, zi, full_pad)
    return arr[:, 0] if one_d else arr


def _sosfiltfilt_stretches(arr: np.ndarray, good: np.ndarray, sos: np.ndarray, zi: np.ndarray,
                           full_pad: int) -> None:
    """:func:`scipy.signal.sosfiltfilt` of each run of ``good`` rows of ``arr`` (n, k) with
    at least 4 rows, in place, with ``padlen = min(full_pad, rows - 1)``; ``zi`` is
    ``sosfilt_zi(sos)``.

    Equal to the last bit to ``sosfiltfilt(sos, arr[a:b], axis=0, padlen=...)`` on every
    stretch (the same odd extension, initial conditions and :func:`~scipy.signal.sosfilt`
    arithmetic), without scipy's per-call checks and with ``zi`` computed once (~0.1 ms per
    stretch, most of the time spent filtering a short trial). When at least 4 stretches
    have similar lengths (within 2x) they are filtered in one call, stacked as rows, each
    left-aligned: the filter is causal, so what follows a stretch in its row does not reach
    it, and the backward pass runs on each row reversed within its own length (on 100 000
    frames x 12 columns with ~1 200 stretches, 3.5x faster than scipy's ``sosfiltfilt`` per
    stretch: ``benchmarks/core_throughput.py``).
    """
    from scipy.signal import sosfilt

    a, b = run_bounds(good)
    keep = b - a >= 4
    a, b = a[keep], b[keep]
    if not a.size:
        return
    n = b - a
    pad = np.minimum(full_pad, n - 1)
    length = n + 2 * pad  # of each extended stretch
    bucket = np.frexp(length)[1]  # lengths in [2**(e-1), 2**e) are stacked together
    counts = np.bincount(bucket)
    stacked = counts[bucket] >= 4
    zi_one = zi[:, :, None]  # (sections, 2, 1 column)
    for s in np.flatnonzero(~stacked):
        # few stretches of this length: scipy's steps on slices
        x, p = arr[a[s]:b[s]], int(pad[s])
        ext = np.concatenate((2 * x[:1] - x[p:0:-1], x, 2 * x[-1:] - x[-2:-(p + 2):-1]))
        y, _ = sosfilt(sos, ext, axis=0, zi=zi_one * ext[:1])
        y, _ = sosfilt(sos, y[::-1], axis=0, zi=zi_one * y[-1:])
        arr[a[s]:b[s]] = y[::-1][p:p + int(n[s])]
    zi = zi[:, None, :, None]  # (sections, 1 stretch, 2, 1 column)
    for level in np.unique(bucket[stacked]):
        same = np.flatnonzero(bucket == level)
        # rows per call: the temporaries stay near _STACK_SAMPLES samples x columns each
        per_call = max(1, _STACK_SAMPLES // (2 ** int(level)))
        for s in np.array_split(same, -(-same.size // per_call)):
            _sosfiltfilt_stacked(arr, a[s, None], n[s, None], pad[s, None], length[s, None], sos, zi)


#: Samples per stacked filter call (bounds its temporaries, ~10 arrays of this x columns).
_STACK_SAMPLES = 1 << 16


def _sosfiltfilt_stacked(arr, a_s, n_s, pad_s, len_s, sos, zi) -> None:
    """The stretches ``[a_s, a_s + n_s)`` (column vectors) of ``arr`` filtered in one call,
    one row each (see :func:`_sosfiltfilt_stretches`); ``zi`` shaped (sections, 1, 2, 1)."""
    from scipy.signal import sosfilt

    # odd extension (scipy's odd_ext): 2 x[0] - x[pad..1], x, 2 x[-1] - x[-2..-pad-1];
    # past its length a row repeats its last value (never read back)
    idx = np.minimum(np.arange(int(len_s.max()))[None, :], len_s - 1) - pad_s
    left, right = idx < 0, idx >= n_s
    src = arr[a_s + np.where(left, -idx, np.where(right, 2 * (n_s - 1) - idx, idx))]
    ext = np.where(left[..., None], 2 * arr[a_s] - src,
                   np.where(right[..., None], 2 * arr[a_s + n_s - 1] - src, src))
    y, _ = sosfilt(sos, ext, axis=1, zi=zi * ext[:, :1])
    rev = np.maximum(len_s - 1 - np.arange(ext.shape[1])[None, :], 0)  # each row reversed
    y = np.take_along_axis(y, rev[..., None], axis=1)
    y, _ = sosfilt(sos, y, axis=1, zi=zi * y[:, :1])
    # back in order, without the padding: frame a + i is y[len - 1 - pad - i]
    i = np.arange(int(n_s.max()))[None, :]
    inside = i < n_s
    rows = np.broadcast_to(np.arange(a_s.shape[0])[:, None], inside.shape)[inside]
    arr[(a_s + i)[inside]] = y[rows, (len_s - 1 - pad_s - i)[inside]]


@functools.lru_cache(maxsize=32)
def _savgol_edge_maps(window: int, polyorder: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear maps from a stretch's first / last ``window`` samples to its first / last
    ``window // 2`` filtered values: what :func:`scipy.signal.savgol_filter`'s
    ``mode="interp"`` computes there (a degree-``polyorder`` polynomial fitted to the
    window, evaluated at the edge positions)."""
    h = window // 2
    fit = np.linalg.pinv(np.vander(np.arange(window, dtype=float), polyorder + 1))
    left = np.vander(np.arange(h, dtype=float), polyorder + 1) @ fit
    right = np.vander(np.arange(window - h, window, dtype=float), polyorder + 1) @ fit
    return left, right


def _savgol_stretches(arr: np.ndarray, good: np.ndarray, window: int, polyorder: int) -> None:
    """Savitzky-Golay (``mode="interp"``) of each run of ``good`` rows of ``arr`` (n, k), in place.

    Equal (to rounding) to :func:`scipy.signal.savgol_filter` on every stretch, computed in one
    pass: one convolution of the whole array gives the stretches' interiors (a window there
    holds only the stretch's samples), and the edge polynomial fits of all stretches are two
    matrix products. Stretches shorter than ``window`` use a shorter odd window (left alone
    below ``polyorder + 1`` samples).
    """
    from scipy.ndimage import convolve1d
    from scipy.signal import savgol_coeffs, savgol_filter

    a, b = run_bounds(good)
    if not a.size:
        return
    long = b - a >= window
    for s, e in zip(a[~long], b[~long], strict=True):
        n = e - s
        w = min(window, n if n % 2 else n - 1)
        if w > polyorder:
            arr[s:e] = savgol_filter(arr[s:e], w, polyorder, axis=0, mode="interp")
    if not long.any():
        return
    a, b = a[long], b[long]
    h = window // 2
    src = np.where(good[:, None], arr, 0.0)
    smooth = convolve1d(src, savgol_coeffs(window, polyorder), axis=0, mode="constant")
    np.copyto(arr, smooth, where=cover(arr.shape[0], a + h, b - h)[:, None])
    left, right = _savgol_edge_maps(window, polyorder)
    offs = np.arange(window)
    first = src[a[:, None] + offs]  # (n_stretches, window, k)
    last = src[(b - window)[:, None] + offs]
    arr[(a[:, None] + np.arange(h)).ravel()] = np.einsum("ew,swk->sek", left, first).reshape(-1, arr.shape[1])
    arr[(b[:, None] - h + np.arange(h)).ravel()] = np.einsum("ew,swk->sek", right, last).reshape(-1, arr.shape[1])
