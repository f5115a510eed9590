"""napari readers: DeepLabCut predictions/labels (.h5/.csv) and videos (.mp4/.avi/.mov).

``napari_get_reader`` / ``napari_get_video_reader`` return ``None`` (never raise) for paths
they cannot read, so napari can try the next plugin. The layer data come from
:mod:`._convert`; the files are read by :mod:`napari_gaitint.core.io`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import GaitintError
from ..core.io import Pose, list_individuals, pose_from_dlc_table, read_dlc_table
from . import _convert
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
        return dlc_table_to_layers(df, source=p)

    return reader


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
) -> tuple[np.ndarray, dict]:
    """Points data and layer kwargs (features, colours, text, metadata) for one or more poses."""
    poses = poses or [pose]
    parts = [_convert.pose_to_points(p, flags=flags if len(poses) == 1 else None) for p in poses]
    data = np.vstack([d for d, _ in parts]) if parts else np.empty((0, 3))
    features = pd.concat([f for _, f in parts], ignore_index=True)
    bodyparts = list(dict.fromkeys(bp for p in poses for bp in p.bodyparts))
    features["label"] = pd.Categorical(features["label"].astype(str), categories=bodyparts)
    meta = {
        "kind": "keypoints",
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
        **(extra_metadata or {}),
    }
    kwargs = {
        "name": name,
        "features": features,
        "face_color": _convert.points_face_colors(features),
        "border_color": _convert.points_border_colors(features),
        "border_width": 0.1,
        "size": 16,
        "axis_labels": AXIS_LABELS,
        "metadata": {"gaitint": meta},
    }
    return data, kwargs


def tracks_layer_kwargs(poses: list[Pose], *, name: str, extra_metadata: dict | None = None):
    """Tracks data and layer kwargs for one or more poses (track per body part and individual)."""
    blocks, feats, cmap = [], [], {}
    next_id = 0
    for p in poses:
        data, f = _convert.pose_to_tracks(p)
        colors = _convert.tracks_colormap(p.bodyparts)
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
    kwargs = {
        "name": name,
        "features": features,
        "tail_length": 12,
        "tail_width": 2,
        "head_length": 0,
        "color_by": "track_id",
        "blending": "translucent",  # additive washes out to white on bright video
        "axis_labels": AXIS_LABELS,
        "metadata": {"gaitint": {"kind": "tracks", **(extra_metadata or {})}},
    }
    if cmap:
        kwargs["colormaps_dict"] = {"track_id": _track_colormap(cmap)}
    return data, kwargs


def _track_colormap(cmap: dict[int, np.ndarray]):
    """A napari Colormap mapping track ids (normalised 0-1 by napari) to body-part colours."""
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


#: Above this many keypoints a Tracks layer is not made by default: napari redraws every
#: track vertex on each frame change (seconds per step for 100 000-frame recordings), while
#: the Points layer alone stays fluid.
MAX_TRACK_POINTS = 250_000


def dlc_table_to_layers(
    df: pd.DataFrame, *, source: Path | None = None, name: str | None = None,
    tracks: bool | None = None,
) -> list[tuple]:
    """LayerDataTuples (points, and tracks) of a DLC table.

    ``tracks=None`` adds the Tracks layer when the recording has at most
    :data:`MAX_TRACK_POINTS` keypoints; True or False force it on or off.
    """
    poses = poses_from_table(df, source=source)
    base = name or (source.stem if source is not None else "keypoints")
    data, kwargs = keypoint_layer_kwargs(poses[0], name=base, poses=poses)
    layers = [(data, kwargs, "points")]
    if tracks is None:
        tracks = sum(p.n_frames * len(p.bodyparts) for p in poses) <= MAX_TRACK_POINTS
    if tracks:
        tdata, tkw = tracks_layer_kwargs(poses, name=f"{base} tracks")
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
