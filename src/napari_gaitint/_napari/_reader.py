"""napari readers: DeepLabCut predictions/labels (.h5/.csv) and videos (``VIDEO_SUFFIXES``).

``napari_get_reader`` / ``napari_get_video_reader`` return ``None`` (never raise) for paths
they cannot read, so napari can try the next plugin. The layer data come from
:mod:`._convert`; the files are read by :mod:`napari_gaitint.core.io`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import GaitintError
from ..core.io import (
    dlc_columns,
    image_path_key,
    list_individuals,
    pose_from_dlc_table,
    read_dlc_table,
    sort_image_rows,
)
from ..core.pose import Pose, is_image_index
from . import _convert
from ._meta import KEY, KEYPOINTS, TRACKS, info_dict, kwargs_info
from ._video import VIDEO_SUFFIXES

DLC_SUFFIXES = (".h5", ".hdf5", ".csv")
#: Names of the layer axes: napari shows "frame" on the slider.
AXIS_LABELS = ("frame", "y", "x")


def _single_path(path) -> Path | None:
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    if not isinstance(path, (str, Path)):
        return None
    return Path(path)


# ---------------------------------------------------------------------------------------
# DLC predictions / labels
# ---------------------------------------------------------------------------------------
def napari_get_reader(path) -> Callable | None:
    """Reader for a DeepLabCut ``.h5``/``.csv`` file, or ``None`` if it is not one."""
    p = _single_path(path)
    if p is None or p.suffix.lower() not in DLC_SUFFIXES or not p.is_file():
        return None
    try:
        df = read_dlc_table(p)
    except (GaitintError, OSError, ValueError):
        return None
    except Exception:  # a reader must never raise from here
        return None

    def reader(_path=path):
        layers = dlc_table_to_layers(df, source=p)
        if any("track_window" in kwargs_info(kw) for _, kw, _ in layers):
            _connect_current_viewer()
        return layers

    return reader


def dlc_config_colormap(source: str | Path | None, *, max_levels: int = 3) -> str:
    """The ``colormap`` of the DeepLabCut project ``config.yaml`` nearest above ``source``
    (its folder and up to ``max_levels`` parents, as napari-deeplabcut looks), else
    :data:`._convert.DEFAULT_COLORMAP`."""
    if source is None:
        return _convert.DEFAULT_COLORMAP
    folder = Path(source).resolve().parent
    for _ in range(max_levels + 1):
        cfg = folder / "config.yaml"
        if cfg.is_file():
            try:
                import yaml

                with open(cfg, encoding="utf-8") as fh:
                    value = (yaml.safe_load(fh) or {}).get("colormap")
            except Exception:  # not a readable DLC config: keep the default
                value = None
            return str(value) if value else _convert.DEFAULT_COLORMAP
        if folder.parent == folder:
            break
        folder = folder.parent
    return _convert.DEFAULT_COLORMAP


def poses_from_table(df: pd.DataFrame, *, source: Path | None = None) -> list[Pose]:
    """All individuals of a DLC table as poses (one for single-animal tables)."""
    individuals = list_individuals(df)
    if not individuals:
        return [pose_from_dlc_table(df, source=source)]
    return [pose_from_dlc_table(df, individual=i, source=source) for i in individuals]


def keypoint_layer_kwargs(
    pose: Pose,
    *,
    name: str,
    flags: np.ndarray | None = None,
    poses: list[Pose] | None = None,
    extra_metadata: dict | None = None,
    colormap: str | None = None,
) -> tuple[np.ndarray, dict]:
    """Points data and layer kwargs (features, colours, text, metadata) for one or more poses.

    Colours as napari-deeplabcut gives them (:func:`._convert.points_face_colors`):
    ``colormap`` (default: the DLC project's, found beside the source file, else
    :data:`._convert.DEFAULT_COLORMAP`) over the body parts, or the individuals of a
    multi-animal layer."""
    poses = poses or [pose]
    if colormap is None:
        colormap = dlc_config_colormap(pose.source)
    parts = [_convert.pose_to_points(p, flags=flags if len(poses) == 1 else None) for p in poses]
    data = np.vstack([d for d, _ in parts]) if parts else np.empty((0, 3))
    # Column-major: napari recomputes the layer extent (min/max per column) and slices the
    # frame column on every frame change; on (n, 3) C-order data both reductions stride
    # across rows (~45 ms for 1.2 M points), on column-major data ~2 ms.
    data = np.asfortranarray(data)
    features = pd.concat([f for _, f in parts], ignore_index=True)
    bodyparts = list(dict.fromkeys(bp for p in poses for bp in p.bodyparts))
    if isinstance(features["label"].dtype, pd.CategoricalDtype):  # one pose, or the same body parts
        features["label"] = features["label"].cat.set_categories(bodyparts)
    else:
        features["label"] = pd.Categorical(features["label"].astype(str), categories=bodyparts)
    individuals = [p.individual or "" for p in poses]
    meta = {
        "kind": KEYPOINTS,
        "source": str(pose.source) if pose.source else None,
        "scorer": pose.scorer,
        "bodyparts": bodyparts,
        "individuals": [p.individual for p in poses],
        "bodyparts_by_individual": {p.individual or "": list(p.bodyparts) for p in poses},
        "fps": pose.fps,
        "frame_size": pose.frame_size,
        "has_likelihood": pose.has_likelihood,
        "n_frames": pose.n_frames,
        "index": pose.index,
        "pose": pose if len(poses) == 1 else None,
        "colormap": colormap,
        **(extra_metadata or {}),
    }
    kwargs = {
        "name": name,
        "features": features,
        "face_color": _convert.points_face_colors(features, colormap=colormap,
                                                  individuals=individuals),
        "border_color": _convert.points_border_colors(features),
        "border_width": 0.1,
        "size": 16,
        "axis_labels": AXIS_LABELS,
        "metadata": {KEY: meta,
                     **napari_deeplabcut_metadata(poses, name=name, colormap=colormap)},
    }
    return data, kwargs


def napari_deeplabcut_metadata(poses: list[Pose], *, name: str,
                               colormap: str = _convert.DEFAULT_COLORMAP) -> dict:
    """What napari-deeplabcut reads from a keypoints layer's metadata, so its controls and
    its writer take our layers: the DLC ``header`` (columns as a list of tuples and the
    level names), the image ``paths`` of label files (frame ``i`` is ``paths[i]``), the
    ``root`` folder and, for a layer read from a file, ``io`` provenance: ``kind`` "gt" for
    label files (napari-deeplabcut's save merges into them), "machine" for predictions (its
    writer never writes back onto those; its controls offer to save them as labels)."""
    pose = poses[0]
    columns = dlc_columns(poses)
    individuals = [p.individual for p in poses if p.individual]
    meta: dict = {
        "header": {"columns": list(columns), "names": list(columns.names)},
        "paths": ([image_path_key(r) for r in pose.index]
                  if is_image_index(pose.index) else []),
        "name": name,
        "config_colormap": colormap,
        "colormap_name": colormap,
        "face_color_cycles": {
            "label": _convert.bodypart_colors(
                list(dict.fromkeys(columns.get_level_values("bodyparts"))), colormap),
            "id": _convert.bodypart_colors(individuals, colormap),
        },
    }
    if pose.source is not None:
        source = Path(pose.source).resolve()
        meta["root"] = str(source.parent)
        meta["io"] = {
            "schema_version": 1,
            "project_root": str(source.parent),
            "source_relpath_posix": source.name,
            "kind": "gt" if is_image_index(pose.index) and not pose.has_likelihood else "machine",
            "dataset_key": "df_with_missing",
        }
    return meta


def tracks_layer_kwargs(poses: list[Pose], *, name: str, extra_metadata: dict | None = None,
                        colormap: str | None = None):
    """Tracks data and layer kwargs for one or more poses (track per body part and individual),
    coloured by body part like the points (``colormap``: as in :func:`keypoint_layer_kwargs`)."""
    blocks, feats, cmap = [], [], {}
    next_id = 0
    if colormap is None:
        colormap = dlc_config_colormap(poses[0].source) if poses else _convert.DEFAULT_COLORMAP
    for p in poses:
        data, f = _convert.pose_to_tracks(p)
        colors = _convert.tracks_colormap(p.bodyparts, colormap)
        ids = np.unique(data[:, 0]).astype(int) if len(data) else np.empty(0, int)
        if len(ids):
            lookup = np.zeros(ids.max() + 1, dtype=float)
            lookup[ids] = next_id + np.arange(len(ids))
            for k, j in enumerate(ids):
                cmap[next_id + k] = colors[j]
            next_id += len(ids)
            data = data.copy()
            data[:, 0] = lookup[data[:, 0].astype(int)]
        blocks.append(data)
        feats.append(f)
    data = np.vstack(blocks) if blocks else np.empty((0, 4))
    features = pd.concat(feats, ignore_index=True)
    features["track_id"] = data[:, 0].astype(int)
    features[TRACK_COLOR_FEATURE] = _track_color_values(features["track_id"].to_numpy(), next_id)
    kwargs = {
        "name": name,
        "features": features,
        "tail_length": 12,
        "tail_width": 2,
        "head_length": 0,
        "color_by": TRACK_COLOR_FEATURE if cmap else "track_id",
        "blending": "translucent",  # additive washes out to white on bright video
        "axis_labels": AXIS_LABELS,
        "metadata": {KEY: {"kind": TRACKS, **(extra_metadata or {})}},
    }
    if cmap:
        kwargs["colormaps_dict"] = {TRACK_COLOR_FEATURE: _track_colormap(cmap)}
    return data, kwargs


#: Tracks feature that colours each track by its body part: the track id scaled to 0-1
#: (napari looks values of a ``colormaps_dict`` entry up unscaled, so raw ids above 1 would
#: all get the last colour).
TRACK_COLOR_FEATURE = "bodypart_color"


def _track_color_values(track_ids: np.ndarray, n_tracks: int) -> np.ndarray:
    """Track ids ``0 .. n_tracks - 1`` scaled to 0-1, the inputs of :func:`_track_colormap`."""
    return np.asarray(track_ids, float) / max(n_tracks - 1, 1)


def _track_colormap(cmap: dict[int, np.ndarray]):
    """A napari Colormap mapping :func:`_track_color_values` (ids scaled 0-1) to body-part colours."""
    from napari.utils.colormaps import Colormap

    ids = sorted(cmap)
    if len(ids) == 1:
        c = cmap[ids[0]]
        return Colormap([c, c], name="gaitint_bodyparts", interpolation="zero")
    lo, hi = ids[0], ids[-1]
    colors = [cmap[i] for i in ids]
    # 'zero' interpolation: n colours need n+1 control points.
    controls = [0.0] + [((i - lo) + 0.5) / (hi - lo) for i in ids[:-1]] + [1.0]
    controls = np.clip(controls, 0, 1).tolist()
    return Colormap(colors, controls=controls, name="gaitint_bodyparts", interpolation="zero")


#: Above this many keypoints the Tracks layer holds only the frames around the current one
#: (:class:`TrackWindow`): napari draws every track vertex on each frame change (about
#: 0.5 s per step for 100 000 frames x 12 keypoints under software OpenGL).
MAX_TRACK_POINTS = 250_000


class TrackWindow:
    """The full tracks of a long recording, shown a few frames at a time.

    A windowed Tracks layer holds only the rows from ``tail_length + margin`` frames before
    to ``head_length + margin`` frames after the current frame: napari draws only
    ``tail_length`` .. ``head_length`` of them, as it would of the full tracks, and the
    layer's data are replaced only when the frame leaves the margin (once every ``margin``
    frames in playback). The window follows the frame slider once
    :func:`connect_track_windows` has been called on the viewer; the layer's metadata
    ``gaitint.track_window`` holds this object.

    Parameters
    ----------
    data
        ``(n, 4)`` tracks ``track_id, frame, y_px, x_px`` sorted by track then frame (as
        made by :func:`tracks_layer_kwargs`).
    features
        One row per row of ``data``.
    margin
        Frames kept beyond the tail and head on each side.
    """

    def __init__(self, data: np.ndarray, features: pd.DataFrame, *, margin: int = 50):
        self.data = np.asarray(data, float)
        self.features = features.reset_index(drop=True)
        self.margin = int(margin)
        ids = self.data[:, 0]
        frames = self.data[:, 1]
        self.track_ids = np.unique(ids)
        # one sorted key per row: track id, then frame (frames span < _span)
        self._f0 = float(frames.min()) if len(frames) else 0.0
        self._span = float(frames.max() - self._f0 + 1) * 2 + 2 if len(frames) else 1.0
        self._key = ids * self._span + (frames - self._f0)
        # per layer: (first frame, last frame, tail, head) of the rows it holds
        self._shown: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def rows(self, frame: float, tail: float, head: float) -> np.ndarray:
        """Row indices with ``frame - tail <= frame_i <= frame + head`` (all tracks), sorted."""
        return self.rows_between(frame - tail, frame + head)

    def rows_between(self, first: float, last: float) -> np.ndarray:
        """Row indices with ``first <= frame_i <= last`` (all tracks), sorted."""
        lo_f = np.clip(first - self._f0, -1, self._span / 2)
        hi_f = np.clip(last - self._f0, -1, self._span / 2)
        base = self.track_ids * self._span
        lo = np.searchsorted(self._key, base + lo_f, side="left")
        hi = np.searchsorted(self._key, base + hi_f, side="right")
        n = hi - lo
        if n.sum() == 0:
            return np.empty(0, dtype=np.int64)
        # concatenated aranges lo[i] .. hi[i] - 1
        starts = np.repeat(lo - np.cumsum(np.r_[0, n[:-1]]), n)
        return starts + np.arange(int(n.sum()))

    def window_rows(self, frame: float, tail: float, head: float) -> tuple[np.ndarray, tuple]:
        """Rows to show around ``frame`` (tail, head and margin) and their frame range."""
        first, last = frame - tail - self.margin, frame + head + self.margin
        rows = self.rows_between(first, last)
        if len(rows) == 0:  # napari Tracks need data: one vertex draws no line
            rows = np.zeros(1, dtype=np.int64)
        return rows, (first, last, tail, head)

    def show(self, layer, frame: float) -> None:
        """Put the window around ``frame`` into a napari Tracks ``layer`` (no-op while the
        rows it holds cover ``frame - tail_length`` .. ``frame + head_length``)."""
        tail, head = int(layer.tail_length), int(layer.head_length)
        shown = self._shown.get(layer)
        if shown is not None and shown[2:] == (tail, head) and shown[0] <= frame - tail \
                and frame + head <= shown[1]:
            return
        rows, state = self.window_rows(frame, tail, head)
        color_by = layer.color_by
        # napari empties the features when data are set: colour by track id meanwhile
        with layer.events.color_by.blocker():
            if color_by != "track_id":
                layer.color_by = "track_id"
            layer.data = self.data[rows]
            layer.features = self.features.iloc[rows].reset_index(drop=True)
        if color_by in layer.properties_to_color_by:
            layer.color_by = color_by  # recolours the drawn tracks
        self._shown[layer] = state


def track_window_of(layer) -> TrackWindow | None:
    """The :class:`TrackWindow` of a windowed Tracks layer, else ``None``."""
    win = info_dict(layer).get("track_window")
    return win if isinstance(win, TrackWindow) else None


class _TrackWindowFollower:
    """Viewer callback: moves every windowed Tracks layer to the current frame."""

    def __init__(self, viewer):
        self.viewer = viewer

    def watch(self, layer) -> None:
        """Also follow ``layer``'s tail and head lengths (if it is windowed)."""
        if track_window_of(layer) is not None:
            layer.events.tail_length.connect(self)
            layer.events.head_length.connect(self)

    def on_inserted(self, event) -> None:
        self.watch(event.value)
        self()

    def __call__(self, event=None) -> None:
        step = self.viewer.dims.current_step
        step_frame = float(step[0]) if len(step) else 0.0
        for layer in self.viewer.layers:
            win = track_window_of(layer)
            if win is not None:
                win.show(layer, _layer_frame(layer, step_frame))


def _layer_frame(layer, default: float) -> float:
    """The current frame in a Tracks layer's data coordinates (napari slices the layers
    before this runs), else ``default`` (the viewer's frame step)."""
    try:
        t = float(layer.current_time)
    except (TypeError, ValueError, AttributeError):
        return default
    return t if np.isfinite(t) else default


def connect_track_windows(viewer) -> None:
    """Make windowed Tracks layers (long recordings) follow ``viewer``'s frame slider.

    Safe to call more than once; layers added later are put on the current frame.
    """
    emitter = viewer.dims.events.current_step
    if any(isinstance(cb, _TrackWindowFollower) for cb in emitter.callbacks):
        return
    follower = _TrackWindowFollower(viewer)
    # last: after the viewer has sliced the layers on the new frame (layer.current_time)
    emitter.connect(follower, position="last")
    viewer.layers.events.inserted.connect(follower.on_inserted, position="last")
    for layer in viewer.layers:
        follower.watch(layer)
    follower()


def _connect_current_viewer() -> None:
    """Connect the track windows of the viewer that is reading a file (if any)."""
    try:
        import napari

        viewer = napari.current_viewer()
    except Exception:  # no Qt / no viewer: the window stays on its first frames
        return
    if viewer is not None:
        connect_track_windows(viewer)


def windowed_tracks(tdata: np.ndarray, tkw: dict, *, frame: float = 0.0) -> tuple[np.ndarray, dict]:
    """Tracks data and kwargs holding only the window around ``frame`` (see :class:`TrackWindow`)."""
    win = TrackWindow(tdata, tkw["features"])
    rows, _ = win.window_rows(frame, tkw.get("tail_length", 12), tkw.get("head_length", 0))
    kw = dict(tkw)
    kw["features"] = win.features.iloc[rows].reset_index(drop=True)
    kw["metadata"] = {KEY: {**kwargs_info(tkw), "track_window": win}}
    return win.data[rows], kw


def tracks_for_display(poses: list[Pose], *, name: str, extra_metadata: dict | None = None,
                       windowed: bool | None = None) -> tuple[np.ndarray, dict]:
    """Tracks data and kwargs of ``poses``: the full tracks, or above
    :data:`MAX_TRACK_POINTS` keypoints (``windowed=None``) the window around frame 0 that
    follows the slider once :func:`connect_track_windows` is called on the viewer."""
    tdata, tkw = tracks_layer_kwargs(poses, name=name, extra_metadata=extra_metadata)
    if windowed is None:
        windowed = sum(p.n_frames * len(p.bodyparts) for p in poses) > MAX_TRACK_POINTS
    if windowed and len(tdata):
        tdata, tkw = windowed_tracks(tdata, tkw)
    return tdata, tkw


def dlc_table_to_layers(
    df: pd.DataFrame, *, source: Path | None = None, name: str | None = None,
    tracks: bool | None = None,
) -> list[tuple]:
    """LayerDataTuples (points, and tracks) of a DLC table.

    A label table (rows are image paths: ``CollectedData_*``, ``machinelabels``) is shown
    as napari-deeplabcut shows it: frame ``i`` is the ``i``-th image path in natural order
    (:func:`napari_gaitint.core.io.sort_image_rows`), and it gets no Tracks layer (the
    images are not a time series). ``tracks=None`` adds the full Tracks layer when the recording has at most
    :data:`MAX_TRACK_POINTS` keypoints and a windowed one (:class:`TrackWindow`) above;
    True or False force the full layer or none.
    """
    images = is_image_index(df.index)
    if images:
        df = sort_image_rows(df)
    poses = poses_from_table(df, source=source)
    base = name or (source.stem if source is not None else "keypoints")
    data, kwargs = keypoint_layer_kwargs(poses[0], name=base, poses=poses)
    layers = [(data, kwargs, "points")]
    if tracks is not False and not images:
        tdata, tkw = tracks_for_display(poses, name=f"{base} tracks",
                                        windowed=None if tracks is None else False)
        if len(tdata):
            layers.append((tdata, tkw, "tracks"))
    return layers


# ---------------------------------------------------------------------------------------
# Videos
# ---------------------------------------------------------------------------------------
def napari_get_video_reader(path) -> Callable | None:
    """Reader for a video file (frames decoded on demand), or ``None`` if it cannot be opened."""
    p = _single_path(path)
    if p is None or p.suffix.lower() not in VIDEO_SUFFIXES or not p.is_file():
        return None
    from ._video import video_layer_data

    try:
        layer = video_layer_data(p)
    except Exception:  # never raise from get_reader: another plugin may read it
        return None

    def reader(_path=path):
        return [layer]

    return reader
