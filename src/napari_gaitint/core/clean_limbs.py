"""Wrong-limb and outlier detectors of the cleaning step (step 2 of
:func:`~napari_gaitint.core.clean.clean_pose`): the seed's rule (``"baseline"``), the
two-view detector with its single-view fall-back (``"twoview"``) and one camera seeing
both legs (labels exchanged between the legs).
"""

from __future__ import annotations

import numpy as np

from ._runs import cover, run_bounds
from .clean_filters import _dist, _finite2
from .clean_flags import FLAG_OUTLIER, FLAG_SWAPPED, FLAG_WRONG_LIMB
from .config import CleanConfig


def _baseline(xy, flags, bodyparts, chain, far, margin):
    n = xy.shape[0]
    for j in range(len(bodyparts)):
        x = xy[:, j, 0]
        for t in range(1, n - 1):
            d1, d2 = abs(x[t] - x[t - 1]), abs(x[t] - x[t + 1])
            if d1 > margin and d2 > margin:  # NaN compares False
                xy[t, j] = (xy[t - 1, j] + xy[t + 1, j]) / 2.0
                flags[t, j] |= FLAG_OUTLIER
    if far is None:
        return
    for name in chain:
        if name not in far:
            continue
        j = bodyparts.index(name)
        x = xy[:, j, 0]
        fx = far[name][:, 0]
        for t in range(2, n):
            if abs(x[t] - x[t - 1]) > margin and abs(x[t] - fx[t]) < margin:
                xy[t, j] = 2.0 * xy[t - 1, j] - xy[t - 2, j]
                flags[t, j] |= FLAG_WRONG_LIMB


#: Offsets of the trusted frames a bridge uses around a run, ``k`` before and ``k`` after.
_BRIDGE_OFFSETS = {1: np.arange(-1, 1), 2: np.arange(-2, 2)}
#: ``[r, s]``: point ``s`` is another point than ``r`` (of ``2 k`` points).
_NOT_SELF = {1: ~np.eye(2, dtype=bool), 2: ~np.eye(4, dtype=bool)}


def _bridge_at(p: np.ndarray, trusted: np.ndarray, t: np.ndarray, k: int = 2,
               max_reach: int = 12, segment: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of ``p`` (n, 2) at frames ``t`` bridging their runs of non-trusted frames.

    Each run of non-trusted frames is bridged by the polynomial through the nearest (up to
    ``k = 2``) trusted frames before and after it within ``max_reach`` frames: cubic with
    2 + 2 frames, lower order with fewer; one side only: linear extrapolation from 2
    frames, constant from 1. The polynomial passes through all its points, so it is
    evaluated as a Lagrange polynomial, for all ``t`` at once.

    Returns ``(q, both)``: ``(t.size, 2)`` predictions (NaN at trusted frames or where no
    trusted frame is in reach) and whether trusted frames on both sides were used.

    ``segment``: ``p`` holds several tracks, track ``s`` in rows ``[s * segment, s *
    segment + n_s)`` (each followed by untrusted padding): each is bridged on its own, as
    if it were passed alone.
    """
    if k > 2:
        raise ValueError("k > 2 is not supported")
    t = np.asarray(t, dtype=np.int64)
    m = t.size
    tr_idx = np.flatnonzero(trusted)
    n_tr = tr_idx.size
    if n_tr == 0 or m == 0:
        return np.full((m, 2), np.nan), np.zeros(m, bool)
    i = tr_idx.searchsorted(t)  # trusted frames before t: tr_idx[:i]
    j = i[:, None] + _BRIDGE_OFFSETS[k]  # (m, 2k): k trusted frames before, k after
    ts = tr_idx[np.minimum(np.maximum(j, 0), n_tr - 1)]
    if segment is None:  # one track: frames [0, n), its trusted frames tr_idx[0:n_tr]
        lo, hi, i_lo, i_hi = 0, p.shape[0], 0, n_tr
    else:  # t's own track: frames [lo, hi) (the padding after it is never trusted)
        lo = t - t % segment
        hi = lo + segment
        i_lo, i_hi = tr_idx.searchsorted(lo), tr_idx.searchsorted(hi)
    a = np.where(i > i_lo, ts[:, k - 1] + 1, lo)  # start of t's untrusted run
    b = np.where(i < i_hi, ts[:, k], hi)  # its (exclusive) end
    # the frames before t are at indices below i <= i_hi, the ones after at i >= i_lo
    use = np.empty((m, 2 * k), bool)
    use[:, :k] = (j[:, :k] >= np.reshape(i_lo, (-1, 1))) & (ts[:, :k] >= (a - max_reach)[:, None])
    use[:, k:] = (j[:, k:] < np.reshape(i_hi, (-1, 1))) & (ts[:, k:] < (b + max_reach)[:, None])
    use &= ~trusted[t][:, None]
    # the frame next to t's run on each side is used whenever a further one is
    before, after = use[:, k - 1], use[:, k]
    x = (ts - a[:, None]).astype(float)  # as polyfit(ts - a, ...)
    xt = (t - a).astype(float)
    ys = np.where(use[..., None], p[ts], 0.0)  # (m, 2k, 2)
    # Lagrange basis r: the product over the other used points s of (xt - x_s) / (x_r - x_s)
    # (in the order of s; the factors of the other points are 1)
    other = use[:, :, None] & use[:, None, :] & _NOT_SELF[k]  # [m, r, s]
    den = x[:, :, None] - x[:, None, :]
    den[~other] = 1.0  # (x_r = x_s there)
    f = (xt[:, None, None] - x[:, None, :]) / den
    f[~other] = 1.0
    w = f[:, :, 0]
    for s in range(1, 2 * k):
        w = w * f[:, :, s]
    w[~use] = 0.0
    qq = np.einsum("mr,mrc->mc", w, ys)
    return np.where((before | after)[:, None], qq, np.nan), before & after


def _stencil_residual(p: np.ndarray) -> np.ndarray:
    """Deviation of each sample of ``p`` (n, ..., 2) from the cubic through its ±1, ±2
    neighbours (px): ``(n, ...)``."""
    n = p.shape[0]
    r = np.full(p.shape[:-1], np.nan)
    if n < 5:
        return r
    x, y = p[..., 0], p[..., 1]
    px = (-x[:-4] + 4 * x[1:-3] + 4 * x[3:-1] - x[4:]) / 6.0
    py = (-y[:-4] + 4 * y[1:-3] + 4 * y[3:-1] - y[4:]) / 6.0
    dx, dy = x[2:-2] - px, y[2:-2] - py
    r[2:-2] = np.sqrt(dx * dx + dy * dy)
    return r


def _robust_sigma(r: np.ndarray) -> float:
    r = r[np.isfinite(r)]
    if r.size < 5:
        return np.inf
    return float(1.4826 * np.median(r) / 1.1774)  # median of a 2-D Rayleigh = 1.1774 sigma


def _twoview(xy, flags, bodyparts, chain, far, config, max_run, margin, *, outliers: bool = True,
             far_is_estimate: bool = False, far_vetoes: bool = True) -> int:
    """Flag and remove (NaN) wrong-limb labels of the chain and (``outliers``) isolated
    outliers of every body part, in place (``margin`` in px).

    ``far_is_estimate``: ``far`` is not seen by another camera but estimated
    (:func:`virtual_far_leg`): the single-view checks stay on beside it (see
    :func:`_chain_swaps`). ``far_vetoes``: a label closer to the far leg than to the near
    track does not continue the track on one side's evidence alone (:func:`_continues`);
    off for the far leg of a file with both legs, whose labels are as unsure as the ones
    they check.

    Returns the number of the other view's leg labels judged wrong-limb and ignored.
    """
    m = margin
    n = xy.shape[0]
    cj = [bodyparts.index(b) for b in chain]
    n_theirs = 0
    if cj:
        P = xy[:, cj, :]  # (n, J, 2) copy (fancy index)
        if far is not None:
            F = np.stack([far.get(b, np.full((n, 2), np.nan)) for b in chain], axis=1)
            # The other view has wrong-limb labels of its own (then its "near" label sits on
            # our near leg). Find them the same way, with our labels as its far leg, and
            # drop them before judging ours: first a rough pass on ours, then the other
            # view's against our rough-cleaned labels, then ours against the cleaned other.
            cache: dict = {}  # per-track features shared by the passes
            kw = dict(far_is_estimate=far_is_estimate, far_vetoes=far_vetoes)
            if not far_is_estimate:
                rough = _chain_swaps(P, F, m, max_run, cache, **kw)
                theirs = _chain_swaps(F, np.where(rough[..., None], np.nan, P), m, max_run, cache, **kw)
                F = np.where(theirs[..., None], np.nan, F)
                n_theirs = int(theirs.sum())
        else:
            F = np.full_like(P, np.nan)
            cache, kw = {}, {}
        swapped = _chain_swaps(P, F, m, max_run, cache, **kw)
        for k, j in enumerate(cj):
            xy[swapped[:, k], j] = np.nan
            flags[swapped[:, k], j] |= FLAG_WRONG_LIMB

    # isolated outliers on every body part (two passes catch neighbouring spikes; a second
    # for the body parts that had one)
    cols = np.arange(xy.shape[1] if outliers else 0)
    for _ in range(2):
        if not cols.size:
            break
        r = _stencil_residual(xy[:, cols, :])  # (n, cols)
        sig = np.array([_robust_sigma(r[:, c]) for c in range(cols.size)])
        thr = np.maximum(2 * m, config.outlier_sigma * sig)
        # A one-frame spike of size s leaves residuals s at the spike and 2/3 s at its
        # neighbours: keep clear peaks only (a run of several bad frames gives flat
        # residuals, and flagging its good neighbours would be wrong).
        rr = np.nan_to_num(r, nan=0.0)
        peak = (rr > thr) & (0.8 * rr >= np.roll(rr, 1, axis=0)) & (0.8 * rr >= np.roll(rr, -1, axis=0))
        t, c = np.nonzero(peak)
        xy[t, cols[c]] = np.nan
        flags[t, cols[c]] |= FLAG_OUTLIER
        cols = cols[peak.any(0)]
    return n_theirs


def _other_leg(bodyparts, config: CleanConfig) -> tuple[list[int], list[int]] | None:
    """Column pairs ``(this leg's, the other leg's)`` of the body parts that swap together
    (hip and leg chain) when ``config.other_leg`` names the other leg in this file; None
    when it does not, or when no leg-chain body part of both legs is in the file."""
    if config.other_leg is None:
        return None
    mine_names = (config.reference[1] if len(config.reference) > 1 else None,) + config.leg_chain
    pairs = [(bodyparts.index(a), bodyparts.index(b)) for a, b in zip(mine_names, config.other_leg, strict=True)
             if a in bodyparts and b in bodyparts and a != b]
    if not any(bodyparts[a] in config.leg_chain for a, _ in pairs):
        return None
    return [a for a, _ in pairs], [b for _, b in pairs]


def _two_legs(values, flags, bodyparts, chain, legs, config, max_run, margin) -> int:
    """Both legs seen by one camera: exchange back the frames where the legs' labels are
    exchanged (x, y and likelihood of ``values``, (n, J, 3)), then flag and remove (NaN)
    each leg's wrong-limb labels with the other leg's own track as its far leg
    (:func:`_twoview`), and isolated outliers, in place.

    Returns the number of frames exchanged back.
    """
    mine, theirs = legs
    xy = values[..., :2]  # view
    in_chain = [k for k, j in enumerate(mine) if bodyparts[j] in chain]
    gap = max(1, max_run // 4)  # continuity is judged over gaps of up to ~0.1 s
    exchanged = _exchanged_legs(xy[:, [mine[k] for k in in_chain]], xy[:, [theirs[k] for k in in_chain]],
                                margin, max_gap_frames=gap)
    if exchanged.any():  # each label goes back to its leg with its likelihood
        a, b = values[:, mine], values[:, theirs]  # copies (fancy index)
        values[np.ix_(exchanged, mine)] = b[exchanged]
        values[np.ix_(exchanged, theirs)] = a[exchanged]
        had = np.isfinite(a[exchanged, :, 0]) | np.isfinite(b[exchanged, :, 0])
        for cols in (mine, theirs):
            flags[np.ix_(exchanged, cols)] |= np.where(had, FLAG_WRONG_LIMB | FLAG_SWAPPED, 0)
    # each leg against the other, from the same (exchanged back) labels
    this_chain = [bodyparts[mine[k]] for k in in_chain]
    other_chain = [bodyparts[theirs[k]] for k in in_chain]
    before = xy.copy()
    far_of_mine = {m: before[:, bodyparts.index(o)] for m, o in zip(this_chain, other_chain, strict=True)}
    far_of_theirs = {o: before[:, bodyparts.index(m)] for m, o in zip(this_chain, other_chain, strict=True)}
    _twoview(xy, flags, bodyparts, this_chain, far_of_mine, config, max_run, margin, outliers=False,
             far_vetoes=False)
    _twoview(xy, flags, bodyparts, other_chain, far_of_theirs, config, max_run, margin, far_vetoes=False)
    return int(exchanged.sum())


def _exchanged_legs(A: np.ndarray, B: np.ndarray, m: float, *, max_gap_frames: int) -> np.ndarray:
    """(n,) frames where the labels of two legs seen by one camera are exchanged.

    ``A`` and ``B`` are the two legs' ``(n, J, 2)`` joint tracks (NaN = missing). Each frame
    either keeps the legs' labels or exchanges them; the choice over all frames that makes
    both tracks the most continuous wins (a two-state Viterbi path). The cost of a frame is
    how far each leg's joints moved since the last frame (within ``max_gap_frames``) that
    had both legs' labels of that joint, each distance capped at ``4 m``; changing between
    keeping and exchanging costs ``m`` (a flip must make the tracks clearly more
    continuous; where the legs cross, both readings fit and nothing changes), and each
    exchanged frame ``m / 4``: the labels as given are right unless the ends of an
    exchanged run say otherwise (a run between two ambiguous places, a crossing and a lost
    frame say, is left as it is). An exchange at two clear jumps, the legs apart, saves
    several ``m`` per joint at each end and is found whatever its length within a stride or
    two.
    """
    n, J = A.shape[:2]
    both = _finite2(A) & _finite2(B)
    stay = np.zeros(n)
    swap = np.zeros(n)
    cap = 4.0 * m
    for k in range(J):
        idx = np.flatnonzero(both[:, k])
        t, p = idx[1:], idx[:-1]
        near = t - p <= max_gap_frames
        t, p = t[near], p[near]
        a, b, ap, bp = A[t, k], B[t, k], A[p, k], B[p, k]
        stay[t] += np.minimum(_dist(a, ap), cap) + np.minimum(_dist(b, bp), cap)
        swap[t] += np.minimum(_dist(a, bp), cap) + np.minimum(_dist(b, ap), cap)
    flip, per_frame = float(m), 0.25 * float(m)
    c0, c1 = 0.0, per_frame  # best cost so far ending in "kept" / "exchanged"
    came = np.zeros((n, 2), bool)  # came[t, s]: state s at t came from the other state
    for t, (st, sw) in enumerate(zip(stay.tolist(), swap.tolist(), strict=True)):
        if t == 0:
            continue
        k0, x0 = c0 + st, c1 + sw + flip
        k1, x1 = c1 + st, c0 + sw + flip
        came[t] = (x0 < k0, x1 < k1)
        c0, c1 = min(k0, x0), min(k1, x1) + per_frame
    out = np.zeros(n, bool)
    s = int(c1 < c0)
    for t in range(n - 1, -1, -1):
        out[t] = bool(s)
        if came[t, s]:
            s = 1 - s
    return out


#: Frames :func:`_one_sided_at` extrapolates from: 1, 2, 3 before, then 1, 2, 3 after.
_SIDE_OFFSETS = np.array([-1, -2, -3, 1, 2, 3])


def _one_sided_at(p: np.ndarray, trusted: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Extrapolations of ``p`` (n, 2) to frames ``t`` from the trusted frames just before
    them (linear from 2, quadratic from 3) and just after them (same): ``(t.size, 4, 2)``,
    linear from before and after, then quadratic from before and after; NaN where not
    available."""
    n = p.shape[0]
    s = t[:, None] + _SIDE_OFFSETS
    sc = np.minimum(np.maximum(s, 0), n - 1)
    v = np.where((trusted[sc] & (sc == s))[..., None], p[sc], np.nan).reshape(t.size, 2, 3, 2)
    v1, v2, v3 = v[:, :, 0], v[:, :, 1], v[:, :, 2]  # (t.size, side, 2): 1, 2, 3 frames away
    return np.concatenate([2 * v1 - v2, 3 * v1 - 3 * v2 + v3], axis=1)


def _continues(p: np.ndarray, trusted: np.ndarray, t: np.ndarray, m: float, *,
               at_edge: bool, segment: int | None = None, far: np.ndarray | None = None) -> np.ndarray:
    """Whether the labels ``p[t]`` continue the trusted track: within ``m`` of the bridge
    over their run or of an extrapolation from the trusted frames next to them.

    At a track's start or end (``at_edge`` frames next to a trusted one, with trusted
    frames on one side only) only one side predicts: ``2 m`` is accepted there, what would
    not be judged a swap (see :func:`_chain_swaps`), so the track can continue.
    ``segment``: several tracks in one array, as in :func:`_bridge_at` (their padding,
    at least 3 frames, is never trusted).

    ``far`` (aligned with ``p``, NaN where unknown): where the two legs cross, the label
    can go on along either leg and both continue the track on that side. A label within
    ``2 m`` of the far leg that only continues an extrapolation from one side, while the
    bridge from both sides puts the near leg more than ``m`` away and the label closer to
    the far leg than to it, is
    not accepted here (it is judged: :func:`_chain_swaps`); nor is a label that is closer
    to the far leg than to its one-sided prediction and only within the ``2 m`` allowed
    at a track's ends.
    """
    if not t.size:
        return np.zeros(0, bool)
    pt = p[t]
    # the closest extrapolation (inf: none)
    e = np.fmin.reduce(_dist(pt[:, None], _one_sided_at(p, trusted, t)), axis=1, initial=np.inf)
    ok = e <= m  # continues an extrapolation: accepted unless the bridge says the far leg
    d_far = _dist(pt, far[t]) if far is not None else np.full(t.size, np.nan)
    chk = ok & (d_far < 2 * m)  # (NaN: no far leg there)
    need = np.flatnonzero(chk | ~ok)  # one bridge for both checks
    if need.size:
        q, both = _bridge_at(p, trusted, t[need], segment=segment)
        eq = _dist(pt[need], q)
        veto = chk[need] & both & (eq > m) & (d_far[need] < eq)
        ok[need[veto]] = False
        judge = ~chk[need]  # the labels that continue no extrapolation: the bridge decides
        rest, eq, both = need[judge], eq[judge], both[judge]
        e_rest = np.minimum(e[rest], np.where(np.isnan(eq), np.inf, eq))
        accept = e_rest <= (np.where(both, m, 2 * m) if at_edge else m)
        # the one-sided allowance is not for a label on the far leg
        accept &= (e_rest <= m) | ~(d_far[rest] < e_rest)
        ok[rest] = accept
    return ok


def _continues_context(trusted: np.ndarray, t: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Open intervals ``(lo, hi)`` of frames around frames ``t`` whose trust decides
    :func:`_continues` there: it uses the ``k`` nearest trusted frames before and after
    (:func:`_bridge_at`) and frames ``t +- 3`` (:func:`_one_sided_at`). Until a frame in
    there turns trusted, the outcome at ``t`` cannot change."""
    n = trusted.shape[0]
    tr_idx = np.flatnonzero(trusted)
    if not tr_idx.size:
        return np.full(t.size, -1, np.int64), np.full(t.size, n, np.int64)
    i = np.searchsorted(tr_idx, t)
    lo = np.where(i >= k, tr_idx[np.maximum(i - k, 0)], -1)
    hi = np.where(i + k - 1 < tr_idx.size, tr_idx[np.minimum(i + k - 1, tr_idx.size - 1)], n)
    return np.minimum(lo, t - 4), np.maximum(hi, t + 4)


def _chain_swaps(P: np.ndarray, F: np.ndarray, m: float, max_run: int, cache: dict | None = None,
                 *, far_is_estimate: bool = False, far_vetoes: bool = True) -> np.ndarray:
    """Wrong-limb labels ``(n, J)`` of the leg chain ``P`` (n, J, 2), NaN = missing.

    ``F`` (n, J, 2) is the far leg where known (NaN elsewhere); ``m`` the margin in px.
    ``cache``: a dict shared by calls on the same arrays (the jumps and the smoothness of a
    track are computed once per array).

    1. Candidates. With the far leg known: labels within ``3 m`` of it (and the whole
       chain in a frame where most of it is). Without it: labels in a run between two
       jumps of the track at most ``max_run + 1`` frames apart. Where both are known and
       the label is clearly off the far leg, jump runs are candidates only if the far
       track jumps there too (both views wrong at once). All other labels are trusted.
       Inside candidate runs longer than ``max_run`` (legs close for long), smooth
       stretches are trusted.
    2. Trust grows into candidate runs from their edges: a candidate that continues the
       trusted track (within ``m`` of the cubic bridge over the run, or of a linear or
       quadratic extrapolation from the neighbouring trusted frames; ``2 m`` at the start
       or end of a track) is accepted. Legs crossing (near and far leg together) and
       frames where the *other* view was wrong (its label then lies on our near leg) are
       accepted this way; not (``far_vetoes``) a label closer to the far leg than to the
       bridge from both sides (after a crossing the label can go on along either leg).
    3. A remaining candidate is a wrong-limb label when
       * the far leg is known, the label is closer to it than to the bridged near track,
         more than ``m`` off that track, and the legs are more than ``m`` apart there;
       * or the far leg is unknown and the label is more than ``2 m`` off the bridge
         while another joint of the chain is too (``3 m`` alone);
       * or the two views exchanged their labels: ours continues the far track and
         theirs our near track.
       With a one-sided bridge (start or end of a track) the thresholds grow by ``m``
       per frame from the last trusted frame. Runs longer than ``max_run`` frames, where
       the bridge is unreliable, are judged only at their two frames next to trusted ones.

    ``far_is_estimate``: ``F`` is an estimate of the far leg, not another camera's labels
    (:func:`virtual_far_leg`): the checks without a far leg (jump runs; a label far off
    the bridge) apply everywhere beside the far-leg checks, and there is no other view to
    be wrong at the same time.
    """
    n, J = P.shape[:2]
    valid = _finite2(P)
    has_f = _finite2(F) & valid
    d_pf = _dist(P, F)
    near_far = has_f & (d_pf < 3 * m)
    frame_cand = near_far.sum(1) * 2 >= np.maximum(has_f.sum(1), 1)
    cand = near_far | (frame_cand[:, None] & has_f)
    trusted = valid & ~cand
    # Candidate runs longer than any plausible swap (legs close for long, e.g. the knees of
    # a short step): smooth stretches inside them seed the trust. (A frame next to or in a
    # short swap run has a residual of at least a third of the swap distance, and so does
    # one of its neighbours at half of it: require all three to be small.)
    cache = {} if cache is None else cache

    def memo(key, fn):  # entries keep their array alive, so its id stays its own
        if key not in cache:
            cache[key] = fn()
        return cache[key][1]

    smooth = memo(("smooth", id(P)), lambda: (P, _smooth_frames(P, valid, m)))
    # The joints' tracks are judged together, laid end to end, each followed by untrusted
    # padding (see _grow_trust); their runs of untrusted frames end at the padding.
    seg = n + _PAD_FRAMES
    N = J * seg
    inside = _end_to_end(np.ones((n, J), bool), seg, False)
    tf = _end_to_end(trusted, seg, False)
    a, b = run_bounds(~tf & inside)
    long = b - a > max_run
    tf |= cover(N, a[long], b[long]) & _end_to_end(valid & smooth, seg, False)
    # Candidates from the track itself (needed where the far leg is unknown, or where
    # both views are wrong at once): frames between two jumps at most max_run + 1 apart.
    # A jump is a label more than 2 m off the linear extrapolation of the two previous
    # frames (on clean tracks of walking at 25 Hz that is rarer than 1 in 1000).
    between = memo(("between", id(P)), lambda: (P, _between_jumps(P, 2 * m, max_run)))
    seen_f = np.zeros_like(has_f) if far_is_estimate else has_f  # another camera's far leg
    jump_nof = valid & between & ~seen_f
    # Where the far leg is known and the label is clearly off it, a jump run is only
    # suspect if the far track jumps there too (both views wrong at once: the labels
    # exchanged); other jump runs keep their trust (fast swings also jump).
    between_f = memo(("between", id(F)), lambda: (F, _between_jumps(F, 2 * m, max_run)))
    jump_f = valid & between & seen_f & ~near_far & between_f
    jumps = _end_to_end(jump_nof | jump_f, seg, False)
    cf = _end_to_end(cand, seg, False) | jumps
    tf &= ~jumps
    Pf = _end_to_end(P, seg, np.nan)
    Ff = _end_to_end(F, seg, np.nan)
    tf = _grow_trust(Pf, tf, cf, m, seg, Ff if far_vetoes else None)
    a, b = run_bounds(~tf & inside)
    short = b - a <= max_run
    reliable = (cover(N, a[short], b[short]) | cover(N, a[~short], a[~short] + 2)
                | cover(N, b[~short] - 2, b[~short]))
    t = np.flatnonzero(cf & ~tf & reliable)  # judged frames (the rest stay False)
    k, f = np.divmod(t, seg)  # their joint and frame
    q, both = _bridge_at(Pf, tf, t, segment=seg)  # the bridge over each frame's run
    eq = np.nan_to_num(_dist(Pf[t], q), nan=-np.inf)
    sep = np.nan_to_num(_dist(q, Ff[t]), nan=-np.inf)
    on_far = has_f[f, k] & (d_pf[f, k] < eq)
    # extrapolating from one side only (track starts or ends) is less sure, the more
    # so the further from the last trusted frame (of the track; inf: none), a run's end
    run = np.searchsorted(a, t, side="right") - 1  # t's run of untrusted frames
    start = t - f  # of t's track
    dist = np.minimum(np.where(a[run] > start, t - a[run] + 1, np.inf),
                      np.where(b[run] < start + n, b[run] - t, np.inf))
    need = np.where(both, m, m * (1 + dist))
    judged = both | (dist <= 2)  # no judging far beyond the end of a track
    swapped = np.zeros((n, J), bool)
    weak = np.zeros((n, J), bool)
    strong = np.zeros((n, J), bool)
    swapped[f, k] = judged & on_far & (eq > need) & (sep > need)
    weak[f, k] = judged & ~seen_f[f, k] & (eq > need + m)
    strong[f, k] = weak[f, k] & (eq > need + 2 * m)
    lone = strong | (weak & (weak.sum(1, keepdims=True) >= 2))
    if far_is_estimate:
        return swapped | lone
    targets = _end_to_end(jump_f, seg, False) & ~tf & ~cover(N, a[~short], b[~short])
    exchanged = _exchanged(Pf, Ff, tf, _end_to_end(has_f & ~between_f, seg, False), targets, m, seg)
    return swapped | lone | exchanged.reshape(J, seg)[:, :n].T


#: Untrusted frames after each track when the joints' tracks are laid end to end:
#: :func:`_one_sided_at` looks 3 frames away, :func:`_continues_context` 4.
_PAD_FRAMES = 8


def _end_to_end(a: np.ndarray, seg: int, fill) -> np.ndarray:
    """The tracks ``a[:, k]`` of ``a`` (n, J, ...) laid end to end, each followed by
    ``seg - n`` frames of ``fill``: ``(J * seg, ...)``, track ``k`` in rows ``[k * seg,
    k * seg + n)``."""
    n, J = a.shape[:2]
    out = np.full((J, seg) + a.shape[2:], fill, dtype=a.dtype)
    out[:, :n] = a.swapaxes(0, 1)
    return out.reshape((J * seg,) + a.shape[2:])


def _grow_trust(Pf: np.ndarray, tf: np.ndarray, cf: np.ndarray, m: float, seg: int,
                Ff: np.ndarray | None = None) -> np.ndarray:
    """Step 2 of :func:`_chain_swaps`: trust grows into the candidate runs of each joint's
    track from their edges, one frame per pass, while a candidate continues the trusted
    track (:func:`_continues`, with the far leg ``Ff`` where known). Returns the grown
    trust (a new array).

    All joints are judged in one call per pass: their tracks ``Pf`` (trust ``tf``,
    candidates ``cf``, far leg ``Ff``) are laid end to end, each followed by untrusted
    padding (:func:`_end_to_end`, ``seg`` frames per track), and bridged each on its own
    (``segment``).
    """
    N = tf.shape[0]
    J = N // seg
    tf = tf.copy()
    changed = np.ones(J, bool)  # a track's outcome only changes when its trust did
    # Frames judged not to continue the track, per (next to a trusted frame or not), with
    # the open interval of frames whose trust decided it: they are not judged again until
    # a frame in there turns trusted (the outcome could not change before). Near a track's
    # ends the interval may reach into the next track: that only means judging again.
    # (flat: mode 0, next to a trusted frame, in [0, N); mode 1 in [N, 2 N))
    rejected = np.zeros(2 * N, bool)
    ctx_lo = np.zeros(2 * N, np.int64)
    ctx_hi = np.zeros(2 * N, np.int64)

    def judge(t, mode):
        r = t + mode * N
        fresh = ~rejected[r]
        ok = np.zeros(t.size, bool)
        if fresh.any():
            ok_fresh = _continues(Pf, tf, t[fresh], m, at_edge=mode == 0, segment=seg, far=Ff)
            ok[fresh] = ok_fresh
            no = r[fresh][~ok_fresh]
            if no.size:
                rejected[no] = True
                ctx_lo[no], ctx_hi[no] = _continues_context(tf, no - mode * N)
        return ok

    waiting = cf & ~tf  # candidates not trusted (yet)
    for _ in range(seg - _PAD_FRAMES):  # (a track grows by a frame or stops in each pass)
        todo = np.flatnonzero(waiting.reshape(J, seg) & changed[:, None])
        if not todo.size:
            break
        # Trust grows from the edges of the trusted track; only where no candidate next to
        # a trusted frame of a track continues it are the track's others accepted (so the
        # frames next to trusted ones are judged first, and the rest only when needed).
        # (The padding around each track is never trusted: frame -1 is the last one.)
        ek = tf[todo - 1] | tf[todo + 1]
        t = todo[ek]
        grown_t = t[judge(t, 0)]
        rest = todo[~ek]
        if grown_t.size:
            rest = rest[~(np.bincount(grown_t // seg, minlength=J) > 0)[rest // seg]]
        new = np.concatenate([grown_t, rest[judge(rest, 1)]]) if rest.size else grown_t
        if not new.size:
            break
        changed = np.bincount(new // seg, minlength=J) > 0
        new.sort()
        tf[new] = True
        waiting[new] = False
        f = np.flatnonzero(rejected)
        inside = np.searchsorted(new, ctx_hi[f]) - np.searchsorted(new, ctx_lo[f], side="right")
        rejected[f[inside > 0]] = False
    return tf


def _smooth_frames(P: np.ndarray, valid: np.ndarray, m: float) -> np.ndarray:
    """(n, J) frames where the track and both its neighbours deviate less than ``m`` from
    the cubic through their +-1, +-2 neighbours."""
    r = np.nan_to_num(_stencil_residual(np.where(valid[..., None], P, np.nan)), nan=np.inf)
    r[1:-1] = np.maximum(np.maximum(r[:-2], r[1:-1]), r[2:])
    return r < m


def _jumps(P: np.ndarray, valid: np.ndarray, thr: float, max_lead: int = 3) -> np.ndarray:
    """(n, J) labels more than ``thr`` off the linear extrapolation of the track's two
    previous labels; over a gap (the last label ``d`` <= ``max_lead`` frames back) the
    extrapolation reaches ``d`` frames and the threshold grows to ``d * thr``."""
    n, J = P.shape[:2]
    fwd0 = np.full(P.shape, np.nan)
    if n >= 3:
        fwd0[2:] = 2 * P[1:-1] - P[:-2]
    jump = np.nan_to_num(_dist(P, fwd0), nan=0.0) > thr
    # labels whose previous two frames are not both there (few): from the two labels before
    gap = valid.copy()
    gap[2:] &= ~(valid[1:-1] & valid[:-2])
    gap[:2] = False
    # (all joints at once: their frames end to end, frame t of joint k at k n + t)
    gap_k, gap_t = np.nonzero(gap.T)
    if gap_k.size:
        idx = np.flatnonzero(valid.T)
        pos = np.searchsorted(idx, gap_k * n + gap_t)
        keep = pos >= 2
        pos, k = pos[keep], gap_k[keep]
        t, t1, t2 = idx[pos], idx[pos - 1], idx[pos - 2]
        lead = t - t1
        ok = (t2 >= k * n) & (lead <= max_lead)  # the two labels before: the joint's own
        t, t1, t2, lead, k = t[ok], t1[ok], t2[ok], lead[ok], k[ok]
        Pt = P.transpose(1, 0, 2).reshape(J * n, 2)
        pred = Pt[t1] + (lead / (t1 - t2))[:, None] * (Pt[t1] - Pt[t2])
        jump[t - k * n, k] = _dist(Pt[t], pred) > thr * lead
    return jump


def _between_jumps(P: np.ndarray, thr: float, max_run: int) -> np.ndarray:
    """(n, J) frames between two jumps of a track at most ``max_run + 1`` frames apart.

    A jump is a label more than ``thr`` off the linear extrapolation of the two previous
    frames (on clean tracks of walking at 25 Hz with ``thr`` = 30 px that is rarer than 1
    in 1000 frames); a wrong-limb run starts and ends with one. The run of a jump ``a``
    ends at the first later jump that lands back within ``thr`` of the track before ``a``
    (extrapolated linearly from its two last frames), else at the last jump in reach: two
    short runs a few frames apart stay two runs, with the good labels between them out.
    """
    n, J = P.shape[:2]
    valid = _finite2(P)
    jump = _jumps(P, valid, thr)
    between = np.zeros((n, J), bool)
    for k in range(J):
        idx = np.flatnonzero(jump[:, k])
        if idx.size < 2:
            continue
        # each jump a with a later one at most max_run + 1 frames on: b, the last such ...
        i_all = np.arange(idx.size)
        last = np.searchsorted(idx, idx + max_run + 1, side="right") - 1
        has = last > i_all
        # ... or the first that lands back on the track before a (extrapolated linearly)
        land = np.full(idx.size, -1)
        ok = has & (idx >= 2)
        if ok.any():
            a = idx[ok]
            base, step = P[a - 1, k], P[a - 1, k] - P[a - 2, k]
            for o in range(int((last - i_all)[ok].max()), 0, -1):  # the first one wins
                j = np.minimum(i_all[ok] + o, idx.size - 1)
                b = idx[j]
                back = (j <= last[ok]) & (_dist(P[b, k], base + (b - a + 1)[:, None] * step) <= thr)
                land[np.flatnonzero(ok)[back]] = j[back]
        # jumps at b and b + 1 of a run that landed back (predicted from the run) open none
        back_end = -1
        for i in np.flatnonzero(has).tolist():
            if idx[i] <= back_end + 1:
                has[i] = False
            elif land[i] >= 0:
                last[i], back_end = land[i], idx[land[i]]
        a, b = idx[has], idx[last[has]]
        # the closing jump lands back on the track, unless the track ends there
        ends_there = (b + 1 >= n) | ~valid[np.minimum(b + 1, n - 1), k]
        between[:, k] = cover(n, a, np.where(ends_there, b + 1, b))
    return between


def _exchanged(Pf, Ff, base, base_f, targets, m, seg):
    """Frames where our label continues the far track and the other view's label continues
    our near track (both views wrong at once), among ``targets``; the tracks laid end to
    end (``seg`` frames each, as in :func:`_grow_trust`)."""
    out = np.zeros(targets.shape, bool)
    t = np.flatnonzero(targets)
    if not t.size:
        return out
    q, _ = _bridge_at(Pf, base, t, segment=seg)
    qf, _ = _bridge_at(Ff, base_f, t, segment=seg)
    pk, fk = Pf[t], Ff[t]
    with np.errstate(invalid="ignore"):
        e_pq = _dist(pk, q)
        e_pf = _dist(pk, qf)
        e_fq = _dist(fk, q)
        e_ff = _dist(fk, qf)
        out[t] = ((e_pf < e_pq) & (e_fq < e_ff) & (e_pq > 2 * m)
                  & (_dist(q, qf) > 2 * m))
    return out
