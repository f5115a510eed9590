"""Video facts without Qt: frame size, rate and count (PyAV, imported lazily)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .errors import InputFileError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v")


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """Basic facts of a video file.

    Attributes
    ----------
    width, height
        Frame size in pixels.
    fps
        Average frame rate in frames per second.
    n_frames
        Number of frames (from the container; counted by decoding when it does not say).
    """

    path: Path
    width: int
    height: int
    fps: float
    n_frames: int


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
            n_frames = int(stream.frames or 0)
            width, height = int(stream.codec_context.width), int(stream.codec_context.height)
            if n_frames <= 0:
                n_frames = sum(1 for _ in container.decode(stream))
    except InputFileError:
        raise
    except Exception as err:  # av.error.* for undecodable files
        raise InputFileError(path, f"cannot decode as video ({type(err).__name__}: {err})") from err
    if width <= 0 or height <= 0:
        raise InputFileError(path, "video stream has no frame size")
    return VideoInfo(path, width, height, fps, n_frames)
