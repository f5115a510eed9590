"""Mirrored copies of videos and predictions: one network serves both walking directions.

Pixel convention: DeepLabCut and napari put the centre of pixel column ``i`` at ``x = i``.
A horizontal flip moves column ``i`` to column ``width - 1 - i``, so the exact inverse map of
the mirrored predictions is ``x -> (width - 1) - x`` (``y`` unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from ..core._files import write_atomic
from ..core.errors import InputFileError
from ..core.pose import Pose
from ..workflow.manifest import MIRROR_SUFFIX


def mirrored_video_path(video: str | Path, out_dir: str | Path | None = None) -> Path:
    """Where :func:`analyze_trial_pair` writes the mirrored copy of ``video``.

    ``<out_dir or video's folder>/<stem>_mirrored<suffix>``.
    """
    video = Path(video)
    folder = Path(out_dir) if out_dir is not None else video.parent
    return folder / f"{video.stem}{MIRROR_SUFFIX}{video.suffix}"


def mirror_video(
    src: str | Path,
    dst: str | Path,
    *,
    overwrite: bool = False,
    crf: int | None = 17,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a horizontally mirrored copy of a video (PyAV).

    The copy keeps the codec, pixel format, frame size, frame rate and frame count of the
    source; frames are flipped with FFmpeg's ``hflip`` filter in the source pixel format (no
    colour conversion). For H.264/H.265 the encoder runs at constant quality ``crf`` (17:
    visually lossless; the source's quantiser cannot be read back), for other codecs at the
    source's bit rate.

    Parameters
    ----------
    src
        The video to mirror (never modified).
    dst
        The mirrored copy (written atomically; its suffix chooses the container).
    overwrite
        Replace an existing ``dst``.
    crf
        Constant-rate factor for x264/x265 (``None``: the encoder's default).
    progress
        Optional ``progress(done_frames, total_frames)`` callback.

    Returns
    -------
    Path
        ``dst``.

    Examples
    --------
    >>> mirror_video("T01_C3.mp4", "T01_C3_mirrored.mp4")  # doctest: +SKIP
    """
    import av

    from ..core.video import probe_video

    src, dst = Path(src), Path(dst)
    info = probe_video(src)  # clear errors for missing / undecodable files
    if src.resolve() == dst.resolve():
        raise InputFileError(dst, "the mirrored copy must not replace its source video")

    def _write(tmp: Path) -> None:
        with av.open(str(src)) as inp:
            ist = inp.streams.video[0]
            ctx = ist.codec_context
            rate = ist.average_rate or ist.base_rate or ist.guessed_rate or Fraction(25)
            rate = Fraction(rate).limit_denominator(100000)
            codec = ctx.name
            with av.open(str(tmp), "w", format=_container_format(dst)) as out:
                try:
                    ost = out.add_stream(codec, rate=rate)
                except Exception:  # decoder-only codec name: fall back to H.264
                    codec = "libx264"
                    ost = out.add_stream(codec, rate=rate)
                ost.width, ost.height = info.width, info.height  # upright size
                ost.pix_fmt = ctx.pix_fmt or "yuv420p"
                if codec in ("h264", "libx264", "hevc", "libx265"):
                    if crf is not None:
                        ost.options = {"crf": str(int(crf))}
                elif ist.bit_rate:
                    ost.bit_rate = ist.bit_rate
                ost.codec_context.time_base = 1 / rate
                # turned upright first (a phone's display rotation, as DLC/OpenCV show the
                # source), then flipped; the copy is stored upright, without a rotation
                turn = {90: [("transpose", "cclock")], 180: [("hflip", None), ("vflip", None)],
                        270: [("transpose", "clock")]}.get(info.rotation_deg, [])
                graph = av.filter.Graph()
                nodes = [graph.add_buffer(template=ist)]
                nodes += [graph.add(name, args) for name, args in [*turn, ("hflip", None)]]
                nodes.append(graph.add("buffersink"))
                for a, b in zip(nodes[:-1], nodes[1:], strict=True):
                    a.link_to(b)
                graph.configure()
                buf, sink = nodes[0], nodes[-1]
                i = 0
                for frame in inp.decode(ist):
                    buf.push(frame)
                    flipped = sink.pull()
                    flipped.pts = i
                    flipped.time_base = 1 / rate
                    for packet in ost.encode(flipped):
                        out.mux(packet)
                    i += 1
                    if progress is not None:
                        progress(i, info.n_frames)
                for packet in ost.encode():
                    out.mux(packet)

    write_atomic(dst, _write, overwrite=overwrite)
    return dst


def _container_format(path: Path) -> str | None:
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi"}.get(
        path.suffix.lower()
    )


def mirror_pose_x(pose: Pose, width_px: int) -> Pose:
    """Map keypoints between a video and its horizontally mirrored copy.

    ``x -> (width_px - 1) - x``, ``y`` and likelihood unchanged; NaN stays NaN. The map is
    its own inverse, so it takes predictions made on the mirrored copy back onto the original
    video (pixel centres at integer coordinates, as in DeepLabCut and napari).

    Examples
    --------
    >>> p = Pose(np.array([[[0.0, 5.0, 0.9], [959.0, 1.0, 0.8]]]), ("neck", "hip"))
    >>> mirror_pose_x(p, 960).values[0, :, 0]
    array([959.,   0.])
    """
    values = pose.values.copy()
    values[..., 0] = (float(width_px) - 1.0) - values[..., 0]
    meta = dict(pose.meta)
    meta["mirrored_x"] = not meta.get("mirrored_x", False)
    return pose.replace(values=values, meta=meta)
