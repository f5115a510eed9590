"""Gait events: heel strike and toe off of the camera-facing leg.

All detectors work on a pose in *gait coordinates* (x grows with walking progression, y up;
see :func:`napari_gaitint.core.orient.orient_pose`), so walking left-to-right or
right-to-left in the image gives the same signals. Each detector builds one or two 1-D
signals of the foot's horizontal position relative to the body and picks their extrema:

``"zeni"``
    Zeni et al. (2008), *Gait & Posture* 27:710. Heel strike at the forward maximum of
    ``heel x - reference x``, toe off at the backward minimum of ``toe x - reference x``; the
    reference is the pelvis (``"hip"``) by default.
``"seed"`` (alias ``"ankle_neck"``)
    The original project's method: ``ankle x - neck x``; heel strike at its forward
    maximum, toe off at its backward minimum.
``"ankle_hip"``
    As ``"seed"`` with the hip as reference.
``"foot"`` (default)
    Foot kinematics: heel strike where the heel comes to rest, toe off where the toe
    overtakes the body. Zeni's heel maximum is where the decelerating heel passes the body's
    speed; from there the heel keeps decelerating until it rests on the floor, so the event
    is moved later by ``v / a``: ``v`` the speed the heel still has relative to the floor
    (the body's speed relative to the heel in the following stance) and ``a`` its
    deceleration (the curvature of ``heel x - hip x`` at its maximum, a least-squares
    parabola over +/- ``rest_half_width_s``). Both come from positions around the extremum,
    so a zero-phase low-pass filter, keypoint noise or a treadmill (the floor moves) barely
    change them (:func:`extrapolate_to_rest`). Toe off is Zeni's toe minimum: the marked
    toe rolls forward over the forefoot before the foot leaves the floor, so the moment it
    starts to move is early, but it passes the body's speed at toe off. No number in the
    rule was fitted to data; on real walking (``validation/validate_real_events.py``)
    it is the most accurate detector at 25-250 Hz, raw or cleaned.
``"velocity"``
    Zeni's events refined by the foot's own forward velocity relative to the floor: heel
    strike where the heel's decelerating velocity reaches the floor's (the heel comes to
    rest), toe off where the toe's leaves it, by extrapolating a straight line through the
    last samples moving faster than ``rest_fraction`` of the swing speed (or, failing that,
    the interpolated crossing of that level). The floor's velocity is the foot's own median
    velocity in the adjacent stance, so a treadmill or a camera following the subject
    works; every window is in seconds or strides, not frames, so 25-120 Hz behave alike
    (:func:`refine_by_velocity`). Its toe off is early on real feet (the toe marker rolls
    forward before lift-off) and a low-pass filter makes its heel strike late; it falls
    back to Zeni's time where the foot data are missing, no rest is found, or the result is
    implausibly far from Zeni's time.

Every event gets a ``confidence`` (0-1) and, where it is below 1, a short ``why``
(:func:`event_confidence`): frames filled over a gap or flagged by cleaning around it, a
weak extremum, the edge of the data, a broken HS/TO alternation (phase conflict), or a
fallback of the method. :func:`sort_events_by_confidence` lists the doubtful ones first.

Robustness choices (none of them a pixel threshold, so they carry over to real recordings
at other scales and frame rates):

* The stride period is estimated from the signal's own autocorrelation; two events of the
  same kind must be at least ``min_distance_stride`` strides apart.
* An extremum must stand out by ``min_prominence`` of the signal's robust range (5th-95th
  percentile) on both sides and be the extreme value within ``+/- edge_stride`` of a
  stride. Within that distance of the start/end of the data or of a long gap, it must be
  an interior sample that stands out fully on the inner side and falls clearly (a third
  of that) on the outer side; an extremum at the first/last sample, or a noise wobble on a
  slope, is never reported: partial cycles at the edges produce no invented events.
* Points below the DLC likelihood cut-off are missing (raw predictions); where the hip is
  missing the neck stands in for it (plus their median offset, or entirely when one of
  them has no data at all) and vice versa; where the heel (toe) has no data the ankle
  stands in for it (``df.attrs["bodyparts"]`` says what was used); short runs that jump
  away from the relative signal and back (``despike``: wrong-limb labels, which jump to
  the other leg for a few frames) are dropped before the extrema are picked.
* The signal must move by at least ``min_excursion_leg`` leg lengths (hip-ankle distance),
  otherwise the subject is not walking and :class:`~.errors.AnalysisError` says so.
* Gaps of missing data up to ``max_gap_s`` are bridged linearly; longer gaps split the
  signal into independent segments.
* Sub-frame timing: a least-squares parabola over the extreme sample and its neighbours
  (``fit_stride`` of a stride either side; 3 points = classic parabolic interpolation).

The returned ``frame`` is fractional, in the pose's frame numbering
(:attr:`~.io.Pose.frames`), and ``time_s = frame / fps``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .config import DEFAULT_METHOD, LOW_CONFIDENCE, EventConfig, likelihood_cutoff  # noqa: F401 (re-exported)
from .config import EVENT_METHODS as METHODS
from .errors import AnalysisError, GaitintWarning
from .event_signals import (
    _FOOT_FALLBACK,
    _SUBSTITUTE_REFERENCE,
    _n_valid,
    _robust_range,
    _with_data,
    bridge_gaps,
    estimate_period_frames,
    extrapolate_to_rest,
    mask_low_likelihood,
    pick_extrema,
    reference_x,
    refine_by_velocity,
    relative_x,
    remove_spikes,
)
from .orient import detect_walking_direction_from_feet
from .pose import Pose, leg_length_px

#: The default settings (every default of :func:`detect_events` is read from here).
_SETTINGS = EventConfig()

#: Event names in the events table.
HEEL_STRIKE = "heel_strike"


TOE_OFF = "toe_off"


EVENT_COLUMNS = ("side", "event", "frame", "time_s", "confidence", "why")


SIDES = ("left", "right")


def detect_events(
    pose: Pose,
    *,
    side: str,
    fps: float | None = None,
    method: str = _SETTINGS.method,
    reference: str | None = _SETTINGS.reference,
    max_gap_s: float = _SETTINGS.max_gap_s,
    max_reference_gap_s: float = _SETTINGS.max_reference_gap_s,
    min_prominence: float = _SETTINGS.min_prominence,
    min_distance_stride: float = _SETTINGS.min_distance_stride,
    edge_stride: float = _SETTINGS.edge_stride,
    fit_stride: float = _SETTINGS.fit_stride,
    min_excursion_leg: float = _SETTINGS.min_excursion_leg,
    stride_s: float | None = _SETTINGS.stride_s,
    stride_range_s: tuple[float, float] = _SETTINGS.stride_range_s,
    rest_fraction: float = _SETTINGS.rest_fraction,
    min_likelihood: float | None = _SETTINGS.min_likelihood,
    despike: float | None = _SETTINGS.despike,
    max_spike_s: float = _SETTINGS.max_spike_s,
    rest_half_width_s: float = _SETTINGS.rest_half_width_s,
    flags: np.ndarray | None = None,
) -> pd.DataFrame:
    """Detect heel strikes and toe offs of the camera-facing leg.

    Parameters
    ----------
    pose
        Keypoints in gait coordinates (x forward, y up), with the body parts the method needs
        (``heel``, ``toe``, ``ankle`` and the reference).
    side
        ``"left"`` or ``"right"``: the leg the pose shows (written to the ``side`` column).
    fps
        Frame rate in Hz; defaults to ``pose.fps``.
    method
        One of :data:`METHODS` (default :data:`DEFAULT_METHOD`).
    reference
        Body reference, ``"hip"`` or ``"neck"`` (any body part works); by default the
        method's own (hip for ``"zeni"``, neck for ``"seed"``).
    max_gap_s
        Gaps of missing data up to this long (s) are bridged by linear interpolation; longer
        ones split the recording.
    max_reference_gap_s
        Gaps of the body reference (after the other reference stood in) up to this long (s)
        are bridged first: the body moves smoothly, unlike the foot.
    min_prominence
        Minimum prominence of an extremum as a fraction of the signal's robust range.
    min_distance_stride
        Minimum spacing of two events of the same kind, in strides.
    edge_stride
        Half-width of the window (in strides, at least 2 frames) in which an extremum must be
        the extreme value; the window must lie inside recorded data.
    fit_stride
        Half-width (in strides) of the window of the least-squares parabola that times an
        extremum below a frame (at least 1 frame: the classic 3-point interpolation).
    min_excursion_leg
        Minimum robust range of the signal in leg lengths (hip-ankle) to call it walking.
    stride_s
        Stride period if known (s); estimated from the autocorrelation when None.
    stride_range_s
        Plausible stride periods (s) searched by the autocorrelation.
    min_likelihood
        Points with a lower DLC likelihood are treated as missing. None (default):
        :data:`~napari_gaitint.core.config.LIKELIHOOD_THRESHOLD` (0.6, DLC's usual
        p-cutoff), the cut-off of raw predictions, whatever the pose's ``meta`` says. For a
        pose cleaned by :func:`~napari_gaitint.core.clean.clean_pose` pass
        ``likelihood_cutoff(cleaned=True)`` (0; :func:`~napari_gaitint.core.config.likelihood_cutoff`):
        the cleaning already judged every point and keeps the raw likelihood column, so a
        second cut would undo its gap filling (``analyze_view(..., cleaned=True)`` does it).
    despike
        Runs of samples of a relative signal that jump away by more than this fraction of
        its robust range and back within ``max_spike_s`` (at least 3 samples) are treated
        as missing: isolated wrong-limb labels (DLC taking the other leg's point for a few
        frames; :func:`remove_spikes`). None disables.
    rest_fraction
        ``"velocity"`` method: a foot point moving slower than this fraction of its peak
        (95th percentile) forward speed counts as at rest.
    rest_half_width_s
        ``"foot"`` method: half-width (s) of the parabola that measures the heel's
        deceleration where it passes the body (:func:`extrapolate_to_rest`).
    flags
        Optional ``(n_frames, n_bodyparts)`` bit flags of :func:`~napari_gaitint.core.clean.clean_pose`
        (``CleanResult.flags``; a cleaned file's ``<name>_flags.csv``,
        :func:`~napari_gaitint.core.clean.load_flags`); frames it removed, repaired or
        filled around an event lower that event's confidence. Without them only the gaps,
        spikes, extrema and phase of the signals set the confidence.

    Returns
    -------
    pandas.DataFrame
        Columns ``side, event, frame, time_s, confidence, why``, sorted by frame; ``event``
        is ``"heel_strike"`` or ``"toe_off"``, ``frame`` fractional, ``confidence`` in 0-1
        and ``why`` a short reason where it is below 1 (:func:`event_confidence`), else
        ``""``. ``df.attrs`` holds the method, reference and estimated stride period
        (``stride_frames``).

    Raises
    ------
    AnalysisError
        If no event can be found (all missing, too short, subject not walking, not oriented).

    Examples
    --------
    >>> from napari_gaitint.core.orient import orient_pose
    >>> events = detect_events(orient_pose(pose), side="left", fps=25)  # doctest: +SKIP
    >>> events.head(2)  # doctest: +SKIP
       side        event  frame  time_s  confidence why
    0  left  heel_strike  12.31  0.4924         1.0
    1  left      toe_off  29.87  1.1948         1.0
    """
    if side not in SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if method not in METHODS:
        raise ValueError(f"unknown event method {method!r}; choose from {sorted(METHODS)}")
    spec = METHODS[method]
    reference = reference or spec.default_reference
    fps = float(fps) if fps else pose.fps
    where = f"{pose.source}: " if pose.source is not None else ""
    if not fps or fps <= 0:
        raise AnalysisError(f"{where}the frame rate is unknown; give fps (e.g. --fps 25)")

    min_likelihood = likelihood_cutoff(min_likelihood, cleaned=False)
    filled = _unmeasured_frames(pose, flags)
    pose = mask_low_likelihood(pose, min_likelihood)
    # Stand-ins for a body part without data (after the likelihood cut-off): the other body
    # reference, and the ankle for the heel or toe (then the remaining foot point).
    ref_used = reference
    if _n_valid(pose, reference) < 5 and _n_valid(pose, _SUBSTITUTE_REFERENCE.get(reference)) >= 5:
        ref_used = _SUBSTITUTE_REFERENCE[reference]
    hs_bp = _with_data(pose, spec.hs_bodypart, _FOOT_FALLBACK.get(spec.hs_bodypart, ()))
    to_bp = _with_data(pose, spec.to_bodypart, _FOOT_FALLBACK.get(spec.to_bodypart, ()))
    ref_gap = max(0, int(round(max_reference_gap_s * fps)))
    hs_signal = relative_x(pose, hs_bp, ref_used, max_reference_gap_frames=ref_gap)
    to_signal = hs_signal if to_bp == hs_bp else relative_x(
        pose, to_bp, ref_used, max_reference_gap_frames=ref_gap)
    leg = leg_length_px(pose)
    _check_progression(pose, ref_used, leg, where, fps=fps, foot=hs_bp)
    max_gap = max(0, int(round(max_gap_s * fps)))

    hs_bridged, hs_segments = bridge_gaps(hs_signal, max_gap_frames=max_gap)
    to_bridged, to_segments = bridge_gaps(to_signal, max_gap_frames=max_gap)
    what = f"{hs_bp} x - {ref_used} x"
    n_valid = int(np.isfinite(hs_signal).sum())
    if n_valid < 5:
        counts = ", ".join(f"{bp} {_n_valid(pose, bp)}" for bp in dict.fromkeys(
            (spec.hs_bodypart, hs_bp, reference, ref_used)) if bp in pose.bodyparts)
        raise AnalysisError(
            f"{where}no gait event found: only {n_valid} frame(s) have both {hs_bp} "
            f"and {ref_used} (frames with data and likelihood >= {min_likelihood:g}: {counts}); "
            "check the body-part names and the likelihood cut-off"
        )
    robust_range = _robust_range(hs_bridged)
    if leg is not None and robust_range < min_excursion_leg * leg:
        raise AnalysisError(
            f"{where}no gait event found: {what} varies by only {robust_range:.1f} px "
            f"({robust_range / leg:.2f} leg lengths); is the subject walking?"
        )

    if stride_s is not None:
        stride_frames = float(stride_s) * fps
    else:
        lo, hi = stride_range_s
        stride_frames = estimate_period_frames(
            hs_bridged, min_frames=lo * fps, max_frames=hi * fps
        )
        _check_stride_range(hs_bridged, stride_frames, fps=fps, stride_range_s=stride_range_s,
                            where=where)
        if stride_frames is None:
            # Too short for an autocorrelation: fall back to the shortest plausible stride so
            # no real event is suppressed by the spacing rule.
            stride_frames = lo * fps
    distance = max(1, int(np.floor(min_distance_stride * stride_frames)))
    half_window = max(2, int(round(edge_stride * stride_frames)))
    fit_half_width = max(1, int(round(fit_stride * stride_frames)))
    hs_spikes = to_spikes = np.zeros(pose.n_frames, dtype=bool)
    if despike:
        spike_run = max(3, int(round(max_spike_s * fps)))
        hs_clean = remove_spikes(hs_signal, max_run=spike_run, threshold=despike * robust_range)
        to_clean = remove_spikes(to_signal, max_run=spike_run,
                                 threshold=despike * _robust_range(to_bridged))
        hs_spikes = np.isfinite(hs_signal) & ~np.isfinite(hs_clean)
        to_spikes = np.isfinite(to_signal) & ~np.isfinite(to_clean)
        hs_bridged, hs_segments = bridge_gaps(hs_clean, max_gap_frames=max_gap)
        to_bridged, to_segments = bridge_gaps(to_clean, max_gap_frames=max_gap)

    to_range = _robust_range(to_bridged)
    hs, hs_info = pick_extrema(
        hs_bridged, hs_segments, kind="max", distance=distance, half_window=half_window,
        min_prominence=min_prominence * robust_range, fit_half_width=fit_half_width, details=True,
    )
    to, to_info = pick_extrema(
        to_bridged, to_segments, kind="min", distance=distance, half_window=half_window,
        min_prominence=min_prominence * to_range, fit_half_width=fit_half_width, details=True,
    )
    hs_fallback = np.zeros(hs.size, dtype=bool)
    to_fallback = np.zeros(to.size, dtype=bool)
    if method == "velocity":
        # The foot's own track, without the samples found to be wrong-limb spikes above.
        heel_x = pose.bodypart(hs_bp)[:, 0].copy()
        toe_x = pose.bodypart(to_bp)[:, 0].copy()
        heel_x[hs_spikes] = np.nan
        toe_x[to_spikes] = np.nan
        heel_x, _ = bridge_gaps(heel_x, max_gap_frames=max_gap)
        toe_x, _ = bridge_gaps(toe_x, max_gap_frames=max_gap)
        # Velocity over +/-40 ms and a line through ~0.12 s of samples, whatever the fps.
        vel = {"stride_frames": stride_frames, "rest_fraction": rest_fraction,
               "half_step": max(1, int(round(0.04 * fps))), "n_fit": max(3, int(round(0.12 * fps))),
               "max_extrapolate": max(2.0, 0.06 * fps)}
        # Only the heel stops at heel strike and only the toe leaves the floor at toe off
        # (the ankle rests until heel-off, well before toe off): a stand-in body part keeps
        # the coordinate time, except the ankle at heel strike (it stops with the heel).
        # The candidates keep their order (a shift is far below the spacing of events).
        if hs_bp in ("heel", "ankle"):
            refined = refine_by_velocity(heel_x, hs, kind="stop", **vel)
            hs_fallback, hs = refined == hs, refined
        if to_bp == "toe":
            refined = refine_by_velocity(toe_x, to, kind="start", **vel)
            to_fallback, to = refined == to, refined
    elif method == "foot":
        if hs_bp in ("heel", "ankle"):  # both come to rest at heel strike
            hs, ok = extrapolate_to_rest(hs_bridged, hs, fps=fps, stride_frames=stride_frames,
                                         half_width_s=rest_half_width_s)
            hs_fallback = ~ok
        else:  # the toe stands in: Zeni's time on it
            hs_fallback[:] = True
    if hs.size == 0 and to.size == 0:
        raise AnalysisError(
            f"{where}no heel strike or toe off found in {pose.n_frames} frames "
            f"({pose.n_frames / fps:.1f} s; {n_valid} with data): the recording may be shorter "
            "than a step or the foot never passes the body"
        )
    # What each event's timing rests on: the samples of its signal that were measured (not
    # missing, bridged, despiked, or filled / repaired by cleaning) around it.
    measured = {}
    for kind, signal, bp in ((HEEL_STRIKE, hs_signal, hs_bp), (TOE_OFF, to_signal, to_bp)):
        ok = np.isfinite(signal)
        if despike:
            ok &= ~(hs_spikes if kind == HEEL_STRIKE else to_spikes)
        unflagged = ~filled.get(bp, np.zeros(pose.n_frames, dtype=bool))
        measured[kind] = (ok, unflagged)
    info = {key: np.concatenate([hs_info[key], to_info[key]]) for key in hs_info}
    info["fallback"] = np.concatenate([hs_fallback, to_fallback])
    kinds = np.array([HEEL_STRIKE] * hs.size + [TOE_OFF] * to.size, dtype=object)
    positions = np.concatenate([hs, to])
    conf_kw = {"measured": measured, "stride_frames": stride_frames, "window_frames": half_window}
    confidence, why = event_confidence(positions=positions, kinds=kinds, info=info, **conf_kw)
    # An event at the edge of the data (a partial window) that breaks the gait's phase
    # structure is an artefact of the edge, not an event: left out.
    drop = info["edge"] & np.array(["phase conflict" in w for w in why], dtype=bool)
    if drop.any():
        keep = ~drop
        positions, kinds = positions[keep], kinds[keep]
        info = {key: val[keep] for key, val in info.items()}
        confidence, why = event_confidence(positions=positions, kinds=kinds, info=info, **conf_kw)
        events_dropped = int(drop.sum())
        if not keep.any():
            raise AnalysisError(
                f"{where}no heel strike or toe off found in {pose.n_frames} frames "
                f"({pose.n_frames / fps:.1f} s; {n_valid} with data): the only candidates lie at "
                "the edges of the data and contradict each other's timing (partial steps)"
            )
    else:
        events_dropped = 0
    is_hs = kinds == HEEL_STRIKE
    events = _events_table(pose, side, fps, positions[is_hs], positions[~is_hs],
                           np.concatenate([confidence[is_hs], confidence[~is_hs]]),
                           np.concatenate([why[is_hs], why[~is_hs]]))
    events.attrs.update(
        method=method, reference=ref_used, stride_frames=float(stride_frames), fps=fps,
        bodyparts={HEEL_STRIKE: hs_bp, TOE_OFF: to_bp}, edge_events_dropped=events_dropped,
    )
    notes = [f"{a} has no data: {b} used instead" for a, b in (
        (reference, ref_used), (spec.hs_bodypart, hs_bp), (spec.to_bodypart, to_bp)) if a != b]
    if notes:
        events.attrs["notes"] = list(dict.fromkeys(notes))
    return events


def _check_stride_range(signal: np.ndarray, stride_frames: float | None, *, fps: float,
                        stride_range_s: tuple[float, float], where: str) -> None:
    """Warn when the foot's motion clearly repeats at a period outside the plausible strides
    (at the given frame rate): the usual cause is a wrong frame rate (``--fps``)."""
    lo, hi = stride_range_s
    wide = estimate_period_frames(signal, min_frames=0.25 * lo * fps, max_frames=4 * hi * fps)
    if wide is None or lo * fps <= wide <= hi * fps:
        return
    if stride_frames is not None and abs(wide - stride_frames) <= 0.1 * wide:
        return
    warnings.warn(
        f"{where}the foot's motion repeats every {wide:.0f} frames, {wide / fps:.2f} s at "
        f"{fps:g} frames/s: outside the {lo:g}-{hi:g} s of a walking stride. Is the frame "
        "rate right (fps, --fps)?", GaitintWarning, stacklevel=3,
    )


def _check_progression(pose: Pose, reference: str, leg: float | None, where: str,
                       fps: float | None = None, foot: str = "heel") -> None:
    """Refuse a pose that clearly walks toward -x (image coordinates of a right-to-left walk).

    When the body does not travel (a treadmill, or a camera following the subject) the
    foot's motion relative to the body decides (:func:`detect_walking_direction_from_feet`).
    """
    x = reference_x(pose, reference)
    valid = np.flatnonzero(np.isfinite(x))
    if valid.size < 6 or leg is None:
        return
    third = valid.size // 3
    travel = np.median(x[valid[-third:]]) - np.median(x[valid[:third]])
    if travel < -0.5 * leg:
        raise AnalysisError(
            f"{where}the {reference} moves toward -x ({travel:.0f} px): the pose is not in gait "
            "coordinates; orient it first (napari_gaitint.core.orient.orient_pose)"
        )
    if travel < 0.5 * leg:
        try:
            direction = detect_walking_direction_from_feet(pose, reference=reference, fps=fps,
                                                           foot=foot)
        except AnalysisError:
            return
        if direction < 0:
            raise AnalysisError(
                f"{where}the {foot} moves slowly toward +x and quickly toward -x relative to the "
                f"{reference} (stance and swing of a walk toward -x): the pose is not in gait "
                "coordinates; orient it with the walking direction (orient_pose(..., "
                "direction=detect_walking_direction_from_feet(pose)))"
            )


def _events_table(pose: Pose, side: str, fps: float, hs: np.ndarray, to: np.ndarray,
                  confidence: np.ndarray, why: np.ndarray) -> pd.DataFrame:
    """The events table; ``confidence`` and ``why`` in the order of ``[hs, to]``."""
    positions = np.concatenate([hs, to])
    names = np.array([HEEL_STRIKE] * hs.size + [TOE_OFF] * to.size, dtype=object)
    frames_idx = pose.frames.astype(float)
    frame = np.interp(positions, np.arange(pose.n_frames), frames_idx) if positions.size else positions
    frame = np.asarray(frame, dtype=float)
    order = np.lexsort((names.astype(str), frame))  # by frame, then event name (stable)
    return pd.DataFrame(
        {"side": side, "event": names[order], "frame": frame[order], "time_s": frame[order] / fps,
         "confidence": np.round(np.asarray(confidence, dtype=float)[order], 2),
         "why": np.asarray(why, dtype=object)[order]},
        columns=list(EVENT_COLUMNS),
    )


def _unmeasured_frames(pose: Pose, flags: np.ndarray | None) -> dict[str, np.ndarray]:
    """Per body part, the frames whose point was not measured as it stands: flagged by
    cleaning (removed, repaired or filled; not merely low-pass filtered or set by hand).
    Empty without ``flags``."""
    if flags is None:
        return {}
    from .clean_flags import FLAG_FILTERED, FLAG_MANUAL

    f = np.asarray(flags)
    if f.shape != (pose.n_frames, len(pose.bodyparts)):
        raise ValueError(f"flags must have shape {(pose.n_frames, len(pose.bodyparts))}, "
                         f"got {f.shape}")
    bad = (f & ~(FLAG_FILTERED | FLAG_MANUAL)) != 0
    return {bp: bad[:, j] for j, bp in enumerate(pose.bodyparts)}


def event_confidence(
    *,
    positions: np.ndarray,
    kinds: np.ndarray,
    info: dict[str, np.ndarray],
    measured: dict[str, tuple[np.ndarray, np.ndarray]],
    stride_frames: float,
    window_frames: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence (0-1) of each detected event and a short reason where it is below 1.

    The confidence is the product of these factors (1 when nothing is wrong):

    ``gap``
        ``1 -`` the share of the +/- ``window_frames`` samples around the event where the
        event's signal was missing (bridged) or a wrong-limb spike;
    ``flagged frames``
        likewise for samples cleaning removed, repaired or filled (``measured[kind][1]``
        False);
    ``weak extremum``
        0.5-1 as the extremum stands out by 1-2 times the minimum prominence
        (``info["strength"]``);
    ``edge of the data``
        0.6 within the edge window of the start/end of the data or of a long gap (a
        partial window, ``info["edge"]``);
    ``fallback``
        0.6 where the method's own timing failed and a fallback was used
        (``info["fallback"]``);
    ``phase conflict``
        0.5 where heel strikes and toe offs do not alternate (two of a kind in a row), a
        stance or swing next to it is not 0.25-0.8 stride long, or the two same-kind events
        around it are not 0.65-1.35 strides apart.

    Parameters
    ----------
    positions, kinds
        Event positions (fractional samples) and names, one per event, any order.
    info
        ``strength``, ``edge`` and ``fallback`` arrays in the order of ``positions``.
    measured
        Per event name: (samples of its signal that were present and not spikes, samples
        that cleaning left as measured), boolean arrays over the frames.
    stride_frames
        Stride period (frames).
    window_frames
        Half-width of the window whose samples time an event.

    Returns
    -------
    confidence, why
        Float array in 0-1 and object array of ``"; "``-joined reasons (``""`` at 1).
    """
    pos = np.asarray(positions, dtype=float)
    kinds = np.asarray(kinds, dtype=object)
    conf = np.ones(pos.size)
    reasons: list[list[str]] = [[] for _ in range(pos.size)]
    for i, (p, kind) in enumerate(zip(pos, kinds, strict=True)):
        present, unflagged = measured[kind]
        n = present.size
        j = int(round(p))
        win = slice(max(0, j - window_frames), min(n, j + window_frames + 1))
        n_win = max(1, win.stop - win.start)
        missing = int(np.count_nonzero(~present[win]))
        flagged = int(np.count_nonzero(present[win] & ~unflagged[win]))
        if missing:
            conf[i] *= 1.0 - missing / n_win
            reasons[i].append(f"gap ({missing} of {n_win} frames)")
        if flagged:
            conf[i] *= 1.0 - flagged / n_win
            reasons[i].append(f"flagged frames ({flagged} of {n_win})")
        strength = float(info["strength"][i])
        if strength < 2.0:
            conf[i] *= float(np.clip(0.5 + 0.5 * (strength - 1.0), 0.5, 1.0))
            reasons[i].append("weak extremum")
        if info["edge"][i]:
            conf[i] *= 0.6
            reasons[i].append("edge of the data")
        if info["fallback"][i]:
            conf[i] *= 0.6
            reasons[i].append("fallback")
    conflict = phase_conflicts(pos, kinds, stride_frames)
    for i in np.flatnonzero(conflict):
        conf[i] *= 0.5
        reasons[i].append("phase conflict")
    why = np.array(["; ".join(r) for r in reasons], dtype=object)
    return np.clip(conf, 0.0, 1.0), why


def phase_conflicts(positions: np.ndarray, kinds: np.ndarray, stride_frames: float | None) -> np.ndarray:
    """Which events of one leg break the gait's phase structure (``phase conflict``).

    Heel strikes and toe offs alternate (two of a kind in a row conflict), stance (HS -> TO)
    and swing (TO -> HS) each last 0.25-0.8 stride (walking ~0.6 / 0.4, running ~0.35 /
    0.65), and two events of a kind are 0.65-1.35 strides apart; both events of a pair that
    breaks a rule conflict. ``positions`` (frames) and ``kinds`` in any order.

    Examples
    --------
    >>> phase_conflicts(np.array([0.0, 60, 100, 160, 180]),
    ...                 np.array(["heel_strike", "toe_off", "heel_strike", "toe_off", "toe_off"]), 100.0)
    array([False, False, False,  True,  True])
    """
    pos = np.asarray(positions, dtype=float)
    kinds = np.asarray(kinds, dtype=object)
    order = np.argsort(pos, kind="stable")
    k_sorted = kinds[order]
    conflict = np.zeros(pos.size, dtype=bool)
    same = k_sorted[1:] == k_sorted[:-1]
    conflict[order[1:][same]] = True
    conflict[order[:-1][same]] = True
    if stride_frames:
        phase = np.diff(pos[order]) / stride_frames
        off = ~same & ((phase < 0.25) | (phase > 0.8))
        conflict[order[1:][off]] = True
        conflict[order[:-1][off]] = True
        for kind in (HEEL_STRIKE, TOE_OFF):
            idx = order[k_sorted == kind]
            if idx.size < 2:
                continue
            ratio = np.diff(pos[idx]) / stride_frames
            off = (ratio < 0.65) | (ratio > 1.35)
            conflict[idx[1:][off]] = True
            conflict[idx[:-1][off]] = True
    return conflict


def sort_events_by_confidence(events: pd.DataFrame, *, below: float | None = None) -> pd.DataFrame:
    """Events ordered from the least to the most confident (for review), optionally only
    those with ``confidence`` below ``below`` (e.g. :data:`LOW_CONFIDENCE`).

    Rows without a confidence (older tables, events set by hand) come last; ties keep the
    table's order. A table without a ``confidence`` column is returned unchanged (filtered
    to nothing when ``below`` is given).

    Examples
    --------
    >>> ev = pd.DataFrame({"frame": [3.0, 9.0, 15.0], "confidence": [1.0, 0.3, None]})
    >>> sort_events_by_confidence(ev)["frame"].tolist()
    [9.0, 3.0, 15.0]
    >>> sort_events_by_confidence(ev, below=LOW_CONFIDENCE)["frame"].tolist()
    [9.0]
    """
    if "confidence" not in events.columns:
        return events.iloc[:0] if below is not None else events
    conf = pd.to_numeric(events["confidence"], errors="coerce")
    out = events.iloc[np.argsort(conf.fillna(np.inf).to_numpy(), kind="stable")]
    if below is not None:
        out = out[pd.to_numeric(out["confidence"], errors="coerce") < below]
    return out


def match_events(
    detected: pd.DataFrame, truth: pd.DataFrame, *, tolerance_frames: float = 3.0
) -> pd.DataFrame:
    """Pair detected with true events of the same side and kind (nearest first, one-to-one).

    Returns one row per true and per unmatched detected event: ``side, event, true_frame,
    frame, error_frames`` (detected minus true; NaN for a miss or a spurious detection).
    Used by the tests and ``validation/validate_events.py``.
    """
    rows = []
    keys = set(zip(truth["side"], truth["event"], strict=True)) | set(
        zip(detected["side"], detected["event"], strict=True)
    )
    for side, event in sorted(keys):
        t = np.sort(truth.loc[(truth["side"] == side) & (truth["event"] == event), "frame"].to_numpy(float))
        d = np.sort(detected.loc[(detected["side"] == side) & (detected["event"] == event), "frame"].to_numpy(float))
        pairs = sorted(
            ((abs(di - ti), i, j) for i, ti in enumerate(t) for j, di in enumerate(d) if abs(di - ti) <= tolerance_frames)
        )
        used_t, used_d = {}, set()
        for _, i, j in pairs:
            if i in used_t or j in used_d:
                continue
            used_t[i] = j
            used_d.add(j)
        for i, ti in enumerate(t):
            j = used_t.get(i)
            di = d[j] if j is not None else np.nan
            rows.append((side, event, ti, di, di - ti))
        for j, dj in enumerate(d):
            if j not in used_d:
                rows.append((side, event, np.nan, dj, np.nan))
    return pd.DataFrame(rows, columns=["side", "event", "true_frame", "frame", "error_frames"])
