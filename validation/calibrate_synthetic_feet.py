"""Calibrate the synthetic walker's feet on real walking, and rank the event detectors on both.

Real data: ``../shared/realgait`` (motion-capture walking from several labs projected to
sagittal DLC-layout views with the labs' own gait events; read its README). Only the
overground walking trials are used, at their native rate for the profiles and at 25 Hz for
the detectors, always the camera-facing leg.

1. **Profiles.** Around every true heel strike (HS) and toe off (TO) of the camera-facing
   leg, at stride fractions ``phi`` from the event (the trial's stride time), the heel, toe
   and ankle markers' height above their own floor level (leg lengths: the median
   hip-ankle distance) and forward speed (walking speeds: the hip's mean forward speed),
   the foot pitch (heel-toe line, degrees, 0 flat, toes up positive), the knee flexion
   (hip-knee-ankle, degrees) and the hip's and neck's forward speed. Averaged per lab,
   then over labs (each lab counts once). The synthetic walker's profiles are made the
   same way from its exact world coordinates (200 Hz) around its true events.
2. **Fit.** The walker's foot parameters (``WalkerParams``: foot flat, heel landing, heel
   rise / push-off, toe roll) are least-squares fits of the walker's own curves to the
   real mean profiles; the pelvis surge and trunk sway to the hip's and neck's speeds, the
   footprint to the heel's position relative to the hip at heel strike; the swing's three
   bumps (heel lift, heel lag, pitch) to what the real profiles add to a walker without
   them. The fit is repeated leaving each lab out, to see how much the parameters move, and
   on the walker's own profiles (closure).
3. **Detectors.** For seed, zeni, ankle_hip, velocity and foot (the default): heel-strike
   and toe-off mean absolute error and bias (ms) at 25 Hz, each true event matched to the nearest detection
   of its kind within 200 ms; on the real views and on synthetic trial pairs (true
   keypoints and raw DLC-like predictions). Real: every labelled event of the camera-facing
   leg; synthetic: true events with the foot in view, 0.2 s or more from the recording's
   ends.
4. **Figures** (``--images``): the real and synthetic mean profiles around HS and TO.

    .venv/bin/python validation/calibrate_synthetic_feet.py                 # ~1 min
    .venv/bin/python validation/calibrate_synthetic_feet.py --quick         # fewer pairs
    .venv/bin/python validation/calibrate_synthetic_feet.py --images docs/images
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from napari_gaitint.core.events import detect_events
from napari_gaitint.core.io import load_pose
from napari_gaitint.core.orient import orient_pose
from napari_gaitint.core.pose import Pose
from napari_gaitint.synthetic.trial import generate_trial
from napari_gaitint.synthetic.walker import Walker, WalkerParams, _bump, draw_walker_params

REPO = Path(__file__).resolve().parents[1]
REALGAIT = REPO.parent / "shared" / "realgait"
PARTS = ("neck", "hip", "knee", "ankle", "heel", "toe")
METHODS = ("seed", "zeni", "ankle_hip", "velocity", "foot")
EVENTS = {"Foot Strike": "HS", "Foot Off": "TO", "heel_strike": "HS", "toe_off": "TO"}
#: Stride fractions of the profiles (0 = the event).
PHI = np.round(np.arange(-0.45, 0.4501, 0.01), 2)
#: Speeds are central differences over +/- this many seconds.
HALF_STEP_S = 0.01
#: Synthetic profiles: world coordinates sampled at this rate.
SYNTH_FPS = 200.0


# ---------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class Track:
    """One leg's keypoints in gait coordinates (x forward, y up; any length unit), its true
    events (``event`` HS/TO, ``time_s``) and the walk's stride time and lab."""

    name: str
    lab: str
    fps: float
    xy: dict[str, np.ndarray]
    events: pd.DataFrame
    stride_s: float


def _stride_time_s(events_all: pd.DataFrame) -> float:
    """Median stride time of a trial from its labelled events (both legs): same-leg
    intervals, else twice the intervals between alternating legs."""
    same = []
    for _, g in events_all.groupby(["side", "event"]):
        same += list(np.diff(np.sort(g.time_s.to_numpy())))
    same = [d for d in same if 0.6 < d < 2.0]
    if same:
        return float(np.median(same))
    alt = []
    for _, g in events_all.groupby("event"):
        g = g.sort_values("time_s")
        t, side = g.time_s.to_numpy(), g.side.to_numpy()
        alt += [2 * (t[i + 1] - t[i]) for i in range(len(t) - 1) if side[i] != side[i + 1]]
    return float(np.median(alt))


def _lab(info: dict) -> str:
    return info["lab_system"].split(":")[0].strip()


def real_trials(root: Path = REALGAIT, groups=("walk_overground",)):
    """``(trial_dir, info, meta)`` of the real trials in ``groups``."""
    gait = Path(root) / "gait"
    if not gait.is_dir():
        raise SystemExit(f"{gait}: real walking data not found (give --realgait)")
    for tdir in sorted(p for p in gait.iterdir() if p.is_dir()):
        info = json.loads((tdir / "trial_info.json").read_text())
        if info["group"] in groups:
            yield tdir, info, json.loads((tdir / "dlc" / "dlc_meta.json").read_text())


def load_real_tracks(root: Path = REALGAIT) -> list[Track]:
    """The camera-facing leg of every view of the overground trials, native rate."""
    tracks = []
    for tdir, info, meta in real_trials(root):
        stride = _stride_time_s(pd.read_csv(tdir / "events_all.csv"))
        for view in ("left_view", "right_view"):
            vm = meta["views"][view]
            df = pd.read_csv(tdir / "dlc" / f"{tdir.name}_{view}_native.csv", header=[0, 1, 2], index_col=0)
            df.columns = df.columns.droplevel(0)
            sign = -1.0 if vm["direction_in_image"] == "right_to_left" else 1.0
            xy = {b: np.stack([sign * df[b]["x"].to_numpy(), -df[b]["y"].to_numpy()], axis=-1) for b in PARTS}
            ev = pd.read_csv(tdir / "dlc" / f"{tdir.name}_{view}_events.csv")
            ev = ev[ev.this_leg]
            tracks.append(Track(
                name=f"{tdir.name}:{view}", lab=_lab(info), fps=float(vm["files"]["native"]["fps"]), xy=xy,
                events=pd.DataFrame({"event": ev.event.map(EVENTS).to_numpy(), "time_s": ev.time_s.to_numpy()}),
                stride_s=stride))
    return tracks


def synthetic_tracks(n_walks: int = 12, seed: int = 0, overrides: dict | None = None,
                     duration_s: float = 14.0) -> list[Track]:
    """Both legs of ``n_walks`` synthetic walks in world metres (each walk its own drawn
    parameters, with ``overrides``), sampled at :data:`SYNTH_FPS`."""
    tracks = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_walks)):
        rng = np.random.default_rng(child)
        p = dataclasses.replace(draw_walker_params(rng), **(overrides or {}))
        walker = Walker(rng, p, t_start_s=0.0, t_end_s=duration_s)
        t = np.arange(0.0, duration_s, 1.0 / SYNTH_FPS)
        world = walker.world(t)
        ev = walker.events
        ev = ev[(ev.time_s > 1.0) & (ev.time_s < duration_s - 1.0)]
        for side in ("left", "right"):
            xy = {b: world[b] if b in ("neck", "hip") else world[f"{side}_{b}"] for b in PARTS}
            e = ev[ev.side == side]
            tracks.append(Track(
                name=f"walk{i}:{side}", lab="synthetic", fps=SYNTH_FPS, xy=xy,
                events=pd.DataFrame({"event": e.event.map(EVENTS).to_numpy(), "time_s": e.time_s.to_numpy()}),
                stride_s=p.stride_time_s))
    return tracks


# ---------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------
def _speed(x: np.ndarray, fps: float) -> np.ndarray:
    k = max(1, int(round(HALF_STEP_S * fps)))
    v = np.full(x.shape, np.nan)
    v[k:-k] = (x[2 * k:] - x[:-2 * k]) / (2 * k / fps)
    return v


def track_signals(tr: Track) -> dict[str, np.ndarray]:
    """Per-frame signals of one track (see the module docstring for the units)."""
    xy = tr.xy
    leg = float(np.nanmedian(np.linalg.norm(xy["hip"] - xy["ankle"], axis=1)))
    t = np.arange(len(xy["hip"])) / tr.fps
    walk = np.polyfit(t, xy["hip"][:, 0], 1)[0]
    out = {}
    for b in ("heel", "toe", "ankle"):
        y = xy[b][:, 1]
        out[f"{b}_h"] = (y - np.nanpercentile(y, 3)) / leg
        out[f"{b}_v"] = _speed(xy[b][:, 0], tr.fps) / walk
    for b in ("hip", "neck"):
        out[f"{b}_v"] = _speed(xy[b][:, 0], tr.fps) / walk
    out["hip_h"] = (xy["hip"][:, 1] - np.nanpercentile(xy["hip"][:, 1], 3)) / leg
    out["heel_hip"] = (xy["heel"][:, 0] - xy["hip"][:, 0]) / leg
    d = xy["toe"] - xy["heel"]
    pitch = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
    # 0 = the foot flat: the median pitch while both markers are near their floor level
    flat = (out["heel_h"] < 0.01) & (out["toe_h"] < 0.01)
    out["pitch"] = pitch - (np.median(pitch[flat]) if flat.sum() >= 3 else np.median(pitch))
    thigh, shank = xy["knee"] - xy["hip"], xy["ankle"] - xy["knee"]
    shank_deg = np.degrees(np.arctan2(shank[:, 0], -shank[:, 1]))  # knee ahead of the ankle: < 0
    out["knee"] = np.degrees(np.arctan2(thigh[:, 0], -thigh[:, 1])) - shank_deg
    # ankle dorsiflexion: the shank's forward tilt plus the foot's pitch (0 standing)
    out["ankle"] = out["pitch"] - shank_deg
    out["ankle"] -= np.median(out["ankle"][flat]) if flat.sum() >= 3 else 0.0
    return out


def event_profiles(tracks: list[Track], phi: np.ndarray = PHI) -> pd.DataFrame:
    """Long table ``lab, track, event, time_s, signal, phi, value`` around every true event."""
    rows = []
    for tr in tracks:
        sig = track_signals(tr)
        t = np.arange(len(tr.xy["hip"])) / tr.fps
        margin = (max(1, int(round(HALF_STEP_S * tr.fps))) + 0.5) / tr.fps
        for ev, te in zip(tr.events.event, tr.events.time_s, strict=True):
            ts = te + phi * tr.stride_s
            inside = (ts >= t[0] + margin) & (ts <= t[-1] - margin)
            for name, s in sig.items():
                val = np.interp(ts, t, s)
                val[~inside] = np.nan
                rows.append(pd.DataFrame({"lab": tr.lab, "track": tr.name, "event": ev, "time_s": te,
                                          "signal": name, "phi": phi, "value": val}))
    return pd.concat(rows, ignore_index=True)


def mean_profiles(long: pd.DataFrame, exclude_lab: str | None = None) -> dict[str, pd.DataFrame]:
    """``{"HS": table, "TO": table}``, index ``phi``, a column per signal: the mean per lab,
    then over labs (``exclude_lab`` left out)."""
    df = long if exclude_lab is None else long[long.lab != exclude_lab]
    per_lab = df.groupby(["event", "signal", "phi", "lab"]).value.mean()
    m = per_lab.groupby(["event", "signal", "phi"]).mean()
    return {ev: m[ev].unstack("signal") for ev in ("HS", "TO")}


# ---------------------------------------------------------------------------------------
# Fit
# ---------------------------------------------------------------------------------------
def _window(prof: pd.DataFrame, lo: float, hi: float, col: str):
    p = prof.index.to_numpy()
    sel = (p >= lo - 1e-9) & (p <= hi + 1e-9) & np.isfinite(prof[col].to_numpy())
    return p[sel], prof[col].to_numpy()[sel]


def fit_foot(prof: dict[str, pd.DataFrame], *, leg_m: float) -> dict[str, float]:
    """Walker foot parameters fitted to mean profiles (``leg_m``: the walker's hip-ankle
    length, to turn the toe rise from leg lengths to metres)."""
    hs, to = prof["HS"], prof["TO"]
    out = {}
    # loading: pitch = hs_pitch * (1 - phi / foot_flat)**2 until foot flat
    x, y = _window(hs, 0.0, 0.2, "pitch")
    r = least_squares(lambda a: a[0] * np.clip(1 - x / a[1], 0, None) ** 2 - y, [15.0, 0.12],
                      bounds=([0, 0.03], [40, 0.4]))
    out["hs_pitch_deg"], out["foot_flat"] = r.x
    # heel landing: speed v_hs * (1 - phi / settle)**2 after the strike ...
    x, y = _window(hs, 0.0, 0.2, "heel_v")
    r = least_squares(lambda a: a[0] * np.clip(1 - x / a[1], 0, None) ** 2 - y, [0.3, 0.1],
                      bounds=([0, 0.02], [2, 0.4]))
    out["heel_strike_speed"], out["heel_settle"] = r.x
    # ... and its deceleration just before it (a line through the last 20 ms of a stride)
    x, y = _window(hs, -0.02, 0.0, "heel_v")
    out["heel_strike_decel"] = -np.polyfit(x, y, 1)[0]
    # push-off: a Richards curve through the late-stance pitch (and just after toe off)
    x, y = _window(to, -0.45, 0.03, "pitch")

    def richards(a):
        amp, c, tau, nu = a
        return amp * (1 + nu * np.exp(-(x - c) / tau)) ** (-1 / nu) - y

    r = least_squares(richards, [-65.0, -0.03, 0.015, 6.0],
                      bounds=([-120, -0.3, 0.003, 0.3], [-20, 0.2, 0.2, 40]))
    amp, c, tau, nu = r.x
    out["push_off_pitch_deg"], out["push_off_tau"], out["heel_rise_tau"] = amp, tau, nu * tau
    out["to_pitch_deg"] = amp * (1 + nu * math.exp(c / tau)) ** (-1 / nu)
    # toe roll: forward speed v_to * w**2 and rise H * w**2, w = (phi + roll) / roll
    x, yv = _window(to, -0.2, 0.0, "toe_v")
    _, yh = _window(to, -0.2, 0.0, "toe_h")
    yh = yh - yh[0]

    def roll(a):
        v, rl, h = a
        w = np.clip((x + rl) / rl, 0, 1)
        return np.concatenate([v * w**2 - yv, (h * w**2 - yh) / 0.02])  # height ~ 1/50 of speed

    r = least_squares(roll, [0.9, 0.08, 0.015], bounds=([0, 0.02, 0], [3, 0.3, 0.1]))
    out["toe_off_speed"], out["toe_roll"] = r.x[:2]
    out["toe_rise_m"] = r.x[2] * leg_m
    return out


def fit_body(prof: dict[str, pd.DataFrame], foot: dict[str, float], *, leg_m: float, stride_m: float,
             trunk_m: float) -> dict[str, float]:
    """Pelvis surge and trunk sway fitted to the hip's and neck's forward speed around HS
    (``1 + a cos(4 pi (phi - peak))``, two steps a stride), and where the heel lands
    relative to the hip."""
    out = {}
    x, yh = _window(prof["HS"], -0.45, 0.45, "hip_v")
    _, yn = _window(prof["HS"], -0.45, 0.45, "neck_v")

    def wave(y):
        r = least_squares(lambda a: a[0] + a[1] * np.cos(4 * np.pi * (x - a[2])) - y, [1.0, 0.1, 0.0],
                          bounds=([0.5, 0.0, -0.25], [1.5, 1.0, 0.25]))
        return r.x[1], r.x[2]

    a_hip, peak_hip = wave(yh)
    a_rel, peak_rel = wave(yn - yh + 1.0)
    # pelvis x = v t + s sin(4 pi (phase - peak)): speed amplitude 4 pi s / T = a v
    out["pelvis_surge_m"] = a_hip * stride_m / (4 * np.pi)
    out["pelvis_surge_peak"] = peak_hip
    # neck - hip = trunk sin(lean): speed amplitude trunk 4 pi sway / T = a v
    out["trunk_sway_deg"] = math.degrees(a_rel * stride_m / (4 * np.pi * trunk_m))
    out["trunk_sway_peak"] = peak_rel
    # footprint (heel at rest) ahead of the hip at heel strike, per metre of stride
    heel_hip = float(np.interp(0.0, prof["HS"].index, prof["HS"]["heel_hip"])) * leg_m
    slide = foot["heel_strike_speed"] * foot["heel_settle"] / 3.0 * stride_m
    surge = out["pelvis_surge_m"] * math.sin(-4 * np.pi * peak_hip)
    out["heel_ahead_m"] = (heel_hip + slide + surge) / stride_m
    return out


#: Swing bumps: walker parameters of the amplitude and of the peak, and the signal each is
#: fitted to (the heel lag to the heel's forward speed: free of position offsets).
_SWING = (("swing_heel_lift_m", "swing_heel_lift_peak", "heel_h"),
          ("swing_heel_lag_m", "swing_heel_lag_peak", "heel_v"),
          ("swing_pitch_deg", "swing_pitch_peak", "pitch"))


def _bump_slope(s, peak, h=1e-5):
    return (_bump(np.clip(s + h, 0, 1), peak) - _bump(np.clip(s - h, 0, 1), peak)) / (2 * h)


def fit_swing(prof: dict[str, pd.DataFrame], fitted: dict[str, float], *, leg_m: float, stride_m: float,
              n_walks: int = 6) -> dict[str, float]:
    """The swing bumps (:func:`~napari_gaitint.synthetic.walker._bump`, in swing fractions):
    walkers with everything else ``fitted`` and no bumps are simulated, and each bump is
    fitted to what the real profile adds over the swing (TO to TO + 1 - duty): heel height
    (leg lengths), foot pitch (deg), and the heel's forward speed (walking speeds) for the
    heel lag (the bump's slope: -lag / stride length / swing). Within ~0.1 stride of toe off
    and heel strike the residuals weigh more (the event detectors work there)."""
    base = {**fitted, **{amp: 0.0 for amp, *_ in _SWING}}
    synth = mean_profiles(event_profiles(synthetic_tracks(n_walks, overrides=base)))
    swing = 1.0 - float(fitted.get("duty", WalkerParams().duty))
    # swing fractions 0..1: the first half from the profiles around toe off, the second
    # half from those around heel strike (each part aligned on its nearest event)
    ss = np.round(np.arange(0.0, 1.0001, 0.02), 2)
    phi_to, phi_hs = ss * swing, (ss - 1.0) * swing
    first = ss < 0.5

    def on_swing(p, col):
        return np.where(first, np.interp(phi_to, p["TO"].index, p["TO"][col]),
                        np.interp(phi_hs, p["HS"].index, p["HS"][col]))

    # the detectors time events within ~0.1 stride of them: weigh those parts 5 times more
    w = 1.0 + 4.0 * np.exp(-(np.minimum(ss, 1.0 - ss) * swing / 0.06) ** 2)
    out = {}
    for amp_name, peak_name, col in _SWING:
        resid = on_swing(prof, col) - on_swing(synth, col)
        ok = np.isfinite(resid)
        shape = (lambda u, pk: _bump_slope(u, pk) / swing) if col == "heel_v" else _bump
        amp, out[peak_name] = _fit_bump(ss[ok], resid[ok], w[ok], shape)
        out[amp_name] = {"heel_h": amp * leg_m, "pitch": amp, "heel_v": -amp * stride_m}[col]
    return out


def _fit_bump(ss, resid, weight, shape) -> tuple[float, float]:
    """Weighted least squares of ``amp * shape(ss, peak)`` to ``resid``: ``(amp, peak)``."""
    r = least_squares(lambda a: weight * (a[0] * shape(ss, a[1]) - resid), [0.0, 0.4],
                      bounds=([-np.inf, 0.1], [np.inf, 0.9]))
    return float(r.x[0]), float(r.x[1])


def fit_walker(prof: dict[str, pd.DataFrame], *, swing_walks: int = 6) -> dict[str, float]:
    """Every fitted walker parameter from real mean profiles (see the module docstring)."""
    leg_m, stride_m = walker_scale_lengths()
    foot = fit_foot(prof, leg_m=leg_m)
    body = fit_body(prof, foot, leg_m=leg_m, stride_m=stride_m, trunk_m=WalkerParams().trunk_m)
    fitted = {**foot, **body}
    if swing_walks:
        fitted.update(fit_swing(prof, fitted, leg_m=leg_m, stride_m=stride_m, n_walks=swing_walks))
    return fitted


def walker_scale_lengths() -> tuple[float, float]:
    """The default walker's median hip-ankle distance and stride length (m)."""
    p = WalkerParams()
    walker = Walker(np.random.default_rng(0), p, t_start_s=0.0, t_end_s=6.0)
    w = walker.world(np.arange(1.0, 5.0, 0.005))
    return float(np.median(np.linalg.norm(w["hip"] - w["left_ankle"], axis=1))), p.speed_mps * p.stride_time_s


def _first(x: np.ndarray, cond: np.ndarray) -> float:
    idx = np.flatnonzero(cond)
    return float(x[idx[0]]) if idx.size else np.nan


def profile_features(prof: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Landmarks of mean profiles (stride % from the event; speeds in walking speeds;
    heights in leg lengths above the marker's level at foot flat / before the roll)."""
    hs, to = prof["HS"], prof["TO"]
    x = hs.index.to_numpy()

    def at(df, col, phi):
        return float(np.interp(phi, df.index, df[col]))

    after = x > 0
    toe_flat = at(to, "toe_h", -0.2)
    xt = to.index.to_numpy()
    swing_mid = (xt >= 0.1) & (xt <= 0.3)
    return {
        "HS: foot pitch (deg)": at(hs, "pitch", 0),
        "HS: peak pitch before it (deg)": hs.pitch[(x >= -0.15) & (x <= 0)].max(),
        "HS: heel forward speed": at(hs, "heel_v", 0),
        "heel at rest (< 0.05), % after HS": 100 * _first(x, after & (hs.heel_v.to_numpy() < 0.05)),
        "foot flat (pitch < 1 deg), % after HS": 100 * _first(x, after & (hs.pitch.to_numpy() < 1.0)),
        "heel 1 cm up, % before TO": 100 * _first(xt, (xt < 0) & (to.heel_h.to_numpy() > to.heel_h[xt <= -0.35].min() + 0.012)),
        "toe starts rolling (> 0.05), % before TO": 100 * _first(xt, (xt > -0.3) & (to.toe_v.to_numpy() > 0.05)),
        "TO: toe forward speed": at(to, "toe_v", 0),
        "TO: toe height above flat (leg)": at(to, "toe_h", 0) - toe_flat,
        "TO: heel forward speed": at(to, "heel_v", 0),
        "TO: ankle forward speed": at(to, "ankle_v", 0),
        "TO: foot pitch (deg)": at(to, "pitch", 0),
        "swing: lowest pitch (deg)": to.pitch[(xt >= 0) & (xt <= 0.15)].min(),
        "swing: heel peak height (leg)": to.heel_h[(xt >= 0) & (xt <= 0.3)].max(),
        "swing: toe clearance mid-swing (leg)": to.toe_h[swing_mid].min() - toe_flat,
        "swing: peak forward speed heel / toe": f"{to.heel_v.max():.2f} / {to.toe_v.max():.2f}",
        "knee at HS / loading peak (deg)": f"{at(hs, 'knee', 0):.0f} / {hs.knee[(x >= 0) & (x <= 0.25)].max():.0f}",
        "knee mid-stance min / at TO / swing peak (deg)": (
            f"{to.knee[(xt >= -0.35) & (xt <= -0.1)].min():.0f} / {at(to, 'knee', 0):.0f} / {to.knee.max():.0f}"),
        "ankle at HS / stance max / at TO (deg)": (
            f"{at(hs, 'ankle', 0):.0f} / {to.ankle[(xt >= -0.35) & (xt <= 0)].max():.0f} / {at(to, 'ankle', 0):.0f}"),
        "hip speed max / min, phase of max (% after HS)": (
            f"{hs.hip_v.max():.2f} / {hs.hip_v.min():.2f}, {100 * x[np.argmax(hs.hip_v.to_numpy() * (np.abs(x) < 0.25))]:.0f}"),
        "hip vertical range (leg)": hs.hip_h.max() - hs.hip_h.min(),
    }


def features_table(real: pd.DataFrame, synth: pd.DataFrame) -> pd.DataFrame:
    """Real (mean of labs; range of the labs' own values) against the walker."""
    labs = {lab: profile_features(mean_profiles(real[real.lab == lab])) for lab in sorted(real.lab.unique())}
    r, sy = profile_features(mean_profiles(real)), profile_features(mean_profiles(synth))
    rows = []
    for k in r:
        vals = [labs[lab][k] for lab in labs]
        num = [v for v in vals if isinstance(v, float) and np.isfinite(v)]
        rng = f"{min(num):.2f} to {max(num):.2f}" if num and isinstance(r[k], float) else ""
        fmt = (lambda v: f"{v:.2f}") if isinstance(r[k], float) else str
        rows.append({"landmark": k, "real (mean of labs)": fmt(r[k]), "labs": rng, "walker": fmt(sy[k])})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Detectors
# ---------------------------------------------------------------------------------------
def _match(detected: pd.DataFrame, truth: pd.DataFrame, window_s: float = 0.2) -> list[tuple]:
    """``(event, error_s)`` per true event: nearest detection of its kind (NaN: none within
    ``window_s``)."""
    out = []
    for ev, te in zip(truth.event, truth.time_s, strict=True):
        d = detected.time_s[detected.event == ev].to_numpy()
        err = np.nan
        if d.size:
            j = int(np.argmin(np.abs(d - te)))
            err = d[j] - te if abs(d[j] - te) <= window_s else np.nan
        out.append((EVENTS[ev], err))
    return out


def _detect_all(pose: Pose, side: str, truth: pd.DataFrame, **keys) -> list[dict]:
    rows = []
    oriented = orient_pose(pose)
    for method in METHODS:
        try:
            ev = detect_events(oriented, side=side, method=method)
        except Exception:  # a detector that finds nothing misses every event
            ev = pd.DataFrame({"event": [], "time_s": []})
        for event, err in _match(ev, truth):
            rows.append({**keys, "method": method, "event": event, "error_s": err})
    return rows


def detect_real(root: Path = REALGAIT, rate: str = "25hz") -> pd.DataFrame:
    """Errors of every method on the real views at ``rate`` (one row per true event)."""
    rows = []
    for tdir, info, meta in real_trials(root):
        for view in ("left_view", "right_view"):
            fps = float(meta["views"][view]["files"][rate]["fps"])
            pose = load_pose(tdir / "dlc" / f"{tdir.name}_{view}_{rate}.csv", fps=fps)
            pose = pose.replace(frame_size=tuple(meta["frame_size"]))
            truth = pd.read_csv(tdir / "dlc" / f"{tdir.name}_{view}_events.csv")
            truth = truth[truth.this_leg].rename(columns={"event": "ev"})
            truth = pd.DataFrame({"event": truth.ev.map({"Foot Strike": "heel_strike",
                                                         "Foot Off": "toe_off"}), "time_s": truth.time_s})
            rows += _detect_all(pose, view.split("_")[0], truth, input="real", lab=_lab(info),
                                trial=tdir.name)
    return pd.DataFrame(rows)


def detect_synthetic(n_pairs: int = 50, seed: int = 0, fps: float = 25.0) -> pd.DataFrame:
    """Errors of every method on ``n_pairs`` synthetic trial pairs (true keypoints and raw
    predictions), events with the foot in view and >= 0.2 s from the ends."""
    rows = []
    for k in range(n_pairs):
        trial = generate_trial(seed * 1000 + k, trial=f"P{k:03d}", fps=fps)
        for name, view in trial.views.items():
            ev = view.events
            ev = ev[ev.in_view & (ev.time_s >= 0.2) & (ev.time_s <= view.n_frames / fps - 0.2)]
            truth = ev[["event", "time_s"]]
            for src, pose in (("true", view.true_pose), ("raw", view.pose)):
                rows += _detect_all(pose, view.side, truth, input=src, lab="synthetic", trial=f"{k}{name}")
    return pd.DataFrame(rows)


def summarise(errors: pd.DataFrame) -> pd.DataFrame:
    """Per input, method and event: n, found, MAE and bias (ms)."""
    g = errors.groupby(["input", "method", "event"], sort=False).error_s
    out = pd.DataFrame({"n": g.size(), "found": g.count(), "mae_ms": g.apply(lambda e: 1000 * e.abs().mean()),
                        "bias_ms": 1000 * g.mean()}).reset_index()
    return out


def ranking_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per input and method: HS and TO MAE / bias (ms), rank of each (1 = best; equal
    MAEs share the better rank: ``foot`` times toe off as ``zeni`` does)."""
    wide = summary.pivot_table(index=["input", "method"], columns="event", values=["mae_ms", "bias_ms", "found", "n"])
    rows = []
    for (src, method), r in wide.iterrows():
        rows.append({"input": src, "method": method,
                     "HS MAE": r[("mae_ms", "HS")], "HS bias": r[("bias_ms", "HS")],
                     "TO MAE": r[("mae_ms", "TO")], "TO bias": r[("bias_ms", "TO")],
                     "found": f"{int(r[('found', 'HS')] + r[('found', 'TO')])}/{int(r[('n', 'HS')] + r[('n', 'TO')])}"})
    df = pd.DataFrame(rows)
    for ev in ("HS", "TO"):
        df[f"{ev} rank"] = df.groupby("input")[f"{ev} MAE"].rank(method="min").astype(int)
    order = {m: i for i, m in enumerate(METHODS)}
    return df.sort_values(["input", "method"], key=lambda s: s.map(order) if s.name == "method" else s)


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------
_PANELS = (
    ("heel_h", "heel height (leg lengths)"), ("toe_h", "toe height (leg lengths)"),
    ("pitch", "foot pitch (deg, toes up +)"), ("knee", "knee flexion (deg)"),
    ("hip_h", "hip height (leg lengths)"),
    ("heel_v", "heel forward speed (walking speeds)"), ("toe_v", "toe forward speed (walking speeds)"),
    ("ankle_v", "ankle forward speed (walking speeds)"), ("ankle", "ankle dorsiflexion (deg)"),
    ("hip_v", "hip / neck forward speed (walking speeds)"),
)


def plot_profiles(real: dict[str, pd.DataFrame], synth: dict[str, pd.DataFrame], out_dir: Path,
                  real_labs: pd.DataFrame | None = None) -> list[Path]:
    """One figure per event: real (black; thin grey: each lab) against synthetic (red)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ev, title in (("HS", "heel strike"), ("TO", "toe off")):
        fig, axes = plt.subplots(2, 5, figsize=(18, 6.6), sharex=True)
        for ax, (col, label) in zip(axes.ravel(), _PANELS, strict=True):
            if real_labs is not None:
                for _, g in real_labs[(real_labs.event == ev) & (real_labs.signal == col)].groupby("lab"):
                    ax.plot(g.phi, g.value, color="0.8", lw=0.7)
            ax.plot(real[ev].index, real[ev][col], color="k", lw=2, label="real (mean of labs)")
            ax.plot(synth[ev].index, synth[ev][col], color="tab:red", lw=1.6, label="synthetic walker")
            if col == "hip_v":
                ax.plot(real[ev].index, real[ev]["neck_v"], color="k", lw=1.2, ls="--", label="real neck")
                ax.plot(synth[ev].index, synth[ev]["neck_v"], color="tab:red", lw=1.0, ls="--",
                        label="synthetic neck")
            ax.axvline(0, color="tab:blue", lw=0.8)
            ax.set_title(label, fontsize=10)
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel(f"stride fraction from {title}")
        axes[0, 0].legend(fontsize=8, loc="upper right")
        axes[1, 4].legend(fontsize=8, loc="lower left")
        fig.suptitle(f"Foot and body around {title}: real walking (../shared/realgait, overground) vs the "
                     "synthetic walker", fontsize=11)
        fig.tight_layout()
        path = out_dir / f"synthetic_feet_{ev.lower()}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------
def _markdown(df: pd.DataFrame, floatfmt: str = "{:.1f}") -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [floatfmt.format(v) if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--realgait", type=Path, default=REALGAIT, help="the realgait folder (../shared/realgait)")
    ap.add_argument("--pairs", type=int, default=50, help="synthetic trial pairs for the detectors (50)")
    ap.add_argument("--walks", type=int, default=12, help="synthetic walks for the profiles (12)")
    ap.add_argument("--quick", action="store_true", help="10 pairs, 4 walks")
    ap.add_argument("--images", type=Path, default=None, help="write the profile figures here")
    args = ap.parse_args(argv)
    if args.quick:
        args.pairs, args.walks = 10, 4
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 200)
    t0 = time.perf_counter()

    real = event_profiles(load_real_tracks(args.realgait))
    synth = event_profiles(synthetic_tracks(args.walks))
    labs = sorted(real.lab.unique())
    p0 = WalkerParams()
    fits = {"all labs": fit_walker(mean_profiles(real), swing_walks=args.walks)}
    for lab in labs:
        fits[f"without {lab}"] = fit_walker(mean_profiles(real, exclude_lab=lab), swing_walks=args.walks)
    fits["synthetic (refit)"] = fit_walker(mean_profiles(synth), swing_walks=0)
    table = pd.DataFrame(fits).T
    lolo = table.loc[[f"without {lab}" for lab in labs]]
    summary = pd.DataFrame({"walker": pd.Series({k: getattr(p0, k) for k in table.columns}),
                            "real, all labs": table.loc["all labs"],
                            "leave-one-lab-out min": lolo.min(), "max": lolo.max(), "sd": lolo.std(),
                            "refit on synthetic": table.loc["synthetic (refit)"]})
    print(f"Real: {real.track.nunique()} legs, {real.groupby('event').time_s.nunique().to_dict()} events, "
          f"{len(labs)} labs ({', '.join(labs)})")
    print("\nFitted parameters (walker default, real fit, leave-one-lab-out range, refit on the walker):")
    print(summary.to_string(float_format=lambda v: f"{v:.3f}"))

    print("\nProfile landmarks (real: mean profile of the labs; labs: each lab's own; walker):")
    print(_markdown(features_table(real, synth)))

    errs = pd.concat([detect_real(args.realgait), detect_synthetic(args.pairs)], ignore_index=True)
    rank = ranking_table(summarise(errs))
    print(f"\nEvent detectors at 25 Hz (MAE / bias ms; nearest detection within 200 ms; {args.pairs} synthetic pairs):")
    print(_markdown(rank))
    if args.images:
        labs_mean = real.groupby(["event", "signal", "phi", "lab"]).value.mean().reset_index()
        for path in plot_profiles(mean_profiles(real), mean_profiles(synth), args.images, labs_mean):
            print(f"wrote {path}")
    print(f"\n{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
