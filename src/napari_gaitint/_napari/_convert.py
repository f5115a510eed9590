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
* Colours follow napari-deeplabcut: the body parts in file order (individuals, for
  multi-animal layers) spread over a colormap (:data:`DEFAULT_COLORMAP` or the DLC project's
  ``colormap``), so a file looks the same in both plugins and C1, C3 and the cleaned layer
  agree; cleaned points that changed get a status colour as their border and face
  (:data:`STATUS_COLORS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..core.config import LIKELIHOOD_THRESHOLD, ROLES
from ..core.io import image_path_key
from ..core.pose import Pose

#: Colormap of body parts (single-animal) and individuals (multi-animal) unless the DLC
#: project's config.yaml names another: napari-deeplabcut's default, so that a file looks
#: the same in both plugins.
DEFAULT_COLORMAP = "rainbow"
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


def colormap_colors(n: int, colormap: str | None = DEFAULT_COLORMAP) -> np.ndarray:
    """``(n, 4)`` RGBA (0-1) for ``n`` categories, as napari-deeplabcut picks them.

    A listed (qualitative) matplotlib palette (``Set3``, ``tab10``, ``viridis``...) gives
    its first ``n`` colours, cycling when it has fewer; a continuous one (``rainbow``,
    ``jet``...) is sampled at the bin centres ``(i + 0.5) / n``, interpolating 256 samples
    linearly as napari does. An unknown name falls back to :data:`DEFAULT_COLORMAP`.
    """
    if n <= 0:
        return np.empty((0, 4))
    from matplotlib import colormaps

    try:
        cmap = colormaps[colormap or DEFAULT_COLORMAP]
    except KeyError:
        cmap = colormaps[DEFAULT_COLORMAP]
    listed = getattr(cmap, "colors", None)
    if listed is not None and len(listed):
        rgba = np.asarray([(*c[:3], c[3] if len(c) > 3 else 1.0) for c in np.atleast_2d(listed)], float)
        return np.tile(rgba, (int(np.ceil(n / len(rgba))), 1))[:n]
    samples = cmap(np.linspace(0.0, 1.0, 256))
    at = (np.arange(n) + 0.5) / n
    grid = np.linspace(0.0, 1.0, 256)
    return np.column_stack([np.interp(at, grid, samples[:, c]) for c in range(4)])


def bodypart_colors(bodyparts: Sequence[str], colormap: str | None = DEFAULT_COLORMAP
                    ) -> dict[str, tuple[float, float, float, float]]:
    """``{bodypart: RGBA}``: :func:`colormap_colors` over the body parts in file order
    (napari-deeplabcut's colours for the same file). Also used for individuals."""
    colors = colormap_colors(len(bodyparts), colormap)
    return {bp: tuple(float(v) for v in c) for bp, c in zip(bodyparts, colors, strict=True)}


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
    """Flag bit values from core.clean_flags (the single source of truth)."""
    from ..core import clean_flags

    names = {
        "low_likelihood": "FLAG_LOW_LIKELIHOOD",
        "interpolated": "FLAG_INTERPOLATED",
        "wrong_limb": "FLAG_WRONG_LIMB",
        "outlier": "FLAG_OUTLIER",
        "filtered": "FLAG_FILTERED",
        "manual": "FLAG_MANUAL",
    }
    return {k: int(getattr(clean_flags, v)) for k, v in names.items()}


def pose_to_points(
    pose: Pose,
    *,
    flags: np.ndarray | None = None,
    pcutoff: float = LIKELIHOOD_THRESHOLD,
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


def points_face_colors(features: pd.DataFrame, *, colormap: str | None = DEFAULT_COLORMAP,
                       individuals: Sequence[str] | None = None) -> np.ndarray:
    """``(n_points, 4)`` RGBA: the body part's colour (the individual's when the points
    have more than the ``""`` individual: napari-deeplabcut colours multi-animal layers by
    animal), replaced by the status colour of changed points.

    ``individuals`` gives the order of the individuals' colours (the file's; default: as
    they first appear)."""
    ids = features["id"].astype(str) if "id" in features else None
    by_id = ids is not None and (ids != "").any()
    label = ids if by_id else features["label"]
    if by_id and individuals is not None:
        label = pd.Categorical(ids, categories=[str(i) for i in individuals])
        label = pd.Series(label, index=features.index)
    if isinstance(label.dtype, pd.CategoricalDtype):
        order = [str(c) for c in label.cat.categories]
        codes = label.cat.codes.to_numpy()
    else:
        codes, uniques = pd.factorize(label.astype(str), sort=False)
        order = [str(u) for u in uniques]
    cmap = bodypart_colors(order, colormap)
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


def tracks_colormap(bodyparts: Sequence[str], colormap: str | None = DEFAULT_COLORMAP
                    ) -> dict[int, np.ndarray]:
    """``{track_id: RGBA}`` for :func:`pose_to_tracks` (napari ``colormaps_dict`` form)."""
    cmap = bodypart_colors(bodyparts, colormap)
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


def points_to_flags(data: np.ndarray, features: pd.DataFrame, *, template: Pose,
                    side: str | None = None) -> np.ndarray | None:
    """The cleaning flags of keypoints-layer points (``flags`` feature, :func:`pose_to_points`)
    as an ``(n_frames, n_bodyparts)`` array in the layout of the pose the analysis takes,
    ``with_role_names(template, side=side)`` (0 where a point is missing), as
    :func:`~napari_gaitint.core.events.detect_events` takes them. None without the feature.
    """
    from ..core.pose import with_role_names

    if "flags" not in features:
        return None
    carrier = points_to_pose(data, features.assign(likelihood=features["flags"].to_numpy(float)),
                             template=template)  # the flags ride in the likelihood column
    return np.nan_to_num(with_role_names(carrier, side=side).likelihood, nan=0.0).astype(np.int64)


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
    "DEFAULT_COLORMAP",
    "EVENT_COLORS",
    "ROLES",
    "STATUS_COLORS",
    "apply_affine_xy",
    "bodypart_colors",
    "colormap_colors",
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


# ---------------------------------------------------------------------------------------
# Layers made by napari-deeplabcut: points + its DLC header -> the DLC table
# ---------------------------------------------------------------------------------------
_HEADER_LEVELS = {3: ["scorer", "bodyparts", "coords"], 4: ["scorer", "individuals", "bodyparts", "coords"]}


def dlc_header_columns(header) -> pd.MultiIndex | None:
    """The DLC column MultiIndex a layer's ``metadata["header"]`` describes, else ``None``.

    Accepts what napari-deeplabcut keeps there (its ``DLCHeaderModel`` with ``columns`` as
    a list of tuples, older versions' header object holding a ``pd.MultiIndex``), a dict
    ``{"columns": [...], "names": [...]}`` and a ``pd.MultiIndex``. The level names are
    DLC's (``scorer, [individuals,] bodyparts, coords``), by the tuples' length.
    """
    cols = header.get("columns") if isinstance(header, dict) else getattr(header, "columns", header)
    if isinstance(cols, pd.MultiIndex):
        tuples = list(cols)
    elif isinstance(cols, (list, tuple)) and all(isinstance(t, (list, tuple)) for t in cols):
        tuples = [tuple(t) for t in cols]
    else:
        return None
    lengths = {len(t) for t in tuples}
    if len(lengths) != 1 or next(iter(lengths)) not in _HEADER_LEVELS:
        return None
    n = next(iter(lengths))
    return pd.MultiIndex.from_tuples([tuple(str(v) for v in t) for t in tuples],
                                     names=_HEADER_LEVELS[n])


def header_points_to_dlc_table(
    data: np.ndarray,
    features: pd.DataFrame,
    columns: pd.MultiIndex,
    *,
    paths: Sequence[str] | None = None,
    template: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The DLC table of a points layer that carries a DLC header (napari-deeplabcut's layers).

    Nothing is renamed or dropped: the columns are exactly ``columns`` (scorer,
    individuals, body parts, coords of the header); the rows are ``template``'s (the file
    the layer was read from) in its order and index form, followed by any frame the layer
    adds. Without a template the rows are the image ``paths`` (labels; frame ``i`` of the
    layer is ``paths[i]``) or the frame numbers ``0 .. last frame with a point``.

    Each point sets x, y (and the likelihood when the header has one; a point without one
    gets 1.0, as napari-deeplabcut does) of its frame, individual (``id``) and body part
    (``label``). A keypoint that the template has (finite x and y) and the layer no longer
    has was deleted in napari: its cells become NaN. Every other template cell is kept.

    Parameters
    ----------
    data
        ``(n, 3)`` points ``frame, y_px, x_px`` (napari order).
    features
        One row per point with ``label`` (body part), optionally ``id`` (individual,
        ``""`` for single-animal data) and ``likelihood``.
    columns
        From :func:`dlc_header_columns`.
    paths
        Image path of each frame (label layers), or ``None``/empty for video frames.
    template
        The layer's source table, if it could be read.

    Raises
    ------
    ValueError
        When a point does not fit the header (unknown body part or individual, a frame
        outside the rows, two points for one keypoint): the message says which, so that
        nothing is written rather than a table missing the user's points.
    """
    data = np.asarray(data, dtype=float).reshape(-1, 3) if len(data) else np.empty((0, 3))
    multi = "individuals" in columns.names
    labels = features["label"].astype(str).to_numpy() if "label" in features else None
    if labels is None and len(data):
        raise ValueError("the layer has no 'label' feature (the body part of each point)")
    labels = labels if labels is not None else np.empty(0, dtype=object)
    ids = features["id"].astype(str).to_numpy() if "id" in features else np.full(len(data), "")
    lik = (features["likelihood"].to_numpy(dtype=float) if "likelihood" in features
           else np.full(len(data), np.nan))
    frames_f = data[:, 0]
    frames = np.rint(frames_f).astype(np.int64)
    if len(data) and not np.allclose(frames_f, frames):
        raise ValueError("points lie between frames (non-integer frame coordinates)")

    # keypoint (individual, body part) -> its (x, y[, likelihood]) column positions
    names_no_scorer = [n for n in columns.names if n != "scorer"]
    key_cols = columns.droplevel("scorer").to_frame(index=False)
    key_cols.columns = names_no_scorer
    ind_of = key_cols["individuals"].to_numpy(object) if multi else np.full(len(columns), "")
    kp_pos: dict[tuple[str, str], dict[str, int]] = {}
    for j, (ind, bp, c) in enumerate(zip(ind_of, key_cols["bodyparts"], key_cols["coords"], strict=True)):
        kp_pos.setdefault((str(ind), str(bp)), {})[str(c)] = j
    bodyparts = set(key_cols["bodyparts"])
    individuals = set(ind_of) if multi else {""}
    bad_label = sorted(set(labels) - bodyparts)
    if bad_label:
        raise ValueError(f"body part(s) {bad_label} are not in the layer's DeepLabCut header "
                         f"{sorted(bodyparts)}")
    if multi:
        bad_id = sorted(set(ids) - individuals)
        if bad_id:
            raise ValueError(f"individual(s) {bad_id} are not in the layer's DeepLabCut header "
                             f"{sorted(individuals)}")
        missing = sorted({(i, b) for i, b in zip(ids, labels, strict=True)} - set(kp_pos))
        if missing:
            raise ValueError(f"keypoint(s) {missing[:5]} (individual, body part) are not in the "
                             "layer's DLC header")
    else:
        ids = np.full(len(data), "", dtype=object)

    # rows
    paths = list(paths or [])
    if paths:
        if len(data) and (frames.min() < 0 or frames.max() >= len(paths)):
            raise ValueError(f"points on frame(s) outside the layer's {len(paths)} images")
        row_keys = [image_path_key(p) for p in paths]
        keys_of_frame = row_keys
    else:
        if len(data) and frames.min() < 0:
            raise ValueError("points on negative frame numbers")
        keys_of_frame = None
    if template is not None:
        index = template.index
        if paths:
            tkeys = [image_path_key(r) for r in index]
        else:
            if not pd.api.types.is_integer_dtype(index):
                template = None  # frame numbers cannot be matched to these rows
        if template is not None:
            tkeys = tkeys if paths else [int(v) for v in index]
    if template is None:
        if paths:
            index = pd.Index(row_keys, dtype=object)
            tkeys = list(row_keys)
        else:
            n = int(frames.max()) + 1 if len(data) else 0
            index = pd.RangeIndex(n)
            tkeys = list(range(n))
    # frames the layer adds beyond the template's rows
    row_of = {k: i for i, k in enumerate(tkeys)}
    frame_keys = ([keys_of_frame[f] for f in frames] if keys_of_frame is not None
                  else [int(f) for f in frames])
    extra = [k for k in dict.fromkeys(frame_keys) if k not in row_of]
    if extra:
        if isinstance(index, pd.MultiIndex):
            new = pd.MultiIndex.from_tuples([tuple(str(k).split("/")) for k in extra])
            if new.nlevels != index.nlevels:
                raise ValueError(f"image path(s) {extra[:3]} do not have the "
                                 f"{index.nlevels} parts of the file's row index")
            new.names = index.names
        else:
            new = pd.Index(extra)
        index = index.append(new)
        for k in extra:
            row_of[k] = len(row_of)
    rows = np.array([row_of[k] for k in frame_keys], dtype=np.int64)

    # values: the template's cells under the header's columns, NaN elsewhere
    values = np.full((len(index), len(columns)), np.nan)
    if template is not None:
        tcols = template.columns
        tnames = [n for n in (tcols.names or []) if n != "scorer"]
        if "scorer" in (tcols.names or []) and tnames == names_no_scorer:
            tflat = tcols.droplevel("scorer")
            hflat = columns.droplevel("scorer")
            if tflat.is_unique:
                pos = tflat.get_indexer(hflat)
                have = pos >= 0
                values[: len(template), have] = template.iloc[:, pos[have]].to_numpy(dtype=float)

    # keypoints shown in napari (finite x and y) that the layer no longer has were deleted
    kps = list(kp_pos)
    k_of = {kp: k for k, kp in enumerate(kps)}
    col = {c: np.array([kp_pos[kp].get(c, -1) for kp in kps], dtype=np.int64)
           for c in ("x", "y", "likelihood")}
    kpt = np.array([k_of[(str(i), str(b))] for i, b in zip(ids, labels, strict=True)], dtype=np.int64)
    present = np.zeros((len(index), len(kps)), dtype=np.int64)
    np.add.at(present, (rows, kpt), 1)
    if (present > 1).any():
        r, k = np.argwhere(present > 1)[0]
        ind, bp = kps[k]
        raise ValueError(f"two points for body part {bp!r}{f' of {ind!r}' if ind else ''} "
                         f"in frame {index[int(r)]!r}")
    has_xy = (col["x"] >= 0) & (col["y"] >= 0)
    for k in np.flatnonzero(has_xy):
        shown = np.isfinite(values[:, col["x"][k]]) & np.isfinite(values[:, col["y"][k]])
        gone = np.flatnonzero(shown & (present[:, k] == 0))
        if gone.size:
            cols_k = [c[k] for c in col.values() if c[k] >= 0]
            values[np.ix_(gone, cols_k)] = np.nan
    # the layer's points
    lik = np.where(np.isfinite(lik), lik, 1.0)
    for c, v in (("x", data[:, 2]), ("y", data[:, 1]), ("likelihood", lik)):
        ok = col[c][kpt] >= 0
        values[rows[ok], col[c][kpt][ok]] = v[ok]
    return pd.DataFrame(values, index=index, columns=columns)
