"""A synthetic two-view walker with exact ground truth (the embedded sample and the tests' truth).

The walker is a 2D sagittal kinematic model in world metres (x forward, y up, ground at
``y = 0``). It is built so that the truth is exact *by construction*:

1. **Gait events first.** Left heel strikes are drawn as a renewal process (stride time
   ~1.0–1.1 s, 2 % variability); right heel strikes sit half a stride later (small jitter).
   Each stride has its own toe-off (~61 %) fraction. Event times are continuous; their
   frames are ``time_s * fps`` (fractional).
2. **Feet**, calibrated on real walking (``../shared/realgait``; the parameters, their
   values and how they were fitted are in ``docs/methods/synthetic.md`` and
   ``validation/calibrate_synthetic_feet.py``). Each foot is a rigid segment with markers
   at the back of the heel, on the metatarsal heads (``toe``) and at the ankle. At heel
   strike the heel touches the floor still sliding forward (~23 % of the walking speed,
   decelerating) and comes to rest ~12 % of the stride later, while the forefoot lowers
   about it until foot flat (~14 %). The heel then rises on a push-off curve (pitch growing
   exponentially, saturating near -68°) with the foot turning about the resting toe
   marker, well before toe off; in the last ~8 % of stance the toe marker rolls forward and
   up over the toes and leaves the floor at toe off at about the walking speed. In swing
   the heel and the pitch follow quintic Hermite curves matching position, velocity and
   acceleration at toe off and at the next heel strike (on its footprint, placed ahead of
   the hip at the moment of heel strike), plus three bumps (heel lift, heel lag, pitch)
   that give the real heel and toe heights and speeds; the toe marker keeps a minimum
   clearance. So the heel is on the floor (not still) at heel strike, and the toe marker
   leaves the floor (moving) exactly at toe off.
3. **Hip.** The pelvis moves forward at a constant speed plus a 1.4 cm oscillation at step
   frequency, fastest just after each heel strike as the real hip (the neck surges less:
   the trunk sways against it). Its height is the smooth (soft) minimum of a nominal curve (highest in
   mid-stance, lowest just after each heel strike) and, for each leg, the height at which
   its knee would flex by a phase-dependent minimum (near straight, bending in pre-swing).
   The soft minimum lies below every limit, so both ankles are always within reach and the
   vertical oscillation (~4–6 cm) is smooth.
4. **Knee** by two-link inverse kinematics (thigh and shank lengths fixed, knee in front).
   Neck above the pelvis with a forward lean and small trunk sway; arms swing opposite to
   the legs (used for rendering and for the near hand occluding the hip marker).

Two synchronised opposite pinhole cameras film it: ``C1`` on the subject's left (sees the
LEFT leg as the near leg; the subject walks right-to-left in its image, direction -1) and
``C3`` on the right (RIGHT leg near, left-to-right, +1). The near leg is closer to the
camera than the far leg (perspective: it looks slightly larger). Each camera may drift a
little per trial (offset and scale). The subject enters and leaves through the frame edges.

DLC-like predictions are made from the projected near-side keypoints: truncated pixel noise
(AR(1), ~1–2 px), beta-distributed likelihoods, low-likelihood dropouts (the near forearm
passing over the hip marker, random short dropouts, points outside the frame) and
wrong-limb errors — the far leg's point labelled instead of the near one — in runs of 1–3
frames at per-body-part rates (knee 0.9 %, ankle 1.2 %, heel 0.8 %, toe 1.6 % of frames),
some of them as the whole leg chain swapping together, with fairly high likelihood
(~0.88 on average, against ~0.97 for good points). An optional systematic bias (pixels
along the walking direction) shifts one view's predictions (all but the neck, which both
views share); the truth is never biased.

**Wrong-limb bookkeeping.** A swap is injected (and recorded in ``wrong_limb``) only where
the far leg's point is *distinguishable*: both points inside the frame, the point not a
dropout, and the near and far true points at least ``min_swap_separation_px`` (15 px)
apart. Prediction noise of non-dropout points is truncated at 6 px, so a recorded
wrong-limb point is always nearer the far leg's true point than the near leg's, and every
other valid point with that separation is nearer the near leg's: the list is exact. Where
the legs overlap (< 15 px) a swap would be invisible and is neither injected nor recorded.
The recorded rates are fractions of the frames in which the near point is inside the frame.

Examples
--------
>>> trial = generate_trial(0)
>>> sorted(trial.views)
['C1', 'C3']
>>> trial.views["C1"].side, trial.views["C1"].direction
('left', -1)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.signal import lfilter

from ._csv import write_csv
from ._files import write_text_atomic
from ._threads import available_cpus
from .errors import InputFileError, OutputExistsError
from .io import LEG_CHAIN, ROLES, Pose, load_pose, pose_to_dlc_table, write_dlc_table
from .orient import rotate_xy

#: DLC-like scorer written into the synthetic prediction files.
SCORER = "DLC_resnet50_gaitintSyntheticshuffle1_100000"
#: Views: name -> (near side, image walking direction).
VIEWS: dict[str, tuple[str, int]] = {"C1": ("left", -1), "C3": ("right", +1)}
#: The seed's wrong-limb rates (fraction of frames) per body part.
WRONG_LIMB_RATES: dict[str, float] = {"knee": 0.009, "ankle": 0.012, "heel": 0.008, "toe": 0.016}
#: Part of those rates that comes from the whole leg chain swapping at once.
CHAIN_SWAP_RATE = 0.003
#: Per-body-part prediction noise (pixels, standard deviation per axis).
NOISE_PX: dict[str, float] = {
    "neck": 1.5, "hip": 2.0, "knee": 1.5, "ankle": 1.2, "heel": 1.2, "toe": 1.5,
}
#: Prediction noise of valid points is truncated at this norm (pixels).
MAX_NOISE_PX = 6.0
EVENTS = ("heel_strike", "toe_off")
_SIDES = ("left", "right")


# ---------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class WalkerParams:
    """Body and gait parameters of one walk (world metres, seconds, degrees).

    Every length is for a body scale of 1 and is multiplied by ``scale``.
    """

    scale: float = 1.0
    speed_mps: float = 1.3
    stride_time_s: float = 1.05
    stride_time_cv: float = 0.02
    duty: float = 0.61
    duty_sd: float = 0.008
    # Foot roll-over (stride fractions from heel strike; speeds in walking speeds), fitted to
    # real walking by validation/calibrate_synthetic_feet.py (see docs/methods/synthetic.md).
    foot_flat: float = 0.145  # the forefoot has lowered (foot pitch 0)
    heel_strike_speed: float = 0.23  # heel marker's forward speed at heel strike ...
    heel_strike_decel: float = 15.0  # ... its deceleration then (walking speeds per stride)
    heel_settle: float = 0.12  # ... and when it is at rest
    heel_off: float = 0.16  # the heel starts to rise (pitch leaves 0) ...
    heel_off_sd: float = 0.015
    heel_rise_tau: float = 0.082  # ... exponentially at first (e-folding time) ...
    push_off_pitch_deg: float = -68.4  # ... toward this pitch ...
    push_off_tau: float = 0.015  # ... which it approaches with this time constant
    toe_roll: float = 0.084  # in the last toe_roll of stance the toe marker rolls over the toes:
    toe_off_speed: float = 0.95  # ... leaving at this forward speed ...
    toe_rise_m: float = 0.013  # ... this much above its flat height
    swing_heel_lift_m: float = 0.034  # swing: the heel lifted this much more ...
    swing_heel_lift_peak: float = 0.21  # ... most at this fraction of the swing
    swing_heel_lag_m: float = 0.05  # swing: the heel this much further back ...
    swing_heel_lag_peak: float = 0.53  # ... most at this fraction of the swing
    swing_pitch_deg: float = -28.5  # swing: the foot pitched this much more (toes up) ...
    swing_pitch_peak: float = 0.6  # ... most at this fraction of the swing
    min_toe_clearance_m: float = 0.01  # ... but less where the toe would pass lower than this
    step_asymmetry_sd_s: float = 0.008
    right_step_share: float = 0.5  # right heel strike at this share of the left stride (0.5: symmetric)
    placement_sd_m: float = 0.012
    thigh_m: float = 0.45
    shank_m: float = 0.44
    trunk_m: float = 0.52
    foot_m: float = 0.21  # heel marker to toe marker
    ankle_in_foot_m: tuple[float, float] = (0.065, 0.04)  # ankle from heel, foot frame
    marker_height_m: float = 0.025  # heel/toe marker height with the foot flat
    heel_ahead_m: float = 0.178  # heel footprint ahead of the hip at heel strike, per metre of stride
    hs_pitch_deg: float = 17.0  # foot toes-up at heel strike
    to_pitch_deg: float = -62.0  # foot toes-down (heel up) at toe off (the push-off curve's value)
    trunk_lean_deg: float = 4.0
    trunk_sway_deg: float = 0.7  # trunk lean oscillation (two a stride) ...
    trunk_sway_peak: float = -0.23  # ... leaning forward fastest at this stride fraction
    pelvis_surge_m: float = 0.014  # pelvis forward oscillation (two a stride) ...
    pelvis_surge_peak: float = 0.017  # ... fastest at this stride fraction after each strike
    hip_drop_m: float = 0.02  # nominal pelvis vertical excursion (before reach limits)
    hip_half_width_m: float = 0.09
    shoulder_half_width_m: float = 0.19
    upper_arm_m: float = 0.29
    forearm_m: float = 0.27
    arm_swing_deg: float = 18.0
    arm_mean_deg: float = 2.0
    elbow_flex_deg: float = 48.0

    def length(self, name: str) -> float:
        """A body length in metres, scaled."""
        return float(getattr(self, name)) * self.scale


def draw_walker_params(rng: np.random.Generator) -> WalkerParams:
    """Per-trial variability: body size, speed, cadence, duty factor, arm swing and how the
    feet land and roll off (about half the spread between the labs of real walking, see
    validation/calibrate_synthetic_feet.py)."""
    scale = float(np.clip(rng.normal(1.0, 0.03), 0.92, 1.08))
    stride_time = float(np.clip(rng.normal(1.04, 0.02) * math.sqrt(scale), 1.0, 1.09))
    # stride length relative to body size (dynamic similarity): ~1.38 m at scale 1
    stride_length = float(np.clip(rng.normal(1.38, 0.025), 1.33, 1.43)) * scale
    return WalkerParams(
        scale=scale,
        speed_mps=stride_length / stride_time,
        stride_time_s=stride_time,
        duty=float(np.clip(rng.normal(0.61, 0.006), 0.595, 0.625)),
        arm_swing_deg=float(rng.uniform(14.0, 22.0)),
        arm_mean_deg=float(rng.uniform(-1.0, 6.0)),
        elbow_flex_deg=float(rng.uniform(38.0, 58.0)),
        trunk_lean_deg=float(rng.uniform(2.0, 6.0)),
        **_draw_feet(rng),
    )


def _draw_feet(rng: np.random.Generator) -> dict[str, float]:
    """Per-walk foot parameters around the defaults (truncated normal draws)."""
    d = WalkerParams()

    def draw(name, sd, lo, hi):
        return float(np.clip(getattr(d, name) + sd * rng.standard_normal(), lo, hi))

    to_pitch = draw("to_pitch_deg", 3.0, -72.0, -52.0)
    return {
        "hs_pitch_deg": draw("hs_pitch_deg", 3.0, 9.0, 25.0),
        "foot_flat": draw("foot_flat", 0.015, 0.11, 0.18),
        "heel_strike_speed": draw("heel_strike_speed", 0.04, 0.13, 0.33),
        "heel_settle": draw("heel_settle", 0.02, 0.07, 0.17),
        "to_pitch_deg": to_pitch,
        "push_off_pitch_deg": to_pitch * d.push_off_pitch_deg / d.to_pitch_deg,
        "toe_off_speed": draw("toe_off_speed", 0.1, 0.7, 1.2),
        "toe_roll": draw("toe_roll", 0.01, 0.06, 0.11),
    }


# ---------------------------------------------------------------------------------------
# The walker (world coordinates)
# ---------------------------------------------------------------------------------------
def _hermite5(s, p0, v0, a0, p1, v1, a1, dur):
    """Quintic Hermite on ``s`` in [0, 1] with end positions, velocities and accelerations
    (per second; ``dur`` seconds from ``s = 0`` to ``s = 1``)."""
    s2, s3, s4, s5 = s * s, s**3, s**4, s**5
    h0 = 1 - 10 * s3 + 15 * s4 - 6 * s5
    h1 = s - 6 * s3 + 8 * s4 - 3 * s5
    h2 = 0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5
    h3 = 0.5 * s3 - s4 + 0.5 * s5
    h4 = -4 * s3 + 7 * s4 - 3 * s5
    h5 = 10 * s3 - 15 * s4 + 6 * s5
    return h0 * p0 + h1 * v0 * dur + h2 * a0 * dur**2 + h3 * a1 * dur**2 + h4 * v1 * dur + h5 * p1


def _bump(s, peak):
    """A bump on ``s`` in [0, 1]: 1 at ``peak``, 0 with zero slope and curvature at both ends
    (``s**a (1 - s)**b``, a, b >= 3), so adding it keeps a curve's end conditions."""
    a = 3.0 * max(1.0, peak / (1.0 - peak))
    b = 3.0 * max(1.0, (1.0 - peak) / peak)
    return (s / peak) ** a * ((1.0 - s) / (1.0 - peak)) ** b


def _rot(theta, v):
    """Rotate the foot-frame vector ``v`` (2,) by angles ``theta`` (n,) -> (n, 2)."""
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([c * v[0] - s * v[1], s * v[0] + c * v[1]], axis=-1)


# Knee flexion (deg) at mid-stance and phase of the lowest pelvis (after each heel strike).
_MIDSTANCE_KNEE = 6.0
_HIP_LOW_PHASE = 0.04
# Softness (m) of the minimum over the pelvis height limits.
_HIP_SOFT_M = 0.006


def _push_off(x, p: WalkerParams):
    """Foot pitch (deg) in late stance, its first and second derivatives (per stride) at
    ``x`` = stride fraction from toe off (<= 0), for a toe-off pitch of ``p.to_pitch_deg``.

    A generalised logistic (Richards) curve: it grows exponentially (e-folding time
    ``heel_rise_tau``) and saturates toward ``push_off_pitch_deg`` (time constant
    ``push_off_tau``), the shape of the heel-toe pitch of real feet before toe off.
    """
    a, tau = p.push_off_pitch_deg, p.push_off_tau
    nu = p.heel_rise_tau / tau
    # centre: the curve passes through to_pitch_deg at toe off
    e_c = ((p.to_pitch_deg / a) ** -nu - 1.0) / nu
    q = nu * e_c * np.exp(-np.asarray(x, dtype=float) / tau)  # nu * exp(-(x - c) / tau)
    u = 1.0 + q
    f = a * u ** (-1.0 / nu)
    f1 = a / (nu * tau) * q * u ** (-1.0 / nu - 1.0)
    f2 = -a / (nu * tau**2) * q * u ** (-1.0 / nu - 2.0) * (u - (1.0 / nu + 1.0) * q)
    return f, f1, f2


# The push-off curve is faded in over this much of the stride after heel-off.
_HEEL_OFF_BLEND = 0.1

# Minimum knee flexion (deg) each leg must have over its stride (a reach limit on the pelvis
# height): near straight, but flexing through pre-swing into early swing so the trailing knee
# bends toward toe off as in real walking (~40 deg at toe off, ~22 deg in the other leg's
# loading response; docs/methods/synthetic.md).
_KNEE_ALLOW = CubicSpline(
    [0.0, 0.2, 0.4, 0.5, 0.58, 0.64, 0.72, 0.8, 1.0],
    [3.0, 3.0, 3.0, 6.0, 20.0, 40.0, 10.0, 3.0, 3.0],
    bc_type="periodic",
)


class Walker:
    """One walk in world metres: events, feet, hip, knee, trunk and arms at any time.

    Built from a seed; all positions are exact functions of continuous time, so events and
    keypoints are consistent by construction. Use :meth:`world` for positions and
    :attr:`events` for the true heel strikes and toe offs.

    Parameters
    ----------
    rng
        Random generator for the stride-to-stride variability.
    params
        Body and gait parameters.
    t_start_s, t_end_s
        Time span that must be covered (strides are generated beyond it).
    x0_m
        Pelvis x at ``t = 0``.
    """

    def __init__(self, rng: np.random.Generator, params: WalkerParams, *, t_start_s: float,
                 t_end_s: float, x0_m: float = 0.0):
        p = self.params = params
        self.x0_m = float(x0_m)
        T = p.stride_time_s
        n = int(math.ceil((t_end_s - t_start_s) / (0.8 * T))) + 6
        durations = T * (1 + p.stride_time_cv * np.clip(rng.standard_normal(n), -3, 3))
        hs_left = t_start_s - 2.0 * T - rng.uniform(0, T) + np.concatenate([[0.0], np.cumsum(durations)])
        jitter = p.step_asymmetry_sd_s * np.clip(rng.standard_normal(n), -3, 3)
        hs_right = hs_left[:-1] + p.right_step_share * np.diff(hs_left) + jitter
        self._hs = {"left": hs_left, "right": hs_right}
        self._stride = {}
        for side in _SIDES:
            hs = self._hs[side]
            m = len(hs)
            toe_off = np.clip(p.duty + p.duty_sd * rng.standard_normal(m), 0.55, 0.68)
            heel_off = p.heel_off + p.heel_off_sd * np.clip(rng.standard_normal(m), -3, 3)
            self._stride[side] = {
                # the heel rises after the forefoot has landed
                "heel_off": np.clip(heel_off, p.foot_flat, toe_off - 2 * _HEEL_OFF_BLEND),
                "toe_off": toe_off,
                "hs_pitch": np.radians(p.hs_pitch_deg + 1.5 * rng.standard_normal(m)),
                # the push-off curve scaled per stride (toe-off pitch ~2 deg sd)
                "to_scale": 1.0 + 2.0 / abs(p.to_pitch_deg) * rng.standard_normal(m),
            }
        # Foot placements: heel contact ahead of the (still to come) pelvis position.
        for side in _SIDES:
            hs = self._hs[side]
            self._stride[side]["place"] = (
                self.pelvis_x(hs) + p.heel_ahead_m * p.speed_mps * p.stride_time_s
                + p.placement_sd_m * np.clip(rng.standard_normal(len(hs)), -3, 3)
            )
        for side in _SIDES:
            self._stride[side]["pitch_bump"] = np.zeros(len(self._hs[side]))
            self._stride[side]["pitch_bump"] = self._pitch_bumps(side)
        self.t_range = (float(t_start_s), float(t_end_s))

    # -- timing -------------------------------------------------------------------------
    def phase(self, t, side: str = "left"):
        """Continuous gait phase of ``side`` (stride number + fraction, 0 at heel strike)."""
        hs = self._hs[side]
        k = np.clip(np.searchsorted(hs, t, side="right") - 1, 0, len(hs) - 2)
        return k + (t - hs[k]) / (hs[k + 1] - hs[k])

    def pelvis_x(self, t):
        """Pelvis (hip) x: constant speed plus a small surge at step frequency."""
        t = np.asarray(t, dtype=float)
        p = self.params
        return self.x0_m + p.speed_mps * t + p.pelvis_surge_m * np.sin(4 * np.pi * (self.phase(t) - p.pelvis_surge_peak))

    @property
    def events(self) -> pd.DataFrame:
        """All true events in time order: side, event, time_s (also outside the recording)."""
        rows = []
        for side in _SIDES:
            hs = self._hs[side]
            st = self._stride[side]
            for k in range(len(hs) - 1):
                rows.append((side, "heel_strike", hs[k]))
                rows.append((side, "toe_off", hs[k] + st["toe_off"][k] * (hs[k + 1] - hs[k])))
        df = pd.DataFrame(rows, columns=["side", "event", "time_s"])
        return df.sort_values("time_s", kind="stable").reset_index(drop=True)

    def stride_table(self) -> pd.DataFrame:
        """Per stride: side, start_s, stride_time_s, stride_length_m, stance_fraction."""
        rows = []
        for side in _SIDES:
            hs, st = self._hs[side], self._stride[side]
            for k in range(len(hs) - 2):
                rows.append((side, hs[k], hs[k + 1] - hs[k], st["place"][k + 1] - st["place"][k],
                             st["toe_off"][k]))
        return pd.DataFrame(rows, columns=["side", "start_s", "stride_time_s", "stride_length_m",
                                           "stance_fraction"])

    # -- feet ---------------------------------------------------------------------------
    def _stance_toe(self, s, to, place, dur):
        """Toe marker position, velocity and acceleration (m, m/s, m/s^2; each ``(x, y)``) in
        late stance at stride phase ``s`` (toe off at ``to``, stride ``dur`` seconds).

        In the last ``toe_roll`` of stance the toe (metatarsal) marker rolls forward over
        the toes, ``x`` growing like ``w**3`` to leave at ``toe_off_speed``, and rises like
        ``w**2`` by ``toe_rise_m``, ``w`` going from 0 to 1 at toe off; before, it rests.
        """
        p = self.params
        roll = p.toe_roll
        w = np.clip((s - to + roll) / roll, 0.0, 1.0)
        v_to = p.toe_off_speed * p.speed_mps
        adv = v_to * dur * roll / 3.0
        rise = p.length("toe_rise_m")
        rd = roll * dur
        pos = (place + p.length("foot_m") + adv * w**3, p.marker_height_m + rise * w**2)
        vel = (v_to * w**2, 2.0 * rise * w / rd)
        acc = (2.0 * v_to * w / rd, np.where(w > 0, 2.0 * rise / rd**2, 0.0))
        return pos, vel, acc

    def _pitch_late(self, s, ho, to, scale):
        """Late-stance pitch (rad) and its derivatives per stride: the push-off curve, faded
        in from heel-off over 0.1 stride (smoothstep, so pitch and rate start at 0)."""
        f, f1, f2 = _push_off(s - to, self.params)
        w = np.clip((s - ho) / _HEEL_OFF_BLEND, 0.0, 1.0)
        b = w * w * (3 - 2 * w)
        b1 = 6 * w * (1 - w) / _HEEL_OFF_BLEND
        b2 = (6 - 12 * w) / _HEEL_OFF_BLEND**2 * (w < 1)
        k = np.radians(scale)
        return k * f * b, k * (f1 * b + f * b1), k * (f2 * b + 2 * f1 * b1 + f * b2)

    def foot(self, side: str, t):
        """Heel-marker position ``(n, 2)`` and foot pitch ``(n,)`` (rad, toes up positive).

        Stance, in stride fractions ``s`` from heel strike: the heel lands moving forward at
        ``heel_strike_speed`` (of the walking speed) and comes to rest ``heel_settle``
        later; the forefoot lowers about the heel (pitch ``hs_pitch * (1 - s /
        foot_flat)**2``); from ``heel_off`` the heel rises along the push-off curve
        (:func:`_push_off`) with the foot turning about the toe marker, which in the last
        ``toe_roll`` rolls forward and up over the toes until toe off. Swing: quintic
        Hermite curves for the heel and the pitch from the toe-off state (position,
        velocity, acceleration) to the next heel strike's.
        """
        t = np.asarray(t, dtype=float)
        p = self.params
        hs, st = self._hs[side], self._stride[side]
        lf = p.length("foot_m")
        yg = p.marker_height_m
        k = np.clip(np.searchsorted(hs, t, side="right") - 1, 0, len(hs) - 2)
        dur = hs[k + 1] - hs[k]
        s = (t - hs[k]) / dur
        ff, settle = p.foot_flat, p.heel_settle
        ho, to = st["heel_off"][k], st["toe_off"][k]
        place = st["place"][k]
        v_hs = p.heel_strike_speed * p.speed_mps
        heel = np.empty(t.shape + (2,))
        theta = np.empty(t.shape)
        # loading and foot flat: the heel settles, the forefoot lowers about it
        a = s < ho
        u = np.clip(s / ff, 0, 1)
        theta[a] = (st["hs_pitch"][k] * (1 - u) ** 2)[a]
        slide = v_hs * dur * settle / 3.0  # heel marker's travel after heel strike
        heel[a, 0] = (place - slide * (1 - np.clip(s / settle, 0, 1)) ** 3)[a]
        heel[a, 1] = yg
        # heel rise: the foot turns about the toe marker, which rolls over the toes in the end
        b = (s >= ho) & (s < to)
        th_b = self._pitch_late(s[b], ho[b], to[b], st["to_scale"][k[b]])[0]
        theta[b] = th_b
        (toe_x, toe_y), _, _ = self._stance_toe(s[b], to[b], place[b], dur[b])
        heel[b, 0] = toe_x - lf * np.cos(th_b)
        heel[b, 1] = toe_y - lf * np.sin(th_b)
        # swing: quintic Hermite from the toe-off state to the next heel strike
        c = ~(a | b)
        if np.any(c):
            kc = k[c]
            t_to = hs[kc] + to[c] * dur[c]
            ss = (t[c] - t_to) / (hs[kc + 1] - t_to)
            (heel[c, 0], heel[c, 1]), theta[c] = self._swing(side, kc, ss, st["pitch_bump"][kc])
        return heel, theta

    def _swing(self, side: str, k, ss, pitch_bump):
        """Heel ``(x, y)`` and pitch in the swing of strides ``k`` at swing fractions ``ss``
        (broadcast together), with the pitch bump ``pitch_bump`` (rad)."""
        p = self.params
        hs, st = self._hs[side], self._stride[side]
        lf = p.length("foot_m")
        dur = hs[k + 1] - hs[k]
        to = st["toe_off"][k]
        sw = (1.0 - to) * dur
        th0, w0, al0 = self._pitch_late(to, st["heel_off"][k], to, st["to_scale"][k])
        w0, al0 = w0 / dur, al0 / dur**2
        (tx, ty), (tvx, tvy), (tax, tay) = self._stance_toe(to, to, st["place"][k], dur)
        cs, sn = np.cos(th0), np.sin(th0)
        h0 = (tx - lf * cs, ty - lf * sn)
        v0 = (tvx + lf * w0 * sn, tvy - lf * w0 * cs)
        a0 = (tax + lf * (al0 * sn + w0**2 * cs), tay + lf * (-al0 * cs + w0**2 * sn))
        th1 = st["hs_pitch"][k + 1]
        dur1 = hs[np.minimum(k + 2, len(hs) - 1)] - hs[k + 1]
        dur1 = np.where(dur1 > 0, dur1, dur)
        w1, al1 = -2 * th1 / (p.foot_flat * dur1), 2 * th1 / (p.foot_flat * dur1) ** 2
        theta = _hermite5(ss, th0, w0, al0, th1, w1, al1, sw) + pitch_bump * _bump(ss, p.swing_pitch_peak)
        v_hs = p.heel_strike_speed * p.speed_mps
        land_x = st["place"][k + 1] - v_hs * dur1 * p.heel_settle / 3.0
        decel = p.heel_strike_decel * p.speed_mps / dur1
        x = _hermite5(ss, h0[0], v0[0], a0[0], land_x, v_hs, -decel, sw) - p.length(
            "swing_heel_lag_m") * _bump(ss, p.swing_heel_lag_peak)
        y = _hermite5(ss, h0[1], v0[1], a0[1], p.marker_height_m, 0.0, 0.0, sw) + p.length(
            "swing_heel_lift_m") * _bump(ss, p.swing_heel_lift_peak)
        return (x, y), theta

    def _pitch_bumps(self, side: str) -> np.ndarray:
        """Per stride, the swing pitch bump (rad): ``swing_pitch_deg``, made smaller (toes
        higher) where the toe marker would otherwise pass within ``min_toe_clearance_m`` of
        the floor."""
        p = self.params
        n = len(self._hs[side])
        k = np.arange(n - 1)[:, None]
        ss = np.linspace(0.01, 0.99, 99)[None, :]
        (_, heel_y), theta = self._swing(side, k, ss, 0.0)
        bump = _bump(ss, p.swing_pitch_peak)
        # the pitch that keeps the toe min_toe_clearance_m above its flat height
        need = np.arcsin(np.clip((p.marker_height_m + p.length("min_toe_clearance_m") - heel_y)
                                 / p.length("foot_m"), -1, 1))
        floor = np.where(bump > 0.02, (need - theta) / np.maximum(bump, 0.02), -np.inf).max(axis=1)
        out = np.full(n, math.radians(p.swing_pitch_deg))
        out[:-1] = np.maximum(out[:-1], floor)
        return out

    def foot_points(self, side: str, t) -> dict[str, np.ndarray]:
        """Heel, ankle and toe ``(n, 2)`` of one foot."""
        p = self.params
        heel, theta = self.foot(side, t)
        ankle_v = np.array(p.ankle_in_foot_m) * p.scale
        return {
            "heel": heel,
            "ankle": heel + _rot(theta, ankle_v),
            "toe": heel + _rot(theta, np.array([p.length("foot_m"), 0.0])),
        }

    # -- whole body ---------------------------------------------------------------------
    def world(self, t) -> dict[str, np.ndarray]:
        """World positions ``(n, 2)`` in metres at times ``t`` (s).

        Keys: ``neck``, ``head``, ``hip`` (both hips share the sagittal position) and, for
        each side ``left``/``right``: ``<side>_knee``, ``_ankle``, ``_heel``, ``_toe``,
        ``_shoulder``, ``_elbow``, ``_wrist``, ``_hand``.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        p = self.params
        l1, l2 = p.length("thigh_m"), p.length("shank_m")
        hip_x = self.pelvis_x(t)
        feet = {side: self.foot_points(side, t) for side in _SIDES}
        # hip height: soft minimum over the legs of the height giving the knee allowance
        g = []
        for side in _SIDES:
            ph = self.phase(t, side) % 1.0
            kappa = np.radians(np.maximum(_KNEE_ALLOW(ph), 2.0))
            d = np.sqrt(l1**2 + l2**2 + 2 * l1 * l2 * np.cos(kappa))
            dx = hip_x - feet[side]["ankle"][:, 0]
            g.append(feet[side]["ankle"][:, 1] + np.sqrt(np.maximum(d**2 - dx**2, 1e-6)))
        # nominal pelvis height: highest in mid-stance, lowest early in double support


        ankle_flat = p.marker_height_m + p.ankle_in_foot_m[1] * p.scale
        h_top = ankle_flat + np.sqrt(l1**2 + l2**2 + 2 * l1 * l2 * np.cos(np.radians(_MIDSTANCE_KNEE)))
        ph = self.phase(t, "left")
        g.append(h_top - p.length("hip_drop_m") * 0.5 * (1 + np.cos(4 * np.pi * (ph - _HIP_LOW_PHASE))))
        soft = _HIP_SOFT_M
        g = np.stack(g)
        gmin = g.min(axis=0)
        hip_y = gmin - soft * np.log(np.exp(-(g - gmin) / soft).sum(axis=0))
        hip = np.stack([hip_x, hip_y], axis=-1)
        out = {"hip": hip}
        for side in _SIDES:
            ankle = feet[side]["ankle"]
            v = ankle - hip
            d = np.linalg.norm(v, axis=1)
            d = np.clip(d, abs(l1 - l2) + 1e-6, l1 + l2 - 1e-9)
            alpha = np.arccos(np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1, 1))
            u = v / np.linalg.norm(v, axis=1, keepdims=True)
            # rotate u counter-clockwise by alpha: the knee goes forward (+x)
            ca, sa = np.cos(alpha), np.sin(alpha)
            thigh = np.stack([ca * u[:, 0] - sa * u[:, 1], sa * u[:, 0] + ca * u[:, 1]], axis=-1)
            out[f"{side}_knee"] = hip + l1 * thigh
            out[f"{side}_ankle"] = ankle
            out[f"{side}_heel"] = feet[side]["heel"]
            out[f"{side}_toe"] = feet[side]["toe"]
        ph = self.phase(t, "left")
        lean = np.radians(p.trunk_lean_deg + p.trunk_sway_deg * np.sin(4 * np.pi * (ph - p.trunk_sway_peak)))
        trunk_dir = np.stack([np.sin(lean), np.cos(lean)], axis=-1)
        neck = hip + p.length("trunk_m") * trunk_dir
        out["neck"] = neck
        out["head"] = neck + 0.13 * p.scale * trunk_dir + np.array([0.03 * p.scale, 0.0])
        shoulder = neck - 0.04 * p.scale * trunk_dir
        for side in _SIDES:
            # the arm swings opposite to the same-side leg: back at this side's heel strike
            phs = self.phase(t, side)
            beta = np.radians(p.arm_mean_deg - p.arm_swing_deg * np.cos(2 * np.pi * (phs - 0.05)))
            elbow_a = beta + np.radians(p.elbow_flex_deg * (1.0 + 0.3 * np.sin(2 * np.pi * (phs - 0.3))))
            elbow = shoulder + p.length("upper_arm_m") * np.stack([np.sin(beta), -np.cos(beta)], -1)
            fdir = np.stack([np.sin(elbow_a), -np.cos(elbow_a)], -1)
            wrist = elbow + p.length("forearm_m") * fdir
            out[f"{side}_shoulder"] = shoulder
            out[f"{side}_elbow"] = elbow
            out[f"{side}_wrist"] = wrist
            out[f"{side}_hand"] = wrist + 0.07 * p.scale * fdir
        return out


# ---------------------------------------------------------------------------------------
# Cameras
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Camera:
    """A pinhole camera looking at the walkway from one side.

    ``x_img = cx + direction * f * (X - x_center) / depth * zoom + dx``, ``y_img = cy - f * (Y -
    height) / depth * zoom + dy``, with ``depth = distance - lateral`` for points on the
    camera's side of the midline (``lateral > 0``); then, for a camera rolled about its
    optical axis by ``roll_deg``, the image turned by that angle about ``(cx, cy)``
    (counter-clockwise as seen on screen).
    """

    direction: int
    f_px: float
    cx: float
    cy: float
    distance_m: float = 4.0
    height_m: float = 1.0
    x_center_m: float = 0.0
    zoom: float = 1.0
    dx_px: float = 0.0
    dy_px: float = 0.0
    roll_deg: float = 0.0

    def project(self, xy_m: np.ndarray, lateral_m: float = 0.0) -> np.ndarray:
        """Image coordinates ``(..., 2)`` of world points ``(..., 2)`` at ``lateral_m`` toward the camera."""
        xy_m = np.asarray(xy_m, dtype=float)
        depth = self.distance_m - lateral_m
        k = self.f_px / depth * self.zoom
        x = self.cx + self.direction * k * (xy_m[..., 0] - self.x_center_m) + self.dx_px
        y = self.cy - k * (xy_m[..., 1] - self.height_m) + self.dy_px
        xy = np.stack([x, y], axis=-1)
        if self.roll_deg:  # counter-clockwise on screen: y points down, so -angle in rotate_xy
            xy = rotate_xy(xy, -self.roll_deg, (self.cx, self.cy))
        return xy

    def px_per_m(self, lateral_m: float = 0.0) -> float:
        """Image scale at a lateral position (pixels per metre)."""
        return self.f_px / (self.distance_m - lateral_m) * self.zoom


def _base_f_px(frame_size, distance_m, visible_width_m=5.0, visible_height_m=2.3):
    w, h = frame_size
    return min(w * distance_m / visible_width_m, h * distance_m / visible_height_m)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class SyntheticView:
    """One camera's view of a synthetic trial.

    Attributes
    ----------
    view
        ``"C1"`` or ``"C3"``.
    side
        The near (camera-facing) side: ``"left"`` for C1, ``"right"`` for C3.
    direction
        Walking direction in the image: -1 right-to-left (C1), +1 left-to-right (C3).
    pose
        DLC-like predictions, image coordinates, body parts :data:`~.io.ROLES`.
    true_pose
        True near-side keypoints in this camera (image coordinates, likelihood 1; points
        outside the frame keep their true, outside coordinates).
    true_far_pose
        True far-side keypoints (far hip, knee, ankle, heel, toe; the neck is shared).
    wrong_limb
        Injected wrong-limb points: ``frame, bodypart, separation_px`` (near–far distance).
    events
        True events of the near side inside the recording: ``side, event, frame`` (float,
        ``time_s * fps``), ``time_s`` and ``in_view`` (heel/toe inside the frame then).
    dropouts
        Low-likelihood points: ``frame, bodypart, reason`` (``occluded``, ``outside``,
        ``dropout``).
    bias_xy_px
        Systematic offset added to this view's predictions (image pixels, not the neck).
    camera
        The :class:`Camera` (including this trial's drift).
    figure
        Image-coordinate geometry for rendering: name -> ``(n_frames, 2)`` arrays plus
        ``"radius_px"`` (dict of limb radii), ``"floor_y_px"`` (the floor line's image y at the
        image centre) and ``"floor_slope"`` (its dy/dx; 0 unless the camera is rolled).
    """

    view: str
    side: str
    direction: int
    pose: Pose
    true_pose: Pose
    true_far_pose: Pose
    wrong_limb: pd.DataFrame
    events: pd.DataFrame
    dropouts: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    bias_xy_px: tuple[float, float] = (0.0, 0.0)
    camera: Camera | None = None
    figure: dict = dataclasses.field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return self.pose.n_frames


@dataclasses.dataclass(eq=False)
class SyntheticTrial:
    """A synthetic trial pair: both views, the true events and the walker.

    ``events`` holds both sides' true events inside the recording (``side, event, frame,
    time_s``); :meth:`world` gives exact world positions at any time.
    """

    trial: str
    seed: int | None
    fps: float
    frame_size: tuple[int, int]
    views: dict[str, SyntheticView]
    events: pd.DataFrame
    params: WalkerParams
    walker: Walker
    strides: pd.DataFrame

    @property
    def n_frames(self) -> int:
        return next(iter(self.views.values())).n_frames

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def world(self, times_s) -> dict[str, np.ndarray]:
        """Exact world positions (metres) at ``times_s`` (see :meth:`Walker.world`)."""
        return self.walker.world(times_s)

    def parameters(self) -> pd.DataFrame:
        """True spatio-temporal parameters per side, over strides starting in the recording."""
        s = self.strides
        s = s[(s.start_s >= 0) & (s.start_s + s.stride_time_s <= self.duration_s)]
        if s.empty:
            s = self.strides
        rows = []
        for side, g in s.groupby("side", sort=True):
            st = g.stride_time_s.mean()
            rows.append({
                "side": side,
                "n_strides": len(g),
                "stride_time_s": st,
                "stride_length_m": g.stride_length_m.mean(),
                "stance_pct": 100 * g.stance_fraction.mean(),
                "cadence_steps_per_min": 120.0 / st,
                "speed_mps": self.params.speed_mps,
            })
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Prediction model
# ---------------------------------------------------------------------------------------
def _runs_mask(rng, eligible: np.ndarray, p_start: float, lengths=(1, 2, 3), probs=(0.5, 0.3, 0.2)):
    """Boolean mask of runs (1-3 frames) starting at eligible frames with prob ``p_start``."""
    n = eligible.size
    mask = np.zeros(n, bool)
    p_start = float(np.clip(p_start, 0.0, 1.0))
    starts = np.flatnonzero(eligible & (rng.random(n) < p_start))
    run_len = rng.choice(lengths, size=starts.size, p=probs)
    for s0, L in zip(starts, run_len, strict=True):
        for f in range(s0, min(n, s0 + L)):
            if not eligible[f]:
                break
            mask[f] = True
    return mask


def _ar_noise(rng, n: int, sigma: float, rho: float = 0.6) -> np.ndarray:
    """AR(1) noise ``(n, 2)`` with stationary standard deviation ``sigma`` per axis."""
    w = rng.standard_normal((n, 2)) * sigma * math.sqrt(1 - rho**2)
    e = lfilter([1.0], [1.0, -rho], w, axis=0)
    e[0] = rng.standard_normal(2) * sigma
    return e


def _truncate(noise: np.ndarray, max_norm: float) -> np.ndarray:
    norm = np.linalg.norm(noise, axis=-1, keepdims=True)
    return noise * np.minimum(1.0, max_norm / np.maximum(norm, 1e-12))


def _inside(xy: np.ndarray, frame_size) -> np.ndarray:
    w, h = frame_size
    return (xy[..., 0] >= 0) & (xy[..., 0] <= w - 1) & (xy[..., 1] >= 0) & (xy[..., 1] <= h - 1)


def _seg_dist(p, a, b):
    """Distance of points ``p`` to segments ``a-b`` (all ``(n, 2)``)."""
    ab = b - a
    t = np.clip(((p - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    return np.linalg.norm(p - (a + t[:, None] * ab), axis=-1)


# Limb radii in metres (rendering and occlusion).
_RADIUS_M = {
    "trunk": 0.11, "thigh": 0.065, "shank": 0.05, "foot": 0.03, "upper_arm": 0.045,
    "forearm": 0.038, "head": 0.105,
}


def _make_view(rng, view, walker, world, times, fps, frame_size, camera, *, bias_xy_px,
               wrong_limb_rates, chain_swap_rate, min_sep_px, dropout_rate, occlusion,
               noise_scale):
    side, direction = VIEWS[view]
    far = "right" if side == "left" else "left"
    p = walker.params
    n = times.size
    hw = p.length("hip_half_width_m")
    sw = p.length("shoulder_half_width_m")

    def proj(key, lateral):
        return camera.project(world[key], lateral)

    true_near = np.stack([proj("neck", 0.0), proj("hip", hw)]
                         + [proj(f"{side}_{b}", hw) for b in LEG_CHAIN], axis=1)
    true_far = np.stack([proj("neck", 0.0), proj("hip", -hw)]
                        + [proj(f"{far}_{b}", -hw) for b in LEG_CHAIN], axis=1)
    nb = len(ROLES)
    inside = _inside(true_near, frame_size)
    inside_far = _inside(true_far, frame_size)

    # -- figure geometry (rendering, occlusion) --
    ground = camera.project(np.array([[camera.x_center_m - 1.0, 0.0], [camera.x_center_m + 1.0, 0.0]]), 0.0)
    slope = float((ground[1, 1] - ground[0, 1]) / (ground[1, 0] - ground[0, 0]))  # 0 unless rolled
    figure = {"floor_y_px": float(ground[0, 1] + slope * (camera.cx - ground[0, 0])),  # at the centre
              "floor_slope": slope}
    for s_, lat_s in ((side, 1.0), (far, -1.0)):
        tag = "near" if s_ == side else "far"
        for b in ("knee", "ankle", "heel", "toe"):
            figure[f"{tag}_{b}"] = proj(f"{s_}_{b}", lat_s * hw)
        figure[f"{tag}_hip"] = proj("hip", lat_s * hw)
        for b in ("shoulder", "elbow", "wrist", "hand"):
            figure[f"{tag}_{b}"] = proj(f"{s_}_{b}", lat_s * sw)
    figure["neck"] = proj("neck", 0.0)
    figure["head"] = proj("head", 0.0)
    figure["radius_px"] = {k: v * p.scale * camera.px_per_m(0.0) for k, v in _RADIUS_M.items()}
    figure["radius_px"]["near_scale"] = camera.px_per_m(hw) / camera.px_per_m(0.0)
    figure["radius_px"]["far_scale"] = camera.px_per_m(-hw) / camera.px_per_m(0.0)

    # -- dropouts --
    reason = np.full((n, nb), "", dtype=object)
    reason[~inside] = "outside"
    if occlusion:
        r_arm = figure["radius_px"]["forearm"] * figure["radius_px"]["near_scale"]
        hip_px = true_near[:, 1]
        d = np.minimum(_seg_dist(hip_px, figure["near_elbow"], figure["near_wrist"]),
                       _seg_dist(hip_px, figure["near_wrist"], figure["near_hand"]))
        occ = (d < r_arm) & inside[:, 1]
        reason[occ, 1] = "occluded"
    for j in range(nb):
        free = reason[:, j] == ""
        m = _runs_mask(rng, free, dropout_rate / 2.5, lengths=(1, 2, 3, 4), probs=(0.3, 0.3, 0.2, 0.2))
        reason[m, j] = "dropout"
    is_drop = reason != ""

    # -- wrong-limb swaps --
    sep = np.linalg.norm(true_near - true_far, axis=-1)
    eligible = (~is_drop) & inside_far & (sep >= min_sep_px)
    swapped = np.zeros((n, nb), bool)
    chain_idx = [ROLES.index(b) for b in LEG_CHAIN]
    n_in = np.maximum(inside.sum(axis=0), 1)
    mean_run = 1.7
    if chain_swap_rate > 0:
        chain_ok = eligible[:, chain_idx].any(axis=1)
        frac = max(chain_ok.sum() / n_in[chain_idx].mean(), 0.05)
        chain = _runs_mask(rng, chain_ok, chain_swap_rate / mean_run / frac)
        for j in chain_idx:
            swapped[:, j] |= chain & eligible[:, j]
    for b, rate in wrong_limb_rates.items():
        j = ROLES.index(b)
        own = max(rate - chain_swap_rate, 0.0) if b in LEG_CHAIN else rate
        frac = max(eligible[:, j].sum() / n_in[j], 0.05)
        swapped[:, j] |= _runs_mask(rng, eligible[:, j], own / mean_run / frac)

    # -- positions --
    xy = np.where(swapped[..., None], true_far, true_near).copy()
    for j, b in enumerate(ROLES):
        e = _truncate(_ar_noise(rng, n, NOISE_PX[b] * noise_scale), MAX_NOISE_PX)
        xy[:, j] += e
    drop_err = rng.normal(0.0, 8.0, (n, nb, 2))
    dj = reason == "dropout"
    oj = reason == "occluded"
    xy[dj] += drop_err[dj]
    xy[oj] += 1.5 * drop_err[oj]
    w, h = frame_size
    out = reason == "outside"
    xy[out, 0] = np.clip(xy[out, 0], 0, w - 1) + rng.uniform(-3, 3, out.sum())
    xy[out, 1] = np.clip(xy[out, 1], 0, h - 1) + rng.uniform(-3, 3, out.sum())
    xy[..., 0] = np.clip(xy[..., 0], 0, w - 1)
    xy[..., 1] = np.clip(xy[..., 1], 0, h - 1)
    bias = np.asarray(bias_xy_px, dtype=float)
    if np.any(bias):
        xy[:, 1:] += bias  # the neck is the reference both views share

    # -- likelihoods --
    lik = 1.0 - rng.beta(1.2, 40.0, (n, nb))
    unsure = rng.random((n, nb)) < 0.04
    lik[unsure] = 1.0 - rng.beta(2.0, 9.0, unsure.sum())
    lik[swapped] = 0.5 + 0.5 * rng.beta(5.0, 1.5, swapped.sum())  # fairly confident: ~0.88
    lik[dj] = rng.beta(2.0, 8.0, dj.sum()) * 0.5
    lik[oj] = rng.beta(2.0, 6.0, oj.sum()) * 0.5
    lik[out] = np.minimum(rng.beta(1.0, 30.0, out.sum()), 0.25)

    meta = {"synthetic": True, "view": view, "side": side}
    pose = Pose(np.concatenate([xy, lik[..., None]], axis=-1), ROLES, scorer=SCORER, fps=fps,
                frame_size=tuple(frame_size), meta=dict(meta))
    ones = np.ones((n, nb, 1))
    true_pose = Pose(np.concatenate([true_near, ones], -1), ROLES, scorer="gaitint_truth",
                     fps=fps, frame_size=tuple(frame_size), meta=dict(meta, truth="near"))
    true_far_pose = Pose(np.concatenate([true_far, ones], -1), ROLES, scorer="gaitint_truth",
                         fps=fps, frame_size=tuple(frame_size), meta=dict(meta, truth="far"))
    fr, jj = np.nonzero(swapped)
    wrong = pd.DataFrame({"frame": fr.astype(int), "bodypart": [ROLES[j] for j in jj],
                          "separation_px": sep[fr, jj]})
    wrong = wrong.sort_values(["frame", "bodypart"]).reset_index(drop=True)
    fr, jj = np.nonzero(is_drop)
    drops = pd.DataFrame({"frame": fr.astype(int), "bodypart": [ROLES[j] for j in jj],
                          "reason": reason[fr, jj].astype(str)})
    ev = walker.events
    ev = ev[(ev.side == side) & (ev.time_s >= 0) & (ev.time_s <= times[-1])].copy()
    if len(ev):
        wv = walker.world(ev.time_s.to_numpy())
        ok = np.ones(len(ev), bool)
        for b in ("heel", "toe"):
            ok &= _inside(camera.project(wv[f"{side}_{b}"], hw), frame_size)
    else:
        ok = np.zeros(0, bool)
    events = pd.DataFrame({
        "side": ev.side.to_numpy(), "event": ev.event.to_numpy(),
        "frame": ev.time_s.to_numpy() * fps, "time_s": ev.time_s.to_numpy(), "in_view": ok,
    })
    return SyntheticView(view=view, side=side, direction=direction, pose=pose, true_pose=true_pose,
                         true_far_pose=true_far_pose, wrong_limb=wrong, events=events,
                         dropouts=drops, bias_xy_px=tuple(float(b) for b in bias),
                         camera=camera, figure=figure)


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
def generate_trial(
    seed: int | np.random.Generator | None = 0,
    *,
    trial: str = "T01",
    fps: float = 25.0,
    frame_size: tuple[int, int] = (960, 540),
    bias_px: float | tuple[float, float] = 0.0,
    bias_view: str = "C3",
    drift: bool = True,
    duration_s: float | None = None,
    treadmill: bool = False,
    params: WalkerParams | None = None,
    wrong_limb_rates: Mapping[str, float] | None = None,
    chain_swap_rate: float = CHAIN_SWAP_RATE,
    min_swap_separation_px: float = 15.0,
    dropout_rate: float = 0.004,
    occlusion: bool = True,
    noise_scale: float = 1.0,
    roll_deg: float | Mapping[str, float] = 0.0,
) -> SyntheticTrial:
    """Generate one synthetic trial pair (views C1 and C3) with exact ground truth.

    Parameters
    ----------
    seed
        Seed (or numpy Generator): everything is reproducible from it.
    trial
        Trial name (e.g. ``"T01"``).
    fps
        Frame rate (Hz); frame ``f`` is at time ``f / fps``.
    frame_size
        ``(width_px, height_px)`` of both cameras.
    bias_px
        Systematic bias of ``bias_view``'s predictions (all body parts but the neck), in
        pixels along the walking direction (a number) or ``(forward_px, up_px)`` in gait
        directions. The truth is not biased.
    bias_view
        Which view is biased (``"C3"`` by default).
    drift
        Per-trial camera drift: offset (~3 px) and zoom (~1 %) per view.
    duration_s
        Recording length. By default the subject walks from outside one frame edge to
        outside the other (~4–5 s). With ``treadmill=True`` (a camera moving with the
        subject, for long recordings) it defaults to 10 s.
    treadmill
        Keep the subject centred (cameras travel with the mean walking speed).
    params
        Walker parameters; drawn from the seed by default (:func:`draw_walker_params`).
    wrong_limb_rates
        Per-body-part wrong-limb rates (fraction of in-view frames); default
        :data:`WRONG_LIMB_RATES`. ``{}`` disables swaps (set ``chain_swap_rate=0`` too).
    chain_swap_rate
        Part of the leg-chain rates due to the whole chain swapping together.
    min_swap_separation_px
        Swaps are injected only where near and far points are at least this far apart.
    dropout_rate
        Fraction of frames with random short low-likelihood dropouts per body part.
    occlusion
        Let the near forearm occlude the hip marker (low likelihood) when it passes over it.
    noise_scale
        Multiplies the prediction noise (:data:`NOISE_PX`).
    roll_deg
        Cameras rolled about their optical axis (degrees; one number for both, or per view
        ``{"C1": 2.0, "C3": -1.5}``): the floor is tilted in the image. No random number is
        drawn for it: the same seed gives the same walk.

    Returns
    -------
    SyntheticTrial

    Examples
    --------
    >>> trial = generate_trial(1, trial="T02")
    >>> trial.views["C3"].pose.bodyparts
    ('neck', 'hip', 'knee', 'ankle', 'heel', 'toe')
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    int_seed = seed if isinstance(seed, (int, np.integer)) else None
    if bias_view not in VIEWS:
        raise ValueError(f"bias_view must be one of {list(VIEWS)}, got {bias_view!r}")
    fps = float(fps)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    frame_size = (int(frame_size[0]), int(frame_size[1]))
    if min(frame_size) < 16:
        raise ValueError(f"frame_size too small: {frame_size}")
    params = params or draw_walker_params(rng)
    distance = 4.0
    f_px = _base_f_px(frame_size, distance)
    half_m = frame_size[0] / 2 / (f_px / distance)
    if treadmill:
        duration = float(duration_s) if duration_s is not None else 10.0
        x0 = -params.speed_mps * duration / 2
    else:
        m0, m1 = rng.uniform(0.15, 0.5, 2)
        x0 = -half_m - m0 * params.scale
        duration = (2 * half_m + (m0 + m1) * params.scale) / params.speed_mps
        if duration_s is not None:
            duration = float(duration_s)
    n_frames = max(int(round(duration * fps)), 2)
    times = np.arange(n_frames) / fps
    walker = Walker(rng, params, t_start_s=0.0, t_end_s=times[-1], x0_m=x0)
    world = walker.world(times)
    if treadmill:
        shift = x0 + params.speed_mps * times
        world = {k: v - np.stack([shift, np.zeros_like(shift)], -1) for k, v in world.items()}
    rates = dict(WRONG_LIMB_RATES if wrong_limb_rates is None else wrong_limb_rates)
    unknown = set(rates) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown body part(s) in wrong_limb_rates: {sorted(unknown)}")
    if np.ndim(bias_px) == 0:
        bias_gait = (float(bias_px), 0.0)
    else:
        bias_gait = (float(bias_px[0]), float(bias_px[1]))
    views = {}
    for view, (_side, direction) in VIEWS.items():
        if drift:
            zoom = 1.0 + 0.01 * float(np.clip(rng.standard_normal(), -3, 3))
            dx, dy = 3.0 * np.clip(rng.standard_normal(2), -3, 3)
        else:
            zoom, dx, dy = 1.0, 0.0, 0.0
        roll = float(roll_deg.get(view, 0.0) if isinstance(roll_deg, Mapping) else roll_deg)
        cam = Camera(direction=direction, f_px=f_px, cx=frame_size[0] / 2, cy=frame_size[1] / 2,
                     distance_m=distance, zoom=zoom, dx_px=float(dx), dy_px=float(dy), roll_deg=roll)
        bias = (0.0, 0.0)
        if view == bias_view:
            bias = (direction * bias_gait[0], -bias_gait[1])  # gait forward/up -> image
        views[view] = _make_view(
            rng, view, walker, world, times, fps, frame_size, cam, bias_xy_px=bias,
            wrong_limb_rates=rates, chain_swap_rate=chain_swap_rate if rates else 0.0,
            min_sep_px=min_swap_separation_px, dropout_rate=dropout_rate, occlusion=occlusion,
            noise_scale=noise_scale,
        )
        views[view].pose.meta["trial"] = trial
        views[view].true_pose.meta["trial"] = trial
    ev = walker.events
    ev = ev[(ev.time_s >= 0) & (ev.time_s <= times[-1])]
    events = pd.DataFrame({"side": ev.side.to_numpy(), "event": ev.event.to_numpy(),
                           "frame": ev.time_s.to_numpy() * fps, "time_s": ev.time_s.to_numpy()})
    return SyntheticTrial(trial=trial, seed=int(int_seed) if int_seed is not None else None,
                          fps=fps, frame_size=frame_size, views=views, events=events,
                          params=params, walker=walker, strides=walker.stride_table())


def trial_names(n_trials: int) -> list[str]:
    """``["T01", "T02", ...]``."""
    width = max(2, len(str(n_trials)))
    return [f"T{i + 1:0{width}d}" for i in range(n_trials)]


def generate_cohort(n_trials: int = 3, seed: int = 0, **kwargs) -> list[SyntheticTrial]:
    """Generate ``n_trials`` independent trial pairs, reproducibly from ``seed``.

    Each trial gets its own child seed (``numpy.random.SeedSequence(seed).spawn``), so
    trial ``T02`` is the same whatever ``n_trials`` is. ``kwargs`` go to
    :func:`generate_trial`.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    children = np.random.SeedSequence(seed).spawn(n_trials)
    return [generate_trial(np.random.default_rng(child), trial=name, **kwargs)
            for child, name in zip(children, trial_names(n_trials), strict=True)]


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------
def prediction_filename(trial: str, view: str) -> str:
    """DLC-like prediction file name, e.g. ``T01_C1DLC_resnet50_gaitintSyntheticshuffle1_100000.h5``."""
    return f"{trial}_{view}{SCORER}.h5"


def _outputs(out_dir: Path, names: Sequence[str], video: bool) -> list[Path]:
    paths = [out_dir / "trials.csv", out_dir / "truth" / "events.csv",
             out_dir / "truth" / "wrong_limb.csv", out_dir / "truth" / "dropouts.csv",
             out_dir / "truth" / "parameters.csv"]
    for t in names:
        for v in VIEWS:
            paths.append(out_dir / prediction_filename(t, v))
            paths.append(out_dir / "truth" / f"{t}_{v}_true.h5")
            paths.append(out_dir / "truth" / f"{t}_{v}_true_far.h5")
            if video:
                paths.append(out_dir / f"{t}_{v}.mp4")
    return paths


def write_trial_files(trial: SyntheticTrial, out_dir: str | Path, *, video: bool = True,
                      overwrite: bool = False) -> list[dict]:
    """Write one trial's predictions, true keypoints and (optionally) videos.

    Returns the manifest rows (paths relative to ``out_dir``).
    """
    out_dir = Path(out_dir)
    rows = []
    for v, sv in trial.views.items():
        pred = prediction_filename(trial.trial, v)
        # predictions as DeepLabCut writes them, with PyTables' index on the frame column
        write_dlc_table(pose_to_dlc_table(sv.pose), out_dir / pred, overwrite=overwrite,
                        pytables_index=True)
        write_dlc_table(pose_to_dlc_table(sv.true_pose), out_dir / "truth" / f"{trial.trial}_{v}_true.h5",
                        overwrite=overwrite)
        write_dlc_table(pose_to_dlc_table(sv.true_far_pose),
                        out_dir / "truth" / f"{trial.trial}_{v}_true_far.h5", overwrite=overwrite)
        vid = ""
        if video:
            from .render import render_video

            vid = f"{trial.trial}_{v}.mp4"
            render_video(sv, out_dir / vid, overwrite=overwrite)
        rows.append({"trial": trial.trial, "view": v, "side": sv.side, "predictions": pred,
                     "video": vid, "fps": trial.fps, "width": trial.frame_size[0],
                     "height": trial.frame_size[1]})
    return rows


def _write_trial_job(job) -> dict:
    """Generate and write one trial of a cohort; its manifest rows and truth tables (a
    module-level function taking one argument, so that process pools can run it)."""
    child, name, out_dir, fps, bias_px, video, overwrite, kwargs = job
    trial = generate_trial(np.random.default_rng(child), trial=name, fps=fps, bias_px=bias_px,
                           **kwargs)
    views = trial.views.items()
    return {
        "rows": write_trial_files(trial, out_dir, video=video, overwrite=overwrite),
        "events": [sv.events.assign(trial=name, view=v) for v, sv in views],
        "wrong": [sv.wrong_limb.assign(trial=name, view=v) for v, sv in views],
        "drops": [sv.dropouts.assign(trial=name, view=v) for v, sv in views],
        "params": trial.parameters().assign(trial=name),
    }


def write_synthetic_cohort(
    out_dir: str | Path,
    *,
    n_trials: int = 3,
    seed: int = 0,
    fps: float = 25.0,
    video: bool = True,
    bias_px: float = 0.0,
    overwrite: bool = False,
    progress: bool = False,
    n_jobs: int = 1,
    **kwargs,
) -> Path:
    """Write a synthetic cohort: predictions, videos, ``trials.csv`` and ``truth/``.

    Layout of ``out_dir``::

        trials.csv                    trial, view, side, predictions, video, fps, width, height
        T01_C1DLC_resnet50_gaitintSyntheticshuffle1_100000.h5   (DLC predictions, per view)
        T01_C1.mp4                    (rendered video, if ``video``)
        truth/events.csv              trial, view, side, event, frame, time_s, in_view
        truth/wrong_limb.csv          trial, view, frame, bodypart, separation_px
        truth/dropouts.csv            trial, view, frame, bodypart, reason
        truth/parameters.csv          trial, side, stride_time_s, stride_length_m, stance_pct, ...
        truth/T01_C1_true.h5          true near-side keypoints (DLC layout); *_true_far.h5 far side

    Paths in ``trials.csv`` are relative to its folder.

    Parameters
    ----------
    out_dir
        Output folder (created).
    n_trials, seed, fps, bias_px
        See :func:`generate_cohort` / :func:`generate_trial`.
    video
        Render an H.264 video per view (PyAV).
    overwrite
        Replace existing outputs; otherwise any existing output raises
        :class:`~.errors.OutputExistsError` before anything is written.
    progress
        Show a tqdm progress bar.
    n_jobs
        Processes writing trials at once (1: in this process; 0 or less: all cores). The
        predictions and the truth are the same whatever the number (each trial has its own
        random stream); the H.264 encoder may round a few pixels differently between runs.
    **kwargs
        More :func:`generate_trial` options.

    Returns
    -------
    Path
        The ``trials.csv`` manifest.
    """
    out_dir = Path(out_dir)
    if n_trials < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials}")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputFileError(out_dir, "exists and is not a folder; choose an output folder")
    names = trial_names(n_trials)
    if not overwrite:
        for path in _outputs(out_dir, names, video):
            if path.exists():
                raise OutputExistsError(path)
    from tqdm.auto import tqdm

    children = np.random.SeedSequence(seed).spawn(n_trials)
    jobs = [(child, name, out_dir, fps, bias_px, video, overwrite, kwargs)
            for child, name in zip(children, names, strict=True)]
    n_jobs = n_jobs if n_jobs > 0 else available_cpus()
    rows, events, wrong, drops, params = [], [], [], [], []
    with contextlib.ExitStack() as stack:
        if n_jobs > 1 and n_trials > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = stack.enter_context(ProcessPoolExecutor(max_workers=min(n_jobs, n_trials)))
            done = pool.map(_write_trial_job, jobs)
        else:
            done = map(_write_trial_job, jobs)
        for out in tqdm(done, total=n_trials, desc="synthetic trials", unit="trial", disable=not progress):
            rows += out["rows"]
            events += out["events"]
            wrong += out["wrong"]
            drops += out["drops"]
            params.append(out["params"])

    def cat(frames, cols):
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
        return df[cols]

    ev = cat(events, ["trial", "view", "side", "event", "frame", "time_s", "in_view"])
    wl = cat(wrong, ["trial", "view", "frame", "bodypart", "separation_px"])
    dr = cat(drops, ["trial", "view", "frame", "bodypart", "reason"])
    pr = pd.concat(params, ignore_index=True)
    pr = pr[["trial"] + [c for c in pr.columns if c != "trial"]]
    truth = out_dir / "truth"
    write_text_atomic(truth / "events.csv", ev.to_csv(index=False, float_format="%.6f"), overwrite=overwrite)
    write_text_atomic(truth / "wrong_limb.csv", wl.to_csv(index=False, float_format="%.3f"), overwrite=overwrite)
    write_csv(truth / "dropouts.csv", dr, overwrite=overwrite)
    write_text_atomic(truth / "parameters.csv", pr.to_csv(index=False, float_format="%.6f"), overwrite=overwrite)
    manifest = out_dir / "trials.csv"
    write_csv(manifest, pd.DataFrame(rows), overwrite=overwrite)
    return manifest


@dataclasses.dataclass(eq=False)
class SyntheticTruth:
    """Ground truth of a written synthetic cohort (see :func:`load_truth`)."""

    folder: Path
    manifest: pd.DataFrame
    events: pd.DataFrame
    wrong_limb: pd.DataFrame
    dropouts: pd.DataFrame
    parameters: pd.DataFrame

    def true_pose(self, trial: str, view: str, *, far: bool = False) -> Pose:
        """True keypoints (image coordinates) of one trial/view."""
        name = f"{trial}_{view}_true{'_far' if far else ''}.h5"
        row = self.manifest[(self.manifest.trial == trial) & (self.manifest.view == view)]
        fps = float(row.fps.iloc[0]) if len(row) else None
        pose = load_pose(self.folder / "truth" / name, fps=fps)
        if len(row):
            pose.frame_size = (int(row.width.iloc[0]), int(row.height.iloc[0]))
        return pose


def load_truth(manifest_dir: str | Path) -> SyntheticTruth:
    """Read the truth tables of a cohort written by :func:`write_synthetic_cohort`.

    ``manifest_dir`` is the cohort folder or its ``trials.csv``.
    """
    path = Path(manifest_dir)
    folder = path.parent if path.suffix.lower() == ".csv" else path
    manifest_path = folder / "trials.csv"
    if not manifest_path.is_file():
        raise InputFileError(manifest_path, "no trials.csv manifest here; write one with `gaitint synth`")
    truth = folder / "truth"
    tables = {}
    for name in ("events", "wrong_limb", "dropouts", "parameters"):
        p = truth / f"{name}.csv"
        if not p.is_file():
            raise InputFileError(p, "missing truth table; regenerate the cohort with `gaitint synth`")
        tables[name] = pd.read_csv(p, dtype={"trial": str, "view": str})
    from .manifest import read_manifest

    manifest = read_manifest(manifest_path)
    return SyntheticTruth(folder=folder, manifest=manifest, **tables)


__all__ = [
    "SCORER", "VIEWS", "WRONG_LIMB_RATES", "Camera", "SyntheticTrial", "SyntheticTruth",
    "SyntheticView", "Walker", "WalkerParams", "generate_cohort", "generate_trial", "load_truth",
    "prediction_filename", "write_synthetic_cohort", "write_trial_files",
]

