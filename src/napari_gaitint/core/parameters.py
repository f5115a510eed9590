"""Spatiotemporal parameters of a leg: stride and step times and lengths, cadence, stance, speed.

Computed from a pose in gait coordinates and its events, over the valid gait cycles of
:func:`~napari_gaitint.core.cycles.split_cycles`; steps need the other leg, seen by the other
camera (:func:`compute_steps`). Lengths in pixels, and in metres with the view's scale
(:func:`compute_px_per_m`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .cycles import _event_frames, _masked, _split, _usable, _valid_or_raise
from .errors import AnalysisError
from .event_signals import frame_to_position
from .events import HEEL_STRIKE
from .pose import Pose, leg_length_px


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
    min_likelihood: float | None = None,
    steps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Spatiotemporal parameters of one leg, averaged over its valid cycles.

    Definitions (lengths in gait-coordinate pixels; one leg is visible per view):

    * ``stride_time_s``: heel strike to heel strike of the same leg (mean, and ``_sd``);
    * ``cadence_steps_per_min``: ``120 / stride_time_s`` (two steps per stride);
    * ``stance_pct`` / ``swing_pct``: heel strike to toe off as % of the cycle (cycles with
      exactly one toe off), and the rest;
    * ``stride_length_px``: heel x at the next heel strike minus heel x at this one (the
      heel is on the ground then; the ankle, else the toe, where the heel has no data);
    * with ``steps`` (:func:`compute_steps`: the other leg seen by the other camera):
      ``step_length_px`` and ``step_time_s`` (``_sd``) are the means over the valid steps
      ending at this leg's heel strikes, ``n_steps`` their number and
      ``steps_from_both_views`` is True; without it (one view) ``step_length_px`` is half
      the stride length (steps assumed symmetric) and ``step_time_s`` NaN;
    * ``speed_px_per_s``: progression of ``reference`` over the cycle / its duration;
    * with ``px_per_m``: the same lengths and speed in metres (``*_m``, ``speed_m_per_s``).

    Cycles are judged by their events only (duration, toe offs; :func:`split_cycles`
    without a pose); a length or speed of a cycle is left out (NaN-mean) where the body part
    has no data within ``max_gap_s / 2`` of a heel strike. Points below the likelihood
    cut-off are missing (``min_likelihood`` as in :func:`compute_cycles`); the neck stands
    in for a missing hip reference.

    Returns
    -------
    pandas.DataFrame
        One row: ``side, n_cycles, n_skipped`` and the parameters above; ``attrs`` holds
        the ``foot`` and ``reference`` used (and ``notes``).

    Raises
    ------
    AnalysisError
        When there is no full gait cycle.
    """
    fps = fps or pose.fps
    if not fps:
        raise AnalysisError("frame rate unknown; give fps")
    pose = _masked(pose, min_likelihood)
    # Timing needs only the events; lengths need the foot and the reference near them.
    table = _split(events, side=side, fps=fps, duration_tolerance=duration_tolerance)
    valid = _valid_or_raise(table, pose, side)
    try:
        reference, _, notes = _usable(pose, reference, [])
    except AnalysisError:  # neither body reference has data: no speed
        reference, notes = None, [f"no {reference} data: speed unknown"]
    foot = next((b for b in ("heel", "ankle", "toe") if b in pose.bodyparts
                 and np.isfinite(pose.bodypart(b)[:, 0]).sum() >= 2), None)
    reach = max(1.0, max_gap_s * fps / 2)

    def at(bp: str | None, frames: np.ndarray) -> np.ndarray:
        return _x_at(pose, bp, frames, reach)

    a, b = valid["start_frame"], valid["end_frame"]
    duration_s = (b - a) / fps
    stride_px = at(foot, b) - at(foot, a)
    speed = (at(reference, b) - at(reference, a)) / duration_s
    stance = (valid["toe_off_frame"] - a) / (b - a) * 100
    n_valid = valid["cycle"].size
    row = {
        "side": side,
        "n_cycles": n_valid,
        "n_skipped": table["cycle"].size - n_valid,
        "stride_time_s": float(np.mean(duration_s)),
        "stride_time_sd_s": float(np.std(duration_s, ddof=1)) if n_valid > 1 else np.nan,
        "cadence_steps_per_min": float(120.0 / np.mean(duration_s)),
        "stance_pct": _nanmean(stance),
        "stride_length_px": _nanmean(stride_px),
        "step_length_px": _nanmean(stride_px) / 2.0,
        "speed_px_per_s": _nanmean(speed),
    }
    row["swing_pct"] = 100.0 - row["stance_pct"]
    row["steps_from_both_views"] = steps is not None
    row["n_steps"] = 0
    row["step_time_s"] = row["step_time_sd_s"] = np.nan
    if steps is not None:
        good = steps["valid"].to_numpy(bool)
        times = steps["step_time_s"].to_numpy(float)[good]
        row["n_steps"] = int(good.sum())
        row["step_time_s"] = _nanmean(times) if times.size else np.nan
        row["step_time_sd_s"] = float(np.nanstd(times, ddof=1)) if np.isfinite(times).sum() > 1 else np.nan
        row["step_length_px"] = _nanmean(steps["step_length_px"].to_numpy(float)[good]) if times.size else np.nan
    if px_per_m:
        row["stride_length_m"] = row["stride_length_px"] / px_per_m
        row["step_length_m"] = row["step_length_px"] / px_per_m
        row["speed_m_per_s"] = row["speed_px_per_s"] / px_per_m
    out = pd.DataFrame({k: [v] for k, v in row.items()})
    out.attrs.update(foot=foot, reference=reference)
    if notes:
        out.attrs["notes"] = notes
    return out


def _x_at(pose: Pose, bp: str | None, frames: np.ndarray, reach: float) -> np.ndarray:
    """x of ``bp`` at (fractional) frame numbers, linear between samples; NaN where the
    nearest sample on either side is farther than ``reach`` frames (or ``bp`` is None)."""
    if bp is None:
        return np.full(len(frames), np.nan)
    x = pose.bodypart(bp)[:, 0]
    ok = np.flatnonzero(np.isfinite(x))
    if ok.size < 2:
        return np.full(len(frames), np.nan)
    p = frame_to_position(pose, frames)
    k = np.clip(np.searchsorted(ok, p), 1, ok.size - 1)
    near = (p - ok[k - 1] <= reach) & (ok[k] - p <= reach)
    return np.where(near, np.interp(p, ok.astype(float), x[ok]), np.nan)


STEP_COLUMNS = ("side", "step", "frame", "other_frame", "step_time_s", "step_length_px", "valid", "reason")


def compute_steps(
    pose: Pose,
    events: pd.DataFrame,
    other: Pose,
    other_events: pd.DataFrame,
    *,
    side: str,
    other_side: str,
    fps: float | None = None,
    lag_frames: float = 0.0,
    reference: str = "hip",
    max_gap_s: float = 0.2,
    min_likelihood: float | None = None,
) -> pd.DataFrame:
    """The steps ending at the heel strikes of ``side``, the other leg seen by the other camera.

    A step of the left leg runs from the right heel strike to the next left heel strike
    (step time); its length is how far the left heel is ahead of the right heel at the left
    heel strike. One camera sees one leg, so the two heels are measured in their own views,
    each relative to the body reference both cameras see (the hip, by default):

    ``step_length = (heel - hip) in this view - s x (heel - hip) in the other view``

    at the same moment, with ``s`` = this view's leg length / the other view's
    (:func:`~napari_gaitint.core.io.leg_length_px`: the two cameras' pixel scales differ).
    Both poses are in gait coordinates (x grows with progression, as from
    :func:`~napari_gaitint.core.orient.orient_pose`). On real subjects the two hip markers
    are not exactly level along the walkway (the pelvis turns by a few degrees): that adds
    up to ~1–2 cm, the same to every step of a side.

    Parameters
    ----------
    pose, events
        This camera's pose (gait coordinates) and its events (``side`` is its leg).
    other, other_events
        The other camera's, whose leg is ``other_side``.
    fps
        Frames per second (default ``pose.fps``).
    lag_frames
        ``other``'s frame ``f + lag_frames`` shows the moment of ``pose``'s frame ``f``
        (see :func:`~napari_gaitint.core.clean.estimate_view_lag`; 0 for synchronised
        cameras).
    reference
        The body part both views see (the neck stands in where the hip has no data).
    max_gap_s
        A heel or reference farther than ``max_gap_s / 2`` from a sample leaves the
        step's length NaN (its time stays).
    min_likelihood
        As in :func:`compute_cycles`.

    Returns
    -------
    pandas.DataFrame
        One row per heel strike of ``side`` after the first heel strike of ``other_side``:
        ``side, step, frame`` (this heel strike, this view's frames), ``other_frame`` (the
        other leg's heel strike before it, the other view's frames), ``step_time_s``,
        ``step_length_px`` (this view's pixels), ``valid`` and ``reason``. A step is
        invalid when the other leg has no heel strike since this leg's previous one (a
        missed event) or several (a spurious one), or when it lasts as long as a typical
        stride; ``attrs`` holds the
        ``scale`` and the body parts used.

    Examples
    --------
    >>> from napari_gaitint.synthetic import generate_trial
    >>> from napari_gaitint.core.orient import orient_pose
    >>> trial = generate_trial(3)
    >>> c1, c3 = (trial.views[v] for v in ("C1", "C3"))
    >>> steps = compute_steps(orient_pose(c1.true_pose), c1.events, orient_pose(c3.true_pose),
    ...                       c3.events, side="left", other_side="right")
    >>> bool(steps["valid"].all()), round(float(steps["step_time_s"].mean()), 2)
    (True, 0.5)
    """
    fps = fps or pose.fps or other.fps
    if not fps:
        raise AnalysisError("frame rate unknown; give fps")
    pose, other = _masked(pose, min_likelihood), _masked(other, min_likelihood)

    (mine,) = _event_frames(events, side, (HEEL_STRIKE,))
    (theirs,) = _event_frames(other_events, other_side, (HEEL_STRIKE,))
    theirs = theirs - lag_frames  # in this view's frames
    foot = next((b for b in ("heel", "ankle", "toe") if b in pose.bodyparts and b in other.bodyparts
                 and np.isfinite(pose.bodypart(b)[:, 0]).sum() >= 2
                 and np.isfinite(other.bodypart(b)[:, 0]).sum() >= 2), None)
    refs = [r for r in (reference, "neck" if reference == "hip" else "hip")
            if r in pose.bodyparts and r in other.bodyparts]
    ref = next((r for r in refs if pose.has_xy(r).sum() >= 2 and other.has_xy(r).sum() >= 2), None)
    legs = [leg_length_px(p) for p in (pose, other)]
    scale = legs[0] / legs[1] if legs[0] and legs[1] else np.nan
    k = np.searchsorted(theirs, mine, side="left") - 1  # the other leg's last heel strike before
    has = k >= 0
    f, g = mine[has], theirs[k[has]]
    prev = np.concatenate([[np.nan], mine[:-1]])[has]  # this leg's heel strike before
    typical = events.attrs.get("stride_frames") or (float(np.median(np.diff(mine))) if mine.size > 1 else np.inf)
    missed = np.isfinite(prev) & ~(g > prev)
    # heel strikes of the other leg since this leg's previous one (1 in walking; more is a
    # spurious detection, and the last of them would make a short step)
    n_theirs = np.where(np.isfinite(prev), np.searchsorted(theirs, f) - np.searchsorted(theirs, prev, side="right"), 1)
    too_long = ~(f - g < typical)
    reasons = np.full(f.size, "", dtype=object)
    reasons[too_long] = "as long as a stride (a heel strike of the other leg missed)"
    reasons[missed] = f"no {other_side} heel strike since the previous {side} one"
    for i in np.flatnonzero(n_theirs > 1):
        reasons[i] = f"{n_theirs[i]} {other_side} heel strikes since the previous {side} one"
    reach = max(1.0, max_gap_s * fps / 2)
    if foot is None or ref is None:
        length = np.full(f.size, np.nan)
    else:
        near = _x_at(pose, foot, f, reach) - _x_at(pose, ref, f, reach)
        far = _x_at(other, foot, f + lag_frames, reach) - _x_at(other, ref, f + lag_frames, reach)
        length = near - scale * far
    out = pd.DataFrame({
        "side": side, "step": np.arange(1, f.size + 1), "frame": f, "other_frame": g + lag_frames,
        "step_time_s": (f - g) / fps, "step_length_px": length, "valid": reasons == "", "reason": reasons,
    }, columns=list(STEP_COLUMNS))
    out.attrs.update(scale=float(scale), foot=foot, reference=ref, lag_frames=lag_frames)
    return out


def compute_px_per_m(line_px, length_m: float) -> float:
    """A view's scale from a line drawn over a known floor distance.

    Parameters
    ----------
    line_px
        The line's two end points in the view's image pixels, ``(2, 2)`` (x, y or row,
        column: the length is the same), or ``(2, D)`` with the image coordinates last
        (napari's ``(frame, y, x)``).
    length_m
        The real length of that distance on the walkway, in metres.

    Returns
    -------
    float
        Pixels per metre (the ``px_per_m`` of the manifest).

    Raises
    ------
    AnalysisError
        If the length is not positive or the line has no length.

    Examples
    --------
    >>> compute_px_per_m([[100.0, 400.0], [500.0, 400.0]], 0.5)
    800.0
    """
    line = np.asarray(line_px, dtype=float)
    if line.ndim != 2 or line.shape[0] != 2 or line.shape[1] < 2:
        raise AnalysisError(f"a calibration line has two end points of 2 coordinates, not an array of shape {line.shape}")
    if not (np.isfinite(length_m) and length_m > 0):
        raise AnalysisError(f"the line's length must be a positive number of metres, not {length_m}")
    px = float(np.hypot(*(line[1, -2:] - line[0, -2:])))
    if not (np.isfinite(px) and px >= 1.0):
        raise AnalysisError(f"the calibration line is {px:.2g} pixels long; draw it over the known distance")
    return px / float(length_m)


def _nanmean(v: np.ndarray) -> float:
    v = np.asarray(v, dtype=float)
    return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else np.nan
