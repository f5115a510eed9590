"""LayerDataTuples of a trial pair: both videos side by side, predictions on top.

The opposite view is mirrored by a layer affine (``x -> offset + width - 1 - x``), not by
copying frames or points, so the layer data stay in the video's own pixel coordinates
(what DLC wrote; what the writer saves). All layers share axis 0 (frame), so the frame
slider moves both views.

And back: :func:`layer_pose` is the pose a keypoints layer shows (with the user's edits),
:func:`partner_layer` the other view of its trial; :func:`add_layer_tuples` puts tuples in a viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import GaitintError
from ..core.io import load_pose
from ..core.pose import Pose, side_of_view
from . import _convert
from ._meta import keypoint_layers, kwargs_info, layer_info
from ._reader import keypoint_layer_kwargs, tracks_for_display

#: Gap between the two views on the canvas (px).
GAP_PX = 20.0


def view_direction(pose: Pose) -> int | None:
    """Image walking direction (+1 / -1) of a pose from its neck (or first part); None if unclear."""
    from ..core.orient import detect_walking_direction
    from ..core.pose import match_roles

    names = match_roles(pose.bodyparts)  # the file's names for neck / hip (Neck, C7...)
    ref = names.get("neck") or names.get("hip") or pose.bodyparts[0]
    try:
        return int(detect_walking_direction(pose.bodypart(ref)[:, 0]))
    except GaitintError:
        return None


def view_layers(
    pose: Pose,
    *,
    trial: str,
    view: str,
    side: str | None = None,
    video: str | Path | None = None,
    offset_px: float = 0.0,
    mirror: bool = False,
    tracks: bool = True,
    extra_metadata: dict | None = None,
) -> list[tuple]:
    """Video (lazy), keypoints and tracks layers of one view, placed by one affine."""
    width = pose.frame_size[0] if pose.frame_size else np.nanmax(pose.xy[..., 0]) + 1
    affine = _convert.view_affine(width_px=width - 1, offset_px=offset_px, mirror=mirror)
    info = {
        "trial": str(trial),
        "view": str(view),
        "side": side,
        "mirrored": bool(mirror),
        "offset_px": float(offset_px),
        **(extra_metadata or {}),
    }
    layers = []
    if video is not None and str(video) not in ("", "nan"):
        from ._video import video_layer_data

        vdata, vkw, vtype = video_layer_data(video, name=f"{trial} {view} video", affine=affine)
        kwargs_info(vkw).update(info)
        layers.append((vdata, vkw, vtype))
    data, kw = keypoint_layer_kwargs(pose, name=f"{trial} {view} keypoints", extra_metadata=info)
    kw["affine"] = affine
    layers.append((data, kw, "points"))
    if tracks:
        tdata, tkw = tracks_for_display([pose], name=f"{trial} {view} tracks", extra_metadata=info)
        tkw["affine"] = affine
        if len(tdata):
            layers.append((tdata, tkw, "tracks"))
    return layers


def trial_pair_layers(
    rows: pd.DataFrame | Sequence[dict],
    *,
    gap_px: float = GAP_PX,
    mirror: str = "auto",
    tracks: bool = True,
    on_progress=None,
) -> list[tuple]:
    """Layers of the views of one trial (manifest rows), side by side.

    Parameters
    ----------
    rows
        Manifest rows (``trial, view, side, predictions, video, fps, width, height``; file
        paths absolute, as :func:`napari_gaitint.workflow.manifest.load_manifest` returns them).
    mirror
        ``"auto"``: mirror every view whose subject walks right-to-left in the image, so
        both views show the walk in the same direction; ``"none"``: no mirroring.
    on_progress
        Called ``(done, total, what)`` after each step (a predictions file read, a view's
        layers made: two steps per view).
    """
    from ..workflow.manifest import row_individual

    rows = pd.DataFrame(list(rows)) if not isinstance(rows, pd.DataFrame) else rows
    total = 2 * len(rows)

    def report(done: int, what: str) -> None:
        if on_progress is not None:
            on_progress(done, total, what)

    poses, widths = [], []
    for k, (_, row) in enumerate(rows.iterrows()):
        fps = float(row["fps"]) if pd.notna(row.get("fps")) else None
        pose = load_pose(row["predictions"], fps=fps, individual=row_individual(row))
        if pd.notna(row.get("width")) and pd.notna(row.get("height")):
            pose.frame_size = (int(row["width"]), int(row["height"]))
        elif isinstance(row.get("video"), str) and row["video"]:
            from ..core.video import probe_video

            info = probe_video(row["video"])
            pose.frame_size = (info.width, info.height)
            pose.fps = pose.fps or info.fps
        poses.append(pose)
        widths.append(pose.frame_size[0] if pose.frame_size else float(np.nanmax(pose.xy[..., 0]) + 1))
        report(k + 1, f"{Path(str(row['predictions'])).name} read")
    offsets = _convert.layout_offsets(widths, gap_px=gap_px)
    layers = []
    for k, ((_, row), pose, offset) in enumerate(zip(rows.iterrows(), poses, offsets, strict=True)):
        direction = view_direction(pose)
        do_mirror = mirror == "auto" and direction == -1
        video = row.get("video") if isinstance(row.get("video"), str) else None
        side = side_of_view(str(row["view"]), row.get("side"))  # None: unknown
        layers += view_layers(
            pose,
            trial=str(row["trial"]),
            view=str(row["view"]),
            side=side,
            video=video,
            offset_px=offset,
            mirror=do_mirror,
            tracks=tracks,
            extra_metadata={"direction": direction, "manifest_row": _plain(row)},
        )
        report(len(rows) + k + 1, f"{row['trial']} {row['view']} ready")
    # Images first so points/tracks draw on top.
    order = {"image": 0, "tracks": 1, "points": 2}
    return sorted(layers, key=lambda lay: order.get(lay[2], 3))


def _plain(row: pd.Series) -> dict:
    return {k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()}


def pair_rows(
    *,
    trial: str,
    predictions: Sequence[str | Path],
    videos: Sequence[str | Path | None] = (None, None),
    views: Sequence[str] = ("C1", "C3"),
    sides: Sequence[str] = ("left", "right"),
    fps: float | None = None,
) -> pd.DataFrame:
    """Manifest rows for two prediction files (and videos) picked by hand."""
    rows = []
    for pred, vid, view, side in zip(predictions, videos, views, sides, strict=False):
        rows.append(
            {
                "trial": trial,
                "view": view,
                "side": side,
                "predictions": str(Path(pred).resolve()),
                "video": str(Path(vid).resolve()) if vid else np.nan,
                "fps": fps if fps else np.nan,
                "width": np.nan,
                "height": np.nan,
            }
        )
    return pd.DataFrame(rows)


def set_points(layer, data, **properties) -> None:
    """Replace a points layer's data and per-point properties (``features=``, ``face_color=``...)
    with one redraw. Set one by one, napari redraws the layer - and the viewer recomputes every
    layer's extent - after each of them (~5 ms each on a trial pair): a key press took 100-300 ms.
    """
    with layer.events.blocker_all():
        layer.data = data
        for name, value in properties.items():
            setattr(layer, name, value)
    layer.refresh(thumbnail=False)  # the layer list's thumbnail of a few markers: not worth a redraw


# ---------------------------------------------------------------------------------------
# layers -> poses, and into the viewer
# ---------------------------------------------------------------------------------------
def layer_pose(layer, *, edits: bool = True) -> Pose:
    """The pose shown by a keypoints layer.

    ``edits=True``: rebuilt from the layer's points, so the user's moves and deletions count
    (the stored pose is the template for frames, names and metadata). ``edits=False``: the
    pose the layer was made from (a copy of metadata ``pose``), if it has one.
    """
    from pathlib import Path

    info = layer_info(layer)
    template = info.pose
    if not edits and isinstance(template, Pose):
        pose = template.copy()
    else:
        pose = _convert.points_to_pose(
            np.asarray(layer.data), layer.features, template=template,
            n_frames=info.n_frames, bodyparts=info.bodyparts,
        )
        if pose.source is None and info.source:
            pose.source = Path(info.source)
        index = info.index
        if pose.index is None and index is not None and len(index) == pose.n_frames:
            pose.index = index  # image paths of a multi-animal label layer
    if pose.frame_size is None and info.frame_size:
        pose.frame_size = tuple(info.frame_size)
    if pose.fps is None and info.fps:
        pose.fps = float(info.fps)
    return pose


def partner_layer(viewer, layer):
    """The keypoints layer of the other view of the same trial (raw predictions), if loaded."""
    info = layer_info(layer)
    for other in keypoint_layers(viewer):
        oi = layer_info(other)
        if (
            other is not layer
            and oi.trial == info.trial
            and oi.view != info.view
            and not oi.cleaned
        ):
            return other
    return None


def layer_placement(layer) -> dict:
    """The ``affine`` kwarg that puts a layer made from ``layer`` where ``layer`` is on the canvas."""
    return {"affine": np.asarray(layer.affine.affine_matrix)}


def add_layer_tuples(viewer, tuples) -> list:
    """Add LayerDataTuples to the viewer (a long recording's tracks follow the slider); returns the layers."""
    from napari.layers import Layer

    from ._reader import connect_track_windows, track_window_of

    added = []
    for data, kwargs, kind in tuples:
        added.append(Layer.create(data, kwargs, kind))
        viewer.add_layer(added[-1])
    if any(track_window_of(lay) is not None for lay in added):
        connect_track_windows(viewer)  # long recordings: tracks around the current frame
    return added
