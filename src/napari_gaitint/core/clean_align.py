"""The other camera's view in this one (cleaning, step 2): the views' lag, the mapped far leg,
and the estimated far leg of a single view.

The opposite camera's near leg *is* this camera's far leg. Its track is mapped into this
image by a per-axis linear map fitted on the shared neck and hip tracks (the sign of the x
scale takes care of the mirroring; the fit is redone for every trial pair because cameras
move), after matching the views' frames (:func:`estimate_view_lag`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .clean_filters import _finite2
from .config import LEG_CHAIN, CleanConfig
from .errors import AnalysisError
from .pose import Pose, leg_length_px


def _leg_length(pose: Pose, config: CleanConfig) -> float | None:
    """:func:`~napari_gaitint.core.io.leg_length_px` with the config's body-part names."""
    chain, ref = config.leg_chain, config.reference
    names = dict(zip(LEG_CHAIN, chain, strict=True)) if len(chain) == len(LEG_CHAIN) else {}
    ref = dict(zip(("neck", "hip"), ref, strict=True)) if len(ref) == 2 else {}
    return leg_length_px(pose, hip=ref.get("hip", "hip"), ankle=names.get("ankle", "ankle"),
                         neck=ref.get("neck", "neck"))


def _robust_line(u: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``v ≈ a u + b`` with two rounds of 3-MAD outlier rejection.

    Returns ``(a, b, rms_residual)``.
    """
    keep = np.ones(u.size, bool)
    a = b = 0.0
    for _ in range(3):
        A = np.column_stack([u[keep], np.ones(keep.sum())])
        (a, b), *_ = np.linalg.lstsq(A, v[keep], rcond=None)
        res = v - (a * u + b)
        mad = np.median(np.abs(res[keep] - np.median(res[keep])))
        new = np.abs(res) <= max(3 * 1.4826 * mad, 1e-6)
        if new.sum() < 4 or (new == keep).all():
            break
        keep = new
    rms = float(np.sqrt(np.mean((v[keep] - (a * u[keep] + b)) ** 2)))
    return float(a), float(b), rms


def _lag_fits(A: np.ndarray, B: np.ndarray, k_max: int) -> tuple[dict, dict]:
    """Least-squares lines ``A ~ a B[lag] + b`` per axis for every lag, at once.

    ``A`` is ``(n, J, 2)``, ``B`` ``(n + 2 k_max, J, 2)`` (frames ``-k_max .. n - 1 +
    k_max`` relative to ``A``), NaN where missing. Returns ``({lag: rms_x + rms_y},
    {lag: ((a_x, b_x), (a_y, b_y))})`` for lags with at least 10 pairs per axis."""
    n = A.shape[0]
    lags = np.arange(-k_max, k_max + 1)
    U = np.stack([B[k_max + k: k_max + k + n] for k in lags], axis=2)  # (n, J, L, 2)
    V = A[:, :, None, :]
    m = np.isfinite(U) & np.isfinite(V)
    u, v = np.where(m, U, 0.0), np.where(m, V, 0.0)
    # all sums in one reduction over frames and body parts (added in that order, one lag
    # and axis at a time, as a sum over them per lag): (L, 2) each
    cnt, su, sv, suu, svv, suv = np.stack([m, u, v, u * u, v * v, u * v], axis=2).sum(axis=(0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        var_u, var_v = suu - su * su / cnt, svv - sv * sv / cnt
        cov = suv - su * sv / cnt
        a = np.where(var_u > 1e-9, cov / var_u, 0.0)
        b = (sv - a * su) / cnt
        rss = np.maximum(var_v - a * cov, 0.0)
        rms = np.sqrt(rss / cnt)
    good = (cnt >= 10).all(axis=1) & np.isfinite(rms).all(axis=1)
    scores, fits = {}, {}
    for k, (rx, ry), (ax, ay), (bx, by) in zip(lags[good].tolist(), rms[good].tolist(), a[good].tolist(),
                                               b[good].tolist(), strict=True):
        scores[k] = rx + ry
        fits[k] = ((ax, bx), (ay, by))
    return scores, fits


#: A lag is accepted when its residual is below this share of the residual without one.
LAG_ACCEPT_RATIO = 0.85
#: Frames used to estimate the lag (a window in the middle of the shared frames).
LAG_WINDOW_FRAMES = 1000
#: The two legs are apart (median distance of the ankles) by at least this share of the leg
#: length in synchronised views (measured: 0.5-0.65 on the synthetic walker); one step out
#: of sync the mapped leg moves with this camera's own leg (0.02-0.1).
LEGS_APART_LEG = 0.25
#: Without leg tracks in both views, lags are searched up to this (s): the trunk's motion
#: repeats every step (~0.5 s), so only lags well below half a step are unambiguous.
LAG_TRUNK_ONLY_S = 0.2


def estimate_view_lag(
    pose: Pose, other: Pose, *, config: CleanConfig | None = None, max_lag_frames: int | None = None
) -> tuple[int, dict]:
    """The whole-frame lag between two synchronised views, from their shared tracks.

    Both cameras see the ``config.reference`` body parts (neck, hip). For each lag ``k``
    in ``-max_lag .. max_lag`` frames, frame ``f`` of ``pose`` is paired with frame ``f +
    k`` of ``other`` and a line per axis is fitted on those tracks (as for the alignment);
    the residuals are small only where the vertical bobbing of the trunk and its speed
    changes line up. That motion repeats with every *step*, so a lag one step away fits the
    trunk about as well. The legs tell them apart: at the right lag the other camera's leg,
    mapped into this image, is the *other* leg (half a stride out of phase: mostly apart
    from this camera's leg); one step off it moves with this camera's leg. Among the lags
    whose trunk residual is a local minimum below :data:`LAG_ACCEPT_RATIO` x the residual
    at lag 0 (clear evidence: a half-frame offset, or a recording without walking, stays
    0), those whose mapped ankle keeps less than half the largest leg separation are
    dropped and the best trunk fit wins. Without an ankle in both views the search stays
    within :data:`LAG_TRUNK_ONLY_S`.

    Parameters
    ----------
    pose, other
        The two views (image or gait coordinates), frames numbered alike.
    config
        Uses ``reference``, ``leg_chain``, ``likelihood_threshold`` and ``max_lag_s``.
    max_lag_frames
        Search range; default ``max_lag_s x fps`` (12 frames when the frame rate is unknown).

    Returns
    -------
    lag_frames, info
        ``other``'s frame ``f + lag_frames`` shows the moment of ``pose``'s frame ``f``
        (positive: ``other`` started earlier, so its frame numbers run ahead). ``info`` has
        ``scores`` (``{lag: x + y trunk residual px}``), ``leg_separation_px`` (``{lag:
        median distance}`` for the candidates), ``ratio`` (best / lag 0) and
        ``beyond_range`` with ``why``: ``"edge"``, the best match lies at the edge of the
        search, so the views are off by more than it; ``"legs"``, the trunk fits frame by
        frame but the other camera's leg moves with this camera's leg (about a step apart).
        Lag 0 is returned then. Lags beyond half a stride (~0.5 s) look like smaller ones
        (the gait repeats every stride): they cannot be found.

    Examples
    --------
    >>> from napari_gaitint.synthetic import generate_trial
    >>> c1, c3 = (generate_trial(0).views[v].pose for v in ("C1", "C3"))
    >>> late = c3.replace(index=c3.frames + 3)  # C3's numbering runs 3 frames ahead
    >>> estimate_view_lag(c1, c3)[0], estimate_view_lag(c1, late)[0]
    (0, 3)
    """
    config = config or CleanConfig()
    fps = pose.fps or other.fps
    if max_lag_frames is None:
        max_lag_frames = int(round(config.max_lag_s * fps)) if fps else (12 if config.max_lag_s > 0 else 0)
    k_max = int(max_lag_frames)
    refs = [r for r in config.reference if r in pose.bodyparts and r in other.bodyparts]
    # one leg point seen by both: the ankle (second of a full leg chain), else the first there is
    shared = [b for b in config.leg_chain if b in pose.bodyparts and b in other.bodyparts]
    ankle = config.leg_chain[1] if len(config.leg_chain) == len(LEG_CHAIN) else None
    legs = [ankle] if ankle in shared else shared[:1]
    if not legs:
        k_max = min(k_max, int(round(LAG_TRUNK_ONLY_S * fps)) if fps else 5)
    if k_max <= 0 or not refs or pose.n_frames < 10 or other.n_frames < 10:
        return 0, {}
    thr = config.likelihood_threshold
    names = refs + legs

    def grid(p: Pose, lo: int, n: int) -> np.ndarray:
        """(n, len(names), 2) positions of frames lo .. lo + n - 1 (NaN where missing)."""
        out = np.full((n, len(names), 2), np.nan)
        rows = p.frames.astype(np.int64) - lo
        idx = np.flatnonzero((rows >= 0) & (rows < n))
        v = p.values[idx][:, [p.bodypart_index(r) for r in names]]
        xy = v[..., :2]
        if p.has_likelihood and thr > 0:
            xy[v[..., 2] < thr] = np.nan
        out[rows[idx]] = xy
        return out

    # a window of the frames both views have (by number), widened by the search range
    lo = int(max(pose.frames.min(), other.frames.min()))
    hi = int(min(pose.frames.max(), other.frames.max()))
    if hi - lo < 10:
        return 0, {}
    if hi - lo + 1 > LAG_WINDOW_FRAMES:
        mid = (lo + hi) // 2
        lo, hi = mid - LAG_WINDOW_FRAMES // 2, mid + LAG_WINDOW_FRAMES // 2
    n = hi - lo + 1 + 2 * k_max
    A = grid(pose, lo - k_max, n)[k_max: n - k_max]  # pose's frames lo..hi
    B = grid(other, lo - k_max, n)
    nr = len(refs)
    scores, fits = _lag_fits(A[:, :nr], B[:, :nr], k_max)
    if 0 not in scores or len(scores) < 3:
        return 0, {"scores": scores}
    ks = sorted(scores)
    cands = [k for i, k in enumerate(ks) if k != 0 and scores[k] < LAG_ACCEPT_RATIO * scores[0]
             and (i == 0 or scores[ks[i - 1]] >= scores[k]) and (i == len(ks) - 1 or scores[ks[i + 1]] >= scores[k])]
    info = {"scores": scores, "ratio": 1.0, "beyond_range": False, "leg_separation_px": {}}
    if legs:  # the mapped leg must be the other leg (apart), not this one a step later
        sep = {}
        for k in [0, *cands]:
            (ax, bx), (ay, by) = fits[k]
            Bk = B[k_max + k: k_max + k + A.shape[0], nr]
            d = np.hypot(A[:, nr, 0] - (ax * Bk[:, 0] + bx), A[:, nr, 1] - (ay * Bk[:, 1] + by))
            d = d[np.isfinite(d)]
            sep[k] = float(np.median(d)) if d.size >= 10 else np.nan
        info["leg_separation_px"] = sep
        leg = _leg_length(pose, config)
        floor = LEGS_APART_LEG * leg if leg else 0.0
        seps = np.array(list(sep.values()), float)
        widest = float(np.nanmax(seps)) if np.isfinite(seps).any() else np.nan
        if np.isfinite(widest):
            cands = [k for k in cands if np.isfinite(sep[k]) and sep[k] >= max(0.5 * widest, floor)]
        if not cands and np.isfinite(sep[0]) and sep[0] < floor:
            # the trunk fits frame by frame but the other camera's leg moves with this
            # camera's leg: the views are about a step (an odd number of steps) apart
            info["beyond_range"], info["why"] = True, "legs"
            return 0, info
    if not cands:
        return 0, info
    best = min(cands, key=scores.get)
    info["ratio"] = float(scores[best] / scores[0]) if scores[0] > 0 else 1.0
    if abs(best) == k_max:  # still falling at the edge: the lag is larger than the search
        info["beyond_range"], info["why"] = True, "edge"
        return 0, info
    return best, info


def far_leg_from_other_view(
    pose: Pose, other: Pose, *, config: CleanConfig | None = None
) -> tuple[dict[str, np.ndarray], dict]:
    """The far leg of ``pose``'s camera, seen as the near leg of the opposite camera.

    ``other``'s leg-chain tracks are mapped into ``pose``'s coordinates by a per-axis
    linear map ``x = a_x x' + b_x``, ``y = a_y y' + b_y`` fitted (robustly) on the shared
    ``config.reference`` tracks (neck and hip) over the frames both views have; a negative
    ``a_x`` is the mirror between opposite cameras. Frames are matched by frame number.

    Returns
    -------
    far
        ``{bodypart: (n_frames, 2) array}`` in ``pose``'s coordinates (NaN where unknown).
    alignment
        ``{"ax", "bx", "ay", "by", "rms_x_px", "rms_y_px", "n_points", "x_map",
        "lag_frames", "lag_score_ratio", "lag_beyond_range", "lag_why"}``: frame ``f`` of
        ``pose`` was matched with frame ``f + lag_frames`` of ``other``
        (:func:`estimate_view_lag`; ``lag_beyond_range``: the views look out of sync by more
        than can be corrected, see there).

    Raises
    ------
    AnalysisError
        If fewer than 10 shared valid reference samples exist or they do not span the
        image (the subject must walk across both views).
    """
    config = config or CleanConfig()
    thr = config.likelihood_threshold
    # match frames by number (plus the cameras' lag, when one is clearly found)
    lag, lag_info = estimate_view_lag(pose, other, config=config)
    fa, fb = pose.frames, other.frames
    pos = pd.Index(fb).get_indexer(fa + lag)
    has = pos >= 0

    def _other_xy(name: str) -> np.ndarray:
        v = np.full((pose.n_frames, 2), np.nan)
        src = other.bodypart(name)
        good = other.has_xy(name)
        if other.has_likelihood and thr > 0:
            good &= ~(src[:, 2] < thr)
        sel = np.where(good, src[:, 0], np.nan), np.where(good, src[:, 1], np.nan)
        v[has, 0] = sel[0][pos[has]]
        v[has, 1] = sel[1][pos[has]]
        return v

    us, vs = [], []
    for name in config.reference:
        if name not in pose.bodyparts or name not in other.bodyparts:
            continue
        mine = pose.bodypart(name)[:, :2].copy()
        if pose.has_likelihood and thr > 0:
            mine[pose.bodypart(name)[:, 2] < thr] = np.nan
        theirs = _other_xy(name)
        ok = _finite2(mine) & _finite2(theirs)
        us.append(theirs[ok])
        vs.append(mine[ok])
    if not us or sum(len(u) for u in us) < 10:
        raise AnalysisError(
            f"{pose.source or 'pose'}: cannot align the other view ({other.source or 'other'}): "
            f"fewer than 10 frames where both have {'/'.join(config.reference)} with likelihood "
            f">= {thr}; check that the two files are the same trial, or clean without it"
        )
    u = np.concatenate(us)
    v = np.concatenate(vs)
    if np.ptp(u[:, 1]) > 1.0 and len(us) > 1:
        ay, by, ry = _robust_line(u[:, 1], v[:, 1])
    else:  # one reference only: keep the vertical scale, fit the offset
        ay = 1.0
        by = float(np.median(v[:, 1] - u[:, 1]))
        ry = float(np.std(v[:, 1] - u[:, 1] - by))
    how = "fit"
    if np.ptp(u[:, 0]) >= 50.0 and np.ptp(v[:, 0]) >= 50.0:
        ax, bx, rx = _robust_line(u[:, 0], v[:, 0])
    else:
        # The body stays in place (treadmill): the x scale cannot be fitted. Take its size
        # from the vertical fit (square pixels) and its sign from the direction the feet
        # swing in each view (fast forward swings vs slow stance).
        mine = _facing(pose, config)
        theirs = _facing(other, config)
        if mine == 0 or theirs == 0 or not 0.2 < abs(ay) < 5:
            raise AnalysisError(
                f"{pose.source or 'pose'}: the body reference barely moves across the image "
                f"and the feet do not show a walking direction; cannot align the other view "
                f"({other.source or 'other'}). Clean without it."
            )
        ax = float(abs(ay) * mine * theirs)
        bx = float(np.median(v[:, 0] - ax * u[:, 0]))
        rx = float(np.std(v[:, 0] - (ax * u[:, 0] + bx)))
        how = "treadmill"
    far = {}
    for name in config.leg_chain:
        if name in other.bodyparts and name in pose.bodyparts:
            t = _other_xy(name)
            far[name] = np.column_stack([ax * t[:, 0] + bx, ay * t[:, 1] + by])
    align = {
        "ax": ax, "bx": bx, "ay": ay, "by": by,
        "rms_x_px": rx, "rms_y_px": ry, "n_points": int(len(u)), "x_map": how,
        "lag_frames": lag, "lag_score_ratio": lag_info.get("ratio", 1.0),
        "lag_beyond_range": bool(lag_info.get("beyond_range", False)), "lag_why": lag_info.get("why", ""),
    }
    return far, align


def _facing(pose: Pose, config: CleanConfig) -> int:
    """+1/-1: the image direction the feet swing in relative to the body (0 if unclear).

    In walking, a foot moves forward fast (swing, ~40 % of the time) and backward slowly
    relative to the body (stance): the fastest relative motions point forward.
    """
    ref = next((r for r in config.reference if r in pose.bodyparts), None)
    feet = [b for b in ("toe", "heel", "ankle") if b in config.leg_chain and b in pose.bodyparts]
    if ref is None or not feet:
        return 0
    votes = []
    for b in feet:
        rel = pose.bodypart(b)[:, 0] - pose.bodypart(ref)[:, 0]
        d = np.diff(rel)
        d = d[np.isfinite(d)]
        if d.size < 10:
            continue
        fast = d[np.abs(d) >= np.percentile(np.abs(d), 80)]
        votes.append(np.sign(np.median(fast)))
    total = float(np.sum(votes)) if votes else 0.0
    return int(np.sign(total)) if abs(total) >= max(1, len(votes) / 2) else 0


def virtual_far_leg(xy: np.ndarray, bodyparts, chain, config: CleanConfig, fps: float | None
                    ) -> tuple[dict[str, np.ndarray] | None, float | None]:
    """The far leg of a camera that sees one leg, estimated from that leg half a stride away.

    In walking the two legs move alike, half a stride apart: relative to the body (the
    hip, else the neck), the far leg's joint at frame ``t`` is where the near leg's was at
    ``t - T/2`` and will be at ``t + T/2`` (``T``, the stride, from the autocorrelation of
    the ankle's, else the first leg joint's, x relative to the body between 0.5 and 3 s).
    The two are averaged where both exist, linearly interpolated between frames. A
    wrong-limb label half a stride away puts this estimate on the near leg, as the other
    camera's own wrong-limb labels put its leg (and are found the same way); an asymmetric
    gait moves it off the far leg, where it only finds nothing (the checks of the label's
    own track stay on: :func:`_chain_swaps`, ``far_is_estimate``).

    Parameters
    ----------
    xy
        ``(n_frames, n_bodyparts, 2)`` positions (NaN where missing), any coordinates.
    bodyparts, chain
        The names of ``xy``'s columns and of the leg joints to estimate.
    config
        ``reference`` gives the body reference (its second name, the hip, else the first).
    fps
        Frames per second (None: no estimate).

    Returns
    -------
    far, stride_frames
        ``{joint: (n_frames, 2)}`` (NaN where unknown) and ``T`` in frames; ``(None,
        None)`` when no stride can be found (fewer than ~1.5 strides, no body reference).
    """
    from .event_signals import estimate_period_frames  # (events does not import clean)

    refs = [r for r in config.reference[::-1] if r in bodyparts]
    joints = [b for b in chain if b in bodyparts]
    if not fps or not refs or not joints:
        return None, None
    body = xy[:, bodyparts.index(refs[0])]
    lead = joints[1] if len(joints) > 1 and len(chain) == len(LEG_CHAIN) else joints[0]
    rel_lead = xy[:, bodyparts.index(lead), 0] - body[:, 0]
    stride = estimate_period_frames(rel_lead, min_frames=0.5 * fps, max_frames=3.0 * fps)
    if stride is None:
        return None, None
    n = xy.shape[0]
    t = np.arange(n, dtype=float)
    far = {}
    for name in joints:
        rel = xy[:, bodyparts.index(name)] - body  # (n, 2), NaN where either is missing
        acc = np.zeros((n, 2))
        cnt = np.zeros(n)
        for shift in (-0.5 * stride, 0.5 * stride):
            src = t + shift
            i0 = np.floor(src).astype(np.int64)
            w = (src - i0)[:, None]
            ok = (i0 >= 0) & (i0 + 1 <= n - 1)
            i0c = np.clip(i0, 0, n - 2)
            val = (1 - w) * rel[i0c] + w * rel[i0c + 1]
            ok &= _finite2(val)
            acc[ok] += val[ok]
            cnt[ok] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            far[name] = body + acc / cnt[:, None]  # NaN where no shift has data
    return far, float(stride)
