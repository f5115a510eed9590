"""Core results <-> napari layer data. Pure numpy/pandas: no napari, no Qt.

Every function here returns plain arrays, DataFrames and keyword dicts, so it is tested
without a viewer; the readers and widgets only wrap the results into LayerDataTuples.

Conventions
-----------
* Points data are ``(frame, y_px, x_px)`` rows (napari's axis order: time first, then
  row = image y, column = image x).
* Points features use napari-deeplabcut's names so both plugins work on our layers:
  ``label`` (body part), ``id`` (individual, ``""`` for single-animal data), ``likelihood``
  and ``valid``; we add ``flags`` (cleaning bit flags, 0 = untouched) and ``status`` (the
  name of the most important flag, ``"ok"`` when none).
* Tracks data are ``(track_id, frame, y_px, x_px)`` rows, one track per body part (and
  individual), sorted by track then frame as napari requires.
* Colours: one fixed colour per body part (:data:`BODYPART_COLORS`), so C1 and C3 layers and
  the cleaned layer agree; cleaned points that changed get a status colour as their border
  and face (:data:`STATUS_COLORS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.io import ROLES, Pose

# Body-part colours (RGBA 0-1): ROLES first, then a cycle for other names. Chosen to stay
# readable on grey video and to differ from the status colours below.
_ROLE_RGB = {
    "neck": (0.12, 0.47, 0.71),
    "hip": (0.17, 0.63, 0.17),
    "knee": (0.58, 0.40, 0.74),
    "ankle": (0.09, 0.75, 0.81),
    "heel": (0.74, 0.74, 0.13),
    "toe": (0.89, 0.47, 0.76),
}
_CYCLE_RGB = [
    (0.12, 0.47, 0.71), (0.17, 0.63, 0.17), (0.58, 0.40, 0.74), (0.09, 0.75, 0.81),
    (0.74, 0.74, 0.13), (0.89, 0.47, 0.76), (0.55, 0.34, 0.29), (0.50, 0.50, 0.50),
    (0.68, 0.78, 0.91), (0.60, 0.87, 0.54),
]
#: Status colours of cleaned points (RGBA 0-1). "ok" points keep their body-part colour.
STATUS_COLORS: dict[str, tuple[float, float, float, float]] = {
    "wrong_limb": (1.0, 0.0, 0.0, 1.0),
    "outlier": (1.0, 0.55, 0.0, 1.0),
    "interpolated": (1.0, 1.0, 1.0, 1.0),
    "low_likelihood": (0.6, 0.6, 0.6, 1.0),
    "filtered": (0.0, 0.0, 0.0, 0.0),  # only smoothed: keep the body-part colour
    "manual": (0.0, 1.0, 0.0, 1.0),
}
#: Event colours (RGBA 0-1): heel strike, toe off.
EVENT_COLORS = {"heel_strike": (1.0, 0.2, 0.2, 1.0), "toe_off": (0.2, 0.6, 1.0, 1.0)}
EVENT_ABBREV = {"heel_strike": "HS", "toe_off": "TO"}


def bodypart_color(name: str, position: int = 0) -> tuple[float, float, float, float]:
    """RGBA (0-1) colour of a body part: fixed for our roles, a cycle by position otherwise."""
    rgb = _ROLE_RGB.get(name, _CYCLE_RGB[position % len(_CYCLE_RGB)])
    return (*rgb, 1.0)


def bodypart_colors(bodyparts: Sequence[str]) -> dict[str, tuple[float, float, float, float]]:
    """``{bodypart: RGBA}`` for a list of body parts (see :func:`bodypart_color`)."""
    return {bp: bodypart_color(bp, i) for i, bp in enumerate(bodyparts)}


# ---------------------------------------------------------------------------------------
# Pose -> points / tracks
# ---------------------------------------------------------------------------------------
def status_from_flags(flags: np.ndarray) -> np.ndarray:
    """Name of the most important cleaning flag of each entry (``"ok"`` for 0).

    Priority: manual > wrong_limb > outlier > interpolated > low_likelihood > filtered (a
    person's correction supersedes what the cleaning core judged of the label).
    Works without core.clean (bit values read from it when available).
    """
    flags = np.asarray(flags, dtype=np.int64)
    out = np.full(flags.shape, "ok", dtype=object)
    bits = _flag_bits()
    for name in ("filtered", "low_likelihood", "interpolated", "outlier", "wrong_limb", "manual"):
        bit = bits.get(name)
        if bit:
            out[(flags & bit) != 0] = name
    return out


def _flag_bits() -> dict[str, int]:
    """Flag bit values from core.clean (the single source of truth)."""
    try:
        from ..core import clean
    except ImportError:  # pragma: no cover - core.clean not written yet
        return {}
    names = {
        "low_likelihood": "FLAG_LOW_LIKELIHOOD",
        "interpolated": "FLAG_INTERPOLATED",
        "wrong_limb": "FLAG_WRONG_LIMB",
        "outlier": "FLAG_OUTLIER",
        "filtered": "FLAG_FILTERED",
        "manual": "FLAG_MANUAL",
    }
    return {k: int(getattr(clean, v)) for k, v in names.items() if hasattr(clean, v)}


def pose_to_points(
    pose: Pose,
    *,
    flags: np.ndarray | None = None,
    pcutoff: float = 0.6,
    keep_missing: bool = False,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Points-layer data and features of a pose.

    Parameters
    ----------
    pose
        Keypoints in image pixels.
    flags
        Optional ``(n_frames, n_bodyparts)`` cleaning bit flags; stored as ``flags`` and
        summarised in ``status``.
    pcutoff
        Likelihood at or above which a point is ``valid`` (napari-deeplabcut's meaning).
    keep_missing
        Keep NaN points (as NaN rows); by default they are dropped.

    Returns
    -------
    data
        ``(n_points, 3)`` float array of ``frame, y_px, x_px``.
    features
        One row per point: ``label``, ``id``, ``likelihood``, ``valid``, ``flags``,
        ``status``, ``frame`` (int).

    Examples
    --------
    >>> import numpy as np
    >>> pose = Pose(np.array([[[10.0, 20.0, 0.9], [np.nan, np.nan, 0.1]]]), ("hip", "knee"))
    >>> data, feats = pose_to_points(pose)
    >>> data.tolist(), list(feats["label"])
    ([[0.0, 20.0, 10.0]], ['hip'])
    """
    n, k = pose.n_frames, len(pose.bodyparts)
    frames = np.repeat(pose.frames.astype(float), k)
    x = pose.values[:, :, 0].reshape(-1)
    y = pose.values[:, :, 1].reshape(-1)
    lik = pose.values[:, :, 2].reshape(-1)
    codes = np.tile(np.arange(k), n)  # body-part index of each entry
    fl = np.zeros(n * k, dtype=np.int64) if flags is None else np.asarray(flags, np.int64).reshape(-1)
    if fl.size != n * k:
        raise ValueError(f"flags have {fl.size} entries for {n} frames x {k} body parts")
    keep = np.ones(n * k, bool) if keep_missing else (np.isfinite(x) & np.isfinite(y))
    data = np.column_stack([frames[keep], y[keep], x[keep]])
    lik_k = lik[keep]
    features = pd.DataFrame(
        {
            "label": pd.Categorical.from_codes(codes[keep], categories=list(pose.bodyparts)),
            "id": np.full(int(keep.sum()), pose.individual or "", dtype=object),
            "likelihood": lik_k,
            # Hand labels (no likelihood) are all valid.
            "valid": (lik_k >= pcutoff) | ~np.isfinite(lik_k),
            "flags": fl[keep],
            "status": status_from_flags(fl[keep]),
            "frame": frames[keep].astype(np.int64),
        }
    )
    return data, features


def points_face_colors(features: pd.DataFrame) -> np.ndarray:
    """``(n_points, 4)`` RGBA: body-part colour, replaced by the status colour of changed points."""
    label = features["label"]
    if isinstance(label.dtype, pd.CategoricalDtype):
        order = [str(c) for c in label.cat.categories]
        codes = label.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(label.astype(str), sort=False)
        order = [str(u) for u in uniques]
    cmap = bodypart_colors(order)
    palette = np.array([cmap[lab] for lab in order], dtype=float).reshape(-1, 4)
    colors = palette[np.asarray(codes, dtype=np.intp)] if len(order) else np.empty((len(features), 4))
    if "status" in features:
        status = features["status"].to_numpy()
        for name, rgba in STATUS_COLORS.items():
            if rgba[3] > 0:
                colors[status == name] = rgba
    return colors


def points_border_colors(features: pd.DataFrame) -> np.ndarray:
    """``(n_points, 4)`` RGBA borders: red for wrong-limb repairs, white for filled gaps, else grey."""
    n = len(features)
    colors = np.tile(np.array([0.2, 0.2, 0.2, 1.0]), (n, 1))
    if "status" in features:
        status = features["status"].to_numpy()
        colors[status == "wrong_limb"] = (1.0, 0.0, 0.0, 1.0)
        colors[status == "interpolated"] = (1.0, 1.0, 1.0, 1.0)
        colors[status == "outlier"] = (1.0, 0.55, 0.0, 1.0)
    return colors


def pose_to_tracks(pose: Pose) -> tuple[np.ndarray, pd.DataFrame]:
    """Tracks-layer data and features: one track per body part.

    Returns
    -------
    data
        ``(n_points, 4)`` float array ``track_id, frame, y_px, x_px`` sorted by track then
        frame; NaN points are dropped (napari tracks cannot hold NaN).
    features
        ``label`` and ``id`` per row; ``track_id`` ``j`` is body part ``pose.bodyparts[j]``.
    """
    frames = pose.frames.astype(float)
    blocks, labels = [], []
    for j, bp in enumerate(pose.bodyparts):
        xy = pose.values[:, j, :2]
        ok = np.isfinite(xy).all(axis=1)
        m = int(ok.sum())
        if m == 0:
            continue
        blocks.append(np.column_stack([np.full(m, j, float), frames[ok], xy[ok, 1], xy[ok, 0]]))
        labels.extend([bp] * m)
    data = np.vstack(blocks) if blocks else np.empty((0, 4))
    features = pd.DataFrame(
        {"label": np.asarray(labels, dtype=object), "id": np.full(len(labels), pose.individual or "", dtype=object)}
    )
    return data, features


def tracks_colormap(bodyparts: Sequence[str]) -> dict[int, np.ndarray]:
    """``{track_id: RGBA}`` for :func:`pose_to_tracks` (napari ``colormaps_dict`` form)."""
    cmap = bodypart_colors(bodyparts)
    return {j: np.asarray(cmap[bp]) for j, bp in enumerate(bodyparts)}


# ---------------------------------------------------------------------------------------
# Points -> pose
# ---------------------------------------------------------------------------------------
def points_to_pose(
    data: np.ndarray,
    features: pd.DataFrame,
    *,
    n_frames: int | None = None,
    bodyparts: Sequence[str] | None = None,
    template: Pose | None = None,
    individual: str | None = None,
) -> Pose:
    """Rebuild a :class:`Pose` from points-layer data ``(frame, y, x)`` and features.

    Parameters
    ----------
    data, features
        As made by :func:`pose_to_points` (or napari-deeplabcut: ``label``, ``id``,
        ``likelihood``); points may have been moved, added or deleted in napari.
    n_frames
        Number of frames; default: the template's, else the last frame + 1.
    bodyparts
        Body-part order; default: the template's, else the ``label`` categories/order.
    template
        A pose whose metadata (scorer, fps, index, frame size, source...) is kept.
    individual
        Which ``id`` to keep when the layer holds several individuals.

    Returns
    -------
    Pose
        Missing points are NaN; a point without likelihood gets NaN (or 1.0 if the
        template has likelihoods, as a manually placed point is certain).
    """
    data = np.asarray(data, dtype=float).reshape(-1, data.shape[-1] if np.ndim(data) else 3)
    if data.shape[1] < 3:
        raise ValueError(f"points data need (frame, y, x) columns, got shape {data.shape}")
    data = data[:, -3:]
    labels = features["label"].astype(str).to_numpy() if "label" in features else None
    if labels is None:
        raise ValueError("points layer has no 'label' feature (body part of each point)")
    ids = features["id"].astype(str).to_numpy() if "id" in features else np.full(len(labels), "")
    if individual is None and template is not None:
        individual = template.individual
    if individual is not None:
        keep = ids == (individual or "")
        if not keep.any() and len(set(ids)) == 1:
            keep[:] = True
        data, labels, features = data[keep], labels[keep], features[keep]
    if bodyparts is None:
        if template is not None:
            bodyparts = template.bodyparts
        elif isinstance(features["label"].dtype, pd.CategoricalDtype):
            bodyparts = [str(c) for c in features["label"].cat.categories]
        else:
            bodyparts = list(dict.fromkeys(labels))
    bodyparts = tuple(bodyparts)
    frames = np.rint(data[:, 0]).astype(np.int64)
    if template is not None:
        frame_numbers = template.frames
    else:
        total = n_frames if n_frames is not None else (int(frames.max()) + 1 if frames.size else 0)
        frame_numbers = np.arange(total)
    row_of = {int(f): i for i, f in enumerate(frame_numbers)}
    values = np.full((len(frame_numbers), len(bodyparts), 3), np.nan)
    col_of = {bp: j for j, bp in enumerate(bodyparts)}
    lik = features["likelihood"].to_numpy(dtype=float) if "likelihood" in features else np.full(len(labels), np.nan)
    if template is not None and template.has_likelihood:
        lik = np.where(np.isfinite(lik), lik, 1.0)
    for f, (y, x), lab, p in zip(frames, data[:, 1:], labels, lik, strict=True):
        i, j = row_of.get(int(f)), col_of.get(lab)
        if i is None or j is None:
            continue
        values[i, j] = (x, y, p)
    if template is not None:
        return template.replace(values=values, bodyparts=bodyparts)
    return Pose(values, bodyparts, individual=individual or None, has_likelihood="likelihood" in features)


# ---------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------
def events_to_points(events: pd.DataFrame, pose: Pose) -> tuple[np.ndarray, pd.DataFrame]:
    """Events-layer points: a heel strike at the heel, a toe off at the toe, in the event frame.

    Parameters
    ----------
    events
        ``side, event (heel_strike|toe_off), frame (float)`` as from ``detect_events``.
    pose
        The pose the markers are placed on, in IMAGE coordinates (the layer's frame).

    Returns
    -------
    data
        ``(n_events, 3)`` ``frame, y_px, x_px`` with frame the rounded event frame.
    features
        ``event``, ``side``, ``frame_exact`` (float), ``label`` (``HS``/``TO``), ``text`` and
        ``row`` (the event's position in ``events``; an event without a marker position is
        left out).
    """
    rows, feats = [], []
    for row, ev in enumerate(events.itertuples(index=False)):
        frame = float(ev.frame)
        f = int(np.clip(np.rint(frame), 0, pose.n_frames - 1))
        part = "heel" if ev.event == "heel_strike" else "toe"
        if part not in pose.bodyparts:
            part = pose.bodyparts[-1]
        xy = pose.bodypart(part)[f, :2]
        if not np.isfinite(xy).all():
            # Fall back to the nearest frame that has the point.
            col = pose.bodypart(part)[:, :2]
            ok = np.flatnonzero(np.isfinite(col).all(axis=1))
            if ok.size == 0:
                continue
            xy = col[ok[np.argmin(np.abs(ok - f))]]
        rows.append((f, xy[1], xy[0]))
        abbrev = EVENT_ABBREV.get(ev.event, str(ev.event))
        feats.append(
            {
                "event": ev.event,
                "side": getattr(ev, "side", ""),
                "frame_exact": frame,
                "label": abbrev,
                "text": f"{abbrev} {str(getattr(ev, 'side', ''))[:1].upper()}".strip(),
                "row": row,
            }
        )
    data = np.asarray(rows, dtype=float).reshape(-1, 3)
    return data, pd.DataFrame(feats, columns=["event", "side", "frame_exact", "label", "text", "row"])


def event_colors(features: pd.DataFrame) -> np.ndarray:
    """``(n, 4)`` RGBA per event row (heel strike red, toe off blue)."""
    return np.array(
        [EVENT_COLORS.get(e, (1.0, 1.0, 1.0, 1.0)) for e in features["event"]], dtype=float
    ).reshape(-1, 4)


# ---------------------------------------------------------------------------------------
# Views side by side
# ---------------------------------------------------------------------------------------
def view_affine(*, width_px: float, offset_px: float = 0.0, mirror: bool = False) -> np.ndarray:
    """3-D (frame, y, x) homogeneous affine placing a view at ``offset_px``, optionally mirrored.

    Mirroring flips x inside the view's own width (``x' = offset + width - x``), so a
    right-to-left walker is shown walking left-to-right, like its partner view; the data
    are not copied.
    """
    a = np.eye(4)
    if mirror:
        a[2, 2] = -1.0
        a[2, 3] = offset_px + float(width_px)
    else:
        a[2, 3] = offset_px
    return a


def layout_offsets(widths_px: Sequence[float], *, gap_px: float = 20.0) -> list[float]:
    """x offsets that place views of ``widths_px`` side by side with a gap."""
    out, x = [], 0.0
    for w in widths_px:
        out.append(x)
        x += float(w) + gap_px
    return out


def apply_affine_xy(affine: np.ndarray, y_px: np.ndarray, x_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World (canvas) coordinates of image points under :func:`view_affine`."""
    y = np.asarray(y_px, float) * affine[1, 1] + affine[1, 3]
    x = np.asarray(x_px, float) * affine[2, 2] + affine[2, 3]
    return y, x


__all__ = [
    "EVENT_COLORS",
    "ROLES",
    "STATUS_COLORS",
    "apply_affine_xy",
    "bodypart_color",
    "bodypart_colors",
    "event_colors",
    "events_to_points",
    "layout_offsets",
    "points_border_colors",
    "points_face_colors",
    "points_to_pose",
    "pose_to_points",
    "pose_to_tracks",
    "status_from_flags",
    "tracks_colormap",
    "view_affine",
]
