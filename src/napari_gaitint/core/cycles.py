"""Gait cycles from a pose and its events (the spatiotemporal parameters: :mod:`.parameters`).

A gait cycle runs from a heel strike to the next heel strike of the same leg. Each valid
cycle is resampled to ``n_points`` (101) samples, 0-100 % of the cycle, so cycles of
different duration can be averaged and compared.

What the cycle curves contain (pose in gait coordinates: x forward, y up, pixels):

x, every body part except the reference
    ``x - x_reference`` per frame, as in the original project: the limb's horizontal
    position relative to the body (positive = in front of it). The walking progression
    cancels out.
x, the reference itself (``x - x_reference`` would be identically zero)
    Its progression with the cycle's mean speed removed:
    ``x_ref(t) - [x_ref(t0) + (t - t0) * (x_ref(t1) - x_ref(t0)) / (t1 - t0)]``, zero at
    both heel strikes; it shows the within-stride speed fluctuation of the body.
y (``y_reference="floor"``, the default)
    Height above the floor, ``y - floor``, where the floor of a cycle is the 5th
    percentile of the lower of heel and toe y over that cycle (the foot on the ground). It
    removes the camera's height and framing, which differ between the two views, while
    keeping foot clearance and joint heights. ``"raw"`` keeps gait-coordinate y (origin at
    the bottom of the image); ``"reference"`` gives ``y - y_reference``.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.interpolate import PPoly
from scipy.linalg.lapack import dgtsv

from ._frames import bare
from .config import CycleConfig, likelihood_cutoff
from .errors import AnalysisError
from .event_signals import (
    bridge_gaps,
    frame_to_position,
    mask_low_likelihood,
)
from .events import HEEL_STRIKE, TOE_OFF
from .pose import Pose

#: The default settings (the defaults of :func:`compute_cycles` and :func:`split_cycles`).
_SETTINGS = CycleConfig()

CYCLE_COLUMNS = ("side", "cycle", "bodypart", "axis", "pct", "value")


MEAN_COLUMNS = ("side", "bodypart", "axis", "pct", "value", "sd", "n_cycles")


Y_REFERENCES = ("floor", "raw", "reference")


def split_cycles(
    events: pd.DataFrame,
    *,
    side: str,
    pose: Pose | None = None,
    bodyparts: list[str] | tuple[str, ...] | None = None,
    fps: float | None = None,
    max_gap_s: float = _SETTINGS.max_gap_s,
    duration_tolerance: float = _SETTINGS.duration_tolerance,
    stride_frames: float | None = None,
) -> pd.DataFrame:
    """Cut the events of one leg into heel strike → next heel strike cycles, and judge them.

    Parameters
    ----------
    events
        Events table (``side, event, frame, ...``) as from
        :func:`~napari_gaitint.core.events.detect_events`.
    side
        The leg whose cycles are wanted.
    pose
        When given, cycles in which any of ``bodyparts`` (default: all) has a run of missing
        frames longer than ``max_gap_s`` (needs ``fps``, default ``pose.fps``) are invalid.
    duration_tolerance
        A cycle is invalid when its duration differs from the typical stride by more than
        this fraction (a missed or spurious heel strike). The typical stride is
        ``stride_frames``, else ``events.attrs["stride_frames"]`` (the detector's
        autocorrelation estimate), else the median cycle duration.

    Returns
    -------
    pandas.DataFrame
        One row per candidate cycle: ``side, cycle`` (1, 2, ...), ``start_frame, end_frame,
        toe_off_frame`` (NaN unless exactly one toe off lies inside), ``n_toe_offs,
        duration_frames, valid, reason`` (why a cycle is invalid, "" when valid).
    """
    table = _split(events, side=side, pose=pose, bodyparts=bodyparts, fps=fps, max_gap_s=max_gap_s,
                   duration_tolerance=duration_tolerance, stride_frames=stride_frames)
    if not table["cycle"].size:
        return pd.DataFrame(columns=list(_SPLIT_COLUMNS))
    return pd.DataFrame({"side": side, **table}, columns=list(_SPLIT_COLUMNS))


#: The columns of :func:`split_cycles`.
_SPLIT_COLUMNS = ("side", "cycle", "start_frame", "end_frame", "toe_off_frame", "n_toe_offs",
                  "duration_frames", "valid", "reason")


def _split(events: pd.DataFrame, *, side: str, pose: Pose | None = None, bodyparts=None,
           fps: float | None = None, max_gap_s: float = _SETTINGS.max_gap_s,
           duration_tolerance: float = _SETTINGS.duration_tolerance,
           stride_frames: float | None = None) -> dict[str, np.ndarray]:
    """:func:`split_cycles` as numpy arrays, one per column after ``side`` (length 0 for
    fewer than two heel strikes): the steps after it take the arrays, not a table (this runs
    three times for every leg of every trial)."""
    hs, to = _event_frames(events, side, (HEEL_STRIKE, TOE_OFF))
    if hs.size < 2:
        return {k: np.array([]) for k in _SPLIT_COLUMNS[1:]}
    starts, ends = hs[:-1], hs[1:]
    durations = ends - starts
    typical = stride_frames or events.attrs.get("stride_frames") or float(np.median(durations))
    to = np.asarray(to, dtype=float)
    fps = fps or (pose.fps if pose is not None else None)
    # toe offs strictly inside each cycle
    first = np.searchsorted(to, starts, side="right")
    last = np.searchsorted(to, ends, side="left")
    n_to = last - first
    to_frame = np.where(n_to == 1, to[np.minimum(first, max(to.size - 1, 0))] if to.size else np.nan, np.nan)
    # two heel strikes on one frame (a duplicated hand-edited event) make a zero-length
    # cycle and may make the typical stride 0: such a cycle is never valid, nor one shorter
    # than a frame (nothing can be measured in it)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (a typical of ~0)
        bad_duration = ~(np.abs(durations / typical - 1.0) <= duration_tolerance) | ~(durations >= 1.0)
    gap_bp, gap_len = None, None
    if pose is not None:
        gap_bp, gap_len = _longest_gaps(pose, starts, ends, bodyparts)
        limit = max_gap_s * fps if fps else np.inf
    long_gap = gap_len > limit if gap_len is not None else np.zeros(starts.size, bool)
    reasons = np.full(starts.size, "", dtype=object)
    for k in np.flatnonzero(bad_duration | (n_to > 1) | long_gap):  # the invalid ones
        r = []
        if bad_duration[k]:
            r.append(f"duration {durations[k]:.1f} frames vs typical {typical:.1f}")
        if n_to[k] > 1:
            r.append(f"{n_to[k]} toe offs")
        if long_gap[k]:
            r.append(f"{gap_bp[k]}: {gap_len[k]} missing frames in a row")
        reasons[k] = "; ".join(r)
    return {"cycle": np.arange(1, starts.size + 1), "start_frame": starts, "end_frame": ends,
            "toe_off_frame": to_frame, "n_toe_offs": n_to, "duration_frames": durations,
            "valid": reasons == "", "reason": reasons}


def _event_frames(events: pd.DataFrame, side: str, kinds) -> list[np.ndarray]:
    """The sorted frames of ``side``'s events of each of ``kinds``.

    numpy, not pandas selections (this runs several times for every leg of every trial), on
    the columns of a view without attrs (each column taken copies them), compared as objects
    (an empty or numeric column compares element by element on numpy 1 too).
    """
    columns = bare(events)
    mine = np.asarray(columns["side"].to_numpy(object) == side, dtype=bool)
    kind = columns["event"].to_numpy(object)
    frames = columns["frame"].to_numpy(float)
    return [np.sort(frames[mine & (kind == k)]) for k in kinds]


def _longest_gaps(pose: Pose, start_frames: np.ndarray, end_frames: np.ndarray, bodyparts):
    """Per cycle, the body part with the longest run of missing frames and that run's length.

    The cycle ``k`` covers rows ``floor(p0) .. ceil(p1)`` of its start/end positions. Runs
    are clipped to the cycle. Vectorised over cycles (no loop over frames).
    """
    p0, p1 = frame_to_position(pose, start_frames), frame_to_position(pose, end_frames)
    lo = np.floor(p0).astype(int)
    hi = np.ceil(p1).astype(int) + 1
    best = np.zeros(lo.size, dtype=int)
    which = np.full(lo.size, "", dtype=object)
    for bp in bodyparts or pose.bodyparts:
        missing = ~pose.has_xy(bp)
        run = _longest_run_in_windows(missing, lo, hi)
        better = run > best
        best[better] = run[better]
        which[better] = bp
    return which, best


def _longest_run_in_windows(mask: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Longest run of True in ``mask[lo[k]:hi[k]]`` for every window ``k`` (vectorised)."""
    out = np.zeros(lo.size, dtype=int)
    runs = _true_runs(mask)
    if runs.shape[0] == 0 or lo.size == 0:
        return out
    starts, stops = runs[:, 0], runs[:, 1]
    lengths = stops - starts
    r0 = np.searchsorted(stops, lo, side="right")  # first run ending after lo
    r1 = np.searchsorted(starts, hi, side="left")  # runs starting before hi: < r1
    has = r1 > r0
    if not has.any():
        return out
    a, b = r0[has], r1[has] - 1
    lo_h, hi_h = lo[has], hi[has]
    first = np.minimum(stops[a], hi_h) - np.maximum(starts[a], lo_h)
    last = np.minimum(stops[b], hi_h) - np.maximum(starts[b], lo_h)
    best = np.maximum(first, last)
    inner = b - a >= 2  # runs a+1 .. b-1 lie fully inside the window
    if inner.any():
        padded = np.append(lengths, 0)
        idx = np.ravel(np.column_stack([a[inner] + 1, b[inner]]))
        inner_max = np.maximum.reduceat(padded, idx)[::2]
        best[inner] = np.maximum(best[inner], inner_max)
    out[has] = best
    return out


def _true_runs(mask: np.ndarray) -> np.ndarray:
    """``(n_runs, 2)`` half-open ``[start, stop)`` ranges where ``mask`` is True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.column_stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)])


def compute_cycles(
    pose: Pose,
    events: pd.DataFrame,
    *,
    side: str,
    reference: str = _SETTINGS.reference,
    n_points: int = _SETTINGS.n_points,
    bodyparts: list[str] | tuple[str, ...] | None = None,
    y_reference: str = _SETTINGS.y_reference,
    fps: float | None = None,
    max_gap_s: float = _SETTINGS.max_gap_s,
    duration_tolerance: float = _SETTINGS.duration_tolerance,
    min_likelihood: float | None = None,
    max_reference_gap_s: float = _SETTINGS.max_reference_gap_s,
    px_per_m: float | None = None,
) -> pd.DataFrame:
    """Every valid gait cycle of one leg, resampled to ``n_points`` samples (0-100 %).

    Parameters
    ----------
    pose
        Keypoints in gait coordinates.
    events
        Its events (from :func:`~napari_gaitint.core.events.detect_events`).
    side
        The leg (``"left"``/``"right"``).
    reference
        Body part that x is expressed relative to (see the module docstring for what is
        done with the reference itself). When it has no data at all, the other body
        reference (hip for neck and vice versa) stands in and ``attrs["reference"]`` and
        ``attrs["notes"]`` say so.
    n_points
        Samples per cycle (101: every whole percent).
    bodyparts
        Body parts to include (default: all of the pose). Body parts without any data
        (after the likelihood cut-off) are left out and listed in
        ``attrs["missing_bodyparts"]``; they do not invalidate the cycles.
    y_reference
        ``"floor"`` (height above the floor, default), ``"raw"`` or ``"reference"``.
    fps, max_gap_s, duration_tolerance
        Passed to :func:`split_cycles` to reject cycles with odd durations or a run of
        missing reference frames longer than ``max_gap_s``. A body part with such a gap in
        a cycle is NaN in that cycle only (``attrs["gaps"]`` lists them): an arm hiding
        the hip marker does not throw away the leg's curves.
    max_reference_gap_s
        Gaps of the reference up to this long (s) are bridged linearly first (the body
        moves smoothly; e.g. the arm hiding the hip marker), in x and y.
    min_likelihood
        Points with a lower DLC likelihood are missing, as in
        :func:`~napari_gaitint.core.events.detect_events` (None: 0.6, the cut-off of raw
        predictions, whatever the pose's ``meta`` says; pass
        ``likelihood_cutoff(cleaned=True)``, 0, for a pose cleaned by
        :func:`~napari_gaitint.core.clean.clean_pose`).
    px_per_m
        The view's scale (pixels per metre on the walkway): when given, the values are in
        metres instead of pixels.

    Returns
    -------
    pandas.DataFrame
        Long table ``side, cycle, bodypart, axis, pct, value`` (value in px, or m with
        ``px_per_m``; NaN for a body part blanked in a cycle); ``attrs["skipped"]`` lists the
        rejected cycles and why, ``attrs["gaps"]`` the blanked body parts per cycle,
        ``attrs["reference"]`` the reference used (x is relative to it),
        ``attrs["y_reference"]``, ``attrs["unit"]`` (``"px"`` or ``"m"``) and
        ``attrs["missing_bodyparts"]`` those without any data.

    Raises
    ------
    AnalysisError
        ``no full gait cycle`` when there are fewer than two heel strikes or every cycle
        was rejected.
    """
    if y_reference not in Y_REFERENCES:
        raise ValueError(f"y_reference must be one of {Y_REFERENCES}, got {y_reference!r}")
    if px_per_m is not None and not (np.isfinite(px_per_m) and px_per_m > 0):
        raise AnalysisError(f"px_per_m must be a positive number of pixels per metre, not {px_per_m}")
    bodyparts = tuple(bodyparts or pose.bodyparts)
    pose.bodypart_index(reference)
    for bp in bodyparts:
        pose.bodypart_index(bp)
    pose = _masked(pose, min_likelihood)
    reference, missing, notes = _usable(pose, reference, bodyparts)
    fps = fps or pose.fps
    pose = _bridge_reference(pose, reference, max_reference_gap_s * fps if fps else 0)
    bodyparts = tuple(bp for bp in bodyparts if bp not in missing)
    if not bodyparts:
        where = f"{pose.source}: " if pose.source is not None else ""
        raise AnalysisError(f"{where}no gait cycle: none of the body parts has data")
    # A cycle is rejected for its events or a long gap of the reference (every x depends on
    # it); a long gap of another body part only blanks that body part in that cycle.
    table = _split(
        events, side=side, pose=pose, bodyparts=[reference], fps=fps, max_gap_s=max_gap_s,
        duration_tolerance=duration_tolerance,
    )
    valid = _valid_or_raise(table, pose, side)
    n = pose.n_frames
    pct = np.linspace(0.0, 100.0, n_points)
    p0 = frame_to_position(pose, valid["start_frame"])
    p1 = frame_to_position(pose, valid["end_frame"])
    limit = max_gap_s * fps if fps else np.inf
    gap_lo, gap_hi = np.floor(p0).astype(int), np.ceil(p1).astype(int) + 1
    blank = {}
    for bp in bodyparts:
        missing_bp = ~pose.has_xy(bp)
        run = _longest_run_in_windows(missing_bp, gap_lo, gap_hi)
        if (run > limit).any():
            blank[bp] = (run > limit, run)
    at = p0[:, None] + (p1 - p0)[:, None] * pct[None, :] / 100.0  # (n_cycles, n_points)
    x_ref = pose.bodypart(reference)[:, 0]
    floor = 0.0
    foot = [b for b in ("heel", "toe") if b in pose.bodyparts and b not in missing]
    if y_reference == "floor" and foot:
        lowest = pose.bodypart(foot[0])[:, 1]
        for b in foot[1:]:
            lowest = np.fmin(lowest, pose.bodypart(b)[:, 1])  # NaN only if all are
        lo = np.maximum(0, np.floor(p0).astype(int) - 2)
        hi = np.minimum(n, np.ceil(p1).astype(int) + 3)
        width = int((hi - lo).max())
        idx = lo[:, None] + np.arange(width)[None, :]
        win = np.where(idx < hi[:, None], lowest[np.minimum(idx, n - 1)], np.nan)
        floor = _row_percentile(win, 5.0)[:, None]
    # the signals, one column each: x then y of every body part
    series = []
    for bp in bodyparts:
        xy = pose.bodypart(bp)[:, :2]
        series.append(xy[:, 0] if bp == reference else xy[:, 0] - x_ref)
        if y_reference == "reference":
            series.append(xy[:, 1] - pose.bodypart(reference)[:, 1])
        else:
            series.append(xy[:, 1])
    values = _resample_many(np.column_stack(series), at)  # (n_series, n_cycles, n_points)
    values = values.reshape(len(bodyparts), 2, *at.shape)
    if reference in bodyparts:
        r = bodyparts.index(reference)
        xr = values[r, 0]
        values[r, 0] = xr - (xr[:, :1] + (xr[:, -1:] - xr[:, :1]) * pct[None, :] / 100.0)
    if y_reference == "floor":
        values[:, 1] -= floor
    if px_per_m is not None:
        values /= px_per_m
    cycle_numbers = valid["cycle"]
    gap_notes = []
    for bp, (bad, run) in blank.items():
        values[bodyparts.index(bp)][:, bad] = np.nan
        gap_notes += [f"cycle {c}: {bp} left out ({r} missing frames in a row)"
                      for c, r in zip(cycle_numbers[bad], run[bad], strict=True)]
    n_cyc, n_bp = at.shape[0], len(bodyparts)
    # Label columns are categorical (codes into a few names: no millions of strings), the
    # categories in the pose's body-part order.
    n_rows = n_cyc * n_bp * 2 * n_points
    code = np.int8 if n_bp < 128 else np.int16  # the categoricals' own code type: no cast
    bp_codes = np.tile(np.repeat(np.arange(n_bp, dtype=code), 2 * n_points), n_cyc)
    axis_codes = np.tile(np.repeat(np.array([0, 1], dtype=np.int8), n_points), n_cyc * n_bp)
    out = pd.DataFrame({
        "side": _categorical(np.zeros(n_rows, dtype=np.int8), [side]),
        "cycle": np.repeat(cycle_numbers, n_bp * 2 * n_points),
        "bodypart": _categorical(bp_codes, bodyparts),
        "axis": _categorical(axis_codes, ["x", "y"]),
        "pct": np.tile(pct, n_cyc * n_bp * 2),
        # (bodypart, axis, cycle, pct) -> (cycle, bodypart, axis, pct)
        "value": values.transpose(2, 0, 1, 3).ravel(),
    }, columns=list(CYCLE_COLUMNS), copy=False)
    bad = ~table["valid"]
    out.attrs["skipped"] = [
        f"cycle {int(c)} ({s:.1f}-{e:.1f}): {r}"
        for c, s, e, r in zip(*(table[k][bad] for k in ("cycle", "start_frame", "end_frame", "reason")),
                              strict=True)
    ]
    out.attrs["gaps"] = gap_notes
    out.attrs["reference"] = reference
    out.attrs["y_reference"] = y_reference
    out.attrs["unit"] = "px" if px_per_m is None else "m"
    out.attrs["missing_bodyparts"] = list(missing)
    if notes:
        out.attrs["notes"] = notes
    return out


def _categorical(codes: np.ndarray, names) -> pd.Categorical:
    """``names[codes]`` as a categorical whose categories keep the order of ``names``."""
    return pd.Categorical.from_codes(codes, dtype=_categories(tuple(str(n) for n in names)))


@functools.lru_cache(maxsize=256)
def _categories(names: tuple[str, ...]) -> pd.CategoricalDtype:
    """The categorical type of ``names`` (made once: most of the time of a small categorical)."""
    return pd.CategoricalDtype(list(names))


def _row_percentile(a: np.ndarray, q: float) -> np.ndarray:
    """``np.nanpercentile(a, q, axis=1)`` (linear), vectorised; NaN for all-NaN rows."""
    srt = np.sort(a, axis=1)  # NaN last
    n = np.isfinite(srt).sum(axis=1)
    pos = (np.maximum(n, 1) - 1) * q / 100.0
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, np.maximum(n - 1, 0))
    rows = np.arange(a.shape[0])
    v = srt[rows, i0] + (pos - i0) * (srt[rows, i1] - srt[rows, i0])
    return np.where(n > 0, v, np.nan)


def _bridge_reference(pose: Pose, reference: str, max_gap_frames: float) -> Pose:
    """A copy with the reference's interior x/y gaps up to ``max_gap_frames`` bridged linearly."""
    gap = int(np.floor(max_gap_frames))
    xy = pose.bodypart(reference)[:, :2]
    if gap <= 0 or np.isfinite(xy).all():
        return pose
    out = pose.replace()
    j = out.bodypart_index(reference)
    for axis in (0, 1):
        out.values[:, j, axis], _ = bridge_gaps(out.values[:, j, axis], max_gap_frames=gap)
    return out


def _masked(pose: Pose, min_likelihood: float | None) -> Pose:
    """Points below the likelihood cut-off missing (as the event detector sees them; None:
    the cut-off of raw predictions, :data:`~napari_gaitint.core.config.LIKELIHOOD_THRESHOLD`)."""
    return mask_low_likelihood(pose, likelihood_cutoff(min_likelihood, cleaned=False))


def _usable(pose: Pose, reference: str, bodyparts) -> tuple[str, list[str], list[str]]:
    """The reference to use, the body parts without any data, and notes saying what changed."""
    def n_valid(bp):
        return int(np.count_nonzero(pose.has_xy(bp))) if bp in pose.bodyparts else 0

    notes = []
    missing = [bp for bp in bodyparts if n_valid(bp) < 4]
    if n_valid(reference) < 4:
        other = {"neck": "hip", "hip": "neck"}.get(reference)
        if other is None or n_valid(other) < 4:
            where = f"{pose.source}: " if pose.source is not None else ""
            raise AnalysisError(
                f"{where}no gait cycle: the body reference {reference!r} has no data"
                + (f" and neither has {other!r}" if other else "")
                + "; choose another reference"
            )
        notes.append(f"{reference} has no data: x is relative to {other} instead")
        reference = other
    if missing:
        notes.append(f"left out (no data): {', '.join(missing)}")
    return reference, missing, notes


def _resample_many(series: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Cubic splines through the finite samples of each column, evaluated at rows ``at``.

    ``series`` is ``(n_frames, n_series)``; returns ``(n_series, *at.shape)``. Columns with
    the same missing frames share one spline fit. Fewer than 4 finite samples give NaN.
    """
    rows = np.arange(series.shape[0], dtype=float)
    flat = at.ravel()
    out = np.full((series.shape[1], flat.size), np.nan)
    finite = np.isfinite(series)
    groups: dict[bytes, list[int]] = {}
    for j in range(series.shape[1]):
        groups.setdefault(np.packbits(finite[:, j]).tobytes(), []).append(j)
    for cols in groups.values():
        ok = finite[:, cols[0]]
        if ok.sum() < 4:
            continue
        spline = _cubic_spline(rows[ok], series[ok][:, cols])
        out[cols] = spline(flat).T
    return out.reshape(series.shape[1], *at.shape)


def _cubic_spline(x: np.ndarray, y: np.ndarray) -> PPoly:
    """``scipy.interpolate.CubicSpline(x, y, axis=0)`` (not-a-knot) for checked input.

    ``x`` strictly increasing floats (at least 4), ``y`` a finite ``(len(x), k)`` float
    array. The same arithmetic in the same order as scipy's (the tridiagonal system solved
    by LAPACK's ``gtsv`` as ``solve_banded`` does it, the Hermite coefficients as
    ``CubicHermiteSpline``), so the curves are bitwise scipy's, without its input checks
    and conversions (most of its time on a few hundred frames; it runs a thousand times
    per cohort).
    """
    n = x.shape[0]
    dx = np.diff(x)
    dxr = dx[:, None]
    slope = np.diff(y, axis=0) / dxr
    band = np.zeros((3, n))  # upper, main and lower diagonal (solve_banded's layout)
    b = np.empty(y.shape)
    band[1, 1:-1] = 2 * (dx[:-1] + dx[1:])
    band[0, 2:] = dx[:-1]
    band[-1, :-2] = dx[1:]
    b[1:-1] = 3 * (dxr[1:] * slope[:-1] + dxr[:-1] * slope[1:])
    # not-a-knot at both ends
    d = x[2] - x[0]
    band[1, 0] = dx[1]
    band[0, 1] = d
    b[0] = ((dxr[0] + 2 * d) * dxr[1] * slope[0] + dxr[0] ** 2 * slope[1]) / d
    d = x[-1] - x[-3]
    band[1, -1] = dx[-2]
    band[-1, -2] = d
    b[-1] = (dxr[-1] ** 2 * slope[-2] + (2 * d + dxr[-1]) * dxr[-2] * slope[-1]) / d
    *_, s, info = dgtsv(band[2, :-1], band[1, :], band[0, 1:], b, True, True, True, True)
    if info > 0:
        raise np.linalg.LinAlgError("singular matrix")
    t = (s[:-1] + s[1:] - 2 * slope) / dxr
    c = np.empty((4, n - 1, y.shape[1]))
    c[0] = t / dxr
    c[1] = (slope - s[:-1]) / dxr - t
    c[2] = s[:-1]
    c[3] = y[:-1]
    return PPoly.construct_fast(c, x)


def _valid_or_raise(table: dict[str, np.ndarray], pose: Pose, side: str) -> dict[str, np.ndarray]:
    """The valid cycles of a :func:`_split` table (its arrays where ``valid``), or the error
    that says why there is none."""
    where = f"{pose.source}: " if pose.source is not None else ""
    if not table["cycle"].size:
        raise AnalysisError(
            f"{where}no full gait cycle on the {side} side: fewer than two heel strikes"
        )
    ok = table["valid"]
    if not ok.any():
        why = "; ".join(f"cycle {c}: {r}" for c, r in zip(table["cycle"], table["reason"], strict=True))
        raise AnalysisError(f"{where}no full gait cycle on the {side} side ({why})")
    return {k: v[ok] for k, v in table.items()}


def mean_cycles(cycles: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over cycles at each percent of the cycle.

    Parameters
    ----------
    cycles
        Long table from :func:`compute_cycles` (extra identifying columns such as
        ``trial, view`` are kept as groups).

    Returns
    -------
    pandas.DataFrame
        ``[extra columns,] side, bodypart, axis, pct, value, sd, n_cycles`` (``sd`` with
        ddof 1, NaN for a single cycle; NaN values are left out and ``n_cycles`` counts the
        others). Rows in the order the groups first appear.

    Notes
    -----
    A table in the layout of :func:`compute_cycles` (one block of rows per cycle, every
    block with the same labels in the same order) is averaged with numpy, one block at a
    time; the result is bitwise that of the pandas groupby that any other table goes
    through.
    """
    keys = [c for c in cycles.columns if c not in ("cycle", "value")]
    columns = bare(cycles)  # (without attrs: copied into each column taken)
    blocks = _cycle_blocks(columns, keys)
    if blocks is not None:
        mean, sd, count = _column_mean_sd(blocks)
        m = blocks.shape[1]
        return pd.DataFrame({**{k: columns[k].array[:m].copy() for k in keys},
                             "value": mean, "sd": sd, "n_cycles": count})
    g = cycles.groupby(keys, sort=False, observed=True)["value"]
    out = g.agg(value="mean", sd="std", n_cycles="count").reset_index()
    out["n_cycles"] = out["n_cycles"].astype(int)
    return out


def _cycle_blocks(cycles: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """``value`` as an ``(n_cycles, rows_per_cycle)`` view when the table is a repeat of one
    block of rows with distinct ``keys`` (the layout of :func:`compute_cycles`), else None.

    Then the groups of ``keys`` are the rows of the first block, in its order, and column
    ``j`` of the view holds group ``j``'s values in row order. The block length is the first
    run of ``cycle``; the check compares every row's keys with the first block's and sorts
    the first block's to find a repeat (a few passes over integer codes). A missing key (a
    groupby leaves such rows out), a key that is neither numeric nor categorical, or an
    infinite value (see :func:`_column_mean_sd`) gives None too.
    """
    n = len(cycles)
    if not n or not keys or "cycle" not in cycles.columns or cycles["value"].dtype != np.float64:
        return None
    cycle = cycles["cycle"].to_numpy()
    starts = np.flatnonzero(cycle != cycle[0])
    m = int(starts[0]) if starts.size else n
    if m == 0 or n % m:
        return None
    first = []  # the first block's keys (codes for categoricals)
    for k in keys:
        col = cycles[k]
        if isinstance(col.dtype, pd.CategoricalDtype):
            a = col.array.codes
            missing = a[:m] < 0
        elif isinstance(col.dtype, np.dtype) and col.dtype.kind in "iuf":
            a = col.to_numpy()
            missing = np.isnan(a[:m]) if col.dtype.kind == "f" else np.zeros(m, bool)
        else:
            return None
        if missing.any() or not (a.reshape(-1, m) == a[:m]).all():
            return None
        first.append(a[:m])
    # two rows of the block with the same keys: sorted, they are neighbours
    order = np.lexsort(first[::-1])
    same = np.ones(m - 1, dtype=bool)
    for a in first:
        a = a[order]
        same &= a[1:] == a[:-1]
    if same.any():
        return None
    values = cycles["value"].to_numpy().reshape(-1, m)
    return None if np.isinf(values).any() else values


def _column_mean_sd(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, SD (ddof 1) and number of the non-NaN values of every column of ``values``.

    Bitwise what pandas' groupby ``mean``, ``std`` and ``count`` give for groups holding
    the columns: its kernels add a group's values in row order, the mean with a
    Kahan-compensated sum and the SD with Welford's update (numpy's pairwise sums differ in
    the last bits), so the same recurrences run here, a row at a time over all columns.
    Infinite values are not supported (pandas resets a compensation that became NaN).
    """
    n_cols = values.shape[1]
    total, carry = np.zeros(n_cols), np.zeros(n_cols)  # Kahan sum and its compensation
    mean, m2 = np.zeros(n_cols), np.zeros(n_cols)  # Welford
    count = np.zeros(n_cols, dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):  # in the NaN entries, not kept
        for row in values:
            ok = ~np.isnan(row)
            count += ok
            y = row - carry
            t = total + y
            np.copyto(carry, (t - total) - y, where=ok)
            np.copyto(total, t, where=ok)
            step = mean + (row - mean) / count
            np.copyto(m2, m2 + (row - step) * (row - mean), where=ok)
            np.copyto(mean, step, where=ok)
        average = np.where(count > 0, total / count, np.nan)
        sd = np.where(count > 1, np.sqrt(m2 / (count - 1)), np.nan)
    return average, sd, count
