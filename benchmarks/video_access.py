"""Random-access and sequential frame fetch: our lazy video reader vs baselines, same run.

Videos are made here with PyAV (libx264, yuv420p, 25 Hz), with x264's default key-frame
interval (up to 250 frames; scene cuts may add key frames), so random access must decode
forward from a key frame far back:

* ``960x540``, ``1920x1080``: a shaded background with sensor noise and a moving bar. The
  noise makes x264 code nearly every frame as a P frame (each decoded frame is needed by the
  next): the hard case, where no reader that decodes forward can be much more than ~2.4x
  faster than imageio on these frame lists (the ceiling printed below);
* ``walker540``, ``walker1080``: the synthetic walker's footage (``synthetic/render.py`` frames,
  a treadmill trial) encoded with x264's defaults (preset medium, CRF 23), as
  ``ffmpeg -i in.avi out.mp4`` writes it: about two thirds B frames, most of which no other
  frame refers to, so a reader can skip them on the way to its frame (ours does; imageio
  and OpenCV decode them). ``walker1080`` is left out with ``--quick``.

Readers compared on the same random frame list:

* ``gaitint``: :class:`napari_gaitint._napari._video.VideoArray` (the napari layer data);
* ``imageio``: imageio v3's PyAV plugin, one open file, ``read(index=i)`` per frame, RGB
  uint8, its defaults (seek to the key frame, decode forward, FFmpeg's slice threads; it
  has no cache). imageio is installed with napari;
* ``naive``: PyAV decoding from the start of the file for every frame (the simplest correct
  reader; only on a short prefix of the list, it is slow);
* ``napari-video`` (OpenCV through pyvideoreader): not a dependency; measured when it can be
  imported, or in another interpreter given by ``--napari-video-python`` (e.g. a venv made
  with ``python -m venv --system-site-packages /tmp/nv && /tmp/nv/bin/pip install napari-video``).

Printed: ms per random frame fetched back to back, ratios, the fewest frames any
seek-and-decode reader must decode for that list (the ceiling of the ratio over imageio),
the same kind of jumps with a pause after each (a user looking at each frame: our reader
then positions spare decoders while idle), time to first frame after open, sequential
playback speed as a multiple of real time, the decoded-frame cache size (bounded by
``cache_mb``, not by the video length), and the time to the first frame of a long video
(the 960x540 one's packets repeated: 75 000 frames, 50 min at 25 Hz).

    python benchmarks/video_access.py --quick                        # a short run (CI)
    python benchmarks/video_access.py --video C1_trial01.mp4 C3.avi  # your own recordings

With ``--video`` the same rows are printed for those files (opened read only; nothing is
written next to them), without the naive reader and the long video.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import run_script  # noqa: E402


def encode_h264(path: Path, frames, *, width: int, height: int, fps: int, options: dict | None = None) -> Path:
    """Encode the RGB frames (an iterable of uint8 arrays) as H.264 (libx264, yuv420p) to
    ``path``; ``options`` are x264's (none: its defaults)."""
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps, options=options or {})
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for rgb in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def make_video(path: Path, *, width: int, height: int, n_frames: int, fps: int = 25) -> Path:
    """A walkway-like H.264 video: smooth shaded background with sensor noise and a moving
    figure (x264 defaults except a fast preset; key frames every up to 250 frames)."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 150 + 40 * np.sin(xx / 97.0) * np.cos(yy / 61.0) + 30 * (yy / height)

    def frames():
        for i in range(n_frames):
            img = background + rng.normal(0, 3, (height, width)).astype(np.float32)
            x0 = int((i * width / n_frames) % (width - width // 10))
            img[height // 4: height // 4 + height // 2, x0:x0 + width // 20] = 40
            gray = np.clip(img, 0, 255).astype(np.uint8)
            yield np.dstack([gray, gray, (gray * 0.9).astype(np.uint8)])

    return encode_h264(path, frames(), width=width, height=height, fps=fps, options={"preset": "veryfast"})


def make_walker_video(path: Path, *, width: int, height: int, n_frames: int, fps: int = 25) -> Path:
    """The synthetic walker on a treadmill (the sample's rendering), encoded with x264's
    defaults (preset medium, CRF 23, B frames as x264 chooses them)."""
    from napari_gaitint.synthetic.render import iter_frames
    from napari_gaitint.synthetic.trial import generate_trial

    trial = generate_trial(seed=5, fps=fps, frame_size=(width, height), duration_s=n_frames / fps,
                           treadmill=True)
    return encode_h264(path, iter_frames(trial.views["C1"]), width=width, height=height, fps=fps)


#: Frames whose picture types :func:`frame_types` counts (a long recording is not decoded whole).
TYPE_FRAMES = 750


def frame_types(path: Path, max_frames: int = TYPE_FRAMES) -> str:
    """``"I 1, P 236, B 513"``: the picture types of the file's first ``max_frames`` frames."""
    import av

    counts = {"I": 0, "P": 0, "B": 0}
    with av.open(str(path)) as c:
        for k, f in enumerate(c.decode(video=0)):
            if k == max_frames:
                break
            name = {1: "I", 2: "P", 3: "B"}.get(int(f.pict_type), "other")
            counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in counts.items() if v)


def time_gaitint(path, frames, *, cache_mb=256.0):
    from napari_gaitint._napari._video import VideoArray

    t0 = time.perf_counter()
    v = VideoArray(path, cache_mb=cache_mb)
    v[0]
    first = time.perf_counter() - t0
    v.close()
    v = VideoArray(path, cache_mb=cache_mb)
    t0 = time.perf_counter()
    out = [v[int(i)] for i in frames]
    rand = (time.perf_counter() - t0) / len(frames)
    v.close()  # stops its idle positioning: nothing runs while the next reader is timed
    return first, rand, out, v


def time_imageio(path, frames):
    import imageio.v3 as iio

    t0 = time.perf_counter()
    f = iio.imopen(str(path), "r", plugin="pyav")
    f.read(index=0)
    first = time.perf_counter() - t0
    f.close()
    f = iio.imopen(str(path), "r", plugin="pyav")
    t0 = time.perf_counter()
    out = [f.read(index=int(i)) for i in frames]
    rand = (time.perf_counter() - t0) / len(frames)
    f.close()
    return first, rand, out


_NAPARI_VIDEO_CODE = """
import json, sys, time
import numpy as np
from napari_video.napari_video import VideoReaderNP
path, frames = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter(); v = VideoReaderNP(path); v[0]; first = time.perf_counter() - t0
v = VideoReaderNP(path)
t0 = time.perf_counter(); out = [v[int(i)] for i in frames]; rand = (time.perf_counter() - t0) / len(frames)
np.save(sys.argv[3], out[0])
print(json.dumps({"first": first, "rand": rand}))
"""


def time_napari_video_inprocess(path, frames):
    """Same as :func:`time_napari_video`, in this process (needs napari_video importable)."""
    from napari_video.napari_video import VideoReaderNP

    t0 = time.perf_counter()
    v = VideoReaderNP(str(path))
    v[0]
    first = time.perf_counter() - t0
    v = VideoReaderNP(str(path))
    t0 = time.perf_counter()
    out = [v[int(i)] for i in frames]
    return first, (time.perf_counter() - t0) / len(frames), out[0]


def time_napari_video(path, frames, python: str | None, tmp: Path):
    """(first, ms per frame, first fetched frame) of napari-video, or None if unavailable."""
    import json
    import subprocess
    import sys

    exe = python or sys.executable
    out_npy = tmp / "napari_video_frame.npy"  # never next to the video (it may be the user's)
    proc = subprocess.run(
        [exe, "-c", _NAPARI_VIDEO_CODE, str(path), json.dumps([int(i) for i in frames]), str(out_npy)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        return None
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return res["first"], res["rand"], np.load(out_npy)


def time_jumps(path, frames, *, pause_s: float) -> dict[str, float]:
    """Mean ms per frame for jumps with a pause after each (a user looking at the frame
    before the next click on the slider): imageio, ours, and ours without idle positioning.
    Only the fetches are timed, not the pauses."""
    import imageio.v3 as iio

    from napari_gaitint._napari._video import VideoArray

    readers = {
        "imageio": lambda: iio.imopen(str(path), "r", plugin="pyav"),
        "gaitint": lambda: VideoArray(path),
        "gaitint, no idle positioning": lambda: VideoArray(path, idle_s=None),
    }
    out = {}
    for name, make in readers.items():
        try:
            out[name] = _jump_time(make, name, frames, pause_s)
        except Exception:  # a baseline that cannot read this file: no time
            if name.startswith("gaitint"):
                raise
            out[name] = np.nan
    return out


def _jump_time(make, name, frames, pause_s) -> float:
    """Mean seconds per fetch of ``frames`` with a pause after each, for one reader."""
    reader = make()
    try:
        get = (lambda i, r=reader: r.read(index=i)) if name == "imageio" else reader.__getitem__
        get(0)
        time.sleep(pause_s)
        spent = 0.0
        for i in frames:
            t0 = time.perf_counter()
            get(int(i))
            spent += time.perf_counter() - t0
            time.sleep(pause_s)
    finally:
        reader.close()
    return spent / len(frames)


def time_naive(path, frames):
    import av

    out = []
    t0 = time.perf_counter()
    for i in frames:
        with av.open(str(path)) as c:
            for k, fr in enumerate(c.decode(video=0)):
                if k == i:
                    out.append(fr.to_ndarray(format="rgb24"))
                    break
    return (time.perf_counter() - t0) / len(frames), out


_MEMORY_CODE = """
import json, resource, sys
from napari_gaitint._napari._video import VideoArray
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * 4096 / 2**20
base = rss()
v = VideoArray(sys.argv[1], cache_mb=64)
for i in json.loads(sys.argv[2]):
    v[int(i)]
print(rss() - base)
"""


def reader_memory_mib(path, frames) -> float:
    """Resident memory added by opening the video and fetching ``frames`` (MiB, Linux)."""
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _MEMORY_CODE, str(path), json.dumps([int(i) for i in frames])],
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def video_size(path) -> tuple[int, float]:
    """(frames, frames per second) as our reader sees the video."""
    from napari_gaitint._napari._video import VideoArray

    v = VideoArray(path)
    try:
        return v.n_frames, float(v.metadata.get("fps") or 25.0)
    finally:
        v.close()


def sequential(path, n, fps):
    from napari_gaitint._napari._video import VideoArray

    v = VideoArray(path, cache_mb=64)
    t0 = time.perf_counter()
    for i in range(n):
        v[i]
    dt = time.perf_counter() - t0
    v.close()
    return n / dt / fps, v


def decode_counts(frames, keyframes) -> tuple[float, float]:
    """Frames a forward-decoding reader must decode per fetch of ``frames`` (in that order).

    Returns ``(from_key_frame, fewest)``. ``from_key_frame``: decoding from the key frame at
    or before each frame, as imageio does. ``fewest``: the least any reader can do that
    decodes forward from a key frame or from where one of its decoders stopped, even with
    unlimited decoders and cache and knowing the whole list in advance: each fetch ``t``
    starts at its key frame (``t - key + 1`` frames) or continues a decoder that stopped
    after an earlier fetch ``p`` in the same group of pictures (``t - p`` frames; that
    decoder then stands at ``t``, so each ``p`` serves once); repeats are cache hits. The
    best assignment is a minimum-cost matching. ``from_key_frame / fewest`` caps the
    speed-up over imageio at equal decoding speed per frame (skipping non-reference frames
    can still shave a little).

    Examples
    --------
    The decoder that stopped at 100 serves 120 (20 frames) or 110 (10 frames), not both:

    >>> decode_counts([100, 120, 110], keyframes=[0, 250])  # (101 + 121 + 111) / 3, (101 + 20 + 111) / 3
    (111.0, 77.33333333333333)
    """
    from scipy.optimize import linear_sum_assignment

    keyframes = np.asarray(keyframes)
    wanted = [int(i) for i in frames]
    first = list(dict.fromkeys(wanted))  # first visits in order; repeats cost nothing
    keys = [int(keyframes[np.searchsorted(keyframes, t, side="right") - 1]) for t in first]
    from_key = sum(t - int(keyframes[np.searchsorted(keyframes, t, side="right") - 1]) + 1 for t in wanted)
    n = len(first)
    cost = np.full((n, 2 * n), 10**9, dtype=np.int64)
    for j, t in enumerate(first):
        cost[j, n + j] = t - keys[j] + 1
        for i, p in enumerate(first[:j]):
            if keys[j] <= p < t:
                cost[j, i] = t - p
    rows, cols = linear_sum_assignment(cost)
    return from_key / len(wanted), float(cost[rows, cols].sum()) / len(wanted)


def long_video(path: Path, dst: Path, repeats: int) -> Path:
    """``path``'s packets ``repeats`` times over (remuxed, not re-encoded): a long recording
    in little time and disk space."""
    import av

    with av.open(str(path)) as inp, av.open(str(dst), "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        packets = [p for p in inp.demux(ist) if p.size]
        span = (max(p.pts for p in packets) - min(p.pts for p in packets)
                + int(round(1 / (float(ist.average_rate) * ist.time_base))))
        for r in range(repeats):
            for p in packets:
                q = av.Packet(bytes(p))
                q.pts, q.dts, q.is_keyframe = p.pts + r * span, p.dts + r * span, p.is_keyframe
                q.time_base, q.stream = p.time_base, ost
                out.mux(q)
    return dst


def time_long_open(path: Path) -> dict[str, float]:
    """Seconds to the first frame after opening, and to a frame in the middle right after
    (ours waits for its packet index there), for ours and imageio; and how long reading our
    packet index takes (what opening cost before it moved to the background)."""
    import av
    import imageio.v3 as iio

    from napari_gaitint._napari._video import VideoArray
    from napari_gaitint._napari._video_decode import _packet_index

    out = {}
    t0 = time.perf_counter()
    v = VideoArray(path)
    v[0]
    out["gaitint first"] = time.perf_counter() - t0
    v[v.n_frames // 2]
    out["gaitint middle"] = time.perf_counter() - t0
    n = v.n_frames
    v.close()
    t0 = time.perf_counter()
    f = iio.imopen(str(path), "r", plugin="pyav")
    f.read(index=0)
    out["imageio first"] = time.perf_counter() - t0
    f.read(index=n // 2)
    out["imageio middle"] = time.perf_counter() - t0
    f.close()
    t0 = time.perf_counter()
    with av.open(str(path)) as c:
        _packet_index(c, c.streams.video[0], path)
    out["packet index"] = time.perf_counter() - t0
    out["frames"] = n
    return out


def _ratio(baseline: float, ours: float) -> str:
    """``baseline / ours`` as ``"2.31x"``, or ``"n/a"`` when the baseline has no time."""
    return "n/a" if not np.isfinite(baseline) else f"{baseline / ours:.2f}x"


def _keep(best: dict, name: str, first: float, rand: float) -> None:
    f0, r0 = best.get(name, (np.inf, np.inf))
    best[name] = (min(f0, first), min(r0, rand))


def bench_video(path: Path, label: str, frames, *, rounds: int, napari_video_python, n_naive: int,
                n_jumps: int, pause_s: float, long_repeats: int, tmp: Path) -> None:
    """Print every row for one video: ``frames`` is the random frame list; ``n_naive``
    frames of it are also fetched by decoding from the file start (0: not done);
    ``long_repeats`` > 0 also times opening this video's packets repeated that often."""
    n, fps = video_size(path)
    best: dict[str, tuple[float, float]] = {}
    imageio_error = None

    nvid = None
    for _ in range(rounds):  # interleaved rounds: the fastest of each reader is kept
        g_first, g_rand, g_out, g_video = time_gaitint(path, frames)
        _keep(best, "gaitint", g_first, g_rand)
        try:
            i_first, i_rand, i_out = time_imageio(path, frames)
            _keep(best, "imageio", i_first, i_rand)
        except Exception as err:  # a baseline that cannot read this file is reported, not fatal
            imageio_error = f"{type(err).__name__}: {err}"[:120]
        try:
            nv = time_napari_video_inprocess(path, frames)
        except ImportError:
            nv = time_napari_video(path, frames, napari_video_python, tmp)
        if nv is not None:
            _keep(best, "napari-video", nv[0], nv[1])
            nvid = nv
    g_first, g_rand = best["gaitint"]
    i_first, i_rand = best.get("imageio", (np.nan, np.nan))
    if nvid is not None:
        nvid = (*best["napari-video"], nvid[2])
    same = imageio_error is None and all(np.array_equal(a, b) for a, b in zip(g_out, i_out, strict=True))
    if n_naive:
        nv_rand, nv_out = time_naive(path, frames[:n_naive])
        same_naive = all(np.array_equal(a, b) for a, b in zip(g_out[:n_naive], nv_out, strict=True))
    gop = g_video.metadata["keyframe_interval_frames"]
    types = frame_types(path) + (f" (first {TYPE_FRAMES})" if n > TYPE_FRAMES else "")
    print(f"{label:>10} {'gaitint':>8} {g_rand * 1e3:9.1f} {g_first:13.3f}  {n} frames, mean key-frame interval "
          f"{gop:.0f}, frame types {types}")
    if imageio_error is None:
        print(f"{label:>10} {'imageio':>8} {i_rand * 1e3:9.1f} {i_first:13.3f}  same pixels as ours: {same}")
    else:
        print(f"{label:>10} {'imageio':>8} failed on this file ({imageio_error})")
    if n_naive:
        print(f"{label:>10} {'naive':>8} {nv_rand * 1e3:9.1f} {'':>13}  first {n_naive} frames of the list; same pixels: {same_naive}")
    if nvid is None:
        print(f"{label:>10} {'napari-video':>8} not available (pass --napari-video-python)")
    else:
        diff = np.abs(nvid[2].astype(float) - g_out[0].astype(float)).mean()
        print(f"{label:>10} {'napari-video':>8} {nvid[1] * 1e3:9.1f} {nvid[0]:13.3f}  "
              f"mean |pixel diff| vs ours {diff:.1f} (OpenCV colour conversion)")
        print(f"{label:>10} ratio: napari-video/gaitint = {nvid[1] / g_rand:.2f}x")
    st = g_video.stats
    naive = f"naive/gaitint = {nv_rand / g_rand:.2f}x, " if n_naive else ""
    print(f"{label:>10} ratio: imageio/gaitint = {_ratio(i_rand, g_rand)}, {naive}"
          f"{len(frames)} fetches: {st['seeks']} seeks, {st['decoded'] / len(frames):.0f} frames decoded "
          f"per fetch, {st['hits']} cache hits ({g_video.decoders} parked decoders)")
    from_key, floor = decode_counts(frames, g_video._keyframes)
    print(f"{label:>10} frames decoded per fetch on this list: {from_key:.0f} from the key frame (imageio), "
          f"ours {st['decoded'] / len(frames):.0f} (non-reference frames skipped not counted), fewest possible "
          f"for a seek-and-decode reader {floor:.0f} (unlimited decoders, list known in advance, "
          f"frames cached only when returned): "
          f"{from_key / floor:.2f}x over imageio at equal speed per frame is the ceiling")
    jumps = frames[: n_jumps]
    js = time_jumps(path, jumps, pause_s=pause_s)
    print(f"{label:>10} jumps with a {pause_s:.1f} s pause after each ({len(jumps)}; fetch time only): "
          f"imageio {js['imageio'] * 1e3:.1f} ms, ours {js['gaitint'] * 1e3:.1f} ms "
          f"({_ratio(js['imageio'], js['gaitint'])}), ours without idle positioning "
          f"{js['gaitint, no idle positioning'] * 1e3:.1f} ms ({_ratio(js['imageio'], js['gaitint, no idle positioning'])})")
    speed, v = sequential(path, min(n, 750), fps)
    mb = v.cached_bytes / 2**20
    video_mb = v.n_frames * v._frame_bytes / 2**20
    print(f"{label:>10} sequential playback {speed:.1f}x real time ({fps:g} Hz, first {min(n, 750)} frames); cache {mb:.0f} MiB "
          f"(bound {v.cache_bytes / 2**20:.0f} MiB) for a {video_mb:.0f} MiB decoded video")
    print(f"{label:>10} memory of our reader after the random fetches (fresh process): "
          f"{reader_memory_mib(path, frames):.0f} MiB (cache 64 MiB + {g_video.decoders} parked decoders)")
    if long_repeats:
        lv = long_video(path, tmp / f"long_{Path(path).stem}.mp4", long_repeats)
        lo = min((time_long_open(lv) for _ in range(rounds)), key=lambda r: r["gaitint first"])
        print(f"{label:>10} long video ({lo['frames']:,} frames, {lo['frames'] / 25 / 60:.0f} min at 25 Hz): "
              f"first frame after opening ours {lo['gaitint first']:.3f} s, imageio {lo['imageio first']:.3f} s; "
              f"a frame in the middle right after: ours {lo['gaitint middle']:.3f} s (waits for the packet "
              f"index, read in the background: {lo['packet index']:.3f} s), imageio {lo['imageio middle']:.3f} s")


def _main(argv, tmp_dirs: list) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short videos and few fetches (CI)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--video", type=Path, nargs="+", metavar="PATH",
                    help="time these videos (e.g. your recordings) instead of the synthetic ones")
    ap.add_argument("--fetches", type=int, default=None,
                    help="random frames per video (default 15 with --quick, else 60)")
    ap.add_argument("--napari-video-python", default=None,
                    help="python interpreter that has napari-video installed (default: this one)")
    ap.add_argument("--napari-video-site", default=None,
                    help="site-packages folder holding napari-video (imported in this process)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="repeat each reader this often, interleaved, and keep the fastest round "
                         "(robust to other load on the machine); default 2 (--quick) / 3")
    args = ap.parse_args(argv)
    if args.napari_video_site:
        sys.path.append(args.napari_video_site)
    rounds = args.rounds or (2 if args.quick else 3)
    sizes = [(960, 540), (1920, 1080)]
    n_frames = 150 if args.quick else 750
    n_fetch = args.fetches or (15 if args.quick else 60)
    n_naive = 4 if args.quick else 10
    n_jumps, pause_s = (5, 0.2) if args.quick else (30, 0.4)
    rng = np.random.default_rng(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="gaitint_video_bench_"))
    tmp_dirs.append(tmp)
    common = dict(rounds=rounds, napari_video_python=args.napari_video_python, n_jumps=n_jumps,
                  pause_s=pause_s, tmp=tmp)
    print(f"{'video':>10} {'reader':>8} {'ms/frame':>9} {'first frame s':>13}  notes")
    if args.video:  # the user's own videos: read only
        for path in args.video:
            n, fps = video_size(path)
            print(f"{path}: {n} frames at {fps:g} Hz")
            bench_video(path, path.name[:10], rng.integers(0, n, n_fetch), n_naive=0,
                        long_repeats=0, **common)
        return
    # the noisy all-P videos, then footage with B frames (x264 defaults)
    videos = [(make_video, f"{w}x{h}", w, h) for w, h in sizes]
    videos += [(make_walker_video, f"walker{h}", w, h) for w, h in (sizes[:1] if args.quick else sizes)]
    for make, label, w, h in videos:
        n = n_frames if w < 1000 else n_frames * 2 // 3
        path = make(tmp / f"{label}.mp4", width=w, height=h, n_frames=n)
        frames = rng.integers(0, n, n_fetch)
        long_repeats = (10 if args.quick else 100) if make is make_video and w < 1000 else 0
        bench_video(path, label, frames, n_naive=n_naive, long_repeats=long_repeats, **common)


def main(argv=None) -> None:
    run_script("video_access.py", _main, argv)


if __name__ == "__main__":
    main()
