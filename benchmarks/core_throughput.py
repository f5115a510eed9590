"""Core throughput on a long recording: clean + events + cycles, against movement's chain.

Generates a synthetic treadmill recording (both views) of N frames x 6 keypoints, then times

* ours: ``clean_pose`` (with the other view) + ``orient_pose`` + ``detect_events`` +
  ``compute_cycles`` for one view, and ``clean_pose`` alone;
* baseline, same data, same run: movement's ``filter_by_confidence`` +
  ``interpolate_over_time`` + ``savgol_filter`` chain (if ``movement`` is installed), else
  the same chain written with pandas (``mask`` + ``interpolate`` + scipy ``savgol_filter``).

and the zero-lag Butterworth filter (``lowpass``, the default filter) on the recording's 12
coordinate columns with a gap every ~65 frames (about 1 500 stretches per 100 000 frames),
against scipy's ``sosfiltfilt`` called on each stretch (checked equal to the bit).

Prints seconds and the ratio baseline/ours for cleaning (higher is better for us).

    python benchmarks/core_throughput.py            # 100 000 frames
    python benchmarks/core_throughput.py --quick    # 5 000 frames (CI)
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _best_of(fn, repeat: int) -> tuple[float, float]:
    """Best wall and best CPU (``time.process_time``) seconds over ``repeat`` calls.

    The CPU time is the better estimate on a busy (shared) machine; the wall time is what
    a user waits on an idle one.
    """
    wall = cpu = np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def _movement_chain(pose, fps: float, window_s: float, threshold: float):
    import xarray as xr
    from movement.filtering import filter_by_confidence, interpolate_over_time, savgol_filter

    position = xr.DataArray(
        pose.xy.transpose(0, 2, 1)[..., None],
        dims=("time", "space", "keypoints", "individuals"),
        coords={"time": np.arange(pose.n_frames) / fps, "space": ["x", "y"],
                "keypoints": list(pose.bodyparts), "individuals": ["id_0"]},
    )
    confidence = xr.DataArray(
        pose.likelihood[..., None], dims=("time", "keypoints", "individuals"),
        coords={"time": position.time, "keypoints": position.keypoints, "individuals": ["id_0"]},
    )

    def run():
        p = filter_by_confidence(position, confidence, threshold=threshold, print_report=False)
        p = interpolate_over_time(p, max_gap=int(0.2 * fps), print_report=False)
        return savgol_filter(p, window=int(window_s * fps) | 1, polyorder=2, print_report=False)

    return run


def _pandas_chain(pose, fps: float, window_s: float, threshold: float):
    import pandas as pd
    from scipy.signal import savgol_filter

    flat = pose.xy.reshape(pose.n_frames, -1)
    low = np.repeat(pose.likelihood < threshold, 2, axis=1)

    def run():
        df = pd.DataFrame(np.where(low, np.nan, flat))
        df = df.interpolate(limit=int(0.2 * fps), limit_area="inside")
        return savgol_filter(df.to_numpy(), int(window_s * fps) | 1, 2, axis=0, mode="interp")

    return run


def _butterworth_with_gaps(pose, fps: float, repeat: int) -> None:
    """Ours (``lowpass``) vs scipy's ``sosfiltfilt`` per stretch on tracks with many gaps."""
    from scipy.signal import butter, sosfiltfilt

    from napari_gaitint.core.clean_filters import lowpass

    xy = pose.values[..., :2].reshape(pose.n_frames, -1).copy()
    rng = np.random.default_rng(0)
    for start in rng.integers(0, pose.n_frames, pose.n_frames // 65):
        xy[start:start + rng.integers(1, 30)] = np.nan
    good = np.isfinite(xy).all(axis=1)
    edges = np.flatnonzero(np.diff(np.r_[0, good.astype(int), 0]))
    runs = list(zip(edges[::2], edges[1::2], strict=True))
    sos = butter(2, 6.0, btype="low", fs=fps, output="sos")
    pad = 3 * (2 * len(sos) + 1)

    def scipy_per_stretch():
        out = xy.copy()
        for a, b in runs:
            if b - a >= 4:
                out[a:b] = sosfiltfilt(sos, xy[a:b], axis=0, padlen=min(pad, b - a - 1))
        return out

    def ours():
        return lowpass(xy, fps=fps, method="butterworth", cutoff_hz=6.0, order=2)

    assert np.array_equal(ours(), scipy_per_stretch(), equal_nan=True), "filters differ"
    t_ours, t_base = [], []
    for _ in range(repeat):
        t_ours.append(_best_of(ours, 1)[0])
        t_base.append(_best_of(scipy_per_stretch, 1)[0])
    w_ours, w_base = min(t_ours), min(t_base)
    print(f"Butterworth (6 Hz, zero lag) on {xy.shape[1]} columns with {len(runs)} stretches: "
          f"ours {w_ours:.3f} s, scipy sosfiltfilt per stretch {w_base:.3f} s "
          f"(ratio {w_base / w_ours:.2f}x; the same values to the bit)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="5 000 frames, one repeat")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n_frames = 5_000 if args.quick else args.frames
    repeat = 1 if args.quick else args.repeat

    from napari_gaitint.core.clean import clean_pose
    from napari_gaitint.core.config import CleanConfig, likelihood_cutoff
    from napari_gaitint.core.cycles import compute_cycles
    from napari_gaitint.core.events import detect_events
    from napari_gaitint.core.orient import orient_pose
    from napari_gaitint.synthetic.trial import generate_trial

    fps = 25.0
    t0 = time.perf_counter()
    trial = generate_trial(7, fps=fps, treadmill=True, duration_s=n_frames / fps)
    gen_s = time.perf_counter() - t0
    c1, c3 = trial.views["C1"], trial.views["C3"]
    pose, other = c1.pose, c3.pose
    print(f"recording: {pose.n_frames} frames x {len(pose.bodyparts)} keypoints x 2 views "
          f"(generated in {gen_s:.1f} s)")
    cfg = CleanConfig(filter="savgol")

    def ours_clean():
        return clean_pose(pose, other=other, config=cfg)

    # the same operations as the baseline: likelihood cut, linear gaps up to 0.2 s, Savitzky-Golay
    same_cfg = CleanConfig(filter="savgol", method="none", gap_method="linear", max_gap_s=0.2)

    def ours_same_chain():
        return clean_pose(pose, config=same_cfg)

    def ours_all():
        cleaned = clean_pose(pose, other=other, config=cfg)
        # a treadmill recording does not move across the image: the direction is given
        oriented = orient_pose(cleaned.pose, direction=c1.direction)
        cut = likelihood_cutoff(cleaned=True)  # the cleaning judged every point
        events = detect_events(oriented, side=c1.side, fps=fps, flags=cleaned.flags, min_likelihood=cut)
        return compute_cycles(oriented, events, side=c1.side, min_likelihood=cut)

    try:
        base = _movement_chain(pose, fps, cfg.savgol_window_s, cfg.likelihood_threshold)
        base_name = "movement filter_by_confidence + interpolate_over_time + savgol_filter"
    except ImportError:
        base = _pandas_chain(pose, fps, cfg.savgol_window_s, cfg.likelihood_threshold)
        base_name = "pandas mask + interpolate + scipy savgol (movement not installed)"
    base()  # warm-up (imports)
    ours_all()
    # interleave ours and the baseline so machine load hits both alike
    rows = {"clean": [], "same": [], "all": [], "base": []}
    for _ in range(repeat):
        rows["clean"].append(_best_of(ours_clean, 1))
        rows["same"].append(_best_of(ours_same_chain, 1))
        rows["all"].append(_best_of(ours_all, 1))
        rows["base"].append(_best_of(base, 1))
    best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in rows.items()}
    (w_clean, c_clean), (w_all, c_all), (w_base, c_base) = best["clean"], best["all"], best["base"]
    w_same, c_same = best["same"]
    print(f"best of {repeat}; wall = perf_counter, cpu = process_time")
    print(f"{'step':<58} {'wall s':>8} {'cpu s':>8}")
    print(f"{'ours: clean (two-view wrong-limb + gaps + Savitzky-Golay)':<58} {w_clean:8.3f} {c_clean:8.3f}")
    print(f"{'ours: the baseline chain (no wrong-limb repair)':<58} {w_same:8.3f} {c_same:8.3f}")
    print(f"{'ours: clean + orient + events + cycles (one view)':<58} {w_all:8.3f} {c_all:8.3f}")
    print(f"{'baseline: ' + base_name:<58.58} {w_base:8.3f} {c_base:8.3f}")
    print(f"ratio baseline/ours, same chain: wall {w_base / w_same:.2f}x, cpu {c_base / c_same:.2f}x "
          f"(> 1 means ours is faster)")
    print(f"ratio baseline/ours, full cleaning: wall {w_base / w_clean:.2f}x, cpu {c_base / c_clean:.2f}x "
          f"(ours also finds and repairs wrong-limb labels with the other view)")
    print(f"frames per second through the whole core: {pose.n_frames / w_all:,.0f} (wall), "
          f"{pose.n_frames / c_all:,.0f} (cpu)")
    _butterworth_with_gaps(pose, fps, repeat)
    if pose.n_frames >= 100_000:
        print(f"target clean + events + cycles <= 1 s on 100 000 frames: "
              f"{'met' if c_all * 100_000 / pose.n_frames <= 1.0 else 'NOT met'} (cpu)")


if __name__ == "__main__":
    main()
