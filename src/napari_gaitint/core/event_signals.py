"""The signals of the event detectors and their extrema (:func:`~napari_gaitint.core.events.detect_events`).

The foot's horizontal position relative to the body (:func:`relative_x`; the other body
reference stands in where one is missing), gaps bridged (:func:`bridge_gaps`), wrong-limb
spikes removed (:func:`remove_spikes`), the stride period from the autocorrelation
(:func:`estimate_period_frames`), robust extrema with sub-frame timing (:func:`pick_extrema`),
and the two refinements of heel strike and toe off (:func:`extrapolate_to_rest`, the
``"foot"`` method; :func:`refine_by_velocity`, the ``"velocity"`` method).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import find_peaks

from .config import DEFAULT_METHOD, LIKELIHOOD_THRESHOLD, LOW_CONFIDENCE, likelihood_cutoff  # noqa: F401 (re-exported)
from .pose import Pose

# signals
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


# extrema
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


def frame_to_position(pose: Pose, frame: np.ndarray | float) -> np.ndarray:
    """Map (fractional) frame numbers of ``pose.frames`` to row positions 0..n-1."""
    return np.interp(np.asarray(frame, dtype=float), pose.frames.astype(float), np.arange(pose.n_frames))
