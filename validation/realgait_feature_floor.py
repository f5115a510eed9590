"""How close can any foot-kinematics rule come to the realgait labels? (native rate, plain)

For every labelled event of the camera-facing leg (walk_overground, not within 0.2 s of the
ends) this times the classic kinematic features in a +/-0.3 s window around the label, on the
noise-free views at the native rate (so neither noise nor sampling limits them):

* heel strike: Zeni's heel maximum (heel x - hip x), the heel's forward velocity falling to
  5-50 % of its swing peak (a velocity threshold, Ghoussayni-like), the heel's height falling
  to 2-20 % of its range above the floor, the foot centre's vertical velocity minimum
  (O'Connor's foot velocity algorithm), the heel's vertical acceleration maximum
  (Hreljac-Marshall);
* toe off: Zeni's toe minimum, the toe's forward velocity rising above 5-50 % of its swing
  peak, the toe's height rising above 2-30 % of its range, the foot centre's vertical
  velocity maximum, the toe's horizontal acceleration maximum (Hreljac-Marshall).

Printed per feature: bias, MAE, and MAE after removing the feature's own mean bias
(in-sample: a lower bound for any rule built on that feature with one fitted offset), the
spread of the per-lab mean errors, and how the errors of the best features correlate. The
bias-free MAE does not go below ~14 ms (HS) / ~10 ms (TO) for any feature, and the best
features' errors correlate strongly: most of what is left is in the labels' timing (lab
conventions, force thresholds), not in the rule.

    .venv/bin/python validation/realgait_feature_floor.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_real_events import DEFAULT_ROOT, load_realgait  # noqa: E402

from napari_gaitint.core.orient import orient_pose  # noqa: E402


def _crossing(t, s, level, start, stop, step):
    """First time from index ``start`` toward ``stop`` (``step`` +1/-1) where ``s`` falls
    through ``level`` (linear interpolation)."""
    for i in range(start, stop - step, step):
        a, b = s[i], s[i + step]
        if a > level >= b:
            return t[i] + (t[i + step] - t[i]) * (a - level) / (a - b)
    return np.nan


def feature_times(view) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = orient_pose(view.pose)
    fps, n = view.fps, view.pose.n_frames
    t = np.arange(n) / fps
    p = {bp: o.bodypart(bp)[:, :2] for bp in ("hip", "heel", "toe")}
    g = lambda s: np.gradient(s, t)  # noqa: E731
    hx, hy, tx, ty = p["heel"][:, 0], p["heel"][:, 1], p["toe"][:, 0], p["toe"][:, 1]
    hvx, hvy, tvx = g(hx), g(hy), g(tx)
    cvy = g((hy + ty) / 2)
    hay, tax = g(hvy), g(tvx)
    hfloor, tfloor = np.percentile(hy, 2), np.percentile(ty, 2)
    hamp, tamp = np.percentile(hy, 98) - hfloor, np.percentile(ty, 98) - tfloor
    hpeak, tpeak = np.percentile(hvx, 95), np.percentile(tvx, 95)
    rows = []
    for e in view.truth[~view.truth["optional"]].itertuples(index=False):
        c = int(round(e.time_s * fps))
        i0, i1 = max(0, int((e.time_s - 0.3) * fps)), min(n, int((e.time_s + 0.3) * fps) + 1)
        w = slice(i0, i1)
        d = {"trial": view.trial, "lab": view.lab, "event": e.event, "label_s": e.time_s}
        if e.event == "heel_strike":
            d["zeni"] = t[i0 + np.argmax((hx - p["hip"][:, 0])[w])]
            ipk = i0 + int(np.argmax(hvx[i0 : c + 1])) if c + 1 > i0 else i0
            for f in (0.05, 0.1, 0.2, 0.3, 0.5):
                d[f"heel velocity {f:.0%} of swing"] = _crossing(t, hvx, f * hpeak, ipk, i1, 1)
            ihi = i0 + int(np.argmax(hy[i0 : c + 1]))
            for f in (0.02, 0.05, 0.1, 0.2):
                d[f"heel height {f:.0%} of range"] = _crossing(t, hy - hfloor, f * hamp, ihi, i1, 1)
            d["foot centre vertical velocity min (O'Connor)"] = t[i0 + np.argmin(cvy[w])]
            d["heel vertical acceleration max (Hreljac)"] = t[i0 + np.argmax(hay[w])]
        else:
            d["zeni"] = t[i0 + np.argmin((tx - p["hip"][:, 0])[w])]
            ipk = c + int(np.argmax(tvx[c:i1]))
            for f in (0.05, 0.1, 0.2, 0.3, 0.5):
                d[f"toe velocity {f:.0%} of swing"] = _crossing(t, tvx, f * tpeak, ipk, i0 - 1, -1)
            ihi = c + int(np.argmax(ty[c:i1]))
            for f in (0.02, 0.05, 0.1, 0.2, 0.3):
                d[f"toe height {f:.0%} of range"] = _crossing(t, ty - tfloor, f * tamp, ihi, i0 - 1, -1)
            d["foot centre vertical velocity max (O'Connor)"] = t[i0 + np.argmax(cvy[w])]
            d["toe horizontal acceleration max (Hreljac)"] = t[i0 + np.argmax(tax[w])]
        rows.append(d)
    return rows


def main(argv=None) -> int:
    root = Path(argv[0]) if argv else DEFAULT_ROOT
    views = load_realgait(root, rates=("native",), groups=("walk_overground",))
    df = pd.DataFrame([row for v in views for row in feature_times(v)])
    pd.set_option("display.width", 200)
    for event in ("heel_strike", "toe_off"):
        s = df[df["event"] == event].dropna(axis=1, how="all")
        feats = [c for c in s.columns if c not in ("trial", "lab", "event", "label_s")]
        err = pd.DataFrame({f: 1000 * (s[f] - s["label_s"]) for f in feats})
        table = pd.DataFrame({
            "n": err.notna().sum(), "bias_ms": err.mean(), "MAE_ms": err.abs().mean(),
            "MAE_bias_removed_ms": (err - err.mean()).abs().mean(),
            "lab_mean_range_ms": err.groupby(s["lab"]).mean().agg(lambda c: c.max() - c.min()),
        })
        print(f"\n{event} ({len(s)} labelled events, native rate, noise-free views)")
        print(table.round(1).to_string())
        best = table.index[table["MAE_bias_removed_ms"] <= 1.15 * table["MAE_bias_removed_ms"].min()]
        corr = err[best].corr().to_numpy()[np.triu_indices(len(best), 1)]
        print(f"errors of the best features ({', '.join(best)}) correlate "
              f"{np.nanmin(corr):.2f} to {np.nanmax(corr):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
