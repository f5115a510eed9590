"""Robustness of gait events and cycles to realistic variation of the recording.

Sweeps the synthetic walker (``core/synthetic.generate_trial``) over frame rate, frame size
(subject size in pixels), walking speed / cadence (``WalkerParams``), keypoint noise,
dropouts, long treadmill recordings, short clips, missing or low-likelihood body parts
and constant data. Each view's raw DLC-like predictions are oriented
(``orient_pose``; with the true direction where the automatic one cannot be told, e.g. on
a treadmill — counted in ``orient_fail``, with whether the feet tell it), then ``detect_events`` (default method),
``compute_cycles`` and ``compute_parameters`` run on them.

Columns per scenario (all views of all seeds pooled):

``views``          views analysed
``err``            views where detection/cycles raised AnalysisError (first message below)
``orient_fail``    views whose direction ``orient_pose`` could not tell automatically (the
                   body does not travel); they are oriented with the true direction and
``feet_dir_bad``   counts those where ``detect_walking_direction_from_feet`` got it wrong
                   or could not tell
``found_%``        true events found (of the observable ones: foot and body reference with
                   data around the event, foot in the image; see validate_events.py)
``spur_%``         detections matching no true event within +/-0.12 s, % of detections
``med_fr p95_fr``  median / 95th percentile |timing error| in frames
``med_ms p95_ms``  the same in milliseconds
``bias_ms``        mean signed error (detected - true), ms
``stride_%``       |stride time error| of compute_parameters vs the truth, % (mean over views)
``cyc``            valid cycles per view (mean) vs ``true_cyc`` full strides in the recording
``ok``             every view raised AnalysisError where expected (or no full true cycle
                   exists) and no other view did
``ms/view``        run time of events + cycles + parameters per view (ms); for the long
                   recordings also split, with a per-cycle-loop baseline for the cycles

    .venv/bin/python validation/robustness_events.py           # 4 seeds per scenario
    .venv/bin/python validation/robustness_events.py --quick   # 1 seed, no 100 000 frames
    .venv/bin/python validation/robustness_events.py --only fps --method zeni
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_events import observable  # noqa: E402

from napari_gaitint.core.config import DEFAULT_METHOD
from napari_gaitint.core.cycles import compute_cycles
from napari_gaitint.core.errors import AnalysisError  # noqa: E402
from napari_gaitint.core.events import detect_events, match_events
from napari_gaitint.core.orient import (
    detect_walking_direction_from_feet,
    orient_pose,  # noqa: E402
)
from napari_gaitint.core.parameters import compute_parameters  # noqa: E402
from napari_gaitint.synthetic.trial import generate_trial  # noqa: E402
from napari_gaitint.synthetic.walker import WalkerParams

#: Slow walking: 0.5 m/s, long stride time, long stance; fast: 2 m/s, short stance.
SPEEDS = {
    "slow 0.5 m/s": dict(speed_mps=0.5, stride_time_s=1.45, duty=0.68, heel_off=0.45),
    "1.0 m/s": dict(speed_mps=1.0, stride_time_s=1.2, duty=0.64, heel_off=0.40),
    "1.6 m/s": dict(speed_mps=1.6, stride_time_s=0.98, duty=0.59, heel_off=0.35),
    "fast 2.0 m/s": dict(speed_mps=2.0, stride_time_s=0.88, duty=0.56, heel_off=0.32),
}


def _blank(bodypart: str, how: str):
    """Post-process: make one body part missing (NaN) or all below the likelihood cut-off."""
    def apply(pose):
        out = pose.copy()
        j = out.bodypart_index(bodypart)
        if how == "nan":
            out.values[:, j, :] = np.nan
        else:
            out.values[:, j, 2] = 0.1
        return out
    return apply


def _constant(pose):
    out = pose.copy()
    out.values[..., :2] = np.nanmedian(pose.values[..., :2], axis=0)
    out.values[..., 2] = 0.99
    return out


def scenarios(quick: bool) -> list[dict]:
    """(group, name, generate_trial kwargs, post-process, expect_error)."""
    s = []

    def add(group, name, post=None, expect_error=False, seeds=None, **kw):
        s.append(dict(group=group, name=name, kw=kw, post=post, expect_error=expect_error,
                      seeds=seeds))

    for fps in (25, 30, 50, 60, 100, 120):
        add("fps", f"{fps} Hz", fps=fps)
    for size in ((640, 360), (960, 540), (1920, 1080)):
        add("size", f"{size[0]}x{size[1]}", frame_size=size)
    for name, p in SPEEDS.items():
        add("speed", name, params=WalkerParams(**p))
        add("speed", f"{name} 100 Hz", params=WalkerParams(**p), fps=100)
    for ns in (0.5, 1.0, 2.0, 3.0):
        add("noise", f"noise x{ns:g}", noise_scale=ns)
    add("noise", "noise x3 100 Hz", noise_scale=3.0, fps=100)
    for dr in (0.0, 0.01, 0.02, 0.05):
        add("dropout", f"dropout {100 * dr:g} %", dropout_rate=dr)
    add("short", "treadmill 1.5 s", treadmill=True, duration_s=1.5)
    add("short", "treadmill 2.5 s", treadmill=True, duration_s=2.5)
    add("short", "treadmill 2.5 s 120 Hz", treadmill=True, duration_s=2.5, fps=120)
    add("long", "treadmill 10 000 fr", treadmill=True, duration_s=10_000 / 25, seeds=1)
    if not quick:
        add("long", "treadmill 100 000 fr", treadmill=True, duration_s=100_000 / 25, seeds=1)
    add("missing", "neck all NaN", post=_blank("neck", "nan"))
    add("missing", "hip all NaN", post=_blank("hip", "nan"))
    add("missing", "hip likelihood < cut", post=_blank("hip", "lik"))
    add("missing", "toe likelihood < cut", post=_blank("toe", "lik"))
    add("missing", "heel likelihood < cut", post=_blank("heel", "lik"))
    add("error", "heel+ankle+toe NaN", post=lambda p: _blank("ankle", "nan")(
        _blank("toe", "nan")(_blank("heel", "nan")(p))), expect_error=True)
    add("error", "constant data", post=_constant, expect_error=True)
    return s


def run_view(view, trial, post, method, timing_baseline=False):
    """Detect events and cycles on one view; returns a dict of raw results."""
    pose = post(view.pose) if post else view.pose
    res = {"orient_fail": False, "feet_dir_wrong": False, "error": None}
    try:
        oriented = orient_pose(pose)
    except AnalysisError:
        # the body does not travel (treadmill / constant data): the feet tell the direction
        res["orient_fail"] = True
        try:
            direction = detect_walking_direction_from_feet(pose)
        except AnalysisError:
            direction = None
        res["feet_dir_wrong"] = direction != view.direction
        oriented = orient_pose(pose, direction=view.direction)
    truth = view.events.copy()
    truth["observable"] = observable(pose, truth, fps=trial.fps)
    t0 = time.perf_counter()
    ev = pd.DataFrame(columns=["side", "event", "frame", "time_s"])
    res["t_events"] = res["t_cycles"] = res["t_params"] = np.nan
    try:
        ev = detect_events(oriented, side=view.side, method=method)
        t1 = time.perf_counter()
        cycles = compute_cycles(oriented, ev, side=view.side)
        t2 = time.perf_counter()
        params = compute_parameters(oriented, ev, side=view.side).iloc[0]
        res["t_events"], res["t_cycles"] = t1 - t0, t2 - t1
        res["t_params"] = time.perf_counter() - t2
        if timing_baseline:
            tb = time.perf_counter()
            per_cycle_baseline(oriented, ev, view.side)
            res["t_baseline"] = time.perf_counter() - tb
        res["n_cycles"] = cycles["cycle"].nunique()
        true_p = trial.parameters().set_index("side").loc[view.side]
        res["stride_err_pct"] = 100 * abs(params["stride_time_s"] / true_p["stride_time_s"] - 1)
    except AnalysisError as err:
        res["error"] = str(err)
        res["n_cycles"] = 0
    res["seconds"] = time.perf_counter() - t0
    m = match_events(ev, truth, tolerance_frames=0.12 * trial.fps)
    m = m.merge(truth[["event", "frame", "observable"]].rename(columns={"frame": "true_frame"}),
                on=["event", "true_frame"], how="left")
    res["matches"] = m
    hs = truth.loc[truth["event"] == "heel_strike", "frame"]
    res["true_cycles"] = max(len(hs) - 1, 0)
    return res


def per_cycle_baseline(pose, events, side):
    """The straightforward per-cycle computation (the pre-optimisation compute_cycles: a
    Python loop over cycles and body parts, a spline per cycle, a Python run-length loop
    for the gap check, one small DataFrame per curve) - the speed baseline."""
    from scipy.interpolate import CubicSpline

    from napari_gaitint.core.cycles import split_cycles

    table = split_cycles(events, side=side)
    pct = np.linspace(0, 100, 101)
    blocks = []
    for r in table[table["valid"]].itertuples():
        lo, hi = max(0, int(np.floor(r.start_frame)) - 2), min(pose.n_frames, int(np.ceil(r.end_frame)) + 3)
        rows = np.arange(lo, hi)
        for bp in pose.bodyparts:
            best = cur = 0
            for miss in ~np.isfinite(pose.bodypart(bp)[lo:hi, 0]):
                cur = cur + 1 if miss else 0
                best = max(best, cur)
            for axis in (0, 1):
                v = pose.bodypart(bp)[lo:hi, axis]
                ok = np.isfinite(v)
                val = CubicSpline(rows[ok], v[ok])(r.start_frame + (r.end_frame - r.start_frame) * pct / 100)
                blocks.append(pd.DataFrame({"side": side, "cycle": r.cycle, "bodypart": bp,
                                            "axis": "xy"[axis], "pct": pct, "value": val}))
    return pd.concat(blocks, ignore_index=True)


def summarise(name, results, fps) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN timings (every view failed)
        return _summarise(name, results, fps)


def _summarise(name, results, fps) -> dict:
    m = pd.concat([r["matches"] for r in results], ignore_index=True)
    true = m[m["true_frame"].notna()]
    req = true[true["observable"].fillna(False).astype(bool)]
    det = m[m["frame"].notna()]
    err = m["error_frames"].dropna()
    ms = 1000.0 / fps
    errors = [r["error"] for r in results if r["error"]]
    stride = [r["stride_err_pct"] for r in results if "stride_err_pct" in r]
    return {
        "scenario": name, "views": len(results), "err": len(errors),
        "orient_fail": sum(r["orient_fail"] for r in results),
        "feet_dir_bad": sum(r["feet_dir_wrong"] for r in results),
        "found_%": 100 * req["frame"].notna().mean() if len(req) else np.nan,
        "spur_%": 100 * det["true_frame"].isna().mean() if len(det) else np.nan,
        "med_fr": err.abs().median(), "p95_fr": err.abs().quantile(0.95),
        "med_ms": err.abs().median() * ms, "p95_ms": err.abs().quantile(0.95) * ms,
        "bias_ms": err.mean() * ms,
        "stride_%": float(np.mean(stride)) if stride else np.nan,
        "cyc": np.mean([r["n_cycles"] for r in results]),
        "true_cyc": np.mean([r["true_cycles"] for r in results]),
        "ms/view": 1000 * np.mean([r["seconds"] for r in results]),
        "ev_ms": 1000 * np.nanmean([r["t_events"] for r in results]),
        "cyc_ms": 1000 * np.nanmean([r["t_cycles"] for r in results]),
        "par_ms": 1000 * np.nanmean([r["t_params"] for r in results]),
        "base_ms": 1000 * np.mean([r["t_baseline"] for r in results if "t_baseline" in r])
        if any("t_baseline" in r for r in results) else np.nan,
        "first_error": errors[0] if errors else "",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 seed per scenario, no 100 000 frames")
    ap.add_argument("--seeds", type=int, default=4, help="seeds per scenario (default 4)")
    ap.add_argument("--method", default=DEFAULT_METHOD, help="event method")
    ap.add_argument("--only", default=None, help="only scenario groups containing this text")
    ap.add_argument("--csv", default=None, help="also write the table to this csv")
    args = ap.parse_args(argv)
    n_seeds = 1 if args.quick else args.seeds
    rows = []
    t_all = time.perf_counter()
    for sc in scenarios(args.quick):
        if args.only and args.only not in sc["group"] and args.only not in sc["name"]:
            continue
        results, fps = [], float(sc["kw"].get("fps", 25.0))
        for seed in range(sc["seeds"] or n_seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                trial = generate_trial(7000 + seed, **sc["kw"])
            for view in trial.views.values():
                results.append(run_view(view, trial, sc["post"], args.method,
                                        timing_baseline=sc["name"] == "treadmill 10 000 fr"))
        row = summarise(sc["name"], results, fps)
        row["group"] = sc["group"]
        # an AnalysisError is right where expected, or where the truth has no full cycle
        row["ok"] = all(bool(r["error"]) == (sc["expect_error"] or r["true_cycles"] == 0)
                        or (r["error"] is None and r["true_cycles"] == 0) for r in results)
        rows.append(row)
        print(f"  {sc['name']}: {time.perf_counter() - t_all:.1f} s", file=sys.stderr)
    table = pd.DataFrame(rows)
    cols = ["group", "scenario", "views", "err", "ok", "orient_fail", "feet_dir_bad", "found_%", "spur_%",
            "med_fr", "p95_fr", "med_ms", "p95_ms", "bias_ms", "stride_%", "cyc", "true_cyc",
            "ms/view"]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 40)
    print(f"method {args.method}, {n_seeds} seed(s) per scenario, both views; "
          f"{time.perf_counter() - t_all:.0f} s")
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    long = table[table["group"] == "long"]
    if len(long):
        print("\nrun time per view (ms): events / cycles / parameters; cycles baseline = the "
              "per-cycle loop implementation, same run")
        for r in long.itertuples():
            ratio = f", cycles {r.base_ms / r.cyc_ms:.0f}x faster than baseline ({r.base_ms:.0f} ms)" \
                if np.isfinite(r.base_ms) else ""
            print(f"  {r.scenario}: {r.ev_ms:.0f} / {r.cyc_ms:.0f} / {r.par_ms:.0f}{ratio}")
    msgs = table[table["first_error"] != ""][["scenario", "first_error"]]
    if len(msgs):
        print("\nfirst AnalysisError per scenario:")
        for r in msgs.itertuples():
            print(f"  {r.scenario}: {r.first_error[:220]}")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
