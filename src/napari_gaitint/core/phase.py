"""Gait events of both legs together: each leg's events checked against the other leg's.

The two legs' events alternate at known phases: a heel strike of one leg is followed by the
other leg's toe off after the double support (about a tenth of a stride in walking; in
running the other toe leaves *before* the strike), and a toe off follows the other leg's
heel strike by as much. :func:`check_leg_phase` measures that offset on the recording itself
(the median over its events, so walking, running and asymmetric gait all work) and uses it
where one leg's events disagree with the other's:

* **recovered**: a confident event of one leg whose partner is missing on the other leg
  while that leg shows a hole there (no event of the partner's kind within a third of a
  stride) gets the partner from a second, tolerant pass of the detector over the other leg
  (no wrong-limb despiking, gaps up to 0.4 s bridged, weaker extrema), where it lies within
  the tolerance of the expected time and not at the edge of the data (a partial window):
  confidence at most 0.45, ``why`` says ``recovered from the other leg``;
* **dropped**: an event without a partner where the other leg has events around it, and
  which already breaks its own leg's alternation (``phase conflict``), is left out;
* **flagged**: any other event without its partner gets half the confidence and
  ``other leg's phase`` in ``why``.

Only where both legs have events can anything be judged; the timing of an event that has its
partner is never changed (on real walking a joint estimate of the two legs' times did not
beat each leg's own: ``validation/realgait_experiments.py``).

:func:`detect_events_both_legs` is the entry point where both legs are seen: the two views of
a trial pair (``gaitint analyze``; the other camera's frames shifted by the views' lag) and
one camera's file with both legs (a pose estimator's ``LHeel``/``RHeel``). A single leg's
file keeps :func:`~napari_gaitint.core.events.detect_events` alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frames import bare
from .config import LOW_CONFIDENCE
from .errors import AnalysisError
from .events import HEEL_STRIKE, TOE_OFF, detect_events, phase_conflicts
from .pose import Pose

#: Settings of the tolerant second pass that looks for a missing partner event.
TOLERANT_PASS = {"despike": None, "max_gap_s": 0.4, "min_prominence": 0.15, "min_distance_stride": 0.3}
#: How far (in strides) an event may be from where the other leg's events put it.
TOLERANCE_STRIDE = 0.12
#: Confidence of a recovered event is at most this (below :data:`LOW_CONFIDENCE`: checked first).
RECOVERED_CONFIDENCE = 0.45
_PARTNER = {HEEL_STRIKE: TOE_OFF, TOE_OFF: HEEL_STRIKE}
#: Reasons that, with no partner on the other leg, make an event an artefact: dropped.
_UNSURE = ("phase conflict", "edge of the data")


def detect_events_both_legs(
    poses: tuple[Pose, Pose],
    *,
    sides: tuple[str, str],
    fps: float | None = None,
    lag_frames: float | None = 0.0,
    flags: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
    min_likelihood: float | None | tuple[float | None, float | None] = None,
    tolerance_stride: float = TOLERANCE_STRIDE,
    **kwargs,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events of two legs, each detected on its own, then checked against each other.

    Parameters
    ----------
    poses
        The two legs' poses in gait coordinates (each with ``heel``, ``toe``, ``ankle`` and
        the body reference, as :func:`~napari_gaitint.core.events.detect_events` needs):
        the two views of a trial pair, or the two legs of one file.
    sides
        The side of each pose's leg (``"left"``/``"right"``), written to the tables.
    fps
        Frame rate (Hz); defaults to each pose's own.
    lag_frames
        The second pose's frame ``f + lag_frames`` shows the moment of the first pose's
        frame ``f`` (0 for the two legs of one file; ``CleanResult.summary["alignment"]``
        for two cameras). None: estimated from the poses' shared body parts
        (:func:`~napari_gaitint.core.clean.estimate_view_lag`).
    flags
        Cleaning flags of each pose (``CleanResult.flags``) or None.
    min_likelihood
        The likelihood cut-off of :func:`~napari_gaitint.core.events.detect_events`, one
        for both poses or one per pose (e.g. a cleaned view and a raw one).
    tolerance_stride
        How far (in strides) an event may be from where the other leg puts it.
    **kwargs
        Settings of :func:`~napari_gaitint.core.events.detect_events` (the method and its
        defaults), the same for both legs.

    Returns
    -------
    tuple of pandas.DataFrame
        Each leg's events table, as :func:`~napari_gaitint.core.events.detect_events`
        returns it, after :func:`check_leg_phase`; ``attrs["leg_phase"]`` says what was
        recovered, dropped or flagged, or why the legs were not checked (``checked``
        False: the same side twice, different frame rates, or views that cannot be
        matched frame by frame).

    Raises
    ------
    AnalysisError
        As :func:`~napari_gaitint.core.events.detect_events`, for either leg.
    """
    cut = tuple(min_likelihood) if isinstance(min_likelihood, (tuple, list)) else (min_likelihood,) * 2
    events = tuple(detect_events(p, side=s, fps=fps, flags=f, min_likelihood=m, **kwargs)
                   for p, s, f, m in zip(poses, sides, flags, cut, strict=True))
    rates = {float(fps or p.fps or 0) for p in poses}
    why_not = None
    if sides[0] == sides[1]:
        why_not = f"both poses show the {sides[0]} leg"
    elif len(rates) > 1:
        why_not = "the poses have different frame rates"
    elif lag_frames is None:
        from .clean_align import estimate_view_lag

        lag_frames, info = estimate_view_lag(poses[0], poses[1])
        if info.get("beyond_range"):
            why_not = "the views cannot be matched frame by frame"
    if why_not:
        for ev in events:
            ev.attrs["leg_phase"] = {"checked": False, "why": why_not}
        return events
    tolerant: dict[int, pd.DataFrame | None] = {}

    def redetect(i: int) -> pd.DataFrame | None:
        if i not in tolerant:
            kw = {**kwargs, **TOLERANT_PASS,
                  "stride_s": events[i].attrs["stride_frames"] / events[i].attrs["fps"]}
            try:
                tolerant[i] = detect_events(poses[i], side=sides[i], fps=fps, flags=flags[i],
                                            min_likelihood=cut[i], **kw)
            except AnalysisError:  # nothing to recover from
                tolerant[i] = None
        return tolerant[i]

    return check_leg_phase(events, lag_frames=lag_frames, redetect=redetect,
                           tolerance_stride=tolerance_stride)


def check_leg_phase(
    events: tuple[pd.DataFrame, pd.DataFrame],
    *,
    lag_frames: float = 0.0,
    redetect=None,
    tolerance_stride: float = TOLERANCE_STRIDE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check two legs' events against each other (see the module): recover, drop, flag.

    Parameters
    ----------
    events
        The two legs' tables from :func:`~napari_gaitint.core.events.detect_events`
        (``frame`` in each pose's own numbering; ``attrs["stride_frames"]`` used).
    lag_frames
        As in :func:`detect_events_both_legs`.
    redetect
        Optional ``redetect(i) -> DataFrame | None``: the tolerant pass over leg ``i``;
        without it nothing is recovered.
    tolerance_stride
        How far (in strides) an event may be from where the other leg puts it.

    Returns
    -------
    tuple of pandas.DataFrame
        The two tables (same columns and attrs), with ``attrs["leg_phase"]``:
        ``{"checked": True, "offset_stride": {kind: ...}, "recovered": n, "dropped": n,
        "flagged": n}`` (``offset_stride`` empty when too few pairs of events tell the
        phases: then nothing is changed).
    """
    tables = [ev.copy() for ev in events]
    for ev, src in zip(tables, events, strict=True):
        ev.attrs = dict(src.attrs)
    shift = (0.0, -float(lag_frames))  # onto the first leg's clock
    strides = [float(ev.attrs.get("stride_frames") or np.nan) for ev in tables]
    stride = float(np.nanmean(strides)) if np.isfinite(strides).any() else np.nan
    report = {"checked": True, "offset_stride": {}, "recovered": 0, "dropped": 0, "flagged": 0}
    if not np.isfinite(stride) or any(len(ev) == 0 for ev in tables):
        return _finish(tables, report)

    # the columns taken once per table version (each column taken from a table copies its attrs)
    cols = [_columns(ev) for ev in tables]
    offsets = _typical_offsets(cols, shift, stride)
    report["offset_stride"] = {k: round(v, 3) for k, v in offsets.items()}
    if len(offsets) < 2:  # too few pairs to know the gait's phases
        return _finish(tables, report)
    tol = tolerance_stride * stride

    # 1. recover a missing partner of a confident event where the other leg has a hole
    if redetect is not None:
        for i in (0, 1):
            j = 1 - i
            ev_j = tables[j]
            pos_i = cols[i]["frame"] + shift[i]
            kinds_i, conf_i, why_i = (cols[i][c] for c in ("event", "confidence", "why"))
            pos_j, kinds_j = cols[j]["frame"] + shift[j], cols[j]["event"]
            for r, p in enumerate(pos_i):
                kind = kinds_i[r]
                if conf_i[r] < LOW_CONFIDENCE or "phase conflict" in why_i[r]:
                    continue
                want = p + offsets[kind] * stride
                partner = _PARTNER[kind]
                same = pos_j[kinds_j == partner]
                if same.size and np.min(np.abs(same - want)) <= stride / 3:
                    continue  # the other leg has that event (maybe off: judged below)
                found = redetect(j)
                if found is None or not len(found):
                    continue
                # in a partial window at the edge of the data the tolerant pass times badly
                cand = found[(found["event"] == partner) & ~found["why"].str.contains("edge of the data")]
                if not len(cand):
                    continue
                d = np.abs(cand["frame"].to_numpy(float) + shift[j] - want)
                k = int(np.argmin(d))
                if d[k] > tol:
                    continue
                row = cand.iloc[[k]].copy()
                row["confidence"] = min(float(row["confidence"].iat[0]), RECOVERED_CONFIDENCE)
                row["why"] = _join(row["why"].iat[0], "recovered from the other leg")
                tables[j] = _sorted(pd.concat([ev_j, row], ignore_index=True), ev_j)
                ev_j, cols[j] = tables[j], _columns(tables[j])
                pos_j, kinds_j = cols[j]["frame"] + shift[j], cols[j]["event"]
                report["recovered"] += 1

    # 2. drop / flag the events without their partner where the other leg can tell
    for i in (0, 1):
        j = 1 - i
        ev = tables[i]
        pos = cols[i]["frame"] + shift[i]
        pos_j = cols[j]["frame"] + shift[j]
        kinds_j = cols[j]["event"]
        keep = np.ones(len(ev), dtype=bool)
        lonely = np.zeros(len(ev), dtype=bool)
        kinds, whys = cols[i]["event"], cols[i]["why"]
        for r, p in enumerate(pos):
            kind = kinds[r]
            want = p + offsets[kind] * stride
            if not (pos_j.size and pos_j.min() <= want <= pos_j.max()):  # other leg's events around
                continue
            partners = pos_j[kinds_j == _PARTNER[kind]]
            if partners.size and np.min(np.abs(partners - want)) <= tol:
                continue
            if any(w in whys[r] for w in _UNSURE):
                keep[r] = False
            else:
                lonely[r] = True
        if (~keep).any() or lonely.any():
            ev = ev.copy()
            conf = cols[i]["confidence"].astype(float)  # (copies)
            why = cols[i]["why"].astype(object)
            conf[lonely] *= 0.5
            why[lonely] = [_join(w, "other leg's phase") for w in why[lonely]]
            ev["confidence"], ev["why"] = np.round(conf, 2), why
            attrs = dict(tables[i].attrs)
            ev = ev[keep].reset_index(drop=True)
            ev.attrs = attrs
            report["dropped"] += int((~keep).sum())
            report["flagged"] += int(lonely.sum())
            tables[i], cols[i] = ev, _columns(ev)
    # 3. each leg's own alternation again: recovered / dropped events change it
    tables = [_rephase(ev, c) for ev, c in zip(tables, cols, strict=True)]
    return _finish(tables, report)


def _columns(ev: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns of an events table that the checks read, as numpy arrays (``frame``
    float; ``event``, ``why`` as the table holds them, ``confidence`` as it holds it)."""
    bare_ev = bare(ev)
    out = {c: bare_ev[c].to_numpy() for c in ("event", "confidence", "why")}
    out["frame"] = bare_ev["frame"].to_numpy(float)
    return out


def _typical_offsets(cols, shift, stride) -> dict[str, float]:
    """Median offset (strides) from each kind of event to the nearest partner event of the
    other leg (within half a stride), over both legs; kinds with fewer than 2 pairs left out."""
    out = {}
    frames = [c["frame"] for c in cols]
    kinds = [c["event"] for c in cols]
    for kind in (HEEL_STRIKE, TOE_OFF):
        d = []
        for i in (0, 1):
            p = frames[i][kinds[i] == kind] + shift[i]
            q = frames[1 - i][kinds[1 - i] == _PARTNER[kind]] + shift[1 - i]
            if not p.size or not q.size:
                continue
            diff = q[None, :] - p[:, None]
            k = np.argmin(np.abs(diff), axis=1)
            near = diff[np.arange(p.size), k]
            d.extend(near[np.abs(near) <= 0.5 * stride] / stride)
        if len(d) >= 2:
            out[kind] = float(np.median(d))
    return out


def _join(why: str, reason: str) -> str:
    return f"{why}; {reason}" if why else reason


def _sorted(ev: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    out = ev.sort_values(["frame", "event"], kind="stable").reset_index(drop=True)
    out.attrs = dict(like.attrs)
    return out


def _rephase(ev: pd.DataFrame, cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """Update the ``phase conflict`` factor (0.5) and reason of a leg's events after events
    were added or left out (:func:`~napari_gaitint.core.events.phase_conflicts`); ``cols``
    are its :func:`_columns`."""
    if not len(ev):
        return ev
    now = phase_conflicts(cols["frame"], cols["event"].astype(object, copy=False),
                          ev.attrs.get("stride_frames"))
    was = np.array(["phase conflict" in w for w in cols["why"]], dtype=bool)
    if (now == was).all():
        return ev
    out = ev.copy()
    conf = cols["confidence"].astype(float)  # (copies)
    why = cols["why"].astype(object)
    for r in np.flatnonzero(now != was):
        reasons = [w for w in why[r].split("; ") if w]
        if now[r]:
            conf[r] *= 0.5
            reasons.append("phase conflict")
        else:
            conf[r] = min(1.0, conf[r] * 2.0)
            reasons.remove("phase conflict")
        why[r] = "; ".join(reasons)
    out["confidence"], out["why"] = np.round(conf, 2), why
    out.attrs = dict(ev.attrs)
    return out


def _finish(tables, report) -> tuple[pd.DataFrame, pd.DataFrame]:
    for ev in tables:
        ev.attrs["leg_phase"] = dict(report)
    return tables[0], tables[1]
