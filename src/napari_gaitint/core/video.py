"""Video facts without Qt: frame size, rate and count (PyAV, imported lazily)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .errors import InputFileError

#: What the video reader opens (and what pairing videos with predictions looks for):
#: DeepLabCut's own list (less raw formats) and camcorder (AVCHD) and web files.
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".mts", ".m2ts", ".webm", ".flv")
#: The same as a file-dialog filter.
VIDEO_FILE_FILTER = " ".join(f"*{suffix}" for suffix in VIDEO_SUFFIXES)


def display_rotation_deg(frame) -> int:
    """Counter-clockwise rotation (0, 90, 180 or 270 degrees) that shows a decoded PyAV frame
    upright, from the video's display matrix.

    Phones and tablets record the sensor's landscape frames and store how to turn them in
    the file. Players, FFmpeg and OpenCV, hence DeepLabCut, apply it, so DLC's coordinates
    are in the upright frame; the raw decoded frame is not. Angles that are not a multiple of
    90 degrees are rounded to one.
    """
    rotation = getattr(frame, "rotation", 0) or 0
    return int(round(float(rotation) / 90.0)) % 4 * 90


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """A decoded frame ``(h, w, ...)`` turned by :func:`display_rotation_deg` (a contiguous
    copy; the same array when there is nothing to turn).

    >>> upright(np.arange(4).reshape(2, 2), 90)  # counter-clockwise
    array([[1, 3],
           [0, 2]])
    """
    k = (int(rotation_deg) // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """Basic facts of a video file.

    Attributes
    ----------
    width, height
        Frame size in pixels, as shown (and as DeepLabCut sees it): for a video with a
        display rotation of 90 or 270 degrees (phones), the stored size swapped.
    fps
        Average frame rate in frames per second.
    n_frames
        Number of frames a decoder shows (counted from the packets, without decoding; a video
        cut without re-encoding keeps frames before the cut that an edit list hides, which
        the container's own count includes).
    rotation_deg
        Display rotation (counter-clockwise, see :func:`display_rotation_deg`).
    """

    path: Path
    width: int
    height: int
    fps: float
    n_frames: int
    rotation_deg: int = 0


def frames_in_container_index(container, stream) -> tuple[int, int] | None:
    """``(frames shown, key frames among them)`` from a PyAV container's own per-frame index,
    which MP4/MOV files carry and FFmpeg reads when it opens them (no frame is read), or
    None when there is none. Frames an edit list hides are not counted."""
    if "mov" not in container.format.name.split(","):
        return None
    entries = getattr(stream, "index_entries", None)  # (PyAV >= 14)
    if entries is None or len(entries) == 0 or len(entries) != stream.frames:
        return None
    shown = keys = 0
    for entry in entries:
        if entry.size and not entry.is_discard:
            shown += 1
            keys += entry.is_keyframe
    return shown, keys


def probe_video(path: str | Path) -> VideoInfo:
    """Read a video's size, frame rate and frame count.

    Raises
    ------
    InputFileError
        If the file is missing, empty, or has no decodable video stream.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "video file not found")
    if path.stat().st_size == 0:
        raise InputFileError(path, "video file is empty")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputFileError(path, "no video stream in this file")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.base_rate or stream.guessed_rate
            fps = float(rate) if rate else float("nan")
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
            # Frames shown: from an MP4/MOV's own index, else the packets with data less those
            # an edit list hides, counted in one pass that also decodes the first frame
            known = frames_in_container_index(container, stream)
            n_frames = 0 if known is None else known[0]
            first = None
            for packet in container.demux(stream):
                if first is None:
                    first = next(iter(stream.decode(packet)), None)
                if known is not None:
                    if first is not None:
                        break
                elif packet.size and not getattr(packet, "is_discard", False):
                    n_frames += 1
            rotation = display_rotation_deg(first) if first is not None else 0
            if rotation in (90, 270):
                width, height = height, width
    except InputFileError:
        raise
    except Exception as err:  # av.error.* for undecodable files
        raise InputFileError(path, f"cannot decode as video ({type(err).__name__}: {err})") from err
    if width <= 0 or height <= 0:
        raise InputFileError(path, "video stream has no frame size")
    return VideoInfo(path, width, height, fps, n_frames, rotation)
