"""The orient → detect chain of one view, and of the two views of a trial pair.

Every entry point that finds gait events (the cohort run, ``gaitint events``, the
Detect-events dock and the annotator) calls :func:`analyze_view` or :func:`analyze_pair`,
so a view is oriented and its events are detected the same way everywhere, with the
settings of one :class:`~napari_gaitint.core.config.EventConfig`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .config import EventConfig, likelihood_cutoff
from .pose import Pose


@dataclasses.dataclass
class ViewEvents:
    """One view oriented and its events.

    Attributes
    ----------
    oriented
        The pose in gait coordinates (x with progression, y up;
        :func:`~napari_gaitint.core.orient.orient_pose`); ``oriented.meta["orientation"]``
        records the walking direction and the floor tilt.
    events
        The events table of :func:`~napari_gaitint.core.events.detect_events`.
    side
        The leg the view shows.
    """

    oriented: Pose
    events: pd.DataFrame
    side: str


def _timed(oriented: Pose, events_pose: Pose | None) -> Pose:
    """The pose the events are timed on: ``events_pose`` in the gait coordinates of
    ``oriented``, else ``oriented`` itself."""
    if events_pose is None:
        return oriented
    from .orient import orient_like

    return orient_like(events_pose, oriented)


def _detect_kwargs(settings: EventConfig | None, cleaned: bool | Sequence[bool]) -> dict:
    """The keyword arguments of ``detect_events`` (and ``detect_events_both_legs``): the
    settings, with the likelihood cut-off of a cleaned or a raw pose when they give none (one
    per pose for a ``cleaned`` per pose)."""
    kw = (settings or EventConfig()).to_dict()
    given = kw["min_likelihood"]
    kw["min_likelihood"] = (tuple(likelihood_cutoff(given, cleaned=c) for c in cleaned)
                            if isinstance(cleaned, (tuple, list)) else likelihood_cutoff(given, cleaned=cleaned))
    return kw


def analyze_view(
    pose: Pose,
    *,
    side: str,
    settings: EventConfig | None = None,
    fps: float | None = None,
    frame_size: tuple[int, int] | None = None,
    direction: int | None = None,
    level: bool = True,
    events_pose: Pose | None = None,
    flags: np.ndarray | None = None,
    cleaned: bool = False,
) -> ViewEvents:
    """Orient one view and detect the events of the leg it shows.

    Parameters
    ----------
    pose
        Keypoints in image coordinates, with our role names (neck, hip, ..., toe).
    side
        ``"left"`` or ``"right"``: the leg the view shows.
    settings
        Event-detection settings; the defaults when None.
    fps
        Frame rate in Hz; defaults to ``pose.fps``.
    frame_size, direction, level
        As in :func:`~napari_gaitint.core.orient.orient_pose` (frame size from the pose and
        walking direction detected when None; the floor levelled).
    events_pose
        The pose to time the events on, in the image coordinates of ``pose`` (e.g. the
        cleaned pose before its low-pass filter, ``CleanResult.events_pose``); it is
        oriented like ``pose``. None: ``pose`` itself.
    flags
        Cleaning flags (``CleanResult.flags``, or a cleaned file's flag table,
        :func:`~napari_gaitint.core.clean.load_flags`) that lower the confidence of the
        events near frames cleaning changed. Nothing else tells the detector which frames
        the cleaning filled: pass them with a cleaned pose.
    cleaned
        Whether the pose was cleaned by :func:`~napari_gaitint.core.clean.clean_pose`: it
        sets the likelihood cut-off when ``settings.min_likelihood`` is None
        (:func:`~napari_gaitint.core.config.likelihood_cutoff`: 0 cleaned, 0.6 raw). Only
        this argument says so; ``pose.meta`` is not read.

    Returns
    -------
    ViewEvents
        The oriented ``pose`` and its events.
    """
    from .events import detect_events
    from .orient import orient_pose

    oriented = orient_pose(pose, frame_size=frame_size, direction=direction, level=level)
    events = detect_events(_timed(oriented, events_pose), side=side, fps=fps or pose.fps, flags=flags,
                           **_detect_kwargs(settings, cleaned))
    return ViewEvents(oriented, events, side)


def analyze_pair(
    poses: Sequence[Pose],
    *,
    sides: Sequence[str],
    settings: EventConfig | None = None,
    level: bool = True,
    lag_frames: float | None = None,
    events_poses: Sequence[Pose | None] = (None, None),
    flags: Sequence[np.ndarray | None] = (None, None),
    cleaned: bool | Sequence[bool] = False,
) -> tuple[ViewEvents, ViewEvents]:
    """Orient the two views of a trial pair and detect both legs' events together, each
    checked against the other (:func:`~napari_gaitint.core.phase.detect_events_both_legs`).

    Parameters
    ----------
    poses, sides
        The two views (image coordinates) and the leg each shows.
    settings, level, events_poses, flags
        As in :func:`analyze_view`, per view.
    cleaned
        As in :func:`analyze_view`: one for both views, or one per view.
    lag_frames
        Frames the second view lags the first (from the cleaning's alignment); None:
        estimated from the poses.

    Raises
    ------
    AnalysisError
        As :func:`~napari_gaitint.core.events.detect_events`, for either leg.
    """
    from .orient import orient_pose
    from .phase import detect_events_both_legs

    oriented = [orient_pose(p, level=level) for p in poses]
    timed = tuple(_timed(o, e) for o, e in zip(oriented, events_poses, strict=True))
    events = detect_events_both_legs(timed, sides=tuple(sides), lag_frames=lag_frames, flags=tuple(flags),
                                     **_detect_kwargs(settings, cleaned))
    return tuple(ViewEvents(o, ev, s) for o, ev, s in zip(oriented, events, sides, strict=True))
