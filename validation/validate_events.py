"""Gait-event timing accuracy of every detector on synthetic trial pairs with exact truth.

For each trial pair (``generate_trial``) and view, the events are detected on three inputs —
the true keypoints (``true``), the DLC-like predictions as written (``raw``) and the
predictions cleaned by ``clean_pose`` (``cleaned``: its pose before the low-pass, which
``gaitint analyze`` times events on) — after
orientation, with every method of ``napari_gaitint.core.events.METHODS``. Detected events
are matched one-to-one to true events of the same kind within ``--tolerance`` seconds.

Reported per input, method and event (frames at the trial's fps, and ms):
mean signed error (detected - true), median and 95th percentile of ``|error|``, found %
(of the *observable* true events), spurious % (unmatched detections / detections).

A true event is *observable* when its heel/toe is inside the image (``in_view``) and the
signal the detectors use (foot x and body reference with likelihood >= 0.6) has data in at
least all but one of the frames within +/-0.16 s of it (4 frames at 25 Hz, about 0.15
stride: the window an extremum needs); the others (the subject entering or leaving the frame,
the reference hidden) are counted apart as ``unobs``: no method can time them.

    .venv/bin/python validation/validate_events.py            # 5 seeds x 10 trials = 50 pairs
    .venv/bin/python validation/validate_events.py --quick    # 2 x 3 pairs, a few seconds
    .venv/bin/python validation/validate_events.py --fps 60 --noise-scale 2 --no-clean
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from napari_gaitint.core.config import EVENT_METHODS as METHODS
from napari_gaitint.core.config import likelihood_cutoff
from napari_gaitint.core.event_signals import mask_low_likelihood
from napari_gaitint.core.events import detect_events, match_events
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.synthetic.trial import generate_trial

ALIASES = {"ankle_neck"}  # same detector as "seed"


def observable(pose, truth: pd.DataFrame, *, fps: float, reference: str = "hip",
               margin_s: float = 0.16) -> np.ndarray:
    """Whether each true event's foot signal has data around it (see the module docstring)."""
    margin = max(1, int(round(margin_s * fps)))
    p = mask_low_likelihood(pose, 0.6)
    ref = np.isfinite(p.bodypart(reference)[:, 0]) | np.isfinite(p.bodypart("neck")[:, 0])
    out = []
    for ev, frame in zip(truth["event"], truth["frame"], strict=True):
        foot = "heel" if ev == "heel_strike" else "toe"
        ok = np.isfinite(p.bodypart(foot)[:, 0]) & ref
        i = int(round(frame))
        lo, hi = i - margin, i + margin + 1
        window = ok[max(lo, 0) : min(hi, p.n_frames)]
        out.append(lo >= 0 and hi <= p.n_frames and window.sum() >= 2 * margin)
    return np.asarray(out, dtype=bool) & truth.get("in_view", True).to_numpy(bool)


def run(seeds, trials_per_seed, tolerance, with_clean=True, **trial_kwargs):
    try:
        from napari_gaitint.core.clean import clean_pose
    except Exception:  # pragma: no cover - cleaning not available
        clean_pose = None
    methods = [m for m in METHODS if m not in ALIASES]
    rows, n_pairs, failures = [], 0, []
    for seed in seeds:
        for k in range(trials_per_seed):
            trial = generate_trial(seed * 1000 + k, trial=f"S{seed}T{k:02d}", **trial_kwargs)
            n_pairs += 1
            views = trial.views
            for name, view in views.items():
                # input -> (pose, keyword arguments of detect_events saying how it was made)
                inputs = {"true": (view.true_pose, {}), "raw": (view.pose, {})}
                if with_clean and clean_pose is not None:
                    other = next(v for n, v in views.items() if n != name)
                    try:
                        # as gaitint analyze: events on the cleaned pose before its low-pass,
                        # its flags and the cleaned likelihood cut-off
                        res = clean_pose(view.pose, other=other.pose)
                        inputs["cleaned"] = (res.events_pose, {"flags": res.flags,
                                                               "min_likelihood": likelihood_cutoff(cleaned=True)})
                    except Exception as err:  # keep going; report it
                        failures.append((trial.trial if hasattr(trial, "trial") else seed, name, "clean", str(err)))
                truth = view.events.copy()
                obs = observable(view.pose, truth, fps=trial.fps)
                truth["observable"] = obs
                for src, (pose, how) in inputs.items():
                    oriented = orient_pose(pose)
                    for method in methods:
                        try:
                            ev = detect_events(oriented, side=view.side, method=method, **how)
                        except Exception as err:
                            failures.append((seed, k, name, src, method, str(err)))
                            ev = pd.DataFrame(columns=["side", "event", "frame", "time_s"])
                        m = match_events(ev, truth, tolerance_frames=tolerance * trial.fps)
                        m = m.merge(
                            truth[["event", "frame", "observable"]].rename(columns={"frame": "true_frame"}),
                            on=["event", "true_frame"], how="left",
                        )
                        m["input"], m["method"], m["fps"] = src, method, trial.fps
                        rows.append(m)
    return pd.concat(rows, ignore_index=True), n_pairs, failures


def summarise(matches: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (src, method, event), g in matches.groupby(["input", "method", "event"], sort=False):
        true = g[g["true_frame"].notna()]
        req = true[true["observable"].fillna(False).astype(bool)]
        found = req["frame"].notna()
        spurious = int(g["true_frame"].isna().sum())
        n_det = int(g["frame"].notna().sum())
        err = g["error_frames"].dropna()
        ms = 1000.0 / g["fps"].iloc[0]
        out.append({
            "input": src, "method": method, "event": event,
            "n_true": len(req), "found_pct": 100 * found.mean() if len(req) else np.nan,
            "missed": int((~found).sum()), "unobs": int(len(true) - len(req)),
            "spurious": spurious, "spurious_pct": 100 * spurious / n_det if n_det else np.nan,
            "mean_fr": err.mean(), "median_abs_fr": err.abs().median(),
            "p95_abs_fr": err.abs().quantile(0.95),
            "mean_ms": err.mean() * ms, "median_abs_ms": err.abs().median() * ms,
            "p95_abs_ms": err.abs().quantile(0.95) * ms,
        })
    return pd.DataFrame(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 seeds x 3 trials")
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    ap.add_argument("--trials", type=int, default=10, help="trial pairs per seed (default 10)")
    ap.add_argument("--tolerance", type=float, default=0.12,
                    help="match window, s (default 0.12 = 3 frames at 25 Hz)")
    ap.add_argument("--no-clean", action="store_true", help="skip the cleaned input")
    ap.add_argument("--fps", type=float, default=25.0, help="frame rate of the walker (default 25)")
    ap.add_argument("--noise-scale", type=float, default=1.0,
                    help="multiply the walker's keypoint noise (default 1)")
    ap.add_argument("--csv", default=None, help="also write the table to this csv")
    args = ap.parse_args(argv)
    seeds, trials = (range(2), 3) if args.quick else (range(args.seeds), args.trials)
    t0 = time.perf_counter()
    matches, n_pairs, failures = run(seeds, trials, args.tolerance, with_clean=not args.no_clean,
                                     fps=args.fps, noise_scale=args.noise_scale)
    table = summarise(matches)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    print(f"{n_pairs} synthetic trial pairs ({2 * n_pairs} views), seeds {list(seeds)}, "
          f"{args.fps:g} fps, noise x{args.noise_scale:g}, match window +/-{args.tolerance:g} s, "
          f"{time.perf_counter() - t0:.1f} s")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if failures:
        print(f"\n{len(failures)} detector/cleaning failure(s), first: {failures[0]}")
    if args.csv:
        table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
