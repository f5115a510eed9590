"""Two cameras filming the walker, and DLC-like predictions with exact ground truth.

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

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from ..core.config import LEG_CHAIN, ROLES
from ..core.orient import rotate_xy
from ..core.pose import Pose
from .walker import Walker, WalkerParams, draw_walker_params

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
