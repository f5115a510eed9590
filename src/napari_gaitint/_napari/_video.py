"""Lazy, random-access video frames for napari (PyAV), decoded on demand.

:class:`VideoArray` looks like a read-only ``(n_frames, height, width, 3)`` uint8 array:
napari slices one frame at a time and only that frame is decoded. How a frame is fetched:

1. the LRU cache of decoded frames (bounded in bytes, not in video length): frames asked
   for are kept as RGB; frames decoded on the way to them (when stepping back) are kept as
   copies of the decoder's YUV planes (half the bytes, not converted unless asked for);
2. if a decoder sits a little before the wanted frame (sequential playback, or a jump
   forward inside the same group of pictures) it just decodes forward: no seek;
3. otherwise it seeks to the key frame at or before the wanted frame (from a packet index
   built once by demuxing, which is cheap: no decoding) and decodes forward. Where a seek
   lands after that key frame (MPEG-TS) it seeks by decode time, then further back; frames
   decoded before the first key frame are never served. Where a file stores decode-order
   times (H.264 with B frames in AVI), frames are counted from the key frame instead of
   found by their time.

Only frames that are asked for are converted to RGB. Several decoders stay open, each parked
where it last stopped; when one must move, the least useful one goes. While the viewer
is idle (no frame asked for during ``idle_s``), a background thread moves spare decoders into
the longest stretches near the frame last shown that no parked decoder covers, so the next
jump decodes less; it stops at once when a frame is asked for (it would only compete for the
cores). The packet index gives exact frame counts and key frames for variable-frame-rate
files too. MP4/MOV files list their frames in the header: they open without reading the
file (frame count from the header, frame 0 decoded at once) and the packet index is read in
the background; a request for another frame waits for it. ``av`` is imported lazily. The
packet index, the decoder cursors and the background loop are in :mod:`._video_decode`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..core.errors import InputFileError
from ..core.video import VIDEO_SUFFIXES, display_rotation_deg, frames_in_container_index, upright
from ._meta import KEY, VIDEO
from ._video_decode import (  # the decoding behind the array
    _LIVE,
    _MIN_STRETCH,
    _PLANAR_8BIT,
    _SKIPS_NONREF,
    _background_loop,
    _BadLanding,
    _Cursor,
    _index_in_background,
    _Interrupted,
    _packet_index,
    _Planes,
)

__all__ = ["VIDEO_SUFFIXES", "VideoArray", "load_video", "video_layer_data"]


class VideoArray:
    """A video file as a lazy ``(n_frames, height, width, 3)`` uint8 array.

    Parameters
    ----------
    path
        Video file readable by FFmpeg (through PyAV).
    cache_mb
        Upper bound of the decoded-frame cache in MiB (at least one frame is kept).
    threads
        Decoder threading. ``None``: slice threads (FFmpeg's count; no latency, little
        memory; helps when the file has several slices per frame). ``1``: none. ``n > 1``:
        ``n`` frame threads (``0``: FFmpeg's choice), which cost ~2 frames of memory per
        thread and decoder; measured slower than slice threads on a busy 2-core machine.
    decoders
        Decoders kept open, each parked where it last stopped. A wanted frame is decoded
        forward by the decoder parked closest before it (when no key frame lies between),
        else a decoder seeks to the key frame before it. With long key-frame intervals,
        several parked decoders make random access and backward scrubbing much cheaper
        than one; each costs a few decoded frames of memory. ``None``: as many as fit in
        ``decoders_mb`` (2 to 12; 7 for 1920x1080, 12 for 960x540).
    decoders_mb
        Memory budget of the parked decoders (MiB) when ``decoders`` is None.
    keep_passed
        Frames decoded on the way to a wanted frame are cached (as YUV copies, half the
        bytes of RGB) if they lie at most this many frames before it, so stepping back is
        instant. ``None``: the 25 before it, only when stepping back (the wanted frame lies
        up to 25 frames before the previous one). Copying a frame into fresh cache memory
        costs about as much as decoding it (measured: keeping all of them made random access
        at 960x540 ~1.5x slower), so far jumps keep none. ``0``: none.
    skip_nonref
        While decoding forward to a wanted frame, let the decoder skip frames that no other
        frame refers to and that come before the wanted one (H.264/HEVC non-reference B
        frames): they are never shown, so this only saves time. Turned off automatically if
        a file misbehaves.
    idle_s
        Seconds without a request after which a background thread positions spare parked
        decoders (needs ``decoders >= 2``); ``None``: never. Frames are the same either way;
        only where decoding starts changes. ``stats`` counts its work under ``background_*``.
        The default is longer than the time between frames in playback, so only pauses
        (looking at a frame, before the next jump) are used.

    Raises
    ------
    InputFileError
        If the file is missing or has no decodable video stream.

    Examples
    --------
    >>> video = VideoArray("trial01_C1.mp4")  # doctest: +SKIP
    >>> video.shape, video.fps
    ((250, 540, 960, 3), 25.0)
    >>> frame = video[100]  # (540, 960, 3) uint8, decoded now
    """

    def __init__(
        self,
        path: str | Path,
        *,
        cache_mb: float = 256.0,
        threads: int | None = None,
        decoders: int | None = None,
        decoders_mb: float = 160.0,
        skip_nonref: bool = True,
        keep_passed: int | None = None,
        idle_s: float | None = 0.15,
    ):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputFileError(self.path, "video file not found")
        import av  # lazy: slow import

        self._av = av
        self._lock = threading.RLock()
        self._threads = threads
        try:
            self._container = av.open(str(self.path))
            if not self._container.streams.video:
                raise InputFileError(self.path, "has no video stream")
            self._stream = self._container.streams.video[0]
            self._configure(self._stream)
            self._index_ready = threading.Event()
            self._index_stop = threading.Event()
            self._index_error: Exception | None = None
            self._index_thread: threading.Thread | None = None
            self._n_frames = self._shown_from_container_index()
            if self._n_frames is None:  # index the packets now
                self._publish_index(_packet_index(self._container, self._stream, self.path))
                self._index_ready.set()
                first = self._decode_first(seek=True)
            else:  # the first frame now, the packets in the background
                first = self._decode_first(seek=False)
            self.rotation_deg = display_rotation_deg(first) if first is not None else 0
        except InputFileError:
            self.close()
            raise
        except Exception as err:  # av.error.* and friends
            self.close()
            raise InputFileError(
                self.path,
                f"cannot read as video ({type(err).__name__}: {err}); check the file plays in a "
                "video player, or re-encode it (e.g. ffmpeg -i in.avi -c:v libx264 out.mp4)",
            ) from err
        if self.n_frames == 0:
            self.close()
            raise InputFileError(self.path, "video has no frames")
        ctx = self._stream.codec_context
        # frames are served upright, as players and DeepLabCut (OpenCV) show them
        self.width, self.height = int(ctx.width), int(ctx.height)
        if self.rotation_deg in (90, 270):
            self.width, self.height = self.height, self.width
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._frame_bytes = self.width * self.height * 3
        self.cache_bytes = max(int(cache_mb * 2**20), self._frame_bytes)
        # index -> RGB ndarray (asked for) or av.VideoFrame (decoded on the way), LRU order
        self._cache: OrderedDict[int, object] = OrderedDict()
        self._cache_used = 0
        if decoders is None:
            # A parked H.264 decoder holds ~5 YUV 4:2:0 frames (references, buffer pool) plus
            # ~2 per frame thread (measured at 1920x1080: 22 MiB with 1 thread, 29 with 2).
            n_threads = 1 if self._threads is None else self._threads if self._threads > 0 else 3
            per_decoder_mb = self.width * self.height * 1.5 * (5 + 2 * n_threads) / 2**20
            decoders = int(np.clip(decoders_mb // max(per_decoder_mb, 1e-6), 2, 12))
        self.decoders = max(1, int(decoders))
        self._cursors: list[_Cursor] = []
        self._clock = 0
        self.stats = {"seeks": 0, "decoded": 0, "hits": 0, "background_seeks": 0,
                      "background_decoded": 0, "background_moves": 0}
        self._idle_s = idle_s if idle_s is not None and self.decoders >= 2 else None
        self._asking = 0  # requests in progress (the background stops when > 0)
        self._last_done = 0.0  # time.perf_counter() when the last request finished
        self._bg_running = False
        self._bg_thread: int | None = None  # ident of the running background thread
        self._not_moving = threading.Event()  # cleared while a background move decodes
        self._not_moving.set()
        self._closed = False
        _LIVE.add(self)
        # only decoders that read the setting per frame (wrappers such as libdav1d read it
        # once, when opened); never when frames are counted (see _frames)
        self._skip_nonref = skip_nonref and ctx.name in _SKIPS_NONREF
        self._keep_auto = keep_passed is None
        self._keep_passed = 25 if keep_passed is None else int(keep_passed)
        self._last_request = None
        self._spare: list[_Planes] = []  # evicted YUV copies, reused (no fresh allocations)
        self._missed: set[int] = set()  # frames background moves could not stand at
        # The first frame, decoded anyway for the rotation, is frame 0 (checked against the
        # packet index when that is ready; when frames are counted it cannot be checked).
        self._first_pts = first.pts if first is not None else None
        unchecked = not self._index_ready.is_set()  # (checked when the index comes)
        if first is not None and (unchecked or self._first_is_frame0()):
            self._put(0, upright(first.to_ndarray(format="rgb24"), self.rotation_deg))
        if not self._index_ready.is_set():
            self._index_thread = threading.Thread(
                target=_index_in_background, name="gaitint-video-index", daemon=True,
                args=(weakref.ref(self), self.path, self._index_ready, self._index_stop),
            )
            self._index_thread.start()

    # -- index --------------------------------------------------------------------------
    def _shown_from_container_index(self) -> int | None:
        """Frames shown, from the container's own per-frame index (MP4/MOV), or None."""
        known = frames_in_container_index(self._container, self._stream)
        if known is None:
            return None
        self._keyframe_hint = known[0] / max(known[1], 1)
        return known[0]

    def _publish_index(self, index: dict) -> None:
        """Take the packet index (from :func:`_packet_index`); frames can be found from now on."""
        self._pts, self._dts = index["pts"], index["dts"]
        self._keyframes, self._pts_to_index = index["keyframes"], index["pts_to_index"]
        self._count_frames = index["count_frames"]
        self._found = int(self._pts.size)
        if self._n_frames is None:
            self._n_frames = self._found
        elif self._found < self._n_frames:  # a damaged file: packets missing from some point
            # on. A frame is shown at most ``reorder`` places before its place in decoding
            # order, so the first ``found - reorder`` frames shown are all there and numbered
            # right; later ones may not be.
            self._found = max(self._found - index["reorder"], 0)

    def _first_is_frame0(self) -> bool:
        return not self._count_frames and self._first_pts is not None and self._first_pts == self._pts[0]

    def _wait_index(self, index: int) -> None:
        """Wait for the packet index (built in the background for MP4/MOV); raise its error,
        or one for a frame the container lists but that has no data."""
        self._index_ready.wait()
        if self._index_error is not None:
            raise self._index_error
        if index >= self._found:
            raise InputFileError(
                self.path, f"frame {index}: the file lists {self.n_frames} frames but its data ends "
                f"after {self._pts.size} (damaged, or still being written?); frames from "
                f"{self._found} on cannot be shown",
            )

    def _decode_first(self, *, seek: bool):
        """The first frame shown (phones store a display rotation in the file); the decoder
        is flushed afterwards, every request seeks first. ``seek``: from the first packet of
        the index (the container was read to its end to index it)."""
        if seek:
            if self._pts.size == 0:
                return None
            self._container.seek(int(self._pts[0]), stream=self._stream, backward=True, any_frame=False)
        frame = next(self._container.decode(self._stream), None)
        self._stream.codec_context.flush_buffers()
        return frame

    # -- array protocol -------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self._n_frames)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.n_frames, self.height, self.width, 3)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8)

    @property
    def ndim(self) -> int:
        return 4

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.n_frames

    @property
    def metadata(self) -> dict:
        """fps, frame count, key frames, source path: what napari layers keep."""
        return {
            "fps": self.fps,
            "n_frames": self.n_frames,
            "frame_size": (self.width, self.height),
            "rotation_deg": self.rotation_deg,
            "source": str(self.path),
            "keyframe_interval_frames": self._keyframe_interval(),
        }

    def _keyframe_interval(self) -> float:
        if not self._index_ready.is_set() or self._index_error is not None:
            return float(self._keyframe_hint)  # (from the container's index)
        if self._keyframes.size > 1:
            return float(np.mean(np.diff(self._keyframes)))
        return float(self.n_frames)

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            out = self.get_frame(int(first))
            return out[rest] if rest else out
        if first is Ellipsis:
            first, rest = slice(None), key
            rest = rest[1:] if len(rest) > 1 else ()
        if isinstance(first, slice):
            idx = range(*first.indices(self.n_frames))
        else:
            idx = np.arange(self.n_frames)[np.asarray(first)]
        frames = np.stack([self.get_frame(int(i)) for i in idx]) if len(idx) else np.empty(
            (0, self.height, self.width, 3), np.uint8
        )
        return frames[(slice(None), *rest)] if rest else frames

    def __array__(self, dtype=None, copy=None):
        # Full materialisation: only for small videos (napari never does this for 4-D data).
        arr = self[:]
        return arr.astype(dtype) if dtype is not None else arr

    def __repr__(self) -> str:
        return f"VideoArray({self.path.name!r}, shape={self.shape}, fps={self.fps})"

    # -- decoding -------------------------------------------------------------------------
    def get_frame(self, index: int) -> np.ndarray:
        """RGB frame ``index`` (negative counts from the end) as ``(h, w, 3)`` uint8."""
        n = self.n_frames
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for a video of {n} frames")
        if index not in self._cache:  # (frame 0 is there from opening)
            self._wait_index(index)
        with self._lock:
            self._asking += 1  # the background stops at its next frame
        try:
            return self._get(index)
        except (InputFileError, IndexError):
            raise
        except self._av.error.FFmpegError as err:  # a damaged file
            raise InputFileError(
                self.path, f"cannot decode frame {index} ({type(err).__name__}: {err}); the file may be damaged"
            ) from err
        finally:
            with self._lock:
                self._asking -= 1
                self._last_done = time.perf_counter()

    def _get(self, index: int) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                self.stats["hits"] += 1
                if isinstance(cached, np.ndarray):
                    return cached
                rgb = upright(cached.to_rgb(self._av), self.rotation_deg)  # decoded on the way
                self._put(index, rgb)
                return rgb
            return self._decode_to(index)

    def _keyframe_pos(self, index: int) -> int:
        """Position in ``_keyframes`` of the last key frame at or before ``index``."""
        return int(np.searchsorted(self._keyframes, index, side="right") - 1)

    def _pick_cursor(self, index: int) -> tuple[_Cursor, bool]:
        """The decoder to use for ``index`` and whether it must seek first.

        A parked decoder at or before ``index`` with no key frame in between decodes
        forward (cheapest); otherwise a new decoder is opened (up to ``decoders``) or the
        least useful one seeks. Decoders the background is moving are left alone."""
        key = int(self._keyframes[self._keyframe_pos(index)])
        free = [c for c in self._cursors if not c.busy]
        ahead = [c for c in free if c.next_index is not None and key <= c.next_index <= index]
        if ahead:
            return max(ahead, key=lambda c: c.next_index), False
        if len(self._cursors) < self.decoders or not free:
            return self._new_cursor(), True
        return min(free, key=lambda c: (self._parking_value(c), c.last_used)), True

    def _new_cursor(self) -> _Cursor:
        opened = any(c.container is self._container for c in self._cursors)
        cursor = _Cursor(self._open_stream() if opened else (self._container, self._stream))
        self._cursors.append(cursor)
        return cursor

    def _parking_value(self, cursor: _Cursor) -> int:
        """Frames x extra decoding it would cost to fetch every frame once without this
        parked decoder: the frames it serves (up to the next parked decoder or key frame)
        times how much further back the next start point lies. The least valuable one
        moves (rather than the least recently used)."""
        pos = cursor.next_index
        if pos is None:
            return -1
        k = self._keyframe_pos(pos)
        key = int(self._keyframes[k])
        end = int(self._keyframes[k + 1]) if k + 1 < self._keyframes.size else self.n_frames
        prev, nxt = key, end
        for other in self._cursors:
            p = other.next_index
            if other is cursor or other.busy or p is None or not key <= p < end:
                continue
            if p <= pos and (p > prev or p == pos):
                prev = p
            elif p > pos:
                nxt = min(nxt, p)
        return (nxt - pos) * (pos - prev)

    def _configure(self, stream) -> None:
        ctx = stream.codec_context
        if self._threads is None:  # slice threads, FFmpeg's count: no latency, little memory
            ctx.thread_type, ctx.thread_count = "SLICE", 0
        elif self._threads == 1:
            ctx.thread_count = 1
        else:
            ctx.thread_type = "FRAME" if self._threads > 0 else "AUTO"
            ctx.thread_count = self._threads

    def _open_stream(self):
        container = self._av.open(str(self.path))
        stream = container.streams.video[0]
        self._configure(stream)
        return container, stream

    def _seek_targets(self, keyframe_pos: int) -> list[int | None]:
        """Where to seek, best first, to decode from the key frame at ``keyframe_pos`` or
        one before it: its presentation time; its decode time (MPEG-TS seeks by those);
        the two key frames before it; the start of the file (``None``)."""
        key = int(self._keyframes[max(keyframe_pos, 0)])
        targets: list[int | None] = [int(self._pts[key])]
        if self._dts[key] < self._pts[key]:
            targets.append(int(self._dts[key]))
        for back in (1, 2):
            if keyframe_pos - back >= 0:
                targets.append(int(self._pts[self._keyframes[keyframe_pos - back]]))
        return [*targets, None]

    def _seek(self, cursor: _Cursor, key: int, target: int | None, stat: str) -> None:
        """Seek ``cursor`` to ``target`` (a time from :meth:`_seek_targets`, ``None``: the
        start of the file) to decode from the key frame ``key`` or one before it."""
        if target is None:
            cursor.container.seek(0, backward=True, any_frame=False)
        else:
            cursor.container.seek(target, stream=cursor.stream, backward=True, any_frame=False)
        cursor.stream.codec_context.flush_buffers()
        cursor.frames = self._frames(cursor, key)
        cursor.next_index = None  # known after the first decoded frame
        self.stats[stat] += 1

    def _frames(self, cursor: _Cursor, key: int):
        """``(index, frame)`` decoded from the cursor's position after a seek meant for the
        key frame ``key``; the index is None for a frame not in the index, or not reliably
        decoded: before the first key frame decoded (a seek may land a little before a key
        frame, as in MPEG program streams) or shown before it (open GOP).

        Raises :class:`_BadLanding` (before decoding anything) if the seek landed after the
        key frame ``key`` (or, when counting frames, not on a key frame). Frames before the
        target that no other frame refers to (non-reference B frames) are skipped by the
        decoder, not decoded."""
        ctx = cursor.stream.codec_context
        count = None  # index of the next frame out, when counting
        clean_from = None  # frames before this index are not reliable
        for packet in cursor.container.demux(cursor.stream):
            if clean_from is None and packet.size:
                at = self._pts_to_index.get(int(packet.pts)) if packet.pts is not None else None
                if at is None and packet.is_keyframe and packet.pts is not None:
                    # a key frame an edit list hides (a video cut without re-encoding starts
                    # decoding at the key frame before the cut; decoders drop what is hidden):
                    # fine to decode from
                    at = int(np.searchsorted(self._pts, packet.pts))
                elif not packet.is_keyframe and at is not None and not self._count_frames:
                    nxt = int(np.searchsorted(self._keyframes, at))  # reliable from the next key frame
                    at = int(self._keyframes[nxt]) if nxt < self._keyframes.size else None
                elif not packet.is_keyframe:
                    at = None
                if at is None or at > key:
                    raise _BadLanding
                clean_from = count = at
            if (self._skip_nonref and not self._count_frames and packet.pts is not None
                    and packet.pts < cursor.target_pts):
                ctx.skip_frame = "NONREF"
            else:
                ctx.skip_frame = "DEFAULT"
            for frame in ctx.decode(packet if packet.size else None):
                if self._count_frames:
                    i, count = count, count + 1
                else:
                    i = self._pts_to_index.get(int(frame.pts)) if frame.pts is not None else None
                    if i is not None and i < clean_from:
                        i = None
                yield i, frame
        ctx.skip_frame = "DEFAULT"

    def _decode_to(self, index: int) -> np.ndarray:
        cursor, seek = self._pick_cursor(index)
        self._clock += 1
        cursor.last_used = self._clock
        keep = self._keep_passed
        last, self._last_request = self._last_request, index
        if self._keep_auto:  # copying costs; worth it when stepping back, not for far jumps
            keep = keep if last is not None and 0 < last - index <= keep else 0
        frame = self._advance(cursor, index, seek=seek, keep=keep)
        rgb = upright(frame.to_ndarray(format="rgb24"), self.rotation_deg)
        self._put(index, rgb)
        self._start_background()
        return rgb

    def _advance(self, cursor: _Cursor, index: int, *, seek: bool, keep: int = 0, background: bool = False):
        """Decode forward with ``cursor`` to frame ``index`` and return that decoded frame.

        Frames passed on the way are kept in the cache if at most ``keep`` before ``index``.
        The background calls this without the lock on a cursor marked busy (``keep=0``)."""
        prefix = "background_" if background else ""
        # The background decodes every frame (no skipping), so wherever it is interrupted
        # the decoder stands as after serving a frame: usable for any later frame.
        cursor.target_pts = -(2**62) if background else int(self._pts[index])
        k = self._keyframe_pos(index)
        key = int(self._keyframes[k])
        targets = self._seek_targets(k)
        if seek or cursor.frames is None:
            self._seek(cursor, key, targets.pop(0), prefix + "seeks")
        while True:
            try:
                for i, frame in cursor.frames:
                    if background and (self._closed or self._asking):
                        raise _Interrupted
                    self.stats[prefix + "decoded"] += 1
                    if i is None:
                        continue
                    cursor.next_index = i + 1
                    if i == index or (background and i > index):  # (a move need not be exact)
                        return frame
                    if i > index:  # landed after the frame (open GOP, odd seek): go back further
                        break
                    if index - i <= keep and i not in self._cache:
                        self._keep_yuv(i, frame)
                else:
                    cursor.frames = None  # exhausted
            except _BadLanding:  # the seek landed after the key frame: try the next target
                landed = False
            else:
                landed = True
            if landed and self._skip_nonref:  # be safe: decode everything from here on
                self._skip_nonref = False
                self.stats["skip_disabled"] = True
                targets = self._seek_targets(k)
            if not targets:
                raise InputFileError(self.path, f"could not decode frame {index}; the file may be damaged")
            self._seek(cursor, key, targets.pop(0), prefix + "seeks")

    # -- background positioning -------------------------------------------------------------
    def _stop_background(self, timeout_s: float) -> None:
        """Mark the video closed and wait for a background move to stop (after its current
        frame); not from the background thread itself (``__del__`` can run there)."""
        with self._lock:
            self._closed = True
        if threading.get_ident() != self._bg_thread:
            self._not_moving.wait(timeout=timeout_s)

    def _stop_index(self, timeout_s: float) -> None:
        """Stop building the packet index in the background (after its current packet)."""
        thread = getattr(self, "_index_thread", None)
        if thread is None:
            return
        self._index_stop.set()
        if thread is not threading.current_thread():
            thread.join(timeout=timeout_s)

    def _start_background(self) -> None:
        """Start the background thread unless it runs already (called with the lock held)."""
        if self._idle_s is None or self._bg_running or self._closed:
            return
        self._bg_running = True
        thread = threading.Thread(
            target=_background_loop, args=(weakref.ref(self),), name="gaitint-video-positioning", daemon=True
        )
        thread.start()

    def _plan_move(self) -> tuple[_Cursor | None, int] | None:
        """The next background move: (decoder to move, or None for a new one; frame it should
        stand at next), or None when no move pays off.

        The cost of a random jump is the number of frames decoded before the wanted one: from
        the closest start point (a parked decoder or the key frame) at or before it. Over a
        stretch of ``L`` frames between start points that is ~``L**2 / 2`` summed over its
        frames; a decoder placed in its middle saves ``L**2 / 4``. Only the groups of pictures
        around the frame last asked for are considered (where the viewer is), and not a
        middle a move has failed to reach before."""
        if self._last_request is None:
            return None
        free = [c for c in self._cursors if not c.busy]
        k0 = self._keyframe_pos(self._last_request)
        best = None
        for k in range(max(k0 - 2, 0), min(k0 + 3, self._keyframes.size)):
            key = int(self._keyframes[k])
            end = int(self._keyframes[k + 1]) if k + 1 < self._keyframes.size else self.n_frames
            starts = {key} | {c.next_index for c in free if c.next_index is not None and key <= c.next_index < end}
            bounds = [*sorted(starts), end]
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
                if lo + (hi - lo) // 2 in self._missed:
                    continue
                if best is None or hi - lo > best[1] - best[0]:
                    best = (lo, hi)
        if best is None:
            return None
        lo, hi = best
        length = hi - lo
        if length < _MIN_STRETCH:
            return None
        target = lo + length // 2
        if len(self._cursors) < self.decoders:
            return None, target
        recent = max(self._cursors, key=lambda c: c.last_used)  # playback continues from it
        movable = [c for c in free if c is not recent and c.next_index not in (lo, hi)]
        if not movable:
            return None
        victim = min(movable, key=lambda c: self._parking_value(c))
        if 5 * self._parking_value(victim) >= length * length:  # gain below 1/5 of the stretch cost
            return None
        return victim, target

    def _background_step(self) -> bool:
        """Make one move; False when there is nothing worth doing (the thread then ends)."""
        with self._lock:
            plan = None if self._closed else self._plan_move()
            if plan is None:
                self._bg_running = False
                return False
            cursor, target = plan
            if cursor is None:
                cursor = self._new_cursor()
            cursor.busy = True
            self._not_moving.clear()
            key = int(self._keyframes[self._keyframe_pos(target)])
            seek = cursor.next_index is None or not key <= cursor.next_index <= target
        done = False
        try:
            # stand at ``target``: decode every frame up to the one before it
            self._advance(cursor, target - 1, seek=seek, background=True)
            self.stats["background_moves"] += 1
            done = True
            if cursor.next_index != target:  # decoding could only start after it (a seek
                self._missed.add(target)  # that lands late, as in MPEG program streams)
        except _Interrupted:  # it stays where it got to (every frame decoded up to there)
            pass
        except Exception:  # a damaged region: the cursor seeks when next used
            cursor.frames, cursor.next_index = None, None
        finally:
            with self._lock:
                cursor.busy = False
                cursor.last_used = 0  # not the decoder playback continues from
                if not done:
                    self._bg_running = False
                self._not_moving.set()
        return done

    @staticmethod
    def _nbytes(entry) -> int:
        return entry.nbytes

    def _keep_yuv(self, index: int, frame) -> None:
        """Cache a copy of a frame decoded on the way (8-bit planar YUV only, else skipped).

        A copy, not the decoder's frame: holding decoded frames makes FFmpeg's buffer pools
        grow beyond the cache bound. Evicted copies are reused, so no fresh pages."""
        if frame.format.name not in _PLANAR_8BIT:
            return
        spare = self._spare.pop() if self._spare else None
        self._put(index, _Planes.copy_of(frame, spare))

    def _put(self, index: int, entry) -> None:
        """Keep an RGB array (read-only) or a decoded frame; evict least recently used."""
        if isinstance(entry, np.ndarray):
            entry.setflags(write=False)
        old = self._cache.pop(index, None)
        if old is not None:
            self._cache_used -= self._nbytes(old)
        self._cache[index] = entry
        self._cache_used += self._nbytes(entry)
        while self._cache_used > self.cache_bytes and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cache_used -= self._nbytes(dropped)
            if isinstance(dropped, _Planes) and len(self._spare) < 2:
                self._spare.append(dropped)
        if isinstance(old, _Planes) and len(self._spare) < 2:
            self._spare.append(old)

    @property
    def cached_bytes(self) -> int:
        """Bytes held by the frame cache now (bounded by ``cache_bytes``)."""
        return self._cache_used

    def close(self) -> None:
        """Release the file (the array is unusable afterwards)."""
        self._stop_index(timeout_s=10)
        if hasattr(self, "_not_moving"):  # (not when __init__ failed before it was set)
            self._stop_background(timeout_s=10)
        for cursor in getattr(self, "_cursors", []):
            if cursor.container is not getattr(self, "_container", None):
                cursor.container.close()
        self._cursors = []
        container = getattr(self, "_container", None)
        if container is not None:
            container.close()
            self._container = None

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def load_video(path: str | Path, **kwargs) -> VideoArray:
    """Open a video lazily (see :class:`VideoArray`); raises :class:`InputFileError` if unreadable."""
    return VideoArray(path, **kwargs)


def video_layer_data(path: str | Path, *, name: str | None = None, **layer_kwargs):
    """The ``(data, kwargs, "image")`` LayerDataTuple of a video, frames decoded on demand."""
    video = load_video(path)
    kwargs = {
        "name": name or Path(path).stem,
        "rgb": True,
        "metadata": {**video.metadata, KEY: {"kind": VIDEO}},
        "contrast_limits": (0, 255),
        "multiscale": False,
        "axis_labels": ("frame", "y", "x"),
    }
    kwargs.update(layer_kwargs)
    return (video, kwargs, "image")
