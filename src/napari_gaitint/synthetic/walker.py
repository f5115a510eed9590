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

The cameras and the DLC-like predictions are in :mod:`.trial`, the files in :mod:`.files`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

EVENTS = ("heel_strike", "toe_off")
_SIDES = ("left", "right")


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


_MIDSTANCE_KNEE = 6.0
_HIP_LOW_PHASE = 0.04
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


_HEEL_OFF_BLEND = 0.1


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
