"""The other view at the same moment, as a small picture for the Label QA dock.

When the canvas is zoomed on a suspect in one view, the other view leaves the screen; the
dock shows a crop of it (its video frame, or a dark background without video) around the
same body part, with its points drawn, oriented as on the canvas (a mirrored view mirrored).
"""

from __future__ import annotations

import numpy as np

from . import _convert
from ._meta import VIDEO, layer_info

_BACKGROUND = 40  # grey level where there is no video
_DOT_RADIUS_PX = 3


def _video_layer(viewer, view: str, trial):
    for lay in viewer.layers:
        info = layer_info(lay)
        if info.kind == VIDEO and str(info.view or "") == str(view) and (
                trial is None or str(info.trial or "") == str(trial)):
            return lay
    return None


def inset_image(viewer, session, frame: int, part: str, *, crop_px: float, height_px: int,
                width_px: int | None = None, trial=None) -> np.ndarray | None:
    """RGB ``uint8`` picture (at most ``height_px`` high and ``width_px`` wide) of ``session``'s
    view at ``frame``.

    A square of ``crop_px`` image pixels around ``part`` (its hip, knee... when that is
    missing), the view's current points drawn in their body-part colours. ``None`` when the
    frame is not in the data or no point is there.
    """
    pose = session.editor.pose
    frames = pose.frames
    if not np.any(frames == frame):
        return None
    xy = pose.xy[int(np.flatnonzero(frames == frame)[0])]
    order = [part, "hip", "knee", *pose.bodyparts]
    centre = next((xy[pose.bodypart_index(p)] for p in order if p in pose.bodyparts
                   and np.isfinite(xy[pose.bodypart_index(p)]).all()), None)
    if centre is None:
        return None
    video = _video_layer(viewer, session.view, trial)
    half = int(round(crop_px / 2))
    cx, cy = (int(round(v)) for v in centre)
    if video is not None:
        img = np.asarray(video.data[int(frame)])
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        img = img[..., :3]
    else:
        size = pose.frame_size or (cx + half + 1, cy + half + 1)
        img = np.full((int(size[1]), int(size[0]), 3), _BACKGROUND, np.uint8)
    h_img, w_img = img.shape[:2]
    x0, x1 = max(cx - half, 0), min(cx + half, w_img)
    y0, y1 = max(cy - half, 0), min(cy + half, h_img)
    if x1 <= x0 or y1 <= y0:
        return None
    crop = np.asarray(img[y0:y1, x0:x1], np.uint8)
    scale = height_px / crop.shape[0]
    if width_px is not None:  # a crop cut short at the image edge stays inside the box
        scale = min(scale, width_px / crop.shape[1])
    out_h = max(int(round(crop.shape[0] * scale)), 1)
    out_w = max(int(round(crop.shape[1] * scale)), 1)
    rows = np.minimum((np.arange(out_h) / scale).astype(int), crop.shape[0] - 1)
    cols = np.minimum((np.arange(out_w) / scale).astype(int), crop.shape[1] - 1)
    out = np.ascontiguousarray(crop[rows][:, cols])
    yy, xx = np.mgrid[0:out_h, 0:out_w]
    colors = _convert.bodypart_colors(pose.bodyparts)  # the layers' colours
    for j, name in enumerate(pose.bodyparts):
        if not np.isfinite(xy[j]).all():
            continue
        px, py = (xy[j, 0] - x0) * scale, (xy[j, 1] - y0) * scale
        disc = (xx - px) ** 2 + (yy - py) ** 2 <= _DOT_RADIUS_PX ** 2
        out[disc] = (np.asarray(colors[name][:3]) * 255).astype(np.uint8)
    if layer_info(session.source_layer).mirrored:
        out = np.ascontiguousarray(out[:, ::-1])
    return out
