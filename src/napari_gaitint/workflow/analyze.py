"""One trial: load → clean → orient → events → cycles → angles → parameters.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..core.config import CLEANED_LIKELIHOOD_THRESHOLD
from ..core.errors import (
    AnalysisError,
    GaitintWarning,
    InputFileError,
)
from ..core.io import load_pose
from ..core.pose import Pose, align_view_lengths, validate_fps, validate_time_series
from .config import AnalysisConfig
from .manifest import _side_for, row_individual


# one trial pair
@dataclasses.dataclass
class ViewResult:
    """What the pipeline made of one view of one trial."""

    trial: str
    view: str
    side: str
    raw: Pose
    cleaned: Pose  # image coordinates (overlays the video)
    oriented: Pose  # gait coordinates (x with progression, y up)
    clean: Any  # CleanResult: flags and counts
    events: pd.DataFrame
    cycles: pd.DataFrame  # per cycle, long
    parameters: pd.DataFrame


def _load_view(row: pd.Series, config: AnalysisConfig) -> Pose:
    fps = validate_fps(row["fps"], source=row["predictions"]) if pd.notna(row.get("fps")) else None
    pose = load_pose(row["predictions"], bodyparts=config.bodyparts or {}, fps=fps, side=_side_for(row),
                     individual=row_individual(row))
    validate_time_series(pose, task="gait analysis (cleaning, events, cycles)")
    if pd.notna(row.get("width")) and pd.notna(row.get("height")):
        pose.frame_size = (int(row["width"]), int(row["height"]))
    elif isinstance(row.get("video"), str):
        from ..core.video import probe_video

        info = probe_video(row["video"])
        pose.frame_size = (info.width, info.height)
        pose.fps = pose.fps or info.fps
    if pose.frame_size is None:
        raise InputFileError(row["predictions"], "frame size unknown: give width and height in the manifest")
    if pose.fps is None:
        raise InputFileError(row["predictions"], "frame rate unknown: give fps in the manifest")
    return pose


def _edited_events(row: pd.Series, side: str, fps: float) -> pd.DataFrame | None:
    """Events edited by hand (manifest column ``events``: an events.csv), or None to detect.

    The file may hold several trials and views (columns ``trial``, ``view``); the rows of this
    trial, view and side are used as they are (``source`` detected or manual)."""
    path = row.get("events")
    if not isinstance(path, str) or not path:
        return None
    from ..core.annotations import load_events

    ev = load_events(path)
    for col in ("trial", "view"):
        if col in ev.columns and ev[col].astype(str).str.len().gt(0).any():
            ev = ev[ev[col].astype(str) == str(row[col])]
    ev = ev[ev["side"] == side]
    if ev.empty and row.get("events_auto") is True:
        return None  # a saved file that does not cover this view: detect as usual
    if ev.empty:
        raise AnalysisError(
            f"{path}: no {side} events for trial {row['trial']} view {row['view']}; "
            "remove the events column to detect them"
        )
    ev = ev.sort_values("frame").reset_index(drop=True)
    ev["time_s"] = ev["frame"] / fps
    keep = [c for c in ("side", "event", "frame", "time_s", "source") if c in ev.columns]
    return ev[keep]


def analyze_trial(rows: pd.DataFrame, config: AnalysisConfig | None = None) -> list[ViewResult]:
    """Run clean → orient → events → cycles on the views of one trial.

    Parameters
    ----------
    rows
        The manifest rows of one trial (one per view; two for a trial pair).
    config
        Settings; defaults when None.

    Notes
    -----
    Each view is cleaned with the other view's predictions as the far-leg reference. Events
    are timed on the cleaned pose before its low-pass filter, the two legs of a pair
    together (:func:`_trial_events`); cycles and angles use the filtered pose. The steps
    after cleaning keep every point of the cleaned pose
    (:data:`~napari_gaitint.core.config.CLEANED_LIKELIHOOD_THRESHOLD`).
    """
    from ..core.clean import clean_pose
    from ..core.cycles import compute_cycles
    from ..core.parameters import compute_parameters

    config = config or AnalysisConfig()
    clean_cfg = config.clean_config()
    rows = rows.reset_index(drop=True)
    poses = [_load_view(row, config) for _, row in rows.iterrows()]
    if len(poses) == 2:
        poses = list(align_view_lengths(poses[0], poses[1], trim=True))
    prepared = []
    for i, row in rows.iterrows():
        pose = poses[i]
        other = poses[1 - i] if len(poses) == 2 else None
        try:
            cleaned = clean_pose(pose, other=other, config=clean_cfg)
        except AnalysisError as err:
            if other is None:
                raise
            # the views cannot be aligned (other view empty, not walking...): this view is
            # still usable on its own, with the single-view wrong-limb check
            warnings.warn(f"{err} Cleaned {row['view']} without the other view.", GaitintWarning,
                          stacklevel=2)
            cleaned = clean_pose(pose, other=None, config=clean_cfg)
        prepared.append((row, pose, _side_for(row), cleaned))
    views = []
    for (row, pose, side, cleaned), (oriented, events) in zip(prepared, _trial_events(prepared, config),
                                                                strict=True):
        cycles = compute_cycles(oriented, events, side=side, px_per_m=_cycles_scale(row, config),
                                min_likelihood=CLEANED_LIKELIHOOD_THRESHOLD, **config.cycles_kwargs())
        cycles = _with_angle_cycles(cycles, oriented, events, side, config)
        # the unfiltered pose served the events; the results keep the filtered one
        cleaned = dataclasses.replace(cleaned, unfiltered=None)
        views.append((row, pose, side, cleaned, oriented, events, cycles))
    results = []
    for i, (row, pose, side, cleaned, oriented, events, cycles) in enumerate(views):
        steps = _steps(views[i], views[1 - i]) if len(views) == 2 else None
        px_per_m = config.view_px_per_m(row)
        params = compute_parameters(oriented, events, side=side, fps=pose.fps, px_per_m=px_per_m,
                                    steps=steps, min_likelihood=CLEANED_LIKELIHOOD_THRESHOLD)
        tilt = oriented.meta["orientation"]["tilt_deg"]
        params["floor_tilt_deg"] = np.nan if tilt is None else tilt
        if px_per_m is not None:
            params["px_per_m"] = px_per_m
        results.append(
            ViewResult(
                trial=str(row["trial"]), view=str(row["view"]), side=side, raw=pose,
                cleaned=cleaned.pose, oriented=oriented, clean=cleaned, events=events,
                cycles=cycles, parameters=params,
            )
        )
    return results


def _trial_events(prepared: list[tuple], config: AnalysisConfig) -> list[tuple[Pose, pd.DataFrame]]:
    """Each view oriented (:func:`~napari_gaitint.core.orient.orient_pose`) and its events:
    edited by hand (manifest ``events``) or detected on the cleaned pose before its low-pass
    filter (``CleanResult.events_pose``), oriented as the view.

    When both views of a pair are detected, see different legs and were matched frame to
    frame by cleaning, the two legs are detected together and checked against each other
    (:func:`~napari_gaitint.core.chain.analyze_pair`); otherwise each view's leg alone
    (:func:`~napari_gaitint.core.chain.analyze_view`). The cleaning's flags lower the
    confidence of the events they touch.
    """
    from ..core.chain import analyze_pair, analyze_view
    from ..core.orient import orient_pose

    settings = config.event_config()
    level = config.level_floor
    edited = [_edited_events(row, side, pose.fps) for row, pose, side, _ in prepared]
    if len(prepared) == 2 and all(ev is None for ev in edited):
        (_, _, s0, c0), (_, _, s1, c1) = prepared
        align = c0.summary.get("alignment")  # None: cleaned without the other view
        if not (align or {}).get("lag_beyond_range"):
            pair = analyze_pair((c0.pose, c1.pose), sides=(s0, s1), settings=settings, level=level,
                                lag_frames=align.get("lag_frames", 0) if align else None,
                                events_poses=(c0.events_pose, c1.events_pose), flags=(c0.flags, c1.flags),
                                cleaned=True)
            return [(v.oriented, v.events) for v in pair]
    out = []
    for (_, pose, side, cleaned), events in zip(prepared, edited, strict=True):
        if events is not None:
            out.append((orient_pose(cleaned.pose, level=level), events))
            continue
        view = analyze_view(cleaned.pose, side=side, settings=settings, fps=pose.fps, level=level,
                            events_pose=cleaned.events_pose, flags=cleaned.flags, cleaned=True)
        out.append((view.oriented, view.events))
    return out


def _cycles_scale(row: pd.Series, config: AnalysisConfig) -> float | None:
    """The px_per_m the view's cycles are divided by (None: cycles in pixels)."""
    if config.cycles_units == "px":
        return None
    px_per_m = config.view_px_per_m(row)
    if px_per_m is None:
        raise AnalysisError(
            f"view {row['view']}: cycles_units = 'm' needs its scale: give px_per_m in the manifest "
            "(or calibrate the view in napari), or px_per_m in the config"
        )
    return px_per_m


def _with_angle_cycles(cycles: pd.DataFrame, oriented: Pose, events: pd.DataFrame, side: str,
                       config: AnalysisConfig) -> pd.DataFrame:
    """The position cycles with the joint angles of the same cycles appended to each
    (``bodypart`` = joint, ``axis`` = ``angle``, degrees); unchanged when the pose lacks the
    keypoints of every angle."""
    from ..core.angles import append_angle_cycles, compute_angle_cycles

    try:
        angles = compute_angle_cycles(oriented, events, side=side, cycles=cycles, n_points=config.n_points,
                                      min_likelihood=CLEANED_LIKELIHOOD_THRESHOLD)
    except AnalysisError:
        return cycles
    return append_angle_cycles(cycles, angles)


def _steps(view: tuple, other: tuple) -> pd.DataFrame | None:
    """The steps of ``view``'s leg with the other leg from ``other``'s camera (both legs
    seen and the cameras matched frame by frame), else None (steps from strides)."""
    from ..core.parameters import compute_steps

    _, pose, side, cleaned, oriented, events, _ = view
    _, _, other_side, _, other_oriented, other_events, _ = other
    align = cleaned.summary.get("alignment")
    if side == other_side or not align or align.get("lag_beyond_range"):
        return None
    return compute_steps(oriented, events, other_oriented, other_events, side=side, other_side=other_side,
                         fps=pose.fps, lag_frames=align.get("lag_frames", 0),
                         min_likelihood=CLEANED_LIKELIHOOD_THRESHOLD)
