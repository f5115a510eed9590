"""Render a synthetic view as a video: a stick figure with thick limbs on a plain background.

Drawing is plain numpy (anti-aliased capsules, discs and triangles inside small bounding
boxes), so a ~5 s trial pair renders and encodes in a few seconds. The limbs are drawn
*through* the true keypoints (joint centres are the capsule end points), so DLC-like
predictions overlay the figure in napari and the frames can train a pose model. The near
leg and arm are dark, the far ones light grey, the trunk and head in between; the floor is a
slightly darker band under a line at ground level.

Encoding uses PyAV (imported lazily): H.264 (``libx264``, ``yuv420p``), or MPEG-4 Part 2
when libx264 is not available.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..core._files import write_atomic

BACKGROUND = (236, 236, 231)
FLOOR = (214, 213, 206)
FLOOR_LINE = (125, 125, 120)
FAR = (158, 162, 178)
FAR_ARM = (172, 176, 190)
TRUNK = (74, 74, 92)
NEAR = (34, 34, 52)
NEAR_ARM = (52, 54, 74)


def _capsule(img: np.ndarray, p0, p1, r: float, color) -> None:
    """Draw an anti-aliased thick segment (capsule) of radius ``r`` px on a uint8 image, in place."""
    ax, ay, bx, by = float(p0[0]), float(p0[1]), float(p1[0]), float(p1[1])
    if not math.isfinite(ax + ay + bx + by):
        return
    h, w = img.shape[:2]
    x0 = max(int(math.floor(min(ax, bx) - r - 1)), 0)
    x1 = min(int(math.ceil(max(ax, bx) + r + 2)), w)
    y0 = max(int(math.floor(min(ay, by) - r - 1)), 0)
    y1 = min(int(math.ceil(max(ay, by) + r + 2)), h)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(ax)
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(ay)
    bx, by = bx - ax, by - ay
    ll = bx * bx + by * by
    if ll > 1e-9:
        t = (xs * np.float32(bx / ll)) + (ys * np.float32(by / ll))
        np.maximum(t, 0.0, out=t)
        np.minimum(t, 1.0, out=t)
        dx = xs - t * np.float32(bx)
        dy = ys - t * np.float32(by)
    else:
        dx = np.broadcast_to(xs, (y1 - y0, x1 - x0))
        dy = np.broadcast_to(ys, (y1 - y0, x1 - x0))
    alpha = np.float32(r + 0.5) - np.sqrt(dx * dx + dy * dy)
    np.maximum(alpha, 0.0, out=alpha)
    np.minimum(alpha, 1.0, out=alpha)
    mask = alpha > 0
    if not mask.any():
        return
    region = img[y0:y1, x0:x1]
    a = alpha[mask][:, None]
    px = region[mask].astype(np.float32)
    px += a * (np.asarray(color, dtype=np.float32) - px)
    region[mask] = (px + 0.5).astype(np.uint8)


def _triangle(img: np.ndarray, a, b, c, color) -> None:
    """Fill a triangle (no anti-aliasing; its edges are covered by capsules)."""
    pts = np.array([a, b, c], dtype=float)
    if not np.all(np.isfinite(pts)):
        return
    h, w = img.shape[:2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(float)

    def edge(p, q):
        return (q[0] - p[0]) * (ys - p[1]) - (q[1] - p[1]) * (xs - p[0])

    e0, e1, e2 = edge(pts[0], pts[1]), edge(pts[1], pts[2]), edge(pts[2], pts[0])
    inside = ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))
    img[y0:y1, x0:x1][inside] = color


def _background(width: int, height: int, floor_y: float, slope: float = 0.0) -> np.ndarray:
    """Plain background with the floor below the line through ``floor_y`` at the image
    centre with ``slope`` (dy/dx; a rolled camera)."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = BACKGROUND
    if slope:
        line = floor_y + slope * (np.arange(width) - width / 2.0)
        below = np.arange(height)[:, None] - line[None, :]
        img[below >= 0] = FLOOR
        img[np.abs(below) < 1] = FLOOR_LINE
        return img
    fy = int(round(floor_y))
    if 0 <= fy < height:
        img[fy:] = FLOOR
        img[max(fy - 1, 0):fy + 1] = FLOOR_LINE
    elif fy < 0:
        img[:] = FLOOR
    return img


def render_frame(view, frame: int, *, background: np.ndarray | None = None) -> np.ndarray:
    """One RGB frame ``(height, width, 3)`` uint8 of a :class:`~.synthetic.SyntheticView`."""
    fig = view.figure
    width, height = view.pose.frame_size
    img = background.copy() if background is not None else _background(
        width, height, fig["floor_y_px"], fig.get("floor_slope", 0.0))
    rad = fig["radius_px"]
    i = int(frame)

    def P(name):
        return fig[name][i]

    def limb(tag, color):
        s = rad[f"{tag}_scale"]
        _capsule(img, P(f"{tag}_hip"), P(f"{tag}_knee"), rad["thigh"] * s, color)
        _capsule(img, P(f"{tag}_knee"), P(f"{tag}_ankle"), rad["shank"] * s, color)
        _triangle(img, P(f"{tag}_heel"), P(f"{tag}_ankle"), P(f"{tag}_toe"), color)
        for a, b in (("heel", "ankle"), ("ankle", "toe"), ("heel", "toe")):
            _capsule(img, P(f"{tag}_{a}"), P(f"{tag}_{b}"), rad["foot"] * s, color)

    def arm(tag, color):
        s = rad[f"{tag}_scale"]
        _capsule(img, P(f"{tag}_shoulder"), P(f"{tag}_elbow"), rad["upper_arm"] * s, color)
        _capsule(img, P(f"{tag}_elbow"), P(f"{tag}_wrist"), rad["forearm"] * s, color)
        _capsule(img, P(f"{tag}_wrist"), P(f"{tag}_hand"), rad["forearm"] * s * 1.25, color)

    arm("far", FAR_ARM)
    limb("far", FAR)
    pelvis = 0.5 * (P("near_hip") + P("far_hip"))
    _capsule(img, pelvis, P("neck"), rad["trunk"], TRUNK)
    _capsule(img, P("neck"), P("head"), rad["trunk"] * 0.45, TRUNK)
    _capsule(img, P("head"), P("head"), rad["head"], TRUNK)
    limb("near", NEAR)
    arm("near", NEAR_ARM)
    return img


def iter_frames(view) -> Iterator[np.ndarray]:
    """All RGB frames of a view, in order."""
    width, height = view.pose.frame_size
    bg = _background(width, height, view.figure["floor_y_px"], view.figure.get("floor_slope", 0.0))
    for i in range(view.pose.n_frames):
        yield render_frame(view, i, background=bg)


def _open_stream(container, fps: float, width: int, height: int, codec: str | None, crf: int):
    import av

    rate = Fraction(fps).limit_denominator(1001)
    candidates = [codec] if codec else ["libx264", "h264", "mpeg4"]
    last = None
    for name in candidates:
        try:
            stream = container.add_stream(name, rate=rate)
        except (av.FFmpegError, ValueError, KeyError) as err:  # codec not built in
            last = err
            continue
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        if name == "libx264":
            stream.options = {"crf": str(crf), "preset": "veryfast", "tune": "animation"}
        else:
            stream.bit_rate = 4_000_000
        return stream
    raise RuntimeError(f"no usable video encoder among {candidates}: {last}")


def render_video(view, path: str | Path, *, overwrite: bool = False, codec: str | None = None,
                 crf: int = 18) -> Path:
    """Render a :class:`~.synthetic.SyntheticView` to an ``.mp4`` video (PyAV), atomically.

    Parameters
    ----------
    view
        The synthetic view (its ``figure`` geometry, ``pose.fps`` and ``pose.frame_size``).
    path
        Output ``.mp4`` file; never replaced unless ``overwrite``.
    codec
        Encoder name; by default ``libx264`` (H.264, yuv420p), falling back to ``mpeg4``.
    crf
        H.264 quality (lower is better; 18 is visually lossless for this figure).

    Returns
    -------
    Path
        ``path``.
    """
    import av

    width, height = view.pose.frame_size
    fps = float(view.pose.fps or 25.0)
    if width % 2 or height % 2:
        raise ValueError(f"frame size must be even for yuv420p video, got {width}x{height}")

    def write(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = _open_stream(container, fps, width, height, codec, crf)
            for rgb in iter_frames(view):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)

    return write_atomic(path, write, overwrite=overwrite)
