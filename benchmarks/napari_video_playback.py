"""Video in napari: time per frame change with two video layers, ours against napari-video.

A trial pair is two videos on screen. This opens two 960x540 H.264 videos (made as in
``video_access.py``: x264 defaults, key frames up to 250 frames apart) as napari image
layers, then times frame changes (``viewer.dims.current_step`` set, events processed,
canvas drawn), in one process:

* ours: the plugin's video reader (``napari_get_video_reader`` -> LayerDataTuple, data
  :class:`napari_gaitint._napari._video.VideoArray`);
* napari-video (``VideoReaderNP``, OpenCV), if it can be imported; not a dependency;
* floor: the same frame on every step (a broadcast array: no decoding at all), so what
  napari itself costs per frame change with two such layers on this machine.

Two kinds of frame change: playback (+1 frame, as napari's play button does) and random
jumps (a click along the slider). Printed: median ms per frame change, playback speed as a
multiple of real time (the video's frame rate), and the ratio napari-video/ours (> 1: ours
is faster). The decoding part is ours minus the floor.

Needs a display: run under Xvfb (napari draws with software OpenGL there, so the floor is
higher than on a desktop with a GPU)::

    xvfb-run -a python benchmarks/napari_video_playback.py
    xvfb-run -a python benchmarks/napari_video_playback.py --quick
    xvfb-run -a python benchmarks/napari_video_playback.py --video C1.mp4 C3.mp4   # yours

(never with QT_QPA_PLATFORM=offscreen: it renders black). ``--video`` files are read only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from napari_gaitint.core.errors import InputFileError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import draw_now, run_script  # noqa: E402
from video_access import make_video, video_size  # noqa: E402


def ours(path: Path):
    """Our reader's layer data for ``path`` (what File > Open gives)."""
    from napari_gaitint._napari._reader import napari_get_video_reader

    reader = napari_get_video_reader(str(path))
    if reader is None:
        raise InputFileError(path, "not a video our reader opens (file missing or unknown suffix)")
    (data, _kwargs, _kind), = reader(str(path))
    return data


def napari_video_data(path: Path):
    """napari-video's layer data for ``path``, from its own napari reader."""
    from napari_video.napari_video import video_file_reader

    (data, _kwargs, _kind), = video_file_reader(str(path))
    return data


def floor(path: Path):
    """The first frame repeated: a layer of the same size and length that never decodes."""
    data = ours(path)
    first = np.asarray(data[0])
    n = data.shape[0]
    data.close()
    return np.broadcast_to(first, (n, *first.shape))


def time_steps(viewer, targets) -> list[float]:
    """Wall seconds of each frame change to ``targets`` (frame numbers, in order)."""
    walls = []
    for f in targets:
        t = time.perf_counter()
        step = list(viewer.dims.current_step)
        step[0] = int(f)
        viewer.dims.current_step = tuple(step)
        draw_now(viewer)
        walls.append(time.perf_counter() - t)
    return walls


def run(make_data, paths, n_play: int, jumps) -> dict[str, float]:
    """Median ms per frame change (playback and jumps) with the videos as image layers."""
    import napari

    viewer = napari.Viewer(show=True)
    datas = []
    try:
        for p in paths:
            datas.append(make_data(p))
        for p, d in zip(paths, datas, strict=True):
            viewer.add_image(d, rgb=True, name=p.stem)
        n = min(d.shape[0] for d in datas)
        start = min(n // 3, max(0, n - n_play - 1))
        time_steps(viewer, [start])
        draw_now(viewer)
        play = time_steps(viewer, range(start + 1, min(n, start + 1 + n_play)))
        jump = time_steps(viewer, [j % n for j in jumps])
        shot = viewer.screenshot(canvas_only=True)
    finally:
        for d in datas:
            close = getattr(d, "close", None)
            if callable(close):
                close()
        viewer.close()
    if shot.max() == shot.min():
        raise RuntimeError("the canvas is blank: run under Xvfb, not QT_QPA_PLATFORM=offscreen")
    return {"play": float(np.median(play)) * 1e3, "jump": float(np.median(jump)) * 1e3}


def _main(argv, tmp_dirs: list) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short videos, few steps (CI)")
    ap.add_argument("--video", type=Path, nargs=2, metavar=("C1", "C3"),
                    help="time these two videos (e.g. a trial pair of yours) instead of generated ones")
    ap.add_argument("--steps", type=int, default=None, help="playback steps and jumps per round")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per reader (default 1 quick / 2)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    n_steps = args.steps or (10 if args.quick else 60)
    rounds = args.rounds or (1 if args.quick else 2)
    if args.video:
        paths = list(args.video)
    else:

        tmp = Path(tempfile.mkdtemp(prefix="gaitint-playback-bench-"))
        tmp_dirs.append(tmp)
        t0 = time.perf_counter()
        paths = [make_video(tmp / "C1.mp4", width=960, height=540, n_frames=150 if args.quick else 750)]
        paths.append(Path(shutil.copyfile(paths[0], tmp / "C3.mp4")))
        print(f"videos: 2 x 960x540 H.264 (made in {time.perf_counter() - t0:.1f} s)")
    sizes = [video_size(p) for p in paths]  # (frames, frames per second)
    n, fps = min(f for f, _ in sizes), sizes[0][1]
    jumps = np.random.default_rng(args.seed).integers(0, n, n_steps)
    readers = {"ours (napari-gaitint video reader)": ours}
    try:
        import napari_video.napari_video  # noqa: F401

        readers["napari-video (VideoReaderNP)"] = napari_video_data
    except ImportError as err:
        print(f"napari-video not available ({err}); baseline skipped")
    readers["floor (no decoding)"] = floor
    res = {}
    for _ in range(rounds):  # interleaved: machine load hits every reader alike
        for name, make in readers.items():
            r = run(make, paths, n_steps, jumps)
            old = res.get(name, {"play": np.inf, "jump": np.inf})
            res[name] = {k: min(old[k], r[k]) for k in r}
    print(f"two video layers, {n} frames; median ms per frame change ({n_steps} playback steps, "
          f"{n_steps} random jumps; best of {rounds} rounds, each in a new viewer)")
    print(f"{'reader':<38} {'playback ms':>11} {'x real time':>11} {'jump ms':>8}  (real time: {fps:g} Hz)")
    for name, r in res.items():
        print(f"{name:<38} {r['play']:11.1f} {1000 / r['play'] / fps:11.1f} {r['jump']:8.1f}")
    o, f = res["ours (napari-gaitint video reader)"], res["floor (no decoding)"]
    print(f"ours minus the floor (decoding two frames): playback {o['play'] - f['play']:.1f} ms, "
          f"jump {o['jump'] - f['jump']:.1f} ms")
    nv = res.get("napari-video (VideoReaderNP)")
    if nv is not None:
        print(f"ratio napari-video/ours: playback {nv['play'] / o['play']:.2f}x, jump {nv['jump'] / o['jump']:.2f}x "
              f"(> 1: ours faster)")


def main(argv=None) -> None:
    run_script("napari_video_playback.py", _main, argv)


if __name__ == "__main__":
    main()
