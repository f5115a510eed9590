"""Cleaning on real walking: two-view pairs from ../shared/realgait with DLC-like errors.

Each realgait trial has a ``left_view`` (the left leg, walking right-to-left) and a
``right_view`` (the right leg, left-to-right) of the same moments: the two cameras of our
product. For every view, the *far leg* (the leg behind, which this camera's DeepLabCut
would confuse with the near one) is the other view's leg mapped into this view's image as
the mirrored camera would see it: the projections are orthographic, so the map is exact
(x mirrored and both axes scaled by the two views' px/mm, from ``dlc_meta.json``; the
offsets from the neck, the same marker in both views).

Both views of a trial then get DeepLabCut-like errors (:func:`simulate_dlc`, seeded):

* **wrong-limb labels**: the far leg's point instead of the near leg's, in runs of 1-3
  frames at 25 Hz (0.04-0.12 s at any rate), on ~1 % of the frames of each of knee, ankle,
  heel and toe alone, and on ~0.5 % of the frames for the whole chain at once (so ~1.5 %
  of each point's frames); likelihood 0.6-1 (DeepLabCut is often sure of them);
* **noise**: Gaussian, 1-3 px per body part (drawn per view), correlated between
  neighbouring frames (AR(1), 0.5);
* **dropouts**: runs of 0.04-0.16 s on 3 % of each point's frames with likelihood 0-0.5 and
  the point 8 px off (sd).

Variants, each measured against the real keypoints: ``raw`` (the simulated predictions),
``baseline`` (the seed project's rule, margin 15 px, with the other view), ``single view``
(``clean_pose`` without the other view) and ``two view`` (``clean_pose`` with the other
view's simulated predictions: the default of ``gaitint analyze``; where the views cannot be
aligned, treadmill running, the view alone, as ``gaitint analyze`` does). The counts are those of
``validation/validate_cleaning.py`` (same code): wrong-limb points *repaired* (removed and
the cleaned point closer to the true near leg than to the far leg; swaps where the legs are
within 5 px are harmless and counted apart), clean points and frames *falsely flagged*,
keypoint RMSE. Then the gait events of the default detector on each variant against the
trials' labelled events (``validation/validate_real_events.py``: MAE, bias, found,
spurious): cleaning must never make them worse than the raw predictions.

Nothing here is fitted to the real data (the cleaning's settings are its defaults), so
there is nothing to cross-validate.

    .venv/bin/python validation/validate_real_cleaning.py               # overground, 25 Hz, 5 seeds (~1 min)
    .venv/bin/python validation/validate_real_cleaning.py --quick       # 4 trials, 2 seeds
    .venv/bin/python validation/validate_real_cleaning.py --rates 25hz 50hz native --groups walk_overground walk_treadmill
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import validate_cleaning as bench  # noqa: E402  (validation/validate_cleaning.py)
import validate_real_events as vre  # noqa: E402  (validation/validate_real_events.py)

from napari_gaitint.core.clean import clean_pose  # noqa: E402
from napari_gaitint.core.config import DEFAULT_METHOD, LEG_CHAIN, CleanConfig  # noqa: E402
from napari_gaitint.core.errors import AnalysisError  # noqa: E402
from napari_gaitint.core.pose import Pose  # noqa: E402

#: A few trials of four labs (the test's and ``--quick``'s).
QUICK_TRIALS = ("zoo_hc036a10", "gaitalytics_overground", "qualisys_walk", "btk_pig_beltc_2")
VARIANTS = ("raw", "baseline", "single view", "two view")
#: Swaps with the far leg within this of the near leg (px at 540 px image height) are harmless.
HARMLESS_PX = 5.0


@dataclass
class Pair:
    """One view's real keypoints, its far leg (the other view's leg in this image) and its
    simulated predictions (with the wrong-limb labels marked)."""

    view: vre.RealView
    true_xy: np.ndarray  # (n, J, 2) the real keypoints of this view
    far_xy: np.ndarray  # (n, J, 2) the other leg in this image (NaN for neck and hip)
    pose: Pose | None = None  # simulated predictions
    injected: np.ndarray | None = None  # (n, J) wrong-limb labels


def _scales(root: Path, trial: str) -> dict[str, float]:
    meta = json.loads((Path(root) / "gait" / trial / "dlc" / "dlc_meta.json").read_text())
    return {view: float(meta["views"][view]["px_per_mm"]) for view in ("left_view", "right_view")}


def far_leg_in_view(view: vre.RealView, other: vre.RealView, scales: dict[str, float]) -> np.ndarray:
    """The other view's leg chain in ``view``'s image, ``(n, J, 2)`` over ``view``'s body
    parts (NaN outside the leg chain).

    Both views are orthographic projections of the same markers at the same instants (same
    start, same rate) with their own px/mm and origin, and opposite x directions: ``x =
    -r x' + b_x``, ``y = r y' + b_y`` with ``r`` the ratio of the scales; ``b`` from the neck,
    the one marker both views show (median of the differences: exact up to the csv's
    rounding).
    """
    names = list(view.pose.bodyparts)
    mine, theirs = view.pose.xy, other.pose.xy
    n = min(mine.shape[0], theirs.shape[0])
    r = scales[view.view] / scales[other.view]
    sign = -1.0 if view.direction != other.direction else 1.0
    neck = names.index("neck")
    bx = np.nanmedian(mine[:n, neck, 0] - sign * r * theirs[:n, neck, 0])
    by = np.nanmedian(mine[:n, neck, 1] - r * theirs[:n, neck, 1])
    far = np.full(mine.shape, np.nan)
    for bp in LEG_CHAIN:
        j, k = names.index(bp), list(other.pose.bodyparts).index(bp)
        far[:n, j, 0] = sign * r * theirs[:n, k, 0] + bx
        far[:n, j, 1] = r * theirs[:n, k, 1] + by
    return far


def _runs(rng, n: int, frac: float, run_frames: tuple[int, int]) -> list[slice]:
    """Random runs of ``run_frames`` (inclusive range) covering ~``frac`` of ``n`` frames."""
    lo, hi = run_frames
    mean = 0.5 * (lo + hi)
    out = []
    for _ in range(rng.poisson(frac * n / mean)):
        length = int(rng.integers(lo, hi + 1))
        start = int(rng.integers(0, max(1, n - length)))
        out.append(slice(start, start + length))
    return out


def simulate_dlc(pair: Pair, seed: int, *, single_rate=0.01, chain_rate=0.005,
                 run_s=(0.04, 0.12), noise_px=(1.0, 3.0), ar=0.5, dropout_rate=0.03,
                 dropout_run_s=(0.04, 0.16)) -> tuple[Pose, np.ndarray]:
    """DeepLabCut-like predictions of ``pair.view`` (see the module docstring) and the
    ``(n, J)`` mask of its wrong-limb labels. Seeded by trial, view, rate and ``seed``."""
    view = pair.view
    key = repr((view.trial, view.view, view.rate, seed)).encode()
    rng = np.random.default_rng(zlib.crc32(key))
    n, nb = pair.true_xy.shape[:2]
    fps = view.fps
    runs = (max(1, int(round(run_s[0] * fps))), max(1, int(round(run_s[1] * fps))))
    names = list(view.pose.bodyparts)
    chain = [names.index(bp) for bp in LEG_CHAIN]
    has_far = np.isfinite(pair.far_xy[..., 0])
    wrong = np.zeros((n, nb), bool)
    for s in _runs(rng, n, chain_rate, runs):
        wrong[s, chain] = True
    for j in chain:
        for s in _runs(rng, n, single_rate, runs):
            wrong[s, j] = True
    wrong &= has_far
    xy = np.where(wrong[..., None], pair.far_xy, pair.true_xy)
    sd = rng.uniform(*noise_px, size=nb)
    e = rng.normal(size=(n, nb, 2)) * sd[None, :, None]
    for i in range(1, n):  # AR(1) with the same marginal spread
        e[i] = ar * e[i - 1] + np.sqrt(1 - ar * ar) * e[i]
    xy = xy + e
    lik = np.where(wrong, rng.uniform(0.6, 1.0, (n, nb)), rng.uniform(0.9, 1.0, (n, nb)))
    drun = (max(1, int(round(dropout_run_s[0] * fps))), max(1, int(round(dropout_run_s[1] * fps))))
    for j in range(nb):
        for s in _runs(rng, n, dropout_rate, drun):
            lik[s, j] = rng.uniform(0.0, 0.5, lik[s, j].shape)
            xy[s, j] += rng.normal(0.0, 8.0, xy[s, j].shape)
    values = np.concatenate([xy, lik[..., None]], axis=-1)
    return view.pose.replace(values=values), wrong


def make_pairs(views: list[vre.RealView], root: Path) -> list[tuple[Pair, Pair]]:
    """Both views of every trial and rate, each with its far leg."""
    by_key = {v.key: v for v in views}
    out, done = [], set()
    for v in views:
        if (v.trial, v.rate) in done:
            continue
        other = by_key.get((v.trial, v.other_view, v.rate))
        if other is None:
            continue
        done.add((v.trial, v.rate))
        scales = _scales(root, v.trial)
        out.append(tuple(Pair(view=a, true_xy=a.pose.xy.copy(), far_xy=far_leg_in_view(a, b, scales))
                         for a, b in ((v, other), (other, v))))
    return out


def clean_variant(name: str, pose: Pose, other: Pose) -> tuple[np.ndarray, np.ndarray, Pose, np.ndarray | None]:
    """``(xy, flags, pose, flags for the detector)`` of one variant."""
    if name == "raw":
        return pose.xy, np.zeros(pose.xy.shape[:2], np.int64), pose, None
    kw = {"baseline": dict(method="baseline", margin_px=15.0 * pose.frame_size[1] / 540.0)}.get(name, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = clean_pose(pose, other=None if name == "single view" else other, config=CleanConfig(**kw))
        except AnalysisError:  # as gaitint analyze: the view alone (treadmill running)
            res = clean_pose(pose, config=CleanConfig(**kw))
    return res.pose.xy, res.flags, res.pose, res.flags


def evaluate(pairs, seeds, *, variants=VARIANTS, events=True):
    """Per group and rate and variant: the cleaning counts (:func:`bench.new_counts`), and
    the event matches of every view (``validate_real_events.match_view`` rows)."""
    acc: dict = {}
    matches = []
    for seed in seeds:
        for a, b in pairs:
            a.pose, a.injected = simulate_dlc(a, seed)
            b.pose, b.injected = simulate_dlc(b, seed)
            for me, them in ((a, b), (b, a)):
                v = me.view
                leg = np.array([bp in LEG_CHAIN for bp in v.pose.bodyparts])
                for name in variants:
                    xy, flags, cleaned, det_flags = clean_variant(name, me.pose, them.pose)
                    counts = acc.setdefault((v.group, v.rate, name), bench.new_counts())
                    bench.score_view(counts, xy=xy, flags=flags, raw_xy=me.pose.xy, injected=me.injected,
                                     true_xy=me.true_xy, far_xy=me.far_xy, leg=leg,
                                     frame_size=v.pose.frame_size,
                                     harmless_px=HARMLESS_PX * v.pose.frame_size[1] / 540.0)
                    if events:
                        m = vre.match_view(v, vre.detect_view(v, cleaned, DEFAULT_METHOD, flags=det_flags))
                        m["variant"], m["seed"] = name, seed
                        matches.append(m)
    return acc, (pd.concat(matches, ignore_index=True) if matches else pd.DataFrame())


def cleaning_table(acc: dict) -> pd.DataFrame:
    """One row per group, rate and variant."""
    rows = []
    for (group, rate, name), a in acc.items():
        err = float(np.median(a["se_inj"])) if a["se_inj"] else float("nan")
        rows.append({
            "group": group, "rate": rate, "variant": name,
            "repaired %": bench._pct(a["rep"], a["inj"]), "missed": f"{a['miss']} / {a['inj']}",
            "clean frames flagged %": bench._pct(a["false_frames"], a["clean_frames"]),
            "clean frames flagged": a["false_frames"], "clean points flagged": a["false_pts"],
            "RMSE px": float(np.sqrt(a["se"] / max(a["n"], 1))),
            "RMSE leg px": float(np.sqrt(a["se_leg"] / max(a["n_leg"], 1))),
            "kept %": bench._pct(a["n"], a["n_inside"]), "median err at swaps px": err,
            "harmless swaps": a["harmless"],
        })
    return pd.DataFrame(rows)


def separation_table(acc: dict, variant: str = "two view") -> pd.DataFrame:
    """Missed / injected wrong-limb points of ``variant`` by the legs' separation (px)."""
    rows = []
    for (group, rate, name), a in acc.items():
        if name != variant:
            continue
        ms, js = np.asarray(a["miss_sep"]), np.asarray(a["inj_sep"])
        row = {"group": group, "rate": rate}
        for lo, hi in ((5, 15), (15, 30), (30, 60), (60, np.inf)):
            n_in = int(((js >= lo) & (js < hi)).sum())
            row[f"{lo:g}-{hi:g} px"] = f"{int(((ms >= lo) & (ms < hi)).sum())} / {n_in}"
        rows.append(row)
    return pd.DataFrame(rows)


def events_table(matches: pd.DataFrame) -> pd.DataFrame:
    """Per group, rate, variant and event: MAE, bias, found %, spurious (the default
    detector), over all seeds."""
    m = matches.copy()
    m["input"], m["method"] = m["variant"], DEFAULT_METHOD
    s = vre.summarise(m, by=("group", "rate", "input", "event"))
    return s.rename(columns={"input": "variant"})


def events_per_view(matches: pd.DataFrame) -> pd.DataFrame:
    """Per view and seed: found and spurious events and the sum of |error| of the events
    found by every variant, one column per variant (to check that cleaning is never worse
    than the raw predictions on any view)."""
    req = matches[matches["true"].notna() & ~matches["optional"]]
    keys = ["group", "rate", "trial", "view", "seed"]
    found = req.assign(f=req["det"].notna()).pivot_table(index=keys, columns="variant", values="f", aggfunc="sum")
    spur = matches.pivot_table(index=keys, columns="variant", values="spurious", aggfunc="sum")
    return pd.concat({"found": found, "spurious": spur}, axis=1)


def _markdown(df: pd.DataFrame) -> str:
    return vre.to_markdown(df, floatfmt=".2f")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=vre.DEFAULT_ROOT, help="the realgait folder")
    ap.add_argument("--rates", nargs="+", default=["25hz"], choices=vre.RATES)
    ap.add_argument("--groups", nargs="+", default=["walk_overground"], choices=vre.GROUPS)
    ap.add_argument("--seeds", type=int, default=5, help="noise realisations per view (5)")
    ap.add_argument("--trials", nargs="*", default=None, help="only these trials")
    ap.add_argument("--quick", action="store_true", help=f"{len(QUICK_TRIALS)} trials, 2 seeds")
    ap.add_argument("--no-events", action="store_true", help="skip the event detection")
    args = ap.parse_args(argv)
    trials = list(QUICK_TRIALS) if args.quick else args.trials
    seeds = range(2 if args.quick else args.seeds)
    t0 = time.perf_counter()
    views = vre.load_realgait(args.root, trials=trials, rates=tuple(args.rates), groups=tuple(args.groups))
    pairs = make_pairs(views, args.root)
    acc, matches = evaluate(pairs, seeds, events=not args.no_events)
    n_views = 2 * len(pairs)
    print(f"# Cleaning on real walking ({len(pairs)} trial x rate pairs, {n_views} views, "
          f"{len(seeds)} seeds; groups {', '.join(args.groups)})\n")
    print(_markdown(cleaning_table(acc)))
    print("\nTwo-view misses by the legs' separation (missed / injected):\n")
    print(_markdown(separation_table(acc)))
    print("\nSingle-view misses by the legs' separation (missed / injected):\n")
    print(_markdown(separation_table(acc, "single view")))
    if not args.no_events:
        print(f"\nEvents of `{DEFAULT_METHOD}` on each variant (ms; found % of the required labels):\n")
        print(_markdown(events_table(matches)))
        per = events_per_view(matches)
        worse = {}
        for v in VARIANTS[1:]:
            worse[v] = int(((per[("found", v)] < per[("found", "raw")])
                            | (per[("spurious", v)] > per[("spurious", "raw")])).sum())
        print(f"\nviews x seeds ({len(per)}) where a variant finds fewer labelled events or adds "
              f"spurious ones compared with raw: {worse}")
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
