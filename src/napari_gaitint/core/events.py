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
from scipy.ndimage import maximum_filter1d
from scipy.signal import find_peaks

from .errors import AnalysisError, GaitintWarning
from .event_methods import DEFAULT_METHOD, LOW_CONFIDENCE, METHODS  # noqa: F401 (re-exported)
from .io import Pose, leg_length_px

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
    method: str = DEFAULT_METHOD,
    reference: str | None = None,
    max_gap_s: float = 0.2,
    max_reference_gap_s: float = 0.5,
    min_prominence: float = 0.3,
    min_distance_stride: float = 0.55,
    edge_stride: float = 0.12,
    fit_stride: float = 0.08,
    min_excursion_leg: float = 0.15,
    stride_s: float | None = None,
    stride_range_s: tuple[float, float] = (0.5, 3.0),
    rest_fraction: float = 0.1,
    min_likelihood: float | None = None,
    despike: float | None = 0.3,
    max_spike_s: float = 0.12,
    rest_half_width_s: float = 0.08,
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
        Points with a lower DLC likelihood are treated as missing. None: 0.6 (DLC's usual
        p-cutoff) for raw predictions, 0 for a pose cleaned by
        :func:`~napari_gaitint.core.clean.clean_pose` (it already judged every point and
        keeps the raw likelihood column, so the cut would undo its gap filling).
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
        (``CleanResult.flags``); frames it removed, repaired or filled around an event lower
        that event's confidence. Without them a cleaned pose's raw likelihood column tells
        which frames were filled.

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

    if min_likelihood is None:
        min_likelihood = 0.0 if "cleaning" in pose.meta else 0.6
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


# ---------------------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------------------
#: Body references that stand in for each other where one is missing (e.g. the hand
#: passing over the hip marker): their horizontal offset is nearly constant while walking.
_SUBSTITUTE_REFERENCE = {"hip": "neck", "neck": "hip"}


#: Foot points that stand in for the event body part when it has no data at all.
_FOOT_FALLBACK = {"heel": ("ankle", "toe"), "toe": ("ankle", "heel"), "ankle": ("heel", "toe")}


def _n_valid(pose: Pose, bodypart: str | None) -> int:
    if bodypart is None or bodypart not in pose.bodyparts:
        return 0
    return int(np.isfinite(pose.bodypart(bodypart)[:, 0]).sum())


def _with_data(pose: Pose, bodypart: str, fallbacks: tuple[str, ...], min_frames: int = 5) -> str:
    """``bodypart`` if it has data in at least ``min_frames`` frames, else the first fallback that does."""
    if _n_valid(pose, bodypart) >= min_frames:
        return bodypart
    for alt in fallbacks:
        if _n_valid(pose, alt) >= min_frames:
            return alt
    return bodypart


def reference_x(pose: Pose, reference: str, *, max_gap_frames: int = 0) -> np.ndarray:
    """Forward position (px) of the body reference, gaps filled from the other reference.

    Where ``reference`` (hip or neck) is missing and the other one is present, the other
    one plus their median offset is used. When ``reference`` has (almost) no data at all,
    the other one is used as it is (the offset is unknown; a constant offset does not move
    any event). Remaining gaps up to ``max_gap_frames`` are bridged linearly: the body
    moves forward smoothly (an arm hiding the hip marker for a few tenths of a second).
    """
    x = pose.bodypart(reference)[:, 0].copy()
    other = _SUBSTITUTE_REFERENCE.get(reference)
    if other in pose.bodyparts:
        ox = pose.bodypart(other)[:, 0]
        both = np.isfinite(x) & np.isfinite(ox)
        fill = ~np.isfinite(x) & np.isfinite(ox)
        if both.sum() >= 5 and fill.any():
            x[fill] = ox[fill] + np.median(x[both] - ox[both])
        elif np.isfinite(x).sum() < 5 and np.isfinite(ox).sum() >= 5:
            x = ox.copy()
    if max_gap_frames > 0:
        x, _ = bridge_gaps(x, max_gap_frames=max_gap_frames)
    return x


def relative_x(pose: Pose, bodypart: str, reference: str, *, max_reference_gap_frames: int = 0
               ) -> np.ndarray:
    """``x`` of ``bodypart`` minus the reference's x (:func:`reference_x`) per frame (px).

    NaN where the body part or both references are missing (reference gaps up to
    ``max_reference_gap_frames`` are bridged).
    """
    return pose.bodypart(bodypart)[:, 0] - reference_x(
        pose, reference, max_gap_frames=max_reference_gap_frames)


def mask_low_likelihood(pose: Pose, min_likelihood: float) -> Pose:
    """A copy of ``pose`` with x, y of points below ``min_likelihood`` set to NaN."""
    if not min_likelihood or not pose.has_likelihood:
        return pose
    out = pose.replace()
    lk = out.likelihood
    low = np.isfinite(lk) & (lk < min_likelihood)
    out.values[low, :2] = np.nan
    return out


def remove_spikes(
    signal: np.ndarray, *, max_run: int = 3, threshold: float, half_width: int | None = None
) -> np.ndarray:
    """Set short runs of samples that leave the track by more than ``threshold`` to NaN.

    A wrong-limb label (DLC taking the other leg's point) is a run of a few samples away
    from the track: every sample of a run of 1 to ``max_run`` samples is farther than
    ``threshold`` from the straight line joining the samples on either side of it. Smooth
    motion, however steep or sharp its extrema, is left alone (a running median would clip
    a sharp peak next to a spike), and a spike is found even when the foot moves fast
    toward it. Missing samples are skipped over; a run touching the first or last sample
    is judged against the line through the two samples next to it, with 1.5 x
    ``threshold``. ``half_width`` is accepted for backward compatibility (``max_run``).

    Examples
    --------
    >>> s = np.array([0.0, 1, 2, 3, 90, 5, 6, 7, 8])
    >>> remove_spikes(s, max_run=2, threshold=10)
    array([ 0.,  1.,  2.,  3., nan,  5.,  6.,  7.,  8.])
    """
    if half_width is not None:
        max_run = half_width
    out = np.asarray(signal, dtype=float).copy()
    idx = np.flatnonzero(np.isfinite(out))
    if idx.size < 3 or not np.isfinite(threshold):
        return out
    keep = np.arange(idx.size)  # positions (in idx) of the samples still trusted
    for _ in range(6):  # each pass takes the clearest spike of every neighbourhood
        y = out[idx[keep]]
        t = idx[keep].astype(float)  # sample times: lines respect gaps and removed samples
        n = y.size
        score = np.zeros(n)
        best_len = np.zeros(n, dtype=int)
        for length in range(1, int(max_run) + 1):
            m = n - length - 1  # runs y[i : i + length] with i = 1 .. m
            if m < 1:
                break
            before, after = y[0:m], y[length + 1 : length + 1 + m]
            t0, span = t[0:m], t[length + 1 : length + 1 + m] - t[0:m]
            dev = np.full(m, np.inf)
            for k in range(length):
                line = before + (t[1 + k : 1 + k + m] - t0) / span * (after - before)
                dev = np.minimum(dev, np.abs(y[1 + k : 1 + k + m] - line))
            better = dev > score[1 : 1 + m]
            score[1 : 1 + m][better] = dev[better]
            best_len[1 : 1 + m][better] = length
        score[score <= threshold] = 0.0
        bad = np.zeros(n, dtype=bool)
        # runs touching the first / last sample: against the straight line through the two
        # samples beyond them (which must themselves continue the track smoothly), with half
        # the threshold again for the extrapolation
        for length in range(1, int(max_run) + 1):
            if n < length + 4:
                break
            for run, (p0, p1, p2) in (
                (slice(n - length, n), (n - length - 3, n - length - 2, n - length - 1)),
                (slice(0, length), (length + 2, length + 1, length)),
            ):
                base = (y[p1] - y[p0]) / (t[p1] - t[p0])
                if abs(y[p2] - (y[p1] + base * (t[p2] - t[p1]))) > threshold:
                    continue
                slope = (y[p2] - y[p1]) / (t[p2] - t[p1])
                if np.all(np.abs(y[run] - (y[p2] + slope * (t[run] - t[p2]))) > 1.5 * threshold):
                    bad[run] = True
        # a bracketing sample that is itself a spike makes its neighbours look off the line
        # too, but less so: only the largest deviation within reach is a spike, and none
        # next to a spike found at the ends
        reach = 2 * int(max_run) + 1
        peak = (score > 0) & (score >= maximum_filter1d(score, size=2 * reach + 1, mode="constant"))
        for i in np.flatnonzero(peak):
            if not (bad[i - 1] or bad[min(i + best_len[i], n - 1)]):
                bad[i : i + best_len[i]] = True
        if not bad.any():
            break
        out[idx[keep[bad]]] = np.nan
        keep = keep[~bad]
        if keep.size < 3:
            break
    return out


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


def detect_walking_direction_from_feet(
    pose: Pose, *, reference: str = "hip", foot: str = "heel", fps: float | None = None,
    min_likelihood: float = 0.6, min_margin: float = 0.04,
) -> int:
    """Walking direction (+1 toward +x, -1 toward -x) from the foot's motion relative to the body.

    Works where the body does not travel across the image (a treadmill, a camera following
    the subject), so :func:`~napari_gaitint.core.orient.detect_walking_direction` cannot
    tell. In walking the foot is on the floor for more than half of each stride (stance,
    ~55-70 %), moving backward relative to the body, and swings forward quickly for the
    rest: the relative position ``foot x - reference x`` decreases in most frames when the
    walk goes toward +x. Velocities are taken over +/- 40 ms to average out keypoint noise.
    Image coordinates (or any frame whose y direction does not matter) are fine.

    Raises
    ------
    AnalysisError
        When fewer than 20 frames have data or the share of decreasing frames is within
        ``min_margin`` of one half (not walking, or running).

    Examples
    --------
    >>> from napari_gaitint.core.orient import orient_pose
    >>> direction = detect_walking_direction_from_feet(pose)  # doctest: +SKIP
    >>> gait = orient_pose(pose, direction=direction)  # doctest: +SKIP
    """
    pose = mask_low_likelihood(pose, min_likelihood)
    bp = _with_data(pose, foot, _FOOT_FALLBACK.get(foot, ()))
    rel = relative_x(pose, bp, reference)
    fps = fps or pose.fps or 25.0
    k = max(1, int(round(0.04 * fps)))
    v = rel[2 * k :] - rel[: -2 * k] if rel.size > 2 * k else np.zeros(0)
    v = v[np.isfinite(v) & (v != 0)]
    where = f"{pose.source}: " if pose.source is not None else ""
    if v.size < 20:
        raise AnalysisError(f"{where}too few frames with {bp} and {reference} to tell the "
                            "walking direction from the feet")
    backward = float(np.mean(v < 0))
    if abs(backward - 0.5) < min_margin:
        raise AnalysisError(
            f"{where}cannot tell the walking direction from the feet: the {bp} moves backward "
            f"relative to the {reference} in {100 * backward:.0f} % of the frames (walking: "
            "55-70 % toward the walking direction); give the direction explicitly"
        )
    return 1 if backward > 0.5 else -1


def _robust_range(signal: np.ndarray) -> float:
    v = signal[np.isfinite(signal)]
    if v.size == 0:
        return 0.0
    lo, hi = np.percentile(v, [5, 95])
    return float(hi - lo)


def bridge_gaps(signal: np.ndarray, *, max_gap_frames: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Linearly bridge interior NaN runs of at most ``max_gap_frames``; find the valid segments.

    Returns
    -------
    bridged
        Copy of ``signal`` with the short interior gaps filled.
    segments
        ``[(start, stop), ...]`` half-open index ranges of the runs of finite values of
        ``bridged`` (longer gaps and leading/trailing NaNs separate them).

    Examples
    --------
    >>> s = np.array([0.0, 1.0, np.nan, 3.0, np.nan, np.nan, np.nan, 7.0])
    >>> b, seg = bridge_gaps(s, max_gap_frames=2)
    >>> b[2], seg
    (np.float64(2.0), [(0, 4), (7, 8)])
    """
    x = np.asarray(signal, dtype=float).copy()
    finite = np.isfinite(x)
    idx = np.flatnonzero(finite)
    if idx.size == 0:
        return x, []
    if max_gap_frames > 0 and idx.size >= 2:
        gaps = np.flatnonzero(np.diff(idx) > 1)
        for g in gaps:
            a, b = idx[g], idx[g + 1]
            if b - a - 1 <= max_gap_frames:
                x[a + 1 : b] = np.interp(np.arange(a + 1, b), [a, b], [x[a], x[b]])
    return x, _runs(np.isfinite(x))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open ``(start, stop)`` ranges where ``mask`` is True."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    stops = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def estimate_period_frames(
    signal: np.ndarray, *, min_frames: float, max_frames: float
) -> float | None:
    """Dominant period of a quasi-periodic signal (frames) from its autocorrelation.

    Missing samples are left out of the sums (a biased estimator, so the first period wins
    over its multiples), and the signal is clipped to its 5th-95th percentiles so that a
    few wild samples (a wrong-limb run smeared by a low-pass filter) cannot swamp it. The
    period is the shortest lag between ``min_frames`` and ``max_frames`` whose
    autocorrelation peak reaches half of the highest one there (a multiple of the period
    can only come out higher through such a disturbance), refined by a parabola. Returns
    None when no positive peak lies in range (recording shorter than about one and a half
    periods).

    Examples
    --------
    >>> t = np.arange(200)
    >>> period = estimate_period_frames(np.sin(2 * np.pi * t / 27.5), min_frames=10, max_frames=60)
    >>> bool(abs(period - 27.5) < 0.2)
    True
    """
    x = np.asarray(signal, dtype=float)
    valid = np.isfinite(x)
    n = x.size
    if valid.sum() < 3:
        return None
    lo_x, hi_x = np.percentile(x[valid], [5, 95])
    x = np.clip(x, lo_x, hi_x)
    z = np.where(valid, x - np.nanmean(x), 0.0)
    # Full autocorrelation by FFT (zero padded), lags 0..n-1.
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(z, nfft)
    acf = np.fft.irfft(f * np.conj(f), nfft)[:n]
    if acf[0] <= 0:
        return None
    acf = acf / acf[0]
    lo = max(2, int(np.floor(min_frames)))
    hi = min(n - 2, int(np.ceil(max_frames)))
    if hi <= lo:
        return None
    peaks, _ = find_peaks(acf[: hi + 2])
    peaks = peaks[(peaks >= lo) & (peaks <= hi) & (acf[peaks] > 0.1)]
    if peaks.size == 0:
        return None
    k = int(peaks[np.argmax(acf[peaks] >= 0.5 * acf[peaks].max())])
    return k + _parabola_offset(acf[k - 1], acf[k], acf[k + 1])


# ---------------------------------------------------------------------------------------
# extrema
# ---------------------------------------------------------------------------------------
def _parabola_offset(y0: float, y1: float, y2: float) -> float:
    """Vertex offset (in samples, within ±0.5) of the parabola through three equally spaced points."""
    denom = y0 - 2.0 * y1 + y2
    if not np.isfinite(denom) or denom == 0:
        return 0.0
    return float(np.clip(0.5 * (y0 - y2) / denom, -0.5, 0.5))


def pick_extrema(
    signal: np.ndarray,
    segments: list[tuple[int, int]],
    *,
    kind: str,
    distance: int,
    half_window: int,
    min_prominence: float,
    edge_prominence: float | None = None,
    fit_half_width: int = 1,
    details: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict[str, np.ndarray]]:
    """Fractional sample positions of the robust maxima (``kind="max"``) or minima.

    Within each segment of recorded data an extremum must (1) be the extreme value within
    ``+/- half_window`` samples, (2) be at least ``distance`` samples from a more extreme
    accepted one, and (3) stand out by ``min_prominence`` on both sides — or, when one side
    runs into the segment's end before descending, on the other side. Within
    ``half_window`` of a segment's end (a partial window) it must be an interior sample,
    stand out by ``min_prominence`` on the inner side and fall by ``edge_prominence``
    (default ``min_prominence / 3``) over the samples left on the outer side; the first and
    last samples of a segment are never extrema. Positions are refined by a parabola fitted
    over ``+/- fit_half_width`` samples (:func:`_vertex_offsets`).

    With ``details=True`` also what each extremum rests on, in the order of the positions:
    ``strength`` (how far its judged sides fall, in units of ``min_prominence``; >= 1) and
    ``edge`` (within ``half_window`` of a segment's end: a partial window).
    """
    sign = 1.0 if kind == "max" else -1.0
    if kind not in ("max", "min"):
        raise ValueError("kind must be 'max' or 'min'")
    if edge_prominence is None:
        edge_prominence = min_prominence / 3
    out, strength, edge = [], [], []
    for a, b in segments:
        seg = sign * signal[a:b]
        if seg.size < 2 * half_window + 1:
            continue
        peaks, props = find_peaks(seg, distance=distance, prominence=(None, None), plateau_size=1)
        if not peaks.size:
            continue
        lb, rb = props["left_bases"], props["right_bases"]
        cut_left, cut_right = peaks < half_window, peaks > seg.size - 1 - half_window
        # the extreme value within +/- half_window (the window clipped to the segment)
        idx = np.clip(peaks[:, None] + np.arange(-half_window, half_window + 1)[None, :], 0, seg.size - 1)
        top = ~(seg[peaks] < seg[idx].max(axis=1))
        # How far each side falls: a base is the lowest sample between it and the peak.
        left, right = seg[peaks] - seg[lb], seg[peaks] - seg[rb]
        # Near the start/end of the data: the full side must stand out, the cut side must
        # at least fall clearly (not a noise bump on a slope).
        full, cut = np.where(cut_left, right, left), np.where(cut_left, left, right)
        edge_ok = ~(full < min_prominence) & ~(cut < edge_prominence)
        # Inside: a side whose descent is cut short by the segment end (nothing higher on
        # that side) cannot be judged; every other side must stand out.
        before = np.maximum.accumulate(seg)[np.maximum(peaks - 1, 0)]
        after = np.maximum.accumulate(seg[::-1])[::-1][np.minimum(peaks + 1, seg.size - 1)]
        left_open = ((lb == 0) | (before < seg[peaks])) & (left < min_prominence)
        right_open = ((rb == seg.size - 1) | (after < seg[peaks])) & (right < min_prominence)
        inner_ok = (~(left_open & right_open) & (left_open | ~(left < min_prominence))
                    & (right_open | ~(right < min_prominence)))
        ok = top & ~(cut_left & cut_right) & np.where(cut_left | cut_right, edge_ok, inner_ok)
        accepted = peaks[ok]
        if accepted.size:
            out.append(a + accepted + _vertex_offsets(seg, accepted, fit_half_width))
            judged = np.where(cut_left | cut_right, full, np.minimum(
                np.where(left_open, np.inf, left), np.where(right_open, np.inf, right)))
            strength.append(judged[ok] / min_prominence if min_prominence > 0 else
                            np.full(accepted.size, np.inf))
            edge.append((cut_left | cut_right)[ok])
    if not out:
        pos, info = np.zeros(0, dtype=float), {"strength": np.zeros(0), "edge": np.zeros(0, dtype=bool)}
    else:
        pos = np.concatenate(out)
        order = np.argsort(pos, kind="stable")
        pos, info = pos[order], {"strength": np.concatenate(strength)[order],
                                 "edge": np.concatenate(edge)[order]}
    return (pos, info) if details else pos


def _vertex_offsets(seg: np.ndarray, ps: np.ndarray, half_width: int) -> np.ndarray:
    """Sub-sample offsets of the extrema at ``ps``: least-squares parabolas over ``p +/- w``.

    With ``w = 1`` it is the classic three-point parabolic interpolation; a wider window
    averages out keypoint noise (``w`` shrinks near the ends of ``seg``). An offset is kept
    within ``w / 2`` samples of ``p``, at least one (noise can make a sample next to the
    true extreme the largest, several samples away at a high frame rate); where the
    parabola does not open downward the three-point one is used.
    Vectorised over the extrema (the fit has a closed form for symmetric windows).
    """
    ps = np.asarray(ps, dtype=int)
    y0, y1, y2 = seg[ps - 1], seg[ps], seg[ps + 1]
    denom = y0 - 2.0 * y1 + y2
    with np.errstate(invalid="ignore", divide="ignore"):
        three = np.clip(0.5 * (y0 - y2) / denom, -0.5, 0.5)
    three = np.where(np.isfinite(three) & (denom != 0), three, 0.0)
    out = three.copy()
    w_all = np.minimum(np.minimum(int(half_width), ps), seg.size - 1 - ps)
    for w in np.unique(w_all[w_all > 1]):
        sel = w_all == w
        u = np.arange(-w, w + 1, dtype=float)
        win = seg[ps[sel, None] + np.arange(-w, w + 1)[None, :]]
        a1 = win @ u / (u @ u)
        e = u**2 - np.mean(u**2)
        a2 = win @ e / (e @ e)
        with np.errstate(invalid="ignore", divide="ignore"):
            off = np.clip(-a1 / (2 * a2), -w / 2, w / 2)
        out[sel] = np.where(a2 < 0, off, three[sel])
    return out


def extrapolate_to_rest(
    relative_px: np.ndarray,
    candidates: np.ndarray,
    *,
    fps: float,
    stride_frames: float,
    half_width_s: float = 0.08,
    max_shift_stride: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Move heel-strike candidates from where the heel passes the body to where it rests.

    ``relative_px`` is ``heel x - reference x`` (gait coordinates, gaps bridged) and
    ``candidates`` its maxima (fractional samples): there the heel moves forward exactly as
    fast as the body and is decelerating. It comes to rest on the floor ``v / a`` later, with

    * ``v`` the body's speed relative to the resting heel: the median backward velocity of
      ``relative_px`` (central differences over +/- 40 ms) within a stride of the candidate.
      While the heel stands on the floor it moves backward relative to the body at the
      floor's speed relative to the body, so a treadmill or a camera following the subject
      needs nothing special;
    * ``a`` the heel's deceleration relative to the body: twice the leading coefficient of
      a least-squares parabola through the samples within +/- ``half_width_s`` of the
      candidate.

    Both come from around the extremum, not from the few samples where the heel lands, so
    a zero-phase low-pass filter or a coarse frame rate hardly move them. The landing is
    much alike from stride to stride while keypoint noise makes one stride's curvature
    uncertain, so every candidate is moved by one shift for the recording: the mean ``v``
    over the mean ``a`` of the candidates that have their own estimate.
    A candidate has no estimate of its own where the parabola's window is not all data, no
    stance lies within a stride, the curvature is not a maximum or the shift exceeds
    ``max_shift_stride`` strides; when no candidate has one, the candidates are kept.

    Returns
    -------
    positions, ok
        The moved positions (fractional samples, in the order of ``candidates``) and
        whether each had its own estimate.

    Examples
    --------
    A heel decelerating at 2 px/frame^2 relative to the body, which moves at 8 px/frame
    over the resting heel, comes to rest 8 / 2 = 4 frames after passing it:

    >>> t = np.arange(60.0)
    >>> rel = np.where(t < 24, 40 - (t - 20) ** 2, 24 - 8 * (t - 24))  # max at t = 20
    >>> pos, ok = extrapolate_to_rest(rel, np.array([20.0]), fps=25, stride_frames=30,
    ...                               half_width_s=0.04)
    >>> float(np.round(pos[0], 2)), bool(ok[0])
    (24.0, True)
    """
    x = np.asarray(relative_px, dtype=float)
    c = np.asarray(candidates, dtype=float)
    ok = np.zeros(c.size, dtype=bool)
    speed, decel = np.zeros(c.size), np.zeros(c.size)  # px/frame, px/frame^2 per candidate
    if c.size == 0:
        return c.copy(), ok
    n = x.size
    w = max(1, int(round(half_width_s * fps)))
    k = max(1, int(round(0.04 * fps)))
    v = np.full(n, np.nan)
    if n > 2 * k:
        v[k:-k] = (x[2 * k :] - x[: -2 * k]) / (2 * k)  # px/frame
    for i, p in enumerate(c):
        j = int(round(p))
        a, b = j - w, j + w + 1
        if a < 0 or b > n or not np.isfinite(x[a:b]).all():
            continue
        curvature = 2.0 * np.polyfit(np.arange(a, b) - p, x[a:b], 2)[0]  # px/frame^2
        near = v[max(0, int(p - stride_frames)):min(n, int(p + stride_frames) + 1)]
        backward = near[near < 0]  # NaN compares False
        if backward.size < 2 or not curvature < 0:
            continue
        t_rest = -float(np.median(backward)) / -curvature
        if 0 < t_rest <= max_shift_stride * stride_frames:
            ok[i] = True
            speed[i], decel[i] = -float(np.median(backward)), -curvature
    # The landing is much alike from stride to stride, its estimate per stride is not (noise
    # in the curvature): every candidate moves by one shift, the recording's mean speed over
    # its mean deceleration (less sensitive to keypoint noise than the median of the
    # per-stride ratios: validation/realgait_experiments.py).
    shift = float(np.mean(speed[ok]) / np.mean(decel[ok])) if ok.any() else 0.0
    return c + shift, ok


def refine_by_velocity(
    x_px: np.ndarray,
    candidates: np.ndarray,
    *,
    kind: str,
    stride_frames: float,
    rest_fraction: float = 0.1,
    n_fit: int = 3,
    half_step: int = 1,
    max_shift_stride: float = 0.3,
    max_extrapolate: float = 2.0,
    max_lag_stride: float = 0.15,
    measured: np.ndarray | None = None,
) -> np.ndarray:
    """Move events to where a foot point comes to rest (``"stop"``) or leaves it (``"start"``).

    ``x_px`` is the point's forward position (gait coordinates). Its velocity (central
    differences over ``+/- half_step`` samples, px/frame) is taken relative to the *ground*:
    the median velocity of the point in its own stance next to the candidate (0.1-0.3 stride
    after a heel strike, 0.1-0.35 stride before a toe off). That is zero on a walkway and the
    belt speed on a treadmill or with a camera following the subject, so the method does not
    assume a still camera. The peak forward speed of the adjacent swing (within
    ``max_shift_stride`` strides; at least the median over all candidates) sets the rest
    level, ``rest_fraction`` of it. From the peak
    toward the candidate's stance the first sample at rest is found, and a straight line
    through up to ``n_fit`` moving samples before it is extrapolated to zero relative speed;
    where that line is unusable (too few samples, wrong slope, zero farther than
    ``max_extrapolate`` samples) the interpolated crossing of the rest level is used.
    ``measured`` (optional bool per sample) marks real, not gap-filled, samples: velocities
    from a filled sample are then not used to time an event (the line falls back to the
    crossing; a filled crossing keeps the candidate). ``detect_events`` does not use it:
    on the synthetic walker it cost more events (kept at the coordinate time) than the
    few it protected.
    Candidates are kept unchanged where the data are missing, no rest is reached, or the
    refined time is not within ``max_lag_stride`` strides after (``"stop"``) / before
    (``"start"``) the candidate.

    Everything is vectorised over the candidates (one row of samples per candidate).
    """
    if kind not in ("stop", "start"):
        raise ValueError("kind must be 'stop' or 'start'")
    c = np.asarray(candidates, dtype=float)
    x = np.asarray(x_px, dtype=float)
    k = max(1, int(half_step))
    if c.size == 0 or x.size < 2 * k + 3:
        return np.sort(c)
    v = np.full(x.shape, np.nan)
    v[k:-k] = (x[2 * k :] - x[: -2 * k]) / (2 * k)
    real = np.isfinite(v)
    if measured is not None:
        m = np.asarray(measured, dtype=bool)
        real[k:-k] &= m[2 * k :] & m[: -2 * k]
    span = max(3, int(round(max_shift_stride * stride_frames)))
    offsets = np.arange(-span, span + 1)
    centre = np.rint(c).astype(int)
    idx = centre[:, None] + offsets[None, :]
    inside = (idx >= 0) & (idx < x.size)
    V = np.where(inside, v[np.clip(idx, 0, x.size - 1)], np.nan)
    R = inside & real[np.clip(idx, 0, x.size - 1)]
    # stance window (ground speed) and swing window (peak speed), in strides from candidate
    lo_g, hi_g = (0.1, 0.3) if kind == "stop" else (-0.35, -0.1)
    g = (offsets >= lo_g * stride_frames) & (offsets <= hi_g * stride_frames)
    if not g.any():
        g = offsets > 0 if kind == "stop" else offsets < 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        ground = np.nanmedian(V[:, g], axis=1)
    S = V - ground[:, None]
    # Orient every row so time runs from the swing peak toward the rest: for "start" the
    # rows are reversed (the toe leaves rest going forward in time = reaches it backward).
    if kind == "start":
        S, R, offs = S[:, ::-1], R[:, ::-1], offsets[::-1]
    else:
        offs = offsets
    n_cols = offs.size
    swing = (np.abs(offs) <= span) & ((offs <= 0) if kind == "stop" else (offs >= 0))
    S_sw = np.where(swing[None, :], S, -np.inf)
    S_sw = np.where(np.isfinite(S_sw), S_sw, -np.inf)
    peak_col = np.argmax(S_sw, axis=1)
    peak = S_sw[np.arange(c.size), peak_col]
    # The rest level from the typical swing speed of the recording (a single swing cut by
    # the end of the data or by a gap would set it too low), the local one when too few.
    good = np.isfinite(peak) & (peak > 0)
    typical = float(np.median(peak[good])) if good.sum() >= 3 else None
    rest = rest_fraction * (np.maximum(peak, typical) if typical else peak)
    cols = np.arange(n_cols)
    after_peak = cols[None, :] > peak_col[:, None]
    at_rest = after_peak & (S <= rest[:, None])
    has_rest = at_rest.any(axis=1)
    j = np.argmax(at_rest, axis=1)  # first resting column after the peak
    rows = np.arange(c.size)
    # the samples between the peak and j must all be finite (no gap hides the landing)
    between = (cols[None, :] > peak_col[:, None]) & (cols[None, :] < j[:, None])
    gap = (between & ~np.isfinite(S)).any(axis=1)
    s_j = S[rows, j]
    s_prev = S[rows, np.maximum(j - 1, 0)]
    ok = (has_rest & ~gap & np.isfinite(peak) & (peak > 0) & np.isfinite(s_j)
          & np.isfinite(s_prev) & (j - 1 > peak_col))
    # interpolated crossing of the rest level, in columns
    frac = np.clip((s_prev - rest) / np.where(s_prev - s_j > 0, s_prev - s_j, np.inf), 0, 1)
    cross = (j - 1) + frac
    # line through the moving samples j-n_fit..j-1 (after the peak) -> zero relative speed
    fit = (cols[None, :] >= np.maximum(j - max(2, int(n_fit)), peak_col + 1)[:, None]) & (
        cols[None, :] < j[:, None]) & np.isfinite(S)
    w = fit.astype(float)
    n = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tm = (w * cols).sum(axis=1) / n
        Sw = np.where(fit, S, 0.0)
        sm = Sw.sum(axis=1) / n
        cov = (w * (cols - tm[:, None]) * (Sw - sm[:, None])).sum(axis=1)
        var = (w * (cols - tm[:, None]) ** 2).sum(axis=1)
        slope = cov / var
        zero = tm - sm / slope
    line_ok = (n >= 2) & (slope < 0) & (zero >= j - 1) & (zero <= j - 1 + max_extrapolate)
    # The velocities that time the event must come from measured samples, not a bridge
    # (a straight line across lift-off or landing): the line needs its fitted samples,
    # the rest crossing the two samples either side of it.
    line_ok &= ~(fit & ~R).any(axis=1)
    ok &= R[rows, j] & R[rows, np.maximum(j - 1, 0)]
    col = np.where(line_ok, zero, cross)
    # column -> offset (rows of "start" were reversed) -> frame position
    pos = centre + (offs[0] + col if kind == "stop" else offs[0] - col)
    # The coordinate event is where the foot passes the body's speed: the heel stops a
    # little after it, the toe starts a little before it. Anything else (a spike taken for
    # the swing peak, a rest found in the wrong stance) keeps the coordinate time.
    shift = (pos - c) * (1 if kind == "stop" else -1)
    plausible = (shift >= -0.05 * stride_frames - 1) & (shift <= max_lag_stride * stride_frames)
    out = np.where(ok & np.isfinite(pos) & plausible, pos, c)
    return np.sort(out)


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
    cleaning (removed, repaired or filled; not merely low-pass filtered or set by hand), or,
    in a cleaned pose without its flags, below the cleaning's likelihood cut-off (filled)."""
    out: dict[str, np.ndarray] = {}
    if flags is not None:
        from .clean import FLAG_FILTERED, FLAG_MANUAL

        f = np.asarray(flags)
        if f.shape != (pose.n_frames, len(pose.bodyparts)):
            raise ValueError(f"flags must have shape {(pose.n_frames, len(pose.bodyparts))}, "
                             f"got {f.shape}")
        bad = (f & ~(FLAG_FILTERED | FLAG_MANUAL)) != 0
        return {bp: bad[:, j] for j, bp in enumerate(pose.bodyparts)}
    cleaning = pose.meta.get("cleaning")
    if cleaning and pose.has_likelihood:
        cut = float(cleaning.get("config", {}).get("likelihood_threshold", 0.6) or 0.0)
        lk = pose.likelihood
        for j, bp in enumerate(pose.bodyparts):
            out[bp] = np.isfinite(lk[:, j]) & (lk[:, j] < cut)
    return out


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


def frame_to_position(pose: Pose, frame: np.ndarray | float) -> np.ndarray:
    """Map (fractional) frame numbers of ``pose.frames`` to row positions 0..n-1."""
    return np.interp(np.asarray(frame, dtype=float), pose.frames.astype(float), np.arange(pose.n_frames))


def match_events(
    detected: pd.DataFrame, truth: pd.DataFrame, *, tolerance_frames: float = 3.0
) -> pd.DataFrame:
    """Pair detected with true events of the same side and kind (nearest first, one-to-one).

    Returns one row per true and per unmatched detected event: ``side, event, true_frame,
    frame, error_frames`` (detected minus true; NaN for a miss or a spurious detection).
    Used by the tests and ``benchmarks/validate_events.py``.
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

