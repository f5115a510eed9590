"""Gait events on real pose-estimator output: the hand-marked real-video set.

For each trial of ``validation/data/real_video/`` (keypoints of both legs from one camera,
events marked by hand, see its PROVENANCE.md) and each event method, the events of both legs
are detected on

* ``raw``: the keypoints as the pose estimator wrote them;
* ``cleaned``: after single-view cleaning, as ``gaitint clean PRED --fps F`` writes it (no
  other view: the one camera sees both legs; 6 Hz low-pass);
* ``cleaned_unfiltered``: the same cleaning before its low-pass (``CleanResult.events_pose``:
  what ``gaitint analyze`` times events on);

exactly as ``gaitint events PRED --side left|right --method M`` does (the leg's body parts by
name, orientation from the data, the method's defaults), and for the default method also
both legs together (``"<method> (both legs)"``,
:func:`~napari_gaitint.core.phase.detect_events_both_legs`, lag 0: one camera). Detected
events are paired one to one with marked events of the same leg and kind within
``--tolerance`` frames (default 2).

Reported per input and method: found (marked events with a detection within the tolerance),
MAE and largest error of the paired ones (frames), spurious (detections not paired), and per
event kind. ``--methods`` takes any method of ``napari_gaitint.core.events.METHODS``::

    .venv/bin/python validation/validate_real_video.py
    .venv/bin/python validation/validate_real_video.py --methods velocity,zeni --tolerance 3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from napari_gaitint.core import annotations as ann
from napari_gaitint.core.clean import clean_pose, config_for_names
from napari_gaitint.core.config import DEFAULT_METHOD, likelihood_cutoff
from napari_gaitint.core.config import EVENT_METHODS as METHODS
from napari_gaitint.core.events import detect_events, match_events
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.phase import detect_events_both_legs
from napari_gaitint.core.pose import Pose, rename_bodyparts

DATA = Path(__file__).resolve().parent / "data" / "real_video"
#: The trials: frame rate (Hz) and frame size (px) of each video (its PROVENANCE.md).
TRIALS = {"sports2d_demo": {"fps": 30.0, "frame_size": (1768, 994)},
          "sports2d_demo_static": {"fps": 30.0, "frame_size": (1768, 994)}}
#: The methods measured by default (aliases of the same detector left out).
DEFAULT_METHODS = tuple(m for m in METHODS if m != "ankle_neck")
INPUTS = ("raw", "cleaned", "cleaned_unfiltered")


def load_trial(trial: str, folder: Path = DATA) -> tuple[Pose, pd.DataFrame]:
    """The trial's keypoints (all body parts, frame size and fps set) and marked events."""
    info = TRIALS[trial]
    pose = load_pose(folder / f"{trial}.h5", fps=info["fps"])
    pose.frame_size = info["frame_size"]
    return pose, ann.load_events(folder / f"{trial}_events.csv")


def clean_single_view(pose: Pose, *, unfiltered: bool = False, **config_kw) -> Pose:
    """``gaitint clean PRED --fps F`` without another view: the roles by name, the defaults;
    with ``unfiltered`` the cleaned pose before the low-pass (``CleanResult.events_pose``)."""
    config, _ = config_for_names(pose, None, side=None, **config_kw)
    res = clean_pose(pose, config=config)
    return res.events_pose if unfiltered else res.pose


def detect_leg_events(pose: Pose, side: str, method: str, *, cleaned: bool = False) -> pd.DataFrame:
    """``gaitint events PRED --side SIDE --method METHOD`` on an in-memory pose (``cleaned``:
    a file ``gaitint clean`` wrote, whose likelihood cut-off is 0)."""
    leg = rename_bodyparts(pose, {}, side=side)
    return detect_events(orient_pose(leg), side=side, fps=pose.fps, method=method,
                         min_likelihood=likelihood_cutoff(cleaned=cleaned))


def detect_both_legs(pose: Pose, method: str, *, cleaned: bool = False) -> pd.DataFrame:
    """Both legs of the file detected together and checked against each other."""
    legs = tuple(orient_pose(rename_bodyparts(pose, {}, side=s)) for s in ("left", "right"))
    found = detect_events_both_legs(legs, sides=("left", "right"), fps=pose.fps, lag_frames=0,
                                    method=method, min_likelihood=likelihood_cutoff(cleaned=cleaned))
    return pd.concat(found, ignore_index=True)


def both_legs(method: str) -> str:
    """The name of ``method`` run on both legs together."""
    return f"{method} (both legs)"


def score(detected: pd.DataFrame, truth: pd.DataFrame, *, tolerance_frames: float) -> dict:
    """Found, MAE / max |error| (frames) and spurious of ``detected`` against ``truth``."""
    m = match_events(detected, truth, tolerance_frames=tolerance_frames)
    marked = m["true_frame"].notna()
    paired = marked & m["frame"].notna()
    err = m.loc[paired, "error_frames"].abs()
    return {
        "marked": int(marked.sum()),
        "found": int(paired.sum()),
        "mae_frames": float(err.mean()) if len(err) else np.nan,
        "max_frames": float(err.max()) if len(err) else np.nan,
        "bias_frames": float(m.loc[paired, "error_frames"].mean()) if len(err) else np.nan,
        "spurious": int((~marked).sum()),
    }


def evaluate(methods=DEFAULT_METHODS, *, trials=tuple(TRIALS), tolerance_frames: float = 2.0,
             folder: Path = DATA, pairs=(DEFAULT_METHOD,)) -> pd.DataFrame:
    """One row per trial, input (:data:`INPUTS`), method (and each of ``pairs`` on both
    legs together) and event kind (and ``all``)."""
    rows = []
    for trial in trials:
        pose, truth = load_trial(trial, folder)
        inputs = {"raw": pose, "cleaned": clean_single_view(pose),
                  "cleaned_unfiltered": clean_single_view(pose, unfiltered=True)}
        for src, p in inputs.items():
            cleaned = src != "raw"
            found = {m: pd.concat([detect_leg_events(p, side, m, cleaned=cleaned) for side in ("left", "right")],
                                  ignore_index=True) for m in methods}
            found.update({both_legs(m): detect_both_legs(p, m, cleaned=cleaned) for m in pairs})
            for method, detected in found.items():
                for event in ("all", "heel_strike", "toe_off"):
                    pick_d = detected if event == "all" else detected[detected["event"] == event]
                    pick_t = truth if event == "all" else truth[truth["event"] == event]
                    rows.append({"trial": trial, "input": src, "method": method, "event": event,
                                 **score(pick_d, pick_t, tolerance_frames=tolerance_frames)})
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame) -> str:
    """The ``all`` rows as a Markdown table: input, method, found, MAE, max, bias, spurious;
    heel strike and toe off MAE."""
    out = ["| input | method | found | MAE (frames) | max | bias | spurious | HS MAE | TO MAE |",
           "|---|---|---|---|---|---|---|---|---|"]
    for (src, method), g in table.groupby(["input", "method"], sort=False):
        a = g.set_index("event")
        tot = a.loc["all"]
        out.append(
            f"| {src} | {method} | {tot['found']}/{tot['marked']} | {tot['mae_frames']:.2f} | "
            f"{tot['max_frames']:.2f} | {tot['bias_frames']:+.2f} | {tot['spurious']} | "
            f"{a.loc['heel_strike', 'mae_frames']:.2f} | {a.loc['toe_off', 'mae_frames']:.2f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                   help="comma-separated event methods (default: all)")
    p.add_argument("--tolerance", type=float, default=2.0, help="pairing tolerance in frames")
    args = p.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {sorted(METHODS)}")
    table = evaluate(methods, tolerance_frames=args.tolerance)
    for trial, g in table.groupby("trial", sort=False):
        print(f"{trial} (tolerance {args.tolerance:g} frames)")
        print(markdown_table(g))
    return 0


if __name__ == "__main__":
    sys.exit(main())
