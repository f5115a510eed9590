"""Sagittal joint angles (trunk, hip, knee, ankle) from the 2-D keypoints of one leg.

A camera beside the walkway sees the leg facing it: ``neck, hip, knee, ankle, heel, toe``.
In *gait coordinates* (x with the walking progression, y up; see
:mod:`napari_gaitint.core.orient`) the angles below are signed the clinical way for both
cameras, whichever way the subject walks in the image. Degrees; each angle is the signed
angle between two segment vectors, wrapped to (-180, 180].

========  ===================================================  ==================================
angle     definition (``a -> b`` is the vector from a to b)     positive when
========  ===================================================  ==================================
trunk     ``hip -> neck`` from the vertical                     leaning forward
hip       ``hip -> knee`` from the trunk's downward line        the thigh is in front of the
          ``neck -> hip``                                       trunk line (flexion)
knee      ``knee -> ankle`` from the thigh's line               the shank is behind the thigh
          ``hip -> knee``                                       line (flexion); 0 = straight
ankle     ``heel -> toe`` from the perpendicular to the         the toe is turned up toward the
          shank ``ankle -> knee``: angle(shank, foot) + 90°     shank (dorsiflexion); 0 = foot
                                                                at right angles to the shank
========  ===================================================  ==================================

These are the definitions of 2-D video gait analysis (Stenum et al. 2021, PLoS Comput Biol
17:e1008935; Sports2D), not of a 3-D model. Against Plug-in-Gait (Vicon) / pyCGM2, which
report the distal segment's rotation in the proximal segment's axes:

* **hip**: Plug-in-Gait measures the thigh against the *pelvis*, whose anterior tilt (about
  10° in walking) adds to hip flexion; here the reference is the trunk line, whose forward lean
  (a few degrees) adds instead. The difference is the pelvic tilt minus the trunk lean: a near
  constant offset (hip here reads lower), with a small within-cycle ripple.
* **knee**: both are the angle between thigh and shank; Plug-in-Gait uses the joint centres,
  a 2-D view the lateral markers or keypoints. Small differences (a few degrees at most).
* **ankle**: both have 0° with the foot at right angles to the shank. Plug-in-Gait's foot axis
  is calibrated in a static trial (``heel -> toe`` made level); a 2-D heel keypoint sits on the
  back of the heel and the toe keypoint on the toe, whose heights above the sole differ, so the
  ``heel -> toe`` line is tilted by a constant that depends on where the keypoints are
  labelled. That constant is not subtracted here (it is a property of the labelling, not of
  the subject): the measured offsets are on docs/methods/angles.md.

No constant other than the ankle's 90° is added or subtracted.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._frames import bare
from .config import CycleConfig
from .errors import AnalysisError
from .pose import Pose

#: The angles computed, in the order of the output columns.
JOINTS: tuple[str, ...] = ("hip", "knee", "ankle", "trunk")
#: The ``axis`` label of angle cycles in a cycles table (positions have ``x`` and ``y``).
ANGLE_AXIS = "angle"
#: The keypoints each angle needs.
JOINT_POINTS: dict[str, tuple[str, ...]] = {
    "hip": ("neck", "hip", "knee"),
    "knee": ("hip", "knee", "ankle"),
    "ankle": ("knee", "ankle", "heel", "toe"),
    "trunk": ("neck", "hip"),
}
ANGLE_COLUMNS = ("frame", "time_s", *JOINTS)


def signed_angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle from 2-D vectors ``u`` to ``v`` (``(..., 2)``), counter-clockwise positive, in
    degrees in (-180, 180]; NaN where either vector is NaN or of zero length.

    Examples
    --------
    >>> signed_angle_deg(np.array([1.0, 0.0]), np.array([[0.0, 1.0], [1.0, -1.0]]))
    array([ 90., -45.])
    """
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    cross = u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]
    dot = u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]
    with np.errstate(invalid="ignore"):
        zero = (np.hypot(u[..., 0], u[..., 1]) == 0) | (np.hypot(v[..., 0], v[..., 1]) == 0)
    out = np.degrees(np.arctan2(cross, dot))
    out = np.where(out == -180.0, 180.0, out)
    return np.where(zero, np.nan, out)


def compute_joint_angles(points: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sagittal angles (degrees) from keypoints in gait coordinates (x forward, y up).

    Parameters
    ----------
    points
        ``{name: (..., 2) array of x, y}`` for the roles ``neck, hip, knee, ankle, heel,
        toe`` (pixels or any length unit; NaN where missing). An angle whose keypoints
        (:data:`JOINT_POINTS`) are not all given is left out.

    Returns
    -------
    dict
        ``{"hip", "knee", "ankle", "trunk"}`` -> ``(...)`` arrays in degrees, signed as in
        the module docstring (flexion, dorsiflexion and forward lean positive); NaN where a
        keypoint is missing.

    Examples
    --------
    A vertical trunk, the thigh 20° forward of it, the knee bent 30° (the shank 10° behind
    the vertical) and the foot level: the shank leans 10° forward over the foot (10° of
    dorsiflexion):

    >>> s, c = np.sin(np.radians([20, 10])), np.cos(np.radians([20, 10]))
    >>> hip, knee = np.array([0.0, 90.0]), np.array([40 * s[0], 90 - 40 * c[0]])
    >>> ankle = knee + 40 * np.array([-s[1], -c[1]])
    >>> pts = dict(neck=np.array([0.0, 150.0]), hip=hip, knee=knee, ankle=ankle,
    ...            heel=ankle + [-5.0, -8.0], toe=ankle + [15.0, -8.0])
    >>> {k: round(float(v), 6) for k, v in compute_joint_angles(pts).items()}
    {'hip': 20.0, 'knee': 30.0, 'ankle': 10.0, 'trunk': 0.0}
    """
    p = {k: np.asarray(v, dtype=float) for k, v in points.items()}
    out = {}
    if all(k in p for k in JOINT_POINTS["hip"]):
        out["hip"] = signed_angle_deg(p["hip"] - p["neck"], p["knee"] - p["hip"])
    if all(k in p for k in JOINT_POINTS["knee"]):
        out["knee"] = 0.0 - signed_angle_deg(p["knee"] - p["hip"], p["ankle"] - p["knee"])
    if all(k in p for k in JOINT_POINTS["ankle"]):
        ankle = signed_angle_deg(p["knee"] - p["ankle"], p["toe"] - p["heel"]) + 90.0
        out["ankle"] = np.where(ankle > 180.0, ankle - 360.0, ankle)
    if all(k in p for k in JOINT_POINTS["trunk"]):
        out["trunk"] = 0.0 - signed_angle_deg(np.array([0.0, 1.0]), p["neck"] - p["hip"])
    return {k: out[k] for k in JOINTS if k in out}


def _oriented(pose: Pose) -> None:
    if not pose.meta.get("orientation"):
        where = f"{pose.source}: " if pose.source is not None else ""
        raise ValueError(
            f"{where}the pose is in image coordinates; joint angles need gait coordinates "
            "(x forward, y up): orient it first (napari_gaitint.core.orient.orient_pose)"
        )


def pose_angles_deg(pose: Pose, *, min_likelihood: float | None = None) -> dict[str, np.ndarray]:
    """Per-frame joint angles of a pose in gait coordinates, ``{joint: (n_frames,) degrees}``.

    Points below the likelihood cut-off are missing (``min_likelihood`` as in
    :func:`~napari_gaitint.core.cycles.compute_cycles`: None is 0.6, the cut-off of raw
    predictions; pass 0 for a cleaned pose). Joints whose keypoints the pose lacks are left out.

    Raises
    ------
    ValueError
        If the pose is in image coordinates (not from
        :func:`~napari_gaitint.core.orient.orient_pose`).
    """
    from .cycles import _masked

    _oriented(pose)
    pose = _masked(pose, min_likelihood)
    names = {n for pts in JOINT_POINTS.values() for n in pts}
    return compute_joint_angles({n: pose.bodypart(n)[:, :2] for n in names if n in pose.bodyparts})


def compute_angles(pose: Pose, *, fps: float | None = None, min_likelihood: float | None = None) -> pd.DataFrame:
    """The joint angles of every frame as a table.

    Parameters
    ----------
    pose
        Keypoints in gait coordinates (from :func:`~napari_gaitint.core.orient.orient_pose`).
    fps
        Frame rate in Hz (default ``pose.fps``); ``time_s`` is NaN without one.
    min_likelihood
        As in :func:`pose_angles_deg`.

    Returns
    -------
    pandas.DataFrame
        ``frame, time_s, hip, knee, ankle, trunk`` (degrees; NaN where a keypoint is missing
        or the pose has no such body part).

    Examples
    --------
    >>> from napari_gaitint.synthetic import generate_trial
    >>> from napari_gaitint.core.orient import orient_pose
    >>> view = generate_trial(0).views["C1"]
    >>> table = compute_angles(orient_pose(view.true_pose))
    >>> list(table.columns), bool(table["knee"].between(-10, 90).all())
    (['frame', 'time_s', 'hip', 'knee', 'ankle', 'trunk'], True)
    """
    angles = pose_angles_deg(pose, min_likelihood=min_likelihood)
    fps = fps or pose.fps
    frames = pose.frames
    out = {"frame": frames, "time_s": frames / fps if fps else np.full(frames.size, np.nan)}
    for j in JOINTS:
        out[j] = angles.get(j, np.full(pose.n_frames, np.nan))
    return pd.DataFrame(out, columns=list(ANGLE_COLUMNS))


def compute_angle_cycles(
    pose: Pose,
    events: pd.DataFrame,
    *,
    side: str,
    cycles: pd.DataFrame | None = None,
    n_points: int = CycleConfig.n_points,
    fps: float | None = None,
    max_gap_s: float = CycleConfig.max_gap_s,
    duration_tolerance: float = CycleConfig.duration_tolerance,
    min_likelihood: float | None = None,
) -> pd.DataFrame:
    """Every valid gait cycle's joint angles, resampled to ``n_points`` samples (0-100 %).

    The per-frame angles (:func:`pose_angles_deg`) are cut and resampled like the position
    curves of :func:`~napari_gaitint.core.cycles.compute_cycles` (cubic spline through the
    frames with data, between the heel strikes). An angle with a run of missing frames
    longer than ``max_gap_s`` in a cycle is NaN in that cycle.

    Parameters
    ----------
    pose, events, side
        As for :func:`~napari_gaitint.core.cycles.compute_cycles` (pose in gait coordinates).
    cycles
        The position cycles of the same pose and events: the angle cycles are then those
        cycles, so both sets cover the same strides. Without it the cycles are judged by
        their events (:func:`~napari_gaitint.core.cycles.split_cycles`).
    n_points, fps, max_gap_s, duration_tolerance, min_likelihood
        As for :func:`~napari_gaitint.core.cycles.compute_cycles`.

    Returns
    -------
    pandas.DataFrame
        Long table ``side, cycle, bodypart, axis, pct, value``: ``bodypart`` is the joint,
        ``axis`` is ``"angle"`` and ``value`` in degrees; one block of rows per cycle.
        ``attrs["cycle_frames"]`` holds each cycle's ``cycle, start_frame, end_frame``.

    Raises
    ------
    AnalysisError
        When there is no valid cycle, or no angle can be computed (keypoints missing).
    """
    from .cycles import (
        CYCLE_COLUMNS,
        _categorical,
        _longest_run_in_windows,
        _resample_many,
        _split,
        _valid_or_raise,
    )
    from .event_signals import frame_to_position

    angles = pose_angles_deg(pose, min_likelihood=min_likelihood)
    where = f"{pose.source}: " if pose.source is not None else ""
    if not angles:
        raise AnalysisError(f"{where}no joint angle: the pose lacks the keypoints "
                            f"({', '.join(sorted({n for p in JOINT_POINTS.values() for n in p}))})")
    angles = {j: a for j, a in angles.items() if np.isfinite(a).sum() >= 4}  # as compute_cycles
    if not angles:
        raise AnalysisError(f"{where}no joint angle: the keypoints they need have no data")
    fps = fps or pose.fps
    table = _split(events, side=side, fps=fps, duration_tolerance=duration_tolerance)
    if cycles is not None:
        keep = np.isin(table["cycle"], np.unique(bare(cycles)["cycle"].to_numpy()))
        table = {k: v[keep] for k, v in table.items()}
        table["valid"] = np.ones(keep.sum(), dtype=bool)
    valid = _valid_or_raise(table, pose, side)
    joints = tuple(angles)
    series = np.column_stack([angles[j] for j in joints])
    p0 = frame_to_position(pose, valid["start_frame"])
    p1 = frame_to_position(pose, valid["end_frame"])
    pct = np.linspace(0.0, 100.0, n_points)
    at = p0[:, None] + (p1 - p0)[:, None] * pct[None, :] / 100.0
    values = _resample_many(series, at)  # (n_joints, n_cycles, n_points)
    limit = max_gap_s * fps if fps else np.inf
    lo, hi = np.floor(p0).astype(int), np.ceil(p1).astype(int) + 1
    for k in range(len(joints)):
        run = _longest_run_in_windows(~np.isfinite(series[:, k]), lo, hi)
        values[k][run > limit] = np.nan
    n_cyc, n_j = at.shape[0], len(joints)
    n_rows = n_cyc * n_j * n_points
    out = pd.DataFrame({
        "side": _categorical(np.zeros(n_rows, dtype=np.int8), [side]),
        "cycle": np.repeat(valid["cycle"], n_j * n_points),
        "bodypart": _categorical(np.tile(np.repeat(np.arange(n_j, dtype=np.int8), n_points), n_cyc), joints),
        "axis": _categorical(np.zeros(n_rows, dtype=np.int8), [ANGLE_AXIS]),
        "pct": np.tile(pct, n_cyc * n_j),
        "value": values.transpose(1, 0, 2).ravel(),
    }, columns=list(CYCLE_COLUMNS), copy=False)
    out.attrs["cycle_frames"] = pd.DataFrame({k: valid[k] for k in ("cycle", "start_frame", "end_frame")})
    return out


def locate_in_cycles(frame: float, cycle_frames: pd.DataFrame) -> tuple[int | None, float]:
    """The cycle that holds ``frame`` and how far into it ``frame`` is (percent).

    Parameters
    ----------
    frame
        A frame number (of the pose's frames).
    cycle_frames
        ``cycle, start_frame, end_frame`` (``attrs["cycle_frames"]`` of
        :func:`compute_angle_cycles`).

    Returns
    -------
    tuple
        ``(cycle, pct)``, or ``(None, nan)`` when no cycle holds ``frame``; a heel strike
        that ends one cycle and starts the next belongs to the next (0 %).

    Examples
    --------
    >>> table = pd.DataFrame({"cycle": [1, 2], "start_frame": [10.0, 40.0], "end_frame": [40.0, 71.0]})
    >>> locate_in_cycles(25, table), locate_in_cycles(40, table), locate_in_cycles(5, table)
    ((1, 50.0), (2, 0.0), (None, nan))
    """
    start = cycle_frames["start_frame"].to_numpy(float)
    end = cycle_frames["end_frame"].to_numpy(float)
    inside = np.flatnonzero((start <= frame) & (frame <= end))
    if not inside.size:
        return None, float("nan")
    k = inside[-1]
    return int(cycle_frames["cycle"].iloc[k]), float((frame - start[k]) / (end[k] - start[k]) * 100.0)


def append_angle_cycles(cycles: pd.DataFrame, angle_cycles: pd.DataFrame) -> pd.DataFrame:
    """The position cycles with each cycle's angle rows after its position rows.

    Both tables are in the layout of :func:`~napari_gaitint.core.cycles.compute_cycles` (one
    block of rows per cycle, the same cycles in the same order), so the result keeps it: one
    block per cycle, positions then angles. The position rows are unchanged; categorical
    columns get the union of the categories (positions' first). ``attrs`` are those of
    ``cycles``.
    """
    if not len(angle_cycles):
        return cycles
    # without attrs: pandas deep-copies attrs on every column taken
    first, second = bare(cycles), bare(angle_cycles)
    c_pos, c_ang = np.unique(first["cycle"].to_numpy()), np.unique(second["cycle"].to_numpy())
    n_cyc = c_pos.size
    if not np.array_equal(c_pos, c_ang) or len(cycles) % n_cyc or len(angle_cycles) % n_cyc:
        raise ValueError("the angle cycles must cover the same cycles as the position cycles")
    m1, m2 = len(cycles) // n_cyc, len(angle_cycles) // n_cyc
    # row i of the output takes row order[i] of the stacked (positions, angles) tables
    order = np.concatenate([
        np.arange(len(cycles)).reshape(n_cyc, m1),
        len(cycles) + np.arange(len(angle_cycles)).reshape(n_cyc, m2),
    ], axis=1).ravel()
    data = {}
    for col in cycles.columns:
        a, b = first[col], second[col]
        if isinstance(a.dtype, pd.CategoricalDtype):
            if not isinstance(b.dtype, pd.CategoricalDtype):
                b = b.astype("category")
            a, b = a.array, b.array  # the Categoricals (their codes: numpy, not Series)
            cats = a.categories.append(b.categories.difference(a.categories, sort=False))
            # b's codes in the union's numbering (a code of -1, missing, stays -1)
            b_codes = np.append(cats.get_indexer(b.categories), -1)[b.codes]
            codes = np.concatenate([a.codes, b_codes])[order]
            data[col] = pd.Categorical.from_codes(codes, categories=cats)
        else:
            data[col] = np.concatenate([a.to_numpy(), b.to_numpy()])[order]
    out = pd.DataFrame(data, columns=list(cycles.columns), copy=False)
    out.attrs.update(cycles.attrs)
    return out
