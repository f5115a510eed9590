"""The lazy video array: right frames in any order, bounded memory, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from napari_gaitint._napari._video import VideoArray, load_video
from napari_gaitint.core.errors import InputFileError


def test_random_access_returns_the_right_frames(numbered_video, frame_number):
    video = VideoArray(numbered_video, cache_mb=1)
    rng = np.random.default_rng(7)
    wanted = rng.integers(0, video.n_frames, 60).tolist() + [0, 119, 118, 5, 4, 3]
    for i in wanted:
        assert frame_number(video[i]) == i
    assert video.stats["seeks"] < len(wanted)


def test_sequential_playback_decodes_each_frame_once(numbered_video, frame_number):
    video = VideoArray(numbered_video, cache_mb=4)
    for i in range(video.n_frames):
        assert frame_number(video[i]) == i
    assert video.stats["seeks"] == 1
    assert video.stats["decoded"] == video.n_frames


def test_cache_is_bounded_by_size_not_length(numbered_video, frame_number):
    video = VideoArray(numbered_video, cache_mb=1)  # 1 MiB: 5 frames of 320x192x3
    for i in range(video.n_frames):
        video[i]
    assert video.cached_bytes <= video.cache_bytes
    assert 1 <= len(video._cache) <= 6
    # random access also keeps frames decoded on the way (YUV, half size): still bounded
    video = VideoArray(numbered_video, cache_mb=1, keep_passed=120)
    for i in np.random.default_rng(3).integers(0, video.n_frames, 40):
        assert frame_number(video[int(i)]) == i
        assert video.cached_bytes <= video.cache_bytes
    assert 1 <= len(video._cache) <= 11  # 320x192 YUV 4:2:0 is 92 kB


def test_frames_decoded_on_the_way_are_cached_pixel_identical(one_gop_video):
    import av

    with av.open(str(one_gop_video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    # skip_nonref=False: B frames no frame refers to would be skipped, not decoded (nor kept)
    video = VideoArray(one_gop_video, keep_passed=30, skip_nonref=False)
    np.testing.assert_array_equal(video[100], frames[100])
    decoded = video.stats["decoded"]
    for i in range(99, 69, -1):  # stepping back: no decoding, same pixels
        np.testing.assert_array_equal(video[i], frames[i])
    assert video.stats["decoded"] == decoded and video.stats["hits"] == 30
    # default, whatever the cache size: kept when stepping back, not for far jumps (copying
    # into fresh memory costs about as much as decoding)
    for cache_mb in (2, 256):
        auto = VideoArray(one_gop_video, cache_mb=cache_mb, skip_nonref=False)
        auto[100]
        assert set(auto._cache) == {0, 100}  # (frame 0: decoded when the file was opened)
        auto[99]
        decoded = auto.stats["decoded"]
        for i in range(98, 91, -1):
            np.testing.assert_array_equal(auto[i], frames[i])
        assert auto.stats["decoded"] == decoded and auto.cached_bytes <= auto.cache_bytes
        auto[10]  # a far jump back: frames 1-9 decoded on the way from the key frame, not kept
        assert not any(0 < i < 10 for i in auto._cache)
    none_kept = VideoArray(one_gop_video, keep_passed=0)
    none_kept[100]
    assert set(none_kept._cache) == {0, 100}


@pytest.mark.parametrize("threads", [1, 2, 0])
def test_threading_modes_give_the_same_frames(numbered_video, threads):
    import av

    with av.open(str(numbered_video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    video = VideoArray(numbered_video, threads=threads, decoders=2, cache_mb=1)
    for i in (77, 3, 30, 31, 119, 50, 49, 0, 118):
        np.testing.assert_array_equal(video[i], frames[i])


def test_array_protocol(numbered_video, frame_number):
    video = load_video(numbered_video)
    assert video.shape == (120, 192, 320, 3) and video.ndim == 4 and len(video) == 120
    assert video[-1].shape == (192, 320, 3)
    assert frame_number(video[-1]) == 119
    assert video[10:13].shape == (3, 192, 320, 3)
    assert [frame_number(f) for f in video[[4, 2]]] == [4, 2]
    assert video[3, :10, :20].shape == (10, 20, 3)
    assert video.metadata["fps"] == 25.0 and video.metadata["n_frames"] == 120
    with pytest.raises(IndexError):
        video[120]


def test_matches_full_decode(numbered_video, frame_number):
    import av

    with av.open(str(numbered_video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    video = VideoArray(numbered_video)
    for i in (0, 77, 30, 31, 119):
        np.testing.assert_array_equal(video[i], frames[i])


def test_undecodable_file_raises_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01" * 500)
    with pytest.raises(InputFileError, match="bad.mp4"):
        VideoArray(bad)
    with pytest.raises(InputFileError, match="not found"):
        VideoArray(tmp_path / "missing.mp4")


def test_parked_decoders_avoid_decoding_from_the_key_frame_again(one_gop_video, frame_number):
    wanted = [100, 20, 101, 21, 102, 22, 103, 23]  # scrubbing between two places
    decoded = {}
    for n in (1, 2):
        video = VideoArray(one_gop_video, decoders=n, cache_mb=1)
        for i in wanted:
            assert frame_number(video[i]) == i
        decoded[n] = video.stats["decoded"]
    assert video.metadata["keyframe_interval_frames"] == 120  # one key frame
    # one decoder goes back to the key frame for every jump back; two stay parked
    assert decoded[2] < decoded[1] / 2


def _wait_background(video, timeout_s: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while video._bg_running:  # it ends when no move pays off
        assert time.monotonic() < deadline, "background positioning did not finish"
        time.sleep(0.005)


def test_idle_positioning_decodes_less_with_the_same_frames(one_gop_video, frame_number):
    # a user jumping around and looking at each frame: the pauses position spare decoders
    wanted = [60, 100, 20, 90, 40, 110, 10, 70, 30, 115, 50, 5]
    video = VideoArray(one_gop_video, cache_mb=1, decoders=4, idle_s=0.0)
    plain = VideoArray(one_gop_video, cache_mb=1, decoders=4, idle_s=None)
    for i in wanted:
        assert frame_number(video[i]) == i and frame_number(plain[i]) == i
        _wait_background(video)
    assert plain.stats["background_moves"] == 0
    assert video.stats["background_moves"] >= 3
    assert video.stats["decoded"] < 0.75 * plain.stats["decoded"]
    assert len(video._cursors) <= 4  # the decoder budget holds
    video.close()


def test_requests_interrupt_the_background_and_stay_exact(one_gop_video):
    import av

    with av.open(str(one_gop_video)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    video = VideoArray(one_gop_video, cache_mb=1, idle_s=0.0)  # starts moving between requests
    for i in np.random.default_rng(5).integers(0, video.n_frames, 40):
        np.testing.assert_array_equal(video[int(i)], frames[int(i)])
    video.close()  # waits for a background move to stop; no crash
    assert video._not_moving.is_set()


def test_closing_or_dropping_a_video_ends_its_background(one_gop_video):
    import gc
    import threading
    import time
    import weakref

    video = VideoArray(one_gop_video, idle_s=0.0)
    video[119]  # the background starts from the key frame towards the middle
    video.close()
    assert video._not_moving.is_set()
    before = set(threading.enumerate())
    video = VideoArray(one_gop_video, idle_s=1.0)  # waiting, holding no reference
    video[50]
    started = set(threading.enumerate()) - before
    assert [t.name for t in started] == ["gaitint-video-positioning"]
    ref = weakref.ref(video)
    time.sleep(0.3)  # the thread is waiting for the viewer to be idle
    del video
    gc.collect()
    assert ref() is None
    for thread in started:
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.parametrize("stored", [-90, 180])
def test_phone_rotated_video_is_served_upright(tmp_path, video_writer, stored):
    """Frames of a video with a display rotation come out upright (as DLC, through OpenCV,
    saw them when it predicted), with the upright shape, in random order and from the cache."""
    from napari_gaitint.core.video import upright

    rng = np.random.default_rng(0)
    raw = [rng.integers(0, 255, (6, 8, 3)).repeat(8, 0).repeat(8, 1).astype(np.uint8) for _ in range(20)]
    path = video_writer(tmp_path / "portrait.mp4", raw, pix_fmt="yuv444p",
                        options={"crf": "0", "g": "8"}, rotation_deg=stored)
    video = VideoArray(path, cache_mb=1)
    turned = stored % 360
    assert video.rotation_deg == turned and video.metadata["rotation_deg"] == turned
    assert video.shape == ((20, 64, 48, 3) if turned == 270 else (20, 48, 64, 3))
    for i in [13, 2, 19, 2, 0, 13]:
        frame = video[i]
        assert frame.shape == video.shape[1:] and frame.flags.c_contiguous
        assert np.abs(frame.astype(int) - upright(raw[i], turned)).mean() < 3
    video.close()


# (suffix, FFmpeg muxer or None for the suffix's own, encoder, pixel format, encoder options):
# what labs record or convert to. The H.264 AVI stores decode-order times (frames are
# counted there); MPEG-TS seeks by decode times; MPEG program-stream seeks land just before a
# key frame; libdav1d (AV1) reads its skipping setting only when opened.
_CONTAINERS = [
    (".avi", None, "libx264", "yuv420p", {"g": "30", "bf": "3"}),
    (".avi", None, "mjpeg", "yuvj420p", {}),
    (".avi", None, "mpeg4", "yuv420p", {"g": "30", "bf": "2"}),
    (".mkv", None, "libx264", "yuv420p", {"g": "30", "bf": "3"}),
    (".mov", None, "libx264", "yuv420p", {"g": "30", "bf": "3"}),
    (".ts", None, "libx264", "yuv420p", {"g": "30", "bf": "3"}),
    (".mpg", None, "mpeg2video", "yuv420p", {"g": "15", "bf": "2"}),
    (".mp4", None, "libx265", "yuv420p", {"x265-params": "keyint=30:bframes=3:log-level=error"}),
    (".mp4", None, "libsvtav1", "yuv420p", {"g": "30"}),
    (".webm", None, "libvpx-vp9", "yuv420p", {"g": "30"}),
]


def _write_numbered(path, frames, fmt, codec, pix_fmt, options, container_options=None):
    import av

    try:
        with av.open(str(path), "w", format=fmt, options=container_options) as out:
            st = out.add_stream(codec, rate=25, options=options)
            st.width, st.height, st.pix_fmt = 320, 192, pix_fmt
            for arr in frames:
                for pkt in st.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                    out.mux(pkt)
            for pkt in st.encode():
                out.mux(pkt)
    except (av.error.FFmpegError, ValueError) as err:  # encoder not in this FFmpeg build
        pytest.skip(f"cannot write {codec} here: {err}")
    return path


@pytest.mark.parametrize("suffix, fmt, codec, pix_fmt, options", _CONTAINERS,
                         ids=[f"{c[2]}{c[0]}" for c in _CONTAINERS])
def test_containers_and_codecs_give_the_right_frames(tmp_path, frame_number, make_numbered_frames, suffix, fmt,
                                                     codec, pix_fmt, options):
    """Every frame, asked for in random order, then forwards, then backwards, is the frame
    with that number, whatever the container stores as times and however its seeks land."""
    import av

    path = _write_numbered(tmp_path / f"numbered{suffix}", make_numbered_frames(n_frames=90), fmt, codec,
                           pix_fmt, options)
    with av.open(str(path)) as c:  # decoded start to end: the frames in display order
        played = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert [frame_number(f) for f in played] == list(range(90))
    order = [int(i) for i in (*np.random.default_rng(1).permutation(90), *range(90), *range(89, -1, -1))]
    for decoders in (None, 1):
        video = VideoArray(path, decoders=decoders, cache_mb=1, idle_s=None)
        assert video.n_frames == 90 and video.fps == 25.0
        for i in order:
            np.testing.assert_array_equal(video[i], played[i], err_msg=f"frame {i}")
        video.close()


def test_raw_stream_without_timestamps_gets_a_clear_error(tmp_path, make_numbered_frames):
    path = _write_numbered(tmp_path / "camera.h264", make_numbered_frames(n_frames=10), "h264", "libx264",
                           "yuv420p", {})
    with pytest.raises(InputFileError, match=r"camera\.h264.*no timestamps.*-c copy out\.mp4"):
        VideoArray(path)


def test_idle_positioning_stops_where_seeks_land_late(tmp_path, make_numbered_frames, frame_number):
    """In an MPEG program stream a seek lands so that decoding starts a group of pictures
    late; moves that cannot reach their frame are not tried again (the background would
    otherwise keep seeking while the viewer is idle), and frames stay exact."""
    import time

    path = _write_numbered(tmp_path / "numbered.mpg", make_numbered_frames(n_frames=90), None,
                           "mpeg2video", "yuv420p", {"g": "15", "bf": "2"})
    video = VideoArray(path, idle_s=0.02)
    for i in (40, 22, 70):
        assert frame_number(video[i]) == i
        deadline = time.monotonic() + 10
        while video._bg_running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not video._bg_running, "the background kept moving decoders"
    assert video.stats["background_moves"] <= 3 * video.decoders
    assert [frame_number(video[i]) for i in (21, 36, 89, 0)] == [21, 36, 89, 0]
    video.close()


def test_video_cut_without_reencoding_shows_the_frames_after_the_cut(tmp_path, make_numbered_frames):
    """``ffmpeg -ss 1.6 -i in.mp4 -c copy out.mp4`` keeps the packets from the key frame before
    the cut and hides them with an edit list: decoders (and DeepLabCut, through OpenCV) show
    the frames from the cut on; so do the frame count and every frame fetched."""
    import av

    from napari_gaitint.core.video import probe_video

    src = _write_numbered(tmp_path / "full.mp4", make_numbered_frames(n_frames=90), None, "libx264",
                          "yuv420p", {"g": "30", "bf": "3"})
    cut = tmp_path / "cut.mp4"
    with av.open(str(src)) as inp, av.open(str(cut), "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        packets = [p for p in inp.demux(ist) if p.size]
        step = int(round(1 / (25 * ist.time_base)))
        first = min(p.pts for p in packets)
        key = next(i for i, p in enumerate(packets) if p.is_keyframe and p.pts == first + 30 * step)
        for p in packets[key:]:  # from the key frame at 30 on (decode order), frame 40 at time 0
            p.pts, p.dts, p.stream = p.pts - (first + 40 * step), p.dts - (first + 40 * step), ost
            out.mux(p)
    with av.open(str(cut)) as c:
        played = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(played) == 50
    video = VideoArray(cut, cache_mb=0.3, idle_s=None)
    assert video.n_frames == probe_video(cut).n_frames == 50
    for i in [*np.random.default_rng(2).permutation(50), 0, 49, 0]:
        np.testing.assert_array_equal(video[int(i)], played[int(i)], err_msg=f"frame {i}")
    video.close()


def test_mp4_shows_its_first_frame_before_reading_the_rest(numbered_video, frame_number):
    """MP4/MOV list their frames in the header: the frame count and frame 0 come at once, the
    packet index is read in the background, and a jump waits for it, then is exact."""
    video = VideoArray(numbered_video, idle_s=None)
    assert video.n_frames == 120 and video.metadata["keyframe_interval_frames"] > 1
    assert frame_number(video[0]) == 0 and video.stats["decoded"] == 0  # decoded when opened
    assert [frame_number(video[i]) for i in (77, 3, 119, 0)] == [77, 3, 119, 0]
    assert video._index_ready.is_set() and video._found == 120
    video.close()
    assert not video._index_thread.is_alive()
    quick = VideoArray(numbered_video)
    quick.close()  # while the index may still be read: it stops
    assert not quick._index_thread.is_alive()


def test_truncated_mp4_shows_what_it_has_and_says_what_is_missing(tmp_path, make_numbered_frames, frame_number):
    """An MP4 with its header first (``faststart``) cut short (a copy that did not finish):
    the frames before the cut are shown; later ones get an error naming the file."""
    path = _write_numbered(tmp_path / "cut_short.mp4", make_numbered_frames(n_frames=90), None, "libx264",
                           "yuv420p", {"g": "30", "bf": "3"}, container_options={"movflags": "faststart"})
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    video = VideoArray(path, idle_s=None)
    assert video.n_frames == 90  # as the header says
    assert [frame_number(video[i]) for i in (0, 15, 3)] == [0, 15, 3]
    for late in (60, 89):
        with pytest.raises(InputFileError, match=r"cut_short\.mp4.*lists 90 frames but its data ends"):
            video[late]
    video.close()
