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
``"velocity"`` (default)
    Zeni's events refined by the foot's own forward velocity: heel strike where the heel's
    decelerating forward velocity reaches zero (the heel comes to rest on the floor), toe
    off where the toe's forward velocity leaves zero, both by extrapolating a straight line
    through the last samples moving faster than ``rest_fraction`` of the foot's peak swing
    speed. It removes the coordinate method's systematic lead (heel strike) and lag (toe
    off) — the foot passes the body's speed before it lands or after it lifts — and falls
    back to Zeni's time where the foot data are missing or inconsistent.

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
  missing the neck stands in for it (plus their median offset) and vice versa; samples far
  from the running median of the relative signal (``despike``: wrong-limb labels, which
  jump to the other leg for 1-3 frames) are dropped before the extrema are picked.
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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from .errors import AnalysisError
from .io import Pose

#: Event names in the events table.
HEEL_STRIKE = "heel_strike"
TOE_OFF = "toe_off"
EVENT_COLUMNS = ("side", "event", "frame", "time_s")
SIDES = ("left", "right")


@dataclass(frozen=True)
class _Method:
    """Which body part's x (relative to the reference) gives which event."""

    hs_bodypart: str
    to_bodypart: str
    default_reference: str
    description: str


#: The event detectors by name (see the module docstring).
METHODS: dict[str, _Method] = {
    "zeni": _Method("heel", "toe", "hip", "Zeni: max of heel x - ref x / min of toe x - ref x"),
    "seed": _Method("ankle", "ankle", "neck", "seed: max / min of ankle x - neck x"),
    "ankle_neck": _Method("ankle", "ankle", "neck", "alias of 'seed'"),
    "ankle_hip": _Method("ankle", "ankle", "hip", "max / min of ankle x - hip x"),
    "velocity": _Method(
        "heel", "toe", "hip",
        "Zeni, then refined to where the heel stops / the toe starts moving forward",
    ),
}
#: The default detector, chosen by measured accuracy (benchmarks/validate_events.py).
DEFAULT_METHOD = "velocity"


def detect_events(
    pose: Pose,
    *,
    side: str,
    fps: float | None = None,
    method: str = DEFAULT_METHOD,
    reference: str | None = None,
    max_gap_s: float = 0.2,
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
        Samples of a relative signal farther than this fraction of its robust range from
        the running median (+/- ``edge_stride``) are treated as missing: isolated
        wrong-limb labels (DLC taking the other leg's point for 1-3 frames). None disables.
    rest_fraction
        ``"velocity"`` method: a foot point moving slower than this fraction of its peak
        (95th percentile) forward speed counts as at rest.

    Returns
    -------
    pandas.DataFrame
        Columns ``side, event, frame, time_s``, sorted by frame; ``event`` is
        ``"heel_strike"`` or ``"toe_off"``, ``frame`` fractional. ``df.attrs`` holds the
        method, reference and estimated stride period (``stride_frames``).

    Raises
    ------
    AnalysisError
        If no event can be found (all missing, too short, subject not walking, not oriented).

    Examples
    --------
    >>> from napari_gaitint.core.orient import orient_pose
    >>> events = detect_events(orient_pose(pose), side="left", fps=25)  # doctest: +SKIP
    >>> events.head(2)  # doctest: +SKIP
       side        event  frame  time_s
    0  left  heel_strike  12.31  0.4924
    1  left      toe_off  29.87  1.1948
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
    pose = mask_low_likelihood(pose, min_likelihood)
    hs_signal = relative_x(pose, spec.hs_bodypart, reference)
    to_signal = hs_signal if spec.to_bodypart == spec.hs_bodypart else relative_x(
        pose, spec.to_bodypart, reference
    )
    leg = leg_length_px(pose)
    _check_progression(pose, reference, leg, where)
    max_gap = max(0, int(round(max_gap_s * fps)))

    hs_bridged, hs_segments = bridge_gaps(hs_signal, max_gap_frames=max_gap)
    to_bridged, to_segments = bridge_gaps(to_signal, max_gap_frames=max_gap)
    what = f"{spec.hs_bodypart} x - {reference} x"
    n_valid = int(np.isfinite(hs_signal).sum())
    if n_valid < 5:
        raise AnalysisError(
            f"{where}no gait event found: only {n_valid} frame(s) have both {spec.hs_bodypart} "
            f"and {reference}; check the body-part names and the likelihood cut-off"
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
        if stride_frames is None:
            # Too short for an autocorrelation: fall back to the shortest plausible stride so
            # no real event is suppressed by the spacing rule.
            stride_frames = lo * fps
    distance = max(1, int(np.floor(min_distance_stride * stride_frames)))
    half_window = max(2, int(round(edge_stride * stride_frames)))
    fit_half_width = max(1, int(round(fit_stride * stride_frames)))
    hs_spikes = to_spikes = np.zeros(pose.n_frames, dtype=bool)
    if despike:
        spike_window = max(3, half_window)
        hs_clean = remove_spikes(hs_signal, half_width=spike_window, threshold=despike * robust_range)
        to_clean = remove_spikes(to_signal, half_width=spike_window,
                                 threshold=despike * _robust_range(to_bridged))
        hs_spikes = np.isfinite(hs_signal) & ~np.isfinite(hs_clean)
        to_spikes = np.isfinite(to_signal) & ~np.isfinite(to_clean)
        hs_bridged, hs_segments = bridge_gaps(hs_clean, max_gap_frames=max_gap)
        to_bridged, to_segments = bridge_gaps(to_clean, max_gap_frames=max_gap)

    hs = pick_extrema(
        hs_bridged, hs_segments, kind="max", distance=distance, half_window=half_window,
        min_prominence=min_prominence * robust_range, fit_half_width=fit_half_width,
    )
    to = pick_extrema(
        to_bridged, to_segments, kind="min", distance=distance, half_window=half_window,
        min_prominence=min_prominence * _robust_range(to_bridged), fit_half_width=fit_half_width,
    )
    if method == "velocity":
        # The foot's own track, without the samples found to be wrong-limb spikes above.
        heel_x = pose.bodypart(spec.hs_bodypart)[:, 0].copy()
        toe_x = pose.bodypart(spec.to_bodypart)[:, 0].copy()
        heel_x[hs_spikes] = np.nan
        toe_x[to_spikes] = np.nan
        heel_x, _ = bridge_gaps(heel_x, max_gap_frames=max_gap)
        toe_x, _ = bridge_gaps(toe_x, max_gap_frames=max_gap)
        # Velocity over +/-40 ms and a line through ~0.12 s of samples, whatever the fps.
        vel = {"stride_frames": stride_frames, "rest_fraction": rest_fraction,
               "half_step": max(1, int(round(0.04 * fps))), "n_fit": max(3, int(round(0.12 * fps)))}
        hs = refine_by_velocity(heel_x, hs, kind="stop", **vel)
        to = refine_by_velocity(toe_x, to, kind="start", **vel)
    if hs.size == 0 and to.size == 0:
        raise AnalysisError(
            f"{where}no heel strike or toe off found in {pose.n_frames} frames "
            f"({pose.n_frames / fps:.1f} s; {n_valid} with data): the recording may be shorter "
            "than a step or the foot never passes the body"
        )
    events = _events_table(pose, side, fps, hs, to)
    events.attrs.update(
        method=method, reference=reference, stride_frames=float(stride_frames), fps=fps
    )
    return events


# ---------------------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------------------
#: Body references that stand in for each other where one is missing (e.g. the hand
#: passing over the hip marker): their horizontal offset is nearly constant while walking.
_SUBSTITUTE_REFERENCE = {"hip": "neck", "neck": "hip"}


def reference_x(pose: Pose, reference: str) -> np.ndarray:
    """Forward position (px) of the body reference, gaps filled from the other reference.

    Where ``reference`` (hip or neck) is missing and the other one is present, the other
    one plus their median offset is used.
    """
    x = pose.bodypart(reference)[:, 0].copy()
    other = _SUBSTITUTE_REFERENCE.get(reference)
    if other in pose.bodyparts:
        ox = pose.bodypart(other)[:, 0]
        both = np.isfinite(x) & np.isfinite(ox)
        fill = ~np.isfinite(x) & np.isfinite(ox)
        if both.sum() >= 5 and fill.any():
            x[fill] = ox[fill] + np.median(x[both] - ox[both])
    return x


def relative_x(pose: Pose, bodypart: str, reference: str) -> np.ndarray:
    """``x`` of ``bodypart`` minus the reference's x (:func:`reference_x`) per frame (px).

    NaN where the body part or both references are missing.
    """
    return pose.bodypart(bodypart)[:, 0] - reference_x(pose, reference)


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
    signal: np.ndarray, *, half_width: int, threshold: float, passes: int = 3
) -> np.ndarray:
    """Set samples farther than ``threshold`` from the running median (+/- ``half_width``) to NaN.

    A run of up to ``half_width`` outlying samples (a wrong-limb label) cannot move the
    median of ``2 * half_width + 1`` samples, so it stands out; smooth extrema do not.

    Examples
    --------
    >>> s = np.array([0.0, 1, 2, 3, 90, 5, 6, 7, 8])
    >>> remove_spikes(s, half_width=2, threshold=10)
    array([ 0.,  1.,  2.,  3., nan,  5.,  6.,  7.,  8.])
    """
    out = np.asarray(signal, dtype=float).copy()
    if out.size < 2 * half_width + 1 or not np.isfinite(threshold):
        return out
    # A few passes: once the worst samples of a run are gone, the median sees the rest.
    for _ in range(passes):
        padded = np.pad(out, half_width, mode="constant", constant_values=np.nan)
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half_width + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows
            med = np.nanmedian(windows, axis=1)
        bad = np.abs(out - med) > threshold
        if not bad.any():
            break
        out[bad] = np.nan
    return out


def leg_length_px(pose: Pose) -> float | None:
    """Median hip-ankle distance (px), the scale for "is it walking"; None if unavailable."""
    if "hip" not in pose.bodyparts or "ankle" not in pose.bodyparts:
        return None
    d = np.linalg.norm(pose.bodypart("hip")[:, :2] - pose.bodypart("ankle")[:, :2], axis=1)
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else None


def _check_progression(pose: Pose, reference: str, leg: float | None, where: str) -> None:
    """Refuse a pose that clearly walks toward -x (image coordinates of a right-to-left walk)."""
    x = pose.bodypart(reference)[:, 0]
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
    over its multiples). The lag of the highest autocorrelation peak between ``min_frames``
    and ``max_frames`` is refined by a parabola. Returns None when no positive peak lies in
    range (recording shorter than about one and a half periods).

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
    k = int(peaks[np.argmax(acf[peaks])])
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
) -> np.ndarray:
    """Fractional sample positions of the robust maxima (``kind="max"``) or minima.

    Within each segment of recorded data an extremum must (1) be the extreme value within
    ``+/- half_window`` samples, (2) be at least ``distance`` samples from a more extreme
    accepted one, and (3) stand out by ``min_prominence`` on both sides — or, when one side
    runs into the segment's end before descending, on the other side. Within
    ``half_window`` of a segment's end (a partial window) it must be an interior sample,
    stand out by ``min_prominence`` on the inner side and fall by ``edge_prominence``
    (default ``min_prominence / 3``) over the samples left on the outer side; the first and
    last samples of a segment are never extrema. Positions are refined by a parabola fitted over ``+/- fit_half_width``
    samples (:func:`_vertex_offset`).
    """
    sign = 1.0 if kind == "max" else -1.0
    if kind not in ("max", "min"):
        raise ValueError("kind must be 'max' or 'min'")
    if edge_prominence is None:
        edge_prominence = min_prominence / 3
    out = []
    for a, b in segments:
        seg = sign * signal[a:b]
        if seg.size < 2 * half_window + 1:
            continue
        peaks, props = find_peaks(seg, distance=distance, prominence=(None, None), plateau_size=1)
        for p, lb, rb in zip(peaks, props["left_bases"], props["right_bases"], strict=True):
            cut_left, cut_right = p < half_window, p > seg.size - 1 - half_window
            if cut_left and cut_right:
                continue
            window = seg[max(0, p - half_window) : p + half_window + 1]
            if seg[p] < window.max():
                continue
            left = seg[p] - seg[lb : p + 1].min()
            right = seg[p] - seg[p : rb + 1].min()
            if cut_left or cut_right:
                # Near the start/end of the data: the full side must stand out, the cut
                # side must at least fall clearly (not a noise bump on a slope).
                full, cut = (right, left) if cut_left else (left, right)
                if full < min_prominence or cut < edge_prominence:
                    continue
            else:
                # A side whose descent is cut short by the segment end cannot be judged.
                left_open = lb == 0 and left < min_prominence
                right_open = rb == seg.size - 1 and right < min_prominence
                if left_open and right_open:
                    continue
                sides = [d for d, open_ in ((left, left_open), (right, right_open)) if not open_]
                if min(sides) < min_prominence:
                    continue
            out.append(a + p + _vertex_offset(seg, p, fit_half_width))
    return np.asarray(sorted(out), dtype=float)


def _vertex_offset(seg: np.ndarray, p: int, half_width: int) -> float:
    """Sub-sample offset of the extremum at ``p``: least-squares parabola over ``p +/- w``.

    With ``w = 1`` it is the classic three-point parabolic interpolation; a wider window
    averages out keypoint noise. The offset is kept within one sample of ``p`` (noise can
    make the neighbour of the true extreme sample the largest).
    """
    w = int(min(half_width, p, seg.size - 1 - p))
    if w <= 1:
        return _parabola_offset(seg[p - 1], seg[p], seg[p + 1])
    u = np.arange(-w, w + 1, dtype=float)
    a2, a1, _ = np.polyfit(u, seg[p - w : p + w + 1], 2)
    if not a2 < 0:
        return _parabola_offset(seg[p - 1], seg[p], seg[p + 1])
    return float(np.clip(-a1 / (2 * a2), -1.0, 1.0))


def refine_by_velocity(
    x_px: np.ndarray,
    candidates: np.ndarray,
    *,
    kind: str,
    stride_frames: float,
    rest_fraction: float = 0.1,
    n_fit: int = 3,
    half_step: int = 1,
    max_shift_stride: float = 0.2,
) -> np.ndarray:
    """Move events to where a foot point comes to rest (``"stop"``) or leaves it (``"start"``).

    ``x_px`` is the point's forward position (gait coordinates). Its velocity (central
    differences over ``+/- half_step`` samples, px/frame) is followed from each candidate — forward for ``"stop"``,
    backward for ``"start"`` — to the first sample slower than ``rest_fraction`` of the 95th
    percentile of ``|v|``. A straight line through the last ``n_fit`` faster samples is
    extrapolated to zero velocity. Candidates are kept unchanged when the data are missing,
    the foot never comes to rest within ``max_shift_stride`` strides, or the line does not
    reach zero within that span.
    """
    x = np.asarray(x_px, dtype=float)
    v = np.full(x.shape, np.nan)
    k = max(1, int(half_step))
    if x.size >= 2 * k + 1:
        v[k:-k] = (x[2 * k :] - x[: -2 * k]) / (2 * k)
    finite = np.abs(v[np.isfinite(v)])
    if finite.size < 5:
        return np.asarray(candidates, dtype=float)
    rest = rest_fraction * float(np.percentile(finite, 95))
    span = max(2, int(round(max_shift_stride * stride_frames)))
    step = 1 if kind == "stop" else -1
    out = []
    for c in np.asarray(candidates, dtype=float):
        out.append(_refine_one(x, v, c, step=step, rest=rest, span=span, n_fit=n_fit))
    return np.asarray(sorted(out), dtype=float)


def _refine_one(x, v, c, *, step, rest, span, n_fit) -> float:
    """One candidate of :func:`refine_by_velocity` (returns ``c`` when it cannot refine)."""
    i = int(round(c))
    # first resting sample from the candidate on (in the search direction)
    for _ in range(span + 1):
        if not 0 <= i < x.size or not np.isfinite(v[i]):
            return c
        if v[i] <= rest:
            break
        i += step
    else:
        return c
    moving = [j for j in range(i - step, i - step * (n_fit + 1), -step)
              if 0 <= j < x.size and np.isfinite(v[j]) and v[j] > rest]
    # only the contiguous run of moving samples right before the resting one
    run = []
    for k, j in enumerate(moving):
        if j != i - step * (k + 1):
            break
        run.append(j)
    if len(run) < 2:
        return c
    t = np.asarray(run, dtype=float)
    slope, intercept = np.polyfit(t, v[run], 1)
    if slope == 0 or np.sign(slope) != -step:
        return c
    zero = -intercept / slope
    last = float(run[0])  # the moving sample next to the resting one
    # the zero must lie between the last moving sample and just past the resting one
    if not (0 <= step * (zero - last) <= 2):
        return c
    return float(zero)


def _events_table(pose: Pose, side: str, fps: float, hs: np.ndarray, to: np.ndarray) -> pd.DataFrame:
    positions = np.concatenate([hs, to])
    names = [HEEL_STRIKE] * hs.size + [TOE_OFF] * to.size
    frames_idx = pose.frames.astype(float)
    frame = np.interp(positions, np.arange(pose.n_frames), frames_idx) if positions.size else positions
    df = pd.DataFrame(
        {"side": side, "event": names, "frame": frame.astype(float), "time_s": frame / fps},
        columns=list(EVENT_COLUMNS),
    )
    df = df.sort_values(["frame", "event"], kind="mergesort").reset_index(drop=True)
    return df


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
