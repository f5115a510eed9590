"""Gait cycles and spatiotemporal parameters from a pose and its events.

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

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from .errors import AnalysisError
from .events import HEEL_STRIKE, TOE_OFF, frame_to_position
from .io import Pose

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
    max_gap_s: float = 0.2,
    duration_tolerance: float = 0.35,
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
    ev = events[events["side"] == side]
    hs = np.sort(ev.loc[ev["event"] == HEEL_STRIKE, "frame"].to_numpy(float))
    to = np.sort(ev.loc[ev["event"] == TOE_OFF, "frame"].to_numpy(float))
    columns = ["side", "cycle", "start_frame", "end_frame", "toe_off_frame", "n_toe_offs",
               "duration_frames", "valid", "reason"]
    if hs.size < 2:
        return pd.DataFrame(columns=columns)
    starts, ends = hs[:-1], hs[1:]
    durations = ends - starts
    typical = stride_frames or events.attrs.get("stride_frames") or float(np.median(durations))
    fps = fps or (pose.fps if pose is not None else None)
    rows = []
    for k, (a, b, d) in enumerate(zip(starts, ends, durations, strict=True), start=1):
        inside = to[(to > a) & (to < b)]
        reasons = []
        if abs(d / typical - 1.0) > duration_tolerance:
            reasons.append(f"duration {d:.1f} frames vs typical {typical:.1f}")
        if inside.size > 1:
            reasons.append(f"{inside.size} toe offs")
        if pose is not None:
            gap = _longest_gap(pose, a, b, bodyparts)
            limit = max_gap_s * fps if fps else np.inf
            if gap is not None and gap[1] > limit:
                reasons.append(f"{gap[0]}: {gap[1]} missing frames in a row")
        rows.append((side, k, a, b, inside[0] if inside.size == 1 else np.nan, inside.size, d,
                     not reasons, "; ".join(reasons)))
    return pd.DataFrame(rows, columns=columns)


def _longest_gap(pose: Pose, start_frame: float, end_frame: float, bodyparts) -> tuple[str, int] | None:
    p0, p1 = frame_to_position(pose, [start_frame, end_frame])
    lo, hi = int(np.floor(p0)), int(np.ceil(p1)) + 1
    worst = None
    for bp in bodyparts or pose.bodyparts:
        missing = ~np.isfinite(pose.bodypart(bp)[lo:hi, :2]).all(axis=1)
        run = _longest_true_run(missing)
        if run and (worst is None or run > worst[1]):
            worst = (bp, run)
    return worst


def _longest_true_run(mask: np.ndarray) -> int:
    best = cur = 0
    for m in mask:
        cur = cur + 1 if m else 0
        best = max(best, cur)
    return best


def compute_cycles(
    pose: Pose,
    events: pd.DataFrame,
    *,
    side: str,
    reference: str = "neck",
    n_points: int = 101,
    bodyparts: list[str] | tuple[str, ...] | None = None,
    y_reference: str = "floor",
    fps: float | None = None,
    max_gap_s: float = 0.2,
    duration_tolerance: float = 0.35,
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
        done with the reference itself).
    n_points
        Samples per cycle (101: every whole percent).
    bodyparts
        Body parts to include (default: all of the pose).
    y_reference
        ``"floor"`` (height above the floor, default), ``"raw"`` or ``"reference"``.
    fps, max_gap_s, duration_tolerance
        Passed to :func:`split_cycles` to reject cycles with long gaps or odd durations.

    Returns
    -------
    pandas.DataFrame
        Long table ``side, cycle, bodypart, axis, pct, value`` (value in px); ``attrs``
        ``"skipped"`` lists the rejected cycles and why.

    Raises
    ------
    AnalysisError
        ``no full gait cycle`` when there are fewer than two heel strikes or every cycle
        was rejected.
    """
    if y_reference not in Y_REFERENCES:
        raise ValueError(f"y_reference must be one of {Y_REFERENCES}, got {y_reference!r}")
    bodyparts = tuple(bodyparts or pose.bodyparts)
    pose.bodypart_index(reference)
    for bp in bodyparts:
        pose.bodypart_index(bp)
    table = split_cycles(
        events, side=side, pose=pose, bodyparts=bodyparts, fps=fps, max_gap_s=max_gap_s,
        duration_tolerance=duration_tolerance,
    )
    valid = _valid_or_raise(table, pose, side)
    n = pose.n_frames
    x_ref = pose.bodypart(reference)[:, 0]
    foot = [b for b in ("heel", "toe") if b in pose.bodyparts]
    pct = np.linspace(0.0, 100.0, n_points)
    blocks = []
    for _, cyc in valid.iterrows():
        p0, p1 = frame_to_position(pose, [cyc["start_frame"], cyc["end_frame"]])
        at = p0 + (p1 - p0) * pct / 100.0
        lo, hi = max(0, int(np.floor(p0)) - 2), min(n, int(np.ceil(p1)) + 3)
        rows = np.arange(lo, hi)
        floor = 0.0
        if y_reference == "floor" and foot:
            lowest = pose.bodypart(foot[0])[lo:hi, 1]
            for b in foot[1:]:
                lowest = np.fmin(lowest, pose.bodypart(b)[lo:hi, 1])  # NaN only if all are
            floor = float(np.nanpercentile(lowest, 5)) if np.isfinite(lowest).any() else np.nan
        for bp in bodyparts:
            xy = pose.bodypart(bp)[lo:hi, :2]
            if bp == reference:
                x = _resample(rows, xy[:, 0], at)
                x = x - np.linspace(x[0], x[-1], n_points)
            else:
                x = _resample(rows, xy[:, 0] - x_ref[lo:hi], at)
            if y_reference == "floor":
                y = _resample(rows, xy[:, 1], at) - floor
            elif y_reference == "reference":
                y = _resample(rows, xy[:, 1] - pose.bodypart(reference)[lo:hi, 1], at)
            else:
                y = _resample(rows, xy[:, 1], at)
            for axis, values in (("x", x), ("y", y)):
                blocks.append(pd.DataFrame({
                    "side": side, "cycle": int(cyc["cycle"]), "bodypart": bp, "axis": axis,
                    "pct": pct, "value": values,
                }))
    out = pd.concat(blocks, ignore_index=True)
    out.attrs["skipped"] = [
        f"cycle {int(r.cycle)} ({r.start_frame:.1f}-{r.end_frame:.1f}): {r.reason}"
        for r in table.itertuples() if not r.valid
    ]
    return out


def _valid_or_raise(table: pd.DataFrame, pose: Pose, side: str) -> pd.DataFrame:
    where = f"{pose.source}: " if pose.source is not None else ""
    if table.empty:
        raise AnalysisError(
            f"{where}no full gait cycle on the {side} side: fewer than two heel strikes"
        )
    valid = table[table["valid"]]
    if valid.empty:
        why = "; ".join(f"cycle {r.cycle}: {r.reason}" for r in table.itertuples())
        raise AnalysisError(f"{where}no full gait cycle on the {side} side ({why})")
    return valid


def _resample(rows: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Cubic spline through the finite samples, evaluated at fractional rows ``at``."""
    ok = np.isfinite(values)
    if ok.sum() < 4:
        return np.full(at.shape, np.nan)
    return CubicSpline(rows[ok], values[ok])(at)


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
        ddof 1, NaN for a single cycle).
    """
    keys = [c for c in cycles.columns if c not in ("cycle", "value")]
    g = cycles.groupby(keys, sort=False)["value"]
    out = g.agg(value="mean", sd="std", n_cycles="count").reset_index()
    out["n_cycles"] = out["n_cycles"].astype(int)
    return out


def compute_parameters(
    pose: Pose,
    events: pd.DataFrame,
    *,
    side: str,
    fps: float | None = None,
    px_per_m: float | None = None,
    reference: str = "hip",
    max_gap_s: float = 0.2,
    duration_tolerance: float = 0.35,
) -> pd.DataFrame:
    """Spatiotemporal parameters of one leg, averaged over its valid cycles.

    Definitions (lengths in gait-coordinate pixels; one leg is visible per view):

    * ``stride_time_s``: heel strike to heel strike of the same leg (mean, and ``_sd``);
    * ``cadence_steps_per_min``: ``120 / stride_time_s`` (two steps per stride);
    * ``stance_pct`` / ``swing_pct``: heel strike to toe off as % of the cycle (cycles with
      exactly one toe off), and the rest;
    * ``stride_length_px``: heel x at the next heel strike minus heel x at this one (the
      heel is on the ground then);
    * ``step_length_px``: half the stride length — the other foot is not visible in this
      view, so steps are assumed symmetric;
    * ``speed_px_per_s``: progression of ``reference`` over the cycle / its duration;
    * with ``px_per_m``: the same lengths and speed in metres (``*_m``, ``speed_m_per_s``).

    Returns
    -------
    pandas.DataFrame
        One row: ``side, n_cycles, n_skipped`` and the parameters above.

    Raises
    ------
    AnalysisError
        When there is no full gait cycle.
    """
    fps = fps or pose.fps
    if not fps:
        raise AnalysisError("frame rate unknown; give fps")
    table = split_cycles(
        events, side=side, pose=pose, fps=fps, max_gap_s=max_gap_s,
        duration_tolerance=duration_tolerance,
        bodyparts=[b for b in ("heel", reference) if b in pose.bodyparts],
    )
    valid = _valid_or_raise(table, pose, side)
    foot = "heel" if "heel" in pose.bodyparts else "ankle"
    pos = np.arange(pose.n_frames)

    def at(bp: str, frames: np.ndarray) -> np.ndarray:
        x = pose.bodypart(bp)[:, 0]
        ok = np.isfinite(x)
        return np.interp(frame_to_position(pose, frames), pos[ok], x[ok]) if ok.sum() >= 2 else np.full(len(frames), np.nan)

    a, b = valid["start_frame"].to_numpy(float), valid["end_frame"].to_numpy(float)
    duration_s = (b - a) / fps
    stride_px = at(foot, b) - at(foot, a)
    speed = (at(reference, b) - at(reference, a)) / duration_s
    stance = ((valid["toe_off_frame"] - valid["start_frame"]) / (b - a) * 100).to_numpy(float)
    row = {
        "side": side,
        "n_cycles": int(len(valid)),
        "n_skipped": int(len(table) - len(valid)),
        "stride_time_s": float(np.mean(duration_s)),
        "stride_time_sd_s": float(np.std(duration_s, ddof=1)) if len(valid) > 1 else np.nan,
        "cadence_steps_per_min": float(120.0 / np.mean(duration_s)),
        "stance_pct": float(np.nanmean(stance)) if np.isfinite(stance).any() else np.nan,
        "stride_length_px": float(np.nanmean(stride_px)),
        "step_length_px": float(np.nanmean(stride_px) / 2.0),
        "speed_px_per_s": float(np.nanmean(speed)),
    }
    row["swing_pct"] = 100.0 - row["stance_pct"]
    if px_per_m:
        row["stride_length_m"] = row["stride_length_px"] / px_per_m
        row["step_length_m"] = row["step_length_px"] / px_per_m
        row["speed_m_per_s"] = row["speed_px_per_s"] / px_per_m
    return pd.DataFrame([row])
