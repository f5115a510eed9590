"""Gait-event accuracy on real walking: every detector x frame rate on ../shared/realgait.

``../shared/realgait`` holds marker-based motion capture of real walking from 11 labs and
systems, projected to DeepLabCut-layout sagittal views (960 x 540 px) at the native rate,
50 Hz and 25 Hz, with the trials' own gait events (labelled by the files' authors or from
force plates). For each view the camera-facing leg's events are detected after
:func:`~napari_gaitint.core.orient.orient_pose`, exactly as ``gaitint events`` does, and
matched one-to-one (nearest first) with the labelled events of that leg within
``--tolerance`` (0.2 s).

Reported per input, method, rate and event: MAE, bias (detected - labelled) and 95th
percentile of the absolute error (ms), found (% of the required labelled events), spurious
(detections within the labelled span of that leg that match no label). Labelled events
within 0.2 s of either end of a csv are optional (the data cannot show them; the realgait
README): counted when found, not missed when not. Several trials label only one or two
strides, so a detection outside the span of a leg's labels can be neither checked nor
called spurious; those are counted apart (``unlabelled``).

Inputs (``--inputs``):

``plain``
    The views as they are: ideal projections, no noise, nothing missing.
``cleaned``
    After :func:`~napari_gaitint.core.clean.clean_pose` with the other view, events timed
    on the cleaned pose before its 6 Hz low-pass (``CleanResult.events_pose``), as
    ``gaitint analyze`` does.
``cleaned_lowpass``
    The same cleaning, events timed on the low-passed pose (``gaitint clean`` then
    ``gaitint events`` on the cleaned file; what ``gaitint analyze`` did before).
``noisy``
    DLC-like predictions (:func:`perturb_view`): 1-3 px Gaussian noise per point, dropouts
    (likelihood < 0.6) in runs of 40-160 ms on 3 % of the frames of each point, and
    wrong-limb labels (knee, ankle, heel and toe from the other leg, at high likelihood)
    in runs of 40-80 ms on 2 % of the frames. Seeded per trial and view.
``noisy_cleaned``, ``noisy_cleaned_lowpass``
    ``noisy``, then cleaned with the (also noisy) other view, events before / after the
    low-pass; the cleaning flags go to ``detect_events`` (confidence).

Detectors: every method of ``METHODS`` on each view alone, and the default on both legs
of a trial together (``"<method> (both legs)"``: the left and right views of the same
moments, :func:`~napari_gaitint.core.phase.detect_events_both_legs`, as ``gaitint analyze``
does for a trial pair).

Groups: ``walk_overground`` is the development set (every fitted or chosen number is
judged on it, cross-validated); ``walk_treadmill`` and ``run_treadmill`` are reported
separately and kept out of anything fitted.

Cross-validation (walk_overground, one input and rate at a time): the choice of detector
among the candidates (every method, and ``foot`` with other deceleration windows) by the
lowest mean of HS and TO MAE on the other trials (leave one trial out) or the other labs
(leave one lab out), judged on the left-out one; and a per-event-kind bias correction (the
median error of the training set subtracted). In-sample figures beside them.

    .venv/bin/python validation/validate_real_events.py                 # everything (~5 min)
    .venv/bin/python validation/validate_real_events.py --quick         # 4 trials, default only
    .venv/bin/python validation/validate_real_events.py --markdown tables.md
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

from napari_gaitint.core.config import DEFAULT_METHOD, LOW_CONFIDENCE, likelihood_cutoff
from napari_gaitint.core.config import EVENT_METHODS as METHODS
from napari_gaitint.core.events import detect_events
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.phase import detect_events_both_legs
from napari_gaitint.core.pose import Pose

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Where the real set lives next to the repository (not shipped with it).
DEFAULT_ROOT = REPO_ROOT.parent / "shared" / "realgait"
RATES = ("native", "50hz", "25hz")
INPUTS = ("plain", "cleaned", "cleaned_lowpass", "noisy", "noisy_cleaned", "noisy_cleaned_lowpass")
GROUPS = ("walk_overground", "walk_treadmill", "run_treadmill")
#: Every detector once (``ankle_neck`` is an alias of ``seed``).
ALL_METHODS = tuple(m for m in METHODS if m != "ankle_neck")
EDGE_S = 0.2
_EVENT = {"Foot Strike": "heel_strike", "Foot Off": "toe_off"}
_KINDS = ("heel_strike", "toe_off")


@dataclass
class RealView:
    """One camera view of one trial at one rate, with the camera-facing leg's labels."""

    trial: str
    group: str
    lab: str
    view: str
    side: str
    rate: str
    fps: float
    pose: Pose  # image coordinates, frame size set
    truth: pd.DataFrame  # event, time_s, optional
    other_view: str = ""
    direction: int = 0  # in the image: +1 left-to-right, -1 right-to-left

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.trial, self.view, self.rate)


# ---------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------
def load_realgait(root: str | Path = DEFAULT_ROOT, *, trials=None, rates=RATES, groups=None
                  ) -> list[RealView]:
    """Every view of the realgait trials (optionally only ``trials`` / ``groups``).

    Raises
    ------
    FileNotFoundError
        When ``root/gait`` does not exist.
    """
    gait = Path(root) / "gait"
    if not gait.is_dir():
        raise FileNotFoundError(f"{gait}: the realgait set is not there (see its README)")
    out = []
    for tdir in sorted(p for p in gait.iterdir() if p.is_dir()):
        if trials is not None and tdir.name not in trials:
            continue
        info = json.loads((tdir / "trial_info.json").read_text())
        if groups is not None and info["group"] not in groups:
            continue
        meta = json.loads((tdir / "dlc" / "dlc_meta.json").read_text())
        lab = info["lab_system"].split(":")[0].strip()
        for view in ("left_view", "right_view"):
            vm = meta["views"][view]
            labels = pd.read_csv(tdir / "dlc" / f"{tdir.name}_{view}_events.csv")
            for rate in rates:
                f = vm["files"][rate]
                pose = load_pose(tdir / "dlc" / f["file"], fps=float(f["fps"]))
                pose = pose.replace(frame_size=tuple(meta["frame_size"]))
                out.append(RealView(
                    trial=tdir.name, group=info["group"], lab=lab, view=view,
                    side="left" if view == "left_view" else "right", rate=rate,
                    fps=float(f["fps"]), pose=pose, truth=_truth(labels, pose.n_frames, float(f["fps"])),
                    other_view="right_view" if view == "left_view" else "left_view",
                    direction=-1 if "right_to_left" in vm["direction_in_image"] else 1,
                ))
    return out


def _truth(labels: pd.DataFrame, n_frames: int, fps: float) -> pd.DataFrame:
    own = labels[labels["this_leg"].astype(bool)]
    t = own["time_s"].to_numpy(float)
    last = (n_frames - 1) / fps
    return pd.DataFrame({
        "event": own["event"].map(_EVENT).to_numpy(),
        "time_s": t,
        "optional": (t < EDGE_S) | (t > last - EDGE_S),
    })


def perturb_view(view: RealView, other: RealView, *, seed: int | None = None,
                 noise_px=(1.0, 3.0), dropout_frac=0.03, dropout_run_s=(0.04, 0.16),
                 wrong_limb_frac=0.02, wrong_limb_run_s=(0.04, 0.08)) -> Pose:
    """DLC-like predictions of ``view``: noise, dropouts and wrong-limb labels (see module).

    The other leg's points come from the opposite view mapped into this image by a straight
    line per axis fitted on the neck (the views differ in scale and origin). Runs are in
    seconds, so every rate gets the same amount of trouble. Likelihood is 0.9-1 for good
    points, 0.6-1 for wrong-limb labels (DLC is often sure of them) and 0-0.5 for dropouts.
    """
    rng = np.random.default_rng(zlib.crc32(repr((view.trial, view.view)).encode()) if seed is None else seed)
    pose, fps = view.pose, view.fps
    v = pose.values.copy()
    n, nb, _ = v.shape
    o = other.pose.values
    names = list(pose.bodyparts)
    neck = names.index("neck")
    a, b = v[:, neck, :2], o[: min(n, o.shape[0]), neck, :2]
    m = b.shape[0]
    ok = np.isfinite(a[:m]).all(1) & np.isfinite(b).all(1)
    other_xy = np.full((n, nb, 2), np.nan)
    for ax in (0, 1):
        slope, icpt = np.polyfit(b[ok, ax], a[:m][ok, ax], 1)
        other_xy[:m, :, ax] = slope * o[:m, :, ax] + icpt
    leg = [names.index(bp) for bp in ("knee", "ankle", "heel", "toe")]

    def runs(frac, run_s):
        mean_len = max(1.0, np.mean(run_s) * fps)
        for _ in range(int(round(frac * n / mean_len))):
            length = max(1, int(round(rng.uniform(*run_s) * fps)))
            start = int(rng.integers(0, max(1, n - length)))
            yield slice(start, start + length)

    wrong = np.zeros((n, nb), dtype=bool)
    for s in runs(wrong_limb_frac, wrong_limb_run_s):
        for j in leg:
            v[s, j, :2] = other_xy[s, j]
            wrong[s, j] = True
    sd = rng.uniform(*noise_px, size=nb)
    v[..., :2] += rng.normal(size=(n, nb, 2)) * sd[None, :, None]
    v[..., 2] = np.where(wrong, rng.uniform(0.6, 1.0, size=(n, nb)), rng.uniform(0.9, 1.0, size=(n, nb)))
    for j in range(nb):
        for s in runs(dropout_frac, dropout_run_s):
            v[s, j, 2] = rng.uniform(0.0, 0.5, size=v[s, j, 2].shape)
    return pose.replace(values=v)


def prepare_input(view: RealView, other: RealView, kind: str) -> tuple[Pose, np.ndarray | None]:
    """The pose (image coordinates) and cleaning flags of input ``kind`` (see module)."""
    if kind not in INPUTS:
        raise ValueError(f"unknown input {kind!r}; choose from {INPUTS}")
    pose, other_pose, flags = view.pose, other.pose, None
    if kind.startswith("noisy"):
        pose, other_pose = perturb_view(view, other), perturb_view(other, view)
    if "cleaned" in kind:
        from napari_gaitint.core.clean import clean_pose
        from napari_gaitint.core.errors import AnalysisError

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = clean_pose(pose, other=other_pose)
            except AnalysisError:  # as gaitint analyze: the view alone (e.g. treadmill running)
                res = clean_pose(pose, other=None)
        pose = res.pose if kind.endswith("_lowpass") else res.events_pose
        flags = res.flags
    return pose, flags


# ---------------------------------------------------------------------------------------
# detection and matching
# ---------------------------------------------------------------------------------------
def _oriented(view: RealView, pose: Pose) -> Pose:
    """The walking direction is detected overground, as a user would let it be; on a
    treadmill it is given (running shows no direction in the feet: ``gaitint events
    --direction``)."""
    direction = None if view.group == "walk_overground" else view.direction
    return orient_pose(pose, direction=direction)


def _refused(err: Exception) -> pd.DataFrame:
    empty = pd.DataFrame(columns=["event", "time_s", "confidence", "why"])
    empty.attrs["error"] = str(err)
    return empty


def detect_view(view: RealView, pose: Pose, method: str, flags=None, **kw) -> pd.DataFrame:
    """Events of the camera-facing leg (``time_s`` from the first csv row), or an empty
    table when the detector refuses the view (counted as missed). A cleaned pose comes with
    its ``flags``: the cleaned likelihood cut-off, as ``gaitint analyze``."""
    kw.setdefault("min_likelihood", likelihood_cutoff(cleaned=flags is not None))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_events(_oriented(view, pose), side=view.side, fps=view.fps, method=method,
                                 flags=flags, **kw)
    except Exception as err:  # noqa: BLE001 - a refusal is a result here
        return _refused(err)


def detect_pair(views: tuple[RealView, RealView], poses: tuple[Pose, Pose], method: str,
                flags=(None, None), **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both views' camera-facing legs detected together (the views are projections of the
    same moments: lag 0); where that refuses, each view alone. Cleaned poses come with their
    ``flags`` (:func:`detect_view`)."""
    given = kw.pop("min_likelihood", None)
    cuts = (given, given) if given is not None else tuple(likelihood_cutoff(cleaned=f is not None) for f in flags)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return detect_events_both_legs(
                tuple(_oriented(v, p) for v, p in zip(views, poses, strict=True)),
                sides=tuple(v.side for v in views), lag_frames=0, flags=flags, method=method,
                min_likelihood=cuts, **kw)
    except Exception:  # noqa: BLE001 - one leg refused: each alone, as analyze would fail
        return tuple(detect_view(v, p, method, flags=f, min_likelihood=c, **kw)
                     for v, p, f, c in zip(views, poses, flags, cuts, strict=True))


def match_view(view: RealView, detected: pd.DataFrame, *, tolerance_s: float = 0.2) -> pd.DataFrame:
    """One row per labelled event (``det`` NaN when missed) and per unmatched detection
    (``true`` NaN; ``spurious`` when inside the span of this leg's labels, else
    ``unlabelled``). ``err_ms`` = detected - labelled."""
    truth = view.truth
    lo, hi = truth["time_s"].min() - tolerance_s, truth["time_s"].max() + tolerance_s
    rows = []
    for kind in _KINDS:
        t = truth[truth["event"] == kind]
        d = detected[detected["event"] == kind]
        dt = d["time_s"].to_numpy(float)
        conf = d["confidence"].to_numpy(float) if "confidence" in d else np.full(dt.size, np.nan)
        pairs = sorted((abs(di - ti), i, j) for i, ti in enumerate(t["time_s"])
                       for j, di in enumerate(dt) if abs(di - ti) <= tolerance_s)
        used_t, used_d = {}, set()
        for _, i, j in pairs:
            if i not in used_t and j not in used_d:
                used_t[i] = j
                used_d.add(j)
        for i, (ti, opt) in enumerate(zip(t["time_s"], t["optional"], strict=True)):
            j = used_t.get(i)
            rows.append((kind, ti, dt[j] if j is not None else np.nan, bool(opt), False, False,
                         conf[j] if j is not None else np.nan))
        for j, dj in enumerate(dt):
            if j not in used_d:
                inside = lo <= dj <= hi
                rows.append((kind, np.nan, dj, False, inside, not inside, conf[j]))
    out = pd.DataFrame(rows, columns=["event", "true", "det", "optional", "spurious", "unlabelled",
                                      "confidence"])
    out["err_ms"] = 1000.0 * (out["det"] - out["true"])
    for k in ("trial", "group", "lab", "view", "rate"):
        out[k] = getattr(view, k)
    return out


def both_legs(method: str) -> str:
    """The name of ``method`` run on both legs of a trial together."""
    return f"{method} (both legs)"


def evaluate(views: list[RealView], methods=ALL_METHODS, inputs=("plain",), *, tolerance_s=0.2,
             variants: dict | None = None, pairs=(DEFAULT_METHOD,), progress=None) -> pd.DataFrame:
    """Matches of every view x input x method (plus ``variants``: name -> (method, kwargs);
    plus each method of ``pairs`` on both legs of a trial together, :func:`both_legs`)."""
    by_key = {v.key: v for v in views}
    detectors = {m: (m, {}) for m in methods}
    detectors.update(variants or {})
    parts = []
    for kind in inputs:
        prepared = {}
        for view in views:
            other = by_key.get((view.trial, view.other_view, view.rate))
            if other is None:
                raise ValueError(f"{view.trial} {view.rate}: the other view is missing")
            pose, flags = prepare_input(view, other, kind)
            prepared[view.key] = (pose, flags)
            for name, (method, kw) in detectors.items():
                det = detect_view(view, pose, method, flags=flags, **kw)
                m = match_view(view, det, tolerance_s=tolerance_s)
                m["input"], m["method"] = kind, name
                parts.append(m)
            if progress:
                progress(kind, view)
        for view in views:
            other = by_key[(view.trial, view.other_view, view.rate)]
            if view.view != "left_view" or other.key not in prepared:
                continue
            (pa, fa), (pb, fb) = prepared[view.key], prepared[other.key]
            for method in pairs:
                found = detect_pair((view, other), (pa, pb), method, flags=(fa, fb))
                for v, det in zip((view, other), found, strict=True):
                    m = match_view(v, det, tolerance_s=tolerance_s)
                    m["input"], m["method"] = kind, both_legs(method)
                    parts.append(m)
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------
def summarise(matches: pd.DataFrame, by=("input", "method", "rate", "event")) -> pd.DataFrame:
    """MAE, bias, 95th percentile (ms), found %, missed, spurious, unlabelled per group."""
    out = []
    for key, g in matches.groupby(list(by), sort=False):
        labelled = g[g["true"].notna()]
        required = labelled[~labelled["optional"]]
        err = labelled["err_ms"].dropna()
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(
            n=len(required), found_pct=100.0 * required["det"].notna().mean() if len(required) else np.nan,
            missed=int(required["det"].isna().sum()), spurious=int(g["spurious"].sum()),
            unlabelled=int(g["unlabelled"].sum()), mae_ms=err.abs().mean(), bias_ms=err.mean(),
            p95_ms=err.abs().quantile(0.95), n_timed=len(err),
        )
        out.append(row)
    return pd.DataFrame(out)


def wide(summary: pd.DataFrame, index=("method", "rate")) -> pd.DataFrame:
    """HS and TO side by side: ``HS MAE, HS bias, HS p95, HS found, TO ..., spurious``."""
    rows = []
    for key, g in summary.groupby(list(index), sort=False):
        row = dict(zip(index, key if isinstance(key, tuple) else (key,), strict=True))
        for kind, tag in (("heel_strike", "HS"), ("toe_off", "TO")):
            s = g[g["event"] == kind]
            if s.empty:
                continue
            s = s.iloc[0]
            row.update({f"{tag} MAE": s["mae_ms"], f"{tag} bias": s["bias_ms"], f"{tag} p95": s["p95_ms"],
                        f"{tag} found %": s["found_pct"], f"{tag} n": s["n"]})
        row["spurious"] = int(g["spurious"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def targets_table(matches: pd.DataFrame, methods=None) -> pd.DataFrame:
    """walk_overground, the default alone and on both legs (or ``methods``): per input and
    rate, HS and TO MAE / bias (ms), found % and spurious, the figures the targets are
    stated in."""
    methods = methods or (DEFAULT_METHOD, both_legs(DEFAULT_METHOD))
    m = matches[(matches["group"] == "walk_overground") & matches["method"].isin(methods)]
    rows = []
    for (inp, method, rate), g in m.groupby(["input", "method", "rate"], sort=False):
        s = summarise(g).set_index("event")
        hs, to = s.loc["heel_strike"], s.loc["toe_off"]
        rows.append({
            "input": inp, "detector": method, "rate": rate,
            "HS MAE / bias": f"{hs['mae_ms']:.1f} / {hs['bias_ms']:+.1f}",
            "TO MAE / bias": f"{to['mae_ms']:.1f} / {to['bias_ms']:+.1f}",
            "found HS / TO %": f"{hs['found_pct']:.1f} / {to['found_pct']:.1f}",
            "spurious": int(hs["spurious"] + to["spurious"]),
        })
    return pd.DataFrame(rows)


def _mae(err: pd.Series) -> float:
    return float(err.abs().mean()) if len(err) else np.nan


def cross_validate(matches: pd.DataFrame, *, folds: str, candidates=None) -> pd.DataFrame:
    """Cross-validated figures of what is chosen or fitted on the real set (walk_overground).

    For every input x rate and each fold (``folds="trial"`` or ``"lab"``): (1) the detector
    with the lowest mean of HS and TO MAE on the training folds, scored on the left-out one;
    (2) the default with a bias correction per event kind (median training error
    subtracted). The pooled left-out errors give the figures; the in-sample ones use every
    fold for both.
    """
    m = matches[(matches["group"] == "walk_overground") & matches["err_ms"].notna()]
    if candidates is not None:
        m = m[m["method"].isin(candidates)]
    rows = []
    for (inp, rate), g in m.groupby(["input", "rate"], sort=False):
        keys = g[folds].unique()
        chosen_err = {k: [] for k in _KINDS}
        corrected = {k: [] for k in _KINDS}
        picks = []
        for held in keys:
            train, test = g[g[folds] != held], g[g[folds] == held]
            score = train.groupby("method").apply(
                lambda d: np.mean([_mae(d.loc[d["event"] == k, "err_ms"]) for k in _KINDS]),
                include_groups=False)
            best = score.idxmin()
            picks.append(best)
            for k in _KINDS:
                chosen_err[k].append(test.loc[(test["method"] == best) & (test["event"] == k), "err_ms"])
                tr = train.loc[(train["method"] == DEFAULT_METHOD) & (train["event"] == k), "err_ms"]
                te = test.loc[(test["method"] == DEFAULT_METHOD) & (test["event"] == k), "err_ms"]
                corrected[k].append(te - tr.median())
        score_all = g.groupby("method").apply(
            lambda d: np.mean([_mae(d.loc[d["event"] == k, "err_ms"]) for k in _KINDS]),
            include_groups=False)
        best_all = score_all.idxmin()
        for k, tag in (("heel_strike", "HS"), ("toe_off", "TO")):
            default = g.loc[(g["method"] == DEFAULT_METHOD) & (g["event"] == k), "err_ms"]
            sel_in = g.loc[(g["method"] == best_all) & (g["event"] == k), "err_ms"]
            sel_cv = pd.concat(chosen_err[k])
            corr_in = default - default.median()
            corr_cv = pd.concat(corrected[k])
            rows.append({
                "input": inp, "rate": rate, "event": tag, "folds": f"leave one {folds} out",
                "default MAE": _mae(default), "default bias": default.mean(),
                "chosen (in-sample)": best_all, "chosen MAE in-sample": _mae(sel_in),
                "chosen MAE CV": _mae(sel_cv), "chosen bias CV": sel_cv.mean(),
                "CV picks": ", ".join(f"{n}x {p}" for p, n in pd.Series(picks).value_counts().items()),
                "bias-corrected MAE in-sample": _mae(corr_in),
                "bias-corrected MAE CV": _mae(corr_cv), "bias-corrected bias CV": corr_cv.mean(),
            })
    return pd.DataFrame(rows)


def confidence_table(matches: pd.DataFrame, method=DEFAULT_METHOD) -> pd.DataFrame:
    """How the default's confidence sorts its events: counts and MAE of the events below
    and at or above :data:`LOW_CONFIDENCE`, and how many of the errors over 40 ms it flags."""
    m = matches[(matches["method"] == method) & matches["det"].notna()]
    rows = []
    for (inp, rate), g in m.groupby(["input", "rate"], sort=False):
        low = g["confidence"] < LOW_CONFIDENCE
        timed = g["err_ms"].notna()
        big = timed & (g["err_ms"].abs() > 40)
        rows.append({
            "input": inp, "rate": rate, "events": len(g), "low": int(low.sum()),
            "MAE low": _mae(g.loc[low & timed, "err_ms"]), "MAE rest": _mae(g.loc[~low & timed, "err_ms"]),
            "errors > 40 ms": int(big.sum()), "of them low": int((big & low).sum()),
            "spurious/unlabelled low": f"{int((low & ~timed).sum())} of {int((~timed).sum())}",
        })
    return pd.DataFrame(rows)


def to_markdown(df: pd.DataFrame, floatfmt=".1f") -> str:
    cols = list(df.columns)
    def fmt(v):
        if isinstance(v, (float, np.floating)):
            return "" if not np.isfinite(v) else format(v, floatfmt)
        return str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


#: ``foot`` with other deceleration windows: the candidates the window was chosen among.
VARIANTS = {f"foot (rest window {w:g} s)": ("foot", {"rest_half_width_s": w}) for w in (0.04, 0.06, 0.1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the realgait folder")
    ap.add_argument("--quick", action="store_true", help="4 trials, the default method only")
    ap.add_argument("--inputs", default=",".join(INPUTS), help=f"comma-separated, of {INPUTS}")
    ap.add_argument("--methods", default=None, help="comma-separated (default: every method)")
    ap.add_argument("--tolerance", type=float, default=0.2, help="match window, s (default 0.2)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    ap.add_argument("--csv", type=Path, default=None, help="write every match to this csv")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    trials = ("zoo_hc036a10", "gaitalytics_overground", "qualisys_walk", "osim_walking5") if args.quick else None
    try:
        views = load_realgait(args.root, trials=trials)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    methods = (DEFAULT_METHOD,) if args.quick else tuple(args.methods.split(",")) if args.methods else ALL_METHODS
    variants = {} if args.quick or args.methods else VARIANTS
    inputs = tuple(args.inputs.split(","))
    matches = evaluate(views, methods, inputs, tolerance_s=args.tolerance, variants=variants)
    if args.csv:
        matches.to_csv(args.csv, index=False)
    out = [f"# Gait events on real walking ({len({v.trial for v in views})} trials, "
           f"{len(views)} views x rates, match window +/-{args.tolerance:g} s, "
           f"{time.perf_counter() - t0:.0f} s)\n"]
    walk = matches[matches["group"] == "walk_overground"]
    out += ["\n## Against the targets (walk_overground, camera-facing leg)\n", to_markdown(targets_table(matches))]
    for inp in inputs:
        s = summarise(walk[walk["input"] == inp])
        out += [f"\n## walk_overground, input {inp}: camera-facing leg (ms)\n", to_markdown(wide(s))]
    for group in ("walk_treadmill", "run_treadmill"):
        g = matches[(matches["group"] == group) & (matches["input"] == "plain")]
        if len(g):
            out += [f"\n## {group} (not used for any choice), input plain (ms)\n",
                    to_markdown(wide(summarise(g)))]
    d = walk[(walk["method"] == DEFAULT_METHOD) & (walk["rate"] == "25hz") & (walk["input"] == inputs[0])]
    if len(d):
        per_lab = wide(summarise(d, by=("lab", "event")), index=("lab",))
        out += [f"\n## {DEFAULT_METHOD} per lab, 25 Hz, input {inputs[0]} (ms)\n", to_markdown(per_lab)]
    if not args.quick:
        for folds in ("trial", "lab"):
            cv = cross_validate(walk, folds=folds)
            out += [f"\n## Cross-validated (leave one {folds} out), walk_overground\n", to_markdown(cv)]
    out += ["\n## Confidence of the default (walk_overground)\n", to_markdown(confidence_table(walk))]
    report(out, args.markdown)
    return 0


def report(parts: list[str], markdown: Path | None) -> None:
    """Print the Markdown ``parts`` and write them to ``markdown`` when given."""
    text = "\n".join(parts) + "\n"
    print(text)
    if markdown:
        markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
