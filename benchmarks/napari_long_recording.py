"""Long recordings in napari: load DLC predictions into Points + Tracks layers, step frames.

Writes a DeepLabCut ``.h5`` of N frames x 12 keypoints (random-walk keypoints, a few
low-likelihood and missing points) with ``napari_gaitint.core.io``, then, in one process
and on the same file, times

* ours: the plugin's reader (``napari_get_reader`` -> LayerDataTuples from ``_convert``),
  the layers added to a viewer (Points + Tracks) and drawn once; above
  ``_reader.MAX_TRACK_POINTS`` keypoints the Tracks layer holds only the frames around the
  current one (``_reader.TrackWindow``) and is moved on each frame change (counted);
* movement (if installed): ``movement.napari``'s loader widget (``DataLoader``:
  ``load_dataset(..., "DeepLabCut")`` + ``ds_to_napari_layers`` + its Points and Tracks
  layers), drawn once;

and the time per frame change (``viewer.dims.current_step`` set in a loop, events
processed, canvas drawn) with each plugin's layers alone in the viewer; ``--floor`` also
times it with two points only (what the viewer costs per step on this machine, whatever
the layers). Timings are noisy on shared machines: compare ratios from one run. Each load is
repeated; the best wall time and its CPU time (``time.process_time``) are printed with the
ratio movement/ours (> 1: ours is faster).

Needs a display: run under Xvfb, e.g.::

    xvfb-run -a python benchmarks/napari_long_recording.py            # 100 000 frames
    xvfb-run -a python benchmarks/napari_long_recording.py --quick    # 5 000 frames (CI)
    xvfb-run -a python benchmarks/napari_long_recording.py --predictions myvideoDLC_resnet50_....h5

``--predictions`` times a DeepLabCut file of yours (``.h5`` or ``.csv``, single- or
multi-animal; read only) instead of the generated one.

(never with QT_QPA_PLATFORM=offscreen). movement is optional: without it only ours runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import draw_now, run_script  # noqa: E402

BODYPARTS = ("neck", "hip", "knee", "ankle", "heel", "toe",
             "shoulder", "elbow", "wrist", "nose", "ear", "tail")


def make_predictions(path: Path, n_frames: int, *, seed: int = 0) -> Path:
    """A DLC predictions ``.h5`` of ``n_frames`` x 12 keypoints written by our core.io as
    DeepLabCut writes them (with PyTables' index on the frame column)."""
    from napari_gaitint.core.io import pose_to_dlc_table, write_dlc_table
    from napari_gaitint.core.pose import Pose

    rng = np.random.default_rng(seed)
    k = len(BODYPARTS)
    start = rng.uniform([100, 100], [860, 440], size=(k, 2))
    steps = rng.normal(0, 2.0, size=(n_frames, k, 2))
    xy = np.clip(start + np.cumsum(steps, axis=0), 0, [959, 539])
    lik = rng.uniform(0.7, 1.0, size=(n_frames, k))
    low = rng.random((n_frames, k)) < 0.03
    lik[low] = rng.uniform(0.0, 0.5, size=int(low.sum()))
    values = np.concatenate([xy, lik[..., None]], axis=-1)
    values[rng.random((n_frames, k)) < 0.005, :2] = np.nan  # DLC writes NaN for missing points
    pose = Pose(values, BODYPARTS, scorer="DLC_resnet50_benchLongshuffle1_100000", fps=25.0,
                frame_size=(960, 540))
    return write_dlc_table(pose_to_dlc_table(pose), path, overwrite=True, pytables_index=True)


def load_ours(viewer, path: Path) -> int:
    """Our reader: file -> LayerDataTuples -> layers added; returns the number of points."""
    from napari_gaitint._napari._reader import napari_get_reader

    reader = napari_get_reader(str(path))
    if reader is None:
        raise RuntimeError(f"our reader does not accept {path}")
    n = 0
    for data, kwargs, kind in reader(str(path)):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
        n += len(data) if kind == "points" else 0
    return n


def load_movement(viewer, path: Path, fps: float) -> int:
    """movement's napari loader widget on the same file; returns the number of points."""
    from movement.napari.loader_widgets import DataLoader

    loader = DataLoader(viewer)
    loader.fps_spinbox.setValue(fps)
    loader.source_software_combo.setCurrentText("DeepLabCut")
    loader.file_path_edit.setText(str(path))
    loader._on_load_clicked()
    pts = [ly for ly in viewer.layers if ly.__class__.__name__ == "Points"]
    return len(pts[-1].data) if pts else 0


def _time_load(make_viewer, load, warm_up, repeat: int) -> tuple[float, float, int, object]:
    """Best wall (and its CPU) time of ``load`` over ``repeat`` runs in one viewer, after
    a warm-up load of a small file (imports and first-use costs are not counted)."""
    viewer = make_viewer()
    warm_up(viewer)
    draw_now(viewer)
    best = (np.inf, np.inf)
    n_points = 0
    for _ in range(repeat):
        viewer.layers.clear()
        draw_now(viewer)
        t, c = time.perf_counter(), time.process_time()
        n_points = load(viewer)
        draw_now(viewer)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        if wall < best[0]:
            best = (wall, cpu)
    return best[0], best[1], n_points, viewer


def _time_steps(viewer, n_frames: int, n_steps: int) -> tuple[float, float]:
    """Median wall ms and mean CPU ms per frame change (random and +1 steps)."""
    rng = np.random.default_rng(1)
    targets = np.concatenate([
        np.arange(n_frames // 2, n_frames // 2 + n_steps // 2),  # playback (+1)
        rng.integers(0, n_frames, n_steps - n_steps // 2),  # jumps
    ])
    nd = viewer.dims.ndim
    walls = []
    c0 = time.process_time()
    for f in targets:
        t = time.perf_counter()
        step = list(viewer.dims.current_step)
        step[0] = int(f)
        viewer.dims.current_step = tuple(step[:nd])
        draw_now(viewer)
        walls.append(time.perf_counter() - t)
    cpu = (time.process_time() - c0) / len(targets)
    return float(np.median(walls)) * 1e3, cpu * 1e3


def _main(argv, tmp_dirs: list) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--predictions", type=Path, metavar="FILE",
                    help="time this DeepLabCut predictions file (e.g. yours) instead of a generated one")
    ap.add_argument("--quick", action="store_true", help="5 000 frames, one repeat, few steps")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=60, help="frame changes timed per plugin")
    ap.add_argument("--no-movement", action="store_true", help="skip the movement baseline")
    ap.add_argument("--floor", action="store_true",
                    help="also time frame changes with two points only (the viewer's own cost)")
    args = ap.parse_args(argv)
    n_frames = 5_000 if args.quick else args.frames
    repeat = 1 if args.quick else args.repeat
    n_steps = 10 if args.quick else args.steps
    fps = 25.0

    t0 = time.perf_counter()
    import napari

    napari.Viewer  # noqa: B018  (napari imports lazily: this is where the import happens)
    print(f"import napari: {time.perf_counter() - t0:.2f} s")
    tmp = Path(tempfile.mkdtemp(prefix="gaitint-napari-bench-"))
    tmp_dirs.append(tmp)
    if args.predictions is not None:
        from napari_gaitint.core.io import read_dlc_table

        path = args.predictions
        table = read_dlc_table(path)  # a clear error for a file that is not DLC's, before timing
        n_frames = len(table)
        n_keypoints = len(table.columns) // 3
        print(f"file: {path}, {n_frames} frames x {n_keypoints} keypoints, "
              f"{path.stat().st_size / 1e6:.1f} MB")
    else:
        path = tmp / "longDLC_resnet50_benchLongshuffle1_100000.h5"
        t0 = time.perf_counter()
        make_predictions(path, n_frames)
        n_keypoints = len(BODYPARTS)
        print(f"file: {n_frames} frames x {n_keypoints} keypoints, {path.stat().st_size / 1e6:.1f} MB "
              f"(written in {time.perf_counter() - t0:.1f} s)")

    def make_viewer():
        return napari.Viewer(show=True)

    small = make_predictions(tmp / "smallDLC_resnet50_benchLongshuffle1_100000.h5", 200, seed=1)
    runs = {}
    wall, cpu, n_pts, viewer = _time_load(
        make_viewer, lambda v: load_ours(v, path), lambda v: load_ours(v, small), repeat)
    step_ms = _time_steps(viewer, n_frames, n_steps)
    runs["ours (napari-gaitint reader)"] = (wall, cpu, n_pts, step_ms)
    viewer.close()

    have_movement = False
    if not args.no_movement:
        try:
            import movement.napari.loader_widgets  # noqa: F401

            have_movement = True
        except ImportError as err:
            print(f"movement not available ({err}); baseline skipped")
    if have_movement:
        wall, cpu, n_pts, viewer = _time_load(
            make_viewer, lambda v: load_movement(v, path, fps), lambda v: load_movement(v, small, fps),
            repeat)
        step_ms = _time_steps(viewer, n_frames, n_steps)
        runs["movement (movement.napari DataLoader)"] = (wall, cpu, n_pts, step_ms)
        viewer.close()

    if args.floor:
        viewer = make_viewer()
        viewer.add_points(np.array([[0.0, 10.0, 10.0], [n_frames - 1.0, 500.0, 900.0]]), size=16)
        draw_now(viewer)
        runs["floor (two points, same frame range)"] = (np.nan, np.nan, 2, _time_steps(viewer, n_frames, n_steps))
        viewer.close()

    print(f"best of {repeat} loads (file -> Points + Tracks layers drawn); "
          f"frame change: median wall / mean cpu over {n_steps} steps")
    print(f"{'loader':<40} {'load s':>8} {'cpu s':>8} {'points':>10} {'step ms':>8} {'cpu ms':>8}")
    for name, (w, c, n, (sw, sc)) in runs.items():
        print(f"{name:<40} {w:8.2f} {c:8.2f} {n:10d} {sw:8.1f} {sc:8.1f}")
    ours_key, movement_key = "ours (napari-gaitint reader)", "movement (movement.napari DataLoader)"
    if movement_key in runs:
        (ow, oc, _, (osw, osc)), (mw, mc, _, (msw, msc)) = runs[ours_key], runs[movement_key]
        print(f"ratio movement/ours: load wall {mw / ow:.2f}x, load cpu {mc / oc:.2f}x, "
              f"frame change wall {msw / osw:.2f}x, cpu {msc / osc:.2f}x (> 1: ours faster)")
    if n_frames >= 100_000 and n_keypoints == len(BODYPARTS):
        ow, oc = next(iter(runs.values()))[:2]
        print(f"target load <= 3 s on 100 000 frames x 12 keypoints: "
              f"{'met' if min(ow, oc) <= 3.0 else 'NOT met'} (wall {ow:.2f} s, cpu {oc:.2f} s)")


def main(argv=None) -> None:
    run_script("napari_long_recording.py", _main, argv)


if __name__ == "__main__":
    main()
