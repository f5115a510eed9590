"""The decoding behind :class:`~napari_gaitint._napari._video.VideoArray` (PyAV): the packet
index (key frames, frame counts, presentation times), the decoder cursors, decoded frames kept
as copies of their YUV planes, and the background thread that moves spare decoders while the
viewer is idle. ``av`` is imported lazily by the callers.
"""

from __future__ import annotations

import array
import atexit
import bisect
import threading
import time
import weakref
from pathlib import Path

import numpy as np

from ..core.errors import InputFileError

_MIN_STRETCH = 8  # frames: shorter stretches between start points are not worth a move

#: FFmpeg decoders that skip non-reference frames when asked, frame by frame
_SKIPS_NONREF = frozenset({"h264", "hevc", "mpeg4", "mpeg2video", "mpeg1video"})

_PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray"})


class _Planes:
    """A decoded frame's planes copied to numpy (same pixels as the decoder's frame)."""

    __slots__ = ("planes", "format", "width", "height", "colorspace", "color_range", "nbytes")

    @classmethod
    def copy_of(cls, frame, spare: _Planes | None = None) -> _Planes:
        self = cls()
        shapes = [(p.height, p.width) for p in frame.planes]
        reuse = spare is not None and [a.shape for a in spare.planes] == shapes
        self.planes = spare.planes if reuse else [np.empty(shape, np.uint8) for shape in shapes]
        for dst, p in zip(self.planes, frame.planes, strict=True):
            src = np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
            np.copyto(dst, src)
        self.format, self.width, self.height = frame.format.name, frame.width, frame.height
        self.colorspace, self.color_range = frame.colorspace, frame.color_range
        self.nbytes = sum(a.nbytes for a in self.planes)
        return self

    def to_rgb(self, av) -> np.ndarray:
        frame = av.VideoFrame(self.width, self.height, self.format)
        for src, p in zip(self.planes, frame.planes, strict=True):
            np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width] = src
        frame.colorspace, frame.color_range = self.colorspace, self.color_range
        return frame.to_ndarray(format="rgb24")


_LIVE: weakref.WeakSet = weakref.WeakSet()  # open videos, for stopping their background at exit


@atexit.register
def _stop_backgrounds() -> None:
    """At interpreter exit, stop background moves before FFmpeg objects are torn down."""
    for video in list(_LIVE):
        video._stop_index(timeout_s=2)
        video._stop_background(timeout_s=2)


def _packet_index(container, stream, path: Path, stop: threading.Event | None = None) -> dict:
    """Presentation and decode times and key-frame flags of the video packets that are
    shown (demuxed, no decoding; packets an edit list hides are left out, as decoders drop
    them), in display order.

    Frames are then found by their presentation time. Some files store decode-order times
    instead (H.264 with B frames in AVI: FFmpeg reorders the frames but not their times);
    ``count_frames`` is then True and frames are counted from the key frame a seek lands on.
    """
    pts, dts, key = array.array("q"), array.array("q"), array.array("b")  # 8 + 8 + 1 bytes a frame
    untimed = 0
    for n, packet in enumerate(container.demux(stream)):
        if stop is not None and n % 4096 == 0 and stop.is_set():
            raise _Interrupted
        if packet.size == 0 or getattr(packet, "is_discard", False):
            continue  # (discarded: hidden by an edit list, never shown)
        if packet.pts is None:
            untimed += 1
            continue
        pts.append(packet.pts)
        dts.append(packet.pts if packet.dts is None else packet.dts)
        key.append(packet.is_keyframe)
    if untimed and not pts:
        raise InputFileError(
            path,
            "the video stream has no timestamps (a raw stream without a container?), so "
            "its frames cannot be found; put it in a container first, e.g. "
            "ffmpeg -framerate 25 -i in.h264 -c copy out.mp4",
        )
    in_demux_order = np.frombuffer(pts, dtype=np.int64)
    # frames of reordering delay: at most 16 (H.264/HEVC picture buffers); PyAV tells only
    # whether there is any
    reorder = 16 if getattr(stream.codec_context, "has_b_frames", 0) else 0
    count_frames = reorder > 0 and in_demux_order.size > 1 and bool(np.all(np.diff(in_demux_order) > 0))
    order = np.argsort(in_demux_order, kind="stable")
    sorted_pts = in_demux_order[order]
    keyframes = np.flatnonzero(np.frombuffer(key, dtype=np.int8)[order])
    if keyframes.size == 0 or keyframes[0] != 0:
        keyframes = np.concatenate([[0], keyframes]).astype(np.int64)
    return {
        "pts": sorted_pts,
        "dts": np.frombuffer(dts, dtype=np.int64)[order],
        "keyframes": keyframes,
        "pts_to_index": _PtsLookup(sorted_pts),
        "count_frames": count_frames,
        "reorder": reorder,
    }


class _PtsLookup:
    """Frame number (place in display order) of a presentation time: ``get(pts)``, like a
    dict ``{pts: frame}`` (the last frame of a repeated time) but 8 bytes per frame instead of
    ~95, for long videos. Constant frame rates are looked up in one step, others by
    bisection.

    >>> _PtsLookup(np.array([0, 512, 1024, 1536])).get(1024), _PtsLookup(np.array([0, 7])).get(3)
    (2, None)
    """

    def __init__(self, sorted_pts: np.ndarray):
        self._pts = array.array("q", np.ascontiguousarray(sorted_pts, dtype=np.int64).tobytes())
        n = len(self._pts)
        self._first = self._pts[0] if n else 0
        self._step = (self._pts[-1] - self._first) // (n - 1) if n > 1 else 0

    def get(self, pts: int) -> int | None:
        a, n = self._pts, len(self._pts)
        if self._step > 0:
            k = (pts - self._first) // self._step
            if 0 <= k < n and a[k] == pts and (k + 1 == n or a[k + 1] != pts):
                return k
        k = bisect.bisect_right(a, pts) - 1
        return k if k >= 0 and a[k] == pts else None


def _index_in_background(ref, path: Path, ready: threading.Event, stop: threading.Event) -> None:
    """Build a video's packet index with a container of its own, then hand it over (the
    first frame is shown meanwhile; other requests wait for ``ready``). Holds no reference to
    the video while it reads."""
    import av

    index = error = None
    try:
        with av.open(str(path)) as container:
            index = _packet_index(container, container.streams.video[0], path, stop)
    except _Interrupted:
        pass
    except InputFileError as err:
        error = err
    except Exception as err:  # av.error.*: the file changed or is damaged
        error = InputFileError(path, f"cannot index the video ({type(err).__name__}: {err})")
    video = ref()
    try:
        if video is not None:
            with video._lock:
                if error is not None or index is None:
                    video._index_error = error or InputFileError(path, "the video was closed")
                else:
                    video._publish_index(index)
                    if not video._first_is_frame0():
                        dropped = video._cache.pop(0, None)
                        if dropped is not None:
                            video._cache_used -= video._nbytes(dropped)
    finally:
        del video
        ready.set()


class _Interrupted(Exception):
    """A frame was asked for (or the video closed) while the background was decoding."""


class _BadLanding(Exception):
    """A seek landed after the wanted key frame, or not on a key frame of the index."""


def _background_loop(ref) -> None:
    """Background moves of one video's decoders, once the viewer is idle, until none pays
    off or a frame is asked for. Holds no reference to the video while it waits, so it
    never keeps an unused video alive."""
    while True:
        video = ref()
        if video is None:
            return
        video._bg_thread = threading.get_ident()
        wait = video._idle_s if video._asking else video._last_done + video._idle_s - time.perf_counter()
        if wait > 0 and not video._closed:
            del video
            time.sleep(max(wait, 0.005))
            continue
        try:
            more = video._background_step()
        except Exception:  # never let the thread die with the flags set
            with video._lock:
                video._bg_running = False
            more = False
        if not more:
            video._bg_thread = None
            return
        del video


class _Cursor:
    """One open decoder and where it stands."""

    __slots__ = ("container", "stream", "frames", "next_index", "target_pts", "last_used", "busy")

    def __init__(self, container_stream):
        self.container, self.stream = container_stream
        self.frames = None  # generator of decoded frames after the last seek
        self.next_index = None  # frame index the decoder yields next
        self.target_pts = -(2**62)
        self.last_used = 0
        self.busy = False  # being moved by the background thread
