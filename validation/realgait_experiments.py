"""What was tried to time gait events more closely on real walking, and what it gave.

The evidence behind docs/methods/events.md, section *Tried*: every idea is run with the
code of ``validate_real_events.py`` on ``../shared/realgait`` (walk_overground, camera-facing
leg), against the default, on the noise-free views and on DLC-like noisy views over several
noise seeds (``--seeds``; one seed moves an MAE by ~1 ms). Anything chosen among
alternatives is also reported cross-validated (leave one trial out, leave one lab out).

1. ``shift``: foot's heel-strike shift ``v / a`` per recording: the mean speed over the mean
   deceleration of its strides (the default) against the median of the per-stride ratios
   (the previous default).
2. ``lowpass``: events on the cleaned pose before the 6 Hz low-pass (what ``gaitint
   analyze`` does) against after it (``cleaned_lowpass``).
3. ``legs``: both legs together (:func:`~napari_gaitint.core.phase.detect_events_both_legs`)
   against each view alone: found and spurious on raw noisy views.
4. ``registration``: every stride's extremum moved so that the stride's signal around it
   best matches the recording's mean stride (least squares over +/- 0.06-0.15 s, a shift, a
   gain and an offset per stride; the strides' mean time kept): a wider window than the
   vertex parabola against keypoint noise.
5. ``vertex``: the vertex parabola's half-width (``fit_stride``, 0.04-0.2 stride; default 0.08).
6. ``blend``: a joint estimate of each event from its own leg and the other leg's partner
   event (heel strike = the other toe off minus the recording's median double support,
   toe off = the other heel strike plus it), ``w * own + (1 - w) * partner``.
7. ``legs_offset``: where the default's error lies: per leg (view) with two or more
   labelled events of a kind, the mean error and the spread around it; and how much the
   labels' own double support (one leg's heel strike to the other's toe off) varies from
   step to step within a trial.
8. ``covariates``: can a leg's offset be predicted from what the video shows? Each event's
   error regressed on per-view quantities (walking speed in leg lengths per second, the
   stance heights of heel and toe, foot length, trunk angle, stance fraction; least
   squares with an intercept), reported in-sample and leaving one trial or one lab out.

::

    .venv/bin/python validation/realgait_experiments.py                  # all, 5 noise seeds
    .venv/bin/python validation/realgait_experiments.py shift legs --seeds 10
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate_real_events as vr  # noqa: E402

from napari_gaitint.core import events as ev_mod  # noqa: E402
from napari_gaitint.core.orient import orient_pose  # noqa: E402

EXPERIMENTS = ("shift", "lowpass", "legs", "registration", "vertex", "blend", "legs_offset",
               "covariates")


# ---------------------------------------------------------------------------------------
# noise seeds
# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def noise_seed(offset: int):
    """``perturb_view`` with its per-view seed shifted by ``offset`` (0: the reported one)."""
    original = vr.perturb_view

    def perturb(view, other, *, seed=None, **kw):
        if seed is None:
            seed = zlib.crc32(repr((view.trial, view.view)).encode()) + offset
        return original(view, other, seed=seed, **kw)

    vr.perturb_view = perturb
    try:
        yield
    finally:
        vr.perturb_view = original


def over_seeds(views, methods, inputs, seeds, **kw) -> pd.DataFrame:
    """Matches of :func:`validate_real_events.evaluate` for each noise seed (column ``seed``;
    inputs without noise are run once, as seed 0)."""
    parts = []
    for s in seeds:
        todo = [i for i in inputs if s == 0 or i.startswith("noisy")]
        if not todo:
            continue
        with noise_seed(s):
            m = vr.evaluate(views, methods, todo, **kw)
        m["seed"] = s
        parts.append(m)
    return pd.concat(parts, ignore_index=True)


def seed_summary(matches: pd.DataFrame) -> pd.DataFrame:
    """Per input, method and rate: HS / TO MAE (mean and sd over seeds), missed, spurious."""
    s = vr.summarise(matches[matches["group"] == "walk_overground"],
                     by=("input", "method", "rate", "event", "seed"))
    rows = []
    for key, g in s.groupby(["input", "method", "rate"], sort=False):
        row = dict(zip(("input", "method", "rate"), key, strict=True))
        row["seeds"] = g["seed"].nunique()
        for kind, tag in (("heel_strike", "HS"), ("toe_off", "TO")):
            k = g[g["event"] == kind]
            sd = f" ± {k['mae_ms'].std():.1f}" if len(k) > 1 else ""
            row[f"{tag} MAE"] = f"{k['mae_ms'].mean():.1f}{sd}"
            row[f"{tag} missed"] = int(k["missed"].sum())
        row["spurious"] = int(g["spurious"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# 1. the heel-strike shift: per-stride median (previous default)
# ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def per_stride_median_shift():
    """``extrapolate_to_rest`` as it was: each candidate's own ``v / a``, the median moves all."""
    original = ev_mod.extrapolate_to_rest

    def median_of_ratios(relative_px, candidates, **kw):
        c = np.asarray(candidates, dtype=float)
        own = [original(relative_px, c[i:i + 1], **kw) for i in range(c.size)]
        ok = np.array([o[1][0] for o in own], dtype=bool)
        shifts = np.array([o[0][0] - c[i] for i, o in enumerate(own)])
        return c + (float(np.median(shifts[ok])) if ok.any() else 0.0), ok

    ev_mod.extrapolate_to_rest = median_of_ratios
    try:
        yield
    finally:
        ev_mod.extrapolate_to_rest = original


# ---------------------------------------------------------------------------------------
# 4. stride registration
# ---------------------------------------------------------------------------------------
def register_strides(signal: np.ndarray, positions: np.ndarray, *, half_window: int,
                     n_iter: int = 6, max_shift: float | None = None) -> np.ndarray:
    """Move each position so the signal around it (``+/- half_window`` samples) matches
    the mean of all strides by least squares (shift, gain, offset per stride, Gauss-Newton),
    keeping the positions' mean; a shift beyond ``max_shift`` keeps the original."""
    x = np.asarray(signal, dtype=float)
    p0 = np.asarray(positions, dtype=float)
    p = p0.copy()
    if p.size < 2:
        return p
    n = x.size
    u = np.arange(-int(half_window), int(half_window) + 1, dtype=float)

    def sample(q):
        t = q[:, None] + u[None, :]
        i0 = np.floor(t).astype(int)
        f = t - i0
        a, b = x[np.clip(i0, 0, n - 1)], x[np.clip(i0 + 1, 0, n - 1)]
        v = a * (1 - f) + b * f
        v[(i0 < 0) | (i0 + 1 >= n)] = np.nan
        return v

    for _ in range(n_iter):
        S = sample(p)
        D = sample(p + 0.5) - sample(p - 0.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            T = np.nanmean(S - np.nanmean(S, axis=1, keepdims=True), axis=0)
        tau = np.zeros(p.size)
        moved = np.zeros(p.size, dtype=bool)
        for k in range(p.size):
            m = np.isfinite(S[k]) & np.isfinite(D[k]) & np.isfinite(T)
            if m.sum() < max(5, u.size // 2):
                continue
            A = np.column_stack([D[k, m], -T[m], -np.ones(m.sum())])
            sol, *_ = np.linalg.lstsq(A, -S[k, m], rcond=None)
            tau[k], moved[k] = np.clip(sol[0], -1.0, 1.0), True
        if not moved.any():
            return p0.copy()
        p = p + tau
        p -= np.mean((p - p0)[moved]) * moved
    if max_shift is not None:
        far = np.abs(p - p0) > max_shift
        p[far] = p0[far]
    return p


@contextlib.contextmanager
def registered(window_s: float, fps_of: dict):
    """``pick_extrema`` followed by :func:`register_strides` on the (bridged) signal."""
    original = ev_mod.pick_extrema

    def pick(signal, segments, **kw):
        out = original(signal, segments, **kw)
        pos, info = out if kw.get("details") else (out, None)
        fps = fps_of["fps"]
        stride = kw["distance"] / 0.55
        pos = register_strides(signal, pos, half_window=max(2, int(round(window_s * fps))),
                               max_shift=0.1 * stride)
        return (pos, info) if kw.get("details") else pos

    ev_mod.pick_extrema = pick
    try:
        yield
    finally:
        ev_mod.pick_extrema = original


def evaluate_registered(views, inputs, windows, seeds) -> pd.DataFrame:
    """:func:`over_seeds` of the default with :func:`registered` extrema, one trial at a
    time (the window is in seconds and the native rate differs per trial)."""
    parts = []
    for w in windows:
        for rate in vr.RATES:
            for trial in sorted({v.trial for v in views if v.rate == rate}):
                tv = [v for v in views if v.rate == rate and v.trial == trial]
                with registered(w, {"fps": tv[0].fps}):
                    m = over_seeds(tv, (vr.DEFAULT_METHOD,), inputs, seeds, pairs=())
                parts.append(m.assign(method=f"foot, registration +/-{w:g} s"))
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------
# 6. joint estimate with the other leg's partner event
# ---------------------------------------------------------------------------------------
def blend_table(matches: pd.DataFrame, weights=(1.0, 0.75, 0.5, 0.25, 0.0)) -> pd.DataFrame:
    """MAE (ms) of ``w * own + (1 - w) * partner-predicted`` per rate and event kind
    (walk_overground, input plain, the default on each view). The partner prediction of a
    heel strike is the other leg's next toe off within 0.35 s minus the median double
    support of the recording's other pairs (this pair left out); of a toe off, the other
    leg's previous heel strike plus it. The weight chosen on the other trials / labs is
    scored on the left-out one."""
    m = matches[(matches["group"] == "walk_overground") & (matches["method"] == vr.DEFAULT_METHOD)
                & (matches["input"] == "plain") & matches["det"].notna()]
    rows = []
    for (trial, lab, rate), g in m.groupby(["trial", "lab", "rate"]):
        for view, other in (("left_view", "right_view"), ("right_view", "left_view")):
            a, b = g[g["view"] == view], g[g["view"] == other]
            for kind, partner, after in (("heel_strike", "toe_off", True), ("toe_off", "heel_strike", False)):
                B = np.sort(b.loc[b["event"] == partner, "det"].to_numpy())
                pairs = []
                for r in a[a["event"] == kind].itertuples():
                    c = B[(B > r.det) & (B < r.det + 0.35)] if after else B[(B < r.det) & (B > r.det - 0.35)]
                    if c.size:
                        pairs.append((r.true, r.det, c.min() if after else c.max()))
                P = pd.DataFrame(pairs, columns=["true", "det", "partner"])
                for i in range(len(P)):
                    rest = P.drop(P.index[i])
                    if rest.empty or not np.isfinite(P["true"].iat[i]):
                        continue
                    ds = float(np.median(rest["partner"] - rest["det"]))
                    rows.append((trial, lab, rate, kind, P["true"].iat[i], P["det"].iat[i],
                                 P["partner"].iat[i] - ds))
    R = pd.DataFrame(rows, columns=["trial", "lab", "rate", "event", "true", "det", "pred"])
    out = []
    for (rate, kind), g in R.groupby(["rate", "event"], sort=False):
        row = {"rate": rate, "event": kind, "n": len(g)}
        for w in weights:
            row[f"w={w:g}"] = 1000 * (w * g["det"] + (1 - w) * g["pred"] - g["true"]).abs().mean()
        for folds in ("trial", "lab"):
            err = []
            for held in g[folds].unique():
                train, test = g[g[folds] != held], g[g[folds] == held]
                best = min(weights, key=lambda w: (w * train["det"] + (1 - w) * train["pred"]
                                                   - train["true"]).abs().mean())
                err.append((best * test["det"] + (1 - best) * test["pred"] - test["true"]).abs())
            row[f"chosen w, leave one {folds} out"] = 1000 * pd.concat(err).mean()
        out.append(row)
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------
# 7. per-leg offsets
# ---------------------------------------------------------------------------------------
def leg_offset_table(matches: pd.DataFrame) -> pd.DataFrame:
    """Per rate and kind (input plain, the default, views with >= 2 timed labels): the MAE,
    the spread of the errors around their view's mean (the SD within views, pooled) and the
    range of the views' mean errors (ms)."""
    m = matches[(matches["group"] == "walk_overground") & (matches["method"] == vr.DEFAULT_METHOD)
                & (matches["input"] == "plain") & matches["err_ms"].notna()]
    rows = []
    for (rate, kind), g in m.groupby(["rate", "event"], sort=False):
        g = g[g.groupby(["trial", "view"])["err_ms"].transform("size") >= 2]
        per = g.groupby(["trial", "view"])["err_ms"]
        within = np.sqrt(((g["err_ms"] - per.transform("mean")) ** 2).sum() / (len(g) - per.ngroups))
        means = per.mean()
        rows.append({"rate": rate, "event": kind, "views": per.ngroups, "events": len(g),
                     "MAE": g["err_ms"].abs().mean(), "SD within a view": within,
                     "view means from": means.min(), "to": means.max()})
    return pd.DataFrame(rows)


def label_double_support(root: Path) -> pd.DataFrame:
    """Per trial (walk_overground, labels of both legs): the SD from step to step of the
    labelled double support, heel strike to the other leg's next toe off (ms)."""
    import json

    rows = []
    for tdir in sorted(p for p in (Path(root) / "gait").iterdir() if p.is_dir()):
        if json.loads((tdir / "trial_info.json").read_text())["group"] != "walk_overground":
            continue
        ev = pd.read_csv(tdir / "events_all.csv").sort_values("time_s")
        ds = []
        for r in ev[ev["event"] == "Foot Strike"].itertuples():
            off = ev[(ev["event"] == "Foot Off") & (ev["side"] != r.side) & (ev["time_s"] > r.time_s)
                     & (ev["time_s"] < r.time_s + 0.4)]
            if len(off):
                ds.append(1000 * (off["time_s"].iat[0] - r.time_s))
        if len(ds) >= 3:
            rows.append({"trial": tdir.name, "steps": len(ds), "double support ms": np.mean(ds),
                         "SD ms": np.std(ds, ddof=1)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# 8. per-leg covariates
# ---------------------------------------------------------------------------------------
#: The per-view quantities tried as predictors of a leg's offset, and the sets fitted.
COVARIATE_SETS = (("speed",), ("speed", "trunk"), ("stance",), ("toe height", "heel - toe"),
                  ("foot length",))


def view_covariates(view: vr.RealView) -> dict:
    """Per view, from the oriented keypoints: speed (leg lengths / s), the heel's and toe's
    stance heights above the floor and their difference, the foot's length (leg lengths),
    the trunk's angle from vertical (deg), the fraction of frames in stance."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = orient_pose(view.pose)
    p = {bp: o.bodypart(bp)[:, :2] for bp in ("neck", "hip", "knee", "ankle", "heel", "toe")}
    t = np.arange(view.pose.n_frames) / view.fps
    seg = lambda a, b: np.nanmedian(np.hypot(*(p[a] - p[b]).T))  # noqa: E731
    leg = seg("hip", "knee") + seg("knee", "ankle")
    hy, ty = p["heel"][:, 1], p["toe"][:, 1]
    floor = min(np.nanpercentile(hy, 1), np.nanpercentile(ty, 1))
    hv = np.gradient(p["heel"][:, 0], t)
    stance = hv < 0.1 * np.nanpercentile(hv, 95)
    heel_st, toe_st = np.nanmedian(hy[stance]) - floor, np.nanmedian(ty[stance]) - floor
    return {
        "trial": view.trial, "view": view.view, "rate": view.rate,
        "speed": abs(np.polyfit(t, p["hip"][:, 0], 1)[0]) / leg,
        "trunk": float(np.nanmedian(np.degrees(np.arctan2(*(p["neck"] - p["hip"]).T)))),
        "stance": float(stance.mean()), "toe height": toe_st / leg, "heel - toe": (heel_st - toe_st) / leg,
        "foot length": float(np.nanmedian(np.hypot(*(p["heel"] - p["toe"])[stance].T))) / leg,
    }


def covariate_table(views, matches: pd.DataFrame) -> pd.DataFrame:
    """MAE (ms) of the default's events (plain views) as they are, after removing a linear
    fit of the error on each covariate set in-sample, and predicted leaving one trial / one
    lab out."""
    cov = pd.DataFrame([view_covariates(v) for v in views])
    m = matches[(matches["method"] == vr.DEFAULT_METHOD) & matches["err_ms"].notna() & ~matches["optional"]]
    d = m.merge(cov, on=["trial", "view", "rate"])
    rows = []
    for (rate, kind), g in d.groupby(["rate", "event"], sort=False):
        y = g["err_ms"].to_numpy()
        for names in COVARIATE_SETS:
            x = np.c_[np.ones(len(g)), g[list(names)].to_numpy()]
            row = {"rate": rate, "event": kind, "covariates": " + ".join(names), "as is": np.abs(y).mean(),
                   "in-sample": np.abs(y - x @ np.linalg.lstsq(x, y, rcond=None)[0]).mean()}
            for folds in ("trial", "lab"):
                pred = np.empty(len(g))
                for k in g[folds].unique():
                    te = (g[folds] == k).to_numpy()
                    beta = np.linalg.lstsq(x[~te], y[~te], rcond=None)[0]
                    pred[te] = x[te] @ beta
                row[f"leave one {folds} out"] = np.abs(y - pred).mean()
            rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
def cv_tables(matches: pd.DataFrame, candidates) -> str:
    """LOTO and LOLO choice among ``candidates`` (method names), seed 0, as
    ``validate_real_events.cross_validate`` does."""
    m = matches[(matches["seed"] == 0) & matches["method"].isin(candidates)]
    out = []
    for folds in ("trial", "lab"):
        cv = vr.cross_validate(m, folds=folds)
        keep = ["input", "rate", "event", "default MAE", "chosen (in-sample)", "chosen MAE in-sample",
                "chosen MAE CV", "CV picks"]
        out += [f"\nleave one {folds} out\n", vr.to_markdown(cv[keep])]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("experiments", nargs="*", default=list(EXPERIMENTS), help=f"of {EXPERIMENTS}")
    ap.add_argument("--root", type=Path, default=vr.DEFAULT_ROOT)
    ap.add_argument("--seeds", type=int, default=5, help="noise seeds (default 5)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    args = ap.parse_args(argv)
    unknown = set(args.experiments) - set(EXPERIMENTS)
    if unknown:
        ap.error(f"unknown experiment(s) {sorted(unknown)}; choose from {EXPERIMENTS}")
    t0 = time.perf_counter()
    try:
        views = vr.load_realgait(args.root, groups=("walk_overground",))
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    seeds = range(args.seeds)
    out = [f"# Tried on real walking (walk_overground, {args.seeds} noise seeds)\n"]
    foot = vr.DEFAULT_METHOD
    if "shift" in args.experiments:
        inputs = ("plain", "noisy", "noisy_cleaned")
        now = over_seeds(views, (foot,), inputs, seeds, pairs=())
        with per_stride_median_shift():
            old = over_seeds(views, (foot,), inputs, seeds, pairs=())
        old["method"] = "foot, per-stride median shift"
        both = pd.concat([now, old], ignore_index=True)
        out += ["\n## 1. Heel-strike shift: mean v / mean a (default) or median of per-stride v / a\n",
                vr.to_markdown(seed_summary(both)),
                cv_tables(both, (foot, "foot, per-stride median shift"))]
    if "lowpass" in args.experiments:
        inputs = ("cleaned", "cleaned_lowpass", "noisy_cleaned", "noisy_cleaned_lowpass")
        m = over_seeds(views, (foot,), inputs, seeds, pairs=())
        s = seed_summary(m)
        out += ["\n## 2. Events before (cleaned) or after (..._lowpass) the 6 Hz low-pass\n",
                vr.to_markdown(s)]
        # the choice of input, cross-validated: relabel the inputs as two 'methods'
        for noisy in (False, True):
            pre = "noisy_cleaned" if noisy else "cleaned"
            c = m[m["input"].isin((pre, f"{pre}_lowpass"))].copy()
            c["method"] = np.where(c["input"] == pre, foot, "foot after the low-pass")
            c["input"] = pre
            out.append(cv_tables(c, (foot, "foot after the low-pass")))
    if "legs" in args.experiments:
        m = over_seeds(views, (foot,), ("noisy", "noisy_cleaned"), seeds)
        out += ["\n## 3. Both legs together or each view alone (found and spurious)\n",
                vr.to_markdown(seed_summary(m))]
    if "registration" in args.experiments:
        inputs = ("plain", "noisy", "noisy_cleaned")
        base = over_seeds(views, (foot,), inputs, seeds, pairs=())
        reg = evaluate_registered(views, inputs, (0.06, 0.1, 0.15), seeds)
        out += ["\n## 4. Stride registration\n", vr.to_markdown(seed_summary(pd.concat([base, reg])))]
    if "vertex" in args.experiments:
        variants = {f"foot, vertex +/-{w:g} stride": (foot, {"fit_stride": w}) for w in (0.04, 0.12, 0.16, 0.2)}
        m = over_seeds(views, (foot,), ("plain", "noisy"), seeds, variants=variants, pairs=())
        out += ["\n## 5. Vertex parabola half-width (default 0.08 stride)\n", vr.to_markdown(seed_summary(m))]
    if "blend" in args.experiments:
        m = vr.evaluate(views, (foot,), ("plain",), pairs=())
        out += ["\n## 6. Joint estimate with the other leg's partner event (plain, MAE ms)\n",
                vr.to_markdown(blend_table(m))]
    if "legs_offset" in args.experiments:
        m = vr.evaluate(views, (foot,), ("plain",), pairs=())
        out += ["\n## 7. Where the error lies: per leg (plain, ms)\n", vr.to_markdown(leg_offset_table(m)),
                "\nThe labels' double support (heel strike to the other leg's toe off), step to step:\n",
                vr.to_markdown(label_double_support(args.root))]
    if "covariates" in args.experiments:
        plain = [v for v in views if v.rate in ("native", "50hz")]
        m = vr.evaluate(plain, (foot,), ("plain",), pairs=())
        out += ["\n## 8. A leg's offset predicted from the view (plain, MAE ms)\n",
                vr.to_markdown(covariate_table(plain, m))]
    out.append(f"\n({time.perf_counter() - t0:.0f} s)")
    vr.report(out, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
